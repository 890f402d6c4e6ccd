"""One trial, from a configuration to a stored record: match, count, time, train, evaluate.

Both sweeps and searches run their trials through :func:`run_trial`, which returns the record
(see :mod:`spectrum.records` for its keys). It never raises for a run that diverged or ran out of
memory: those come back with their status set, so a study goes on.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from ..cost.counts import LatencySettings, count, count_params, measure_latency
from ..cost.matching import match_width, matched_config
from ..device import describe
from ..engine.train import DeviceData, EpochRecord, StepCallback, TrainConfig, train
from ..net.segments import segments_label
from ..net.xception import FLOWS, NetConfig, build_net


@dataclass(frozen=True)
class TrialSpec:
    """What one trial trains: a net (before matching), a budget, a seed and the match target."""

    net: NetConfig
    train: TrainConfig
    seed: int = 0
    match: str = "none"
    match_target: int | None = None
    latency: LatencySettings | None = LatencySettings()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("spectrum", "torch", "optuna", "fvcore", "numpy", "pandas"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def flow_label(net: NetConfig, attribute: str) -> str:
    """``4`` when all flows agree, else ``entry/middle/exit`` such as ``4/8/C``."""
    values = [getattr(net.flow(flow), attribute) for flow in FLOWS]
    if attribute == "segments":
        values = [segments_label(v) for v in values]
    return values[0] if len(set(values)) == 1 else "/".join(values)


def resolve_net(spec: TrialSpec) -> NetConfig:
    """The net actually built: ``spec.net`` with its width matched to the target if asked."""
    if spec.match == "none" or spec.match_target is None:
        return spec.net
    return matched_config(spec.net, match_width(spec.net, spec.match_target, spec.match))


def describe_trial(spec: TrialSpec, net: NetConfig) -> dict:
    """The coordinates of a trial, as stored on it before training starts."""
    return {
        "segments": flow_label(net, "segments"),
        "order": flow_label(net, "order"),
        "activation": flow_label(net, "activation"),
        "residual": net.residual,
        "seed": spec.seed,
        "match": spec.match,
        "width_multiplier": net.width_multiplier,
        "train": spec.train.as_dict(),
    }


def count_record(
    net: NetConfig,
    model: torch.nn.Module,
    device: torch.device,
    latency: LatencySettings | None,
    precision: str = "auto",
) -> dict:
    """Params, FLOPs, the net's summary and (if enabled) latency at the training ``precision``."""
    # Same number as fvcore's FlopCountAnalysis (tests check), without tracing the model.
    record = {"params": count_params(model), "flops": count(net, "flops"), "net": model.summary()}
    if latency is not None and latency.enabled:
        record.update(measure_latency(model, net, device, replace(latency, precision=precision)))
    return record


def run_trial(
    spec: TrialSpec,
    data: DeviceData,
    device: torch.device,
    *,
    dataset: str,
    on_step: StepCallback | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    net: NetConfig | None = None,
) -> dict:
    """Build, count, time and train one configuration; return its full record."""
    started = time.perf_counter()
    net = net or resolve_net(spec)
    torch.manual_seed(spec.seed)
    model = build_net(net)
    record = describe_trial(spec, net)
    record.update(count_record(net, model, device, spec.latency, spec.train.precision))
    result = train(
        model, data, spec.train, device, seed=spec.seed, on_step=on_step, on_epoch=on_epoch
    )
    record.update(
        {
            "status": result.status,
            "curve": [vars(point) for point in result.curve],
            "val_acc": result.val_acc,
            "test_acc": result.test_acc,
            "wall_time_s": time.perf_counter() - started,
            "device": describe(device),
            "precision": result.precision,
            "dataset": dataset,
            "versions": versions(),
        }
    )
    if result.error:
        record["error"] = result.error
    return record


def net_for_data(net: NetConfig, in_channels: int, num_classes: int, image_size: int) -> NetConfig:
    """Fit the net's input and classifier to a dataset."""
    return replace(net, in_channels=in_channels, num_classes=num_classes, image_size=image_size)

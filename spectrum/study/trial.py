"""One trial, from a configuration to its record: match, count, time, train, evaluate.

This module owns the ONE trial path. ``spectrum train``, every sweep point and every search trial
run through :func:`run_trial`, which returns a :class:`~spectrum.records.TrialRecord`. It never
raises for a run that diverged or ran out of memory, nor for one its hooks ended: those come back
with their status set, so a study goes on. The hooks are how a search fits in: ``before_training``
sees the counted record and may end the trial untrained (a constraint: ``infeasible``), and
``on_epoch`` may end it early (a pruner: ``pruned``), both by raising :class:`EndTrial`.

It also owns :class:`TrialEvents`, the callbacks through which sweeps and searches report
progress (the library never prints).
"""

from __future__ import annotations

import functools
import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from ..cost.counts import count_params
from ..cost.latency import LatencySettings, measure_latency
from ..cost.matching import match_width, matched_config
from ..cost.metrics import count
from ..data import Splits
from ..device import device_summary, resolve_precision
from ..engine.device_data import DeviceData
from ..engine.train import EpochRecord, StepCallback, TrainConfig, train
from ..net.segments import Segments, segments_label
from ..net.xception import FLOWS, NetConfig, build_net, choose_preset
from ..options import Status
from ..records import CODE_KEY, TrialRecord


@dataclass(frozen=True)
class TrialSpec:
    """What one trial trains: a net (before matching), a budget, a seed and the match target."""

    net: NetConfig
    train: TrainConfig
    seed: int = 0
    match: str = "none"
    match_target: int | None = None
    latency: LatencySettings | None = LatencySettings()


@dataclass
class TrialEvents:
    """Progress of a run of trials. ``label`` names the trial being started (a grid key, or a
    search point such as ``g=4/1/C w=0.5 r=1 res=on``)."""

    trial_started: Callable[[int, int, str], None] = lambda done, total, label: None
    step: Callable[[int, int, int], None] = lambda epoch, step, steps: None
    epoch: Callable[[EpochRecord], None] = lambda record: None
    trial_finished: Callable[[TrialRecord], None] = lambda record: None
    notice: Callable[[str], None] = lambda text: None  # one line for the user, not an error


class EndTrial(Exception):
    """Raised by a hook of :func:`run_trial` to end the trial with ``status`` and ``error``."""

    def __init__(self, status: Status, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def sources_digest(root: Path) -> str:
    """The first 12 hex digits of a SHA-256 over the Python files below ``root`` (their paths
    relative to it, and their contents)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def code_digest() -> str:
    """:func:`sources_digest` of the spectrum package as this process runs it, so trials record
    which code trained them: the package's version number is the same at every commit."""
    return sources_digest(Path(__file__).resolve().parents[1])


def versions() -> dict[str, str]:
    """Python's and the libraries' versions, and the code digest (:data:`CODE_KEY`)."""
    found = {"python": platform.python_version()}
    for package in ("spectrum", "torch", "optuna", "fvcore", "numpy", "pandas"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    found[CODE_KEY] = code_digest()
    return found


def flow_label(net: NetConfig, attribute: str) -> str:
    """``4`` when all flows agree, else ``entry/middle/exit`` such as ``4/8/C``."""
    values = [getattr(net.flow(flow), attribute) for flow in FLOWS]
    if attribute == "segments":
        values = [segments_label(v) for v in values]
    return values[0] if len(set(values)) == 1 else "/".join(values)


def fit_to_data(net: NetConfig, splits: Splits) -> NetConfig:
    """Fit the net's input and classifier to a dataset."""
    return replace(
        net,
        in_channels=splits.in_channels,
        num_classes=splits.num_classes,
        image_size=splits.image_size,
    )


def uniform_net(
    segments: Segments,
    order: str,
    activation: str,
    residual: bool,
    splits: Splits,
    *,
    preset: str = "auto",
    width_multiplier: float = 1.0,
    middle_repeats: int | None = None,
) -> NetConfig:
    """The net of one point of the spectrum (same g, order, activation in every flow)."""
    net = NetConfig.uniform(
        segments,
        order,
        activation,
        preset=choose_preset(preset, splits.image_size),
        residual=residual,
        width_multiplier=width_multiplier,
        middle_repeats=middle_repeats,
    )
    return fit_to_data(net, splits)


def resolve_net(spec: TrialSpec) -> NetConfig:
    """The net actually built: ``spec.net`` with its width matched to the target if asked."""
    if spec.match == "none" or spec.match_target is None:
        return spec.net
    return matched_config(spec.net, match_width(spec.net, spec.match_target, spec.match))


def trial_coordinates(spec: TrialSpec, net: NetConfig) -> TrialRecord:
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
) -> TrialRecord:
    """Params, FLOPs, their live parts (:mod:`spectrum.cost.live`), activations, the net's
    summary and (if enabled) latency at the training ``precision``."""
    # Same number as fvcore's FlopCountAnalysis (tests check), without tracing the model.
    record = {
        "params": count_params(model),
        "flops": count(net, "flops"),
        "live_params": count(net, "live-params"),
        "live_flops": count(net, "live-flops"),
        "activations": count(net, "activations"),
        "net": model.summary(),
    }
    if latency is not None and latency.enabled:
        record.update(measure_latency(model, net, device, replace(latency, precision=precision)))
    return record


def run_trial(
    spec: TrialSpec,
    data: DeviceData,
    device: torch.device,
    *,
    dataset: str,
    net: NetConfig | None = None,
    on_step: StepCallback | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    before_training: Callable[[TrialRecord], None] | None = None,
) -> TrialRecord:
    """Build, count, time and train one configuration; return its full record.

    ``net`` is the resolved net when the caller has it (else :func:`resolve_net`). A hook that
    raises :class:`EndTrial` ends the trial with that status: ``before_training`` (given the
    counted record) untrained, ``on_epoch`` after the epoch it was given (kept in the curve).
    """
    started = time.perf_counter()
    net = net or resolve_net(spec)
    torch.manual_seed(spec.seed)
    model = build_net(net)
    record = trial_coordinates(spec, net)
    record.update(count_record(net, model, device, spec.latency, spec.train.precision))
    environment = {
        "device": device_summary(device),
        "precision": resolve_precision(spec.train.precision, device),
        "dataset": dataset,
    }
    curve: list[EpochRecord] = []

    def ended(status: Status, error: str) -> TrialRecord:
        record.update(
            {
                "status": status,
                "curve": [vars(point) for point in curve],
                "val_acc": None,
                "test_acc": None,
                "wall_time_s": time.perf_counter() - started,
                "error": error,
                **environment,
                "versions": versions(),
            }
        )
        return record

    def epoch_done(point: EpochRecord) -> None:
        curve.append(point)
        if on_epoch is not None:
            on_epoch(point)

    try:
        if before_training is not None:
            before_training(record)
        result = train(
            model, data, spec.train, device, seed=spec.seed, on_step=on_step, on_epoch=epoch_done
        )
    except EndTrial as end:
        return ended(end.status, end.error)
    record.update(
        {
            "status": result.status,
            "curve": [vars(point) for point in result.curve],
            "val_acc": result.val_acc,
            "test_acc": result.test_acc,
            "wall_time_s": time.perf_counter() - started,
            **environment,
            "precision": result.precision,
            "versions": versions(),
        }
    )
    if result.error:
        record["error"] = result.error
    return record


def interrupted_attrs(error: BaseException) -> TrialRecord:
    """What a trial stops with when Ctrl-C or a bug (not a training failure) ends it."""
    return {
        "status": "interrupted" if isinstance(error, KeyboardInterrupt) else "failed",
        "error": f"{type(error).__name__}: {error}"[:500],
    }

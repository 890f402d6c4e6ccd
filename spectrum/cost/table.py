"""The complexity table across the spectrum: what ``spectrum count`` prints, one row per g
(:func:`measure` counts and times one net, :func:`count_table` makes the rows).

Columns: ``params`` (trainable), ``flops`` (fvcore multiply-adds for one image: 1 multiply-add =
1 FLOP; convolutions, linear layers, batch norm, adaptive pooling), ``live_params`` and
``live_flops`` (the parts of both that touch real input, not only padding: :mod:`spectrum.cost.
live`), ``activations`` (elements of every convolution's output for one image, RegNet's
measure), then the measured latencies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch

from ..net.segments import PER_CHANNEL, Segments, segments_label
from ..net.xception import NetConfig, build_net
from ..options import MATCH_CHOICES  # noqa: F401  (the vocabulary lives in spectrum.options)
from .counts import (
    FLOW_MODULES,
    count_activations,
    count_flops,
    count_params,
    flops_by_flow,
    params_by_flow,
)
from .latency import LatencySettings, measure_latency
from .live import live_counts
from .matching import match_width, matched_config
from .metrics import count


@dataclass
class Complexity:
    """Everything ``spectrum count`` reports about one network."""

    config: NetConfig
    params: int
    flops: int
    live_params: int | None = None
    live_flops: int | None = None
    activations: int | None = None
    latency_ms: float | None = None
    latency_ms_low: float | None = None
    latency_ms_high: float | None = None
    latency_load_avg: float | None = None
    train_step_ms: float | None = None
    latency_batch: int | None = None
    latency_precision: str | None = None
    device: str = "cpu"
    params_by_flow: dict[str, int] = field(default_factory=dict)
    flops_by_flow: dict[str, int] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def measure(
    config: NetConfig,
    device: torch.device | None = None,
    latency: LatencySettings | None = LatencySettings(),
    by_flow: bool = False,
) -> Complexity:
    """Count and (if ``latency`` is given) time one network."""
    device = device or torch.device("cpu")
    model = build_net(config, "cpu")
    live = live_counts(model, config)
    result = Complexity(
        config=config,
        params=count_params(model),
        flops=count_flops(model, config),
        live_params=live.live_params,
        live_flops=live.live_flops,
        activations=count_activations(model, config),
        device=str(device),
        summary=model.summary(),
    )
    if by_flow:
        result.params_by_flow = params_by_flow(model)
        result.flops_by_flow = flops_by_flow(model, config)
    if latency is not None:
        timing = measure_latency(model, config, device, latency)
        result.latency_ms = timing["latency_ms"]
        result.latency_ms_low = timing["latency_ms_low"]
        result.latency_ms_high = timing["latency_ms_high"]
        result.latency_load_avg = timing["latency_load_avg"]
        result.train_step_ms = timing["train_step_ms"]
        result.latency_batch = timing["latency_batch"]
        result.latency_precision = timing["latency_precision"]
    return result


def spectrum_configs(
    base: NetConfig,
    segments: Sequence[Segments],
    match: str = "none",
    reference: NetConfig | None = None,
) -> list[NetConfig]:
    """``base`` moved to each g (all flows), widths matched to the reference if asked.

    The default reference is the g = C member of the same net at the base's width.
    """
    configs = [base.with_flows(segments=g) for g in segments]
    if match == "none":
        return configs
    reference = reference or base.with_flows(segments=PER_CHANNEL)
    target = count(reference, match)
    return [matched_config(config, match_width(config, target, match)) for config in configs]


def count_table(
    configs: Sequence[NetConfig],
    device: torch.device | None = None,
    latency: LatencySettings | None = LatencySettings(),
    by_flow: bool = False,
    on_row: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Params, FLOPs and latency for each config; ``on_row(done, total)`` reports progress."""
    rows = []
    for index, config in enumerate(configs):
        result = measure(config, device, latency, by_flow=by_flow)
        row = {
            "g": segments_label(config.entry.segments),
            "order": config.entry.order,
            "activation": config.entry.activation,
            "width_multiplier": config.width_multiplier,
            "params": result.params,
            "flops": result.flops,
            "live_params": result.live_params,
            "live_flops": result.live_flops,
            "activations": result.activations,
            "latency_ms": result.latency_ms,
            "latency_ms_low": result.latency_ms_low,
            "latency_ms_high": result.latency_ms_high,
            "train_step_ms": result.train_step_ms,
            "latency_batch": result.latency_batch,
            "latency_precision": result.latency_precision,
            "load_avg": result.latency_load_avg,
            "device": result.device,
        }
        if by_flow:
            for flow in FLOW_MODULES:
                row[f"params_{flow}"] = result.params_by_flow[flow]
                row[f"flops_{flow}"] = result.flops_by_flow[flow]
        rows.append(row)
        if on_row:
            on_row(index + 1, len(configs))
    return pd.DataFrame(rows)

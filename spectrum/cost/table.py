"""The complexity table across the spectrum: one row per g (what ``spectrum count`` prints)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import torch

from ..net.segments import PER_CHANNEL, Segments, segments_label
from ..net.xception import NetConfig
from .counts import FLOW_MODULES, LatencySettings, count, measure
from .matching import match_width, matched_config

MATCH_CHOICES = ("none", "params", "flops")


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
            "latency_ms": result.latency_ms,
            "train_step_ms": result.train_step_ms,
            "latency_batch": result.latency_batch,
            "latency_precision": result.latency_precision,
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

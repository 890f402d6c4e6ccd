"""Latency versus FLOPs: where a g with fewer FLOPs than another is measured slower.

Part of the verdict (heavy grouping is not matrix-friendly, so FLOPs do not predict latency);
computed from summary.csv's table, per op order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import fmt
from ..labels import level_name, segment_key


@dataclass(frozen=True)
class LatencyNote:
    """A g with fewer FLOPs than another but a higher measured latency (same order)."""

    order: str
    fewer_flops: str
    more_flops: str
    flops_fewer: float
    flops_more: float
    latency_fewer: float
    latency_more: float
    sentence: str


def latency_notes(
    summary: pd.DataFrame, tolerance: float = 0.05, flops_margin: float = 0.01
) -> list[LatencyNote]:
    """Per order: each g that has fewer FLOPs than another g but is slower by > tolerance.

    Means over activation, residual and match first; for each g the most striking counterexample
    (largest latency ratio) is kept.
    """
    if summary.empty:
        return []
    frame = summary.dropna(subset=["flops_mean", "latency_ms_mean"])
    notes = []
    for order in sorted(frame["order"].unique(), key=lambda o: (o != "depthwise-first", o)):
        part = frame[frame["order"] == order]
        by_g = part.groupby("segments")[["flops_mean", "latency_ms_mean"]].mean()
        labels = sorted(by_g.index, key=segment_key)
        for a in labels:
            fa, la = by_g.loc[a]
            worst = None
            for b in labels:
                fb, lb = by_g.loc[b]
                if a == b or not fa < fb * (1.0 - flops_margin) or not la > lb * (1.0 + tolerance):
                    continue
                if worst is None or la / lb > worst[2] / worst[4]:
                    worst = (b, fa, la, fb, lb)
            if worst is None:
                continue
            b, fa, la, fb, lb = worst
            sentence = (
                f"{order}: {level_name('segments', a)} needs {fmt.count(fa)} FLOPs, "
                f"{1 - fa / fb:.0%} fewer than {level_name('segments', b)} "
                f"({fmt.count(fb)}), yet its measured latency is higher: "
                f"{fmt.ms(la)} vs {fmt.ms(lb)} per batch"
            )
            notes.append(
                LatencyNote(order, a, b, float(fa), float(fb), float(la), float(lb), sentence)
            )
    return notes


def latency_measured(summary: pd.DataFrame) -> bool:
    """Whether any configuration has both a measured latency and a FLOP count."""
    if summary.empty:
        return False
    latency = summary["latency_ms_mean"].to_numpy(dtype=float)
    flops = summary["flops_mean"].to_numpy(dtype=float)
    return bool((np.isfinite(latency) & np.isfinite(flops)).any())

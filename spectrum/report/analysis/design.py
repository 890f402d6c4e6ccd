"""What a sweep varied, as seen in its usable trials.

Owns the levels of each factor (segments, order, activation, residual, match) present in the
data, which factors varied, the series the sweep plots draw (order x activation, x residual and
x match when those varied), the channel range behind the ``C`` tick, and the batch size of the
speed measurements. Pure: built from the usable-trial frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...labels import channel_range, level_key, sorted_levels

ALL_FACTORS = ("segments", "order", "activation", "residual", "match")


@dataclass(frozen=True)
class Design:
    """What the sweep varied: levels per factor, the plotted series, the ``C`` channel range."""

    levels: dict  # factor -> list of levels in canonical order
    varied: tuple[str, ...]  # factors with more than one level, in the order of labels.FACTORS
    series_factors: tuple[str, ...]
    series: tuple[dict, ...]  # one dict {factor: level} per series, canonical order
    channels: tuple[int, int] | None
    latency_batch: int | None

    @property
    def segments(self) -> list[str]:
        return self.levels["segments"]


def series_key(row, factors) -> dict:
    return {f: row[f] for f in factors}


def design_of(usable: pd.DataFrame) -> Design:
    """The design of the sweep whose usable trials are ``usable``."""
    levels = {f: sorted_levels(f, usable[f]) for f in ALL_FACTORS}
    varied = tuple(f for f in ("activation", "residual", "order", "segments") if len(levels[f]) > 1)
    factors = ["order", "activation"]
    if len(levels["residual"]) > 1:
        factors.append("residual")
    if len(levels["match"]) > 1:
        factors.append("match")
    keys = {tuple(row[f] for f in factors) for _, row in usable.iterrows()}
    series = sorted(
        (dict(zip(factors, k)) for k in keys),
        key=lambda d: tuple(level_key(f, d[f]) for f in factors),
    )
    batches = usable["latency_batch"].to_numpy(dtype=float)
    batches = batches[np.isfinite(batches)]
    batch = int(np.median(batches)) if batches.size else None
    widths = [w for w in usable["widths"] if isinstance(w, dict)]
    return Design(
        levels=levels,
        varied=varied,
        series_factors=tuple(factors),
        series=tuple(series),
        channels=channel_range(widths),
        latency_batch=batch if batch is None or not math.isnan(batch) else None,
    )


def select(frame: pd.DataFrame, key: dict) -> pd.DataFrame:
    """Rows of ``frame`` whose columns equal every item of ``key``."""
    mask = np.ones(len(frame), dtype=bool)
    for factor, value in key.items():
        if value is None:
            mask &= frame[factor].isna().to_numpy(dtype=bool)
        else:
            mask &= (frame[factor] == value).to_numpy(dtype=bool)
    return frame[mask]

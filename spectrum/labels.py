"""The report's vocabulary: names, canonical orderings and the g axis.

Owns how the spectrum coordinates are spelled in tables and figures (the paper's words: segments
g, depthwise-first, pointwise-first, intermediate activation), the canonical sort order of every
factor, and where each g sits on the log2 g axis (``C`` one step right of the largest integer g).
Pure functions only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

ORDER_LEVELS = ("depthwise-first", "pointwise-first")
ACTIVATION_LEVELS = ("none", "relu", "elu")
MATCH_LEVELS = ("none", "params", "flops")
FACTORS = ("activation", "residual", "order", "segments")

ACTIVATION_NAMES = {
    "none": "no intermediate activation",
    "relu": "intermediate ReLU",
    "elu": "intermediate ELU",
}
FACTOR_NAMES = {
    "segments": "segments g",
    "order": "op order",
    "activation": "intermediate activation",
    "residual": "residual connections",
    "match": "budget matching",
}

# Widths named in a net summary that feed no spatial convolution of the spectrum.
NON_SPATIAL_WIDTHS = ("stem1",)


def segment_key(label) -> tuple:
    """Sort key for a segments label: integers ascending, then ``C``, then anything else."""
    text = str(label)
    if text.isdigit():
        return (0, int(text), "")
    if text.upper() == "C":
        return (1, 0, "")
    return (2, 0, text)


def level_key(factor: str, value) -> tuple:
    """Sort key for one level of a factor: the library's canonical order, then by text."""
    if factor == "segments":
        return segment_key(value)
    known = {"order": ORDER_LEVELS, "activation": ACTIVATION_LEVELS, "match": MATCH_LEVELS}.get(
        factor, ()
    )
    if factor == "residual":
        # The paper's baseline (residual on) first.
        return (0 if value is True else 1 if value is False else 2, 0, str(value))
    if value in known:
        return (0, known.index(value), "")
    return (1, 0, str(value))


def sorted_levels(factor: str, values: Iterable) -> list:
    """The distinct values of a factor in canonical order (missing values dropped)."""
    distinct = {v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))}
    return sorted(distinct, key=lambda v: level_key(factor, v))


def g_label(segments) -> str:
    """``g = 4``, ``g = C``."""
    return f"g = {segments}"


def level_name(factor: str, value) -> str:
    """How one level of a factor is written in legends and sentences."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{FACTOR_NAMES.get(factor, factor)} not recorded"
    if factor == "segments":
        return g_label(value)
    if factor == "activation":
        return ACTIVATION_NAMES.get(str(value), f"intermediate {value}")
    if factor == "residual":
        return "residual" if bool(value) else "no residual"
    if factor == "match":
        return "unmatched" if value == "none" else f"matched {value}"
    return str(value)


def series_name(key: Mapping, factors: Iterable[str]) -> str:
    """Comma-joined level names of ``factors`` taken from ``key`` (unrecorded ones left out)."""
    names = [level_name(f, key[f]) for f in factors if key.get(f) is not None]
    return ", ".join(names) or "all trials"


def integer_segments(labels: Iterable) -> list[int]:
    return sorted({int(str(s)) for s in labels if str(s).isdigit()})


def segment_positions(labels: Iterable) -> dict[str, float]:
    """x position of each g on a log2 axis; ``C`` sits one step right of the largest integer g.

    Labels that are neither an integer nor ``C`` (per-flow search labels) get no position.
    """
    labels = [str(s) for s in labels]
    ints = integer_segments(labels)
    top = math.log2(ints[-1]) if ints else -1.0
    positions = {}
    for label in labels:
        if label.isdigit():
            positions[label] = math.log2(int(label))
        elif label.upper() == "C":
            positions[label] = top + 1.0
    return positions


def channel_range(widths_list: Iterable[Mapping]) -> tuple[int, int] | None:
    """Smallest and largest channel count a spatial convolution sees, over net width dicts."""
    values = [
        int(w)
        for widths in widths_list
        if widths
        for name, w in widths.items()
        if name not in NON_SPATIAL_WIDTHS
    ]
    return (min(values), max(values)) if values else None


def segment_tick(label: str, channels: tuple[int, int] | None) -> str:
    """Tick label for g: the integer, or ``C`` with the channel range under it."""
    if label.upper() == "C" and channels:
        low, high = channels
        span = f"{low} ch" if low == high else f"{low}-{high} ch"
        return f"C\n({span})"
    return label

"""Figure ``latency_costs``: measured latency against FLOPs (left) and activations (right).

One point per configuration (median latency per batch, mean over seeds; vertical bars: its 95%
interval where the trials recorded one), labelled by g, one colour and marker per plotted series,
log scales. Each panel's title gives the rank correlation of :func:`.analysis.latency.
cost_correlations`, so a reader sees which count orders the latencies better. A panel whose cost
was never recorded says so instead of plotting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

from ...labels import series_name
from ...stats.latency import COSTS, LatencyCosts, RankCorrelation
from ..analysis.design import Design, select
from .style import (
    Plot,
    label_point,
    legend_below,
    log_axis,
    message,
    new_figure,
    save,
    series_styles,
    style,
)

NAME = "latency_costs"
TITLE = "Latency vs FLOPs and activations"
XLABELS = {
    "flops": "FLOPs (multiply-adds per image, log scale)",
    "activations": "activations (elements of every conv output per image, log scale)",
}


def _panel(ax, costs: LatencyCosts, corr: RankCorrelation, styles) -> bool:
    """Scatter latency against one cost; returns whether any interval bar was drawn."""
    name = COSTS[corr.cost][1]
    points = costs.points[np.isfinite(costs.points[corr.cost].to_numpy(dtype=float))]
    ax.set_title(f"Latency vs {name}\n{corr.short()}")
    if points.empty:
        message(ax, f"{name} not recorded in this study (its trials predate the count)")
        return False
    bars = False
    for key, st in styles.items():
        part = select(points, dict(key))
        if part.empty:
            continue
        x = part[corr.cost].to_numpy(dtype=float)
        y = part["latency_ms"].to_numpy(dtype=float)
        low = part["latency_ms_low"].to_numpy(dtype=float)
        high = part["latency_ms_high"].to_numpy(dtype=float)
        ok = np.isfinite(low) & np.isfinite(high)
        if ok.any():
            ax.vlines(x[ok], low[ok], high[ok], color=st["color"], linewidth=2, alpha=0.35)
            bars = True
        ax.scatter(x, y, color=st["color"], marker=st["marker"], s=36, zorder=3)
        for xi, yi, g in zip(x, y, part["segments"]):
            label_point(ax, f"g={g}", xi, yi)
    latency = points[["latency_ms", "latency_ms_low", "latency_ms_high"]].to_numpy(dtype=float)
    log_axis(ax, "x", points[corr.cost], 4.4)
    log_axis(ax, "y", latency.ravel(), 3.6)
    ax.set_xlabel(XLABELS[corr.cost])
    ax.margins(x=0.12, y=0.1)
    return bars


def draw(costs: LatencyCosts, design: Design, out_dir: Path) -> Plot:
    if not costs.measured:
        return Plot(
            NAME, TITLE, "", False, "Not drawn: no configuration has a measured latency recorded."
        )
    batch = f"batch of {design.latency_batch}" if design.latency_batch else "batch"
    caption = (
        f"Median inference latency per {batch} (mean over seeds) of each configuration against "
        "its FLOPs (left) and its activations (right), labelled by g; each title gives "
        "Spearman's rank correlation with its two-sided permutation p over the configurations."
    )
    styles = series_styles(list(design.series))
    with style():
        fig = new_figure(10.0, 4.8)
        left, right = fig.subplots(1, 2)
        bars = _panel(left, costs, costs.flops, styles)
        bars |= _panel(right, costs, costs.activations, styles)
        left.set_ylabel(f"inference latency (ms per {batch}, log scale)")
        handles = [
            Line2D(
                [],
                [],
                color=st["color"],
                marker=st["marker"],
                linestyle="none",
                label=series_name(dict(key), design.series_factors),
            )
            for key, st in styles.items()
        ]
        legend_below(fig, handles, 10.0)
        fig.suptitle("Which count predicts measured latency?")
        save(fig, out_dir, NAME)
    caption += (
        " Bars: the distribution-free 95% interval of each median."
        if bars
        else " No latency intervals: these trials were timed before intervals were recorded."
    )
    return Plot(NAME, TITLE, caption, True, costs.sentence())

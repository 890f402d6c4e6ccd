"""Figures ``pareto_params``, ``pareto_flops``, ``pareto_latency``: accuracy against cost.

One point per configuration (means over seeds): test accuracy against params, FLOPs or measured
latency on a log x axis. Non-dominated points (max accuracy, min cost) are highlighted, joined
as a front and labelled with their g.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ...labels import series_name
from ..analysis.design import Design, select
from ..analysis.pareto import front_order, non_dominated
from .style import (
    Plot,
    label_point,
    legend_below,
    log_axis,
    new_figure,
    save,
    series_styles,
    style,
)

COSTS = {
    "params": ("params_mean", "parameters", "parameters (count, log scale)"),
    "flops": ("flops_mean", "FLOPs", "FLOPs (multiply-adds per image, log scale)"),
    "latency": ("latency_ms_mean", "measured latency", "inference latency ({batch}, log scale)"),
}


def front_mask(summary: pd.DataFrame, cost_column: str) -> np.ndarray:
    """Non-dominated configurations of ``summary`` for (max test accuracy, min cost)."""
    values = summary[["test_acc_mean", cost_column]].to_numpy(dtype=float)
    return non_dominated(values, (True, False))


def draw(summary: pd.DataFrame, design: Design, cost: str, out_dir: Path) -> Plot:
    column, what, xlabel = COSTS[cost]
    name = f"pareto_{cost}"
    title = f"Accuracy vs {what}"
    batch = f"ms per batch of {design.latency_batch}" if design.latency_batch else "ms per batch"
    xlabel = xlabel.format(batch=batch)
    rows = summary[np.isfinite(summary[column].to_numpy(dtype=float))].reset_index(drop=True)
    missing = len(summary) - len(rows)
    if rows.empty:
        return Plot(name, title, "", False, f"Not drawn: no configuration has {what} recorded.")
    caption = (
        f"Mean test accuracy against {what} per configuration; the highlighted, "
        f"connected points are non-dominated (no other configuration is both more "
        f"accurate and cheaper) and labelled with their g."
    )
    note = (
        f"{missing} configuration{'s' if missing != 1 else ''} without {what} recorded left out."
        if missing
        else ""
    )
    mask = front_mask(rows, column)
    with style():
        fig = new_figure(7.0, 4.8)
        ax = fig.add_subplot()
        styles = series_styles(list(design.series))
        handles = []
        for key, st in styles.items():
            key = dict(key)
            part = select(rows, key)
            if part.empty:
                continue
            on = mask[part.index.to_numpy()]
            x = part[column].to_numpy(dtype=float)
            y = part["test_acc_mean"].to_numpy(dtype=float) * 100
            if cost == "latency" and {"latency_ms_low_mean", "latency_ms_high_mean"} <= set(part):
                # The 95% interval of each median latency, where the trials recorded one.
                low = part["latency_ms_low_mean"].to_numpy(dtype=float)
                high = part["latency_ms_high_mean"].to_numpy(dtype=float)
                ok = np.isfinite(low) & np.isfinite(high)
                ax.hlines(y[ok], low[ok], high[ok], color=st["color"], linewidth=2, alpha=0.35)
            ax.scatter(
                x[~on],
                y[~on],
                color=st["color"],
                marker=st["marker"],
                s=28,
                alpha=0.45,
                linewidths=0,
                zorder=2,
            )
            ax.scatter(
                x[on],
                y[on],
                color=st["color"],
                marker=st["marker"],
                s=60,
                edgecolors="black",
                linewidths=1.0,
                zorder=4,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    marker=st["marker"],
                    linestyle="none",
                    label=series_name(key, design.series_factors),
                )
            )
        order = front_order(
            rows[["test_acc_mean", column]].to_numpy(dtype=float), (True, False), mask
        )
        fx = rows.loc[order, column].to_numpy(dtype=float)
        fy = rows.loc[order, "test_acc_mean"].to_numpy(dtype=float) * 100
        ax.step(fx, fy, where="post", color="black", linewidth=1.0, alpha=0.7, zorder=3)
        # Above-right of a front point is clear of the staircase (it leaves rightwards and
        # arrives from below).
        for i, (x, y) in enumerate(zip(fx, fy)):
            label_point(ax, f"g={rows.loc[order[i], 'segments']}", x, y, dy=5, zorder=5)
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                marker="o",
                markerfacecolor="white",
                markeredgecolor="black",
                label="Pareto front (non-dominated)",
            )
        )
        log_axis(ax, "x", rows[column], 6.2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test accuracy (%, mean over seeds)")
        ax.set_title(f"Test accuracy vs {what}: Pareto front over segments g")
        ax.margins(x=0.08, y=0.1)
        legend_below(fig, handles, 7.0)
        save(fig, out_dir, name)
    return Plot(name, title, caption, True, note)

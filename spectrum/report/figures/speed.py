"""Figure ``speed``: measured inference latency and training throughput per g.

Left: median inference latency (ms per batch). Right: training throughput in images/s, both as
derived from the timed training step (latency_batch / train_step_ms * 1000, solid) and as
measured over whole epochs (mean per-epoch images_per_s, dashed). One line per op order, means
over the other factors and seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..analysis.design import Design
from .style import (
    Plot,
    color,
    legend_below,
    marker,
    message,
    new_figure,
    save,
    setup_g_axis,
    style,
)

NAME = "speed"
TITLE = "Speed per g"
COLUMNS = ("latency_ms_mean", "train_images_per_s_mean", "epoch_images_per_s_mean")
INTERVAL = ("latency_ms_low_mean", "latency_ms_high_mean")


def speed_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean latency (with its interval where recorded) and throughputs per (order, segments)."""
    columns = list(COLUMNS) + [c for c in INTERVAL if c in summary.columns]
    return summary.groupby(["order", "segments"], sort=False)[columns].mean().reset_index()


def _interval_bars(ax, table, positions, order, c, dx) -> bool:
    """Vertical bars: the 95% interval of each median latency, where the trials recorded one."""
    if not all(col in table.columns for col in INTERVAL):
        return False
    rows = table[(table["order"] == order) & table["segments"].isin(list(positions))]
    low, high = (rows[col].to_numpy(dtype=float) for col in INTERVAL)
    ok = np.isfinite(low) & np.isfinite(high)
    if not ok.any():
        return False
    x = rows["segments"].map(positions).to_numpy(dtype=float)[ok] + dx
    ax.vlines(x, low[ok], high[ok], color=c, linewidth=3, alpha=0.35)
    return True


def _line(ax, table, positions, column, order, c, linestyle="-", dx=0.0) -> bool:
    rows = table[(table["order"] == order) & table["segments"].isin(list(positions))]
    rows = rows.assign(_x=rows["segments"].map(positions)).sort_values("_x")
    y = rows[column].to_numpy(dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return False
    ax.plot(
        rows["_x"].to_numpy(dtype=float)[ok] + dx,
        y[ok],
        color=c,
        marker=marker(order),
        linestyle=linestyle,
        linewidth=1.5,
        markersize=5,
    )
    return True


def draw(summary: pd.DataFrame, design: Design, out_dir: Path) -> Plot:
    table = speed_table(summary)
    present = {c: bool(np.isfinite(table[c].to_numpy(dtype=float)).any()) for c in COLUMNS}
    if not any(present.values()):
        return Plot(
            NAME,
            TITLE,
            "",
            False,
            "Not drawn: no trial recorded a latency, a training step time or a "
            "per-epoch throughput.",
        )
    missing = [
        name
        for name, c in (
            ("inference latency", COLUMNS[0]),
            ("training step time", COLUMNS[1]),
            ("per-epoch throughput", COLUMNS[2]),
        )
        if not present[c]
    ]
    note = ("Not measured in this study: " + ", ".join(missing) + ".") if missing else ""
    batch = f"batch of {design.latency_batch}" if design.latency_batch else "batch"
    caption = (
        f"Median inference latency per {batch} (left) and training throughput (right) "
        "per segments g, one line per op order."
    )
    orders = design.levels["order"]
    with style():
        fig = new_figure(10.0, 4.6)
        left, right = fig.subplots(1, 2)
        positions = setup_g_axis(left, design.segments, design.channels)
        setup_g_axis(right, design.segments, design.channels)
        handles = []
        intervals = False
        for index, order in enumerate(orders):
            c = color(index)
            dx = (index - (len(orders) - 1) / 2) * 0.06  # keep coinciding orders visible
            _line(left, table, positions, COLUMNS[0], order, c, "-", dx)
            intervals |= _interval_bars(left, table, positions, order, c, dx)
            _line(right, table, positions, COLUMNS[1], order, c, "-", dx)
            _line(right, table, positions, COLUMNS[2], order, c, "--", dx)
            handles.append(Line2D([], [], color=c, marker=marker(order), label=order))
        if not present[COLUMNS[0]]:
            message(left, "inference latency not measured")
        if not (present[COLUMNS[1]] or present[COLUMNS[2]]):
            message(right, "training throughput not measured")
        left.set_ylabel(f"inference latency (ms per {batch})")
        left.set_title("Inference latency (lower is faster)")
        right.set_ylabel("training throughput (images/s)")
        right.set_title("Training throughput (higher is faster)")
        kinds = [
            Line2D(
                [],
                [],
                color="grey",
                linestyle="-",
                label="from timed train step (batch / step time)",
            ),
            Line2D([], [], color="grey", linestyle="--", label="measured per epoch"),
        ]
        legend_below(fig, handles + kinds, 10.0)
        fig.suptitle("Speed across the spectrum")
        save(fig, out_dir, NAME)
    if present[COLUMNS[0]]:
        caption += (
            " Bars: the distribution-free 95% interval of each median (order statistics of the"
            " timed repeats)."
            if intervals
            else " No latency intervals: these trials were timed before intervals were recorded."
        )
    return Plot(NAME, TITLE, caption, True, note)

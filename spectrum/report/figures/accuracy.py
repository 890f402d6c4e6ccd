"""Figure ``accuracy_vs_segments``: test accuracy across the spectrum, one line per series.

g on a log2 axis (``C`` one step right of the largest integer g, with its channel range), mean
test accuracy over seeds with 95% Student-t CI error bars, individual seeds as faint points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ...labels import series_name
from ..analysis.design import Design, select
from .style import Plot, legend_below, new_figure, save, series_styles, setup_g_axis, style

NAME = "accuracy_vs_segments"
TITLE = "Test accuracy across the spectrum"


def _offsets(n: int) -> list[float]:
    step = min(0.08, 0.4 / max(n, 1))
    return [(i - (n - 1) / 2) * step for i in range(n)]


def draw(usable: pd.DataFrame, summary: pd.DataFrame, design: Design, out_dir: Path) -> Plot:
    caption = (
        "Mean test accuracy per segments g over seeds (error bars: 95% "
        "Student-t CI; faint points: individual seeds), one line per "
        + " x ".join(design.series_factors)
        + "."
    )
    with style():
        fig = new_figure(7.0, 4.6)
        ax = fig.add_subplot()
        positions = setup_g_axis(ax, design.segments, design.channels)
        styles = series_styles(list(design.series))
        handles = []
        for (key, st), dx in zip(styles.items(), _offsets(len(styles))):
            key = dict(key)
            rows = select(summary, key)
            rows = rows[rows["segments"].isin(list(positions))]
            rows = rows.assign(_x=rows["segments"].map(positions)).sort_values("_x")
            x = rows["_x"].to_numpy(dtype=float) + dx
            y = rows["test_acc_mean"].to_numpy(dtype=float) * 100
            ax.plot(
                x,
                y,
                color=st["color"],
                linestyle=st["linestyle"],
                marker=st["marker"],
                markersize=5,
                linewidth=1.5,
                zorder=3,
            )
            low = rows["test_acc_ci_low"].to_numpy(dtype=float) * 100
            high = rows["test_acc_ci_high"].to_numpy(dtype=float) * 100
            ok = np.isfinite(low) & np.isfinite(high)
            if ok.any():
                ax.errorbar(
                    x[ok],
                    y[ok],
                    yerr=[y[ok] - low[ok], high[ok] - y[ok]],
                    fmt="none",
                    ecolor=st["color"],
                    elinewidth=1.0,
                    capsize=3,
                    zorder=2,
                )
            seeds = select(usable, key)
            seeds = seeds[seeds["segments"].isin(list(positions))]
            ax.scatter(
                seeds["segments"].map(positions).to_numpy(dtype=float) + dx,
                seeds["test_acc"].to_numpy(dtype=float) * 100,
                s=10,
                color=st["color"],
                alpha=0.3,
                linewidths=0,
                zorder=1,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    label=series_name(key, design.series_factors),
                )
            )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color="grey",
                alpha=0.4,
                markersize=4,
                label="individual seeds",
            )
        )
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("Test accuracy vs segments g (mean over seeds, 95% t CI)")
        legend_below(fig, handles, 7.0)
        save(fig, out_dir, NAME)
    return Plot(NAME, TITLE, caption, True)

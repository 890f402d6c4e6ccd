"""Figure ``curves``: validation accuracy and training loss per epoch, one column per factor.

In the style of Xception's Figures 9 and 10: each column varies one factor the sweep varied
(intermediate activation, residual, order, segments) with the others held at the reference
configuration (g = C, depthwise-first, no intermediate activation, residual, when present);
lines are means over seeds, shaded bands span min..max over seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...labels import FACTOR_NAMES, level_name
from ..analysis.design import ALL_FACTORS, Design, select
from .style import Plot, color, new_figure, save, segment_colors, style

NAME = "curves"
TITLE = "Training curves"
PREFERRED = {"segments": "C", "order": "depthwise-first", "activation": "none", "residual": True}


def reference(design: Design) -> dict:
    """The configuration the other factors are held at in each column."""
    ref = {}
    for factor in ALL_FACTORS:
        levels = design.levels[factor]
        if not levels:
            continue
        preferred = PREFERRED.get(factor)
        ref[factor] = preferred if preferred in levels else levels[0]
    return ref


def _lines(curves: pd.DataFrame, design: Design, factor: str, ref: dict):
    fixed = {f: v for f, v in ref.items() if f != factor}
    for level in design.levels[factor]:
        rows = select(curves, {**fixed, factor: level})
        pooled = rows.empty
        if pooled:
            rows = select(curves, {factor: level})
        if rows.empty:
            continue
        stats = (
            rows.groupby("epoch")
            .agg(
                acc=("val_acc", "mean"),
                acc_lo=("val_acc", "min"),
                acc_hi=("val_acc", "max"),
                loss=("train_loss", "mean"),
                loss_lo=("train_loss", "min"),
                loss_hi=("train_loss", "max"),
                n=("trial", "nunique"),
            )
            .reset_index()
        )
        yield level, pooled, stats


def draw(curves: pd.DataFrame, design: Design, out_dir: Path) -> Plot:
    factors = list(design.varied) or ["segments"]
    if curves.empty:
        return Plot(NAME, TITLE, "", False, "Not drawn: no complete trial recorded a curve.")
    ref = reference(design)
    caption = (
        "Validation accuracy (top) and training loss (bottom) per epoch for each factor "
        "the sweep varied, others held at the reference configuration; lines are means "
        "over seeds and bands span min..max over seeds."
    )
    with style():
        fig = new_figure(max(4.6, 3.6 * len(factors)), 6.6)
        axes = fig.subplots(2, len(factors), squeeze=False, sharex="col")
        for col, factor in enumerate(factors):
            top, bottom = axes[0, col], axes[1, col]
            held = [level_name(f, v) for f, v in ref.items() if f != factor and f in design.varied]
            top.set_title(
                FACTOR_NAMES.get(factor, factor) + (f"\n(at {', '.join(held)})" if held else "")
            )
            g_colors = segment_colors(design.segments)
            for index, (level, pooled, stats) in enumerate(_lines(curves, design, factor, ref)):
                c = g_colors[level] if factor == "segments" else color(index)
                label = level_name(factor, level) + (" (pooled)" if pooled else "")
                epoch = stats["epoch"].to_numpy(dtype=float)
                top.plot(epoch, stats["acc"] * 100, color=c, linewidth=1.5, label=label)
                top.fill_between(
                    epoch,
                    stats["acc_lo"] * 100,
                    stats["acc_hi"] * 100,
                    color=c,
                    alpha=0.15,
                    linewidth=0,
                )
                bottom.plot(epoch, stats["loss"], color=c, linewidth=1.5, label=label)
                bottom.fill_between(
                    epoch, stats["loss_lo"], stats["loss_hi"], color=c, alpha=0.15, linewidth=0
                )
            top.set_ylabel("validation accuracy (%)")
            bottom.set_ylabel("training loss (cross-entropy)")
            bottom.set_xlabel("epoch")
            handles, labels = bottom.get_legend_handles_labels()
            if handles:
                bottom.legend(
                    handles,
                    labels,
                    loc="upper center",
                    bbox_to_anchor=(0.5, -0.22),
                    ncols=2 if len(handles) > 3 else 1,
                    frameon=False,
                )
            if len(np.unique(curves["epoch"])) <= 12:
                top.xaxis.get_major_locator().set_params(integer=True)
        fig.suptitle(
            "Validation accuracy and training loss per epoch\n(lines: mean over seeds; "
            "bands: min..max over seeds)"
        )
        save(fig, out_dir, NAME)
    return Plot(NAME, TITLE, caption, True)

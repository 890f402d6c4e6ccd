"""Figure ``edf``: error EDF per g, and its complexity-normalised version when it applies.

Every usable trial is one model of the design space "networks with g segments" (all orders,
activations, residual settings and seeds pooled). Left: F(e), the fraction of models with test
error below e. Right (when each g has more than one distinct params/FLOPs value): the same with
weights that give every g the same complexity distribution (see
:mod:`spectrum.report.analysis.edf`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...labels import g_label
from ..analysis.design import Design
from ..analysis.edf import Normalisation, complexity_weights, edf_steps
from .style import Plot, legend_below, new_figure, save, segment_colors, style

NAME = "edf"
TITLE = "Error EDF per g"
COMPLEXITY_NAMES = {"params": "parameters", "flops": "FLOPs"}
SHORT = {
    "single": "one value per g",
    "disjoint": "no shared range",
    "missing": "not recorded",
    "off": "switched off",
}


def normalisation(usable: pd.DataFrame, complexity: str | None) -> Normalisation:
    if complexity is None:
        return Normalisation(False, "complexity normalisation switched off", None, 0, "off")
    return complexity_weights(usable[complexity].to_numpy(dtype=float), usable["segments"])


def _panel(ax, usable: pd.DataFrame, design: Design, weights, title: str) -> list:
    colors = segment_colors(design.segments)
    for g in design.segments:
        mask = (usable["segments"] == g).to_numpy(dtype=bool)
        w = None if weights is None else weights[mask]
        x, f = edf_steps((1.0 - usable.loc[mask, "test_acc"].to_numpy(dtype=float)) * 100, w)
        if x.size == 0:
            continue
        n = int(mask.sum())
        # Start at F = 0 just left of the smallest error so the first step is visible.
        ax.step(
            [x[0], *x],
            [0.0, *f],
            where="post",
            color=colors[g],
            linewidth=1.6,
            label=f"{g_label(g)} (n = {n})",
        )
    ax.set_xlabel("test error e (%)")
    ax.set_ylabel("F(e): fraction of models with error < e")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    return ax.get_legend_handles_labels()[0]


def draw(
    usable: pd.DataFrame, design: Design, out_dir: Path, complexity: str | None = "params"
) -> Plot:
    norm = normalisation(usable, complexity)
    what = COMPLEXITY_NAMES.get(complexity or "", complexity or "")
    if norm.applicable:
        caption = (
            f"Error EDF per g (left) and the {what}-normalised EDF (right), in which "
            f"models are reweighted so that every g has the same {what} distribution."
        )
        note = f"Normalisation: {norm.reason}."
    else:
        caption = "Error EDF per g: the fraction of trained models whose test error is below e."
        note = (
            f"Complexity-normalised EDF not applicable ({norm.reason})."
            if complexity
            else "Complexity-normalised EDF not requested."
        )
    with style():
        fig = new_figure(10.0 if norm.applicable else 6.0, 4.4)
        axes = fig.subplots(1, 2 if norm.applicable else 1, squeeze=False)[0]
        title = "Error EDF per segments g" + (
            "\n(every model weighs the same)" if norm.applicable else ""
        )
        if not norm.applicable and complexity:
            title += f"\n({what}-normalised EDF not applicable: {SHORT.get(norm.kind, 'n/a')})"
        handles = _panel(axes[0], usable, design, None, title)
        if norm.applicable:
            _panel(
                axes[1],
                usable,
                design,
                norm.weights,
                f"{what.capitalize() if what.islower() else what}-normalised error EDF\n"
                f"(same {what} distribution for every g)",
            )
            axes[1].set_ylabel("weighted F(e)")
        legend_below(fig, handles, 10.0 if norm.applicable else 6.0)
        save(fig, out_dir, NAME)
    return Plot(NAME, TITLE, caption, True, note)

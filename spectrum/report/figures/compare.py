"""Figure ``compare``: mean test accuracy per shared configuration, study A against study B.

One point per shared configuration at (mean in A, mean in B) with 95% Student-t error bars on
both axes, labelled with its g, and the y = x line: points above it are better in B. Colour per
g; marker by op order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...labels import segment_key
from ..analysis.compare import StudyComparison
from .style import Plot, marker, new_figure, save, segment_colors, style

NAME = "compare"
TITLE = "Mean test accuracy per configuration, A vs B"


def _half(mean: float, ci: tuple[float, float]) -> list[float]:
    low, high = ci
    if not (np.isfinite(low) and np.isfinite(high)):
        return [0.0, 0.0]
    return [100 * (mean - low), 100 * (high - mean)]


def draw(result: StudyComparison, label_a: str, label_b: str, out_dir: Path) -> Plot:
    """Draw compare.png / compare.svg into ``out_dir``."""
    caption = (
        f"Mean test accuracy of each shared configuration in {label_a} (x) and {label_b} (y) "
        "with 95% t intervals over seeds; above the dashed y = x line B is more accurate."
    )
    labels = sorted({str(d.key["segments"]) for d in result.differences}, key=segment_key)
    colors = segment_colors(labels)
    with style():
        fig = new_figure(5.2, 4.6)
        ax = fig.add_subplot()
        values = []
        seen = set()
        for d in result.differences:
            g = str(d.key["segments"])
            x, y = 100 * d.mean_a, 100 * d.mean_b
            values += [x, y, *(100 * v for v in (*d.ci_a, *d.ci_b))]
            ax.errorbar(
                x,
                y,
                xerr=np.array(_half(d.mean_a, d.ci_a)).reshape(2, 1),
                yerr=np.array(_half(d.mean_b, d.ci_b)).reshape(2, 1),
                fmt=marker(d.key.get("order")),
                color=colors[g],
                capsize=3,
                label=f"g = {g}" if g not in seen else None,
            )
            seen.add(g)
            ax.annotate(f"g={g}", (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
        finite = [v for v in values if np.isfinite(v)]
        if finite:
            low, high = min(finite), max(finite)
            pad = max(0.3, 0.05 * (high - low))
            ax.plot([low - pad, high + pad], [low - pad, high + pad], "--", color="#777777")
            ax.set_xlim(low - pad, high + pad)
            ax.set_ylim(low - pad, high + pad)
        ax.set_xlabel(f"test accuracy in A: {label_a} (%)")
        ax.set_ylabel(f"test accuracy in B: {label_b} (%)")
        ax.set_title(TITLE)
        ax.legend(loc="upper left")
        save(fig, out_dir, NAME)
    return Plot(NAME, TITLE, caption, True)

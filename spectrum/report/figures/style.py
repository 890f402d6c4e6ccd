"""Figure plumbing shared by every plot: style, deterministic saving, colours and the g axis.

Figures are plain ``matplotlib.figure.Figure`` objects on an Agg canvas (no pyplot, no global
backend switch, nothing shown). Saving writes ``NAME.png`` and ``NAME.svg`` with fixed SVG hash
salt and no date, so the same data gives byte-identical files. Every plot module returns a
:class:`Plot` describing what it wrote (or why it drew nothing).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from ...labels import segment_positions, segment_tick

RC = {
    "svg.hashsalt": "spectrum-report",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 130,
    "path.simplify": False,
}
COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
MARKERS = {"depthwise-first": "o", "pointwise-first": "s"}
PNG, SVG = "png", "svg"


@dataclass(frozen=True)
class Plot:
    """One figure of the report: its file stem, heading, one-sentence caption, and status."""

    name: str
    title: str
    caption: str
    drawn: bool
    note: str = ""


@contextmanager
def style() -> Iterator[None]:
    """The report's rcParams, for building and saving a figure (restored afterwards)."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write NAME.png and NAME.svg into ``out_dir`` reproducibly."""
    png, svg = Path(out_dir) / f"{name}.{PNG}", Path(out_dir) / f"{name}.{SVG}"
    fig.savefig(png, format=PNG)
    fig.savefig(svg, format=SVG, metadata={"Date": None})
    return png, svg


def color(index: int) -> str:
    return COLORS[index % len(COLORS)]


def segment_colors(labels) -> dict:
    """Colour per g: a sequential map (g is ordinal) when there are more than three."""
    labels = list(labels)
    if len(labels) <= 3:
        return {g: color(i) for i, g in enumerate(labels)}
    cmap = matplotlib.colormaps["viridis"]
    return {g: cmap(0.9 * i / (len(labels) - 1)) for i, g in enumerate(labels)}


def marker(order) -> str:
    return MARKERS.get(str(order), "D")


def linestyle(residual) -> str:
    return "--" if residual is False else "-"


def setup_g_axis(ax, labels, channels: tuple[int, int] | None, *, label: bool = True) -> dict:
    """Put g on a log2 x axis with ``C`` one step right of the largest integer g.

    Returns the position of each label.
    """
    positions = segment_positions(labels)
    ticks = sorted(positions.items(), key=lambda item: item[1])
    ax.set_xticks([p for _, p in ticks], [segment_tick(g, channels) for g, _ in ticks])
    if ticks:
        ax.set_xlim(ticks[0][1] - 0.5, ticks[-1][1] + 0.5)
    ax.grid(False, axis="x")
    if label:
        ax.set_xlabel("segments g (log2 scale; g = 1 regular conv, g = C depthwise)")
    return positions


def message(ax, text: str) -> None:
    """Replace an axes' content by a centred note (for panels that have no data)."""
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        wrap=True,
        transform=ax.transAxes,
        fontsize=9,
        color="#555555",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def label_point(ax, text: str, x: float, y: float, *, dy: float = 4, zorder: int = 4) -> None:
    """A small boxed label above-right of a point (``g=4``), readable over lines and grids."""
    ax.annotate(
        text,
        (x, y),
        xytext=(5, dy),
        textcoords="offset points",
        fontsize=8,
        zorder=zorder,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
    )


def series_styles(keys: list[Mapping]) -> dict[tuple, dict]:
    """Colour per series index, marker by order, dashes for no-residual."""
    styles = {}
    for index, key in enumerate(keys):
        styles[tuple(key.items())] = {
            "color": color(index),
            "marker": marker(key.get("order")),
            "linestyle": linestyle(key.get("residual")),
        }
    return styles


def compact(value: float) -> str:
    """Tick text without exponents: 2e5 -> ``200k``, 1.5e6 -> ``1.5M``, 3 -> ``3``."""
    if value == 0 or not math.isfinite(value):
        return "0"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def log_axis(ax, axis: str, values, length_in: float = 6.0) -> None:
    """Log scale with plain tick labels; minor ticks labelled as densely as the axis allows.

    ``length_in`` is the approximate axis length in inches, used to keep labels apart.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    decades = math.log10(v.max() / v.min()) if v.size else 0.0
    formatter = FuncFormatter(lambda x, _: compact(x))
    if decades < 0.3:
        target.set_major_locator(MaxNLocator(4))
        target.set_minor_locator(NullLocator())
        target.set_major_formatter(formatter)
        return
    target.set_major_locator(LogLocator(base=10))
    target.set_major_formatter(formatter)
    density = decades / max(length_in, 0.5)  # decades per inch
    subs = tuple(range(2, 9)) if density < 0.16 else (2, 3, 5) if density < 0.35 else (2, 5)
    target.set_minor_locator(LogLocator(base=10, subs=subs))
    target.set_minor_formatter(formatter if density < 0.6 else NullFormatter())


def legend_below(fig, handles, width_in: float) -> None:
    """A figure legend under the axes, with as many columns as fit the figure's width."""
    if not handles:
        return
    longest = max(len(h.get_label()) for h in handles)
    per_column = 0.052 * longest + 0.5  # inches: text at 8 pt plus the handle
    ncols = max(1, min(len(handles), int(width_in // per_column)))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)

"""Figure ``forest``: the answer at a glance, every verdict comparison as one row.

Each row is one comparison of the verdict (g minus g = C, or g minus g = 1, within a group):
the mean paired difference in test accuracy with its 95% Student-t interval, over the shaded
±margin band of equivalence and the zero line. The right-hand label of a row is its verdict and
the look that decided it (``better, 6-seed look``), or ``undecided at N seeds``. A report draws
it first (:func:`draw`); ``spectrum compare`` draws two studies side by side on one x scale
(:func:`draw_pair`). The numbers are the verdict's own (:mod:`...stats.verdict`): the
interval and pairs of the last completed look (seeds of a round still running wait). A sweep with
no g to compare (residual connections at g = C alone, say) draws its factor comparisons the same
way instead (:func:`draw_factors`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.transforms import blended_transform_factory

from ... import fmt
from ...labels import FACTOR_NAMES, level_name
from ...stats.comparison import Comparison
from ...stats.difference import Test
from ...stats.factors import FactorReport
from ...stats.verdict import Verdict, group_label
from .style import Plot, new_figure, save, style

NAME = "forest"
TITLE = "Each g against g = C and g = 1: paired difference, interval and verdict"
VERDICT_COLORS = {
    "better": "#2ca02c",
    "worse": "#d62728",
    "equivalent": "#1f77b4",
    "undecided": "#7f7f7f",
}
BAND_COLOR = "#1f77b4"
ROW_IN = 0.34  # inches per row
WIDTH_IN = 7.6


@dataclass(frozen=True)
class Row:
    """One line of the plot: a group heading (key ``("group", ...)``) or a comparison."""

    key: tuple
    label: str


def comparison_key(c: Comparison) -> tuple:
    return (c.order, c.activation, c.residual, c.match, c.segments, c.reference)


def _group(c: Comparison) -> dict:
    return {"order": c.order, "activation": c.activation, "residual": c.residual, "match": c.match}


def rows_of(verdicts: Sequence[Verdict]) -> list[Row]:
    """The rows of one or more verdicts, in the first verdict's order, each comparison once;
    groups get a heading row when there is more than one."""
    seen: dict[tuple, Comparison] = {}
    for verdict in verdicts:
        for c in verdict.comparisons:
            seen.setdefault(comparison_key(c), c)
    groups: dict[tuple, list[Comparison]] = {}
    for key, c in seen.items():
        groups.setdefault(key[:4], []).append(c)
    show_match = len({k[3] for k in groups}) > 1
    rows: list[Row] = []
    for gkey, comps in groups.items():
        if len(groups) > 1:
            rows.append(Row(("group", *gkey), group_label(_group(comps[0]), show_match)))
        for c in comps:
            rows.append(
                Row(
                    comparison_key(c),
                    f"{level_name('segments', c.segments)} vs "
                    f"{level_name('segments', c.reference).removeprefix('g = ')}",
                )
            )
    return rows


def look_text(c: Test, schedule: Sequence[int]) -> str:
    """``better, 6-seed look``; ``equivalent, 3 seeds (one look)``; ``undecided at 6 seeds``."""
    waiting = f" (+{c.waiting} waiting)" if c.waiting else ""
    if c.verdict == "undecided" or c.decided_at is None:
        return f"undecided at {c.n_pairs} seed{'s' if c.n_pairs != 1 else ''}{waiting}"
    word = c.verdict + (" (within margin)" if c.conclusive and c.within_margin else "")
    if schedule:
        return f"{word}, {c.decided_at}-seed look{waiting}"
    return f"{word}, {c.decided_at} seeds (one look)"


def _pp(value: float) -> float:
    return 100.0 * value if math.isfinite(value) else math.nan


def _x_range(margin_pp: float, tests: Sequence[Test]) -> tuple[float, float]:
    values = [margin_pp, -margin_pp]
    for c in tests:
        values += [v for v in map(_pp, (c.mean_diff, c.ci_low, c.ci_high)) if math.isfinite(v)]
    low, high = min(values), max(values)
    pad = 0.08 * (high - low) or 0.1
    return low - pad, high + pad


def _verdicts_x_range(verdicts: Sequence[Verdict]) -> tuple[float, float]:
    margin = max(v.margin_pp for v in verdicts)
    return _x_range(margin, [c for v in verdicts for c in v.comparisons])


@dataclass(frozen=True)
class Panel:
    """What one panel draws: its tests by row key, the family's margin and looks, the x label."""

    tests: dict
    margin_pp: float
    schedule: tuple[int, ...]
    what: str = "g minus reference"


def verdict_panel(verdict: Verdict) -> Panel:
    tests = {comparison_key(c): c for c in verdict.comparisons}
    return Panel(tests, verdict.margin_pp, tuple(verdict.schedule))


def _panel(ax, panel: Panel, rows: list[Row], x_range, *, show_labels: bool, title: str = ""):
    """Draw one panel's rows on ``ax`` (row 0 at the top) and label each with its verdict."""
    index = panel.tests
    n = len(rows)
    ax.axvspan(-panel.margin_pp, panel.margin_pp, color=BAND_COLOR, alpha=0.12, lw=0)
    ax.axvline(0.0, color="#444444", lw=0.8)
    right_ticks, right_labels, right_colors = [], [], []
    for i, row in enumerate(rows):
        y = n - 1 - i
        c = index.get(row.key)
        if c is None:  # a group heading, or a comparison only the other study has
            continue
        color = VERDICT_COLORS.get(c.verdict, "#7f7f7f")
        mean, low, high = _pp(c.mean_diff), _pp(c.ci_low), _pp(c.ci_high)
        has_ci = math.isfinite(low) and math.isfinite(high)
        if has_ci:
            ax.plot([low, high], [y, y], color=color, lw=2.0, solid_capstyle="butt")
        if math.isfinite(mean):
            ax.plot(
                [mean],
                [y],
                "o",
                color=color,
                mfc=color if has_ci else "white",  # hollow: one seed, no interval
                ms=6,
                zorder=3,
            )
        right_ticks.append(y)
        right_labels.append(look_text(c, panel.schedule))
        right_colors.append(color)
    ax.set_ylim(-0.7, n - 0.3)
    ticks = [n - 1 - i for i in range(n)]
    ax.set_yticks(ticks, [("" if r.key[0] == "group" else r.label) for r in rows])
    ax.tick_params(axis="y", labelleft=show_labels)
    for i, row in enumerate(rows):
        if row.key[0] == "group":  # a heading across the panel, on its own row
            ax.text(
                0.01,
                n - 1 - i,
                row.label,
                transform=blended_transform_factory(ax.transAxes, ax.transData),
                fontweight="bold",
                va="center",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
            )
    ax.grid(False, axis="y")
    ax.set_xlim(*x_range)
    ax.set_xlabel(
        f"test accuracy, {panel.what} (pp); shaded: ±{panel.margin_pp:.2f} pp equivalence margin"
    )
    if title:
        ax.set_title(title, loc="left")
    side = ax.twinx()
    side.set_ylim(ax.get_ylim())
    side.set_yticks(right_ticks, right_labels)
    for tick, color in zip(side.get_yticklabels(), right_colors):
        tick.set_color(color)
    side.tick_params(axis="y", length=0)
    side.grid(False)
    side.spines["right"].set_visible(False)


VERDICT_SUBJECT = (
    "Each comparison of the verdict: test accuracy of g minus the reference (g = C or g = 1)"
)
FACTOR_SUBJECT = "Each factor comparison: test accuracy of a level minus the paper's choice"


def caption(margins: Sequence[float], subject: str = VERDICT_SUBJECT) -> str:
    margin = "±" + "/".join(f"{m:.2f}" for m in dict.fromkeys(margins)) + " pp"
    return (
        f"{subject}, paired by seed, as the mean (dot) with its 95% Student-t interval (bar; a "
        f"hollow dot has too few seeds for one), over the shaded {margin} equivalence margin. "
        "Right: the verdict (better, worse, equivalent within the margin, undecided) and the "
        "look whose seeds decided it; the interval is that of the last completed look."
    )


def draw(verdict: Verdict, out_dir: Path) -> Plot:
    """Draw forest.png / forest.svg of one study's verdict into ``out_dir``."""
    if not verdict.comparisons:
        return Plot(
            NAME,
            TITLE,
            caption([verdict.margin_pp]),
            False,
            "Not drawn: the sweep has no g = C or g = 1 to compare the other g with.",
        )
    rows = rows_of([verdict])
    with style():
        fig = new_figure(WIDTH_IN, 1.5 + ROW_IN * len(rows))
        ax = fig.add_subplot()
        _panel(ax, verdict_panel(verdict), rows, _verdicts_x_range([verdict]), show_labels=True)
        save(fig, out_dir, NAME)
    return Plot(NAME, TITLE, caption([verdict.margin_pp]), True)


def draw_pair(verdict_a: Verdict, verdict_b: Verdict, label_a: str, label_b: str, out_dir: Path):
    """Draw forest.png / forest.svg with study A's and B's verdicts side by side, one x scale."""
    title = "Each g against g = C and g = 1, A and B side by side"
    text = caption([verdict_a.margin_pp, verdict_b.margin_pp]) + " Left A, right B; same x scale."
    rows = rows_of([verdict_a, verdict_b])
    if not rows:
        return Plot(NAME, title, text, False, "Not drawn: no g = C or g = 1 in either study.")
    with style():
        fig = new_figure(2 * WIDTH_IN - 1.6, 1.5 + ROW_IN * len(rows))
        axes = fig.subplots(1, 2)  # not sharey: each keeps its own tick labels
        x_range = _verdicts_x_range([verdict_a, verdict_b])
        a, b = verdict_panel(verdict_a), verdict_panel(verdict_b)
        _panel(axes[0], a, rows, x_range, show_labels=True, title=f"A: {label_a}")
        _panel(axes[1], b, rows, x_range, show_labels=False, title=f"B: {label_b}")
        save(fig, out_dir, NAME)
    return Plot(NAME, title, text, True)


FACTOR_TITLE = "Each factor level against the paper's choice: paired difference, interval, verdict"


def factor_rows(report: FactorReport) -> tuple[list[Row], dict]:
    """Rows of the level comparisons (not the interaction contrasts), one heading per factor
    when several were varied, each labelled ``no residual vs residual at g = C``."""
    comparisons = [t for t in report.tests if t.kind == "comparison"]
    rows: list[Row] = []
    tests: dict[tuple, Test] = {}
    for factor in report.varied:
        mine = [t for t in comparisons if t.factor == factor]
        if mine and len(report.varied) > 1:
            rows.append(Row(("group", factor), fmt.capitalized(FACTOR_NAMES[factor])))
        for i, t in enumerate(mine):
            key = ("factor", factor, i)
            tests[key] = t
            label = f"{level_name(factor, t.level)} vs {level_name(factor, t.reference)}"
            rows.append(Row(key, f"{label} at {t.context}"))
    return rows, tests


def draw_factors(report: FactorReport, out_dir: Path) -> Plot:
    """Draw forest.png / forest.svg of a sweep's factor comparisons (a sweep with no g
    comparison, such as one over residual connections at g = C alone)."""
    text = caption([report.margin_pp], FACTOR_SUBJECT)
    rows, tests = factor_rows(report)
    if not tests:
        return Plot(NAME, FACTOR_TITLE, text, False, "Not drawn: no factor comparison to show.")
    panel = Panel(tests, report.margin_pp, tuple(report.schedule), "level minus the paper's choice")
    with style():
        fig = new_figure(WIDTH_IN, 1.5 + ROW_IN * len(rows))
        ax = fig.add_subplot()
        x_range = _x_range(report.margin_pp, list(tests.values()))
        _panel(ax, panel, rows, x_range, show_labels=True)
        save(fig, out_dir, NAME)
    return Plot(NAME, FACTOR_TITLE, text, True)

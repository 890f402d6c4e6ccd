"""Search figures: ``pareto_front`` (objective pairs, front highlighted), ``history``, and
``statistical_front`` (after ``--confirm``: accuracy intervals over seeds against each cost).

Only feasible complete trials are drawn. With two objectives one panel shows the front joined
as a staircase; with more, one panel per pair of objectives shows the front over all of them.
The history shows every trial's value and the best value so far, one panel per objective.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..analysis.search_study import FrontRow, Objective, front_mask, history, values_matrix
from .style import Plot, color, legend_below, log_axis, new_figure, save, style

FRONT, HISTORY, STAT_FRONT = "pareto_front", "history", "statistical_front"


def _axes_pair(a: Objective, b: Objective) -> tuple[Objective, Objective]:
    """(x, y): accuracy (or the maximised objective) goes on y."""
    if a.maximize and not b.maximize:
        return b, a
    return a, b


def draw_front(usable: pd.DataFrame, objs: list[Objective], out_dir: Path) -> Plot:
    title = "Pareto front"
    if len(objs) < 2:
        return Plot(
            FRONT,
            title,
            "",
            False,
            "Not drawn: a single-objective search has no Pareto front; see the history.",
        )
    values = values_matrix(usable, objs)
    mask = front_mask(usable, objs)
    pairs = list(combinations(objs, 2))
    caption = (
        f"All {len(usable)} feasible complete trials (grey) and the "
        f"{int(mask.sum())} non-dominated ones over "
        f"{' / '.join(o.name for o in objs)} (highlighted)"
        + (", per pair of objectives." if len(pairs) > 1 else ", joined as a front.")
    )
    segments = usable["segments"].map(lambda s: "" if s is None else str(s)).to_numpy()
    with style():
        ncols = min(3, len(pairs))
        nrows = -(-len(pairs) // ncols)
        fig = new_figure(4.4 * ncols + 0.6, 3.8 * nrows + 0.6)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, (a, b) in zip(axes, pairs):
            xo, yo = _axes_pair(a, b)
            x = np.array([xo.shown(v) for v in values[:, xo.index]])
            y = np.array([yo.shown(v) for v in values[:, yo.index]])
            ax.scatter(x[~mask], y[~mask], s=18, color="#9a9a9a", alpha=0.6, linewidths=0)
            ax.scatter(
                x[mask], y[mask], s=44, color=color(1), edgecolors="black", linewidths=0.8, zorder=3
            )
            if len(objs) == 2:
                order = np.argsort(x[mask], kind="stable")
                where = "pre" if xo.maximize else "post"
                ax.step(
                    x[mask][order],
                    y[mask][order],
                    where=where,
                    color=color(1),
                    linewidth=1.0,
                    zorder=2,
                )
            if mask.sum() <= 12:
                for xi, yi, label in zip(x[mask], y[mask], segments[mask]):
                    if label:
                        ax.annotate(
                            label, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=7
                        )
            if xo.log and np.all(x > 0):
                log_axis(ax, "x", x, 3.6)
            if yo.log and np.all(y > 0):
                log_axis(ax, "y", y, 2.8)
            ax.set_xlabel(f"{xo.axis_label}, {'higher' if xo.maximize else 'lower'} is better")
            ax.set_ylabel(f"{yo.axis_label}, {'higher' if yo.maximize else 'lower'} is better")
            ax.set_title(f"{yo.name} vs {xo.name}")
        for ax in axes[len(pairs) :]:
            ax.set_visible(False)
        handles = [
            Line2D([], [], linestyle="none", marker="o", color="#9a9a9a", label="feasible trial"),
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color=color(1),
                markeredgecolor="black",
                label="non-dominated (Pareto front), labelled entry/middle/exit g",
            ),
        ]
        legend_below(fig, handles, 4.4 * ncols + 0.6)
        fig.suptitle("Search: Pareto front of the feasible trials")
        save(fig, out_dir, FRONT)
    return Plot(FRONT, title, caption, True)


def draw_history(usable: pd.DataFrame, objs: list[Objective], out_dir: Path) -> Plot:
    caption = (
        "Each feasible complete trial's objective value (points) and the best value so "
        "far (line) against trial number, one panel per objective."
    )
    with style():
        fig = new_figure(max(4.8, 4.2 * len(objs)), 3.8)
        axes = np.atleast_1d(fig.subplots(1, len(objs), squeeze=False)).ravel()
        for ax, o in zip(axes, objs):
            h = history(usable, o)
            shown = np.array([o.shown(v) for v in h["value"]])
            best = np.array([o.shown(v) for v in h["best"]])
            ax.scatter(h["trial"], shown, s=14, color="#9a9a9a", alpha=0.7, linewidths=0)
            ax.step(h["trial"], best, where="post", color=color(0), linewidth=1.6)
            if o.log and np.all(shown > 0):
                log_axis(ax, "y", shown, 2.8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("trial number")
            ax.set_ylabel(o.axis_label)
            ax.set_title(f"{o.name} ({'maximised' if o.maximize else 'minimised'})")
        handles = [
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color="#9a9a9a",
                label="feasible trial's value",
            ),
            Line2D([], [], color=color(0), label="best value so far"),
        ]
        legend_below(fig, handles, max(4.8, 4.2 * len(objs)))
        fig.suptitle("Search: best value so far per objective")
        save(fig, out_dir, HISTORY)
    return Plot(HISTORY, "Optimisation history", caption, True)


STATUS_COLORS = {"non-dominated": 1, "undecided": 3, "dominated": 0}


def draw_statistical_front(
    rows: list[FrontRow], usable: pd.DataFrame, objs: list[Objective], out_dir: Path
) -> Plot:
    """Each candidate's mean accuracy with its 95% t interval over seeds against each cost."""
    title = "Accuracy intervals against cost"
    if not rows:
        return Plot(STAT_FRONT, title, "", False, "Not drawn: no --confirm run.")
    costs = [o for o in objs if o.name != "accuracy"]
    acc = next(o for o in objs if o.name == "accuracy")
    others = usable[~usable["trial"].isin({r.trial for r in rows})]
    caption = (
        f"The {len(rows)} candidates near the front: mean validation accuracy over their seeds "
        "with its 95% t interval, coloured by the decision; grey: the trials screened out "
        "(one seed each)."
    )
    with style():
        fig = new_figure(4.6 * len(costs) + 0.6, 4.0)
        axes = np.atleast_1d(fig.subplots(1, len(costs), squeeze=False)).ravel()
        for ax, cost in zip(axes, costs):
            ax.scatter(
                [v[cost.index] for v in others["values"]],
                [acc.shown(v[acc.index]) for v in others["values"]],
                s=14,
                color="#9a9a9a",
                alpha=0.6,
                linewidths=0,
            )
            for r in rows:
                x = r.costs[cost.name]
                shade = color(STATUS_COLORS.get(r.status, 2))
                ax.errorbar(
                    [x],
                    [r.mean],
                    yerr=[[r.mean - r.ci_low], [r.ci_high - r.mean]],
                    fmt="o",
                    color=shade,
                    markeredgecolor="black",
                    markersize=5,
                    capsize=2,
                    zorder=3,
                )
                ax.annotate(
                    str(r.trial), (x, r.mean), xytext=(4, 3), textcoords="offset points", fontsize=7
                )
            xs = [r.costs[cost.name] for r in rows] + [v[cost.index] for v in others["values"]]
            if cost.log and all(x > 0 for x in xs):
                log_axis(ax, "x", xs, 4.0)
            ax.set_xlabel(f"{cost.axis_label}, lower is better")
            ax.set_ylabel("validation accuracy (%), mean over seeds")
            ax.set_title(f"accuracy vs {cost.name}")
        handles = [
            Line2D([], [], linestyle="none", marker="o", color=color(i), label=status)
            for status, i in STATUS_COLORS.items()
        ] + [Line2D([], [], linestyle="none", marker="o", color="#9a9a9a", label="screened out")]
        legend_below(fig, handles, 4.6 * len(costs) + 0.6)
        fig.suptitle("Search: the front within seed noise (trial numbers labelled)")
        save(fig, out_dir, STAT_FRONT)
    return Plot(STAT_FRONT, title, caption, True)

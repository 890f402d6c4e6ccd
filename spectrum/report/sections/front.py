"""The "Front within noise" section of a search report (after ``spectrum search --confirm K``).

Lays out what :func:`spectrum.report.analysis.search_study.statistical_front` read from the study:
the rule, the candidates with their seeds' intervals and decisions, the trials screened out, and
the seed noise the candidates' repeats measure (the band the front pruner would use).
"""

from __future__ import annotations

from ... import fmt
from ...stats.front import DOMINATED, NON_DOMINATED, UNDECIDED, FrontRule, noise_band
from ..analysis.search_study import FrontRow, Objective
from ..document import Heading, Paragraph, Table, figure_blocks


def _trials(numbers) -> str:
    return ", ".join(str(n) for n in numbers) if numbers else ""


def front_blocks(stored: dict, rows: list[FrontRow], objs: list[Objective], plot) -> list:
    rule = stored["rule"]
    costs = [o for o in objs if o.name != "accuracy"]
    members = {
        s: [r.trial for r in sorted(rows, key=lambda r: r.trial) if r.status == s]
        for s in (NON_DOMINATED, DOMINATED, UNDECIDED)
    }
    screened = stored.get("screened", {})
    looks = stored["decision"]["looks"]
    blocks: list = [
        Heading("Front within noise"),
        Paragraph(
            f"The single-seed front above is partly a draw of the seed noise. {len(rows)} "
            f"candidates (the trials that no trial costing no more beat by more than "
            f"{100 * stored['band']:.2g} points of validation accuracy) were re-trained with "
            f"{rule['start']} seeds first and up to {rule['max_seeds']}, {rule['step']} more at "
            f"a time only where dominance was undecided ({looks} look{'s' if looks != 1 else ''}"
            f"). Trial j dominates trial i when it costs no more ({_cost_rule(costs)}) and the "
            f"Welch interval of acc_j - acc_i lies above 0; it does not when the interval lies "
            f"below the {fmt.number(rule['margin_pp'], 2)}-point margin (one-sided "
            f"{rule['alpha']:g}/{FrontRule(**rule).looks} per side: Bonferroni over "
            f"the planned looks). "
            + fmt.capitalized("; ".join(f"{s}: {_count(t)}" for s, t in members.items()))
            + "."
        ),
        *figure_blocks(plot, level=3),
        Table(
            (
                "trial",
                "segments",
                *(c.name for c in costs),
                "seeds",
                "val acc, mean (95% CI)",
                "decision",
                "dominated by",
                "undecided with",
            ),
            tuple(
                (
                    str(r.trial),
                    r.segments,
                    *(c.text(r.costs[c.name]) for c in costs),
                    str(len(r.accuracies)),
                    f"{r.mean:.2f}% {fmt.ci_pct(r.ci_low / 100, r.ci_high / 100)}",
                    r.status,
                    _trials(r.dominated_by),
                    _trials(r.undecided_with),
                )
                for r in sorted(rows, key=lambda r: r.trial)
            ),
            "Candidates near the front: validation accuracy over seeds (the search's own seed "
            "first) and the decision against every candidate that costs no more.",
        ),
    ]
    if screened:
        blocks.append(
            Paragraph(
                "Screened out (beaten by more than the band by a trial costing no more; one seed "
                "each): "
                + ", ".join(f"{n} (by {by})" for n, by in sorted(screened.items(), key=_key))
                + "."
            )
        )
    band, sd, df = noise_band(r.accuracies for r in rows)
    if df:
        blocks.append(
            Paragraph(
                f"Seed noise measured by the candidates' repeats: pooled SD {sd:.2f} points "
                f"({df} degrees of freedom); the front pruner's band from it, 1.645 x sqrt(2) x "
                f"SD, is {band:.2f} points (--prune-band {band / 100:.3f})."
            )
        )
    return blocks


def _cost_rule(costs: list[Objective]) -> str:
    if not any(c.name == "latency" for c in costs):
        return "exact counts"
    return (
        "counts exactly; latency when the distribution-free 95% interval of its median lies at "
        "or below the other's, undecided when the two overlap"
    )


def _count(trials: list[int]) -> str:
    return f"{len(trials)} ({_trials(trials)})" if trials else "none"


def _key(item) -> int:
    return int(item[0])

"""The factor comparisons as report blocks (shared by report.md and report.html).

Turns a :class:`~spectrum.stats.factors.FactorReport` into: how the comparisons are
made (reference levels, pairing, CI, Holm family, test accuracy only), one sentence per varied
factor against the paper's claim, for an activation x segments sweep the interaction with depth
(sentence and a side-by-side table per g), and the table of every factor comparison.
"""

from __future__ import annotations

from ... import fmt
from ...labels import FACTOR_NAMES, level_name
from ...stats.claims import REFERENCES
from ...stats.factors import FactorReport
from ..document import Bullets, Heading, Paragraph, Table
from .verdict import DECISION_COLUMNS, decision_cells, decision_rule


def _method(method: str, pairs: str) -> str:
    return {"paired-t": f"paired ({pairs})", "welch": "Welch"}.get(method, "none")


def factor_blocks(report: FactorReport) -> list:
    blocks = [Heading("Factor comparisons")]
    if not report.varied:
        blocks.append(
            Paragraph(
                "No factor other than segments g (intermediate activation, residual connections, "
                "op order) has more than one level among the usable trials, so there is nothing to "
                "compare here."
            )
        )
        return blocks
    references = "; ".join(
        f"{FACTOR_NAMES[f]}: {level_name(f, REFERENCES[f])}" for f in report.varied
    )
    n_comp = sum(1 for t in report.tests if t.kind == "comparison")
    n_int = len(report.tests) - n_comp
    family = f"{n_comp} level comparison{'s' if n_comp != 1 else ''}" + (
        f" and {n_int} interaction contrast{'s' if n_int != 1 else ''}" if n_int else ""
    )
    blocks.append(
        Paragraph(
            f"Each varied factor is compared level by level with the paper's choice ({references}) "
            f"with every other coordinate held fixed: mean difference in test accuracy (level minus "
            f"reference, paired by seed when at least two seeds pair, otherwise unpaired Welch, "
            f"which is shown but left undecided), its 95% t interval and t-test. {report.note}"
        )
    )
    blocks.append(
        Paragraph(
            decision_rule(
                report.alpha,
                report.margin_pp,
                report.margin_source,
                report.schedule,
                f"{family} of this section (a family separate from the verdict's)",
            )
        )
    )
    blocks.append(Bullets(tuple(v.sentence for v in report.factors)))
    gaps = [f"{FACTOR_NAMES[v.factor]}, {gap}" for v in report.factors for gap in v.gaps]
    if gaps:
        blocks.append(Paragraph("Not compared where a level is missing: " + "; ".join(gaps) + "."))

    for inter in report.interactions:
        name = level_name(inter.factor, inter.level)
        ref = level_name(inter.factor, inter.reference)
        title = f"Interaction: {name} and depth"
        if inter.context:
            title += f" ({inter.context})"
        blocks += [Heading(title, level=3), Paragraph(inter.sentence)]
        contrast = {c.segments: c for c in inter.contrasts}
        rows = []
        for d in inter.differences:
            c = contrast.get(d.segments)
            rows.append(
                (
                    str(d.segments),
                    fmt.pct(d.mean_level),
                    fmt.pct(d.mean_reference),
                    fmt.pp(d.mean_diff),
                    fmt.ci_pp(d.ci_low, d.ci_high),
                    fmt.p_value(d.p_holm),
                    d.result,
                    fmt.pp(c.mean_diff) if c else "(reference)",
                    fmt.ci_pp(c.ci_low, c.ci_high) if c else "",
                    fmt.p_value(c.p_holm) if c else "",
                    c.result if c else "",
                )
            )
        blocks.append(
            Table(
                (
                    "g",
                    name,
                    ref,
                    "difference",
                    "95% CI",
                    "Holm p",
                    "result",
                    "minus the difference at g = C",
                    "95% CI",
                    "Holm p",
                    "result",
                ),
                tuple(rows),
                f"{fmt.capitalized(name)} minus {ref} at each g, side by side, and how much "
                f"larger it is than at g = C (difference of differences, paired by seed; CI and "
                f"test only when at least two seeds have all four runs).",
            )
        )

    rows = []
    for t in report.tests:
        if t.kind != "comparison":
            continue
        rows.append(
            (
                FACTOR_NAMES[t.factor],
                level_name(t.factor, t.level),
                level_name(t.factor, t.reference),
                t.context,
                _method(t.method, t.pairs_text()),
                fmt.pct(t.mean_level),
                fmt.pct(t.mean_reference),
                *decision_cells(t, t.result),
            )
        )
    if rows:
        blocks.append(
            Table(
                (
                    "factor",
                    "level",
                    "vs",
                    "at",
                    "pairing (seeds)",
                    "level acc",
                    "reference acc",
                    *DECISION_COLUMNS,
                ),
                tuple(rows),
                "Every factor comparison: mean test accuracy of each level and of the reference, "
                "their mean difference (level minus reference, paired by seed), its 95% Student-t "
                "CI, the raw and Holm-adjusted p-values, the Holm-adjusted equivalence (TOST) p, "
                "the verdict and, when undecided, the seeds that would decide it (also in "
                "factors.csv).",
            )
        )
    return blocks

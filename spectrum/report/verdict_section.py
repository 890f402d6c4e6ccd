"""The verdict as report blocks (shared by report.md and report.html).

Turns a :class:`~.verdict.Verdict` into: the question and its answer, the matched-budget note,
warnings, one sentence per group, the table of every comparison with raw and Holm-adjusted
p-values, and the latency-versus-FLOPs notes.
"""

from __future__ import annotations

from . import fmt
from .document import Bullets, Heading, Paragraph, Table
from .verdict import Verdict, group_label


def verdict_blocks(verdict: Verdict) -> list:
    blocks = [
        Heading("The verdict"),
        Paragraph(f"Question (Xception, future directions): {verdict.question}"),
        Paragraph(f"Answer: {verdict.summary}", strong=True),
    ]
    if verdict.matched_note:
        blocks.append(Paragraph(verdict.matched_note))
    else:
        blocks.append(
            Paragraph(
                "Budgets were not matched: g changes the number of parameters "
                "and FLOPs along with the accuracy (see the Pareto figures)."
            )
        )
    for warning in verdict.warnings:
        blocks.append(Paragraph(f"Warning: {warning}"))
    blocks.append(
        Paragraph(
            f"Per group (a winner is named only when its best g beats every g it is compared with "
            f"conclusively: 95% bootstrap CI of the mean paired difference excluding zero and "
            f"Holm-adjusted p < {verdict.alpha:g} over all {len(verdict.comparisons)} comparisons "
            f"of this report):"
        )
    )
    blocks.append(Bullets(tuple(g.sentence for g in verdict.groups)))
    if verdict.comparisons:
        rows = []
        for c in verdict.comparisons:
            show_match = len({x.match for x in verdict.comparisons}) > 1
            group = group_label(
                {
                    "order": c.order,
                    "activation": c.activation,
                    "residual": c.residual,
                    "match": c.match,
                },
                show_match,
            )
            rows.append(
                (
                    group,
                    c.segments,
                    c.reference,
                    c.method,
                    str(c.n_pairs),
                    fmt.pp(c.mean_diff),
                    fmt.ci_pp(c.ci_low, c.ci_high),
                    fmt.p_value(c.p_value),
                    fmt.p_value(c.p_holm),
                    f"favours g = {c.favours}" if c.conclusive else "inconclusive",
                )
            )
        blocks.append(
            Table(
                (
                    "group",
                    "g",
                    "vs g",
                    "test",
                    "pairs",
                    "mean diff",
                    "95% CI",
                    "p",
                    "Holm p",
                    "result",
                ),
                tuple(rows),
                "Every comparison of g with g = C and g = 1: mean difference in test accuracy "
                "(g minus the reference, paired by seed), its 95% bootstrap CI, and the raw and "
                "Holm-adjusted p-values.",
            )
        )
    blocks.append(Heading("Latency versus FLOPs", level=3))
    if verdict.latency_notes:
        blocks.append(
            Paragraph(
                "Measured latency disagrees with FLOPs across g: heavy grouping is not "
                "matrix-friendly (as ShuffleNet V2 notes), so fewer FLOPs do not mean faster here:"
            )
        )
        blocks.append(Bullets(tuple(n.sentence + "." for n in verdict.latency_notes)))
    elif verdict.latency_measured:
        blocks.append(
            Paragraph(
                "No disagreement found: no g with fewer FLOPs than another (by more than 1%) was "
                "measured slower (by more than 5%)."
            )
        )
    else:
        blocks.append(Paragraph("Not checked: the study recorded no latency (or no FLOPs)."))
    return blocks

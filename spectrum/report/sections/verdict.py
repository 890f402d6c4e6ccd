"""The verdict as report blocks (shared by report.md and report.html).

Turns a :class:`~spectrum.stats.verdict.Verdict` into: the question and its answer,
the matched-budget note, warnings, how the verdict decides (level, margin, looks), one sentence
per group, the table of every comparison (three-way verdict, raw and Holm-adjusted p-values,
TOST p, MDE, seeds to decide), the shape over g (the plateau by step-down equivalence and the
rise), the trends over log2 g, and the latency-versus-FLOPs notes.
"""

from __future__ import annotations

from ... import fmt
from ...stats.verdict import Verdict, group_label
from ..document import Bullets, Heading, Paragraph, Table

MARGIN_SOURCES = {
    "default": "the default",
    "study": "set by the study",
    "--margin": "set by --margin",
}


DECISION_COLUMNS = (
    "mean diff",
    "95% CI",
    "p",
    "Holm p",
    "Holm TOST p",
    "verdict",
    "MDE",
    "seeds to decide",
)


def decision_cells(result, verdict_text: str) -> tuple[str, ...]:
    """The :data:`DECISION_COLUMNS` cells of one decided-or-not difference.

    ``result`` is a verdict comparison or a factor test: anything with ``mean_diff``,
    ``ci_low``/``ci_high``, ``p_value``, ``p_holm``, ``p_equivalence_holm``, ``verdict``, ``mde``
    and ``seeds_needed``.
    """
    return (
        fmt.pp(result.mean_diff),
        fmt.ci_pp(result.ci_low, result.ci_high),
        fmt.p_value(result.p_value),
        fmt.p_value(result.p_holm),
        fmt.p_value(result.p_equivalence_holm),
        verdict_text,
        fmt.pp(result.mde).lstrip("+"),
        fmt.text(result.seeds_needed) if result.verdict == "undecided" else "",
    )


def decision_rule(alpha: float, margin_pp: float, source: str, schedule, family: str) -> str:
    """The paragraph that states how a family's comparisons are decided."""
    looks = (
        f"The study plans {len(schedule)} looks at {', '.join(map(str, schedule))} seeds (a "
        f"sequential sweep adds seeds only to configurations still in an undecided comparison); "
        f"each look is replayed on the seeds below its count and tested at alpha / "
        f"{len(schedule)} = {alpha / len(schedule):.4g}, and a decision once made stands; seeds "
        f"beyond the last completed look wait for their look, and none is tested before the "
        f"first. A look is complete once no trial below it is still to finish; a trial lost "
        f"(failed or diverged) leaves the pairs present, and the pairs column states the loss."
        if schedule
        else "One look: all seeds at once."
    )
    return (
        f"How it decides: each difference gets a 95% Student-t interval and a paired t-test "
        f"(the interval excludes zero exactly when p < 0.05), and two one-sided tests (TOST) "
        f"for equivalence within ±{margin_pp:.2f} pp ({MARGIN_SOURCES.get(source, source)}). "
        f"Holm runs over the {family}, for superiority and for equivalence alike, at "
        f"alpha = {alpha:g}. A comparison is better or worse when its Holm p is below the level, "
        f"equivalent when its Holm TOST p is, and undecided otherwise; an undecided one states "
        f"its minimum detectable effect (MDE, 80% power on the noncentral t) at the current "
        f"seeds and the seeds that would decide it at the observed variance. Differences whose "
        f"standard deviation is at or below the accuracy resolution (1 / test-set size) tie: "
        f"they carry no evidence and stay undecided. {looks}"
    )


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
    n = len(verdict.comparisons)
    blocks.append(
        Paragraph(
            decision_rule(
                verdict.alpha,
                verdict.margin_pp,
                verdict.margin_source,
                verdict.schedule,
                f"{n} comparison{'s' if n != 1 else ''} of this section",
            )
        )
    )
    blocks.append(
        Paragraph(
            "Per group (a winner is named only when its best g is better than every g it is "
            "compared with):"
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
                    c.pairs_text(),
                    *decision_cells(
                        c,
                        c.verdict
                        + (" (within margin)" if c.conclusive and c.within_margin else ""),
                    ),
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
                    *DECISION_COLUMNS,
                ),
                tuple(rows),
                "Every comparison of g with g = C and g = 1: mean difference in test accuracy "
                "(g minus the reference, paired by seed), its 95% Student-t CI, the raw and "
                "Holm-adjusted paired t p-values, the Holm-adjusted equivalence (TOST) p, the "
                "verdict, and for an undecided one the seeds that would decide it "
                "('–': more than 1000).",
            )
        )
    shapes = [g for g in verdict.groups if g.shape]
    if shapes:
        blocks.append(Heading("Shape over g", level=3))
        blocks.append(
            Paragraph(
                "Where the curve is flat: the integer g are tested for equivalence with C within "
                "the margin in a fixed order, largest g first (TOST at the per-look level), and "
                "the walk stops at the first g that fails; the plateau starts at the smallest g "
                "reached, every larger g equivalent to C (a fixed-sequence procedure: its "
                "family-wise error stays at alpha). The rise: the g below the plateau decided "
                "worse than C in the table above. Its own family, like the trends."
            )
        )
        many = len(verdict.groups) > 1
        blocks.append(
            Bullets(tuple((f"{g.label}: " if many else "") + g.shape + "." for g in shapes))
        )
    if verdict.trends:
        blocks.append(Heading("Trend over g", level=3))
        blocks.append(
            Paragraph(
                "The slope of test accuracy over log2 g (g = C one step right of the largest "
                "integer g), one slope per seed with every g, as one contrast instead of many "
                "pairs: its 95% t interval and t-test, Holm over the "
                f"{len(verdict.trends)} trend{'s' if len(verdict.trends) != 1 else ''} of this "
                "section, superiority only (no equivalence margin for a slope)."
            )
        )
        blocks.append(Bullets(tuple(t.sentence() for t in verdict.trends)))
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

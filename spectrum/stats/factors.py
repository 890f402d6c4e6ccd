"""Factor comparisons: the sweep's other factors (activation, residual, op order) put to the test.

A factor is *varied* when it has more than one level among the usable trials. For each varied
factor and each context (:mod:`.factor_tests`), every non-reference level is compared with the
reference level, the paper's choice (:data:`.claims.REFERENCES`): difference = level minus
reference in final test accuracy, paired by seed when possible (:func:`.stats.compare`, which
falls back to Welch or to the bare difference of means). An activation sweep over g = C and an
integer g also gets the activation x depth contrasts (:mod:`.interaction`).

Every factor test of the report is decided together (level comparisons and interaction
contrasts; a family separate from the verdict's) by :func:`.stats.settle`, as in :mod:`.verdict`:
better / worse / equivalent within the study's margin / undecided, Holm over the family, the
level split over the planned looks. The slopes of the activation effect over log2 g
(:mod:`.trends`) form a family of their own. Each factor then gets a status against the paper's
claim (:mod:`.claims`).

This module owns :func:`build_factors`, which puts those together, and :class:`FactorReport`,
whose ``frame()`` is factors.csv. Everything is plain frozen dataclasses. Only test accuracy is
used, as in the verdict; validation accuracy is not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from ..labels import level_key, level_name, sorted_levels
from . import interaction
from .claims import FACTORS, REFERENCES, FactorVerdict, factor_verdict
from .difference import settle
from .factor_tests import FactorTest, context_label, contexts, factor_test
from .interaction import Interaction
from .looks import Plan, plan_of
from .summary import CONFIG
from .trends import Trend, settle_trends

CSV_COLUMNS = [
    "kind",
    "factor",
    "level",
    "reference",
    "segments",
    "vs_segments",
    "order",
    "activation",
    "residual",
    "match",
    "context",
    "method",
    "n_pairs",
    "n_level",
    "n_reference",
    "mean_level",
    "mean_reference",
    "mean_diff",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
    "p_equivalence",
    "p_equivalence_holm",
    "verdict",
    "within_margin",
    "decided_at",
    "mde",
    "seeds_needed",
    "conclusive",
    "result",
]
VALIDATION_NOTE = (
    "All factor comparisons use final test accuracy, as the verdict does; "
    "validation accuracy is not used here."
)


@dataclass(frozen=True)
class FactorReport:
    varied: tuple[str, ...]  # factors of FACTORS with more than one level
    factors: tuple[FactorVerdict, ...]
    interactions: tuple[Interaction, ...]
    tests: tuple[FactorTest, ...]  # the Holm family, in report order
    trends: tuple[Trend, ...]  # slopes of the activation effect over log2 g (own family)
    alpha: float
    margin: float  # equivalence margin, in the unit of the accuracies (fractions)
    margin_pp: float
    margin_source: str
    schedule: tuple[int, ...]
    note: str

    def to_dict(self) -> dict:
        return asdict(self)

    def frame(self) -> pd.DataFrame:
        """factors.csv: one row per test (level comparisons, then interaction contrasts)."""
        rows = []
        for t in self.tests:
            row = {c: getattr(t, c) for c in CSV_COLUMNS if c not in ("kind", "result")}
            row.update(kind=t.kind, result=t.result)
            rows.append(row)
        return pd.DataFrame(rows, columns=CSV_COLUMNS)


def build_factors(usable: pd.DataFrame, *, plan: Plan | None = None) -> FactorReport:
    """Every factor comparison of a sweep from its usable trials (see the module docstring).

    ``plan`` (:func:`.looks.plan_of`) sets the level, margin and looks.
    """
    plan = plan or plan_of({})
    alpha = plan.design.alpha
    levels = {f: sorted_levels(f, usable[f]) if not usable.empty else [] for f in CONFIG}
    varied = tuple(f for f in FACTORS if len(levels[f]) > 1)
    # Coordinates named in a context label: those that varied (g is always named).
    shown = tuple(f for f in ("order", "activation", "residual", "match") if len(levels[f]) > 1)

    pending: list[FactorTest] = []
    gaps: dict[str, list[str]] = {f: [] for f in varied}
    raw_contexts: dict[str, list[tuple[dict, dict]]] = {}
    for factor in varied:
        reference = REFERENCES[factor]
        raw_contexts[factor] = contexts(usable, factor)
        for context, samples in raw_contexts[factor]:
            label = context_label(context, tuple(f for f in shown if f != factor))
            present = sorted(samples, key=lambda v: level_key(factor, v))
            if reference not in samples or len(present) < 2:
                missing = [level_name(factor, v) for v in levels[factor] if v not in samples]
                gaps[factor].append(f"{label}: {', '.join(missing)} not trained")
                continue
            for level in present:
                if level == reference:
                    continue
                pending.append(
                    factor_test(
                        factor, level, reference, context, label, samples[level], samples[reference]
                    )
                )
            absent = [level_name(factor, v) for v in levels[factor] if v not in samples]
            if absent:
                gaps[factor].append(f"{label}: {', '.join(absent)} not trained")

    contrasts, slopes = [], []
    if interaction.applies(varied, levels):
        contrasts = interaction.contrasts(raw_contexts["activation"], shown)
        slopes = interaction.slopes(raw_contexts["activation"], shown)
    trends = settle_trends([t for _, t in slopes], plan)
    slope_of = {group: t for (group, _), t in zip(slopes, trends)}

    done = settle(pending + [t for _, t in contrasts], plan)
    comparisons, contrast_tests = done[: len(pending)], done[len(pending) :]

    verdicts = [
        factor_verdict(
            f,
            levels[f],
            [t for t in comparisons if t.factor == f],
            gaps[f],
            plan.design.alpha_per_look,
            interacts=f == "activation" and bool(contrasts),
        )
        for f in varied
    ]
    interactions = interaction.interactions(
        [group for group, _ in contrasts], contrast_tests, comparisons, shown, slope_of
    )
    return FactorReport(
        varied=varied,
        factors=tuple(verdicts),
        interactions=tuple(interactions),
        tests=tuple(done),
        trends=tuple(trends),
        alpha=alpha,
        margin=plan.design.margin,
        margin_pp=plan.margin_pp,
        margin_source=plan.margin_source,
        schedule=plan.schedule,
        note=VALIDATION_NOTE,
    )

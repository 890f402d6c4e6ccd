"""The verdict: Xception's future-directions question answered from one sweep.

"Do intermediate points on the spectrum hold advantages over the depthwise extreme?"

For every group (order, activation, residual, match) this module finds the g with the best mean
test accuracy and compares every other g with g = C and with g = 1 (each unordered pair once;
difference = g minus reference, paired by seed when possible). Every comparison ends better,
worse, equivalent within the study's margin, or undecided (:func:`.inference.decide`: paired
t-test and TOST, Holm over all comparisons of the report together, the level split over the
study's planned looks); an undecided one carries its MDE and the seeds that would decide it. A
group's winner is named only when its best g is better than every g it is compared with. Groups
with at least three g also get the trend of accuracy over log2 g as one contrast
(:mod:`.trends`, its own Holm family), and every group its shape over g: the plateau (the
smallest g from which every larger g is equivalent to C, by step-down equivalence) and the rise
(:mod:`.plateau`); the answer's first sentence states the shape. Also owns the fewer-than-3-seeds warning and
the matched-budget note; the latency-versus-FLOPs notes come from :mod:`.latency`. Results are
plain frozen dataclasses (``Verdict.to_dict()`` gives nested dicts); each comparison is a
:class:`.comparison.Comparison`, which also words a group's comparisons. Sentences are ready to
print.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .. import fmt
from ..labels import level_name, segment_key
from ..options import MATCH_NAMES
from .comparison import Comparison, against
from .difference import compare, settle
from .latency import LatencyNote, latency_measured, latency_notes
from .looks import Plan, plan_of
from .pairing import by_seed
from .plateau import Plateau, plateau_of, shape_sentence
from .summary import GROUP, configurations
from .trends import Trend, settle_trends, slope_trend

QUESTION = (
    "Do intermediate points on the spectrum hold advantages over the depthwise extreme (g = C)?"
)
MIN_SEEDS = 3
REFERENCES = ("C", "1")


@dataclass(frozen=True)
class GroupVerdict:
    """One (order, activation, residual, match) group of the sweep."""

    order: str
    activation: str
    residual: bool | None
    match: str
    label: str
    segments: tuple[str, ...]
    mean_test_acc: dict
    n_seeds: dict
    best: str
    winner: str | None
    advantage: str  # yes | no | undecided | not applicable
    intermediate_better: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    trend: Trend | None
    plateau: Plateau | None  # step-down equivalence of the integer g with C
    shape: str | None  # the curve's shape: the rise and the plateau (:mod:`.plateau`)
    headline: str  # the group's answer: which g are better, worse, equivalent, undecided
    sentence: str


@dataclass(frozen=True)
class Verdict:
    question: str
    answer: str  # yes | no | undecided | not applicable
    summary: str
    groups: tuple[GroupVerdict, ...]
    comparisons: tuple[Comparison, ...]
    trends: tuple[Trend, ...]
    alpha: float
    margin_pp: float
    margin_source: str  # default | study | --margin
    schedule: tuple[int, ...]  # planned looks (seed counts); empty: one look
    match: str
    matched_note: str | None
    few_seeds: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]
    latency_notes: tuple[LatencyNote, ...]
    latency_measured: bool

    def to_dict(self) -> dict:
        return asdict(self)


def is_intermediate(segments: str) -> bool:
    return str(segments).isdigit() and int(segments) > 1


def group_label(key: dict, show_match: bool = False) -> str:
    parts = [
        level_name(f, key[f]) for f in ("order", "activation", "residual") if key[f] is not None
    ]
    if show_match:
        parts.append(level_name("match", key["match"]))
    return ", ".join(parts) or "all trials"


def _pairs(labels: list[str]) -> list[tuple[str, str]]:
    """(g, reference) pairs: every g against C and against 1, each unordered pair once."""
    pairs, seen = [], set()
    for reference in REFERENCES:
        if reference not in labels:
            continue
        for g in labels:
            if g == reference or frozenset((g, reference)) in seen:
                continue
            seen.add(frozenset((g, reference)))
            pairs.append((g, reference))
    return pairs


def _raw_groups(usable: pd.DataFrame) -> list[tuple[dict, dict]]:
    """(group key, {g: {seed: test_acc}}) in canonical order."""
    groups: dict[tuple, tuple[dict, dict]] = {}
    for key, trials in configurations(usable):
        gkey = tuple(key[f] for f in GROUP)
        entry = groups.setdefault(gkey, ({f: key[f] for f in GROUP}, {}))
        entry[1][str(key["segments"])] = by_seed(trials)
    return list(groups.values())


def _trend_headline(trend: Trend | None) -> str | None:
    """``over all g, test accuracy rises with g (+0.10 pp per doubling, 95% CI [..])``, when the
    trend is decided (an undecided one stays in its own section)."""
    if trend is None or not trend.conclusive:
        return None
    return (
        f"over all g, test accuracy {trend.direction} with g ({fmt.pp(trend.mean_diff)} per "
        f"doubling, 95% CI {fmt.ci_pp(trend.ci_low, trend.ci_high)})"
    )


def _group_verdict(
    key: dict,
    label: str,
    samples: dict,
    comps: list[Comparison],
    trend: Trend | None,
    plan: Plan,
) -> GroupVerdict:
    labels = sorted(samples, key=segment_key)
    means = {g: float(np.mean(list(samples[g].values()))) for g in labels}
    n_seeds = {g: len(samples[g]) for g in labels}
    best = max(labels, key=lambda g: (means[g], -labels.index(g)))
    with_best = [c for c in comps if best in (c.segments, c.reference)]
    won = bool(with_best) and all(c.favours == best for c in with_best)
    winner = best if won else None

    better = tuple(
        c.segments
        for c in comps
        if c.reference == "C" and is_intermediate(c.segments) and c.favours == c.segments
    )
    vs_c = [c for c in comps if c.reference == "C" and is_intermediate(c.segments)]
    if not vs_c:
        advantage = "not applicable"
    elif better:
        advantage = "yes"
    elif all(c.verdict in ("worse", "equivalent") for c in vs_c):
        advantage = "no"
    else:
        advantage = "undecided"
    parts = (against(comps, "C"), against(comps, "1"), _trend_headline(trend))
    headline = "; ".join(p for p in parts if p)
    vs_reference = [c for c in comps if c.reference == "C"]
    plateau = plateau_of(vs_reference, plan)
    shape = shape_sentence(plateau, vs_reference)

    head = (
        f"{label}: best mean test accuracy at {level_name('segments', best)} "
        f"({fmt.pct(means[best])}, {n_seeds[best]} seed{'s' if n_seeds[best] != 1 else ''})"
    )
    if len(labels) == 1:
        tail = "only one g was trained, so nothing is compared: undecided."
    elif not comps:
        tail = "no g = C or g = 1 to compare with: undecided."
    elif winner is not None:
        wins = "; ".join(c.sentence() for c in with_best)
        tail = f"winner {level_name('segments', winner)} ({wins})."
    else:
        unsettled = [c for c in with_best if c.favours != best] or with_best
        tail = "no winner (" + "; ".join(c.sentence() for c in unsettled) + ")."
    return GroupVerdict(
        order=key["order"],
        activation=key["activation"],
        residual=key["residual"],
        match=key["match"],
        label=label,
        segments=tuple(labels),
        mean_test_acc=means,
        n_seeds=n_seeds,
        best=best,
        winner=winner,
        advantage=advantage,
        intermediate_better=better,
        comparisons=tuple(comps),
        trend=trend,
        plateau=plateau,
        shape=shape,
        headline=headline,
        sentence=f"{head}; {tail}",
    )


def build_verdict(
    usable: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    match: str = "none",
    plan: Plan | None = None,
    min_seeds: int = MIN_SEEDS,
) -> Verdict:
    """The verdict of a sweep from its usable trials and its summary table.

    ``plan`` (:func:`.looks.plan_of`) sets the level, margin and looks; by default alpha
    0.05, the default margin and one look.
    """
    plan = plan or plan_of({})
    raw = _raw_groups(usable)
    show_match = len({k["match"] for k, _ in raw}) > 1
    pending: list[tuple[int, Comparison]] = []
    for index, (key, samples) in enumerate(raw):
        labels = sorted(samples, key=segment_key)
        for g, reference in _pairs(labels):
            comparison = Comparison(
                **{f: key[f] for f in GROUP},
                segments=g,
                reference=reference,
                difference=compare(samples[g], samples[reference]),
            )
            pending.append((index, comparison))
    settled = settle([c for _, c in pending], plan)
    comparisons = [(index, c) for (index, _), c in zip(pending, settled)]
    trend_of: dict[int, Trend] = {}
    for index, (key, samples) in enumerate(raw):
        trend = slope_trend("test accuracy", group_label(key, show_match), samples)
        if trend is not None:
            trend_of[index] = trend
    trend_of = dict(zip(trend_of, settle_trends(list(trend_of.values()), plan)))

    groups = []
    for index, (key, samples) in enumerate(raw):
        comps = [c for i, c in comparisons if i == index]
        groups.append(
            _group_verdict(
                key, group_label(key, show_match), samples, comps, trend_of.get(index), plan
            )
        )

    few = []
    for key, trials in configurations(usable):
        n = int(trials["seed"].nunique(dropna=True)) or len(trials)
        if n < min_seeds:
            name = f"{level_name('segments', key['segments'])}, {group_label(key, show_match)}"
            few.append((name, n))
    warnings = []
    if few:
        warnings.append(
            f"{len(few)} configuration{'s' if len(few) != 1 else ''} "
            f"{'are' if len(few) != 1 else 'is'} backed by fewer than {min_seeds} "
            f"seeds; their intervals and tests are weak or undefined: "
            + "; ".join(f"{name} ({n} seed{'s' if n != 1 else ''})" for name, n in few)
            + "."
        )
    if not any("C" in g.segments for g in groups):
        warnings.append(
            "The sweep has no g = C (depthwise) configuration, so the question cannot "
            "be answered against the depthwise extreme."
        )
    matched_note = None
    if match not in ("none", None, ""):
        what = MATCH_NAMES.get(match, match)
        matched_note = (
            f"Budgets were matched ({match}): every g was widened or narrowed to the "
            f"same number of {what}, so the results compare g at matched {what}."
        )
    notes = latency_notes(summary)
    answer, text = _answer(groups)
    return Verdict(
        question=QUESTION,
        answer=answer,
        summary=text,
        groups=tuple(groups),
        comparisons=tuple(c for _, c in comparisons),
        trends=tuple(trend_of.values()),
        alpha=plan.design.alpha,
        margin_pp=plan.margin_pp,
        margin_source=plan.margin_source,
        schedule=plan.schedule,
        match=match,
        matched_note=matched_note,
        few_seeds=tuple(few),
        warnings=tuple(warnings),
        latency_notes=tuple(notes),
        latency_measured=latency_measured(summary),
    )


def _answer(groups: list[GroupVerdict]) -> tuple[str, str]:
    applicable = [g for g in groups if g.advantage != "not applicable"]
    if not applicable:
        return (
            "not applicable",
            "Not answerable from this sweep: no group has both g = C and an "
            "intermediate g (1 < g < C).",
        )
    yes = [g for g in applicable if g.advantage == "yes"]
    no = [g for g in applicable if g.advantage == "no"]
    n = len(applicable)
    many = len(groups) > 1
    detail = " ".join(
        (f"{g.label}: " if many else "In short: ") + g.headline + "." for g in groups if g.headline
    )
    shapes = " ".join((f"{g.label}: " if many else "") + g.shape + "." for g in groups if g.shape)
    if yes:
        word = "yes"
        text = (
            f"Yes in {len(yes)} of {n} group{'s' if n != 1 else ''}: an intermediate g is "
            f"better than g = C."
        )
    elif len(no) == n:
        word = "no"
        text = (
            f"No: in {'all ' if n > 1 else ''}{n} group{'s' if n != 1 else ''} every "
            "intermediate g is worse than g = C or equivalent to it within the margin."
        )
    else:
        word = "undecided"
        text = (
            f"Undecided: in none of the {n} group{'s' if n != 1 else ''} is an intermediate g "
            "decided better than g = C, and not every one is decided worse or equivalent; more "
            "seeds would decide (see the MDE and seeds to decide)."
        )
    return word, " ".join(part for part in (shapes, text, detail) if part)

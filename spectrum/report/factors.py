"""Factor comparisons: the sweep's other factors (activation, residual, op order) put to the test.

A factor is *varied* when it has more than one level among the usable trials. For each varied
factor and each combination of the other coordinates (g, the remaining factors and the budget
matching: a *context*), every non-reference level is compared with the reference level, the
paper's choice (:data:`REFERENCES`: no intermediate activation, residual on, depthwise-first):
difference = level minus reference in final test accuracy, paired by seed when possible
(:func:`.stats.compare`, which falls back to Welch or to the bare difference of means). Trials
whose level of the factor was not recorded take no part.

When an activation sweep also varies g over g = C and at least one integer g, the
*interaction* is tested per context: the per-seed difference (level minus none) at each integer
g minus the same difference at g = C, with a paired bootstrap CI and paired t-test when at least
two seeds have all four runs; otherwise it cannot be tested and only the point estimate is
given. The paper's explanation of Figure 10 predicts the difference to be larger at small g.

The Holm correction runs over every factor test of the report together (level comparisons and
interaction contrasts; a family separate from the verdict's). A test is conclusive when its
95% bootstrap CI excludes zero and its Holm-adjusted p < alpha, as in :mod:`.verdict`.

Each factor gets a status against the paper's claim (:data:`CLAIMS`) and a sentence; everything
is plain frozen dataclasses, ``FactorReport.frame()`` is factors.csv. Only test accuracy is
used, as in the verdict; validation accuracy is not.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import fmt
from .labels import FACTOR_NAMES, level_key, level_name, segment_key, sorted_levels
from .stats import compare, holm
from .summary import CONFIG, config_key
from .verdict import ALPHA, _by_seed

FACTORS = ("activation", "residual", "order")
REFERENCES = {"activation": "none", "residual": True, "order": "depthwise-first"}
# The paper's claim about each factor, as the report quotes it.
CLAIMS = {
    "activation": (
        "Figure 10: no intermediate activation is best, ahead of an intermediate "
        "ReLU or ELU between the depthwise and pointwise operations"
    ),
    "residual": (
        "Figure 9: residual connections help; they are essential for convergence "
        "speed and final accuracy"
    ),
    "order": (
        "op order is unimportant: depthwise-first, as in SeparableConv2D, or "
        "pointwise-first, as in Inception, makes little difference in stacked blocks"
    ),
}
# An op-order comparison counts as "small" when its whole 95% CI lies within +-MARGIN.
MARGIN = 0.01
STATUSES = ("agrees", "agrees in part", "contradicts", "mixed", "inconclusive", "not tested")
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
    "conclusive",
    "result",
]
VALIDATION_NOTE = (
    "All factor comparisons use final test accuracy, as the verdict does; "
    "validation accuracy is not used here."
)


@dataclass(frozen=True)
class FactorTest:
    """One test: ``level`` minus ``reference`` of ``factor`` in test accuracy.

    A level comparison (``vs_segments`` None) holds the other coordinates fixed; the compared
    factor's own coordinate is None. An interaction contrast (``vs_segments`` ``"C"``) compares
    the level-minus-reference difference at g = ``segments`` with that at g = C; its
    ``mean_level`` and ``mean_reference`` are those two differences.
    """

    factor: str
    level: object
    reference: object
    segments: str | None
    vs_segments: str | None
    order: str | None
    activation: str | None
    residual: bool | None
    match: str | None
    context: str  # "g = 4", "g = C, no residual", ...
    method: str  # paired-t | welch | none
    n_pairs: int
    n_level: int
    n_reference: int
    mean_level: float
    mean_reference: float
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    conclusive: bool

    @property
    def kind(self) -> str:
        return "comparison" if self.vs_segments is None else "interaction"

    @property
    def favours(self):
        """The conclusively better level (for a contrast: the g with the larger difference)."""
        if not self.conclusive:
            return None
        if self.kind == "interaction":
            return self.segments if self.mean_diff > 0 else self.vs_segments
        return self.level if self.mean_diff > 0 else self.reference

    @property
    def result(self) -> str:
        if not self.conclusive:
            return "inconclusive"
        if self.kind == "interaction":
            return f"larger at {level_name('segments', self.favours)}"
        return f"favours {level_name(self.factor, self.favours)}"

    def numbers(self) -> str:
        """``-1.36 pp (95% CI [-2.10, -0.60] pp, Holm p = 0.031, paired over 3 seeds)``."""
        test = {"none": None, "paired-t": f"paired over {self.n_pairs} seeds"}.get(
            self.method, "unpaired, Welch"
        )
        untested = (
            "seeds do not pair"
            if self.kind == "interaction"
            else "too few seeds for a CI or a test"
        )
        return fmt.evidence(
            fmt.pp(self.mean_diff), self.ci_low, self.ci_high, self.p_holm, test, untested
        )


@dataclass(frozen=True)
class FactorVerdict:
    """What the sweep says about one varied factor, against the paper's claim."""

    factor: str
    reference: object
    levels: tuple
    claim: str
    status: str  # one of STATUSES
    comparisons: tuple[FactorTest, ...]
    gaps: tuple[str, ...]  # contexts where a level or the reference is missing
    sentence: str


@dataclass(frozen=True)
class Interaction:
    """How the level-minus-reference difference of ``factor`` changes with g (one context)."""

    factor: str
    level: object
    reference: object
    context: str
    differences: tuple[FactorTest, ...]  # level comparisons, one per g, g = C last
    contrasts: tuple[FactorTest, ...]  # each integer g against g = C
    testable: bool
    status: str  # as predicted | against the prediction | mixed | inconclusive | cannot be tested
    sentence: str


@dataclass(frozen=True)
class FactorReport:
    varied: tuple[str, ...]  # factors of FACTORS with more than one level
    factors: tuple[FactorVerdict, ...]
    interactions: tuple[Interaction, ...]
    tests: tuple[FactorTest, ...]  # the Holm family, in report order
    alpha: float
    margin: float
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


# --- grouping ---------------------------------------------------------------------------------


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _contexts(usable: pd.DataFrame, factor: str) -> list[tuple[dict, dict]]:
    """(context, {level: {seed: test_acc}}) with the other coordinates fixed, canonical order."""
    others = [f for f in CONFIG if f != factor]
    known = usable[[not _is_missing(v) for v in usable[factor]]]
    out: dict[tuple, tuple[dict, dict]] = {}
    for values, rows in known.groupby(others + [factor], dropna=False, sort=False):
        values = [None if _is_missing(v) else v for v in values]
        context = dict(zip(others, values[:-1]))
        key = tuple(level_key(f, context[f]) for f in others)
        entry = out.setdefault(key, (context, {}))
        entry[1][values[-1]] = _by_seed(rows)
    full = lambda c: config_key({**c, factor: None})  # noqa: E731
    return sorted(out.values(), key=lambda item: full(item[0]))


def _context_label(context: dict, shown: tuple[str, ...]) -> str:
    parts = [level_name("segments", context["segments"])]
    parts += [level_name(f, context[f]) for f in shown if f in context and f != "segments"]
    return ", ".join(parts)


def _test(
    factor,
    level,
    reference,
    context: dict,
    label: str,
    a: dict,
    b: dict,
    vs_segments=None,
    force_none: bool = False,
) -> FactorTest:
    d = compare(a, b)
    method, low, high, p, n_pairs = d.method, d.ci_low, d.ci_high, d.p_value, d.n_pairs
    mean_a = float(np.mean(list(a.values()))) if a else math.nan
    mean_b = float(np.mean(list(b.values()))) if b else math.nan
    if force_none and method != "paired-t":
        method, low, high, p = "none", math.nan, math.nan, math.nan
    coords = {f: context.get(f) for f in ("segments", "order", "activation", "residual", "match")}
    coords[factor] = None
    return FactorTest(
        factor=factor,
        level=level,
        reference=reference,
        **coords,
        vs_segments=vs_segments,
        context=label,
        method=method,
        n_pairs=n_pairs,
        n_level=len(a),
        n_reference=len(b),
        mean_level=mean_a,
        mean_reference=mean_b,
        mean_diff=d.mean_diff,
        ci_low=low,
        ci_high=high,
        p_value=p,
        p_holm=math.nan,
        conclusive=False,
    )


# --- sentences --------------------------------------------------------------------------------


def _name(factor: str, level) -> str:
    return level_name(factor, level)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _where(tests: list[FactorTest]) -> str:
    return _listing([t.context for t in tests])


def _detail(tests: list[FactorTest], factor: str, reference) -> str:
    """Per non-reference level: how it fared against the reference in each context."""
    parts = []
    levels = sorted({t.level for t in tests}, key=lambda v: level_key(factor, v))
    for level in levels:
        mine = [t for t in tests if t.level == level]
        items = []
        for t in mine:
            if t.favours == level:
                verb = "conclusively better"
            elif t.favours == reference:
                verb = "conclusively worse"
            else:
                verb = "inconclusive"
            items.append(f"{verb} at {t.context}, {t.numbers()}")
        parts.append(f"{_name(factor, level)} vs {_name(factor, reference)}: " + "; ".join(items))
    return "; ".join(parts)


def _directional(factor: str, reference, tests: list[FactorTest]) -> tuple[str, str]:
    """Status and conclusion for a claim that the reference level is better."""
    ref_name = _name(factor, reference)
    for_ref = [t for t in tests if t.favours == reference]
    against = [t for t in tests if t.conclusive and t.favours != reference]
    if for_ref and against:
        return "mixed", (
            f"mixed: {ref_name} is conclusively better at {_where(for_ref)} but conclusively "
            f"worse at {_where(against)}, so the paper's claim holds only in part of this sweep"
        )
    if against:
        return "contradicts", (
            f"this contradicts the paper: {ref_name} is conclusively worse at {_where(against)}"
        )
    if for_ref and len(for_ref) == len(tests):
        return "agrees", (
            f"this agrees with the paper: {ref_name} is conclusively better in every comparison"
        )
    if for_ref:
        rest = [t for t in tests if not t.conclusive]
        return "agrees in part", (
            f"this agrees in part with the paper: {ref_name} is conclusively better at "
            f"{_listing([f'{t.context} (vs {_name(factor, t.level)})' for t in for_ref])}, "
            f"while {len(rest)} comparison{'s are' if len(rest) != 1 else ' is'} inconclusive"
        )
    return "inconclusive", (
        "inconclusive: no comparison is conclusive, so the data neither support nor contradict "
        "the paper's claim (more seeds or a larger budget would be needed)"
    )


def _order_conclusion(tests: list[FactorTest], margin: float) -> tuple[str, str]:
    """Status and conclusion for "op order is unimportant"."""
    conclusive = [t for t in tests if t.conclusive]
    if conclusive:
        return "contradicts", (
            "this contradicts the paper: op order matters here ("
            + "; ".join(f"{t.result} at {t.context}" for t in conclusive)
            + ")"
        )
    bounds = [
        max(abs(t.ci_low), abs(t.ci_high))
        for t in tests
        if math.isfinite(t.ci_low) and math.isfinite(t.ci_high)
    ]
    bound = fmt.pp(max(bounds)).lstrip("+") if bounds else None
    caution = "inconclusive is not proof of equality"
    if bounds and len(bounds) == len(tests) and max(bounds) <= margin:
        return "agrees", (
            f"consistent with the paper: no difference is conclusive and every 95% CI lies "
            f"within +-{fmt.pp(margin).lstrip('+')} (the widest reaches {bound}); {caution}, "
            f"but differences larger than about {bound} are not supported by these data"
        )
    if not bounds:
        return "inconclusive", (
            f"inconclusive: too few seeds for any CI, so nothing bounds the difference and "
            f"op order cannot be called unimportant ({caution})"
        )
    return "inconclusive", (
        f"inconclusive: no difference is conclusive, but the 95% CIs reach {bound}, "
        f"wider than +-{fmt.pp(margin).lstrip('+')}, too wide to call op order unimportant "
        f"({caution})"
    )


def _factor_verdict(
    factor: str,
    levels: list,
    tests: list[FactorTest],
    gaps: list[str],
    margin: float,
    alpha: float = ALPHA,
    interacts: bool = False,
) -> FactorVerdict:
    reference = REFERENCES[factor]
    claim = CLAIMS[factor]
    head = f"{_cap(FACTOR_NAMES[factor])} (the paper, {claim})"
    if not tests:
        status = "not tested"
        if reference not in levels:
            tail = (
                f"not tested: the paper's choice, {_name(factor, reference)}, was not "
                f"trained, so the other levels have nothing to be compared with"
            )
        else:
            tail = (
                f"not tested: no context has both {_name(factor, reference)} and another "
                f"level with the other coordinates equal"
            )
        return FactorVerdict(
            factor, reference, tuple(levels), claim, status, (), tuple(gaps), f"{head}: {tail}."
        )
    if factor == "order":
        status, conclusion = _order_conclusion(tests, margin)
    else:
        status, conclusion = _directional(factor, reference, tests)
    sentence = f"{head}: {_detail(tests, factor, reference)}. Overall, {conclusion}."
    near = [
        t
        for t in tests
        if not t.conclusive
        and math.isfinite(t.ci_low)
        and math.isfinite(t.ci_high)
        and (t.ci_low > 0 or t.ci_high < 0)
    ]
    if near:
        sentence += (
            " The 95% CI of "
            + _listing([f"{_name(factor, t.level)} at {t.context}" for t in near])
            + f" excludes zero, but the test does not reach Holm p < {alpha:g}, so "
            + ("it is" if len(near) == 1 else "they are")
            + " not counted as conclusive (more seeds would be needed to tell)."
        )
    if interacts:
        sentence += " How the difference changes with g is tested below (interaction with depth)."
    if factor == "residual":
        sentence += (
            " Only final accuracy is tested here, not convergence speed (see the training curves)."
        )
    return FactorVerdict(
        factor, reference, tuple(levels), claim, status, tuple(tests), tuple(gaps), sentence
    )


def _gs(tests: list[FactorTest]) -> str:
    return _listing([level_name("segments", t.segments) for t in tests])


def _interaction_verdict(
    level, context_label: str, differences: list[FactorTest], contrasts: list[FactorTest]
) -> Interaction:
    factor, reference = "activation", REFERENCES["activation"]
    name, ref = _name(factor, level), _name(factor, reference)
    testable = any(c.method == "paired-t" for c in contrasts)
    by_g = _listing(
        [
            f"{fmt.pp(d.mean_diff)} at {level_name('segments', d.segments)} (95% CI "
            f"{fmt.ci_pp(d.ci_low, d.ci_high)})"
            for d in differences
        ]
    )
    where = f" ({context_label})" if context_label else ""
    head = (
        f"{_cap(name)} and depth{where}: the paper explains Figure 10 by the depth of "
        f"the segments (C/g channels per spatial convolution), so a non-linearity should "
        f"help deep segments (small g) and hurt 1-channel ones (g = C). {_cap(name)} "
        f"minus {ref} in test accuracy is {by_g}."
    )
    small = [d for d in differences if d.segments != "C"]
    at_c = [d for d in differences if d.segments == "C"]
    helps = [d for d in small if d.favours == level]
    hurts = [d for d in at_c if d.favours == reference]
    if not testable:
        status = "cannot be tested"
        body = (
            "Whether the difference is larger at small g than at g = C cannot be tested: "
            "fewer than two seeds have all four runs, so the differences do not pair by "
            "seed (point estimates of the difference minus that at g = C: "
            + _listing(
                [
                    f"{fmt.pp(c.mean_diff)} at {level_name('segments', c.segments)}"
                    for c in contrasts
                ]
            )
            + ")."
        )
    else:
        larger = [c for c in contrasts if c.favours == c.segments]
        smaller = [c for c in contrasts if c.conclusive and c.favours != c.segments]
        per = "; ".join(f"{level_name('segments', c.segments)}: {c.numbers()}" for c in contrasts)
        if larger and smaller:
            status, word = "mixed", "mixed: larger at some small g, smaller at others"
        elif larger:
            status, word = (
                "as predicted",
                (
                    f"conclusively larger at {_gs(larger)} than at g = C, as the paper's "
                    f"explanation predicts"
                ),
            )
        elif smaller:
            status, word = (
                "against the prediction",
                (
                    f"conclusively smaller at {_gs(smaller)} than at g = C, against the paper's "
                    f"explanation"
                ),
            )
        else:
            status, word = (
                "inconclusive",
                ("not conclusively larger at any small g than at g = C: inconclusive"),
            )
        body = (
            f"The difference at each g minus the difference at g = C (paired by seed) is "
            f"{per}; so it is {word}."
        )
    if helps and hurts:
        body += (
            f" The full prediction shows: {name} conclusively helps at "
            f"{_where(helps)} and conclusively hurts at g = C."
        )
    return Interaction(
        factor,
        level,
        reference,
        context_label,
        tuple(differences),
        tuple(contrasts),
        testable,
        status,
        f"{head} {body}",
    )


# --- building ---------------------------------------------------------------------------------


def _conclusive(t: FactorTest, p_holm: float, alpha: float) -> FactorTest:
    excludes_zero = (
        math.isfinite(t.ci_low) and math.isfinite(t.ci_high) and (t.ci_low > 0 or t.ci_high < 0)
    )
    return replace(
        t,
        p_holm=p_holm,
        conclusive=bool(excludes_zero and math.isfinite(p_holm) and p_holm < alpha),
    )


def _diff_by_seed(a: dict, b: dict) -> dict:
    return {k: a[k] - b[k] for k in sorted(set(a) & set(b), key=lambda k: (str(type(k)), k))}


def build_factors(
    usable: pd.DataFrame, *, alpha: float = ALPHA, margin: float = MARGIN
) -> FactorReport:
    """Every factor comparison of a sweep from its usable trials (see the module docstring)."""
    levels = {f: sorted_levels(f, usable[f]) if not usable.empty else [] for f in CONFIG}
    varied = tuple(f for f in FACTORS if len(levels[f]) > 1)
    # Coordinates named in a context label: those that varied (g is always named).
    shown = tuple(f for f in ("order", "activation", "residual", "match") if len(levels[f]) > 1)

    pending: list[FactorTest] = []
    gaps: dict[str, list[str]] = {f: [] for f in varied}
    raw_contexts: dict[str, list[tuple[dict, dict]]] = {}
    for factor in varied:
        reference = REFERENCES[factor]
        raw_contexts[factor] = _contexts(usable, factor)
        for context, samples in raw_contexts[factor]:
            label = _context_label(context, tuple(f for f in shown if f != factor))
            present = sorted(samples, key=lambda v: level_key(factor, v))
            if reference not in samples or len(present) < 2:
                missing = [_name(factor, v) for v in levels[factor] if v not in samples]
                gaps[factor].append(f"{label}: {', '.join(missing)} not trained")
                continue
            for level in present:
                if level == reference:
                    continue
                pending.append(
                    _test(
                        factor, level, reference, context, label, samples[level], samples[reference]
                    )
                )
            absent = [_name(factor, v) for v in levels[factor] if v not in samples]
            if absent:
                gaps[factor].append(f"{label}: {', '.join(absent)} not trained")

    # Interaction of activation with g: per context without g, each level against none.
    contrasts: list[tuple[tuple, FactorTest]] = []
    if (
        "activation" in varied
        and "C" in levels["segments"]
        and any(str(s).isdigit() for s in levels["segments"])
    ):
        reference = REFERENCES["activation"]
        for context, samples in raw_contexts["activation"]:
            if context["segments"] == "C" or reference not in samples:
                continue
            rest = {k: v for k, v in context.items() if k != "segments"}
            twin = [s for c, s in raw_contexts["activation"] if c == {**rest, "segments": "C"}]
            if not twin or reference not in twin[0]:
                continue
            at_c = twin[0]
            for level in sorted(samples, key=lambda v: level_key("activation", v)):
                if level == reference or level not in at_c:
                    continue
                label = _context_label(context, tuple(f for f in shown if f != "activation"))
                d_g = _diff_by_seed(samples[level], samples[reference])
                d_c = _diff_by_seed(at_c[level], at_c[reference])
                t = _test(
                    "activation",
                    level,
                    reference,
                    context,
                    label,
                    d_g,
                    d_c,
                    vs_segments="C",
                    force_none=True,
                )
                if t.method == "none":
                    # No pairing: the point estimate from the four means.
                    point = (
                        np.mean(list(samples[level].values()))
                        - np.mean(list(samples[reference].values()))
                    ) - (
                        np.mean(list(at_c[level].values()))
                        - np.mean(list(at_c[reference].values()))
                    )
                    t = replace(t, mean_diff=float(point))
                group = tuple(level_key(f, rest[f]) for f in sorted(rest)) + (
                    level_key("activation", level),
                )
                contrasts.append((group, t))

    family = pending + [t for _, t in contrasts]
    adjusted = holm([t.p_value for t in family])
    done = [_conclusive(t, p, alpha) for t, p in zip(family, adjusted)]
    comparisons, contrast_tests = done[: len(pending)], done[len(pending) :]

    verdicts = [
        _factor_verdict(
            f,
            levels[f],
            [t for t in comparisons if t.factor == f],
            gaps[f],
            margin,
            alpha,
            interacts=f == "activation" and bool(contrasts),
        )
        for f in varied
    ]

    interactions = []
    keys = []
    for (group, _), _contrast_test in zip(contrasts, contrast_tests):
        if group not in keys:
            keys.append(group)
    for group in keys:
        mine = [t for (g, _), t in zip(contrasts, contrast_tests) if g == group]
        first = mine[0]
        same = dict(order=first.order, residual=first.residual, match=first.match)
        differences = sorted(
            [
                t
                for t in comparisons
                if t.factor == "activation"
                and t.level == first.level
                and dict(order=t.order, residual=t.residual, match=t.match) == same
            ],
            key=lambda t: segment_key(t.segments),
        )
        rest_label = ", ".join(
            level_name(f, same[f]) for f in ("order", "residual", "match") if f in shown
        )
        interactions.append(_interaction_verdict(first.level, rest_label, differences, mine))

    return FactorReport(
        varied=varied,
        factors=tuple(verdicts),
        interactions=tuple(interactions),
        tests=tuple(done),
        alpha=alpha,
        margin=margin,
        note=VALIDATION_NOTE,
    )

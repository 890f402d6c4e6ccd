"""Comparisons as report results: :class:`Difference`, :class:`Test` and :func:`settle`.

The rules themselves (Student-t and Welch intervals, the paired t-test, TOST, Holm, the
three-way decision over planned looks) live in :mod:`.inference`; this module applies them to
seed-keyed samples and carries the outcome. :class:`Difference` is one comparison of two samples
(its interval and p-value come from the same t distribution, so a 95% CI excluding zero goes
with p < 0.05); :class:`Test` is a difference inside a family, holding its
:class:`.inference.Decision` once :func:`settle` has decided the family. The verdict's
comparisons, the factor tests and the trends (:mod:`.trends`) are all :class:`Test` s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from .. import fmt
from .inference import (
    ALPHA,
    MAX_SEEDS_REPORTED,
    Decision,
    Design,
    Plan,
    decide,
    holm,
    paired_t_p,
    seed_order,
    t_interval,
    welch,
)

__all__ = ["ALPHA", "Difference", "Plan", "Test", "compare", "holm", "seed_order", "settle"]


@dataclass(frozen=True)
class Difference:
    """Mean difference a - b with its 95% t interval and two-sided t-test p-value.

    ``diffs`` holds the per-seed paired differences in seed order (empty unless paired) and
    ``seeds`` their seeds: the family's decision is made from them, at each planned look.
    """

    method: str  # "paired-t" | "welch" | "slope" | "none"
    n_pairs: int
    n_a: int
    n_b: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    diffs: tuple[float, ...] = ()
    seeds: tuple = ()

    @classmethod
    def of_diffs(cls, method: str, diffs, seeds: tuple = (), n_a: int = 0, n_b: int = 0):
        """The mean of per-seed differences ``diffs`` (paired differences, or slopes) with its
        Student-t interval and t-test p-value, both from the same values."""
        diffs = np.asarray(diffs, dtype=float)
        interval = t_interval(diffs)
        return cls(
            method,
            int(diffs.size),
            n_a,
            n_b,
            interval.mean,
            interval.ci_low,
            interval.ci_high,
            paired_t_p(diffs),
            tuple(float(v) for v in diffs),
            tuple(seeds),
        )

    @property
    def excludes_zero(self) -> bool:
        """Whether the 95% interval is defined and lies entirely on one side of zero."""
        return (
            math.isfinite(self.ci_low)
            and math.isfinite(self.ci_high)
            and (self.ci_low > 0 or self.ci_high < 0)
        )


def _decision_value(name: str, default=math.nan):
    def get(self):
        return default if self.decision is None else getattr(self.decision, name)

    return property(get)


@dataclass(frozen=True, kw_only=True)
class Test:
    """A :class:`Difference` decided in a family: its :class:`.inference.Decision`.

    The base of every statistical result of the report; subclasses add what was compared. The
    difference's fields read through (``t.mean_diff``, ``t.ci_low``, ...) and so do the
    decision's (``t.verdict``, ``t.p_holm``, ``t.mde``, ...). Built undecided; :func:`settle`
    decides. A paired comparison can end better / worse / equivalent / undecided; an unpaired
    one stays undecided (the decision rests on per-seed differences).
    """

    difference: Difference
    decision: Decision | None = None
    margin: float = math.nan  # the family's equivalence margin (0: superiority only)
    waiting: int = 0  # paired seeds beyond the deciding look (a round still running)

    method = property(lambda self: self.difference.method)
    n_pairs = property(lambda self: self.difference.n_pairs)
    mean_diff = property(lambda self: self.difference.mean_diff)
    ci_low = property(lambda self: self.difference.ci_low)
    ci_high = property(lambda self: self.difference.ci_high)
    p_value = property(lambda self: self.difference.p_value)
    p_holm = _decision_value("p_adjusted")
    p_equivalence = _decision_value("p_equivalence")
    p_equivalence_holm = _decision_value("p_equivalence_adjusted")
    mde = _decision_value("mde")
    seeds_needed = _decision_value("seeds_needed", None)
    decided_at = _decision_value("decided_at", None)
    within_margin = _decision_value("within_margin", False)

    @property
    def verdict(self) -> str:
        """better | worse | equivalent | undecided (better: a > b decided)."""
        return "undecided" if self.decision is None else self.decision.verdict

    @property
    def conclusive(self) -> bool:
        """Whether a difference was decided (better or worse)."""
        return self.verdict in ("better", "worse")

    def pairs_text(self, unit: str = "") -> str:
        """The pairs the decision tested, and any waiting for the next look: ``3 seeds (+2
        waiting)`` for ``unit=" seeds"``."""
        waiting = f" (+{self.waiting} waiting)" if self.waiting else ""
        return f"{self.n_pairs}{unit}{waiting}"

    def margin_text(self) -> str:
        """``±0.50 pp``: the family's equivalence margin."""
        return "±" + fmt.pp(self.margin).lstrip("+")

    def mde_note(self, per: str = "", what: str = "decide it") -> str:
        """``MDE 1.20 pp at 5 seeds; about 14 seeds would decide it at the observed variance``."""
        if self.decision is None or not math.isfinite(self.mde):
            return "too few paired seeds for an MDE"
        head = f"MDE {fmt.pp(self.mde).lstrip('+')}{per} at {self.decision.interval.n} seeds"
        if self.seeds_needed is None:
            return f"{head}; more than {MAX_SEEDS_REPORTED} seeds would be needed to {what}"
        return f"{head}; about {self.seeds_needed} seeds would {what} at the observed variance"

    def outcome(self) -> str:
        """``better``, ``worse``, ``equivalent within ±0.50 pp`` or ``undecided (MDE ...)``."""
        if self.verdict == "equivalent":
            return f"equivalent within {self.margin_text()}"
        if self.verdict == "undecided":
            return f"undecided ({self.mde_note()})"
        if self.within_margin:
            return f"{self.verdict}, but within {self.margin_text()}"
        return self.verdict


T = TypeVar("T", bound=Test)


def _seen_at(test: Test, diffs: np.ndarray, look: int | None) -> np.ndarray:
    """Which of the paired differences a look at ``look`` seeds sees (a boolean mask; all for None)."""
    if look is None:
        return np.ones(diffs.size, dtype=bool)
    seeds = test.difference.seeds
    if len(seeds) == diffs.size and all(isinstance(s, int | float | np.number) for s in seeds):
        return np.asarray(seeds, dtype=float) < look
    return np.arange(diffs.size) < look


def _as_seen(difference: Difference, seen: np.ndarray) -> Difference:
    """``difference`` restricted to the paired seeds the deciding look saw (``seen``, a mask).

    The interval, p-value and pairs a report shows must be those its verdict was decided on: a
    round still running has seeds the last completed look did not test.
    """
    if seen.all():
        return difference
    kept = np.asarray(difference.diffs, dtype=float)[seen]
    seeds = tuple(s for s, keep in zip(difference.seeds, seen) if keep)
    return Difference.of_diffs(difference.method, kept, seeds, difference.n_a, difference.n_b)


def _round_finished(so_far: Sequence[Decision], diffs, seen, look: int | None) -> bool:
    """Whether the look at ``look`` seeds is complete: every comparison still undecided before it
    has all of its ``look`` paired seeds. Until then the round is running (or a trial of it was
    lost), and testing its first seeds would be an unplanned look."""
    return all(
        int(mask.sum()) >= (look or 0)
        for decision, d, mask in zip(so_far, diffs, seen)
        if d.size and decision.verdict == "undecided"
    )


def settle(tests: Sequence[T], plan: Plan | Design | None = None) -> list[T]:
    """The tests of one family, decided by :func:`.inference.decide` over the plan's looks.

    Look k uses each comparison's paired differences of the seeds below n_k (the seeds a
    sequential sweep had trained at that look; the first n_k differences when the seeds are not
    known); Holm runs over the family at each look, at ``alpha / looks``. A test without paired
    differences takes no part (its adjusted p-values stay NaN and it stays undecided). Each test
    comes back showing the difference of the last look (its pairs, interval and p), and
    ``waiting`` counts the paired seeds beyond it, which wait for the next planned look. A later
    look counts only once its round is complete (:func:`_round_finished`).
    """
    if plan is None:
        plan = Plan(Design(), math.nan, "default")
    elif isinstance(plan, Design):
        plan = Plan(plan, plan.margin * 100.0, "default")
    diffs = [np.asarray(t.difference.diffs, dtype=float) for t in tests]
    if not tests:
        return []
    masks, by_look, decisions = [], [], []
    for look in plan.looks_at(max(d.size for d in diffs)):
        seen = [_seen_at(t, d, look) for t, d in zip(tests, diffs)]
        if by_look and not _round_finished(decisions, diffs, seen, look):
            break
        masks.append(seen)
        by_look.append([d[m] for d, m in zip(diffs, seen)])
        decisions = decide(by_look, plan.design)
    return [
        replace(
            t,
            difference=_as_seen(t.difference, seen),
            decision=dec,
            margin=plan.design.margin,
            waiting=int((~seen).sum()),
        )
        for t, dec, seen in zip(tests, decisions, masks[-1])
    ]


def compare(a_by_seed: dict, b_by_seed: dict) -> Difference:
    """Compare two samples keyed by training seed.

    With at least two common seeds the samples are paired by seed (paired t-test and Student-t
    interval of the mean paired difference); otherwise, with at least two values on each side,
    Welch's t-test and interval; otherwise only the difference of means is given. NaN values are
    dropped first; a degenerate test (zero variance) gives a NaN p-value unless the differences
    are constant and non-zero.
    """
    a = {k: float(v) for k, v in a_by_seed.items() if v is not None and math.isfinite(float(v))}
    b = {k: float(v) for k, v in b_by_seed.items() if v is not None and math.isfinite(float(v))}
    common = sorted(set(a) & set(b), key=seed_order)
    xa, xb = np.array(list(a.values())), np.array(list(b.values()))
    mean_diff = float(xa.mean() - xb.mean()) if xa.size and xb.size else math.nan
    if len(common) >= 2:
        diffs = [a[k] - b[k] for k in common]
        return Difference.of_diffs("paired-t", diffs, tuple(common), xa.size, xb.size)
    if xa.size >= 2 and xb.size >= 2:
        diff, low, high, p = welch(xa, xb)
        return Difference("welch", len(common), xa.size, xb.size, diff, low, high, p)
    return Difference(
        "none", len(common), xa.size, xb.size, mean_diff, math.nan, math.nan, math.nan
    )

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
    Decision,
    Design,
    decide,
    holm,
    paired_t_p,
    seed_order,
    t_interval,
    welch,
)
from .looks import Plan
from .power import MAX_SEEDS_REPORTED

__all__ = ["ALPHA", "Difference", "Plan", "Test", "compare", "holm", "seed_order", "settle"]


@dataclass(frozen=True)
class Difference:
    """Mean difference a - b with its 95% t interval and two-sided t-test p-value.

    ``diffs`` holds the per-seed paired differences in seed order (empty unless paired) and
    ``seeds`` their seeds: the family's decision is made from them, at each planned look.
    ``unpaired`` holds the integer seeds only one side has (a trial lost on the other side, or a
    configuration that stopped earlier in a sequential sweep).
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
    unpaired: tuple[int, ...] = ()

    @classmethod
    def of_diffs(
        cls,
        method: str,
        diffs,
        seeds: tuple = (),
        n_a: int = 0,
        n_b: int = 0,
        *,
        unpaired: tuple[int, ...] = (),
        resolution: float = 0.0,
    ):
        """The mean of per-seed differences ``diffs`` (paired differences, or slopes) with its
        Student-t interval and t-test p-value, both from the same values (neither at a tie:
        :func:`.inference.no_evidence`)."""
        diffs = np.asarray(diffs, dtype=float)
        interval = t_interval(diffs, resolution=resolution)
        return cls(
            method,
            int(diffs.size),
            n_a,
            n_b,
            interval.mean,
            interval.ci_low,
            interval.ci_high,
            paired_t_p(diffs, resolution),
            tuple(float(v) for v in diffs),
            tuple(seeds),
            tuple(unpaired),
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
    lost: int = 0  # seeds below the deciding look that only one side has (a trial lost)
    look: int | None = None  # seeds of the family's last complete look (None: all seeds)

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
        """The pairs the decision tested, any lost below its look and any waiting for the next
        look: ``5 seeds (1 lost, +2 waiting)`` for ``unit=" seeds"``."""
        notes = [f"{self.lost} lost"] if self.lost else []
        notes += [f"+{self.waiting} waiting"] if self.waiting else []
        return f"{self.n_pairs}{unit}" + (f" ({', '.join(notes)})" if notes else "")

    def margin_text(self) -> str:
        """``±0.50 pp``: the family's equivalence margin."""
        return "±" + fmt.pp(self.margin).lstrip("+")

    def mde_note(self, per: str = "", what: str = "decide it") -> str:
        """``MDE 1.20 pp at 5 seeds; about 14 seeds would decide it at the observed variance``."""
        if self.decision is None and self.waiting:
            return "waiting for the first planned look"
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
    if len(seeds) == diffs.size and all(_is_seed(s) for s in seeds):
        return np.asarray(seeds, dtype=float) < look
    return np.arange(diffs.size) < look


def _is_seed(key) -> bool:
    return isinstance(key, int | float | np.number) and not isinstance(key, bool)


def _top(test: Test, diffs: np.ndarray) -> int:
    """One past the highest seed either side of a comparison has (its pairs when seeds are not
    known): how far the study got, lost trials included."""
    seeds = [s for s in (*test.difference.seeds, *test.difference.unpaired) if _is_seed(s)]
    if len(test.difference.seeds) == diffs.size and seeds:
        return int(max(seeds)) + 1
    return int(diffs.size)


def _as_seen(difference: Difference, seen: np.ndarray, resolution: float) -> Difference:
    """``difference`` restricted to the paired seeds the deciding look saw (``seen``, a mask).

    The interval, p-value and pairs a report shows must be those its verdict was decided on: a
    round still running has seeds the last completed look did not test; and at a tie (a
    standard deviation at or below the ``resolution``) there is neither interval nor p.
    """
    if not difference.diffs or (seen.all() and resolution <= 0):
        return difference
    kept = np.asarray(difference.diffs, dtype=float)[seen]
    seeds = tuple(s for s, keep in zip(difference.seeds, seen) if keep)
    return Difference.of_diffs(
        difference.method,
        kept,
        seeds,
        difference.n_a,
        difference.n_b,
        unpaired=difference.unpaired,
        resolution=resolution,
    )


def _round_finished(so_far, diffs, seen, look: int | None) -> bool:
    """Without knowing the study's pending trials: whether every comparison still undecided
    (``so_far[j]`` None or undecided) has all of its ``look`` paired seeds. Until then the round
    may be running, and testing its first seeds would be an unplanned look."""
    return all(
        int(mask.sum()) >= (look or 0)
        for decision, d, mask in zip(so_far, diffs, seen)
        if d.size and (decision is None or decision.verdict == "undecided")
    )


def _lost(test: Test, look: int | None, pending: frozenset | None) -> int:
    """Seeds below ``look`` that only one side of ``test`` has and that no trial will still fill."""
    return sum(
        1
        for s in test.difference.unpaired
        if (look is None or s < look) and (pending is None or s not in pending)
    )


def settle(tests: Sequence[T], plan: Plan | Design | None = None) -> list[T]:
    """The tests of one family, decided by :func:`.inference.decide` over the plan's looks.

    Look k uses each comparison's paired differences of the seeds below n_k (the seeds a
    sequential sweep had trained at that look; the first n_k differences when the seeds are not
    known); Holm runs over the family at each look, at ``alpha / looks``. A look counts once it
    is complete (:meth:`.looks.Plan.looks_at`; without the study's pending seeds, once every
    comparison still undecided has all its pairs): a look over a lost trial tests the pairs
    present, and each test states the seeds it lost below its deciding look (``lost``). A test
    without paired differences takes no part (its adjusted p-values stay NaN and it stays
    undecided). Each test comes back showing the difference of the last look (its pairs,
    interval and p), and ``waiting`` counts the paired seeds beyond it. Before the first planned
    look nothing is tested.
    """
    if plan is None:
        plan = Plan(Design(), Design().margin * 100.0, "default")
    elif isinstance(plan, Design):
        plan = Plan(plan, plan.margin * 100.0, "default")
    if not tests:
        return []
    diffs = [np.asarray(t.difference.diffs, dtype=float) for t in tests]
    top = max(_top(t, d) for t, d in zip(tests, diffs))
    resolution = plan.design.resolution
    masks, by_look, looks = [], [], []
    decisions: list = [None] * len(tests)
    deciding: list[int | None] = [None] * len(tests)
    for look in plan.looks_at(top):
        seen = [_seen_at(t, d, look) for t, d in zip(tests, diffs)]
        if plan.pending is None and not _round_finished(decisions, diffs, seen, look):
            break
        masks.append(seen)
        looks.append(look)
        by_look.append([d[m] for d, m in zip(diffs, seen)])
        decisions = decide(by_look, plan.design)
        for j, decision in enumerate(decisions):
            if deciding[j] is None and decision.verdict != "undecided":
                deciding[j] = len(looks) - 1
    if not masks:  # before the first planned look: nothing tested, every pair waits
        seen = [np.zeros(d.size, dtype=bool) for d in diffs]
        return [
            replace(
                t,
                difference=_as_seen(t.difference, m, resolution),
                margin=plan.design.margin,
                waiting=int(d.size),
            )
            for t, d, m in zip(tests, diffs, seen)
        ]
    out = []
    for j, t in enumerate(tests):
        seen = masks[-1][j]
        look = looks[-1 if deciding[j] is None else deciding[j]]
        out.append(
            replace(
                t,
                difference=_as_seen(t.difference, seen, resolution),
                decision=decisions[j],
                margin=plan.design.margin,
                waiting=int((~seen).sum()),
                lost=_lost(t, look, plan.pending),
                look=looks[-1],
            )
        )
    return out


def compare(a_by_seed: dict, b_by_seed: dict) -> Difference:
    """Compare two samples keyed by training seed.

    With at least two common seeds the samples are paired by seed (paired t-test and Student-t
    interval of the mean paired difference); otherwise, with at least two values on each side,
    Welch's t-test and interval; otherwise only the difference of means is given. NaN values are
    dropped first; tied differences (zero variance) give neither interval nor p-value.
    """
    a = {k: float(v) for k, v in a_by_seed.items() if v is not None and math.isfinite(float(v))}
    b = {k: float(v) for k, v in b_by_seed.items() if v is not None and math.isfinite(float(v))}
    common = sorted(set(a) & set(b), key=seed_order)
    xa, xb = np.array(list(a.values())), np.array(list(b.values()))
    mean_diff = float(xa.mean() - xb.mean()) if xa.size and xb.size else math.nan
    if len(common) >= 2:
        diffs = [a[k] - b[k] for k in common]
        unpaired = tuple(sorted(int(k) for k in set(a) ^ set(b) if _is_seed(k)))
        return Difference.of_diffs(
            "paired-t", diffs, tuple(common), xa.size, xb.size, unpaired=unpaired
        )
    if xa.size >= 2 and xb.size >= 2:
        diff, low, high, p = welch(xa, xb)
        return Difference("welch", len(common), xa.size, xb.size, diff, low, high, p)
    return Difference(
        "none", len(common), xa.size, xb.size, mean_diff, math.nan, math.nan, math.nan
    )

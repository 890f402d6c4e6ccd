"""The statistical front: which configurations are non-dominated once seed noise is counted. Pure.

A search scores each configuration with one seed, so its Pareto front is partly a draw of the
noise. Here the candidates near the front are given several seeds and every pair is decided:

- costs (params, FLOPs) are exact counts, so "j costs no more than i" is simply true or false;
  a measured latency comes with the distribution-free 95% interval of its median (order
  statistics, :func:`spectrum.cost.latency.median_interval`): j costs no more when its
  interval's upper end is at or below the lower end of i's, more when its lower end is above
  the upper end of i's, and the cost comparison is undecided when they overlap;
- accuracy (percentage points) is compared by Welch's t interval (:func:`.inference.welch`, the
  project's interval for unpaired samples), one-sided at ``alpha / looks`` on each side
  (Bonferroni over the planned looks, as the sequential sweeps do): j *dominates* i when it costs
  no more and the interval of acc_j - acc_i lies above 0; j *does not dominate* i when the
  interval lies below ``margin`` (j is not better by more than the equivalence margin, the TOST
  side of the same interval); otherwise the pair is *undecided*.

A configuration is **dominated** when some candidate decidedly dominates it, **non-dominated**
when every candidate not decidedly costing more decidedly does not (an undecided cost still
lets j not dominate i when j is not better beyond the margin), and **undecided** otherwise.
:func:`sequential_front` adds seeds (``step`` at a time, up to ``max_seeds``) only to the
configurations in undecided pairs that more seeds can decide (not those where accuracy is decided
and only the latency intervals overlap), re-deciding after each round. :func:`hypervolume` measures
a two-objective front (accuracy up, cost down) for comparing searches; :func:`noise_band` turns
repeated runs of one configuration into the front pruner's seed-noise band, and :func:`curve_noise`
gives that seed SD per epoch from repeated runs' curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import SpecError
from ..records import DEFAULT_MARGIN_PP
from .inference import ALPHA, welch

NON_DOMINATED, DOMINATED, UNDECIDED = "non-dominated", "dominated", "undecided"


@dataclass(frozen=True)
class FrontRule:
    """Seeds per candidate (first look, step, most) and the test's level and margin (pp)."""

    start: int = 3
    step: int = 2
    max_seeds: int = 7
    alpha: float = ALPHA
    margin_pp: float = DEFAULT_MARGIN_PP

    def __post_init__(self) -> None:
        if self.start < 2:
            raise SpecError(
                f"the statistical front needs >= 2 seeds per candidate, got {self.start}"
            )
        if self.max_seeds < self.start:
            raise SpecError(
                f"--confirm {self.max_seeds}: give at least {self.start} seeds per candidate"
            )
        if self.step < 1 or not 0 < self.alpha < 1 or not self.margin_pp > 0:
            raise SpecError("front rule: step >= 1, 0 < alpha < 1 and margin > 0 are required")

    @property
    def looks(self) -> int:
        return 1 + math.ceil((self.max_seeds - self.start) / self.step)

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "step": self.step,
            "max_seeds": self.max_seeds,
            "alpha": self.alpha,
            "margin_pp": self.margin_pp,
        }


@dataclass(frozen=True)
class Pair:
    """Candidate j against candidate i (j costs no more): acc_j - acc_i and its interval (pp)."""

    i: int
    j: int
    diff: float
    low: float
    high: float
    outcome: str  # "dominates" | "does not dominate" | "undecided"
    cost: str = "no more"  # "no more" | "undecided" (latency intervals overlap)

    @property
    def seeds_can_decide(self) -> bool:
        """Whether more seeds could decide it: not when only the cost is left undecided."""
        return self.outcome == "undecided" and not (self.cost == UNDECIDED and self.low > 0)


@dataclass
class FrontDecision:
    status: list[str]
    pairs: list[Pair] = field(default_factory=list)

    def dominated_by(self, i: int) -> list[int]:
        return [p.j for p in self.pairs if p.i == i and p.outcome == "dominates"]

    def undecided_with(self, i: int) -> list[int]:
        return [p.j for p in self.pairs if p.i == i and p.outcome == "undecided"]

    def undecided_members(self) -> set[int]:
        """Configurations in an undecided pair of a configuration not yet decided dominated."""
        members: set[int] = set()
        for p in self.pairs:
            if p.seeds_can_decide and self.status[p.i] == UNDECIDED:
                members.update((p.i, p.j))
        return members


def cost_order(low: np.ndarray, high: np.ndarray, j: int, i: int) -> str:
    """j against i on every cost: "more" (some cost decidedly more), "no more" (every cost
    decidedly no more) or "undecided". Exact counts have ``low == high``."""
    if np.any(low[j] > high[i]):
        return "more"
    if np.all(high[j] <= low[i]):
        return "no more"
    return UNDECIDED


def _compare(acc_j: np.ndarray, acc_i: np.ndarray, rule: FrontRule) -> tuple[float, float, float]:
    level = 1 - 2 * rule.alpha / rule.looks  # one-sided alpha/looks on each side
    diff, low, high, _ = welch(acc_j, acc_i, level=level)
    if math.isnan(low) and len(acc_j) >= 2 and len(acc_i) >= 2:  # both constant: exact
        low = high = diff
    return diff, low, high


def _bounds(costs, cost_high, n: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.asarray(costs, dtype=float).reshape(n, -1)
    high = low if cost_high is None else np.asarray(cost_high, dtype=float).reshape(n, -1)
    if high.shape != low.shape or np.any(high < low):
        raise SpecError("cost intervals: give a high end >= the low end for every cost")
    return low, high


def decide_front(
    costs, accuracies: Sequence[Sequence[float]], rule: FrontRule, cost_high=None
) -> FrontDecision:
    """Classify every configuration (rows of ``costs``, seeds' accuracies in pp) once.

    ``costs`` are exact counts, or the low ends of cost intervals whose high ends are
    ``cost_high`` (the same shape; a count has the same value in both).
    """
    samples = [np.asarray(a, dtype=float) for a in accuracies]
    n = len(samples)
    low_cost, high_cost = _bounds(costs, cost_high, n)
    pairs: list[Pair] = []
    status = []
    for i in range(n):
        outcomes = []
        for j in range(n):
            order = "more" if j == i else cost_order(low_cost, high_cost, j, i)
            if order == "more":
                continue
            diff, low, high = _compare(samples[j], samples[i], rule)
            if low > 0 and order == "no more":
                outcome = "dominates"
            elif high < rule.margin_pp:
                outcome = "does not dominate"
            else:
                outcome = "undecided"
            pairs.append(Pair(i, j, diff, low, high, outcome, order))
            outcomes.append(outcome)
        if "dominates" in outcomes:
            status.append(DOMINATED)
        elif "undecided" in outcomes:
            status.append(UNDECIDED)
        else:
            status.append(NON_DOMINATED)
    return FrontDecision(status, pairs)


@dataclass
class SequentialFront:
    decision: FrontDecision
    accuracies: list[list[float]]
    looks: int  # looks taken (1 = decided on the first seeds)

    @property
    def seeds_used(self) -> int:
        return sum(len(a) for a in self.accuracies)


def sequential_front(
    costs,
    first: Sequence[Sequence[float]],
    draw: Callable[[int, int], float],
    rule: FrontRule,
    cost_high=None,
) -> SequentialFront:
    """Decide the front, adding seeds where it is undecided.

    ``first[i]`` holds the accuracies (pp) configuration i already has (its search trial, and
    any seeds from an earlier, resumed run); ``draw(i, k)`` trains configuration i with its k-th
    seed (k = 0 is the search's own seed) and returns the accuracy in pp. ``costs`` and
    ``cost_high`` as in :func:`decide_front`.
    """
    accuracies = [list(a) for a in first]

    def fill(i: int, n: int) -> None:
        while len(accuracies[i]) < n:
            accuracies[i].append(float(draw(i, len(accuracies[i]))))

    for i in range(len(accuracies)):
        fill(i, rule.start)
    looks = 1
    decision = decide_front(costs, accuracies, rule, cost_high)
    while looks < rule.looks:
        todo = sorted(decision.undecided_members())
        if not todo:
            break
        target = rule.start + looks * rule.step
        for i in todo:
            fill(i, min(target, rule.max_seeds))
        looks += 1
        decision = decide_front(costs, accuracies, rule, cost_high)
    return SequentialFront(decision, accuracies, looks)


def hypervolume(accuracy, cost, ref_accuracy: float, ref_cost: float) -> float:
    """Area dominated by the points (accuracy maximised, cost minimised) within the reference.

    Points worse than the reference in either objective add nothing. Callers pass log10 costs
    when costs span orders of magnitude, so that every decade weighs the same.
    """
    acc = np.asarray(accuracy, dtype=float)
    c = np.asarray(cost, dtype=float)
    keep = np.isfinite(acc) & np.isfinite(c) & (acc > ref_accuracy) & (c < ref_cost)
    area, best = 0.0, ref_accuracy
    for ci, ai in sorted(zip(c[keep], acc[keep]), key=lambda p: (p[0], -p[1])):
        if ai > best:
            area += (ref_cost - ci) * (ai - best)
            best = ai
    return float(area)


def _pooled(groups: Iterable[Sequence[float]]) -> tuple[float, int]:
    """(pooled within-group SD, degrees of freedom); NaN and 0 when no group has two values."""
    ss, df = 0.0, 0
    for values in groups:
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size >= 2:
            ss += float(((x - x.mean()) ** 2).sum())
            df += x.size - 1
    return (math.sqrt(ss / df), df) if df else (math.nan, 0)


def noise_band(groups: Iterable[Sequence[float]], z: float = 1.645) -> tuple[float, float, int]:
    """(band, pooled seed SD, degrees of freedom) from groups of repeated runs of one config.

    The band is ``z * sqrt(2) * sd``: a one-sided bound on the difference of two single-seed
    runs. NaN when no group has two runs.
    """
    sd, df = _pooled(groups)
    return z * math.sqrt(2.0) * sd, sd, df


def curve_noise(groups: Iterable[Sequence[Sequence[float]]]) -> dict[int, tuple[float, int]]:
    """{epoch (from 1): (pooled seed SD, degrees of freedom)} from groups of repeated runs' curves.

    Each group holds the per-epoch accuracies of one configuration's seeds; a run contributes at
    the epochs its curve reaches. Epochs where no group has two runs are left out.
    """
    by_epoch: dict[int, list[list[float]]] = {}
    for group in groups:
        per_epoch: dict[int, list[float]] = {}
        for curve in group:
            for k, value in enumerate(curve, start=1):
                per_epoch.setdefault(k, []).append(float(value))
        for k, values in per_epoch.items():
            by_epoch.setdefault(k, []).append(values)
    out = {}
    for k in sorted(by_epoch):
        sd, df = _pooled(by_epoch[k])
        if df:
            out[k] = (sd, df)
    return out

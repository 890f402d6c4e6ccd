"""The statistical front: which configurations are non-dominated once seed noise is counted. Pure.

A search scores each configuration with one seed, so its Pareto front is partly a draw of the
noise. Here the candidates near the front are given several seeds and every pair is decided:

- costs (params, FLOPs) are exact counts, so "j costs no more than i" is simply true or false;
- accuracy (percentage points) is compared by Welch's t interval (:func:`.inference.welch`, the
  project's interval for unpaired samples), one-sided at ``alpha / looks`` on each side
  (Bonferroni over the planned looks, as the sequential sweeps do): j *dominates* i when it costs
  no more and the interval of acc_j - acc_i lies above 0; j *does not dominate* i when the
  interval lies below ``margin`` (j is not better by more than the equivalence margin, the TOST
  side of the same interval); otherwise the pair is *undecided*.

A configuration is **dominated** when some candidate decidedly dominates it, **non-dominated**
when every candidate costing no more decidedly does not, and **undecided** otherwise.
:func:`sequential_front` adds seeds (``step`` at a time, up to ``max_seeds``) only to the
configurations in undecided pairs, re-deciding after each round. :func:`hypervolume` measures a
two-objective front (accuracy up, cost down) for comparing searches; :func:`noise_band` turns
repeated runs of one configuration into the front pruner's seed-noise band.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...errors import SpecError
from ...records import DEFAULT_MARGIN_PP
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
            if p.outcome == "undecided" and self.status[p.i] == UNDECIDED:
                members.update((p.i, p.j))
        return members


def costs_no_more(costs: np.ndarray, j: int, i: int) -> bool:
    """Exact counts: j costs no more than i in every cost."""
    return bool(np.all(costs[j] <= costs[i]))


def _compare(acc_j: np.ndarray, acc_i: np.ndarray, rule: FrontRule) -> tuple[float, float, float]:
    level = 1 - 2 * rule.alpha / rule.looks  # one-sided alpha/looks on each side
    diff, low, high, _ = welch(acc_j, acc_i, level=level)
    if math.isnan(low) and len(acc_j) >= 2 and len(acc_i) >= 2:  # both constant: exact
        low = high = diff
    return diff, low, high


def decide_front(costs, accuracies: Sequence[Sequence[float]], rule: FrontRule) -> FrontDecision:
    """Classify every configuration (rows of ``costs``, seeds' accuracies in pp) once."""
    costs = np.asarray(costs, dtype=float).reshape(len(accuracies), -1)
    samples = [np.asarray(a, dtype=float) for a in accuracies]
    n = len(samples)
    pairs: list[Pair] = []
    status = []
    for i in range(n):
        outcomes = []
        for j in range(n):
            if j == i or not costs_no_more(costs, j, i):
                continue
            diff, low, high = _compare(samples[j], samples[i], rule)
            if low > 0:
                outcome = "dominates"
            elif high < rule.margin_pp:
                outcome = "does not dominate"
            else:
                outcome = "undecided"
            pairs.append(Pair(i, j, diff, low, high, outcome))
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
) -> SequentialFront:
    """Decide the front, adding seeds where it is undecided.

    ``first[i]`` holds the accuracies (pp) configuration i already has (its search trial, and
    any seeds from an earlier, resumed run); ``draw(i, k)`` trains configuration i with its k-th
    seed (k = 0 is the search's own seed) and returns the accuracy in pp.
    """
    accuracies = [list(a) for a in first]

    def fill(i: int, n: int) -> None:
        while len(accuracies[i]) < n:
            accuracies[i].append(float(draw(i, len(accuracies[i]))))

    for i in range(len(accuracies)):
        fill(i, rule.start)
    looks = 1
    decision = decide_front(costs, accuracies, rule)
    while looks < rule.looks:
        todo = sorted(decision.undecided_members())
        if not todo:
            break
        target = rule.start + looks * rule.step
        for i in todo:
            fill(i, min(target, rule.max_seeds))
        looks += 1
        decision = decide_front(costs, accuracies, rule)
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


def noise_band(groups: Iterable[Sequence[float]], z: float = 1.645) -> tuple[float, float, int]:
    """(band, pooled seed SD, degrees of freedom) from groups of repeated runs of one config.

    The band is ``z * sqrt(2) * sd``: a one-sided bound on the difference of two single-seed
    runs. NaN when no group has two runs.
    """
    ss, df = 0.0, 0
    for values in groups:
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size >= 2:
            ss += float(((x - x.mean()) ** 2).sum())
            df += x.size - 1
    if df == 0:
        return math.nan, math.nan, 0
    sd = math.sqrt(ss / df)
    return z * math.sqrt(2.0) * sd, sd, df

"""Small-sample inference for comparisons over paired seeds: intervals, tests and decisions.

Owns the statistics a verdict rests on, as pure functions of per-seed numbers:

- Student-t intervals of a mean (they keep their nominal coverage at any n under normal noise,
  and were checked by simulation under heavy tails; the percentile bootstrap does not at n < 10);
- the paired t-test, and two one-sided tests (TOST) for equivalence within a margin, from the same
  t distribution as the interval, so an interval excluding zero always goes with p < 1 - level;
- :func:`decide`: the three-way verdict of a family of comparisons (better / worse / equivalent
  within the margin / undecided), Holm-corrected over the family for superiority and for
  equivalence alike, at a level split evenly over the planned looks of a sequential design
  (Bonferroni over looks), so adding seeds after looking does not inflate the error rates;
- the minimum detectable effect at the current n and the seeds that would decide a comparison at
  its observed variance (:mod:`.power`);
- ties: accuracies move in steps of 1 / test-set size, so paired differences whose standard
  deviation is at or below that resolution carry no evidence of a difference (or of
  equivalence): such a test has no p-value and its interval no bounds, and it stays undecided;
- per-seed contrasts (a slope over log2 g) that pool the seeds of every g into one test;
- the Holm correction and Welch's interval for unpaired samples (each rule lives here once;
  :mod:`.stats` applies them to seed-keyed samples);
- a study's :class:`~.looks.Plan` (margin and planned looks) lives in :mod:`.looks`.

One unit end to end: accuracies and their differences are fractions (0.005 = 0.5 pp), and so are
:class:`Design`'s margin and resolution; :class:`Design` refuses a margin that can only be a
percentage-point value, and :func:`decide` refuses differences beyond +-1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from ..records import DEFAULT_MARGIN_PP
from .power import (
    TIE_TOLERANCE,
    minimum_detectable_effect,
    seeds_to_decide,
)

ALPHA = 0.05
MAX_MARGIN = 0.2  # accuracy fraction (20 pp): a larger margin is a pp value passed by mistake

Verdict = Literal["better", "worse", "equivalent", "undecided"]


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def seed_order(key) -> tuple:
    """Sort key of seed-keyed samples: integer seeds and ``"trial N"`` keys never compare."""
    return (str(type(key)), key)


def holm(p_values) -> list[float]:
    """Holm step-down adjusted p-values, in the input order.

    With m finite p-values sorted ascending p(1) <= ... <= p(m), the adjusted value of p(k) is
    max over j <= k of min(1, (m - j + 1) p(j)): monotone in the sorted order and capped at 1.
    NaN entries are not counted in m and stay NaN.
    """
    p = [float(v) if v is not None else math.nan for v in p_values]
    finite = [i for i, v in enumerate(p) if math.isfinite(v)]
    adjusted = [math.nan] * len(p)
    m = len(finite)
    running = 0.0
    for rank, index in enumerate(sorted(finite, key=lambda i: (p[i], i))):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class MeanInterval:
    """Mean of n values with its Student-t interval at ``level`` (NaN bounds below n = 2)."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float


def no_evidence(sd: float, resolution: float = 0.0) -> bool:
    """Whether a standard deviation is at or below the accuracy resolution (a tie, in effect).

    Accuracies on a grid of 1 / test-set size tie often at 2-3 seeds; a t statistic over a zero
    (or grid-sized) standard deviation is unbounded and would decide anything.
    """
    return sd <= max(resolution, TIE_TOLERANCE)


def t_interval(values, level: float = 1 - ALPHA, resolution: float = 0.0) -> MeanInterval:
    """Student-t interval of the mean; NaN bounds below 2 values or at :func:`no_evidence`."""
    x = _finite(values)
    if x.size == 0:
        return MeanInterval(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if x.size < 2:
        return MeanInterval(1, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    if no_evidence(sd, resolution):
        return MeanInterval(int(x.size), mean, sd, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return MeanInterval(int(x.size), mean, sd, mean - half, mean + half)


def welch(a, b, level: float = 1 - ALPHA) -> tuple[float, float, float, float]:
    """mean(a) - mean(b), its Welch t interval at ``level`` and the two-sided Welch p-value.

    NaN interval and p below two values a side, or when both samples are constant.
    """
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return (math.nan, math.nan, math.nan, math.nan)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return (diff, math.nan, math.nan, math.nan)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return (diff, math.nan, math.nan, math.nan)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return (diff, diff - half, diff + half, p)


def paired_t_p(diffs, resolution: float = 0.0) -> float:
    """Two-sided p-value of the paired t-test that the mean difference is 0 (NaN at a tie)."""
    x = _finite(diffs)
    if x.size < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    if no_evidence(sd, resolution):
        return math.nan
    t = float(x.mean()) / (sd / math.sqrt(x.size))
    return float(2 * stats.t.sf(abs(t), x.size - 1))


def tost_p(diffs, margin: float, resolution: float = 0.0) -> float:
    """p-value of equivalence within (-margin, +margin): the larger of the two one-sided tests.

    NaN below 2 values and at :func:`no_evidence`."""
    x = _finite(diffs)
    if x.size < 2:
        return math.nan
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    if no_evidence(sd, resolution):
        return math.nan
    se = sd / math.sqrt(x.size)
    lower = stats.t.sf((mean + margin) / se, x.size - 1)  # H0: mean <= -margin
    upper = stats.t.cdf((mean - margin) / se, x.size - 1)  # H0: mean >= +margin
    return float(max(lower, upper))


@dataclass(frozen=True)
class Decision:
    """One comparison's paired difference, tests and three-way verdict."""

    interval: MeanInterval  # of the paired differences (a - b), 95% Student-t
    p_value: float  # paired t, two-sided, unadjusted
    p_adjusted: float  # Holm over the family
    p_equivalence: float  # TOST within the margin, unadjusted
    p_equivalence_adjusted: float  # Holm over the family
    verdict: Verdict
    within_margin: bool  # equivalence also holds (e.g. a tiny but certain difference)
    decided_at: int | None  # seeds at the look that decided it (None: undecided)
    mde: float  # minimum detectable effect at the current n and per-comparison level
    seeds_needed: int | None  # at the observed sd and mean, at the same level


@dataclass(frozen=True)
class Design:
    """The error budget of a family: level, margin, the planned looks (1 = fixed n), and the
    accuracy resolution (1 / test-set size; 0 when unknown). Margin and resolution are accuracy
    fractions, like the differences decided."""

    alpha: float = ALPHA
    margin: float = DEFAULT_MARGIN_PP / 100.0
    looks: int = 1
    resolution: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.margin < MAX_MARGIN:
            raise ValueError(
                f"Design.margin is an accuracy fraction in [0, {MAX_MARGIN}) (0.005 = 0.5 pp), "
                f"got {self.margin!r}: a percentage-point value?"
            )
        if not 0.0 <= self.resolution < MAX_MARGIN:
            raise ValueError(f"Design.resolution is an accuracy fraction, got {self.resolution!r}")

    @property
    def alpha_per_look(self) -> float:
        return self.alpha / self.looks


def _one_look(diffs: Sequence[np.ndarray], design: Design):
    p = [paired_t_p(d, design.resolution) for d in diffs]
    p_eq = [tost_p(d, design.margin, design.resolution) for d in diffs]
    return p, holm(p), p_eq, holm(p_eq)


def _check_fractions(diffs_by_look) -> None:
    for diffs in diffs_by_look:
        for d in diffs:
            x = _finite(d)
            if x.size and float(np.abs(x).max()) > 1.0:
                raise ValueError(
                    "paired differences of accuracies are fractions within [-1, 1], got "
                    f"{float(np.abs(x).max())!r}: percentage points?"
                )


def decide(
    diffs_by_look: Sequence[Sequence[np.ndarray]], design: Design = Design()
) -> list[Decision]:
    """Verdicts for a family of paired comparisons observed at one or more looks.

    ``diffs_by_look[k][j]`` holds comparison j's paired differences at look k (the first n_k
    seeds). A comparison is decided at the first look where its Holm-adjusted superiority p (its
    sign gives better or worse) or its Holm-adjusted TOST p falls to ``alpha / looks``; once decided
    it stays decided. The numbers reported are those of the last look.
    """
    if not diffs_by_look:
        return []
    _check_fractions(diffs_by_look)
    level = design.alpha_per_look
    m = len(diffs_by_look[-1])
    decided: list[tuple[Verdict, bool, int] | None] = [None] * m
    for diffs in diffs_by_look:
        _, p_adj, _, p_eq_adj = _one_look(diffs, design)
        for j, d in enumerate(diffs):
            if decided[j] is not None:
                continue
            x = _finite(d)
            different = math.isfinite(p_adj[j]) and p_adj[j] <= level
            equivalent = math.isfinite(p_eq_adj[j]) and p_eq_adj[j] <= level
            if different:
                decided[j] = ("better" if x.mean() > 0 else "worse", equivalent, x.size)
            elif equivalent:
                decided[j] = ("equivalent", True, x.size)
    p, p_adj, p_eq, p_eq_adj = _one_look(diffs_by_look[-1], design)
    per_comparison = level / max(m, 1)  # Bonferroni bound on Holm's first step: conservative
    out = []
    for j, d in enumerate(diffs_by_look[-1]):
        interval = t_interval(d, resolution=design.resolution)
        verdict, within, at = decided[j] if decided[j] else ("undecided", False, None)
        needed = None
        if verdict == "undecided":
            needed = seeds_to_decide(
                interval.mean,
                interval.sd,
                interval.n,
                per_comparison,
                design.margin,
                design.resolution,
            )
        out.append(
            Decision(
                interval,
                p[j],
                p_adj[j],
                p_eq[j],
                p_eq_adj[j],
                verdict,
                within,
                at,
                minimum_detectable_effect(interval.sd, interval.n, per_comparison),
                needed,
            )
        )
    return out


def paired(a_by_seed: Mapping, b_by_seed: Mapping, seeds: Sequence | None = None) -> np.ndarray:
    """a - b over the seeds both have (restricted to ``seeds`` when given), in seed order."""
    common = sorted(set(a_by_seed) & set(b_by_seed), key=seed_order)
    if seeds is not None:
        allowed = set(seeds)
        common = [k for k in common if k in allowed]
    return np.array([float(a_by_seed[k]) - float(b_by_seed[k]) for k in common], dtype=float)


def slope_seeds(values_by_x: Mapping[float, Mapping], seeds: Sequence | None = None) -> list:
    """The seeds present at every x (restricted to ``seeds`` when given), in seed order: the
    seeds of :func:`per_seed_slopes`' slopes."""
    if len(values_by_x) < 2:
        return []
    common = set.intersection(*(set(v) for v in values_by_x.values()))
    if seeds is not None:
        common &= set(seeds)
    return sorted(common, key=seed_order)


def per_seed_slopes(values_by_x: Mapping[float, Mapping], seeds: Sequence | None = None):
    """For each seed present at every x, the least-squares slope of value on x.

    Returns the slopes in seed order; their t-interval is the trend's interval, pooling the seeds
    of every x (x is e.g. log2 g).
    """
    xs = sorted(values_by_x)
    if len(xs) < 2:
        return np.array([], dtype=float)
    x = np.array(xs, dtype=float)
    x_centred = x - x.mean()
    slopes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in slope_seeds(values_by_x, seeds):
            y = np.array([float(values_by_x[v][seed]) for v in xs])
            slopes.append(float((x_centred * (y - y.mean())).sum() / (x_centred**2).sum()))
    return np.array(slopes, dtype=float)

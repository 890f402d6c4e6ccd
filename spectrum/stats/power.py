"""Power: the minimum detectable effect of a paired comparison and the seeds that would decide it.

The power of the two-sided paired t-test is exact on the noncentral t distribution
(:func:`power_of`), and the MDE a report states (80% power at the comparison's level) is solved
on it, so at the stated MDE the test has the stated power; the central-t shortcut (a t quantile
plus a t quantile) overstated it at small n (66-79% for a stated 80% at n = 3-12). Used by
:func:`.inference.decide`. Accuracies are fractions.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, stats

POWER = 0.8
MAX_SEEDS_REPORTED = 1000  # beyond this "seeds to decide" is reported as "> 1000"
TIE_TOLERANCE = 1e-12  # float noise of differences of accuracies on one grid


def power_of(effect: float, sd: float, n: int, alpha: float) -> float:
    """Power of the two-sided paired t-test at ``alpha`` with n pairs against a true ``effect``.

    Exact under normal differences: the t statistic is noncentral t with n - 1 degrees of
    freedom and noncentrality effect / (sd / sqrt(n)).
    """
    df, crit = n - 1, float(stats.t.ppf(1 - alpha / 2, n - 1))
    nc = abs(effect) * math.sqrt(n) / sd
    # P(T < -crit) as P(T(-nc) > crit): scipy's nct.cdf is NaN far in the lower tail
    return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))


def minimum_detectable_effect(sd: float, n: int, alpha: float, power: float = POWER) -> float:
    """Smallest true |difference| a two-sided paired t-test at ``alpha`` detects with ``power``.

    Solved on the noncentral t (:func:`power_of`); the normal-approximation shortcut
    (t quantile + t quantile) overstates the power at small n (66-79% for a stated 80%).
    """
    if n < 2 or not math.isfinite(sd) or sd <= 0:
        return math.nan
    return _noncentrality(int(n), float(alpha), float(power)) * sd / math.sqrt(n)


@functools.lru_cache(maxsize=4096)
def _noncentrality(n: int, alpha: float, power: float) -> float:
    """The noncentrality at which the paired t-test with n pairs at ``alpha`` has ``power``."""

    def shortfall(nc: float) -> float:
        return power_of(nc / math.sqrt(n), 1.0, n, alpha) - power

    high = 2 * float(stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1))
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 0.0, high))


def seeds_to_decide(
    mean: float, sd: float, n: int, alpha: float, margin: float, resolution: float = 0.0
) -> int | None:
    """Seeds at which the observed mean and sd would decide (superiority or equivalence).

    ``None`` when even :data:`MAX_SEEDS_REPORTED` seeds would not (|mean| at the margin). A
    standard deviation at or below the resolution counts as the resolution.
    """
    if not (math.isfinite(mean) and math.isfinite(sd)) or n < 2:
        return None
    sd = max(sd, resolution, TIE_TOLERANCE)
    m = np.arange(max(n, 2), MAX_SEEDS_REPORTED + 1)
    se = sd / np.sqrt(m)
    superior = abs(mean) / se >= stats.t.ppf(1 - alpha / 2, m - 1)
    equivalent = (margin - abs(mean)) / se >= stats.t.ppf(1 - alpha, m - 1)
    hits = np.flatnonzero(superior | equivalent)
    return int(m[hits[0]]) if hits.size else None

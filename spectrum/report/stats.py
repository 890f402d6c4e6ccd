"""Statistics: percentile bootstrap intervals, paired/Welch tests and the Holm correction.

Pure functions on arrays. Every bootstrap draws from its own generator seeded with
:data:`BOOTSTRAP_SEED` (unless told otherwise), so a result depends only on its input, never on
how many intervals were computed before it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_SEED = 20170707  # the day Xception's arXiv v3 appeared; any fixed number would do
RESAMPLES = 10_000
LEVEL = 0.95


def _clean(values) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def bootstrap_ci(
    values, *, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; ``(nan, nan)`` for fewer than 2 values."""
    x = _clean(values)
    if x.size < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return (float(low), float(high))


def bootstrap_diff_ci(
    a, b, *, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling each sample on its own."""
    x, y = _clean(a), _clean(b)
    if x.size < 2 or y.size < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    diffs = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1) - y[
        rng.integers(0, y.size, size=(resamples, y.size))
    ].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(diffs, [tail, 100.0 - tail])
    return (float(low), float(high))


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
class Difference:
    """Mean difference a - b with its 95% bootstrap interval and two-sided test p-value."""

    method: str  # "paired-t" | "welch" | "none"
    n_pairs: int
    n_a: int
    n_b: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float


def _p(result) -> float:
    value = float(result.pvalue)
    return value if math.isfinite(value) else math.nan


def compare(a_by_seed: dict, b_by_seed: dict, *, seed: int = BOOTSTRAP_SEED) -> Difference:
    """Compare two samples keyed by training seed.

    With at least two common seeds the samples are paired by seed (paired t-test, bootstrap of
    the mean paired difference); otherwise, with at least two values on each side, Welch's t-test
    and a bootstrap of the difference of means; otherwise only the difference of means is given.
    NaN values are dropped first; a degenerate test (zero variance) gives a NaN p-value unless
    the differences are constant and non-zero.
    """
    a = {k: float(v) for k, v in a_by_seed.items() if v is not None and math.isfinite(float(v))}
    b = {k: float(v) for k, v in b_by_seed.items() if v is not None and math.isfinite(float(v))}
    common = sorted(set(a) & set(b), key=lambda k: (str(type(k)), k))
    xa, xb = np.array(list(a.values())), np.array(list(b.values()))
    mean_diff = float(xa.mean() - xb.mean()) if xa.size and xb.size else math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if len(common) >= 2:
            pa = np.array([a[k] for k in common])
            pb = np.array([b[k] for k in common])
            diffs = pa - pb
            low, high = bootstrap_ci(diffs, seed=seed)
            p = _p(stats.ttest_rel(pa, pb))
            return Difference(
                "paired-t", len(common), xa.size, xb.size, float(diffs.mean()), low, high, p
            )
        if xa.size >= 2 and xb.size >= 2:
            low, high = bootstrap_diff_ci(xa, xb, seed=seed)
            p = _p(stats.ttest_ind(xa, xb, equal_var=False))
            return Difference("welch", len(common), xa.size, xb.size, mean_diff, low, high, p)
    return Difference(
        "none", len(common), xa.size, xb.size, mean_diff, math.nan, math.nan, math.nan
    )

"""Two sweep studies compared over their shared configurations: plain data, no drawing or I/O.

Owns what ``spectrum compare`` computes from two usable-trial frames (:func:`.frames.usable_sweep`):

- the shared configurations (same segments, order, activation, residual and match; the studies
  may differ in budget, precision, seeds or dataset);
- per configuration, mean test accuracy of B minus A with a 95% t interval: paired by seed
  (Student-t interval of the per-seed differences) when both studies ran exactly the same seeds
  (at least two), else Welch's interval (:func:`.inference.welch`);
- the rank agreement of the configurations' means (Kendall tau, ``scipy.stats.kendalltau``) with
  a percentile bootstrap interval that resamples seeds within each configuration of both studies;
- the verdict (:func:`.verdict.build_verdict`, each study's own plan) of each study restricted to
  the shared configurations, so both families hold the same comparisons, and the comparisons
  (and trends over log2 g) whose verdict differs.

Accuracies are fractions (0.91), as in the frames; the document formats them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import SpecError
from ...labels import level_name
from ...stats.inference import t_interval, welch
from ...stats.looks import Plan
from ...stats.pairing import by_seed
from ...stats.summary import CONFIG, GROUP, config_key, configurations, summarize
from ...stats.verdict import build_verdict

N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class ConfigDifference:
    """One shared configuration: each study's mean and interval, and B minus A."""

    key: dict  # segments, order, activation, residual, match
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    ci_a: tuple[float, float]
    ci_b: tuple[float, float]
    method: str  # "paired-t" (same seeds in both) | "welch" | "none" (too few seeds)
    diff: float  # mean B - mean A
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class RankAgreement:
    """Kendall tau of the configurations' mean accuracies in A and B, with its interval."""

    n_configs: int
    tau: float
    ci_low: float
    ci_high: float
    p_value: float
    resamples: int
    seed: int


TREND = "trend"  # VerdictPair.segments of a group's trend over log2 g


@dataclass(frozen=True)
class VerdictPair:
    """One verdict comparison (g minus reference within a group), or a group's trend over log2
    g (``segments`` :data:`TREND`: verdict rises / falls / no trend detected, diffs are slopes
    per doubling of g), as decided in A and in B."""

    segments: str
    reference: str
    group: dict  # order, activation, residual, match
    verdict_a: str
    verdict_b: str
    diff_a: float
    diff_b: float

    @property
    def label(self) -> str:
        if self.segments == TREND:
            return "trend over log2 g (per doubling)"
        return (
            f"{level_name('segments', self.segments)} vs {level_name('segments', self.reference)}"
        )

    @property
    def flipped(self) -> bool:
        return self.verdict_a != self.verdict_b


@dataclass(frozen=True)
class StudyComparison:
    differences: tuple[ConfigDifference, ...]
    rank: RankAgreement
    verdicts: tuple[VerdictPair, ...]
    only_a: tuple[dict, ...]  # configurations present in A only
    only_b: tuple[dict, ...]
    margin_a: float  # equivalence margin of each study's verdict, fraction
    margin_b: float

    @property
    def flips(self) -> tuple[VerdictPair, ...]:
        return tuple(v for v in self.verdicts if v.flipped)


def across_match(usable_a: pd.DataFrame, usable_b: pd.DataFrame) -> tuple[str, str]:
    """(A's match, B's match) when each study has one match value; raises otherwise.

    Pairing across match (``spectrum compare --across-match``) treats B's configurations as
    A's: what differs between the studies is then the match and whatever else the caller says
    (e.g. the preset), never hidden in the pairing.
    """
    values = []
    for which, usable in (("A", usable_a), ("B", usable_b)):
        found = sorted({str(v) for v in usable["match"].dropna()})
        if len(found) != 1:
            raise SpecError(
                f"--across-match pairs studies of one match each; study {which} has "
                f"{', '.join(found) or 'none'}: compare without --across-match"
            )
        values.append(found[0])
    return values[0], values[1]


def _key(config: dict) -> tuple:
    return tuple(config[f] for f in CONFIG)


def _samples(usable: pd.DataFrame) -> dict[tuple, tuple[dict, dict]]:
    """{configuration tuple: (configuration dict, {seed: test accuracy})}."""
    return {_key(c): (c, by_seed(trials)) for c, trials in configurations(usable)}


def config_difference(key: dict, a: dict, b: dict, level: float = LEVEL) -> ConfigDifference:
    """B minus A for one configuration from its seed-keyed samples ``a`` and ``b``."""
    xa, xb = np.array(list(a.values()), float), np.array(list(b.values()), float)
    ia, ib = t_interval(xa, level), t_interval(xb, level)
    if set(a) == set(b) and len(a) >= 2:
        d = t_interval([b[k] - a[k] for k in a], level)
        sd = d.sd
        if sd > 0:
            t = d.mean / (sd / math.sqrt(d.n))
            p = float(2 * stats.t.sf(abs(t), d.n - 1))
        else:
            p = math.nan if d.mean == 0 else 0.0
        method, diff, low, high = "paired-t", d.mean, d.ci_low, d.ci_high
    else:
        diff, low, high, p = welch(xb, xa, level)
        method = "welch" if math.isfinite(low) else "none"
    return ConfigDifference(
        key=dict(key),
        n_a=int(xa.size),
        n_b=int(xb.size),
        mean_a=ia.mean,
        mean_b=ib.mean,
        ci_a=(ia.ci_low, ia.ci_high),
        ci_b=(ib.ci_low, ib.ci_high),
        method=method,
        diff=float(diff),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
    )


def _tau(x, y) -> tuple[float, float]:
    if len(x) < 2:
        return math.nan, math.nan
    result = stats.kendalltau(x, y)
    return float(result.statistic), float(result.pvalue)


def rank_agreement(
    pairs: list[tuple[dict, dict]],
    *,
    resamples: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
) -> RankAgreement:
    """Kendall tau of the means over ``pairs`` (A sample, B sample per configuration).

    The interval is the percentile bootstrap over ``resamples`` draws that resample seeds with
    replacement within each configuration of each study (a fixed ``seed``: reproducible);
    resamples with tied means on one side (tau undefined) are dropped.
    """
    arrays = [
        (np.array(list(a.values()), float), np.array(list(b.values()), float)) for a, b in pairs
    ]
    tau, p = _tau([a.mean() for a, _ in arrays], [b.mean() for _, b in arrays])
    low = high = math.nan
    if len(arrays) >= 2:
        rng = np.random.default_rng(seed)
        taus = np.empty(resamples)
        for r in range(resamples):
            ma = [rng.choice(a, a.size).mean() for a, _ in arrays]
            mb = [rng.choice(b, b.size).mean() for _, b in arrays]
            taus[r] = _tau(ma, mb)[0]
        taus = taus[np.isfinite(taus)]
        if taus.size:
            tail = 100 * (1 - level) / 2
            low, high = (float(v) for v in np.percentile(taus, [tail, 100 - tail]))
    return RankAgreement(len(arrays), tau, low, high, p, resamples, seed)


def _verdict_pairs(shared_a, shared_b, plan_a: Plan | None, plan_b: Plan | None):
    verdict_a = build_verdict(shared_a, summarize(shared_a), plan=plan_a)
    verdict_b = build_verdict(shared_b, summarize(shared_b), plan=plan_b)

    def index(verdict):
        return {
            (c.segments, c.reference, c.order, c.activation, c.residual, c.match): c
            for c in verdict.comparisons
        }

    def trends(verdict):
        return {
            tuple(getattr(g, f) for f in GROUP): g.trend
            for g in verdict.groups
            if g.trend is not None
        }

    in_a, in_b = index(verdict_a), index(verdict_b)
    pairs = []
    for k in (k for k in in_a if k in in_b):
        ca, cb = in_a[k], in_b[k]
        group = {"order": k[2], "activation": k[3], "residual": k[4], "match": k[5]}
        pairs.append(
            VerdictPair(k[0], k[1], group, ca.verdict, cb.verdict, ca.mean_diff, cb.mean_diff)
        )
    trend_a, trend_b = trends(verdict_a), trends(verdict_b)
    for k in (k for k in trend_a if k in trend_b):
        ta, tb = trend_a[k], trend_b[k]
        group = dict(zip(GROUP, k))
        pairs.append(
            VerdictPair(TREND, "", group, ta.direction, tb.direction, ta.mean_diff, tb.mean_diff)
        )
    return tuple(pairs), verdict_a.margin_pp / 100.0, verdict_b.margin_pp / 100.0


def compare_studies(
    usable_a: pd.DataFrame,
    usable_b: pd.DataFrame,
    *,
    plan_a: Plan | None = None,
    plan_b: Plan | None = None,
    resamples: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> StudyComparison:
    """Everything ``spectrum compare`` reports, from the usable trials of studies A and B.

    To pair across match, relabel B's match as A's first (:func:`across_match`).

    Raises:
        SpecError: the two studies share no configuration.
    """
    samples_a, samples_b = _samples(usable_a), _samples(usable_b)
    shared = sorted(
        (k for k in samples_a if k in samples_b), key=lambda k: config_key(samples_a[k][0])
    )
    if not shared:
        raise SpecError(
            "the two studies share no configuration (same segments, order, activation, "
            "residual and match); nothing to compare"
        )
    differences = tuple(
        config_difference(samples_a[k][0], samples_a[k][1], samples_b[k][1]) for k in shared
    )
    rank = rank_agreement(
        [(samples_a[k][1], samples_b[k][1]) for k in shared], resamples=resamples, seed=seed
    )

    def restrict(usable):
        keys = set(shared)
        mask = [_key(dict(zip(CONFIG, _row(r)))) in keys for _, r in usable.iterrows()]
        return usable[mask].reset_index(drop=True)

    verdicts, margin_a, margin_b = _verdict_pairs(
        restrict(usable_a), restrict(usable_b), plan_a, plan_b
    )
    return StudyComparison(
        differences=differences,
        rank=rank,
        verdicts=verdicts,
        only_a=tuple(samples_a[k][0] for k in samples_a if k not in samples_b),
        only_b=tuple(samples_b[k][0] for k in samples_b if k not in samples_a),
        margin_a=margin_a,
        margin_b=margin_b,
    )


def _row(row) -> list:
    """A frame row's configuration values, missing ones as None (as :func:`configurations`)."""
    values = []
    for f in CONFIG:
        v = row[f]
        values.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
    return values

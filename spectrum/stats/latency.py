"""Latency versus its predictors: FLOPs and activations, from summary.csv's table.

Two things: the notes of the verdict, each a g with fewer FLOPs than another g yet measured
slower (per op order; heavy grouping is not matrix-friendly, so FLOPs do not predict latency),
and :func:`cost_correlations`, the rank correlation over configurations of measured latency with
FLOPs and with activations (the elements every convolution writes), which says which count
orders the latencies better (ShuffleNet v2's G2: at equal FLOPs heavy grouping is slower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .. import fmt
from ..labels import level_name, segment_key
from .summary import CONFIG

# Per cost: its summary.csv column and how the report names it.
COSTS = {"flops": ("flops_mean", "FLOPs"), "activations": ("activations_mean", "activations")}
MIN_CONFIGURATIONS = 3  # fewer and a rank correlation says nothing
# Permutations behind Spearman's p: every one of them while n! fits (n <= 7), else this many
# random ones from a fixed seed (the p-value is reproducible).
PERMUTATIONS = 20_000
PERMUTATION_SEED = 0


@dataclass(frozen=True)
class LatencyNote:
    """A g with fewer FLOPs than another but a higher measured latency (same order)."""

    order: str
    fewer_flops: str
    more_flops: str
    flops_fewer: float
    flops_more: float
    latency_fewer: float
    latency_more: float
    sentence: str


def latency_notes(
    summary: pd.DataFrame, tolerance: float = 0.05, flops_margin: float = 0.01
) -> list[LatencyNote]:
    """Per order: each g that has fewer FLOPs than another g but is slower by > tolerance.

    Means over activation, residual and match first; for each g the most striking counterexample
    (largest latency ratio) is kept.
    """
    if summary.empty:
        return []
    frame = summary.dropna(subset=["flops_mean", "latency_ms_mean"])
    notes = []
    for order in sorted(frame["order"].unique(), key=lambda o: (o != "depthwise-first", o)):
        part = frame[frame["order"] == order]
        by_g = part.groupby("segments")[["flops_mean", "latency_ms_mean"]].mean()
        labels = sorted(by_g.index, key=segment_key)
        for a in labels:
            fa, la = by_g.loc[a]
            worst = None
            for b in labels:
                fb, lb = by_g.loc[b]
                if a == b or not fa < fb * (1.0 - flops_margin) or not la > lb * (1.0 + tolerance):
                    continue
                if worst is None or la / lb > worst[2] / worst[4]:
                    worst = (b, fa, la, fb, lb)
            if worst is None:
                continue
            b, fa, la, fb, lb = worst
            sentence = (
                f"{order}: {level_name('segments', a)} needs {fmt.count(fa)} FLOPs, "
                f"{1 - fa / fb:.0%} fewer than {level_name('segments', b)} "
                f"({fmt.count(fb)}), yet its measured latency is higher: "
                f"{fmt.ms(la)} vs {fmt.ms(lb)} per batch"
            )
            notes.append(
                LatencyNote(order, a, b, float(fa), float(fb), float(la), float(lb), sentence)
            )
    return notes


def latency_measured(summary: pd.DataFrame) -> bool:
    """Whether any configuration has both a measured latency and a FLOP count."""
    if summary.empty:
        return False
    latency = summary["latency_ms_mean"].to_numpy(dtype=float)
    flops = summary["flops_mean"].to_numpy(dtype=float)
    return bool((np.isfinite(latency) & np.isfinite(flops)).any())


@dataclass(frozen=True)
class RankCorrelation:
    """The rank correlation over configurations of median latency with one cost.

    ``rho`` is Spearman's, with the two-sided permutation p of no association (exact while
    every pairing can be enumerated); ``tau`` is Kendall's tau-b with scipy's p (exact for small
    n without ties). ``reason`` says why nothing was computed (then both are NaN): the cost was
    not recorded, fewer than :data:`MIN_CONFIGURATIONS` configurations have both, or one side is
    the same for every configuration.
    """

    cost: str  # "flops" or "activations"
    n: int  # configurations with both a measured latency and this cost
    rho: float = math.nan
    rho_p: float = math.nan
    tau: float = math.nan
    tau_p: float = math.nan
    reason: str = ""  # follows "the correlation is": "not computed: ...", "not computable ..."
    why: str = ""  # the reason in a few words, for a figure title

    @property
    def name(self) -> str:
        return COSTS[self.cost][1]

    @property
    def computed(self) -> bool:
        return not self.reason

    def phrase(self) -> str:
        """``Spearman rho = 0.40 (permutation p = 0.750; Kendall tau = 0.33, p = 0.750)``."""
        if not self.computed:
            return self.reason
        return (
            f"Spearman rho = {self.rho:.2f} ({fmt.p_phrase(self.rho_p, 'permutation p')}; "
            f"Kendall tau = {self.tau:.2f}, {fmt.p_phrase(self.tau_p)})"
        )

    def short(self) -> str:
        """``Spearman rho = 0.40, p = 0.750, n = 4`` (a figure title), or the short why-not."""
        if self.computed:
            return f"Spearman rho = {self.rho:.2f}, {fmt.p_phrase(self.rho_p)}, n = {self.n}"
        return f"rho not computable: {self.why}"


@dataclass(frozen=True)
class LatencyCosts:
    """Per-configuration latency and costs, and the two rank correlations over them.

    ``points`` has one row per configuration with a measured latency: the configuration
    (:data:`.summary.CONFIG`), ``flops``, ``activations`` (NaN where not recorded),
    ``latency_ms`` (the median per batch, mean over seeds) and ``latency_ms_low`` /
    ``latency_ms_high`` (its 95% interval, NaN where the trials recorded none).
    """

    points: pd.DataFrame
    flops: RankCorrelation
    activations: RankCorrelation

    @property
    def measured(self) -> bool:
        return not self.points.empty

    def sentence(self) -> str:
        """One sentence: both correlations and which cost orders the latencies more closely."""
        f, a = self.flops, self.activations
        if not self.measured:
            return "No configuration has a measured latency: no rank correlation is computed."
        if len(self.points) < MIN_CONFIGURATIONS:
            n = len(self.points)
            return (
                f"Only {n} configuration{' has' if n == 1 else 's have'} a measured latency: a "
                f"rank correlation needs at least {MIN_CONFIGURATIONS}, so none is computed."
            )
        if not (f.computed or a.computed):
            return (
                f"Over {len(self.points)} configurations with a measured latency, its rank "
                f"correlation with FLOPs is {f.reason}, and with activations {a.reason}."
            )
        if not (f.computed and a.computed):
            done, other = (f, a) if f.computed else (a, f)
            return (
                f"Over {done.n} configurations, latency rank-correlates with {done.name} at "
                f"{done.phrase()}; its correlation with {other.name} is {other.reason}."
            )
        if f.n == a.n:
            text = (
                f"Over {f.n} configurations, latency rank-correlates with FLOPs at {f.phrase()} "
                f"and with activations at {a.phrase()}"
            )
        else:
            text = (
                f"Latency rank-correlates with FLOPs at {f.phrase()} over {f.n} configurations "
                f"and with activations at {a.phrase()} over {a.n}"
            )
        if f.n != a.n:  # over different configurations the two are not comparable
            return text + "."
        # The larger signed rho orders the latencies more like the cost does (a negative rho
        # orders them the other way round).
        if a.rho > f.rho:
            text += "; activations order the latencies more closely than FLOPs do"
        elif f.rho > a.rho:
            text += "; FLOPs order the latencies more closely than activations do"
        else:
            text += "; both order the latencies equally closely"
        return text + " (the difference of the two correlations is not tested)."


def _spearman_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided permutation p of Spearman's rho (pairings permuted; ranks computed once)."""
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    ry = (ry - ry.mean()) / np.sqrt(((ry - ry.mean()) ** 2).sum())

    def rho(ranks, axis):
        centred = ranks - ranks.mean(axis=axis, keepdims=True)
        return (centred * ry).sum(axis=axis) / np.sqrt((centred**2).sum(axis=axis))

    result = stats.permutation_test(
        (rx,),
        rho,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=PERMUTATIONS,
        batch=5_000,
        rng=np.random.default_rng(PERMUTATION_SEED),
    )
    return float(result.pvalue)


def rank_correlation(cost: str, costs, latency) -> RankCorrelation:
    """Spearman's rho and Kendall's tau of ``latency`` with ``costs`` (NaN pairs dropped)."""
    x, y = np.asarray(costs, dtype=float), np.asarray(latency, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y, n = x[ok], y[ok], int(ok.sum())
    name = COSTS[cost][1]
    if n == 0:
        return RankCorrelation(
            cost,
            0,
            reason=f"not computed: {name} were not recorded (the trials predate the count)",
            why=f"{name} not recorded",
        )
    if n < MIN_CONFIGURATIONS:
        plural = "s" if n != 1 else ""
        return RankCorrelation(
            cost,
            n,
            reason=f"not computable from {n} configuration{plural} "
            f"(a rank correlation needs at least {MIN_CONFIGURATIONS})",
            why=f"n = {n} < {MIN_CONFIGURATIONS}",
        )
    if np.ptp(x) == 0:
        return RankCorrelation(
            cost,
            n,
            reason=f"not computable: {name} are the same ({fmt.count(x[0])}) in every "
            "configuration, so they cannot order the latencies",
            why=f"{name} equal in every configuration",
        )
    if np.ptp(y) == 0:
        return RankCorrelation(
            cost, n, reason="not computable: every latency is the same", why="latency constant"
        )
    rho = float(stats.spearmanr(x, y).statistic)
    tau = stats.kendalltau(x, y)
    return RankCorrelation(cost, n, rho, _spearman_p(x, y), float(tau.statistic), float(tau.pvalue))


def cost_correlations(summary: pd.DataFrame) -> LatencyCosts:
    """Latency against FLOPs and activations over the configurations of ``summary``.

    Columns missing from ``summary`` (a table written before activations were counted) read as
    not recorded.
    """
    columns = {
        "flops": COSTS["flops"][0],
        "activations": COSTS["activations"][0],
        "latency_ms": "latency_ms_mean",
        "latency_ms_low": "latency_ms_low_mean",
        "latency_ms_high": "latency_ms_high_mean",
    }
    points = summary[[c for c in CONFIG if c in summary]].copy()
    for name, column in columns.items():
        values = summary[column] if column in summary else pd.Series(math.nan, summary.index)
        points[name] = pd.to_numeric(values, errors="coerce").astype(float)
    points = points[np.isfinite(points["latency_ms"].to_numpy(dtype=float))]
    points = points.reset_index(drop=True)
    latency = points["latency_ms"].to_numpy(dtype=float)
    return LatencyCosts(
        points,
        rank_correlation("flops", points["flops"], latency),
        rank_correlation("activations", points["activations"], latency),
    )

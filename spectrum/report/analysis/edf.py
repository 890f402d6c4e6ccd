"""Error empirical distribution functions (EDFs) and their complexity normalisation.

Following Radosavovic et al., "On Network Design Spaces for Visual Recognition" (ICCV 2019):
the error EDF of n models is F(e) = (1/n) * #{models with error < e}; with weights w_i summing
to 1 it is F(e) = sum of w_i over models with error < e. The complexity-normalised EDF weights
models so that every design space (here: every g) has the same distribution of complexity
(params or FLOPs): complexity is binned on a log scale, only bins populated by every g are kept,
and each g spreads equal total weight over those bins, split evenly among its models in a bin.
Pure functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def edf_at(errors, e: float, weights=None) -> float:
    """F(e): the (weighted) fraction of models whose error is strictly below ``e``."""
    err = np.asarray(errors, dtype=float)
    w = np.full(err.size, 1.0 / err.size) if weights is None else np.asarray(weights, float)
    if err.size == 0 or w.sum() <= 0:
        return float("nan")
    return float(w[err < e].sum() / w.sum())


def edf_steps(errors, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted errors and F just after each of them (for a ``where="post"`` step plot).

    Models of zero weight are dropped; ties are merged.
    """
    err = np.asarray(errors, dtype=float)
    w = np.full(err.size, 1.0) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(err) & (w > 0)
    err, w = err[keep], w[keep]
    if err.size == 0:
        return np.array([]), np.array([])
    order = np.argsort(err, kind="stable")
    err, w = err[order], w[order] / w.sum()
    x, index = np.unique(err, return_index=True)
    cumulative = np.cumsum(w)
    last = np.r_[index[1:] - 1, err.size - 1]
    return x, cumulative[last]


@dataclass(frozen=True)
class Normalisation:
    """Weights for a complexity-normalised EDF, or why none can be computed."""

    applicable: bool
    reason: str
    weights: np.ndarray | None  # aligned with the input rows; each group sums to 1
    bins: int
    kind: str = "ok"  # ok | single | disjoint | missing | off


def complexity_weights(
    complexity: Sequence[float], groups: Sequence, *, n_bins: int | None = None
) -> Normalisation:
    """Weights that give every group the same complexity distribution (uniform over shared bins).

    ``n_bins`` defaults to about one bin per three models of the smallest group (2 to 10).

    Not applicable when some group has a single distinct complexity value (its distribution is a
    point mass, so matching distributions means nothing) or when no bin is shared by all groups.
    """
    c = np.asarray(complexity, dtype=float)
    labels = np.asarray([str(g) for g in groups], dtype=object)
    ok = np.isfinite(c) & (c > 0)
    names = sorted(set(labels[ok]))
    if not names:
        return Normalisation(False, "no model has a recorded complexity", None, 0, "missing")
    single = [g for g in names if np.unique(c[ok & (labels == g)]).size < 2]
    if single:
        return Normalisation(
            False,
            "each g needs more than one distinct complexity value; "
            f"{len(single)} of {len(names)} g have only one",
            None,
            0,
            "single",
        )
    if n_bins is None:
        smallest = min(int((ok & (labels == g)).sum()) for g in names)
        n_bins = int(np.clip(smallest // 3, 2, 10))
    logc = np.log(c[ok])
    edges = np.linspace(logc.min(), logc.max(), n_bins + 1)
    bin_of = np.full(c.size, -1)
    bin_of[ok] = np.clip(np.searchsorted(edges, logc, side="right") - 1, 0, n_bins - 1)
    shared = [b for b in range(n_bins) if all(np.any((labels == g) & (bin_of == b)) for g in names)]
    if not shared:
        return Normalisation(
            False, "the complexity ranges of the g do not overlap", None, n_bins, "disjoint"
        )
    weights = np.zeros(c.size)
    for g in names:
        for b in shared:
            members = (labels == g) & (bin_of == b)
            weights[members] = 1.0 / len(shared) / members.sum()
    return Normalisation(
        True,
        f"{len(shared)} of {n_bins} log-spaced complexity bins are shared by every g",
        weights,
        n_bins,
    )

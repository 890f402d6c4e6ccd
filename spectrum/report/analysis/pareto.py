"""Non-dominated (Pareto-optimal) points for any number of objectives and directions. Pure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def non_dominated(values, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (n x k) that no other row dominates.

    Row j dominates row i when it is at least as good in every objective and strictly better in
    one. Rows with a NaN are never on the front (and dominate nothing).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.size == 0:
        return np.zeros(len(v), dtype=bool)
    sign = np.where(np.asarray(maximize, dtype=bool), 1.0, -1.0)
    v = v * sign  # now larger is better everywhere
    finite = np.all(np.isfinite(v), axis=1)
    mask = finite.copy()
    for i in np.flatnonzero(finite):
        others = v[finite]
        dominated = np.any(np.all(others >= v[i], axis=1) & np.any(others > v[i], axis=1))
        mask[i] = not dominated
    return mask


def front_order(values, maximize: Sequence[bool], mask: np.ndarray) -> np.ndarray:
    """Indices of the front's rows sorted by the second column (cost), for drawing a front line."""
    v = np.asarray(values, dtype=float)
    index = np.flatnonzero(mask)
    return (
        index[np.argsort(v[index, 1], kind="stable")] if v.ndim == 2 and v.shape[1] > 1 else index
    )

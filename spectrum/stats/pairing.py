"""Seed-keyed samples: how trials become the two sides of a :func:`.stats.compare`.

Runs pair by training seed, so a sample is ``{seed: test accuracy}``; a run without a recorded
seed gets a key of its own and pairs with nothing. Used by the verdict and the factor tests.
"""

from __future__ import annotations

import pandas as pd

from .difference import seed_order


def by_seed(trials: pd.DataFrame) -> dict:
    """Mean test accuracy per seed (a seed run twice is averaged)."""
    out: dict = {}
    seeded = trials[trials["seed"].notna()]
    for seed, rows in seeded.groupby("seed", sort=True):
        out[int(seed)] = float(rows["test_acc"].mean())
    for _, row in trials[trials["seed"].isna()].iterrows():
        # A run without a recorded seed pairs with nothing.
        out[f"trial {int(row['trial'])}"] = float(row["test_acc"])
    return out


def paired_differences(a: dict, b: dict) -> dict:
    """``{seed: a - b}`` over the seeds both samples have."""
    return {k: a[k] - b[k] for k in sorted(set(a) & set(b), key=seed_order)}

"""summary.csv: one row per sweep configuration, aggregated over its seeds.

A configuration is (segments, order, activation, residual, match); only usable (complete)
trials enter. Columns: n_seeds, test accuracy mean / std / 95% Student-t CI, mean
validation accuracy, and the mean width multiplier, params, FLOPs, live params and live FLOPs
(:mod:`spectrum.cost.live`), activations (NaN where the trials predate the count), latency and
training throughput. Rows come in canonical order
(order, activation, residual, match, then g); the report appends each row's verdict against
g = C (:func:`spectrum.report.sweep_report.with_verdicts`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..labels import level_key
from .inference import t_interval

CONFIG = ("segments", "order", "activation", "residual", "match")
GROUP = ("order", "activation", "residual", "match")
SUMMARY_COLUMNS = [
    *CONFIG,
    "n_seeds",
    "test_acc_mean",
    "test_acc_std",
    "test_acc_ci_low",
    "test_acc_ci_high",
    "val_acc_mean",
    "width_multiplier_mean",
    "params_mean",
    "flops_mean",
    "live_params_mean",
    "live_flops_mean",
    "activations_mean",
    "latency_ms_mean",
    "latency_ms_low_mean",
    "latency_ms_high_mean",
    "latency_load_avg_mean",
    "train_images_per_s_mean",
    "epoch_images_per_s_mean",
]
MEANS = {
    "val_acc_mean": "val_acc",
    "width_multiplier_mean": "width_multiplier",
    "params_mean": "params",
    "flops_mean": "flops",
    "live_params_mean": "live_params",
    "live_flops_mean": "live_flops",
    "activations_mean": "activations",
    "latency_ms_mean": "latency_ms",
    "latency_ms_low_mean": "latency_ms_low",
    "latency_ms_high_mean": "latency_ms_high",
    "latency_load_avg_mean": "latency_load_avg",
    "train_images_per_s_mean": "train_images_per_s",
    "epoch_images_per_s_mean": "epoch_images_per_s",
}


def config_key(key: dict) -> tuple:
    """Canonical sort key of a configuration: its group first, then g."""
    return tuple(level_key(f, key[f]) for f in (*GROUP, "segments"))


def _mean(series: pd.Series) -> float:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def configurations(usable: pd.DataFrame) -> list[tuple[dict, pd.DataFrame]]:
    """(configuration dict, its trials) pairs in canonical order."""
    if usable.empty:
        return []
    out = []
    for values, rows in usable.groupby(list(CONFIG), dropna=False, sort=False):
        # pandas turns a missing key into NaN; the report says None for "not recorded".
        values = [None if isinstance(v, float) and math.isnan(v) else v for v in values]
        out.append((dict(zip(CONFIG, values)), rows))
    return sorted(out, key=lambda item: config_key(item[0]))


def summarize(usable: pd.DataFrame) -> pd.DataFrame:
    """The summary table (columns :data:`SUMMARY_COLUMNS`) of the usable sweep trials."""
    rows = []
    for key, trials in configurations(usable):
        test = trials["test_acc"].to_numpy(dtype=float)
        interval = t_interval(test)
        low, high = interval.ci_low, interval.ci_high
        row = dict(key)
        row.update(
            {
                "n_seeds": int(trials["seed"].nunique(dropna=True)) or len(trials),
                "test_acc_mean": float(np.mean(test)),
                "test_acc_std": float(np.std(test, ddof=1)) if test.size > 1 else math.nan,
                "test_acc_ci_low": low,
                "test_acc_ci_high": high,
            }
        )
        row.update({name: _mean(trials[column]) for name, column in MEANS.items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

"""The trial record: what one trained configuration stores on its Optuna trial.

Everything a report needs lives in the trial's ``user_attrs`` under the keys below, so that a report
can be rebuilt from the storage alone. :func:`trial_row` flattens one trial into one row of
results.csv; :func:`load_results` does it for a whole study.

Keys of ``trial.user_attrs`` (written by :mod:`spectrum.study.trial`):

- ``kind``: ``"sweep"`` or ``"search"``.
- ``grid_key``: canonical string naming the grid point (sweeps only; unique within the study).
- ``segments``, ``order``, ``activation``: the spectrum coordinates (segments as a string label,
  ``"C"`` or an integer; for per-flow search trials the entry/middle/exit values joined by ``/``).
- ``residual`` (bool), ``seed`` (int), ``match`` (``none|params|flops``).
- ``net``: the net's summary dict (preset, flows, widths, rounding, ...).
- ``width_multiplier`` (float), ``params`` (int), ``flops`` (int; fvcore, one multiply-add = 1).
- ``latency_ms`` (median inference latency of one batch), ``train_step_ms`` (median training step),
  ``latency_batch`` (batch size used for both), ``latency_precision``, ``device`` (str),
  ``precision``: ``float32`` or ``bfloat16``, what training (and latency) ran in (absent in
  records made before precision was recorded: those ran in float32).
- ``curve``: list of per-epoch dicts ``{epoch, train_loss, val_acc, seconds, images_per_s}``.
- ``val_acc``, ``test_acc``: final accuracies in [0, 1] (absent unless the run completed).
- ``status``: ``complete | diverged | failed | infeasible | pruned``; ``error``: one-line message.
- ``wall_time_s``, ``dataset``, ``train``: the training config dict, ``versions``: library versions.
"""

from __future__ import annotations

import pandas as pd

STATUSES = ("complete", "diverged", "failed", "infeasible", "pruned")

ROW_COLUMNS = [
    "trial",
    "state",
    "status",
    "kind",
    "segments",
    "order",
    "activation",
    "residual",
    "seed",
    "match",
    "width_multiplier",
    "params",
    "flops",
    "latency_ms",
    "train_step_ms",
    "val_acc",
    "test_acc",
    "epochs_run",
    "wall_time_s",
    "device",
    "precision",
    "dataset",
    "error",
]


def trial_row(trial) -> dict:
    """One results.csv row from an ``optuna.trial.FrozenTrial``."""
    attrs = trial.user_attrs
    row = {column: attrs.get(column) for column in ROW_COLUMNS}
    row["trial"] = trial.number
    row["state"] = trial.state.name
    if trial.state.name in ("RUNNING", "WAITING"):
        # Unfinished: whatever status a record states ahead of time is not final yet.
        row["status"] = trial.state.name.lower()
    elif row["status"] is None:
        row["status"] = trial.state.name.lower()
    row["epochs_run"] = len(attrs.get("curve") or [])
    for name, value in trial.params.items():
        row[f"param_{name}"] = value
    return row


def load_results(study) -> pd.DataFrame:
    """results.csv for a whole ``optuna.Study``: one row per trial, in trial order."""
    rows = [trial_row(t) for t in study.get_trials(deepcopy=False)]
    if not rows:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.DataFrame(rows)


def curves_frame(study) -> pd.DataFrame:
    """Long table of per-epoch curves: one row per (trial, epoch), with the trial's coordinates."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        for point in attrs.get("curve") or []:
            rows.append(
                {
                    "trial": trial.number,
                    "status": attrs.get("status"),
                    "segments": attrs.get("segments"),
                    "order": attrs.get("order"),
                    "activation": attrs.get("activation"),
                    "residual": attrs.get("residual"),
                    "seed": attrs.get("seed"),
                    **point,
                }
            )
    return pd.DataFrame(rows)

"""From an Optuna study to the tables the report computes on.

Owns reading the storage: the per-trial frame (``load_results`` plus the few record fields a
report needs beyond results.csv: batch size of the speed measurements, measured per-epoch
throughput, channel widths, objective values), the normalisation of statuses, which trials are
usable for statistics, and the study-level facts (kind, grid, provenance) with fallbacks to the
trial records. Nothing here draws or writes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..records import NUMBER_COLUMNS, is_finished, load_results  # the sweep's own rule

NUMERIC = ("seed", *NUMBER_COLUMNS)
RUNNING_STATES = ("RUNNING", "WAITING")
# Statuses in the order the report counts them.
COUNTED = ("complete", "failed", "diverged", "running", "pruned", "infeasible")


def _finite(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _status(row) -> str:
    status = row["status"]
    if row["state"] in RUNNING_STATES:
        return "queued" if row["state"] == "WAITING" else "running"
    if status in (None, "fail"):
        return "failed" if row["state"] == "FAIL" else str(status or row["state"]).lower()
    return str(status)


def _mean_epoch_throughput(curve) -> float:
    values = [
        _finite(point.get("images_per_s")) for point in curve or [] if isinstance(point, dict)
    ]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def trial_frame(study) -> pd.DataFrame:
    """One row per trial: results.csv columns plus the report's derived columns.

    Added columns: ``latency_batch``, ``train_images_per_s`` (latency_batch / train_step_ms *
    1000), ``epoch_images_per_s`` (mean measured per-epoch throughput), ``widths`` (dict or
    None), ``values`` (tuple of objective values or None). ``status`` is normalised to one of
    complete / failed / diverged / running / queued (WAITING) / pruned / infeasible;
    ``segments`` is a string label; ``match`` defaults to ``none``.
    """
    frame = load_results(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    if frame.empty:
        return frame
    frame = frame.astype(object).where(frame.notna(), None)
    frame["status"] = [_status(row) for _, row in frame.iterrows()]
    frame["segments"] = [None if s is None else str(s) for s in frame["segments"]]
    frame["match"] = [m if m is not None else "none" for m in frame["match"]]
    frame["residual"] = [None if r is None else bool(r) for r in frame["residual"]]
    extras = []
    for number in frame["trial"]:
        trial = trials[int(number)]
        attrs = trial.user_attrs
        net = attrs.get("net") if isinstance(attrs.get("net"), dict) else {}
        extras.append(
            {
                "latency_batch": _finite(attrs.get("latency_batch")),
                "epoch_images_per_s": _mean_epoch_throughput(attrs.get("curve")),
                "widths": net.get("widths") if isinstance(net.get("widths"), dict) else None,
                "values": tuple(trial.values) if trial.values is not None else None,
            }
        )
    extras = pd.DataFrame(extras, index=frame.index)
    frame = pd.concat([frame, extras], axis=1)
    for column in NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["train_images_per_s"] = frame["latency_batch"] / frame["train_step_ms"] * 1000.0
    return mark_duplicates(frame, trials)


def mark_duplicates(frame: pd.DataFrame, trials: dict) -> pd.DataFrame:
    """Status ``duplicate`` (and who owns the point) for the trials that never trained because
    another trial owns their grid point: marked ``not_run = duplicate`` by the sweep, or, from
    before that mark existed, failed with no worker, no status and no curve beside a sibling."""
    keys = {}
    for number, trial in sorted(trials.items()):
        if trial.user_attrs.get("grid_key"):
            keys.setdefault(trial.user_attrs["grid_key"], []).append(number)
    statuses, errors = list(frame["status"]), list(frame["error"])
    for i, number in enumerate(frame["trial"]):
        attrs = trials[int(number)].user_attrs
        siblings = [n for n in keys.get(attrs.get("grid_key"), []) if n != int(number)]
        legacy = (
            frame["state"].iloc[i] == "FAIL"
            and siblings
            and not any(attrs.get(k) for k in ("worker", "status", "curve", "error"))
        )
        if attrs.get("not_run") == "duplicate" or legacy:
            owner = attrs.get("duplicate_of", siblings[0] if siblings else None)
            statuses[i] = "duplicate"
            errors[i] = "never trained: " + (
                f"trial {owner} owns this grid point" if owner is not None else "a duplicate"
            )
    return frame.assign(status=statuses, error=errors)


def usable_sweep(frame: pd.DataFrame) -> pd.DataFrame:
    """Trials that enter the statistics: Optuna COMPLETE, status complete, with a test accuracy."""
    if frame.empty:
        return frame
    mask = (
        (frame["state"] == "COMPLETE")
        & (frame["status"] == "complete")
        & frame["test_acc"].notna()
        & frame["segments"].notna()
    )
    return frame[mask].reset_index(drop=True)


def usable_search(frame: pd.DataFrame, n_objectives: int) -> pd.DataFrame:
    """Feasible complete search trials: COMPLETE, not infeasible, with every objective value."""
    if frame.empty:
        return frame

    def ok(values) -> bool:
        return (
            values is not None
            and len(values) == n_objectives
            and all(math.isfinite(float(v)) for v in values)
        )

    mask = (
        (frame["state"] == "COMPLETE") & (frame["status"] != "infeasible") & frame["values"].map(ok)
    )
    return frame[mask].reset_index(drop=True)


def pending_seeds(study) -> frozenset[int]:
    """Seeds of the grid points still to finish: a trial queued, running or interrupted, and none
    finished (complete, failed or diverged). A sequential report's look is complete once no seed
    below it is pending (:class:`.looks.Plan`); a lost trial is finished, not pending."""
    finished, open_ = set(), {}
    for trial in study.get_trials(deepcopy=False):
        key = trial.user_attrs.get("grid_key")
        if not key:
            continue
        if is_finished(trial):
            finished.add(key)
        elif trial.state.name in RUNNING_STATES or trial.user_attrs.get("status") == "interrupted":
            fixed = trial.system_attrs.get("fixed_params") or {}
            seed = trial.user_attrs.get("seed", trial.params.get("seed", fixed.get("seed")))
            open_[key] = int(seed) if isinstance(seed, int | float) else 0
    return frozenset(seed for key, seed in open_.items() if key not in finished)


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Number of trials per normalised status; the statuses of :data:`COUNTED` always appear."""
    counts = {status: 0 for status in COUNTED}
    for status in frame["status"] if not frame.empty else []:
        counts[status] = counts.get(status, 0) + 1
    return counts


def excluded_trials(frame: pd.DataFrame, usable: pd.DataFrame) -> pd.DataFrame:
    """Trials listed in the report but left out of every statistic, in trial order."""
    if frame.empty:
        return frame
    return frame[~frame["trial"].isin(set(usable["trial"]))].reset_index(drop=True)


def study_kind(study) -> str:
    """``sweep`` or ``search``: the study attribute, else the trials' records, else by direction."""
    kind = study.user_attrs.get("kind")
    if kind in ("sweep", "search"):
        return kind
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get("kind") in ("sweep", "search"):
            return trial.user_attrs["kind"]
    return "search" if len(study.directions) > 1 else "sweep"


def study_fact(study, key: str):
    """A study-level attribute, falling back to the first trial record that has it."""
    value = study.user_attrs.get(key)
    if value not in (None, "", {}, []):
        return value
    for trial in study.get_trials(deepcopy=False):
        value = trial.user_attrs.get(key)
        if value not in (None, "", {}, []):
            return value
    return None


def grid_match(study, usable: pd.DataFrame) -> str:
    """The sweep's budget matching: grid ``match``, else the trials' common ``match``."""
    grid = study.user_attrs.get("grid") or {}
    match = grid.get("match") if isinstance(grid, dict) else None
    if match:
        return str(match)
    values = sorted({str(m) for m in usable["match"]}) if not usable.empty else []
    return values[0] if len(values) == 1 else ("mixed" if values else "none")

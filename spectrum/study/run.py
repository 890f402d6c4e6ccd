"""Running a study from start to finish, without the user interface.

This module owns what ``spectrum sweep``, ``spectrum search`` and ``spectrum run`` share below
the command line: opening the storage and the device for a plan (:func:`open_study_run`),
running the sweep or the search with the caller's progress events (:meth:`StudyRun.run`), and
what a finished study leaves behind: results.csv (:func:`save_results`), the table a finished
study shows (:func:`sweep_summary`, or :func:`best_trials_table` for a search); the
report is :func:`spectrum.report.writer.write_study_report`, a stage above this one. The command
line renders progress and prints the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
import torch

from ..device import configure, resolve_device
from ..errors import SpecError
from ..records import load_results
from .grid import SweepPlan
from .plan import SearchPlan
from .reuse import ReuseSource
from .search import open_search_study, run_search, state_counts
from .search import with_study_preset as search_preset
from .storage import describe_storage, open_storage
from .sweep import open_sweep_study, pending_points, run_sweep
from .sweep import with_study_preset as sweep_preset
from .trial import TrialEvents

SUMMARY_COLUMNS = (
    "segments",
    "order",
    "activation",
    "residual",
    "n_seeds",
    "test_acc_mean",
    "test_acc_std",
    "params_mean",
    "flops_mean",
    "live_params_mean",
    "live_flops_mean",
    "latency_ms_mean",
)


def check_study_name(name: str, what: str = "--study") -> str:
    """``name`` if it is one safe path component (it names ``reports/NAME/``), else SpecError.

    Refused: empty, ``.`` and ``..``, path separators (``/``, ``\\``), NUL and other control
    characters, and names longer than 200 characters.
    """
    text = str(name)
    problem = ""
    if not text.strip():
        problem = "is empty"
    elif text in (".", ".."):
        problem = "is not a name"
    elif "/" in text or "\\" in text:
        problem = "contains a path separator"
    elif any(ord(c) < 32 or ord(c) == 127 for c in text):
        problem = "contains a control character"
    elif len(text) > 200:
        problem = "is longer than 200 characters"
    if problem:
        raise SpecError(
            f"{what} {text!r} {problem}; a study name is one file name such as fig10-activation "
            "(letters, digits, '-', '_', '.')"
        )
    return text


@dataclass(frozen=True)
class StudyRun:
    """A sweep or search plan with its storage opened and its device configured."""

    plan: SweepPlan | SearchPlan
    name: str
    storage: optuna.storages.BaseStorage
    device: torch.device
    out_dir: Path
    storage_label: str  # masked, for messages and the report
    command: str = ""
    reuse: ReuseSource | None = None  # a sweep's first round from another study's trials

    @property
    def total(self) -> int:
        """How many trials the study will hold when done (a sequential sweep: its first round)."""
        if isinstance(self.plan, SweepPlan):
            return len(self.plan.points(self.plan.seeds))
        return self.plan.trials

    def prepare(self) -> int:
        """Create (a sweep: and queue) or check the study as its workers will find it; returns
        how many trials are left to run."""
        if isinstance(self.plan, SweepPlan):
            study = open_sweep_study(self.plan, self.name, self.storage, reuse=self.reuse)
            return pending_points(study, self.plan)
        study = open_search_study(self.plan, self.name, self.storage)
        return max(0, self.plan.trials - state_counts(study)["finished"])

    def load(self) -> optuna.Study:
        """The study as its workers left it."""
        return optuna.load_study(study_name=self.name, storage=self.storage)

    def run(self, events: TrialEvents) -> optuna.Study:
        """Run (or resume) the study; returns it with every finished trial's record on it."""
        if isinstance(self.plan, SweepPlan):
            return run_sweep(
                self.plan,
                self.name,
                self.storage,
                self.device,
                command=self.command,
                events=events,
                reuse=self.reuse,
            )
        return run_search(
            self.plan, self.name, self.storage, self.device, command=self.command, events=events
        )


def open_study_run(
    plan: SweepPlan | SearchPlan,
    name: str,
    storage: str | None,
    out: Path | None,
    device: str,
    *,
    command: str = "",
    storage_options: dict | None = None,
    reuse: ReuseSource | None = None,
) -> StudyRun:
    """Resolve the device, open the storage (default: SQLite in ``out`` or reports/NAME).

    Searches get a heartbeat storage, so that a dead worker's trial is re-queued;
    ``storage_options`` go to :func:`~spectrum.study.storage.open_storage` (heartbeat interval,
    grace period). ``reuse`` (sweeps only): see :mod:`spectrum.study.reuse`.
    """
    check_study_name(name)
    if reuse is not None and not isinstance(plan, SweepPlan):
        raise SpecError("--reuse starts a sweep from another sweep's trials; a search has none")
    if reuse is not None:
        reuse.open()  # a missing source fails now, before the dataset loads
    out_dir = out or Path("reports") / name
    torch_device = resolve_device(device)
    heartbeat = isinstance(plan, SearchPlan)
    optuna_storage = open_storage(storage, out_dir, heartbeat=heartbeat, **(storage_options or {}))
    resolve = sweep_preset if isinstance(plan, SweepPlan) else search_preset
    plan = resolve(plan, name, optuna_storage)  # auto: the study's own preset (resume.py)
    configure(torch_device)
    label = describe_storage(storage, out_dir)
    return StudyRun(plan, name, optuna_storage, torch_device, out_dir, label, command, reuse)


def save_results(study: optuna.Study, out_dir: Path) -> Path:
    """Write results.csv (one row per trial) into ``out_dir``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.csv"
    load_results(study).to_csv(path, index=False)
    return path


def sweep_summary(study: optuna.Study) -> pd.DataFrame:
    """Mean test accuracy and cost per configuration of a sweep, over its seeds."""
    # The statistics load scipy (seconds); only a finished sweep needs them.
    from ..stats.frames import trial_frame, usable_sweep
    from ..stats.summary import summarize

    summary = summarize(usable_sweep(trial_frame(study)))
    if summary.empty:
        return summary
    return summary[[c for c in SUMMARY_COLUMNS if c in summary]]


def best_trials_table(study: optuna.Study) -> pd.DataFrame:
    """The best feasible trials (the Pareto front; one row for a single objective)."""
    names = study.user_attrs.get("objectives") or [
        f"objective{i}" for i in range(len(study.directions))
    ]
    try:
        best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
    except ValueError:
        best = []
    rows = []
    for trial in sorted(best, key=lambda t: t.number):
        attrs = trial.user_attrs
        if attrs.get("status") == "infeasible":
            continue
        row = {
            "trial": trial.number,
            "segments": attrs.get("segments"),
            "order": attrs.get("order"),
            "activation": attrs.get("activation"),
            "width": trial.params.get("width"),
            "repeats": trial.params.get("repeats"),
            "residual": trial.params.get("residual"),
        }
        if "lr" in trial.params:
            row["lr"] = trial.params["lr"]
        for name, value in zip(names, trial.values):
            row[name] = int(value) if name in ("params", "flops") else value
        row["test_acc"] = attrs.get("test_acc")
        rows.append(row)
    return pd.DataFrame(rows)

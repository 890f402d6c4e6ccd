"""Running a study from start to finish, for the Python API and the command line alike.

:func:`run_study` owns a run of :func:`spectrum.sweep`, :func:`spectrum.search` and of the
``spectrum sweep``, ``search`` and ``run`` commands: it opens the study
(:func:`spectrum.study.run.open_study_run`), runs its trials in this process or packed into
``jobs`` worker processes (:mod:`spectrum.study.workers`), then writes results.csv and, when
asked, the report. In a worker of a packed run (:func:`~spectrum.study.workers.is_worker`) it
only runs trials: the parent saves and reports. Progress goes to the caller's
``progress(event, data)`` (:data:`PROGRESS_EVENTS`); the commands draw their bars from those
events and print the :class:`Finished` run. Nothing here prints or installs a signal handler: a
KeyboardInterrupt (Ctrl-C, or SIGTERM under :func:`spectrum.stopping.sigterm_as_interrupt`)
leaves the finished trials in the storage and goes on to the caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from .nets import Progress

if TYPE_CHECKING:
    import optuna

    from ..study.grid import SweepPlan
    from ..study.plan import SearchPlan
    from ..study.reuse import ReuseSource
    from ..study.run import StudyRun
    from ..study.trial import TrialEvents

PROGRESS_EVENTS = {
    "opened": "the study is open: study, storage, out, total (trials), jobs (1: this "
    "process), threads (with jobs > 1), worker (in a packed run's worker)",
    "trial_started": "done, total, label",
    "step": "epoch, step, steps",
    "epoch": "epoch, train_loss, val_acc, seconds, images_per_s",
    "trial_finished": "the trial's record: segments, status, params, flops, test_acc, ...",
    "notice": "text: one line for the user, not an error",
    "workers": "with jobs > 1, about once a second: done (finished trials), partly (the "
    "finished epochs of the running ones, in trials), total, running (a label per running "
    "trial, with its epoch), ended (label, status, test_acc, error of each trial ended since)",
}


@dataclass(frozen=True)
class Finished:
    """A run that ended: its study and what was written (nothing in a packed run's worker)."""

    study: optuna.Study
    storage_label: str  # masked, for messages
    results: Path | None = None  # results.csv
    report: Path | None = None


def reuse_source(storage: str | Path | None, study: str | None) -> ReuseSource | None:
    """What ``--reuse`` / ``reuse`` and ``--reuse-study`` / ``reuse_study`` name, if anything."""
    from ..study.reuse import ReuseSource

    if storage is None:
        if study is not None:
            raise SpecError("--reuse-study needs --reuse (where the study to reuse is stored)")
        return None
    return ReuseSource(str(storage), study)


def trial_events(progress: Progress | None) -> TrialEvents:
    """The study's trial callbacks as ``progress`` events."""
    from ..study.trial import TrialEvents

    if progress is None:
        return TrialEvents()
    return TrialEvents(
        trial_started=lambda done, total, label: progress(
            "trial_started", {"done": done, "total": total, "label": label}
        ),
        step=lambda epoch, step, steps: progress(
            "step", {"epoch": epoch, "step": step, "steps": steps}
        ),
        epoch=lambda record: progress("epoch", dict(record.__dict__)),
        trial_finished=lambda record: progress("trial_finished", dict(record)),
        notice=lambda text: progress("notice", {"text": text}),
    )


def run_study(
    plan: SweepPlan | SearchPlan,
    study: str,
    storage: str | None,
    out: str | Path | None,
    device: str,
    *,
    argv: list[str],
    report: bool = False,
    progress: Progress | None = None,
    storage_options: dict | None = None,
    jobs: int | str = 1,
    reuse: ReuseSource | None = None,
    command: str = "spectrum python api",
    resume: str = "call again to resume",
) -> Finished:
    """Open, run (in this process, or ``jobs`` workers running ``spectrum ARGV --jobs 1``), save.

    ``storage_options`` go to :func:`spectrum.study.storage.open_storage`; ``reuse``: see
    :mod:`spectrum.study.reuse`; ``command`` is stored on the study; ``resume`` says how to
    resume when a worker fails.
    """
    from ..study import workers
    from ..study.run import open_study_run, save_results

    study_run = open_study_run(
        plan,
        study,
        storage,
        Path(out) if out is not None else None,
        device,
        command=command,
        storage_options=storage_options,
        reuse=reuse,
    )
    emit = progress or (lambda event, data: None)
    opened = {
        "study": study_run.name,
        "storage": study_run.storage_label,
        "out": str(study_run.out_dir),
        "total": study_run.total,
    }
    if workers.is_worker():
        emit("opened", {**opened, "jobs": 1, "worker": True})
        return Finished(study_run.run(trial_events(progress)), study_run.storage_label)
    count = 1
    if str(jobs).strip() != "1":
        count = workers.resolve_jobs(str(jobs), study_run.device, study_run.prepare())
    if count > 1:
        threads = workers.worker_threads(count)
        emit("opened", {**opened, "jobs": count, "threads": threads})
        workers.run_workers(
            argv,
            count,
            threads,
            lambda processes: watch_workers(processes, study_run, emit),
            study_run.storage_label,
            resume,
        )
        finished = study_run.load()
    else:
        emit("opened", {**opened, "jobs": 1})
        finished = study_run.run(trial_events(progress))
    results = save_results(finished, study_run.out_dir)
    written = None
    if report:
        from ..report.writer import write_study_report  # matplotlib: seconds of imports

        written = write_study_report(finished, study_run.out_dir, study_run.storage_label)
    return Finished(finished, study_run.storage_label, results, written)


def running_epochs(trials, epochs: int) -> tuple[float, list[str]]:
    """(fraction of a trial done, summed over ``trials``; one label per trial with its epoch).

    A running trial reports each finished epoch to the storage (an Optuna intermediate value),
    so ``g=4|...|seed=0 epoch 2/4`` names the epoch it is in and 1/4 of it counts as done.
    """
    from ..study.workers import trial_label

    done, labels = 0.0, []
    for trial in trials:
        finished = min(len(trial.intermediate_values), epochs)
        done += finished / epochs if epochs else 0.0
        now = min(finished + 1, epochs)
        labels.append(f"{trial_label(trial)} epoch {now}/{epochs}")
    return done, labels


def watch_workers(processes, study_run: StudyRun, progress: Progress, poll_s: float = 1.0) -> None:
    """Until every worker has exited, ``progress("workers", ...)`` with the trials finished and
    running (read from the storage), each running trial's epoch, and the trials ended since."""
    from optuna.trial import TrialState

    from ..study.grid import SweepPlan
    from ..study.workers import study_progress, trial_label

    sweep_run = isinstance(study_run.plan, SweepPlan)
    epochs = int(study_run.plan.train.epochs)
    shown: set[int] = set()
    while True:
        alive = [p for p in processes if p.poll() is None]
        study = study_run.load()
        done, known, ended = study_progress(study, sweep_run)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        partly, labels = running_epochs(running, epochs)
        new = [trial for trial in ended if trial.number not in shown]
        shown.update(trial.number for trial in new)
        progress(
            "workers",
            {
                "done": done,
                "partly": partly,
                "total": max(study_run.total, known),  # a sequential sweep grows by rounds
                "running": labels,
                "ended": [_ended(trial, trial_label(trial)) for trial in new],
            },
        )
        if not alive:
            return
        time.sleep(poll_s)


def _ended(trial, label: str) -> dict[str, Any]:
    attrs = trial.user_attrs
    return {
        "label": label,
        "status": attrs.get("status"),
        "test_acc": attrs.get("test_acc"),
        "error": attrs.get("error"),
    }

"""Running a study from a command (sweep, search, run): in this process or packed into workers,
stopping cleanly on Ctrl-C or SIGTERM, and the summary, results.csv and report at the end.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import SpectrumError
from ..stopping import Stopped, exit_code, sigterm_as_interrupt
from ..study import workers
from ..study.grid import SweepPlan
from ..study.plan import SearchPlan
from ..study.reuse import ReuseSource
from ..study.run import best_trials_table, open_study_run, save_results, sweep_summary
from ..study.trial import TrialEvents
from .flags import command_line, invoked_args
from .progress import TrialProgress, echo_table, packed_bar, watch_workers


def run_study_command(
    plan: SweepPlan | SearchPlan,
    study: str,
    storage: str | None,
    out: Path | None,
    device: str,
    report: bool,
    storage_options: dict | None = None,
    jobs: str = "1",
    reuse: ReuseSource | None = None,
) -> None:
    """Shared by sweep, search and run: open, run with progress bars, print the summary.

    ``storage_options`` go to :func:`spectrum.study.storage.open_storage` (heartbeat interval, ...).
    ``jobs``: see :mod:`spectrum.study.workers`; in a worker of a packed run, only the trials run.
    ``reuse``: see :mod:`spectrum.study.reuse`.
    """
    study_run = open_study_run(
        plan,
        study,
        storage,
        out,
        device,
        command=command_line(),
        storage_options=storage_options,
        reuse=reuse,
    )
    if workers.is_worker():
        with sigterm_as_interrupt(first_only_sigint=True):
            try:
                study_run.run(TrialEvents(notice=say))
            except KeyboardInterrupt as stop:  # the parent reports it
                raise typer.Exit(exit_code(stop)) from None
        return
    if str(jobs).strip() != "1":
        pending = study_run.prepare()
        count = workers.resolve_jobs(jobs, study_run.device, pending)
        if count > 1:
            run_packed(study_run, count, report=report)
            return
    run_in_process(study_run, report)


def say(text: str) -> None:
    """A notice from the library (not an error): one line on stderr."""
    typer.echo(f"spectrum: {text}", err=True)


def stopped_exit(stop: KeyboardInterrupt, storage_label: str) -> typer.Exit:
    """Say that finished trials are kept; the exit to raise (130 for Ctrl-C, 143 for SIGTERM)."""
    how = str(stop) if isinstance(stop, Stopped) else "interrupted"
    typer.echo(
        f"spectrum: {how}; finished trials are kept in {storage_label}; "
        f"re-run the same command to resume",
        err=True,
    )
    return typer.Exit(exit_code(stop))


def run_in_process(study_run, report: bool) -> None:
    """Run the study's trials in this process with a progress bar, then finish it."""
    progress = TrialProgress(study_run.total)
    started: list[str] = []

    def trial_started(done: int, total: int, label: str) -> None:
        started.append(label)
        progress.trial_started(done, total, label)

    events = progress.events()
    events.trial_started = trial_started
    with sigterm_as_interrupt():
        try:
            finished = study_run.run(events)
        except KeyboardInterrupt as stop:
            progress.close()
            raise stopped_exit(stop, study_run.storage_label) from None
    progress.close()
    if not started:
        typer.echo(f"all {study_run.total} trials are already done; nothing to train")
    finish_study(finished, study_run.out_dir, study_run.storage_label, report)


def run_packed(
    study_run,
    jobs: int,
    poll_s: float = 1.0,
    report: bool = True,
    argv: list[str] | None = None,
) -> None:
    """Run ``jobs`` workers of the study (see :mod:`spectrum.study.workers`), show all of them.

    The workers run ``argv`` (the arguments after ``spectrum``; default: the running command's,
    :func:`invoked_args`) with ``--jobs 1``.
    """
    threads = workers.worker_threads(jobs)
    typer.echo(f"{jobs} workers, {threads} CPU thread(s) each, on {study_run.storage_label}")
    argv = invoked_args() if argv is None else argv
    bar = packed_bar(study_run.total)
    with sigterm_as_interrupt():
        try:
            workers.run_workers(
                argv,
                jobs,
                threads,
                lambda processes: watch_workers(processes, study_run, bar, poll_s),
                study_run.storage_label,
                "re-run the same command to resume",
            )
        except KeyboardInterrupt as stop:
            bar.close()
            raise stopped_exit(stop, study_run.storage_label) from None
        except SpectrumError:
            bar.close()
            raise
    bar.close()
    finish_study(study_run.load(), study_run.out_dir, study_run.storage_label, report)


def finish_study(study, out_dir: Path, storage_label: str, report: bool) -> None:
    """Print the summary, write results.csv and (optionally) the report."""
    results = save_results(study, out_dir)
    if study.user_attrs.get("kind") == "sweep":
        summary = sweep_summary(study)
        if not summary.empty:
            echo_table(summary, "{:.4f}")
    elif study.user_attrs.get("kind") == "search":
        best = best_trials_table(study)
        typer.echo(
            "best trials (Pareto front of the feasible trials):"
            if len(study.directions) > 1
            else "best trial:"
        )
        if best.empty:
            typer.echo("  none: no feasible trial completed")
        else:
            echo_table(best, "{:.4f}")
    typer.echo(f"results: {results}  (storage: {storage_label})")
    if report:
        from ..report.writer import write_study_report  # matplotlib: seconds of imports

        typer.echo(f"report: {write_study_report(study, out_dir, storage_label)}")

"""What ``spectrum sweep``, ``search`` and ``run`` do around the API's run
(:func:`spectrum.api.runs.run_study`): its bars (:class:`~.progress.RunProgress`), stopping
cleanly on Ctrl-C or SIGTERM (exit 130 or 143, the finished trials kept), and the summary
printed at the end.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..api.runs import Finished, run_study
from ..stopping import Stopped, exit_code, sigterm_as_interrupt
from ..study import workers
from ..study.grid import SweepPlan
from ..study.plan import SearchPlan
from ..study.reuse import ReuseSource
from ..study.run import best_trials_table, sweep_summary
from .flags import command_line, invoked_args
from .progress import RunProgress, echo_table


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
    """Shared by sweep, search and run: the API's run with the command's bars, then its summary.

    ``storage_options`` go to :func:`spectrum.study.storage.open_storage` (heartbeat interval, ...).
    ``jobs``: see :mod:`spectrum.study.workers`; the workers run the command as typed
    (:func:`invoked_args`); in a worker of a packed run, only the trials run. ``reuse``: see
    :mod:`spectrum.study.reuse`.
    """
    worker = workers.is_worker()
    shown = RunProgress()
    with sigterm_as_interrupt(first_only_sigint=worker):
        try:
            finished = run_study(
                plan,
                study,
                storage,
                out,
                device,
                argv=invoked_args(),
                report=report,
                progress=shown,
                storage_options=storage_options,
                jobs=jobs,
                reuse=reuse,
                command=command_line(),
                resume="re-run the same command to resume",
            )
        except KeyboardInterrupt as stop:
            shown.close()
            if worker:  # the parent reports it
                raise typer.Exit(exit_code(stop)) from None
            raise stopped_exit(stop, shown.storage_label) from None
        finally:
            shown.close()
    if worker:
        return
    if shown.nothing_trained:
        typer.echo(f"all {shown.total} trials are already done; nothing to train")
    print_finished(finished)


def stopped_exit(stop: KeyboardInterrupt, storage_label: str) -> typer.Exit:
    """Say that finished trials are kept; the exit to raise (130 for Ctrl-C, 143 for SIGTERM)."""
    how = str(stop) if isinstance(stop, Stopped) else "interrupted"
    typer.echo(
        f"spectrum: {how}; finished trials are kept in {storage_label}; "
        f"re-run the same command to resume",
        err=True,
    )
    return typer.Exit(exit_code(stop))


def print_finished(finished: Finished) -> None:
    """The summary of a finished study, where its results.csv and report were written."""
    study = finished.study
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
    typer.echo(f"results: {finished.results}  (storage: {finished.storage_label})")
    if finished.report is not None:
        typer.echo(f"report: {finished.report}")

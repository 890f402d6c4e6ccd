"""``spectrum report``, ``spectrum compare`` and ``spectrum dashboard``: reading stored studies."""

from __future__ import annotations

from pathlib import Path

import typer

from ..api.reports import compare, write_report

# What ``spectrum report`` and ``spectrum dashboard`` read: a report directory, or a study name
# in a storage.
TARGET = typer.Argument(
    ..., help="A report directory holding study.db, or a study name with --storage."
)
STORAGE = typer.Option(None, help="Optuna storage URL or file.")


def report_command(
    target: str = TARGET,
    storage: str | None = STORAGE,
    study: str | None = typer.Option(
        None, help="Study name (needed if the storage holds several)."
    ),
    out: Path | None = typer.Option(None, help="Where to write (default: the directory)."),
    margin: float | None = typer.Option(
        None,
        help="Equivalence margin in accuracy points (default: the study's, else 0.5).",
    ),
) -> None:
    """Tables, Pareto plots, curves, EDFs and the verdict, rebuilt from the study storage."""
    path = write_report(target, storage=storage, study=study, out=out, margin=margin)
    typer.echo(f"report: {path}")


def compare_command(
    a: str = typer.Argument(..., help="Study A: a report directory with study.db, or a name."),
    b: str = typer.Argument(..., help="Study B: a report directory with study.db, or a name."),
    storage_a: str | None = typer.Option(None, help="Storage URL of A (A is then a study name)."),
    storage_b: str | None = typer.Option(None, help="Storage URL of B (B is then a study name)."),
    out: Path | None = typer.Option(None, help="Where to write (default reports/compare-A-vs-B)."),
    across_match: bool = typer.Option(
        False,
        "--across-match",
        help="Pair configurations across the studies' match values (one each), e.g. matched "
        "params on one proxy against matched live params on another.",
    ),
) -> None:
    """Two sweeps over their shared configurations: differences, rank agreement, verdict flips."""
    written = compare(
        a, b, storage_a=storage_a, storage_b=storage_b, out=out, across_match=across_match
    )
    typer.echo(f"compare: {written}")


def dashboard(
    target: str = TARGET,
    storage: str | None = STORAGE,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8080, help="Port to listen on (0: any free port)."),
) -> None:
    """optuna-dashboard on a study's storage (needs: pip install 'spectrum[dashboard]')."""
    from spectrum.dashboard import (
        dashboard_server,
        dashboard_storage,
        dashboard_url,
        serve_until_stopped,
    )

    server = dashboard_server(dashboard_storage(target, storage), host, port)
    typer.echo(f"dashboard: {dashboard_url(server)}  (Ctrl-C stops it)")
    serve_until_stopped(server)
    typer.echo("dashboard stopped")

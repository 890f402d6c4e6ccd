"""``spectrum report``, ``spectrum compare`` and ``spectrum dashboard``: reading stored studies."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import SpecError
from ..study.run import check_study_name
from ..study.storage import describe_storage, load_existing_study, open_storage

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
    if margin is not None and not margin > 0:
        raise SpecError(f"--margin must be > 0 accuracy points, got {margin:g}")
    target_path = Path(target)
    if storage is None:
        if not target_path.is_dir():
            raise SpecError(
                f"{target!r} is not a directory; give a report directory or "
                f"--storage URL with a study name"
            )
        if not (target_path / "study.db").exists():
            raise SpecError(f"{target_path / 'study.db'} does not exist; give --storage")
        base_dir = target_path
    else:
        base_dir = out or Path("reports") / (study or target_path.name)
        study = study or (None if target_path.is_dir() else target)
    if study is not None:
        check_study_name(study, "study")
    optuna_storage = open_storage(storage, base_dir, heartbeat=False)
    loaded = load_existing_study(optuna_storage, study)
    if out is None and not target_path.is_dir():
        check_study_name(loaded.study_name, "study")
    out_dir = out or (target_path if target_path.is_dir() else Path("reports") / loaded.study_name)
    from spectrum.report import write_report  # seconds of imports, as in api.runs.run_study

    label = describe_storage(storage, base_dir)
    path = write_report(loaded, out_dir, storage_label=label, margin=margin)
    typer.echo(f"report: {path}")


def _open_compared(target: str, storage: str | None, which: str):
    """A compared study: a report folder with study.db, or a study name in ``storage``."""
    path = Path(target)
    if storage is None:
        if not (path / "study.db").is_file():
            raise SpecError(
                f"study {which}: {path / 'study.db'} does not exist; give --storage-{which.lower()}"
            )
        return load_existing_study(open_storage(None, path, heartbeat=False), None), path.name
    name = None if path.is_dir() else target
    loaded = load_existing_study(open_storage(storage, path, heartbeat=False), name)
    return loaded, loaded.study_name


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
    study_a, label_a = _open_compared(a, storage_a, "A")
    study_b, label_b = _open_compared(b, storage_b, "B")
    from spectrum.report.compare_report import write_compare  # seconds of imports

    out_dir = out or Path("reports") / f"compare-{label_a}-vs-{label_b}"
    written = write_compare(
        study_a, study_b, out_dir, label_a=label_a, label_b=label_b, across_match=across_match
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

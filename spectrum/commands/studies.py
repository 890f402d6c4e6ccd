"""``spectrum sweep``, ``spectrum search`` and ``spectrum run``: the commands that run a study."""

from __future__ import annotations

from pathlib import Path

import typer

from ..api.runs import reuse_source
from ..study.grid import sweep_options, sweep_plan
from ..study.plan import search_options, search_plan, storage_options
from ..study.run import check_study_name
from ..study.studyfile import load_study
from .flags import (
    JOBS,
    MARGIN,
    REUSE,
    REUSE_OPTION,
    REUSE_STUDY,
    REUSE_STUDY_OPTION,
    command,
    run_options,
)
from .running import run_study_command

SWEEP_RUN = (
    *run_options(
        "quickstart",
        "Study name (one grid per name).",
        "Optuna storage URL or file; default: SQLite study.db in the output directory.",
    ),
    REUSE_OPTION,
    REUSE_STUDY_OPTION,
)


@command(*sweep_options(), *SWEEP_RUN)
def sweep(**values) -> None:
    """Train proxies across the spectrum as one resumable Optuna study."""
    run = {opt.name: values.pop(opt.name) for opt in SWEEP_RUN}
    source = reuse_source(run.pop("reuse"), run.pop("reuse_study"))
    plan = sweep_plan(values)
    run_study_command(
        plan,
        run["study"],
        run["storage"],
        run["out"],
        run["device"],
        run["report"],
        jobs=run["jobs"],
        reuse=source,
    )


SEARCH_RUN = run_options(
    "search",
    "Study name; start the same command in several processes (same --storage) to add workers.",
    "Optuna storage: default SQLite study.db in the output directory; a .log/journal: file for "
    "several processes on one machine; postgresql:// or mysql:// for several machines.",
)


@command(*search_options(), *SEARCH_RUN)
def search(**values) -> None:
    """Search per-flow points of the spectrum with Optuna: one or several objectives, pruning,
    constraints, any number of workers on one study."""
    run = {opt.name: values.pop(opt.name) for opt in SEARCH_RUN}
    run_study_command(
        search_plan(values),
        run["study"],
        run["storage"],
        run["out"],
        run["device"],
        run["report"],
        storage_options=storage_options(values),
        jobs=run["jobs"],
    )


def run(
    study_file: Path = typer.Argument(..., help="A study file, e.g. studies/fig10-activation.toml"),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a field: --set train.epochs=3 (repeatable)."
    ),
    device: str | None = typer.Option(None, help="Override the study's device."),
    storage: str | None = typer.Option(None, help="Override the study's storage URL."),
    out: Path | None = typer.Option(None, help="Output directory (default reports/NAME)."),
    until_decided: bool = typer.Option(
        False, "--until-decided", help="Sequential seeds (= --set sweep.until_decided=true)."
    ),
    max_seeds: int | None = typer.Option(None, help="= --set sweep.max_seeds=N"),
    seed_step: int | None = typer.Option(None, help="= --set sweep.seed_step=N"),
    margin: float | None = MARGIN,
    jobs: str = JOBS,
    reuse: str | None = REUSE,
    reuse_study: str | None = REUSE_STUDY,
) -> None:
    """Run (or resume) a ready-made study file and write its report into reports/NAME/."""
    source = reuse_source(reuse, reuse_study)
    flags = {
        "until_decided": until_decided or None,
        "max_seeds": max_seeds,
        "seed_step": seed_step,
        "margin": margin,
    }
    set_ = [*set_, *(f"sweep.{k}={str(v).lower()}" for k, v in flags.items() if v is not None)]
    study = load_study(study_file, set_)
    check_study_name(study.name, f"{study_file}: [study].name")
    plan = study.sweep if study.kind == "sweep" else study.search
    run_study_command(
        plan,
        study.name,
        storage or study.storage,
        out,
        device or study.device,
        True,
        jobs=jobs,
        reuse=source,
    )

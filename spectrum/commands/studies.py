"""``spectrum sweep``, ``spectrum search`` and ``spectrum run``: the commands that run a study."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cost.latency import LatencySettings
from ..data import DataConfig
from ..engine.train import TrainConfig
from ..fields import Option, build, flag_of
from ..study.grid import sweep_options, sweep_plan
from ..study.plan import SearchPlan, search_plan, search_space
from ..study.run import check_study_name
from ..study.space import flow_overrides
from ..study.studyfile import load_study
from .flags import (
    DATA,
    DEVICE,
    DEVICE_OPTION,
    JOBS,
    JOBS_OPTION,
    MARGIN,
    OUT_OPTION,
    PRESET,
    REPORT_OPTION,
    REUSE,
    REUSE_OPTION,
    REUSE_STUDY,
    REUSE_STUDY_OPTION,
    TRAINING,
    command,
    reuse_source,
)
from .running import run_study_command

SWEEP_RUN = (
    Option("study", "study", "quickstart", "Study name (one grid per name).", str),
    Option(
        "storage",
        "storage",
        None,
        "Optuna storage URL or file; default: SQLite study.db in the output directory.",
        str | None,
    ),
    OUT_OPTION,
    DEVICE_OPTION,
    REPORT_OPTION,
    JOBS_OPTION,
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


@command(*DATA.values(), *TRAINING.values())
def search(
    objectives: str = typer.Option(
        "accuracy",
        help="Comma-separated, any of: accuracy (validation, maximized), params, "
        "flops, latency (minimized). Several objectives make a multi-objective study.",
    ),
    trials: int = typer.Option(
        20,
        help="Stop when the study holds this many finished trials "
        "(complete, infeasible or pruned; failed ones do not count). "
        "Every worker on the study stops there.",
    ),
    sampler: str = typer.Option("tpe", help="tpe | nsga2 | random (NSGA-II population 10)."),
    pruner: str = typer.Option(
        "auto",
        help="auto | median | hyperband | front | none. median and hyperband: single "
        "objective 'accuracy' only (auto: hyperband there, else none); front: several "
        "objectives, prunes a trial when a finished trial that costs no more was ahead by more "
        "than the band at the same epoch (--prune-band, wider toward early epochs).",
    ),
    prune_band: float = typer.Option(
        SearchPlan.prune_band,
        help="The seed-noise band for the final validation accuracy (0.015 = 1.5 points): "
        "screens the candidates of --confirm; the front pruner widens it toward early epochs "
        "(docs/search.md).",
    ),
    confirm: int = typer.Option(
        0,
        help="After the search, re-train the configurations near the Pareto front with up to "
        "this many seeds (3 first, more only where dominance is undecided) and report the "
        "front within noise. 0: off.",
    ),
    seed: int = typer.Option(
        0,
        help="Seeds the sampler (per trial number, so workers differ "
        "and one worker is reproducible) and every trial's training.",
    ),
    segments: list[str] | None = typer.Option(
        None,
        help="g choices, e.g. 1,4,C for every flow, or FLOW=LIST (entry=1,2 / middle=C / "
        "exit=4,C) for one flow; repeatable. Default: every power of two dividing the flow's "
        "channels at every width, and C.",
    ),
    orders: list[str] | None = typer.Option(
        None,
        help="Op orders (depthwise-first, pointwise-first), as LIST or FLOW=LIST; "
        "repeatable. Default: both.",
    ),
    activations: list[str] | None = typer.Option(
        None,
        help="Intermediate activations (none, relu, elu), as LIST or FLOW=LIST; "
        "repeatable. Default: all three.",
    ),
    widths: str = typer.Option("0.5,0.75,1.0", help="Width multiplier choices."),
    repeats: str = typer.Option("1,2,3", help="Middle-flow repeat choices."),
    residual: str = typer.Option("on,off", help="Residual choices: on, off or on,off."),
    lr: str = typer.Option(
        str(TrainConfig.lr),
        help="Learning rate: one value (not searched), "
        "a list of choices (0.05,0.2) or a log-uniform range LOW:HIGH.",
    ),
    max_params: int | None = typer.Option(
        None, help="Constraint: at most this many parameters (checked before training)."
    ),
    max_flops: int | None = typer.Option(
        None, help="Constraint: at most this many FLOPs (fvcore multiply-adds per image)."
    ),
    max_latency_ms: float | None = typer.Option(
        None, help="Constraint: at most this inference latency per batch (ms)."
    ),
    latency: bool = typer.Option(
        True,
        "--latency/--no-latency",
        help="Measure latency of every trial (needed by the latency objective/constraint).",
    ),
    preset: str = PRESET,
    study: str = typer.Option(
        "search",
        help="Study name; start the same command in several "
        "processes (same --storage) to add workers.",
    ),
    storage: str | None = typer.Option(
        None,
        help="Optuna storage: default SQLite study.db "
        "in the output directory; a .log/journal: file for "
        "several processes on one machine; postgresql:// or "
        "mysql:// for several machines.",
    ),
    out: Path | None = typer.Option(None, help="Output directory (default reports/STUDY)."),
    device: str = DEVICE,
    report: bool = typer.Option(True, "--report/--no-report", help="Write the report at the end."),
    heartbeat_interval: int = typer.Option(
        10, help="Seconds between trial heartbeats (SQL storages)."
    ),
    grace_period: int = typer.Option(
        30, help="Seconds without a heartbeat before a trial is failed and re-queued once."
    ),
    jobs: str = JOBS,
    **values,
) -> None:
    """Search per-flow points of the spectrum with Optuna: one or several objectives, pruning,
    constraints, any number of workers on one study."""
    flows = [flow_overrides(v, k) for v, k in ((segments, "segments"), (orders, "orders"))]
    flows.append(flow_overrides(activations, "activations"))
    space, base_lr = search_space(
        flows, dict(widths=widths, repeats=repeats, residual=residual, preset=preset, lr=lr)
    )
    plan = search_plan(
        dict(
            objectives=objectives,
            trials=trials,
            sampler=sampler,
            pruner=pruner,
            prune_band=prune_band,
            confirm=confirm,
            seed=seed,
            max_params=max_params,
            max_flops=max_flops,
            max_latency_ms=max_latency_ms,
        ),  # fmt: skip
        space,
        data=build(DataConfig, values, flag_of),
        train=build(TrainConfig, {**values, "lr": base_lr}, flag_of),
        latency=LatencySettings() if latency else None,
        where=lambda key: "--" + key.replace("_", "-"),
    )
    run_study_command(
        plan,
        study,
        storage,
        out,
        device,
        report,
        storage_options={"heartbeat_interval": heartbeat_interval, "grace_period": grace_period},
        jobs=jobs,
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

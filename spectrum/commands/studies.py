"""``spectrum sweep``, ``spectrum search`` and ``spectrum run``: the commands that run a study."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cost.latency import LatencySettings
from ..data import data_config_from_flags
from ..engine.train import TrainConfig, train_config_from_flags
from ..errors import SpecError
from ..net.segments import parse_segments_list
from ..options import ACTIVATIONS, MATCH_CHOICES, ORDERS, parse_choice, parse_list
from ..study.grid import SweepPlan, seed_schedule
from ..study.plan import Constraints, SearchPlan
from ..study.run import check_study_name
from ..study.space import SearchSpace, flow_overrides, merge_space_data
from ..study.studyfile import load_study
from .flags import (
    AUGMENT,
    BATCH_SIZE,
    COMPILE,
    DATA_DIR,
    DATASET,
    DEVICE,
    EPOCHS,
    JOBS,
    LR,
    MARGIN,
    PRECISION,
    PRESET,
    REUSE,
    REUSE_STUDY,
    SCHEDULE,
    SEGMENTS,
    TRAIN_SUBSET,
    VAL_SIZE,
    WEIGHT_DECAY,
    parse_residual,
    reuse_source,
)
from .running import run_study_command


def sweep(
    segments: str = SEGMENTS,
    orders: str = typer.Option("depthwise-first", help="Comma-separated op orders."),
    activations: str = typer.Option("none", help="Comma-separated: none, relu, elu."),
    residual: str = typer.Option("on", help="Comma-separated: on, off."),
    seeds: int = typer.Option(
        1, help="Seeds per configuration (0..N-1); with --until-decided, the first round."
    ),
    until_decided: bool = typer.Option(
        False,
        "--until-decided",
        help="Sequential seeds: after each round, add seeds only to configurations whose "
        "comparisons are undecided; the level is split over the planned looks.",
    ),
    max_seeds: int | None = typer.Option(
        None, help="With --until-decided: the most seeds a configuration gets (default 12)."
    ),
    seed_step: int | None = typer.Option(
        None, help="With --until-decided: seeds added per round (default: --seeds)."
    ),
    margin: float | None = MARGIN,
    match: str = typer.Option(
        "none",
        help="Scale widths to the g=C budget: none | params | flops | live-params | live-flops",
    ),
    width: float = typer.Option(1.0, help="Width multiplier of the base net."),
    latency: bool = typer.Option(
        True,
        "--latency/--no-latency",
        help="Time every trial's inference and training step (seconds per trial); not part of "
        "the study's settings, so a resumed sweep may change it.",
    ),
    preset: str = PRESET,
    dataset: str = DATASET,
    data_dir: Path | None = DATA_DIR,
    val_size: int = VAL_SIZE,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    weight_decay: float = WEIGHT_DECAY,
    schedule: str = SCHEDULE,
    augment: bool = AUGMENT,
    compile_: bool = COMPILE,
    train_subset: int | None = TRAIN_SUBSET,
    precision: str = PRECISION,
    study: str = typer.Option("quickstart", help="Study name (one grid per name)."),
    storage: str | None = typer.Option(
        None, help="Optuna storage URL or file; default: SQLite study.db in the output directory."
    ),
    out: Path | None = typer.Option(None, help="Output directory (default reports/STUDY)."),
    device: str = DEVICE,
    report: bool = typer.Option(True, "--report/--no-report", help="Write the report at the end."),
    jobs: str = JOBS,
    reuse: str | None = REUSE,
    reuse_study: str | None = REUSE_STUDY,
) -> None:
    """Train proxies across the spectrum as one resumable Optuna study."""
    source = reuse_source(reuse, reuse_study)
    plan = SweepPlan(
        segments=tuple(parse_segments_list(segments)),
        orders=parse_list(orders, ORDERS, "--orders"),
        activations=parse_list(activations, ACTIVATIONS, "--activations"),
        residual=parse_residual(residual),
        seeds=seeds,
        schedule=seed_schedule(seeds, until_decided, max_seeds, seed_step),
        margin=margin,
        match=parse_choice(match, MATCH_CHOICES, "--match"),
        preset=preset,
        width_multiplier=width,
        train=train_config_from_flags(
            epochs,
            batch_size,
            lr,
            weight_decay,
            schedule,
            augment,
            compile_,
            train_subset,
            precision,
        ),
        data=data_config_from_flags(dataset, data_dir, val_size),
        latency=LatencySettings(enabled=latency),
    )
    run_study_command(plan, study, storage, out, device, report, jobs=jobs, reuse=source)


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
        "than --prune-band at the same epoch.",
    ),
    prune_band: float = typer.Option(
        SearchPlan.prune_band,
        help="The front pruner's seed-noise band (validation accuracy, 0.015 = 1.5 points); "
        "also screens the candidates of --confirm.",
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
    dataset: str = DATASET,
    data_dir: Path | None = DATA_DIR,
    val_size: int = VAL_SIZE,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    weight_decay: float = WEIGHT_DECAY,
    schedule: str = SCHEDULE,
    augment: bool = AUGMENT,
    compile_: bool = COMPILE,
    train_subset: int | None = TRAIN_SUBSET,
    precision: str = PRECISION,
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
) -> None:
    """Search per-flow points of the spectrum with Optuna: one or several objectives, pruning,
    constraints, any number of workers on one study."""
    lr_text = lr.strip()
    searched_lr = "," in lr_text or ":" in lr_text
    space = SearchSpace.from_dict(
        merge_space_data(
            flow_overrides(segments, "segments"),
            flow_overrides(orders, "orders"),
            flow_overrides(activations, "activations"),
            {
                "widths": widths,
                "repeats": repeats,
                "residual": residual,
                "preset": preset,
                **({"lr": lr_text} if searched_lr else {}),
            },
        )
    )
    try:
        base_lr = TrainConfig.lr if searched_lr else float(lr_text)
    except ValueError:
        raise SpecError(
            f"--lr {lr!r}: give a number, a list (0.05,0.2) or a range LOW:HIGH"
        ) from None
    plan = SearchPlan(
        space=space,
        objectives=tuple(o.strip().lower() for o in objectives.split(",")),
        constraints=Constraints(max_params, max_flops, max_latency_ms),
        trials=trials,
        sampler=sampler.strip().lower(),
        pruner=pruner.strip().lower(),
        prune_band=prune_band,
        confirm=confirm,
        seed=seed,
        train=train_config_from_flags(
            epochs,
            batch_size,
            base_lr,
            weight_decay,
            schedule,
            augment,
            compile_,
            train_subset,
            precision,
        ),
        data=data_config_from_flags(dataset, data_dir, val_size),
        latency=LatencySettings() if latency else None,
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

"""The ``spectrum`` command: thin typer commands that parse, validate and call into ``spectrum/``.

Every user mistake (a flag, a study file, a storage URL, a data file) ends in one line on stderr
and exit code 2; nothing already computed is lost because the library writes results as it goes.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from tqdm import tqdm

from spectrum.cost.latency import LatencySettings
from spectrum.data import data_config_from_flags, load_dataset
from spectrum.device import PRECISIONS, configure, resolve_device
from spectrum.engine.distributed import (
    check_batch,
    device_data,
    launch_from_environment,
    local_launch,
    main_rank_first,
    process_group,
    rank_device,
)
from spectrum.engine.train import TrainConfig, train_config_from_flags
from spectrum.errors import SpecError, SpectrumError
from spectrum.net.segments import parse_segments, parse_segments_list, segments_label
from spectrum.net.xception import NetConfig, check_config
from spectrum.options import (
    ACTIVATIONS,
    MATCH_CHOICES,
    ORDERS,
    parse_choice,
    parse_list,
    parse_on_off,
)
from spectrum.stopping import Stopped, exit_code, sigterm_as_interrupt
from spectrum.study import workers
from spectrum.study.grid import SweepPlan, seed_schedule
from spectrum.study.plan import Constraints, SearchPlan
from spectrum.study.reuse import ReuseSource
from spectrum.study.run import (
    check_study_name,
    open_study_run,
    save_results,
    sweep_summary,
    write_study_report,
)
from spectrum.study.search import best_trials_table
from spectrum.study.space import SearchSpace, flow_overrides, merge_space_data
from spectrum.study.storage import describe_storage, load_existing_study, mask_url, open_storage
from spectrum.study.studyfile import load_study
from spectrum.study.trial import TrialEvents, TrialSpec, run_trial, uniform_net

try:  # typer >= 0.20 vendors click; older releases use the click package
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Explore the spectrum between regular and depthwise separable convolutions.",
)


@app.callback()
def root() -> None:
    """Explore the spectrum between regular and depthwise separable convolutions (Xception)."""


def echo_table(frame, float_format: str = "{:.3f}") -> None:
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        typer.echo(frame.to_string(index=False, float_format=float_format.format))


# Shared by every command that runs a model (count, train, sweep, search, bench).
PRECISION = typer.Option(
    "auto",
    help="auto (bfloat16 where the GPU or CPU computes it "
    "natively, else float32) | float32 | bfloat16",
)


@app.command()
def count(
    segments: str = typer.Option("1,4,32,C", help="Comma-separated g values; C = one per channel."),
    preset: str = typer.Option("proxy-28", help="xception | proxy-28 | proxy-32"),
    order: str = typer.Option("depthwise-first", help="depthwise-first | pointwise-first"),
    activation: str = typer.Option("none", help="Intermediate activation: none | relu | elu"),
    match: str = typer.Option("none", help="Scale widths to the g=C budget: none|params|flops"),
    width: float = typer.Option(1.0, help="Width multiplier of the base net."),
    round_to_segments: bool = typer.Option(
        False, "--round-to-segments", help="Round channels up to a multiple of g."
    ),
    by_flow: bool = typer.Option(False, "--by-flow", help="Add a per-flow breakdown."),
    latency: bool = typer.Option(True, "--latency/--no-latency", help="Measure latency."),
    batch_size: int | None = typer.Option(
        None, help="Batch size for latency measurements (default 64; 2 for xception)."
    ),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    precision: str = PRECISION,
    csv: Path | None = typer.Option(None, help="Also write the table to this CSV file."),
) -> None:
    """Params, FLOPs (fvcore: 1 multiply-add = 1 FLOP; conv, linear, batch norm, pooling),
    activations (elements of every conv output, one image) and latency for each g."""
    from spectrum.cost.table import count_table, spectrum_configs

    values = parse_segments_list(segments)
    match = parse_choice(match, MATCH_CHOICES, "--match")
    base = NetConfig.uniform(
        "C",
        parse_choice(order, ORDERS, "--order"),
        parse_choice(activation, ACTIVATIONS, "--activation"),
        preset=preset,
        width_multiplier=width,
        round_to_segments=round_to_segments,
    )
    batch_size = batch_size or (2 if preset == "xception" else 64)
    if batch_size < 1:
        raise SpecError("--batch-size must be >= 1")
    configs = spectrum_configs(base, values, match)
    for config in configs:
        check_config(config)
    torch_device = resolve_device(device)
    configure(torch_device)
    precision = parse_precision(precision)
    settings = LatencySettings(batch_size=batch_size, precision=precision) if latency else None
    with tqdm(total=len(configs), desc="counting", unit="net", leave=False) as bar:
        table = count_table(
            configs, torch_device, settings, by_flow, on_row=lambda done, total: bar.update(1)
        )
    echo_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
        typer.echo(f"wrote {csv}")


# Options shared by the commands that train (train, sweep, search).
DATASET = typer.Option(
    "fashion-mnist", help="fashion-mnist | cifar10 | cifar100 | imagefolder:PATH | synthetic"
)
DATA_DIR = typer.Option(
    None,
    help="Directory holding the dataset files (else $SPECTRUM_DATA, "
    "the system copy, the user cache).",
)
EPOCHS = typer.Option(TrainConfig.epochs, help="Training epochs per trial.")
BATCH_SIZE = typer.Option(TrainConfig.batch_size, help="Training batch size.")
LR = typer.Option(TrainConfig.lr, help="Peak learning rate (SGD, Nesterov momentum).")
WEIGHT_DECAY = typer.Option(TrainConfig.weight_decay, help="Weight decay (not on BN or biases).")
SCHEDULE = typer.Option(TrainConfig.schedule, help="onecycle | cosine")
AUGMENT = typer.Option(
    TrainConfig.augment,
    "--augment/--no-augment",
    help="Random crop (and flip where sensible) on the device.",
)
COMPILE = typer.Option(False, "--compile", help="torch.compile the model for training.")
TRAIN_SUBSET = typer.Option(None, help="Train on only the first N training images.")
VAL_SIZE = typer.Option(5000, help="Validation images held out of the training set.")
DEVICE = typer.Option("auto", help="auto | cpu | cuda | cuda:N")
SEGMENTS = typer.Option("1,4,32,C", help="Comma-separated g values; C = one segment per channel.")
PRESET = typer.Option(
    "auto", help="auto (proxy-28 for 28px data, else proxy-32) | proxy-28 | proxy-32 | xception"
)
MARGIN = typer.Option(
    None,
    help="Equivalence margin in accuracy points (default 0.5), stored on the study: within it "
    "a difference is 'equivalent'; a sequential sweep stops on it.",
)
JOBS = typer.Option(
    "auto",
    envvar="SPECTRUM_JOBS",
    help="Worker processes on this machine, sharing the study's storage and the CPU cores "
    "(cores/N threads each, or SPECTRUM_THREADS). auto: one one-thread worker per core on "
    "the CPU (at most the trials left), 1 on a GPU.",
)


def parse_precision(text: str) -> str:
    return parse_choice(text, PRECISIONS, "--precision")


def parse_residual(text: str) -> tuple[bool, ...]:
    return parse_on_off(text, "--residual")


class TrialProgress:
    """tqdm bars for a run of trials: trials done (with ETA) and the current trial's steps.

    Its methods are the callbacks of :class:`spectrum.study.trial.TrialEvents` (:meth:`events`).
    """

    def __init__(self, total: int, done: int = 0) -> None:
        self.trials = tqdm(
            total=total, initial=done, desc="trials", unit="trial", dynamic_ncols=True
        )
        self.steps: tqdm | None = None

    def trial_started(self, done: int, total: int, label: str) -> None:
        self.trials.total = total  # a sequential sweep's grid grows round by round
        self.trials.n = done
        self.trials.set_postfix_str(label)
        self.trials.refresh()

    def step(self, epoch: int, step: int, steps: int) -> None:
        if self.steps is None or step == 1:
            if self.steps is not None:
                self.steps.close()
            self.steps = tqdm(
                total=steps, desc=f"  epoch {epoch}", unit="step", leave=False, dynamic_ncols=True
            )
        self.steps.update(1)

    def epoch(self, record) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None
        self.trials.write(
            f"    epoch {record.epoch}: loss {record.train_loss:.4f}, "
            f"val {record.val_acc:.4f}, {record.images_per_s:.0f} img/s"
        )

    def trial_finished(self, record: dict) -> None:
        self.trials.update(1)
        accuracy = record.get("test_acc")
        shown = f"test {accuracy:.4f}" if accuracy is not None else record.get("error", "")
        self.trials.write(
            f"  g={record['segments']} {record['order']} act={record['activation']}"
            f" seed={record['seed']}: {record['status']}, {shown}"
        )

    def close(self) -> None:
        if self.steps is not None:
            self.steps.close()
        self.trials.close()

    def events(self) -> TrialEvents:
        return TrialEvents(self.trial_started, self.step, self.epoch, self.trial_finished)


@app.command()
def train(
    segments: str = typer.Option("C", help="g for every flow (a positive integer or C)."),
    order: str = typer.Option("depthwise-first", help="depthwise-first | pointwise-first"),
    activation: str = typer.Option("none", help="Intermediate activation: none | relu | elu"),
    residual: str = typer.Option("on", help="Residual connections: on | off"),
    width: float = typer.Option(1.0, help="Width multiplier."),
    preset: str = PRESET,
    seed: int = typer.Option(0, help="Seed for initialization and data order."),
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
    device: str = DEVICE,
    nproc_per_node: int = typer.Option(
        1,
        help="Train this one trial in N processes on this machine (torchrun, DDP; see the "
        "README); --batch-size is the global batch and must divide by N.",
    ),
) -> None:
    """Train one configuration and print its numbers."""
    point = (
        parse_segments(segments),
        parse_choice(order, ORDERS, "--order"),
        parse_choice(activation, ACTIVATIONS, "--activation"),
        parse_residual(residual)[0],
    )
    config = train_config_from_flags(
        epochs,
        batch_size,
        lr,
        weight_decay,
        schedule,
        augment,
        compile_,
        train_subset,
        precision,
    )
    data = data_config_from_flags(dataset, data_dir, val_size)
    if nproc_per_node != 1 and launch_from_environment() is None:
        argv = invoked_args()
        at = argv.index("--nproc-per-node")
        command = local_launch(argv[:at] + argv[at + 2 :], nproc_per_node, config.batch_size)
        raise typer.Exit(subprocess.run(command).returncode)
    launch = launch_from_environment()  # one process of a torchrun run; None in one process
    if launch is not None:
        try:
            check_batch(config.batch_size, launch.world_size)
        except SpecError:
            if not launch.is_main:  # every rank finds it; rank 0 says it
                raise typer.Exit(2) from None
            raise
    torch_device = resolve_device(device) if launch is None else rank_device(launch, device)
    configure(torch_device)
    with process_group(launch, torch_device) as ranks:
        with main_rank_first(ranks):
            splits = load_dataset(data)
        net = uniform_net(*point, splits, preset=preset, width_multiplier=width)
        check_config(net)
        progress = TrialProgress(total=1) if launch is None or launch.is_main else None
        try:
            record = run_trial(
                TrialSpec(net, config, seed),
                device_data(splits, torch_device, ranks),
                torch_device,
                dataset=splits.name,
                on_step=progress.step if progress else None,
                on_epoch=progress.epoch if progress else None,
            )
            if progress:
                progress.trial_finished(record)
        finally:
            if progress:
                progress.close()
    if progress is None:  # only rank 0 prints
        return
    if ranks is not None:
        record["processes"] = f"{ranks.world_size} ({ranks.backend})"
    for name in (
        "status",
        "params",
        "flops",
        "latency_ms",
        "train_step_ms",
        "val_acc",
        "test_acc",
        "wall_time_s",
        "device",
        "precision",
        "processes",
        "error",
    ):
        if record.get(name) is not None:
            value = record[name]
            typer.echo(
                f"{name:>14}: {value:.4f}" if isinstance(value, float) else f"{name:>14}: {value}"
            )


REUSE = typer.Option(
    None,
    "--reuse",
    help="Start a new study from the finished trials of another sweep made with the same "
    "settings (a report folder, or its storage file or URL): its first round is copied, not "
    "trained again.",
)
REUSE_STUDY = typer.Option(
    None, "--reuse-study", help="With --reuse: the study to reuse (default: the only one there)."
)


def reuse_source(storage: str | None, study: str | None) -> ReuseSource | None:
    if storage is None:
        if study is not None:
            raise SpecError("--reuse-study needs --reuse (where the study to reuse is stored)")
        return None
    return ReuseSource(storage, study)


@app.command()
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
    match: str = typer.Option("none", help="Scale widths to the g=C budget: none|params|flops"),
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
                study_run.run(TrialEvents())
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


def invoked_args() -> list[str]:
    """The running command's arguments after ``spectrum`` (``["sweep", "--seeds", "3", ...]``),
    rebuilt from what click parsed: the command path, then every parameter given on the command
    line. Unlike ``sys.argv`` it is right however the CLI was started (a shell, ``main(argv)``,
    a test runner); outside a command it falls back to ``sys.argv[1:]``."""
    try:  # typer >= 0.20 vendors click; older releases use the click package
        from typer._click.core import ParameterSource
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.core import ParameterSource
        from click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return sys.argv[1:]
    path, outer = [], ctx
    while outer.parent is not None:
        path.insert(0, outer.info_name)
        outer = outer.parent
    given = (ParameterSource.COMMANDLINE, ParameterSource.PROMPT)
    positional: list[str] = []
    options: list[str] = []
    for param in ctx.command.params:
        if param.name is None or ctx.get_parameter_source(param.name) not in given:
            continue
        value = ctx.params[param.name]
        values = list(value) if param.multiple or param.nargs != 1 else [value]
        if param.param_type_name == "argument":
            positional += [str(v) for v in values]
        elif getattr(param, "is_flag", False) and not getattr(param, "count", False):
            flag = param.opts if value else param.secondary_opts
            options += flag[:1]
        else:
            for item in values:
                options += [param.opts[0], str(item)]
    return [*path, *positional, *options]


def command_line() -> str:
    """The running command (:func:`invoked_args`) with any storage password masked: it is
    stored on studies and in reports."""
    return "spectrum " + " ".join(shlex.quote(mask_url(arg)) for arg in invoked_args())


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
    processes = workers.start_workers(argv, jobs, threads)
    bar = tqdm(total=study_run.total, desc="trials", unit="trial", dynamic_ncols=True)
    with sigterm_as_interrupt():
        try:
            watch_workers(processes, study_run, bar, poll_s)
        except KeyboardInterrupt as stop:
            for process in processes:
                if process.poll() is None:
                    # SIGTERM, not SIGINT, which a background job's workers inherit ignored:
                    # each worker stores its trial as interrupted (see spectrum.stopping)
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait()
            bar.close()
            raise stopped_exit(stop, study_run.storage_label) from None
    bar.close()
    failed = [p.returncode for p in processes if p.returncode != 0]
    if failed:
        raise SpectrumError(
            f"{len(failed)} of {jobs} workers failed (exit {failed[0]}); finished trials are "
            f"kept in {study_run.storage_label}; re-run the same command to resume"
        )
    finish_study(study_run.load(), study_run.out_dir, study_run.storage_label, report)


def watch_workers(processes, study_run, bar: tqdm, poll_s: float) -> None:
    """Until every worker has exited, show on ``bar`` the trials finished and running (read from
    the storage) and one line per trial as it ends."""
    sweep_run = isinstance(study_run.plan, SweepPlan)
    shown: set[int] = set()
    while True:
        alive = [p for p in processes if p.poll() is None]
        done, running, ended = workers.study_progress(study_run.load(), sweep_run)
        for trial in ended:
            if trial.number not in shown:
                shown.add(trial.number)
                attrs = trial.user_attrs
                accuracy = attrs.get("test_acc")
                result = f"test {accuracy:.4f}" if accuracy is not None else attrs.get("error")
                bar.write(f"  {workers.trial_label(trial)}: {attrs.get('status')}, {result}")
        bar.n = min(done, study_run.total)
        bar.set_postfix_str(f"{len(running)} running: " + " | ".join(running))
        bar.refresh()
        if not alive:
            return
        time.sleep(poll_s)


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
        typer.echo(f"report: {write_study_report(study, out_dir, storage_label)}")


@app.command("report")
def report_command(
    target: str = typer.Argument(
        ..., help="A report directory holding study.db, or a study name with --storage."
    ),
    storage: str | None = typer.Option(None, help="Optuna storage URL or file."),
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
    from spectrum.report import write_report  # seconds of imports, as in write_study_report

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


@app.command("compare")
def compare_command(
    a: str = typer.Argument(..., help="Study A: a report directory with study.db, or a name."),
    b: str = typer.Argument(..., help="Study B: a report directory with study.db, or a name."),
    storage_a: str | None = typer.Option(None, help="Storage URL of A (A is then a study name)."),
    storage_b: str | None = typer.Option(None, help="Storage URL of B (B is then a study name)."),
    out: Path | None = typer.Option(None, help="Where to write (default reports/compare-A-vs-B)."),
) -> None:
    """Two sweeps over their shared configurations: differences, rank agreement, verdict flips."""
    study_a, label_a = _open_compared(a, storage_a, "A")
    study_b, label_b = _open_compared(b, storage_b, "B")
    from spectrum.report.compare_report import write_compare  # seconds of imports

    out_dir = out or Path("reports") / f"compare-{label_a}-vs-{label_b}"
    typer.echo(
        f"compare: {write_compare(study_a, study_b, out_dir, label_a=label_a, label_b=label_b)}"
    )


@app.command()
def dashboard(
    target: str = typer.Argument(
        ..., help="A report directory holding study.db, or a study name with --storage."
    ),
    storage: str | None = typer.Option(None, help="Optuna storage URL or file."),
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


@app.command()
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
        help="auto | median | hyperband | none. Single "
        "objective 'accuracy' only (auto: hyperband there, else none); "
        "reports validation accuracy after every epoch.",
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


@app.command()
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


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the training engine.")
app.add_typer(bench_app, name="bench")


@bench_app.command("train")
def bench_train_command(
    segments: str = SEGMENTS,
    device: str = DEVICE,
    batch_size: int = BATCH_SIZE,
    warmup: int = typer.Option(5, help="Untimed warm-up steps per side."),
    steps: int = typer.Option(5, help="Steps per block and side (a block is timed as a whole)."),
    blocks: int = typer.Option(
        10,
        help="Timed blocks per side, interleaved engine / reference; "
        "images/s is the median over blocks.",
    ),
    compile_: bool = typer.Option(
        False,
        "--compile",
        help="Also measure the engine with torch.compile (a separate run, with its own reference).",
    ),
    matmul_size: int = typer.Option(
        2048, help="Size n of the n x n matmul that sets the peak for MFU."
    ),
    precision: str = PRECISION,
    preset: str = PRESET,
    dataset: str = DATASET,
    data_dir: Path | None = DATA_DIR,
    out: Path = typer.Option(
        Path("reports") / "bench", help="Output directory for train-DEVICE.csv and train-DEVICE.md."
    ),
) -> None:
    """Training images/s of the engine vs a plain PyTorch DataLoader loop at each g, with MFU
    (FLOPs = 3 x forward multiply-adds x 2) against a measured matmul peak. Where the engine
    trains in bf16 by default, a float32 engine run is measured too."""
    from spectrum.engine.bench import BenchSettings, bench_train, parse_bench_segments
    from spectrum.engine.bench_report import write_bench

    settings = BenchSettings(
        segments=parse_bench_segments(segments),
        batch_size=batch_size,
        warmup=warmup,
        steps=steps,
        blocks=blocks,
        matmul_size=matmul_size,
        compile=compile_,
        precision=parse_precision(precision),
    )
    data = data_config_from_flags(dataset, data_dir, VAL_SIZE.default)
    torch_device = resolve_device(device)
    configure(torch_device)
    table, meta = bench_train(
        settings,
        torch_device,
        data,
        preset=preset,
        command=command_line(),
        on_progress=lambda text: typer.echo(f"  {text}", err=True),
    )
    if meta["note"]:
        typer.echo(f"note: {meta['note']}", err=True)
    busiest = max([*meta["load_start"], *meta["load_end"]])
    if busiest > (meta["cores"] or 1) and torch_device.type == "cpu":
        typer.echo(
            f"note: load average up to {busiest:.1f} on {meta['cores']} CPUs: the machine "
            "is oversubscribed and timings vary; SPECTRUM_THREADS=1 gives steadier numbers",
            err=True,
        )
    columns = [
        "g",
        "params",
        "forward_macs",
        "precision",
        "spectrum_images_per_s",
        "reference_images_per_s",
        "speedup",
    ]
    for extra in meta["runs"][1:]:
        columns += [f"{extra.name}_images_per_s", f"{extra.name}_speedup"]
    echo_table(table[columns + ["spectrum_mfu", "reference_mfu"]], "{:.3f}")
    first = table.iloc[0]
    typer.echo(
        f"matmul peak: {first['matmul_peak_gflops']:.1f} GFLOP/s float32, "
        f"{first['engine_peak_gflops']:.1f} GFLOP/s {first['precision']}; MFU counts "
        f"3 x forward multiply-adds x 2 FLOPs per image"
    )
    csv_path, md_path = write_bench(table, meta, out)
    typer.echo(f"wrote {csv_path} and {md_path}")


@bench_app.command("sweep")
def bench_sweep_command(
    segments: str = typer.Option("1,4,C", help="Comma-separated g values of the grid."),
    seeds: int = typer.Option(2, help="Seeds per g (the grid has g x seeds trials)."),
    epochs: int = typer.Option(1, help="Training epochs per trial."),
    train_subset: int = typer.Option(5000, help="Train each trial on the first N images."),
    batch_size: int = BATCH_SIZE,
    val_size: int = VAL_SIZE,
    jobs: str = typer.Option(
        "auto",
        help="Workers of the packed mode (cores/N threads each); auto: one per core, "
        "as spectrum sweep --jobs auto.",
    ),
    repeats: int = typer.Option(
        3, help="Runs per mode, alternating sequential / packed; trials/h is their median."
    ),
    precision: str = PRECISION,
    preset: str = PRESET,
    dataset: str = DATASET,
    data_dir: Path | None = DATA_DIR,
    device: str = DEVICE,
    out: Path = typer.Option(
        Path("reports") / "bench", help="Output directory for sweep-DEVICE.csv and sweep-DEVICE.md."
    ),
) -> None:
    """Trials per hour of one small sweep run sequentially (one worker, every core's threads)
    and packed (--jobs N workers, cores/N threads each), interleaved, and their ratio."""
    from spectrum.engine.bench_sweep import SweepBenchSettings, bench_sweep
    from spectrum.engine.bench_sweep_report import sweep_rows, write_sweep_bench

    settings = SweepBenchSettings(
        segments=tuple(parse_segments_list(segments)),
        seeds=seeds,
        epochs=epochs,
        train_subset=train_subset,
        batch_size=batch_size,
        val_size=val_size,
        jobs=jobs,
        repeats=repeats,
        preset=preset,
        precision=parse_precision(precision),
        dataset=dataset,
        data_dir=str(data_dir) if data_dir else None,
    )
    torch_device = resolve_device(device)
    bench = bench_sweep(
        settings,
        torch_device,
        command=command_line(),
        on_progress=lambda text: typer.echo(f"  {text}", err=True),
    )
    for warning in bench.warnings():
        typer.echo(f"note: {warning}", err=True)
    columns = ["repeat", "mode", "jobs", "threads", "trials", "wall_s", "trials_per_hour"]
    echo_table(sweep_rows(bench)[columns + ["other_load"]], "{:.2f}")
    typer.echo(
        f"trials/h (median of {settings.repeats}): sequential "
        f"{bench.trials_per_hour('sequential'):.1f}, packed {bench.trials_per_hour('packed'):.1f}; "
        f"ratio packed/sequential {bench.ratio:.2f}x "
        f"(per repeat: {', '.join(f'{r:.2f}x' for r in bench.repeat_ratios)})"
    )
    csv_path, md_path = write_sweep_bench(bench, out)
    typer.echo(f"wrote {csv_path} and {md_path}")


@bench_app.command("latency")
def bench_latency_command(
    segments: str = typer.Option("1,2,4,8,16,32,C", help="Comma-separated g values to time."),
    match: str = typer.Option(
        "flops", help="Widths matched to the g=C net's budget: none | params | flops."
    ),
    reference: str = typer.Option("1", help="The g every other g is compared with."),
    rounds: int = typer.Option(15, help="Interleaved rounds (the paired units of the intervals)."),
    repeats: int = typer.Option(5, help="Timed forward passes per g and round (their median)."),
    warmup: int = typer.Option(2, help="Untimed passes per g and round before the timed ones."),
    batch_size: int = typer.Option(64, help="Images per timed batch."),
    width: float = typer.Option(1.0, help="Width multiplier of the g=C net (the budget)."),
    preset: str = typer.Option("proxy-28", help="proxy-28 | proxy-32 | xception"),
    precision: str = typer.Option("float32", help="auto | float32 | bfloat16"),
    device: str = DEVICE,
    out: Path = typer.Option(
        Path("reports") / "bench",
        help="Output directory for latency-DEVICE-MATCH.csv and latency-DEVICE-MATCH.md.",
    ),
) -> None:
    """Inference latency of every g at a matched budget, timed in interleaved rounds: each g's
    ratio to the reference g with a paired 95% interval (Holm over the g) and the trend per
    doubling of g (ShuffleNet v2's G2 in measured latency). Run it on a quiet machine."""
    from spectrum.engine.bench_latency import LatencyBenchSettings, bench_latency, comparisons
    from spectrum.engine.bench_latency_report import write_latency_bench

    values = parse_segments_list(segments)
    settings = LatencyBenchSettings(
        segments=tuple(values),
        match=parse_choice(match, MATCH_CHOICES, "--match"),
        preset=preset,
        width=width,
        batch_size=batch_size,
        rounds=rounds,
        repeats=repeats,
        warmup=warmup,
        precision=parse_precision(precision),
        reference=segments_label(parse_segments(reference)),
    )
    torch_device = resolve_device(device)
    configure(torch_device)
    bars: list[tqdm] = []  # opened at the first round, so that a bad net errors without one

    def round_done(_text: str) -> None:
        if not bars:
            bars.append(tqdm(total=rounds, desc="rounds", unit="round", leave=False))
        bars[0].update(1)

    try:
        bench = bench_latency(settings, torch_device, command_line(), round_done)
    finally:
        for bar in bars:
            bar.close()
    for warning in bench.warnings():
        typer.echo(f"note: {warning}; a quiet machine gives steadier numbers", err=True)
    for c in comparisons(bench):
        typer.echo(
            f"g = {c.g}: {c.ratio:.2f}x the latency of g = {c.reference} "
            f"[{c.ci_low:.2f}, {c.ci_high:.2f}], Holm p {c.p_holm:.3g}: {c.verdict}"
        )
    csv_path, md_path = write_latency_bench(bench, out)
    typer.echo(f"wrote {csv_path} and {md_path}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every user error into one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="spectrum", standalone_mode=False)
    except SpectrumError as error:
        typer.echo(f"spectrum: error: {error}", err=True)
        return 2
    except click_exceptions.NoArgsIsHelpError as error:
        typer.echo(error.format_message())
        return 0
    except click_exceptions.UsageError as error:
        where = f"{error.ctx.command_path}: " if error.ctx else ""
        typer.echo(f"spectrum: error: {where}{error.format_message()}", err=True)
        return 2
    except typer.Abort:  # typer.Abort/Exit: click's in older typer, typer's own since 0.20
        typer.echo("spectrum: interrupted; results so far are kept", err=True)
        return 130
    except typer.Exit as exit_:
        return exit_.exit_code
    # Without standalone mode, a command's ``raise typer.Exit(code)`` comes back as its result.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

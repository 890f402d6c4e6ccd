"""The output of ``spectrum bench sweep`` (:mod:`spectrum.bench.sweep`):
:data:`SWEEP_COLUMNS`, :func:`sweep_rows`, :func:`sweep_document` (the report's blocks) and
:func:`sweep_markdown` (rendered by :mod:`spectrum.report.render_md`), :func:`write_sweep_bench`
-> ``reports/bench/sweep-<device>.{csv,md}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..report.document import Bullets, Document, Paragraph, Rich, Span, Table
from ..report.render_md import render_markdown
from .machine_load import QUIET_LOAD
from .train_report import command_item, env_text, load_text, warning_item, write_files

if TYPE_CHECKING:
    from .sweep import SweepBench


SWEEP_COLUMNS = (
    "repeat",
    "mode",
    "jobs",
    "threads",
    "grid_points",
    "trials",
    "trained",
    "complete",
    "wall_s",
    "trials_per_hour",
    "repeat_ratio",
    "trial_s_mean",
    "trial_threads",
    "precision",
    "load_before",
    "load_after",
    "other_load",
    "warning",
    "sequential_trials_per_hour",
    "packed_trials_per_hour",
    "ratio",
    "segments",
    "seeds",
    "epochs",
    "train_images",
    "batch_size",
    "val_size",
    "preset",
    "dataset",
    "device",
    "cores",
    "torch",
    "date",
    "command",
)


def run_warning(run) -> str:
    """The warning cell of a run: empty, or how much other work ran beside it."""
    return f"other load {run.other_load:.2f} cores" if run.busy else ""


def sweep_rows(bench: SweepBench) -> pd.DataFrame:
    """One row per timed run (:data:`SWEEP_COLUMNS`), in the order they ran."""
    settings = bench.settings
    ratios = dict(enumerate(bench.repeat_ratios, start=1))
    common = {
        "sequential_trials_per_hour": bench.trials_per_hour("sequential"),
        "packed_trials_per_hour": bench.trials_per_hour("packed"),
        "ratio": bench.ratio,
        "segments": ",".join(str(g) for g in settings.segments),
        "seeds": settings.seeds,
        "epochs": settings.epochs,
        "train_images": bench.train_images,
        "batch_size": settings.batch_size,
        "val_size": settings.val_size,
        "preset": settings.preset,
        "dataset": bench.dataset,
        "device": bench.device,
        "cores": bench.cores,
        "torch": bench.torch,
        "date": bench.date,
        "command": bench.command,
    }
    rows = [
        {
            "repeat": run.repeat,
            "mode": run.mode,
            "jobs": run.jobs,
            "threads": run.threads,
            "grid_points": run.grid_points,
            "trials": run.trials,
            "trained": run.trained,
            "complete": run.complete,
            "wall_s": run.wall_s,
            "trials_per_hour": run.trials_per_hour,
            "repeat_ratio": ratios.get(run.repeat, float("nan")),
            "trial_s_mean": run.trial_s_mean,
            "trial_threads": ",".join(str(t) for t in run.trial_threads),
            "precision": run.precision,
            "load_before": run.load_before,
            "load_after": run.load_after,
            "other_load": run.other_load,
            "warning": run_warning(run),
            **common,
        }
        for run in bench.runs
    ]
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))


def sweep_document(bench: SweepBench) -> Document:
    """The report: the headline ratio, one row per run, then how it was measured."""
    settings = bench.settings
    sequential, packed = bench.mode_runs("sequential")[0], bench.mode_runs("packed")[0]

    def shape(run) -> str:
        return f"{run.jobs} worker{'s' * (run.jobs > 1)} x {run.threads} thread" + "s" * (
            run.threads > 1
        )

    ratios = ", ".join(f"{ratio:.2f}x" for ratio in bench.repeat_ratios)
    headline = Rich(
        Span(
            f"Packed ({shape(packed)}): {bench.trials_per_hour('packed'):.1f} trials/h; "
            f"sequential ({shape(sequential)}): {bench.trials_per_hour('sequential'):.1f} "
            f"trials/h; ratio {bench.ratio:.2f}x"
        ),
        f" (per repeat: {ratios}).",
    )
    header = (
        *("repeat", "mode", "workers x threads", "trials", "wall s", "trials/h"),
        *("mean trial s", "load before / after", "other load", "warning"),
    )
    rows = tuple(
        (
            str(run.repeat),
            run.mode,
            f"{run.jobs} x {run.threads}",
            f"{run.trials}/{run.grid_points}",
            f"{run.wall_s:.1f}",
            f"{run.trials_per_hour:.1f}",
            f"{run.trial_s_mean:.1f}",
            f"{run.load_before:.2f} / {run.load_after:.2f}",
            f"{run.other_load:.2f}",
            run_warning(run),
        )
        for run in bench.runs
    )
    segments = ", ".join(str(g) for g in settings.segments)
    points = sequential.grid_points
    precision = ", ".join(sorted({run.precision for run in bench.runs}))
    items: list[str] = [
        f"Grid: g = {segments} x {settings.seeds} seed(s) = {points} trials per run, "
        f"{settings.epochs} epoch(s) on {bench.train_images:,} training images of "
        f"{bench.dataset} ({bench.source}); batch {settings.batch_size}, "
        f"{settings.val_size:,} validation images, preset {settings.preset}, precision "
        f"{settings.precision} (trained in {precision}). Every trial also evaluates on the "
        "validation and test sets and measures its latency, as in any sweep.",
        Rich(
            "Modes: sequential = one ",
            Span("spectrum sweep ... --jobs 1", "code"),
            f" worker process with {sequential.threads} thread(s); packed = {packed.jobs} such "
            "workers at once (",
            Span(f"--jobs {settings.jobs}", "code"),
            f") with {packed.threads} thread(s) each, started as ",
            Span("spectrum sweep --jobs N", "code"),
            " starts them (spectrum.study.workers). Each run is a fresh study in its own "
            "temporary SQLite file, created and queued by the parent first.",
        ),
        "Timing: wall clock from creating the study to the exit of the last worker "
        "(process start-up, data loading and every trial). Runs alternate, sequential then "
        f"packed, {settings.repeats} time(s), so that drifting load falls on both alike. "
        "trials/h of a mode = the median over its runs; ratio = packed / sequential of the "
        "medians; per repeat: packed / sequential of that repeat's two runs.",
        f"Device: {bench.device} ({bench.cpu}), {bench.cores} logical CPUs; torch "
        f"{bench.torch}; date {bench.date}; threading environment: {env_text(bench.env)}.",
        f"Machine load (os.getloadavg, 1/5/15 min): {load_text(bench.load_start)} at the "
        f"start, {load_text(bench.load_end)} at the end; a run's own workers raise it, so "
        "'other load' is the mean number of cores that other processes (and the hypervisor's "
        "steal) kept busy during a run: /proc/stat minus this benchmark's CPU time.",
    ]
    items += [
        warning_item(warning, "the ratio may not be that of a quiet machine.")
        for warning in bench.warnings()
    ] or [
        f"The machine was quiet: load average at most {QUIET_LOAD} before starting, and no "
        f"run shared the CPU with more than {QUIET_LOAD} cores of other work."
    ]
    items.append(command_item(bench.command))
    title = f"Sweep throughput: sequential vs packed workers ({bench.device})"
    return Document(title).add(Paragraph(headline), Table(header, rows), Bullets(tuple(items)))


def sweep_markdown(bench: SweepBench) -> str:
    """The report as markdown (:func:`sweep_document`, rendered)."""
    return render_markdown(sweep_document(bench))


def write_sweep_bench(bench: SweepBench, out_dir: Path) -> tuple[Path, Path]:
    """Write ``sweep-<device>.csv`` and ``.md`` into ``out_dir``."""
    return write_files(out_dir / f"sweep-{bench.label}", sweep_rows(bench), sweep_markdown(bench))

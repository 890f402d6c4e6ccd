"""The output of the benchmarks: the tables' columns, the CSV files and the markdown reports
that say how the numbers were measured, in ``reports/bench/``.

* ``spectrum bench train`` (:mod:`spectrum.engine.bench`): :data:`COLUMNS`, :func:`markdown`,
  :func:`write_bench` -> ``train-<device>.{csv,md}``;
* ``spectrum bench sweep`` (:mod:`spectrum.engine.bench_sweep`): :data:`SWEEP_COLUMNS`,
  :func:`sweep_rows`, :func:`sweep_markdown`, :func:`write_sweep_bench` ->
  ``sweep-<device>.{csv,md}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .bench import EngineRun
    from .bench_sweep import SweepBench


COLUMNS = (
    "g",
    "params",
    "forward_macs",
    "train_flops_per_image",
    "precision",
    "spectrum_images_per_s",
    "reference_images_per_s",
    "speedup",
    "spectrum_mfu",
    "reference_mfu",
    "spectrum_images_per_s_min",
    "spectrum_images_per_s_max",
    "reference_images_per_s_min",
    "reference_images_per_s_max",
    "matmul_peak_gflops",
    "engine_peak_gflops",
    "device",
    "threads",
    "torch",
    "batch_size",
    "warmup_steps",
    "block_steps",
    "blocks",
    "dataset",
    "date",
    "command",
)


def run_columns(name: str) -> tuple[str, ...]:
    """The columns of an extra engine run (``float32``, ``compiled``)."""
    return (
        f"{name}_images_per_s",
        f"{name}_reference_images_per_s",
        f"{name}_speedup",
        f"{name}_mfu",
    )


FLOAT32_COLUMNS = run_columns("float32")
COMPILED_COLUMNS = run_columns("compiled")


def markdown(table: pd.DataFrame, meta: dict) -> str:
    """A short markdown report: the table, then how it was measured."""
    first = table.iloc[0]
    extra = meta["runs"][1:]
    header = [
        "g",
        "params",
        "fwd MMACs",
        "spectrum img/s (min-max)",
        "reference img/s (min-max)",
        "speedup",
    ]
    for run in extra:
        header += [f"{run_title(run)} img/s", f"{run_title(run)} speedup"]
    header += ["spectrum MFU", "reference MFU"]
    lines = [
        f"# Training throughput: spectrum engine vs plain PyTorch loop ({first['device']})",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for _, row in table.iterrows():
        cells = [
            str(row["g"]),
            f"{row['params']:,}",
            f"{row['forward_macs'] / 1e6:.2f}",
            f"{row['spectrum_images_per_s']:.0f} ({row['spectrum_images_per_s_min']:.0f}-"
            f"{row['spectrum_images_per_s_max']:.0f})",
            f"{row['reference_images_per_s']:.0f} ({row['reference_images_per_s_min']:.0f}-"
            f"{row['reference_images_per_s_max']:.0f})",
            f"{row['speedup']:.2f}x",
        ]
        for run in extra:
            cells += [
                f"{row[f'{run.name}_images_per_s']:.0f}",
                f"{row[f'{run.name}_speedup']:.2f}x",
            ]
        cells += [f"{row['spectrum_mfu']:.1%}", f"{row['reference_mfu']:.1%}"]
        lines.append("| " + " | ".join(cells) + " |")

    def listed(values: list[float]) -> str:
        return ", ".join(f"{value:.1f}" for value in values)

    load_start, load_end = load_text(meta["load_start"]), load_text(meta["load_end"])
    precision = first["precision"]
    peak_text = (
        f"{first['matmul_peak_gflops']:.1f} GFLOP/s float32 (best of the measurements "
        f"before each g and after the last: {listed(meta['matmul_peaks_gflops'])})"
    )
    if precision != "float32":
        peak_text += (
            f", {first['engine_peak_gflops']:.1f} GFLOP/s {precision} (best of "
            f"{listed(meta['engine_peaks_gflops'])})"
        )
    lines += [
        "",
        f"- Device: {first['device']} ({meta['cpu']}), {first['threads']} torch threads, "
        f"{meta['cores']} logical CPUs; torch {first['torch']}; date {first['date']}; "
        f"threading environment: {env_text(meta['env'])}.",
        f"- Engine precision: {precision} (asked: {meta['precision_asked']}). "
        + precision_note(precision, meta["precision_asked"], first["device"]),
        f"- Matmul peak (torch.matmul): {peak_text}.",
        f"- Data: {first['dataset']} ({meta['source']}); batch size {first['batch_size']}.",
        f"- Timing: {first['warmup_steps']} untimed warm-up steps per side, then "
        f"{first['blocks']} blocks of {first['block_steps']} steps per side, interleaved "
        "(engine block, reference block, engine block, ...) so that other load on the machine "
        "falls on both alike; a block's images/s is its total time (device synchronized at "
        "block boundaries only); images/s is the median over blocks, speedup the median of "
        "the paired per-block ratios.",
        "- MFU = images/s x training FLOPs per image / matmul peak of the precision the side "
        "computes in (reference: float32); training FLOPs per image = 3 x forward "
        "multiply-adds (fvcore, 1 multiply-add = 1 flop) x 2 FLOPs per multiply-add.",
        "- spectrum = spectrum.engine.train.train (uint8 data on the device, device-side normalization, "
        "channels_last, fused SGD Nesterov); reference = DataLoader(TensorDataset(float32 "
        "normalized images), shuffle=True), NCHW, float32, torch's default SGD Nesterov, same "
        "model, hyper-parameters, loss and batch size.",
        f"- Machine load (os.getloadavg, 1/5/15 min): {load_start} at the start, "
        f"{load_end} at the end.",
        f"- Command: `{first['command']}`",
    ]
    busiest = max([*meta["load_start"], *meta["load_end"]])
    if busiest > (meta["cores"] or 1):
        lines.append(
            f"- The machine was oversubscribed (load average up to {busiest:.1f} on "
            f"{meta['cores']} logical CPUs): absolute images/s, the matmul peak and MFU "
            "are those of a shared machine and vary from block to block (see min-max); "
            "the paired speedup is the robust number."
        )
    for run in extra:
        lines.append(
            f"- {run_title(run)} = the engine "
            + (
                "with torch.compile (compilation falls in the warm-up)"
                if run.compile
                else f"forced to {run.precision}"
            )
            + ", in a separate run with its own interleaved reference; its speedup is "
            "against that reference."
        )
    if meta.get("note"):
        lines.append(f"- Note: {meta['note']}")
    return "\n".join(lines) + "\n"


def precision_note(precision: str, asked: str, device: str) -> str:
    if precision == "float32":
        return (
            "float32 throughout, like the reference."
            if asked != "auto"
            else (
                "This device has no native bf16, so the engine trains in float32 like the reference."
            )
        )
    why = (
        "the default here: this CPU has native bf16 instructions (AVX512-BF16 or AMX)"
        if device == "cpu"
        else "the default on this GPU"
    )
    return (
        "Mixed precision: bf16 autocast (convolutions and matmuls in bf16; float32 weights, "
        "optimizer state, loss and BatchNorm statistics), "
        + (why if asked == "auto" else "as asked")
        + "."
    )


def write_bench(table: pd.DataFrame, meta: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write ``train-<device>.csv`` and ``.md`` into ``out_dir``."""
    return write_files(out_dir / f"train-{meta['device_label']}", table, markdown(table, meta))


def write_files(stem: Path, table: pd.DataFrame, text: str) -> tuple[Path, Path]:
    """``stem.csv`` (the table) and ``stem.md`` (the report), creating the directory."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    table.to_csv(csv_path, index=False)
    md_path.write_text(text)
    return csv_path, md_path


def load_text(values) -> str:
    """Load averages (1/5/15 min) as ``0.12, 0.34, 0.56``."""
    return ", ".join(f"{value:.2f}" for value in values)


def env_text(env: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in env.items()) or "none set"


def run_title(run: EngineRun) -> str:
    if run.compile:
        return "compiled engine"
    return "engine" if run.name == "spectrum" else f"{run.name} engine"


# --------------------------------------------------------------------------------------------
# spectrum bench sweep

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


def sweep_markdown(bench: SweepBench) -> str:
    """The report: the headline ratio, one row per run, then how it was measured."""
    from .bench_sweep import QUIET_LOAD

    settings = bench.settings
    sequential, packed = bench.mode_runs("sequential")[0], bench.mode_runs("packed")[0]

    def shape(run) -> str:
        return f"{run.jobs} worker{'s' * (run.jobs > 1)} x {run.threads} thread" + "s" * (
            run.threads > 1
        )

    ratios = ", ".join(f"{ratio:.2f}x" for ratio in bench.repeat_ratios)
    header = [
        "repeat",
        "mode",
        "workers x threads",
        "trials",
        "wall s",
        "trials/h",
        "mean trial s",
        "load before / after",
        "other load",
        "warning",
    ]
    lines = [
        f"# Sweep throughput: sequential vs packed workers ({bench.device})",
        "",
        f"**Packed ({shape(packed)}): {bench.trials_per_hour('packed'):.1f} trials/h; "
        f"sequential ({shape(sequential)}): {bench.trials_per_hour('sequential'):.1f} "
        f"trials/h; ratio {bench.ratio:.2f}x** (per repeat: {ratios}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for run in bench.runs:
        cells = [
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
        ]
        lines.append("| " + " | ".join(cells) + " |")
    segments = ", ".join(str(g) for g in settings.segments)
    points = sequential.grid_points
    precision = ", ".join(sorted({run.precision for run in bench.runs}))
    lines += [
        "",
        f"- Grid: g = {segments} x {settings.seeds} seed(s) = {points} trials per run, "
        f"{settings.epochs} epoch(s) on {bench.train_images:,} training images of "
        f"{bench.dataset} ({bench.source}); batch {settings.batch_size}, "
        f"{settings.val_size:,} validation images, preset {settings.preset}, precision "
        f"{settings.precision} (trained in {precision}). Every trial also evaluates on the "
        "validation and test sets and measures its latency, as in any sweep.",
        f"- Modes: sequential = one `spectrum sweep ... --jobs 1` worker process with "
        f"{sequential.threads} thread(s); packed = {packed.jobs} such workers at once "
        f"(`--jobs {settings.jobs}`) with {packed.threads} thread(s) each, started as "
        "`spectrum sweep --jobs N` starts them (spectrum.study.workers). Each run is a fresh "
        "study in its own temporary SQLite file, created and queued by the parent first.",
        "- Timing: wall clock from creating the study to the exit of the last worker "
        "(process start-up, data loading and every trial). Runs alternate, sequential then "
        f"packed, {settings.repeats} time(s), so that drifting load falls on both alike. "
        "trials/h of a mode = the median over its runs; ratio = packed / sequential of the "
        "medians; per repeat: packed / sequential of that repeat's two runs.",
        f"- Device: {bench.device} ({bench.cpu}), {bench.cores} logical CPUs; torch "
        f"{bench.torch}; date {bench.date}; threading environment: {env_text(bench.env)}.",
        f"- Machine load (os.getloadavg, 1/5/15 min): {load_text(bench.load_start)} at the "
        f"start, {load_text(bench.load_end)} at the end; a run's own workers raise it, so "
        "'other load' is the mean number of cores that other processes (and the hypervisor's "
        "steal) kept busy during a run: /proc/stat minus this benchmark's CPU time.",
    ]
    found = bench.warnings()
    lines += [
        f"- **Warning**: {warning}; the ratio may not be that of a quiet machine."
        for warning in found
    ] or [
        f"- The machine was quiet: load average at most {QUIET_LOAD} before starting, and no "
        f"run shared the CPU with more than {QUIET_LOAD} cores of other work."
    ]
    lines.append(f"- Command: `{bench.command}`")
    return "\n".join(lines) + "\n"


def write_sweep_bench(bench: SweepBench, out_dir: Path) -> tuple[Path, Path]:
    """Write ``sweep-<device>.csv`` and ``.md`` into ``out_dir``."""
    return write_files(out_dir / f"sweep-{bench.label}", sweep_rows(bench), sweep_markdown(bench))

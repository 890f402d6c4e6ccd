"""The output of ``spectrum bench train`` (:mod:`spectrum.bench.train`): :data:`COLUMNS`,
:func:`document` (the report as blocks of :mod:`spectrum.report.document`: the table, then how
the numbers were measured), :func:`markdown` (rendered by :mod:`spectrum.report.render_md`),
:func:`write_bench` -> ``reports/bench/train-<device>.{csv,md}``; also the file and text helpers
that the other benchmarks' outputs (:mod:`spectrum.bench.sweep_report`,
:mod:`spectrum.bench.latency_report`) share.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..report.document import Bullets, Document, Rich, Span, Table
from ..report.render_md import render_markdown

if TYPE_CHECKING:
    from .settings import EngineRun


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


def document(table: pd.DataFrame, meta: dict) -> Document:
    """The report: the table, then how it was measured."""
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
    rows = []
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
        rows.append(tuple(cells))

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
    items = [
        f"Device: {first['device']} ({meta['cpu']}), {first['threads']} torch threads, "
        f"{meta['cores']} logical CPUs; torch {first['torch']}; date {first['date']}; "
        f"threading environment: {env_text(meta['env'])}.",
        f"Engine precision: {precision} (asked: {meta['precision_asked']}). "
        + precision_note(precision, meta["precision_asked"], first["device"]),
        f"Matmul peak (torch.matmul): {peak_text}.",
        f"Data: {first['dataset']} ({meta['source']}); batch size {first['batch_size']}.",
        f"Timing: {first['warmup_steps']} untimed warm-up steps per side, then "
        f"{first['blocks']} blocks of {first['block_steps']} steps per side, interleaved "
        "(engine block, reference block, engine block, ...) so that other load on the machine "
        "falls on both alike; a block's images/s is its total time (device synchronized at "
        "block boundaries only); images/s is the median over blocks, speedup the median of "
        "the paired per-block ratios.",
        "MFU = images/s x training FLOPs per image / matmul peak of the precision the side "
        "computes in (reference: float32); training FLOPs per image = 3 x forward "
        "multiply-adds (fvcore, 1 multiply-add = 1 flop) x 2 FLOPs per multiply-add.",
        "spectrum = spectrum.engine.train.train (uint8 data on the device, device-side "
        "normalization, channels_last, fused SGD Nesterov); reference = DataLoader("
        "TensorDataset(float32 normalized images), shuffle=True), NCHW, float32, torch's default "
        "SGD Nesterov, same model, hyper-parameters, loss and batch size.",
        f"Machine load (os.getloadavg, 1/5/15 min): {load_start} at the start, "
        f"{load_end} at the end.",
        command_item(first["command"]),
    ]
    busiest = max([*meta["load_start"], *meta["load_end"]])
    if busiest > (meta["cores"] or 1):
        items.append(
            f"The machine was oversubscribed (load average up to {busiest:.1f} on "
            f"{meta['cores']} logical CPUs): absolute images/s, the matmul peak and MFU "
            "are those of a shared machine and vary from block to block (see min-max); "
            "the paired speedup is the robust number."
        )
    for run in extra:
        items.append(
            f"{run_title(run)} = the engine "
            + (
                "with torch.compile (compilation falls in the warm-up)"
                if run.compile
                else f"forced to {run.precision}"
            )
            + ", in a separate run with its own interleaved reference; its speedup is "
            "against that reference."
        )
    if meta.get("note"):
        items.append(f"Note: {meta['note']}")
    title = f"Training throughput: spectrum engine vs plain PyTorch loop ({first['device']})"
    return Document(title).add(Table(tuple(header), tuple(rows)), Bullets(tuple(items)))


def markdown(table: pd.DataFrame, meta: dict) -> str:
    """The report as markdown (:func:`document`, rendered)."""
    return render_markdown(document(table, meta))


def command_item(command: str) -> Rich:
    """The bullet naming the command a benchmark ran, as typed."""
    return Rich("Command: ", Span(command, "code"))


def warning_item(warning: str, consequence: str) -> Rich:
    """A bullet that warns: ``Warning`` in bold, then why and what it means for the numbers."""
    return Rich(Span("Warning"), f": {warning}; {consequence}")


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

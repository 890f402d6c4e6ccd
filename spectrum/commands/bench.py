"""``spectrum bench train|sweep|latency``: benchmarks of the training engine."""

from __future__ import annotations

from pathlib import Path

import typer
from tqdm import tqdm

from ..data import DataConfig
from ..device import configure, resolve_device
from ..fields import build, flag_of
from ..net.segments import parse_segments, parse_segments_list, segments_label
from ..options import MATCH_CHOICES, parse_choice
from .flags import (
    BATCH_SIZE,
    DATA_DIR,
    DATASET,
    DEVICE,
    PRECISION,
    PRESET,
    SEGMENTS,
    VAL_SIZE,
    command_line,
    parse_precision,
)
from .progress import echo_table

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the training engine.")


def bench_out(name: str):
    """A benchmark's ``--out``: where it writes NAME.csv and NAME.md (default reports/bench)."""
    return typer.Option(
        Path("reports") / "bench", help=f"Output directory for {name}.csv and {name}.md."
    )


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
    out: Path = bench_out("train-DEVICE"),
) -> None:
    """Training images/s of the engine vs a plain PyTorch DataLoader loop at each g, with MFU
    (FLOPs = 3 x forward multiply-adds x 2) against a measured matmul peak. Where the engine
    trains in bf16 by default, a float32 engine run is measured too."""
    from spectrum.bench.settings import BenchSettings
    from spectrum.bench.train import bench_train, parse_bench_segments
    from spectrum.bench.train_report import write_bench

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
    data = build(DataConfig, {"dataset": dataset, "data_dir": data_dir}, flag_of)
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
    out: Path = bench_out("sweep-DEVICE"),
) -> None:
    """Trials per hour of one small sweep run sequentially (one worker, every core's threads)
    and packed (--jobs N workers, cores/N threads each), interleaved, and their ratio."""
    from spectrum.bench.sweep import SweepBenchSettings, bench_sweep
    from spectrum.bench.sweep_report import sweep_rows, write_sweep_bench

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
    out: Path = bench_out("latency-DEVICE-MATCH"),
) -> None:
    """Inference latency of every g at a matched budget, timed in interleaved rounds: each g's
    ratio to the reference g with a paired 95% interval (Holm over the g) and the trend per
    doubling of g (ShuffleNet v2's G2 in measured latency). Run it on a quiet machine."""
    from spectrum.bench.latency import LatencyBenchSettings, bench_latency, comparisons
    from spectrum.bench.latency_report import write_latency_bench

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

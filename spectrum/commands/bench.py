"""``spectrum bench train|sweep|latency``: benchmarks of the training engine.

Each command's flags are made from its settings' fields (:mod:`spectrum.bench.settings`) and the
options it shares with the other commands (--device, the data's), in the order ``--help`` lists
them; :func:`bench_options` is that list, :func:`~spectrum.fields.build` turns the values back
into the settings.
"""

from __future__ import annotations

from pathlib import Path

import typer
from tqdm import tqdm

from ..bench.settings import BenchSettings, LatencyBenchSettings, SweepBenchSettings
from ..data import DataConfig
from ..device import configure, resolve_device
from ..fields import Option, build, flag_of, options_of
from .flags import DATA, DEVICE_OPTION, command, command_line
from .progress import echo_table

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the training engine.")


def out_option(name: str) -> Option:
    """A benchmark's ``--out``: where it writes NAME.csv and NAME.md (default reports/bench)."""
    return Option(
        "out",
        "out",
        Path("reports") / "bench",
        f"Output directory for {name}.csv and {name}.md.",
        Path,
    )


def bench_options(settings: type, *order: str, out: str) -> tuple[Option, ...]:
    """A benchmark's options: those of its ``settings`` dataclass, --device and the data's, in
    ``order`` (every option of ``settings`` is listed there), then --out for ``out``."""
    pool = {opt.name: opt for opt in options_of(settings)}
    missing = set(pool) - set(order)
    if missing:
        raise TypeError(f"{settings.__name__}: options {sorted(missing)} not placed")
    pool |= {"device": DEVICE_OPTION, "dataset": DATA["dataset"], "data_dir": DATA["data_dir"]}
    return (*(pool[name] for name in order), out_option(out))


TRAIN_OPTIONS = bench_options(
    BenchSettings,
    *("segments", "device", "batch_size", "warmup", "steps", "blocks", "compile"),
    *("matmul_size", "precision", "preset", "dataset", "data_dir"),
    out="train-DEVICE",
)
SWEEP_OPTIONS = bench_options(
    SweepBenchSettings,
    *("segments", "seeds", "epochs", "train_subset", "batch_size", "val_size", "jobs"),
    *("repeats", "precision", "preset", "dataset", "data_dir", "device"),
    out="sweep-DEVICE",
)
LATENCY_OPTIONS = bench_options(
    LatencyBenchSettings,
    *("segments", "match", "reference", "rounds", "repeats", "warmup", "batch_size", "width"),
    *("preset", "precision", "device"),
    out="latency-DEVICE-MATCH",
)


@bench_app.command("train")
@command(*TRAIN_OPTIONS)
def bench_train_command(**values) -> None:
    """Training images/s of the engine vs a plain PyTorch DataLoader loop at each g, with MFU
    (FLOPs = 3 x forward multiply-adds x 2) against a measured matmul peak. Where the engine
    trains in bf16 by default, a float32 engine run is measured too."""
    from spectrum.bench.train import bench_train
    from spectrum.bench.train_report import write_bench

    settings = build(BenchSettings, values, flag_of)
    data = build(DataConfig, values, flag_of)
    torch_device = resolve_device(values["device"])
    configure(torch_device)
    table, meta = bench_train(
        settings,
        torch_device,
        data,
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
    csv_path, md_path = write_bench(table, meta, values["out"])
    typer.echo(f"wrote {csv_path} and {md_path}")


@bench_app.command("sweep")
@command(*SWEEP_OPTIONS)
def bench_sweep_command(**values) -> None:
    """Trials per hour of one small sweep run sequentially (one worker, every core's threads)
    and packed (--jobs N workers, cores/N threads each), interleaved, and their ratio."""
    from spectrum.bench.sweep import bench_sweep
    from spectrum.bench.sweep_report import sweep_rows, write_sweep_bench

    settings = build(SweepBenchSettings, values, flag_of)
    torch_device = resolve_device(values["device"])
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
    csv_path, md_path = write_sweep_bench(bench, values["out"])
    typer.echo(f"wrote {csv_path} and {md_path}")


@bench_app.command("latency")
@command(*LATENCY_OPTIONS)
def bench_latency_command(**values) -> None:
    """Inference latency of every g at a matched budget, timed in interleaved rounds: each g's
    ratio to the reference g with a paired 95% interval (Holm over the g) and the trend per
    doubling of g (ShuffleNet v2's G2 in measured latency). Run it on a quiet machine."""
    from spectrum.bench.latency import bench_latency, comparisons
    from spectrum.bench.latency_report import write_latency_bench

    settings = build(LatencyBenchSettings, values, flag_of)
    torch_device = resolve_device(values["device"])
    configure(torch_device)
    bars: list[tqdm] = []  # opened at the first round, so that a bad net errors without one

    def round_done(_text: str) -> None:
        if not bars:
            bars.append(tqdm(total=settings.rounds, desc="rounds", unit="round", leave=False))
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
    csv_path, md_path = write_latency_bench(bench, values["out"])
    typer.echo(f"wrote {csv_path} and {md_path}")

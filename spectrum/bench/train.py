"""``spectrum bench train``: training throughput of the engine next to a plain PyTorch loop.

For each g the proxy is built once and both sides train a copy of the same initial weights, in
the same process, on the same device and thread count:

* **spectrum**: :func:`spectrum.engine.train.train` itself, i.e. the engine as sweeps use it (uint8
  data on the device, device-side normalization, channels_last, SGD Nesterov with the engine's
  parameter groups, lr schedule and label smoothing, and the precision ``auto`` picks: bf16
  autocast where the hardware has native bf16). When that precision is not float32, a second
  engine run forced to float32 shows how much of the speedup is precision and how much the rest;
  ``compile`` adds an engine run with ``torch.compile``. Each extra run is measured separately
  against its own interleaved reference.
* **reference**: the way a typical tutorial trains (a ``DataLoader`` over float32 images, NCHW,
  float32, the engine's loss and optimizer): :mod:`spectrum.bench.reference`, which also holds
  the matmul peak. The CSV columns and the markdown report are :mod:`spectrum.bench.train_report`.

Timing, the same for both sides: the two are interleaved in blocks so that other load on a
shared machine falls on both alike. The engine runs; after its ``warmup`` untimed steps the
reference does its own ``warmup`` untimed steps; then, ``blocks`` times, the engine runs
``steps`` steps and the reference runs ``steps`` steps (E R E R ...). The device is synchronized
at every block boundary (only there), and a block's throughput is ``steps * batch_size /
seconds``, the total over the block. Reported images/s are the median over blocks; the speedup
is the median over blocks of the paired ratio (engine block / the reference block right after it).

MFU (model FLOP utilization) = images/s x training FLOPs per image / peak. Training FLOPs per
image are 3 x forward multiply-adds x 2 FLOPs: fvcore's count (one multiply-add = one "flop") of
one forward pass, doubled to FLOPs, tripled for forward + backward (input and weight gradients).
The peak is measured in the same run: the best of several timed square ``torch.matmul`` of size
``matmul_size`` (2 n^3 FLOPs each), taken before each g and after the last one, in float32 and,
when an engine run uses bf16, in bf16 too. Each side's MFU is against the peak of the precision
it computes in (the reference: float32).
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import torch
from torch import nn

from ..cost.counts import count_flops, count_params
from ..data import DataConfig, Splits, load_dataset
from ..device import (
    cpu_name,
    device_label,
    device_name,
    synchronize,
    threading_env,
    torch_threads,
)
from ..engine.device_data import DeviceData
from ..engine.train import train
from ..errors import DataError
from ..net.segments import Segments, parse_segments_list, segments_label
from ..net.xception import NetConfig, build_net, check_config, choose_preset
from .machine_load import load_average
from .reference import matmul_peak_gflops, reference_loader, reference_steps
from .settings import BenchSettings, EngineRun, engine_runs
from .train_report import run_columns, run_title


def parse_bench_segments(text: str) -> tuple[Segments, ...]:
    return tuple(parse_segments_list(text))


def load_bench_data(data: DataConfig, images_needed: int) -> tuple[Splits, str]:
    """The dataset asked for, or synthetic data if it is not on the machine (with a note).

    Downloads are never attempted: a benchmark measures what is here. An explicit ``data_dir``
    that does not hold the data is the user's mistake and is raised, not papered over.
    """
    try:
        return load_dataset(replace(data, allow_download=False)), ""
    except DataError as error:
        if data.data_dir:
            raise
        fallback = DataConfig(
            name="synthetic", synthetic_train=images_needed + 64, synthetic_test=64, val_size=32
        )
        note = f"{data.name} not available ({error}); measured on synthetic data instead"
        return load_dataset(fallback), note


def enough_training_images(splits: Splits, needed: int) -> Splits:
    """``splits`` with at least ``needed`` training images (repeating them if there are fewer)."""
    n = len(splits.train_y)
    if n >= needed:
        return splits
    repeats = -(-needed // n)
    return replace(
        splits,
        train_x=splits.train_x.repeat(repeats, 1, 1, 1),
        train_y=splits.train_y.repeat(repeats),
    )


@dataclass
class Interleaved:
    """Per-block images/s of the engine and of the reference run between its blocks."""

    engine: list[float]
    reference: list[float]

    @property
    def speedups(self) -> list[float]:
        return [e / r for e, r in zip(self.engine, self.reference)]


def run_interleaved(
    engine_model: nn.Module,
    reference_model: nn.Module,
    data: DeviceData,
    loader: torch.utils.data.DataLoader,
    settings: BenchSettings,
    device: torch.device,
    run: EngineRun | None = None,
) -> Interleaved:
    """Run :func:`spectrum.engine.train.train` and, from its step callback, the reference in blocks."""
    recipe = settings.train_config(run or engine_runs(settings, device)[0])
    reference = reference_steps(reference_model, loader, recipe, device)  # its lr, momentum, ...
    measured = Interleaved([], [])
    mark = 0.0
    block_images = settings.steps * settings.batch_size

    def run_reference(steps: int) -> float:
        for _ in range(steps):
            next(reference)
        synchronize(device)
        return time.perf_counter()

    def on_step(_epoch: int, step: int, _steps: int) -> None:
        nonlocal mark
        if step < settings.warmup or (step - settings.warmup) % settings.steps:
            return
        synchronize(device)
        now = time.perf_counter()
        if step > settings.warmup:
            measured.engine.append(block_images / (now - mark))
            after = run_reference(settings.steps)
            measured.reference.append(block_images / (after - now))
        else:  # the engine's warm-up is over: warm the reference up too
            after = run_reference(settings.warmup)
        mark = time.perf_counter()

    if settings.warmup == 0:
        synchronize(device)
        mark = time.perf_counter()
    result = train(engine_model, data, recipe, device, on_step=on_step)
    if result.status != "complete":
        raise RuntimeError(f"engine run {result.status}: {result.error}")
    if len(measured.engine) != settings.blocks:
        raise RuntimeError(f"measured {len(measured.engine)} of {settings.blocks} blocks")
    return measured


def net_for(segments: Segments, splits: Splits, preset: str) -> NetConfig:
    net = NetConfig.uniform(
        segments,
        preset=choose_preset(preset, splits.image_size),
        in_channels=splits.in_channels,
        num_classes=splits.num_classes,
        image_size=splits.image_size,
    )
    check_config(net)
    return net


ProgressCallback = Callable[[str], None]


def bench_train(
    settings: BenchSettings,
    device: torch.device,
    data: DataConfig = DataConfig(),
    command: str = "",
    on_progress: ProgressCallback | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Measure every g; returns the table (one row per g, :data:`COLUMNS`) and run metadata."""
    say = on_progress or (lambda _text: None)
    load_start = load_average()
    splits, note = load_bench_data(data, settings.images_per_run)
    splits = enough_training_images(splits, settings.images_per_run)
    nets = [net_for(g, splits, settings.preset) for g in settings.segments]

    device_data = DeviceData.from_splits(splits, device)
    # Evaluation after the engine's epoch is not timed; keep it to one small batch.
    keep = min(len(splits.val_y), 64)
    device_data = replace(
        device_data,
        val_x=device_data.val_x[:keep],
        val_y=device_data.val_y[:keep],
        test_x=device_data.test_x[:keep],
        test_y=device_data.test_y[:keep],
    )
    loader = reference_loader(splits, settings)

    runs = engine_runs(settings, device)
    peaks: dict[str, list[float]] = {
        precision: [] for precision in dict.fromkeys(["float32", *(r.precision for r in runs)])
    }

    def measure_peaks() -> None:
        for precision, measured_peaks in peaks.items():
            measured_peaks.append(
                matmul_peak_gflops(device, settings.matmul_size, settings.matmul_repeats, precision)
            )

    rows = []
    for net in nets:
        label = segments_label(net.entry.segments)
        say(f"g={label}: timing {' and '.join(peaks)} matmul")
        measure_peaks()
        torch.manual_seed(0)
        initial = build_net(net, "cpu")
        params = count_params(initial)
        macs = count_flops(copy.deepcopy(initial), net)
        measured = {}
        for run in runs:
            say(
                f"g={label}: {run_title(run)} and reference, {settings.blocks} blocks of "
                f"{settings.steps} steps each"
            )
            measured[run.name] = run_interleaved(
                copy.deepcopy(initial),
                copy.deepcopy(initial),
                device_data,
                loader,
                settings,
                device,
                run,
            )
        rows.append((label, params, macs, measured))
    measure_peaks()
    peak = {precision: max(measured_peaks) for precision, measured_peaks in peaks.items()}
    load_end = load_average()

    main = runs[0]
    date = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    common = {
        "precision": main.precision,
        "matmul_peak_gflops": peak["float32"],
        "engine_peak_gflops": peak[main.precision],
        "device": device_name(device),
        "threads": torch_threads(),
        "torch": torch.__version__,
        "batch_size": settings.batch_size,
        "warmup_steps": settings.warmup,
        "block_steps": settings.steps,
        "blocks": settings.blocks,
        "dataset": splits.name if not note else f"{splits.name} (fallback)",
        "date": date,
        "command": command,
    }
    table = []
    for label, params, macs, measured in rows:
        flops = 6 * macs

        def mfu(images_per_s: float, precision: str, flops: int = flops) -> float:
            return images_per_s * flops / (peak[precision] * 1e9)

        plain = measured[main.name]
        spectrum_ips = statistics.median(plain.engine)
        reference_ips = statistics.median(plain.reference)
        row = {
            "g": label,
            "params": params,
            "forward_macs": macs,
            "train_flops_per_image": flops,
            "spectrum_images_per_s": spectrum_ips,
            "reference_images_per_s": reference_ips,
            "speedup": statistics.median(plain.speedups),
            "spectrum_mfu": mfu(spectrum_ips, main.precision),
            "reference_mfu": mfu(reference_ips, "float32"),
            "spectrum_images_per_s_min": min(plain.engine),
            "spectrum_images_per_s_max": max(plain.engine),
            "reference_images_per_s_min": min(plain.reference),
            "reference_images_per_s_max": max(plain.reference),
            **common,
        }
        for run in runs[1:]:
            extra = measured[run.name]
            extra_ips = statistics.median(extra.engine)
            row.update(
                zip(
                    run_columns(run.name),
                    (
                        extra_ips,
                        statistics.median(extra.reference),
                        statistics.median(extra.speedups),
                        mfu(extra_ips, run.precision),
                    ),
                )
            )
        table.append(row)
    meta = {
        "note": note,
        "load_start": load_start,
        "load_end": load_end,
        "matmul_peaks_gflops": peaks["float32"],
        "engine_peaks_gflops": peaks[main.precision],
        "runs": runs,
        "precision_asked": settings.precision,
        "source": splits.source,
        "cpu": cpu_name(),
        "env": threading_env(),
        "cores": os.cpu_count(),
        "device_label": device_label(device),
    }
    return pd.DataFrame(table), meta

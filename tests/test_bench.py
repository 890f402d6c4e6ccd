"""``spectrum bench train`` on synthetic data with tiny budgets: rows, columns, files (no timing
thresholds: only that the numbers are there and sane)."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pandas as pd
import pytest
import torch

from spectrum.bench.reference import matmul_peak_gflops
from spectrum.bench.settings import BenchSettings, EngineRun, engine_runs
from spectrum.bench.train import bench_train, load_bench_data, parse_bench_segments
from spectrum.bench.train_report import (
    COLUMNS,
    COMPILED_COLUMNS,
    FLOAT32_COLUMNS,
    document,
    markdown,
    write_bench,
)
from spectrum.data import DataConfig
from spectrum.errors import DataError, SpecError
from spectrum.report.render_md import render_markdown

# bf16 is asked for explicitly so that every machine measures the same runs (bf16, then float32);
# where the CPU has no native bf16 it is emulated, which is slow but fine at this size.
TINY = BenchSettings(
    segments=(4, "C"),
    batch_size=8,
    warmup=1,
    steps=2,
    blocks=2,
    matmul_size=64,
    matmul_repeats=2,
    precision="bfloat16",
)
CPU = torch.device("cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny batches on a shared machine: one intra-op thread keeps these tests fast."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def measured(one_thread):
    return bench_train(TINY, CPU, DataConfig(name="synthetic"), command="spectrum bench train")


def test_rows_have_every_column_and_sane_values(measured):
    table, meta = measured
    assert list(table["g"]) == ["4", "C"]
    assert set(COLUMNS) <= set(table.columns)
    assert not set(COMPILED_COLUMNS) & set(table.columns)
    assert set(FLOAT32_COLUMNS) <= set(table.columns)
    assert not table[list(COLUMNS + FLOAT32_COLUMNS)].isna().any().any()
    assert (table[list(FLOAT32_COLUMNS)] > 0).all().all()
    assert (table["precision"] == "bfloat16").all()
    for side in ("spectrum", "reference"):
        ips = table[f"{side}_images_per_s"]
        assert (ips > 0).all() and ips.map(math.isfinite).all()
        assert (table[f"{side}_images_per_s_min"] <= ips).all()
        assert (ips <= table[f"{side}_images_per_s_max"]).all()
        assert (table[f"{side}_mfu"] > 0).all()
    assert (table["speedup"] > 0).all()
    # g = C has fewer parameters and multiply-adds than g = 4; FLOPs follow the 3 x 2 convention.
    assert table["params"].iloc[0] > table["params"].iloc[1] > 0
    assert table["forward_macs"].iloc[0] > table["forward_macs"].iloc[1] > 0
    assert (table["train_flops_per_image"] == 6 * table["forward_macs"]).all()
    # Each side's MFU is against the matmul peak of the precision it computes in.
    for column, peak in (
        ("spectrum", "engine_peak_gflops"),
        ("reference", "matmul_peak_gflops"),
        ("float32", "matmul_peak_gflops"),
    ):
        mfu = table[f"{column}_images_per_s"] * table["train_flops_per_image"] / (table[peak] * 1e9)
        assert mfu.tolist() == pytest.approx(table[f"{column}_mfu"].tolist())
    row = table.iloc[0]
    assert row["matmul_peak_gflops"] > 0 and row["engine_peak_gflops"] > 0
    assert row["device"] == "cpu" and row["threads"] == 1
    assert row["torch"] == torch.__version__
    assert (row["batch_size"], row["warmup_steps"], row["block_steps"], row["blocks"]) == (
        8,
        1,
        2,
        2,
    )
    assert row["dataset"] == "synthetic" and row["command"] == "spectrum bench train"
    assert len(meta["matmul_peaks_gflops"]) == 3 and len(meta["load_start"]) == 3  # per g + end
    assert len(meta["engine_peaks_gflops"]) == 3


def test_writes_csv_and_markdown(measured, tmp_path):
    table, meta = measured
    csv_path, md_path = write_bench(table, meta, tmp_path / "bench")
    from spectrum.device import usable_cores

    stem = "train-cpu" if usable_cores() == 1 else "train-cpu-1t"  # the tests run one thread
    assert (csv_path.name, md_path.name) == (f"{stem}.csv", f"{stem}.md")
    again = pd.read_csv(csv_path)
    assert list(again.columns) == list(table.columns) and len(again) == 2
    text = md_path.read_text()
    assert "| C |" in text and "Matmul peak" in text and "getloadavg" in text
    assert "`spectrum bench train`" in text and "1 multiply-add = 1 flop" in text
    assert "Engine precision: bfloat16 (asked: bfloat16)" in text
    assert "float32 engine img/s" in text and "forced to float32" in text
    doc = document(table, meta)  # the markdown is the document, rendered
    assert [type(block).__name__ for block in doc.blocks] == ["Table", "Bullets"]
    assert len(doc.blocks[0].rows) == 2 and render_markdown(doc) == text


def test_compiled_engine_is_measured_separately_when_asked(monkeypatch):
    # torch.compile itself is too slow for a unit test: the engine runs uncompiled here and only
    # the bookkeeping of the second, compiled run is checked.
    import spectrum.bench.train as bench

    real_train, seen = bench.train, []

    def train_without_compile(model, data, config, device, **kwargs):
        seen.append(config.compile)
        return real_train(model, data, replace(config, compile=False), device, **kwargs)

    monkeypatch.setattr(bench, "train", train_without_compile)
    settings = replace(TINY, segments=("C",), blocks=1, compile=True)
    table, meta = bench_train(settings, CPU, DataConfig(name="synthetic"))
    assert seen == [False, False, True]  # bf16 engine, float32 engine, compiled
    assert set(COMPILED_COLUMNS) <= set(table.columns)
    assert (table[list(COMPILED_COLUMNS)] > 0).all().all()
    assert "compiled" in markdown(table, meta)


def test_blocks_interleave_engine_and_reference():
    torch.manual_seed(0)
    settings = replace(TINY, segments=("C",), warmup=2, steps=3, blocks=4)
    splits, _ = load_bench_data(DataConfig(name="synthetic"), settings.images_per_run)
    from spectrum.bench.reference import reference_loader
    from spectrum.bench.train import net_for, run_interleaved
    from spectrum.engine.device_data import DeviceData
    from spectrum.net.xception import build_net

    model = build_net(net_for("C", splits, "auto"))
    measured = run_interleaved(
        copy.deepcopy(model),
        copy.deepcopy(model),
        DeviceData.from_splits(splits, CPU),
        reference_loader(splits, settings),
        settings,
        CPU,
    )
    assert len(measured.engine) == len(measured.reference) == len(measured.speedups) == 4
    assert all(v > 0 for v in measured.engine + measured.reference)


def test_missing_dataset_falls_back_to_synthetic_with_a_note(tmp_path, monkeypatch):
    import spectrum.data.fashion_mnist as fashion_mnist

    monkeypatch.setattr(fashion_mnist, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "none")
    monkeypatch.delenv("SPECTRUM_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    splits, note = load_bench_data(DataConfig(), 100)
    assert splits.name == "synthetic" and len(splits.train_y) >= 100
    assert "fashion-mnist not available" in note and "synthetic" in note
    # A --data-dir that is wrong is an error, not a silent fallback.
    with pytest.raises(DataError):
        load_bench_data(DataConfig(data_dir=str(tmp_path / "typo")), 100)


def test_matmul_peak_is_positive():
    assert matmul_peak_gflops(CPU, size=32, repeats=1) > 0


def test_settings_and_segments_are_validated():
    assert parse_bench_segments("1,4,32,C") == (1, 4, 32, "C")
    with pytest.raises(SpecError):
        BenchSettings(steps=0)
    with pytest.raises(SpecError):
        BenchSettings(warmup=-1)
    with pytest.raises(SpecError):
        BenchSettings(segments=())
    with pytest.raises(SpecError, match="precision 'fp16'"):
        BenchSettings(precision="fp16")


def test_cli_writes_the_report_and_rejects_bad_flags(tmp_path, monkeypatch, capsys):
    from spectrum.cli import main

    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    out = tmp_path / "bench"
    args = [
        "bench",
        "train",
        "--dataset",
        "synthetic",
        "--segments",
        "C",
        "--device",
        "cpu",
        "--batch-size",
        "4",
        "--warmup",
        "0",
        "--steps",
        "1",
        "--blocks",
        "1",
        "--matmul-size",
        "32",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "speedup" in printed and "matmul peak" in printed
    written = sorted(path.suffix for path in out.iterdir())
    assert written == [".csv", ".md"]
    assert main(args[:-2] + ["--steps", "0"]) == 2
    assert "steps must be >= 1" in capsys.readouterr().err
    assert main(args[:-2] + ["--precision", "fp16"]) == 2
    assert "--precision" in capsys.readouterr().err


def test_float32_engine_has_no_extra_run_and_one_peak():
    table, meta = bench_train(
        replace(TINY, segments=("C",), blocks=1, precision="float32"),
        CPU,
        DataConfig(name="synthetic"),
    )
    assert not set(FLOAT32_COLUMNS) & set(table.columns)
    assert (table["precision"] == "float32").all()
    assert (table["engine_peak_gflops"] == table["matmul_peak_gflops"]).all()
    assert "Engine precision: float32" in markdown(table, meta)


@pytest.mark.parametrize(
    "flags, expected",
    [
        (frozenset({"avx2", "avx512_bf16"}), ["spectrum:bfloat16", "float32:float32"]),
        (frozenset({"avx2", "amx_bf16"}), ["spectrum:bfloat16", "float32:float32"]),
        (frozenset({"avx2", "avx512f"}), ["spectrum:float32"]),
    ],
)
@pytest.mark.numeric
def test_auto_precision_follows_the_cpu(monkeypatch, flags, expected):
    import spectrum.device as device

    monkeypatch.delenv("SPECTRUM_DISABLE_BF16", raising=False)  # this test sets the CPU's flags
    monkeypatch.setattr(device, "cpu_flags", lambda: flags)
    runs = engine_runs(BenchSettings(), CPU)
    assert [f"{run.name}:{run.precision}" for run in runs] == expected
    compiled = engine_runs(BenchSettings(compile=True), CPU)[-1]
    assert compiled == EngineRun("compiled", runs[0].precision, compile=True)

"""``spectrum bench sweep``: the workers' argv is the planned sweep, the bookkeeping of runs
(trials/h, medians, ratio, warnings, files), bad flags, and (slow) one real tiny benchmark in
which both modes must run every trial exactly once. Also ``run_packed``'s worker argv, which
comes from the parsed command, not from ``sys.argv``."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

import spectrum.commands.studies
from spectrum import cli
from spectrum.bench.machine_load import QUIET_LOAD, machine_cpu_s, own_cpu_s
from spectrum.bench.sweep import (
    SweepBench,
    SweepBenchSettings,
    SweepRun,
    packed_jobs,
    trial_threads,
)
from spectrum.bench.sweep_report import (
    SWEEP_COLUMNS,
    sweep_document,
    sweep_markdown,
    write_sweep_bench,
)
from spectrum.errors import SpecError
from spectrum.report.render_md import render_markdown
from spectrum.study import workers

CPU = torch.device("cpu")
# Synthetic data has 2,048 training images: hold out 256, train on 128.
TINY = SweepBenchSettings(
    segments=(4, "C"),
    seeds=1,
    train_subset=128,
    batch_size=64,
    val_size=256,
    jobs="2",
    repeats=1,
    dataset="synthetic",
)


def captured_sweep(monkeypatch, argv: list[str]) -> dict:
    """What ``spectrum sweep argv`` would run: the arguments of its run_study_command call."""
    seen: dict = {}

    def capture(plan, study, storage, out, device, report, **options):
        seen.update(plan=plan, study=study, storage=storage, out=out, device=device)
        seen.update(report=report, **options)

    monkeypatch.setattr(spectrum.commands.studies, "run_study_command", capture)
    assert cli.main(argv) == 0
    return seen


def test_worker_argv_is_the_planned_sweep(monkeypatch, tmp_path):
    for settings in (TINY, replace(TINY, segments=(1, 4, "C"), seeds=2, data_dir=str(tmp_path))):
        argv = settings.argv(CPU, "bench-x", str(tmp_path / "study.db"), tmp_path)
        seen = captured_sweep(monkeypatch, argv)
        # Equal plans, so the workers open the study the parent queued (same fingerprint).
        assert seen["plan"] == settings.plan()
        assert (seen["study"], seen["storage"]) == ("bench-x", str(tmp_path / "study.db"))
        assert (seen["out"], seen["device"], seen["report"]) == (tmp_path, "cpu", False)
        assert "--jobs" not in argv  # the workers add --jobs 1


def run(repeat: int, mode: str, wall_s: float, other_load: float = 0.0) -> SweepRun:
    jobs, threads = (1, 2) if mode == "sequential" else (2, 1)
    return SweepRun(
        repeat=repeat,
        mode=mode,
        jobs=jobs,
        threads=threads,
        grid_points=6,
        trials=6,
        trained=6,
        complete=6,
        precision="bfloat16",
        trial_threads=(threads,),
        trial_s_mean=wall_s / 6,
        wall_s=wall_s,
        load_before=0.1,
        load_after=1.9,
        other_load=other_load,
    )


def bench_of(walls: list[tuple[float, float]], load: float = 0.1, other: float = 0.0):
    runs = []
    for repeat, (sequential, packed) in enumerate(walls, start=1):
        runs += [run(repeat, "sequential", sequential, other), run(repeat, "packed", packed)]
    return SweepBench(
        settings=replace(TINY, repeats=len(walls), segments=(1, 4, "C"), seeds=2),
        runs=tuple(runs),
        device="cpu",
        label="cpu",
        cores=2,
        cpu="test cpu",
        env={},
        dataset="synthetic",
        source="generated",
        train_images=128,
        load_start=(load, 0.2, 0.3),
        load_end=(1.5, 1.0, 0.5),
        date="2026-01-01T00:00:00+00:00",
        torch=torch.__version__,
        command="spectrum bench sweep --repeats 3",
    )


def test_trials_per_hour_medians_and_ratio():
    walls = [(100.0, 70.0), (130.0, 80.0), (90.0, 75.0)]
    bench = bench_of(walls)
    sequential = statistics.median(6 * 3600 / s for s, _ in walls)
    packed = statistics.median(6 * 3600 / p for _, p in walls)
    assert bench.trials_per_hour("sequential") == pytest.approx(sequential)
    assert bench.trials_per_hour("packed") == pytest.approx(packed)
    assert bench.ratio == pytest.approx(packed / sequential)
    assert bench.repeat_ratios == pytest.approx([s / p for s, p in walls])
    assert [r.mode for r in bench.runs] == ["sequential", "packed"] * 3  # S P S P S P
    assert bench.warnings() == []


def test_rows_markdown_and_files(tmp_path):
    bench = bench_of([(100.0, 70.0), (130.0, 80.0)])
    csv_path, md_path = write_sweep_bench(bench, tmp_path / "bench")
    assert (csv_path.name, md_path.name) == ("sweep-cpu.csv", "sweep-cpu.md")
    table = pd.read_csv(csv_path)
    assert list(table.columns) == list(SWEEP_COLUMNS) and len(table) == 4
    assert list(table["mode"]) == ["sequential", "packed"] * 2
    assert table["trials_per_hour"].tolist() == pytest.approx(
        (table["trials"] * 3600 / table["wall_s"]).tolist()
    )
    medians = table.groupby("mode")["trials_per_hour"].median()
    assert table["ratio"].tolist() == pytest.approx([medians["packed"] / medians["sequential"]] * 4)
    assert table["repeat_ratio"].tolist() == pytest.approx([100 / 70] * 2 + [130 / 80] * 2)
    text = md_path.read_text()
    assert f"ratio {bench.ratio:.2f}x" in text
    assert "| 1 | sequential | 1 x 2 | 6/6 |" in text and "| 2 | packed | 2 x 1 | 6/6 |" in text
    assert "`spectrum bench sweep --repeats 3`" in text and "getloadavg" in text
    assert "The machine was quiet" in text and "Warning" not in text
    doc = sweep_document(bench)  # the markdown is the document, rendered
    assert [type(block).__name__ for block in doc.blocks] == ["Paragraph", "Table", "Bullets"]
    assert render_markdown(doc) == text and f"ratio {bench.ratio:.2f}x** (per repeat" in text


def test_a_busy_machine_is_flagged():
    bench = bench_of([(100.0, 70.0)], load=QUIET_LOAD + 1, other=QUIET_LOAD + 0.3)
    found = bench.warnings()
    assert len(found) == 2 and "not quiet" in found[0] and "sequential run 1" in found[1]
    text = sweep_markdown(bench)
    assert text.count("**Warning**") == 2 and "other load 0.80 cores" in text


def test_other_load_accounts_this_process():
    machine, own = machine_cpu_s(), own_cpu_s()
    if machine != machine:
        pytest.skip("no /proc/stat here")
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    spent_machine, spent_own = machine_cpu_s() - machine, own_cpu_s() - own
    assert spent_own >= 0.29
    assert spent_machine >= spent_own - 0.05  # the machine's count includes ours


def test_trial_threads_come_from_the_records():
    records = [{"device": "cpu (2 threads)"}, {"device": "cpu (1 threads)"}, {"device": "cuda:0"}]
    assert trial_threads(records) == (1, 2)


def test_packing_needs_two_workers():
    assert packed_jobs("2", CPU, 6) == 2
    for text in ("1", "0", "two"):
        with pytest.raises(SpecError, match="--jobs"):
            packed_jobs(text, CPU, 6)
    with pytest.raises(SpecError, match="one point"):
        packed_jobs("auto", CPU, 1)
    with pytest.raises(SpecError, match="one worker"):
        packed_jobs("auto", torch.device("cuda", 0), 6)  # auto is 1 on a GPU


BENCH_ARGS = [
    "bench",
    "sweep",
    "--dataset",
    "synthetic",
    "--val-size",
    "256",
    "--train-subset",
    "128",
    "--batch-size",
    "64",
    "--segments",
    "4,C",
    "--seeds",
    "1",
    "--repeats",
    "1",
    "--device",
    "cpu",
]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--jobs", "0"], "--jobs"),
        (["--jobs", "1"], "sequential mode"),
        (["--repeats", "0"], "repeats must be >= 1"),
        (["--seeds", "0"], "seeds must be >= 1"),
        (["--train-subset", "0"], "train-subset must be >= 1"),
        (["--segments", "C", "--jobs", "auto"], "one point"),
        (["--segments", "0"], "segment"),
        (["--precision", "fp16"], "--precision"),
    ],
)
def test_bad_flags_are_one_line_exit_2(flags, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")  # --jobs 2 is allowed on any machine
    out = tmp_path / "bench"
    assert cli.main([*BENCH_ARGS, "--jobs", "2", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_more_workers_than_cores_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SPECTRUM_THREADS", raising=False)
    jobs = str(workers.usable_cores() + 1)
    assert cli.main([*BENCH_ARGS, "--jobs", jobs, "--out", str(tmp_path)]) == 2
    assert "more workers than the" in capsys.readouterr().err


@pytest.mark.slow
def test_both_modes_run_every_trial_exactly_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")  # tiny nets on a shared machine; any core count
    out = tmp_path / "bench"
    assert cli.main([*BENCH_ARGS, "--jobs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "ratio packed/sequential" in printed.out and "repeat 1/1, packed" in printed.err
    (csv_path,) = out.glob("sweep-*.csv")
    table = pd.read_csv(csv_path)
    assert list(table.columns) == list(SWEEP_COLUMNS)
    assert list(table["mode"]) == ["sequential", "packed"] and list(table["jobs"]) == [1, 2]
    for column in ("trials", "trained", "complete", "grid_points"):
        assert list(table[column]) == [2, 2], column
    assert list(table["trial_threads"].astype(str)) == ["1", "1"]
    assert (table["wall_s"] > 0).all()
    sequential, packed = table["trials_per_hour"]
    assert table["ratio"].tolist() == pytest.approx([packed / sequential] * 2)
    assert table["trials_per_hour"].tolist() == pytest.approx((2 * 3600 / table["wall_s"]).tolist())
    text = csv_path.with_suffix(".md").read_text()
    assert f"ratio {table['ratio'][0]:.2f}x" in text
    assert "`spectrum bench sweep --segments 4,C --seeds 1 " in text
    assert "test_bench_sweep.py" not in text  # the command, not the test runner's argv


# --------------------------------------------------------------------------------------------
# run_packed: the workers repeat the parsed command, however the CLI was started


class Started(Exception):
    pass


def test_packed_workers_get_the_commands_own_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    monkeypatch.setattr("sys.argv", ["pytest", "-q", "tests/"])  # not the command: in-process
    started = []

    def start_workers(argv, jobs, threads, **_options):
        started.append(argv)
        raise Started

    monkeypatch.setattr(workers, "start_workers", start_workers)
    argv = [
        "sweep",
        "--dataset",
        "synthetic",
        "--segments",
        "4,C",
        "--width",
        "0.5",
        "--augment",
        "--study",
        "in-process",
        "--out",
        str(tmp_path / "out"),
        "--no-report",
        "--jobs",
        "2",
    ]
    with pytest.raises(Started):
        cli.main(argv)
    (given,) = started
    assert given[0] == "sweep" and "pytest" not in given and "--no-report" in given
    # The workers' command runs the same sweep as the one typed.
    assert captured_sweep(monkeypatch, given) == captured_sweep(monkeypatch, argv)


@pytest.mark.slow
def test_an_in_process_packed_sweep_completes(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    monkeypatch.setattr("sys.argv", ["pytest"])
    out = tmp_path / "out"
    out.mkdir()  # an explicit --storage path needs its directory
    argv = [*TINY.argv(CPU, "packed", str(out / "study.db"), out), "--jobs", "2"]
    assert cli.main(argv) == 0
    assert len(pd.read_csv(Path(out) / "results.csv")) == 2

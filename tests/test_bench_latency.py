"""``spectrum bench latency``: ratios and the trend from known per-round latencies, the files it
writes, bad flags, and one real tiny run through the command."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectrum import cli
from spectrum.bench.latency import (
    LatencyBench,
    LatencyBenchSettings,
    TimedNet,
    comparisons,
    trend,
)
from spectrum.bench.latency_report import (
    LATENCY_COLUMNS,
    latency_document,
    latency_markdown,
    write_latency_bench,
)
from spectrum.report.render_md import render_markdown


def fake_bench(factors: dict[str, float], rounds: int = 12, noise: float = 0.02, load=0.1):
    """g's round latencies = 10 ms x factor x a round effect shared by every g x its own noise."""
    rng = np.random.default_rng(0)
    drift = np.exp(rng.normal(0, 0.2, rounds))  # load that moves every g of a round alike
    nets = tuple(
        TimedNet(
            g,
            1.0,
            1000,
            2000,
            tuple(float(v) for v in 10.0 * f * drift * np.exp(rng.normal(0, noise, rounds))),
        )
        for g, f in factors.items()
    )
    settings = LatencyBenchSettings(segments=tuple(factors), rounds=rounds)
    return LatencyBench(
        settings=settings,
        nets=nets,
        precision="float32",
        device="cpu",
        label="cpu",
        threads=2,
        cores=2,
        cpu="test cpu",
        env={},
        load_start=(load, load, load),
        load_end=(load, load, load),
        other_load=load,
        wall_s=3.0,
        date="2026-12-01T00:00:00+00:00",
        torch="2.13.0",
        command="spectrum bench latency",
    )


def test_ratios_pair_rounds_and_the_trend_is_per_doubling():
    bench = fake_bench({"1": 1.0, "4": 1.0, "16": 2.0, "C": 4.0})
    found = {c.g: c for c in comparisons(bench)}
    assert set(found) == {"4", "16", "C"}
    assert found["4"].verdict == "undecided" and found["4"].ci_low < 1.0 < found["4"].ci_high
    for g, factor in (("16", 2.0), ("C", 4.0)):
        c = found[g]
        assert c.verdict == "slower" and c.ci_low < c.ratio < c.ci_high and c.rounds == 12
        assert abs(c.ratio / factor - 1) < 0.03 and c.p_holm >= c.p_value
    # The shared round drift (sd 0.2 in log) is far larger than the noise (0.02): pairing
    # by round is what keeps the intervals this narrow.
    assert found["C"].ci_high / found["C"].ci_low < 1.1
    slope = trend(bench)
    # x positions: log2 1 = 0, 2, 4 and C at 5; log2 latency 0, 0, 1, 2
    x, y = np.array([0.0, 2.0, 4.0, 5.0]), np.array([0.0, 0.0, 1.0, 2.0])
    expected = 2 ** (((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    assert slope.verdict == "rises" and abs(slope.factor - expected) < 0.02
    faster = comparisons(fake_bench({"1": 1.0, "C": 0.5}))
    assert [c.verdict for c in faster] == ["faster"] and trend(fake_bench({"1": 1, "C": 2})) is None


def test_the_ratio_interval_keeps_its_coverage_over_rounds():
    """Nominal 95% over 15 rounds: at least 93% of 400 simulated benchmarks cover the true 1.5x."""
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(400):
        drift = np.exp(rng.normal(0, 0.3, 15))
        nets = tuple(
            TimedNet(g, 1.0, 1, 1, tuple(10 * f * drift * np.exp(rng.standard_t(3, 15) * 0.03)))
            for g, f in (("1", 1.0), ("C", 1.5))
        )
        bench = fake_bench({"1": 1.0, "C": 1.5}, rounds=15)
        (c,) = comparisons(LatencyBench(**{**bench.__dict__, "nets": nets}))
        covered += c.ci_low < 1.5 < c.ci_high
    assert covered / 400 >= 0.93


def test_the_trend_interval_keeps_its_coverage_over_rounds():
    """Nominal 95% over 15 rounds: >= 93% of 400 simulated benchmarks cover the true x1.1."""
    rng = np.random.default_rng(11)
    positions = {"1": 0.0, "4": 2.0, "16": 4.0, "C": 5.0}  # C one step right of 16
    covered = 0
    for _ in range(400):
        drift = np.exp(rng.normal(0, 0.3, 15))
        nets = tuple(
            TimedNet(
                g, 1.0, 1, 1, tuple(10 * 1.1**x * drift * np.exp(rng.standard_t(3, 15) * 0.03))
            )
            for g, x in positions.items()
        )
        bench = fake_bench(dict.fromkeys(positions, 1.0), rounds=15)
        slope = trend(LatencyBench(**{**bench.__dict__, "nets": nets}))
        covered += slope.ci_low < 1.1 < slope.ci_high
    assert covered / 400 >= 0.93


def test_files_say_how_it_was_measured_and_warn_when_not_quiet(tmp_path):
    bench = fake_bench({"1": 1.0, "4": 1.5, "C": 3.0}, rounds=5)
    csv_path, md_path = write_latency_bench(bench, tmp_path)
    assert csv_path == tmp_path / "latency-cpu-flops.csv"
    rows = pd.read_csv(csv_path)
    assert tuple(rows.columns) == LATENCY_COLUMNS and len(rows) == 15
    positions = rows.pivot(index="round", columns="g", values="position")
    assert all(sorted(positions.loc[r]) == [0, 1, 2] for r in range(5))  # each round a rotation
    assert list(positions["1"]) == [0, 2, 1, 0, 2]  # g = 1 is not always timed first
    text = md_path.read_text()
    assert "at matched FLOPs" in text and "| C | 1 | 1 k | 2 k |" in text
    assert "The machine was quiet" in text and "**Warning**" not in text
    doc = latency_document(bench)  # the markdown is the document, rendered
    assert [type(block).__name__ for block in doc.blocks] == ["Paragraph", "Table", "Bullets"]
    assert render_markdown(doc) == text and "(as `spectrum sweep --match flops`)" in text
    busy = latency_markdown(fake_bench({"1": 1.0, "C": 2.0}, load=1.4))
    assert busy.count("**Warning**") == 1 and "other processes kept 1.40 cores busy" in busy
    after_other_work = fake_bench({"1": 1.0, "C": 2.0}, load=0.0)
    after_other_work = LatencyBench(**{**after_other_work.__dict__, "load_start": (1.1,) * 3})
    assert after_other_work.warnings() == []  # the load average still held work that ended
    unknown = LatencyBench(**{**after_other_work.__dict__, "other_load": math.nan})
    assert "load average 1.10 before starting" in unknown.warnings()[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--reference", "8"], "--reference 8: not one of --segments 1,4,C"),
        (["--rounds", "2"], "--rounds must be >= 3"),
        (["--segments", "C", "--reference", "C"], "at least two different g"),
        (["--segments", "4,4"], "names 4 twice"),
        (["--match", "macs"], "--match"),
        (["--repeats", "0"], "--repeats must be >= 1"),
        (["--segments", "3,C"], "3"),
        (["--preset", "bogus"], "preset 'bogus' is not one of"),
        (["--width", "0"], "--width must be > 0"),
        (["--warmup", "-1"], "--warmup must be >= 0"),
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--precision", "fp8"], "--precision 'fp8' is not one of"),
    ],
)
def test_bad_flags_are_one_line_exit_2(flags, message, tmp_path, capsys):
    argv = ["bench", "latency", "--segments", "1,4,C", *flags, "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not list(tmp_path.iterdir())


def test_a_real_tiny_run_times_every_g_every_round(tmp_path, capsys):
    argv = ["bench", "latency", "--segments", "1,C", "--rounds", "3", "--repeats", "1"]
    argv += ["--warmup", "0", "--batch-size", "2", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    rows = pd.read_csv(tmp_path / "latency-cpu-flops.csv")
    assert len(rows) == 6 and (rows["latency_ms"] > 0).all()
    widths = rows.groupby("g")["width_multiplier"].first()
    assert widths["C"] == 1.0 and widths["1"] < 1.0  # g = 1 narrowed to C's FLOPs
    flops = rows.groupby("g")["flops"].first()
    assert math.isclose(flops["1"], flops["C"], rel_tol=0.02)
    out = capsys.readouterr().out
    assert "g = C:" in out and "the latency of g = 1" in out
    table = Path(tmp_path / "latency-cpu-flops.md").read_text()
    assert "| 1 | 0." in table and "| C | 1 |" in table and "| reference |" in table

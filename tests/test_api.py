"""The public Python API (``spectrum.__all__``), its torch.hub entry points and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import spectrum
from spectrum.cli import main

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(
    dataset="synthetic",
    epochs=1,
    train_subset=128,
    val_size=128,
    batch_size=64,
    width=0.5,
    latency=False,
    device="cpu",
)


def cli_error(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    return err.removeprefix("spectrum: error: ")


def test_all_lists_the_public_names_and_import_stays_light():
    expected = {
        "BlockSpec", "Counts", "Matched", "SpectrumConv", "compare", "count", "load_results",
        "match_width", "proxy", "search", "sweep", "train", "write_report", "xception",
        "DataError", "SegmentsError", "SpecError", "SpectrumError", "StorageError", "__version__",
    }  # fmt: skip
    assert set(spectrum.__all__) == expected
    for name in spectrum.__all__:
        assert getattr(spectrum, name) is not None
    out = subprocess.run(
        [sys.executable, "-c", "import sys, spectrum; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"  # torch is imported on first use, not by import


def test_errors_are_the_cli_error_types():
    assert issubclass(spectrum.SpecError, spectrum.SpectrumError)
    assert issubclass(spectrum.SegmentsError, spectrum.SpecError)
    assert issubclass(spectrum.DataError, spectrum.SpectrumError)
    assert issubclass(spectrum.StorageError, spectrum.SpectrumError)


def test_spectrum_conv_and_block_spec_in_a_user_sequential():
    import torch
    from torch import nn

    spec = spectrum.BlockSpec(32, 64, segments=4, order="pointwise-first", activation="relu")
    block = spectrum.SpectrumConv(spec)
    assert block.groups == 4 and block.spatial.groups == 4
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), block)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 64, 8, 8)


def test_xception_has_the_papers_parameter_count():
    model = spectrum.xception()
    assert spectrum.count(model, latency=False).params == 22_855_952
    model = spectrum.xception(segments=8, num_classes=10, middle_repeats=1)
    assert model.classifier[-1].out_features == 10
    assert {m.groups for m in model.modules() if isinstance(m, spectrum.SpectrumConv)} == {8}


def test_proxy_takes_the_cli_options_per_flow():
    import torch

    model = spectrum.proxy(
        preset="proxy-32", segments=4, exit="C", order="pointwise-first", activation="elu",
        residual="off", width=0.5, num_classes=7,
    )  # fmt: skip
    config = model.config
    assert (config.entry.segments, config.middle.segments, config.exit.segments) == (4, 4, "C")
    assert config.entry.order == "pointwise-first" and config.exit.activation == "elu"
    assert not config.residual and config.width_multiplier == 0.5
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert spectrum.proxy(in_channels=3).eval()(torch.randn(1, 3, 28, 28)).shape == (1, 10)


def test_count_gives_the_cli_numbers_and_times_any_model():
    from torch import nn

    counts = spectrum.count(spectrum.proxy(), latency=False)
    # spectrum count --segments C --no-latency (README): 351322 params, 3146656 FLOPs
    assert (counts.params, counts.flops) == (351_322, 3_146_656)
    assert counts.latency_ms is None and counts.as_dict()["params"] == 351_322
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    timed = spectrum.count(net, (1, 8, 8), batch_size=2, repeats=1)
    assert timed.flops == 4 * 36 * 9 + 144 * 3
    assert timed.latency_ms > 0 and timed.train_step_ms > 0 and timed.latency_batch == 2
    assert net.training  # mode restored
    features = spectrum.count(nn.Conv2d(1, 4, 3), (1, 8, 8), batch_size=2, repeats=1)
    assert features.latency_ms > 0 and features.train_step_ms is None  # no logits to train on
    with pytest.raises(spectrum.SpecError, match="input_size"):
        spectrum.count(net, latency=False)


def test_match_width_gives_the_cli_match():
    matched = spectrum.match_width(4, metric="params")
    # spectrum count --segments 4 --match params (README): width 0.598, 353588 params
    assert round(matched.width_multiplier, 3) == 0.598
    assert (matched.value, matched.target) == (353_588, 351_322)
    assert matched.relative_error < 0.02
    assert spectrum.count(matched.build(), latency=False).params == matched.value
    with pytest.raises(spectrum.SpecError, match="--match"):
        spectrum.match_width(4, metric="latency")


def test_bad_arguments_raise_the_same_one_line_error_as_the_cli(capsys):
    with pytest.raises(spectrum.SegmentsError) as caught:
        spectrum.proxy(segments=3)
    assert str(caught.value) == cli_error(capsys, "count", "--segments", "3", "--no-latency")
    assert "\n" not in str(caught.value)
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.proxy(order="sideways")
    assert str(caught.value) == cli_error(capsys, "count", "--order", "sideways", "--no-latency")
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.sweep(segments="1,,C", out="unused")
    assert str(caught.value) == cli_error(capsys, "sweep", "--segments", "1,,C")


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    events: list[tuple[str, dict]] = []
    results = spectrum.sweep(
        segments=[16, "C"], out=out, progress=lambda e, d: events.append((e, d)), **TINY
    )
    return out, results, events


def test_sweep_returns_a_dataframe_reports_progress_and_resumes(swept):
    out, results, events = swept
    assert list(results["segments"]) == ["16", "C"]
    assert list(results["status"]) == ["complete", "complete"]
    assert (out / "results.csv").exists() and (out / "study.db").exists()
    kinds = [e for e, _ in events]
    assert kinds[0] == "opened" and events[0][1]["total"] == 2 and events[0][1]["jobs"] == 1
    assert kinds.count("trial_started") == 2 and kinds.count("trial_finished") == 2
    assert "epoch" in kinds and "step" in kinds
    assert next(d for e, d in events if e == "trial_finished")["status"] == "complete"
    again = spectrum.sweep(segments=[16, "C"], out=out, **TINY)  # resumes: nothing to train
    assert list(again["trial"]) == list(results["trial"])


def test_load_results_reads_directories_files_urls_and_studies(swept):
    import optuna

    out, results, _ = swept
    for source in (out, str(out / "results.csv"), f"sqlite:///{out / 'study.db'}"):
        loaded = spectrum.load_results(source)
        assert list(loaded["segments"].astype(str)) == ["16", "C"]
    study = optuna.load_study(study_name="quickstart", storage=f"sqlite:///{out / 'study.db'}")
    assert len(spectrum.load_results(study)) == 2
    with pytest.raises(spectrum.SpecError, match="study.db does not exist"):
        spectrum.load_results(out.parent)
    with pytest.raises(spectrum.StorageError, match="no study 'other'"):
        spectrum.load_results(out, study="other")


def test_search_returns_a_dataframe(tmp_path):
    tiny = {k: v for k, v in TINY.items() if k != "width"}
    results = spectrum.search(
        trials=1, segments={"entry": [16], "middle": "C", "exit": "C"}, widths=[0.5],
        repeats=[1], residual="on", objectives=["accuracy"], out=tmp_path, **tiny,
    )  # fmt: skip
    assert len(results) == 1 and results.loc[0, "status"] == "complete"
    assert results.loc[0, "segments"] == "16/C/C"
    with pytest.raises(spectrum.SpecError, match="--objectives"):
        spectrum.search(objectives="speed", out=tmp_path)


def test_search_keywords_are_the_commands_flags(capsys, tmp_path):
    with pytest.raises(spectrum.SpecError, match=r"^search: unknown option 'trails' \(known: "):
        spectrum.search(trails=3, out=tmp_path)
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.search(sampler="grid", out=tmp_path)
    assert str(caught.value) == cli_error(capsys, "search", "--sampler", "grid")
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.search(segments=["side=1"], out=tmp_path)
    assert str(caught.value) == cli_error(capsys, "search", "--segments", "side=1")
    assert not list(tmp_path.iterdir())  # refused before anything was opened


def test_search_workers_run_the_search_asked_for(monkeypatch, tmp_path):
    """``jobs``: the workers' command (``spectrum search ...``) makes the API's plan."""
    import spectrum.commands.studies
    from spectrum.study import workers
    from spectrum.study.plan import search_plan

    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    started, seen = [], {}

    class Started(Exception):
        pass

    def start_workers(argv, jobs, threads, **_options):
        started.append(argv)
        raise Started

    monkeypatch.setattr(workers, "start_workers", start_workers)
    tiny = {k: v for k, v in TINY.items() if k not in ("width", "device")}
    asked = dict(
        trials=2, segments={"entry": [16], "exit": "C"}, orders=["depthwise-first"],
        widths=[0.5], repeats=[1], residual="on", lr=[0.05, 0.2], heartbeat_interval=3, **tiny,
    )  # fmt: skip
    with pytest.raises(Started):
        spectrum.search(study="packed", out=tmp_path, device="cpu", jobs=2, **asked)
    (argv,) = started
    monkeypatch.setattr(
        spectrum.commands.studies,
        "run_study_command",
        lambda plan, *args, **options: seen.update(plan=plan, args=args, **options),
    )
    assert main(argv) == 0
    assert seen["plan"] == search_plan(asked)
    assert seen["args"] == ("packed", None, tmp_path, "cpu", False)
    assert seen["storage_options"]["heartbeat_interval"] == 3


def test_torch_hub_loads_the_entry_points_locally():
    import torch

    model = torch.hub.load(str(ROOT), "xception", source="local", segments=8, num_classes=10)
    assert model.classifier[-1].out_features == 10
    assert {m.groups for m in model.modules() if isinstance(m, spectrum.SpectrumConv)} == {8}
    small = torch.hub.load(str(ROOT), "proxy_28", source="local", segments=4)
    assert small.eval()(torch.randn(1, 1, 28, 28)).shape == (1, 10)
    wide = torch.hub.load(str(ROOT), "proxy", source="local", preset="proxy-32", width=0.5)
    assert wide.config.preset == "proxy-32"
    with pytest.raises(spectrum.SpecError, match="pretrained"):
        torch.hub.load(str(ROOT), "proxy", source="local", pretrained=True)

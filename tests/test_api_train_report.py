"""The API's front doors of ``spectrum train``, ``spectrum report`` and ``spectrum compare``:
``spectrum.train``, ``spectrum.write_report`` and ``spectrum.compare`` do what the commands do
(the commands are shells over them) and refuse what the commands refuse, in the same one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest
from test_compare import sweep

import spectrum
from spectrum.cli import main

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "reports" / "quickstart"
TINY = dict(dataset="synthetic", epochs=1, train_subset=64, val_size=64, batch_size=32)


def cli_error(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    return err.removeprefix("spectrum: error: ")


def test_train_trains_one_net_and_reports_its_progress(monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    events: list[tuple[str, dict]] = []
    record = spectrum.train(
        segments=4,
        **TINY,
        device="cpu",
        seed=1,
        progress=lambda event, data: events.append((event, data)),
    )
    assert record["status"] == "complete" and 0 <= record["test_acc"] <= 1
    # auto on 28 px images is proxy-28s: g = 4 has 310,330 parameters there
    assert record["params"] == 310330 and record["seed"] == 1 and record["segments"] == "4"
    assert record["device"].startswith("cpu") and record["precision"]
    names = [event for event, _ in events]
    assert names[0] == "trial_started" and names[-1] == "trial_finished"
    assert {"step", "epoch"} <= set(names)
    assert set(names) <= set(spectrum.api.trials.TRAIN_EVENTS)
    assert events[0][1] == {"done": 0, "total": 1, "label": "g=4 depthwise-first act=none seed=1"}
    assert events[-1][1] == dict(record)


def test_train_refuses_what_the_command_refuses_in_one_line(capsys):
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.train(bogus=1)
    message = str(caught.value)
    assert message.startswith("train: unknown option 'bogus' (known: ")
    assert "segments" in message and "train_subset" in message and "\n" not in message
    for name in ("device", "preset", "seed", "entry", "latency"):  # not among **options
        assert f" {name}," not in message and f"({name}," not in message
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.train(precision="half")
    assert cli_error(capsys, "train", "--precision", "half") == str(caught.value)
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.train(residual="sometimes")
    assert cli_error(capsys, "train", "--residual", "sometimes") == str(caught.value)


def test_write_report_rebuilds_the_committed_quickstart(tmp_path):
    copy = tmp_path / "quickstart"
    copy.mkdir()
    shutil.copy(QUICKSTART / "study.db", copy / "study.db")
    written = spectrum.write_report(copy)
    assert written == copy / "report.md" and (copy / "report.html").exists()
    assert written.read_text() == (QUICKSTART / "report.md").read_text()


def test_write_report_refuses_what_the_command_refuses(tmp_path, capsys):
    for target in (tmp_path / "nothing", tmp_path):  # not a directory; no study.db
        with pytest.raises(spectrum.SpecError) as caught:
            spectrum.write_report(target)
        assert cli_error(capsys, "report", str(target)) == str(caught.value)
    for margin in (0, -1.5):  # the command's bound says it first, in its own words
        with pytest.raises(spectrum.SpecError) as caught:
            spectrum.write_report(QUICKSTART, margin=margin)
        assert str(caught.value) == f"--margin must be > 0 accuracy points, got {margin:g}"
        said = cli_error(capsys, "report", str(QUICKSTART), "--margin", str(margin))
        assert said.startswith("--margin must be > 0 accuracy points")


def test_compare_writes_what_the_command_writes(tmp_path, capsys):
    folders = []
    for name, accuracy in (("a", {"1": 0.90, "C": 0.91}), ("b", {"1": 0.89, "C": 0.92})):
        folder = tmp_path / name
        folder.mkdir()
        sweep(accuracy, storage=f"sqlite:///{folder / 'study.db'}", name=name)
        folders.append(folder)
    written = spectrum.compare(*folders, out=tmp_path / "api")
    assert (
        written == tmp_path / "api" / "compare.md" and (tmp_path / "api" / "compare.html").exists()
    )
    assert main(["compare", *map(str, folders), "--out", str(tmp_path / "cli")]) == 0
    assert capsys.readouterr().out.strip() == f"compare: {tmp_path / 'cli' / 'compare.md'}"
    assert written.read_text() == (tmp_path / "cli" / "compare.md").read_text()


def test_compare_refuses_what_the_command_refuses(tmp_path, capsys):
    missing = tmp_path / "missing"
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.compare(QUICKSTART, missing)
    assert cli_error(capsys, "compare", str(QUICKSTART), str(missing)) == str(caught.value)
    assert str(caught.value) == f"study B: {missing / 'study.db'} does not exist; give --storage-b"

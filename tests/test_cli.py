"""The command line: outputs of `spectrum count`, and one-line errors with exit code 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from spectrum.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spectrum", *args], capture_output=True, text=True)


def test_count_xception_prints_the_papers_parameter_count(capsys):
    assert main(["count", "--preset", "xception", "--segments", "C", "--no-latency"]) == 0
    assert "22855952" in capsys.readouterr().out


def test_count_prints_one_row_per_g_and_writes_csv(tmp_path, capsys):
    csv = tmp_path / "count.csv"
    assert main(["count", "--segments", "1,4,32,C", "--batch-size", "2", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split()[0] for line in out[1:] if line.strip() and not line.startswith("wrote")]
    assert rows == ["1", "4", "32", "C"]
    text = csv.read_text().splitlines()
    assert text[0].startswith(
        "g,order,activation,width_multiplier,params,flops,live_params,live_flops,activations,"
        "latency_ms"
    )
    assert len(text) == 5


def test_count_matched_params_are_within_two_percent(capsys):
    assert (
        main(["count", "--segments", "1,C", "--match", "params", "--no-latency", "--by-flow"]) == 0
    )
    lines = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    params = {line[0]: int(line[4]) for line in lines}
    assert abs(params["1"] - params["C"]) / params["C"] <= 0.02
    assert float(lines[0][3]) < 1  # g = 1 shrinks to the depthwise budget


@pytest.mark.parametrize(
    "args, message",
    [
        (["count", "--segments", "1,0"], "segment count 0 must be a positive integer"),
        (["count", "--segments", "-4"], "positive integer"),
        (["count", "--segments", "1,x"], "'x' is not a positive integer or C"),
        (["count", "--segments", "1,,4"], "empty item"),
        (["count", "--segments", "4,4"], "twice"),
        (["count", "--segments", "3", "--no-latency"], "does not divide its 32 channels"),
        (["count", "--order", "sideways"], "order 'sideways' is not one of"),
        (["count", "--bogus"], "No such option: --bogus"),
        (["count", "--no-latency", "--precision", "fp16"], "--precision 'fp16' is not one of"),
        (["train", "--precision", "half"], "--precision 'half' is not one of"),
        (["sweep", "--precision", "half"], "--precision 'half' is not one of"),
        (["search", "--precision", "half"], "--precision 'half' is not one of"),
        (["sweep", "--orders", "depthwise-first,,"], "empty item"),
        (["sweep", "--residual", "maybe"], "--residual 'maybe' is not one of: on, off"),
        (["train", "--residual", "sometimes"], "--residual 'sometimes' is not one of"),
        (["sweep", "--dataset", "mnist2"], "mnist2"),
        (["sweep", "--device", "tpu"], "device 'tpu'"),
        (["report", "/nonexistent/dir"], "is not a directory"),
        (
            ["train", "--nproc-per-node", "2", "--batch-size", "33", "--dataset", "synthetic"],
            "not divisible by the world size 2",
        ),
        (["train", "--nproc-per-node", "0", "--dataset", "synthetic"], "--nproc-per-node must be"),
        (["sweep", "--margin", "0"], "--margin must be > 0 accuracy points"),
        (
            ["sweep", "--seeds", "3", "--until-decided", "--max-seeds", "2"],
            "--max-seeds 2 is below",
        ),
        (["sweep", "--max-seeds", "8"], "--max-seeds needs --until-decided"),
        (["sweep", "--until-decided"], "--until-decided needs --seeds >= 2"),
        (["run", "studies/fig9-residual.toml", "--margin", "-1"], "must be > 0 accuracy points"),
        (["sweep", "--reuse", "/nonexistent/study.db"], "no such folder or storage file"),
        (["run", "studies/fig9-residual.toml", "--reuse", "/nonexistent"], "no such folder"),
        (["sweep", "--reuse", "sqlite:////nonexistent/s.db"], "/nonexistent/s.db does not exist"),
        (["sweep", "--reuse-study", "old"], "--reuse-study needs --reuse"),
        (["run", "studies/op-order.toml", "--max-seeds", "2"], "max_seeds needs"),
        (
            ["run", "studies/op-order.toml", "--until-decided", "--max-seeds", "2"],
            "max_seeds 2 is below",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    args, message, tmp_path, monkeypatch, capsys
):
    # In this process (a traceback would fail the test by raising out of main), from an empty
    # working directory that must stay empty; the subprocess path is checked below.
    args = [str(REPO / a) if a.startswith("studies/") else a for a in args]
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["count", "--bogus"], "No such option: --bogus"),
        (["sweep", "--residual", "maybe"], "--residual 'maybe' is not one of: on, off"),
    ],
)
def test_bad_input_in_a_real_process_is_one_line_exit_2_no_traceback(args, message):
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_no_arguments_prints_help():
    result = run()
    assert result.returncode == 0 and "count" in result.stdout and "sweep" in result.stdout


def test_train_runs_one_configuration_and_prints_its_numbers(capsys):
    assert (
        main(
            [
                "train",
                "--segments",
                "4",
                "--dataset",
                "synthetic",
                "--epochs",
                "1",
                "--train-subset",
                "128",
                "--batch-size",
                "64",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # auto on 28 px images is proxy-28s: g = 4 has 310,330 parameters there (922,426 on proxy-28)
    assert "status: complete" in out and "test_acc:" in out and "params: 310330" in out


@pytest.mark.numeric
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_precision_flag_reaches_training_and_latency(capsys, precision):
    assert (
        main(
            [
                "train",
                "--segments",
                "C",
                "--dataset",
                "synthetic",
                "--epochs",
                "1",
                "--train-subset",
                "128",
                "--batch-size",
                "64",
                "--device",
                "cpu",
                "--precision",
                precision,
            ]
        )
        == 0
    )
    assert f"precision: {precision}" in capsys.readouterr().out
    assert main(["count", "--segments", "C", "--batch-size", "2", "--precision", precision]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert row.split()[header.split().index("latency_precision")] == precision


def test_a_sweep_run_again_trains_nothing_and_says_so(tmp_path, capsys, monkeypatch):
    """The command draws the API's run: its bars and trial lines, the summary and the paths;
    run again, it finds every trial done and says so before the same summary."""
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    sweep = [
        *["sweep", "--dataset", "synthetic", "--segments", "4,C", "--epochs", "1"],
        *["--train-subset", "128", "--val-size", "128", "--batch-size", "64", "--width", "0.5"],
        *["--no-latency", "--no-report", "--device", "cpu", "--jobs", "1", "--out", str(tmp_path)],
    ]
    assert main(sweep) == 0
    first = capsys.readouterr()
    assert "nothing to train" not in first.out
    assert "g=4 depthwise-first act=none seed=0: complete" in first.out  # the trial's line
    assert "trials: 100%" in first.err and "2/2" in first.err  # the bar
    assert f"results: {tmp_path / 'results.csv'}  (storage: SQLite file" in first.out
    assert main(sweep) == 0
    again = capsys.readouterr()
    said, *summary = again.out.splitlines()
    assert said == "all 2 trials are already done; nothing to train"
    assert len(summary) == 4 and summary == first.out.splitlines()[-4:]  # header, 2 rows, paths

"""Workers: study names, several processes on one sweep, a SIGKILLed worker, --jobs packing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import torch

from spectrum import cli
from spectrum.errors import SpecError
from spectrum.study.storage import open_storage
from spectrum.study.workers import resolve_jobs, worker_command, worker_threads

CPU = torch.device("cpu")
TINY = [
    "--dataset",
    "synthetic",
    "--val-size",
    "256",
    "--epochs",
    "1",
    "--batch-size",
    "64",
    "--train-subset",
    "128",
    "--no-latency",
]
GRID = ["--segments", "1,2,4,8,16,C"]  # 6 points


def sweep_command(study: str, storage: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "spectrum",
        "sweep",
        *TINY,
        *GRID,
        "--study",
        study,
        "--storage",
        storage,
        "--out",
        str(out),
        "--no-report",
        *extra,
    ]


def worker_env() -> dict:
    return dict(os.environ, SPECTRUM_THREADS="1", SPECTRUM_JOBS="1")


def load(storage: str, study: str) -> optuna.Study:
    return optuna.load_study(
        study_name=study, storage=open_storage(storage, Path("."), heartbeat=False)
    )


def check_grid_once(storage: str, study: str, points: int = 6) -> list[optuna.trial.FrozenTrial]:
    trials = load(storage, study).get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    keys = [t.user_attrs["grid_key"] for t in complete]
    assert len(keys) == points and len(set(keys)) == points, keys
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    return trials


def run_workers(study: str, storage: str, n: int, out: Path) -> None:
    processes = [
        subprocess.Popen(
            sweep_command(study, storage, out),
            env=worker_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]


# --------------------------------------------------------------------------------------------
# Study names


@pytest.mark.parametrize("name", ["../../etc/x", "a/b", "", ".", "..", "a\0b", "a\\b", " "])
def test_unsafe_study_names_are_one_line_errors(name, capsys, tmp_path):
    assert cli.main(["sweep", *TINY, "--study", name, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--study" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_search_and_report_refuse_unsafe_names(capsys, tmp_path):
    assert cli.main(["search", *TINY, "--study", "../x", "--out", str(tmp_path)]) == 2
    assert "path separator" in capsys.readouterr().err
    log = str(tmp_path / "s.log")
    assert cli.main(["report", "a/b", "--storage", log]) == 2
    assert "path separator" in capsys.readouterr().err


def test_study_file_with_unsafe_name_is_refused(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[study]\nname = "../../etc/x"\nkind = "sweep"\n[sweep]\nsegments = ["C"]\n')
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[study].name" in err


# --------------------------------------------------------------------------------------------
# --jobs: choosing and checking


def test_jobs_auto_and_bad_values():
    assert resolve_jobs("auto", CPU, 6, cores=2, env={}) == 2
    assert resolve_jobs("auto", CPU, 1, cores=4, env={}) == 1  # capped by the trials left
    assert resolve_jobs("auto", CPU, 6, cores=4, env={"SPECTRUM_THREADS": "2"}) == 2
    assert resolve_jobs("auto", torch.device("cuda", 0), 6, cores=8, env={}) == 1
    assert resolve_jobs("3", CPU, 6, cores=4, env={}) == 3
    assert resolve_jobs("8", CPU, 6, cores=2, env={"SPECTRUM_THREADS": "1"}) == 6
    for bad in ("0", "-1", "two"):
        with pytest.raises(SpecError, match="--jobs"):
            resolve_jobs(bad, CPU, 6, cores=2, env={})
    with pytest.raises(SpecError, match="more workers than the 2 CPU cores"):
        resolve_jobs("8", CPU, 6, cores=2, env={})
    assert worker_threads(2, cores=4, env={}) == 2
    assert worker_threads(3, cores=2, env={}) == 1
    assert worker_threads(2, cores=4, env={"SPECTRUM_THREADS": "3"}) == 3
    assert worker_command(["sweep", "--jobs", "2", "--study", "x", "--jobs=3"])[3:] == [
        "sweep",
        "--study",
        "x",
        "--jobs",
        "1",
    ]


@pytest.mark.parametrize("jobs", ["0", "100000"])
def test_bad_jobs_is_one_line_exit_2(jobs, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("SPECTRUM_THREADS", raising=False)
    assert cli.main(["sweep", *TINY, "--jobs", jobs, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--jobs" in err


# --------------------------------------------------------------------------------------------
# Several workers on one study


def test_three_workers_on_a_journal_file_run_each_point_once(tmp_path):
    storage = str(tmp_path / "study.log")
    run_workers("shared", storage, 3, tmp_path)
    trials = check_grid_once(storage, "shared")
    assert len({t.user_attrs["worker"]["pid"] for t in trials}) >= 2  # the work was shared


@pytest.mark.postgres
def test_three_workers_on_postgres_run_each_point_once(postgres_url, tmp_path):
    study = f"shared-{os.getpid()}-{time.time_ns()}"
    run_workers(study, postgres_url, 3, tmp_path)
    check_grid_once(postgres_url, study)


def test_a_sigkilled_workers_trial_is_rerun_by_a_live_worker(tmp_path):
    storage = str(tmp_path / "study.log")
    processes = {
        p.pid: p
        for p in (
            subprocess.Popen(
                sweep_command("killed", storage, tmp_path),
                env=worker_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        )
    }
    victim = None
    deadline = time.time() + 300
    try:
        while victim is None and time.time() < deadline:
            time.sleep(0.3)
            try:
                trials = load(storage, "killed").get_trials()
            except Exception:
                continue
            for trial in trials:
                pid = (trial.user_attrs.get("worker") or {}).get("pid")
                if trial.state.name == "RUNNING" and pid in processes:
                    victim = trial.user_attrs["grid_key"]
                    killed = processes.pop(pid)
                    killed.send_signal(signal.SIGKILL)
                    killed.wait()  # reaped: a zombie still counts as a live process
                    break
        assert victim is not None, "no worker ever ran a trial"
        (survivor,) = processes.values()
        assert survivor.wait(timeout=600) == 0
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
    trials = check_grid_once(storage, "killed")
    interrupted = [t for t in trials if t.user_attrs.get("status") == "interrupted"]
    assert [t.user_attrs["grid_key"] for t in interrupted] == [victim]


# --------------------------------------------------------------------------------------------
# Packing


@pytest.mark.numeric
def test_jobs_1_and_jobs_2_give_the_same_results_on_default_sqlite(tmp_path):
    accuracies = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        command = [sys.executable, "-m", "spectrum", "sweep", *TINY, "--segments", "1,4,C"]
        command += ["--study", "packed", "--out", str(out), "--no-report", "--jobs", jobs]
        result = subprocess.run(command, env=worker_env(), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        if jobs == "2":
            assert "2 workers, 1 CPU thread(s) each" in result.stdout
            assert "database is locked" not in result.stderr
        storage = f"sqlite:///{out / 'study.db'}"
        trials = check_grid_once(storage, "packed", points=3)
        assert all(t.user_attrs.get("latency_ms") is None for t in trials)  # --no-latency reached
        accuracies[jobs] = {
            t.user_attrs["grid_key"]: (t.user_attrs["val_acc"], t.user_attrs["test_acc"])
            for t in trials
        }
        assert (out / "results.csv").exists()
    assert accuracies["1"] == accuracies["2"]

"""``spectrum dashboard``: optuna-dashboard on a sweep's storage, with per-epoch curves."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import optuna
import pytest

from spectrum.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """A real two-epoch sweep (synthetic data, g = C): its trials carry intermediate values."""
    out = tmp_path_factory.mktemp("dashboard") / "tiny"
    argv = [
        "sweep",
        "--segments",
        "C",
        "--dataset",
        "synthetic",
        "--val-size",
        "64",
        "--train-subset",
        "256",
        "--epochs",
        "2",
        "--precision",
        "float32",
        "--study",
        "tiny",
        "--out",
        str(out),
        "--no-report",
    ]
    assert main(argv) == 0
    return out


def test_sweep_reports_validation_accuracy_per_epoch(sweep_dir):
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{sweep_dir / 'study.db'}")
    (trial,) = study.trials
    curve = trial.user_attrs["curve"]
    assert trial.intermediate_values == {p["epoch"]: p["val_acc"] for p in curve}
    assert sorted(trial.intermediate_values) == [1, 2]


def test_dashboard_serves_the_study_list_over_http(sweep_dir):
    pytest.importorskip("optuna_dashboard", reason="pip install 'spectrum[dashboard]'")
    port = _free_port()
    # Started as a background job is (SIGINT ignored), and stopped as a service manager stops
    # it: SIGTERM, which spectrum handles as Ctrl-C whatever SIGINT's disposition.
    process = subprocess.Popen(
        [sys.executable, "-m", "spectrum", "dashboard", str(sweep_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        studies = None
        while time.monotonic() < deadline and studies is None:
            if process.poll() is not None:
                pytest.fail(f"dashboard exited {process.returncode}: {process.stderr.read()}")
            try:
                studies = _get_json(f"{base}/api/studies")
            except OSError:
                time.sleep(0.3)
        assert studies is not None, "the dashboard never answered"
        (study,) = studies["study_summaries"]
        assert study["study_name"] == "tiny"
        detail = _get_json(f"{base}/api/studies/{study['study_id']}")
        (trial,) = detail["trials"]
        assert [v["step"] for v in trial["intermediate_values"]] == [1, 2]
        with urllib.request.urlopen(f"{base}/dashboard/", timeout=5) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=60)  # a loaded machine is slow to stop
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    assert process.returncode == 0, err
    assert f"dashboard: http://127.0.0.1:{port}/dashboard/" in out
    assert "dashboard stopped" in out


def test_dashboard_without_the_extra_is_one_line_exit_2(sweep_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)  # import now fails
    assert main(["dashboard", str(sweep_dir), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "pip install 'spectrum[dashboard]'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dashboard", "no-such-dir"], "is not a directory"),
        (["dashboard", "{dir}/..", "--port", "0"], "study.db does not exist"),
        (["dashboard", "{dir}", "--port", "70000"], "--port must be in 0..65535"),
    ],
)
def test_dashboard_bad_input_is_one_line_exit_2(sweep_dir, capsys, argv, message):
    argv = [a.replace("{dir}", str(sweep_dir)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and err.startswith("spectrum: error:")


def test_dashboard_port_in_use_is_one_line_exit_2(sweep_dir, capsys):
    pytest.importorskip("optuna_dashboard")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", str(sweep_dir), "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err

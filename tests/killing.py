"""Start a command, wait until its study reaches a state, then signal it (``kill -9``/``kill``);
the synthetic sweep command those tests start."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna
import pytest


def synthetic_sweep_command(out, study: str, epochs: int, segments: str, *extra: str) -> list[str]:
    """``spectrum sweep`` on synthetic data into ``out`` (no report, no latency timing), as a
    subprocess command."""
    return [
        *(sys.executable, "-m", "spectrum", "sweep", "--dataset", "synthetic", "--no-latency"),
        *("--epochs", str(epochs), "--segments", segments, *extra),
        *("--study", study, "--out", str(out), "--no-report"),
    ]


@dataclass
class Signalled:
    """The study's trials when the signal was sent, the command's exit code and its stderr."""

    trials: list[optuna.trial.FrozenTrial]
    returncode: int
    stderr: str


def signal_when(
    command: list[str],
    env: dict,
    storage: str,
    study_name: str,
    ready: Callable[[list[optuna.trial.FrozenTrial]], bool],
    signum: int = signal.SIGKILL,
    timeout_s: float = 120,
    sigint_ignored: bool = False,
) -> Signalled:
    """Run ``command`` until ``ready(trials)`` holds for its study, send it ``signum``, wait.

    ``sigint_ignored`` starts it the way a non-interactive shell starts a background job (SIGINT
    ignored, which its children inherit). Fails the test if the state is not reached within
    ``timeout_s``, or if the command has not exited 60 s after the signal.
    """
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=preexec
        )
        seen = None
        deadline = time.time() + timeout_s
        try:
            while seen is None and time.time() < deadline and process.poll() is None:
                time.sleep(0.3)
                try:
                    trials = optuna.load_study(study_name=study_name, storage=storage).get_trials()
                except Exception:  # noqa: BLE001 - the study is not created yet
                    continue
                if ready(trials):
                    seen = trials
        finally:
            process.send_signal(signum if seen is not None else signal.SIGKILL)
            try:
                returncode = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"{' '.join(command[2:5])}... did not exit 60 s after the signal")
        if seen is None:
            pytest.fail(f"{' '.join(command[2:5])}... never reached the state to signal it in")
        stderr.seek(0)
        return Signalled(seen, returncode, stderr.read())


def kill_when(
    command: list[str],
    env: dict,
    storage: str,
    study_name: str,
    ready: Callable[[list[optuna.trial.FrozenTrial]], bool],
    timeout_s: float = 120,
) -> list[optuna.trial.FrozenTrial]:
    """:func:`signal_when` with SIGKILL; the trials when it was sent."""
    return signal_when(command, env, storage, study_name, ready, timeout_s=timeout_s).trials

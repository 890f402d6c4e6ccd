"""Start a command, wait until its study reaches a state, then SIGKILL it (``kill -9`` tests)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import optuna
import pytest


def kill_when(
    command: list[str],
    env: dict,
    storage: str,
    study_name: str,
    ready: Callable[[list[optuna.trial.FrozenTrial]], bool],
    timeout_s: float = 120,
) -> list[optuna.trial.FrozenTrial]:
    """Run ``command`` until ``ready(trials)`` holds for its study, SIGKILL it, return those trials.

    Fails the test if the state is not reached within ``timeout_s``.
    """
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + timeout_s
    try:
        while time.time() < deadline:
            time.sleep(0.3)
            try:
                trials = optuna.load_study(study_name=study_name, storage=storage).get_trials()
            except Exception:  # noqa: BLE001 - the study is not created yet
                continue
            if ready(trials):
                return trials
        pytest.fail(f"{' '.join(command[2:5])}... never reached the state to kill it in")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

"""SIGTERM stops a run like Ctrl-C: the running trial is stored as interrupted at once, the command
exits 143 with its one-line message (spectrum.stopping)."""

from __future__ import annotations

import os
import signal

import optuna
import pytest
from killing import signal_when, synthetic_sweep_command

from spectrum.stopping import Stopped, exit_code, sigterm_as_interrupt


def test_sigterm_raises_stopped_once_and_the_old_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    survived_a_second = False
    with pytest.raises(Stopped), sigterm_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # handled before os.kill returns to Python
        except Stopped:
            os.kill(os.getpid(), signal.SIGTERM)  # a second one while stopping: ignored
            survived_a_second = True
            raise
    assert survived_a_second
    assert signal.getsignal(signal.SIGTERM) is before
    assert exit_code(Stopped()) == 143 and exit_code(KeyboardInterrupt()) == 130
    assert isinstance(Stopped(), KeyboardInterrupt)  # caught wherever Ctrl-C is


def states(trials) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for trial in trials:
        found.setdefault(trial.state.name, []).append(trial.user_attrs.get("status"))
    return found


@pytest.mark.parametrize("jobs", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_sigterm_stores_the_running_trials_as_interrupted_even_with_sigint_ignored(tmp_path, jobs):
    command = synthetic_sweep_command(tmp_path, "stopped", 40, "1,2,4,C", "--jobs", jobs)
    env = dict(os.environ, SPECTRUM_THREADS="1")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    running_wanted = int(jobs)

    def training(trials) -> bool:
        running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
        return len(running) >= running_wanted

    stopped = signal_when(
        command, env, storage, "stopped", training, signal.SIGTERM, 300, sigint_ignored=True
    )
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    assert "stopped by SIGTERM; finished trials are kept in" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    trials = optuna.load_study(study_name="stopped", storage=storage).get_trials()
    found = states(trials)
    assert "RUNNING" not in found  # not left for a resume to notice
    assert found["FAIL"] == ["interrupted"] * running_wanted

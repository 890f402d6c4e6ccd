"""Sweeps: the stored record, resuming after SIGKILL, refusing a changed grid, failed paths."""

import os
import subprocess
from dataclasses import replace

import optuna
import pytest
import torch
from killing import kill_when, synthetic_sweep_command

import spectrum.study.resume
import spectrum.study.trial
from spectrum.cost.latency import LatencySettings
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig, TrainResult
from spectrum.errors import SpecError
from spectrum.study.resume import pop_waiting_trial, recover_stale_trials, worker_id
from spectrum.study.sweep import (
    SweepPlan,
    current_points,
    finished_keys,
    open_sweep_study,
    queue_points,
    run_sweep,
)
from spectrum.study.trial import TrialEvents

CPU = torch.device("cpu")
TINY = SweepPlan(
    segments=(1, "C"),
    data=DataConfig(name="synthetic", synthetic_train=320, synthetic_test=64),
    train=TrainConfig(epochs=2, batch_size=64),
    latency=LatencySettings(batch_size=4, warmup=1, repeats=2, min_repeats=1),
)

RECORD_KEYS = {
    "kind",
    "grid_key",
    "segments",
    "order",
    "activation",
    "residual",
    "seed",
    "match",
    "width_multiplier",
    "net",
    "params",
    "flops",
    "latency_ms",
    "train_step_ms",
    "latency_batch",
    "latency_precision",
    "device",
    "precision",
    "curve",
    "val_acc",
    "test_acc",
    "status",
    "wall_time_s",
    "dataset",
    "train",
    "versions",
    "worker",
}


def memory_study():
    return optuna.storages.InMemoryStorage()


def test_every_trial_stores_the_full_record():
    study = run_sweep(TINY, "s", memory_study(), CPU, command="spectrum sweep ...")
    trials = study.get_trials()
    assert len(trials) == 2 and all(t.state.name == "COMPLETE" for t in trials)
    for trial in trials:
        assert RECORD_KEYS <= set(trial.user_attrs)
        curve = trial.user_attrs["curve"]
        assert [p["epoch"] for p in curve] == [1, 2]
        assert {"train_loss", "val_acc", "seconds", "images_per_s"} <= set(curve[0])
        assert trial.value == trial.user_attrs["val_acc"]
        assert trial.params["segments"] in ("1", "C")
    assert study.user_attrs["kind"] == "sweep" and study.user_attrs["command"]
    assert study.user_attrs["grid"]["segments"] == ["1", "C"]


def test_rerun_skips_finished_points_and_adds_nothing():
    storage = memory_study()
    run_sweep(TINY, "s", storage, CPU)
    study = run_sweep(TINY, "s", storage, CPU)
    assert len(study.get_trials()) == 2


def test_changed_grid_under_the_same_study_is_refused():
    storage = memory_study()
    run_sweep(replace(TINY, segments=("C",)), "s", storage, CPU)
    with pytest.raises(SpecError, match="different segments"):
        run_sweep(TINY, "s", storage, CPU)
    with pytest.raises(SpecError, match="different train"):
        run_sweep(replace(TINY, segments=("C",), train=TrainConfig(epochs=1)), "s", storage, CPU)


def test_study_made_before_precision_was_recorded_resumes_as_float32():
    storage = memory_study()
    float32 = replace(TINY, segments=("C",), train=replace(TINY.train, precision="float32"))
    study = run_sweep(float32, "s", storage, CPU)
    trial = study.get_trials()[0]
    assert trial.user_attrs["precision"] == trial.user_attrs["latency_precision"] == "float32"
    legacy = study.user_attrs["fingerprint"]
    del legacy["train"]["precision"]  # what sweeps stored before the setting existed
    study.set_user_attr("fingerprint", legacy)
    assert len(run_sweep(float32, "s", storage, CPU).get_trials()) == 1
    bf16 = replace(float32, train=replace(float32.train, precision="bfloat16"))
    with pytest.raises(SpecError, match="different train"):
        run_sweep(bf16, "s", storage, CPU)


def test_diverged_and_failed_trials_are_recorded_and_the_sweep_goes_on(monkeypatch):
    real_train = spectrum.study.trial.train

    def fake_train(model, data, config, device, **kwargs):
        if model.summary()["flows"]["entry"]["segments"] == "1":
            return TrainResult(status="diverged", error="loss became non-finite")
        if model.summary()["flows"]["entry"]["segments"] == "2":
            return TrainResult(status="failed", error="out of memory: CUDA")
        return real_train(model, data, config, device, **kwargs)

    monkeypatch.setattr(spectrum.study.trial, "train", fake_train)
    plan = replace(TINY, segments=(1, 2, "C"))
    storage = memory_study()
    study = run_sweep(plan, "s", storage, CPU)
    statuses = {
        t.params["segments"]: (t.state.name, t.user_attrs["status"]) for t in study.get_trials()
    }
    assert statuses == {
        "1": ("FAIL", "diverged"),
        "2": ("FAIL", "failed"),
        "C": ("COMPLETE", "complete"),
    }
    assert len(finished_keys(study)) == 3
    assert len(run_sweep(plan, "s", storage, CPU).get_trials()) == 3  # not re-run


def test_sigkill_then_rerun_loses_and_duplicates_nothing(tmp_path):
    command = synthetic_sweep_command(tmp_path, "killed", 3, "1,2,4,C", "--train-subset", "512")
    env = dict(os.environ, SPECTRUM_THREADS="1")
    storage = f"sqlite:///{tmp_path / 'study.db'}"

    def one_done_one_training(trials) -> bool:
        done = [t for t in trials if t.state.name == "COMPLETE"]
        running = [t for t in trials if t.state.name == "RUNNING"]
        return bool(done and running and running[0].user_attrs.get("curve") is None)

    seen = kill_when(command, env, storage, "killed", one_done_one_training)
    completed_before = [t for t in seen if t.state.name == "COMPLETE"]
    assert subprocess.run(command, env=env, capture_output=True, timeout=600).returncode == 0
    study = optuna.load_study(study_name="killed", storage=storage)
    trials = study.get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    keys = [t.user_attrs["grid_key"] for t in complete]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 4
    before = {t.number: t.user_attrs["test_acc"] for t in completed_before}
    assert all(study.trials[n].user_attrs["test_acc"] == acc for n, acc in before.items())
    interrupted = [t for t in trials if t.state.name == "FAIL"]
    assert len(interrupted) == 1 and interrupted[0].user_attrs["status"] == "interrupted"
    assert (tmp_path / "results.csv").exists()


def test_a_trial_taken_by_a_worker_that_died_before_naming_itself_is_run_again(monkeypatch):
    # A worker SIGKILLed between taking a queued trial and writing its name on it leaves a
    # RUNNING trial that says nothing of who runs it; resuming must not wait for it forever.
    plan = replace(TINY, latency=LatencySettings(enabled=False))
    storage = memory_study()
    study = open_sweep_study(plan, "s", storage)
    queue_points(study, current_points(plan, study))
    taken = pop_waiting_trial(study)  # ... and the worker dies here
    assert recover_stale_trials(study, requeue=False) == []  # it may still name itself
    monkeypatch.setattr(spectrum.study.resume, "UNNAMED_AFTER_S", 0.0)
    (failed,) = recover_stale_trials(study, requeue=False)
    assert failed.number == taken.number
    assert study.trials[taken.number].user_attrs["status"] == "interrupted"
    assert "before it named itself" in study.trials[taken.number].user_attrs["error"]
    named = pop_waiting_trial(study)
    named.set_user_attr("worker", worker_id())  # this live process: never stale
    assert recover_stale_trials(study, requeue=False) == []
    study.tell(named, state=optuna.trial.TrialState.FAIL)
    finished = run_sweep(plan, "s", storage, CPU)
    assert len(finished_keys(finished)) == 2


def test_a_worker_whose_trial_is_ended_elsewhere_drops_it_with_one_line_and_goes_on():
    # Another worker took this one for gone and failed its running trial (then queued the point
    # again): training stops at the next write, the trial is dropped with a notice, the sweep
    # finishes every point, and nothing raises.
    plan = replace(TINY, latency=LatencySettings(enabled=False))
    storage = memory_study()
    study = open_sweep_study(plan, "s", storage)
    notices, ended = [], []

    def end_elsewhere(point) -> None:
        if ended:
            return
        (running,) = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        study._storage.set_trial_state_values(running._trial_id, optuna.trial.TrialState.FAIL)
        study.enqueue_trial(running.params, user_attrs=dict(running.user_attrs))
        ended.append(running.number)

    events = TrialEvents(epoch=end_elsewhere, notice=notices.append)
    finished = run_sweep(plan, "s", storage, CPU, events=events)
    assert len(finished_keys(finished)) == 2
    assert len(notices) == 1 and f"trial {ended[0]} " in notices[0] and "\n" not in notices[0]
    dropped = finished.trials[ended[0]]
    assert dropped.state == optuna.trial.TrialState.FAIL and "val_acc" not in dropped.user_attrs

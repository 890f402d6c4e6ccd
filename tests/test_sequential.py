"""Sequential seeds: rounds only for undecided configurations, replayed from storage.

Training is replaced by a deterministic fake whose test accuracy is set per (g, seed), so the
tests know which comparisons the looks decide; everything else (queueing, claiming, the report's
decisions) is the real sweep.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import optuna
import pytest
import torch
from killing import kill_when, synthetic_sweep_command

import spectrum.study.sweep
import spectrum.study.trial
from spectrum.cost.latency import LatencySettings
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig, TrainResult
from spectrum.errors import SpecError
from spectrum.records import SeedSchedule
from spectrum.report import build_verdict, summarize, trial_frame, usable_sweep
from spectrum.stats.frames import pending_seeds
from spectrum.stats.looks import plan_of
from spectrum.study.grid import SweepPlan
from spectrum.study.resume import pop_waiting_trial
from spectrum.study.sequential import scheduled_points
from spectrum.study.sweep import finished_keys, run_sweep

CPU = torch.device("cpu")
PLAN = SweepPlan(
    segments=(1, 4, "C"),
    seeds=3,
    schedule=SeedSchedule(3, 3, 9),
    margin=0.5,
    # 10,000 test images: the accuracy grid (0.01 pp) is below the fake accuracies' noise
    data=DataConfig(name="synthetic", synthetic_train=128, synthetic_test=10_000),
    train=TrainConfig(epochs=1, batch_size=64),
    latency=LatencySettings(enabled=False),
)


def fake_accuracy(means: dict[str, float], sd: float):
    """A train() stand-in: accuracy = means[g] + normal noise drawn from (g, seed).

    The seed is the one ``train`` is given, not ``torch.initial_seed()``: torch's seed is global
    to the process, so a worker thread would read the seed that another thread set."""

    def train(model, data, config, device, *, seed, **kwargs):
        g = model.summary()["flows"]["entry"]["segments"]
        noise = np.random.default_rng([seed, len(g), ord(g[0])]).normal(0, sd)
        return TrainResult(status="complete", val_acc=0.5, test_acc=float(means[g] + noise))

    return train


def interrupted_at_call(n: int, train):
    """``train`` that raises KeyboardInterrupt (Ctrl-C) on its n-th call instead of training."""
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return train(*args, **kwargs)

    return interrupted


def seeds_per_g(study: optuna.Study) -> dict[str, int]:
    return dict(
        Counter(t.params["segments"] for t in study.get_trials() if t.state.name == "COMPLETE")
    )


def test_clear_answers_stop_after_the_first_look(monkeypatch):
    # g = 1 is far worse and g = 4 equals C to 0.05 pp: the first look decides everything.
    means = {"1": 0.80, "4": 0.90, "C": 0.90}
    monkeypatch.setattr(spectrum.study.trial, "train", fake_accuracy(means, 0.0005))
    study = run_sweep(PLAN, "s", optuna.storages.InMemoryStorage(), CPU)
    assert seeds_per_g(study) == {"1": 3, "4": 3, "C": 3}
    assert study.user_attrs["seed_schedule"] == {"start": 3, "step": 3, "max": 9}
    assert study.user_attrs["margin"] == 0.5


def test_only_undecided_configurations_get_more_seeds(monkeypatch):
    # g = 1 is decided worse at once; g = 4 vs C (0.3 pp apart, 0.3 pp noise) is not.
    means = {"1": 0.80, "4": 0.903, "C": 0.900}
    monkeypatch.setattr(spectrum.study.trial, "train", fake_accuracy(means, 0.003))
    storage = optuna.storages.InMemoryStorage()
    study = run_sweep(PLAN, "s", storage, CPU)
    counts = seeds_per_g(study)
    assert counts["1"] == 3 and counts["4"] == counts["C"] > 3
    assert len(finished_keys(study)) == sum(counts.values()) == len(study.get_trials())
    # The report replays the same looks and reaches the decisions the sweep stopped on.
    usable = usable_sweep(trial_frame(study))
    verdict = build_verdict(usable, summarize(usable), plan=plan_of(study.user_attrs))
    decided = {(c.segments, c.reference): c for c in verdict.comparisons}
    assert decided[("1", "C")].verdict == "worse" and decided[("1", "C")].decided_at == 3
    if counts["C"] < 9:
        assert decided[("4", "C")].verdict != "undecided"
    # Re-running adds nothing: the rounds are replayed from the stored results.
    assert len(run_sweep(PLAN, "s", storage, CPU).get_trials()) == len(study.get_trials())


def test_an_interrupted_round_resumes_to_the_same_points(monkeypatch):
    means = {"1": 0.80, "4": 0.903, "C": 0.900}
    fake = fake_accuracy(means, 0.003)
    monkeypatch.setattr(spectrum.study.trial, "train", fake)
    reference = run_sweep(PLAN, "ref", optuna.storages.InMemoryStorage(), CPU)
    # the second trial of the second round
    monkeypatch.setattr(spectrum.study.trial, "train", interrupted_at_call(11, fake))
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(PLAN, "s", storage, CPU)
    monkeypatch.setattr(spectrum.study.trial, "train", fake)
    study = run_sweep(PLAN, "s", storage, CPU)
    assert finished_keys(study) == finished_keys(reference)
    wanted = {p.key for p in scheduled_points(PLAN, study)}
    assert finished_keys(study) == wanted


def test_a_worker_runs_a_round_that_another_worker_queued(monkeypatch):
    # Another worker finished round 1 and queued round 2 while this one still held round 1's
    # points: the queued trials must be trained, not failed as points outside the grid.
    means = {"1": 0.80, "4": 0.903, "C": 0.900}
    fake = fake_accuracy(means, 0.003)
    # the first trial of the second round
    monkeypatch.setattr(spectrum.study.trial, "train", interrupted_at_call(10, fake))
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(PLAN, "s", storage, CPU)
    monkeypatch.setattr(spectrum.study.trial, "train", fake)
    real = spectrum.study.sweep.current_points
    stale = iter([PLAN.points(PLAN.seeds)])  # round 1, as a worker started earlier saw it
    monkeypatch.setattr(
        spectrum.study.sweep,
        "current_points",
        lambda plan, study: next(stale, None) or real(plan, study),
    )
    study = run_sweep(PLAN, "s", storage, CPU)
    failed = [t for t in study.get_trials() if t.state.name == "FAIL"]
    assert [t.user_attrs.get("status") for t in failed] == ["interrupted"]
    assert finished_keys(study) == {p.key for p in scheduled_points(PLAN, study)}


def results_by_key(study: optuna.Study) -> dict[str, float]:
    """Each finished grid point's test accuracy (asserting that no point has two results)."""
    done = [t for t in study.get_trials() if t.state.name == "COMPLETE"]
    results = {t.user_attrs["grid_key"]: t.user_attrs["test_acc"] for t in done}
    assert len(results) == len(done), "a grid point has two results"
    return results


def test_two_workers_run_every_point_of_every_round_once(monkeypatch, tmp_path):
    # Two worker threads on one journal must train what one worker trains, each point once, and
    # reach the same decisions. (It was flaky while the fake read torch.initial_seed(): torch's
    # seed is global to the process, so one thread's trial got the other's seed and noise.)
    means = {"1": 0.80, "4": 0.903, "C": 0.900}
    monkeypatch.setattr(spectrum.study.trial, "train", fake_accuracy(means, 0.003))
    one = run_sweep(PLAN, "one", optuna.storages.InMemoryStorage(), CPU)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "journal.log"))
    )
    errors = []

    def worker():
        try:
            run_sweep(PLAN, "s", storage, CPU, poll_s=0.05)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    study = optuna.load_study(study_name="s", storage=storage)
    assert results_by_key(study) == results_by_key(one)
    assert set(results_by_key(study)) == {p.key for p in scheduled_points(PLAN, study)}
    assert seeds_per_g(study) == seeds_per_g(one)
    assert seeds_per_g(one)["1"] == 3 and seeds_per_g(one)["C"] > 3


def test_a_stale_trial_queued_again_by_another_worker_is_not_queued_twice(monkeypatch):
    # Resuming with two workers: this one fails a stale trial (its worker went silent); before
    # it queues the point again, the other worker, starting up, finds the point without a live
    # trial and queues it. This worker must not queue a second trial of the point.
    fake = fake_accuracy({"1": 0.80, "4": 0.903, "C": 0.900}, 0.003)
    monkeypatch.setattr(spectrum.study.trial, "train", interrupted_at_call(1, fake))
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(PLAN, "s", storage, CPU)
    monkeypatch.setattr(spectrum.study.trial, "train", fake)
    lost = pop_waiting_trial(optuna.load_study(study_name="s", storage=storage))
    lost.set_user_attr("worker", {"host": "a lost machine", "pid": 1})
    lost.set_user_attr("alive_at", time.time() - 2 * spectrum.study.sweep.STALE_AFTER_S)
    real = spectrum.study.sweep.recover_stale_trials

    def and_the_other_worker_queues(study, **kwargs):
        failed = real(study, **kwargs)
        if failed:
            spectrum.study.sweep.queue_points(study, PLAN.points(PLAN.seeds))
        return failed

    monkeypatch.setattr(spectrum.study.sweep, "recover_stale_trials", and_the_other_worker_queues)
    study = run_sweep(PLAN, "s", storage, CPU)
    assert [t.user_attrs.get("not_run") for t in study.get_trials()].count("duplicate") == 0
    assert study.trials[lost.number].user_attrs["status"] == "interrupted"
    assert set(results_by_key(study)) == {p.key for p in scheduled_points(PLAN, study)}


def test_the_schedule_and_margin_cannot_change_and_a_fixed_study_is_not_extended(monkeypatch):
    monkeypatch.setattr(
        spectrum.study.trial, "train", fake_accuracy({"1": 0.8, "4": 0.9, "C": 0.9}, 0.0005)
    )
    storage = optuna.storages.InMemoryStorage()
    run_sweep(PLAN, "s", storage, CPU)
    with pytest.raises(SpecError, match="different margin"):
        run_sweep(replace(PLAN, margin=0.3), "s", storage, CPU)
    with pytest.raises(SpecError, match="different seed_schedule"):
        run_sweep(replace(PLAN, schedule=SeedSchedule(3, 3, 12)), "s", storage, CPU)
    fixed = replace(PLAN, schedule=None, margin=None)
    run_sweep(fixed, "f", storage, CPU)
    with pytest.raises(SpecError, match="fixed 3 seeds"):
        run_sweep(PLAN, "f", storage, CPU)


def test_bad_schedules_and_margins_are_refused():
    with pytest.raises(SpecError, match="max >= start"):
        SeedSchedule(3, 3, 2)
    with pytest.raises(SpecError, match="start >= 2"):
        SeedSchedule(1, 1, 4)
    with pytest.raises(SpecError, match="margin .--margin. must be > 0"):
        replace(PLAN, margin=0.0)
    with pytest.raises(SpecError, match="starts with its seeds"):
        replace(PLAN, seeds=2)
    assert SeedSchedule(3, 4, 12).looks == (3, 7, 11, 12)


@pytest.mark.slow
def test_sigkill_in_a_later_round_then_rerun_completes_every_round_once(tmp_path):
    extra = ("--seeds", "2", "--until-decided", "--max-seeds", "4")
    command = synthetic_sweep_command(tmp_path, "killed", 1, "1,C", *extra)
    env = dict(os.environ, SPECTRUM_THREADS="1")
    storage = f"sqlite:///{tmp_path / 'study.db'}"

    def second_round_training(trials) -> bool:
        return any(t.state.name == "RUNNING" and t.user_attrs.get("seed", 0) >= 2 for t in trials)

    seen = kill_when(command, env, storage, "killed", second_round_training, timeout_s=300)
    before = {t.number: t.user_attrs["test_acc"] for t in seen if t.value is not None}
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    study = optuna.load_study(study_name="killed", storage=storage)
    complete = [t for t in study.get_trials() if t.state.name == "COMPLETE"]
    keys = [t.user_attrs["grid_key"] for t in complete]
    assert len(keys) == len(set(keys)) and len(keys) > 4
    plan = replace(PLAN, segments=(1, "C"), seeds=2, schedule=SeedSchedule(2, 2, 4))
    assert set(keys) == {p.key for p in scheduled_points(plan, study)}
    assert all(study.trials[n].user_attrs["test_acc"] == acc for n, acc in before.items())


def test_study_file_keys_plan_a_sequential_sweep():
    from spectrum.study.studyfile import load_study

    overrides = ["sweep.until_decided=true", "sweep.max_seeds=9", "sweep.margin=0.3"]
    plan = load_study("studies/fig10-activation.toml", overrides).sweep
    assert plan.schedule == SeedSchedule(3, 3, 9) and plan.margin == 0.3
    assert load_study("studies/fig10-activation.toml").sweep.schedule is None


def table_accuracy(table: dict[tuple[str, int], float | None]):
    """A train() stand-in: test accuracy table[(g, seed)]; None diverges (finished, unusable)."""

    def train(model, data, config, device, *, seed, **kwargs):
        g = model.summary()["flows"]["entry"]["segments"]
        acc = table[(g, seed)]
        if acc is None:
            return TrainResult(status="diverged", val_acc=None, test_acc=None)
        return TrainResult(status="complete", val_acc=0.5, test_acc=acc)

    return train


def test_a_lost_trial_does_not_keep_the_study_training(monkeypatch):
    # g = 4 vs C is undecided at 3 seeds and equivalent at the 6-seed look, but g = 4's seed 4
    # diverges: the look tests the 5 pairs present and the sweep stops there (before, no later
    # look was ever complete: it trained g = 4 and C up to 9 seeds, the report stayed at 3 pairs).
    offsets = [0.002, -0.002, 0.0015, -0.0015, None, 0.0005, 0.0, 0.0, 0.0]
    table = {}
    for seed, offset in enumerate(offsets):
        table[("C", seed)] = 0.91 + 0.001 * seed
        table[("1", seed)] = 0.80 + 0.001 * seed + 0.0003 * (-1) ** seed
        table[("4", seed)] = None if offset is None else table[("C", seed)] + offset
    monkeypatch.setattr(spectrum.study.trial, "train", table_accuracy(table))
    study = run_sweep(PLAN, "s", optuna.storages.InMemoryStorage(), CPU)
    assert seeds_per_g(study) == {"1": 3, "4": 5, "C": 6}
    usable = usable_sweep(trial_frame(study))
    plan = plan_of(study.user_attrs, None, pending_seeds(study))
    verdict = build_verdict(usable, summarize(usable), plan=plan)
    decided = {(c.segments, c.reference): c for c in verdict.comparisons}
    assert decided[("4", "C")].verdict == "equivalent"
    assert decided[("4", "C")].pairs_text() == "5 (1 lost)"

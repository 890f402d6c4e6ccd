"""spectrum sweep --reuse: a new sequential study takes another study's finished first round."""

from __future__ import annotations

from dataclasses import replace

import optuna
import pytest
import torch
from test_sequential import PLAN, fake_accuracy, seeds_per_g

import spectrum.study.reuse
import spectrum.study.trial
from spectrum.errors import SpecError, StorageError
from spectrum.report import trial_frame, usable_sweep
from spectrum.report.document import Bullets
from spectrum.report.sections.provenance import provenance_blocks
from spectrum.study.reuse import ReuseSource
from spectrum.study.sweep import run_sweep

CPU = torch.device("cpu")
FIXED = replace(PLAN, schedule=None, margin=None)  # the same grid at 3 fixed seeds
MEANS = {"1": 0.80, "4": 0.903, "C": 0.900}  # g = 4 vs C stays undecided for a round or more


def counting(train, calls: list):
    def counted(*args, **kwargs):
        calls.append(1)
        return train(*args, **kwargs)

    return counted


def results(study: optuna.Study) -> dict[str, float]:
    return {
        t.user_attrs["grid_key"]: t.user_attrs["test_acc"]
        for t in study.get_trials()
        if t.state.name == "COMPLETE"
    }


def fixed_study(tmp_path, monkeypatch, plan=FIXED) -> ReuseSource:
    monkeypatch.setattr(spectrum.study.trial, "train", fake_accuracy(MEANS, 0.003))
    run_sweep(plan, "old", f"sqlite:///{tmp_path / 'study.db'}", CPU)
    return ReuseSource(str(tmp_path))


def test_reused_first_round_is_copied_and_the_study_ends_as_a_fresh_one(tmp_path, monkeypatch):
    source = fixed_study(tmp_path, monkeypatch)
    fresh = run_sweep(PLAN, "fresh", optuna.storages.InMemoryStorage(), CPU)
    calls: list = []
    monkeypatch.setattr(spectrum.study.trial, "train", counting(fake_accuracy(MEANS, 0.003), calls))
    storage = optuna.storages.InMemoryStorage()
    reused = run_sweep(PLAN, "new", storage, CPU, reuse=source)
    # Same rounds and the same numbers as training everything, without training round 1.
    assert results(reused) == results(fresh)
    assert seeds_per_g(reused) == seeds_per_g(fresh)
    assert len(calls) == len(fresh.get_trials()) - 9
    copies = [t for t in reused.get_trials() if "reused_from" in t.user_attrs]
    assert len(copies) == 9 and {t.params["seed"] for t in copies} == {0, 1, 2}
    assert copies[0].user_attrs["reused_from"]["study"] == "old"
    assert reused.user_attrs["reused_from"] == {
        "storage": str(tmp_path),
        "study": "old",
        "trials": 9,
    }
    # Resuming with the same command copies nothing more and trains nothing.
    calls.clear()
    again = run_sweep(PLAN, "new", storage, CPU, reuse=source)
    assert len(again.get_trials()) == len(reused.get_trials()) and not calls
    frame = trial_frame(reused)
    blocks = provenance_blocks(reused, frame, usable_sweep(frame), None)
    items = [item for block in blocks if isinstance(block, Bullets) for item in block.items]
    assert any(item.startswith("Reused: 9 finished trials of study 'old'") for item in items)


def test_only_missing_points_of_the_first_round_are_trained(tmp_path, monkeypatch):
    source = fixed_study(tmp_path, monkeypatch, replace(FIXED, seeds=2))  # seeds 0, 1 only
    calls: list = []
    monkeypatch.setattr(
        spectrum.study.trial,
        "train",
        counting(fake_accuracy({"1": 0.8, "4": 0.9, "C": 0.9}, 0), calls),
    )
    study = run_sweep(PLAN, "new", optuna.storages.InMemoryStorage(), CPU, reuse=source)
    assert study.user_attrs["reused_from"]["trials"] == 6
    assert len(calls) == 3  # seed 2 of each configuration


def test_a_source_with_other_settings_or_torch_is_refused(tmp_path, monkeypatch):
    source = fixed_study(tmp_path, monkeypatch)
    storage = optuna.storages.InMemoryStorage()
    other_budget = replace(PLAN, train=replace(PLAN.train, epochs=2))
    with pytest.raises(SpecError, match="different train"):
        run_sweep(other_budget, "new", storage, CPU, reuse=source)
    with pytest.raises(SpecError, match="different segments"):
        run_sweep(replace(PLAN, segments=(4, "C")), "new", storage, CPU, reuse=source)
    assert not optuna.get_all_study_names(storage)  # a refusal leaves no study behind
    monkeypatch.setattr(spectrum.study.reuse, "versions", lambda: {"torch": "0.0-other"})
    with pytest.raises(SpecError, match="ran on torch .* this is torch 0.0-other"):
        run_sweep(PLAN, "new", storage, CPU, reuse=source)


def test_reuse_only_starts_a_new_study(tmp_path, monkeypatch):
    source = fixed_study(tmp_path, monkeypatch)
    storage = optuna.storages.InMemoryStorage()
    run_sweep(PLAN, "new", storage, CPU)
    with pytest.raises(SpecError, match="already exists without trials reused from 'old'"):
        run_sweep(PLAN, "new", storage, CPU, reuse=source)
    two = f"sqlite:///{tmp_path / 'two.db'}"
    for name in ("a", "b"):
        optuna.create_study(study_name=name, storage=two)
    with pytest.raises(StorageError, match="holds 2 studies .* name one with --reuse-study"):
        run_sweep(PLAN, "other", storage, CPU, reuse=ReuseSource(two))


def test_a_source_that_is_not_a_sweep_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="search", storage=storage)
    with pytest.raises(SpecError, match="was not made by a sweep"):
        run_sweep(PLAN, "new", optuna.storages.InMemoryStorage(), CPU, reuse=ReuseSource(storage))

"""spectrum.study.search and ``spectrum search``: the space, constraints, pruning, workers, storage.

Trials train the smallest proxies on the synthetic dataset for one or a few tiny epochs. The
PostgreSQL tests start real worker processes (``python -m spectrum search``) against one study.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

from spectrum import cli
from spectrum.cost.latency import LatencySettings
from spectrum.cost.metrics import count
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig
from spectrum.errors import SpecError
from spectrum.net.xception import FLOWS, build_net, check_config
from spectrum.study.plan import (
    Constraints,
    SearchPlan,
    search_plan,
    storage_options,
)
from spectrum.study.samplers import TrialSeededSampler
from spectrum.study.search import open_search_study, run_search, state_counts
from spectrum.study.space import SearchSpace, assemble, flow_choices, net_for_params
from spectrum.study.storage import open_storage
from spectrum.study.studyfile import search_settings

optuna.logging.set_verbosity(optuna.logging.ERROR)

TINY_SPACE = {"widths": "0.5", "repeats": "1", "segments": "1,4,C", "activations": "none"}
TINY_TRAIN = TrainConfig(epochs=1, batch_size=64, train_subset=128)
SYNTHETIC = DataConfig(name="synthetic", val_size=256)
CLI_TINY = [
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
    "--widths",
    "0.5",
    "--repeats",
    "1",
    "--segments",
    "1,4,C",
    "--activations",
    "none",
]


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: deterministic and fast on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_plan(**changes) -> SearchPlan:
    plan = SearchPlan(
        space=SearchSpace.from_dict(TINY_SPACE),
        train=TINY_TRAIN,
        data=SYNTHETIC,
        latency=None,
        trials=2,
        pruner="none",
    )
    return replace(plan, **changes)


def sqlite(tmp_path: Path):
    return open_storage(None, tmp_path, heartbeat_interval=1, grace_period=2)


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


# --------------------------------------------------------------------------------------------
# The space


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"widths": "0.3,0.5,0.75,1.0,1.5", "repeats": "0,1,2,3"},
        {"widths": [0.25], "orders": "pointwise-first"},
        {"widths": "1.0", "entry": {"orders": "depthwise-first"}, "preset": "proxy-32"},
    ],
)
def test_every_choice_builds(data):
    space = SearchSpace.from_dict(data)
    choices = space.choices()
    # Divisibility is per flow and per (width, order): check every one of those combinations.
    for flow in FLOWS:
        for g, order, width in (
            (g, o, w)
            for g in choices[f"{flow}_segments"]
            for o in choices[f"{flow}_order"]
            for w in choices["width"]
        ):
            for repeats in choices["repeats"]:
                params = {
                    f"{f}_{k}": choices[f"{f}_{k}"][0]
                    for f in FLOWS
                    for k in ("segments", "order", "activation")
                }
                params.update(
                    {
                        f"{flow}_segments": g,
                        f"{flow}_order": order,
                        "width": width,
                        "repeats": repeats,
                        "residual": "on",
                    }
                )
                preset = "proxy-28" if space.preset == "auto" else space.preset
                check_config(net_for_params(space, params, preset))
    # And whole nets, sampled at random across all parameters, build for real.
    rng = random.Random(0)
    for _ in range(25):
        params = {name: rng.choice(values) for name, values in choices.items()}
        preset = "proxy-28" if space.preset == "auto" else space.preset
        build_net(net_for_params(space, params, preset), "meta")


def test_default_space_segments_are_powers_of_two_dividing_every_width():
    choices = SearchSpace().choices()
    assert choices["entry_segments"] == ("1", "2", "4", "8", "C")  # 24 channels at width 0.75
    assert choices["middle_segments"] == ("1", "2", "4", "8", "16", "32", "C")
    assert choices["exit_segments"] == ("1", "2", "4", "8", "16", "C")
    assert choices["width"] == (0.5, 0.75, 1.0) and choices["residual"] == ("on", "off")
    assert "lr" not in choices


def test_narrowing():
    space, lr = assemble(
        {
            "segments": flow_choices(["1,4,C", "exit=C"], "--segments", "segments"),
            "orders": flow_choices(["depthwise-first"], "--orders", "orders"),
            "widths": (0.5, 1.0),
            "repeats": (1, 2),
            "lr": (0.05, 0.2),
            "residual": (True,),
        }
    )
    assert lr is None  # searched, not the training's
    assert space == SearchSpace.from_dict(
        {"segments": ["1,4,C", "exit=C"], "orders": "depthwise-first", "widths": "0.5,1.0",
         "repeats": "1,2", "lr": "0.05,0.2", "residual": "on"}
    )  # fmt: skip
    choices = space.choices()
    assert choices["entry_segments"] == choices["middle_segments"] == ("1", "4", "C")
    assert choices["exit_segments"] == ("C",)
    assert all(choices[f"{f}_order"] == ("depthwise-first",) for f in FLOWS)
    assert choices["width"] == (0.5, 1.0) and choices["repeats"] == (1, 2)
    assert choices["lr"] == (0.05, 0.2) and choices["residual"] == ("on",)
    assert space.size() == 3 * 3 * 1 * 3**3 * 2 * 2 * 1 * 2
    assert SearchSpace.from_dict(space.to_dict()) == space
    ranged = SearchSpace.from_dict({"lr": "0.01:0.5"})
    assert ranged.lr_range == (0.01, 0.5) and ranged.size() is None
    assert ranged.distributions()["lr"].log
    assert SearchSpace.from_dict({"lr_range": [0.01, 0.5]}) == ranged
    assert SearchSpace.from_dict({"lr": {"low": 0.01, "high": 0.5}}) == ranged


def test_flow_choices_read_the_command_lines_texts_and_the_apis_values():
    assert flow_choices(None, "--segments", "segments") == {}
    # The command line's repeated LIST / FLOW=LIST texts; a FLOW= one wins for its flow.
    texts = flow_choices(["1,4,C", "exit=C"], "--segments", "segments")
    assert texts == {None: (1, 4, "C"), "exit": ("C",)}
    # The API's choices for every flow (a list or one text) and per flow (a mapping).
    assert flow_choices([16, "C"], "--segments", "segments") == {None: (16, "C")}
    assert flow_choices("all", "--segments", "segments") == {None: None}  # every g that builds
    assert flow_choices("relu,elu", "--activations", "activations") == {None: ("relu", "elu")}
    assert flow_choices({"entry": [1, 2]}, "--segments", "segments") == {"entry": (1, 2)}
    mapping = {"entry": "1,4,C", "middle": [1, 4, "C"], "exit": ["C"]}
    by_flow = assemble({"segments": flow_choices(mapping, "--segments", "segments")})
    assert by_flow == assemble({"segments": texts})
    with pytest.raises(SpecError, match=r"^--segments: 'side' names no flow"):
        flow_choices({"side": [1]}, "--segments", "segments")
    with pytest.raises(SpecError, match=r"^--segments: the exit flow is given twice"):
        flow_choices(["exit=1", "exit=C"], "--segments", "segments")
    with pytest.raises(SpecError, match="names no flow; write LIST or FLOW=LIST"):
        flow_choices(["side=1"], "--segments", "segments")
    with pytest.raises(SpecError, match=r"^search space exit.segments: given twice"):
        SearchSpace.from_dict({"segments": ["exit=1"], "exit": {"segments": "C"}})


def captured_search(monkeypatch, argv: list[str]) -> dict:
    """What ``spectrum search argv`` would run: the arguments of its run_study_command call."""
    import spectrum.commands.studies

    seen: dict = {}
    monkeypatch.setattr(
        spectrum.commands.studies,
        "run_study_command",
        lambda plan, *run, **options: seen.update(plan=plan, run=run, **options),
    )
    assert cli.main(["search", *argv]) == 0
    return seen


def test_the_command_and_the_api_make_the_same_search(monkeypatch):
    typed = [
        *["--objectives", "accuracy,flops", "--trials", "3", "--sampler", "nsga2"],
        *["--pruner", "front", "--prune-band", "0.02", "--seed", "5", "--max-flops", "2000000"],
        *["--segments", "1,4,C", "--segments", "exit=C", "--orders", "depthwise-first"],
        *["--widths", "0.5", "--repeats", "1", "--residual", "on", "--lr", "0.05:0.2"],
        *["--dataset", "synthetic", "--epochs", "2", "--no-latency", "--grace-period", "7"],
    ]
    seen = captured_search(monkeypatch, typed)
    keywords = dict(
        objectives=["accuracy", "flops"], trials=3, sampler="nsga2", pruner="front",
        prune_band=0.02, seed=5, max_flops=2_000_000, orders="depthwise-first",
        segments={"entry": [1, 4, "C"], "middle": "1,4,C", "exit": ["C"]},
        widths=[0.5], repeats=[1], residual=[True], lr="0.05:0.2", dataset="synthetic",
        epochs=2, latency=False, grace_period=7,
    )  # fmt: skip
    plan = search_plan(keywords)
    assert seen["plan"] == plan and plan.latency is None
    assert plan.space.lr_range == (0.05, 0.2) and plan.train.lr == TrainConfig.lr
    assert plan.constraints.max_flops == 2_000_000 and plan.prune_band == 0.02
    assert seen["storage_options"] == {"heartbeat_interval": 10, "grace_period": 7}
    assert storage_options(keywords) == seen["storage_options"]
    # The defaults are the plan's, whichever door: nothing given is the dataclasses' defaults.
    default = captured_search(monkeypatch, [])["plan"]
    assert default == search_plan({}) == SearchPlan(space=SearchSpace())
    assert search_plan({"lr": "0.05"}).train.lr == 0.05  # one value is the training's
    assert search_plan({"prune_band": None}).prune_band == SearchPlan.prune_band  # as before


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"segments": "1,32,C"}, "entry.segments"),
        ({"exit": {"segments": "3"}}, "exit.segments"),
        ({"widths": "0.5,x"}, "widths"),
        ({"widths": "0"}, "widths"),
        ({"repeats": "1,1"}, "repeats"),
        ({"repeats": "1.5"}, "repeats"),
        ({"orders": "sideways"}, "orders"),
        ({"middle": {"activations": "tanh"}}, "middle.activations"),
        ({"residual": "maybe"}, "residual"),
        ({"lr": "0.5:0.1"}, "lr"),
        ({"lr": "0.1,abc"}, "lr"),
        ({"segmnts": "1"}, "segmnts"),
        ({"entry": {"segs": "1"}}, "segs"),
        ({"preset": "resnet"}, "preset"),
    ],
)
def test_bad_narrowing_is_one_line_naming_the_key(data, names):
    with pytest.raises(SpecError) as info:
        SearchSpace.from_dict(data)
    message = str(info.value)
    assert "\n" not in message and names in message


def test_bad_narrowing_on_the_command_line_exits_2(capsys, tmp_path):
    code = cli.main(
        ["search", *CLI_TINY, "--segments", "entry=1,32", "--widths", "0.5", "--out", str(tmp_path)]
    )
    assert code == 2
    line = one_line(capsys.readouterr().err)
    assert "entry.segments" in line and "g=32" in line and "valid for the entry flow" in line
    assert not (tmp_path / "study.db").exists()  # refused before anything was opened


def _settings(table: dict) -> SearchPlan:
    return search_settings(table, SYNTHETIC, TINY_TRAIN, LatencySettings(), "s.toml")


def test_settings_from_a_study_file_table():
    settings = _settings(
        {
            "objectives": ["accuracy", "flops"],
            "trials": 7,
            "sampler": "nsga2",
            "pruner": "none",
            "max_flops": 2_000_000,
            "space": {"segments": [1, "C"], "widths": [0.5]},
        }
    )
    assert settings.objectives == ("accuracy", "flops") and settings.trials == 7
    assert settings.constraints.max_flops == 2_000_000
    assert settings.space.choices()["entry_segments"] == ("1", "C")
    with pytest.raises(SpecError, match=r"^s.toml \[search\]: unknown key 'trails'"):
        _settings({"trails": 3})
    with pytest.raises(SpecError, match=r"^s.toml \[search\]: search space widths"):
        _settings({"widths": "-1"})


def test_plan_checks():
    with pytest.raises(SpecError, match="not available for multi-objective"):
        tiny_plan(objectives=("accuracy", "flops"), pruner="hyperband")
    with pytest.raises(SpecError, match="needs --objectives accuracy"):
        tiny_plan(objectives=("flops",), pruner="median")
    with pytest.raises(SpecError, match="latency"):
        tiny_plan(objectives=("accuracy", "latency"))
    with pytest.raises(SpecError, match="not one of"):
        tiny_plan(objectives=("speed",))
    assert tiny_plan(pruner="auto").pruner_name == "hyperband"
    assert tiny_plan(pruner="auto", objectives=("accuracy", "params")).pruner_name == "none"


def test_pruner_with_several_objectives_exits_2_with_one_line(capsys, tmp_path):
    code = cli.main(
        [
            "search",
            *CLI_TINY,
            "--objectives",
            "accuracy,flops",
            "--pruner",
            "median",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    line = one_line(capsys.readouterr().err)
    assert "pruning is not available for multi-objective studies" in line


# --------------------------------------------------------------------------------------------
# Sampling


def test_sampler_is_seeded_per_trial_number():
    space = SearchSpace()

    def draws(seed: int, workers: int) -> list[dict]:
        storage = optuna.storages.InMemoryStorage()
        studies = [
            optuna.create_study(
                storage=storage,
                study_name="s",
                load_if_exists=True,
                sampler=TrialSeededSampler(lambda s: optuna.samplers.TPESampler(seed=s), seed),
            )
            for _ in range(workers)
        ]
        out = []
        for number in range(6):  # workers take turns, as parallel workers would
            trial = studies[number % workers].ask(space.distributions())
            out.append(trial.params)
            studies[number % workers].tell(trial, 0.5)
        return out

    assert draws(3, 1) == draws(3, 1) == draws(3, 2)  # reproducible, whoever asks
    assert draws(3, 1) != draws(4, 1)
    first = draws(3, 1)
    assert len({tuple(sorted(p.items())) for p in first}) == len(first)  # no repeats


# --------------------------------------------------------------------------------------------
# Trials: records, constraints, pruning, re-queued copies


def test_search_records_and_study_attributes(tmp_path):
    plan = tiny_plan(objectives=("accuracy", "params"), sampler="nsga2", seed=1)
    study = run_search(plan, "rec", sqlite(tmp_path), torch.device("cpu"), command="spectrum x")
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    for trial in trials:
        attrs = trial.user_attrs
        assert attrs["kind"] == "search" and attrs["status"] == "complete"
        assert attrs["error"] is None and len(attrs["curve"]) == 1
        assert trial.values == [attrs["val_acc"], attrs["params"]]
        expected = "/".join(str(trial.params[f"{f}_segments"]) for f in FLOWS)
        assert attrs["segments"] in (expected, expected.split("/")[0])
        for key in (
            "order",
            "activation",
            "residual",
            "seed",
            "match",
            "net",
            "width_multiplier",
            "params",
            "flops",
            "test_acc",
            "wall_time_s",
            "device",
            "dataset",
            "train",
            "versions",
            "worker",
        ):
            assert key in attrs, key
    user = study.user_attrs
    assert user["kind"] == "search" and user["objectives"] == ["accuracy", "params"]
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert user["command"] == "spectrum x" and user["dataset"] == "synthetic"
    # auto is stored resolved: 28 px synthetic images build proxy-28s
    assert SearchSpace.from_dict(user["space"]) == replace(plan.space, preset="proxy-28s")
    for key in ("train", "device", "versions"):
        assert user[key]
    # Resuming with other settings is refused; with the same ones it has nothing left to do.
    with pytest.raises(SpecError, match="different objectives"):
        run_search(
            replace(plan, objectives=("accuracy", "flops")),
            "rec",
            sqlite(tmp_path),
            torch.device("cpu"),
        )
    again = run_search(plan, "rec", sqlite(tmp_path), torch.device("cpu"))
    assert len(again.get_trials()) == 2


def fixed_params(space: SearchSpace, **changes) -> dict:
    params = {name: values[0] for name, values in space.choices().items()}
    params.update(changes)
    return params


def test_infeasible_trial_is_not_trained_and_not_on_the_front(tmp_path, monkeypatch):
    space = SearchSpace.from_dict({**TINY_SPACE, "widths": "0.5,1.0"})
    small, big = fixed_params(space, width=0.5), fixed_params(space, width=1.0)
    flops = [count(net_for_params(space, p, "proxy-28"), "flops") for p in (small, big)]
    plan = tiny_plan(
        space=space,
        objectives=("accuracy", "flops"),
        constraints=Constraints(max_flops=sum(flops) // 2),
    )
    storage = sqlite(tmp_path)
    study = open_search_study(plan, "cons", storage)
    study.enqueue_trial(big)
    study.enqueue_trial(small)
    import spectrum.study.trial as trial_module  # the one trial path trains here

    trained = []
    real_train = trial_module.train
    monkeypatch.setattr(
        trial_module,
        "train",
        lambda model, *a, **k: trained.append(1) or real_train(model, *a, **k),
    )
    study = run_search(plan, "cons", storage, torch.device("cpu"))
    infeasible, feasible = study.get_trials()
    assert trained == [1]  # only the feasible trial trained
    assert infeasible.state == TrialState.COMPLETE
    assert infeasible.user_attrs["status"] == "infeasible"
    assert infeasible.user_attrs["curve"] == [] and infeasible.user_attrs["val_acc"] is None
    assert infeasible.user_attrs["flops"] == flops[1]
    assert (
        infeasible.user_attrs["error"].startswith("flops ")
        and "> max" in infeasible.user_attrs["error"]
    )
    assert infeasible.constraints["flops"] > 0 >= feasible.constraints["flops"]
    assert feasible.user_attrs["status"] == "complete"
    assert [t.number for t in study.best_trials] == [feasible.number]


def test_a_duplicate_point_is_not_trained_and_replaced_by_a_random_one(tmp_path):
    plan = tiny_plan(trials=2)
    storage = sqlite(tmp_path)
    study = open_search_study(plan, "dup", storage)
    point = fixed_params(plan.space)
    study.enqueue_trial(point)
    study.enqueue_trial(point)
    study = run_search(plan, "dup", storage, torch.device("cpu"))
    first, duplicate, replacement = study.get_trials()
    assert [t.state for t in (first, duplicate, replacement)] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
    ]
    assert duplicate.user_attrs["not_run"] == "duplicate"
    assert (
        duplicate.user_attrs["duplicate_of"] == 0
        and "curve" not in duplicate.user_attrs
        or duplicate.user_attrs["curve"] == []
    )
    assert replacement.params != point and replacement.user_attrs["replaces_duplicate"] == 1
    assert state_counts(study) == {
        "finished": 2,
        "running": 0,
        "waiting": 0,
        "training_failures": 0,
    }


class PruneOddTrials(optuna.pruners.BasePruner):
    """Deterministic: prunes every odd-numbered trial at its first report."""

    def prune(self, study, trial) -> bool:
        return trial.number % 2 == 1


def test_pruned_trials_are_marked_with_the_epochs_they_ran(tmp_path, monkeypatch):
    import spectrum.study.search as search_module

    monkeypatch.setattr(search_module, "make_pruner", lambda plan: PruneOddTrials())
    plan = tiny_plan(pruner="median", train=replace(TINY_TRAIN, epochs=3), trials=2)
    study = run_search(plan, "prune", sqlite(tmp_path), torch.device("cpu"))
    complete, pruned = study.get_trials()
    assert complete.state == TrialState.COMPLETE and pruned.state == TrialState.PRUNED
    assert sorted(complete.intermediate_values) == [1, 2, 3]
    assert len(complete.user_attrs["curve"]) == 3
    assert pruned.user_attrs["status"] == "pruned"
    assert [p["epoch"] for p in pruned.user_attrs["curve"]] == [1]
    assert list(pruned.intermediate_values) == [1]
    assert (
        pruned.user_attrs["val_acc"] is None
        and "pruned after epoch 1" in pruned.user_attrs["error"]
    )
    assert state_counts(study)["finished"] == 2  # pruned trials count towards --trials


def test_a_search_trial_and_a_sweep_trial_of_one_config_store_the_same_record(tmp_path):
    """Both run the one trial path: same coordinates, counts, curve and accuracies."""
    from spectrum.cost.latency import LatencySettings
    from spectrum.study.sweep import SweepPlan, run_sweep

    one_point = {
        "widths": "1.0",
        "repeats": "2",
        "segments": "C",
        "orders": "depthwise-first",
        "activations": "none",
        "residual": "on",
    }
    search = run_search(
        tiny_plan(space=SearchSpace.from_dict(one_point), trials=1),
        "one",
        sqlite(tmp_path),
        torch.device("cpu"),
    ).get_trials()[0]
    sweep = run_sweep(
        SweepPlan(
            segments=("C",),
            middle_repeats=2,
            train=TINY_TRAIN,
            data=SYNTHETIC,
            latency=LatencySettings(enabled=False),
        ),
        "one",
        optuna.storages.InMemoryStorage(),
        torch.device("cpu"),
    ).get_trials()[0]
    bookkeeping = {"kind", "grid_key", "worker", "alive_at", "wall_time_s", "error", "curve"}

    def record(trial):
        return {k: v for k, v in trial.user_attrs.items() if k not in bookkeeping}

    def curve(trial):
        return [(p["epoch"], p["train_loss"], p["val_acc"]) for p in trial.user_attrs["curve"]]

    assert record(search) == record(sweep)
    assert record(sweep)["status"] == "complete" and curve(search) == curve(sweep)
    assert search.user_attrs["error"] is None and "error" not in sweep.user_attrs


@pytest.mark.slow
def test_hyperband_search_reports_every_epoch(tmp_path):
    plan = tiny_plan(
        pruner="hyperband",
        train=replace(TINY_TRAIN, epochs=3),
        trials=6,
        space=SearchSpace.from_dict({**TINY_SPACE, "lr": "0.001,0.01,0.3"}),
    )
    study = run_search(plan, "hb", sqlite(tmp_path), torch.device("cpu"))
    trials = study.get_trials()
    assert len(trials) == 6 and {t.state for t in trials} <= {
        TrialState.COMPLETE,
        TrialState.PRUNED,
    }
    for trial in trials:
        curve = trial.user_attrs["curve"]
        assert sorted(trial.intermediate_values) == [p["epoch"] for p in curve]
        if trial.state == TrialState.PRUNED:
            assert trial.user_attrs["status"] == "pruned" and len(curve) < 3
        else:
            assert len(curve) == 3


def test_requeued_copy_runs_with_its_fixed_params(tmp_path):
    """What RetryHeartbeatStaleTrialCallback leaves behind: a FAIL trial and a WAITING copy."""
    plan = tiny_plan(trials=1)
    storage = sqlite(tmp_path)
    study = open_search_study(plan, "retry", storage)
    params = fixed_params(plan.space, entry_segments="4", exit_segments="C", middle_segments="1")
    study.enqueue_trial(params)
    with warnings.catch_warnings():  # heartbeats only run under optimize(); not needed here
        warnings.simplefilter("ignore", UserWarning)
        dead = study.ask(plan.space.distributions())
    for name, value in {
        "kind": "search",
        "status": "interrupted",
        "error": "worker died",
        "worker": {"host": "elsewhere", "pid": 1},
    }.items():
        dead.set_user_attr(name, value)
    study.tell(dead, state=TrialState.FAIL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.get_trials()[0])
    study = run_search(plan, "retry", storage, torch.device("cpu"))
    failed, copy = study.get_trials()
    assert failed.state == TrialState.FAIL and copy.state == TrialState.COMPLETE
    assert failed.params == params and copy.params == params
    assert copy.user_attrs["retry_of"] == failed.number
    assert copy.user_attrs["segments"] == "4/1/C"
    assert copy.user_attrs["status"] == "complete" and copy.user_attrs["error"] is None
    assert copy.user_attrs["worker"]["pid"] == os.getpid()


def test_journal_storage_recovers_a_dead_workers_trial(tmp_path):
    """No heartbeats on a journal file: a same-host trial whose process is gone is re-queued."""
    plan = tiny_plan(trials=1)
    storage = open_storage(tmp_path / "study.log", tmp_path)
    study = open_search_study(plan, "journal", storage)
    params = fixed_params(plan.space, entry_segments="C", middle_segments="4", exit_segments="1")
    study.enqueue_trial(params)
    dead = study.ask(plan.space.distributions())
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead.set_user_attr("worker", {"host": socket.gethostname(), "pid": int(gone.stdout)})
    study = run_search(plan, "journal", storage, torch.device("cpu"))
    failed, copy = study.get_trials()
    assert failed.state == TrialState.FAIL and failed.user_attrs["status"] == "interrupted"
    assert copy.state == TrialState.COMPLETE and copy.params == params
    assert copy.user_attrs["retry_of"] == failed.number


# --------------------------------------------------------------------------------------------
# The command


def test_search_command_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    out = tmp_path / "out"
    code = cli.main(
        [
            "search",
            *CLI_TINY,
            "--objectives",
            "accuracy,flops",
            "--trials",
            "2",
            "--sampler",
            "tpe",
            "--seed",
            "3",
            "--study",
            "e2e",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "best trials (Pareto front" in captured.out
    assert (out / "results.csv").exists() and (out / "report.md").exists()
    report = (out / "report.md").read_text()
    assert "Pareto front" in report and "Objectives: accuracy, flops" in report


def test_search_study_file_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    path = tmp_path / "tiny-search.toml"
    path.write_text("""
[study]
kind = "search"
[data]
name = "synthetic"
val_size = 256
[train]
epochs = 1
batch_size = 64
train_subset = 128
[latency]
batch_size = 8
warmup = 1
repeats = 2
min_repeats = 1
max_seconds = 0.2
[search]
objectives = ["accuracy", "latency"]
trials = 1
widths = [0.5]
repeats = [1]
segments = ["C"]
activations = ["none"]
""")
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    study = optuna.load_study(study_name="tiny-search", storage=f"sqlite:///{out / 'study.db'}")
    (trial,) = study.get_trials()
    assert trial.values == [trial.user_attrs["val_acc"], trial.user_attrs["latency_ms"]]
    assert study.user_attrs["objectives"] == ["accuracy", "latency"]
    assert (out / "report.md").exists()


def test_interrupted_search_exits_130_and_keeps_the_study(tmp_path, capsys, monkeypatch):
    import spectrum.study.run as run_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_search", interrupted)
    assert cli.main(["search", *CLI_TINY, "--out", str(tmp_path)]) == 130
    assert "re-run the same command to resume" in capsys.readouterr().err


def test_password_never_shown(capsys, tmp_path):
    secret = "s3cr3t-Pa55"
    url = f"postgresql://spectrum:{secret}@127.0.0.1:1/spectrum_test"  # nothing listens there
    code = cli.main(["search", *CLI_TINY, "--storage", url, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    line = one_line(captured.err)
    assert "***" in line and secret not in captured.err + captured.out


def test_command_line_is_stored_masked(monkeypatch):
    monkeypatch.setattr(
        sys, "argv", ["spectrum", "search", "--storage", "postgresql://u:hunter2@h/db"]
    )
    assert "hunter2" not in cli.command_line() and "u:***@h/db" in cli.command_line()


# --------------------------------------------------------------------------------------------
# Several worker processes on PostgreSQL


def worker(url: str, study: str, out: Path, trials: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "SPECTRUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spectrum",
            "search",
            *CLI_TINY,
            "--trials",
            str(trials),
            "--study",
            study,
            "--storage",
            url,
            "--out",
            str(out),
            "--no-report",
            "--heartbeat-interval",
            "1",
            "--grace-period",
            "3",
            "--pruner",
            "none",
            *extra,
        ],
        cwd=Path(cli.__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 90) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"worker {process.pid} did not finish:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]
    return output


def load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(url, Path("."), heartbeat=False))


@pytest.mark.postgres
def test_two_workers_finish_exactly_n_trials(postgres_url, tmp_path):
    name = f"two-{uuid.uuid4().hex[:8]}"
    workers = [worker(postgres_url, name, tmp_path / f"w{i}", 4, "--seed", "5") for i in range(2)]
    outputs = [finish(w) for w in workers]
    study = load(postgres_url, name)
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 4
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    for output in outputs:
        assert "spectrum:***@127.0.0.1" in output  # the storage, named with a masked password
        assert ":spectrum@" not in output


@pytest.mark.postgres
def test_killed_worker_trial_is_failed_and_finished_by_another(postgres_url, tmp_path):
    name = f"kill-{uuid.uuid4().hex[:8]}"
    storage = open_storage(postgres_url, tmp_path, heartbeat=False)
    # Three epochs: long enough that the victim is surely killed inside its trial.
    victim, other = (
        worker(postgres_url, name, tmp_path / w, 3, "--epochs", "3") for w in ("victim", "other")
    )
    deadline = time.time() + 60
    killed_number = None
    while time.time() < deadline and killed_number is None:
        try:
            trials = optuna.load_study(study_name=name, storage=storage).get_trials(
                deepcopy=False, states=(TrialState.RUNNING,)
            )
        except KeyError:  # not created yet
            trials = []
        for trial in trials:
            if (trial.user_attrs.get("worker") or {}).get(
                "pid"
            ) == victim.pid and "params" in trial.user_attrs:  # counted: training has begun
                victim.send_signal(signal.SIGKILL)
                killed_number = trial.number
                break
        time.sleep(0.1)
    victim.wait(timeout=10)
    assert killed_number is not None, "the victim never started a trial"
    assert victim.returncode == -signal.SIGKILL
    finish(other, timeout=120)

    study = load(postgres_url, name)
    trials = study.get_trials()
    killed = trials[killed_number]
    assert killed.state == TrialState.FAIL and killed.user_attrs["status"] == "interrupted"
    copies = [t for t in trials if t.system_attrs.get("failed_trial") == killed_number]
    assert len(copies) == 1 and copies[0].state == TrialState.COMPLETE
    assert copies[0].params == killed.params
    assert copies[0].user_attrs["worker"]["pid"] == other.pid
    assert copies[0].user_attrs["retry_of"] == killed_number
    # Exactly three results; every other trial completed (nothing lost, nothing run twice).
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 3
    assert [t.number for t in trials if t.state != TrialState.COMPLETE] == [killed_number]

"""The front pruner (spectrum.study.front_pruner): multi-objective searches that prune.

The rule is checked on hand-made finished trials; the search on the synthetic dataset with the
smallest proxies, where every pruned trial must name a finished trial that costs no more and was
ahead at the epoch it was pruned.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

import cli
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig
from spectrum.errors import SpecError
from spectrum.study.front_pruner import Finished, FrontPruner, outrun_by
from spectrum.study.plan import SearchPlan
from spectrum.study.search import run_search
from spectrum.study.space import SearchSpace
from spectrum.study.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Accuracies and bands are binary fractions, so "ahead by exactly the band" is exact.
CHEAP = Finished(1, (100.0, 10.0), {1: 0.75, 2: 0.875})
COSTLY = Finished(2, (300.0, 30.0), {1: 0.9375, 2: 0.96875})
SAME = Finished(3, (200.0, 20.0), {1: 0.875})


def test_a_trial_is_outrun_by_a_finished_trial_that_costs_no_more_and_is_ahead():
    own = (200.0, 20.0)
    assert outrun_by(own, 0.25, 1, [CHEAP, COSTLY], band=0.25) == 1
    # Ahead by exactly the band is not enough; a costlier trial never counts.
    assert outrun_by(own, 0.5, 1, [CHEAP, COSTLY], band=0.25) is None
    # Costing the same in every objective counts; the one furthest ahead is named.
    assert outrun_by(own, 0.25, 1, [CHEAP, SAME], band=0.25) == 3
    # An epoch the finished trial does not have is no evidence.
    assert outrun_by(own, 0.10, 2, [SAME], band=0.0) is None
    # Cheaper in one cost but dearer in another does not count.
    mixed = Finished(4, (50.0, 40.0), {1: 0.99})
    assert outrun_by(own, 0.10, 1, [mixed], band=0.0) is None


def test_front_pruner_needs_accuracy_and_a_cost():
    with pytest.raises(ValueError):
        FrontPruner(("accuracy",), 0.01)
    with pytest.raises(ValueError):
        FrontPruner(("params", "flops"), 0.01)
    with pytest.raises(SpecError, match="--pruner front"):
        SearchPlan(objectives=("accuracy",), pruner="front")
    with pytest.raises(SpecError, match="--prune-band"):
        SearchPlan(objectives=("accuracy", "flops"), pruner="front", prune_band=-0.1)
    with pytest.raises(SpecError, match="use --pruner front or none"):
        SearchPlan(objectives=("accuracy", "flops"), pruner="hyperband")


def test_front_pruner_on_the_command_line_exits_2_with_one_line(capsys, tmp_path):
    code = cli.main(
        ["search", "--objectives", "accuracy", "--pruner", "front", "--out", str(tmp_path)]
    )
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--pruner front" in err[0]


def _search(tmp_path: Path, pruner: str) -> optuna.Study:
    plan = SearchPlan(
        space=SearchSpace.from_dict(
            {"widths": "0.5", "repeats": "1", "segments": "1,4,C", "activations": "none,relu"}
        ),
        objectives=("accuracy", "flops"),
        train=TrainConfig(epochs=3, batch_size=64, train_subset=128),
        data=DataConfig(name="synthetic", val_size=256),
        latency=None,
        trials=8,
        pruner=pruner,
        prune_band=0.0,
    )
    storage = open_storage(None, tmp_path / pruner, heartbeat_interval=1, grace_period=2)
    return run_search(plan, "front", storage, torch.device("cpu"))


def test_a_multi_objective_search_prunes_against_finished_cheaper_trials(tmp_path):
    study = _search(tmp_path, "front")
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    pruned = [t for t in trials.values() if t.state == TrialState.PRUNED]
    assert pruned, "a band of 0 on this study prunes (trials 4, 5, 6 of seed 0)"
    for trial in pruned:
        attrs = trial.user_attrs
        epoch = len(attrs["curve"])
        assert attrs["status"] == "pruned" and 1 <= epoch < 3
        by = trials[attrs["pruned_by"]]
        assert by.state == TrialState.COMPLETE and by.datetime_complete < trial.datetime_complete
        assert by.user_attrs["flops"] <= attrs["flops"]
        ahead = by.user_attrs["curve"][epoch - 1]["val_acc"] - attrs["curve"][-1]["val_acc"]
        assert ahead > 0
        assert f"trial {by.number} costs no more" in attrs["error"]
    assert study.user_attrs["prune_band"] == 0.0
    epochs = sum(len(t.user_attrs.get("curve") or []) for t in trials.values())
    unpruned = _search(tmp_path, "none").get_trials(deepcopy=False)
    assert not [t for t in unpruned if t.state == TrialState.PRUNED]
    assert epochs < sum(len(t.user_attrs.get("curve") or []) for t in unpruned)

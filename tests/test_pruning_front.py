"""The front pruner (spectrum.study.front_pruner): multi-objective searches that prune.

The rule is checked on hand-made finished trials; the search on the synthetic dataset with the
smallest proxies, where every pruned trial must name a finished trial that costs no more and was
ahead at the epoch it was pruned.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial
from scipy import stats

from spectrum import cli
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig
from spectrum.errors import SpecError
from spectrum.stats.front import curve_noise
from spectrum.study.front_pruner import (
    DEFAULT_PRUNE_BAND,
    MIN_DF,
    Finished,
    FrontPruner,
    PruneBand,
    measured_sd,
    outrun_by,
    pilot_noise,
)
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


def test_the_band_is_the_final_band_at_the_end_and_widens_toward_early_epochs():
    band = PruneBand()
    assert band.at(4, 4) == DEFAULT_PRUNE_BAND  # the last epoch: one comparison, --prune-band
    # Before it, a trial has 3 looks: z at 0.05 / 3, and the seed SD grows as (E / k) ** 2.2.
    z = stats.norm.ppf(1 - 0.05 / 3) / stats.norm.ppf(0.95)
    for k in (1, 2, 3):
        assert band.at(k, 4) == pytest.approx(DEFAULT_PRUNE_BAND * z * (4 / k) ** 2.2)
    assert band.at(1, 4) > band.at(2, 4) > band.at(3, 4) > band.at(4, 4)
    # Two epochs: one look before the end, no split of the level.
    assert band.at(1, 2) == pytest.approx(DEFAULT_PRUNE_BAND * 2**2.2)
    # The same fraction of training at a longer budget is split over more looks: wider.
    assert band.at(2, 8) > band.at(1, 4)
    assert PruneBand(0.0).at(1, 4) == 0.0
    with pytest.raises(ValueError):
        band.at(5, 4)


def test_a_measured_seed_sd_replaces_the_default_widening():
    z = stats.norm.ppf(1 - 0.05 / 3)
    assert PruneBand().at(2, 4, measured_sd=0.02) == pytest.approx(z * math.sqrt(2) * 0.02)
    assert PruneBand().at(4, 4, measured_sd=0.02) == pytest.approx(
        1.6449 * math.sqrt(2) * 0.02, rel=1e-4
    )


def test_curve_noise_pools_per_epoch_and_ragged_curves():
    groups = [
        [[0.1, 0.5], [0.3, 0.7]],  # epoch 1: 0.1, 0.3; epoch 2: 0.5, 0.7
        [[0.2, 0.6, 0.8], [0.2, 0.9]],  # epoch 3 has one run: no degree of freedom
        [[0.4]],
    ]
    noise = curve_noise(groups)
    assert sorted(noise) == [1, 2]
    assert noise[1] == pytest.approx((math.sqrt(0.02 / 2), 2))
    assert noise[2] == pytest.approx((math.sqrt((0.02 + 0.045) / 2), 2))


def _cheap_finished_study(
    confirm_runs: dict | None = None, storage: str | None = None
) -> optuna.Study:
    """One complete trial: 100 FLOPs, validation 0.689 after epoch 2 of 4 (seed 3's trial 7)."""
    study = optuna.create_study(directions=["maximize", "minimize"], storage=storage)
    curve = [{"epoch": e, "val_acc": a} for e, a in enumerate([0.286, 0.689, 0.759, 0.789], 1)]
    study.add_trial(
        create_trial(
            values=[0.789, 100.0],
            params={"middle": "0"},
            distributions={"middle": CategoricalDistribution(["0", "1"])},
            user_attrs={"status": "complete", "flops": 100, "curve": curve, "val_acc": 0.789},
        )
    )
    if confirm_runs is not None:
        study.set_user_attr("front_confirm", {"runs": {"0": confirm_runs}})
    return study


def test_a_slow_starter_is_not_cut_at_epoch_2_by_the_final_band():
    # Seed 3's trial 8 of reports/search-front-pruning: 7.0 points behind a cheaper trial after
    # epoch 2 of 4, it ended 3.6 points above it. A band sized for the final accuracy (the flat
    # band before) cut it; the band at epoch 2 does not. Far behind, it is still cut.
    study = _cheap_finished_study()
    pruner = FrontPruner(("accuracy", "flops"), PruneBand(), 4)
    assert pruner.outrun_by(study, {"flops": 200}, 2, 0.619) is None
    assert 0.689 - 0.619 > DEFAULT_PRUNE_BAND
    assert pruner.outrun_by(study, {"flops": 200}, 2, 0.40) == (0, PruneBand().at(2, 4))


def test_the_pruner_uses_the_seed_sd_the_studys_repeats_measured():
    # Twelve more seeds of trial 0, validation 0.689 +- 0.002 after epoch 2: 12 degrees of
    # freedom at every epoch, and a narrow measured band.
    offsets = [-0.002, 0.002] * 6
    runs = {
        str(seed): {"val_curve": [0.286, 0.689 + offsets[seed - 1], 0.759, 0.789]}
        for seed in range(1, 13)
    }
    study = _cheap_finished_study(runs)
    sd = measured_sd(study)
    assert sorted(sd) == [1, 2, 3, 4] and sd[1] == 0.0
    pruner = FrontPruner(("accuracy", "flops"), PruneBand(), 4)
    by, band = pruner.outrun_by(study, {"flops": 200}, 2, 0.619)
    assert by == 0 and band == pytest.approx(PruneBand().at(2, 4, sd[2]))
    assert band < PruneBand().at(2, 4)
    # Too few repeats (MIN_DF - 1 degrees of freedom): the default band.
    few = _cheap_finished_study({str(s): runs[str(s)] for s in range(1, MIN_DF)})
    assert measured_sd(few) == {}
    assert pruner.outrun_by(few, {"flops": 200}, 2, 0.619) is None


def _pilot(folder: Path, confirm: bool = True) -> Path:
    """A finished 4-epoch search's folder whose --confirm seeds measured a narrow seed SD."""
    folder.mkdir()
    offsets = [-0.002, 0.002] * 6
    runs = {
        str(seed): {"val_curve": [0.286, 0.689 + offsets[seed - 1], 0.759, 0.789]}
        for seed in range(1, 13)
    }
    study = _cheap_finished_study(runs if confirm else None, f"sqlite:///{folder / 'study.db'}")
    study.set_user_attr("kind", "search")
    study.set_user_attr("train", TrainConfig(epochs=4).as_dict())
    study.set_user_attr("data", asdict(DataConfig()))
    return folder


def test_a_pilot_searchs_measured_noise_sets_the_band_of_a_new_search(tmp_path):
    pilot = _pilot(tmp_path / "pilot")
    train, data = TrainConfig(epochs=4).as_dict(), asdict(DataConfig())
    sd = pilot_noise(pilot, train, data)
    assert sorted(sd) == [1, 2, 3, 4] and sd[2] == pytest.approx(0.002)
    # A new search without repeats of its own: 7 points behind a cheaper trial after epoch 2 of
    # 4 is inside the default band but far outside the band of the pilot's measured noise.
    study = _cheap_finished_study()
    assert (
        FrontPruner(("accuracy", "flops"), PruneBand(), 4).outrun_by(
            study, {"flops": 200}, 2, 0.619
        )
        is None
    )
    by, band = FrontPruner(("accuracy", "flops"), PruneBand(), 4, sd).outrun_by(
        study, {"flops": 200}, 2, 0.619
    )
    assert by == 0 and band == pytest.approx(PruneBand().at(2, 4, sd[2]))


def test_a_pilot_at_another_budget_or_without_repeats_is_refused(tmp_path):
    pilot = _pilot(tmp_path / "pilot")
    data = asdict(DataConfig())
    with pytest.raises(SpecError, match=r"another budget \(epochs: 4 there, 8 here\)"):
        pilot_noise(pilot, TrainConfig(epochs=8).as_dict(), data)
    other = {**data, "val_size": 1000}
    with pytest.raises(SpecError, match=r"\(data val_size: 5000 there, 1000 here\)"):
        pilot_noise(pilot, TrainConfig(epochs=4).as_dict(), other)
    bare = _pilot(tmp_path / "bare", confirm=False)
    with pytest.raises(SpecError, match="holds no --confirm seeds"):
        pilot_noise(bare, TrainConfig(epochs=4).as_dict(), data)
    with pytest.raises(SpecError, match="no study.db there"):
        pilot_noise(tmp_path, TrainConfig(epochs=4).as_dict(), data)
    with pytest.raises(SpecError, match="give --pruner front"):
        SearchPlan(objectives=("accuracy", "flops"), prune_noise_from=str(pilot))
    plan = SearchPlan(
        objectives=("accuracy", "flops"),
        pruner="front",
        prune_noise_from=str(pilot),
        train=TrainConfig(epochs=4),
    )
    assert plan.fingerprint()["prune_noise_from"] == str(pilot)


def test_a_bad_pilot_on_the_command_line_exits_2_before_any_study_exists(capsys, tmp_path):
    out = tmp_path / "out"
    args = ["search", "--objectives", "accuracy,flops", "--pruner", "front"]
    code = cli.main([*args, "--prune-noise-from", str(tmp_path), "--out", str(out)])
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--prune-noise-from" in err[0] and "no study.db there" in err[0]
    assert not (out / "study.db").exists()


def test_front_pruner_needs_accuracy_and_a_cost():
    with pytest.raises(ValueError):
        FrontPruner(("accuracy",), PruneBand(0.01), 4)
    with pytest.raises(ValueError):
        FrontPruner(("params", "flops"), PruneBand(0.01), 4)
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

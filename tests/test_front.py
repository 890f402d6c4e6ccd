"""The statistical front (spectrum.stats.front) and ``spectrum search --confirm``.

The decisions are checked on hand-made samples whose verdict is clear; the sequential rule on a
drawing function that counts its calls; ``--confirm`` end to end on the synthetic dataset.
"""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from spectrum import cli
from spectrum.cost.latency import LatencySettings
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig
from spectrum.errors import SpecError
from spectrum.stats.front import (
    DOMINATED,
    NON_DOMINATED,
    UNDECIDED,
    FrontRule,
    decide_front,
    hypervolume,
    noise_band,
    sequential_front,
)
from spectrum.study.plan import SearchPlan
from spectrum.study.studyfile import search_settings

RULE = FrontRule(start=3, step=2, max_seeds=7)


def test_a_clearly_better_cheaper_point_dominates_and_a_clearly_worse_one_does_not():
    costs = [[1.0], [2.0], [3.0]]
    accs = [[80.0, 80.1, 79.9], [85.0, 85.1, 84.9], [83.0, 83.1, 82.9]]
    decision = decide_front(costs, accs, RULE)
    # 0 is the cheapest (nothing to compare with), 1 beats 0 by 5 points, 2 loses to 1.
    assert decision.status == [NON_DOMINATED, NON_DOMINATED, DOMINATED]
    assert decision.dominated_by(2) == [1]
    assert decision.dominated_by(1) == []


def test_overlapping_noisy_points_are_undecided_and_equal_costs_compare_both_ways():
    costs = [[1.0], [1.0]]
    accs = [[80.0, 81.5, 79.0], [80.5, 79.2, 81.8]]
    decision = decide_front(costs, accs, RULE)
    assert decision.status == [UNDECIDED, UNDECIDED]
    assert decision.undecided_with(0) == [1] and decision.undecided_with(1) == [0]
    assert decision.undecided_members() == {0, 1}


def test_a_cheaper_point_equal_within_the_margin_does_not_dominate():
    costs = [[1.0], [2.0]]
    accs = [[80.0, 80.1, 79.9, 80.0], [80.05, 80.15, 79.95, 80.05]]  # equal within 0.2
    decision = decide_front(costs, accs, FrontRule(start=3, max_seeds=4, margin_pp=0.5))
    assert decision.status == [NON_DOMINATED, NON_DOMINATED]
    # With a margin far below the spread of the difference, the same pair is undecided.
    tight = decide_front(costs, accs, FrontRule(start=3, max_seeds=4, margin_pp=0.001))
    assert tight.status[1] == UNDECIDED


def test_the_level_is_split_over_the_planned_looks():
    costs = [[1.0], [2.0]]
    accs = [[80.0, 80.6, 79.4], [81.2, 81.8, 80.6]]  # +1.2, SD 0.6 a side
    one_look = decide_front(costs, accs, FrontRule(start=3, max_seeds=3))
    many_looks = decide_front(costs, accs, FrontRule(start=3, step=1, max_seeds=20))
    assert one_look.status[1] == NON_DOMINATED  # decidedly better than the cheaper point
    assert many_looks.status[1] == UNDECIDED  # alpha / 18 per side: not yet


def test_sequential_front_adds_seeds_only_where_undecided():
    rng = np.random.default_rng(0)
    truth = [80.0, 85.0, 85.1, 70.0]  # 1 and 2 tie; 3 is far below and the most expensive
    costs = [[1.0], [2.0], [3.0], [4.0]]
    calls: list[tuple[int, int]] = []

    def draw(i: int, k: int) -> float:
        calls.append((i, k))
        return truth[i] + rng.normal(0, 0.5)

    result = sequential_front(costs, [[] for _ in truth], draw, RULE)
    seeds = [len(a) for a in result.accuracies]
    assert seeds[0] == 3 and seeds[3] == 3  # decided at the first look
    assert seeds[1] == seeds[2] == 7  # the tie is never decided: every look is taken
    assert result.looks == RULE.looks == 3
    assert result.decision.status[3] == DOMINATED
    assert result.decision.status[2] in (UNDECIDED, NON_DOMINATED)
    assert sorted(calls) == sorted(set(calls))  # no seed drawn twice
    assert result.seeds_used == sum(seeds)


def test_sequential_front_keeps_the_seeds_it_is_given():
    calls = []

    def draw(i, k):
        calls.append((i, k))
        return 80.0 + i + 0.1 * k

    sequential_front([[1.0], [2.0]], [[80.0, 80.1], [81.0]], draw, FrontRule(max_seeds=3))
    assert sorted(calls) == [(0, 2), (1, 1), (1, 2)]


def test_hypervolume_of_a_staircase():
    # ref (acc 0, cost 10); points (cost 2, acc 5) and (cost 6, acc 8); a dominated (7, 4).
    area = hypervolume([5, 8, 4], [2, 6, 7], ref_accuracy=0, ref_cost=10)
    assert area == pytest.approx((10 - 2) * 5 + (10 - 6) * (8 - 5))
    assert hypervolume([5], [12], 0, 10) == 0.0  # outside the reference box


def test_noise_band_pools_groups():
    band, sd, df = noise_band([[1.0, 3.0], [10.0, 10.0, 13.0], [5.0]])
    assert df == 1 + 2
    assert sd == pytest.approx(math.sqrt((2.0 + 6.0) / 3))
    assert band == pytest.approx(1.645 * math.sqrt(2) * sd)
    assert math.isnan(noise_band([[1.0]])[0])


def test_confirm_needs_accuracy_and_a_cost():
    with pytest.raises(SpecError, match="--confirm"):
        SearchPlan(objectives=("accuracy",), confirm=5)
    # Latency is decided by its measured interval (tests/test_front_latency.py), so it needs
    # the measurement.
    assert SearchPlan(objectives=("accuracy", "latency"), confirm=5).confirm == 5
    with pytest.raises(SpecError, match="drop --no-latency"):
        SearchPlan(objectives=("accuracy", "latency"), confirm=5, latency=None)
    with pytest.raises(SpecError, match=">= 3"):
        SearchPlan(objectives=("accuracy", "flops"), confirm=2)
    with pytest.raises(SpecError, match="at least 3"):
        FrontRule(start=3, max_seeds=2)


@pytest.mark.slow
def test_confirm_end_to_end_stores_seeds_and_reports_the_front(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRUM_THREADS", "1")
    out = tmp_path / "out"
    args = [
        "search",
        "--objectives",
        "accuracy,flops",
        "--trials",
        "5",
        "--confirm",
        "3",
        "--prune-band",
        "0.5",
        "--jobs",
        "1",
        "--dataset",
        "synthetic",
        "--val-size",
        "128",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--train-subset",
        "64",
        "--no-latency",
        "--widths",
        "0.5",
        "--repeats",
        "1",
        "--segments",
        "1,C",
        "--activations",
        "none",
        "--study",
        "cf",
        "--out",
        str(out),
    ]
    code = cli.main(args)
    first = capsys.readouterr()
    assert code == 0, first.err
    assert "confirm trial" in first.err
    storage = f"sqlite:///{out / 'study.db'}"
    stored = optuna.load_study(study_name="cf", storage=storage).user_attrs["front_confirm"]
    study = optuna.load_study(study_name="cf", storage=storage)
    # A band of 50 points screens nothing out: every complete trial is a candidate.
    complete = [t.number for t in study.trials if t.user_attrs.get("status") == "complete"]
    assert stored["candidates"] == complete and not stored["screened"]
    for number in stored["candidates"]:
        assert sorted(stored["runs"][str(number)]) == ["1", "2"]  # seeds 1 and 2 besides 0
    assert set(stored["decision"]["status"].values()) <= {NON_DOMINATED, DOMINATED, UNDECIDED}
    report = (out / "report.md").read_text()
    assert "## Front within noise" in report and "seed noise" in report.lower()
    assert (out / "statistical_front.png").exists()
    # Re-running resumes: every seed is read back, nothing is trained again.
    assert cli.main(args) == 0
    assert "confirm trial" not in capsys.readouterr().err
    again = optuna.load_study(study_name="cf", storage=storage).user_attrs["front_confirm"]
    assert again["runs"] == stored["runs"] and again["decision"] == stored["decision"]


def test_plan_defaults_are_in_the_settings():
    plan = search_settings(
        {"objectives": "accuracy,flops", "pruner": "front", "prune_band": 0.02, "confirm": 5},
        DataConfig(name="synthetic"),
        TrainConfig(epochs=1),
        LatencySettings(),
        "s.toml",
    )
    assert plan.prune_band == 0.02 and plan.confirm == 5
    assert plan.fingerprint()["prune_band"] == 0.02
    assert "confirm" not in plan.fingerprint()
    assert "prune_band" not in SearchPlan(objectives=("accuracy", "flops")).fingerprint()


def test_the_report_section_reads_the_stored_confirmation(tmp_path):
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import create_trial

    from spectrum.report import write_report

    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_user_attr("objectives", ["accuracy", "flops"])
    study.set_user_attr("kind", "search")
    for number, (acc, flops) in enumerate([(0.80, 1e6), (0.85, 2e6), (0.83, 3e6), (0.70, 4e6)]):
        study.add_trial(
            create_trial(
                values=[acc, flops],
                params={"middle": str(number)},
                distributions={"middle": CategoricalDistribution(["0", "1", "2", "3"])},
                user_attrs={"kind": "search", "status": "complete", "segments": f"{number}/C/C"},
            )
        )
    runs = {
        "0": {"1": {"val_acc": 0.801}, "2": {"val_acc": 0.799}},
        "1": {"1": {"val_acc": 0.851}, "2": {"val_acc": 0.849}},
        "2": {"1": {"val_acc": 0.831}, "2": {"val_acc": 0.829}},
    }
    study.set_user_attr(
        "front_confirm",
        {
            "rule": FrontRule(max_seeds=3).as_dict(),
            "band": 0.015,
            "screened": {"3": 1},
            "candidates": [0, 1, 2],
            "runs": runs,
            "decision": {
                "looks": 1,
                "status": {"0": NON_DOMINATED, "1": NON_DOMINATED, "2": DOMINATED},
                "dominated_by": {"0": [], "1": [], "2": [1]},
                "undecided_with": {"0": [], "1": [], "2": []},
            },
        },
    )
    md = write_report(study, tmp_path).read_text()
    section = md.split("## Front within noise")[1].split("\n## ")[0]
    assert "Non-dominated: 2 (0, 1); dominated: 1 (2); undecided: none." in section
    assert "| 2 | 2/C/C | 3 M | 3 | 83.00% [82.75, 83.25]% | dominated | 1 |  |" in section
    assert "Screened out" in section and "3 (by 1)" in section
    assert "pooled SD 0.10 points" in section
    assert (tmp_path / "statistical_front.png").stat().st_size > 1000

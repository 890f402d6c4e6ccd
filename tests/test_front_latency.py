"""The statistical front with a measured latency: costs compared by their intervals.

A count is exact, so "j costs no more than i" is true or false; a latency is a median with a
distribution-free 95% interval (spectrum.cost.latency.median_interval), so the comparison can be
undecided. Checked on hand-made intervals (spectrum.stats.front), on the sequential rule (no
seeds spent where only the cost is undecided) and on the ``--confirm`` screen over a study.
"""

from __future__ import annotations

import math

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import create_trial

from spectrum.stats.front import (
    DOMINATED,
    NON_DOMINATED,
    UNDECIDED,
    FrontRule,
    decide_front,
    sequential_front,
)
from spectrum.study.confirm import screen
from spectrum.study.front_pruner import trial_cost_bounds
from spectrum.study.plan import SearchPlan

optuna.logging.set_verbosity(optuna.logging.ERROR)

RULE = FrontRule(start=3, step=2, max_seeds=7)
CLEARLY_BETTER = [[80.0, 80.1, 79.9], [85.0, 85.1, 84.9]]  # 1 beats 0 by 5 points
EQUAL = [[80.0, 80.1, 79.9, 80.0], [80.05, 80.15, 79.95, 80.05]]  # within 0.2 points


def test_a_latency_interval_below_the_others_costs_no_more():
    # Latency (ms): 1 in [9, 10], 0 in [10.5, 12]: 1 decidedly costs no more, and is better.
    decision = decide_front([[10.5], [9.0]], CLEARLY_BETTER, RULE, cost_high=[[12.0], [10.0]])
    assert decision.status == [DOMINATED, NON_DOMINATED]
    assert decision.dominated_by(0) == [1]
    # 0 decidedly costs more than 1, so it is no threat to 1: no pair is formed.
    assert [(p.i, p.j) for p in decision.pairs] == [(0, 1)]


def test_overlapping_latency_intervals_leave_a_better_point_undecided():
    # 1 is 5 points better, but its latency interval [9, 11] overlaps 0's [10, 12]: whether
    # it costs no more is not known, so neither dominance nor its absence is decided.
    decision = decide_front([[10.0], [9.0]], CLEARLY_BETTER, RULE, cost_high=[[12.0], [11.0]])
    assert decision.status == [UNDECIDED, NON_DOMINATED]
    (pair,) = [p for p in decision.pairs if p.i == 0]
    assert pair.cost == UNDECIDED and pair.low > 0 and not pair.seeds_can_decide
    assert decision.undecided_with(0) == [1]
    assert decision.undecided_members() == set()  # more seeds cannot narrow a latency
    # The same accuracies with the intervals apart: decided (what exact counts would give).
    apart = decide_front([[10.0], [9.0]], CLEARLY_BETTER, RULE, cost_high=[[12.0], [9.5]])
    assert apart.status == [DOMINATED, NON_DOMINATED]


def test_overlapping_latency_does_not_dominate_when_not_better_beyond_the_margin():
    decision = decide_front(
        [[10.0], [9.0]], EQUAL, FrontRule(start=3, max_seeds=4), cost_high=[[12.0], [11.0]]
    )
    assert decision.status == [NON_DOMINATED, NON_DOMINATED]


def test_exact_counts_are_intervals_of_zero_width():
    counts = [[1.0], [2.0], [2.0]]
    accs = [[80.0, 80.1, 79.9], [85.0, 85.1, 84.9], [83.0, 83.1, 82.9]]
    plain = decide_front(counts, accs, RULE)
    assert decide_front(counts, accs, RULE, cost_high=counts).status == plain.status
    assert plain.status == [NON_DOMINATED, NON_DOMINATED, DOMINATED]


def test_sequential_front_spends_no_seeds_where_only_the_latency_is_undecided():
    calls = []

    def draw(i: int, k: int) -> float:
        calls.append((i, k))
        return CLEARLY_BETTER[i][k % 3]

    result = sequential_front([[10.0], [9.0]], [[], []], draw, RULE, cost_high=[[12.0], [11.0]])
    assert result.looks == 1 and result.seeds_used == 6  # 3 seeds each, no second look
    assert result.decision.status == [UNDECIDED, NON_DOMINATED]


def test_trial_cost_bounds_reads_the_latency_interval():
    attrs = {"flops": 500, "latency_ms": 10.0, "latency_ms_low": 9.5, "latency_ms_high": 11.0}
    assert trial_cost_bounds(attrs, ("accuracy", "flops", "latency")) == (
        (500.0, 9.5),
        (500.0, 11.0),
    )
    few = {**attrs, "latency_ms_low": math.nan, "latency_ms_high": math.nan}
    assert trial_cost_bounds(few, ("accuracy", "latency")) == ((0.0,), (math.inf,))
    assert trial_cost_bounds({"flops": 500}, ("accuracy", "latency")) is None


def _study(trials) -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"])
    for number, (acc, low, high) in enumerate(trials):
        study.add_trial(
            create_trial(
                values=[acc, (low + high) / 2],
                params={"middle": str(number)},
                distributions={"middle": CategoricalDistribution(["0", "1", "2", "3"])},
                user_attrs={
                    "status": "complete",
                    "val_acc": acc,
                    "latency_ms": (low + high) / 2,
                    "latency_ms_low": low,
                    "latency_ms_high": high,
                },
            )
        )
    return study


def test_the_confirm_screen_needs_the_latency_decided():
    plan = SearchPlan(objectives=("accuracy", "latency"), confirm=3)
    # 0 is 10 points ahead of both others. 1's latency interval overlaps 0's: 0 may cost more,
    # so 1 stays a candidate. 2 is decidedly slower than 0: screened out by it.
    study = _study([(0.90, 10.0, 11.0), (0.80, 10.5, 12.0), (0.80, 20.0, 22.0)])
    candidates, screened = screen(study, plan)
    assert [t.number for t in candidates] == [0, 1]
    assert screened == {2: 0}

"""The statistics a verdict rests on, checked by simulation: coverage, error rates, power.

Fast versions run by default (a few hundred simulated studies, bounds with slack for that
Monte Carlo error); the ``slow`` versions use thousands and their measured numbers are in the
README ("How the verdict decides").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spectrum.report.analysis.inference import (
    Design,
    decide,
    minimum_detectable_effect,
    paired,
    per_seed_slopes,
    seeds_to_decide,
    t_interval,
    tost_p,
)


def coverage(rng, dist: str, n: int, studies: int) -> float:
    hits = 0
    for _ in range(studies):
        x = rng.standard_normal(n) if dist == "normal" else rng.standard_t(3, n)
        interval = t_interval(x)
        hits += interval.ci_low <= 0.0 <= interval.ci_high
    return hits / studies


def simulate(rng, effects, *, sd=0.4, looks=(3, 6, 9, 12), margin=0.5, studies=200, adaptive=False):
    """Decisions of ``studies`` simulated sequential studies; the last effect is the reference.

    ``adaptive``: seeds are added as a sequential sweep adds them (:mod:`spectrum.study.
    sequential`): after each look only a configuration in an undecided comparison gets the next
    round, and the reference while any comparison is undecided; each look sees the seeds each
    configuration has.
    """
    k, n_max = len(effects), looks[-1]
    design = Design(margin=margin, looks=len(looks))
    out = []
    for _ in range(studies):
        acc = np.asarray(effects, dtype=float)[:, None] + sd * rng.standard_normal((k, n_max))
        if not adaptive:
            diffs = [[acc[j, :n] - acc[-1, :n] for j in range(k - 1)] for n in looks]
            out.append(decide(diffs, design))
            continue
        seeds = [looks[0]] * k
        history = []
        for look, next_look in zip(looks, (*looks[1:], None)):
            history.append(
                [
                    acc[j, : min(look, seeds[j], seeds[-1])]
                    - acc[-1, : min(look, seeds[j], seeds[-1])]
                    for j in range(k - 1)
                ]
            )
            decisions = decide(history, design)
            open_ = [j for j, d in enumerate(decisions) if d.verdict == "undecided"]
            if next_look is None or not open_:
                break
            for j in [*open_, k - 1]:
                seeds[j] = next_look
        out.append(decisions)
    return out


@pytest.mark.parametrize("dist", ["normal", "t3"])
@pytest.mark.parametrize("n", [3, 5, 10])
def test_t_interval_keeps_its_coverage(dist, n):
    # 1,500 studies: the Monte Carlo standard error of a 95% coverage is 0.56 pp.
    assert coverage(np.random.default_rng(n), dist, n, 1500) >= 0.93


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["normal", "t3"])
@pytest.mark.parametrize("n", [3, 5, 10])
def test_t_interval_coverage_many_studies(dist, n):
    assert coverage(np.random.default_rng(100 + n), dist, n, 20000) >= 0.94


def test_interval_and_test_agree():
    rng = np.random.default_rng(0)
    from spectrum.report.analysis.inference import paired_t_p

    for _ in range(200):
        x = rng.normal(0.3, 1.0, size=rng.integers(2, 12))
        interval = t_interval(x)
        excludes_zero = interval.ci_low > 0 or interval.ci_high < 0
        assert excludes_zero == (paired_t_p(x) < 0.05)


def bound(studies: int, alpha: float = 0.05) -> float:
    """alpha plus 2 Monte Carlo standard errors of a rate estimated from ``studies`` studies."""
    return alpha + 2 * math.sqrt(alpha * (1 - alpha) / studies)


# The adaptive allocation replays every look at each look (slower): fewer studies by default.
STUDIES = {False: 300, True: 150}


@pytest.mark.parametrize("adaptive", [False, True])
def test_sequential_null_keeps_familywise_error(adaptive):
    n = STUDIES[adaptive]
    decisions = simulate(np.random.default_rng(1), [0.0] * 7, studies=n, adaptive=adaptive)
    false_positive = np.mean([any(d.verdict in ("better", "worse") for d in s) for s in decisions])
    assert false_positive <= bound(n)


@pytest.mark.parametrize("adaptive", [False, True])
def test_sequential_false_equivalence_at_the_margin(adaptive):
    effects, n = [0.5] * 6 + [0.0], STUDIES[adaptive]
    decisions = simulate(np.random.default_rng(2), effects, studies=n, adaptive=adaptive)
    assert np.mean([any(d.verdict == "equivalent" for d in s) for s in decisions]) <= bound(n)


@pytest.mark.parametrize("adaptive", [False, True])
def test_true_effects_and_equivalences_are_decided(adaptive):
    effects = [1.0, -1.0, 0.0, 0.0, 0.0]
    decisions = simulate(np.random.default_rng(3), effects, sd=0.15, studies=100, adaptive=adaptive)
    assert np.mean([s[0].verdict == "better" for s in decisions]) >= 0.9
    assert np.mean([s[1].verdict == "worse" for s in decisions]) >= 0.9
    assert np.mean([s[2].verdict == "equivalent" for s in decisions]) >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("adaptive", [False, True])
def test_sequential_error_rates_many_studies(adaptive):
    rng = np.random.default_rng(4)
    null = simulate(rng, [0.0] * 7, studies=3000, adaptive=adaptive)
    assert np.mean([any(d.verdict in ("better", "worse") for d in s) for s in null]) <= 0.055
    margin = simulate(rng, [0.5] * 6 + [0.0], studies=3000, adaptive=adaptive)
    assert np.mean([any(d.verdict == "equivalent" for d in s) for s in margin]) <= 0.055


def test_decision_is_frozen_once_made():
    early = np.array([1.0, 1.1, 0.9])  # decided better at the first look (alpha 0.05, 1 look)
    later = np.array([1.0, 1.1, 0.9, -3.0, -3.0, -3.0])
    (decision,) = decide([[early], [later]], Design(looks=2, alpha=0.5))
    assert decision.verdict == "better" and decision.decided_at == 3


def test_undecided_states_mde_and_seeds_needed():
    rng = np.random.default_rng(5)
    diffs = rng.normal(0.3, 0.5, size=3)
    (decision,) = decide([[diffs]])
    assert decision.verdict == "undecided"
    assert decision.mde > abs(decision.interval.mean)
    assert decision.seeds_needed is None or decision.seeds_needed > 3
    assert math.isclose(
        decision.mde, minimum_detectable_effect(decision.interval.sd, 3, 0.05), rel_tol=1e-12
    )


def test_seeds_to_decide_grows_as_the_effect_shrinks():
    big = seeds_to_decide(1.0, 0.5, 3, 0.05, 0.5)
    small = seeds_to_decide(0.8, 0.5, 3, 0.05, 0.5)
    assert big is not None and small is not None and big <= small
    assert seeds_to_decide(0.5, 0.5, 3, 0.05, 0.5) is not None  # superiority decides it
    assert seeds_to_decide(0.25, 1e-9, 3, 0.05, 0.5) == 3


def test_tost_p_is_symmetric_and_bounded():
    x = np.array([0.1, -0.05, 0.02, 0.0])
    assert math.isclose(tost_p(x, 0.5), tost_p(-x, 0.5))
    assert 0.0 <= tost_p(x, 0.5) <= 1.0
    assert tost_p(x + 10, 0.5) > 0.99


def test_paired_and_slopes_use_common_seeds():
    a = {0: 1.0, 1: 2.0, 2: 3.0}
    b = {1: 1.5, 2: 2.0, 3: 0.0}
    assert paired(a, b).tolist() == [0.5, 1.0]
    by_x = {0.0: {0: 0.0, 1: 1.0}, 1.0: {0: 2.0, 1: 1.0}, 2.0: {0: 4.0, 1: 1.0, 5: 9.0}}
    assert per_seed_slopes(by_x).tolist() == [2.0, 0.0]

"""The statistics a verdict rests on, checked by simulation: coverage, error rates, power.

Fast versions run by default (a few hundred simulated studies, bounds with slack for that
Monte Carlo error); the ``slow`` versions use thousands and their measured numbers are in
docs/methods.md, printed by tools/simulate_inference.py (which imports the generators here).
:func:`family_study` simulates the report's real 11-comparison family decided by the report's
own code, with accuracies on the test-set grid, lost trials and the sweep's seed allocation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spectrum.stats.difference import Test as Settled
from spectrum.stats.difference import compare, settle
from spectrum.stats.inference import (
    Design,
    decide,
    minimum_detectable_effect,
    paired,
    per_seed_slopes,
    seeds_to_decide,
    t_interval,
    tost_p,
)
from spectrum.stats.looks import Plan
from spectrum.stats.plateau import Plateau, step_down

SEGMENTS = ("1", "2", "4", "8", "16", "32", "C")  # the matched-budget studies' g


def noise(rng, dist: str, size, sd: float = 1.0) -> np.ndarray:
    """Mean-zero noise: ``normal``, ``t3`` (heavy tails) or ``lognormal`` (centred exp(Z) - e^0.5,
    skewness 6.2) or ``lognormal0.17`` (sigma 0.17: skewness 0.5, the largest the committed
    studies' pooled differences allow), scaled to standard deviation ``sd``."""
    if dist == "normal":
        return sd * rng.standard_normal(size)
    if dist == "t3":
        return sd * rng.standard_t(3, size) / math.sqrt(3.0)
    sigma = 1.0 if dist == "lognormal" else float(dist.removeprefix("lognormal"))
    centred = np.exp(sigma * rng.standard_normal(size)) - math.exp(sigma**2 / 2)
    return sd * centred / math.sqrt((math.exp(sigma**2) - 1) * math.exp(sigma**2))


def coverage(rng, dist: str, n: int, studies: int) -> float:
    hits = 0
    for _ in range(studies):
        x = rng.standard_normal(n) if dist == "normal" else rng.standard_t(3, n)
        if dist.startswith("lognormal"):
            x = noise(rng, dist, n)
        interval = t_interval(x)
        hits += interval.ci_low <= 0.0 <= interval.ci_high
    return hits / studies


def simulate(
    rng, effects, *, sd=0.004, looks=(3, 6, 9, 12), margin=0.005, studies=200, adaptive=False
):
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
    from spectrum.stats.inference import paired_t_p

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
    effects, n = [0.005] * 6 + [0.0], STUDIES[adaptive]
    decisions = simulate(np.random.default_rng(2), effects, studies=n, adaptive=adaptive)
    assert np.mean([any(d.verdict == "equivalent" for d in s) for s in decisions]) <= bound(n)


@pytest.mark.parametrize("adaptive", [False, True])
def test_true_effects_and_equivalences_are_decided(adaptive):
    effects = [0.01, -0.01, 0.0, 0.0, 0.0]
    decisions = simulate(
        np.random.default_rng(3), effects, sd=0.0015, studies=100, adaptive=adaptive
    )
    assert np.mean([s[0].verdict == "better" for s in decisions]) >= 0.9
    assert np.mean([s[1].verdict == "worse" for s in decisions]) >= 0.9
    assert np.mean([s[2].verdict == "equivalent" for s in decisions]) >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("adaptive", [False, True])
def test_sequential_error_rates_many_studies(adaptive):
    rng = np.random.default_rng(4)
    null = simulate(rng, [0.0] * 7, studies=3000, adaptive=adaptive)
    assert np.mean([any(d.verdict in ("better", "worse") for d in s) for s in null]) <= 0.055
    margin = simulate(rng, [0.005] * 6 + [0.0], studies=3000, adaptive=adaptive)
    assert np.mean([any(d.verdict == "equivalent" for d in s) for s in margin]) <= 0.055


def test_decision_is_frozen_once_made():
    early = np.array([0.010, 0.011, 0.009])  # decided better at the first look (alpha 0.5, 2 looks)
    later = np.array([0.010, 0.011, 0.009, -0.03, -0.03, -0.03])
    (decision,) = decide([[early], [later]], Design(looks=2, alpha=0.5))
    assert decision.verdict == "better" and decision.decided_at == 3


def test_undecided_states_mde_and_seeds_needed():
    rng = np.random.default_rng(5)
    diffs = rng.normal(0.003, 0.005, size=3)
    (decision,) = decide([[diffs]])
    assert decision.verdict == "undecided"
    assert decision.mde > abs(decision.interval.mean)
    assert decision.seeds_needed is None or decision.seeds_needed > 3
    assert math.isclose(
        decision.mde, minimum_detectable_effect(decision.interval.sd, 3, 0.05), rel_tol=1e-12
    )


def test_seeds_to_decide_grows_as_the_effect_shrinks():
    big = seeds_to_decide(0.010, 0.005, 3, 0.05, 0.005)
    small = seeds_to_decide(0.008, 0.005, 3, 0.05, 0.005)
    assert big is not None and small is not None and big <= small
    assert seeds_to_decide(0.005, 0.005, 3, 0.05, 0.005) is not None  # superiority decides it
    assert seeds_to_decide(0.0025, 1e-9, 3, 0.05, 0.005) == 3


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


def pairs_of(labels) -> list[tuple[str, str]]:
    """The verdict's family: every g against C, and every other g against g = 1."""
    return [(g, "C") for g in labels if g != "C"] + [
        (g, "1") for g in labels if g not in ("1", "C")
    ]


def family_study(
    rng,
    effects,
    *,
    sd=0.004,
    looks=(3, 6, 9, 12),
    margin=0.005,
    grid=0.0,
    loss=0.0,
    dist="normal",
    adaptive=True,
):
    """One simulated study of the report's real family, decided by the report's own code.

    ``effects``: true accuracy of each g of :data:`SEGMENTS` relative to C (the last). Accuracies
    are 0.91 + effect + noise, rounded to ``grid`` (1 / test-set size) when given; each trial is
    lost (failed or diverged) with probability ``loss``. Seeds are given as ``--until-decided``
    gives them (``adaptive``; every seed to every g otherwise): after each look only the g of an
    undecided comparison get the next round, and every look is :func:`.stats.settle` on what was
    trained, with nothing pending. One look: a fixed study at ``looks[0]`` seeds. Returns the
    settled comparisons and the plateau's count of g reached (largest g first).
    """
    k, n_max = len(effects), looks[-1]
    labels = SEGMENTS[-k:] if k < len(SEGMENTS) else SEGMENTS
    acc = 0.91 + np.asarray(effects, dtype=float)[:, None] + noise(rng, dist, (k, n_max), sd)
    if grid:
        acc = np.round(acc / grid) * grid
    lost = rng.random((k, n_max)) < loss
    schedule = tuple(looks) if len(looks) > 1 else ()
    design = Design(margin=margin, looks=len(looks), resolution=grid)
    plan = Plan(design, margin * 100, "study", schedule, frozenset())
    seeds = [looks[0]] * k
    for next_look in (*looks[1:], None):
        samples = {
            g: {s: float(acc[j, s]) for s in range(seeds[j]) if not lost[j, s]}
            for j, g in enumerate(labels)
        }
        pairs = pairs_of(labels)
        tests = [Settled(difference=compare(samples[g], samples[r])) for g, r in pairs]
        settled = settle(tests, plan)
        open_ = {x for (g, r), t in zip(pairs, settled) if t.verdict == "undecided" for x in (g, r)}
        if next_look is None or not open_:
            break
        for j, g in enumerate(labels):
            if g in open_ or not adaptive:
                seeds[j] = next_look
    return settled, _plateau_reached(settled, pairs, plan)


def _plateau_reached(settled, pairs, plan) -> int:
    vs_c = sorted(
        ((int(g), t) for (g, r), t in zip(pairs, settled) if r == "C" and g.isdigit()),
        reverse=True,
    )
    looks = [n for n in plan.schedule if vs_c[0][1].look is not None and n <= vs_c[0][1].look]
    rows = []
    for look in looks or [None]:
        row = []
        for _, t in vs_c:
            d, s = np.asarray(t.difference.diffs), np.asarray(t.difference.seeds, dtype=float)
            row.append(d if look is None else d[s < look])
        rows.append(row)
    return step_down(rows, plan.design)


def family_rates(studies: int, seed: int, effects, **kwargs) -> dict[str, float]:
    """Family-wise rates over simulated studies: a false better/worse among comparisons whose
    true difference is 0, a false equivalence among those at or beyond the margin, and how
    often each verdict was reached."""
    rng = np.random.default_rng(seed)
    labels = SEGMENTS[-len(effects) :]
    truth = dict(zip(labels, effects))
    margin = kwargs.get("margin", 0.005)
    false_diff = false_eq = 0
    for _ in range(studies):
        settled, _ = family_study(rng, effects, **kwargs)
        true = [truth[g] - truth[r] for g, r in pairs_of(labels)]
        false_diff += any(t.conclusive and d == 0 for t, d in zip(settled, true))
        false_eq += any(
            t.verdict == "equivalent" and abs(d) >= margin - 1e-12 for t, d in zip(settled, true)
        )
    return {"false_better_worse": false_diff / studies, "false_equivalent": false_eq / studies}


def test_tied_differences_are_not_decided():
    # Accuracies move in steps of 1 / test-set size: two seeds can tie. A tie has no variance
    # to test against; it must not decide "better" (it did, at any level, with p = 0).
    (decision,) = decide([[np.array([0.0030, 0.0030])]], Design(margin=0.005, looks=4))
    assert decision.verdict == "undecided" and math.isnan(decision.p_value)
    # ...nor equivalent, nor when the tie is float noise of grid values
    a, b = {0: 0.9123, 1: 0.9200}, {0: 0.9093, 1: 0.9170}
    tie = compare(a, b)
    (settled,) = settle([Settled(difference=tie)], Design(margin=0.005))
    assert settled.verdict == "undecided"
    assert math.isnan(tie.p_value) and math.isnan(tie.ci_low)


@pytest.mark.parametrize("seeds", [2, 3])
def test_ties_on_the_accuracy_grid_keep_familywise_error(seeds):
    # Fixed studies on Fashion-MNIST's 0.01 pp grid, no true difference, the 11-comparison
    # family, per-seed sd 0.25 pp: ties decided "better"/"worse" at p = 0 before.
    n = 400
    rates = family_rates(n, 30 + seeds, [0.0] * 7, looks=(seeds,), grid=1e-4, sd=0.0025)
    assert rates["false_better_worse"] <= bound(n)


def test_a_lost_trial_leaves_a_look_over_the_pairs_present():
    # All equivalent at 6 seeds, but g = 4's seed 4 failed: the look at 6 must still count (it
    # froze the study at 3 seeds while the sweep trained up to 12), stating the loss.
    diffs = [0.002, -0.002, 0.0015, -0.0015, None, 0.0005]  # undecided at 3, equivalent at 6
    gs = {"C": {s: 0.91 + 0.001 * s for s in range(6)}}
    gs["4"] = {s: gs["C"][s] + d for s, d in enumerate(diffs) if d is not None}
    plan = Plan(Design(looks=4), 0.5, "study", (3, 6, 9, 12), frozenset())
    (t,) = settle([Settled(difference=compare(gs["4"], gs["C"]))], plan)
    assert t.verdict == "equivalent" and t.n_pairs == 5 and t.lost == 1 and t.look == 6
    assert t.pairs_text() == "5 (1 lost)"


def test_nothing_is_tested_before_the_first_look():
    # Round 1 (3 seeds) is running: seeds 0-1 of every g are done, seed 2 of C is not. A report
    # must not test g = 4 vs C on its first 2 pairs (it said "better", p = 0).
    a = {0: 0.9200, 1: 0.9201, 2: 0.9199}
    c = {0: 0.9100, 1: 0.9100}
    one = {0: 0.9000, 1: 0.9002, 2: 0.8998}
    tests = [Settled(difference=compare(x, y)) for x, y in ((a, c), (one, c), (a, one))]
    running = Plan(Design(looks=2), 0.5, "study", (3, 6), frozenset({2}))
    unknown = Plan(Design(looks=2), 0.5, "study", (3, 6))  # no study at hand: pairs must be there
    for plan in (running, unknown):
        settled = settle(tests, plan)
        assert [t.verdict for t in settled] == ["undecided"] * 3
        assert settled[0].waiting == 2 and settled[0].n_pairs == 0
    done = settle(tests, Plan(Design(looks=2), 0.5, "study", (3, 6), frozenset()))
    assert done[2].verdict == "better"  # once round 1 is over, its look tests what it has


@pytest.mark.parametrize("n", [3, 5, 12])
def test_power_at_the_mde_is_the_power_stated(n):
    # The MDE at 80% power: the paired t-test at that true effect rejects 80% of the time
    # (66-79% with the central-t shortcut).
    from spectrum.stats.inference import paired_t_p

    alpha, draws = 0.05 / 4 / 6, 4000
    effect = minimum_detectable_effect(1.0, n, alpha)
    rng = np.random.default_rng(n)
    hits = sum(paired_t_p(rng.normal(effect, 1.0, n)) <= alpha for _ in range(draws))
    assert abs(hits / draws - 0.8) <= 3 * math.sqrt(0.16 / draws)


def test_one_unit_end_to_end():
    # Accuracies are fractions: a margin of 0.5 can only be 0.5 pp passed as a fraction.
    with pytest.raises(ValueError, match="percentage-point"):
        Design(margin=0.5)
    with pytest.raises(ValueError, match="percentage points"):
        decide([[np.array([1.2, 0.8, 1.1])]])
    # settle without a plan: the default margin is 0.5 pp, so -2 pp is not "equivalent"
    a = {s: 0.90 + 0.001 * s for s in range(6)}
    b = {s: 0.92 + 0.001 * s + 0.0003 * (-1) ** s for s in range(6)}
    (t,) = settle([Settled(difference=compare(a, b))])
    assert t.verdict == "worse" and not t.within_margin and t.margin == 0.005


def test_step_down_reaches_the_flat_part_only():
    flat = np.array([0.0005, -0.0004, 0.0002, -0.0001, 0.0003, -0.0002])
    off = flat - 0.02  # far outside the margin
    design = Design(margin=0.005)
    assert step_down([[flat, flat, off, flat]], design) == 2  # stops at the first failure
    assert step_down([[off, flat]], design) == 0
    assert Plateau(("32", "16"), 1, (0.0, 0.5), 0.05, 0.005, 6).start == "32"


def test_plateau_false_equivalence_at_the_margin():
    # Flat from g = 16 on, g = 8 exactly at the margin below C: claiming the plateau starts at
    # g <= 8 is an error; its rate must stay at alpha (fixed-sequence testing).
    n = 300
    rng = np.random.default_rng(11)
    effects = [-0.010, -0.008, -0.006, -0.005, 0.0, 0.0, 0.0]
    wrong = sum(family_study(rng, effects, looks=(6,))[1] >= 3 for _ in range(n))
    assert wrong / n <= bound(n)


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [2, 3])
def test_ties_on_the_grid_many_studies(seeds):
    # the cells of tools/simulate_inference.py: fixed (2,000 studies) and sequential to 12 (1,000)
    for looks, studies in (((seeds,), 2000), (tuple(range(seeds, 13, seeds)), 1000)):
        rates = family_rates(studies, 40 + seeds, [0.0] * 7, looks=looks, grid=1e-4, sd=0.0025)
        assert rates["false_better_worse"] <= bound(studies)


@pytest.mark.slow
def test_random_trial_losses_keep_error_rates():
    # 10% of trials lost at random, the sweep's allocation (tools/simulate_inference.py's cells)
    null = family_rates(1000, 50, [0.0] * 7, grid=1e-4, loss=0.1)
    assert null["false_better_worse"] <= bound(1000)
    margin = family_rates(1000, 51, [0.005] * 6 + [0.0], grid=1e-4, loss=0.1)
    assert margin["false_equivalent"] <= bound(1000)

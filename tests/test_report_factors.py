"""Tests of the factor comparisons (spectrum.stats.factors) on small synthetic sweeps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_report import add_complete, new_sweep, record

from spectrum.report import build_factors, holm, trial_frame, usable_sweep, write_report
from spectrum.report.document import Document
from spectrum.report.render_md import render_markdown
from spectrum.report.sections.factors import factor_blocks
from spectrum.stats.factors import CSV_COLUMNS
from spectrum.stats.looks import plan_of

SEED_EFFECT = [0.004, -0.003, 0.001, -0.002, 0.0]


def sweep(means: dict, seeds=range(5), noise=0.002, rng_seed=3, skip=()):
    """A study with one configuration per key of ``means``.

    Keys are (segments, activation, residual, order); values the mean test accuracy. Every
    seed shares a seed effect (a paired design) plus per-run noise.
    """
    study = new_sweep(sorted({k[0] for k in means}), list(seeds))
    rng = np.random.default_rng(rng_seed)
    for (g, activation, residual, order), mean in means.items():
        for seed in seeds:
            if (g, activation, residual, order, seed) in skip:
                continue
            acc = mean + SEED_EFFECT[seed % 5] + rng.normal(0, noise)
            add_complete(
                study,
                record(
                    g,
                    seed,
                    round(float(acc), 5),
                    activation=activation,
                    residual=residual,
                    order=order,
                ),
            )
    return study


def factors_of(study, **kwargs):
    return build_factors(usable_sweep(trial_frame(study)), **kwargs)


def markdown(report) -> str:
    return render_markdown(Document("t", factor_blocks(report)))


DW, PW = "depthwise-first", "pointwise-first"


def activation_sweep(none, relu, elu, **kwargs):
    return sweep(
        {("C", "none", True, DW): none, ("C", "relu", True, DW): relu, ("C", "elu", True, DW): elu},
        **kwargs,
    )


# --- activation (Figure 10) -------------------------------------------------------------------


def test_clear_activation_effect_agrees_with_figure_10():
    report = factors_of(activation_sweep(0.90, 0.86, 0.87))
    assert report.varied == ("activation",)
    (verdict,) = report.factors
    assert verdict.status == "agrees"
    assert [t.level for t in verdict.comparisons] == ["relu", "elu"]
    for t in verdict.comparisons:
        assert t.reference == "none" and t.method == "paired-t" and t.n_pairs == 5
        assert t.conclusive and t.favours == "none" and t.ci_high < 0
    relu = verdict.comparisons[0]
    assert relu.mean_diff == pytest.approx(-0.04, abs=0.004)
    assert "Figure 10" in verdict.sentence
    assert "agrees with the paper" in verdict.sentence
    assert "intermediate ReLU vs no intermediate activation: worse at g = C" in verdict.sentence
    assert not report.interactions  # only g = C was trained


def test_activation_that_beats_none_contradicts_figure_10():
    report = factors_of(activation_sweep(0.88, 0.92, 0.881))
    (verdict,) = report.factors
    assert verdict.status == "contradicts"
    relu, elu = verdict.comparisons
    assert relu.favours == "relu" and not elu.conclusive
    assert "contradicts the paper" in verdict.sentence
    assert "intermediate ReLU vs no intermediate activation: better at g = C" in verdict.sentence


def test_partial_agreement_names_what_is_inconclusive():
    report = factors_of(activation_sweep(0.90, 0.86, 0.8995))
    (verdict,) = report.factors
    assert verdict.status == "agrees in part"
    assert (
        "agrees in part" in verdict.sentence
        and "1 comparison is equivalent within ±0.50 pp" in verdict.sentence
    )
    # ELU at 0.05 pp below none, 0.2 pp noise: equivalence within the default 0.5 pp margin.
    assert verdict.comparisons[1].verdict == "equivalent"


def test_noise_is_inconclusive():
    report = factors_of(activation_sweep(0.90, 0.90, 0.90, noise=0.01, rng_seed=11))
    (verdict,) = report.factors
    assert verdict.status == "undecided"
    assert not any(t.conclusive for t in report.tests)
    assert all(t.verdict == "undecided" for t in report.tests)
    assert "neither support nor contradict" in verdict.sentence


# --- residual (Figure 9) and op order ---------------------------------------------------------


def test_residual_effect_agrees_with_figure_9():
    report = factors_of(sweep({("C", "none", True, DW): 0.90, ("C", "none", False, DW): 0.85}))
    (verdict,) = report.factors
    assert verdict.factor == "residual" and verdict.reference is True
    assert verdict.status == "agrees" and verdict.comparisons[0].favours is True
    assert "Figure 9" in verdict.sentence and "no residual vs residual: worse" in verdict.sentence
    assert "not convergence speed" in verdict.sentence


def order_sweep(pw_shift, noise, rng_seed=5):
    return sweep(
        {
            ("4", "none", True, DW): 0.90,
            ("4", "none", True, PW): 0.90 + pw_shift,
            ("C", "none", True, DW): 0.88,
            ("C", "none", True, PW): 0.88 + pw_shift,
        },
        noise=noise,
        rng_seed=rng_seed,
    )


def test_order_small_and_inconclusive_is_consistent_not_proven():
    report = factors_of(order_sweep(0.0, noise=0.001))
    (verdict,) = report.factors
    assert [t.context for t in verdict.comparisons] == ["g = 4", "g = C"]
    assert not any(t.conclusive for t in verdict.comparisons)
    assert all(abs(t.ci_low) <= 0.01 and abs(t.ci_high) <= 0.01 for t in verdict.comparisons)
    assert verdict.status == "agrees"
    assert all(t.verdict == "equivalent" for t in verdict.comparisons)
    assert "agrees with the paper" in verdict.sentence
    assert "equivalent within ±0.50 pp in every comparison" in verdict.sentence


def test_order_wide_cis_stay_inconclusive_and_a_clear_gap_contradicts():
    wide = factors_of(order_sweep(0.0, noise=0.03, rng_seed=2)).factors[0]
    assert not any(t.conclusive for t in wide.comparisons)
    assert wide.status == "undecided" and all(t.verdict == "undecided" for t in wide.comparisons)
    assert "not shown equivalent within ±0.50 pp" in wide.sentence
    assert "undecided is not proof of equality" in wide.sentence and "MDE" in wide.sentence
    gap = factors_of(order_sweep(-0.03, noise=0.002)).factors[0]
    assert gap.status == "contradicts" and "op order matters here" in gap.sentence
    assert "favours depthwise-first at g = 4" in gap.sentence
    assert "a decided difference, not shown to lie within ±0.50 pp" in gap.sentence


def test_a_near_miss_names_the_level_of_a_sequential_studys_looks():
    study = sweep(
        {("4", "none", True, DW): 0.90, ("4", "none", True, PW): 0.904},
        seeds=range(6),
        noise=0.003,
        rng_seed=0,
    )
    plan = plan_of({"seed_schedule": {"start": 3, "step": 3, "max": 12}})  # 4 looks
    sentence = factors_of(study, plan=plan).factors[0].sentence
    assert "excludes zero, but the test does not reach Holm p < 0.0125" in sentence


# --- Holm -------------------------------------------------------------------------------------


def test_holm_runs_over_all_factor_tests():
    # Residual off is a little worse at g = 4 only (raw paired p ~ 0.025); noise elsewhere.
    # Four comparisons: Holm lifts that p above 0.05, so it must not count.
    base = [0.90, 0.91, 0.89, 0.90]
    shifts = {
        "1": [0.003, -0.002, 0.001, -0.004],
        "4": [-0.010, -0.003, -0.008, -0.005],
        "32": [0.001, -0.003, 0.004, -0.002],
        "C": [-0.004, 0.002, 0.0, 0.003],
    }
    study = new_sweep(list(shifts), range(4))
    for g, shift in shifts.items():
        for seed in range(4):
            add_complete(study, record(g, seed, base[seed], residual=True))
            add_complete(study, record(g, seed, round(base[seed] + shift[seed], 5), residual=False))
    report = factors_of(study)
    assert len(report.tests) == 4
    raw = [t.p_value for t in report.tests]
    assert [t.p_holm for t in report.tests] == pytest.approx(holm(raw), nan_ok=True)
    four = [t for t in report.tests if t.segments == "4"][0]
    assert four.p_value < 0.05 and four.ci_high < 0  # significant before correction ...
    assert four.p_holm >= 0.05 and not four.conclusive  # ... but not after Holm
    assert report.factors[0].status == "undecided"
    assert (
        "The 95% CI of no residual at g = 4 excludes zero, but the test does not reach "
        "Holm p < 0.05" in report.factors[0].sentence
    )
    for t in report.tests:
        assert t.conclusive == ((t.ci_low > 0 or t.ci_high < 0) and t.p_holm < 0.05)


# --- interaction with depth -------------------------------------------------------------------

RELU_EFFECT = {"1": 0.02, "4": 0.01, "32": 0.0, "C": -0.02}


def depth_sweep(**kwargs):
    means = {}
    for g, effect in RELU_EFFECT.items():
        means[(g, "none", True, DW)] = 0.90
        means[(g, "relu", True, DW)] = 0.90 + effect
    return sweep(means, **kwargs)


def test_activation_by_segments_interaction():
    report = factors_of(depth_sweep(seeds=range(4)))
    (verdict,) = report.factors
    assert [t.segments for t in verdict.comparisons] == ["1", "4", "32", "C"]
    assert verdict.status == "mixed"  # ReLU helps at small g, hurts at g = C
    (inter,) = report.interactions
    assert inter.testable and inter.status == "as predicted"
    assert [d.segments for d in inter.differences] == ["1", "4", "32", "C"]
    assert [c.segments for c in inter.contrasts] == ["1", "4", "32"]
    one = inter.contrasts[0]
    assert one.vs_segments == "C" and one.method == "paired-t" and one.n_pairs == 4
    assert one.mean_diff == pytest.approx(0.04, abs=0.004) and one.conclusive
    assert one.mean_level == pytest.approx(inter.differences[0].mean_diff)
    assert one.mean_reference == pytest.approx(inter.differences[-1].mean_diff)
    # The Holm family holds the 4 comparisons and the 3 contrasts.
    assert len(report.tests) == 7
    assert [t.p_holm for t in report.tests] == pytest.approx(
        holm([t.p_value for t in report.tests])
    )
    md = markdown(report)
    assert "### Interaction: intermediate ReLU and depth" in md
    assert "as the paper's explanation predicts" in md
    assert "The full prediction shows: intermediate ReLU conclusively helps at g = 1" in md
    assert "and conclusively hurts at g = C." in md
    assert "| 1 | " in md and "(reference)" in md


def test_interaction_without_pairing_cannot_be_tested():
    study = new_sweep(["1", "C"], range(6))
    rng = np.random.default_rng(0)
    # Each g has its own seeds: differences pair within g but not across g.
    for g, seeds in (("1", (0, 1, 2)), ("C", (3, 4, 5))):
        for seed in seeds:
            for activation in ("none", "relu"):
                acc = 0.9 + RELU_EFFECT[g] * (activation == "relu") + rng.normal(0, 0.002)
                add_complete(study, record(g, seed, round(float(acc), 5), activation=activation))
    report = factors_of(study)
    (inter,) = report.interactions
    assert not inter.testable and inter.status == "cannot be tested"
    (contrast,) = inter.contrasts
    assert contrast.method == "none" and math.isnan(contrast.p_value)
    assert contrast.mean_diff == pytest.approx(0.04, abs=0.006)  # point estimate still given
    assert "cannot be tested" in inter.sentence
    assert len([t for t in report.tests if math.isfinite(t.p_value)]) == 2  # not in Holm


# --- robustness -------------------------------------------------------------------------------


def test_single_seed_single_level_and_missing_trials():
    one = factors_of(activation_sweep(0.90, 0.86, 0.87, seeds=[0]))
    assert all(t.method == "none" and not t.conclusive for t in one.tests)
    assert one.factors[0].status == "undecided"
    assert "too few seeds for a CI or a test" in one.factors[0].sentence

    flat = factors_of(sweep({("4", "none", True, DW): 0.9, ("C", "none", True, DW): 0.9}))
    assert flat.varied == () and not flat.tests and flat.frame().empty
    assert "nothing to compare" in markdown(flat)

    # ReLU missing at g = 4, and one seed of none missing at g = 1.
    gappy = depth_sweep(
        skip={("1", "none", True, DW, 4)} | {("4", "relu", True, DW, s) for s in range(5)}
    )
    report = factors_of(gappy)
    verdict = report.factors[0]
    assert [t.segments for t in verdict.comparisons] == ["1", "32", "C"]
    assert verdict.comparisons[0].n_pairs == 4
    assert verdict.gaps == ("g = 4: intermediate ReLU not trained",)
    assert "Not compared where a level is missing" in markdown(report)
    assert [c.segments for c in report.interactions[0].contrasts] == ["1", "32"]

    no_reference = factors_of(sweep({("C", "relu", True, DW): 0.9, ("C", "elu", True, DW): 0.9}))
    assert no_reference.factors[0].status == "not tested"
    assert "was not trained" in no_reference.factors[0].sentence


def test_build_is_deterministic():
    study = depth_sweep(seeds=range(3))
    assert factors_of(study) == factors_of(study)
    assert markdown(factors_of(study)) == markdown(factors_of(study))


# --- files ------------------------------------------------------------------------------------


def test_report_has_the_section_and_factors_csv(tmp_path):
    study = depth_sweep(seeds=range(3))
    md = write_report(study, tmp_path).read_text()
    assert md.index("## The verdict") < md.index("## Factor comparisons") < md.index("## Summary")
    assert "validation accuracy is not used here" in md
    assert "Factor comparisons" in (tmp_path / "report.html").read_text()
    csv = pd.read_csv(tmp_path / "factors.csv", dtype={"segments": str, "vs_segments": str})
    assert list(csv.columns) == CSV_COLUMNS
    assert list(csv["kind"]) == ["comparison"] * 4 + ["interaction"] * 3
    assert list(csv["segments"]) == ["1", "4", "32", "C", "1", "4", "32"]
    expected = factors_of(study).tests
    np.testing.assert_allclose(csv["p_holm"], [t.p_holm for t in expected])
    np.testing.assert_allclose(csv["mean_diff"], [t.mean_diff for t in expected])
    assert "factors.csv" in md

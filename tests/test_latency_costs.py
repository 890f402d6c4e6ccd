"""Latency against FLOPs and activations: the rank correlations, the figure, old studies."""

from __future__ import annotations

import itertools
import math

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import create_trial
from scipy import stats
from synthetic_study import sweep_record, synthetic_sweep

from spectrum.report import summarize, trial_frame, usable_sweep, write_report
from spectrum.report.analysis.design import design_of
from spectrum.report.figures import latency_costs
from spectrum.stats.latency import cost_correlations, rank_correlation

# FLOPs fall with g (18 M, 6 M, 2 M) but latency does not: g = 4 is fastest, g = 1 slowest.
# Activations follow latency exactly, so they rank it perfectly and FLOPs only partly.
LATENCY = {"1": 9.0, "4": 3.0, "C": 5.0}
ACTIVATIONS = {"1": 90_000, "4": 30_000, "C": 50_000}


def study_of(records) -> optuna.Study:
    """A sweep with the shared synthetic study's attributes and these trial records."""
    fresh = optuna.create_study(direction="maximize", study_name="latency-costs")
    for key, value in synthetic_sweep().user_attrs.items():
        fresh.set_user_attr(key, value)
    for attrs in records:
        fresh.add_trial(create_trial(value=attrs["val_acc"], user_attrs=attrs))
    return fresh


def activation_led(segments=("1", "4", "C"), seeds=range(3)) -> optuna.Study:
    records = []
    for g in segments:
        for seed in seeds:
            attrs = sweep_record(g, seed)
            attrs["latency_ms"] = LATENCY[g] + 0.01 * seed
            attrs["activations"] = ACTIVATIONS[g]
            records.append(attrs)
    return study_of(records)


def summary_of(study) -> pd.DataFrame:
    return summarize(usable_sweep(trial_frame(study)))


def brute_force_p(x, y) -> float:
    """Two-sided p of Spearman's rho by enumerating every pairing (the definition)."""
    observed = stats.spearmanr(x, y).statistic
    rhos = [stats.spearmanr(x, perm).statistic for perm in itertools.permutations(y)]
    return float(np.mean([abs(r) >= abs(observed) - 1e-12 for r in rhos]))


def test_activations_rank_latency_when_flops_do_not():
    summary = summary_of(activation_led())
    assert list(summary["activations_mean"]) == [ACTIVATIONS[g] for g in summary["segments"]]
    costs = cost_correlations(summary)
    assert len(costs.points) == 3 and costs.flops.n == costs.activations.n == 3
    assert costs.activations.rho == pytest.approx(1.0) and costs.activations.tau == pytest.approx(1)
    assert costs.flops.rho == pytest.approx(0.5) and costs.flops.tau == pytest.approx(1 / 3)
    flops = summary["flops_mean"].to_numpy(float)
    latency = summary["latency_ms_mean"].to_numpy(float)
    assert costs.flops.rho_p == pytest.approx(brute_force_p(flops, latency)) == 1.0  # |rho| >= .5
    assert costs.activations.rho_p == pytest.approx(1 / 3)  # 3! pairings, 2 as extreme
    sentence = costs.sentence()
    assert sentence.startswith("Over 3 configurations, latency rank-correlates with FLOPs at ")
    assert "Spearman rho = 0.50" in sentence and "activations at Spearman rho = 1.00" in sentence
    assert "activations order the latencies more closely than FLOPs do" in sentence


def test_spearman_p_is_the_permutation_p_and_reproducible():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=6), rng.normal(size=6)
    corr = rank_correlation("flops", x, y)
    assert corr.rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert corr.rho_p == pytest.approx(brute_force_p(x, y))  # 6! = 720 pairings: exact
    assert corr.tau_p == pytest.approx(stats.kendalltau(x, y).pvalue)
    big = rank_correlation("flops", np.arange(12.0), np.arange(12.0) ** 2)
    assert big.rho == pytest.approx(1.0) and big.rho_p < 0.001  # sampled pairings, fixed seed
    assert big.rho_p == rank_correlation("flops", np.arange(12.0), np.arange(12.0) ** 2).rho_p


def test_too_few_constant_or_missing_costs_are_not_computed():
    few = rank_correlation("flops", [1.0, 2.0], [3.0, 4.0])
    assert not few.computed and "at least 3" in few.reason and math.isnan(few.rho)
    same = rank_correlation("activations", [65_344] * 4, [1.0, 2.0, 3.0, 4.0])
    assert not same.computed and "the same (65.3 k) in every configuration" in same.reason
    missing = rank_correlation("activations", [math.nan] * 4, [1.0, 2.0, 3.0, 4.0])
    assert missing.n == 0 and "not recorded" in missing.reason
    two = cost_correlations(summary_of(activation_led(segments=("1", "4"))))
    assert two.sentence().startswith("Only 2 configurations have a measured latency")


def test_figure_and_sentence_in_both_renderings(tmp_path):
    write_report(activation_led(), tmp_path)
    for ext in ("png", "svg"):
        path = tmp_path / f"latency_costs.{ext}"
        assert path.is_file() and path.stat().st_size > 1000, path
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "### Latency vs FLOPs and activations" in md
    for page in (md, html):
        assert "latency rank-correlates with FLOPs at Spearman rho = 0.50" in page
        assert "with activations at Spearman rho = 1.00" in page
    assert "Latency vs FLOPs and activations" in html
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"segments": str})
    assert dict(zip(summary["segments"], summary["activations_mean"])) == ACTIVATIONS


def test_study_without_activations_still_renders(tmp_path):
    records = []
    for g in ("1", "4", "C"):
        for seed in range(3):
            attrs = sweep_record(g, seed)
            del attrs["activations"]  # a trial recorded before activations were counted
            records.append(attrs)
    md = write_report(study_of(records), tmp_path).read_text()
    assert (tmp_path / "latency_costs.png").stat().st_size > 1000
    assert "activations were not recorded (the trials predate the count)" in md
    assert "latency rank-correlates with FLOPs at Spearman rho = 1.00" in md
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert "activations_mean" in summary and summary["activations_mean"].isna().all()


def test_equal_activations_and_no_latency(tmp_path):
    # The shared synthetic sweep: unmatched widths, so every g writes the same activations.
    costs = cost_correlations(summary_of(synthetic_sweep()))
    assert costs.flops.computed and not costs.activations.computed
    assert "activations are the same (65.3 k)" in costs.sentence()
    records = []
    for g in ("1", "4", "C"):
        attrs = sweep_record(g, 0)
        del attrs["latency_ms"]
        records.append(attrs)
    usable = usable_sweep(trial_frame(study_of(records)))
    none = cost_correlations(summarize(usable))
    assert not none.measured
    plot = latency_costs.draw(none, design_of(usable), tmp_path)
    assert not plot.drawn and "no configuration has a measured latency" in plot.note
    assert not (tmp_path / "latency_costs.png").exists()

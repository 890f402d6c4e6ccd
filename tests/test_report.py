"""Tests of spectrum.report on small synthetic Optuna studies with known outcomes."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from spectrum.errors import SpecError
from spectrum.net.xception import PROXY_WIDTHS
from spectrum.report import build_verdict, holm, summarize, trial_frame, usable_sweep, write_report
from spectrum.report.analysis.edf import complexity_weights, edf_at, edf_steps
from spectrum.report.analysis.pareto import non_dominated
from spectrum.report.analysis.search_study import importances, objectives
from spectrum.report.document import Document
from spectrum.report.render_md import render_markdown
from spectrum.report.sections.provenance import code_text, counts_text, precision_text
from spectrum.report.sections.verdict import verdict_blocks
from spectrum.stats.frames import usable_search
from spectrum.stats.inference import t_interval

optuna.logging.set_verbosity(optuna.logging.WARNING)

SWEEP_FIGURES = (
    "forest",
    "accuracy_vs_segments",
    "pareto_params",
    "pareto_flops",
    "pareto_latency",
    "curves",
    "edf",
    "speed",
    "latency_costs",
)
G_INT = {"1": 1, "4": 4, "32": 32, "C": 128}
PARAMS = {"1": 900_000, "4": 300_000, "32": 150_000, "C": 120_000}
FLOPS = {"1": 40_000_000, "4": 14_000_000, "32": 7_000_000, "C": 6_000_000}
# Depthwise (C) has the fewest FLOPs but is slower than g = 32: a latency/FLOPs disagreement.
LATENCY = {"1": 9.0, "4": 5.0, "32": 3.0, "C": 4.0}


def record(
    segments,
    seed,
    test_acc,
    *,
    order="depthwise-first",
    activation="none",
    residual=True,
    match="none",
    latency=True,
    params_jitter=0,
    epochs=4,
):
    curve = [
        {
            "epoch": e,
            "train_loss": 2.0 / e + 0.01 * seed,
            "val_acc": test_acc - 0.1 / e,
            "seconds": 1.0,
            "images_per_s": 900.0 / (1 + G_INT[segments] % 7),
        }
        for e in range(1, epochs + 1)
    ]
    attrs = {
        "kind": "sweep",
        "grid_key": f"{segments}|{order}|{activation}|{residual}|{seed}",
        "segments": segments,
        "order": order,
        "activation": activation,
        "residual": residual,
        "seed": seed,
        "match": match,
        "width_multiplier": 1.0,
        "params": PARAMS[segments] + params_jitter,
        "flops": FLOPS[segments] + params_jitter,
        "train_step_ms": 20.0 + G_INT[segments] % 5,
        "latency_batch": 64,
        "device": "cpu",
        "curve": curve,
        "val_acc": test_acc - 0.005,
        "test_acc": test_acc,
        "status": "complete",
        "error": None,
        "wall_time_s": 12.0,
        "dataset": "synthetic",
        "train": {"epochs": epochs, "batch_size": 64, "lr": 0.05},
        "versions": {"torch": "2.5.0", "optuna": optuna.__version__},
        "net": {"preset": "proxy-28", "widths": dict(PROXY_WIDTHS), "flows": {}},
    }
    if latency:
        attrs["latency_ms"] = LATENCY[segments]
    return attrs


def new_sweep(segments, seeds, *, match="none", activations=("none",)):
    study = optuna.create_study(direction="maximize", study_name="synthetic-sweep")
    study.set_user_attr("kind", "sweep")
    study.set_user_attr("command", "spectrum sweep --segments 1,4,32,C --seeds 0,1,2,3,4")
    study.set_user_attr("dataset", "synthetic")
    study.set_user_attr("train", {"epochs": 4, "batch_size": 64, "lr": 0.05})
    study.set_user_attr("device", "cpu")
    study.set_user_attr("versions", {"torch": "2.5.0", "optuna": optuna.__version__})
    study.set_user_attr(
        "grid",
        {
            "segments": list(segments),
            "orders": ["depthwise-first"],
            "activations": list(activations),
            "residual": [True],
            "seeds": list(seeds),
            "match": match,
            "preset": "proxy-28",
        },
    )
    return study


def add_complete(study, attrs):
    study.add_trial(create_trial(value=attrs["val_acc"], user_attrs=attrs))


def add_unusable(study):
    """One diverged, one failed and one running trial: listed, never in the statistics."""
    diverged = record("4", 99, 0.1)
    for key in ("val_acc", "test_acc"):
        diverged.pop(key)
    diverged.update(status="diverged", error="loss became NaN at epoch 2")
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs=diverged))
    failed = {
        "kind": "sweep",
        "segments": "32",
        "order": "depthwise-first",
        "activation": "none",
        "residual": True,
        "seed": 98,
        "status": "failed",
        "error": "RuntimeError: out of memory",
    }
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs=failed))
    study.add_trial(
        create_trial(
            state=TrialState.RUNNING,
            user_attrs={
                "kind": "sweep",
                "segments": "C",
                "seed": 97,
                "order": "depthwise-first",
                "activation": "none",
                "residual": True,
            },
        )
    )


# Seed effects shared by every g (paired design), plus a little per-run noise.
SEED_EFFECT = [0.004, -0.003, 0.001, -0.002, 0.0]
MEANS = {"1": 0.90, "4": 0.95, "32": 0.91, "C": 0.90}


def winner_study():
    """g = 4 is clearly best (by 4-5 pp) across 5 seeds; two activations."""
    study = new_sweep(["1", "4", "32", "C"], range(5), activations=("none", "relu"))
    rng = np.random.default_rng(1)
    for activation in ("none", "relu"):
        for g in ("1", "4", "32", "C"):
            for seed in range(5):
                acc = MEANS[g] + SEED_EFFECT[seed] + rng.normal(0, 0.002)
                add_complete(study, record(g, seed, round(float(acc), 5), activation=activation))
    add_unusable(study)
    return study


def noise_study(seeds=5):
    """Every g draws from the same distribution: nothing can be concluded."""
    study = new_sweep(["1", "4", "C"], range(seeds))
    rng = np.random.default_rng(7)
    for g in ("1", "4", "C"):
        for seed in range(seeds):
            add_complete(study, record(g, seed, round(float(0.9 + rng.normal(0, 0.01)), 5)))
    return study


def verdict_of(study):
    usable = usable_sweep(trial_frame(study))
    return build_verdict(usable, summarize(usable), match="none")


@pytest.fixture(scope="module")
def winner():
    return winner_study()


@pytest.fixture(scope="module")
def report_dir(winner, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    path = write_report(winner, out, storage_label="sqlite:///synthetic.db")
    assert path == out / "report.md"
    return out


# --- statistics -------------------------------------------------------------------------------


def test_holm_known_vector():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1, monotone
    adjusted = holm([0.02, float("nan"), 0.01])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.02)
    assert math.isnan(adjusted[1])


def test_t_interval_is_the_textbook_one():
    values = [0.80, 0.82, 0.84, 0.86, 0.88]
    interval = t_interval(values)
    # t(0.975, 4) = 2.7764; sd = 0.031623
    half = 2.7764451 * np.std(values, ddof=1) / math.sqrt(len(values))
    assert interval.ci_low == pytest.approx(0.84 - half, abs=1e-6)
    assert interval.ci_high == pytest.approx(0.84 + half, abs=1e-6)
    one = t_interval([0.9])
    assert math.isnan(one.ci_low) and math.isnan(one.ci_high)


def test_edf_counts_strictly_below_and_normalisation_weights():
    errors = [0.1, 0.2, 0.2, 0.4]
    assert edf_at(errors, 0.2) == pytest.approx(0.25)  # strictly below
    assert edf_at(errors, 0.21) == pytest.approx(0.75)
    x, f = edf_steps(errors)
    assert list(x) == [0.1, 0.2, 0.4] and list(f) == pytest.approx([0.25, 0.75, 1.0])
    # g "a" has mostly small models, g "b" mostly large: weights equalise the two bins.
    complexity = [10, 10, 10, 1000, 10, 1000, 1000, 1000]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    norm = complexity_weights(complexity, groups, n_bins=2)
    assert norm.applicable
    w = norm.weights
    assert w[:4] == pytest.approx([1 / 6, 1 / 6, 1 / 6, 1 / 2])
    assert w[4:] == pytest.approx([1 / 2, 1 / 6, 1 / 6, 1 / 6])
    assert not complexity_weights([10, 10, 20], ["a", "a", "b"]).applicable


def test_non_dominated():
    values = [[0.9, 100], [0.8, 50], [0.85, 200], [0.9, 100.5], [0.7, 40]]
    assert list(non_dominated(values, (True, False))) == [True, True, False, False, True]


# --- tables -----------------------------------------------------------------------------------


def test_results_csv_matches_storage(winner, report_dir):
    results = pd.read_csv(report_dir / "results.csv")
    trials = winner.get_trials()
    assert list(results["trial"]) == [t.number for t in trials]
    expected = [t.user_attrs.get("test_acc", np.nan) for t in trials]
    np.testing.assert_allclose(results["test_acc"].to_numpy(dtype=float), expected)
    assert set(results["status"]) == {"complete", "diverged", "failed", "running"}


def test_summary_csv_means_and_ci(winner, report_dir):
    summary = pd.read_csv(report_dir / "summary.csv", dtype={"segments": str})
    assert len(summary) == 8  # 4 g x 2 activations; failed/running trials do not add rows
    row = summary[(summary["segments"] == "4") & (summary["activation"] == "none")].iloc[0]
    accs = [
        t.user_attrs["test_acc"]
        for t in winner.get_trials()
        if t.state == TrialState.COMPLETE
        and t.user_attrs["segments"] == "4"
        and t.user_attrs["activation"] == "none"
    ]
    assert row["n_seeds"] == 5 == len(accs)
    assert row["test_acc_mean"] == pytest.approx(np.mean(accs))
    assert row["test_acc_std"] == pytest.approx(np.std(accs, ddof=1))
    interval = t_interval(accs)
    assert (row["test_acc_ci_low"], row["test_acc_ci_high"]) == pytest.approx(
        (interval.ci_low, interval.ci_high)
    )
    assert row["test_acc_ci_low"] < row["test_acc_mean"] < row["test_acc_ci_high"]
    assert row["params_mean"] == PARAMS["4"] and row["latency_ms_mean"] == LATENCY["4"]
    assert row["train_images_per_s_mean"] == pytest.approx(64 / (20.0 + 4) * 1000)


# --- files ------------------------------------------------------------------------------------


def test_every_figure_written(report_dir):
    for name in SWEEP_FIGURES:
        for ext in ("png", "svg"):
            path = report_dir / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path


def test_html_is_self_contained(report_dir):
    page = (report_dir / "report.html").read_text()
    sources = re.findall(r'\b(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', page, flags=re.I)
    assert sources, "figures should be embedded"
    assert all(s.startswith("data:image/png;base64,") for s in sources), sources
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert page.count("<img") == len(SWEEP_FIGURES)


def test_report_lists_provenance_and_excluded_trials(report_dir):
    md = (report_dir / "report.md").read_text()
    assert "spectrum sweep --segments 1,4,32,C --seeds 0,1,2,3,4" in md
    assert "sqlite:///synthetic.db" in md
    assert "43 in total: 40 complete, 1 failed, 1 diverged, 1 running" in md
    assert "loss became NaN at epoch 2" in md and "RuntimeError: out of memory" in md
    for name in SWEEP_FIGURES:
        assert f"]({name}.png)" in md


def test_queued_trials_are_counted_apart_from_running_ones():
    study = optuna.create_study()
    study.enqueue_trial({"x": 1.0})  # a sequential sweep's next round, not started yet
    study.enqueue_trial({"x": 2.0})
    study.ask()  # the first queued one is now running
    frame = trial_frame(study)
    assert list(frame["status"]) == ["running", "queued"]
    assert counts_text(frame).endswith("1 running, 0 pruned, 0 infeasible, 1 queued.")


# --- verdict ----------------------------------------------------------------------------------


def test_verdict_names_the_clear_winner(winner, report_dir):
    verdict = verdict_of(winner)
    assert [g.winner for g in verdict.groups] == ["4", "4"]
    assert verdict.answer == "yes"
    for group in verdict.groups:
        assert group.intermediate_better == ("4", "32")  # 32 is 1 pp above C
        assert "winner g = 4" in group.sentence
        four_vs_c = [c for c in group.comparisons if (c.segments, c.reference) == ("4", "C")][0]
        assert four_vs_c.method == "paired-t" and four_vs_c.n_pairs == 5
        assert four_vs_c.mean_diff == pytest.approx(0.05, abs=0.005)
        assert four_vs_c.ci_low > 0 and four_vs_c.conclusive and four_vs_c.verdict == "better"
    md = (report_dir / "report.md").read_text()
    assert "winner g = 4" in md, md[:3000]
    assert "**Answer: " in md and "Yes in 2 of 2 groups" in md  # after the shape over g
    assert "fewer than 3 seeds" not in md


def test_verdict_is_inconclusive_on_noise():
    verdict = verdict_of(noise_study())
    group = verdict.groups[0]
    assert group.winner is None and "undecided" in group.sentence
    assert verdict.answer == "undecided"
    assert not any(c.conclusive for c in verdict.comparisons)
    # Pure noise of 1 pp per run is neither a difference nor an equivalence within 0.5 pp.
    assert all(c.verdict == "undecided" for c in verdict.comparisons)
    for c in verdict.comparisons:
        assert c.mde > 0.005 and (c.seeds_needed is None or c.seeds_needed > 5)


def test_verdict_uses_holm_over_all_comparisons(winner):
    verdict = verdict_of(winner)
    # 4 g per group: 3 comparisons against C plus 2 against 1 (1 vs C once), 2 groups.
    assert len(verdict.comparisons) == 10
    raw = [c.p_value for c in verdict.comparisons]
    assert [c.p_holm for c in verdict.comparisons] == pytest.approx(holm(raw), nan_ok=True)
    assert any(c.p_holm > c.p_value for c in verdict.comparisons)
    for c in verdict.comparisons:
        excludes_zero = c.ci_low > 0 or c.ci_high < 0
        assert c.conclusive == (excludes_zero and c.p_holm < 0.05)


def test_holm_can_turn_a_raw_significant_result_inconclusive():
    # Six g, paired by seed: g = 4 is a little better than C (raw paired p ~ 0.025), the rest is
    # noise. With 9 comparisons Holm lifts that p above 0.05, so it must not count.
    base = [0.90, 0.91, 0.89, 0.90]
    shifts = {
        "1": [0.003, -0.002, 0.001, -0.004],
        "2": [-0.002, 0.004, -0.003, 0.001],
        "4": [0.010, 0.003, 0.008, 0.005],
        "8": [0.001, -0.003, 0.004, -0.002],
        "16": [-0.004, 0.002, 0.0, 0.003],
        "C": [0.0, 0.0, 0.0, 0.0],
    }
    study = new_sweep(list(shifts), range(4))
    for g, shift in shifts.items():
        for seed in range(4):
            attrs = record("1", seed, round(base[seed] + shift[seed], 5))
            attrs["segments"] = g
            add_complete(study, attrs)
    verdict = verdict_of(study)
    assert len(verdict.comparisons) == 9
    four = [c for c in verdict.comparisons if (c.segments, c.reference) == ("4", "C")][0]
    assert four.p_value < 0.05 and four.ci_low > 0  # significant before correction ...
    assert four.p_holm >= 0.05 and not four.conclusive  # ... but not after Holm
    assert verdict.groups[0].winner is None


def test_fewer_than_three_seeds_warning():
    verdict = verdict_of(noise_study(seeds=2))
    assert len(verdict.few_seeds) == 3 and all(n == 2 for _, n in verdict.few_seeds)
    md = render_markdown(Document("t", verdict_blocks(verdict)))
    assert "fewer than 3 seeds" in md
    assert not verdict_of(noise_study(seeds=3)).few_seeds


def test_latency_disagreement_and_matched_budget_notes(winner):
    verdict = verdict_of(winner)
    notes = {(n.fewer_flops, n.more_flops) for n in verdict.latency_notes}
    assert notes == {("C", "32")}
    assert "4 ms vs 3 ms" in verdict.latency_notes[0].sentence
    usable = usable_sweep(trial_frame(winner))
    matched = build_verdict(usable, summarize(usable), match="params")
    assert "matched parameters" in matched.matched_note and verdict.matched_note is None


# --- robustness, search, errors, determinism --------------------------------------------------


def test_partial_study_reports_what_is_missing(tmp_path):
    study = new_sweep(["C"], [0])
    add_complete(study, record("C", 0, 0.91, latency=False))
    add_unusable(study)
    md = write_report(study, tmp_path).read_text()
    assert "Not drawn: no configuration has measured latency recorded." in md
    assert "only one g was trained" in md and "fewer than 3 seeds" in md
    assert (tmp_path / "accuracy_vs_segments.png").stat().st_size > 0
    assert not (tmp_path / "pareto_latency.png").exists()


def search_study():
    study = optuna.create_study(
        directions=[StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE], study_name="synthetic-search"
    )
    study.set_user_attr("kind", "search")
    study.set_user_attr("objectives", ["accuracy", "params"])
    study.set_user_attr("command", "spectrum search --objectives accuracy,params")
    choices = ["1", "4", "C"]
    dists = {f: CategoricalDistribution(choices) for f in ("entry", "middle", "exit")}
    dists["lr"] = FloatDistribution(0.01, 0.1)
    # (entry, middle, exit, lr, accuracy, params); trial 3 dominates trial 0, trial 5 infeasible.
    rows = [
        ("1", "1", "1", 0.05, 0.90, 900_000),
        ("C", "C", "C", 0.05, 0.86, 100_000),
        ("4", "4", "4", 0.03, 0.89, 300_000),
        ("4", "1", "4", 0.04, 0.92, 800_000),
        ("1", "C", "4", 0.02, 0.85, 400_000),
        ("1", "1", "C", 0.05, 0.99, 50_000),
    ]
    for entry, middle, exit_, lr, acc, params in rows:
        attrs = {
            "kind": "search",
            "segments": f"{entry}/{middle}/{exit_}",
            "val_acc": acc,
            "test_acc": acc - 0.01,
            "params": params,
            "status": "complete",
        }
        if acc == 0.99:
            attrs["status"] = "infeasible"
        study.add_trial(
            create_trial(
                values=[acc, params],
                user_attrs=attrs,
                params={"entry": entry, "middle": middle, "exit": exit_, "lr": lr},
                distributions=dists,
            )
        )
    study.add_trial(create_trial(state=TrialState.RUNNING, user_attrs={"kind": "search"}))
    return study


def test_search_report(tmp_path):
    md = write_report(search_study(), tmp_path).read_text()
    for ext in ("png", "svg"):
        assert (tmp_path / f"pareto_front.{ext}").stat().st_size > 1000
        assert (tmp_path / f"history.{ext}").stat().st_size > 1000
    assert not (tmp_path / "summary.csv").exists() and "The verdict" not in md
    best = md.split("## Best trials")[1].split("## ")[0]
    numbers = {int(n) for n in re.findall(r"^\| (\d+) \|", best, flags=re.M)}
    assert numbers == {1, 2, 3}  # 0 dominated by 3, 4 dominated, 5 infeasible
    assert "study.best_trials contains 1 infeasible trial (5)" in md
    assert "Parameter importances skipped" in md
    assert "| 5 | COMPLETE | infeasible |" in md  # listed among excluded trials


def test_search_importances_per_objective():
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_user_attr("objectives", ["accuracy", "params"])
    choices = ["1", "4", "C"]
    dists = {f: CategoricalDistribution(choices) for f in ("entry", "middle", "exit")}
    rng = np.random.default_rng(0)
    for entry, middle, exit_ in itertools.product(choices, repeat=3):
        # accuracy depends on the middle flow only, params on the entry flow only
        acc = 0.8 + 0.05 * choices.index(middle) + rng.normal(0, 0.002)
        params = 1e6 / (1 + choices.index(entry)) + rng.normal(0, 1000)
        study.add_trial(
            create_trial(
                values=[acc, params],
                params={"entry": entry, "middle": middle, "exit": exit_},
                distributions=dists,
                user_attrs={
                    "kind": "search",
                    "status": "complete",
                    "segments": f"{entry}/{middle}/{exit_}",
                },
            )
        )
    objs = objectives(study)
    usable = usable_search(trial_frame(study), 2)
    result = importances(study, usable, objs)
    assert max(result.table["accuracy"], key=result.table["accuracy"].get) == "middle"
    assert max(result.table["params"], key=result.table["params"].get) == "entry"
    few = importances(study, usable.head(4), objs)
    assert not few.table and "skipped" in few.note


def test_empty_or_unusable_study_raises(tmp_path):
    with pytest.raises(SpecError, match="no trials"):
        write_report(optuna.create_study(direction="maximize"), tmp_path / "a")
    study = new_sweep(["4"], [0])
    add_unusable(study)
    with pytest.raises(SpecError, match="no usable trials"):
        write_report(study, tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_two_runs_are_identical(winner, report_dir, tmp_path):
    write_report(winner, tmp_path, storage_label="sqlite:///synthetic.db")
    for name in (
        "results.csv",
        "summary.csv",
        "report.md",
        "report.html",
        "curves.svg",
        "edf.svg",
        "accuracy_vs_segments.png",
    ):
        assert (tmp_path / name).read_bytes() == (report_dir / name).read_bytes(), name


def test_provenance_names_the_precision_and_flags_a_mix(report_dir):
    md = (report_dir / "report.md").read_text()
    assert "Precision: float32 (not recorded" in md  # these synthetic records predate the field
    assert precision_text(pd.DataFrame({"precision": ["bfloat16", "bfloat16"]})) == "bfloat16"
    mixed = precision_text(pd.DataFrame({"precision": ["bfloat16", "float32", None]}))
    assert mixed.startswith("mixed (bfloat16, float32)")


def test_provenance_names_the_code_that_trained_the_trials(tmp_path):
    from spectrum.study.trial import code_digest, sources_digest, versions

    study = new_sweep(["4", "C"], range(2))
    assert code_text(study).startswith("not recorded")  # no trials
    add_complete(study, record("4", 0, 0.9))  # records made before the digest
    assert code_text(study).startswith("not recorded")
    for digest in ("aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"):
        attrs = record("C", 0, 0.9)
        attrs["versions"] = {**attrs["versions"], "spectrum_code": digest}
        add_complete(study, attrs)
    assert code_text(study).startswith(
        "finished trials ran on 3 versions of the spectrum sources, sha256 aaaaaaaaaaaa (2 trials), "
        "bbbbbbbbbbbb (1 trials), not recorded (1 trials)"
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = sources_digest(tmp_path)
    assert sources_digest(tmp_path) == before and len(before) == 12
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert sources_digest(tmp_path) != before
    assert versions()["spectrum_code"] == code_digest()


# --- three-way verdict, margin, looks, trends -------------------------------------------------


def shifted_study(shifts, seeds=6, noise=0.001, rng_seed=1, attrs=None):
    """g = C at 0.90 plus a shared seed effect; each g shifted by ``shifts[g]`` plus noise."""
    study = new_sweep([*shifts, "C"], range(seeds))
    for key, value in (attrs or {}).items():
        study.set_user_attr(key, value)
    rng = np.random.default_rng(rng_seed)
    for g, shift in {**shifts, "C": 0.0}.items():
        for seed in range(seeds):
            acc = 0.90 + 0.003 * ((seed % 3) - 1) + shift + rng.normal(0, noise)
            attrs_ = record("1", seed, round(float(acc), 5))
            attrs_["segments"] = g
            add_complete(study, attrs_)
    return study


def verdict_with(study, margin=None):
    from spectrum.stats.looks import plan_of

    usable = usable_sweep(trial_frame(study))
    return build_verdict(usable, summarize(usable), plan=plan_of(study.user_attrs, margin))


def vs_c(verdict, g):
    return [c for c in verdict.comparisons if (c.segments, c.reference) == (g, "C")][0]


def test_three_way_outcomes_and_the_headline():
    # g = 1 clearly worse, g = 4 clearly better, g = 8 equal to C (within 0.5 pp).
    verdict = verdict_with(shifted_study({"1": -0.02, "4": 0.02, "8": 0.0}))
    assert vs_c(verdict, "1").verdict == "worse" and vs_c(verdict, "4").verdict == "better"
    assert vs_c(verdict, "8").verdict == "equivalent"
    assert vs_c(verdict, "8").p_equivalence_holm < 0.05 and vs_c(verdict, "8").mde < 0.005
    assert verdict.answer == "yes" and verdict.margin_pp == 0.5
    assert "g = 8 is equivalent to C within ±0.50 pp" in verdict.summary
    assert (
        "g = 1 is worse than C (-1.9" in verdict.summary or "worse than C (-2.0" in verdict.summary
    )
    # A margin narrower than the noise resolves: g = 8 is no longer shown equivalent.
    narrow = verdict_with(shifted_study({"1": -0.02, "4": 0.02, "8": 0.0}), margin=0.01)
    assert vs_c(narrow, "8").verdict == "undecided" and narrow.margin_source == "--margin"


def test_undecided_states_mde_and_seeds_needed_in_the_report(tmp_path):
    study = shifted_study({"4": 0.004}, seeds=4, noise=0.006, rng_seed=4)
    verdict = verdict_with(study)
    four = vs_c(verdict, "4")
    assert four.verdict == "undecided" and four.mde > 0 and four.seeds_needed > 4
    md = write_report(study, tmp_path).read_text()
    assert f"{four.seeds_needed} seeds would decide" in md and "MDE" in md
    assert "equivalence within ±0.50 pp (the default)" in md and "alpha = 0.05" in md
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"segments": str})
    row = summary[summary["segments"] == "4"].iloc[0]
    assert row["verdict_vs"] == "C" and row["verdict"] == "undecided"
    assert row["seeds_needed"] == four.seeds_needed and row["mde"] == pytest.approx(four.mde)
    interval = t_interval(
        [t.user_attrs["test_acc"] for t in study.get_trials() if t.user_attrs["segments"] == "4"]
    )
    assert row["test_acc_ci_low"] == pytest.approx(interval.ci_low)


def test_study_margin_and_seed_schedule_are_read():
    attrs = {"margin": 0.3, "seed_schedule": {"start": 3, "step": 3, "max": 9}}
    study = shifted_study({"4": 0.02, "8": 0.0}, seeds=9, attrs=attrs)
    verdict = verdict_with(study)
    assert verdict.margin_pp == 0.3 and verdict.margin_source == "study"
    assert verdict.schedule == (3, 6, 9)
    four = vs_c(verdict, "4")
    assert four.verdict == "better" and four.decided_at in (3, 6, 9)
    assert four.decision.interval.n == 9
    bad = shifted_study({"4": 0.0}, seeds=3, attrs={"margin": -1})
    with pytest.raises(SpecError, match="margin"):
        verdict_with(bad)


def test_a_round_still_running_shows_the_numbers_its_look_decided_on(tmp_path):
    # Looks at 3, 6, 9: seeds 3-4 of a round still running wait for the 6-seed look, so every
    # number shown (pairs, mean, interval, p) is the 3-seed look's, the one Holm p comes from.
    attrs = {"seed_schedule": {"start": 3, "step": 3, "max": 9}}
    study = shifted_study({"1": -0.004, "4": 0.002}, seeds=5, noise=0.002, rng_seed=3, attrs=attrs)
    acc = {
        (t.user_attrs["segments"], t.user_attrs["seed"]): t.user_attrs["test_acc"]
        for t in study.get_trials()
    }
    verdict = verdict_with(study)
    for c in verdict.comparisons:
        diffs = [acc[(c.segments, s)] - acc[(c.reference, s)] for s in range(3)]
        look = t_interval(diffs)
        assert (c.n_pairs, c.waiting) == (3, 2) and c.difference.seeds == (0, 1, 2)
        assert c.mean_diff == pytest.approx(look.mean) and c.ci_low == pytest.approx(look.ci_low)
        assert c.decision.interval.n == 3 and c.difference.excludes_zero == (c.p_value < 0.05)
    (trend,) = verdict.trends
    assert trend.n_seeds == 3 and trend.waiting == 2
    md = write_report(study, tmp_path).read_text()
    assert "| 3 (+2 waiting) |" in md and "3 seeds (+2 waiting) with every g" in md
    assert "| paired-t | 5 |" not in md


def test_trend_over_log2_g_is_one_contrast():
    rising = verdict_with(shifted_study({"1": -0.03, "4": -0.02, "16": -0.01}))
    (trend,) = rising.trends
    assert trend.verdict == "better" and trend.n_seeds == 6
    # Positions 0, 2, 4 and C at 5: about 0.6 pp per doubling.
    assert trend.mean_diff == pytest.approx(0.006, abs=0.001)
    assert "rises with g" in trend.sentence()
    # decided: it joins the headline
    assert "over all g, test accuracy rises with g (+0.57 pp per doubling" in rising.summary
    flat = verdict_with(shifted_study({"1": 0.0, "4": 0.0}, noise=0.01, rng_seed=9))
    (none,) = flat.trends
    assert none.verdict == "undecided" and "no trend detected" in none.sentence()
    assert "per doubling at 6 seeds" in none.sentence() and "over all g" not in flat.summary
    assert len(verdict_with(shifted_study({"4": 0.0})).trends) == 0  # two g: no trend


def test_margin_flag_rejects_non_positive(tmp_path, capsys):
    from spectrum import cli

    assert cli.main(["report", str(tmp_path), "--margin", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spectrum: error: --margin must be > 0") and "\n" not in err
    with pytest.raises(SpecError, match="margin"):
        write_report(shifted_study({"4": 0.0}, seeds=3), tmp_path, margin=-0.5)


def test_a_later_look_counts_only_once_its_round_is_complete():
    # Looks at 3 and 6. g = 4 and C have seeds 3-5 already, g = 1 (undecided at 3 seeds) not yet:
    # the 6-seed look has not happened, so g = 4 vs C is tested on its 3 first seeds, not on 6.
    attrs = {"seed_schedule": {"start": 3, "step": 3, "max": 6}}
    study = shifted_study({"1": -0.004, "4": 0.02}, seeds=3, noise=0.002, rng_seed=3, attrs=attrs)
    for g, shift in (("4", 0.02), ("C", 0.0)):
        for seed in range(3, 6):
            attrs_ = record("1", seed, round(0.90 + shift + 0.001 * seed, 5))
            attrs_["segments"] = g
            add_complete(study, attrs_)
    verdict = verdict_with(study)
    assert vs_c(verdict, "1").verdict == "undecided" and vs_c(verdict, "1").n_pairs == 3
    four = vs_c(verdict, "4")
    assert (four.n_pairs, four.waiting) == (3, 3) and four.decided_at in (None, 3)

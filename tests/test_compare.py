"""Tests of ``spectrum compare`` on small synthetic sweep studies (no training)."""

from __future__ import annotations

import optuna
import pytest
from test_report import add_complete, record

from spectrum.cli import main
from spectrum.errors import SpecError
from spectrum.report.analysis.compare import compare_studies
from spectrum.report.compare_report import write_compare
from spectrum.stats.frames import trial_frame, usable_sweep

optuna.logging.set_verbosity(optuna.logging.WARNING)

NOISE = (0.002, -0.001, 0.0005)


def sweep(accuracy: dict, seeds=(0, 1, 2), *, shift=0.0, noise=NOISE, storage=None, name="s"):
    """A sweep with mean test accuracy ``accuracy[g] + shift`` and a per-seed wobble."""
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    study.set_user_attr("kind", "sweep")
    study.set_user_attr("dataset", "synthetic")
    for position, (g, acc) in enumerate(accuracy.items()):
        for seed in seeds:  # each g its own wobble: equal wobbles make every difference a tie
            wobble = noise[(seed + position) % len(noise)]
            add_complete(study, record(g, seed, acc + shift + wobble))
    return study


def usable(study):
    return usable_sweep(trial_frame(study))


BASE = {"1": 0.90, "4": 0.93, "32": 0.92, "C": 0.91}


def test_per_configuration_differences_paired_and_welch():
    a = sweep(BASE)
    b = sweep(BASE, shift=0.01, noise=(0.003, -0.002, 0.0))
    result = compare_studies(usable(a), usable(b), resamples=50)
    assert [d.key["segments"] for d in result.differences] == ["1", "4", "32", "C"]
    for d in result.differences:
        assert d.method == "paired-t"
        assert d.diff == pytest.approx(0.01 + 0.001 / 3 - 0.0015 / 3, abs=1e-9)
        assert d.ci_low < d.diff < d.ci_high
    # Different seeds in B: unpaired, Welch.
    c = sweep(BASE, seeds=(3, 4, 5), shift=0.01)
    result = compare_studies(usable(a), usable(c), resamples=50)
    assert {d.method for d in result.differences} == {"welch"}
    assert result.differences[0].diff == pytest.approx(0.01, abs=1e-9)


def test_only_shared_configurations_are_compared():
    a = sweep(BASE)
    b = sweep({"4": 0.93, "C": 0.90})
    result = compare_studies(usable(a), usable(b), resamples=20)
    assert [d.key["segments"] for d in result.differences] == ["4", "C"]
    assert [k["segments"] for k in result.only_a] == ["1", "32"]
    assert result.only_b == ()


def test_tau_is_one_for_identical_rankings():
    a = sweep(BASE)
    b = sweep(BASE, shift=-0.03)
    result = compare_studies(usable(a), usable(b), resamples=200)
    assert result.rank.n_configs == 4
    assert result.rank.tau == pytest.approx(1.0)
    assert result.rank.resamples == 200
    assert -1.0 <= result.rank.ci_low <= result.rank.ci_high == pytest.approx(1.0)
    again = compare_studies(usable(a), usable(b), resamples=200)
    assert again.rank == result.rank  # fixed bootstrap seed: reproducible


def test_reversed_ranking_and_constructed_flip():
    a = sweep({"1": 0.90, "4": 0.95, "C": 0.91})  # g = 4 clearly better than C
    b = sweep({"1": 0.90, "4": 0.88, "C": 0.91})  # g = 4 clearly worse than C
    result = compare_studies(usable(a), usable(b), resamples=100)
    flips = {(v.segments, v.reference): (v.verdict_a, v.verdict_b) for v in result.flips}
    assert flips[("4", "C")] == ("better", "worse")
    assert flips[("4", "1")] == ("better", "worse")
    assert ("1", "C") not in flips  # worse in both
    assert all(v.flipped == (v.verdict_a != v.verdict_b) for v in result.verdicts)
    assert result.rank.tau < 1.0
    # Nothing flips against itself.
    assert compare_studies(usable(a), usable(a), resamples=20).flips == ()


def test_the_trend_over_g_is_a_verdict_that_can_flip(tmp_path):
    flat = {"1": 0.91, "4": 0.91, "32": 0.91, "C": 0.91}
    rising = {"1": 0.88, "4": 0.90, "32": 0.92, "C": 0.93}  # ~ +0.9 pp per doubling
    a, b = sweep(flat, noise=(0.004, -0.003, 0.0)), sweep(rising)
    result = compare_studies(usable(a), usable(b), resamples=20)
    (trend,) = [v for v in result.verdicts if v.label == "trend over log2 g (per doubling)"]
    assert (trend.verdict_a, trend.verdict_b) == ("no trend detected", "rises")
    assert trend.flipped and trend in result.flips and trend.diff_b > 0.008
    text = write_compare(a, b, tmp_path / "cmp", label_a="flat", label_b="up").read_text()
    assert "- trend over log2 g (per doubling): no trend detected in A" in text
    assert compare_studies(usable(b), usable(b), resamples=20).flips == ()


def test_no_shared_configuration_raises():
    with pytest.raises(SpecError, match="share no configuration"):
        compare_studies(usable(sweep({"1": 0.9})), usable(sweep({"C": 0.9})), resamples=10)


def test_files_written(tmp_path):
    a = sweep({"1": 0.90, "4": 0.95, "C": 0.91})
    b = sweep({"1": 0.90, "4": 0.88, "C": 0.91}, seeds=(0, 1, 2, 3))
    md = write_compare(a, b, tmp_path / "cmp", label_a="alpha", label_b="beta")
    names = {p.name for p in (tmp_path / "cmp").iterdir()}
    assert names == {
        "compare.md",
        "compare.html",
        "compare.png",
        "compare.svg",
        "forest.png",
        "forest.svg",
    }
    text = md.read_text()
    assert "Kendall tau" in text and "interval is wide" in text
    assert "g = 4 vs g = C: better in A" in text
    assert "Welch t (unpaired)" in text  # A has 3 seeds, B 4: not the same seeds
    assert "Kendall tau" in (tmp_path / "cmp" / "compare.html").read_text()


def _folder(tmp_path, name, accuracy):
    folder = tmp_path / name
    folder.mkdir()
    sweep(accuracy, storage=f"sqlite:///{folder / 'study.db'}", name=name)
    return folder


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_cli_compare_and_errors(tmp_path, capsys):
    a = _folder(tmp_path, "a", {"1": 0.90, "C": 0.91})
    b = _folder(tmp_path, "b", {"1": 0.89, "C": 0.92})
    c = _folder(tmp_path, "c", {"4": 0.90, "32": 0.91})
    out = tmp_path / "out"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert (out / "compare.md").exists() and (out / "compare.svg").exists()
    capsys.readouterr()

    err = _one_line_error(capsys, ["compare", str(a), str(c), "--out", str(tmp_path / "x")])
    assert "share no configuration" in err
    assert not (tmp_path / "x").exists()  # nothing written

    err = _one_line_error(capsys, ["compare", str(a), str(tmp_path / "missing")])
    assert "does not exist" in err

    search = tmp_path / "search"
    search.mkdir()
    study = optuna.create_study(
        storage=f"sqlite:///{search / 'study.db'}",
        study_name="search",
        directions=["maximize", "minimize"],
    )
    study.set_user_attr("kind", "search")
    err = _one_line_error(capsys, ["compare", str(a), str(search)])
    assert "search study" in err


def matched_sweep(accuracy: dict, match: str, *, name="s", storage=None):
    """A 3-seed sweep whose trials were matched on ``match``."""
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    study.set_user_attr("kind", "sweep")
    for position, (g, acc) in enumerate(accuracy.items()):
        for seed in (0, 1, 2):
            add_complete(study, record(g, seed, acc + NOISE[(seed + position) % 3], match=match))
    return study


def test_across_match_pairs_studies_matched_on_different_budgets(tmp_path, capsys):
    # proxy-28 at matched params against proxy-28s at matched live params: no configuration is
    # shared unless the pairing is told to look across match, and the document says so.
    accuracy = {"1": 0.90, "4": 0.91, "C": 0.91}
    folders = []
    for name, match in (("params", "params"), ("live", "live-params")):
        folder = tmp_path / name
        folder.mkdir()
        matched_sweep(accuracy, match, name=name, storage=f"sqlite:///{folder / 'study.db'}")
        folders.append(str(folder))
    err = _one_line_error(capsys, ["compare", *folders, "--out", str(tmp_path / "x")])
    assert "share no configuration" in err
    out = tmp_path / "across"
    assert main(["compare", *folders, "--across-match", "--out", str(out)]) == 0
    text = (out / "compare.md").read_text()
    assert "3 shared configurations" in text
    assert "B's match live-params paired with A's params by --across-match" in text
    assert "match live-params" in text and "match params" in text  # each study's facts


def test_across_match_needs_one_match_per_study(tmp_path):
    mixed = matched_sweep({"1": 0.9, "C": 0.91}, "params")
    add_complete(mixed, record("4", 0, 0.9, match="flops"))
    with pytest.raises(SpecError, match="study A has flops, params"):
        write_compare(
            mixed,
            matched_sweep({"1": 0.9, "C": 0.91}, "live-params", name="b"),
            tmp_path / "out",
            label_a="a",
            label_b="b",
            across_match=True,
        )

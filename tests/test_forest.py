"""A report's first screen: the answer in one sentence with its scope, then the forest figure of
every verdict comparison (and the same figure side by side in ``spectrum compare``)."""

from __future__ import annotations

import re

import matplotlib.image
from test_compare import BASE, sweep
from test_report import shifted_study

from spectrum.report import write_report
from spectrum.report.compare_report import write_compare
from spectrum.report.figures import forest
from spectrum.report.sections.answer import answer_text, scope_text
from spectrum.stats.frames import trial_frame, usable_sweep
from spectrum.stats.looks import plan_of
from spectrum.stats.summary import summarize
from spectrum.stats.verdict import build_verdict

SCHEDULE = {"start": 3, "step": 3, "max": 6}
SHIFTS = {"1": -0.02, "4": 0.02}  # g = 1 two points below g = C, g = 4 two points above


def clear_study(attrs=None):
    """6 seeds of g = 1, 4 and C with differences far beyond the noise: decided either way."""
    return shifted_study(SHIFTS, seeds=6, attrs=attrs)


def verdict_of(study):
    usable = usable_sweep(trial_frame(study))
    summary = summarize(usable)
    return usable, summary, build_verdict(usable, summary, plan=plan_of(study.user_attrs))


def test_report_opens_with_the_answer_then_the_forest(tmp_path):
    md = write_report(clear_study(), tmp_path).read_text()
    lines = md.splitlines()
    assert lines[0] == "# Spectrum sweep report: synthetic-sweep"
    first = lines[2]
    # One bold sentence: the answer, then its scope.
    assert first.startswith("**Yes: g = 4 is better than g = C") and first.endswith(".**")
    assert "; scope: proxy-28, synthetic, 4 epochs, " in first and first.count(". ") == 0
    assert "6 seeds per configuration, one look, margin ±0.50 pp" in first
    figures = re.findall(r"\]\(([a-z_]+)\.png\)", md)
    assert figures[0] == "forest"
    assert md.index("(forest.png)") < md.index("## Provenance") < md.index("## Summary")
    image = matplotlib.image.imread(tmp_path / "forest.png")
    assert image.shape[0] > 200 and image.shape[1] > 600
    assert "forest" in md.split("## Files")[1]


def test_each_row_is_labelled_with_its_verdict_and_the_look_that_decided_it():
    _, _, verdict = verdict_of(clear_study({"seed_schedule": SCHEDULE}))
    assert verdict.schedule == (3, 6)
    labels = {}
    for c in verdict.comparisons:
        labels[(c.segments, c.reference)] = forest.look_text(c, verdict.schedule)
        if c.verdict == "undecided":
            assert labels[(c.segments, c.reference)] == f"undecided at {c.n_pairs} seeds"
        else:
            assert c.decided_at in (3, 6)
            assert labels[(c.segments, c.reference)] == f"{c.verdict}, {c.decided_at}-seed look"
    assert labels[("4", "C")].startswith("better, ") and labels[("1", "C")].startswith("worse, ")
    rows = forest.rows_of([verdict])
    assert [r.label for r in rows] == [f"g = {g} vs {ref}" for g, ref in labels]
    # Without a schedule the look is the only one, at all the seeds.
    _, _, once = verdict_of(clear_study())
    four = next(c for c in once.comparisons if (c.segments, c.reference) == ("4", "C"))
    assert forest.look_text(four, once.schedule) == "better, 6 seeds (one look)"


def test_the_answer_names_its_scope():
    study = clear_study({"seed_schedule": SCHEDULE, "margin": 0.3})
    usable, summary, verdict = verdict_of(study)
    assert scope_text(study, usable, summary, verdict) == (
        "proxy-28, synthetic, 4 epochs, float32 (not recorded), 6 seeds per configuration, "
        "looks at 3/6 seeds, margin ±0.30 pp"
    )
    assert answer_text(verdict).startswith("Yes: g = 4 is better than g = C")


def test_compare_draws_both_verdicts_side_by_side(tmp_path):
    a = sweep(BASE, name="a")
    b = sweep(BASE, shift=0.01, noise=(0.003, -0.002, 0.0), name="b")
    md = write_compare(a, b, tmp_path, label_a="small", label_b="large").read_text()
    figures = re.findall(r"\]\(([a-z_]+)\.png\)", md)
    assert figures == ["forest", "compare"]
    assert "A and B side by side" in md
    image = matplotlib.image.imread(tmp_path / "forest.png")
    assert image.shape[1] > 1.5 * image.shape[0]  # two panels next to each other


def test_a_sweep_with_no_g_to_compare_answers_its_factor_first(tmp_path):
    # Residual connections at g = C alone (as studies/fig9-residual.toml): no verdict over g, so
    # the first sentence and the forest answer the factor's question instead.
    from test_report_factors import DW
    from test_report_factors import sweep as factor_sweep

    study = factor_sweep({("C", "none", True, DW): 0.90, ("C", "none", False, DW): 0.85})
    md = write_report(study, tmp_path).read_text()
    first = md.splitlines()[2]
    assert first.startswith("**Residual connections: agrees with the paper (no residual vs ")
    assert "residual at g = C: -4.96 [-5.51, -4.40] pp, worse)" in first
    assert "g is not compared here (only g = C was trained); scope: " in first
    assert "## Each factor level against the paper's choice" in md
    assert re.findall(r"\]\(([a-z_]+)\.png\)", md)[0] == "forest"
    image = matplotlib.image.imread(tmp_path / "forest.png")
    assert image.shape[0] > 150 and image.shape[1] > 600

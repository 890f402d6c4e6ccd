"""The shape of accuracy over g in the verdict: the plateau (step-down equivalence) and the rise."""

from __future__ import annotations

import optuna
from optuna.trial import create_trial
from synthetic_study import sweep_record

from spectrum.report import build_verdict, summarize, trial_frame, usable_sweep

# Per-seed offsets shared by every g (paired noise) and small per-g wobbles (0.01-0.05 pp).
SEED = (0.003, -0.002, 0.001, -0.001, 0.002, -0.003)
WOBBLE = (0.0002, -0.0001, 0.0003, -0.0002, 0.0001, -0.0003)


def study_of(means: dict[str, float]) -> optuna.Study:
    study = optuna.create_study(study_name="shape")
    for g, mean in means.items():
        for seed, (offset, wobble) in enumerate(zip(SEED, WOBBLE)):
            record = sweep_record("C", 0)
            wobble = wobble if g != "C" else 0.0
            record.update(
                segments=g,
                seed=seed,
                test_acc=round(mean + offset + wobble * (1 + len(g)), 4),
                grid_key=f"g={g}|depthwise-first|act=none|residual=on|seed={seed}",
            )
            study.add_trial(create_trial(value=record["test_acc"], user_attrs=record))
    return study


def verdict_of(means: dict[str, float]):
    usable = usable_sweep(trial_frame(study_of(means)))
    return build_verdict(usable, summarize(usable))


def test_the_answer_starts_with_the_shape_rise_then_plateau():
    verdict = verdict_of({"1": 0.89, "4": 0.91, "16": 0.91, "C": 0.91})
    (group,) = verdict.groups
    assert group.plateau is not None and group.plateau.start == "4"
    assert verdict.summary.startswith("Shape of test accuracy over g: flat from g = 4 to C")
    assert "below it, g = 1 is worse than C" in group.shape


def test_no_plateau_when_the_largest_g_is_off_the_reference():
    verdict = verdict_of({"1": 0.89, "4": 0.91, "16": 0.93, "C": 0.91})
    (group,) = verdict.groups
    assert group.plateau.start is None and group.plateau.order[0] == "16"
    assert "no plateau shown yet (g = 16 is not yet equivalent to C" in group.shape

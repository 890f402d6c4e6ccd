"""Trials that never trained because another trial owns their grid point are reported as
duplicates, apart from real failures: in the provenance line and the excluded-trials table."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState, create_trial
from synthetic_study import synthetic_sweep

from spectrum.report.sections.provenance import counts_text, excluded_blocks
from spectrum.stats.frames import excluded_trials, trial_frame, usable_sweep

KEY = "g=4|depthwise-first|act=none|residual=on|seed=0"


def study_with_duplicates() -> optuna.Study:
    study = synthetic_sweep()
    owner = next(t.number for t in study.trials if t.user_attrs["grid_key"] == KEY)
    marked = {"grid_key": KEY, "status": "failed", "not_run": "duplicate", "duplicate_of": owner}
    for attrs in (
        marked,
        {"grid_key": KEY},  # failed by a worker race before not_run was recorded
        {"grid_key": KEY, "status": "failed", "error": "RuntimeError: boom", "worker": {}},
    ):
        study.add_trial(create_trial(state=TrialState.FAIL, user_attrs=attrs))
    return study


def test_duplicates_are_counted_and_listed_apart_from_failures():
    frame = trial_frame(study_with_duplicates())
    assert list(frame["status"].iloc[-3:]) == ["duplicate", "duplicate", "failed"]
    text = counts_text(frame)
    assert "1 failed" in text and "2 duplicates (never trained" in text
    (_, table) = excluded_blocks(excluded_trials(frame, usable_sweep(frame)))
    errors = {row[2]: row[-1] for row in table.rows}
    assert errors["duplicate"].startswith("never trained: trial ")
    assert errors["failed"] == "RuntimeError: boom"

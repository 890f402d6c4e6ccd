"""Reusing finished trials: a new sweep starts from another study's results for the same points.

``spectrum sweep ... --until-decided --reuse reports/OLD`` makes a new study whose first round
takes the finished trials of the study in ``reports/OLD`` instead of training them again, when
both were made with the same settings: the fingerprints must be equal except for the seeds, the
seed schedule and the margin (what a fixed study cannot change in place, see
:func:`~spectrum.study.sweep.open_sweep_study`). Each copy keeps its record, learning curve and
times, and names its source trial in ``reused_from``; the study stores where its reused trials
came from (``reused_from``), and the report's provenance says so.

A copied trial stands for what the new study would have trained only when the source ran the
same code on the same torch build and thread count (CPU training is repeatable by seed only
then), so copies are refused across torch versions; re-run one source point to check it (the
README shows how). Reuse happens once, when the study is created; a later run of the same
command resumes the study and copies nothing (the stored source must match).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial

from ..data.config import image_size_of
from ..errors import SpecError
from ..records import is_finished
from .grid import SweepPlan
from .resume import changed_settings
from .storage import load_existing_study, open_storage
from .storage_url import resolve_target, url_scheme
from .trial import versions

SEQUENTIAL_KEYS = ("seeds", "seed_schedule", "margin")  # may differ between source and target


@dataclass(frozen=True)
class ReuseSource:
    """Where reused trials come from: a report folder or a storage file or URL, and a study."""

    storage: str
    study: str | None = None  # None: the only study in the storage

    def open(self) -> optuna.Study:
        """The source study, read only; a one-line SpecError/StorageError when it is missing."""
        folder = Path(self.storage)
        if not folder.exists() and not url_scheme(self.storage):
            raise SpecError(
                f"--reuse {self.storage}: no such folder or storage file; give the report folder "
                f"of a finished sweep (reports/NAME), or its storage file or URL"
            )
        url = None if folder.is_dir() else self.storage
        target = resolve_target(url, folder)
        if target.path is not None and not target.path.is_file():
            raise SpecError(
                f"--reuse {self.storage}: {target.path} does not exist; give the report folder "
                f"of a finished sweep (reports/NAME), or its storage file or URL"
            )
        storage = open_storage(url, folder, heartbeat=False)
        return load_existing_study(storage, self.study, name_flag="--reuse-study")


def comparable_fingerprint(fingerprint: dict) -> dict:
    """A sweep's fingerprint without what a reusing study may change (seeds and schedule)."""
    return {k: v for k, v in fingerprint.items() if k not in SEQUENTIAL_KEYS}


def reusable_trials(source: optuna.Study, plan: SweepPlan) -> list[FrozenTrial]:
    """The source's finished trials at the points of the plan's first round, one per point.

    Raises:
        SpecError: the source is not a sweep, was made with other settings, or one of its
            trials ran on another torch build.
    """
    name = source.study_name
    stored = source.user_attrs.get("fingerprint")
    if not isinstance(stored, dict):
        raise SpecError(f"--reuse: study {name!r} was not made by a sweep; reuse a sweep's study")
    changed = changed_settings(
        comparable_fingerprint(stored),
        comparable_fingerprint(plan.fingerprint()),
        image_size_of(plan.data),
    )
    if changed:
        raise SpecError(
            f"--reuse: study {name!r} was made with a different {', '.join(changed)}; reuse a "
            f"study with the same settings (only the seeds and the schedule may differ)"
        )
    keys = {point.key for point in plan.points(plan.seeds)}
    torch_version = versions()["torch"]
    chosen: dict[str, FrozenTrial] = {}
    for trial in sorted(source.get_trials(deepcopy=False), key=lambda t: t.number):
        key = trial.user_attrs.get("grid_key")
        if key not in keys or key in chosen or not is_finished(trial):
            continue
        ran_with = (trial.user_attrs.get("versions") or {}).get("torch")
        if ran_with != torch_version:
            raise SpecError(
                f"--reuse: trial {trial.number} of {name!r} ran on torch {ran_with}, this is "
                f"torch {torch_version}; its result would not repeat here, so it is not reused"
            )
        chosen[key] = trial
    return list(chosen.values())


def copy_trials(
    study: optuna.Study, trials: list[FrozenTrial], plan: SweepPlan, reused_from: dict
) -> None:
    """Add copies of ``trials`` to ``study``, with the plan's parameter choices and each copy's
    source (``reused_from`` plus the source trial's number) on it."""
    distributions = plan.distributions()
    for trial in trials:
        study.add_trial(
            FrozenTrial(
                number=0,  # the storage numbers it
                trial_id=0,
                state=trial.state,
                value=None,
                values=trial.values,
                datetime_start=trial.datetime_start,
                datetime_complete=trial.datetime_complete,
                params=trial.params,
                distributions={name: distributions[name] for name in trial.params},
                user_attrs={
                    **trial.user_attrs,
                    "reused_from": {**reused_from, "trial": trial.number},
                },
                system_attrs={},
                intermediate_values=trial.intermediate_values,
            )
        )

"""Searches: the objective of one search trial and the worker loop that runs them.

A search trial samples a point of the space (:mod:`spectrum.study.space`), then trains it through
:func:`spectrum.study.trial.run_trial`, the trial path sweeps share, with two hooks: before
training, the plan's constraints (:mod:`spectrum.study.plan`) are checked from the counts, and
after every epoch the pruner is asked: Optuna's (one objective) through ``trial.report``, or the
front pruner (several objectives, :mod:`spectrum.study.front_pruner`), which reads the finished
trials' costs and curves from the storage. Pruned trials end PRUNED with status ``pruned`` and
the epochs they ran in their curve.

An infeasible trial is not trained: it ends COMPLETE in Optuna with its constraint violations
recorded by ``Trial.set_constraint`` (so samplers steer away from it and ``study.best_trials``
leaves it out), status ``infeasible``, no curve and no accuracy; its accuracy objective is a 0.0
placeholder that nothing reads.

Workers: any number of processes may run :func:`run_search` on the same study. Each pulls one
trial at a time through :meth:`optuna.Study.optimize` (so RDB heartbeats run) until the study
holds ``trials`` finished trials, counting COMPLETE (complete and infeasible) and PRUNED ones;
failed, diverged and interrupted trials do not count. A worker only starts a trial while
finished + running < ``trials`` (or a re-queued trial waits), and a trial that still finds the
study full when it starts (two workers raced) ends FAIL untrained, so a study never ends with more
than ``trials`` finished trials. A worker with nothing to start waits while others run the last
trials, failing stale ones (see :mod:`spectrum.study.resume`) and running their re-queued copies,
so a killed worker's trial is finished by another.

Duplicates: TPE on an all-categorical space sometimes proposes a point the study already holds
(complete or running). Training it again would only repeat the same numbers (same seed), so such a
trial is not trained: it ends FAIL (status ``failed``, ``not_run="duplicate"``, ``duplicate_of``)
and an untried random point is queued in its place; ``trials`` counts distinct trained points.

The results table a finished search prints is :func:`spectrum.study.run.best_trials_table`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import optuna
import torch
from optuna.trial import TrialState

from ..data import Splits, load_dataset
from ..data.config import image_size_of
from ..engine.device_data import DeviceData
from ..engine.train import EpochRecord
from ..errors import SpecError
from ..net.xception import FLOWS
from ..options import Status
from ..records import TrialRecord
from .front_pruner import FrontPruner, PruneBand
from .plan import OBJECTIVES, SearchPlan
from .resume import (
    changed_settings,
    recover_stale_trials,
    resolved_preset,
    retry_of,
    stored_fingerprint,
    worker_id,
)
from .samplers import make_pruner, make_sampler, random_point, sample_point
from .space import net_for_params
from .trial import (
    EndTrial,
    TrialEvents,
    TrialSpec,
    fit_to_data,
    interrupted_attrs,
    run_trial,
    trial_coordinates,
    versions,
)

POLL_S = 2.0
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
TRAINING_FAILURES: tuple[Status, ...] = ("failed", "diverged")


class TrialFailed(Exception):
    """A trial that ended without a result (diverged, out of memory, not run): Optuna FAIL."""


def state_counts(study: optuna.Study) -> dict[str, int]:
    """finished (COMPLETE + PRUNED), running, waiting, and training failures of a study."""
    counts = {"finished": 0, "running": 0, "waiting": 0, "training_failures": 0}
    for trial in study.get_trials(deepcopy=False):
        if trial.state in FINISHED_STATES:
            counts["finished"] += 1
        elif trial.state == TrialState.RUNNING:
            counts["running"] += 1
        elif trial.state == TrialState.WAITING:
            counts["waiting"] += 1
        elif trial.user_attrs.get("status") in TRAINING_FAILURES and not trial.user_attrs.get(
            "not_run"
        ):
            counts["training_failures"] += 1
    return counts


def with_study_preset(plan: SearchPlan, study_name: str, storage) -> SearchPlan:
    """The plan with its space's preset resolved for this study (``auto``: the study's own
    preset, or today's rule for a new study; :func:`~spectrum.study.resume.resolved_preset`)."""
    stored = (stored_fingerprint(storage, study_name, "search_fingerprint") or {}).get("space")
    stored_preset = stored.get("preset") if isinstance(stored, dict) else None
    preset = resolved_preset(plan.space.preset, stored_preset, image_size_of(plan.data))
    return replace(plan, space=replace(plan.space, preset=preset))


def open_search_study(plan: SearchPlan, study_name: str, storage) -> optuna.Study:
    """Create or load the study; refuse one made with a different plan or by a sweep."""
    wanted = plan.fingerprint()
    try:
        existing = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        existing = None
    if existing is not None:
        stored = existing.user_attrs.get("search_fingerprint")
        if stored is None:
            if existing.user_attrs.get("kind") == "sweep" or existing.get_trials(deepcopy=False):
                raise SpecError(
                    f"study {study_name!r} already holds trials not made by a "
                    f"search; choose another --study name"
                )
        elif changed := changed_settings(stored, wanted, image_size_of(plan.data)):
            raise SpecError(
                f"study {study_name!r} was made with a different "
                f"{', '.join(changed)}; re-run with the original settings to "
                f"resume it or add workers, or use a new --study"
            )
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        directions=plan.directions,
        sampler=make_sampler(plan),
        pruner=make_pruner(plan),
        load_if_exists=True,
    )
    if [d.name.lower() for d in study.directions] != plan.directions:
        raise SpecError(
            f"study {study_name!r} has directions "
            f"{[d.name.lower() for d in study.directions]}, not {plan.directions}; "
            f"use a new --study"
        )
    if study.user_attrs.get("search_fingerprint") is None:
        study.set_user_attr("search_fingerprint", wanted)
    return study


@dataclass
class _Context:
    plan: SearchPlan
    data: DeviceData
    splits: Splits
    preset: str
    device: torch.device
    events: TrialEvents
    pilot_sd: dict[int, float] = field(default_factory=dict)  # --prune-noise-from


def _label(params: Mapping[str, Any]) -> str:
    segments = "/".join(str(params[f"{flow}_segments"]) for flow in FLOWS)
    text = f"g={segments} w={params['width']:g} r={params['repeats']} res={params['residual']}"
    if "lr" in params:
        text += f" lr={params['lr']:.3g}"
    return text


def _set_attrs(trial: optuna.Trial, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        trial.set_user_attr(name, value)


def _objective_values(plan: SearchPlan, record: Mapping[str, Any]) -> list[float]:
    """The trial's values in the order of the study's directions (accuracy 0.0 untrained)."""
    values = []
    for name in plan.objectives:
        value = record.get(OBJECTIVES[name].key)
        values.append(0.0 if value is None and name == "accuracy" else float(value))
    return values


def _surplus(study: optuna.Study, trial: optuna.Trial, total: int) -> bool:
    """Whether the study was already full when this trial started (workers raced)."""
    taken = 0
    for other in study.get_trials(deepcopy=False):
        if other.state in FINISHED_STATES or (
            other.state == TrialState.RUNNING and other.number < trial.number
        ):
            taken += 1
    return taken >= total


def _duplicate_of(study: optuna.Study, trial: optuna.Trial) -> int | None:
    """The number of a complete or running trial with this trial's parameters, if any."""
    for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        if other.number != trial.number and other.params == trial.params:
            return other.number
    return None


def _placeholder(trial: optuna.Trial) -> None:
    """Written first and overwritten at the end: a trial whose worker dies keeps saying so."""
    _set_attrs(
        trial,
        {
            "kind": "search",
            "worker": worker_id(),
            "status": "interrupted",
            "error": "the worker stopped before the trial finished",
            "curve": [],
        },
    )


def _not_run(trial: optuna.Trial, why: str, attrs: Mapping[str, Any], error: str) -> TrialFailed:
    """Record why a trial ends FAIL untrained; the caller raises what this returns."""
    _set_attrs(trial, {"status": "failed", "not_run": why, **attrs, "error": error})
    return TrialFailed(f"{why} trial")


def run_search_trial(trial: optuna.Trial, ctx: _Context) -> float | list[float]:
    """The objective: sample, then run the one trial path with the constraint and prune hooks."""
    plan, study = ctx.plan, trial.study
    _placeholder(trial)
    retried = retry_of(trial)
    if retried is not None:
        trial.set_user_attr("retry_of", retried)
    if retried is None and _surplus(study, trial, plan.trials):
        raise _not_run(
            trial,
            "surplus",
            {},
            f"not run: the study already had {plan.trials} trials "
            f"finished or running when it started",
        )
    params = sample_point(trial, plan.space)
    # TPE on an all-categorical space can propose a point it already has. Training it again
    # would repeat the same numbers (same seed); queue an untried random point instead.
    duplicate = None if retried is not None else _duplicate_of(study, trial)
    if duplicate is not None:
        study.enqueue_trial(
            random_point(study, plan, trial.number),
            user_attrs={"replaces_duplicate": trial.number},
        )
        raise _not_run(
            trial,
            "duplicate",
            {"duplicate_of": duplicate},
            f"not run: same parameters as trial {duplicate}; an untried "
            f"random point was queued instead",
        )
    net = fit_to_data(net_for_params(plan.space, params, ctx.preset), ctx.splits)
    config = replace(plan.train, lr=float(params["lr"])) if "lr" in params else plan.train
    spec = TrialSpec(net, config, plan.seed, latency=plan.latency)
    ctx.events.trial_started(state_counts(study)["finished"], plan.trials, _label(params))
    _set_attrs(trial, trial_coordinates(spec, net))

    counted: dict[str, Any] = {}

    def check_constraints(record: TrialRecord) -> None:
        counted.update(record)
        _set_attrs(trial, record)  # the counts, before the (possibly long) training
        violations = plan.constraints.violations(record)
        already = trial.constraints  # a re-queued copy carries its original's constraints
        for key, value in violations.items():
            if key not in already:
                trial.set_constraint(key, value)
        if any(value > 0 for value in violations.values()):
            raise EndTrial("infeasible", plan.constraints.explain(record))

    reporting = plan.objectives == ("accuracy",)  # Optuna reports single objectives only
    front = (
        FrontPruner(plan.objectives, PruneBand(plan.prune_band), config.epochs, ctx.pilot_sd)
        if plan.pruner_name == "front"
        else None
    )
    curve: list[EpochRecord] = []  # kept here too, for a trial that Ctrl-C or a bug ends

    def report_epoch(point: EpochRecord) -> None:
        curve.append(point)
        ctx.events.epoch(point)
        if reporting:
            trial.report(point.val_acc, point.epoch)
            # After the last epoch there is nothing left to save: let the trial complete.
            if point.epoch < config.epochs and trial.should_prune():
                raise EndTrial(
                    "pruned",
                    f"pruned after epoch {point.epoch} of {config.epochs} "
                    f"(val {point.val_acc:.4f})",
                )
        elif front is not None and point.epoch < config.epochs:
            outrun = front.outrun_by(study, counted, point.epoch, point.val_acc)
            if outrun is not None:
                ahead, band = outrun
                trial.set_user_attr("pruned_by", ahead)
                raise EndTrial(
                    "pruned",
                    f"pruned after epoch {point.epoch} of {config.epochs} "
                    f"(val {point.val_acc:.4f}): trial {ahead} costs no more and was ahead "
                    f"by more than {band:.4g} (the band at that epoch)",
                )

    try:
        record = run_trial(
            spec,
            ctx.data,
            ctx.device,
            dataset=ctx.splits.name,
            net=net,
            on_step=ctx.events.step,
            on_epoch=report_epoch,
            before_training=check_constraints,
        )
    except BaseException as error:  # Ctrl-C or a bug: record it, Optuna marks the trial FAIL
        _set_attrs(trial, {**interrupted_attrs(error), "curve": [vars(p) for p in curve]})
        raise
    record["kind"] = "search"
    record.setdefault("error", None)  # overwrite the placeholder's
    _set_attrs(trial, record)
    ctx.events.trial_finished(record)
    if record["status"] == "pruned":
        raise optuna.TrialPruned(record["error"])
    if record["status"] not in ("complete", "infeasible"):
        raise TrialFailed(record["error"] or record["status"])
    return _finish_values(plan, record)


def _finish_values(plan: SearchPlan, record: Mapping[str, Any]) -> float | list[float]:
    values = _objective_values(plan, record)
    return values[0] if len(values) == 1 else values


def run_search(
    plan: SearchPlan,
    study_name: str,
    storage,
    device: torch.device,
    *,
    command: str = "",
    events: TrialEvents | None = None,
    poll_s: float = POLL_S,
) -> optuna.Study:
    """Run one worker of the search until the study holds ``plan.trials`` finished trials.

    Safe to start in any number of processes on the same study and storage, and to re-run to
    resume. Returns the study. Stops early (without error) if ``plan.trials`` trials failed in
    training, so that a search whose every point diverges does not run forever.
    """
    events = events or TrialEvents()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials report through ``events``
    plan = with_study_preset(plan, study_name, storage)
    pilot_sd = plan.pilot_sd()
    splits = load_dataset(plan.data)
    preset = plan.space.preset
    study = open_search_study(plan, study_name, storage)
    for name, value in {
        "kind": "search",
        "objectives": list(plan.objectives),
        "command": command,
        "dataset": splits.name,
        "train": plan.train.as_dict(),
        "device": str(device),
        "versions": versions(),
        "space": plan.space.to_dict(),
        "choices": {k: list(v) for k, v in plan.space.choices().items()},
        "constraints": plan.constraints.bounds(),
        "sampler": plan.sampler,
        "pruner": plan.pruner_name,
        **({"prune_band": plan.prune_band} if plan.pruner_name == "front" else {}),
        **({"prune_noise": {"from": plan.prune_noise_from, "sd": pilot_sd}} if pilot_sd else {}),
        "seed": plan.seed,
        "trials": plan.trials,
        "data": {**asdict(plan.data), "sizes": splits.sizes, "source": splits.source},
    }.items():
        study.set_user_attr(name, value)
    ctx = _Context(
        plan, DeviceData.from_splits(splits, device), splits, preset, device, events, pilot_sd
    )

    def objective(trial: optuna.Trial):
        return run_search_trial(trial, ctx)

    while True:
        recover_stale_trials(study, requeue=True)
        counts = state_counts(study)
        if counts["finished"] >= plan.trials or counts["training_failures"] >= plan.trials:
            break
        if counts["waiting"] or counts["finished"] + counts["running"] < plan.trials:
            study.optimize(objective, n_trials=1, catch=(TrialFailed,), gc_after_trial=False)
            continue
        time.sleep(poll_s)  # the last trials run elsewhere; wait in case one dies
    if plan.confirm:
        from .confirm import confirm_front  # loads the report's statistics: only when asked

        confirm_front(study, plan, ctx, plan.confirm)
    return study

"""Sweeps: a cartesian grid over the spectrum, run as one resumable Optuna study.

The grid (:mod:`spectrum.study.grid`) is segments x orders x activations x residual x seeds; a
sequential sweep (:mod:`spectrum.study.sequential`) runs it in rounds of seeds. Each grid point
is one trial whose parameters are fixed (Optuna's PartialFixedSampler) and whose record (see
:mod:`spectrum.records`) is stored on it. Re-running the same sweep skips finished points (complete, diverged or failed),
re-runs interrupted ones, and never adds a point twice. A trial left RUNNING by a process that
died (Ctrl-C, ``kill -9``, a lost machine) is marked FAIL with status ``interrupted`` when its
worker's process is gone (same host) or it has sent no sign of life for ``STALE_AFTER_S`` (see
:mod:`spectrum.study.resume`). A different grid under the same study name is refused.

Each point trains through :func:`spectrum.study.trial.run_trial`, the trial path searches share.

Workers: any number of processes (``spectrum sweep`` or ``spectrum run``, ``--jobs N``) may run
:func:`run_sweep` on one study and storage; together they run every grid point once. The claim
protocol, atomic on every storage:

1. Queueing. Every grid point that has no trial yet is queued once as a WAITING trial (its
   parameters fixed, its ``grid_key`` set). The process whose ``create_study`` made the study
   (creation is atomic: one process wins) queues the whole grid; others wait for it
   (``grid_queued``). Later, a worker queues again only what is missing: a point whose trial was
   interrupted (the one worker whose atomic FAIL of the stale trial succeeded re-queues it,
   unless another worker's queueing already has) or one that a study from before this
   protocol never ran.
2. Claiming. A worker takes a WAITING trial by moving it to RUNNING, which succeeds for exactly
   one process (:func:`~spectrum.study.resume.pop_waiting_trial`, Optuna's queue step).
3. Ownership. Should two trials of one point ever be queued (two workers queued the same missing
   point at once), the one created first owns it: a claimed trial with an older live or
   finished sibling ends FAIL untrained (``not_run="duplicate"``), checked again before its
   result is stored, so a point never has two results.

A worker with nothing to claim waits while other workers' trials run (a SIGKILLed worker's trial
is failed as stale and queued again, and a live worker runs it), and stops when every point is
finished.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, replace

import optuna
import torch

from ..data import load_dataset
from ..data.config import image_size_of
from ..engine.device_data import DeviceData
from ..errors import SpecError
from ..net.xception import NetConfig
from ..records import TrialRecord, is_finished
from .grid import GridPoint, SweepPlan, trial_specs
from .resume import (
    changed_settings,
    pop_waiting_trial,
    recover_stale_trials,
    resolved_preset,
    storage_order,
    stored_fingerprint,
    worker_id,
)
from .reuse import ReuseSource, copy_trials, reusable_trials
from .sequential import scheduled_points
from .trial import (
    EndTrial,
    TrialEvents,
    TrialSpec,
    interrupted_attrs,
    run_trial,
    trial_coordinates,
    versions,
)

STALE_AFTER_S = 600.0
ALIVE_EVERY_S = 30.0
POLL_S = 2.0
QUEUE_WAIT_S = 120.0  # how long a worker waits for the study's creator to queue the grid
LIVE_STATES = (optuna.trial.TrialState.WAITING, optuna.trial.TrialState.RUNNING)


def finished_keys(study: optuna.Study) -> set[str]:
    """Grid keys that need no more work: completed, or ended deterministically."""
    return {
        trial.user_attrs["grid_key"]
        for trial in study.get_trials(deepcopy=False)
        if trial.user_attrs.get("grid_key") and is_finished(trial)
    }


def claimed_keys(study: optuna.Study) -> set[str]:
    """Grid keys with a finished, running or queued trial: nothing to queue for them."""
    return {
        trial.user_attrs["grid_key"]
        for trial in study.get_trials(deepcopy=False)
        if trial.user_attrs.get("grid_key") and (trial.state in LIVE_STATES or is_finished(trial))
    }


def queue_points(study: optuna.Study, points: list[GridPoint]) -> int:
    """Queue a WAITING trial for every point without a finished, running or queued one."""
    claimed = claimed_keys(study)
    queued = 0
    for point in points:
        if point.key not in claimed:
            study.enqueue_trial(point.params, user_attrs={"kind": "sweep", "grid_key": point.key})
            queued += 1
    return queued


def owner_elsewhere(study: optuna.Study, trial: optuna.Trial, key: str) -> int | None:
    """The number of another trial that owns ``key`` (finished, or live and created earlier)."""
    mine = storage_order(trial)
    for other in study.get_trials(deepcopy=False):
        if other.user_attrs.get("grid_key") != key or storage_order(other) == mine:
            continue
        if is_finished(other) or (other.state in LIVE_STATES and storage_order(other) < mine):
            return other.number
    return None


def with_study_preset(plan: SweepPlan, study_name: str, storage) -> SweepPlan:
    """The plan with its preset resolved for this study (``auto``: the study's own preset, or
    today's rule for a new study; :func:`~spectrum.study.resume.resolved_preset`)."""
    stored = stored_fingerprint(storage, study_name, "fingerprint") or {}
    preset = resolved_preset(plan.preset, stored.get("preset"), image_size_of(plan.data))
    return replace(plan, preset=preset)


def open_sweep_study(
    plan: SweepPlan,
    study_name: str,
    storage,
    *,
    queue_wait_s: float = QUEUE_WAIT_S,
    reuse: ReuseSource | None = None,
) -> optuna.Study:
    """Create or load the study; refuse one that was made for a different grid.

    The process that creates the study queues the whole grid (first, with ``reuse``, it copies
    the source's finished trials of the first round: :mod:`spectrum.study.reuse`); a process
    that loads a study still being queued waits for that (up to ``queue_wait_s``, after which it
    queues what is missing itself, in case the creator died).
    """
    wanted = plan.fingerprint()
    if reuse is not None:  # checked before the new study exists: a refusal leaves nothing
        source = reuse.open()
        reused = reusable_trials(source, plan)
        reused_from = {"storage": reuse.storage, "study": source.study_name}
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize")
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage)
    else:
        study.set_user_attr("fingerprint", wanted)
        set_decision_attrs(study, plan)
        study.set_user_attr("grid_queued", False)
        if reuse is not None:
            copy_trials(study, reused, plan, reused_from)
            study.set_user_attr("reused_from", {**reused_from, "trials": len(reused)})
        queue_points(study, plan.points(plan.seeds))
        study.set_user_attr("grid_queued", True)
        return study
    deadline = time.monotonic() + queue_wait_s
    while (stored := study.user_attrs.get("fingerprint")) is None:
        if time.monotonic() > deadline or study.get_trials(deepcopy=False):
            break
        time.sleep(0.2)  # its creator has not written the fingerprint yet
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise SpecError(
                f"study {study_name!r} already holds trials not made by a sweep; "
                f"choose another --study name"
            )
        study.set_user_attr("fingerprint", wanted)
    elif changed := changed_settings(stored, wanted, image_size_of(plan.data)):
        if "seed_schedule" in changed and "seed_schedule" not in stored:
            raise SpecError(
                f"study {study_name!r} was run with a fixed {stored.get('seeds')} seeds; "
                f"sequential seeds (--until-decided) need a new --study, planned from its start"
            )
        raise SpecError(
            f"study {study_name!r} was made with a different {', '.join(changed)}; "
            f"re-run with the original settings to resume it, or use a new --study"
        )
    if reuse is not None:
        stored_source = study.user_attrs.get("reused_from") or {}
        if stored_source.get("study") != reused_from["study"]:
            raise SpecError(
                f"study {study_name!r} already exists without trials reused from "
                f"{reused_from['study']!r}; --reuse only starts a new study: drop it to resume, "
                f"or use a new --study"
            )
    set_decision_attrs(study, plan)
    while study.user_attrs.get("grid_queued") is False and time.monotonic() < deadline:
        time.sleep(0.2)
    return study


def set_decision_attrs(study: optuna.Study, plan: SweepPlan) -> None:
    """Store what the report decides with: the margin (when set) and the seed schedule."""
    if plan.schedule is not None:
        study.set_user_attr("seed_schedule", plan.schedule.as_attr())
        study.set_user_attr("margin", plan.effective_margin)
    elif plan.margin is not None:
        study.set_user_attr("margin", float(plan.margin))


def current_points(plan: SweepPlan, study: optuna.Study) -> list[GridPoint]:
    """The grid points due now: all of them, or a sequential sweep's rounds so far."""
    return scheduled_points(plan, study)


def pending_points(study: optuna.Study, plan: SweepPlan) -> int:
    """How many grid points due now are not finished yet."""
    done = finished_keys(study)
    return sum(point.key not in done for point in current_points(plan, study))


def not_run_duplicate(study: optuna.Study, trial: optuna.Trial, owner: int) -> None:
    trial.set_user_attr("status", "failed")
    trial.set_user_attr("not_run", "duplicate")
    trial.set_user_attr("duplicate_of", owner)
    trial.set_user_attr("error", f"not run: trial {owner} owns this grid point")
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


def run_point(
    study: optuna.Study,
    trial: optuna.Trial,
    plan: SweepPlan,
    point: GridPoint,
    spec: TrialSpec,
    net: NetConfig,
    data: DeviceData,
    device: torch.device,
    dataset: str,
    events: TrialEvents,
) -> TrialRecord | None:
    """Train ``point`` on the claimed ``trial`` and store its record; None when the trial was
    ended by another worker meanwhile (it took this one for gone): the point runs again from the
    trial that worker queued, and this one is dropped with one line (``events.notice``)."""
    try:
        return _train_and_store(study, trial, plan, point, spec, net, data, device, dataset, events)
    except optuna.exceptions.UpdateFinishedTrialError:
        events.notice(
            f"trial {trial.number} ({point.key}) was ended by another worker; "
            f"this worker drops it and goes on"
        )
        return None


def _train_and_store(
    study, trial, plan, point, spec, net, data, device, dataset, events
) -> TrialRecord:
    trial.set_user_attr("worker", worker_id())  # first: until then a kill leaves it unnamed
    trial.set_user_attr("alive_at", time.time())
    for name, distribution in plan.distributions().items():  # fixed by the queued trial
        trial.suggest_categorical(name, distribution.choices)
    trial.set_user_attr("kind", "sweep")
    trial.set_user_attr("grid_key", point.key)
    for name, value in trial_coordinates(spec, net).items():
        trial.set_user_attr(name, value)
    last_sign = [time.time()]

    def on_step(epoch: int, step: int, steps: int) -> None:
        now = time.time()
        if now - last_sign[0] > ALIVE_EVERY_S:
            with ended_elsewhere_stops_training():
                trial.set_user_attr("alive_at", now)
            last_sign[0] = now
        events.step(epoch, step, steps)

    def on_epoch(point) -> None:
        # Intermediate values: optuna-dashboard draws them as each trial's learning curve.
        with ended_elsewhere_stops_training():
            trial.report(point.val_acc, point.epoch)
        events.epoch(point)

    try:
        record = run_trial(
            spec, data, device, dataset=dataset, net=net, on_step=on_step, on_epoch=on_epoch
        )
    except BaseException as error:  # Ctrl-C, or a bug: the trial must not stay RUNNING
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            for name, value in interrupted_attrs(error).items():
                trial.set_user_attr(name, value)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    record["grid_key"] = point.key
    if (owner := owner_elsewhere(study, trial, point.key)) is not None:
        not_run_duplicate(study, trial, owner)  # two trials of one point raced: keep the first
        return record
    for name, value in record.items():
        trial.set_user_attr(name, value)
    if record["status"] == "complete":
        study.tell(trial, record["val_acc"])
    else:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return record


@contextlib.contextmanager
def ended_elsewhere_stops_training():
    """A write to a trial that another worker ended stops its training (no use finishing it);
    the final write then finds it ended and :func:`run_point` drops it."""
    try:
        yield
    except optuna.exceptions.UpdateFinishedTrialError:
        raise EndTrial("failed", "ended by another worker") from None


def run_sweep(
    plan: SweepPlan,
    study_name: str,
    storage,
    device: torch.device,
    *,
    command: str = "",
    events: TrialEvents | None = None,
    poll_s: float = POLL_S,
    reuse: ReuseSource | None = None,
) -> optuna.Study:
    """Run (or resume) the sweep as one worker; returns the study with every point's record.

    Safe to start in any number of processes on the same study and storage (see the module
    docstring); returns when every grid point is finished. ``reuse``: a new study's first round
    starts from that study's finished trials (:mod:`spectrum.study.reuse`).
    """
    events = events or TrialEvents()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = with_study_preset(plan, study_name, storage)
    splits = load_dataset(plan.data)
    specs = trial_specs(plan, splits)
    study = open_sweep_study(plan, study_name, storage, reuse=reuse)
    for name, value in {
        "kind": "sweep",
        "command": command,
        "dataset": splits.name,
        "train": plan.train.as_dict(),
        "device": str(device),
        "versions": versions(),
        "grid": plan.grid(),
        "data": {**asdict(plan.data), "sizes": splits.sizes, "source": splits.source},
    }.items():
        study.set_user_attr(name, value)
    data = DeviceData.from_splits(splits, device)
    points = {point.key: point for point in current_points(plan, study)}
    queue_points(study, list(points.values()))  # a study made before queueing, or interrupted
    while True:
        stale = recover_stale_trials(study, requeue=False, silent_after_s=STALE_AFTER_S)
        # This worker failed them (atomically) and queues them again, unless another worker's
        # queueing (it saw them failed) already did: a point gets one WAITING trial, not two.
        lost = [points[key] for t in stale if (key := t.user_attrs.get("grid_key")) in points]
        if lost:
            queue_points(study, lost)
        trial = pop_waiting_trial(study)
        if trial is None:
            if queue_points(study, list(points.values())):
                continue  # a point lost its trial (Ctrl-C'd elsewhere): queued again
            if study.get_trials(deepcopy=False, states=LIVE_STATES):
                time.sleep(poll_s)  # the last points run elsewhere; wait in case one dies
                continue
            due = {point.key: point for point in current_points(plan, study)}
            if due.keys() - points.keys():  # a sequential sweep's next round
                points = due
                queue_points(study, list(points.values()))
                continue
            return study
        key = trial.user_attrs.get("grid_key")
        if key not in points:  # another worker queued the next round of a sequential sweep
            points = {point.key: point for point in current_points(plan, study)}
        if key not in points:  # not a point of this grid (cannot happen: the fingerprint)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        if (owner := owner_elsewhere(study, trial, key)) is not None:
            not_run_duplicate(study, trial, owner)
            continue
        point = points[key]
        events.trial_started(len(finished_keys(study)), len(points), key)
        spec, net = specs[key]
        record = run_point(study, trial, plan, point, spec, net, data, device, splits.name, events)
        if record is not None:
            events.trial_finished(record)

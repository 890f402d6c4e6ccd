"""Resuming studies: fingerprints, worker identity, stale-trial recovery, Optuna's private API.

Fingerprints: sweeps and searches store a fingerprint (a JSON-able dict of everything that
defines their results) on their study and refuse to resume it with different settings.
Fingerprints stored before a training setting existed lack its key; those runs used the value
in :data:`LEGACY_TRAIN_VALUES`, so they still resume when that value is asked for explicitly.
Presets: a plan's ``auto`` preset is stored resolved (:func:`resolved_preset`); a fingerprint
stored before that says ``auto``, which meant :func:`~spectrum.net.xception.legacy_auto_preset`,
and a plan that says ``auto`` resumes a study on the study's own preset.

Stale trials: a trial left RUNNING by a worker that died (Ctrl-C, ``kill -9``, a lost machine)
is failed by :func:`recover_stale_trials`, with status ``interrupted``, the next time any worker
opens the study. On a heartbeat storage Optuna's own check decides (and re-queues); elsewhere a
trial is stale when it ran on this host and its process is gone, or (sweeps, which record
``alive_at``) when it has sent no sign of life for a while.

Optuna's private API: Optuna has no public way to write to a trial it did not hand out (a stale
one, found by listing the study) nor to read a trial's system attributes (where the heartbeat's
retry callback records which trial a re-queued copy repeats). The few private names this needs
(``Study._storage``, ``FrozenTrial._trial_id``, ``Trial._trial_id``) are used here and nowhere
else, so an Optuna upgrade that moves them breaks one module.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..net.xception import choose_preset, legacy_auto_preset

LEGACY_TRAIN_VALUES = {"precision": "float32"}  # every run before precision was recorded


# --------------------------------------------------------------------------------------------
# Fingerprints


def with_legacy_values(fingerprint: dict, image_size: int | None = None) -> dict:
    """The fingerprint with what it left implicit made explicit: training settings that did not
    exist yet, and (given the dataset's ``image_size``) the preset that a stored ``auto`` meant."""
    train = fingerprint.get("train")
    if isinstance(train, dict):
        fingerprint = {**fingerprint, "train": {**LEGACY_TRAIN_VALUES, **train}}
    if image_size is None:
        return fingerprint
    legacy = legacy_auto_preset(image_size)
    if fingerprint.get("preset") == "auto":
        fingerprint = {**fingerprint, "preset": legacy}
    space = fingerprint.get("space")
    if isinstance(space, dict) and space.get("preset") == "auto":
        fingerprint = {**fingerprint, "space": {**space, "preset": legacy}}
    return fingerprint


def changed_settings(stored: dict, wanted: dict, image_size: int | None = None) -> list[str]:
    """The top-level keys whose values differ (empty when the study may be resumed)."""
    stored = with_legacy_values(stored, image_size)
    return sorted(
        key
        for key in set(stored) | set(wanted)
        if json.dumps(stored.get(key), sort_keys=True)
        != json.dumps(wanted.get(key), sort_keys=True)
    )


def stored_fingerprint(storage, study_name: str, attr: str) -> dict | None:
    """The fingerprint (user attribute ``attr``) of an existing study, or None."""
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return None
    stored = study.user_attrs.get(attr)
    return stored if isinstance(stored, dict) else None


def resolved_preset(preset: str, stored_preset: str | None, image_size: int) -> str:
    """The preset a plan's trials build: an explicit one as given; ``auto`` is the study's own
    preset when it exists (a stored ``auto``: the legacy rule), else today's rule."""
    if preset != "auto":
        return preset
    if stored_preset is not None:
        return legacy_auto_preset(image_size) if stored_preset == "auto" else stored_preset
    return choose_preset(preset, image_size)


# --------------------------------------------------------------------------------------------
# Who runs a trial


def worker_id() -> dict:
    """This process as stored on the trials it runs: host name and process id."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_alive(pid: int) -> bool:
    """Whether a process of this host with ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def dead_on_this_host(worker: dict | None) -> bool:
    """True when ``worker`` ran on this host and its process is gone (never for this process)."""
    worker = worker or {}
    if worker.get("host") != socket.gethostname() or worker.get("pid") is None:
        return False
    pid = int(worker["pid"])
    return pid != os.getpid() and not process_alive(pid)


# --------------------------------------------------------------------------------------------
# Optuna's private API (see the module docstring)


def heartbeat_on(study: optuna.Study) -> bool:
    """Whether the study's storage runs Optuna heartbeats (RDB storages opened with one)."""
    interval = getattr(study._storage, "get_heartbeat_interval", None)
    return callable(interval) and interval() is not None


def retry_of(trial: optuna.Trial) -> int | None:
    """The number of the failed trial this one re-runs (set by the heartbeat's retry callback)."""
    return trial.storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")


def _fail_listed_trial(study: optuna.Study, trial: FrozenTrial, why: str) -> bool:
    """Mark a RUNNING trial found by listing the study FAIL/interrupted; False if it finished."""
    try:
        study._storage.set_trial_user_attr(trial._trial_id, "status", "interrupted")
        study._storage.set_trial_user_attr(trial._trial_id, "error", why)
        return study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # another worker got there first


def _requeue(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue a WAITING copy of a failed trial, as the heartbeat's retry callback does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
        retry(study, study._storage.get_trial(trial._trial_id))


# --------------------------------------------------------------------------------------------
# Stale trials


# A worker names itself on a trial (``worker``) within milliseconds of taking it; a trial still
# unnamed this long after it started was taken by a worker that died in between (kill -9).
UNNAMED_AFTER_S = 60.0


def stale_reason(trial: FrozenTrial, now: float, silent_after_s: float | None) -> str | None:
    """Why a RUNNING trial's worker counts as gone, or None while it may still be running."""
    worker = trial.user_attrs.get("worker") or {}
    if dead_on_this_host(worker):
        return f"worker pid {worker['pid']} stopped before the trial finished"
    alive_at = trial.user_attrs.get("alive_at")
    if silent_after_s is not None and alive_at is not None and now - alive_at > silent_after_s:
        return "worker stopped before the trial finished"
    started = trial.datetime_start
    if not worker and started is not None and now - started.timestamp() > UNNAMED_AFTER_S:
        return "a worker stopped while taking the trial, before it named itself"
    return None


def recover_stale_trials(
    study: optuna.Study, *, requeue: bool, silent_after_s: float | None = None
) -> list[FrozenTrial]:
    """Fail (status ``interrupted``) the RUNNING trials whose worker is gone.

    Heartbeat storages: Optuna's own check (no heartbeat for the grace period), which also runs
    the storage's retry callback. Other storages: a trial is stale per :func:`stale_reason`;
    with ``requeue`` a WAITING copy of it is queued once (searches; a sweep queues its grid
    point again itself). Returns the trials this call failed: failing is atomic on every
    storage (a finished trial cannot be failed again), so of several workers that find the same
    stale trial exactly one gets it back (none on heartbeat storages).
    """
    if heartbeat_on(study):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        return []
    now = time.time()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        why = stale_reason(trial, now, silent_after_s)
        if why is not None and _fail_listed_trial(study, trial, why):
            failed.append(trial)
            if requeue:
                _requeue(study, trial)
    return failed


# --------------------------------------------------------------------------------------------
# Claiming queued trials


def storage_order(trial: FrozenTrial | optuna.Trial) -> int:
    """The trial's id in its storage: unique and in creation order (numbers can repeat when
    several processes create trials at once on an SQL storage)."""
    return trial._trial_id


def pop_waiting_trial(study: optuna.Study) -> optuna.Trial | None:
    """Take one WAITING trial for this process (now RUNNING), or None when none is left.

    The same atomic step as :meth:`optuna.Study.ask`'s queue (WAITING -> RUNNING succeeds for
    exactly one process: a row lock on database servers, the write lock taken at BEGIN on SQLite
    files opened by :func:`~spectrum.study.storage.open_storage`, the journal's own lock on
    journal files), but it never creates a new trial when the queue is empty.
    """
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if study._storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                return optuna.Trial(study, trial._trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None

"""Sweeps: a cartesian grid over the spectrum, run as one resumable Optuna study.

The grid is segments x orders x activations x residual x seeds. Each grid point is one trial whose
parameters are fixed (Optuna's PartialFixedSampler) and whose record (see :mod:`spectrum.records`)
is stored on it. Re-running the same sweep skips finished points (complete, diverged or failed),
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
   interrupted (the one worker whose atomic FAIL of the stale trial succeeded re-queues it) or
   one that a study from before this protocol never ran.
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

import time
from dataclasses import asdict, dataclass, field

import optuna
import torch

from ..cost.counts import count
from ..cost.latency import LatencySettings
from ..data import DataConfig, Splits, load_dataset
from ..engine.train import DeviceData, TrainConfig
from ..errors import SpecError
from ..net.segments import PER_CHANNEL, Segments, segments_label, segments_sort_key
from ..net.xception import NetConfig, check_config
from ..options import Status
from ..records import TrialRecord
from .resume import (
    changed_settings,
    pop_waiting_trial,
    recover_stale_trials,
    storage_order,
    worker_id,
)
from .trial import (
    TrialEvents,
    TrialSpec,
    interrupted_attrs,
    resolve_net,
    run_trial,
    trial_coordinates,
    uniform_net,
    versions,
)

STALE_AFTER_S = 600.0
ALIVE_EVERY_S = 30.0
POLL_S = 2.0
QUEUE_WAIT_S = 120.0  # how long a worker waits for the study's creator to queue the grid
FINISHED_STATUSES: tuple[Status, ...] = ("diverged", "failed")
LIVE_STATES = (optuna.trial.TrialState.WAITING, optuna.trial.TrialState.RUNNING)


@dataclass(frozen=True)
class GridPoint:
    segments: Segments
    order: str
    activation: str
    residual: bool
    seed: int

    @property
    def key(self) -> str:
        return (
            f"g={segments_label(self.segments)}|{self.order}|act={self.activation}|"
            f"residual={'on' if self.residual else 'off'}|seed={self.seed}"
        )

    @property
    def params(self) -> dict:
        return {
            "segments": segments_label(self.segments),
            "order": self.order,
            "activation": self.activation,
            "residual": "on" if self.residual else "off",
            "seed": self.seed,
        }


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep's results (and so its fingerprint)."""

    segments: tuple[Segments, ...] = (1, 4, 32, PER_CHANNEL)
    orders: tuple[str, ...] = ("depthwise-first",)
    activations: tuple[str, ...] = ("none",)
    residual: tuple[bool, ...] = (True,)
    seeds: int = 1
    match: str = "none"
    preset: str = "auto"
    width_multiplier: float = 1.0
    middle_repeats: int | None = None
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    latency: LatencySettings = field(default_factory=LatencySettings)

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise SpecError(f"seeds must be >= 1, got {self.seeds}")
        for name in ("segments", "orders", "activations", "residual"):
            values = getattr(self, name)
            if not values:
                raise SpecError(f"{name} must list at least one value")
            if len(set(values)) != len(values):
                raise SpecError(f"{name} lists a value twice: {list(values)}")

    def points(self) -> list[GridPoint]:
        segments = sorted(self.segments, key=segments_sort_key)
        return [
            GridPoint(g, order, activation, residual, seed)
            for order in self.orders
            for activation in self.activations
            for residual in self.residual
            for g in segments
            for seed in range(self.seeds)
        ]

    def fingerprint(self) -> dict:
        """What must be equal for two runs to belong to the same study."""
        return {
            "segments": sorted(segments_label(g) for g in self.segments),
            "orders": sorted(self.orders),
            "activations": sorted(self.activations),
            "residual": sorted(self.residual),
            "seeds": self.seeds,
            "match": self.match,
            "preset": self.preset,
            "width_multiplier": self.width_multiplier,
            "middle_repeats": self.middle_repeats,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }

    def distributions(self) -> dict[str, optuna.distributions.CategoricalDistribution]:
        """The Optuna parameters of a sweep trial; every trial uses the same choices."""
        grid = self.grid()
        return {
            name: optuna.distributions.CategoricalDistribution(choices)
            for name, choices in {
                "segments": grid["segments"],
                "order": grid["orders"],
                "activation": grid["activations"],
                "residual": ["on" if r else "off" for r in self.residual],
                "seed": grid["seeds"],
            }.items()
        }

    def grid(self) -> dict:
        """The grid as the report reads it."""
        return {
            "segments": [segments_label(g) for g in sorted(self.segments, key=segments_sort_key)],
            "orders": list(self.orders),
            "activations": list(self.activations),
            "residual": list(self.residual),
            "seeds": list(range(self.seeds)),
            "match": self.match,
            "preset": self.preset,
        }


def base_net(plan: SweepPlan, splits: Splits, point: GridPoint) -> NetConfig:
    return uniform_net(
        point.segments,
        point.order,
        point.activation,
        point.residual,
        splits,
        preset=plan.preset,
        width_multiplier=plan.width_multiplier,
        middle_repeats=plan.middle_repeats,
    )


def trial_specs(plan: SweepPlan, splits: Splits) -> dict[str, tuple[TrialSpec, NetConfig]]:
    """Every grid point's spec and resolved (matched, validated) net, before anything trains."""
    targets: dict[tuple, int] = {}
    resolved: dict[tuple, NetConfig] = {}
    specs = {}
    for point in plan.points():
        net = base_net(plan, splits, point)
        target = None
        if plan.match != "none":
            reference_key = (point.order, point.activation, point.residual)
            if reference_key not in targets:
                reference = net.with_flows(segments=PER_CHANNEL)
                targets[reference_key] = count(reference, plan.match)
            target = targets[reference_key]
        spec = TrialSpec(net, plan.train, point.seed, plan.match, target, plan.latency)
        net_key = (point.segments, point.order, point.activation, point.residual)
        if net_key not in resolved:
            resolved[net_key] = resolve_net(spec)
            check_config(resolved[net_key])
        specs[point.key] = (spec, resolved[net_key])
    return specs


def is_finished(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether this trial ended its grid point: completed, or ended deterministically."""
    if trial.state == optuna.trial.TrialState.COMPLETE:
        return True
    return (
        trial.state == optuna.trial.TrialState.FAIL
        and trial.user_attrs.get("status") in FINISHED_STATUSES
        and not trial.user_attrs.get("not_run")
    )


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


def open_sweep_study(
    plan: SweepPlan, study_name: str, storage, *, queue_wait_s: float = QUEUE_WAIT_S
) -> optuna.Study:
    """Create or load the study; refuse one that was made for a different grid.

    The process that creates the study queues the whole grid; a process that loads a study
    still being queued waits for that (up to ``queue_wait_s``, after which it queues what is
    missing itself, in case the creator died).
    """
    wanted = plan.fingerprint()
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize")
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage)
    else:
        study.set_user_attr("fingerprint", wanted)
        study.set_user_attr("grid_queued", False)
        queue_points(study, plan.points())
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
    elif changed := changed_settings(stored, wanted):
        raise SpecError(
            f"study {study_name!r} was made with a different {', '.join(changed)}; "
            f"re-run with the original settings to resume it, or use a new --study"
        )
    while study.user_attrs.get("grid_queued") is False and time.monotonic() < deadline:
        time.sleep(0.2)
    return study


def pending_points(study: optuna.Study, plan: SweepPlan) -> int:
    """How many grid points are not finished yet."""
    done = finished_keys(study)
    return sum(point.key not in done for point in plan.points())


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
) -> TrialRecord:
    for name, distribution in plan.distributions().items():  # fixed by the queued trial
        trial.suggest_categorical(name, distribution.choices)
    trial.set_user_attr("kind", "sweep")
    trial.set_user_attr("grid_key", point.key)
    trial.set_user_attr("worker", worker_id())
    trial.set_user_attr("alive_at", time.time())
    for name, value in trial_coordinates(spec, net).items():
        trial.set_user_attr(name, value)
    last_sign = [time.time()]

    def on_step(epoch: int, step: int, steps: int) -> None:
        now = time.time()
        if now - last_sign[0] > ALIVE_EVERY_S:
            trial.set_user_attr("alive_at", now)
            last_sign[0] = now
        events.step(epoch, step, steps)

    def on_epoch(point) -> None:
        # Intermediate values: optuna-dashboard draws them as each trial's learning curve.
        trial.report(point.val_acc, point.epoch)
        events.epoch(point)

    try:
        record = run_trial(
            spec, data, device, dataset=dataset, net=net, on_step=on_step, on_epoch=on_epoch
        )
    except BaseException as error:  # Ctrl-C, or a bug: the trial must not stay RUNNING
        for name, value in interrupted_attrs(error).items():
            trial.set_user_attr(name, value)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    if (owner := owner_elsewhere(study, trial, point.key)) is not None:
        not_run_duplicate(study, trial, owner)  # two trials of one point raced: keep the first
        record["grid_key"] = point.key
        return record
    for name, value in record.items():
        trial.set_user_attr(name, value)
    if record["status"] == "complete":
        study.tell(trial, record["val_acc"])
    else:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    record["grid_key"] = point.key
    return record


def run_sweep(
    plan: SweepPlan,
    study_name: str,
    storage,
    device: torch.device,
    *,
    command: str = "",
    events: TrialEvents | None = None,
    poll_s: float = POLL_S,
) -> optuna.Study:
    """Run (or resume) the sweep as one worker; returns the study with every point's record.

    Safe to start in any number of processes on the same study and storage (see the module
    docstring); returns when every grid point is finished.
    """
    events = events or TrialEvents()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    splits = load_dataset(plan.data)
    specs = trial_specs(plan, splits)
    study = open_sweep_study(plan, study_name, storage)
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
    points = {point.key: point for point in plan.points()}
    queue_points(study, list(points.values()))  # a study made before queueing, or interrupted
    while True:
        stale = recover_stale_trials(study, requeue=False, silent_after_s=STALE_AFTER_S)
        for trial in stale:  # this worker failed them (atomically): it alone queues them again
            if (key := trial.user_attrs.get("grid_key")) in points:
                study.enqueue_trial(
                    points[key].params, user_attrs={"kind": "sweep", "grid_key": key}
                )
        trial = pop_waiting_trial(study)
        if trial is None:
            if queue_points(study, list(points.values())):
                continue  # a point lost its trial (Ctrl-C'd elsewhere): queued again
            if study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
                time.sleep(poll_s)  # the last points run elsewhere; wait in case one dies
                continue
            return study
        key = trial.user_attrs.get("grid_key")
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
        events.trial_finished(record)

"""Sweeps: a cartesian grid over the spectrum, run as one resumable Optuna study.

The grid is segments x orders x activations x residual x seeds. Each grid point is one trial whose
parameters are fixed (Optuna's PartialFixedSampler) and whose record (see :mod:`spectrum.records`)
is stored on it. Re-running the same sweep skips finished points (complete, diverged or failed),
re-runs interrupted ones, and never adds a point twice. A trial left RUNNING by a process that
died (Ctrl-C, ``kill -9``, a lost machine) is marked FAIL with status ``interrupted`` when its
worker's process is gone (same host) or it has sent no sign of life for ``STALE_AFTER_S`` (see
:mod:`spectrum.study.resume`). A different grid under the same study name is refused.

Each point trains through :func:`spectrum.study.trial.run_trial`, the trial path searches share.
"""

from __future__ import annotations

import time
import warnings
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
from .resume import changed_settings, recover_stale_trials, worker_id
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
FINISHED_STATUSES: tuple[Status, ...] = ("diverged", "failed")
# Never consulted for a sweep's own parameters (all fixed); only satisfies the sampler's API.
FIXED_BASE_SAMPLER = optuna.samplers.RandomSampler(seed=0)


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


def finished_keys(study: optuna.Study) -> set[str]:
    """Grid keys that need no more work: completed, or ended deterministically."""
    done = set()
    for trial in study.get_trials(deepcopy=False):
        key = trial.user_attrs.get("grid_key")
        state = trial.state
        if key and (
            state == optuna.trial.TrialState.COMPLETE
            or (
                state == optuna.trial.TrialState.FAIL
                and trial.user_attrs.get("status") in FINISHED_STATUSES
            )
        ):
            done.add(key)
    return done


def open_sweep_study(plan: SweepPlan, study_name: str, storage) -> optuna.Study:
    """Create or load the study; refuse one that was made for a different grid."""
    study = optuna.create_study(
        study_name=study_name, storage=storage, direction="maximize", load_if_exists=True
    )
    wanted = plan.fingerprint()
    stored = study.user_attrs.get("fingerprint")
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
    return study


def run_point(
    study: optuna.Study,
    plan: SweepPlan,
    point: GridPoint,
    spec: TrialSpec,
    net: NetConfig,
    data: DeviceData,
    device: torch.device,
    dataset: str,
    events: TrialEvents,
) -> TrialRecord:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.sampler = optuna.samplers.PartialFixedSampler(point.params, FIXED_BASE_SAMPLER)
    trial = study.ask(fixed_distributions=plan.distributions())
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

    try:
        record = run_trial(
            spec, data, device, dataset=dataset, net=net, on_step=on_step, on_epoch=events.epoch
        )
    except BaseException as error:  # Ctrl-C, or a bug: the trial must not stay RUNNING
        for name, value in interrupted_attrs(error).items():
            trial.set_user_attr(name, value)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
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
) -> optuna.Study:
    """Run (or resume) the sweep; returns the study with every point's record on it."""
    events = events or TrialEvents()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    splits = load_dataset(plan.data)
    specs = trial_specs(plan, splits)
    study = open_sweep_study(plan, study_name, storage)
    recover_stale_trials(study, requeue=False, silent_after_s=STALE_AFTER_S)
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
    points = plan.points()
    done = finished_keys(study)
    running = {
        t.user_attrs.get("grid_key")
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    }
    for point in points:
        if point.key in done or point.key in running:
            continue
        events.trial_started(len(done), len(points), point.key)
        spec, net = specs[point.key]
        record = run_point(study, plan, point, spec, net, data, device, splits.name, events)
        done.add(point.key)
        events.trial_finished(record)
    return study

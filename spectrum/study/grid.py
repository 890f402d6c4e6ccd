"""A sweep's grid: its plan (:class:`SweepPlan`), its points, and every point's trial spec.

The grid is segments x orders x activations x residual x seeds; a configuration is one grid
point without its seed. :class:`SweepPlan` holds everything that defines a sweep's results (its
fingerprint, checked when a study is resumed), including the seed schedule of a sequential sweep
(:mod:`spectrum.study.sequential`). :func:`trial_specs` resolves every point's net (budget
matching, validation) before anything trains. Running the grid is :mod:`spectrum.study.sweep`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optuna

from ..cost.counts import count
from ..cost.latency import LatencySettings
from ..data import DataConfig, Splits
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..net.segments import PER_CHANNEL, Segments, segments_label, segments_sort_key
from ..net.xception import NetConfig, check_config
from ..records import DEFAULT_MARGIN_PP, SeedSchedule
from .trial import TrialSpec, resolve_net, uniform_net

DEFAULT_MAX_SEEDS = 12  # a sequential sweep's cap when none is given


def seed_schedule(
    seeds: int,
    until_decided: bool,
    max_seeds: int | None = None,
    seed_step: int | None = None,
    *,
    flags: tuple[str, str, str, str] = ("--seeds", "--until-decided", "--max-seeds", "--seed-step"),
) -> SeedSchedule | None:
    """The seed schedule the sweep flags (or study-file keys, named by ``flags``) ask for.

    None for a fixed sweep. ``--until-decided`` starts at ``seeds`` and adds ``seed_step``
    (default: ``seeds``) per round up to ``max_seeds`` (default :data:`DEFAULT_MAX_SEEDS`).
    """
    seeds_flag, until_flag, max_flag, step_flag = flags
    if not until_decided:
        for value, flag in ((max_seeds, max_flag), (seed_step, step_flag)):
            if value is not None:
                raise SpecError(f"{flag} needs {until_flag} (sequential seeds)")
        return None
    if seeds < 2:
        raise SpecError(f"{until_flag} needs {seeds_flag} >= 2 (a first look needs 2 seeds)")
    top = DEFAULT_MAX_SEEDS if max_seeds is None else max_seeds
    if top < seeds:
        raise SpecError(
            f"{max_flag} {top} is below {seeds_flag} {seeds}; give {max_flag} >= {seeds}"
        )
    step = seeds if seed_step is None else seed_step
    if step < 1:
        raise SpecError(f"{step_flag} must be >= 1, got {step}")
    return SeedSchedule(seeds, step, top)


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
    seeds: int = 1  # every configuration's seeds (sequential: its first round)
    match: str = "none"
    preset: str = "auto"
    width_multiplier: float = 1.0
    middle_repeats: int | None = None
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    latency: LatencySettings = field(default_factory=LatencySettings)
    # Sequential seeds (see :mod:`spectrum.study.sequential`): rounds of seeds up to
    # ``schedule.max`` for configurations still undecided at ``margin`` (accuracy points).
    schedule: SeedSchedule | None = None
    margin: float | None = None

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise SpecError(f"seeds must be >= 1, got {self.seeds}")
        if self.margin is not None and not (0 < self.margin < 100):
            raise SpecError(
                f"the equivalence margin (--margin) must be > 0 accuracy points (e.g. 0.5), "
                f"got {self.margin:g}"
            )
        if self.schedule is not None and self.schedule.start != self.seeds:
            raise SpecError(
                f"a sequential sweep starts with its seeds: schedule start "
                f"{self.schedule.start} != seeds {self.seeds}"
            )
        for name in ("segments", "orders", "activations", "residual"):
            values = getattr(self, name)
            if not values:
                raise SpecError(f"{name} must list at least one value")
            if len(set(values)) != len(values):
                raise SpecError(f"{name} lists a value twice: {list(values)}")

    @property
    def max_seeds(self) -> int:
        """The most seeds any configuration can get."""
        return self.seeds if self.schedule is None else self.schedule.max

    def configurations(self) -> list[tuple[Segments, str, str, bool]]:
        """(segments, order, activation, residual) of every configuration, in grid order."""
        segments = sorted(self.segments, key=segments_sort_key)
        return [
            (g, order, activation, residual)
            for order in self.orders
            for activation in self.activations
            for residual in self.residual
            for g in segments
        ]

    def points(self, seeds: int | None = None) -> list[GridPoint]:
        """Every configuration at seeds 0..n-1 (n: ``seeds``, default :attr:`max_seeds`)."""
        n = self.max_seeds if seeds is None else seeds
        return [
            GridPoint(*configuration, seed)
            for configuration in self.configurations()
            for seed in range(n)
        ]

    def fingerprint(self) -> dict:
        """What must be equal for two runs to belong to the same study."""
        return {
            "segments": sorted(segments_label(g) for g in self.segments),
            "orders": sorted(self.orders),
            "activations": sorted(self.activations),
            "residual": sorted(self.residual),
            "seeds": self.seeds,
            **self.sequential_fingerprint(),
            "match": self.match,
            "preset": self.preset,
            "width_multiplier": self.width_multiplier,
            "middle_repeats": self.middle_repeats,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }

    def sequential_fingerprint(self) -> dict:
        """A sequential sweep's schedule and margin: part of its fingerprint, never changed."""
        if self.schedule is None:
            return {}
        return {"seed_schedule": self.schedule.as_attr(), "margin": self.effective_margin}

    @property
    def effective_margin(self) -> float:
        """The equivalence margin in accuracy points (the report's default when not set)."""
        return DEFAULT_MARGIN_PP if self.margin is None else float(self.margin)

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
            "seeds": list(range(self.max_seeds)),
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

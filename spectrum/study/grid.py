"""A sweep's grid: its plan (:class:`SweepPlan`), its points, and every point's trial spec.

The grid is segments x orders x activations x residual x seeds; a configuration is one grid
point without its seed. :class:`SweepPlan` holds everything that defines a sweep's results (its
fingerprint, checked when a study is resumed), including the seed schedule of a sequential sweep
(:mod:`spectrum.study.sequential`). :func:`trial_specs` resolves every point's net (budget
matching, validation) before anything trains. Running the grid is :mod:`spectrum.study.sweep`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from ..cost.latency import LatencySettings
from ..cost.metrics import count
from ..data import DataConfig, Splits
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import Option, build, flag_of, option, options_of
from ..net.presets import PRESET_HELP
from ..net.segments import (
    PER_CHANNEL,
    Segments,
    parse_segments_arg,
    segments_label,
    segments_sort_key,
)
from ..net.xception import NetConfig, check_config
from ..options import ACTIVATIONS, MATCH_CHOICES, ORDERS, listed, one_of, switches
from ..records import DEFAULT_MARGIN_PP, MARGIN_HELP, SeedSchedule
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

    segments: tuple[Segments, ...] = field(
        default=(1, 4, 32, PER_CHANNEL),
        metadata=option(
            "Comma-separated g values; C = one segment per channel.",
            parse=parse_segments_arg,
            cli_type=str,
        ),
    )
    orders: tuple[str, ...] = field(
        default=("depthwise-first",),
        metadata=option(
            "Comma-separated op orders.",
            parse=listed(ORDERS),
            cli_type=str,
        ),
    )
    activations: tuple[str, ...] = field(
        default=("none",),
        metadata=option(
            "Comma-separated: none, relu, elu.",
            parse=listed(ACTIVATIONS),
            cli_type=str,
        ),
    )
    residual: tuple[bool, ...] = field(
        default=(True,),
        metadata=option("Comma-separated: on, off.", parse=switches, cli_type=str),
    )
    seeds: int = field(  # every configuration's seeds (sequential: its first round)
        default=1,
        metadata=option("Seeds per configuration (0..N-1); with --until-decided, the first round."),
    )
    match: str = field(
        default="none",
        metadata=option(
            "Scale widths to the g=C budget: " + " | ".join(MATCH_CHOICES),
            parse=one_of(MATCH_CHOICES),
        ),
    )
    preset: str = field(default="auto", metadata=option(PRESET_HELP))
    width_multiplier: float = field(
        default=1.0,
        metadata=option(
            "Width multiplier of the base net.", name="width", parse=lambda v, where: float(v)
        ),
    )
    middle_repeats: int | None = field(
        default=None, metadata=option("Middle-flow repeats (default: the preset's).", cli=False)
    )
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    latency: LatencySettings = field(default_factory=LatencySettings)
    # Sequential seeds (see :mod:`spectrum.study.sequential`): rounds of seeds up to
    # ``schedule.max`` for configurations still undecided at ``margin`` (accuracy points).
    schedule: SeedSchedule | None = None
    margin: float | None = field(default=None, metadata=option(MARGIN_HELP))

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


# The sweep's options beyond SweepPlan's own fields: the seed schedule's and the latency switch.
SEQUENTIAL = (
    Option(
        "until_decided",
        "until_decided",
        False,
        "Sequential seeds: after each round, add seeds only to configurations whose comparisons "
        "are undecided; the level is split over the planned looks.",
        bool,
        decls=("--until-decided",),
    ),
    Option(
        "max_seeds",
        "max_seeds",
        None,
        f"With --until-decided: the most seeds a configuration gets (default {DEFAULT_MAX_SEEDS}).",
        int | None,
    ),
    Option(
        "seed_step",
        "seed_step",
        None,
        "With --until-decided: seeds added per round (default: --seeds).",
        int | None,
    ),
)
LATENCY = Option(
    "latency",
    "latency",
    True,
    "Time every trial's inference and training step (seconds per trial); not part of the "
    "study's settings, so a resumed sweep may change it.",
    bool,
    decls=("--latency/--no-latency",),
)


def sweep_options() -> tuple[Option, ...]:
    """Every option of a sweep, as ``spectrum sweep`` lists them: the plan's, the sequential
    seeds', the latency switch, then the data's and the training's."""
    return (
        *options_of(SweepPlan),
        *SEQUENTIAL,
        LATENCY,
        *options_of(DataConfig),
        *options_of(TrainConfig),
    )


def sweep_plan(
    values: Mapping[str, Any],
    where: Callable[[Option], str] = flag_of,
    *,
    data: DataConfig | None = None,
    train: TrainConfig | None = None,
    latency: LatencySettings | None = None,
) -> SweepPlan:
    """The sweep that option ``values`` (keyed by option name; missing: the defaults) ask for;
    errors name each value by ``where`` (the flag, or a study file's key). A study file gives
    its ``data``, ``train`` and ``latency`` sections whole."""
    seeds_option = next(o for o in options_of(SweepPlan) if o.name == "seeds")
    schedule = seed_schedule(
        values.get("seeds", seeds_option.default),
        values.get("until_decided", False),
        values.get("max_seeds"),
        values.get("seed_step"),
        flags=tuple(where(o) for o in (seeds_option, *SEQUENTIAL)),  # type: ignore[arg-type]
    )
    return build(
        SweepPlan,
        values,
        where,
        schedule=schedule,
        data=data or build(DataConfig, values, where),
        train=train or build(TrainConfig, values, where),
        latency=latency or LatencySettings(enabled=values.get("latency", True)),
    )


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

"""The search plan: the space, objectives, constraints, budget, sampler and pruner of a search.

:class:`SearchPlan` is everything that defines a search's results, so every worker on a study
must agree on it (its :meth:`~SearchPlan.fingerprint` is stored on the study). It is validated
once, when made, by :func:`search_plan` from the command line's, the API's or a study file's
``[search]`` values (:func:`spectrum.study.studyfile.search_settings`).

Objectives (:data:`spectrum.options.SEARCH_OBJECTIVES`): ``accuracy`` (validation, maximised), ``params``, ``flops`` and
``latency`` (minimised). One objective may be pruned (median or Hyperband, fed the validation
accuracy after every epoch). Several objectives may be pruned by ``front``
(:mod:`spectrum.study.front_pruner`: a finished trial that costs no more was ahead by more than
the band at the same epoch, ``prune_band`` at the last and wider before); Optuna's own pruners
refuse several objectives.

Constraints (:class:`Constraints`: max params, FLOPs, latency) are checked from the counts BEFORE
training; an infeasible trial is not trained (see :mod:`spectrum.study.search`).

The options of a search are declared once, on the fields of :class:`SearchPlan`,
:class:`Constraints`, :class:`SpaceOptions` (the space as flags and keywords give it) and
:class:`Heartbeat`: :func:`search_options` lists them for ``spectrum search`` and
:func:`spectrum.search`, and :func:`search_plan` builds the plan from their values, as it does from
a study file's ``[search]`` table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..cost.latency import LatencySettings
from ..data import DataConfig
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import Option, build, flag_of, option, options_of
from ..options import SEARCH_OBJECTIVES as OBJECTIVES
from ..options import items, number
from .front_pruner import BAND_POWER, DEFAULT_PRUNE_BAND, pilot_noise
from .grid import LATENCY as SWEEP_LATENCY
from .space import SearchSpace
from .space_options import SpaceOptions
from .storage import GRACE_PERIOD_S, HEARTBEAT_INTERVAL_S

SAMPLERS = ("tpe", "nsga2", "random")
PRUNERS = ("auto", "median", "hyperband", "front", "none")


def _number(kind: type, unset: Any = None) -> Callable[[Any, str], Any]:
    """A parser for an ``int`` or ``float`` option given as a number or as text (None: ``unset``)."""
    return lambda value, where: unset if value is None else kind(number(value, where, kind))


def _word(value: Any, where: str) -> str:
    return str(value).strip().lower()


@dataclass(frozen=True)
class Constraints:
    """Upper bounds checked before training; ``None`` = no bound."""

    max_params: int | None = field(
        default=None,
        metadata=option(
            "Constraint: at most this many parameters (checked before training).",
            parse=_number(int),
        ),
    )
    max_flops: int | None = field(
        default=None,
        metadata=option(
            "Constraint: at most this many FLOPs (fvcore multiply-adds per image).",
            parse=_number(int),
        ),
    )
    max_latency_ms: float | None = field(
        default=None,
        metadata=option(
            "Constraint: at most this inference latency per batch (ms).", parse=_number(float)
        ),
    )

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and not value > 0:
                raise SpecError(f"--{item.name.replace('_', '-')} must be > 0, got {value}")

    @property
    def active(self) -> bool:
        return any(getattr(self, item.name) is not None for item in fields(self))

    def bounds(self) -> dict[str, float]:
        """Record key -> bound, for the bounds that are set."""
        pairs = {
            "params": self.max_params,
            "flops": self.max_flops,
            "latency_ms": self.max_latency_ms,
        }
        return {key: float(bound) for key, bound in pairs.items() if bound is not None}

    def violations(self, record: Mapping[str, Any]) -> dict[str, float]:
        """Constraint values for Optuna: ``value / bound - 1`` (feasible when <= 0)."""
        return {key: float(record[key]) / bound - 1.0 for key, bound in self.bounds().items()}

    def explain(self, record: Mapping[str, Any]) -> str:
        over = [
            f"{key} {record[key]:,.6g} > max {bound:,.6g}"
            for key, bound in self.bounds().items()
            if float(record[key]) > bound
        ]
        return "; ".join(over)


@dataclass(frozen=True)
class SearchPlan:
    """Everything that defines a search's results (and so what every worker must agree on)."""

    space: SearchSpace = field(default_factory=SearchSpace)
    objectives: tuple[str, ...] = field(
        default=("accuracy",),
        metadata=option(
            "Comma-separated, any of: accuracy (validation, maximized), params, flops, latency "
            "(minimized). Several objectives make a multi-objective study.",
            parse=lambda value, where: tuple(_word(o, where) for o in items(value, where)),
            cli_type=str,
        ),
    )
    constraints: Constraints = field(default_factory=Constraints)
    trials: int = field(
        default=20,
        metadata=option(
            "Stop when the study holds this many finished trials (complete, infeasible or "
            "pruned; failed ones do not count). Every worker on the study stops there.",
            parse=_number(int),
        ),
    )
    sampler: str = field(
        default="tpe",
        metadata=option("tpe | nsga2 | random (NSGA-II population 10).", parse=_word),
    )
    pruner: str = field(
        default="auto",
        metadata=option(
            "auto | median | hyperband | front | none. median and hyperband: single objective "
            "'accuracy' only (auto: hyperband there, else none); front: several objectives, "
            "prunes a trial when a finished trial that costs no more was ahead by more than the "
            "band at the same epoch (--prune-band, wider toward early epochs).",
            parse=_word,
        ),
    )
    prune_band: float = field(  # accuracy (fraction); the front pruner only
        default=DEFAULT_PRUNE_BAND,
        metadata=option(
            "The seed-noise band for the final validation accuracy (0.015 = 1.5 points): "
            "screens the candidates of --confirm; the front pruner widens it toward early "
            "epochs (docs/search.md).",
            parse=_number(float, unset=DEFAULT_PRUNE_BAND),
        ),
    )
    prune_noise_from: str | None = field(  # a search's report folder; the front pruner only
        default=None,
        metadata=option(
            "A finished search's report folder, trained at this budget, whose --confirm seeds "
            "measured the seed SD per epoch: the front pruner's band at each epoch then comes "
            "from that measurement instead of widening --prune-band (docs/search.md).",
            parse=lambda value, where: str(value) if value else None,
            cli_type=Path | None,
        ),
    )
    confirm: int = field(  # seeds per front candidate after the search; not fingerprinted
        default=0,
        metadata=option(
            "After the search, re-train the configurations near the Pareto front with up to "
            "this many seeds (3 first, more only where dominance is undecided) and report the "
            "front within noise. 0: off.",
            parse=_number(int),
        ),
    )
    seed: int = field(
        default=0,
        metadata=option(
            "Seeds the sampler (per trial number, so workers differ and one worker is "
            "reproducible) and every trial's training.",
            parse=_number(int),
        ),
    )
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    latency: LatencySettings | None = field(default_factory=LatencySettings)

    def __post_init__(self) -> None:
        objectives = tuple(self.objectives)
        if not objectives:
            raise SpecError(f"--objectives lists no objective; use any of: {', '.join(OBJECTIVES)}")
        for name in objectives:
            if name not in OBJECTIVES:
                raise SpecError(f"--objectives: {name!r} is not one of: {', '.join(OBJECTIVES)}")
        if len(set(objectives)) != len(objectives):
            raise SpecError(f"--objectives names an objective twice: {', '.join(objectives)}")
        if self.trials < 1:
            raise SpecError(f"--trials must be >= 1, got {self.trials}")
        if self.sampler not in SAMPLERS:
            raise SpecError(f"--sampler {self.sampler!r} is not one of: {', '.join(SAMPLERS)}")
        if self.pruner not in PRUNERS:
            raise SpecError(f"--pruner {self.pruner!r} is not one of: {', '.join(PRUNERS)}")
        if self.pruner == "front":
            if "accuracy" not in objectives or len(objectives) < 2:
                raise SpecError(
                    "--pruner front compares validation accuracy among trials that cost no "
                    "more: give --objectives accuracy and at least one of params, flops, latency"
                )
            if not 0 <= self.prune_band < 1:
                raise SpecError(
                    f"--prune-band is an accuracy difference in [0, 1), got {self.prune_band}"
                )
            self.pilot_sd()  # read now, so a bad folder fails before any training
        elif self.prune_noise_from:
            raise SpecError("--prune-noise-from sets the front pruner's band; give --pruner front")
        if self.pruner not in ("auto", "none", "front"):
            if len(objectives) > 1:
                raise SpecError(
                    f"--pruner {self.pruner}: pruning is not available for "
                    f"multi-objective studies in Optuna (objectives: "
                    f"{', '.join(objectives)}); use --pruner front or none"
                )
            if objectives != ("accuracy",):
                raise SpecError(
                    f"--pruner {self.pruner}: pruning compares validation accuracy "
                    f"per epoch, so it needs --objectives accuracy"
                )
        if self.confirm:
            if self.confirm < 3:
                raise SpecError(f"--confirm must be 0 (off) or >= 3 seeds, got {self.confirm}")
            if "accuracy" not in objectives or len(objectives) < 2:
                raise SpecError(
                    "--confirm decides a Pareto front of accuracy against costs: give "
                    "--objectives accuracy and at least one of params, flops, latency"
                )
        needs_latency = "latency" in objectives or self.constraints.max_latency_ms is not None
        if needs_latency and self.latency is None:
            raise SpecError(
                "the latency objective or --max-latency-ms needs latency "
                "measurements; drop --no-latency"
            )

    def pilot_sd(self) -> dict[int, float]:
        """The seed SD per epoch that ``--prune-noise-from`` measured ({} without one)."""
        if not self.prune_noise_from:
            return {}
        return pilot_noise(self.prune_noise_from, self.train.as_dict(), asdict(self.data))

    @property
    def pruner_name(self) -> str:
        """The pruner actually used: ``auto`` is hyperband for accuracy alone, else none."""
        if self.pruner != "auto":
            return self.pruner
        return "hyperband" if self.objectives == ("accuracy",) else "none"

    @property
    def directions(self) -> list[str]:
        return [OBJECTIVES[name].direction for name in self.objectives]

    def fingerprint(self) -> dict:
        """What must be equal for two workers (or a resumed run) to share a study."""
        return {
            "space": self.space.to_dict(),
            "objectives": list(self.objectives),
            "constraints": asdict(self.constraints),
            "sampler": self.sampler,
            "pruner": self.pruner_name,
            **(
                {"prune_band": self.prune_band, "prune_band_power": BAND_POWER}
                if self.pruner_name == "front"
                else {}
            ),
            **({"prune_noise_from": self.prune_noise_from} if self.prune_noise_from else {}),
            "seed": self.seed,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }


# The keys of a study file's [search] table that are the plan's (the rest are the space's).
PLAN_KEYS = tuple(opt.name for opt in (*options_of(SearchPlan), *options_of(Constraints)))


@dataclass(frozen=True)
class Heartbeat:
    """How a search's running trials show they are alive (SQL storages): the storage's options,
    not the plan's, so each worker may give its own."""

    heartbeat_interval: int = field(
        default=HEARTBEAT_INTERVAL_S,
        metadata=option("Seconds between trial heartbeats (SQL storages).", parse=_number(int)),
    )
    grace_period: int = field(
        default=GRACE_PERIOD_S,
        metadata=option(
            "Seconds without a heartbeat before a trial is failed and re-queued once.",
            parse=_number(int),
        ),
    )


# The search's latency switch: the sweep's, with what the search needs it for.
LATENCY = replace(
    SWEEP_LATENCY,
    help="Measure latency of every trial (needed by the latency objective/constraint).",
)


def search_options() -> tuple[Option, ...]:
    """Every option of a search, as ``spectrum search`` lists them: the plan's, the space's, the
    constraints, the latency switch, the heartbeat's, then the data's and the training's (whose
    learning rate the space's ``lr`` gives)."""
    return (
        *options_of(SearchPlan),
        *options_of(SpaceOptions),
        *options_of(Constraints),
        LATENCY,
        *options_of(Heartbeat),
        *options_of(DataConfig),
        *(opt for opt in options_of(TrainConfig) if opt.name != "lr"),
    )


def search_plan(
    values: Mapping[str, Any],
    where: Callable[[Option], str] = flag_of,
    *,
    space: SearchSpace | None = None,
    data: DataConfig | None = None,
    train: TrainConfig | None = None,
    latency: LatencySettings | None = LatencySettings(),
) -> SearchPlan:
    """The search that option ``values`` (keyed by option name; missing: the defaults) ask for:
    the one place a :class:`SearchPlan` is made, for ``spectrum search``, :func:`spectrum.search`
    and a study file's ``[search]`` table, which gives its ``space``, ``data``, ``train`` and
    ``latency`` whole. Errors name each value by ``where`` (the flag, or a study file's key)."""
    lr = TrainConfig.lr
    if space is None:
        space, lr = build(SpaceOptions, values, where).space()
    return build(
        SearchPlan,
        values,
        where,
        space=space,
        constraints=build(Constraints, values, where),
        data=data or build(DataConfig, values, where),
        train=train or build(TrainConfig, {**values, "lr": lr}, where),
        latency=latency if values.get("latency", True) else None,
    )


def storage_options(values: Mapping[str, Any], where: Callable[[Option], str] = flag_of) -> dict:
    """The storage's options (:class:`Heartbeat`) among a search's option ``values``."""
    return asdict(build(Heartbeat, values, where))

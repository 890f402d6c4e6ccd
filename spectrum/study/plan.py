"""The search plan: the space, objectives, constraints, budget, sampler and pruner of a search.

:class:`SearchPlan` is everything that defines a search's results, so every worker on a study
must agree on it (its :meth:`~SearchPlan.fingerprint` is stored on the study). It is validated
once, when made, from the command line or from a study file's ``[search]`` table
(:meth:`SearchPlan.from_dict`).

Objectives (:data:`spectrum.options.SEARCH_OBJECTIVES`): ``accuracy`` (validation, maximised), ``params``, ``flops`` and
``latency`` (minimised). One objective may be pruned (median or Hyperband, fed the validation
accuracy after every epoch). Several objectives may be pruned by ``front``
(:mod:`spectrum.study.front_pruner`: a finished trial that costs no more was ahead by more than
the band at the same epoch, ``prune_band`` at the last and wider before); Optuna's own pruners
refuse several objectives.

Constraints (:class:`Constraints`: max params, FLOPs, latency) are checked from the counts BEFORE
training; an infeasible trial is not trained (see :mod:`spectrum.study.search`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..cost.latency import LatencySettings
from ..data import DataConfig
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..options import SEARCH_OBJECTIVES as OBJECTIVES
from ..options import items, number
from .front_pruner import BAND_POWER, DEFAULT_PRUNE_BAND
from .space import SPACE_KEYS, SearchSpace, merge_space_data

SAMPLERS = ("tpe", "nsga2", "random")
PRUNERS = ("auto", "median", "hyperband", "front", "none")
PLAN_KEYS = (
    "objectives",
    "trials",
    "sampler",
    "pruner",
    "prune_band",
    "confirm",
    "seed",
    "max_params",
    "max_flops",
    "max_latency_ms",
)


@dataclass(frozen=True)
class Constraints:
    """Upper bounds checked before training; ``None`` = no bound."""

    max_params: int | None = None
    max_flops: int | None = None
    max_latency_ms: float | None = None

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
    objectives: tuple[str, ...] = ("accuracy",)
    constraints: Constraints = field(default_factory=Constraints)
    trials: int = 20
    sampler: str = "tpe"
    pruner: str = "auto"
    prune_band: float = DEFAULT_PRUNE_BAND  # accuracy (fraction); the front pruner only
    confirm: int = 0  # seeds per front candidate after the search (0: none); not fingerprinted
    seed: int = 0
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
        elif self.pruner not in ("auto", "none"):
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

    @classmethod
    def from_dict(
        cls,
        table: Mapping[str, Any],
        *,
        data: DataConfig | None = None,
        train: TrainConfig | None = None,
        latency: LatencySettings | None = LatencySettings(),
        where: str = "search",
    ) -> SearchPlan:
        """A plan from a study file's ``[search]`` table.

        Keys: ``objectives``, ``trials``, ``sampler``, ``pruner``, ``seed``, ``max_params``,
        ``max_flops``, ``max_latency_ms``, and the space: either a ``space`` table or its keys
        (see :meth:`SearchSpace.from_dict`) directly in ``[search]``. Errors are one line
        starting with ``where``.
        """
        if not isinstance(table, Mapping):
            raise SpecError(f"{where}: expected a table, got {type(table).__name__}")
        unknown = sorted(set(table) - set(PLAN_KEYS) - set(SPACE_KEYS) - {"space"})
        if unknown:
            raise SpecError(
                f"{where}: unknown key {unknown[0]!r} (known: "
                f"{', '.join((*PLAN_KEYS, 'space', *SPACE_KEYS))})"
            )
        inline = {k: v for k, v in table.items() if k in SPACE_KEYS}
        if inline and "space" in table:
            raise SpecError(
                f"{where}: give the space as a [space] table or as keys of the "
                f"section, not both ({', '.join(sorted(inline))})"
            )
        try:
            space = SearchSpace.from_dict(table.get("space", inline))
            objectives = tuple(
                str(o).strip().lower()
                for o in items(table.get("objectives", "accuracy"), "search space objectives")
            )
            return search_plan(
                {**table, "objectives": objectives},
                space,
                data=data or DataConfig(),
                train=train or TrainConfig(),
                latency=latency,
            )
        except SpecError as error:
            raise SpecError(f"{where}: {error}") from None

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
            "seed": self.seed,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }


# The plan's numbers and their kinds, as a study file, the command line or the API gives them.
PLAN_NUMBERS = {
    "trials": int,
    "seed": int,
    "prune_band": float,
    "confirm": int,
    "max_params": int,
    "max_flops": int,
    "max_latency_ms": float,
}


def search_plan(
    values: Mapping[str, Any],
    space: SearchSpace,
    *,
    data: DataConfig,
    train: TrainConfig,
    latency: LatencySettings | None,
    where: Callable[[str], str] = lambda key: key,
) -> SearchPlan:
    """The search that ``values`` (keyed by :data:`PLAN_KEYS`; missing: the plan's defaults) ask
    for over ``space``: the one place a :class:`SearchPlan` is made, for a study file's
    ``[search]`` table, ``spectrum search`` and :func:`spectrum.search`. Numbers may be text;
    errors name a value by ``where(key)``."""
    numbers = {
        key: kind(number(values[key], where(key), kind))
        for key, kind in PLAN_NUMBERS.items()
        if values.get(key) is not None
    }
    objectives = values.get("objectives", SearchPlan.objectives)
    return SearchPlan(
        space=space,
        objectives=tuple(str(o).strip().lower() for o in items(objectives, where("objectives"))),
        constraints=Constraints(
            numbers.get("max_params"), numbers.get("max_flops"), numbers.get("max_latency_ms")
        ),
        trials=numbers.get("trials", SearchPlan.trials),
        sampler=str(values.get("sampler", SearchPlan.sampler)).strip().lower(),
        pruner=str(values.get("pruner", SearchPlan.pruner)).strip().lower(),
        seed=numbers.get("seed", SearchPlan.seed),
        prune_band=numbers.get("prune_band", SearchPlan.prune_band),
        confirm=numbers.get("confirm", SearchPlan.confirm),
        train=train,
        data=data,
        latency=latency,
    )


def search_space(
    flows: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> tuple[SearchSpace, float]:
    """The space of ``spectrum search`` and :func:`spectrum.search`, and the training's learning
    rate: ``flows`` are the per-flow choices as :meth:`SearchSpace.from_dict` data (each door
    reads its own spelling of them), ``values`` the ``widths``, ``repeats``, ``residual``,
    ``preset`` and ``lr`` given (see :func:`searched_lr`)."""
    base_lr, searched = searched_lr(values.get("lr", TrainConfig.lr))
    rest = {
        key: values[key] for key in ("widths", "repeats", "residual", "preset") if key in values
    }
    return SearchSpace.from_dict(merge_space_data(*flows, {**rest, **searched})), base_lr


def searched_lr(lr: Any, where: str = "--lr") -> tuple[float, dict]:
    """``--lr`` of a search: one number (the training's, not searched), or a list of choices
    (``0.05,0.2``) or a log-uniform range (``LOW:HIGH``) for the space. Returns the training's
    learning rate and the space's ``lr`` entry (empty when not searched)."""
    if isinstance(lr, (int, float)) and not isinstance(lr, bool):
        return float(lr), {}
    text = (lr if isinstance(lr, str) else ",".join(str(v) for v in lr)).strip()
    if "," in text or ":" in text:
        return TrainConfig.lr, {"lr": text}
    try:
        return float(text), {}
    except ValueError:
        raise SpecError(
            f"{where} {lr!r}: give a number, a list (0.05,0.2) or a range LOW:HIGH"
        ) from None


# The name the study-file loader uses for a search's settings.
SearchSettings = SearchPlan

"""The search plan: the space, objectives, constraints, budget, sampler and pruner of a search.

:class:`SearchPlan` is everything that defines a search's results, so every worker on a study
must agree on it (its :meth:`~SearchPlan.fingerprint` is stored on the study). It is validated
once, when made, from the command line or from a study file's ``[search]`` table
(:meth:`SearchPlan.from_dict`).

Objectives (:data:`OBJECTIVES`): ``accuracy`` (validation, maximised), ``params``, ``flops`` and
``latency`` (minimised). One objective may be pruned (median or Hyperband, fed the validation
accuracy after every epoch). Several objectives may be pruned by ``front``
(:mod:`spectrum.study.front_pruner`: a finished trial that costs no more was ahead by more than
``prune_band`` at the same epoch); Optuna's own pruners refuse several objectives.

Constraints (:class:`Constraints`: max params, FLOPs, latency) are checked from the counts BEFORE
training; an infeasible trial is not trained (see :mod:`spectrum.study.search`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..cost.latency import LatencySettings
from ..data import DataConfig
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..options import items, number
from .front_pruner import DEFAULT_PRUNE_BAND
from .space import SPACE_KEYS, SearchSpace

OBJECTIVES: dict[str, str] = {
    "accuracy": "maximize",
    "params": "minimize",
    "flops": "minimize",
    "latency": "minimize",
}
# Where each objective's value lives in a trial record.
OBJECTIVE_KEYS = {
    "accuracy": "val_acc",
    "params": "params",
    "flops": "flops",
    "latency": "latency_ms",
}
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
            if "accuracy" not in objectives or len(objectives) < 2 or "latency" in objectives:
                raise SpecError(
                    "--confirm decides a Pareto front from exact cost counts: give --objectives "
                    "accuracy and params and/or flops (not latency)"
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
            numbers = {}
            for key, kind in (
                ("trials", int),
                ("seed", int),
                ("prune_band", float),
                ("confirm", int),
                ("max_params", int),
                ("max_flops", int),
                ("max_latency_ms", float),
            ):
                if table.get(key) is not None:
                    numbers[key] = kind(number(table[key], key, kind))
            return cls(
                space=space,
                objectives=objectives,
                constraints=Constraints(
                    numbers.get("max_params"),
                    numbers.get("max_flops"),
                    numbers.get("max_latency_ms"),
                ),
                trials=numbers.get("trials", cls.trials),
                sampler=str(table.get("sampler", cls.sampler)).strip().lower(),
                pruner=str(table.get("pruner", cls.pruner)).strip().lower(),
                seed=numbers.get("seed", cls.seed),
                prune_band=numbers.get("prune_band", cls.prune_band),
                confirm=numbers.get("confirm", cls.confirm),
                train=train or TrainConfig(),
                data=data or DataConfig(),
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
        return [OBJECTIVES[name] for name in self.objectives]

    def fingerprint(self) -> dict:
        """What must be equal for two workers (or a resumed run) to share a study."""
        return {
            "space": self.space.to_dict(),
            "objectives": list(self.objectives),
            "constraints": asdict(self.constraints),
            "sampler": self.sampler,
            "pruner": self.pruner_name,
            **({"prune_band": self.prune_band} if self.pruner_name == "front" else {}),
            "seed": self.seed,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }


# The name the study-file loader uses for a search's settings.
SearchSettings = SearchPlan

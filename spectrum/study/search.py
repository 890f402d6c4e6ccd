"""Searches: Optuna picks per-flow points of the spectrum (and friends), under budgets.

A search samples, for each flow (entry, middle, exit), the segment count g, the op order and the
intermediate activation, plus the width multiplier, the middle-flow repeats, residual connections
and optionally the learning rate. :class:`SearchSpace` is the one definition of those choices;
:meth:`SearchSpace.from_dict` builds it from plain data (command-line strings or a study file)
and rejects a bad key or value with a one-line :class:`~spectrum.errors.SpecError` naming it.

Every point of a space builds: a flow's g choices are powers of two that divide every channel
count the flow's spatial convolutions see at every width multiplier and op order of the space
(plus ``C``), so no rounding is needed and no sampled point can fail to build. An explicit g that
would not divide is refused when the space is made.

Objectives (:data:`OBJECTIVES`): ``accuracy`` (validation, maximised), ``params``, ``flops`` and
``latency`` (minimised). One objective: TPE (or NSGA-II / random) with a pruner (median or
Hyperband) fed the validation accuracy after every epoch; pruned trials end PRUNED with status
``pruned`` and the epochs they ran in their curve. Several objectives: NSGA-II or TPE, no pruner
(Optuna has no multi-objective pruning; asking for one is a :class:`SpecError`).

Constraints (:class:`Constraints`: max params, FLOPs, latency) are checked from the counts BEFORE
training. An infeasible trial is not trained: it ends COMPLETE in Optuna with its constraint
violations recorded by ``Trial.set_constraint`` (so samplers steer away from it and
``study.best_trials`` leaves it out), status ``infeasible``, no curve and no accuracy; its accuracy
objective is a 0.0 placeholder that nothing reads.

Workers: any number of processes may run :func:`run_search` on the same study. Each pulls one
trial at a time through :meth:`optuna.Study.optimize` (so RDB heartbeats run) until the study
holds ``trials`` finished trials, counting COMPLETE (complete and infeasible) and PRUNED ones;
failed, diverged and interrupted trials do not count. A worker only starts a trial while
finished + running < ``trials`` (or a re-queued trial waits), and a trial that still finds the
study full when it starts (two workers raced) ends FAIL untrained, so a study never ends with more
than ``trials`` finished trials. A worker with nothing to start waits while others run the last
trials, failing stale ones (heartbeat storages; on other storages a same-host trial whose process
is gone) and running their re-queued copies, so a killed worker's trial is finished by another.

Duplicates: TPE on an all-categorical space sometimes proposes a point the study already holds
(complete or running). Training it again would only repeat the same numbers (same seed), so such a
trial is not trained: it ends FAIL (status ``failed``, ``not_run="duplicate"``, ``duplicate_of``)
and an untried random point is queued in its place; ``trials`` counts distinct trained points.

Sampler seeding: every trial's sampler is seeded from (``seed``, trial number), so a single-worker
search is reproducible and workers started with the same ``--seed`` never draw the same random
startup points.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import optuna
import pandas as pd
import torch
from optuna.trial import TrialState

from ..cost.counts import LatencySettings
from ..data.datasets import DataConfig, Splits, load_dataset
from ..device import describe, resolve_precision
from ..engine.train import DeviceData, EpochRecord, TrainConfig, train
from ..errors import SpecError
from ..net.blocks import ACTIVATIONS, ORDERS, parse_choice
from ..net.segments import PER_CHANNEL, Segments, parse_segments, segments_label, segments_sort_key
from ..net.xception import (
    FLOWS,
    PRESETS,
    FlowSettings,
    NetConfig,
    build_net,
    resolve_widths,
    separable_layers,
)
from .fingerprints import changed_settings
from .sweep import SweepEvents, choose_preset
from .trial import TrialSpec, count_record, describe_trial, net_for_data, versions
from .workers import dead_on_this_host, worker_id

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
PRUNERS = ("auto", "median", "hyperband", "none")
NSGA2_POPULATION = 10
DEFAULT_WIDTHS = (0.5, 0.75, 1.0)
DEFAULT_REPEATS = (1, 2, 3)
POLL_S = 2.0
SPACE_KEYS = (
    "segments",
    "orders",
    "activations",
    "entry",
    "middle",
    "exit",
    "widths",
    "repeats",
    "residual",
    "lr",
    "lr_range",
    "preset",
)
FLOW_KEYS = ("segments", "orders", "activations")
PLAN_KEYS = (
    "objectives",
    "trials",
    "sampler",
    "pruner",
    "seed",
    "max_params",
    "max_flops",
    "max_latency_ms",
)
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
TRAINING_FAILURES = ("failed", "diverged")


# --------------------------------------------------------------------------------------------
# The search space


def _items(value: Any, key: str) -> list:
    """A list from a list/tuple, a comma-separated string or a single scalar."""
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise SpecError(f"search space {key}: {value!r} has an empty item")
        return items
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, Mapping):
        raise SpecError(
            f"search space {key}: expected a list or a comma-separated string, got {value!r}"
        )
    return [value]


def _unique(values: list, key: str) -> tuple:
    if not values:
        raise SpecError(f"search space {key}: lists no value")
    if len(set(values)) != len(values):
        raise SpecError(
            f"search space {key}: lists a value twice: {', '.join(str(v) for v in values)}"
        )
    return tuple(values)


def _number(item: Any, key: str, kind: type, prefix: str = "search space ") -> float | int:
    what = "an integer" if kind is int else "a number"
    if isinstance(item, bool):
        raise SpecError(f"{prefix}{key}: {item!r} is not {what}")
    try:
        value = kind(item) if not isinstance(item, str) else kind(item.strip())
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"{prefix}{key}: {item!r} is not {what}") from None
    if kind is int and not isinstance(item, (int, str)) and float(item) != value:
        raise SpecError(f"{prefix}{key}: {item!r} is not an integer")
    if not math.isfinite(value):
        raise SpecError(f"{prefix}{key}: {item!r} is not a finite number")
    return value


def _bool(item: Any, key: str) -> bool:
    if isinstance(item, bool):
        return item
    text = str(item).strip().lower()
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    raise SpecError(f"search space {key}: {item!r} is not on or off")


def _segments(values: Any, key: str) -> tuple[Segments, ...]:
    parsed = []
    for item in _items(values, key):
        try:
            parsed.append(parse_segments(item))
        except SpecError as error:
            raise SpecError(f"search space {key}: {error}") from None
    return tuple(sorted(_unique(parsed, key), key=segments_sort_key))


def _choices(values: Any, allowed: tuple[str, ...], key: str) -> tuple[str, ...]:
    parsed = []
    for item in _items(values, key):
        try:
            parsed.append(parse_choice(item, allowed, key))
        except SpecError:
            raise SpecError(
                f"search space {key}: {item!r} is not one of: {', '.join(allowed)}"
            ) from None
    return _unique(parsed, key)


@dataclass(frozen=True)
class FlowSpace:
    """The choices of one flow. ``segments=None``: every g that builds (see the module doc)."""

    segments: tuple[Segments, ...] | None = None
    orders: tuple[str, ...] = ORDERS
    activations: tuple[str, ...] = ACTIVATIONS


@dataclass(frozen=True)
class SearchSpace:
    """Everything a search may vary. Made valid: every point of it builds.

    ``lr`` (choices) and ``lr_range`` (log-uniform ``(low, high)``) are exclusive; with neither,
    the learning rate is the training config's and is not searched. ``preset`` ``auto`` picks the
    proxy for the dataset's image size (both proxies have the same widths).
    """

    entry: FlowSpace = field(default_factory=FlowSpace)
    middle: FlowSpace = field(default_factory=FlowSpace)
    exit: FlowSpace = field(default_factory=FlowSpace)
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    repeats: tuple[int, ...] = DEFAULT_REPEATS
    residual: tuple[bool, ...] = (True, False)
    lr: tuple[float, ...] = ()
    lr_range: tuple[float, float] | None = None
    preset: str = "auto"

    def __post_init__(self) -> None:
        if self.preset != "auto" and self.preset not in PRESETS:
            raise SpecError(
                f"search space preset: {self.preset!r} is not one of: auto, {', '.join(PRESETS)}"
            )
        _unique(list(self.widths), "widths")
        if any(not w > 0 for w in self.widths):
            raise SpecError(
                f"search space widths: every width multiplier must be > 0, got "
                f"{', '.join(str(w) for w in self.widths)}"
            )
        _unique(list(self.repeats), "repeats")
        if any(r < 0 for r in self.repeats):
            raise SpecError(
                f"search space repeats: middle-flow repeats must be >= 0, got "
                f"{', '.join(str(r) for r in self.repeats)}"
            )
        _unique(list(self.residual), "residual")
        if self.lr and self.lr_range is not None:
            raise SpecError("search space lr: give lr choices or lr_range, not both")
        if self.lr:
            _unique(list(self.lr), "lr")
            if any(not v > 0 for v in self.lr):
                raise SpecError("search space lr: every learning rate must be > 0")
        if self.lr_range is not None:
            low, high = self.lr_range
            if not 0 < low < high:
                raise SpecError(f"search space lr_range: need 0 < low < high, got {low}:{high}")
        for flow in FLOWS:
            space = self.flow(flow)
            _unique(list(space.orders), f"{flow}.orders")
            _unique(list(space.activations), f"{flow}.activations")
            if space.segments is not None:
                _unique(list(space.segments), f"{flow}.segments")
                self._check_segments(flow, space)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        """A space from plain data, e.g. a study file's ``[space]`` table.

        Keys: ``segments``, ``orders``, ``activations`` (every flow), tables ``entry``,
        ``middle``, ``exit`` with the same three keys (that flow only, overriding), ``widths``,
        ``repeats``, ``residual`` (on/off or booleans), ``lr`` (choices, or ``"LOW:HIGH"`` /
        ``{low, high}`` for a log-uniform range), ``lr_range`` (``[low, high]``), ``preset``.
        Each list may be a list or a comma-separated string. Missing keys keep the defaults.
        Segments are ``C`` or positive integers (``"C"``/``"c"`` also as strings).
        """
        if not isinstance(data, Mapping):
            raise SpecError(f"search space: expected a table of keys, got {type(data).__name__}")
        unknown = sorted(set(data) - set(SPACE_KEYS))
        if unknown:
            raise SpecError(
                f"search space: unknown key {unknown[0]!r} (known: {', '.join(SPACE_KEYS)})"
            )
        shared = {key: data[key] for key in FLOW_KEYS if key in data}
        flows = {}
        for flow in FLOWS:
            table = data.get(flow, {})
            if not isinstance(table, Mapping):
                raise SpecError(
                    f"search space {flow}: expected a table with keys "
                    f"{', '.join(FLOW_KEYS)}, got {table!r}"
                )
            bad = sorted(set(table) - set(FLOW_KEYS))
            if bad:
                raise SpecError(
                    f"search space {flow}: unknown key {bad[0]!r} (known: {', '.join(FLOW_KEYS)})"
                )
            merged = {**shared, **table}
            where = {key: (f"{flow}.{key}" if key in table else key) for key in FLOW_KEYS}
            flows[flow] = FlowSpace(
                segments=(
                    _segments(merged["segments"], where["segments"])
                    if merged.get("segments") not in (None, "", "all")
                    else None
                ),
                orders=(
                    _choices(merged["orders"], ORDERS, where["orders"])
                    if "orders" in merged
                    else ORDERS
                ),
                activations=(
                    _choices(merged["activations"], ACTIVATIONS, where["activations"])
                    if "activations" in merged
                    else ACTIVATIONS
                ),
            )
        kwargs: dict[str, Any] = dict(flows)
        if "widths" in data:
            kwargs["widths"] = _unique(
                [float(_number(w, "widths", float)) for w in _items(data["widths"], "widths")],
                "widths",
            )
        if "repeats" in data:
            kwargs["repeats"] = _unique(
                [int(_number(r, "repeats", int)) for r in _items(data["repeats"], "repeats")],
                "repeats",
            )
        if "residual" in data:
            kwargs["residual"] = _unique(
                [_bool(r, "residual") for r in _items(data["residual"], "residual")], "residual"
            )
        lr_choices, lr_range = _parse_lr(data.get("lr"), data.get("lr_range"))
        kwargs["lr"], kwargs["lr_range"] = lr_choices, lr_range
        if "preset" in data:
            kwargs["preset"] = str(data["preset"]).strip().lower()
        return cls(**kwargs)

    def to_dict(self) -> dict:
        """Plain, JSON-ready data that :meth:`from_dict` reads back into an equal space."""
        out: dict[str, Any] = {}
        for flow in FLOWS:
            space = self.flow(flow)
            out[flow] = {
                "segments": (
                    None if space.segments is None else [segments_label(g) for g in space.segments]
                ),
                "orders": list(space.orders),
                "activations": list(space.activations),
            }
        out.update(
            {
                "widths": list(self.widths),
                "repeats": list(self.repeats),
                "residual": ["on" if r else "off" for r in self.residual],
                "lr": list(self.lr),
                "lr_range": list(self.lr_range) if self.lr_range else None,
                "preset": self.preset,
            }
        )
        return out

    # -- resolution --------------------------------------------------------------------------

    def flow(self, name: str) -> FlowSpace:
        return getattr(self, name)

    def _preset_for_check(self) -> str:
        return "proxy-28" if self.preset == "auto" else self.preset

    def _seen_channels(
        self, flow: str, orders: tuple[str, ...]
    ) -> list[tuple[int, str, float, str]]:
        """(channels, layer, width, order) for every spatial conv of ``flow`` in this space."""
        preset = self._preset_for_check()
        layers = [layer for layer in separable_layers(1) if layer.flow == flow]
        seen = []
        for width in self.widths:
            widths = resolve_widths(NetConfig(preset=preset, width_multiplier=width))
            for order in orders:
                for layer in layers:
                    seen.append((widths[layer.spatial_key(order)], layer.name, width, order))
        return seen

    def valid_segments(self, flow: str) -> tuple[Segments, ...]:
        """Every power of two dividing all channels ``flow`` sees in this space, then ``C``."""
        channels = [c for c, *_ in self._seen_channels(flow, self.flow(flow).orders)]
        divisor = math.gcd(*channels)
        powers, g = [], 1
        while divisor % g == 0:
            powers.append(g)
            g *= 2
        return (*powers, PER_CHANNEL)

    def _check_segments(self, flow: str, space: FlowSpace) -> None:
        seen = self._seen_channels(flow, space.orders)
        for g in space.segments or ():
            if g == PER_CHANNEL:
                continue
            for channels, layer, width, order in seen:
                if channels % int(g):
                    valid = ", ".join(segments_label(v) for v in self.valid_segments(flow))
                    raise SpecError(
                        f"search space {flow}.segments: g={g} does not divide the {channels} "
                        f"channels of {layer} at width {width:g} ({order}); valid for the "
                        f"{flow} flow at every width: {valid}"
                    )

    def choices(self) -> dict[str, tuple]:
        """Optuna parameter name -> categorical choices (``lr`` when a range: see lr_range)."""
        out: dict[str, tuple] = {}
        for flow in FLOWS:
            space = self.flow(flow)
            segments = space.segments if space.segments is not None else self.valid_segments(flow)
            out[f"{flow}_segments"] = tuple(segments_label(g) for g in segments)
            out[f"{flow}_order"] = tuple(space.orders)
            out[f"{flow}_activation"] = tuple(space.activations)
        out["width"] = tuple(float(w) for w in self.widths)
        out["repeats"] = tuple(int(r) for r in self.repeats)
        out["residual"] = tuple("on" if r else "off" for r in self.residual)
        if self.lr:
            out["lr"] = tuple(float(v) for v in self.lr)
        return out

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        dists: dict[str, optuna.distributions.BaseDistribution] = {
            name: optuna.distributions.CategoricalDistribution(values)
            for name, values in self.choices().items()
        }
        if self.lr_range is not None:
            dists["lr"] = optuna.distributions.FloatDistribution(*self.lr_range, log=True)
        return dists

    def size(self) -> int | None:
        """Number of distinct points (None with a continuous lr range)."""
        if self.lr_range is not None:
            return None
        return math.prod(len(v) for v in self.choices().values())


def _parse_lr(lr: Any, lr_range: Any) -> tuple[tuple[float, ...], tuple[float, float] | None]:
    def pair(value: Any, key: str) -> tuple[float, float]:
        if isinstance(value, Mapping):
            bad = sorted(set(value) - {"low", "high"})
            if bad or not {"low", "high"} <= set(value):
                raise SpecError(f"search space {key}: a range table needs exactly low and high")
            items = [value["low"], value["high"]]
        elif isinstance(value, str):
            items = value.split(":")
        else:
            items = _items(value, key)
        if len(items) != 2:
            raise SpecError(f"search space {key}: a range is LOW:HIGH, got {value!r}")
        low, high = (float(_number(v, key, float)) for v in items)
        return low, high

    if lr_range is not None:
        if lr not in (None, (), []):
            raise SpecError("search space lr: give lr choices or lr_range, not both")
        return (), pair(lr_range, "lr_range")
    if lr is None or (isinstance(lr, (list, tuple, str)) and len(lr) == 0):
        return (), None
    if isinstance(lr, Mapping) or (isinstance(lr, str) and ":" in lr):
        return (), pair(lr, "lr")
    values = [float(_number(v, "lr", float)) for v in _items(lr, "lr")]
    return _unique(values, "lr"), None


def flow_overrides(values: list[str] | tuple[str, ...] | None, key: str) -> dict:
    """Command-line values such as ``["1,4,C", "exit=C"]`` -> from_dict data for ``key``.

    A bare list applies to every flow; ``FLOW=LIST`` to that flow only (and wins).
    """
    data: dict[str, Any] = {}
    for value in values or ():
        text = str(value).strip()
        flow, sep, rest = text.partition("=")
        if sep:
            flow = flow.strip().lower()
            if flow not in FLOWS:
                raise SpecError(
                    f"search space {key}: {text!r} names no flow; write "
                    f"LIST or FLOW=LIST with FLOW one of {', '.join(FLOWS)}"
                )
            if key in data.get(flow, {}):
                raise SpecError(f"search space {flow}.{key}: given twice")
            data.setdefault(flow, {})[key] = rest
        else:
            if key in data:
                raise SpecError(f"search space {key}: given twice (use FLOW=LIST for one flow)")
            data[key] = text
    return data


def merge_space_data(*parts: Mapping[str, Any]) -> dict:
    """Merge from_dict data, flow tables key by key (later parts win)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in FLOWS and isinstance(value, Mapping):
                out[key] = {**out.get(key, {}), **value}
            else:
                out[key] = value
    return out


def net_for_params(space: SearchSpace, params: Mapping[str, Any], preset: str) -> NetConfig:
    """The net of one sampled point (before fitting it to a dataset)."""
    flows = {
        flow: FlowSettings(
            params[f"{flow}_segments"], params[f"{flow}_order"], params[f"{flow}_activation"]
        )
        for flow in FLOWS
    }
    return NetConfig(
        preset=preset,
        **flows,
        residual=params["residual"] == "on",
        middle_repeats=int(params["repeats"]),
        width_multiplier=float(params["width"]),
    )


# --------------------------------------------------------------------------------------------
# Constraints and the plan


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
        if self.pruner not in ("auto", "none"):
            if len(objectives) > 1:
                raise SpecError(
                    f"--pruner {self.pruner}: pruning is not available for "
                    f"multi-objective studies in Optuna (objectives: "
                    f"{', '.join(objectives)}); use --pruner none"
                )
            if objectives != ("accuracy",):
                raise SpecError(
                    f"--pruner {self.pruner}: pruning compares validation accuracy "
                    f"per epoch, so it needs --objectives accuracy"
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
                for o in _items(table.get("objectives", "accuracy"), "objectives")
            )
            numbers = {}
            for key, kind in (
                ("trials", int),
                ("seed", int),
                ("max_params", int),
                ("max_flops", int),
                ("max_latency_ms", float),
            ):
                if table.get(key) is not None:
                    numbers[key] = kind(_number(table[key], key, kind, prefix=""))
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
            "seed": self.seed,
            "train": self.train.as_dict(),
            "dataset": self.data.name,
            "val_size": self.data.val_size,
            "split_seed": self.data.split_seed,
        }


# --------------------------------------------------------------------------------------------
# Samplers and pruners


def trial_seed(seed: int, number: int) -> int:
    """A 32-bit seed for trial ``number`` of a search seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(number)]).generate_state(1)[0])


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """A fresh inner sampler for every trial, seeded from (seed, trial number).

    TPE, NSGA-II and random sampling keep their history in the study, not in the sampler
    object, so a per-trial instance loses nothing. What it gains: a single worker is
    reproducible, and several workers started with the same seed draw different points.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._current: tuple[int, optuna.samplers.BaseSampler] | None = None

    def _inner(self, trial) -> optuna.samplers.BaseSampler:
        if self._current is None or self._current[0] != trial.number:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self._current = (trial.number, self._make(trial_seed(self._seed, trial.number)))
        return self._current[1]

    def infer_relative_search_space(self, study, trial):
        return self._inner(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._inner(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._inner(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial) -> None:
        self._inner(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        self._inner(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:  # seeds come from the trial number
        pass


def make_sampler(plan: SearchPlan) -> optuna.samplers.BaseSampler:
    if plan.sampler == "nsga2":

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.NSGAIISampler(population_size=NSGA2_POPULATION, seed=seed)
    elif plan.sampler == "random":

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.RandomSampler(seed=seed)
    else:

        def make(seed: int) -> optuna.samplers.BaseSampler:
            # constant_liar: running trials count as bad, so parallel workers spread out.
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True)

    return TrialSeededSampler(make, plan.seed)


def make_pruner(plan: SearchPlan) -> optuna.pruners.BasePruner:
    name = plan.pruner_name
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=plan.train.epochs, reduction_factor=3
        )
    return optuna.pruners.NopPruner()


# --------------------------------------------------------------------------------------------
# Workers


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


def _heartbeat_on(study: optuna.Study) -> bool:
    """Whether the study's storage runs Optuna heartbeats (RDB storages opened with one)."""
    interval = getattr(study._storage, "get_heartbeat_interval", None)
    return callable(interval) and interval() is not None


def recover_stale(study: optuna.Study) -> None:
    """Fail trials whose worker died and re-queue them once.

    Heartbeat storages: Optuna's own check (no heartbeat for the grace period), which also runs
    the storage's retry callback. Other storages (journal files): a RUNNING trial whose worker
    ran on this host and whose process is gone is marked interrupted and re-queued here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if _heartbeat_on(study):
            optuna.storages.fail_stale_trials(study)
            return
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker") or {}
        if not dead_on_this_host(worker):
            continue
        try:
            study._storage.set_trial_user_attr(trial._trial_id, "status", "interrupted")
            study._storage.set_trial_user_attr(
                trial._trial_id,
                "error",
                f"worker pid {worker['pid']} stopped before the trial finished",
            )
            if not study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker got there first
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry(study, study._storage.get_trial(trial._trial_id))


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
        elif changed := changed_settings(stored, wanted):
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
    events: SweepEvents


def _label(params: Mapping[str, Any]) -> str:
    segments = "/".join(str(params[f"{flow}_segments"]) for flow in FLOWS)
    text = f"g={segments} w={params['width']:g} r={params['repeats']} res={params['residual']}"
    if "lr" in params:
        text += f" lr={params['lr']:.3g}"
    return text


def _sample(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    params = {
        name: trial.suggest_categorical(name, list(values))
        for name, values in space.choices().items()
    }
    if space.lr_range is not None:
        params["lr"] = trial.suggest_float("lr", *space.lr_range, log=True)
    return params


def _set_attrs(trial: optuna.Trial, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        trial.set_user_attr(name, value)


def _objective_values(plan: SearchPlan, record: Mapping[str, Any]) -> list[float]:
    """The trial's values in the order of the study's directions (accuracy 0.0 untrained)."""
    values = []
    for name in plan.objectives:
        value = record.get(OBJECTIVE_KEYS[name])
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


def _random_point(study: optuna.Study, plan: SearchPlan, number: int) -> dict[str, Any]:
    """A point of the space drawn at random (seeded by the trial number), not yet tried."""
    rng = np.random.default_rng(trial_seed(plan.seed + 1, number))
    tried = [t.params for t in study.get_trials(deepcopy=False)]
    for _ in range(20):
        point = {
            name: values[int(rng.integers(len(values)))]
            for name, values in plan.space.choices().items()
        }
        if plan.space.lr_range is not None:
            low, high = np.log(plan.space.lr_range)
            point["lr"] = float(np.exp(rng.uniform(low, high)))
        if point not in tried:
            break
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in point.items()}


def run_search_trial(trial: optuna.Trial, ctx: _Context) -> float | list[float]:
    """The objective: sample, count, check constraints, train (pruning), store the record."""
    plan, study = ctx.plan, trial.study
    worker = worker_id()
    # Written first and overwritten at the end: a trial whose worker dies keeps saying so.
    _set_attrs(
        trial,
        {
            "kind": "search",
            "worker": worker,
            "status": "interrupted",
            "error": "the worker stopped before the trial finished",
            "curve": [],
        },
    )
    retried = trial.storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
    if retried is not None:
        trial.set_user_attr("retry_of", retried)
    if retried is None and _surplus(study, trial, plan.trials):
        _set_attrs(
            trial,
            {
                "status": "failed",
                "not_run": "surplus",
                "error": f"not run: the study already had {plan.trials} trials "
                f"finished or running when it started",
            },
        )
        raise TrialFailed("surplus trial")
    started = time.perf_counter()
    params = _sample(trial, plan.space)
    # TPE on an all-categorical space can propose a point it already has. Training it again
    # would repeat the same numbers (same seed); queue an untried random point instead.
    duplicate = None if retried is not None else _duplicate_of(study, trial)
    if duplicate is not None:
        study.enqueue_trial(
            _random_point(study, plan, trial.number),
            user_attrs={"replaces_duplicate": trial.number},
        )
        _set_attrs(
            trial,
            {
                "status": "failed",
                "not_run": "duplicate",
                "duplicate_of": duplicate,
                "error": f"not run: same parameters as trial {duplicate}; an untried "
                f"random point was queued instead",
            },
        )
        raise TrialFailed("duplicate trial")
    net = net_for_data(
        net_for_params(plan.space, params, ctx.preset),
        ctx.splits.in_channels,
        ctx.splits.num_classes,
        ctx.splits.image_size,
    )
    config = replace(plan.train, lr=float(params["lr"])) if "lr" in params else plan.train
    spec = TrialSpec(net, config, plan.seed, latency=plan.latency)
    ctx.events.trial_started(state_counts(study)["finished"], plan.trials, _label(params))
    record = describe_trial(spec, net)
    record["kind"] = "search"
    _set_attrs(trial, record)

    torch.manual_seed(spec.seed)
    model = build_net(net)
    record.update(count_record(net, model, ctx.device, spec.latency, config.precision))
    _set_attrs(trial, {k: v for k, v in record.items() if k not in ("kind",)})
    violations = plan.constraints.violations(record)
    already = trial.constraints  # a re-queued copy carries its original's constraints
    for key, value in violations.items():
        if key not in already:
            trial.set_constraint(key, value)
    common = {
        "device": describe(ctx.device),
        "dataset": ctx.splits.name,
        "precision": resolve_precision(config.precision, ctx.device),
        "versions": versions(),
    }
    if any(value > 0 for value in violations.values()):
        record.update(
            {
                "status": "infeasible",
                "curve": [],
                "val_acc": None,
                "test_acc": None,
                "wall_time_s": time.perf_counter() - started,
                "error": plan.constraints.explain(record),
                **common,
            }
        )
        _set_attrs(trial, record)
        ctx.events.trial_finished(record)
        return _finish_values(plan, record)

    curve: list[EpochRecord] = []
    reporting = plan.objectives == ("accuracy",)  # Optuna reports single objectives only

    def on_epoch(point: EpochRecord) -> None:
        curve.append(point)
        ctx.events.epoch(point)
        if reporting:
            trial.report(point.val_acc, point.epoch)
            # After the last epoch there is nothing left to save: let the trial complete.
            if point.epoch < config.epochs and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {point.epoch}")

    try:
        result = train(
            model,
            ctx.data,
            config,
            ctx.device,
            seed=spec.seed,
            on_step=ctx.events.step,
            on_epoch=on_epoch,
        )
    except optuna.TrialPruned:
        last = curve[-1]
        record.update(
            {
                "status": "pruned",
                "curve": [vars(p) for p in curve],
                "val_acc": None,
                "test_acc": None,
                "wall_time_s": time.perf_counter() - started,
                "error": f"pruned after epoch {last.epoch} of {config.epochs} "
                f"(val {last.val_acc:.4f})",
                **common,
            }
        )
        _set_attrs(trial, record)
        ctx.events.trial_finished(record)
        raise
    except BaseException as error:  # Ctrl-C or a bug: record it, Optuna marks the trial FAIL
        interrupted = isinstance(error, KeyboardInterrupt)
        _set_attrs(
            trial,
            {
                "status": "interrupted" if interrupted else "failed",
                "curve": [vars(p) for p in curve],
                "error": f"{type(error).__name__}: {error}"[:500],
            },
        )
        raise
    record.update(
        {
            "status": result.status,
            "curve": [vars(p) for p in result.curve],
            "val_acc": result.val_acc,
            "test_acc": result.test_acc,
            "wall_time_s": time.perf_counter() - started,
            "error": result.error,
            **common,
        }
    )
    _set_attrs(trial, record)
    ctx.events.trial_finished(record)
    if result.status != "complete":
        raise TrialFailed(result.error or result.status)
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
    events: SweepEvents | None = None,
    poll_s: float = POLL_S,
) -> optuna.Study:
    """Run one worker of the search until the study holds ``plan.trials`` finished trials.

    Safe to start in any number of processes on the same study and storage, and to re-run to
    resume. Returns the study. Stops early (without error) if ``plan.trials`` trials failed in
    training, so that a search whose every point diverges does not run forever.
    """
    events = events or SweepEvents()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials report through ``events``
    splits = load_dataset(plan.data)
    preset = choose_preset(plan.space.preset, splits)  # auto: a proxy; both have one width set
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
        "seed": plan.seed,
        "trials": plan.trials,
        "data": {**asdict(plan.data), "sizes": splits.sizes, "source": splits.source},
    }.items():
        study.set_user_attr(name, value)
    ctx = _Context(plan, DeviceData.from_splits(splits, device), splits, preset, device, events)

    def objective(trial: optuna.Trial):
        return run_search_trial(trial, ctx)

    while True:
        recover_stale(study)
        counts = state_counts(study)
        if counts["finished"] >= plan.trials or counts["training_failures"] >= plan.trials:
            break
        if counts["waiting"] or counts["finished"] + counts["running"] < plan.trials:
            study.optimize(objective, n_trials=1, catch=(TrialFailed,), gc_after_trial=False)
            continue
        time.sleep(poll_s)  # the last trials run elsewhere; wait in case one dies
    return study


# --------------------------------------------------------------------------------------------
# Results


def best_trials_table(study: optuna.Study) -> pd.DataFrame:
    """The best feasible trials (the Pareto front; one row for a single objective)."""
    names = study.user_attrs.get("objectives") or [
        f"objective{i}" for i in range(len(study.directions))
    ]
    try:
        best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
    except ValueError:
        best = []
    rows = []
    for trial in sorted(best, key=lambda t: t.number):
        attrs = trial.user_attrs
        if attrs.get("status") == "infeasible":
            continue
        row = {
            "trial": trial.number,
            "segments": attrs.get("segments"),
            "order": attrs.get("order"),
            "activation": attrs.get("activation"),
            "width": trial.params.get("width"),
            "repeats": trial.params.get("repeats"),
            "residual": trial.params.get("residual"),
        }
        if "lr" in trial.params:
            row["lr"] = trial.params["lr"]
        for name, value in zip(names, trial.values):
            row[name] = int(value) if name in ("params", "flops") else value
        row["test_acc"] = attrs.get("test_acc")
        rows.append(row)
    return pd.DataFrame(rows)


# The name the study-file loader uses for a search's settings.
SearchSettings = SearchPlan

__all__ = [
    "OBJECTIVES",
    "SAMPLERS",
    "PRUNERS",
    "FlowSpace",
    "SearchSpace",
    "Constraints",
    "SearchPlan",
    "SearchSettings",
    "TrialSeededSampler",
    "flow_overrides",
    "merge_space_data",
    "net_for_params",
    "make_sampler",
    "make_pruner",
    "open_search_study",
    "run_search",
    "run_search_trial",
    "recover_stale",
    "state_counts",
    "best_trials_table",
    "trial_seed",
]

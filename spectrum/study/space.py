"""The search space: what a search may vary, per flow, and the grammar that writes it down.

A search samples, for each flow (entry, middle, exit), the segment count g, the op order and the
intermediate activation, plus the width multiplier, the middle-flow repeats, residual connections
and optionally the learning rate. :class:`SearchSpace` is the one definition of those choices;
:meth:`SearchSpace.from_dict` builds it from plain data (command-line strings or a study file)
and rejects a bad key or value with a one-line :class:`~spectrum.errors.SpecError` naming it.
:func:`flow_overrides` and :func:`merge_space_data` turn the command line's ``LIST`` /
``FLOW=LIST`` values into that data; :func:`net_for_params` turns one sampled point into a net.

Every point of a space builds: a flow's g choices are powers of two that divide every channel
count the flow's spatial convolutions see at every width multiplier and op order of the space
(plus ``C``), so no rounding is needed and no sampled point can fail to build. An explicit g that
would not divide is refused when the space is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from ..errors import SpecError
from ..net.segments import PER_CHANNEL, Segments, parse_segments, segments_label, segments_sort_key
from ..net.xception import (
    FLOWS,
    PRESETS,
    FlowSettings,
    NetConfig,
    legacy_auto_preset,
    resolve_widths,
    separable_layers,
)
from ..options import ACTIVATIONS, ORDERS, items, number, on_off, unique
from ..options import choices as choice_list

DEFAULT_WIDTHS = (0.5, 0.75, 1.0)
DEFAULT_REPEATS = (1, 2, 3)
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


def _where(key: str) -> str:
    """How errors name a key of the space, e.g. ``search space entry.orders``."""
    return f"search space {key}"


def _segments(values: Any, key: str) -> tuple[Segments, ...]:
    parsed = []
    for item in items(values, _where(key)):
        try:
            parsed.append(parse_segments(item))
        except SpecError as error:
            raise SpecError(f"{_where(key)}: {error}") from None
    return tuple(sorted(unique(parsed, _where(key)), key=segments_sort_key))


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
    proxy for the dataset's image size when the search opens its study (``proxy-28s`` for 28 px).
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
        unique(list(self.widths), _where("widths"))
        if any(not w > 0 for w in self.widths):
            raise SpecError(
                f"search space widths: every width multiplier must be > 0, got "
                f"{', '.join(str(w) for w in self.widths)}"
            )
        unique(list(self.repeats), _where("repeats"))
        if any(r < 0 for r in self.repeats):
            raise SpecError(
                f"search space repeats: middle-flow repeats must be >= 0, got "
                f"{', '.join(str(r) for r in self.repeats)}"
            )
        unique(list(self.residual), _where("residual"))
        if self.lr and self.lr_range is not None:
            raise SpecError("search space lr: give lr choices or lr_range, not both")
        if self.lr:
            unique(list(self.lr), _where("lr"))
            if any(not v > 0 for v in self.lr):
                raise SpecError("search space lr: every learning rate must be > 0")
        if self.lr_range is not None:
            low, high = self.lr_range
            if not 0 < low < high:
                raise SpecError(f"search space lr_range: need 0 < low < high, got {low}:{high}")
        for flow in FLOWS:
            space = self.flow(flow)
            unique(list(space.orders), _where(f"{flow}.orders"))
            unique(list(space.activations), _where(f"{flow}.activations"))
            if space.segments is not None:
                unique(list(space.segments), _where(f"{flow}.segments"))
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
                    choice_list(merged["orders"], ORDERS, _where(where["orders"]))
                    if "orders" in merged
                    else ORDERS
                ),
                activations=(
                    choice_list(merged["activations"], ACTIVATIONS, _where(where["activations"]))
                    if "activations" in merged
                    else ACTIVATIONS
                ),
            )
        kwargs: dict[str, Any] = dict(flows)
        if "widths" in data:
            at = _where("widths")
            kwargs["widths"] = unique(
                [float(number(w, at, float)) for w in items(data["widths"], at)], at
            )
        if "repeats" in data:
            at = _where("repeats")
            kwargs["repeats"] = unique(
                [int(number(r, at, int)) for r in items(data["repeats"], at)], at
            )
        if "residual" in data:
            at = _where("residual")
            kwargs["residual"] = unique([on_off(r, at) for r in items(data["residual"], at)], at)
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
        # auto is resolved per study before a search runs (search.with_study_preset, which
        # checks the space again); until then it is checked as proxy-28 and proxy-32, whose
        # widths are equal, so that a stored search from before auto meant proxy-28s resumes.
        return self.preset if self.preset != "auto" else legacy_auto_preset(28)

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
            bounds = [value["low"], value["high"]]
        elif isinstance(value, str):
            bounds = value.split(":")
        else:
            bounds = items(value, _where(key))
        if len(bounds) != 2:
            raise SpecError(f"search space {key}: a range is LOW:HIGH, got {value!r}")
        low, high = (float(number(v, _where(key), float)) for v in bounds)
        return low, high

    if lr_range is not None:
        if lr not in (None, (), []):
            raise SpecError("search space lr: give lr choices or lr_range, not both")
        return (), pair(lr_range, "lr_range")
    if lr is None or (isinstance(lr, (list, tuple, str)) and len(lr) == 0):
        return (), None
    if isinstance(lr, Mapping) or (isinstance(lr, str) and ":" in lr):
        return (), pair(lr, "lr")
    values = [float(number(v, _where("lr"), float)) for v in items(lr, _where("lr"))]
    return unique(values, _where("lr")), None


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

"""The search space: what a search may vary, per flow, and the one grammar that writes it down.

A search samples, for each flow (entry, middle, exit), the segment count g, the op order and the
intermediate activation, plus the width multiplier, the middle-flow repeats, residual connections
and optionally the learning rate: :class:`SearchSpace`. Its one grammar is a parser per key
(:data:`SPACE_PARSERS`, with one-line errors naming the flag or key) and :func:`assemble`;
:class:`~spectrum.study.space_options.SpaceOptions` makes those keys the flags, the API's keywords
and a study file's keys. :func:`net_for_params` turns one sampled point into a net.

Every point of a space builds: a flow's g choices are powers of two that divide every channel
count the flow's spatial convolutions see at every width multiplier and op order of the space
(plus ``C``), so no rounding is needed and no sampled point can fail to build. An explicit g that
would not divide is refused when the space is made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

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
from ..options import ACTIVATIONS, ORDERS, choices, items, number, on_off, unique

DEFAULT_WIDTHS = (0.5, 0.75, 1.0)
DEFAULT_REPEATS = (1, 2, 3)
FLOW_KEYS = ("segments", "orders", "activations")


class LrRange(NamedTuple):  # a log-uniform learning-rate range: lr LOW:HIGH, or lr_range
    low: float
    high: float


# -- the grammar: one parser per key, ``where`` naming the flag or the key -------------------


def _where(key: str) -> str:  # how the space's own checks name a key
    return f"search space {key}"


def _segments(value: Any, where: str) -> tuple[Segments, ...] | None:
    """g choices (``C`` or positive integers); ``all``: every g that builds (None)."""
    given = items(value, where)
    if len(given) == 1 and str(given[0]).strip().lower() == "all":
        return None
    parsed = []
    for item in given:
        try:
            parsed.append(parse_segments(item))
        except SpecError as error:
            raise SpecError(f"{where}: {error}") from None
    return tuple(sorted(unique(parsed, where), key=segments_sort_key))


def _each(value: Any, where: str, parse: Callable[[Any, str], Any]) -> tuple:
    """A list (or comma-separated text) of distinct values, each parsed."""
    return unique([parse(item, where) for item in items(value, where)], where)


CHOICE_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "segments": _segments,
    "orders": lambda value, where: choices(value, ORDERS, where),
    "activations": lambda value, where: choices(value, ACTIVATIONS, where),
}


def flow_choices(value: Any, where: str, key: str) -> dict:
    """``segments``, ``orders`` or ``activations`` (``key``): ``{flow: choices}``, None for every
    flow. ``value``: a mapping ``{flow: choices}``, or texts and values for every flow where a
    text ``FLOW=LIST`` is that flow's (and wins for it): the command line's repeated ``LIST`` /
    ``FLOW=LIST`` (``["1,4,C", "exit=C"]``), the API's and a study file's choices
    (``[1, 4, "C"]``, ``"1,4,C"``)."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        given = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
        texts = [item for item in given if isinstance(item, str) and "=" in item]
        every = [v for item in given if item not in texts for v in items(item, where)]
        pairs = [(None, every)] * bool(every) + [tuple(t.split("=", 1)) for t in texts]
    out: dict = {}
    for flow, choices_ in pairs:
        flow = None if flow is None else str(flow).strip().lower()
        if flow is not None and flow not in FLOWS:
            raise SpecError(
                f"{where}: {flow!r} names no flow; write LIST or FLOW=LIST with FLOW one of "
                f"{', '.join(FLOWS)}"
            )
        if flow in out:
            raise SpecError(f"{where}: the {flow} flow is given twice")
        out[flow] = CHOICE_PARSERS[key](choices_, where if flow is None else f"{where} {flow}")
    return out


def flow_table(value: Any, where: str) -> dict:
    """One flow's choices: a table ``{segments, orders, activations}`` (a None value: unset), or
    the command line's ``KEY=LIST`` texts (``--exit segments=C --exit orders=depthwise-first``)."""
    if isinstance(value, Mapping):
        pairs = [(key, given, f"{where}.{key}") for key, given in value.items()]
    else:
        pairs = []
        for text in [] if value is None else [value] if isinstance(value, str) else value:
            key, sep, rest = (part.strip() for part in str(text).partition("="))
            if not sep:
                raise SpecError(f"{where}: {text!r} is not KEY=LIST ({', '.join(FLOW_KEYS)})")
            pairs.append((key.lower(), rest, f"{where} {key.lower()}"))
    out: dict = {}
    for key, given, at in pairs:
        if key not in FLOW_KEYS:
            raise SpecError(f"{where}: unknown key {key!r} (known: {', '.join(FLOW_KEYS)})")
        if key in out:
            raise SpecError(f"{at}: given twice")
        if given is not None:
            out[key] = CHOICE_PARSERS[key](given, at)
    return out


def lr_range(value: Any, where: str) -> LrRange | None:
    """A log-uniform range: ``LOW:HIGH`` (or ``LOW,HIGH``), ``[low, high]`` or ``{low, high}``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if set(value) != {"low", "high"}:
            raise SpecError(f"{where}: a range table needs exactly low and high")
        bounds = [value["low"], value["high"]]
    elif isinstance(value, str):
        bounds = value.replace(",", ":").split(":")
    else:
        bounds = items(value, where)
    if len(bounds) != 2:
        raise SpecError(f"{where}: a range is LOW:HIGH, got {value!r}")
    low, high = (float(number(v, where, float)) for v in bounds)
    if not 0 < low < high:
        raise SpecError(f"{where}: need 0 < low < high, got {low:g}:{high:g}")
    return LrRange(low, high)


def lr_choices(value: Any, where: str) -> float | tuple[float, ...] | LrRange:
    """``lr``: one number (the training's, not searched), choices (``0.05,0.2`` or a list of
    several) or a range (``LOW:HIGH`` or ``{low, high}``)."""
    if isinstance(value, Mapping) or (isinstance(value, str) and ":" in value):
        return lr_range(value, where)
    several = isinstance(value, (list, tuple)) and len(value) != 1
    if several or (isinstance(value, str) and "," in value):
        return _each(value, where, lambda v, at: float(number(v, at, float)))
    one = value[0] if isinstance(value, (list, tuple)) else value
    return float(number(one, where, float))


SPACE_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    **{key: partial(flow_choices, key=key) for key in FLOW_KEYS},
    **{flow: flow_table for flow in FLOWS},
    "widths": lambda value, where: _each(value, where, lambda w, at: float(number(w, at, float))),
    "repeats": lambda value, where: _each(value, where, lambda r, at: int(number(r, at, int))),
    "residual": lambda value, where: _each(value, where, on_off),
    "lr": lr_choices,
    "lr_range": lr_range,
    "preset": lambda value, where: str(value).strip().lower(),
}
SPACE_KEYS = tuple(SPACE_PARSERS)


def assemble(parsed: Mapping[str, Any]) -> tuple[SearchSpace, float | None]:
    """The space that parsed values (keyed by :data:`SPACE_KEYS`; missing: the defaults) give,
    and the training's learning rate when ``lr`` is one number (else None)."""
    flows = {}
    for flow in FLOWS:
        by_flow, settings = parsed.get(flow, {}), {}
        for key in FLOW_KEYS:
            by_key = parsed.get(key, {})
            if flow in by_key and key in by_flow:
                raise SpecError(
                    f"search space {flow}.{key}: given twice ({key} {flow}=LIST and {flow}.{key})"
                )
            found = [s[n] for s, n in ((by_flow, key), (by_key, flow), (by_key, None)) if n in s]
            settings.update({key: found[0]} if found else {})
        flows[flow] = FlowSpace(**settings)
    kwargs: dict[str, Any] = {
        key: parsed[key] for key in ("widths", "repeats", "residual", "preset") if key in parsed
    }
    lr, ranged = parsed.get("lr"), parsed.get("lr_range")
    if isinstance(lr, tuple) and ranged is not None:
        raise SpecError("search space lr: give lr choices or lr_range, not both")
    ranged = lr if isinstance(lr, LrRange) else ranged
    kwargs["lr"] = lr if isinstance(lr, tuple) and not isinstance(lr, LrRange) else ()
    kwargs["lr_range"] = None if ranged is None else tuple(ranged)
    return SearchSpace(**flows, **kwargs), lr if isinstance(lr, float) else None


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
        for key, values, low, rule in (
            ("widths", self.widths, 0, "every width multiplier must be > 0"),
            ("repeats", self.repeats, -1, "middle-flow repeats must be >= 0"),
        ):
            unique(list(values), _where(key))
            if any(not v > low for v in values):
                raise SpecError(f"{_where(key)}: {rule}, got {', '.join(map(str, values))}")
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "search space") -> SearchSpace:
        """A space from plain data keyed by :data:`SPACE_KEYS` (e.g. :meth:`to_dict`'s), read by
        the one grammar's parsers; None (and an empty ``lr``) leaves a key unset. One ``lr`` is
        the training's learning rate, not a choice of the space: refused here."""
        if not isinstance(data, Mapping):
            raise SpecError(f"{where}: expected a table of keys, got {type(data).__name__}")
        unknown = sorted(set(data) - set(SPACE_KEYS))
        if unknown:
            raise SpecError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(SPACE_KEYS)})")
        given = {key: value for key, value in data.items() if value not in (None, [], ())}
        space, lr = assemble({k: SPACE_PARSERS[k](v, f"{where} {k}") for k, v in given.items()})
        if lr is not None:
            raise SpecError(
                f"{where} lr: one value is the training's learning rate, not a choice of the "
                f"space; give choices (0.05,0.2) or a range LOW:HIGH"
            )
        return space

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

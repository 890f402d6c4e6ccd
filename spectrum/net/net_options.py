"""The options of one network, declared once: :class:`NetOptions`.

Its fields are the Python API's keywords (:func:`spectrum.xception`, :func:`spectrum.proxy`,
:func:`spectrum.match_width`) and the flags of ``spectrum train`` (those with ``cli=True``; the
others are the API's only) and ``spectrum count``: name, type, default, help and parser are the
field's (:mod:`spectrum.fields`). :meth:`NetOptions.parse` reads option values (API keywords or
flags) with the command line's one-line messages, :meth:`NetOptions.config` makes the validated
:class:`~spectrum.net.xception.NetConfig`. Torch-free (the config's module is imported when one is
made).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..fields import Option, build, flag_of, option, options_of
from ..options import ACTIVATIONS, ORDERS, one_of, parse_on_off
from .segments import PER_CHANNEL, Segments, parse_segments

if TYPE_CHECKING:
    from .xception import NetConfig


def one_segments(value: Any, where: str) -> Segments:
    """One g (a positive integer or C), as text or a number; a comma-separated list is refused."""
    if isinstance(value, str) and "," in value:
        raise SpecError(f"{where} {value!r}: give one g (a positive integer or C), not a list")
    return parse_segments(value)


def flow_segments(value: Any, where: str) -> Segments | None:
    """One flow's g; ``None``: the whole net's."""
    return None if value is None else one_segments(value, where)


def one_switch(value: Any, where: str) -> bool:
    """A bool, or one of the texts on, off."""
    if isinstance(value, bool):
        return value
    values = parse_on_off(str(value), where)
    if len(values) != 1:
        raise SpecError(f"{where} {value!r}: give one of on, off")
    return values[0]


def at_least_one(value: Any, where: str) -> Any:
    """A count of at least 1 (not a bool); ``None``: the preset's."""
    if value is not None and (isinstance(value, bool) or int(value) < 1):
        raise SpecError(f"{where} must be >= 1, got {value}")
    return value


def _float(value: Any, where: str) -> float:
    return float(value)


def _flow(name: str) -> Any:
    return field(
        default=None,
        metadata=option(
            f"g of the {name} flow (default: segments).", parse=flow_segments, cli=False
        ),
    )


def _preset_value(help: str, parse: Any = None) -> Any:
    return field(
        default=None, metadata=option(f"{help} (default: the preset's).", parse=parse, cli=False)
    )


@dataclass(frozen=True)
class NetOptions:
    """What the user sets of one network (``None``: the preset's value, or ``segments``' for a
    flow). ``cli=False``: a keyword of the Python API, not a flag of ``spectrum train`` (which
    fits the input and the classifier to its data)."""

    segments: Segments = field(
        default=PER_CHANNEL,
        metadata=option(
            "g for every flow (a positive integer or C).", parse=one_segments, cli_type=str
        ),
    )
    entry: Segments | None = _flow("entry")
    middle: Segments | None = _flow("middle")
    exit: Segments | None = _flow("exit")
    order: str = field(default=ORDERS[0], metadata=option(" | ".join(ORDERS), parse=one_of(ORDERS)))
    activation: str = field(
        default=ACTIVATIONS[0],
        metadata=option(
            "Intermediate activation: " + " | ".join(ACTIVATIONS), parse=one_of(ACTIVATIONS)
        ),
    )
    residual: bool = field(
        default=True,
        metadata=option(
            "Residual connections: on | off", parse=one_switch, shown="on", cli_type=str
        ),
    )
    width: float = field(default=1.0, metadata=option("Width multiplier.", parse=_float))
    num_classes: int | None = _preset_value("Classes of the classifier", at_least_one)
    in_channels: int | None = _preset_value("Channels of an input image", at_least_one)
    image_size: int | None = _preset_value(
        "The input side that counts and latency assume", at_least_one
    )
    middle_repeats: int | None = _preset_value("Middle-flow blocks")
    dropout: float | None = _preset_value("Dropout before the classifier")
    round_to_segments: bool = field(
        default=False,
        metadata=option(
            "Round channels up to a multiple of g.", decls=("--round-to-segments",), cli=False
        ),
    )

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> NetOptions:
        """The options that ``values`` (keyed by option name; others are ignored) give, each
        parsed with its flag's one-line message; missing ones take their defaults."""
        return build(cls, values, flag_of)

    def config(self, preset: str) -> NetConfig:
        """The validated net of ``preset`` with these options.

        Raises:
            SegmentsError: a g that does not divide a layer's channels.
            SpecError: a bad preset, width, middle repeats or dropout.
        """
        from .xception import FLOWS, FlowSettings, NetConfig, check_config

        flows = {
            name: FlowSettings(
                self.segments if getattr(self, name) is None else getattr(self, name),
                self.order,
                self.activation,
            )
            for name in FLOWS
        }
        config = NetConfig(
            preset=preset,
            **flows,
            residual=self.residual,
            middle_repeats=self.middle_repeats,
            width_multiplier=self.width,
            dropout=self.dropout,
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            image_size=self.image_size,
            round_to_segments=self.round_to_segments,
        )
        check_config(config)
        return config


def net_options() -> tuple[Option, ...]:
    """The options of one network: the API's keywords, the flags of ``spectrum train``
    (``cli=True``) and those ``spectrum count`` shares."""
    return options_of(NetOptions)

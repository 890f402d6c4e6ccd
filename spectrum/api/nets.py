"""The API's network builders: ``xception(...)`` and ``proxy(...)`` with the CLI's options, and the
parsing of their keyword arguments (segments for the whole net or per flow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..errors import SpecError
from ..net.presets import PRESETS
from ..net.segments import PER_CHANNEL, Segments, parse_segments
from ..net.xception import FLOWS, FlowSettings, NetConfig, build_net, check_config
from ..options import ACTIVATIONS, ORDERS, parse_choice, parse_on_off

SegmentsArg = Segments | str
Progress = Callable[[str, dict[str, Any]], None]
"""``progress(event, data)`` as a study runs: ``event`` and ``data`` as
:data:`spectrum.api.runs.PROGRESS_EVENTS` lists them (``trial_started``: done, total, label;
``step``; ``epoch``; ``trial_finished``: the trial's record; ``workers`` with ``jobs``; ...)."""


# --------------------------------------------------------------------------------------------
# Networks


def segments_arg(value: SegmentsArg, flag: str = "--segments") -> Segments:
    if isinstance(value, str) and "," in value:
        raise SpecError(f"{flag} {value!r}: give one g (a positive integer or C), not a list")
    return parse_segments(value)


def residual_arg(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    values = parse_on_off(str(value), "--residual")
    if len(values) != 1:
        raise SpecError(f"--residual {value!r}: give one of on, off")
    return values[0]


def net_config(
    preset: str,
    segments: SegmentsArg,
    entry: SegmentsArg | None,
    middle: SegmentsArg | None,
    exit: SegmentsArg | None,
    order: str,
    activation: str,
    residual: bool | str,
    width: float,
    num_classes: int | None,
    in_channels: int | None,
    image_size: int | None,
    middle_repeats: int | None,
    dropout: float | None,
    round_to_segments: bool,
) -> NetConfig:
    """A validated :class:`NetConfig`; errors are the command line's, checked before building."""
    order = parse_choice(order, ORDERS, "--order")
    activation = parse_choice(activation, ACTIVATIONS, "--activation")
    whole = segments_arg(segments)
    given = {"entry": entry, "middle": middle, "exit": exit}
    flows = {
        name: FlowSettings(
            whole if given[name] is None else segments_arg(given[name], f"--{name}"),
            order,
            activation,
        )
        for name in FLOWS
    }
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if value is not None and (isinstance(value, bool) or int(value) < 1):
            raise SpecError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if image_size is not None and int(image_size) < 1:
        raise SpecError(f"--image-size must be >= 1, got {image_size}")
    config = NetConfig(
        preset=preset,
        **flows,
        residual=residual_arg(residual),
        middle_repeats=middle_repeats,
        width_multiplier=float(width),
        dropout=dropout,
        in_channels=in_channels,
        num_classes=num_classes,
        image_size=image_size,
        round_to_segments=round_to_segments,
    )
    check_config(config)
    return config


def xception(
    *,
    segments: SegmentsArg = PER_CHANNEL,
    entry: SegmentsArg | None = None,
    middle: SegmentsArg | None = None,
    exit: SegmentsArg | None = None,
    order: str = "depthwise-first",
    activation: str = "none",
    residual: bool | str = True,
    width: float = 1.0,
    num_classes: int = 1000,
    in_channels: int = 3,
    image_size: int = 299,
    middle_repeats: int = 8,
    dropout: float = 0.5,
    round_to_segments: bool = False,
) -> nn.Module:
    """Xception (Chollet 2017, Figure 5) at any point of the spectrum.

    Input ``(N, in_channels, H, W)`` float images (299x299 in the paper; any size of at least
    ~71 px works: the classifier pools globally), output ``(N, num_classes)`` logits. ``segments``
    is g for every flow; ``entry``, ``middle`` and ``exit`` override it for one flow. ``order`` is
    ``depthwise-first`` (default) or ``pointwise-first``; ``activation`` between the two ops is
    ``none`` (default), ``relu`` or ``elu``; ``residual`` switches the shortcuts (Figure 9);
    ``width`` multiplies every width. At the defaults (g = C): 22,855,952 trainable parameters
    and 8.40 G FLOPs (multiply-adds) per 299x299 image. ``image_size`` is only what
    :func:`count` and latency assume when no ``input_size`` is given.

    Raises:
        SegmentsError: a g that does not divide a layer's channels (``round_to_segments=True``
            rounds channels up to a multiple of g instead).
        SpecError: any other bad argument, with the command line's one-line message.
    """
    config = net_config(
        "xception",
        segments,
        entry,
        middle,
        exit,
        order,
        activation,
        residual,
        width,
        num_classes,
        in_channels,
        image_size,
        middle_repeats,
        dropout,
        round_to_segments,
    )
    return build_net(config)


def proxy(
    *,
    preset: str = "proxy-28",
    segments: SegmentsArg = PER_CHANNEL,
    entry: SegmentsArg | None = None,
    middle: SegmentsArg | None = None,
    exit: SegmentsArg | None = None,
    order: str = "depthwise-first",
    activation: str = "none",
    residual: bool | str = True,
    width: float = 1.0,
    num_classes: int | None = None,
    in_channels: int | None = None,
    image_size: int | None = None,
    middle_repeats: int | None = None,
    dropout: float | None = None,
    round_to_segments: bool = False,
) -> nn.Module:
    """A CPU-sized Xception proxy: the same flows and residual structure at widths 16-256.

    ``preset`` is ``proxy-28`` (default: 28x28x1 inputs, e.g. Fashion-MNIST), ``proxy-28s``
    (28x28x1, middle flow at 4x4 instead of 2x2: docs/proxies.md) or ``proxy-32`` (32x32x3,
    CIFAR); ``None`` arguments take the preset's value (10 classes, 2 middle blocks, no
    dropout). Input ``(N, in_channels, H, W)``, output ``(N, num_classes)`` logits. Widths are
    multiples of 32 wherever a spectrum conv sees them, so g in {1, 2, 4, 8, 16, 32, C} all
    build at ``width=1``. Other arguments as in :func:`xception`.

    Raises:
        SegmentsError, SpecError: as :func:`xception` (and ``spectrum count --segments ...``).
    """
    proxies = [name for name in PRESETS if name.startswith("proxy-")]
    if preset not in proxies:
        raise SpecError(f"preset {preset!r} is not one of: {', '.join(proxies)}")
    config = net_config(
        preset,
        segments,
        entry,
        middle,
        exit,
        order,
        activation,
        residual,
        width,
        num_classes,
        in_channels,
        image_size,
        middle_repeats,
        dropout,
        round_to_segments,
    )
    return build_net(config)

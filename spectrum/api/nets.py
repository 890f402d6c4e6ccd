"""The API's network builders: ``xception(...)`` and ``proxy(...)``, whose keywords are the options
of one network declared once on :class:`~spectrum.net.net_options.NetOptions` (the flags of
``spectrum train`` and ``spectrum count`` are made from the same fields;
tests/test_net_options.py holds these signatures to it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..errors import SpecError
from ..net.net_options import NetOptions
from ..net.presets import PRESETS
from ..net.segments import PER_CHANNEL, Segments
from ..net.xception import build_net

SegmentsArg = Segments | str
Progress = Callable[[str, dict[str, Any]], None]
"""``progress(event, data)`` as a study runs: ``event`` and ``data`` as
:data:`spectrum.api.runs.PROGRESS_EVENTS` lists them (``trial_started``: done, total, label;
``step``; ``epoch``; ``trial_finished``: the trial's record; ``workers`` with ``jobs``; ...)."""


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
    given = dict(locals())  # the keywords, each an option of NetOptions
    return build_net(NetOptions.parse(given).config("xception"))


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
    given = dict(locals())  # the keywords, each an option of NetOptions (and the preset)
    proxies = [name for name in PRESETS if name.startswith("proxy-")]
    if preset not in proxies:
        raise SpecError(f"preset {preset!r} is not one of: {', '.join(proxies)}")
    return build_net(NetOptions.parse(given).config(preset))

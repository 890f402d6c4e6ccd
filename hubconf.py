"""torch.hub entry points: ``torch.hub.load("/path/to/spectrum", "xception", source="local",
segments=8, num_classes=10)``. No pretrained weights are published: the models come untrained."""

from __future__ import annotations

from typing import Any

dependencies = ["torch"]


def _untrained(pretrained: bool) -> None:
    from spectrum.errors import SpecError

    if pretrained:
        raise SpecError("spectrum publishes no pretrained weights; use pretrained=False")


def xception(pretrained: bool = False, **kwargs: Any):
    """Xception (Chollet 2017) at any point of the spectrum, untrained.

    Keyword arguments as :func:`spectrum.xception` (segments, entry/middle/exit, order,
    activation, residual, width, num_classes, in_channels, ...). Input ``(N, 3, 299, 299)`` by
    default, output ``(N, num_classes)`` logits.
    """
    _untrained(pretrained)
    from spectrum.api import xception as build

    return build(**kwargs)


def proxy(pretrained: bool = False, **kwargs: Any):
    """A CPU-sized Xception proxy (``preset`` ``proxy-28``: 28x28x1, or ``proxy-32``: 32x32x3),
    untrained; keyword arguments as :func:`spectrum.proxy`."""
    _untrained(pretrained)
    from spectrum.api import proxy as build

    return build(**kwargs)


def proxy_28(pretrained: bool = False, **kwargs: Any):
    """:func:`proxy` with ``preset="proxy-28"`` (28x28x1 inputs, 10 classes)."""
    return proxy(pretrained, preset="proxy-28", **kwargs)


def proxy_32(pretrained: bool = False, **kwargs: Any):
    """:func:`proxy` with ``preset="proxy-32"`` (32x32x3 inputs, 10 classes)."""
    return proxy(pretrained, preset="proxy-32", **kwargs)

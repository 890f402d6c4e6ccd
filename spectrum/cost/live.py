"""Live accounting: the weights and multiply-adds of a net that ever touch real (non-padding) input.

A 3x3 convolution on a 1x1 feature map (padding 1) multiplies its 8 outer taps by zero padding
only: those weights get no gradient and decay to zero under weight decay, and their multiply-adds
add nothing. Parameter and FLOP counts (:mod:`spectrum.cost.counts`) include them, so nets
matched on those counts are not matched in what can learn. Here every :class:`~torch.nn.Conv2d`
is looked at with the spatial extent of its input in one forward pass (on the meta device), its
stride, padding and dilation:

- a kernel tap is **live** when at least one output position reads a non-padding input through
  it; a weight is live when its tap is (live taps per dimension multiply: rows x columns);
- a **live multiply-add** is one (output position, tap) pair whose input is not padding.

**Live params** are the trainable parameters less the dead convolution weights (batch norm and
the classifier are always live). **Live FLOPs** are fvcore's count (:func:`~spectrum.cost.counts.
shape_flops`) less the convolutions' padding multiply-adds. Both are what ``--match live-params``
and ``--match live-flops`` match.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from ..net.xception import NetConfig, build_net
from .counts import _on_meta, count_params, shape_flops


@dataclass(frozen=True)
class AxisUse:
    """How a kernel's taps along one spatial axis meet the input.

    ``taps``: the kernel's size along the axis; ``live_taps``: taps that read a real input at
    some output position; ``outputs``: output positions; ``live_reads``: (output, tap) pairs
    that read a real input, summed over the output positions.
    """

    taps: int
    live_taps: int
    outputs: int
    live_reads: int


def axis_use(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> AxisUse:
    """:class:`AxisUse` of a convolution along one axis of ``size`` input positions."""
    outputs = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    live = [False] * kernel
    reads = 0
    for out in range(max(outputs, 0)):
        for tap in range(kernel):
            if 0 <= out * stride - padding + tap * dilation < size:
                live[tap] = True
                reads += 1
    return AxisUse(kernel, sum(live), max(outputs, 0), reads)


@dataclass(frozen=True)
class ConvUse:
    """One convolution of a net as one forward pass saw it (per image)."""

    name: str
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    kernel: tuple[int, int]
    groups: int
    weights: int
    live_weights: int
    macs: int
    live_macs: int


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def conv_use(name: str, conv: nn.Conv2d, in_size: tuple[int, int]) -> ConvUse:
    """Weights and multiply-adds of ``conv`` on an input of ``in_size`` (H, W), and how many are
    live. Raises ValueError for string padding (``same``/``valid``): these nets use integers."""
    if isinstance(conv.padding, str):
        raise ValueError(f"{name}: padding {conv.padding!r} is not counted; give integers")
    rows, cols = (
        axis_use(size, k, s, p, d)
        for size, k, s, p, d in zip(
            in_size,
            _pair(conv.kernel_size),
            _pair(conv.stride),
            _pair(conv.padding),
            _pair(conv.dilation),
        )
    )
    per_tap = conv.out_channels * (conv.in_channels // conv.groups)  # weights of one tap
    return ConvUse(
        name=name,
        in_size=in_size,
        out_size=(rows.outputs, cols.outputs),
        kernel=(rows.taps, cols.taps),
        groups=conv.groups,
        weights=per_tap * rows.taps * cols.taps,
        live_weights=per_tap * rows.live_taps * cols.live_taps,
        macs=per_tap * rows.outputs * cols.outputs * rows.taps * cols.taps,
        live_macs=per_tap * rows.live_reads * cols.live_reads,
    )


def conv_uses(model: nn.Module, input_shape: tuple[int, int, int]) -> list[ConvUse]:
    """Every convolution of ``model`` in forward order, at the spatial extents of one forward
    pass of an image of ``input_shape`` (C, H, W), on a meta copy (no memory)."""
    meta = _on_meta(model)
    names = {module: name for name, module in meta.named_modules()}
    found: list[ConvUse] = []

    def hook(module: nn.Module, inputs, output) -> None:
        height, width = inputs[0].shape[-2:]
        found.append(conv_use(names[module], module, (int(height), int(width))))

    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            meta.eval()(torch.zeros(1, *input_shape, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return found


@dataclass(frozen=True)
class LiveCounts:
    """Params and FLOPs (fvcore's) of one net, and the parts of them that are live."""

    params: int
    live_params: int
    flops: int
    live_flops: int

    @property
    def dead_params_fraction(self) -> float:
        return 1 - self.live_params / self.params

    @property
    def dead_flops_fraction(self) -> float:
        return 1 - self.live_flops / self.flops


def live_counts(model: nn.Module, config: NetConfig) -> LiveCounts:
    """:class:`LiveCounts` of a built net (on any device; counted on a meta copy)."""
    meta = _on_meta(model)
    uses = conv_uses(meta, config.input_shape)
    params = count_params(meta)
    flops = shape_flops(meta, config)
    dead_weights = sum(u.weights - u.live_weights for u in uses)
    dead_macs = sum(u.macs - u.live_macs for u in uses)
    return LiveCounts(params, params - dead_weights, flops, flops - dead_macs)


@functools.lru_cache(maxsize=1024)
def live_config_counts(config: NetConfig) -> LiveCounts:
    """:class:`LiveCounts` of a config, from a net built on the meta device (cached, as
    :func:`~spectrum.cost.metrics.count`)."""
    return live_counts(build_net(config, "meta"), config)

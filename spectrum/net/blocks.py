"""The spectrum block: a pointwise (1x1) convolution and a spatial convolution over g segments.

This is the parametric operator of the Xception paper (Chollet 2017, Section 1.2 and Figure 4).
The spatial convolution is a grouped convolution with g groups: each of the g channel segments is
convolved independently. g = 1 is a regular convolution, g = C one segment per channel
(depthwise). ``order`` picks the Inception order (``pointwise-first``) or the order of
TensorFlow's SeparableConv2D (``depthwise-first``); ``activation`` is the optional non-linearity
between the two ops (the paper's Figure 10 finds ``none`` best).

The depth multiplier is the ratio of output to input channels of the spatial convolution, in both
orders, so the block always maps ``in_channels`` to ``out_channels``.

Under bf16 autocast on the CPU, a spatial convolution with few channels per segment on a small
feature map runs in float32 instead. Timed per oneDNN primitive (ONEDNN_VERBOSE, AVX512-BF16 CPU),
the bf16 kernels of such thin grouped convolutions (mostly their weight gradients) ran 2-5x slower
than the float32 ones, while dense and pointwise convolutions ran 1.5-2.3x faster. The rule
depends only on shapes, so CPU runs stay repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import SpecError
from ..options import ACTIVATIONS, ORDERS, Activation, Order, parse_choice  # noqa: F401
from .segments import PER_CHANNEL, Segments, check_segments

# Where bf16 loses on the CPU (see the module docstring): at most this many channels per segment,
# on feature maps of at most this many pixels.
THIN_SEGMENT_CHANNELS = 4
SMALL_MAP_PIXELS = 7 * 7


def make_activation(activation: str) -> nn.Module:
    if activation == "none":
        return nn.Identity()
    if activation == "relu":
        return nn.ReLU(inplace=False)
    if activation == "elu":
        return nn.ELU(inplace=False)
    raise SpecError(f"activation {activation!r} is not one of: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class BlockSpec:
    """Everything that defines one spectrum block."""

    in_channels: int
    out_channels: int
    segments: Segments = PER_CHANNEL
    order: Order = "depthwise-first"
    activation: Activation = "none"
    kernel_size: int = 3
    stride: int = 1
    depth_multiplier: int = 1


class SpectrumConv(nn.Module):
    """Pointwise and segmented spatial convolution, in either order, without biases.

    Attributes ``pointwise`` and ``spatial`` are the two convolutions; ``intermediate`` is the
    activation between them. ``groups`` is the resolved integer g.
    """

    def __init__(self, spec: BlockSpec, layer: str = "block") -> None:
        super().__init__()
        if spec.depth_multiplier < 1:
            raise SpecError(f"layer {layer}: depth multiplier must be >= 1")
        self.spec = spec
        padding = spec.kernel_size // 2
        if spec.order == "depthwise-first":
            spatial_in = spec.in_channels
            spatial_out = spec.in_channels * spec.depth_multiplier
            self.groups = check_segments(spec.segments, spatial_in, layer)
            self.spatial = nn.Conv2d(
                spatial_in,
                spatial_out,
                spec.kernel_size,
                spec.stride,
                padding,
                groups=self.groups,
                bias=False,
            )
            self.pointwise = nn.Conv2d(spatial_out, spec.out_channels, 1, bias=False)
        elif spec.order == "pointwise-first":
            if spec.out_channels % spec.depth_multiplier:
                raise SpecError(
                    f"layer {layer}: depth multiplier {spec.depth_multiplier} "
                    f"does not divide {spec.out_channels} output channels"
                )
            spatial_in = spec.out_channels // spec.depth_multiplier
            self.groups = check_segments(spec.segments, spatial_in, layer)
            self.pointwise = nn.Conv2d(spec.in_channels, spatial_in, 1, bias=False)
            self.spatial = nn.Conv2d(
                spatial_in,
                spec.out_channels,
                spec.kernel_size,
                spec.stride,
                padding,
                groups=self.groups,
                bias=False,
            )
        else:
            raise SpecError(f"order {spec.order!r} is not one of: {', '.join(ORDERS)}")
        self.intermediate = make_activation(spec.activation)
        self.thin_segments = 1 < self.groups and spatial_in // self.groups <= THIN_SEGMENT_CHANNELS

    def forward(self, x: Tensor) -> Tensor:
        if self.spec.order == "depthwise-first":
            return self.pointwise(self.intermediate(self.segmented(x)))
        return self.segmented(self.intermediate(self.pointwise(x)))

    def segmented(self, x: Tensor) -> Tensor:
        """The spatial convolution; in float32 where bf16 autocast would make it slower."""
        if (
            self.thin_segments
            and x.device.type == "cpu"
            and x.shape[-1] * x.shape[-2] <= SMALL_MAP_PIXELS
            and torch.is_autocast_enabled("cpu")
        ):
            with torch.autocast("cpu", enabled=False):
                return self.spatial(x.float())
        return self.spatial(x)

    def extra_repr(self) -> str:
        return f"g={self.groups}, order={self.spec.order}, activation={self.spec.activation}"

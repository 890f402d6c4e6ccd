"""Xception (Chollet 2017, Figure 5) and its small proxies, built from spectrum blocks.

The network is the paper's: a stem of two regular convolutions, an entry flow of three
down-sampling residual blocks (a preset may keep a block at its input size: ``proxy-28s``), a middle flow of repeated identity-residual blocks and an exit flow
with one down-sampling block and two more separable convolutions before global average pooling.
BatchNorm follows every convolution; ReLUs sit where the Keras reference implementation puts them.

Every separable convolution is a :class:`~spectrum.net.blocks.SpectrumConv`, so the whole net can be
moved along the spectrum (segments g), per flow if wanted, together with op order and the
intermediate activation. Widths are named by key (``stem1`` ... ``tail2``) so that a width
multiplier and the rounding of channels to a multiple of g can be applied before building. The
families' fixed shapes (input, stem, widths) are :mod:`spectrum.net.presets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn

from ..errors import SpecError
from .blocks import ACTIVATIONS, ORDERS, BlockSpec, SpectrumConv, parse_choice

# PRESETS and PROXY_WIDTHS are re-exported: study/search.py and tests/test_report.py import them here.
from .presets import PRESETS, PROXY_WIDTHS, Preset, get_preset  # noqa: F401
from .segments import PER_CHANNEL, Segments, check_segments, is_segments, parse_segments

FLOWS: tuple[str, ...] = ("entry", "middle", "exit")


def choose_preset(preset: str, image_size: int) -> str:
    """The preset rule: ``auto`` is ``proxy-28s`` for images of at most 28 px, else ``proxy-32``.

    ``proxy-28s`` keeps every 3x3 convolution of the spectrum at 2x2 or more (``proxy-28``'s
    exit tail runs at 1x1, where 8 of 9 taps only see padding): docs/proxies.md.
    """
    if preset != "auto":
        return preset
    return "proxy-28s" if image_size <= 28 else "proxy-32"


def legacy_auto_preset(image_size: int) -> str:
    """What ``auto`` meant for studies stored before it resolved to ``proxy-28s`` (2026-12-06):
    ``proxy-28`` for images of at most 28 px, else ``proxy-32``. Their fingerprints say ``auto``."""
    return "proxy-28" if image_size <= 28 else "proxy-32"


@dataclass(frozen=True)
class FlowSettings:
    """Where one flow's separable convolutions sit on the spectrum."""

    segments: Segments = PER_CHANNEL
    order: str = "depthwise-first"
    activation: str = "none"

    def __post_init__(self) -> None:
        if not is_segments(self.segments):  # parsed at the edge; library callers may pass text
            object.__setattr__(self, "segments", parse_segments(self.segments))
        object.__setattr__(self, "order", parse_choice(self.order, ORDERS, "order"))
        object.__setattr__(
            self, "activation", parse_choice(self.activation, ACTIVATIONS, "activation")
        )


@dataclass(frozen=True)
class NetConfig:
    """A complete, validated description of one network. ``None`` fields take the preset's value."""

    preset: str = "proxy-28"
    entry: FlowSettings = field(default_factory=FlowSettings)
    middle: FlowSettings = field(default_factory=FlowSettings)
    exit: FlowSettings = field(default_factory=FlowSettings)
    residual: bool = True
    middle_repeats: int | None = None
    width_multiplier: float = 1.0
    dropout: float | None = None
    in_channels: int | None = None
    num_classes: int | None = None
    image_size: int | None = None
    round_to_segments: bool = False
    # Explicit channel counts for named widths, applied after the multiplier (set by matching).
    width_overrides: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        preset = get_preset(self.preset)
        for key, channels in self.width_overrides:
            if key not in preset.widths or int(channels) < 1:
                raise SpecError(
                    f"width override {key}={channels}: key must be one of "
                    f"{', '.join(preset.widths)} and channels >= 1"
                )
        if not self.width_multiplier > 0:
            raise SpecError(f"width multiplier {self.width_multiplier} must be > 0")
        if self.middle_repeats is not None and self.middle_repeats < 0:
            raise SpecError(f"middle repeats {self.middle_repeats} must be >= 0")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise SpecError(f"dropout {self.dropout} must be in [0, 1)")

    @classmethod
    def uniform(
        cls,
        segments: Segments = PER_CHANNEL,
        order: str = "depthwise-first",
        activation: str = "none",
        **kwargs,
    ) -> NetConfig:
        """One setting of (segments, order, activation) for all three flows."""
        flow = FlowSettings(segments, order, activation)
        return cls(entry=flow, middle=flow, exit=flow, **kwargs)

    def flow(self, name: str) -> FlowSettings:
        return getattr(self, name)

    def with_flows(self, **changes) -> NetConfig:
        """The same net with ``segments``/``order``/``activation`` changed in every flow."""
        return replace(self, **{f: replace(self.flow(f), **changes) for f in FLOWS})

    @property
    def shape(self) -> Preset:
        """The preset with this config's overrides applied."""
        preset = get_preset(self.preset)
        return replace(
            preset,
            image_size=self.image_size or preset.image_size,
            in_channels=self.in_channels or preset.in_channels,
            num_classes=self.num_classes or preset.num_classes,
            middle_repeats=preset.middle_repeats
            if self.middle_repeats is None
            else self.middle_repeats,
            dropout=preset.dropout if self.dropout is None else self.dropout,
        )

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """One input image's ``(channels, height, width)``."""
        shape = self.shape
        return (shape.in_channels, shape.image_size, shape.image_size)


@dataclass(frozen=True)
class SepLayer:
    """One separable convolution of the network, before it is built."""

    name: str
    flow: str
    in_key: str
    out_key: str

    def spatial_key(self, order: str) -> str:
        """The width whose channels the spatial convolution sees."""
        return self.in_key if order == "depthwise-first" else self.out_key


def separable_layers(middle_repeats: int) -> list[SepLayer]:
    """Every separable convolution of Xception in forward order, with the widths it connects."""
    layers = [
        SepLayer("entry_flow.block1.sep1", "entry", "stem2", "entry1"),
        SepLayer("entry_flow.block1.sep2", "entry", "entry1", "entry1"),
        SepLayer("entry_flow.block2.sep1", "entry", "entry1", "entry2"),
        SepLayer("entry_flow.block2.sep2", "entry", "entry2", "entry2"),
        SepLayer("entry_flow.block3.sep1", "entry", "entry2", "entry3"),
        SepLayer("entry_flow.block3.sep2", "entry", "entry3", "entry3"),
    ]
    for block in range(1, middle_repeats + 1):
        layers += [
            SepLayer(f"middle_flow.block{block}.sep{i}", "middle", "entry3", "entry3")
            for i in (1, 2, 3)
        ]
    layers += [
        SepLayer("exit_flow.block1.sep1", "exit", "entry3", "exit1"),
        SepLayer("exit_flow.block1.sep2", "exit", "exit1", "exit2"),
        SepLayer("exit_flow.sep3", "exit", "exit2", "tail1"),
        SepLayer("exit_flow.sep4", "exit", "tail1", "tail2"),
    ]
    return layers


def width_divisors(config: NetConfig) -> dict[str, int]:
    """For each named width, the least common multiple of the integer g that see it."""
    divisors = {key: 1 for key in config.shape.widths}
    for layer in separable_layers(config.shape.middle_repeats):
        flow = config.flow(layer.flow)
        if flow.segments != PER_CHANNEL:
            key = layer.spatial_key(flow.order)
            divisors[key] = math.lcm(divisors[key], int(flow.segments))
    return divisors


def resolve_widths(config: NetConfig) -> dict[str, int]:
    """Channel count of every stage after the width multiplier and optional rounding to g.

    With ``round_to_segments`` each width is rounded up to the least common multiple of the
    integer g of every spatial convolution that sees it, so that every layer builds.
    """
    shape = config.shape
    widths = {key: max(1, round(w * config.width_multiplier)) for key, w in shape.widths.items()}
    if config.round_to_segments:
        divisors = width_divisors(config)
        widths = {key: -(-w // divisors[key]) * divisors[key] for key, w in widths.items()}
    widths.update(dict(config.width_overrides))
    return widths


def check_config(config: NetConfig) -> dict[str, int]:
    """Validate that every layer of ``config`` builds; returns the resolved widths.

    Raises :class:`~spectrum.net.segments.SegmentsError` naming the first layer whose g does not
    divide the channels its spatial convolution sees.
    """
    widths = resolve_widths(config)
    for layer in separable_layers(config.shape.middle_repeats):
        flow = config.flow(layer.flow)
        check_segments(flow.segments, widths[layer.spatial_key(flow.order)], layer.name)
    return widths


def conv_bn(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels),
    ]


class SeparableUnit(nn.Module):
    """[ReLU] - spectrum block - BN, the unit Xception stacks."""

    def __init__(self, spec: BlockSpec, layer: str, leading_relu: bool) -> None:
        super().__init__()
        self.relu = nn.ReLU() if leading_relu else nn.Identity()
        self.conv = SpectrumConv(spec, layer)
        self.bn = nn.BatchNorm2d(spec.out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(self.conv(self.relu(x)))


class ResidualBlock(nn.Module):
    """A main path of separable units, optionally max-pooled, plus a shortcut (or none)."""

    def __init__(self, units: list[nn.Module], shortcut: nn.Module | None, pool: bool) -> None:
        super().__init__()
        self.units = nn.Sequential(*units)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1) if pool else nn.Identity()
        self.shortcut = shortcut

    def forward(self, x: Tensor) -> Tensor:
        out = self.pool(self.units(x))
        if self.shortcut is None:
            return out
        return out + self.shortcut(x)


class Xception(nn.Module):
    """Xception or a proxy of it, as described by a :class:`NetConfig`."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        shape = config.shape
        # Each SpectrumConv checks its own g as it is built (check_config does the same checks,
        # in the same order, for callers that want the error before building anything).
        self.widths = widths = resolve_widths(config)
        layers = {layer.name: layer for layer in separable_layers(shape.middle_repeats)}

        def unit(name: str, leading_relu: bool = True) -> SeparableUnit:
            layer = layers[name]
            flow = config.flow(layer.flow)
            spec = BlockSpec(
                widths[layer.in_key],
                widths[layer.out_key],
                flow.segments,
                flow.order,
                flow.activation,
            )
            return SeparableUnit(spec, name, leading_relu)

        def projection(in_key: str, out_key: str, stride: int = 2) -> nn.Module | None:
            if not config.residual:
                return None
            return nn.Sequential(*conv_bn(widths[in_key], widths[out_key], 1, stride=stride))

        def identity() -> nn.Module | None:
            return nn.Identity() if config.residual else None

        self.stem = nn.Sequential(
            *conv_bn(shape.in_channels, widths["stem1"], 3, shape.stem_stride, shape.stem_padding),
            nn.ReLU(inplace=True),
            *conv_bn(widths["stem1"], widths["stem2"], 3, 1, shape.stem_padding),
            nn.ReLU(inplace=True),
        )
        entry = []
        for i, in_key in enumerate(("stem2", "entry1", "entry2"), start=1):
            prefix = f"entry_flow.block{i}"
            # The stem ends in a ReLU, so the first entry block starts without one.
            units = [unit(f"{prefix}.sep1", leading_relu=i > 1), unit(f"{prefix}.sep2")]
            pool = shape.entry_pooling[i - 1]
            shortcut = projection(in_key, f"entry{i}", stride=2 if pool else 1)
            entry.append(ResidualBlock(units, shortcut, pool=pool))
        self.entry_flow = nn.Sequential(*entry)
        self.middle_flow = nn.Sequential(
            *[
                ResidualBlock(
                    [unit(f"middle_flow.block{b}.sep{i}") for i in (1, 2, 3)],
                    identity(),
                    pool=False,
                )
                for b in range(1, shape.middle_repeats + 1)
            ]
        )
        self.exit_flow = nn.Sequential(
            ResidualBlock(
                [unit("exit_flow.block1.sep1"), unit("exit_flow.block1.sep2")],
                projection("entry3", "exit2"),
                pool=True,
            ),
            unit("exit_flow.sep3", leading_relu=False),
            nn.ReLU(inplace=True),
            unit("exit_flow.sep4", leading_relu=False),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(shape.dropout) if shape.dropout > 0 else nn.Identity(),
            nn.Linear(widths["tail2"], shape.num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.exit_flow(self.middle_flow(self.entry_flow(self.stem(x)))))

    def summary(self) -> dict:
        """Plain-data description of the built net (g per flow, widths, rounding)."""
        shape = self.config.shape
        flows = {}
        for name in FLOWS:
            flow = self.config.flow(name)
            flows[name] = {
                "segments": str(flow.segments),
                "order": flow.order,
                "activation": flow.activation,
            }
        nominal = {
            k: max(1, round(w * self.config.width_multiplier)) for k, w in shape.widths.items()
        }
        overridden = dict(self.config.width_overrides)
        rounded = {
            k: (nominal[k], w)
            for k, w in self.widths.items()
            if w != nominal[k] and k not in overridden
        }
        return {
            "preset": shape.name,
            "image_size": shape.image_size,
            "in_channels": shape.in_channels,
            "num_classes": shape.num_classes,
            "flows": flows,
            "residual": self.config.residual,
            "middle_repeats": shape.middle_repeats,
            "width_multiplier": self.config.width_multiplier,
            "widths": dict(self.widths),
            "rounded_to_segments": {k: {"from": a, "to": b} for k, (a, b) in rounded.items()},
            "width_overrides": overridden,
            "dropout": shape.dropout,
        }


def build_net(config: NetConfig, device: torch.device | str | None = None) -> Xception:
    """Build the network; on ``device="meta"`` no memory is allocated (for counting)."""
    if device is None:
        return Xception(config)
    with torch.device(device):
        return Xception(config)

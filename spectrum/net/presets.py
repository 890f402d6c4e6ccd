"""The network families a :class:`~spectrum.net.xception.NetConfig` names: Xception's shape
(Figure 5: 299x299x3, 1,000 classes, 8 middle blocks) and the CPU-sized ``proxy-28``,
``proxy-28s`` and ``proxy-32``, each as input size, stem, the named widths of every stage and
which entry-flow blocks down-sample. docs/proxies.md compares their spatial extents."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError


@dataclass(frozen=True)
class Preset:
    """The fixed shape of a network family: input, stem and the widths of every stage."""

    name: str
    image_size: int
    in_channels: int
    num_classes: int
    stem_stride: int
    stem_padding: int
    widths: dict[str, int]
    middle_repeats: int
    dropout: float
    # Whether each of the three entry-flow blocks down-samples (max pool, stride-2 shortcut).
    entry_pooling: tuple[bool, bool, bool] = (True, True, True)


XCEPTION_WIDTHS = {
    "stem1": 32,
    "stem2": 64,
    "entry1": 128,
    "entry2": 256,
    "entry3": 728,
    "exit1": 728,
    "exit2": 1024,
    "tail1": 1536,
    "tail2": 2048,
}
# Proxy widths are multiples of 32 (``stem1`` feeds no spatial conv of the spectrum) so that
# g in {1, 2, 4, 8, 16, 32, C} all build at multiplier 1. With the stride-2 stem the middle flow
# runs at 2x2 for 28x28 inputs, as Xception's runs at 19x19 for 299x299: sized so that a whole
# sweep trains on two CPU cores in minutes.
PROXY_WIDTHS = {
    "stem1": 16,
    "stem2": 32,
    "entry1": 32,
    "entry2": 64,
    "entry3": 128,
    "exit1": 128,
    "exit2": 192,
    "tail1": 256,
    "tail2": 256,
}

# proxy-28s ("spatial"): proxy-28 without the third entry-flow down-sampling, so that the middle
# flow runs at 4x4 and the exit tail at 2x2 (proxy-28: 2x2 and 1x1, where a 3x3 kernel's outer
# taps only ever see padding). Four times the pixels from the middle flow on, so the widths from
# entry3 on are narrower: about proxy-28's FLOPs at every g. Multiples of 32 where a spatial
# convolution of the spectrum sees them, as in PROXY_WIDTHS.
SPATIAL_PROXY_WIDTHS = {
    "stem1": 16,
    "stem2": 32,
    "entry1": 32,
    "entry2": 64,
    "entry3": 64,
    "exit1": 64,
    "exit2": 128,
    "tail1": 128,
    "tail2": 256,
}

PRESETS: dict[str, Preset] = {
    "xception": Preset(
        "xception",
        299,
        3,
        1000,
        stem_stride=2,
        stem_padding=0,
        widths=XCEPTION_WIDTHS,
        middle_repeats=8,
        dropout=0.5,
    ),
    "proxy-28": Preset(
        "proxy-28",
        28,
        1,
        10,
        stem_stride=2,
        stem_padding=1,
        widths=PROXY_WIDTHS,
        middle_repeats=2,
        dropout=0.0,
    ),
    "proxy-28s": Preset(
        "proxy-28s",
        28,
        1,
        10,
        stem_stride=2,
        stem_padding=1,
        widths=SPATIAL_PROXY_WIDTHS,
        middle_repeats=2,
        dropout=0.0,
        entry_pooling=(True, True, False),
    ),
    "proxy-32": Preset(
        "proxy-32",
        32,
        3,
        10,
        stem_stride=2,
        stem_padding=1,
        widths=PROXY_WIDTHS,
        middle_repeats=2,
        dropout=0.0,
    ),
}
PRESET_HELP = (
    "auto (a new study: proxy-28s for 28px data, else proxy-32; a resumed one: its own) | "
    "proxy-28 | proxy-28s | proxy-32 | xception"
)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise SpecError(f"preset {name!r} is not one of: {', '.join(PRESETS)}")
    return PRESETS[name]

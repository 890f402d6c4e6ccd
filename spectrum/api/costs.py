"""The API's complexity calls: ``count(model, input_size)`` (params, FLOPs as MACs for one image,
latency in ms per batch) and ``match_width`` (the width that matches a budget)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from ..errors import SpecError
from ..net.net_options import NetOptions
from ..net.segments import PER_CHANNEL
from ..net.xception import NetConfig, build_net
from ..options import MATCH_CHOICES, parse_choice
from .nets import SegmentsArg

# --------------------------------------------------------------------------------------------
# Complexity


@dataclass(frozen=True)
class Counts:
    """What :func:`count` measures for one model.

    ``params``: trainable parameters. ``flops``: fvcore FLOPs for ONE image, where one
    multiply-add counts as one FLOP (MACs); convolutions, linear layers, eval-mode batch norm
    and adaptive average pooling are counted, ReLU, additions and max pooling are not.
    ``live_params`` / ``live_flops``: the same less the convolution weights that only ever
    multiply zero padding at this input size and the multiply-adds that read padding
    (:mod:`spectrum.cost.live`).
    ``latency_ms`` / ``train_step_ms``: median milliseconds of one inference forward pass / one
    training step (forward, backward, SGD update) for a batch of ``latency_batch`` images, in
    ``latency_precision`` on ``device``; ``None`` when latency was not measured.
    """

    params: int
    flops: int
    live_params: int | None = None
    live_flops: int | None = None
    latency_ms: float | None = None
    train_step_ms: float | None = None
    latency_batch: int | None = None
    latency_precision: str | None = None
    device: str = "cpu"

    def as_dict(self) -> dict[str, Any]:
        """The counts as a plain dict (one row of ``spectrum count``'s table)."""
        return dict(self.__dict__)


def _input_shape(model: nn.Module, input_size: int | Sequence[int] | None) -> tuple[int, int, int]:
    config = getattr(model, "config", None)
    if input_size is None:
        if not isinstance(config, NetConfig):
            raise SpecError(
                "input_size is needed for a model not built by spectrum: give (C, H, W)"
            )
        return config.input_shape
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        channels = config.shape.in_channels if isinstance(config, NetConfig) else 3
        input_size = (channels, input_size, input_size)
    size = tuple(int(v) for v in input_size)
    if len(size) != 3 or min(size) < 1:
        raise SpecError(f"input_size {input_size!r}: give (C, H, W) with positive sizes, or H")
    return size  # type: ignore[return-value]


def count(
    model: nn.Module,
    input_size: int | Sequence[int] | None = None,
    *,
    latency: bool = True,
    batch_size: int = 64,
    device: str = "cpu",
    precision: str = "auto",
    repeats: int = 10,
) -> Counts:
    """Params, FLOPs and (optionally) measured latency of any ``nn.Module`` on images.

    ``input_size`` is one image's ``(C, H, W)``, or ``H`` for square images with the model's
    channels; for nets from :func:`xception`/:func:`proxy` it defaults to their input shape.
    FLOPs follow fvcore (one multiply-add = one FLOP) for one image in eval mode. Latency
    (``latency=True``, as ``spectrum count`` without ``--no-latency``) is the median ms per batch
    of ``batch_size`` images after a warm-up, over up to ``repeats`` runs, on ``device``
    (``auto``, ``cpu``, ``cuda[:N]``) in ``precision`` (``auto``: bf16 where native, else
    float32). The model is copied for timing and left untouched (its mode is restored).

    Raises:
        SpecError: a bad input size, batch size, device or precision (the command's messages).
    """
    from fvcore.nn import FlopCountAnalysis

    from ..cost.counts import count_params
    from ..cost.live import conv_uses
    from ..device import PRECISIONS, resolve_device

    shape = _input_shape(model, input_size)
    if batch_size < 1:
        raise SpecError("--batch-size must be >= 1")
    if repeats < 1:
        raise SpecError(f"repeats must be >= 1, got {repeats}")
    precision = parse_choice(precision, PRECISIONS, "--precision")
    torch_device = resolve_device(device)
    was_training = model.training
    try:
        sample = torch.zeros(1, *shape, device=next(model.parameters(), torch.zeros(0)).device)
        analysis = FlopCountAnalysis(model.eval(), sample)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        flops = int(analysis.total())
        if latency:  # its output decides whether a training step is timed
            with torch.no_grad():
                out = model(sample)
    finally:
        model.train(was_training)
    params = count_params(model)
    uses = conv_uses(model, shape)
    result = Counts(
        params=params,
        flops=flops,
        live_params=params - sum(u.weights - u.live_weights for u in uses),
        live_flops=flops - sum(u.macs - u.live_macs for u in uses),
        device=str(torch_device),
    )
    if not latency:
        return result
    # A training step is timed only for classifiers (2-D logits) with something to train.
    trainable = out.ndim == 2 and any(p.requires_grad for p in model.parameters())
    num_classes = out.shape[1] if trainable else None
    timing = _measure_latency(
        model, shape, num_classes, torch_device, batch_size, precision, repeats
    )
    return replace(result, **timing)


def _measure_latency(
    model: nn.Module,
    shape: tuple[int, int, int],
    num_classes: int | None,
    device: torch.device,
    batch_size: int,
    precision: str,
    repeats: int,
) -> dict[str, Any]:
    """As :func:`spectrum.cost.latency.time_model`, reduced to the fields of :class:`Counts`."""
    from ..cost.latency import LatencySettings, time_model

    settings = LatencySettings(
        batch_size=batch_size, repeats=repeats, min_repeats=min(3, repeats), precision=precision
    )
    timing = time_model(model, shape, num_classes, device, settings)
    fields = ("latency_ms", "train_step_ms", "latency_batch", "latency_precision")
    return {key: timing[key] for key in fields}


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class Matched:
    """The width that gives one point of the spectrum a reference budget (see :func:`match_width`).

    ``width_multiplier``: the matched multiplier; ``value``: the ``metric`` (``params``, or
    ``flops`` per image as fvcore multiply-adds) the matched net has; ``target``: the reference's.
    """

    width_multiplier: float
    value: int
    target: int
    metric: str
    width_overrides: tuple[tuple[str, int], ...] = ()
    config: NetConfig = field(repr=False, default_factory=NetConfig)

    @property
    def relative_error(self) -> float:
        """``|value - target| / target``."""
        return abs(self.value - self.target) / self.target

    def build(self) -> nn.Module:
        """The matched network (channels rounded to a multiple of g, nudged widths applied)."""
        return build_net(self.config)


def match_width(
    segments: SegmentsArg,
    *,
    metric: str = "params",
    target: int | None = None,
    reference: SegmentsArg = PER_CHANNEL,
    tolerance: float = 0.02,
    preset: str = "proxy-28",
    order: str = "depthwise-first",
    activation: str = "none",
    residual: bool | str = True,
    width: float = 1.0,
    num_classes: int | None = None,
    in_channels: int | None = None,
) -> Matched:
    """The width multiplier at which the net at g = ``segments`` costs what the reference does.

    As ``spectrum count --match METRIC``: the reference is the same net at g = ``reference``
    (default ``C``) and ``width``, unless an explicit ``target`` count is given. ``metric`` is
    ``params``, ``flops`` (fvcore multiply-adds per image), ``live-params`` or ``live-flops``
    (only the weights / multiply-adds that touch real input, not padding). Channels are rounded
    up to multiples of g so that every layer builds; :meth:`Matched.build` returns the net.

    Raises:
        SpecError: a bad metric, or no width within ``tolerance`` (relative) of the target.
    """
    given = dict(locals())  # order, activation, ...: the net's options (NetOptions) among them
    from ..cost.matching import match_width as match
    from ..cost.matching import matched_config
    from ..cost.metrics import count as count_metric

    metric = parse_choice(metric, MATCH_CHOICES, "--match")
    if metric == "none":
        raise SpecError(
            "--match 'none' matches nothing; use params, flops, live-params or live-flops"
        )

    def config_at(g: SegmentsArg) -> NetConfig:
        net = NetOptions.parse({**given, "segments": g, "round_to_segments": True})
        return net.config(preset)

    base = config_at(segments)
    if target is None:
        target = count_metric(config_at(reference), metric)
    found = match(replace(base, round_to_segments=False), int(target), metric, tolerance)
    config = matched_config(base, found)
    return Matched(
        found.width_multiplier, found.value, found.target, metric, found.width_overrides, config
    )

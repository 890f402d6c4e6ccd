"""Complexity accounting: parameters, FLOPs (fvcore) and measured latency of a network.

FLOPs are fvcore's: one fused multiply-add counts as ONE flop, so the numbers are multiply-adds
(MACs), comparable with the paper's "8.4 G multiply-adds" for Xception. fvcore counts convolutions
(grouped and depthwise correctly), linear layers, batch norm (2 per element in eval mode) and
adaptive average pooling; it ignores element-wise ops (ReLU, residual additions, max pooling).
Counting is done on the uncompiled model in eval mode with a batch of one image.

Latency is measured, not estimated: a warm-up, then the median of timed repeats, for inference
(one forward pass of a batch) and for one training step (forward, backward, SGD update).
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ..device import autocast, prepare_model, resolve_precision, synchronize
from ..net.xception import FLOWS, NetConfig, build_net

FLOW_MODULES = ("stem", "entry_flow", "middle_flow", "exit_flow", "classifier")


def count_params(model: nn.Module) -> int:
    """Trainable parameters (conv weights, BN gamma/beta, classifier), as the paper's Table 3."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def params_by_flow(model: nn.Module) -> dict[str, int]:
    counts = {name: 0 for name in FLOW_MODULES}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            counts[name.split(".", 1)[0]] += parameter.numel()
    return counts


def _flop_analysis(model: nn.Module, config: NetConfig):
    from fvcore.nn import FlopCountAnalysis

    shape = config.shape
    sample = torch.zeros(1, shape.in_channels, shape.image_size, shape.image_size)
    analysis = FlopCountAnalysis(model.eval(), sample)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis


def count_flops(model: nn.Module, config: NetConfig) -> int:
    """fvcore multiply-adds for one image at the config's input size."""
    return int(_flop_analysis(model, config).total())


def flops_by_flow(model: nn.Module, config: NetConfig) -> dict[str, int]:
    by_module = _flop_analysis(model, config).by_module()
    return {name: int(by_module.get(name, 0)) for name in FLOW_MODULES}


def shape_flops(model: nn.Module, config: NetConfig) -> int:
    """fvcore's count, computed from layer shapes on the meta device (no memory, ~100x faster).

    Counts exactly what fvcore counts for these nets (tests check equality): convolutions
    (output elements x input channels per group x kernel area), linear layers, eval-mode batch
    norm (2 per element) and adaptive average pooling (1 per input element).
    """
    total = 0

    def hook(module: nn.Module, inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * (module.in_channels // module.groups) * kernel
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features
        elif isinstance(module, nn.BatchNorm2d):
            total += 2 * output.numel()
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            total += inputs[0].numel()

    counted = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.AdaptiveAvgPool2d)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, counted)]
    shape = config.shape
    try:
        with torch.no_grad():
            model.eval()(
                torch.zeros(1, shape.in_channels, shape.image_size, shape.image_size, device="meta")
            )
    finally:
        for handle in handles:
            handle.remove()
    return total


def count(config: NetConfig, metric: str) -> int:
    """``params`` or ``flops`` of a config, from a net built on the meta device (no memory)."""
    if metric == "params":
        return count_params(build_net(config, "meta"))
    if metric == "flops":
        return shape_flops(build_net(config, "meta"), config)
    raise ValueError(f"unknown metric {metric!r}")


@dataclass(frozen=True)
class LatencySettings:
    """How latency is measured."""

    batch_size: int = 64
    warmup: int = 2
    repeats: int = 10
    min_repeats: int = 3
    max_seconds: float = 3.0  # per measurement: stop repeating early on slow models
    train_step: bool = True
    enabled: bool = True  # False: record no latency (smoke tests)
    precision: str = "auto"  # as in training: auto | float32 | bfloat16 (see spectrum.device)


def _median_ms(step, settings: LatencySettings, device: torch.device) -> float:
    """Median wall time of ``step`` after warm-up; slow models get fewer (at least 1+3) runs."""
    began = time.perf_counter()
    for _ in range(settings.warmup):
        step()
        if time.perf_counter() - began > settings.max_seconds / 2:
            break
    synchronize(device)
    times: list[float] = []
    began = time.perf_counter()
    while len(times) < settings.repeats:
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1000.0)
        if (
            len(times) >= settings.min_repeats
            and time.perf_counter() - began > settings.max_seconds
        ):
            break
    return statistics.median(times)


def measure_latency(
    model: nn.Module,
    config: NetConfig,
    device: torch.device,
    settings: LatencySettings = LatencySettings(),
) -> dict[str, float | None]:
    """Median inference and training-step latency (ms) of one batch on ``device``.

    The model is copied, so the caller's weights, BN statistics and mode are untouched.
    """
    shape = config.shape
    precision = resolve_precision(settings.precision, device)
    model = prepare_model(copy.deepcopy(model), device)
    inputs = torch.randn(
        settings.batch_size, shape.in_channels, shape.image_size, shape.image_size, device=device
    )
    inputs = inputs.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, shape.num_classes, (settings.batch_size,), device=device)

    model.eval()

    def infer() -> None:
        with torch.inference_mode(), autocast(device, precision):
            model(inputs)

    inference_ms = _median_ms(infer, settings, device)
    train_ms = None
    if settings.train_step:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def train_step() -> None:
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, precision):
                loss = nn.functional.cross_entropy(model(inputs), labels)
            loss.backward()
            optimizer.step()

        train_ms = _median_ms(train_step, settings, device)
    return {
        "latency_ms": inference_ms,
        "train_step_ms": train_ms,
        "latency_batch": settings.batch_size,
        "latency_precision": precision,
    }


@dataclass
class Complexity:
    """Everything ``spectrum count`` reports about one network."""

    config: NetConfig
    params: int
    flops: int
    latency_ms: float | None = None
    train_step_ms: float | None = None
    latency_batch: int | None = None
    latency_precision: str | None = None
    device: str = "cpu"
    params_by_flow: dict[str, int] = field(default_factory=dict)
    flops_by_flow: dict[str, int] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def measure(
    config: NetConfig,
    device: torch.device | None = None,
    latency: LatencySettings | None = LatencySettings(),
    by_flow: bool = False,
) -> Complexity:
    """Count and (if ``latency`` is given) time one network."""
    device = device or torch.device("cpu")
    model = build_net(config, "cpu")
    result = Complexity(
        config=config,
        params=count_params(model),
        flops=count_flops(model, config),
        device=str(device),
        summary=model.summary(),
    )
    if by_flow:
        result.params_by_flow = params_by_flow(model)
        result.flops_by_flow = flops_by_flow(model, config)
    if latency is not None:
        timing = measure_latency(model, config, device, latency)
        result.latency_ms = timing["latency_ms"]
        result.train_step_ms = timing["train_step_ms"]
        result.latency_batch = timing["latency_batch"]
        result.latency_precision = timing["latency_precision"]
    return result


__all__ = [
    "FLOWS",
    "Complexity",
    "LatencySettings",
    "count",
    "count_flops",
    "count_params",
    "shape_flops",
    "flops_by_flow",
    "measure",
    "measure_latency",
    "params_by_flow",
]

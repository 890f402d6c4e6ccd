"""Measured latency of a network: a warm-up, then the median of timed repeats, for inference (one
forward pass of a batch) and for one training step (forward, backward, SGD update), on a device
and in the precision training would use there."""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from ..device import autocast, prepare_model, resolve_precision, synchronize
from ..net.xception import NetConfig


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

"""Measured latency of a network: a warm-up, then the median of timed repeats, for inference (one
forward pass of a batch) and for one training step (forward, backward, SGD update), on a device
and in the precision training would use there.

Each median comes with a distribution-free 95% interval from the order statistics of the timed
repeats (the binomial argument: no assumption on the shape of the timing noise), and the machine's
1-minute load average is recorded beside it, since a shared machine's load moves latencies."""

from __future__ import annotations

import copy
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from scipy import stats
from torch import nn

from ..device import autocast, prepare_model, resolve_precision, synchronize
from ..net.xception import NetConfig


@dataclass(frozen=True)
class LatencySettings:
    """How latency is measured."""

    batch_size: int = 64
    warmup: int = 2
    repeats: int = 20
    min_repeats: int = 6  # the fewest repeats that give a 95% interval of the median
    max_seconds: float = 3.0  # per measurement: stop repeating early on slow models
    train_step: bool = True
    enabled: bool = True  # False: record no latency (smoke tests)
    precision: str = "auto"  # as in training: auto | float32 | bfloat16 (see spectrum.device)


def median_interval(times: list[float], level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval of the median: order statistics x(k) and x(n + 1 - k).

    k is the largest rank with P(Binomial(n, 1/2) < k) <= (1 - level) / 2, so the interval covers
    the true median with probability at least ``level`` whatever the timing distribution. NaN
    bounds below 6 values (where no such k exists at 95%).
    """
    n = len(times)
    k = 0
    while k + 1 <= n and stats.binom.cdf(k, n, 0.5) <= (1 - level) / 2:
        k += 1
    if k < 1:
        return (math.nan, math.nan)
    ordered = sorted(times)
    return (ordered[k - 1], ordered[n - k])


def timed_ms(step, settings: LatencySettings, device: torch.device) -> list[float]:
    """Wall times (ms) of ``step`` after warm-up; slow models get fewer (at least min) runs."""
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
    return times


def timing_summary(name: str, times: list[float]) -> dict[str, float | int]:
    low, high = median_interval(times)
    return {
        name: statistics.median(times),
        f"{name}_low": low,
        f"{name}_high": high,
        f"{name}_repeats": len(times),
    }


def measure_latency(
    model: nn.Module,
    config: NetConfig,
    device: torch.device,
    settings: LatencySettings = LatencySettings(),
) -> dict[str, float | None]:
    """Median inference and training-step latency (ms) of one batch of ``config``'s images.

    As :func:`time_model` at the net's input shape and class count.
    """
    return time_model(
        model,
        config.input_shape,
        config.shape.num_classes if settings.train_step else None,
        device,
        settings,
    )


def prepared_copy(
    model: nn.Module, image_shape: tuple[int, int, int], batch_size: int, device: torch.device
) -> tuple[nn.Module, torch.Tensor]:
    """What latency times: a copy of ``model`` on ``device`` in channels_last (the caller's model
    is untouched) and one random channels_last batch of ``image_shape`` images."""
    inputs = torch.randn(batch_size, *image_shape, device=device)
    return (
        prepare_model(copy.deepcopy(model), device),
        inputs.contiguous(memory_format=torch.channels_last),
    )


def inference_step(
    model: nn.Module, inputs: torch.Tensor, device: torch.device, precision: str
) -> Callable[[], None]:
    """What inference latency times: one forward pass of ``inputs`` through ``model`` (put in
    eval mode now) under ``torch.inference_mode`` and autocast to ``precision``."""
    model.eval()

    def infer() -> None:
        with torch.inference_mode(), autocast(device, precision):
            model(inputs)

    return infer


def time_model(
    model: nn.Module,
    image_shape: tuple[int, int, int],
    num_classes: int | None,
    device: torch.device,
    settings: LatencySettings = LatencySettings(),
) -> dict[str, float | None]:
    """Median inference and training-step latency (ms) of one batch of ``image_shape`` images.

    Each median has its 95% interval (``*_low``, ``*_high``) and repeat count (``*_repeats``);
    ``latency_load_avg`` is the 1-minute load average when the measurement started. The training
    step (cross-entropy over ``num_classes`` logits, SGD) is timed only when ``num_classes`` is
    given; its keys are ``None`` otherwise.

    The model is copied, so the caller's weights, BN statistics and mode are untouched.
    """
    load_avg = os.getloadavg()[0]
    precision = resolve_precision(settings.precision, device)
    model, inputs = prepared_copy(model, image_shape, settings.batch_size, device)
    infer = inference_step(model, inputs, device, precision)
    timings = timing_summary("latency_ms", timed_ms(infer, settings, device))
    timings.update(dict.fromkeys(("train_step_ms", "train_step_ms_low", "train_step_ms_high")))
    if num_classes is not None:
        labels = torch.randint(0, num_classes, (settings.batch_size,), device=device)
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def train_step() -> None:
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, precision):
                loss = nn.functional.cross_entropy(model(inputs), labels)
            loss.backward()
            optimizer.step()

        timings.update(timing_summary("train_step_ms", timed_ms(train_step, settings, device)))
    return {
        **timings,
        "latency_load_avg": load_avg,
        "latency_batch": settings.batch_size,
        "latency_precision": precision,
    }

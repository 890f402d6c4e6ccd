"""``spectrum bench latency``: inference latency across the spectrum at a matched budget, measured
in interleaved rounds, with paired intervals. It tests ShuffleNet v2's guideline G2 (at equal
FLOPs, heavier grouping is slower) in measured latency, as the reports' per-trial latencies
cannot: each of those is timed once, whenever its trial ran, under whatever load there was.

Nets: the proxy at each g with its widths matched to the g = C net's FLOPs (``match="flops"``,
as ``spectrum sweep --match flops``; ``params`` or ``none`` too), built once, timed as every
latency in spectrum is (:func:`spectrum.cost.latency.inference_step`: a copy on the device in
eval mode, one channels_last batch, the precision's autocast).

Timing: ``rounds`` rounds; in each, every g in turn (the order rotated by one place per round,
so that no g always runs first) gets ``warmup`` untimed passes, then ``repeats`` timed ones, and
the round's value for that g is their median. Rounds are the paired units: load that drifts
during the run falls on every g of a round alike.

Statistics (:func:`comparisons`, :func:`trend`): each g against the reference g (default 1,
the regular convolution) by the per-round log ratio of latencies: the geometric-mean ratio with
the 95% Student-t interval of the mean log ratio over rounds (exponentiated) and its paired
t-test, Holm-adjusted over the g; "slower" or "faster" when the Holm p is below alpha, else
"undecided" (latency has no agreed equivalence margin, so none is claimed). The trend is one
contrast over all g: per round, the least-squares slope of log2 latency on log2 g (``C`` one
step right of the largest integer g, as on the reports' g axis); its t interval over rounds,
reported as the factor by which latency changes per doubling of g.

The machine: load averages before and after, and the cores other processes kept busy during the
run (/proc/stat minus this process's CPU time, as ``spectrum bench sweep``); above
:data:`~spectrum.bench.machine_load.QUIET_LOAD` the report says the machine was not quiet.
"""

from __future__ import annotations

import datetime as _dt
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..cost.counts import count_flops, count_params
from ..cost.latency import LatencySettings, inference_step, prepared_copy, timed_ms
from ..device import (
    cpu_name,
    device_label,
    device_name,
    resolve_precision,
    threading_env,
    torch_threads,
    usable_cores,
)
from ..labels import segment_positions
from ..net.xception import build_net
from ..stats.inference import ALPHA, holm, paired_t_p, per_seed_slopes, t_interval
from .machine_load import QUIET_LOAD, cpu_marks, load_average, other_load_since
from .settings import LatencyBenchSettings


@dataclass(frozen=True)
class TimedNet:
    """One g's net and its per-round median latencies (ms per batch), in round order."""

    g: str
    width_multiplier: float
    params: int
    flops: int
    round_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.round_ms)


@dataclass(frozen=True)
class LatencyBench:
    """A run of the benchmark and what describes the machine it ran on."""

    settings: LatencyBenchSettings
    nets: tuple[TimedNet, ...]
    precision: str  # what the passes ran in
    device: str
    label: str  # file name part: cpu, cpu-1t, cuda0
    threads: int
    cores: int
    cpu: str
    env: dict[str, str]
    load_start: tuple[float, ...]
    load_end: tuple[float, ...]
    other_load: float  # mean cores other processes kept busy during the run (nan: unknown)
    wall_s: float
    date: str
    torch: str
    command: str = ""

    def net(self, g: str) -> TimedNet:
        return next(net for net in self.nets if net.g == g)

    def warnings(self) -> list[str]:
        """Why these numbers may not be those of a quiet machine (empty when it was quiet).

        The cores other processes kept busy during the run decide; the load average before the
        start only where /proc/stat is missing, since it is a one-minute average that also holds
        work that ended before the run (a benchmark run just before, this run's own start-up).
        """
        if math.isnan(self.other_load):
            if self.load_start[0] > QUIET_LOAD:
                return [
                    f"the machine was not quiet: load average {self.load_start[0]:.2f} before "
                    f"starting (quiet: <= {QUIET_LOAD}; other processes' load unknown)"
                ]
            return []
        if self.other_load > QUIET_LOAD:
            return [
                f"the machine was not quiet: other processes kept {self.other_load:.2f} cores "
                f"busy during the run (quiet: <= {QUIET_LOAD})"
            ]
        return []


@dataclass(frozen=True)
class LatencyComparison:
    """Latency of g over the reference's: geometric mean of the per-round ratios."""

    g: str
    reference: str
    rounds: int
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    verdict: str  # slower | faster | undecided | reference


@dataclass(frozen=True)
class LatencyTrend:
    """Factor by which latency changes per doubling of g (one contrast over every g)."""

    factor: float
    ci_low: float
    ci_high: float
    p_value: float
    rounds: int
    verdict: str  # rises | falls | undecided


ProgressCallback = Callable[[str], None]


def bench_latency(
    settings: LatencyBenchSettings,
    device: torch.device,
    command: str = "",
    on_progress: ProgressCallback | None = None,
) -> LatencyBench:
    """Build every g's net, time them in interleaved rounds (see the module), return the run."""
    load_start = load_average()  # before this run's own work (matching widths) raises it
    precision = resolve_precision(settings.precision, device)
    configs = settings.configs()
    timing = LatencySettings(
        batch_size=settings.batch_size,
        warmup=settings.warmup,
        repeats=settings.repeats,
        min_repeats=settings.repeats,
        max_seconds=math.inf,
    )
    steps, costs = [], []
    for config in configs:
        model = build_net(config, "cpu")
        costs.append((config.width_multiplier, count_params(model), count_flops(model, config)))
        timed, inputs = prepared_copy(model, config.input_shape, settings.batch_size, device)
        steps.append(inference_step(timed, inputs, device, precision))
    labels = settings.labels
    round_ms: list[list[float]] = [[] for _ in labels]
    marks = cpu_marks()
    began = time.perf_counter()
    for round_index in range(settings.rounds):
        shift = round_index % len(labels)
        for index in [*range(shift, len(labels)), *range(shift)]:
            round_ms[index].append(statistics.median(timed_ms(steps[index], timing, device)))
        if on_progress:
            on_progress(f"round {round_index + 1}/{settings.rounds} done")
    wall_s = time.perf_counter() - began
    other_load = other_load_since(marks, wall_s)
    threads = torch_threads()
    return LatencyBench(
        settings=settings,
        nets=tuple(
            TimedNet(g, width, params, flops, tuple(times))
            for g, (width, params, flops), times in zip(labels, costs, round_ms)
        ),
        precision=precision,
        device=device_name(device),
        label=device_label(device, threads),
        threads=threads,
        cores=usable_cores(),
        cpu=cpu_name(),
        env=threading_env(),
        load_start=tuple(load_start),
        load_end=tuple(load_average()),
        other_load=other_load,
        wall_s=wall_s,
        date=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        torch=torch.__version__,
        command=command,
    )


def comparisons(bench: LatencyBench, alpha: float = ALPHA) -> list[LatencyComparison]:
    """Every g against the reference g, Holm-adjusted over the g (see the module)."""
    reference = bench.settings.reference
    base = np.log(bench.net(reference).round_ms)
    others = [net for net in bench.nets if net.g != reference]
    logs = [np.log(net.round_ms) - base for net in others]
    p_holm = holm([paired_t_p(diffs) for diffs in logs])
    found = []
    for net, diffs, adjusted in zip(others, logs, p_holm):
        interval = t_interval(diffs)
        if adjusted < alpha:
            verdict = "slower" if interval.mean > 0 else "faster"
        else:
            verdict = "undecided"
        found.append(
            LatencyComparison(
                g=net.g,
                reference=reference,
                rounds=interval.n,
                ratio=math.exp(interval.mean),
                ci_low=math.exp(interval.ci_low),
                ci_high=math.exp(interval.ci_high),
                p_value=paired_t_p(diffs),
                p_holm=adjusted,
                verdict=verdict,
            )
        )
    return found


def trend(bench: LatencyBench, alpha: float = ALPHA) -> LatencyTrend | None:
    """The slope of log2 latency over log2 g, per round; None with fewer than three g placed."""
    positions = segment_positions(net.g for net in bench.nets)
    if len(positions) < 3:
        return None
    by_x = {
        positions[net.g]: dict(enumerate(np.log2(net.round_ms)))
        for net in bench.nets
        if net.g in positions
    }
    slopes = per_seed_slopes(by_x)
    interval = t_interval(slopes)
    p_value = paired_t_p(slopes)
    if p_value < alpha:
        verdict = "rises" if interval.mean > 0 else "falls"
    else:
        verdict = "undecided"
    return LatencyTrend(
        factor=2.0**interval.mean,
        ci_low=2.0**interval.ci_low,
        ci_high=2.0**interval.ci_high,
        p_value=p_value,
        rounds=interval.n,
        verdict=verdict,
    )

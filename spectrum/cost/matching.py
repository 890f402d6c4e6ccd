"""Complexity matching: the width multiplier that gives a network a reference budget.

To compare points of the spectrum at equal cost (the ResNeXt approach), each g gets the width
multiplier whose params or FLOPs (or their live parts, :mod:`spectrum.cost.live`) come closest to
the reference model's, with channel counts rounded up to a multiple of g so that every layer
still builds. Counts are monotone in the
multiplier, so a bisection on the multiplier finds the two achievable counts that bracket the
target; the closer one wins. Where rounding to g makes the steps coarser than the tolerance (small
widths with large g), single widths are then nudged by one multiple of g at a time, greedily, and
the nudged channel counts are recorded as the config's ``width_overrides``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import SpecError
from ..net.xception import NetConfig, resolve_widths, width_divisors
from .metrics import count

METRICS = ("params", "flops", "live-params", "live-flops")
LOWEST_MULTIPLIER = 1 / 64
HIGHEST_MULTIPLIER = 16.0


@dataclass(frozen=True)
class Match:
    """The matched multiplier for one config and how close it came."""

    width_multiplier: float
    value: int
    target: int
    metric: str
    width_overrides: tuple[tuple[str, int], ...] = ()

    @property
    def relative_error(self) -> float:
        return abs(self.value - self.target) / self.target


def match_width(
    config: NetConfig,
    target: int,
    metric: str = "params",
    tolerance: float = 0.02,
    counter: Callable[[NetConfig, str], int] = count,
) -> Match:
    """The multiplier whose ``metric`` is nearest ``target``; SpecError if beyond ``tolerance``."""
    if metric not in METRICS:
        raise SpecError(f"match metric {metric!r} is not one of: none, {', '.join(METRICS)}")

    def value_at(multiplier: float) -> int:
        scaled = replace(config, width_multiplier=multiplier, round_to_segments=True)
        return counter(scaled, metric)

    own = config.width_multiplier
    if value_at(own) == target:  # the reference itself (or an exact hit): keep its width
        return Match(own, target, target, metric, config.width_overrides)
    low, high = LOWEST_MULTIPLIER, HIGHEST_MULTIPLIER
    low_value, high_value = value_at(low), value_at(high)
    if not low_value <= target <= high_value:
        raise SpecError(
            f"cannot match {metric}={target}: reachable range is "
            f"{low_value}..{high_value} for this network"
        )
    while high / low > 1.0005:
        middle = (low * high) ** 0.5
        middle_value = value_at(middle)
        if middle_value >= target:
            high, high_value = middle, middle_value
        else:
            low, low_value = middle, middle_value
    best = min(((high, high_value), (low, low_value)), key=lambda mv: abs(mv[1] - target))
    multiplier = round(best[0], 4)
    config = replace(config, width_multiplier=multiplier, round_to_segments=True)
    config, value = _nudge_widths(
        config, counter(config, metric), target, metric, tolerance, counter
    )
    match = Match(multiplier, value, target, metric, config.width_overrides)
    if match.relative_error > tolerance:
        raise SpecError(
            f"matching {metric} for g={config.entry.segments}: nearest is "
            f"{match.value} vs target {target} ({match.relative_error:.1%} off, "
            f"tolerance {tolerance:.0%})"
        )
    return match


def _nudge_widths(
    config: NetConfig,
    value: int,
    target: int,
    metric: str,
    tolerance: float,
    counter: Callable[[NetConfig, str], int],
    max_steps: int = 16,
) -> tuple[NetConfig, int]:
    """Greedy: move one width by one multiple of its g while that brings ``value`` nearer."""
    divisors = width_divisors(config)
    for _ in range(max_steps):
        if abs(value - target) <= tolerance / 2 * target:
            break
        widths = resolve_widths(config)
        direction = 1 if value < target else -1
        candidates = []
        for key, step in divisors.items():
            channels = widths[key] + direction * step
            if channels >= step:
                overrides = dict(config.width_overrides) | {key: channels}
                candidate = replace(config, width_overrides=tuple(sorted(overrides.items())))
                candidates.append((abs(counter(candidate, metric) - target), candidate))
        if not candidates:
            break
        error, candidate = min(candidates, key=lambda item: item[0])
        if error >= abs(value - target):
            break
        config, value = candidate, counter(candidate, metric)
    return config, value


def matched_config(config: NetConfig, match: Match) -> NetConfig:
    return replace(
        config,
        width_multiplier=match.width_multiplier,
        round_to_segments=True,
        width_overrides=match.width_overrides,
    )

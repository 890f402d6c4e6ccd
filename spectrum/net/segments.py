"""Segment counts: the coordinate g of the spectrum, and the parsing of lists of them.

A segment count is a positive integer g, or the token ``C`` meaning one segment per channel
(the depthwise end of the spectrum). ``1`` is a regular convolution.
"""

from __future__ import annotations

from typing import Literal

from ..errors import SegmentsError, SpecError

PER_CHANNEL: Literal["C"] = "C"
Segments = int | Literal["C"]


def parse_segments(token: str | int) -> Segments:
    """Parse one segment count: a positive integer or ``C`` (case-insensitive)."""
    if isinstance(token, bool):
        raise SpecError(f"segment count {token!r} is not a positive integer or C")
    if isinstance(token, int):
        if token < 1:
            raise SpecError(f"segment count {token} must be a positive integer or C")
        return token
    text = str(token).strip()
    if text.upper() == PER_CHANNEL:
        return PER_CHANNEL
    if not text:
        raise SpecError("empty segment count; use a positive integer or C")
    try:
        value = int(text)
    except ValueError:
        raise SpecError(f"segment count {text!r} is not a positive integer or C") from None
    if value < 1:
        raise SpecError(f"segment count {value} must be a positive integer or C")
    return value


def is_segments(value: object) -> bool:
    """True for an already parsed segment count: an integer >= 1 (not a bool) or ``C``."""
    if isinstance(value, bool):
        return False
    return value == PER_CHANNEL or (isinstance(value, int) and value >= 1)


def parse_segments_list(text: str) -> list[Segments]:
    """Parse a comma-separated list such as ``1,4,32,C``; rejects empties and duplicates."""
    items = str(text).split(",")
    parsed: list[Segments] = []
    for position, item in enumerate(items, start=1):
        if not item.strip():
            raise SpecError(f"segments list {text!r} has an empty item at position {position}")
        value = parse_segments(item)
        if value in parsed:
            raise SpecError(f"segments list {text!r} names {value} twice; list each g once")
        parsed.append(value)
    return parsed


def parse_segments_arg(value: object, where: str) -> tuple[Segments, ...]:
    """g values as a flag's comma-separated text (``1,4,C``), a list, or one g."""
    if isinstance(value, str):
        return tuple(parse_segments_list(value))
    try:
        if isinstance(value, (list, tuple)):
            return tuple(parse_segments(item) for item in value)
        return (parse_segments(value),)  # type: ignore[arg-type]
    except SpecError as error:
        raise SpecError(f"{where}: {error}") from None


def resolve_segments(segments: Segments, channels: int) -> int:
    """The integer group count for a convolution that sees ``channels`` channels."""
    return channels if segments == PER_CHANNEL else int(segments)


def valid_segments(channels: int) -> list[int]:
    """Every g that divides ``channels`` (all points of the spectrum available to that layer)."""
    return [g for g in range(1, channels + 1) if channels % g == 0]


def nearest_valid_segments(segments: int, channels: int) -> list[int]:
    """The valid g just below and just above ``segments`` for a layer with ``channels`` channels."""
    divisors = valid_segments(channels)
    below = [g for g in divisors if g < segments]
    above = [g for g in divisors if g > segments]
    return ([below[-1]] if below else []) + ([above[0]] if above else [])


def check_segments(segments: Segments, channels: int, layer: str) -> int:
    """Resolve ``segments`` for a layer, raising :class:`SegmentsError` if g does not divide."""
    groups = resolve_segments(segments, channels)
    if channels % groups != 0:
        near = ", ".join(str(g) for g in nearest_valid_segments(groups, channels))
        raise SegmentsError(
            f"layer {layer}: g={groups} does not divide its {channels} channels; "
            f"nearest valid g: {near} (or C, or round channels with --round-to-segments)"
        )
    return groups


def segments_label(segments: Segments) -> str:
    return PER_CHANNEL if segments == PER_CHANNEL else str(int(segments))


def segments_sort_key(segments: Segments) -> float:
    """Order g ascending with ``C`` last (it is the largest g for every layer)."""
    return float("inf") if segments == PER_CHANNEL else float(segments)

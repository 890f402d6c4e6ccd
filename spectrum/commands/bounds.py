"""The range every numeric flag accepts, for every command, in one table.

A flag name means the same thing in every command that has it (``--batch-size`` is a number of
images wherever it appears), so its range is stated once here, keyed by name, and
:func:`bound_numeric_flags` checks it on every command of the app as click parses the command
line: ``spectrum count --batch-size 0`` ends in one line naming the flag and exit code 2 before
anything runs (the library checks the same ranges in its configs, for callers of the Python API;
these messages read like its own). ``tests/test_numeric_flags.py`` fails for a numeric flag missing from the table,
so a new flag gets its range when it is added.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from ..errors import SpecError


@dataclass(frozen=True)
class Bound:
    """``low <= value`` (``low < value`` when ``open``), and ``value <= high`` when set."""

    low: float
    open: bool = False
    high: float | None = None
    unit: str = ""

    def admits(self, value: float) -> bool:
        above = value > self.low if self.open else value >= self.low
        return above and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.high is not None:
            text = f"in {self.low:g}..{self.high:g}"
        else:
            text = f"{'>' if self.open else '>='} {self.low:g}"
        return f"{text} {self.unit}".rstrip()


POSITIVE = Bound(1)  # a count of something that must exist: 1 or more
NON_NEGATIVE = Bound(0)  # a count or amount where 0 means none
ABOVE_ZERO = Bound(0, open=True)  # a real quantity (a width, a rate, a margin, a cap)

NUMERIC_FLAG_BOUNDS: dict[str, Bound] = {
    # sizes and counts of work
    "--batch-size": POSITIVE,
    "--epochs": POSITIVE,
    "--seeds": POSITIVE,
    "--max-seeds": POSITIVE,
    "--seed-step": POSITIVE,
    "--trials": POSITIVE,
    "--train-subset": POSITIVE,
    "--nproc-per-node": POSITIVE,
    "--steps": POSITIVE,
    "--blocks": POSITIVE,
    "--matmul-size": POSITIVE,
    "--repeats": POSITIVE,
    "--heartbeat-interval": POSITIVE,
    "--grace-period": POSITIVE,
    "--max-params": POSITIVE,
    "--max-flops": POSITIVE,
    "--rounds": Bound(3),  # a latency interval needs 3 rounds
    "--port": Bound(0, high=65535),  # 0: any free port
    # 0 means none
    "--seed": NON_NEGATIVE,
    "--val-size": NON_NEGATIVE,
    "--warmup": NON_NEGATIVE,
    "--weight-decay": NON_NEGATIVE,
    "--confirm": NON_NEGATIVE,
    "--prune-band": NON_NEGATIVE,
    # real quantities
    "--width": ABOVE_ZERO,
    "--lr": ABOVE_ZERO,
    "--margin": Bound(0, open=True, unit="accuracy points"),
    "--max-latency-ms": ABOVE_ZERO,
}


def numeric_type(param) -> type | None:
    """``int`` or ``float`` for a numeric option (optional ones too), else None."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    for candidate in typing.get_args(annotation) or (annotation,):
        if candidate in (int, float):
            return candidate
    return None


def numeric_params(command, path: tuple[str, ...] = ()):
    """(command path, parameter) for every numeric option of ``command`` and its subcommands."""
    for name, sub in getattr(command, "commands", {}).items():
        yield from numeric_params(sub, (*path, name))
    for param in getattr(command, "params", ()):
        if numeric_type(param) is not None:
            yield path, param


def bound_numeric_flags(command) -> None:
    """Check each numeric option of ``command`` (a click command tree) against its bound as it
    is parsed. A flag missing from :data:`NUMERIC_FLAG_BOUNDS` is left as it is."""
    for _, param in numeric_params(command):
        bound = NUMERIC_FLAG_BOUNDS.get(param.opts[0])
        if bound is not None:
            param.callback = _checker(bound, param.callback)


def _checker(bound: Bound, previous):
    def check(ctx, param, value):
        if value is not None and not bound.admits(value):
            raise SpecError(f"{param.opts[0]} must be {bound.describe()} (got {value:g})")
        return previous(ctx, param, value) if previous is not None else value

    return check

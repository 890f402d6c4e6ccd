"""The vocabularies of the toolkit and the one set of parsers for choices and lists.

This module owns the words a user (or a stored study) may write for an op order, an intermediate
activation, a width-matching target, a trial status, an on/off switch and a search objective
(:data:`SEARCH_OBJECTIVES`: the one table of what differs between objectives, read by the search
and by its report), and the functions that
turn command-line strings and study-file values into them. Every parser raises a one-line
:class:`~spectrum.errors.SpecError` that names where the value came from (a flag such as
``--orders`` or a key such as ``search space entry.orders``). Torch-free, so that the report
stage and the command line's start-up can use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import fmt
from .errors import SpecError

Order = Literal["depthwise-first", "pointwise-first"]
Activation = Literal["none", "relu", "elu"]
Match = Literal["none", "params", "flops", "live-params", "live-flops"]
# How a trial ended, as stored in its ``status`` (see spectrum.records).
Status = Literal["complete", "diverged", "failed", "infeasible", "pruned", "interrupted"]

ORDERS: tuple[str, ...] = ("depthwise-first", "pointwise-first")
ACTIVATIONS: tuple[str, ...] = ("none", "relu", "elu")
# live-*: only the weights / multiply-adds that touch real input (spectrum.cost.live)
MATCH_CHOICES: tuple[str, ...] = ("none", "params", "flops", "live-params", "live-flops")
# What a matched budget is called in prose ("matched live parameters").
MATCH_NAMES: dict[str, str] = {
    "params": "parameters",
    "flops": "FLOPs",
    "live-params": "live parameters",
    "live-flops": "live FLOPs",
}
STATUSES: tuple[str, ...] = (
    "complete",
    "diverged",
    "failed",
    "infeasible",
    "pruned",
    "interrupted",
)
ON_OFF: tuple[str, ...] = ("on", "off")


@dataclass(frozen=True)
class SearchObjective:
    """One objective ``--objectives`` may name: everything that differs between objectives."""

    name: str
    direction: str  # maximize | minimize
    key: str  # where its value lives in a trial record
    axis: str  # a plot's axis label
    text: Callable[[Any], str]  # a value as tables and sentences show it
    log: bool = False  # plotted on a log scale
    scale: float = 1.0  # a plot axis shows value * scale (accuracy in percent)


SEARCH_OBJECTIVES: dict[str, SearchObjective] = {
    objective.name: objective
    for objective in (
        SearchObjective("accuracy", "maximize", "val_acc", "accuracy (%)", fmt.pct, scale=100.0),
        SearchObjective(
            "params", "minimize", "params", "parameters (count, log scale)", fmt.count, log=True
        ),
        SearchObjective(
            "flops", "minimize", "flops", "FLOPs (multiply-adds, log scale)", fmt.count, log=True
        ),
        SearchObjective(
            "latency", "minimize", "latency_ms", "latency (ms per batch, log scale)", fmt.ms,
            log=True,
        ),
    )
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Command-line flags: ``--flag TEXT``


def parse_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """Validate a string option; the error names the option and lists the valid choices."""
    text = str(value).strip().lower()
    if text not in choices:
        raise SpecError(f"{what} {value!r} is not one of: {', '.join(choices)}")
    return text


def parse_list(text: str, choices: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """A comma-separated flag value such as ``--orders a,b``: each item one of ``choices``."""
    items = [item.strip() for item in str(text).split(",")]
    if any(not item for item in items):
        raise SpecError(f"{flag} {text!r} has an empty item; give a comma-separated list")
    values = tuple(parse_choice(item, choices, flag) for item in items)
    if len(set(values)) != len(values):
        raise SpecError(f"{flag} {text!r} names a value twice")
    return values


def parse_on_off(text: str, flag: str) -> tuple[bool, ...]:
    """``on``, ``off`` or ``on,off`` as booleans."""
    return tuple(value == "on" for value in parse_list(text, ON_OFF, flag))


# --------------------------------------------------------------------------------------------
# Plain data (study files, search spaces): ``where`` names the key, e.g. "search space widths"


def items(value: Any, where: str) -> list:
    """A list from a list/tuple, a comma-separated string or a single scalar."""
    if isinstance(value, str):
        parts = [item.strip() for item in value.split(",")]
        if any(not item for item in parts):
            raise SpecError(f"{where}: {value!r} has an empty item")
        return parts
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a list or a comma-separated string, got {value!r}")
    return [value]


def unique(values: list, where: str) -> tuple:
    """``values`` as a tuple; none missing and none twice."""
    if not values:
        raise SpecError(f"{where}: lists no value")
    if len(set(values)) != len(values):
        raise SpecError(f"{where}: lists a value twice: {', '.join(str(v) for v in values)}")
    return tuple(values)


def number(item: Any, where: str, kind: type) -> float | int:
    """``item`` as a finite ``int`` or ``float`` (a bool is neither)."""
    what = "an integer" if kind is int else "a number"
    if isinstance(item, bool):
        raise SpecError(f"{where}: {item!r} is not {what}")
    try:
        value = kind(item) if not isinstance(item, str) else kind(item.strip())
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"{where}: {item!r} is not {what}") from None
    if kind is int and not isinstance(item, (int, str)) and float(item) != value:
        raise SpecError(f"{where}: {item!r} is not an integer")
    if not math.isfinite(value):
        raise SpecError(f"{where}: {item!r} is not a finite number")
    return value


def on_off(item: Any, where: str) -> bool:
    """A boolean from ``True``/``False`` or on/off, true/false, yes/no, 1/0."""
    if isinstance(item, bool):
        return item
    text = str(item).strip().lower()
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    raise SpecError(f"{where}: {item!r} is not on or off")


def choice(item: Any, allowed: tuple[str, ...], where: str) -> str:
    """One of ``allowed`` (any case, surrounding spaces ignored)."""
    text = str(item).strip().lower()
    if text not in allowed:
        raise SpecError(f"{where}: {item!r} is not one of: {', '.join(allowed)}")
    return text


def choices(value: Any, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    """A list (or comma-separated string) of distinct values of ``allowed``."""
    return unique([choice(item, allowed, where) for item in items(value, where)], where)


# --------------------------------------------------------------------------------------------
# Either: a flag's text (``where`` a flag such as ``--orders``) or plain data (a key)


def listed(allowed: tuple[str, ...]):
    """A parser for a list of ``allowed`` values: a flag's comma-separated text, or a list."""

    def parse(value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return parse_list(value, allowed, where)
        return tuple(choice(str(item).lower(), allowed, where) for item in items(value, where))

    return parse


def one_of(allowed: tuple[str, ...]):
    """A parser for one of ``allowed``, with the flag's message or the key's."""

    def parse(value: Any, where: str) -> str:
        if where.startswith("--"):
            return parse_choice(value, allowed, where)
        return choice(value, allowed, where)

    return parse


def switches(value: Any, where: str) -> tuple[bool, ...]:
    """On/off values: a flag's ``on,off`` text, a bool, or a list of bools and on/off."""
    if isinstance(value, str):
        return parse_on_off(value, where)
    out = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if item not in (True, False, "on", "off"):
            raise SpecError(f"{where}: {item!r} is not one of: true, false, on, off")
        out.append(item in (True, "on"))
    return tuple(out)

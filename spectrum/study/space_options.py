"""The search space's options: what ``spectrum search``, :func:`spectrum.search` and a study file
give, declared once.

:class:`SpaceOptions` declares the space's keys (:data:`~spectrum.study.space.SPACE_KEYS`) as
options, each parsed by the space's one grammar (:data:`~spectrum.study.space.SPACE_PARSERS`):
``--segments``, ``--orders`` and ``--activations`` for every flow or per flow (``LIST`` /
``FLOW=LIST`` / ``{flow: choices}``), ``--entry``, ``--middle`` and ``--exit`` for one flow's
choices (``KEY=LIST`` / a table), ``--widths``, ``--repeats``, ``--residual``, ``--lr``,
``--lr-range`` and ``--preset``. The command line's flags and the API's keywords are those
options (:func:`spectrum.study.plan.search_options`), and a study file's ``[search]`` table (or
its ``[search.space]``) names the same keys: :func:`space_of` reads them with the same parsers
and messages. Torch-free apart from the configs it reads defaults from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import Option, build, option
from ..net.presets import PRESET_HELP
from .space import DEFAULT_REPEATS, DEFAULT_WIDTHS, SPACE_KEYS, SPACE_PARSERS, SearchSpace, assemble


def _parsed(key: str, help: str, default: Any, **more: Any) -> Any:
    """A field whose option the space's grammar parses (``SPACE_PARSERS[key]``)."""
    shown = more.pop("shown", default)
    return field(
        default=default,
        metadata=option(help, parse=SPACE_PARSERS[key], shown=shown, **more),
    )


def _repeatable(key: str, help: str) -> Any:
    """A field given several times on the command line (``LIST`` / ``FLOW=LIST`` or a flow's
    ``KEY=LIST``); unset, the space's defaults."""
    return field(
        default_factory=dict,
        metadata=option(help, parse=SPACE_PARSERS[key], shown=None, cli_type=list[str] | None),
    )


def _flow(flow: str) -> Any:
    return _repeatable(
        flow,
        f"The {flow} flow's choices as KEY=LIST (segments=1,2 / orders=depthwise-first / "
        f"activations=relu); repeatable; the same as --segments {flow}=LIST and so on.",
    )


@dataclass(frozen=True)
class SpaceOptions:
    """The space of a search as ``spectrum search``, :func:`spectrum.search` and a study file's
    ``[search]`` give it, with the training's learning rate: one ``lr`` is the training's,
    choices or a range are searched. Each field holds its option's parsed value."""

    segments: dict = _repeatable(
        "segments",
        "g choices, e.g. 1,4,C for every flow, or FLOW=LIST (entry=1,2 / middle=C / exit=4,C) for "
        "one flow; repeatable. Default (or all): every power of two dividing the flow's channels "
        "at every width, and C.",
    )
    orders: dict = _repeatable(
        "orders",
        "Op orders (depthwise-first, pointwise-first), as LIST or FLOW=LIST; repeatable. "
        "Default: both.",
    )
    activations: dict = _repeatable(
        "activations",
        "Intermediate activations (none, relu, elu), as LIST or FLOW=LIST; repeatable. "
        "Default: all three.",
    )
    entry: dict = _flow("entry")
    middle: dict = _flow("middle")
    exit: dict = _flow("exit")
    widths: Any = _parsed("widths", "Width multiplier choices.", DEFAULT_WIDTHS, cli_type=str)
    repeats: Any = _parsed("repeats", "Middle-flow repeat choices.", DEFAULT_REPEATS, cli_type=str)
    residual: Any = _parsed(
        "residual", "Residual choices: on, off or on,off.", (True, False), cli_type=str
    )
    lr: Any = _parsed(
        "lr",
        "Learning rate: one value (not searched), a list of choices (0.05,0.2) or a "
        "log-uniform range LOW:HIGH.",
        TrainConfig.lr,
        shown=str(TrainConfig.lr),
        cli_type=str,
    )
    lr_range: Any = _parsed(
        "lr_range",
        "A log-uniform learning-rate range LOW:HIGH to search (the same as --lr LOW:HIGH).",
        None,
        cli_type=str | None,
    )
    preset: str = _parsed("preset", PRESET_HELP, "auto")

    def space(self) -> tuple[SearchSpace, float]:
        """The space, and the training's learning rate."""
        parsed = {f.name: getattr(self, f.name) for f in fields(self)}
        space, lr = assemble({key: value for key, value in parsed.items() if value is not None})
        return space, TrainConfig.lr if lr is None else lr


def space_of(
    table: Mapping[str, Any], where: Callable[[Option], str], prefix: str
) -> tuple[SearchSpace, float | None]:
    """A study file's space keys (a ``[search]`` table's, or its ``[search.space]``), read as
    the flags are: the space, and the training's learning rate when ``lr`` is one number (None
    when the table gives none). ``where`` names a key; ``prefix`` starts the space's own
    checks' messages (e.g. a g that does not divide)."""
    unknown = sorted(set(table) - set(SPACE_KEYS))
    if unknown:
        raise SpecError(f"{prefix}: unknown key {unknown[0]!r} (known: {', '.join(SPACE_KEYS)})")
    options = build(SpaceOptions, table, where)
    try:
        space, lr = options.space()
    except SpecError as error:
        raise SpecError(f"{prefix}: {error}") from None
    return space, lr if "lr" in table else None

"""The space of a search as ``spectrum search`` and :func:`spectrum.search` give it.

:class:`SpaceOptions` declares the search space's options once (``--segments``, ``--orders`` and
``--activations`` for every flow or per flow, ``--widths``, ``--repeats``, ``--residual``,
``--lr``, ``--preset``) and turns their values into a :class:`~spectrum.study.space.SearchSpace`
and the training's learning rate; :func:`flow_choices` is the one reading of a per-flow choice,
whichever door it came through. A study file gives its ``[space]`` as data to
:meth:`SearchSpace.from_dict` instead. Torch-free apart from the configs it reads defaults from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import option
from ..net.presets import PRESET_HELP
from ..net.xception import FLOWS
from ..options import items
from .space import DEFAULT_REPEATS, DEFAULT_WIDTHS, SearchSpace, flow_overrides, merge_space_data


def flow_choices(value: Any, key: str) -> dict:
    """``segments``, ``orders`` or ``activations`` of a search as :meth:`SearchSpace.from_dict`
    data: ``None`` (the space's defaults), ``{flow: choices}`` (per flow), or texts and values
    for every flow, where a text ``FLOW=LIST`` is that flow's (and wins for it): the command
    line's repeated ``LIST`` / ``FLOW=LIST`` (``["1,4,C", "exit=C"]``) or the API's choices
    (``[1, 4, "C"]``, ``"1,4,C"``)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        unknown = [flow for flow in value if flow not in FLOWS]
        if unknown:
            raise SpecError(
                f"search space {key}: {unknown[0]!r} names no flow; use one of {', '.join(FLOWS)}"
            )
        return {flow: {key: choices} for flow, choices in value.items()}
    given = [value] if isinstance(value, str) else list(value)
    per_flow = [item for item in given if isinstance(item, str) and "=" in item]
    every = [
        v for item in given if item not in per_flow for v in items(item, f"search space {key}")
    ]
    return merge_space_data({key: every} if every else {}, flow_overrides(per_flow, key))


def _per_flow(key: str, help: str) -> Any:
    """A per-flow choice's field: its option is repeatable on the command line (``LIST`` or
    ``FLOW=LIST``) and read by :func:`flow_choices`; unset, the space's defaults."""
    return field(
        default_factory=dict,
        metadata=option(
            help,
            parse=lambda value, where: flow_choices(value, key),
            shown=None,
            cli_type=list[str] | None,
        ),
    )


@dataclass(frozen=True)
class SpaceOptions:
    """The space of a search as ``spectrum search`` and :func:`spectrum.search` give it (a study
    file gives its ``[space]`` whole), with the training's learning rate: one ``lr`` is the
    training's, choices or a range are searched (:func:`searched_lr`)."""

    segments: dict = _per_flow(
        "segments",
        "g choices, e.g. 1,4,C for every flow, or FLOW=LIST (entry=1,2 / middle=C / exit=4,C) for "
        "one flow; repeatable. Default: every power of two dividing the flow's channels at every "
        "width, and C.",
    )
    orders: dict = _per_flow(
        "orders",
        "Op orders (depthwise-first, pointwise-first), as LIST or FLOW=LIST; repeatable. "
        "Default: both.",
    )
    activations: dict = _per_flow(
        "activations",
        "Intermediate activations (none, relu, elu), as LIST or FLOW=LIST; repeatable. "
        "Default: all three.",
    )
    widths: Any = field(
        default=DEFAULT_WIDTHS, metadata=option("Width multiplier choices.", cli_type=str)
    )
    repeats: Any = field(
        default=DEFAULT_REPEATS, metadata=option("Middle-flow repeat choices.", cli_type=str)
    )
    residual: Any = field(
        default=(True, False),
        metadata=option("Residual choices: on, off or on,off.", cli_type=str),
    )
    lr: Any = field(
        default=TrainConfig.lr,
        metadata=option(
            "Learning rate: one value (not searched), a list of choices (0.05,0.2) or a "
            "log-uniform range LOW:HIGH.",
            shown=str(TrainConfig.lr),
            cli_type=str,
        ),
    )
    preset: str = field(default="auto", metadata=option(PRESET_HELP))

    def space(self) -> tuple[SearchSpace, float]:
        """The space, and the training's learning rate."""
        base_lr, searched = searched_lr(self.lr)
        rest = {"widths": self.widths, "repeats": self.repeats, "residual": self.residual}
        data = merge_space_data(
            self.segments, self.orders, self.activations, {**rest, "preset": self.preset}
        )
        return SearchSpace.from_dict({**data, **searched}), base_lr


def searched_lr(lr: Any, where: str = "--lr") -> tuple[float, dict]:
    """``--lr`` of a search: one number (the training's, not searched), or a list of choices
    (``0.05,0.2``) or a log-uniform range (``LOW:HIGH``) for the space. Returns the training's
    learning rate and the space's ``lr`` entry (empty when not searched)."""
    if isinstance(lr, (int, float)) and not isinstance(lr, bool):
        return float(lr), {}
    text = (lr if isinstance(lr, str) else ",".join(str(v) for v in lr)).strip()
    if "," in text or ":" in text:
        return TrainConfig.lr, {"lr": text}
    try:
        return float(text), {}
    except ValueError:
        raise SpecError(
            f"{where} {lr!r}: give a number, a list (0.05,0.2) or a range LOW:HIGH"
        ) from None

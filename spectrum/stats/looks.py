"""A study's error budget for its reports: :class:`Plan` (the :class:`~.inference.Design` plus the
planned looks) and :func:`plan_of`, which reads it from the study's user attributes "margin",
"seed_schedule" and "data" (the accuracy resolution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import SpecError
from ..records import DEFAULT_MARGIN_PP, SeedSchedule
from .inference import ALPHA, MAX_MARGIN, Design


@dataclass(frozen=True)
class Plan:
    """A report's error budget as the study sets it: :class:`Design` plus the planned looks.

    ``schedule`` holds the seed counts n_1 < n_2 < ... of the planned looks (empty: one look at
    whatever n the study has). ``margin_pp`` is the equivalence margin in accuracy points and
    ``design.margin`` the same margin as an accuracy fraction. ``pending`` holds the seeds of
    grid points still to finish (queued, running, or interrupted and not yet re-run): a look is
    complete once no seed below it is pending, whatever trials were lost. None when the caller
    does not know (no study): then a look counts only once every comparison still undecided has
    all its pairs, which a lost trial never lets happen.
    """

    design: Design
    margin_pp: float
    margin_source: str  # "default" | "study" | "--margin"
    schedule: tuple[int, ...] = ()
    pending: frozenset[int] | None = None

    def looks_at(self, top: int) -> list[int | None]:
        """Seed counts of the looks replayed when the family's seeds run below ``top``.

        [None] without a schedule: one look at all seeds. With a schedule only planned looks
        count, and only complete ones (no pending seed below them, when that is known): seeds
        beyond the last complete look wait for it, and before the first there is no look.
        """
        if not self.schedule:
            return [None]
        looks = [k for k in self.schedule if k <= top]
        if self.pending is not None:
            looks = [k for k in looks if not any(s < k for s in self.pending)]
        return looks


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def accuracy_resolution(user_attrs: Mapping) -> float:
    """1 / test-set size from the study attribute "data" (its "sizes"), 0 when not recorded."""
    data = user_attrs.get("data")
    sizes = data.get("sizes") if isinstance(data, Mapping) else None
    test = sizes.get("test") if isinstance(sizes, Mapping) else None
    return 1.0 / test if _positive(test) else 0.0


def plan_of(
    user_attrs: Mapping, margin_pp: float | None = None, pending: frozenset[int] | None = None
) -> Plan:
    """The :class:`Plan` of a study from its user attributes; ``margin_pp`` overrides "margin".

    "margin" (accuracy points, > 0) sets the equivalence margin, :data:`DEFAULT_MARGIN_PP`
    otherwise. "seed_schedule" = {"start": n0, "step": s, "max": m} plans looks at n0, n0 + s,
    ..., m, and the level is split evenly over them. "data" gives the accuracy resolution
    (:func:`accuracy_resolution`). ``pending``: the study's seeds still to finish
    (:func:`.frames.pending_seeds`). Raises :class:`~spectrum.errors.SpecError` on a bad margin
    or schedule.
    """
    source = "--margin"
    if margin_pp is None:
        attr = user_attrs.get("margin")
        if attr is None:
            margin_pp, source = DEFAULT_MARGIN_PP, "default"
        elif not _positive(attr) or not math.isfinite(attr):
            raise SpecError(f"study attribute 'margin' must be a number > 0 (pp), got {attr!r}")
        else:
            margin_pp, source = float(attr), "study"
    if not (_positive(margin_pp) and math.isfinite(margin_pp)):
        raise SpecError(f"the equivalence margin must be > 0 accuracy points, got {margin_pp!r}")
    raw = user_attrs.get("seed_schedule")
    schedule = () if raw is None else SeedSchedule.from_attr(raw).looks
    if margin_pp >= MAX_MARGIN * 100:
        raise SpecError(
            f"the equivalence margin must be < {MAX_MARGIN * 100:g} pp, got {margin_pp!r}"
        )
    resolution = accuracy_resolution(user_attrs)
    design = Design(ALPHA, float(margin_pp) / 100.0, max(len(schedule), 1), resolution)
    return Plan(design, float(margin_pp), source, schedule, pending)

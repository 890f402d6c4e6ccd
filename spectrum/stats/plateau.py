"""The shape of accuracy over g: from which g on it is flat (equivalent to g = C), and the rise.

A slope over all g describes a curve that rises and then stays flat poorly. This module states
the shape as two claims a reader can trust:

- the plateau: the smallest g from which every larger g is equivalent to g = C within the
  margin, by step-down equivalence (fixed-sequence testing): the largest integer g is tested
  first (TOST against C at alpha / looks), the next smaller g only if every larger one passed,
  and the plateau starts at the smallest g reached. Each step is tested at the full per-look
  level and the family-wise rate of a false "equivalent" stays at alpha (a fixed-sequence
  procedure is closed testing); over the planned looks a g once reached stays reached
  (Bonferroni over looks, as in :func:`.inference.decide`). Its own family, like the trends.
- the rise: the g below the plateau decided worse than C by the verdict's own family.

Simulated in ``tools/simulate_inference.py`` (false plateau rate with a g exactly at the margin;
the chance to find a true plateau).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import fmt
from ..labels import level_name, segment_key
from .difference import Test
from .inference import Design, tost_p
from .looks import Plan


@dataclass(frozen=True)
class Plateau:
    """Step-down equivalence of one group's g with g = C, largest g first."""

    order: tuple[str, ...]  # integer g tested, largest first
    reached: int  # how many of ``order`` are equivalent to C (a prefix)
    p_values: tuple[float, ...]  # TOST p of each g at the last look (unadjusted)
    level: float  # per-look level each step is tested at
    margin: float
    n_seeds: int  # pairs of the largest g at the last look

    @property
    def start(self) -> str | None:
        """The smallest g from which every larger g (and C) is equivalent to C, or None."""
        return self.order[self.reached - 1] if self.reached else None


def step_down(diffs_by_look: Sequence[Sequence[np.ndarray]], design: Design) -> int:
    """How many leading comparisons (in the given order) are declared equivalent.

    At each look the comparisons are tested in order by TOST at ``alpha / looks`` and the walk
    stops at the first that fails; the count reached at any look stands.
    """
    level = design.alpha_per_look
    best = 0
    for diffs in diffs_by_look:
        reached = 0
        for d in diffs:
            p = tost_p(d, design.margin, design.resolution)
            if not (math.isfinite(p) and p <= level):
                break
            reached += 1
        best = max(best, reached)
    return best


def plateau_of(comparisons: Sequence[Test], plan: Plan) -> Plateau | None:
    """The plateau of one group from its settled comparisons with g = C (None without two g).

    ``comparisons`` are :class:`.verdict.Comparison` s of integer g against C, settled by
    :func:`.stats.settle` (their differences are those of the family's last complete look,
    with their seeds); the looks replayed are the plan's up to that look.
    """
    against_c = sorted(
        (c for c in comparisons if str(c.segments).isdigit() and c.difference.diffs),
        key=lambda c: segment_key(c.segments),
        reverse=True,
    )
    if not against_c or any(c.decision is None for c in against_c):
        return None
    last = against_c[0].look
    looks = [k for k in plan.schedule if last is not None and k <= last] or [None]
    by_look = []
    for look in looks:
        row = []
        for c in against_c:
            d = np.asarray(c.difference.diffs, dtype=float)
            seeds = np.asarray(c.difference.seeds, dtype=float)
            row.append(d if look is None or seeds.size != d.size else d[seeds < look])
        by_look.append(row)
    design = plan.design
    return Plateau(
        order=tuple(str(c.segments) for c in against_c),
        reached=step_down(by_look, design),
        p_values=tuple(tost_p(d, design.margin, design.resolution) for d in by_look[-1]),
        level=design.alpha_per_look,
        margin=design.margin,
        n_seeds=against_c[0].n_pairs,
    )


def shape_sentence(plateau: Plateau | None, comparisons: Sequence[Test]) -> str | None:
    """``Shape of test accuracy over g: flat from g = 16 to C (...); below it, g = 1 is worse
    than C (...)``, or None without a plateau test. ``comparisons``: the group's settled
    comparisons with C (the rise is the g below the plateau decided worse)."""
    if plateau is None:
        return None
    margin = "±" + fmt.pp(plateau.margin).lstrip("+")
    start = plateau.start
    if start is None:
        first, p = plateau.order[0], plateau.p_values[0]
        head = (
            f"no plateau shown yet ({level_name('segments', first)} is not yet equivalent to C "
            f"within {margin}: {fmt.p_phrase(p, 'TOST p')} at {plateau.n_seeds} seeds, "
            f"level {plateau.level:.3g})"
        )
    else:
        head = (
            f"flat from {level_name('segments', start)} to C (every g >= {start} is equivalent "
            f"to C within {margin}: step-down TOST, each step at level {plateau.level:.3g}, "
            f"{plateau.n_seeds} seeds)"
        )
    below = [
        c
        for c in sorted(comparisons, key=lambda c: segment_key(c.segments))
        if str(c.segments).isdigit()
        and (start is None or segment_key(c.segments) < segment_key(start))
    ]
    worse = [c for c in below if c.verdict == "worse"]
    open_ = [c.segments for c in below if c.verdict == "undecided"]
    parts = [
        f"{level_name('segments', c.segments)} is worse than C ({fmt.pp(c.mean_diff)} "
        f"{fmt.ci_pp(c.ci_low, c.ci_high).removesuffix(' pp')})"
        for c in worse
    ]
    if open_ and (worse or start is not None):
        names = fmt.listing([level_name("segments", g) for g in open_])
        parts.append(f"{names} not yet placed")
    where = "below it, " if start is not None else "it rises: " if worse else ""
    tail = f"; {where}{'; '.join(parts)}" if parts else ""
    return f"Shape of test accuracy over g: {head}{tail}"

"""Trends over g as one contrast: the slope over log2 g, per seed, with its t interval.

With at least three g in a group, testing every pair spreads the level over many comparisons;
one contrast pools every g instead. For each seed present at every g, the least-squares slope of
the value on log2 g (``C`` where the report's g axis places it, one step right of the largest
integer g: :func:`..labels.segment_positions`) is computed; the slopes' Student-t interval and
paired t-test are the trend's (:func:`.inference.per_seed_slopes`). Used for test accuracy per
group (:mod:`.verdict`) and for the activation effect x g interaction (the slope of the per-seed
level-minus-none difference, :mod:`.factors`). A slope has no natural equivalence margin, so
trends are decided for superiority only: better (rises with g), worse (falls), or undecided with
the minimum detectable slope at the current n.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .. import fmt
from ..labels import level_name, segment_key, segment_positions
from .difference import Difference, Test, settle
from .inference import per_seed_slopes, slope_seeds
from .looks import Plan

MIN_SEGMENTS = 3


@dataclass(frozen=True, kw_only=True)
class Trend(Test):
    """Slope over log2 g of ``what`` (accuracy per doubling of g) in one ``context``."""

    what: str  # "test accuracy", or "intermediate ReLU minus no intermediate activation"
    context: str
    segments: tuple[str, ...]

    @property
    def n_seeds(self) -> int:
        return self.difference.n_pairs

    @property
    def direction(self) -> str:
        return {"better": "rises", "worse": "falls"}.get(self.verdict, "no trend detected")

    def numbers(self) -> str:
        """``+0.40 pp per doubling of g (95% CI [..] pp, Holm p = .., 5 seeds over g = 1, 4, C)``."""
        gs = ", ".join(self.segments)
        if self.n_seeds < 2:
            return (
                f"{fmt.pp(self.mean_diff)} per doubling of g (fewer than 2 seeds have every g "
                f"of {gs}: untested)"
            )
        return (
            f"{fmt.pp(self.mean_diff)} per doubling of g (95% CI "
            f"{fmt.ci_pp(self.ci_low, self.ci_high)}, {fmt.p_phrase(self.p_holm, 'Holm p')}, "
            f"{self.pairs_text(' seeds')} with every g of {gs})"
        )

    def sentence(self) -> str:
        where = f" ({self.context})" if self.context else ""
        if self.verdict in ("better", "worse"):
            return f"{fmt.capitalized(self.what)}{where} {self.direction} with g: {self.numbers()}."
        tail = "; " + self.mde_note(" per doubling", "detect the observed slope")
        return f"{fmt.capitalized(self.what)}{where}: no trend detected, {self.numbers()}{tail}."


def slope_trend(what: str, context: str, samples: Mapping[str, Mapping]) -> Trend | None:
    """The trend of ``samples`` ({g: {seed: value}}) over log2 g; None below 3 placed g."""
    positions = segment_positions(samples)
    gs = sorted((g for g in samples if g in positions), key=segment_key)
    if len(gs) < MIN_SEGMENTS:
        return None
    by_x = {positions[g]: samples[g] for g in gs}
    slopes = per_seed_slopes(by_x)
    difference = Difference.of_diffs("slope", slopes, tuple(slope_seeds(by_x)), n_a=len(gs))
    names = tuple(level_name("segments", g).removeprefix("g = ") for g in gs)
    return Trend(what=what, context=context, segments=names, difference=difference)


def settle_trends(trends: Sequence[Trend], plan: Plan) -> list[Trend]:
    """Decide a family of trends: Holm over it, superiority only (no equivalence margin)."""
    superiority = replace(plan, design=replace(plan.design, margin=0.0))
    return settle(trends, superiority)

"""One comparison of the verdict: the test accuracy of one g minus that of a reference g (C or 1)
within one group, as a :class:`Comparison` (a :class:`.difference.Test` that knows its group and
its g), and how a group's comparisons against one reference read (:func:`against`: which g are
equivalent, better, worse or undecided, with the MDE and the seeds that would decide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import fmt
from ..labels import level_name
from .difference import Test


@dataclass(frozen=True, kw_only=True)
class Comparison(Test):
    """Test accuracy of g minus that of ``reference`` within one group."""

    order: str
    activation: str
    residual: bool | None
    match: str
    segments: str
    reference: str

    @property
    def favours(self) -> str | None:
        """The g that is decided better, or None."""
        return {"better": self.segments, "worse": self.reference}.get(self.verdict)

    def short(self) -> str:
        """``-0.80 pp [-1.10, -0.50]``: the difference and its 95% CI."""
        if not (math.isfinite(self.ci_low) and math.isfinite(self.ci_high)):
            return fmt.pp(self.mean_diff)
        return (
            f"{fmt.pp(self.mean_diff)} {fmt.ci_pp(self.ci_low, self.ci_high).removesuffix(' pp')}"
        )

    def sentence(self) -> str:
        verdict = self.outcome()
        head = (
            f"{level_name('segments', self.segments)} vs "
            f"{level_name('segments', self.reference)}: {fmt.pp(self.mean_diff)}"
        )
        test = {"none": None, "paired-t": f"paired t-test over {self.pairs_text(' seeds')}"}.get(
            self.method, "Welch t-test, unpaired"
        )
        return (
            fmt.evidence(
                head,
                self.ci_low,
                self.ci_high,
                self.p_holm,
                test,
                "too few seeds for a CI or a test",
            )
            + f" -> {verdict}"
        )


def names(gs) -> str:
    return fmt.listing([level_name("segments", g) for g in gs])


def against(comps: list[Comparison], reference: str) -> str | None:
    """``g = 8 and g = 16 are equivalent to C within ±0.50 pp; g = 1 is worse (...)``."""
    mine = [c for c in comps if c.reference == reference]
    if not mine:
        return None
    ref = level_name("segments", reference).removeprefix("g = ")
    parts = []
    equivalent = [c for c in mine if c.verdict == "equivalent"]
    if equivalent:
        verb = "are" if len(equivalent) > 1 else "is"
        parts.append(
            f"{names([c.segments for c in equivalent])} {verb} equivalent to {ref} within "
            f"{equivalent[0].margin_text()}"
        )
    for word in ("better", "worse"):
        for c in mine:
            if c.verdict == word:
                small = f", within {c.margin_text()}" if c.within_margin else ""
                parts.append(
                    f"{level_name('segments', c.segments)} is {word} than {ref} "
                    f"({c.short()}{small})"
                )
    undecided = [c for c in mine if c.verdict == "undecided"]
    if undecided:
        verb = "are" if len(undecided) > 1 else "is"
        mdes = [c.mde for c in undecided if math.isfinite(c.mde)]
        needed = [c.seeds_needed for c in undecided]
        n = max(c.n_pairs for c in undecided)
        note = ""
        if mdes:
            low, high = fmt.pp(min(mdes)).lstrip("+"), fmt.pp(max(mdes)).lstrip("+")
            span = low if low == high else f"{low} to {high}"
            note = f" (MDE {span} at {n} seeds; "
            if any(k is None for k in needed):
                note += "some would need more than 1000 seeds)"
            else:
                note += (
                    f"{'up to ' if len(set(needed)) > 1 else ''}{max(needed)} seeds would "
                    f"decide {'them' if len(undecided) > 1 else 'it'} at the observed variance)"
                )
        parts.append(f"{names([c.segments for c in undecided])} vs {ref} {verb} undecided{note}")
    return "; ".join(parts)

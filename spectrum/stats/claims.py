"""The paper's claims about the factors, and what a sweep's factor tests say about each.

Owns the factors put to the test (:data:`FACTORS`), each one's reference level (:data:`REFERENCES`,
the paper's choice: no intermediate activation, residual on, depthwise-first), the claim the
report quotes (:data:`CLAIMS`), and :class:`FactorVerdict`: a status against the claim
(:data:`STATUSES`) and the sentence that explains it. "The reference is better" claims
(activation, residual) are settled by tests decided better or worse; "op order is unimportant" is
settled by equivalence within the study's margin (TOST, Holm over the family), since an
undecided test is no proof of equality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import fmt
from ..labels import FACTOR_NAMES, level_key, level_name
from .factor_tests import FactorTest
from .inference import ALPHA

FACTORS = ("activation", "residual", "order")
REFERENCES = {"activation": "none", "residual": True, "order": "depthwise-first"}
# The paper's claim about each factor, as the report quotes it.
CLAIMS = {
    "activation": (
        "Figure 10: no intermediate activation is best, ahead of an intermediate "
        "ReLU or ELU between the depthwise and pointwise operations"
    ),
    "residual": (
        "Figure 9: residual connections help; they are essential for convergence "
        "speed and final accuracy"
    ),
    "order": (
        "op order is unimportant: depthwise-first, as in SeparableConv2D, or "
        "pointwise-first, as in Inception, makes little difference in stacked blocks"
    ),
}
STATUSES = (
    "agrees",
    "agrees in part",
    "contradicts",
    "mixed",
    "equivalent",
    "undecided",
    "not tested",
)


@dataclass(frozen=True)
class FactorVerdict:
    """What the sweep says about one varied factor, against the paper's claim."""

    factor: str
    reference: object
    levels: tuple
    claim: str
    status: str  # one of STATUSES
    comparisons: tuple[FactorTest, ...]
    gaps: tuple[str, ...]  # contexts where a level or the reference is missing
    sentence: str


def _where(tests: list[FactorTest]) -> str:
    return fmt.listing([t.context for t in tests])


def _detail(tests: list[FactorTest], factor: str, reference) -> str:
    """Per non-reference level: how it fared against the reference in each context."""
    parts = []
    levels = sorted({t.level for t in tests}, key=lambda v: level_key(factor, v))
    for level in levels:
        mine = [t for t in tests if t.level == level]
        items = []
        for t in mine:
            if t.verdict == "equivalent":
                verb = f"equivalent within {t.margin_text()}"
            elif t.verdict == "undecided":
                verb = "undecided"
            else:
                verb = t.verdict + (f" (within {t.margin_text()})" if t.within_margin else "")
            tail = f"; {t.mde_note()}" if t.verdict == "undecided" and t.decision else ""
            items.append(f"{verb} at {t.context}, {t.numbers()}{tail}")
        parts.append(
            f"{level_name(factor, level)} vs {level_name(factor, reference)}: " + "; ".join(items)
        )
    return "; ".join(parts)


def _directional(factor: str, reference, tests: list[FactorTest]) -> tuple[str, str]:
    """Status and conclusion for a claim that the reference level is better."""
    ref_name = level_name(factor, reference)
    for_ref = [t for t in tests if t.favours == reference]
    against = [t for t in tests if t.conclusive and t.favours != reference]
    if for_ref and against:
        return "mixed", (
            f"mixed: {ref_name} is better at {_where(for_ref)} but "
            f"worse at {_where(against)}, so the paper's claim holds only in part of this sweep"
        )
    if against:
        return "contradicts", (
            f"this contradicts the paper: {ref_name} is worse at {_where(against)}"
        )
    if for_ref and len(for_ref) == len(tests):
        return "agrees", (f"this agrees with the paper: {ref_name} is better in every comparison")
    equivalent = [t for t in tests if t.verdict == "equivalent"]
    undecided = [t for t in tests if t.verdict == "undecided"]
    rest = "; ".join(
        f"{len(ts)} comparison{'s are' if len(ts) != 1 else ' is'} {word}"
        for ts, word in (
            (equivalent, f"equivalent within {tests[0].margin_text()}"),
            (undecided, "undecided"),
        )
        if ts
    )
    if for_ref:
        return "agrees in part", (
            f"this agrees in part with the paper: {ref_name} is better at "
            f"{fmt.listing([f'{t.context} (vs {level_name(factor, t.level)})' for t in for_ref])}, "
            f"while {rest}"
        )
    if equivalent and not undecided:
        return "equivalent", (
            f"every level is equivalent to {ref_name} within {tests[0].margin_text()}, so at "
            f"this scale the data do not support the paper's claim that {ref_name} is better"
        )
    if equivalent:
        return "undecided", (
            f"undecided: no comparison is decided better or worse ({rest}), so the data neither "
            f"support nor contradict the paper's claim (more seeds would be needed)"
        )
    return "undecided", (
        "undecided: no comparison is decided, so the data neither support nor contradict "
        "the paper's claim (more seeds or a larger budget would be needed)"
    )


def _order_conclusion(tests: list[FactorTest]) -> tuple[str, str]:
    """Status and conclusion for "op order is unimportant": equivalence within the margin."""
    margin = tests[0].margin_text()
    different = [t for t in tests if t.conclusive and not t.within_margin]
    if different:
        return "contradicts", (
            "this contradicts the paper: op order matters here ("
            + "; ".join(f"{t.result} at {t.context}" for t in different)
            + f": a decided difference, not shown to lie within {margin})"
        )
    equivalent = [t for t in tests if t.verdict == "equivalent" or t.within_margin]
    if len(equivalent) == len(tests):
        return "agrees", (
            f"this agrees with the paper: op order is equivalent within {margin} in every "
            f"comparison (TOST, Holm-adjusted)"
        )
    open_ = [t for t in tests if t not in equivalent]
    return "undecided", (
        f"undecided: op order is not shown equivalent within {margin} at "
        f"{_where(open_)} (undecided is not proof of equality; "
        + "; ".join(f"{t.context}: {t.mde_note()}" for t in open_)
        + ")"
    )


def factor_verdict(
    factor: str,
    levels: list,
    tests: list[FactorTest],
    gaps: list[str],
    level: float = ALPHA,
    interacts: bool = False,
) -> FactorVerdict:
    """The claim's verdict from its comparisons; ``level`` is what a Holm p must be below (alpha
    split over a sequential study's looks)."""
    reference = REFERENCES[factor]
    claim = CLAIMS[factor]
    head = f"{fmt.capitalized(FACTOR_NAMES[factor])} (the paper, {claim})"
    if not tests:
        status = "not tested"
        if reference not in levels:
            tail = (
                f"not tested: the paper's choice, {level_name(factor, reference)}, was not "
                f"trained, so the other levels have nothing to be compared with"
            )
        else:
            tail = (
                f"not tested: no context has both {level_name(factor, reference)} and another "
                f"level with the other coordinates equal"
            )
        return FactorVerdict(
            factor, reference, tuple(levels), claim, status, (), tuple(gaps), f"{head}: {tail}."
        )
    if factor == "order":
        status, conclusion = _order_conclusion(tests)
    else:
        status, conclusion = _directional(factor, reference, tests)
    sentence = f"{head}: {_detail(tests, factor, reference)}. Overall, {conclusion}."
    near = [
        t
        for t in tests
        if not t.conclusive
        and math.isfinite(t.ci_low)
        and math.isfinite(t.ci_high)
        and (t.ci_low > 0 or t.ci_high < 0)
    ]
    if near:
        sentence += (
            " The 95% CI of "
            + fmt.listing([f"{level_name(factor, t.level)} at {t.context}" for t in near])
            + f" excludes zero, but the test does not reach Holm p < {level:g}, so "
            + ("it is" if len(near) == 1 else "they are")
            + " not decided (more seeds would be needed to tell)."
        )
    if interacts:
        sentence += " How the difference changes with g is tested below (interaction with depth)."
    if factor == "residual":
        sentence += (
            " Only final accuracy is tested here, not convergence speed (see the training curves)."
        )
    return FactorVerdict(
        factor, reference, tuple(levels), claim, status, tuple(tests), tuple(gaps), sentence
    )

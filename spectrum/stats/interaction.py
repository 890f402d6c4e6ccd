"""The activation x depth interaction: does an intermediate activation's effect change with g?

The paper explains Figure 10 by the depth of the segments (C/g channels per spatial
convolution): a non-linearity should help deep segments (small g) and hurt 1-channel ones
(g = C). When an activation sweep varies g over g = C and at least one integer g, this module
tests it per context: the per-seed difference (level minus none) at each integer g minus the
same difference at g = C, with a paired Student-t CI and paired t-test when at least two seeds
have all four runs; otherwise it cannot be tested and only the point estimate is given. With at
least three g, the interaction is also tested as one contrast: the slope over log2 g of the
per-seed difference (:mod:`.trends`, Holm over the report's slopes, superiority only). Owns
:class:`Interaction`, the contrasts (:class:`.factor_tests.FactorTest` s with ``vs_segments``
``"C"``, Holm-adjusted with the factor tests by :mod:`.factors`) and their sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import fmt
from ..labels import level_key, level_name, segment_key
from .claims import REFERENCES
from .factor_tests import FactorTest, context_label, factor_test
from .pairing import paired_differences
from .trends import Trend, slope_trend


@dataclass(frozen=True)
class Interaction:
    """How the level-minus-reference difference of ``factor`` changes with g (one context)."""

    factor: str
    level: object
    reference: object
    context: str
    differences: tuple[FactorTest, ...]  # level comparisons, one per g, g = C last
    contrasts: tuple[FactorTest, ...]  # each integer g against g = C
    testable: bool
    status: str  # as predicted | against the prediction | mixed | undecided | cannot be tested
    sentence: str
    slope: Trend | None = None  # the difference's slope over log2 g (>= 3 g)


def _gs(tests: list[FactorTest]) -> str:
    return fmt.listing([level_name("segments", t.segments) for t in tests])


def _interaction(
    level,
    context_label: str,
    differences: list[FactorTest],
    contrasts: list[FactorTest],
    slope: Trend | None = None,
) -> Interaction:
    factor, reference = "activation", REFERENCES["activation"]
    name, ref = level_name(factor, level), level_name(factor, reference)
    testable = any(c.method == "paired-t" for c in contrasts)
    by_g = fmt.listing(
        [
            f"{fmt.pp(d.mean_diff)} at {level_name('segments', d.segments)} (95% CI "
            f"{fmt.ci_pp(d.ci_low, d.ci_high)})"
            for d in differences
        ]
    )
    where = f" ({context_label})" if context_label else ""
    head = (
        f"{fmt.capitalized(name)} and depth{where}: the paper explains Figure 10 by the depth of "
        f"the segments (C/g channels per spatial convolution), so a non-linearity should "
        f"help deep segments (small g) and hurt 1-channel ones (g = C). {fmt.capitalized(name)} "
        f"minus {ref} in test accuracy is {by_g}."
    )
    small = [d for d in differences if d.segments != "C"]
    at_c = [d for d in differences if d.segments == "C"]
    helps = [d for d in small if d.favours == level]
    hurts = [d for d in at_c if d.favours == reference]
    if not testable:
        status = "cannot be tested"
        body = (
            "Whether the difference is larger at small g than at g = C cannot be tested: "
            "fewer than two seeds have all four runs, so the differences do not pair by "
            "seed (point estimates of the difference minus that at g = C: "
            + fmt.listing(
                [
                    f"{fmt.pp(c.mean_diff)} at {level_name('segments', c.segments)}"
                    for c in contrasts
                ]
            )
            + ")."
        )
    else:
        larger = [c for c in contrasts if c.favours == c.segments]
        smaller = [c for c in contrasts if c.conclusive and c.favours != c.segments]
        per = "; ".join(f"{level_name('segments', c.segments)}: {c.numbers()}" for c in contrasts)
        if larger and smaller:
            status, word = "mixed", "mixed: larger at some small g, smaller at others"
        elif larger:
            status, word = (
                "as predicted",
                (
                    f"conclusively larger at {_gs(larger)} than at g = C, as the paper's "
                    f"explanation predicts"
                ),
            )
        elif smaller:
            status, word = (
                "against the prediction",
                (
                    f"conclusively smaller at {_gs(smaller)} than at g = C, against the paper's "
                    f"explanation"
                ),
            )
        else:
            status, word = (
                "undecided",
                ("not decided larger at any small g than at g = C: undecided"),
            )
        body = (
            f"The difference at each g minus the difference at g = C (paired by seed) is "
            f"{per}; so it is {word}."
        )
    if helps and hurts:
        body += (
            f" The full prediction shows: {name} conclusively helps at "
            f"{fmt.listing([d.context for d in helps])} and conclusively hurts at g = C."
        )
    if slope is not None:
        if slope.verdict == "worse":
            body += (
                f" As one contrast, the difference falls with g, as the explanation predicts: "
                f"{slope.numbers()}."
            )
        elif slope.verdict == "better":
            body += (
                f" As one contrast, the difference rises with g, against the explanation: "
                f"{slope.numbers()}."
            )
        else:
            body += (
                f" As one contrast, the slope of the difference over log2 g: no trend detected, "
                f"{slope.numbers()}; {slope.mde_note(' per doubling', 'detect the observed slope')}."
            )
    return Interaction(
        factor,
        level,
        reference,
        context_label,
        tuple(differences),
        tuple(contrasts),
        testable,
        status,
        f"{head} {body}",
        slope,
    )


def applies(varied: tuple[str, ...], levels: dict) -> bool:
    """Whether the sweep varied the activation over g = C and at least one integer g."""
    return (
        "activation" in varied
        and "C" in levels["segments"]
        and any(str(s).isdigit() for s in levels["segments"])
    )


def contrasts(
    activation_contexts: list[tuple[dict, dict]], shown: tuple[str, ...]
) -> list[tuple[tuple, FactorTest]]:
    """(group, contrast) per context without g and level: the difference at g minus at g = C.

    ``activation_contexts`` are :func:`.factor_tests.contexts` of the activation; ``group``
    keys the context without g and the level (one :class:`Interaction` each).
    """
    out: list[tuple[tuple, FactorTest]] = []
    reference = REFERENCES["activation"]
    for context, samples in activation_contexts:
        if context["segments"] == "C" or reference not in samples:
            continue
        rest = {k: v for k, v in context.items() if k != "segments"}
        twin = [s for c, s in activation_contexts if c == {**rest, "segments": "C"}]
        if not twin or reference not in twin[0]:
            continue
        at_c = twin[0]
        for level in sorted(samples, key=lambda v: level_key("activation", v)):
            if level == reference or level not in at_c:
                continue
            label = context_label(context, tuple(f for f in shown if f != "activation"))
            d_g = paired_differences(samples[level], samples[reference])
            d_c = paired_differences(at_c[level], at_c[reference])
            t = factor_test(
                "activation",
                level,
                reference,
                context,
                label,
                d_g,
                d_c,
                vs_segments="C",
                force_none=True,
            )
            if t.method == "none":
                # No pairing: the point estimate from the four means.
                point = (
                    np.mean(list(samples[level].values()))
                    - np.mean(list(samples[reference].values()))
                ) - (np.mean(list(at_c[level].values())) - np.mean(list(at_c[reference].values())))
                t = replace(t, difference=replace(t.difference, mean_diff=float(point)))
            out.append((_group(rest, level), t))
    return out


def _group(rest: dict, level) -> tuple:
    return tuple(level_key(f, rest[f]) for f in sorted(rest)) + (level_key("activation", level),)


def slopes(
    activation_contexts: list[tuple[dict, dict]], shown: tuple[str, ...]
) -> list[tuple[tuple, Trend]]:
    """(group, trend) per context without g and level: the per-seed difference over log2 g."""
    reference = REFERENCES["activation"]
    per: dict[tuple, tuple[str, dict]] = {}
    for context, samples in activation_contexts:
        if reference not in samples:
            continue
        rest = {k: v for k, v in context.items() if k != "segments"}
        for level in samples:
            if level == reference:
                continue
            d = paired_differences(samples[level], samples[reference])
            if not d:
                continue
            what = f"{level_name('activation', level)} minus {level_name('activation', reference)}"
            label = ", ".join(
                level_name(f, rest[f]) for f in ("order", "residual", "match") if f in shown
            )
            entry = per.setdefault(_group(rest, level), (what, label, {}))
            entry[2][str(context["segments"])] = d
    out = []
    for group, (what, label, by_g) in per.items():
        trend = slope_trend(what, label, by_g)
        if trend is not None:
            out.append((group, trend))
    return out


def interactions(
    groups: list[tuple],
    contrast_tests: list[FactorTest],
    comparisons: list[FactorTest],
    shown: tuple[str, ...],
    slope_of: dict | None = None,
) -> list[Interaction]:
    """One :class:`Interaction` per group, from the settled contrasts and level comparisons."""
    out = []
    keys = []
    for group in groups:
        if group not in keys:
            keys.append(group)
    for group in keys:
        mine = [t for g, t in zip(groups, contrast_tests) if g == group]
        first = mine[0]
        same = dict(order=first.order, residual=first.residual, match=first.match)
        differences = sorted(
            [
                t
                for t in comparisons
                if t.factor == "activation"
                and t.level == first.level
                and dict(order=t.order, residual=t.residual, match=t.match) == same
            ],
            key=lambda t: segment_key(t.segments),
        )
        rest_label = ", ".join(
            level_name(f, same[f]) for f in ("order", "residual", "match") if f in shown
        )
        out.append(
            _interaction(first.level, rest_label, differences, mine, (slope_of or {}).get(group))
        )
    return out

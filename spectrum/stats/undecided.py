"""Which configurations a sequential sweep gives more seeds: those in an undecided comparison.

A sequential sweep (``--until-decided``) looks at its results after every round of seeds. The
comparisons it must decide are exactly the report's: the verdict's (every g against g = C and
g = 1, :func:`.verdict.build_verdict`) and the factor tests with their interaction contrasts
(:func:`.factors.build_factors`), each Holm family decided over the study's planned looks. A
configuration takes part in the next round when any comparison it enters is still undecided;
one whose comparisons are all decided keeps its seeds (a decision once made stands). Trends
(slopes over log2 g) pool the seeds every configuration already has and do not ask for more.

The sweep and the report run the same code on the same trials, so the report replays the looks
the sweep made and reaches the same decisions.
"""

from __future__ import annotations

import pandas as pd

from .factors import build_factors
from .looks import Plan
from .summary import summarize
from .verdict import build_verdict

# A configuration as the sweep names it: (segments label, order, activation, residual).
Configuration = tuple[str, str, str, bool]


def _configuration(segments, order, activation, residual) -> Configuration:
    return (str(segments), str(order), str(activation), bool(residual))


def undecided_configurations(
    usable: pd.DataFrame, plan: Plan, match: str = "none"
) -> set[Configuration]:
    """Configurations that enter at least one undecided comparison of the report's families."""
    if usable.empty:
        return set()
    out: set[Configuration] = set()
    verdict = build_verdict(usable, summarize(usable), match=match, plan=plan)
    for c in verdict.comparisons:
        if c.verdict == "undecided":
            for g in (c.segments, c.reference):
                out.add(_configuration(g, c.order, c.activation, c.residual))
    for t in build_factors(usable, plan=plan).tests:
        if t.verdict != "undecided":
            continue
        at = {"order": t.order, "activation": t.activation, "residual": t.residual}
        segments = [t.segments] if t.vs_segments is None else [t.segments, t.vs_segments]
        for level in (t.level, t.reference):
            for g in segments:  # the factor's own coordinate is the level compared
                out.add(_configuration(**{**at, t.factor: level, "segments": g}))
    return out

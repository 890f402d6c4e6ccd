"""One factor test: a level of a factor against the reference level, other coordinates fixed.

Owns :class:`FactorTest` (a :class:`.stats.Test` with the coordinates it was made at), how the
usable trials split into *contexts* (every combination of the other coordinates: g, the
remaining factors and the budget matching) with one seed-keyed sample per level, and how a
context is named in the report ("g = 4", "g = C, no residual", ...). Trials whose level of the
factor was not recorded take no part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import fmt
from ..labels import level_key, level_name
from .difference import Test, compare
from .pairing import by_seed
from .summary import CONFIG, config_key


@dataclass(frozen=True, kw_only=True)
class FactorTest(Test):
    """One test: ``level`` minus ``reference`` of ``factor`` in test accuracy.

    A level comparison (``vs_segments`` None) holds the other coordinates fixed; the compared
    factor's own coordinate is None. An interaction contrast (``vs_segments`` ``"C"``) compares
    the level-minus-reference difference at g = ``segments`` with that at g = C; its
    ``mean_level`` and ``mean_reference`` are those two differences.
    """

    factor: str
    level: object
    reference: object
    segments: str | None
    vs_segments: str | None
    order: str | None
    activation: str | None
    residual: bool | None
    match: str | None
    context: str  # "g = 4", "g = C, no residual", ...
    mean_level: float
    mean_reference: float

    @property
    def n_level(self) -> int:
        return self.difference.n_a

    @property
    def n_reference(self) -> int:
        return self.difference.n_b

    @property
    def kind(self) -> str:
        return "comparison" if self.vs_segments is None else "interaction"

    @property
    def favours(self):
        """The level decided better (for a contrast: the g with the larger difference)."""
        if not self.conclusive:
            return None
        if self.kind == "interaction":
            return self.segments if self.verdict == "better" else self.vs_segments
        return self.level if self.verdict == "better" else self.reference

    @property
    def result(self) -> str:
        """``worse: favours ...``, ``equivalent within ±0.50 pp``, ``undecided`` (factors.csv)."""
        if self.verdict == "equivalent":
            return f"equivalent within {self.margin_text()}"
        if not self.conclusive:
            return "undecided"
        if self.kind == "interaction":
            return f"{self.verdict}: larger at {level_name('segments', self.favours)}"
        return f"{self.verdict}: favours {level_name(self.factor, self.favours)}"

    def numbers(self) -> str:
        """``-1.36 pp (95% CI [-2.10, -0.60] pp, Holm p = 0.031, paired over 3 seeds)``."""
        test = {"none": None, "paired-t": f"paired over {self.pairs_text(' seeds')}"}.get(
            self.method, "unpaired, Welch"
        )
        untested = (
            "seeds do not pair"
            if self.kind == "interaction"
            else "too few seeds for a CI or a test"
        )
        return fmt.evidence(
            fmt.pp(self.mean_diff), self.ci_low, self.ci_high, self.p_holm, test, untested
        )


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def contexts(usable: pd.DataFrame, factor: str) -> list[tuple[dict, dict]]:
    """(context, {level: {seed: test_acc}}) with the other coordinates fixed, canonical order."""
    others = [f for f in CONFIG if f != factor]
    known = usable[[not _is_missing(v) for v in usable[factor]]]
    out: dict[tuple, tuple[dict, dict]] = {}
    for values, rows in known.groupby(others + [factor], dropna=False, sort=False):
        values = [None if _is_missing(v) else v for v in values]
        context = dict(zip(others, values[:-1]))
        key = tuple(level_key(f, context[f]) for f in others)
        entry = out.setdefault(key, (context, {}))
        entry[1][values[-1]] = by_seed(rows)
    full = lambda c: config_key({**c, factor: None})  # noqa: E731
    return sorted(out.values(), key=lambda item: full(item[0]))


def context_label(context: dict, shown: tuple[str, ...]) -> str:
    """g, then the coordinates of ``shown`` (those the sweep varied) that the context fixes."""
    parts = [level_name("segments", context["segments"])]
    parts += [level_name(f, context[f]) for f in shown if f in context and f != "segments"]
    return ", ".join(parts)


def factor_test(
    factor,
    level,
    reference,
    context: dict,
    label: str,
    a: dict,
    b: dict,
    vs_segments=None,
    force_none: bool = False,
) -> FactorTest:
    """``a`` (the level's sample) against ``b`` (the reference's), not yet Holm-adjusted.

    ``force_none`` keeps only a paired test: an unpaired one is reduced to its difference.
    """
    d = compare(a, b)
    mean_a = float(np.mean(list(a.values()))) if a else math.nan
    mean_b = float(np.mean(list(b.values()))) if b else math.nan
    if force_none and d.method != "paired-t":
        d = replace(d, method="none", ci_low=math.nan, ci_high=math.nan, p_value=math.nan, diffs=())
    coords = {f: context.get(f) for f in ("segments", "order", "activation", "residual", "match")}
    coords[factor] = None
    return FactorTest(
        factor=factor,
        level=level,
        reference=reference,
        **coords,
        vs_segments=vs_segments,
        context=label,
        mean_level=mean_a,
        mean_reference=mean_b,
        difference=d,
    )

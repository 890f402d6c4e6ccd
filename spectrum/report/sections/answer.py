"""The report's first sentence: the answer to the paper's question, with the scope it holds in.

One sentence built from the verdict (:mod:`...stats.verdict`): yes / no / undecided, the
intermediate g decided better than g = C (or how many comparisons are still open), any decided
trend over g, and the scope the answer rests on: the net, the data and budget, the precision,
the seeds and looks, and the equivalence margin. The report puts it above the forest figure. A
sweep that varies no g (residual connections at g = C alone, say) answers its factors instead.
"""

from __future__ import annotations

import pandas as pd

from ... import fmt
from ...labels import FACTOR_NAMES, level_name, sorted_levels
from ...options import MATCH_NAMES
from ...stats.factors import FactorReport
from ...stats.frames import study_fact
from ...stats.verdict import Verdict, is_intermediate
from ..document import Paragraph


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def _net(study, verdict: Verdict) -> str:
    net = study_fact(study, "net")
    grid = study.user_attrs.get("grid") or {}
    preset = (net or {}).get("preset") if isinstance(net, dict) else None
    preset = preset or (grid.get("preset") if isinstance(grid, dict) else None) or "net"
    matched = MATCH_NAMES.get(verdict.match)
    return f"{preset} at matched {matched}" if matched else str(preset)


def _budget(study) -> str:
    train = study_fact(study, "train") or {}
    data = study.user_attrs.get("data") or {}
    images = train.get("train_subset") if isinstance(train, dict) else None
    if not images and isinstance(data, dict):
        images = (data.get("sizes") or {}).get("train")
    epochs = train.get("epochs") if isinstance(train, dict) else None
    parts = [_plural(int(epochs), "epoch") if epochs else "epochs not recorded"]
    if images:
        parts.append(f"on {int(images):,} training images")
    return " ".join(parts)


def _precision(usable: pd.DataFrame) -> str:
    used = sorted(usable["precision"].dropna().unique()) if "precision" in usable else []
    if not used:
        return "float32 (not recorded)"
    return "/".join(str(p) for p in used)


def _seeds(summary: pd.DataFrame, verdict: Verdict) -> str:
    counts = sorted(int(n) for n in summary["n_seeds"]) if not summary.empty else [0]
    low, high = counts[0], counts[-1]
    seeds = _plural(low, "seed") if low == high else f"{low}-{high} seeds"
    looks = (
        f"looks at {'/'.join(map(str, verdict.schedule))} seeds" if verdict.schedule else "one look"
    )
    return f"{seeds} per configuration, {looks}"


def scope_text(study, usable: pd.DataFrame, summary: pd.DataFrame, verdict: Verdict) -> str:
    """``proxy-28, fashion-mnist, 4 epochs on 55,000 training images, bfloat16, 1 seed per
    configuration, one look, margin ±0.50 pp``."""
    return ", ".join(
        (
            _net(study, verdict),
            str(study_fact(study, "dataset") or "dataset not recorded"),
            _budget(study),
            _precision(usable),
            _seeds(summary, verdict),
            f"margin ±{verdict.margin_pp:.2f} pp",
        )
    )


def answer_text(verdict: Verdict) -> str:
    """The answer clause: ``Undecided: no intermediate g is decided better than g = C (5 of 5
    comparisons with it still open); shape of test accuracy over g: flat from g = 16 to C ...;
    accuracy rises with g (+0.17 pp per doubling)``."""
    vs_c = [c for c in verdict.comparisons if c.reference == "C" and is_intermediate(c.segments)]
    open_ = sum(c.verdict == "undecided" for c in vs_c)
    groups = len(verdict.groups)
    if verdict.answer == "yes":
        winners = [g for g in verdict.groups if g.intermediate_better]
        better = list(dict.fromkeys(s for g in winners for s in g.intermediate_better))
        names = fmt.listing([level_name("segments", s) for s in better])
        where = f" in {len(winners)} of {groups} groups" if groups > 1 else ""
        text = f"Yes: {names} {'is' if len(better) == 1 else 'are'} better than g = C{where}"
    elif verdict.answer == "no":
        text = "No: every intermediate g is worse than g = C or equivalent to it within the margin"
    elif verdict.answer == "undecided":
        text = (
            f"Undecided: no intermediate g is decided better than g = C ({open_} of "
            f"{len(vs_c)} comparison{'s' if len(vs_c) != 1 else ''} with it still open)"
        )
    else:
        text = "Not answerable: no group has both g = C and an intermediate g"
    shapes = [g for g in verdict.groups if g.shape]
    if len(shapes) == 1 and groups == 1:  # the curve's shape (rise, plateau), then the slope
        shape = shapes[0].shape
        text += f"; {shape[:1].lower()}{shape[1:]}"
    for direction in ("rises", "falls"):
        slopes = [fmt.pp(t.mean_diff) for t in verdict.trends if t.direction == direction]
        if slopes:
            where = f" in {len(slopes)} of {groups} groups" if groups > 1 else ""
            per = ", ".join(s.removesuffix(" pp") for s in slopes[:-1]) + (
                ", " if len(slopes) > 1 else ""
            )
            text += f"; accuracy {direction} with g ({per}{slopes[-1]} per doubling{where})"
    return text


# How a factor's status against the paper's claim (:data:`...stats.claims.STATUSES`) reads in the
# answer sentence.
STATUS_PHRASES = {
    "agrees": "agrees with the paper",
    "agrees in part": "agrees in part with the paper",
    "contradicts": "contradicts the paper",
    "mixed": "mixed against the paper",
    "equivalent": "every level equivalent to the paper's choice",
}


def factor_answer_text(factors: FactorReport) -> str:
    """For a sweep with no g to compare: each varied factor's status against the paper's claim
    with its level comparisons, ``Residual connections: undecided (no residual vs residual at
    g = C: -1.38 [-3.00, +0.24] pp, undecided)``."""
    clauses = []
    for v in factors.factors:
        tests = [
            f"{level_name(v.factor, t.level)} vs {level_name(v.factor, t.reference)} at "
            f"{t.context}: {fmt.pp(t.mean_diff).removesuffix(' pp')} "
            f"{fmt.ci_pp(t.ci_low, t.ci_high)}, {t.verdict}"
            for t in v.comparisons
            if t.kind == "comparison"
        ]
        detail = f" ({'; '.join(tests)})" if tests else ""
        status = STATUS_PHRASES.get(v.status, v.status)
        clauses.append(f"{fmt.capitalized(FACTOR_NAMES[v.factor])}: {status}{detail}")
    return "; ".join(clauses)


def answer_blocks(
    study,
    usable: pd.DataFrame,
    summary: pd.DataFrame,
    verdict: Verdict,
    factors: FactorReport | None = None,
) -> list:
    """The one-sentence answer with its scope, as the report's first block. A sweep with no g
    to compare answers its factors' questions instead, saying that g was not varied."""
    text = answer_text(verdict)
    if not verdict.comparisons and factors is not None and factors.factors:
        segments = sorted_levels("segments", summary["segments"].astype(str))
        names = fmt.listing([level_name("segments", g) for g in segments])
        trained = f"only {names} {'was' if len(segments) == 1 else 'were'} trained"
        text = f"{factor_answer_text(factors)}; g is not compared here ({trained})"
    return [
        Paragraph(f"{text}; scope: {scope_text(study, usable, summary, verdict)}.", strong=True)
    ]

"""The verdict: Xception's future-directions question answered from one sweep.

"Do intermediate points on the spectrum hold advantages over the depthwise extreme?"

For every group (order, activation, residual, match) this module finds the g with the best mean
test accuracy and compares every other g with g = C and with g = 1 (each unordered pair once;
difference = g minus reference, paired by seed when possible). The Holm correction runs over all
comparisons of the report together. A comparison is conclusive when its 95% bootstrap CI
excludes zero and its Holm-adjusted p < alpha; a group's winner is named only when its best g
beats every g it is compared with conclusively. Also owns the fewer-than-3-seeds warning, the
matched-budget note and the latency-versus-FLOPs disagreements. Results are plain frozen
dataclasses (``Verdict.to_dict()`` gives nested dicts); sentences are ready to print.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import fmt
from .labels import level_name, segment_key
from .stats import compare, holm
from .summary import GROUP, configurations

QUESTION = (
    "Do intermediate points on the spectrum hold advantages over the depthwise extreme (g = C)?"
)
ALPHA = 0.05
MIN_SEEDS = 3
REFERENCES = ("C", "1")


@dataclass(frozen=True)
class Comparison:
    """Test accuracy of g minus that of ``reference`` within one group."""

    order: str
    activation: str
    residual: bool | None
    match: str
    segments: str
    reference: str
    method: str  # paired-t | welch | none
    n_pairs: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    conclusive: bool

    @property
    def favours(self) -> str | None:
        """The g that is conclusively better, or None."""
        if not self.conclusive:
            return None
        return self.segments if self.mean_diff > 0 else self.reference

    def sentence(self) -> str:
        verdict = (
            f"favours {level_name('segments', self.favours)}" if self.conclusive else "inconclusive"
        )
        head = (
            f"{level_name('segments', self.segments)} vs "
            f"{level_name('segments', self.reference)}: {fmt.pp(self.mean_diff)}"
        )
        test = {"none": None, "paired-t": f"paired t-test over {self.n_pairs} seeds"}.get(
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


@dataclass(frozen=True)
class GroupVerdict:
    """One (order, activation, residual, match) group of the sweep."""

    order: str
    activation: str
    residual: bool | None
    match: str
    label: str
    segments: tuple[str, ...]
    mean_test_acc: dict
    n_seeds: dict
    best: str
    winner: str | None
    advantage: str  # yes | no | inconclusive | not applicable
    intermediate_better: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    sentence: str


@dataclass(frozen=True)
class LatencyNote:
    """A g with fewer FLOPs than another but a higher measured latency (same order)."""

    order: str
    fewer_flops: str
    more_flops: str
    flops_fewer: float
    flops_more: float
    latency_fewer: float
    latency_more: float
    sentence: str


@dataclass(frozen=True)
class Verdict:
    question: str
    answer: str  # yes | no | inconclusive | not applicable
    summary: str
    groups: tuple[GroupVerdict, ...]
    comparisons: tuple[Comparison, ...]
    alpha: float
    match: str
    matched_note: str | None
    few_seeds: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]
    latency_notes: tuple[LatencyNote, ...]
    latency_measured: bool

    def to_dict(self) -> dict:
        return asdict(self)


def is_intermediate(segments: str) -> bool:
    return str(segments).isdigit() and int(segments) > 1


def group_label(key: dict, show_match: bool = False) -> str:
    parts = [
        level_name(f, key[f]) for f in ("order", "activation", "residual") if key[f] is not None
    ]
    if show_match:
        parts.append(level_name("match", key["match"]))
    return ", ".join(parts) or "all trials"


def _by_seed(trials: pd.DataFrame) -> dict:
    """Mean test accuracy per seed (a seed run twice is averaged)."""
    out: dict = {}
    seeded = trials[trials["seed"].notna()]
    for seed, rows in seeded.groupby("seed", sort=True):
        out[int(seed)] = float(rows["test_acc"].mean())
    for _, row in trials[trials["seed"].isna()].iterrows():
        # A run without a recorded seed pairs with nothing.
        out[f"trial {int(row['trial'])}"] = float(row["test_acc"])
    return out


def _pairs(labels: list[str]) -> list[tuple[str, str]]:
    """(g, reference) pairs: every g against C and against 1, each unordered pair once."""
    pairs, seen = [], set()
    for reference in REFERENCES:
        if reference not in labels:
            continue
        for g in labels:
            if g == reference or frozenset((g, reference)) in seen:
                continue
            seen.add(frozenset((g, reference)))
            pairs.append((g, reference))
    return pairs


def _raw_groups(usable: pd.DataFrame) -> list[tuple[dict, dict]]:
    """(group key, {g: {seed: test_acc}}) in canonical order."""
    groups: dict[tuple, tuple[dict, dict]] = {}
    for key, trials in configurations(usable):
        gkey = tuple(key[f] for f in GROUP)
        entry = groups.setdefault(gkey, ({f: key[f] for f in GROUP}, {}))
        entry[1][str(key["segments"])] = _by_seed(trials)
    return list(groups.values())


def _group_verdict(key: dict, label: str, samples: dict, comps: list[Comparison]) -> GroupVerdict:
    labels = sorted(samples, key=segment_key)
    means = {g: float(np.mean(list(samples[g].values()))) for g in labels}
    n_seeds = {g: len(samples[g]) for g in labels}
    best = max(labels, key=lambda g: (means[g], -labels.index(g)))
    against = [c for c in comps if best in (c.segments, c.reference)]
    won = bool(against) and all(c.favours == best for c in against)
    winner = best if won else None

    better = tuple(
        c.segments
        for c in comps
        if c.reference == "C" and is_intermediate(c.segments) and c.favours == c.segments
    )
    vs_c = [c for c in comps if c.reference == "C" and is_intermediate(c.segments)]
    if not vs_c:
        advantage = "not applicable"
    elif better:
        advantage = "yes"
    elif all(c.favours == "C" for c in vs_c):
        advantage = "no"
    else:
        advantage = "inconclusive"

    head = (
        f"{label}: best mean test accuracy at {level_name('segments', best)} "
        f"({fmt.pct(means[best])}, {n_seeds[best]} seed{'s' if n_seeds[best] != 1 else ''})"
    )
    if len(labels) == 1:
        tail = "only one g was trained, so nothing is compared: inconclusive."
    elif not comps:
        tail = "no g = C or g = 1 to compare with: inconclusive."
    elif winner is not None:
        wins = "; ".join(c.sentence() for c in against)
        tail = f"winner {level_name('segments', winner)} ({wins})."
    else:
        unsettled = [c for c in against if c.favours != best] or against
        tail = "inconclusive (" + "; ".join(c.sentence() for c in unsettled) + ")."
    return GroupVerdict(
        order=key["order"],
        activation=key["activation"],
        residual=key["residual"],
        match=key["match"],
        label=label,
        segments=tuple(labels),
        mean_test_acc=means,
        n_seeds=n_seeds,
        best=best,
        winner=winner,
        advantage=advantage,
        intermediate_better=better,
        comparisons=tuple(comps),
        sentence=f"{head}; {tail}",
    )


def latency_notes(
    summary: pd.DataFrame, tolerance: float = 0.05, flops_margin: float = 0.01
) -> list[LatencyNote]:
    """Per order: each g that has fewer FLOPs than another g but is slower by > tolerance.

    Means over activation, residual and match first; for each g the most striking counterexample
    (largest latency ratio) is kept.
    """
    if summary.empty:
        return []
    frame = summary.dropna(subset=["flops_mean", "latency_ms_mean"])
    notes = []
    for order in sorted(frame["order"].unique(), key=lambda o: (o != "depthwise-first", o)):
        part = frame[frame["order"] == order]
        by_g = part.groupby("segments")[["flops_mean", "latency_ms_mean"]].mean()
        labels = sorted(by_g.index, key=segment_key)
        for a in labels:
            fa, la = by_g.loc[a]
            worst = None
            for b in labels:
                fb, lb = by_g.loc[b]
                if a == b or not fa < fb * (1.0 - flops_margin) or not la > lb * (1.0 + tolerance):
                    continue
                if worst is None or la / lb > worst[2] / worst[4]:
                    worst = (b, fa, la, fb, lb)
            if worst is None:
                continue
            b, fa, la, fb, lb = worst
            sentence = (
                f"{order}: {level_name('segments', a)} needs {fmt.count(fa)} FLOPs, "
                f"{1 - fa / fb:.0%} fewer than {level_name('segments', b)} "
                f"({fmt.count(fb)}), yet its measured latency is higher: "
                f"{fmt.ms(la)} vs {fmt.ms(lb)} per batch"
            )
            notes.append(
                LatencyNote(order, a, b, float(fa), float(fb), float(la), float(lb), sentence)
            )
    return notes


def build_verdict(
    usable: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    match: str = "none",
    alpha: float = ALPHA,
    min_seeds: int = MIN_SEEDS,
) -> Verdict:
    """The verdict of a sweep from its usable trials and its summary table."""
    raw = _raw_groups(usable)
    show_match = len({k["match"] for k, _ in raw}) > 1
    pending: list[tuple[int, Comparison]] = []
    for index, (key, samples) in enumerate(raw):
        labels = sorted(samples, key=segment_key)
        for g, reference in _pairs(labels):
            d = compare(samples[g], samples[reference])
            pending.append(
                (
                    index,
                    Comparison(
                        order=key["order"],
                        activation=key["activation"],
                        residual=key["residual"],
                        match=key["match"],
                        segments=g,
                        reference=reference,
                        method=d.method,
                        n_pairs=d.n_pairs,
                        mean_diff=d.mean_diff,
                        ci_low=d.ci_low,
                        ci_high=d.ci_high,
                        p_value=d.p_value,
                        p_holm=math.nan,
                        conclusive=False,
                    ),
                )
            )
    adjusted = holm([c.p_value for _, c in pending])
    comparisons = []
    for (index, c), p_holm in zip(pending, adjusted):
        excludes_zero = (
            math.isfinite(c.ci_low) and math.isfinite(c.ci_high) and (c.ci_low > 0 or c.ci_high < 0)
        )
        conclusive = excludes_zero and math.isfinite(p_holm) and p_holm < alpha
        comparisons.append((index, replace(c, p_holm=p_holm, conclusive=conclusive)))

    groups = []
    for index, (key, samples) in enumerate(raw):
        comps = [c for i, c in comparisons if i == index]
        groups.append(_group_verdict(key, group_label(key, show_match), samples, comps))

    few = []
    for key, trials in configurations(usable):
        n = int(trials["seed"].nunique(dropna=True)) or len(trials)
        if n < min_seeds:
            name = f"{level_name('segments', key['segments'])}, {group_label(key, show_match)}"
            few.append((name, n))
    warnings = []
    if few:
        warnings.append(
            f"{len(few)} configuration{'s' if len(few) != 1 else ''} "
            f"{'are' if len(few) != 1 else 'is'} backed by fewer than {min_seeds} "
            f"seeds; their intervals and tests are weak or undefined: "
            + "; ".join(f"{name} ({n} seed{'s' if n != 1 else ''})" for name, n in few)
            + "."
        )
    if not any("C" in g.segments for g in groups):
        warnings.append(
            "The sweep has no g = C (depthwise) configuration, so the question cannot "
            "be answered against the depthwise extreme."
        )
    matched_note = None
    if match not in ("none", None, ""):
        what = {"params": "parameters", "flops": "FLOPs"}.get(match, match)
        matched_note = (
            f"Budgets were matched ({match}): every g was widened or narrowed to the "
            f"same number of {what}, so the results compare g at matched {what}."
        )
    notes = latency_notes(summary)
    answer, text = _answer(groups)
    return Verdict(
        question=QUESTION,
        answer=answer,
        summary=text,
        groups=tuple(groups),
        comparisons=tuple(c for _, c in comparisons),
        alpha=alpha,
        match=match,
        matched_note=matched_note,
        few_seeds=tuple(few),
        warnings=tuple(warnings),
        latency_notes=tuple(notes),
        latency_measured=_measured(summary),
    )


def _measured(summary: pd.DataFrame) -> bool:
    if summary.empty:
        return False
    latency = summary["latency_ms_mean"].to_numpy(dtype=float)
    flops = summary["flops_mean"].to_numpy(dtype=float)
    return bool((np.isfinite(latency) & np.isfinite(flops)).any())


def _answer(groups: list[GroupVerdict]) -> tuple[str, str]:
    applicable = [g for g in groups if g.advantage != "not applicable"]
    if not applicable:
        return (
            "not applicable",
            "Not answerable from this sweep: no group has both g = C and an "
            "intermediate g (1 < g < C).",
        )
    yes = [g for g in applicable if g.advantage == "yes"]
    no = [g for g in applicable if g.advantage == "no"]
    n = len(applicable)
    if yes:
        detail = "; ".join(
            f"{g.label}: " + ", ".join(level_name("segments", s) for s in g.intermediate_better)
            for g in yes
        )
        return (
            "yes",
            f"Yes in {len(yes)} of {n} group{'s' if n != 1 else ''}: an intermediate g "
            f"beats g = C conclusively ({detail}).",
        )
    if len(no) == n:
        return (
            "no",
            f"No: in all {n} group{'s' if n != 1 else ''} every intermediate g is "
            "conclusively worse than g = C.",
        )
    return (
        "inconclusive",
        f"Inconclusive: in none of the {n} group{'s' if n != 1 else ''} does "
        "an intermediate g beat g = C conclusively (95% CI excluding zero and Holm-adjusted "
        "p < 0.05); more seeds or a larger budget would be needed to tell.",
    )

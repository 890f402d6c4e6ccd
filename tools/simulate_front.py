"""Simulate the statistical front (``spectrum search --confirm K``) on a front with known truth.

Twelve configurations with exact costs 1..12 and known mean accuracies (points): six on the true
front (costs 1, 3, 5, 7, 9, 11) and six dominated, each below the best cheaper configuration by a
known gap (0.25 and 0.5 points: within the 0.5-point margin; 0.75, 1.0, 1.5 and 3.0: beyond it).
Every training run is the mean plus normal seed noise of SD ``sd``. Each simulated study does
what ``--confirm`` does: one seed per configuration (the search), the screen with the band
(:func:`spectrum.study.front_pruner.outrun_by`), then
:func:`spectrum.stats.front.sequential_front` on the candidates (3 seeds first, 2 more
at a time where undecided, up to K). Screened-out configurations count as called dominated.

Printed, per seed SD: how often a configuration dominated by more than the margin is called
non-dominated (the worst such configuration and their mean), how often a truly non-dominated one
is called dominated, the undecided rates, the seeds used, and the same error rates for the plain
single-seed front. Cited in docs/search.md. Run: python tools/simulate_front.py
"""

from __future__ import annotations

import argparse

import numpy as np

from spectrum.report.analysis.pareto import non_dominated
from spectrum.stats.front import DOMINATED, NON_DOMINATED, FrontRule, sequential_front
from spectrum.study.front_pruner import DEFAULT_PRUNE_BAND, Finished, outrun_by

FRONT = {1: 78.0, 3: 79.5, 5: 80.5, 7: 81.2, 9: 81.7, 11: 82.0}
GAPS = {2: 1.0, 4: 0.25, 6: 0.75, 8: 1.5, 10: 0.5, 12: 3.0}  # below the best cheaper point


def truth() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(costs, mean accuracies, gap to the best cheaper point; <= 0 on the true front)."""
    costs = np.arange(1, 13, dtype=float)
    means = np.zeros(12)
    for i, cost in enumerate(costs):
        c = int(cost)
        means[i] = FRONT[c] if c in FRONT else max(FRONT[k] for k in FRONT if k < c) - GAPS[c]
    gaps = np.array([max([m for m in means[:i]], default=-np.inf) - means[i] for i in range(12)])
    return costs, means, gaps


def one_study(rng, costs, means, sd: float, rule: FrontRule, band_pp: float):
    first = means + rng.normal(0.0, sd, means.size)
    plain = non_dominated(np.column_stack([first, costs]), [True, False])
    finished = [Finished(i, (costs[i],), {0: first[i]}) for i in range(means.size)]
    candidates = [
        i
        for i in range(means.size)
        if outrun_by((costs[i],), first[i], 0, [f for f in finished if f.number != i], band_pp)
        is None
    ]

    def draw(j: int, k: int) -> float:
        return float(means[candidates[j]] + rng.normal(0.0, sd))

    result = sequential_front(costs[candidates, None], [[first[i]] for i in candidates], draw, rule)
    status = np.full(means.size, DOMINATED, dtype=object)  # screened out
    for j, i in enumerate(candidates):
        status[i] = result.decision.status[j]
    return status, plain, means.size + result.seeds_used - len(candidates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=2000)
    parser.add_argument("--max-seeds", type=int, default=7)
    parser.add_argument("--sd", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--seed", type=int, default=29)
    args = parser.parse_args()
    costs, means, gaps = truth()
    rule = FrontRule(max_seeds=args.max_seeds)
    band_pp = 100.0 * DEFAULT_PRUNE_BAND
    on_front = gaps <= 0
    beyond = gaps > rule.margin_pp
    within = ~on_front & ~beyond
    print(
        f"Synthetic front: 12 configurations, {on_front.sum()} on the true front, "
        f"{within.sum()} dominated within the {rule.margin_pp} pp margin, {beyond.sum()} beyond "
        f"it; band {band_pp:g} pp; seeds 3 first, +2 where undecided, up to {rule.max_seeds}; "
        f"alpha {rule.alpha}; {args.studies} studies per SD (generator seed {args.seed})."
    )
    for sd in args.sd:
        rng = np.random.default_rng([args.seed, int(round(sd * 1000))])
        status, plain, seeds = [], [], []
        for _ in range(args.studies):
            s, p, n = one_study(rng, costs, means, sd, rule, band_pp)
            status.append(s)
            plain.append(p)
            seeds.append(n)
        status, plain = np.array(status), np.array(plain)
        called_non = (status == NON_DOMINATED).mean(axis=0)
        called_dom = (status == DOMINATED).mean(axis=0)
        undecided = 1.0 - called_non - called_dom
        plain_on = plain.mean(axis=0)
        print(f"\nseed SD {sd} pp:")
        print(
            f"  dominated by > margin, called non-dominated: mean {100 * called_non[beyond].mean():.2f}%"
            f", worst {100 * called_non[beyond].max():.2f}% "
            f"(single-seed front: mean {100 * plain_on[beyond].mean():.1f}%, "
            f"worst {100 * plain_on[beyond].max():.1f}%)"
        )
        print(
            f"  truly non-dominated, called dominated: mean {100 * called_dom[on_front].mean():.2f}%"
            f", worst {100 * called_dom[on_front].max():.2f}% "
            f"(single-seed front: left off {100 * (1 - plain_on[on_front]).mean():.1f}%, "
            f"worst {100 * (1 - plain_on[on_front]).max():.1f}%)"
        )
        print(
            f"  undecided: true front {100 * undecided[on_front].mean():.1f}%, within margin "
            f"{100 * undecided[within].mean():.1f}%, beyond margin "
            f"{100 * undecided[beyond].mean():.1f}%"
        )
        print(
            f"  within the margin, called non-dominated {100 * called_non[within].mean():.1f}%, "
            f"dominated {100 * called_dom[within].mean():.1f}%"
        )
        print(
            f"  training runs per study: mean {np.mean(seeds):.1f} "
            f"(12 single-seed + confirmations; {rule.max_seeds} seeds for all 12 would be "
            f"{12 * rule.max_seeds})"
        )
        per = " ".join(
            f"{int(c)}:{100 * called_non[i]:.0f}/{100 * called_dom[i]:.0f}"
            for i, c in enumerate(costs)
        )
        print(f"  per cost, % called non-dominated/dominated: {per}")


if __name__ == "__main__":
    main()

"""Print the simulated numbers of docs/methods.md ("How the verdict decides").

Same generators as the tests of tests/test_inference.py (and, for the cells the slow tests check,
the same seeds). Accuracies and margins are fractions (0.005 = 0.5 pp). Cells:

- Student-t 95% interval coverage, 20,000 studies per cell, n = 3, 5, 10: normal, t(3), centred
  lognormal (sigma 1, skewness 6.2) and lognormal sigma 0.17 (skewness 0.5, the most the
  committed studies' per-seed differences allow);
- the sequential three-way decision (6 comparisons against a reference, looks at 3/6/9/12, sd
  0.4 pp, margin 0.5 pp, 3,000 studies): false better/worse with no true difference, false
  equivalence with every difference at the margin, every seed to every g and as the sweep gives
  them;
- the report's real 11-comparison family (7 g, each vs C and vs g = 1) decided by the report's
  own code: accuracies on Fashion-MNIST's 0.01 pp grid at 2 and 3 seeds (fixed, and
  ``--until-decided`` to 12); random trial losses (10% of trials) in a sequential study;
- the power of the paired t-test at the stated MDE (80%);
- the plateau (step-down equivalence): false plateau with g = 8 exactly at the margin, and the
  chance to find a true plateau from g = 4.

``--skewness`` instead measures the skewness of the committed studies' per-seed paired
differences (reports/*/study.db, every verdict comparison with at least 5 pairs).

Run: python tools/simulate_inference.py [--quick | --skewness]   (--quick: a tenth of the studies)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_inference import coverage, family_rates, family_study, simulate  # noqa: E402

from spectrum.stats.inference import (  # noqa: E402
    minimum_detectable_effect,
    paired_t_p,
)

SCALE = 10 if "--quick" in sys.argv else 1


def n_(studies: int) -> int:
    return max(studies // SCALE, 50)


def coverage_cells() -> None:
    print(f"Student-t 95% interval coverage ({n_(20000)} studies each):")
    for dist in ("normal", "t3", "lognormal", "lognormal0.17"):
        rates = [coverage(np.random.default_rng(100 + n), dist, n, n_(20000)) for n in (3, 5, 10)]
        print(f"  {dist:14s} n = 3 / 5 / 10: " + " / ".join(f"{100 * r:.2f}%" for r in rates))


def sequential_cells() -> None:
    for adaptive in (False, True):
        rng = np.random.default_rng(4)  # the slow test's generator, for each allocation
        null = simulate(rng, [0.0] * 7, studies=n_(3000), adaptive=adaptive)
        fwer = np.mean([any(d.verdict in ("better", "worse") for d in s) for s in null])
        margin = simulate(rng, [0.005] * 6 + [0.0], studies=n_(3000), adaptive=adaptive)
        false_eq = np.mean([any(d.verdict == "equivalent" for d in s) for s in margin])
        how = "seeds only to undecided (the sweep)" if adaptive else "every seed to every g"
        print(f"Sequential decision, 6 comparisons, looks at 3/6/9/12 seeds, {how}:")
        print(f"  family-wise false better/worse, no true difference: {100 * fwer:.2f}%")
        print(
            f"  family-wise false equivalence, every difference at the margin: {100 * false_eq:.2f}%"
        )


def grid_cells() -> None:
    print("11-comparison family on the 0.01 pp grid, per-seed sd 0.25 pp, no true difference:")
    for seeds in (2, 3):
        for looks, how in (((seeds,), "fixed"), (tuple(range(seeds, 13, seeds)), "sequential")):
            studies = n_(2000 if how == "fixed" else 1000)
            rates = family_rates(studies, 40 + seeds, [0.0] * 7, looks=looks, grid=1e-4, sd=0.0025)
            print(
                f"  {seeds} seeds, {how} (looks {looks}), {studies} studies: false better/worse "
                f"{100 * rates['false_better_worse']:.2f}%"
            )


def loss_cells() -> None:
    print("Sequential study (looks 3/6/9/12, the sweep's allocation), 10% of trials lost, grid:")
    studies = n_(1000)
    null = family_rates(studies, 50, [0.0] * 7, grid=1e-4, loss=0.1)
    margin = family_rates(studies, 51, [0.005] * 6 + [0.0], grid=1e-4, loss=0.1)
    print(
        f"  false better/worse, no true difference ({studies} studies): "
        f"{100 * null['false_better_worse']:.2f}%"
    )
    print(
        f"  false equivalence, every g at the margin from C: {100 * margin['false_equivalent']:.2f}%"
    )
    rng = np.random.default_rng(52)
    found = 0
    for _ in range(studies):
        settled, _ = family_study(rng, [-0.01] + [0.0] * 6, grid=1e-4, loss=0.1)
        found += settled[0].verdict == "worse"  # g = 1 vs C, a true -1 pp
    print(f"  power to find a true -1 pp (g = 1 vs C, sd 0.4 pp): {100 * found / studies:.1f}%")


def power_cells() -> None:
    draws = n_(20000)
    alpha = 0.05 / 4 / 11  # a 4-look study's per-comparison level over the 11-comparison family
    cells = []
    for n in (3, 5, 12):
        effect = minimum_detectable_effect(1.0, n, alpha)
        rng = np.random.default_rng(60 + n)
        hits = sum(paired_t_p(rng.normal(effect, 1.0, n)) <= alpha for _ in range(draws))
        cells.append(f"n = {n}: {100 * hits / draws:.1f}%")
    print(f"Power of the paired t-test at the stated MDE (80%), alpha {alpha:.4g}, {draws} draws:")
    print("  " + "; ".join(cells))


def plateau_cells() -> None:
    studies = n_(1000)
    at_margin = [-0.010, -0.008, -0.006, -0.005, 0.0, 0.0, 0.0]  # g = 8 at the margin
    flat = [-0.010, -0.005, 0.0, 0.0, 0.0, 0.0, 0.0]  # flat from g = 4
    for looks, how in (((6,), "fixed 6 seeds"), ((3, 6, 9, 12), "sequential 3/6/9/12")):
        rng = np.random.default_rng(70)
        wrong = sum(family_study(rng, at_margin, looks=looks)[1] >= 3 for _ in range(studies))
        rng = np.random.default_rng(71)
        reach = [family_study(rng, flat, looks=looks)[1] for _ in range(studies)]
        print(f"Plateau, {how} ({studies} studies each):")
        print(
            f"  false plateau (claimed to start at g <= 8, g = 8 at the margin): "
            f"{100 * wrong / studies:.2f}%"
        )
        print(
            f"  true plateau from g = 4 found (start <= 4): "
            f"{100 * np.mean([r >= 4 for r in reach]):.1f}%; start <= 16: "
            f"{100 * np.mean([r >= 2 for r in reach]):.1f}%"
        )


def measured_skewness() -> None:
    import optuna
    from scipy import stats

    from spectrum.report import build_verdict, summarize
    from spectrum.stats.frames import trial_frame, usable_sweep

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pooled, each = [], []
    root = Path(__file__).resolve().parents[1] / "reports"
    for path in sorted(root.glob("*/study.db")):
        storage = f"sqlite:///{path}"
        for summary in optuna.get_all_study_summaries(storage):
            study = optuna.load_study(study_name=summary.study_name, storage=storage)
            if study.user_attrs.get("kind") == "search":
                continue
            usable = usable_sweep(trial_frame(study))
            if usable.empty:
                continue
            for c in build_verdict(usable, summarize(usable)).comparisons:
                d = np.asarray(c.difference.diffs, dtype=float)
                if d.size >= 5 and d.std(ddof=1) > 0:
                    pooled.append((d - d.mean()) / d.std(ddof=1))
                    each.append(float(stats.skew(d, bias=False)))
    z = np.concatenate(pooled)
    test = stats.skewtest(z)
    print(
        f"Skewness of per-seed paired differences: {len(each)} comparisons with >= 5 pairs, "
        f"{z.size} standardised differences pooled: skewness {stats.skew(z):+.2f} "
        f"(D'Agostino p = {test.pvalue:.2f}); per comparison {min(each):+.2f} to {max(each):+.2f}"
    )


def main() -> None:
    if "--skewness" in sys.argv:
        measured_skewness()
        return
    for cells in (
        coverage_cells,
        power_cells,
        grid_cells,
        loss_cells,
        plateau_cells,
        sequential_cells,
    ):
        cells()
        sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Print the simulated numbers the slow tests of tests/test_inference.py check.

Same generators and seeds as the slow tests: Student-t interval coverage (20,000 studies per
cell, normal and t(3) noise, n = 3, 5, 10), and the error rates of the sequential three-way
decision (3,000 studies, 6 comparisons against a reference, looks at 3, 6, 9, 12 seeds, with
every seed given to every configuration and with seeds given as a sequential sweep gives them,
sd 0.4, margin 0.5): the family-wise rate of a false "better"/"worse" when nothing differs, and
of a false "equivalent" when every true difference sits exactly at the margin. Cited in the
README ("How the verdict decides"). Run: python tools/simulate_inference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_inference import coverage, simulate  # noqa: E402


def main() -> None:
    print("Student-t 95% interval coverage (20,000 studies each):")
    for dist in ("normal", "t3"):
        for n in (3, 5, 10):
            rate = coverage(np.random.default_rng(100 + n), dist, n, 20000)
            print(f"  {dist:6s} n = {n:2d}: {100 * rate:.2f}%")
    for adaptive in (False, True):
        rng = np.random.default_rng(4)  # the slow test's generator, for each allocation
        null = simulate(rng, [0.0] * 7, studies=3000, adaptive=adaptive)
        fwer = np.mean([any(d.verdict in ("better", "worse") for d in s) for s in null])
        margin = simulate(rng, [0.5] * 6 + [0.0], studies=3000, adaptive=adaptive)
        false_eq = np.mean([any(d.verdict == "equivalent" for d in s) for s in margin])
        how = "seeds only to undecided (the sweep)" if adaptive else "every seed to every g"
        print(f"Sequential decision, 6 comparisons, looks at 3/6/9/12 seeds, {how}:")
        print(f"  family-wise false better/worse, no true difference: {100 * fwer:.2f}%")
        print(
            f"  family-wise false equivalence, every difference at the margin: {100 * false_eq:.2f}%"
        )


if __name__ == "__main__":
    main()

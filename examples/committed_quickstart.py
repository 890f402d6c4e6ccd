"""The committed quickstart sweep (reports/quickstart) and what fixed its numbers: one seed, the
precision each trial trained in, and the threads per trial (results.csv's device column).

Run: python examples/committed_quickstart.py
"""

from pathlib import Path

import spectrum

report = Path(__file__).resolve().parent.parent / "reports" / "quickstart"
results = spectrum.load_results(report / "results.csv")
print(results[["segments", "seed", "precision", "device", "test_acc", "params", "flops"]])
best = results.loc[results["test_acc"].idxmax()]
print(
    f"best g = {best['segments']} at {best['test_acc']:.4f} ({best['precision']}, {best['device']})"
)

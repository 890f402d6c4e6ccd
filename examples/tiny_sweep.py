"""A two-point sweep (g = 16 and g = C) on synthetic data in seconds: the results as a DataFrame
with one row per trial, progress through a callback, and the same results read back from the
study's storage. Calling sweep() again with the same arguments resumes (nothing is trained twice).

Run: python examples/tiny_sweep.py
"""

import tempfile

import spectrum

events = []
out = tempfile.mkdtemp()
results = spectrum.sweep(
    segments=[16, "C"],
    width=0.5,
    dataset="synthetic",
    epochs=1,
    train_subset=128,
    val_size=128,
    latency=False,
    device="cpu",
    out=out,
    progress=lambda event, data: events.append(event),
)
print(results[["segments", "status", "params", "flops", "test_acc"]])
print("progress events:", sorted(set(events)))
assert len(spectrum.load_results(out)) == 2  # read back from out/study.db

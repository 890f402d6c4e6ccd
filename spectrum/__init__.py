"""spectrum: the spectrum between regular and depthwise separable convolutions, by experiment.

The library behind the ``spectrum`` command. Modules, left to right along one trial:
segments (g), blocks (the spectrum block), nets (Xception and proxies), complexity (params, FLOPs,
latency), matching (equal-budget widths), data, train, sweep/search (Optuna studies), report.
"""

__version__ = "0.1.0"

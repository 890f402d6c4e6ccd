"""The Python API: build, count, match, train, sweep, search, report, compare and load results
without the command line.

Every function takes keyword arguments named after the ``spectrum`` command's flags and raises
the same one-line :class:`~spectrum.errors.SpectrumError` the command prints for the same mistake
(the command adds ``spectrum: error:`` in front and exits with code 2). Nothing here prints;
training runs, sweeps and searches report progress through an optional ``progress`` callback.

Conventions: images are ``(N, C, H, W)`` tensors; FLOPs are fvcore's (one multiply-add = one
FLOP, so they are MACs) for ONE image; latencies are milliseconds per batch (median of repeats
after a warm-up). Segments ``g`` are a positive integer or ``"C"`` (one segment per channel).
"""

from ..net.blocks import BlockSpec, SpectrumConv
from .costs import Counts, Matched, count, match_width
from .nets import proxy, xception
from .reports import compare, write_report
from .studies import load_results, search, sweep
from .trials import train

__all__ = [
    "BlockSpec",
    "Counts",
    "Matched",
    "SpectrumConv",
    "compare",
    "count",
    "load_results",
    "match_width",
    "proxy",
    "search",
    "sweep",
    "train",
    "write_report",
    "xception",
]

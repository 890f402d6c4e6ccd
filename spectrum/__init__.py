"""spectrum: the spectrum between regular and depthwise separable convolutions, by experiment.

The library behind the ``spectrum`` command. Stages, left to right along one trial: ``net``
(segments g, the spectrum block, Xception and proxies), ``cost`` (params, FLOPs, latency,
matching), ``data``, ``engine`` (training), ``study`` (Optuna sweeps and searches), ``report``.

The public Python API is the names in ``__all__`` (see README, "Python API"); everything else is
internal. ``import spectrum`` stays light: torch (seconds to import) is loaded on first use of a
name that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DataError, SegmentsError, SpecError, SpectrumError, StorageError

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from .api import BlockSpec as BlockSpec
    from .api import Counts as Counts
    from .api import Matched as Matched
    from .api import SpectrumConv as SpectrumConv
    from .api import compare as compare
    from .api import count as count
    from .api import load_results as load_results
    from .api import match_width as match_width
    from .api import proxy as proxy
    from .api import search as search
    from .api import sweep as sweep
    from .api import train as train
    from .api import write_report as write_report
    from .api import xception as xception

__version__ = "0.1.0"

# Names that live in spectrum.api (imported on first access: it imports torch).
_LAZY = (
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
)

__all__ = [
    *_LAZY,
    "DataError",
    "SegmentsError",
    "SpecError",
    "SpectrumError",
    "StorageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spectrum' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""``spectrum report``: turn a sweep or search study into CSVs, figures and a written report.

Public API: :func:`write_report` (study -> report folder, returns report.md's path), and for
callers that want the numbers without files: :func:`trial_frame`, :func:`usable_sweep`,
:func:`summarize` (summary.csv's table), :func:`build_verdict` (the plain-data verdict),
:func:`build_factors` (the plain-data factor comparisons, factors.csv), :func:`holm` and
:func:`t_interval`. The library never prints.

Modules, in the order data flows through them:

- ``labels``, ``fmt``: the vocabulary (names, canonical orderings, the log2 g axis with ``C``)
  and number/sentence formatting; shared by every stage below.
- ``analysis/``: plain data, no files or markup.

  - ``frames``: study -> per-trial frame, statuses, usable trials, study-level facts.
  - ``design``: which factors a sweep varied and the series its plots draw (``design_of``).
  - ``inference``: the rules a verdict rests on: Student-t / Welch intervals, paired t, TOST,
    Holm, the three-way decision over planned looks, MDE and seeds to decide, per-seed slopes,
    and the study's ``Plan`` (margin, looks).
  - ``stats``: comparisons of seed-keyed samples (``Difference``) and ``Test``, the result
    type every verdict comparison, factor test and trend shares, decided by ``settle``.
  - ``trends``: slopes over log2 g as one contrast (accuracy, activation effect x g).
  - ``pairing``: trials -> seed-keyed samples, per-seed differences.
  - ``summary``: summary.csv, one row per configuration.
  - ``verdict``: the answer to Xception's future-directions question; ``latency``: its
    latency-versus-FLOPs notes, and the rank correlations of latency with FLOPs and activations.
  - ``factors``: the other factors (activation, residual, op order) put to the test
    (factors.csv), from ``factor_tests`` (one level against the reference, per context),
    ``claims`` (the paper's claims and each factor's status) and ``interaction`` (the
    activation x depth contrasts).
  - ``edf``: error EDFs and complexity-normalisation weights.
  - ``pareto``: non-dominated points.
  - ``search_study``: objectives, front, best trials, importances, history of a search study.

- ``figures/``: ``style`` (matplotlib style, deterministic PNG/SVG saving, shared axes), then
  one figure family each: ``accuracy``, ``pareto``, ``curves``, ``edf``, ``speed``,
  ``latency_costs``, ``search``.
- ``sections/``: ``provenance``, ``verdict``, ``factors``: report sections as document blocks.
- ``document``, ``render_md``, ``render_html``: the report as blocks and its two renderings.
- ``sweep_report``, ``search_report``: lay out the two kinds of report.
- ``writer``: ``write_report``, the only module that decides which files are written.
"""

from ..stats.claims import FactorVerdict
from ..stats.comparison import Comparison
from ..stats.difference import Difference, Test, holm
from ..stats.factor_tests import FactorTest
from ..stats.factors import FactorReport, build_factors
from ..stats.frames import trial_frame, usable_search, usable_sweep
from ..stats.inference import t_interval
from ..stats.interaction import Interaction
from ..stats.latency import LatencyNote
from ..stats.summary import SUMMARY_COLUMNS, summarize
from ..stats.verdict import GroupVerdict, Verdict, build_verdict
from .writer import write_report

__all__ = [
    "write_report",
    "trial_frame",
    "usable_sweep",
    "usable_search",
    "summarize",
    "SUMMARY_COLUMNS",
    "build_verdict",
    "Verdict",
    "GroupVerdict",
    "Comparison",
    "LatencyNote",
    "holm",
    "t_interval",
    "Difference",
    "Test",
    "build_factors",
    "FactorReport",
    "FactorTest",
    "FactorVerdict",
    "Interaction",
]

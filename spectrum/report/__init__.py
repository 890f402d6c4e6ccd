"""``spectrum report``: turn a sweep or search study into CSVs, figures and a written report.

Public API: :func:`write_report` (study -> report folder, returns report.md's path), and for
callers that want the numbers without files: :func:`trial_frame`, :func:`usable_sweep`,
:func:`summarize` (summary.csv's table), :func:`build_verdict` (the plain-data verdict),
:func:`build_factors` (the plain-data factor comparisons, factors.csv) and :func:`holm`. The
library never prints.

Modules, in the order data flows through them:

- ``frames``: study -> per-trial frame, statuses, usable trials, study-level facts.
- ``labels``: vocabulary, canonical orderings, the log2 g axis with ``C``.
- ``design``: which factors a sweep varied and the series its plots draw.
- ``stats``: percentile bootstrap, paired t / Welch comparisons, Holm correction.
- ``summary``: summary.csv, one row per configuration.
- ``verdict``: the answer to Xception's future-directions question (plain data).
- ``factors``: the other factors (activation, residual, op order) against the paper's claims,
  and the activation x depth interaction (plain data).
- ``edf``: error EDFs and complexity-normalisation weights.
- ``pareto``: non-dominated points.
- ``search``: objectives, front, best trials, importances, history of a search study.
- ``figures``: matplotlib style, deterministic PNG/SVG saving, shared axes helpers.
- ``plot_accuracy``, ``plot_pareto``, ``plot_curves``, ``plot_edf``, ``plot_speed``,
  ``plot_search``: one figure family each.
- ``document``, ``render_md``, ``render_html``: the report as blocks and its two renderings.
- ``provenance``, ``verdict_section``, ``factors_section``: report sections shared by or
  specific to the verdict and the factor comparisons.
- ``sweep_report``, ``search_report``: lay out the two kinds of report.
- ``writer``: ``write_report``, the only module that decides which files are written.
- ``fmt``: number formatting.
"""

from .factors import FactorReport, FactorTest, FactorVerdict, Interaction, build_factors
from .frames import trial_frame, usable_search, usable_sweep
from .stats import bootstrap_ci, holm
from .summary import SUMMARY_COLUMNS, summarize
from .verdict import Comparison, GroupVerdict, LatencyNote, Verdict, build_verdict
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
    "bootstrap_ci",
    "build_factors",
    "FactorReport",
    "FactorTest",
    "FactorVerdict",
    "Interaction",
]

"""The sweep report: statistics, figures and the document, in reading order.

Computes summary.csv's table, the verdict and the factor comparisons from the usable trials,
draws the sweep figures into the report folder, and lays out the first screen (the answer in
one sentence with its scope, then the forest figure of every verdict comparison), provenance,
verdict, factor comparisons, summary table, figures (accuracy vs g, three Pareto fronts,
curves, EDF, speed, latency against FLOPs and activations with their rank correlations) and the
excluded trials.
Writing the CSVs and rendering the document belong to :mod:`.writer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import fmt
from ..labels import FACTOR_NAMES
from ..records import curves_frame
from ..stats.factors import FactorReport, build_factors
from ..stats.frames import excluded_trials, grid_match, pending_seeds
from ..stats.latency import LatencyCosts, cost_correlations
from ..stats.looks import plan_of
from ..stats.summary import summarize
from ..stats.verdict import Verdict, build_verdict
from .analysis.design import Design, design_of
from .document import Document, Heading, Paragraph, Table, figure_blocks
from .figures import accuracy, curves, edf, forest, latency_costs, pareto, speed
from .figures.style import Plot
from .sections.answer import answer_blocks
from .sections.factors import factor_blocks
from .sections.provenance import excluded_blocks, provenance_blocks
from .sections.verdict import verdict_blocks


@dataclass
class SweepReport:
    document: Document
    summary: pd.DataFrame
    verdict: Verdict
    plots: list[Plot]
    factors: FactorReport | None = None
    costs: LatencyCosts | None = None  # latency against FLOPs and activations


def summary_table(summary: pd.DataFrame, design: Design) -> Table:
    show_match = "match" in design.series_factors
    columns = (
        ["g", "order", "activation", "residual"]
        + (["match"] if show_match else [])
        + [
            "seeds",
            "test acc",
            "std",
            "95% CI",
            "val acc",
            "width x",
            "params",
            "FLOPs",
            "latency",
            "train img/s",
        ]
    )
    rows = []
    for _, r in summary.iterrows():
        row = [
            str(r["segments"]),
            fmt.text(r["order"]),
            fmt.text(r["activation"]),
            fmt.text(r["residual"]),
        ] + ([str(r["match"])] if show_match else [])
        row += [
            str(int(r["n_seeds"])),
            fmt.pct(r["test_acc_mean"]),
            fmt.pct(r["test_acc_std"]),
            fmt.ci_pct(r["test_acc_ci_low"], r["test_acc_ci_high"]),
            fmt.pct(r["val_acc_mean"]),
            fmt.number(r["width_multiplier_mean"]),
            fmt.count(r["params_mean"]),
            fmt.count(r["flops_mean"]),
            fmt.ms(r["latency_ms_mean"]),
            fmt.rate(r["train_images_per_s_mean"]),
        ]
        rows.append(tuple(row))
    return Table(
        tuple(columns),
        tuple(rows),
        "One row per configuration over its complete trials: mean test accuracy with "
        "standard deviation and 95% Student-t CI over seeds, and mean "
        "width multiplier, parameters, FLOPs, inference latency and training "
        "throughput.",
    )


def _curves(study, usable: pd.DataFrame) -> pd.DataFrame:
    frame = curves_frame(study)
    if frame.empty:
        return frame
    coords = usable[["trial", "segments", "order", "activation", "residual", "match"]]
    frame = frame[["trial", "epoch", "train_loss", "val_acc"]].merge(coords, on="trial")
    for column in ("epoch", "train_loss", "val_acc"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.dropna(subset=["epoch"])


def build(
    study,
    frame: pd.DataFrame,
    usable: pd.DataFrame,
    out_dir: Path,
    *,
    storage_label: str | None,
    edf_complexity: str | None,
    margin: float | None = None,
) -> SweepReport:
    design = design_of(usable)
    plan = plan_of(study.user_attrs, margin, pending_seeds(study))
    summary = summarize(usable)
    verdict = build_verdict(usable, summary, match=grid_match(study, usable), plan=plan)
    summary = with_verdicts(summary, verdict)
    factors = build_factors(usable, plan=plan)
    first = forest.draw(verdict, out_dir)
    if not first.drawn and factors.varied:  # no g to compare: the factors answer instead
        first = forest.draw_factors(factors, out_dir)
    plots = [accuracy.draw(usable, summary, design, out_dir)]
    plots += [
        pareto.draw(summary, design, cost, out_dir) for cost in ("params", "flops", "latency")
    ]
    plots.append(curves.draw(_curves(study, usable), design, out_dir))
    plots.append(edf.draw(usable, design, out_dir, edf_complexity))
    plots.append(speed.draw(summary, design, out_dir))
    costs = cost_correlations(summary)
    plots.append(latency_costs.draw(costs, design, out_dir))

    doc = Document(f"Spectrum sweep report: {study.study_name}")
    doc.add(
        *answer_blocks(study, usable, summary, verdict, factors), *figure_blocks(first, level=2)
    )
    doc.add(*provenance_blocks(study, frame, usable, storage_label))
    varied = ", ".join(f"{FACTOR_NAMES[f]} ({len(design.levels[f])} levels)" for f in design.varied)
    doc.add(Paragraph("Factors varied in the usable trials: " + (varied or "none") + "."))
    doc.add(*verdict_blocks(verdict))
    doc.add(*factor_blocks(factors))
    doc.add(Heading("Summary"), summary_table(summary, design))
    doc.add(Heading("Figures"))
    for plot in plots:
        doc.add(*figure_blocks(plot, level=3))
    doc.add(*excluded_blocks(excluded_trials(frame, usable)))
    doc.add(
        Heading("Files"),
        Paragraph(
            "results.csv (one row per trial), summary.csv (one row per configuration), "
            "factors.csv (one row per factor comparison or interaction contrast), report.md, "
            "report.html (self-contained), and each figure as PNG and SVG: "
            + ", ".join(p.name for p in (first, *plots) if p.drawn)
            + "."
        ),
    )
    return SweepReport(doc, summary, verdict, [first, *plots], factors, costs)


SUMMARY_VERDICT_COLUMNS = [
    "verdict_vs",
    "verdict",
    "p_equivalence",
    "p_equivalence_holm",
    "mde",
    "seeds_needed",
]


def with_verdicts(summary: pd.DataFrame, verdict: Verdict) -> pd.DataFrame:
    """summary.csv with each configuration's comparison against g = C appended.

    Columns :data:`SUMMARY_VERDICT_COLUMNS`: the reference ("C"), the three-way verdict of g
    minus C, its TOST p (raw and Holm-adjusted), MDE and seeds to decide (when undecided); empty for
    g = C itself and where the group has no g = C.
    """
    out = summary.copy()
    found = {
        (c.segments, c.order, c.activation, c.residual, c.match): c
        for c in verdict.comparisons
        if c.reference == "C"
    }
    rows = []
    for _, r in out.iterrows():
        key = tuple(None if pd.isna(r[f]) else r[f] for f in ("order", "activation", "residual"))
        c = found.get((str(r["segments"]), *key, r["match"]))
        if c is None:
            rows.append((None, None, math.nan, math.nan, math.nan, None))
        else:
            needed = c.seeds_needed if c.verdict == "undecided" else None
            rows.append(("C", c.verdict, c.p_equivalence, c.p_equivalence_holm, c.mde, needed))
    for i, column in enumerate(SUMMARY_VERDICT_COLUMNS):
        out[column] = pd.Series([row[i] for row in rows], index=out.index, dtype=object)
    return out

"""The search report: Pareto front (and, after ``--confirm``, the front within seed noise), best
trials, importances and history, in reading order.

Sweep-only sections (summary.csv, verdict, accuracy vs g, curves, EDF, speed) are not part of
it. Infeasible trials are listed with the other excluded trials and kept off the front.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import fmt
from ..stats.frames import excluded_trials
from .analysis.search_study import (
    Importances,
    best_trials,
    best_trials_rows,
    front_mask,
    importances,
    objectives,
    statistical_front,
)
from .document import Document, Heading, Paragraph, Table, figure_blocks
from .figures import search
from .figures.style import Plot
from .sections.front import front_blocks
from .sections.provenance import excluded_blocks, provenance_blocks


@dataclass
class SearchReport:
    document: Document
    plots: list[Plot]
    importances: Importances
    best_trial_numbers: list[int]


def build(
    study, frame: pd.DataFrame, usable: pd.DataFrame, out_dir: Path, *, storage_label: str | None
) -> SearchReport:
    objs = objectives(study)
    front = search.draw_front(usable, objs, out_dir)
    hist = search.draw_history(usable, objs, out_dir)
    confirmed = statistical_front(study, usable, objs)
    noise = search.draw_statistical_front(confirmed, usable, objs, out_dir)
    best, replaced = best_trials(study, frame, usable, objs)
    imp = importances(study, usable, objs)

    doc = Document(f"Spectrum search report: {study.study_name}")
    doc.add(*provenance_blocks(study, frame, usable, storage_label))
    doc.add(
        Paragraph(
            "Objectives: "
            + ", ".join(f"{o.name} ({'maximised' if o.maximize else 'minimised'})" for o in objs)
            + "."
        )
    )
    doc.add(*figure_blocks(front))
    mask = front_mask(usable, objs)
    if len(objs) >= 2 and mask.any():
        rows = usable[mask].sort_values("trial")
        doc.add(
            Table(
                ("trial", "segments (entry/middle/exit)", *(o.name for o in objs)),
                tuple(
                    (
                        str(int(r["trial"])),
                        fmt.text(r["segments"]),
                        *(o.text(r["values"][o.index]) for o in objs),
                    )
                    for _, r in rows.iterrows()
                ),
                "The non-dominated feasible trials drawn as the front above.",
            )
        )
    if confirmed:
        doc.add(*front_blocks(study.user_attrs["front_confirm"], confirmed, objs, noise))
    doc.add(Heading("Best trials"))
    if best:
        columns, rows = best_trials_rows(best, objs)
        caption = (
            "The best feasible trials (study.best_trials recomputed without infeasible "
            "trials): their parameters and objective values."
            if replaced
            else "The study's best trials (study.best_trials): their parameters and "
            "objective values."
        )
        doc.add(Table(columns, tuple(rows), caption))
    else:
        doc.add(Paragraph("No best trials: no trial completed with objective values."))
    if replaced:
        n = len(replaced)
        doc.add(
            Paragraph(
                f"study.best_trials contains {n} infeasible trial{'s' if n != 1 else ''} "
                f"({', '.join(str(t) for t in replaced)}); the table shows the best feasible "
                "trials instead."
            )
        )
    doc.add(Heading("Parameter importances"))
    if imp.table:
        params = sorted(
            {p for values in imp.table.values() for p in values},
            key=lambda p: (-max(v.get(p, 0.0) for v in imp.table.values()), p),
        )
        doc.add(
            Table(
                ("parameter", *imp.table),
                tuple(
                    (p, *(fmt.number(v.get(p, float("nan")), 3) for v in imp.table.values()))
                    for p in params
                ),
                imp.note,
            )
        )
    else:
        doc.add(Paragraph(imp.note))
    doc.add(*figure_blocks(hist))
    doc.add(*excluded_blocks(excluded_trials(frame, usable)))
    doc.add(
        Heading("Files"),
        Paragraph(
            "results.csv (one row per trial), report.md, report.html (self-contained), and each "
            "figure as PNG and SVG: "
            + ", ".join(p.name for p in (front, hist, noise) if p.drawn)
            + "."
        ),
    )
    return SearchReport(doc, [front, hist, noise], imp, [t.number for t in best])

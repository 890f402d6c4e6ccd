"""``write_report``: check the study, then write CSVs, figures, report.md and report.html.

The only module that decides which files exist in the report folder. Raises
:class:`~spectrum.errors.SpecError` before writing anything when the study has no trials or no
usable ones.
"""

from __future__ import annotations

from pathlib import Path

import optuna

from ..errors import SpecError
from ..records import load_results
from ..stats.frames import status_counts, study_kind, trial_frame, usable_search, usable_sweep
from . import search_report, sweep_report
from .render_html import render_html
from .render_md import render_markdown
from .sections.provenance import portable_storage

EDF_COMPLEXITIES = ("params", "flops", None)


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _no_usable(study, frame, kind: str) -> SpecError:
    counts = ", ".join(f"{n} {s}" for s, n in status_counts(frame).items() if n)
    need = (
        "complete with a test accuracy"
        if kind == "sweep"
        else "complete, feasible and with every objective value"
    )
    return SpecError(
        f"study {study.study_name!r} has no usable trials ({counts}); none is "
        f"{need}, so there is nothing to report yet"
    )


def write_report(
    study: optuna.Study,
    out_dir: Path,
    *,
    storage_label: str | None = None,
    edf_complexity: str | None = "params",
    margin: float | None = None,
) -> Path:
    """Write the report of ``study`` into ``out_dir`` and return the path of report.md.

    ``edf_complexity`` picks the complexity ("params", "flops" or None to switch it off) that
    the complexity-normalised error EDF of a sweep matches across g. ``margin`` (accuracy
    points, > 0) overrides the study's equivalence margin (user attribute "margin", else
    :data:`spectrum.records.DEFAULT_MARGIN_PP`).
    """
    if margin is not None and not (isinstance(margin, int | float) and margin > 0):
        raise SpecError(f"the equivalence margin must be > 0 accuracy points, got {margin!r}")
    if edf_complexity not in EDF_COMPLEXITIES:
        raise SpecError(f"EDF complexity {edf_complexity!r} is not one of: params, flops, none")
    if not study.get_trials(deepcopy=False):
        raise SpecError(f"study {study.study_name!r} has no trials; nothing to report")
    kind = study_kind(study)
    frame = trial_frame(study)
    if kind == "sweep":
        usable = usable_sweep(frame)
    else:
        usable = usable_search(frame, len(study.directions))
    if usable.empty:
        raise _no_usable(study, frame, kind)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    storage_label = portable_storage(storage_label, out_dir)  # no absolute paths in a report
    load_results(study).to_csv(out_dir / "results.csv", index=False, lineterminator="\n")
    if kind == "sweep":
        report = sweep_report.build(
            study,
            frame,
            usable,
            out_dir,
            storage_label=storage_label,
            edf_complexity=edf_complexity,
            margin=margin,
        )
        report.summary.to_csv(out_dir / "summary.csv", index=False, lineterminator="\n")
        report.factors.frame().to_csv(out_dir / "factors.csv", index=False, lineterminator="\n")
    else:
        report = search_report.build(study, frame, usable, out_dir, storage_label=storage_label)
    md_path = out_dir / "report.md"
    _write_text(md_path, render_markdown(report.document))
    _write_text(out_dir / "report.html", render_html(report.document, out_dir))
    return md_path


def write_study_report(study: optuna.Study, out_dir: Path, storage_label: str) -> Path:
    """The report a run leaves behind (``spectrum sweep``, ``search``, ``run`` and the Python
    API): :func:`write_report` into the run's folder; returns report.md's path."""
    return write_report(study, out_dir, storage_label=storage_label)

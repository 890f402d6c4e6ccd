"""Where the numbers come from: command, dataset, budget, device, versions, storage, counts.

Builds the report's opening section and the list of trials left out of the statistics
(running, failed, diverged, pruned, infeasible), for sweeps and searches alike. Anything the
study did not record is said to be missing rather than skipped silently.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pandas as pd
from optuna.trial import TrialState

from ... import fmt
from ...records import CODE_KEY
from ...stats.frames import COUNTED, status_counts, study_fact
from ..document import Bullets, Code, Heading, Paragraph, Table

NOT_RECORDED = "not recorded"


# "SQLite file /abs/path.db" and "journal file /abs/run.log", as describe_storage names them.
_FILE_LABEL = re.compile(r"^(SQLite file|journal file) (/.*|[A-Za-z]:[\\/].*)$")
_NEAR = 2  # a file at most this many folders up stays a relative path; farther, its name only


def portable_storage(label: str | None, report_dir: Path) -> str | None:
    """The storage label without the machine's absolute paths, so a committed report is portable.

    A storage file in the report folder becomes ``SQLite file study.db (in this folder)``; one
    near it (at most two folders up) a path relative to it, ``journal file ../runs.log (relative
    to this folder)``; anything farther its kind and file name, ``SQLite file x.db (outside this
    folder)``. Server URLs (already masked) and relative labels are kept as they are.
    """
    if not label:
        return label
    match = _FILE_LABEL.match(label)
    if match is None:
        return label
    kind, path = match.group(1), Path(match.group(2))
    folder = Path(report_dir).expanduser().absolute()
    try:
        relative = Path(os.path.relpath(path, folder))
    except ValueError:  # another drive (Windows)
        return f"{kind} {path.name} (outside this folder)"
    ups = sum(1 for part in relative.parts if part == "..")
    if ups == 0:
        return f"{kind} {relative.as_posix()} (in this folder)"
    if ups <= _NEAR and len(folder.parts) - ups > 1:
        return f"{kind} {relative.as_posix()} (relative to this folder)"
    return f"{kind} {path.name} (outside this folder)"


def _dict_text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{k}={v}"
            if not isinstance(v, (dict, list))
            else f"{k}={json.dumps(v, sort_keys=True)}"
            for k, v in value.items()
        )
    return str(value)


def grid_text(grid: dict) -> str:
    parts = []
    for key in ("segments", "orders", "activations", "residual", "seeds"):
        if key in grid:
            values = grid[key]
            parts.append(
                f"{key} {', '.join(str(v) for v in values)}"
                if isinstance(values, (list, tuple))
                else f"{key} {values}"
            )
    for key in ("match", "preset"):
        if key in grid:
            parts.append(f"{key} {grid[key]}")
    extra = {
        k: v
        for k, v in grid.items()
        if k not in ("segments", "orders", "activations", "residual", "seeds", "match", "preset")
    }
    if extra:
        parts.append(_dict_text(extra))
    return "; ".join(parts)


def precision_text(frame: pd.DataFrame) -> str:
    """The precision(s) the trials trained in; records older than the field were float32."""
    used = sorted(frame["precision"].dropna().unique()) if "precision" in frame else []
    if not used:
        return "float32 (not recorded: trained before precision was recorded)"
    if len(used) == 1:
        return str(used[0])
    return f"mixed ({', '.join(used)}): trials trained in different precisions"


NOT_COUNTED = {"duplicate": "duplicates (never trained: another trial owns their grid point)"}


def counts_text(frame: pd.DataFrame) -> str:
    counts = status_counts(frame)
    parts = [f"{counts[s]} {s}" for s in COUNTED]
    parts += [f"{n} {NOT_COUNTED.get(s, s)}" for s, n in counts.items() if s not in COUNTED]
    return f"{len(frame)} in total: " + ", ".join(parts) + "."


def code_text(study) -> str:
    """Which code trained the finished trials: one digest of the spectrum sources, or several
    (a study resumed or reused across code changes), with their trial counts."""
    digests = Counter(
        (t.user_attrs.get("versions") or {}).get(CODE_KEY)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    )
    if not digests or set(digests) == {None}:
        return f"{NOT_RECORDED} (trials older than 2026-12-01 do not store the sources' digest)"
    shown = ", ".join(
        f"{digest or NOT_RECORDED} ({n} trials)" for digest, n in sorted(digests.items(), key=str)
    )
    if len(digests) == 1:
        return f"spectrum sources sha256 {shown}"
    return (
        f"finished trials ran on {len(digests)} versions of the spectrum sources, sha256 {shown}: "
        "differences across them are worth a repeat check (one point re-run on the newest code)"
    )


def provenance_blocks(
    study, frame: pd.DataFrame, usable: pd.DataFrame, storage_label: str | None
) -> list:
    command = study.user_attrs.get("command")
    train = study_fact(study, "train")
    library = {k: v for k, v in (study_fact(study, "versions") or {}).items() if k != CODE_KEY}
    items = [
        f"Study: {study.study_name} ({study_fact(study, 'kind') or 'kind not recorded'})",
        f"Dataset: {study_fact(study, 'dataset') or NOT_RECORDED}",
        f"Training budget: {_dict_text(train) if train else NOT_RECORDED}",
        f"Device: {study_fact(study, 'device') or NOT_RECORDED}",
        f"Precision: {precision_text(frame)}",
        f"Library versions: {_dict_text(library) if library else NOT_RECORDED}",
        f"Code: {code_text(study)}",
        f"Storage: {storage_label or 'not given'}",
    ]
    grid = study.user_attrs.get("grid")
    if isinstance(grid, dict) and grid:
        items.append(f"Grid: {grid_text(grid)}")
    reused = study.user_attrs.get("reused_from")
    if isinstance(reused, dict):
        items.append(
            f"Reused: {reused.get('trials', '?')} finished trials of study "
            f"{reused.get('study')!r} ({reused.get('storage')}) are the first round's, copied "
            "with their records instead of trained again (spectrum sweep --reuse)"
        )
    objectives = study.user_attrs.get("objectives")
    if objectives:
        items.append("Objectives: " + ", ".join(str(o) for o in objectives))
    blocks = [
        Heading("Provenance"),
        Paragraph("Command:"),
        Code(command if command else f"({NOT_RECORDED})"),
        Bullets(tuple(items)),
        Paragraph(
            f"Trials: {counts_text(frame)} {len(usable)} enter the statistics; "
            "the others are listed in 'Excluded trials' and left out."
        ),
    ]
    return blocks


EXCLUDED_COLUMNS = (
    "trial",
    "state",
    "status",
    "segments",
    "order",
    "activation",
    "residual",
    "seed",
    "error",
)


def excluded_blocks(excluded: pd.DataFrame) -> list:
    blocks = [Heading("Excluded trials")]
    if excluded.empty:
        return blocks + [Paragraph("None: every trial entered the statistics.")]
    rows = []
    for _, row in excluded.iterrows():
        reason = row.get("error")
        if not reason and row["status"] == "complete":
            reason = "complete but without the metric the report needs"
        cells = {c: fmt.text(row[c]) for c in EXCLUDED_COLUMNS}
        cells["seed"] = fmt.integer(row["seed"])
        cells["error"] = fmt.text(reason)
        rows.append(tuple(cells[c] for c in EXCLUDED_COLUMNS))
    caption = (
        "Trials that are running, queued, failed, diverged, pruned, infeasible or duplicates "
        "(never trained); they are listed here and left out of every statistic, table and "
        "figure above."
    )
    columns = ("trial", "state", "status", "g", "order", "activation", "residual", "seed", "error")
    return blocks + [Table(columns, tuple(rows), caption)]

"""The API's reports of stored studies: ``write_report(...)`` (``spectrum report``) and
``compare(...)`` (``spectrum compare``), each returning the path of the Markdown it wrote. A
study is a report folder holding ``study.db``, or a study name in an Optuna storage."""

from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from ..study.run import check_study_name
from ..study.storage import (
    describe_storage,
    load_existing_study,
    open_storage,
    report_folder_storage,
)


def write_report(
    target: str | Path,
    *,
    storage: str | None = None,
    study: str | None = None,
    out: str | Path | None = None,
    margin: float | None = None,
) -> Path:
    """Rebuild a stored study's report: tables, Pareto plots, curves, EDFs and the verdict
    (``spectrum report``).

    ``target``: a report directory holding ``study.db`` (what :func:`spectrum.sweep` writes into
    ``out``), or with ``storage`` (an Optuna storage URL or file) a study name, or a directory
    to write into. ``study`` names the study when the storage holds several. ``out``: where to
    write (default: the report directory, else ``reports/STUDY``). ``margin``: the equivalence
    margin in accuracy points (default: the study's, else 0.5).

    Returns:
        The path of the written report.md (report.html and the figures beside it).

    Raises:
        SpecError: a bad margin, or a target that is not a report directory without ``storage``.
        StorageError: an unreachable storage or an unknown study name (the command's messages).
    """
    if margin is not None and not margin > 0:
        raise SpecError(f"--margin must be > 0 accuracy points, got {margin:g}")
    out = Path(out) if out is not None else None
    target = str(target)
    target_path = Path(target)
    optuna_storage = report_folder_storage(target) if storage is None else None
    if storage is None:
        base_dir = target_path
    else:
        base_dir = out or Path("reports") / (study or target_path.name)
        study = study or (None if target_path.is_dir() else target)
    if study is not None:
        check_study_name(study, "study")
    if optuna_storage is None:
        optuna_storage = open_storage(storage, base_dir, heartbeat=False)
    loaded = load_existing_study(optuna_storage, study)
    if out is None and not target_path.is_dir():
        check_study_name(loaded.study_name, "study")
    out_dir = out or (target_path if target_path.is_dir() else Path("reports") / loaded.study_name)
    from ..report import write_report as write  # seconds of imports, as in api.runs.run_study

    label = describe_storage(storage, base_dir)
    return write(loaded, out_dir, storage_label=label, margin=margin)


def _open_compared(target: str | Path, storage: str | None, which: str):
    """A compared study: a report folder with study.db, or a study name in ``storage``."""
    path = Path(target)
    if storage is None:
        if not (path / "study.db").is_file():
            raise SpecError(
                f"study {which}: {path / 'study.db'} does not exist; give --storage-{which.lower()}"
            )
        return load_existing_study(open_storage(None, path, heartbeat=False), None), path.name
    name = None if path.is_dir() else str(target)
    loaded = load_existing_study(open_storage(storage, path, heartbeat=False), name)
    return loaded, loaded.study_name


def compare(
    a: str | Path,
    b: str | Path,
    *,
    storage_a: str | None = None,
    storage_b: str | None = None,
    out: str | Path | None = None,
    across_match: bool = False,
) -> Path:
    """Two sweeps over their shared configurations: differences, rank agreement and verdict
    flips (``spectrum compare``).

    ``a``, ``b``: report directories holding ``study.db``, or with ``storage_a`` /
    ``storage_b`` (Optuna storage URLs) study names. ``out``: where to write (default
    ``reports/compare-A-vs-B``, named after the folders or studies). ``across_match``: pair
    configurations across the studies' match values (one each), e.g. matched params on one
    proxy against matched live params on another.

    Returns:
        The path of the written compare.md (compare.html and the figures beside it).

    Raises:
        SpecError: a folder without study.db and no storage, or studies with nothing to compare.
        StorageError: an unreachable storage or an unknown study name (the command's messages).
    """
    study_a, label_a = _open_compared(a, storage_a, "A")
    study_b, label_b = _open_compared(b, storage_b, "B")
    from ..report.compare_report import write_compare  # seconds of imports

    out_dir = Path(out) if out is not None else Path("reports") / f"compare-{label_a}-vs-{label_b}"
    return write_compare(
        study_a, study_b, out_dir, label_a=label_a, label_b=label_b, across_match=across_match
    )

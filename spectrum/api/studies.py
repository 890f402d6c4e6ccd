"""The API's studies: ``sweep(...)`` and ``search(...)`` returning DataFrames, with progress through
an optional callback, and ``load_results`` from a report folder, a CSV, a storage URL or a study."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError

if TYPE_CHECKING:
    import optuna
    import pandas as pd

from .nets import Progress

# --------------------------------------------------------------------------------------------
# Studies: sweep, search, results


def _run(plan, argv, study, storage, out, device, report, progress, jobs, **options):
    """Run ``plan`` (:func:`spectrum.api.runs.run_study`); its workers, if any, run ``spectrum
    ARGV`` on the same study, storage, output directory and device. One row per trial."""
    from ..records import load_results as results_frame
    from .runs import run_study

    argv = [*argv, "--study", study, "--no-report", "--device", device]
    argv += ["--storage", str(storage)] if storage is not None else []
    argv += ["--out", str(out)] if out is not None else []
    finished = run_study(
        plan, study, storage, out, device, argv=argv, report=report, progress=progress, jobs=jobs,
        **options,
    )  # fmt: skip
    return results_frame(finished.study)


def sweep(
    *,
    study: str = "quickstart",
    storage: str | None = None,
    out: str | Path | None = None,
    device: str = "auto",
    report: bool = False,
    jobs: int | str = 1,
    reuse: str | Path | None = None,
    reuse_study: str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Train proxies across the spectrum as one resumable Optuna study (``spectrum sweep``).

    ``options`` are the command's flags as keywords, each defined once on the plan it sets
    (:func:`spectrum.study.grid.sweep_options`), with the command's defaults: ``segments``,
    ``orders``, ``activations``, ``residual``, ``seeds``, ``match``, ``preset``, ``width``,
    ``margin``, ``until_decided``, ``max_seeds``, ``seed_step``, ``latency``, the data's
    (``dataset``, ``data_dir``, ``val_size``) and the training's (``epochs``, ``batch_size``,
    ``lr``, ``weight_decay``, ``schedule``, ``augment``, ``compile``, ``train_subset``,
    ``precision``). Lists are Python sequences or the command's comma-separated text
    (``"1,4,C"``). The grid is segments x orders x activations x residual x seeds. Results go
    to ``storage`` (default: SQLite ``study.db`` in ``out``, default ``reports/STUDY``) and
    ``out/results.csv``; calling again with the same arguments resumes (finished points are not
    trained again). ``until_decided=True`` runs sequential seeds: ``seeds`` first, then
    ``seed_step`` more (default ``seeds``) per round, up to ``max_seeds`` (default 12), only for
    configurations still in an undecided comparison at the equivalence ``margin`` (accuracy
    points, default 0.5; stored on the study for its report). ``report=True`` also writes the
    report (the command's default; seconds of plotting). ``latency=False`` skips the latency
    measurement of each trial (its ``latency_ms`` stays empty). ``jobs``: worker processes, as
    ``--jobs`` (``"auto"``: one per CPU core); ``reuse`` and ``reuse_study``: start from another
    sweep's finished trials, as ``--reuse``. ``progress(event, data)`` is called as trials run
    (see :data:`Progress`; with workers: ``workers`` events with ``done`` and ``total``).

    Returns:
        One row per trial (results.csv): segments, order, activation, residual, seed, status,
        params, flops (multiply-adds per image), latency_ms (per batch), val_acc, test_acc
        (fractions in [0, 1]), wall_time_s, ...

    Raises:
        SpectrumError: bad arguments, data or storage, with the command's one-line messages.
    """
    from ..fields import command_args, unknown_keywords
    from ..study.grid import sweep_options, sweep_plan
    from .runs import reuse_source

    known = sweep_options()
    unknown_keywords(options, {opt.name for opt in known if opt.cli}, "sweep")
    source = reuse_source(reuse, reuse_study)
    plan = sweep_plan(options)
    argv = ["sweep", *command_args(known, options)]
    if source is not None:
        argv += ["--reuse", source.storage]
        argv += ["--reuse-study", reuse_study] if reuse_study else []
    return _run(plan, argv, study, storage, out, device, report, progress, jobs, reuse=source)


def search(
    *,
    study: str = "search",
    storage: str | None = None,
    out: str | Path | None = None,
    device: str = "auto",
    report: bool = False,
    jobs: int | str = 1,
    progress: Progress | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Search per-flow points of the spectrum with Optuna (``spectrum search``).

    ``options`` are the command's flags as keywords, each defined once on the plan it sets
    (:func:`spectrum.study.plan.search_options`), with the command's defaults. ``objectives``:
    any of ``accuracy`` (validation, maximized), ``params``, ``flops``, ``latency`` (minimized).
    ``segments``, ``orders``, ``activations``: choices for every flow (``[1, 4, "C"]`` or
    ``"1,4,C"``) or per flow (``{"entry": [1, 2], "exit": "C"}``, or the command's
    ``"exit=C"``); ``None`` takes the command's defaults. ``lr``: one value (not searched), a
    list of choices or a log-uniform range text ``"LOW:HIGH"``. ``prune_band`` (the front
    pruner's band, default 0.015) and ``confirm`` (seeds per front candidate after the search,
    0: off) as the command's ``--prune-band`` and ``--confirm``. ``max_*``: constraints
    (params; FLOPs as fvcore multiply-adds per image; inference ms per batch). ``trials``,
    ``sampler``, ``pruner``, ``seed``, ``widths``, ``repeats``, ``residual``, ``preset``,
    ``latency``, ``heartbeat_interval``, ``grace_period`` and the data's and training's options
    as :func:`sweep`. Runs until the study holds ``trials`` finished trials; start it in several
    processes on one ``storage`` to add workers, or give ``jobs``. Other arguments as
    :func:`sweep`.

    Returns:
        One row per trial (results.csv), with the sampled ``param_*`` columns.

    Raises:
        SpectrumError: bad arguments, data or storage, with the command's one-line messages.
    """
    from ..fields import command_args, unknown_keywords
    from ..study.plan import search_options, search_plan, storage_options

    known = search_options()
    unknown_keywords(options, {opt.name for opt in known if opt.cli}, "search")
    plan, heartbeat = search_plan(options), storage_options(options)
    argv = ["search", *command_args(known, options)]
    run = (study, storage, out, device, report, progress, jobs)
    return _run(plan, argv, *run, storage_options=heartbeat)


def load_results(
    path_or_storage: str | Path | optuna.Study,
    study: str | None = None,
) -> pd.DataFrame:
    """results.csv of a stored sweep or search, as a DataFrame (one row per trial).

    ``path_or_storage``: a report directory holding ``study.db`` (what :func:`sweep` writes into
    ``out``), a ``results.csv`` file, an Optuna storage URL or file (``sqlite:///...``,
    ``journal:...``, ``postgresql://...``), or an ``optuna.Study``. ``study`` names the study when
    the storage holds several.

    Raises:
        SpecError: a directory without study.db.
        StorageError: an unreachable storage or an unknown study name (the command's messages).
    """
    import pandas as pd

    from ..records import load_results as results_frame

    if hasattr(path_or_storage, "get_trials"):
        return results_frame(path_or_storage)
    from ..study.storage import load_existing_study, open_storage

    path = Path(path_or_storage)  # type: ignore[arg-type]
    if path.suffix == ".csv" and path.is_file():
        return pd.read_csv(path)
    if path.is_dir():
        if not (path / "study.db").exists():
            raise SpecError(f"{path / 'study.db'} does not exist; give --storage")
        storage = open_storage(None, path, heartbeat=False)
    else:
        storage = open_storage(str(path_or_storage), Path("."), heartbeat=False)
    return results_frame(load_existing_study(storage, study))

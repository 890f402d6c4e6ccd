"""The API's studies: ``sweep(...)`` and ``search(...)`` returning DataFrames, with progress through
an optional callback, and ``load_results`` from a report folder, a CSV, a storage URL or a study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..net.xception import FLOWS

if TYPE_CHECKING:
    import optuna
    import pandas as pd

from .nets import Progress

# --------------------------------------------------------------------------------------------
# Studies: sweep, search, results


def _events(progress: Progress | None):
    from ..study.trial import TrialEvents

    if progress is None:
        return TrialEvents()
    return TrialEvents(
        trial_started=lambda done, total, label: progress(
            "trial_started", {"done": done, "total": total, "label": label}
        ),
        step=lambda epoch, step, steps: progress(
            "step", {"epoch": epoch, "step": step, "steps": steps}
        ),
        epoch=lambda record: progress("epoch", dict(record.__dict__)),
        trial_finished=lambda record: progress("trial_finished", dict(record)),
    )


def _run_study(
    plan: Any,
    study: str,
    storage: str | None,
    out: str | Path | None,
    device: str,
    report: bool,
    progress: Progress | None,
    storage_options: dict | None = None,
    *,
    jobs: int | str = 1,
    reuse: str | None = None,
    reuse_study: str | None = None,
    argv: list[str] | None = None,
) -> pd.DataFrame:
    """Open, run (in this process, or ``jobs`` worker processes running ``argv``), save."""
    from ..records import load_results as results_frame
    from ..report.writer import write_study_report
    from ..study import workers
    from ..study.reuse import ReuseSource
    from ..study.run import open_study_run, save_results

    if reuse is None and reuse_study is not None:
        raise SpecError("--reuse-study needs --reuse (where the study to reuse is stored)")
    study_run = open_study_run(
        plan,
        study,
        storage,
        Path(out) if out is not None else None,
        device,
        command="spectrum python api",
        storage_options=storage_options,
        reuse=ReuseSource(reuse, reuse_study) if reuse is not None else None,
    )
    count = 1
    if str(jobs).strip() != "1" and argv is not None and not workers.is_worker():
        count = workers.resolve_jobs(str(jobs), study_run.device, study_run.prepare())
    if count > 1:
        finished = _run_workers(study_run, count, argv or [], progress)
    else:
        finished = study_run.run(_events(progress))
    save_results(finished, study_run.out_dir)
    if report:
        write_study_report(finished, study_run.out_dir, study_run.storage_label)
    return results_frame(finished)


def _run_workers(study_run, count: int, argv: list[str], progress: Progress | None):
    """``count`` worker processes of the study (``python -m spectrum ARGV --jobs 1``); returns
    the study once every worker has exited; ``progress("workers", {done, total})`` meanwhile."""
    import time

    from ..study import workers

    where = ["--study", study_run.name, "--out", str(study_run.out_dir), "--no-report"]
    argv = [*argv, *where, "--device", str(study_run.device)]

    def watch(processes) -> None:
        while any(process.poll() is None for process in processes):
            if progress is not None:
                done, known, _ = workers.study_progress(study_run.load(), sweep=True)
                progress("workers", {"done": done, "total": max(study_run.total, known)})
            time.sleep(1.0)

    workers.run_workers(
        argv,
        count,
        workers.worker_threads(count),
        watch,
        study_run.storage_label,
        "call again to resume",
    )
    return study_run.load()


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

    known = sweep_options()
    unknown_keywords(options, {opt.name for opt in known if opt.cli}, "sweep")
    plan = sweep_plan(options)
    argv = ["sweep", *command_args(known, options)]
    if storage is not None:
        argv += ["--storage", str(storage)]
    if reuse is not None:
        argv += ["--reuse", str(reuse), *(["--reuse-study", reuse_study] if reuse_study else [])]
    return _run_study(
        plan,
        study,
        storage,
        out,
        device,
        report,
        progress,
        jobs=jobs,
        reuse=str(reuse) if reuse is not None else None,
        reuse_study=reuse_study,
        argv=argv,
    )


def _space_part(value: Any, key: str) -> dict:
    """``segments``/``orders``/``activations`` for every flow, or ``{"entry": [...], ...}``."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        unknown = [flow for flow in value if flow not in FLOWS]
        if unknown:
            raise SpecError(
                f"search space {key}: {unknown[0]!r} names no flow; use one of {', '.join(FLOWS)}"
            )
        return {flow: {key: v} for flow, v in value.items()}
    return {key: value}


def search(
    *,
    objectives: str | Sequence[str] = "accuracy",
    trials: int = 20,
    sampler: str = "tpe",
    pruner: str = "auto",
    prune_band: float | None = None,
    confirm: int = 0,
    seed: int = 0,
    segments: Any = None,
    orders: Any = None,
    activations: Any = None,
    widths: str | Sequence[float] = "0.5,0.75,1.0",
    repeats: str | Sequence[int] = "1,2,3",
    residual: str | Sequence[str] = "on,off",
    lr: float | str | Sequence[float] = 0.1,
    max_params: int | None = None,
    max_flops: int | None = None,
    max_latency_ms: float | None = None,
    latency: bool = True,
    preset: str = "auto",
    dataset: str = "fashion-mnist",
    data_dir: str | Path | None = None,
    val_size: int = 5000,
    epochs: int = 4,
    batch_size: int = 128,
    weight_decay: float = 5e-4,
    schedule: str = "onecycle",
    augment: bool = False,
    compile: bool = False,
    train_subset: int | None = None,
    precision: str = "auto",
    study: str = "search",
    storage: str | None = None,
    out: str | Path | None = None,
    device: str = "auto",
    report: bool = False,
    heartbeat_interval: int = 10,
    grace_period: int = 30,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Search per-flow points of the spectrum with Optuna (``spectrum search``).

    ``objectives``: any of ``accuracy`` (validation, maximized), ``params``, ``flops``,
    ``latency`` (minimized). ``segments``, ``orders``, ``activations``: choices for every flow
    (``[1, 4, "C"]`` or ``"1,4,C"``) or per flow (``{"entry": [1, 2], "exit": "C"}``); ``None``
    takes the command's defaults. ``lr``: one value (not searched), a list of choices or a
    log-uniform range text ``"LOW:HIGH"``. ``prune_band`` (the front pruner's band, default
    0.015) and ``confirm`` (seeds per front candidate after the search, 0: off) as the command's
    ``--prune-band`` and ``--confirm``. ``max_*``: constraints (params; FLOPs as fvcore
    multiply-adds per image; inference ms per batch). Runs until the study holds ``trials``
    finished trials; start it in several processes on one ``storage`` to add workers. Other
    arguments as :func:`sweep`.

    Returns:
        One row per trial (results.csv), with the sampled ``param_*`` columns.

    Raises:
        SpectrumError: bad arguments, data or storage, with the command's one-line messages.
    """
    from ..cost.latency import LatencySettings
    from ..data import DataConfig
    from ..engine.train import TrainConfig
    from ..fields import build, flag_of
    from ..study.plan import search_plan, search_space

    flows = [_space_part(v, k) for v, k in ((segments, "segments"), (orders, "orders"))]
    flows.append(_space_part(activations, "activations"))
    space, base_lr = search_space(
        flows, dict(widths=widths, repeats=repeats, residual=residual, preset=preset, lr=lr)
    )
    values = {
        "epochs": epochs, "batch_size": batch_size, "lr": base_lr, "weight_decay": weight_decay,
        "schedule": schedule, "augment": augment, "compile": compile,
        "train_subset": train_subset, "precision": precision,
        "dataset": dataset, "data_dir": data_dir, "val_size": val_size,
    }  # fmt: skip
    plan = search_plan(
        dict(
            objectives=objectives,
            trials=trials,
            sampler=sampler,
            pruner=pruner,
            prune_band=prune_band,
            confirm=confirm,
            seed=seed,
            max_params=max_params,
            max_flops=max_flops,
            max_latency_ms=max_latency_ms,
        ),  # fmt: skip
        space,
        data=build(DataConfig, values, flag_of),
        train=build(TrainConfig, values, flag_of),
        latency=LatencySettings() if latency else None,
        where=lambda key: "--" + key.replace("_", "-"),
    )
    options = {"heartbeat_interval": heartbeat_interval, "grace_period": grace_period}
    return _run_study(plan, study, storage, out, device, report, progress, options)


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

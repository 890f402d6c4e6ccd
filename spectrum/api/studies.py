"""The API's studies: ``sweep(...)`` and ``search(...)`` returning DataFrames, with progress through
an optional callback, and ``load_results`` from a report folder, a CSV, a storage URL or a study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..net.segments import Segments, parse_segments_list
from ..net.xception import FLOWS
from ..options import ACTIVATIONS, MATCH_CHOICES, ORDERS, parse_choice, parse_list, parse_on_off

if TYPE_CHECKING:
    import optuna
    import pandas as pd

from .nets import Progress, SegmentsArg

# --------------------------------------------------------------------------------------------
# Studies: sweep, search, results


def _segments_list(value: SegmentsArg | Sequence[SegmentsArg], flag: str) -> tuple[Segments, ...]:
    text = value if isinstance(value, str) else ",".join(str(v) for v in _as_list(value))
    return tuple(parse_segments_list(str(text)))


def _as_list(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _choices(value: str | Sequence[str], choices: tuple[str, ...], flag: str) -> tuple[str, ...]:
    text = value if isinstance(value, str) else ",".join(str(v) for v in value)
    return parse_list(text, choices, flag)


def _on_off(value: bool | str | Sequence[bool | str], flag: str) -> tuple[bool, ...]:
    items = [("on" if v else "off") if isinstance(v, bool) else str(v) for v in _as_list(value)]
    return parse_on_off(",".join(items), flag)


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


def _train_and_data(
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    schedule: str,
    augment: bool,
    compile: bool,
    train_subset: int | None,
    precision: str,
    dataset: str,
    data_dir: str | Path | None,
    val_size: int,
):
    from ..data import data_config_from_flags
    from ..engine.train import train_config_from_flags

    train = train_config_from_flags(
        epochs, batch_size, lr, weight_decay, schedule, augment, compile, train_subset, precision
    )
    data = data_config_from_flags(dataset, data_dir, val_size)
    return train, data


def _run_study(
    plan: Any,
    study: str,
    storage: str | None,
    out: str | Path | None,
    device: str,
    report: bool,
    progress: Progress | None,
    storage_options: dict | None = None,
) -> pd.DataFrame:
    from ..records import load_results as results_frame
    from ..study.run import open_study_run, save_results, write_study_report

    study_run = open_study_run(
        plan,
        study,
        storage,
        Path(out) if out is not None else None,
        device,
        command="spectrum python api",
        storage_options=storage_options,
    )
    finished = study_run.run(_events(progress))
    save_results(finished, study_run.out_dir)
    if report:
        write_study_report(finished, study_run.out_dir, study_run.storage_label)
    return results_frame(finished)


def sweep(
    *,
    segments: SegmentsArg | Sequence[SegmentsArg] = "1,4,32,C",
    orders: str | Sequence[str] = "depthwise-first",
    activations: str | Sequence[str] = "none",
    residual: bool | str | Sequence[bool | str] = True,
    seeds: int = 1,
    until_decided: bool = False,
    max_seeds: int | None = None,
    seed_step: int | None = None,
    margin: float | None = None,
    match: str = "none",
    width: float = 1.0,
    preset: str = "auto",
    dataset: str = "fashion-mnist",
    data_dir: str | Path | None = None,
    val_size: int = 5000,
    epochs: int = 4,
    batch_size: int = 128,
    lr: float = 0.1,
    weight_decay: float = 5e-4,
    schedule: str = "onecycle",
    augment: bool = False,
    compile: bool = False,
    train_subset: int | None = None,
    precision: str = "auto",
    study: str = "quickstart",
    storage: str | None = None,
    out: str | Path | None = None,
    device: str = "auto",
    latency: bool = True,
    report: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Train proxies across the spectrum as one resumable Optuna study (``spectrum sweep``).

    The grid is segments x orders x activations x residual x seeds; lists are Python sequences
    or the command's comma-separated text (``"1,4,C"``). Results go to ``storage`` (default:
    SQLite ``study.db`` in ``out``, default ``reports/STUDY``) and ``out/results.csv``; calling
    again with the same arguments resumes (finished points are not trained again).
    ``until_decided=True`` runs sequential seeds: ``seeds`` first, then ``seed_step`` more
    (default ``seeds``) per round, up to ``max_seeds`` (default 12), only for configurations
    still in an undecided comparison at the equivalence ``margin`` (accuracy points, default
    0.5; stored on the study for its report). ``report=True``
    also writes the report (the command's default; seconds of plotting). ``latency=False`` skips
    the latency measurement of each trial (its ``latency_ms`` stays empty). ``epochs``,
    ``batch_size``, ``lr`` ... ``precision`` as the command's flags; ``train_subset`` trains on
    only the first N images. ``progress(event, data)`` is called as trials run (see
    :data:`Progress`).

    Returns:
        One row per trial (results.csv): segments, order, activation, residual, seed, status,
        params, flops (multiply-adds per image), latency_ms (per batch), val_acc, test_acc
        (fractions in [0, 1]), wall_time_s, ...

    Raises:
        SpectrumError: bad arguments, data or storage, with the command's one-line messages.
    """
    from ..cost.latency import LatencySettings
    from ..study.grid import SweepPlan, seed_schedule

    train, data = _train_and_data(
        epochs, batch_size, lr, weight_decay, schedule, augment, compile, train_subset,
        precision, dataset, data_dir, val_size,
    )  # fmt: skip
    plan = SweepPlan(
        segments=_segments_list(segments, "--segments"),
        orders=_choices(orders, ORDERS, "--orders"),
        activations=_choices(activations, ACTIVATIONS, "--activations"),
        residual=_on_off(residual, "--residual"),
        seeds=seeds,
        schedule=seed_schedule(seeds, until_decided, max_seeds, seed_step),
        margin=margin,
        match=parse_choice(match, MATCH_CHOICES, "--match"),
        preset=preset,
        width_multiplier=width,
        train=train,
        data=data,
        latency=LatencySettings(enabled=latency),
    )
    return _run_study(plan, study, storage, out, device, report, progress)


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
    log-uniform range text ``"LOW:HIGH"``. ``max_*``: constraints (params; FLOPs as fvcore
    multiply-adds per image; inference ms per batch). Runs until the study holds ``trials``
    finished trials; start it in several processes on one ``storage`` to add workers. Other
    arguments as :func:`sweep`.

    Returns:
        One row per trial (results.csv), with the sampled ``param_*`` columns.

    Raises:
        SpectrumError: bad arguments, data or storage, with the command's one-line messages.
    """
    from ..cost.latency import LatencySettings
    from ..study.plan import Constraints, SearchPlan
    from ..study.space import SearchSpace, merge_space_data

    if isinstance(lr, (int, float)) and not isinstance(lr, bool):
        base_lr, searched = float(lr), {}
    else:
        text = lr if isinstance(lr, str) else ",".join(str(v) for v in lr)
        if "," in text or ":" in text:
            base_lr, searched = 0.1, {"lr": text.strip()}
        else:
            try:
                base_lr, searched = float(text), {}
            except ValueError:
                raise SpecError(
                    f"--lr {lr!r}: give a number, a list (0.05,0.2) or a range LOW:HIGH"
                ) from None

    def text(value: Any) -> Any:
        return value if isinstance(value, str) else ",".join(str(v) for v in value)

    space = SearchSpace.from_dict(
        merge_space_data(
            _space_part(segments, "segments"),
            _space_part(orders, "orders"),
            _space_part(activations, "activations"),
            {
                "widths": text(widths),
                "repeats": text(repeats),
                "residual": text(residual),
                "preset": preset,
                **searched,
            },
        )
    )
    train, data = _train_and_data(
        epochs, batch_size, base_lr, weight_decay, schedule, augment, compile, train_subset,
        precision, dataset, data_dir, val_size,
    )  # fmt: skip
    names = objectives.split(",") if isinstance(objectives, str) else list(objectives)
    plan = SearchPlan(
        space=space,
        objectives=tuple(str(o).strip().lower() for o in names),
        constraints=Constraints(max_params, max_flops, max_latency_ms),
        trials=trials,
        sampler=sampler.strip().lower(),
        pruner=pruner.strip().lower(),
        seed=seed,
        train=train,
        data=data,
        latency=LatencySettings() if latency else None,
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

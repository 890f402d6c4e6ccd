"""The API's one trial: ``train(...)`` trains one network once (``spectrum train``), with keywords
made from the options declared once on :class:`~spectrum.net.net_options.NetOptions` (the net's
flags of ``spectrum train``), :class:`~spectrum.data.DataConfig` and
:class:`~spectrum.engine.train.TrainConfig`, and returns the trial's record. Under ``torchrun``
(``spectrum train --nproc-per-node N`` starts it) each process trains its part of the global
batch, as the command's do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data import DataConfig, load_dataset
from ..device import configure, resolve_device
from ..engine.device_data import device_data
from ..engine.distributed import (
    check_batch,
    launch_from_environment,
    main_rank_first,
    process_group,
    rank_device,
)
from ..engine.train import TrainConfig
from ..fields import Option, build, flag_of, options_of, unknown_keywords
from ..net.net_options import NetOptions
from ..net.xception import choose_preset
from ..records import TrialRecord
from ..study.trial import TrialSpec, fit_to_data, flow_label, run_trial
from .nets import Progress
from .runs import trial_events

TRAIN_EVENTS = {
    "trial_started": "done (0), total (1), label: the data are loaded, the net is built next",
    "step": "epoch, step, steps",
    "epoch": "epoch, train_loss, val_acc, seconds, images_per_s",
    "trial_finished": "the trial's record (what train returns)",
}
"""The ``progress(event, data)`` events of :func:`train` (those of
:data:`spectrum.api.runs.PROGRESS_EVENTS` that one trial has)."""


@dataclass(frozen=True)
class TrainSettings:
    """What :func:`train` was given, parsed: the net's options, the training's, the data's."""

    net: NetOptions
    train: TrainConfig
    data: DataConfig


def train_options() -> tuple[Option, ...]:
    """The keywords of :func:`train` besides ``preset``, ``seed``, ``device`` and ``progress``:
    the flags of ``spectrum train`` made from the net's, the data's and the training's fields."""
    found = (*options_of(NetOptions), *options_of(DataConfig), *options_of(TrainConfig))
    return tuple(opt for opt in found if opt.cli)


def train_settings(options: dict[str, Any]) -> TrainSettings:
    """``options`` (keyed by option name) parsed in the command's order, each with its flag's
    one-line message; a keyword no option has is refused."""
    unknown_keywords(options, {opt.name for opt in train_options()}, "train")
    net = NetOptions.parse(options)
    config = build(TrainConfig, options, flag_of)
    return TrainSettings(net, config, build(DataConfig, options, flag_of))


def train(
    *,
    preset: str = "auto",
    seed: int = 0,
    device: str = "auto",
    progress: Progress | None = None,
    **options: Any,
) -> TrialRecord:
    """Train one configuration once and return its record (``spectrum train``).

    ``options`` are the command's flags as keywords, with its defaults: the net's (``segments``,
    ``order``, ``activation``, ``residual``, ``width``), the data's (``dataset``, ``data_dir``,
    ``val_size``) and the training's (``epochs``, ``batch_size``, ``lr``, ``weight_decay``,
    ``schedule``, ``augment``, ``compile``, ``train_subset``, ``precision``); see
    :func:`train_options`. ``preset``: the network family (``auto``: the one that fits the
    data's images); the input and the classifier are fitted to the dataset. ``seed`` seeds the
    initialization and the data order. ``progress(event, data)`` is called as the trial runs
    (:data:`TRAIN_EVENTS`: ``trial_started``, ``step``, ``epoch``, ``trial_finished``). Under ``torchrun`` every
    process trains its part of the global batch and returns the record; only rank 0 reports
    progress, and the record names the ``processes``.

    Returns:
        The trial's record, a dict: ``status``, ``params``, ``flops`` (multiply-adds per
        image), ``latency_ms`` and ``train_step_ms`` (per batch), ``val_acc``, ``test_acc``
        (fractions in [0, 1]), ``wall_time_s``, ``device``, ``precision``, ``error`` (a failed
        trial), its coordinates and curve, ...

    Raises:
        SpectrumError: bad arguments or data, with the command's one-line messages.
    """
    settings = train_settings(options)
    launch = launch_from_environment()  # one process of a torchrun run; None in one process
    if launch is not None:
        check_batch(settings.train.batch_size, launch.world_size)
    torch_device = resolve_device(device) if launch is None else rank_device(launch, device)
    configure(torch_device)
    shown = progress if launch is None or launch.is_main else None
    events = trial_events(shown)
    with process_group(launch, torch_device) as ranks:
        with main_rank_first(ranks):
            splits = load_dataset(settings.data)
        net = fit_to_data(settings.net.config(choose_preset(preset, splits.image_size)), splits)
        label = (
            f"g={flow_label(net, 'segments')} {flow_label(net, 'order')} "
            f"act={flow_label(net, 'activation')} seed={seed}"
        )
        events.trial_started(0, 1, label)
        record = run_trial(
            TrialSpec(net, settings.train, seed),
            device_data(splits, torch_device, ranks),
            torch_device,
            dataset=splits.name,
            on_step=events.step if shown else None,
            on_epoch=events.epoch if shown else None,
        )
        if ranks is not None:
            record["processes"] = f"{ranks.world_size} ({ranks.backend})"
        events.trial_finished(record)
    return record

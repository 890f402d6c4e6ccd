"""``spectrum count`` and ``spectrum train``: one net at a time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from tqdm import tqdm

from ..api.trials import train as train_one
from ..api.trials import train_settings
from ..cost.latency import LatencySettings
from ..device import configure, resolve_device
from ..engine.distributed import check_batch, launch_from_environment, local_launch
from ..engine.train import EpochRecord
from ..errors import SpecError
from ..net.net_options import NetOptions
from ..net.presets import PRESETS
from ..net.segments import parse_segments_list
from ..net.xception import check_config
from ..options import MATCH_CHOICES, parse_choice
from .flags import (
    ACTIVATION,
    BASE_WIDTH,
    DATA,
    DEVICE,
    DEVICE_OPTION,
    NET,
    ORDER,
    PRECISION,
    PRESET,
    SEGMENTS,
    TRAINING,
    command,
    invoked_args,
    parse_precision,
    typer_option,
)
from .progress import TrialProgress, echo_table


def count(
    segments: str = SEGMENTS,
    preset: str = typer.Option("proxy-28", help=" | ".join(PRESETS)),
    order: str = ORDER,
    activation: str = ACTIVATION,
    match: str = typer.Option(
        "none",
        help="Scale widths to the g=C budget: none | params | flops | live-params | live-flops "
        "(live: only weights and multiply-adds that touch real input, not padding).",
    ),
    width: float = BASE_WIDTH,
    round_to_segments: bool = typer_option(NET["round_to_segments"]),
    by_flow: bool = typer.Option(False, "--by-flow", help="Add a per-flow breakdown."),
    latency: bool = typer.Option(True, "--latency/--no-latency", help="Measure latency."),
    batch_size: int | None = typer.Option(
        None, help="Batch size for latency measurements (default 64; 2 for xception)."
    ),
    device: str = DEVICE,
    precision: str = PRECISION,
    csv: Path | None = typer.Option(None, help="Also write the table to this CSV file."),
) -> None:
    """Params, FLOPs (fvcore: 1 multiply-add = 1 FLOP; conv, linear, batch norm, pooling),
    activations (elements of every conv output, one image) and latency for each g."""
    from spectrum.cost.table import count_table, spectrum_configs

    values = parse_segments_list(segments)
    match = parse_choice(match, MATCH_CHOICES, "--match")
    given = dict(
        order=order, activation=activation, width=width, round_to_segments=round_to_segments
    )
    base = NetOptions.parse(given).config(preset)  # at g = C: spectrum_configs moves it
    batch_size = batch_size or (2 if preset == "xception" else 64)
    if batch_size < 1:
        raise SpecError("--batch-size must be >= 1")
    configs = spectrum_configs(base, values, match)
    for config in configs:
        check_config(config)
    torch_device = resolve_device(device)
    configure(torch_device)
    precision = parse_precision(precision)
    settings = LatencySettings(batch_size=batch_size, precision=precision) if latency else None
    with tqdm(total=len(configs), desc="counting", unit="net", leave=False) as bar:
        table = count_table(
            configs, torch_device, settings, by_flow, on_row=lambda done, total: bar.update(1)
        )
    echo_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
        typer.echo(f"wrote {csv}")


@command(*DATA.values(), *TRAINING.values(), DEVICE_OPTION, before=tuple(NET.values()))
def train(
    preset: str = PRESET,
    seed: int = typer.Option(0, help="Seed for initialization and data order."),
    nproc_per_node: int = typer.Option(
        1,
        help="Train this one trial in N processes on this machine (torchrun, DDP; see the "
        "README); --batch-size is the global batch and must divide by N.",
    ),
    **values,
) -> None:
    """Train one configuration and print its numbers."""
    options = {name: value for name, value in values.items() if name != "device"}
    settings = train_settings(options)  # the flags' one-line messages, before any launch
    if nproc_per_node != 1 and launch_from_environment() is None:
        argv = invoked_args()
        at = argv.index("--nproc-per-node")
        command = local_launch(
            argv[:at] + argv[at + 2 :], nproc_per_node, settings.train.batch_size
        )
        raise typer.Exit(subprocess.run(command).returncode)
    launch = launch_from_environment()  # one process of a torchrun run; None in one process
    if launch is not None:
        try:
            check_batch(settings.train.batch_size, launch.world_size)
        except SpecError:
            if not launch.is_main:  # every rank finds it; rank 0 says it
                raise typer.Exit(2) from None
            raise
    bars = _TrialBars()  # drawn once the data are loaded, as the trial starts
    try:
        record = train_one(
            preset=preset, seed=seed, device=values["device"], progress=bars, **options
        )
    finally:
        bars.close()
    if launch is not None and not launch.is_main:  # only rank 0 prints
        return
    for name in (
        "status",
        "params",
        "flops",
        "latency_ms",
        "train_step_ms",
        "val_acc",
        "test_acc",
        "wall_time_s",
        "device",
        "precision",
        "processes",
        "error",
    ):
        if record.get(name) is not None:
            value = record[name]
            typer.echo(
                f"{name:>14}: {value:.4f}" if isinstance(value, float) else f"{name:>14}: {value}"
            )


class _TrialBars:
    """The API's trial events (:data:`spectrum.api.trials.TRAIN_EVENTS`, rank 0's under
    torchrun) drawn as :class:`TrialProgress` bars, made when the trial starts."""

    def __init__(self) -> None:
        self.progress: TrialProgress | None = None

    def __call__(self, event: str, data: dict) -> None:
        if event == "trial_started":
            self.progress = TrialProgress(total=data["total"])
        elif self.progress is None:
            return
        elif event == "step":
            self.progress.step(data["epoch"], data["step"], data["steps"])
        elif event == "epoch":
            self.progress.epoch(EpochRecord(**data))
        elif event == "trial_finished":
            self.progress.trial_finished(data)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()

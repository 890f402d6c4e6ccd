"""The ``spectrum`` command: thin typer commands that parse, validate and call into ``spectrum/``.

Every user mistake (a flag, a study file, a storage URL, a data file) ends in one line on stderr
and exit code 2; nothing already computed is lost because the library writes results as it goes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from tqdm import tqdm

from spectrum.errors import SpecError, SpectrumError

try:  # typer >= 0.20 vendors click; older releases use the click package
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Explore the spectrum between regular and depthwise separable convolutions.")


@app.callback()
def root() -> None:
    """Explore the spectrum between regular and depthwise separable convolutions (Xception)."""


def echo_table(frame, float_format: str = "{:.3f}") -> None:
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        typer.echo(frame.to_string(index=False, float_format=float_format.format))


@app.command()
def count(
    segments: str = typer.Option("1,4,32,C", help="Comma-separated g values; C = one per channel."),
    preset: str = typer.Option("proxy-28", help="xception | proxy-28 | proxy-32"),
    order: str = typer.Option("depthwise-first", help="depthwise-first | pointwise-first"),
    activation: str = typer.Option("none", help="Intermediate activation: none | relu | elu"),
    match: str = typer.Option("none", help="Scale widths to the g=C budget: none|params|flops"),
    width: float = typer.Option(1.0, help="Width multiplier of the base net."),
    round_to_segments: bool = typer.Option(False, "--round-to-segments",
                                           help="Round channels up to a multiple of g."),
    by_flow: bool = typer.Option(False, "--by-flow", help="Add a per-flow breakdown."),
    latency: bool = typer.Option(True, "--latency/--no-latency", help="Measure latency."),
    batch_size: int = typer.Option(64, help="Batch size for latency measurements."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    csv: Optional[Path] = typer.Option(None, help="Also write the table to this CSV file."),
) -> None:
    """Params, FLOPs (fvcore: 1 multiply-add = 1 FLOP) and latency for each g."""
    from spectrum.blocks import ACTIVATIONS, ORDERS, parse_choice
    from spectrum.complexity import LatencySettings
    from spectrum.counting import MATCH_CHOICES, count_table, spectrum_configs
    from spectrum.device import configure, resolve_device
    from spectrum.nets import NetConfig, check_config
    from spectrum.segments import parse_segments_list

    values = parse_segments_list(segments)
    match = parse_choice(match, MATCH_CHOICES, "--match")
    base = NetConfig.uniform("C", parse_choice(order, ORDERS, "--order"),
                             parse_choice(activation, ACTIVATIONS, "--activation"),
                             preset=preset, width_multiplier=width,
                             round_to_segments=round_to_segments)
    if batch_size < 1:
        raise SpecError("--batch-size must be >= 1")
    configs = spectrum_configs(base, values, match)
    for config in configs:
        check_config(config)
    torch_device = resolve_device(device)
    configure(torch_device)
    settings = LatencySettings(batch_size=batch_size) if latency else None
    with tqdm(total=len(configs), desc="counting", unit="net", leave=False) as bar:
        table = count_table(configs, torch_device, settings, by_flow,
                            on_row=lambda done, total: bar.update(1))
    echo_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
        typer.echo(f"wrote {csv}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every user error into one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="spectrum", standalone_mode=False)
    except SpectrumError as error:
        typer.echo(f"spectrum: error: {error}", err=True)
        return 2
    except click_exceptions.NoArgsIsHelpError as error:
        typer.echo(error.format_message())
        return 0
    except click_exceptions.UsageError as error:
        where = f"{error.ctx.command_path}: " if error.ctx else ""
        typer.echo(f"spectrum: error: {where}{error.format_message()}", err=True)
        return 2
    except click_exceptions.Abort:
        typer.echo("spectrum: interrupted; results so far are kept", err=True)
        return 130
    except click_exceptions.Exit as exit_:
        return exit_.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``spectrum`` command: the typer app, assembled from the commands in ``spectrum/commands``.

The console script (``spectrum``), ``python -m spectrum`` (how ``--jobs`` starts its workers and
``--nproc-per-node`` its ranks) and the checkout's ``cli.py`` all run :func:`main`.

Every user mistake (a flag, a study file, a storage URL, a data file) ends in one line on stderr
and exit code 2 (:func:`main`); nothing already computed is lost because the library writes
results as it goes.
"""

from __future__ import annotations

import sys

import typer

from .commands.bench import bench_app
from .commands.bounds import bound_numeric_flags
from .commands.flags import command_line, invoked_args
from .commands.nets import count, train
from .commands.reports import compare_command, dashboard, report_command
from .commands.studies import run, search, sweep
from .errors import SpectrumError

try:  # typer >= 0.20 vendors click; older releases use the click package
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as click_exceptions

__all__ = ["app", "command_line", "invoked_args", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Explore the spectrum between regular and depthwise separable convolutions.",
)


@app.callback()
def root() -> None:
    """Explore the spectrum between regular and depthwise separable convolutions (Xception)."""


# In the order ``spectrum --help`` lists them: one net, a study, reading studies, benchmarks.
app.command()(count)
app.command()(train)
app.command()(sweep)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.command()(dashboard)
app.command()(search)
app.command()(run)
app.add_typer(bench_app, name="bench")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every user error into one line and exit code 2."""
    command = typer.main.get_command(app)
    bound_numeric_flags(command)
    try:
        result = command.main(args=argv, prog_name="spectrum", standalone_mode=False)
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
    except typer.Abort:  # typer.Abort/Exit: click's in older typer, typer's own since 0.20
        typer.echo("spectrum: interrupted; results so far are kept", err=True)
        return 130
    except typer.Exit as exit_:
        return exit_.exit_code
    # Without standalone mode, a command's ``raise typer.Exit(code)`` comes back as its result.
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

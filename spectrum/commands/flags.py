"""The flags several commands share (typer options), their parsing, and the command line as
typed (stored on studies and reports).
"""

from __future__ import annotations

import inspect
import shlex
import sys
import typing
from pathlib import Path

import typer

from ..data import DataConfig
from ..device import PRECISIONS
from ..engine.train import TrainConfig
from ..fields import Option, options_of
from ..net.net_options import NetOptions
from ..options import parse_choice
from ..study.grid import SweepPlan
from ..study.storage import mask_url


def typer_option(opt: Option):
    """The typer option of an :class:`~spectrum.fields.Option` (its default, flags and help)."""
    return typer.Option(opt.default, *opt.decls, help=opt.help, envvar=opt.envvar)


def command(*options: Option, before: tuple[Option, ...] = ()):
    """Give a command the flags of ``options`` after its own parameters (and those of ``before``
    ahead of them): typer reads the signature made here, and calls the command with the options'
    values as ``**values``."""

    def wrap(function):
        hints = typing.get_type_hints(function)
        own = [
            param.replace(
                kind=inspect.Parameter.KEYWORD_ONLY,
                annotation=hints.get(param.name, param.annotation),
            )
            for param in inspect.signature(function).parameters.values()
            if param.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        taken = {param.name for param in own}
        first = [opt for opt in before if opt.cli and opt.name not in taken]
        taken |= {opt.name for opt in first}
        shown = [opt for opt in options if opt.cli and opt.name not in taken]

        def made(opts: list[Option]) -> list[inspect.Parameter]:
            return [
                inspect.Parameter(
                    opt.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=typer_option(opt),
                    annotation=opt.type,
                )
                for opt in opts
            ]

        function.__signature__ = inspect.Signature([*made(first), *own, *made(shown)])
        function.__annotations__ = {
            **{opt.name: opt.type for opt in first},
            **{param.name: param.annotation for param in own},
            **{opt.name: opt.type for opt in shown},
        }
        return function

    return wrap


def _group(cls) -> dict[str, Option]:
    return {opt.name: opt for opt in options_of(cls)}


TRAINING, DATA = _group(TrainConfig), _group(DataConfig)
NET = _group(NetOptions)  # one net's options (count, train; the API's xception and proxy)
# The shared flags of the commands that declare their parameters one by one (count, train,
# search, bench): each made from its one definition on TrainConfig, DataConfig, SweepPlan or
# NetOptions.
PRECISION = typer_option(TRAINING["precision"])
DATASET = typer_option(DATA["dataset"])
DATA_DIR = typer_option(DATA["data_dir"])
VAL_SIZE = typer_option(DATA["val_size"])
EPOCHS = typer_option(TRAINING["epochs"])
BATCH_SIZE = typer_option(TRAINING["batch_size"])
LR = typer_option(TRAINING["lr"])
WEIGHT_DECAY = typer_option(TRAINING["weight_decay"])
SCHEDULE = typer_option(TRAINING["schedule"])
AUGMENT = typer_option(TRAINING["augment"])
COMPILE = typer_option(TRAINING["compile"])
TRAIN_SUBSET = typer_option(TRAINING["train_subset"])
SEGMENTS = typer_option(_group(SweepPlan)["segments"])
# One net's op order and activation (count, train), in the vocabulary's words.
ORDER = typer_option(NET["order"])
ACTIVATION = typer_option(NET["activation"])
PRESET = typer_option(_group(SweepPlan)["preset"])
# count's --width: its base net's (at g = C), as a sweep's, which --match scales.
BASE_WIDTH = typer_option(_group(SweepPlan)["width"])
MARGIN = typer_option(_group(SweepPlan)["margin"])

# The options of running a study (sweep, search, run); the Python API takes them as keywords.
DEVICE_OPTION = Option("device", "device", "auto", "auto | cpu | cuda | cuda:N", str)
DEVICE = typer_option(DEVICE_OPTION)
JOBS_OPTION = Option(
    "jobs",
    "jobs",
    "auto",
    "Worker processes on this machine, sharing the study's storage and the CPU cores "
    "(cores/N threads each, or SPECTRUM_THREADS). auto: one one-thread worker per core on "
    "the CPU (at most the trials left), 1 on a GPU.",
    str,
    envvar="SPECTRUM_JOBS",
)
JOBS = typer_option(JOBS_OPTION)
REUSE_OPTION = Option(
    "reuse",
    "reuse",
    None,
    "Start a new study from the finished trials of another sweep made with the same "
    "settings (a report folder, or its storage file or URL): its first round is copied, not "
    "trained again.",
    str | None,
)
REUSE_STUDY_OPTION = Option(
    "reuse_study",
    "reuse_study",
    None,
    "With --reuse: the study to reuse (default: the only one there).",
    str | None,
)
REUSE, REUSE_STUDY = typer_option(REUSE_OPTION), typer_option(REUSE_STUDY_OPTION)
OUT_OPTION = Option("out", "out", None, "Output directory (default reports/STUDY).", Path | None)
REPORT_OPTION = Option(
    "report", "report", True, "Write the report at the end.", bool, decls=("--report/--no-report",)
)


def run_options(study: str, study_help: str, storage_help: str) -> tuple[Option, ...]:
    """The options of running a study (sweep, search): its name and storage, with the command's
    default name and its words for them, then --out, --device, --report and --jobs."""
    return (
        Option("study", "study", study, study_help, str),
        Option("storage", "storage", None, storage_help, str | None),
        OUT_OPTION,
        DEVICE_OPTION,
        REPORT_OPTION,
        JOBS_OPTION,
    )


def parse_precision(text: str) -> str:
    return parse_choice(text, PRECISIONS, "--precision")


def invoked_args() -> list[str]:
    """The running command's arguments after ``spectrum`` (``["sweep", "--seeds", "3", ...]``),
    rebuilt from what click parsed: the command path, then every parameter given on the command
    line. Unlike ``sys.argv`` it is right however the CLI was started (a shell, ``main(argv)``,
    a test runner); outside a command it falls back to ``sys.argv[1:]``."""
    try:  # typer >= 0.20 vendors click; older releases use the click package
        from typer._click.core import ParameterSource
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.core import ParameterSource
        from click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return sys.argv[1:]
    path, outer = [], ctx
    while outer.parent is not None:
        path.insert(0, outer.info_name)
        outer = outer.parent
    given = (ParameterSource.COMMANDLINE, ParameterSource.PROMPT)
    positional: list[str] = []
    options: list[str] = []
    for param in ctx.command.params:
        if param.name is None or ctx.get_parameter_source(param.name) not in given:
            continue
        value = ctx.params[param.name]
        values = list(value) if param.multiple or param.nargs != 1 else [value]
        if param.param_type_name == "argument":
            positional += [str(v) for v in values]
        elif getattr(param, "is_flag", False) and not getattr(param, "count", False):
            flag = param.opts if value else param.secondary_opts
            options += flag[:1]
        else:
            for item in values:
                options += [param.opts[0], str(item)]
    return [*path, *positional, *options]


def command_line() -> str:
    """The running command (:func:`invoked_args`) with any storage password masked: it is
    stored on studies and in reports."""
    return "spectrum " + " ".join(shlex.quote(mask_url(arg)) for arg in invoked_args())

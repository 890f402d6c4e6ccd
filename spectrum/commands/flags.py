"""The flags several commands share (typer options), their parsing, and the command line as
typed (stored on studies and reports).
"""

from __future__ import annotations

import shlex
import sys

import typer

from ..device import PRECISIONS
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..options import parse_choice, parse_on_off
from ..study.reuse import ReuseSource
from ..study.storage import mask_url

# Shared by every command that runs a model (count, train, sweep, search, bench).
PRECISION = typer.Option(
    "auto",
    help="auto (bfloat16 where the GPU or CPU computes it "
    "natively, else float32) | float32 | bfloat16",
)


# Options shared by the commands that train (train, sweep, search).
DATASET = typer.Option(
    "fashion-mnist", help="fashion-mnist | cifar10 | cifar100 | imagefolder:PATH | synthetic"
)
DATA_DIR = typer.Option(
    None,
    help="Directory holding the dataset files (else $SPECTRUM_DATA, "
    "the system copy, the user cache).",
)
EPOCHS = typer.Option(TrainConfig.epochs, help="Training epochs per trial.")
BATCH_SIZE = typer.Option(TrainConfig.batch_size, help="Training batch size.")
LR = typer.Option(TrainConfig.lr, help="Peak learning rate (SGD, Nesterov momentum).")
WEIGHT_DECAY = typer.Option(TrainConfig.weight_decay, help="Weight decay (not on BN or biases).")
SCHEDULE = typer.Option(TrainConfig.schedule, help="onecycle | cosine")
AUGMENT = typer.Option(
    TrainConfig.augment,
    "--augment/--no-augment",
    help="Random crop (and flip where sensible) on the device.",
)
COMPILE = typer.Option(False, "--compile", help="torch.compile the model for training.")
TRAIN_SUBSET = typer.Option(None, help="Train on only the first N training images.")
VAL_SIZE = typer.Option(5000, help="Validation images held out of the training set.")
DEVICE = typer.Option("auto", help="auto | cpu | cuda | cuda:N")
SEGMENTS = typer.Option("1,4,32,C", help="Comma-separated g values; C = one segment per channel.")
PRESET = typer.Option(
    "auto",
    help="auto (proxy-28 for 28px data, else proxy-32) | proxy-28 | proxy-28s | proxy-32 | xception",
)
MARGIN = typer.Option(
    None,
    help="Equivalence margin in accuracy points (default 0.5), stored on the study: within it "
    "a difference is 'equivalent'; a sequential sweep stops on it.",
)
JOBS = typer.Option(
    "auto",
    envvar="SPECTRUM_JOBS",
    help="Worker processes on this machine, sharing the study's storage and the CPU cores "
    "(cores/N threads each, or SPECTRUM_THREADS). auto: one one-thread worker per core on "
    "the CPU (at most the trials left), 1 on a GPU.",
)


def parse_precision(text: str) -> str:
    return parse_choice(text, PRECISIONS, "--precision")


def parse_residual(text: str) -> tuple[bool, ...]:
    return parse_on_off(text, "--residual")


REUSE = typer.Option(
    None,
    "--reuse",
    help="Start a new study from the finished trials of another sweep made with the same "
    "settings (a report folder, or its storage file or URL): its first round is copied, not "
    "trained again.",
)
REUSE_STUDY = typer.Option(
    None, "--reuse-study", help="With --reuse: the study to reuse (default: the only one there)."
)


def reuse_source(storage: str | None, study: str | None) -> ReuseSource | None:
    if storage is None:
        if study is not None:
            raise SpecError("--reuse-study needs --reuse (where the study to reuse is stored)")
        return None
    return ReuseSource(storage, study)


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

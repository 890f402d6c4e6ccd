"""Options declared once, on the fields of the typed configs and plans.

A field of :class:`~spectrum.engine.train.TrainConfig`, :class:`~spectrum.data.DataConfig` or
:class:`~spectrum.study.grid.SweepPlan` that the user may set carries ``metadata=option(help)``:
its name, type and default are the field's own, its help and parser are given here once. From
those fields :func:`options_of` makes the :class:`Option` records that the command line turns into
flags (``spectrum/commands/flags.py``), that the Python API takes as keywords (``spectrum.api``)
and that :func:`build` turns back into the config, with one parser and one message per option
whichever front door the value came through. A study file's tables are the same fields
(``spectrum.study.studyfile``). Torch-free.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

# parse(value, where) -> the field's value: value as typed on the command line (text) or given
# by the API or a study file (a list, a bool, a number); ``where`` names the flag or the key.
Parser = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Option:
    """One option: the API keyword ``name`` and the flag ``--name`` (dashes for underscores)."""

    name: str
    field: str  # the config's field it sets
    default: Any  # as the command line shows it (a list as its comma-separated text)
    help: str
    type: Any  # the command line's type
    parse: Parser | None = None
    decls: tuple[str, ...] = ()  # typer's declarations when not just ``--name``
    envvar: str | None = None
    cli: bool = True  # False: a study file's key only

    @property
    def flag(self) -> str:
        return self.decls[0].split("/")[0] if self.decls else "--" + self.name.replace("_", "-")


def option(
    help: str | Callable[[], str],
    *,
    name: str | None = None,
    parse: Parser | None = None,
    decls: tuple[str, ...] = (),
    shown: Any = dataclasses.MISSING,
    cli_type: Any = None,
    envvar: str | None = None,
    cli: bool = True,
) -> dict:
    """A field's ``metadata`` that makes it an option (``help`` may be a function, read late).

    ``name``: the keyword and flag when not the field's name; ``shown``: the default as the
    command line shows it when not the field's default; ``cli_type``: the command line's type
    when not the field's (``str`` for a list typed as comma-separated text)."""
    return {
        "option": {
            "help": help,
            "name": name,
            "parse": parse,
            "decls": decls,
            "shown": shown,
            "cli_type": cli_type,
            "envvar": envvar,
            "cli": cli,
        }
    }


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"option {field.name} has no default")


def _text(item: Any) -> str:
    if isinstance(item, bool):
        return "on" if item else "off"
    return str(item)


def options_of(cls: type) -> tuple[Option, ...]:
    """The options of dataclass ``cls``, in field order."""
    hints = typing.get_type_hints(cls)
    found = []
    for field in dataclasses.fields(cls):
        meta = field.metadata.get("option")
        if meta is None:
            continue
        text = meta["help"]() if callable(meta["help"]) else meta["help"]
        default = _default(field) if meta["shown"] is dataclasses.MISSING else meta["shown"]
        if isinstance(default, tuple) and meta["cli_type"] is str:  # the flag's text: 1,4,C / on
            default = ",".join(_text(item) for item in default)
        found.append(
            Option(
                name=meta["name"] or field.name,
                field=field.name,
                default=default,
                help=text,
                type=meta["cli_type"] or hints[field.name],
                parse=meta["parse"],
                decls=meta["decls"],
                envvar=meta["envvar"],
                cli=meta["cli"],
            )
        )
    return tuple(found)


def field_values(
    options: tuple[Option, ...], values: Mapping[str, Any], where: Callable[[Option], str]
) -> dict[str, Any]:
    """The config fields that ``values`` (keyed by option name) set, each parsed where given."""
    out = {}
    for opt in options:
        if opt.name not in values:
            continue
        value = values[opt.name]
        out[opt.field] = opt.parse(value, where(opt)) if opt.parse is not None else value
    return out


def build(cls: type, values: Mapping[str, Any], where: Callable[[Option], str], **fixed) -> Any:
    """``cls`` from option values (missing ones take the field's default) and ``fixed`` fields."""
    return cls(**field_values(options_of(cls), values, where), **fixed)


def flag_of(opt: Option) -> str:
    """Name a value by its flag (the command line and the Python API)."""
    return opt.flag


def unknown_keywords(given: Mapping[str, Any], known: set[str], what: str) -> None:
    """A SpecError for a keyword no option of ``what`` has."""
    extra = sorted(set(given) - known)
    if extra:
        raise SpecError(f"{what}: unknown option {extra[0]!r} (known: {', '.join(sorted(known))})")


def command_args(options: tuple[Option, ...], values: Mapping[str, Any]) -> list[str]:
    """The flags that give ``values`` (keyed by option name) on the command line: how the
    Python API starts ``--jobs`` workers, which run the command."""
    args: list[str] = []
    for opt in options:
        value = values.get(opt.name)
        if value is None or not opt.cli:
            continue
        if isinstance(value, bool) and opt.decls:
            on, _, off = opt.decls[0].partition("/")
            if value or off:
                args.append(on if value else off)
            continue
        if _repeatable(opt):  # one flag per item; choices per flow as FLOW=LIST
            given = value.items() if isinstance(value, Mapping) else [(None, value)]
            for key, part in given:
                texts = [part] if isinstance(part, str) or key else list(part)
                for text in texts:
                    text = _joined(text)
                    args += [opt.flag, text if key is None else f"{key}={text}"]
            continue
        args += [opt.flag, _joined(value)]
    return args


def _joined(value: Any) -> str:
    """A value as its flag's text: a list comma-separated."""
    if isinstance(value, (list, tuple)):
        return ",".join(_text(item) for item in value)
    return _text(value)


def _repeatable(opt: Option) -> bool:
    """Whether the flag may be given several times (typed ``list[...]`` on the command line)."""
    kinds = typing.get_args(opt.type) if typing.get_origin(opt.type) is not list else (opt.type,)
    return any(typing.get_origin(kind) is list for kind in kinds)

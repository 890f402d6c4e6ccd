"""Study files: one TOML schema for a ready-made study (a sweep or a search), validated on load.

    [study]                      # name (default: the file's stem), kind = "sweep" | "search",
    name = "fig10-activation"    # description, device, storage (default: SQLite in reports/NAME)
    kind = "sweep"
    [data]                       # spectrum.data.DataConfig: name, data_dir, val_size, split_seed
    name = "fashion-mnist"
    [train]                      # spectrum.engine.train.TrainConfig: epochs, batch_size, lr, ...
    epochs = 2
    [sweep]                      # segments, orders, activations, residual, seeds, match, preset,
    segments = ["C"]             # width_multiplier, middle_repeats; sequential seeds:
    activations = ["none", "relu", "elu"]   # until_decided, max_seeds, seed_step; and the
    seeds = 3                    # equivalence margin (accuracy points)
    [search]                     # kind = "search" only: the plan's keys (objectives, trials,
    objectives = ["accuracy", "flops"]   # sampler, pruner, max_flops, ...: search_options())
    trials = 30                  # and the space's keys, here or in their own table:
    [search.space]               # the flags' keys and values (spectrum.study.space_options):
    segments = [1, 4, "C"]       # every flow, or {exit = ["C"]} / ["1,4,C", "exit=C"] per flow
    exit = {orders = ["depthwise-first"]}   # one flow's choices
    lr = "0.01:0.5"              # one value (the training's), choices or a range LOW:HIGH

An unknown key or a value of the wrong type is a one-line :class:`SpecError` naming the file and
the key. ``overrides`` (``--set train.epochs=3``, or just ``epochs=3`` when unambiguous) are
applied to the parsed table before validation, so they are checked the same way.
"""

from __future__ import annotations

import tomllib
import typing
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

from ..cost.latency import LatencySettings
from ..data import DataConfig, parse_dataset_name
from ..engine.train import TrainConfig
from ..errors import SpecError
from ..fields import Option, options_of
from .grid import SEQUENTIAL, SweepPlan
from .grid import sweep_plan as options_sweep_plan
from .plan import PLAN_KEYS, SearchPlan, search_plan
from .space import SPACE_KEYS
from .space_options import space_of

KINDS = ("sweep", "search")
STUDY_KEYS = {"name": str, "kind": str, "description": str, "device": str, "storage": str}
SECTIONS = ("study", "data", "train", "latency", "sweep", "search")


@dataclass(frozen=True)
class Study:
    """A loaded, validated study file."""

    name: str
    kind: str
    path: Path
    description: str = ""
    device: str = "auto"
    storage: str | None = None
    sweep: SweepPlan | None = None
    search: SearchPlan | None = None  # for kind = "search"


def type_name(kind) -> str:
    return {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
        list: "a list",
    }.get(kind, str(kind))


def check_value(value, kind, where: str):
    """``value`` converted to ``kind`` if it is of that type, else a SpecError naming ``where``."""
    origin = typing.get_origin(kind)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return check_value(value, options[0], where)
    if origin in (tuple, list):
        kind = list
    ok = {
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        bool: isinstance(value, bool),
        str: isinstance(value, str),
        list: isinstance(value, list),
    }.get(kind)
    if ok is None:
        if isinstance(value, (str, int, float, bool, list)):
            return value
        raise SpecError(f"{where} has an unsupported value {value!r}")
    if not ok:
        raise SpecError(f"{where} must be {type_name(kind)}, got {value!r}")
    return float(value) if kind is float else value


def build(cls, table: dict, where: str, skip: tuple[str, ...] = ()):
    """Instantiate dataclass ``cls`` from ``table``, checking keys and types."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.name not in skip and not is_dataclass(hints[f.name])}
    for key in table:
        if key not in known:
            raise SpecError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    values = {key: check_value(value, hints[key], f"{where}.{key}") for key, value in table.items()}
    for f in fields(cls):
        if f.name in values and typing.get_origin(hints[f.name]) is tuple:
            values[f.name] = tuple(values[f.name])
    try:
        return cls(**values)
    except SpecError as error:  # a value of the right type but out of range: name the file
        raise SpecError(f"{where}: {error}") from None


def parse_value(text: str):
    """A ``--set`` value: TOML syntax (``3``, ``0.1``, ``true``, ``["C"]``) or a bare string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(table: dict, overrides: list[str], source: str) -> dict:
    for override in overrides:
        key, sep, text = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SpecError(f"--set {override!r}: use KEY=VALUE, e.g. --set train.epochs=3")
        if "." in key:
            section, _, name = key.partition(".")
        else:
            owners = [s for s in SECTIONS if isinstance(table.get(s), dict) and key in table[s]]
            if len(owners) != 1:
                raise SpecError(
                    f"--set {key}: name the section, e.g. --set train.{key}=... "
                    f"({'ambiguous' if owners else 'not in ' + source})"
                )
            section, name = owners[0], key
        if section not in SECTIONS:
            raise SpecError(
                f"--set {key}: unknown section {section!r} (known: {', '.join(SECTIONS)})"
            )
        table.setdefault(section, {})[name] = parse_value(text.strip())
    return table


def sweep_keys() -> dict[str, tuple[Option, object]]:
    """A study file's [sweep] keys: the plan's fields that are options, and the sequential seeds'
    options; each with its option and its type."""
    hints = typing.get_type_hints(SweepPlan)
    keys = {opt.field: (opt, hints[opt.field]) for opt in options_of(SweepPlan)}
    keys.update({opt.name: (opt, opt.type) for opt in SEQUENTIAL})
    return keys


def sweep_plan(
    table: dict, data: DataConfig, train: TrainConfig, latency: LatencySettings, where: str
) -> SweepPlan:
    keys = sweep_keys()
    for key, value in table.items():
        if key not in keys:
            raise SpecError(f"{where}: unknown key {key!r} (known: {', '.join(keys)})")
        check_value(value, keys[key][1], f"{where}.{key}")
    values = {keys[key][0].name: value for key, value in table.items()}
    return options_sweep_plan(
        values, lambda opt: f"{where}.{opt.field}", data=data, train=train, latency=latency
    )


def search_settings(
    table: dict,
    data: DataConfig,
    train: TrainConfig,
    latency: LatencySettings,
    source: str,
    train_lr_given: bool = False,
) -> SearchPlan:
    """A ``[search]`` table: the plan's keys, and the space's keys (those of the flags, read by
    :func:`~spectrum.study.space_options.space_of`) in the table or in its ``[search.space]``.
    One ``lr`` is the training's learning rate, as ``--lr 0.05`` is (``[train].lr``: give it
    once); choices or a range are searched."""
    where = f"{source} [search]"
    known = (*PLAN_KEYS, *SPACE_KEYS, "space")
    for key in table:
        if key not in known:
            raise SpecError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    inline = {key: value for key, value in table.items() if key in SPACE_KEYS}
    space_where = where
    if "space" in table:
        if inline:
            raise SpecError(
                f"{where}: give the space as a [space] table or as keys of the section, not "
                f"both ({', '.join(sorted(inline))})"
            )
        inline, space_where = table["space"], f"{source} [search.space]"
        if not isinstance(inline, dict):
            raise SpecError(f"{where}.space must be a table ([search.space])")
    space, lr = space_of(inline, lambda opt: f"{space_where}.{opt.name}", space_where)
    if lr is not None:
        if train_lr_given and lr != train.lr:
            raise SpecError(
                f"{space_where}.lr: one value is the training's learning rate, which [train].lr "
                f"sets to {train.lr:g}; give it once (or choices / a range LOW:HIGH to search)"
            )
        try:
            train = replace(train, lr=lr)
        except SpecError as error:
            raise SpecError(f"{space_where}.lr: {error}") from None
    plan = {key: value for key, value in table.items() if key in PLAN_KEYS}
    try:
        return search_plan(
            plan, lambda opt: opt.name, space=space, data=data, train=train, latency=latency
        )
    except SpecError as error:
        raise SpecError(f"{where}: {error}") from None


def load_study(path: str | Path, overrides: list[str] | None = None) -> Study:
    """Read, override and validate a study file."""
    path = Path(path)
    source = str(path)
    try:
        table = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"study file {source} does not exist (see studies/ for examples)") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"study file {source} is not valid TOML: {error}") from None
    table = apply_overrides(table, list(overrides or []), source)
    for section, value in table.items():
        if section not in SECTIONS:
            raise SpecError(
                f"{source}: unknown section or key {section!r} (known: {', '.join(SECTIONS)})"
            )
        if not isinstance(value, dict):
            raise SpecError(f"{source}: {section} must be a table ([{section}])")
    head = table.get("study", {})
    for key, value in head.items():
        if key not in STUDY_KEYS:
            raise SpecError(
                f"{source} [study]: unknown key {key!r} (known: {', '.join(STUDY_KEYS)})"
            )
        check_value(value, STUDY_KEYS[key], f"{source} [study].{key}")
    kind = head.get("kind", "sweep")
    if kind not in KINDS:
        raise SpecError(f"{source} [study].kind: {kind!r} is not one of: {', '.join(KINDS)}")
    data_table = dict(table.get("data", {}))
    if "name" in data_table:
        data_table["name"] = parse_dataset_name(
            check_value(data_table["name"], str, f"{source} [data].name")
        )
    data = build(DataConfig, data_table, f"{source} [data]")
    train = build(TrainConfig, table.get("train", {}), f"{source} [train]")
    latency = build(LatencySettings, table.get("latency", {}), f"{source} [latency]")
    study = Study(
        name=head.get("name", path.stem),
        kind=kind,
        path=path,
        description=head.get("description", ""),
        device=head.get("device", "auto"),
        storage=head.get("storage"),
    )
    if kind == "sweep":
        if "search" in table:
            raise SpecError(f"{source}: a sweep study has no [search] section")
        plan = sweep_plan(dict(table.get("sweep", {})), data, train, latency, f"{source} [sweep]")
        return replace(study, sweep=plan)
    if "sweep" in table:
        raise SpecError(f"{source}: a search study has no [sweep] section")

    search = table.get("search", {})
    lr_given = "lr" in table.get("train", {})
    settings = search_settings(search, data, train, latency, source, lr_given)
    return replace(study, search=settings)

"""One network's options are declared once (spectrum.net.net_options.NetOptions): the Python API's
keywords (xception, proxy, match_width) and the flags of ``spectrum train`` and ``spectrum count``
are its fields, and every field reaches the NetConfig. A field added to NetOptions but not to a
front door fails here."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import typer

import spectrum
from spectrum import cli
from spectrum.net.net_options import NetOptions, net_options
from spectrum.net.presets import PRESETS, Preset

FIELDS = [field.name for field in dataclasses.fields(NetOptions)]
DEFAULTS = {field.name: field.default for field in dataclasses.fields(NetOptions)}
PRESET_FIELDS = {field.name for field in dataclasses.fields(Preset)}
COMMAND = typer.main.get_command(cli.app)

# A value other than the default for every option: as the API takes it, as a flag gives it.
CHANGED = {
    "segments": (4, "4"),
    "entry": (8, None),
    "middle": (2, None),
    "exit": (16, None),
    "order": ("pointwise-first", "pointwise-first"),
    "activation": ("relu", "relu"),
    "residual": (False, "off"),
    "width": (0.5, "0.5"),
    "num_classes": (7, None),
    "in_channels": (3, None),
    "image_size": (32, None),
    "middle_repeats": (1, None),
    "dropout": (0.25, None),
    "round_to_segments": (True, None),
}


def keywords(function) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(function).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    return dict(parameters)


def flags(command: str) -> dict[str, object]:
    return {param.opts[0]: param for param in COMMAND.commands[command].params}


def test_the_api_keywords_are_the_net_options_with_their_defaults():
    xception = keywords(spectrum.xception)
    assert list(xception) == FIELDS
    for name, parameter in xception.items():  # None: the xception preset's value, written out
        expected = DEFAULTS[name]
        if expected is None and name in PRESET_FIELDS:
            expected = getattr(PRESETS["xception"], name)
        assert parameter.default == expected, name
    proxy = keywords(spectrum.proxy)
    assert list(proxy) == ["preset", *FIELDS]
    assert {name: proxy[name].default for name in FIELDS} == DEFAULTS
    matching = inspect.signature(spectrum.match_width).parameters
    shared = [name for name in matching if name in DEFAULTS and name != "segments"]
    assert shared and all(matching[name].default == DEFAULTS[name] for name in shared)


def test_every_cli_option_is_a_flag_of_train_made_from_its_field():
    train = flags("train")
    for opt in net_options():
        if not opt.cli:  # the Python API's only
            assert opt.flag not in train, opt.flag
            continue
        assert opt.flag in train, f"spectrum train has no {opt.flag}"
        assert (train[opt.flag].help, train[opt.flag].default) == (opt.help, opt.default)
    names = [param.name for param in COMMAND.commands["train"].params]
    cli_names = [opt.name for opt in net_options() if opt.cli]
    assert names[: len(cli_names)] == cli_names  # the net's flags first, in field order


def test_count_shares_its_net_flags_with_the_options():
    count = flags("count")
    for opt in net_options():
        if opt.flag in count and opt.name not in ("segments", "width"):  # count's: lists, base
            assert (count[opt.flag].help, count[opt.flag].default) == (opt.help, opt.default)
    assert {"--order", "--activation", "--round-to-segments"} <= set(count)


def test_every_net_option_reaches_the_net_config():
    assert set(CHANGED) == set(FIELDS), "give a new option a changed value here"
    base = NetOptions().config("proxy-28")
    assert NetOptions.parse({}).config("proxy-28") == base
    for name, (value, _) in CHANGED.items():
        changed = NetOptions.parse({name: value}).config("proxy-28")
        assert changed != base, name


def test_train_builds_its_net_from_every_flag(monkeypatch):
    texts = {name: text for name, (_, text) in CHANGED.items() if text is not None}
    assert set(texts) == {opt.name for opt in net_options() if opt.cli}
    seen = {}

    class Built(Exception):
        pass

    def run_trial(spec, *args, **kwargs):
        seen["net"] = spec.net
        raise Built

    monkeypatch.setattr("spectrum.api.trials.run_trial", run_trial)
    argv = ["train", "--dataset", "synthetic", "--device", "cpu", "--train-subset", "64"]
    for name, text in texts.items():
        argv += ["--" + name.replace("_", "-"), text]
    with pytest.raises(Built):
        cli.main(argv)
    net = seen["net"]
    expected = NetOptions.parse(texts).config(net.preset)
    fitted = {"in_channels", "num_classes", "image_size"}  # the data's
    assert dataclasses.replace(net, **{name: getattr(expected, name) for name in fitted}) == (
        expected
    )


@pytest.mark.parametrize(
    "keywords, args",
    [
        ({"residual": "on,off"}, ["--residual", "on,off"]),
        ({"residual": "sometimes"}, ["--residual", "sometimes"]),
        ({"segments": "1,4"}, ["--segments", "1,4"]),
        ({"segments": "x"}, ["--segments", "x"]),
        ({"order": "sideways"}, ["--order", "sideways"]),
    ],
)
def test_the_api_and_train_say_the_same_one_line(keywords, args, capsys):
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.proxy(**keywords)
    assert cli.main(["train", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err == f"spectrum: error: {caught.value}"


@pytest.mark.parametrize(
    "keywords, message",
    [
        ({"num_classes": 0}, "--num-classes must be >= 1, got 0"),
        ({"in_channels": True}, "--in-channels must be >= 1, got True"),
        ({"image_size": 0}, "--image-size must be >= 1, got 0"),
        ({"entry": "4,8"}, "--entry '4,8': give one g (a positive integer or C), not a list"),
        ({"middle_repeats": -1}, "middle repeats -1 must be >= 0"),
        ({"dropout": 1.0}, "dropout 1.0 must be in [0, 1)"),
        ({"width": 0}, "width multiplier 0.0 must be > 0"),
        ({"preset": "xception"}, "preset 'xception' is not one of: proxy-28, proxy-28s, proxy-32"),
    ],
)
def test_the_api_messages_are_kept(keywords, message):
    with pytest.raises(spectrum.SpecError) as caught:
        spectrum.proxy(**keywords)
    assert str(caught.value) == message

"""One grammar for a search space: flags, API keywords and a study file's [search] keys alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectrum import cli
from spectrum.errors import SpecError
from spectrum.fields import options_of
from spectrum.study.plan import search_plan
from spectrum.study.space import SPACE_KEYS, SPACE_PARSERS, SearchSpace
from spectrum.study.space_options import SpaceOptions
from spectrum.study.studyfile import load_study

HEAD = '[study]\nkind = "search"\n[data]\nname = "synthetic"\n[train]\nepochs = 1\n'

FLAGS = [
    *["--segments", "1,4,C", "--segments", "exit=C", "--orders", "depthwise-first"],
    *["--middle", "activations=relu,elu", "--widths", "0.5,1.0", "--repeats", "1"],
    *["--residual", "on", "--lr", "0.01:0.5", "--preset", "proxy-28"],
]
KEYWORDS = dict(
    segments=[1, 4, "C", "exit=C"], orders="depthwise-first", middle={"activations": "relu,elu"},
    widths=[0.5, 1.0], repeats=[1], residual=[True], lr="0.01:0.5", preset="proxy-28",
)  # fmt: skip
SPACE_TABLE = """
segments = [1, 4, "C"]
orders = ["depthwise-first"]
widths = [0.5, 1.0]
repeats = [1]
residual = [true]
lr_range = [0.01, 0.5]
preset = "proxy-28"
exit = {segments = ["C"]}
middle = {activations = ["relu", "elu"]}
"""


def study(tmp_path: Path, search: str, train: str = "") -> Path:
    path = tmp_path / "s.toml"
    path.write_text(HEAD + train + search)
    return path


def flags_space(monkeypatch, argv: list[str]) -> SearchSpace:
    import spectrum.commands.studies

    seen: dict = {}
    monkeypatch.setattr(
        spectrum.commands.studies,
        "run_study_command",
        lambda plan, *run, **options: seen.update(plan=plan),
    )
    assert cli.main(["search", *argv]) == 0
    return seen["plan"].space


def test_the_keys_are_the_options():
    assert tuple(opt.name for opt in options_of(SpaceOptions)) == SPACE_KEYS
    assert all(opt.parse is SPACE_PARSERS[opt.name] for opt in options_of(SpaceOptions))


def test_flags_keywords_and_a_study_file_build_the_same_space(monkeypatch, tmp_path):
    flags = flags_space(monkeypatch, FLAGS)
    keywords = search_plan(KEYWORDS).space
    table = load_study(study(tmp_path, "[search]\n[search.space]" + SPACE_TABLE)).search.space
    inline = load_study(study(tmp_path, "[search]" + SPACE_TABLE)).search.space
    assert flags == keywords == table == inline
    assert flags.exit.segments == ("C",) and flags.entry.segments == (1, 4, "C")
    assert flags.middle.activations == ("relu", "elu") and flags.lr_range == (0.01, 0.5)
    # what the table writes per flow or as a range, the flags write too
    same = ["--exit", "segments=C", "--segments", "1,4,C", "--lr-range", "0.01:0.5"]
    rest = ["--orders", "depthwise-first", "--middle", "activations=relu,elu", "--preset"]
    more = ["proxy-28", "--widths", "0.5,1.0", "--repeats", "1", "--residual", "on"]
    assert flags_space(monkeypatch, [*same, *rest, *more]) == flags


def test_one_lr_is_the_trainings_as_on_the_command_line(tmp_path):
    loaded = load_study(study(tmp_path, "[search]\nlr = 0.05\n")).search
    assert loaded.train.lr == 0.05 and loaded.space == SearchSpace()
    assert search_plan({"lr": "0.05"}).train.lr == 0.05
    searched = load_study(study(tmp_path, '[search]\nlr = "0.05,0.2"\n')).search
    assert searched.space.lr == (0.05, 0.2)
    with pytest.raises(SpecError, match=r"\[search\].lr: one value is the training's"):
        load_study(study(tmp_path, "[search]\nlr = 0.05\n", "lr = 0.2\n"))


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("[search.space]\nsegmnts = [1]\n", "s.toml [search.space]: unknown key 'segmnts'"),
        ("[search]\nwidhts = [1.0]\n", "s.toml [search]: unknown key 'widhts'"),
        ('[search.space]\norders = ["sideways"]\n', "s.toml [search.space].orders"),
        ('[search]\nsegments = ["side=1"]\n', "s.toml [search].segments: 'side' names no flow"),
        ("[search.space.exit]\nsegs = [1]\n", "s.toml [search.space].exit: unknown key 'segs'"),
        ('[search]\nexit = {activations = "tanh"}\n', "s.toml [search].exit.activations"),
        ('[search]\nwidths = "0.5,x"\n', "s.toml [search].widths: 'x' is not a number"),
        ("[search]\nrepeats = [1.5]\n", "s.toml [search].repeats: 1.5 is not an integer"),
        ("[search]\nlr_range = [0.5, 0.1]\n", "s.toml [search].lr_range: need 0 < low < high"),
        ('[search]\nlr = "0.1,abc"\n', "s.toml [search].lr: 'abc' is not a number"),
        ('[search]\npreset = "resnet"\n', "s.toml [search]: search space preset: 'resnet'"),
        ("[search]\nsegments = [32]\n", "s.toml [search]: search space entry.segments: g=32"),
        ("[search]\nwidths = [1.0]\n[search.space]\nrepeats = [1]\n", "not both (widths)"),
    ],
)
def test_a_bad_space_key_is_one_line_naming_the_key(tmp_path, search, names):
    with pytest.raises(SpecError) as error:
        load_study(study(tmp_path, search))
    message = str(error.value)
    assert "\n" not in message and names in message, message


def test_the_same_bad_value_on_the_command_line_names_the_flag(monkeypatch, capsys):
    assert cli.main(["search", "--widths", "0.5,x"]) == 2
    assert capsys.readouterr().err.strip().endswith("--widths: 'x' is not a number")
    assert cli.main(["search", "--exit", "segs=1"]) == 2
    assert "--exit: unknown key 'segs'" in capsys.readouterr().err

"""``spectrum bench``'s flags are made from the benchmarks' settings (spectrum.bench.settings):
each flag's name, default and help are its field's, the flags' defaults build the settings'
defaults, no bench flag is declared beside them, and a setting that is the same option as a
sweep's or the training's keeps that option's parser. Also the benchmark reports as documents
(spectrum.report.document), rendered by spectrum.report.render_md."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from spectrum.bench.settings import BenchSettings, LatencyBenchSettings, SweepBenchSettings
from spectrum.commands.bench import bench_app
from spectrum.data import DataConfig
from spectrum.engine.train import TrainConfig
from spectrum.fields import build, flag_of, options_of
from spectrum.report.document import Bullets, Document, Paragraph, Rich, Span, Table
from spectrum.report.render_md import render_markdown
from spectrum.study.grid import SweepPlan

COMMANDS = typer.main.get_command(bench_app).commands
SETTINGS = {"train": BenchSettings, "sweep": SweepBenchSettings, "latency": LatencyBenchSettings}
# The flags of running a benchmark, not settings of its measurement (train's data: a DataConfig).
RUN_FLAGS = {"device", "out"}
TRAIN_DATA_FLAGS = {"dataset", "data_dir"}


def flags_of(name: str) -> dict:
    return {param.name: param for param in COMMANDS[name].params}


@pytest.mark.parametrize("name", SETTINGS)
def test_each_flag_is_its_settings_field(name):
    flags = flags_of(name)
    for opt in options_of(SETTINGS[name]):
        param = flags[opt.name]
        assert param.opts[0] == opt.flag, opt.name
        assert param.help == opt.help, opt.name
        assert param.default == opt.default, opt.name


@pytest.mark.parametrize("name", SETTINGS)
def test_the_flags_defaults_build_the_settings_defaults(name):
    cls = SETTINGS[name]
    flags = flags_of(name)
    values = {opt.name: flags[opt.name].default for opt in options_of(cls)}
    assert build(cls, values, flag_of) == cls()
    if name == "train":
        assert build(DataConfig, {n: flags[n].default for n in TRAIN_DATA_FLAGS}, flag_of) == (
            DataConfig()
        )


@pytest.mark.parametrize("name", SETTINGS)
def test_no_bench_flag_is_declared_beside_its_settings(name):
    own = {opt.name for opt in options_of(SETTINGS[name])}
    beside = RUN_FLAGS | (TRAIN_DATA_FLAGS if name == "train" else set())
    assert set(flags_of(name)) == own | beside
    assert not own & beside


def test_shared_settings_keep_the_sweeps_and_the_trainings_option():
    def option(cls, name):
        return next(opt for opt in options_of(cls) if opt.field == name)

    same = [
        (BenchSettings, "segments", SweepPlan, "segments"),
        (BenchSettings, "batch_size", TrainConfig, "batch_size"),
        (BenchSettings, "precision", TrainConfig, "precision"),
        (BenchSettings, "preset", SweepPlan, "preset"),
        (SweepBenchSettings, "epochs", TrainConfig, "epochs"),
        (SweepBenchSettings, "batch_size", TrainConfig, "batch_size"),
        (SweepBenchSettings, "val_size", DataConfig, "val_size"),
        (SweepBenchSettings, "precision", TrainConfig, "precision"),
        (SweepBenchSettings, "preset", SweepPlan, "preset"),
        (SweepBenchSettings, "dataset", DataConfig, "name"),
        (SweepBenchSettings, "data_dir", DataConfig, "data_dir"),
    ]
    for cls, name, source_cls, source_name in same:
        ours, source = option(cls, name), option(source_cls, source_name)
        assert (ours.name, ours.parse, ours.help) == (source.name, source.parse, source.help)
    # the same parser with the benchmark's own words
    for cls, name, source_cls in (
        (SweepBenchSettings, "segments", SweepPlan),
        (LatencyBenchSettings, "segments", SweepPlan),
        (LatencyBenchSettings, "match", SweepPlan),
        (LatencyBenchSettings, "precision", TrainConfig),
    ):
        assert option(cls, name).parse is option(source_cls, name).parse


def test_settings_parse_flag_text_like_the_sweep():
    values = {"segments": "1,c", "reference": "c", "match": "PARAMS", "precision": "Float32"}
    settings = build(LatencyBenchSettings, values, flag_of)
    assert (settings.segments, settings.reference) == ((1, "C"), "C")
    assert (settings.match, settings.precision) == ("params", "float32")
    sweep = build(SweepBenchSettings, {"dataset": "FashionMNIST", "data_dir": ""}, flag_of)
    assert (sweep.dataset, sweep.data_dir) == ("fashion-mnist", None)
    assert dataclasses.replace(sweep, segments=(4,)).plan().segments == (4,)


def test_spans_and_captionless_tables_render_as_markdown():
    doc = Document("T").add(
        Paragraph(Rich(Span("bold part"), " then plain.")),
        Table(("a", "b"), (("1", Rich(Span("x|y", "code"))),)),
        Table(("c",), (("2",),), "With a caption."),
        Bullets((Rich("Command: ", Span("spectrum bench sweep", "code")), "plain")),
        Bullets((Rich(Span("run `a`", "code")),)),
    )
    assert render_markdown(doc) == (
        "# T\n\n**bold part** then plain.\n\n| a | b |\n| --- | --- |\n| 1 | `x\\|y` |\n\n"
        "*Table 1. With a caption.*\n\n| c |\n| --- |\n| 2 |\n\n"
        "- Command: `spectrum bench sweep`\n- plain\n\n- `` run `a` ``\n"
    )
    assert Rich(Span("Warning"), ": busy") == "Warning: busy"  # plain text to other renderers

"""Complexity measures beyond params: a second FLOP counter, activations, latency intervals."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spectrum.cost.counts import (
    count_activations,
    fvcore_by_operator,
    torch_macs,
)
from spectrum.cost.metrics import count
from spectrum.net.xception import NetConfig, build_net

SEGMENTS = (1, 2, 4, 8, 16, 32, "C")


def _fvcore_matmul_macs(model: nn.Module, config: NetConfig) -> int:
    by_operator = fvcore_by_operator(model, config)
    return by_operator.get("conv", 0) + by_operator.get("linear", 0)


def _conv_outputs(model: nn.Module, config: NetConfig) -> int:
    """Activations the slow way: real tensors, one image."""
    sizes = []
    handles = [
        m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel()))
        for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    shape = config.shape
    with torch.no_grad():
        model.eval()(torch.zeros(1, shape.in_channels, shape.image_size, shape.image_size))
    for handle in handles:
        handle.remove()
    return sum(sizes)


@pytest.mark.parametrize("preset", ["proxy-28", "proxy-32"])
@pytest.mark.parametrize("segments", SEGMENTS)
def test_flop_counters_agree_on_proxies(preset, segments):
    config = NetConfig.uniform(segments, "depthwise-first", "none", preset=preset)
    shape = config.shape
    assert (shape.image_size, shape.in_channels) == ((28, 1) if preset == "proxy-28" else (32, 3))
    model = build_net(config, "cpu")
    macs = torch_macs(model, config)
    assert macs == _fvcore_matmul_macs(model, config)
    assert macs > 0
    # The meta-device count is the same and leaves the caller's model where it was.
    assert torch_macs(build_net(config, "meta"), config) == macs
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.slow
def test_flop_counters_agree_on_xception():
    config = NetConfig.uniform("C", "depthwise-first", "none", preset="xception")
    assert (config.shape.image_size, config.shape.in_channels) == (299, 3)
    model = build_net(config, "cpu")
    macs = torch_macs(model, config)
    assert macs == _fvcore_matmul_macs(model, config)
    # 8.36 G of conv + linear; fvcore's total (8.40 G) adds batch norm and pooling.
    assert macs == 8_357_403_496
    assert count(config, "activations") == 35_824_968


@pytest.mark.parametrize("preset", ["proxy-28", "proxy-32"])
@pytest.mark.parametrize("segments", [1, 4, "C"])
def test_activations_count_every_conv_output(preset, segments):
    config = NetConfig.uniform(segments, "pointwise-first", "relu", preset=preset)
    model = build_net(config, "cpu")
    expected = _conv_outputs(model, config)
    assert count_activations(model, config) == expected
    assert count(config, "activations") == expected


def test_activations_follow_width_not_segments():
    """g changes the channel mixing, not the output shapes; width does change them."""
    base = NetConfig.uniform("C", "depthwise-first", "none", preset="proxy-28")
    assert count(base, "activations") == count(base.with_flows(segments=1), "activations")
    wider = NetConfig.uniform("C", "depthwise-first", "none", preset="proxy-28", width_multiplier=2)
    assert count(wider, "activations") > count(base, "activations")


def test_trial_record_and_results_csv_carry_activations():
    """New trials store activations; trials recorded before it show a blank cell."""
    import optuna
    from optuna.trial import create_trial

    from spectrum.records import load_results
    from spectrum.study.trial import count_record

    config = NetConfig.uniform(4, "depthwise-first", "none", preset="proxy-28")
    record = count_record(config, build_net(config, "cpu"), torch.device("cpu"), None)
    assert record["activations"] == count(config, "activations") > 0
    study = optuna.create_study(direction="maximize")
    old = {"segments": "4", "params": record["params"], "flops": record["flops"]}
    study.add_trial(create_trial(value=0.9, user_attrs=old))
    study.add_trial(create_trial(value=0.9, user_attrs={"segments": "4", **record}))
    frame = load_results(study)
    columns = list(frame.columns)  # the live counts sit between the counts they qualify
    assert columns.index("activations") == columns.index("live_flops") + 1
    assert columns.index("live_params") == columns.index("flops") + 1
    assert frame["activations"].isna().tolist() == [True, False]
    assert frame["activations"].iloc[1] == record["activations"]
    text = frame.to_csv(index=False).splitlines()
    column = text[0].split(",").index("activations")
    assert text[1].split(",")[column] == ""


def test_count_command_prints_activations(capsys):
    from spectrum.cli import main

    assert main(["count", "--segments", "1,C", "--no-latency"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert "activations" in header
    column = header.index("activations")
    assert [line.split()[column] for line in lines[1:3]] == ["65344", "65344"]


def test_median_interval_is_distribution_free_and_needs_six_repeats():
    import math

    import numpy as np

    from spectrum.cost.latency import median_interval

    assert all(math.isnan(v) for v in median_interval([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert median_interval([float(v) for v in range(1, 7)]) == (1.0, 6.0)
    assert median_interval([float(v) for v in range(1, 21)]) == (6.0, 15.0)
    rng = np.random.default_rng(0)
    for draw, median in (
        (lambda n: rng.lognormal(0.0, 1.0, n), 1.0),
        (lambda n: rng.exponential(1.0, n), math.log(2)),
    ):
        hits = 0
        for _ in range(2000):
            low, high = median_interval(list(draw(10)))
            hits += low <= median <= high
        assert hits / 2000 >= 0.94


def test_latency_records_an_interval_the_repeats_and_the_load():
    import torch

    from spectrum.cost.latency import LatencySettings, measure_latency
    from spectrum.net.xception import NetConfig, build_net

    config = NetConfig(preset="proxy-28")
    settings = LatencySettings(
        batch_size=2, repeats=8, min_repeats=6, max_seconds=0.5, precision="float32"
    )
    timing = measure_latency(build_net(config), config, torch.device("cpu"), settings)
    assert timing["latency_ms_low"] <= timing["latency_ms"] <= timing["latency_ms_high"]
    assert timing["train_step_ms_low"] <= timing["train_step_ms"] <= timing["train_step_ms_high"]
    assert timing["latency_ms_repeats"] >= 6 and timing["latency_load_avg"] >= 0.0

"""Xception (Figure 5) and the proxies: structure, parameter counts, divisibility, rounding."""

import pytest
import torch

from spectrum.cost.counts import count_params
from spectrum.cost.metrics import count
from spectrum.cost.table import measure
from spectrum.errors import SegmentsError
from spectrum.net.xception import FlowSettings, NetConfig, build_net, check_config


def test_xception_has_the_papers_parameter_count():
    model = build_net(NetConfig.uniform("C", preset="xception"), "meta")
    assert count_params(model) == 22_855_952  # Table 3


@pytest.mark.slow
def test_xception_flops_within_two_percent_of_8_4_g_multiply_adds():
    flops = count(NetConfig.uniform("C", preset="xception"), "flops")
    assert abs(flops - 8.4e9) / 8.4e9 < 0.02


def test_xception_shapes_through_the_flows():
    model = build_net(NetConfig.uniform("C", preset="xception", middle_repeats=1))
    x = torch.zeros(1, 3, 299, 299)
    stem = model.stem(x)
    assert stem.shape[-1] == 147
    entry = model.entry_flow(stem)
    assert entry.shape[1:] == (728, 19, 19)
    assert model.exit_flow(model.middle_flow(entry)).shape[1:] == (2048, 10, 10)


@pytest.mark.parametrize("g", [1, 2, 4, 8, 16, 32, "C"])
@pytest.mark.parametrize(
    "preset, shape",
    [("proxy-28", (2, 1, 28, 28)), ("proxy-28s", (2, 1, 28, 28)), ("proxy-32", (2, 3, 32, 32))],
)
def test_proxy_builds_at_every_power_of_two_up_to_32(g, preset, shape):
    for order in ("depthwise-first", "pointwise-first"):
        model = build_net(NetConfig.uniform(g, order, preset=preset))
        assert model(torch.randn(shape)).shape == (2, 10)


def test_residual_off_removes_shortcuts_and_changes_params():
    with_res = build_net(NetConfig.uniform("C"), "meta")
    without = build_net(NetConfig.uniform("C", residual=False), "meta")
    assert count_params(without) < count_params(with_res)
    assert all(block.shortcut is None for block in without.middle_flow)


def test_per_flow_settings_reach_their_layers():
    config = NetConfig(
        entry=FlowSettings(2),
        middle=FlowSettings(4, activation="relu"),
        exit=FlowSettings("C", order="pointwise-first"),
    )
    model = build_net(config, "meta")
    assert model.entry_flow[1].units[0].conv.groups == 2
    assert model.middle_flow[0].units[0].conv.groups == 4
    assert model.middle_flow[0].units[0].conv.spec.activation == "relu"
    assert model.exit_flow[0].units[0].conv.spec.order == "pointwise-first"


def test_indivisible_g_names_the_first_layer_and_rounding_fixes_it():
    with pytest.raises(SegmentsError, match=r"entry_flow\.block1\.sep1: g=64 .* 32 channels"):
        check_config(NetConfig.uniform(64))
    model = build_net(NetConfig.uniform(64, round_to_segments=True), "meta")
    summary = model.summary()
    assert summary["widths"]["stem2"] == 64
    assert summary["rounded_to_segments"]["stem2"] == {"from": 32, "to": 64}


def test_width_multiplier_scales_params_and_measure_reports_latency():
    small = count(NetConfig.uniform("C", width_multiplier=0.5), "params")
    assert small < count(NetConfig.uniform("C"), "params") / 2.5
    result = measure(NetConfig.uniform(4), by_flow=True)
    assert result.params == sum(result.params_by_flow.values())
    assert result.flops == sum(result.flops_by_flow.values())
    assert result.latency_ms > 0 and result.train_step_ms > 0


@pytest.mark.parametrize(
    "config",
    [
        NetConfig.uniform("C"),
        NetConfig.uniform(1, "pointwise-first", "relu"),
        NetConfig.uniform(4, residual=False, preset="proxy-32"),
        NetConfig(
            entry=FlowSettings(2),
            middle=FlowSettings(8),
            exit=FlowSettings("C", "pointwise-first"),
            width_multiplier=0.7,
            round_to_segments=True,
        ),
    ],
)
def test_shape_flops_equal_fvcore(config):
    from spectrum.cost.counts import count_flops

    assert count(config, "flops") == count_flops(build_net(config), config)

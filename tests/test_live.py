"""Live accounting (spectrum.cost.live): hand counts, a brute-force check by gradients and
all-ones convolutions, proxy-28's dead-tap table (issue 25) and the proxy-28s preset."""

import pandas as pd
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from spectrum.api import match_width as api_match_width
from spectrum.cli import app, main
from spectrum.cost.live import axis_use, conv_use, conv_uses, live_config_counts
from spectrum.cost.matching import match_width, matched_config
from spectrum.cost.metrics import count
from spectrum.net.xception import NetConfig, build_net
from spectrum.study.trial import count_record

SEGMENTS = [1, 2, 4, 8, 16, 32, "C"]


def spectrum_extents(preset: str, g=1) -> list[tuple[str, int]]:
    """(name, input side) of every 3x3 convolution of the net, in forward order."""
    config = NetConfig.uniform(g, preset=preset)
    uses = conv_uses(build_net(config, "meta"), config.input_shape)
    return [(u.name, u.in_size[0]) for u in uses if u.kernel == (3, 3)]


# --------------------------------------------------------------------------------------------
# Hand counts


def test_3x3_at_1x1_has_one_live_tap_of_nine():
    use = conv_use("c", nn.Conv2d(4, 8, 3, padding=1), (1, 1))
    assert use.weights == 8 * 4 * 9 and use.live_weights == 8 * 4 * 1
    assert use.macs == 8 * 4 * 9 and use.live_macs == 8 * 4 * 1


def test_3x3_at_2x2_has_every_tap_live_and_each_output_uses_four():
    assert axis_use(2, 3, padding=1) == axis_use(2, 3, 1, 1, 1)
    rows = axis_use(2, 3, padding=1)
    assert (rows.live_taps, rows.outputs, rows.live_reads) == (3, 2, 4)  # 2 of 3 per output
    use = conv_use("c", nn.Conv2d(2, 2, 3, padding=1), (2, 2))
    assert use.live_weights == use.weights == 2 * 2 * 9
    assert use.live_macs == 2 * 2 * 4 * 4  # 4 outputs x 4 taps each


def test_stride_2_cases():
    # 2x2 input, stride 2, padding 1: one output reading inputs -1, 0, 1: the first tap is dead.
    use = conv_use("c", nn.Conv2d(1, 1, 3, stride=2, padding=1), (2, 2))
    assert use.out_size == (1, 1)
    assert (use.live_weights, use.live_macs) == (4, 4)
    # 4x4 input: outputs read -1..1 and 1..3: every tap live, 2 + 3 reads per axis.
    use = conv_use("c", nn.Conv2d(1, 1, 3, stride=2, padding=1), (4, 4))
    assert (use.live_weights, use.live_macs, use.macs) == (9, 25, 36)
    # Xception's stride-2 1x1 shortcut on an odd size: every output reads real input.
    use = conv_use("c", nn.Conv2d(3, 5, 1, stride=2), (5, 5))
    assert use.out_size == (3, 3) and use.live_macs == use.macs == 3 * 5 * 9


def test_dilation_is_respected():
    # Dilation 2, padding 2 at 2x2: the outer taps read positions -2/+2 or -1/+3, never inside.
    use = conv_use("c", nn.Conv2d(1, 1, 3, padding=2, dilation=2), (2, 2))
    assert use.out_size == (2, 2) and use.live_weights == 1 and use.live_macs == 4


@pytest.mark.parametrize(
    "size, kernel, stride, padding, dilation, groups",
    [
        (1, 3, 1, 1, 1, 1),
        (2, 3, 1, 1, 1, 2),
        (3, 3, 2, 1, 1, 1),
        (4, 3, 2, 1, 1, 4),
        (5, 5, 1, 2, 1, 1),
        (3, 3, 1, 2, 2, 1),
        (7, 3, 3, 1, 1, 2),
        (6, 3, 2, 0, 1, 1),
    ],
)
def test_live_counts_agree_with_gradients_and_an_all_ones_convolution(
    size, kernel, stride, padding, dilation, groups
):
    conv = nn.Conv2d(4, 4, kernel, stride, padding, dilation, groups=groups, bias=False)
    use = conv_use("c", conv, (size, size))
    # A weight is live iff some real input reaches it: a positive input gives it a gradient.
    conv(torch.rand(1, 4, size, size) + 0.5).sum().backward()
    assert int((conv.weight.grad != 0).sum()) == use.live_weights
    # With ones everywhere every output is the number of its non-padding reads.
    with torch.no_grad():
        conv.weight.fill_(1.0)
        out = conv(torch.ones(1, 4, size, size))
    assert int(out.sum()) == use.live_macs
    assert out.shape[-2:] == use.out_size


# --------------------------------------------------------------------------------------------
# proxy-28's dead taps (issue 25) and proxy-28s


def test_proxy_28_spatial_extents():
    sides = [side for _, side in spectrum_extents("proxy-28")]
    assert sides == [28, 14, 14, 14, 7, 7, 4, 4, *[2] * 8, 1, 1]


def dead_params_fractions(preset: str, metric: str) -> list[float]:
    reference = count(NetConfig.uniform("C", preset=preset), metric)
    fractions = []
    for g in SEGMENTS:
        net = NetConfig.uniform(g, preset=preset)
        live = live_config_counts(matched_config(net, match_width(net, reference, metric)))
        fractions.append(round(100 * live.dead_params_fraction, 1))
    return fractions


def test_proxy_28_dead_weights_at_matched_params_and_flops():
    """The table of issue 25: the dead share of each g's parameters at a matched budget."""
    assert dead_params_fractions("proxy-28", "params") == [30.6, 26.6, 21.4, 16.3, 9.8, 5.3, 1.0]
    assert dead_params_fractions("proxy-28", "flops") == [30.9, 26.5, 22.1, 15.4, 9.7, 5.3, 1.0]


def test_proxy_28s_has_no_spectrum_conv_at_1x1_and_its_middle_flow_at_4x4():
    extents = spectrum_extents("proxy-28s")
    assert min(side for _, side in extents) == 2
    assert {side for name, side in extents if name.startswith("middle_flow")} == {4}
    sides = [side for name, side in extents if ".spatial" in name]
    assert sides == [14, 14, 7, 7, 4, 4, *[4] * 6, 4, 4, 2, 2]


@pytest.mark.parametrize("g", SEGMENTS)
def test_proxy_28s_has_no_dead_weights_at_any_g(g):
    config = NetConfig.uniform(g, preset="proxy-28s")
    live = live_config_counts(config)
    assert live.live_params == live.params == count(config, "params")
    assert live.live_flops < live.flops  # the 2x2 tail's outputs still read padding


# --------------------------------------------------------------------------------------------
# --match live-*, the count table, the trial record


def test_live_params_matching_on_proxy_28_widens_g_1():
    reference = count(NetConfig.uniform("C"), "live-params")
    net = NetConfig.uniform(1)
    by_params = match_width(net, count(NetConfig.uniform("C"), "params"), "params")
    by_live = match_width(net, reference, "live-params")
    assert by_live.relative_error <= 0.02
    assert count(matched_config(net, by_live), "live-params") == by_live.value
    assert by_live.width_multiplier > by_params.width_multiplier  # its dead weights are free


def test_api_match_width_takes_live_flops():
    found = api_match_width(4, metric="live-flops", preset="proxy-28s")
    assert found.relative_error <= 0.02
    assert found.value == count(found.config, "live-flops")


def test_count_command_matches_live_params_and_prints_the_live_columns(tmp_path):
    csv = tmp_path / "count.csv"
    result = CliRunner().invoke(
        app,
        ["count", "--segments", "1,C", "--match", "live-params", "--no-latency", "--csv", str(csv)],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv)
    assert {"live_params", "live_flops"} <= set(table.columns)
    assert abs(table["live_params"][0] - table["live_params"][1]) / table["live_params"][1] < 0.02
    assert (table["live_params"] < table["params"]).all()


def test_bad_match_names_the_live_choices(capsys):
    assert main(["count", "--match", "live", "--no-latency"]) == 2
    err = capsys.readouterr().err
    assert "live-params" in err and "Traceback" not in err


def test_trial_record_has_live_counts():
    config = NetConfig.uniform(1)
    record = count_record(config, build_net(config, "meta"), torch.device("cpu"), None)
    live = live_config_counts(config)
    assert (record["live_params"], record["live_flops"]) == (live.live_params, live.live_flops)


def test_a_study_file_sweep_matches_live_params_at_every_grid_point():
    from spectrum.data import DataConfig, load_dataset
    from spectrum.study.grid import trial_specs
    from spectrum.study.studyfile import load_study

    study = load_study(
        "studies/spectrum-matched-params.toml",
        ["sweep.match=live-params", "sweep.preset=proxy-28", "sweep.seeds=2"],
    )
    plan = study.sweep
    assert (plan.match, plan.fingerprint()["match"]) == ("live-params", "live-params")
    splits = load_dataset(DataConfig(name="synthetic", synthetic_train=64, synthetic_test=16))
    nets = {spec.seed: {} for spec, _ in trial_specs(plan, splits).values()}
    for spec, net in trial_specs(plan, splits).values():
        nets[spec.seed][spec.net.entry.segments] = count(net, "live-params")
        assert spec.match_target == count(spec.net.with_flows(segments="C"), "live-params")
    for by_g in nets.values():
        assert set(by_g) == set(SEGMENTS)
        assert max(abs(v - by_g["C"]) / by_g["C"] for v in by_g.values()) <= 0.02

import pytest

from spectrum.cost.matching import match_width, matched_config
from spectrum.cost.metrics import count
from spectrum.errors import SpecError
from spectrum.net.xception import NetConfig, check_config, resolve_widths, width_divisors


@pytest.mark.parametrize("g", [1, 4, 16, 32])
def test_params_matched_within_two_percent_and_divisible(g):
    target = count(NetConfig.uniform("C"), "params")
    match = match_width(NetConfig.uniform(g), target, "params")
    config = matched_config(NetConfig.uniform(g), match)
    assert abs(count(config, "params") - target) / target <= 0.02
    assert count(config, "params") == match.value
    check_config(config)  # every layer builds
    seen_by_spatial = {k for k, d in width_divisors(config).items() if d > 1 or g == 1}
    assert seen_by_spatial >= {"stem2", "entry1", "entry2", "entry3", "exit1", "exit2", "tail1"}
    widths = resolve_widths(config)
    assert all(widths[k] % g == 0 for k in seen_by_spatial)


def test_flops_matched_for_g1():
    target = count(NetConfig.uniform("C"), "flops")
    match = match_width(NetConfig.uniform(1), target, "flops")
    assert match.relative_error <= 0.02 and match.width_multiplier < 1


def test_unreachable_target_is_a_spec_error():
    with pytest.raises(SpecError, match="cannot match"):
        match_width(NetConfig.uniform("C"), 10, "params")


@pytest.mark.parametrize("metric", ["params", "flops"])
def test_the_reference_matched_to_its_own_budget_keeps_its_width(metric):
    reference = NetConfig.uniform("C")
    match = match_width(reference, count(reference, metric), metric)
    assert (match.width_multiplier, match.relative_error) == (1.0, 0.0)
    assert resolve_widths(matched_config(reference, match)) == resolve_widths(reference)

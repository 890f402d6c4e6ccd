"""The spectrum block: its two ends and the Inception-tower equivalence (paper Figures 2-4)."""

import pytest
import torch
from torch import nn

from spectrum.errors import SegmentsError, SpecError
from spectrum.net.blocks import BlockSpec, SpectrumConv


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def test_g1_pointwise_first_is_1x1_then_regular_conv():
    block = SpectrumConv(BlockSpec(8, 12, segments=1, order="pointwise-first"))
    pointwise = nn.Conv2d(8, 12, 1, bias=False)
    regular = nn.Conv2d(12, 12, 3, padding=1, bias=False)
    pointwise.weight.data.copy_(block.pointwise.weight)
    regular.weight.data.copy_(block.spatial.weight)
    x = torch.randn(2, 8, 9, 9)
    torch.testing.assert_close(block(x), regular(pointwise(x)), atol=1e-5, rtol=1e-5)
    assert block.groups == 1 and block.spatial.groups == 1


def test_gC_depthwise_first_is_depthwise_then_pointwise():
    block = SpectrumConv(BlockSpec(8, 12, segments="C", order="depthwise-first"))
    depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    pointwise = nn.Conv2d(8, 12, 1, bias=False)
    depthwise.weight.data.copy_(block.spatial.weight)
    pointwise.weight.data.copy_(block.pointwise.weight)
    x = torch.randn(2, 8, 9, 9)
    torch.testing.assert_close(block(x), pointwise(depthwise(x)), atol=1e-5, rtol=1e-5)
    assert block.spatial.groups == 8


@pytest.mark.parametrize("towers", [1, 2, 3, 4, 12])
def test_simplified_inception_towers_equal_pointwise_first_with_g_towers(towers):
    """Figure 2 = Figure 3: k towers of (1x1 to C/k, 3x3), concatenated, equal g = k."""
    channels, in_channels = 12, 5
    block = SpectrumConv(BlockSpec(in_channels, channels, segments=towers, order="pointwise-first"))
    width = channels // towers
    x = torch.randn(2, in_channels, 7, 7)
    outputs = []
    for tower in range(towers):
        rows = slice(tower * width, (tower + 1) * width)
        pointwise = nn.Conv2d(in_channels, width, 1, bias=False)
        spatial = nn.Conv2d(width, width, 3, padding=1, bias=False)
        pointwise.weight.data.copy_(block.pointwise.weight[rows])
        spatial.weight.data.copy_(block.spatial.weight[rows])
        outputs.append(spatial(pointwise(x)))
    torch.testing.assert_close(block(x), torch.cat(outputs, dim=1), atol=1e-5, rtol=1e-5)


def test_orders_and_activation_change_the_computation():
    x = torch.randn(1, 8, 6, 6)
    linear = SpectrumConv(BlockSpec(8, 8, segments=2, activation="none"))
    relu = SpectrumConv(BlockSpec(8, 8, segments=2, activation="relu"))
    relu.load_state_dict(linear.state_dict())
    assert not torch.allclose(linear(x), relu(x))
    assert isinstance(relu.intermediate, nn.ReLU)
    elu = SpectrumConv(BlockSpec(8, 8, activation="elu"))
    assert isinstance(elu.intermediate, nn.ELU)


@pytest.mark.parametrize("order", ["depthwise-first", "pointwise-first"])
def test_depth_multiplier_and_stride(order):
    block = SpectrumConv(BlockSpec(4, 16, segments="C", order=order, depth_multiplier=2, stride=2))
    out = block(torch.randn(1, 4, 8, 8))
    assert out.shape == (1, 16, 4, 4)
    assert block.spatial.out_channels == 2 * block.spatial.in_channels


def test_indivisible_g_names_layer_channels_and_nearest_valid():
    with pytest.raises(SegmentsError) as error:
        SpectrumConv(BlockSpec(12, 12, segments=5), layer="entry_flow.block1.sep1")
    message = str(error.value)
    assert "entry_flow.block1.sep1" in message and "12 channels" in message
    assert "4, 6" in message and "\n" not in message


def test_bad_order_is_a_spec_error():
    with pytest.raises(SpecError, match="order"):
        SpectrumConv(BlockSpec(4, 4, order="sideways"))


@pytest.mark.parametrize(
    "segments, size, expected",
    [
        ("C", 2, torch.float32),  # one channel per segment on a 2x2 map: float32
        (4, 7, torch.float32),  # 4 channels per segment on 7x7: float32
        (2, 7, torch.bfloat16),  # 8 channels per segment: bf16
        ("C", 8, torch.bfloat16),  # a map larger than 7x7: bf16
        (1, 2, torch.bfloat16),  # a regular convolution: bf16
    ],
)
@pytest.mark.numeric
def test_thin_segments_on_small_maps_stay_float32_under_cpu_bf16(segments, size, expected):
    block = SpectrumConv(BlockSpec(16, 16, segments=segments))
    images = torch.randn(2, 16, size, size)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert block.segmented(images).dtype == expected
        assert block(images).dtype == torch.bfloat16  # the pointwise conv is bf16 either way
    # Outside autocast nothing changes, and the float32 path computes the same convolution.
    assert block.segmented(images).dtype == torch.float32
    assert torch.equal(block.segmented(images), block.spatial(images))

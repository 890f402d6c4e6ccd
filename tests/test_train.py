"""The training engine: augmentation, schedule, decay groups, and the diverged/failed paths."""

import pytest
import torch
from torch import nn

from spectrum.data import DataConfig, load_dataset
from spectrum.device import autocast, resolve_precision
from spectrum.engine.train import (
    DeviceData,
    TrainConfig,
    lr_factor,
    parameter_groups,
    random_crop,
    random_flip,
    train,
)
from spectrum.errors import SpecError
from spectrum.net.xception import NetConfig, build_net

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data():
    splits = load_dataset(DataConfig(name="synthetic", synthetic_train=512, synthetic_test=128))
    return DeviceData.from_splits(splits, CPU)


def test_random_crop_keeps_shape_and_shifts_content():
    images = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6) + 1
    generator = torch.Generator().manual_seed(0)
    cropped = random_crop(images, 2, generator)
    assert cropped.shape == images.shape
    assert not torch.equal(cropped, images)
    # every crop is a translated window of the zero-padded original
    padded = nn.functional.pad(images, (2, 2, 2, 2))
    for n in range(2):
        assert any(
            torch.equal(cropped[n, 0], padded[n, 0, dy : dy + 6, dx : dx + 6])
            for dy in range(5)
            for dx in range(5)
        )


def test_random_flip_flips_some_images_exactly():
    images = torch.randn(64, 1, 4, 4)
    flipped = random_flip(images, torch.Generator().manual_seed(1))
    same = [torch.equal(flipped[i], images[i]) for i in range(64)]
    mirrored = [torch.equal(flipped[i], images[i].flip(2)) for i in range(64)]
    assert all(s or m for s, m in zip(same, mirrored)) and 0 < sum(mirrored) < 64


def test_one_cycle_warms_up_then_decays_to_zero():
    config = TrainConfig(warmup_fraction=0.2)
    factors = [lr_factor(step, 100, config) for step in range(100)]
    assert factors[19] == pytest.approx(1.0) and factors[0] < 0.1
    assert factors[-1] < 0.02 and max(factors) == pytest.approx(1.0)
    cosine = TrainConfig(schedule="cosine")
    assert lr_factor(0, 100, cosine) == pytest.approx(1.0)
    assert lr_factor(50, 100, cosine) == pytest.approx(0.5)


def test_no_weight_decay_on_batchnorm_and_bias():
    model = build_net(NetConfig.uniform("C"))
    decay, no_decay = parameter_groups(model, 5e-4)
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0
    assert all(p.ndim > 1 for p in decay["params"])
    bn_and_bias = {
        id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    } | {id(model.classifier[-1].bias)}
    assert bn_and_bias <= {id(p) for p in no_decay["params"]}


@pytest.mark.numeric
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_training_records_curves_and_is_repeatable(data, precision):
    config = TrainConfig(epochs=2, batch_size=64, augment=True, precision=precision)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        results.append(train(build_net(NetConfig.uniform(4)), data, config, CPU, seed=3))
    first, second = results
    assert first.status == "complete" and len(first.curve) == 2
    assert first.precision == precision
    assert first.curve[0].images_per_s > 0 and 0 <= first.test_acc <= 1
    assert [p.train_loss for p in first.curve] == [p.train_loss for p in second.curve]
    assert first.test_acc == second.test_acc


def test_exploding_loss_ends_as_diverged(data):
    torch.manual_seed(0)
    result = train(
        build_net(NetConfig.uniform("C")),
        data,
        TrainConfig(epochs=1, batch_size=64, lr=1e12, warmup_fraction=0.01),
        CPU,
    )
    assert result.status == "diverged" and "non-finite" in result.error
    assert result.test_acc is None


class OutOfMemoryAfter(nn.Module):
    def __init__(self, calls: int) -> None:
        super().__init__()
        self.inner = build_net(NetConfig.uniform("C"))
        self.calls = calls

    def forward(self, x):
        self.calls -= 1
        if self.calls < 0:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(x)


def test_out_of_memory_ends_as_failed_not_raised(data):
    result = train(OutOfMemoryAfter(3), data, TrainConfig(epochs=1, batch_size=64), CPU)
    assert result.status == "failed" and "out of memory" in result.error


def test_other_errors_are_not_swallowed(data):
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("shape mismatch")

    broken = Broken()
    broken.weight = nn.Parameter(torch.zeros(1))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        train(broken, data, TrainConfig(epochs=1, batch_size=64), CPU)


@pytest.mark.numeric
def test_precision_auto_means_bf16_only_with_native_bf16(monkeypatch):
    import spectrum.device as device

    monkeypatch.delenv("SPECTRUM_DISABLE_BF16", raising=False)
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert resolve_precision("auto", CPU) == "bfloat16"
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx512f", "avx2"}))
    assert resolve_precision("auto", CPU) == "float32"
    assert resolve_precision("bfloat16", CPU) == "bfloat16"  # asked for: emulated if need be
    assert resolve_precision("float32", CPU) == "float32"
    with pytest.raises(SpecError, match="precision 'fp16' is not one of"):
        resolve_precision("fp16", CPU)
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    for value, expected in (("1", "float32"), ("0", "bfloat16"), ("", "bfloat16")):
        monkeypatch.setenv(
            "SPECTRUM_DISABLE_BF16", value
        )  # the switch that runs as on the other kind
        assert resolve_precision("auto", CPU) == expected
    with pytest.raises(SpecError, match="precision"):
        TrainConfig(precision="half")


@pytest.mark.numeric
def test_bf16_autocast_computes_convolutions_in_bf16_and_float32_does_not():
    conv = nn.Conv2d(2, 4, 3)
    images = torch.randn(1, 2, 5, 5)
    with autocast(CPU, "bfloat16"):
        assert conv(images).dtype == torch.bfloat16
    with autocast(CPU, "float32"):
        assert conv(images).dtype == torch.float32


def test_configure_flushes_subnormals_on_the_cpu():
    from spectrum.device import configure

    configure(CPU)
    assert torch.tensor([1e-323], dtype=torch.float64).item() == 0.0

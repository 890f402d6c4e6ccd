"""``synthetic``: a small learnable data set generated in memory (smoke tests and demos)."""

from __future__ import annotations

import math

import torch

from ..errors import SpecError
from .config import SYNTHETIC, DataConfig
from .registry import Dataset, LoadedData

SYNTHETIC_SEED = 20170407  # fixed: the synthetic images do not change with split_seed


def generate_synthetic(config: DataConfig) -> LoadedData:
    """Noisy oriented gratings, one orientation/frequency per class: learnable, deterministic.

    Each image is its class's sinusoidal grating at a random phase (so a position-free CNN learns
    it in an epoch while a pixel template does not suffice) plus Gaussian pixel noise.
    """
    channels, height, width = (int(n) for n in config.synthetic_shape)
    classes = config.synthetic_classes
    total = config.synthetic_train + config.synthetic_test
    generator = torch.Generator().manual_seed(SYNTHETIC_SEED)
    labels = torch.randperm(total, generator=generator) % classes  # balanced, in random order
    phase = torch.rand(total, generator=generator) * 2 * math.pi
    noise = torch.randn(total, channels, height, width, generator=generator)

    scale = max(min(height, width), 8) / 28  # periods of 7 and 4.5 pixels at 28x28
    class_ids = torch.arange(classes)
    angle = class_ids * math.pi / classes
    frequency = 2 * math.pi / (torch.where(class_ids % 2 == 0, 7.0, 4.5) * scale)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing="ij",
    )
    along = cols * angle.cos().view(-1, 1, 1) + rows * angle.sin().view(-1, 1, 1)  # (K, H, W)
    wave = torch.sin(frequency[labels].view(-1, 1, 1) * along[labels] + phase.view(-1, 1, 1))
    images = (128 + 50 * wave.unsqueeze(1) + 40 * noise).round().clamp(0, 255).to(torch.uint8)
    n_train = config.synthetic_train
    return LoadedData(
        "generated",
        images[:n_train].numpy(),
        labels[:n_train].numpy(),
        images[n_train:].numpy(),
        labels[n_train:].numpy(),
        classes,
        hflip=False,
    )


def check_synthetic(config: DataConfig) -> None:
    """SpecError for a synthetic set that cannot be generated, naming the option."""
    shape = tuple(config.synthetic_shape)
    if len(shape) != 3 or any(int(n) < 1 for n in shape):
        raise SpecError(f"synthetic_shape {shape} must be three positive sizes (C, H, W)")
    if config.synthetic_train < 2:
        raise SpecError(f"synthetic_train {config.synthetic_train} must be >= 2")
    if config.synthetic_test < 1:
        raise SpecError(f"synthetic_test {config.synthetic_test} must be >= 1")
    if config.synthetic_classes < 2:
        raise SpecError(f"synthetic_classes {config.synthetic_classes} must be >= 2")


DATASETS = (
    Dataset(
        SYNTHETIC,
        order=40,
        load=lambda config, name: generate_synthetic(config),
        image_size=lambda config: int(config.synthetic_shape[-1]),
        check=check_synthetic,
    ),
)

"""From a loaded dataset to :class:`Splits`: the deterministic validation hold-out, the exact
per-channel statistics and the augmentation hints the trainer uses."""

from __future__ import annotations

import torch

from ..errors import DataError, SpecError
from .config import DEFAULT_VAL_SIZE, DataConfig, Splits
from .registry import LoadedData

SMALL_SET_VAL_FRACTION = 0.2


def resolve_val_size(requested: int, n_train: int) -> int:
    """How many training images to hold out; the default shrinks to 20% on small sets."""
    small_set_cap = max(1, int(n_train * SMALL_SET_VAL_FRACTION))
    if requested == DEFAULT_VAL_SIZE and requested > small_set_cap:
        return small_set_cap
    if requested > n_train - 1:
        raise SpecError(
            f"val_size {requested} must be smaller than the {n_train} training "
            f"images; use --val-size {small_set_cap} or less"
        )
    return requested


def split_indices(n: int, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted (train, val) indices from a permutation seeded with ``seed``."""
    permutation = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return permutation[val_size:].sort().values, permutation[:val_size].sort().values


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of ``images / 255``, exact, via byte histograms."""
    values = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = torch.bincount(images[:, channel].reshape(-1), minlength=256).double()
        total = counts.sum()
        mean = (counts * values).sum() / total
        var = (counts * (values - mean) ** 2).sum() / total
        means.append(float(mean))
        stds.append(float(var.sqrt()))
    return tuple(means), tuple(stds)


def crop_padding_for(image_size: int) -> int:
    return 2 if image_size == 28 else image_size // 8


def make_splits(name: str, loaded: LoadedData, config: DataConfig) -> Splits:
    all_x = torch.from_numpy(loaded.train_x)
    all_y = torch.from_numpy(loaded.train_y).long()
    if len(all_y) < 2:
        raise DataError(
            f"{loaded.source} has {len(all_y)} training image(s); add more, at least "
            "2 are needed to hold out a validation split"
        )
    val_size = resolve_val_size(config.val_size, len(all_y))
    train_idx, val_idx = split_indices(len(all_y), val_size, config.split_seed)
    train_x = all_x.index_select(0, train_idx)
    mean, std = channel_stats(train_x)
    return Splits(
        name=name,
        source=loaded.source,
        train_x=train_x,
        train_y=all_y.index_select(0, train_idx),
        val_x=all_x.index_select(0, val_idx),
        val_y=all_y.index_select(0, val_idx),
        test_x=torch.from_numpy(loaded.test_x).contiguous(),
        test_y=torch.from_numpy(loaded.test_y).long(),
        num_classes=loaded.num_classes,
        mean=mean,
        std=std,
        hflip=loaded.hflip,
        crop_padding=crop_padding_for(int(train_x.shape[2])),
    )

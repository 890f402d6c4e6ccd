"""What a ``--dataset`` names and how it is split: the names, :class:`DataConfig` (the options,
checked by :func:`check_config`), :class:`LoadedData` (a dataset as read, before the split) and
:class:`Splits` (what the trainer gets).

Images stay uint8 ``(N, C, H, W)`` and labels int64 ``(N,)``; nothing in ``spectrum.data``
normalises or augments.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import SpecError

FASHION_MNIST = "fashion-mnist"
CIFAR10 = "cifar10"
CIFAR100 = "cifar100"
SYNTHETIC = "synthetic"
IMAGEFOLDER_PREFIX = "imagefolder:"
DATASET_CHOICES = (FASHION_MNIST, CIFAR10, CIFAR100, IMAGEFOLDER_PREFIX + "PATH", SYNTHETIC)
DEFAULT_VAL_SIZE = 5000


@dataclass(frozen=True)
class DataConfig:
    """What to load and how to split it (see the module docstring for the lookup order)."""

    name: str = FASHION_MNIST
    data_dir: str | None = None
    val_size: int = DEFAULT_VAL_SIZE
    split_seed: int = 0
    allow_download: bool = True
    image_size: int | None = None
    synthetic_train: int = 2048
    synthetic_test: int = 512
    synthetic_shape: tuple[int, int, int] = (1, 28, 28)
    synthetic_classes: int = 10


@dataclass
class Splits:
    """A loaded dataset: uint8 images ``(N, C, H, W)``, int64 labels, and what training needs."""

    name: str
    source: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    hflip: bool
    crop_padding: int

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train_x.shape[2])

    @property
    def sizes(self) -> dict[str, int]:
        return dict(train=len(self.train_y), val=len(self.val_y), test=len(self.test_y))


@dataclass
class LoadedData:
    """A dataset as read from its source, before the validation split (numpy, uint8/int64)."""

    source: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    num_classes: int
    hflip: bool


def parse_dataset_name(text: str) -> str:
    """The canonical dataset name for a ``--dataset`` value; ``imagefolder:PATH`` keeps PATH."""
    raw = str(text).strip()
    if raw.lower().startswith(IMAGEFOLDER_PREFIX):
        path = raw[len(IMAGEFOLDER_PREFIX) :].strip()
        if not path:
            raise SpecError("dataset 'imagefolder:' needs a path, e.g. imagefolder:/data/flowers")
        return IMAGEFOLDER_PREFIX + path
    squashed = raw.lower().replace("-", "").replace("_", "")
    for choice in (FASHION_MNIST, CIFAR10, CIFAR100, SYNTHETIC):
        if squashed == choice.replace("-", ""):
            return choice
    raise SpecError(f"unknown dataset {raw!r}; choose one of: {', '.join(DATASET_CHOICES)}")


def is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_config(config: DataConfig, name: str) -> None:
    """SpecError for option values that cannot work, naming the option."""
    if not is_count(config.val_size) or config.val_size < 0:
        raise SpecError(f"val_size {config.val_size!r} must be an integer >= 0")
    if config.image_size is not None:
        if not name.startswith(IMAGEFOLDER_PREFIX):
            raise SpecError(
                f"image_size applies to imagefolder:PATH datasets only, not {name}; drop it"
            )
        if not is_count(config.image_size) or config.image_size < 1:
            raise SpecError(f"image_size {config.image_size!r} must be a positive integer")
    if name == SYNTHETIC:
        shape = tuple(config.synthetic_shape)
        if len(shape) != 3 or any(int(n) < 1 for n in shape):
            raise SpecError(f"synthetic_shape {shape} must be three positive sizes (C, H, W)")
        if config.synthetic_train < 2:
            raise SpecError(f"synthetic_train {config.synthetic_train} must be >= 2")
        if config.synthetic_test < 1:
            raise SpecError(f"synthetic_test {config.synthetic_test} must be >= 1")
        if config.synthetic_classes < 2:
            raise SpecError(f"synthetic_classes {config.synthetic_classes} must be >= 2")


def data_config_from_flags(dataset: str, data_dir: str | Path | None, val_size: int) -> DataConfig:
    """A :class:`DataConfig` from ``--dataset``, ``--data-dir`` and ``--val-size``, with the
    flags' parsing and messages (shared by the CLI and the Python API)."""
    return DataConfig(
        name=parse_dataset_name(dataset),
        data_dir=str(data_dir) if data_dir else None,
        val_size=val_size,
    )

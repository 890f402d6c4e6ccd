"""What a ``--dataset`` names and how it is split: the names, :class:`DataConfig` (the options;
the ``name`` option's choices and parsing are the registry's), :func:`check_config` and
:func:`image_size_of` (what a config's dataset allows and its images' side, asked of the dataset's
registry entry) and :class:`Splits` (what the trainer gets).

Images stay uint8 ``(N, C, H, W)`` and labels int64 ``(N,)``; nothing in ``spectrum.data``
normalises or augments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import SpecError
from ..fields import option
from .registry import dataset_choices, dataset_of, datasets, is_count, parse_dataset_name

FASHION_MNIST = "fashion-mnist"
CIFAR10 = "cifar10"
CIFAR100 = "cifar100"
SYNTHETIC = "synthetic"
IMAGEFOLDER_PREFIX = "imagefolder:"
DEFAULT_VAL_SIZE = 5000


def _dataset_help() -> str:
    return " | ".join(dataset_choices())


@dataclass(frozen=True)
class DataConfig:
    """What to load and how to split it (see the module docstring for the lookup order)."""

    name: str = field(
        default=FASHION_MNIST,
        metadata=option(
            _dataset_help, name="dataset", parse=lambda v, where: parse_dataset_name(v)
        ),
    )
    data_dir: str | None = field(
        default=None,
        metadata=option(
            "Directory holding the dataset files (else $SPECTRUM_DATA, the system copy, the user "
            "cache).",
            parse=lambda v, where: str(v) if v else None,
            cli_type=Path | None,
        ),
    )
    val_size: int = field(
        default=DEFAULT_VAL_SIZE,
        metadata=option("Validation images held out of the training set."),
    )
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


def check_config(config: DataConfig, name: str) -> None:
    """SpecError for option values that cannot work for the dataset ``name``, naming the option."""
    if not is_count(config.val_size) or config.val_size < 0:
        raise SpecError(f"val_size {config.val_size!r} must be an integer >= 0")
    dataset = dataset_of(name)
    if config.image_size is not None:
        if not dataset.sized:
            sized = ", ".join(d.choice for d in datasets() if d.sized)
            raise SpecError(f"image_size applies to {sized} datasets only, not {name}; drop it")
        if not is_count(config.image_size) or config.image_size < 1:
            raise SpecError(f"image_size {config.image_size!r} must be a positive integer")
    dataset.check(config)


def image_size_of(config: DataConfig) -> int:
    """The side of a dataset's images, known before it loads (the ``auto`` preset needs it)."""
    return int(dataset_of(parse_dataset_name(config.name)).image_size(config))

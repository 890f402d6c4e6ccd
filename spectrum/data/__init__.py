"""Datasets: Fashion-MNIST, CIFAR, image folders and synthetic data, found or downloaded, read,
checked and split into train/validation/test tensors.

Modules, in the order data flows through them: ``config`` (names, :class:`DataConfig`,
:class:`Splits`), ``files`` (lookup folders, downloads, checksums, extraction), one reader per
format (``fashion_mnist``, ``cifar``, ``imagefolder``, ``synthetic``), ``splits`` (validation
hold-out, channel statistics) and ``load`` (:func:`load_dataset`, the lookup by name).
"""

from .config import (
    CIFAR10,
    CIFAR100,
    DATASET_CHOICES,
    DEFAULT_VAL_SIZE,
    FASHION_MNIST,
    IMAGEFOLDER_PREFIX,
    SYNTHETIC,
    DataConfig,
    LoadedData,
    Splits,
    data_config_from_flags,
    parse_dataset_name,
)
from .files import RemoteFile, error_reason
from .load import load_dataset

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "DATASET_CHOICES",
    "DEFAULT_VAL_SIZE",
    "FASHION_MNIST",
    "IMAGEFOLDER_PREFIX",
    "SYNTHETIC",
    "DataConfig",
    "LoadedData",
    "RemoteFile",
    "Splits",
    "data_config_from_flags",
    "error_reason",
    "load_dataset",
    "parse_dataset_name",
]

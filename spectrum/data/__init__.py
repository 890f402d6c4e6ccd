"""Datasets: Fashion-MNIST, CIFAR, image folders and synthetic data, found or downloaded, read,
checked and split into train/validation/test tensors.

Modules, lowest first: ``registry`` (:class:`Dataset` entries and :class:`LoadedData`, found
in every module's ``DATASETS``: the names and their parsing), ``config`` (names,
:class:`DataConfig` and its checks, :class:`Splits`), ``files`` (lookup folders, downloads,
checksums, extraction), one reader per format (``fashion_mnist``, ``cifar``, ``imagefolder``,
``synthetic``), each ending with its ``DATASETS`` entries, ``splits`` (validation hold-out,
channel statistics) and ``load`` (:func:`load_dataset`).

Adding a dataset: one module here that reads it and ends with ``DATASETS`` (see
:mod:`spectrum.data.registry`), and its test.
"""

from .config import (
    CIFAR10,
    CIFAR100,
    DEFAULT_VAL_SIZE,
    FASHION_MNIST,
    IMAGEFOLDER_PREFIX,
    SYNTHETIC,
    DataConfig,
    Splits,
    image_size_of,
)
from .files import RemoteFile, error_reason
from .load import load_dataset
from .registry import (
    Dataset,
    LoadedData,
    dataset_choices,
    datasets,
    parse_dataset_name,
)

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "DEFAULT_VAL_SIZE",
    "FASHION_MNIST",
    "IMAGEFOLDER_PREFIX",
    "SYNTHETIC",
    "DataConfig",
    "Dataset",
    "LoadedData",
    "RemoteFile",
    "Splits",
    "dataset_choices",
    "datasets",
    "error_reason",
    "image_size_of",
    "load_dataset",
    "parse_dataset_name",
]

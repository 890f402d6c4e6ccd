"""The datasets ``--dataset`` can name: one :class:`Dataset` entry per name, found in the modules
of ``spectrum.data``.

A dataset is one module in ``spectrum/data/`` that reads it and ends with ``DATASETS``, a tuple of
:class:`Dataset` entries (its names, how it loads into :class:`LoadedData`, its image side, the
options it checks); this module finds every such module, so adding a dataset is adding its file
(and its test). Everything that branches on a dataset goes through here: :func:`parse_dataset_name`
(the names and their spellings) and :func:`dataset_of`, which
:class:`~spectrum.data.config.DataConfig` uses for its ``name`` option and its checks.

The registry sits below the config: an entry's functions take the ``DataConfig`` as their first
argument, but nothing here reads its fields.
"""

from __future__ import annotations

import functools
import importlib
import numbers
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SpecError


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


def is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _no_check(config: Any) -> None:
    return None


@dataclass(frozen=True)
class Dataset:
    """One name ``--dataset`` accepts (or, with ``prefix``, one family of names such as
    ``imagefolder:PATH``)."""

    name: str  # canonical, lower case; a prefix entry's name ends with ":"
    order: int  # where the dataset stands in the list of choices
    # Each takes the DataConfig first (typed Any: the config imports this module, not back).
    load: Callable[[Any, str], LoadedData]  # (config, canonical name) -> the data as read
    image_size: Callable[[Any], int]  # the images' side, known before they load
    check: Callable[[Any], None] = _no_check  # SpecError for options it cannot use
    prefix: bool = False  # the name is followed by a path: ``imagefolder:/data/flowers``
    example: str = ""  # a prefix entry's example, for the error when the path is missing
    sized: bool = False  # it takes ``image_size`` (images are resized on reading)

    @property
    def choice(self) -> str:
        return self.name + "PATH" if self.prefix else self.name

    def names(self, canonical: str) -> bool:
        return canonical.startswith(self.name) if self.prefix else canonical == self.name


@functools.cache
def datasets() -> tuple[Dataset, ...]:
    """Every dataset, in the order of the choices: the ``DATASETS`` of spectrum.data's modules."""
    found: list[Dataset] = []
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        found.extend(
            getattr(importlib.import_module(f"{__package__}.{module.name}"), "DATASETS", ())
        )
    return tuple(sorted(found, key=lambda dataset: dataset.order))


def dataset_choices() -> tuple[str, ...]:
    """The choices as the help and the errors list them (``imagefolder:PATH`` for a prefix)."""
    return tuple(dataset.choice for dataset in datasets())


def parse_dataset_name(text: str) -> str:
    """The canonical dataset name for a ``--dataset`` value; ``imagefolder:PATH`` keeps PATH."""
    raw = str(text).strip()
    for dataset in datasets():
        if dataset.prefix and raw.lower().startswith(dataset.name):
            path = raw[len(dataset.name) :].strip()
            if not path:
                raise SpecError(f"dataset {dataset.name!r} needs a path, e.g. {dataset.example}")
            return dataset.name + path
    squashed = raw.lower().replace("-", "").replace("_", "")
    for dataset in datasets():
        if not dataset.prefix and squashed == dataset.name.replace("-", ""):
            return dataset.name
    raise SpecError(f"unknown dataset {raw!r}; choose one of: {', '.join(dataset_choices())}")


def dataset_of(name: str) -> Dataset:
    """The entry that reads the canonical dataset name ``name``."""
    for dataset in datasets():
        if dataset.names(name):
            return dataset
    raise SpecError(f"unknown dataset {name!r}; choose one of: {', '.join(dataset_choices())}")

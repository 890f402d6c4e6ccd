"""``load_dataset``: from a :class:`DataConfig` to :class:`Splits`, through the dataset's entry in
:mod:`spectrum.data.registry`."""

from __future__ import annotations

from .config import DataConfig, Splits, check_config
from .registry import dataset_of, parse_dataset_name
from .splits import make_splits


def load_dataset(config: DataConfig) -> Splits:
    """Find (or download, or generate) the dataset ``config.name`` and split it."""
    name = parse_dataset_name(config.name)
    check_config(config, name)
    return make_splits(name, dataset_of(name).load(config, name), config)

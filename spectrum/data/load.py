"""``load_dataset``: from a :class:`DataConfig` to :class:`Splits`, by dataset name."""

from __future__ import annotations

from .cifar import CIFAR_LAYOUTS, load_cifar
from .config import FASHION_MNIST, SYNTHETIC, DataConfig, Splits, check_config, parse_dataset_name
from .fashion_mnist import load_fashion_mnist
from .imagefolder import load_imagefolder
from .splits import make_splits
from .synthetic import generate_synthetic


def load_dataset(config: DataConfig) -> Splits:
    """Find (or download, or generate) the dataset ``config.name`` and split it."""
    name = parse_dataset_name(config.name)
    check_config(config, name)
    if name == FASHION_MNIST:
        loaded = load_fashion_mnist(config)
    elif name in CIFAR_LAYOUTS:
        loaded = load_cifar(config, name)
    elif name == SYNTHETIC:
        loaded = generate_synthetic(config)
    else:
        loaded = load_imagefolder(config, name)
    return make_splits(name, loaded, config)

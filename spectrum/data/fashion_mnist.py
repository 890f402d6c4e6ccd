"""Fashion-MNIST: its four IDX files, found (or downloaded into the cache) and parsed."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from ..errors import DataError
from .config import FASHION_MNIST, DataConfig
from .files import (
    REPLACE_HINT,
    RemoteFile,
    check_labels,
    download,
    downloads_allowed,
    downloads_off,
    env_data_dir,
    explicit_data_dir,
    read_file_bytes,
    user_cache_dir,
)
from .registry import Dataset, LoadedData

# Debian's dataset-fashion-mnist installs here; a module constant so that tests can move it.
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
FASHION_MNIST_REMOTE = tuple(
    RemoteFile(FASHION_MNIST_URL + name, md5)
    for name, md5 in (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
)
FASHION_MNIST_WAYS = (
    "get it one of three ways: pass --data-dir DIR (or set SPECTRUM_DATA=DIR) to a folder holding "
    "the four IDX files (.gz or not); run `apt-get install dataset-fashion-mnist`; or run once "
    "online so that it is downloaded into {cache}"
)


def parse_idx(payload: bytes, path: Path, ndim: int) -> np.ndarray:
    """An IDX array of unsigned bytes with ``ndim`` dimensions; DataError naming ``path`` if not."""
    if len(payload) < 4 or payload[:3] != b"\x00\x00\x08":
        raise DataError(
            f"{path} is not an IDX file of unsigned bytes (magic "
            f"{payload[:4].hex() or 'missing'}); {REPLACE_HINT}"
        )
    if payload[3] != ndim:
        raise DataError(
            f"{path} is an IDX file with {payload[3]} dimensions, expected {ndim}; "
            "are the image and label files swapped?"
        )
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DataError(f"{path} is truncated inside its IDX header; {REPLACE_HINT}")
    dims = struct.unpack(f">{ndim}I", payload[4:header])
    expected, found = math.prod(dims), len(payload) - header
    if found < expected:
        raise DataError(
            f"{path} is truncated: its header promises {expected} bytes of data, "
            f"it holds {found}; {REPLACE_HINT}"
        )
    if found > expected:
        raise DataError(
            f"{path} has {found - expected} bytes after the data its header "
            f"describes; {REPLACE_HINT}"
        )
    # copy(): frombuffer over bytes is read-only, and torch wants writable arrays
    return np.frombuffer(payload, np.uint8, count=expected, offset=header).reshape(dims).copy()


def read_idx(path: Path, ndim: int) -> np.ndarray:
    return parse_idx(read_file_bytes(path), path, ndim)


def find_idx_files(directory: Path) -> dict[str, Path | None]:
    """For each Fashion-MNIST file stem, its ``.gz`` or uncompressed file in ``directory``."""
    found: dict[str, Path | None] = {}
    for stem in FASHION_MNIST_STEMS:
        candidates = (directory / f"{stem}.gz", directory / stem)
        found[stem] = next((path for path in candidates if path.is_file()), None)
    return found


def fashion_mnist_dirs(config: DataConfig) -> list[Path]:
    """Directories to search, in order (the user cache last)."""
    dirs: list[Path] = []
    for root in (explicit_data_dir(config), env_data_dir()):
        if root is not None:
            dirs += [root, root / FASHION_MNIST]
    return dirs + [SYSTEM_FASHION_MNIST_DIR, user_cache_dir() / FASHION_MNIST]


def locate_fashion_mnist(config: DataConfig) -> tuple[Path, dict[str, Path]]:
    """The first directory holding all four files, downloading into the cache when allowed."""
    cache = user_cache_dir() / FASHION_MNIST
    dirs = fashion_mnist_dirs(config)
    for directory in dirs:
        found = find_idx_files(directory)
        if all(found.values()):
            return directory, found  # type: ignore[return-value]
        missing = [stem for stem, path in found.items() if path is None]
        # A partial cache is an interrupted download, completed below; elsewhere it is a mistake.
        if len(missing) < len(found) and directory != cache:
            raise DataError(
                f"{directory} holds only part of Fashion-MNIST: missing "
                f"{', '.join(s + '[.gz]' for s in missing)}; add them or point "
                "--data-dir elsewhere"
            )
    ways = FASHION_MNIST_WAYS.format(cache=cache)
    searched = ", ".join(dict.fromkeys(str(d) for d in dirs))
    if not downloads_allowed(config):
        raise DataError(
            f"Fashion-MNIST not found (searched {searched}) and {downloads_off(config)}; {ways}"
        )
    present = find_idx_files(cache)
    for remote in FASHION_MNIST_REMOTE:
        if present.get(remote.filename.removesuffix(".gz")) is None:
            try:
                download(remote, cache)
            except DataError as exc:
                raise DataError(f"Fashion-MNIST not found locally and {exc}; {ways}") from None
    return cache, find_idx_files(cache)  # type: ignore[return-value]


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, H, W)`` and int64 labels from one pair of IDX files."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels; one of them is from another release, replace it"
        )
    check_labels(labels, 10, labels_path)
    return images[:, None], labels


def load_fashion_mnist(config: DataConfig) -> LoadedData:
    directory, files = locate_fashion_mnist(config)
    train_x, train_y = read_idx_pair(
        files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]
    )
    test_x, test_y = read_idx_pair(files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"])
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(
            f"train and test images in {directory} differ in size "
            f"({train_x.shape[2:]} vs {test_x.shape[2:]}); replace the odd file"
        )
    return LoadedData(str(directory), train_x, train_y, test_x, test_y, 10, hflip=False)


DATASETS = (
    Dataset(
        FASHION_MNIST,
        order=10,
        load=lambda config, name: load_fashion_mnist(config),
        image_size=lambda config: 28,
    ),
)

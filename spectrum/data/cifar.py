"""CIFAR-10 and CIFAR-100: the python-pickle batches, found (or downloaded and extracted into the
cache) and read with an unpickler that loads plain data only."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .config import CIFAR10, CIFAR100, DataConfig
from .files import (
    REPLACE_HINT,
    RemoteFile,
    check_labels,
    download,
    downloads_allowed,
    downloads_off,
    env_data_dir,
    error_reason,
    explicit_data_dir,
    extract_safely,
    file_md5,
    user_cache_dir,
)
from .registry import Dataset, LoadedData


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant keeps its pickles, and where to download it from."""

    title: str
    folder: str
    train_files: tuple[str, ...]
    test_file: str
    label_key: bytes
    num_classes: int
    remote: RemoteFile


CIFAR_URL = "https://www.cs.toronto.edu/~kriz/"
CIFAR_LAYOUTS = {
    CIFAR10: CifarLayout(
        "CIFAR-10",
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
        b"labels",
        10,
        RemoteFile(CIFAR_URL + "cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),
    ),
    CIFAR100: CifarLayout(
        "CIFAR-100",
        "cifar-100-python",
        ("train",),
        "test",
        b"fine_labels",
        100,
        RemoteFile(CIFAR_URL + "cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),
    ),
}
CIFAR_ROW_BYTES = 3 * 32 * 32


class CifarUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a dataset file must not run code."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module.removeprefix("numpy.core.")  # numpy 2 renamed it
        return super().find_class(module, name)


def read_cifar_batch(
    path: Path, label_key: bytes, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` and int64 labels from one CIFAR pickle."""
    try:
        with path.open("rb") as stream:
            batch = CifarUnpickler(stream, encoding="bytes").load()
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror}); check its permissions") from None
    except Exception as exc:  # a corrupt pickle can raise nearly anything
        raise DataError(
            f"{path} is not a readable CIFAR pickle ({type(exc).__name__}: "
            f"{error_reason(exc)}); {REPLACE_HINT}"
        ) from None
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        raise DataError(
            f"{path} lacks the keys b'data' and {label_key!r} of a CIFAR batch; {REPLACE_HINT}"
        )
    data = batch[b"data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != CIFAR_ROW_BYTES
    ):
        shape, dtype = getattr(data, "shape", "?"), getattr(data, "dtype", type(data).__name__)
        raise DataError(
            f"{path}: b'data' is {dtype} of shape {shape}, expected uint8 "
            f"(N, {CIFAR_ROW_BYTES}); {REPLACE_HINT}"
        )
    try:
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (TypeError, ValueError):
        labels = None
    if labels is None or labels.shape != (len(data),):
        raise DataError(
            f"{path}: {label_key!r} does not hold one integer label per row of "
            f"b'data' ({len(data)} rows); {REPLACE_HINT}"
        )
    check_labels(labels, num_classes, path)
    # rows are channel-major: 1024 red, then 1024 green, then 1024 blue bytes
    return np.ascontiguousarray(data).reshape(-1, 3, 32, 32), labels


def cifar_files(directory: Path, layout: CifarLayout) -> list[Path]:
    return [directory / name for name in (*layout.train_files, layout.test_file)]


def cifar_ways(layout: CifarLayout, cache: Path) -> str:
    return (
        f"get it one of three ways: pass --data-dir DIR (or set SPECTRUM_DATA=DIR) to the "
        f"extracted {layout.folder} folder or its parent; download {layout.remote.url} and "
        f"extract it into {cache}; or run once online so that it is downloaded there"
    )


def locate_cifar(config: DataConfig, layout: CifarLayout) -> Path:
    """The folder holding the pickles, downloading and extracting into the cache when allowed."""
    cache = user_cache_dir()
    roots = [root for root in (explicit_data_dir(config), env_data_dir()) if root is not None]
    searched: list[Path] = []
    for root in (*roots, cache):
        for directory in (root, root / layout.folder):
            searched.append(directory)
            present = [path.is_file() for path in cifar_files(directory, layout)]
            if all(present):
                return directory
            if any(present):
                missing = [
                    p.name for p, ok in zip(cifar_files(directory, layout), present) if not ok
                ]
                raise DataError(
                    f"{directory} holds only part of {layout.title}: missing "
                    f"{', '.join(missing)}; add them or point --data-dir elsewhere"
                )
    ways = cifar_ways(layout, cache)
    if not downloads_allowed(config):
        searched_text = ", ".join(dict.fromkeys(map(str, searched)))
        raise DataError(
            f"{layout.title} not found (searched {searched_text}) and "
            f"{downloads_off(config)}; {ways}"
        )
    archive = cache / layout.remote.filename
    try:
        if not (archive.is_file() and file_md5(archive) == layout.remote.md5):
            download(layout.remote, cache)
    except DataError as exc:
        raise DataError(f"{layout.title} not found locally and {exc}; {ways}") from None
    directory = extract_safely(archive, layout.folder, cache)
    archive.unlink(missing_ok=True)
    return directory


def load_cifar(config: DataConfig, name: str) -> LoadedData:
    layout = CIFAR_LAYOUTS[name]
    directory = locate_cifar(config, layout)
    batches = [
        read_cifar_batch(directory / file, layout.label_key, layout.num_classes)
        for file in layout.train_files
    ]
    test_x, test_y = read_cifar_batch(
        directory / layout.test_file, layout.label_key, layout.num_classes
    )
    train_x = np.concatenate([x for x, _ in batches])
    train_y = np.concatenate([y for _, y in batches])
    return LoadedData(
        str(directory), train_x, train_y, test_x, test_y, layout.num_classes, hflip=True
    )


DATASETS = tuple(
    Dataset(name, order=20 + i, load=load_cifar, image_size=lambda config: 32)
    for i, name in enumerate(CIFAR_LAYOUTS)
)

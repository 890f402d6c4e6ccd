"""Datasets: from a ``--dataset`` value to uint8 train/val/test tensors in memory.

This module owns finding dataset files on disk, downloading them when allowed (MD5-verified,
written to a temp file in the target folder and renamed, so no half file is ever visible),
parsing the on-disk formats (IDX for Fashion-MNIST, the python pickles of CIFAR-10/100, folders of
images) and generating a small learnable synthetic set. It also holds out the validation split,
deterministically, and computes the per-channel statistics and augmentation hints the trainer uses.

Lookup order: ``DataConfig.data_dir`` (``--data-dir``; must exist if given), ``$SPECTRUM_DATA``
(each as the folder with the files or its parent), for Fashion-MNIST also Debian's
``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``), then the user cache
``$XDG_CACHE_HOME/spectrum`` (or ``~/.cache/spectrum``), then a download into that cache unless
``allow_download`` is false or ``SPECTRUM_OFFLINE=1``.

Nothing here normalises or augments: images stay uint8 ``(N, C, H, W)`` and labels int64 ``(N,)``.
:func:`fetch_url_chunks` is the only function that opens a network connection.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import numbers
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from ..errors import DataError, SpecError

FASHION_MNIST = "fashion-mnist"
CIFAR10 = "cifar10"
CIFAR100 = "cifar100"
SYNTHETIC = "synthetic"
IMAGEFOLDER_PREFIX = "imagefolder:"
DATASET_CHOICES = (FASHION_MNIST, CIFAR10, CIFAR100, IMAGEFOLDER_PREFIX + "PATH", SYNTHETIC)

DEFAULT_VAL_SIZE = 5000
SMALL_SET_VAL_FRACTION = 0.2
DEFAULT_IMAGEFOLDER_SIZE = 32
DOWNLOAD_TIMEOUT_S = 20.0
SYNTHETIC_SEED = 20170407  # fixed: the synthetic images do not change with split_seed
OFFLINE_VALUES = ("1", "true", "yes", "on")

# Debian's dataset-fashion-mnist installs here; a module constant so that tests can move it.
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


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


@dataclass(frozen=True)
class RemoteFile:
    """A file of an official dataset source and its published MD5."""

    url: str
    md5: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


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

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")

REPLACE_HINT = "replace it with a good copy (a file in the cache is downloaded again once deleted)"


# ---------------------------------------------------------------------------------------------
# Names and options


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


def describe(exc: BaseException) -> str:
    """An exception as one line of text, for messages that must stay on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


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


# ---------------------------------------------------------------------------------------------
# Where to look


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/spectrum``, or ``~/.cache/spectrum``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "spectrum"


def env_data_dir() -> Path | None:
    value = os.environ.get("SPECTRUM_DATA", "").strip()
    return Path(value).expanduser() if value else None


def explicit_data_dir(config: DataConfig) -> Path | None:
    """``config.data_dir``, which must exist when given: a typo should not silently fall back."""
    if not config.data_dir:
        return None
    directory = Path(config.data_dir).expanduser()
    if not directory.is_dir():
        raise DataError(
            f"--data-dir {directory} is not a directory; pass the folder that holds "
            "the dataset files"
        )
    return directory


def offline_by_env() -> bool:
    return os.environ.get("SPECTRUM_OFFLINE", "").strip().lower() in OFFLINE_VALUES


def downloads_allowed(config: DataConfig) -> bool:
    return config.allow_download and not offline_by_env()


def downloads_off(config: DataConfig) -> str:
    """Why downloads are off, for messages."""
    return "SPECTRUM_OFFLINE is set" if offline_by_env() else "downloads are disabled"


# ---------------------------------------------------------------------------------------------
# Downloads


def fetch_url_chunks(url: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> Iterator[bytes]:
    """Yield the body of ``url`` in chunks; the only function here that touches the network."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read(1 << 20):
            yield chunk


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(remote: RemoteFile, directory: Path) -> Path:
    """Fetch ``remote`` into ``directory``: temp file, MD5 check, then an atomic rename.

    The DataError message says only what went wrong; callers add how to get the data otherwise.
    """
    target = directory / remote.filename
    temp: Path | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=directory, prefix=f".{remote.filename}.", suffix=".part"
        )
        temp = Path(temp_name)
        digest = hashlib.md5()
        with os.fdopen(handle, "wb") as stream:
            for chunk in fetch_url_chunks(remote.url):
                digest.update(chunk)
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        if digest.hexdigest() != remote.md5:
            raise DataError(
                f"downloaded {remote.url} has MD5 {digest.hexdigest()}, expected "
                f"{remote.md5} (discarded, nothing written to {directory})"
            )
        os.chmod(temp, 0o644)  # mkstemp creates 0600
        os.replace(temp, target)
    except (OSError, http.client.HTTPException) as exc:
        reason = describe(getattr(exc, "reason", None) or exc)
        raise DataError(f"download of {remote.url} into {directory} failed ({reason})") from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST (IDX files)


FASHION_MNIST_WAYS = (
    "get it one of three ways: pass --data-dir DIR (or set SPECTRUM_DATA=DIR) to a folder holding "
    "the four IDX files (.gz or not); run `apt-get install dataset-fashion-mnist`; or run once "
    "online so that it is downloaded into {cache}"
)


def read_file_bytes(path: Path) -> bytes:
    """The contents of ``path``, gunzipped when the name ends in ``.gz``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror}); check its permissions") from None
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path} is not a valid gzip file ({describe(exc)}); {REPLACE_HINT}"
        ) from None


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


def check_labels(labels: np.ndarray, num_classes: int, path: Path) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(
            f"{path} has labels outside 0..{num_classes - 1} (found "
            f"{labels.min()}..{labels.max()}); {REPLACE_HINT}"
        )


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


# ---------------------------------------------------------------------------------------------
# CIFAR-10 / CIFAR-100 (python pickles)


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
            f"{describe(exc)}); {REPLACE_HINT}"
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


def extract_safely(archive: Path, folder: str, destination: Path) -> Path:
    """Extract ``folder/`` from a tar.gz into ``destination``; all or nothing, no path tricks."""
    target = destination / folder
    staging = Path(tempfile.mkdtemp(dir=destination, prefix=f".{folder}."))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                parts = PurePosixPath(member.name).parts
                if (
                    member.name.startswith("/")
                    or ".." in parts
                    or not parts
                    or parts[0] != folder
                    or not (member.isfile() or member.isdir())
                ):
                    raise DataError(
                        f"{archive} contains the unexpected entry {member.name!r}; "
                        "refusing to extract it, delete the archive"
                    )
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters; members checked above
                tar.extractall(staging, members=members)
        if not target.exists():  # another process may have finished first
            os.replace(staging / folder, target)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"cannot extract {archive} ({describe(exc)}); delete it so that it is downloaded again"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


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


# ---------------------------------------------------------------------------------------------
# imagefolder:PATH


IMAGEFOLDER_LAYOUT = (
    "imagefolder:PATH needs PATH/train/<class>/*.png|jpg|jpeg and PATH/val/<class>/..."
)


def list_class_images(split_dir: Path) -> dict[str, list[Path]]:
    """Class name -> sorted image paths, for every non-hidden subfolder of ``split_dir``."""
    if not split_dir.is_dir():
        raise DataError(f"{split_dir} is missing; {IMAGEFOLDER_LAYOUT}")
    class_dirs = sorted(d for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{split_dir} has no class folders; {IMAGEFOLDER_LAYOUT}")
    classes: dict[str, list[Path]] = {}
    for class_dir in class_dirs:
        images = sorted(
            p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images:
            raise DataError(f"{class_dir} has no .png/.jpg/.jpeg images; add some or remove it")
        classes[class_dir.name] = images
    return classes


def read_image(path: Path, size: int) -> tuple[np.ndarray, bool]:
    """An RGB uint8 array ``(size, size, 3)`` and whether the file was grayscale."""
    from PIL import Image  # only imagefolder needs Pillow

    try:
        with Image.open(path) as image:
            grayscale = image.mode in GRAYSCALE_MODES
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8), grayscale
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"cannot read image {path} ({describe(exc)}); replace or delete it"
        ) from None


def load_imagefolder(config: DataConfig, name: str) -> LoadedData:
    root = Path(name[len(IMAGEFOLDER_PREFIX) :]).expanduser()
    if not root.is_dir():
        raise DataError(f"image folder {root} is missing; {IMAGEFOLDER_LAYOUT}")
    size = config.image_size or DEFAULT_IMAGEFOLDER_SIZE
    train_classes = list_class_images(root / "train")
    test_classes = list_class_images(root / "val")
    class_index = {class_name: i for i, class_name in enumerate(train_classes)}
    for class_name in test_classes:
        if class_name not in class_index:
            raise DataError(
                f"{root / 'val' / class_name} is a class that {root / 'train'} "
                "lacks; add it to train/ or remove it from val/"
            )

    def read_split(classes: dict[str, list[Path]]) -> tuple[np.ndarray, np.ndarray, bool]:
        arrays, labels, all_gray = [], [], True
        for class_name, paths in classes.items():
            for path in paths:
                array, gray = read_image(path, size)
                arrays.append(array)
                labels.append(class_index[class_name])
                all_gray &= gray
        images = np.stack(arrays).transpose(0, 3, 1, 2)
        return images, np.asarray(labels, dtype=np.int64), all_gray

    train_x, train_y, train_gray = read_split(train_classes)
    test_x, test_y, test_gray = read_split(test_classes)
    channels = slice(0, 1) if train_gray and test_gray else slice(0, 3)
    return LoadedData(
        str(root),
        np.ascontiguousarray(train_x[:, channels]),
        train_y,
        np.ascontiguousarray(test_x[:, channels]),
        test_y,
        len(class_index),
        hflip=True,
    )


# ---------------------------------------------------------------------------------------------
# synthetic


def generate_synthetic(config: DataConfig) -> LoadedData:
    """Noisy oriented gratings, one orientation/frequency per class: learnable, deterministic.

    Each image is its class's sinusoidal grating at a random phase (so a position-free CNN learns
    it in an epoch while a pixel template does not suffice) plus Gaussian pixel noise.
    """
    channels, height, width = (int(n) for n in config.synthetic_shape)
    classes = config.synthetic_classes
    total = config.synthetic_train + config.synthetic_test
    generator = torch.Generator().manual_seed(SYNTHETIC_SEED)
    labels = torch.randperm(total, generator=generator) % classes  # balanced, in random order
    phase = torch.rand(total, generator=generator) * 2 * math.pi
    noise = torch.randn(total, channels, height, width, generator=generator)

    scale = max(min(height, width), 8) / 28  # periods of 7 and 4.5 pixels at 28x28
    class_ids = torch.arange(classes)
    angle = class_ids * math.pi / classes
    frequency = 2 * math.pi / (torch.where(class_ids % 2 == 0, 7.0, 4.5) * scale)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing="ij",
    )
    along = cols * angle.cos().view(-1, 1, 1) + rows * angle.sin().view(-1, 1, 1)  # (K, H, W)
    wave = torch.sin(frequency[labels].view(-1, 1, 1) * along[labels] + phase.view(-1, 1, 1))
    images = (128 + 50 * wave.unsqueeze(1) + 40 * noise).round().clamp(0, 255).to(torch.uint8)
    n_train = config.synthetic_train
    return LoadedData(
        "generated",
        images[:n_train].numpy(),
        labels[:n_train].numpy(),
        images[n_train:].numpy(),
        labels[n_train:].numpy(),
        classes,
        hflip=False,
    )


# ---------------------------------------------------------------------------------------------
# Splitting and statistics


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

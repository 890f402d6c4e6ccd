"""``imagefolder:PATH``: ``PATH/train/<class>/*`` and ``PATH/val/<class>/*`` images, resized to one
square size (grayscale stays one channel when every image is grayscale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .config import IMAGEFOLDER_PREFIX, DataConfig
from .files import error_reason
from .registry import Dataset, LoadedData

DEFAULT_IMAGEFOLDER_SIZE = 32
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")
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
    from PIL import Image  # here: ~0.1 s of import, and only image folders need Pillow

    try:
        with Image.open(path) as image:
            grayscale = image.mode in GRAYSCALE_MODES
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8), grayscale
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"cannot read image {path} ({error_reason(exc)}); replace or delete it"
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


DATASETS = (
    Dataset(
        IMAGEFOLDER_PREFIX,
        order=30,
        load=load_imagefolder,
        image_size=lambda config: config.image_size or DEFAULT_IMAGEFOLDER_SIZE,
        prefix=True,
        example="imagefolder:/data/flowers",
        sized=True,
    ),
)

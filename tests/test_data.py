"""Tests of spectrum.data: tiny datasets written in the real formats, no network ever."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spectrum.data import (
    DataConfig,
    RemoteFile,
    cifar,
    fashion_mnist,
    load_dataset,
    parse_dataset_name,
)
from spectrum.data import files as data_files
from spectrum.errors import DataError, SpecError

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = fashion_mnist.FASHION_MNIST_STEMS


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No environment leaks in, the system copy is hidden, the cache is private, no network."""
    monkeypatch.delenv("SPECTRUM_DATA", raising=False)
    monkeypatch.delenv("SPECTRUM_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "no-system-copy")

    def no_network(url, timeout=None):
        raise AssertionError(f"test tried to fetch {url}")

    monkeypatch.setattr(data_files, "fetch_url_chunks", no_network)


def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "spectrum"


# --- writers of the real formats ------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def fashion_arrays(n_train: int = 20, n_test: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Images whose pixel (0, 0) is the image's index, so splits can be traced back."""
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    train[:, 0, 0] = np.arange(n_train)
    test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    return {
        TRAIN_IMAGES: train,
        TRAIN_LABELS: (np.arange(n_train) % 10).astype(np.uint8),
        TEST_IMAGES: test,
        TEST_LABELS: (np.arange(n_test) % 10).astype(np.uint8),
    }


def fashion_files(arrays: dict[str, np.ndarray], compress: bool = True) -> dict[str, bytes]:
    return {
        stem + (".gz" if compress else ""): gzip.compress(idx_bytes(a))
        if compress
        else idx_bytes(a)
        for stem, a in arrays.items()
    }


def write_files(directory: Path, files: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (directory / name).write_bytes(body)
    return directory


def write_fashion(directory: Path, compress: bool = True, **kwargs) -> dict[str, np.ndarray]:
    arrays = fashion_arrays(**kwargs)
    write_files(directory, fashion_files(arrays, compress))
    return arrays


def cifar_batch(rows: int, label_key: bytes, classes: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"batch",
        b"data": rng.integers(0, 256, (rows, 3072), dtype=np.uint8),
        label_key: [int(v) for v in rng.integers(0, classes, rows)],
        b"filenames": [b"x.png"] * rows,
    }


def write_cifar(root: Path, name: str = "cifar10", rows: int = 4) -> tuple[Path, list[dict]]:
    layout = cifar.CIFAR_LAYOUTS[name]
    folder = root / layout.folder
    folder.mkdir(parents=True)
    batches = []
    for i, file in enumerate((*layout.train_files, layout.test_file)):
        batch = cifar_batch(rows, layout.label_key, layout.num_classes, seed=i)
        (folder / file).write_bytes(pickle.dumps(batch, protocol=2))
        batches.append(batch)
    return folder, batches


def write_png(path: Path, colour, mode: str = "RGB", size=(10, 12)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


def write_imagefolder(root: Path, mode: str = "RGB") -> Path:
    colours = {"dog": (0, 0, 255), "cat": (255, 0, 0)} if mode == "RGB" else {"dog": 200, "cat": 30}
    for class_name, colour in colours.items():  # dog first: order must come from sorting
        for i in range(5):
            write_png(root / "train" / class_name / f"{i}.png", colour, mode)
        for i in range(2):
            write_png(root / "val" / class_name / f"{i}.png", colour, mode)
    return root


def serve(monkeypatch, files: dict[str, bytes]) -> list[str]:
    """Replace the network with ``files`` (URL -> body); returns the list of fetched URLs."""
    fetched: list[str] = []

    def fake_fetch(url, timeout=None):
        fetched.append(url)
        body = files[url]
        yield body[: len(body) // 2]
        yield body[len(body) // 2 :]

    monkeypatch.setattr(data_files, "fetch_url_chunks", fake_fetch)
    return fetched


def md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


# --- names and options ----------------------------------------------------------------------


def test_parse_dataset_name_accepts_choices_and_aliases():
    assert parse_dataset_name("fashion-mnist") == "fashion-mnist"
    assert parse_dataset_name(" Fashion_MNIST ") == "fashion-mnist"
    assert parse_dataset_name("CIFAR-10") == "cifar10"
    assert parse_dataset_name("cifar100") == "cifar100"
    assert parse_dataset_name("synthetic") == "synthetic"
    assert parse_dataset_name("imagefolder:/data/My Flowers") == "imagefolder:/data/My Flowers"


@pytest.mark.parametrize("text", ["mnist", "", "imagefolder:", "cifar"])
def test_parse_dataset_name_rejects_with_choices(text):
    with pytest.raises(SpecError) as error:
        parse_dataset_name(text)
    assert "imagefolder:" in str(error.value)


def test_image_size_is_for_imagefolder_only(tmp_path):
    with pytest.raises(SpecError, match="image_size"):
        load_dataset(DataConfig(name="synthetic", image_size=16))


# --- Fashion-MNIST --------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_shapes_dtypes_labels(tmp_path, compress):
    arrays = write_fashion(tmp_path / "fm", compress=compress)
    splits = load_dataset(
        DataConfig(data_dir=str(tmp_path / "fm"), val_size=5, allow_download=False)
    )
    assert splits.name == "fashion-mnist"
    assert splits.source == str(tmp_path / "fm")
    assert splits.sizes == dict(train=15, val=5, test=8)
    assert splits.train_x.shape == (15, 1, 28, 28) and splits.train_x.dtype == torch.uint8
    assert splits.train_y.dtype == torch.int64 and splits.test_y.dtype == torch.int64
    assert (splits.in_channels, splits.image_size, splits.num_classes) == (1, 28, 10)
    assert (splits.hflip, splits.crop_padding) == (False, 2)
    # labels travel with their images: image i has label i % 10
    for x, y in ((splits.train_x, splits.train_y), (splits.val_x, splits.val_y)):
        assert torch.equal(x[:, 0, 0, 0].long() % 10, y)
    assert torch.equal(splits.test_x[:, 0], torch.from_numpy(arrays[TEST_IMAGES]))
    assert torch.equal(splits.test_y, torch.from_numpy(arrays[TEST_LABELS]).long())


def test_val_split_is_deterministic_disjoint_and_complete(tmp_path):
    write_fashion(tmp_path / "fm", n_train=40)

    def ids(seed):
        s = load_dataset(DataConfig(data_dir=str(tmp_path / "fm"), val_size=10, split_seed=seed))
        return set(s.train_x[:, 0, 0, 0].tolist()), set(s.val_x[:, 0, 0, 0].tolist())

    train, val = ids(0)
    assert len(val) == 10 and not train & val and train | val == set(range(40))
    assert ids(0) == (train, val)
    assert ids(1)[1] != val


def test_mean_std_are_of_the_train_split(tmp_path):
    write_fashion(tmp_path / "fm", n_train=30)
    splits = load_dataset(DataConfig(data_dir=str(tmp_path / "fm"), val_size=10))
    train = splits.train_x.double() / 255
    assert splits.mean == pytest.approx([train.mean().item()], abs=1e-9)
    assert splits.std == pytest.approx([train.std(unbiased=False).item()], abs=1e-9)
    everything = torch.cat([splits.train_x, splits.val_x]).double() / 255
    assert splits.mean[0] != pytest.approx(everything.mean().item(), abs=1e-9)


def test_data_dir_beats_spectrum_data(tmp_path, monkeypatch):
    write_fashion(tmp_path / "explicit")
    write_fashion(tmp_path / "env" / "fashion-mnist")  # SPECTRUM_DATA may hold a subdir
    monkeypatch.setenv("SPECTRUM_DATA", str(tmp_path / "env"))
    config = DataConfig(val_size=5, allow_download=False)
    assert load_dataset(replace(config, data_dir=str(tmp_path / "explicit"))).source == str(
        tmp_path / "explicit"
    )
    assert load_dataset(config).source == str(tmp_path / "env" / "fashion-mnist")


def test_system_copy_then_cache(tmp_path, monkeypatch):
    config = DataConfig(val_size=5, allow_download=False)
    write_fashion(cache_dir(tmp_path) / "fashion-mnist")
    assert load_dataset(config).source == str(cache_dir(tmp_path) / "fashion-mnist")
    write_fashion(tmp_path / "debian")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "debian")
    assert load_dataset(config).source == str(tmp_path / "debian")


def test_missing_data_dir_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no-such-dir"):
        load_dataset(DataConfig(data_dir=str(tmp_path / "no-such-dir")))


def test_partial_directory_names_missing_file(tmp_path):
    write_fashion(tmp_path / "fm")
    (tmp_path / "fm" / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(DataError, match=TEST_LABELS):
        load_dataset(DataConfig(data_dir=str(tmp_path / "fm"), allow_download=False))


def corrupt_truncated(files):
    payload = gzip.decompress(files[f"{TRAIN_IMAGES}.gz"])
    files[f"{TRAIN_IMAGES}.gz"] = gzip.compress(payload[:-10])
    return TRAIN_IMAGES, "truncated"


def corrupt_magic(files):
    payload = bytearray(gzip.decompress(files[f"{TRAIN_IMAGES}.gz"]))
    payload[2] = 0x0D  # float data
    files[f"{TRAIN_IMAGES}.gz"] = gzip.compress(bytes(payload))
    return TRAIN_IMAGES, "magic"


def corrupt_gzip(files):
    files[f"{TEST_IMAGES}.gz"] = files[f"{TEST_IMAGES}.gz"][:-20]
    return TEST_IMAGES, "gzip"


def corrupt_count(files):
    labels = np.zeros(19, dtype=np.uint8)
    files[f"{TRAIN_LABELS}.gz"] = gzip.compress(idx_bytes(labels))
    return TRAIN_LABELS, "19 labels"


def corrupt_raw_truncated(files):
    files.pop(f"{TEST_LABELS}.gz")
    files[TEST_LABELS] = idx_bytes(np.zeros(8, dtype=np.uint8))[:-3]
    return TEST_LABELS, "truncated"


@pytest.mark.parametrize(
    "corrupt",
    [corrupt_truncated, corrupt_magic, corrupt_gzip, corrupt_count, corrupt_raw_truncated],
)
def test_corrupt_idx_names_the_file(tmp_path, corrupt):
    files = fashion_files(fashion_arrays())
    stem, what = corrupt(files)
    write_files(tmp_path / "fm", files)
    with pytest.raises(DataError) as error:
        load_dataset(DataConfig(data_dir=str(tmp_path / "fm")))
    message = str(error.value)
    assert str(tmp_path / "fm" / stem) in message and what in message and "\n" not in message


@pytest.mark.parametrize("switch_off", ["config", "env"])
def test_not_found_lists_the_three_ways(tmp_path, monkeypatch, switch_off):
    if switch_off == "env":
        monkeypatch.setenv("SPECTRUM_OFFLINE", "1")  # the autouse guard fails if it fetches
    config = DataConfig(allow_download=switch_off != "config")
    with pytest.raises(DataError) as error:
        load_dataset(config)
    message = str(error.value)
    assert "\n" not in message
    assert ("SPECTRUM_OFFLINE is set" in message) == (switch_off == "env")
    for way in (
        "--data-dir",
        "SPECTRUM_DATA",
        "apt-get install dataset-fashion-mnist",
        "online",
        str(cache_dir(tmp_path) / "fashion-mnist"),
    ):
        assert way in message


def fake_fashion_remote(monkeypatch, files: dict[str, bytes], bad: str | None = None):
    remote = tuple(
        RemoteFile(fashion_mnist.FASHION_MNIST_URL + name, "0" * 32 if name == bad else md5(body))
        for name, body in files.items()
    )
    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST_REMOTE", remote)
    return serve(monkeypatch, {fashion_mnist.FASHION_MNIST_URL + n: b for n, b in files.items()})


def test_download_into_cache_when_allowed(tmp_path, monkeypatch):
    files = fashion_files(fashion_arrays())
    fetched = fake_fashion_remote(monkeypatch, files)
    splits = load_dataset(DataConfig(val_size=5))
    cache = cache_dir(tmp_path) / "fashion-mnist"
    assert splits.source == str(cache) and splits.sizes["test"] == 8
    assert sorted(fetched) == sorted(fashion_mnist.FASHION_MNIST_URL + name for name in files)
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)
    assert load_dataset(DataConfig(val_size=5)).source == str(cache)
    assert len(fetched) == 4  # the second load used the cache


def test_download_rejects_wrong_checksum_and_leaves_no_file(tmp_path, monkeypatch):
    files = fashion_files(fashion_arrays())
    fake_fashion_remote(monkeypatch, files, bad=f"{TEST_IMAGES}.gz")
    with pytest.raises(DataError) as error:
        load_dataset(DataConfig())
    message = str(error.value)
    assert f"{TEST_IMAGES}.gz" in message and "MD5" in message and "--data-dir" in message
    leftovers = [p.name for p in (cache_dir(tmp_path) / "fashion-mnist").iterdir()]
    assert not [name for name in leftovers if TEST_IMAGES in name or name.endswith(".part")]


def test_official_fashion_mnist_source():
    assert [r.md5 for r in fashion_mnist.FASHION_MNIST_REMOTE][
        0
    ] == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert all(
        r.url.startswith("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
        for r in fashion_mnist.FASHION_MNIST_REMOTE
    )


@pytest.mark.skipif(not REAL_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist():
    splits = load_dataset(DataConfig(data_dir=str(REAL_FASHION_MNIST), allow_download=False))
    assert splits.sizes == dict(train=55000, val=5000, test=10000)
    assert splits.train_x.shape[1:] == (1, 28, 28)
    assert set(splits.test_y.tolist()) == set(range(10))
    assert splits.mean[0] == pytest.approx(0.286, abs=0.002)
    assert splits.std[0] == pytest.approx(0.353, abs=0.002)


# --- CIFAR ----------------------------------------------------------------------------------


@pytest.mark.parametrize("point_at", ["parent", "folder"])
def test_cifar10_pickles(tmp_path, point_at):
    folder, batches = write_cifar(tmp_path / "root")
    data_dir = folder if point_at == "folder" else tmp_path / "root"
    splits = load_dataset(DataConfig(name="cifar10", data_dir=str(data_dir), val_size=4))
    assert splits.source == str(folder)
    assert splits.sizes == dict(train=16, val=4, test=4)
    assert splits.train_x.shape == (16, 3, 32, 32) and splits.train_x.dtype == torch.uint8
    assert (splits.num_classes, splits.hflip, splits.crop_padding) == (10, True, 4)
    assert len(splits.mean) == len(splits.std) == 3
    test = batches[-1]
    # channel-major rows: the first 1024 bytes are the red plane
    assert torch.equal(splits.test_x[0, 0].reshape(-1), torch.from_numpy(test[b"data"][0, :1024]))
    assert torch.equal(splits.test_x[1, 2].reshape(-1), torch.from_numpy(test[b"data"][1, 2048:]))
    assert splits.test_y.tolist() == test[b"labels"]


def test_cifar100_fine_labels(tmp_path, monkeypatch):
    folder, batches = write_cifar(tmp_path, "cifar100", rows=6)
    monkeypatch.setenv("SPECTRUM_DATA", str(tmp_path))
    splits = load_dataset(DataConfig(name="cifar100", val_size=2))
    assert splits.source == str(folder)
    assert splits.num_classes == 100 and splits.sizes == dict(train=4, val=2, test=6)
    assert splits.test_y.tolist() == batches[-1][b"fine_labels"]


class RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize(
    "content, what",
    [
        (b"\x80\x02}q\x00(X\x04\x00\x00", "pickle"),  # cut short
        (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), "3072"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "label"),
        (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}), "labels outside"),
        (pickle.dumps({b"data": RunsCode(), b"labels": [0]}), "refusing"),
    ],
)
def test_corrupt_cifar_names_the_file(tmp_path, content, what):
    folder, _ = write_cifar(tmp_path)
    (folder / "data_batch_3").write_bytes(content)
    with pytest.raises(DataError) as error:
        load_dataset(DataConfig(name="cifar10", data_dir=str(folder), val_size=1))
    assert str(folder / "data_batch_3") in str(error.value) and what in str(error.value)


def cifar_archive(tmp_path: Path, extra: tarfile.TarInfo | None = None) -> bytes:
    write_cifar(tmp_path / "src")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size))
    return buffer.getvalue()


def fake_cifar_remote(monkeypatch, archive: bytes, checksum: str | None = None):
    layout = cifar.CIFAR_LAYOUTS["cifar10"]
    remote = replace(layout.remote, md5=checksum or md5(archive))
    monkeypatch.setitem(cifar.CIFAR_LAYOUTS, "cifar10", replace(layout, remote=remote))
    return serve(monkeypatch, {remote.url: archive})


def test_cifar_download_and_extract(tmp_path, monkeypatch):
    fetched = fake_cifar_remote(monkeypatch, cifar_archive(tmp_path))
    splits = load_dataset(DataConfig(name="cifar10", val_size=2))
    assert fetched == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert splits.source == str(cache_dir(tmp_path) / "cifar-10-batches-py")
    assert sorted(p.name for p in cache_dir(tmp_path).iterdir()) == ["cifar-10-batches-py"]


def test_cifar_download_wrong_checksum(tmp_path, monkeypatch):
    fake_cifar_remote(monkeypatch, cifar_archive(tmp_path), checksum="0" * 32)
    with pytest.raises(DataError, match="cifar-10-python.tar.gz.*MD5"):
        load_dataset(DataConfig(name="cifar10"))
    assert list(cache_dir(tmp_path).iterdir()) == []


def test_cifar_archive_with_escaping_path_is_refused(tmp_path, monkeypatch):
    evil = tarfile.TarInfo("cifar-10-batches-py/../../evil.txt")
    evil.size = 4
    fake_cifar_remote(monkeypatch, cifar_archive(tmp_path, extra=evil))
    with pytest.raises(DataError, match="evil.txt"):
        load_dataset(DataConfig(name="cifar10"))
    assert not list(tmp_path.rglob("evil.txt"))
    assert not (cache_dir(tmp_path) / "cifar-10-batches-py").exists()


def test_cifar_not_found_offline(tmp_path):
    with pytest.raises(DataError) as error:
        load_dataset(DataConfig(name="cifar10", allow_download=False))
    for way in ("--data-dir", "SPECTRUM_DATA", "cifar-10-python.tar.gz", "online"):
        assert way in str(error.value)


# --- imagefolder ----------------------------------------------------------------------------


def test_imagefolder_rgb(tmp_path):
    root = write_imagefolder(tmp_path / "pets")
    splits = load_dataset(DataConfig(name=f"imagefolder:{root}", val_size=2))
    assert splits.source == str(root) and splits.name == f"imagefolder:{root}"
    assert splits.sizes == dict(train=8, val=2, test=4)
    assert splits.train_x.shape == (8, 3, 32, 32) and splits.train_x.dtype == torch.uint8
    assert (splits.num_classes, splits.hflip, splits.crop_padding) == (2, True, 4)
    # sorted class names: cat (red) is 0, dog (blue) is 1
    assert torch.equal(splits.test_y, torch.tensor([0, 0, 1, 1]))
    assert splits.test_x[:, 0, 5, 5].tolist() == [255, 255, 0, 0]
    assert splits.test_x[:, 2, 5, 5].tolist() == [0, 0, 255, 255]


def test_imagefolder_grayscale_and_size(tmp_path):
    root = write_imagefolder(tmp_path / "gray", mode="L")
    splits = load_dataset(DataConfig(name=f"imagefolder:{root}", val_size=2, image_size=16))
    assert splits.train_x.shape == (8, 1, 16, 16)
    assert splits.crop_padding == 2
    assert splits.test_x[:, 0, 3, 3].tolist() == [30, 30, 200, 200]


def break_missing_val(root):
    for path in sorted((root / "val").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "val").rmdir()
    return root / "val"


def break_empty_class(root):
    (root / "train" / "emu").mkdir()
    return root / "train" / "emu"


def break_unreadable(root):
    (root / "train" / "cat" / "broken.png").write_bytes(b"not a png at all")
    return root / "train" / "cat" / "broken.png"


def break_unknown_val_class(root):
    write_png(root / "val" / "emu" / "0.png", (1, 2, 3))
    return root / "val" / "emu"


@pytest.mark.parametrize(
    "break_it", [break_missing_val, break_empty_class, break_unreadable, break_unknown_val_class]
)
def test_imagefolder_errors_name_the_path(tmp_path, break_it):
    root = write_imagefolder(tmp_path / "pets")
    culprit = break_it(root)
    with pytest.raises(DataError) as error:
        load_dataset(DataConfig(name=f"imagefolder:{root}", val_size=2))
    assert str(culprit) in str(error.value)


def test_imagefolder_missing_root(tmp_path):
    with pytest.raises(DataError, match="nowhere"):
        load_dataset(DataConfig(name=f"imagefolder:{tmp_path / 'nowhere'}"))


# --- synthetic and val sizes ----------------------------------------------------------------


def test_synthetic_is_deterministic_and_capped():
    first = load_dataset(DataConfig(name="synthetic"))
    second = load_dataset(DataConfig(name="synthetic"))
    assert first.sizes == dict(train=2048 - 409, val=409, test=512)  # default val capped at 20%
    assert first.source == "generated" and first.hflip is False
    assert torch.equal(first.train_x, second.train_x) and torch.equal(first.test_y, second.test_y)
    assert first.train_x.dtype == torch.uint8 and first.train_x.shape[1:] == (1, 28, 28)
    assert sorted(set(first.test_y.tolist())) == list(range(10))


def test_synthetic_is_learnable():
    """Nearest class mean of translation-free features (|FFT|) beats chance (0.1) by far."""
    splits = load_dataset(DataConfig(name="synthetic", synthetic_train=500, synthetic_test=200))

    def features(x):
        return torch.fft.rfft2(x.double() / 255 - 0.5).abs().flatten(1)

    train = features(splits.train_x)
    centroids = torch.stack([train[splits.train_y == k].mean(0) for k in range(10)])
    predicted = torch.cdist(features(splits.test_x), centroids).argmin(1)
    assert (predicted == splits.test_y).double().mean() > 0.5


def test_synthetic_options():
    splits = load_dataset(
        DataConfig(
            name="synthetic",
            synthetic_train=100,
            synthetic_test=10,
            synthetic_shape=(3, 32, 32),
            synthetic_classes=4,
            val_size=30,
        )
    )
    assert splits.sizes == dict(train=70, val=30, test=10)
    assert (splits.in_channels, splits.image_size, splits.num_classes) == (3, 32, 4)
    assert splits.crop_padding == 4 and len(splits.mean) == 3


@pytest.mark.parametrize("val_size", [100, 250, -1])
def test_val_size_out_of_range_names_the_option(val_size):
    with pytest.raises(SpecError, match="val_size"):
        load_dataset(DataConfig(name="synthetic", synthetic_train=100, val_size=val_size))


def test_val_size_up_to_train_minus_one_is_honoured():
    splits = load_dataset(DataConfig(name="synthetic", synthetic_train=100, val_size=99))
    assert splits.sizes["train"] == 1 and splits.sizes["val"] == 99


def test_the_registry_holds_one_entry_per_dataset_module_in_the_choices_order():
    from spectrum.data import dataset_choices, datasets, image_size_of
    from spectrum.data.registry import dataset_of

    assert dataset_choices() == (
        "fashion-mnist",
        "cifar10",
        "cifar100",
        "imagefolder:PATH",
        "synthetic",
    )
    assert {d.load.__module__ for d in datasets()} == {
        f"spectrum.data.{m}" for m in ("fashion_mnist", "cifar", "imagefolder", "synthetic")
    }
    assert dataset_of("imagefolder:/data/flowers").name == "imagefolder:"
    assert image_size_of(DataConfig(name="cifar100")) == 32
    assert image_size_of(DataConfig(name="imagefolder:/x", image_size=48)) == 48
    config = DataConfig(name="synthetic", synthetic_shape=(3, 12, 12), synthetic_train=64)
    assert image_size_of(config) == load_dataset(config).image_size == 12
    with pytest.raises(SpecError, match="image_size applies to imagefolder:PATH datasets only"):
        load_dataset(DataConfig(name="synthetic", image_size=8))

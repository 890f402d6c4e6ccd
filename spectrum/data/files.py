"""Dataset files on disk and on the network: where to look, when downloads are allowed, the one
download function (MD5-verified, written to a temp file in the target folder and renamed, so no
half file is ever visible), safe archive extraction, and the one-line reasons of read errors.

Lookup order: ``DataConfig.data_dir`` (``--data-dir``; must exist if given), ``$SPECTRUM_DATA``
(each as the folder with the files or its parent), for Fashion-MNIST also Debian's
``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``), then the user cache
``$XDG_CACHE_HOME/spectrum`` (or ``~/.cache/spectrum``), then a download into that cache unless
``allow_download`` is false or ``SPECTRUM_OFFLINE=1`` (the documented environment variables).

:func:`fetch_url_chunks` is the only function of ``spectrum.data`` that opens a network connection.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import DataError
from .config import DataConfig

DOWNLOAD_TIMEOUT_S = 20.0
OFFLINE_VALUES = ("1", "true", "yes", "on")
REPLACE_HINT = "replace it with a good copy (a file in the cache is downloaded again once deleted)"


@dataclass(frozen=True)
class RemoteFile:
    """A file of an official dataset source and its published MD5."""

    url: str
    md5: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def error_reason(exc: BaseException) -> str:
    """An exception as one line of text, for messages that must stay on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def check_labels(labels: np.ndarray, num_classes: int, path: Path) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(
            f"{path} has labels outside 0..{num_classes - 1} (found "
            f"{labels.min()}..{labels.max()}); {REPLACE_HINT}"
        )


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
        reason = error_reason(getattr(exc, "reason", None) or exc)
        raise DataError(f"download of {remote.url} into {directory} failed ({reason})") from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return target


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
            f"{path} is not a valid gzip file ({error_reason(exc)}); {REPLACE_HINT}"
        ) from None


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
            f"cannot extract {archive} ({error_reason(exc)}); delete it so that it is downloaded again"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target

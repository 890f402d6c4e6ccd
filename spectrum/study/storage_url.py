"""What the user types after ``--storage``: classified, named and masked, without opening it.

This module owns the grammar of storage URLs and paths (see :mod:`spectrum.study.storage` for the
accepted forms), the masking of passwords in them (:func:`mask_url`; a password never reaches a
message, a log line or a traceback raised from the storage modules) and the one-line
:class:`~spectrum.errors.StorageError` a malformed one becomes. It touches neither the filesystem
nor the network; :mod:`spectrum.study.storage` opens what :func:`resolve_target` classified.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import sqlalchemy

from spectrum.errors import StorageError

DEFAULT_FILE_NAME = "study.db"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
JOURNAL_SUFFIXES = (".log", ".journal")

_MASK = "***"
# Drivers tried, in order, for a server URL that names none. SQLAlchemy 2.1 defaults postgresql://
# to psycopg 3, which the postgres and test extras install, so that a bare URL as typed also works
# in plain optuna.load_study(storage=url); psycopg2 is the fallback.
DEFAULT_DRIVERS = {
    "postgresql": (("psycopg", "psycopg"), ("psycopg2", "psycopg2")),
    "mysql": (("mysqldb", "MySQLdb"), ("pymysql", "pymysql")),
}
DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "mysqldb": "mysqlclient",
    "pymysql": "PyMySQL",
}
SERVER_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL"}
_EXAMPLES = (
    "use a path ending in .db or .log, sqlite:///PATH.db, journal:///PATH.log, "
    "postgresql://USER:PASSWORD@HOST:PORT/DB or mysql+pymysql://USER:PASSWORD@HOST:PORT/DB"
)


# --------------------------------------------------------------------------------------------
# Masking


def _password_span(url: str) -> tuple[int, int] | None:
    """Start and end of the password in ``scheme://user:password@host...``, if there is one."""
    sep = url.find("://")
    if sep < 0:
        return None
    start = sep + 3
    rest = url[start:]
    # The host starts after the last "@", so that a password with unescaped "@", "/", "?" or ":"
    # is still masked whole (an "@" in the query string makes this mask too much, never too little).
    userinfo_end = rest.rfind("@")
    if userinfo_end <= 0 or rest.startswith("/"):
        return None
    colon = rest.find(":", 0, userinfo_end)
    if colon < 0 or colon + 1 == userinfo_end:
        return None
    return start + colon + 1, start + userinfo_end


_SECRET_QUERY = re.compile(r"([?&](?:password|passwd|pwd)=)([^&#]*)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``.

    ``postgresql://u:secret@h/db`` becomes ``postgresql://u:***@h/db``; ``password=``-style query
    parameters are masked too. URLs without a password and plain file paths are returned unchanged.
    A password containing unescaped ``@``, ``/``, ``?`` or ``:`` is still masked whole.
    """
    url = str(url)
    span = _password_span(url)
    if span is not None:
        url = url[: span[0]] + _MASK + url[span[1] :]
    if "://" in url:
        url = _SECRET_QUERY.sub(lambda m: m.group(1) + _MASK if m.group(2) else m.group(0), url)
    return url


def _secrets(url: str) -> list[str]:
    """The passwords in ``url``, raw and percent-decoded, longest first, for scrubbing text."""
    found: set[str] = set()
    span = _password_span(url)
    if span is not None:
        found.add(url[span[0] : span[1]])
    if "://" in url:
        found.update(m.group(2) for m in _SECRET_QUERY.finditer(url))
    for s in list(found):
        found.update({unquote(s), unquote_plus(s)})
    return sorted((s for s in found if s), key=len, reverse=True)


def _scrub(text: str, url: str) -> str:
    """``text`` on one line, without any password of ``url``, and not too long."""
    for secret in _secrets(url):
        text = text.replace(secret, _MASK)
    text = " ".join(text.split())
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    return text if len(text) <= 300 else text[:297] + "..."


def driver_reason(exc: BaseException, url: str) -> str:
    """The driver's own words for ``exc`` (not SQLAlchemy's or Optuna's wrapper), scrubbed."""
    while True:  # StorageInternalError -> sqlalchemy.exc.DBAPIError -> the driver's error
        inner = getattr(exc, "orig", None) or exc.__cause__
        if not isinstance(inner, BaseException) or inner is exc:
            break
        exc = inner
    lines = str(exc).strip().splitlines()
    return _scrub(" ".join(lines[:2]) if lines else type(exc).__name__, url)


# --------------------------------------------------------------------------------------------
# Resolving what the user gave


@dataclass(frozen=True)
class Target:
    kind: str  # "sqlite" | "journal" | "server"
    display: str  # masked, human readable
    url: str = ""  # SQLAlchemy URL (sqlite, server)
    path: Path | None = None  # the file (sqlite file, journal)
    dialect: str = ""  # "postgresql" | "mysql" for servers
    create_dir: bool = False  # default_dir: create it rather than require it


def storage_error(given: str, problem: str, fix: str) -> StorageError:
    return StorageError(f"storage {mask_url(given)!r}: {problem}; {fix}")


def _sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


def url_scheme(text: str) -> str:
    """The lower-case scheme of a storage URL (``sqlite``, ``journal``, ``postgresql+psycopg``),
    or "" for a plain path (a Windows drive letter is not a scheme)."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", text.strip())
    scheme = match.group(1).lower() if match else ""
    return "" if len(scheme) == 1 else scheme


def resolve_target(url: str | os.PathLike[str] | None, default_dir: Path) -> Target:
    """Classify ``url`` without touching the filesystem or the network."""
    if url is None:
        path = (Path(default_dir).expanduser() / DEFAULT_FILE_NAME).absolute()
        return Target("sqlite", f"SQLite file {path}", _sqlite_url(path), path, create_dir=True)
    given = os.fspath(url)
    if not isinstance(given, str):
        raise StorageError(f"storage {given!r}: not a text URL or path; {_EXAMPLES}")
    text = given.strip()
    if not text:
        raise StorageError(f"storage {given!r}: empty storage URL; {_EXAMPLES}")

    scheme = url_scheme(text)

    if scheme == "journal":
        rest = text[len("journal:") :]
        if rest.startswith("///"):
            rest = "/" + rest.lstrip("/")
        elif rest.startswith("//"):
            raise storage_error(
                given,
                "a journal URL has no host",
                "write journal:///ABSOLUTE/PATH.log or journal:RELATIVE/PATH.log",
            )
        if not rest:
            raise storage_error(
                given, "no journal file named", "write journal:///ABSOLUTE/PATH.log"
            )
        path = Path(rest).expanduser().absolute()
        return Target("journal", f"journal file {path}", path=path)

    if scheme:
        base, _, driver = scheme.partition("+")
        if base == "sqlite":
            try:
                parsed = sqlalchemy.engine.make_url(text)
            except Exception:
                raise storage_error(
                    given, "not a valid SQLite URL", "write sqlite:///PATH.db"
                ) from None
            database = parsed.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                return Target("sqlite", f"SQLite {mask_url(text)}", text)
            path = Path(database).expanduser().absolute()
            return Target("sqlite", f"SQLite file {path}", text, path)
        if base in DEFAULT_DRIVERS:
            try:
                parsed = sqlalchemy.engine.make_url(text)
                parsed.port  # noqa: B018  (parsing the port is what raises)
            except Exception:
                raise storage_error(
                    given,
                    "not a valid database URL",
                    f"write {base}://USER:PASSWORD@HOST:PORT/DB (percent-encode special "
                    "characters in the password)",
                ) from None
            if not parsed.database:
                raise storage_error(
                    given, "no database name in the URL", f"write {base}://USER:PASSWORD@HOST/DB"
                )
            drivers = [d for d, _ in DEFAULT_DRIVERS[base]]
            if driver and driver not in drivers:
                raise storage_error(
                    given, f"unsupported driver {driver!r}", f"use one of: {', '.join(drivers)}"
                )
            display = f"{SERVER_NAMES[base]} {mask_url(text)}"
            return Target("server", display, text, dialect=base)
        if base == "postgres":
            raise storage_error(
                given, "unknown scheme 'postgres'", "write postgresql://... instead"
            )
        if "://" in text:
            raise storage_error(given, f"unsupported storage scheme {scheme!r}", _EXAMPLES)
        # "name:with-colon.db" is a file name, not a URL: fall through.

    path = Path(text).expanduser().absolute()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise storage_error(
            given,
            "is a directory, not a storage file",
            f"pass a file inside it, e.g. {path / DEFAULT_FILE_NAME}",
        )
    if suffix in SQLITE_SUFFIXES:
        return Target("sqlite", f"SQLite file {path}", _sqlite_url(path), path)
    if suffix in JOURNAL_SUFFIXES:
        return Target("journal", f"journal file {path}", path=path)
    raise storage_error(given, "not a known storage URL or file type", _EXAMPLES)


def describe_storage(url: str | None, default_dir: Path) -> str:
    """A masked, human-readable name of what :func:`open_storage` would use.

    For example ``SQLite file /abs/studies/study.db``, ``journal file /abs/run.log`` or
    ``PostgreSQL postgresql://u:***@host/db``. Touches neither the filesystem nor the network;
    raises :class:`StorageError` for what :func:`open_storage` would reject as malformed.
    """
    return resolve_target(url, Path(default_dir)).display

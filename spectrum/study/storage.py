"""Optuna storages from a user-given URL or path.

This module owns the mapping from what the user types after ``--storage`` (or nothing) to an
:class:`optuna.storages.BaseStorage`, and every error about it: a malformed URL, a missing
directory, an unreachable server, bad credentials or a missing database all become one
:class:`~spectrum.errors.StorageError` whose one-line message names the URL with its password
masked and says how to fix it. The password never reaches a message, a log line or a traceback
raised from here.

Accepted by :func:`open_storage`:

- ``None``: the SQLite file ``default_dir/study.db`` (``default_dir`` is created).
- ``sqlite:///path.db`` (any SQLAlchemy SQLite URL), or a plain path ending in ``.db``,
  ``.sqlite`` or ``.sqlite3``: SQLite, with a generous busy timeout so a reader (a report built
  while a sweep runs) waits instead of failing with "database is locked".
- ``journal:///abs/path.log``, ``journal:relative.log``, or a plain path ending in ``.log`` or
  ``.journal``: Optuna's journal file storage, the documented way for several processes on one
  machine.
- ``postgresql://``, ``postgresql+psycopg2://``, ``postgresql+psycopg://``, ``mysql://``,
  ``mysql+pymysql://``, ``mysql+mysqldb://``: a database server, with a short connect timeout
  and pre-ping so an unreachable server fails fast. A URL without a driver gets whichever
  driver is installed (psycopg2 first).

SQL storages (SQLite and servers) run Optuna's heartbeat unless ``heartbeat=False``: a trial whose
worker died is marked FAIL after the grace period and re-queued once (``max_retry``) as a WAITING
copy with the same parameters, the next time any worker asks for a trial. The heartbeat only runs
under :meth:`optuna.Study.optimize`; trials run by ``ask``/``tell`` never go stale.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import optuna
import sqlalchemy

from spectrum.errors import StorageError

__all__ = [
    "DEFAULT_FILE_NAME",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "describe_storage",
    "load_existing_study",
    "mask_url",
    "open_storage",
]

DEFAULT_FILE_NAME = "study.db"
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 30
CONNECT_TIMEOUT_S = 5
_CREATE_ATTEMPTS = 3  # opening a server storage whose tables another process creates
SQLITE_BUSY_TIMEOUT_S = 60

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
JOURNAL_SUFFIXES = (".log", ".journal")

_MASK = "***"
# Drivers tried, in order, for a server URL that names none (SQLAlchemy 2.1 defaults postgresql://
# to psycopg 3, which this project does not install).
_DEFAULT_DRIVERS = {
    "postgresql": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
    "mysql": (("mysqldb", "MySQLdb"), ("pymysql", "pymysql")),
}
_DRIVER_PACKAGES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "mysqldb": "mysqlclient",
    "pymysql": "PyMySQL",
}
_SERVER_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL"}
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


def _reason(exc: BaseException, url: str) -> str:
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
class _Target:
    kind: str  # "sqlite" | "journal" | "server"
    display: str  # masked, human readable
    url: str = ""  # SQLAlchemy URL (sqlite, server)
    path: Path | None = None  # the file (sqlite file, journal)
    dialect: str = ""  # "postgresql" | "mysql" for servers
    create_dir: bool = False  # default_dir: create it rather than require it


def _fail(given: str, problem: str, fix: str) -> StorageError:
    return StorageError(f"storage {mask_url(given)!r}: {problem}; {fix}")


def _sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


def _resolve(url: str | os.PathLike[str] | None, default_dir: Path) -> _Target:
    """Classify ``url`` without touching the filesystem or the network."""
    if url is None:
        path = (Path(default_dir).expanduser() / DEFAULT_FILE_NAME).absolute()
        return _Target("sqlite", f"SQLite file {path}", _sqlite_url(path), path, create_dir=True)
    given = os.fspath(url)
    if not isinstance(given, str):
        raise StorageError(f"storage {given!r}: not a text URL or path; {_EXAMPLES}")
    text = given.strip()
    if not text:
        raise StorageError(f"storage {given!r}: empty storage URL; {_EXAMPLES}")

    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", text)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme and len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""

    if scheme == "journal":
        rest = text[len("journal:") :]
        if rest.startswith("///"):
            rest = "/" + rest.lstrip("/")
        elif rest.startswith("//"):
            raise _fail(
                given,
                "a journal URL has no host",
                "write journal:///ABSOLUTE/PATH.log or journal:RELATIVE/PATH.log",
            )
        if not rest:
            raise _fail(given, "no journal file named", "write journal:///ABSOLUTE/PATH.log")
        path = Path(rest).expanduser().absolute()
        return _Target("journal", f"journal file {path}", path=path)

    if scheme:
        base, _, driver = scheme.partition("+")
        if base == "sqlite":
            try:
                parsed = sqlalchemy.engine.make_url(text)
            except Exception:
                raise _fail(given, "not a valid SQLite URL", "write sqlite:///PATH.db") from None
            database = parsed.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                return _Target("sqlite", f"SQLite {mask_url(text)}", text)
            path = Path(database).expanduser().absolute()
            return _Target("sqlite", f"SQLite file {path}", text, path)
        if base in _DEFAULT_DRIVERS:
            try:
                parsed = sqlalchemy.engine.make_url(text)
                parsed.port  # noqa: B018  (parsing the port is what raises)
            except Exception:
                raise _fail(
                    given,
                    "not a valid database URL",
                    f"write {base}://USER:PASSWORD@HOST:PORT/DB (percent-encode special "
                    "characters in the password)",
                ) from None
            if not parsed.database:
                raise _fail(
                    given, "no database name in the URL", f"write {base}://USER:PASSWORD@HOST/DB"
                )
            drivers = [d for d, _ in _DEFAULT_DRIVERS[base]]
            if driver and driver not in drivers:
                raise _fail(
                    given, f"unsupported driver {driver!r}", f"use one of: {', '.join(drivers)}"
                )
            display = f"{_SERVER_NAMES[base]} {mask_url(text)}"
            return _Target("server", display, text, dialect=base)
        if base == "postgres":
            raise _fail(given, "unknown scheme 'postgres'", "write postgresql://... instead")
        if "://" in text:
            raise _fail(given, f"unsupported storage scheme {scheme!r}", _EXAMPLES)
        # "name:with-colon.db" is a file name, not a URL: fall through.

    path = Path(text).expanduser().absolute()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise _fail(
            given,
            "is a directory, not a storage file",
            f"pass a file inside it, e.g. {path / DEFAULT_FILE_NAME}",
        )
    if suffix in SQLITE_SUFFIXES:
        return _Target("sqlite", f"SQLite file {path}", _sqlite_url(path), path)
    if suffix in JOURNAL_SUFFIXES:
        return _Target("journal", f"journal file {path}", path=path)
    raise _fail(given, "not a known storage URL or file type", _EXAMPLES)


def describe_storage(url: str | None, default_dir: Path) -> str:
    """A masked, human-readable name of what :func:`open_storage` would use.

    For example ``SQLite file /abs/studies/study.db``, ``journal file /abs/run.log`` or
    ``PostgreSQL postgresql://u:***@host/db``. Touches neither the filesystem nor the network;
    raises :class:`StorageError` for what :func:`open_storage` would reject as malformed.
    """
    return _resolve(url, Path(default_dir)).display


# --------------------------------------------------------------------------------------------
# Opening


def _check_parent(given: str, path: Path, create: bool) -> None:
    parent = path.parent
    if create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            problem = f"cannot create directory {parent} ({reason})"
            raise _fail(given, problem, "choose a writable directory") from None
        return
    if path.is_dir():
        raise _fail(given, f"{path} is a directory", f"pass a file in it, e.g. {path / 'study.db'}")
    if not parent.is_dir():
        raise _fail(given, f"directory {parent} does not exist", "create it first or fix the path")
    if not os.access(parent, os.W_OK):
        raise _fail(given, f"directory {parent} is not writable", "choose a writable directory")


def _open_journal(given: str, target: _Target) -> optuna.storages.BaseStorage:
    assert target.path is not None
    _check_parent(given, target.path, create=False)
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    problem = ""
    try:
        return JournalStorage(JournalFileBackend(str(target.path)))
    except OSError as e:
        problem = f"cannot open {target.path} ({e.strerror or type(e).__name__})"
    except Exception as e:  # a corrupt or foreign file
        problem = f"cannot read {target.path} as an Optuna journal ({type(e).__name__})"
    raise _fail(given, problem, "check the file, or pass a new file name to start a new journal")


def _pick_driver(given: str, target: _Target) -> str:
    """The server URL with an installed driver spelled out."""
    parsed = sqlalchemy.engine.make_url(target.url)
    if "+" in parsed.drivername:
        return target.url
    candidates = _DEFAULT_DRIVERS[target.dialect]
    for driver, module in candidates:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=f"{target.dialect}+{driver}").render_as_string(
                hide_password=False
            )
    packages = " or ".join(_DRIVER_PACKAGES[d] for d, _ in candidates)
    server = _SERVER_NAMES[target.dialect]
    raise _fail(given, f"no {server} driver installed", f"pip install {packages}")


def _engine_kwargs(target: _Target) -> dict:
    if target.kind == "sqlite":
        # Seconds a connection waits for another one's lock before "database is locked".
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    # connect_timeout: libpq (psycopg2, psycopg), MySQLdb and PyMySQL all take it, in seconds.
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}


def _heartbeat_kwargs(heartbeat_interval: int, grace_period: int, max_retry: int | None) -> dict:
    """RDBStorage's heartbeat arguments, in the spelling this Optuna version has.

    Optuna >= 4.9 names the callback ``heartbeat_stale_trial_callback`` and the class
    ``RetryHeartbeatStaleTrialCallback`` (the old names are deprecated); older ones only know
    ``failed_trial_callback`` and ``RetryFailedTrialCallback``.
    """
    if not isinstance(heartbeat_interval, int) or heartbeat_interval <= 0:
        raise ValueError(f"heartbeat_interval must be a positive int, got {heartbeat_interval!r}")
    if not isinstance(grace_period, int) or grace_period <= heartbeat_interval:
        raise ValueError(
            f"grace_period must be an integer larger than heartbeat_interval={heartbeat_interval}, "
            f"got {grace_period!r}"
        )
    retry_cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry_cls is None:
        retry_cls = optuna.storages.RetryFailedTrialCallback
    params = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
    name = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        callback = retry_cls(max_retry=max_retry)
    return {"heartbeat_interval": heartbeat_interval, "grace_period": grace_period, name: callback}


def _hint(target: _Target, reason: str) -> tuple[str, str]:
    """(problem, fix) for a failure to open an SQL storage, from the driver's reason."""
    low = reason.lower()
    if target.kind == "sqlite":
        if "locked" in low or "busy" in low:
            return "the database is locked", "wait for the writing process, or use a journal file"
        if "unable to open" in low:
            return "cannot open the file", "check that its directory exists and is writable"
        if "not a database" in low or "malformed" in low:
            return "not an SQLite database", "check the path, or pass a new file name"
        return "cannot open the SQLite database", "check the path and its permissions"
    server = _SERVER_NAMES[target.dialect]
    if "password authentication failed" in low or "access denied" in low or "no password" in low:
        return "authentication failed", "check the user name and password in the URL"
    if ("database" in low and "does not exist" in low) or "unknown database" in low:
        return "the database does not exist", "create it (createdb -O USER DB) or fix its name"
    if "role" in low and "does not exist" in low:
        return "the user does not exist", "create the role or fix the user name in the URL"
    if "permission denied" in low:
        return "permission denied", "grant the user rights to create tables in that database"
    if (
        "refused" in low
        or "timeout" in low
        or "timed out" in low
        or "translate host name" in low
        or "name or service not known" in low
        or "can't connect" in low
        or "could not connect" in low
        or "no route" in low
        or "unreachable" in low
    ):
        return f"cannot reach the {server} server", "start it, or fix the host and port"
    return f"cannot open the {server} storage", "check the URL and that the server is running"


def _open_rdb(
    given: str, target: _Target, heartbeat_kwargs: dict | None
) -> optuna.storages.RDBStorage:
    if target.path is not None:
        _check_parent(given, target.path, create=target.create_dir)
    url = _pick_driver(given, target) if target.kind == "server" else target.url
    # RDBStorage formats the URL with str.format (for a {SCHEMA_VERSION} template): keep literal
    # braces, e.g. in a password, literal.
    url = url.replace("{", "{{").replace("}", "}}")
    engine_kwargs = _engine_kwargs(target)

    problem = fix = ""
    try:
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    # Heartbeat and the retry callback are marked experimental; nothing to do.
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs, **(heartbeat_kwargs or {})
                    )
            except sqlalchemy.exc.DBAPIError as e:
                # Workers started together on an empty database race to create Optuna's tables
                # (PostgreSQL: "duplicate key ... pg_type", "already exists"); the loser finds
                # them made on a retry.
                low = str(e.orig).lower()
                if attempt == _CREATE_ATTEMPTS - 1 or not (
                    "already exists" in low or "duplicate key" in low
                ):
                    raise
                time.sleep(0.5 * (attempt + 1))
    except ImportError:
        driver = sqlalchemy.engine.make_url(url).get_driver_name()
        problem = f"cannot import the {driver} driver"
        fix = f"pip install {_DRIVER_PACKAGES.get(driver, driver)}"
    except RuntimeError:  # Optuna's schema-version check
        problem = "its tables were written by an incompatible Optuna version"
        fix = "upgrade them with: optuna storage upgrade --storage YOUR_URL"
    except Exception as e:  # sqlalchemy.exc.*, the driver's own errors, StorageInternalError
        reason = _reason(e, given)
        problem, fix = _hint(target, reason)
        problem = f"{problem} ({reason})"
    # Raised outside the except clauses so that no traceback chains the driver's exception.
    raise _fail(given, problem, fix)


def open_storage(
    url: str | None,
    default_dir: Path,
    *,
    heartbeat: bool = True,
    max_retry: int | None = 1,
    heartbeat_interval: int = HEARTBEAT_INTERVAL_S,
    grace_period: int = GRACE_PERIOD_S,
) -> optuna.storages.BaseStorage:
    """Open (creating if needed) the Optuna storage that ``url`` names.

    See the module docstring for the accepted forms. ``None`` means ``default_dir/study.db``.
    With ``heartbeat`` (SQL storages only; journal storages have none in Optuna), each trial run
    by :meth:`optuna.Study.optimize` records a heartbeat every ``heartbeat_interval`` seconds; a
    RUNNING trial without one for ``grace_period`` seconds is marked FAIL and re-queued as a
    WAITING copy up to ``max_retry`` times (``None``: without limit).

    Raises:
        StorageError: one line naming the masked URL and the fix, for a malformed URL, a missing
            directory, an unreachable server, bad credentials or a missing database.
    """
    target = _resolve(url, Path(default_dir))
    given = str(target.path) if url is None else os.fspath(url)
    if target.kind == "journal":
        return _open_journal(given, target)
    hb = _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry) if heartbeat else None
    return _open_rdb(given, target, hb)


# --------------------------------------------------------------------------------------------
# Studies


def _raw_url(storage: optuna.storages.BaseStorage | str) -> str | None:
    if isinstance(storage, str):
        return storage
    for candidate in (storage, getattr(storage, "_backend", None)):  # _CachedStorage wraps one
        if isinstance(candidate, optuna.storages.RDBStorage):
            return candidate.url
    return None


def _storage_name(storage: optuna.storages.BaseStorage | str) -> str:
    raw = _raw_url(storage)
    if raw is not None:
        return mask_url(raw)
    backend = getattr(storage, "_backend", None)  # JournalStorage
    path = getattr(backend, "_file_path", None)
    if path is not None:
        return f"journal file {path}"
    return type(storage).__name__


def _name_list(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def load_existing_study(
    storage: optuna.storages.BaseStorage | str, study_name: str | None
) -> optuna.Study:
    """Load a study that must already exist in ``storage``.

    With ``study_name=None`` the storage must hold exactly one study, which is loaded.

    Raises:
        StorageError: the study does not exist, the storage holds no study, or it holds several
            and no name was given; the message lists the available names.
    """
    where = _storage_name(storage)
    problem = ""
    names: list[str] = []
    try:
        names = sorted(optuna.get_all_study_names(storage=storage))
    except Exception as e:
        reason = _reason(e, _raw_url(storage) or "")
        problem = f"storage {where!r}: cannot list studies ({reason})"
    if problem:  # raised outside the except clause: no chained driver exception
        raise StorageError(f"{problem}; check that the storage is reachable")
    if study_name is None:
        if not names:
            raise StorageError(f"storage {where!r} holds no study; run a sweep or search first")
        if len(names) > 1:
            raise StorageError(
                f"storage {where!r} holds {len(names)} studies ({_name_list(names)}); "
                "name one with --study NAME"
            )
        study_name = names[0]
    elif study_name not in names:
        available = f"available: {_name_list(names)}" if names else "it holds no study"
        raise StorageError(
            f"storage {where!r} has no study {study_name!r} ({available}); "
            "fix the name with --study NAME"
        )
    return optuna.load_study(study_name=study_name, storage=storage)

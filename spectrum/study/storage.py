"""Optuna storages from a user-given URL or path: opening them, and loading a study from one.

Classifying and masking the URL is :mod:`spectrum.study.storage_url`'s job; this module opens
what it classified.

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
  driver is installed (psycopg first: SQLAlchemy 2.1's own default for ``postgresql://``).

SQL storages (SQLite and servers) run Optuna's heartbeat unless ``heartbeat=False``: a trial whose
worker died is marked FAIL after the grace period and re-queued once (``max_retry``) as a WAITING
copy with the same parameters, the next time any worker asks for a trial. The heartbeat only runs
under :meth:`optuna.Study.optimize`; trials run by ``ask``/``tell`` never go stale.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from optuna.storages.journal import JournalFileBackend, JournalStorage

from spectrum.errors import SpecError, StorageError

from .storage_url import (
    DEFAULT_DRIVERS,
    DEFAULT_FILE_NAME,
    DRIVER_PACKAGES,
    SERVER_NAMES,
    Target,
    describe_storage,
    driver_reason,
    mask_url,
    resolve_target,
    storage_error,
)

__all__ = [
    "DEFAULT_FILE_NAME",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "describe_storage",
    "load_existing_study",
    "mask_url",
    "open_storage",
]

HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 30
CONNECT_TIMEOUT_S = 5
_CREATE_ATTEMPTS = 3  # opening a server storage whose tables another process creates
SQLITE_BUSY_TIMEOUT_S = 60


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
            raise storage_error(given, problem, "choose a writable directory") from None
        return
    if path.is_dir():
        raise storage_error(
            given, f"{path} is a directory", f"pass a file in it, e.g. {path / 'study.db'}"
        )
    if not parent.is_dir():
        raise storage_error(
            given, f"directory {parent} does not exist", "create it first or fix the path"
        )
    if not os.access(parent, os.W_OK):
        raise storage_error(
            given, f"directory {parent} is not writable", "choose a writable directory"
        )


def _open_journal(given: str, target: Target) -> optuna.storages.BaseStorage:
    assert target.path is not None
    _check_parent(given, target.path, create=False)
    problem = ""
    try:
        return JournalStorage(JournalFileBackend(str(target.path)))
    except OSError as e:
        problem = f"cannot open {target.path} ({e.strerror or type(e).__name__})"
    except Exception as e:  # a corrupt or foreign file
        problem = f"cannot read {target.path} as an Optuna journal ({type(e).__name__})"
    raise storage_error(
        given, problem, "check the file, or pass a new file name to start a new journal"
    )


def _pick_driver(given: str, target: Target) -> str:
    """The server URL with an installed driver spelled out."""
    parsed = sqlalchemy.engine.make_url(target.url)
    if "+" in parsed.drivername:
        return target.url
    candidates = DEFAULT_DRIVERS[target.dialect]
    for driver, module in candidates:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=f"{target.dialect}+{driver}").render_as_string(
                hide_password=False
            )
    packages = " or ".join(DRIVER_PACKAGES[d] for d, _ in candidates)
    server = SERVER_NAMES[target.dialect]
    raise storage_error(given, f"no {server} driver installed", f"pip install {packages}")


def _engine_kwargs(target: Target) -> dict:
    if target.kind == "sqlite":
        # Seconds a connection waits for another one's lock before "database is locked".
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    # connect_timeout: libpq (psycopg2, psycopg), MySQLdb and PyMySQL all take it, in seconds.
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}


def serialize_sqlite_transactions(engine: sqlalchemy.engine.Engine) -> None:
    """Make every transaction on ``engine`` take SQLite's write lock when it begins.

    Optuna changes a trial's state by reading it (``SELECT ... FOR UPDATE``) and then writing it.
    SQLite ignores ``FOR UPDATE``, and Python's sqlite3 opens a transaction only at the first
    write, so two workers could both read a queued trial as WAITING and both claim it (measured:
    7-12 of 200 claims doubled between two processes), or fail a trial another worker had just
    finished. ``BEGIN IMMEDIATE`` makes each read-then-write atomic, as a row lock does on a
    database server. Transactions are short, so readers wait milliseconds (the busy timeout
    covers longer waits).
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # sqlite3 leaves BEGIN to the "begin" event

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections pooled while the tables were made predate the listeners


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


def _hint(target: Target, reason: str) -> tuple[str, str]:
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
    server = SERVER_NAMES[target.dialect]
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
    given: str, target: Target, heartbeat_kwargs: dict | None
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
                    storage = optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs, **(heartbeat_kwargs or {})
                    )
                if target.kind == "sqlite":
                    serialize_sqlite_transactions(storage.engine)
                return storage
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
        fix = f"pip install {DRIVER_PACKAGES.get(driver, driver)}"
    except RuntimeError:  # Optuna's schema-version check
        problem = "its tables were written by an incompatible Optuna version"
        fix = "upgrade them with: optuna storage upgrade --storage YOUR_URL"
    except Exception as e:  # sqlalchemy.exc.*, the driver's own errors, StorageInternalError
        reason = driver_reason(e, given)
        problem, fix = _hint(target, reason)
        problem = f"{problem} ({reason})"
    # Raised outside the except clauses so that no traceback chains the driver's exception.
    raise storage_error(given, problem, fix)


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
    target = resolve_target(url, Path(default_dir))
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


def report_folder_storage(target: str) -> optuna.storages.BaseStorage:
    """The storage of a report folder ``target``: its SQLite ``study.db`` (what ``spectrum report``
    and ``spectrum dashboard`` read when no ``--storage`` is given).

    Raises:
        SpecError: ``target`` is not a directory, or holds no study.db.
    """
    folder = Path(target)
    if not folder.is_dir():
        raise SpecError(
            f"{target!r} is not a directory; give a report directory or "
            f"--storage URL with a study name"
        )
    if not (folder / "study.db").exists():
        raise SpecError(f"{folder / 'study.db'} does not exist; give --storage")
    return open_storage(None, folder, heartbeat=False)


def load_existing_study(
    storage: optuna.storages.BaseStorage | str,
    study_name: str | None,
    *,
    name_flag: str = "--study",
) -> optuna.Study:
    """Load a study that must already exist in ``storage``.

    With ``study_name=None`` the storage must hold exactly one study, which is loaded.
    ``name_flag`` is the option the messages tell the user to name a study with.

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
        reason = driver_reason(e, _raw_url(storage) or "")
        problem = f"storage {where!r}: cannot list studies ({reason})"
    if problem:  # raised outside the except clause: no chained driver exception
        raise StorageError(f"{problem}; check that the storage is reachable")
    if study_name is None:
        if not names:
            raise StorageError(f"storage {where!r} holds no study; run a sweep or search first")
        if len(names) > 1:
            raise StorageError(
                f"storage {where!r} holds {len(names)} studies ({_name_list(names)}); "
                f"name one with {name_flag} NAME"
            )
        study_name = names[0]
    elif study_name not in names:
        available = f"available: {_name_list(names)}" if names else "it holds no study"
        raise StorageError(
            f"storage {where!r} has no study {study_name!r} ({available}); "
            f"fix the name with {name_flag} NAME"
        )
    return optuna.load_study(study_name=study_name, storage=storage)

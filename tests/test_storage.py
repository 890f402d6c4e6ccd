"""spectrum.study.storage: URL masking, the accepted storage forms, one-line errors, heartbeat retries."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
import traceback
import uuid

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from spectrum.errors import StorageError
from spectrum.study.storage import describe_storage, load_existing_study, mask_url, open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _add_trial(storage, study_name: str, x: float = 0.25) -> None:
    study = optuna.create_study(study_name=study_name, storage=storage)
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": x},
            distributions={"x": FloatDistribution(0.0, 1.0)},
            value=x * 2,
            user_attrs={"status": "complete"},
        )
    )


def _assert_one_line_masked(err: StorageError, secret: str) -> str:
    msg = str(err)
    assert "\n" not in msg and "\r" not in msg
    assert secret not in msg
    assert "***" in msg
    full = "".join(traceback.format_exception(err))
    assert secret not in full  # nor in a chained exception of the traceback
    return msg


# ---------------------------------------------------------------------------------------------
# mask_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
        ("postgresql+psycopg2://u:secret@h:5432/db", "postgresql+psycopg2://u:***@h:5432/db"),
        (
            "postgresql://u:secret@127.0.0.1:5432/db?sslmode=require&application_name=x",
            "postgresql://u:***@127.0.0.1:5432/db?sslmode=require&application_name=x",
        ),
        ("mysql+pymysql://root:p%40ss%2Fw@h:3306/db", "mysql+pymysql://root:***@h:3306/db"),
        # Unescaped special characters: the whole password is masked, not a prefix of it.
        ("postgresql://u:p@ss/w?rd:x@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://h/db?password=secret&sslmode=require",
            "postgresql://h/db?password=***&sslmode=require",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h:5432/db?sslmode=require", "postgresql://h:5432/db?sslmode=require"),
        ("sqlite:///studies/study.db", "sqlite:///studies/study.db"),
        ("sqlite:////abs/we:ird@name.db", "sqlite:////abs/we:ird@name.db"),
        ("journal:///abs/run.log", "journal:///abs/run.log"),
        ("journal:run.log", "journal:run.log"),
        ("/home/me/studies/study.db", "/home/me/studies/study.db"),
        ("relative/run.log", "relative/run.log"),
    ],
)
def test_mask_url(url, expected):
    assert mask_url(url) == expected


# ---------------------------------------------------------------------------------------------
# describe_storage


def test_describe_storage_names_without_touching_anything(tmp_path):
    default_dir = tmp_path / "studies"
    assert describe_storage(None, default_dir) == f"SQLite file {default_dir / 'study.db'}"
    assert not default_dir.exists()
    db = tmp_path / "a.db"
    assert describe_storage(str(db), default_dir) == f"SQLite file {db}"
    assert describe_storage(f"journal://{tmp_path}/j.log", default_dir) == (
        f"journal file {tmp_path / 'j.log'}"
    )
    assert describe_storage("postgresql://u:s3cret@h:5432/db", default_dir) == (
        "PostgreSQL postgresql://u:***@h:5432/db"
    )
    with pytest.raises(StorageError):
        describe_storage("ftp://h/x", default_dir)


# ---------------------------------------------------------------------------------------------
# SQLite and journal


def test_default_is_sqlite_file_in_created_default_dir(tmp_path):
    default_dir = tmp_path / "deep" / "studies"
    storage = open_storage(None, default_dir)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert default_dir.is_dir()
    _add_trial(storage, "s")
    assert (default_dir / "study.db").is_file()
    assert storage.url == f"sqlite:///{default_dir / 'study.db'}"


def test_sqlite_has_generous_busy_timeout(tmp_path):
    storage = open_storage(str(tmp_path / "s.db"), tmp_path)
    with storage.engine.connect() as conn:
        busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert busy_ms >= 30_000  # the driver's default of 5 s is too short for a report during a sweep


def test_sqlite_reader_waits_for_a_writer(tmp_path):
    import sqlite3
    import threading

    path = tmp_path / "s.db"
    _add_trial(open_storage(str(path), tmp_path), "s")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        t0 = time.monotonic()
        study = load_existing_study(open_storage(str(path), tmp_path), "s")
        assert len(study.trials) == 1
        assert time.monotonic() - t0 >= 0.5  # it did wait for the lock
    finally:
        release.join()
        writer.close()


@pytest.mark.parametrize(
    ("form", "kind"),
    [
        ("sqlite:///{tmp}/a.db", optuna.storages.RDBStorage),
        ("{tmp}/b.db", optuna.storages.RDBStorage),
        ("{tmp}/c.sqlite", optuna.storages.RDBStorage),
        ("journal://{tmp}/d.log", optuna.storages.JournalStorage),  # journal:///abs/d.log
        ("journal:///{tmp}/d2.log", optuna.storages.JournalStorage),  # one slash too many
        ("journal:e.log", optuna.storages.JournalStorage),
        ("{tmp}/f.log", optuna.storages.JournalStorage),
        ("{tmp}/g.journal", optuna.storages.JournalStorage),
    ],
)
def test_round_trip(tmp_path, monkeypatch, form, kind):
    monkeypatch.chdir(tmp_path)
    url = form.format(tmp=tmp_path)
    storage = open_storage(url, tmp_path / "unused")
    assert isinstance(storage, kind)
    _add_trial(storage, "s", x=0.75)
    del storage

    again = load_existing_study(open_storage(url, tmp_path / "unused"), "s")
    (trial,) = again.trials
    assert trial.state == TrialState.COMPLETE
    assert trial.params == {"x": 0.75}
    assert trial.value == 1.5
    assert trial.user_attrs == {"status": "complete"}
    assert not (tmp_path / "unused").exists()


def test_heartbeat_settings(tmp_path):
    storage = open_storage(str(tmp_path / "a.db"), tmp_path)
    assert storage.get_heartbeat_interval() == 10
    assert storage.grace_period == 30
    callback = storage.get_heartbeat_stale_trial_callback()
    assert isinstance(callback, optuna.storages.RetryHeartbeatStaleTrialCallback)
    assert callback._max_retry == 1
    custom = open_storage(
        str(tmp_path / "b.db"), tmp_path, heartbeat_interval=2, grace_period=7, max_retry=3
    )
    assert (custom.get_heartbeat_interval(), custom.grace_period) == (2, 7)
    assert custom.get_heartbeat_stale_trial_callback()._max_retry == 3
    off = open_storage(str(tmp_path / "c.db"), tmp_path, heartbeat=False)
    assert off.get_heartbeat_interval() is None
    assert off.get_heartbeat_stale_trial_callback() is None


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "form",
    [
        "",
        "   ",
        "ftp://u:s3cretPW@h/x",
        "redis://:s3cretPW@127.0.0.1:6379/0",
        "postgres://u:s3cretPW@h/db",
        "postgresql://u:s3cretPW@h:notaport/db",
        "postgresql://u:s3cretPW@h",
        "postgresql+asyncpg://u:s3cretPW@h/db",
        "no_suffix_file",
        "{tmp}",
        "{tmp}/missing/x.log",
        "journal:///{tmp}/missing/x.log",
        "journal://host/x.log",
        "{tmp}/missing/x.db",
        "sqlite:///{tmp}/missing/x.db",
    ],
)
def test_malformed_is_one_line_storage_error(tmp_path, form):
    url = form.format(tmp=tmp_path)
    with pytest.raises(StorageError) as excinfo:
        open_storage(url, tmp_path / "default")
    msg = str(excinfo.value)
    assert "\n" not in msg
    assert "s3cretPW" not in msg
    assert mask_url(url) in msg  # names what was given
    assert ";" in msg  # ... and says how to fix it
    assert not (tmp_path / "missing").exists()


def test_not_a_database_file(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_text("this is not SQLite\n" * 100)
    with pytest.raises(StorageError, match="not an SQLite database"):
        open_storage(str(bogus), tmp_path)


@pytest.mark.parametrize(
    "url", ["postgresql://u:pw@127.0.0.1:1/db", "mysql+pymysql://u:pw@127.0.0.1:1/db"]
)
def test_unreachable_server_fails_fast_and_masked(tmp_path, url):
    t0 = time.monotonic()
    with pytest.raises(StorageError) as excinfo:
        open_storage(url, tmp_path)
    assert time.monotonic() - t0 < 10
    msg = _assert_one_line_masked(excinfo.value, "pw")
    assert mask_url(url) in msg


def test_password_never_logged(tmp_path, caplog):
    secret = "Hunter2Secret"
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic", "optuna"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)
    optuna.logging.enable_propagation()
    try:
        with pytest.raises(StorageError) as excinfo:
            open_storage(f"postgresql://spectrum:{secret}@127.0.0.1:1/db", tmp_path)
    finally:
        optuna.logging.disable_propagation()
    _assert_one_line_masked(excinfo.value, secret)
    assert caplog.records  # logging was really captured
    assert secret not in caplog.text


# ---------------------------------------------------------------------------------------------
# load_existing_study


def test_load_existing_study_errors(tmp_path):
    storage = open_storage(str(tmp_path / "s.db"), tmp_path)
    with pytest.raises(StorageError, match="holds no study"):
        load_existing_study(storage, None)
    with pytest.raises(StorageError, match="no study 'nope'.*holds no study"):
        load_existing_study(storage, "nope")

    _add_trial(storage, "alpha")
    assert load_existing_study(storage, None).study_name == "alpha"  # the only one

    _add_trial(storage, "beta")
    with pytest.raises(StorageError) as excinfo:
        load_existing_study(storage, None)
    msg = str(excinfo.value)
    assert "2 studies" in msg and "'alpha'" in msg and "'beta'" in msg and "\n" not in msg
    assert str(tmp_path / "s.db") in msg

    with pytest.raises(StorageError) as excinfo:
        load_existing_study(storage, "gamma")
    msg = str(excinfo.value)
    assert "'gamma'" in msg and "'alpha'" in msg and "'beta'" in msg
    assert load_existing_study(storage, "beta").study_name == "beta"


def test_load_existing_study_journal_names_file(tmp_path):
    storage = open_storage(str(tmp_path / "j.log"), tmp_path)
    with pytest.raises(StorageError, match=r"journal file .*j\.log.*holds no study"):
        load_existing_study(storage, None)


# ---------------------------------------------------------------------------------------------
# PostgreSQL


@pytest.mark.postgres
def test_postgres_round_trip(postgres_url, tmp_path):
    storage = open_storage(postgres_url, tmp_path)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.engine_kwargs["pool_pre_ping"] is True
    assert storage.engine_kwargs["connect_args"]["connect_timeout"] <= 10
    name = _name()
    _add_trial(storage, name, x=0.5)
    storage.engine.dispose()

    again = load_existing_study(open_storage(postgres_url, tmp_path), name)
    (trial,) = again.trials
    assert trial.params == {"x": 0.5} and trial.value == 1.0
    assert not list(tmp_path.iterdir())  # nothing written locally


@pytest.mark.postgres
def test_postgres_bad_password_and_missing_database(postgres_url, tmp_path):
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_url)
    host = f"{parts.hostname}:{parts.port or 5432}"
    wrong = parts._replace(netloc=f"{parts.username}:WrongPass123@{host}")
    with pytest.raises(StorageError, match="authentication failed") as excinfo:
        open_storage(wrong.geturl(), tmp_path)
    _assert_one_line_masked(excinfo.value, "WrongPass123")

    missing = parts._replace(path="/spectrum_no_such_db_" + uuid.uuid4().hex[:6])
    with pytest.raises(StorageError, match="does not exist") as excinfo:
        open_storage(missing.geturl(), tmp_path)
    assert mask_url(missing.geturl()) in str(excinfo.value)


# ---------------------------------------------------------------------------------------------
# Heartbeat: a worker dies mid-trial; its trial is failed and re-queued


_DYING_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import optuna
    from spectrum.study.storage import open_storage

    storage = open_storage(sys.argv[1], Path(sys.argv[2]), heartbeat_interval=1, grace_period=2)
    study = optuna.load_study(study_name=sys.argv[3], storage=storage)

    def objective(trial):
        trial.suggest_float("x", 0.0, 1.0)
        time.sleep(1.5)  # long enough for the heartbeat thread to record
        os._exit(17)  # the worker dies mid-trial: nothing tells the storage

    study.optimize(objective, n_trials=1)
    """
)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_dead_worker_trial_is_failed_and_requeued(backend, request, tmp_path):
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = str(tmp_path / "hb.db")
    storage = open_storage(url, tmp_path, heartbeat_interval=1, grace_period=2)
    name = _name()
    study = optuna.create_study(study_name=name, storage=storage)

    worker = subprocess.run(
        [sys.executable, "-c", _DYING_WORKER, url, str(tmp_path), name],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert worker.returncode == 17, worker.stderr
    (dead,) = study.get_trials(deepcopy=False)
    assert dead.state == TrialState.RUNNING  # dying did not end the trial: the heartbeat must

    deadline = time.monotonic() + 20
    while True:
        optuna.storages.fail_stale_trials(study)
        trials = study.get_trials()
        if trials[0].state != TrialState.RUNNING or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    retry = trials[1]
    assert retry.params == trials[0].params
    assert optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == 0

    # The next worker runs the re-queued copy, with the same parameters.
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
    final = study.get_trials()
    assert len(final) == 2
    assert final[1].state == TrialState.COMPLETE
    assert final[1].params == trials[0].params


CLAIMER = textwrap.dedent(
    """
    import sys, time
    import optuna
    from spectrum.study.resume import pop_waiting_trial
    from spectrum.study.storage import open_storage
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path, start = sys.argv[1], float(sys.argv[2])
    study = optuna.load_study(study_name="claims", storage=open_storage(path, ".", heartbeat=False))
    while time.time() < start:
        time.sleep(0.001)
    claimed = []
    while (trial := pop_waiting_trial(study)) is not None:
        claimed.append(trial.number)
    print(" ".join(map(str, claimed)))
    """
)


def test_two_processes_never_claim_the_same_queued_trial_on_sqlite(tmp_path):
    """SQLite ignores SELECT ... FOR UPDATE: before every transaction took the write lock at
    BEGIN, two workers popping one queue claimed 7-12 of 200 trials twice."""
    path = str(tmp_path / "study.db")
    study = optuna.create_study(
        study_name="claims", storage=open_storage(path, tmp_path, heartbeat=False)
    )
    for x in range(200):
        study.enqueue_trial({"x": x})
    start = time.time() + 3.0  # both processes imported and connected by then
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, path, str(start)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    claimed = [set(map(int, worker.communicate(timeout=120)[0].split())) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert not claimed[0] & claimed[1]
    assert len(claimed[0] | claimed[1]) == 200

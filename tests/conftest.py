"""Shared fixtures: a PostgreSQL server for the tests marked ``postgres``.

``postgres_url`` points at ``$SPECTRUM_TEST_POSTGRES_URL`` (default
``postgresql://spectrum:spectrum@127.0.0.1:5432/spectrum_test``; ``.ci/run`` starts that server).
If the server cannot be reached the postgres tests are skipped, except under CI (``CI=true``),
where they fail: CI must never pass by silently skipping them.

Clean state: the session gets a fresh schema of its own, made the connection's search path through
the URL (``?options=-csearch_path=...``), and dropped at the end, so nothing else in the database is
touched and every run starts empty. Tests also use unique study names.
"""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

# Commands run in the tests (in process, or as subprocesses that inherit this) train in one
# process unless a test passes --jobs: --jobs auto would start workers (monkeypatches stay behind).
os.environ.setdefault("SPECTRUM_JOBS", "1")

DEFAULT_POSTGRES_URL = "postgresql://spectrum:spectrum@127.0.0.1:5432/spectrum_test"


def _masked(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _libpq_uri(url: str) -> str:
    """``postgresql+psycopg2://...`` -> ``postgresql://...`` (libpq knows no driver part)."""
    return re.sub(r"^postgresql\+[a-z0-9_]+://", "postgresql://", url)


def _unreachable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the PostgreSQL test server is unusable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL test server unusable ({reason}); set SPECTRUM_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_url():
    """SQLAlchemy URL of a reachable PostgreSQL database, confined to a fresh schema."""
    url = os.environ.get("SPECTRUM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        import psycopg2
    except ImportError:
        _unreachable("psycopg2 is not installed: pip install -e '.[test]'")
    try:
        conn = psycopg2.connect(_libpq_uri(url), connect_timeout=3)
    except psycopg2.Error as e:
        reason = " ".join(str(e).split()).replace(urlsplit(url).password or "\0", "***")
        _unreachable(f"{_masked(url)}: {reason}")

    schema = f"spectrum_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [("options", f"-csearch_path={schema}")]
    try:
        yield urlunsplit(parts._replace(query=urlencode(query)))
    finally:
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '20s'")
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()

"""A bare ``postgresql://`` URL, as the user types it, works unchanged everywhere.

SQLAlchemy >= 2.1 resolves ``postgresql://`` to psycopg 3; the ``postgres`` and ``test`` extras
install it, so the URL a sweep was given also opens in plain ``optuna.load_study``.
"""

from __future__ import annotations

import uuid

import optuna
import pytest
import sqlalchemy

from spectrum.cli import main


def test_the_default_postgresql_driver_is_installed():
    dialect = sqlalchemy.engine.make_url("postgresql://u@h/db").get_dialect()
    # Importing the DBAPI fails when the driver SQLAlchemy picks for a bare URL is missing.
    module = dialect.import_dbapi()
    assert (
        module.__name__.split(".")[0]
        == {"psycopg": "psycopg", "psycopg2": "psycopg2"}[dialect.driver]
    )


@pytest.mark.postgres
def test_bare_postgresql_url_end_to_end(postgres_url, tmp_path, capsys):
    assert postgres_url.startswith("postgresql://")  # no +driver: the form users type
    name = f"bare-url-{uuid.uuid4().hex[:8]}"
    sweep = [
        "sweep",
        "--segments",
        "C",
        "--dataset",
        "synthetic",
        "--val-size",
        "64",
        "--train-subset",
        "256",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--precision",
        "float32",
        "--study",
        name,
        "--storage",
        postgres_url,
        "--out",
        str(tmp_path / "sweep"),
        "--no-report",
    ]
    assert main(sweep) == 0
    capsys.readouterr()

    # The very string the user gave, in plain Optuna, with SQLAlchemy's default driver.
    study = optuna.load_study(study_name=name, storage=postgres_url)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.user_attrs["segments"] == "C"
    assert trial.user_attrs["activations"] > 0

    out = tmp_path / "report"
    assert main(["report", name, "--storage", postgres_url, "--out", str(out)]) == 0
    capsys.readouterr()
    text = (out / "report.md").read_text()
    assert "Storage: PostgreSQL postgresql://spectrum:***@" in text
    assert ":spectrum@" not in text  # the password stays masked

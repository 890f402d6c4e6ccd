"""Committed reports carry no absolute machine paths: storage is named relative to the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_study import synthetic_sweep

from spectrum.cli import main
from spectrum.report.sections.provenance import portable_storage


def _report_texts(folder: Path) -> dict[str, str]:
    return {
        name: (folder / name).read_text()
        for name in ("report.md", "report.html", "results.csv", "summary.csv")
    }


def test_report_names_its_sqlite_file_relative_to_its_folder(tmp_path, capsys):
    folder = tmp_path / "reports" / "portable"
    folder.mkdir(parents=True)
    synthetic_sweep(f"sqlite:///{folder / 'study.db'}")
    assert main(["report", str(folder)]) == 0
    capsys.readouterr()
    texts = _report_texts(folder)
    for name, text in texts.items():
        assert str(tmp_path) not in text, f"{name} names an absolute path"
    assert "Storage: SQLite file study.db (in this folder)" in texts["report.md"]
    assert "SQLite file study.db (in this folder)" in texts["report.html"]


def test_report_from_storage_outside_the_folder_names_no_absolute_path(tmp_path, capsys):
    journal = tmp_path / "elsewhere" / "deep" / "runs.log"
    journal.parent.mkdir(parents=True)
    synthetic_sweep(f"sqlite:///{tmp_path / 'elsewhere' / 'deep' / 'x.db'}", name="outside")
    out = tmp_path / "reports" / "a" / "b" / "c" / "outside"
    code = main(
        [
            "report",
            "outside",
            "--storage",
            str(tmp_path / "elsewhere" / "deep" / "x.db"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    capsys.readouterr()
    text = (out / "report.md").read_text()
    assert str(tmp_path) not in text and str(tmp_path) not in (out / "report.html").read_text()
    assert "Storage: SQLite file x.db (outside this folder)" in text


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("SQLite file /r/reports/q/study.db", "SQLite file study.db (in this folder)"),
        ("SQLite file /r/reports/q/sub/a.db", "SQLite file sub/a.db (in this folder)"),
        ("journal file /r/reports/runs.log", "journal file ../runs.log (relative to this folder)"),
        (
            "SQLite file /r/reports/o/study.db",
            "SQLite file ../o/study.db (relative to this folder)",
        ),
        ("SQLite file /tmp/x/y.db", "SQLite file y.db (outside this folder)"),
        (
            "PostgreSQL postgresql://u:***@db.example/s",
            "PostgreSQL postgresql://u:***@db.example/s",
        ),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        (None, None),
    ],
)
def test_portable_storage_labels(label, expected):
    assert portable_storage(label, Path("/r/reports/q")) == expected

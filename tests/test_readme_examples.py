"""Every ```python block of README.md and of the Python API page (docs/api.md) runs, so the
documented examples cannot rot (the scripts in examples/ run in tests/test_examples.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", ROOT / "docs" / "api.md")
BLOCKS = [
    (page.relative_to(ROOT).as_posix(), index, block)
    for page in PAGES
    for index, block in enumerate(
        re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.M | re.S)
    )
]


def test_the_readme_and_the_api_page_have_python_examples():
    pages = [page for page, _, _ in BLOCKS]
    assert pages.count("README.md") >= 1 and pages.count("docs/api.md") >= 4


@pytest.mark.parametrize("page, index, block", BLOCKS, ids=[f"{p}-{i + 1}" for p, i, _ in BLOCKS])
def test_documented_example_runs(page, index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"{page} python block {index + 1}", "exec"), {})

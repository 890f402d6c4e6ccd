"""report.html in a real browser: headless Chromium loads every figure and shows a page.

The page is copied with a small script that, once everything has loaded, writes what the
browser saw (how many images, how many decoded with a width, how much text) into the DOM, which
``chromium --headless --dump-dom`` prints. Skipped with a reason where Chromium is absent, except
under ``CI=true`` (``.ci/run`` installs it), where that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from synthetic_study import synthetic_sweep

from spectrum.report import write_report
from spectrum.report.compare_report import write_compare

FOREST = "Each comparison of the verdict"  # the forest figure's caption (its alt text)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var seen = {
    images: images.length,
    loaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    widths: images.map(function (i) { return i.naturalWidth; }),
    alts: images.map(function (i) { return i.alt.slice(0, 60); }),
    text: document.body.innerText.trim().length,
    headings: document.querySelectorAll("h1, h2").length,
    height: document.documentElement.scrollHeight
  };
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
</script>
"""


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true and no Chromium found: apt-get install -y chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


def _seen(browser: str, page_path, tmp_path) -> dict:
    """Open ``page_path`` with the probe in headless Chromium; what the browser saw."""
    page = page_path.read_text()
    assert "</body>" in page
    probe = page_path.with_name("probe.html")
    probe.write_text(page.replace("</body>", PROBE + "</body>", 1))
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=15000",
            "--window-size=1280,2000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', result.stdout, flags=re.S)
    assert match, f"no probe result (rc {result.returncode}): {result.stderr[-2000:]}"
    return json.loads(match.group(1).replace("&quot;", '"'))


def test_report_html_renders_every_figure_in_chromium(tmp_path):
    browser = _browser()
    out = tmp_path / "report"
    write_report(synthetic_sweep(), out, storage_label="SQLite file study.db")
    expected = len(re.findall(r"\]\(([a-z_]+)\.png\)", (out / "report.md").read_text()))
    assert expected >= 6  # forest, accuracy, Pareto fronts, curves, EDF, speed
    seen = _seen(browser, out / "report.html", tmp_path)
    assert seen["images"] == expected
    assert seen["loaded"] == expected, f"images that did not load: {seen['widths']}"
    assert all(width >= 100 for width in seen["widths"])
    # The first screen's figure is the forest, and it decoded.
    assert seen["alts"][0].startswith(FOREST) and seen["widths"][0] >= 600
    # Not blank: the report's text and sections are there and the page has length.
    assert seen["text"] > 1000 and seen["headings"] >= 4 and seen["height"] > 2000


def test_compare_html_renders_both_figures_in_chromium(tmp_path):
    browser = _browser()
    a, b = synthetic_sweep(name="a"), synthetic_sweep(name="b")
    write_compare(a, b, tmp_path, label_a="a", label_b="b")
    seen = _seen(browser, tmp_path / "compare.html", tmp_path)
    assert seen["images"] == seen["loaded"] == 2, seen["widths"]
    assert seen["alts"][0].startswith(FOREST) and seen["widths"][0] >= 1000

"""mkdocs hook: links into reports/ written as paths of the repository work on the site too.

Pages under docs/ link the committed reports the way the repository lays them out
(``../reports/quickstart/report.md`` from docs/, ``../../reports/...`` from docs/commands/), so
the links work where the Markdown is read in the repository. The site cannot reach outside
docs/, so docs/reports links to ../reports and this hook drops the one ``../`` that leaves docs/.
"""

from __future__ import annotations

import re


def on_page_markdown(markdown, page, config, files):
    depth = page.file.src_uri.count("/")  # folders between docs/ and the page
    if page.file.src_uri.startswith("reports/"):
        return markdown  # a report's own links stay inside reports/
    outside = re.escape("../" * (depth + 1) + "reports/")
    return re.sub(r"\]\(" + outside, "](" + "../" * depth + "reports/", markdown)

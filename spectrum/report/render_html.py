"""Render a :class:`~.document.Document` as one self-contained HTML page (report.html).

Figures are embedded as base64 PNG data URIs and the style sheet is inline: the page has no
external ``src`` or ``href`` and opens from disk anywhere.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .document import Bullets, Code, Document, Figure, Heading, Paragraph, Table

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 70em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #eee; padding-bottom: .15em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .5em 0 1.2em; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
tr:nth-child(even) td { background: #fafafa; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: .3em; }
figure { margin: 1em 0 1.8em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-style: italic; font-size: .9em; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
.strong { font-weight: bold; }
"""


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def render_html(document: Document, folder: Path) -> str:
    """The page; figure PNGs are read from ``folder``."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(document.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(document.title)}</h1>",
    ]
    tables = figures = 0
    for block in document.blocks:
        if isinstance(block, Heading):
            level = min(6, max(2, block.level))
            out.append(f"<h{level}>{e(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            cls = ' class="strong"' if block.strong else ""
            out.append(f"<p{cls}>{e(block.text)}</p>")
        elif isinstance(block, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Code):
            out.append(f"<pre><code>{e(block.text)}</code></pre>")
        elif isinstance(block, Table):
            tables += 1
            head = "".join(f"<th>{e(c)}</th>" for c in block.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            out.append(
                f"<table><caption>Table {tables}. {e(block.caption)}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        elif isinstance(block, Figure):
            figures += 1
            path = Path(folder) / f"{block.name}.png"
            out.append(
                f'<figure><img alt="{e(block.caption)}" src="{_image(path)}">'
                f"<figcaption>Figure {figures}. {e(block.caption)}</figcaption></figure>"
            )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"

"""Render a :class:`~.document.Document` as GitHub-flavoured Markdown (report.md).

Figures are linked by relative file name (``NAME.png``, with the SVG next to it), so the
Markdown file reads correctly from inside the report folder.
"""

from __future__ import annotations

from .document import Bullets, Code, Document, Figure, Heading, Paragraph, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(document: Document) -> str:
    out = [f"# {document.title}", ""]
    tables = figures = 0
    for block in document.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * max(2, block.level)} {block.text}", ""]
        elif isinstance(block, Paragraph):
            out += [f"**{block.text}**" if block.strong else block.text, ""]
        elif isinstance(block, Bullets):
            out += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Code):
            fence = "````" if "```" in block.text else "```"
            out += [fence, block.text, fence, ""]
        elif isinstance(block, Table):
            tables += 1
            out += [f"*Table {tables}. {block.caption}*", ""]
            out.append("| " + " | ".join(_cell(c) for c in block.columns) + " |")
            out.append("|" + "|".join(" --- " for _ in block.columns) + "|")
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Figure):
            figures += 1
            out += [
                f"![{block.caption}]({block.name}.png)",
                "",
                f"*Figure {figures}. {block.caption}* (vector: `{block.name}.svg`)",
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"

"""Render a :class:`~.document.Document` as GitHub-flavoured Markdown (report.md).

Figures are linked by relative file name (``NAME.png``, with the SVG next to it), so the
Markdown file reads correctly from inside the report folder. The benchmarks' reports
(``reports/bench/``) are rendered here too.
"""

from __future__ import annotations

from .document import Bullets, Code, Document, Figure, Heading, Paragraph, Rich, Span, Table


def _inline(text: str) -> str:
    """Text with its :class:`~.document.Span` parts marked up: bold in double asterisks, code
    in backquotes."""
    if not isinstance(text, Rich):
        return text
    return "".join(part if isinstance(part, str) else _span(part) for part in text.parts)


def _span(span: Span) -> str:
    if span.style == "code":
        ticks = "``" if "`" in span.text else "`"
        pad = " " if ticks == "``" else ""
        return f"{ticks}{pad}{span.text}{pad}{ticks}"
    return f"**{span.text}**"


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(document: Document) -> str:
    out = [f"# {document.title}", ""]
    tables = figures = 0
    for block in document.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * max(2, block.level)} {block.text}", ""]
        elif isinstance(block, Paragraph):
            text = _inline(block.text)
            out += [f"**{text}**" if block.strong else text, ""]
        elif isinstance(block, Bullets):
            out += [f"- {_inline(item)}" for item in block.items] + [""]
        elif isinstance(block, Code):
            fence = "````" if "```" in block.text else "```"
            out += [fence, block.text, fence, ""]
        elif isinstance(block, Table):
            if block.caption:
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

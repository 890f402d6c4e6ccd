"""The report as data: an ordered list of blocks that the Markdown and HTML renderers share.

Block text is plain (no markup); renderers escape it. A part of a paragraph's, a bullet's or a
cell's text may be set apart (bold, or a literal such as a command) as a :class:`Span` of
:class:`Rich` text, which is still a plain ``str`` to a renderer that does not style it. Tables
and figures carry a one-sentence caption and are numbered in order of appearance by the
renderers; a table without a caption (``""``) is neither captioned nor numbered in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A run of text set apart inside a paragraph, a bullet or a cell."""

    text: str
    style: str = "strong"  # strong (bold) | code (a literal: a command, a flag)


class Rich(str):
    """Text with :class:`Span` parts: as a ``str``, the plain text of all its parts (what a
    renderer that does not style spans shows); :attr:`parts` is what Markdown marks up."""

    parts: tuple[str | Span, ...]

    def __new__(cls, *parts: str | Span) -> Rich:
        text = super().__new__(cls, "".join(p if isinstance(p, str) else p.text for p in parts))
        text.parts = parts
        return text


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    name: str  # file stem: NAME.png and NAME.svg in the report folder
    caption: str


Block = Heading | Paragraph | Bullets | Code | Table | Figure


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> Document:
        self.blocks.extend(blocks)
        return self


def table(frame, caption: str) -> Table:
    """A :class:`Table` from a DataFrame whose cells are already formatted strings."""
    return Table(
        tuple(str(c) for c in frame.columns),
        tuple(tuple(str(v) for v in row) for row in frame.itertuples(index=False)),
        caption,
    )


def figure_blocks(plot, level: int = 2) -> list:
    """A figure's heading, the figure if it was drawn, and its note (why it was not, if so)."""
    blocks = [Heading(plot.title, level=level)]
    if plot.drawn:
        blocks.append(Figure(plot.name, plot.caption))
    if plot.note:
        blocks.append(Paragraph(plot.note))
    return blocks

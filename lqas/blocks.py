"""The report as typed blocks: content written once, every output format a thin rendering of it.

A :class:`Document` is the title page's words and an ordered list of blocks (heading, paragraph,
list, key figure, table, figure, callout, page break), with every text already translated and every
number already formatted for the report's language (``lqas.sections`` builds it from the report
context). HTML and Typst render the same blocks through their own small Jinja templates
(``reports/templates/html/``, ``reports/templates/typst/``; ``lqas.typeset``). Blocks hold plain text
only: each format escapes it, so no text from the data can become markup.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# how a cell, a paragraph or a callout looks: the formats map each tone to their own style ("small": an
# estimate from too few children, suppressed; "caution": one from few, in parentheses)
Tone = Literal["plain", "small", "caution", "pass", "fail", "na", "good", "warn", "bad", "neutral", "total"]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Block):
    """A run of text in a paragraph: plain, strong, or a symbol (✔ ✘, kept in its own font size)."""

    text: str
    strong: bool = False
    symbol: bool = False


def spans(*parts: str | Span) -> list[Span]:
    """Text and spans as a list of spans (a bare string is plain text)."""
    return [part if isinstance(part, Span) else Span(text=part) for part in parts if part != ""]


class Heading(_Block):
    """A section (level 1, starts a page, in the contents and the PDF bookmarks), a subsection (2) or
    a minor heading (3, not in the contents). ``anchor`` links the contents to it."""

    kind: Literal["heading"] = "heading"
    level: Literal[1, 2, 3]
    text: str
    anchor: str
    annex: bool = False


class Paragraph(_Block):
    kind: Literal["paragraph"] = "paragraph"
    spans: list[Span]
    style: Literal["body", "intro", "note", "warning", "legend"] = "body"


class ListBlock(_Block):
    """A bulleted list; an item may carry a sub-list of plain items."""

    kind: Literal["list"] = "list"
    items: list[list[Span]]
    sub_items: list[list[list[Span]]] = Field(default_factory=list)  # per item, its sub-items (may be empty)
    style: Literal["body", "findings", "rules"] = "body"


class KeyFigure(_Block):
    """One number that matters, large, with what it is and its precision (e.g. its 95 % CI)."""

    kind: Literal["key_figure"] = "key_figure"
    value: str
    label: str
    detail: str = ""
    tone: Tone = "neutral"


class Cell(_Block):
    """A table cell: its lines (an estimate, then its CI and n on lines of their own), alignment,
    tone and weight."""

    lines: list[str]
    align: Literal["left", "right", "center"] = "right"
    tone: Tone = "plain"
    strong: bool = False
    symbol: str = ""  # ✔ or ✘ before the first line, in the symbol's own size
    span: int = Field(1, ge=1)  # columns the cell covers (a header group)


class Row(_Block):
    cells: list[Cell]
    total: bool = False


class Table(_Block):
    """A table whose caption and header repeat on every page it runs over; ``header_groups`` is an
    optional header row above ``header`` whose cells span columns (an indicator over its girls, boys
    and all); ``notes`` follow the table (small print). ``widths``: relative column widths (default:
    label columns wide, the others equal)."""

    kind: Literal["table"] = "table"
    header: list[Cell]
    header_groups: list[Cell] = Field(default_factory=list)
    rows: list[Row]
    caption: str = ""
    notes: list[Paragraph] = Field(default_factory=list)
    widths: list[float] = Field(default_factory=list)
    size: Literal["normal", "compact"] = "normal"
    # the source line under the table: None for the survey itself, "" for none (a definition, a
    # calculation), else its own text; :func:`lqas.sections.compose` numbers the table and writes it
    source: str | None = None


class Figure(_Block):
    """A chart the run drew: ``chart`` names ``charts/<name>.svg`` in the run folder."""

    kind: Literal["figure"] = "figure"
    chart: str
    caption: str = ""
    width: float = 1.0  # share of the text width
    source: str | None = None  # as Table.source


class Callout(_Block):
    """A boxed message: the synthetic-data warning, a caution about the data, a priority."""

    kind: Literal["callout"] = "callout"
    title: str = ""
    spans: list[Span]
    tone: Tone = "warn"


class PageBreak(_Block):
    kind: Literal["page_break"] = "page_break"


Block = Annotated[Heading | Paragraph | ListBlock | KeyFigure | Table | Figure | Callout | PageBreak,
                  Field(discriminator="kind")]


class Document(_Block):
    """The whole report: its language, the title page (title, subtitle, lines under them, a warning
    box, the cover's institution, authors, logos and citation), the running header, the contents'
    title, the acronyms, and the blocks in order."""

    lang: Literal["en", "fr"]
    title: str
    subtitle: str = ""
    meta: list[str] = Field(default_factory=list)
    warning: str = ""
    # the title page's other lines ([report.cover]): institution above the title, authors under the
    # subtitle, logos (``charts/logo_<i>.png`` of the run) at the top, the suggested citation at the foot
    institution: str = ""
    authors: list[str] = Field(default_factory=list)
    logos: list[str] = Field(default_factory=list)
    citation: str = ""
    contents_title: str
    # the acronyms the report's text uses and what each stands for, listed after the contents
    acronyms_title: str = ""
    acronyms: list[tuple[str, str]] = Field(default_factory=list)
    blocks: list[Block]

    def sections(self) -> list[Heading]:
        """The headings of the contents: the level-1 and level-2 headings, in order."""
        return [block for block in self.blocks if isinstance(block, Heading) and block.level <= 2]

"""The report as blocks (lqas.blocks, lqas.sections) and its Typst PDF (lqas.typeset).

While the sections move from the HTML templates to blocks, the blocks must say everything the HTML
report says: every sentence, heading and table cell of the HTML (the reference) is found in the blocks,
in French and in English; then the Typst PDF is checked as a reader would (pdftotext)."""

import re
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import REPO, require_program

from lqas.blocks import Callout, Document, Figure, Heading, KeyFigure, ListBlock, Paragraph, Table
from lqas.config import load_project
from lqas.report import render_html
from lqas.run import analyse
from lqas.sections import SECTIONS, compose
from lqas.typeset import typst_string, write_pdf

DEMO = REPO / "examples" / "mali_baseline" / "survey.toml"


@pytest.fixture(scope="module")
def demo():
    return analyse(load_project(DEMO))


@pytest.fixture(scope="module", params=["fr", "en"])
def report(request, demo, tmp_path_factory):
    from lqas.context import report_context
    from lqas.report import CONTEXT_FILE, read_context, write_context

    run = tmp_path_factory.mktemp(f"run-{request.param}")
    write_context(report_context(demo, request.param, charts_dir=run / "charts"), run / CONTEXT_FILE)
    context = read_context(run / CONTEXT_FILE, complete=True)
    return run, context, compose(context)


def squeeze(text: str) -> str:
    """Text compared without its spaces (no-break or not) and line breaks."""
    return re.sub(r"\s+", "", text.replace("\u00a0", " ").replace("\u202f", " "))


class _Texts(HTMLParser):
    """The text of every cell, paragraph, list item, heading and caption of an HTML report, by the
    ``<section id>`` (or ``title``/``toc``) it is in."""

    KINDS = {"td", "th", "p", "li", "h1", "h2", "h3", "h4", "figcaption", "caption", "dt", "dd"}

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, list[str]]] = []
        self.found: list[tuple[str, str, str]] = []
        self.section = "title"
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id", "?")
        if tag in ("svg", "style", "nav"):
            self.skip += 1
        elif tag in self.KINDS and not self.skip:
            self.open.append((tag, []))

    def handle_endtag(self, tag):
        if tag in ("svg", "style", "nav"):
            self.skip -= 1
        elif self.open and self.open[-1][0] == tag:
            kind, parts = self.open.pop()
            text = squeeze("".join(parts))
            if text:
                self.found.append((self.section, kind, text))
                for _, outer in self.open:  # an element's text belongs to the ones around it too
                    outer.append("".join(parts))

    def handle_data(self, data):
        if self.open and not self.skip:
            self.open[-1][1].append(data)


def html_texts(run, context) -> dict[str, list[tuple[str, str]]]:
    parser = _Texts()
    parser.feed(render_html(context, run_dir=run))
    out: dict[str, list[tuple[str, str]]] = {}
    for section, kind, text in parser.found:
        out.setdefault(section, []).append((kind, text))
    return out


def section_blocks(document: Document, anchor: str) -> list:
    """The blocks of one section: from its level-1 heading to the next."""
    out, inside = [], False
    for block in document.blocks:
        if isinstance(block, Heading) and block.level == 1:
            inside = block.anchor == anchor
        if inside:
            out.append(block)
    return out


def block_texts(blocks) -> tuple[set[str], str]:
    """Every cell's text (its lines joined, as the HTML writes them), and all the blocks' text."""
    cells, texts = set(), []
    for block in blocks:
        if isinstance(block, Table):
            for cell in [*block.header_groups, *block.header, *(c for row in block.rows for c in row.cells)]:
                cells.add(squeeze(cell.symbol + "".join(cell.lines)))
            texts += [block.caption, *(s.text for note in block.notes for s in note.spans)]
            texts += [cell.symbol + "".join(cell.lines) for row in block.rows for cell in row.cells]
        elif isinstance(block, (Paragraph, Callout)):
            texts.append(getattr(block, "title", "") + "".join(s.text for s in block.spans))
        elif isinstance(block, ListBlock):
            texts += ["".join(s.text for s in item) for item in block.items]
            texts += ["".join(s.text for s in sub) for subs in block.sub_items for sub in subs]
        elif isinstance(block, Heading):
            texts.append(block.text)
        elif isinstance(block, Figure):
            texts.append(block.caption)
        elif isinstance(block, KeyFigure):
            texts += [block.value, block.label, block.detail]
    return cells, squeeze("\n".join(texts))


@pytest.mark.parametrize("anchor", [anchor for anchor, *_ in SECTIONS])
def test_each_section_says_everything_the_html_report_says(report, anchor):
    run, context, document = report
    reference = html_texts(run, context).get(anchor, [])
    cells, text = block_texts(section_blocks(document, anchor))
    missing = [(kind, found) for kind, found in reference
               if found not in text and not (kind in ("td", "th") and found in cells)]
    assert missing == []


def test_the_title_page_says_what_the_html_title_page_says(report):
    run, context, document = report
    _, text = block_texts([])
    text = squeeze("".join([document.title, document.subtitle, *document.meta, document.warning]))
    missing = [found for kind, found in html_texts(run, context)["title"] if found not in text]
    assert missing == []


def test_every_section_has_its_heading_and_the_charts_of_the_html(report):
    run, context, document = report
    headings = [block.anchor for block in document.blocks if isinstance(block, Heading) and block.level == 1]
    assert headings == [anchor for anchor, _, _, needs, _ in SECTIONS if needs is None or context.get(needs)]
    html = render_html(context, run_dir=run)
    figures = [block.chart for block in document.blocks if isinstance(block, Figure)]
    assert len(figures) == html.count("<figure")  # every chart of the HTML, once
    assert set(figures) <= set(context["charts"].values())


def test_text_from_the_data_is_a_typst_string_never_markup():
    assert typst_string('#import "x": *\n] [ $ @ <a>') == '"#import \\"x\\": *\\n] [ $ @ <a>"'
    assert typst_string("C:\\dossier") == '"C:\\\\dossier"'


def test_the_typst_pdf_reads_as_the_report(report, tmp_path):
    require_program("pdftotext", "apt-get install -y poppler-utils")
    run, context, document = report
    pdf = tmp_path / "report.pdf"
    write_pdf(document, pdf, run)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = squeeze(text)
    for heading in document.sections():
        assert squeeze(heading.text) in flat, heading.text
    assert squeeze(context["survey"]["name"]) in flat

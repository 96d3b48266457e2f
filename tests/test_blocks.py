"""The report as blocks (lqas.blocks, lqas.sections), its HTML page and its Typst PDF (lqas.typeset).

The sections were moved from HTML templates to blocks under a test (removed with the old templates)
showing every sentence, heading, caption and table cell of the HTML report in the blocks, in French and
English. The whole report is read in the PDF by tests/test_cli.py."""

import re
import subprocess

import pytest
from conftest import REPO, require_program

from lqas.blocks import Figure, Heading, Table
from lqas.config import load_project
from lqas.run import analyse
from lqas.sections import SECTIONS, compose
from lqas.sections.words import Words
from lqas.typeset import html_page, typst_string, write_pdf

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


def test_every_section_has_its_heading_and_every_chart_is_shown_once(report):
    _, context, document = report
    headings = [block.anchor for block in document.blocks if isinstance(block, Heading) and block.level == 1]
    assert headings == [anchor for anchor, _, _, needs, _ in SECTIONS if needs is None or context.get(needs)]
    figures = [block.chart for block in document.blocks if isinstance(block, Figure)]
    assert sorted(figures) == sorted(set(figures)) and set(figures) <= set(context["charts"].values())
    assert len(figures) == 7  # the organ-pipe plots of the demo's 6 areas are one figure


def test_the_html_page_is_the_blocks_escaped_and_self_contained(report):
    run, context, document = report
    html = html_page(document, run)
    for block in document.blocks:
        if isinstance(block, Heading):
            assert f'id="{block.anchor}"' in html
    assert html.count("<svg") == 7 and "<link" not in html and "<script" not in html
    remark = context["quality"]["remarks"][0]["text"] if context["quality"]["remarks"] else None
    assert remark is None or "<script>" not in remark or "&lt;script&gt;" in html


def test_tables_say_every_estimate_of_their_cells(report):
    """A cell of the blocks is the context's estimate written in the language: the district table."""
    _, context, document = report
    w = Words(context)
    district = context["groups"]["levels"][0]
    first = district["rows"][0]
    after = document.blocks[next(i for i, block in enumerate(document.blocks)
                                 if isinstance(block, Heading) and block.anchor == "level-district"):]
    table = next(block for block in after if isinstance(block, Table))
    assert table.rows[0].cells[0].lines == [first["name"]]
    cell = first["cells"][district["indicators"][0]]
    assert table.rows[0].cells[1].lines[0] == w.pct(cell["estimate"])
    assert table.rows[0].cells[1].lines[-1] == f"n\u00a0=\u00a0{w.num(cell['n'])}"  # never broken across lines


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


def test_french_text_has_french_spacing_and_signs(report):
    """No line of the French report starts with a colon, a semicolon or a percent sign, and negative
    numbers have a minus sign: every text a reader sees, after composing. English is left as written."""
    _, _, document = report
    from lqas.sections import _TEXT_FIELDS

    def texts(value, key=None):
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in texts(v, k)]
        if isinstance(value, list):
            return [t for v in value for t in texts(v, key)]
        return [value] if isinstance(value, str) and key in _TEXT_FIELDS else []

    text = "\n".join(texts(document.model_dump()))
    if document.lang == "en":  # English is left as written
        assert re.search(r"\w;", text) and not re.search(r"−\d", text)
        return
    assert re.findall(r".{10}[^\u202f][;!?].{5}", text) == []         # fine no-break space before ; ! ?
    assert re.findall(r".{10}[^\u00a0]:\s.{5}", text) == []            # no-break space before :
    assert re.findall(r".{10}\d %.{5}", text) == []                    # no-break space before %
    assert re.findall(r".{10}(?<![\w\-−])-\d.{5}", text) == []         # − before a negative number
    assert "\u202f;" in text and "\u00a0:" in text and "−" in text     # the rules did apply


def test_counts_in_plural_sentences_are_grouped_as_the_language_writes_them():
    """A national survey's 5,700 lots to improve read "5 700" in French, "5,700" in English."""
    from lqas.sections import lqas as lqas_section
    from lqas.sections.words import Words

    lots = [{"class": "fail"}] * 5700 + [{"class": "pass"}] * 6900
    for lang, expected in (("en", "5,700 of 12,600 classifications are to improve."),
                           ("fr", "5\u202f700 classifications sur 12\u202f600 sont à améliorer.")):
        w = Words({"lang": lang, "labels": {"header": {"catchment": "x"}}, "small_cell_n": 25, "methods": {}})
        text = lqas_section.failing_note(lots, w).spans[0].text
        assert text.startswith(expected), text

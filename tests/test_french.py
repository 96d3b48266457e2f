"""French that reads as French (issue #17, point 10): the demo's French report, rendered and read back,
has no English words or internal references, a no-break space before : ; ? ! %, a minus sign (not a
hyphen) before a negative number, and no range of numbers broken across two lines."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import REPO, require_program

from lqas import load_project
from lqas.blocks import Document
from lqas.report import CONTEXT_FILE, read_context
from lqas.run import run_project
from lqas.sections import compose

# English words and internal references a French reader must not meet (file names aside)
ENGLISH = ("Key findings", "Girls", "Boys", "children", "coverage", "target", "months", "weeks", " the ", " and ",
           " of ", " with ", "ALL", "shift-left", "Oct", "Nov", "dropout", "Priority", "lots to improve")
# (codes in the tables' "Code" columns and VCQI/BeSD-TI variable names are printed on purpose)
INTERNAL = (re.compile(r"\b\w+\.md\b"), re.compile(r"§\s?\d"))
FILE_NAME = re.compile(r"\S+\.(csv|xlsx|json|toml)\b")
# identifiers a French report legitimately prints: BeSD-TI item names and VCQI indicator names
ALLOWED_CODES = re.compile(r"\b(CHI_\w+|RI_\w+|cleanup_RI_dates_and_ticks)\b")


@pytest.fixture(scope="module")
def french(tmp_path_factory):
    require_program("pdftotext", "apt-get install poppler-utils")
    out = tmp_path_factory.mktemp("french") / "run"
    run_project(load_project(REPO / "examples" / "mali_baseline" / "survey.toml"), out, lang="fr",
                formats=("html", "pdf"))
    context = read_context(out / CONTEXT_FILE, complete=True)
    document = compose(context)
    pdf = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], check=True, capture_output=True,
                         text=True).stdout
    # the indicators' codes (derived.csv's columns), which the definitions table prints on purpose
    codes = sorted({*context["labels"]["indicator"], "<dose>_crude", "<dose>_valid"}, key=len, reverse=True)
    for code in codes:
        pdf = pdf.replace(code, "")
    return document, pdf


def texts(document: Document) -> list[str]:
    """Every text of the document a reader sees."""
    found: list[str] = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in {"text", "title", "subtitle", "meta", "warning", "caption", "lines",
                                                "value", "label", "detail", "contents_title"}:
            found.append(value)

    walk(document.model_dump())
    return found


def test_no_english_word_or_internal_reference(french):
    _, pdf = french
    words = FILE_NAME.sub("", " ".join(pdf.split()))
    assert [word for word in ENGLISH if word in words] == []
    words = ALLOWED_CODES.sub("", words)
    found = {pattern.pattern: pattern.findall(words)[:5] for pattern in INTERNAL if pattern.search(words)}
    assert found == {}


def unspaced(text: str):
    """Where ``: ; ? ! %`` follows anything but a no-break space (or an opening parenthesis: "(%)")."""
    for m in re.finditer(r"[:;?!%]", text):
        before = text[m.start() - 1] if m.start() else ""
        around = text[max(m.start() - 25, 0):m.end() + 5]
        if before in "\u00a0\u202f(" or re.match(r"\d:\d", text[m.start() - 1:m.end() + 1]):
            continue
        yield around


def test_no_break_space_before_high_punctuation(french):
    document, _ = french
    assert [bad for text in texts(document) for bad in unspaced(text)] == []


def test_minus_signs_not_hyphens_before_numbers(french):
    document, _ = french
    assert [t for t in texts(document) if re.search(r"(?<![\w\-−])-\d", t)] == []


def test_no_range_broken_across_lines(french):
    _, pdf = french
    # a range whose dash ends a line and whose second number starts the next
    assert re.findall(r"\d–\n\s*\d", pdf) == []
    assert re.findall(r"\d\n\s*–\d", pdf) == []

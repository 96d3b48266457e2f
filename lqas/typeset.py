"""Typeset: the report's blocks (:class:`lqas.blocks.Document`) -> Typst source -> ``report.pdf``.

The Typst source is written by Jinja templates (``reports/templates/typst/``) that the user may
replace; every text enters it as a Typst string literal (the ``typ`` filter), so no text from the data
is read as markup. It is compiled by the ``typst`` package, a self-contained wheel: no system library,
the same on Windows, macOS and Linux, with its own fonts (Libertinus Serif, which covers French and
the symbols ✔ ✘ ≤ ≥) and no system font, so every machine gives the same pages. Typst reads no file
but the run's charts (:func:`compile_pdf`).
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from lqas.blocks import Document
from lqas.errors import InputError
from lqas.report import CHARTS_DIR
from lqas.resources import resource_dir
from lqas.safety import run_day

# a tone (lqas.blocks.Tone) -> the cell or box fill
FILLS = {"pass": 'rgb("#d9efe2")', "fail": 'rgb("#fbd9c8")', "good": 'rgb("#dcefe3")', "warn": 'rgb("#fbe6b8")',
         "bad": 'rgb("#f4c7b8")', "neutral": "luma(246)", "total": "luma(244)", "header": "luma(232)"}
_LABEL = re.compile(r"[^A-Za-z0-9_:.-]")


def typst_string(text: Any) -> str:
    """``text`` as a Typst string literal (quoted, backslashes, quotes and line ends escaped)."""
    value = "" if text is None else str(text)
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{value}"'


def column_widths(table: dict[str, Any]) -> list[float]:
    """Relative widths: the table's own, else label columns (left-aligned) twice the others."""
    if table.get("widths"):
        return list(table["widths"])
    return [2.2 if cell["align"] == "left" else 1.0 for cell in table["header"] for _ in range(cell["span"])]


def environment(template_dir: Path | None = None) -> SandboxedEnvironment:
    """The sandboxed Jinja environment of the Typst templates (no autoescape: the ``typ`` filter quotes)."""
    folders = [str(template_dir)] if template_dir else []
    env = SandboxedEnvironment(loader=FileSystemLoader([*folders, str(resource_dir("templates"))]),
                               autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["typ"] = typst_string
    env.filters["typ_label"] = lambda anchor: _LABEL.sub("-", str(anchor)) or "x"
    env.globals["fills"] = FILLS
    env.globals["widths"] = column_widths
    return env


def typst_source(document: Document | None, *, template: str = "typst/report.typ.j2",
                 template_dir: Path | None = None, context: Mapping[str, Any] | None = None) -> str:
    """The report as Typst source: ``template`` sees ``doc`` (the blocks, as plain data) and, for a
    custom template, the report context's keys."""
    values = {**(context or {}), "doc": document.model_dump() if document is not None else None}
    return environment(template_dir).get_template(template).render(**values)


def svg_pngs(folder: Path, names: Sequence[str], *, ppi: float, font_dirs: Sequence[Path] = ()) -> list[bytes]:
    """The SVG files ``names`` of ``folder``, each as a PNG image of its own size at ``ppi`` pixels per inch
    on white, rendered by Typst in one pass (without Python's lock) with the fonts of the folders
    ``font_dirs`` and its own; Typst reads no file outside ``folder``.

    The run's charts are their SVG files so rendered (:func:`lqas.charts.svg_chart_pngs`): the eleven
    charts of a 10^5-child report in 0.4 s of one core, where matplotlib drew each figure again for its
    PNG file (about a second in all), and the files are a third lighter (1.14 -> 0.76 MB).

    Raises
    ------
    typst.TypstError
        Typst could not render one of them.
    """
    import typst  # imported here: only the PDF and the charts' PNG files need it

    if not names:
        return []
    pages = "".join(f"#page(image({typst_string(name)}))\n" for name in names)
    source = "#set page(width: auto, height: auto, margin: 0pt, fill: white)\n" + pages
    images = typst.compile(source.encode("utf-8"), root=str(folder), format="png", ppi=ppi,
                           font_paths=_fonts(tuple(str(font_dir) for font_dir in font_dirs)), ignore_system_fonts=True)
    return images if isinstance(images, list) else [images]


@functools.cache
def _fonts(font_dirs: tuple[str, ...]):
    """Typst's own fonts and those of ``font_dirs`` (folders: Typst reads no font file named alone)."""
    import typst

    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=list(font_dirs))


def compile_pdf(source: str, path: Path, run_dir: Path) -> None:
    """Compile Typst source to a PDF at ``path`` (:func:`pdf_bytes`)."""
    path.write_bytes(pdf_bytes(source, run_dir, name=path.name))


def pdf_bytes(source: str, run_dir: Path, *, name: str = "report.pdf") -> bytes:
    """Compile Typst source to a PDF's bytes, with the run's charts as the only files it can read.

    Typst releases Python's lock while it typesets, so a run compiles its PDF in a thread beside the
    tables and the workbook it writes meanwhile (:func:`lqas.outputs.write_outputs`).

    Typst reads files only under its root; the root is a fresh folder holding copies of the run's
    chart files (regular files of ``charts/``, no link), so not even a custom template can reach
    another file of the run folder or of the machine.

    Raises
    ------
    InputError
        The source does not compile (a custom template's mistake, a file it may not read), with
        Typst's first message.
    """
    import typst  # imported here: only the PDF needs it

    with tempfile.TemporaryDirectory(prefix="lqas-typst-") as root:
        charts = Path(root) / CHARTS_DIR
        charts.mkdir()
        for chart in sorted((run_dir / CHARTS_DIR).glob("*")):
            if chart.suffix in (".svg", ".png") and chart.is_file() and not chart.is_symlink():
                try:
                    shutil.copyfile(chart, charts / chart.name)
                except FileNotFoundError:  # a chart's PNG file, drawn beside the typesetting, taken away as it failed
                    continue
        try:
            pdf = typst.compile(source.encode("utf-8"), root=root, format="pdf", ignore_system_fonts=True,
                                timestamp=int(run_day().timestamp()))
        except typst.TypstError as exc:
            first = " ".join(str(exc).split("\n")[0].split())
            raise InputError(f"{name}: Typst could not typeset the report ({first})") from None
    return pdf


def write_pdf(document: Document, path: Path, run_dir: Path, *, template: str = "typst/report.typ.j2",
              template_dir: Path | None = None) -> None:
    """Typeset the document and write ``report.pdf``."""
    compile_pdf(typst_source(document, template=template, template_dir=template_dir), path, run_dir)


def html_page(document: Document, run_dir: Path | None, *, template: str = "html/report.html.j2",
              template_dir: Path | None = None) -> str:
    """The report as one self-contained HTML page (charts inline, rebuilt from an allow-list), from the
    same blocks as the PDF; autoescaped and sandboxed as every HTML template."""
    from lqas.report import environment as html_environment

    env = html_environment(document.lang, template_dir, run_dir)
    return env.get_template(template).render(doc=document.model_dump())

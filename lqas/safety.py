"""Outputs that are safe to open: CSV text no spreadsheet runs as a formula, chart SVG rebuilt from an
allow-list before it enters a report, and a PDF renderer that reads only the run's own files.

Whatever the data say (village names, remarks, a ``report_context.json`` or ``charts/`` folder received
from someone else), opening an output must not run a formula, a script or fetch a file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime, time
from pathlib import Path

import pandas as pd

# --- CSV ---------------------------------------------------------------------------------------

# OWASP "CSV injection": a cell starting with one of these is a formula (or becomes one after a
# spreadsheet splits on the tab / CR) in Excel, LibreOffice and Google Sheets
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value):
    """``value`` with a leading ``'`` if it is text a spreadsheet would read as a formula; anything
    else (numbers, missing values) unchanged."""
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def neutralise_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised (:func:`neutralise_text`).

    Only text is touched: a negative number stored as a number stays ``-2``; the text ``"-2"`` of a
    text column becomes ``'-2``, as the OWASP rule says.
    """
    out = frame.copy()
    for column in out.columns:
        dtype = out[column].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype) \
                or isinstance(dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).map(neutralise_text)
    out.columns = [neutralise_text(column) for column in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, neutralise: bool = True) -> None:
    """Every CSV output of a run is written here: neutralised unless the project turns it off
    (``[report] csv_neutralise = false``, for machine consumers that want the raw text).

    Rows end in CRLF (RFC 4180): Python's CSV writer quotes a field holding a line-end character,
    and with a bare LF terminator a CR inside a remark would be left unquoted; spreadsheets and
    pandas break the row there, and the text after the CR would start a cell of its own.
    """
    (neutralise_csv(frame) if neutralise else frame).to_csv(path, index=False, lineterminator="\r\n")


# --- SVG ---------------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_SVG_BYTES = 10_000_000  # the run's charts are ~100 kB; anything far bigger is not one of them
_MAX_DEPTH = 40

# what matplotlib's SVG backend writes (and a few plain shapes); script, foreignObject, image, a,
# style, animation and metadata elements are dropped with everything inside them
_ELEMENTS = {"svg", "g", "defs", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
             "tspan", "clipPath", "use", "title", "desc"}
_PRESENTATION = {"fill", "fill-opacity", "fill-rule", "clip-rule", "clip-path", "stroke", "stroke-width",
                 "stroke-linejoin", "stroke-linecap", "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit",
                 "stroke-opacity", "opacity", "font-family", "font-size", "font-weight", "font-style",
                 "font-stretch", "font-variant", "text-anchor", "dominant-baseline", "letter-spacing", "visibility",
                 "display"}
_ATTRIBUTES = _PRESENTATION | {"id", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy",
                               "width", "height", "d", "points", "transform", "viewBox", "version",
                               "preserveAspectRatio", "style", "clipPathUnits", "textLength", "lengthAdjust"}
_STYLE = _PRESENTATION | {"font", "white-space"}
# no backslash (CSS escapes), quotes only for font names, no '<', '&', '@', '/', ':' (schemes)
_VALUE = re.compile(r"[\w\s#%.,'\"()+-]*")
_FUNCTION = re.compile(r"([A-Za-z-]+)\s*\(([^()]*)\)")
_FUNCTIONS = {"translate", "rotate", "scale", "matrix", "skewx", "skewy", "rgb", "rgba", "url"}
_FRAGMENT = re.compile(r"#[\w.-]+")


def _value_ok(value: str) -> bool:
    """A presentation value with nothing that can fetch or run: known functions only, ``url()`` only
    to an element of the same drawing (``url(#clip1)``)."""
    if not _VALUE.fullmatch(value):
        return False
    calls = _FUNCTION.findall(value)
    if value.count("(") != len(calls):
        return False
    return all(name.lower() in _FUNCTIONS
               and (name.lower() != "url" or _FRAGMENT.fullmatch(argument.strip().strip("'\"")) is not None)
               for name, argument in calls)


def _clean_style(style: str) -> str:
    kept = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if colon and name in _STYLE and _value_ok(value):
            kept.append(f"{name}: {value}")
    return "; ".join(kept)


def _local(tag: str, namespace: str = SVG_NS) -> str | None:
    prefix = "{" + namespace + "}"
    return tag[len(prefix):] if isinstance(tag, str) and tag.startswith(prefix) else None


def _clean_element(source: ET.Element, depth: int) -> ET.Element | None:
    name = _local(source.tag)
    if name not in _ELEMENTS or depth > _MAX_DEPTH:
        return None
    attributes = {}
    for key, value in source.attrib.items():
        if key in ("href", "{" + XLINK_NS + "}href"):
            if _FRAGMENT.fullmatch(value.strip()):  # <use> of a marker defined in the same drawing
                attributes["xlink:href"] = value.strip()
        elif key == "style":
            if style := _clean_style(value):
                attributes["style"] = style
        elif key in _ATTRIBUTES and _value_ok(value):
            attributes[key] = value
    element = ET.Element(name, attributes)
    element.text = source.text
    for child in source:
        cleaned = _clean_element(child, depth + 1)
        if cleaned is not None:
            cleaned.tail = child.tail
            element.append(cleaned)
        elif len(element):  # keep the text that followed a dropped element, as in the source
            element[-1].tail = (element[-1].tail or "") + (child.tail or "")
        else:
            element.text = (element.text or "") + (child.tail or "")
    return element


def clean_svg(text: str) -> str:
    """An SVG drawing re-serialised from an allow-list of elements, attributes and CSS declarations,
    ready to insert inline in HTML.

    The source is parsed (entity declarations refused), and a new tree is built from what a chart
    needs: shapes, text, clip paths, ``<use>`` of a marker of the same drawing. Scripts, event
    handlers, ``<foreignObject>``, ``<image>``, links, ``<style>`` and every URL that leaves the
    drawing are left out; text is escaped by the serialiser.

    Raises
    ------
    ValueError
        The text is not an SVG drawing (not XML, declares entities, or its root is not ``<svg>``).
    """
    if len(text.encode("utf-8")) > MAX_SVG_BYTES:
        raise ValueError(f"larger than {MAX_SVG_BYTES // 1_000_000} MB")
    if "<!ENTITY" in text.upper():
        raise ValueError("declares XML entities")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    if _local(root.tag) != "svg":
        raise ValueError("its root element is not <svg>")
    clean = _clean_element(root, 0)
    # matplotlib's <style> says only this; as inherited attributes it cannot reach the rest of the page
    clean.attrib = {"xmlns": SVG_NS, "xmlns:xlink": XLINK_NS, "stroke-linejoin": "round", "stroke-linecap": "butt",
                    **clean.attrib}
    return ET.tostring(clean, encoding="unicode")


# --------------------------------------------------------------------------- reruns give the same bytes


def run_day() -> datetime:
    """Midnight UTC of today: the one time stamp the files of a run carry (the report says the same
    date), so that two runs of one day give byte-identical files."""
    return datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)


def stamp_zip(path: Path, when: datetime) -> None:
    """Rewrite a zip container (XLSX) with every member, and the workbook's own "modified" property,
    dated ``when`` instead of the second it was saved."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == "docProps/core.xml":  # openpyxl writes the second of saving here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                              data)
            stamped = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            stamped.compress_type, stamped.external_attr = info.compress_type, info.external_attr
            archive.writestr(stamped, data)

"""Outputs that are safe to open: CSV text no spreadsheet runs as a formula, chart SVG rebuilt from an
allow-list before it enters a report, and a PDF renderer that reads only the run's own files.

Whatever the data say (village names, remarks, a ``report_context.json`` or ``charts/`` folder received
from someone else), opening an output must not run a formula, a script or fetch a file.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime, time
from pathlib import Path
from threading import Event
from typing import NamedTuple

import numpy as np
import pandas as pd

from lqas.dtypes import first_rows, text_codes, whole_numbers

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
    text column becomes ``'-2``, as the OWASP rule says. Columns with nothing to neutralise are shared
    with ``frame``, not copied (a national derived table has a million rows of a few hundred columns).
    """
    out = frame.copy(deep=False)
    for j in range(frame.shape[1]):
        neutral = _neutralise_column(frame.iloc[:, j])
        if neutral is not None:
            out.isetitem(j, neutral)
    out.columns = [neutralise_text(column) for column in frame.columns]
    return out


def _neutralise_column(values: pd.Series) -> pd.Series | None:
    """``values`` with its formula-like text neutralised; ``None`` when none is."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = values.cat.categories.to_series()
        starts = _formula_like(categories)
        if not starts.any():
            return None
        renamed = _prefixed(categories, starts)
        if pd.Index(renamed).is_unique:  # the categories, not each of a million cells
            return values.cat.rename_categories(renamed)
        # "=a" and "'=a" both categories: renamed they would be one, which a categorical refuses
        values = values.astype(object)
    elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return None
    # each distinct text checked once: a column of a million cells holds a few hundred names. (pandas
    # hashes text up to its first NUL character: "=a" and "=a\0b" are one value to it, but two texts
    # the same up to a NUL start with the same character, or with none or NUL, which no trigger is)
    codes, uniques = pd.factorize(values)
    starts = _formula_like(pd.Series(uniques))
    if not starts.any():
        return None
    rows = np.append(starts, False)[codes]  # code -1 (missing) picks the appended False
    # object, as the column came: pandas 3 would make it text and its None a NaN
    return pd.Series(_prefixed(values, rows), index=values.index, name=values.name, dtype=object)


def _formula_like(values: pd.Series) -> np.ndarray:
    """Which values are text starting with a :data:`CSV_TRIGGERS` character (numbers and missing
    values of a mixed column are not)."""
    try:
        starts = values.str.startswith(CSV_TRIGGERS)
    except AttributeError:  # no text at all in the column (all missing, or numbers stored as objects)
        return np.zeros(len(values), dtype=bool)
    return starts.to_numpy(dtype=bool, na_value=False)


def _prefixed(values: pd.Series, starts: np.ndarray) -> np.ndarray:
    text = values.to_numpy(dtype=object, copy=True)
    text[starts] = "'" + text[starts]
    return text


def write_csv(frame: pd.DataFrame, path: Path, *, neutralise: bool = True, stop: Event | None = None) -> None:
    """Every CSV output of a run is written here: neutralised unless the project turns it off
    (``[report] csv_neutralise = false``, for machine consumers that want the raw text).

    Rows end in CRLF (RFC 4180): Python's CSV writer quotes a field holding a line-end character,
    and with a bare LF terminator a CR inside a remark would be left unquoted; spreadsheets and
    pandas break the row there, and the text after the CR would start a cell of its own.

    The bytes are those of ``DataFrame.to_csv(index=False, lineterminator="\\r\\n")``: floats as
    Python writes them (``1.0``, ``1e-05``), missing values empty, a field quoted when it holds a
    comma, a quote or a line end. Tables of the usual column types are formatted by Arrow, column by
    column (a national estimates.csv has millions of rows, and pandas formats a float in a
    microsecond); any other table is written by pandas itself.

    ``stop``: once set, Arrow's writing raises :class:`InterruptedError` before its next chunk (the file
    is being written beside a run that failed, and is thrown away with it).
    """
    frame = neutralise_csv(frame) if neutralise else frame
    kinds = _csv_kinds(frame)
    if kinds is not None:
        try:
            with open(path, "wb") as handle:
                _write_arrow_csv(frame, kinds, handle, stop)
            return
        except UnicodeEncodeError:  # a lone surrogate: Arrow refuses it; pandas says where it is
            pass
    frame.to_csv(path, index=False, lineterminator="\r\n")


# cells formatted at a time: the text of a chunk (an Arrow string array) stays in memory, two chunks at
# once when two tables are written side by side. At 10^6 children: 5 million cells a chunk took the run's
# peak to 4.0 GB, 4 million to 3.9 GB (0.9 s more), 2.5 million 3.9 GB and 4.5 s more
_CSV_CHUNK_CELLS = 4_000_000
# and this many rows at most: a narrow table's 4 million cells (a national estimates.csv's 22 columns) were
# 180,000 rows of text at once, written beside the workbook at the run's peak (the writing's own peak, a
# million estimates formatted chunk by chunk: +218 -> +101 MB, 1.2 -> 1.3 s); at 10^5, no slower
_CSV_CHUNK_ROWS = 65_536
# floats whose shortest digits Arrow writes in plain notation, as Python does (Python: 1e-05 and
# 1e+16 in scientific notation; Arrow: 0.00001, and 1e+15 or 1.23e+11 as soon as the digits run long)
_PLAIN_FLOATS = (1e-4, 1e9)


def _csv_kinds(frame: pd.DataFrame) -> list[str] | None:
    """How each column is formatted (``float``, ``int``, ``bool``, ``text``, ``object``: anything in an
    object column); ``None`` when some column or the header is of a kind only pandas writes right
    (dates, float32, nullable floats...)."""
    if frame.shape[1] == 0 or not all(isinstance(column, str) for column in frame.columns):
        return None
    kinds = []
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j]
        dtype = values.dtype
        if dtype == np.float64:
            if not _arrow_writes_floats_as_numpy():
                return None
            kinds.append("float")
        elif dtype == np.float32 and _arrow_writes_floats_as_numpy() and whole_numbers(values.to_numpy()):
            kinds.append("float")  # 0/1 indicators of a compact child table: written as their float64 values
        elif dtype.kind in "iu":  # numpy and nullable (Int64) integers
            kinds.append("int")
        elif dtype.kind == "b":  # numpy and nullable booleans
            kinds.append("bool")
        elif isinstance(dtype, pd.CategoricalDtype):
            kinds.append("text" if _all_text(values.cat.categories) else "object")
        elif isinstance(dtype, pd.StringDtype):
            kinds.append("text")
        elif pd.api.types.is_object_dtype(dtype):
            kinds.append("text" if _all_text(values) else "object")
        else:
            return None
    return kinds


@functools.cache
def _arrow_writes_floats_as_numpy() -> bool:
    """Whether this Arrow writes the floats of :data:`_PLAIN_FLOATS` (and zero) as numpy does, once
    given back the ".0" of whole numbers: its shortest-digits formatting, checked on numbers whose
    digits and decimal point are easy to get wrong (if a later Arrow changes it, pandas writes)."""
    import pyarrow as pa

    numbers = np.array([0.0, -0.0, 1.0, -7.0, 0.1, 1 / 3, -2 / 3, 0.30000000000000004, 1e-4, -1.0000000000000002e-4,
                        0.00012345678901234567, 5e-4, 2 ** -13, 0.5, 100.0, 123456.789, 12345678.9, 1e8 + 0.5,
                        123456789.0, 999999999.9999999, 1 / 7 * 1e5, 2.675, 9.995, 1.005])
    fields = _float_fields(numbers)
    return fields.equals(pa.array(numbers.astype(str)))


def _all_text(values) -> bool:
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _write_arrow_csv(frame: pd.DataFrame, kinds: list[str], handle, stop: Event | None = None) -> None:
    import csv
    import io

    import pyarrow as pa
    import pyarrow.compute as pc

    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow(frame.columns)
    handle.write(header.getvalue().encode("utf-8"))
    columns = [frame.iloc[:, j] for j in range(frame.shape[1])]
    # a categorical's fields made once, for every chunk: each category quoted, then missing (empty)
    category_fields = {j: _quoted(pa.array([*values.cat.categories.to_numpy(object), ""], type=pa.string()))
                       for j, (values, kind) in enumerate(zip(columns, kinds))
                       if kind == "text" and isinstance(values.dtype, pd.CategoricalDtype)}
    whole = _whole_coded_floats(columns, kinds)
    step = max(1, min(_CSV_CHUNK_CELLS // len(columns), _CSV_CHUNK_ROWS))
    for start in range(0, len(frame), step):
        if stop is not None and stop.is_set():
            raise InterruptedError(f"stopped after {start} rows")
        fields = _joined_runs([_category_codes(values.iloc[start:start + step], category_fields[j])
                               if j in category_fields else
                               _Coded(whole[j].fields, whole[j].codes[start:start + step]) if j in whole else
                               _csv_fields(values.iloc[start:start + step], kind)
                               for j, (values, kind) in enumerate(zip(columns, kinds))])
        if len(columns) == 1:  # Python's CSV writer quotes a row that is one empty field, or it would be no row
            fields = [pc.if_else(pc.equal(fields[0], ""), '""', fields[0])]
        # the line end put after the last field, not after each joined line: the chunk's text made once
        fields[-1] = pc.binary_join_element_wise(fields[-1], "\r\n", "")
        rows = pc.binary_join_element_wise(*fields, ",")
        del fields
        if isinstance(rows, pa.ChunkedArray):  # pandas 3's text columns are Arrow's, in chunks
            rows = rows.combine_chunks()
        _, offsets, data = rows.buffers()
        # pandas 3's Arrow strings are large_string: 64-bit offsets
        width = np.int64 if pa.types.is_large_string(rows.type) or pa.types.is_large_binary(rows.type) else np.int32
        bounds = np.frombuffer(offsets, dtype=width)[[rows.offset, rows.offset + len(rows)]]
        handle.write(memoryview(data)[bounds[0]:bounds[1]])
        del rows, offsets, data


class _Coded(NamedTuple):
    """A column's fields given as each distinct value's field and each row's position among them."""

    fields: object  # an Arrow string array
    codes: np.ndarray


# float cells of a table coded whole (_whole_coded_floats) at most: each row's code held for the whole
# writing (4 bytes a cell), not a chunk's. A 10^5-child estimates.csv has 11 million such cells
_WHOLE_CODED_CELLS = 16_000_000


def _whole_coded_floats(columns: list[pd.Series], kinds: list[str]) -> dict[int, _Coded]:
    """The float columns whose numbers repeat across the table (at most half of them distinct), each
    number formatted once for the whole table, by position. An estimates.csv's estimates, intervals and
    weighted counts repeat across its domains but seldom within a chunk of rows: coded chunk by chunk,
    6 million of its 12 million numbers were formatted, 2 million once coded whole. Not for a table of
    more than :data:`_WHOLE_CODED_CELLS` float cells (a national run's, whose memory is counted)."""
    floats = [j for j, kind in enumerate(kinds) if kind == "float"]
    rows = len(columns[0]) if columns else 0
    if rows < 1_000 or rows * len(floats) > _WHOLE_CODED_CELLS:
        return {}
    coded = {}
    for j in floats:
        numbers = np.ascontiguousarray(columns[j].to_numpy(dtype=np.float64))
        if _zero_one(numbers) is not None:  # coded by arithmetic, chunk by chunk (_csv_fields)
            continue
        codes, distinct = pd.factorize(numbers.view(np.int64))  # by their bits: 0.0 and -0.0 are two
        if len(distinct) > rows // 2:
            continue
        coded[j] = _Coded(_float_fields(distinct.view(np.float64)), codes.astype(np.int32))
    return coded


# the most combinations of values a run of coded columns is joined over (see _joined_runs)
_RUN_COMBINATIONS = 1 << 16


def _joined_runs(columns: list) -> list:
    """The fields of each row as Arrow string arrays, runs of coded columns side by side joined
    into one field ("a,b,c") per distinct combination of their values, then spread to the rows.

    A child table has hundreds of columns of a few values (0/1 indicators, codes, dates), and
    joining a field per column and row is most of the time it takes to write: ten ternary columns
    have at most 59,049 combinations, a few hundred of them in a survey's rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out, run = [], []

    def close() -> None:
        if len(run) == 1:
            out.append(run[0].fields.take(pa.array(run[0].codes)))
        elif run:
            combined = np.zeros(len(run[0].codes), dtype=np.int64)
            for column in run:
                combined = combined * len(column.fields) + column.codes
            codes, distinct = pd.factorize(combined)
            first = first_rows(codes, len(distinct))  # a row of each combination
            joined = pc.binary_join_element_wise(*(c.fields.take(pa.array(c.codes[first])) for c in run), ",")
            out.append(joined.take(pa.array(codes)))
        run.clear()

    combinations = 1
    for column in columns:
        if not isinstance(column, _Coded):
            close()
            out.append(column)
            continue
        if run and combinations * len(column.fields) > _RUN_COMBINATIONS:
            close()
        if not run:
            combinations = 1
        run.append(column)
        combinations *= len(column.fields)
    close()
    return out


# the numbers of a 0/1 indicator, as _csv_fields codes them
_ZERO_ONE_MISSING = np.array([0.0, 1.0, np.nan]).tobytes()


def _zero_one(numbers: np.ndarray) -> _Coded | None:
    """A column of 0.0, 1.0 and missing coded by arithmetic (no hashing); None for any other."""
    missing, one, zero = np.isnan(numbers), numbers == 1.0, numbers.view(np.int64) == 0  # 0.0, not -0.0
    if np.count_nonzero(missing) + np.count_nonzero(one) + np.count_nonzero(zero) != len(numbers):
        return None
    return _Coded(_few_float_fields(_ZERO_ONE_MISSING), one.astype(np.intp) + 2 * missing)


def _category_codes(values: pd.Series, fields) -> _Coded:
    """A categorical's rows as positions among its ``fields`` (its categories', the last one missing)."""
    codes = values.cat.codes.to_numpy()
    return _Coded(fields, np.where(codes < 0, len(fields) - 1, codes))


def _csv_fields(values: pd.Series, kind: str):
    """The column's fields as pandas would write them: an Arrow string array, or a :class:`_Coded`
    column when its values repeat."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "float":
        numbers = np.ascontiguousarray(values.to_numpy(dtype=np.float64))
        coded = _zero_one(numbers)
        if coded is not None:  # a 0/1 indicator (most of a child table): its codes by arithmetic, no hashing
            return coded
        if len(np.unique(numbers[:1000].view(np.int64))) <= 100:  # counts, codes, a few distinct numbers
            # each distinct number formatted once (told apart by their bits: 0.0 and -0.0 are two); the fields
            # of a few numbers once for every column and chunk that has them
            codes, distinct = pd.factorize(numbers.view(np.int64))
            fields = (_few_float_fields(distinct.tobytes()) if len(distinct) <= 100
                      else _float_fields(distinct.view(np.float64)))
            return _Coded(fields, codes)
        return _float_fields(numbers)
    if kind == "int":
        return pc.cast(pa.array(values), pa.string()).fill_null("")
    if kind == "bool":
        return pc.if_else(pa.array(values), "True", "False").fill_null("")
    if kind == "text":  # missing values (None, NaN, NA) are Arrow's nulls, written empty
        # (a categorical's fields are made once, for all its chunks: _category_codes)
        most = len(values) // 2  # more distinct texts (identifiers): each row in turn
        coded = None
        if len(values) >= 1_000:  # text as objects, or pandas' string dtype (Arrow's with pandas 3)
            coded = text_codes(values, most=most)
        if coded is None:
            return _quoted(pc.cast(pa.array(values, from_pandas=True), pa.string()).fill_null(""))
        codes, distinct = coded
        # codes, places, domains: each distinct text quoted once (missing: the last, empty), then spread to its rows
        fields = _quoted(pa.array([*distinct, ""], type=pa.string()))
        return _Coded(fields, np.where(codes < 0, len(distinct), codes))
    # numbers, flags, dates... stored as objects: each written as ``str()`` writes it (as pandas does;
    # not by distinct value, for 1, 1.0 and True are one value to a hash)
    cells = values.to_numpy(dtype=object)
    return _quoted(pa.array(["" if missing else cell if isinstance(cell, str) else str(cell)
                             for cell, missing in zip(cells, pd.isna(cells))], type=pa.string()))


@functools.lru_cache(maxsize=1024)
def _few_float_fields(bits: bytes):
    """:func:`_float_fields` of a few numbers given by their bytes (an Arrow array is never changed, so
    one made for a column's chunk serves the next)."""
    return _float_fields(np.frombuffer(bits, dtype=np.float64))


def _float_fields(numbers: np.ndarray):
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(numbers, from_pandas=True), pa.string())  # NaN: null, written empty
    size = np.abs(numbers)
    whole = (numbers == np.trunc(numbers)) & (size < _PLAIN_FLOATS[1])
    if whole.any():  # Arrow writes a whole number without its ".0"
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    other = (size >= _PLAIN_FLOATS[1]) | ((size < _PLAIN_FLOATS[0]) & (numbers != 0))
    if other.any():  # tiny, huge and infinite: the few numbers numpy writes, as pandas does
        text = pc.replace_with_mask(text, other, pa.array(numbers[other].astype(str)))
    return text.fill_null("")


def _quoted(text):
    """Text fields as Python's CSV writer quotes them: those holding a comma, a quote or a line end."""
    import pyarrow.compute as pc

    quoted = pc.match_substring_regex(text, '[,"\r\n]')
    if not pc.any(quoted).as_py():
        return text
    return pc.if_else(quoted, pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', ""), text)


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


def stamp_zip(path: Path, when: datetime, *, level: int | None = None) -> None:
    """Rewrite a zip container (XLSX) with every member, and the workbook's own "modified" property,
    dated ``when`` instead of the second it was saved; deflated at zlib's ``level`` (its default: 6)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == "docProps/core.xml":  # openpyxl writes the second of saving here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                              data)
            stamped = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            stamped.compress_type, stamped.external_attr = info.compress_type, info.external_attr
            archive.writestr(stamped, data, compresslevel=level)

"""Readers for ingest (01PP): CSV, XLSX, Stata .dta and SPSS .sav exports as text cells, plus dates."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from lqas.dtypes import text_dtype
from lqas.errors import InputError

MISSING_TOKENS = ["", "n/a", "N/A", "NA", "na", "NaN", "nan", "."]
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
STAT_SUFFIXES = {".dta", ".sav", ".zsav"}
_Result = TypeVar("_Result")
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass(frozen=True)
class Source:
    """One export read as text cells, with what the file says about its codes.

    ``labels`` maps a column to ``{code text: value label}`` (Stata/SPSS value labels; empty for
    CSV/XLSX). ``row_offset`` turns a 0-based row index into the row number a user sees: 2 in a
    spreadsheet (row 1 is the header), 1 in Stata/SPSS (observation number).
    """

    frame: pd.DataFrame
    path: Path
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    row_offset: int = 2
    # per row of a CSV: "<fields> of <header fields> fields" where the row is shorter than the header
    # (a file cut short, or a broken line); None elsewhere. Ingest excludes those rows.
    short_rows: pd.Series | None = None
    # the header row as written, when it names a column twice and the reader was told to allow it
    # (label headers of two questions with the same label, decoded through the form by position)
    headers: tuple[str, ...] | None = None
    # every column of the file, stripped, when the reader was told to keep only some (``columns``)
    file_columns: tuple[str, ...] | None = None


def read_source(path: str | Path, *, sheet: str | int | None = None, encoding: str | None = None,
                delimiter: str | None = None, repeated_headers: bool = False, categories: bool = False,
                columns: Collection[str] | None = None) -> Source:
    """Read a CSV, XLSX, Stata ``.dta`` or SPSS ``.sav`` export as text cells (empty cells as NaN).

    Codes are kept verbatim as text (``1``, not ``1.0``, for whole numbers stored as floats) so a
    mapping profile can recode them; Stata/SPSS value labels are returned alongside.

    With ``categories``, a CSV whose every record has the header's fields (and plain quoting) is
    read by Arrow's reader, and a column whose answers repeat (at most one distinct text for two
    rows) comes as a categorical of its text, its categories sorted as text (``lqas.dtypes``' form):
    a national export is then a few hundred MB, not gigabytes of Python strings. The cells are the
    same; a caller reading such a column converts it where it maps or orders it.

    ``columns``: the only columns kept (by name, stripped), the others read past without being made
    cells (a household log's millions of household ids that nothing reads); ``Source.file_columns``
    then names every column of the file.

    Raises
    ------
    InputError
        One line naming the file: missing, empty, unreadable, unsupported type or no data rows; a
        header naming a column twice, unless ``repeated_headers`` (then ``Source.headers`` holds the
        header row as written and the frame's columns are made unique).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    labels: dict[str, dict[str, str]] = {}
    row_offset = 2
    short_rows = None
    keep = None if columns is None else {str(column).strip() for column in columns}
    file_columns = None  # the file's columns, where the frame was read without those not kept
    try:
        if suffix in {".xlsx", ".xlsm"}:
            # read without a header so that a repeated column name is seen before pandas renames it
            cells = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None, dtype=object)
            header = cells.iloc[0].tolist() if len(cells) else []
            if not repeated_headers:
                _check_header(path, header)
            names = [text if isinstance(text := cell_text(name), str) else f"Unnamed: {i}"
                     for i, name in enumerate(header)]
            written = [str(name).strip() for name in names]
            frame = cells.iloc[1:].set_axis(names, axis=1).reset_index(drop=True).map(cell_text)
        elif suffix in CSV_SUFFIXES:
            data, text = _utf8(path, encoding)  # the text of the file's head only, when it is UTF-8
            sep = delimiter or _sniff_delimiter(text)
            header = next((record for record in csv.reader(_lines(text), delimiter=sep) if record), [])
            if header and not repeated_headers:
                _check_header(path, header)
            written = [name.strip() for name in header]
            del text
            table = None
            if categories:
                # Arrow reads (on its own threads) while the fields per record are counted: what it read is
                # kept only if the count finds the file regular (a national export: 7.5 -> 4.8 s)
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-fields") as counter:
                    counting = counter.submit(_plain_widths, data, sep)
                    table = _arrow_table(data, sep, header)
                    plain = counting.result()
            else:
                plain = _plain_widths(data, sep)  # None unless the quoting is plain (as _record_widths)
            widths = plain if plain is not None else _module_widths(data, sep)
            frame = None
            held = [table] if table is not None and plain is not None and _regular(widths, header, data) else []
            del table
            if held:
                frame = _text_frame(held, header, keep)
                file_columns = None if keep is None else tuple(name.strip() for name in header)
            if frame is None:
                frame = _read_csv(data, sep)
            del data
            short_rows = _short_rows(widths, frame)
        elif suffix in STAT_SUFFIXES:
            frame, labels = _read_stat(path, suffix, encoding)
            row_offset = 1
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}' (expected .csv, .xlsx, .dta or .sav)")
    except InputError:
        raise
    except Exception as exc:
        if not isinstance(exc, (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile,
                                pd.errors.ParserError)) and type(exc).__module__.split(".")[0] != "pyreadstat":
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read file ({message})") from None
    if len(frame) == 0:  # (columns not kept leave a frame of rows and no column: not empty)
        raise InputError(f"{path}: no data rows")
    frame.columns = [str(column).strip() for column in frame.columns]
    if keep is not None:
        file_columns = file_columns or tuple(frame.columns)
        frame = frame.loc[:, [column in keep for column in frame.columns]]
    if suffix not in CSV_SUFFIXES:  # a CSV's missing tokens were read as NaN
        frame = frame.mask(frame.isin(MISSING_TOKENS))
    frame = text_as_objects(frame)
    headers = None
    if repeated_headers and suffix not in STAT_SUFFIXES and len(set(written)) < len(written):
        headers = tuple(written)
        frame.columns = [f"{name}\x1f{position}" for position, name in enumerate(written)]
    return Source(frame, path, labels, row_offset, short_rows, headers, file_columns)


def text_as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns as Python strings (object dtype, NaN where missing), whatever
    the reader and the pandas version: pandas 3 reads text in its string dtype, and a table read
    from a CSV, a workbook or in categories would otherwise differ by the dtypes of its columns."""
    text = [position for position, dtype in enumerate(frame.dtypes) if isinstance(dtype, pd.StringDtype)]
    if not text:
        return frame
    frame = frame.copy(deep=False)
    for position in text:  # by position: a header may name a column twice
        frame.isetitem(position, frame.iloc[:, position].astype(object))
    return frame


def _check_header(path: Path, header: list) -> None:
    """Refuse a header naming one column twice: pandas would rename the second silently (``x.1``)
    and a profile would read only one of them."""
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name is None or (isinstance(name, float) and np.isnan(name)):
            continue
        name = str(name).strip()
        if name in seen:
            raise InputError(f"{path}: column '{name}' appears twice in the header (columns {seen[name]} and "
                             f"{position}); rename or remove one")
        seen[name] = position


def _read_csv(data: bytes, sep: str) -> pd.DataFrame:
    """A CSV as text cells, the missing tokens as NaN."""
    # the tokens become NaN as pandas reads them: no second pass over (and no copy of) every cell
    frame = pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False, na_values=MISSING_TOKENS,
                        encoding="utf-8")
    if isinstance(frame.index, pd.RangeIndex):
        return frame
    # a first row longer than the header made pandas take its first cells for an index, where a
    # missing token stays text: the cells are masked after reading, as ever
    frame = pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
    return frame.mask(frame.isin(MISSING_TOKENS))


def _regular(widths: np.ndarray, header: list[str], data: bytes) -> bool:
    """Every record has the header's fields, the header names each column once and by a name, and
    the file starts with it: with plain quoting, Arrow's reader then reads the cells pandas' would."""
    if not len(widths) or not header or (widths != len(header)).any():
        return False
    names = [name.strip() for name in header]
    return all(names) and len(set(header)) == len(header) and data[:1] not in (b"\n", b"\r")


def _arrow_table(data: bytes, sep: str, header: list[str]):
    """A CSV's cells as Arrow text (the missing tokens null), read by Arrow's reader in parallel and
    without a Python string per cell; None when Arrow reads it otherwise (other column names, a
    record of another width). Only a regular file's (:func:`_regular`) are the cells pandas reads."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    try:
        table = arrow_csv.read_csv(
            pa.py_buffer(data),
            parse_options=arrow_csv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                                 newlines_in_values=True, ignore_empty_lines=True),
            convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                                     null_values=MISSING_TOKENS, strings_can_be_null=True,
                                                     quoted_strings_can_be_null=True))
    except (pa.ArrowException, ValueError):  # whatever Arrow cannot read, pandas reads (and says why)
        return None
    if table.column_names != header or any(t != pa.string() for t in table.schema.types):
        return None
    return table


def _text_frame(held: list, header: list[str], keep: Collection[str] | None = None) -> pd.DataFrame:
    """The Arrow table of a regular CSV (:func:`_arrow_table`), taken out of ``held`` so that no one
    else holds it, as text cells, missing as NaN: the columns whose texts repeat as categoricals
    (:func:`lqas.dtypes.text_categorical`), the others as text. ``keep``: the only columns made cells
    (stripped names), when not all."""
    from lqas.dtypes import text_categorical

    table = held.pop()
    index = pd.RangeIndex(table.num_rows)
    columns: dict[str, object] = {}

    def text(name: str, encoded) -> None:
        distinct = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        compacted = text_categorical(codes, distinct, index, name) if len(distinct) else None
        if compacted is None:
            # the text of each row (ids, times): one Python string per distinct text, missing as NaN
            cells = np.append(distinct, np.nan)
            compacted = pd.Series(cells[np.where(codes < 0, len(distinct), codes)], index=index, dtype=object)
        columns[name] = compacted

    # each column dictionary-encoded by Arrow in a thread (without Python's lock) while the one before is
    # made a categorical here; each column's Arrow buffers let go once it is encoded
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-encode") as encoder:
        before = None
        for name in header:
            column = table.column(0)
            table = table.remove_column(0)
            if keep is not None and name.strip() not in keep:
                continue
            encoding = encoder.submit(lambda column: column.dictionary_encode().combine_chunks(), column)
            del column
            if before is not None:
                text(before[0], before[1].result())
            before = name, encoding
        if before is not None:
            text(before[0], before[1].result())
    return pd.DataFrame(columns, index=index, copy=False)


def _short_rows(widths: np.ndarray, frame: pd.DataFrame) -> pd.Series | None:
    """Rows with fewer fields than the header (pandas would fill the rest with empty cells), from
    the fields per record the csv module reads (the header first)."""
    counts = widths[1:]
    if len(counts) != len(frame):  # quoting the csv module reads otherwise than pandas: no verdict
        return None
    width = widths[0]
    detail = pd.Series(np.nan, index=frame.index, dtype=object)
    short = counts < width
    if short.any():
        detail[short] = [f"{count} of {width} fields" for count in counts[short]]
    return detail


_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")
_CHUNK = 1 << 24  # bytes scanned at a time: the temporaries stay small whatever the file's size


def _record_widths(data: bytes, sep: str) -> np.ndarray:
    """Fields per non-empty record of a UTF-8 CSV, as ``csv.reader`` reads it (its default dialect).

    Counted on the bytes when the quoting is plain (:func:`_plain_widths`): the csv module would
    take seconds and a Python list per row for a national survey. Otherwise the csv module counts.
    """
    widths = _plain_widths(data, sep)
    return widths if widths is not None else _module_widths(data, sep)


def _module_widths(data: bytes, sep: str) -> np.ndarray:
    """Fields per non-empty record as the csv module reads them (a record a Python list)."""
    reader = csv.reader(_lines(data.decode("utf-8")), delimiter=sep)
    return np.fromiter((len(record) for record in reader if record), dtype=np.int64)


def _lines(text: str):
    """The lines of ``text`` one by one, each with its line feed, as ``io.StringIO(text)`` yields them
    (which would first copy the whole text, at four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


def _plain_widths(data: bytes, sep: str) -> np.ndarray | None:
    """Fields per non-empty record when every quote opens a field or closes it (doubled quotes
    inside a quoted field included) and every carriage return outside quotes ends a line; None
    otherwise, when only the csv module's own reading can say.

    With plain quoting a byte lies inside a quoted field exactly when an odd number of quotes come
    before it, so the records end at the line feeds and the fields at the separators outside quotes
    (UTF-8: those ASCII bytes never occur inside a multi-byte character).
    """
    if len(sep) != 1 or not sep.isascii() or sep in "\"\r\n":
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    size, separator = len(array), ord(sep)
    quotes = 0          # quotes before the chunk
    start = 0           # where the current record starts
    seps = 0            # separators outside quotes since the record started
    widths: list[np.ndarray] = []
    for begin in range(0, size, _CHUNK):
        chunk = array[begin:begin + _CHUNK]
        is_quote = chunk == _QUOTE
        at_quote = np.flatnonzero(is_quote) + begin
        if len(at_quote):
            opening = (quotes + np.arange(len(at_quote))) % 2 == 0
            before = array[np.maximum(at_quote - 1, 0)]
            after = array[np.minimum(at_quote + 1, size - 1)]
            opens_ok = (at_quote == 0) | (before == separator) | (before == _LF) | (before == _QUOTE)
            closes_ok = ((at_quote == size - 1) | (after == separator) | (after == _LF) | (after == _CR)
                         | (after == _QUOTE))
            if not np.where(opening, opens_ok, closes_ok).all():
                return None
            # parity of the quotes up to each byte: 0 outside quotes (a quote byte is no event)
            outside = (np.bitwise_xor.accumulate(is_quote.view(np.uint8)) ^ (quotes & 1)) == 0
            is_sep, is_feed, is_return = ((chunk == byte) & outside for byte in (separator, _LF, _CR))
        elif quotes % 2:  # the whole chunk lies inside one quoted field
            continue
        else:
            is_sep, is_feed, is_return = (chunk == byte for byte in (separator, _LF, _CR))
        quotes += len(at_quote)
        returns = np.flatnonzero(is_return) + begin
        if ((returns < size - 1) & (array[np.minimum(returns + 1, size - 1)] != _LF)).any():
            return None
        at_sep = np.flatnonzero(is_sep)
        feeds = np.flatnonzero(is_feed)
        if not len(feeds):
            seps += len(at_sep)
            continue
        before_feed = np.searchsorted(at_sep, feeds)
        counts = np.diff(before_feed, prepend=0)
        counts[0] += seps
        seps = len(at_sep) - int(before_feed[-1])
        feeds += begin
        starts = np.concatenate(([start], feeds[:-1] + 1))
        lengths = feeds - starts
        empty = (lengths == 0) | ((lengths == 1) & (array[np.maximum(feeds - 1, 0)] == _CR))
        widths.append(counts[~empty] + 1)
        start = feeds[-1] + 1
    if quotes % 2:  # a quote left open at the end
        return None
    if start < size and not (size - start == 1 and array[start] == _CR):
        widths.append(np.array([seps + 1]))
    return np.concatenate(widths) if widths else np.zeros(0, dtype=np.int64)


def read_table(path: Path, *, sheet: str | int | None = None, encoding: str | None = None,
               delimiter: str | None = None) -> pd.DataFrame:
    """Read an export as text cells; value labels (``.dta``/``.sav``) are in ``frame.attrs["value_labels"]``."""
    source = read_source(path, sheet=sheet, encoding=encoding, delimiter=delimiter)
    source.frame.attrs["value_labels"] = source.labels
    return source.frame


def _read_stat(path: Path, suffix: str, encoding: str | None) -> tuple[pd.DataFrame, dict]:
    import pyreadstat  # imported here: only Stata/SPSS users pay for it

    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    options = {"encoding": encoding} if encoding else {}
    frame, meta = reader(str(path), **options)
    labels = {column: {cell_text(code): str(label).strip() for code, label in mapping.items()}
              for column, mapping in meta.variable_value_labels.items()}
    return pd.DataFrame({column: column_text(frame[column]) for column in frame.columns}), labels


def column_text(values: pd.Series) -> pd.Series:
    """A typed column as text cells: whole numbers without ``.0``, dates as ISO, missing as NaN."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("Int64").astype("string").astype(object).where(values.notna(), np.nan)
    if pd.api.types.is_float_dtype(values) or pd.api.types.is_integer_dtype(values) or pd.api.types.infer_dtype(
            values, skipna=True) in ("string", "integer", "floating", "mixed-integer-float", "datetime64", "datetime",
                                     "date", "time", "empty"):
        # each distinct value written once (1 and 1.0 hash alike, and cell_text writes both "1"; a Stata
        # file's numbers repeat: Harmonia's 335 columns 0.20 -> 0.10 s); a column of objects of mixed
        # kinds goes cell by cell
        codes, uniques = pd.factorize(values)
        text = np.array([*(cell_text(value) for value in uniques), np.nan], dtype=object)
        return pd.Series(text[codes], index=values.index, dtype=object)
    return values.map(cell_text).astype(object)


def cell_text(value: object) -> object:
    """One cell as text (codes kept verbatim); missing values as NaN."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = pd.Timestamp(value)
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value).strip()


def per_value(values: pd.Series, function: Callable[[pd.Series], _Result]) -> _Result:
    """``function(values)`` for a function that treats each cell on its own, computed once per
    distinct value when ``values`` are text cells that repeat (codes, dates, names of places).

    A survey's answers take a few values over many children, and pandas' text methods cost a Python
    call per cell: a national survey would spend minutes on them. ``function`` returns a Series, a
    DataFrame or a tuple of them indexed like its argument; each is spread back to every row, with
    the dtype ``function`` gave it. Missing cells (NaN, None) go through ``function`` as one of them.
    """
    distinct = _distinct_text(values)
    if distinct is None:
        return function(values)
    unique, positions = distinct
    result = function(unique)

    def spread(part):
        if isinstance(part, pd.Series):
            # the values alone taken: Series.take would check the positions and take its index too,
            # half the time of a national survey's column, for an index replaced at once
            return pd.Series(part.array.take(positions), index=values.index, name=part.name, dtype=part.dtype)
        part = part.take(positions)
        part.index = values.index
        return part

    return tuple(spread(part) for part in result) if isinstance(result, tuple) else spread(result)


def _distinct_text(values: pd.Series) -> tuple[pd.Series, np.ndarray] | None:
    """The distinct cells of a text column (a missing one last) and each row's position among them;
    None unless the column holds only text (``1`` and ``1.0`` are one value to a hash, not to a
    text method) and repeats itself. A categorical column of text has them already."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if not text_dtype(categories.dtype) or pd.api.types.infer_dtype(categories, skipna=True) not in (
                "string", "empty"):
            return None
        codes = values.cat.codes.to_numpy()
        missing = codes < 0
        # a missing cell: the last one, as below (and only when there is one: a function's result
        # for it could change the dtype of all, as a NaN among integers does)
        unique = [*categories, np.nan] if missing.any() else list(categories)
        return pd.Series(unique, dtype=object, name=values.name), np.where(missing, len(categories), codes)
    if not text_dtype(values.dtype) or len(values) < 64 or pd.api.types.infer_dtype(values, skipna=True) not in (
            "string", "empty"):
        return None
    positions, unique = pd.factorize(values, use_na_sentinel=True)
    if len(unique) > len(values) // 2:
        return None
    unique = list(unique)
    missing = positions < 0
    if missing.any():
        positions = np.where(missing, len(unique), positions)
        unique.append(values.iat[int(np.argmax(missing))])
    return pd.Series(unique, dtype=object, name=values.name), positions


def normalise_code(value) -> str:
    """A code or a name as a crosswalk compares them when they do not match as they are (the areas of
    ``[small_area]`` and their boundaries): case folded, accents removed, apostrophes dropped (an elision
    joins two words: "N'Débougou" is one name), every other run of characters that are not letters or
    digits made one ``_``, stripped of ``_``.

    >>> normalise_code("N'Débougou"), normalise_code(" Bougouni-Est "), normalise_code("PELENGANA  nord")
    ('ndebougou', 'bougouni_est', 'pelengana_nord')
    """
    decomposed = unicodedata.normalize("NFKD", str(value).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’‘ʼ`´]", "", plain)
    return re.sub(r"[\W_]+", "_", plain).strip("_")


def key_text(values: pd.Series) -> pd.Series:
    """Identifiers compared as text: stripped, and ``9.0`` read as ``9`` (Stata floats vs CSV text)."""
    return per_value(values, _key_text)


def _key_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.str.replace(r"^(-?\d+)\.0*$", r"\1", regex=True).astype(object).where(text.notna(), np.nan)


# a well-formed multi-byte UTF-8 sequence (2, 3 or 4 bytes)
_UTF8_SEQUENCE = re.compile(rb"[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{2}|[\xF0-\xF4][\x80-\xBF]{3}")


def _position(raw: bytes, offset: int) -> str:
    """``line L, column C`` of a byte offset, as a text editor counts them."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}, column {column}"


# bytes of a UTF-8 file decoded for its delimiter and header: the rest is read by the CSV readers as bytes
_HEAD_BYTES = 1 << 20


def _utf8(path: Path, encoding: str | None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes (without a byte-order mark) and text holding at least its header record.

    A file in UTF-8 without a declared encoding, the usual export, is checked by Arrow's validator and
    only its head decoded: a national export is hundreds of MB, which Python would take seconds to
    decode into a string of twice their size and encode back. Any other file is decoded whole
    (:func:`_decode`) and the text is the whole file.
    """
    raw = path.read_bytes()
    if encoding is None and raw.find(b"\x00") < 0 and _valid_utf8(raw):
        data = raw.removeprefix(codecs.BOM_UTF8)
        del raw
        if len(data) <= _HEAD_BYTES:
            return data, data.decode("utf-8")
        head = codecs.getincrementaldecoder("utf-8")().decode(data[:_HEAD_BYTES])  # a character cut at the end: left out
        head = head[:head.rfind("\n") + 1]
        if sum(1 for record in csv.reader(_lines(head), delimiter=_sniff_delimiter(head)) if record) >= 2:
            return data, head  # the header record is whole: another record follows it
    text = _decode(path, encoding, raw)
    del raw
    data = text.encode("utf-8")
    return data, text


def _valid_utf8(raw: bytes) -> bool:
    """Whether ``raw`` is UTF-8, by Arrow's validator (at gigabytes a second)."""
    import pyarrow as pa

    text = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(np.array([0, len(raw)], dtype=np.int64)),
                                                        pa.py_buffer(raw)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _decode(path: Path, encoding: str | None, raw: bytes | None = None) -> str:
    """The file's text. Without a declared encoding: UTF-8; a file with no UTF-8 sequence at all is
    read as Windows-1252 (Excel's "CSV" on a French Windows); a UTF-8 file with a byte that is not
    UTF-8 is refused, since reading it as Windows-1252 would garble every accent without a word."""
    raw = path.read_bytes() if raw is None else raw
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path}: {_position(raw, nul)}: a NUL byte; this is not a text export (export it again "
                         "as CSV or XLSX)")
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError:
            raise InputError(f"{path}: unknown encoding '{encoding}'") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: {_position(raw, exc.start)}: byte 0x{raw[exc.start]:02X} is not {encoding}; "
                             "declare the file's encoding in survey.toml ([data] encoding)") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(raw):
            raise InputError(f"{path}: {_position(raw, exc.start)}: byte 0x{raw[exc.start]:02X} is not UTF-8, "
                             "while the rest of the file is; correct that cell in the export (or, if the whole "
                             "file is in another encoding, declare it: [data] encoding in survey.toml)") from None
    return raw.decode("cp1252", errors="strict") if _cp1252_decodes(raw) else raw.decode("latin-1")


def _cp1252_decodes(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:  # 5 byte values are undefined in cp1252; Latin-1 maps every byte
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# --------------------------------------------------------------------------- dates


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO, day/month/year and Excel-serial dates; return (dates, unparseable-but-filled mask)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, pd.Series(False, index=values.index)
    return per_value(values, _parse_dates)


def _parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.astype("string").str.strip()
    # in nanoseconds whatever the pandas version (pandas 3 infers seconds from the text, and an Excel
    # serial's fraction of a day could not be put into seconds without loss)
    parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")
    todo = parsed.isna() & text.notna()
    if todo.any():
        parsed[todo] = pd.to_datetime(text[todo], format="%d/%m/%Y", errors="coerce").astype("datetime64[ns]")
    todo = parsed.isna() & text.notna()
    if todo.any():
        serial = pd.to_numeric(text[todo], errors="coerce")
        plausible = serial.between(1, 80000)
        parsed[todo] = (EXCEL_EPOCH + pd.to_timedelta(serial.where(plausible), unit="D")).astype("datetime64[ns]")
    return parsed, parsed.isna() & text.notna()


@dataclass(frozen=True)
class PartDates:
    """A date assembled from day/month/year columns (VCQI ``_d``/``_m``/``_y``)."""

    dates: pd.Series      # datetime64; NaT unless all three parts make a real calendar date
    text: pd.Series       # "YYYY-MM-DD", "?" for a missing part; NaN when no part is filled
    partial: pd.Series    # some but not all parts filled
    impossible: pd.Series  # all parts filled but no such date (31 Feb, month 13, 99 = don't know)


def dates_from_parts(day: pd.Series, month: pd.Series, year: pd.Series) -> PartDates:
    """Assemble dates from part columns; partial and impossible dates are flagged, not guessed."""
    raw = {"year": year, "month": month, "day": day}
    numbers = {name: pd.to_numeric(values, errors="coerce").to_numpy(float) for name, values in raw.items()}
    filled = {name: values.notna().to_numpy() for name, values in raw.items()}
    count = sum(filled.values())
    y, m, d = numbers["year"], numbers["month"], numbers["day"]
    with np.errstate(invalid="ignore"):
        in_range = ((y >= 1000) & (y <= 9999) & (y == np.round(y)) & (m >= 1) & (m <= 12) & (m == np.round(m))
                    & (d >= 1) & (d <= 31) & (d == np.round(d)))
    # the day counted from the month's first: a day the month does not have (31 February) runs into
    # the next month and is no date; so is one outside the span pandas' dates hold
    months = np.where(in_range, (y - 1970) * 12 + m - 1, 0).astype(np.int64)
    days = months.astype("datetime64[M]").astype("datetime64[D]") + np.where(in_range, d - 1, 0).astype(np.int64)
    real = (in_range & (days.astype("datetime64[M]").astype(np.int64) == months)
            & (days >= np.datetime64(pd.Timestamp.min.ceil("D").date())) & (days <= np.datetime64(pd.Timestamp.max.date())))
    dates = pd.Series(np.where(real, days, np.datetime64("NaT")).astype("datetime64[ns]"), index=day.index)

    def show(name: str, width: int) -> np.ndarray:
        # each distinct number written once (a survey's days of the month are 31); a part that is no
        # whole number as it was written, "?" when missing
        codes, uniques = pd.factorize(numbers[name])
        shown = np.array([*(f"{int(v):0{width}d}" if float(v).is_integer() else None for v in uniques), "?"],
                         dtype=object)
        text = shown[codes]
        written = np.equal(text, None) | ((codes < 0) & filled[name])  # not a whole number, or no number
        if written.any():
            text[written] = raw[name][written].astype("string").str.strip().astype(object).to_numpy()
        return text

    text = pd.Series(show("year", 4) + "-" + show("month", 2) + "-" + show("day", 2), index=day.index, dtype=object)
    text = text.where(count > 0, np.nan)
    partial = pd.Series((count > 0) & (count < 3), index=day.index)
    return PartDates(dates, text, partial, pd.Series(count == 3, index=day.index) & dates.isna())

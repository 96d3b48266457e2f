"""DHIS2 extracts read into one long table of administrative data (issue 19, item 1).

A ministry's DHIS2 gives its aggregate data in four shapes: an analytics response (``/api/analytics``,
JSON or CSV), a dataValueSets export (``/api/dataValueSets``, CSV or JSON) and an ADX message (XML).
:func:`read_dhis2` tells them apart from the file's suffix and content and reads each into the same
table, one row per value, :data:`COLUMNS` in this order:

``source_row``
    the row as the user sees it: the CSV line (the header is line 1), the analytics JSON row or the
    dataValueSets JSON dataValue (1-based), the ADX dataValue in document order (1-based)
``data_element``, ``data_element_name``
    the data element (or indicator, or data set for a reporting metric) as the file names it (uid,
    code or name), and its name when the file gives one (analytics ``metaData``, a name column)
``category_option_combo``, ``attribute_option_combo``
    as the file gives them, or None; ADX categories become ``"AGE=LT12M;SEX=F"`` (attribute names
    in alphabetical order)
``period``
    the DHIS2 period id (``202403``, ``2024Q1``, ``2024W5``, ``2024``), whatever the file wrote: ADX
    durations (``2024-03-01/P1M``) and period names (``March 2024``, ``janvier - mars 2024``) are
    converted, and a week is written as DHIS2 writes it (``2024W5``, not ``2024W05``)
``org_unit``, ``org_unit_name``
    the organisation unit as the file names it, and its name when the file gives one
``metric``
    None for a data value; ``REPORTING_RATE``, ``REPORTING_RATE_ON_TIME``, ``ACTUAL_REPORTS``,
    ``ACTUAL_REPORTS_ON_TIME`` or ``EXPECTED_REPORTS`` when the analytics ``dx`` is
    ``<dataSet>.<METRIC>`` (``data_element`` is then the data set)
``value``
    a float; an empty value is kept as NaN, a value that is not a number is an error

:func:`period_bounds` gives a period's first and last day; :func:`roll_up` sums months into quarters
or years. The shapes follow the DHIS2 developer documentation (``tests/fixtures/dhis2/README.md``
names the sections).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from lqas.errors import InputError

COLUMNS = ("source_row", "data_element", "data_element_name", "category_option_combo", "attribute_option_combo",
           "period", "org_unit", "org_unit_name", "metric", "value")
TEXT_COLUMNS = COLUMNS[1:-1]
RATE_METRICS = ("REPORTING_RATE", "REPORTING_RATE_ON_TIME")
COUNT_METRICS = ("ACTUAL_REPORTS", "ACTUAL_REPORTS_ON_TIME", "EXPECTED_REPORTS")
METRICS = RATE_METRICS + COUNT_METRICS
# a rate is 100 × its numerator count / its denominator count, as DHIS2 computes it
RATE_COUNTS = {"REPORTING_RATE": ("ACTUAL_REPORTS", "EXPECTED_REPORTS"),
               "REPORTING_RATE_ON_TIME": ("ACTUAL_REPORTS_ON_TIME", "EXPECTED_REPORTS")}
ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
UNKNOWN_SHAPE = "not a DHIS2 extract this reader knows (analytics JSON/CSV, dataValueSets CSV/JSON, ADX XML)"
PERIOD_EXAMPLES = "such as 202403, 2024Q1, 2024W5 or 2024"

_UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")

# The headers that hold each field, normalised (lower case, '_' and '-' read as spaces): the analytics
# grid's names (dx) and display columns (Data, as DHIS2 writes its CSV), the dataValueSets CSV header
# DHIS2 writes (dataelement) and the older spellings its documentation shows (catoptcombo).
_HEADERS = {
    "data_element": ("dx", "data", "data element", "dataelement", "data item"),
    "data_element_name": ("dxname", "data name", "data element name", "dataelementname"),
    "category_option_combo": ("co", "coc", "category option combo", "categoryoptioncombo", "catoptcombo",
                              "category"),
    "attribute_option_combo": ("ao", "aoc", "attribute option combo", "attributeoptioncombo", "attroptcombo"),
    "period": ("pe", "period"),
    "org_unit": ("ou", "organisation unit", "organization unit", "org unit", "orgunit"),
    "org_unit_name": ("ouname", "organisation unit name", "organization unit name", "org unit name",
                      "orgunitname"),
    "value": ("value",),
    "deleted": ("deleted",),
}
_FIELD_OF_HEADER = {header: field for field, headers in _HEADERS.items() for header in headers}
# spellings only a dataValueSets CSV uses: a header with one of them is that shape, not an analytics grid
_DATA_VALUE_SET_HEADERS = {"dataelement", "orgunit", "categoryoptioncombo", "catoptcombo", "attributeoptioncombo",
                           "attroptcombo", "storedby", "strby", "lastupdated", "lstupd", "followup", "flwup"}
# DHIS2's dataValueSets CSV columns by position, for a file that lost its header line
_POSITIONS = ("data_element", "period", "org_unit", "category_option_combo", "attribute_option_combo", "value",
              "storedby", "lastupdated", "comment", "followup", "deleted")
_POSITION_HEADERS = ("dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo", "value",
                     "storedby", "lastupdated", "comment", "followup", "deleted")
_REQUIRED = {"data_element": "'dx', 'Data' or 'dataelement'", "period": "'pe' or 'Period'",
             "org_unit": "'ou', 'Organisation unit' or 'orgunit'", "value": "'value'"}
_WHAT = {"data_element": "data element", "data_element_name": "data element name",
         "category_option_combo": "category option combo", "attribute_option_combo": "attribute option combo",
         "period": "period", "org_unit": "organisation unit", "org_unit_name": "organisation unit name",
         "value": "value", "deleted": "deleted flag"}
_DATA_VALUE_KEYS = {"data_element": "dataElement", "period": "period", "org_unit": "orgUnit",
                    "category_option_combo": "categoryOptionCombo", "attribute_option_combo": "attributeOptionCombo",
                    "value": "value", "deleted": "deleted"}
# ADX attributes that are not categories (on a group: the dxf2 ones DHIS2 passes through)
_ADX_GROUP_ATTRIBUTES = {"orgUnit", "period", "dataSet", "completeDate", "attributeOptionCombo"}
_ADX_VALUE_ATTRIBUTES = {"dataElement", "value", "categoryOptionCombo"}


class _Locator:
    """How a message names one value of the file: ``<file>: line 7, column 'value'``."""

    def __init__(self, path: Path, unit: str, field_word: str, labels: Mapping[str, str]):
        self.path, self.unit, self.field_word, self.labels = path, unit, field_word, labels

    def __call__(self, row: int, field: str) -> str:
        return f"{self.path}: {self.unit} {row}, {self.field_word} '{self.labels.get(field, field)}'"


def read_dhis2(path: str | Path) -> pd.DataFrame:
    """The values of a DHIS2 extract as the long table of this module (:data:`COLUMNS`).

    The shape is told from the suffix and the content: ``.json`` is an analytics response (it has
    ``headers``) or a dataValueSets export (``dataValues``); ``.csv`` is an analytics grid (``dx,pe,ou,
    value`` or ``Data,Period,Organisation unit,Value``, any case, spaces around ignored) or a
    dataValueSets export (DHIS2's 6- to 11-column header, or its columns in DHIS2's order without a
    header); ``.xml``/``.adx`` is an ADX message. Another suffix is read by its content (a CSV only
    with a header). Files are UTF-8 (a byte-order mark is accepted).

    Where the file gives names (analytics ``metaData`` ``items`` or the older ``names``, or a name
    column), they fill ``data_element_name`` and ``org_unit_name``; an analytics CSV whose data or
    organisation unit column holds something other than DHIS2 uids (names, as DHIS2 writes them with
    ``outputIdScheme=NAME``, or codes) gives that text as the name too. A dimension the analytics JSON
    puts among its filters (no ``pe`` column) is taken from ``metaData`` when it holds one item.
    A data element operand ``<dataElement>.<categoryOptionCombo>[.<attributeOptionCombo>]`` in ``dx``
    (uids) is split into its columns. A dataValueSets value DHIS2 marks ``deleted`` is left out, as
    DHIS2's own analytics leave it out.

    Raises
    ------
    InputError
        One line naming the file, the row as the user sees it and the field: a value that is not a
        number, a period that is not a DHIS2 period, an empty data element, period or organisation
        unit, a missing column; or the file is not one of the shapes (analytics JSON/CSV, dataValueSets
        CSV/JSON, ADX XML), not UTF-8, not well-formed, or DHIS2's error answer instead of data.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    content = path.read_bytes()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start + 1}); export it again from DHIS2 or "
                         "save it as UTF-8") from None
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    opening = text.lstrip()[:1]
    if suffix == ".json" or (suffix not in {".csv", ".xml", ".adx"} and opening in ("{", "[")):
        return _read_json(path, text)
    if suffix in {".xml", ".adx"} or (suffix != ".csv" and opening == "<"):
        return _read_adx(path, text)
    return _read_csv(path, text, header_required=suffix != ".csv")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of a DHIS2 period.

    Days (``20240315``), ISO weeks (``2024W5``, ``2024W05``), bi-weeks (``2024BiW3``: ISO weeks 5–6),
    months (``202403``), bi-months (``202402B``: March–April), quarters (``2024Q2``), six-months
    (``2024S1``, ``2024AprilS2``: October–March), years (``2024``) and financial years (``2024April``,
    ``2024July``, ``2024Oct``: from that month to the month before it a year later).

    >>> period_bounds("2024Q2")
    (datetime.date(2024, 4, 1), datetime.date(2024, 6, 30))
    >>> period_bounds("2020W53")
    (datetime.date(2020, 12, 28), datetime.date(2021, 1, 3))

    Raises
    ------
    ValueError
        Not a DHIS2 period id, a period that does not exist (``202413``, ``2021W53``), or a period type
        whose calendar this module does not implement (weeks starting on Wednesday, Thursday, Saturday
        or Sunday, November six-months and financial years).
    """
    form = _period_form(period)
    if form is None:
        raise ValueError(f"{period!r} is not a DHIS2 period id ({PERIOD_EXAMPLES})")
    kind, numbers = form
    if kind in _UNSUPPORTED:
        raise ValueError(f"{period!r}: {kind.replace('_', ' ')} periods are not supported by period_bounds")
    year = numbers[0]
    try:
        if kind == "day":
            start = end = dt.date(*numbers)
        elif kind in ("week", "biweek"):
            weeks = 1 if kind == "week" else 2
            first_week = (numbers[1] - 1) * weeks + 1
            start = dt.date.fromisocalendar(year, first_week, 1)
            end = start + dt.timedelta(days=7 * weeks - 1)
        elif kind == "month":
            start, end = _months(year, _within(numbers[1], 12, "month"), 1)
        elif kind == "bimonth":
            start, end = _months(year, 2 * _within(numbers[1], 6, "bi-month") - 1, 2)
        elif kind == "quarter":
            start, end = _months(year, 3 * _within(numbers[1], 4, "quarter") - 2, 3)
        elif kind == "sixmonth":
            start, end = _months(year, 6 * _within(numbers[1], 2, "six-month") - 5, 6)
        elif kind == "sixmonth_april":
            start, end = _months(year, 6 * _within(numbers[1], 2, "six-month") - 2, 6)
        elif kind == "year":
            start, end = _months(year, 1, 12)
        else:
            start, end = _months(year, _FINANCIAL_START[kind], 12)
    except ValueError as error:
        raise ValueError(f"{period!r} is not a period that exists ({error})") from None
    return start, end


def roll_up(frame: pd.DataFrame, to: Literal["quarter", "year"]) -> pd.DataFrame:
    """The long table (:func:`read_dhis2`) with its finer periods summed into quarters or years.

    For ``to="quarter"`` the daily and monthly rows are summed into their quarter; for ``to="year"``
    the daily, monthly, bi-monthly, quarterly and six-monthly rows into their calendar year. Rows are
    summed within every other key column (data element, category and attribute option combos,
    organisation unit, the names, the metric): a quarter's value is the sum of whatever months the
    table holds — a missing month is not noticed — and NaN only when every one of them is NaN. Rows
    of other periods (weeks, financial years, a period already at ``to``) are kept as they are.
    ``source_row`` of a sum is the first of the rows summed.

    Reporting metrics: ``ACTUAL_REPORTS``, ``ACTUAL_REPORTS_ON_TIME`` and ``EXPECTED_REPORTS`` are
    counts and are summed. A rate is not summable: each ``REPORTING_RATE`` (``_ON_TIME``) of the
    rolled periods is replaced by 100 × the summed actual (on-time) reports / the summed expected
    reports of its data set, organisation unit and period, when the table holds both counts (NaN
    when no report was expected); without both counts the rate is left out of the result.
    """
    if to not in ("quarter", "year"):
        raise ValueError(f"roll_up: to must be 'quarter' or 'year', not {to!r}")
    coarser = frame["period"].map({period: _coarser(period, to) for period in frame["period"].unique()})
    rolled = coarser.notna()
    rates = frame["metric"].isin(RATE_METRICS)
    kept = frame[~rolled]
    summed = _sum_rows(frame[rolled & ~rates].assign(period=coarser[rolled & ~rates]))
    recomputed = _rates_of(summed, wanted=frame.loc[rolled & rates, ["data_element", "data_element_name", "metric"]])
    out = pd.concat([kept, summed, recomputed], ignore_index=True)
    out = out.sort_values("source_row", kind="stable", ignore_index=True)
    return _typed(out)


# ---------------------------------------------------------------------------------------------- shapes


def _read_json(path: Path, text: str) -> pd.DataFrame:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    if isinstance(document, dict):
        if "headers" in document:
            return _analytics_json(path, document)
        if "dataValues" in document:
            return _data_value_set_json(path, document)
        if document.get("status") == "ERROR" or "httpStatusCode" in document:
            answer = document.get("message") or document.get("httpStatus") or "no message"
            raise InputError(f"{path}: DHIS2 answered with an error, not data: {_one_line(str(answer))}")
        if {"rows", "metaData", "height", "width"} & document.keys() or "analytics" in path.name.lower():
            raise InputError(f"{path}: not a DHIS2 analytics response (no 'headers')")
    raise InputError(f"{path}: {UNKNOWN_SHAPE}")


def _analytics_json(path: Path, document: dict) -> pd.DataFrame:
    headers = document["headers"]
    if not isinstance(headers, list) or not all(isinstance(header, dict) for header in headers):
        raise InputError(f"{path}: not a DHIS2 analytics response ('headers' is not a list of columns)")
    labels = [str(header.get("name") or header.get("column") or "") for header in headers]
    # a header is known by its name (dx) or, failing that, its display column (Data)
    fields = _fields_of_header(path, labels, [[header.get("name"), header.get("column")] for header in headers])
    rows = document.get("rows") or []
    if not isinstance(rows, list):
        raise InputError(f"{path}: not a DHIS2 analytics response ('rows' is not a list)")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(headers):
            cells = len(row) if isinstance(row, list) else "no list of"
            raise InputError(f"{path}: row {number}: {cells} cells where 'headers' describes {len(headers)}")
    grid = pd.DataFrame(rows, columns=range(len(headers)), dtype=object)
    meta = document.get("metaData") if isinstance(document.get("metaData"), dict) else {}
    cells = pd.DataFrame({field: grid[position] for field, position in fields.items()}, index=grid.index)
    for field, dimension in (("data_element", "dx"), ("period", "pe"), ("org_unit", "ou")):
        if field in cells:
            continue
        items = _filter_items(meta, dimension)
        if len(items) != 1:
            held = f"{len(items)} items" if items else "none"
            raise InputError(f"{path}: no '{dimension}' column in 'headers', and the response's metaData holds "
                             f"{held} for the {_WHAT[field]} (one is needed when it is a filter)")
        cells[field] = str(items[0])
    if "value" not in cells:
        raise InputError(f"{path}: no 'value' column in 'headers' ({', '.join(map(repr, labels))})")
    cells.insert(0, "source_row", np.arange(1, len(cells) + 1))
    cells = _split_data_items(cells)
    names = _metadata_names(meta)
    if names:
        for field, of in (("data_element_name", "data_element"), ("org_unit_name", "org_unit")):
            known = cells[field] if field in cells else pd.Series(None, index=cells.index, dtype=object)
            cells[field] = known.where(known.notna(), _named(cells, of, names))
    labels_of = {field: labels[position] for field, position in fields.items()}
    return _long_table(cells, _Locator(path, "row", "column", labels_of), "analytics JSON")


def _data_value_set_json(path: Path, document: dict) -> pd.DataFrame:
    values = document["dataValues"]
    if not isinstance(values, list):
        raise InputError(f"{path}: not a DHIS2 dataValueSets export ('dataValues' is not a list)")
    for number, item in enumerate(values, start=1):
        if not isinstance(item, dict):
            raise InputError(f"{path}: dataValue {number}: not an object with dataElement, period, orgUnit, value")
    records = pd.DataFrame.from_records(values) if values else pd.DataFrame()
    cells = pd.DataFrame(index=records.index)
    for field, key in _DATA_VALUE_KEYS.items():
        column = records[key] if key in records else pd.Series(None, index=records.index, dtype=object)
        # the set's own period, orgUnit and attributeOptionCombo stand for values that leave them out
        if key in ("period", "orgUnit", "attributeOptionCombo") and document.get(key) is not None:
            column = column.where(column.notna(), document[key])
        cells[field] = column
    cells.insert(0, "source_row", np.arange(1, len(cells) + 1))
    return _long_table(_without_deleted(cells), _Locator(path, "dataValue", "field", _DATA_VALUE_KEYS),
                       "dataValueSets JSON")


def _read_csv(path: Path, text: str, *, header_required: bool) -> pd.DataFrame:
    cells, lines = _csv_records(path, text)
    first = [_normal(cell) for cell in cells.iloc[0]]
    if sum(cell in _FIELD_OF_HEADER for cell in first) >= 2:
        header = [str(cell).strip() for cell in cells.iloc[0]]
        fields = _fields_of_header(path, header, [[cell] for cell in first])
        body, lines = cells.iloc[1:], lines[1:]
        data_value_set = first[0] == "dataelement" or bool(_DATA_VALUE_SET_HEADERS & set(first))
        labels = {field: header[position] for field, position in fields.items()}
    elif not header_required and 6 <= cells.shape[1] <= len(_POSITIONS):
        fields = {field: position for position, field in enumerate(_POSITIONS[:cells.shape[1]])}
        body, data_value_set = cells, True
        header = list(_POSITION_HEADERS[:cells.shape[1]])
        labels = dict(zip(_POSITIONS, _POSITION_HEADERS))
    else:
        raise InputError(f"{path}: {UNKNOWN_SHAPE}")
    for field, examples in _REQUIRED.items():
        if field not in fields:
            raise InputError(f"{path}: no {_WHAT[field]} column ({examples}); the header names "
                             f"{', '.join(map(repr, header))}")
    filled = body.ne("").any(axis=1).to_numpy()
    body, lines = body[filled], lines[filled]
    table = pd.DataFrame({field: body[position] for field, position in fields.items()})
    table.insert(0, "source_row", lines)
    table = table.reset_index(drop=True)
    if not data_value_set:
        table = _split_data_items(table)
        # a column of names (or codes) is the only label the file gives: it is the name as well
        for field, of in (("data_element_name", "data_element"), ("org_unit_name", "org_unit")):
            if field not in fields and not _all_uids(table[of]):
                table[field] = table[of]
    shape = "dataValueSets CSV" if data_value_set else "analytics CSV"
    return _long_table(_without_deleted(table), _Locator(path, "line", "column", labels), shape)


def _read_adx(path: Path, text: str) -> pd.DataFrame:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        line, column = error.position
        raise InputError(f"{path}: not well-formed XML (line {line}, column {column + 1})") from None
    if _local(root.tag) != "adx":
        raise InputError(f"{path}: {UNKNOWN_SHAPE}")
    records, number = [], 0
    for group_number, group in enumerate((child for child in root if _local(child.tag) == "group"), start=1):
        attributes = _plain_attributes(group)
        where = f"{path}: group {group_number}, attribute"
        for required in ("orgUnit", "period"):
            if not attributes.get(required, "").strip():
                raise InputError(f"{where} '{required}': missing")
        try:
            period = _adx_period(attributes["period"])
        except ValueError as error:
            raise InputError(f"{where} 'period': {error}") from None
        attribute_combo = attributes.get("attributeOptionCombo") or _categories(attributes, _ADX_GROUP_ATTRIBUTES)
        for value in (child for child in group if _local(child.tag) == "dataValue"):
            number += 1
            cells = _plain_attributes(value)
            for required in ("dataElement", "value"):
                if required not in cells:
                    raise InputError(f"{path}: dataValue {number}, attribute '{required}': missing")
            records.append((number, cells["dataElement"],
                            cells.get("categoryOptionCombo") or _categories(cells, _ADX_VALUE_ATTRIBUTES),
                            attribute_combo, period, attributes["orgUnit"], cells["value"]))
    table = pd.DataFrame.from_records(records, columns=["source_row", "data_element", "category_option_combo",
                                                        "attribute_option_combo", "period", "org_unit", "value"])
    labels = {"data_element": "dataElement", "value": "value", "period": "period", "org_unit": "orgUnit"}
    return _long_table(table, _Locator(path, "dataValue", "attribute", labels), "ADX XML")


# ------------------------------------------------------------------------------------------ the table


def _long_table(cells: pd.DataFrame, locate: _Locator, shape: str) -> pd.DataFrame:
    """``cells`` (``source_row`` and any of the text fields and ``value``) checked and typed as the
    long table; ``shape`` is kept in ``attrs["dhis2_shape"]`` for messages about the file."""
    rows = cells["source_row"].to_numpy(dtype="int64")
    table = {"source_row": rows}
    for field in TEXT_COLUMNS:
        table[field] = _text(cells[field]) if field in cells else pd.Series(None, index=cells.index, dtype=object)
    for field in ("data_element", "period", "org_unit"):
        empty = table[field].isna().to_numpy()
        if empty.any():
            raise InputError(f"{locate(rows[empty.argmax()], field)}: empty")
    table["period"] = _period_ids(table["period"], rows, locate)
    table["value"] = _numbers(cells["value"], rows, locate)
    out = _typed(pd.DataFrame(table, index=cells.index).reset_index(drop=True))
    out.attrs["dhis2_shape"] = shape
    return out


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of :data:`COLUMNS` in order: ``source_row`` int64, text as str or None, ``value`` float."""
    out = pd.DataFrame({"source_row": frame["source_row"].to_numpy(dtype="int64")}, index=frame.index)
    for field in TEXT_COLUMNS:
        column = frame[field].astype(object)
        out[field] = column.where(column.notna(), None)
    out["value"] = frame["value"].to_numpy(dtype="float64")
    return out


def _text(values: pd.Series) -> pd.Series:
    """Each cell as stripped text; None where the file leaves it empty."""
    text = values.astype("string").str.strip()
    empty = (text.isna() | text.eq("")).to_numpy(dtype=bool)
    out = text.astype(object)
    out[empty] = None
    return out


def _numbers(values: pd.Series, rows: np.ndarray, locate: _Locator) -> np.ndarray:
    text = _text(values)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    # "nan" and "inf" parse, but are no count a health facility reports
    bad = text.notna().to_numpy() & ~np.isfinite(numbers)
    if bad.any():
        first = bad.argmax()
        raise InputError(f"{locate(rows[first], 'value')}: {text.iloc[first]!r} is not a number")
    return numbers


def _period_ids(periods: pd.Series, rows: np.ndarray, locate: _Locator) -> pd.Series:
    ids = {}
    for period in periods.unique():
        ids[period] = _period_id(period)
        if ids[period] is None:
            first = periods.eq(period).to_numpy().argmax()
            raise InputError(f"{locate(rows[first], 'period')}: {period!r} is not a DHIS2 period ({PERIOD_EXAMPLES})")
    return periods.map(ids)


def _without_deleted(cells: pd.DataFrame) -> pd.DataFrame:
    if "deleted" not in cells:
        return cells
    deleted = cells["deleted"].astype("string").str.strip().str.lower().eq("true").fillna(False).to_numpy(dtype=bool)
    return cells[~deleted].drop(columns="deleted").reset_index(drop=True)


# -------------------------------------------------------------------------------------------- headers


def _normal(header: object) -> str:
    return " ".join(str(header).strip().lower().replace("_", " ").replace("-", " ").split())


def _fields_of_header(path: Path, labels: list[str], spellings: list[list[object]]) -> dict[str, int]:
    """The position of each field among the columns; ``spellings``: each column's names to try, in order."""
    fields: dict[str, int] = {}
    for position, names in enumerate(spellings):
        field = next((_FIELD_OF_HEADER[_normal(name)] for name in names
                      if name is not None and _normal(name) in _FIELD_OF_HEADER), None)
        if field is None:
            continue
        if field in fields:
            raise InputError(f"{path}: columns '{labels[fields[field]]}' and '{labels[position]}' both hold the "
                             f"{_WHAT[field]}")
        fields[field] = position
    return fields


def _csv_records(path: Path, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The CSV's records as text cells (the header too) and the line each starts on."""
    first_line = text.split("\n", 1)[0]
    # a spreadsheet saved in a French locale writes ';' between cells
    separator = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        cells = pd.read_csv(io.StringIO(text), sep=separator, header=None, dtype=str, na_filter=False,
                            skip_blank_lines=False)
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            raise InputError(f"{path}: line {found[2]}: {found[3]} cells where the first line has {found[1]}") from None
        raise InputError(f"{path}: not a readable CSV file ({_one_line(str(error))})") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    cells = cells.fillna("")
    # a quoted cell can hold line breaks (a comment): the records after it start further down
    breaks = cells.apply(lambda column: column.str.count("\n")).sum(axis=1).to_numpy()
    lines = 1 + np.arange(len(cells)) + np.concatenate([[0], np.cumsum(breaks)[:-1]]).astype("int64")
    return cells, lines


def _all_uids(values: pd.Series) -> bool:
    text = values.dropna().astype(str).str.strip()
    return bool(text.str.fullmatch(_UID.pattern).all())


# ------------------------------------------------------------------------------------------ analytics


def _split_data_items(cells: pd.DataFrame) -> pd.DataFrame:
    """The analytics ``dx`` read as what it names: a data set's reporting metric (``<dataSet>.<METRIC>``),
    a data element operand (``<dataElement>.<categoryOptionCombo>[.<attributeOptionCombo>]``, uids) or
    a data element or indicator."""
    items = _text(cells["data_element"])
    parts = {item: _data_item(item) for item in items.dropna().unique()}
    split = pd.DataFrame([parts.get(item, (None, None, None, None)) for item in items], index=cells.index,
                         columns=["data_element", "category_option_combo", "attribute_option_combo", "metric"])
    out = cells.assign(data_item=items, data_element=split["data_element"], metric=split["metric"])
    for field in ("category_option_combo", "attribute_option_combo"):
        own = _text(cells[field]) if field in cells else pd.Series(None, index=cells.index, dtype=object)
        out[field] = own.where(own.notna(), split[field])
    return out


def _data_item(item: str) -> tuple[str, str | None, str | None, str | None]:
    head, _, tail = item.partition(".")
    if tail in METRICS:
        return head, None, None, tail
    pieces = item.split(".")
    if 2 <= len(pieces) <= 3 and all(_UID.fullmatch(piece) for piece in pieces):
        return pieces[0], pieces[1], pieces[2] if len(pieces) == 3 else None, None
    return item, None, None, None


def _metadata_names(meta: dict) -> dict[str, str]:
    """Uid → name from an analytics ``metaData``: ``items`` ({uid: {name}}) or the older ``names``."""
    names = {}
    old = meta.get("names")
    if isinstance(old, dict):
        names.update({str(key): name for key, name in old.items() if isinstance(name, str)})
    items = meta.get("items")
    if isinstance(items, dict):
        names.update({str(key): item["name"] for key, item in items.items()
                      if isinstance(item, dict) and isinstance(item.get("name"), str)})
    return names


def _named(cells: pd.DataFrame, field: str, names: dict[str, str]) -> pd.Series:
    """The name of each row's data element (or organisation unit); for an operand or a metric, the name
    of the data element or data set, else of the whole ``dx`` item."""
    own = _text(cells[field]).map(names)
    if field == "data_element":
        own = own.where(own.notna(), cells["data_item"].map(names))
    return own.astype(object).where(own.notna(), None)


def _filter_items(meta: dict, dimension: str) -> list:
    dimensions = meta.get("dimensions")
    if isinstance(dimensions, dict) and isinstance(dimensions.get(dimension), list):
        return dimensions[dimension]
    # older responses list the items of each dimension straight under metaData
    return meta[dimension] if isinstance(meta.get(dimension), list) else []


# ------------------------------------------------------------------------------------------------ ADX


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2]


def _plain_attributes(element: ElementTree.Element) -> dict[str, str]:
    """The element's own attributes (those in another namespace, as xsi:schemaLocation, are not ADX's)."""
    return {name: value for name, value in element.attrib.items() if not name.startswith("{")}


def _categories(attributes: dict[str, str], reserved: set[str]) -> str | None:
    """ADX's categories written out: ``AGE=LT12M;SEX=F``, in the order of the category names."""
    pairs = [f"{name}={value}" for name, value in sorted(attributes.items()) if name not in reserved]
    return ";".join(pairs) or None


_ADX_PERIOD = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:T[^/]*)?/(P\d+[DWMY])\s*")
# ADX six-months and years by their first month: the DHIS2 period id after the year
_ADX_SIX_MONTHS = {1: "S1", 7: "S2", 4: "AprilS1", 10: "AprilS2"}
_ADX_YEARS = {1: "", 4: "April", 7: "July", 10: "Oct"}


def _adx_period(text: str) -> str:
    """The DHIS2 period id of an ADX period (``2024-04-01/P3M`` → ``2024Q2``), as DHIS2's table of ADX
    periods pairs them."""
    found = _ADX_PERIOD.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not an ADX period (a start date and a duration, such as 2024-01-01/P1M)")
    try:
        start = dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError as error:
        raise ValueError(f"{text!r} does not start on a date that exists ({error})") from None
    duration, year, month, day = found[4], start.year, start.month, start.day
    iso_year, iso_week, weekday = start.isocalendar()
    if duration == "P1D":
        return f"{start:%Y%m%d}"
    if duration in ("P7D", "P1W") and weekday == 1:
        return f"{iso_year}W{iso_week}"
    if duration in ("P14D", "P2W") and weekday == 1 and iso_week % 2 == 1:
        return f"{iso_year}BiW{(iso_week + 1) // 2}"
    if day == 1:
        if duration == "P1M":
            return f"{year}{month:02d}"
        if duration == "P2M" and month % 2 == 1:
            return f"{year}{(month + 1) // 2:02d}B"
        if duration == "P3M" and month in (1, 4, 7, 10):
            return f"{year}Q{(month + 2) // 3}"
        if duration == "P6M" and month in _ADX_SIX_MONTHS:
            return f"{year}{_ADX_SIX_MONTHS[month]}"
        if duration == "P1Y" and month in _ADX_YEARS:
            return f"{year}{_ADX_YEARS[month]}"
    raise ValueError(f"{text!r} has no DHIS2 period this reader knows (days, ISO weeks and bi-weeks starting on a "
                     "Monday, months, bi-months, quarters, six-months, years and April, July and October "
                     "financial years)")


# ---------------------------------------------------------------------------------------------- periods

_PERIOD_FORMS = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("day", r"(\d{4})(\d{2})(\d{2})"),
    ("month", r"(\d{4})(\d{2})"),
    ("bimonth", r"(\d{4})(\d{2})B"),
    ("quarter", r"(\d{4})Q(\d)"),
    ("sixmonth", r"(\d{4})S(\d)"),
    ("sixmonth_april", r"(\d{4})AprilS(\d)"),
    ("sixmonth_november", r"(\d{4})NovS(\d)"),
    ("year", r"(\d{4})"),
    ("financial_april", r"(\d{4})April"),
    ("financial_july", r"(\d{4})July"),
    ("financial_october", r"(\d{4})Oct"),
    ("financial_november", r"(\d{4})Nov"),
    ("week", r"(\d{4})W(\d{1,2})"),
    ("biweek", r"(\d{4})BiW(\d{1,2})"),
    ("week_wednesday", r"(\d{4})WedW(\d{1,2})"),
    ("week_thursday", r"(\d{4})ThuW(\d{1,2})"),
    ("week_saturday", r"(\d{4})SatW(\d{1,2})"),
    ("week_sunday", r"(\d{4})SunW(\d{1,2})"),
))
_FINANCIAL_START = {"financial_april": 4, "financial_july": 7, "financial_october": 10}
# DHIS2 period types whose calendar period_bounds does not implement: their ids are read as written
_UNSUPPORTED = ("week_wednesday", "week_thursday", "week_saturday", "week_sunday", "sixmonth_november",
                "financial_november")


def _period_form(period: str) -> tuple[str, tuple[int, ...]] | None:
    for kind, pattern in _PERIOD_FORMS:
        found = pattern.fullmatch(period)
        if found:
            return kind, tuple(int(group) for group in found.groups())
    return None


def _period_id(text: str) -> str | None:
    """The DHIS2 period id ``text`` is or names (weeks without a leading zero, as DHIS2 writes them);
    None when it is neither."""
    form = _period_form(text)
    if form is None:
        return _period_from_name(text)
    kind, numbers = form
    if kind in _UNSUPPORTED:
        if len(numbers) == 2 and not 1 <= numbers[1] <= (2 if kind == "sixmonth_november" else 53):
            return None
    else:
        try:
            period_bounds(text)
        except ValueError:
            return None
    return re.sub(r"W0+(\d)", r"W\1", text)


_MONTH_NAMES = {
    1: ("january", "jan", "janvier", "janv"), 2: ("february", "feb", "février", "fevrier", "févr", "fevr"),
    3: ("march", "mar", "mars"), 4: ("april", "apr", "avril", "avr"), 5: ("may", "mai"),
    6: ("june", "jun", "juin"), 7: ("july", "jul", "juillet", "juil"), 8: ("august", "aug", "août", "aout"),
    9: ("september", "sep", "sept", "septembre"), 10: ("october", "oct", "octobre"),
    11: ("november", "nov", "novembre"), 12: ("december", "dec", "décembre", "decembre", "déc"),
}
_MONTH = {name: number for number, names in _MONTH_NAMES.items() for name in names}
_NAMED_MONTH = re.compile(r"([^\W\d_]+) (\d{4})")
_NAMED_RANGE = re.compile(r"([^\W\d_]+) ?(?:-|–|to|à|a) ?([^\W\d_]+) (\d{4})")
_NAMED_WEEK = re.compile(r"(?:w|week|semaine|sem) ?(\d{1,2})(?: -)? (\d{4})-(\d{2})-(\d{2})(?: .*)?")


def _period_from_name(name: str) -> str | None:
    """The period id of a DHIS2 period name in English or French (``January 2024``, ``Jan to Mar 2024``,
    ``janvier - mars 2024``, ``Week 5 2024-01-29 - 2024-02-04``), as an analytics export with names
    writes them; None for any other text."""
    text = " ".join(name.lower().replace(".", " ").split())
    found = _NAMED_MONTH.fullmatch(text)
    if found and found[1] in _MONTH:
        return f"{found[2]}{_MONTH[found[1]]:02d}"
    found = _NAMED_RANGE.fullmatch(text)
    if found and found[1] in _MONTH and found[2] in _MONTH:
        first, last, year = _MONTH[found[1]], _MONTH[found[2]], found[3]
        span = last - first + 1
        if span == 3 and first in (1, 4, 7, 10):
            return f"{year}Q{(first + 2) // 3}"
        if span == 6 and first in _ADX_SIX_MONTHS and first != 10:
            return f"{year}{_ADX_SIX_MONTHS[first]}"
        if span == 2 and first % 2 == 1:
            return f"{year}{(first + 1) // 2:02d}B"
        return None
    found = _NAMED_WEEK.fullmatch(text)
    if found:
        try:
            iso_year, iso_week, _ = dt.date(int(found[2]), int(found[3]), int(found[4])).isocalendar()
        except ValueError:
            return None
        return f"{iso_year}W{iso_week}" if iso_week == int(found[1]) else None
    return None


def _within(number: int, largest: int, what: str) -> int:
    if not 1 <= number <= largest:
        raise ValueError(f"{what} {number} is not between 1 and {largest}")
    return number


def _months(year: int, first_month: int, count: int) -> tuple[dt.date, dt.date]:
    """The first day of ``first_month`` and the last day ``count`` months on (across a year end)."""
    last_year, last_month = divmod(first_month - 1 + count - 1, 12)
    last_year, last_month = year + last_year, last_month + 1
    return dt.date(year, first_month, 1), dt.date(last_year, last_month, calendar.monthrange(last_year, last_month)[1])


def _coarser(period: str, to: str) -> str | None:
    """The quarter or year a period rolls up into; None for a period that does not (or is ``to`` already)."""
    form = _period_form(period)
    if form is None:
        return None
    kind, numbers = form
    if to == "quarter" and kind in ("day", "month"):
        return f"{numbers[0]}Q{(numbers[1] + 2) // 3}"
    if to == "year" and kind in ("day", "month", "bimonth", "quarter", "sixmonth"):
        return str(numbers[0])
    return None


# ------------------------------------------------------------------------------------------------ sums

_KEYS = [column for column in COLUMNS if column not in ("source_row", "value")]


def _sum_rows(rows: pd.DataFrame) -> pd.DataFrame:
    grouped = rows.groupby(_KEYS, dropna=False, sort=False)
    summed = pd.concat([grouped["source_row"].min(), grouped["value"].sum(min_count=1)], axis=1).reset_index()
    return _typed(summed)


def _rates_of(summed: pd.DataFrame, wanted: pd.DataFrame) -> pd.DataFrame:
    """Each rate ``wanted`` holds (rows of the rates rolled up) recomputed from the summed counts of its
    data set, organisation unit and period, named as the rate's own rows name its data set."""
    # by ids only: a response names "<dataSet>.ACTUAL_REPORTS" and "<dataSet>.EXPECTED_REPORTS" apart
    ids = ["data_element", "category_option_combo", "attribute_option_combo", "period", "org_unit"]
    frames = []
    for rate, (numerator, denominator) in RATE_COUNTS.items():
        own = wanted[wanted["metric"] == rate]
        if own.empty:
            continue
        counts = summed[summed["data_element"].isin(set(own["data_element"]))].fillna({"category_option_combo": "",
                                                                                      "attribute_option_combo": ""})
        top = counts[counts["metric"] == numerator]
        bottom = counts[counts["metric"] == denominator][[*ids, "source_row", "value"]]
        both = top.merge(bottom, on=ids, suffixes=("", "_expected"))
        if both.empty:
            continue
        expected = both["value_expected"].to_numpy(dtype="float64")
        value = np.divide(100 * both["value"].to_numpy(dtype="float64"), expected, out=np.full(len(both), np.nan),
                          where=expected > 0)
        name = own.dropna(subset="data_element_name").drop_duplicates("data_element").set_index("data_element")
        rates = both.assign(metric=rate, value=value,
                            source_row=np.minimum(both["source_row"], both["source_row_expected"]),
                            data_element_name=both["data_element"].map(name["data_element_name"]).astype(object)
                            .fillna(both["data_element_name"]))
        for column in ("category_option_combo", "attribute_option_combo"):
            rates[column] = rates[column].replace("", None)
        frames.append(rates[list(COLUMNS)])
    if not frames:
        return _typed(pd.DataFrame({column: pd.Series(dtype="float64" if column == "value" else
                                                      "int64" if column == "source_row" else object)
                                    for column in COLUMNS}))
    return _typed(pd.concat(frames, ignore_index=True))


def _one_line(text: str) -> str:
    return " ".join(text.split())


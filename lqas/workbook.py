"""results.xlsx: the run's tidy results as formatted sheets in the report language (a view of Results)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.context import equity_labels, run_labels
from lqas.design import ALL, domain_columns, unit_rows
from lqas.dtypes import distinct_text, first_rows
from lqas.priorities import Priorities
from lqas.results import Results
from lqas.rules import decision_table
from lqas.safety import run_day, stamp_zip
from lqas.sections.words import num
from lqas.views import counts_by, decision_table_rows, evidence_sources, plain

ESTIMATE_FIELDS = ("n", "n_weighted", "estimate", "se", "ci_low", "ci_high", "deff", "icc", "df")
# rows of the estimates sheet beyond which it keeps the levels above the lots only (a national survey's
# estimates.csv runs to millions of rows; a sheet holds 1,048,576, and a spreadsheet opens 100,000 rows
# of 18 columns in seconds; writing them takes about 3 s)
SHEET_ROWS = 100_000

# zlib's level for the workbook's members: its fastest. A 10^5-child run's sheets are 90 MB of XML, deflated
# in 0.26 s instead of 0.75 s at zlib's default (6), into 13.7 MB instead of 11.0 MB: the spreadsheet opens them
# as fast, and the run's processor time is what its end waits for
DEFLATE_LEVEL = 1


@dataclass
class Sheet:
    """One formatted sheet: a frame, which of its columns are fractions to show as percentages,
    and an optional note written under the title."""

    name: str
    frame: pd.DataFrame
    percent: Sequence[str] = ()
    note: str = ""
    widths: dict[str, float] = field(default_factory=dict)


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write one sheet per table: bold shaded header, frozen header row, fitted column widths,
    fractions formatted as percentages (the data stay fractions 0-1), a note row when given.

    openpyxl (write-only mode) writes the workbook, the styles and each sheet's note and header; the
    data rows, a million cells in a national run, are written here as the XML openpyxl writes for
    them, byte for byte, column by column (openpyxl takes some 20 microseconds a cell: half a
    minute for the estimates sheet), and put in each sheet when it is saved. A sheet holding values
    of another kind (dates...) is written by openpyxl cell by cell.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    day = run_day()
    book.properties.created = book.properties.modified = day.replace(tzinfo=None)
    used: set[str] = set()
    header_style = {"font": Font(bold=True), "fill": PatternFill("solid", fgColor="DDDDDD"),
                    "border": Border(bottom=Side(style="thin", color="888888")),
                    "alignment": Alignment(wrap_text=True, vertical="top")}

    def styled(ws, value, **style):
        cell = WriteOnlyCell(ws, value=_cell_value(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text starting with "=" stays text, never a live formula
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    rows = {}
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.name, used))
        frame = sheet.frame
        percent = {frame.columns.get_loc(c) for c in sheet.percent if c in frame}
        for j, column in enumerate(frame.columns):
            values = [str(column)] + [str(v) for v in frame.iloc[:200, j].tolist()]
            width = sheet.widths.get(column) or min(max(len(v) for v in values) + 2, 60)
            ws.column_dimensions[get_column_letter(j + 1)].width = 9 if j in percent and width < 9 else width
        start = 3 if sheet.note else 1
        ws.freeze_panes = f"A{start + 1}"
        if len(frame):
            ws.auto_filter.ref = f"A{start}:{get_column_letter(max(len(frame.columns), 1))}{start + len(frame)}"
        if sheet.note:
            ws.append([styled(ws, sheet.note, font=Font(italic=True, color="555555"))])
            ws.append([])
        ws.append([styled(ws, str(column), **header_style) for column in frame.columns])
        if not len(frame):
            continue
        # the percentage style, registered after the header's as when openpyxl wrote the first row
        probe = WriteOnlyCell(ws)
        probe.number_format = "0.0%"
        styles = {j: f' s="{probe.style_id}"' for j in percent}
        if _plain(frame):
            rows[ws] = (frame, start + 1, styles)  # made into XML as the sheet is put in the workbook
        else:
            columns = [_column_values(frame.iloc[:, j]) for j in range(len(frame.columns))]
            for record in zip(*columns):
                ws.append([styled(ws, value, number_format="0.0%") if j in percent
                           else styled(ws, value) if isinstance(value, str) and value[:1] == "=" else value
                           for j, value in enumerate(record)])
    book.save(path)
    stamp_zip(path, day, level=DEFLATE_LEVEL)
    _insert_rows(path, {ws.path.lstrip("/"): sheet for ws, sheet in rows.items()})  # a sheet's path is known once saved


def _column_values(values: pd.Series) -> list:
    """A column as plain Python values for the sheet: numbers as numbers, missing as empty cells,
    text without the control characters XML cannot hold."""
    return [_cell_value(value) for value in values.tolist()]


def _cell_value(value):
    value = plain(value)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        # a control character (a stray byte in a remark) is invalid XML: openpyxl would refuse the
        # whole workbook; it is shown as the replacement character instead (the CSVs keep it)
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


# --- data rows as openpyxl writes them -----------------------------------------------------------

class _NotPlain(Exception):
    """A value that is not a number, a flag, a text or missing: openpyxl writes the sheet."""


def _plain(frame: pd.DataFrame) -> bool:
    """Whether every value of ``frame`` is a number, a flag, a text or missing (:func:`_tail`): the sheets
    whose rows are written here."""
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j]
        if (not isinstance(values.dtype, pd.api.extensions.ExtensionDtype) and values.dtype.kind in "iufb") or (
                pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")):
            continue
        try:
            for value in values.tolist():
                _tail(value, "", None)
        except _NotPlain:
            return False
    return True


# rows made into XML at a time: a national run's largest sheet is 80 MB of XML, and making it whole held
# each column's cells and the joined rows at once
_SHEET_ROWS_AT_A_TIME = 50_000


def _sheet_rows(frame: pd.DataFrame, first: int, styles: Mapping[int, str]) -> list[bytes]:
    """The ``<row>`` elements of ``frame``'s values, from row ``first``, in pieces of
    ``_SHEET_ROWS_AT_A_TIME`` rows: what openpyxl's write-only mode writes for the values as
    :func:`_cell_value` gives them (a cell per value, none for a missing value unless styled; numbers
    as ``%.16g``; text inline, escaped, ASCII with character references; ``styles``: the style
    attribute of the percentage columns)."""
    return [_rows_xml(frame.iloc[start:start + _SHEET_ROWS_AT_A_TIME], first + start, styles)
            for start in range(0, len(frame), _SHEET_ROWS_AT_A_TIME)]


def _rows_xml(frame: pd.DataFrame, first: int, styles: Mapping[int, str]) -> bytes:
    import pyarrow as pa
    import pyarrow.compute as pc
    from openpyxl.utils import get_column_letter

    numbers = pa.array([str(r) for r in range(first, first + len(frame))], type=pa.string())
    cells = []
    for j in range(frame.shape[1]):
        tails = pa.array(_tails(frame.iloc[:, j], styles.get(j, "")), type=pa.string())
        cells.append(pc.binary_join_element_wise(f'<c r="{get_column_letter(j + 1)}', numbers, tails, "")
                     .fill_null(""))  # no tail: no cell
    text = pc.binary_join_element_wise('<row r="', numbers, '">', *cells, "</row>", "")
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[[text.offset, text.offset + len(text)]]
    return memoryview(data)[bounds[0]:bounds[1]].tobytes()


def _tails(values: pd.Series, style: str) -> list[str | None]:
    """Each cell of a column after its coordinate (``" s="3" t="n"><v>0.5</v></c>``); ``None``
    where openpyxl writes no cell."""
    empty = f'"{style} t="n"></c>' if style else None  # a styled cell is written even when empty
    numpy = not isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
    kind = values.dtype.kind
    if numpy and kind in "iuf":
        return _number_tails(values.to_numpy(), style, empty)
    if numpy and kind == "b":
        return [f'"{style} t="b"><v>{int(flag)}</v></c>' for flag in values.tolist()]
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        texts: dict[str, str] = {}  # a column of a few hundred names, each escaped once
        return [empty if missing else texts[text] if text in texts else texts.setdefault(text, _text_tail(text, style))
                for text, missing in zip(values.tolist(), pd.isna(values.to_numpy(dtype=object)))]
    return [_tail(value, style, empty) for value in values.tolist()]


def _number_tails(numbers: np.ndarray, style: str, empty: str | None) -> list[str | None]:
    """:func:`_number_tail` of each number (``empty`` for NaN), made once per distinct number when they
    repeat (counts, degrees of freedom, 0 and 1): told apart by their bits, so 0.0 and -0.0 are two."""
    def tails(distinct: np.ndarray) -> list[str | None]:
        if distinct.dtype.kind == "f":
            return [empty if math.isnan(number) else _number_tail(number, style) for number in distinct.tolist()]
        return [_number_tail(number, style) for number in distinct.tolist()]

    if len(numbers) < 1_000:
        return tails(numbers)
    numbers = np.ascontiguousarray(numbers)
    codes, distinct = pd.factorize(numbers.view(f"i{numbers.itemsize}") if numbers.dtype.kind == "f" else numbers)
    if len(distinct) > len(numbers) // 2:
        return tails(numbers)
    return np.array(tails(numbers[first_rows(codes, len(distinct))]), dtype=object)[codes].tolist()


def _tail(value, style: str, empty: str | None) -> str | None:
    value = plain(value)
    if value is None:
        return empty
    if isinstance(value, bool):
        return f'"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return _number_tail(value, style)
    if isinstance(value, str):
        return _text_tail(value, style)
    raise _NotPlain(type(value).__name__)


def _number_tail(number, style: str) -> str:
    # as openpyxl writes it (openpyxl.compat.safe_string): 16 significant digits, nothing for infinity
    return f'"{style} t="n"><v>{"%.16g" % number if math.isfinite(number) else ""}</v></c>'  # noqa: UP031


def _text_tail(text: str, style: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:32767]  # a cell holds 32,767 characters
    if not text:
        return f'"{style} t="inlineStr"></c>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    escaped = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
               .encode("ascii", "xmlcharrefreplace").decode("ascii"))
    return f'"{style} t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def _insert_rows(path: Path, rows: dict[str, tuple[pd.DataFrame, int, Mapping[int, str]]]) -> None:
    """Put each sheet's data rows (``rows``: its frame, first row and styles, by member) at the end of its
    ``<sheetData>``, every member of the workbook otherwise as it is (with its date). The workbook is
    copied a member at a time into a file beside it that then replaces it. A member is deflated by a
    thread (zlib lets go of Python's lock) while the next sheet's rows are made into XML: a national
    run's sheets weigh a hundred MB, so a sheet's rows are never joined into one text (:func:`_write_member`)."""
    import os
    import zipfile

    if not rows:
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        with (zipfile.ZipFile(path) as source, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive,
              ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-deflate") as deflating):
            written = None
            for info in source.infolist():
                data = source.read(info)
                parts = [data]
                if info.filename in rows:
                    pieces = _sheet_rows(*rows.pop(info.filename))  # while the member before is deflated
                    end = data.rindex(b"</sheetData>")
                    parts = [data[:end], *pieces, data[end:]]
                    del pieces
                member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                member.compress_type, member.external_attr = info.compress_type, info.external_attr
                _deflated_at(member, DEFLATE_LEVEL)
                if written is not None:
                    written.result()
                written = deflating.submit(_write_member, archive, member, parts)
                del data, parts
            if written is not None:
                written.result()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _deflated_at(member, level: int) -> None:
    """``member`` (a ``zipfile.ZipInfo``) deflated at ``level`` when written through ``ZipFile.open``, which
    has no such argument: the attribute ``writestr(compresslevel=)`` sets (``compress_level`` from Python
    3.13, ``_compresslevel`` before)."""
    setattr(member, "compress_level" if hasattr(member, "compress_level") else "_compresslevel", level)


def _write_member(archive, member, parts: list[bytes]) -> None:
    """``archive.writestr(member, b"".join(parts))`` without the joined copy: the parts deflated one after
    another into the member (a national workbook's estimates sheet is 80 MB of XML)."""
    member.file_size = sum(len(part) for part in parts)  # as writestr sets it: ZIP64 or not is told from it
    with archive.open(member, mode="w") as member_file:
        for part in parts:
            member_file.write(part)


def _sheet_title(name: str, used: set[str]) -> str:
    clean = "".join("-" if ch in '[]:*?/\\' else ch for ch in name)[:31] or "sheet"
    title, k = clean, 2
    while title.lower() in used:
        suffix = f" ({k})"
        title, k = clean[:31 - len(suffix)] + suffix, k + 1
    used.add(title.lower())
    return title


def workbook_sheets(results: Results, lang: str) -> list[Sheet]:
    """The sheets of ``results.xlsx``: estimates, LQAS classification, girls-boys comparisons, the
    scorecard, the sample, exclusions, repairs, evidence sources, decision rules and remarks.

    Codes are shown by their names in ``lang`` (:func:`lqas.context.run_labels`); fractions stay
    fractions 0-1, formatted as percentages.
    """
    labels = run_labels(results, lang)
    head, name = labels["header"], labels["sheet"]

    def named(kind: str, values: pd.Series) -> pd.Series:
        return _renamed(values.astype(str), labels.get(kind, {}))

    sheets = [_estimates_sheet(results.estimates, labels, head, name, equity_labels(lang),
                               results.project.levels.columns, lang),
              _classification_sheet(results.classification, labels, head, name)]
    if not results.comparisons.empty:
        sheets.append(_comparisons_sheet(results.comparisons, labels, head, name))
    if results.scorecard is not None and not results.scorecard.empty:
        sheets.append(_scorecard_sheet(results.scorecard, equity_labels(lang), labels, head, name))
    if results.priorities is not None and not results.priorities.areas.empty:
        sheets += _priorities_sheets(results.priorities, labels, head, name, lang)
    if results.rounds is not None:  # [rounds]: the tables as they are, fractions as percentages
        for key, frame in (("changes", results.rounds.changes), ("gap_changes", results.rounds.gaps),
                           ("arm_changes", results.rounds.arms), ("lqas_transitions", results.rounds.transitions)):
            if frame is not None:
                fractions = [c for c in frame.columns if c.startswith(("estimate", "change", "did", "mdd"))
                             and "logit" not in c and c != "change_se"]
                sheets.append(Sheet(name[key], frame, percent=fractions))
    if results.admin is not None:  # [admin]: the DHIS2 extracts against the survey, named in the language
        sheets += _admin_sheets(results, labels, head, name)
    if results.small_area is not None:  # [small_area]: every area of the file, sampled or not
        sheets.append(_small_area_sheet(results, labels, head, name))
    sheets.append(_areas_sheet(results, labels, head))
    table = results.table
    counts = table.groupby(["catchment", "cohort", "sex"], dropna=False, observed=True).size().rename("n").reset_index()
    sample = counts.pivot_table(index=["catchment", "cohort"], columns="sex", values="n", fill_value=0,
                                aggfunc="sum", observed=True)
    sample = pd.DataFrame({head["catchment"]: named("catchment", sample.index.get_level_values(0).to_series()).values,
                           head["cohort"]: named("cohort", sample.index.get_level_values(1).to_series()).values,
                           head["girls"]: sample.get("F", 0), head["boys"]: sample.get("M", 0),
                           head["total"]: sample.sum(axis=1)}).reset_index(drop=True)
    sheets.append(Sheet(name["sample"], sample))
    derived = results.derived
    sheets.append(Sheet(name["exclusions"], pd.DataFrame(
        [[labels["reason"].get(r["reason"], r["reason"]), r["reason"], r["n"]]
         for r in counts_by(derived.exclusions, "reason", "reason")],
        columns=[head["reason"], head["code"], head["count"]])))
    sheets.append(Sheet(name["repairs"], pd.DataFrame(
        [[labels["repair"].get(r["rule"], r["rule"]), r["rule"], r["n"]] for r in counts_by(derived.repairs, "rule", "rule")],
        columns=[head["rule"], head["code"], head["count"]])))
    sources = evidence_sources(table, [dose.key for dose in derived.schedule.doses], ALL)
    source_names = [labels["source"].get(s, s) for s in sources["sources"]]
    sheets.append(Sheet(name["sources"], pd.DataFrame(
        [[labels["dose"].get(r["dose"], r["dose"]), r["n"], *[r["shares"][s] for s in sources["sources"]]]
         for r in sources["rows"]], columns=[head["dose"], head["n"], *source_names]),
        percent=source_names, note=head["share"]))
    rules = decision_table_rows(decision_table(range(12, 31), long=True))  # as the report's Annex B
    sheets.append(Sheet(name["rules"], pd.DataFrame(
        [[row["n"], *row["d"]] for row in rules["rows"]],
        columns=["n", *[f"{round(100 * t)} %" for t in rules["targets"]]]), note=head["rules_note"]))
    if results.remarks is not None:  # free text only once a person has reviewed it (lqas.remarks)
        sheets.append(Sheet(name["remarks"], pd.DataFrame(
            [[r["text"], r["n"], ", ".join(labels["catchment"].get(c, c) for c in r["catchments"])]
             for r in results.remarks], columns=[head["remark"], head["count"], head["catchments"]]),
            widths={head["remark"]: 70}))
    return [_readme_sheet(sheets, labels, head, results.project.survey.synthetic), *sheets]


def _readme_sheet(sheets: Sequence[Sheet], labels: Mapping, head: Mapping, synthetic: bool) -> Sheet:
    """The first sheet: what each of the others holds (and, for synthetic data, the warning first)."""
    name, about = labels["sheet"], labels["sheet_about"]
    by_title = {title: key for key, title in name.items()}
    by_title[head["catchments"]] = "catchments"
    # each sheet by the title the workbook gives it (Excel cuts a name at 31 characters)
    used = {_sheet_title(name["readme"], set())}
    rows = [[_sheet_title(sheet.name, used), about.get(by_title.get(sheet.name, ""), "")] for sheet in sheets]
    note = (labels["readme_synthetic"] + " " if synthetic else "") + labels["readme_note"]
    return Sheet(name["readme"], pd.DataFrame(rows, columns=[head["sheet"], head["content"]]), note=note,
                 widths={head["content"]: 110})


def _priorities_sheets(ranked: Priorities, labels: Mapping, head: Mapping, name: Mapping, lang: str) -> list[Sheet]:
    """The areas ranked (``priorities.csv``) and the numbers of children (``children_numbers.csv``),
    named in the report language."""
    areas, indicator = ranked.areas, labels["indicator"]
    zero_dose, under = indicator.get("zero_dose", "zero_dose"), indicator.get("ui_dtp1_not_dtp3", "ui")
    cats = ranked.rules.categories if ranked.rules else None
    access = indicator.get(cats.access, cats.access) if cats else "access"
    dropout = indicator.get(cats.dropout, cats.dropout) if cats else head["dropout"]
    columns: dict[str, object] = {}
    if "district" in areas:
        columns[head["district"]] = areas["district"].map(lambda d: labels["district"].get(d, d))
    columns[head["catchment"]] = areas["catchment"].map(lambda c: labels["catchment"].get(c, c))
    columns[head["rank"]] = areas["rank"]
    percent = []
    for short, title in (("zd", zero_dose), ("ui", under)):
        if f"{short}_children" in areas:
            columns[f"{title}: {head['children']}"] = areas[f"{short}_children"].round()
            columns[f"{title}: {head['children']}, {head['ci_low']}"] = areas[f"{short}_children_ci_low"].round()
            columns[f"{title}: {head['children']}, {head['ci_high']}"] = areas[f"{short}_children_ci_high"].round()
        for measure, suffix in (("estimate", ""), ("ci_low", f": {head['ci_low']}"), ("ci_high", f": {head['ci_high']}")):
            columns[title + suffix] = areas[f"{short}_{measure}"]
            percent.append(title + suffix)
        if short == "zd":
            columns[head["rank_prevalence"]] = areas["rank_prevalence"]
    for short, title in (("access", access), ("dropout", dropout)):
        columns[title] = areas[f"{short}_estimate"]
        percent.append(title)
    columns[head["category"]] = areas["category"].map(lambda c: labels["category"].get(c, c))
    columns[head["lots_below"]] = areas["zero_dose_lots_below_target"].map(
        lambda text: ", ".join(labels["cohort"].get(c, c) for c in text.split(";")) if text else "")
    for key, condition in (ranked.rules.conditions.items() if ranked.rules else ()):
        # yes / no in the report language (empty: cannot be told), as the other sheets write answers
        columns[getattr(condition, lang)] = [None if value is pd.NA else labels["answer"]["yes" if value else "no"]
                                             for value in areas[key]]
    sheets = [Sheet(name["priorities"], pd.DataFrame(columns), percent=percent, note=head["priorities_note"])]
    numbers = ranked.numbers
    if not numbers.empty:
        levels = [c for c in numbers.columns[2:numbers.columns.get_loc("unit_level")]]
        frame = {head["indicator"]: numbers["indicator"].map(lambda k: indicator.get(k, k)),
                 head["cohort"]: numbers["cohort"].map(lambda c: labels["cohort"].get(c, c))}
        for level in levels:
            frame[head.get(level, level)] = numbers[level].map(lambda u, level=level: labels.get(level, {}).get(u, u))
        frame[head["population"]] = numbers["population"]
        frame[head["n"]] = numbers["n"]
        for measure in ("estimate", "ci_low", "ci_high"):
            frame[head[measure]] = numbers[measure]
        frame[head["children"]] = numbers["children"].round()
        frame[f"{head['children']}, {head['ci_low']}"] = numbers["children_ci_low"].round()
        frame[f"{head['children']}, {head['ci_high']}"] = numbers["children_ci_high"].round()
        sheets.append(Sheet(name["numbers"], pd.DataFrame(frame),
                            percent=[head["estimate"], head["ci_low"], head["ci_high"]], note=head["numbers_note"]))
    return sheets


def _areas_sheet(results: Results, labels: Mapping, head: Mapping) -> Sheet:
    """One line per catchment area (the report's Annex C, every area): its district, children, the
    zero-dose, UI and Penta 3 estimates with their 95 % CI (all cohorts and sexes), and each lot's
    class; the estimates sheet of a national survey leaves the areas to estimates.csv."""
    from lqas.context import AREA_INDICATORS

    table, estimates = results.table, results.estimates
    areas = sorted(distinct_text(table["catchment"]))
    district = "district" if "district" in table else None
    columns: dict[str, object] = {}
    if district:
        parents = table[["catchment", district]].astype(str).drop_duplicates("catchment").set_index("catchment")
        columns[head["district"]] = [labels["district"].get(d, d) for d in parents[district].reindex(areas)]
    columns[head["catchment"]] = [labels["catchment"].get(a, a) for a in areas]
    columns[head["code"]] = areas
    columns[head["n"]] = table["catchment"].astype(str).value_counts().reindex(areas).to_numpy()
    percent = []
    for key in AREA_INDICATORS:
        rows = unit_rows(estimates[estimates["indicator"] == key], key, "catchment")
        if rows.empty:
            continue
        rows = rows.set_index(rows["catchment"].astype(str)).reindex(areas)
        name = labels["indicator"].get(key, key)
        for measure, title in (("estimate", name), ("ci_low", f"{name}: {head['ci_low']}"),
                             ("ci_high", f"{name}: {head['ci_high']}")):
            columns[title] = rows[measure].to_numpy()
            percent.append(title)
    classes = results.classification
    for (indicator, cohort), lots in classes.groupby(["indicator", "cohort"], sort=False):
        by_area = lots.set_index(lots["catchment"].astype(str))["class"]
        title = f"LQAS {labels['indicator'].get(indicator, indicator)}, {labels['cohort'].get(cohort, cohort)}"
        columns[title] = [labels["klass"].get(k, k) if isinstance(k, str) else None
                          for k in by_area.reindex(areas)]
    frame = pd.DataFrame(columns).sort_values([c for c in (head["district"] if district else None,
                                                          head["catchment"]) if c], kind="stable")
    return Sheet(head["catchments"], frame.reset_index(drop=True), percent=percent)


def _domains(frame: pd.DataFrame, labels: Mapping, head: Mapping,
             dimensions: Mapping | None = None) -> dict[str, pd.Series]:
    """Every domain column of a tidy frame (cohort, the levels, the stratifiers, sex, vaccination
    status), titled and with its codes named in the report language."""
    kinds = {"cohort": "cohort", "district": "district", "catchment": "catchment", "sex": "sex",
             "vaccination_status": "status"}
    dimensions = dimensions or {"dimension": {}, "group": {}}
    out = {}
    for column in domain_columns(frame):
        if column in kinds:
            names = labels.get(kinds[column], {})
            title = head["status"] if column == "vaccination_status" else head.get(column, column)
        else:  # a level or stratifier of the project: named by equity.toml's dimensions, if there
            names = {**dimensions["group"].get(column, {}), ALL: labels["sex"][ALL]}
            title = dimensions["dimension"].get(column, column)
        out[title] = _renamed(frame[column].astype(str), names)
    return out


def _renamed(values: pd.Series, names: Mapping) -> pd.Series:
    """Each value by its name in ``names`` (itself where it has none), looked up once per distinct value:
    the estimates sheet's up to 100,000 rows hold a few thousand codes (a million rows: 0.12 -> 0.025 s a
    column)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return pd.Series(distinct.map(lambda v: names.get(v, v)).take(codes), index=values.index, name=values.name)


def _estimates_sheet(estimates: pd.DataFrame, labels: Mapping, head: Mapping, name: Mapping,
                     dimensions: Mapping, levels: Sequence[str] = (), lang: str = "en") -> Sheet:
    """Every estimate, as estimates.csv; when they are more than ``SHEET_ROWS``, fewer, the note saying
    which: first without the lowest level's rows (the health areas), then without the stratifiers'
    rows below the survey, then without each level above, from the lowest."""
    cuts = []
    stratifiers = [c for c in domain_columns(estimates) if c not in (*levels, "cohort", "sex", "vaccination_status",
                                                                     "district")]
    lowest, *above = list(reversed(levels)) or [None]
    steps = [("level", lowest), ("stratifiers", None), *(("level", level) for level in above)]
    # the rows kept told by a mask and taken once: a national run's 2.4 million estimates were copied at each cut
    keep = np.ones(len(estimates), dtype=bool)
    for kind, level in steps:
        if np.count_nonzero(keep) <= SHEET_ROWS:
            break
        if kind == "level" and level in estimates:
            keep &= (estimates[level] == ALL).to_numpy()
            cuts = [*cuts, level]
        elif kind == "stratifiers" and stratifiers:
            below = (estimates[[lvl for lvl in levels if lvl in estimates]] != ALL).any(axis=1).to_numpy()
            keep &= ~(below & (estimates[stratifiers] != ALL).any(axis=1).to_numpy())
    kept = estimates if keep.all() else estimates[keep]
    note = head["estimates_note"]
    if len(kept) < len(estimates):
        shown = [head.get(level, level).lower() for level in levels if level not in cuts]
        values = {"rows": num(len(estimates), lang), "kept": num(len(kept), lang), "levels": ", ".join(shown)}
        note = (head["estimates_note_levels"] if shown else head["estimates_note_survey"]) % values
    indicator = kept["indicator"]
    frame = pd.DataFrame({head["indicator"]: _renamed(indicator, labels["indicator"]),
                          head["code"]: indicator, **_domains(kept, labels, head, dimensions),
                          **{head.get(f, f): kept[f] for f in ESTIMATE_FIELDS}})
    percent = [head["estimate"], head["se"], head["ci_low"], head["ci_high"]]
    return Sheet(name["estimates"], frame, percent=percent, note=note, widths={head["indicator"]: 50})


def _classification_sheet(classification: pd.DataFrame, labels: Mapping, head: Mapping, name: Mapping) -> Sheet:
    lots = [c for c in classification.columns if c not in _CLASSIFY_FIELDS]
    frame = pd.DataFrame({head["indicator"]: classification["indicator"].map(lambda k: labels["indicator"].get(k, k)),
                          **_domains(classification[lots], labels, head),
                          **{f: classification[f] for f in ("n", "x", "d", "alpha", "beta")},
                          head["limits_met"]: classification["limits_met"].map(
                              lambda met: labels["answer"]["yes"] if met else labels["answer"]["no"]),
                          head["class"]: classification["class"].map(lambda k: labels["klass"].get(k, k))})
    return Sheet(name["lqas"], frame, percent=["alpha", "beta"], widths={head["indicator"]: 50})


_CLASSIFY_FIELDS = {"indicator", "n", "x", "d", "alpha", "beta", "class", "x_indicator", "direction", "counted",
                    "good", "bad", "limits_met", "distribution"}


def _comparisons_sheet(comparisons: pd.DataFrame, labels: Mapping, head: Mapping, name: Mapping) -> Sheet:
    ci = head["ci_low"], head["ci_high"]
    frame = pd.DataFrame({
        head["indicator"]: comparisons["indicator"].map(lambda k: labels["indicator"].get(k, k)),
        **_domains(comparisons, labels, head),
        head["girls_n"]: comparisons["n_a"], head["boys_n"]: comparisons["n_b"],
        head["girls"]: comparisons["estimate_a"], head["boys"]: comparisons["estimate_b"],
        head["difference"]: comparisons["difference"], ci[0]: comparisons["difference_ci_low"],
        ci[1]: comparisons["difference_ci_high"], head["ratio"]: comparisons["ratio"],
        head["p_value"]: comparisons["p_value"],
        head["disadvantaged"]: comparisons["disadvantaged"].map(lambda k: labels["sex"].get(k, k) if k in ("F", "M")
                                                                else k)})
    return Sheet(name["comparisons"], frame, percent=[head["girls"], head["boys"], head["difference"], *ci],
                 widths={head["indicator"]: 50})


def _scorecard_sheet(card: pd.DataFrame, wording: Mapping, labels: Mapping, head: Mapping, name: Mapping) -> Sheet:
    unit = card.columns[0]
    gap = card["kind"] == "sex_gap"
    frame = pd.DataFrame({
        head.get(unit, unit): card[unit].astype(str).map(lambda v: labels.get(unit, {}).get(v, v)),
        head["row"]: card["row"].map(wording["row"]),
        head["light"]: card["light"].map(wording["light"]),
        head["reason"]: card["reason"].map(wording["reason"]),
        head["n"]: card["n"].where(~gap, card[["n_a", "n_b"]].min(axis=1)),
        head["difference_or_level"]: card["estimate"].where(~gap, card["difference"]),
        head["ci_low"]: card["ci_low"].where(~gap, card["difference_ci_low"]),
        head["ci_high"]: card["ci_high"].where(~gap, card["difference_ci_high"]),
        head["p_value"]: card["p_value"]})
    return Sheet(name["scorecard"], frame, percent=[head["difference_or_level"], head["ci_low"], head["ci_high"]],
                 widths={head["row"]: 60})


def _small_area_sheet(results: Results, labels: Mapping, head: Mapping, name: Mapping) -> Sheet:
    """small_area.csv in rank order with the language's headers and names (areas, districts, sources)."""
    found = results.small_area
    table = found.table.sort_values(["estimate", "area"], ascending=[False, True], na_position="last")
    areas = labels.get(found.settings.column, {})
    districts = labels.get("district", {})
    frame = pd.DataFrame({
        head["rank"]: table["rank"], head["area_name"]: [areas.get(a) or n for a, n in zip(table["area"], table["name"])],
        head["code"]: table["area"],
        head["district"]: table["parent"].map(lambda v: districts.get(v, v) if isinstance(v, str) else v),
        head["sampled"]: table["sampled"].astype(bool),
        head["sa_method"]: table["method"].map(lambda v: labels["sa_method"].get(v, v)),
        head["n"]: table["n"], head["direct"]: table["direct"], head["direct_se"]: table["direct_se"],
        head["estimate"]: table["estimate"], head["se"]: table["se"], head["ci_low"]: table["ci_low"],
        head["ci_high"]: table["ci_high"], head["gamma"]: table["gamma"], head["threshold"]: table["threshold"],
        head["prob_exceeds"]: table["prob_exceeds"], head["population"]: table["population"],
        head["children"]: table["children"], head["children_ci_low"]: table["children_ci_low"],
        head["children_ci_high"]: table["children_ci_high"], head["rank_low"]: table["rank_low"],
        head["rank_high"]: table["rank_high"],
        head["class"]: table["lqas_class"].map(lambda v: labels["klass"].get(v, v) if isinstance(v, str) else v)})
    return Sheet(name["small_area"], frame.reset_index(drop=True),
                 percent=[head[k] for k in ("direct", "direct_se", "estimate", "se", "ci_low", "ci_high", "threshold",
                                            "prob_exceeds")],
                 note=head["sa_note"])


def _admin_sheets(results: Results, labels: Mapping, head: Mapping, name: Mapping) -> list[Sheet]:
    """admin.csv and dq_flags.csv with the language's headers and names (units, doses, checks)."""
    found, column = results.admin, results.project.admin.column
    units = labels.get(column, {})

    def named(values: pd.Series, names: Mapping) -> pd.Series:
        return values.map(lambda v: names.get(str(v), v) if isinstance(v, str) else v)

    def flag(values: pd.Series) -> pd.Series:
        return values.map(lambda v: None if pd.isna(v) else bool(v)).astype(object)

    comparison = found.comparison
    admin = pd.DataFrame({
        head.get(column, column): named(comparison[column].astype(str), units),
        head["dose"]: named(comparison["dose"], labels["dose"]),
        head["window_start"]: comparison["window_start"], head["window_end"]: comparison["window_end"],
        head["days_covered"]: comparison["days_covered"], head["admin_doses"]: comparison["doses"],
        head["admin_target"]: comparison["target"],
        head["target_source"]: named(comparison["target_source"], labels["target_source"]),
        head["admin_coverage"]: comparison["admin_coverage"], head["n"]: comparison.get("n"),
        head["survey_coverage"]: comparison["estimate"], head["ci_low"]: comparison["ci_low"],
        head["ci_high"]: comparison["ci_high"], head["ratio_admin"]: comparison["ratio"],
        head["ratio_ci_low"]: comparison["ratio_ci_low"], head["ratio_ci_high"]: comparison["ratio_ci_high"],
        head["difference_admin"]: comparison["difference"], head["over_100"]: flag(comparison["over_100"]),
        head["ratio_flag"]: flag(comparison["ratio_flag"]), head["difference_flag"]: flag(comparison["difference_flag"]),
        head["implied_target"]: comparison["implied_target"],
        head["implied_target_ci_low"]: comparison["implied_target_ci_low"],
        head["implied_target_ci_high"]: comparison["implied_target_ci_high"]})
    flags = found.flags
    doses = {**labels["dose"], **{f"{a}-{b}": f"{labels['dose'].get(a, a)}–{labels['dose'].get(b, b)}"
                                  for a in labels["dose"] for b in labels["dose"]}}
    quality = pd.DataFrame({
        head["check"]: named(flags["check"], labels["dq_check"]), head["code"]: flags["check"],
        head["org_unit"]: named(flags["org_unit"].astype(str), units),
        head["dose"]: named(flags["data_element"].astype(str), doses), head["period"]: flags["period"].astype(str),
        head["value"]: flags["value"], head["reference"]: flags["reference"], head["threshold"]: flags["threshold"],
        head["flag"]: flag(flags["flag"])})
    return [Sheet(name["admin"], admin, percent=[head[k] for k in ("admin_coverage", "survey_coverage", "ci_low",
                                                                    "ci_high", "difference_admin")],
                  note=head["admin_note"]),
            Sheet(name["dq_flags"], quality, note=head["dq_note"])]

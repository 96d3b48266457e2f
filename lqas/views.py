"""Tables (05TO): plain-data views of the estimates frame and the run logs, and the results workbook.

Every function returns lists and dicts of plain Python values (no DataFrames), so that the
report context built from them can be written to JSON and rendered by any template. An
estimate cell is ``{"estimate", "ci_low", "ci_high", "n", "small"}`` (fractions 0-1; ``small``
is True when ``n`` is below the report's small-cell threshold) or ``None`` when the domain has
no children in the indicator's denominator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ALL = "all"
SEXES = ("F", "M", ALL)
# display order of the dose evidence categories of `<dose>_source` (lqas.vaccination)
SOURCE_ORDER = ("card_date", "card_tick", "register_date", "register_tick", "recall", "scar", "implied", "none")


def _plain(value):
    """A JSON-ready value: numpy scalars to Python, NaN/NA to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class EstimateIndex:
    """Look-up of tidy estimates by (indicator, cohort, catchment, sex, vaccination_status).

    Domain columns missing from the frame count as ``"all"``.
    """

    KEYS = ("indicator", "cohort", "catchment", "sex", "vaccination_status")

    def __init__(self, estimates: pd.DataFrame, small_cell_n: int):
        self.small_cell_n = small_cell_n
        frame = estimates.copy()
        for column in self.KEYS[1:]:
            if column not in frame:
                frame[column] = ALL
        columns = [*self.KEYS, "estimate", "ci_low", "ci_high", "n"]
        self._cells = {tuple(row[:5]): row[5:] for row in frame[columns].itertuples(index=False, name=None)}
        self.indicators = set(frame["indicator"])

    def cell(self, indicator: str, cohort: str = ALL, catchment: str = ALL, sex: str = ALL,
             status: str = ALL) -> dict | None:
        found = self._cells.get((indicator, cohort, catchment, sex, status))
        if found is None or found[3] is None or found[3] == 0:
            return None
        estimate, low, high, n = (_plain(v) for v in found)
        return {"estimate": estimate, "ci_low": low, "ci_high": high, "n": int(n),
                "small": int(n) < self.small_cell_n}

    def __contains__(self, indicator: str) -> bool:
        return indicator in self.indicators


def _any_small(cells: Iterable[dict | None]) -> bool:
    return any(c is not None and c["small"] for c in cells)


def sex_table(index: EstimateIndex, indicator: str, cohorts: Sequence[str], catchments: Sequence[str]) -> dict:
    """Catchment x cohort rows with girls, boys and all for one indicator (plus each cohort's total row).

    Returns ``{"indicator", "rows": [{"cohort", "catchment", "F", "M", "all"}], "has_small"}``.
    """
    rows = [{"cohort": cohort, "catchment": catchment,
             **{sex: index.cell(indicator, cohort, catchment, sex) for sex in SEXES}}
            for cohort in cohorts for catchment in [*catchments, ALL]]
    return {"indicator": indicator, "rows": rows,
            "has_small": _any_small(row[sex] for row in rows for sex in SEXES)}


def panel(index: EstimateIndex, key: str, indicators: Sequence[str], cohort: str,
          catchments: Sequence[str]) -> dict | None:
    """Several indicators side by side, girls / boys / all, one row per catchment (and all).

    Returns ``{"key", "cohort", "indicators", "rows": [{"catchment", "cells": {indicator: {sex:
    cell}}}], "has_small"}``, or None when none of the indicators was estimated.
    """
    present = [indicator for indicator in indicators if indicator in index]
    if not present:
        return None
    rows = [{"catchment": catchment,
             "cells": {ind: {sex: index.cell(ind, cohort, catchment, sex) for sex in SEXES} for ind in present}}
            for catchment in [*catchments, ALL]]
    small = _any_small(c for row in rows for by_sex in row["cells"].values() for c in by_sex.values())
    return {"key": key, "cohort": cohort, "indicators": present, "rows": rows, "has_small": small}


def coverage_by_dose(index: EstimateIndex, doses: Sequence[str], cohort: str) -> dict:
    """Crude (all, girls, boys) and valid coverage of every dose for one cohort."""
    rows = []
    for dose in doses:
        crude = {sex: index.cell(f"{dose}_crude", cohort, ALL, sex) for sex in SEXES}
        valid = index.cell(f"{dose}_valid", cohort)
        if crude[ALL] is None and valid is None:
            continue
        rows.append({"dose": dose, "crude": crude, "valid": valid})
    small = _any_small([*(c for row in rows for c in row["crude"].values()), *(row["valid"] for row in rows)])
    return {"cohort": cohort, "rows": rows, "has_small": small}


def coverage_by_catchment(index: EstimateIndex, doses: Sequence[str], cohort: str,
                          catchments: Sequence[str], kind: str = "crude") -> dict:
    """Coverage of every dose (rows) in each catchment (columns) for one cohort."""
    rows = []
    for dose in doses:
        cells = {catchment: index.cell(f"{dose}_{kind}", cohort, catchment) for catchment in [*catchments, ALL]}
        if any(cells.values()):
            rows.append({"dose": dose, "cells": cells})
    return {"cohort": cohort, "kind": kind, "rows": rows,
            "has_small": _any_small(c for row in rows for c in row["cells"].values())}


def evidence_sources(table: pd.DataFrame, doses: Sequence[str], cohort: str, weight: str = "weight") -> dict:
    """Weighted share of each evidence source among children in each dose's denominator.

    The denominator of a dose is the children of ``cohort`` (``"all"``: every child) whose
    ``<dose>_crude`` is not missing; shares are weighted by ``weight`` and sum to 1 per dose.
    ``n`` is the unweighted number of children in the denominator.
    """
    part = table if cohort == ALL else table[table["cohort"] == cohort]
    found: set[str] = set()
    rows = []
    for dose in doses:
        source, crude = f"{dose}_source", f"{dose}_crude"
        if source not in part or crude not in part:
            continue
        members = part[part[crude].notna()]
        if members.empty:
            continue
        shares = members.groupby(members[source].fillna("none"))[weight].sum() / members[weight].sum()
        found |= set(shares.index)
        rows.append({"dose": dose, "n": len(members), "shares": {k: float(v) for k, v in shares.items()}})
    sources = [s for s in SOURCE_ORDER if s in found] + sorted(found - set(SOURCE_ORDER))
    for row in rows:
        row["shares"] = {s: row["shares"].get(s, 0.0) for s in sources}
    return {"cohort": cohort, "sources": sources, "rows": rows, "weighted": True}


def status_table(index: EstimateIndex, indicators: Sequence[str], statuses: Sequence[str]) -> dict:
    """Indicators (rows) by the child's vaccination status (columns, plus all)."""
    rows = []
    for indicator in indicators:
        cells = {status: index.cell(indicator, status=status) for status in [*statuses, ALL]}
        if any(cells.values()):
            rows.append({"indicator": indicator, "cells": cells})
    return {"statuses": list(statuses), "rows": rows,
            "has_small": _any_small(c for row in rows for c in row["cells"].values())}


def sample_table(table: pd.DataFrame, catchments: Sequence[str], cohorts: Sequence[str]) -> dict:
    """Children analysed by catchment x cohort x sex, with totals by cohort and overall."""
    counts = table.groupby(["catchment", "cohort", "sex"]).size()

    def row(catchment: str, cohort: str) -> dict:
        keep = [(catchment == ALL or k[0] == catchment) and (cohort == ALL or k[1] == cohort) for k in counts.index]
        part = counts[keep]
        by_sex = part.groupby(level="sex").sum()
        out = {"catchment": catchment, "cohort": cohort, "F": int(by_sex.get("F", 0)), "M": int(by_sex.get("M", 0)),
               "total": int(part.sum())}
        out["other"] = out["total"] - out["F"] - out["M"]  # sex unknown
        return out

    lots = [row(c, k) for c in catchments for k in cohorts if row(c, k)["total"]]
    totals = [row(ALL, k) for k in cohorts] + [row(ALL, ALL)]
    return {"lots": lots, "totals": totals, "sex_unknown": sum(t["other"] for t in totals[-1:])}


def counts_by(frame: pd.DataFrame, column: str, name: str) -> list[dict]:
    """Counts of ``frame`` by one column, largest first: ``[{name: value, "n": count}]``."""
    if frame.empty or column not in frame:
        return []
    counts = frame.groupby(column).size().sort_values(ascending=False, kind="stable")
    return [{name: str(value), "n": int(n)} for value, n in counts.items()]


def remarks(table: pd.DataFrame, column: str = "interviewer_remarks") -> list[dict]:
    """Distinct free-text remarks with how often they occur and in which catchments (raw text,
    escaped by the template)."""
    if column not in table:
        return []
    text = table[column].dropna().astype(str).str.strip()
    text = text[text != ""]
    out = []
    for remark, group in table.loc[text.index].groupby(text, sort=False):
        out.append({"text": remark, "n": len(group), "catchments": sorted(set(group["catchment"].astype(str)))})
    return sorted(out, key=lambda r: (-r["n"], r["text"]))


def decision_table_rows(wide: pd.DataFrame) -> dict:
    """The wide decision-rule table (index n, columns targets) as plain rows."""
    targets = [float(t) for t in wide.columns]
    rows = [{"n": int(n), "d": [_plain(v) for v in values]} for n, values in zip(wide.index, wide.to_numpy())]
    return {"targets": targets, "rows": rows}


# --- results workbook ------------------------------------------------------------------------


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
    fractions formatted as percentages (the data stay fractions 0-1), a note row when given."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    rule = Border(bottom=Side(style="thin", color="888888"))
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for sheet in sheets:
        title = _sheet_title(sheet.name, used)
        ws = book.create_sheet(title)
        start = 1
        if sheet.note:
            ws.cell(row=1, column=1, value=sheet.note).font = Font(italic=True, color="555555")
            start = 3
        frame = sheet.frame
        for j, column in enumerate(frame.columns, start=1):
            c = ws.cell(row=start, column=j, value=str(column))
            c.font, c.fill, c.border = header_font, header_fill, rule
            c.alignment = Alignment(wrap_text=True, vertical="top")
        percent = {frame.columns.get_loc(c) + 1 for c in sheet.percent if c in frame}
        for i, record in enumerate(frame.itertuples(index=False, name=None), start=start + 1):
            for j, value in enumerate(record, start=1):
                c = ws.cell(row=i, column=j, value=_plain(value))
                if j in percent:
                    c.number_format = "0.0%"
        for j, column in enumerate(frame.columns, start=1):
            values = [str(column)] + [str(v) for v in frame.iloc[:200, j - 1].tolist()]
            width = sheet.widths.get(column) or min(max(len(v) for v in values) + 2, 60)
            ws.column_dimensions[get_column_letter(j)].width = 9 if j in percent and width < 9 else width
        ws.freeze_panes = ws.cell(row=start + 1, column=1)
        if len(frame):
            ws.auto_filter.ref = f"A{start}:{get_column_letter(max(len(frame.columns), 1))}{start + len(frame)}"
    book.save(path)


def _sheet_title(name: str, used: set[str]) -> str:
    clean = "".join("-" if ch in '[]:*?/\\' else ch for ch in name)[:31] or "sheet"
    title, k = clean, 2
    while title.lower() in used:
        suffix = f" ({k})"
        title, k = clean[:31 - len(suffix)] + suffix, k + 1
    used.add(title.lower())
    return title


def results_sheets(context: dict) -> list[Sheet]:
    """The report's tables as workbook sheets, in the report language (fractions stay 0-1)."""
    labels, head = context["labels"], context["labels"]["header"]
    name = labels["sheet"]
    ind, catch, coh = labels["indicator"], labels["catchment"], labels["cohort"]
    est_cols = [head["estimate"], head["ci_low"], head["ci_high"], head["n"], head["small"]]

    def values(cell: dict | None) -> list:
        if cell is None:
            return [None, None, None, 0, None]
        return [cell["estimate"], cell["ci_low"], cell["ci_high"], cell["n"], "*" if cell["small"] else ""]

    def frame(rows: list[list], columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=columns)

    percent = est_cols[:3]
    sample = context["sample"]
    sheets = [Sheet(name["sample"], frame(
        [[catch.get(r["catchment"], r["catchment"]), coh.get(r["cohort"], r["cohort"]), r["F"], r["M"], r["total"]]
         for r in [*sample["lots"], *sample["totals"]]],
        [head["catchment"], head["cohort"], head["girls"], head["boys"], head["total"]]))]
    quality = context["quality"]
    sheets.append(Sheet(name["exclusions"], frame(
        [[labels["reason"].get(r["reason"], r["reason"]), r["reason"], r["n"]] for r in quality["exclusions_by_reason"]],
        [head["reason"], head["code"], head["count"]])))
    sheets.append(Sheet(name["repairs"], frame(
        [[labels["repair"].get(r["rule"], r["rule"]), r["rule"], r["n"]] for r in quality["repairs_by_rule"]],
        [head["rule"], head["code"], head["count"]])))
    sheets.append(Sheet(name["lqas"], frame(
        [[ind.get(r["indicator"], r["indicator"]), catch.get(r["catchment"], r["catchment"]),
          coh.get(r["cohort"], r["cohort"]), r["n"], r["x"], r["d"], r["alpha"], r["beta"],
          labels["klass"].get(r["class"], r["class"])] for r in context["lqas"]["classification"]],
        [head["indicator"], head["catchment"], head["cohort"], "n", "x", "d", "alpha", "beta", head["class"]]),
        percent=["alpha", "beta"]))
    rows = [[ind[key], coh.get(r["cohort"], r["cohort"]), catch.get(r["catchment"], r["catchment"]),
             labels["sex"][sex], *values(r[sex])]
            for key, table in context["sex_tables"].items() for r in table["rows"] for sex in SEXES]
    sheets.append(Sheet(name["zd_ui"], frame(rows, [head["indicator"], head["cohort"], head["catchment"], head["sex"],
                                                    *est_cols]), percent=percent))
    coverage = context["coverage"]
    rows = []
    for block in coverage["by_dose"]:
        for r in block["rows"]:
            for sex in SEXES:
                rows.append([coh.get(block["cohort"], block["cohort"]), labels["dose"].get(r["dose"], r["dose"]),
                             head["crude"], labels["sex"][sex], *values(r["crude"][sex])])
            rows.append([coh.get(block["cohort"], block["cohort"]), labels["dose"].get(r["dose"], r["dose"]),
                         head["valid"], labels["sex"][ALL], *values(r["valid"])])
    sheets.append(Sheet(name["coverage"], frame(rows, [head["cohort"], head["dose"], head["kind"], head["sex"],
                                                       *est_cols]), percent=percent))
    block = coverage["by_catchment"]
    rows = [[coh.get(block["cohort"], block["cohort"]), labels["dose"].get(r["dose"], r["dose"]),
             catch.get(c, c), *values(cell)] for r in block["rows"] for c, cell in r["cells"].items()]
    sheets.append(Sheet(name["coverage_catchment"], frame(rows, [head["cohort"], head["dose"], head["catchment"],
                                                                 *est_cols]), percent=percent))
    sources = coverage["sources"]
    source_names = [labels["source"].get(s, s) for s in sources["sources"]]
    rows = [[coh.get(sources["cohort"], sources["cohort"]), labels["dose"].get(r["dose"], r["dose"]), r["n"],
             *[r["shares"][s] for s in sources["sources"]]] for r in sources["rows"]]
    sheets.append(Sheet(name["sources"], frame(rows, [head["cohort"], head["dose"], head["n"], *source_names]),
                        percent=source_names, note=head["share"]))
    for block in context["panels"]:
        rows = [[ind[key], coh.get(block["cohort"], block["cohort"]), catch.get(r["catchment"], r["catchment"]),
                 labels["sex"][sex], *values(r["cells"][key][sex])]
                for key in block["indicators"] for r in block["rows"] for sex in SEXES]
        sheets.append(Sheet(name.get(block["key"], block["key"]), frame(
            rows, [head["indicator"], head["cohort"], head["catchment"], head["sex"], *est_cols]), percent=percent))
    besd = context.get("besd")
    if besd:
        rows = [[ind[key], catch.get(r["catchment"], r["catchment"]), labels["sex"][sex], *values(r[sex])]
                for key, table in besd["sex_tables"].items() for r in table["rows"] for sex in SEXES]
        sheets.append(Sheet(name["besd"], frame(rows, [head["indicator"], head["catchment"], head["sex"], *est_cols]),
                            percent=percent, widths={head["indicator"]: 60}))
        rows = [[ind[r["indicator"]], labels["status"].get(s, s), *values(cell)]
                for r in besd["by_status"]["rows"] for s, cell in r["cells"].items()]
        sheets.append(Sheet(name["besd_status"], frame(rows, [head["indicator"], head["status"], *est_cols]),
                            percent=percent, widths={head["indicator"]: 60}))
    rules = context["lqas"]["decision_table"]
    sheets.append(Sheet(name["rules"], frame([[r["n"], *r["d"]] for r in rules["rows"]],
                                             ["n", *[f"{round(100 * t)} %" for t in rules["targets"]]])))
    sheets.append(Sheet(name["remarks"], frame(
        [[r["text"], r["n"], ", ".join(catch.get(c, c) for c in r["catchments"])] for r in quality["remarks"]],
        [head["remark"], head["count"], head["catchments"]]), widths={head["remark"]: 70}))
    return sheets

"""Antigen coverage, dropout, cards and timeliness: coverage by dose (crude, by sex, valid) for each
cohort, crude coverage by unit (catchment area or district), the evidence for each dose (context key
``coverage``), then the panels (fully vaccinated, dropout, cards, timeliness) by unit and sex (key
``panels``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    coverage = context["coverage"]
    out: list[Block] = [Paragraph(spans=spans(w._(
        "Crude coverage counts a dose when the card shows a date or a mark, or the caregiver recalls it; a later "
        "dose of a series implies the earlier ones. Valid coverage counts only doses dated on the card, given at "
        "or after the minimum age and interval.")), style="intro")]
    for table in coverage["by_dose"]:
        out += by_dose(table, w)
    out += [introduced_note(area, w) for area in context["methods"].get("introduced") or []]
    out.append(w.ci_note())
    out += w.figure("coverage_by_dose", w._(
        "Crude and valid coverage by dose, children aged %(cohort)s, with 95%% confidence intervals.",
        cohort=w.cohort(context["oldest_cohort"])))
    out += by_unit(coverage["by_unit"], context["units"]["codes"], w)
    out += sources(coverage["sources"], w)
    for panel in context["panels"]:
        out += panel_tables(panel, w)
    out.append(w.unit_note())
    return out


def dose_label(dose: str, w: Words) -> Cell:
    return w.label(w.name("dose", dose))


def by_dose(table: dict, w: Words) -> list[Block]:
    """Crude coverage (all, girls, boys) and valid coverage of each dose, in one cohort."""
    rows = [Row(cells=[dose_label(row["dose"], w), w.est(row["crude"]["all"]), w.est(row["crude"]["F"]),
                       w.est(row["crude"]["M"]), w.est(row["valid"])]) for row in table["rows"]]
    header = [w.head(w._("Dose"), "left"), w.head(w._("Crude")), w.head(w._("Crude, girls")),
              w.head(w._("Crude, boys")), w.head(w._("Valid"))]
    return [Heading(level=2, text=w._("Coverage by dose, children aged %(cohort)s", cohort=w.cohort(table["cohort"])),
                    anchor=f"coverage-{table['cohort']}"),
            Table(header=header, rows=rows)]


def introduced_note(area: dict, w: Words) -> Paragraph:
    """Doses given only in some areas: their coverage is of the children of those areas."""
    return Paragraph(spans=spans(w._(
        "%(doses)s: children of %(values)s only (%(column)s where the vaccine was introduced).",
        doses=", ".join(area["doses"]), values=", ".join(area["values"]), column=w.name("column", area["column"]))),
        style="note")


# units side by side up to this many (a column each); more units are rows, the doses in columns
UNITS_AS_COLUMNS = 8
DOSES_PER_TABLE = 9


def by_unit(table: dict, units: list[str], w: Words) -> list[Block]:
    """Crude coverage of each dose in each unit and overall (estimates only: CI and n in results.xlsx):
    doses by units for a few units, units by doses (in tables of a few doses) for many."""
    columns = [*units, "all"]
    notes = [Paragraph(spans=spans(w._("Weighted estimates; confidence intervals and n are in results.xlsx.")),
                       style="note")]
    out: list[Block] = [Heading(level=2, text=w._("Crude coverage by %(unit)s, children aged %(cohort)s",
                                                  unit=w.unit_noun, cohort=w.cohort(table["cohort"])),
                                anchor="coverage-catchment")]
    if len(units) <= UNITS_AS_COLUMNS:
        rows = [Row(cells=[dose_label(row["dose"], w),
                           *(w.est(row["cells"][c], show_ci=False, show_n=False) for c in columns)])
                for row in table["rows"]]
        header = [w.head(w._("Dose"), "left"), *(w.head(w.unit(c)) for c in units), w.head(w.labels["sex"]["all"])]
        return [*out, Table(header=header, rows=rows, notes=notes, size="compact",
                            widths=[1.6] + [1.0] * len(columns))]
    doses = table["rows"]
    for start in range(0, len(doses), DOSES_PER_TABLE):
        batch = doses[start:start + DOSES_PER_TABLE]
        rows = [Row(cells=[w.label(w.unit(unit)), *(w.est(dose["cells"][unit], show_ci=False, show_n=False)
                                                   for dose in batch)], total=unit == "all") for unit in columns]
        last = start + DOSES_PER_TABLE >= len(doses)
        out.append(Table(header=[w.head(w.unit_title, "left"), *(w.head(w.name("dose", d["dose"])) for d in batch)],
                         rows=rows, notes=notes if last else [], size="compact",
                         widths=[2.0] + [1.0] * len(batch)))
    return out


def sources(table: dict, w: Words) -> list[Block]:
    """The share of each dose's denominator by the best evidence found."""
    rows = [Row(cells=[dose_label(row["dose"], w), w.value(w.num(row["n"])),
                       *(w.value(w.pct(row["shares"][s])) for s in table["sources"])]) for row in table["rows"]]
    header = [w.head(w._("Dose"), "left"), w.head("n"), *(w.head(w.name("source", s)) for s in table["sources"])]
    note = Paragraph(spans=spans(w._(
        "Weighted percentage of the children in each dose's denominator (children old enough for the dose) by the "
        "best evidence found, in this order: card date, card mark, register, recall, BCG scar, implied by a later "
        "dose of the series; n is the unweighted number of children. Each row adds up to 100%%.")), style="note")
    return [Heading(level=2, text=w._("Evidence for each dose, children aged %(cohort)s",
                                      cohort=w.cohort(table["cohort"])), anchor="coverage-sources"),
            Table(header=header, rows=rows, notes=[note], size="compact",
                  widths=[1.6, 0.7] + [1.0] * len(table["sources"]))]


def uniform_value(panel: dict, key: str) -> float | None:
    """0 or 1 when every estimate of ``key`` in the panel (every unit, girls, boys, all) is that value
    and the survey's has children; else None."""
    cells = [row["cells"][key][s] for row in panel["rows"] for s in ("F", "M", "all")]
    survey = next((row["cells"][key]["all"] for row in panel["rows"] if row["unit"] == "all"), None)
    values = [cell["estimate"] for cell in cells if cell is not None]
    for bound in (0.0, 1.0):  # a weighted mean of ones can miss 1 by a rounding error
        if survey is not None and all(abs(value - bound) < 1e-9 for value in values):
            return bound
    return None


def panel_tables(panel: dict, w: Words) -> list[Block]:
    """A panel's indicators by unit, girls, boys and all: three indicators side by side (nine
    columns, as wide as a page is) under their names."""
    cohort = w._("both cohorts") if panel["cohort"] == "all" else w.cohort(panel["cohort"])
    out: list[Block] = [Heading(level=2, text=w._("%(topic)s by %(unit)s and sex, %(cohort)s",
                                                  topic=w.name("panel", panel["key"]), unit=w.unit_noun,
                                                  cohort=cohort),
                                anchor=f"panel-{panel['key']}")]
    if panel.get("doses"):
        out.append(Paragraph(spans=spans(w._(
            "Fully vaccinated means having received every dose this survey collected of the schedule's full "
            "series: %(doses)s.", doses=", ".join(panel["doses"])))))
    sex = w.labels["sex"]
    # an indicator at 0 % or 100 % in every cell is one sentence, not a table of identical numbers
    uniform = {key: value for key in panel["indicators"] if (value := uniform_value(panel, key)) is not None}
    for key, value in uniform.items():
        out.append(Paragraph(spans=spans(w._(
            "%(indicator)s: %(value)s in every %(unit)s, among girls and among boys (%(n)s children).",
            indicator=w.indicator(key), value=w.pct(value, 0), unit=w.unit_noun,
            n=w.num(next(row["cells"][key]["all"]["n"] for row in panel["rows"] if row["unit"] == "all"))))))
    keys = [key for key in panel["indicators"] if key not in uniform]
    for start in range(0, len(keys), 3):
        batch = keys[start:start + 3]
        rows = [Row(cells=[w.label(w.unit(row["unit"])),
                           *(w.unit_est(row["cells"][key][s]) for key in batch for s in ("F", "M", "all"))],
                    total=row["unit"] == "all") for row in panel["rows"]]
        out.append(Table(header_groups=[w.value("", "left"),
                                        *(Cell(lines=[w.indicator(key)], align="center", strong=True, span=3)
                                          for key in batch)],
                         header=[w.head(w.unit_title, "left"),
                                 *(w.head(sex[s]) for _ in batch for s in ("F", "M", "all"))],
                         rows=rows, size="compact", widths=[1.7] + [1.0] * 3 * len(batch)))
    for left_out, twin in (panel.get("same_as") or {}).items():
        out.append(Paragraph(spans=spans(w._(
            "%(indicator)s is not shown: it equals %(twin)s in every cell.", indicator=w.indicator(left_out),
            twin=w.indicator(twin))), style="note"))
    return out

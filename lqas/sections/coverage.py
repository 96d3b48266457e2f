"""Antigen coverage, dropout, cards and timeliness: coverage by dose (crude, by sex, valid) for each
cohort, crude coverage by catchment area, the evidence for each dose (context key ``coverage``), then
the panels (fully vaccinated, dropout, cards, timeliness) by catchment area and sex (key ``panels``)."""

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
    out += by_catchment(coverage["by_catchment"], context["catchments"], w)
    out += sources(coverage["sources"], w)
    for panel in context["panels"]:
        out += panel_tables(panel, w)
    out.append(w.ci_note())
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
            Table(header=header, rows=rows, notes=w.small_note(table.get("has_small", False)))]


def introduced_note(area: dict, w: Words) -> Paragraph:
    """Doses given only in some areas: their coverage is of the children of those areas."""
    return Paragraph(spans=spans(w._(
        "%(doses)s: children of %(values)s only (%(column)s where the vaccine was introduced).",
        doses=", ".join(area["doses"]), values=", ".join(area["values"]), column=w.name("column", area["column"]))),
        style="note")


def by_catchment(table: dict, catchments: list[str], w: Words) -> list[Block]:
    """Crude coverage of each dose in each catchment area and overall (estimates only: CI and n in results.xlsx)."""
    columns = [*catchments, "all"]
    rows = [Row(cells=[dose_label(row["dose"], w),
                       *(w.est(row["cells"][c], show_ci=False, show_n=False) for c in columns)])
            for row in table["rows"]]
    header = [w.head(w._("Dose"), "left"), *(w.head(w.catchment(c)) for c in catchments),
              w.head(w.labels["sex"]["all"])]
    notes = [Paragraph(spans=spans(w._("Weighted estimates; confidence intervals and n are in results.xlsx.")),
                       style="note"), *w.small_note(table.get("has_small", False))]
    return [Heading(level=2, text=w._("Crude coverage by catchment area, children aged %(cohort)s",
                                      cohort=w.cohort(table["cohort"])), anchor="coverage-catchment"),
            Table(header=header, rows=rows, notes=notes, size="compact", widths=[1.6] + [1.0] * len(columns))]


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


def panel_tables(panel: dict, w: Words) -> list[Block]:
    """A panel's indicators by catchment area, girls, boys and all: three indicators side by side (nine
    columns, as wide as a page is) under their names; the small-cell note after the last table."""
    cohort = w._("both cohorts") if panel["cohort"] == "all" else w.cohort(panel["cohort"])
    out: list[Block] = [Heading(level=2, text=w._("%(topic)s by catchment area and sex, %(cohort)s",
                                                  topic=w.name("panel", panel["key"]), cohort=cohort),
                                anchor=f"panel-{panel['key']}")]
    sex = w.labels["sex"]
    keys = panel["indicators"]
    for start in range(0, len(keys), 3):
        batch = keys[start:start + 3]
        rows = [Row(cells=[w.label(w.catchment(row["catchment"])),
                           *(w.est(row["cells"][key][s]) for key in batch for s in ("F", "M", "all"))],
                    total=row["catchment"] == "all") for row in panel["rows"]]
        last = start + 3 >= len(keys)
        out.append(Table(header_groups=[w.value("", "left"),
                                        *(Cell(lines=[w.indicator(key)], align="center", strong=True, span=3)
                                          for key in batch)],
                         header=[w.head(w._("Catchment area"), "left"),
                                 *(w.head(sex[s]) for _ in batch for s in ("F", "M", "all"))],
                         rows=rows, size="compact", widths=[1.7] + [1.0] * 3 * len(batch),
                         notes=w.small_note(last and panel.get("has_small", False))))
    return out

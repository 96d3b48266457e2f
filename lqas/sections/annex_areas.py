"""Annex C, catchment areas: a survey with more catchment areas than the body shows gets one compact line
per area here (its district, children, zero-dose, UI and Penta 3, and the class of each of its lots), up
to ``[report] annex_areas`` lines (context key ``areas``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Paragraph, Row, Table, spans
from lqas.sections.words import DASH, SYMBOLS, Words


def class_cell(klass: str | None, w: Words) -> Cell:
    """A lot's class as its symbol alone (the legend says which is which)."""
    if klass not in SYMBOLS:
        return Cell(lines=[DASH if klass is None else w.name("klass", klass)], align="center", tone="na")
    return Cell(lines=[], symbol=SYMBOLS[klass], align="center", tone=klass)


def areas_table(areas: dict[str, Any], w: Words) -> Table:
    parent = areas["parent"]
    lots = [(column["indicator"], cohort) for column in areas["lots"] for cohort in column["cohorts"]]
    labels = [w.head(w.name("header", parent), "left")] if parent else []
    header = [*labels, w.head(w.name("header", "catchment"), "left"), w.head("n"),
              *(w.head(w.indicator(key)) for key in areas["indicators"]),
              *(w.head(w.cohort(cohort), "center") for _, cohort in lots)]
    groups = [Cell(lines=[""], span=len(labels) + 2 + len(areas["indicators"]))] if lots else []
    groups += [Cell(lines=[w.indicator(column["indicator"])], align="center", strong=True, span=len(column["cohorts"]))
               for column in areas["lots"] if column["cohorts"]]
    rows = [Row(cells=[*([w.label(w.name(parent, row["parent"] or ""))] if parent else []),
                       w.label(w.catchment(row["unit"])), w.value(w.num(row["n"])),
                       *(w.est(row["cells"][key], show_ci=False, show_n=False) for key in areas["indicators"]),
                       *(class_cell(klass, w) for klass in row["classes"])]) for row in areas["rows"]]
    return Table(header_groups=groups, header=header, rows=rows, size="compact",
                 widths=[*([1.6] if parent else []), 1.8, 0.7, *(1.0 for _ in areas["indicators"]),
                         *(0.8 for _ in lots)])


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    areas = context["areas"]
    klass = w.labels["klass"]
    intro = w._("Each catchment area: its children analysed (n), its weighted zero-dose, under-immunized and "
                "Penta 3 estimates (all cohorts together), and the LQAS class of each of its lots.")
    if areas["capped"]:
        intro += " " + w._("Shown: the %(shown)s catchment areas of the %(total)s with the highest zero-dose "
                           "prevalence; every catchment area is in results.xlsx and estimates.csv.",
                           shown=w.num(areas["shown"]), total=w.num(areas["total"]))
    legend = (f"{SYMBOLS['pass']} {klass['pass']} · {SYMBOLS['fail']} {klass['fail']} · {DASH}: "
              + w._("not classified"))
    return [Paragraph(spans=spans(intro), style="intro"),
            Paragraph(spans=spans(legend), style="legend"),
            areas_table(areas, w),
            Paragraph(spans=spans(w._("Weighted estimates; confidence intervals and n are in results.xlsx.")),
                      style="note")]

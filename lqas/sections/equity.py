"""Gender and equity scorecard: for each catchment area, the girls − boys gaps and the mothers'
autonomy measures, each with a traffic light, then the rules of the lights (context key ``scorecard``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, ListBlock, Paragraph, Row, Table, spans
from lqas.sections.words import DASH, Words

# a traffic light -> its dots and the tone of its cell
DOTS = {"red": "●●●", "amber": "●●○", "green": "●○○", "grey": "○○○"}
TONES = {"red": "bad", "amber": "warn", "green": "good", "grey": "neutral"}


def difference_cell(row: dict[str, Any], w: Words) -> Cell:
    """Girls minus boys in percentage points, its 95 % CI below."""
    if row["difference"] is None:
        return w.value(DASH)
    lines = [f"{w.num(100 * row['difference'], 1)} {w._('pts')}"]
    if row["difference_ci_low"] is not None:
        lines.append(f"{w.num(100 * row['difference_ci_low'], 1)} ; {w.num(100 * row['difference_ci_high'], 1)}")
    return Cell(lines=lines)


def measure_cells(row: dict[str, Any], w: Words) -> list[Cell]:
    """Girls, boys, the difference or level, and p: a gap between the sexes, or one level for all."""
    if row["kind"] == "sex_gap":
        return [w.value(w.pct(row["estimate_a"])), w.value(w.pct(row["estimate_b"])), difference_cell(row, w),
                w.value(DASH if row["p_value"] is None else w.num(row["p_value"], 3))]
    level = Cell(lines=[w.pct(row["estimate"]), f"{w.pct(row['ci_low'])}–{w.pct(row['ci_high'])}"])
    return [w.value(DASH), w.value(DASH), level, w.value(DASH)]


def light_cell(row: dict[str, Any]) -> Cell:
    """The traffic light: its dots and its name, on its colour (red in bold)."""
    return Cell(lines=[row["light_label"]], symbol=DOTS[row["light"]], align="left", tone=TONES[row["light"]],
                strong=row["light"] == "red")


def scorecard_table(scorecard: dict[str, Any], w: Words) -> Table:
    """One group of rows per catchment area (then all), a row per measure."""
    rows: list[Row] = []
    for unit in scorecard["blocks"]:
        rows.append(w.group_row(unit["label"], 6))
        rows += [Row(cells=[w.label(row["label"]), *measure_cells(row, w), light_cell(row)]) for row in unit["rows"]]
    return Table(header=[w.head(w._("Measure"), "left"), w.head(w._("Girls")), w.head(w._("Boys")),
                         w.head(w._("Difference or level")), w.head("p"), w.head(w._("Light"), "left")],
                 rows=rows, widths=[3.6, 1.0, 1.0, 1.3, 0.8, 1.5], size="compact")


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    scorecard = context["scorecard"]
    return [
        Paragraph(spans=spans(w._(
            "For each catchment area: the gap between girls and boys in Penta1, Penta3, MR1, zero-dose and "
            "under-immunization (girls minus boys, in percentage points, with its 95%% confidence interval and the "
            "design-based Rao–Scott test), and the share of caregivers reporting that the mother needs permission, "
            "that the mother decides on vaccination, and at least one gender-related barrier. Each row gets a "
            "traffic light by the rules stated below the table. The gaps pool both cohorts (all the children "
            "surveyed), except MR1, which is read in the older cohort only.")), style="intro"),
        scorecard_table(scorecard, w),
        *[Paragraph(spans=spans(w._(
            "“%(row)s” mirrors “%(of)s” (a child without Penta1 is a zero-dose child): the two rows are one signal, "
            "counted once.", row=mirror["row"], of=mirror["of"])), style="note") for mirror in scorecard.get("mirrors", [])],
        *([Paragraph(spans=spans(w._(
            "Shown for the whole survey: the scorecard of each of the %(areas)s catchment areas is in scorecard.csv "
            "and results.xlsx.", areas=w.num(scorecard["omitted"]))), style="note")] if scorecard.get("omitted") else []),
        Heading(level=2, text=w._("Traffic-light rules"), anchor="equity-rules"),
        ListBlock(items=[spans(rule["text"]) for rule in scorecard["rules"]], style="rules"),
        Paragraph(spans=spans(w._(
            "Differences are girls minus boys; the confidence interval and the test account for strata, clusters "
            "and weights, and for girls and boys sharing clusters. The thresholds are project choices to be "
            "confirmed with the national immunization programme.")), style="note"),
    ]

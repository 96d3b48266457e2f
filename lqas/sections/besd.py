"""Behavioural and social drivers of vaccination (BeSD): the priority indicators by catchment area and
sex of the child, then every driver by the child's vaccination status (context key ``besd``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def priority_table(besd: dict[str, Any], w: Words) -> Table:
    """The five priority indicators, each a group of rows: catchment areas, then all, by sex."""
    sex = w.labels["sex"]
    rows: list[Row] = []
    for key in besd["priority"]:
        rows.append(w.group_row(w.indicator(key), 4))
        rows += [Row(cells=[w.label(w.unit(row["unit"])), w.unit_est(row["F"]), w.unit_est(row["M"]),
                            w.unit_est(row["all"])], total=row["unit"] == "all")
                 for row in besd["sex_tables"][key]["rows"]]
    return Table(header=[w.head(w.unit_title, "left"), w.head(sex["F"]), w.head(sex["M"]),
                         w.head(sex["all"])],
                 rows=rows, widths=[3.0, 1.0, 1.0, 1.0], size="compact", notes=[w.unit_note()])


def status_table(by_status: dict[str, Any], w: Words) -> Table:
    """Every driver (rows) among caregivers of zero-dose, under-immunized and Penta3 children, and all."""
    statuses = [*by_status["statuses"], "all"]
    note = w._("Vaccination status of the child: zero-dose (no Penta1), under-immunized (Penta1 but no Penta3), "
               "Penta3 (received Penta3). Each group is a domain of the full design.")
    return Table(header=[w.head(w._("Indicator"), "left"), *(w.head(w.name("status", s)) for s in statuses)],
                 rows=[Row(cells=[w.label(w.indicator(row["indicator"])), *(w.est(row["cells"][s]) for s in statuses)])
                       for row in by_status["rows"]],
                 widths=[3.4, *(1.0 for _ in statuses)], size="compact",
                 notes=[Paragraph(spans=spans(note), style="note")])


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    besd = context["besd"]
    return [
        Paragraph(spans=spans(w._(
            "The WHO behavioural and social drivers (BeSD) questions were asked of the caregiver of each sampled "
            "child. The five priority indicators are shown by %(unit)s and by the sex of the child, then every driver "
            "among caregivers of zero-dose, under-immunized and Penta3-vaccinated children.", unit=w.unit_noun)),
            style="intro"),
        Heading(level=2, text=w._("Priority indicators by %(unit)s and sex of the child", unit=w.unit_noun),
                anchor="besd-priority"),
        priority_table(besd, w),
        Heading(level=2, text=w._("Drivers among caregivers of zero-dose, under-immunized and vaccinated children"),
                anchor="besd-status"),
        *w.figure("besd_by_status", w._("BeSD priority indicators by the child's vaccination status, with 95%% "
                                        "confidence intervals.")),
        status_table(besd["by_status"], w),
    ]

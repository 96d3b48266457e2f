"""Zero-dose and under-immunized children: the chart by unit (catchment area or district) and cohort, a
girls / boys / all table per indicator (context key ``sex_tables``), then the chart by sex."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Heading, Paragraph, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    out: list[Block] = [Paragraph(spans=spans(w._(
        "Zero-dose children have received no dose of Penta (DTP-containing vaccine); under-immunized children "
        "received Penta1 but not Penta3. Lower is better for both. Estimates are weighted and take the cluster "
        "design into account.")), style="intro")]
    out += w.figure("zero_dose_ui_by_catchment", w._(
        "Zero-dose and under-immunized prevalence by %(unit)s and cohort, with 95%% confidence intervals.",
        unit=w.unit_noun))
    for indicator, table in context["sex_tables"].items():
        out.append(Heading(level=2, text=w._("%(indicator)s: girls and boys", indicator=w.indicator(indicator)),
                           anchor=f"sex-{indicator}"))
        out.append(w.sex_table([w._("Cohort"), w.unit_title],
                             [([w.cohort(row["cohort"]), w.unit(row["unit"])], row,
                               row["unit"] == "all") for row in table["rows"]]))
    out.append(w.unit_note())
    out += w.figure("zero_dose_ui_by_sex", w._(
        "Zero-dose and under-immunized prevalence of girls and boys by %(unit)s, with 95%% confidence intervals.",
        unit=w.unit_noun))
    return out


"""By district and by population group: a table per level above the lots (units x indicators), then
zero-dose and Penta 3 by each stratifier, girls, boys and all (context key ``groups``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    groups = context["groups"]
    sex = w.labels["sex"]
    out: list[Block] = [Paragraph(spans=spans(w._(
        "The survey by district and by population group. All cohorts are taken together; each estimate is "
        "weighted and takes the cluster design into account, and every group is estimated within the whole "
        "sample.")), style="intro")]
    for table in groups["levels"]:
        out.append(Heading(level=2, text=w._("By %(level)s", level=table["title"].lower()),
                           anchor=f"level-{table['column']}"))
        rows = [Row(cells=[w.label(sex["all"] if row["unit"] == "all" else row["name"]),
                           *(w.est(row["cells"][indicator]) for indicator in table["indicators"])],
                    total=row["unit"] == "all") for row in table["rows"]]
        out.append(Table(header=[w.head(table["title"], "left"), *(w.head(w.indicator(i)) for i in table["indicators"])],
                         rows=rows))
    for stratifier in groups["stratifiers"]:
        out.append(Heading(level=2, text=w._("By %(group)s", group=stratifier["title"].lower()),
                           anchor=f"group-{stratifier['column']}"))
        for table in stratifier["tables"]:
            rows = [Row(cells=[w.label(sex["all"] if row["group"] == "all" else row["name"]),
                               w.est(row["F"]), w.est(row["M"]), w.est(row["all"])],
                        total=row["group"] == "all") for row in table["rows"]]
            out.append(Table(caption=w.indicator(table["indicator"]),
                             header=[w.head(stratifier["title"], "left"), w.head(sex["F"]), w.head(sex["M"]),
                                     w.head(sex["all"])],
                             rows=rows))
    out.append(w.ci_note())
    return out

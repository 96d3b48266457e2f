"""Annex A, data quality: the records excluded by reason, the fields repaired by rule, and the
interviewers' remarks as reviewed before publication (context key ``quality``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def count_table(w: Words, counts: list[dict[str, Any]], key: str, names: str, heads: tuple[str, str],
                empty: str, total: tuple[str, int]) -> Table:
    """Records or fields by code (its name, the code, how many), or a line saying there are none; then
    the total."""
    rows = [Row(cells=[w.label(w.name(names, row[key])), Cell(lines=[row[key]], align="left", tone="small"),
                       w.value(w.num(row["n"]))]) for row in counts]
    if not rows:
        rows = [Row(cells=[w.label(empty), Cell(lines=[]), Cell(lines=[])])]
    rows.append(Row(cells=[w.label(total[0]), Cell(lines=[]), w.value(w.num(total[1]))], total=True))
    return Table(header=[w.head(heads[0], "left"), w.head(w._("Code"), "left"), w.head(heads[1])], rows=rows,
                 widths=[3.0, 2.2, 1.0], size="compact")


def remarks_blocks(quality: dict[str, Any], w: Words) -> list[Block]:
    """The reviewed remarks (each once, how many records, where), or why none is shown."""
    if quality["remarks"]:
        rows = [Row(cells=[w.label(r["text"]), w.value(w.num(r["n"])),
                           w.label(", ".join(w.catchment(c) for c in r["catchments"]))])
                for r in quality["remarks"]]
        return [Paragraph(spans=spans(w._(
                    "Free-text remarks of the interviewers, as reviewed before publication (each distinct remark "
                    "once, with how many records carry it)."))),
                Table(header=[w.head(w._("Remark"), "left"), w.head(w._("Records")),
                              w.head(w._("Catchment areas"), "left")],
                      rows=rows, widths=[4.0, 1.3, 2.2], size="compact")]
    if quality["remarks_recorded"] and not quality["remarks_reviewed"]:
        text = w._("%(n)s records carry an interviewer remark. Remarks are free text that can name people, so none "
                   "is published until a person has reviewed them (lqas remarks, then [report] reviewed_remarks in "
                   "survey.toml).", n=w.num(quality["remarks_recorded"]))
    elif quality["remarks_reviewed"]:
        text = w._("No remark was kept after review.")
    else:
        text = w._("No interviewer remark was recorded.")
    return [Paragraph(spans=spans(text))]


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    quality = context["quality"]
    return [
        Paragraph(spans=spans(w._(
            "Every record of the data file is either analysed or excluded with a reason (exclusions.csv); fields "
            "corrected by a documented rule are listed in repairs.csv.")), style="intro"),
        Heading(level=2, text=w._("Exclusions by reason"), anchor="quality-exclusions"),
        count_table(w, quality["exclusions_by_reason"], "reason", "reason",
                    (w._("Reason for exclusion"), w._("Records")), w._("No record was excluded."),
                    (w._("Total excluded"), quality["excluded"])),
        Paragraph(spans=spans(w._(
            "Records read: %(read)s = children analysed %(kept)s + records excluded %(excluded)s.",
            read=w.num(quality["rows_read"]), kept=w.num(quality["kept"]), excluded=w.num(quality["excluded"]))),
            style="note"),
        Heading(level=2, text=w._("Repairs by rule"), anchor="quality-repairs"),
        count_table(w, quality["repairs_by_rule"], "rule", "repair", (w._("Rule"), w._("Fields")),
                    w._("No field was repaired."), (w._("Total repaired fields"), quality["repairs"])),
        Paragraph(spans=spans(w._(
            "A vaccination date that cannot be used (incomplete, impossible, outside the child's life or out of "
            "order in a series) is kept as a mark on the card: the dose counts for crude coverage but not as "
            "valid.")), style="note"),
        Heading(level=2, text=w._("Interviewer remarks"), anchor="quality-remarks"),
        *remarks_blocks(quality, w),
    ]

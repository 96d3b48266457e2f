"""Annex, coverage by cluster: the organ-pipe plots of one indicator (VCQI ``Plots_OP``), so that a
supervisor sees which clusters of an area pull its coverage down (context key ``clusters``, made by
:func:`lqas.clusters.organ_pipe_context`)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Figure, Paragraph, Row, Table, spans
from lqas.sections.words import DASH, Words


def intro(clusters: dict[str, Any], w: Words) -> str:
    """What an organ-pipe plot shows, in the words of this survey's indicator and cohort."""
    values = {"indicator": w.indicator(clusters["indicator"]), "cohort": w.cohort(clusters["cohort"] or "")}
    text = (w._("In an organ-pipe plot, each bar is a cluster: its width is the cluster's share of the area's "
                "children (weighted), its height the cluster's coverage of %(indicator)s among children aged "
                "%(cohort)s. The bars run from the highest coverage to the lowest; the dashed line is the area's "
                "coverage.", **values) if clusters["cohort"] else
            w._("In an organ-pipe plot, each bar is a cluster: its width is the cluster's share of the area's "
                "children (weighted), its height the cluster's coverage of %(indicator)s. The bars run from the "
                "highest coverage to the lowest; the dashed line is the area's coverage.", **values))
    if clusters["target"] is not None:
        text += " " + w._("The dash-dot line is the programme target (%(target)s).",
                          target=w.pct(clusters["target"], 0))
    return text + " " + w._("Clusters far below the others point to places a supervisor should visit first.")


def clusters_table(clusters: dict[str, Any], w: Words) -> Table:
    """One row per area: its clusters, its coverage, the clusters below the target, its lowest cluster."""
    column = clusters.get("column") or "catchment"
    targeted = clusters["target"] is not None
    header = [w.head(w.name("header", column), "left"), w.head(w._("Clusters")), w.head(w._("Area coverage")),
              *([w.head(w._("Clusters below the target"))] if targeted else []), w.head(w._("Lowest cluster"))]
    rows = []
    for area in clusters["areas"]:
        name = w.labels.get(column, {}).get(area["unit"]) or area["name"]  # the labels follow --lang
        below = area["below_target"]
        rows.append(Row(cells=[w.label(name), w.value(w.num(area["clusters"])), w.value(w.pct(area["coverage"])),
                               *([w.value(DASH if below is None else w.num(below))] if targeted else []),
                               w.value(w.pct(area["lowest"]))]))
    empty = sum(area["empty"] for area in clusters["areas"])
    notes = [Paragraph(spans=spans(w.ngettext(
        "%(num)s cluster has no child in the denominator; it is not drawn.",
        "%(num)s clusters have no child in the denominator; they are not drawn.", empty)),
        style="note")] if empty else []
    return Table(caption=w._("Clusters of each area and their coverage"), header=header, rows=rows, notes=notes,
                 size="compact", widths=[1.8, 0.8, 1.0, *([1.0] if targeted else []), 1.0])


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    clusters = context["clusters"]
    indicator = w.indicator(clusters["indicator"])
    charts = clusters["charts"]
    if clusters["cohort"]:
        caption = w._("Coverage of %(indicator)s by cluster, children aged %(cohort)s", indicator=indicator,
                      cohort=w.cohort(clusters["cohort"]))
    else:
        caption = w._("Coverage of %(indicator)s by cluster", indicator=indicator)
    figures = [Figure(chart=chart, caption=caption if len(charts) == 1 else
                      w._("%(caption)s (%(part)s of %(parts)s)", caption=caption, part=w.num(number),
                          parts=w.num(len(charts))))
               for number, chart in enumerate(charts, start=1)]
    return [Paragraph(spans=spans(intro(clusters, w)), style="intro"), clusters_table(clusters, w), *figures]

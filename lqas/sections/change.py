"""Change between rounds (``[rounds]``): the survey's change of its headline indicators since the
previous round, each unit's, the change of the girls − boys gap, and the intervention arm's
difference in differences (context key ``rounds``, :func:`lqas.context.rounds_context`)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    rounds = context["rounds"]
    design = (w._("The follow-up revisited the same clusters: the two rounds share their clusters, and the "
                  "change's confidence interval takes their correlation into account.") if rounds["revisited"] else
              w._("Each round drew its own clusters: the change's variance is the sum of the two rounds' variances."))
    out: list[Block] = [Paragraph(spans=spans(w._(
        "Change from %(first)s to %(second)s, estimated on one design holding both surveys: each estimate is "
        "weighted in its own round; a change is the later estimate minus the earlier, in percentage points, with "
        "its 95%% confidence interval and the p-value of the design-based (Rao–Scott) test that the proportion "
        "did not change.", first=rounds["from"], second=rounds["to"]) + " " + design), style="intro")]
    if rounds["national"]:
        out += [Heading(level=2, text=w._("Change in the survey area"), anchor="change-national"),
                national_table(rounds, w)]
    if rounds["by_unit"]:
        out += [Heading(level=2, text=w._("Change by %(unit)s", unit=w.unit_noun), anchor="change-units"),
                *w.figure("change_by_unit", w._("Each %(unit)s in %(first)s (open circle) and %(second)s (arrow "
                                                "head), both cohorts together.", unit=w.unit_noun,
                                                first=rounds["from"], second=rounds["to"])),
                unit_table(rounds, w)]
    if rounds.get("transitions"):
        out += [Heading(level=2, text=w._("LQAS classes in both rounds"), anchor="change-lqas"),
                transitions_table(rounds, w)]
    if rounds["gaps"]:
        out += [Heading(level=2, text=w._("Change of the gap between girls and boys"), anchor="change-gaps"),
                *w.figure("trend_by_sex", w._(
                    "Girls and boys in %(first)s and %(second)s, both cohorts together: each estimate with its "
                    "95%% confidence interval, in its own round.", first=rounds["from"], second=rounds["to"])),
                gap_table(rounds, w)]
    if rounds["arms"]:
        out += [Heading(level=2, text=w._("%(arm)s areas against the others", arm=rounds["intervention"]),
                        anchor="change-arms"),
                Paragraph(spans=spans(w._(
                    "The difference in differences is the change in the %(arm)s areas less the change in the other "
                    "areas: the part of the change the comparison areas did not have; it is causal only as far as "
                    "both sets of areas would otherwise have changed alike.", arm=rounds["intervention"]) + " "
                    + exposure(rounds, w))),
                arm_table(rounds, w)]
    return out


def exposure(rounds: dict[str, Any], w: Words) -> str:
    """Which children of the intervention's areas count as exposed."""
    first = rounds["arms"][0]
    if first.get("exposure") == "penta1_due_after_start":
        return w.ngettext(
            "A child of a %(arm)s area counts as exposed when its first Penta was due (at 6 weeks of age) after "
            "%(arm)s started there; %(num)s child of the later round, due before, is left out.",
            "A child of a %(arm)s area counts as exposed when its first Penta was due (at 6 weeks of age) after "
            "%(arm)s started there; %(num)s children of the later round, due before, are left out.",
            first["not_exposed"], arm=rounds["intervention"])
    return w._("Every child of a %(arm)s area counts as exposed.", arm=rounds["intervention"])


def change_cell(cell: dict[str, Any], w: Words, *, strong: bool) -> Cell:
    """A change in points, its interval on the line under it; bold when it is significant."""
    return Cell(lines=[w.pp(cell["estimate"]), w._("%(low)s to %(high)s", low=w.pp(cell["ci_low"]),
                                                   high=w.pp(cell["ci_high"]))], strong=strong)


def significant(p: float | None) -> bool:
    """A change whose Rao–Scott p is below 0.05 (none without variance: identical rounds)."""
    return p is not None and p < 0.05


def excludes_zero(cell: dict[str, Any]) -> bool:
    """An interval that lies on one side of 0 (none without one)."""
    low, high = cell["ci_low"], cell["ci_high"]
    return low is not None and high is not None and not low <= 0 <= high


def estimate_cell(estimate: float, n: int, w: Words) -> Cell:
    return Cell(lines=[w.pct(estimate), f"n = {w.num(n)}"])


def national_table(rounds: dict[str, Any], w: Words) -> Table:
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Cohort"), "left"), w.head(rounds["from"]),
              w.head(rounds["to"]), w.head(w._("Change (points, 95%% CI)")), w.head("p"),
              w.head(w._("Detectable change"))]
    rows = [Row(cells=[w.label(w.indicator(r["indicator"])),
                       w.label(w._("both cohorts") if r["cohort"] == "all" else w.cohort(r["cohort"])),
                       estimate_cell(r["estimate_a"], r["n_a"], w), estimate_cell(r["estimate_b"], r["n_b"], w),
                       change_cell(r["change"], w, strong=significant(r["p_value"])),
                       w.value(w.num(r["p_value"], 3)), w.value(w.pp(r["mdd"]))])
            for r in rounds["national"]]
    notes = [Paragraph(spans=spans(w._(
        "Detectable change: the smallest change this pair of surveys would detect with 80%% power at the 5%% level, "
        "given the observed design effects; a smaller true change may go unseen.")), style="note")]
    return Table(header=header, rows=rows, notes=notes, size="compact", widths=[2.4, 1.4, 1, 1, 1.3, 0.7, 1])


def unit_table(rounds: dict[str, Any], w: Words) -> Table:
    header = [w.head(w.unit_title, "left"), w.head(w._("Indicator"), "left"), w.head(rounds["from"]),
              w.head(rounds["to"]), w.head(w._("Change (points, 95%% CI)")), w.head("p")]
    rows = [Row(cells=[w.label(w.unit(r["unit"])), w.label(w.indicator(r["indicator"])),
                       w.value(w.pct(r["estimate_a"])), w.value(w.pct(r["estimate_b"])),
                       change_cell(r["change"], w, strong=significant(r["p_value"])),
                       w.value(w.num(r["p_value"], 3))])
            for r in rounds["by_unit"]]
    return Table(header=header, rows=rows, size="compact", widths=[1.8, 2.2, 1, 1, 1.3, 0.7])


def transitions_table(rounds: dict[str, Any], w: Words) -> Table:
    """Per indicator, the lots classified in both rounds by how their class moved; the lots that became
    ones to improve are named."""
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Lots")), w.head(w._("To improve → acceptable")),
              w.head(w._("Acceptable → to improve")), w.head(w._("Acceptable in both")),
              w.head(w._("To improve in both")), w.head(w._("Became to improve"), "left")]
    rows = [Row(cells=[w.label(w.indicator(r["indicator"])), w.value(w.num(r["lots"])),
                       w.value(w.num(r["improved"]), tone="good" if r["improved"] else "plain"),
                       w.value(w.num(r["worsened"]), tone="bad" if r["worsened"] else "plain"),
                       w.value(w.num(r["stayed_acceptable"])), w.value(w.num(r["stayed_to_improve"])),
                       w.value(", ".join(f"{w.catchment(lot['catchment'])} ({w.cohort(lot['cohort'])})"
                                         for lot in r["worsened_lots"]) or "–", "left")])
            for r in rounds["transitions"]]
    notes = [w._("Each lot (catchment area and cohort) classified in both rounds, both judged by this round's "
                 "target: the earlier round's decision rule is recomputed for its own sample size; every lot is in "
                 "lqas_transitions.csv.")]
    for r in rounds["transitions"]:
        if r["target_changed"]:
            notes.append(w.ngettext(
                "%(indicator)s: the target moved from %(before)s to %(now)s; at the new target, %(num)s lot of "
                "%(round)s is classed otherwise than that round reported.",
                "%(indicator)s: the target moved from %(before)s to %(now)s; at the new target, %(num)s lots of "
                "%(round)s are classed otherwise than that round reported.",
                r["reclassified"], indicator=w.indicator(r["indicator"]), before=w.pct(r["good_before"]),
                now=w.pct(r["good_now"]), round=rounds["from"]))
    return Table(header=header, rows=rows, size="compact", widths=[2.2, 0.6, 1, 1, 1, 1, 2.6],
                 notes=[Paragraph(spans=spans(" ".join(notes)), style="note")])


def gap_table(rounds: dict[str, Any], w: Words) -> Table:
    """Girls − boys in each round and the change of that gap."""
    return contrast_table(rounds["gaps"], ("gap_a", "gap_b", "change"), [
        w._("Girls − boys, %(round)s", round=rounds["from"]), w._("Girls − boys, %(round)s", round=rounds["to"]),
        w._("Change of the gap (points, 95%% CI)")], w)


def arm_table(rounds: dict[str, Any], w: Words) -> Table:
    """Each arm's change and their difference (the difference in differences)."""
    return contrast_table(rounds["arms"], ("change_a", "change_b", "did"), [
        w._("Change, %(arm)s areas", arm=rounds["intervention"]), w._("Change, other areas"),
        w._("Difference in differences (points, 95%% CI)")], w)


def contrast_table(records: list[dict[str, Any]], keys: tuple[str, str, str], heads: list[str], w: Words) -> Table:
    """Indicator and cohort, two differences in points, then their contrast with its interval (bold
    when the interval leaves out 0)."""
    first, second, contrast = keys
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Cohort"), "left"), *(w.head(h) for h in heads)]
    rows = [Row(cells=[w.label(w.indicator(r["indicator"])),
                       w.label(w._("both cohorts") if r["cohort"] == "all" else w.cohort(r["cohort"])),
                       w.value(w.pp(r[first])), w.value(w.pp(r[second])),
                       change_cell(r[contrast], w, strong=excludes_zero(r[contrast]))])
            for r in records]
    return Table(header=header, rows=rows, size="compact", widths=[2.4, 1.4, 1.2, 1.2, 1.6])

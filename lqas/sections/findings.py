"""Key findings: one sentence per item of the context's ``findings`` (``lqas.report.key_findings``),
grouped by theme; a sex gap lists the lots where girls fare worse than boys under its sentence."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Heading, ListBlock, Paragraph, Span, spans
from lqas.sections.words import Words

# (anchor, heading msgid, kinds of findings under it), in the report's order
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("findings-zd-ui", "Zero-dose and under-immunized children", ("prevalence", "highest")),
    ("findings-targets", "LQAS targets", ("target",)),
    ("findings-sex", "Girls and boys", ("sex_gap",)),
    ("findings-coverage", "Coverage and dropout", ("coverage",)),
    ("findings-besd", "Behavioural and social drivers", ("besd_lowest", "besd_status")),
)

# an item of a list: its text, then the texts of its sub-list
Item = tuple[list[Span], list[list[Span]]]


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    out: list[Block] = [Paragraph(spans=spans(w._(
        "These statements are generated from the estimates and the LQAS classification of this survey. "
        "Estimates from fewer than %(n)s children are not used here.", n=context["small_cell_n"])), style="intro")]
    for anchor, heading, kinds in GROUPS:
        items = [finding_item(f, w) for f in context["findings"] if f["kind"] in kinds]
        if items:
            out.append(Heading(level=2, text=w._(heading), anchor=anchor))
            out += finding_lists(items)
    if context.get("sex_comparisons") is None:
        out.append(Paragraph(spans=spans(w._(
            "Girls and boys are compared by their point estimates; overlapping 95%% confidence intervals mean the "
            "difference may be due to sampling, but non-overlap is not a formal test.")), style="note"))
    return out


def finding_lists(items: list[Item]) -> list[ListBlock]:
    """The items as lists, one closed after each item with a sub-list (so that a sub-list stays next to
    its item); the formats show consecutive lists as one."""
    out, pending = [], []
    for item in items:
        pending.append(item)
        if item[1]:
            out.append(ListBlock(items=[text for text, _ in pending], sub_items=[subs for _, subs in pending],
                                 style="findings"))
            pending = []
    if pending:
        out.append(ListBlock(items=[text for text, _ in pending], style="findings"))
    return out


def finding_item(f: dict[str, Any], w: Words) -> Item:
    """The sentence of one finding (and, for a sex gap, the lots under it)."""
    if f["kind"] == "sex_gap":
        return sex_gap_item(f, w)
    return spans(finding_sentence(f, w)), []


def ci(cell: dict[str, Any], w: Words) -> dict[str, str]:
    """An estimate and its 95 % CI, as the sentences' ``est``, ``low`` and ``high``."""
    return {"est": w.pct(cell["estimate"]), "low": w.pct(cell["ci_low"]), "high": w.pct(cell["ci_high"])}


def finding_sentence(f: dict[str, Any], w: Words) -> str:
    """The sentence of a finding of any kind but ``sex_gap``."""
    kind, name = f["kind"], w.indicator(f["indicator"])
    if kind == "prevalence" and f["indicator"] == "zero_dose":
        return w._("Zero-dose: %(est)s of children aged %(cohort)s have received no Penta1 (95%% CI %(low)s–%(high)s; "
                   "%(n)s children).", cohort=w.cohort(f["cohort"]), n=w.num(f["n"]), **ci(f, w))
    if kind == "prevalence":
        return w._("Under-immunized: %(est)s of children aged %(cohort)s received Penta1 but not Penta3 (95%% CI "
                   "%(low)s–%(high)s; %(n)s children).", cohort=w.cohort(f["cohort"]), n=w.num(f["n"]), **ci(f, w))
    if kind == "target":
        return target_sentence(f, w)
    if kind == "highest":
        return w._("Highest zero-dose prevalence among children aged %(cohort)s: %(catchment)s, %(est)s (95%% CI "
                   "%(low)s–%(high)s).", cohort=w.cohort(f["cohort"]), catchment=w.catchment(f["catchment"]),
                   **ci(f, w))
    if kind == "coverage":
        cells = f["cells"]
        return w._("%(indicator)s, children aged %(cohort)s: %(all)s (girls %(girls)s, boys %(boys)s).",
                   indicator=name, cohort=w.cohort(f["cohort"]), all=w.pct(cells["all"]["estimate"]),
                   girls=w.pct(cells["F"]["estimate"] if cells.get("F") else None),
                   boys=w.pct(cells["M"]["estimate"] if cells.get("M") else None))
    if kind == "besd_lowest":
        return w._("Lowest of the BeSD priority indicators: “%(indicator)s”, %(est)s (95%% CI %(low)s–%(high)s).",
                   indicator=name, **ci(f, w))
    if kind == "besd_status":
        return w._("“%(indicator)s”: %(zd)s among caregivers of zero-dose children, against %(other)s among "
                   "caregivers of children who received Penta3.", indicator=name,
                   zd=w.pct(f["zero_dose"]["estimate"]), other=w.pct(f["vaccinated"]["estimate"]))
    raise ValueError(f"unknown kind of finding: {kind}")


def target_sentence(f: dict[str, Any], w: Words) -> str:
    """The catchment areas of a cohort whose lot is to improve for an LQAS target (or that none is): an
    acceptable lot is not said to reach the target, which its sample does not show."""
    good = w.pct(f["good"], 0)
    bound = w._("at most %(value)s", value=good) if f["lower_is_better"] else w._("at least %(value)s", value=good)
    values = {"indicator": w.indicator(f["indicator"]), "cohort": w.cohort(f["cohort"]), "m": w.num(f["classified"]),
              "bound": bound}
    if not f["failing"]:
        return w._("%(indicator)s, children aged %(cohort)s: the lots of all %(m)s catchment areas are acceptable "
                   "(LQAS target %(bound)s).", **values)
    return w.ngettext(
        "%(indicator)s, children aged %(cohort)s: the lot of %(num)s of %(m)s catchment areas is to improve (LQAS "
        "target %(bound)s): %(list)s.",
        "%(indicator)s, children aged %(cohort)s: the lots of %(num)s of %(m)s catchment areas are to improve (LQAS "
        "target %(bound)s): %(list)s.",
        len(f["failing"]), list=named_list([w.catchment(c) for c in f["failing"]], w), **values)


# names a finding lists before it counts the rest (a national survey has hundreds of lots)
LISTED = 10


def named_list(names: list[str], w: Words) -> str:
    """Names joined, at most ``LISTED`` of them, then how many others."""
    if len(names) <= LISTED:
        return ", ".join(names)
    more = w.ngettext("and %(num)s other", "and %(num)s others", len(names) - LISTED)
    return ", ".join(names[:LISTED]) + ", " + more


def sex_gap_item(f: dict[str, Any], w: Words) -> Item:
    """Girls against boys for one indicator. Design-based: the lots where girls fare significantly worse
    (Rao–Scott p, the same p as comparisons.csv), then those where they fare worse by the gap or more
    without a significant difference; otherwise the point estimates and whether the CIs overlap."""
    if f.get("design_based"):
        return design_gap_item(f, w)
    name, gap = w.indicator(f["indicator"]), w.num(100 * f["gap"])
    boys = (w.ngettext("Boys fare worse than girls by as much in %(num)s lot.",
                       "Boys fare worse than girls by as much in %(num)s lots.", f["boys_worse"])
            if f["boys_worse"] else "")
    if not f["girls_worse"]:
        sentence = w._("%(indicator)s: in none of the %(m)s lots compared do girls fare worse than boys by %(gap)s "
                       "percentage points or more.", indicator=name, m=w.num(f["compared"]), gap=gap)
        return spans(sentence, " " if boys else "", boys), []
    sentence = w._("%(indicator)s: girls fare worse than boys by %(gap)s percentage points or more in %(k)s of the "
                   "%(m)s lots compared:", indicator=name, gap=gap, k=w.num(len(f["girls_worse"])), m=w.num(f["compared"]))
    lots = [spans(girls_worse_lot(g, False, w)) for g in f["girls_worse"][:LISTED]]
    if len(f["girls_worse"]) > LISTED:  # the largest gaps first; the others are in comparisons.csv
        lots.append(spans(w.ngettext("And %(num)s other lot (comparisons.csv).",
                                     "And %(num)s other lots (comparisons.csv).", len(f["girls_worse"]) - LISTED)))
    return spans(sentence), lots + ([spans(boys)] if boys else [])


def design_gap_item(f: dict[str, Any], w: Words) -> Item:
    """The design-based sentence: significant lots counted and listed first, the others after them."""
    name, p = w.indicator(f["indicator"]), w.num(f.get("significance", 0.05), 2)
    significant = [g for g in f["girls_worse"] if g["significant"]]
    others = [g for g in f["girls_worse"] if not g["significant"]]
    if significant:
        sentence = w._("%(indicator)s: girls fare significantly worse than boys (Rao–Scott p < %(p)s) in %(k)s of the "
                       "%(m)s lots compared:", indicator=name, p=p, k=w.num(len(significant)), m=w.num(f["compared"]))
    else:
        sentence = w._("%(indicator)s: in none of the %(m)s lots compared do girls fare significantly worse than boys "
                       "(Rao–Scott p < %(p)s).", indicator=name, p=p, m=w.num(f["compared"]))
    lots = [spans(girls_worse_lot(g, True, w)) for g in significant[:LISTED]]
    if others:
        lots.append(spans(w.ngettext(
            "In %(num)s other lot girls fare worse by %(gap)s points or more, but not significantly: %(list)s.",
            "In %(num)s other lots girls fare worse by %(gap)s points or more, but not significantly: %(list)s.",
            len(others), gap=w.num(100 * f["gap"]), list=named_list([w._(
                "%(catchment)s, %(cohort)s (p = %(p)s)", catchment=w.catchment(g["catchment"]),
                cohort=w.cohort(g["cohort"]), p=w.num(g["p_value"], 3)) for g in others], w))))
    if len(significant) > LISTED:
        lots.append(spans(w.ngettext("And %(num)s other lot (comparisons.csv).",
                                     "And %(num)s other lots (comparisons.csv).", len(significant) - LISTED)))
    return spans(sentence), lots


def girls_worse_lot(g: dict[str, Any], design_based: bool, w: Words) -> str:
    """One lot where girls fare worse: both estimates, and the design-based difference with its CI and
    Rao–Scott p, or whether the two CIs overlap."""
    both = w._("%(catchment)s, %(cohort)s: girls %(girls)s, boys %(boys)s", catchment=w.catchment(g["catchment"]),
               cohort=w.cohort(g["cohort"]), girls=w.pct(g["girls"]), boys=w.pct(g["boys"]))
    if design_based:
        how = w._("difference %(diff)s points (95%% CI %(low)s to %(high)s), Rao–Scott p = %(p)s",
                  diff=w.pp(g["difference"]), low=w.pp(g["difference_ci_low"]), high=w.pp(g["difference_ci_high"]),
                  p=w.num(g["p_value"], 3))
    else:
        how = w._("the confidence intervals overlap") if g["overlap"] else w._("the confidence intervals do not overlap")
    return f"{both}; {how}."

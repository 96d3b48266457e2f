"""Limitations: what the reader must keep in mind, from the survey's own numbers: the fieldwork, the
share of doses known from recall, crude against valid coverage, LQAS rules against the clustered
sample, small numbers of girls or boys, synthetic data (context keys ``sample``, ``coverage``, ``lqas``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, ListBlock, spans
from lqas.sections.words import Words

# the dose whose evidence and validity the limits quote: the third DTP-containing dose when collected
QUOTED_DOSES = ("penta3", "dtp3")


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    items = [text for text in (fieldwork(context, w), recall(context, w), validity(context, w),
                               clustering(context, w), small_by_sex(context, w), small_areas(context, w),
                               synthetic(context, w)) if text]
    return [ListBlock(items=[spans(text) for text in items])]


def fieldwork(context: dict[str, Any], w: Words) -> str:
    facts = context["sample"].get("fieldwork") or {}
    if not facts.get("clusters"):
        return ""
    per = facts["children_per_cluster"]
    spread = w._("%(clusters)s clusters, %(median)s children per cluster (from %(min)s to %(max)s)",
                 clusters=w.num(facts["clusters"]), median=w.num(per["median"]), min=w.num(per["min"]),
                 max=w.num(per["max"]))
    if facts.get("first_interview"):
        return w._("Fieldwork: interviews from %(first)s to %(last)s, in %(spread)s. Every estimate accounts for "
                   "the clusters.",
                   first=w.longdate(facts["first_interview"]), last=w.longdate(facts["last_interview"]), spread=spread)
    return w._("Fieldwork: %(spread)s. Every estimate accounts for the clusters.", spread=spread)


def small_areas(context: dict[str, Any], w: Words) -> str:
    """The small-area model's estimates of the areas no one visited are predictions, not measurements."""
    found = context.get("small_area")
    if not found or not found.get("fit"):
        return ""
    fit = found["fit"]
    return w._("Small-area estimates: the %(synthetic)s areas not sampled are estimated from their characteristics "
               "alone (%(covariates)s), through a model fitted to %(sampled)s sampled areas; they hold if the "
               "relation between those characteristics and the indicator is the same where the survey did not go. "
               "They point to where to look, and are to be checked on the ground.",
               synthetic=w.num(fit["areas_synthetic"]), sampled=w.num(fit["areas_sampled"]),
               covariates=", ".join(w.name("covariate", c) for c in found["covariates"])
               or w._("none: the mean of the sampled areas"))


def _quoted(rows: list[dict]) -> dict | None:
    by_dose = {row["dose"]: row for row in rows}
    return next((by_dose[d] for d in QUOTED_DOSES if d in by_dose), None)


def recall(context: dict[str, Any], w: Words) -> str:
    sources = context["coverage"].get("sources") or {}
    row = _quoted(sources.get("rows") or [])
    if row is None or "recall" not in row["shares"]:
        return ""
    card = row["shares"].get("card_date", 0) + row["shares"].get("card_tick", 0)
    return w._("Evidence: %(dose)s was known from the caregiver's word alone (recall) for %(recall)s of the children "
               "aged %(cohort)s, and from a card for %(card)s. Recall can over- or under-state coverage.",
               dose=w.name("dose", row["dose"]), recall=w.pct(row["shares"]["recall"], 0), card=w.pct(card, 0),
               cohort=w.cohort(sources["cohort"]))


def validity(context: dict[str, Any], w: Words) -> str:
    by_dose = context["coverage"].get("by_dose") or []
    if not by_dose:
        return ""
    oldest = by_dose[-1]
    row = _quoted(oldest["rows"])
    if row is None or row["crude"].get("all") is None or row["valid"] is None:
        return ""
    return w._("Crude and valid coverage: crude coverage counts every dose reported; valid coverage only doses on a "
               "dated card given at the right age and interval. For %(dose)s, %(crude)s crude against %(valid)s valid "
               "(children aged %(cohort)s): the gap is doses without a dated card or given too early, not necessarily "
               "doses not given.",
               dose=w.name("dose", row["dose"]), crude=w.pct(row["crude"]["all"]["estimate"]),
               valid=w.pct(row["valid"]["estimate"]), cohort=w.cohort(oldest["cohort"]))


def clustering(context: dict[str, Any], w: Words) -> str:
    deff = context["lqas"].get("deff")
    if not deff:
        return ""
    return w._("LQAS and clustering: the classes of lots come from binomial rules, which treat the children as a simple "
               "random sample; with design effects from %(low)s to %(high)s in the lots, their true risks are larger "
               "than the alpha and beta stated. The estimates and their confidence intervals account for the "
               "clusters.", low=w.num(deff["low"], 2), high=w.num(deff["high"], 2))


def small_by_sex(context: dict[str, Any], w: Words) -> str:
    lots = context["sample"].get("lots") or []
    n = context["small_cell_n"]
    small = sum(1 for lot in lots if min(lot["F"], lot["M"]) < n)
    if not lots:
        return ""
    if not small:
        return w._("Girls and boys: every lot has at least %(n)s girls and %(n)s boys; a lot's girls–boys "
                   "difference is still estimated from about half its children, with wide intervals.", n=n)
    return w.ngettext("Girls and boys: in %(num)s of %(m)s lots, girls or boys number fewer than %(least)s; their "
                      "separate estimates are left out of the findings.",
                      "Girls and boys: in %(num)s of %(m)s lots, girls or boys number fewer than %(least)s; their "
                      "separate estimates are left out of the findings.", small, m=w.num(len(lots)), least=n)


def synthetic(context: dict[str, Any], w: Words) -> str:
    if not context["survey"].get("synthetic"):
        return ""
    return w._("Synthetic data: this report was made from data generated by a program; its numbers illustrate the "
               "method and describe no real child or area.")

"""Executive summary: the headline messages, the priority areas ranked by their number of zero-dose
children, the WHO RED access/utilisation categories, and the draft recommendations (context key
``summary``, :func:`lqas.context.summary_context`)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Callout, Cell, Heading, ListBlock, Paragraph, Row, Table, spans
from lqas.sections.findings import named_list
from lqas.sections.words import DASH, Words

# the short name of each WHO RED category (the chart's words)
CATEGORY_SHORT = {"no_problem": "red_no_problem", "utilisation": "red_utilisation", "access": "red_access",
                  "access_and_utilisation": "red_both"}
CATEGORY_TONE = {"no_problem": "good", "utilisation": "warn", "access": "warn", "access_and_utilisation": "bad"}


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    summary = context["summary"]
    out: list[Block] = [Paragraph(spans=spans(w._(
        "What the survey says for the programme: where the zero-dose children are, how many they are, and what "
        "holds them back. Every number is in the tables of the run (priorities.csv, children_numbers.csv, "
        "estimates.csv) and in results.xlsx.")), style="intro")]
    items = [spans(sentence) for sentence in (headline(h, w) for h in summary["headlines"]) if sentence]
    if items:
        out.append(ListBlock(items=items, style="findings"))
    out += priority_table(summary["priority"], w)
    if summary.get("categories"):
        out += categories(summary["categories"], w)
    out += recommendations(summary, w)
    return out


def children(value: Any, w: Words) -> str:
    """An estimated number of children, rounded as the estimate deserves (to 10 from 100)."""
    if value is None:
        return DASH
    return w.num(round(value, -1) if value >= 100 else round(value))


def children_ci(cell: dict | None, w: Words) -> str:
    if cell is None:
        return DASH
    return f"{children(cell['ci_low'], w)}–{children(cell['ci_high'], w)}"


def cohort_shares(entries: list[dict], w: Words) -> str:
    """``16.0% of children aged 18 weeks–11 months and 17.5% of those aged 12–23 months``."""
    parts = [w._("%(est)s of children aged %(cohort)s", est=w.pct(e["cell"]["estimate"]), cohort=w.cohort(e["cohort"]))
             if i == 0 else
             w._("%(est)s of those aged %(cohort)s", est=w.pct(e["cell"]["estimate"]), cohort=w.cohort(e["cohort"]))
             for i, e in enumerate(entries)]
    return w._("%(first)s and %(last)s", first=", ".join(parts[:-1]), last=parts[-1]) if len(parts) > 1 else parts[0]


def headline(h: dict[str, Any], w: Words) -> str:
    """The sentence of one headline (see ``summary.headlines`` in CONTEXT.md)."""
    kind = h["kind"]
    if kind == "prevalence":
        shares = cohort_shares(h["cohorts"], w)
        number = h.get("children")
        zero = h["indicator"] == "zero_dose"
        if number is None:
            return (w._("Zero-dose children: %(shares)s have received no Penta1.", shares=shares) if zero else
                    w._("Under-immunized children: %(shares)s received Penta1 but not Penta3.", shares=shares))
        values = {"n": children(number["estimate"], w), "low": children(number["ci_low"], w),
                  "high": children(number["ci_high"], w), "population": children(number["population"], w),
                  "shares": shares}
        return (w._("Zero-dose children: about %(n)s children (95%% CI %(low)s–%(high)s) of the %(population)s in the "
                    "surveyed areas' cohorts have received no Penta1: %(shares)s.", **values) if zero else
                w._("Under-immunized children: about %(n)s more (95%% CI %(low)s–%(high)s) received Penta1 but not "
                    "Penta3: %(shares)s.", **values))
    if kind == "most":
        top, highest = h["by_number"], h["by_prevalence"]
        if top is None:
            return w._("Highest zero-dose prevalence: %(area)s, %(est)s (95%% CI %(low)s–%(high)s).",
                       area=w.catchment(highest["catchment"]), est=w.pct(highest["prevalence"]["estimate"]),
                       low=w.pct(highest["prevalence"]["ci_low"]), high=w.pct(highest["prevalence"]["ci_high"]))
        if top["catchment"] == highest["catchment"]:
            return w._("%(area)s has both the most zero-dose children (about %(n)s) and the highest zero-dose "
                       "prevalence (%(est)s).", area=w.catchment(top["catchment"]),
                       n=children(top["children"]["estimate"], w), est=w.pct(top["prevalence"]["estimate"]))
        return w._("%(area)s has the most zero-dose children (about %(n)s, %(est)s of its children); %(other)s has "
                   "the highest prevalence (%(other_est)s, about %(other_n)s children). The number says where most "
                   "children are to be reached; the prevalence, where the services reach the fewest.",
                   area=w.catchment(top["catchment"]), n=children(top["children"]["estimate"], w),
                   est=w.pct(top["prevalence"]["estimate"]), other=w.catchment(highest["catchment"]),
                   other_est=w.pct(highest["prevalence"]["estimate"]),
                   other_n=children(highest["children"]["estimate"], w) if highest["children"] else DASH)
    if kind == "lqas":
        good = w.pct(h["good"], 0) if h.get("good") is not None else DASH
        if not h["below"]:
            return w._("LQAS: all %(lots)s lots are acceptable for zero-dose (target: at most %(good)s). Acceptable means "
                       "not classified as a lot to improve: an acceptable lot may still miss the target.",
                       lots=w.num(h["lots"]), good=good)
        return w.ngettext(
            "LQAS: %(num)s of %(lots)s lots (catchment area and cohort) is to improve for zero-dose (target: at most "
            "%(good)s), in %(areas)s.",
            "LQAS: %(num)s of %(lots)s lots (catchment area and cohort) are to improve for zero-dose (target: at most "
            "%(good)s), in %(areas)s.", h["below"], lots=w.num(h["lots"]), good=good,
            areas=named_list([w.catchment(a) for a in h["areas"]], w))
    if kind == "categories":
        counts = h["counts"]
        return w._("Access and utilisation (WHO RED categories): of %(areas)s catchment areas, %(both)s have both an "
                   "access and a utilisation problem, %(access)s an access problem only, %(use)s a utilisation "
                   "problem only, and %(none)s neither.", areas=w.num(h["areas"]),
                   both=w.num(counts["access_and_utilisation"]), access=w.num(counts["access"]),
                   use=w.num(counts["utilisation"]), none=w.num(counts["no_problem"]))
    if kind == "girls":
        indicators = named_list([w.indicator(i) for i in h["indicators"]], w)
        p = w.num(h["p_below"], 2)
        if not h["lots"]:
            return w._("Girls and boys: in none of the %(m)s lots compared do girls fare significantly worse than boys "
                       "(Rao–Scott p < %(p)s) for %(indicators)s.", m=w.num(h["compared"]), p=p,
                       indicators=indicators)
        lots = [w._("%(area)s, %(cohort)s (%(indicator)s: girls %(girls)s, boys %(boys)s; p = %(p)s)",
                    area=w.catchment(lot["catchment"]), cohort=w.cohort(lot["cohort"]),
                    indicator=w.indicator(lot["indicator"]), girls=w.pct(lot["girls"]), boys=w.pct(lot["boys"]),
                    p=w.num(lot["p_value"], 3)) for lot in h["lots"]]
        return w._("Girls and boys: girls fare significantly worse than boys (Rao–Scott p < %(p)s) in %(k)s of the "
                   "%(m)s lots compared, for %(indicators)s: %(lots)s.", p=p, k=w.num(len({(lot["catchment"], lot["cohort"])
                                                                                      for lot in h["lots"]})),
                   m=w.num(h["compared"]), indicators=indicators, lots=named_list(lots, w))
    raise ValueError(f"unknown kind of headline: {kind}")


def lower_first(text: str) -> str:
    """A label inside a sentence: ``Dropout Penta 1 to Penta 3`` -> ``dropout Penta 1 to Penta 3``."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def category_name(key: str, w: Words) -> str:
    return w.labels["chart"].get(CATEGORY_SHORT.get(key, ""), key) if key else DASH


def priority_table(priority: dict[str, Any], w: Words) -> list[Block]:
    out: list[Block] = [Heading(level=2, text=w._("Priority areas"), anchor="summary-priorities")]
    numbers = priority["numbers"]
    out.append(Paragraph(spans=spans(
        w._("Catchment areas ranked by their estimated number of zero-dose children, both cohorts together: the "
            "population of each cohort times its prevalence, with the 95%% interval carried through. The rank by "
            "prevalence is beside it: a small area can have a high prevalence and few children.") if numbers else
        w._("Catchment areas ranked by their zero-dose prevalence, both cohorts together. The project gives no "
            "populations ([design] weights = \"population\"), so the numbers of children are not estimated."))))
    header = [w.head(w._("Rank"), "left"), w.head(w.labels["header"]["catchment"], "left")]
    if numbers:
        header.append(w.head(w._("Zero-dose children (95%% CI)")))
    header += [w.head(w._("Zero-dose prevalence")), w.head(w._("Rank by prevalence"))]
    if numbers:
        header.append(w.head(w._("Under-immunized children (95%% CI)")))
    header += [w.head(w._("Access and utilisation"), "left"), w.head(w._("Zero-dose lots to improve"), "left")]
    rows = []
    for row in priority["rows"]:
        cells = [w.value(w.num(row["rank"]), "left"), w.label(w.catchment(row["catchment"]), strong=True)]
        if numbers:
            cells.append(Cell(lines=[children(row["zero_dose_children"]["estimate"], w) if row["zero_dose_children"]
                                     else DASH, children_ci(row["zero_dose_children"], w)], strong=True))
        cells += [w.est(row["zero_dose"], show_n=False), w.value(w.num(row["rank_prevalence"]))]
        if numbers:
            cells.append(Cell(lines=[children(row["under_immunized_children"]["estimate"], w)
                                     if row["under_immunized_children"] else DASH,
                                     children_ci(row["under_immunized_children"], w)]))
        cells += [w.value(category_name(row["category"], w), "left", tone=CATEGORY_TONE.get(row["category"], "plain")),
                  w.value(", ".join(w.cohort(c) for c in row["lots_below"]) or DASH, "left")]
        rows.append(Row(cells=cells))
    notes = [Paragraph(spans=spans(w._("Source: priorities.csv and children_numbers.csv (every area, with every "
                                       "number), results.xlsx.")), style="note")]
    if priority["total"] > priority["shown"]:
        notes.insert(0, Paragraph(spans=spans(w._(
            "The %(shown)s areas with the most zero-dose children of %(total)s; the others are in priorities.csv and "
            "results.xlsx.", shown=w.num(priority["shown"]), total=w.num(priority["total"]))), style="note"))
    widths = [0.45, 1.4, *([1.0] if numbers else []), 1.1, 0.8, *([1.0] if numbers else []), 1.5, 1.5]
    out.append(Table(caption=w._("Priority areas: zero-dose children, prevalence, access and LQAS"), header=header,
                     rows=rows, notes=notes, widths=widths, size="compact", source=""))
    return out


def categories(cats: dict[str, Any], w: Words) -> list[Block]:
    out: list[Block] = [Heading(level=2, text=w._("Access and utilisation"), anchor="summary-categories")]
    out.append(Paragraph(spans=spans(w._(
        "WHO's Reaching Every District (RED) approach places each area by two estimates among children aged "
        "%(cohort)s: access, the coverage of %(access)s (good from %(access_cut)s), and utilisation, %(dropout)s "
        "(good up to %(dropout_cut)s). Low access calls for bringing the services closer (outreach, mobile "
        "sessions); high dropout, for keeping the children who started (tracing defaulters, reminders).",
        cohort=w.cohort(cats["cohort"]), access=w.indicator(cats["access"]), access_cut=w.pct(cats["access_good_from"], 0),
        dropout=lower_first(w.indicator(cats["dropout"])),
        dropout_cut=w.pct(cats["dropout_good_to"], 0)))))
    out += w.figure("red_categories", w._(
        "Access (%(access)s) and utilisation (%(dropout)s) of each catchment area, with 95%% confidence intervals; "
        "the dashed lines are the cut-offs.", access=w.indicator(cats["access"]), dropout=w.indicator(cats["dropout"])),
        width=0.8)
    if cats.get("rows"):
        out.append(Table(
            caption=w._("WHO RED category of each catchment area"),
            header=[w.head(w.labels["header"]["catchment"], "left"), w.head(w.indicator(cats["access"])),
                    w.head(w.indicator(cats["dropout"])), w.head(w._("Category"), "left")],
            rows=[Row(cells=[w.label(w.catchment(r["catchment"])), w.est(r["access"]), w.est(r["dropout"]),
                             w.value(category_name(r["category"], w), "left",
                                     tone=CATEGORY_TONE.get(r["category"], "plain"))]) for r in cats["rows"]],
            notes=[w.ci_note(), Paragraph(spans=spans(w._("Source: %(source)s.", source=cats["source"][w.lang])),
                                          style="note")]))
    return out


def recommendations(summary: dict[str, Any], w: Words) -> list[Block]:
    out: list[Block] = [Heading(level=2, text=w._("Recommendations to validate"), anchor="summary-recommendations")]
    rules = summary.get("rules_file") or "lqas/data/priorities.toml"
    out.append(Callout(title=w._("Draft for the programme to validate"), spans=spans(w._(
        "These recommendations are drawn by rules (%(file)s) from the survey's results, not written by people who "
        "know the areas. The programme validates, adapts or rejects each one before acting on it.", file=rules)),
        tone="warn"))
    items = []
    for rule in summary["recommendations"]:
        areas = named_list([w.catchment(a) for a in rule["areas"]], w)
        items.append(spans(rule[w.lang].replace("%(areas)s", areas)))
    if items:
        out.append(ListBlock(items=items, style="rules"))
    else:
        out.append(Paragraph(spans=spans(w._("No rule applies to any catchment area."))))
    return out

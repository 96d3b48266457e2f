"""Where the zero-dose children are (``[small_area]``): one indicator for every area of the districts,
sampled or not, from the Fay–Herriot model; the likely hotspots, the ranking with its uncertainty, the
maps and the model's fit (context key ``small_area``, :func:`lqas.context.small_area_context`)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Callout, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import DASH, Words

# fewer sampled areas than this and the area variance is poorly known (Rao & Molina 2015, §6.1): said
RECOMMENDED_AREAS = 15


def title(context: dict[str, Any], w: Words) -> str:
    """The section's title: the question it answers for zero-dose, plainly named for another indicator."""
    found = context["small_area"]
    if found["indicator"] == "zero_dose":
        return w._("Where are the zero-dose children?")
    return w._("Small-area estimates: %(indicator)s", indicator=w.indicator(found["indicator"]))


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    found = context["small_area"]
    indicator = w.indicator(found["indicator"])
    unit = w.labels["header"].get(found["column"], found["column"])
    unit_noun = unit[:1].lower() + unit[1:]
    out: list[Block] = [Paragraph(spans=spans(intro(found, w, indicator, unit_noun)), style="intro")]
    fit = found["fit"]
    if fit is None:
        out.append(Callout(title=w._("The model was not fitted"), spans=spans(not_fitted(found, w, unit_noun))))
    elif fit["areas_sampled"] < RECOMMENDED_AREAS:
        out.append(Callout(title=w._("Few sampled areas"), spans=spans(w._(
            "The model rests on %(n)s sampled areas, fewer than the %(recommended)s recommended: the variance "
            "between areas is poorly known, and the estimates of the areas not sampled are indications to be "
            "checked, not measurements.", n=w.num(fit["areas_sampled"]), recommended=RECOMMENDED_AREAS))))
    if fit is not None and found["threshold"] is not None:
        out.append(Paragraph(spans=spans(hotspot_sentence(found, w))))
    out += w.figure("small_area_ranking", w._(
        "%(indicator)s, %(cohort)s, by %(unit)s, highest first: the estimate and its 95%% interval; filled "
        "squares for sampled areas, open circles for areas not sampled (the model alone).", indicator=indicator,
        cohort=w.cohort(found["cohort"]), unit=unit_noun))
    out.append(ranking_table(found, w, unit))
    out += w.figure("small_area_map", w._(
        "%(indicator)s by %(unit)s (left) and the width of its 95%% interval (right): thick outlines for sampled "
        "areas.", indicator=indicator, unit=unit_noun))
    out += w.figure("small_area_hotspots", w._(
        "Estimated number of children (left) and probability that the prevalence exceeds %(threshold)s (right), "
        "by %(unit)s.", threshold=w.pct(found["threshold"] or 0, 0), unit=unit_noun))
    out += w.figure("small_area_lqas", w._("LQAS class of the sampled areas (%(cohort)s).",
                                           cohort=w.cohort(found["cohort"])))
    if found["interactive_map"]:
        out.append(Paragraph(spans=spans(w._(
            "An interactive map, each area with its estimate, interval and number of children, is in %(file)s of the "
            "run folder.", file=found["interactive_map"])), style="note"))
    if fit is not None:
        out += model_blocks(found, fit, w)
    return out


def intro(found: dict[str, Any], w: Words, indicator: str, unit_noun: str) -> str:
    text = w._(
        "The survey sampled %(sampled)s of the districts' %(areas)s areas (%(unit)s). To estimate "
        "%(indicator)s (%(cohort)s) in every one of them, a Fay–Herriot model combines each sampled area's own "
        "estimate with what the areas' characteristics known everywhere (%(covariates)s) predict: a precise "
        "survey estimate is kept nearly as it is, an imprecise one is pulled towards the prediction, and an area "
        "not sampled gets the prediction alone, with a wider interval.",
        sampled=w.num(found["sampled"]), areas=w.num(found["areas"]), unit=unit_noun, indicator=indicator,
        cohort=w.cohort(found["cohort"]),
        covariates=", ".join(w.name("covariate", c) for c in found["covariates"]) or w._("none: the mean of the sampled areas"))
    return text


def not_fitted(found: dict[str, Any], w: Words, unit_noun: str) -> str:
    if found["sampled"] < found["min_areas"]:
        return w._("Only %(n)s areas were sampled, fewer than the %(min)s the model needs ([small_area] min_areas): "
                   "the table gives the survey's own estimates of the sampled areas, and the areas not sampled "
                   "have none.", n=w.num(found["sampled"]), min=w.num(found["min_areas"]))
    return w._("The model could not be fitted (%(reason)s): the table gives the survey's own estimates of the "
               "sampled areas, and the areas not sampled have none.", reason=found["message"])


def hotspot_sentence(found: dict[str, Any], w: Words) -> str:
    rows = {r["area"]: r for r in found["rows"]}
    likely = found["likely_hotspots"]
    threshold = w.pct(found["threshold"], 0)
    if not likely:
        return w._("No area is likely (a probability of %(p)s or more) to exceed %(threshold)s.",
                   p=w.pct(found["likely_from"], 0), threshold=threshold)
    named = [rows[a]["name"] + ("" if rows[a]["sampled"] else " (" + w.name("sa_method", "synthetic") + ")")
             for a in likely if a in rows]
    more = len(likely) - len(named)
    listing = ", ".join(named) + (w._(" and %(n)s more (small_area.csv)", n=w.num(more)) if more else "")
    return w.ngettext("%(num)s area is likely (a probability of %(p)s or more) to exceed %(threshold)s: %(areas)s.",
                      "%(num)s areas are likely (a probability of %(p)s or more) to exceed %(threshold)s: %(areas)s.",
                      len(likely), p=w.pct(found["likely_from"], 0), threshold=threshold, areas=listing)


def ranking_table(found: dict[str, Any], w: Words, unit: str) -> Table:
    with_children = found["population"]
    with_threshold = found["threshold"] is not None and found["fit"] is not None
    header = [w.head(w._("Rank"), "left"), w.head(unit, "left"), w.head(w.labels["header"].get("district", "District"),
                                                                         "left"),
              w.head(w._("Estimate (95%% interval)"))]
    if with_children:
        header.append(w.head(w._("Children (95%% interval)")))
    if with_threshold:
        header.append(w.head(w._("P(> %(threshold)s)", threshold=w.pct(found["threshold"], 0))))
    if found["fit"] is not None:
        header.append(w.head(w._("Rank interval")))
    header += [w.head(w._("Source"), "left"), w.head(w._("LQAS class"), "left")]
    widths = [0.5, 1.8, 1.3, 1.3, *([1.3] if with_children else []), *([0.8] if with_threshold else []),
              *([0.8] if found["fit"] is not None else []), 1.2, 1.0]
    rows = []
    for position, r in enumerate(found["rows"], 1):
        cells = [w.value(str(r["rank"]) if r["rank"] is not None else str(position), "left"),
                 w.label(r["name"] + ("" if r["sampled"] else " †"), strong=r["sampled"]),
                 w.label(r["parent_name"] or DASH)]
        if r["estimate"] is None:
            cells.append(Cell(lines=[DASH], tone="na"))
        else:
            cells.append(Cell(lines=[w.pct(r["estimate"]), f"{w.num(100 * r['ci_low'], 1)}–{w.pct(r['ci_high'])}"],
                              strong=r["sampled"]))
        if with_children:
            cells.append(Cell(lines=[DASH], tone="na") if r["children"] is None else
                         Cell(lines=[w.num(r["children"]),
                                     f"{w.num(r['children_ci_low'])}–{w.num(r['children_ci_high'])}"]))
        if with_threshold:
            p = r["prob_exceeds"]
            cells.append(w.value(DASH if p is None else w.pct(p, 0),
                                 tone="bad" if p is not None and p >= found["likely_from"] else "plain"))
        if found["fit"] is not None:
            cells.append(w.value(DASH if r["rank_low"] is None else f"{r['rank_low']}–{r['rank_high']}"))
        cells += [w.label(w.name("sa_method", r["method"])),
                  w.label(w.name("klass", r["lqas_class"]) if r["lqas_class"] else DASH)]
        rows.append(Row(cells=cells))
    notes = [Paragraph(spans=spans("† " + w._("Not sampled: the model's estimate alone, from the area's "
                                                "characteristics.")), style="note")]
    if found["total_rows"] > len(found["rows"]):
        notes.append(Paragraph(spans=spans(w._(
            "The %(shown)s areas with the highest estimates of %(total)s; small_area.csv and the workbook have every "
            "area.", shown=w.num(len(found["rows"])), total=w.num(found["total_rows"]))), style="note"))
    if found["fit"] is not None:
        notes.append(Paragraph(spans=spans(w._(
            "The rank interval holds 95%% of the area's ranks when the estimates are drawn again within their "
            "uncertainty (1 = the highest).")), style="note"))
    return Table(caption=w._("%(indicator)s by area, sampled or not (%(cohort)s)",
                             indicator=w.indicator(found["indicator"]), cohort=w.cohort(found["cohort"])),
                 header=header, rows=rows, notes=notes, widths=widths, size="compact")


def model_blocks(found: dict[str, Any], fit: dict[str, Any], w: Words) -> list[Block]:
    scale = w._("the logit of the proportion") if fit["transform"] == "logit" else w._("the proportion")
    text = w._(
        "The model (%(method)s, on %(scale)s) was fitted to the %(sampled)s sampled areas in %(iterations)s "
        "iterations%(converged)s. The variance between areas that the covariates do not explain is %(variance)s "
        "(standard error %(variance_se)s); the larger it is against the surveys' own variances, the more each "
        "sampled area keeps its own estimate.", method=fit["method"], scale=scale,
        sampled=w.num(fit["areas_sampled"]), iterations=w.num(fit["iterations"]),
        converged="" if fit["converged"] else w._(" (without converging)"), variance=w.num(fit["sigma2_v"], 3),
        variance_se=w.num(fit["sigma2_v_se"], 3))
    table = Table(caption=w._("Coefficients of the small-area model"),
                  header=[w.head(w._("Term"), "left"), w.head(w._("Coefficient")), w.head(w._("Standard error"))],
                  rows=[Row(cells=[w.label(w._("Intercept") if c["term"] == "(Intercept)" else w.name("covariate", c["term"])),
                                   w.value(w.num(c["estimate"], 3)), w.value(w.num(c["se"], 3))])
                        for c in fit["coefficients"]],
                  notes=[Paragraph(spans=spans(w._("On %(scale)s.", scale=scale)), style="note")], source="")
    return [Heading(level=2, text=w._("The small-area model"), anchor="small-area-model"),
            Paragraph(spans=spans(text)), table,
            *w.figure("small_area_fit", w._(
                "Left: each sampled area's survey estimate and the model's (on the dashed line, unchanged). Right: "
                "standardised residuals, about between −2 and 2 when the model fits."))]

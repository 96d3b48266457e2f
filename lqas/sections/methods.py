"""Methods: the design and estimation, the LQAS rules and targets, and the definition of every indicator
shown (context keys ``methods``, ``lqas`` and ``definitions``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, ListBlock, Row, Table, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    return [
        Heading(level=2, text=w._("Design and estimation"), anchor="methods-design"),
        ListBlock(items=[spans(text) for text in design_items(context, w)]),
        Heading(level=2, text=w._("LQAS rules"), anchor="methods-lqas"),
        ListBlock(items=[spans(text) for text in lqas_items(context["lqas"], w)]),
        targets_table(context["lqas"]["targets"], w),
        Heading(level=2, text=w._("Indicator definitions"), anchor="methods-definitions"),
        definitions_table(context["definitions"], w),
    ]


def column(key: str, w: Words) -> str:
    return w.name("column", key)


def design_items(context: dict[str, Any], w: Words) -> list[str]:
    """How the survey was sampled, weighted and estimated, one sentence (or a few) per item."""
    methods = context["methods"]
    windows = ", ".join(f"{w.cohort(name)} ({w.num(low)}–{w.num(high)})"
                        for name, (low, high) in methods["cohorts"].items())
    implied = w._("yes") if methods["later_dose_implies_earlier"] else w._("no")
    items = [
        w._("Sampling design: stratified by %(strata)s, with clusters: %(psu)s.", strata=column(methods["strata"], w),
            psu=column(methods["psu"], w)),
        weights_item(methods, w),
        w._("Variance: Taylor linearization, clusters sampled with replacement; every subgroup (catchment area, cohort, "
            "sex, vaccination status) is estimated as a domain of the full design."),
        w._("Confidence intervals: %(ci)s, at the %(level)s level.", ci=w.name("ci_method", methods["ci"]),
            level=w.pct(methods["level"], 0)),
        f"{w._('Cohorts by age at interview (days):')} {windows}.",
        w._("Doses: schedule “%(schedule)s”; %(records)s; a later dose of a series implies the earlier ones: "
            "%(implied)s.", schedule=methods["schedule"], records=w.name("records", methods["records"]),
            implied=implied),
    ]
    if methods.get("not_collected"):
        items.append(w._("Doses of the schedule this survey did not ask about (no card, register or recall question), "
                         "left out of every table: %(doses)s.", doses=", ".join(methods["not_collected"])))
    items += [w._("%(doses)s: given only in these areas (%(column)s): %(values)s; children elsewhere are outside these "
                  "doses' denominators, so their “all catchment areas” figures cover those areas only.",
                  doses=", ".join(area["doses"]), column=column(area["column"], w), values=", ".join(area["values"]))
              for area in methods.get("introduced") or []]
    found = context.get("small_area")
    if found:
        items.append(w._(
            "Small-area estimates (%(indicator)s): a Fay–Herriot area-level model (Fay and Herriot 1979; Rao and "
            "Molina 2015, chapter 6) of each sampled area's direct estimate, its design variance taken as known, on "
            "the areas' covariates; the variance between areas by %(method)s, the error of each estimate by Prasad and "
            "Rao's approximation; areas not sampled get the regression's prediction and its error. Ranks and their "
            "intervals come from 2,000 draws of the estimates within their errors. The model's arithmetic is checked "
            "against R's sae package (eblupFH, mseFH).", indicator=w.indicator(found["indicator"]),
            method=found["method"]))
    items += [
        small_numbers_item(context, w),
        w._("Girls and boys: a gap is reported in the key findings from %(gap)s percentage points, with whether the "
            "confidence intervals overlap.", gap=w.num(100 * methods["gap_finding"])) if context.get("sex_comparisons")
        is None else
        w._("Girls and boys: each difference (girls − boys) is estimated on the survey design, with its 95%% "
            "confidence interval and the Rao–Scott test of independence of sex and the outcome (strata, clusters and "
            "weights). A difference is called significant when its Rao–Scott p is below %(p)s, in every part of this "
            "report and in comparisons.csv; gaps of %(gap)s points or more that are not significant are listed as such.",
            p=w.num(methods.get("significance", 0.05), 2), gap=w.num(100 * methods["gap_finding"])),
    ]
    return items


def weights_item(methods: dict[str, Any], w: Words) -> str:
    """The weights, and how the populations were split to the cohorts or known at a coarser level."""
    parts = [w._("Weights: %(weights)s.", weights=w.name("weights", methods["weights"]))]
    if methods.get("population_shares"):
        shares = ", ".join(f"{w.cohort(cohort)} {w.pct(share, 1)}"
                           for cohort, share in methods["population_shares"].items())
        parts.append(f"{w._('The populations file gives one age group per area; it was split to the cohorts as follows:')}"
                     f" {shares}.")
    if methods["weights"] == "population":
        source = (methods.get("population_source") or {}).get(w.lang)
        parts.append(w._("Source of the populations: %(source)s.", source=source) if source else
                     w._("The project file does not say where the populations come from ([populations] source)."))
    if methods.get("population_level"):
        parts.append(w._("Populations are known by %(level)s only: within one, the children of a cohort all weigh the "
                         "same.", level=", ".join(column(c, w) for c in methods["population_level"])))
    return " ".join(parts)


def small_numbers_item(context: dict[str, Any], w: Words) -> str:
    """How estimates from few children are shown, as the project chose (DHS or VCQI)."""
    n = context["small_cell_n"]
    if context["methods"].get("small_numbers", "dhs") == "vcqi":
        return w._("Small numbers, as VCQI: every estimate is shown with the number of children n it comes from; "
                   "estimates from fewer than %(n)s children are not used in the key findings.", n=n)
    return w._("Small numbers, as the DHS: an estimate from fewer than %(n)s children is not shown (*), one from "
               "%(n)s to %(high)s children is in parentheses, to be interpreted with caution; estimates from fewer "
               "than %(n)s children are not used in the key findings.", n=n,
               high=context["methods"].get("caution_n", 2 * n) - 1)


def lqas_items(lqas: dict[str, Any], w: Words) -> list[str]:
    """What a lot is, the decision rule and its risks, and how prevalences are classified."""
    rule = w._("Each lot is acceptable when the number x of children with the favourable outcome is at least d, and to "
               "improve otherwise. alpha is the probability of classifying a lot at the target as one to improve, beta "
               "the probability of classifying a lot at the lower threshold as acceptable; the rule d is the one that "
               "keeps alpha ≤ %(alpha)s and beta ≤ %(beta)s for the lot's n (binomial, as if the children were a "
               "simple random sample).", alpha=w.num(lqas["alpha"], 2), beta=w.num(lqas["beta"], 2))
    if (lqas.get("limits_unmet") or {}).get("lots"):
        rule += " " + w._("Where the lot's n is too small for any rule to do so, the rule with the smallest alpha + beta "
                          "is used, and the lot's risks are those shown in Annex B.")
    return [
        w._("Lots: %(lot)s.", lot=" × ".join(column(c, w) for c in lqas["lot"])),
        rule,
        w._("Zero-dose and under-immunized are classified on their complement (children without the condition), so "
            "the rule reads: at most n − d children with the condition."),
    ]


def targets_table(targets: list[dict[str, Any]], w: Words) -> Table:
    """Each target and lower threshold, as set and on the scale the rule counts."""
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Target")), w.head(w._("Lot to improve")),
              w.head(w._("Target (classified scale)")), w.head(w._("Lot to improve (classified scale)"))]
    rows = [Row(cells=[w.label(w.indicator(t["indicator"])),
                       *(w.value(w.pct(t[key], 0)) for key in ("good", "bad", "classified_good", "classified_bad"))])
            for t in targets]
    return Table(header=header, rows=rows, size="compact", source=w._("Source: the project file (survey.toml)."))


def definitions_table(definitions: list[dict[str, Any]], w: Words) -> Table:
    """Each indicator shown (name and code), its definition (and source), and its denominator."""
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Definition"), "left"), w.head(w._("Denominator"), "left")]
    rows = [Row(cells=[Cell(lines=[d["label"], d["indicator"]], align="left"),
                       Cell(lines=[definition(d, w), *([d["spec"]] if d.get("spec") else [])], align="left"),
                       w.label(d["denominator"])])
            for d in definitions]
    return Table(header=header, rows=rows, widths=[28, 46, 26], size="compact",
                 source=w._("Source: lqas indicator definitions, after WHO VCQI and BeSD."))


def definition(d: dict[str, Any], w: Words) -> str:
    """An indicator's definition; a BeSD indicator's is written from its question and favourable answers."""
    besd = d.get("besd")
    if besd and "options" in besd:
        return w._("At least one of the options %(options)s chosen in answer to %(item)s.",
                   options=", ".join(str(o) for o in besd["options"]), item=besd["item"])
    if besd:
        return w._("Answer to question %(item)s among the favourable codes %(codes)s (BeSD-TI coding).",
                   item=besd["item"], codes=", ".join(str(c) for c in besd["favourable"]))
    return d["definition"]

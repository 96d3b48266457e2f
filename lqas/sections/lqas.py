"""LQAS classification of lots: the targets and their decision rules' risks, the matrix of lots
(catchment area x cohort) by indicator with each lot's class, count and rule, the catchment areas
without data, then the lots put together by district and for the survey (context key ``lqas``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Span, Table, spans
from lqas.sections.words import DASH, SYMBOLS, Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    lqas = context["lqas"]
    out: list[Block] = [
        Paragraph(spans=spans(w._(
            "A lot is a catchment area and a cohort. For each indicator with a target, the lot is acceptable when "
            "at least d of the n sampled children have the favourable outcome, and to improve otherwise. For "
            "zero-dose and under-immunized children the favourable outcome is the absence of the condition, so a lot "
            "is acceptable when at most n − d children have it. Acceptable means that the sample does not show the "
            "lot to be at the level of a lot to improve: it does not mean that the lot reaches the target.")),
            style="intro"),
        targets_table(lqas["targets"], context["cohorts"], w),
        risks_note(lqas, w),
        *([legend(w), matrix_table(lqas["matrix"], lqas.get("by_level"), w)] if lqas.get("matrix")
          else [lots_elsewhere_note(context, w)]),
        *(lost_catchment_note(lost, w) for lost in lqas["lost_catchments"]),
        failing_note(lqas["classification"], w),
        *caveats(lqas, w),
    ]
    if lqas.get("by_level"):
        out += lots_put_together(lqas["by_level"], w)
    return out


def targets_table(targets: list[dict], cohorts: list[str], w: Words) -> Table:
    """Each indicator's target, threshold of a lot to improve, and the cohorts it is classified in."""
    direction = w.labels["direction"]
    rows = [Row(cells=[
        w.label(w.indicator(t["indicator"])),
        w.label(direction["lower"] if t["lower_is_better"] else direction["higher"]),
        w.value(("≤ " if t["lower_is_better"] else "≥ ") + w.pct(t["good"], 0)),
        w.value(("≥ " if t["lower_is_better"] else "≤ ") + w.pct(t["bad"], 0)),
        w.label(", ".join(w.cohort(cohort) for cohort in t["cohorts"] or cohorts)),
    ]) for t in targets]
    header = [w.head(w._("Indicator"), "left"), w.head(w._("Direction"), "left"), w.head(w._("Target")),
              w.head(w._("Lot to improve")), w.head(w._("Cohorts"), "left")]
    return Table(caption=w._("Targets of the LQAS classification"), header=header, rows=rows, size="compact",
                 source=w._("Source: the project file (survey.toml)."))


def risks_note(lqas: dict, w: Words) -> Paragraph:
    """The risks the decision rules keep, or (a warning) the classifications whose rule cannot."""
    alpha, beta = w.num(lqas["alpha"], 2), w.num(lqas["beta"], 2)
    unmet = lqas.get("limits_unmet")
    if not unmet or unmet["lots"] == 0:
        return Paragraph(spans=spans(w._(
            "Decision rules keep both risks at or below their limits: alpha ≤ %(alpha)s (a lot at the target is "
            "classified as one to improve) and beta ≤ %(beta)s (a lot at the threshold of a lot to improve is "
            "classified as acceptable).", alpha=alpha, beta=beta)), style="note")
    text = w._(
        "The decision rules aim to keep alpha ≤ %(alpha)s (a lot at the target is classified as one to improve) and "
        "beta ≤ %(beta)s (a lot at the threshold of a lot to improve is classified as acceptable). For %(lots)s of "
        "the %(of)s classifications, too few children were sampled for any rule to do so: their classes carry larger "
        "risks (alpha up to %(worst_alpha)s, beta up to %(worst_beta)s; see Annex B) and should be read with caution.",
        alpha=alpha, beta=beta, lots=w.num(unmet["lots"]), of=w.num(unmet["of"]),
        worst_alpha=w.num(unmet["alpha"], 2), worst_beta=w.num(unmet["beta"], 2))
    named = unmet.get("named") or []
    if named:
        lots = [w._("%(indicator)s, %(catchment)s, %(cohort)s (n = %(n)s)", indicator=w.indicator(lot["indicator"]),
                    catchment=w.catchment(lot["catchment"]), cohort=w.cohort(lot["cohort"]), n=w.num(lot["n"]))
                for lot in named]
        more = unmet["lots"] - len(named)
        text += " " + w._("They are: %(lots)s.", lots="; ".join(lots) + (
            "; " + w.ngettext("and %(num)s other", "and %(num)s others", more) if more > 0 else ""))
    needed = [entry for entry in unmet.get("needed") or [] if entry["n"] is not None]
    if needed:
        text += " " + w._("A lot of %(sizes)s would keep both risks at their limits.", sizes=", ".join(
            w._("%(n)s children for %(indicator)s", n=w.num(entry["n"]), indicator=w.indicator(entry["indicator"]))
            for entry in needed))
    return Paragraph(spans=spans(text), style="warning")


def caveats(lqas: dict, w: Words) -> list[Paragraph]:
    """What an LQAS class does not say: an acceptable lot may miss the target, and the binomial rules
    ignore the clustering of the sample (with the design effects observed in the lots)."""
    out = []
    below = lqas.get("acceptable_below_target") or {}
    if below.get("lots"):
        out.append(Paragraph(spans=spans(w.ngettext(
            "%(num)s of the %(of)s acceptable classifications has an observed share that misses its target: an "
            "acceptable lot may be below the target, and only the estimates with their confidence intervals say by "
            "how much.",
            "%(num)s of the %(of)s acceptable classifications have an observed share that misses their target: an "
            "acceptable lot may be below the target, and only the estimates with their confidence intervals say by "
            "how much.", below["lots"], of=w.num(below["of"]))), style="note"))
    deff = lqas.get("deff")
    if deff:
        out.append(Paragraph(spans=spans(w._(
            "The decision rules are binomial: they treat the n children of a lot as a simple random sample. The "
            "children were sampled in clusters, and the design effects of these indicators in the lots range from "
            "%(low)s to %(high)s; where the design effect is above 1, the true risks of a class are larger than alpha "
            "and beta.", low=w.num(deff["low"], 2), high=w.num(deff["high"], 2))), style="note"))
    return out


def legend(w: Words) -> Paragraph:
    klass = w.labels["klass"]
    return Paragraph(spans=spans(
        Span(text=SYMBOLS["pass"], symbol=True), f" {klass['pass']} · ", Span(text=SYMBOLS["fail"], symbol=True),
        f" {klass['fail']} — " + w._(
            "Coverage: children vaccinated / children sampled, and the rule (at least d). Zero-dose and "
            "under-immunized: children with the condition / children sampled, and the rule (at most n − d).")),
        style="legend")


def lot_cell(lot: dict | None, w: Words) -> Cell:
    """A lot's class (✔ / ✘, coloured), the children counted / sampled, and the rule below."""
    if lot is None:
        return Cell(lines=[DASH], align="center", tone="na")
    if lot["class"] == "no_data":
        return Cell(lines=[w.labels["klass"]["no_data"]], align="center", tone="na")
    # the children counted and sampled, their share (the lot's observed value), then the rule
    if lot["direction"] == "lower_is_better":
        count, rule = lot["x_indicator"], f"≤ {w.num(lot['n'] - lot['d'])}"
    else:
        count, rule = lot["x"], f"≥ {w.num(lot['d'])}"
    lines = [f"{w.num(count)}/{w.num(lot['n'])}", w.pct(count / lot["n"]) if lot["n"] else DASH, rule]
    passed = lot["class"] == "pass"
    return Cell(symbol=SYMBOLS["pass" if passed else "fail"], lines=lines, align="center",
                tone="pass" if passed else "fail")


def matrix_table(matrix: dict, by_level: dict | None, w: Words) -> Table:
    """The lots by indicator, then the survey's lots put together (weighted, with the 95 % CI) per cohort."""
    header = [w.head(w._("Catchment area"), "left"), w.head(w._("Cohort"), "left"),
              *(w.head(w.indicator(indicator), "center") for indicator in matrix["indicators"])]
    rows = [Row(cells=[w.label(w.catchment(row["catchment"])), w.label(w.cohort(row["cohort"])),
                       *(lot_cell(lot, w) for lot in row["cells"])]) for row in matrix["rows"]]
    order = {cohort: i for i, cohort in enumerate(dict.fromkeys(row["cohort"] for row in matrix["rows"]))}
    survey = [row for row in (by_level or {}).get("rows", []) if row["level"] == "national"]
    for row in sorted(survey, key=lambda row: order.get(row["cohort"], len(order))):
        rows.append(Row(cells=[w.label(w.labels["all_catchments"], strong=True), w.label(w.cohort(row["cohort"])),
                               *(w.est(row["cells"].get(indicator)) for indicator in matrix["indicators"])],
                        total=True))
    notes = [Paragraph(spans=spans(w._(
        "%(all)s: the lots put together, each weighted by its population; weighted estimate, 95%% confidence "
        "interval and n.", all=w.labels["all_catchments"])), style="note")] if by_level else []
    # the lots' columns wider than by default: their headers are long indicator names
    return Table(caption=w._("LQAS class of each lot"), header=header, rows=rows, notes=notes,
                 widths=[1.4, 1.4, *(1.1 for _ in matrix["indicators"])])


def lots_elsewhere_note(context: dict[str, Any], w: Words) -> Paragraph:
    """Where the class of each lot is, when the lots are too many for this section."""
    lots = sum(1 for _ in {(lot["catchment"], lot["cohort"]) for lot in context["lqas"]["classification"]})
    return Paragraph(spans=spans(w._(
        "The %(lots)s lots of the %(areas)s catchment areas are too many to show here: the class of each is in Annex "
        "C, and every classification is in classification.csv and results.xlsx. Below, the lots are put together "
        "by %(unit)s.", lots=w.num(lots), areas=w.num(len(context["catchments"])), unit=w.unit_noun)), style="note")


def lost_catchment_note(lost: dict, w: Words) -> Paragraph:
    """A catchment area whose every record was excluded, and why."""
    reasons = "; ".join(f"{w.name('reason', r['reason'])} ({w.num(r['n'])})" for r in lost["reasons"])
    text = w._("%(catchment)s: no child left to analyse, all %(n)s records were excluded; its lots are shown as "
               "“no data”.", catchment=w.catchment(lost["catchment"]), n=w.num(lost["n"]))
    return Paragraph(spans=spans(f"{text} {w._('Reasons:')} {reasons}."), style="warning")


def failing_note(classification: list[dict], w: Words) -> Paragraph:
    failing = sum(1 for lot in classification if lot["class"] == "fail")
    classified = sum(1 for lot in classification if lot["class"] != "no_data")
    count = w.ngettext("%(num)s of %(all)s classifications is to improve.",
                       "%(num)s of %(all)s classifications are to improve.", failing, all=w.num(classified))
    details = w._("Details of every rule (n, x, d, alpha, beta), the table of decision rules and the operating "
                  "characteristic curves are in Annex B.")
    return Paragraph(spans=spans(f"{count} {details}"), style="note")


def lots_put_together(by_level: dict, w: Words) -> list[Block]:
    """The lots of each district and of the whole survey, weighted by population."""
    rows = [Row(cells=[w.label(w.labels["sex"]["all"] if row["level"] == "national" else row["name"]),
                       w.label(w.cohort(row["cohort"])),
                       *(w.est(row["cells"][indicator]) for indicator in by_level["indicators"])],
                total=row["level"] == "national") for row in by_level["rows"]]
    header = [w.head(by_level["title"], "left"), w.head(w._("Cohort"), "left"),
              *(w.head(w.indicator(indicator)) for indicator in by_level["indicators"])]
    return [Heading(level=2, text=w._("The lots put together"), anchor="lqas-by-level"),
            Paragraph(spans=spans(w._(
                "As LQAS manuals do, the lots of each district and of the whole survey are put together, each lot "
                "weighted by its population: the estimate and its 95%% confidence interval (normal approximation, "
                "lots as strata) for each target."))),
            Table(header=header, rows=rows, widths=[1.9, 1.4, *(1.1 for _ in by_level["indicators"])])]

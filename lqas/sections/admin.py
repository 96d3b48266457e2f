"""Administrative data (DHIS2) and the survey (``[admin]``): each area's administrative coverage against
the survey's, with the WHO DQR's ratio rule and WUENIC's difference rule side by side; admin and survey
zero-dose with the survey-implied target population; the WHO data-quality checks of the extract
(context key ``admin``, :func:`lqas.context.admin_context`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import Words


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    admin = context["admin"]
    rules = admin["rules"] or {}
    survey_rules = rules.get("survey", {"ratio_tolerance": 0.33, "gap": 0.10})
    unit = w.labels["header"].get(admin["column"], admin["column"])
    unit_noun = unit[:1].lower() + unit[1:]
    out: list[Block] = [Paragraph(spans=spans(intro(admin, w, unit_noun)), style="intro")]
    if not admin["rows"]:
        return [*out, Paragraph(spans=spans(w._("No %(unit)s of the survey has administrative data in the extracts.",
                                                  unit=unit_noun)))]
    out += [*w.figure("admin_vs_survey", w._(
                "Administrative coverage (diamond) and the survey's (square, with its 95%% confidence interval) of each "
                "dose, by %(unit)s; the dashed line is 100%%.", unit=unit_noun),
                source=w._("Source: DHIS2 extract (administrative data) and the survey.")),
            Paragraph(spans=spans(headline(admin, w, unit_noun, survey_rules))),
            comparison_table(admin, w, unit, survey_rules)]
    out += [Heading(level=2, text=w._("Zero-dose children and the survey-implied target population"),
                    anchor="admin-target"),
            Paragraph(spans=spans(w._(
                "Administrative zero-dose is 1 − the administrative coverage of %(dose)s; it is negative when more "
                "first doses were counted than children targeted. The survey-implied target population is the "
                "number of children that would make the administrative coverage equal the survey's: the doses "
                "reported ÷ the survey's coverage, its interval from the survey's. Where it is far from the target "
                "the programme uses, the denominator, not the count of doses, is the likelier error.",
                dose=w.name("dose", admin["doses"][0])))),
            target_table(admin, w, unit)]
    if admin["checks"]:
        out += [Heading(level=2, text=w._("Data-quality checks of the administrative data"), anchor="admin-quality"),
                Paragraph(spans=spans(w._(
                    "The WHO data-quality review's checks, on the extract's numbers summed by %(unit)s: each check "
                    "with its rule, the places and periods it judged and those it flagged (every one is in "
                    "dq_flags.csv).", unit=unit_noun))),
                checks_table(admin, w, rules)]
    if admin["unused"]:
        total = sum(r["rows"] for r in admin["unused"])
        reasons = "; ".join(f"{w.name('admin_unused', r['reason'])} ({w.num(r['rows'])})" for r in admin["unused"])
        out.append(Paragraph(spans=spans(w.ngettext(
            "%(num)s row of the extracts was not used: %(reasons)s. admin_unused.csv counts it by file and reason.",
            "%(num)s rows of the extracts were not used: %(reasons)s. admin_unused.csv counts them by file and reason.",
            total, reasons=reasons)), style="note"))
    return out


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def partial(row: dict[str, Any]) -> bool:
    """A row whose window the extract covers only in part."""
    return row["days_covered"] < (_date(row["window_end"]) - _date(row["window_start"])).days + 1


def intro(admin: dict[str, Any], w: Words, unit_noun: str) -> str:
    first = [r for r in admin["rows"] if r["dose"] == admin["doses"][0]] if admin["doses"] else []
    source = w.name("target_source", admin["target_source"])
    text = w._(
        "The administrative data (DHIS2) are set against the survey %(unit)s by %(unit)s. For each dose, the doses "
        "the health facilities reported while the surveyed children aged %(cohort)s were due it are divided by the "
        "target population of the same days (%(source)s), and compared with the survey's crude coverage of that "
        "dose in the same children (card or caregiver's recall). The survey's estimate has a confidence interval; "
        "the administrative numbers have none, but their errors (doses over- or under-reported, a wrong "
        "denominator) are what this comparison looks for.", unit=unit_noun, cohort=w.cohort(admin["cohort"]),
        source=source)
    if first:
        start = min(_date(r["window_start"]) for r in first)
        end = max(_date(r["window_end"]) for r in first)
        text += " " + w._("%(dose)s fell due from %(start)s to %(end)s.", dose=w.name("dose", admin["doses"][0]),
                          start=w.longdate(start), end=w.longdate(end))
    return text


def headline(admin: dict[str, Any], w: Words, unit_noun: str, rules: dict[str, float]) -> str:
    """How many units each rule flags, for each dose."""
    sentences = []
    for dose in admin["doses"]:
        rows = [r for r in admin["rows"] if r["dose"] == dose and r["admin_coverage"] is not None]
        if not rows:
            continue
        over = sum(bool(r["over_100"]) for r in rows)
        ratio = sum(bool(r["ratio_flag"]) for r in rows)
        gap = sum(bool(r["difference_flag"]) for r in rows)
        sentences.append(w._(
            "%(dose)s: administrative coverage above 100%% in %(over)s of %(total)s; the ratio rule flags %(ratio)s, "
            "the difference rule %(gap)s.", dose=w.name("dose", dose), over=w.num(over), total=w.num(len(rows)),
            ratio=w.num(ratio), gap=w.num(gap)))
    return " ".join([w._("By %(unit)s:", unit=unit_noun), *sentences]) if sentences else ""


def flag_cell(row: dict[str, Any], w: Words) -> Cell:
    marks = [label for key, label in (("over_100", "> 100\u00a0%" if w.lang == "fr" else "> 100%"),
                                      ("ratio_flag", w._("DQR")), ("difference_flag", "WUENIC")) if row[key]]
    return Cell(lines=marks or ["–"], align="left", tone="bad" if marks else "plain")


def comparison_table(admin: dict[str, Any], w: Words, unit: str, rules: dict[str, float]) -> Table:
    header = [w.head(unit, "left"), w.head(w._("Dose"), "left"), w.head(w._("Doses reported")),
              w.head(w._("Target population")), w.head(w._("Administrative coverage")),
              w.head(w._("Survey coverage (95%% CI)")), w.head(w._("Ratio admin / survey (95%% CI)")),
              w.head(w._("Difference (points)")), w.head(w._("Flags"), "left")]
    rows = []
    for r in admin["rows"]:
        mark = " †" if partial(r) else ""
        survey = None if r["estimate"] is None else {"estimate": r["estimate"], "ci_low": r["ci_low"],
                                                     "ci_high": r["ci_high"], "n": r["n"] or 0}
        ratio = (Cell(lines=[w.num(r["ratio"], 2), w._("%(low)s to %(high)s", low=w.num(r["ratio_ci_low"], 2),
                                                         high=w.num(r["ratio_ci_high"], 2))])
                 if r["ratio"] is not None else w.value("–"))
        rows.append(Row(cells=[w.label(w.name(admin["column"], r["unit"])), w.label(w.name("dose", r["dose"])),
                               w.value(w.num(r["doses"]) + mark), w.value(w.num(r["target"])),
                               w.value(w.pct(r["admin_coverage"]), tone="bad" if r["over_100"] else "plain"),
                               w.est(survey, show_n=False), ratio, w.value(w.pp(r["difference"])),
                               flag_cell(r, w)]))
    notes = [w._("> 100%%: administrative coverage above 100%%. DQR: the ratio admin / survey outside 1 ± %(tolerance)s "
                 "(WHO data-quality review). WUENIC: administrative and survey coverage more than %(gap)s points apart "
                 "(WHO/UNICEF estimates). The ratio's interval carries the survey's uncertainty only.",
                 tolerance=w.num(rules["ratio_tolerance"], 2), gap=w.num(100 * rules["gap"]))]
    if any(partial(r) for r in admin["rows"]):
        notes.append(w._("†: the extract covers only part of the days the dose fell due (it ends before they do, or "
                         "months were not reported); the doses and the target are those of the days it covers "
                         "(admin.csv, days_covered)."))
    if admin["total_rows"] > len(admin["rows"]):
        notes.append(w._("%(shown)s of %(total)s rows shown; every one is in admin.csv.", shown=w.num(len(admin["rows"])),
                         total=w.num(admin["total_rows"])))
    return Table(header=header, rows=rows, size="compact", widths=[1.4, 0.8, 0.9, 0.9, 1.0, 1.1, 1.1, 0.8, 0.9],
                 notes=[Paragraph(spans=spans(" ".join(notes)), style="note")],
                 source=w._("Source: DHIS2 extract (administrative data) and the survey."))


def target_table(admin: dict[str, Any], w: Words, unit: str) -> Table:
    dose = w.name("dose", admin["doses"][0])
    header = [w.head(unit, "left"), w.head(w._("Administrative zero-dose")),
              w.head(w._("Survey zero-dose (95%% CI)")), w.head(w._("Doses reported (%(dose)s)", dose=dose)),
              w.head(w._("Target population used")), w.head(w._("Survey-implied target (95%% CI)"))]
    rows = []
    for r in admin["zero_dose"]:
        zero = None if r["zero_dose"] is None else {"estimate": r["zero_dose"], "ci_low": r["zero_dose_ci_low"],
                                                    "ci_high": r["zero_dose_ci_high"], "n": r["n"] or 0}
        implied = (Cell(lines=[w.num(r["implied_target"]), w._("%(low)s to %(high)s", low=w.num(r["implied_target_ci_low"]),
                                                                high=w.num(r["implied_target_ci_high"]))])
                   if r["implied_target"] is not None else w.value("–"))
        negative = r["admin_zero_dose"] is not None and r["admin_zero_dose"] < 0
        rows.append(Row(cells=[w.label(w.name(admin["column"], r["unit"])),
                               w.value(w.pct(r["admin_zero_dose"]), tone="bad" if negative else "plain"),
                               w.est(zero, show_n=False), w.value(w.num(r["doses"])), w.value(w.num(r["target"])),
                               implied]))
    return Table(header=header, rows=rows, size="compact", widths=[1.6, 1, 1.2, 1, 1, 1.4],
                 source=w._("Source: DHIS2 extract (administrative data) and the survey."))


def rule_text(check: str, rules: dict[str, Any], w: Words) -> str:
    completeness, outliers = rules.get("completeness", {}), rules.get("outliers", {})
    consistency, coverage = rules.get("consistency", {}), rules.get("coverage", {})
    texts = {
        "completeness": lambda: w._("Share of the expected reports received in the quarter below %(t)s",
                                    t=w.pct(completeness["reporting_below"], 0)),
        "timeliness": lambda: w._("Share of the expected reports received on time below %(t)s",
                                  t=w.pct(completeness["timeliness_below"], 0)),
        "outlier_extreme": lambda: w._("A month's doses %(z)s or more standard deviations from the mean of its year's "
                                       "months", z=w.num(outliers["extreme_z"], 1)),
        "outlier_moderate": lambda: w._("A month's doses between %(low)s and %(high)s standard deviations from the mean "
                                        "of its year's months", low=w.num(outliers["moderate_z"], 1),
                                        high=w.num(outliers["extreme_z"], 1)),
        "outlier_modified_z": lambda: w._("Modified z-score (from the median and the median absolute deviation) "
                                          "above %(z)s", z=w.num(outliers["modified_z"], 1)),
        "consistency_over_time": lambda: w._("A year's doses outside 1 ± %(t)s times the mean of up to %(years)s years "
                                             "before it", t=w.num(consistency["ratio_tolerance"], 2),
                                             years=w.num(consistency["previous_years"])),
        "negative_dropout": lambda: w._("Fewer doses of the first dose than of the last in a year"),
        "coverage_over_100": lambda: w._("A year's doses above %(t)s of its target population",
                                         t=w.pct(coverage["above"], 0)),
        "year_on_year_swing": lambda: w._("Administrative coverage changing by more than %(t)s points from the year "
                                          "before", t=w.num(100 * coverage["year_swing"])),
    }
    return texts[check]() if check in texts and rules else ""


def checks_table(admin: dict[str, Any], w: Words, rules: dict[str, Any]) -> Table:
    header = [w.head(w._("Check"), "left"), w.head(w._("Rule"), "left"), w.head(w._("Judged")),
              w.head(w._("Flagged")), w.head(w._("Where and when"), "left")]
    rows = []
    for c in admin["checks"]:
        places = [place_text(p, c["check"], admin["column"], w) for p in c["places"]]
        if c["more"]:
            places.append(w.ngettext("and %(num)s more", "and %(num)s more", c["more"]))
        rows.append(Row(cells=[w.label(w.name("dq_check", c["check"])), w.value(rule_text(c["check"], rules, w), "left"),
                               w.value(w.num(c["judged"])),
                               w.value(w.num(c["flagged"]), tone="bad" if c["flagged"] else "plain"),
                               w.value("; ".join(places) or "–", "left")]))
    return Table(header=header, rows=rows, size="compact", widths=[1.4, 2.4, 0.6, 0.6, 2.6],
                 source=w._("Source: DHIS2 extract (administrative data)."))


def place_text(place: dict[str, Any], check: str, column: str, w: Words) -> str:
    """A flagged place and period: the unit, the dose where the check is by dose, the DHIS2 period."""
    where = w.name(column, place["unit"])
    if check in ("completeness", "timeliness"):
        return f"{where} {place['period']}"
    dose = place["dose"]
    dose = "–".join(w.name("dose", d) for d in dose.split("-")) if check == "negative_dropout" else w.name("dose", dose)
    return f"{where} ({dose}) {place['period']}"

"""Survey and sample: every record read is analysed or excluded (the reconciliation, with the reasons
for exclusion), then the children analysed by catchment area, cohort and sex (context key ``sample``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.findings import LISTED
from lqas.sections.words import Words

INDENT = "\u00a0" * 3  # a reason for exclusion, under "Records excluded"


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    sample = context["sample"]
    return [
        Paragraph(spans=spans(w._(
            "The survey sampled children in %(areas)s catchment areas (the strata), in clusters (villages or quarters), "
            "in %(cohorts)s age cohorts. Each catchment area and cohort is an LQAS lot.",
            areas=len(context["catchments"]), cohorts=len(context["cohorts"]))), style="intro"),
        Heading(level=2, text=w._("Records read, analysed and excluded"), anchor="sample-reconciliation"),
        Paragraph(spans=spans(w._(
            "%(read)s records were read: %(kept)s children were analysed and %(excluded)s records were excluded, for "
            "the reasons below. Every record read is either analysed or excluded.",
            read=w.num(sample["rows_read"]), kept=w.num(sample["kept"]), excluded=w.num(sample["excluded"])))),
        reconciliation_table(sample, w),
        Heading(level=2, text=w._("Children analysed by %(unit)s, cohort and sex", unit=w.unit_noun),
                anchor="sample-children"),
        children_table(sample, w),
        Paragraph(spans=spans(w._("Unweighted numbers of children. %(repairs)s fields were repaired by documented "
                                  "rules (Annex A).", repairs=w.num(sample["repairs"]))), style="note"),
        *sex_ratio_note(sample, w),
        *households_blocks(sample, w),
        *fieldwork_blocks(sample, w),
    ]


def fieldwork_blocks(sample: dict[str, Any], w: Words) -> list[Block]:
    """The fieldwork checks of ``lqas quality`` in brief: the flags by check, the units first named, and
    the checks the data could not feed."""
    found = sample.get("quality_checks")
    if not found:
        return []
    levels, names = w.labels.get("quality_level", {}), w.labels.get("quality_check", {})
    out: list[Block] = [Heading(level=2, text=w._("Fieldwork checks"), anchor="sample-fieldwork")]
    if not found["by_check"]:
        text = w._("The fieldwork checks (by interviewer, team, cluster, day and lot) raised no flag.")
    else:
        text = w._("The fieldwork checks (by interviewer, team, cluster, day and lot) raised flags; alerts: "
                   "%(alerts)s, warnings: %(warnings)s.", alerts=w.num(found["alert"]), warnings=w.num(found["warning"]))
    out.append(Paragraph(spans=spans(text)))
    if found["by_check"]:
        def where(unit: dict[str, str]) -> str:
            level, code = unit["level"], unit["unit"]
            if level == "lot" and "/" in code:
                catchment, cohort = code.split("/", 1)
                return f"{w.catchment(catchment)}, {w.cohort(cohort)}"
            if level == "cluster" and "/" in code:
                catchment, cluster = code.split("/", 1)
                return f"{w.catchment(catchment)}, {levels.get(level, level).lower()} {cluster}"
            if level == "day" and code != "?":
                return w.longdate(code)
            return f"{levels.get(level, level).lower()} {code}"

        rows = [Row(cells=[w.label(names.get(c["check"], c["check"])), w.value(w.num(c["flagged"])),
                           w.value(w.name("severity", c["severity"]), "left",
                                   tone="bad" if c["severity"] == "alert" else "warn"),
                           w.value(", ".join(where(u) for u in c["units"])
                                   + (" …" if c["flagged"] > len(c["units"]) else ""), "left")])
                for c in found["by_check"]]
        out.append(Table(header=[w.head(w._("Check"), "left"), w.head(w._("Flags")), w.head(w._("Severity"), "left"),
                                 w.head(w._("Where"), "left")], rows=rows, size="compact", widths=[2, 0.6, 0.9, 4],
                         source=w._("Source: the survey's records; every check of every unit is in quality.csv "
                                    "(lqas quality gives them alone, with a page per interviewer).")))
    if found["off"]:
        out.append(Paragraph(spans=spans(w._(
            "Checks turned off, for want of the data they need: %(checks)s.",
            checks=", ".join((names.get(c) or levels.get(c, c)).lower() for c in found["off"]))), style="note"))
    return out


def households_blocks(sample: dict[str, Any], w: Words) -> list[Block]:
    """The households visited and the response rate (from the teams' household log), or that the survey
    gave none to compute it from."""
    out: list[Block] = [Heading(level=2, text=w._("Households visited and response"), anchor="sample-households")]
    households = sample.get("households")
    if not households:
        return [*out, Paragraph(spans=spans(w._(
            "The survey's files hold the children found, not the households visited: without the teams' household "
            "log ([households] in the project file), the response rate cannot be given.")))]
    rows = households["rows"]
    total = rows[-1]
    out.append(Paragraph(spans=spans(w._(
        "The teams visited %(visited)s households in %(clusters)s clusters; %(none)s had no child of the cohorts' "
        "ages. Of the other %(eligible)s, %(interviewed)s were interviewed: a household response rate of "
        "%(rate)s (interviewed / households not known to have no eligible child; households absent at every visit "
        "count as eligible).", visited=w.num(total["visited"]), clusters=w.num(total["clusters"]),
        none=w.num(total["no_eligible_child"]), eligible=w.num(total["eligible"]),
        interviewed=w.num(total["interviewed"]), rate=w.pct(total["response_rate"])))))
    keys = ("visited", "no_eligible_child", "eligible", "interviewed", "absent", "refused", "other")
    names = {"visited": w._("Visited"), "no_eligible_child": w._("No eligible child"), "eligible": w._("Eligible"),
             "interviewed": w._("Interviewed"), "absent": w._("Absent"), "refused": w._("Refused"),
             "other": w._("Other")}
    keys = tuple(key for key in keys if key not in ("other",) or total[key])
    header = [w.head(w.unit_title, "left"), w.head(w._("Clusters")),
              *(w.head(names[key]) for key in keys), w.head(w._("Response rate"))]
    table_rows = [Row(cells=[w.label(w.labels["sex"]["all"] if row["unit"] == "all" else w.unit(row["unit"])),
                             w.value(w.num(row["clusters"])), *(w.value(w.num(row[key])) for key in keys),
                             w.value(w.pct(row["response_rate"]) if row["response_rate"] is not None else "–")],
                      total=row["unit"] == "all") for row in rows]
    out.append(Table(header=header, rows=table_rows, size="compact",
                     source=w._("Source: the teams' household log.")))
    return out


def sex_ratio_note(sample: dict[str, Any], w: Words) -> list[Paragraph]:
    """The lots whose share of girls is unusual (shaded in the table): girls missed, or a sampling problem."""
    unusual = sample.get("unusual_sex_ratio") or []
    if not unusual:
        return []
    lots = [w._("%(unit)s, %(cohort)s: %(share)s girls (%(girls)s of %(n)s; p = %(p)s)", unit=w.unit(lot["unit"]),
                cohort=w.cohort(lot["cohort"]), share=w.pct(lot["share"], 0), girls=w.num(lot["girls"]),
                n=w.num(lot["known"]), p=w.num(lot["p_value"], 3)) for lot in unusual]
    return [Paragraph(spans=spans(w._(
        "Unusual share of girls (exact binomial test against the survey's share, p < 0.05): %(lots)s. Check that "
        "girls were not missed in the households visited, and read this lot's girls–boys comparisons with care.",
        lots="; ".join(lots[:LISTED]) + ("; " + w.ngettext("and %(num)s other", "and %(num)s others",
                                                             len(lots) - LISTED) if len(lots) > LISTED else ""))),
        style="warning")]


def reconciliation_table(sample: dict[str, Any], w: Words) -> Table:
    """Records read, analysed, excluded (by reason), and the check that analysed + excluded = read."""
    reasons = [Row(cells=[w.label(INDENT + w.name("reason", row["reason"])), w.value(w.num(row["n"]))])
               for row in sample["exclusions_by_reason"]]
    return Table(header=[w.head(w._("Records"), "left"), w.head(w._("Number"))],
                 rows=[Row(cells=[w.label(w._("Records read")), w.value(w.num(sample["rows_read"]))], total=True),
                       Row(cells=[w.label(w._("Children analysed")), w.value(w.num(sample["kept"]))]),
                       Row(cells=[w.label(w._("Records excluded")), w.value(w.num(sample["excluded"]))]),
                       *reasons,
                       Row(cells=[w.label(w._("Analysed + excluded")), balance_cell(sample, w)], total=True)],
                 widths=[3, 1], size="compact")


def balance_cell(sample: dict[str, Any], w: Words) -> Cell:
    """Analysed + excluded, then ``= read ✔`` when they add up to the records read, ``≠ read ✘`` when not."""
    balanced = sample["kept"] + sample["excluded"] == sample["rows_read"]
    check = f"= {w.num(sample['rows_read'])} ✔" if balanced else f"≠ {w.num(sample['rows_read'])} ✘"
    return Cell(lines=[w.num(sample["kept"] + sample["excluded"]), check], tone="pass" if balanced else "fail")


def children_table(sample: dict[str, Any], w: Words) -> Table:
    """Children analysed per lot, then per cohort and overall: girls, boys, (sex unknown,) total, % girls."""
    unknown = bool(sample["sex_unknown"])
    unusual = {(lot["unit"], lot["cohort"]) for lot in sample.get("unusual_sex_ratio") or []}
    sex = w.labels["sex"]
    header = [w.head(w.unit_title, "left"), w.head(w._("Cohort"), "left"), w.head(sex["F"]),
              w.head(sex["M"]), *([w.head(w._("Sex unknown"))] if unknown else []), w.head(w._("Total")),
              w.head(w._("Girls (%%)"))]
    rows = [Row(cells=[w.label(w.unit(lot["unit"])), w.label(w.cohort(lot["cohort"])),
                       w.value(w.num(lot["F"])), w.value(w.num(lot["M"])),
                       *([w.value(w.num(lot["other"]))] if unknown else []), w.value(w.num(lot["total"])),
                       w.value(w.pct(lot["F"] / lot["total"] if lot["total"] else None, 0),
                               tone="warn" if (lot["unit"], lot["cohort"]) in unusual else "plain")],
                total=lot["unit"] == "all")
            for lot in sample["lots"] + sample["totals"]]
    return Table(header=header, rows=rows)

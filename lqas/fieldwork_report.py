"""The outputs of ``lqas quality`` (issue 20): ``quality.csv`` (every unit each check judged),
``quality.xlsx``, and ``quality.html`` / ``quality.pdf`` written as blocks (:mod:`lqas.blocks`) through the
report's engine: the flags to act on first, then one page per interviewer (or team), the days, and the
checks with their thresholds. Both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lqas.blocks import Block, Cell, Document, Heading, ListBlock, PageBreak, Paragraph, Row, Table, spans
from lqas.config.fieldwork import FieldworkChecks
from lqas.fieldwork import Quality, explain
from lqas.labels import code_labels, cohort_label, gettext
from lqas.sections.words import longdate, num, pct

QUALITY_FORMATS = ("csv", "xlsx", "html", "pdf")


def write_quality_outputs(found: Quality, summary: dict[str, Any], checks: FieldworkChecks, out: Path, lang: str,
                          formats: Sequence[str] = QUALITY_FORMATS,
                          names: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Write the chosen outputs into ``out``; return their file names. ``names``: the project's labels
    (``catchment`` ...) the report names areas by."""
    from lqas.safety import write_csv

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "csv" in formats:
        write_csv(found.checks, out / "quality.csv")
        written.append("quality.csv")
    if "xlsx" in formats:
        from lqas.workbook import write_workbook

        write_workbook(out / "quality.xlsx", quality_sheets(found, checks, lang))
        written.append("quality.xlsx")
    if {"html", "pdf"} & set(formats):
        document = quality_document(found, summary, checks, lang, names)
        if "html" in formats:
            from lqas.typeset import html_page

            (out / "quality.html").write_text(html_page(document, None), encoding="utf-8")
            written.append("quality.html")
        if "pdf" in formats:
            from lqas.typeset import write_pdf

            write_pdf(document, out / "quality.pdf", out)
            written.append("quality.pdf")
    return written


# how each check's value, reference and threshold read: a share, a count, a number (a ratio, a p-value
# threshold) or minutes
KINDS = {"duration": ("pct", "min", "pct"), "overlap": ("pct", "dec", "pct"), "per_day": ("int", "dec", "int"),
         "heaping_day": ("pct", "pct", "pct"), "heaping_month": ("pct", "pct", "pct"),
         "boundary": ("dec", "dec", "dec"), "sex_ratio": ("pct", "pct", "dec"), "card_seen": ("pct", "pct", "pct"),
         "repairs": ("pct", "dec", "pct"), "duplicates": ("int", "int", "int"),
         **{check: ("pct", "pct", "pct") for check in ("recall_only", "dont_know", "besd_nonresponse", "refusals",
                                                       "absences")},
         "gps_distance": ("pct", "pct", "pct")}


def N_(text: str) -> str:
    """A msgid translated where it is used (marks it for the catalog's extraction)."""
    return text


# what the checks of a share against the survey's count (lqas.config.fieldwork.ShareAbove)
SHARE_CHECKS = {
    "recall_only": N_("children with the caregiver's recall as their only vaccination evidence"),
    "dont_know": N_("recall answers \"don't know\""),
    "besd_nonresponse": N_("BeSD questions left unanswered"),
    "refusals": N_("households visited that refused"),
    "absences": N_("households visited found absent"),
}


def _value(row: dict[str, Any], key: str, lang: str) -> str:
    value = row[key]
    if value is None or pd.isna(value):
        return "–"
    kind = KINDS.get(row["check"], ("dec",) * 3)[("value", "reference", "threshold").index(key)]
    if kind == "pct":
        return pct(value, lang)
    if kind == "int":
        return num(value, lang)
    if kind == "min":
        return f"{num(value, lang, 1)} min"
    return num(value, lang, 2)


def quality_document(found: Quality, summary: dict[str, Any], checks: FieldworkChecks, lang: str,
                     names: dict[str, dict[str, str]] | None = None) -> Document:
    """The fieldwork report as blocks, in ``lang``."""
    labels = code_labels(lang)
    areas = (names or {}).get("catchment", {})

    def where(level: str, unit: str) -> str:
        """A unit as a reader names it: a lot by its area and cohort, a cluster with its area's name."""
        if level in ("lot", "cluster") and "/" in unit:
            area, rest = unit.split("/", 1)
            rest = cohort_label(rest, lang) if level == "lot" else rest
            return f"{labels['quality_level'][level]} {areas.get(area, area)}, {rest}"
        return f"{labels['quality_level'].get(level, level)} {unit}"

    def _(text: str, **values: Any) -> str:
        return gettext(text, lang, **values)

    names, levels, severity = labels["quality_check"], labels["quality_level"], labels["severity"]
    flags = found.flags.to_dict("records")
    counts = summary["counts"]
    blocks: list[Block] = [Heading(level=1, text=_("Flags to act on"), anchor="flags")]
    blocks.append(Paragraph(spans=spans(_(
        "%(records)s records checked (children kept and records excluded): %(alerts)s alerts to act on now, "
        "%(warnings)s warnings to look at.", records=num(found.rows, lang), alerts=num(counts["alert"], lang),
        warnings=num(counts["warning"], lang))), style="intro"))
    if flags:
        blocks.append(Table(header=[_head(_("Severity"), "left"), _head(_("Where"), "left"), _head(_("Check"), "left"),
                                    _head(_("What was found"), "left")],
                            rows=[Row(cells=[Cell(lines=[severity[f["severity"]]], align="left",
                                                  tone="bad" if f["severity"] == "alert" else "warn"),
                                             Cell(lines=[where(f["level"], str(f["unit"]))],
                                                  align="left"),
                                             Cell(lines=[names.get(f["check"], f["check"])], align="left"),
                                             Cell(lines=[explain(f, checks, lang)], align="left")])
                                  for f in flags],
                            widths=[0.8, 1.6, 1.6, 4], size="compact", source=""))
    else:
        blocks.append(Paragraph(spans=spans(_("No check raised a flag."))))
    if found.off:
        blocks.append(Paragraph(spans=spans(_("Checks turned off, for want of the data they need:")), style="note"))
        blocks.append(ListBlock(items=[spans(f"{item['check']}: {item['reason']}") for item in found.off]))
    judged = found.checks
    for level, breaks in (("interviewer", True), ("team", True)):
        part = judged[judged["level"] == level]
        if part.empty:
            continue
        blocks.append(Heading(level=1, text=_("By %(level)s", level=levels[level].lower()), anchor=f"by-{level}"))
        for i, (unit, rows) in enumerate(part.groupby("unit", sort=True)):
            if i and breaks:
                blocks.append(PageBreak())
            blocks += [Heading(level=2, text=f"{levels[level]} {unit}", anchor=f"{level}-{i}"),
                       _unit_table(rows.to_dict("records"), names, severity, checks, lang, _)]
    days = judged[(judged["level"] == "day") & (judged["check"] == "duplicates")]
    if len(days):
        blocks.append(Heading(level=1, text=_("By day"), anchor="by-day"))
        blocks.append(Table(header=[_head(_("Day"), "left"), _head(_("Records")), _head(_("Duplicate records"))],
                            rows=[Row(cells=[Cell(lines=[longdate(r["unit"], lang) if r["unit"] != "?" else "?"],
                                                  align="left"),
                                             Cell(lines=[num(r["n"], lang)]),
                                             Cell(lines=[num(r["value"], lang)], tone="bad" if r["flag"] else "plain")])
                                  for r in days.to_dict("records")], size="compact", widths=[2, 1, 1], source=""))
    blocks.append(Heading(level=1, text=_("Checks and thresholds"), anchor="checks"))
    blocks.append(Paragraph(spans=spans(_("Each check, its severity and what its flag means at this project's "
                                          "thresholds. Source: %(source)s.", source=checks.reference.source))))
    rules = []
    # every check of the file, by its code where the labels do not name it yet
    for check in checks.names:
        rule = getattr(checks, check)
        rules.append(Row(cells=[Cell(lines=[names.get(check, check)], align="left"),
                                Cell(lines=[severity[rule.severity]], align="left"),
                                Cell(lines=[_threshold_text(check, checks, lang, _)], align="left")]))
    blocks.append(Table(header=[_head(_("Check"), "left"), _head(_("Severity"), "left"), _head(_("Flagged when"), "left")],
                        rows=rules, widths=[1.8, 0.8, 4.5], size="compact", source=""))
    meta = [summary["survey"], _("%(records)s records checked.", records=num(found.rows, lang))]
    if found.since:
        meta.append(_("Records interviewed from %(day)s.", day=longdate(found.since, lang)))
    meta.append(_("Checked on %(date)s.", date=longdate(dt.date.today(), lang)))
    from lqas.sections import typography

    return typography(Document(lang=lang, title=_("Fieldwork quality"), subtitle=summary["survey"], meta=meta,
                               contents_title=_("Contents"), blocks=blocks))


def _detail(row: dict[str, Any], checks: FieldworkChecks, lang: str, _) -> str:
    """A row's detail as a reader says it (quality.csv keeps the code): the minutes, the days or month of
    birth, the cohort and edge of a boundary."""
    from babel.dates import format_date

    check = row["check"]
    if check == "duration":
        return _("under %(minutes)s min", minutes=num(checks.duration.minutes, lang))
    if check == "heaping_day":
        return ", ".join(map(str, checks.heaping_day.days))
    if check == "heaping_month":
        return format_date(dt.date(2023, checks.heaping_month.month, 1), "MMMM", locale="fr_FR" if lang == "fr"
                           else "en_GB")
    if check == "boundary" and row["detail"]:
        cohort, edge, days, _unit = row["detail"].split()
        text = (_("upper limit, %(days)s days", days=num(int(days), lang)) if edge == "upper"
                else _("lower limit, %(days)s days", days=num(int(days), lang)))
        return f"{cohort_label(cohort, lang)}: {text}"
    if check == "besd_nonresponse" and row["detail"]:
        return _("%(n)s questions", n=num(int(row["detail"].split()[0]), lang))
    return row["detail"] or "–"


def _head(text: str, align: str = "right") -> Cell:
    return Cell(lines=[text], align=align, strong=True)


def _unit_table(rows: list[dict[str, Any]], names: dict, severity: dict, checks: FieldworkChecks, lang: str,
                _) -> Table:
    return Table(header=[_head(_("Check"), "left"), _head(_("Detail"), "left"), _head("n"), _head(_("Value")),
                         _head(_("Reference")), _head(_("Threshold")), _head(_("Flag"), "left")],
                 rows=[Row(cells=[Cell(lines=[names.get(r["check"], r["check"])], align="left"),
                                  Cell(lines=[_detail(r, checks, lang, _)], align="left"),
                                  Cell(lines=[num(r["n"], lang)]),
                                  Cell(lines=[_value(r, "value", lang)], tone="bad" if r["flag"] else "plain"),
                                  Cell(lines=[_value(r, "reference", lang)]), Cell(lines=[_value(r, "threshold", lang)]),
                                  Cell(lines=[severity[r["severity"]] if r["flag"] else "–"], align="left")])
                       for r in rows], widths=[2, 1.6, 0.6, 0.9, 0.9, 0.9, 0.8], size="compact", source="")


def _threshold_text(check: str, checks: FieldworkChecks, lang: str, _) -> str:
    rule = getattr(checks, check)
    texts = {
        "duration": lambda: _("more than %(share)s of an interviewer's interviews shorter than %(minutes)s minutes",
                              share=pct(rule.share, lang, 0), minutes=num(rule.minutes, lang)),
        "overlap": lambda: _("more than %(share)s of an interviewer's interviews overlapping another of theirs",
                             share=pct(rule.max_share, lang, 0)),
        "per_day": lambda: _("more than %(n)s interviews by one interviewer in a day", n=num(rule.max_interviews, lang)),
        "heaping_day": lambda: _("at least %(ratio)s times the expected share of birth dates on the %(days)s, and a "
                                 "binomial test below %(alpha)s", ratio=num(rule.max_ratio, lang, 1),
                                 days=", ".join(map(str, rule.days)), alpha=num(rule.alpha, lang, 2)),
        "heaping_month": lambda: _("at least %(ratio)s times the expected share of births in month %(month)s, and a "
                                   "binomial test below %(alpha)s", ratio=num(rule.max_ratio, lang, 1),
                                   month=rule.month, alpha=num(rule.alpha, lang, 2)),
        "boundary": lambda: _("fewer than %(ratio)s children in the last %(days)s days of a cohort's window for one in "
                              "the %(days)s days before, and a binomial test below %(alpha)s",
                              ratio=num(rule.min_ratio, lang, 1), days=rule.days, alpha=num(rule.alpha, lang, 2)),
        "sex_ratio": lambda: _("a share of girls unlikely from the survey's (binomial test below %(alpha)s)",
                               alpha=num(rule.alpha, lang, 2)),
        "card_seen": lambda: _("cards seen %(gap)s points below the rest of the survey, and a binomial test below "
                               "%(alpha)s", gap=num(100 * rule.max_gap, lang), alpha=num(rule.alpha, lang, 2)),
        "repairs": lambda: _("more than %(share)s of an interviewer's children with a field repaired",
                             share=pct(rule.max_share, lang, 0)),
        "duplicates": lambda: _("more than %(n)s duplicate records in a day or by an interviewer",
                                n=num(rule.max_records, lang)),
        **{check: lambda what=what: _("a share of %(what)s more than %(gap)s points above the survey's, and a "
                                     "binomial test below %(alpha)s", what=_(what), gap=num(100 * rule.max_gap, lang),
                                     alpha=num(rule.alpha, lang, 2))
           for check, what in SHARE_CHECKS.items()},
        "gps_distance": lambda: _("more than %(share)s of the households more than %(km)s km from their cluster's "
                                  "centre (the positions themselves are never printed)",
                                  share=pct(rule.max_share, lang, 0), km=num(rule.km, lang)),
    }
    text = texts[check]()
    if getattr(rule, "min_n", 0):
        text += " " + _("(judged from %(n)s records)", n=num(rule.min_n, lang))
    return text


def quality_sheets(found: Quality, checks: FieldworkChecks, lang: str) -> list:
    """quality.xlsx: the flags with their explanation, then every unit each check judged."""
    from lqas.workbook import Sheet

    labels = code_labels(lang)

    def _(text: str, **values: Any) -> str:
        return gettext(text, lang, **values)

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            _("Severity"): frame["severity"].map(labels["severity"]),
            _("Level"): frame["level"].map(lambda v: labels["quality_level"].get(v, v)),
            _("Unit"): frame["unit"].astype(str), _("Check"): frame["check"].map(lambda v: labels["quality_check"].get(v, v)),
            _("Code"): frame["check"], _("Detail"): frame["detail"], "n": frame["n"], _("Value"): frame["value"],
            _("Reference"): frame["reference"], _("Threshold"): frame["threshold"], "p": frame["p_value"],
            _("Flag"): frame["flag"].astype(bool)})

    flags = named(found.flags).assign(**{_("What was found"): [explain(r, checks, lang)
                                                                for r in found.flags.to_dict("records")]})
    return [Sheet(_("Flags"), flags, note=_("The flags to act on, alerts first (quality.csv holds every check)."),
                  widths={_("What was found"): 80}),
            Sheet(_("Every check"), named(found.checks),
                  note=_("Every unit each check judged, flagged or not, as quality.csv."))]

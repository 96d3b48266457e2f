"""Report context: the run's results as plain, labelled data in one language, for every template."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lqas import __version__
from lqas.besd import load_besd_registry, priority_indicators
from lqas.classify import lost_catchments, lot_targets
from lqas.clusters import organ_pipe_context
from lqas.config import Project, load_scorecard_config
from lqas.config.priorities import CATEGORIES
from lqas.design import ALL
from lqas.dtypes import distinct_text
from lqas.errors import LqasError
from lqas.labels import LANGUAGES, code_labels, cohort_label
from lqas.parallel import Beside
from lqas.report import (
    CHARTS_DIR,
    GAP_FINDING,
    PANELS,
    SIGNIFICANCE,
    build_context,
    definitions,
    key_findings,
    lqas_matrix,
    panel_indicators,
)
from lqas.results import Results
from lqas.rules import decision_table, oc_curve, sample_size
from lqas.scorecard import LIGHTS
from lqas.vaccination import not_collected
from lqas.views import (
    EstimateIndex,
    counts_by,
    coverage_by_dose,
    coverage_by_unit,
    decision_table_rows,
    evidence_sources,
    group_table,
    level_table,
    panel,
    sample_table,
    sex_table,
    status_table,
)
from lqas.weights import cohort_shares


def report_context(results: Results, lang: str, *, charts_dir: Path) -> dict:
    """The report context of a run (see :func:`lqas.report.build_context`); draws the charts into
    ``charts_dir`` on the way."""
    with ExitStack() as beside:  # work made beside the context is stopped if making it fails
        return _report_context(results, lang, charts_dir, beside)


def _report_context(results: Results, lang: str, charts_dir: Path, beside: ExitStack) -> dict:
    # matplotlib loaded before the organ-pipe plots' process is forked: once, not by both processes
    from lqas.charts import drawn_beside
    project, derived, registry = results.project, results.derived, results.registry
    estimates, classification = results.estimates, results.classification
    comparisons, scorecard = results.comparisons, results.scorecard
    targets = lot_targets(project.lqas, registry)
    table, schedule = derived.table, derived.schedule
    cohorts = [name for name, _ in sorted(project.cohorts.items(), key=lambda item: item[1])]
    cohorts = [c for c in cohorts if c in set(pd.unique(table["cohort"]))]
    oldest = cohorts[-1] if cohorts else ALL
    catchments = list(_catchment_labels(project, table, lang))
    labels_by_lang = {code: run_labels(results, code) for code in LANGUAGES}
    labels = labels_by_lang[lang]
    target_records = [{"indicator": t.indicator, "good": t.good, "bad": t.bad, "lower_is_better": t.lower_is_better,
                       "cohorts": list(t.cohorts) if t.cohorts else None,
                       "classified_good": t.thresholds[0], "classified_bad": t.thresholds[1]} for t in targets]
    goals = {t["indicator"]: t["good"] for t in target_records
             if not t["cohorts"] or set(t["cohorts"]) >= set(cohorts)}
    # the units the body's tables show: the catchment areas, or the level above them for a national survey
    many = len(catchments) > project.report.areas_in_body
    # the organ-pipe plots, most of the report of a survey of a few areas, drawn by a process of their own
    # (lqas.parallel) while the rest of the context is made
    organ_pipes = beside.enter_context(Beside(_organ_pipes, results, labels, oldest, goals, charts_dir, many,
                                              cells=table.size))
    column, units = _body_units(project, table, catchments, lang)
    # the rounds', DHIS2's and small-area parts, each with its charts, drawn by another process of their own
    further = (beside.enter_context(Beside(_further_contexts, results, column, units, labels, charts_dir,
                                           cells=table.size))
               if any(part is not None for part in (project.rounds, project.admin, project.small_area)) else None)
    reported = _report_rows(estimates, project, many)  # what the tables and charts read
    index = EstimateIndex(reported, project.report.small_cell_n)
    doses = [dose.key for dose in schedule.doses]

    statuses = [s for s in ("zero_dose", "under_immunized", "penta3")
                if "vaccination_status" in table and s in set(pd.unique(table["vaccination_status"].dropna()))]
    besd = None
    besd_shown: list[str] = []
    if any(key.startswith("besd_") for key in index.indicators):
        besd_registry = load_besd_registry()
        priority = [key for key in priority_indicators() if key in index]
        core = [spec["indicator"] for spec in besd_registry["items"].values() if spec["indicator"] in index]
        gender = [m["gender_indicator"] for m in besd_registry["multiselect"].values()
                  if m.get("gender_indicator") in index]
        besd_shown = [*priority, *[k for k in core if k not in priority], *gender]
        besd = {"priority": priority, "statuses": statuses,
                "sex_tables": {key: sex_table(index, key, [ALL], units, column) for key in priority},
                "by_status": status_table(index, besd_shown, statuses)}
    rules_used = _rules_used(classification, target_records, labels)
    # the body's charts drawn by a process of their own while the rest of the context is made (their PNG
    # files drawn by it afterwards, and waited for once the report's pages are made: lqas.charts)
    body_charts = drawn_beside(
        partial(report_charts, column=column, units=units, targets=goals, coverage_target=project.report.coverage_target),
        reported, labels, cohorts, oldest, doses, besd, rules_used, charts_dir, cells=table.size)

    panel_keys = [(key, panel_indicators(keys, [c for c in table.columns if c in index]), cohort) for key, keys, cohort in PANELS]
    panels = [p for key, keys, cohort in panel_keys
              if (p := panel(index, key, keys, oldest if cohort == "oldest" else ALL, units, column)) is not None]
    collected = [d for d in schedule.fully_vaccinated if d not in set(not_collected(table, schedule))]
    for p in panels:  # "fully vaccinated" means the doses collected: the title says which
        if p["key"] == "full":
            p["doses"] = [labels["dose"].get(d, d) for d in collected]
    sections = {
        "sex_tables": {key: sex_table(index, key, cohorts, units, column) for key in ("zero_dose", "ui_dtp1_not_dtp3")
                       if key in index},
        "coverage": {"by_dose": [coverage_by_dose(index, doses, cohort) for cohort in cohorts],
                     "by_unit": coverage_by_unit(index, doses, oldest, units, column),
                     "sources": evidence_sources(table, doses, oldest)},
        "panels": panels,
        "besd": besd,
        "groups": _groups(project, table, index, lang),
    }
    lost = lost_catchments(table, derived.exclusions)
    excluded_by_catchment = derived.exclusions.groupby("catchment") if lost else None
    lqas = {"classification": classification.to_dict("records"),
            # a national survey's lots are too many for the body: each area's classes are in the annex
            "matrix": None if many else lqas_matrix(classification, catchments + lost, cohorts),
            # lots whose every record was excluded: shown as "no data" and said, never dropped
            "lost_catchments": [{"catchment": c, "n": len(excluded_by_catchment.get_group(c)),
                                 "reasons": counts_by(excluded_by_catchment.get_group(c), "reason", "reason")}
                                for c in lost],
            "targets": target_records, "alpha": project.lqas.alpha, "beta": project.lqas.beta,
            # lots too small for any rule to keep both risks at their limits: said, never hidden
            "limits_unmet": _limits_unmet(classification, target_records, project.lqas.alpha, project.lqas.beta),
            # acceptable lots whose observed value misses the target: an LQAS pass is not "reached the target"
            "acceptable_below_target": _acceptable_below_target(classification),
            # the binomial rules take the children as a simple random sample; they were sampled in clusters
            "deff": _lot_deff_range(estimates, [t["indicator"] for t in target_records], project.lqas.lot,
                                    (*project.levels.columns, "district")),
            "by_level": _lots_by_level(results.lots_by_level, project, labels, target_records, lang),
            "lot": list(project.lqas.lot),
            "decision_table": decision_table_rows(decision_table(range(12, 31), long=True)),
            "rules_used": rules_used}
    if comparisons.empty:
        comparisons = None
    findings = key_findings(index, classification, cohorts=cohorts, catchments=catchments, oldest=oldest,
                            targets=target_records, besd_priority=besd["priority"] if besd else (),
                            statuses=statuses, comparisons=comparisons)
    shown = ["zero_dose", "ui_dtp1_not_dtp3", f"{doses[0]}_crude", f"{doses[0]}_valid",
             *[key for _, keys, _ in panel_keys for key in keys], *besd_shown]
    charts = body_charts()
    later_charts: dict[str, str] = {}  # after the organ-pipe plots, once drawn
    summary = summary_context(results, index, cohorts, labels, charts_dir, many=many)
    rounds, admin, small_area = further.result() if further is not None else (None, None, None)
    if rounds is not None:
        later_charts |= rounds["charts"]
    if admin is not None:
        later_charts |= admin["charts"]
    if small_area is not None:
        later_charts |= small_area["charts"]
    if summary is not None and summary["categories"] is not None:
        later_charts["red_categories"] = summary["categories"]["chart"]
    quality = {"rows_read": derived.rows_read, "kept": len(table), "excluded": len(derived.exclusions),
               "exclusions_by_reason": counts_by(derived.exclusions, "reason", "reason"),
               "repairs_by_rule": counts_by(derived.repairs, "rule", "rule"),
               "repairs": len(derived.repairs), "remarks": results.remarks or [],
               "remarks_recorded": len(derived.free_text),
               "remarks_reviewed": results.remarks is not None}
    sample = {**sample_table(table, units, cohorts, column), "rows_read": quality["rows_read"],
              "kept": quality["kept"], "excluded": quality["excluded"], "repairs": quality["repairs"],
              "exclusions_by_reason": quality["exclusions_by_reason"]}
    sample["unusual_sex_ratio"] = unusual_sex_ratios(sample["lots"])
    sample["fieldwork"] = fieldwork_facts(table)
    sample["households"] = _households_shown(results.households, table, column, units)
    sample["quality_checks"] = _quality_shown(results.quality)
    design = project.design
    methods = {"strata": design.strata, "psu": design.psu, "ci": design.ci, "level": design.level,
               "weights": design.weights, "singleton": design.singleton, "alpha": project.lqas.alpha,
               "population_shares": _population_shares(project),
               # populations known above the lots (e.g. by district): the columns they are known by
               "population_level": ([c for c in project.populations.level if c != "cohort"]
                                    if project.design.weights == "population" and project.populations.level else None),
               "beta": project.lqas.beta, "records": project.vaccination.records,
               "later_dose_implies_earlier": project.vaccination.later_dose_implies_earlier,
               "schedule": schedule.name, "fully_vaccinated": list(schedule.fully_vaccinated),
               "not_collected": [labels["dose"].get(d, d) for d in not_collected(table, schedule)],
               "introduced": [{"doses": [labels["dose"].get(d, d) for d in schedule.doses_of(name)],
                               "column": column,
                               "values": [labels.get(column, {}).get(str(v), str(v)) for v in values]}
                              for name, areas in project.vaccination.introduced.items()
                              for column, values in areas.items()],
               "cohorts": {name: list(window) for name, window in project.cohorts.items()},
               "small_cell_n": project.report.small_cell_n, "gap_finding": GAP_FINDING,
               "small_numbers": project.report.small_numbers, "caution_n": project.report.caution_n,
               "population_source": _by_language(project.populations.source),
               "significance": SIGNIFICANCE,
               "targets": [t.model_dump() for t in project.lqas.targets]}
    clusters = organ_pipes.result()
    if clusters is not None:  # every chart of the run is named in `charts`
        charts |= {Path(chart).stem: chart for chart in clusters["charts"]}
    charts |= later_charts
    periods = _by_language(project.survey.period) or dict.fromkeys(LANGUAGES)
    survey = {**project.survey.model_dump(), "name": project.report.title.get(lang, project.survey.name),
              "titles": {code: project.report.title.get(code, project.survey.name) for code in ("en", "fr")},
              "period": periods[lang], "periods": periods, "cover": cover_context(project, charts_dir)}
    return build_context(
        survey=survey, lang=lang, version=__version__, labels=labels, labels_by_lang=labels_by_lang,
        catchments=catchments, cohorts=cohorts, units=_units_context(column, units, labels, lang), sample=sample,
        areas=_areas_annex(project, table, index, classification, catchments, cohorts, target_records, labels)
        if many else None, quality=quality, sections=sections,
        findings=findings, summary=summary, lqas=lqas, methods=methods, clusters=clusters, rounds=rounds, admin=admin,
        small_area=small_area, definitions=definitions(registry, [k for k in dict.fromkeys(shown) if k in index], lang, labels,
                                load_besd_registry() if besd else {}),
        charts=charts, small_cell_n=project.report.small_cell_n,
        sex_comparisons=None if comparisons is None else _comparisons_shown(comparisons, many),
        scorecard=None if scorecard is None else _scorecard_shown(scorecard, lang, labels, many))


def _further_contexts(results: Results, column: str, units: list[str], labels: dict, charts_dir: Path) -> tuple:
    """The parts of the context of ``[rounds]``, ``[admin]`` and ``[small_area]`` (None for each the
    project has not), their charts drawn into ``charts_dir``."""
    return (rounds_context(results, column, units, labels, charts_dir), admin_context(results, labels, charts_dir),
            small_area_context(results, labels, charts_dir))


# what the tables by level and by group show: the report's two headline indicators and Penta 3
GROUP_INDICATORS = ("zero_dose", "ui_dtp1_not_dtp3", "penta3_crude")


def _groups(project: Project, table: pd.DataFrame, index: EstimateIndex, lang: str) -> dict | None:
    """The survey by each level above the lots ([levels]) and by each stratifier ([stratifiers]),
    nationally: ``levels`` (one :func:`level_table` each) and ``stratifiers`` (zero-dose and Penta 3
    by sex for each, :func:`group_table`), with the titles and names in ``lang``; None without either."""
    indicators = [key for key in GROUP_INDICATORS if key in index]
    if not indicators:
        return None
    names = equity_labels(lang)
    lowest = project.levels.columns[-1] if project.levels.columns else None

    def units(column: str) -> list[str]:
        return _units_of(project, table, column, lang)

    def named(column: str) -> dict[str, str]:
        return _unit_names(project, column, lang)

    levels = [{**level_table(index, column, units(column), indicators, named(column)),
               "title": (code_labels(lang)["header"].get(column) or names["dimension"].get(column)
                         or column)}
              for column in project.levels.columns if column != lowest and column in table]
    stratifiers = [{"column": column, "title": names["dimension"].get(column, column),
                    "tables": [group_table(index, column, units(column), indicator, named(column))
                               for indicator in ("zero_dose", "penta3_crude") if indicator in index]}
                   for column in project.stratifiers.columns
                   if column in table and "national" in project.stratifiers.levels]
    if not levels and not stratifiers:
        return None
    return {"indicators": indicators, "levels": levels, "stratifiers": stratifiers}


def _units_of(project: Project, table: pd.DataFrame, column: str, lang: str) -> list[str]:
    """The units of a level or stratifier column present in the data, in display order: the project's
    labels' order, then the packaged groups' order, then the others sorted."""
    present = sorted(distinct_text(table[column]))
    order = list(project.labels_in(lang).get(column, {})) + list(equity_labels(lang)["group"].get(column, {}))
    return [u for u in dict.fromkeys(order) if u in present] + [u for u in present if u not in order]


def _unit_names(project: Project, column: str, lang: str) -> dict[str, str]:
    return {**equity_labels(lang)["group"].get(column, {}), **project.labels_in(lang).get(column, {})}


# a level above the catchment areas (districts) is shown in the body with up to this many units: a
# national survey's 60 districts make tables of a few pages each
LEVEL_UNITS_IN_BODY = 100


def _body_units(project: Project, table: pd.DataFrame, catchments: list[str], lang: str) -> tuple[str, list[str]]:
    """The column and units the body's tables and charts show: the catchment areas when they are at most
    ``[report] areas_in_body``, else the lowest level above them with at most ``LEVEL_UNITS_IN_BODY``
    units (the districts of a national survey), else none (the survey's rows only)."""
    most = project.report.areas_in_body
    if len(catchments) <= most:
        return "catchment", catchments
    above = [c for c in project.levels.columns if c != "catchment" and c in table]
    if not above and "district" in table:
        above = ["district"]
    for column in reversed(above):
        units = _units_of(project, table, column, lang)
        if len(units) <= max(most, LEVEL_UNITS_IN_BODY):
            return column, units
    return (above[0] if above else "catchment"), []


def _report_rows(estimates: pd.DataFrame, project: Project, many: bool) -> pd.DataFrame:
    """The estimates the report reads: stratifiers nationally only; for a survey with more health areas
    than the body shows, the areas' rows of the annex's indicators only (a national survey's estimates
    run to millions of rows, and looking them up is the report's largest cost)."""
    stratifiers = [c for c in project.stratifiers.columns if c in estimates]
    levels = [c for c in ("district", *project.levels.columns) if c in estimates and c not in stratifiers]
    keep = pd.Series(True, index=estimates.index)
    if stratifiers and levels:
        below_national = (estimates[levels] != ALL).any(axis=1)
        keep &= ~((estimates[stratifiers] != ALL).any(axis=1) & below_national)
    if many and "catchment" in estimates:
        keep &= (estimates["catchment"] == ALL) | estimates["indicator"].isin(AREA_INDICATORS)
    return estimates[keep] if not keep.all() else estimates


# what the annex of health areas shows for each (and what the findings read at that level)
AREA_INDICATORS = ("zero_dose", "ui_dtp1_not_dtp3", "penta3_crude")


def _units_context(column: str, units: list[str], labels: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The body's units as the context names them: their column, codes, title (a table's header) and
    the noun a sentence uses ("by district")."""
    title = labels["header"].get(column) or equity_labels(lang)["dimension"].get(column) or column
    return {"column": column, "codes": list(units), "title": title, "noun": title[:1].lower() + title[1:]}


def _areas_annex(project: Project, table: pd.DataFrame, index: EstimateIndex, classification: pd.DataFrame,
                 catchments: list[str], cohorts: list[str], targets: list[dict], labels: Mapping[str, Any]) -> dict:
    """The compact annex of a survey with more health areas than its body shows: one row per area (its
    district, children, zero-dose, UI and Penta 3 estimates, and the class of each of its lots), at most
    ``[report] annex_areas`` of them: then those with the highest zero-dose prevalence."""
    indicators = [key for key in AREA_INDICATORS if key in index]
    parent = "district" if "district" in table else None
    children = table["catchment"].astype(str).value_counts()
    parents = (table[["catchment", parent]].astype(str).drop_duplicates("catchment").set_index("catchment")[parent]
               if parent else pd.Series(dtype=object))
    shown = list(catchments)
    if len(shown) > project.report.annex_areas:
        def zero_dose(area: str) -> float:
            cell = index.cell("zero_dose", catchment=area) if "zero_dose" in index else None
            return cell["estimate"] if cell is not None and cell["estimate"] is not None else -1.0
        chosen = set(sorted(shown, key=zero_dose, reverse=True)[:project.report.annex_areas])
        shown = [area for area in shown if area in chosen]
    if parent:  # grouped by district, in the districts' order
        order = {unit: i for i, unit in enumerate(_units_of(project, table, parent, project.report.language))}
        shown.sort(key=lambda area: order.get(parents.get(area), len(order)))
    lots = {(row["catchment"], row["indicator"], row["cohort"]): row["class"]
            for row in classification[["catchment", "indicator", "cohort", "class"]].to_dict("records")}
    columns = [{"indicator": t["indicator"], "cohorts": [c for c in cohorts if c in (t["cohorts"] or cohorts)]}
               for t in targets]
    rows = [{"unit": area, "parent": parents.get(area) if parent else None, "n": int(children.get(area, 0)),
             "cells": {key: index.cell(key, catchment=area) for key in indicators},
             "classes": [lots.get((area, column["indicator"], cohort)) for column in columns
                         for cohort in column["cohorts"]]}
            for area in shown]
    return {"total": len(catchments), "shown": len(rows), "capped": len(rows) < len(catchments),
            "parent": parent, "indicators": indicators, "lots": columns, "rows": rows,
            "has_small": any(c is not None and c["small"] for row in rows for c in row["cells"].values())}


def _comparisons_shown(comparisons: pd.DataFrame, many: bool) -> list[dict[str, Any]]:
    """The girls-boys comparisons the report reads: every row, or (more areas than the body shows) the
    survey's rows only; each area's rows are in comparisons.csv (a national survey's are megabytes)."""
    if many and "catchment" in comparisons:
        comparisons = comparisons[comparisons["catchment"] == ALL]
    return comparisons.to_dict("records")


def _scorecard_shown(card: pd.DataFrame, lang: str, labels: Mapping[str, Any], many: bool) -> dict[str, Any]:
    """The scorecard as the report shows it: every catchment area's block, or (more areas than the body
    shows) the survey's block only, with how many areas' blocks are in scorecard.csv and results.xlsx."""
    unit = card.columns[0]
    omitted = 0
    if many:
        omitted = int(card.loc[card[unit] != ALL, unit].nunique())
        card = card[card[unit] == ALL]
    return {**scorecard_context(card, lang, unit_labels=labels["catchment"]), "omitted": omitted}


def _lots_by_level(frame: pd.DataFrame | None, project: Project, labels: dict, targets: list[dict],
                   lang: str) -> dict | None:
    """The lots put together by level (:func:`lqas.classify.aggregate_lots`) as report cells: one row
    per unit of the levels above the lots and cohort, then the survey's; one column per target."""
    if frame is None or frame.empty or set(pd.unique(frame["level"])) == {"national"}:
        return None
    indicators = [t["indicator"] for t in targets if t["indicator"] in set(pd.unique(frame["indicator"]))]
    small = project.report.small_cell_n
    rows = []
    configured = project.labels_in(lang)
    for (level, unit, cohort), part in frame.groupby(["level", "unit", "cohort"], sort=False):
        by = part.set_index("indicator")
        cells = {ind: ({"estimate": float(by.at[ind, "estimate"]), "ci_low": float(by.at[ind, "ci_low"]),
                        "ci_high": float(by.at[ind, "ci_high"]), "n": int(by.at[ind, "n"]),
                        "small": int(by.at[ind, "n"]) < small} if ind in by.index else None) for ind in indicators}
        name = labels.get(level, {}).get(unit) or configured.get(level, {}).get(unit, unit)
        rows.append({"level": level, "unit": unit, "name": name, "cohort": cohort,
                     "lots": int(part["lots"].max()), "cells": cells})
    rows.sort(key=lambda row: (row["level"] == "national", row["cohort"]))
    shown = [level for level in project.levels.columns if level in set(pd.unique(frame["level"]))]
    title = " / ".join(labels["header"].get(level, level) for level in shown)
    return {"indicators": indicators, "rows": rows, "title": title}


def _by_language(label: str | dict[str, str] | None) -> dict[str, str] | None:
    """A label of the project file as one text per language (a text given once serves both)."""
    if label is None:
        return None
    if isinstance(label, str):
        return dict.fromkeys(LANGUAGES, label)
    return {code: label.get(code) or next(iter(label.values())) for code in LANGUAGES}


def cover_context(project: Project, charts_dir: Path) -> dict[str, Any]:
    """``[report.cover]`` for the title page: institution and citation in each language, the authors,
    the report's version, and the logos copied beside the charts (``charts/logo_<i>.png``: the report
    reads no file outside the run's ``charts/``)."""
    cover = project.report.cover
    logos = []
    for i, logo in enumerate(cover.logos, start=1):
        charts_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(project.resolve(logo), charts_dir / f"logo_{i}.png")
        logos.append(f"{CHARTS_DIR}/logo_{i}.png")
    return {"institution": _by_language(cover.institution), "authors": list(cover.authors), "logos": logos,
            "version": cover.version, "citation": _by_language(cover.citation)}


# units above which the trend chart shows the survey area alone (a row of panels per unit)
TREND_UNITS = 12


def _number(value: Any) -> float | None:
    """A float for the report context, None for a missing one (an interval from one child)."""
    return None if value is None or pd.isna(value) else float(value)


def _change_cell(row: Mapping[str, Any], prefix: str = "change") -> dict[str, Any]:
    """A change (or difference in differences) of the tidy tables as the report shows it."""
    return {"estimate": float(row[prefix]), "ci_low": float(row[f"{prefix}_ci_low"]),
            "ci_high": float(row[f"{prefix}_ci_high"])}


def rounds_context(results: Results, column: str, units: list[str], labels: dict, charts_dir: Path) -> dict | None:
    """The change between rounds for the report (``[rounds]``): the survey's change of the report's
    headline indicators by cohort, each unit's (cohorts together), the change of the girls − boys gap,
    and the arms' difference in differences; the chart of each unit's two rounds."""
    from lqas import charts as draw  # matplotlib loaded only when drawing

    found = results.rounds
    if found is None:
        return None
    settings = results.project.rounds
    pair = (settings.previous[-1].name, settings.name)  # the report reads the change from the previous round

    def latest(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["round_a"] == pair[0]) & (frame["round_b"] == pair[1])]

    changes = found.changes
    domain = [c for c in dict.fromkeys((*results.project.levels.columns, *results.project.stratifiers.columns))
              if c in changes]
    indicators = [key for key in GROUP_INDICATORS if key in set(changes["indicator"])]
    latest_changes = latest(changes)
    latest_changes = latest_changes[latest_changes["indicator"].isin(indicators)]
    everywhere = (latest_changes[domain] == ALL).all(axis=1)

    def record(row: Mapping[str, Any]) -> dict[str, Any]:
        return {"indicator": row["indicator"], "cohort": row["cohort"], "n_a": int(row["n_a"]), "n_b": int(row["n_b"]),
                "estimate_a": float(row["estimate_a"]), "estimate_b": float(row["estimate_b"]),
                "change": _change_cell(row), "p_value": float(row["p_value"]), "mdd": float(row["mdd"])}

    national = [record(row) for row in latest_changes[everywhere & (latest_changes["sex"] == ALL)].to_dict("records")]
    # a unit's rows name the units above it (its district); the other domain columns are all
    above = list(results.project.levels.columns)
    above = above[:above.index(column)] if column in above else []
    others = [c for c in domain if c != column and c not in above]
    rows = latest_changes
    per_unit = rows[(rows["cohort"] == ALL) & (rows["sex"] == ALL) & (rows[column] != ALL)
                    & (rows[others] == ALL).all(axis=1)] if column in rows else rows.iloc[0:0]
    by_unit = [{**record(row), "unit": str(row[column])} for row in per_unit.to_dict("records")
               if str(row[column]) in units]
    gaps = []
    if found.gaps is not None:
        g = latest(found.gaps)
        g = g[g["indicator"].isin(indicators) & (g[[c for c in domain if c in g]] == ALL).all(axis=1)]
        gaps = [{"indicator": row["indicator"], "cohort": row["cohort"],
                 "gap_a": float(row["estimate_a1"] - row["estimate_b1"]),
                 "gap_b": float(row["estimate_a2"] - row["estimate_b2"]), "change": _change_cell(row, "did")}
                for row in g.to_dict("records")]
    arms = []
    if found.arms is not None:
        a = latest(found.arms)
        a = a[a["indicator"].isin(indicators) & (a["sex"] == ALL)]
        arms = [{"indicator": row["indicator"], "cohort": row["cohort"],
                 **{key: float(row[key]) for key in ("estimate_a1", "estimate_a2", "estimate_b1", "estimate_b2",
                                                     "change_a", "change_b")},
                 "did": _change_cell(row, "did"), "did_logit": _change_cell(row, "did_logit"),
                 "exposure": row["exposure"], "not_exposed": int(row["not_exposed"])}
                for row in a.to_dict("records")]
    transitions = []
    if found.transitions is not None:
        for indicator, lots in latest(found.transitions).groupby("indicator", sort=False):
            counts = lots["transition"].value_counts()
            transitions.append({"indicator": indicator, "lots": len(lots),
                                **{kind: int(counts.get(kind, 0)) for kind in
                                   ("improved", "worsened", "stayed_acceptable", "stayed_to_improve")},
                                "worsened_lots": [{"catchment": str(row["catchment"]), "cohort": str(row["cohort"])}
                                                  for row in lots[lots["transition"] == "worsened"].to_dict("records")
                                                  if "catchment" in row and "cohort" in row],
                                # the earlier round's own target, where this round's differs: how many of its
                                # lots the new target classes otherwise than that round reported
                                **_target_change(lots)})
    # girls' and boys' estimate and interval in each round, in the survey area and (when few) each unit
    charted = [k for k in indicators if k != "ui_dtp1_not_dtp3"]
    trend_units = [ALL, *([u for u in units if any(r["unit"] == u for r in by_unit)]
                          if len(units) <= TREND_UNITS else [])]
    by_sex = latest_changes[(latest_changes["cohort"] == ALL) & latest_changes["sex"].isin(["F", "M"])
                            & latest_changes["indicator"].isin(charted)]
    trend = []
    for row in by_sex.to_dict("records"):
        unit = ALL if all(row[c] == ALL for c in domain) else (
            str(row[column]) if column in row and row[column] != ALL and all(row[c] == ALL for c in others) else None)
        if unit in trend_units:
            trend.append({"unit": unit, "indicator": row["indicator"], "sex": row["sex"],
                          **{key: _number(row[key]) for key in ("estimate_a", "ci_low_a", "ci_high_a", "estimate_b",
                                                                 "ci_low_b", "ci_high_b")}})
    charts: dict[str, str] = {}  # each chart's parts that fit a page (draw.page_parts)
    if trend:
        shown = [u for u in trend_units if any(r["unit"] == u for r in trend)]
        for k, part in enumerate(draw.page_parts(shown, draw.trend_height)):
            figure = draw.trend_chart(trend, part, charted,
                                      names={ALL: labels["chart"]["all_catchments"], **labels.get(column, {})},
                                      indicator_labels=labels["indicator"], rounds=pair, text=labels["chart"])
            name = draw.part_name("trend_by_sex", k)
            charts[name] = _saved(figure, charts_dir, name)
    if by_unit:
        shown = [u for u in units if any(r["unit"] == u for r in by_unit)]
        for k, part in enumerate(draw.page_parts(shown, draw.change_height)):
            figure = draw.change_chart(by_unit, part, [key for key in indicators if key != "ui_dtp1_not_dtp3"],
                                       names=labels.get(column, {}), indicator_labels=labels["indicator"],
                                       rounds=pair, text=labels["chart"])
            name = draw.part_name("change_by_unit", k)
            charts[name] = _saved(figure, charts_dir, name)
    return {"rounds": list(found.rounds), "from": pair[0], "to": pair[1], "revisited": settings.revisited,
            "column": column, "national": national, "by_unit": by_unit, "gaps": gaps, "arms": arms,
            "transitions": transitions, "chart": charts.get("change_by_unit"), "trend": trend,
            "trend_chart": charts.get("trend_by_sex"), "charts": charts,
            "intervention": results.project.arms.intervention if results.project.arms else None}


def _target_change(lots: pd.DataFrame) -> dict[str, Any]:
    """The earlier round's own target of an indicator when this round's differs, and the lots whose class
    at the new target is not the one that round reported; nothing when the target stayed."""
    if "target_changed" not in lots or not lots["target_changed"].any():
        return {"target_changed": False}
    changed = lots[lots["target_changed"]]
    return {"target_changed": True, "good_before": float(changed["good_own_a"].iloc[0]),
            "good_now": float(changed["good_b"].iloc[0]),
            "reclassified": int((changed["class_own_a"] != changed["class_a"]).sum())}


# the indicator of the organ-pipe plots: Penta 3, the coverage a supervisor's clusters are judged by
ORGAN_PIPE_INDICATOR = "penta3_crude"


def _saved(figure, charts_dir: Path, name: str) -> str:
    """The chart saved as ``<name>.png`` and ``.svg`` (:func:`lqas.charts.save_chart`): its SVG file as the
    report context names it."""
    from lqas import charts as draw

    draw.save_chart(figure, charts_dir / f"{name}.png")
    return f"{CHARTS_DIR}/{name}.svg"


def _organ_pipes(results: Results, labels: dict, oldest: str, goals: Mapping[str, float], charts_dir: Path,
                 many: bool) -> dict[str, Any] | None:
    """The organ-pipe plots of each catchment area's clusters (lqas.clusters), with the indicator's LQAS
    target or else the programme's coverage target; none for a national survey's hundreds of areas."""
    if many or ORGAN_PIPE_INDICATOR not in results.table or results.project.design.psu is None:
        return None
    return organ_pipe_context(
        results.table, indicator=ORGAN_PIPE_INDICATOR, cohort=None if oldest == ALL else oldest, unit="catchment",
        psu=results.project.design.psu, names=labels.get("catchment", {}),
        target=goals.get(ORGAN_PIPE_INDICATOR, results.project.report.coverage_target),
        indicator_label=labels["indicator"].get(ORGAN_PIPE_INDICATOR, ORGAN_PIPE_INDICATOR), text=labels["chart"],
        folder=charts_dir, max_units=results.project.report.areas_in_body)


def _households_shown(households: pd.DataFrame | None, table: pd.DataFrame, column: str, units: list[str]
                      ) -> dict[str, Any] | None:
    """The household log's counts and response rate per unit of the body's tables (the catchment areas,
    or the districts of a national survey: their areas' counts added up) and overall."""
    if households is None:
        return None
    from lqas.households import RESULTS

    areas = households[households["catchment"] != ALL]
    if column != "catchment" and column in table:
        parent = table[["catchment", column]].astype(str).drop_duplicates("catchment").set_index("catchment")[column]
        areas = areas.assign(catchment=areas["catchment"].map(parent).fillna(areas["catchment"]))
    counts = ["clusters", "visited", *RESULTS, "eligible"]
    by_unit = areas.groupby("catchment", sort=False)[counts].sum()
    by_unit.loc[ALL] = households.set_index("catchment").loc[ALL, counts]
    by_unit["response_rate"] = (by_unit["interviewed"] / by_unit["eligible"]).where(by_unit["eligible"] > 0)
    order = [u for u in units if u in by_unit.index] + sorted(set(by_unit.index) - set(units) - {ALL}) + [ALL]
    rows = [{"unit": unit, **{key: int(by_unit.at[unit, key]) for key in counts},
             "response_rate": None if pd.isna(by_unit.at[unit, "response_rate"]) else float(by_unit.at[unit, "response_rate"])}
            for unit in order]
    return {"column": column, "rows": rows}


def fieldwork_facts(table: pd.DataFrame) -> dict[str, Any]:
    """When the interviews ran and how the children spread over the clusters (the survey's facts a
    reader checks first)."""
    facts: dict[str, Any] = {"first_interview": None, "last_interview": None, "clusters": None,
                             "children_per_cluster": None}
    if "interview_date" in table:
        dates = pd.to_datetime(table["interview_date"], errors="coerce").dropna()
        if len(dates):
            facts.update(first_interview=dates.min().date().isoformat(), last_interview=dates.max().date().isoformat())
    if {"cluster", "catchment"} <= set(table.columns):
        per_cluster = table.groupby([table["catchment"].astype(str), table["cluster"].astype(str)],
                                    observed=True).size()
        facts["clusters"] = len(per_cluster)
        facts["children_per_cluster"] = {"median": float(per_cluster.median()), "min": int(per_cluster.min()),
                                         "max": int(per_cluster.max())}
    return facts


# a lot's share of girls is flagged when an exact binomial test against the survey's share gives p below this
SEX_RATIO_P = 0.05


def unusual_sex_ratios(lots: list[dict]) -> list[dict]:
    """The lots whose share of girls is unlikely from the survey's share (exact binomial test, two-sided,
    p < ``SEX_RATIO_P``), most unlikely first: a sign of girls missed or of a sampling problem, said in the sample section."""
    from lqas.fieldwork import binomial_p

    girls, known = sum(lot["F"] for lot in lots), sum(lot["F"] + lot["M"] for lot in lots)
    if not known:
        return []
    p_values = binomial_p([lot["F"] for lot in lots], [lot["F"] + lot["M"] for lot in lots], girls / known)
    out = []
    for lot, p in zip(lots, p_values):
        n = lot["F"] + lot["M"]
        if n and p < SEX_RATIO_P:  # a lot without a known sex has no p-value (NaN)
            out.append({"unit": lot["unit"], "cohort": lot["cohort"], "girls": lot["F"], "known": n,
                        "share": lot["F"] / n, "p_value": p})
    return sorted(out, key=lambda lot: lot["p_value"])


# the areas the executive summary's priority table shows (the others are in priorities.csv and results.xlsx)
PRIORITY_ROWS = 15


def summary_context(results: Results, index: EstimateIndex, cohorts: list[str], labels: Mapping[str, Any],
                    charts_dir: Path, *, many: bool) -> dict[str, Any] | None:
    """The executive summary (context key ``summary``): headline numbers, the priority areas, the
    WHO RED categories and the draft recommendations (:mod:`lqas.priorities`); draws the categories'
    chart into ``charts_dir``. ``None`` without priorities (a BeSD-only survey)."""
    from lqas import charts as draw  # matplotlib loaded only when drawing

    ranked = results.priorities
    if ranked is None or ranked.areas.empty or "zd_estimate" not in ranked.areas:
        return None
    areas, numbers, rules = ranked.areas, ranked.numbers, ranked.rules
    small = results.project.report.small_cell_n

    def cell(row: Mapping[str, Any], prefix: str) -> dict | None:
        n = row.get(f"{prefix}_n")
        if n is None or pd.isna(n) or n == 0:
            return None
        return {"estimate": row[f"{prefix}_estimate"], "ci_low": row[f"{prefix}_ci_low"],
                "ci_high": row[f"{prefix}_ci_high"], "n": int(n), "small": int(n) < small}

    def children(row: Mapping[str, Any], prefix: str) -> dict | None:
        if f"{prefix}_children" not in row or pd.isna(row[f"{prefix}_children"]):
            return None
        return {"estimate": row[f"{prefix}_children"], "ci_low": row[f"{prefix}_children_ci_low"],
                "ci_high": row[f"{prefix}_children_ci_high"]}

    def national(indicator: str, cohort: str) -> dict | None:
        rows = numbers[(numbers["indicator"] == indicator) & (numbers["cohort"] == cohort)
                       & (numbers["unit_level"] == "national")] if not numbers.empty else numbers
        if rows.empty:
            return None
        row = rows.iloc[0]
        return {"estimate": row["children"], "ci_low": row["children_ci_low"], "ci_high": row["children_ci_high"],
                "population": row["population"]}

    records = areas.to_dict("records")
    usable = [r for r in records if (c := cell(r, "zd")) is not None and not c["small"]]
    headlines: list[dict[str, Any]] = []
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        by_cohort = [{"cohort": c, "cell": index.cell(indicator, c)} for c in cohorts]
        by_cohort = [entry for entry in by_cohort if entry["cell"] is not None]
        if by_cohort:
            headlines.append({"kind": "prevalence", "indicator": indicator, "children": national(indicator, ALL),
                              "cohorts": by_cohort})
    if usable:
        by_number = usable[0] if "zd_children" in areas else None
        by_prevalence = max(usable, key=lambda r: r["zd_estimate"])
        headlines.append({"kind": "most", "by_number": None if by_number is None else {
            "catchment": by_number["catchment"], "children": children(by_number, "zd"),
            "prevalence": cell(by_number, "zd")},
            "by_prevalence": {"catchment": by_prevalence["catchment"], "children": children(by_prevalence, "zd"),
                              "prevalence": cell(by_prevalence, "zd")}})
    zero_dose_lots = results.classification[(results.classification["indicator"] == "zero_dose")
                                            & (results.classification["class"] != "no_data")]
    if not zero_dose_lots.empty:
        below = zero_dose_lots[zero_dose_lots["class"] == "fail"]
        below_areas = set(distinct_text(below["catchment"]))
        target = next((t for t in results.project.lqas.targets if t.indicator == "zero_dose"), None)
        headlines.append({"kind": "lqas", "indicator": "zero_dose", "lots": len(zero_dose_lots),
                          "below": len(below), "good": target.good if target else None,
                          "areas": [a for a in areas["catchment"] if a in below_areas]})
    counts = {category: int((areas["category"] == category).sum()) for category in CATEGORIES}
    categorised = sum(counts.values())
    if categorised:
        headlines.append({"kind": "categories", "counts": counts, "areas": categorised})
    girls = _girls_worse(results.comparisons, rules.conditions.get("girls_disadvantaged") if rules else None)
    if girls is not None:
        headlines.append({"kind": "girls", **girls})

    shown = records[:PRIORITY_ROWS]
    priority = {"total": len(records), "shown": len(shown), "numbers": "zd_children" in areas,
                "rows": [{"catchment": r["catchment"], "district": r.get("district"), "rank": r["rank"],
                          "rank_prevalence": r["rank_prevalence"], "zero_dose_children": children(r, "zd"),
                          "zero_dose": cell(r, "zd"), "under_immunized_children": children(r, "ui"),
                          "under_immunized": cell(r, "ui"), "category": r["category"],
                          "lots_below": [c for c in r["zero_dose_lots_below_target"].split(";") if c]}
                         for r in shown]}
    categories = None
    if rules is not None and categorised:
        text = dict(labels["chart"])
        draw.save_chart(draw.categories_chart(areas, names=labels["catchment"],
                                              access_good_from=rules.categories.access_good_from,
                                              dropout_good_to=rules.categories.dropout_good_to, text=text,
                                              intervals=not many), charts_dir / "red_categories.png")
        categories = {"access": rules.categories.access, "dropout": rules.categories.dropout,
                      "cohort": rules.categories.cohort if rules.categories.cohort != "oldest" else cohorts[-1],
                      "access_good_from": rules.categories.access_good_from,
                      "dropout_good_to": rules.categories.dropout_good_to, "source": rules.categories.source.model_dump(),
                      "counts": counts, "chart": f"{CHARTS_DIR}/red_categories.svg",
                      # each area's row when the body shows the areas; a national survey's are in priorities.csv
                      "rows": None if many else [{"catchment": r["catchment"], "access": cell(r, "access"),
                                                  "dropout": cell(r, "dropout"), "category": r["category"]}
                                                 for r in records]}
    return {"headlines": headlines, "priority": priority, "categories": categories,
            "recommendations": ranked.recommendations,
            "rules_file": str(results.project.report.priorities) if results.project.report.priorities else None}


def _girls_worse(comparisons: pd.DataFrame, condition: Any) -> dict[str, Any] | None:
    """The lots where girls fare significantly worse than boys (design-based Rao-Scott p below the
    condition's ``p_below``), for the condition's indicators: the headline's numbers."""
    if comparisons.empty or condition is None:
        return None
    lots = comparisons[comparisons["indicator"].isin(condition.girls_worse)
                       & (comparisons["catchment"].astype(str) != ALL) & (comparisons["cohort"].astype(str) != ALL)]
    if lots.empty:
        return None
    worse = lots[(lots["disadvantaged"] == "F") & (lots["p_value"] < condition.p_below)]
    worse = worse.sort_values("p_value", kind="stable")
    return {"indicators": list(condition.girls_worse), "p_below": condition.p_below,
            "compared": int(lots[["catchment", "cohort"]].astype(str).drop_duplicates().shape[0]),
            "lots": [{"indicator": r["indicator"], "catchment": str(r["catchment"]), "cohort": str(r["cohort"]),
                      "girls": r["estimate_a"] if r["group_a"] == "F" else r["estimate_b"],
                      "boys": r["estimate_b"] if r["group_a"] == "F" else r["estimate_a"],
                      "difference": r["difference"], "p_value": r["p_value"]} for r in worse.to_dict("records")]}


def _limits_unmet(classification: pd.DataFrame, targets: list[dict], alpha: float, beta: float) -> dict:
    """How many classified lots have a rule that cannot keep alpha and beta at their limits (too few
    children), the largest risks they carry, the lots (at most 20, in classification order), and for
    each target the smallest sample whose rule would keep both risks at their limits."""
    classified = classification[classification["class"] != "no_data"]
    unmet = classified[~classified["limits_met"].astype(bool)] if "limits_met" in classified else classified.iloc[:0]
    needed = []
    for target in targets:
        if target["indicator"] in set(unmet["indicator"]):
            try:
                n = sample_size(target["classified_good"], target["classified_bad"], alpha, beta).n
            except LqasError:  # no sample of at most 1,000 children would do
                n = None
            needed.append({"indicator": target["indicator"], "n": n})
    return {"lots": len(unmet), "of": len(classified),
            "alpha": float(unmet["alpha"].max()) if len(unmet) else None,
            "beta": float(unmet["beta"].max()) if len(unmet) else None,
            "named": [{"indicator": r["indicator"], "catchment": str(r["catchment"]), "cohort": str(r["cohort"]),
                       "n": int(r["n"]), "alpha": r["alpha"], "beta": r["beta"]}
                      for r in unmet.head(20).to_dict("records")],
            "needed": needed}


def _acceptable_below_target(classification: pd.DataFrame) -> dict:
    """Acceptable classifications whose observed share (x / n, unweighted) misses the target."""
    passed = classification[classification["class"] == "pass"]
    share = passed["x_indicator"] / passed["n"]
    lower = passed["direction"] == "lower_is_better"
    missing = (lower & (share > passed["good"])) | (~lower & (share < passed["good"]))
    return {"lots": int(missing.sum()), "of": len(passed)}


def _lot_deff_range(estimates: pd.DataFrame, indicators: list[str], lot: tuple[str, ...],
                    levels: tuple[str, ...]) -> dict | None:
    """The smallest and largest design effects of the LQAS indicators in the lots (both sexes; the
    levels above the lots are filled in on their rows)."""
    rows = estimates[estimates["indicator"].isin(indicators)]
    for column in estimates.columns[:estimates.columns.get_loc("n")]:
        if column == "indicator" or (column in levels and column not in lot):
            continue
        wanted = rows[column].astype(str)
        rows = rows[(wanted != ALL).to_numpy() if column in lot else (wanted == ALL).to_numpy()]
    deff = rows["deff"].dropna() if "deff" in rows else pd.Series(dtype=float)
    if deff.empty:
        return None
    return {"low": float(deff.min()), "high": float(deff.max())}


def _population_shares(project: Project) -> dict[str, float] | None:
    """The share of each cohort in the populations file's single age group, when it was split."""
    settings = project.populations
    if project.design.weights != "population" or (settings.ages or settings.shares) is None:
        return None
    return cohort_shares(settings, project.cohorts)


def _lost_labels(project: Project, results: Results, lang: str) -> dict[str, str]:
    """Names of the catchments whose every record was excluded (named in the report, drawn in no chart)."""
    configured = project.labels_in(lang).get("catchment") or {}
    return {c: configured.get(c, c) for c in lost_catchments(results.table, results.derived.exclusions)}


def _catchment_labels(project: Project, table: pd.DataFrame, lang: str) -> dict[str, str]:
    configured = project.labels_in(lang).get("catchment") or {}
    present = set(distinct_text(table["catchment"]))
    ordered = [c for c in configured if c in present] + sorted(present - set(configured))
    return {c: configured.get(c, c) for c in ordered}


def run_labels(results: Results, lang: str) -> dict:
    """Display names in ``lang`` of everything a run shows: the codes of :func:`lqas.labels.code_labels`,
    and the run's indicators, catchments, districts, cohorts, vaccination statuses and doses."""
    project, registry, table, schedule = results.project, results.registry, results.table, results.derived.schedule
    code = code_labels(lang)
    status = equity_labels(lang)["group"].get("vaccination_status", {})
    return {
        **code,
        "indicator": {key: indicator.label(lang) for key, indicator in registry.items()},
        "catchment": {**_catchment_labels(project, table, lang), **_lost_labels(project, results, lang),
                      ALL: code["all_catchments"]},
        "district": {**project.labels_in(lang).get("district", {}), ALL: code["all_catchments"]},
        # every level above the lots, named as the project names them (a region, a province)
        **{level: {**_unit_names(project, level, lang), ALL: code["all_catchments"]}
           for level in project.levels.columns if level not in ("catchment", "district")},
        "cohort": {**{name: cohort_label(name, lang) for name in project.cohorts}, ALL: code["all_cohorts"]},
        "status": {**status, ALL: code["sex"][ALL]},
        "dose": {dose.key: dose.label_in(lang) for dose in schedule.doses},
        # the words of the LQAS classes, the programme's own when it gives them ([labels.klass] pass / fail)
        "klass": {**code["klass"], **project.labels_in(lang).get("klass", {})},
        # the small-area model's covariates, as the project names them ([labels.covariate])
        "covariate": project.labels_in(lang).get("covariate", {}),
    }


def _rules_used(classification: pd.DataFrame, targets: list[dict], labels: dict) -> list[dict]:
    """Per target, the distinct (n, d) rules of its classified lots, most frequent first (at most 4)."""
    out = []
    for target in targets:
        lots = classification[(classification["indicator"] == target["indicator"])
                              & (classification["class"] != "no_data")]
        if lots.empty:
            continue
        counts = lots.groupby(["n", "d"]).size().sort_values(ascending=False, kind="stable")
        rules = [{"n": int(n), "d": int(d), "lots": int(k)} for (n, d), k in counts.items()][:4]
        out.append({**target, "label": labels["indicator"].get(target["indicator"], target["indicator"]),
                    "rules": rules})
    return out


def report_charts(estimates: pd.DataFrame, labels: dict, cohorts: list[str], oldest: str, doses: list[str],
                  besd: dict | None, rules_used: list[dict], folder: Path, *, column: str = "catchment",
                  units: list[str] | None = None, targets: Mapping[str, float] | None = None,
                  coverage_target: float | None = None) -> dict[str, str]:
    """Draw every chart into ``folder`` (the run's ``charts/``) as PNG and SVG files; return, by name, the
    SVG file as the report context names it (``charts/<name>.svg``, relative to the run folder).

    The charts by unit draw the units of ``column`` (the body's: catchment areas, or districts), all of
    them by default; the zero-dose and under-immunized charts draw each indicator's LQAS target
    (``targets``), the coverage chart the programme's coverage target."""
    from lqas import charts as draw  # matplotlib loaded only when drawing

    text = labels["chart"]
    names = labels.get(column, {})
    if units is None:
        estimated = set(pd.unique(estimates[column])) if column in estimates else set()
        units = [k for k in names if k != ALL and k in estimated]
    catchments = {unit: names.get(unit, unit) for unit in units}
    present = set(pd.unique(estimates["indicator"]))
    zd_ui = [key for key in ("zero_dose", "ui_dtp1_not_dtp3") if key in present]
    figures = {}
    if zd_ui and catchments:  # a BeSD-only survey has no dose evidence, so no vaccination charts
        # the units in parts that each fit a page (a national survey's districts; draw.page_parts), each
        # part's rows picked from these indicators' alone
        rows = estimates[estimates["indicator"].isin(zd_ui)]
        for k, part in enumerate(draw.page_parts(catchments, lambda n: draw.sex_gap_height(n, len(cohorts)))):
            figures[draw.part_name("zero_dose_ui_by_sex", k)] = draw.sex_gap_chart(
                rows, zd_ui, cohorts, labels=labels["indicator"],
                catchment_labels={unit: catchments[unit] for unit in part}, cohort_labels=labels["cohort"], text=text,
                column=column, targets=targets)
        for k, part in enumerate(draw.page_parts(catchments, lambda n: draw.inchworm_height(n, len(cohorts)))):
            figures[draw.part_name("zero_dose_ui_by_catchment", k)] = draw.inchworm_chart(
                rows, zd_ui, cohorts, labels=labels["indicator"],
                catchment_labels={unit: catchments[unit] for unit in part}, cohort_labels=labels["cohort"], text=text,
                column=column, targets=targets)
    if any(f"{dose}_crude" in present for dose in doses):
        figures["coverage_by_dose"] = draw.coverage_chart(estimates, doses, oldest, dose_labels=labels["dose"],
                                                          text=text, target=coverage_target)
    if besd and besd["statuses"] and besd["priority"]:
        figures["besd_by_status"] = draw.status_chart(estimates, besd["priority"], besd["statuses"],
                                                      labels=labels["indicator"], status_labels=labels["status"],
                                                      text=text)
    if rules_used:
        figures["oc_curves"] = draw.oc_chart(rules_used, text=text, oc_curve=oc_curve)
    for name, figure in figures.items():
        draw.save_chart(figure, folder / f"{name}.png")
    return {name: f"{CHARTS_DIR}/{name}.svg" for name in figures}


def equity_labels(lang: str, rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """en/fr wording for the BeSD cross-tabulation and the scorecard: labels of data from
    ``equity.toml``, names of the lights and reasons from the catalog (:func:`lqas.labels.code_labels`).

    Returns
    -------
    dict
        ``dimension`` (column -> label), ``group`` (column -> value -> label; catchment and
        cohort labels come from the project), ``row`` (scorecard row id -> label), ``rule``
        (rule id -> the rule's full text), ``light`` and ``reason`` (key -> label), ``indicator``
        (gender indicator id -> label).
    """
    config = rules if rules is not None else load_scorecard_config()
    suffix = "fr" if lang == "fr" else "en"
    code = code_labels(lang)
    return {
        "dimension": {ALL: code["sex"][ALL],
                      **{k: v[f"label_{suffix}"] for k, v in config["dimensions"].items()}},
        "group": {k: {g: text[suffix] for g, text in v.get("groups", {}).items()}
                  for k, v in config["dimensions"].items()},
        "row": {r["id"]: r[f"label_{suffix}"] for r in config["scorecard"]["rows"]},
        "rule": {k: v[f"text_{suffix}"] for k, v in config["rules"].items()},
        "light": code["light"],
        "reason": code["light_reason"],
        "indicator": {k: v[f"label_{suffix}"] for k, v in config["indicator"].items()},
    }


def scorecard_context(card: pd.DataFrame, lang: str, *, unit_labels: Mapping[str, str] | None = None,
                      rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Plain data for the report template: the scorecard in blocks, with wording in ``lang``.

    Parameters
    ----------
    card : DataFrame
        Output of :func:`lqas.scorecard.scorecard` (first column = the unit).
    lang : {"en", "fr"}
    unit_labels : mapping, optional
        Unit value -> display name (e.g. the project's catchment labels); ``"all"`` is shown as
        "All" / "Ensemble" unless given.
    rules : mapping, optional
        The equity configuration (default: the packaged ``equity.toml``).

    Returns
    -------
    dict
        ``blocks``: one per unit value in scorecard order, each ``{"unit", "label", "counts"
        (light -> number of rows), "rows"}``; each row is the scorecard record (NaN -> None) plus
        ``label``, ``light_label`` and ``reason_label``. ``rules``: ``[{"id", "text"}]`` for the
        rules used, to print under the table. ``lights``: light -> label.
    """
    labels = equity_labels(lang, rules)
    config = rules or load_scorecard_config()
    mirrors = {row["id"]: row["mirror_of"] for row in config["scorecard"]["rows"] if row.get("mirror_of")}
    names = {ALL: labels["dimension"][ALL], **dict(unit_labels or {})}
    unit = card.columns[0]
    blocks = []
    for value in dict.fromkeys(card[unit]):
        block = card[card[unit] == value]
        rows = []
        for record in block.to_dict("records"):
            record = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()}
            record.update(label=labels["row"][record["row"]], light_label=labels["light"][record["light"]],
                          reason_label=labels["reason"][record["reason"]])
            rows.append(record)
        counted = block[~block["row"].isin(list(mirrors))]  # a mirrored signal counts once
        blocks.append({"unit": value, "label": names.get(value, value),
                       "counts": {light: int((counted["light"] == light).sum()) for light in LIGHTS}, "rows": rows})
    used = list(dict.fromkeys(card["rule"]))
    shown = set(card["row"])
    return {"blocks": blocks, "rules": [{"id": rule, "text": labels["rule"][rule]} for rule in used],
            "lights": labels["light"],
            "mirrors": [{"row": labels["row"][row], "of": labels["row"][of]} for row, of in mirrors.items()
                        if row in shown and of in shown]}


# the checks of the administrative data the report names places for; more flagged places are counted
ADMIN_PLACES_SHOWN = 8


def admin_context(results: Results, labels: dict, charts_dir: Path) -> dict | None:
    """Administrative (DHIS2) coverage against the survey's for the report (``[admin]``): each unit and
    dose's admin and survey coverage with the WHO rules, admin and survey zero-dose with the
    survey-implied target of the first dose, the data-quality checks counted (and their flagged places
    named), the extracts' rows not used; the chart of both coverages. ``None`` without ``[admin]``."""
    from lqas import charts as draw  # matplotlib loaded only when drawing

    found = results.admin
    if found is None:
        return None
    settings = results.project.admin
    column = settings.column
    comparison = found.comparison
    doses = list(dict.fromkeys(comparison["dose"])) if len(comparison) else []
    present = set(distinct_text(comparison[column]))
    units = [u for u in labels.get(column, {}) if u in present] + sorted(present - set(labels.get(column, {})))
    cap = results.project.report.areas_in_body
    order = {unit: i for i, unit in enumerate(units)}
    number_keys = ("doses", "target", "admin_coverage", "estimate", "ci_low", "ci_high", "ratio", "ratio_ci_low",
                   "ratio_ci_high", "difference", "implied_target", "implied_target_ci_low", "implied_target_ci_high")
    rows = []
    for row in sorted(comparison.to_dict("records"), key=lambda r: (order[str(r[column])], doses.index(r["dose"]))):
        rows.append({"unit": str(row[column]), "dose": row["dose"], "n": _number(row.get("n")),
                     "window_start": row["window_start"], "window_end": row["window_end"],
                     "days_covered": int(row["days_covered"]), **{key: _number(row[key]) for key in number_keys},
                     **{key: None if pd.isna(row[key]) else bool(row[key])
                        for key in ("over_100", "ratio_flag", "difference_flag")}})
    first = doses[0] if doses else None
    zero_dose = [{"unit": r["unit"], "admin_zero_dose": None if r["admin_coverage"] is None else 1 - r["admin_coverage"],
                  "zero_dose": None if r["estimate"] is None else 1 - r["estimate"],
                  "zero_dose_ci_low": None if r["ci_high"] is None else 1 - r["ci_high"],
                  "zero_dose_ci_high": None if r["ci_low"] is None else 1 - r["ci_low"],
                  **{key: r[key] for key in ("n", "target", "doses", "implied_target", "implied_target_ci_low",
                                             "implied_target_ci_high")}}
                 for r in rows if r["dose"] == first]
    flags = found.flags
    checks = []
    for check, part in flags.groupby("check", sort=False):
        judged = part[part["flag"].notna()]
        hit = judged[judged["flag"].astype(bool)]
        places = [{"unit": str(r["org_unit"]), "period": str(r["period"]), "dose": str(r["data_element"]),
                   "value": _number(r["value"])} for r in hit.to_dict("records")]
        checks.append({"check": check, "judged": len(judged), "flagged": len(hit),
                       "places": places[:ADMIN_PLACES_SHOWN], "more": max(0, len(places) - ADMIN_PLACES_SHOWN)})
    unused = [{"file": str(r["file"]), "reason": str(r["reason"]), "rows": int(r["rows"])}
              for r in found.unused.to_dict("records")]
    rules = found.thresholds
    charts: dict[str, str] = {}  # the chart's parts that fit a page (draw.page_parts)
    shown = units[:cap]
    if rows and doses:
        for k, part in enumerate(draw.page_parts(shown, draw.admin_height)):
            # (every unit shown sets the axis: the same in every part)
            figure = draw.admin_chart([r for r in rows if r["unit"] in shown], part, doses,
                                      names=labels.get(column, {}), dose_labels=labels["dose"], text=labels["chart"])
            name = draw.part_name("admin_vs_survey", k)
            charts[name] = _saved(figure, charts_dir, name)
    return {"column": column, "cohort": settings.cohort, "target_source": found.target_source,
            "files": len(settings.files), "doses": doses, "units": units, "shown": len(shown),
            "rows": [r for r in rows if r["unit"] in shown], "total_rows": len(rows), "zero_dose": zero_dose[:cap],
            "checks": checks, "unused": unused, "chart": charts.get("admin_vs_survey"), "charts": charts,
            "rules": None if rules is None else rules.model_dump()}


def _quality_shown(quality) -> dict[str, Any] | None:
    """The fieldwork checks for the sample section: the flags counted by severity and by check (with
    the first units named), and the checks the data could not feed."""
    if quality is None:
        return None
    flags = quality.flags
    by_check = []
    for check, rows in flags.groupby("check", sort=False):
        by_check.append({"check": check, "severity": str(rows["severity"].iloc[0]), "flagged": len(rows),
                         "units": [{"level": str(r["level"]), "unit": str(r["unit"])}
                                   for r in rows.head(ADMIN_PLACES_SHOWN).to_dict("records")]})
    return {"alert": int((flags["severity"] == "alert").sum()), "warning": int((flags["severity"] == "warning").sum()),
            "judged": len(quality.checks), "by_check": by_check, "off": [item["check"] for item in quality.off]}


# the probability of exceeding the threshold from which an area is called a likely hotspot
LIKELY_HOTSPOT = 0.8


def small_area_context(results: Results, labels: dict, charts_dir: Path) -> dict | None:
    """The small-area estimates for the report (``[small_area]``): every area in rank order (the
    highest estimate first; the body shows ``[report] areas_in_body`` of them, small_area.csv all), the
    model's fit, or why it was not fitted; the ranking and fit charts and, with boundaries, the maps
    (``charts/small_area_*.svg``) and the interactive map (``charts/small_area_map.html``)."""
    from lqas import charts as draw  # matplotlib loaded only when drawing

    found = results.small_area
    if found is None:
        return None
    settings, table = found.settings, found.table
    names = labels.get(settings.column, {})
    display = {row["area"]: names.get(row["area"]) or row["name"] for row in table.to_dict("records")}
    number_keys = ("n", "direct", "direct_se", "estimate", "se", "ci_low", "ci_high", "gamma", "prob_exceeds",
                   "population", "children", "children_ci_low", "children_ci_high", "residual")
    records = []
    for row in table.to_dict("records"):
        records.append({"area": row["area"], "name": display[row["area"]], "parent": row["parent"],
                        "parent_name": None if row["parent"] is None or pd.isna(row["parent"])
                        else labels.get("district", {}).get(row["parent"], row["parent"]),
                        "sampled": bool(row["sampled"]), "method": row["method"],
                        "lqas_class": row["lqas_class"], **{key: _number(row[key]) for key in number_keys},
                        **{key: None if pd.isna(row[key]) else int(row[key]) for key in ("rank", "rank_low", "rank_high")}})
    estimated = [r for r in records if r["estimate"] is not None]
    estimated.sort(key=lambda r: (-r["estimate"], r["name"]))
    ranked = estimated + [r for r in records if r["estimate"] is None]
    cap = results.project.report.areas_in_body
    shown = ranked[:cap]
    fit = None
    if found.fit is not None:
        fit = {key: found.fit[key] for key in ("method", "transform", "sigma2_v", "sigma2_v_se", "iterations",
                                               "converged", "loglike", "areas_sampled", "areas_synthetic")}
        fit["coefficients"] = [{"term": term, **values} for term, values in found.fit["coefficients"].items()]
    charts: dict[str, str] = {}
    if estimated:
        for k, part in enumerate(draw.page_parts(shown, draw.ranking_height)):
            figure = draw.small_area_ranking_chart(part, threshold=found.threshold,
                                                   text={**labels["chart"], "axis": labels["chart"]["sa_axis"]},
                                                   upper=draw.ranking_upper(shown, found.threshold))
            name = draw.part_name("small_area_ranking", k)
            charts[name] = _saved(figure, charts_dir, name)
    if fit is not None:
        figure = draw.small_area_fit_chart([r for r in records if r["sampled"]], text=labels["chart"])
        draw.save_chart(figure, charts_dir / "small_area_fit.png")
        charts["small_area_fit"] = f"{CHARTS_DIR}/small_area_fit.svg"
    interactive = None
    if found.boundaries is not None and estimated:
        charts |= _small_area_maps(found, table.assign(name=table["area"].map(display)), labels, charts_dir)
        interactive = "charts/small_area_map.html"
    likely = [r["area"] for r in estimated if (r["prob_exceeds"] or 0) >= LIKELY_HOTSPOT]
    return {"indicator": settings.indicator, "cohort": settings.cohort, "column": settings.column,
            "threshold": found.threshold, "transform": settings.transform, "method": settings.method,
            "covariates": list(settings.covariates), "min_areas": settings.min_areas,
            "population": settings.population is not None, "fit": fit, "message": found.message,
            "areas": len(records), "sampled": sum(r["sampled"] for r in records),
            "rows": shown, "total_rows": len(ranked), "likely_hotspots": likely,
            "likely_from": LIKELY_HOTSPOT, "charts": charts, "interactive_map": interactive,
            "children_total": _number(sum(r["children"] for r in estimated if r["children"] is not None))
            if settings.population else None}


def _small_area_maps(found, table: pd.DataFrame, labels: dict, charts_dir: Path) -> dict[str, str]:
    """The maps of the small-area estimates (lqas.maps), as charts of the run, and the interactive map."""
    import html

    from lqas import charts as draw  # matplotlib loaded only when drawing
    from lqas import maps

    names = dict(zip(table["area"], table["name"]))
    text = labels["map"]
    # areas of districts far apart are drawn district by district (lqas.maps decides from their extents)
    districts = labels.get("district", {})
    groups = ({area: districts.get(parent, parent) for area, parent in zip(table["area"], table["parent"])
               if isinstance(parent, str)} or None)
    drawn = {"small_area_map": maps.estimate_maps(found.boundaries, table, names=names, text=text, groups=groups)}
    if table["prob_exceeds"].notna().any() or table["children"].notna().any():
        drawn["small_area_hotspots"] = maps.hotspot_maps(found.boundaries, table, names=names, text=text,
                                                         threshold=found.threshold, groups=groups)
    if table["lqas_class"].notna().any():
        drawn["small_area_lqas"] = maps.lqas_class_map(found.boundaries, table, names=names, text=text,
                                                       groups=groups)
    charts = {}
    for name, figure in drawn.items():
        draw.save_chart(figure, charts_dir / f"{name}.png")
        charts[name] = f"{CHARTS_DIR}/{name}.svg"
    fragment = maps.interactive_map(found.boundaries, table, names=names, text=text)
    title = html.escape(text["prevalence"])
    (charts_dir / "small_area_map.html").write_text(
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n<body>{fragment}</body></html>\n',
        encoding="utf-8")
    return charts

"""Run a project end to end: ingest -> derive -> classify + estimate -> tables, charts, report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lqas import __version__
from lqas import charts as draw
from lqas.besd import derive_besd, load_besd_registry, priority_indicators
from lqas.config import Project
from lqas.design import SurveyDesign
from lqas.equity import (
    derive_equity,
    equity_indicators,
    equity_labels,
    equity_scorecard,
    scorecard_context,
)
from lqas.errors import ConfigError
from lqas.estimate import estimate_indicators
from lqas.indicators import Indicator, load_registry
from lqas.ingest import IngestResult, ingest
from lqas.report import (
    CONTEXT_FILE,
    GAP_FINDING,
    PANELS,
    build_context,
    code_labels,
    definitions,
    key_findings,
    lqas_matrix,
    panel_indicators,
    read_context,
    render_html,
    write_context,
    write_pdf,
)
from lqas.rules import Target, classify, decision_table, oc_curve
from lqas.tables import (
    ALL,
    EstimateIndex,
    counts_by,
    coverage_by_catchment,
    coverage_by_dose,
    decision_table_rows,
    evidence_sources,
    panel,
    remarks,
    results_sheets,
    sample_table,
    sex_table,
    status_table,
    write_workbook,
)
from lqas.vaccination import Schedule, clean_dates, derive, load_schedule, not_collected
from lqas.weights import population_weights, read_populations

COHORT_LABELS = {"en": {"18w-11m": "18 weeks–11 months", "12-23m": "12–23 months"},
                 "fr": {"18w-11m": "18 semaines–11 mois", "12-23m": "12–23 mois"}}


@dataclass(frozen=True)
class Derived:
    """Child-level results shared by `lqas derive` and `lqas run`."""

    ingest: IngestResult
    schedule: Schedule
    table: pd.DataFrame


def derive_project(project: Project) -> Derived:
    """Ingest the project's export and derive every child-level indicator, with weights."""
    schedule = load_schedule(project.vaccination.schedule)
    data = project.data
    ingested = ingest(project.resolve(data.file), _profile(project), cohorts=project.cohorts,
                      doses=schedule.keys, **data.ingest_options(project.root))
    cleaned, date_repairs = clean_dates(ingested.children, schedule,
                                        min_eligible_age_days=min(low for low, _ in project.cohorts.values()))
    ingested = replace(ingested, repairs=pd.concat([ingested.repairs, date_repairs], ignore_index=True))
    table = derive(cleaned, schedule, records=project.vaccination.records,
                   later_dose_implies_earlier=project.vaccination.later_dose_implies_earlier,
                   cohorts=project.cohorts, introduced=project.vaccination.introduced)
    if any(column.startswith("CHI_") for column in table.columns):
        besd = derive_besd(table, coding=project.besd.coding)
        table = pd.concat([table, besd.drop(columns=[c for c in besd.columns if c in table])], axis=1)
    design = project.design
    if design.weights == "population":
        if data.populations is None:
            raise ConfigError("survey.toml: design.weights = 'population' needs data.populations = '<file.csv>'")
        populations = read_populations(project.resolve(data.populations), project.lqas.lot)
        table["weight"] = population_weights(table, populations, project.lqas.lot, project.resolve(data.populations))
    elif design.weights == "column":
        table["weight"] = pd.to_numeric(table[design.weight_column], errors="coerce")
    else:
        table["weight"] = 1.0
    table.attrs["empty_clusters"] = dict(ingested.empty_clusters)
    return Derived(ingested, schedule, table)


def _profile(project: Project) -> str | Path:
    candidate = project.resolve(Path(project.data.profile))
    return candidate if candidate.suffix == ".toml" and candidate.is_file() else project.data.profile


def write_derived(derived: Derived, path: Path) -> None:
    table = derived.table.copy()
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%d")
    table.to_csv(path, index=False)


def run_project(project: Project, out: Path, *, lang: str | None = None,
                progress: Callable[[str], None] = lambda message: None) -> dict[str, Path]:
    """Write the run folder of DESIGN.md §5 and return the written paths by name."""
    lang = lang or project.report.language
    out.mkdir(parents=True, exist_ok=True)
    progress("ingest and derive")
    derived = derive_project(project)
    # vaccination_status (the domain of the BeSD drivers) and the gender indicators of lqas.equity;
    # they go to derived.csv too
    equity = derive_equity(derived.table, coding=project.besd.coding)
    derived = replace(derived, table=pd.concat(
        [derived.table, equity.drop(columns=[c for c in equity if c in derived.table])], axis=1))
    table = derived.table
    registry = {**load_registry(derived.schedule), **equity_indicators()}
    indicators = [key for key in registry if key in table]

    progress("estimate")
    estimates = estimate_all(table, indicators, project)
    progress("classify lots")
    targets = [Target(indicator=t.indicator, good=t.good, bad=t.bad,
                      lower_is_better=registry[t.indicator].lower_is_better, cohorts=t.cohorts)
               for t in project.lqas.targets]
    classification = classify(table, targets, lot=project.lqas.lot, alpha=project.lqas.alpha,
                              beta=project.lqas.beta)
    progress("compare girls and boys")
    comparisons = sex_comparisons(table, project, registry)
    scorecard = equity_card(table, project)

    paths = {name: out / name for name in ("derived.csv", "exclusions.csv", "repairs.csv", "estimates.csv",
                                             "classification.csv", "comparisons.csv", "scorecard.csv",
                                             "results.xlsx", CONTEXT_FILE, "report.html",
                                             "report.pdf", "manifest.json")}
    progress("write tables")
    write_derived(derived, paths["derived.csv"])
    derived.ingest.exclusions.to_csv(paths["exclusions.csv"], index=False)
    derived.ingest.repairs.to_csv(paths["repairs.csv"], index=False)
    estimates.to_csv(paths["estimates.csv"], index=False)
    classification.to_csv(paths["classification.csv"], index=False)
    comparisons.to_csv(paths["comparisons.csv"], index=False)
    if scorecard is not None:
        scorecard.to_csv(paths["scorecard.csv"], index=False)
    else:
        del paths["scorecard.csv"]

    progress("charts and report context")
    context = report_context(project, derived, estimates, classification, registry, targets, lang,
                             charts_dir=out / "charts", comparisons=comparisons, scorecard=scorecard)
    write_context(context, paths[CONTEXT_FILE])
    write_workbook(paths["results.xlsx"], results_sheets(context))
    progress("render the report")
    context = read_context(paths[CONTEXT_FILE])  # every template sees the context a custom one would
    html = render_html(context)
    paths["report.html"].write_text(html, encoding="utf-8")
    write_pdf(html, paths["report.pdf"])

    manifest = {
        "package": "lqas", "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": project.model_dump(mode="json"),
        "language": lang,
        "inputs": [_checksum(path) for path in _inputs(project)],
        "rows": {"read": derived.ingest.rows_read, "kept": len(table), "excluded": len(derived.ingest.exclusions),
                 "repaired_fields": len(derived.ingest.repairs)},
        "outputs": sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()
                          and path.name != "manifest.json"),
    }
    paths["manifest.json"].write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["charts"] = out / "charts"
    return paths


def estimate_all(table: pd.DataFrame, indicators: list[str], project: Project) -> pd.DataFrame:
    """All indicators by cohort x catchment x sex (with margins), plus the BeSD indicators by the
    child's vaccination status.

    The tidy frame gets one more domain column, ``vaccination_status`` (after ``sex``): ``all``
    on every row except the BeSD-by-status rows, whose other domain columns are ``all``.
    """
    design = project.design
    options = {"strata": design.strata, "psu": design.psu, "weight": "weight", "singleton": design.singleton,
               "nest": design.nest, "empty_psus": _empty_psus(table, project),
               "ci": design.ci, "level": design.level}
    estimates = estimate_indicators(table, indicators, **options)
    estimates.insert(estimates.columns.get_loc("sex") + 1, "vaccination_status", ALL)
    besd = [key for key in indicators if key.startswith("besd_")]
    if not besd or "vaccination_status" not in table or table["vaccination_status"].isna().all():
        return estimates
    by_status = estimate_indicators(table, besd, by=("vaccination_status",), **options)
    by_status = by_status[~by_status["vaccination_status"].isin([ALL, "nan", "None"])]
    for column in ("cohort", "district", "catchment", "sex"):
        if column in estimates:
            by_status[column] = ALL
    return pd.concat([estimates, by_status[estimates.columns]], ignore_index=True)


def _inputs(project: Project) -> list[Path]:
    files = [project.resolve(project.data.file)]
    if project.data.populations is not None:
        files.append(project.resolve(project.data.populations))
    return files


def _checksum(path: Path) -> dict:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}


# --- report context ----------------------------------------------------------------------------


def report_context(project: Project, derived: Derived, estimates: pd.DataFrame, classification: pd.DataFrame,
                   registry: dict[str, Indicator], targets: list[Target], lang: str, *,
                   charts_dir: Path, comparisons: pd.DataFrame | None = None,
                   scorecard: pd.DataFrame | None = None) -> dict:
    """Assemble the report context (see :func:`lqas.report.build_context`) and draw the charts."""
    table, schedule = derived.table, derived.schedule
    cohorts = [name for name, _ in sorted(project.cohorts.items(), key=lambda item: item[1])]
    cohorts = [c for c in cohorts if c in set(table["cohort"])]
    oldest = cohorts[-1] if cohorts else ALL
    catchments = list(_catchment_labels(project, table))
    labels_by_lang = {code: _labels(project, registry, code, table, schedule) for code in ("en", "fr")}
    labels = labels_by_lang[lang]
    index = EstimateIndex(estimates, project.report.small_cell_n)
    doses = [dose.key for dose in schedule.doses]

    statuses = [s for s in ("zero_dose", "under_immunized", "penta3")
                if "vaccination_status" in table and s in set(table["vaccination_status"].dropna())]
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
                "sex_tables": {key: sex_table(index, key, [ALL], catchments) for key in priority},
                "by_status": status_table(index, besd_shown, statuses)}

    panel_keys = [(key, panel_indicators(keys, [c for c in table.columns if c in index]), cohort) for key, keys, cohort in PANELS]
    panels = [p for key, keys, cohort in panel_keys
              if (p := panel(index, key, keys, oldest if cohort == "oldest" else ALL, catchments)) is not None]
    sections = {
        "sex_tables": {key: sex_table(index, key, cohorts, catchments) for key in ("zero_dose", "ui_dtp1_not_dtp3")
                       if key in index},
        "coverage": {"by_dose": [coverage_by_dose(index, doses, cohort) for cohort in cohorts],
                     "by_catchment": coverage_by_catchment(index, doses, oldest, catchments),
                     "sources": evidence_sources(table, doses, oldest)},
        "panels": panels,
        "besd": besd,
    }
    target_records = [{"indicator": t.indicator, "good": t.good, "bad": t.bad, "lower_is_better": t.lower_is_better,
                       "cohorts": list(t.cohorts) if t.cohorts else None, "upper": t.thresholds[0],
                       "lower": t.thresholds[1]} for t in targets]
    lqas = {"classification": classification.to_dict("records"),
            "matrix": lqas_matrix(classification, catchments, cohorts),
            "targets": target_records, "alpha": project.lqas.alpha, "beta": project.lqas.beta,
            "lot": list(project.lqas.lot),
            "decision_table": decision_table_rows(decision_table(range(12, 31))),
            "rules_used": _rules_used(classification, target_records, labels)}
    if comparisons is not None and comparisons.empty:
        comparisons = None
    findings = key_findings(index, classification, cohorts=cohorts, catchments=catchments, oldest=oldest,
                            targets=target_records, besd_priority=besd["priority"] if besd else (),
                            statuses=statuses, comparisons=comparisons)
    shown = ["zero_dose", "ui_dtp1_not_dtp3", f"{doses[0]}_crude", f"{doses[0]}_valid",
             *[key for _, keys, _ in panel_keys for key in keys], *besd_shown]
    charts = _charts(estimates, labels, cohorts, oldest, doses, besd, lqas["rules_used"], charts_dir)
    ingest_result = derived.ingest
    quality = {"rows_read": ingest_result.rows_read, "kept": len(table), "excluded": len(ingest_result.exclusions),
               "exclusions_by_reason": counts_by(ingest_result.exclusions, "reason", "reason"),
               "repairs_by_rule": counts_by(ingest_result.repairs, "rule", "rule"),
               "repairs": len(ingest_result.repairs), "remarks": remarks(table)}
    sample = {**sample_table(table, catchments, cohorts), "rows_read": quality["rows_read"],
              "kept": quality["kept"], "excluded": quality["excluded"], "repairs": quality["repairs"],
              "exclusions_by_reason": quality["exclusions_by_reason"]}
    design = project.design
    methods = {"strata": design.strata, "psu": design.psu, "ci": design.ci, "level": design.level,
               "weights": design.weights, "singleton": design.singleton, "alpha": project.lqas.alpha,
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
               "targets": [t.model_dump() for t in project.lqas.targets]}
    survey = {**project.survey.model_dump(), "name": project.report.title.get(lang, project.survey.name),
              "titles": {code: project.report.title.get(code, project.survey.name) for code in ("en", "fr")}}
    return build_context(
        survey=survey, lang=lang, version=__version__, labels=labels, labels_by_lang=labels_by_lang,
        catchments=catchments, cohorts=cohorts, sample=sample, quality=quality, sections=sections,
        findings=findings, lqas=lqas, methods=methods,
        definitions=definitions(registry, [k for k in dict.fromkeys(shown) if k in index], lang, labels,
                                load_besd_registry() if besd else {}),
        charts=charts, small_cell_n=project.report.small_cell_n,
        sex_comparisons=None if comparisons is None else comparisons.to_dict("records"),
        scorecard=None if scorecard is None else scorecard_context(scorecard, lang, unit_labels=labels["catchment"]))


SEX_GAP_INDICATORS = ("zero_dose", "ui_dtp1_not_dtp3", "penta1_crude", "penta3_crude", "mr1_crude")


def _design(table: pd.DataFrame, project: Project) -> SurveyDesign:
    design = project.design
    return SurveyDesign(table, strata=design.strata, psu=design.psu, weight="weight",
                        singleton=design.singleton, nest=design.nest, empty_psus=_empty_psus(table, project))


def _empty_psus(table: pd.DataFrame, project: Project) -> dict[str, int] | None:
    """Sampled clusters without any child per catchment (set by derive_project), when the design's
    strata are the catchments and its PSUs the clusters; VCQI counts them in variances and df."""
    empty = table.attrs.get("empty_clusters")
    if not empty or project.design.strata != "catchment" or project.design.psu != "cluster":
        return None
    present = set(table["catchment"].astype(str))
    return {catchment: count for catchment, count in empty.items() if catchment in present}


def sex_comparisons(table: pd.DataFrame, project: Project, registry: dict[str, Indicator]) -> pd.DataFrame:
    """Design-based girls - boys comparisons (difference, ratio, Rao-Scott test) by cohort x catchment.

    One row per indicator x domain (margins ``all`` included) of ``SurveyDesign.compare``; the
    key findings state whether the CI of the difference excludes 0.
    """
    outcomes = [key for key in SEX_GAP_INDICATORS if key in table and table[key].notna().any()]
    if not outcomes or not {"F", "M"} <= set(table["sex"]):
        return pd.DataFrame()
    by = [column for column in ("cohort", "catchment") if column in table]
    design = _design(table, project)
    return pd.concat([design.compare(key, group="sex", by=by, lower_is_better=registry[key].lower_is_better,
                                     level=project.design.level) for key in outcomes], ignore_index=True)


def equity_card(table: pd.DataFrame, project: Project) -> pd.DataFrame | None:
    """The gender & equity scorecard by catchment (lqas.equity), or None without the inputs."""
    if not {"F", "M"} <= set(table["sex"]) or "zero_dose" not in table or table["zero_dose"].isna().all():
        return None
    return equity_scorecard(_design(table, project), ci=project.design.ci, level=project.design.level)


def _catchment_labels(project: Project, table: pd.DataFrame) -> dict[str, str]:
    configured = project.labels.get("catchment") or {}
    present = set(table["catchment"].astype(str))
    ordered = [c for c in configured if c in present] + sorted(present - set(configured))
    return {c: configured.get(c, c) for c in ordered}


def _labels(project: Project, registry: dict, lang: str, table: pd.DataFrame, schedule: Schedule) -> dict:
    code = code_labels(lang)
    status = equity_labels(lang)["group"].get("vaccination_status", {})
    return {
        **code,
        "indicator": {key: indicator.label(lang) for key, indicator in registry.items()},
        "catchment": {**_catchment_labels(project, table), ALL: code["all_catchments"]},
        "district": {**project.labels.get("district", {}), ALL: code["all_catchments"]},
        "cohort": {**{name: COHORT_LABELS[lang].get(name, name) for name in project.cohorts}, ALL: code["all_cohorts"]},
        "status": {**status, ALL: code["sex"][ALL]},
        "dose": {dose.key: dose.label_in(lang) for dose in schedule.doses},
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


def _charts(estimates: pd.DataFrame, labels: dict, cohorts: list[str], oldest: str, doses: list[str],
            besd: dict | None, rules_used: list[dict], folder: Path) -> dict[str, str]:
    """Draw every chart: PNG files in ``folder`` and SVG markup for the report, by name."""
    text = labels["chart"]
    catchments = {k: v for k, v in labels["catchment"].items() if k != ALL}
    present = set(estimates["indicator"])
    zd_ui = [key for key in ("zero_dose", "ui_dtp1_not_dtp3") if key in present]
    figures = {}
    if zd_ui:  # a BeSD-only survey has no dose evidence, so no vaccination charts
        figures["zero_dose_ui_by_sex"] = draw.sex_gap_chart(
            estimates, zd_ui, cohorts, labels=labels["indicator"], catchment_labels=catchments,
            cohort_labels=labels["cohort"], text=text)
        figures["zero_dose_ui_by_catchment"] = draw.inchworm_chart(
            estimates, zd_ui, cohorts, labels=labels["indicator"], catchment_labels=catchments,
            cohort_labels=labels["cohort"], text=text)
    if any(f"{dose}_crude" in present for dose in doses):
        figures["coverage_by_dose"] = draw.coverage_chart(estimates, doses, oldest, dose_labels=labels["dose"],
                                                          text=text)
    if besd and besd["statuses"] and besd["priority"]:
        figures["besd_by_status"] = draw.status_chart(estimates, besd["priority"], besd["statuses"],
                                                      labels=labels["indicator"], status_labels=labels["status"],
                                                      text=text)
    if rules_used:
        figures["oc_curves"] = draw.oc_chart(rules_used, text=text, oc_curve=oc_curve)
    return {name: draw.save_chart(figure, folder / f"{name}.png") for name, figure in figures.items()}

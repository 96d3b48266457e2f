"""Run a project end to end: ingest -> derive -> classify + estimate -> tables, charts, report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from lqas import __version__
from lqas.besd import derive_besd
from lqas.charts import save_chart, sex_gap_chart
from lqas.config import Project
from lqas.errors import ConfigError
from lqas.estimate import estimate_indicators
from lqas.indicators import load_registry
from lqas.ingest import IngestResult, ingest
from lqas.report import build_context, render_html, write_pdf
from lqas.rules import Target, classify
from lqas.vaccination import Schedule, clean_dates, derive, load_schedule
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
                   cohorts=project.cohorts)
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
    table = derived.table
    registry = load_registry(derived.schedule)
    indicators = [key for key in registry if key in table]

    progress("estimate")
    estimates = estimate_indicators(table, indicators, strata=project.design.strata, psu=project.design.psu,
                                    weight="weight", singleton=project.design.singleton,
                                    ci=project.design.ci, level=project.design.level)
    progress("classify lots")
    targets = [Target(indicator=t.indicator, good=t.good, bad=t.bad,
                      lower_is_better=registry[t.indicator].lower_is_better, cohorts=t.cohorts)
               for t in project.lqas.targets]
    classification = classify(table, targets, lot=project.lqas.lot, alpha=project.lqas.alpha,
                              beta=project.lqas.beta)

    paths = {name: out / name for name in ("derived.csv", "exclusions.csv", "repairs.csv", "estimates.csv",
                                             "classification.csv", "results.xlsx", "report.html",
                                             "report.pdf", "manifest.json")}
    progress("write tables")
    write_derived(derived, paths["derived.csv"])
    derived.ingest.exclusions.to_csv(paths["exclusions.csv"], index=False)
    derived.ingest.repairs.to_csv(paths["repairs.csv"], index=False)
    estimates.to_csv(paths["estimates.csv"], index=False)
    classification.to_csv(paths["classification.csv"], index=False)
    with pd.ExcelWriter(paths["results.xlsx"], engine="openpyxl") as writer:
        estimates.to_excel(writer, sheet_name="estimates", index=False)
        classification.to_excel(writer, sheet_name="classification", index=False)
        derived.ingest.exclusions.to_excel(writer, sheet_name="exclusions", index=False)

    progress("charts and report")
    labels = _labels(project, registry, lang, table)
    figure = sex_gap_chart(estimates, ["zero_dose", "ui_dtp1_not_dtp3"], list(labels["cohort"]),
                           labels=labels["indicator"], catchment_labels=labels["catchment"],
                           cohort_labels=labels["cohort"],
                           text=_chart_text(lang))
    charts = {"sex_gap": save_chart(figure, out / "charts" / "zero_dose_ui_by_sex.png")}
    context = build_context(
        survey={**project.survey.model_dump(), "name": project.report.title.get(lang, project.survey.name)},
        lang=lang, version=__version__, sample=_sample_summary(derived, labels), estimates=estimates,
        classification=classification, labels=labels, charts=charts,
        methods={"strata": project.design.strata, "psu": project.design.psu, "ci": project.design.ci,
                 "weights": project.design.weights, "alpha": project.lqas.alpha, "beta": project.lqas.beta,
                 "records": project.vaccination.records,
                 "later_dose_implies_earlier": project.vaccination.later_dose_implies_earlier,
                 "targets": [t.model_dump() for t in project.lqas.targets]},
        small_cell_n=project.report.small_cell_n)
    context["findings"] = _findings(estimates, classification, labels)
    html = render_html(context, lang)
    paths["report.html"].write_text(html, encoding="utf-8")
    write_pdf(html, paths["report.pdf"])

    manifest = {
        "package": "lqas", "version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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


def _inputs(project: Project) -> list[Path]:
    files = [project.resolve(project.data.file)]
    if project.data.populations is not None:
        files.append(project.resolve(project.data.populations))
    return files


def _checksum(path: Path) -> dict:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}


def _labels(project: Project, registry: dict, lang: str, table: pd.DataFrame) -> dict:
    configured = project.labels
    catchments = configured.get("catchment") or {c: c for c in sorted(table["catchment"].unique())}
    return {
        "indicator": {key: indicator.label(lang) for key, indicator in registry.items()},
        "catchment": dict(catchments),
        "district": configured.get("district", {}),
        "cohort": {name: COHORT_LABELS[lang].get(name, name) for name in project.cohorts},
    }


def _chart_text(lang: str) -> dict[str, str]:
    if lang == "fr":
        return {"girls": "Filles", "boys": "Garçons", "percent_axis": "Pourcentage d'enfants (IC à 95 %)"}
    return {"girls": "Girls", "boys": "Boys", "percent_axis": "Percent of children (95% CI)"}


def _sample_summary(derived: Derived, labels: dict) -> dict:
    table, exclusions = derived.table, derived.ingest.exclusions
    counts = table.groupby(["catchment", "cohort", "sex"]).size().unstack("sex", fill_value=0)
    lots = [{"catchment": catchment, "cohort": cohort, "F": int(counts.loc[(catchment, cohort)].get("F", 0)),
             "M": int(counts.loc[(catchment, cohort)].get("M", 0)), "total": int(counts.loc[(catchment, cohort)].sum())}
            for catchment in labels["catchment"] for cohort in labels["cohort"] if (catchment, cohort) in counts.index]
    by_reason = exclusions.groupby("reason").size().sort_values(ascending=False)
    return {"rows_read": derived.ingest.rows_read, "kept": len(table), "excluded": len(exclusions),
            "repairs": len(derived.ingest.repairs), "lots": lots,
            "exclusions_by_reason": [{"reason": reason, "n": int(n)} for reason, n in by_reason.items()]}


def _findings(estimates: pd.DataFrame, classification: pd.DataFrame, labels: dict) -> dict:
    zd = estimates[(estimates["indicator"] == "zero_dose") & (estimates["sex"] == "all")]
    overall = zd[(zd["catchment"] == "all") & (zd["cohort"] != "all")]
    by_catchment = zd[(zd["catchment"] != "all") & (zd["cohort"] != "all")]
    highest = by_catchment.loc[by_catchment.groupby("cohort")["estimate"].idxmax()]
    failing = classification[(classification["indicator"] == "zero_dose") & (classification["class"] == "fail")]
    return {
        "zero_dose_overall": overall.to_dict("records"),
        "highest_zero_dose": highest.to_dict("records"),
        "failing_lots": [f"{labels['catchment'][row.catchment]} ({labels['cohort'][row.cohort]})"
                         for row in failing.itertuples()],
    }

"""Report: results -> documented context dict -> Jinja2 HTML -> PDF (WeasyPrint), in en or fr."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from lqas.resources import resource_dir

LOCALES = {"en": "en_GB", "fr": "fr_FR"}


def translations(lang: str) -> NullTranslations:
    """gettext translations for the report language, read from the shipped .po catalog."""
    po_path = resource_dir("templates") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def environment(lang: str, template_dir: Path | None = None) -> SandboxedEnvironment:
    """Sandboxed, autoescaping Jinja environment with gettext and locale-aware number filters.

    The sandbox and autoescaping mean text from the data (village names, remarks) and user
    templates cannot inject markup or run code.
    """
    folders = [str(template_dir)] if template_dir else []
    env = SandboxedEnvironment(loader=FileSystemLoader([*folders, str(resource_dir("templates"))]),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)
    locale = LOCALES[lang]
    percent_sign = "\u00a0%" if lang == "fr" else "%"  # French: 12,3 % with a no-break space
    env.filters["pct"] = lambda value, digits=1: (
        "–" if value is None or pd.isna(value)
        else format_percent(value, format="#,##0." + "0" * digits + percent_sign, locale=locale))
    env.filters["num"] = lambda value, digits=0: (
        "–" if value is None or pd.isna(value)
        else format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=locale))
    env.filters["longdate"] = lambda value: format_date(value, format="long", locale=locale)
    return env


def render_html(context: dict, lang: str, *, template: str = "report.html.j2",
                template_dir: Path | None = None) -> str:
    """Render a report template against the report context."""
    return environment(lang, template_dir).get_template(template).render(**context)


def write_pdf(html: str, path: Path) -> None:
    """Render HTML to PDF with WeasyPrint (imported lazily: it is slow to import)."""
    from weasyprint import HTML

    HTML(string=html, base_url=str(resource_dir("templates"))).write_pdf(path)


def ci_cell(row: pd.Series | None) -> dict | None:
    if row is None:
        return None
    return {"estimate": row["estimate"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "n": int(row["n"])}


def sex_table(estimates: pd.DataFrame, indicator: str, cohorts: list[str], catchments: list[str],
              small_cell_n: int) -> list[dict]:
    """Rows of catchment x cohort with girls, boys and all (estimate, CI, n) for one indicator."""
    part = estimates[estimates["indicator"] == indicator].set_index(["cohort", "catchment", "sex"])
    rows = []
    for cohort in cohorts:
        for catchment in [*catchments, "all"]:
            cells = {}
            for sex in ("F", "M", "all"):
                key = (cohort, catchment, sex)
                cell = ci_cell(part.loc[key]) if key in part.index else None
                if cell is not None:
                    cell["small"] = cell["n"] < small_cell_n
                cells[sex] = cell
            rows.append({"cohort": cohort, "catchment": catchment, **cells})
    return rows


def lqas_matrix(classification: pd.DataFrame, labels: dict) -> dict:
    """Lots (catchment x cohort) by indicators: one cell per classified lot, for the report matrix."""
    indicators = list(dict.fromkeys(classification["indicator"]))
    cells = {(row["catchment"], row["cohort"], row["indicator"]): row
             for row in classification.to_dict("records")}
    rows = []
    for catchment in labels["catchment"]:
        for cohort in labels["cohort"]:
            lot = [cells.get((catchment, cohort, indicator)) for indicator in indicators]
            if any(lot):
                rows.append({"catchment": catchment, "cohort": cohort, "cells": lot})
    return {"indicators": indicators, "rows": rows}


def build_context(*, survey: dict, lang: str, version: str, sample: dict, estimates: pd.DataFrame,
                  classification: pd.DataFrame, labels: dict, charts: dict, methods: dict,
                  small_cell_n: int, today: date | None = None) -> dict:
    """The documented report context: plain data only (no DataFrames), stable keys.

    Keys: ``survey`` (name, country, period), ``lang``, ``version``, ``generated`` (date),
    ``sample`` (rows_read, kept, excluded, exclusions_by_reason, lots), ``labels`` (indicator,
    catchment, district, cohort labels), ``sex_tables`` (indicator -> rows from ``sex_table``),
    ``classification`` (records of classification.csv), ``lqas_matrix`` (indicators, and rows of
    lots with one classification record or None per indicator), ``charts`` (name -> inline SVG),
    ``methods`` (design and rule settings), ``small_cell_n``.
    """
    cohorts = list(labels["cohort"])
    catchments = list(labels["catchment"])
    return {
        "survey": survey,
        "lang": lang,
        "version": version,
        "generated": today or date.today(),
        "sample": sample,
        "labels": labels,
        "sex_tables": {indicator: sex_table(estimates, indicator, cohorts, catchments, small_cell_n)
                       for indicator in ("zero_dose", "ui_dtp1_not_dtp3")},
        "classification": classification.to_dict("records"),
        "lqas_matrix": lqas_matrix(classification, labels),
        "charts": charts,
        "methods": methods,
        "small_cell_n": small_cell_n,
    }

"""Report context: results -> documented, checked plain JSON (``report_context.json``) that the report is
composed from (:mod:`lqas.sections`), in en or fr; the sandboxed Jinja environment of the HTML templates."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, create_model

from lqas.config import describe_errors
from lqas.errors import InputError
from lqas.labels import translate, translations
from lqas.resources import resource_dir
from lqas.safety import clean_svg
from lqas.sections.words import LOCALES, longdate, num, pct, pp
from lqas.views import ALL, EstimateIndex

CONTEXT_FILE = "report_context.json"
CHARTS_DIR = "charts"  # in the run folder: <name>.png and <name>.svg of every chart
_CHART_FILE = re.compile(CHARTS_DIR + r"/[A-Za-z0-9_-]+\.svg")
# a girls - boys gap is reported in the key findings from this many percentage points
GAP_FINDING = 0.05
# a girls - boys difference is called significant when the design-based Rao-Scott p is below this, in
# every sentence of the report (one inference: comparisons.csv's p)
SIGNIFICANCE = 0.05
PANELS = (
    ("full", ("fully_vaccinated_crude", "fully_vaccinated_valid", "fully_vaccinated_for_age"), "oldest"),
    ("dropout", ("dropout_*",), "oldest"),  # every dropout pair of the schedule
    ("card", ("card_ever", "card_seen", "card_seen_with_dates"), "all"),
    ("timeliness", ("timely_penta3", "timely_mr1"), "oldest"),
)


def panel_indicators(keys: tuple[str, ...], indicators) -> list[str]:
    """The indicators of a panel: its keys, a ``prefix*`` key standing for every indicator with that prefix."""
    out: list[str] = []
    for key in keys:
        out += [k for k in indicators if k.startswith(key[:-1])] if key.endswith("*") else [key]
    return out


def environment(lang: str, template_dir: Path | None = None, run_dir: Path | None = None) -> SandboxedEnvironment:
    """Sandboxed, autoescaping Jinja environment with gettext and locale-aware number filters.

    The sandbox and autoescaping mean text from the data (village names, remarks) and user
    templates cannot inject markup or run code. Filters: ``pct`` (fraction -> ``12,3 %``),
    ``num`` (``1 153``), ``pp`` (difference of fractions -> signed percentage points),
    ``longdate`` (date or ISO text -> ``21 novembre 2026``), ``names`` (keys -> display names
    from a label mapping, e.g. ``keys | names(labels.catchment)``), ``chart`` (a chart file of
    ``run_dir`` named in ``charts`` -> its SVG drawing, cleaned, inline: ``charts.oc_curves | chart``).
    Missing values print as ``–``.
    """
    if lang not in LOCALES:
        raise InputError(f"report language must be one of {', '.join(LOCALES)}; got {lang!r}")
    folders = [str(template_dir)] if template_dir else []
    env = SandboxedEnvironment(loader=FileSystemLoader([*folders, str(resource_dir("templates"))]),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)
    # the same words as the blocks (lqas.sections.words): a custom template writes numbers as the report does
    env.filters["pct"] = lambda value, digits=1: pct(value, lang, digits)
    env.filters["num"] = lambda value, digits=0: num(value, lang, digits)
    env.filters["pp"] = lambda value, digits=1: pp(value, lang, digits)
    env.filters["longdate"] = lambda value: longdate(value, lang)
    env.filters["names"] = lambda keys, mapping: [mapping.get(key, key) for key in keys]
    env.filters["chart"] = lambda name: Markup(chart_svg(run_dir, name))
    env.filters["logo"] = lambda name: Markup(logo_img(run_dir, name))
    return env


def chart_svg(run_dir: Path | None, name: Any) -> str:
    """The SVG drawing of a chart the run wrote, rebuilt from an allow-list (:func:`lqas.safety.clean_svg`).

    ``name`` is a value of the context's ``charts`` (``charts/<name>.svg``); only a file directly
    in the run's ``charts/`` folder is read, so a context received from someone else can neither
    bring its own markup nor point at another file.
    """
    if run_dir is None:
        raise InputError("charts are read from the run folder: render the report with `lqas report RUN`")
    if not isinstance(name, str) or not _CHART_FILE.fullmatch(name):
        raise InputError(f"{run_dir / CONTEXT_FILE}: chart {name!r} is not a file {CHARTS_DIR}/<name>.svg")
    path = run_dir / name
    if path.resolve().parent != (run_dir / CHARTS_DIR).resolve():  # a link that leaves charts/
        raise InputError(f"{path}: not a chart file inside {run_dir / CHARTS_DIR}")
    try:
        return clean_svg(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not an SVG chart of the run ({exc})") from None


_LOGO_FILE = re.compile(CHARTS_DIR + r"/logo_[0-9]+\.png")


def logo_img(run_dir: Path | None, name: Any) -> str:
    """A logo of the title page as an ``<img>`` carrying the PNG file inline: only a PNG file
    ``charts/logo_<i>.png`` of the run (copied there from ``[report.cover] logos``) is read."""
    if run_dir is None or not isinstance(name, str) or not _LOGO_FILE.fullmatch(name):
        raise InputError(f"logo {name!r} is not a file {CHARTS_DIR}/logo_<i>.png of the run")
    path = run_dir / name
    if path.is_symlink() or not path.is_file() or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise InputError(f"{path}: not a PNG logo of the run")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img class="logo" alt="" src="data:image/png;base64,{data}">'


def render_html(context: Mapping[str, Any], lang: str | None = None, *, template: str,
                template_dir: Path | None = None, run_dir: Path | None = None) -> str:
    """Render a report template against the report context (see :func:`build_context`); charts are
    read from ``run_dir``."""
    return environment(lang or context["lang"], template_dir, run_dir).get_template(template).render(**context)


# --- context ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Recursively JSON-ready: plain str/int/float/bool/None, lists and dicts; dates as ISO text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return str(value)  # Markup -> str: escaping happens when rendered
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_context(context: Mapping[str, Any], path: Path) -> None:
    # keys keep the context's order, which is the report's (indicators, sections): a run builds it in
    # a fixed order, so reruns write the same bytes; sorting would reorder the report
    path.write_text(json.dumps(_plain(context), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _chart_file(value: str) -> str:
    if not _CHART_FILE.fullmatch(value):
        raise ValueError(f"must name an SVG file the run wrote in {CHARTS_DIR}/ ({CHARTS_DIR}/<name>.svg); "
                         f"got {value[:60]!r}")
    return value


def _iso_date(value: str) -> str:
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"expected an ISO date (2026-11-21); got {value[:60]!r}") from None
    return value


class _Survey(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    name: str
    titles: dict[str, str] = {}


_Labels = dict[str, str | dict[str, Any]]


class ReportContext(BaseModel):
    """The schema of ``report_context.json`` (``reports/templates/CONTEXT.md``): every top-level key
    the built-in report reads, with its type; ``charts`` names files of the run's ``charts/``.

    Deeper levels are checked where a value from the file could do harm (charts) or where the
    built-in templates iterate; the rest is plain JSON that the sandboxed, autoescaping templates
    only print.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    survey: _Survey
    lang: Literal["en", "fr"]
    version: str
    generated: Annotated[str, AfterValidator(_iso_date)]
    small_cell_n: int
    labels: _Labels
    labels_by_lang: dict[Literal["en", "fr"], _Labels]
    catchments: list[str]
    cohorts: list[str]
    oldest_cohort: str
    units: dict[str, Any]
    areas: dict[str, Any] | None
    findings: list[dict[str, Any]]
    summary: dict[str, Any] | None
    sample: dict[str, Any]
    quality: dict[str, Any]
    sex_tables: dict[str, dict[str, Any]]
    coverage: dict[str, Any]
    panels: list[dict[str, Any]]
    besd: dict[str, Any] | None
    groups: dict[str, Any] | None
    lqas: dict[str, Any]
    methods: dict[str, Any]
    definitions: list[dict[str, Any]]
    charts: dict[str, Annotated[str, AfterValidator(_chart_file)]]
    sex_comparisons: list[dict[str, Any]] | None
    scorecard: dict[str, Any] | None
    clusters: dict[str, Any] | None
    rounds: dict[str, Any] | None
    admin: dict[str, Any] | None
    small_area: dict[str, Any] | None = None


# a custom template may use a part of the context: the same keys and types, only the language required
_PartialContext = create_model(
    "ReportContext", __base__=ReportContext,
    **{name: (Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation, None)
       for name, field in ReportContext.model_fields.items() if name != "lang"})


def read_context(path: Path, *, complete: bool = False) -> dict[str, Any]:
    """Read a ``report_context.json`` and check it against :class:`ReportContext`.

    ``complete``: every key must be there (the built-in report reads them all); otherwise only
    ``lang``, and the keys present must have their types.

    Raises
    ------
    InputError
        The file is missing, not JSON, or does not match the schema: one line per problem, naming
        the file and the key.
    """
    if not path.is_file():
        raise InputError(f"{path}: report context not found; expected the {CONTEXT_FILE} a run writes "
                         "(lqas run PROJECT --out DIR)")
    try:
        context = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(context, dict):
        raise InputError(f"{path}: not a report context (expected a JSON object of keys)")
    model = ReportContext if complete else _PartialContext
    try:
        model.model_validate(context)
    except ValidationError as exc:
        raise InputError(describe_errors(exc, model, path)) from None
    return context


def for_language(context: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The context with the labels of another language (the run saves labels in both);
    charts keep the language of the run."""
    out = dict(context)
    if lang != context["lang"]:
        if lang not in context.get("labels_by_lang", {}):
            raise InputError(f"report context has no labels for language {lang!r}; "
                             f"available: {', '.join(context.get('labels_by_lang', {}))}")
        out["labels"] = context["labels_by_lang"][lang]
        out["lang"] = lang
        survey = context["survey"]
        out["survey"] = {**survey, "name": (survey.get("titles") or {}).get(lang, survey["name"]),
                         "period": (survey.get("periods") or {}).get(lang, survey.get("period"))}
    return out


def render_report(run_dir: Path, out: Path, *, template: Path | None = None, lang: str | None = None) -> Path:
    """Render the report of a saved run (its ``report_context.json``) again, in either language.

    Without ``template``: the built-in report, composed as blocks (:func:`lqas.sections.compose`),
    typeset to PDF with Typst when ``out`` ends in ``.pdf``, else written as one HTML page. A
    ``template`` ending in ``.typ.j2`` is a Typst report template (``out`` must be a PDF); any other is
    an HTML template. Both see the context's keys and ``doc``, the report as blocks (``None`` when
    the context is not complete), run in the sandbox, and may import the built-in block macros
    (``{% import "html/blocks.html.j2" as b with context %}``). Charts are read from ``run_dir/charts/``
    only.
    """
    from lqas.sections import compose
    from lqas.typeset import compile_pdf, html_page, typst_source
    from lqas.typeset import write_pdf as typeset_pdf

    if template is not None and not template.is_file():
        raise InputError(f"{template}: template file not found")
    typst_template = template is not None and template.name.endswith(".typ.j2")
    pdf = out.suffix.lower() == ".pdf"
    if template is not None and pdf != typst_template:
        raise InputError(f"{template}: a PDF is typeset from a Typst template (.typ.j2), HTML from an HTML "
                         f"template; {out.name} needs " + ("a .typ.j2 template" if pdf else "an HTML template"))
    complete = template is None
    context = read_context(run_dir / CONTEXT_FILE, complete=complete)
    context = for_language(context, lang or context["lang"])
    # a custom template may read a part of the context; the blocks need all of it
    document = compose(context) if complete or _complete(context) else None
    out.parent.mkdir(parents=True, exist_ok=True)
    if template is None and pdf:
        typeset_pdf(document, out, run_dir)
    elif template is None:
        out.write_text(html_page(document, run_dir), encoding="utf-8")
    elif typst_template:
        compile_pdf(typst_source(document, template=template.name, template_dir=template.resolve().parent,
                                 context=context), out, run_dir)
    else:
        out.write_text(render_html({**context, "doc": document.model_dump() if document else None},
                                   template=template.name, template_dir=template.resolve().parent,
                                   run_dir=run_dir), encoding="utf-8")
    return out


def _complete(context: Mapping[str, Any]) -> bool:
    """Whether the context has every key the built-in report reads."""
    return set(ReportContext.model_fields) <= set(context)


def definitions(registry: Mapping[str, Any], shown: Sequence[str], lang: str, labels: Mapping[str, Any],
                besd_items: Mapping[str, Any]) -> list[dict]:
    """Definitions of the indicators shown in the report, from the indicator registry.

    Per-dose indicators are given once per template (``crude``, ``valid``); BeSD indicators
    carry ``besd`` = ``{"item", "favourable"}`` (or ``{"options", "item"}`` for the
    gender-barrier indicator) for the template to phrase, since the registry states them as codes.
    """
    out = []
    templates_done: set[str] = set()
    by_indicator = {spec["indicator"]: (item, spec) for item, spec in besd_items.get("items", {}).items()}
    multiselect = {m.get("gender_indicator"): (stem, m) for stem, m in besd_items.get("multiselect", {}).items()}
    for key in shown:
        indicator = registry.get(key)
        if indicator is None:
            continue
        entry = {"indicator": key, "label": indicator.label(lang), "direction": labels["direction"][
            "lower" if indicator.lower_is_better else "higher"], "spec": indicator.spec, "besd": None}
        kind = key.rsplit("_", 1)[-1]
        if key.endswith(("_crude", "_valid")) and not key.startswith("fully_") and kind in labels["dose_template"]:
            if kind in templates_done:
                continue
            templates_done.add(kind)
            entry["label"] = labels["dose_template"][kind]
            entry["indicator"] = f"<dose>_{kind}"
        if key in by_indicator:
            item, spec = by_indicator[key]
            entry["besd"] = {"item": item, "favourable": list(spec["favourable"])}
        elif key in multiselect:
            stem, spec = multiselect[key]
            entry["besd"] = {"item": stem, "options": list(spec["gender_related"])}
        entry["definition"] = None if entry["besd"] else translate(indicator.definition, lang)
        entry["denominator"] = translate(indicator.denominator, lang)
        # BeSD rows name their BeSD-TI item in the definition; other rows cite their reference
        entry["spec"] = None if entry["besd"] else published_spec(translate(indicator.spec, lang))
        out.append(entry)
    return out


def published_spec(spec: str) -> str:
    """A registry reference as a reader can follow it: the parts citing the project's own notes
    (``besd.md §2.1``) are left out; WHO, VCQI, Gavi and IA2030 references stay."""
    kept = [part.strip() for part in spec.split(";") if part.strip() and ".md" not in part]
    return (" ; " if " ; " in spec else "; ").join(kept)


def key_findings(index: EstimateIndex, classification: pd.DataFrame, *, cohorts: Sequence[str],
                 catchments: Sequence[str], oldest: str, targets: Sequence[Mapping[str, Any]],
                 besd_priority: Sequence[str] = (), statuses: Sequence[str] = (),
                 comparisons: pd.DataFrame | None = None) -> list[dict]:
    """The numbers behind the key-findings sentences, one dict per sentence (``kind`` says which).

    Kinds: ``prevalence`` (zero-dose / UI among all children of a cohort), ``target`` (lots of
    a cohort that do not reach an LQAS target), ``highest`` (catchment with the highest
    zero-dose prevalence), ``sex_gap`` (lots where girls fare worse than boys by at least
    ``GAP_FINDING``), ``coverage`` (girls, boys and all, oldest cohort), ``besd_lowest`` and
    ``besd_status`` (BeSD priority indicators). Estimates from fewer children than the
    small-cell threshold are never used.

    ``comparisons`` (HOOK for ``SurveyDesign.compare``): when given, a frame with ``indicator``,
    ``cohort``, ``catchment``, ``difference`` (girls - boys), ``difference_ci_low``,
    ``difference_ci_high`` and ``p_value``; each sex gap then says whether the CI of the
    difference excludes 0. Without it, gaps are point estimates with overlapping or
    non-overlapping confidence intervals.
    """
    items: list[dict] = []

    def usable(cell: dict | None) -> bool:
        return cell is not None and not cell["small"]

    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        for cohort in cohorts:
            cell = index.cell(indicator, cohort)
            if usable(cell):
                items.append({"kind": "prevalence", "indicator": indicator, "cohort": cohort, **cell})
    for target in targets:
        part = classification[(classification["indicator"] == target["indicator"])
                               & (classification["class"] != "no_data")]
        for cohort in cohorts:
            lots = part[part["cohort"] == cohort]
            if lots.empty:
                continue
            below = set(lots.loc[lots["class"] == "fail", "catchment"])
            failing = [c for c in catchments if c in below]
            items.append({"kind": "target", "indicator": target["indicator"], "cohort": cohort,
                          "good": target["good"], "lower_is_better": target["lower_is_better"],
                          "failing": failing, "classified": len(lots)})
    for cohort in cohorts:
        cells = [(c, index.cell("zero_dose", cohort, c)) for c in catchments]
        cells = [(c, cell) for c, cell in cells if usable(cell)]
        if cells:
            catchment, cell = max(cells, key=lambda pair: pair[1]["estimate"])
            items.append({"kind": "highest", "indicator": "zero_dose", "cohort": cohort, "catchment": catchment,
                          **cell})
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        items.append(_sex_gaps(index, indicator, cohorts, catchments, comparisons))
    for indicator in ("penta3_crude", "mr1_crude", "fully_vaccinated_crude", "dropout_penta1_penta3"):
        cells = {sex: index.cell(indicator, oldest, ALL, sex) for sex in ("F", "M", ALL)}
        if usable(cells[ALL]):
            items.append({"kind": "coverage", "indicator": indicator, "cohort": oldest, "cells": cells})
    priority = [(ind, index.cell(ind)) for ind in besd_priority]
    priority = [(ind, cell) for ind, cell in priority if usable(cell)]
    if priority:
        indicator, cell = min(priority, key=lambda pair: pair[1]["estimate"])
        items.append({"kind": "besd_lowest", "indicator": indicator, **cell})
        for ind, _ in priority:
            cells = {status: index.cell(ind, status=status) for status in statuses}
            zd, best = cells.get("zero_dose"), cells.get(statuses[-1]) if statuses else None
            if usable(zd) and usable(best) and best["estimate"] - zd["estimate"] >= GAP_FINDING:
                items.append({"kind": "besd_status", "indicator": ind, "zero_dose": zd, "vaccinated": best,
                              "vaccinated_status": statuses[-1]})
    return items


def _sex_gaps(index: EstimateIndex, indicator: str, cohorts: Sequence[str], catchments: Sequence[str],
              comparisons: pd.DataFrame | None) -> dict:
    """Lots where girls fare worse than boys (zero-dose / UI: girls' prevalence higher)."""
    design = None
    if comparisons is not None:
        rows = comparisons[comparisons["indicator"] == indicator]
        design = {(r["cohort"], r["catchment"]): r for r in rows.to_dict("records")}
    girls_worse, boys_worse, compared = [], 0, 0
    for cohort in cohorts:
        for catchment in catchments:
            girls, boys = index.cell(indicator, cohort, catchment, "F"), index.cell(indicator, cohort, catchment, "M")
            if girls is None or boys is None or girls["small"] or boys["small"]:
                continue
            compared += 1
            gap = girls["estimate"] - boys["estimate"]
            if gap <= -GAP_FINDING:
                boys_worse += 1
            if gap < GAP_FINDING:
                continue
            entry = {"cohort": cohort, "catchment": catchment, "girls": girls["estimate"], "boys": boys["estimate"],
                     "overlap": not (girls["ci_low"] > boys["ci_high"] or boys["ci_low"] > girls["ci_high"]),
                     "difference": gap, "difference_ci_low": None, "difference_ci_high": None,
                     "excludes_zero": None, "p_value": None, "significant": None}
            found = design.get((cohort, catchment)) if design is not None else None
            if found is not None:
                low, high, p = found["difference_ci_low"], found["difference_ci_high"], found.get("p_value")
                entry.update(difference=found["difference"], difference_ci_low=low, difference_ci_high=high,
                             excludes_zero=bool(low > 0 or high < 0), p_value=p,
                             significant=p is not None and not pd.isna(p) and p < SIGNIFICANCE)
            girls_worse.append(entry)
    # the significant gaps first (the Rao-Scott p decides), each group by the size of the gap
    girls_worse.sort(key=lambda e: (not e["significant"], -e["difference"]))
    return {"kind": "sex_gap", "indicator": indicator, "girls_worse": girls_worse, "boys_worse": boys_worse,
            "compared": compared, "gap": GAP_FINDING, "design_based": design is not None,
            "significance": SIGNIFICANCE, "significant": sum(bool(e["significant"]) for e in girls_worse)}


def build_context(*, survey: Mapping[str, Any], lang: str, version: str, labels: Mapping[str, Any],
                  labels_by_lang: Mapping[str, Any], catchments: Sequence[str], cohorts: Sequence[str],
                  units: Mapping[str, Any], sample: Mapping[str, Any], quality: Mapping[str, Any], sections: Mapping[str, Any],
                  findings: Sequence[Mapping[str, Any]], lqas: Mapping[str, Any], methods: Mapping[str, Any],
                  summary: Mapping[str, Any] | None = None,
                  definitions: Sequence[Mapping[str, Any]], charts: Mapping[str, str], small_cell_n: int,
                  today: date | None = None, sex_comparisons: Any = None, scorecard: Any = None,
                  areas: Mapping[str, Any] | None = None, clusters: Mapping[str, Any] | None = None,
                  rounds: Mapping[str, Any] | None = None, admin: Mapping[str, Any] | None = None,
                  small_area: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The documented report context: plain data only (JSON-ready), stable keys.

    The run writes it to ``report_context.json`` (dates as ISO text) and renders every
    template, built-in or custom, from that JSON. ``reports/templates/CONTEXT.md`` describes
    each key with an example; in short:

    - ``survey`` (name, country, period, synthetic), ``lang`` (``en``/``fr``), ``version``,
      ``generated`` (ISO date), ``small_cell_n``;
    - ``labels``: display names in ``lang`` -- ``indicator``, ``catchment``, ``district``,
      ``cohort``, ``status`` (vaccination status), ``dose``, plus the code names of
      :func:`lqas.labels.code_labels` (``reason``, ``repair``, ``source``, ``sex``, ``klass``, ``chart``, ...);
      ``labels_by_lang``: the same for ``en`` and ``fr``;
    - ``catchments``, ``cohorts``: keys in display order; ``oldest_cohort``;
    - ``units``: what the body's tables show a row (or column) for: ``column`` (``catchment``, or the
      level above the catchments when they are more than ``[report] areas_in_body``), ``codes``,
      ``title`` and ``noun`` (the column's name in a header and in a sentence); ``areas``: ``None``
      unless the catchments are more than that, else the compact annex of catchment areas (``total``,
      ``shown``, ``capped``, ``parent``, ``indicators``, ``lots``, ``rows``);
    - ``findings``: list of dicts with a ``kind`` (see :func:`key_findings`);
    - ``summary``: the executive summary (:func:`lqas.context.summary_context`): ``headlines`` (dicts with a
      ``kind``: ``prevalence``, ``most``, ``lqas``, ``categories``, ``girls``), ``priority`` (the areas
      ranked by their number of zero-dose children: ``rows``, ``shown``, ``total``, ``numbers``),
      ``categories`` (WHO RED access/utilisation categories: cut-offs, ``counts``, ``rows``, ``chart``),
      ``recommendations`` (draft: ``id``, ``en``, ``fr``, ``areas``), ``rules_file``; ``None`` without
      zero-dose data;
    - ``sample``: ``rows_read``, ``kept``, ``excluded``, ``repairs``, ``lots`` and ``totals``
      (children by unit x cohort x sex: ``{"unit", "cohort", "F", "M", "other", "total"}``),
      ``exclusions_by_reason``;
    - ``quality``: ``exclusions_by_reason``, ``repairs_by_rule``, ``remarks`` (interviewer
      free text, raw: templates escape it);
    - ``sex_tables``: indicator -> ``{"rows": [{"cohort", "unit", "F", "M", "all"}]}``
      for zero-dose and UI; ``coverage`` (``by_dose`` per cohort, ``by_unit``,
      ``sources``); ``panels`` (dropout, card, timeliness, full vaccination by unit and
      sex); ``besd`` (``None`` without BeSD data, else ``priority``, ``sex_tables``,
      ``by_status``, ``statuses``); ``groups`` (``None`` without levels above the lots or
      stratifiers, else ``indicators``, ``levels``: a table per level of units x indicators, and
      ``stratifiers``: zero-dose and Penta 3 by group and sex);
    - ``lqas``: ``classification`` (records of classification.csv), ``matrix`` (``None`` when the
      catchments are more than the body shows), ``targets``,
      ``decision_table``, ``rules_used``, ``alpha``, ``beta``, ``limits_unmet`` (classifications whose
      rule misses the limits, and their largest risks), ``by_level`` (the lots put together per
      unit of the levels above them and cohort, ``None`` without such levels);
    - ``methods`` (design settings), ``definitions`` (see :func:`definitions`);
    - ``clusters``: the organ-pipe plots of each catchment area's clusters (:func:`lqas.clusters.organ_pipe_context`:
      ``indicator``, ``cohort``, ``target``, ``column``, ``charts``, ``areas``), ``None`` for a national survey;
    - ``rounds``: the change from the previous round (:func:`lqas.context.rounds_context`), ``None``
      without ``[rounds]``;
    - ``admin``: administrative (DHIS2) coverage against the survey's (:func:`lqas.context.admin_context`:
      ``rows`` by unit and dose, ``zero_dose``, ``checks``, ``unused``, ``rules``, ``chart``), ``None``
      without ``[admin]``;
    - ``small_area``: one indicator for every area of ``[small_area] file``, sampled or not
      (:func:`lqas.context.small_area_context`: ``rows`` in rank order, ``fit``, ``message``,
      ``charts``), ``None`` without ``[small_area]``;
    - ``charts``: name -> the chart's SVG file, ``charts/<name>.svg`` relative to the run folder
      (drawn in the run's language; templates embed it with the ``chart`` filter);
    - ``sex_comparisons``: design-based girls - boys comparisons (records of comparisons.csv:
      ``SurveyDesign.compare`` by cohort x catchment);
    - ``scorecard``: the gender & equity scorecard (``lqas.context.scorecard_context``: ``blocks``
      per catchment with traffic-light ``rows``, the ``rules`` stated, ``lights``, ``omitted``: the
      catchments whose blocks are left to scorecard.csv, when more than the body shows), or ``None``.

    An estimate cell is ``{"estimate", "ci_low", "ci_high", "n", "small"}`` with fractions
    0-1, or ``None`` when the domain has no child in the denominator.
    """
    context = {
        "survey": dict(survey), "lang": lang, "version": version, "generated": today or date.today(),
        "small_cell_n": small_cell_n, "labels": labels, "labels_by_lang": labels_by_lang,
        "catchments": list(catchments), "cohorts": list(cohorts), "oldest_cohort": cohorts[-1] if cohorts else ALL,
        "units": dict(units), "areas": None if areas is None else dict(areas),
        "findings": list(findings), "summary": None if summary is None else dict(summary), "sample": sample, "quality": quality,
        **sections, "lqas": lqas, "methods": methods, "definitions": list(definitions), "charts": dict(charts),
        "sex_comparisons": sex_comparisons, "scorecard": scorecard, "clusters": None if clusters is None else dict(clusters),
        "rounds": None if rounds is None else dict(rounds), "admin": None if admin is None else dict(admin),
        "small_area": None if small_area is None else dict(small_area),
    }
    return _plain(context)


def lqas_matrix(classification: pd.DataFrame, catchments: Sequence[str], cohorts: Sequence[str]) -> dict:
    """Lots (catchment x cohort) by indicators: one cell per classified lot, for the report matrix."""
    indicators = list(dict.fromkeys(classification["indicator"]))
    cells = {(row["catchment"], row["cohort"], row["indicator"]): row
             for row in classification.to_dict("records")}
    rows = []
    for catchment in catchments:
        for cohort in cohorts:
            lot = [cells.get((catchment, cohort, indicator)) for indicator in indicators]
            if any(lot):
                rows.append({"catchment": catchment, "cohort": cohort, "cells": lot})
    return {"indicators": indicators, "rows": rows}

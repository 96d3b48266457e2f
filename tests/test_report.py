"""Report: French catalog complete, sandboxed autoescaping, locale formatting, context and findings."""

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.pofile import read_po
from babel.messages.extract import extract_python
from jinja2.ext import babel_extract
from jinja2.sandbox import SecurityError

from lqas.indicators import load_registry
from lqas.labels import code_labels, translations
from lqas.report import (
    CONTEXT_FILE,
    _plain,
    definitions,
    environment,
    for_language,
    key_findings,
    read_context,
    render_report,
    write_context,
)
from lqas.views import EstimateIndex
from lqas.vaccination import load_schedule

TEMPLATES = Path(__file__).resolve().parents[1] / "reports" / "templates"
PACKAGE = Path(__file__).resolve().parents[1] / "lqas"


@pytest.fixture(scope="module")
def catalog():
    with (TEMPLATES / "locale" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="fr")


def template_messages():
    """Every msgid of the templates and of the code that asks the catalog (lqas/labels.py, plot_oc, the
    report's sections as blocks)."""
    for path in sorted(TEMPLATES.rglob("*.j2")):
        with path.open("rb") as handle:
            for _, _, message, _ in babel_extract(handle, ["_", "gettext", "ngettext"], [],
                                                  {"extensions": "jinja2.ext.i18n"}):
                yield path.name, message[0] if isinstance(message, tuple) else message
    for path in (PACKAGE / "labels.py", PACKAGE / "rules" / "decision.py", *sorted((PACKAGE / "sections").glob("*.py"))):
        with path.open("rb") as handle:
            for _, _, message, _ in extract_python(handle, ["_", "gettext", "ngettext", "N_", "translate"], [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message is not None:  # gettext(variable, ...) passes on a msgid given elsewhere
                    yield path.name, message


def _translated(entry) -> bool:
    if entry is None:
        return False
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)  # plural forms
    return all(strings)


def test_every_template_message_has_a_french_translation(catalog):
    messages = list(template_messages())
    assert len({name for name, _ in messages}) >= 11  # report, macros, every section, labels.py, decision.py
    assert ("labels.py", "Girls") in messages and ("decision.py", "True coverage p") in messages
    missing = [(name, m) for name, m in messages if not _translated(catalog.get(m))]
    assert missing == []


def test_french_translations_keep_their_placeholders(catalog):
    import re

    placeholder = re.compile(r"%\([a-z_]+\)s|%%")
    wrong = [m.id for m in catalog if m.id and m.string
             for msgid, msgstr in zip(m.id if isinstance(m.id, tuple) else [m.id] * 2,
                                      m.string if isinstance(m.string, tuple) else [m.string])
             if sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(msgstr))]
    assert wrong == []


def test_registry_texts_shown_in_the_report_have_a_french_translation(catalog):
    registry = load_registry(load_schedule("mali"))
    shown = [ind for key, ind in registry.items() if not key.startswith("besd_")
             and not (key.endswith(("_crude", "_valid")) and not key.startswith("fully_") and key != "penta1_crude"
                      and key != "penta1_valid")]
    texts = {t for ind in shown for t in (ind.definition, ind.denominator, ind.spec)}
    texts.add(registry["besd_confb"].denominator)
    missing = sorted(t for t in texts if not _translated(catalog.get(t)))
    assert missing == []


def test_code_labels_cover_the_same_codes_in_both_languages():
    en, fr = code_labels("en"), code_labels("fr")
    assert en.keys() == fr.keys()
    for key, value in en.items():
        if isinstance(value, dict):
            assert value.keys() == fr[key].keys(), key
    assert (en["sex"]["F"], fr["sex"]["F"]) == ("Girls", "Filles")
    assert fr["chart"]["percent_axis"] == "Pourcentage d'enfants (IC à 95\u00a0%)"  # %% formatted, no-break space


def test_plural_forms_follow_the_language():
    template = '{{ ngettext("%(num)s lot fails.", "%(num)s lots fail.", k) }}'
    assert environment("en").from_string(template).render(k=1) == "1 lot fails."
    fr = environment("fr").from_string(
        '{{ ngettext("%(num)s of %(all)s classifications is below target.", '
        '"%(num)s of %(all)s classifications are below target.", k, all=42) }}')
    assert fr.render(k=1) == "1 classification sur 42 est sous la cible."
    assert fr.render(k=3) == "3 classifications sur 42 sont sous la cible."


def test_french_number_date_and_percent_formatting():
    env = environment("fr")
    assert env.from_string("{{ 0.1234 | pct }}").render() == "12,3\u00a0%"
    assert env.from_string("{{ 1153 | num }}").render() == "1\u202f153"
    assert env.from_string("{{ 0.0523 | pp }} {{ -0.1 | pp }}").render() == "+5,2 -10,0"
    assert env.from_string("{{ '2026-11-21' | longdate }}").render() == "21 novembre 2026"
    assert env.from_string("{{ none | pct }}").render() == "–"
    en = environment("en")
    assert en.from_string("{{ 0.1234 | pct }} {{ 1153 | num }}").render() == "12.3% 1,153"
    assert en.from_string("{{ d | longdate }}").render(d=date(2026, 11, 21)) == "21 November 2026"


def test_text_from_the_data_is_escaped():
    env = environment("en")
    html = env.from_string("<p>{{ remark }}</p>").render(remark="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    # also inside a translated sentence with a variable
    html = env.from_string('{{ _("Lots: %(lot)s.", lot=x) }}').render(x="<b>x</b>")
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_templates_run_in_the_sandbox():
    with pytest.raises(SecurityError):
        environment("en").from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


def test_plain_context_is_json_ready():
    value = _plain({"a": float("nan"), "b": pd.NA, "d": date(2026, 11, 21), "n": pd.Series([3]).iloc[0],
                    "t": (1, 2), "s": {"k": [math.inf]}})
    assert value == {"a": None, "b": None, "d": "2026-11-21", "n": 3, "t": [1, 2], "s": {"k": [math.inf]}}
    assert type(value["n"]) is int


def _index(rows, small_cell_n=25):
    frame = pd.DataFrame(rows, columns=["indicator", "cohort", "catchment", "sex", "estimate", "ci_low", "ci_high", "n"])
    return EstimateIndex(frame, small_cell_n)


def _gap_rows(girls, boys, n_girls=60, n_boys=60, catchment="kologo"):
    return [("zero_dose", "12-23m", catchment, "F", *girls, n_girls),
            ("zero_dose", "12-23m", catchment, "M", *boys, n_boys)]


def test_findings_sex_gap_by_point_estimates_and_overlap():
    index = _index([*_gap_rows((0.30, 0.20, 0.42), (0.10, 0.05, 0.18)),
                    *_gap_rows((0.20, 0.10, 0.33), (0.14, 0.07, 0.25), catchment="niono"),
                    *_gap_rows((0.40, 0.25, 0.55), (0.10, 0.04, 0.20), n_girls=12, catchment="ndebougou")])
    items = key_findings(index, pd.DataFrame(columns=["indicator", "catchment", "cohort", "class"]),
                         cohorts=["12-23m"], catchments=["kologo", "niono", "ndebougou"], oldest="12-23m", targets=[])
    gap = next(f for f in items if f["kind"] == "sex_gap" and f["indicator"] == "zero_dose")
    assert gap["design_based"] is False and gap["compared"] == 2  # N'Débougou: 12 girls < 25, left out
    assert [(g["catchment"], g["overlap"]) for g in gap["girls_worse"]] == [("kologo", False), ("niono", True)]
    assert gap["girls_worse"][0]["excludes_zero"] is None


def test_findings_sex_gap_uses_design_based_comparisons_when_given():
    # HOOK(compare): the frame SurveyDesign.compare will give, girls - boys
    index = _index(_gap_rows((0.30, 0.20, 0.42), (0.22, 0.15, 0.31)))
    comparisons = pd.DataFrame([{"indicator": "zero_dose", "cohort": "12-23m", "catchment": "kologo",
                                 "difference": 0.08, "difference_ci_low": -0.03, "difference_ci_high": 0.19,
                                 "p_value": 0.15}])
    items = key_findings(index, pd.DataFrame(columns=["indicator", "catchment", "cohort", "class"]),
                         cohorts=["12-23m"], catchments=["kologo"], oldest="12-23m", targets=[],
                         comparisons=comparisons)
    gap = next(f for f in items if f["kind"] == "sex_gap" and f["indicator"] == "zero_dose")
    assert gap["design_based"] is True
    assert gap["girls_worse"][0]["excludes_zero"] is False and gap["girls_worse"][0]["difference_ci_low"] == -0.03


def test_findings_targets_list_failing_catchments_in_display_order():
    classification = pd.DataFrame({"indicator": "zero_dose", "cohort": "12-23m",
                                   "catchment": ["niono", "kologo", "bougouni"], "class": ["fail", "pass", "fail"]})
    items = key_findings(_index([]), classification, cohorts=["12-23m"], catchments=["bougouni", "kologo", "niono"],
                         oldest="12-23m", targets=[{"indicator": "zero_dose", "good": 0.1, "lower_is_better": True}])
    target = next(f for f in items if f["kind"] == "target")
    assert target["failing"] == ["bougouni", "niono"] and target["classified"] == 3


def test_definitions_give_dose_templates_once_and_besd_items_as_codes():
    registry = load_registry(load_schedule("mali"))
    labels = code_labels("fr")
    from lqas.besd import load_besd_registry

    rows = definitions(registry, ["zero_dose", "bcg_crude", "penta1_crude", "bcg_valid", "besd_confb"], "fr",
                       labels, load_besd_registry())
    assert [r["indicator"] for r in rows] == ["zero_dose", "<dose>_crude", "<dose>_valid", "besd_confb"]
    assert rows[0]["definition"].startswith("1 si l'enfant")
    assert rows[-1]["definition"] is None and rows[-1]["besd"] == {"item": "CHI_confb", "favourable": [3, 4]}


@pytest.fixture
def saved_context(tmp_path):
    labels = {lang: {**code_labels(lang), "catchment": {"kologo": "Kologo", "all": "all"}} for lang in ("en", "fr")}
    context = {"lang": "fr", "survey": {"name": "Enquête", "titles": {"en": "Survey", "fr": "Enquête"}},
               "generated": date(2026, 11, 21), "labels": labels["fr"], "labels_by_lang": labels,
               "quality": {"remarks": [{"text": "<script>alert(1)</script>", "n": 1, "catchments": ["kologo"]}]}}
    write_context(context, tmp_path / CONTEXT_FILE)
    return tmp_path


def test_custom_template_renders_the_saved_context_escaped(saved_context, tmp_path):
    template = tmp_path / "mine.html.j2"
    template.write_text("<h1>{{ survey.name }}</h1><p>{{ generated | longdate }} {{ labels.sex.F }}</p>"
                        "{% for r in quality.remarks %}<li>{{ r.text }}</li>{% endfor %}", encoding="utf-8")
    html = render_report(saved_context, tmp_path / "out.html", template=template).read_text(encoding="utf-8")
    assert "<h1>Enquête</h1><p>21 novembre 2026 Filles</p>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = render_report(saved_context, tmp_path / "en.html", template=template, lang="en").read_text()
    assert "<h1>Survey</h1><p>21 November 2026 Girls</p>" in html


def test_context_round_trip_and_language_switch(saved_context):
    context = read_context(saved_context / CONTEXT_FILE)
    assert context["generated"] == "2026-11-21"
    assert json.loads((saved_context / CONTEXT_FILE).read_text())["lang"] == "fr"
    english = for_language(context, "en")
    assert english["labels"]["sex"]["M"] == "Boys" and english["survey"]["name"] == "Survey"


def test_missing_context_is_a_one_line_input_error(tmp_path):
    from lqas.errors import InputError

    with pytest.raises(InputError, match="report_context.json: report context not found"):
        render_report(tmp_path, tmp_path / "x.html")


def test_translations_are_cached_per_language():
    assert translations("fr") is translations("fr")

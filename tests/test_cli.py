"""End-to-end: the `lqas` command (``python -m lqas`` on the repository's source) on the synthetic demo
and on broken inputs."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, require_program

from lqas.design import ESTIMATE_COLUMNS

DEMO = REPO / "examples" / "mali_baseline"
# what `lqas demo` runs: the follow-up round, which reads DEMO as its baseline
FOLLOWUP = REPO / "examples" / "mali_followup"
FOLLOWUP_EXPORT = FOLLOWUP / "data" / "mali_followup_kobo.csv"
RUN_FILES = ["report.html", "report.pdf", "results.xlsx", "estimates.csv", "classification.csv", "derived.csv",
             "exclusions.csv", "manifest.json", "report_context.json"]
LABELS = {"bougouni_est": "Bougouni Est", "kologo": "Kologo", "pelengana_nord": "Pelengana Nord",
          "cinzana_gare": "Cinzana Gare", "niono_central": "Niono Central", "ndebougou": "N'Débougou"}
SCRIPT = "<script>alert(1)</script>"
CATCHMENTS = ["bougouni_est", "kologo", "pelengana_nord", "cinzana_gare", "niono_central", "ndebougou"]


def _environment() -> dict[str, str]:
    # the repository first on the path: `python -m lqas` then runs the source under test, not a copy
    # that `pip install .` put in site-packages
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def lqas(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lqas", *args], capture_output=True, text=True, cwd=cwd,
                          env=_environment(), timeout=600)


@pytest.fixture(scope="module", params=["en", "fr"])
def demo_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    result = lqas("demo", "--out", str(out), "--lang", request.param)
    assert result.returncode == 0, result.stderr
    return request.param, out


def test_version_comes_from_the_source_under_test(tmp_path):
    result = lqas("--version", cwd=tmp_path)
    source_version = re.search(r'__version__ = "([^"]+)"', (REPO / "lqas" / "__init__.py").read_text()).group(1)
    assert result.returncode == 0 and result.stdout.strip() == f"lqas {source_version}"
    # the same interpreter, path and folder as every lqas(...) call import the repository's package
    where = subprocess.run([sys.executable, "-c", "import lqas.cli; print(lqas.cli.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=_environment(), check=True).stdout.strip()
    assert Path(where).resolve() == REPO / "lqas" / "cli.py"


def test_demo_writes_the_run_folder(demo_run):
    _, out = demo_run
    for name in RUN_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert list((out / "charts").glob("*.png"))
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_demo_rows_reconcile(demo_run):
    _, out = demo_run
    manifest = json.loads((out / "manifest.json").read_text())
    derived = pd.read_csv(out / "derived.csv")
    exclusions = pd.read_csv(out / "exclusions.csv")
    source_rows = len(pd.read_csv(FOLLOWUP_EXPORT))
    assert manifest["rows"]["read"] == source_rows == len(derived) + len(exclusions)
    assert set(derived["source_row"]).isdisjoint(exclusions["source_row"])
    assert manifest["inputs"][0]["sha256"]


def test_demo_has_no_personal_data(demo_run):
    _, out = demo_run
    derived = pd.read_csv(out / "derived.csv")
    export = pd.read_csv(FOLLOWUP_EXPORT, dtype=str)
    names = set(export["child/name"].dropna()) | set(export["caretaker/phone"].dropna())
    text = (out / "derived.csv").read_text(encoding="utf-8")
    assert not [name for name in list(names)[:200] if f",{name}," in text]
    assert not {"child/name", "caretaker/name", "caretaker/phone", "hh/gps"} & set(derived.columns)


def test_demo_estimates_follow_the_tidy_schema(demo_run):
    _, out = demo_run
    estimates = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    for column in ESTIMATE_COLUMNS:
        assert column in estimates.columns
    main = estimates[estimates["vaccination_status"] == "all"]
    # one row per domain: cohort, the levels (district, catchment), the stratifiers, sex
    domains = ["indicator", "cohort", "district", "catchment", "area", "population_group", "sex"]
    assert list(estimates.columns[:len(domains) + 1]) == [*domains, "vaccination_status"]
    assert not main.duplicated(domains).any()
    main = main[(main["district"] == "all") | (main["catchment"] != "all")]  # the catchments' and the survey's
    main = main[(main["area"] == "all") & (main["population_group"] == "all")]
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        rows = main[(main["indicator"] == indicator) & (main["cohort"] == "all")]
        pairs = set(zip(rows["catchment"], rows["sex"]))
        assert {(c, s) for c in CATCHMENTS for s in ("F", "M", "all")} <= pairs
    assert estimates["estimate"].between(0, 1).all()
    # a domain of one child has no interval (VCQI); every other one holds its estimate
    single = estimates["n"] == 1
    assert estimates.loc[single, ["ci_low", "ci_high"]].isna().all().all()
    rest = estimates[~single]
    assert (rest["ci_low"] <= rest["estimate"]).all() and (rest["estimate"] <= rest["ci_high"]).all()


def test_demo_classifies_every_lot(demo_run):
    _, out = demo_run
    table = pd.read_csv(out / "classification.csv")
    assert list(table.columns[:9]) == ["indicator", "catchment", "cohort", "n", "x", "d", "alpha", "beta", "class"]
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3", "penta3_crude"):
        assert len(table[table["indicator"] == indicator]) == 12
    assert set(table.loc[table["indicator"] == "mr1_crude", "cohort"]) == {"12-23m"}
    assert set(table["class"]) <= {"pass", "fail"}
    assert ((table["class"] == "pass") == (table["x"] >= table["d"])).all()


def test_demo_estimates_besd_by_vaccination_status(demo_run):
    _, out = demo_run
    estimates = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    by_status = estimates[estimates["vaccination_status"] != "all"]
    assert set(by_status["vaccination_status"]) == {"zero_dose", "under_immunized", "penta3"}
    assert by_status["indicator"].str.startswith("besd_").all()
    assert (by_status[["cohort", "catchment", "sex"]] == "all").all().all()
    derived = pd.read_csv(out / "derived.csv")
    assert (derived["vaccination_status"] == "zero_dose").sum() == (derived["zero_dose"] == 1).sum()


def require_pdftotext() -> None:
    require_program("pdftotext", "install poppler-utils (`apt-get install -y poppler-utils`; `.ci/run` does)")


def _pdf_text(out: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout


SECTIONS = {
    "en": ["Contents", "Key findings", "Survey and sample", "Records read, analysed and excluded",
           "LQAS classification of lots", "Zero-dose and under-immunized children", "Coverage by dose",
           "Evidence for each dose", "Dropout by catchment area and sex", "Vaccination card availability",
           "Timeliness by catchment area", "Behavioural and social drivers of vaccination (BeSD)",
           "Priority indicators by catchment area", "Drivers among caregivers of zero-dose", "Methods",
           "Indicator definitions", "Annex A: data quality", "Repairs by rule", "Interviewer remarks",
           "Annex B: LQAS decision rules", "Table of decision rules for samples of 12 to 30",
           "Operating characteristic curves", "Girls", "Boys", "Zero-dose (no Penta1)",
           "Administrative data (DHIS2) and the survey", "Zero-dose children and the survey-implied target population",
           "Data-quality checks of the administrative data", "Fieldwork checks"],
    "fr": ["Sommaire", "Principaux résultats", "Enquête et échantillon", "Enregistrements lus, analysés et exclus",
           "Classification LQAS des lots", "Enfants zéro dose et sous-vaccinés", "Couverture par dose",
           "Preuve de chaque dose", "Abandon par aire de santé et sexe", "Disponibilité de la carte de vaccination",
           "Respect du calendrier par aire de santé", "Déterminants comportementaux et sociaux de la vaccination",
           "Indicateurs prioritaires par aire de santé", "Déterminants chez les parents d'enfants zéro dose",
           "Méthodes", "Définition des indicateurs", "Annexe A : qualité des données", "Corrections par règle",
           "Remarques des enquêteurs", "Annexe B : règles de décision LQAS",
           "Table des règles de décision pour des échantillons de 12 à 30", "Courbes d'efficacité", "Filles",
           "Garçons", "Zéro dose (pas de Penta1)", "Données administratives (DHIS2) et enquête",
           "Enfants zéro dose et population cible déduite de l'enquête",
           "Contrôles de qualité des données administratives", "Contrôles de la collecte"],
}


def test_demo_pdf_has_every_section_in_the_report_language(demo_run):
    require_pdftotext()
    lang, out = demo_run
    text = _pdf_text(out)
    assert text.count("\f") >= 10  # pages
    flat = " ".join(text.split())
    missing = [phrase for phrase in SECTIONS[lang] if phrase not in flat]
    assert missing == []
    other = SECTIONS["en" if lang == "fr" else "fr"]
    assert [phrase for phrase in other if phrase in flat and phrase not in SECTIONS[lang]] == []
    if lang == "fr":
        assert " %" in text and "," in text  # 12,3 %
        words = re.sub(r"\S+\.(csv|xlsx|json|toml)\b", "", flat)  # file names are not English text
        for word in ("Key findings", "Girls", "Boys", "children", "coverage", "below target", "months"):
            assert word not in words, word
    for name in LABELS.values():
        assert name in text


def test_demo_pdf_table_of_contents_gives_the_right_pages(demo_run):
    require_pdftotext()
    _, out = demo_run
    pages = _pdf_text(out).split("\f")
    entries = [(m.group(1).strip(), int(m.group(2))) for m in re.finditer(r"^\s*(\S.*?)\s*(?:\.\s*){4,}\W*(\d+)\s*$",
                                                                          pages[1], re.MULTILINE)]
    assert len(entries) >= 8
    for title, page in entries:
        body = pages[page - 1].split("\n", 1)[1]  # without the running header
        assert title in " ".join(body.split()), (title, page)
    assert pages[1].count("/ ") == 1 and f"2 / {len(pages) - 1}" in pages[1]  # page x / n footer


def test_demo_report_shows_girls_and_boys_for_zero_dose_and_ui_in_every_catchment(demo_run):
    _, out = demo_run
    context = json.loads((out / "report_context.json").read_text(encoding="utf-8"))
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        rows = context["sex_tables"][indicator]["rows"]
        for catchment in CATCHMENTS:
            for cohort in context["cohorts"]:
                row = next(r for r in rows if r["unit"] == catchment and r["cohort"] == cohort)
                assert row["F"]["n"] > 0 and row["M"]["n"] > 0, (indicator, catchment, cohort)


def test_demo_report_escapes_free_text_from_the_data(demo_run):
    _, out = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    context = json.loads((out / "report_context.json").read_text(encoding="utf-8"))
    assert SCRIPT in [r["text"] for r in context["quality"]["remarks"]]  # raw in the data, escaped when shown
    assert "<svg" in html and "<style>" in html and "<link" not in html  # self-contained


def test_demo_report_shows_small_numbers_as_the_dhs_with_a_footnote(demo_run):
    lang, out = demo_run
    context = json.loads((out / "report_context.json").read_text(encoding="utf-8"))
    cells = [cell for panel in context["panels"] for row in panel["rows"] for by_sex in row["cells"].values()
             for cell in by_sex.values() if cell]
    small = [cell for cell in cells if cell["small"]]
    assert small and all(cell["n"] < context["small_cell_n"] for cell in small)
    assert any(25 <= cell["n"] < 50 for cell in cells)
    html = (out / "report.html").read_text(encoding="utf-8")
    footnotes = {"en": ("Not shown: fewer than 25 children in the denominator",
                        "From 25 to 49 children in the denominator: to be interpreted with caution"),
                 "fr": ("Non présentée : moins de 25 enfants au dénominateur",
                        "De 25 à 49 enfants au dénominateur : à interpréter avec prudence")}
    assert all(footnote in html for footnote in footnotes[lang])


def test_report_renders_a_custom_template_against_the_saved_context(demo_run, tmp_path):
    _, out = demo_run
    template = tmp_path / "mine.html.j2"
    template.write_text(
        "<h1>{{ survey.name }}</h1>\n"
        "{% for row in sex_tables.zero_dose.rows if row.unit != 'all' %}"
        "<p>{{ labels[units.column][row.unit] }} {{ labels.cohort[row.cohort] }}: "
        "{{ labels.sex.F }} {{ row.F.estimate | pct }}, {{ labels.sex.M }} {{ row.M.estimate | pct }}</p>\n"
        "{% endfor %}<ul>{% for r in quality.remarks %}<li>{{ r.text }}</li>{% endfor %}</ul>", encoding="utf-8")
    result = lqas("report", str(out), "--template", str(template), "--out", str(tmp_path / "mine.html"),
                  "--lang", "fr")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "mine.html").read_text(encoding="utf-8")
    assert "Enquête de suivi Mali Learning Hub" in html and "Kologo 12–23 mois: Filles" in html
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    result = lqas("report", str(out), "--template", str(tmp_path / "absent.j2"), "--out", str(tmp_path / "x.html"))
    assert result.returncode == 2 and "absent.j2: template file not found" in result.stderr


def test_demo_results_workbook_is_formatted_view_of_the_results(demo_run):
    from openpyxl import load_workbook

    lang, out = demo_run
    book = load_workbook(out / "results.xlsx")
    names = {"en": ["Read me", "Estimates", "LQAS classification", "Girls and boys", "Gender and equity scorecard",
                    "Priorities", "Numbers of children", "Change between rounds", "Change of the girls-boys gap",
                    "Intervention arms", "LQAS classes by round", "Admin and survey coverage", "Admin data quality",
                    "Small-area estimates", "Catchment areas", "Sample", "Exclusions", "Repairs",
                    "Evidence sources", "Decision rules", "Interviewer remarks"],
             "fr": ["Lisez-moi", "Estimations", "Classification LQAS", "Filles et garçons", "Tableau de bord genre et équité",
                    "Priorités", "Nombres d'enfants", "Évolution entre les enquêtes",
                    "Évolution écart filles-garçons", "Bras d'intervention", "Classes LQAS par passage",
                    "Couverture admin. et enquête", "Qualité des données admin.",
                    "Estimations petites zones", "Aires de santé", "Échantillon", "Exclusions", "Corrections", "Sources de preuve",
                    "Règles de décision", "Remarques des enquêteurs"]}
    assert book.sheetnames == names[lang]
    # the first sheet says what each of the others holds, and that the data are synthetic
    readme = list(book[names[lang][0]].iter_rows(values_only=True))
    assert readme[0][0].startswith({"en": "SYNTHETIC DATA", "fr": "DONNÉES SYNTHÉTIQUES"}[lang])
    assert [row[0] for row in readme[3:]] == names[lang][1:] and all(row[1] for row in readme[3:])
    lots = book[names[lang][2]]
    assert lots.freeze_panes == "A2" and lots["A1"].font.bold
    # the estimates sheet is estimates.csv, labelled: same rows, same numbers, fractions shown as %
    sheet = book[names[lang][1]]
    assert sheet.freeze_panes == "A4"  # a note, a blank row, then the header
    header = [c.value for c in sheet[3]]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    estimates = pd.read_csv(out / "estimates.csv")
    assert len(rows) == len(estimates)
    code, value = header.index({"en": "Code", "fr": "Code"}[lang]), header.index(
        {"en": "Estimate", "fr": "Estimation"}[lang])
    assert [r[code] for r in rows] == estimates["indicator"].tolist()
    assert [r[value] for r in rows] == pytest.approx(estimates["estimate"].tolist(), nan_ok=True)
    assert sheet.cell(row=4, column=value + 1).number_format == "0.0%"
    kologo = [r for r in rows if r[code] == "zero_dose" and "Kologo" in r and {"en": "Girls", "fr": "Filles"}[lang] in r]
    assert len(kologo) == 3  # two cohorts and their margin
    # one line per catchment area (every area, whatever the estimates sheet keeps): Kologo's zero-dose
    areas = book[{"en": "Catchment areas", "fr": "Aires de santé"}[lang]]
    header = [c.value for c in areas[1]]
    kologo = next(r for r in areas.iter_rows(min_row=2, values_only=True) if r[header.index("Code")] == "kologo")
    expected = estimates.query("indicator == 'zero_dose' and catchment == 'kologo' and cohort == 'all' "
                               "and sex == 'all' and area == 'all' and population_group == 'all'")
    zero_dose = {"en": "Zero-dose (no Penta1)", "fr": "Zéro dose (pas de Penta1)"}[lang]
    assert kologo[header.index(zero_dose)] == pytest.approx(float(expected["estimate"].iloc[0]))
    assert areas.max_row == 1 + 6
    # the numbers of children: children_numbers.csv, rounded, after a note and a blank row
    numbers = pd.read_csv(out / "children_numbers.csv")
    sheet = book[{"en": "Numbers of children", "fr": "Nombres d'enfants"}[lang]]
    header = [c.value for c in sheet[3]]
    column = header.index({"en": "Children (estimated number)", "fr": "Enfants (nombre estimé)"}[lang])
    assert [r[column] for r in sheet.iter_rows(min_row=4, values_only=True)] == numbers["children"].round().tolist()


def test_derive_writes_the_derived_csv_of_the_run(demo_run, tmp_path):
    _, out = demo_run  # in both languages: derived.csv does not depend on the report language
    demo = FOLLOWUP / "survey.toml"
    result = lqas("derive", str(demo), "--out", str(tmp_path / "derived.csv"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "derived.csv").read_bytes() == (out / "derived.csv").read_bytes()
    estimates = pd.read_csv(out / "estimates.csv", dtype=str)
    domains = estimates[["cohort", "district", "catchment", "sex", "vaccination_status"]]
    assert not domains.isin(["missing", "nan", "None"]).any().any() and not domains.isna().any().any()


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="chromium not installed")
def test_demo_html_opens_in_headless_chromium_without_errors(demo_run, tmp_path):
    _, out = demo_run
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                             "--enable-logging=stderr", "--v=0", "--dump-dom", (out / "report.html").as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    assert "</html>" in result.stdout and "&lt;script&gt;alert(1)" in result.stdout
    assert "<script" not in result.stdout  # the remark stayed text: no script element in the DOM


@pytest.mark.parametrize("args, message", [
    (["run", "nowhere/survey.toml"], "nowhere/survey.toml: project file not found"),
    (["rules", "--n", "19", "--good", "0.5", "--bad", "0.8"], "good"),
], ids=["missing-project", "good-below-bad"])
def test_errors_are_one_line_with_exit_code_2(args, message, tmp_path):
    result = lqas(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_project_pointing_at_missing_data_file(tmp_path):
    project = tmp_path / "survey.toml"
    project.write_text('[data]\nfile = "absent.csv"\n[design]\nweights = "equal"\n', encoding="utf-8")
    result = lqas("validate", str(project))
    assert result.returncode == 2
    assert "absent.csv: data file not found" in result.stderr


def test_rules_json_reproduces_the_classic_n19_rule():
    # PMC3013262 Table 1: n = 19, 80 %/50 % -> at least 13 successes, alpha 0.0676, beta 0.0835
    result = lqas("rules", "--n", "19", "--good", "0.8", "--bad", "0.5", "--json")
    record = json.loads(result.stdout)
    assert record["d"] == 13 and record["distribution"] == "binomial"
    assert round(record["alpha"], 4) == 0.0676 and round(record["beta"], 4) == 0.0835


def test_design_json_finds_the_smallest_n():
    # lqas.md §0: n = 19 is the smallest n with alpha and beta <= 0.10 for 80 %/50 %
    record = json.loads(lqas("design", "--good", "0.8", "--bad", "0.5", "--json").stdout)
    assert (record["n"], record["d"], record["distribution"]) == (19, 13, "binomial")


def test_table_prints_the_verified_n12_row():
    # lqas.md §2, the verified n = 12 row: 40 % -> 3, 50 % -> 5, 60 % -> 6, 75 % -> 8, 95 % -> 11
    lines = lqas("table", "--n-min", "12", "--n-max", "12").stdout.splitlines()
    header, row = lines[0].split(), lines[-1].split()
    cells = dict(zip(header, row[1:]))
    assert (cells["40%"], cells["50%"], cells["60%"], cells["75%"], cells["95%"]) == ("3", "5", "6", "8", "11")


def test_rules_writes_an_oc_curve_png(tmp_path):
    png = tmp_path / "oc.png"
    assert lqas("rules", "--n", "19", "--good", "0.8", "--bad", "0.5", "--oc-png", str(png)).returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_demo_compares_girls_and_boys_on_the_design(demo_run):
    _, out = demo_run
    comparisons = pd.read_csv(out / "comparisons.csv", keep_default_na=False, na_values=[""])
    assert {"zero_dose", "ui_dtp1_not_dtp3", "penta1_crude", "penta3_crude", "mr1_crude"} <= set(comparisons["indicator"])
    zd = comparisons[(comparisons["indicator"] == "zero_dose") & (comparisons["cohort"] == "all")].set_index("catchment")
    assert set(CATCHMENTS) <= set(zd.index)
    # girls - boys, and the estimates are those of estimates.csv
    assert (zd["difference"] - (zd["estimate_a"] - zd["estimate_b"])).abs().max() < 1e-12
    estimates = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    girls = estimates[(estimates["indicator"] == "zero_dose") & (estimates["cohort"] == "all")
                      & (estimates["sex"] == "F") & (estimates["vaccination_status"] == "all")].set_index("catchment")
    assert (zd.loc[CATCHMENTS, "estimate_a"] - girls.loc[CATCHMENTS, "estimate"]).abs().max() < 1e-12


def test_demo_scorecard_flags_the_built_in_girls_gap(demo_run):
    # the synthetic generator gives girls lower coverage in Kologo and N'Débougou only
    _, out = demo_run
    card = pd.read_csv(out / "scorecard.csv", keep_default_na=False, na_values=[""])
    red_gaps = set(card.loc[(card["kind"] == "sex_gap") & (card["light"] == "red"), "catchment"])
    assert red_gaps and red_gaps <= {"kologo", "ndebougou"}
    assert set(card["light"]) <= {"red", "amber", "green", "grey"}


def test_instrument_build_writes_xforms(tmp_path):
    result = lqas("instrument", "build", "--out", str(tmp_path / "forms"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "forms" / "mali_child_survey.xml").read_text(encoding="utf-8").count("penta1_date") >= 1


def _project(tmp_path, data_name, extra=""):
    project = tmp_path / "survey.toml"
    project.write_text(f'[data]\nfile = "{data_name}"\n{extra}[design]\nweights = "equal"\n', encoding="utf-8")
    return project


def _truncated_xlsx(path):
    pd.DataFrame({"a": [1]}).to_excel(path, index=False)
    path.write_bytes(path.read_bytes()[:300])


BROKEN = {
    "empty": ("export.csv", lambda p: p.write_bytes(b""), "", "export.csv: file is empty"),
    "truncated-xlsx": ("export.xlsx", _truncated_xlsx, "", "export.xlsx: cannot read file"),
    "missing-column": ("export.csv", lambda p: p.write_text("today,hh/catchment\n2025-01-01,a\n"), "",
                       "export.csv: required column missing: child_id (column 'child/child_id')"),
    "missing-file": ("absent.csv", lambda p: None, "", "absent.csv: data file not found"),
    "wrong-encoding": ("export.csv", lambda p: p.write_bytes("village\nSégou\n".encode("latin-1")),
                       'encoding = "utf-8"\n', "export.csv: line 2, column 2: byte 0xE9 is not utf-8"),
    # one stray Latin-1 byte in a UTF-8 file: refused, never read as Windows-1252 (mojibake)
    "mixed-encoding": ("export.csv", lambda p: p.write_bytes("village,note\nSégou,".encode() + b"caf\xe9\n"), "",
                       "export.csv: line 2, column 10: byte 0xE9 is not UTF-8, while the rest of the file is"),
    "nul-byte": ("export.csv", lambda p: p.write_bytes(b"village\nSeg\x00ou\n"), "",
                 "export.csv: line 2, column 4: a NUL byte"),
    "duplicate-header": ("export.csv", lambda p: p.write_text("village,age,village\na,1,b\n"), "",
                         "export.csv: column 'village' appears twice in the header (columns 1 and 3)"),
    "duplicate-header-xlsx": ("export.xlsx", lambda p: pd.DataFrame([["a", 1, "b"]], columns=["v", "age", "v "])
                              .to_excel(p, index=False), "",
                              "export.xlsx: column 'v' appears twice in the header (columns 1 and 3)"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_inputs_exit_2_with_one_line_naming_the_file(tmp_path, case):
    name, make, extra, message = BROKEN[case]
    make(tmp_path / name)
    result = lqas("validate", str(_project(tmp_path, name, extra)))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_validate_names_the_doses_an_older_export_never_asked_about(tmp_path):
    export = pd.read_csv(DEMO / "data" / "mali_baseline_kobo.csv", dtype=str)
    export.drop(columns=[c for c in export.columns if "malaria" in c]).to_csv(tmp_path / "old.csv", index=False)
    result = lqas("validate", str(_project(tmp_path, "old.csv")))
    assert result.returncode == 0, result.stderr
    assert "no card, register or recall column (left out of every table): malaria1, malaria2, malaria3" in \
        " ".join(result.stdout.split())


def test_an_unwritable_run_folder_is_one_line_before_any_work(tmp_path):
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    result = lqas("demo", "--out", str(tmp_path / "a_file" / "run"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"lqas: error: {tmp_path / 'a_file' / 'run'}: cannot write the run folder here "
        f"({tmp_path / 'a_file'} is a file, not a folder)"]



def test_a_pdf_library_that_does_not_load_loses_no_other_output(tmp_path):
    """The PDF typesetter failing to load (a broken install: its compiled part missing) fails the PDF
    alone: every other output and the manifest are written, the manifest says what failed, and the
    command says it in one line, exit 1, no traceback."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "typst.py").write_text(
        "raise ImportError(\"DLL load failed while importing _typst: error 0x7e\")\n", encoding="utf-8")
    out = tmp_path / "run"
    env = _environment()
    env["PYTHONPATH"] = os.pathsep.join([str(broken), env["PYTHONPATH"]])
    result = subprocess.run([sys.executable, "-m", "lqas", "demo", "--out", str(out)], capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "lqas: error: report.pdf was not written (ImportError: DLL load failed while importing _typst: error 0x7e); "
        f"every other output and manifest.json (which lists what failed) are in {out}"]
    for name in RUN_FILES:
        assert (out / name).is_file() == (name != "report.pdf"), name
    svgs = sorted((out / "charts").glob("*.svg"))  # their PNG files drawn by matplotlib, Typst not loading
    assert len(svgs) > 5 and all(svg.with_suffix(".png").is_file() for svg in svgs)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == [{"output": "report.pdf",
                                   "reason": "ImportError: DLL load failed while importing _typst: error 0x7e"}]
    assert "report.pdf" not in manifest["outputs"] and "report.html" in manifest["outputs"]


def test_formats_choose_the_outputs(tmp_path):
    out = tmp_path / "quick"
    result = lqas("demo", "--out", str(out), "--formats", "csv,xlsx")
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in out.iterdir())
    assert "results.xlsx" in written and "estimates.csv" in written
    assert not {"report.html", "report.pdf", "report_context.json", "charts"} & set(written)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["formats"] == ["csv", "xlsx"]
    result = lqas("demo", "--out", str(tmp_path / "bad"), "--formats", "csv,docx")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "lqas: error: --formats: expected some of csv, xlsx, html, pdf, parquet separated by commas; got 'csv,docx'"]
    assert not (tmp_path / "bad").exists()

# ----------------------------------------------------------------------------- personal data


def _personal_values() -> dict[str, set[str]]:
    """The personal and free-text values of both rounds' exports (the demo's run reads the baseline's too),
    by column (profile kobo: personal, free_text; the interviewer remarks the run's reviewed file drops)."""
    import tomllib

    profile = tomllib.loads((REPO / "instruments" / "profiles" / "kobo.toml").read_text(encoding="utf-8"))
    raw = pd.concat([pd.read_csv(export, dtype=str, keep_default_na=False)
                     for export in (DEMO / "data" / "mali_baseline_kobo.csv", FOLLOWUP_EXPORT)], ignore_index=True)
    # altitude and precision are short numbers that any table could hold by chance: left out
    columns = [c for c in (*profile["profile"]["personal"], *profile["profile"]["free_text"])
               if not c.endswith(("_altitude", "_precision"))]
    values = {column: {v.strip() for v in raw[column] if len(v.strip()) >= 5} for column in columns}
    reviewed = set(pd.read_csv(FOLLOWUP / "remarks_reviewed.csv", dtype=str)["remark"])
    values["interviewer_remarks (not reviewed)"] = {v for v in raw["interviewer_remarks"] if v and v not in reviewed}
    assert all(values.values()), "every personal column of the demo has values to look for"
    return values


def _output_texts(run: Path) -> dict[str, str]:
    """Every output of a run folder as the text a reader (or a program) can get out of it."""
    import html
    import zipfile

    texts = {}
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        name = str(path.relative_to(run))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts[name] = html.unescape("\n".join(book.read(n).decode("utf-8") for n in book.namelist()
                                                      if n.endswith((".xml", ".rels"))))
        elif path.suffix == ".pdf":
            texts[name] = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                                         text=True, check=True).stdout
            attachments = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True,
                                         check=True).stdout
            assert attachments.startswith("0 embedded files"), attachments
        elif path.suffix == ".png":  # no text drawn, but metadata chunks could carry some
            texts[name] = path.read_bytes().decode("latin-1")
        else:
            texts[name] = html.unescape(path.read_text(encoding="utf-8"))
    return texts


def test_no_personal_value_or_unreviewed_free_text_in_any_output(demo_run):
    require_program("pdftotext", "apt-get install -y poppler-utils")
    _, out = demo_run
    texts = _output_texts(out)
    assert {"derived.csv", "exclusions.csv", "results.xlsx", "report.pdf", "report.html",
            "report_context.json", "manifest.json"} <= set(texts)
    # the words of each output, once: a value can be in a text only if each of its words is a word of it
    # (two rounds' thousands of values against megabytes of outputs, in seconds rather than minutes)
    words = {name: set(re.findall(r"\w+", text)) for name, text in texts.items()}
    leaks = []
    for column, values in _personal_values().items():
        for value in values:
            needed = set(re.findall(r"\w+", value))
            # whole tokens only: a coordinate must not match inside a longer number such as a weight
            pattern = re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w])")
            leaks += [f"{name}: {column} = {value!r}" for name, text in texts.items()
                      if needed <= words[name] and value in text and pattern.search(text)]
    assert not leaks, leaks[:10]


def test_reviewed_remarks_are_the_only_remarks_published(demo_run):
    _, out = demo_run
    context = json.loads((out / "report_context.json").read_text(encoding="utf-8"))
    reviewed = pd.read_csv(FOLLOWUP / "remarks_reviewed.csv", dtype=str)
    assert [r["text"] for r in context["quality"]["remarks"]] == list(reviewed["remark"])
    # the follow-up's children kept (latest copy): 3 rows x 11 remarks + the script + the re-sent form's note
    assert context["quality"]["remarks_recorded"] == 35
    assert "RAS" not in {r["text"] for r in context["quality"]["remarks"]}


def test_remarks_command_writes_every_remark_for_review(tmp_path):
    out = tmp_path / "to_review.csv"
    result = lqas("remarks", str(DEMO / "survey.toml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "[report] reviewed_remarks" in " ".join(result.stderr.split())
    frame = pd.read_csv(out, dtype=str)
    assert list(frame.columns) == ["remark", "n", "catchments"]
    assert "RAS" in set(frame["remark"]) and SCRIPT in set(frame["remark"])
    assert frame["n"].astype(int).sum() == 34


def test_a_project_without_a_reviewed_file_publishes_no_remark(tmp_path):
    project = tmp_path / "survey.toml"
    text = (DEMO / "survey.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^reviewed_remarks = .*$', "", text).replace('"data/', f'"{DEMO.as_posix()}/data/')
    project.write_text(text, encoding="utf-8")
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse
    from lqas.workbook import workbook_sheets

    results = analyse(load_project(project))
    assert results.remarks is None
    context = report_context(results, "en", charts_dir=tmp_path / "charts")
    assert context["quality"]["remarks"] == [] and context["quality"]["remarks_recorded"] == 34
    assert "Interviewer remarks" not in [sheet.name for sheet in workbook_sheets(results, "en")]
    assert "interviewer_remarks" not in results.table


def test_a_concurrent_run_is_refused_and_reruns_give_the_same_bytes(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "lqas", "demo", "--out", str(out)], env=_environment(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / ".run.lqas-lock"
    for _ in range(600):
        if lock.exists() or first.poll() is not None:
            break
        time.sleep(0.1)
    second = lqas("demo", "--out", str(out))
    assert second.returncode == 2
    refusal = f"lqas: error: {out}: another lqas run is writing this folder; wait for it to end or choose another --out"
    assert second.stderr.strip().splitlines() == [refusal]
    assert first.wait(timeout=600) == 0, first.stderr
    again = lqas("demo", "--out", str(out))
    assert again.returncode == 0, again.stderr
    previous = tmp_path / "run.previous"
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(previous).as_posix() for p in previous.rglob("*") if p.is_file())
    differ = [name for name in files if (out / name).read_bytes() != (previous / name).read_bytes()]
    assert differ == ["manifest.json"]
    manifests = [json.loads((folder / "manifest.json").read_text(encoding="utf-8")) for folder in (out, previous)]
    for manifest in manifests:
        del manifest["created"]
    assert manifests[0] == manifests[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.previous"]


def test_quiet_says_nothing_and_verbose_says_each_stage(tmp_path):
    quiet = lqas("--quiet", "demo", "--out", str(tmp_path / "quiet"), "--formats", "csv")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and quiet.stdout == ""
    assert (tmp_path / "quiet" / "estimates.csv").is_file()
    verbose = lqas("-v", "demo", "--out", str(tmp_path / "verbose"), "--formats", "csv")
    assert verbose.returncode == 0, verbose.stderr
    stages = re.findall(r"^lqas: (.+?) \((\d+\.\d) s\); (.+)$", verbose.stderr, flags=re.MULTILINE)
    # each stage named once as it starts and once with its time, in the run's order, to the end
    assert [s[2] for s in stages][:4] == ["ingest and derive", "household log and fieldwork checks", "estimate",
                                          "classify lots"]
    assert [s[0] for s in stages][1:] == [s[2] for s in stages][:-1] and stages[-1][2] == "done"
    assert "small-area estimates" in [s[2] for s in stages]
    both = lqas("-q", "-v", "demo", "--out", str(tmp_path / "both"))
    assert both.returncode == 2 and both.stderr.strip() == "lqas: error: --quiet and --verbose: choose one"
    assert not (tmp_path / "both").exists()


def test_the_run_command_spares_its_objects_from_the_collections_as_its_process_exits(tmp_path, monkeypatch):
    """`lqas run` ends its process: Python's last collections as it exits need not go through the run's
    objects (0.35-0.4 s of a 10^5-child run), so the command freezes them then (gc.freeze at exit), once."""
    import atexit
    import gc

    import lqas.cli

    registered = []
    monkeypatch.setattr(atexit, "register", lambda function, *args: registered.append(function))
    lqas.cli._spared_at_exit.cache_clear()
    for run in ("one", "two"):
        lqas.cli.run_command(REPO / "examples" / "mali_baseline" / "survey.toml", tmp_path / run, formats="csv")
    assert registered.count(gc.freeze) == 1
    lqas.cli._spared_at_exit.cache_clear()

"""Safe outputs: no live formula in results.xlsx or the CSVs, charts that draw any label literally, a
PDF that reads only the run's own files, nothing from the report context inserted as markup, and a
context file checked against its schema.

Hostile values are planted at test time in a copy of the synthetic demo: a catchment code starting
with ``-`` labelled ``=HYPERLINK(...)``, labels with mathtext (``$x^2$``, ``$\\frac{$``, a lone ``$``),
card dates and remarks that are formulas, an excluded child whose id is a formula.
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, require_program

from lqas import charts
from lqas.config import load_project
from lqas.errors import ConfigError, InputError
from lqas.report import CONTEXT_FILE, chart_svg, read_context
from lqas.rules import oc_curve
from lqas.safety import CSV_TRIGGERS, clean_svg, write_csv
from lqas.workbook import Sheet, write_workbook

DEMO = REPO / "examples" / "mali_baseline"
TEMPLATES = REPO / "reports" / "templates"
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"]
LINK_LABEL = '=HYPERLINK("http://x","y")'  # the label of the catchment whose code is "-kologo"
MATH_LABELS = ["Niono $x^2$", "N'Débougou $\\frac{$", "Cinzana $ Gare"]
TABLES = ["derived.csv", "exclusions.csv", "repairs.csv", "estimates.csv", "classification.csv",
          "comparisons.csv", "scorecard.csv"]
POPPLER = "install poppler-utils (`apt-get install -y poppler-utils`)"


def lqas(*args, cwd=None):
    # the repository first on the path: `python -m lqas` runs the source under test
    path = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "lqas", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": path}, timeout=600, check=False)


def _hostile_project(folder: Path) -> Path:
    """A copy of the demo project with formulas and mathtext planted in its labels and data."""
    (folder / "data").mkdir(parents=True)
    toml = (DEMO / "survey.toml").read_text(encoding="utf-8")
    for old, new in (('kologo = "Kologo"', f"\"-kologo\" = '{LINK_LABEL}'"),
                     ('niono_central = "Niono Central"', 'niono_central = "Niono $x^2$"'),
                     ('ndebougou = "N\'Débougou"', 'ndebougou = "N\'Débougou $\\\\frac{$"'),
                     ('cinzana_gare = "Cinzana Gare"', 'cinzana_gare = "Cinzana $ Gare"')):
        assert old in toml
        toml = toml.replace(old, new)
    (folder / "survey.toml").write_text(toml, encoding="utf-8")
    shutil.copy(DEMO / "remarks_reviewed.csv", folder / "remarks_reviewed.csv")
    (folder / "survey_raw.toml").write_text(toml.replace("small_cell_n = 25", "small_cell_n = 25\ncsv_neutralise = false"),
                                            encoding="utf-8")
    populations = (DEMO / "data" / "populations.csv").read_text(encoding="utf-8")
    (folder / "data" / "populations.csv").write_text(populations.replace("\nkologo,", "\n-kologo,"), encoding="utf-8")
    households = (DEMO / "data" / "households.csv").read_text(encoding="utf-8")
    (folder / "data" / "households.csv").write_text(households.replace("\nkologo,", "\n-kologo,"), encoding="utf-8")
    shutil.copy(DEMO / "data" / "logo.png", folder / "data" / "logo.png")
    with (DEMO / "data" / "mali_baseline_kobo.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    head = rows[0]
    catchment, remark, penta1 = (head.index(c) for c in ("hh/catchment", "interviewer_remarks", "card/penta1_date"))
    for row in rows[1:]:
        if row[catchment] == "kologo":
            row[catchment] = "-kologo"
    for k, value in enumerate(FORMULAS):
        rows[1 + k][remark] = value
        rows[10 + k][penta1] = value  # not a date: repaired, the original kept in repairs.csv
    rows[20][head.index("child/child_id")] = "@child"
    rows[20][head.index("child/dob")] = "31/31/2024"  # excluded: the id goes to exclusions.csv
    with (folder / "data" / "mali_baseline_kobo.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return folder / "survey.toml"


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory):
    return _hostile_project(tmp_path_factory.mktemp("hostile-project"))


@pytest.fixture(scope="module")
def hostile_run(hostile_project, tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile-run")
    result = lqas("run", str(hostile_project), "--out", str(out))
    assert result.returncode == 0, result.stderr  # the mathtext labels used to crash the charts
    return out


def _copy_run(run: Path, to: Path) -> Path:
    """What `lqas report` reads of a run folder (context, charts, manifest), to tamper with."""
    to.mkdir(parents=True)
    for name in (CONTEXT_FILE, "manifest.json"):
        shutil.copy(run / name, to / name)
    shutil.copytree(run / "charts", to / "charts")
    return to


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- workbook ------------------------------------------------------------------------------------


def _formula_elements(path: Path) -> int:
    with zipfile.ZipFile(path) as book:
        return sum(len(re.findall(rb"<f[ >/]", book.read(name)))
                   for name in book.namelist() if name.startswith("xl/worksheets/"))


def test_workbook_writes_text_as_strings_and_numbers_as_numbers(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"=label": [*FORMULAS, "=1+1"], "value": [-2, 3.5, -0.25, 7, 0]})
    write_workbook(tmp_path / "x.xlsx", [Sheet("one", frame, note="=SUM(A1:A9) is a note")])
    sheet = load_workbook(tmp_path / "x.xlsx")["one"]
    assert _formula_elements(tmp_path / "x.xlsx") == 0
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=SUM(A1:A9) is a note", "s")
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("=label", "s")  # header
    assert [(c.value, c.data_type) for c in sheet["A"][3:]] == [(v, "s") for v in [*FORMULAS, "=1+1"]]
    assert [(c.value, c.data_type) for c in sheet["B"][3:]] == [(-2, "n"), (3.5, "n"), (-0.25, "n"), (7, "n"), (0, "n")]


def test_results_workbook_of_a_hostile_run_has_no_formula(hostile_run):
    from openpyxl import load_workbook

    book = load_workbook(hostile_run / "results.xlsx")
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert {cell.data_type for cell in cells} <= {"s", "n"}
    assert all(cell.data_type == "s" for cell in cells if isinstance(cell.value, str))
    labelled = [cell for cell in cells if cell.value == LINK_LABEL]
    assert labelled and all(cell.data_type == "s" for cell in labelled)  # the label, as text
    assert _formula_elements(hostile_run / "results.xlsx") == 0


# --- CSV -------------------------------------------------------------------------------------------


def test_write_csv_neutralises_text_only(tmp_path):
    frame = pd.DataFrame({
        "text": [*FORMULAS, "\tTab", "\rCR", "a=b", "ok\r=HYPERLINK(\"http://x\")", None],
        "number": [-2, -2.5, 0, 3, 1e-3, -1e6, 4, 5, np.nan],
        "category": pd.Categorical(["=x", "y", "=x", "y", "y", "y", "y", "y", "y"]),
        "-header": [""] * 9})
    write_csv(frame, tmp_path / "safe.csv")
    rows = _read_csv(tmp_path / "safe.csv")
    assert rows[0] == ["text", "number", "category", "'-header"]
    # one row per record: a CR inside a text is quoted, so nothing after it starts a cell
    assert [row[0] for row in rows[1:]] == (["'" + v for v in FORMULAS]
                                            + ["'\tTab", "'\rCR", "a=b", 'ok\r=HYPERLINK("http://x")', ""])
    assert [row[1] for row in rows[1:]] == ["-2.0", "-2.5", "0.0", "3.0", "0.001", "-1000000.0", "4.0", "5.0", ""]
    assert [row[2] for row in rows[1:3]] == ["'=x", "y"]
    write_csv(frame, tmp_path / "raw.csv", neutralise=False)
    assert [row[0] for row in _read_csv(tmp_path / "raw.csv")[1:5]] == FORMULAS


def test_every_csv_of_a_hostile_run_is_neutralised(hostile_run):
    fields = {name: [field for row in _read_csv(hostile_run / name) for field in row] for name in TABLES}
    for name, values in fields.items():
        live = [v for v in values if v.startswith(CSV_TRIGGERS) and not _is_number(v)]
        assert not live, (name, live[:5])
    for name in ("derived.csv", "estimates.csv", "classification.csv", "comparisons.csv", "scorecard.csv"):
        assert "'-kologo" in fields[name], name
    assert {"'" + v for v in FORMULAS if v != "+1"} <= set(fields["repairs.csv"])
    assert "'@child" in fields["exclusions.csv"]
    assert any(re.fullmatch(r"-0\.\d+", v) for v in fields["comparisons.csv"])  # negative numbers stay numbers


def test_csv_neutralise_is_a_project_setting(hostile_project, tmp_path):
    assert load_project(hostile_project).report.csv_neutralise is True
    raw = hostile_project.with_name("survey_raw.toml")
    assert load_project(raw).report.csv_neutralise is False
    result = lqas("derive", str(raw), "--out", str(tmp_path / "derived.csv"))
    assert result.returncode == 0, result.stderr
    values = {field for row in _read_csv(tmp_path / "derived.csv") for field in row}
    assert "-kologo" in values and "'-kologo" not in values
    typo = tmp_path / "typo.toml"
    typo.write_text(raw.read_text(encoding="utf-8").replace("csv_neutralise", "csv_neutralize"), encoding="utf-8")
    with pytest.raises(ConfigError, match="report.csv_neutralize.*did you mean 'csv_neutralise'"):
        load_project(typo)


# --- charts ----------------------------------------------------------------------------------------

TEXT = {"girls": "Filles $", "boys": "Garçons $y$", "percent_axis": "Pourcentage $x^2$", "coverage_axis": "Cov $",
        "besd_axis": "BeSD $a$", "crude": "Brute $b$", "valid": "Valide", "all_catchments": "Toutes $c$",
        "oc_pass": "P $d$", "oc_true_lower": "Prévalence", "oc_true_higher": "Couverture", "oc_good": "cible $",
        "oc_bad": "seuil $e$"}


def _estimates() -> pd.DataFrame:
    rows = []
    for indicator in ("zero_dose", "penta1_crude", "penta1_valid"):
        for cohort in ("12-23m", "all"):
            for catchment in ("kologo", "niono", "all"):
                for sex in ("F", "M", "all"):
                    rows.append({"indicator": indicator, "cohort": cohort, "catchment": catchment, "sex": sex,
                                 "vaccination_status": "all", "n": 40, "estimate": 0.4, "ci_low": 0.3, "ci_high": 0.5})
    rows.append({"indicator": "besd_intent", "cohort": "all", "catchment": "all", "sex": "all",
                 "vaccination_status": "zero_dose", "n": 30, "estimate": 0.6, "ci_low": 0.5, "ci_high": 0.7})
    return pd.DataFrame(rows)


def test_charts_draw_labels_with_dollar_signs_literally(tmp_path):
    estimates = _estimates()
    catchments = {"kologo": "Kologo $x^2$", "niono": "Niono $\\frac{$"}
    indicator = {"zero_dose": "Zéro $ dose", "besd_intent": "Intention $\\alpha$"}
    figures = {
        "sex": charts.sex_gap_chart(estimates, ["zero_dose"], ["12-23m"], labels=indicator,
                                    catchment_labels=catchments, cohort_labels={"12-23m": "12 $m$"}, text=TEXT),
        "inchworm": charts.inchworm_chart(estimates, ["zero_dose"], ["12-23m"], labels=indicator,
                                          catchment_labels=catchments, cohort_labels={"12-23m": "12 $m$"}, text=TEXT),
        "coverage": charts.coverage_chart(estimates, ["penta1"], "12-23m", dose_labels={"penta1": "Penta $1$"},
                                          text=TEXT),
        "status": charts.status_chart(estimates, ["besd_intent"], ["zero_dose"], labels=indicator,
                                      status_labels={"zero_dose": "ZD $z$"}, text=TEXT),
        "oc": charts.oc_chart([{"label": "Cible $t$", "good": 0.8, "bad": 0.5, "lower_is_better": False,
                                "rules": [{"n": 19, "d": 13, "lots": 2}]}], text=TEXT, oc_curve=oc_curve)}
    expected = {"sex": ["Kologo $x^2$", "Niono $\\frac{$", "Zéro $ dose", "12 $m$", "Filles $", "Garçons $y$"],
                "inchworm": ["Kologo $x^2$", "Toutes $c$", "Pourcentage $x^2$"],
                "coverage": ["Penta $1$", "Brute $b$", "Cov $"],
                "status": ["Intention $\\alpha$", "ZD $z$", "BeSD $a$"],
                "oc": ["Cible $t$", "cible $", "seuil $e$", "P $d$"]}
    for name, figure in figures.items():
        svg = charts.save_chart(figure, tmp_path / f"{name}.png")
        texts = {" ".join(t.split()) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
        missing = [label for label in expected[name] if label.replace("'", "&#x27;") not in texts
                   and label not in " ".join(texts)]
        assert not missing, (name, missing)
        assert (tmp_path / f"{name}.svg").read_text(encoding="utf-8").endswith(svg)
        figure.savefig(io.BytesIO(), format="png")  # outside the chart style, too: text stays text
    assert not matplotlib.rcParams["text.usetex"] and matplotlib.rcParams["text.parse_math"]  # no global change


def test_hostile_run_draws_and_embeds_its_labels_literally(hostile_run):
    svg = (hostile_run / "charts" / "zero_dose_ui_by_sex.svg").read_text(encoding="utf-8")
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    embedded = "".join(re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL))
    for label in MATH_LABELS:
        shown = label.replace("'", "&#x27;")
        assert label in svg or shown in svg, label
        assert label in embedded or shown in embedded, label


# --- SVG embedded in reports -----------------------------------------------------------------------

HOSTILE_SVG = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="10pt"
     viewBox="0 0 10 10" onload="alert(1)">
 <style>@import url(http://evil.example/x.css); body { display: none }</style>
 <script>alert(2)</script>
 <defs><clipPath id="c1"><rect x="0" y="0" width="10" height="10"/></clipPath>
  <path id="m1" d="M 0 0 L 1 1" style="stroke: #000000"/></defs>
 <g clip-path="url(#c1)" style="fill: url(http://evil.example/p.svg#x); stroke: #ff0000; behavior: url(x.htc)">
  <path d="M 0 0 L 10 10 z" style="fill: none; stroke-width: 0.8"/>
  <use xlink:href="#m1" x="1" y="2"/>
  <use xlink:href="file:///etc/hostname#x" x="1" y="2"/>
  <text x="1" y="2" style="font-size: 8px; font-family: 'DejaVu Sans'" onclick="alert(3)">Kologo &lt;b&gt; $x^2$</text>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">
   <link rel="attachment" href="file:///etc/hostname"/></div></foreignObject>
  <image xlink:href="file:///etc/passwd" width="1" height="1"/>
  <a xlink:href="javascript:alert(4)"><text>link</text></a>
  <rect x="0" y="0" width="1" height="1" transform="translate(1 2) rotate(-90)" fill="url(#c1)"/>
 </g>
</svg>"""


def test_clean_svg_keeps_the_drawing_and_drops_everything_active():
    svg = clean_svg(HOSTILE_SVG)
    for active in ("onload", "onclick", "<script", "alert", "<style", "@import", "evil.example", "behavior",
                   "foreignObject", "<link", "<image", "file:", "javascript", "<a", "<div"):
        assert active not in svg, active
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'd="M 0 0 L 10 10 z"' in svg and 'clip-path="url(#c1)"' in svg and 'fill="url(#c1)"' in svg
    assert 'xlink:href="#m1"' in svg and 'transform="translate(1 2) rotate(-90)"' in svg
    assert "Kologo &lt;b&gt; $x^2$</text>" in svg  # text kept, escaped
    assert 'style="stroke: #ff0000"' in svg  # the safe declaration of a filtered style


@pytest.mark.parametrize("text, reason", [
    (('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">'
      "<text>&b;</text></svg>"), "entities"),
    (('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg">'
      "<text>&x;</text></svg>"), "entities"),
    ("<html><body>not a drawing</body></html>", "root element"),
    ("<svg><text>no namespace</text></svg>", "root element"),
    ("<svg xmlns='http://www.w3.org/2000/svg'><text>unclosed</svg>", "not XML"),
])
def test_clean_svg_refuses_what_is_not_an_svg_drawing(text, reason):
    with pytest.raises(ValueError, match=reason):
        clean_svg(text)


def test_templates_insert_nothing_from_the_context_as_markup():
    found = [(path.relative_to(TEMPLATES), n) for path in sorted(TEMPLATES.rglob("*.j2"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"\|\s*safe\b|\bMarkup\b|autoescape\s+false", line)]
    assert not found
    # every text of a Typst template goes through the `typ` filter (a string literal), the charts
    # through the HTML template's `chart` filter (rebuilt from an allow-list)
    typst = "".join(p.read_text(encoding="utf-8") for p in (TEMPLATES / "typst").glob("*.j2"))
    printed = re.findall(r"\{\{\s*([^}]+?)\s*\}\}", typst)
    unquoted = [p for p in printed if "| typ" not in p and not re.fullmatch(
        r"(b\.level|b\.size|c\.span|c\.align|width|doc\.lang|\(100 \* b\.width\) \| round\(1\)|columns \| length"
        r"|fills\.get\([^)]*\)|150 if .*|\"true\" if .*|\"\(x: .*|paragraph\(.*|spans\(.*|cell\(.*|b\.block\(.*)", p)]
    assert unquoted == []
    html = (TEMPLATES / "html" / "blocks.html.j2").read_text(encoding="utf-8")
    assert "{{ b.chart | chart }}" in html
    sections = "".join(p.read_text(encoding="utf-8") for p in (REPO / "lqas" / "sections").glob("*.py"))
    assert set(re.findall(r'w\.figure\("(\w+)"', sections)) == {
        "red_categories", "zero_dose_ui_by_catchment", "zero_dose_ui_by_sex", "coverage_by_dose", "besd_by_status",
        "oc_curves", "change_by_unit", "trend_by_sex", "admin_vs_survey", "small_area_ranking", "small_area_fit",
        "small_area_map", "small_area_hotspots", "small_area_lqas"}


def test_embedded_chart_files_are_cleaned_and_stay_in_charts(hostile_run, tmp_path):
    run = _copy_run(hostile_run, tmp_path / "run")
    (run / "charts" / "oc_curves.svg").write_text(HOSTILE_SVG, encoding="utf-8")
    result = lqas("report", str(run), "--out", str(tmp_path / "elsewhere" / "x.html"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "elsewhere" / "x.html").read_text(encoding="utf-8")
    assert "<script" not in html and "onload" not in html and "file:///etc" not in html and "@import" not in html
    assert "Kologo &lt;b&gt; $x^2$" in html and html.count("<svg") == 7  # every chart, outside the run
    outside = tmp_path / "outside.svg"
    outside.write_text(HOSTILE_SVG, encoding="utf-8")
    (run / "charts" / "oc_curves.svg").unlink()
    (run / "charts" / "oc_curves.svg").symlink_to(outside)
    with pytest.raises(InputError, match="not a chart file inside"):
        chart_svg(run, "charts/oc_curves.svg")
    with pytest.raises(InputError, match="is not a file charts/<name>.svg"):
        chart_svg(run, "report_context.json")
    with pytest.raises(InputError, match="read from the run folder"):
        chart_svg(None, "charts/oc_curves.svg")


# --- the report context ---------------------------------------------------------------------------


@pytest.mark.parametrize("change, key", [
    ({"charts": {"oc_curves": '<script>alert(1)</script><link rel="attachment" href="file:///etc/hostname">'}},
     "charts.oc_curves"),
    ({"charts": {"oc_curves": "charts/../report.html"}}, "charts.oc_curves"),
    ({"charts": {"oc_curves": "/etc/passwd"}}, "charts.oc_curves"),
    ({"charts": {"oc_curves": "charts/oc_curves.svg\n<script>"}}, "charts.oc_curves"),
    ({"catchments": "kologo"}, "catchments"),
    ({"lang": "de"}, "lang"),
    ({"small_cell_n": "25"}, "small_cell_n"),
    ({"generated": "yesterday"}, "generated"),
    ({"survey": {"titles": {}}}, "survey.name"),
    ({"chart": {}}, "chart"),
])
def test_context_not_matching_its_schema_is_refused_naming_the_key(hostile_run, tmp_path, change, key):
    context = json.loads((hostile_run / CONTEXT_FILE).read_text(encoding="utf-8"))
    path = tmp_path / CONTEXT_FILE
    path.write_text(json.dumps({**context, **change}), encoding="utf-8")
    for complete in (True, False):
        with pytest.raises(InputError) as error:
            read_context(path, complete=complete)
        message = str(error.value)
        assert "\n" not in message and CONTEXT_FILE in message and f"key '{key}'" in message, message


def test_context_keys_the_built_in_report_needs(hostile_run, tmp_path):
    context = json.loads((hostile_run / CONTEXT_FILE).read_text(encoding="utf-8"))
    assert read_context(hostile_run / CONTEXT_FILE, complete=True) == context
    path = tmp_path / CONTEXT_FILE
    path.write_text(json.dumps({k: v for k, v in context.items() if k != "sample"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"key 'sample': required key missing"):
        read_context(path, complete=True)
    assert "sample" not in read_context(path)  # a custom template may use part of the context
    path.write_text(json.dumps({"survey": context["survey"]}), encoding="utf-8")
    with pytest.raises(InputError, match=r"key 'lang': required key missing"):
        read_context(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="not a report context"):
        read_context(path)


def test_report_command_refuses_a_hostile_context_in_one_line(hostile_run, tmp_path):
    run = _copy_run(hostile_run, tmp_path / "run")
    context = json.loads((run / CONTEXT_FILE).read_text(encoding="utf-8"))
    context["charts"]["oc_curves"] = '<link rel="attachment" href="file:///etc/hostname">'
    (run / CONTEXT_FILE).write_text(json.dumps(context), encoding="utf-8")
    result = lqas("report", str(run), "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 2 and not (tmp_path / "x.pdf").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and CONTEXT_FILE in lines[0] and "charts.oc_curves" in lines[0], result.stderr


# --- the PDF typesetter reads only the run's charts --------------------------------------------------


# what a hostile Typst template could try: a file of the run folder, a link out of it, a file of the
# machine, a path out of the root, a picture elsewhere
ESCAPES = ['#read("report_context.json")', '#read("leak.txt")', '#read("/etc/hostname")',
           '#read("../outside/secret.txt")', '#read("charts/../../outside/secret.txt")',
           '#image("/OUTSIDE/picture.png")', '#read("charts/link.svg")']


def test_a_typst_template_reads_no_file_but_the_run_charts(hostile_run, tmp_path):
    from lqas.report import render_report

    run = _copy_run(hostile_run, tmp_path / "run")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET-OUTSIDE-4711", encoding="utf-8")
    shutil.copy(run / "charts" / "oc_curves.png", outside / "picture.png")
    (run / "leak.txt").symlink_to(outside / "secret.txt")
    (run / "charts" / "link.svg").symlink_to(outside / "secret.txt")
    for escape in ESCAPES:
        template = tmp_path / "mine.typ.j2"
        template.write_text(f"= #{{{{ survey.name | typ }}}}\n{escape.replace('/OUTSIDE', str(outside))}\n",
                            encoding="utf-8")
        with pytest.raises(InputError, match=r"^x\.pdf: Typst could not typeset the report \(") as error:
            render_report(run, tmp_path / "x.pdf", template=template)
        assert "\n" not in str(error.value) and not (tmp_path / "x.pdf").exists(), escape
    # and on the command line: one line, exit 2
    result = lqas("report", str(run), "--template", str(template), "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("lqas: error: x.pdf: Typst could not typeset the report (")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_typst_template_may_embed_the_run_charts(hostile_run, tmp_path):
    require_program("pdfimages", POPPLER)
    run = _copy_run(hostile_run, tmp_path / "run")
    template = tmp_path / "mine.typ.j2"
    template.write_text('= #{{ survey.name | typ }}\n#image({{ charts.oc_curves | typ }})\n'
                        '#image("charts/oc_curves.png")\n', encoding="utf-8")
    result = lqas("report", str(run), "--template", str(template), "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "x.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    name = json.loads((run / CONTEXT_FILE).read_text(encoding="utf-8"))["survey"]["name"]
    assert text.startswith(name) and "Couverture réelle dans le lot" in text  # the title, the SVG chart
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "x.pdf")], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert images  # the PNG chart

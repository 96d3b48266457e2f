"""End-to-end: the installed `lqas` command on the synthetic demo and on broken inputs."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lqas.design import ESTIMATE_COLUMNS

LQAS = str(Path(sys.executable).with_name("lqas"))
DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline"
RUN_FILES = ["report.html", "report.pdf", "results.xlsx", "estimates.csv", "classification.csv", "derived.csv",
             "exclusions.csv", "manifest.json"]
CATCHMENTS = ["bougouni_est", "kologo", "pelengana_nord", "cinzana_gare", "niono_central", "ndebougou"]


def lqas(*args, cwd=None):
    return subprocess.run([LQAS, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module", params=["en", "fr"])
def demo_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    result = lqas("demo", "--out", str(out), "--lang", request.param)
    assert result.returncode == 0, result.stderr
    return request.param, out


def test_version():
    result = lqas("--version")
    assert result.returncode == 0 and result.stdout.startswith("lqas 0.")


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
    source_rows = len(pd.read_csv(DEMO / "data" / "mali_baseline_kobo.csv"))
    assert manifest["rows"]["read"] == source_rows == len(derived) + len(exclusions)
    assert set(derived["source_row"]).isdisjoint(exclusions["source_row"])
    assert manifest["inputs"][0]["sha256"]


def test_demo_has_no_personal_data(demo_run):
    _, out = demo_run
    derived = pd.read_csv(out / "derived.csv")
    export = pd.read_csv(DEMO / "data" / "mali_baseline_kobo.csv", dtype=str)
    names = set(export["child/name"].dropna()) | set(export["caretaker/phone"].dropna())
    text = (out / "derived.csv").read_text(encoding="utf-8")
    assert not [name for name in list(names)[:200] if f",{name}," in text]
    assert not {"child/name", "caretaker/name", "caretaker/phone", "hh/gps"} & set(derived.columns)


def test_demo_estimates_follow_the_tidy_schema(demo_run):
    _, out = demo_run
    estimates = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    for column in ESTIMATE_COLUMNS:
        assert column in estimates.columns
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        rows = estimates[(estimates["indicator"] == indicator) & (estimates["cohort"] == "all")]
        pairs = set(zip(rows["catchment"], rows["sex"]))
        assert {(c, s) for c in CATCHMENTS for s in ("F", "M", "all")} <= pairs
    assert estimates["estimate"].between(0, 1).all()
    assert (estimates["ci_low"] <= estimates["estimate"]).all() and (estimates["estimate"] <= estimates["ci_high"]).all()


def test_demo_classifies_every_lot(demo_run):
    _, out = demo_run
    table = pd.read_csv(out / "classification.csv")
    assert list(table.columns[:9]) == ["indicator", "catchment", "cohort", "n", "x", "d", "alpha", "beta", "class"]
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3", "penta3_crude"):
        assert len(table[table["indicator"] == indicator]) == 12
    assert set(table.loc[table["indicator"] == "mr1_crude", "cohort"]) == {"12-23m"}
    assert set(table["class"]) <= {"pass", "fail"}
    assert ((table["class"] == "pass") == (table["x"] >= table["d"])).all()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_demo_pdf_text_is_in_the_report_language(demo_run, tmp_path):
    lang, out = demo_run
    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    expected = {"en": ["Key findings", "Girls", "Boys", "Zero-dose (no Penta1)", "N'Débougou", "LQAS classification"],
                "fr": ["Principaux résultats", "Filles", "Garçons", "Zéro dose (pas de Penta1)", "N'Débougou",
                       "Classification LQAS"]}[lang]
    for phrase in expected:
        assert phrase in text, phrase
    if lang == "fr":
        assert "Key findings" not in text and "Girls" not in text
        assert " %" in text  # French percent formatting


@pytest.mark.parametrize("args, message", [
    (["run", "nowhere/survey.toml"], "nowhere/survey.toml: project file not found"),
    (["rules", "--n", "19", "--upper", "0.5", "--lower", "0.8"], "upper"),
], ids=["missing-project", "upper-below-lower"])
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
    result = lqas("rules", "--n", "19", "--upper", "0.8", "--lower", "0.5", "--json")
    record = json.loads(result.stdout)
    assert record["d"] == 13 and record["distribution"] == "binomial"
    assert round(record["alpha"], 4) == 0.0676 and round(record["beta"], 4) == 0.0835


def test_design_json_finds_the_smallest_n():
    # lqas.md §0: n = 19 is the smallest n with alpha and beta <= 0.10 for 80 %/50 %
    record = json.loads(lqas("design", "--upper", "0.8", "--lower", "0.5", "--json").stdout)
    assert (record["n"], record["d"], record["distribution"]) == (19, 13, "binomial")


def test_table_prints_the_verified_n12_row():
    # lqas.md §2, the verified n = 12 row: 40 % -> 3, 50 % -> 5, 60 % -> 6, 75 % -> 8, 95 % -> 11
    lines = lqas("table", "--n-min", "12", "--n-max", "12").stdout.splitlines()
    header, row = lines[0].split(), lines[-1].split()
    cells = dict(zip(header, row[1:]))
    assert (cells["40%"], cells["50%"], cells["60%"], cells["75%"], cells["95%"]) == ("3", "5", "6", "8", "11")


def test_rules_writes_an_oc_curve_png(tmp_path):
    png = tmp_path / "oc.png"
    assert lqas("rules", "--n", "19", "--upper", "0.8", "--lower", "0.5", "--oc-png", str(png)).returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG")

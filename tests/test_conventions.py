"""Conventions readers of survey reports know (issue 17, item 9 and the survey facts of item 8): small
numbers as the DHS or VCQI show them, numbered tables and figures with a source line, the acronyms the
report uses, the title page from [report.cover], and households visited with the response rate."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import require_program

from lqas.blocks import Figure, Heading, Row, Table
from lqas.config import load_project
from lqas.errors import ConfigError, InputError
from lqas.households import household_response
from lqas.sections import acronyms_used, compose, numbered
from lqas.sections.words import Words

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "mali_baseline"


def words(lang: str = "en", small_numbers: str = "dhs") -> Words:
    labels = {"header": {"catchment": "Catchment area"}, "chart": {}}
    return Words({"lang": lang, "labels": labels, "small_cell_n": 25, "units": None,
                  "methods": {"small_numbers": small_numbers, "caution_n": 50}})


def cell(n: int, estimate: float = 0.123) -> dict:
    return {"estimate": estimate, "ci_low": 0.05, "ci_high": 0.25, "n": n, "small": n < 25}


def test_dhs_suppresses_under_25_and_puts_25_to_49_in_parentheses():
    w = words("en")
    assert w.est(cell(24)).lines == ["*", "n = 24"] and w.est(cell(24)).tone == "small"
    assert w.est(cell(25)).lines == ["(12.3%)", "5.0–25.0%", "n = 25"] and w.est(cell(25)).tone == "caution"
    assert w.est(cell(49)).lines[0] == "(12.3%)"
    assert w.est(cell(50)).lines == ["12.3%", "5.0–25.0%", "n = 50"] and w.est(cell(50)).tone == "plain"
    assert words("fr").est(cell(30)).lines[0] == "(12,3\u00a0%)"


def test_vcqi_shows_every_estimate_with_its_n():
    w = words("en", "vcqi")
    assert w.est(cell(3)).lines == ["12.3%", "5.0–25.0%", "n = 3"] and w.est(cell(3)).tone == "plain"
    table = Table(header=[w.head("x")], rows=[Row(cells=[w.est(cell(3))])])
    assert w.small_note(table) == []


def test_tables_and_figures_are_numbered_with_their_source_and_small_number_notes():
    w = words("fr")
    blocks = [Heading(level=2, text="Enfants par aire", anchor="a"),
              Table(header=[w.head("x")], rows=[Row(cells=[w.est(cell(10))]), Row(cells=[w.est(cell(30))])]),
              Figure(chart="charts/x.svg", caption="Couverture"),
              Table(caption="Règles", header=[w.head("x")], rows=[], source=""),
              Table(caption="Propre", header=[w.head("x")], rows=[], source="Source : ailleurs.")]
    out = numbered(blocks, w, "Source : l'enquête.")
    tables = [b for b in out if isinstance(b, Table)]
    assert [t.caption for t in tables] == ["Tableau 1. Enfants par aire", "Tableau 2. Règles", "Tableau 3. Propre"]
    assert [n.spans[0].text for n in tables[0].notes] == [
        "* Non présentée : moins de 25 enfants au dénominateur.",
        "( ) De 25 à 49 enfants au dénominateur : à interpréter avec prudence.", "Source : l'enquête."]
    assert tables[1].notes == [] and tables[2].notes[-1].spans[0].text == "Source : ailleurs."
    figure = next(i for i, b in enumerate(out) if isinstance(b, Figure))
    assert out[figure].caption == "Figure 1. Couverture" and out[figure + 1].spans[0].text == "Source : l'enquête."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The demo run (the follow-up round) in English (its report context and PDF), and its French context."""
    out = tmp_path_factory.mktemp("conventions") / "run"
    result = subprocess.run([sys.executable, "-m", "lqas", "demo", "--out", str(out), "--lang", "en",
                             "--formats", "csv,html,pdf"], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def test_every_table_and_figure_of_the_demo_report_is_numbered_in_order(run):
    from lqas.report import for_language, read_context

    context = read_context(run / "report_context.json")
    for lang, table_word in (("en", "Table"), ("fr", "Tableau")):
        document = compose(for_language(context, lang))
        tables = [b.caption for b in document.blocks if isinstance(b, Table)]
        figures = [b.caption for b in document.blocks if isinstance(b, Figure)]
        assert len(tables) > 30 and len(figures) >= 6
        assert [int(re.match(table_word + r" (\d+)\. \S", t).group(1)) for t in tables] == list(range(1, len(tables) + 1))
        assert [int(re.match(r"Figure (\d+)\. \S", f).group(1)) for f in figures] == list(range(1, len(figures) + 1))
    text = (run / "report.html").read_text(encoding="utf-8")
    assert "Source: Mali Learning Hub follow-up survey — synthetic example, October–November 2026." in text


def test_the_acronyms_listed_are_those_the_report_uses_in_its_language(run):
    from lqas.report import for_language, read_context

    context = read_context(run / "report_context.json")
    en, fr = (compose(for_language(context, lang)) for lang in ("en", "fr"))
    assert dict(en.acronyms)["WHO"] == "World Health Organization" and "OMS" not in dict(en.acronyms)
    assert dict(fr.acronyms)["OMS"] == "Organisation mondiale de la Santé" and "WHO" not in dict(fr.acronyms)
    # the demo's report sets its DHIS2 extract against the survey
    assert "DHIS2" in dict(en.acronyms) and "DHIS2" in dict(fr.acronyms)
    assert [short for short, _ in en.acronyms] == sorted((s for s, _ in en.acronyms), key=str.casefold)
    stripped = en.model_copy(update={"blocks": [], "meta": [], "title": "A survey of BCG", "subtitle": ""})
    assert [short for short, _ in acronyms_used(stripped)] == ["BCG"]


def test_the_title_page_has_the_cover_of_the_project_file(run):
    require_program("pdftotext", "apt-get install poppler-utils")
    first = subprocess.run(["pdftotext", "-l", "1", str(run / "report.pdf"), "-"], check=True, capture_output=True,
                           text=True).stdout
    assert "Example institution (fictitious)" in first and "Équipe d'exemple lqas" in first
    assert "Version 1.0 of the report." in first and "Suggested citation: Example institution (2026)" in first
    # the follow-up's cover names the baseline's placeholder logo
    assert (run / "charts" / "logo_1.png").read_bytes() == (DEMO / "data" / "logo.png").read_bytes()
    html = (run / "report.html").read_text(encoding="utf-8")
    assert html.count('<img class="logo" alt="" src="data:image/png;base64,') == 1
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert {"logo.1", "households"} <= {entry["role"] for entry in manifest["inputs"]}


def test_a_logo_that_is_not_a_png_is_refused_naming_the_setting(tmp_path):
    project = tmp_path / "survey.toml"
    (tmp_path / "logo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a png")
    text = (DEMO / "survey.toml").read_text(encoding="utf-8").replace('logos = ["data/logo.png"]',
                                                                     'logos = ["logo.jpg"]')
    project.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"report\.cover\.logos\[1\].*logo\.jpg: not a PNG image"):
        load_project(project)


def test_household_response_counts_each_result_and_the_rate():
    project = load_project(DEMO / "survey.toml")
    log = pd.read_csv(DEMO / "data" / "households.csv", dtype=str)
    children = pd.read_csv(DEMO / "data" / "mali_baseline_kobo.csv", dtype=str,
                           usecols=["hh/catchment", "hh/cluster"]).rename(
        columns={"hh/catchment": "catchment", "hh/cluster": "cluster"})
    table = household_response(project, children).set_index("catchment")
    assert table.loc["all", "visited"] == len(log)
    counts = log.groupby(["aire_sante", "resultat"]).size().unstack(fill_value=0)
    for area, row in counts.iterrows():
        assert table.loc[area, "interviewed"] == row["1"] and table.loc[area, "no_eligible_child"] == row["2"]
        eligible = row.sum() - row["2"]
        assert table.loc[area, "eligible"] == eligible
        assert table.loc[area, "response_rate"] == pytest.approx(row["1"] / eligible)
    # every child analysed came from a household interviewed: the demo found one child per household
    assert table.loc["all", "interviewed"] == 1146


def test_a_household_log_with_an_unknown_result_names_the_file_row_and_column(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(DEMO, folder)
    log = folder / "data" / "households.csv"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0] + ",9"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = load_project(folder / "survey.toml")
    children = pd.DataFrame({"catchment": ["kologo"], "cluster": ["KLG-01"]})
    with pytest.raises(InputError, match=r"households\.csv: row 5, column 'resultat': '9' is not a household result"):
        household_response(project, children)


def test_a_household_log_without_its_result_column_names_every_column_of_the_file(tmp_path):
    """The log is read without its columns nothing counts (a national log's household ids): the message still
    lists what the file holds."""
    folder = tmp_path / "p"
    shutil.copytree(DEMO, folder)
    log = folder / "data" / "households.csv"
    log.write_text(log.read_text(encoding="utf-8").replace("resultat", "issue", 1), encoding="utf-8")
    project = load_project(folder / "survey.toml")
    children = pd.DataFrame({"catchment": ["kologo"], "cluster": ["KLG-01"]})
    with pytest.raises(InputError, match=r"households\.csv: no column 'result' \(columns: aire_sante, grappe, menage, "
                                         r"issue\); name the file's column with \[households\] columns"):
        household_response(project, children)


def test_the_sample_section_gives_the_response_rate(run):
    context = json.loads((run / "report_context.json").read_text(encoding="utf-8"))
    rows = context["sample"]["households"]["rows"]
    total = rows[-1]
    # counted in examples/mali_followup/data/households.csv: 2,884 lines, 1,150 with result 1
    assert total["unit"] == "all" and total["interviewed"] == 1150
    assert sum(row["visited"] for row in rows[:-1]) == total["visited"] == 2884
    html = (run / "report.html").read_text(encoding="utf-8")
    assert f"a household response rate of {100 * total['response_rate']:.1f}%" in html
    assert "Source of the populations: health-area population projections" in html


def test_an_indicator_at_100_percent_everywhere_is_one_sentence_not_a_table():
    from lqas.sections.coverage import panel_tables

    def est(value, n):
        return {"estimate": value, "ci_low": None, "ci_high": None, "n": n, "small": False}

    rows = [{"unit": unit, "cells": {"timely": {"F": est(1.0, 30), "M": est(0.9999999999999998, 31),
                                                "all": est(1.0, 61 if unit == "a" else 122)},
                                     "card": {"F": est(0.5, 30), "M": est(0.6, 31), "all": est(0.55, 61)}}}
            for unit in ("a", "all")]
    panel = {"key": "timeliness", "cohort": "all", "indicators": ["timely", "card"], "rows": rows}
    w = words("en")
    w.labels.update(sex={"F": "Girls", "M": "Boys", "all": "All"}, panel={"timeliness": "Timeliness"})
    blocks = panel_tables(panel, w)
    sentence = next(b for b in blocks if b.kind == "paragraph").spans[0].text
    assert sentence == "timely: 100% in every catchment area, among girls and among boys (122 children)."
    tables = [b for b in blocks if b.kind == "table"]
    assert len(tables) == 1 and [c.lines[0] for c in tables[0].header_groups[1:]] == ["card"]


def test_a_household_log_naming_an_area_of_no_child_is_refused(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(DEMO, folder)
    log = folder / "data" / "households.csv"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[2] = "=cmd" + lines[2]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    children = pd.DataFrame({"catchment": ["bougouni_est"], "cluster": ["BGE-01"]})
    with pytest.raises(InputError, match=r"households\.csv: row 3, column 'aire_sante': '=cmdbougouni_est' is not a "
                                         r"catchment area of the survey \(bougouni_est\)"):
        household_response(load_project(folder / "survey.toml"), children)

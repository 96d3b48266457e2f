"""Levels and stratifiers as data ([levels], [stratifiers]): the rows `lqas run` writes to estimates.csv
for districts, area within district and population group by sex equal R survey's svyby on the full
design (oracles/survey_levels.R); a level that does not nest and an unknown stratifier are one line."""

import shutil
import subprocess

import pandas as pd
import pytest
from conftest import REPO

from lqas.config import load_project
from lqas.derive import derive_project
from lqas.design import domain_rows, unit_rows
from lqas.errors import ConfigError
from lqas.run import analyse

DEMO = REPO / "examples" / "mali_baseline"
ORACLE = REPO / "tests" / "oracles" / "survey_levels.R"


@pytest.fixture(scope="module")
def demo():
    return analyse(load_project(DEMO / "survey.toml"))


def test_the_demo_declares_districts_and_two_stratifiers(demo):
    project = demo.project
    assert project.levels.columns == ("district", "catchment")
    assert project.stratifiers.columns == ("area", "population_group")
    estimates = demo.estimates
    assert list(estimates.columns[:8]) == ["indicator", "cohort", "district", "catchment", "area",
                                           "population_group", "sex", "vaccination_status"]
    districts = domain_rows(estimates, "zero_dose", free=("district",))
    assert sorted(districts["district"]) == ["all", "bougouni", "niono", "segou"]
    # each district with its cohort and sex margins; and no row is written twice
    for sex in ("F", "M"):
        assert len(domain_rows(estimates, "zero_dose", free=("district", "cohort"), sex=sex)) == 4 * 3
    domains = [c for c in estimates.columns if c not in {"n", "n_weighted", "estimate", "se", "ci_low", "ci_high",
                                                         "lcb", "ucb", "deff", "neff", "icc", "df", "ci_method",
                                                         "level"}]
    assert not estimates.duplicated(domains).any()


@pytest.mark.usefixtures("r_survey")
def test_district_area_and_group_rows_equal_r_survey_svyby(demo, tmp_path):
    table = demo.derived.table
    columns = ["catchment", "cluster", "weight", "zero_dose", "district", "area", "population_group", "sex", "cohort"]
    table[columns].to_csv(tmp_path / "in.csv", index=False)
    subprocess.run(["Rscript", str(ORACLE), str(tmp_path / "in.csv"), str(tmp_path / "out.csv")], check=True,
                   capture_output=True, timeout=300)
    expected = pd.read_csv(tmp_path / "out.csv", dtype=str)
    estimates = demo.estimates
    checked = 0
    for row in expected.itertuples(index=False):
        values = dict(zip(row.by.split("+"), row.key.split("|")))
        ours = domain_rows(estimates, "zero_dose", **values)
        assert len(ours) == 1, values
        assert float(ours["estimate"].iloc[0]) == pytest.approx(float(row.estimate), rel=1e-9, abs=1e-12), values
        assert float(ours["se"].iloc[0]) == pytest.approx(float(row.se), rel=1e-7, abs=1e-12), values
        checked += 1
    # districts 3, district x area 6, area 2, population group x sex 6 x 2, cohort x district x sex 2 x 3 x 2
    assert checked == len(expected) == 3 + 6 + 2 + 12 + 12


def render_html(context, run_dir) -> str:
    """The report's HTML page, composed from the context as a run composes it."""
    from lqas.report import _plain
    from lqas.sections import compose
    from lqas.typeset import html_page

    return html_page(compose(_plain(context)), run_dir)


def _copy_demo(tmp_path, text_change):
    project = tmp_path / "p"
    shutil.copytree(DEMO, project)
    path = project / "survey.toml"
    path.write_text(text_change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_a_level_that_does_not_nest_is_one_line_naming_an_example(tmp_path):
    # the area type does not nest in the catchments: a catchment has urban and rural clusters
    path = _copy_demo(tmp_path, lambda t: t.replace('columns = ["district", "catchment"]',
                                                    'columns = ["district", "catchment", "area"]'))
    with pytest.raises(ConfigError, match=r"survey.toml: key 'levels.columns': area '(rural|urban)' lies in two "
                                          r"catchment units \('[a-z_]+' and '[a-z_]+'\): each level must lie within "
                                          r"one unit of the level above"):
        derive_project(load_project(path))


def test_an_unknown_stratifier_or_level_is_one_line_with_a_suggestion(tmp_path):
    path = _copy_demo(tmp_path, lambda t: t.replace('columns = ["area", "population_group"]',
                                                    'columns = ["area", "populaton_group"]'))
    with pytest.raises(ConfigError, match=r"survey.toml: key 'stratifiers.columns': 'populaton_group' is not a "
                                          r"column of the child table; did you mean 'population_group'\?"):
        derive_project(load_project(path))
    path = _copy_demo(tmp_path / "b", lambda t: t.replace('levels = ["national", "district"]',
                                                          'levels = ["national", "region"]'))
    with pytest.raises(ConfigError, match=r"key 'stratifiers.levels': 'region' is not 'national' or a column of "
                                          r"\[levels\]"):
        load_project(path)


@pytest.mark.parametrize(("lang", "headings", "typology"),
                         [("fr", ["Par district et par groupe de population", "Par district", "Par milieu",
                                  "Par groupe de population"], "Bougouni (autres populations)"),
                          ("en", ["By district and by population group", "By district", "By area",
                                  "By population group"], "Bougouni (other populations)")])
def test_the_report_shows_districts_and_groups(demo, lang, headings, typology, tmp_path):
    from lqas.context import report_context

    (tmp_path / "charts").mkdir()
    context = report_context(demo, lang, charts_dir=tmp_path / "charts")
    groups = context["groups"]
    district = groups["levels"][0]
    assert [row["unit"] for row in district["rows"]] == ["bougouni", "segou", "niono", "all"]
    bougouni = domain_rows(demo.estimates, "zero_dose", district="bougouni")
    assert district["rows"][0]["cells"]["zero_dose"]["estimate"] == pytest.approx(float(bougouni["estimate"].iloc[0]))
    nomads = next(row for row in groups["stratifiers"][1]["tables"][0]["rows"] if row["group"] == "nomad")
    girls = domain_rows(demo.estimates, "zero_dose", population_group="nomad", sex="F")
    assert nomads["F"]["estimate"] == pytest.approx(float(girls["estimate"].iloc[0])) and nomads["F"]["small"]
    html = render_html(context, tmp_path)
    for heading in headings:
        assert f">{heading}</h" in html, heading
    # the district named with its Learning Hub typology, in the report's language ([labels.district])
    assert district["rows"][0]["name"] == typology and typology in html


def test_the_report_never_says_the_risks_are_kept_when_small_lots_cannot_keep_them(demo, tmp_path):
    """Too few children for any rule: the rule used (smallest alpha + beta) misses the limits, and the
    report says so (it said the limits held whatever the lots)."""
    from dataclasses import replace

    from lqas.context import report_context

    (tmp_path / "charts").mkdir()
    kept = render_html(report_context(demo, "en", charts_dir=tmp_path / "charts"), tmp_path)
    assert "Decision rules keep both risks at or below their limits" in kept
    classification = demo.classification.copy()
    small = classification.index[:3]
    classification.loc[small, "limits_met"] = False
    classification.loc[small, ["alpha", "beta"]] = [[0.42, 0.2], [0.1, 0.44], [0.3, 0.3]]
    context = report_context(replace(demo, classification=classification), "en", charts_dir=tmp_path / "charts")
    unmet = context["lqas"]["limits_unmet"]
    assert {key: unmet[key] for key in ("lots", "of", "alpha", "beta")} == {
        "lots": 3, "of": len(classification), "alpha": 0.42, "beta": 0.44}
    assert [(lot["catchment"], lot["alpha"]) for lot in unmet["named"]] == list(zip(
        classification.loc[small, "catchment"].astype(str), [0.42, 0.1, 0.3]))
    html = " ".join(render_html(context, tmp_path).split())
    assert "Decision rules keep both risks" not in html
    assert (f"For 3 of the {len(classification)} classifications, too few children were sampled for any rule to "
            "do so: their classes carry larger risks (alpha up to 0.42, beta up to 0.44") in html
    assert "the rule with the smallest alpha + beta is used" in html


def test_the_lots_put_together_by_district_equal_the_lqas_manual_formula(demo):
    """lqas_by_level.csv, from classification.csv and the populations file alone: for each district and
    cohort, p = sum W_i p_i and var = sum W_i^2 p_i (1 - p_i) / n_i with W_i = N_i / sum N (Valadez)."""
    import numpy as np

    levels = demo.lots_by_level
    lots = demo.classification
    populations = pd.read_csv(DEMO / "data" / "populations.csv")
    district_of = demo.table.drop_duplicates("catchment").set_index("catchment")["district"]
    checked = 0
    for row in levels[levels["level"] == "district"].itertuples(index=False):
        members = lots[(lots["indicator"] == row.indicator) & (lots["cohort"] == row.cohort)
                       & (lots["catchment"].map(district_of) == row.unit)]
        size = members.merge(populations, on=["catchment", "cohort"])["population"].to_numpy(float)
        n, x = members["n"].to_numpy(float), members["x_indicator"].to_numpy(float)
        w, p = size / size.sum(), x / n
        assert row.estimate == pytest.approx(float((w * p).sum()), rel=1e-12)
        assert row.se == pytest.approx(float(np.sqrt((w ** 2 * p * (1 - p) / n).sum())), rel=1e-12)
        assert (row.lots, row.n, row.x) == (len(members), int(n.sum()), int(x.sum()))
        checked += 1
    assert checked == 3 * 2 * len(demo.project.lqas.targets) - 3  # MR1 is classified in 12-23 months only
    national = levels[levels["level"] == "national"]
    assert set(national["unit"]) == {"all"} and len(national) == checked // 3


def test_valid_by_age_1_is_estimated_and_the_dose_families_are_a_project_setting(demo, tmp_path):
    indicators = set(demo.estimates["indicator"])
    assert {"penta3_crude", "penta3_valid", "penta3_valid_age1", "mr1_valid_age1"} <= indicators
    path = _copy_demo(tmp_path, lambda t: t + '\n[estimates]\ndoses = ["crude"]\n')
    crude_only = set(analyse(load_project(path)).estimates["indicator"])
    assert "penta3_crude" in crude_only and not any(k.endswith(("_valid", "_valid_age1")) and k.split("_")[0]
                                                    in {"penta3", "bcg", "mr1"} for k in crude_only)
    assert {"zero_dose", "fully_vaccinated_valid"} <= crude_only  # the other indicators always
    # every family, by evidence source too: the demo's registers were not sought, so no register family
    every = set(analyse(load_project(_copy_demo(tmp_path / "all", lambda t: t + '\n[estimates]\ndoses = "all"\n')))
                .estimates["indicator"])
    assert {"penta1_by_card", "penta1_by_history", "penta1_card_or_history", "bcg_by_scar"} <= every
    assert not any(k.startswith("penta1_") and "register" in k for k in every)
    with pytest.raises(ConfigError, match=r"survey.toml: key 'estimates.doses\[1\]': expected 'crude', .*; got 'by_cards'; "
                                          r"did you mean 'by_card'\?"):
        load_project(_copy_demo(tmp_path / "bad", lambda t: t + '\n[estimates]\ndoses = ["by_cards"]\n'))


def test_a_workbook_too_long_for_a_sheet_keeps_the_levels_above_the_lots_and_says_so(demo, monkeypatch):
    """A national survey's estimates.csv runs to millions of rows: the workbook's sheet keeps the survey
    and the levels above the lots, and its note says so (every row stays in estimates.csv)."""
    from lqas import workbook

    rows = len(demo.estimates)  # the estimates sheet comes after the "Read me" sheet
    assert workbook.workbook_sheets(demo, "en")[1].frame.shape[0] == rows  # small enough: every row
    kept = demo.estimates[demo.estimates["catchment"] == "all"]
    monkeypatch.setattr(workbook, "SHEET_ROWS", len(kept))
    sheet = workbook.workbook_sheets(demo, "en")[1]
    assert len(sheet.frame) == len(kept) < rows
    assert sheet.note.startswith(f"The {rows:,} rows of estimates.csv are too many for a sheet: here are the "
                                 f"{len(kept):,} rows of the survey and of each district")
    french = workbook.workbook_sheets(demo, "fr")[1].note
    assert french.startswith((f"Les {rows:,} lignes".replace(",", "\u202f"), f"Les {rows:,} lignes".replace(",", "\u00a0")))
    # then the stratifiers below the survey, then the districts
    monkeypatch.setattr(workbook, "SHEET_ROWS", 10)
    sheet = workbook.workbook_sheets(demo, "en")[1]
    national = domain_rows(demo.estimates, None, free=("cohort", "sex", "area", "population_group", "vaccination_status"))
    assert "rows of the whole survey" in sheet.note and len(sheet.frame) == len(national)


def test_a_label_in_an_unknown_language_is_one_line(tmp_path):
    path = _copy_demo(tmp_path, lambda t: t.replace('en = "Bougouni (other populations)"',
                                                    'de = "Bougouni (andere)"'))
    with pytest.raises(ConfigError) as error:
        load_project(path)
    assert str(error.value).splitlines() == [
        f"{path}: key 'labels.district.bougouni': expected a text or {{ fr = \"...\", en = \"...\" }}; got a table "
        "with keys 'fr', 'de'"]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_more_areas_than_the_body_shows_gives_tables_by_district_and_an_annex_of_areas(demo, lang, tmp_path):
    """A national survey has hundreds of health areas: beyond [report] areas_in_body the body's tables are by
    district, each area is one line of Annex C, at most [report] annex_areas of them (those with the highest
    zero-dose prevalence), and the lots' matrix and the areas' scorecards are left to the tables."""
    from dataclasses import replace

    from lqas.blocks import Heading, Table
    from lqas.context import report_context
    from lqas.sections import compose

    settings = demo.project.report.model_copy(update={"areas_in_body": 3, "annex_areas": 4})
    results = replace(demo, project=demo.project.model_copy(update={"report": settings}))
    (tmp_path / "charts").mkdir()
    context = report_context(results, lang, charts_dir=tmp_path / "charts")
    assert context["units"]["column"] == "district" and context["units"]["codes"] == ["bougouni", "segou", "niono"]
    assert [row["unit"] for row in context["sex_tables"]["zero_dose"]["rows"]][:4] == ["bougouni", "segou", "niono",
                                                                                       "all"]
    niono = context["sex_tables"]["zero_dose"]["rows"][2]
    expected = domain_rows(demo.estimates, "zero_dose", district="niono", cohort=niono["cohort"], sex="F")
    assert niono["F"]["estimate"] == pytest.approx(float(expected["estimate"].iloc[0]))
    assert context["lqas"]["matrix"] is None and context["scorecard"]["omitted"] == 6
    assert [block["unit"] for block in context["scorecard"]["blocks"]] == ["all"]
    # the girls-boys comparisons the report reads: the survey's (each area's are in comparisons.csv)
    survey_rows = demo.comparisons[demo.comparisons["catchment"] == "all"]
    assert len(context["sex_comparisons"]) == len(survey_rows) < len(demo.comparisons)
    # the annex: the 4 areas of highest zero-dose prevalence (all cohorts), by district, with each lot's class
    areas = context["areas"]
    assert (areas["total"], areas["shown"], areas["capped"]) == (6, 4, True)
    zero_dose = unit_rows(demo.estimates, "zero_dose", "catchment")
    highest = set(zero_dose.sort_values("estimate", ascending=False)["catchment"].head(4))
    assert {row["unit"] for row in areas["rows"]} == highest
    order = {"bougouni": 0, "segou": 1, "niono": 2}
    assert [order[row["parent"]] for row in areas["rows"]] == sorted(order[row["parent"]] for row in areas["rows"])
    first = areas["rows"][0]
    lot = demo.classification.query("catchment == @first['unit'] and indicator == 'zero_dose'")
    assert first["classes"][:len(lot)] == list(lot.sort_values("cohort", key=lambda c: c.map(
        {k: i for i, k in enumerate(context["cohorts"])}))["class"])
    # the composed report: no table by catchment area in the body but the summary's priority areas (the 15
    # with the most zero-dose children); Annex C lists the four areas
    document = compose(context)
    headings = [b.text for b in document.blocks if isinstance(b, Heading)]
    annex = {"en": "Annex C: catchment areas", "fr": "Annexe C\u00a0: aires de santé"}[lang]
    assert annex in headings
    body = document.blocks[:next(i for i, b in enumerate(document.blocks) if isinstance(b, Heading) and b.annex)]
    area_header = {"en": "Catchment area", "fr": "Aire de santé"}[lang]
    by_area = [t for t in body if isinstance(t, Table) and any(c.lines == [area_header] for c in t.header)]
    assert [t.caption for t in by_area] == [{"en": "Table 1. Priority areas: zero-dose children, prevalence, access "
                                                  "and LQAS",
                                            "fr": "Tableau 1. Aires prioritaires : enfants zéro dose, prévalence, "
                                                  "accès et LQAS"}[lang]]
    table = document.blocks[-1 - next(i for i, b in enumerate(reversed(document.blocks)) if isinstance(b, Table))]
    assert len(table.rows) == 4 and table.header[1].lines == [area_header]


def test_a_french_run_rendered_in_english_names_its_units_in_english(demo, tmp_path):
    from lqas.blocks import Heading
    from lqas.context import report_context
    from lqas.report import _plain, for_language
    from lqas.sections import compose

    (tmp_path / "charts").mkdir()
    context = _plain(report_context(demo, "fr", charts_dir=tmp_path / "charts"))
    assert context["units"]["noun"] == "aire de santé"
    headings = [b.text for b in compose(for_language(context, "en")).blocks if isinstance(b, Heading)]
    assert "Children analysed by catchment area, cohort and sex" in headings


def test_lots_without_a_cohort_are_put_together_too(demo):
    """[lqas] lot = ["catchment"]: a lot is a catchment area, all ages together (no cohort column)."""
    from lqas.classify import aggregate_lots

    lots = demo.classification.query("cohort == '12-23m'").drop(columns="cohort")
    table = demo.table.query("cohort == '12-23m'")
    frame = aggregate_lots(lots, table, demo.project.levels.columns)
    with_cohort = aggregate_lots(demo.classification.query("cohort == '12-23m'"), table, demo.project.levels.columns)
    assert set(frame["cohort"]) == {"all"} and len(frame) == len(with_cohort)
    assert frame["estimate"].tolist() == pytest.approx(with_cohort["estimate"].tolist())


def test_the_read_me_names_each_sheet_by_the_title_excel_gives_it(tmp_path):
    from openpyxl import load_workbook

    from lqas import workbook

    long = "A sheet name far longer than Excel's limit"
    sheets = [workbook.Sheet(long, pd.DataFrame({"x": [1]})), workbook.Sheet(long + " too", pd.DataFrame({"x": [2]}))]
    labels = {"sheet": {"readme": "Read me"}, "sheet_about": {}, "readme_synthetic": "", "readme_note": "note"}
    readme = workbook._readme_sheet(sheets, labels, {"sheet": "Sheet", "content": "Content", "catchments": "Areas"},
                                    False)
    workbook.write_workbook(tmp_path / "book.xlsx", [readme, *sheets])
    book = load_workbook(tmp_path / "book.xlsx")
    listed = [row[0] for row in book["Read me"].iter_rows(min_row=4, values_only=True)]
    assert listed == book.sheetnames[1:] == ["A sheet name far longer than Ex", "A sheet name far longer tha (2)"]

"""Administrative data against the survey (issue 19): the worked case of Mali 2017 (WUENIC's admin
numbers against the DHS 2018 survey) computed by hand, and the WHO DQR checks on series whose flags are
known; scipy's z-scores as the outside reference for the outliers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lqas.admin import (
    admin_zero_dose,
    completeness_flags,
    consistency_flags,
    coverage_flags,
    dropout_flags,
    outlier_flags,
    survey_admin,
)
from lqas.config.admin import load_thresholds
from lqas.errors import ConfigError

WHO = load_thresholds()


def test_mali_2017_survey_against_admin_as_computed_by_hand():
    # DTP1 800,938 and DTP3 676,044 doses for a target of 756,614 children (WUENIC 2017 admin numbers);
    # the DHS 2018 measured 82 % and 71 % (the interval here is illustrative: +-3 points)
    frame = pd.DataFrame({"area": "Mali", "dose": ["penta1", "penta3"], "doses": [800_938, 676_044],
                          "target": [756_614, 756_614], "estimate": [0.82, 0.71], "ci_low": [0.79, 0.68],
                          "ci_high": [0.85, 0.74]})
    out = survey_admin(frame, WHO).set_index("dose")
    # by hand: 800938 / 756614 = 1.05858, 676044 / 756614 = 0.89351
    assert round(100 * out.loc["penta1", "admin_coverage"], 1) == 105.9
    assert round(100 * out.loc["penta3", "admin_coverage"], 1) == 89.4
    # R = A / p: 1.05858 / 0.82 = 1.291, 0.89351 / 0.71 = 1.258
    assert round(out.loc["penta1", "ratio"], 2) == 1.29 and round(out.loc["penta3", "ratio"], 2) == 1.26
    assert out["over_100"].tolist() == [True, False]
    assert out["difference_flag"].tolist() == [True, True]  # 23.9 and 18.4 points apart: WUENIC's rule
    assert out["ratio_flag"].tolist() == [False, False]  # within 1 +- 0.33: the DQR's rule does not flag
    # the ratio's interval from the survey's: A / 0.85 ... A / 0.79
    assert out.loc["penta1", "ratio_ci_low"] == pytest.approx(800_938 / 756_614 / 0.85)
    assert out.loc["penta1", "ratio_ci_high"] == pytest.approx(800_938 / 756_614 / 0.79)
    # the target that would make the admin coverage the survey's: 800938 / 0.82 = 976,754
    assert round(out.loc["penta1", "implied_target"], -2) == 976_800
    assert out.loc["penta1", "implied_target_ci_low"] == pytest.approx(800_938 / 0.85)
    zero = admin_zero_dose(out.reset_index()).iloc[0]
    assert round(100 * zero["admin_zero_dose"], 1) == -5.9 and zero["zero_dose"] == pytest.approx(0.18)
    assert (zero["zero_dose_ci_low"], zero["zero_dose_ci_high"]) == pytest.approx((0.15, 0.21))


def test_a_rule_is_not_decided_without_its_numbers():
    frame = pd.DataFrame({"dose": ["penta1"], "doses": [10], "target": [0], "estimate": [0.5], "ci_low": [0.4],
                          "ci_high": [0.6]})
    out = survey_admin(frame, WHO).iloc[0]
    assert np.isnan(out["admin_coverage"]) and pd.isna(out["ratio_flag"]) and pd.isna(out["difference_flag"])


def test_outliers_are_the_dqr_z_scores_of_the_years_months():
    months = [f"2024{m:02d}" for m in range(1, 13)]
    values = [100, 104, 98, 101, 99, 103, 97, 100, 102, 96, 101, 180]  # December: a typing error
    moderate = [100] * 11 + [130]
    monthly = pd.DataFrame({"org_unit": ["a"] * 12 + ["b"] * 12, "data_element": "penta1", "year": 2024,
                            "period": months * 2, "value": values + moderate})
    flags = outlier_flags(monthly, WHO)
    z = flags[flags["check"] == "outlier_extreme"].reset_index(drop=True)
    expected = np.concatenate([stats.zscore(values, ddof=1), stats.zscore(moderate, ddof=1)])
    assert np.allclose(z["value"], expected)
    flagged = flags[flags["flag"] == True]  # a flag column holds None where not decided
    assert set(zip(flagged["check"], flagged["org_unit"], flagged["period"])) == {
        ("outlier_extreme", "a", "202412"),  # z = 3.15
        ("outlier_modified_z", "a", "202412"),
        ("outlier_extreme", "b", "202412"),  # 11 equal months and one apart: z = 11 / sqrt(12) = 3.18
        ("outlier_modified_z", "b", "202412"),  # MAD 0: any other value is infinitely far
    }
    assert stats.zscore(values, ddof=1)[-1] == pytest.approx(3.15, abs=0.01)
    # a moderate outlier alone: z between 2 and 3
    mild = pd.DataFrame({"org_unit": "c", "data_element": "penta1", "year": 2024, "period": months,
                         "value": [100, 110, 90, 105, 95, 100, 108, 92, 100, 104, 96, 130]})
    found = outlier_flags(mild, WHO)
    moderate_rows = found[(found["check"] == "outlier_moderate") & (found["flag"] == True)]
    assert moderate_rows["period"].tolist() == ["202412"]
    assert 2 <= stats.zscore(mild["value"], ddof=1)[-1] < 3


def test_consistency_over_time_against_the_mean_of_up_to_three_earlier_years():
    annual = pd.DataFrame({"org_unit": "a", "data_element": "penta1", "year": [2020, 2021, 2022, 2023, 2024],
                           "value": [100, 110, 90, 150, 60]})
    flags = consistency_flags(annual, WHO).set_index("period")
    assert "2020" not in flags.index  # nothing before it to judge it by
    assert flags.loc["2022", "reference"] == pytest.approx(105) and not flags.loc["2022", "flag"]
    assert flags.loc["2023", "value"] == pytest.approx(1.5) and flags.loc["2023", "flag"]  # 150 / mean(100, 110, 90)
    # 2024 against 2021-2023 only: 60 / 116.67 = 0.514
    assert flags.loc["2024", "reference"] == pytest.approx(350 / 3) and flags.loc["2024", "flag"]


def test_negative_dropout_coverage_above_100_and_year_on_year_swings():
    doses = pd.DataFrame({"org_unit": ["a", "a", "b", "b"], "period": "2024", "dose": ["penta1", "penta3"] * 2,
                          "value": [90, 100, 100, 80]})
    dropout = dropout_flags(doses).set_index("org_unit")
    assert dropout.loc["a", "flag"] and not dropout.loc["b", "flag"]
    assert dropout.loc["a", "value"] == pytest.approx(-10 / 90)
    coverage = pd.DataFrame({"org_unit": "a", "dose": "penta1", "year": [2022, 2023, 2025],
                             "admin_coverage": [0.95, 1.12, 0.90]})
    flags = coverage_flags(coverage, WHO)
    over = flags[flags["check"] == "coverage_over_100"].set_index("period")["flag"]
    assert over.to_dict() == {"2022": False, "2023": True, "2025": False}
    swing = flags[flags["check"] == "year_on_year_swing"].set_index("period")
    assert swing.loc["2023", "value"] == pytest.approx(0.17) and swing.loc["2023", "flag"] == True
    assert pd.isna(swing.loc["2025", "flag"])  # 2024 is missing: no swing from one year to the next


def test_completeness_and_timeliness_from_dhis2_reporting_rates():
    reports = pd.DataFrame({"metric": ["REPORTING_RATE", "REPORTING_RATE", "REPORTING_RATE_ON_TIME"],
                            "org_unit": ["a", "b", "a"], "data_element": "ds1", "period": "2024Q1",
                            "value": [95.0, 85.0, 75.0]})
    flags = completeness_flags(reports, WHO)
    assert flags[["check", "org_unit", "flag"]].values.tolist() == [
        ["completeness", "a", False], ["completeness", "b", True], ["timeliness", "a", True]]


def test_a_thresholds_file_is_validated(tmp_path):
    path = tmp_path / "dq.toml"
    path.write_text('[reference]\nsource = "ours"\n[survey]\ngap = "0.10"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dq.toml: key 'survey.gap'"):
        load_thresholds(path)
    path.write_text('[reference]\nsource = "ours"\n[coverage]\nabove = 1.05\n', encoding="utf-8")
    assert load_thresholds(path).coverage.above == 1.05 and load_thresholds(path).survey.gap == 0.10


def test_the_doses_counted_are_those_due_while_the_surveyed_cohort_was_of_age():
    from lqas.admin import due_window, window_sum

    start, end = due_window(dt.date(2025, 11, 1))
    # by hand: 1 Nov 2025 less 729 - 42 = 687 days, and less 365 - 42 = 323 days
    assert (start, end) == (dt.date(2023, 12, 15), dt.date(2024, 12, 13)) and (end - start).days == 364
    months = [f"{y}{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    doses = pd.DataFrame({"org_unit": "a", "period": months, "value": 31.0})
    found = window_sum(doses, start, end, ["org_unit"]).iloc[0]
    # December 2023 from the 15th (17 of 31 days), January to November 2024, December 2024 to the 13th
    assert found["value"] == pytest.approx(31 * (17 / 31 + 11 + 13 / 31))
    assert found["days"] == 365
    # a yearly target counts for its days in the window: 17 days of 2023 and 348 of 2024 (a leap year)
    targets = pd.DataFrame({"org_unit": "a", "period": ["2023", "2024"], "value": [3650.0, 3660.0]})
    assert window_sum(targets, start, end, ["org_unit"]).iloc[0]["value"] == pytest.approx(17 * 10 + 348 * 10)


@pytest.mark.parametrize("missing", [(), ("202406",)], ids=["every month", "June 2024 not reported"])
def test_triangulate_sets_each_units_doses_due_in_the_cohorts_window_against_its_survey_coverage(missing):
    from lqas.admin import triangulate
    from lqas.config.admin import AdminMapping
    from lqas.config.project import AdminConfig

    months = [f"{y}{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13) if f"{y}{m:02d}" not in missing]
    rows = []
    for org_unit in ("CSComA00001", "CSComA00002"):  # two facilities of area a, 10 and 20 Penta1 doses a month
        per_month = 10 if org_unit.endswith("1") else 20
        rows += [{"org_unit": org_unit, "data_element": "P1", "period": p, "value": per_month} for p in months]
        rows += [{"org_unit": org_unit, "data_element": "P3", "period": p, "value": per_month - 3} for p in months]
    rows += [{"org_unit": "CSComA00001", "data_element": "POP", "period": y, "value": 300.0} for y in ("2023", "2024")]
    rows += [{"org_unit": "Elsewhere01", "data_element": "P1", "period": "202401", "value": 5}]
    rows += [{"org_unit": "CSComA00001", "data_element": "BCG", "period": "202401", "value": 5}]
    long = pd.DataFrame(rows).assign(file="extract.csv", source_row=range(2, len(rows) + 2), data_element_name=None,
                                     category_option_combo=None, attribute_option_combo=None, org_unit_name=None,
                                     metric=None)
    long["value"] = long["value"].astype(float)
    mapping = AdminMapping(doses={"penta1": {"data_elements": ["P1"]}, "penta3": {"data_elements": ["P3"]}},
                           target={"data_elements": ["POP"]},
                           org_units={"CSComA00001": "a", "CSComA00002": "a"})
    settings = AdminConfig(files=["extract.csv"], mapping="m.toml")
    # two children interviewed on 1 November 2025 (the median), 12-23 months old
    table = pd.DataFrame({"catchment": "a", "cohort": "12-23m", "interview_date": ["2025-10-31", "2025-11-02"],
                          "weight": [1.0, 1.0]})
    estimates = pd.DataFrame({"indicator": ["penta1_crude", "penta3_crude"], "cohort": "12-23m", "catchment": "a",
                              "sex": "all", "n": 96, "estimate": [0.80, 0.70], "ci_low": [0.70, 0.60],
                              "ci_high": [0.88, 0.78]})
    found = triangulate(settings, mapping, WHO, long, table, estimates, cohort_days=(365, 729),
                        due_days={"penta1": 42, "penta3": 98})
    penta1 = found.comparison.set_index("dose").loc["penta1"]
    # due from 15 Dec 2023 to 13 Dec 2024 (test above): 30 doses a month over 365 days of whole months
    assert (penta1["window_start"], penta1["window_end"]) == ("2023-12-15", "2024-12-13")
    # two facilities report the same days: the window is covered once (365 days), not twice; a month not
    # reported leaves its days out of the doses and of the target alike
    assert penta1["days_covered"] == 365 - 30 * len(missing)
    assert penta1["doses"] == pytest.approx(30 * (17 / 31 + 11 + 13 / 31 - len(missing)))
    assert penta1["target"] == pytest.approx((300 * 17 / 365 + 300 * 348 / 366) * (365 - 30 * len(missing)) / 365)
    assert penta1["admin_coverage"] == pytest.approx(penta1["doses"] / penta1["target"]) and penta1["over_100"]
    assert penta1["estimate"] == 0.80 and penta1["ratio"] == pytest.approx(penta1["admin_coverage"] / 0.80)
    penta3 = found.comparison.set_index("dose").loc["penta3"]
    assert penta3["window_start"] == "2024-02-09"  # due at 14 weeks: 56 days after 15 December 2023
    assert found.zero_dose.iloc[0]["admin_zero_dose"] == pytest.approx(1 - penta1["admin_coverage"])
    # every row not used is counted, by reason
    assert dict(zip(found.unused["reason"], found.unused["rows"])) == {
        "org unit not in the mapping": 1, "data element not in the mapping": 1}
    # the extract's checks by survey unit: yearly coverage above 100 % (360 doses for 300 children)
    flags = found.flags.set_index(["check", "data_element", "period"])
    # (the year's doses as reported, as the DQR reads them)
    assert flags.loc[("coverage_over_100", "penta1", "2024"), "value"] == pytest.approx((360 - 30 * len(missing)) / 300)
    assert flags.loc[("coverage_over_100", "penta1", "2024"), "flag"]
    assert not flags.loc[("coverage_over_100", "penta3", "2024"), "flag"]  # (7 + 17) x 12 = 288 doses for 300
    assert not found.flags[found.flags["check"] == "negative_dropout"]["flag"].any()


def _extract_project(tmp_path, mapping_text=None):
    """The baseline example with an [admin] section: a dataValueSets CSV of its six areas (one facility
    each, Penta1 and Penta3 monthly 2023-2025, the surviving infants yearly) and its mapping."""
    import shutil
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline"
    project = tmp_path / "p"
    shutil.copytree(example, project, ignore=shutil.ignore_patterns("*.xlsx", "generate.py"))
    areas = ["bougouni_est", "kologo", "pelengana_nord", "cinzana_gare", "niono_central", "ndebougou"]
    lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value"]
    for i, area in enumerate(areas):
        facility = f"CSCom{i:06d}"
        for year in (2023, 2024, 2025):
            lines.append(f"SurvInfant0,{year},{facility},,,{1200 + 100 * i}")
            for month in range(1, 13):
                lines.append(f"Pnta1Given0,{year}{month:02d},{facility},,,{100 + 10 * i}")
                lines.append(f"Pnta3Given0,{year}{month:02d},{facility},,,{90 + 10 * i}")
    lines.append("Pnta1Given0,202401,UnknownOu01,,,7")
    (project / "data" / "dhis2.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (project / "dhis2_mapping.toml").write_text(mapping_text or (
        '[doses]\npenta1 = { data_elements = ["Pnta1Given0"] }\npenta3 = { data_elements = ["Pnta3Given0"] }\n'
        '[target]\ndata_elements = ["SurvInfant0"]\n[org_units]\n'
        + "".join(f'CSCom{i:06d} = "{area}"\n' for i, area in enumerate(areas))), encoding="utf-8")
    toml = project / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[admin]\nfiles = ["data/dhis2.csv"]\nmapping = "dhis2_mapping.toml"\n', encoding="utf-8")
    return toml


def test_a_run_sets_the_extract_against_the_survey_unit_by_unit(tmp_path):
    from lqas.config import load_project
    from lqas.outputs import project_inputs
    from lqas.run import analyse

    project = load_project(_extract_project(tmp_path))
    results = analyse(project)
    admin = results.admin.comparison.set_index(["catchment", "dose"])
    assert len(admin) == 12 and set(admin.index.get_level_values("dose")) == {"penta1", "penta3"}
    # whole months of a steady series: 12 months' doses over one year's target (a 365-day window)
    kologo = admin.loc[("kologo", "penta1")]
    assert kologo["doses"] == pytest.approx(110 * 12, rel=0.01) and kologo["days_covered"] == 365
    assert kologo["admin_coverage"] == pytest.approx(110 * 12 / 1300, rel=0.01)
    survey = results.estimates
    own = survey[(survey["indicator"] == "penta1_crude") & (survey["cohort"] == "12-23m")
                 & (survey["catchment"] == "kologo") & (survey["sex"] == "all") & (survey["area"] == "all")
                 & (survey["population_group"] == "all") & (survey["vaccination_status"] == "all")].iloc[0]
    assert kologo["estimate"] == own["estimate"] and kologo["ci_low"] == own["ci_low"]
    assert kologo["ratio"] == pytest.approx(kologo["admin_coverage"] / own["estimate"])
    assert results.admin.unused.to_dict("records") == [
        {"file": "data/dhis2.csv", "reason": "org unit not in the mapping", "rows": 1}]
    assert {"admin.1", "admin.mapping"} <= set(project_inputs(project))


def test_a_mapping_that_names_no_dose_is_one_line_naming_the_file(tmp_path):
    from lqas.config import load_project
    from lqas.run import analyse

    path = _extract_project(tmp_path, mapping_text='[doses]\n[org_units]\nA = "kologo"\n')
    with pytest.raises(ConfigError, match=r"dhis2_mapping.toml: key 'doses': must not be empty"):
        analyse(load_project(path))


@pytest.fixture(scope="module")
def extract_run(tmp_path_factory):
    """The baseline example with the dataValueSets extract of ``_extract_project``, analysed once."""
    from lqas.config import load_project
    from lqas.run import analyse

    project = load_project(_extract_project(tmp_path_factory.mktemp("extract")))
    return analyse(project)


def test_a_census_projection_gives_the_target_by_unit_and_year(tmp_path):
    from lqas.config import load_project
    from lqas.run import analyse

    toml = _extract_project(tmp_path)
    rows = ["catchment,year,target"] + [f"{area},{year},{1000 + 10 * (year - 2023)}"
                                        for area in ("bougouni_est", "kologo", "pelengana_nord", "cinzana_gare",
                                                     "niono_central", "ndebougou") for year in (2023, 2024, 2025)]
    (toml.parent / "data" / "census.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    toml.write_text(toml.read_text(encoding="utf-8") + 'targets = "census"\ncensus = "data/census.csv"\n',
                    encoding="utf-8")
    project = load_project(toml)
    results = analyse(project)
    row = results.admin.comparison.set_index(["catchment", "dose"]).loc[("kologo", "penta1")]
    start, end = dt.date.fromisoformat(row["window_start"]), dt.date.fromisoformat(row["window_end"])
    # each year's projection counted for its share of days in the window (2024 has 366 days)
    days_2023 = (dt.date(2023, 12, 31) - start).days + 1
    expected = 1000 * days_2023 / 365 + 1010 * (end - dt.date(2024, 1, 1)).days / 366 + 1010 / 366
    assert row["target"] == pytest.approx(expected)
    assert row["target_source"] == "census" and results.admin.target_source == "census"
    # the yearly coverage check reads the projection too: 110 x 12 Penta1 doses over 1,010 children in 2024
    flags = results.admin.flags.set_index(["check", "org_unit", "data_element", "period"])
    assert flags.loc[("coverage_over_100", "kologo", "penta1", "2024"), "value"] == pytest.approx(1320 / 1010)
    from lqas.outputs import project_inputs
    assert project_inputs(project)["admin.census"] == toml.parent / "data" / "census.csv"


def test_a_bad_census_row_is_one_line_naming_the_file_row_and_column(tmp_path):
    from lqas.admin import read_census
    from lqas.errors import InputError

    path = tmp_path / "census.csv"
    path.write_text("catchment,year,target\nkologo,2024,1000\nkologo,2025,beaucoup\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"census.csv: row 3, column 'target': must be a number, 0 or more; "
                                         r"got 'beaucoup'"):
        read_census(path, "catchment")
    path.write_text("catchment,year,target\nkologo,2024,1000\nkologo,2024,1100\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3: catchment kologo in 2024 is listed again \(first at row 2\)"):
        read_census(path, "catchment")
    path.write_text("aire,year,target\nkologo,2024,1000\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column missing: catchment"):
        read_census(path, "catchment")


def test_census_targets_need_their_file_and_a_file_needs_census_targets():
    from pydantic import ValidationError

    from lqas.config.project import AdminConfig

    with pytest.raises(ValidationError, match='targets = "census" needs the projection file'):
        AdminConfig(files=["x.json"], mapping="m.toml", targets="census")
    with pytest.raises(ValidationError, match='census is given but targets = "dhis2"'):
        AdminConfig(files=["x.json"], mapping="m.toml", census="c.csv")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_report_sets_admin_against_survey_coverage_with_the_rules_and_the_checks(extract_run, tmp_path, lang):
    from lqas.blocks import Heading, Table
    from lqas.context import report_context
    from lqas.sections import compose

    context = report_context(extract_run, lang, charts_dir=tmp_path / "charts")
    admin = context["admin"]
    assert (tmp_path / "charts" / "admin_vs_survey.svg").is_file() and context["charts"]["admin_vs_survey"]
    comparison = extract_run.admin.comparison.set_index(["catchment", "dose"])
    kologo = next(r for r in admin["rows"] if r["unit"] == "kologo" and r["dose"] == "penta1")
    assert kologo["admin_coverage"] == comparison.loc[("kologo", "penta1"), "admin_coverage"]
    assert kologo["over_100"] is True
    document = compose(context)
    blocks = document.blocks
    start = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.anchor == "admin")
    end = next(i for i, b in enumerate(blocks) if i > start and isinstance(b, Heading) and b.level == 1)
    tables = [b for b in blocks[start:end] if isinstance(b, Table)]
    title = {"en": "Administrative data (DHIS2) and the survey", "fr": "Données administratives (DHIS2) et enquête"}
    assert blocks[start].text == title[lang]
    comparison_table, target_table, checks_table = tables
    assert len(comparison_table.rows) == 12 and len(target_table.rows) == 6
    # each row's flags are the rules it breaks: Kologo's Penta1, 1,320 doses for 1,300, is above 100 %
    by_row = {(r.cells[0].lines[0], r.cells[1].lines[0]): r for r in comparison_table.rows}
    flags = by_row[("Kologo", "Penta 1")].cells[-1].lines
    assert flags[0].replace("\u00a0", " ").replace("\u202f", " ") in ("> 100%", "> 100 %")
    assert any(line == "WUENIC" for line in flags)
    # the checks table counts what dq_flags.csv flags
    judged = extract_run.admin.flags.dropna(subset=["flag"])
    over = judged[(judged["check"] == "coverage_over_100")]
    row = next(r for r in checks_table.rows if r.cells[0].lines[0] in (
        "Administrative coverage above 100%", "Couverture administrative supérieure à 100\u00a0%"))
    assert row.cells[3].lines[0] == str(int(over["flag"].astype(bool).sum()))
    assert row.cells[2].lines[0] == str(len(over))


def test_the_workbook_has_the_admin_sheets_in_the_language(extract_run):
    from lqas.workbook import workbook_sheets

    for lang, names, unit in (("en", ("Admin and survey coverage", "Admin data quality"), "Catchment area"),
                              ("fr", ("Couverture admin. et enquête", "Qualité des données admin."), "Aire de santé")):
        sheets = {sheet.name: sheet for sheet in workbook_sheets(extract_run, lang)}
        admin, quality = sheets[names[0]], sheets[names[1]]
        assert len(admin.frame) == len(extract_run.admin.comparison)
        assert admin.frame.columns[0] == unit and "Kologo" in set(admin.frame[unit])
        assert len(quality.frame) == len(extract_run.admin.flags)
        assert all(len(name) <= 31 for name in names)


def test_lqas_triangulate_writes_the_comparison_and_the_checks(tmp_path):
    import subprocess
    import sys

    toml = _extract_project(tmp_path)
    out = tmp_path / "tri"
    done = subprocess.run([sys.executable, "-m", "lqas", "triangulate", str(toml), "--out", str(out)],
                          capture_output=True, text=True, check=False,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    admin = pd.read_csv(out / "admin.csv")
    assert len(admin) == 12 and {"admin_coverage", "implied_target", "ratio_flag"} <= set(admin.columns)
    assert (out / "dq_flags.csv").is_file() and len(pd.read_csv(out / "admin_unused.csv")) == 1
    assert "kologo" in done.stdout and "coverage_over_100" in done.stdout
    # a project without [admin]: one line, exit 2
    plain = tmp_path / "p" / "plain.toml"
    plain.write_text(toml.read_text(encoding="utf-8").split("\n[admin]")[0], encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "lqas", "triangulate", str(plain), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "plain.toml: key 'admin': the project has no [admin] table" in done.stderr


def test_reporting_rates_of_an_area_are_recomputed_or_averaged_never_summed():
    from lqas.admin import _summed, same_antigen_pairs

    base = {"data_element": "DS.REPORTING_RATE", "data_element_name": None, "category_option_combo": None,
            "attribute_option_combo": None, "period": "2025Q1", "org_unit": "a", "org_unit_name": None,
            "file": "x"}
    rows = [{**base, "metric": "REPORTING_RATE", "value": 100.0, "source_row": 2},
            {**base, "metric": "REPORTING_RATE", "value": 50.0, "source_row": 3}]
    summed = _summed(pd.DataFrame(rows))
    assert summed["value"].tolist() == [75.0]  # two facilities, no counts: their mean
    counts = [{**base, "data_element": "DS", "metric": metric, "value": value, "source_row": 10 + i}
              for i, (metric, value) in enumerate([("ACTUAL_REPORTS", 3.0), ("EXPECTED_REPORTS", 3.0),
                                                   ("ACTUAL_REPORTS", 1.0), ("EXPECTED_REPORTS", 3.0)])]
    rates = [{**row, "data_element": "DS"} for row in rows]
    summed = _summed(pd.DataFrame(rates + counts)).set_index("metric")
    # with the counts: 100 x (3 + 1) / (3 + 3)
    assert summed.loc["REPORTING_RATE", "value"] == pytest.approx(400 / 6)
    assert summed.loc["ACTUAL_REPORTS", "value"] == 4 and summed.loc["EXPECTED_REPORTS", "value"] == 6
    # negative dropout only within an antigen's series
    assert same_antigen_pairs([("penta1", "penta3"), ("penta1", "mr1"), ("mr1", "mr2")]) == [
        ("penta1", "penta3"), ("mr1", "mr2")]

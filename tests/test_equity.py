"""Gender and equity: vaccination status (lqas.vaccination), gender indicators (lqas.gender), BeSD
cross-tabs (lqas.estimate), the gender & equity scorecard (lqas.scorecard) and its report view (lqas.context).

Also covers the BeSD helpers these rely on (lqas.besd.recode_item, priority_indicators,
multiselect_summary). Reference numbers: hand calculations and R survey (tests/oracles/besd_crosstab.R).
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lqas.scorecard
from lqas.besd import multiselect_summary, priority_indicators, recode_item
from lqas.config import load_scorecard_config
from lqas.context import equity_labels, scorecard_context
from lqas.design import ESTIMATE_COLUMNS, SurveyDesign
from lqas.errors import ConfigError, InputError
from lqas.estimate import CROSSTAB_COLUMNS, DEFAULT_DIMENSIONS, besd_crosstabs
from lqas.gender import derive_gender
from lqas.indicators import gender_indicators
from lqas.scorecard import (
    LIGHTS,
    SCORECARD_COLUMNS,
    gap_light,
    girls_first,
    level_light,
    scorecard,
)
from lqas.vaccination import vaccination_status

ORACLE = Path(__file__).parent / "oracles" / "besd_crosstab.R"
DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline" / "survey.toml"
PRIORITY = ["besd_confb", "besd_normf", "besd_intent", "besd_where", "besd_afford"]


needs_r = pytest.mark.usefixtures("r_survey")  # tests/conftest.py: skip, or fail under LQAS_REQUIRE_ORACLES


@pytest.fixture(scope="module")
def demo():
    """The synthetic Mali baseline child table (vaccination status and gender indicators included)."""
    from lqas import derive_project, load_project

    return derive_project(load_project(DEMO)).table


@pytest.fixture(scope="module")
def demo_design(demo):
    return SurveyDesign(demo, strata="catchment", psu="cluster", weight="weight")


@pytest.fixture
def tiny():
    """8 children, one stratum, 4 PSUs, unequal weights: 3 zero-dose, 2 under-immunized, 3 Penta3."""
    return pd.DataFrame({
        "psu": ["a", "b", "c", "a", "b", "c", "d", "d"],
        "weight": [2.0, 1.0, 3.0, 1.0, 1.0, 2.0, 2.0, 4.0],
        "zero_dose": [1, 1, 1, 0, 0, 0, 0, 0],
        "ui_dtp1_not_dtp3": [0, 0, 0, 1, 1, 0, 0, 0],
        "besd_confb": [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
    })


# --- vaccination status ------------------------------------------------------------------------


def test_vaccination_status_hand_rows():
    table = pd.DataFrame({"zero_dose": [1, 0, 0, np.nan, 0, 1],
                          "ui_dtp1_not_dtp3": [0, 1, 0, np.nan, np.nan, np.nan]})
    status = vaccination_status(table)
    assert status.name == "vaccination_status"
    assert status.tolist()[:3] == ["zero_dose", "under_immunized", "penta3"]
    # no Penta data, or zero-dose 0 with UI unknown: outside the partition; zero-dose 1 is enough
    assert pd.isna(status.iloc[3]) and pd.isna(status.iloc[4]) and status.iloc[5] == "zero_dose"


def test_vaccination_status_partitions_children_with_penta_data(demo):
    status = vaccination_status(demo)
    with_penta = demo["penta1_crude"].notna() & demo["penta3_crude"].notna()
    counts = status.value_counts()
    assert counts["zero_dose"] + counts["under_immunized"] + counts["penta3"] == with_penta.sum()
    assert set(status.dropna()) == {"zero_dose", "under_immunized", "penta3"}
    assert (status.eq("zero_dose") == demo["penta1_crude"].eq(0)).all()
    assert (status.eq("under_immunized") == (demo["penta1_crude"].eq(1) & demo["penta3_crude"].eq(0))).all()
    assert (status.eq("penta3") == demo["penta3_crude"].eq(1)).all()  # later dose implies earlier


def test_vaccination_status_missing_column_names_it():
    with pytest.raises(InputError, match="column ui_dtp1_not_dtp3 missing from the child table"):
        vaccination_status(pd.DataFrame({"zero_dose": [1]}))


# --- gender indicators -------------------------------------------------------------------------


def test_mother_needs_permission_from_chi_travel():
    table = pd.DataFrame({"CHI_travel": ["1", "0", "", None, 1, 0]}, dtype=object)
    assert derive_gender(table)["mother_needs_permission"].tolist()[:2] == [1.0, 0.0]
    out = derive_gender(table)["mother_needs_permission"]
    assert out.isna().tolist() == [False, False, True, True, False, False]
    assert out.iloc[4] == 1.0 and out.iloc[5] == 0.0


def test_mother_needs_permission_yes1_no2_and_not_eligible():
    table = pd.DataFrame({"CHI_consent": [1, 1, 1, 2], "CHI_travel": [1, 2, 98, 1]})
    out = derive_gender(table, coding="yes1-no2")["mother_needs_permission"]
    assert out.iloc[0] == 1.0 and out.iloc[1] == 0.0
    assert np.isnan(out.iloc[2]) and np.isnan(out.iloc[3])  # non-answer code; no consent


def test_mother_needs_permission_differs_from_besd_travel_on_missing():
    # besd_travel keeps a missing answer in the BeSD-TI ALL denominator as 0; the equity indicator drops it
    from lqas.besd import derive_besd

    table = pd.DataFrame({"CHI_travel": [1, 0, np.nan]})
    assert derive_besd(table)["besd_travel"].tolist() == [0.0, 1.0, 0.0]
    assert derive_gender(table)["mother_needs_permission"].isna().tolist() == [False, False, True]


def test_mother_decides_vaccination_mother_or_both():
    table = pd.DataFrame({"decides_vaccination": ["mother", "both", "father", "grandparent", "other", None,
                                                  " Mother "]})
    out = derive_gender(table)["mother_decides_vaccination"]
    assert out.tolist()[:5] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert np.isnan(out.iloc[5]) and out.iloc[6] == 1.0


def test_mother_decides_vaccination_unknown_answer_warns_and_is_missing():
    table = pd.DataFrame({"decides_vaccination": ["mother", "neighbour"]})
    with pytest.warns(UserWarning, match=r"mother_decides_vaccination: 1 answer\(s\) in 'decides_vaccination'.*"
                                         r"row 1: got 'neighbour'"):
        out = derive_gender(table)["mother_decides_vaccination"]
    assert out.iloc[0] == 1.0 and np.isnan(out.iloc[1])


def test_derive_gender_only_columns_whose_source_is_present():
    out = derive_gender(pd.DataFrame({"decides_vaccination": ["mother"], "zero_dose": [1.0]}))
    assert list(out.columns) == ["mother_decides_vaccination"]
    assert list(derive_gender(pd.DataFrame({"x": [1]})).columns) == []


def test_equity_indicators_defined_in_toml_with_labels_and_direction():
    registry = gender_indicators()
    assert set(registry) == {"mother_needs_permission", "mother_decides_vaccination"}
    assert registry["mother_needs_permission"].direction == "lower"
    assert registry["mother_decides_vaccination"].direction == "higher"
    for indicator in registry.values():
        assert indicator.label_en and indicator.label_fr and indicator.definition
        assert "besd.md §5.4" in indicator.spec
    assert registry["mother_needs_permission"].label("fr").startswith("% de parents/soignants")


# --- BeSD helpers used here --------------------------------------------------------------------


def test_priority_indicators_in_besd_ti_plot_order():
    assert priority_indicators() == PRIORITY


def test_recode_item_keeps_missing_and_unknown_as_nan():
    out = recode_item(pd.DataFrame({"CHI_confb": [4, "", 7, 1]}), "CHI_confb")
    assert out.iloc[0] == 4 and out.iloc[3] == 1 and out.iloc[1:3].isna().all()


def test_recode_item_unknown_item_raises():
    with pytest.raises(ConfigError, match="unknown BeSD item 'CHI_nope'"):
        recode_item(pd.DataFrame({"CHI_nope": [1]}), "CHI_nope")


def test_multiselect_summary_counts_each_problem():
    data = pd.DataFrame({"CHI_lowacnoth": [1, 1, 0, 0, np.nan], "CHI_lowachard": [0, 1, 0, 1, np.nan],
                         "CHI_lowacpermission": [0, 1, 0, 0, np.nan],
                         "CHI_qualinoth": [1, 1, 1, 1, 1]})
    out = multiselect_summary(data)
    assert list(out.columns) == ["item", "problem", "count"]
    got = {(r.item, r.problem): r.count for r in out.itertuples()}
    # row 1 clashes; row 2 answered with nothing chosen; row 4 was not asked
    assert got == {("CHI_lowac", "exclusive_with_other"): 1, ("CHI_lowac", "no_option"): 1,
                   ("CHI_quali", "exclusive_with_other"): 0, ("CHI_quali", "no_option"): 0}


def test_multiselect_summary_demo_is_clean(demo):
    out = multiselect_summary(demo)
    assert len(out) == 4 and out["count"].eq(0).all()


# --- cross-tabulation --------------------------------------------------------------------------


def test_crosstabs_schema_and_hand_weighted_proportion(tiny):
    table = tiny.assign(vaccination_status=vaccination_status(tiny))
    design = SurveyDesign(table, psu="psu", weight="weight")
    out = besd_crosstabs(design, ["besd_confb"], ["vaccination_status", "sex"])
    assert list(out.columns) == CROSSTAB_COLUMNS
    assert list(zip(out["dimension"], out["group"])) == [
        ("all", "all"), ("vaccination_status", "zero_dose"), ("vaccination_status", "under_immunized"),
        ("vaccination_status", "penta3"), ("sex", "F"), ("sex", "M")]
    by = out.set_index("group")
    # zero-dose: weights 2, 1, 3 with besd_confb 1, 0, 0 -> 2 / 6
    assert by.loc["zero_dose", "estimate"] == pytest.approx(1 / 3, rel=1e-12)
    assert by.loc["zero_dose", "n"] == 3 and by.loc["zero_dose", "n_weighted"] == pytest.approx(6.0)
    # linearized PSU totals w(y - p)/W: a 2/9, b -1/18, c -1/6, d 0 (mean 0) -> var = 4/3 * 26/324
    assert by.loc["zero_dose", "se"] == pytest.approx(math.sqrt(4 / 3 * 26 / 324), rel=1e-12)
    assert by.loc["under_immunized", "estimate"] == pytest.approx(1.0)
    assert by.loc["penta3", "estimate"] == pytest.approx(4 / 8)
    assert by.loc["all", "estimate"] == pytest.approx(8 / 16)
    # girls: weights 2, 3, 1, 2 with 1, 0, 1, 1 -> 5 / 8
    assert by.loc["F", "estimate"] == pytest.approx(5 / 8)


def test_crosstabs_missing_status_is_its_own_group(tiny):
    tiny.loc[7, ["zero_dose", "ui_dtp1_not_dtp3"]] = np.nan
    table = tiny.assign(vaccination_status=vaccination_status(tiny))
    out = besd_crosstabs(SurveyDesign(table, psu="psu", weight="weight"), ["besd_confb"], ["vaccination_status"],
                         overall=False)
    assert out["group"].tolist() == ["zero_dose", "under_immunized", "penta3", "missing"]
    assert out["n"].tolist() == [3, 2, 2, 1]


def test_crosstabs_explicit_missing_dimension_raises(tiny):
    design = SurveyDesign(tiny, psu="psu", weight="weight")
    with pytest.raises(InputError, match="dimension column vaccination_status is not in the design data"):
        besd_crosstabs(design, ["besd_confb"], ["vaccination_status"])


def test_crosstabs_default_dimensions_skip_absent_with_warning(tiny):
    table = tiny.assign(vaccination_status=vaccination_status(tiny))
    with pytest.warns(UserWarning, match="no column caretaker_sex, caretaker_relationship, cohort, catchment, area"):
        out = besd_crosstabs(SurveyDesign(table, psu="psu", weight="weight"), ["besd_confb"])
    assert list(dict.fromkeys(out["dimension"])) == ["all", "vaccination_status", "sex"]


@needs_r
def test_crosstab_se_matches_r_svyby(demo, demo_design, tmp_path):
    # R: svyby(~besd_confb, ~vaccination_status, svydesign(ids=~cluster, strata=~catchment,
    #          weights=~weight), svymean, na.rm=TRUE)  -- tests/oracles/besd_crosstab.R
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    demo[["catchment", "cluster", "weight", "vaccination_status", "besd_confb"]].to_csv(source, index=False,
                                                                                         na_rep="NA")
    subprocess.run(["Rscript", str(ORACLE), str(source), str(target)], check=True, capture_output=True)
    expected = pd.read_csv(target).set_index("group")
    ours = besd_crosstabs(demo_design, ["besd_confb"], ["vaccination_status"], overall=False).set_index("group")
    assert sorted(expected.index) == sorted(ours.index)
    for group in expected.index:
        assert ours.loc[group, "estimate"] == pytest.approx(expected.loc[group, "estimate"], rel=1e-10)
        assert ours.loc[group, "se"] == pytest.approx(expected.loc[group, "se"], rel=1e-8)


def test_crosstabs_demo_priority_indicators_all_dimensions(demo, demo_design):
    out = besd_crosstabs(demo_design, priority_indicators())
    groups = sum(demo[d].nunique() for d in DEFAULT_DIMENSIONS)  # 3 + 2 + 2 + 5 + 2 + 6 + 2
    assert groups == 22
    assert out.shape == (5 * (1 + groups), len(CROSSTAB_COLUMNS))
    assert list(dict.fromkeys(out["indicator"])) == PRIORITY
    assert list(dict.fromkeys(out["dimension"])) == ["all", *DEFAULT_DIMENSIONS]
    assert out[ESTIMATE_COLUMNS[:6]].notna().all().all()
    where = out[(out["indicator"] == "besd_where") & (out["dimension"] == "vaccination_status")].set_index("group")
    # the synthetic generator makes knowing where to vaccinate depend on the child being vaccinated
    assert where.loc["zero_dose", "estimate"] < where.loc["penta3", "estimate"]
    assert where.loc["zero_dose", "ci_high"] < where.loc["penta3", "ci_low"]


# --- scorecard: rules ----------------------------------------------------------------------------


def test_scorecard_rules_load_from_toml_with_en_fr_text():
    config = load_scorecard_config()
    assert set(config["rules"]) == {"sex_gap", "mother_needs_permission", "mother_decides_vaccination",
                                    "gender_barrier"}
    gap = config["rules"]["sex_gap"]
    assert (gap["red_p_below"], gap["red_gap_against_girls_at_least"]) == (0.05, 0.10)
    assert (gap["amber_abs_difference_at_least"], gap["amber_p_below"], gap["min_n"]) == (0.05, 0.10, 25)
    assert "10 percentage points" in gap["text_en"] and "10 points de pourcentage" in gap["text_fr"]
    for rule in config["rules"].values():
        assert rule["text_en"].startswith("Red:") and rule["text_fr"].startswith("Rouge :")
    fr = equity_labels("fr")
    assert fr["light"] == {"green": "Vert", "amber": "Orange", "red": "Rouge", "grey": "Non évalué"}
    assert fr["rule"]["mother_needs_permission"].startswith("Rouge : 50 %")
    assert equity_labels("en")["row"]["sex_gap_mr1"] == "MR1 coverage (12–23 months): girls − boys"
    assert [r["id"] for r in config["scorecard"]["rows"]] == [
        "sex_gap_penta1", "sex_gap_penta3", "sex_gap_mr1", "sex_gap_zero_dose", "sex_gap_under_immunized",
        "mother_needs_permission", "mother_decides_vaccination", "any_gender_barrier"]


def test_scorecard_config_validation_names_the_rule(tmp_path):
    text = (Path(lqas.scorecard.__file__).parent / "data" / "equity.toml").read_text(encoding="utf-8")
    broken = tmp_path / "equity.toml"
    broken.write_text(text.replace("red_at_or_above = 0.50", "red_at_or_above = 0.20"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'rules.mother_needs_permission': the red threshold must be at least "
                                          "as strict as the amber one"):
        load_scorecard_config(broken)


GAP = load_scorecard_config()["rules"]["sex_gap"]


@pytest.mark.parametrize("difference, p_value, lower, expected", [
    (-0.12, 0.01, False, ("red", "gap_against_girls_significant")),
    (0.12, 0.01, True, ("red", "gap_against_girls_significant")),     # girls more often zero-dose
    (0.12, 0.01, False, ("amber", "gap_size")),                       # boys worse off: at most amber
    (-0.12, 0.20, False, ("amber", "gap_size")),                      # large but not significant
    (-0.03, 0.08, False, ("amber", "gap_p_value")),
    (-0.01, 0.50, False, ("green", "within_thresholds")),
    # boundaries: >= on the gap, strict < on p
    (-0.10, 0.049, False, ("red", "gap_against_girls_significant")),
    (0.45 - 0.55, 0.049, False, ("red", "gap_against_girls_significant")),  # 0.0999999... is 10 points
    (-0.0999, 0.049, False, ("amber", "gap_size")),
    (-0.20, 0.05, False, ("amber", "gap_size")),
    (-0.05, 0.50, False, ("amber", "gap_size")),
    (-0.0499, 0.50, False, ("green", "within_thresholds")),
    (-0.01, 0.10, False, ("green", "within_thresholds")),
    (-0.01, 0.0999, False, ("amber", "gap_p_value")),
], ids=["red-coverage", "red-zd", "boys-amber", "amber-size-ns", "amber-p", "green", "red-at-10", "red-float-10",
        "amber-below-10", "amber-p-at-5", "amber-at-5", "green-below-5", "green-p-at-10", "amber-p-below-10"])
def test_gap_light_rule_and_boundaries(difference, p_value, lower, expected):
    assert gap_light(difference, p_value, 60, 60, lower, GAP) == expected


def test_gap_light_grey_when_too_few_or_missing():
    assert gap_light(-0.3, 0.001, 24, 60, False, GAP) == ("grey", "too_few")
    assert gap_light(-0.3, 0.001, 25, 60, False, GAP)[0] == "red"
    assert gap_light(np.nan, 0.001, 60, 60, False, GAP) == ("grey", "no_estimate")
    assert gap_light(-0.3, np.nan, 60, 60, False, GAP) == ("grey", "no_estimate")


RULES = load_scorecard_config()["rules"]


@pytest.mark.parametrize("rule, estimate, light", [
    ("mother_needs_permission", 0.50, "red"), ("mother_needs_permission", 0.4999, "amber"),
    ("mother_needs_permission", 0.25, "amber"), ("mother_needs_permission", 0.2499, "green"),
    ("mother_decides_vaccination", 0.2499, "red"), ("mother_decides_vaccination", 0.25, "amber"),
    ("mother_decides_vaccination", 0.4999, "amber"), ("mother_decides_vaccination", 0.50, "green"),
    ("gender_barrier", 0.20, "red"), ("gender_barrier", 0.1999, "amber"),
    ("gender_barrier", 0.10, "amber"), ("gender_barrier", 0.0999, "green"),
], ids=lambda value: str(value))
def test_level_light_thresholds_at_the_boundary(rule, estimate, light):
    assert level_light(estimate, 100, RULES[rule])[0] == light


def test_level_light_grey_below_min_n():
    assert level_light(0.9, 24, RULES["mother_needs_permission"]) == ("grey", "too_few")
    assert level_light(0.9, 25, RULES["mother_needs_permission"])[0] == "red"
    assert level_light(np.nan, 100, RULES["gender_barrier"]) == ("grey", "no_estimate")


# --- scorecard: frame ----------------------------------------------------------------------------


def _comparison(indicator, catchment, difference, p_value, *, n=(80, 90), girls=0.5, **domains):
    boys = girls - difference
    return {"indicator": indicator, "catchment": catchment, **domains, "group_a": "F", "group_b": "M",
            "n_a": n[0], "n_b": n[1], "estimate_a": girls, "estimate_b": boys, "difference": difference,
            "difference_se": 0.03, "difference_ci_low": difference - 0.06, "difference_ci_high": difference + 0.06,
            "ratio": girls / boys, "ratio_ci_low": girls / boys - 0.1, "ratio_ci_high": girls / boys + 0.1,
            "f_statistic": 4.0, "df_num": 1.0, "df_den": 30.0, "p_value": p_value,
            "disadvantaged": "F" if difference < 0 else "M"}


def _level(indicator, catchment, estimate, n=150):
    return {"indicator": indicator, "catchment": catchment, "n": n, "n_weighted": n * 10.0, "estimate": estimate,
            "se": 0.03, "ci_low": estimate - 0.05, "ci_high": estimate + 0.05}


@pytest.fixture
def comparisons():
    rows = []
    for catchment, shift, p_value in (("kologo", -0.12, 0.01), ("niono_central", -0.01, 0.6), ("all", -0.06, 0.01)):
        rows += [_comparison("penta1_crude", catchment, shift, p_value),
                 _comparison("penta3_crude", catchment, -0.03, 0.08),
                 _comparison("zero_dose", catchment, 0.12, 0.02),
                 _comparison("ui_dtp1_not_dtp3", catchment, 0.0, 0.9, n=(10, 12))]
    return pd.DataFrame(rows)


@pytest.fixture
def levels():
    rows = []
    for catchment, permission in (("kologo", 0.62), ("niono_central", 0.20), ("all", 0.40)):
        rows += [_level("mother_needs_permission", catchment, permission),
                 _level("mother_decides_vaccination", catchment, 0.45),
                 _level("besd_lowac_any_gender_barrier", catchment, 0.05)]
    return pd.DataFrame(rows)


def test_scorecard_lights_on_hand_made_comparisons(comparisons, levels):
    card = scorecard(comparisons, levels)
    assert list(card.columns) == ["catchment", *SCORECARD_COLUMNS]
    assert list(dict.fromkeys(card["catchment"])) == ["kologo", "niono_central", "all"]
    lights = card.set_index(["catchment", "row"])["light"]
    assert lights["kologo", "sex_gap_penta1"] == "red"
    assert lights["niono_central", "sex_gap_penta1"] == "green"
    assert lights["all", "sex_gap_penta1"] == "amber"
    assert lights["kologo", "sex_gap_penta3"] == "amber"           # p = 0.08
    assert lights["kologo", "sex_gap_zero_dose"] == "red"           # girls 12 points more often zero-dose
    assert lights["kologo", "sex_gap_under_immunized"] == "grey"    # 10 girls, 12 boys
    assert lights["kologo", "mother_needs_permission"] == "red"
    assert lights["niono_central", "mother_needs_permission"] == "green"
    assert lights["all", "mother_decides_vaccination"] == "amber"
    assert lights["all", "any_gender_barrier"] == "green"
    assert set(card["light"]) == set(LIGHTS)
    # MR1 is not in the comparisons: its row is left out, not greyed
    assert "sex_gap_mr1" not in set(card["row"])
    assert len(card) == 3 * 7
    gap = card[card["kind"] == "sex_gap"]
    assert gap[["n", "estimate"]].isna().all().all() and gap["difference"].notna().all()
    level = card[card["kind"] == "level"]
    assert level[["difference", "p_value"]].isna().all().all() and level["estimate"].notna().all()


def test_scorecard_orients_boys_first_rows_as_girls_minus_boys(comparisons):
    row = comparisons.iloc[0].copy()  # kologo penta1: girls 0.50, boys 0.62, D = -0.12
    flipped = row.copy()
    for a, b in (("group_a", "group_b"), ("n_a", "n_b"), ("estimate_a", "estimate_b")):
        flipped[a], flipped[b] = row[b], row[a]
    flipped["difference"] = 0.12
    flipped["difference_ci_low"], flipped["difference_ci_high"] = 0.06, 0.18
    flipped["ratio"], flipped["ratio_ci_low"], flipped["ratio_ci_high"] = 1.24, 1.1, 1.4
    out = girls_first(pd.DataFrame([flipped]))
    assert (out.loc[0, "group_a"], out.loc[0, "n_a"], out.loc[0, "estimate_a"]) == ("F", 80, 0.5)
    assert out.loc[0, "difference"] == pytest.approx(-0.12)
    assert (out.loc[0, "difference_ci_low"], out.loc[0, "difference_ci_high"]) == pytest.approx((-0.18, -0.06))
    assert out.loc[0, "ratio"] == pytest.approx(1 / 1.24)
    assert (out.loc[0, "ratio_ci_low"], out.loc[0, "ratio_ci_high"]) == pytest.approx((1 / 1.4, 1 / 1.1))
    card = scorecard(pd.DataFrame([flipped]), None)
    assert card.loc[card["catchment"] == "kologo", "light"].item() == "red"


def test_girls_first_rejects_other_groups(comparisons):
    comparisons.loc[0, "group_b"] = "X"
    with pytest.raises(InputError, match="expected girls \\('F'\\) versus boys \\('M'\\); row 0 compares 'F' with 'X'"):
        girls_first(comparisons)


def test_scorecard_mr1_uses_its_cohort_filter_and_margins_elsewhere():
    rows = [_comparison("mr1_crude", "all", -0.20, 0.001, cohort="12-23m"),
            _comparison("mr1_crude", "all", -0.01, 0.9, cohort="all"),
            _comparison("penta3_crude", "all", -0.20, 0.001, cohort="18w-11m"),
            _comparison("penta3_crude", "all", -0.01, 0.9, cohort="all")]
    card = scorecard(pd.DataFrame(rows), None).set_index("row")
    assert card.loc["sex_gap_mr1", "light"] == "red" and card.loc["sex_gap_mr1", "difference"] == -0.20
    assert card.loc["sex_gap_penta3", "light"] == "green"


def test_scorecard_without_unit_column_is_the_whole_survey(levels):
    only_all = levels[levels["catchment"] == "all"].drop(columns="catchment")
    card = scorecard(None, only_all)
    assert card["catchment"].tolist() == ["all"] * 3
    assert card["light"].tolist() == ["amber", "amber", "green"]


def test_scorecard_missing_domain_is_grey(levels):
    card = scorecard(None, levels[~((levels["catchment"] == "kologo")
                                    & (levels["indicator"] == "mother_needs_permission"))])
    row = card[(card["catchment"] == "kologo") & (card["row"] == "mother_needs_permission")]
    assert row[["light", "reason"]].values.tolist() == [["grey", "no_estimate"]]


def test_scorecard_duplicate_rows_for_a_domain_raise(levels):
    twice = pd.concat([levels, levels.iloc[[0]].assign(area="rural")], ignore_index=True)
    with pytest.raises(InputError, match="scorecard: 2 rows for indicator 'mother_needs_permission' in catchment "
                                         "'kologo'; expected one"):
        scorecard(None, twice)


def test_scorecard_custom_rules_are_data(comparisons, levels):
    config = load_scorecard_config()
    config["rules"]["sex_gap"] = {**config["rules"]["sex_gap"], "red_gap_against_girls_at_least": 0.15}
    lights = scorecard(comparisons, levels, config).set_index(["catchment", "row"])["light"]
    assert lights["kologo", "sex_gap_penta1"] == "amber"


# --- the scorecard of a run ------------------------------------------------------------------------


def test_scorecard_of_the_demo_run_uses_the_runs_comparisons_and_estimates(demo_design):
    from lqas import analyse, load_project

    results = analyse(load_project(DEMO))
    card = results.scorecard
    assert list(dict.fromkeys(card["catchment"]))[-1] == "all"
    assert card["catchment"].nunique() == 7 and len(card) == 7 * 8
    assert set(card["light"]) <= set(LIGHTS)
    gap = card[card["kind"] == "sex_gap"]
    assert (gap["group_a"] == "F").all() and gap["p_value"].between(0, 1).all()
    # the synthetic generator shifts girls' access in two catchments only
    assert set(gap.loc[gap["light"] == "red", "catchment"]) == {"kologo", "ndebougou"}
    # the scorecard passes the design's own numbers through unchanged: a design built apart
    # from the run gives the same comparison
    direct = demo_design.compare("penta1_crude", group="sex", by=["catchment"])
    direct = direct[direct["catchment"] == "kologo"].iloc[0]
    row = card[(card["catchment"] == "kologo") & (card["row"] == "sex_gap_penta1")].iloc[0]
    for column in ("estimate_a", "estimate_b", "difference", "ratio", "p_value"):
        assert row[column] == pytest.approx(direct[column], rel=1e-12)
    # level rows read the run's estimates: the all-cohort, all-sex cell of the catchment
    level = card[(card["catchment"] == "kologo") & (card["row"] == "mother_needs_permission")].iloc[0]
    estimates = results.estimates
    cell = estimates[(estimates["indicator"] == "mother_needs_permission") & (estimates["catchment"] == "kologo")
                     & (estimates["cohort"] == "all") & (estimates["sex"] == "all")].iloc[0]
    assert (level["estimate"], level["n"]) == (cell["estimate"], cell["n"])


def test_scorecard_context_for_the_report(comparisons, levels):
    card = scorecard(comparisons, levels)
    context = scorecard_context(card, "fr", unit_labels={"kologo": "Kologo", "niono_central": "Niono Central"})
    assert [b["label"] for b in context["blocks"]] == ["Kologo", "Niono Central", "Ensemble"]
    first = context["blocks"][0]
    # Kologo's zero-dose gap (red) mirrors its Penta1 gap (red): one signal, counted once
    assert first["counts"] == {"green": 1, "amber": 2, "red": 2, "grey": 1}
    assert context["mirrors"] == [{"row": "Zéro dose : filles − garçons", "of": "Couverture Penta1 : filles − garçons"}]
    row = first["rows"][0]
    assert (row["label"], row["light_label"]) == ("Couverture Penta1 : filles − garçons", "Rouge")
    assert row["estimate"] is None and row["difference"] == pytest.approx(-0.12)
    assert [r["id"] for r in context["rules"]] == ["sex_gap", "mother_needs_permission",
                                                   "mother_decides_vaccination", "gender_barrier"]
    assert context["rules"][0]["text"].startswith("Rouge : les filles")

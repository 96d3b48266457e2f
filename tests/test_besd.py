"""Tests for lqas.besd: BeSD item dichotomisation (BeSD-TI rules) and multi-select checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED, require_shared

from lqas.besd import check_multiselect, derive_besd, load_besd_registry
from lqas.errors import ConfigError

BESD_DIR = SHARED / "vcqi-data" / "besd"
CHILD_FILE = BESD_DIR / "BeSD_Child_Data_Faux_2024-12-13.csv"
CM_FILE = BESD_DIR / "BeSD_CM_Data_Faux_2024-12-13.csv"

FOUR_POINT = ["CHI_confb", "CHI_confs", "CHI_confh", "CHI_afford", "CHI_access", "CHI_satis"]
YES_FAVOURABLE = ["CHI_normp", "CHI_normf", "CHI_normr", "CHI_normc", "CHI_rechcw", "CHI_recall",
                  "CHI_where", "CHI_tookc"]
NO_FAVOURABLE = ["CHI_travel", "CHI_avail"]
PRIORITY = ["besd_confb", "besd_normf", "besd_intent", "besd_where", "besd_afford"]


def _indicator(item: str) -> str:
    return "besd_" + item.removeprefix("CHI_").lower()


# --- registry ---------------------------------------------------------------------------------


def test_registry_core_items_and_names():
    items = load_besd_registry()["items"]
    expected = ["CHI_intent", *FOUR_POINT, *YES_FAVOURABLE, *NO_FAVOURABLE]
    assert sorted(items) == sorted(expected)
    for item, spec in items.items():
        assert spec["indicator"] == _indicator(item)
        assert spec["domain"] in {"thinking_feeling", "social_processes", "motivation", "practical_issues"}
        assert spec["label_en"] and spec["label_fr"] and spec["spec"].startswith(f"besd: {item}")


def test_registry_priority_and_reverse_flags():
    items = load_besd_registry()["items"]
    assert sorted(s["indicator"] for s in items.values() if s["priority"]) == sorted(PRIORITY)
    assert sorted(i for i, s in items.items() if s["reverse"]) == sorted(NO_FAVOURABLE)
    assert all(items[i]["favourable"] == [0] for i in NO_FAVOURABLE)


def test_registry_priority_labels_are_besd_ti_wording():
    items = load_besd_registry()["items"]
    assert items["CHI_confb"]["label_fr"] == (
        "% de parents/soignants qui déclarent que les vaccins sont moyennement ou très importants "
        "pour la santé de leur enfant")
    assert items["CHI_where"]["label_en"] == "% of parents/caregivers who know where to get their child vaccinated"


def test_registry_multiselect_options():
    ms = load_besd_registry()["multiselect"]
    lowac = {o["key"]: o for o in ms["CHI_lowac"]["options"]}
    assert ms["CHI_lowac"]["exclusive"] == ms["CHI_quali"]["exclusive"] == "noth"
    assert {k for k, o in lowac.items() if o["adaptation"]} == {
        "job", "family", "permission", "unwelcome", "cost", "opposite_sex"}
    assert set(ms["CHI_lowac"]["gender_related"]) == {"permission", "family", "job", "unwelcome", "opposite_sex"}
    assert [o["key"] for o in ms["CHI_quali"]["options"]] == [
        "noth", "avail", "open", "wait", "clean", "poor", "respect", "time", "else"]


# --- coding rules on hand-made rows -------------------------------------------------------------


@pytest.mark.parametrize("item", FOUR_POINT, ids=FOUR_POINT)
def test_derive_four_point_top_two(item):
    out = derive_besd(pd.DataFrame({item: [1, 2, 3, 4]}))
    assert out[_indicator(item)].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_derive_intent_only_all_is_favourable():
    out = derive_besd(pd.DataFrame({"CHI_intent": [1, 2, 3]}))
    assert out["besd_intent"].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("item", YES_FAVOURABLE, ids=YES_FAVOURABLE)
def test_derive_yes_is_favourable(item):
    out = derive_besd(pd.DataFrame({item: [0, 1]}))
    assert out[_indicator(item)].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("item", NO_FAVOURABLE, ids=NO_FAVOURABLE)
def test_derive_reverse_coded_no_is_favourable(item):
    out = derive_besd(pd.DataFrame({item: [0, 1]}))
    assert out[_indicator(item)].tolist() == [1.0, 0.0]


def test_derive_missing_answer_of_eligible_respondent_is_zero():
    # besd.md §1.4: weighted denominator is ALL; missing stays in the denominator, out of the numerator
    data = pd.DataFrame({"CHI_consent": [1, 1, 1], "CHI_parcar": [1, 1, 1],
                         "CHI_confb": [4, np.nan, 4], "CHI_travel": [0, 0, ""]}, dtype=object)
    out = derive_besd(data)
    assert out["besd_confb"].tolist() == [1.0, 0.0, 1.0]
    assert out["besd_travel"].tolist() == [1.0, 1.0, 0.0]


def test_derive_not_eligible_is_nan():
    data = pd.DataFrame({"CHI_consent": [0, 1, 1, np.nan], "CHI_parcar": [np.nan, 0, 1, 1],
                         "CHI_confb": [np.nan, np.nan, 3, 3]})
    out = derive_besd(data)
    assert out["besd_confb"].isna().tolist() == [True, True, False, True]
    assert out.loc[2, "besd_confb"] == 1.0


def test_derive_without_eligibility_columns_everyone_is_eligible():
    out = derive_besd(pd.DataFrame({"CHI_where": [np.nan, 1]}))
    assert out["besd_where"].tolist() == [0.0, 1.0]


def test_derive_explicit_eligible_overrides_columns():
    data = pd.DataFrame({"CHI_consent": [1, 1], "CHI_where": [1, 1]}, index=["a", "b"])
    out = derive_besd(data, eligible=pd.Series([False, True], index=["a", "b"]))
    assert np.isnan(out.loc["a", "besd_where"]) and out.loc["b", "besd_where"] == 1.0


def test_derive_keeps_index_and_only_present_items():
    data = pd.DataFrame({"CHI_normf": [1, 0], "other": [5, 6]}, index=[10, 42])
    out = derive_besd(data)
    assert list(out.columns) == ["besd_normf"] and list(out.index) == [10, 42]
    assert out.dtypes.eq(float).all()


def test_derive_columns_mapping_for_renamed_export():
    out = derive_besd(pd.DataFrame({"q12": [2, 3]}), columns={"CHI_confb": "q12"})
    assert out["besd_confb"].tolist() == [0.0, 1.0]


def test_derive_yes1_no2_coding_with_98_99():
    data = pd.DataFrame({
        "CHI_consent": [1, 1, 1, 1, 2],
        "CHI_normf": [1, 2, 98, 99, 1],
        "CHI_travel": [1, 2, 98, 99, 2],
        "CHI_confb": [4, 2, 98, 99, 4],
        "CHI_intent": [3, 2, 99, 3, 3],
    })
    out, problems = derive_besd(data, coding="yes1-no2", return_problems=True)
    assert problems.empty
    assert out["besd_normf"].tolist()[:4] == [1.0, 0.0, 0.0, 0.0]
    assert out["besd_travel"].tolist()[:4] == [0.0, 1.0, 0.0, 0.0]
    assert out["besd_confb"].tolist()[:4] == [1.0, 0.0, 0.0, 0.0]
    assert out["besd_intent"].tolist()[:4] == [1.0, 0.0, 0.0, 1.0]
    assert out.iloc[4].isna().all()  # consent = 2 (No) in this coding


def test_derive_yes1_no2_zero_is_unknown_for_yesno():
    _, problems = derive_besd(pd.DataFrame({"CHI_where": [0, 1]}), coding="yes1-no2", return_problems=True)
    assert problems[["column", "code", "count"]].values.tolist() == [["CHI_where", 0, 1]]


def test_derive_unknown_code_reported_not_raised():
    data = pd.DataFrame({"CHI_confb": [4, 5, 5, "x"], "CHI_where": [1, 0, 1, 1]}, index=["r1", "r2", "r3", "r4"])
    out, problems = derive_besd(data, return_problems=True)
    assert out["besd_confb"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert problems.to_dict("records") == [
        {"column": "CHI_confb", "row": "r2", "code": 5, "count": 2, "expected": "[1, 2, 3, 4] or empty"},
        {"column": "CHI_confb", "row": "r4", "code": "x", "count": 1, "expected": "[1, 2, 3, 4] or empty"},
    ]


def test_derive_unknown_code_warns_without_return_problems():
    with pytest.warns(UserWarning, match=r"column 'CHI_intent', row 1: got 7, expected \[1, 2, 3\] or empty"):
        derive_besd(pd.DataFrame({"CHI_intent": [3, 7]}))


def test_derive_unknown_coding_raises_config_error():
    with pytest.raises(ConfigError, match=r"unknown BeSD coding 'odk'; expected one of \['besd-ti', 'yes1-no2'\]"):
        derive_besd(pd.DataFrame({"CHI_confb": [1]}), coding="odk")


# --- multi-selects -----------------------------------------------------------------------------


def test_derive_multiselect_options_besd_ti_and_kobo_names():
    data = pd.DataFrame({"CHI_consent": [1, 1, 0],
                         "CHI_lowacnoth": [1, 0, np.nan], "CHI_lowachard": [0, 1, np.nan],
                         "CHI_quali/noth": [0, np.nan, np.nan], "CHI_quali/wait": [1, np.nan, np.nan]})
    out = derive_besd(data)
    assert out["besd_lowac_noth"].tolist()[:2] == [1.0, 0.0]
    assert out["besd_lowac_hard"].tolist()[:2] == [0.0, 1.0]
    assert out["besd_quali_wait"].tolist()[:2] == [1.0, 0.0]  # not answered -> 0 (denominator ALL)
    assert out.iloc[2].isna().all()
    assert "besd_lowac_any_gender_barrier" not in out  # no gender option asked


def test_derive_any_gender_barrier():
    data = pd.DataFrame({"CHI_lowacnoth": [1, 0, 0, 0], "CHI_lowacpermission": [0, 1, 0, 0],
                         "CHI_lowac/opposite_sex": [0, 0, 1, 0], "CHI_lowaccost": [0, 0, 0, 1]})
    out = derive_besd(data)
    assert out["besd_lowac_any_gender_barrier"].tolist() == [0.0, 1.0, 1.0, 0.0]  # cost is not gender-related
    assert out["besd_lowac_cost"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_check_multiselect_exclusive_and_empty():
    data = pd.DataFrame({
        "CHI_lowacnoth": [1, 1, 0, np.nan, 0],
        "CHI_lowachard": [0, 1, 0, np.nan, 1],
        "CHI_lowactime": [0, 1, 0, np.nan, 0],
        "CHI_qualinoth": [1, 1, 1, np.nan, 1],
    }, index=["a", "b", "c", "d", "e"])
    problems = check_multiselect(data)
    assert problems.to_dict("records") == [
        {"row": "b", "item": "CHI_lowac", "problem": "exclusive option 'noth' chosen together with: hard, time"},
        {"row": "c", "item": "CHI_lowac", "problem": "question answered but no option chosen"},
    ]


def test_check_multiselect_kobo_names_clean_data_has_no_problems():
    data = pd.DataFrame({"CHI_quali/noth": [1, 0], "CHI_quali/avail": [0, 1]})
    problems = check_multiselect(data)
    assert problems.empty and list(problems.columns) == ["row", "item", "problem"]


# --- conformance on the BeSD-TI faux data (5,000 interviews) -------------------------------------

@pytest.fixture(scope="module")
def faux():
    require_shared(CHILD_FILE, CM_FILE)
    child = pd.read_csv(CHILD_FILE, low_memory=False)
    return child, derive_besd(child)


def _expected(raw: pd.DataFrame) -> dict[str, np.ndarray]:
    """BeSD-TI rules written directly on the raw codes, eligible = consent 1 and parent/caregiver 1."""
    ok = (raw["CHI_consent"] == 1) & (raw["CHI_parcar"] == 1)

    def rule(favourable):
        return np.where(ok, favourable.astype(float), np.nan)

    expected = {"besd_intent": rule(raw["CHI_intent"] == 3)}
    for item in FOUR_POINT:
        expected[_indicator(item)] = rule((raw[item] == 3) | (raw[item] == 4))
    for item in YES_FAVOURABLE:
        expected[_indicator(item)] = rule(raw[item] == 1)
    for item in NO_FAVOURABLE:
        expected[_indicator(item)] = rule(raw[item] == 0)
    return expected


def test_faux_every_core_item_matches_besd_ti_rules(faux):
    child, derived = faux
    expected = _expected(child)
    assert len(expected) == 17
    for name, values in expected.items():
        np.testing.assert_array_equal(derived[name].to_numpy(), values, err_msg=name)
    assert derived["besd_confb"].notna().sum() == 2229


def test_faux_no_unknown_codes_and_multiselects_consistent(faux):
    child, _ = faux
    _, problems = derive_besd(child, return_problems=True)
    assert problems.empty
    # the faux interviews never clash with "noth", but some answered rows select nothing at all
    found = check_multiselect(child).groupby(["item", "problem"]).size().to_dict()
    assert found == {("CHI_lowac", "question answered but no option chosen"): 51,
                     ("CHI_quali", "question answered but no option chosen"): 5}


def test_faux_weighted_priority_indicators(faux):
    child, derived = faux
    cm = pd.read_csv(CM_FILE)
    # BeSD-TI establish_unique_CH_ids: stratum_name = Districtname, cluster_id = Clusternum,
    # joined by c("stratum_name", "cluster_id"); cluster_id is numbered within each stratum.
    merged = child[["Districtname", "Clusternum"]].merge(
        cm[["stratum_name", "cluster_id", "psweight_ch"]], how="left", validate="many_to_one",
        left_on=["Districtname", "Clusternum"], right_on=["stratum_name", "cluster_id"])
    weight = merged["psweight_ch"].to_numpy()
    assert not np.isnan(weight).any()
    estimates = {}
    for name in PRIORITY:
        y = derived[name].to_numpy()
        keep = ~np.isnan(y)
        estimates[name] = np.sum(weight[keep] * y[keep]) / np.sum(weight[keep])
    # plain numpy, sum(w * y) / sum(w) over eligible respondents (n = 2229, psweight_ch = 1 throughout)
    assert estimates == pytest.approx({
        "besd_confb": 0.6007, "besd_normf": 0.4980, "besd_intent": 0.3073,
        "besd_where": 0.6994, "besd_afford": 0.5935}, abs=5e-5)

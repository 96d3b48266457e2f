"""Priorities (lqas.priorities): numbers of zero-dose and under-immunized children, WHO RED categories,
ranking and draft recommendations from rules kept as data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lqas import load_project
from lqas.config.priorities import load_priorities
from lqas.design import ALL
from lqas.errors import ConfigError
from lqas.priorities import children_numbers, priorities, red_category
from lqas.run import analyse

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "mali_baseline"


@pytest.fixture(scope="module")
def demo():
    return analyse(load_project(DEMO / "survey.toml"))


def _plain(estimates: pd.DataFrame, indicator: str) -> pd.DataFrame:
    rows = estimates[(estimates["indicator"] == indicator) & (estimates["sex"] == ALL)
                     & (estimates["area"] == ALL) & (estimates["population_group"] == ALL)
                     & (estimates["vaccination_status"] == ALL)]
    return rows.astype({c: str for c in ("cohort", "district", "catchment")})


def test_numbers_of_children_are_the_populations_file_times_the_estimates(demo):
    populations = pd.read_csv(DEMO / "data" / "populations.csv")
    numbers = demo.priorities.numbers
    lots = numbers[(numbers["unit_level"] == "catchment") & (numbers["cohort"] != ALL)
                   & (numbers["indicator"] == "zero_dose")]
    assert len(lots) == len(populations) == 12
    merged = lots.merge(populations, on=["catchment", "cohort"], suffixes=("", "_file"))
    estimates = _plain(demo.estimates, "zero_dose")
    merged = merged.merge(estimates[["cohort", "catchment", "estimate", "ci_low", "ci_high"]],
                          on=["cohort", "catchment"], suffixes=("", "_est"))
    assert merged["population"].tolist() == merged["population_file"].astype(float).tolist()
    for column in ("estimate", "ci_low", "ci_high"):
        expected = merged["population_file"] * merged[f"{column}_est"]
        got = merged["children" if column == "estimate" else f"children_{column}"]
        assert (got - expected).abs().max() < 1e-9
    # Pelengana Nord has about twice as many zero-dose 12-23-month-olds as Kologo, at a lower prevalence
    by = lots.set_index(["catchment", "cohort"])
    assert by.loc[("pelengana_nord", "12-23m"), "children"] > 1.8 * by.loc[("kologo", "12-23m"), "children"]
    assert by.loc[("pelengana_nord", "12-23m"), "estimate"] < by.loc[("kologo", "12-23m"), "estimate"]


def test_numbers_above_the_lots_add_their_populations(demo):
    populations = pd.read_csv(DEMO / "data" / "populations.csv")
    numbers = demo.priorities.numbers.set_index(["indicator", "unit_level", "cohort", "district", "catchment"])
    national = numbers.loc[("zero_dose", "national", "12-23m", ALL, ALL)]
    assert national["population"] == populations.loc[populations["cohort"] == "12-23m", "population"].sum()
    both = numbers.loc[("ui_dtp1_not_dtp3", "national", ALL, ALL, ALL)]
    assert both["population"] == populations["population"].sum()
    district = numbers.loc[("zero_dose", "district", ALL, "niono", ALL)]
    assert district["population"] == populations.loc[populations["catchment"].isin(
        ["niono_central", "ndebougou"]), "population"].sum()
    # no stratifier's group, whose population is itself estimated
    assert set(demo.priorities.numbers["unit_level"]) == {"national", "district", "catchment"}


def test_areas_ranked_by_number_then_prevalence(demo):
    areas = demo.priorities.areas
    assert areas["rank"].tolist() == list(range(1, 7))
    assert areas["zd_children"].is_monotonic_decreasing
    assert areas.loc[areas["catchment"] == "ndebougou", "rank"].item() == 1
    pelengana = areas.set_index("catchment").loc["pelengana_nord"]
    assert (pelengana["rank"], pelengana["rank_prevalence"]) == (2, 4)
    # zero-dose lots below target, in cohort order
    assert areas.set_index("catchment").loc["kologo", "zero_dose_lots_below_target"] == "18w-11m;12-23m"


def test_red_categories_follow_the_who_cut_offs():
    access = pd.Series([0.80, 0.95, 0.7999, 0.50, None])
    dropout = pd.Series([0.10, 0.1001, 0.05, 0.30, 0.05])
    assert red_category(access, dropout, 0.80, 0.10).tolist() == [
        "no_problem", "utilisation", "access", "access_and_utilisation", ""]


def test_red_category_of_each_demo_area_is_its_penta1_and_dropout(demo):
    areas = demo.priorities.areas.set_index("catchment")
    penta1 = _plain(demo.estimates, "penta1_crude")
    penta1 = penta1[penta1["cohort"] == "12-23m"].set_index("catchment")["estimate"]
    dropout = _plain(demo.estimates, "dropout_penta1_penta3")
    dropout = dropout[dropout["cohort"] == "12-23m"].set_index("catchment")["estimate"]
    for area, row in areas.iterrows():
        assert row["access_estimate"] == penta1[area]
        expected = ("access" if penta1[area] < 0.8 else "") + ("utilisation" if dropout[area] > 0.1 else "")
        expected = {"accessutilisation": "access_and_utilisation", "": "no_problem"}.get(expected, expected)
        assert row["category"] == expected, area


def test_girls_condition_reads_the_rao_scott_p(demo):
    areas = demo.priorities.areas.set_index("catchment")
    comparisons = demo.comparisons.astype({"catchment": str, "cohort": str})
    rows = comparisons[comparisons["indicator"].isin(["zero_dose", "ui_dtp1_not_dtp3", "penta3_crude"])
                       & (comparisons["catchment"] != ALL) & (comparisons["cohort"] != ALL)]  # the lots
    significant = set(rows.loc[(rows["disadvantaged"] == "F") & (rows["p_value"] < 0.05), "catchment"].astype(str))
    assert significant  # the demo builds in a girls' gap
    assert set(areas.index[areas["girls_disadvantaged"].fillna(False).astype(bool)]) == significant


def test_recommendations_name_their_areas_and_the_specific_rule_stands_for_the_general(demo):
    areas = demo.priorities.areas.set_index("catchment")
    by_id = {r["id"]: r for r in demo.priorities.recommendations}
    poor_access = set(areas.index[areas["poor_access"].fillna(False).astype(bool)])
    assert set(by_id["access"]["areas"]) == poor_access
    both = set(by_id["girls_permission"]["areas"])
    assert both and not both & set(by_id["girls"]["areas"])
    assert both | set(by_id["girls"]["areas"]) == set(areas.index[areas["girls_disadvantaged"].fillna(False)
                                                                    .astype(bool)])
    # in rank order
    ranks = [areas.loc[a, "rank"] for a in by_id["access"]["areas"]]
    assert ranks == sorted(ranks)
    assert "%(areas)s" in by_id["access"]["fr"]


def test_no_numbers_without_population_weights(tmp_path, demo):
    project = demo.project.model_copy(update={"design": demo.project.design.model_copy(update={"weights": "none"})})
    assert children_numbers(demo.estimates, project).empty
    ranked = priorities(demo.estimates, demo.comparisons, demo.classification, project)
    assert "zd_children" not in ranked.areas
    assert ranked.areas["zd_estimate"].is_monotonic_decreasing


def test_populations_known_above_the_lots_give_no_lot_numbers(demo):
    project = demo.project.model_copy(update={"populations": demo.project.populations.model_copy(
        update={"level": ("district",)})})
    numbers = children_numbers(demo.estimates, project)
    assert set(numbers["unit_level"]) == {"national", "district"}


def test_a_programmes_own_rules(tmp_path, demo):
    own = tmp_path / "priorities.toml"
    text = (REPO / "lqas" / "data" / "priorities.toml").read_text(encoding="utf-8")
    own.write_text(text.replace("access_good_from = 0.80", "access_good_from = 0.95"), encoding="utf-8")
    ranked = priorities(demo.estimates, demo.comparisons, demo.classification, demo.project, load_priorities(own))
    assert set(ranked.areas["category"]) <= {"access", "access_and_utilisation"}


def test_a_rule_naming_an_unknown_condition_is_one_line_naming_the_file_and_key(tmp_path):
    bad = tmp_path / "priorities.toml"
    shutil.copy(REPO / "lqas" / "data" / "priorities.toml", bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace('when = ["poor_access"]', 'when = ["poor_acess"]'),
                   encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_priorities(bad)
    message = str(error.value)
    assert str(bad.name) in message and "recommendations[1].when" in message and "poor_acess" in message

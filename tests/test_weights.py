"""Weights from lot populations, and a weighted proportion computed by hand through the design."""

from pathlib import Path

import pandas as pd
import pytest

from lqas.design import SurveyDesign
from lqas.errors import InputError
from lqas.weights import population_weights

LOT = ("catchment", "cohort")


def test_weight_is_lot_population_over_children_kept():
    children = pd.DataFrame({"catchment": ["a", "a", "a", "b"], "cohort": ["x", "x", "y", "x"]})
    populations = pd.DataFrame({"catchment": ["a", "a", "b"], "cohort": ["x", "y", "x"], "population": [300, 50, 80]})
    weights = population_weights(children, populations, LOT)
    assert weights.tolist() == [150.0, 150.0, 50.0, 80.0]


def test_every_lot_without_population_is_named():
    children = pd.DataFrame({"catchment": ["a", "c", "c"], "cohort": ["x", "x", "y"]})
    populations = pd.DataFrame({"catchment": ["b"], "cohort": ["x"], "population": [10]})
    with pytest.raises(InputError, match=r"pop.csv: no population for 3 lots: catchment = a; cohort = x \| "
                                         r"catchment = c; cohort = x \| catchment = c; cohort = y; add a row for each"):
        population_weights(children, populations, LOT, "pop.csv")


def test_a_district_table_of_health_areas_is_mapped_and_split_to_cohorts_by_age(tmp_path):
    from lqas.config.project import PopulationsConfig
    from lqas.weights import read_populations

    path = tmp_path / "pop.csv"
    path.write_text("Aire de santé;Pop 0-23 mois\nKologo;2400\nN'Débougou;1200\n", encoding="utf-8-sig")
    cohorts = {"18w-11m": (126, 364), "12-23m": (365, 729)}
    settings = PopulationsConfig(columns={"catchment": "Aire de santé", "population": "Pop 0-23 mois"},
                                 ages=(0, 729))
    table = read_populations(path, LOT, settings, cohorts)
    # 0-23 months = 730 days; 18 weeks-11 months covers days 126-364 (239 days), 12-23 months 365 days
    assert table.to_dict("records") == [
        {"catchment": "Kologo", "cohort": "18w-11m", "population": pytest.approx(2400 * 239 / 730)},
        {"catchment": "N'Débougou", "cohort": "18w-11m", "population": pytest.approx(1200 * 239 / 730)},
        {"catchment": "Kologo", "cohort": "12-23m", "population": pytest.approx(2400 * 365 / 730)},
        {"catchment": "N'Débougou", "cohort": "12-23m", "population": pytest.approx(1200 * 365 / 730)}]
    shares = PopulationsConfig(columns=settings.columns, shares={"18w-11m": 0.4, "12-23m": 0.5})
    assert read_populations(path, LOT, shares, cohorts)["population"].tolist() == [960, 480, 1200, 600]
    under_one = PopulationsConfig(columns=settings.columns, ages=(0, 364))
    with pytest.raises(InputError, match=r"pop.csv: cohort '12-23m' is outside the ages the populations count "
                                         r"\(\[populations\] ages = \[0, 364\]\)"):
        read_populations(path, LOT, under_one, cohorts)
    with pytest.raises(InputError, match=r"pop.csv: column missing: cohort \(expected catchment, cohort, population\); "
                                         r"map the file's columns .* give \[populations\] ages = \[0, 729\]"):
        read_populations(path, LOT, PopulationsConfig(columns=settings.columns), cohorts)
    with pytest.raises(InputError, match=r"pop.csv: column missing: 'Aire' \(\[populations\] columns.catchment\)"):
        read_populations(path, LOT, PopulationsConfig(columns={"catchment": "Aire"}), cohorts)


def test_weighted_proportion_by_hand():
    # lot a: 2 children, population 300 -> weight 150 each; lot b: 1 child, population 100 -> 100
    # zero-dose children: one in a, the one in b -> (150 + 100) / (150 + 150 + 100) = 0.625
    children = pd.DataFrame({"catchment": ["a", "a", "b"], "cohort": ["x", "x", "x"], "cluster": ["1", "2", "3"],
                             "zero_dose": [1.0, 0.0, 1.0]})
    populations = pd.DataFrame({"catchment": ["a", "b"], "cohort": ["x", "x"], "population": [300, 100]})
    children["weight"] = population_weights(children, populations, LOT)
    estimate = SurveyDesign(children, strata=None, psu="cluster", weight="weight").proportions(["zero_dose"])
    overall = estimate.iloc[0]
    assert overall["estimate"] == pytest.approx(0.625, rel=1e-12)
    assert overall["n"] == 3 and overall["n_weighted"] == pytest.approx(400)


def test_populations_read_like_any_export_and_errors_name_the_row(tmp_path):
    from lqas.weights import read_populations

    rows = pd.DataFrame({"catchment": ["Ségou", "kologo"], "cohort": ["12-23m", "12-23m"], "population": [120, 80]})
    rows.to_excel(tmp_path / "pop.xlsx", index=False)
    rows.to_csv(tmp_path / "pop.csv", index=False, encoding="cp1252", sep=";")
    for name in ("pop.xlsx", "pop.csv"):
        table = read_populations(tmp_path / name, ("catchment", "cohort"))
        assert table["catchment"].tolist() == ["Ségou", "kologo"] and table["population"].tolist() == [120, 80]
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty.csv: file is empty"):
        read_populations(tmp_path / "empty.csv", ("catchment",))
    rows.assign(population=["120", "many"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad.csv: row 3, column 'population': must be a positive number; got 'many'"):
        read_populations(tmp_path / "bad.csv", ("catchment", "cohort"))


def test_a_weight_column_with_a_bad_value_names_the_export_row(tmp_path):
    import shutil

    from lqas import derive_project, load_project

    demo = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline"
    shutil.copytree(demo, tmp_path / "p")
    export = tmp_path / "p" / "data" / "mali_baseline_kobo.csv"
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    frame["hh/weight"] = "2.5"
    frame.loc[4, "hh/weight"] = "-1"
    frame.to_csv(export, index=False)
    profile = (demo.parents[1] / "instruments" / "profiles" / "kobo.toml").read_text(encoding="utf-8")
    (tmp_path / "p" / "kobo_w.toml").write_text(profile.replace('area = "hh/area"', 'area = "hh/area"\nweight = "hh/weight"'),
                                                 encoding="utf-8")
    survey = (tmp_path / "p" / "survey.toml").read_text(encoding="utf-8")
    survey = survey.replace('profile = "kobo"', 'profile = "kobo_w.toml"').replace(
        'weights = "population"', 'weights = "column"\nweight_column = "weight"')
    (tmp_path / "p" / "survey.toml").write_text(survey, encoding="utf-8")
    with pytest.raises(InputError, match=r"mali_baseline_kobo.csv: row 6, column 'weight': weight must be a positive "
                                         r"number; got '-1'"):
        derive_project(load_project(tmp_path / "p" / "survey.toml"))


def test_populations_known_by_district_only_weigh_the_children_of_a_district_alike(tmp_path):
    """[populations] level = ["district"]: one row per district (what a region office has); each child
    weighs the district's cohort population over the children of that district and cohort."""
    import shutil

    from conftest import REPO

    from lqas.config import load_project
    from lqas.derive import derive_project
    from lqas.errors import ConfigError

    demo = REPO / "examples" / "mali_baseline"
    project_dir = tmp_path / "p"
    shutil.copytree(demo, project_dir)
    (project_dir / "data" / "districts.csv").write_text("District;Pop 0-23 mois\nbougouni;9000\nsegou;12000\n"
                                                       "niono;6000\n", encoding="utf-8")
    text = (project_dir / "survey.toml").read_text(encoding="utf-8").replace(
        'populations = "data/populations.csv"', 'populations = "data/districts.csv"').replace(
        "[populations]\n", '[populations]\ncolumns = { district = "District", population = "Pop 0-23 mois" }\n'
                           'ages = [0, 729]\nlevel = ["district"]\n')
    (project_dir / "survey.toml").write_text(text, encoding="utf-8")
    table = derive_project(load_project(project_dir / "survey.toml")).table
    share = {"18w-11m": 239 / 730, "12-23m": 365 / 730}
    for (district, cohort), group in table.groupby(["district", "cohort"], observed=True):
        expected = {"bougouni": 9000, "segou": 12000, "niono": 6000}[district] * share[cohort] / len(group)
        assert group["weight"].tolist() == pytest.approx([expected] * len(group))
    (project_dir / "survey.toml").write_text(text.replace('level = ["district"]', 'level = ["distrcit"]'),
                                             encoding="utf-8")
    with pytest.raises(ConfigError, match=r"survey.toml: key .populations.level.: .distrcit. is not a column of "
                                           r"the child table.*did you mean 'district'"):
        derive_project(load_project(project_dir / "survey.toml"))

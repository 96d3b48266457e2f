"""[small_area] wired into a run (lqas.hotspots): the model's inputs are the run's direct estimates, the
gate falls back to them, the areas file's problems are one-line errors, and the outputs show it.

The Fay–Herriot arithmetic itself is checked against R sae in test_small_area.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from lqas.config import load_project
from lqas.config.project import SmallAreaConfig
from lqas.design import unit_rows
from lqas.errors import InputError
from lqas.hotspots import SMALL_AREA_COLUMNS, hotspots
from lqas.readers import normalise_code
from lqas.run import analyse
from lqas.small_area import small_area

ROOT = Path(__file__).resolve().parents[1]
FOLLOWUP = ROOT / "examples" / "mali_followup" / "survey.toml"
SAMPLED = ["bougouni_est", "kologo", "pelengana_nord", "cinzana_gare", "niono_central", "ndebougou"]


@pytest.fixture(scope="module")
def run():
    """The follow-up analysed once without [small_area] (nor its rounds: not needed here)."""
    project = load_project(FOLLOWUP)
    project = project.model_copy(update={"small_area": None, "rounds": None, "arms": None})
    return project, analyse(project)


def areas_file(tmp_path: Path, *, extra: int = 14, codes=SAMPLED, seed: int = 3, **columns) -> Path:
    rng = np.random.default_rng(seed)
    rows = [{"area": code, "name": code.replace("_", " ").title(), "district": "d"} for code in codes]
    rows += [{"area": f"other_{i}", "name": f"Autre {i}", "district": "e"} for i in range(extra)]
    frame = pd.DataFrame(rows)
    frame["admin_penta1"] = rng.uniform(0.6, 1.05, len(frame)).round(3)
    frame["distance_km"] = rng.uniform(1, 60, len(frame)).round(1)
    frame["population"] = rng.integers(400, 3000, len(frame))
    for name, values in columns.items():
        frame[name] = values
    path = tmp_path / "areas.csv"
    frame.to_csv(path, index=False)
    return path


def settings(path: Path, **changes) -> SmallAreaConfig:
    values = {"file": path, "name": "name", "parent": "district", "covariates": ("admin_penta1", "distance_km"),
              "population": "population", "min_areas": 6, **changes}
    return SmallAreaConfig(**values)


def model(run, config: SmallAreaConfig):
    project, results = run
    project = project.model_copy(update={"small_area": config})
    return hotspots(project, results.table, results.estimates, results.classification)


def test_the_model_is_fitted_to_the_runs_direct_estimates(run, tmp_path):
    path = areas_file(tmp_path)
    found = model(run, settings(path))
    table = found.table
    assert list(table.columns) == SMALL_AREA_COLUMNS
    assert len(table) == 6 + 14 and table["area"].tolist()[:6] == SAMPLED
    direct = unit_rows(run[1].estimates, "zero_dose", "catchment", cohort="12-23m").set_index("catchment")
    sampled = table[table["sampled"]].set_index("area")
    assert sampled["n"].to_dict() == direct.loc[SAMPLED, "n"].astype(float).to_dict()
    np.testing.assert_allclose(sampled.loc[SAMPLED, "direct"], direct.loc[SAMPLED, "estimate"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(sampled.loc[SAMPLED, "direct_se"], direct.loc[SAMPLED, "se"], rtol=0, atol=1e-15)
    assert set(table["method"]) == {"eblup", "synthetic"}
    assert (table["method"] == "synthetic").sum() == 14
    # every area not sampled gets the synthetic estimate expit(x'b) with the fit's coefficients
    frame = pd.read_csv(path)
    beta = found.fit["coefficients"]
    xb = (beta["(Intercept)"]["estimate"] + beta["admin_penta1"]["estimate"] * frame["admin_penta1"]
          + beta["distance_km"]["estimate"] * frame["distance_km"])
    others = ~table["sampled"].to_numpy()
    np.testing.assert_allclose(table["estimate"][others], special.expit(xb[others]), rtol=1e-12)
    # the numbers of children are the file's populations times the estimates
    np.testing.assert_allclose(table["children"], frame["population"] * table["estimate"], rtol=1e-12)
    # the same as the model called directly on the same inputs
    inputs = frame.assign(direct=np.nan, variance=np.nan, neff=np.nan, sampled=frame["area"].isin(SAMPLED))
    for code in SAMPLED:
        inputs.loc[inputs["area"] == code, ["direct", "variance", "neff"]] = (
            direct.loc[code, "estimate"], direct.loc[code, "se"] ** 2, direct.loc[code, "neff"])
    alone = small_area(inputs, estimate="direct", variance="variance", covariates=["admin_penta1", "distance_km"],
                       transform="logit", min_areas=6, threshold=0.25, population="population")
    np.testing.assert_allclose(table["estimate"], alone["estimate"], rtol=1e-12)
    assert found.threshold == 0.25  # the zero-dose LQAS target's bad threshold: a lot beyond it is to improve
    # the LQAS class of each sampled area is its 12-23-month zero-dose lot's
    classes = run[1].classification
    lots = classes[(classes["indicator"] == "zero_dose") & (classes["cohort"] == "12-23m")].set_index("catchment")
    assert sampled.loc[SAMPLED, "lqas_class"].tolist() == lots.loc[SAMPLED, "class"].tolist()
    assert table.loc[others, "lqas_class"].isna().all()


def test_too_few_sampled_areas_give_the_direct_estimates_and_say_why(run, tmp_path):
    found = model(run, settings(areas_file(tmp_path), min_areas=15))
    assert found.fit is None
    assert "6 sampled area(s), fewer than the 15" in found.message
    table = found.table
    assert table.loc[table["sampled"], "method"].eq("direct").all()
    assert table.loc[~table["sampled"], "method"].eq("none").all()
    assert table.loc[~table["sampled"], "estimate"].isna().all()
    direct = unit_rows(run[1].estimates, "zero_dose", "catchment", cohort="12-23m").set_index("catchment")
    shown = table[table["sampled"]].set_index("area")
    np.testing.assert_allclose(shown.loc[SAMPLED, "ci_low"], direct.loc[SAMPLED, "ci_low"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(shown.loc[SAMPLED, "ci_high"], direct.loc[SAMPLED, "ci_high"], rtol=0, atol=1e-15)


def test_codes_match_across_accents_case_and_punctuation(run, tmp_path):
    written = ["Bougouni Est", "KOLOGO", "Pelengana-Nord", "Cinzana Gare", "Niono_Central", "N'Débougou"]
    found = model(run, settings(areas_file(tmp_path, codes=written)))
    assert found.table["sampled"].sum() == 6
    assert normalise_code("N'Débougou") == normalise_code("ndebougou")


@pytest.mark.parametrize("change, message", [
    ({"codes": SAMPLED[:5]}, "no row for 1 surveyed catchment value(s): ndebougou (column 'area')"),
    ({"codes": [*SAMPLED, "kologo"]}, "row 8, column 'area': area 'kologo' is listed again (first at row 3)"),
    ({"distance_km": [None] * 3 + [4.0] * 17}, "row 2, column 'distance_km': the covariate is missing"),
    ({"admin_penta1": ["0.9"] * 10 + ["0,9%"] + ["0.8"] * 9}, "row 12, column 'admin_penta1': must be a number; got '0,9%'"),
    ({"population": [-5] + [100] * 19}, "row 2, column 'population': must be a number of children, 0 or more"),
])
def test_a_bad_areas_file_is_one_line_naming_the_row_and_column(run, tmp_path, change, message):
    path = areas_file(tmp_path, **change) if "codes" not in change else areas_file(tmp_path, codes=change["codes"])
    with pytest.raises(InputError) as caught:
        model(run, settings(path))
    text = str(caught.value)
    assert "\n" not in text and text.startswith(str(path)) and message in text


def test_a_column_the_project_names_but_the_file_lacks(run, tmp_path):
    with pytest.raises(InputError, match=r"column missing: urban_share \(\[small_area\] names it\)"):
        model(run, settings(areas_file(tmp_path), covariates=("admin_penta1", "urban_share")))


def test_the_cohort_must_be_one_of_the_projects(tmp_path):
    text = FOLLOWUP.read_text(encoding="utf-8")
    path = tmp_path / "survey.toml"
    assert 'cohort = "12-23m"\ntransform = "logit"' in text  # the demo's [small_area]
    path.write_text(text.replace('cohort = "12-23m"\ntransform = "logit"', 'cohort = "0-11m"\ntransform = "logit"')
                    .replace('"data/', f'"{FOLLOWUP.parent.as_posix()}/data/'), encoding="utf-8")
    from lqas.errors import ConfigError

    with pytest.raises(ConfigError, match=r"small_area\.cohort.*'0-11m' is not a cohort"):
        load_project(path)

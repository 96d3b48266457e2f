"""Crude coverage of VCQI District 20 reproduces VCQI's published N, NEFF, DEFF and ICC."""

import pandas as pd
import pytest
from conftest import SHARED, example_project, require_shared

from lqas.derive import derive_project
from lqas.design import SurveyDesign

DATA = SHARED / "vcqi-data" / "district20"

# shared/vcqi-data/district20/expected_VCTC_crude_coverage_N_NEFF_DEFF_ICC.png (VCQI RI_VCTC_01 output)
PUBLISHED = {  # dose: (coverage %, N, NEFF, DEFF, ICC)
    "bcg": (97.6, 210, 148, 1.3, 0.050), "opv1": (86.7, 210, 91, 2.1, 0.184),
    "opv2": (76.2, 210, 95, 2.0, 0.168), "opv3": (68.1, 210, 97, 2.0, 0.160),
    "penta1": (81.9, 210, 76, 2.5, 0.249), "penta2": (71.4, 210, 77, 2.5, 0.247),
    "penta3": (60.5, 210, 105, 1.8, 0.138), "mcv": (63.3, 210, 100, 1.9, 0.153),
}


def test_district20_crude_coverage_reproduces_vcqi_table():
    project = example_project("vcqi_district20")
    table = derive_project(project).table
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight")
    estimates = design.proportions([f"{dose}_crude" for dose in PUBLISHED]).set_index("indicator")
    for dose, (coverage, n, neff, deff, icc) in PUBLISHED.items():
        row = estimates.loc[f"{dose}_crude"]
        assert (round(100 * row["estimate"], 1), row["n"], round(row["neff"]), round(row["deff"], 1),
                round(row["icc"], 3)) == (coverage, n, neff, deff, icc), dose


def _crude_from_dta():
    """Crude coverage straight from VCQI_RI_20.dta, independent of lqas.ingest and lqas.vaccination:
    a card date (any of <dose>_date_card_d/m/y), <dose>_tick_card == 1 or <dose>_history == 1
    (VCQI RI_COVG_01 with no register sought); weights psweight_1year from VCQI_CM_20.dta by (HH01, HH03)."""
    require_shared(DATA / "VCQI_RI_20.dta", DATA / "VCQI_CM_20.dta")
    ri = pd.read_stata(DATA / "VCQI_RI_20.dta", convert_categoricals=False)
    cm = pd.read_stata(DATA / "VCQI_CM_20.dta", convert_categoricals=False)
    ri = ri.merge(cm[["HH01", "HH03", "psweight_1year"]], left_on=["RI01", "RI03"], right_on=["HH01", "HH03"],
                  how="left", validate="m:1")
    for dose in PUBLISHED:
        card = ri[[f"{dose}_date_card_{part}" for part in "dmy"]].notna().any(axis=1) | (ri[f"{dose}_tick_card"] == 1)
        ri[dose] = (card | (ri[f"{dose}_history"] == 1)).astype(float)
    return ri


def test_district20_from_the_dta_reproduces_vcqi_table():
    # one stratum (RI01), cluster RI03, weight 1; VCQI defaults: Wilson, df = PSUs - strata = 29
    ri = _crude_from_dta()
    design = SurveyDesign(ri, strata="RI01", psu="RI03", weight="psweight_1year")
    estimates = design.proportions(list(PUBLISHED), ci="wilson").set_index("indicator")
    assert (estimates["df"] == 29).all()
    for dose, (coverage, n, neff, deff, icc) in PUBLISHED.items():
        row = estimates.loc[dose]
        assert (round(100 * row["estimate"], 1), row["n"], round(row["neff"]), round(row["deff"], 1),
                round(row["icc"], 3)) == (coverage, n, neff, deff, icc), dose


# shared/vcqi-data/district20/expected_CCC_by_sex.png: plateaus of the cumulative curves read off
# the chart (RI20: 1 boys, 2 girls), so compared to 1.5 percentage points
BY_SEX = {("penta1", "1"): 88.5, ("penta3", "1"): 67.0, ("mcv", "1"): 73.5,
          ("penta1", "2"): 69.0, ("penta3", "2"): 48.0, ("mcv", "2"): 43.5}


def test_district20_by_sex_matches_the_published_curves():
    ri = _crude_from_dta()
    design = SurveyDesign(ri, strata="RI01", psu="RI03", weight="psweight_1year")
    estimates = design.proportions(["penta1", "penta3", "mcv"], by=["RI20"]).set_index(["indicator", "RI20"])
    assert estimates.loc[("penta1", "1"), "n"] == 139 and estimates.loc[("penta1", "2"), "n"] == 71
    for key, plateau in BY_SEX.items():
        assert 100 * estimates.loc[key, "estimate"] == pytest.approx(plateau, abs=1.5), key

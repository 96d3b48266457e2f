"""Crude coverage of VCQI District 20 reproduces VCQI's published N, NEFF, DEFF and ICC."""

from pathlib import Path

import pytest

from lqas.config import load_project
from lqas.design import SurveyDesign
from lqas.run import derive_project

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "vcqi-data" / "district20"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"VCQI District 20 data not found at {DATA}")

# shared/vcqi-data/district20/expected_VCTC_crude_coverage_N_NEFF_DEFF_ICC.png (VCQI RI_VCTC_01 output)
PUBLISHED = {  # dose: (coverage %, N, NEFF, DEFF, ICC)
    "bcg": (97.6, 210, 148, 1.3, 0.050), "opv1": (86.7, 210, 91, 2.1, 0.184),
    "opv2": (76.2, 210, 95, 2.0, 0.168), "opv3": (68.1, 210, 97, 2.0, 0.160),
    "penta1": (81.9, 210, 76, 2.5, 0.249), "penta2": (71.4, 210, 77, 2.5, 0.247),
    "penta3": (60.5, 210, 105, 1.8, 0.138), "mcv": (63.3, 210, 100, 1.9, 0.153),
}


def test_district20_crude_coverage_reproduces_vcqi_table():
    project = load_project(ROOT / "examples" / "vcqi_district20" / "survey.toml")
    table = derive_project(project).table
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight")
    estimates = design.proportions([f"{dose}_crude" for dose in PUBLISHED]).set_index("indicator")
    for dose, (coverage, n, neff, deff, icc) in PUBLISHED.items():
        row = estimates.loc[f"{dose}_crude"]
        assert (round(100 * row["estimate"], 1), row["n"], round(row["neff"]), round(row["deff"], 1),
                round(row["icc"], 3)) == (coverage, n, neff, deff, icc), dose

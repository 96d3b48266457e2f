"""Conformance with WHO VCQI and BeSD-TI demo data, run through the example projects.

The demo datasets are read from ``shared/vcqi-data`` next to the repository (PAHO licence: local
test fixtures only, never copied into the repository); each test skips when its files are absent.
References: VCQI's own per-child crude flags for Harmonia (surveyci testdata, RI_COVG_01
``got_crude_<dose>_to_analyze``) and the published District 20 coverage chart (vcqi.md §3, §5.5).
"""

from pathlib import Path

import pandas as pd
import pytest

from lqas.config import load_project
from lqas.design import SurveyDesign
from lqas.run import derive_project

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HARMONIA_DOSES = ["bcg", "hepb", "opv0", "ipv", "mcv1", "yf", "penta1", "penta2", "penta3", "pcv1", "pcv2",
                  "pcv3", "opv1", "opv2", "opv3", "rota1", "rota2", "rota3"]


def project_or_skip(name: str, *extra: str):
    """The example project, skipping the test when its shared data files are not on this machine."""
    project = load_project(EXAMPLES / name / "survey.toml")
    files = [project.resolve(project.data.file), *(project.resolve(m.file) for m in project.data.merge.values())]
    files += [project.resolve(project.data.file).parent / file for file in extra]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        pytest.skip(f"VCQI/BeSD-TI demo data not found ({', '.join(missing)}): put shared/vcqi-data next to "
                    "the repository to run this conformance test")
    return project


def test_harmonia_crude_flags_equal_vcqi_for_every_child_and_dose():
    project = project_or_skip("vcqi_harmonia", "vcqi_RI_COVG_01_derived_testdata_surveyci.csv")
    derived = derive_project(project)
    table = derived.table
    assert derived.ingest.rows_read == 3256 and len(table) == 3256 and derived.ingest.exclusions.empty
    assert derived.ingest.merges["register"]["children_matched"] == 3256
    assert derived.ingest.merges["clusters"]["children_matched"] == 3256

    expected = pd.read_csv(project.resolve(project.data.file).parent
                           / "vcqi_RI_COVG_01_derived_testdata_surveyci.csv")
    # VCQI respid numbers the children in the sort order of RI01, RI03, RI11, RI12
    order = table.assign(**{key: pd.to_numeric(table[key]) for key in ("RI01", "RI03", "RI12")})
    order = order.sort_values(["RI01", "RI03", "RI11", "RI12"], kind="stable").reset_index(drop=True)
    order["respid"] = range(1, len(order) + 1)
    merged = order.merge(expected, on="respid", validate="1:1")
    assert (merged["RI01"] == merged["stratumid"]).all()
    assert (merged["weight"].astype(float) - merged["psweight"]).abs().max() < 1e-9

    mismatches = {dose: int((merged[f"{dose}_crude"] != merged[f"got_crude_{dose}_to_analyze"]).sum())
                  for dose in HARMONIA_DOSES}
    assert mismatches == dict.fromkeys(HARMONIA_DOSES, 0)


def test_district20_keeps_all_210_children_and_matches_the_published_coverage():
    project = project_or_skip("vcqi_district20")
    derived = derive_project(project)
    table = derived.table
    assert derived.ingest.rows_read == 210 and len(table) == 210 and derived.ingest.exclusions.empty
    assert (table["weight"].astype(float) == 1).all() and set(table["cohort"]) == {"12-23m"}
    # every child is 731 days old (DOB 2015-01-01, interview 2017-01-01): kept, as VCQI does, and logged
    assert (derived.ingest.repairs["rule"] == "age_out_of_window_kept").sum() == 210

    # vcqiR District 20 demo, VCTC chart "Coverage (%)" column (self-weighted: weighted = unweighted)
    published = {"bcg": 97.6, "opv1": 86.7, "opv2": 76.2, "opv3": 68.1, "penta1": 81.9, "penta2": 71.4,
                 "penta3": 60.5, "mcv": 63.3}
    coverage = {dose: round(100 * table[f"{dose}_crude"].mean(), 1) for dose in published}
    assert coverage == published
    # CCC-by-sex figure plateaus (vcqi.md §5.5): boys / girls
    by_sex = (100 * table.groupby("sex")[["penta1_crude", "penta3_crude", "mcv_crude"]].mean()).round(1)
    assert by_sex.loc["M"].tolist() == [88.5, 66.9, 73.4]
    assert by_sex.loc["F"].tolist() == [69.0, 47.9, 43.7]


def test_besd_faux_every_interview_is_kept_or_excluded_with_a_reason():
    project = project_or_skip("besd_faux")
    derived = derive_project(project)
    ingested = derived.ingest
    assert ingested.rows_read == 5000 == len(derived.table) + len(ingested.exclusions)
    assert ingested.exclusions["reason"].value_counts().to_dict() == {"not_caregiver_of_child_under_5": 2269,
                                                                      "no_consent": 502}
    assert len(derived.table) == 2229 and set(derived.table["cohort"]) == {"0-4y"}
    assert derived.table["sex"].value_counts().to_dict() == {"F": 1142, "M": 1087}
    assert (derived.table["weight"] == 1).all()
    assert ingested.merges["clusters"]["records_unmatched"] == 1  # District 01 cluster 31: no interview


def test_harmonia_valid_doses_never_exceed_crude_and_national_coverage_matches():
    project = project_or_skip("vcqi_harmonia")
    table = derive_project(project).table
    for dose in HARMONIA_DOSES:
        both = table[[f"{dose}_crude", f"{dose}_valid"]].dropna()
        assert (both[f"{dose}_valid"] <= both[f"{dose}_crude"]).all(), dose
    # vcqi.md §5.5: VCQI's Harmonia crude flags give Penta1 94.3 %, Penta3 59.6 %, MCV1 79.0 % unweighted
    # and 93.55 / 59.73 / 78.52 % weighted by psweight_1year
    assert [round(100 * table[f"{d}_crude"].mean(), 1) for d in ("penta1", "penta3", "mcv1")] == [94.3, 59.6, 79.0]
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight",
                          nest=project.design.nest)
    national = design.proportions(["penta1_crude", "penta3_crude", "mcv1_crude"]).set_index("indicator")
    assert [round(100 * national.loc[f"{d}_crude", "estimate"], 2) for d in ("penta1", "penta3", "mcv1")] == \
        [93.55, 59.73, 78.52]

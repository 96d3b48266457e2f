"""Conformance with WHO VCQI and BeSD-TI demo data, run through the example projects.

The demo datasets are read from ``shared/vcqi-data`` next to the repository (PAHO licence: local
test fixtures only, never copied into the repository); each test skips when its files are absent, or
fails under ``LQAS_REQUIRE_ORACLES=1`` (tests/conftest.py).
References: VCQI's own per-child crude flags for Harmonia (surveyci testdata, RI_COVG_01
``got_crude_<dose>_to_analyze``), VCQI's own R code run on Harmonia for valid doses, full vaccination and
dropout (oracles/vcqir) and the published District 20 coverage chart (vcqi.md §3, §5.5).
"""

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from conftest import example_project

from lqas.derive import derive_project
from lqas.design import SurveyDesign, domain_rows, unit_rows
from lqas.estimate import estimate, survey_design

ORACLES = Path(__file__).resolve().parent / "oracles"
HARMONIA_DOSES = ["bcg", "hepb", "opv0", "ipv", "mcv1", "yf", "penta1", "penta2", "penta3", "pcv1", "pcv2",
                  "pcv3", "opv1", "opv2", "opv3", "rota1", "rota2", "rota3"]


def in_vcqi_order(table: pd.DataFrame) -> pd.DataFrame:
    """The children in VCQI's order, with VCQI's ``respid`` (1..n in the sort order of RI01, RI03, RI11, RI12)."""
    order = table.assign(**{key: pd.to_numeric(table[key]) for key in ("RI01", "RI03", "RI12")})
    order = order.sort_values(["RI01", "RI03", "RI11", "RI12"], kind="stable").reset_index(drop=True)
    # joined, not assigned: the child table's many blocks would make pandas warn of a fragmented frame
    return pd.concat([order, pd.Series(range(1, len(order) + 1), name="respid")], axis=1)


def test_harmonia_crude_flags_equal_vcqi_for_every_child_and_dose():
    project = example_project("vcqi_harmonia", "vcqi_RI_COVG_01_derived_testdata_surveyci.csv")
    derived = derive_project(project)
    table = derived.table
    assert derived.rows_read == 3256 and len(table) == 3256 and derived.exclusions.empty
    assert derived.merges["register"]["children_matched"] == 3256
    assert derived.merges["clusters"]["children_matched"] == 3256

    expected = pd.read_csv(project.resolve(project.data.file).parent
                           / "vcqi_RI_COVG_01_derived_testdata_surveyci.csv")
    merged = in_vcqi_order(table).merge(expected, on="respid", validate="1:1")
    assert (merged["RI01"] == merged["stratumid"]).all()
    assert (merged["weight"].astype(float) - merged["psweight"]).abs().max() < 1e-9

    mismatches = {dose: int((merged[f"{dose}_crude"] != merged[f"got_crude_{dose}_to_analyze"]).sum())
                  for dose in HARMONIA_DOSES}
    assert mismatches == dict.fromkeys(HARMONIA_DOSES, 0)


def test_district20_keeps_all_210_children_and_matches_the_published_coverage():
    project = example_project("vcqi_district20")
    derived = derive_project(project)
    table = derived.table
    assert derived.rows_read == 210 and len(table) == 210 and derived.exclusions.empty
    assert (table["weight"].astype(float) == 1).all() and set(table["cohort"]) == {"12-23m"}
    # every child is 731 days old (DOB 2015-01-01, interview 2017-01-01): kept, as VCQI does, and logged
    assert (derived.repairs["rule"] == "age_out_of_window_kept").sum() == 210

    # vcqiR District 20 demo, VCTC chart "Coverage (%)" column (self-weighted: weighted = unweighted)
    published = {"bcg": 97.6, "opv1": 86.7, "opv2": 76.2, "opv3": 68.1, "penta1": 81.9, "penta2": 71.4,
                 "penta3": 60.5, "mcv": 63.3}
    coverage = {dose: round(100 * table[f"{dose}_crude"].astype(float).mean(), 1) for dose in published}
    assert coverage == published
    # CCC-by-sex figure plateaus (vcqi.md §5.5): boys / girls
    # (the child table's 0/1 indicators are float32: averaged as float64, as the estimates are)
    doses = table[["penta1_crude", "penta3_crude", "mcv_crude"]].astype(float)
    by_sex = (100 * doses.groupby(table["sex"], observed=True).mean()).round(1)
    assert by_sex.loc["M"].tolist() == [88.5, 66.9, 73.4]
    assert by_sex.loc["F"].tolist() == [69.0, 47.9, 43.7]


def test_besd_faux_every_interview_is_kept_or_excluded_with_a_reason():
    project = example_project("besd_faux")
    derived = derive_project(project)
    assert derived.rows_read == 5000 == len(derived.table) + len(derived.exclusions)
    assert derived.exclusions["reason"].value_counts().to_dict() == {"not_caregiver_of_child_under_5": 2269,
                                                                     "no_consent": 502}
    assert len(derived.table) == 2229 and set(derived.table["cohort"]) == {"0-4y"}
    assert derived.table["sex"].value_counts().to_dict() == {"F": 1142, "M": 1087}
    assert (derived.table["weight"] == 1).all()
    assert derived.merges["clusters"]["records_unmatched"] == 1  # District 01 cluster 31: no interview


def test_harmonia_valid_doses_never_exceed_crude_and_national_coverage_matches():
    project = example_project("vcqi_harmonia")
    table = derive_project(project).table
    for dose in HARMONIA_DOSES:
        both = table[[f"{dose}_crude", f"{dose}_valid"]].dropna()
        assert (both[f"{dose}_valid"] <= both[f"{dose}_crude"]).all(), dose
    # vcqi.md §5.5: VCQI's Harmonia crude flags give Penta1 94.3 %, Penta3 59.6 %, MCV1 79.0 % unweighted
    # and 93.55 / 59.73 / 78.52 % weighted by psweight_1year
    assert [round(100 * table[f"{d}_crude"].astype(float).mean(), 1) for d in ("penta1", "penta3", "mcv1")] == [94.3, 59.6, 79.0]
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight",
                          nest=project.design.nest)
    national = design.proportions(["penta1_crude", "penta3_crude", "mcv1_crude"]).set_index("indicator")
    assert [round(100 * national.loc[f"{d}_crude", "estimate"], 2) for d in ("penta1", "penta3", "mcv1")] == \
        [93.55, 59.73, 78.52]


# -- valid doses, full vaccination, dropout: VCQI's own code run on Harmonia --------------------------
# Produced by running vcqiR's cleanup_RI_dates_and_ticks, RI_COVG_01/02/03/04, RI_CONT_01/01B and RI_QUAL_01
# (control program of the Harmonia demo) on the same files; how: tests/oracles/vcqir/README.md.
# Per VCQI variable: (our column, children with 1, sha256 prefix of the per-child values in respid order,
# "1"/"0"/"." for missing). Counts give a readable failure; the digest pins every child.
VCQI_HARMONIA = {
    **{f"got_valid_{dose}_to_analyze": (f"{dose}_valid", count, digest) for dose, count, digest in [
        ("bcg", 2153, "dc6ef729cc610bd4"), ("hepb", 1974, "66853ee1192d287b"), ("opv0", 1981, "1db3788e5ab0a4f9"),
        ("ipv", 1677, "c201d38d9ee1d350"), ("mcv1", 1603, "77a8e7400faa7834"), ("yf", 1427, "60b742859a3e0d30"),
        ("penta1", 2920, "df06e4c996c67830"), ("penta2", 2251, "adcdee70115f9637"),
        ("penta3", 979, "16f79d643d3394d0"), ("pcv1", 2991, "e9a920d123cb7cbc"), ("pcv2", 2355, "fe0f6b4501624463"),
        ("pcv3", 1025, "29d0c34e9c22814a"), ("opv1", 2948, "857dfdd805f4933d"), ("opv2", 2302, "90c50d79c5d93029"),
        ("opv3", 1036, "1ea338bd52564a8e"), ("rota1", 2879, "215e74b9e79e2705"),
        ("rota2", 2218, "eabb5d979e8ced1b"), ("rota3", 970, "c3c97536d12a412d")]},
    **{f"valid_{dose}_age1_to_analyze": (f"{dose}_valid_age1", count, digest) for dose, count, digest in [
        ("bcg", 2153, "dc6ef729cc610bd4"), ("hepb", 1974, "66853ee1192d287b"), ("opv0", 1981, "1db3788e5ab0a4f9"),
        ("ipv", 1598, "900e7d13c85501dd"), ("mcv1", 1603, "77a8e7400faa7834"), ("yf", 1427, "60b742859a3e0d30"),
        ("penta1", 2752, "d945699bd65f0cd0"), ("penta2", 2130, "6a09298f4236e463"),
        ("penta3", 918, "e73f60ae78e05f0b"), ("pcv1", 2819, "064e99e30a1df60f"), ("pcv2", 2209, "35e4dfa1e2f2b132"),
        ("pcv3", 971, "b07b8cece2425d9e"), ("opv1", 2775, "9136a9a74166232b"), ("opv2", 2177, "a1d8bbb73f305a4e"),
        ("opv3", 981, "d9484e476359ff5a"), ("rota1", 2722, "a6bca9943aa7acbd"),
        ("rota2", 2087, "8213c92629056098"), ("rota3", 912, "c268cc10d70e9f71")]},
    "fully_vaccinated_crude": ("fully_vaccinated_crude", 786, "b33430dc9769741a"),
    "fully_vaccinated_valid": ("fully_vaccinated_valid", 115, "14940e0c65f2a2f0"),
    "fully_vaccinated_by_age1": ("fully_vaccinated_valid_age1", 109, "d55fa11f5190cdfd"),
    "fully_vxd_for_age_crude": ("fully_vaccinated_for_age", 786, "b33430dc9769741a"),
    "fully_vxd_for_age_valid": ("fully_vaccinated_for_age_valid", 115, "14940e0c65f2a2f0"),
    "not_vaccinated_crude": ("not_vaccinated_crude", 2, "67de2ecdeab91d4b"),
    "not_vaccinated_valid": ("not_vaccinated_valid", 18, "34a79d1b6ba601c8"),
    "not_vaccinated_by_age1": ("not_vaccinated_valid_age1", 25, "0239ece1724e69e8"),
    "dropout_penta1_penta3": ("dropout_penta1_penta3", 1129, "878dfbbdf4ee33c9"),
    "dropout_opv1_opv3": ("dropout_opv1_opv3", 1111, "0c8ddf0049fddced"),
    "dropout_penta3_mcv1": ("dropout_penta3_mcv1", 338, "4cfe332195138267"),
    "had_card_with_dates": ("card_seen_with_dates", 2473, "98a7e765811c697d"),  # RI_QUAL_01
}

# District 20 (records not sought, self-weighted, 210 children): the same VCQI steps with the settings of
# its own control program (oracles/vcqir/README.md, "District 20")
VCQI_DISTRICT20 = {
    **{f"got_{kind}_{dose}_to_analyze" if kind != "age1" else f"valid_{dose}_age1_to_analyze":
       (f"{dose}_{kind}" if kind != "age1" else f"{dose}_valid_age1", count, digest)
       for kind, rows in [
           ("crude", [("bcg", 205, "69a2c410802a9b8a"), ("opv1", 182, "aadb35c4846b5523"),
                      ("opv2", 160, "61d3bbbe5c8dca37"), ("opv3", 143, "5d19d32a9f532637"),
                      ("penta1", 172, "612981f016805a8b"), ("penta2", 150, "5656d589ad8767ca"),
                      ("penta3", 127, "b08753964872cca5"), ("mcv", 133, "fb3c428e500a7251")]),
           ("valid", [("bcg", 205, "69a2c410802a9b8a"), ("opv1", 182, "aadb35c4846b5523"),
                      ("opv2", 151, "e31ab2fee9100e7a"), ("opv3", 31, "a4c070fe4bd40a92"),
                      ("penta1", 171, "33ca76ad21e22567"), ("penta2", 138, "7366835d5c83594c"),
                      ("penta3", 22, "056e64aaf3ee578f"), ("mcv", 128, "4eb797215411a084")]),
           ("age1", [("bcg", 205, "69a2c410802a9b8a"), ("opv1", 181, "17cd132c99b06872"),
                     ("opv2", 151, "e31ab2fee9100e7a"), ("opv3", 31, "a4c070fe4bd40a92"),
                     ("penta1", 169, "529abf4c24a0c5cc"), ("penta2", 138, "7366835d5c83594c"),
                     ("penta3", 22, "056e64aaf3ee578f"), ("mcv", 128, "4eb797215411a084")])]
       for dose, count, digest in rows},
    "fully_vaccinated_crude": ("fully_vaccinated_crude", 69, "bea5f3ac0aa1e7c4"),
    "fully_vaccinated_valid": ("fully_vaccinated_valid", 8, "836d597e9435d5ea"),
    "fully_vaccinated_by_age1": ("fully_vaccinated_valid_age1", 8, "836d597e9435d5ea"),
    "fully_vxd_for_age_crude": ("fully_vaccinated_for_age", 69, "bea5f3ac0aa1e7c4"),
    "fully_vxd_for_age_valid": ("fully_vaccinated_for_age_valid", 8, "836d597e9435d5ea"),
    "not_vaccinated_crude": ("not_vaccinated_crude", 0, "3e7c39f9467672bc"),
    "not_vaccinated_valid": ("not_vaccinated_valid", 0, "3e7c39f9467672bc"),
    "not_vaccinated_by_age1": ("not_vaccinated_valid_age1", 0, "3e7c39f9467672bc"),
    "dropout_opv1_opv3": ("dropout_opv1_opv3", 39, "58cc6d5a224ed0c1"),
    "dropout_penta1_penta3": ("dropout_penta1_penta3", 45, "563fdab859ef1662"),
    "had_card_with_dates": ("card_seen_with_dates", 210, "44f27ea1d95b48d0"),
}


def child_digest(values: pd.Series) -> str:
    text = "".join("." if pd.isna(value) else str(int(value)) for value in values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def harmonia():
    project = example_project("vcqi_harmonia")
    return project, in_vcqi_order(derive_project(project).table)


def assert_equal_to_vcqi(table: pd.DataFrame, pinned: dict) -> None:
    """Counts first (a readable failure), then the per-child digests."""
    counts = {vcqi: int(table[ours].sum()) for vcqi, (ours, _, _) in pinned.items()}
    assert counts == {vcqi: count for vcqi, (_, count, _) in pinned.items()}
    digests = {vcqi: child_digest(table[ours]) for vcqi, (ours, _, _) in pinned.items()}
    assert digests == {vcqi: digest for vcqi, (_, _, digest) in pinned.items()}


def test_harmonia_valid_doses_full_vaccination_and_dropout_equal_vcqi_for_every_child(harmonia):
    assert_equal_to_vcqi(harmonia[1], VCQI_HARMONIA)


def test_district20_crude_valid_full_vaccination_and_dropout_equal_vcqi_for_every_child():
    project = example_project("vcqi_district20")
    assert_equal_to_vcqi(in_vcqi_order(derive_project(project).table), VCQI_DISTRICT20)


def test_harmonia_weighted_valid_coverage_and_dropout_equal_vcqi(harmonia):
    # VCQI's flags weighted by psweight (oracles/vcqir/README.md): RI_COVG_02 valid coverage,
    # RI_COVG_03 fully vaccinated, RI_CONT_01B weighted Penta1 -> Penta3 dropout
    project, table = harmonia
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight",
                          nest=project.design.nest)
    expected = {"penta1_valid": 89.17, "penta3_valid": 29.35, "mcv1_valid": 49.26, "bcg_valid": 65.61,
                "fully_vaccinated_crude": 25.37, "fully_vaccinated_valid": 3.80,
                "fully_vaccinated_valid_age1": 3.61, "dropout_penta1_penta3": 36.15,
                "dropout_opv1_opv3": 35.29, "dropout_penta3_mcv1": 17.28}
    national = design.proportions(list(expected)).set_index("indicator")["estimate"]
    assert {key: round(100 * national[key], 2) for key in expected} == expected


# svypd output columns (VCQI and BeSD-TI) -> ours; ICC only where the file has it (BeSD-TI computes none)
SVYPD_COLUMNS = {"n": "n", "estimate": "estimate", "stderr": "se", "cill": "ci_low", "ciul": "ci_high", "lcb": "lcb",
                 "ucb": "ucb", "deff": "deff", "neff": "neff", "icc": "icc", "df": "df"}


def assert_equal_to_svypd(ours: pd.DataFrame, row) -> None:
    """Our one estimate row equals a pinned svypd row (its estimate comes from an iterative fit: ~3e-9)."""
    assert len(ours) == 1, row
    columns = {theirs: name for theirs, name in SVYPD_COLUMNS.items() if hasattr(row, theirs)}
    got = {theirs: float(ours.iloc[0][name]) for theirs, name in columns.items()}
    want = {theirs: float(getattr(row, theirs)) for theirs in columns}
    assert got == pytest.approx(want, rel=1e-7, abs=1e-12), row


# VCQI's outcome variables -> lqas indicators (docs/en/methods/indicators.md)
VCQI_SOURCES = {"by_card": "by_card", "by_history": "by_history", "by_register": "by_register",
                "c_or_h": "card_or_history", "c_or_r": "card_or_register", "c_or_h_or_r": "card_history_or_register",
                "by_scar": "by_scar"}
VCQI_OUTCOMES = {"fully_vaccinated_crude": "fully_vaccinated_crude", "fully_vaccinated_valid": "fully_vaccinated_valid",
                 "fully_vaccinated_by_age1": "fully_vaccinated_valid_age1", "not_vaccinated_crude": "not_vaccinated_crude",
                 "not_vaccinated_valid": "not_vaccinated_valid", "not_vaccinated_by_age1": "not_vaccinated_valid_age1",
                 "had_card_with_dates": "card_seen_with_dates", "ever_had_an_ri_card": "card_ever"}


def lqas_name(vcqi: str) -> str:
    """The lqas indicator of a VCQI outcome variable."""
    if vcqi in VCQI_OUTCOMES:
        return VCQI_OUTCOMES[vcqi]
    if vcqi.startswith("wtd_dropout_"):
        return vcqi[len("wtd_"):]
    if vcqi.startswith("valid_") and vcqi.endswith("_age1_to_analyze"):
        return f"{vcqi.split('_')[1]}_valid_age1"
    kind, dose, rest = vcqi.split("_", 3)[1:]
    if rest == "to_analyze":
        return f"{dose}_{kind}"
    return f"{dose}_{VCQI_SOURCES[rest]}"


def test_harmonia_evidence_sources_equal_vcqi_for_every_child(harmonia):
    # oracles/vcqir/harmonia_sources.csv: VCQI RI_COVG_01 got_crude_<dose>_by_card/_by_history/_by_register/
    # _c_or_h/_c_or_r/_c_or_h_or_r and got_crude_bcg_by_scar, every child (count of 1s, digest of the values)
    pinned = pd.read_csv(ORACLES / "vcqir" / "harmonia_sources.csv")
    assert len(pinned) == 18 * 6 + 1
    assert_equal_to_vcqi(harmonia[1], {row.vcqi: (lqas_name(row.vcqi), row.n_with_1, row.digest)
                                       for row in pinned.itertuples(index=False)})


def test_harmonia_estimates_equal_vcqi_svyp_output(harmonia):
    # VCQI's own estimation (the _04GO steps -> make_svyp_output_database -> svypd/svyp_ci_calc, R survey
    # with ids = clusterid, strata = stratumid, weights = psweight; Wilson CI with NEFF and df) on Harmonia,
    # oracles/vcqir/harmonia_estimates.csv: per-dose crude, valid and valid by age 1 coverage, fully
    # vaccinated and not vaccinated (crude, valid, by age 1), weighted dropout (RI_CONT_01B), cards
    # (RI_QUAL_01 with dates, RI_QUAL_02) nationally, by province, district, sex and urban/rural; crude
    # coverage by evidence source nationally, by province, sex and urban/rural.
    # Read from the rows `lqas run` writes to estimates.csv: [levels] province > catchment, [stratifiers] area.
    project, table = harmonia
    expected = pd.read_csv(ORACLES / "vcqir" / "harmonia_estimates.csv", dtype={"value": str})
    ours_of = {outcome: lqas_name(outcome) for outcome in expected["outcome"].unique()}
    design = SurveyDesign(table, strata=project.design.strata, psu=project.design.psu, weight="weight",
                          nest=project.design.nest)
    assert project.levels.columns == ("province", "catchment") and project.stratifiers.columns == ("area",)
    estimates = estimate(design, sorted(set(ours_of.values())), project.design, levels=project.levels.columns,
                         stratifiers=project.stratifiers.columns, stratifier_levels=project.stratifiers.levels)
    provinces = {name.split(":")[0]: name for name in table["province"].dropna().unique()}

    def ours(indicator: str, domain: str, value: str) -> pd.DataFrame:
        if domain == "national":
            return domain_rows(estimates, indicator)
        if domain == "province":
            return domain_rows(estimates, indicator, province=provinces[value])
        if domain == "district":
            return unit_rows(estimates, indicator, "catchment").query("catchment == @value")
        if domain == "urban":
            return domain_rows(estimates, indicator, area={"1": "urban", "0": "rural"}[value])
        return domain_rows(estimates, indicator, sex={"1": "M", "2": "F"}[value])

    for row in expected.fillna({"value": ""}).itertuples(index=False):
        assert_equal_to_svypd(ours(ours_of[row.outcome], row.domain, row.value), row)
    assert len(expected) == 65 * 17 + 109 * 7  # 65 outcomes in 17 domains, 109 evidence sources in 7
    # the district's name is written beside its stratum; a province row names no district
    district_rows = unit_rows(estimates, "penta3_crude", "catchment")
    assert set(district_rows["district"]) == {f"District {k:02d}" for k in range(1, 11)}
    assert set(domain_rows(estimates, "penta3_crude", free=("province",))["district"]) == {"all"}


def test_besd_faux_core_estimates_equal_besdti_svypd():
    # BeSD-TI's svypd on its own core indicators, weighted, among respondents (oracles/besdti/README.md).
    # District 01's sampled cluster 31 has no interview and still counts as a PSU, as in BeSD-TI and VCQI.
    project = example_project("besd_faux")
    derived = derive_project(project)
    assert derived.empty_psus == {"District 01": 1}
    items = ["intent", "confb", "normf", "where", "afford"]
    estimates = estimate(survey_design(derived, project.design), [f"besd_{item}" for item in items], project.design)
    estimates = estimates[(estimates["cohort"] == "all") & (estimates["sex"] == "all")
                          & (estimates["vaccination_status"] == "all")]
    expected = pd.read_csv(ORACLES / "besdti" / "besd_core_estimates.csv")
    for row in expected.itertuples(index=False):
        assert_equal_to_svypd(estimates[(estimates["indicator"] == f"besd_{row.item}")
                                        & (estimates["catchment"] == row.domain)], row)

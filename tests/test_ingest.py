"""Readers (CSV, XLSX, .dta, .sav), the kobo/vcqi/besd-ti profiles, merges and row validation on small
files written by the tests."""

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from lqas.config import load_project
from lqas.errors import ConfigError, InputError
from lqas.ingest import ingest, load_profile, parse_dates, read_table
from lqas.vaccination import derive, load_schedule

COHORTS = {"18w-11m": (126, 364), "12-23m": (365, 729)}
DOSES = ["bcg", "penta1", "penta2", "penta3"]
HEADER = ["_id", "today", "hh/catchment", "hh/cluster", "hh/cluster_name", "child/child_id", "child/sex",
          "child/dob", "child/name", "card/card_seen", "card/penta1_date", "card/penta1_tick",
          "recall/penta", "recall/penta_count", "besd/CHI_confb", "besd/CHI_lowac/noth"]


def write_csv(tmp_path, rows, name="export.csv", encoding="utf-8", sep=","):
    path = tmp_path / name
    pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False, encoding=encoding, sep=sep)
    return path


def good_row(child_id="K-01-1", **changes):
    row = dict(zip(HEADER, ["1", "2025-10-20", "kologo", "KOL-01", "Ségou-Koura", child_id, "female",
                            "2024-06-01", "Awa", "yes", "2024-07-15", "", "", "", "4", "1"]))
    row.update(changes)
    return row


def run(path):
    return ingest(path, "kobo", cohorts=COHORTS, doses=DOSES)


def test_kobo_profile_maps_to_canonical_columns_and_drops_personal_data(tmp_path):
    result = run(write_csv(tmp_path, [good_row()]))
    child = result.children.iloc[0]
    assert child["catchment"] == "kologo" and child["cluster"] == "KOL-01" and child["sex"] == "F"
    assert child["age_days"] == (pd.Timestamp("2025-10-20") - pd.Timestamp("2024-06-01")).days == 506
    assert child["cohort"] == "12-23m"
    assert child["penta1_card_date"] == pd.Timestamp("2024-07-15")
    assert child["CHI_confb"] == "4" and child["CHI_lowacnoth"] == "1"
    assert "child/name" not in result.children.columns and "Awa" not in result.children.to_csv()
    assert child["source_row"] == 2 and child["_id"] == "1"


def test_dose_never_asked_gets_no_evidence_columns(tmp_path):
    # bcg is in the schedule but the export has no card or recall column for it (e.g. an older form):
    # no empty card columns are made up, so the dose is left out of denominators, not counted as 0
    children = run(write_csv(tmp_path, [good_row()])).children
    assert "penta1_card_date" in children and "penta1_card_tick" in children
    assert not [c for c in children.columns if c.startswith("bcg_")]
    derived = derive(children, load_schedule("mali"), cohorts=COHORTS)
    assert np.isnan(derived.loc[0, "bcg_crude"]) and derived.loc[0, "penta1_crude"] == 1


def test_recall_count_expands_to_doses(tmp_path):
    rows = [good_row("a", **{"card/card_seen": "no", "card/penta1_date": "", "recall/penta": "yes",
                             "recall/penta_count": "2"}),
            good_row("b", **{"card/penta1_date": "", "recall/penta": "yes", "recall/penta_count": "99"}),
            good_row("c", **{"card/penta1_date": "", "recall/penta": "dk"})]
    children = run(write_csv(tmp_path, rows)).children.set_index("child_id")
    assert children.loc["a", ["penta1_recall", "penta2_recall", "penta3_recall"]].tolist() == [1, 1, 0]
    assert children.loc["b", ["penta1_recall", "penta2_recall"]].tolist() == [1, 0]  # VCQI: unknown count = 1
    assert children.loc["c", ["penta1_recall", "penta2_recall"]].tolist() == [0, 0]  # dk = no


def test_rows_in_equal_rows_kept_plus_excluded_with_reasons(tmp_path):
    rows = [good_row("a"), good_row("a", _id="2"), good_row("b", **{"child/dob": "15/13/2024"}),
            good_row("c", **{"child/dob": "2025-09-01"}), good_row("d", **{"hh/cluster": ""}),
            good_row("e", today="hier"), good_row("", **{"child/child_id": ""})]
    result = run(write_csv(tmp_path, rows))
    assert result.rows_read == 7 == len(result.children) + len(result.exclusions)
    reasons = dict(zip(result.exclusions["source_row"], result.exclusions["reason"]))
    assert reasons == {3: "duplicate_child_id", 4: "dob_invalid", 5: "age_out_of_window", 6: "missing_design",
                       7: "interview_date_invalid", 8: "missing_child_id"}


def test_unparseable_card_date_becomes_a_tick_and_is_recorded(tmp_path):
    result = run(write_csv(tmp_path, [good_row(**{"card/penta1_date": "ne sait pas"})]))
    assert result.children.loc[0, "penta1_card_tick"] == 1
    assert pd.isna(result.children.loc[0, "penta1_card_date"])
    repair = result.repairs.iloc[0]
    assert (repair["column"], repair["rule"], repair["original"]) == ("penta1_card_date", "unparseable_date_to_tick",
                                                                      "ne sait pas")


def test_unknown_code_is_set_missing_and_recorded(tmp_path):
    result = run(write_csv(tmp_path, [good_row(**{"card/card_seen": "peut-être"})]))
    assert pd.isna(result.children.loc[0, "card_seen"])
    assert result.repairs["rule"].tolist() == ["unknown_code_set_missing"]


def test_latin1_semicolon_csv_reads_like_its_utf8_twin(tmp_path):
    utf8 = run(write_csv(tmp_path, [good_row()], "utf8.csv"))
    latin1 = run(write_csv(tmp_path, [good_row()], "latin1.csv", encoding="latin-1", sep=";"))
    assert latin1.children.loc[0, "cluster_name"] == "Ségou-Koura"
    pd.testing.assert_frame_equal(utf8.children, latin1.children)


def test_xlsx_reads_like_csv(tmp_path):
    csv_result = run(write_csv(tmp_path, [good_row()]))
    xlsx_path = tmp_path / "export.xlsx"
    pd.DataFrame([good_row()], columns=HEADER).to_excel(xlsx_path, index=False)
    pd.testing.assert_frame_equal(csv_result.children, run(xlsx_path).children)


def test_parse_dates_accepts_iso_day_month_year_and_excel_serials():
    dates, bad = parse_dates(pd.Series(["2025-01-31", "31/01/2025", "45688", "2025-02-31", None]))
    assert dates[:3].tolist() == [pd.Timestamp("2025-01-31")] * 3
    assert bad.tolist() == [False, False, False, True, False]


@pytest.mark.parametrize("content, message", [
    (b"", "file is empty"),
    (b"_id,today\n", "no data rows"),
], ids=["empty", "header-only"])
def test_broken_files_give_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"broken.csv: {message}"):
        read_table(path)


def test_missing_required_column_is_named(tmp_path):
    path = tmp_path / "export.csv"
    pd.DataFrame([good_row()]).drop(columns=["child/dob"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"export.csv: required column missing: dob \(column 'child/dob'\); "
                       r"this profile reads the lqas Mali form .* name the form in survey.toml \(\[data\] form = .*"
                       r"draft a profile with `lqas init --export EXPORT --form FORM`"):
        run(path)


def test_truncated_xlsx_is_reported_not_traced(tmp_path):
    path = tmp_path / "cut.xlsx"
    pd.DataFrame([good_row()], columns=HEADER).to_excel(path, index=False)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError, match="cut.xlsx: cannot read file"):
        read_table(path)


# --------------------------------------------------------------------------- Stata/SPSS, VCQI-shaped data


VCQI_DOSES = ["bcg", "penta1", "penta2", "penta3"]
ONE_COHORT = {"12-23m": (365, 729)}


def vcqi_ri(**columns):
    """A small VCQI RI dataset: 3 children in stratum 1, clusters 1-2; override columns by keyword."""
    frame = pd.DataFrame({
        "RI01": [1, 1, 1], "RI02": ["North", "North", "North"], "RI03": [1, 1, 2], "RI11": ["01", "02", "01"],
        "RI12": [1, 1, 2], "RI09_d": [15, 15, 16], "RI09_m": [1, 1, 1], "RI09_y": [2017, 2017, 2017],
        "RI20": [1, 2, 2], "RI26": [1, 1, 99], "RI27": [1, 1, 2], "RI17": ["Awa", "Moussa", "Fanta"],
        "dob_date_card_d": [1.0, 10.0, np.nan], "dob_date_card_m": [3.0, 3.0, np.nan],
        "dob_date_card_y": [2015.0, 2015.0, np.nan],
        "dob_date_history_d": [1, 12, 20], "dob_date_history_m": [3, 2, 6], "dob_date_history_y": [2015, 2015, 2015],
        "bcg_scar_history": [1, 3, 2],
    })
    for dose in VCQI_DOSES:
        frame[f"{dose}_date_card_d"] = [5.0, np.nan, np.nan]
        frame[f"{dose}_date_card_m"] = [5.0, np.nan, np.nan]
        frame[f"{dose}_date_card_y"] = [2015.0, np.nan, np.nan]
        frame[f"{dose}_tick_card"] = [np.nan, 2.0, np.nan]
        frame[f"{dose}_history"] = [2, 2, 1]
    for name, values in columns.items():
        frame[name] = values
    return frame


def write_dta(tmp_path, frame, name="RI.dta", labels=None):
    path = tmp_path / name
    pyreadstat.write_dta(frame, str(path), variable_value_labels=labels or {})
    return path


def vcqi_cm(**columns):
    frame = pd.DataFrame({"HH01": [1.0, 1.0], "HH02": ["North", "North"], "HH03": [1.0, 2.0],
                          "HH04": ["C1", "C2"], "psweight_1year": [120.5, 80.25], "urban_cluster": [1, 0]})
    for name, values in columns.items():
        frame[name] = values
    return frame


def run_vcqi(path, **options):
    return ingest(path, "vcqi", cohorts=ONE_COHORT, doses=VCQI_DOSES, **options)


def test_dta_cells_read_as_text_codes_with_value_labels_kept(tmp_path):
    path = write_dta(tmp_path, vcqi_ri(), labels={"RI20": {1: "Boys", 2: "Girls"}})
    frame = read_table(path)
    assert frame.loc[0, ["RI01", "RI11", "RI20", "dob_date_card_y"]].tolist() == ["1", "01", "1", "2015"]
    assert pd.isna(frame.loc[2, "dob_date_card_d"])
    assert frame.attrs["value_labels"] == {"RI20": {"1": "Boys", "2": "Girls"}}


def test_sav_reads_like_its_dta_twin(tmp_path):
    labels = {"RI20": {1: "Boys", 2: "Girls"}}
    dta = write_dta(tmp_path, vcqi_ri(), labels=labels)
    sav = tmp_path / "RI.sav"
    pyreadstat.write_sav(vcqi_ri(), str(sav), variable_value_labels=labels)
    from_sav, from_dta = read_table(sav), read_table(dta)
    pd.testing.assert_frame_equal(from_sav, from_dta)
    assert from_sav.attrs["value_labels"] == from_dta.attrs["value_labels"]
    pd.testing.assert_frame_equal(run_vcqi(sav).children, run_vcqi(dta).children)


def test_corrupt_dta_is_reported_not_traced(tmp_path):
    path = tmp_path / "broken.dta"
    path.write_bytes(b"not a stata file" * 10)
    with pytest.raises(InputError, match="broken.dta: cannot read file"):
        read_table(path)


def test_profile_maps_by_value_label_or_by_code(tmp_path):
    profile = load_profile("vcqi")
    profile["codes"] = {**profile["codes"], "sex": {"Boys": "M", "Girls": "F"}}
    labelled = write_dta(tmp_path, vcqi_ri(), labels={"RI20": {1: "Boys", 2: "Girls"}})
    by_label = ingest(labelled, profile, cohorts=ONE_COHORT, doses=VCQI_DOSES).children
    by_code = run_vcqi(labelled).children
    assert by_label["sex"].tolist() == by_code["sex"].tolist() == ["M", "F", "F"]


def test_vcqi_profile_builds_ids_dates_and_evidence(tmp_path):
    result = run_vcqi(write_dta(tmp_path, vcqi_ri()))
    children = result.children.set_index("child_id")
    assert list(children.index) == ["1_1_01_1", "1_1_02_1", "1_2_01_2"]
    first = children.loc["1_1_01_1"]
    assert first["household_id"] == "1_1_01" and first["catchment"] == "1" and first["cluster"] == "1"
    assert first["interview_date"] == pd.Timestamp("2017-01-15") and first["sex"] == "M"
    assert first["penta1_card_date"] == pd.Timestamp("2015-05-05") and first["penta1_recall"] == 0
    assert children.loc["1_1_02_1", "penta1_card_tick"] == 0
    assert children["card_ever"].tolist() == [1, 1, 0]                  # 99 do not know -> no
    assert children["bcg_scar"].tolist()[0] == 1 and pd.isna(children["bcg_scar"].iloc[1])  # 3 = not checked
    assert children.loc["1_2_01_2", "penta3_recall"] == 1
    assert "RI17" not in result.children and "Awa" not in result.children.to_csv()  # personal: child name
    assert children.loc["1_1_01_1", "RI11"] == "01" and first["source_row"] == 1  # Stata observation number


def test_interview_date_from_either_vcqi_spelling(tmp_path):
    frame = vcqi_ri().rename(columns={"RI09_d": "RI09d", "RI09_m": "RI09m", "RI09_y": "RI09y"})
    children = run_vcqi(write_dta(tmp_path, frame)).children
    assert children["interview_date"].tolist() == [pd.Timestamp("2017-01-15")] * 2 + [pd.Timestamp("2017-01-16")]


def test_partial_and_impossible_card_dates_become_ticks_with_repairs(tmp_path):
    frame = vcqi_ri(penta1_date_card_d=[5.0, np.nan, 31.0], penta1_date_card_m=[5.0, 6.0, 2.0],
                    penta1_date_card_y=[2015.0, 2015.0, 2015.0])
    result = run_vcqi(write_dta(tmp_path, frame))
    children = result.children.set_index("child_id")
    assert pd.isna(children.loc["1_1_02_1", "penta1_card_date"]) and children.loc["1_1_02_1", "penta1_card_tick"] == 1
    assert pd.isna(children.loc["1_2_01_2", "penta1_card_date"]) and children.loc["1_2_01_2", "penta1_card_tick"] == 1
    repairs = result.repairs.set_index("rule")
    assert repairs.loc["partial_date_to_tick", ["child_id", "column", "original"]].tolist() == [
        "1_1_02_1", "penta1_card_date", "2015-06-?"]
    assert repairs.loc["impossible_date_to_tick", "original"] == "2015-02-31"


def test_dob_agreeing_parts_else_earliest_plausible_source(tmp_path):
    # child 1: card and history agree; child 2: they disagree -> earliest (history 12 Feb);
    # child 3: history only, but after the interview -> dropped, no DOB
    frame = vcqi_ri(dob_date_history_y=[2015, 2015, 2018])
    result = ingest(write_dta(tmp_path, frame), "vcqi", cohorts={"18w-11m": (126, 364), "12-23m": (365, 729)},
                    doses=VCQI_DOSES)
    children = result.children.set_index("child_id")
    assert children.loc["1_1_01_1", "dob"] == pd.Timestamp("2015-03-01")
    assert children.loc["1_1_02_1", "dob"] == pd.Timestamp("2015-02-12")
    assert children.loc["1_1_02_1", "dob_card"] == pd.Timestamp("2015-03-10")
    assert children.loc["1_1_02_1", "dob_history"] == pd.Timestamp("2015-02-12")
    assert result.exclusions.set_index("child_id").loc["1_2_01_2", "reason"] == "dob_invalid"  # two cohorts
    assert "dob_after_interview_dropped" in result.repairs["rule"].tolist()


def test_dob_from_parts_that_come_from_different_sources(tmp_path):
    # card has day and month only, history the full date with the same month and year -> one date
    frame = vcqi_ri(dob_date_card_d=[1.0, 12.0, np.nan], dob_date_card_m=[3.0, 2.0, np.nan],
                    dob_date_card_y=[2015.0, np.nan, np.nan])
    children = run_vcqi(write_dta(tmp_path, frame)).children.set_index("child_id")
    assert children.loc["1_1_02_1", "dob"] == pd.Timestamp("2015-02-12")
    assert pd.isna(children.loc["1_1_02_1", "dob_card"])


def test_vcqi_keeps_out_of_window_children_in_the_cohort_and_says_so(tmp_path):
    frame = vcqi_ri(dob_date_card_y=[2014.0, 2015.0, np.nan], dob_date_history_y=[2014, 2015, 2015])
    result = run_vcqi(write_dta(tmp_path, frame))
    assert len(result.children) == 3 and result.exclusions.empty
    kept = result.repairs[result.repairs["rule"] == "age_out_of_window_kept"].iloc[0]
    assert (kept["child_id"], kept["new"]) == ("1_1_01_1", "12-23m")
    assert kept["original"].startswith("age 1051 days")
    profile = load_profile("vcqi")
    profile["age"] = {"from": "dob", "window": "exclude"}
    strict = ingest(write_dta(tmp_path, frame), profile, cohorts=ONE_COHORT, doses=VCQI_DOSES)
    assert strict.exclusions["reason"].tolist() == ["age_out_of_window"]


def test_register_and_cluster_merges_with_every_row_accounted_for(tmp_path):
    ri = write_dta(tmp_path, vcqi_ri(RI03=[1, 1, 3]))  # third child's cluster 3 has no CM record
    rihc = pd.DataFrame({"RIHC01": [1, 1, 1], "RIHC03": [1, 1, 9], "RIHC14": ["02", "01", "05"],
                         "RIHC15": [1, 1, 1], "dob_date_register_d": [12, 1, 1], "dob_date_register_m": [2, 3, 1],
                         "dob_date_register_y": [2015, 2015, 2015]})
    for dose in VCQI_DOSES:
        rihc[f"{dose}_date_register_d"] = [7.0, np.nan, np.nan]
        rihc[f"{dose}_date_register_m"] = [6.0, np.nan, np.nan]
        rihc[f"{dose}_date_register_y"] = [2015.0, np.nan, np.nan]
        rihc[f"{dose}_tick_register"] = [np.nan, 1.0, np.nan]
    register, clusters = write_dta(tmp_path, rihc, "RIHC.dta"), write_dta(tmp_path, vcqi_cm(), "CM.dta")
    result = run_vcqi(ri, merge={"register": register, "clusters": {"file": clusters}})
    assert result.rows_read == 3 == len(result.children) + len(result.exclusions)
    excluded = result.exclusions.iloc[0]
    assert (excluded["child_id"], excluded["reason"]) == ("1_3_01_2", "no_cluster_metadata")
    assert excluded["detail"] == "no record in CM.dta for RI01=1, RI03=3"
    children = result.children.set_index("child_id")
    assert children.loc["1_1_02_1", "penta1_register_date"] == pd.Timestamp("2015-06-07")
    assert children.loc["1_1_01_1", "penta1_register_tick"] == 1 and pd.isna(children.loc["1_1_01_1", "penta1_register_date"])
    assert children["weight"].astype(float).tolist() == [120.5, 120.5]
    assert children["area"].tolist() == ["urban", "urban"]
    assert children.loc["1_1_02_1", "dob_register"] == pd.Timestamp("2015-02-12")
    assert result.merges["register"]["records_unmatched"] == 1   # cluster 9: a record without a child
    assert result.merges["clusters"] == {"file": str(clusters), "rows": 2, "children_matched": 2,
                                         "children_unmatched": 1, "records_unmatched": 1, "empty_clusters": 1}
    # CM cluster 2 of stratum 1 has no child: a sampled PSU with a zero total (VCQI placeholder)
    assert result.empty_clusters == {children["catchment"].iloc[0]: 1}


def test_child_without_register_record_is_kept(tmp_path):
    rihc = pd.DataFrame({"RIHC01": [1], "RIHC03": [1], "RIHC14": ["01"], "RIHC15": [1], "bcg_tick_register": [1]})
    result = run_vcqi(write_dta(tmp_path, vcqi_ri()), merge={"register": write_dta(tmp_path, rihc, "RIHC.dta")})
    assert len(result.children) == 3
    assert result.children["bcg_register_tick"].tolist()[0] == 1
    assert "penta1_register_tick" not in result.children   # no register column for that dose


def test_merge_keys_match_across_float_and_text_storage(tmp_path):
    child = pd.DataFrame({"district": ["D1", "D1"], "cluster": ["1", "2.0"], "child": ["a", "b"]})
    child_path = tmp_path / "children.csv"
    child.to_csv(child_path, index=False)
    cm = write_dta(tmp_path, pd.DataFrame({"name": ["D1", "D1"], "id": [1.0, 2.0], "w": [3.5, 4.0]}), "cm.dta")
    profile = {"profile": {}, "columns": {"child_id": "child", "catchment": "district", "cluster": "cluster",
                                          "weight": "w", "interview_date": {"value": "2025-01-01"},
                                          "age_years": {"value": "1"}},
               "age": {"from": "years"}, "merge": {"cm": {"keys": {"district": "name", "cluster": "id"}}}}
    result = ingest(child_path, profile, cohorts=ONE_COHORT, doses=[], merge={"cm": cm})
    assert result.children["weight"].tolist() == ["3.5", "4"]
    assert result.children["cluster"].tolist() == ["1", "2"]


def test_duplicate_merge_key_is_an_error_naming_the_rows(tmp_path):
    cm = write_dta(tmp_path, vcqi_cm(HH03=[1.0, 1.0]), "CM.dta")
    with pytest.raises(InputError, match=r"CM.dta: rows 1 and 2 have the same merge key \(HH01=1, HH03=1\)"):
        run_vcqi(write_dta(tmp_path, vcqi_ri()), merge={"clusters": cm})


def test_merge_unknown_to_the_profile_needs_keys(tmp_path):
    with pytest.raises(ConfigError, match="data.merge.households: the mapping profile declares no merge"):
        run_vcqi(write_dta(tmp_path, vcqi_ri()), merge={"households": tmp_path / "HH.dta"})


def test_missing_merge_key_column_is_named(tmp_path):
    cm = write_dta(tmp_path, vcqi_cm().drop(columns=["HH03"]), "CM.dta")
    with pytest.raises(InputError, match="CM.dta: merge 'clusters' key column missing: HH03"):
        run_vcqi(write_dta(tmp_path, vcqi_ri()), merge={"clusters": cm})


def test_eligibility_rules_and_age_in_completed_years(tmp_path):
    rows = pd.DataFrame({
        "Districtname": ["District 01"] * 5, "Clusternum": ["1.0"] * 5, "Housenum": ["1", "2", "3", "4", "5"],
        "PUID": ["1"] * 5, "date_of_interview": ["2024-06-01 04:00:00"] * 5,
        "CHI_consent": ["1", "0", "1", "1", "1"], "CHI_parcar": ["1", "", "0", "1", "1"],
        "CHI_chiage": ["1", "", "", "3", "0"], "CHI_chigender": ["1", "", "", "2", "1"],
        "CHI_confb": ["4", "", "", "2", "3"]})
    path = tmp_path / "besd.csv"
    rows.to_csv(path, index=False)
    result = ingest(path, "besd-ti", cohorts={"12-23m": (365, 729)}, doses=[])
    assert result.rows_read == 5 == len(result.children) + len(result.exclusions)
    reasons = dict(zip(result.exclusions["source_row"], result.exclusions["reason"]))
    assert reasons == {3: "no_consent", 4: "not_caregiver_of_child_under_5", 5: "age_out_of_window", 6: "age_out_of_window"}
    child = result.children.iloc[0]
    assert (child["child_id"], child["cohort"], child["sex"], child["CHI_confb"]) == ("District 01_1_1_1", "12-23m", "F", "4")
    assert child["Clusternum"] == "1.0" and pd.isna(child["age_days"])
    under5 = ingest(path, "besd-ti", cohorts={"0-4y": (0, 1824)}, doses=[])
    assert len(under5.children) == 3 and set(under5.exclusions["reason"]) == {"no_consent", "not_caregiver_of_child_under_5"}


def test_project_file_declares_merges_resolved_from_its_folder(tmp_path):
    (tmp_path / "survey.toml").write_text(
        '[data]\nfile = "RI.dta"\nprofile = "vcqi"\n[data.merge]\nclusters = "CM.dta"\n'
        '[data.merge.register]\nfile = "/abs/RIHC.dta"\nkeys = { RI01 = "RIHC01" }\n', encoding="utf-8")
    options = load_project(tmp_path / "survey.toml").data.ingest_options(tmp_path)
    assert options["merge"] == {"clusters": {"file": tmp_path / "CM.dta"},
                                "register": {"file": Path("/abs/RIHC.dta"), "keys": {"RI01": "RIHC01"}}}
    assert (options["sheet"], options["encoding"], options["delimiter"]) == (None, None, None)


def test_custom_profile_example_of_the_profiles_readme_runs(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "instruments" / "profiles" / "README.md").read_text(encoding="utf-8")
    example = readme.split("Example — a CSV")[1].split("```toml\n")[1].split("```")[0]
    profile = tomllib.loads(example)
    rows = pd.DataFrame({"aire": ["kologo"], "grappe": ["3"], "menage": ["12"], "ligne": ["1"],
                         "date_enquete": ["2025-10-20"], "naiss_j": ["1"], "naiss_m": ["6"], "naiss_a": ["2024"],
                         "sexe": ["2"], "carte_vue": ["1"], "nom_enfant": ["Awa"], "penta1_date": ["15/07/2024"],
                         "penta1_coche": [""], "penta1_rappel": ["8"]})
    path = tmp_path / "enquete.csv"
    rows.to_csv(path, index=False)
    child = ingest(path, profile, cohorts=COHORTS, doses=["penta1"]).children.iloc[0]
    assert (child["child_id"], child["sex"], child["cohort"]) == ("kologo-3-12-1", "F", "12-23m")
    assert child["penta1_card_date"] == pd.Timestamp("2024-07-15") and child["penta1_recall"] == 0
    assert "nom_enfant" not in child.index


@pytest.mark.parametrize("change, error, message", [
    ({"eligibility": [{"column": "consent", "keep": ["1"], "reason": "no_consent"}]}, InputError,
     "RI.dta: eligibility column missing: consent"),
    ({"age": {"from": "months"}}, ConfigError, r"\[age\] from must be 'dob' or 'years', got 'months'"),
    ({"age": {"window": "ignore"}}, ConfigError, r"\[age\] window must be 'exclude' or 'keep', got 'ignore'"),
    ({"columns": {"child_id": {"concat": ["RI01"]}}}, ConfigError, "cannot read column spec"),
], ids=["eligibility-column", "age-from", "age-window", "column-spec"])
def test_profile_mistakes_give_one_line_errors(tmp_path, change, error, message):
    profile = {**load_profile("vcqi"), **change}
    with pytest.raises(error, match=message):
        ingest(write_dta(tmp_path, vcqi_ri()), profile, cohorts=ONE_COHORT, doses=VCQI_DOSES)


def test_unsupported_file_type_names_the_readable_ones(tmp_path):
    path = tmp_path / "export.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"export.json: unsupported file type '.json' \(expected .csv, .xlsx, .dta or .sav\)"):
        read_table(path)


def test_merge_unmatched_rule_must_be_keep_or_exclude(tmp_path):
    profile = load_profile("vcqi")
    profile["merge"] = {"clusters": {**profile["merge"]["clusters"], "unmatched": "drop"}}
    with pytest.raises(ConfigError, match="merge 'clusters': unmatched must be 'keep' or 'exclude', got 'drop'"):
        ingest(write_dta(tmp_path, vcqi_ri()), profile, cohorts=ONE_COHORT, doses=VCQI_DOSES,
               merge={"clusters": write_dta(tmp_path, vcqi_cm(), "CM.dta")})


def test_a_row_cut_short_is_excluded_not_counted_as_a_child(tmp_path):
    path = write_csv(tmp_path, [good_row("K-01-1"), good_row("K-01-2")])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n").rsplit(",", 9)[0] + "\n", encoding="utf-8")  # the transfer stopped mid-row
    result = run(path)
    assert result.rows_read == 2 and len(result.children) == 1
    excluded = result.exclusions.iloc[0]
    assert (excluded["source_row"], excluded["child_id"], excluded["reason"]) == (3, "K-01-2", "truncated_row")
    assert excluded["detail"] == f"row has {len(HEADER) - 9} of {len(HEADER)} fields"


def test_a_whole_latin1_file_reads_like_utf8_but_a_stray_byte_is_refused(tmp_path):
    utf8 = run(write_csv(tmp_path, [good_row()], name="utf8.csv"))
    latin = run(write_csv(tmp_path, [good_row()], name="latin.csv", encoding="cp1252"))
    assert latin.children["cluster_name"].tolist() == utf8.children["cluster_name"].tolist() == ["Ségou-Koura"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes((tmp_path / "utf8.csv").read_bytes().replace(b"Awa", b"A\xefwa"))
    with pytest.raises(InputError, match=r"mixed.csv: line 2, column \d+: byte 0xEF is not UTF-8, while the rest"):
        run(mixed)


def test_empty_clusters_are_counted_from_the_kept_children_when_a_row_before_them_is_excluded(tmp_path):
    """The first child is excluded (its cluster 3 has no CM record); the two kept children are in CM's
    clusters 1 and 2, so no sampled cluster is empty (the count once read the first rows of the export,
    not the kept ones, and found cluster 2 empty)."""
    ri = write_dta(tmp_path, vcqi_ri(RI03=[3, 1, 2]))
    clusters = write_dta(tmp_path, vcqi_cm(), "CM.dta")
    result = run_vcqi(ri, merge={"clusters": {"file": clusters}})
    assert result.exclusions["reason"].tolist() == ["no_cluster_metadata"] and len(result.children) == 2
    assert sorted(result.children["cluster"].astype(str)) == ["1", "2"]
    assert result.empty_clusters == {} and result.merges["clusters"]["empty_clusters"] == 0


def test_recall_answers_and_dont_know_are_counted_per_child_as_the_export_holds_them():
    """The kobo profile's [recall] dont_know = ["dk"]: each child's answered recall questions and its "dk"
    among them, counted from the export's own cells (the fieldwork check of don't-know answers reads them)."""
    from lqas.derive import derive_project

    root = Path(__file__).resolve().parents[1]
    project = load_project(root / "examples" / "mali_followup" / "survey.toml")
    table = derive_project(project).table
    export = pd.read_csv(root / "examples" / "mali_followup" / "data" / "mali_followup_kobo.csv", dtype=str,
                         keep_default_na=False)
    profile = tomllib.loads((root / "instruments" / "profiles" / "kobo.toml").read_text(encoding="utf-8"))
    ever = [spec["ever"] for spec in profile["recall"]["antigens"].values() if spec["ever"] in export]
    assert len(ever) >= 8
    cells = export[ever].apply(lambda values: values.str.strip())
    expected_answers = (cells != "").sum(axis=1)
    expected_dk = (cells == "dk").sum(axis=1)
    rows = table["source_row"].astype(int) - 2  # the spreadsheet row of the export's first record is 2
    assert (table["recall_answers"].to_numpy() == expected_answers.iloc[rows].to_numpy()).all()
    assert (table["recall_dont_know"].to_numpy() == expected_dk.iloc[rows].to_numpy()).all()
    assert table["recall_dont_know"].sum() > 100  # the demo's caregivers say "dk" often enough to count


def test_dates_from_parts_write_each_part_as_read_and_flag_partial_and_impossible_dates():
    """VCQI's _d/_m/_y parts: a real date; a part missing ("?"), not a number or not whole (as written,
    stripped); all three filled but no such day (31 February, month 13, 99 = don't know)."""
    import numpy as np

    from lqas.readers import dates_from_parts

    day = pd.Series([" 12 ", "31", np.nan, "3.5", "", "5", np.nan], dtype=object)
    month = pd.Series(["abc", "2", np.nan, "1", "7", "13", np.nan], dtype=object)
    year = pd.Series([np.nan, "2024", np.nan, "2024", "2025", "2024.0", np.nan], dtype=object)
    parts = dates_from_parts(day, month, year)
    assert parts.text.dropna().tolist() == ["?-abc-12", "2024-02-31", "2024-01-3.5", "2025-07-", "2024-13-05"]
    assert parts.text.isna().tolist() == [False, False, True, False, False, False, True]
    assert parts.partial.tolist() == [True, False, False, False, False, False, False]
    assert parts.impossible.tolist() == [False, True, False, True, True, True, False]
    assert parts.dates.isna().all()
    real = dates_from_parts(pd.Series(["9", 9.0]), pd.Series(["3", 3]), pd.Series(["2025", "2025"]))
    assert real.dates.tolist() == [pd.Timestamp("2025-03-09")] * 2 and real.text.tolist() == ["2025-03-09"] * 2


@pytest.mark.parametrize("ids", [
    ["a", "b", "a", "c", "b", "a"],
    ["a\x00x", "a\x00y", "a\x00x", "a"],  # texts differing after a NUL are different ids
    [101, 102, 101.0, 103],  # numbers from a Stata file; 101 and 101.0 are one id
    pd.Series(["x", "y", "x"], dtype="string"),
    ["x", None, "y", None, "x"],
])
def test_ids_are_numbered_as_series_duplicated_tells_them_apart(ids):
    from lqas.dtypes import first_rows
    from lqas.ingest import _id_codes

    values = ids if isinstance(ids, pd.Series) else pd.Series(ids, dtype=object)
    codes, count = _id_codes(values)
    first = first_rows(codes, count)
    assert (first[codes] != np.arange(len(codes))).tolist() == values.duplicated(keep="first").tolist()

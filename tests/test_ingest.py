"""Readers, the kobo profile and row validation on small files written by the tests."""

import pandas as pd
import pytest

from lqas.errors import InputError
from lqas.ingest import ingest, parse_dates, read_table

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
            good_row("e", **{"today": "hier"}), good_row("", **{"child/child_id": ""})]
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
    with pytest.raises(InputError, match=r"export.csv: required column missing: dob \(column 'child/dob'\)"):
        run(path)


def test_truncated_xlsx_is_reported_not_traced(tmp_path):
    path = tmp_path / "cut.xlsx"
    pd.DataFrame([good_row()], columns=HEADER).to_excel(path, index=False)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError, match="cut.xlsx: cannot read file"):
        read_table(path)

"""DHIS2 extracts read into one long table (issue 19, item 1): each shape DHIS2 exports — analytics
JSON/CSV, dataValueSets CSV/JSON, ADX XML — read from fixtures written from the DHIS2 developer guide
(``fixtures/dhis2/README.md`` names the sections), every one of them holding the same 18 values typed
out below; period ids and their days; months summed into quarters and years; broken files refused in
one line naming the file, the row and the field."""

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lqas.dhis2 import COLUMNS, period_bounds, read_dhis2, roll_up
from lqas.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "dhis2"
IDS = ["data_element", "category_option_combo", "period", "org_unit", "value"]
# the 18 values every fixture holds: (org unit, month) → Penta 1 <12m, Penta 1 12-23m, Penta 3
DOSES = {("BgEstCSCom1", "202401"): (42, 5, 35), ("BgEstCSCom1", "202402"): (38, 4, 40),
         ("KologoCSC01", "202401"): (27, 3, 22), ("KologoCSC01", "202402"): (31, 2, 25),
         ("PelNordCSC1", "202401"): (55, 7, 48), ("PelNordCSC1", "202402"): (51, 6, 50)}
TRUTH = pd.DataFrame(
    [row for (ou, pe), (young, older, penta3) in DOSES.items()
     for row in (("Pnta1Given0", "AgeLt12mCoc", pe, ou, young), ("Pnta1Given0", "Age1223mCoc", pe, ou, older),
                 ("Pnta3Given0", "HllvX50cXC0", pe, ou, penta3))], columns=IDS).astype({"value": float})
# ADX writes the age band as its category, not as the combo's uid; a default combo as no category
ADX_COMBOS = {"AGE=AGE_LT12M": "AgeLt12mCoc", "AGE=AGE_12_23M": "Age1223mCoc", None: "HllvX50cXC0"}
SAME_DATA = ["analytics.json", "analytics.csv", "datavaluesets.csv", "datavaluesets_8col.csv", "datavaluesets_9col.csv",
             "datavaluesets_noheader.csv", "datavaluesets.json", "adx.xml"]


def ids(table: pd.DataFrame) -> pd.DataFrame:
    # the text columns compared as Python objects: the reader gives object columns of str or None,
    # while a frame built or mapped here is of pandas' default string dtype (str under pandas 3)
    return table[IDS].astype({column: object for column in IDS[:-1]}).sort_values(IDS[:-1], ignore_index=True)


def written(tmp_path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refusal(path) -> str:
    with pytest.raises(InputError) as raised:
        read_dhis2(path)
    message = str(raised.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------- the same data, each shape


@pytest.mark.parametrize("name", SAME_DATA)
def test_each_shape_reads_the_same_eighteen_values(name):
    table = read_dhis2(FIXTURES / name)
    if name == "adx.xml":
        assert set(table["category_option_combo"]) == set(ADX_COMBOS)
        table = table.assign(category_option_combo=table["category_option_combo"].map(ADX_COMBOS))
    pd.testing.assert_frame_equal(ids(table), ids(TRUTH))


def test_the_readers_give_equal_frames_on_the_shared_columns():
    frames = {name: ids(read_dhis2(FIXTURES / name)) for name in SAME_DATA if name != "adx.xml"}
    adx = read_dhis2(FIXTURES / "adx.xml")
    frames["adx.xml"] = ids(adx.assign(category_option_combo=adx["category_option_combo"].map(ADX_COMBOS)))
    first = frames.pop("analytics.json")
    for frame in frames.values():
        pd.testing.assert_frame_equal(frame, first)
    assert first["value"].sum() == 491


@pytest.mark.parametrize("name", [*SAME_DATA, "analytics_names.csv", "analytics_reporting_rates.json"])
def test_the_long_table_has_its_columns_in_order_and_typed(name):
    table = read_dhis2(FIXTURES / name)
    assert tuple(table.columns) == COLUMNS
    assert table["source_row"].dtype == np.int64 and table["value"].dtype == np.float64
    for column in COLUMNS[1:-1]:
        assert all(cell is None or isinstance(cell, str) for cell in table[column]), column


def test_source_row_is_the_row_the_user_sees():
    assert read_dhis2(FIXTURES / "analytics.csv")["source_row"].tolist() == list(range(2, 20))
    assert read_dhis2(FIXTURES / "analytics.json")["source_row"].tolist() == list(range(1, 19))
    assert read_dhis2(FIXTURES / "adx.xml")["source_row"].tolist() == list(range(1, 19))
    assert read_dhis2(FIXTURES / "datavaluesets_noheader.csv")["source_row"].tolist() == list(range(1, 19))
    # the comment of line 4 spans two lines: the next value is on line 6, as an editor shows it
    dvs = read_dhis2(FIXTURES / "datavaluesets.csv")
    assert dvs["source_row"].tolist()[:5] == [2, 3, 4, 6, 7]
    assert dvs.loc[dvs["source_row"] == 6, "value"].item() == 38


def test_a_value_dhis2_marks_deleted_is_not_data(tmp_path):
    dvs = read_dhis2(FIXTURES / "datavaluesets.csv")
    assert len(dvs) == 18 and 99 not in dvs["value"].tolist() and dvs["source_row"].max() == 20
    values = json.loads((FIXTURES / "datavaluesets.json").read_text(encoding="utf-8"))["dataValues"]
    values[0]["deleted"] = True
    table = read_dhis2(written(tmp_path, "deleted.json", json.dumps({"dataValues": values})))
    assert len(table) == 17 and table["source_row"].tolist()[0] == 2


def test_combos_are_kept_as_the_file_gives_them():
    assert read_dhis2(FIXTURES / "datavaluesets.csv")["attribute_option_combo"].eq("HllvX50cXC0").all()
    assert read_dhis2(FIXTURES / "datavaluesets_8col.csv")["attribute_option_combo"].isna().all()
    assert read_dhis2(FIXTURES / "analytics.json")["attribute_option_combo"].isna().all()


# ---------------------------------------------------------------------------------------- analytics


def test_analytics_json_names_come_from_metadata_items():
    table = read_dhis2(FIXTURES / "analytics.json")
    assert dict(zip(table["data_element"], table["data_element_name"])) == {
        "Pnta1Given0": "Penta 1 doses given", "Pnta3Given0": "Penta 3 doses given"}
    assert dict(zip(table["org_unit"], table["org_unit_name"])) == {
        "BgEstCSCom1": "CSCom Bougouni Est", "KologoCSC01": "CSCom Kologo", "PelNordCSC1": "CSCom Pelengana Nord"}
    assert table["metric"].isna().all()


def test_analytics_json_names_come_from_the_older_metadata_names():
    table = read_dhis2(FIXTURES / "analytics_legacy.json")
    assert table["data_element_name"].eq("Penta 3 doses given").all()
    assert dict(zip(table["org_unit"], table["org_unit_name"])) == {
        "BgEstCSCom1": "CSCom Bougouni Est", "KologoCSC01": "CSCom Kologo", "PelNordCSC1": "CSCom Pelengana Nord"}
    assert table["value"].tolist() == [35, 22, 48, 40, 25, 50]


def test_a_period_given_as_the_analytics_filter_is_the_period_of_every_row():
    table = read_dhis2(FIXTURES / "analytics_period_filter.json")
    assert table["period"].eq("2024").all()
    assert table["value"].tolist() == [89, 63, 75, 47]


def test_a_filter_on_several_periods_is_refused(tmp_path):
    document = json.loads((FIXTURES / "analytics_period_filter.json").read_text(encoding="utf-8"))
    document["metaData"]["dimensions"]["pe"] = ["202401", "202402"]
    path = written(tmp_path, "analytics.json", json.dumps(document))
    assert refusal(path) == (f"{path}: no 'pe' column in 'headers', and the response's metaData holds 2 items for "
                             "the period (one is needed when it is a filter)")


def test_reporting_rate_metrics_are_recognised():
    table = read_dhis2(FIXTURES / "analytics_reporting_rates.json")
    assert table["data_element"].eq("ImmMonthly1").all()
    assert table["data_element_name"].eq("Vaccination mensuelle").all()
    assert table["metric"].tolist()[:5] == ["REPORTING_RATE", "REPORTING_RATE_ON_TIME", "ACTUAL_REPORTS",
                                            "ACTUAL_REPORTS_ON_TIME", "EXPECTED_REPORTS"]
    march = table[table["period"] == "202403"].set_index("metric")["value"]
    assert march.to_dict() == {"REPORTING_RATE": 75.0, "REPORTING_RATE_ON_TIME": 62.5, "ACTUAL_REPORTS": 6.0,
                               "ACTUAL_REPORTS_ON_TIME": 5.0, "EXPECTED_REPORTS": 8.0}


def test_a_data_element_operand_is_split_into_its_combos(tmp_path):
    path = written(tmp_path, "operands.csv", "dx,pe,ou,value\n"
                   "Pnta1Given0.AgeLt12mCoc,202401,BgEstCSCom1,42\n"
                   "Pnta1Given0.Age1223mCoc.HllvX50cXC0,202401,BgEstCSCom1,5\n"
                   "Pnta3Given0,202401,BgEstCSCom1,35\n")
    table = read_dhis2(path)
    assert table["data_element"].tolist() == ["Pnta1Given0", "Pnta1Given0", "Pnta3Given0"]
    assert table["category_option_combo"].tolist() == ["AgeLt12mCoc", "Age1223mCoc", None]
    assert table["attribute_option_combo"].tolist() == [None, "HllvX50cXC0", None]
    assert table["metric"].isna().all()


def test_the_analytics_csv_of_names_gives_each_name_as_id_and_name_and_periods_as_ids():
    names = read_dhis2(FIXTURES / "analytics_names.csv")
    assert (names["data_element"] == names["data_element_name"]).all()
    assert (names["org_unit"] == names["org_unit_name"]).all()
    assert set(names["period"]) == {"202401", "202402"}
    assert names.iloc[1][["data_element", "category_option_combo", "period", "org_unit", "value"]].tolist() == [
        "Penta 1 doses given", "<12m", "202401", "CSCom Bougouni Est", 42.0]
    # mapped back to ids, the same 18 values as the id form
    uid = {"Penta 1 doses given": "Pnta1Given0", "Penta 3 doses given": "Pnta3Given0", "<12m": "AgeLt12mCoc",
           "12-23m": "Age1223mCoc", "default": "HllvX50cXC0", "CSCom Bougouni Est": "BgEstCSCom1",
           "CSCom Kologo": "KologoCSC01", "CSCom Pelengana Nord": "PelNordCSC1"}
    mapped = names.assign(**{column: names[column].map(uid) for column in
                             ("data_element", "category_option_combo", "org_unit")})
    pd.testing.assert_frame_equal(ids(mapped), ids(TRUTH))


def test_the_analytics_csv_of_ids_leaves_the_names_empty():
    table = read_dhis2(FIXTURES / "analytics.csv")
    assert table["data_element_name"].isna().all() and table["org_unit_name"].isna().all()


@pytest.mark.parametrize("header", [
    "dx,co,pe,ou,value",
    "Data,Category option combo,Period,Organisation unit,Value",
    " DX , CO,Pe ,OU,  VALUE ",
    "Data_Element,Category_Option_Combo,PERIOD,Organisation Unit,value",
    "data element,category option combo,period,organisation unit,value",
])
def test_analytics_csv_headers_are_matched_whatever_their_case_and_spaces(tmp_path, header):
    body = (FIXTURES / "analytics.csv").read_text(encoding="utf-8").split("\n", 1)[1]
    table = read_dhis2(written(tmp_path, "analytics.csv", f"{header}\n{body}"))
    pd.testing.assert_frame_equal(ids(table), ids(TRUTH))


def test_name_columns_beside_the_ids_fill_the_names(tmp_path):
    path = written(tmp_path, "details.csv", "Data,Data name,Period,Period name,Organisation unit,"
                   "Organisation unit name,Value\n"
                   "Pnta3Given0,Penta 3 doses given,202401,January 2024,BgEstCSCom1,CSCom Bougouni Est,35\n")
    row = read_dhis2(path).iloc[0]
    assert (row["data_element"], row["data_element_name"], row["org_unit"], row["org_unit_name"]) == (
        "Pnta3Given0", "Penta 3 doses given", "BgEstCSCom1", "CSCom Bougouni Est")


@pytest.mark.parametrize(("name", "period"), [
    ("January 2024", "202401"), ("Jan to Mar 2024", "2024Q1"), ("April - June 2024", "2024Q2"),
    ("janvier 2024", "202401"), ("févr. 2024", "202402"), ("juillet - décembre 2024", "2024S2"),
    ("Week 5 2024-01-29 - 2024-02-04", "2024W5"), ("W1 - 2019-12-30 - 2020-01-05", "2020W1"), ("2024", "2024"),
])
def test_period_names_are_read_as_period_ids(tmp_path, name, period):
    path = written(tmp_path, "names.csv", f'Data,Period,Organisation unit,Value\nPenta 3,"{name}",Kologo,22\n')
    assert read_dhis2(path)["period"].tolist() == [period]


def test_a_json_or_adx_file_is_read_by_its_content_whatever_its_suffix(tmp_path):
    json_text = (FIXTURES / "analytics.json").read_text(encoding="utf-8")
    adx_text = (FIXTURES / "adx.xml").read_text(encoding="utf-8")
    assert len(read_dhis2(written(tmp_path, "analytics.txt", json_text))) == 18
    assert len(read_dhis2(written(tmp_path, "export.adx", adx_text))) == 18
    assert len(read_dhis2(written(tmp_path, "export", adx_text))) == 18


def test_a_byte_order_mark_is_accepted(tmp_path):
    text = (FIXTURES / "analytics.csv").read_text(encoding="utf-8")
    table = read_dhis2(written(tmp_path, "bom.csv", text, encoding="utf-8-sig"))
    pd.testing.assert_frame_equal(ids(table), ids(TRUTH))


# ---------------------------------------------------------------------------------------- dataValueSets


@pytest.mark.parametrize("name", ["datavaluesets_8col.csv", "datavaluesets_9col.csv", "datavaluesets_noheader.csv"])
def test_the_dataValueSets_csv_variants_read_as_the_eleven_column_export(name):
    pd.testing.assert_frame_equal(ids(read_dhis2(FIXTURES / name)), ids(read_dhis2(FIXTURES / "datavaluesets.csv")))


def test_a_dataValueSets_csv_header_is_matched_whatever_its_case_and_separator(tmp_path):
    path = written(tmp_path, "dvs.csv", "DataElement;Period;OrgUnit;CategoryOptionCombo;AttributeOptionCombo;Value\n"
                   "Pnta3Given0;202401;KologoCSC01;HllvX50cXC0;HllvX50cXC0;22\n")
    row = read_dhis2(path).iloc[0]
    assert (row["data_element"], row["period"], row["org_unit"], row["value"]) == (
        "Pnta3Given0", "202401", "KologoCSC01", 22.0)


def test_the_data_value_set_gives_its_period_and_org_unit_to_values_without_them(tmp_path):
    document = {"dataSet": "ImmMonthly1", "period": "202401", "orgUnit": "KologoCSC01",
                "attributeOptionCombo": "HllvX50cXC0",
                "dataValues": [{"dataElement": "Pnta3Given0", "categoryOptionCombo": "HllvX50cXC0", "value": "22"},
                               {"dataElement": "Pnta3Given0", "period": "202402", "value": 25}]}
    table = read_dhis2(written(tmp_path, "set.json", json.dumps(document)))
    assert table[["period", "org_unit", "attribute_option_combo", "value"]].values.tolist() == [
        ["202401", "KologoCSC01", "HllvX50cXC0", 22.0], ["202402", "KologoCSC01", "HllvX50cXC0", 25.0]]


def test_an_empty_value_is_kept_as_missing(tmp_path):
    csv = read_dhis2(written(tmp_path, "dvs.csv", "dataelement,period,orgunit,categoryoptioncombo,"
                             "attributeoptioncombo,value\nPnta3Given0,202401,KologoCSC01,,, \n"
                             "Pnta3Given0,202402,KologoCSC01,,,25\n"))
    assert np.isnan(csv["value"].iloc[0]) and csv["value"].iloc[1] == 25
    assert csv["category_option_combo"].isna().all()
    document = {"dataValues": [{"dataElement": "Pnta3Given0", "period": "202401", "orgUnit": "KologoCSC01",
                                "value": ""}, {"dataElement": "Pnta3Given0", "period": "202402",
                                               "orgUnit": "KologoCSC01"}]}
    assert read_dhis2(written(tmp_path, "dvs.json", json.dumps(document)))["value"].isna().all()


# ----------------------------------------------------------------------------------------------------- ADX


def adx(tmp_path, groups: str, name: str = "adx.xml") -> Path:
    return written(tmp_path, name, f'<adx xmlns="urn:ihe:qrph:adx:2015" exported="2024-03-10T09:30:00Z">{groups}</adx>')


@pytest.mark.parametrize(("adx_period", "period"), [
    ("2024-01-01/P1M", "202401"), ("2024-04-01/P3M", "2024Q2"), ("2024-01-01/P1Y", "2024"),
    ("2024-01-29/P7D", "2024W5"), ("2020-12-28/P7D", "2020W53"), ("2024-03-15/P1D", "20240315"),
    ("2024-03-01/P2M", "202402B"), ("2024-07-01/P6M", "2024S2"), ("2024-10-01/P6M", "2024AprilS2"),
    ("2024-04-01/P1Y", "2024April"), ("2024-01-01/P14D", "2024BiW1"), ("2024-01-01T00:00:00/P1M", "202401"),
])
def test_adx_periods_become_dhis2_period_ids(tmp_path, adx_period, period):
    path = adx(tmp_path, f'<group orgUnit="KologoCSC01" period="{adx_period}" dataSet="ImmMonthly1">'
                         '<dataValue dataElement="Pnta3Given0" value="22"/></group>')
    assert read_dhis2(path)["period"].tolist() == [period]


def test_adx_categories_are_written_in_the_order_of_their_names(tmp_path):
    path = adx(tmp_path, '<group orgUnit="KologoCSC01" period="2024-01-01/P1M" dataSet="ImmMonthly1" FUNDER="GAVI">'
                         '<dataValue dataElement="Pnta1Given0" STRATEGY="FIXED" AGE="LT12M" value="20"/>'
                         '<dataValue dataElement="Pnta1Given0" categoryOptionCombo="Age1223mCoc" AGE="X" value="3"/>'
                         '</group>')
    table = read_dhis2(path)
    assert table["category_option_combo"].tolist() == ["AGE=LT12M;STRATEGY=FIXED", "Age1223mCoc"]
    assert table["attribute_option_combo"].tolist() == ["FUNDER=GAVI", "FUNDER=GAVI"]


def test_an_adx_period_with_no_dhis2_period_is_refused(tmp_path):
    path = adx(tmp_path, '<group orgUnit="KologoCSC01" period="2024-01-01/P1M" dataSet="ImmMonthly1">'
                         '<dataValue dataElement="Pnta3Given0" value="22"/></group>'
                         '<group orgUnit="KologoCSC01" period="2024-01-03/P1M" dataSet="ImmMonthly1">'
                         '<dataValue dataElement="Pnta3Given0" value="25"/></group>')
    assert refusal(path) == (
        f"{path}: group 2, attribute 'period': '2024-01-03/P1M' has no DHIS2 period this reader knows (days, ISO "
        "weeks and bi-weeks starting on a Monday, months, bi-months, quarters, six-months, years and April, July "
        "and October financial years)")


# ------------------------------------------------------------------------------------------------- periods


@pytest.mark.parametrize(("period", "first", "last"), [
    ("20240315", "2024-03-15", "2024-03-15"),
    ("2024W01", "2024-01-01", "2024-01-07"), ("2024W1", "2024-01-01", "2024-01-07"),
    ("2020W53", "2020-12-28", "2021-01-03"), ("2025W1", "2024-12-30", "2025-01-05"),
    ("2024BiW1", "2024-01-01", "2024-01-14"), ("2024BiW3", "2024-01-29", "2024-02-11"),
    ("202402", "2024-02-01", "2024-02-29"), ("202302", "2023-02-01", "2023-02-28"),
    ("202402B", "2024-03-01", "2024-04-30"),
    ("2024Q1", "2024-01-01", "2024-03-31"), ("2024Q2", "2024-04-01", "2024-06-30"),
    ("2024Q4", "2024-10-01", "2024-12-31"),
    ("2024S1", "2024-01-01", "2024-06-30"), ("2024S2", "2024-07-01", "2024-12-31"),
    ("2024AprilS2", "2024-10-01", "2025-03-31"),
    ("2024", "2024-01-01", "2024-12-31"),
    ("2024April", "2024-04-01", "2025-03-31"), ("2024July", "2024-07-01", "2025-06-30"),
    ("2024Oct", "2024-10-01", "2025-09-30"),
])
def test_period_bounds_are_the_first_and_last_day(period, first, last):
    assert period_bounds(period) == (dt.date.fromisoformat(first), dt.date.fromisoformat(last))


@pytest.mark.parametrize("period", ["2021W53", "2024W0", "202413", "2024Q5", "2024S3", "202407B", "2024-03", "March"])
def test_a_period_that_does_not_exist_has_no_bounds(period):
    with pytest.raises(ValueError, match="not a"):
        period_bounds(period)


def test_weeks_starting_on_another_day_are_ids_without_bounds(tmp_path):
    with pytest.raises(ValueError, match="week wednesday periods are not supported"):
        period_bounds("2024WedW5")
    path = written(tmp_path, "weeks.csv", "dx,pe,ou,value\nPnta3Given0,2024WedW05,KologoCSC01,5\n")
    assert read_dhis2(path)["period"].tolist() == ["2024WedW5"]


# ------------------------------------------------------------------------------------------------- roll-up


def test_months_roll_up_into_quarters_and_years_by_summing():
    table = read_dhis2(FIXTURES / "datavaluesets.csv")
    for to, period in (("quarter", "2024Q1"), ("year", "2024")):
        rolled = roll_up(table, to)
        assert tuple(rolled.columns) == COLUMNS and len(rolled) == 9 and set(rolled["period"]) == {period}
        values = rolled.set_index(["org_unit", "data_element", "category_option_combo"])["value"]
        assert values[("BgEstCSCom1", "Pnta1Given0", "AgeLt12mCoc")] == 42 + 38
        assert values[("PelNordCSC1", "Pnta3Given0", "HllvX50cXC0")] == 48 + 50
        assert values[("KologoCSC01", "Pnta1Given0", "Age1223mCoc")] == 3 + 2
        assert rolled["value"].sum() == table["value"].sum() == 491
        assert rolled["attribute_option_combo"].eq("HllvX50cXC0").all()
    # the first of the rows summed
    assert roll_up(table, "quarter")["source_row"].tolist() == [2, 3, 4, 9, 10, 11, 15, 16, 17]


def test_quarters_roll_up_into_years_and_other_periods_are_kept(tmp_path):
    path = written(tmp_path, "mixed.csv", "dx,pe,ou,value\n"
                   "Pnta3Given0,2024Q1,KologoCSC01,60\nPnta3Given0,2024Q2,KologoCSC01,70\n"
                   "Pnta3Given0,202407,KologoCSC01,25\nPnta3Given0,2024W5,KologoCSC01,6\n"
                   "Pnta3Given0,2023Q4,KologoCSC01,50\n")
    table = read_dhis2(path)
    years = roll_up(table, "year")
    assert years[["period", "value"]].values.tolist() == [["2024", 155.0], ["2024W5", 6.0], ["2023", 50.0]]
    quarters = roll_up(table, "quarter")
    assert quarters[["period", "value"]].values.tolist() == [
        ["2024Q1", 60.0], ["2024Q2", 70.0], ["2024Q3", 25.0], ["2024W5", 6.0], ["2023Q4", 50.0]]


def test_a_sum_is_missing_only_when_every_month_is(tmp_path):
    path = written(tmp_path, "gaps.csv", "dx,pe,ou,value\n"
                   "Pnta3Given0,202401,KologoCSC01,\nPnta3Given0,202402,KologoCSC01,25\n"
                   "Pnta3Given0,202401,BgEstCSCom1,\nPnta3Given0,202402,BgEstCSCom1,\n")
    rolled = roll_up(read_dhis2(path), "quarter").set_index("org_unit")["value"]
    assert rolled["KologoCSC01"] == 25 and np.isnan(rolled["BgEstCSCom1"])


def test_reporting_rates_are_recomputed_from_actual_and_expected_reports():
    rolled = roll_up(read_dhis2(FIXTURES / "analytics_reporting_rates.json"), "quarter")
    quarter = rolled.set_index("metric")["value"]
    assert set(rolled["period"]) == {"2024Q1"} and len(rolled) == 5
    assert quarter["ACTUAL_REPORTS"] == 9 + 10 + 6 and quarter["EXPECTED_REPORTS"] == 10 + 10 + 8
    assert quarter["ACTUAL_REPORTS_ON_TIME"] == 8 + 9 + 5
    assert quarter["REPORTING_RATE"] == pytest.approx(100 * 25 / 28)  # 89.29, not the months' mean 88.33
    assert quarter["REPORTING_RATE_ON_TIME"] == pytest.approx(100 * 22 / 28)
    assert rolled["data_element_name"].eq("Vaccination mensuelle").all()


def test_a_rate_without_its_counts_is_left_out_and_no_report_expected_is_missing(tmp_path):
    only_rates = read_dhis2(FIXTURES / "analytics_reporting_rates.json").query("metric == 'REPORTING_RATE'")
    assert roll_up(only_rates, "quarter").empty
    path = written(tmp_path, "none.csv", "dx,pe,ou,value\nImmMonthly1.ACTUAL_REPORTS,202401,KologoCSC01,0\n"
                   "ImmMonthly1.EXPECTED_REPORTS,202401,KologoCSC01,0\nImmMonthly1.REPORTING_RATE,202401,KologoCSC01,\n")
    rate = roll_up(read_dhis2(path), "year").set_index("metric")["value"]
    assert np.isnan(rate["REPORTING_RATE"]) and rate["EXPECTED_REPORTS"] == 0


def test_roll_up_to_anything_else_is_refused():
    with pytest.raises(ValueError, match="'quarter' or 'year'"):
        roll_up(read_dhis2(FIXTURES / "analytics.csv"), "month")


# ------------------------------------------------------------------------------------------ broken files


def test_a_value_that_is_not_a_number_names_the_line_and_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = (FIXTURES / "analytics.csv").read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].rsplit(",", 1)[0] + ",abc"
    Path("extract.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert refusal(Path("extract.csv")) == "extract.csv: line 7, column 'Value': 'abc' is not a number"


def test_a_missing_column_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("extract.csv").write_text("Data,Period,Value\nPnta3Given0,202401,22\n", encoding="utf-8")
    assert refusal(Path("extract.csv")) == (
        "extract.csv: no organisation unit column ('ou', 'Organisation unit' or 'orgunit'); the header names "
        "'Data', 'Period', 'Value'")


def test_an_unknown_shape_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("x.txt").write_text("district,doses\nBougouni,120\n", encoding="utf-8")
    assert refusal(Path("x.txt")) == (
        "x.txt: not a DHIS2 extract this reader knows (analytics JSON/CSV, dataValueSets CSV/JSON, ADX XML)")
    Path("x.json").write_text('[{"district": "Bougouni"}]', encoding="utf-8")
    assert refusal(Path("x.json")).startswith("x.json: not a DHIS2 extract this reader knows")
    Path("x.xml").write_text('<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0"/>', encoding="utf-8")
    assert refusal(Path("x.xml")).startswith("x.xml: not a DHIS2 extract this reader knows")


def test_an_analytics_response_without_headers_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("analytics.json").write_text('{"rows": [["Pnta3Given0", "202401", "22"]], "metaData": {}}', encoding="utf-8")
    assert refusal(Path("analytics.json")) == "analytics.json: not a DHIS2 analytics response (no 'headers')"


def test_dhis2s_error_answer_is_shown_instead_of_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("analytics.json").write_text(json.dumps({
        "httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR",
        "message": "Only a single indicator can be specified as filter", "errorCode": "E7108"}), encoding="utf-8")
    assert refusal(Path("analytics.json")) == (
        "analytics.json: DHIS2 answered with an error, not data: Only a single indicator can be specified as filter")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("dvs.csv", ("dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
                "Pnta3Given0,202401,KologoCSC01,,,22\nPnta3Given0,2024-03,KologoCSC01,,,25\n"),
     "line 3, column 'period': '2024-03' is not a DHIS2 period (such as 202403, 2024Q1, 2024W5 or 2024)"),
    ("dvs.csv", ("dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
                "Pnta3Given0,202401, ,,,22\n"),
     "line 2, column 'orgunit': empty"),
    ("dvs.csv", ("dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
                "Pnta3Given0,202401,KologoCSC01,,,22\nPnta3Given0,202402,KologoCSC01,,,25,extra\n"),
     "line 3: 7 cells where the first line has 6"),
    ("noheader.csv", "Pnta3Given0,202401,KologoCSC01,HllvX50cXC0,HllvX50cXC0,vingt\n",
     "line 1, column 'value': 'vingt' is not a number"),
    ("analytics.json", json.dumps({"headers": [{"name": "dx"}, {"name": "pe"}, {"name": "ou"}, {"name": "value"}],
                                   "rows": [["Pnta3Given0", "202401", "KologoCSC01", "x"]]}),
     "row 1, column 'value': 'x' is not a number"),
    ("analytics.json", json.dumps({"headers": [{"name": "dx"}, {"name": "pe"}, {"name": "ou"}, {"name": "value"}],
                                   "rows": [["Pnta3Given0", "202401", "KologoCSC01", "1"], ["Pnta3Given0", "2"]]}),
     "row 2: 2 cells where 'headers' describes 4"),
    ("analytics.json", json.dumps({"headers": [{"name": "dx"}, {"name": "pe"}, {"name": "ou"}], "rows": []}),
     "no 'value' column in 'headers' ('dx', 'pe', 'ou')"),
    ("dvs.json", json.dumps({"dataValues": [
        {"dataElement": "Pnta3Given0", "period": "202401", "orgUnit": "KologoCSC01", "value": "22"},
        {"dataElement": "Pnta3Given0", "period": "202402", "orgUnit": "KologoCSC01", "value": "true"}]}),
     "dataValue 2, field 'value': 'true' is not a number"),
    ("dvs.json", json.dumps({"dataValues": [{"period": "202401", "orgUnit": "KologoCSC01", "value": "22"}]}),
     "dataValue 1, field 'dataElement': empty"),
    ("adx.xml", ('<adx xmlns="urn:ihe:qrph:adx:2015"><group orgUnit="KologoCSC01" period="2024-01-01/P1M">'
                '<dataValue dataElement="Pnta3Given0" value="22"/><dataValue dataElement="Pnta1Given0"/>'
                '</group></adx>'),
     "dataValue 2, attribute 'value': missing"),
    ("adx.xml", '<adx xmlns="urn:ihe:qrph:adx:2015"><group period="2024-01-01/P1M"></group></adx>',
     "group 1, attribute 'orgUnit': missing"),
    ("adx.xml", '<adx xmlns="urn:ihe:qrph:adx:2015">\n<group orgUnit="K" period="2024-01-01/P1M">\n</adx>',
     "not well-formed XML (line 3, column 3)"),
    ("bad.json", '{"headers": [', "not valid JSON (line 1, column 14: Expecting value)"),
    ("columns.csv", "dx,Data,pe,ou,value\nPnta3Given0,Penta 3,202401,KologoCSC01,22\n",
     "columns 'dx' and 'Data' both hold the data element"),
])
def test_a_broken_file_is_refused_in_one_line_naming_the_place(tmp_path, name, text, message):
    path = written(tmp_path, name, text)
    assert refusal(path) == f"{path}: {message}"


def test_a_file_that_is_not_utf8_or_is_empty_or_absent_is_refused(tmp_path):
    latin = written(tmp_path, "latin.csv", "dx,pe,ou,value\nPenta 3,202401,Ségou,22\n", encoding="latin-1")
    assert refusal(latin) == f"{latin}: not UTF-8 text (byte 32); export it again from DHIS2 or save it as UTF-8"
    empty = written(tmp_path, "empty.csv", " \n")
    assert refusal(empty) == f"{empty}: file is empty"
    assert refusal(tmp_path / "absent.json") == f"{tmp_path / 'absent.json'}: file not found"


def test_an_export_without_values_is_an_empty_long_table(tmp_path):
    path = written(tmp_path, "analytics.json", json.dumps({"headers": [{"name": "dx"}, {"name": "pe"},
                                                                       {"name": "ou"}, {"name": "value"}],
                                                           "rows": [], "metaData": {"items": {}}}))
    table = read_dhis2(path)
    assert table.empty and tuple(table.columns) == COLUMNS and table["value"].dtype == np.float64
    assert roll_up(table, "quarter").empty

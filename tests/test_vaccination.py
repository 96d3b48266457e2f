"""Crude doses and child-level indicators on hand-made children (rules from vcqi.md §2, besd.md §2)."""

import numpy as np
import pandas as pd
import pytest

from lqas.errors import ConfigError
from lqas.indicators import load_registry
from lqas.ingest import REPAIR_COLUMNS
from lqas.vaccination import Schedule, clean_dates, derive, load_schedule, not_collected, valid_dose_dob

COHORTS = {"18w-11m": (126, 364), "12-23m": (365, 729)}


@pytest.fixture(scope="module")
def schedule():
    return load_schedule("mali")


def child(age_days=400, cohort="12-23m", **fields):
    row = {"child_id": "c", "age_days": age_days, "cohort": cohort, "card_ever": 1, "card_seen": 1}
    row.update(fields)
    return row


def run(schedule, *rows, **options):
    frame = pd.DataFrame(list(rows))
    for dose in schedule.keys:
        frame[f"{dose}_card_date"] = pd.to_datetime(frame.get(f"{dose}_card_date", pd.Series([None] * len(frame))))
    return derive(frame, schedule, cohorts=COHORTS, **options)


def test_schedule_mali_has_the_epi_doses(schedule):
    assert schedule.keys[:2] == ["bcg", "opv0"]
    assert {"penta1", "penta3", "pcv3", "rota3", "ipv", "mr1", "mr2", "yf", "mena"} <= set(schedule.keys)
    assert schedule.dose("penta2").min_interval_days == 28


def test_child_with_no_evidence_is_zero_dose_and_stays_in_denominator(schedule):
    out = run(schedule, child())
    assert out.loc[0, "zero_dose"] == 1
    assert out.loc[0, "ui_dtp1_not_dtp3"] == 0
    assert out.loc[0, "penta1_crude"] == 0
    assert out.loc[0, "penta1_source"] == "none"


@pytest.mark.parametrize("evidence, source", [
    ({"penta1_card_date": "2024-03-01"}, "card_date"),
    ({"penta1_card_tick": 1}, "card_tick"),
    ({"penta1_recall": 1}, "recall"),
], ids=["date", "tick", "recall"])
def test_any_evidence_counts_as_crude_dose(schedule, evidence, source):
    out = run(schedule, child(**evidence))
    assert out.loc[0, "penta1_crude"] == 1
    assert out.loc[0, "penta1_source"] == source
    assert out.loc[0, "zero_dose"] == 0
    assert out.loc[0, "ui_dtp1_not_dtp3"] == 1


def test_later_dose_implies_earlier_and_is_traceable(schedule):
    out = run(schedule, child(penta3_card_tick=1))
    assert out.loc[0, ["penta1_crude", "penta2_crude", "penta3_crude"]].tolist() == [1, 1, 1]
    assert out.loc[0, "penta1_source"] == "implied"
    assert out.loc[0, "zero_dose"] == 0
    off = run(schedule, child(penta3_card_tick=1), later_dose_implies_earlier=False)
    assert off.loc[0, "penta1_crude"] == 0 and off.loc[0, "zero_dose"] == 1


def test_dose_older_than_cohort_minimum_needs_age_eligibility(schedule):
    # MR1 (270 days) in the 18w-11m cohort (from 126 days): a 200-day-old is not in MR1's denominator
    out = run(schedule, child(age_days=200, cohort="18w-11m"), child(age_days=300, cohort="18w-11m"))
    assert np.isnan(out.loc[0, "mr1_crude"])
    assert out.loc[1, "mr1_crude"] == 0
    # Penta3 (98 days) is due for everyone in the cohort
    assert out["penta3_crude"].tolist() == [0, 0]


def test_zd_ui_and_penta3_partition_the_cohort(schedule):
    rows = [child(), child(penta1_recall=1), child(penta1_card_tick=1, penta3_card_tick=1),
            child(penta2_card_date="2024-05-01"), child(age_days=150, cohort="18w-11m", penta3_recall=1)]
    out = run(schedule, *rows)
    total = out["zero_dose"] + out["ui_dtp1_not_dtp3"] + out["penta3_crude"]
    assert total.tolist() == [1, 1, 1, 1, 1]
    assert out["zero_dose"].tolist() == [1, 0, 0, 0, 0]


def test_dropout_denominator_is_children_with_the_first_dose(schedule):
    out = run(schedule, child(), child(penta1_recall=1), child(penta3_recall=1))
    assert np.isnan(out.loc[0, "dropout_penta1_penta3"])
    assert out.loc[1, "dropout_penta1_penta3"] == 1
    assert out.loc[2, "dropout_penta1_penta3"] == 0


def test_bcg_scar_is_evidence(schedule):
    out = run(schedule, child(bcg_scar=1), child(bcg_scar=0))
    assert out["bcg_crude"].tolist() == [1, 0]
    assert out.loc[0, "bcg_source"] == "scar"


def test_register_used_only_without_card_when_sought_if_no_card(schedule):
    rows = [child(penta1_register_tick=1), child(penta1_register_tick=1, bcg_card_tick=1)]
    assert run(schedule, *rows, records="if_no_card")["penta1_crude"].tolist() == [1, 0]
    assert run(schedule, *rows, records="not_sought")["penta1_crude"].tolist() == [0, 0]
    assert run(schedule, *rows, records="all")["penta1_crude"].tolist() == [1, 1]



def test_each_evidence_source_counts_on_its_own_as_vcqi_got_crude_by_source(schedule):
    # VCQI RI_COVG_01_03DV: by_register ignores the records protocol (a card child's register counts
    # there, not in crude); a later dose on a source implies the earlier ones on that source only
    rows = [child(penta1_register_tick=1, bcg_card_tick=1), child(penta3_recall=1), child(penta2_card_tick=1),
            child(bcg_scar=1)]
    out = run(schedule, *rows, records="if_no_card")
    assert out["penta1_crude"].tolist() == [0, 1, 1, 0]
    assert out["penta1_by_register"].tolist() == [1, 0, 0, 0]
    assert out["penta1_card_or_register"].tolist() == [1, 0, 1, 0]
    assert out["penta1_by_history"].tolist() == [0, 1, 0, 0]
    assert out["penta1_by_card"].tolist() == [0, 0, 1, 0]
    assert out["penta3_by_card"].tolist() == [0, 0, 0, 0]
    assert out["penta1_card_history_or_register"].tolist() == [1, 1, 1, 0]
    assert out["bcg_by_scar"].tolist() == [0, 0, 0, 1]
    assert out["bcg_card_or_history"].tolist() == [1, 0, 0, 1]
    assert "penta1_by_scar" not in out
    # registers not sought: no register family at all (VCQI drops them)
    not_sought = run(schedule, *rows, records="not_sought")
    assert not {"penta1_by_register", "penta1_card_or_register", "penta1_card_history_or_register"} & set(not_sought)
    # without the rule, a later dose implies nothing
    plain = run(schedule, *rows, records="if_no_card", later_dose_implies_earlier=False)
    assert plain["penta1_by_history"].tolist() == [0, 0, 0, 0]


def test_evidence_sources_leave_children_too_young_for_the_dose_out(schedule):
    out = run(schedule, child(age_days=200, cohort="18w-11m", mr1_card_tick=1))
    assert np.isnan(out.loc[0, "mr1_crude"]) and np.isnan(out.loc[0, "mr1_by_card"])

# --- date clean-up, DOB, valid doses, fully vaccinated (VCQI cleanup_RI_dates_and_ticks, RI_COVG_02/03) ---

DOB = pd.Timestamp("2023-01-01")
INTERVIEW = pd.Timestamp("2024-06-01")   # the child is 517 days old


def day(n):
    """The date n days after DOB."""
    return DOB + pd.Timedelta(days=n)


def dated_child(age_days=517, cohort="12-23m", **fields):
    fields = {"dob": DOB, "interview_date": INTERVIEW, **fields}
    return child(age_days=age_days, cohort=cohort, **fields)


def table(schedule, *rows):
    frame = pd.DataFrame(list(rows))
    frame["source_row"] = range(2, len(frame) + 2)
    frame["child_id"] = [f"c{i}" for i in range(len(frame))]
    for column in frame.columns:
        if column.endswith("_date") or column.startswith("dob") and not column.endswith(("_m", "_d", "_y")):
            frame[column] = pd.to_datetime(frame[column])
    return frame


def pipeline(schedule, *rows, earliest=None, latest=None, **options):
    """clean_dates then derive, as run.py does."""
    cleaned, repairs = clean_dates(table(schedule, *rows), schedule, earliest=earliest, latest=latest)
    return derive(cleaned, schedule, cohorts=COHORTS, **options), repairs


def test_tick_and_recall_doses_are_crude_but_never_valid(schedule):
    out, _ = pipeline(schedule, dated_child(penta1_card_tick=1), dated_child(penta1_recall=1),
                      dated_child(penta1_card_date=day(60)))
    assert out["penta1_crude"].tolist() == [1, 1, 1]
    assert out["penta1_valid"].tolist() == [0, 0, 1]


@pytest.mark.parametrize("dose, age, valid", [
    ("penta1", 41, 0), ("penta1", 42, 1), ("ipv", 97, 0), ("ipv", 98, 1), ("bcg", 0, 1),
], ids=["penta1-day-before", "penta1-on-the-day", "ipv-day-before", "ipv-on-the-day", "bcg-at-birth"])
def test_minimum_age_is_inclusive(schedule, dose, age, valid):
    out, _ = pipeline(schedule, dated_child(**{f"{dose}_card_date": day(age)}))
    assert out.loc[0, f"{dose}_valid"] == valid
    assert out.loc[0, f"{dose}_age_days"] == age


def test_shift_left_5_9_13_weeks_gives_two_valid_penta_doses(schedule):
    # schedule 6/10/14 weeks, 4-week intervals (vcqi.md §2, besd.md §3.3 worked example)
    out, _ = pipeline(schedule, dated_child(penta1_card_date=day(35), penta2_card_date=day(63),
                                            penta3_card_date=day(91)))
    assert out.loc[0, ["penta1_valid", "penta2_valid", "penta3_valid"]].tolist() == [1, 1, 0]
    assert out.loc[0, ["penta1_valid_age_days", "penta2_valid_age_days"]].tolist() == [63, 91]
    assert np.isnan(out.loc[0, "penta3_valid_age_days"])
    assert out.loc[0, ["penta1_crude", "penta2_crude", "penta3_crude"]].tolist() == [1, 1, 1]


def test_series_needs_the_minimum_interval_after_the_previous_valid_dose(schedule):
    # 27 days between recorded doses 1 and 2: dose 2 is not valid dose 2, dose 3 (56 days after 1) is
    out, _ = pipeline(schedule, dated_child(penta1_card_date=day(42), penta2_card_date=day(69),
                                            penta3_card_date=day(98)))
    assert out.loc[0, ["penta1_valid", "penta2_valid", "penta3_valid"]].tolist() == [1, 1, 0]
    assert out.loc[0, "penta2_valid_age_days"] == 98


def test_later_series_doses_check_only_the_interval_as_vcqi(schedule):
    # VCQI RI_COVG_02_03DV never checks d2_min_age: MR2 30 days after MR1, at 330 days (< 456) is valid
    out, _ = pipeline(schedule, dated_child(age_days=517, mr1_card_date=day(300), mr2_card_date=day(330)))
    assert out.loc[0, ["mr1_valid", "mr2_valid"]].tolist() == [1, 1]


def test_maximum_age_for_birth_dose(schedule):
    out, _ = pipeline(schedule, dated_child(opv0_card_date=day(14)), dated_child(opv0_card_date=day(15)))
    assert out["opv0_valid"].tolist() == [1, 0]
    assert out["opv0_crude"].tolist() == [1, 1]


def test_out_of_order_dates_become_ticks(schedule):
    rows = [dated_child(penta1_card_date=day(80), penta2_card_date=day(60)),        # 2 before 1
            dated_child(penta1_card_date=day(60), penta2_card_date=day(60)),        # same day
            dated_child(penta1_card_date=day(60), penta2_card_date=day(100), penta3_card_date=day(50))]
    out, repairs = pipeline(schedule, *rows)
    assert out[["penta1_card_date", "penta2_card_date", "penta3_card_date"]].isna().all().all()
    assert out["penta1_card_tick"].tolist() == [1, 1, 1]
    assert out["penta2_source"].tolist() == ["card_tick"] * 3
    assert out["penta1_crude"].tolist() == [1, 1, 1]
    assert out["penta1_valid"].tolist() == [0, 0, 0]
    assert set(repairs["rule"]) == {"series_out_of_order_to_tick"}
    assert len(repairs) == 7
    assert repairs.iloc[0][["source_row", "child_id", "column", "original", "new"]].tolist() == [
        2, "c0", "penta1_card_date", "2023-03-22", "tick"]


@pytest.mark.parametrize("date, rule", [
    (day(-1), "date_before_dob_to_tick"),
    (INTERVIEW + pd.Timedelta(days=1), "date_after_interview_to_tick"),
], ids=["before-dob", "after-interview"])
def test_impossible_dates_become_ticks(schedule, date, rule):
    out, repairs = pipeline(schedule, dated_child(bcg_card_date=date), dated_child(bcg_card_date=day(3)))
    assert out["bcg_card_date"].isna().tolist() == [True, False]
    assert out["bcg_card_tick"].tolist()[0] == 1
    assert out["bcg_crude"].tolist() == [1, 1]
    assert out["bcg_valid"].tolist() == [0, 1]
    assert repairs[["column", "rule", "new"]].values.tolist() == [["bcg_card_date", rule, "tick"]]


def test_dates_before_earliest_or_after_latest_without_interview_become_ticks(schedule):
    rows = [dated_child(bcg_card_date=day(3)), dated_child(bcg_card_date=day(3), interview_date=None)]
    _, repairs = pipeline(schedule, *rows, earliest=day(5))
    assert repairs["rule"].tolist() == ["date_before_earliest_to_tick"] * 2
    _, repairs = pipeline(schedule, *rows, latest=day(2))
    assert repairs["rule"].tolist() == ["date_after_latest_to_tick"]


def test_register_dates_are_cleaned_too(schedule):
    out, repairs = pipeline(schedule, dated_child(penta1_register_date=day(90), penta2_register_date=day(70)))
    assert repairs["column"].tolist() == ["penta1_register_date", "penta2_register_date"]
    assert out.loc[0, ["penta1_register_tick", "penta2_register_tick"]].tolist() == [1, 1]


def test_clean_dates_repairs_nothing_on_clean_data(schedule):
    cleaned, repairs = clean_dates(table(schedule, dated_child(penta1_card_date=day(42))), schedule)
    assert repairs.empty and list(repairs.columns) == REPAIR_COLUMNS
    assert cleaned.loc[0, "penta1_card_date"] == day(42)


def dob_row(**fields):
    return dated_child(dob=None, **fields)


def test_dob_agreeing_parts_are_combined(schedule):
    # month and day only on the card, year only from history: together one date (VCQI step 1)
    row = dob_row(dob_card_m=5, dob_card_d=10, dob_card_y=np.nan,
                  dob_history_m=np.nan, dob_history_d=np.nan, dob_history_y=2023)
    dob = valid_dose_dob(table(schedule, row))
    assert dob.loc[0, "dob"] == pd.Timestamp("2023-05-10") and dob.loc[0, "rule"] == "agree"


def test_dob_disagreeing_sources_take_the_earliest_plausible(schedule):
    rows = [dob_row(dob_card="2023-05-10", dob_history="2023-04-01", dob_register="2023-05-10"),
            dob_row(dob_card="2023-05-10", dob_history="2019-01-01"),   # history before earliest
            dob_row(dob_card="2023-05-10", dob_history="2023-05-10"),
            dob_row(dob_card=None, dob_history=None)]
    dob = valid_dose_dob(table(schedule, *rows), earliest="2022-01-01")
    assert dob["dob"].tolist()[:3] == [pd.Timestamp("2023-04-01"), pd.Timestamp("2023-05-10"),
                                       pd.Timestamp("2023-05-10")]
    assert dob["rule"].tolist() == ["earliest", "earliest", "agree", "none"]
    assert pd.isna(dob.loc[3, "dob"])


def test_dob_plausibility_uses_the_youngest_eligible_age(schedule):
    # born 100 days before the last interview: too young for a survey whose youngest child is 126 days
    row = dob_row(dob_card=INTERVIEW - pd.Timedelta(days=100), dob_history="2023-02-01")
    dob = valid_dose_dob(table(schedule, row, dated_child()), min_eligible_age_days=126)
    assert dob.loc[0, "dob"] == pd.Timestamp("2023-02-01")


def test_no_dob_means_no_valid_dose_but_crude_stands(schedule):
    row = dob_row(dob_card=None, dob_history=None, penta1_card_date=day(60))
    out, _ = pipeline(schedule, row)
    assert out.loc[0, "penta1_crude"] == 1 and out.loc[0, "penta1_valid"] == 0


def test_dob_choice_is_used_for_validity(schedule):
    # card DOB 2023-01-20 makes Penta1 (2023-03-01) 40 days: invalid; history DOB 2023-01-01 is earlier
    # and makes it 59 days: valid, as VCQI's "earliest plausible" rule intends
    row = dob_row(dob_card="2023-01-20", dob_history="2023-01-01", penta1_card_date="2023-03-01")
    out, _ = pipeline(schedule, row)
    assert out.loc[0, "dob_for_valid_doses"] == pd.Timestamp("2023-01-01")
    assert out.loc[0, "penta1_valid"] == 1 and out.loc[0, "penta1_age_days"] == 59


def test_valid_by_age_one(schedule):
    out, _ = pipeline(schedule, dated_child(mr1_card_date=day(365)), dated_child(mr1_card_date=day(366)))
    assert out["mr1_valid"].tolist() == [1, 1]
    assert out["mr1_valid_age1"].tolist() == [1, 0]


def test_valid_by_age_one_uses_the_recorded_dose_as_vcqi_code(schedule):
    # recorded Penta2 at 300 days, but shift-left makes recorded Penta3 (370 days) the valid Penta2
    row = dated_child(age_days=600, penta1_card_date=day(30), penta2_card_date=day(300),
                      penta3_card_date=day(370))
    vcqi, _ = pipeline(schedule, row)
    strict, _ = pipeline(schedule, row, valid_age1_from="valid_dose")
    assert vcqi.loc[0, ["penta1_valid", "penta2_valid", "penta3_valid"]].tolist() == [1, 1, 0]
    assert vcqi.loc[0, "penta2_valid_age1"] == 1
    assert strict.loc[0, "penta2_valid_age1"] == 0


def test_valid_is_nan_where_the_child_is_too_young_for_the_dose(schedule):
    out, _ = pipeline(schedule, dated_child(age_days=200, cohort="18w-11m", mr1_card_date=day(190)))
    assert np.isnan(out.loc[0, "mr1_crude"]) and np.isnan(out.loc[0, "mr1_valid"])


def full_card(schedule, when, **fields):
    """A child with every fully-vaccinated dose dated at its minimum age (+when)."""
    dates = {f"{key}_card_date": day(schedule.dose(key).min_age_days + when)
             for key in schedule.fully_vaccinated}
    dates.update(fields)
    return dated_child(**dates)


def test_fully_vaccinated_variants(schedule):
    ticks = {f"{key}_card_tick": 1 for key in schedule.fully_vaccinated}
    no_mr1 = {key: value for key, value in ticks.items() if key != "mr1_card_tick"}
    rows = [full_card(schedule, 0),                                     # all valid
            full_card(schedule, -1),                                    # all one day early
            dated_child(**ticks),                                       # all ticks
            dated_child(**no_mr1),                                      # 12-23m without MR1
            dated_child(age_days=200, cohort="18w-11m", **no_mr1),      # MR1 not due yet
            dated_child(age_days=300, cohort="18w-11m", **no_mr1)]      # MR1 due
    out, _ = pipeline(schedule, *rows)
    assert out["fully_vaccinated_crude"].tolist() == [1, 1, 1, 0, 1, 0]
    assert out["fully_vaccinated_valid"].tolist() == [1, 0, 0, 0, 0, 0]
    assert out["fully_vaccinated_for_age"].tolist() == [1, 1, 1, 0, 1, 0]
    assert out["fully_vaccinated_for_age_valid"].tolist() == [1, 0, 0, 0, 0, 0]


def test_fully_vaccinated_by_age_one_and_not_vaccinated(schedule):
    # VCQI RI_COVG_03 fully_vaccinated_by_age1 and RI_COVG_04 not_vaccinated_crude/_valid/_by_age1
    late_mr1 = full_card(schedule, 0, mr1_card_date=day(370))           # MR1 valid, but after 365 days
    only_recall = dated_child(bcg_recall=1)                              # one crude dose, nothing valid
    late_bcg_only = dated_child(bcg_card_date=day(400))                  # one valid dose, not by age 1
    out, _ = pipeline(schedule, full_card(schedule, 0), late_mr1, only_recall, late_bcg_only, dated_child())
    assert out["fully_vaccinated_valid"].tolist() == [1, 1, 0, 0, 0]
    assert out["fully_vaccinated_valid_age1"].tolist() == [1, 0, 0, 0, 0]
    assert out["not_vaccinated_crude"].tolist() == [0, 0, 0, 0, 1]
    assert out["not_vaccinated_valid"].tolist() == [0, 0, 1, 0, 1]
    assert out["not_vaccinated_valid_age1"].tolist() == [0, 0, 1, 1, 1]


def test_dropout_pairs_come_from_the_schedule(tmp_path):
    path = tmp_path / "pairs.toml"
    doses = "".join(f'[[dose]]\nkey = "penta{k}"\nlabel = "Penta {k}"\nseries = "penta"\nnumber = {k}\n'
                    f"min_age_days = {28 + 14 * k}\n" for k in (1, 2, 3))
    path.write_text('[schedule]\ndropouts = [["penta1", "penta2"]]\n' + doses, encoding="utf-8")
    custom = load_schedule(path)
    assert custom.dropout_pairs() == [("penta1", "penta2")]
    out = derive(pd.DataFrame([child(penta1_recall=1), child(penta1_recall=1, penta2_recall=1)]), custom)
    assert out["dropout_penta1_penta2"].tolist() == [1, 0]
    assert "dropout_penta1_penta3" not in out
    assert load_registry(custom)["dropout_penta1_penta2"].label_fr == "Abandon Penta 1 à Penta 2"
    path.write_text('[schedule]\ndropouts = [["penta1", "mr9"]]\n' + doses, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule\.dropouts': \['penta1', 'mr9'\] is not a pair of dose keys"):
        load_schedule(path)


def test_dropout_pairs_and_their_labels_in_each_language(schedule):
    assert schedule.dropout_pairs() == [("penta1", "penta3"), ("penta1", "mr1"), ("mr1", "mr2"),
                                        ("malaria1", "malaria3")]
    # without a dropouts list: the DTP series' first to last dose, then Penta1 -> MR1 -> MR2
    assert Schedule("no list", schedule.doses).dropout_pairs() == [("penta1", "penta3"), ("penta1", "mr1"),
                                                                    ("mr1", "mr2")]
    registry = load_registry(schedule)
    assert registry["dropout_mr1_mr2"].label_en == "Dropout MR 1 to MR 2"
    assert registry["dropout_mr1_mr2"].label_fr == "Abandon RR 1 à RR 2"
    assert registry["opv1_crude"].label_fr == "VPO 1 (brut)" and registry["opv1_crude"].label_en == "OPV 1 (crude)"


def test_fully_vaccinated_for_age_needs_a_known_age(schedule):
    out, _ = pipeline(schedule, dated_child(age_days=np.nan, cohort=None))
    assert np.isnan(out.loc[0, "fully_vaccinated_for_age"])


def test_register_protocol_for_valid_doses(schedule):
    rows = [dated_child(penta1_register_date=day(60)),                     # no card
            dated_child(penta1_register_date=day(60), bcg_card_tick=1)]    # card with a tick
    valid = {records: pipeline(schedule, *rows, records=records)[0]["penta1_valid"].tolist()
             for records in ("not_sought", "if_no_card", "all")}
    assert valid == {"not_sought": [0, 0], "if_no_card": [1, 0], "all": [1, 1]}


def test_register_valid_when_card_date_is_too_early_with_records_for_all(schedule):
    row = dated_child(penta1_card_date=day(30), penta1_register_date=day(45))
    out, _ = pipeline(schedule, row, records="all")
    assert out.loc[0, "penta1_valid"] == 1 and out.loc[0, "penta1_valid_age_days"] == 45
    assert out.loc[0, "penta1_age_days"] == 30          # the card date is the dose's own date


def test_implied_penta1_counts_zero_dose_removed_by_later_dose_rule(schedule):
    rows = [dated_child(penta3_card_tick=1), dated_child(penta1_recall=1, penta3_card_tick=1), dated_child()]
    on, _ = pipeline(schedule, *rows)
    off, _ = pipeline(schedule, *rows, later_dose_implies_earlier=False)
    assert on["implied_penta1"].tolist() == [1, 0, 0]
    assert off["zero_dose"].sum() - on["zero_dose"].sum() == on["implied_penta1"].sum()


def test_card_seen_with_dates_counts_clean_dates_only(schedule):
    rows = [dated_child(bcg_card_date=day(3)), dated_child(bcg_card_tick=1),
            dated_child(bcg_card_date=day(-5))]                            # before DOB -> tick
    out, _ = pipeline(schedule, *rows)
    assert out["card_seen_with_dates"].tolist() == [1, 0, 0]


def test_timely_penta3_and_mr1(schedule):
    rows = [dated_child(penta3_card_date=day(182), mr1_card_date=day(365)),
            dated_child(penta3_card_date=day(183), mr1_card_date=day(366)),
            dated_child(penta3_card_tick=1, mr1_recall=1)]
    out, _ = pipeline(schedule, *rows)
    assert out["timely_penta3"].tolist()[:2] == [1, 0] and np.isnan(out.loc[2, "timely_penta3"])
    assert out["timely_mr1"].tolist()[:2] == [1, 0] and np.isnan(out.loc[2, "timely_mr1"])


def test_zd_ui_penta3_partition_holds_after_cleaning_and_validity(schedule):
    rows = [dated_child(), dated_child(penta1_card_date=day(60)),
            dated_child(penta1_card_date=day(80), penta2_card_date=day(60)),   # out of order -> ticks
            dated_child(penta3_card_date=day(-3)),                             # before DOB -> tick, implied
            dated_child(penta2_recall=1, penta3_card_date=day(120)),
            dated_child(age_days=150, cohort="18w-11m", penta1_register_date=day(50))]
    for records in ("not_sought", "if_no_card", "all"):
        out, _ = pipeline(schedule, *rows, records=records)
        assert (out["zero_dose"] + out["ui_dtp1_not_dtp3"] + out["penta3_crude"]).tolist() == [1] * 6
        assert (out["penta3_valid"] <= out["penta3_crude"]).all()


def test_registry_defines_every_derived_indicator(schedule):
    registry = load_registry(schedule)
    out, _ = pipeline(schedule, dated_child())
    for key in schedule.keys:
        assert registry[f"{key}_valid"].label_fr.endswith("(valide)")
    new = ["fully_vaccinated_crude", "fully_vaccinated_valid", "fully_vaccinated_valid_age1",
           "fully_vaccinated_for_age", "fully_vaccinated_for_age_valid", "not_vaccinated_crude",
           "not_vaccinated_valid", "not_vaccinated_valid_age1", "card_seen_with_dates", "timely_penta3",
           "timely_mr1", "implied_penta1", "dropout_penta1_penta3", "dropout_penta1_mr1", "dropout_mr1_mr2"]
    assert set(new) <= set(registry) and set(new) <= set(out.columns)
    # BeSD indicators come from lqas.besd, the gender indicators from lqas.gender
    gender = {"mother_needs_permission", "mother_decides_vaccination"}
    assert gender <= set(registry)
    # registers not sought (the default): no register family, as VCQI
    register = {key for key in registry if key.endswith(("_by_register", "_card_or_register",
                                                          "_card_history_or_register"))}
    assert register and not register & set(out)
    assert all(key in out for key in registry if not key.startswith("besd_") and key not in gender | register)
    assert "bcg_by_scar" in registry and "penta1_by_scar" not in registry


def test_schedule_fully_vaccinated_list_must_name_doses(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[schedule]\nfully_vaccinated = ["bcg", "dtp9"]\n'
                    '[[dose]]\nkey = "bcg"\nlabel = "BCG"\nmin_age_days = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule\.fully_vaccinated.*'dtp9'"):
        load_schedule(path)


def test_derive_rejects_an_unknown_records_protocol(schedule):
    with pytest.raises(ValueError, match="records='some'; expected one of"):
        derive(table(schedule, dated_child()), schedule, records="some")


def test_dose_without_any_evidence_column_is_not_in_the_denominator(schedule):
    # a BeSD-only survey collected no dose evidence: zero-dose is unknown, not 100 %
    frame = pd.DataFrame([{"child_id": "c", "age_days": 400, "cohort": "12-23m"}])
    out = derive(frame, schedule, cohorts=COHORTS)
    assert np.isnan(out.loc[0, "penta1_crude"]) and np.isnan(out.loc[0, "zero_dose"])


def test_dose_introduced_in_some_districts_counts_only_there(schedule):
    # Mali R21 malaria vaccine: children outside the introduction districts are not "unvaccinated"
    rows = [child(district="bougouni", malaria_recall=0),
            child(district="bougouni", malaria1_recall=1, malaria2_recall=1, malaria3_recall=1),
            child(district="niono", malaria1_recall=0),
            child(district="bougouni", age_days=140, cohort="18w-11m", malaria1_recall=0)]
    out = run(schedule, *rows, introduced={"malaria": {"district": ["bougouni"]}})
    assert out["malaria1_crude"].tolist()[:2] == [0, 1]
    assert np.isnan(out.loc[2, "malaria1_crude"]) and np.isnan(out.loc[2, "malaria3_valid"])
    assert np.isnan(out.loc[3, "malaria1_crude"])                  # 140 days: too young for dose 1
    assert out["dropout_malaria1_malaria3"].tolist()[1] == 0
    assert out["penta1_crude"].notna().all()                       # other doses untouched
    by_code = run(schedule, child(district=2, malaria1_recall=1), introduced={"malaria1": {"district": ["2"]}})
    assert by_code.loc[0, "malaria1_crude"] == 1                   # codes compare as text


@pytest.mark.parametrize("introduced, message", [
    ({"malaria9": {"district": ["a"]}},
     r"key 'vaccination.introduced.malaria9': 'malaria9' is neither a dose nor a series of schedule .*; "
     r"did you mean 'malaria3'\?"),
    ({"malaria": {"region": ["a"]}}, "key 'vaccination.introduced.malaria': column 'region' is not a column of the child"),
    # a misspelt area would take its children out of the malaria denominators without a word
    ({"malaria": {"district": ["a", "segu"]}}, (r"key 'vaccination.introduced.malaria': district value\(s\) 'segu' "
                                                r"match no child of this survey; the data have 'a'")),
], ids=["unknown-dose", "unknown-column", "unknown-value"])
def test_introduced_errors_name_the_setting(schedule, introduced, message):
    with pytest.raises(ConfigError, match=message):
        run(schedule, child(district="a", malaria1_recall=1), introduced=introduced)


def test_introduced_setting_names_one_column(tmp_path):
    from lqas.config import load_project

    path = tmp_path / "survey.toml"
    path.write_text('[data]\nfile = "x.csv"\n[vaccination.introduced]\nmalaria = { district = ["a"], region = ["b"] }\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'vaccination\.introduced': .*introduced\.malaria must name one column"):
        load_project(path)
    path.write_text('[data]\nfile = "x.csv"\n[vaccination.introduced]\nmalaria = { district = ["a", 2] }\n',
                    encoding="utf-8")
    assert load_project(path).vaccination.introduced == {"malaria": {"district": ["a", 2]}}


def test_doses_without_any_evidence_column_are_listed_as_not_collected(schedule):
    frame = pd.DataFrame([child(penta1_recall=1, bcg_scar=1)])
    assert not_collected(frame, schedule) == [k for k in schedule.keys if k not in ("bcg", "penta1")]

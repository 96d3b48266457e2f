"""Crude doses and child-level indicators on hand-made children (rules from vcqi.md §2, besd.md §2)."""

import numpy as np
import pandas as pd
import pytest

from lqas.vaccination import derive, load_schedule

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

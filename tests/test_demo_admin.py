"""The demo's synthetic DHIS2 extract (examples/mali_followup/data/dhis2, written by
examples/mali_baseline/generate.py): the problems the generator built in come out of the follow-up's
triangulation as the WHO checks' flags, where and when they were planted and nowhere they were not, and
the survey-implied target finds the real births where the census target was built wrong.

Every expected place, period and number is derived from the generator's own constants and functions."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FOLLOWUP = REPO / "examples" / "mali_followup"
EXTRACT = FOLLOWUP / "data" / "dhis2"
DOSES = ("penta1", "penta3", "mr1")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`lqas triangulate` of the follow-up: admin.csv, dq_flags.csv and admin_unused.csv as written."""
    out = tmp_path_factory.mktemp("triangulate")
    # the repository first on the path: `python -m lqas` then runs the source under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-m", "lqas", "triangulate", str(FOLLOWUP / "survey.toml"), "--out",
                             str(out)], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return {name: pd.read_csv(out / f"{name}.csv", dtype={"period": str})
            for name in ("admin", "dq_flags", "admin_unused")}


def flagged(flags: pd.DataFrame, check: str) -> set[tuple[str, ...]]:
    # the CSV's flag is True, False or empty (not judged): `== True` keeps the flagged only
    rows = flags[(flags["check"] == check) & (flags["flag"] == True)]
    return set(zip(rows["org_unit"], rows["data_element"], rows["period"]))


def catchment_of(generator, facility: str) -> str:
    return next(area for area, facilities in generator.FACILITIES.items()
                if facility in (name for name, _ in facilities))


def quarter(year: int, month: int) -> str:
    return f"{year}Q{(month + 2) // 3}"


def test_the_extract_is_the_generators_output_byte_for_byte(generator, tmp_path):
    generator.dhis2_extract(tmp_path / "dhis2", tmp_path / "dhis2_mapping.toml")
    for name in ("datavaluesets.csv", "analytics.json"):
        assert (tmp_path / "dhis2" / name).read_bytes() == (EXTRACT / name).read_bytes(), name
    assert (tmp_path / "dhis2_mapping.toml").read_bytes() == (FOLLOWUP / "dhis2_mapping.toml").read_bytes()
    assert sum(path.stat().st_size for path in EXTRACT.iterdir()) < 1_000_000


def test_the_swapped_year_is_the_only_negative_dropout(generator, run):
    facility, year = generator.SWAPPED
    assert flagged(run["dq_flags"], "negative_dropout") == {(catchment_of(generator, facility), "penta1-penta3",
                                                              str(year))}


def test_the_typing_error_is_the_only_extreme_outlier_and_shows_in_its_years_totals(generator, run):
    facility, dose, year, month, _ = generator.OUTLIER
    area = catchment_of(generator, facility)
    flags = run["dq_flags"]
    assert flagged(flags, "outlier_extreme") == {(area, dose, f"{year}{month:02d}")}
    assert (area, dose, f"{year}{month:02d}") in flagged(flags, "outlier_modified_z")
    # a month ×10 adds nine months' doses to its year: the year jumps, and falls back the year after
    assert (area, dose, str(year)) in flagged(flags, "consistency_over_time")
    swing = flags[(flags["check"] == "year_on_year_swing") & (flags["org_unit"] == area)
                  & (flags["data_element"] == dose)].set_index("period")["value"]
    assert swing[str(year)] > 0.3 and swing[str(year + 1)] < -0.3


def test_the_collapse_breaks_the_series_and_the_reports_of_its_area_only(generator, run):
    flags = run["dq_flags"]
    first, last = generator.COLLAPSE_MONTHS[0][0], generator.COLLAPSE_MONTHS[-1][0]
    area = catchment_of(generator, generator.COLLAPSE_FACILITIES[0])
    consistency = flagged(flags, "consistency_over_time")
    typo = catchment_of(generator, generator.OUTLIER[0]), generator.OUTLIER[1], str(generator.OUTLIER[2])
    assert consistency == {(area, dose, str(first)) for dose in DOSES} | {typo}
    swings = flags[(flags["check"] == "year_on_year_swing") & (flags["org_unit"] == area)]
    for dose in DOSES:
        change = swings[swings["data_element"] == dose].set_index("period")
        # down in the collapse, up in the recovery, each change beyond the threshold
        assert change.loc[str(first), "value"] < -change.loc[str(first), "threshold"]
        assert change.loc[str(last), "value"] > change.loc[str(last), "threshold"]
        assert change.loc[[str(first), str(last)], "flag"].all()


def _reports_missing_or_late(generator) -> tuple[dict, dict]:
    """Per (area, quarter): the reports never entered, and those entered after the deadline, by the plan."""
    missing, late = {}, {}
    for year, month in generator.COLLAPSE_MONTHS:
        area = catchment_of(generator, generator.COLLAPSE_FACILITIES[0])
        missing[(area, quarter(year, month))] = missing.get((area, quarter(year, month)), 0) + 1  # the closed one
        late[(area, quarter(year, month))] = late.get((area, quarter(year, month)), 0) + 1  # entered months later
    for (facility, year, month), entered in generator.LATE_REPORTS.items():
        key = catchment_of(generator, facility), quarter(year, month)
        (missing if entered is None else late)[key] = (missing if entered is None else late).get(key, 0) + 1
    return missing, late


def test_completeness_and_timeliness_flag_the_quarters_with_missing_and_late_reports(generator, run):
    missing, late = _reports_missing_or_late(generator)
    expected = {area: 3 * len(facilities) for area, facilities in generator.FACILITIES.items()}
    data_set = run["dq_flags"].loc[run["dq_flags"]["check"] == "completeness", "data_element"].iloc[0]
    # one report missing of three (a CSCom) or of six (two) is below 90 %
    assert flagged(run["dq_flags"], "completeness") == {(area, data_set, period) for area, period in missing}
    on_time_share = {key: 1 - (missing.get(key, 0) + late.get(key, 0)) / expected[key[0]]
                     for key in {*missing, *late}}
    assert flagged(run["dq_flags"], "timeliness") == {(area, data_set, period)
                                                     for (area, period), share in on_time_share.items() if share < 0.8}
    completeness = run["dq_flags"][run["dq_flags"]["check"] == "completeness"].set_index(["org_unit", "period"])
    collapse = catchment_of(generator, generator.COLLAPSE_FACILITIES[0])
    assert completeness.loc[(collapse, "2023Q3"), "value"] == pytest.approx(0.5)  # the closed CSCom of two


def test_admin_coverage_exceeds_100_percent_where_the_census_target_was_built_too_small(generator, run):
    short = {area for area, share in generator.CENSUS_SHARE_2025.items() if share < 0.9}
    control = {area for area, share in generator.CENSUS_SHARE_2025.items() if share == 1.0}
    assert short == {"bougouni_est", "pelengana_nord", "cinzana_gare"} and control == {"kologo"}
    over = flagged(run["dq_flags"], "coverage_over_100")
    for area in short:
        assert {(area, "penta1", str(year)) for year in (2023, 2024, 2025)} <= over
    assert not {row for row in over if row[0] in control}
    penta1 = run["admin"][run["admin"]["dose"] == "penta1"].set_index("catchment")
    assert penta1.loc[sorted(short), "over_100"].all()
    assert (penta1.loc[sorted(short), "admin_coverage"] > 1).all()
    assert penta1.loc[sorted(short), "difference_flag"].all()
    # admin / survey beyond 1 + 0.33: Cinzana Gare (target 65 % of the births) and Pelengana Nord (78 %, and a
    # survey that under-counts its Penta 1), not Bougouni Est (85 %)
    assert set(penta1.index[penta1["ratio_flag"] == True]) == {"pelengana_nord", "cinzana_gare"}
    unflagged = sorted(set(penta1.index) - short)
    assert not penta1.loc[unflagged, ["over_100", "ratio_flag", "difference_flag"]].any().any()
    assert abs(penta1.loc["kologo", "ratio"] - 1) < 0.1


def test_the_catch_up_band_is_counted_as_unused_with_its_reason(generator, run):
    values = pd.read_csv(EXTRACT / "datavaluesets.csv", dtype=str)
    older = values["categoryoptioncombo"] == generator.dhis2_uids()[("band", generator.AGE_BANDS[1])]
    assert older.sum() > 0
    assert run["admin_unused"].to_dict("records") == [
        {"file": "data/dhis2/datavaluesets.csv", "reason": "category option combo not in the mapping",
         "rows": int(older.sum())}]


def _births_between(generator, area: str, start: dt.date, end: dt.date) -> float:
    """The real births of the days from ``start`` to ``end``, each year's births spread over its days."""
    total = 0.0
    for year in range(start.year, end.year + 1):
        first, last = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
        days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
        total += generator.births(area, year) * ((last - first).days + 1) / days
    return total


def test_the_survey_implied_target_finds_the_real_births_where_the_census_is_wrong(generator, run):
    coverage = generator.true_coverage()[2025]
    penta1 = run["admin"][run["admin"]["dose"] == "penta1"].set_index("catchment")
    short = [area for area, share in generator.CENSUS_SHARE_2025.items() if share < 0.9]
    covered = []
    for area in short:
        row = penta1.loc[area]
        births = _births_between(generator, area, dt.date.fromisoformat(row["window_start"]),
                                 dt.date.fromisoformat(row["window_end"]))
        # the census target is far off; the survey-implied one nearer
        assert abs(row["implied_target"] - births) < abs(row["target"] - births)
        # T̂ = doses / p̂ carries the survey's error only: its interval holds the births exactly where the
        # survey's interval holds the coverage the children truly had
        survey_right = row["ci_low"] <= coverage.loc[area, "penta1"] <= row["ci_high"]
        target_right = row["implied_target_ci_low"] <= births <= row["implied_target_ci_high"]
        assert survey_right == target_right, area
        if target_right:
            covered.append(area)
    assert len(covered) >= 2

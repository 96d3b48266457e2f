"""Fieldwork checks (issue 20): each check on a constructed table whose answer is known; a missing
column turns its checks off with one line; lqas quality's JSON against the shipped schema and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import demo_generator
from scipy.stats import binomtest

from lqas.config.fieldwork import load_fieldwork_checks
from lqas.fieldwork import QUALITY_COLUMNS, explain, fieldwork_quality

CHECKS = load_fieldwork_checks()
COHORTS = {"18w-11m": (126, 364), "12-23m": (365, 729)}
ROOT = Path(__file__).resolve().parents[1]


def children(n: int, **columns) -> pd.DataFrame:
    """``n`` ordinary children: two catchments, clusters of 10, girls and boys alternating, dates of
    birth spread over the days and months, ages inside 12–23 months, interviews of 20 minutes one after
    another, cards seen for 4 in 5 (the doses' evidence: the card, else the caregiver's recall for one
    child in two), four recall answers each and none "don't know", the BeSD items all answered;
    ``columns`` override."""
    start = pd.Timestamp("2025-10-13 08:00", tz="UTC") + pd.to_timedelta(np.arange(n) * 30, unit="min")
    dob = pd.Timestamp("2024-01-01") + pd.to_timedelta((np.arange(n) * 37) % 360, unit="D")
    card = np.arange(n) % 5 != 0
    source = np.where(card, "card_date", np.where(np.arange(n) % 10 == 0, "recall", "none"))
    frame = pd.DataFrame({
        "source_row": np.arange(2, n + 2), "catchment": np.where(np.arange(n) % 2, "a", "b"),
        "cluster": (np.arange(n) // 10).astype(str), "cohort": "12-23m",
        "interview_date": pd.Timestamp("2025-10-13") + pd.to_timedelta(np.arange(n) // 8, unit="D"),
        "interviewer": "I" + (np.arange(n) % 4).astype(str), "team": "T" + (np.arange(n) % 2).astype(str),
        "interview_start": start.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "interview_end": (start + pd.Timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "dob": dob, "age_days": 400 + (np.arange(n) * 7) % 300, "sex": np.where((np.arange(n) // 4) % 2, "F", "M"),
        "card_seen": card.astype(int),
        "penta1_source": source, "penta1_crude": (source != "none").astype(float),
        "mr1_source": source, "mr1_crude": (source != "none").astype(float),
        "recall_answers": 4, "recall_dont_know": 0, "gps_km_from_cluster": (np.arange(n) % 7) / 10,
        "CHI_intent": "3", "CHI_confb": "4", "CHI_normf": "1", "CHI_lowac": "noth",
        "besd_intent": 1.0, "besd_confb": 1.0, "besd_normf": 1.0})
    for name, values in columns.items():
        frame[name] = values
    return frame


def households(table: pd.DataFrame, refused: dict[str, int] | None = None, absent: dict[str, int] | None = None
               ) -> pd.DataFrame:
    """The household log of ``table``'s clusters: 40 households visited in each (catchment/cluster), 16
    interviewed, none refused and one absent unless ``refused`` / ``absent`` say otherwise, the rest with no
    eligible child."""
    rows = []
    for unit in sorted(set(table["catchment"].astype(str) + "/" + table["cluster"].astype(str))):
        catchment, cluster = unit.split("/")
        no, away = (refused or {}).get(unit, 0), (absent or {}).get(unit, 1)
        results = ["interviewed"] * 16 + ["refused"] * no + ["absent"] * away
        rows += [(catchment, cluster, result) for result in results + ["no_eligible_child"] * (40 - len(results))]
    return pd.DataFrame(rows, columns=["catchment", "cluster", "result"])


def derived(table: pd.DataFrame, exclusions: pd.DataFrame | None = None, repairs: pd.DataFrame | None = None):
    return SimpleNamespace(table=table, exclusions=exclusions if exclusions is not None else pd.DataFrame(
        columns=["source_row", "child_id", "catchment", "reason", "detail"]),
        repairs=repairs if repairs is not None else pd.DataFrame(columns=["source_row"]))


def rows(found, check: str, level: str | None = None) -> pd.DataFrame:
    frame = found.checks[found.checks["check"] == check]
    return (frame[frame["level"] == level] if level else frame).set_index("unit")


def test_an_ordinary_survey_raises_no_flag():
    table = children(200)
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table))
    assert list(found.checks.columns) == QUALITY_COLUMNS
    assert set(found.checks["check"]) == {"duration", "overlap", "per_day", "heaping_day", "heaping_month", "boundary",
                                          "sex_ratio", "card_seen", "repairs", "duplicates", "recall_only",
                                          "dont_know", "besd_nonresponse", "refusals", "absences", "gps_distance"} == set(CHECKS.names)
    assert not found.checks["flag"].any() and found.off == []


def test_interviews_too_short_flag_their_interviewer_as_an_alert():
    table = children(200)
    fast = table["interviewer"] == "I1"
    table.loc[fast, "interview_end"] = (pd.to_datetime(table.loc[fast, "interview_start"])
                                        + pd.Timedelta(minutes=3)).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    duration = rows(found, "duration", "interviewer")
    assert duration.loc["I1", "flag"] and duration.loc["I1", "value"] == 1.0 and duration.loc["I1", "reference"] == 3
    assert duration.loc["I1", "severity"] == "alert" and not duration.drop("I1")["flag"].any()
    assert explain(duration.reset_index().iloc[1], CHECKS, "en") == \
        "100.0% of the interviews took less than 5 minutes"


def test_two_interviews_at_once_and_too_many_a_day_are_flagged():
    table = children(200)
    mine = table.index[table["interviewer"] == "I2"]
    # I2's interviews all start at the same hour on their day: each overlaps the others
    table.loc[mine, "interview_start"] = "2025-10-13T09:00:00+00:00"
    table.loc[mine, "interview_end"] = "2025-10-13T09:30:00+00:00"
    table.loc[mine, "interview_date"] = pd.Timestamp("2025-10-13")
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    overlap, per_day = rows(found, "overlap"), rows(found, "per_day")
    assert overlap.loc["I2", "flag"] and overlap.loc["I2", "value"] == 1.0
    assert per_day.loc["I2", "value"] == 50 and per_day.loc["I2", "flag"]  # 50 in a day, above 24
    assert not overlap.drop("I2")["flag"].any() and not per_day.drop("I2")["flag"].any()


def test_dates_of_birth_heaped_on_the_1st_and_15th_and_in_january():
    table = children(200)
    heaped = table["cluster"] == "3"
    table.loc[heaped, "dob"] = [pd.Timestamp(2024, 1, 1 if i % 2 else 15) for i in range(int(heaped.sum()))]
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    day, month = rows(found, "heaping_day", "cluster"), rows(found, "heaping_month", "cluster")
    unit = next(u for u in day.index if u.endswith("/3"))
    # 5 of the cluster's 10 children in catchment b (the other 5 in a): every one on the 1st or the 15th
    assert day.loc[unit, "value"] == 1.0 and day.loc[unit, "reference"] == pytest.approx(2 / (365.25 / 12))
    assert day.loc[unit, "p_value"] == pytest.approx(binomtest(5, 5, 2 / (365.25 / 12), alternative="greater").pvalue)
    # too few children in one cluster-catchment for the rule (min_n 20): the test alone does not flag
    assert not day.loc[unit, "flag"]
    by_interviewer = rows(found, "heaping_month", "interviewer")
    assert month.loc[unit, "value"] == 1.0 and not by_interviewer["flag"].any()


def test_a_cluster_with_heaped_ages_is_flagged():
    table = children(400)
    heaped = (table["cluster"] == "3") | (table["cluster"] == "4")
    table.loc[heaped, "catchment"] = "a"
    table.loc[heaped, "cluster"] = "3"
    table.loc[heaped, "dob"] = [pd.Timestamp(2024, 1 + i % 12, 15) for i in range(int(heaped.sum()))]
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    day = rows(found, "heaping_day", "cluster")
    assert day.loc["a/3", "flag"] and day.loc["a/3", "n"] == 20
    assert day.loc["a/3", "p_value"] == pytest.approx(binomtest(20, 20, 2 / (365.25 / 12), alternative="greater").pvalue)
    assert day["flag"].sum() == 1


def test_children_pushed_out_of_the_age_window_are_flagged_at_the_boundary():
    table = children(200)
    pushed = table["interviewer"] == "I3"
    # I3's 50 children: 45 in the 30 days before the last 30 of 12–23 months, 5 in the last 30 days
    table.loc[pushed, "age_days"] = [670 + i % 30 if i < 45 else 700 + i % 30 for i in range(50)]
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    boundary = found.checks[(found.checks["check"] == "boundary") & (found.checks["level"] == "interviewer")
                            & (found.checks["detail"] == "12-23m upper 730 days")].set_index("unit")
    assert boundary.loc["I3", "flag"] and boundary.loc["I3", "n"] == 50
    assert boundary.loc["I3", "value"] == pytest.approx(5 / 45)
    assert boundary.loc["I3", "p_value"] == pytest.approx(binomtest(5, 50, 0.5, alternative="less").pvalue)
    text = explain(boundary.reset_index().set_index("unit").loc["I3"].to_dict() | {"check": "boundary"}, CHECKS, "en")
    assert text.startswith("5 children in the last 30 days before the 730-day boundary against 45")


def test_the_sex_ratio_of_a_lot_is_tested_against_the_survey():
    table = children(200)
    lot = (table["catchment"] == "a") & (table["cohort"] == "12-23m")
    table.loc[lot, "sex"] = ["F" if i % 3 == 0 else "M" for i in range(int(lot.sum()))]
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    sex = rows(found, "sex_ratio", "lot")
    girls = int((table["sex"] == "F").sum())
    assert sex.loc["a/12-23m", "reference"] == girls / 200
    assert sex.loc["a/12-23m", "p_value"] == pytest.approx(binomtest(34, 100, girls / 200).pvalue)
    assert sex.loc["a/12-23m", "flag"] == (binomtest(34, 100, girls / 200).pvalue < 0.05)


def test_few_cards_seen_and_many_repairs_flag_their_units():
    table = children(200)
    table.loc[table["cluster"] == "2", ["catchment", "card_seen"]] = ["a", 0]
    table.loc[table["cluster"] == "5", ["catchment", "cluster", "card_seen"]] = ["a", "2", 0]
    repairs = pd.DataFrame({"source_row": table.loc[table["interviewer"] == "I0", "source_row"].iloc[:20]})
    found = fieldwork_quality(derived(table, repairs=repairs), CHECKS, COHORTS)
    cards = rows(found, "card_seen", "cluster")
    assert cards.loc["a/2", "flag"] and cards.loc["a/2", "value"] == 0 and cards["flag"].sum() == 1
    rest = table[table["cluster"] != "2"]["card_seen"]
    assert cards.loc["a/2", "reference"] == pytest.approx(rest.mean())
    repaired = rows(found, "repairs")
    assert repaired.loc["I0", "value"] == 20 / 50 and repaired.loc["I0", "flag"] and repaired["flag"].sum() == 1


def test_duplicates_flag_the_day_and_the_interviewer_they_were_made_on():
    table = children(200)
    exclusions = pd.DataFrame({"source_row": [300, 301, 302], "child_id": ["x", "y", "z"], "catchment": "a",
                               "reason": ["duplicate_submission", "duplicate_child_id", "dob_invalid"], "detail": "",
                               "interview_date": [pd.Timestamp("2025-10-15")] * 2 + [pd.Timestamp("2025-10-16")],
                               "interviewer": ["I1", "I1", "I2"]})
    found = fieldwork_quality(derived(table, exclusions), CHECKS, COHORTS)
    days, interviewers = rows(found, "duplicates", "day"), rows(found, "duplicates", "interviewer")
    assert days.loc["2025-10-15", "value"] == 2 and days["flag"].sum() == 1
    assert interviewers.loc["I1", "flag"] and interviewers["flag"].sum() == 1
    assert found.rows == 203


def test_missing_columns_turn_their_checks_off_in_one_line_each():
    table = children(100).drop(columns=["interviewer", "team", "interview_start", "interview_end", "card_seen"])
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table))
    off = {item["check"]: item["reason"] for item in found.off}
    assert set(off) == {"interviewer", "team", "duration", "overlap", "card_seen"}
    assert all("\n" not in reason for reason in off.values())
    assert off["interviewer"].startswith("no interviewer column: the per-interviewer checks are off")
    assert not found.checks["level"].isin(["interviewer", "team"]).any()
    assert {"heaping_day", "sex_ratio", "duplicates", "boundary", "refusals"} <= set(found.checks["check"])
    # the shares by interviewer and team have no unit to judge, but the log's clusters do
    assert set(found.checks.loc[found.checks["check"] == "absences", "level"]) == {"cluster"}


def test_since_keeps_the_records_of_the_later_days():
    table = children(200)
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, since=pd.Timestamp("2025-10-30").date())
    assert found.rows == int((table["interview_date"] >= "2025-10-30").sum()) == 200 - 17 * 8


def _quality(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lqas", "quality", *args], capture_output=True, text=True,
                          env={**__import__("os").environ, "COLUMNS": "200"}, check=False)


@pytest.fixture(scope="module")
def baseline_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality")
    return _quality(str(ROOT / "examples" / "mali_baseline" / "survey.toml"), "--out", str(out), "--json",
                    "--lang", "en"), out


def test_the_json_output_validates_against_the_shipped_schema(baseline_json):
    import jsonschema

    from lqas.resources import data_path

    done, out = baseline_json
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, json.loads(data_path("quality.schema.json").read_text(encoding="utf-8")))
    # the baseline's lot with 34 % girls (N'Débougou, 18 weeks–11 months) is flagged, with its explanation
    sex = [flag for flag in document["flags"] if flag["check"] == "sex_ratio" and flag["level"] == "lot"]
    assert [flag["unit"] for flag in sex] == ["ndebougou/18w-11m"]
    assert sex[0]["explanation"].startswith("34.4% girls against")
    assert len(pd.read_csv(out / "quality.csv")) == document["judged"]
    # the export has the interviewer and team columns (hh/interviewer, hh/team), the kobo profile counts the
    # "don't know" answers, and the project has a household log: every check is on
    assert document["checks_off"] == []


def test_strict_exits_3_when_an_alert_is_raised_and_bad_options_exit_2(tmp_path, baseline_json):
    project = str(ROOT / "examples" / "mali_baseline" / "survey.toml")
    document = json.loads(baseline_json[0].stdout)
    assert document["counts"]["alert"] > 0  # the demo's duplicated submissions
    done = _quality(project, "--out", str(tmp_path), "--strict")
    assert done.returncode == 3 and "of severity alert or graver (--strict)" in done.stderr
    for bad, message in ((("--severity", "grave"), "--severity: expected alert or warning"),
                         (("--since", "30/10/2025"), "--since: expected a day as YYYY-MM-DD")):
        done = _quality(project, "--out", str(tmp_path), *bad)
        assert done.returncode == 2 and done.stderr.strip().startswith("lqas: error:") and message in done.stderr
        assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_quality_outputs_lead_with_the_flags_then_a_page_per_interviewer(tmp_path, lang):
    from openpyxl import load_workbook

    from lqas.fieldwork_report import quality_document, write_quality_outputs

    table = children(200)
    fast = table["interviewer"] == "I1"
    table.loc[fast, "interview_end"] = table.loc[fast, "interview_start"]
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    summary = {"survey": "Test survey", "counts": {"alert": 2, "warning": 0}}
    written = write_quality_outputs(found, summary, CHECKS, tmp_path, lang)
    assert written == ["quality.csv", "quality.xlsx", "quality.html", "quality.pdf"]
    document = quality_document(found, summary, CHECKS, lang)
    headings = [(b.level, b.text) for b in document.blocks if b.kind == "heading"]
    words = {"en": ("Flags to act on", "By interviewer", "Interviewer I0"),
             "fr": ("Signalements à traiter", "Par enquêteur", "Enquêteur I0")}[lang]
    assert headings[0] == (1, words[0]) and (1, words[1]) in headings and (2, words[2]) in headings
    assert sum(b.kind == "page_break" for b in document.blocks) == 3 + 1  # between interviewers and teams
    flags = next(b for b in document.blocks if b.kind == "table")
    assert len(flags.rows) == len(found.flags) == 2  # interviewer I1 and its team T1: every interview 0 minutes
    book = load_workbook(tmp_path / "quality.xlsx")
    sheet = book[book.sheetnames[0]]
    assert len(book.sheetnames) == 2 and sum(any(c is not None for c in row) for row in sheet.iter_rows(values_only=True)) == 4
    pdf = subprocess.run(["pdftotext", str(tmp_path / "quality.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    assert words[0] in pdf and words[2] in pdf
    assert words[0] in (tmp_path / "quality.html").read_text(encoding="utf-8")


def test_a_run_writes_quality_csv_and_its_report_sums_the_flags_up(tmp_path):
    from lqas.blocks import Heading, Table
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse
    from lqas.sections import compose

    results = analyse(load_project(ROOT / "examples" / "mali_baseline" / "survey.toml"))
    found = results.quality
    assert found is not None and found.rows == len(results.table) + len(results.derived.exclusions)
    from lqas.outputs import run_tables
    assert run_tables(results)["quality"] is found.checks
    context = report_context(results, "en", charts_dir=tmp_path)
    summary = context["sample"]["quality_checks"]
    assert summary["alert"] == int((found.flags["severity"] == "alert").sum())
    # every check on in a run as in lqas quality: the run gives the checks the household log, and the kobo
    # profile counts the "don't know" answers
    assert summary["off"] == [item["check"] for item in found.off] == []
    judged = set(found.checks["check"])
    assert {"refusals", "absences", "recall_only", "besd_nonresponse", "dont_know"} <= judged
    blocks = compose(context).blocks
    start = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.anchor == "sample-fieldwork")
    table = next(b for b in blocks[start:] if isinstance(b, Table))
    by_check = {row.cells[0].lines[0]: row for row in table.rows}
    # the baseline's lot, and the interviewer with 63 % girls (48 of 76; binom.test against the survey's share)
    assert by_check["Share of girls"].cells[-1].lines[0] == "N'Débougou, 18 weeks–11 months, interviewer E04"
    assert by_check["Duplicate records"].cells[1].lines[0] == str(summary["alert"])


@pytest.fixture(scope="module")
def followup_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality_followup")
    return _quality(str(ROOT / "examples" / "mali_followup" / "survey.toml"), "--out", str(out), "--json",
                    "--lang", "en"), out


def test_the_demo_flags_exactly_the_problems_its_generator_planted(followup_json):
    """Issue 20: on the demo (the follow-up round) lqas quality flags the injected interviewer, cluster and
    day and nothing else at the default thresholds, but the lot with an unusual share of girls the round
    already had (N'Débougou, 18 weeks–11 months: 56 girls of 95)."""
    generate = demo_generator()
    done, out = followup_json
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["checks_off"] == []
    who, cluster, day = generate.PROBLEM_INTERVIEWER, generate.HEAPED_CLUSTER, generate.RESENT_DAY.isoformat()
    assert generate.FAST_INTERVIEWER == generate.HEAPED_INTERVIEWER == generate.RESENT_INTERVIEWER == who
    catchment = next(cat[0] for cat in generate.CATCHMENTS if cat[2] == cluster.split("-")[0])
    found = sorted((flag["level"], flag["unit"], flag["check"], flag["severity"]) for flag in document["flags"])
    assert found == sorted([
        ("interviewer", who, "duration", "alert"),  # the fast interviewer (their team and clusters are not)
        ("interviewer", who, "duplicates", "alert"),  # their tablet re-sent the day's forms
        ("interviewer", who, "heaping_day", "warning"),  # the dates of birth they wrote in the cluster
        ("cluster", f"{catchment}/{cluster}", "heaping_day", "warning"),
        ("day", day, "duplicates", "alert"),
        ("lot", "ndebougou/18w-11m", "sex_ratio", "warning")])
    flags = {(flag["level"], flag["check"]): flag for flag in document["flags"]}
    # the round's 7 re-submissions, all made on that day, all theirs
    assert flags[("day", "duplicates")]["value"] == flags[("interviewer", "duplicates")]["value"] == 7
    # most of their interviews under 5 minutes (a quarter of each of their clusters)
    assert flags[("interviewer", "duration")]["value"] > 0.5
    # the cluster judged from its 20 children (the check's min_n): 12 of them on the 1st or the 15th
    heaped = flags[("cluster", "heaping_day")]
    assert (heaped["n"], round(heaped["value"] * heaped["n"])) == (20, 12)
    assert heaped["p_value"] == pytest.approx(binomtest(12, 20, 2 / (365.25 / 12), alternative="greater").pvalue)
    judged = pd.read_csv(out / "quality.csv")
    assert len(judged) == document["judged"]
    # the household log judged: its 72 clusters and 3 teams, every household visited counted once per level
    visits = len(pd.read_csv(ROOT / "examples" / "mali_followup" / "data" / "households.csv"))
    for check in ("refusals", "absences"):
        judged_rows = judged[judged["check"] == check]
        assert (judged_rows["level"] == "cluster").sum() == 72 and (judged_rows["level"] == "team").sum() == 3
        assert judged_rows.groupby("level")["n"].sum().tolist() == [visits, visits]


def test_january_births_are_judged_against_the_cohort_windows_chance():
    # an 18 weeks–11 months cohort interviewed on 15 October 2025 was born from 16 October 2024 to
    # 11 June 2025: 239 days holding the whole of January 2025, so 31 / 239 of births, not 31 / 365
    table = children(100, cohort="18w-11m", interview_date=pd.Timestamp("2025-10-15"))
    found = fieldwork_quality(derived(table), CHECKS, COHORTS)
    month = rows(found, "heaping_month", "cluster")
    assert month["reference"].tolist() == pytest.approx([31 / 239] * len(month))
    births = pd.date_range(pd.Timestamp("2025-10-15") - pd.Timedelta(days=364),
                           pd.Timestamp("2025-10-15") - pd.Timedelta(days=126))
    assert len(births) == 239 and (births.month == 1).sum() == 31


def test_children_with_recall_only_flag_the_interviewer_who_does_not_ask_for_cards():
    table = children(200)
    mine = table["interviewer"] == "I2"
    table.loc[mine, ["penta1_source", "mr1_source"]] = "recall"
    table.loc[mine, ["penta1_crude", "mr1_crude"]] = 1.0
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table))
    recall = rows(found, "recall_only")
    # with evidence: I0 40 cards and 10 recall, I1 and I3 40 cards each, I2 50 recall: 60 of 180
    assert recall["n"].to_dict() == {"I0": 50, "I1": 40, "I2": 50, "I3": 40, "T0": 100, "T1": 80}
    assert recall.loc["I2", "value"] == 1.0 and recall.loc["I2", "reference"] == pytest.approx(1 / 3)
    assert recall.loc["I2", "p_value"] == pytest.approx(binomtest(50, 50, 1 / 3, alternative="greater").pvalue)
    # their team too (60 of its 100: above a third by more than 20 points), no one else
    assert sorted(recall.index[recall["flag"]]) == ["I2", "T0"] and recall.loc["T0", "value"] == 0.6
    assert explain(recall.reset_index().set_index("unit").loc["I2"].to_dict() | {"check": "recall_only"}, CHECKS,
                   "en") == ("100.0% of the children with vaccination evidence have the caregiver's recall only, "
                             "against 33.3% in the survey: ask to see the card")
    # without the doses' evidence the check is off, in one line
    off = fieldwork_quality(derived(table.drop(columns=["penta1_source", "mr1_source"])), CHECKS, COHORTS,
                            visits=households(table)).off
    assert off == [{"check": "recall_only", "reason": "no dose evidence (<dose>_source and <dose>_crude columns)"}]


def test_dont_know_answers_flag_their_interviewer():
    table = children(200)
    table.loc[table["interviewer"] == "I3", "recall_dont_know"] = 1  # one of their four recall answers
    table.loc[(table["interviewer"] == "I0") & (table["card_seen"] == 1), "recall_answers"] = 0  # no recall asked
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table))
    unknown = rows(found, "dont_know")
    # 50 "don't know" of 160 children's 640 answers; I0 judged from its 10 children without a card
    assert unknown.loc["I0", "n"] == 10 and unknown.loc["I3", "n"] == 50
    assert unknown.loc["I3", "value"] == 0.25 and unknown.loc["I3", "reference"] == 50 / 640
    assert unknown.loc["I3", "threshold"] == pytest.approx(50 / 640 + 0.10)
    assert unknown.loc["I3", "p_value"] == pytest.approx(binomtest(50, 200, 50 / 640, alternative="greater").pvalue)
    # their team's 12.5% is less than 10 points above the survey's
    assert list(unknown.index[unknown["flag"]]) == ["I3"] and unknown.loc["T1", "value"] == 0.125
    off = fieldwork_quality(derived(table.drop(columns=["recall_dont_know"])), CHECKS, COHORTS,
                            visits=households(table)).off
    assert [item["check"] for item in off] == ["dont_know"] and "\n" not in off[0]["reason"]


def test_besd_questions_left_unanswered_flag_their_interviewer():
    table = children(200)
    # the first cluster's caregivers were not asked the module (the BeSD indicators NaN, the answers empty)
    first = table["cluster"] == "0"
    table.loc[first, ["CHI_intent", "CHI_confb", "CHI_normf", "CHI_lowac"]] = np.nan
    table.loc[first, ["besd_intent", "besd_confb", "besd_normf"]] = np.nan
    # 25 of I0's other caregivers chose no barrier; 5 of I1's answered 99 (not answered, in yes1-no2)
    table.loc[table.index[(table["interviewer"] == "I0") & ~first][:25], "CHI_lowac"] = np.nan
    table.loc[table.index[(table["interviewer"] == "I1") & ~first][:5], "CHI_normf"] = "99"
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table), besd_coding="yes1-no2")
    besd = rows(found, "besd_nonresponse")
    # 4 items of 190 caregivers asked: 30 of 760 unanswered; I0's 47 asked left 25 of 188
    assert besd.loc["I0", "n"] == 47 and besd.loc["I0", "detail"] == "4 items"
    assert besd.loc["I0", "value"] == 25 / 188 and besd.loc["I0", "reference"] == pytest.approx(30 / 760)
    assert besd.loc["I0", "p_value"] == pytest.approx(binomtest(25, 188, 30 / 760, alternative="greater").pvalue)
    assert list(besd.index[besd["flag"]]) == ["I0"] and besd.loc["I1", "value"] == 5 / 188
    # the same in the derived table's categories (an item no one answered among them)
    compact = table.astype({item: "category" for item in ("CHI_intent", "CHI_confb", "CHI_normf", "CHI_lowac")})
    compact["CHI_confs"] = pd.Series(np.nan, index=table.index).astype("category")
    again = rows(fieldwork_quality(derived(compact), CHECKS, COHORTS, visits=households(table),
                                   besd_coding="yes1-no2"), "besd_nonresponse")
    assert again.loc["I0", "value"] == (25 + 47) / (47 * 5) and again.loc["I0", "detail"] == "5 items"
    # in BeSD-TI's coding 99 is no non-answer code: I1's caregivers answered
    default = rows(fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table)), "besd_nonresponse")
    assert default.loc["I1", "value"] == 0 and default.loc["I0", "reference"] == pytest.approx(25 / 760)
    off = fieldwork_quality(derived(table.drop(columns=["CHI_intent", "CHI_confb", "CHI_normf", "CHI_lowac"])),
                            CHECKS, COHORTS, visits=households(table)).off
    assert off == [{"check": "besd_nonresponse", "reason": "no BeSD items (CHI_* columns)"}]


def test_refusals_and_absences_of_the_household_log_flag_their_cluster():
    table = children(200)
    visits = households(table, refused={"a/3": 10}, absent={"b/5": 12})
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=visits)
    refusals, absences = rows(found, "refusals", "cluster"), rows(found, "absences", "cluster")
    assert len(refusals) == 40 and (refusals["n"] == 40).all()
    assert refusals.loc["a/3", "value"] == 0.25 and refusals.loc["a/3", "reference"] == 10 / 1600
    assert refusals.loc["a/3", "p_value"] == pytest.approx(binomtest(10, 40, 10 / 1600, alternative="greater").pvalue)
    assert absences.loc["b/5", "value"] == 0.3 and absences.loc["b/5", "reference"] == 51 / 1600
    flagged = found.flags[found.flags["check"].isin(["refusals", "absences"])]
    assert sorted(zip(flagged["check"], flagged["level"], flagged["unit"])) == [
        ("absences", "cluster", "b/5"), ("refusals", "cluster", "a/3")]
    # a cluster's team is its children's: catchment a's clusters are team T1's
    teams = rows(found, "refusals", "team")
    assert teams["n"].to_dict() == {"T0": 800, "T1": 800} and teams.loc["T1", "value"] == 10 / 800
    row = found.checks[(found.checks["check"] == "refusals") & (found.checks["unit"] == "a/3")].iloc[0]
    assert explain(row, CHECKS, "en") == "25.0% of the households visited refused, against 0.6% in the survey"
    assert explain(row, CHECKS, "fr").startswith("25,0")
    # from a day on: the clusters with a child interviewed since (the log has no dates)
    later = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=visits, since=pd.Timestamp("2025-10-30").date())
    assert set(rows(later, "refusals", "cluster").index) == {f"{c}/{n}" for c in "ab" for n in range(13, 20)}
    # without a household log both are off, one line each
    off = fieldwork_quality(derived(table), CHECKS, COHORTS).off
    assert off == [{"check": check, "reason": "no household log ([households] file in the project)"}
                   for check in ("refusals", "absences")]


def test_a_programmes_checks_file_may_leave_out_checks(tmp_path):
    from lqas.config.fieldwork import load_fieldwork_checks

    shipped = load_fieldwork_checks()
    own = tmp_path / "checks.toml"
    own.write_text('[reference]\nsource = "our programme"\n\n[duration]\nminutes = 8.0\nshare = 0.3\nmin_n = 10\n'
                   'severity = "warning"\nexplain = { en = "%(share)s under 8 minutes", fr = "%(share)s sous 8 minutes" }\n',
                   encoding="utf-8")
    loaded = load_fieldwork_checks(own)
    assert loaded.reference.source == "our programme" and loaded.duration.minutes == 8.0
    assert loaded.refusals == shipped.refusals and loaded.sex_ratio == shipped.sex_ratio
    # a check it gives is validated: a misspelt key is one error naming it
    own.write_text('[refusals]\nmax_gapp = 0.2\n', encoding="utf-8")
    with pytest.raises(Exception, match="max_gapp"):
        load_fieldwork_checks(own)


def test_households_far_from_their_cluster_flag_the_cluster():
    table = children(200)
    # the first four households of cluster 3 (children 30-33) 8 km from the others; catchments alternate by
    # child, so cluster 3 is a/3 (31, 33, ...) and b/3 (30, 32, ...): two of five far in each; each of the four
    # interviewers has one of them among their 50
    far = table.index[table["cluster"] == "3"][:4]
    table.loc[far, "gps_km_from_cluster"] = 8.0
    found = fieldwork_quality(derived(table), CHECKS, COHORTS, visits=households(table))
    gps = found.checks[found.checks["check"] == "gps_distance"]
    flagged = gps[gps["flag"]]
    assert set(zip(flagged["level"], flagged["unit"])) == {("cluster", "a/3"), ("cluster", "b/3")}
    shares = dict(zip(gps["level"] + ":" + gps["unit"], gps["value"]))
    assert shares["cluster:a/3"] == pytest.approx(2 / 5) and shares["cluster:b/3"] == pytest.approx(2 / 5)
    assert shares["interviewer:I1"] == pytest.approx(1 / 50)
    assert gps["reference"].iloc[0] == pytest.approx(4 / 200) and gps["threshold"].iloc[0] == 0.10
    # off with one line without distances
    off = fieldwork_quality(derived(table.drop(columns=["gps_km_from_cluster"])), CHECKS, COHORTS,
                            visits=households(table)).off
    assert [item["check"] for item in off] == ["gps_distance"] and "\n" not in off[0]["reason"]


def test_ingest_gives_each_household_its_distance_to_its_cluster_and_drops_the_positions():
    from lqas.ingest import _distance_from_cluster

    raw = pd.DataFrame({"cl": ["A", "A", "A", "B", "B", "B"],
                        "lat": ["12.0", "12.0", "12.05", "13", "95", "0"],
                        "lon": ["-8.0", "-8.0", "-8.0", "-6", "-6", "0"]})
    profile = {"position": {"latitude": "lat", "longitude": "lon"}, "columns": {"cluster": "cl"}}
    km = _distance_from_cluster(raw, profile)
    # 0.05 degree of latitude is 5.566 km; an impossible latitude and (0, 0) are no position
    assert km.iloc[:4].tolist() == [0.0, 0.0, 5.6, 0.0] and km.iloc[4:].isna().all()
    assert _distance_from_cluster(raw, {"columns": {"cluster": "cl"}}) is None
    # the demo: the distances are in the child table, no position is
    from lqas.config import load_project
    from lqas.derive import derive_project

    table = derive_project(load_project(ROOT / "examples" / "mali_followup" / "survey.toml")).table
    assert table["gps_km_from_cluster"].between(0, 2).mean() > 0.95
    assert not [c for c in table.columns if "gps" in c.lower() and c != "gps_km_from_cluster"]
    assert not [c for c in table.columns if "latitude" in c.lower() or "longitude" in c.lower()]


def test_the_binomial_tests_of_whole_columns_equal_r_binom_test():
    from lqas.fieldwork import binomial_p

    # R 4.x: binom.test(33, 96, 0.4745614035087719)$p.value, then alternative = "less" and "greater"
    assert binomial_p([33], [96], 0.4745614035087719)[0] == pytest.approx(0.010521417419515441, rel=1e-12)
    assert binomial_p([3], [40], 0.2, "less")[0] == pytest.approx(0.028462094459744496, rel=1e-12)
    assert binomial_p([12], [30], 0.1, "greater")[0] == pytest.approx(1.5284491786197446e-05, rel=1e-12)
    # and scipy's binomtest over a grid, ties (k = np) and n = 0 among them
    rng = np.random.default_rng(7)
    n = rng.integers(0, 300, 400)
    p = rng.choice([0.05, 0.2, 0.5, 0.7], 400)
    k = np.minimum(rng.binomial(n, np.clip(p * 1.3, 0, 1)), n)
    k[:3], n[:3], p[:3] = [5, 3, 0], [10, 6, 0], [0.5, 0.5, 0.3]
    for alternative in ("two-sided", "less", "greater"):
        ours = binomial_p(k, n, p, alternative)
        theirs = [binomtest(int(a), int(b), float(c), alternative=alternative).pvalue if b else np.nan
                  for a, b, c in zip(k, n, p)]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300)

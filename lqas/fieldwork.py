"""Fieldwork data quality while the survey runs (``lqas quality``, issue 20): checks by interviewer,
team, cluster, day and lot that a supervisor acts on the same evening.

One entry point, :func:`fieldwork_quality`, over the run's own ingest (:class:`lqas.derive.Derived`: the
kept children and the exclusions, so both count as the run counts them). Each check gives one row per
unit it judged (``QUALITY_COLUMNS``): the unit, the number of records, the value, the reference it is
compared with, the threshold, the p-value where the check is a test, whether it is flagged and with
which severity. Thresholds, severities and the one-line explanations are data
(:func:`lqas.config.fieldwork.load_fieldwork_checks`). A check whose columns the export lacks is off,
said in one line (``Quality.off``), never a crash. The refusals and absences come from the teams'
household log (``[households]``, :func:`lqas.households.household_visits`) when the project has one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom

from lqas.config.fieldwork import FieldworkChecks, ShareAbove
from lqas.dtypes import sorted_categorical, text_codes
from lqas.households import household_visits
from lqas.readers import per_value

QUALITY_COLUMNS = ["level", "unit", "check", "detail", "n", "value", "reference", "threshold", "p_value", "flag",
                   "severity"]
LEVELS = ("interviewer", "team", "cluster", "day", "lot")
DUPLICATES = ("duplicate_child_id", "duplicate_submission")
# the days of a mean month: a date of birth falls on a given day of the month with chance 12 / 365.25
MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class Quality:
    """What ``lqas quality`` found: ``checks`` (``quality.csv``: every unit each check judged, flagged or
    not), ``off`` (the checks the data cannot feed, each with why), ``rows`` (the records judged: the
    children kept and the records excluded, since ``since``)."""

    checks: pd.DataFrame
    off: list[dict[str, str]] = field(default_factory=list)
    rows: int = 0
    since: dt.date | None = None

    @property
    def flags(self) -> pd.DataFrame:
        """The flagged rows, alerts first."""
        flagged = self.checks[self.checks["flag"].astype(bool)]
        return flagged.sort_values("severity", key=lambda s: s.map({"alert": 0, "warning": 1}), kind="stable")


def fieldwork_quality(derived, checks: FieldworkChecks, cohorts: Mapping[str, tuple[int, int]], *,
                      since: dt.date | None = None, visits: pd.DataFrame | None = None,
                      besd_coding: str = "besd-ti") -> Quality:
    """Every fieldwork check on the kept children and the exclusions of ``derived``, from ``since`` on
    (interview date; every record when ``None``).

    ``visits``: the household log, one row per household visited (``catchment``, ``cluster``, ``result``:
    :func:`lqas.households.household_visits`); None without one, the refusal and absence checks off. With ``since``, the
    visits of the clusters with a child interviewed from that day (the log has no dates).
    ``besd_coding``: the project's BeSD coding, whose non-answer codes count as unanswered items."""
    table, exclusions = derived.table, derived.exclusions
    if since is not None:
        table = table[_dates(table.get("interview_date")) >= pd.Timestamp(since)]
        if "interview_date" in exclusions:
            exclusions = exclusions[_dates(exclusions["interview_date"]) >= pd.Timestamp(since)]
    units, off = _units(table, exclusions)
    parts: list[pd.DataFrame] = []
    timed = _durations(table)
    if timed is None:
        off.append({"check": "duration", "reason": "no interview_start and interview_end (the form's start and end "
                                                  "timestamps): map them in the profile"})
        off.append({"check": "overlap", "reason": "no interview_start and interview_end"})
    for level in ("interviewer", "team", "cluster"):
        if level in units and timed is not None:
            parts.append(duration_check(timed, units[level], level, checks))
    if "interviewer" in units:
        if timed is not None:
            parts.append(overlap_check(timed, units["interviewer"], checks))
        parts.append(per_day_check(table, units["interviewer"], checks))
    if "dob" in table:
        for level in ("interviewer", "cluster"):
            if level in units:
                parts += [heaping_day_check(table, units[level], level, checks),
                          heaping_month_check(table, units[level], level, checks, cohorts)]
    else:
        off.append({"check": "heaping_day", "reason": "no date of birth (dob)"})
        off.append({"check": "heaping_month", "reason": "no date of birth (dob)"})
    if "age_days" in table and table["age_days"].notna().any():
        for level in ("interviewer", "team"):
            if level in units:
                parts.append(boundary_check(table, units[level], level, cohorts, checks))
        parts.append(boundary_check(table, pd.Series("all", index=table.index), "survey", cohorts, checks))
    else:
        off.append({"check": "boundary", "reason": "no age in days (dates of birth)"})
    if "sex" in table:
        for level in ("lot", "interviewer"):
            if level in units:
                parts.append(sex_ratio_check(table, units[level], level, checks))
    if "card_seen" in table and pd.to_numeric(table["card_seen"], errors="coerce").notna().any():
        for level in ("interviewer", "cluster"):
            if level in units:
                parts.append(card_seen_check(table, units[level], level, checks))
    else:
        off.append({"check": "card_seen", "reason": "no card_seen column"})
    by_person = [level for level in ("interviewer", "team") if level in units]
    recall_only = _recall_only(table)
    if recall_only is None:
        off.append({"check": "recall_only", "reason": "no dose evidence (<dose>_source and <dose>_crude columns)"})
    else:
        parts += [share_check(recall_only, pd.Series(1, index=recall_only.index), units[level], level,
                              "recall_only", checks.recall_only) for level in by_person]
    if {"recall_answers", "recall_dont_know"} <= set(table.columns):
        answers = pd.to_numeric(table["recall_answers"], errors="coerce").fillna(0)
        answered = answers > 0
        # never more "don't know" than answers (a count the export got wrong would break the test)
        unknown = pd.to_numeric(table["recall_dont_know"], errors="coerce").fillna(0).clip(0, answers)
        parts += [share_check(unknown[answered], answers[answered], units[level], level, "dont_know",
                              checks.dont_know) for level in by_person]
    else:
        off.append({"check": "dont_know", "reason": "no recall_answers and recall_dont_know columns: the ingest "
                                                    "keeps no count of the recall answers \"don't know\""})
    blank = _besd_blanks(table, besd_coding)
    if blank is None:
        off.append({"check": "besd_nonresponse", "reason": "no BeSD items (CHI_* columns)"})
    else:
        blanks, items = blank
        parts += [share_check(blanks, pd.Series(items, index=blanks.index), units[level], level,
                              "besd_nonresponse", checks.besd_nonresponse, detail=f"{items} items")
                  for level in by_person]
    if visits is None:
        off += [{"check": check, "reason": "no household log ([households] file in the project)"}
                for check in ("refusals", "absences")]
    else:
        parts += household_checks(visits, units, checks, since is not None)
    if "gps_km_from_cluster" in table and pd.to_numeric(table["gps_km_from_cluster"], errors="coerce").notna().any():
        parts += [gps_distance_check(table, units[level], level, checks) for level in ("cluster", "interviewer")
                  if level in units]
    else:
        off.append({"check": "gps_distance", "reason": "no household positions (the profile's [position]; the "
                                                       "positions are read for the distances only, then dropped)"})
    if "interviewer" in units:
        parts.append(repairs_check(table, units["interviewer"], derived.repairs, checks))
    for level in ("day", "interviewer"):
        if level in units:
            parts.append(duplicates_check(table, exclusions, level, units[level], checks))
    found = [part for part in parts if len(part)]
    frame = (pd.concat(found, ignore_index=True)[QUALITY_COLUMNS] if found
             else pd.DataFrame(columns=QUALITY_COLUMNS))
    return Quality(checks=frame, off=off, rows=len(table) + len(exclusions), since=since)


def gps_distance_check(table: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks) -> pd.DataFrame:
    """The share of a unit's children whose household is more than ``km`` from its cluster's median
    position (the survey's share as reference)."""
    rule = checks.gps_distance
    km = pd.to_numeric(table["gps_km_from_cluster"], errors="coerce")
    known = km.notna()
    far = (km[known] > rule.km).astype(float)
    grouped = far.groupby(units[known], observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "value": grouped.mean(), "reference": float(far.mean()),
                          "threshold": rule.max_share}).rename_axis("unit").reset_index()
    return _rows(level, "gps_distance", frame, rule,
                 flag=(frame["n"] >= rule.min_n) & (frame["value"] > rule.max_share), detail=f"over {rule.km:g} km")


def _dates(values: pd.Series | None) -> pd.Series:
    if values is None:
        return pd.Series(dtype="datetime64[ns]")
    return pd.to_datetime(values, errors="coerce")


def _text(values: pd.Series) -> pd.Series:
    return per_value(values, lambda distinct: distinct.astype("string").str.strip().replace("", pd.NA))


def _categories(values: pd.Series) -> pd.Series:
    """Text units as a categorical in text order: grouped and sorted as the text would be, without
    hashing a million strings for each check."""
    return sorted_categorical(*text_codes(values), values.index)


def _units(table: pd.DataFrame, exclusions: pd.DataFrame) -> tuple[dict[str, pd.Series], list[dict[str, str]]]:
    """Each level's unit of every kept child (interviewer, team, catchment/cluster, day, catchment/cohort);
    the levels the table cannot give, said."""
    units: dict[str, pd.Series] = {}
    off = []
    for level in ("interviewer", "team"):
        text = _text(table[level]) if level in table else None
        if text is not None and text.notna().any():
            units[level] = _categories(text.fillna("?"))
        else:
            off.append({"check": level, "reason": f"no {level} column: the per-{level} checks are off (map it in the "
                                                  f"profile: {level} = \"<export column>\")"})
    units["cluster"] = _joined(table["catchment"], table["cluster"])
    # each distinct day written once
    codes, days = pd.factorize(_dates(table["interview_date"]))
    units["day"] = _categories(pd.Series(np.append(np.asarray(days.strftime("%Y-%m-%d"), dtype=object), "?")[codes],
                                         index=table.index))
    if "cohort" in table:
        units["lot"] = _joined(table["catchment"], table["cohort"])
    return units, off


def _rows(level: str, check: str, frame: pd.DataFrame, settings, *, flag: pd.Series, detail: str = "") -> pd.DataFrame:
    """The check's tidy rows from ``frame`` (``unit``, ``n``, ``value``, ``reference``, ``threshold``,
    ``p_value``)."""
    out = frame.assign(level=level, check=check, detail=detail, flag=flag.astype(bool).to_numpy(),
                       severity=settings.severity)
    for column in ("reference", "threshold", "p_value"):
        if column not in out:
            out[column] = np.nan
    out = out.reset_index(drop=True)[QUALITY_COLUMNS]
    out["unit"] = out["unit"].astype(object)  # a unit's text, grouped from categories or not
    return out


def binomial_p(k, n, p, alternative: str = "two-sided") -> np.ndarray:
    """Exact binomial test p-values, one per (k successes, n trials, chance p), as
    ``scipy.stats.binomtest(k, n, p, alternative).pvalue`` gives them, for whole columns at once (a
    national survey judges thousands of units; NaN where ``n`` is 0 or ``p`` is missing).

    Two-sided is the sum of the probabilities of the outcomes no more likely than ``k`` (R
    ``binom.test``; scipy's relative tolerance of 1e-7), computed once per distinct (n, p).
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.broadcast_to(np.asarray(p, dtype=float), k.shape)
    out = np.full(k.shape, np.nan)
    ok = (n > 0) & ~np.isnan(p) & ~np.isnan(k)
    if alternative == "greater":
        out[ok] = binom.sf(k[ok] - 1, n[ok], p[ok])
    elif alternative == "less":
        out[ok] = binom.cdf(k[ok], n[ok], p[ok])
    else:
        rows = np.flatnonzero(ok)
        pairs = pd.DataFrame({"n": n[rows], "p": p[rows]})
        for (trials, chance), at in pairs.groupby(["n", "p"], sort=False).indices.items():
            pmf = binom.pmf(np.arange(int(trials) + 1), int(trials), chance)
            ordered = np.sort(pmf)
            below = np.cumsum(ordered)
            wanted = pmf[k[rows[at]].astype(int)] * (1 + 1e-7)
            out[rows[at]] = below[np.searchsorted(ordered, wanted, side="right") - 1]
    return np.minimum(out, 1.0)


def _durations(table: pd.DataFrame) -> pd.DataFrame | None:
    """Each kept child's interview start, end and minutes (None without the timestamps)."""
    if "interview_start" not in table or "interview_end" not in table:
        return None
    start = pd.to_datetime(table["interview_start"], errors="coerce", utc=True, format="ISO8601")
    end = pd.to_datetime(table["interview_end"], errors="coerce", utc=True, format="ISO8601")
    if not (start.notna() & end.notna()).any():
        return None
    return pd.DataFrame({"start": start, "end": end, "minutes": (end - start).dt.total_seconds() / 60},
                        index=table.index)


def duration_check(timed: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks) -> pd.DataFrame:
    """The share of a unit's interviews shorter than ``minutes`` (the median minutes as reference)."""
    rule = checks.duration
    known = timed["minutes"].notna() & (timed["minutes"] >= 0)
    minutes = timed.loc[known, "minutes"]
    grouped = minutes.groupby(units[known], observed=True, sort=True)
    short = (minutes < rule.minutes).groupby(units[known], observed=True, sort=True).mean()
    frame = pd.DataFrame({"n": grouped.size(), "value": short, "reference": grouped.median(),
                          "threshold": rule.share}).rename_axis("unit").reset_index()
    return _rows(level, "duration", frame, rule, flag=(frame["n"] >= rule.min_n) & (frame["value"] > rule.share),
                 detail=f"under {rule.minutes:g} min")


def overlap_check(timed: pd.DataFrame, units: pd.Series, checks: FieldworkChecks) -> pd.DataFrame:
    """The share of an interviewer's interviews that overlap another of theirs (one starts before an
    earlier-started one has ended)."""
    rule = checks.overlap
    known = timed["start"].notna() & timed["end"].notna()
    ordered = timed.loc[known].assign(unit=units[known]).sort_values(["unit", "start"], kind="stable")
    latest_end = ordered.groupby("unit", observed=True)["end"].transform(lambda e: e.cummax().shift())
    overlapping = ordered["start"] < latest_end
    # the earlier interview of an overlapping pair overlaps too
    following = ordered.groupby("unit", observed=True)["start"].shift(-1)
    overlapping |= (following < ordered["end"]).fillna(False)
    grouped = overlapping.groupby(ordered["unit"], observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "value": grouped.mean(), "threshold": rule.max_share}) \
        .rename_axis("unit").reset_index()
    return _rows("interviewer", "overlap", frame, rule,
                 flag=(frame["n"] >= rule.min_n) & (frame["value"] > rule.max_share))


def per_day_check(table: pd.DataFrame, units: pd.Series, checks: FieldworkChecks) -> pd.DataFrame:
    """An interviewer's most interviews in one day (the median day's as reference)."""
    rule = checks.per_day
    day = _dates(table["interview_date"]).dt.date
    counts = table.groupby([units, day], observed=True).size()
    grouped = counts.groupby(level=0, observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.sum(), "value": grouped.max(), "reference": grouped.median(),
                          "threshold": rule.max_interviews}).rename_axis("unit").reset_index()
    return _rows("interviewer", "per_day", frame, rule, flag=frame["value"] > rule.max_interviews)


def _heaping(hits: pd.Series, units: pd.Series, expected: float | pd.Series, rule, level: str, check: str,
             detail: str) -> pd.DataFrame:
    """``expected``: the chance of a hit, the same for every child or each child's own (a mean per unit)."""
    grouped = hits.groupby(units[hits.index], observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "k": grouped.sum()}).rename_axis("unit").reset_index()
    if isinstance(expected, pd.Series):
        expected = frame["unit"].astype(object).map(expected.groupby(units[expected.index], observed=True).mean()
                                                    .rename(index=str)).astype(float)
    frame["value"] = frame["k"] / frame["n"]
    frame["reference"] = expected
    frame["threshold"] = rule.max_ratio * frame["reference"]
    frame["p_value"] = binomial_p(frame["k"], frame["n"], frame["reference"], "greater")
    flag = (frame["n"] >= rule.min_n) & (frame["value"] >= frame["threshold"]) & (frame["p_value"] < rule.alpha)
    return _rows(level, check, frame, rule, flag=flag, detail=detail)


def heaping_day_check(table: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks) -> pd.DataFrame:
    """Dates of birth on the given days of the month (1st and 15th), against their chance."""
    rule = checks.heaping_day
    dob = _dates(table["dob"]).dropna()
    return _heaping(dob.dt.day.isin(rule.days), units, len(rule.days) / MONTH_DAYS, rule, level, "heaping_day",
                    "days " + ", ".join(map(str, rule.days)))


def heaping_month_check(table: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks,
                        cohorts: Mapping[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Dates of birth in one month (January), against each child's chance of it: the share of that
    month's days among the birth dates its cohort's window allows on its interview day (a 12–23-month
    window holds two Januaries or one, not a twelfth of its days), or the share of the year's days
    without the cohorts."""
    rule = checks.heaping_month
    dob = _dates(table["dob"]).dropna()
    needed = [column for column in ("cohort", "interview_date") if column in table]
    # the two columns it reads, not a copy of the child table's hundreds
    chance = _month_chance(table.loc[dob.index, needed], rule.month, cohorts) if cohorts else None
    if chance is None:
        days = (pd.Timestamp(2023, rule.month, 1) + pd.offsets.MonthEnd(0)).day
        chance = days / 365.25
    return _heaping(dob.dt.month == rule.month, units, chance, rule, level, "heaping_month", f"month {rule.month}")


def _month_chance(table: pd.DataFrame, month: int, cohorts: Mapping[str, tuple[int, int]]) -> pd.Series | None:
    """Each child's chance of a birth date in ``month``: the month's share of the days of birth its cohort
    window allows on its interview day (computed once per interview day and cohort)."""
    if "cohort" not in table or "interview_date" not in table:
        return None
    day = _dates(table["interview_date"]).dt.normalize()
    keys = pd.DataFrame({"day": day, "cohort": table["cohort"].astype(str)})
    shares = {}
    for interview, cohort in keys.dropna().drop_duplicates().itertuples(index=False):
        if cohort not in cohorts:
            continue
        low, high = cohorts[cohort]
        births = pd.date_range(interview - pd.Timedelta(days=high), interview - pd.Timedelta(days=low))
        shares[(interview, cohort)] = float((births.month == month).mean())
    if not shares:
        return None if len(table) else pd.Series(dtype=float)
    # each child's share looked up by its (day, cohort) at once, not child by child
    wanted = pd.MultiIndex.from_frame(keys)
    chance = pd.Series(pd.Series(shares).reindex(wanted).to_numpy(dtype=float), index=table.index)
    return chance if chance.notna().all() else None


def boundary_check(table: pd.DataFrame, units: pd.Series, level: str, cohorts: Mapping[str, tuple[int, int]],
                   checks: FieldworkChecks) -> pd.DataFrame:
    """Children pushed out of an age window: at each cohort boundary, the children of the ``days`` days
    just inside it against those of the ``days`` days further in (equal numbers expected; one-sided
    binomial test of a deficit next to the boundary). ``detail`` names the cohort and the edge."""
    rule = checks.boundary
    age = pd.to_numeric(table["age_days"], errors="coerce")
    parts = []
    for name, (low, high) in cohorts.items():
        for edge, edge_bins in (("upper", ((high - rule.days + 1, high), (high - 2 * rule.days + 1, high - rule.days))),
                                ("lower", ((low, low + rule.days - 1), (low + rule.days, low + 2 * rule.days - 1)))):
            (a, b), (c, d) = edge_bins
            inside, further = age.between(a, b), age.between(c, d)
            counted = inside | further
            grouped = inside[counted].groupby(units[counted], observed=True, sort=True)
            frame = pd.DataFrame({"n": grouped.size(), "k": grouped.sum()}).rename_axis("unit").reset_index()
            if frame.empty:
                continue
            frame["value"] = frame["k"] / (frame["n"] - frame["k"]).replace(0, np.nan)
            frame["reference"] = 1.0
            frame["threshold"] = rule.min_ratio
            frame["p_value"] = binomial_p(frame["k"], frame["n"], 0.5, "less")
            flag = (frame["n"] >= rule.min_n) & (frame["value"].fillna(np.inf) < rule.min_ratio) \
                & (frame["p_value"] < rule.alpha)
            boundary = high + 1 if edge == "upper" else low
            parts.append(_rows(level, "boundary", frame, rule, flag=flag, detail=f"{name} {edge} {boundary} days"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=QUALITY_COLUMNS)


def sex_ratio_check(table: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks) -> pd.DataFrame:
    """A unit's share of girls against the survey's (exact binomial test, two-sided), as the report's
    sample section tests its lots."""
    rule = checks.sex_ratio
    known = table["sex"].isin(["F", "M"])
    girls = table.loc[known, "sex"] == "F"
    expected = float(girls.mean()) if len(girls) else np.nan
    grouped = girls.groupby(units[known], observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "k": grouped.sum()}).rename_axis("unit").reset_index()
    frame["value"] = frame["k"] / frame["n"]
    frame["reference"] = expected
    frame["p_value"] = binomial_p(frame["k"], frame["n"], expected)
    frame["threshold"] = rule.alpha
    return _rows(level, "sex_ratio", frame, rule, flag=(frame["n"] >= rule.min_n) & (frame["p_value"] < rule.alpha))


def card_seen_check(table: pd.DataFrame, units: pd.Series, level: str, checks: FieldworkChecks) -> pd.DataFrame:
    """A unit's share of cards seen against the rest of the survey's: flagged when it is ``max_gap``
    below and a one-sided binomial test against the rest's share says so."""
    rule = checks.card_seen
    seen = pd.to_numeric(table["card_seen"], errors="coerce")
    known = seen.notna()
    grouped = seen[known].groupby(units[known], observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "k": grouped.sum()}).rename_axis("unit").reset_index()
    total_n, total_k = frame["n"].sum(), frame["k"].sum()
    frame["value"] = frame["k"] / frame["n"]
    rest_n = total_n - frame["n"]
    frame["reference"] = ((total_k - frame["k"]) / rest_n).where(rest_n > 0)
    frame["threshold"] = frame["reference"] - rule.max_gap
    frame["p_value"] = binomial_p(frame["k"], frame["n"],
                                  frame["reference"].where((frame["reference"] > 0) & (frame["reference"] < 1)), "less")
    flag = (frame["n"] >= rule.min_n) & (frame["value"] < frame["threshold"]) & (frame["p_value"] < rule.alpha)
    return _rows(level, "card_seen", frame, rule, flag=flag)


def repairs_check(table: pd.DataFrame, units: pd.Series, repairs: pd.DataFrame, checks: FieldworkChecks) -> pd.DataFrame:
    """The share of an interviewer's children with a field repaired (``repairs.csv``)."""
    rule = checks.repairs
    repaired = table["source_row"].isin(set(repairs["source_row"])) if len(repairs) else \
        pd.Series(False, index=table.index)
    grouped = repaired.groupby(units, observed=True, sort=True)
    frame = pd.DataFrame({"n": grouped.size(), "value": grouped.mean(), "threshold": rule.max_share}) \
        .rename_axis("unit").reset_index()
    return _rows("interviewer", "repairs", frame, rule,
                 flag=(frame["n"] >= rule.min_n) & (frame["value"] > rule.max_share))


def duplicates_check(table: pd.DataFrame, exclusions: pd.DataFrame, level: str, units: pd.Series,
                     checks: FieldworkChecks) -> pd.DataFrame:
    """Records excluded as duplicates, by the day or the interviewer they were made by (every unit of
    the kept children judged, with no duplicate or with some)."""
    rule = checks.duplicates
    twice = exclusions[exclusions["reason"].isin(DUPLICATES)]
    if level == "day":
        where = _dates(twice["interview_date"]).dt.strftime("%Y-%m-%d") if "interview_date" in twice \
            else pd.Series(np.nan, index=twice.index)
    else:
        where = _text(twice["interviewer"]) if "interviewer" in twice else pd.Series(np.nan, index=twice.index)
    counted = where.fillna("?").value_counts()
    kept = units.value_counts()
    frame = pd.DataFrame({"unit": sorted(set(kept.index) | set(counted.index))})
    frame["n"] = frame["unit"].map(kept).fillna(0).astype(int) + frame["unit"].map(counted).fillna(0).astype(int)
    frame["value"] = frame["unit"].map(counted).fillna(0).astype(int)
    frame["threshold"] = rule.max_records
    return _rows(level, "duplicates", frame, rule, flag=frame["value"] > rule.max_records)


def share_check(hits: pd.Series, trials: pd.Series, units: pd.Series, level: str, check: str, rule: ShareAbove,
                detail: str = "") -> pd.DataFrame:
    """A unit's share (``hits`` of ``trials``, summed over its records) against the survey's: flagged when
    ``max_gap`` above it and a one-sided exact binomial test against it below ``alpha``, from ``min_n``
    records (``n``: the unit's records, ``trials`` the test's)."""
    counts = pd.DataFrame({"k": hits.astype(float), "trials": trials.astype(float)})
    grouped = counts.groupby(units[hits.index], observed=True, sort=True)
    frame = grouped.sum().assign(n=grouped.size()).rename_axis("unit").reset_index()
    total = frame["trials"].sum()
    # the survey's share: every unit's records, the unit's own too (as the sex ratio's)
    reference = frame["k"].sum() / total if total else np.nan
    frame["value"] = frame["k"] / frame["trials"].where(frame["trials"] > 0)
    frame["reference"] = reference
    frame["threshold"] = reference + rule.max_gap
    frame["p_value"] = binomial_p(frame["k"], frame["trials"], reference, "greater")
    flag = (frame["n"] >= rule.min_n) & (frame["value"] > frame["threshold"]) & (frame["p_value"] < rule.alpha)
    return _rows(level, check, frame, rule, flag=flag.fillna(False), detail=detail)


# dose evidence that is not the caregiver's word: a card's date or tick, a register, a BCG scar
DOCUMENTED = ("card_date", "card_tick", "register", "scar")


def _recall_only(table: pd.DataFrame) -> pd.Series | None:
    """Each child with any dose evidence: 1 when it is the caregiver's recall alone (no card, register or
    scar for any dose; a dose implied by a later one counts as the later one's), else 0; None without the
    doses' evidence (``<dose>_source``)."""
    doses = [c[: -len("_source")] for c in table.columns
             if c.endswith("_source") and f"{c[: -len('_source')]}_crude" in table]
    if not doses:
        return None
    recall = np.zeros(len(table), dtype=bool)
    documented = np.zeros(len(table), dtype=bool)
    for dose in doses:
        source = table[f"{dose}_source"]  # categories: compared without turning a national table into text
        recall |= source.eq("recall").fillna(False).to_numpy(dtype=bool)
        documented |= source.isin(DOCUMENTED).fillna(False).to_numpy(dtype=bool)
    evidenced = recall | documented
    return pd.Series((recall & ~documented)[evidenced].astype(int), index=table.index[evidenced])


def _besd_blanks(table: pd.DataFrame, coding: str) -> tuple[pd.Series, int] | None:
    """The BeSD items each respondent asked the module left blank or answered with a non-answer code of
    ``coding`` (a multi-select: no option), and the number of items; None without BeSD items."""
    from lqas.besd import load_besd_registry

    registry = load_besd_registry()
    missing = {float(code) for code in registry["codings"].get(coding, {}).get("missing", ())}

    def unanswered(values: pd.Series) -> np.ndarray:
        if isinstance(values.dtype, pd.CategoricalDtype):
            # judged once per category, not once per child (a national table holds a million)
            # code -1 (no answer) picks the True appended last
            return np.append(unanswered(pd.Series(values.cat.categories, dtype=object)), True)[
                values.cat.codes.to_numpy()]
        text = values.astype("string").str.strip()
        return (text.isna() | (text == "") | pd.to_numeric(text, errors="coerce").isin(missing)).to_numpy(dtype=bool)

    blanks = []
    for item in registry["items"]:
        if item in table:
            blanks.append(unanswered(table[item]))
    for stem, spec in registry["multiselect"].items():
        if stem in table:
            blanks.append(unanswered(table[stem]))
            continue
        options = [name for option in spec["options"] for name in (f"{stem}{option['key']}", f"{stem}/{option['key']}")
                   if name in table]
        if options:
            blanks.append(np.logical_and.reduce([unanswered(table[name]) for name in options]))
    if not blanks:
        return None
    # the respondents asked: the BeSD indicators are NaN for those the module was not for (no consent, not
    # the child's caregiver); every child when the table has none
    indicators = [spec["indicator"] for item, spec in registry["items"].items()
                  if item in table and spec["indicator"] in table]
    asked = (table[indicators].notna().any(axis=1).to_numpy() if indicators
             else np.ones(len(table), dtype=bool))
    counts = np.sum(blanks, axis=0)
    return pd.Series(counts[asked], index=table.index[asked]), len(blanks)


# the household log's results the checks count, among the households visited
HOUSEHOLD_RESULTS = {"refusals": "refused", "absences": "absent"}


def household_checks(visits: pd.DataFrame, units: Mapping[str, pd.Series], checks: FieldworkChecks,
                     since: bool = False) -> list[pd.DataFrame]:
    """The shares of the households visited that refused and that were absent, by cluster and by team (a
    cluster's team: the team most of its children were interviewed by). ``since``: only the clusters with a
    kept child (those interviewed from the day asked)."""
    cluster = _joined(visits["catchment"], visits["cluster"])
    if since:
        cluster = cluster[cluster.isin(set(units["cluster"]))]
    levels = {"cluster": cluster}
    if "team" in units:
        # the most children, the first team by name on a tie
        team_of = (pd.DataFrame({"cluster": units["cluster"], "team": units["team"]})
                   .groupby(["cluster", "team"], observed=True).size().rename("count").reset_index()
                   .sort_values(["count", "team"], ascending=[False, True], kind="stable")
                   .drop_duplicates("cluster").astype({"cluster": object, "team": object})
                   .set_index("cluster")["team"])
        # each distinct cluster's team looked up once (a national log has millions of visits)
        levels["team"] = per_value(cluster, lambda clusters: clusters.astype(object).map(team_of).fillna("?"))
    parts = []
    for check, result in HOUSEHOLD_RESULTS.items():
        hits = (visits.loc[cluster.index, "result"] == result).astype(int)
        parts += [share_check(hits, pd.Series(1, index=hits.index), unit, level, check, getattr(checks, check))
                  for level, unit in levels.items()]
    return parts


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first/second`` of each row as a categorical in text order, each distinct pair written once (a
    national household log has millions of rows and tens of thousands of clusters)."""
    first_codes, first_names = pd.factorize(first.astype(str))
    second_codes, second_names = pd.factorize(second.astype(str))
    width = max(len(second_names), 1)
    codes, pairs = pd.factorize(first_codes.astype(np.int64) * width + second_codes)
    # the names as objects first: an element of pandas 3's text index is a second's work per 200,000
    firsts, seconds = first_names.to_numpy(dtype=object), second_names.to_numpy(dtype=object)
    names = np.array([f"{a}/{b}" for a, b in zip(firsts[pairs // width], seconds[pairs % width])], dtype=object)
    if len(set(names)) < len(names):  # ids holding the separator ("a/b" + "c", "a" + "b/c"): row by row
        return first.astype(str) + "/" + second.astype(str)
    return sorted_categorical(codes, names, first.index)


def explain(row: Mapping, checks: FieldworkChecks, lang: str) -> str:
    """The one line saying what a row of ``quality.csv`` found, in ``lang`` (the check's own words from the
    checks file, its numbers written for the language)."""
    from babel.dates import format_date

    from lqas.sections.words import LOCALES, num, pct

    rule = getattr(checks, row["check"])
    value, reference = row["value"], row["reference"]
    values = {"share": pct(value, lang), "expected": pct(reference, lang), "value": num(value, lang),
              "minutes": num(getattr(rule, "minutes", 0), lang, 0), "km": num(getattr(rule, "km", 0), lang)}
    if row["check"] == "heaping_day":
        values["days"] = (" et " if lang == "fr" else " and ").join(map(str, rule.days))
    if row["check"] == "heaping_month":
        values["month"] = format_date(dt.date(2023, rule.month, 1), "MMMM", locale=LOCALES[lang])
    if row["check"] == "boundary":
        n, ratio = int(row["n"]), value
        # the ratio is inside / further in, of n children in both: inside = n·r / (1 + r); none further: all
        inside = n if pd.isna(ratio) else round(n * ratio / (1 + ratio))
        values |= {"inside": num(inside, lang), "before": num(n - inside, lang), "days": num(rule.days, lang),
                   "boundary": row["detail"].split()[-2]}
    return getattr(rule.explain, lang) % values


def quality_report(project, lang: str, *, since: dt.date | None = None) -> tuple[Quality, dict, FieldworkChecks]:
    """``lqas quality`` of a project: its own ingest and derivation (exclusions as a run makes them), the
    checks of ``[quality] checks`` (the package's by default) with the household log and the BeSD coding of the
    project, and the JSON document of the flags
    (``lqas/data/quality.schema.json``), each with its explanation in ``lang``; and the checks used."""
    from lqas.config.fieldwork import load_fieldwork_checks
    from lqas.derive import derive_project

    with project.naming_errors():
        checks = load_fieldwork_checks(project.resolve(project.quality.checks) if project.quality.checks else None)
        derived = derive_project(project)
        visits = household_visits(project, derived.table, derived.exclusions)
        found = fieldwork_quality(derived, checks, project.cohorts, since=since, visits=visits,
                                  besd_coding=project.besd.coding)

    def number(value) -> float | None:
        return None if value is None or pd.isna(value) else float(value)

    flags = [{"level": row["level"], "unit": str(row["unit"]), "check": row["check"], "detail": row["detail"],
              "n": int(row["n"]), "value": number(row["value"]), "reference": number(row["reference"]),
              "threshold": number(row["threshold"]), "p_value": number(row["p_value"]), "severity": row["severity"],
              "explanation": explain(row, checks, lang)} for row in found.flags.to_dict("records")]
    counts = {severity: sum(flag["severity"] == severity for flag in flags) for severity in ("alert", "warning")}
    document = {"survey": project.survey.name, "since": since.isoformat() if since else None, "language": lang,
                "records": found.rows, "judged": len(found.checks), "counts": counts, "flags": flags,
                "checks_off": found.off, "source": checks.reference.source}
    return found, document, checks

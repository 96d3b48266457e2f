"""Administrative immunization data against the survey (issue 19): the WHO data-quality checks of a
DHIS2 extract (its long table, :func:`lqas.dhis2.read_dhis2`, mapped to doses and areas) and the
comparison of admin and survey coverage, with the survey-implied target population.

Every threshold is data (:func:`lqas.config.admin.load_thresholds`); every flag is a row of a tidy
table saying which check, where, the value, the threshold and whether it was crossed.

The survey–admin comparison (WHO DQR, Module 2; WUENIC): admin coverage A = doses / target; survey
coverage p̂ with its interval [l, u]; the ratio R = A / p̂, whose interval A / u … A / l carries the
survey's uncertainty only (admin numbers have no sampling error); the DQR flags R outside 1 ± 0.33,
WUENIC a difference |A − p̂| above 10 points; the survey-implied target T̂ = doses / p̂, interval
doses / u … doses / l: the denominator that would make the admin coverage equal the survey's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.config.admin import AdminMapping, Thresholds, load_mapping, load_thresholds
from lqas.dhis2 import METRICS, period_bounds, read_dhis2, roll_up
from lqas.errors import InputError
from lqas.readers import read_source

COMPARISON_COLUMNS = ["doses", "target", "admin_coverage", "estimate", "ci_low", "ci_high", "ratio", "ratio_ci_low",
                      "ratio_ci_high", "difference", "over_100", "ratio_flag", "difference_flag", "implied_target",
                      "implied_target_ci_low", "implied_target_ci_high"]


def survey_admin(frame: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """``frame`` (one row per area, dose and period: ``doses`` given, the ``target`` population, the
    survey's ``estimate``, ``ci_low``, ``ci_high``, and any key columns) with the comparison's columns
    (``COMPARISON_COLUMNS``): admin coverage, the ratio admin / survey and its interval, the difference
    in points, the three flags (over 100 %, the ratio outside 1 ± tolerance, the difference above the
    gap) and the survey-implied target with its interval."""
    out = frame.copy()
    doses, target = out["doses"].astype(float), out["target"].astype(float)
    p, low, high = (out[c].astype(float) for c in ("estimate", "ci_low", "ci_high"))
    rules = thresholds.survey
    with np.errstate(divide="ignore", invalid="ignore"):
        out["admin_coverage"] = np.where(target > 0, doses / target, np.nan)
        admin = out["admin_coverage"]
        out["ratio"] = admin / p
        out["ratio_ci_low"], out["ratio_ci_high"] = admin / high, admin / low
        out["implied_target"] = doses / p
        out["implied_target_ci_low"], out["implied_target_ci_high"] = doses / high, doses / low
    out["difference"] = admin - p
    out["over_100"] = admin > thresholds.coverage.above
    # a rule not decided when a number is missing: NaN compares False, so say None instead
    known = admin.notna() & p.notna()
    out["ratio_flag"] = ((out["ratio"] - 1).abs() > rules.ratio_tolerance).where(known)
    out["difference_flag"] = (out["difference"].abs() > rules.gap).where(known)
    keys = [c for c in frame.columns if c not in COMPARISON_COLUMNS]
    return out[[*keys, *COMPARISON_COLUMNS]]


def admin_zero_dose(comparison: pd.DataFrame, first_dose: str = "penta1", dose: str = "dose") -> pd.DataFrame:
    """Admin and survey zero-dose side by side, from the first dose's rows of :func:`survey_admin`:
    admin zero-dose 1 − A (negative when more doses were counted than children targeted), survey
    zero-dose 1 − p̂ with its interval."""
    rows = comparison[comparison[dose] == first_dose]
    keys = [c for c in rows.columns if c not in COMPARISON_COLUMNS and c != dose]
    return rows[keys].assign(admin_zero_dose=1 - rows["admin_coverage"], zero_dose=1 - rows["estimate"],
                             zero_dose_ci_low=1 - rows["ci_high"], zero_dose_ci_high=1 - rows["ci_low"])


def due_window(interview: dt.date, ages: tuple[int, int] = (365, 729), due_at: int = 42) -> tuple[dt.date, dt.date]:
    """The days on which a cohort's dose fell due: children ``ages`` days old (first and last day of
    the cohort) at an ``interview`` on that date, the dose due ``due_at`` days after birth (Penta1 at
    6 weeks): the oldest child's first, the youngest's last. For 12–23 months (365–729 days)
    interviewed on 1 November 2025, Penta1 fell due from 15 December 2023 to 13 December 2024: about
    10.5 to 21.5 months before the interview.

    >>> due_window(dt.date(2025, 11, 1))
    (datetime.date(2023, 12, 15), datetime.date(2024, 12, 13))
    """
    youngest, oldest = ages
    return interview - dt.timedelta(days=oldest - due_at), interview - dt.timedelta(days=youngest - due_at)


def window_sum(long: pd.DataFrame, start: dt.date, end: dt.date, keys: Sequence[str]) -> pd.DataFrame:
    """The ``value`` of each period row (a month, a quarter, a year ...) counted for the share of its
    days that lie between ``start`` and ``end`` (both included), summed by ``keys``; ``days`` says
    how many days of the window the rows covered (a window the data leave partly uncovered is then
    seen: fewer than the window's days). A year's target counts for the share of the year in the
    window; twelve monthly doses for the months in it."""
    bounds = {period: period_bounds(period) for period in long["period"].unique()}
    first = pd.to_datetime(long["period"].map(lambda period: bounds[period][0]))
    last = pd.to_datetime(long["period"].map(lambda period: bounds[period][1]))
    overlap = (last.clip(upper=pd.Timestamp(end)) - first.clip(lower=pd.Timestamp(start))).dt.days + 1
    share = overlap.clip(lower=0) / ((last - first).dt.days + 1)
    counted = long.assign(value=long["value"] * share, days=overlap.clip(lower=0))
    counted = counted[share > 0]
    return counted.groupby(list(keys), observed=True, sort=False, as_index=False).agg(
        value=("value", lambda values: values.sum(min_count=1)), days=("days", "sum"))


FLAG_COLUMNS = ["check", "org_unit", "data_element", "period", "value", "reference", "threshold", "flag"]


def completeness_flags(reports: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Reporting completeness and timeliness per org unit, data set and period, from the long table's
    ``REPORTING_RATE`` and ``REPORTING_RATE_ON_TIME`` rows (percentages, as DHIS2 gives them)."""
    rules = thresholds.completeness
    parts = []
    for metric, check, below in (("REPORTING_RATE", "completeness", rules.reporting_below),
                                 ("REPORTING_RATE_ON_TIME", "timeliness", rules.timeliness_below)):
        rows = reports[reports["metric"] == metric]
        value = rows["value"].astype(float) / 100
        parts.append(pd.DataFrame({"check": check, "org_unit": rows["org_unit"], "data_element": rows["data_element"],
                                   "period": rows["period"], "value": value, "reference": np.nan,
                                   "threshold": below, "flag": value < below}))
    return _flags(parts)


def outlier_flags(monthly: pd.DataFrame, thresholds: Thresholds, *, keys: Sequence[str] = ("org_unit", "data_element"),
                  year: str = "year") -> pd.DataFrame:
    """Each month's value against the same series' months of its year (WHO DQR): the z-score (sd of the
    year's months, n − 1) for moderate and extreme outliers, and the modified z (0.6745 (x − median) /
    MAD) for robust ones. ``monthly``: ``keys``, ``year``, ``period``, ``value``."""
    rules = thresholds.outliers
    groups = monthly.groupby([*keys, year], observed=True, sort=False)["value"]
    value = monthly["value"].astype(float)
    mean, sd = groups.transform("mean"), groups.transform("std")
    median = groups.transform("median")
    mad = (value - median).abs().groupby([monthly[k] for k in (*keys, year)], observed=True, sort=False) \
        .transform("median")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (value - mean) / sd
        modified = 0.6745 * (value - median) / mad
    base = {"org_unit": monthly["org_unit"], "data_element": monthly["data_element"], "period": monthly["period"],
            "reference": mean}
    parts = [pd.DataFrame({"check": "outlier_extreme", **base, "value": z, "threshold": rules.extreme_z,
                           "flag": z.abs() >= rules.extreme_z}),
             # a moderate outlier is one between the two: an extreme one is not counted twice
             pd.DataFrame({"check": "outlier_moderate", **base, "value": z, "threshold": rules.moderate_z,
                           "flag": (z.abs() >= rules.moderate_z) & (z.abs() < rules.extreme_z)}),
             pd.DataFrame({"check": "outlier_modified_z", **base, "reference": median, "value": modified,
                           "threshold": rules.modified_z, "flag": modified.abs() > rules.modified_z})]
    return _flags(parts)


def consistency_flags(annual: pd.DataFrame, thresholds: Thresholds,
                      keys: Sequence[str] = ("org_unit", "data_element")) -> pd.DataFrame:
    """Each year's total against the mean of the years before it (up to ``previous_years``; WHO DQR
    consistency over time): the ratio outside 1 ± tolerance. ``annual``: ``keys``, ``year`` (int),
    ``value``; a year with no earlier year is not judged."""
    rules = thresholds.consistency
    rows = []
    for key, series in annual.sort_values("year").groupby(list(keys), observed=True, sort=False):
        values = series.set_index("year")["value"].astype(float)
        for year, value in values.items():
            earlier = values[(values.index < year) & (values.index >= year - rules.previous_years)]
            if earlier.empty:
                continue
            reference = float(earlier.mean())
            ratio = value / reference if reference else np.nan
            rows.append({"check": "consistency_over_time", **dict(zip(keys, key)), "period": str(year),
                         "value": ratio, "reference": reference, "threshold": rules.ratio_tolerance,
                         "flag": bool(abs(ratio - 1) > rules.ratio_tolerance) if not np.isnan(ratio) else None})
    return _flags([pd.DataFrame(rows)])


def dropout_flags(doses: pd.DataFrame, first: str = "penta1", last: str = "penta3",
                  keys: Sequence[str] = ("org_unit", "period")) -> pd.DataFrame:
    """Negative dropout: fewer first doses than last doses given in the same place and period (WHO DQR
    internal consistency). ``doses``: ``keys``, ``dose``, ``value``; the value is the dropout
    (first − last) / first."""
    wide = doses.pivot_table(index=list(keys), columns="dose", values="value", aggfunc="sum", observed=True)
    if first not in wide or last not in wide:
        return _flags([])
    wide = wide.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        dropout = (wide[first] - wide[last]) / wide[first]
    return _flags([pd.DataFrame({"check": "negative_dropout", "org_unit": wide.get("org_unit"),
                                 "data_element": f"{first}-{last}", "period": wide.get("period"), "value": dropout,
                                 "reference": np.nan, "threshold": 0.0, "flag": wide[first] < wide[last]})])


def coverage_flags(coverage: pd.DataFrame, thresholds: Thresholds,
                   keys: Sequence[str] = ("org_unit", "dose")) -> pd.DataFrame:
    """Admin coverage above 100 % in a year, and a change of more than ``year_swing`` from the year
    before. ``coverage``: ``keys``, ``year`` (int), ``admin_coverage``."""
    rules = thresholds.coverage
    ordered = coverage.sort_values([*keys, "year"])
    previous = ordered.groupby(list(keys), observed=True, sort=False)["admin_coverage"].shift()
    consecutive = ordered.groupby(list(keys), observed=True, sort=False)["year"].diff() == 1
    swing = (ordered["admin_coverage"] - previous).where(consecutive)
    base = {"org_unit": ordered["org_unit"], "data_element": ordered[keys[1]], "period": ordered["year"].astype(str)}
    return _flags([
        pd.DataFrame({"check": "coverage_over_100", **base, "value": ordered["admin_coverage"], "reference": np.nan,
                      "threshold": rules.above, "flag": ordered["admin_coverage"] > rules.above}),
        pd.DataFrame({"check": "year_on_year_swing", **base, "value": swing, "reference": previous,
                      "threshold": rules.year_swing, "flag": (swing.abs() > rules.year_swing).where(swing.notna())})])


def _flags(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [part for part in parts if len(part)]
    if not parts:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    return pd.concat(parts, ignore_index=True)[FLAG_COLUMNS]


@dataclass(frozen=True)
class AdminResults:
    """What ``[admin]`` adds to a run: ``comparison`` (``admin.csv``: each unit and dose, the admin
    doses due while the surveyed cohort was of age, the target, both coverages and the rules),
    ``zero_dose`` (admin and survey zero-dose), ``flags`` (``dq_flags.csv``: the WHO DQR checks of the
    extracts) and ``unused`` (the extracts' rows not used, counted by file and reason: nothing is
    left out silently); ``thresholds``, the rules they were judged by, and ``target_source`` (``dhis2``,
    ``census`` or ``populations``)."""

    comparison: pd.DataFrame
    zero_dose: pd.DataFrame
    flags: pd.DataFrame
    unused: pd.DataFrame
    thresholds: Thresholds | None = None
    target_source: str = "dhis2"


TARGET = "target"


def map_extract(long: pd.DataFrame, mapping: AdminMapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The extract's rows the mapping names, with their ``dose`` (or ``target``) and ``unit``; and the
    rows it does not, counted by ``file`` and ``reason``. Reporting metrics are kept (``dose`` None)
    when their org unit is mapped: they are the completeness checks' rows."""
    element = pd.Series(None, index=long.index, dtype=object)
    combo_refused = pd.Series(False, index=long.index)
    wanted = {**mapping.doses, **({TARGET: mapping.target} if mapping.target is not None else {})}
    for dose, elements in wanted.items():
        names = set(elements.data_elements)
        hit = long["data_element"].isin(names) | long["data_element_name"].isin(names)
        if elements.category_option_combos:
            fits = long["category_option_combo"].isin(set(elements.category_option_combos))
            combo_refused |= hit & ~fits & element.isna()
            hit &= fits
        element = element.where(~(hit & element.isna()), dose)
    unit = long["org_unit"].map(mapping.org_units).fillna(long["org_unit_name"].map(mapping.org_units))
    metric = long["metric"].isin(METRICS)
    if mapping.reporting:
        metric &= long["data_element"].isin(mapping.reporting) | long["data_element_name"].isin(mapping.reporting)
    reason = np.select([unit.isna(), metric, combo_refused, element.isna(), long["value"].isna()],
                       ["org unit not in the mapping", "", "category option combo not in the mapping",
                        "data element not in the mapping", "no value"], default="")
    used = reason == ""
    unused = (long.loc[~used].assign(reason=reason[~used]).groupby(["file", "reason"], sort=False)
              .size().rename("rows").reset_index())
    return long.loc[used].assign(dose=element[used], unit=unit[used]), unused


def read_census(path: Path, column: str) -> pd.DataFrame:
    """A census projection of the target population (``[admin] census``): one row per survey unit (its
    ``column``) and ``year``, the projected ``target``; as target rows of the extract's long table
    (``unit``, ``period`` the year, ``value``), so the window counts them as it counts DHIS2's."""
    source = read_source(path)
    table = source.frame
    missing = [name for name in (column, "year", "target") if name not in table.columns]
    if missing:
        raise InputError(f"{path}: column missing: {', '.join(missing)} (expected {column}, year, target); "
                         f"the file has {', '.join(map(str, table.columns))}")
    year = pd.to_numeric(table["year"], errors="coerce")
    target = pd.to_numeric(table["target"], errors="coerce")
    for name, values, bad in (("year", year, ~year.between(1900, 2200) | (year % 1 != 0)),
                              ("target", target, ~(target >= 0))):
        if bad.any():
            index = int(bad.to_numpy().argmax())
            raise InputError(f"{path}: row {index + source.row_offset}, column '{name}': must be "
                             f"{'a year' if name == 'year' else 'a number, 0 or more'}; got {table[name].iloc[index]!r}")
    units = table[column].astype(str).str.strip()
    twice = pd.DataFrame({"unit": units, "year": year}).duplicated(keep=False)
    if twice.any():
        first, again = (int(i) + source.row_offset for i in np.flatnonzero(twice.to_numpy())[:2])
        raise InputError(f"{path}: row {again}: {column} {units[twice].iloc[0]} in {int(year[twice].iloc[0])} "
                         f"is listed again (first at row {first}); keep one target per unit and year")
    return pd.DataFrame({"unit": units, "period": year.astype(int).astype(str), "value": target.astype(float),
                         "dose": TARGET, "metric": None, "source_row": np.arange(len(table)) + source.row_offset})


def triangulate(settings, mapping: AdminMapping, thresholds: Thresholds, long: pd.DataFrame, table: pd.DataFrame,
                estimates: pd.DataFrame, *, cohort_days: tuple[int, int], due_days: dict[str, int],
                levels: Sequence[str] = (), census: pd.DataFrame | None = None,
                dropout_pairs: Sequence[tuple[str, str]] = (("penta1", "penta3"),)) -> AdminResults:
    """The survey against the extract (``long``, :func:`lqas.dhis2.read_dhis2` with a ``file`` column),
    unit by unit of ``settings.column``: each dose's admin doses due while the cohort ``settings.cohort``
    was of age (:func:`due_window` from the unit's median interview date and the dose's age
    ``due_days``), over the target of the same days (the extract's target rows, or the unit's lot
    population: the sum of its children's weights; or a ``census`` projection, :func:`read_census`),
    both over the days of the window the extract covers (``days_covered``);
    the survey's crude coverage of the dose in the cohort (``estimates``); the comparison
    (:func:`survey_admin`); and the DQR checks of the extract."""
    column = settings.column
    mapped, unused = map_extract(long, mapping)
    doses = mapped[mapped["dose"].notna() & (mapped["dose"] != TARGET)]
    targets = mapped[mapped["dose"] == TARGET] if census is None else census
    cohort = table[table["cohort"].astype(str) == settings.cohort]
    interviews = pd.to_datetime(cohort["interview_date"], errors="coerce")
    median_interview = interviews.groupby(cohort[column].astype(str), observed=True).median().dropna()
    survey = _survey_rows(estimates, column, settings.cohort, list(mapping.doses), levels)
    rows = []
    for unit, interview in median_interview.items():
        for dose in mapping.doses:
            start, end = due_window(interview.date(), cohort_days, due_days.get(dose, 0))
            # the area's facilities summed period by period first: their days are the same days, counted once
            own = doses[(doses["unit"] == unit) & (doses["dose"] == dose)]
            own = own.groupby("period", as_index=False)["value"].sum(min_count=1)
            given = window_sum(own.assign(key=1), start, end, ["key"])
            covered = int(given["days"].iloc[0]) if len(given) else 0
            # the target of the days the doses cover (a window the extract ends inside, months not reported):
            # a year's target, or the cohort's year of births, spreads evenly over its days
            if settings.targets in ("dhis2", "census"):
                own_target = targets[targets["unit"] == unit].groupby("period", as_index=False)["value"] \
                    .sum(min_count=1)
                target = window_sum(own_target.assign(key=1), start, end, ["key"])
                target_value = (float(target["value"].iloc[0]) / int(target["days"].iloc[0]) * covered
                                if len(target) and int(target["days"].iloc[0]) else np.nan)
            else:
                population = float(cohort.loc[cohort[column].astype(str) == unit, "weight"].sum())
                target_value = population * covered / ((end - start).days + 1)
            rows.append({column: unit, "dose": dose, "window_start": start.isoformat(), "window_end": end.isoformat(),
                         "days_covered": covered,
                         "doses": float(given["value"].iloc[0]) if len(given) else np.nan, "target": target_value})
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=[column, "dose", "window_start", "window_end", "days_covered", "doses", "target"])
    frame = frame.merge(survey, on=[column, "dose"], how="left")
    comparison = survey_admin(frame, thresholds)
    comparison.insert(comparison.columns.get_loc("target") + 1, "target_source", settings.targets)
    first = next(iter(mapping.doses))
    return AdminResults(comparison=comparison, zero_dose=admin_zero_dose(comparison, first),
                        flags=_checks(mapped, thresholds, list(mapping.doses), census, dropout_pairs), unused=unused,
                        thresholds=thresholds, target_source=settings.targets)


def _survey_rows(estimates: pd.DataFrame, column: str, cohort: str, doses: list[str],
                 levels: Sequence[str]) -> pd.DataFrame:
    """The survey's crude coverage of each dose in the cohort, each unit of ``column`` (the other
    domain columns at ``all``, the levels above it named)."""
    from lqas.design import domain_columns

    wanted = estimates[estimates["indicator"].isin([f"{dose}_crude" for dose in doses])
                       & (estimates["cohort"] == cohort) & (estimates[column] != "all")]
    above = list(levels)[:list(levels).index(column)] if column in levels else []
    others = [c for c in domain_columns(wanted) if c not in (column, "cohort", *above)]
    wanted = wanted[(wanted[others] == "all").all(axis=1)]
    return pd.DataFrame({column: wanted[column].astype(str), "dose": wanted["indicator"].str.removesuffix("_crude"),
                         "n": wanted["n"], "estimate": wanted["estimate"], "ci_low": wanted["ci_low"],
                         "ci_high": wanted["ci_high"]})


def _checks(mapped: pd.DataFrame, thresholds: Thresholds, doses: list[str],
            census: pd.DataFrame | None = None,
            dropout_pairs: Sequence[tuple[str, str]] = (("penta1", "penta3"),)) -> pd.DataFrame:
    """The DQR checks of the mapped extract, by survey unit (its facilities summed): completeness and
    timeliness (the reporting counts by quarter), outliers of the monthly doses, consistency over time
    of the yearly doses, negative dropout (each of the schedule's dropout pairs the mapping names: a
    first dose against a later one, never two doses of different antigens) and yearly admin coverage."""
    # the survey unit as the org unit, the dose as the data element: the checks read the programme's terms
    by_unit = mapped.assign(org_unit=mapped["unit"], org_unit_name=None,
                            data_element=mapped["dose"].where(mapped["dose"].notna(), mapped["data_element"]),
                            data_element_name=None)
    by_unit = _summed(by_unit)
    reports = by_unit[by_unit["metric"].isin(METRICS)]
    parts = [completeness_flags(roll_up(reports, "quarter"), thresholds)]
    given = by_unit[by_unit["data_element"].isin(doses) & by_unit["metric"].isna()]
    monthly = given[given["period"].str.fullmatch(r"\d{6}")]
    if len(monthly):
        parts.append(outlier_flags(monthly.assign(year=monthly["period"].str[:4].astype(int)), thresholds))
    yearly = roll_up(given, "year")
    yearly = yearly[yearly["period"].str.fullmatch(r"\d{4}")].assign(year=lambda f: f["period"].astype(int))
    if len(yearly):
        parts.append(consistency_flags(yearly, thresholds))
        for first, last in dropout_pairs or ():
            if first in doses and last in doses:
                parts.append(dropout_flags(yearly.assign(dose=yearly["data_element"]), first, last))
        if census is None:
            target = roll_up(by_unit[by_unit["data_element"] == TARGET], "year")
        else:  # the projection's targets, by unit and year
            target = census.assign(org_unit=census["unit"])
        target = target[target["period"].str.fullmatch(r"\d{4}")]
        if len(target):
            coverage = yearly.merge(target[["org_unit", "period", "value"]].rename(columns={"value": "target"}),
                                    on=["org_unit", "period"])
            coverage = coverage.assign(dose=coverage["data_element"], admin_coverage=coverage["value"] / coverage["target"])
            parts.append(coverage_flags(coverage, thresholds))
    found = [part for part in parts if len(part)]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FLAG_COLUMNS)


def _summed(frame: pd.DataFrame) -> pd.DataFrame:
    """The long table's rows with the same keys summed (a survey unit's facilities, once their org unit
    is the unit's), in the long table's columns. A reporting rate is not summed: it is recomputed from
    the summed actual and expected reports where the extract has them, else the facilities' rates are
    averaged (each facility expected to report as often as the others)."""
    from lqas.dhis2 import COLUMNS, RATE_COUNTS, RATE_METRICS

    keys = [c for c in COLUMNS if c not in ("source_row", "value")]
    rates = frame["metric"].isin(RATE_METRICS)

    def grouped(rows: pd.DataFrame, how) -> pd.DataFrame:
        return (rows[list(COLUMNS)].groupby(keys, dropna=False, sort=False, as_index=False)
                .agg(source_row=("source_row", "min"), value=("value", how))[list(COLUMNS)])

    counts = grouped(frame[~rates], lambda v: v.sum(min_count=1))
    averaged = grouped(frame[rates], lambda v: v.mean())
    ids = [c for c in keys if c != "metric"]
    for rate, (numerator, denominator) in RATE_COUNTS.items():
        top = counts[counts["metric"] == numerator].set_index(ids)["value"]
        bottom = counts[counts["metric"] == denominator].set_index(ids)["value"]
        recomputed = (100 * top / bottom.where(bottom > 0)).dropna()
        if recomputed.empty:
            continue
        own = averaged["metric"] == rate
        index = pd.MultiIndex.from_frame(averaged.loc[own, ids])
        found = pd.Series(recomputed.reindex(index).to_numpy(), index=averaged.index[own])
        averaged.loc[found.dropna().index, "value"] = found.dropna()
    return pd.concat([counts, averaged], ignore_index=True)


def analyse_admin(project, table: pd.DataFrame, estimates: pd.DataFrame, schedule) -> AdminResults | None:
    """``[admin]`` of a project (None without it): its extracts read and mapped, set against the run's
    child table and estimates."""
    settings = project.admin
    if settings is None:
        return None
    mapping = load_mapping(project.resolve(settings.mapping))
    thresholds = load_thresholds(project.resolve(settings.thresholds) if settings.thresholds else None)
    long = pd.concat([read_dhis2(project.resolve(path)).assign(file=str(path)) for path in settings.files],
                     ignore_index=True)
    census = read_census(project.resolve(settings.census), settings.column) if settings.census else None
    due = {dose.key: dose.min_age_days for dose in schedule.doses}
    return triangulate(settings, mapping, thresholds, long, table, estimates,
                       cohort_days=tuple(project.cohorts[settings.cohort]), due_days=due,
                       levels=project.levels.columns, census=census,
                       dropout_pairs=same_antigen_pairs(schedule.dropout_pairs()))


def same_antigen_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The dropout pairs of one antigen's doses (Penta1 → Penta3, not Penta1 → MR1): more later doses
    than first doses of a series cannot be right, while a year's MR1 doses may legitimately outnumber
    its Penta1 doses (catch-up, another cohort)."""
    def antigen(dose: str) -> str:
        return dose.rstrip("0123456789")

    return [(first, last) for first, last in pairs if antigen(first) == antigen(last)]

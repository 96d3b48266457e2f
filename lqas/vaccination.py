"""Vaccination status (03DV): schedule + dose evidence -> clean dates, crude and valid doses, indicators."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.config._validation import did_you_mean, read_toml
from lqas.config.schedule import validate_schedule
from lqas.dob import vcqi_dob
from lqas.dtypes import add_columns, compact_values, text_of_codes
from lqas.errors import InputError, SettingError
from lqas.ingest import REPAIR_COLUMNS
from lqas.readers import per_value
from lqas.resources import data_path

SOURCE_CODES = ("card_date", "card_tick", "register", "recall", "scar", "implied", "none")
# a dose's source as a position among its names, strongest first (derive's working code)
_SOURCE_NAMES = np.array(["card_date", "card_tick", "register", "recall", "scar", "none", "implied"], dtype=object)
_NO_SOURCE, _IMPLIED = 5, 6
RECORDS = ("not_sought", "if_no_card", "all")
DATE_SOURCES = ("card", "register")
DOB_SOURCES = ("card", "history", "register")
VALID_AGE1_FROM = ("recorded_dose", "valid_dose")
AGE1_DAYS = 365                  # VCQI "valid by age 1": age at dose <= 365 days
TIMELY_PENTA3_DAYS = 182         # VCQI RI_QUAL_13: by 26 weeks (control program threshold 26*7+1, "<")
TIMELY_MR1_DAYS = 365            # by 12 months, same bound as "valid by age 1"


@dataclass(frozen=True)
class Dose:
    key: str
    label: str
    min_age_days: int
    series: str | None = None
    number: int | None = None
    max_age_days: int | None = None
    min_interval_days: int | None = None
    label_fr: str | None = None

    def label_in(self, lang: str) -> str:
        """The dose's name in a report language (``label_fr`` in French when given, else ``label``)."""
        return self.label_fr if lang == "fr" and self.label_fr else self.label


@dataclass(frozen=True)
class Schedule:
    name: str
    doses: tuple[Dose, ...]
    dtp_series: str = "penta"
    fully_vaccinated: tuple[str, ...] = ()
    dropouts: tuple[tuple[str, str], ...] = ()

    def doses_of(self, name: str) -> list[str]:
        """The dose keys a name stands for: the dose itself, or every dose of the series of that name."""
        return [name] if name in self.keys else [d.key for d in self.series(name)]

    def dropout_pairs(self) -> list[tuple[str, str]]:
        """(first, second) dose pairs for ``dropout_<first>_<second>``: the schedule's ``dropouts`` list,
        else the DTP series' first to last dose and, when the schedule has them, Penta1 to MR1 and MR1 to MR2."""
        if self.dropouts:
            return list(self.dropouts)
        dtp = [d.key for d in self.series(self.dtp_series) if (d.number or 0) >= 1]
        pairs = [(dtp[0], dtp[-1])] if len(dtp) >= 2 else []
        if {"mr1", "mr2"} <= set(self.keys) and dtp:
            pairs += [(dtp[0], "mr1"), ("mr1", "mr2")]
        return pairs

    @property
    def keys(self) -> list[str]:
        return [dose.key for dose in self.doses]

    def dose(self, key: str) -> Dose:
        return next(dose for dose in self.doses if dose.key == key)

    def series(self, name: str) -> list[Dose]:
        return sorted((d for d in self.doses if d.series == name), key=lambda d: d.number or 0)

    def multi_dose_series(self) -> dict[str, list[Dose]]:
        """Series with two or more numbered doses (number >= 1), in dose order.

        These are VCQI's ``RI_MULTI_2_DOSE_LIST``/``RI_MULTI_3_DOSE_LIST``; every other dose (including
        a birth dose numbered 0, such as OPV0) is a single dose for date clean-up and validity.
        """
        names = dict.fromkeys(d.series for d in self.doses if d.series)
        out = {}
        for name in names:
            doses = [d for d in self.series(name) if (d.number or 0) >= 1]
            if len(doses) >= 2:
                out[name] = doses
        return out


def load_schedule(name_or_path: str | Path) -> Schedule:
    """A schedule by name (shipped in ``lqas/data/schedules``) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = data_path("schedules", f"{name_or_path}.toml")
    if not path.is_file():
        shipped = sorted(p.stem for p in data_path("schedules").glob("*.toml"))
        raise SettingError("vaccination.schedule", f"schedule '{name_or_path}' not found (looked for {path}); "
                           f"shipped: {', '.join(shipped)}{did_you_mean(str(name_or_path), shipped)}")
    raw = read_toml(path, "schedule")
    # every problem of the file at once; past this line the entries are known to be well formed
    validate_schedule(raw, path)
    doses = tuple(Dose(**entry) for entry in raw["dose"])
    info = raw.get("schedule", {})
    return Schedule(info.get("name", path.stem), doses, info.get("dtp_series", "penta"),
                    tuple(info.get("fully_vaccinated", ())), tuple(tuple(pair) for pair in info.get("dropouts", [])))


def _column(children: pd.DataFrame, name: str, default: float = np.nan) -> pd.Series:
    if name in children:
        return pd.to_numeric(children[name], errors="coerce") if not name.endswith("_date") else children[name]
    return pd.Series(pd.NaT if name.endswith("_date") else default, index=children.index)


def _dates(children: pd.DataFrame, name: str) -> pd.Series:
    """A date column as datetime64 (NaT when absent or unparseable)."""
    if name in children:
        values = children[name]
        # ingest's dates are dates already: to_datetime would only copy them, slowly (a hundred
        # columns of a national survey, date by date)
        return values if values.dtype == "datetime64[ns]" else pd.to_datetime(values, errors="coerce")
    return pd.Series(pd.NaT, index=children.index, dtype="datetime64[ns]")


def _timestamp(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


# --------------------------------------------------------------------------------------------------
# Date of birth for valid-dose work and date clean-up (VCQI cleanup_RI_dates_and_ticks)

def _latest(children: pd.DataFrame, latest) -> pd.Timestamp | None:
    """VCQI LATEST_SVY_VACC_DATE; by default the last interview date in the table."""
    if latest is not None:
        return pd.Timestamp(latest)
    last = _dates(children, "interview_date").max()
    return None if pd.isna(last) else last


def _dob_parts(children: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series] | None:
    """Month/day/year parts and the complete date of one DOB source, or None if the source is absent.

    Parts come from ``dob_<source>_m/_d/_y`` when those columns exist (partial dates), else from the
    datetime column ``dob_<source>``.
    """
    part_columns = [f"dob_{source}_{e}" for e in "mdy"]
    if all(column in children for column in part_columns):
        parts = pd.DataFrame({e: pd.to_numeric(children[f"dob_{source}_{e}"], errors="coerce") for e in "mdy"})
        full = pd.to_datetime(pd.DataFrame({"year": parts["y"], "month": parts["m"], "day": parts["d"]}),
                              errors="coerce")
        return parts, full
    if f"dob_{source}" in children:
        full = _dates(children, f"dob_{source}")
        parts = pd.DataFrame({"m": full.dt.month, "d": full.dt.day, "y": full.dt.year}, dtype=float)
        return parts, full
    return None


def valid_dose_dob(children: pd.DataFrame, *, earliest=None, latest=None,
                   min_eligible_age_days: int = 0) -> pd.DataFrame:
    """Date of birth used for valid-dose calculations (VCQI ``dob_for_valid_dose_calculations``).

    Parameters
    ----------
    children : DataFrame
        Canonical child table with ``dob_card``, ``dob_history``, ``dob_register`` (datetimes; any
        subset), optionally their parts ``dob_<source>_m/_d/_y``; or only ``dob``.
    earliest, latest : date-like, optional
        VCQI ``EARLIEST_SVY_VACC_DATE`` / ``LATEST_SVY_VACC_DATE``. ``latest`` defaults to the last
        interview date in the table; ``earliest`` defaults to no lower bound.
    min_eligible_age_days : int, default=0
        VCQI ``VCQI_RI_MIN_AGE_OF_ELIGIBILITY``: the youngest survey-eligible age (step 2 only).

    Returns
    -------
    DataFrame
        ``dob`` (datetime, NaT when no usable DOB) and ``rule``: ``"agree"`` (step 1), ``"earliest"``
        (step 2), ``"dob"`` (no DOB sources: the table's ``dob``) or ``"none"``.

    Notes
    -----
    As VCQI (cleanup_RI_dates_and_ticks.ado): (1) if the non-missing sources give one month, one day
    and one year (each may come from a different source) and that date lies in [earliest, latest], use
    it; (2) otherwise the earliest complete source date in [earliest, latest - min_eligible_age_days],
    because the earliest "will yield the highest count of valid vaccination dates"; (3) otherwise none,
    and the child gets no valid doses. Without any DOB source column, ``dob`` is used, kept only inside
    [earliest, latest].
    """
    earliest, latest = _timestamp(earliest), _latest(children, latest)
    sources = [parts for s in DOB_SOURCES if (parts := _dob_parts(children, s)) is not None]
    if not sources:
        dob = _dates(children, "dob")
        dob, rule = vcqi_dob([], [dob], latest=latest, earliest=earliest)
        return pd.DataFrame({"dob": dob, "rule": np.where(dob.notna(), "dob", "none")}, index=children.index)
    upper = None if latest is None else latest - pd.Timedelta(days=min_eligible_age_days)
    dob, rule = vcqi_dob([parts for parts, _ in sources], [full for _, full in sources], latest=latest,
                         latest_earliest_rule=upper, earliest=earliest)
    return pd.DataFrame({"dob": dob, "rule": rule}, index=children.index)


def clean_dates(children: pd.DataFrame, schedule: Schedule, *, earliest=None, latest=None,
                min_eligible_age_days: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """VCQI date clean-up: impossible card/register dates become ticks, before any indicator.

    Parameters
    ----------
    children : DataFrame
        Canonical child table: ``<dose>_card_date``/``_card_tick`` and, when registers were sought,
        ``<dose>_register_date``/``_register_tick``; ``interview_date``; DOB columns (see
        :func:`valid_dose_dob`); ``source_row`` and ``child_id`` for the repairs log.
    earliest, latest : date-like, optional
        Earliest possible vaccination (= earliest eligible birth) date and end of fieldwork (VCQI
        ``EARLIEST_SVY_VACC_DATE``/``LATEST_SVY_VACC_DATE``); ``latest`` defaults to the last interview.
    min_eligible_age_days : int, default=0
        Youngest survey-eligible age, for the DOB plausibility window (see :func:`valid_dose_dob`).

    Returns
    -------
    (DataFrame, DataFrame)
        The children with cleaned date/tick columns plus ``dob_for_valid_doses`` and
        ``dob_for_valid_doses_rule``; and one repair row per date turned into a tick, with columns
        ``source_row, child_id, column, rule, original, new`` (``new`` = ``"tick"``).

    Notes
    -----
    Rules, in VCQI order (cleanup_RI_dates_and_ticks.ado, flags 20-22 then the series check):

    - ``date_before_earliest_to_tick``: date < ``earliest``;
    - ``date_before_dob_to_tick``: date < the valid-dose DOB;
    - ``date_after_interview_to_tick``: date > interview date;
      ``date_after_latest_to_tick``: no interview date and date > ``latest``;
    - ``series_out_of_order_to_tick``: within a series (doses numbered 1..n, per source), for every
      pair i < j with both dates left, date_i >= date_j (out of order *or the same day*) turns both into
      ticks. VCQI checks the pairs 1-2 (2-dose series) and 1-2, 2-3, 1-3 (3-dose series); all pairs is
      the same rule for longer series.

    The dose stays crude evidence (tick) but has no timing, so it can never be valid. "Later dose
    implies earlier" is applied in :func:`derive`, not here.
    """
    with warnings.catch_warnings():
        # the table is many blocks (each categorical is one): its columns are replaced without a copy
        # of it, which pandas' advice against a "highly fragmented" frame would make
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        return _clean_dates(children, schedule, earliest, latest, min_eligible_age_days)


def _clean_dates(children: pd.DataFrame, schedule: Schedule, earliest, latest,
                 min_eligible_age_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = children.copy(deep=False)  # columns are replaced, never written into: no second child table
    dob = valid_dose_dob(out, earliest=earliest, latest=latest, min_eligible_age_days=min_eligible_age_days)
    out["dob_for_valid_doses"] = dob["dob"]
    out["dob_for_valid_doses_rule"] = dob["rule"]
    earliest, latest = _timestamp(earliest), _latest(children, latest)
    interview = _dates(out, "interview_date")
    repairs: list[pd.DataFrame] = []

    def to_tick(column: str, mask: pd.Series, rule: str, dates: pd.Series) -> pd.Series:
        if mask.any():
            rows = pd.DataFrame({
                "source_row": _column(out, "source_row")[mask], "child_id": out.loc[mask, "child_id"]
                if "child_id" in out else np.nan, "column": column, "rule": rule,
                "original": dates[mask].dt.strftime("%Y-%m-%d"), "new": "tick"})
            repairs.append(rows)
            tick_column = column.removesuffix("_date") + "_tick"
            out[tick_column] = _column(out, tick_column).mask(mask, 1.0)
        return dates.mask(mask)

    for source in DATE_SOURCES:
        for dose in schedule.doses:
            column = f"{dose.key}_{source}_date"
            if column not in out:
                continue
            dates = _dates(out, column)
            rules = [("date_before_earliest_to_tick", dates < earliest if earliest is not None else None),
                     ("date_before_dob_to_tick", dates < dob["dob"]),
                     ("date_after_interview_to_tick", dates > interview),
                     ("date_after_latest_to_tick",
                      interview.isna() & (dates > latest) if latest is not None else None)]
            for rule, mask in rules:
                if mask is not None:
                    dates = to_tick(column, mask & dates.notna(), rule, dates)
            out[column] = dates

        for doses in schedule.multi_dose_series().values():
            columns = [f"{d.key}_{source}_date" for d in doses]
            if not any(column in out for column in columns):
                continue
            dates = [_dates(out, column) for column in columns]
            flagged = [pd.Series(False, index=out.index) for _ in doses]
            for i in range(len(doses)):
                for j in range(i + 1, len(doses)):
                    wrong = dates[i].notna() & dates[j].notna() & (dates[i] >= dates[j])
                    flagged[i] |= wrong
                    flagged[j] |= wrong
            for column, series_dates, mask in zip(columns, dates, flagged):
                if mask.any():
                    out[column] = to_tick(column, mask, "series_out_of_order_to_tick", series_dates)
    table = pd.concat(repairs, ignore_index=True) if repairs else pd.DataFrame(columns=REPAIR_COLUMNS)
    return out, table[REPAIR_COLUMNS]


# --------------------------------------------------------------------------------------------------
# Crude doses (VCQI RI_COVG_01)

def _evidence(children: pd.DataFrame, dose: Dose, records: str) -> pd.DataFrame:
    """Per-source 0/1 evidence of one dose (VCQI `got_crude_<d>_by_*`)."""
    card = pd.Series(_column(children, f"{dose.key}_card_date").notna(), index=children.index)
    tick = _column(children, f"{dose.key}_card_tick") == 1
    register = (_column(children, f"{dose.key}_register_date").notna()
                | (_column(children, f"{dose.key}_register_tick") == 1))
    recall = _column(children, f"{dose.key}_recall") == 1
    scar = (_column(children, "bcg_scar") == 1) if dose.key == "bcg" else pd.Series(False, index=children.index)
    return pd.DataFrame({"card_date": card, "card_tick": tick & ~card, "register": register,
                         "recall": recall, "scar": scar})


# Evidence-source families (VCQI RI_COVG_01 got_crude_<d>_by_card ... _c_or_h_or_r), each a 0/1 column
# ``<dose>_<family>``: one source alone, then the unions VCQI tabulates beside crude coverage
SOURCE_FAMILIES = ("by_card", "by_history", "by_register", "by_scar", "card_or_history", "card_or_register",
                   "card_history_or_register")


def _by_source(evidence: dict[str, pd.DataFrame], schedule: Schedule, records: str,
               later_dose_implies_earlier: bool) -> dict[str, dict[str, pd.Series]]:
    """Per dose, the evidence-source families as booleans (VCQI RI_COVG_01_03DV).

    Each source counts on its own, whatever the records protocol says about crude coverage: the
    register is evidence of the register even for a child with a card. A later dose seen on one source
    implies the earlier doses of its series on that same source (VCQI's clean-up ticks them). Registers
    not sought give no register families (VCQI drops them); BCG alone has a scar family.
    """
    own = {key: {"card": frame["card_date"] | frame["card_tick"], "history": frame["recall"],
                 "register": frame["register"], "scar": frame["scar"]} for key, frame in evidence.items()}
    if later_dose_implies_earlier:
        for series_name in {d.series for d in schedule.doses if d.series}:
            doses = [d.key for d in schedule.series(series_name) if (d.number or 0) >= 1]
            for kind in ("card", "history", "register"):
                later = False
                for key in reversed(doses):
                    own[key][kind] = own[key][kind] | later
                    later = own[key][kind]
    out: dict[str, dict[str, pd.Series]] = {}
    for key, got in own.items():
        families = {"by_card": got["card"], "by_history": got["history"],
                    "card_or_history": got["card"] | got["history"] | got["scar"]}
        if records != "not_sought":
            families |= {"by_register": got["register"], "card_or_register": got["card"] | got["register"],
                         "card_history_or_register": families["card_or_history"] | got["register"]}
        if key == "bcg":
            families["by_scar"] = got["scar"]
        out[key] = families
    return out


def _register_used(has_card: pd.Series, records: str) -> pd.Series:
    """Children for whom the register counts (VCQI ``RI_RECORDS_*``; ``no_card`` = no card date/tick)."""
    if records == "all":
        return pd.Series(True, index=has_card.index)
    if records == "if_no_card":
        return ~has_card
    return pd.Series(False, index=has_card.index)


# --------------------------------------------------------------------------------------------------
# Valid doses (VCQI RI_COVG_02_03DV)

def _ages(children: pd.DataFrame, schedule: Schedule, dob: pd.Series, source: str) -> pd.DataFrame:
    """Age in days at each dose's clean date on one source (VCQI ``age_at_<d>_<s>``)."""
    born = dob.to_numpy(dtype="datetime64[ns]")
    return pd.DataFrame({d.key: _days(_dates(children, f"{d.key}_{source}_date").to_numpy(dtype="datetime64[ns]")
                                      - born) for d in schedule.doses}, index=children.index)


def _days(durations: np.ndarray) -> np.ndarray:
    """Whole days of each duration, floored as pandas' ``.dt.days`` floors them, NaN where unknown: in
    numpy, a national survey's forty columns of ages made without pandas' per-column overhead."""
    unknown = np.isnat(durations)
    days = (np.where(unknown, np.timedelta64(0, "D"), durations) // np.timedelta64(1, "D")).astype(float)
    days[unknown] = np.nan
    return days


def _valid_on_source(ages: pd.DataFrame, schedule: Schedule) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid doses on one source and the age at each valid dose (VCQI ``age_at_valid_<d>_<s>``).

    Single doses: valid if age >= min age and, if set, age <= max age. Series: shift-left exactly as
    VCQI: valid dose 1 is the first recorded dose given at >= dose 1's minimum age; valid dose k is the
    first later recorded dose given >= dose k's minimum interval after valid dose k-1. VCQI checks
    only intervals (not the minimum age) for doses 2 and 3, and no maximum age within a series.
    """
    valid = pd.DataFrame(False, index=ages.index, columns=ages.columns)
    at = pd.DataFrame(np.nan, index=ages.index, columns=ages.columns)
    in_series = {d.key for doses in schedule.multi_dose_series().values() for d in doses}
    for dose in schedule.doses:
        if dose.key in in_series:
            continue
        age = ages[dose.key]
        ok = age >= dose.min_age_days
        if dose.max_age_days is not None:
            ok &= age <= dose.max_age_days
        valid[dose.key] = ok
        at[dose.key] = age.where(ok)
    rows = np.arange(len(ages))
    for doses in schedule.multi_dose_series().values():
        recorded = ages[[d.key for d in doses]].to_numpy(dtype=float)
        previous = np.full(len(ages), -1)          # recorded index of the previous valid dose
        for k, dose in enumerate(doses):
            which = np.full(len(ages), -1)
            previous_age = np.where(previous >= 0, recorded[rows, np.maximum(previous, 0)], np.nan)
            for j in reversed(range(len(doses))):  # backwards, so the first qualifying dose wins
                with np.errstate(invalid="ignore"):
                    if k == 0:
                        ok = recorded[:, j] >= dose.min_age_days
                    else:
                        ok = ((previous >= 0) & (j > previous)
                              & (recorded[:, j] - previous_age >= (dose.min_interval_days or 0)))
                which = np.where(ok, j, which)
            valid[dose.key] = which >= 0
            at[dose.key] = np.where(which >= 0, recorded[rows, np.maximum(which, 0)], np.nan)
            previous = which
    return valid, at


def _ages_and_valid(children: pd.DataFrame, schedule: Schedule, dob: pd.Series) -> dict[str, tuple]:
    """Per date source: the age at each dose (:func:`_ages`) and the valid doses (:func:`_valid_on_source`),
    the card's and the register's made at once in two threads (numpy lets go of Python's lock over a
    national survey's columns: 10^6 children 3.2 -> 1.6 s)."""
    def made(source: str) -> tuple:
        ages = _ages(children, schedule, dob, source)
        return ages, _valid_on_source(ages, schedule)
    with ThreadPoolExecutor(max_workers=len(DATE_SOURCES), thread_name_prefix="lqas-sources") as pool:
        return dict(zip(DATE_SOURCES, pool.map(made, DATE_SOURCES)))


def _valid_doses(ages: dict[str, pd.DataFrame], results: dict[str, tuple], schedule: Schedule,
                 register_used: pd.Series, valid_age1_from: str) -> dict[str, pd.Series]:
    """``<dose>_valid``, ``_valid_age1``, ``_age_days``, ``_valid_age_days`` (not yet masked), from each
    source's ``ages`` and valid doses (``results``: :func:`_valid_on_source`'s)."""
    (card_valid, card_at), (reg_valid, reg_at) = results["card"], results["register"]
    new: dict[str, pd.Series] = {}
    # in numpy, each dose's columns (a national survey's children, a pandas call per column and step)
    index, used = register_used.index, register_used.to_numpy(dtype=bool)
    for dose in schedule.doses:
        key = dose.key
        by_card = card_valid[key].to_numpy(dtype=bool)
        by_register = reg_valid[key].to_numpy(dtype=bool) & used
        valid = by_card | by_register
        valid_at = np.where(by_card, card_at[key].to_numpy(), np.where(by_register, reg_at[key].to_numpy(), np.nan))
        on_card, on_register = ages["card"][key].to_numpy(), ages["register"][key].to_numpy()
        recorded = np.where(np.isnan(on_card), np.where(used, on_register, np.nan), on_card)
        with np.errstate(invalid="ignore"):
            if valid_age1_from == "recorded_dose":
                # VCQI: valid_<d>_age1_<s> = got_valid_<d>_by_<s> & age_at_<d>_<s> <= 365, i.e. the age at
                # the *recorded* dose d, even when shift-left took the valid dose from a later one
                age1 = (by_card & (on_card <= AGE1_DAYS)) | (by_register & (on_register <= AGE1_DAYS))
            else:
                age1 = valid & (valid_at <= AGE1_DAYS)
        new[f"{key}_valid"] = pd.Series(valid.astype(float), index=index)
        new[f"{key}_valid_age1"] = pd.Series(age1.astype(float), index=index)
        new[f"{key}_age_days"] = pd.Series(recorded, index=index)
        new[f"{key}_valid_age_days"] = pd.Series(valid_at, index=index)
    return new


def _by_age(ages: dict[str, pd.DataFrame], key: str, days: int, register_used: pd.Series,
            records: str) -> pd.Series:
    """1 if the dated dose was given at age <= days, NaN without a clean date and DOB (VCQI RI_QUAL_13).

    Sources combine as VCQI RI_QUAL_04/13: card; with records sought for all, the register replaces
    the card value when the card has none or the register says "late"; if no card, the register.
    """
    card = (ages["card"][key] <= days).astype(float).where(ages["card"][key].notna())
    register = (ages["register"][key] <= days).astype(float).where(ages["register"][key].notna())
    if records == "all":
        return card.mask(card.isna() | (register == 0), register)
    if records == "if_no_card":
        return card.mask(register_used, register)
    return card


# --------------------------------------------------------------------------------------------------

def not_collected(children: pd.DataFrame, schedule: Schedule) -> list[str]:
    """The doses of the schedule the data hold no evidence column for (never asked in this survey)."""
    return [dose.key for dose in schedule.doses if not _collected(children, dose)]


def _collected(children: pd.DataFrame, dose: Dose) -> bool:
    """Whether the data hold any evidence column for this dose."""
    columns = [f"{dose.key}_{kind}" for kind in ("card_date", "card_tick", "recall", "register_date",
                                                   "register_tick")]
    if dose.key == "bcg":
        columns.append("bcg_scar")
    return any(column in children for column in columns)


def introduced_where(children: pd.DataFrame, schedule: Schedule,
                     introduced: Mapping[str, Mapping[str, Sequence]] | None) -> dict[str, pd.Series]:
    """Per dose given only in some areas, True for the children of those areas.

    ``introduced`` maps a dose key or a series name to ``{column: [values]}`` (the survey.toml
    ``[vaccination.introduced]`` table); values compare as text, so codes may be numbers or names.
    """
    out: dict[str, pd.Series] = {}
    for key, areas in (introduced or {}).items():
        doses = schedule.doses_of(key)
        if not doses:
            raise SettingError(f"vaccination.introduced.{key}", f"'{key}' is neither a dose nor a series of "
                               f"schedule '{schedule.name}'{did_you_mean(key, schedule.keys)}")
        ((column, values),) = areas.items()
        if column not in children:
            raise SettingError(f"vaccination.introduced.{key}", f"column '{column}' is not a column of the child "
                               f"table{did_you_mean(column, children.columns)}")
        text = per_value(children[column], lambda values: values.astype("string"))
        present = set(text.dropna().unique())  # each distinct text, not each child
        unknown = [str(value) for value in values if str(value) not in present]
        if unknown:
            # a misspelt area would silently take its children out of the dose's denominator
            raise SettingError(f"vaccination.introduced.{key}", f"{column} value(s) {', '.join(map(repr, unknown))} "
                               f"match no child of this survey; the data have "
                               f"{', '.join(map(repr, sorted(present))) or 'no value'} "
                               "(list only the areas of this survey where the dose was introduced)")
        where = text.isin([str(value) for value in values]).fillna(False).astype(bool)
        out.update(dict.fromkeys(doses, where))
    return out


def derive(children: pd.DataFrame, schedule: Schedule, *, records: str = "not_sought",
           later_dose_implies_earlier: bool = True,
           cohorts: dict[str, tuple[int, int]] | None = None,
           introduced: Mapping[str, Mapping[str, Sequence]] | None = None,
           valid_age1_from: str = "recorded_dose") -> pd.DataFrame:
    """Add crude and valid doses and child-level indicators to the canonical child table.

    Call :func:`clean_dates` first: validity trusts the dates it is given.

    Parameters
    ----------
    children : DataFrame
        Canonical child table with ``age_days`` and ``cohort`` (from ingest), cleaned by
        :func:`clean_dates` (which adds ``dob_for_valid_doses``; without it the DOB is chosen here by
        :func:`valid_dose_dob` with default bounds).
    records : {"not_sought", "if_no_card", "all"}, default="not_sought"
        VCQI protocol for health-facility registers (vcqi.md §2), for crude and valid doses.
    later_dose_implies_earlier : bool, default=True
        Evidence of dose k of a series implies doses 1..k-1 (VCQI clean-up); the implied doses have
        source ``implied`` (and ``implied_penta1`` = 1) so their effect on zero-dose can be counted.
    cohorts : dict, optional
        Cohort name -> (min, max) age in days; a dose whose minimum age is above its cohort's lower
        bound is NaN (not in the denominator) for children younger than that minimum age.
    introduced : dict, optional
        Doses given only in some areas (e.g. the malaria vaccine): dose key or series name ->
        ``{column: [values]}``; the dose is NaN (not in the denominator) for children elsewhere.
    valid_age1_from : {"recorded_dose", "valid_dose"}, default="recorded_dose"
        Age used for ``<dose>_valid_age1``: VCQI's code uses the age at the *recorded* dose d
        (RI_COVG_02_03DV); ``"valid_dose"`` uses the age at the dose that was counted as valid dose d
        after shift-left. They differ only when shift-left moved a dose across day 365 or the
        recorded dose has no date.

    Returns
    -------
    DataFrame
        The input columns plus, per dose: ``<dose>_crude`` (0/1; NaN when the child is younger than the
        dose's minimum age and that age is above the cohort's lower bound, as VCQI), ``<dose>_source``
        (one of ``SOURCE_CODES``), ``<dose>_<family>`` for the evidence-source families of
        ``SOURCE_FAMILIES`` (0/1, NaN where crude is NaN; see ``_by_source``), ``<dose>_valid`` (0/1,
        NaN where crude is NaN), ``<dose>_valid_age1``, ``<dose>_age_days`` (age at the dose's own clean
        card date, else register date when the register is used) and ``<dose>_valid_age_days`` (age at
        the dose counted as valid);
        ``dob_for_valid_doses``; ``zero_dose``, ``implied_penta1`` (named after the DTP series' first
        dose), ``ui_dtp1_not_dtp3``, ``no_dtp3``, ``card_ever``, ``card_seen``,
        ``card_seen_with_dates``, ``timely_penta3``, ``timely_mr1``; with a schedule
        ``fully_vaccinated`` list, ``fully_vaccinated_crude``/``_valid``/``_valid_age1``,
        ``fully_vaccinated_for_age``/``_for_age_valid`` and ``not_vaccinated_crude``/``_valid``/
        ``_valid_age1`` (see ``_fully_vaccinated``); ``dropout_<first>_<second>`` for each pair of
        :meth:`Schedule.dropout_pairs` (Mali: ``dropout_penta1_penta3``, ``dropout_penta1_mr1``,
        ``dropout_mr1_mr2``).

    Notes
    -----
    Crude = card date or card tick or recall (register per protocol; BCG scar), VCQI RI_COVG_01.
    Valid = VCQI RI_COVG_02: a clean card date (register per protocol: ``"all"`` card or register
    valid, ``"if_no_card"`` register only for children with no card date/tick) at or after the minimum
    age with shift-left in series (see ``_valid_on_source``); tick-only, recall-only, scar, register
    ticks and implied doses are never valid. A child with no evidence stays in the denominator.
    """
    if records not in RECORDS:
        raise ValueError(f"derive: records={records!r}; expected one of {RECORDS}")
    if valid_age1_from not in VALID_AGE1_FROM:
        raise ValueError(f"derive: valid_age1_from={valid_age1_from!r}; expected one of {VALID_AGE1_FROM}")
    out = children.copy(deep=False)  # the columns below are added, none written into
    cohorts = cohorts or {}
    offered = introduced_where(out, schedule, introduced)
    cohort_min = out["cohort"].astype(object).map({name: window[0] for name, window in cohorts.items()})
    has_card = pd.Series(False, index=out.index)
    evidence = {dose.key: _evidence(out, dose, records) for dose in schedule.doses}
    for frame in evidence.values():
        has_card |= frame["card_date"] | frame["card_tick"]
    register_used = _register_used(has_card, records)

    got: dict[str, pd.Series] = {}
    source: dict[str, np.ndarray] = {}  # per child, the position of its dose's source in _SOURCE_NAMES
    for dose in schedule.doses:
        frame = evidence[dose.key]
        register = frame["register"] & register_used
        ordered = [frame["card_date"], frame["card_tick"], register, frame["recall"], frame["scar"]]
        # the strongest source wins (the first true)
        which = np.select([mask.to_numpy(dtype=bool) for mask in ordered], range(len(ordered)), _NO_SOURCE)
        got[dose.key] = pd.Series(which != _NO_SOURCE, index=out.index)
        source[dose.key] = which

    if later_dose_implies_earlier:
        for series_name in {d.series for d in schedule.doses if d.series}:
            doses = [d for d in schedule.series(series_name) if (d.number or 0) >= 1]
            later = pd.Series(False, index=out.index)
            for dose in reversed(doses):
                implied = later & ~got[dose.key]
                source[dose.key] = np.where(implied.to_numpy(), _IMPLIED, source[dose.key])
                got[dose.key] = got[dose.key] | later
                later = later | got[dose.key]

    by_source = _by_source(evidence, schedule, records, later_dose_implies_earlier)

    if "dob_for_valid_doses" in out:
        dob = _dates(out, "dob_for_valid_doses")
    else:
        dob = valid_dose_dob(out)["dob"]
        out["dob_for_valid_doses"] = dob
    dated = _ages_and_valid(out, schedule, dob)
    ages = {source: made[0] for source, made in dated.items()}
    valid = _valid_doses(ages, {source: made[1] for source, made in dated.items()}, schedule, register_used,
                         valid_age1_from)
    del dated

    # in compact dtypes, column by column as they are made: a national survey's new columns weigh
    # gigabytes as float64 and text (and a concat would copy the whole child table to merge its blocks)
    new = {}
    del evidence
    for dose in schedule.doses:
        # VCQI: a dose whose minimum age exceeds the cohort's lower bound counts only for children
        # old enough for it
        out_of_denominator = (out["age_days"] < dose.min_age_days) & (cohort_min < dose.min_age_days)
        # a survey that collected no evidence at all for a dose (e.g. a BeSD-only survey) says
        # nothing about it: not "unvaccinated"
        out_of_denominator |= not _collected(out, dose)
        # a dose introduced only in some areas says nothing about children elsewhere
        if dose.key in offered:
            out_of_denominator |= ~offered[dose.key]
        new[f"{dose.key}_crude"] = compact_values(got.pop(dose.key).astype(float).mask(out_of_denominator))
        new[f"{dose.key}_source"] = text_of_codes(source.pop(dose.key), _SOURCE_NAMES, out.index)
        for family, got_by in by_source.pop(dose.key).items():
            new[f"{dose.key}_{family}"] = compact_values(got_by.astype(float).mask(out_of_denominator))
        for suffix in ("valid", "valid_age1", "valid_age_days"):
            new[f"{dose.key}_{suffix}"] = compact_values(valid.pop(f"{dose.key}_{suffix}").mask(out_of_denominator),
                                                         days=suffix == "valid_age_days")
        new[f"{dose.key}_age_days"] = compact_values(valid.pop(f"{dose.key}_age_days"), days=True)
    out = add_columns(out, ((name, new.pop(name)) for name in list(new)))
    with warnings.catch_warnings():
        # the table is many blocks (each categorical is one): the columns below are added without a
        # copy of it, which pandas' advice against a "highly fragmented" frame would make
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        _add_summaries(out, schedule, ages, register_used, records)
    return out


def _add_summaries(out: pd.DataFrame, schedule: Schedule, ages: dict, register_used: pd.Series,
                   records: str) -> None:
    """Zero-dose, under-immunized, cards, timeliness, full vaccination and dropout, added to ``out``."""
    dtp = [d.key for d in schedule.series(schedule.dtp_series) if (d.number or 0) >= 1]
    dtp1, dtp3 = out[f"{dtp[0]}_crude"], out[f"{dtp[-1]}_crude"]
    out["zero_dose"] = 1.0 - dtp1
    # Penta1 counted only because a later Penta dose was seen: the zero-dose children the
    # "later dose implies earlier" rule removed
    out[f"implied_{dtp[0]}"] = (out[f"{dtp[0]}_source"] == "implied").astype(float).where(dtp1.notna())
    out["ui_dtp1_not_dtp3"] = ((dtp1 == 1) & (dtp3 == 0)).astype(float).where(dtp1.notna() & dtp3.notna())
    out["no_dtp3"] = 1.0 - dtp3
    for column in ("card_ever", "card_seen"):
        out[column] = _column(out, column)
    # VCQI RI_QUAL_01 had_card_with_dates: >= 1 clean date on the card (dates imply the card was seen)
    card_dates = pd.concat([_dates(out, f"{k}_card_date").notna() for k in schedule.keys], axis=1)
    out["card_seen_with_dates"] = card_dates.any(axis=1).astype(float)

    out[f"timely_{dtp[-1]}"] = _by_age(ages, dtp[-1], TIMELY_PENTA3_DAYS, register_used, records).where(dtp3.notna())
    if "mr1" in schedule.keys:
        out["timely_mr1"] = _by_age(ages, "mr1", TIMELY_MR1_DAYS, register_used, records).where(
            out["mr1_crude"].notna())

    if schedule.fully_vaccinated:
        _fully_vaccinated(out, schedule)

    for first, second in schedule.dropout_pairs():
        out[f"dropout_{first}_{second}"] = _dropout(out, first, second)


def _fully_vaccinated(out: pd.DataFrame, schedule: Schedule) -> None:
    """Full vaccination (VCQI RI_COVG_03) and no vaccination (RI_COVG_04) over the schedule's
    ``fully_vaccinated`` list, each with crude, valid and valid-by-age-1 doses.

    ``fully_vaccinated_crude``/``_valid``/``_valid_age1``: every listed dose the child is in the
    denominator for (``<dose>_crude`` not NaN) is crude / valid / valid by age 1. For a cohort old
    enough for every listed dose (12-23 months) this is VCQI ``fully_vaccinated_crude``/``_valid``/
    ``_by_age1``; younger children are not required to have doses whose minimum age exceeds both their
    age and the cohort's lower bound (MR1 in 18w-11m before 270 days).
    ``fully_vaccinated_for_age``/``_for_age_valid``: VCQI ``fully_vxd_for_age_crude``/``_valid``: every
    listed dose with minimum age <= age at interview is crude / valid; NaN when the age is unknown or
    no listed dose is due yet.
    ``not_vaccinated_crude``/``_valid``/``_valid_age1``: VCQI RI_COVG_04: no listed dose is crude /
    valid / valid by age 1.
    """
    keys = list(schedule.fully_vaccinated)
    doses = {kind: _matrix(out, [f"{k}_{kind}" for k in keys]) for kind in ("crude", "valid", "valid_age1")}
    required = ~np.isnan(doses["crude"])
    any_required = required.any(axis=1)
    for kind, got in doses.items():
        out[f"fully_vaccinated_{kind}"] = np.where(any_required, ((got == 1) | ~required).all(axis=1), np.nan)
    age = pd.to_numeric(out["age_days"], errors="coerce").to_numpy(dtype=float)
    min_ages = np.array([schedule.dose(k).min_age_days for k in keys], dtype=float)
    with np.errstate(invalid="ignore"):
        due = age[:, None] >= min_ages[None, :]
    known = ~np.isnan(age) & due.any(axis=1)
    for kind, name in (("crude", "fully_vaccinated_for_age"), ("valid", "fully_vaccinated_for_age_valid")):
        out[name] = np.where(known, ((doses[kind] == 1) | ~due).all(axis=1), np.nan)
    for kind, got in doses.items():
        out[f"not_vaccinated_{kind}"] = np.where(any_required, ~(got == 1).any(axis=1), np.nan)


def _matrix(out: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The columns side by side, in their own precision when all are compact 0/1 indicators (float32): pandas
    makes a float64 matrix of float32 columns a block at a time, 14x slower at 10^6 children."""
    compact = all(out[column].dtype == np.float32 for column in columns)
    return out[columns].to_numpy(dtype=np.float32 if compact else float)


def _dropout(out: pd.DataFrame, first: str, second: str) -> pd.Series:
    """1 if dose `second` is missing among children with `first` who are old enough for `second`."""
    got_first, got_second = out[f"{first}_crude"], out[f"{second}_crude"]
    return (1.0 - got_second).where((got_first == 1) & got_second.notna())


def vaccination_status(table: pd.DataFrame) -> pd.Series:
    """Partition the children with Penta data into zero-dose, under-immunized and Penta3.

    Parameters
    ----------
    table : DataFrame
        Child-level table with the derived ``zero_dose`` and ``ui_dtp1_not_dtp3`` (0/1/NaN).

    Returns
    -------
    Series
        Named ``vaccination_status``, indexed like ``table``: ``"zero_dose"`` where zero_dose = 1;
        ``"under_immunized"`` where zero_dose = 0 and ui_dtp1_not_dtp3 = 1; ``"penta3"`` where
        both are 0; NaN otherwise (no Penta data).

    Notes
    -----
    besd.md §1.5 asks for BeSD drivers cross-tabulated against the child's status ZD / UI /
    DTP3. With crude doses, ``penta3`` equals ``penta3_crude = 1`` whenever Penta1 is implied by
    a later dose (the default, ``later_dose_implies_earlier``).

    Examples
    --------
    >>> t = pd.DataFrame({"zero_dose": [1, 0, 0, None], "ui_dtp1_not_dtp3": [0, 1, 0, None]})
    >>> vaccination_status(t).tolist()
    ['zero_dose', 'under_immunized', 'penta3', nan]
    """
    absent = [c for c in ("zero_dose", "ui_dtp1_not_dtp3") if c not in table]
    if absent:
        raise InputError(f"vaccination_status: column {', '.join(absent)} missing from the child table; "
                         "derive the vaccination indicators first (lqas.vaccination.derive)")
    zd = pd.to_numeric(table["zero_dose"], errors="coerce")
    ui = pd.to_numeric(table["ui_dtp1_not_dtp3"], errors="coerce")
    status = np.select([zd == 1, (zd == 0) & (ui == 1), (zd == 0) & (ui == 0)],
                       ["zero_dose", "under_immunized", "penta3"], default="")
    status = pd.Series(status, index=table.index, dtype=object)
    return status.where(status != "", np.nan).rename("vaccination_status")

"""Ingest (01PP/02DQ): export file + mapping profile -> canonical child table + exclusions log."""

from __future__ import annotations

import csv
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.errors import ConfigError, InputError
from lqas.resources import resource_dir

EXCLUSION_COLUMNS = ["source_row", "child_id", "reason", "detail"]
REPAIR_COLUMNS = ["source_row", "child_id", "column", "rule", "original", "new"]
MISSING_TOKENS = ["", "n/a", "N/A", "NA", "na", "NaN", "nan", "."]
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


@dataclass(frozen=True)
class IngestResult:
    """What ingest hands to the next stage; every input row is in `children` or `exclusions`."""

    children: pd.DataFrame
    exclusions: pd.DataFrame
    repairs: pd.DataFrame
    rows_read: int
    source: Path
    kept_columns: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- reading


def read_table(path: Path, *, sheet: str | int | None = None, encoding: str | None = None,
               delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX export as text cells (codes kept verbatim, empty cells as NaN)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: data file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
            frame = frame.map(_excel_cell_to_text)
        elif suffix in {".csv", ".txt", ".tsv"}:
            text = _decode(path, encoding)
            sep = delimiter or _sniff_delimiter(text)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}' (expected .csv or .xlsx)")
    except InputError:
        raise
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: cannot read file ({message})") from None
    if frame.empty:
        raise InputError(f"{path}: no data rows")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.mask(frame.isin(MISSING_TOKENS))


def _excel_cell_to_text(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(path: Path, encoding: str | None) -> str:
    raw = path.read_bytes()
    for candidate in ([encoding] if encoding else ["utf-8-sig", "cp1252", "latin-1"]):
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise InputError(f"{path}: unknown encoding '{candidate}'") from None
    raise InputError(f"{path}: cannot decode the file as {encoding}; declare the right encoding in survey.toml")


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# --------------------------------------------------------------------------- profiles


def load_profile(name_or_path: str | Path) -> dict:
    """A mapping profile by name (shipped in ``instruments/profiles``) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = resource_dir("instruments") / "profiles" / f"{name_or_path}.toml"
    if not candidate.is_file():
        raise ConfigError(f"mapping profile '{name_or_path}' not found (looked for {candidate})")
    try:
        return tomllib.loads(candidate.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{candidate}: not a valid TOML profile ({exc})") from None


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO, day/month/year and Excel-serial dates; return (dates, unparseable-but-filled mask)."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    todo = parsed.isna() & text.notna()
    if todo.any():
        parsed[todo] = pd.to_datetime(text[todo], format="%d/%m/%Y", errors="coerce")
    todo = parsed.isna() & text.notna()
    if todo.any():
        serial = pd.to_numeric(text[todo], errors="coerce")
        plausible = serial.between(1, 80000)
        parsed[todo] = EXCEL_EPOCH + pd.to_timedelta(serial.where(plausible), unit="D")
    return parsed, parsed.isna() & text.notna()


class _Mapper:
    """Applies one profile to one raw export, recording every repair."""

    def __init__(self, raw: pd.DataFrame, profile: dict, source: Path, doses: list[str]):
        self.raw, self.profile, self.source, self.doses = raw, profile, source, doses
        self.out = pd.DataFrame(index=raw.index)
        self.out["source_row"] = raw.index + 2  # spreadsheet row: header is row 1
        self.repairs: list[dict] = []
        self.child_ids = raw.get(profile["columns"].get("child_id", ""), pd.Series(np.nan, index=raw.index))

    def repair(self, mask: pd.Series, column: str, rule: str, original: pd.Series, new: object) -> None:
        for row in np.flatnonzero(mask.to_numpy()):
            index = mask.index[row]
            self.repairs.append({"source_row": int(self.out.at[index, "source_row"]),
                                 "child_id": self.child_ids.at[index], "column": column, "rule": rule,
                                 "original": original.at[index], "new": new})

    def recode(self, values: pd.Series, codes: dict, column: str) -> pd.Series:
        mapping = {str(key): (np.nan if value == "" else value) for key, value in codes.items()}
        text = values.astype("string").str.strip()
        result = text.map(mapping).astype(object)
        unknown = text.notna() & ~text.isin(list(mapping))
        if unknown.any():
            self.repair(unknown, column, "unknown_code_set_missing", values, "")
        return result.where(~unknown, np.nan)

    def map_columns(self) -> None:
        columns = self.profile.get("columns", {})
        required = self.profile.get("profile", {}).get("required", [])
        missing = [f"{name} (column '{columns.get(name, name)}')" for name in required
                   if columns.get(name, name) not in self.raw.columns]
        if missing:
            raise InputError(f"{self.source}: required column missing: {', '.join(missing)}")
        codes = self.profile.get("codes", {})
        personal = set(self.profile.get("profile", {}).get("personal", []))
        for canonical, source_column in columns.items():
            if source_column not in self.raw.columns or source_column in personal:
                continue
            values = self.raw[source_column]
            self.out[canonical] = self.recode(values, codes[canonical], canonical) if canonical in codes else values
        for source_column in self.profile.get("profile", {}).get("keep", []):
            if source_column in self.raw.columns:
                self.out[source_column] = self.raw[source_column]

    def map_renamed(self) -> None:
        rules = [(re.compile(rule["pattern"]), rule["replacement"]) for rule in self.profile.get("rename", [])]
        for source_column in self.raw.columns:
            for pattern, replacement in rules:
                if pattern.match(source_column):
                    self.out[pattern.sub(replacement, source_column)] = self.raw[source_column]
                    break

    def map_card(self) -> None:
        card = self.profile.get("card")
        if not card:
            return
        tick_codes = card.get("tick_codes", {"1": 1, "2": 0})
        for dose in self.doses:
            date_column, tick_column = card["date"].format(dose=dose), card["tick"].format(dose=dose)
            tick = (self.recode(self.raw[tick_column], tick_codes, f"{dose}_card_tick")
                    if tick_column in self.raw.columns else pd.Series(np.nan, index=self.raw.index))
            tick = pd.to_numeric(tick, errors="coerce")
            if date_column in self.raw.columns:
                dates, unparseable = parse_dates(self.raw[date_column])
                if unparseable.any():
                    # VCQI: a filled but unusable date is evidence of a dose without timing -> tick
                    self.repair(unparseable, f"{dose}_card_date", "unparseable_date_to_tick",
                                self.raw[date_column], "tick")
                    tick = tick.mask(unparseable, 1.0)
            else:
                dates = pd.Series(pd.NaT, index=self.raw.index)
            self.out[f"{dose}_card_date"] = dates
            self.out[f"{dose}_card_tick"] = tick

    def map_recall(self) -> None:
        recall = self.profile.get("recall")
        if not recall:
            return
        codes = recall.get("codes", {"1": 1, "2": 0})
        unknown_counts = set(recall.get("unknown_count", []))
        for antigen, spec in recall.get("antigens", {}).items():
            if spec["ever"] not in self.raw.columns:
                continue
            ever = pd.to_numeric(self.recode(self.raw[spec["ever"]], codes, f"recall_{antigen}"), errors="coerce")
            count = pd.Series(np.nan, index=self.raw.index)
            if "count" in spec and spec["count"] in self.raw.columns:
                count = pd.to_numeric(self.raw[spec["count"]], errors="coerce")
            # VCQI FVL: yes with an unknown or missing count means the first dose only
            count = count.where(~count.isin(unknown_counts) & count.notna(), 1.0)
            for number, dose in enumerate(spec["doses"], start=1):
                got = np.where(ever == 1, (count >= number).astype(float), ever)
                self.out[f"{dose}_recall"] = got

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        self.map_columns()
        self.map_renamed()
        self.map_card()
        self.map_recall()
        return self.out, pd.DataFrame(self.repairs, columns=REPAIR_COLUMNS)


# --------------------------------------------------------------------------- validation


def _exclude(frame: pd.DataFrame, mask: pd.Series, reason: str, detail: pd.Series | str) -> pd.DataFrame:
    rows = frame.loc[mask, ["source_row", "child_id"]].copy()
    rows["reason"] = reason
    rows["detail"] = detail[mask] if isinstance(detail, pd.Series) else detail
    return rows


def validate(children: pd.DataFrame, cohorts: dict[str, tuple[int, int]], source: Path
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the row-level rules; return (kept children, exclusions, repairs).

    Rules, in order (a row is excluded for the first rule it breaks):
    ``missing_child_id``, ``missing_design`` (no catchment or cluster), ``interview_date_invalid``,
    ``dob_invalid`` (missing or unparseable), ``dob_after_interview``, ``age_out_of_window``
    (age in days at interview outside every cohort), ``duplicate_child_id`` (a later submission of a
    child already kept; the first submission in file order is kept).
    """
    frame = children.copy()
    repairs: list[dict] = []
    excluded: list[pd.DataFrame] = []

    def drop(mask: pd.Series, reason: str, detail: pd.Series | str) -> None:
        nonlocal frame
        mask = mask.reindex(frame.index, fill_value=False)
        if mask.any():
            excluded.append(_exclude(frame, mask, reason, detail))
            frame = frame.loc[~mask]

    drop(frame["child_id"].isna(), "missing_child_id", "no child identifier")
    design_missing = frame["catchment"].isna() | frame["cluster"].isna()
    drop(design_missing, "missing_design", "catchment or cluster is empty")

    interview, bad_interview = parse_dates(frame["interview_date"])
    drop(interview.isna(), "interview_date_invalid",
         "interview date: " + frame["interview_date"].astype("string").fillna("<empty>"))
    frame["interview_date"] = interview.reindex(frame.index)

    dob, _ = parse_dates(frame["dob"])
    drop(dob.isna(), "dob_invalid", "date of birth: " + frame["dob"].astype("string").fillna("<empty>"))
    frame["dob"] = dob.reindex(frame.index)
    age = (frame["interview_date"] - frame["dob"]).dt.days
    drop(age < 0, "dob_after_interview", "age " + age.astype("string") + " days")
    age = age.reindex(frame.index)

    cohort = pd.Series(pd.NA, index=frame.index, dtype="object")
    for name, (low, high) in cohorts.items():
        cohort = cohort.mask(cohort.isna() & age.between(low, high), name)
    windows = ", ".join(f"{name} {low}-{high}" for name, (low, high) in cohorts.items())
    drop(cohort.isna(), "age_out_of_window", "age " + age.astype("string") + f" days; cohorts: {windows}")
    frame["age_days"] = age.reindex(frame.index).astype(int)
    frame["cohort"] = cohort.reindex(frame.index)

    duplicated = frame["child_id"].duplicated(keep="first")
    first_row = frame.drop_duplicates("child_id").set_index("child_id")["source_row"]
    drop(duplicated, "duplicate_child_id",
         "same child_id as row " + frame["child_id"].map(first_row).astype("string"))

    if "sex" in frame:
        unknown_sex = frame["sex"].isna()
        for index in frame.index[unknown_sex]:
            repairs.append({"source_row": int(frame.at[index, "source_row"]), "child_id": frame.at[index, "child_id"],
                            "column": "sex", "rule": "missing_sex_set_unknown", "original": "", "new": "unknown"})
        frame["sex"] = frame["sex"].fillna("unknown")
    for column in ("catchment", "cluster", "district"):
        if column in frame:
            frame[column] = frame[column].astype(str)

    exclusions = (pd.concat(excluded, ignore_index=True) if excluded
                  else pd.DataFrame(columns=EXCLUSION_COLUMNS))
    return frame.reset_index(drop=True), exclusions[EXCLUSION_COLUMNS], pd.DataFrame(repairs, columns=REPAIR_COLUMNS)


def ingest(path: str | Path, profile: str | dict, *, cohorts: dict[str, tuple[int, int]],
           doses: list[str], sheet: str | int | None = None, encoding: str | None = None,
           delimiter: str | None = None) -> IngestResult:
    """Read an export, map it with a profile, validate rows; nothing is lost silently.

    Returns
    -------
    IngestResult
        ``children``: canonical child table (DESIGN.md §4) plus ``source_row``, ``age_days``,
        ``cohort``; ``exclusions``: one row per excluded input row (``source_row``, ``child_id``,
        ``reason``, ``detail``); ``repairs``: one row per repaired field. ``rows_read`` equals
        ``len(children) + len(exclusions)``.
    """
    path = Path(path)
    profile = load_profile(profile) if isinstance(profile, (str, Path)) else profile
    raw = read_table(path, sheet=sheet, encoding=encoding, delimiter=delimiter)
    mapped, repairs = _Mapper(raw, profile, path, doses).result()
    children, exclusions, validation_repairs = validate(mapped, cohorts, path)
    repairs = pd.concat([frame for frame in (repairs, validation_repairs) if not frame.empty]
                        or [repairs], ignore_index=True)
    if len(children) + len(exclusions) != len(raw):  # an internal invariant, not a user error
        raise RuntimeError(f"{path}: rows do not reconcile ({len(raw)} read)")
    return IngestResult(children, exclusions, repairs, len(raw), path, tuple(profile.get("profile", {}).get("keep", [])))

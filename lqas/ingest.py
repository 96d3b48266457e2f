"""Ingest (01PP/02DQ): export file(s) + mapping profile -> canonical child table + exclusions log."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.config._validation import did_you_mean, read_toml
from lqas.config.profile import validate_profile
from lqas.dob import vcqi_dob
from lqas.dtypes import add_columns, compact_values, first_rows, text_codes, text_dtype
from lqas.errors import ConfigError, InputError, SettingError
from lqas.exports import read_export
from lqas.form import Form, Question, infer_codes, read_form
from lqas.privacy import looks_personal
from lqas.readers import (
    MISSING_TOKENS,
    Source,
    dates_from_parts,
    key_text,
    parse_dates,
    per_value,
    read_source,
    read_table,
)
from lqas.resources import resource_dir

__all__ = [
    "EXCLUSION_COLUMNS",
    "MISSING_TOKENS",
    "REPAIR_COLUMNS",
    "IngestResult",
    "ingest",
    "load_profile",
    "parse_dates",
    "read_source",
    "read_table",
    "validate",
]

EXCLUSION_COLUMNS = ["source_row", "child_id", "catchment", "reason", "detail"]
# carried with an exclusion when the export has them (Derived.exclusions; exclusions.csv keeps EXCLUSION_COLUMNS)
FIELDWORK_COLUMNS = ("cluster", "interview_date", "interviewer", "team")
REPAIR_COLUMNS = ["source_row", "child_id", "column", "rule", "original", "new"]
# helper columns the mapper hands to `validate`: "_exclude:<stage>:<reason>" holds a detail text for
# rows to exclude at that stage ("eligibility": first; "merge": after the design checks)
_EXCLUDE = "_exclude"


@dataclass(frozen=True)
class IngestResult:
    """What ingest hands to the next stage; every input row is in `children` or `exclusions`.

    ``merges`` reports each merged file: ``{name: {"file", "rows", "children_matched",
    "children_unmatched", "records_unmatched"}}``; ``records_unmatched`` counts records of the merged
    file (e.g. register entries) that match no child — counted, never excluded, since they are not
    children of the sample. ``empty_clusters`` counts, per catchment, the sampled clusters of the
    cluster metadata without any child; the design counts them as PSUs with zero totals, as VCQI does.
    """

    children: pd.DataFrame
    exclusions: pd.DataFrame
    repairs: pd.DataFrame
    rows_read: int
    source: Path
    kept_columns: tuple[str, ...] = field(default=())
    merges: dict[str, dict] = field(default_factory=dict)
    empty_clusters: dict[str, int] = field(default_factory=dict)
    # columns of the export that look personal (lqas.privacy) but the profile neither declares nor
    # reads: withheld from every output, and listed by `lqas validate`
    looks_personal: dict[str, str] = field(default_factory=dict)
    # how the export was read through its form ([data] form): `lqas.form.Decoded.summary`
    decoding: dict | None = None
    # profile columns ([columns], one spec) naming export columns the export lacks: left empty, said
    unread: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- profiles


def load_profile(name_or_path: str | Path) -> dict:
    """A mapping profile by name (shipped in ``instruments/profiles``) or by path, validated.

    Raises
    ------
    ConfigError
        The profile is missing, not TOML, or has problems (all listed, one line each: unknown
        sections or keys with a suggestion, names that are not canonical columns, ...).
    """
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = resource_dir("instruments") / "profiles" / f"{name_or_path}.toml"
    if not candidate.is_file():
        shipped = sorted(p.stem for p in (resource_dir("instruments") / "profiles").glob("*.toml"))
        raise SettingError("data.profile", f"mapping profile '{name_or_path}' not found (looked for {candidate}); "
                           f"shipped: {', '.join(shipped)}{did_you_mean(str(name_or_path), shipped)}")
    raw = read_toml(candidate, "profile")
    validate_profile(raw, candidate)
    return raw  # the mapper reads the plain dict; the model only vouches for it


def _spec_columns(spec: object) -> list[str]:
    """Source columns one (non-list) column spec reads."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, Mapping):
        if "column" in spec:
            return [spec["column"]]
        if "join" in spec:
            return list(spec["join"])
        if {"d", "m", "y"} <= set(spec):
            return [spec["d"], spec["m"], spec["y"]]
        if "value" in spec:
            return []
    raise ConfigError(f"mapping profile: cannot read column spec {spec!r}; use a column name, "
                      "{ join = [...] }, { d = ..., m = ..., y = ... } or { value = ... }")


def _choose(spec: object, columns: pd.Index) -> object | None:
    """The first alternative of a spec whose source columns all exist (a list means alternatives)."""
    for alternative in (spec if isinstance(spec, list) else [spec]):
        if all(column in columns for column in _spec_columns(alternative)):
            return alternative
    return None


# --------------------------------------------------------------------------- merging


def _merge(main: Source, profile: dict, merges: Mapping[str, object]) -> tuple[pd.DataFrame, dict, dict]:
    """Left-join each declared dataset onto the main export by its keys; keep every main row.

    Returns the merged frame (index and order of the main export), the combined value labels and a
    report per merge. A main row without a match gets, when the profile says ``unmatched = "exclude"``,
    a helper column ``_exclude:merge:<reason>`` holding the detail that `validate` writes to the log.
    """
    # not a deep copy: columns are added to the frame, never written into
    frame, labels, report = main.frame.copy(deep=False), dict(main.labels), {}
    declared = profile.get("merge", {})
    for name, given in merges.items():
        given = {"file": given} if isinstance(given, (str, Path)) else dict(given)
        spec = {**declared.get(name, {}), **{k: v for k, v in given.items() if v is not None}}
        if not spec.get("keys"):
            raise ConfigError(f"data.merge.{name}: the mapping profile declares no merge '{name}' "
                              f"(declared: {', '.join(declared) or 'none'}); give keys = {{ main_column = "
                              f"\"{name}_column\" }}")
        other = read_source(spec["file"], sheet=spec.get("sheet"), encoding=spec.get("encoding"),
                            delimiter=spec.get("delimiter"))
        keys: dict[str, str] = dict(spec["keys"])
        for source, columns in ((main, list(keys)), (other, list(keys.values()))):
            missing = [column for column in columns if column not in source.frame.columns]
            if missing:
                raise InputError(f"{source.path}: merge '{name}' key column missing: {', '.join(missing)}")
        left = _key_frame(frame, list(keys))
        right_frame = other.frame
        right = _key_frame(right_frame, list(keys.values()))
        duplicated = right.duplicated(keep=False) & right.notna()
        if duplicated.any():
            rows = (np.flatnonzero(duplicated.to_numpy())[:2] + other.row_offset).tolist()
            raise InputError(f"{other.path}: rows {rows[0]} and {rows[1]} have the same merge key "
                             f"({_describe(right_frame.iloc[rows[0] - other.row_offset], keys.values())}); "
                             f"each '{name}' record must be unique")
        incoming = [column for column in right_frame.columns if column not in keys.values()]
        renamed = {column: (f"{column}_{name}" if column in frame.columns else column) for column in incoming}
        table = right_frame.loc[right.notna(), incoming].rename(columns=renamed)
        table.index = right[right.notna()]
        matched = left.isin(table.index) & left.notna()
        added = table.reindex(left.where(matched).to_numpy())
        added.index = frame.index
        frame = pd.concat([frame, added], axis=1)
        labels.update({renamed[column]: mapping for column, mapping in other.labels.items() if column in renamed})
        if spec.get("unmatched", "keep") == "exclude":
            reason = spec.get("reason", f"no_{name}_record")
            detail = (f"no record in {other.path.name} for "
                      + frame[list(keys)].apply(lambda row, keys=keys: _describe(row, keys), axis=1))
            frame[f"{_EXCLUDE}:merge:{reason}"] = detail.where(~matched, np.nan)
        elif spec.get("unmatched", "keep") != "keep":
            raise ConfigError(f"merge '{name}': unmatched must be 'keep' or 'exclude', got {spec['unmatched']!r}")
        unmatched = ~right.isin(left.dropna()) & right.notna()
        report[name] = {"file": str(other.path), "rows": len(right_frame),
                        "children_matched": int(matched.sum()), "children_unmatched": int((~matched).sum()),
                        "records_unmatched": int(unmatched.sum() + right.isna().sum())}
        if spec.get("empty_clusters"):
            # the file lists every sampled cluster: keep their keys, named as in the main export
            report[name]["sampled_keys"] = right_frame.loc[right.notna(), list(keys.values())].rename(
                columns={merged: main_column for main_column, merged in keys.items()})
    return frame, labels, report


def _key_frame(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One text key per row (NaN when any key part is missing), numbers compared as numbers."""
    parts = [key_text(frame[column]).astype("string") for column in columns]
    joined = parts[0].str.cat(parts[1:], sep="\x1f") if len(parts) > 1 else parts[0]
    return joined.astype(object).where(joined.notna(), np.nan)


def _describe(row: pd.Series, columns) -> str:
    return ", ".join(f"{column}={row[column]}" for column in columns)


# --------------------------------------------------------------------------- mapping


class _Mapper:
    """Applies one profile to one (merged) raw export, recording every repair."""

    def __init__(self, raw: pd.DataFrame, profile: dict, source: Path, doses: list[str],
                 labels: dict[str, dict[str, str]] | None = None, row_offset: int = 2,
                 withheld: frozenset[str] = frozenset()):
        self.raw, self.profile, self.source, self.doses = raw, profile, source, doses
        self.withheld = withheld  # looks personal: no rename rule copies it
        self.labels = labels or {}
        self.out: dict[str, pd.Series] = {"source_row": pd.Series(raw.index + row_offset, index=raw.index)}
        self.repairs: list[dict] = []
        self.child_ids = pd.Series(np.nan, index=raw.index)
        # canonical name -> the export columns it names that the export lacks (left empty, and said)
        self.unread: dict[str, str] = {}

    def repair(self, mask: pd.Series, column: str, rule: str, original: pd.Series, new: object) -> None:
        for row in np.flatnonzero(mask.to_numpy()):
            index = mask.index[row]
            self.repairs.append({"source_row": int(self.out["source_row"].at[index]),
                                 "child_id": self.child_ids.at[index], "column": column, "rule": rule,
                                 "original": original.at[index], "new": new})

    def recode(self, values: pd.Series, codes: dict, column: str, source_column: str | None = None, *,
               numeric: bool = False) -> pd.Series:
        """Map codes through ``codes``; a value not listed is looked up by its value label. With
        ``numeric``, the codes' values as numbers (``pd.to_numeric``, made once per distinct answer)."""
        mapping = {str(key): (np.nan if value == "" else value) for key, value in codes.items()}
        label_of = self.labels.get(source_column or "", {})

        def code(values: pd.Series) -> tuple[pd.Series, pd.Series]:
            text = key_text(values).astype("string")  # "1.0" from a CSV of floats is code "1"
            known = text.isin(list(mapping))
            if label_of:
                text = text.where(known, text.map(label_of).astype("string").str.strip().fillna(text))
                known = text.isin(list(mapping))
            coded = text.map(mapping).astype(object)
            return pd.to_numeric(coded, errors="coerce") if numeric else coded, text.notna() & ~known

        result, unknown = per_value(values, code)
        if unknown.any():
            self.repair(unknown, column, "unknown_code_set_missing", values, "")
        return result.where(~unknown, np.nan)

    def resolve(self, spec: object, canonical: str) -> tuple[pd.Series | None, str | None]:
        """Values of a column spec (and its single source column, if any); None when absent."""
        spec = _choose(spec, self.raw.columns)
        if spec is None:
            return None, None
        if isinstance(spec, str) or "column" in spec:
            column = spec if isinstance(spec, str) else spec["column"]
            return self.raw[column], column
        if "join" in spec:
            parts = [key_text(self.raw[column]).astype("string") for column in spec["join"]]
            joined = parts[0].str.cat(parts[1:], sep=spec.get("sep", "_")) if len(parts) > 1 else parts[0]
            return joined.astype(object).where(joined.notna(), np.nan), None
        if "value" in spec:
            return pd.Series(spec["value"], index=self.raw.index, dtype=object), None
        dates = dates_from_parts(self.raw[spec["d"]], self.raw[spec["m"]], self.raw[spec["y"]])
        return dates.dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.dates.notna(), dates.text), None

    def map_columns(self) -> None:
        info = self.profile.get("profile", {})
        columns = self.profile.get("columns", {})
        missing = [f"{name} (column {' or '.join(repr(c) for c in self._named(columns.get(name, name)))})"
                   for name in info.get("required", [])
                   if _choose(columns.get(name, name), self.raw.columns) is None]
        if missing:
            hint = f"; {info['hint_if_missing']}" if info.get("hint_if_missing") else ""
            raise InputError(f"{self.source}: required column missing: {', '.join(missing)}{hint}")
        codes = self.profile.get("codes", {})
        use_labels = set(info.get("value_labels", []))
        order = sorted(columns, key=lambda name: name != "child_id")  # ids first, so repairs name the child
        for canonical in order:
            spec = _choose(columns[canonical], self.raw.columns)
            if spec is None:
                if not isinstance(columns[canonical], list):  # alternatives are there for exports that lack some
                    wanted = _spec_columns(columns[canonical])
                    absent = [c for c in wanted if c not in self.raw.columns]
                    self.unread[canonical] = ", ".join(f"'{c}'{did_you_mean(c, self.raw.columns)}" for c in absent)
                continue
            values, source_column = self.resolve(spec, canonical)
            if canonical in codes:
                values = self.recode(values, codes[canonical], canonical, source_column)
            elif canonical in use_labels and source_column in self.labels:
                labels = self.labels[source_column]
                values = values.map(lambda v, labels=labels: labels.get(v, v) if isinstance(v, str) else v)
            self.out[canonical] = values
            if canonical == "child_id":
                self.child_ids = values
        for source_column in info.get("keep", []):
            if source_column in self.raw.columns:
                self.out[source_column] = self.raw[source_column]

    @staticmethod
    def _named(spec: object) -> list[str]:
        alternatives = spec if isinstance(spec, list) else [spec]
        return ["+".join(_spec_columns(alternative)) for alternative in alternatives]

    def map_eligibility(self) -> None:
        """``[[eligibility]]`` rules: rows whose answer is not in ``keep`` are excluded first (after the
        reader's own verdicts, such as a row cut short, which come first)."""
        for column in self.raw.columns:
            if column.startswith(f"{_EXCLUDE}:"):
                self.out[column] = self.raw[column]
        for rule in self.profile.get("eligibility", []):
            column, keep = rule["column"], {str(value) for value in rule["keep"]}
            if column not in self.raw.columns:
                raise InputError(f"{self.source}: eligibility column missing: {column}")
            text = key_text(self.raw[column])
            label = text.map(self.labels.get(column, {}))
            eligible = text.isin(keep) | label.isin(keep)
            detail = f"{column} = " + text.astype("string").fillna("<empty>") + f"; eligible: {', '.join(sorted(keep))}"
            self.out[f"{_EXCLUDE}:eligibility:{rule['reason']}"] = detail.astype(object).where(~eligible, np.nan)

    def map_renamed(self) -> None:
        rules = [(re.compile(rule["pattern"]), rule["replacement"]) for rule in self.profile.get("rename", [])]
        for source_column in self.raw.columns:
            if source_column in self.withheld:
                continue
            for pattern, replacement in rules:
                if pattern.match(source_column):
                    self.out[pattern.sub(replacement, source_column)] = self.raw[source_column]
                    break

    def map_evidence(self, section: str, kind: str) -> None:
        """Per-dose dated/ticked evidence: ``[card]`` -> ``<dose>_card_*``, ``[register]`` -> ``<dose>_register_*``.

        A date that is filled but unusable (unparseable text; VCQI parts that are partial or make no
        calendar date) is evidence of the dose without its timing: it becomes a tick (VCQI: card =
        any date part or tick == 1), recorded in repairs.
        """
        spec = self.profile.get(section)
        if not spec:
            return
        tick_codes = spec.get("tick_codes", {"1": 1, "2": 0})
        unknown = sorted({*spec.get("dates", {}), *spec.get("ticks", {})} - set(self.doses))
        if unknown:
            raise ConfigError(f"mapping profile: [{section}] dates/ticks name doses the schedule does not have: "
                              f"{', '.join(unknown)}{did_you_mean(unknown[0], self.doses)} "
                              f"(schedule doses: {', '.join(self.doses)})")
        for dose in self.doses:
            tick_column = spec.get("ticks", {}).get(dose) or spec.get("tick", "").format(dose=dose)
            parts = {part: column.format(dose=dose) for part, column in spec.get("date_parts", {}).items()}
            date_column = spec.get("dates", {}).get(dose) or spec.get("date", "").format(dose=dose)
            present = [c for c in [tick_column, date_column, *parts.values()] if c and c in self.raw.columns]
            if not present and spec.get("optional", True):
                continue
            tick = (self.recode(self.raw[tick_column], tick_codes, f"{dose}_{kind}_tick", tick_column, numeric=True)
                    if tick_column in self.raw.columns else pd.Series(np.nan, index=self.raw.index))
            dates = pd.Series(pd.NaT, index=self.raw.index, dtype="datetime64[ns]")
            if parts and all(column in self.raw.columns for column in parts.values()):
                assembled = dates_from_parts(self.raw[parts["d"]], self.raw[parts["m"]], self.raw[parts["y"]])
                dates = assembled.dates
                for mask, rule in ((assembled.partial, "partial_date_to_tick"),
                                   (assembled.impossible, "impossible_date_to_tick")):
                    if mask.any():
                        self.repair(mask, f"{dose}_{kind}_date", rule, assembled.text, "tick")
                        tick = tick.mask(mask, 1.0)
            elif date_column in self.raw.columns:
                dates, unparseable = parse_dates(self.raw[date_column])
                if unparseable.any():
                    self.repair(unparseable, f"{dose}_{kind}_date", "unparseable_date_to_tick",
                                self.raw[date_column], "tick")
                    tick = tick.mask(unparseable, 1.0)
            self.out[f"{dose}_{kind}_date"] = dates
            self.out[f"{dose}_{kind}_tick"] = tick

    def map_recall(self) -> None:
        recall = self.profile.get("recall")
        if not recall:
            return
        codes = recall.get("codes", {"1": 1, "2": 0})
        # each child's recall answers and "don't know" among them, for the fieldwork checks (a code of its own
        # in the form, but `codes` may count it as "no")
        dont_know = {str(code).strip() for code in recall.get("dont_know") or ()}
        answers = np.zeros(len(self.raw))
        unknown = np.zeros(len(self.raw))

        def answered(values: pd.Series) -> tuple[pd.Series, pd.Series]:
            text = values.astype("string").str.strip()
            given = (text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)
            return (pd.Series(given, index=values.index),
                    pd.Series(given & text.isin(dont_know).to_numpy(dtype=bool, na_value=False), index=values.index))

        def tally(column: str) -> None:
            given, not_known = per_value(self.raw[column], answered)  # each distinct answer once
            answers[:] += given.to_numpy(dtype=bool)
            unknown[:] += not_known.to_numpy(dtype=bool)

        if "dose" in recall:  # one recall column per dose (VCQI `<dose>_history`)
            for dose in self.doses:
                column = recall["dose"].format(dose=dose)
                if column in self.raw.columns:
                    self.out[f"{dose}_recall"] = self.recode(self.raw[column], codes, f"{dose}_recall", column,
                                                             numeric=True)
                    if dont_know:
                        tally(column)
        unknown_counts = set(recall.get("unknown_count", []))
        for antigen, spec in recall.get("antigens", {}).items():
            if spec["ever"] not in self.raw.columns:
                continue
            ever = self.recode(self.raw[spec["ever"]], codes, f"recall_{antigen}", spec["ever"], numeric=True)
            if dont_know:
                tally(spec["ever"])
            count = pd.Series(np.nan, index=self.raw.index)
            if "count" in spec and spec["count"] in self.raw.columns:
                # each distinct answer made a number once (a national export's column is a million cells)
                count = per_value(self.raw[spec["count"]], lambda values: pd.to_numeric(values, errors="coerce"))
            # VCQI FVL: yes with an unknown or missing count means the first dose only
            count = count.where(~count.isin(unknown_counts) & count.notna(), 1.0)
            for number, dose in enumerate(spec["doses"], start=1):
                got = np.where(ever == 1, (count >= number).astype(float), ever)
                self.out[f"{dose}_recall"] = pd.Series(got, index=self.raw.index)
        if dont_know:
            self.out["recall_answers"] = pd.Series(answers, index=self.raw.index)
            self.out["recall_dont_know"] = pd.Series(unknown, index=self.raw.index)

    def map_dob(self) -> None:
        """``[dob]``: several dated sources -> ``dob_<source>`` and one ``dob`` (VCQI rule by default).

        ``rule = "vcqi"`` (VCQI ``dob_for_valid_dose_calculations``): if the filled parts of all
        sources agree on one day, one month and one year (possibly from different sources) and make a
        real date, use it; otherwise use the earliest plausible complete DOB among the sources.
        ``rule = "first"``: the first plausible source in the order listed. A source date after the
        interview date is implausible and dropped (recorded in repairs).
        """
        spec = self.profile.get("dob")
        if not spec:
            return
        interview = (parse_dates(self.out["interview_date"])[0] if "interview_date" in self.out
                     else pd.Series(pd.NaT, index=self.raw.index))
        candidates, parts = {}, []
        for name, source in spec["sources"].items():
            chosen = _choose(source, self.raw.columns)
            if chosen is None:
                continue
            if isinstance(chosen, Mapping) and {"d", "m", "y"} <= set(chosen):
                assembled = dates_from_parts(*(self.raw[chosen[p]] for p in "dmy"))
                dates, text = assembled.dates, assembled.text
                numbers = pd.DataFrame({p: pd.to_numeric(self.raw[chosen[p]], errors="coerce") for p in "dmy"})
                parts.append(numbers)
                for p in "dmy":  # the parts too: the vaccination stage re-applies the VCQI rule
                    self.out[f"dob_{name}_{p}"] = numbers[p]
            else:
                values, _ = self.resolve(chosen, f"dob_{name}")
                dates, text = parse_dates(values)[0], values
            late = dates > interview
            if late.any():
                self.repair(late, f"dob_{name}", "dob_after_interview_dropped", text, "")
            candidates[name] = dates.mask(late)
            self.out[f"dob_{name}"] = candidates[name]
        if not candidates:
            return
        if spec.get("rule", "vcqi") == "first":
            dob = pd.DataFrame(candidates).bfill(axis=1).iloc[:, 0]
        else:
            dob, _ = vcqi_dob(parts, list(candidates.values()), latest=interview)
        self.out["dob"] = dob

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        self.map_columns()
        self.map_eligibility()
        self.map_renamed()
        self.map_evidence("card", "card")
        self.map_evidence("register", "register")
        self.map_recall()
        self.map_dob()
        return self.frame(), pd.DataFrame(self.repairs, columns=REPAIR_COLUMNS)

    def frame(self) -> pd.DataFrame:
        """The mapped columns as a frame, emptying ``out``: each column in its compact dtype
        (:func:`lqas.dtypes.compact_values`) but those `validate` reads, and copied into the frame
        one at a time (``pd.DataFrame(out)`` would hold every column twice, a national survey's
        mapped export weighing gigabytes)."""
        def columns():
            for name in list(self.out):
                values = self.out.pop(name)
                yield name, (values if name in _VALIDATED or name.startswith(f"{_EXCLUDE}:")
                             else compact_values(values))

        return add_columns(pd.DataFrame(index=self.raw.index), columns())


# --------------------------------------------------------------------------- validation


def _exclude(frame: pd.DataFrame, mask: pd.Series, reason: str, detail: pd.Series | str) -> pd.DataFrame:
    rows = frame.loc[mask, ["source_row", "child_id"]].copy()
    # the catchment says which lot lost the child (a lot may lose every child and must still be reported)
    rows["catchment"] = key_text(frame.loc[mask, "catchment"]) if "catchment" in frame else np.nan
    rows["reason"] = reason
    rows["detail"] = detail.reindex(mask.index)[mask] if isinstance(detail, pd.Series) else detail
    # where and by whom the record was made: the fieldwork checks count exclusions by day and interviewer
    for column in FIELDWORK_COLUMNS:
        if column in frame:
            rows[column] = frame.loc[mask, column].astype(object)
    return rows


def _row_hash(frame: pd.DataFrame, columns: list[str], wide: pd.DataFrame | None = None) -> pd.Series:
    """One number per row for the values of ``columns`` as text (empty cells equal each other): rows
    writing the same text in every column get the same number. A column ``frame`` lacks is read
    from ``wide`` (the whole table ``frame``'s rows come from).

    Only which rows share a number means anything. The columns' hashes are combined one column at a
    time as :func:`pandas.util.hash_pandas_object` combines a frame's: a frame of every answer's codes
    would weigh 8 bytes a cell (2 GB for a national survey).
    """
    rows = None

    def codes(column: str) -> np.ndarray:
        nonlocal rows
        if column in frame:
            return _text_codes(frame[column])
        if rows is None:
            rows = wide.index.get_indexer(frame.index)
        return _text_codes(wide[column])[rows]  # codes are per value: those of other rows do no harm

    combined = np.full(len(frame), 0x345678, dtype=np.uint64)
    factor = np.uint64(1000003)
    with np.errstate(over="ignore"):
        for position, column in enumerate(columns):
            combined ^= _hashed(codes(column))
            combined *= factor
            factor += np.uint64(82520 + 2 * (len(columns) - position))
        combined += np.uint64(97531)
    return pd.Series(combined, index=frame.index)


def _hashed(codes: np.ndarray) -> np.ndarray:
    """``pd.util.hash_array(codes)``, each number hashed once when they span a small range (the codes
    of a column's answers): a national survey's row hashes read a million codes of each answer column."""
    if len(codes) >= 4_096:
        low, high = int(codes.min()), int(codes.max())
        if high - low < len(codes) // 16:
            # a categorical's narrow codes index the table as they are (from -1: the shift fits their width)
            return pd.util.hash_array(np.arange(low, high + 1, dtype=np.int64))[codes - low]
    return pd.util.hash_array(codes.astype(np.int64, copy=False))  # hashed as 64-bit numbers, whatever their width


_NAN_BITS = np.array([np.nan]).view(np.int64)[0]


def _text_codes(values: pd.Series) -> np.ndarray:
    """One integer per cell, equal where the cells' text is (``astype("string")``, a missing cell as
    ``"\x00"``), without writing each cell as text: the duplicate check reads every answer column
    of every child."""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else None
    if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(
            values.cat.categories, skipna=True) in ("string", "empty"):
        # categories are distinct texts: their codes are the numbers (the text "\x00" as a missing cell), in
        # pandas' width (:func:`_hashed` reads them as 64-bit numbers)
        codes = values.cat.codes.to_numpy()
        if "\x00" in values.cat.categories:
            codes = np.where(codes < 0, values.cat.categories.get_loc("\x00"), codes)
        return codes
    if kind == "f":
        # the bits, not the numbers: 0.0 and -0.0 are equal numbers but not equal text
        numbers = values.to_numpy(dtype=np.float64)
        return np.where(np.isnan(numbers), _NAN_BITS, numbers.view(np.int64))
    if kind in ("i", "u", "b", "M", "m"):
        # equal numbers, dates or durations are equal bits (NaT one of them): no need to number them
        numbers = values.to_numpy()
        return numbers.view(np.int64) if numbers.dtype.itemsize == 8 else numbers.astype(np.int64)
    if not (kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")):
        values = values.astype("string").fillna("\x00")  # mixed types: 1 and 1.0 are one value to a hash
    codes, unique = pd.factorize(values, use_na_sentinel=True)
    if kind == "O" and (codes < 0).any() and "\x00" in unique:  # the text "\x00" reads as a missing cell
        codes = np.where(codes < 0, unique.get_loc("\x00"), codes)
    return codes


def _id_codes(ids: pd.Series) -> tuple[np.ndarray, int]:
    """Each id's number (equal ids alike, as ``Series.duplicated`` tells them; a missing id one number of its
    own) and how many numbers: text by Arrow's dictionary, anything else (numbers from a Stata file,
    mixed objects) by pandas."""
    coded = text_codes(ids) if text_dtype(ids.dtype) and pd.api.types.infer_dtype(ids, skipna=True) == "string" else None
    if coded is None:
        codes, distinct = pd.factorize(ids, use_na_sentinel=False)
        return codes, len(distinct)
    codes, distinct = coded
    missing = codes < 0
    if missing.any():
        return np.where(missing, len(distinct), codes), len(distinct) + 1
    return codes, len(distinct)


def _same_key(ranked: pd.DataFrame, key: list[str], answers: list[str], source: Path,
              wide: pd.DataFrame | None = None) -> pd.Series:
    """Rows sharing ``key`` with a row ranked before them; refused when rows sharing a key differ in
    their answers (the key does not identify one child, and dropping would lose children)."""
    complete = ranked[key].notna().all(axis=1)
    # the text's own hash for the few key columns: its order picks the example the error names
    keys = pd.util.hash_pandas_object(ranked[key].astype("string").fillna("\x00"), index=False).where(complete)
    contents = _row_hash(ranked, answers, wide)
    shared = keys.notna() & keys.duplicated(keep=False)
    differing = contents[shared].groupby(keys[shared]).nunique()
    differing = differing[differing > 1]
    if len(differing):
        rows = ranked.loc[keys == differing.index[0]]
        if wide is not None:  # the answers ``ranked`` lacks, from the whole table
            rows = pd.concat([rows, wide.loc[rows.index, [c for c in answers if c not in rows]]], axis=1)
        a, b = rows.iloc[0], rows.iloc[1]
        columns = [c for c in answers if not (pd.isna(a[c]) and pd.isna(b[c])) and str(a[c]) != str(b[c])]
        raise InputError(f"{source}: [data.duplicates] key = {key} would drop children whose answers differ: "
                         f"{len(differing)} keys are shared by rows with different answers, e.g. rows "
                         f"{a['source_row']} and {b['source_row']} (differ in {', '.join(columns[:5])}); "
                         "name columns that identify one child, or remove the key")
    return pd.Series((keys.notna() & keys.duplicated(keep="first")).to_numpy(), index=ranked.index)


# the columns `validate` reads or writes (the other columns of the child table it only filters)
_VALIDATED = ("source_row", "child_id", "catchment", "cluster", "district", "interview_date", "submission_time",
              "dob", "age_years", "age_days", "cohort", "sex", "cohort_sampled", "interviewer", "team")


def _integer_text(values: pd.Series) -> pd.Series:
    return per_value(values, lambda text: key_text(text).astype(str))


def validate(children: pd.DataFrame, cohorts: dict[str, tuple[int, int]], source: Path, *,
             age_from: str = "dob", window: str = "exclude", duplicates: Mapping[str, object] | None = None,
             ignored: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the row-level rules; return (kept children, exclusions, repairs).

    Rules, in order (a row is excluded for the first rule it breaks): the profile's eligibility
    rules (e.g. ``no_consent``), ``missing_child_id``, ``missing_design`` (no catchment or cluster),
    the profile's merge rules (e.g. ``no_cluster_metadata``), ``interview_date_invalid``,
    ``interview_after_submission`` (more than a day after ``submission_time``), ``interview_date_in_future``
    (more than a day after today), then the age rules, ``duplicate_child_id`` (a later submission of a child already kept; the first
    submission in file order is kept).

    Age rules with ``age_from="dob"``: ``dob_invalid`` (missing or unparseable), ``dob_after_interview``,
    ``age_out_of_window`` (age in days at interview outside every cohort). With ``age_from="years"``
    (only completed years known, column ``age_years``): ``age_invalid``, and ``age_out_of_window``
    unless the whole year of age [365·y, 365·y + 364] lies inside one cohort window; ``age_days`` is
    then NaN.

    ``window="keep"`` (VCQI: the dataset holds only respondents found eligible in the field, and
    every one stays in the denominator) keeps a child whose age falls outside every window in the
    nearest cohort, and — when the project has a single cohort — a child without a usable age in
    that cohort; each such child is recorded in repairs (``age_out_of_window_kept``,
    ``age_unknown_kept``).

    A child whose ``cohort_sampled`` (a cohort name) differs from the cohort of its age is kept in the
    cohort of its age and recorded in repairs (``cohort_sampled_differs``).
    """
    needed = ["child_id", "catchment", "cluster", "interview_date", "age_years" if age_from == "years" else "dob"]
    unmapped = [column for column in needed if column not in children]
    if unmapped:
        # without them no child can be placed in a lot, a cluster or a cohort
        raise InputError(f"{source}: the mapping profile reads no {', '.join(unmapped)}: map "
                         f"{'it' if len(unmapped) == 1 else 'them'} in the profile's [columns] (e.g. "
                         f"{unmapped[0]} = \"<export column>\")")
    repairs: list[dict] = []
    excluded: list[pd.DataFrame] = []
    helpers = [column for column in children.columns if column.startswith(f"{_EXCLUDE}:")]
    settings = dict(duplicates or {})
    key = settings.get("key")
    # the rules read a few columns: they filter a frame of those, and the child table (hundreds of
    # columns) is filtered once, at the end, instead of at each rule
    read = {*_VALIDATED, *helpers, *(key if key is not None else ())}
    # (a frame of its own, not a slice of the caller's table: its columns are replaced below)
    frame = children[[column for column in children.columns if column in read]].copy(deep=False)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            # the rules read, fill and write these columns as text (an export read in categories)
            frame[column] = frame[column].astype(object)

    def columns() -> list[str]:
        """The child table's columns as the rules have left them (the new ones last)."""
        return [*children.columns, *(column for column in frame.columns if column not in children.columns)]

    def drop(mask: pd.Series, reason: str, detail: pd.Series | str | Callable[[pd.Index], pd.Series]) -> None:
        """Exclude the rows of ``mask``; ``detail`` may be a function of their index, so that the text
        is written for the rows excluded only, not for each child of a national survey."""
        nonlocal frame
        mask = mask.reindex(frame.index, fill_value=False)
        if mask.any():
            if callable(detail):
                detail = detail(frame.index[mask])
            excluded.append(_exclude(frame, mask, reason, detail))
            # a frame of its own (no copy of the data): columns are set on it below, and pandas would
            # warn that they are set "on a copy of a slice"
            frame = frame.loc[~mask].copy(deep=False)

    def drop_declared(stage: str) -> None:
        for column in helpers:
            if column.split(":")[1] == stage:
                drop(frame[column].notna(), column.split(":", 2)[2], frame[column])

    drop_declared("eligibility")
    drop(frame["child_id"].isna(), "missing_child_id", "no child identifier")
    design_missing = frame["catchment"].isna() | frame["cluster"].isna()
    drop(design_missing, "missing_design", "catchment or cluster is empty")
    drop_declared("merge")

    interview, _ = parse_dates(frame["interview_date"])
    drop(interview.isna(), "interview_date_invalid",
         lambda rows: "interview date: " + frame.loc[rows, "interview_date"].astype("string").fillna("<empty>"))
    frame["interview_date"] = interview.reindex(frame.index)
    # an interview dated after its record reached the server, or after today, has a wrong date (a
    # device clock, a typo), and so would the age and the doses' timing computed from it; one day of
    # slack for time zones (the submission time is UTC, the interview date local)
    def shown(rows: pd.Index) -> pd.Series:
        return "interview date " + frame.loc[rows, "interview_date"].dt.strftime("%Y-%m-%d")

    if "submission_time" in frame:
        submitted = parse_dates(frame["submission_time"])[0]
        drop(frame["interview_date"] > submitted + pd.Timedelta(days=1), "interview_after_submission",
             lambda rows: shown(rows) + "; submitted " + submitted.loc[rows].dt.strftime("%Y-%m-%d"))
    today = pd.Timestamp.now().normalize()
    drop(frame["interview_date"] > today + pd.Timedelta(days=1), "interview_date_in_future",
         lambda rows: shown(rows) + f"; today {today:%Y-%m-%d}")

    windows = ", ".join(f"{name} {low}-{high}" for name, (low, high) in cohorts.items())

    def note(mask: pd.Series, column: str, rule: str, original: pd.Series | Callable[[pd.Index], pd.Series],
             new: pd.Series | str) -> None:
        rows = frame.index[mask.reindex(frame.index, fill_value=False)]
        if callable(original) and len(rows):  # written for the rows repaired only
            original = original(rows)
        for index in rows:
            repairs.append({"source_row": int(frame.at[index, "source_row"]), "child_id": frame.at[index, "child_id"],
                            "column": column, "rule": rule, "original": original.at[index],
                            "new": new.at[index] if isinstance(new, pd.Series) else new})

    def assign(low: pd.Series, high: pd.Series, shown: Callable[[pd.Index], pd.Series], unit: str) -> pd.Series:
        """The cohort whose window holds [low, high]; with window = "keep", the nearest one (``shown``:
        the age as written, for the given rows)."""
        cohort = pd.Series(pd.NA, index=low.index, dtype="object")
        for name, (start, stop) in cohorts.items():
            cohort = cohort.mask(cohort.isna() & (low >= start) & (high <= stop), name)
        outside = cohort.isna() & low.notna()
        if window == "keep" and outside.any():
            gaps = pd.DataFrame({name: np.maximum(start - low, high - stop) for name, (start, stop) in cohorts.items()})
            nearest = gaps.loc[outside].idxmin(axis=1)
            note(outside, "cohort", "age_out_of_window_kept", lambda rows: shown(rows) + f" {unit}; cohorts: {windows}",
                 nearest)
            cohort = cohort.mask(outside, nearest)
        if window == "keep" and len(cohorts) == 1:
            unknown = low.isna()
            note(unknown, "cohort", "age_unknown_kept", lambda rows: shown(rows).fillna("<unknown>"),
                 next(iter(cohorts)))
            cohort = cohort.mask(unknown, next(iter(cohorts)))
        drop(cohort.isna() & low.notna(), "age_out_of_window", lambda rows: shown(rows) + f" {unit}; cohorts: {windows}")
        return cohort

    if window not in {"exclude", "keep"}:
        raise ConfigError(f"mapping profile: [age] window must be 'exclude' or 'keep', got {window!r}")
    kept_unknown = window == "keep" and len(cohorts) == 1  # VCQI: a respondent without an age still counts
    if age_from == "years":
        years = pd.to_numeric(frame["age_years"], errors="coerce")
        invalid = (years < 0) | (years != years.round()) | (years.isna() & ~kept_unknown)
        drop(invalid, "age_invalid",
             lambda rows: "age in years: " + frame.loc[rows, "age_years"].astype("string").fillna("<empty>"))
        years = years.reindex(frame.index)
        cohort = assign(365 * years, 365 * years + 364,
                        lambda rows: "age " + years.loc[rows].astype("Int64").astype("string"), "completed years")
        frame["age_years"] = years.reindex(frame.index)
        frame["age_days"] = np.nan
        if "dob" in frame:
            frame["dob"] = parse_dates(frame["dob"])[0]
    elif age_from == "dob":
        dob, _ = parse_dates(frame["dob"])
        drop(dob.isna() & ~kept_unknown, "dob_invalid",
             lambda rows: "date of birth: " + frame.loc[rows, "dob"].astype("string").fillna("<empty>"))
        frame["dob"] = dob.reindex(frame.index)
        age = (frame["interview_date"] - frame["dob"]).dt.days
        drop(age < 0, "dob_after_interview", lambda rows: "age " + age.loc[rows].astype("string") + " days")
        age = age.reindex(frame.index)
        cohort = assign(age, age, lambda rows: "age " + age.loc[rows].astype("Int64").astype("string"), "days")
        age = age.reindex(frame.index)
        frame["age_days"] = age if age.isna().any() else age.astype(int)
    else:
        raise ConfigError(f"mapping profile: [age] from must be 'dob' or 'years', got {age_from!r}")
    frame["cohort"] = cohort.reindex(frame.index)
    if "cohort_sampled" in frame:
        # the child was sampled in one lot but is of another's age: it counts in the cohort of its age
        # (the lot its answers describe), and the disagreement is listed for the field team
        sampled = frame["cohort_sampled"].astype("string")
        differs = (sampled.isin(list(cohorts)) & frame["cohort"].notna() & (sampled != frame["cohort"])).fillna(False)
        def sampled_in(rows: pd.Index) -> pd.Series:
            age_text = ("age " + frame.loc[rows, "age_days"].astype("Int64").astype("string") + " days"
                        if age_from == "dob" else
                        "age " + frame.loc[rows, "age_years"].astype("Int64").astype("string") + " years")
            return "sampled in " + sampled.loc[rows] + "; " + age_text

        note(differs, "cohort", "cohort_sampled_differs", sampled_in, frame["cohort"])

    # the copy kept of a child submitted twice comes first: the one sent last, or the first in the file
    # (the rows' order, not the rows reordered: a national survey's frame would be copied for it)
    order = frame.index
    if settings.get("keep", "latest") == "latest" and "submission_time" in frame:
        sent = pd.to_datetime(frame["submission_time"], errors="coerce", utc=True, format="ISO8601")
        order = sent.sort_values(ascending=False, na_position="last", kind="stable").index
    ids = frame["child_id"].reindex(order)
    # each id numbered once (Arrow's dictionary, which tells apart texts differing after a NUL), its first
    # row in that order kept: a national survey's million ids are hashed once, not three times
    codes, count = _id_codes(ids)
    first = first_rows(codes, count)
    duplicated = pd.Series(first[codes] != np.arange(len(codes)), index=ids.index)
    kept_row = frame["source_row"].reindex(order).to_numpy()[first]  # by id
    drop(duplicated, "duplicate_child_id",
         lambda rows: "same child_id as row " + pd.Series(kept_row[codes[ids.index.get_indexer(rows)]],
                                                          index=rows).astype("string") + " (kept)")
    order = order[order.isin(frame.index)]
    # the same child under another id: the same answers (a form re-entered, a submission re-sent with a
    # new id), or, when the project names the columns that identify a child, the same key
    answers = [c for c in columns() if c not in {"child_id", "source_row", "submission_time",
                                                   "interviewer_remarks", *ignored, *helpers}]
    if key is not None and len(key):
        missing = [column for column in key if column not in frame]
        if missing:
            raise SettingError("data.duplicates.key", f"{', '.join(map(repr, missing))} is not a column of the "
                                                       f"child table{did_you_mean(missing[0], columns())}")
        same = _same_key(frame.loc[order], list(key), answers, source, children)
        why = f"same {', '.join(key)} and answers as row "
    else:
        # each row's answers hashed in the file's order, the numbers then put in the rows' order
        contents = _row_hash(frame, answers, children).loc[order]
        same = pd.Series(contents.duplicated(keep="first").to_numpy(), index=order)
        why = "same answers as row "
    if same.any():
        groups = _row_hash(frame, list(key), children).loc[order] if key else contents
        first = (frame.loc[order[~same.to_numpy()], ["source_row", "child_id"]].assign(_group=groups[~same])
                 .set_index("_group"))
        def kept(rows: pd.Index) -> pd.Series:
            return (why + groups.loc[rows].map(first["source_row"]).astype("Int64").astype("string") + " (child_id "
                    + groups.loc[rows].map(first["child_id"]).astype("string") + ", kept)")

        drop(same, "duplicate_submission", kept)

    if "sex" in frame:
        unknown_sex = frame["sex"].isna()
        for index in frame.index[unknown_sex]:
            repairs.append({"source_row": int(frame.at[index, "source_row"]), "child_id": frame.at[index, "child_id"],
                            "column": "sex", "rule": "missing_sex_set_unknown", "original": "", "new": "unknown"})
        frame["sex"] = frame["sex"].fillna("unknown")
    for column in ("catchment", "cluster", "district"):
        if column in frame:
            frame[column] = _integer_text(frame[column])

    exclusions = (pd.concat(excluded, ignore_index=True) if excluded
                  else pd.DataFrame(columns=EXCLUSION_COLUMNS))
    kept = children.loc[frame.index, [column for column in children.columns if column not in helpers]]
    # as the rules left them (dates parsed, codes as text), or new
    kept = add_columns(kept, ((column, frame[column]) for column in frame.columns.drop(helpers)))
    kept.index = pd.RangeIndex(len(kept))  # numbered again without a copy of the child table
    extra = [column for column in FIELDWORK_COLUMNS if column in exclusions]
    return kept, exclusions[EXCLUSION_COLUMNS + extra], pd.DataFrame(repairs, columns=REPAIR_COLUMNS)


def ingest(path: str | Path, profile: str | dict, *, cohorts: dict[str, tuple[int, int]],
           doses: list[str], sheet: str | int | None = None, encoding: str | None = None,
           delimiter: str | None = None, merge: Mapping[str, object] | None = None,
           duplicates: Mapping[str, object] | None = None, form: str | Path | None = None,
           repeat: str | None = None) -> IngestResult:
    """Read an export (and the datasets merged onto it), map it with a profile, validate rows.

    Nothing is lost silently: every row of the main export ends up in ``children`` or in
    ``exclusions``; records of a merged file that match no child are counted in ``merges``.

    Parameters
    ----------
    merge : mapping of name to path or to ``{"file", "keys", "sheet", "encoding", "delimiter"}``, optional
        Datasets joined onto the main export before mapping, e.g. ``{"register": "RIHC.dta",
        "clusters": "CM.dta"}``. Keys and the rule for unmatched children come from the profile's
        ``[merge.<name>]``; ``keys`` given here override them. ``DataConfig.ingest_options`` builds
        this argument (and ``sheet``/``encoding``/``delimiter``) from ``survey.toml``.
    form : path, optional
        The XLSForm behind the export (``[data] form``). The export is then read through it
        (`lqas.form.decode_export`): headers as names or labels, any group separator, answers as
        choice names or labels; the profile may name a question by its bare name, and a select_one
        mapped to ``sex``, ``card_seen``, ... (or read by ``[recall]``, ``[card]`` ticks) without
        ``[codes]`` is coded by the meaning of its choices (``lqas/data/answers.toml``).
        Children asked about in a repeat group (KoboToolbox XLSX sheets, ODK Central zip) are read
        one row per child with their household's answers (`lqas.exports.read_export`).
    repeat : str, optional
        The repeat group holding the children, when the form has several (``[data] repeat``).

    Returns
    -------
    IngestResult
        ``children``: canonical child table (DESIGN.md §4) plus ``source_row``, ``age_days``,
        ``cohort``, the columns validation leaves alone already in compact dtypes (`lqas.dtypes`:
        a CSV export is read in categories, and each mapped column compacted as it is made, so a
        national survey is never held as Python strings and 64-bit floats); ``exclusions``: one row per excluded input row (``source_row``, ``child_id``,
        ``reason``, ``detail``); ``repairs``: one row per repaired field. ``rows_read`` equals
        ``len(children) + len(exclusions)``.
    """
    path = Path(path)
    profile = load_profile(profile) if isinstance(profile, (str, Path)) else profile
    decoded = None
    if form is None:
        main = read_source(path, sheet=sheet, encoding=encoding, delimiter=delimiter, categories=True)
    else:
        main, decoded, profile = _through_form(path, read_form(form), profile, doses, list(cohorts), sheet=sheet,
                                               encoding=encoding, delimiter=delimiter, repeat=repeat)
    raw, labels, merges = _merge(main, profile, merge or {})
    # the only thing read of the positions before they go: how far each household is from its cluster
    distance = _distance_from_cluster(raw, profile)
    # personal and free-text columns go first, so no rename, rule or kept column can carry them on
    info = profile.get("profile", {})
    raw = raw.drop(columns=[c for c in (*info.get("personal", []), *info.get("free_text", [])) if c in raw])
    if main.short_rows is not None and main.short_rows.notna().any():
        # a row cut short (a file truncated in transfer, a broken line) would otherwise count as a child
        # whose missing answers are all "no": it is excluded, first of all rules
        raw[f"{_EXCLUDE}:eligibility:truncated_row"] = "row has " + main.short_rows
    unlisted = looks_personal(raw, exempt=_read_by_profile(profile))
    mapper = _Mapper(raw, profile, path, doses, labels, main.row_offset, frozenset(unlisted))
    mapped, repairs = mapper.result()
    if distance is not None:
        mapped["gps_km_from_cluster"] = distance.to_numpy()
    # the export is let go before validation (a national survey's export weighs as much as the
    # child table), all but the design keys the empty clusters are counted from
    rows_read, unread, offset = len(raw), mapper.unread, main.row_offset
    raw = raw[[column for column in _design_keys(profile) if column in raw]]
    del main, mapper
    age = profile.get("age", {})
    children, exclusions, validation_repairs = validate(mapped, cohorts, path, age_from=age.get("from", "dob"),
                                                        window=age.get("window", "exclude"),
                                                        duplicates=duplicates, ignored=info.get("keep", []))
    repairs = pd.concat([frame for frame in (repairs, validation_repairs) if not frame.empty]
                        or [repairs], ignore_index=True)
    if len(children) + len(exclusions) != rows_read:  # an internal invariant, not a user error
        raise RuntimeError(f"{path}: rows do not reconcile ({rows_read} read)")
    # the kept children's rows of the export (validation numbers the children afresh)
    kept = pd.Index(children["source_row"].to_numpy() - offset)
    empty = _empty_clusters(raw, mapped, kept, profile, merges)
    return IngestResult(children, exclusions, repairs, rows_read, path,
                        tuple(profile.get("profile", {}).get("keep", [])), merges, empty, unlisted,
                        decoded, unread)


def _distance_from_cluster(raw: pd.DataFrame, profile: dict) -> pd.Series | None:
    """Each row's distance in km (0.1 km) from its household to its cluster's median position
    (``[position]``; an equirectangular distance, exact enough at a cluster's scale); NaN where the position
    is missing or impossible. None without ``[position]`` or its columns. Nothing else of the positions is
    kept: a distance does not say where the household is."""
    spec = profile.get("position")
    cluster = (profile.get("columns") or {}).get("cluster")
    if not spec or not isinstance(cluster, str) or any(c not in raw for c in (spec["latitude"], spec["longitude"],
                                                                               cluster)):
        return None
    latitude = pd.to_numeric(raw[spec["latitude"]].astype("string"), errors="coerce").astype(float)
    longitude = pd.to_numeric(raw[spec["longitude"]].astype("string"), errors="coerce").astype(float)
    bad = ~(latitude.abs() <= 90) | ~(longitude.abs() <= 180) | ((latitude == 0) & (longitude == 0))
    latitude, longitude = latitude.mask(bad), longitude.mask(bad)
    key = raw[cluster].astype("string").str.strip()
    centre_lat = latitude.groupby(key).transform("median")
    centre_lon = longitude.groupby(key).transform("median")
    km_per_degree = 111.32
    east = (longitude - centre_lon) * km_per_degree * np.cos(np.radians(centre_lat))
    north = (latitude - centre_lat) * km_per_degree
    return np.hypot(east, north).round(1)


def _through_form(path: Path, form: Form, profile: dict, doses: list[str], cohorts: list[str],
                  **read) -> tuple[Source, dict, dict]:
    """The export decoded through its form, and the profile completed from the form: a question it
    names by its bare name is found in its group, and the codes it leaves out are read from the
    meaning of the choices."""
    export = read_export(path, form, **read)
    main, decoded = export.source, export.decoded
    frame = main.frame
    if "_validation_status" in frame:
        # a submission the supervisor marked "Not approved" (KoboToolbox) or "rejected" (ODK Central)
        # was judged wrong in the field: excluded, first of all rules, with the status as written
        status = frame["_validation_status"].astype("string").str.strip()
        rejected = status.str.casefold().str.replace(r"[\s_-]+", " ", regex=True).isin(_REJECTED).fillna(False)
        frame = frame.assign(**{f"{_EXCLUDE}:eligibility:rejected_on_server":
                                ("validation status: " + status).astype(object).where(rejected, np.nan)})
    renames = {decoded.aliases[name]: name for name in _names_read(profile, doses)
               if name not in frame.columns and decoded.aliases.get(name) in frame.columns}
    frame = frame.rename(columns=renames)
    questions = {question.column(): question for question in form.questions}
    questions |= {name: questions[column] for column, name in renames.items()}
    return replace(main, frame=frame), export.summary, _codes_from_form(profile, questions, doses, cohorts)


# validation statuses that mean rejected: KoboToolbox's uid and labels (en, fr), ODK Central's review state
_REJECTED = {"validation status not approved", "not approved", "non approuvé", "non approuve", "rejected", "rejeté"}


def _names_read(profile: dict, doses: list[str]) -> set[str]:
    """Every export column the profile names, templates expanded for each dose."""
    names = _read_by_profile(profile)
    info = profile.get("profile", {})
    names |= {*info.get("personal", []), *info.get("free_text", [])}
    for section in ("card", "register"):
        spec = profile.get(section) or {}
        templates = [spec.get("date"), spec.get("tick"), *(spec.get("date_parts") or {}).values()]
        names |= {template.format(dose=dose) for template in templates if template for dose in doses}
        names |= {*spec.get("dates", {}).values(), *spec.get("ticks", {}).values()}
    recall = profile.get("recall") or {}
    if recall.get("dose"):
        names |= {recall["dose"].format(dose=dose) for dose in doses}
    for antigen in recall.get("antigens", {}).values():
        names |= {antigen["ever"], *([antigen["count"]] if "count" in antigen else [])}
    for merged in profile.get("merge", {}).values():
        names |= set((merged.get("keys") or {}).keys())
    return names


def _codes_from_form(profile: dict, questions: Mapping[str, Question], doses: list[str], cohorts: list[str]) -> dict:
    """The profile with the codes it leaves out taken from the meaning of the form's choices (and,
    for the sampled cohort, from choices named or labelled as the project's cohorts)."""
    profile = {**profile, "codes": dict(profile.get("codes", {}))}
    for canonical, spec in profile.get("columns", {}).items():
        column = spec if isinstance(spec, str) else spec.get("column") if isinstance(spec, Mapping) else None
        question = questions.get(column)
        if canonical not in profile["codes"] and question is not None and question.type == "select_one":
            inferred = (_cohort_codes(question, cohorts) if canonical == "cohort_sampled"
                        else infer_codes(question, canonical))
            if inferred:
                profile["codes"][canonical] = inferred
    recall = profile.get("recall")
    if recall and "codes" not in recall:
        asked = [antigen["ever"] for antigen in recall.get("antigens", {}).values()]
        asked += [recall["dose"].format(dose=dose) for dose in doses] if recall.get("dose") else []
        inferred = _first_inferred(questions, asked, "recall")
        if inferred:
            profile["recall"] = {**recall, "codes": inferred}
    for section in ("card", "register"):
        spec = profile.get(section)
        if spec and (spec.get("tick") or spec.get("ticks")) and "tick_codes" not in spec:
            ticks = [spec.get("ticks", {}).get(dose) or spec.get("tick", "").format(dose=dose) for dose in doses]
            inferred = _first_inferred(questions, ticks, "tick")
            if inferred:
                profile[section] = {**spec, "tick_codes": inferred}
    return profile


def _cohort_codes(question: Question, cohorts: list[str]) -> dict[str, str]:
    """Choices written as a cohort of the project ("18w_11m" or "18w-11m" for "18w-11m")."""
    def squash(text: str) -> str:
        return re.sub(r"[\s_\-–]+", "", text.casefold())

    named = {squash(cohort): cohort for cohort in cohorts}
    return {choice.name: named[found] for choice in question.choices
            for found in [next((squash(t) for t in (choice.name, *choice.labels.values()) if squash(t) in named), None)]
            if found is not None}


def _first_inferred(questions: Mapping[str, Question], columns: list[str], kind: str) -> dict | None:
    """Codes of the first of ``columns`` that is a select_one whose choices are recognised (the
    questions of one section share a choice list)."""
    for column in columns:
        question = questions.get(column)
        if question is not None and question.type == "select_one":
            inferred = infer_codes(question, kind)
            if inferred:
                return inferred
    return None


def _read_by_profile(profile: dict) -> set[str]:
    """Source columns the profile names: mapped, kept, or read by a rule (a deliberate use)."""
    specs = [*profile.get("columns", {}).values(), *profile.get("dob", {}).get("sources", {}).values()]
    named = {column for spec in specs for alternative in (spec if isinstance(spec, list) else [spec])
             for column in _spec_columns(alternative)}
    named |= {rule["column"] for rule in profile.get("eligibility", [])}
    named |= set(profile.get("profile", {}).get("keep", []))
    return named


def _design_keys(profile: dict) -> list[str]:
    """The export columns :func:`_empty_clusters` reads: the profile's catchment and cluster."""
    columns = profile.get("columns", {})
    return list(dict.fromkeys(spec for spec in (columns.get("catchment"), columns.get("cluster"))
                              if isinstance(spec, str)))


def _empty_clusters(raw: pd.DataFrame, mapped: pd.DataFrame, kept: pd.Index, profile: dict,
                    merges: dict) -> dict[str, int]:
    """Sampled clusters without any kept child, counted per catchment (VCQI/BeSD-TI placeholder clusters).

    A merge declared with ``empty_clusters = true`` (cluster metadata listing every sampled cluster)
    gives the sampled clusters; those where no child was kept (none interviewed, or all excluded) are
    counted in the catchment of the children with the same stratum key. Needs the profile's
    ``catchment`` and ``cluster`` columns to be merge keys; a stratum without any child is not counted.
    """
    columns = profile.get("columns", {})
    stratum, cluster = columns.get("catchment"), columns.get("cluster")
    out: dict[str, int] = {}
    for report in merges.values():
        sampled = report.pop("sampled_keys", None)
        if sampled is None or not all(isinstance(c, str) and c in sampled and c in raw for c in (stratum, cluster)):
            continue

        def pairs(frame: pd.DataFrame) -> pd.Series:
            return key_text(frame[stratum]).astype("string") + "\x1f" + key_text(frame[cluster]).astype("string")

        catchment_of = (pd.DataFrame({"key": key_text(raw[stratum]).astype("string"),
                                      "catchment": mapped["catchment"].astype("string")})
                        .dropna().drop_duplicates("key").set_index("key")["catchment"])
        empty = ~pairs(sampled).isin(set(pairs(raw.loc[kept]).dropna()))
        found = key_text(sampled.loc[empty, stratum]).astype("string").map(catchment_of).dropna()
        for catchment, count in found.value_counts().items():
            out[str(catchment)] = out.get(str(catchment), 0) + int(count)
        report["empty_clusters"] = len(found)
    return out

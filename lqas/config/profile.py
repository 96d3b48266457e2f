"""Mapping profiles (``instruments/profiles/*.toml``): the typed model of every section `lqas.ingest` reads.

The model checks a profile before any data is read; `lqas.ingest.load_profile` still hands the
plain dict to the mapper. Format reference: ``instruments/profiles/README.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from lqas.config._validation import NonEmpty, NonEmptyText, Regex, Section, cross_field_problems, tagged, validate_file
from lqas.config.canonical import check_canonical_name

# a canonical child-table column (lqas/data/canonical.toml); anything else is a typo or an invention
CanonicalName = Annotated[str, AfterValidator(check_canonical_name)]
Code = str | int | float | bool


def _dose_template(value: str) -> str:
    """A column name with ``{dose}`` standing for each dose key of the schedule."""
    try:
        value.format(dose="bcg")
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"'{value}': only {{dose}} may stand in braces (write {{{{ or }}}} for a brace)") from None
    if "{dose}" not in value:
        raise ValueError(f"'{value}' has no {{dose}}, so every dose would read the same column; "
                         "write e.g. 'card/{dose}_date'")
    return value


def _dose_key(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(f"dose keys are lower case letters, digits and '_' (e.g. 'penta1'); got {value!r}")
    return value


DoseTemplate = Annotated[str, AfterValidator(_dose_template)]
DoseKey = Annotated[str, AfterValidator(_dose_key)]


class ColumnTable(Section):
    """A column spec written as a table: ``{ column }``, ``{ join, sep }``, ``{ d, m, y }`` or ``{ value }``."""

    column: NonEmptyText | None = None
    join: Annotated[tuple[NonEmptyText, ...], NonEmpty] | None = None
    sep: str | None = None
    d: NonEmptyText | None = None
    m: NonEmptyText | None = None
    y: NonEmptyText | None = None
    value: Code | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ColumnTable:
        parts = [p for p in "dmy" if getattr(self, p) is not None]
        forms = [form for form, given in (("column", self.column is not None), ("join", self.join is not None),
                                          ("d/m/y", bool(parts)), ("value", "value" in self.model_fields_set))
                 if given]
        if len(forms) != 1:
            raise ValueError("a column spec table is one of { column = ... }, { join = [...], sep = ... }, "
                             "{ d = ..., m = ..., y = ... } or { value = ... }; got "
                             + (" and ".join(forms) if forms else "none of them"))
        if parts and len(parts) < 3:
            raise ValueError(f"a date from parts needs d, m and y; missing {', '.join(p for p in 'dmy' if p not in parts)}")
        if self.sep is not None and self.join is None:
            raise ValueError("sep goes with join = [...]")
        return self


def _one_spec_kind(value: Any) -> str | None:
    return "name" if isinstance(value, str) else "table" if isinstance(value, dict) else None


def _spec_kind(value: Any) -> str | None:
    return "alternatives" if isinstance(value, list) else _one_spec_kind(value)


_SPEC_FORMS = ("a column name, a table ({ join = [...] }, { d = ..., m = ..., y = ... }, { value = ... }) "
               "or a list of these as alternatives")
_OneColumnSpec = tagged(_one_spec_kind, "an alternative is a column name or a table", name=NonEmptyText,
                        table=ColumnTable)
ColumnSpec = tagged(_spec_kind, f"a column spec is {_SPEC_FORMS}", name=NonEmptyText, table=ColumnTable,
                    alternatives=Annotated[tuple[_OneColumnSpec, ...], NonEmpty])


class ProfileInfo(Section):
    """``[profile]``: what the profile reads and which columns are required, kept, personal."""

    name: str | None = None
    description: str | None = None
    required: tuple[CanonicalName, ...] = ()
    hint_if_missing: str | None = None
    keep: tuple[str, ...] = ()
    personal: tuple[str, ...] = ()
    # answers typed by hand ("other, specify", notes): they can name people, so, like personal
    # columns, they are dropped before any rule reads the export
    free_text: tuple[str, ...] = ()
    value_labels: tuple[CanonicalName, ...] = ()


class EligibilityRule(Section):
    """``[[eligibility]]``: rows whose ``column`` is not in ``keep`` are excluded with ``reason``."""

    column: NonEmptyText
    keep: Annotated[tuple[str | int, ...], NonEmpty]
    reason: NonEmptyText


class RenameRule(Section):
    """``[[rename]]``: every source column matching ``pattern`` is copied as ``replacement``."""

    pattern: Regex
    replacement: str


class DateParts(Section):
    d: DoseTemplate
    m: DoseTemplate
    y: DoseTemplate


class EvidenceSection(Section):
    """``[card]`` and ``[register]``: per-dose dates (whole or in parts) and tick marks, by a
    ``{dose}`` template or, where a form names doses otherwise than the schedule, dose by dose."""

    date: DoseTemplate | None = None
    date_parts: DateParts | None = None
    tick: DoseTemplate | None = None
    # dose key -> column, for forms whose names do not follow the schedule's keys (date_vpo1 for opv1)
    dates: dict[DoseKey, NonEmptyText] = Field(default_factory=dict)
    ticks: dict[DoseKey, NonEmptyText] = Field(default_factory=dict)
    tick_codes: dict[str, Code] | None = None
    optional: bool = True

    @model_validator(mode="after")
    def _reads_something(self) -> EvidenceSection:
        if self.date is None and self.date_parts is None and self.tick is None and not self.dates and not self.ticks:
            raise ValueError("needs date, date_parts, tick, dates or ticks; without them the section reads nothing")
        return self


class RecallAntigen(Section):
    """``[recall.antigens.<name>]``: ever received (yes/no) and, for a series, how many doses."""

    ever: NonEmptyText
    count: NonEmptyText | None = None
    doses: Annotated[tuple[DoseKey, ...], NonEmpty]


class RecallSection(Section):
    """``[recall]``: one column per dose (``dose``) and/or per antigen with a dose count (``antigens``)."""

    dose: DoseTemplate | None = None
    codes: dict[str, Code] | None = None
    unknown_count: tuple[int | float, ...] = ()
    # the raw answers meaning "don't know" (e.g. ["dk"]): counted per child (recall_answers,
    # recall_dont_know) for the fieldwork check of don't-know answers; how they count as doses is `codes`'
    dont_know: tuple[str | int, ...] = ()
    antigens: dict[str, RecallAntigen] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reads_something(self) -> RecallSection:
        if self.dose is None and not self.antigens:
            raise ValueError("needs dose = '{dose}_...' or [recall.antigens]; without them the section reads nothing")
        return self


class PositionSection(Section):
    """``[position]``: the household's GPS columns. Positions are personal data: ingest reads them only to
    give each child the distance from its household to its cluster's median position
    (``gps_km_from_cluster``, for the fieldwork checks), then drops them; list them under ``personal``
    too."""

    latitude: NonEmptyText
    longitude: NonEmptyText


class DobSection(Section):
    """``[dob]``: several dated sources combined into one ``dob`` (VCQI rule, or the first plausible)."""

    rule: Literal["vcqi", "first"] = "vcqi"
    sources: Annotated[dict[str, ColumnSpec], NonEmpty]


class AgeSection(Section):
    """``[age]``: age from the date of birth or from completed years; out-of-window children kept or not."""

    from_: Literal["dob", "years"] = Field("dob", alias="from")
    window: Literal["exclude", "keep"] = "exclude"


class MergeSection(Section):
    """``[merge.<name>]``: how a dataset named in survey.toml ``[data.merge]`` is joined to the export."""

    keys: dict[str, str] | None = None
    unmatched: Literal["keep", "exclude"] = "keep"
    reason: NonEmptyText | None = None
    empty_clusters: bool = False
    file: str | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None


class Profile(Section):
    """A whole mapping profile."""

    profile: ProfileInfo = ProfileInfo()
    columns: dict[CanonicalName, ColumnSpec] = Field(default_factory=dict)
    codes: dict[CanonicalName, dict[str, Code]] = Field(default_factory=dict)
    eligibility: tuple[EligibilityRule, ...] = ()
    rename: tuple[RenameRule, ...] = ()
    card: EvidenceSection | None = None
    # `register` would shadow BaseModel.register (abc): the field is named apart, the key stays
    register_: EvidenceSection | None = Field(None, alias="register")
    recall: RecallSection | None = None
    position: PositionSection | None = None
    dob: DobSection | None = None
    age: AgeSection = AgeSection()
    merge: dict[str, MergeSection] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sections_agree(self) -> Profile:
        problems = []
        # the mapper applies codes and value labels only to columns it maps: anything else is dead
        for name in self.codes:
            if name not in self.columns:
                reason = (f"[columns] does not map '{name}', so these codes never apply; "
                          f"add columns.{name} or remove codes.{name}")
                problems.append((f"codes.{name}", reason))
        for name in self.profile.value_labels:
            if name not in self.columns:
                problems.append(("profile.value_labels", f"[columns] does not map '{name}'"))
        if self.age.from_ == "years" and "age_years" not in self.columns:
            problems.append(("age.from", "'years' reads the age from columns.age_years, which [columns] does not map"))
        problems += self._reads_of_dropped_columns()
        if problems:
            raise cross_field_problems(problems)
        return self


    def _reads_of_dropped_columns(self) -> list[tuple[str, str]]:
        """Personal and free-text columns are dropped before any rule reads the export, so a rule
        that reads one would silently read nothing (or, before, copy the value into an output)."""
        dropped = {column: kind for kinds, kind in ((self.profile.personal, "personal"),
                                                    (self.profile.free_text, "free_text"))
                   for column in kinds}
        reads: list[tuple[str, str]] = []
        for name, spec in self.columns.items():
            reads += [(f"columns.{name}", column) for column in spec_columns(spec)]
        if self.dob is not None:
            for name, spec in self.dob.sources.items():
                reads += [(f"dob.sources.{name}", column) for column in spec_columns(spec)]
        reads += [(f"eligibility[{i}].column", rule.column) for i, rule in enumerate(self.eligibility, 1)]
        reads += [("profile.keep", column) for column in self.profile.keep]
        why = "'{column}' is listed in profile.{kind}, so it is dropped before this reads it; remove it from one of the two"
        return [(where, why.format(column=column, kind=dropped[column])) for where, column in reads if column in dropped]


def spec_columns(spec: Any) -> list[str]:
    """The source columns a column spec (a name, a table or a list of alternatives) reads."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, (list, tuple)):
        return [column for alternative in spec for column in spec_columns(alternative)]
    if isinstance(spec, ColumnTable):
        if spec.column is not None:
            return [spec.column]
        if spec.join is not None:
            return list(spec.join)
        return [part for part in (spec.d, spec.m, spec.y) if part is not None]
    return []


def validate_profile(raw: dict[str, Any], path: str | Path) -> Profile:
    """Check a parsed mapping profile.

    Parameters
    ----------
    raw : dict
        The parsed TOML of the profile.
    path : str or Path
        The profile file, named in every problem line.

    Returns
    -------
    Profile
        The validated model (`lqas.ingest` itself keeps working on the plain dict).

    Raises
    ------
    ConfigError
        Every problem at once, one line each: unknown sections or keys (with "did you mean ...?"),
        names that are not canonical columns, malformed column specs, ``{dose}`` templates, regexes.
    """
    return validate_file(Profile, raw, path)

"""The thresholds of the fieldwork checks (``lqas/data/fieldwork_checks.toml``, or a programme's own
file), validated by typed models: each check's numbers, its severity and its explanation in both
languages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from lqas.config._validation import NonEmptyText, Section, read_toml, validate_file
from lqas.resources import data_path

Fraction = Annotated[float, Field(ge=0, le=1, strict=True)]
Positive = Annotated[float, Field(gt=0, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]
Severity = Literal["alert", "warning"]


class Explanation(Section):
    en: NonEmptyText
    fr: NonEmptyText


class Reference(Section):
    source: NonEmptyText


class Check(Section):
    severity: Severity = "warning"
    explain: Explanation


class Duration(Check):
    minutes: Positive = 5.0
    share: Fraction = 0.25
    min_n: Count = 10


class Overlap(Check):
    max_share: Fraction = 0.05
    min_n: Count = 10


class PerDay(Check):
    max_interviews: Count = 24


class HeapingDay(Check):
    days: tuple[Annotated[int, Field(ge=1, le=31)], ...] = (1, 15)
    max_ratio: Positive = 2.0
    alpha: Fraction = 0.01
    min_n: Count = 20


class HeapingMonth(Check):
    month: Annotated[int, Field(ge=1, le=12)] = 1
    max_ratio: Positive = 2.0
    alpha: Fraction = 0.01
    min_n: Count = 20


class Boundary(Check):
    days: Annotated[int, Field(ge=1, le=120)] = 30
    min_ratio: Positive = 0.5
    alpha: Fraction = 0.01
    min_n: Count = 20


class SexRatio(Check):
    alpha: Fraction = 0.05
    min_n: Count = 20


class CardSeen(Check):
    max_gap: Fraction = 0.25
    alpha: Fraction = 0.01
    min_n: Count = 20


class Repairs(Check):
    max_share: Fraction = 0.20
    min_n: Count = 10


class Duplicates(Check):
    max_records: Count = 0


class FieldworkChecks(Section):
    reference: Reference
    duration: Duration
    overlap: Overlap
    per_day: PerDay
    heaping_day: HeapingDay
    heaping_month: HeapingMonth
    boundary: Boundary
    sex_ratio: SexRatio
    card_seen: CardSeen
    repairs: Repairs
    duplicates: Duplicates


def load_fieldwork_checks(path: Path | None = None) -> FieldworkChecks:
    """The fieldwork checks file ``path``, or the package's defaults."""
    path = path or data_path("fieldwork_checks.toml")
    return validate_file(FieldworkChecks, read_toml(path, "fieldwork checks file"), path)

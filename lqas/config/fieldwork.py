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


class ShareAbove(Check):
    """A unit's share against the survey's: flagged when ``max_gap`` above it and a one-sided exact
    binomial test against it below ``alpha``, judged from ``min_n`` records (recall-only evidence, "don't
    know" answers, BeSD items unanswered, refusals, absences: their gaps are the checks file's)."""

    max_gap: Fraction
    alpha: Fraction = 0.01
    min_n: Count = 20


class GpsDistance(Check):
    km: Positive = 5.0
    max_share: Fraction = 0.10
    min_n: Count = 5


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
    recall_only: ShareAbove
    dont_know: ShareAbove
    besd_nonresponse: ShareAbove
    refusals: ShareAbove
    absences: ShareAbove
    gps_distance: GpsDistance

    @property
    def names(self) -> tuple[str, ...]:
        """The checks, in the file's order (``reference`` is not one)."""
        return tuple(name for name in type(self).model_fields if name != "reference")


def load_fieldwork_checks(path: Path | None = None) -> FieldworkChecks:
    """The fieldwork checks file ``path``, or the package's defaults.

    A programme's file need not give every check: a check it leaves out (one added to lqas after the file
    was written, say) keeps the package's section, whole; a check it gives is its own, validated."""
    shipped = data_path("fieldwork_checks.toml")
    raw = read_toml(shipped, "fieldwork checks file")
    if path is not None:
        raw = {**raw, **read_toml(path, "fieldwork checks file")}
    return validate_file(FieldworkChecks, raw, path or shipped)

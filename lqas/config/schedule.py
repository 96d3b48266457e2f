"""Vaccination schedules (``lqas/data/schedules/*.toml``): the typed model behind `lqas.vaccination.load_schedule`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from lqas.config._validation import NonEmpty, NonEmptyText, Section, cross_field_problems, validate_file
from lqas.config.profile import DoseKey

Days = Annotated[int, Field(ge=0)]


def _positive_interval(value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise ValueError(f"must be a number of days above 0; got {value}")
    return value


class ScheduleInfo(Section):
    """``[schedule]``: name, the DTP series, the fully-vaccinated doses and the dropout pairs."""

    name: NonEmptyText | None = None
    dtp_series: NonEmptyText = "penta"
    fully_vaccinated: tuple[str, ...] = ()
    # pairs are checked against the doses by the file model, with the message naming both keys
    dropouts: tuple[tuple[str, ...], ...] = ()


class DoseEntry(Section):
    """``[[dose]]``: one dose of the schedule (ages and intervals in days)."""

    key: DoseKey
    label: NonEmptyText
    min_age_days: Days
    series: NonEmptyText | None = None
    number: Days | None = None
    max_age_days: Days | None = None
    min_interval_days: Annotated[int | None, AfterValidator(_positive_interval)] = None
    label_fr: NonEmptyText | None = None

    @model_validator(mode="after")
    def _ages_in_order(self) -> DoseEntry:
        if self.max_age_days is not None and self.max_age_days < self.min_age_days:
            raise ValueError(f"max_age_days ({self.max_age_days}) is below min_age_days ({self.min_age_days})")
        if (self.series is None) != (self.number is None):
            raise ValueError("series and number go together: a dose of a series has both, a single dose neither")
        return self


class ScheduleFile(Section):
    """A whole schedule file."""

    schedule: ScheduleInfo = ScheduleInfo()
    dose: Annotated[tuple[DoseEntry, ...], NonEmpty]

    @model_validator(mode="after")
    def _lists_name_doses(self) -> ScheduleFile:
        keys = [dose.key for dose in self.dose]
        problems = []
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            problems.append(("dose", f"dose key(s) {repeated} appear more than once"))
        unknown = [key for key in self.schedule.fully_vaccinated if key not in keys]
        if unknown:
            problems.append(("schedule.fully_vaccinated",
                             f"unknown dose(s) {unknown}; expected keys of [[dose]] entries: {keys}"))
        for pair in self.schedule.dropouts:
            if not (len(pair) == 2 and all(key in keys for key in pair)):
                reason = (f"{list(pair)!r} is not a pair of dose keys; expected "
                          f"[\"first\", \"second\"] with keys of [[dose]] entries: {keys}")
                problems.append(("schedule.dropouts", reason))
        if problems:
            raise cross_field_problems(problems)
        return self


def validate_schedule(raw: dict[str, Any], path: str | Path) -> ScheduleFile:
    """Check a parsed schedule file.

    Parameters
    ----------
    raw : dict
        The parsed TOML of the schedule.
    path : str or Path
        The schedule file, named in every problem line.

    Returns
    -------
    ScheduleFile
        The validated model (`lqas.vaccination.load_schedule` builds its ``Schedule`` from the raw dict).

    Raises
    ------
    ConfigError
        Every problem at once, one line each; ``fully_vaccinated`` and ``dropouts`` must name doses.
    """
    return validate_file(ScheduleFile, raw, path)

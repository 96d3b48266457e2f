"""The thresholds of the administrative data-quality checks and of the survey–admin comparison
(``lqas/data/dq_thresholds.toml``, or a programme's own file), validated by a typed model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from lqas.config._validation import NonEmptyText, Section, read_toml, validate_file
from lqas.resources import data_path

# thresholds written as numbers: "0.90" in quotes is a mistake, not a fraction
Fraction = Annotated[float, Field(ge=0, le=1, strict=True)]
Positive = Annotated[float, Field(gt=0, strict=True)]


class Reference(Section):
    source: NonEmptyText


class Completeness(Section):
    reporting_below: Fraction = 0.90
    timeliness_below: Fraction = 0.80


class Outliers(Section):
    moderate_z: Positive = 2.0
    extreme_z: Positive = 3.0
    modified_z: Positive = 3.5


class Consistency(Section):
    ratio_tolerance: Fraction = 0.33
    previous_years: Annotated[int, Field(ge=1, le=10, strict=True)] = 3


class Coverage(Section):
    above: Positive = 1.0
    year_swing: Fraction = 0.10


class SurveyRules(Section):
    ratio_tolerance: Fraction = 0.33
    gap: Fraction = 0.10


class Thresholds(Section):
    reference: Reference
    completeness: Completeness = Completeness()
    outliers: Outliers = Outliers()
    consistency: Consistency = Consistency()
    coverage: Coverage = Coverage()
    survey: SurveyRules = SurveyRules()


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The thresholds file ``path``, or the WHO's shipped with the package."""
    path = path or data_path("dq_thresholds.toml")
    return validate_file(Thresholds, read_toml(path, "thresholds file"), path)

"""The administrative data's configuration, validated by typed models: the thresholds of the
data-quality checks and of the survey–admin comparison (``lqas/data/dq_thresholds.toml``, or a
programme's own file), and the mapping of a DHIS2 extract to the survey (a programme's file: nothing in
code names a country's data elements or org units)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from lqas.config._validation import NonEmpty, NonEmptyText, Section, read_toml, validate_file
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


class Elements(Section):
    """Data elements of the extract (each by its uid, code or name, as the extract gives it) and,
    optionally, only some of their category option combos (e.g. the under-1 age band)."""

    data_elements: Annotated[tuple[NonEmptyText, ...], NonEmpty]
    category_option_combos: tuple[NonEmptyText, ...] = ()


class AdminMapping(Section):
    """``[admin] mapping``: ``[doses.<dose>]`` the elements counting the doses of a dose of the
    schedule (``penta1``, ``penta3``, ``mr1`` ...), ``[target]`` the target population's elements,
    ``[org_units]`` each DHIS2 org unit (uid, code or name) to the survey unit it counts for (several
    org units may count for one unit: a health area's facilities), ``reporting`` the data sets whose
    reporting rates are checked (every one in the extract when empty)."""

    doses: Annotated[dict[NonEmptyText, Elements], NonEmpty]
    target: Elements | None = None
    org_units: Annotated[dict[NonEmptyText, NonEmptyText], NonEmpty]
    reporting: tuple[NonEmptyText, ...] = ()


def load_mapping(path: Path) -> AdminMapping:
    """The mapping file of a DHIS2 extract."""
    return validate_file(AdminMapping, read_toml(path, "DHIS2 mapping file"), path)

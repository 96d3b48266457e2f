"""What the executive summary ranks, categorises and recommends (``lqas/data/priorities.toml``, or the
project's own copy named by ``[report] priorities``), validated by a typed model.

Every threshold is data: the access/utilisation categories' cut-offs, the conditions an area is
tested for, and the draft recommendations each set of conditions leads to, in both languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from lqas.config._validation import NonEmpty, NonEmptyText, Section, cross_field_problems, read_toml, validate_file
from lqas.resources import data_path

Fraction = Annotated[float, Field(ge=0, le=1, strict=True)]

# the four WHO RED categories, by access (first-dose coverage) and utilisation (dropout)
CATEGORIES = ("no_problem", "utilisation", "access", "access_and_utilisation")


class Texts(Section):
    """A text in each report language."""

    en: NonEmptyText
    fr: NonEmptyText


class Categories(Section):
    """``[categories]``: WHO RED problem categories of an area from two of its estimates."""

    source: Texts  # the reference the cut-offs come from, as the report cites it
    cohort: str = "oldest"  # the cohort the two estimates are read in: "oldest", "all" or a cohort's name
    access: NonEmptyText = "penta1_crude"  # first-dose coverage: access to the services
    dropout: NonEmptyText = "dropout_penta1_penta3"  # first to third dose dropout: their utilisation
    access_good_from: Fraction = 0.80  # access is good at or above this coverage
    dropout_good_to: Fraction = 0.10  # utilisation is good at or below this dropout


class Condition(Section):
    """``[conditions.<id>]``: a test of one area, of one of three kinds.

    - ``categories``: the area's access/utilisation category is one of these;
    - ``girls_worse``: for one of these indicators, girls fare significantly worse than boys in a lot
      of the area (design-based Rao-Scott p below ``p_below``);
    - ``indicator`` with ``at_least`` or ``below``: the area's estimate (both sexes, ``cohort``).
    """

    en: NonEmptyText  # what the condition says, as a column title in each language
    fr: NonEmptyText
    categories: tuple[Literal[CATEGORIES], ...] = ()  # type: ignore[valid-type]
    girls_worse: tuple[str, ...] = ()
    p_below: Fraction = 0.05
    indicator: str | None = None
    cohort: str = "all"
    at_least: Fraction | None = None
    below: Fraction | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [bool(self.categories), bool(self.girls_worse), self.indicator is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of categories, girls_worse or indicator")
        if self.indicator is not None and (self.at_least is None) == (self.below is None):
            raise ValueError("an indicator condition needs exactly one of at_least or below")
        return self


class Recommendation(Section):
    """``[[recommendations]]``: a draft recommendation for the areas where every condition holds."""

    id: NonEmptyText
    when: Annotated[tuple[str, ...], NonEmpty]
    en: NonEmptyText
    fr: NonEmptyText


class PrioritiesFile(Section):
    source: NonEmptyText
    categories: Categories
    conditions: dict[str, Condition] = Field(default_factory=dict)
    recommendations: tuple[Recommendation, ...] = ()

    @model_validator(mode="after")
    def _known_conditions(self) -> PrioritiesFile:
        problems = []
        ids = [rule.id for rule in self.recommendations]
        for number, rule in enumerate(self.recommendations, start=1):
            for name in rule.when:
                if name not in self.conditions:
                    problems.append((f"recommendations[{number}].when",
                                     f"'{name}' is not a condition; expected one of {sorted(self.conditions)}"))
            if ids.index(rule.id) != number - 1:
                problems.append((f"recommendations[{number}].id", f"'{rule.id}' is used by an earlier recommendation"))
        if problems:
            raise cross_field_problems(problems)
        return self


def load_priorities(path: str | Path | None = None) -> PrioritiesFile:
    """Read and validate a priorities file (default: ``lqas/data/priorities.toml``).

    Raises
    ------
    ConfigError
        Every problem of the file at once, one line each naming the file and the key.
    """
    path = Path(path) if path is not None else data_path("priorities.toml")
    return validate_file(PrioritiesFile, read_toml(path, "priorities file"), path)

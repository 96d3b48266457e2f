"""The gender & equity configuration (``lqas/data/equity.toml``): gender indicators, cross-tabulation
dimensions, and the scorecard with its traffic-light rules, validated by a typed model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from lqas.config._validation import NonEmpty, NonEmptyText, Section, cross_field_problems, read_toml, validate_file
from lqas.resources import data_path

# thresholds must be written as numbers: "0.10" in quotes is a mistake, not a fraction
Fraction = Annotated[float, Field(ge=0, le=1, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]

_GAP_KEYS = ("min_n", "red_p_below", "red_gap_against_girls_at_least", "amber_abs_difference_at_least",
             "amber_p_below")
_LEVEL_KEYS = {"lower": ("min_n", "red_at_or_above", "amber_at_or_above"),
               "higher": ("min_n", "red_below", "amber_below")}


class Labels(Section):
    label_en: NonEmptyText
    label_fr: NonEmptyText


class Words(Section):
    """A word or phrase in each report language."""

    en: NonEmptyText
    fr: NonEmptyText


class Meta(Section):
    reference: str | None = None
    status: str | None = None


class Category(Labels):
    key: NonEmptyText


class VaccinationStatus(Labels):
    definition: NonEmptyText
    spec: NonEmptyText
    categories: Annotated[tuple[Category, ...], NonEmpty]


class GenderIndicator(Labels):
    """``[indicator.<id>]``: a child-level 0/1 indicator from the codes of one source column."""

    direction: Literal["higher", "lower"]
    denominator: NonEmptyText
    definition: NonEmptyText
    spec: NonEmptyText
    source: NonEmptyText
    kind: Literal["besd_item", "categorical"]
    positive: Annotated[tuple[int | str, ...], NonEmpty]
    negative: tuple[int | str, ...] = ()

    @model_validator(mode="after")
    def _codes_disjoint(self) -> GenderIndicator:
        both = sorted(set(self.positive) & set(self.negative), key=str)
        if both:
            raise ValueError(f"code(s) {both} are both positive and negative")
        return self


class Dimension(Labels):
    order: tuple[str, ...] = ()
    groups: dict[str, Words] = Field(default_factory=dict)


class ScorecardRow(Labels):
    """``[[scorecard.rows]]``: a girls-boys gap (``sex_gap``) or a weighted level (``level``)."""

    id: NonEmptyText
    kind: Literal["sex_gap", "level"]
    indicator: NonEmptyText
    rule: NonEmptyText
    lower_is_better: bool | None = None
    filter: dict[str, str] = Field(default_factory=dict)
    # the row whose signal this one repeats (zero-dose is no Penta1: its gap mirrors the Penta1 gap): shown,
    # but not counted again in a unit's lights
    mirror_of: str | None = None

    @model_validator(mode="after")
    def _gap_direction_given(self) -> ScorecardRow:
        if self.kind == "sex_gap" and self.lower_is_better is None:
            raise ValueError("a sex_gap row needs lower_is_better = true or false (which way a gap hurts girls)")
        return self


class Scorecard(Section):
    unit: NonEmptyText
    rows: Annotated[tuple[ScorecardRow, ...], NonEmpty]


class Rule(Section):
    """``[rules.<id>]``: a traffic-light rule; its keys depend on ``kind`` (and ``direction`` for levels)."""

    kind: Literal["gap", "level"]
    direction: Literal["lower", "higher"] | None = None
    min_n: Count | None = None
    red_p_below: Fraction | None = None
    red_gap_against_girls_at_least: Fraction | None = None
    amber_abs_difference_at_least: Fraction | None = None
    amber_p_below: Fraction | None = None
    red_at_or_above: Fraction | None = None
    amber_at_or_above: Fraction | None = None
    red_below: Fraction | None = None
    amber_below: Fraction | None = None
    text_en: NonEmptyText
    text_fr: NonEmptyText

    @model_validator(mode="after")
    def _thresholds_fit_the_kind(self) -> Rule:
        if self.kind == "level" and self.direction is None:
            raise ValueError("a level rule needs direction = 'lower' or 'higher'")
        if self.kind == "gap" and self.direction is not None:
            raise ValueError("direction applies to level rules only; a gap rule is oriented against girls")
        needed = _GAP_KEYS if self.kind == "gap" else _LEVEL_KEYS[self.direction]
        threshold_keys = {*_GAP_KEYS, *_LEVEL_KEYS["lower"], *_LEVEL_KEYS["higher"]}
        problems = [(key, f"required key missing (a {self._describe()} needs numeric {', '.join(needed)})")
                    for key in needed if getattr(self, key) is None]
        problems += [(key, f"does not apply to a {self._describe()}; it uses {', '.join(needed)}")
                     for key in sorted(threshold_keys - set(needed)) if getattr(self, key) is not None]
        if problems:
            raise cross_field_problems(problems)
        if not self._red_at_least_as_strict():
            raise ValueError("the red threshold must be at least as strict as the amber one")
        return self

    def _red_at_least_as_strict(self) -> bool:
        if self.kind == "gap":
            return (self.red_p_below <= self.amber_p_below
                    and self.red_gap_against_girls_at_least >= self.amber_abs_difference_at_least)
        if self.direction == "lower":
            return self.red_at_or_above >= self.amber_at_or_above
        return self.red_below <= self.amber_below

    def _describe(self) -> str:
        return "gap rule" if self.kind == "gap" else f"level rule with direction '{self.direction}'"


class ScorecardFile(Section):
    """The whole ``equity.toml``."""

    meta: Meta = Meta()
    vaccination_status: VaccinationStatus
    indicator: dict[str, GenderIndicator] = Field(default_factory=dict)
    dimensions: dict[str, Dimension] = Field(default_factory=dict)
    scorecard: Scorecard
    rules: Annotated[dict[str, Rule], NonEmpty]

    @model_validator(mode="after")
    def _rows_name_rules(self) -> ScorecardFile:
        problems = []
        ids = [row.id for row in self.scorecard.rows]
        for number, row in enumerate(self.scorecard.rows, start=1):
            where = f"scorecard.rows[{number}]"
            rule = self.rules.get(row.rule)
            if rule is None:
                problems.append((f"{where}.rule", f"'{row.rule}' is not a rule; expected one of {sorted(self.rules)}"))
            elif (row.kind == "sex_gap") != (rule.kind == "gap"):
                needed = "gap" if row.kind == "sex_gap" else "level"
                problems.append((f"{where}.rule", f"a {row.kind} row needs a {needed} rule; '{row.rule}' is a {rule.kind} rule"))
            if row.mirror_of is not None and row.mirror_of not in ids:
                problems.append((f"{where}.mirror_of", f"'{row.mirror_of}' is not a row; expected one of {ids}"))
            if ids.count(row.id) > 1 and ids.index(row.id) != number - 1:
                problems.append((f"{where}.id", f"'{row.id}' is used by an earlier row"))
        if problems:
            raise cross_field_problems(problems)
        return self


def validate_scorecard(raw: dict[str, Any], path: str | Path) -> ScorecardFile:
    """Check a parsed ``equity.toml``.

    Parameters
    ----------
    raw : dict
        The parsed TOML.
    path : str or Path
        The file, named in every problem line.

    Returns
    -------
    ScorecardFile

    Raises
    ------
    ConfigError
        Every problem at once, one line each: unknown keys (with a suggestion), rules without
        text_en/text_fr or a numeric threshold, a red threshold less strict than the amber one,
        rows naming a missing rule or one of the other kind, rows without label_en/label_fr.
    """
    return validate_file(ScorecardFile, raw, path)


def load_scorecard_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate the equity definitions and scorecard rules.

    Parameters
    ----------
    path : str or Path, optional
        Default: ``lqas/data/equity.toml`` shipped with the package.

    Returns
    -------
    dict
        The file as parsed (what ``lqas.equity.load_equity_config`` returned): keys ``meta``,
        ``vaccination_status``, ``indicator`` (gender indicators by id), ``dimensions``,
        ``scorecard`` (``unit`` and the list of ``rows``), ``rules`` (traffic-light rules by id, each
        with ``text_en``/``text_fr``).

    Raises
    ------
    ConfigError
        Every problem of the file, one line each naming the file, the key and the reason.
    """
    path = Path(path) if path is not None else data_path("equity.toml")
    raw = read_toml(path, "scorecard configuration")
    validate_scorecard(raw, path)
    return raw

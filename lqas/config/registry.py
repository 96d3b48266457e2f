"""The indicator registry (``lqas/data/indicators.toml``): the typed model behind `lqas.indicators.load_registry`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from lqas.config._validation import NonEmptyText, Section, cross_field_problems, validate_file


class IndicatorEntry(Section):
    """``[indicator.<id>]``: labels (en/fr), direction and where the definition comes from."""

    label_en: NonEmptyText
    label_fr: NonEmptyText
    direction: Literal["higher", "lower"]
    denominator: NonEmptyText
    definition: NonEmptyText
    spec: NonEmptyText


def _placeholder_problems(entry: Section, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Fields whose ``{...}`` placeholders are not among ``names`` (str.format would fail at run time)."""
    sample = {name: name for name in names}
    problems = []
    for field, text in entry.model_dump().items():
        if not isinstance(text, str):
            continue
        try:
            text.format(**sample)
        except (KeyError, IndexError, ValueError):
            allowed = ", ".join("{" + name + "}" for name in names)
            problems.append((field, f"only {allowed} may stand in braces; got {text!r}"))
    return problems


class DoseTemplate(IndicatorEntry):
    """``[dose_templates.<name>]``: one ``<dose>_<name>`` indicator per dose (or per dose of ``doses``
    when the evidence exists for those only, e.g. the BCG scar); ``{label}`` = the dose's label."""

    doses: tuple[NonEmptyText, ...] | None = None

    @model_validator(mode="after")
    def _placeholders(self) -> DoseTemplate:
        problems = _placeholder_problems(self, ("label",))
        if problems:
            raise cross_field_problems(problems)
        return self


class DropoutTemplate(IndicatorEntry):
    """``[dropout_template]``: one ``dropout_<first>_<second>`` per pair; ``{first}``/``{second}`` = dose labels."""

    @model_validator(mode="after")
    def _placeholders(self) -> DropoutTemplate:
        problems = _placeholder_problems(self, ("first", "second"))
        if problems:
            raise cross_field_problems(problems)
        return self


class IndicatorRegistryFile(Section):
    """The whole registry file."""

    indicator: dict[str, IndicatorEntry]
    dose_templates: dict[str, DoseTemplate] = Field(default_factory=dict)
    dropout_template: DropoutTemplate


def validate_indicator_registry(raw: dict[str, Any], path: str | Path) -> IndicatorRegistryFile:
    """Check the parsed indicator registry.

    Parameters
    ----------
    raw : dict
        The parsed TOML of ``indicators.toml``.
    path : str or Path
        The file, named in every problem line.

    Returns
    -------
    IndicatorRegistryFile

    Raises
    ------
    ConfigError
        Every problem at once, one line each (unknown keys with a suggestion, missing labels,
        a direction other than higher/lower, unknown placeholders in the templates).
    """
    return validate_file(IndicatorRegistryFile, raw, path)

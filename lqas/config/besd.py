"""BeSD codings and items (``lqas/data/besd.toml``): the typed model behind `lqas.besd.load_besd_registry`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from lqas.config._validation import NonEmpty, NonEmptyText, Section, cross_field_problems, validate_file


class Labels(Section):
    label_en: NonEmptyText
    label_fr: NonEmptyText


class Meta(Section):
    source: str | None = None
    reference: str | None = None


class Eligibility(Section):
    """``[eligibility]``: who answers the BeSD module (every listed column present holds an accepted code)."""

    columns: Annotated[tuple[NonEmptyText, ...], NonEmpty]
    scale: NonEmptyText
    accept: Annotated[tuple[int, ...], NonEmpty]


class Item(Labels):
    """``[items.<CHI_name>]``: one core item and its 0/1 indicator."""

    indicator: NonEmptyText
    domain: NonEmptyText
    scale: NonEmptyText
    favourable: Annotated[tuple[int, ...], NonEmpty]
    priority: bool
    reverse: bool
    spec: NonEmptyText


class Option(Labels):
    key: NonEmptyText
    adaptation: bool


class MultiSelect(Labels):
    """``[multiselect.<stem>]``: one 0/1 indicator per option, plus an optional gender-barrier indicator."""

    indicator_prefix: NonEmptyText
    domain: NonEmptyText
    exclusive: NonEmptyText
    gender_related: tuple[str, ...] = ()
    gender_indicator: NonEmptyText | None = None
    gender_label_en: NonEmptyText | None = None
    gender_label_fr: NonEmptyText | None = None
    spec: NonEmptyText
    options: Annotated[tuple[Option, ...], NonEmpty]

    @model_validator(mode="after")
    def _options_named(self) -> MultiSelect:
        keys = [option.key for option in self.options]
        problems = []
        if self.exclusive not in keys:
            problems.append(("exclusive", f"'{self.exclusive}' is not an option key; expected one of {keys}"))
        unknown = [key for key in self.gender_related if key not in keys]
        if unknown:
            problems.append(("gender_related", f"{unknown} are not option keys; expected keys of {keys}"))
        if self.gender_indicator is not None:
            problems += [(name, "required key missing (gender_indicator is set)")
                         for name in ("gender_label_en", "gender_label_fr") if getattr(self, name) is None]
        if problems:
            raise cross_field_problems(problems)
        return self


class Scale(Section):
    """Raw codes (``from``) and the canonical BeSD-TI codes they stand for (``to``), position by position."""

    from_: Annotated[tuple[int, ...], NonEmpty] = Field(alias="from")
    to: Annotated[tuple[int, ...], NonEmpty]

    @model_validator(mode="after")
    def _same_length(self) -> Scale:
        if len(self.from_) != len(self.to):
            raise ValueError(f"from has {len(self.from_)} codes and to has {len(self.to)}; they pair up one to one")
        return self


class Coding(Section):
    """``[codings.<name>]``: how one survey codes the answers, scale by scale."""

    label: NonEmptyText
    missing: tuple[int, ...] = ()
    scales: Annotated[dict[str, Scale], NonEmpty]


class Plot(Section):
    order: tuple[str, ...]


class BesdRegistryFile(Section):
    """The whole BeSD registry file."""

    meta: Meta = Meta()
    domains: dict[str, Labels] = Field(default_factory=dict)
    eligibility: Eligibility
    items: Annotated[dict[str, Item], NonEmpty]
    multiselect: dict[str, MultiSelect] = Field(default_factory=dict)
    codings: Annotated[dict[str, Coding], NonEmpty]
    plots: dict[str, Plot] = Field(default_factory=dict)
    multiselect_problems: dict[str, Labels] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_resolve(self) -> BesdRegistryFile:
        problems = []
        for name, coding in self.codings.items():
            for item, spec in self.items.items():
                scale = coding.scales.get(spec.scale)
                if scale is None:
                    problems.append((f"items.{item}.scale",
                                     f"coding '{name}' has no scale '{spec.scale}'; it has {sorted(coding.scales)}"))
                elif not set(spec.favourable) <= set(scale.to):
                    reason = (f"{list(spec.favourable)} are not canonical '{spec.scale}' codes "
                              f"{sorted(set(scale.to))} (coding '{name}')")
                    problems.append((f"items.{item}.favourable", reason))
            if self.eligibility.scale not in coding.scales:
                problems.append(("eligibility.scale", f"coding '{name}' has no scale '{self.eligibility.scale}'"))
        for where, entries in (("items", self.items), ("multiselect", self.multiselect)):
            for name, entry in entries.items():
                if self.domains and entry.domain not in self.domains:
                    problems.append((f"{where}.{name}.domain",
                                     f"'{entry.domain}' is not a domain; expected one of {sorted(self.domains)}"))
        indicators = [item.indicator for item in self.items.values()]
        repeated = sorted({name for name in indicators if indicators.count(name) > 1})
        if repeated:
            problems.append(("items", f"indicator name(s) {repeated} used by more than one item"))
        for name, plot in self.plots.items():
            unknown = [item for item in plot.order if item not in self.items]
            if unknown:
                problems.append((f"plots.{name}.order", f"{unknown} are not items; expected keys of [items]"))
        if problems:
            raise cross_field_problems(problems)
        return self


def validate_besd_registry(raw: dict[str, Any], path: str | Path) -> BesdRegistryFile:
    """Check the parsed BeSD registry.

    Parameters
    ----------
    raw : dict
        The parsed TOML of ``besd.toml``.
    path : str or Path
        The file, named in every problem line.

    Returns
    -------
    BesdRegistryFile

    Raises
    ------
    ConfigError
        Every problem at once, one line each; an item's scale must exist in every coding and its
        favourable codes must be canonical codes of that scale.
    """
    return validate_file(BesdRegistryFile, raw, path)

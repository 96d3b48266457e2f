"""Indicator registry: definitions, directions and en/fr labels of every child-level indicator."""

from __future__ import annotations

from dataclasses import dataclass

from lqas.besd import load_besd_registry
from lqas.config import load_scorecard_config
from lqas.config._validation import read_toml
from lqas.config.registry import validate_indicator_registry
from lqas.resources import data_path
from lqas.vaccination import Schedule


@dataclass(frozen=True)
class Indicator:
    id: str
    label_en: str
    label_fr: str
    direction: str
    denominator: str
    definition: str
    spec: str

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower"

    def label(self, lang: str) -> str:
        return self.label_fr if lang == "fr" else self.label_en


def load_registry(schedule: Schedule) -> dict[str, Indicator]:
    """All indicators: the fixed ones, one ``<dose>_<template>`` per dose of the schedule and
    ``[dose_templates.<template>]`` entry (``crude``, ``valid``), and one ``dropout_<first>_<second>``
    per dropout pair of the schedule."""
    path = data_path("indicators.toml")
    raw = read_toml(path, "indicator registry")
    validate_indicator_registry(raw, path)
    registry = {key: Indicator(id=key, **value) for key, value in raw["indicator"].items()}
    for name, template in raw["dose_templates"].items():
        for dose in schedule.doses:
            if template.get("doses") is not None and dose.key not in template["doses"]:
                continue
            key = f"{dose.key}_{name}"
            registry[key] = Indicator(
                id=key, label_en=template["label_en"].format(label=dose.label_in("en")),
                label_fr=template["label_fr"].format(label=dose.label_in("fr")), direction=template["direction"],
                denominator=template["denominator"], definition=template["definition"], spec=template["spec"])
    dropout = raw["dropout_template"]
    for first, second in schedule.dropout_pairs():
        key = f"dropout_{first}_{second}"
        names = {lang: {"first": schedule.dose(first).label_in(lang), "second": schedule.dose(second).label_in(lang)}
                 for lang in ("en", "fr")}
        registry[key] = Indicator(id=key, **{field: text.format(**names["fr" if field == "label_fr" else "en"])
                                             for field, text in dropout.items()})
    registry.update(besd_indicators())
    registry.update(gender_indicators())
    return registry


def besd_indicators() -> dict[str, Indicator]:
    """BeSD indicators (core items, multi-select options, gender barrier) from ``besd.toml``."""
    besd = load_besd_registry()
    denominator = "all eligible respondents (BeSD-TI weighted ALL)"
    out: dict[str, Indicator] = {}
    for item, spec in besd["items"].items():
        out[spec["indicator"]] = Indicator(
            id=spec["indicator"], label_en=spec["label_en"], label_fr=spec["label_fr"], direction="higher",
            denominator=denominator, definition=f"{item} in favourable codes {spec['favourable']}",
            spec=spec["spec"])
    for stem, multi in besd["multiselect"].items():
        for option in multi["options"]:
            key = f"{multi['indicator_prefix']}{option['key']}"
            out[key] = Indicator(
                id=key, label_en=option["label_en"], label_fr=option["label_fr"], direction="lower",
                denominator=denominator, definition=f"option '{option['key']}' of {stem} selected",
                spec=multi["spec"])
        if "gender_indicator" in multi:
            out[multi["gender_indicator"]] = Indicator(
                id=multi["gender_indicator"], label_en=multi["gender_label_en"], label_fr=multi["gender_label_fr"],
                direction="lower", denominator=denominator,
                definition=f"any of {', '.join(multi['gender_related'])} selected in {stem}", spec=multi["spec"])
    return out


def gender_indicators() -> dict[str, Indicator]:
    """The gender indicators of ``lqas/data/equity.toml`` (``mother_needs_permission``,
    ``mother_decides_vaccination``; derived by :func:`lqas.gender.derive_gender`)."""
    fields = ("label_en", "label_fr", "direction", "denominator", "definition", "spec")
    return {key: Indicator(id=key, **{field: spec[field] for field in fields})
            for key, spec in load_scorecard_config()["indicator"].items()}

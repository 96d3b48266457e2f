"""Indicator registry: definitions, directions and en/fr labels of every child-level indicator."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

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
    """All indicators: the fixed ones plus one ``<dose>_<template>`` per dose of the schedule and
    ``[dose_templates.<template>]`` entry (``crude``, ``valid``)."""
    raw = tomllib.loads(data_path("indicators.toml").read_text(encoding="utf-8"))
    registry = {key: Indicator(id=key, **value) for key, value in raw["indicator"].items()}
    for name, template in raw["dose_templates"].items():
        for dose in schedule.doses:
            key = f"{dose.key}_{name}"
            registry[key] = Indicator(
                id=key, label_en=template["label_en"].format(label=dose.label),
                label_fr=template["label_fr"].format(label=dose.label), direction=template["direction"],
                denominator=template["denominator"], definition=template["definition"], spec=template["spec"])
    return registry

"""Vaccination status (03DV): schedule + dose evidence -> crude doses and child-level indicators."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.errors import ConfigError
from lqas.resources import data_path

SOURCE_CODES = ("card_date", "card_tick", "register", "recall", "scar", "implied", "none")


@dataclass(frozen=True)
class Dose:
    key: str
    label: str
    min_age_days: int
    series: str | None = None
    number: int | None = None
    max_age_days: int | None = None
    min_interval_days: int | None = None


@dataclass(frozen=True)
class Schedule:
    name: str
    doses: tuple[Dose, ...]
    dtp_series: str = "penta"

    @property
    def keys(self) -> list[str]:
        return [dose.key for dose in self.doses]

    def dose(self, key: str) -> Dose:
        return next(dose for dose in self.doses if dose.key == key)

    def series(self, name: str) -> list[Dose]:
        return sorted((d for d in self.doses if d.series == name), key=lambda d: d.number or 0)


def load_schedule(name_or_path: str | Path) -> Schedule:
    """A schedule by name (shipped in ``lqas/data/schedules``) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = data_path("schedules", f"{name_or_path}.toml")
    if not path.is_file():
        raise ConfigError(f"schedule '{name_or_path}' not found (looked for {path})")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        doses = tuple(Dose(**entry) for entry in raw["dose"])
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: invalid [[dose]] entry ({exc})") from None
    info = raw.get("schedule", {})
    return Schedule(info.get("name", path.stem), doses, info.get("dtp_series", "penta"))


def _column(children: pd.DataFrame, name: str, default: float = np.nan) -> pd.Series:
    if name in children:
        return pd.to_numeric(children[name], errors="coerce") if not name.endswith("_date") else children[name]
    return pd.Series(pd.NaT if name.endswith("_date") else default, index=children.index)


def _evidence(children: pd.DataFrame, dose: Dose, records: str) -> pd.DataFrame:
    """Per-source 0/1 evidence of one dose (VCQI `got_crude_<d>_by_*`)."""
    card = pd.Series(_column(children, f"{dose.key}_card_date").notna(), index=children.index)
    tick = _column(children, f"{dose.key}_card_tick") == 1
    register = (_column(children, f"{dose.key}_register_date").notna()
                | (_column(children, f"{dose.key}_register_tick") == 1))
    recall = _column(children, f"{dose.key}_recall") == 1
    scar = (_column(children, "bcg_scar") == 1) if dose.key == "bcg" else pd.Series(False, index=children.index)
    return pd.DataFrame({"card_date": card, "card_tick": tick & ~card, "register": register,
                         "recall": recall, "scar": scar})


def derive(children: pd.DataFrame, schedule: Schedule, *, records: str = "not_sought",
           later_dose_implies_earlier: bool = True,
           cohorts: dict[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Add crude doses and child-level indicators to the canonical child table.

    Parameters
    ----------
    children : DataFrame
        Canonical child table with ``age_days`` and ``cohort`` (from ingest).
    records : {"not_sought", "if_no_card", "all"}, default="not_sought"
        VCQI protocol for health-facility registers (vcqi.md §2).
    later_dose_implies_earlier : bool, default=True
        Evidence of dose k of a series implies doses 1..k-1 (VCQI clean-up); the implied doses have
        source ``implied`` so their effect on zero-dose can be counted.

    Returns
    -------
    DataFrame
        The input columns plus, per dose, ``<dose>_crude`` (0/1, NaN when the child is younger than
        the dose's minimum age and the minimum age is above its cohort's lower bound, as VCQI) and
        ``<dose>_source`` (one of ``SOURCE_CODES``); and ``zero_dose``, ``ui_dtp1_not_dtp3``,
        ``no_dtp3``, ``card_ever``, ``card_seen``, ``dropout_penta1_penta3``,
        ``dropout_penta1_mr1``, ``dropout_mr1_mr2``.

    Notes
    -----
    Crude = card date or card tick or recall (register per protocol; BCG scar), VCQI RI_COVG_01.
    A child with no evidence stays in the denominator as unvaccinated.
    """
    out = children.copy()
    cohorts = cohorts or {}
    cohort_min = out["cohort"].map({name: window[0] for name, window in cohorts.items()})
    has_card = pd.Series(False, index=out.index)
    evidence = {dose.key: _evidence(out, dose, records) for dose in schedule.doses}
    for frame in evidence.values():
        has_card |= frame["card_date"] | frame["card_tick"]

    got: dict[str, pd.Series] = {}
    source: dict[str, pd.Series] = {}
    for dose in schedule.doses:
        frame = evidence[dose.key]
        use_register = {"not_sought": False, "all": True}.get(records)
        register = frame["register"] & (~has_card if use_register is None else use_register)
        ordered = [("card_date", frame["card_date"]), ("card_tick", frame["card_tick"]),
                   ("register", register), ("recall", frame["recall"]), ("scar", frame["scar"])]
        label = pd.Series("none", index=out.index, dtype=object)
        for name, mask in reversed(ordered):  # the strongest source wins
            label = label.mask(mask, name)
        got[dose.key] = label != "none"
        source[dose.key] = label

    if later_dose_implies_earlier:
        for series_name in {d.series for d in schedule.doses if d.series}:
            doses = [d for d in schedule.series(series_name) if (d.number or 0) >= 1]
            later = pd.Series(False, index=out.index)
            for dose in reversed(doses):
                implied = later & ~got[dose.key]
                source[dose.key] = source[dose.key].mask(implied, "implied")
                got[dose.key] = got[dose.key] | later
                later = later | got[dose.key]

    new = {}
    for dose in schedule.doses:
        # VCQI: a dose whose minimum age exceeds the cohort's lower bound counts only for children
        # old enough for it
        too_young = (out["age_days"] < dose.min_age_days) & (cohort_min < dose.min_age_days)
        new[f"{dose.key}_crude"] = got[dose.key].astype(float).mask(too_young)
        new[f"{dose.key}_source"] = source[dose.key]
    out = pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)

    dtp = [d.key for d in schedule.series(schedule.dtp_series) if (d.number or 0) >= 1]
    dtp1, dtp3 = out[f"{dtp[0]}_crude"], out[f"{dtp[-1]}_crude"]
    out["zero_dose"] = 1.0 - dtp1
    out["ui_dtp1_not_dtp3"] = ((dtp1 == 1) & (dtp3 == 0)).astype(float).where(dtp1.notna() & dtp3.notna())
    out["no_dtp3"] = 1.0 - dtp3
    for column in ("card_ever", "card_seen"):
        out[column] = _column(out, column)
    out["dropout_penta1_penta3"] = _dropout(out, dtp[0], dtp[-1])
    if {"mr1", "mr2"} <= set(schedule.keys):
        out["dropout_penta1_mr1"] = _dropout(out, dtp[0], "mr1")
        out["dropout_mr1_mr2"] = _dropout(out, "mr1", "mr2")
    return out


def _dropout(out: pd.DataFrame, first: str, second: str) -> pd.Series:
    """1 if dose `second` is missing among children with `first` who are old enough for `second`."""
    got_first, got_second = out[f"{first}_crude"], out[f"{second}_crude"]
    return (1.0 - got_second).where((got_first == 1) & got_second.notna())

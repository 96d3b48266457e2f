"""Classify (LQAS): every lot of the project against every target of ``[lqas] targets``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from lqas.config import LqasConfig
from lqas.errors import SettingError
from lqas.indicators import Indicator
from lqas.rules import Target, classify


def lot_targets(settings: LqasConfig, registry: Mapping[str, Indicator]) -> list[Target]:
    """The project's targets, each with its indicator's direction from the registry (zero-dose:
    lower is better, so it is classified on its complement)."""
    targets = []
    for i, target in enumerate(settings.targets, start=1):
        key = f"lqas.targets[{i}]"
        if target.indicator not in registry:
            close = difflib.get_close_matches(target.indicator, list(registry), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see lqas/data/indicators.toml for the names"
            raise SettingError(key, f"indicator '{target.indicator}' is not an indicator of this survey; {hint}")
        lower = registry[target.indicator].lower_is_better
        if (target.good >= target.bad) if lower else (target.good <= target.bad):
            # good and bad swapped would turn the decision rule upside down
            raise SettingError(key, f"'{target.indicator}' is better when {'lower' if lower else 'higher'}, so good "
                                    f"must be {'below' if lower else 'above'} bad; got good = {target.good}, "
                                    f"bad = {target.bad}")
        targets.append(Target(indicator=target.indicator, good=target.good, bad=target.bad,
                              lower_is_better=lower, cohorts=target.cohorts))
    return targets


def classify_lots(table: pd.DataFrame, registry: Mapping[str, Indicator], settings: LqasConfig,
                  exclusions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``classification.csv``: one row per lot x target with n, x, the decision rule d, alpha, beta
    and the class (see :func:`lqas.rules.classify`).

    A catchment whose every record was excluded (``exclusions`` name its catchment) keeps its lots,
    classed ``no_data`` with n = 0, instead of vanishing from the classification and the report.
    """
    lost = lost_catchments(table, exclusions)
    if lost and set(settings.lot) <= {"catchment", "cohort"}:
        cohorts = list(dict.fromkeys(table["cohort"])) if "cohort" in settings.lot else [None]
        # one child per lost lot with no outcome: counted in no denominator, so its lots are no_data
        empty = pd.DataFrame([{"catchment": c, "cohort": k} for c in lost for k in cohorts])
        table = pd.concat([table, empty[[c for c in empty if c in settings.lot]]], ignore_index=True)
    return classify(table, lot_targets(settings, registry), lot=settings.lot, alpha=settings.alpha,
                    beta=settings.beta)


def lost_catchments(table: pd.DataFrame, exclusions: pd.DataFrame | None) -> list[str]:
    """Catchments of the export with no child left to analyse (every record excluded)."""
    if exclusions is None or exclusions.empty or "catchment" not in exclusions:
        return []
    kept = set(table["catchment"].astype(str))
    return sorted({str(c) for c in exclusions["catchment"].dropna()} - kept)

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


def classify_lots(table: pd.DataFrame, registry: Mapping[str, Indicator], settings: LqasConfig) -> pd.DataFrame:
    """``classification.csv``: one row per lot x target with n, x, the decision rule d, alpha, beta
    and the class (see :func:`lqas.rules.classify`)."""
    return classify(table, lot_targets(settings, registry), lot=settings.lot, alpha=settings.alpha,
                    beta=settings.beta)

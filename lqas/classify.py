"""Classify (LQAS): every lot of the project against every target of ``[lqas] targets``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from lqas.config import LqasConfig
from lqas.errors import ConfigError
from lqas.indicators import Indicator
from lqas.rules import Target, classify


def lot_targets(settings: LqasConfig, registry: Mapping[str, Indicator]) -> list[Target]:
    """The project's targets, each with its indicator's direction from the registry (zero-dose:
    lower is better, so it is classified on its complement)."""
    for target in settings.targets:
        if target.indicator not in registry:
            close = difflib.get_close_matches(target.indicator, list(registry), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see lqas/data/indicators.toml for the names"
            raise ConfigError(f"survey.toml: key 'lqas.targets': indicator '{target.indicator}' is not an indicator "
                              f"of this survey; {hint}")
    return [Target(indicator=t.indicator, good=t.good, bad=t.bad,
                   lower_is_better=registry[t.indicator].lower_is_better, cohorts=t.cohorts)
            for t in settings.targets]


def classify_lots(table: pd.DataFrame, registry: Mapping[str, Indicator], settings: LqasConfig) -> pd.DataFrame:
    """``classification.csv``: one row per lot x target with n, x, the decision rule d, alpha, beta
    and the class (see :func:`lqas.rules.classify`)."""
    return classify(table, lot_targets(settings, registry), lot=settings.lot, alpha=settings.alpha,
                    beta=settings.beta)

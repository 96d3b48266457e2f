"""Compare (04GO): design-based girls - boys comparisons of the headline indicators, in every lot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from lqas.config import DesignConfig
from lqas.design import SurveyDesign
from lqas.indicators import Indicator

GIRLS, BOYS = "F", "M"
# the indicators whose girls - boys gaps the report and the scorecard state
SEX_GAP_INDICATORS = ("zero_dose", "ui_dtp1_not_dtp3", "penta1_crude", "penta3_crude", "mr1_crude")


def compare_sexes(design: SurveyDesign, registry: Mapping[str, Indicator], settings: DesignConfig,
                  indicators: Iterable[str] = SEX_GAP_INDICATORS) -> pd.DataFrame:
    """Girls - boys difference, ratio and Rao-Scott test by cohort x catchment (margins ``all`` included).

    One frame serves the key findings, ``comparisons.csv`` and the scorecard. ``group_a`` is
    always girls (F) and ``group_b`` boys (M); the direction of each indicator (zero-dose: lower
    is better) comes from the registry and decides who is ``disadvantaged``. Empty when the data
    have no girls or no boys, or none of the indicators.
    """
    data = design.data
    outcomes = [key for key in dict.fromkeys(indicators) if key in data and data[key].notna().any()]
    if not outcomes or "sex" not in data or not {GIRLS, BOYS} <= set(data["sex"]):
        return pd.DataFrame()
    by = [column for column in ("cohort", "catchment") if column in data]
    return pd.concat([design.compare(key, group="sex", by=by, groups=(GIRLS, BOYS),
                                     lower_is_better=registry[key].lower_is_better, level=settings.level)
                      for key in outcomes], ignore_index=True)

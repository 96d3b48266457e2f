"""Estimates (04GO): every indicator x every domain in one tidy frame, through SurveyDesign."""

from __future__ import annotations

import pandas as pd

from lqas.design import SurveyDesign

DOMAINS = ("cohort", "catchment", "sex")


def estimate_indicators(derived: pd.DataFrame, indicators: list[str], *, strata: str | None,
                        psu: str | None, weight: str, singleton: str = "adjust", ci: str = "wilson",
                        level: float = 0.95, by: tuple[str, ...] = DOMAINS, nest: bool = False,
                        empty_psus: dict[str, int] | None = None) -> pd.DataFrame:
    """Weighted, design-based proportions for all indicators by cohort x catchment x sex and margins.

    Returns the tidy schema of DESIGN.md §4 (see ``lqas.design.ESTIMATE_COLUMNS``) with a
    ``district`` column added after ``catchment`` (``all`` where the catchment is ``all``).
    """
    design = SurveyDesign(derived, strata=strata, psu=psu, weight=weight, singleton=singleton, nest=nest,
                          empty_psus=empty_psus)
    estimates = design.proportions(indicators, by=list(by), ci=ci, level=level, margins=True)
    if "catchment" in by and "district" in derived:
        district_of = derived.drop_duplicates("catchment").set_index("catchment")["district"].astype(str)
        district = estimates["catchment"].map(district_of).fillna("all")
        estimates.insert(estimates.columns.get_loc("catchment"), "district", district)
    return estimates.reset_index(drop=True)

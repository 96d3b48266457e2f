"""Charts drawn by a level above the catchment (a national survey draws its districts, not its
1,800 catchments): the rows drawn are the districts' own estimates, not their catchments' or strata's."""

import itertools

import numpy as np
import pandas as pd
import pytest

from lqas import charts

DISTRICTS = {"d1": "Bougouni", "d2": "Niono"}
CATCHMENTS = {"c1": ("d1", "Kologo"), "c2": ("d1", "Bougouni Est"), "c3": ("d2", "N'Débougou")}
COHORTS = {"18w-11m": "18 semaines–11 mois", "12-23m": "12–23 mois"}
TEXT = {"girls": "Filles", "boys": "Garçons", "percent_axis": "Pourcentage d'enfants (IC à 95 %)",
        "all_catchments": "Toutes les aires de santé"}


@pytest.fixture
def estimates():
    """Estimates as a run makes them: a catchment's rows name its district, a district's rows have
    catchment 'all'; every geography also by area (a stratifier) and by sex, each row its own value."""
    geography = [*((district, catchment) for catchment, (district, _) in CATCHMENTS.items()),
                 *((district, "all") for district in DISTRICTS), ("all", "all")]
    rows = []
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        for cohort, (district, catchment), area, sex in itertools.product(
                [*COHORTS, "all"], geography, ("all", "urban", "rural"), ("F", "M", "all")):
            p = 0.05 + 0.85 * len(rows) / 1000  # distinct values: a wrong row is a wrong value
            rows.append({"indicator": indicator, "cohort": cohort, "district": district, "catchment": catchment,
                         "area": area, "sex": sex, "vaccination_status": "all", "n": 40, "estimate": p,
                         "ci_low": p * 0.8, "ci_high": p * 1.1})
    return pd.DataFrame(rows)


def _expected(estimates, indicator, cohort, sex, districts):
    """Each district's own row (catchment 'all', area 'all'), then the survey's (when asked)."""
    picked = []
    for district in districts:
        row = estimates[(estimates["indicator"] == indicator) & (estimates["cohort"] == cohort)
                        & (estimates["district"] == district) & (estimates["catchment"] == "all")
                        & (estimates["area"] == "all") & (estimates["sex"] == sex)]
        assert len(row) == 1
        picked.append(100 * row["estimate"].iloc[0])
    return picked


def _points(ax):
    """x and y of each drawn series of estimates (the marker lines of the error bars, not their caps)."""
    return [(line.get_xdata(), line.get_ydata()) for line in ax.get_lines()
            if line.get_marker() not in (None, "None", "", " ", "|", "_") and line.get_linestyle() in ("None", "")]


def test_inchworm_chart_by_district_draws_the_districts_rows(estimates):
    figure = charts.inchworm_chart(estimates, ["zero_dose"], list(COHORTS), labels={"zero_dose": "Zéro dose"},
                                   catchment_labels=DISTRICTS, cohort_labels=COHORTS, text=TEXT, column="district")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [*DISTRICTS.values(), TEXT["all_catchments"]]
    drawn = _points(ax)
    assert len(drawn) == len(COHORTS)
    for (x, _), cohort in zip(drawn, COHORTS):
        np.testing.assert_allclose(x, _expected(estimates, "zero_dose", cohort, "all", [*DISTRICTS, "all"]))


def test_sex_gap_chart_by_district_draws_the_districts_rows(estimates):
    figure = charts.sex_gap_chart(estimates, ["zero_dose", "ui_dtp1_not_dtp3"], ["12-23m"],
                                  labels={"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vacciné"},
                                  catchment_labels=DISTRICTS, cohort_labels=COHORTS, text=TEXT, column="district")
    # a shared y axis: the labels are drawn beside the first panel only
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(DISTRICTS.values())
    for ax, indicator in zip(figure.axes, ["zero_dose", "ui_dtp1_not_dtp3"]):
        (girls, _), (boys, _) = _points(ax)
        np.testing.assert_allclose(girls, _expected(estimates, indicator, "12-23m", "F", DISTRICTS))
        np.testing.assert_allclose(boys, _expected(estimates, indicator, "12-23m", "M", DISTRICTS))


def test_charts_by_catchment_still_draw_the_catchments_with_their_district_filled_in(estimates):
    names = {code: name for code, (_, name) in CATCHMENTS.items()}
    figure = charts.inchworm_chart(estimates, ["zero_dose"], ["12-23m"], labels={"zero_dose": "Zéro dose"},
                                   catchment_labels=names, cohort_labels=COHORTS, text=TEXT)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [*names.values(), TEXT["all_catchments"]]
    part = estimates[(estimates["indicator"] == "zero_dose") & (estimates["cohort"] == "12-23m")
                     & (estimates["area"] == "all") & (estimates["sex"] == "all")]
    expected = [100 * part.loc[part["catchment"] == code, "estimate"].item() for code in names]
    expected.append(100 * part.loc[part["district"] == "all", "estimate"].item())
    ((x, _),) = _points(ax)
    np.testing.assert_allclose(x, expected)

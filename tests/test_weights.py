"""Weights from lot populations, and a weighted proportion computed by hand through the design."""

import pandas as pd
import pytest

from lqas.design import SurveyDesign
from lqas.errors import InputError
from lqas.weights import population_weights

LOT = ("catchment", "cohort")


def test_weight_is_lot_population_over_children_kept():
    children = pd.DataFrame({"catchment": ["a", "a", "a", "b"], "cohort": ["x", "x", "y", "x"]})
    populations = pd.DataFrame({"catchment": ["a", "a", "b"], "cohort": ["x", "y", "x"], "population": [300, 50, 80]})
    weights = population_weights(children, populations, LOT)
    assert weights.tolist() == [150.0, 150.0, 50.0, 80.0]


def test_lot_without_population_is_named():
    children = pd.DataFrame({"catchment": ["a"], "cohort": ["x"]})
    populations = pd.DataFrame({"catchment": ["b"], "cohort": ["x"], "population": [10]})
    with pytest.raises(InputError, match=r"pop.csv: no population for lot \{'catchment': 'a', 'cohort': 'x'\}"):
        population_weights(children, populations, LOT, "pop.csv")


def test_weighted_proportion_by_hand():
    # lot a: 2 children, population 300 -> weight 150 each; lot b: 1 child, population 100 -> 100
    # zero-dose children: one in a, the one in b -> (150 + 100) / (150 + 150 + 100) = 0.625
    children = pd.DataFrame({"catchment": ["a", "a", "b"], "cohort": ["x", "x", "x"], "cluster": ["1", "2", "3"],
                             "zero_dose": [1.0, 0.0, 1.0]})
    populations = pd.DataFrame({"catchment": ["a", "b"], "cohort": ["x", "x"], "population": [300, 100]})
    children["weight"] = population_weights(children, populations, LOT)
    estimate = SurveyDesign(children, strata=None, psu="cluster", weight="weight").proportions(["zero_dose"])
    overall = estimate.iloc[0]
    assert overall["estimate"] == pytest.approx(0.625, rel=1e-12)
    assert overall["n"] == 3 and overall["n_weighted"] == pytest.approx(400)

"""SurveyDesign.proportions against R survey (svymean/svyby/svyciprop) and hand calculations."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lqas.design import ESTIMATE_COLUMNS, SurveyDesign
from lqas.errors import DesignError

ORACLE = Path(__file__).parent / "oracles" / "survey_proportions.R"


def r_survey_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    return subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True).returncode == 0


needs_r = pytest.mark.skipif(not r_survey_available(), reason="Rscript with the R 'survey' package is not installed")


@pytest.fixture(scope="module")
def sample():
    """3 strata (one with a single PSU), unequal weights, NaN outcomes, domain 'c' absent from most PSUs."""
    rng = np.random.default_rng(7)
    rows = []
    layout = {"s1": 5, "s2": 4, "s3": 1}
    for stratum, n_psu in layout.items():
        for k in range(n_psu):
            level = rng.uniform(0.1, 0.95)  # PSU effect, so design effects exceed 1
            for _ in range(rng.integers(4, 9)):
                rows.append({"stratum": stratum, "psu": f"{stratum}-{k}", "w": float(rng.uniform(0.5, 4.0)),
                             "dom": rng.choice(["a", "b"]), "y1": float(rng.random() < level),
                             "y2": float(rng.random() < 0.3)})
    frame = pd.DataFrame(rows)
    frame.loc[frame.index % 7 == 0, "y1"] = np.nan
    frame.loc[[3, 20, 41], "dom"] = "c"
    frame.loc[[1, 2], "y2"] = np.nan
    return frame


def run_r(frame, tmp_path, lonely):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False, na_rep="NA")
    subprocess.run(["Rscript", str(ORACLE), str(source), str(target), lonely], check=True, capture_output=True)
    return pd.read_csv(target, keep_default_na=False)


@needs_r
@pytest.mark.parametrize("lonely", ["adjust", "certainty", "remove"])
def test_proportions_match_r_survey_svyby(sample, tmp_path, lonely):
    # R: svyby(~y, ~dom, svydesign(ids=~psu, strata=~stratum, weights=~w), svymean, na.rm=TRUE)
    expected = run_r(sample, tmp_path, lonely)
    ours = SurveyDesign(sample, strata="stratum", psu="psu", weight="w", singleton=lonely).proportions(
        ["y1", "y2"], by=["dom"])
    merged = expected[expected["outcome"].isin(["y1", "y2"])].merge(
        ours, left_on=["outcome", "dom"], right_on=["indicator", "dom"], suffixes=("_r", ""))
    assert len(merged) == 8  # 2 outcomes x (a, b, c, all)
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8, atol=1e-12)


@needs_r
def test_korn_graubard_matches_r_svyciprop_beta(sample, tmp_path):
    # R: svyciprop(~y1, subset(des, dom == "a" & !is.na(y1)), method = "beta") with df = degf(subset)
    expected = run_r(sample, tmp_path, "adjust").set_index("outcome")
    ours = SurveyDesign(sample, strata="stratum", psu="psu", weight="w").proportions(
        ["y1"], by=["dom"], ci="korn-graubard")
    row = ours[ours["dom"] == "a"].iloc[0]
    # domain 'a' is in every PSU, so VCQI's df equals R's degf of the subset design
    assert row["df"] == expected.loc["degf_y1_a", "estimate"]
    assert row["deff"] > 1  # no DEFF truncation, so VCQI's and R's effective sizes agree
    assert row["ci_low"] == pytest.approx(expected.loc["ci_beta_y1_a", "estimate"], rel=1e-8)
    assert row["ci_high"] == pytest.approx(expected.loc["ci_beta_y1_a", "se"], rel=1e-8)


def test_domain_by_estimation_equals_zero_weight_route(sample):
    design = SurveyDesign(sample, strata="stratum", psu="psu", weight="w")
    by_domain = design.proportions(["y2"], by=["dom"]).set_index("dom")
    outside = sample.assign(y2=sample["y2"].where(sample["dom"] == "b"))
    only_b = SurveyDesign(outside, strata="stratum", psu="psu", weight="w").proportions(["y2"]).iloc[0]
    assert by_domain.loc["b", "estimate"] == pytest.approx(only_b["estimate"], rel=1e-12)
    assert by_domain.loc["b", "se"] == pytest.approx(only_b["se"], rel=1e-12)


def test_hand_computed_unstratified_ratio_variance():
    # three PSUs, equal weights: p = 3/6; z_i = (sum y - p n_i) / N = (2-1, 1-1, 0-1)/6
    # var = 3/2 * sum (z_i - mean z)^2 with mean z = 0 -> 3/2 * 2/36
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "y": [1, 1, 1, 0, 0, 0]})
    row = SurveyDesign(frame, psu="psu").proportions(["y"]).iloc[0]
    assert row["estimate"] == 0.5
    assert row["se"] == pytest.approx(np.sqrt(1.5 * 2 / 36), rel=1e-12)
    assert row["df"] == 2


def test_margins_and_schema(sample):
    out = SurveyDesign(sample, strata="stratum", psu="psu", weight="w").proportions(["y1"], by=["dom", "stratum"])
    assert list(out.columns) == ["indicator", "dom", "stratum", *ESTIMATE_COLUMNS]
    assert ("all", "all") in set(zip(out["dom"], out["stratum"]))
    assert {("a", "all"), ("all", "s1"), ("a", "s1")} <= set(zip(out["dom"], out["stratum"]))
    assert (out["lcb"] >= out["ci_low"]).all() and (out["ucb"] <= out["ci_high"]).all()


def test_homogeneous_domain_follows_vcqi():
    frame = pd.DataFrame({"psu": [1, 1, 2, 2], "y": [1.0, 1.0, 1.0, 1.0]})
    row = SurveyDesign(frame, psu="psu").proportions(["y"]).iloc[0]
    assert (row["se"], row["df"], row["neff"], row["deff"]) == (0, 3, 4, 1)
    assert row["ci_high"] == 1 and row["ci_low"] < 1


@pytest.mark.parametrize("kwargs, message", [
    ({"singleton": "drop"}, "singleton must be one of adjust, certainty, remove, error; got 'drop'"),
    ({"weight": "missing"}, "design column missing from the data: missing"),
    ({"singleton": "error"}, "stratum 's3' has only one PSU"),
], ids=["bad-option", "missing-column", "lonely-error"])
def test_design_errors(sample, kwargs, message):
    options = {"strata": "stratum", "psu": "psu", "weight": "w", **kwargs}
    with pytest.raises(DesignError, match=message):
        SurveyDesign(sample, **options)


def test_psu_in_two_strata_suggests_nest(sample):
    bad = sample.assign(psu=sample["psu"].str.slice(3))
    with pytest.raises(DesignError, match="appears in more than one stratum .*pass nest=True"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w")
    assert SurveyDesign(bad, strata="stratum", psu="psu", weight="w", nest=True).proportions(["y1"]).shape[0] == 1


def test_zero_weight_is_refused_with_the_row(sample):
    bad = sample.assign(w=sample["w"].where(sample.index != 5, 0.0))
    with pytest.raises(DesignError, match="weight column 'w': weights must be positive numbers; row 5 has '0.0'"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w")

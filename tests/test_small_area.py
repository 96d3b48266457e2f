"""The Fay–Herriot small-area model (lqas/small_area.py, issue 22 items 1–2) against R sae's eblupFH and
mseFH: the milk data pinned (REML) and run live (ML, constructed areas, a σ²ᵥ truncated at 0, a logit
fit); synthetic predictions, the logit option, gating, exceedance, numbers of children and ranks by hand."""

from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED, require_r, require_shared

from lqas.errors import LqasError
from lqas.small_area import SmallAreaError, fay_herriot, logit_direct, small_area, synthetic

ORACLE = Path(__file__).parent / "oracles" / "small_area_fh.R"
MILK = "oracles/sae_milk.csv"


def expit(x):
    return 1 / (1 + np.exp(-np.asarray(x, float)))


def logit(p):
    p = np.asarray(p, float)
    return np.log(p / (1 - p))


def milk() -> pd.DataFrame:
    require_shared(MILK)
    data = pd.read_csv(SHARED / MILK)
    return data.assign(variance=data["SD"] ** 2, major=data["MajorArea"].astype(str))


def milk_X(data: pd.DataFrame) -> np.ndarray:
    # R's model.matrix(~ as.factor(MajorArea)): intercept and treatment contrasts against area 1
    return np.column_stack([np.ones(len(data))] + [(data["MajorArea"] == k).to_numpy(float) for k in (2, 3, 4)])


# Rscript -e 'library(sae); milk <- read.csv("../shared/oracles/sae_milk.csv"); milk$var <- milk$SD^2;
#   FH <- mseFH(yi ~ as.factor(MajorArea), var, method = "REML", data = milk); options(digits = 10);
#   print(FH$est$fit); print(cbind(eblup = FH$est$eblup[, 1], mse = FH$mse))'
# $iterations  4
# $estcoef                        beta     std.error
#   X(Intercept)            0.9681889704 0.06936208412
#   Xas.factor(MajorArea)2  0.1327801425 0.10300072435
#   Xas.factor(MajorArea)3  0.2269462189 0.09232981035
#   Xas.factor(MajorArea)4 -0.2413010797 0.08161707047
# $refvar  0.01855022232
# $goodness  loglike 12.677478132
# and the areas, as R printed them:
MILK_REML = """
          eblup            mse
1  1.0219703425 0.013460220164
2  1.0476018237 0.005372875976
3  1.0679512581 0.005701990343
4  0.7608170494 0.008541739945
5  0.8461573568 0.009579593710
6  0.9743726782 0.011670631994
7  1.0584522845 0.015926136528
8  1.0977761817 0.010586517948
9  1.2215449401 0.014184042695
10 1.1951455416 0.014901471902
11 0.7852155267 0.007694262040
12 1.2139456130 0.016336468889
13 1.2096592669 0.012562725832
14 0.9834967204 0.012117378053
15 1.1864247263 0.012031229138
16 1.1556982291 0.011709146579
17 1.2263411459 0.010859779880
18 1.2856486378 0.013690859738
19 1.2363247041 0.011034673979
20 1.2349599842 0.013079686077
21 1.0903019079 0.009948635700
22 1.1923057190 0.017243976702
23 1.1216469842 0.011292325329
24 1.2230296049 0.013625296915
25 1.1938054391 0.008065787258
26 0.7627194690 0.009205132562
27 0.7649550266 0.009205132562
28 0.7338443110 0.016476911768
29 0.7699294345 0.007800626157
30 0.6134418123 0.006098668286
31 0.7695558418 0.015441564133
32 0.7958249827 0.014657866319
33 0.7723187041 0.009024698613
34 0.6102301951 0.003870786181
35 0.7001782295 0.007800626157
36 0.7592786939 0.009646138679
37 0.5298866930 0.006404335491
38 0.7434466022 0.010155644723
39 0.7548995539 0.007209937487
40 0.7701918358 0.008470277144
41 0.7481163738 0.005484859612
42 0.8040772846 0.009205132562
43 0.6810869897 0.009903625603
"""


def r_table(printed: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(printed.strip()), sep=r"\s+")


def test_milk_reml_equals_sae_eblupFH_and_mseFH():
    data = milk()
    fit = fay_herriot(data["yi"], data["variance"], milk_X(data), method="REML")
    expected = r_table(MILK_REML)
    assert len(expected) == 43
    assert fit.converged and fit.iterations == 4
    assert fit.sigma2_v == pytest.approx(0.01855022232, abs=1e-11)
    assert fit.beta == pytest.approx([0.9681889704, 0.1327801425, 0.2269462189, -0.2413010797], abs=1e-9)
    assert fit.beta_se == pytest.approx([0.06936208412, 0.10300072435, 0.09232981035, 0.08161707047], abs=1e-10)
    assert fit.loglike == pytest.approx(12.677478132, abs=1e-8)
    # the bar is 1e-6; the two agree to R's printed digits
    assert np.abs(fit.eblup - expected["eblup"].to_numpy()).max() < 1e-9
    assert np.abs(fit.mse - expected["mse"].to_numpy()).max() < 1e-11
    # the MSE is g1 + g2 + 2 g3 (Prasad & Rao) and the EBLUP the γ-weighted mean of direct and regression
    assert fit.mse == pytest.approx(fit.g1 + fit.g2 + 2 * fit.g3, abs=1e-15)
    regression = milk_X(data) @ fit.beta
    assert fit.eblup == pytest.approx(fit.gamma * data["yi"] + (1 - fit.gamma) * regression, abs=1e-12)


def test_small_area_on_the_milk_data_reads_a_text_covariate_as_rs_factor():
    data = milk()
    out = small_area(data, estimate="yi", variance="variance", covariates=["major"], sampled=None,
                     area="SmallArea")
    expected = r_table(MILK_REML)
    assert list(out["area"]) == list(data["SmallArea"]) and out["sampled"].all() and not out["synthetic"].any()
    assert np.abs(out["estimate"].to_numpy() - expected["eblup"].to_numpy()).max() < 1e-9
    assert np.abs(out["mse"].to_numpy() - expected["mse"].to_numpy()).max() < 1e-11
    assert out["se"].to_numpy() == pytest.approx(np.sqrt(expected["mse"].to_numpy()), abs=1e-10)
    assert out["direct_se"].to_numpy() == pytest.approx(data["SD"].to_numpy(), abs=1e-15)
    z = 1.959963984540054
    assert out["ci_low"].to_numpy() == pytest.approx(out["estimate"] - z * out["se"], abs=1e-12)
    summary = out.attrs["small_area"]
    assert summary["sigma2_v"] == pytest.approx(0.01855022232, abs=1e-11)
    assert summary["iterations"] == 4 and summary["converged"] and summary["areas_sampled"] == 43
    assert list(summary["coefficients"]) == ["(Intercept)", "major[2]", "major[3]", "major[4]"]
    assert summary["coefficients"]["major[4]"]["estimate"] == pytest.approx(-0.2413010797, abs=1e-9)


# ---- live oracle: R sae run here ------------------------------------------------------------------


def constructed_areas(seed: int = 7, m: int = 40) -> pd.DataFrame:
    """Areas with two numeric covariates and a three-level text one, y from the FH model (σ²ᵥ = 0.15)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0, 1, m), rng.normal(0, 1, m)
    group = rng.choice(["north", "centre", "south"], m)
    psi = rng.uniform(0.01, 0.2, m)
    effect = pd.Series(group).map({"centre": 0.0, "north": 0.3, "south": -0.2}).to_numpy()
    theta = 0.5 + 1.2 * x1 - 0.3 * x2 + effect + rng.normal(0, np.sqrt(0.15), m)
    return pd.DataFrame({"area": [f"a{i:02d}" for i in range(m)], "y": theta + rng.normal(0, np.sqrt(psi)),
                         "psi": psi, "x1": x1, "x2": x2, "g": group})


def run_sae(tmp_path, data: pd.DataFrame, method: str, formula: str, vardir: str):
    require_r("sae")
    source, areas, fit = tmp_path / "in.csv", tmp_path / "areas.csv", tmp_path / "fit.csv"
    data.to_csv(source, index=False, float_format="%.17g")
    subprocess.run(["Rscript", str(ORACLE), str(source), str(areas), str(fit), method, formula, vardir],
                   check=True, capture_output=True, timeout=120)
    numbers = pd.read_csv(fit).set_index("name")["value"]
    return pd.read_csv(areas), numbers


def assert_equal_to_sae(ours_eblup, ours_mse, fit_summary, expected, numbers):
    assert np.abs(np.asarray(ours_eblup) - expected["eblup"].to_numpy()).max() < 1e-6
    assert np.abs(np.asarray(ours_mse) - expected["mse"].to_numpy()).max() < 1e-6
    sigma2, beta, beta_se, steps = fit_summary
    assert sigma2 == pytest.approx(numbers["refvar"], abs=1e-9)
    p = len(beta)
    assert beta == pytest.approx(numbers[[f"beta_{i}" for i in range(1, p + 1)]].to_numpy(), abs=1e-9)
    assert beta_se == pytest.approx(numbers[[f"se_{i}" for i in range(1, p + 1)]].to_numpy(), abs=1e-9)
    # at σ²ᵥ = 0 the steps differ: sae follows the iterates below 0 (even where some σ²ᵥ + ψᵢ < 0)
    # and truncates, we stop at the boundary
    if numbers["refvar"] > 0:
        assert steps == numbers["iterations"]


def test_milk_ml_equals_sae_live(tmp_path):
    data = milk()
    expected, numbers = run_sae(tmp_path, data, "ML", "yi ~ as.factor(MajorArea)", "variance")
    fit = fay_herriot(data["yi"], data["variance"], milk_X(data), method="ML")
    assert fit.converged and fit.sigma2_v > 0
    assert_equal_to_sae(fit.eblup, fit.mse, (fit.sigma2_v, fit.beta, fit.beta_se, fit.iterations), expected, numbers)
    # ML's MSE adds Datta & Lahiri's bias term to g1 + g2 + 2 g3
    assert (fit.mse > fit.g1 + fit.g2 + 2 * fit.g3).all()


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_constructed_areas_equal_sae_live(tmp_path, method):
    data = constructed_areas()
    expected, numbers = run_sae(tmp_path, data, method, "y ~ x1 + x2 + g", "psi")
    out = small_area(data, estimate="y", variance="psi", covariates=["x1", "x2", "g"], sampled=None,
                     method=method)
    summary = out.attrs["small_area"]
    coefficients = summary["coefficients"]
    # R's factor levels are sorted, the first ("centre") the baseline, as ours
    assert list(coefficients) == ["(Intercept)", "x1", "x2", "g[north]", "g[south]"]
    beta = np.array([c["estimate"] for c in coefficients.values()])
    beta_se = np.array([c["se"] for c in coefficients.values()])
    assert_equal_to_sae(out["estimate"], out["mse"], (summary["sigma2_v"], beta, beta_se, summary["iterations"]),
                        expected, numbers)


def test_area_variance_truncated_at_zero_as_sae_live(tmp_path):
    """The milk data with the standard deviations read as variances: the ML likelihood is highest at
    σ²ᵥ = 0. sae follows the likelihood below 0 for 11 steps and truncates; we stop at the boundary in
    one, with the same estimates."""
    data = milk()
    expected, numbers = run_sae(tmp_path, data, "ML", "yi ~ as.factor(MajorArea)", "SD")
    fit = fay_herriot(data["yi"], data["SD"], milk_X(data), method="ML")
    assert fit.converged and fit.sigma2_v == 0 and numbers["refvar"] == 0
    assert (fit.gamma == 0).all()
    assert_equal_to_sae(fit.eblup, fit.mse, (fit.sigma2_v, fit.beta, fit.beta_se, fit.iterations), expected, numbers)
    # REML there: sae does not converge in 100 (or 1000) steps; the restricted likelihood falls from 0,
    # so its maximum over σ²ᵥ ≥ 0 is at 0
    reml = fay_herriot(data["yi"], data["SD"], milk_X(data), method="REML")
    assert reml.converged and reml.sigma2_v == 0


def proportions(seed: int = 3, m: int = 24) -> pd.DataFrame:
    """Zero-dose proportions of m areas of 30–60 children, with a design effect of 1.5; three areas
    with no zero-dose child found and one where every sampled child was alike by cluster (p̂ = 0.2, no
    design variance)."""
    rng = np.random.default_rng(seed)
    coverage = rng.uniform(0.4, 0.95, m)                 # an area covariate (admin coverage)
    truth = expit(1.0 - 3.0 * coverage + rng.normal(0, 0.3, m))
    n = rng.integers(30, 61, m)
    p = rng.binomial(n, truth) / n
    p[[2, 9, 17]] = 0.0
    deff = 1.5
    variance = deff * p * (1 - p) / n
    variance[5] = 0.0
    p[5] = 0.2
    return pd.DataFrame({"area": [f"d{i:02d}" for i in range(m)], "estimate": p, "variance": variance,
                         "n": n, "neff": n / deff, "coverage": coverage, "population": rng.integers(800, 3000, m)})


def test_logit_fit_equals_sae_on_the_same_logit_data_live(tmp_path):
    data = proportions()
    out = small_area(data, covariates=["coverage"], sampled=None, transform="logit", min_areas=15)
    logit_data = pd.DataFrame({"y": out["direct_model"], "psi": out["variance_model"], "coverage": data["coverage"]})
    expected, numbers = run_sae(tmp_path, logit_data, "REML", "y ~ coverage", "psi")
    summary = out.attrs["small_area"]
    beta = np.array([c["estimate"] for c in summary["coefficients"].values()])
    beta_se = np.array([c["se"] for c in summary["coefficients"].values()])
    assert_equal_to_sae(out["estimate_model"], out["mse_model"],
                        (summary["sigma2_v"], beta, beta_se, summary["iterations"]), expected, numbers)


# ---- synthetic predictions ---------------------------------------------------------------------------


def test_unsampled_areas_get_the_synthetic_estimate_and_its_mse():
    data = constructed_areas(seed=11, m=30)
    unsampled = np.arange(30) % 3 == 0
    data["sampled"] = ~unsampled
    data.loc[unsampled, ["y", "psi"]] = np.nan
    out = small_area(data, estimate="y", variance="psi", covariates=["x1", "x2"])
    summary = out.attrs["small_area"]
    assert summary["areas_sampled"] == 20 and summary["areas_synthetic"] == 10

    # worked out here from σ̂²ᵥ alone: β̂ by GLS, x'β̂, and σ²ᵥ + x'(X'V⁻¹X)⁻¹x
    sigma2 = summary["sigma2_v"]
    X = np.column_stack([np.ones(30), data["x1"], data["x2"]])
    sampled = ~unsampled
    Vinv = np.diag(1 / (sigma2 + data.loc[sampled, "psi"].to_numpy()))
    Xs = X[sampled]
    Q = np.linalg.inv(Xs.T @ Vinv @ Xs)
    beta = Q @ Xs.T @ Vinv @ data.loc[sampled, "y"].to_numpy()
    assert [c["estimate"] for c in summary["coefficients"].values()] == pytest.approx(beta, abs=1e-12)
    rows = out[unsampled]
    for i, row in zip(np.flatnonzero(unsampled), rows.itertuples()):
        x = X[i]
        assert row.estimate == pytest.approx(x @ beta, abs=1e-12)
        assert row.mse == pytest.approx(sigma2 + x @ Q @ x, abs=1e-12)
        assert row.synthetic and not row.sampled and row.gamma == 0 and math.isnan(row.direct)
    # the sampled areas are those of the model fitted to them alone
    alone = fay_herriot(data.loc[sampled, "y"], data.loc[sampled, "psi"], Xs)
    assert out.loc[sampled, "estimate"].to_numpy() == pytest.approx(alone.eblup, abs=1e-14)
    assert out.loc[sampled, "mse"].to_numpy() == pytest.approx(alone.mse, abs=1e-14)
    assert synthetic(alone, X[unsampled])[0] == pytest.approx(rows["estimate"].to_numpy(), abs=1e-14)


# ---- logit option -----------------------------------------------------------------------------------


def wilson(p: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) interval, written out."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_logit_keeps_zero_areas_with_a_wilson_variance_and_back_transforms():
    data = proportions()
    out = small_area(data, covariates=["coverage"], sampled=None, transform="logit", min_areas=15)
    assert len(out) == len(data) and out["sampled"].all()
    assert list(out.index[out["variance_from"] == "wilson"]) == [2, 5, 9, 17]
    z = 1.959963984540054
    for i in (2, 9, 17):                                 # p̂ = 0: the Wilson centre on the logit scale
        n = data.loc[i, "neff"]
        low, high = wilson(0.0, n)
        assert low == pytest.approx(0.0, abs=1e-15)
        centre = (low + high) / 2
        assert centre == pytest.approx(z * z / 2 / (n + z * z), rel=1e-12)
        assert out.loc[i, "direct_model"] == pytest.approx(logit(centre), rel=1e-12)
        psi = ((high - low) / (2 * z)) ** 2 / (centre * (1 - centre)) ** 2
        assert out.loc[i, "variance_model"] == pytest.approx(psi, rel=1e-10)
        assert out.loc[i, "direct"] == 0 and out.loc[i, "direct_se"] == 0
        assert 0 < out.loc[i, "estimate"] < 0.5
    # p̂ = 0.2 with no design variance: the estimate kept, the variance Wilson's at n*
    low, high = wilson(0.2, data.loc[5, "neff"])
    assert out.loc[5, "direct_model"] == pytest.approx(logit(0.2), rel=1e-12)
    assert out.loc[5, "variance_model"] == pytest.approx(((high - low) / (2 * z)) ** 2 / 0.16 ** 2, rel=1e-10)
    # every other area: logit p̂ and the delta method
    design = out["variance_from"] == "design"
    p, v = data.loc[design, "estimate"], data.loc[design, "variance"]
    assert out.loc[design, "direct_model"].to_numpy() == pytest.approx(logit(p), rel=1e-12)
    assert out.loc[design, "variance_model"].to_numpy() == pytest.approx(v / (p * (1 - p)) ** 2, rel=1e-12)
    # the model is fitted on that scale ...
    X = np.column_stack([np.ones(len(data)), data["coverage"]])
    fit = fay_herriot(out["direct_model"], out["variance_model"], X)
    assert out["estimate_model"].to_numpy() == pytest.approx(fit.eblup, abs=1e-14)
    # ... and carried back: expit, the delta-method MSE, the interval's ends
    theta, m = out["estimate_model"].to_numpy(), out["mse_model"].to_numpy()
    prevalence = expit(theta)
    assert out["estimate"].to_numpy() == pytest.approx(prevalence, abs=1e-15)
    assert out["mse"].to_numpy() == pytest.approx((prevalence * (1 - prevalence)) ** 2 * m, rel=1e-12)
    assert out["se"].to_numpy() == pytest.approx(prevalence * (1 - prevalence) * np.sqrt(m), rel=1e-12)
    assert out["ci_low"].to_numpy() == pytest.approx(expit(theta - z * np.sqrt(m)), rel=1e-12)
    assert out["ci_high"].to_numpy() == pytest.approx(expit(theta + z * np.sqrt(m)), rel=1e-12)
    assert ((out["ci_low"] > 0) & (out["ci_high"] < 1)).all()


def test_logit_direct_needs_the_effective_size_only_where_wilson_is_used():
    y, psi, flagged = logit_direct([0.3, 0.5], [0.01, 0.02], [np.nan, np.nan])
    assert not flagged.any() and y == pytest.approx([logit(0.3), 0.0])
    assert psi == pytest.approx([0.01 / 0.21 ** 2, 0.02 / 0.25 ** 2])
    with pytest.raises(SmallAreaError, match="effective sample size"):
        logit_direct([1.0, 0.5], [0.0, 0.02], [np.nan, 40])
    y, psi, flagged = logit_direct([1.0], [0.0], [40])
    low, high = wilson(1.0, 40)
    assert flagged.all() and y[0] == pytest.approx(logit((low + high) / 2), rel=1e-12) and y[0] > 0


# ---- gating -----------------------------------------------------------------------------------------


def test_fewer_sampled_areas_than_min_areas_is_one_plain_line():
    data = constructed_areas(m=20)
    data["sampled"] = np.arange(20) < 14
    with pytest.raises(SmallAreaError) as raised:
        small_area(data, estimate="y", variance="psi", covariates=["x1"])
    assert isinstance(raised.value, LqasError) and raised.value.exit_code == 2
    assert str(raised.value) == ("small-area model not fitted: 14 sampled area(s), fewer than the 15 it needs "
                                 "(min_areas); use the direct estimates")
    assert len(small_area(data, estimate="y", variance="psi", covariates=["x1"], min_areas=14)) == 20


def test_collinear_covariates_are_refused():
    data = constructed_areas()
    data["x3"] = 2 * data["x1"] - 1
    with pytest.raises(SmallAreaError, match="collinear over the 40 sampled areas") as raised:
        small_area(data, estimate="y", variance="psi", covariates=["x1", "x3"], sampled=None)
    assert "\n" not in str(raised.value)
    X = np.column_stack([np.ones(40), data["x1"], data["x3"]])
    with pytest.raises(SmallAreaError, match="collinear"):
        fay_herriot(data["y"], data["psi"], X)
    # a level found only among the unsampled areas leaves its column all zero where the model is fitted
    data["sampled"] = data["g"] != "south"
    with pytest.raises(SmallAreaError, match="collinear"):
        small_area(data, estimate="y", variance="psi", covariates=["g"])


def test_no_convergence_and_bad_input_are_refused():
    data = constructed_areas()
    fit = fay_herriot(data["y"], data["psi"], np.column_stack([np.ones(40), data["x1"]]), max_iter=1)
    assert not fit.converged and fit.iterations == 1
    with pytest.raises(SmallAreaError, match="did not converge in 1 iterations"):
        small_area(data, estimate="y", variance="psi", covariates=["x1"], sampled=None, max_iter=1)
    zero = data.assign(psi=np.where(np.arange(40) == 4, 0.0, data["psi"]))
    with pytest.raises(SmallAreaError, match="a04 have a zero design variance"):
        small_area(zero, estimate="y", variance="psi", covariates=["x1"], sampled=None)
    with pytest.raises(SmallAreaError, match="no column 'x9'"):
        small_area(data, estimate="y", variance="psi", covariates=["x9"], sampled=None)
    with pytest.raises(SmallAreaError, match="method 'FH'"):
        small_area(data, estimate="y", variance="psi", sampled=None, method="FH")


# ---- exceedance, numbers of children, ranks ----------------------------------------------------------


def normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2))


def test_exceedance_probability_and_children_by_hand():
    data = proportions()
    out = small_area(data, covariates=["coverage"], sampled=None, transform="logit", min_areas=15,
                     threshold=0.10, population="population")
    for row, people in zip(out.itertuples(), data["population"]):
        # P(p > 0.10) = P(θ > logit 0.10), θ ~ N(θ̂, MSE(θ̂))
        z = (math.log(0.10 / 0.90) - row.estimate_model) / math.sqrt(row.mse_model)
        assert row.prob_exceeds == pytest.approx(normal_sf(z), abs=1e-12)
        assert row.population == people
        assert row.children == pytest.approx(people * row.estimate, rel=1e-12)
        assert (row.children_ci_low, row.children_ci_high) == pytest.approx(
            (people * row.ci_low, people * row.ci_high), rel=1e-12)
    # an area whose estimate is the threshold exceeds it with probability ½
    area = out.iloc[0]
    again = small_area(data, covariates=["coverage"], sampled=None, transform="logit", min_areas=15,
                       threshold=float(area["estimate"]))
    assert again["prob_exceeds"].iloc[0] == pytest.approx(0.5, abs=1e-12)

    # a linear model with a small hand-made case: estimate 0.30, se 0.05, threshold 0.25 -> Φ(1) = 0.8413
    hand = pd.DataFrame({"estimate": [0.30, 0.10, 0.20], "variance": [0.05 ** 2, 0.02 ** 2, 0.03 ** 2],
                         "x": [1.0, 2.0, 4.0], "population": [1000, 2000, 500]})
    linear = small_area(hand, covariates=["x"], sampled=None, min_areas=3, threshold=0.25, population="population")
    first = linear.iloc[0]
    # three areas and two coefficients: σ̂²ᵥ is 0 or not, the identities hold either way
    assert first["prob_exceeds"] == pytest.approx(normal_sf((0.25 - first["estimate"]) / first["se"]), abs=1e-12)
    assert first["children"] == pytest.approx(1000 * first["estimate"], rel=1e-12)


def test_exceedance_by_hand_on_known_numbers():
    """σ̂²ᵥ = 0, the intercept alone and equal ψᵢ = ψ over m areas: every θ̂ᵢ is the mean ȳ, and its MSE
    is g2 + 2 g3 = ψ/m + 2·(2ψ²/m)/ψ = 5ψ/m (g1 = 0; var σ̂²ᵥ = 2/Σ(1/ψ²) = 2ψ²/m), so P(θ > t) and the
    numbers of children are plain arithmetic."""
    hand = pd.DataFrame({"estimate": [0.20, 0.21, 0.19, 0.20], "variance": [0.002] * 4,
                         "population": [1000, 2000, 3000, 4000]})
    out = small_area(hand, sampled=None, min_areas=4, threshold=0.25, population="population")
    assert out.attrs["small_area"]["sigma2_v"] == 0 and (out["gamma"] == 0).all()
    # θ̂ = 0.20, MSE = 5 × 0.002 / 4 = 0.0025, se = 0.05: P(θ > 0.25) = 1 − Φ(1) = 0.15865525393145707
    assert out["estimate"].to_numpy() == pytest.approx([0.20] * 4, abs=1e-15)
    assert out["mse"].to_numpy() == pytest.approx([0.0025] * 4, abs=1e-15)
    assert out["prob_exceeds"].to_numpy() == pytest.approx([0.15865525393145707] * 4, abs=1e-12)
    z = 1.959963984540054
    assert out["children"].to_numpy() == pytest.approx([200, 400, 600, 800], abs=1e-9)
    assert out["children_ci_low"].to_numpy() == pytest.approx(
        hand["population"].to_numpy() * (0.20 - z * 0.05), abs=1e-9)
    assert out["children_ci_high"].to_numpy() == pytest.approx(
        hand["population"].to_numpy() * (0.20 + z * 0.05), abs=1e-9)


def test_rank_intervals_are_reproducible_with_the_seed():
    data = proportions()
    kwargs = {"covariates": ["coverage"], "sampled": None, "transform": "logit", "min_areas": 15, "n_draws": 500}
    first = small_area(data, seed=5, **kwargs)
    again = small_area(data, seed=5, **kwargs)
    pd.testing.assert_frame_equal(first[["rank", "rank_low", "rank_high"]], again[["rank", "rank_low", "rank_high"]])
    assert (first["rank_low"] <= first["rank"]).all() and (first["rank"] <= first["rank_high"]).all()
    assert sorted(first["rank"]) == list(range(1, 25))
    assert first.loc[first["estimate"].idxmax(), "rank"] == 1

    # the same simulation worked out here: θ ~ N(θ̂, MSE) on the logit scale, rank 1 = highest
    rng = np.random.default_rng(5)
    theta, se = first["estimate_model"].to_numpy(), np.sqrt(first["mse_model"].to_numpy())
    draws = theta + se * rng.standard_normal((500, 24))
    ranks = 1 + (draws[:, None, :] > draws[:, :, None]).sum(axis=2)
    for area in range(24):
        ordered = np.sort(ranks[:, area])
        assert first["rank_low"].iloc[area] == ordered[int(np.floor(0.025 * 499))]
        assert first["rank_high"].iloc[area] == ordered[int(np.ceil(0.975 * 499))]

    # well separated, precise areas: every draw gives the same order
    sharp = pd.DataFrame({"estimate": np.linspace(0.1, 2.0, 15), "variance": 1e-6, "x": np.arange(15.0) ** 2})
    ranked = small_area(sharp, covariates=["x"], sampled=None, seed=1)
    assert list(ranked["rank"]) == list(range(15, 0, -1))
    assert (ranked["rank_low"] == ranked["rank"]).all() and (ranked["rank_high"] == ranked["rank"]).all()

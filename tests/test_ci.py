"""CI methods of lqas.ci against R (binom.test, prop.test, qbeta), Newcombe (1998), statsmodels (beta-based
methods only) and VCQI's and Agresti & Coull's formulas by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from lqas.ci import METHODS, proportion_ci
from lqas.design import SurveyDesign
from lqas.errors import LqasError

NAMES = ["wilson", "clopper-pearson", "jeffreys", "logit", "agresti-coull", "wald", "korn-graubard"]


def test_ci_registry_holds_the_seven_methods():
    assert sorted(METHODS) == sorted(NAMES)


@pytest.mark.parametrize("method, expected", [
    # R: prop.test(5, 20, correct = FALSE)$conf.int
    ("wilson", (0.111861701407666, 0.468700877618744)),
    # R: binom.test(5, 20)$conf.int
    ("clopper-pearson", (0.0865714691014346, 0.4910458717079575)),
    # R: qbeta(c(.025, .975), 5.5, 15.5)
    ("jeffreys", (0.102398485683045, 0.464194629240868)),
], ids=["wilson", "clopper-pearson", "jeffreys"])
def test_ci_integer_counts_match_r(method, expected):
    low, high = proportion_ci([0.25], [20.0], method=method, level=0.95)
    assert (low[0], high[0]) == pytest.approx(expected, rel=1e-10)


def test_ci_clopper_pearson_at_zero_matches_r_binom_test():
    # R: binom.test(0, 20)$conf.int -> 0, 0.168433470983085
    low, high = proportion_ci([0.0], [20.0], method="clopper-pearson")
    assert low[0] == 0
    assert high[0] == pytest.approx(0.168433470983085, rel=1e-10)


def test_ci_clopper_pearson_fractional_effective_size():
    # VCQI's F-quantile form accepts x = p * neff = 7.3 of neff = 30.
    # R: qbeta(.05, 7.3, 30 - 7.3 + 1); qbeta(.95, 7.3 + 1, 30 - 7.3)
    low, high = proportion_ci([7.3 / 30], [30.0], method="clopper-pearson", level=0.90)
    assert low[0] == pytest.approx(0.122439888609479, rel=1e-10)
    assert high[0] == pytest.approx(0.40483789699448, rel=1e-10)


@pytest.mark.parametrize("method", ["jeffreys", "clopper-pearson"])
def test_ci_fractional_effective_sizes_match_r_qbeta(method, r_survey):
    # lqas takes both from statsmodels' beta quantiles; R computes them from the same counts x = p * neff
    # (VCQI's fractional form): Jeffreys qbeta(a/2, x + .5, n - x + .5); Clopper-Pearson
    # qbeta(a/2, x, n - x + 1) and qbeta(1 - a/2, x + 1, n - x)
    import subprocess

    p = np.array([0.03, 0.2, 0.5, 0.77, 0.98])
    neff = np.array([12.5, 40.0, 148.3, 7.0, 210.0])
    x = ", ".join(repr(float(v)) for v in p * neff)
    n = ", ".join(repr(float(v)) for v in neff)
    if method == "jeffreys":
        code = f"x <- c({x}); n <- c({n}); cat(format(c(qbeta(.05, x + .5, n - x + .5), qbeta(.95, x + .5, n - x + .5)), digits = 17), sep = ' ')"
    else:
        code = f"x <- c({x}); n <- c({n}); cat(format(c(qbeta(.05, x, n - x + 1), qbeta(.95, x + 1, n - x)), digits = 17), sep = ' ')"
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True).stdout.split()
    expected = np.array(out, dtype=float).reshape(2, -1)
    low, high = proportion_ci(p, neff, method=method, level=0.90)
    np.testing.assert_allclose(low, expected[0], rtol=1e-10)
    np.testing.assert_allclose(high, expected[1], rtol=1e-10)


def test_korn_graubard_is_refused_without_n_and_df():
    # never silently another method: without the domain's n and the design's df it cannot be sized
    with pytest.raises(LqasError, match=r"'korn-graubard' needs the domain's number of children \(n\) and the design's "
                                        r"degrees of freedom \(df\)"):
        proportion_ci([0.3], [40.0], method="korn-graubard")
    # with them: Clopper-Pearson at neff (t_{n-1}/t_df)^2
    low, high = proportion_ci([0.3], [40.0], method="korn-graubard", n=[60], df=[11])
    m = 40.0 * (stats.t.ppf(0.975, 59) / stats.t.ppf(0.975, 11)) ** 2
    assert low[0] == pytest.approx(stats.beta.ppf(0.025, 0.3 * m, 0.7 * m + 1), rel=1e-12)
    assert high[0] == pytest.approx(stats.beta.ppf(0.975, 0.3 * m + 1, 0.7 * m), rel=1e-12)


# Newcombe RG (1998), Two-sided confidence intervals for the single proportion: comparison of seven
# methods, Stat Med 17:857-872, Table II: 95 % limits to 4 decimals, method 1 (simple asymptotic =
# Wald) and method 3 (score = Wilson, no continuity correction). Wald for 1/29 is (-0.0320, 0.1009):
# lqas clips it at 0; Wald for 0/20 is degenerate and lqas switches to Clopper-Pearson as VCQI does.
NEWCOMBE = {(81, 263): {"wilson": (0.2553, 0.3662), "wald": (0.2522, 0.3638)},
            (15, 148): {"wilson": (0.0624, 0.1605), "wald": (0.0527, 0.1500)},
            (0, 20): {"wilson": (0.0, 0.1611)},
            (1, 29): {"wilson": (0.0061, 0.1718), "wald": (0.0, 0.1009)}}


@pytest.mark.parametrize("x, n, method", [(x, n, m) for (x, n), row in NEWCOMBE.items() for m in row],
                         ids=[f"{m}-{x}/{n}" for (x, n), row in NEWCOMBE.items() for m in row])
def test_ci_wilson_and_wald_reproduce_newcombe_1998(x, n, method):
    low, high = proportion_ci([x / n], [float(n)], method=method)
    assert (round(low[0], 4), round(high[0], 4)) == NEWCOMBE[(x, n)][method]


@pytest.mark.parametrize("x, n, level, expected", [
    # R: prop.test(81, 263, correct = FALSE)$conf.int (Newcombe's first example, full precision)
    (81, 263, 0.95, (0.255288519878274, 0.366209576982800)),
    # R: prop.test(81, 263, correct = FALSE, conf.level = 0.9)$conf.int (VCQI's LCB/UCB level)
    (81, 263, 0.90, (0.263313617188481, 0.356566349608488)),
    # R: prop.test(1, 29, correct = FALSE)$conf.int
    (1, 29, 0.95, (0.00611321429276266, 0.17175521879320282)),
    # R: prop.test(7.3, 30, correct = FALSE)$conf.int: a fractional count, as VCQI's p * neff* is
    (7.3, 30, 0.95, (0.124992363241387, 0.419944511921250)),
], ids=["81/263", "81/263-90", "1/29", "7.3/30"])
def test_ci_wilson_matches_r_prop_test(x, n, level, expected):
    low, high = proportion_ci([x / n], [float(n)], method="wilson", level=level)
    assert (low[0], high[0]) == pytest.approx(expected, rel=1e-10)


def test_ci_agresti_coull_and_wald_by_their_published_formulas():
    # Agresti A, Coull BA (1998), Approximate is better than "exact" for interval estimation of
    # binomial proportions, Am Stat 52:119-126: add z^2/2 successes and z^2/2 failures, then Wald:
    #   n~ = n + z^2, p~ = (x + z^2/2) / n~, p~ -+ z sqrt(p~ (1 - p~) / n~)  (VCQI svyp_ci_calc, vcqi.md §3)
    # Wald: p -+ z sqrt(p (1 - p) / n). Written out here rather than taken from statsmodels.
    p = np.array([0.03, 0.2, 0.5, 0.77, 0.98])
    neff = np.array([12.5, 40.0, 148.3, 7.0, 210.0])
    z = 1.6448536269514722  # R: qnorm(0.95), the 90 % interval
    n_tilde = neff + z ** 2
    p_tilde = (p * neff + z ** 2 / 2) / n_tilde
    half = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
    low, high = proportion_ci(p, neff, method="agresti-coull", level=0.90)
    # lqas bounds the interval to [0, 1]; at p = 0.98 the formula's upper limit exceeds 1
    np.testing.assert_allclose(low, np.clip(p_tilde - half, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(high, np.clip(p_tilde + half, 0, 1), rtol=1e-12)
    wald_half = z * np.sqrt(p * (1 - p) / neff)
    low, high = proportion_ci(p, neff, method="wald", level=0.90)
    np.testing.assert_allclose(low, np.clip(p - wald_half, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(high, np.clip(p + wald_half, 0, 1), rtol=1e-12)


def test_ci_agresti_coull_is_centred_on_the_wilson_midpoint_and_contains_wilson():
    # Agresti & Coull (1998) chose p~ as the midpoint of the score (Wilson) interval, and their
    # interval always contains it (Brown, Cai & DasGupta 2001, Stat Sci 16:101-133).
    # The Wilson limits are R's: prop.test(81, 263, correct = FALSE)$conf.int
    wilson_low, wilson_high = 0.255288519878274, 0.366209576982800
    low, high = proportion_ci([81 / 263], [263.0], method="agresti-coull")
    assert (low[0] + high[0]) / 2 == pytest.approx((wilson_low + wilson_high) / 2, rel=1e-12)
    assert low[0] < wilson_low and high[0] > wilson_high


def test_ci_logit_by_hand():
    # VCQI svyp_ci_calc: expit(logit p -+ z / sqrt(neff p (1 - p)))
    p, neff = 0.3, 55.5
    half = stats.norm.ppf(0.975) / np.sqrt(neff * p * (1 - p))
    low, high = proportion_ci([p], [neff], method="logit")
    assert low[0] == pytest.approx(special.expit(special.logit(p) - half), rel=1e-12)
    assert high[0] == pytest.approx(special.expit(special.logit(p) + half), rel=1e-12)


@pytest.mark.parametrize("method", ["logit", "wald"])
@pytest.mark.parametrize("p", [0.0, 1.0], ids=["p0", "p1"])
def test_ci_logit_and_wald_fall_back_to_clopper_pearson(method, p):
    # VCQI: "skip the Wald/Logit calculation and go to Clopper-Pearson" when p is 0 or 1
    np.testing.assert_allclose(np.ravel(proportion_ci([p], [30.0], method=method)),
                               np.ravel(proportion_ci([p], [30.0], method="clopper-pearson")), rtol=1e-15)


def test_ci_jeffreys_closes_the_interval_at_zero_and_one():
    low, high = proportion_ci([0.0, 1.0], [25.0, 25.0], method="jeffreys")
    assert low[0] == 0 and high[1] == 1
    # R: qbeta(.975, 0.5, 25.5); qbeta(.025, 25.5, 0.5)
    assert high[0] == pytest.approx(stats.beta.ppf(0.975, 0.5, 25.5), rel=1e-12)
    assert low[1] == pytest.approx(stats.beta.ppf(0.025, 25.5, 0.5), rel=1e-12)


def test_ci_unknown_method_lists_the_valid_names():
    with pytest.raises(LqasError, match="ci method 'exact' is not known; expected one of wilson, clopper-pearson"):
        proportion_ci([0.5], [10.0], method="exact")


# -- the VCQI kernel (effective size, df adjustment, DEFF truncation) through SurveyDesign ------------


def _by_hand(frame):
    """p, SE, n and df of an unstratified equal-weight mean with PSUs with replacement."""
    y, psu = frame["y"].to_numpy(float), frame["psu"].to_numpy()
    n, p = len(y), y.mean()
    z = pd.Series((y - p) / n).groupby(psu).sum().to_numpy()
    k = len(z)
    return p, np.sqrt(k / (k - 1) * np.sum((z - z.mean()) ** 2)), n, k - 1


@pytest.fixture
def clustered():
    # 5 PSUs of 6 with very different coverage: DEFF well above 1
    y = [1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0]
    return pd.DataFrame({"psu": np.repeat([1, 2, 3, 4, 5], 6), "y": np.array(y, float)})


def test_vcqi_wilson_by_hand(clustered):
    # VCQI svyp_ci_calc with adjust and truncate: neff = p(1-p)/se^2, DEFF = (n-1)/neff,
    # neff* = neff (z/t_df)^2, then Wilson on (p, neff*); lcb/ucb are the 90 % interval
    p, se, n, df = _by_hand(clustered)
    row = SurveyDesign(clustered, psu="psu").proportions(["y"]).iloc[0]
    neff = p * (1 - p) / se ** 2
    assert (row["estimate"], row["se"], row["df"]) == pytest.approx((p, se, df), rel=1e-12)
    assert row["deff"] == pytest.approx((n - 1) / neff, rel=1e-12) and row["deff"] > 1

    def wilson(level):
        z, t = stats.norm.ppf(1 - (1 - level) / 2), stats.t.ppf(1 - (1 - level) / 2, df)
        m = neff * (z / t) ** 2
        centre = p + z ** 2 / (2 * m)
        half = z * np.sqrt(p * (1 - p) / m + z ** 2 / (4 * m ** 2))
        return m, (centre - half) / (1 + z ** 2 / m), (centre + half) / (1 + z ** 2 / m)

    neff_star, low, high = wilson(0.95)
    _, lcb, ucb = wilson(0.90)
    assert row["neff"] == pytest.approx(neff_star, rel=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-12)
    assert (row["lcb"], row["ucb"]) == pytest.approx((lcb, ucb), rel=1e-12)


def test_vcqi_deff_below_one_is_truncated():
    # identical PSUs except for one child: DEFF < 1, so neff* = n and DEFF = 1 (VCQI truncate)
    frame = pd.DataFrame({"psu": np.repeat([1, 2, 3, 4], 5),
                          "y": np.array([1, 1, 0, 0, 0] * 3 + [1, 1, 1, 0, 0], float)})
    p, se, n, _ = _by_hand(frame)
    assert (n - 1) / (p * (1 - p) / se ** 2) < 1
    row = SurveyDesign(frame, psu="psu").proportions(["y"], ci="clopper-pearson").iloc[0]
    assert (row["deff"], row["neff"]) == (1, 20)
    low, high = proportion_ci([p], [20.0], method="clopper-pearson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low[0], high[0]), rel=1e-12)


def test_korn_graubard_effective_size_by_hand(clustered):
    # Korn & Graubard (1998), as R svyciprop(method = "beta"): neff (t_{n-1} / t_df)^2, then Clopper-Pearson
    p, se, n, df = _by_hand(clustered)
    m = p * (1 - p) / se ** 2 * (stats.t.ppf(0.975, n - 1) / stats.t.ppf(0.975, df)) ** 2
    row = SurveyDesign(clustered, psu="psu").proportions(["y"], ci="korn-graubard").iloc[0]
    assert row["ci_low"] == pytest.approx(stats.beta.ppf(0.025, p * m, m * (1 - p) + 1), rel=1e-10)
    assert row["ci_high"] == pytest.approx(stats.beta.ppf(0.975, p * m + 1, m * (1 - p)), rel=1e-10)


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(((a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))).all())


def test_t_quantiles_kept_from_call_to_call_are_scipys_to_the_bit():
    from scipy import stats

    from lqas.ci import t_quantile

    df = np.concatenate([np.random.default_rng(7).integers(-3, 500, 3000).astype(float), [np.nan, 0.5, 1e9, np.inf]])
    for q in (0.975, 0.95, 0.995):
        expected = stats.t.ppf(q, np.where(df > 0, df, np.nan))
        assert _same_bits(t_quantile(q, df), expected)
        assert _same_bits(t_quantile(q, df[::-1]), expected[::-1])  # now from what the first call kept
    grid = t_quantile(0.975, [[1.0, 2.0], [np.nan, 0.0]])
    assert _same_bits(grid, [[stats.t.ppf(0.975, 1.0), stats.t.ppf(0.975, 2.0)], [np.nan, np.nan]])
    assert grid[0].tolist() == pytest.approx([12.7062047361747, 4.30265272974946], rel=1e-13)  # R: qt(0.975, 1:2)


def test_f_survival_is_scipys_to_the_bit_edges_included():
    from scipy import stats

    from lqas.ci import f_sf

    rng = np.random.default_rng(11)
    x = np.concatenate([rng.exponential(3, 5000), [0, -0.0, -1, np.inf, -np.inf, np.nan, 1e-300, 1e300]])
    dfd = np.concatenate([rng.integers(-3, 400, len(x) - 6).astype(float), [np.nan, 0, -1, np.inf, 0.5, 1e9]])
    for dfn in (1, 2.5, 0, np.nan):
        assert _same_bits(f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))

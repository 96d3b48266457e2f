"""Tests for lqas.rules: every number carries its source (publication, lqas.md section, or
'computed here' with the scipy call that gives it)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lqas.errors import ConfigError, InputError, LqasError
from lqas.rules import (
    Rule, Target, aggregate, classify, classify_three, decision_rule, decision_table,
    double_sampling_oc, evaluate_rule, from_convention, lot_thresholds, oc_curve, plot_oc,
    priority_lots, sample_size, three_class_oc, three_class_rule, to_convention,
)


# ----------------------------------------------------------------------------- decision_rule
def test_decision_rule_classic_19_80_50():
    # PMC3013262 Table 1 (published 0.07 / 0.08); lqas.md §0 exact binomial 0.0676 / 0.0835
    r = decision_rule(19, 0.80, 0.50)
    assert (r.n, r.d) == (19, 13)
    assert round(r.alpha, 4) == 0.0676
    assert round(r.beta, 4) == 0.0835
    assert r.limits_met is True
    assert r.distribution == "binomial" and r.lot_size is None


def test_decision_rule_errors_are_binomial_tails():
    # alpha = P(X < d | good), beta = P(X >= d | bad), DESIGN.md §4
    r = decision_rule(19, 0.80, 0.50)
    assert r.alpha == pytest.approx(stats.binom.cdf(12, 19, 0.80), rel=1e-12)
    assert r.beta == pytest.approx(stats.binom.sf(12, 19, 0.50), rel=1e-12)


def test_decision_rule_limits_not_met_falls_back_to_min_sum():
    # computed here: n = 10, 0.90/0.60, no d has both errors <= 0.10; d = 8 minimises the sum
    r = decision_rule(10, 0.90, 0.60)
    assert r.limits_met is False
    assert r.d == 8
    assert round(r.alpha, 4) == 0.0702  # binom.cdf(7, 10, 0.9)
    assert round(r.beta, 4) == 0.1673  # binom.sf(7, 10, 0.6)


def test_decision_rule_min_errors_vs_valadez_convention():
    # computed here: n = 19, 0.80/0.50 with alpha <= 0.05: min-sum d = 13 has alpha 0.0676 > 0.05,
    # so "min_errors" picks the valid d = 12 (alpha 0.0233, beta 0.1796 > 0.10 -> none valid,
    # falls back) -- use beta limit 0.20 so d = 12 is valid
    r = decision_rule(19, 0.80, 0.50, alpha=0.05, beta=0.20)
    assert (r.d, r.limits_met) == (12, True)
    assert round(r.alpha, 4) == 0.0233  # binom.cdf(11, 19, 0.8)
    assert round(r.beta, 4) == 0.1796  # binom.sf(11, 19, 0.5)
    v = decision_rule(19, 0.80, 0.50, alpha=0.05, beta=0.20, convention="valadez")
    assert (v.d, v.limits_met) == (13, False)


def test_hypergeometric_threshold_rounding_n52():
    # lqas.md §3 (Hund manual): N = 52 -> effective bounds 18/52 = 0.3462 and 34/52 = 0.6538
    assert lot_thresholds(0.65, 0.35, 52, "hund") == (34, 18)
    assert round(18 / 52, 4) == 0.3462 and round(34 / 52, 4) == 0.6538
    # sleacr uses ceiling() for both; Brixton-Health hyperLQAS and lqas_imp use round()
    assert lot_thresholds(0.65, 0.35, 52, "ceiling") == (34, 19)
    assert lot_thresholds(0.65, 0.35, 52, "round") == (34, 18)
    r = decision_rule(19, 0.65, 0.35, lot_size=52)
    assert (r.distribution, r.good_count, r.bad_count, r.d) == ("hypergeometric", 34, 18, 10)
    # computed here: hypergeom.cdf(9, 52, 34, 19) and hypergeom.sf(9, 52, 18, 19)
    assert r.alpha == pytest.approx(stats.hypergeom.cdf(9, 52, 34, 19), rel=1e-12)
    assert r.beta == pytest.approx(stats.hypergeom.sf(9, 52, 18, 19), rel=1e-12)
    assert round(r.alpha, 4) == 0.0391 and round(r.beta, 4) == 0.0391


def test_hypergeometric_design_smaller_than_binomial():
    # computed here: 0.65/0.35, 10 %/10 %: binomial n = 17 (d = 9), finite lot N = 52 n = 13 (d = 7)
    assert sample_size(0.65, 0.35).as_dict() == pytest.approx(
        {"n": 17, "d": 9, "alpha": 0.0994, "beta": 0.0994, "distribution": "binomial"},
        abs=1e-4)
    s = sample_size(0.65, 0.35, lot_size=52)
    assert (s.n, s.d, s.distribution, s.lot_size) == (13, 7, "hypergeometric", 52)
    assert round(s.alpha, 4) == 0.0906


# ----------------------------------------------------------------------------- tables
def test_decision_table_n12_verified_row():
    # lqas.md §2: n = 12 row reproduced from the public web form (targets >= 35 % verified;
    # 20 % -> 1 and 30 % -> 2 from the low-target rule; < 20 % -> N/A)
    published = {0.20: 1, 0.30: 2, 0.40: 3, 0.45: 4, 0.50: 5, 0.60: 6, 0.65: 7, 0.75: 8,
                 0.85: 9, 0.90: 10, 0.95: 11}
    row = decision_table(n_values=[12]).loc[12]
    for target, d in published.items():
        assert row[target] == d, target
    assert pd.isna(row[0.10]) and pd.isna(row[0.15])


def test_decision_table_n19_computed_row():
    # lqas.md §2 "Computed n = 19 row" (targets 10..95 %; <= 30 % cells from the unverified rule)
    expected = [pd.NA, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    row = decision_table(n_values=[19]).loc[19].tolist()
    assert [None if pd.isna(v) else v for v in row] == [
        None if v is pd.NA else v for v in expected]


def test_decision_table_long_max_error_by_n():
    # lqas.md §2: max error over targets 35..95 % is 0.0885 at n = 19, 0.107 at 17, 0.139 at 18,
    # 0.122 at 20 -- why n = 19 is the smallest n with all cells <= 0.10
    t = decision_table(range(17, 21), targets=[x / 100 for x in range(35, 100, 5)], long=True)
    worst = t.assign(w=t[["alpha", "beta"]].max(axis=1)).groupby("n")["w"].max().round(3)
    assert worst.to_dict() == {17: 0.107, 18: 0.139, 19: 0.088, 20: 0.122}
    assert set(t.loc[t.n == 19, "flag"]) == {"ok"}
    assert list(t.columns) == ["n", "good", "bad", "d", "alpha", "beta", "rule", "flag"]


def test_decision_table_low_target_artefact_n29():
    # lqas.md §2: computed table shows the 30 % cell larger than the 35 % cell at n = 29-30
    row = decision_table(n_values=[29], targets=[0.30, 0.35]).loc[29]
    assert (row[0.30], row[0.35]) == (6, 5)


# ----------------------------------------------------------------------------- sample size
def test_sample_size_19_is_minimal_for_80_50():
    # lqas.md §0: n = 19 is the smallest n with both errors <= 0.10 for 80/50
    s = sample_size(0.80, 0.50)
    assert (s.n, s.d, round(s.alpha, 4), round(s.beta, 4)) == (19, 13, 0.0676, 0.0835)
    for n in range(1, 19):  # exhaustive: no d at any smaller n meets both limits
        assert decision_rule(n, 0.80, 0.50).limits_met is False, n
    assert s.as_dict() == {"n": 19, "d": 13, "alpha": s.alpha, "beta": s.beta,
                           "distribution": "binomial"}


def test_sample_size_no_design_raises():
    with pytest.raises(ConfigError, match=r"sample_size: no sample size meets both error limits; "
                                          r"got 10, expected a design with n <= n_max"):
        sample_size(0.80, 0.50, n_max=10)


def test_beta_binomial_with_icc_to_zero_equals_binomial():
    # Hedt-Gauthier 2013 beta-binomial tends to the binomial as rho -> 0 (exact at rho = 0)
    srs = decision_rule(20, 0.80, 0.50)  # n = 20: the first multiple of 5 >= 19 (lqas.md §0)
    for rho in (0.0, 1e-12):
        bb = sample_size(0.80, 0.50, icc=rho, cluster_size=5, method="beta-binomial")
        assert (bb.n, bb.clusters, bb.d, bb.distribution) == (20, 4, srs.d, "beta-binomial")
        assert bb.alpha == pytest.approx(srs.alpha, rel=1e-9)
        assert bb.beta == pytest.approx(srs.beta, rel=1e-9)
    ess = sample_size(0.80, 0.50, icc=0.0, cluster_size=5, method="ess")
    assert (ess.n, ess.d, ess.alpha, ess.beta, ess.deff) == (20, 14, srs.alpha, srs.beta, 1.0)


def test_beta_binomial_convolution_matches_direct_sum():
    # computed here: X = X1 + ... + Xk with Xj ~ BetaBinomial(m, a, b); the design's alpha must
    # equal the brute-force sum over all cluster-count tuples
    s = sample_size(0.80, 0.50, icc=0.05, cluster_size=10, method="beta-binomial")
    assert (s.n, s.clusters, s.d, s.deff) == (30, 3, 20, pytest.approx(1.45))
    rho, m = 0.05, 10
    def pmf(p):
        return stats.betabinom.pmf(np.arange(m + 1), m, p * (1 - rho) / rho,
                                   (1 - p) * (1 - rho) / rho)
    pu, pl = pmf(0.80), pmf(0.50)
    alpha = sum(pu[i] * pu[j] * pu[k] for i, j, k in itertools.product(range(m + 1), repeat=3)
                if i + j + k < s.d)
    beta = sum(pl[i] * pl[j] * pl[k] for i, j, k in itertools.product(range(m + 1), repeat=3)
               if i + j + k >= s.d)
    assert s.alpha == pytest.approx(alpha, rel=1e-10)
    assert s.beta == pytest.approx(beta, rel=1e-10)
    assert round(s.alpha, 4) == 0.0544 and round(s.beta, 4) == 0.0868
    assert set(s.as_dict()) == {"n", "d", "alpha", "beta", "distribution", "method", "icc",
                                "cluster_size", "clusters", "deff"}


def test_ess_design_uses_effective_binomial():
    # lqas.md §5 (Hund & Pagano): DEFF = 1 + (m - 1) rho, n_eff = round(km/DEFF),
    # cut-off round((d - 1)/DEFF); computed here for 80/50, rho 0.05, m 10
    s = sample_size(0.80, 0.50, icc=0.05, cluster_size=10, method="ess")
    assert (s.n, s.clusters, s.d, s.n_effective, s.d_effective) == (30, 3, 20, 21, 14)
    assert s.deff == pytest.approx(1.45)
    assert s.alpha == pytest.approx(stats.binom.cdf(13, 21, 0.80), rel=1e-12)
    assert s.beta == pytest.approx(stats.binom.sf(13, 21, 0.50), rel=1e-12)


# ----------------------------------------------------------------------------- conventions
def test_pezzoli_bolivia_after_conversion():
    # Pezzoli 2009 Bolivia (lqas.md §4): n = 35, d = 6 unvaccinated, 90 %/70 %, errors 6 %/6 %,
    # exact binomial 0.055 / 0.065; Pezzoli's alpha is the risk of accepting at 70 % (reversed)
    c = from_convention(6, 35, "max_failures", alpha=0.065, beta=0.055, alpha_beta="reversed")
    assert c.d == 29 and (c.alpha, c.beta) == (0.055, 0.065)
    r = evaluate_rule(35, c.d, 0.90, 0.70)
    assert round(r.alpha, 3) == c.alpha  # P(X < 29 | 0.90) = 0.0552
    assert round(r.beta, 3) == c.beta  # P(X >= 29 | 0.70) = 0.0650
    assert to_convention(29, 35, "max_failures").d == 6


def test_convention_x_greater_than_round_trip():
    # lqas.md §1: d_Hund = d_Valadez - 1 (Hund "high if X > d"; SLEAC "cases_in > d")
    assert from_convention(12, 19, "x_greater_than").d == 13
    assert to_convention(13, 19, "x_greater_than").d == 12
    assert from_convention(13, 19, "min_successes") == (13, None, None)


def test_polio_60_3_rule_converted():
    # lqas.md §4: polio pass iff missed <= 3 of 60 -> pass iff vaccinated >= 57
    assert from_convention(3, 60, "max_failures").d == 57


# ----------------------------------------------------------------------------- OC curves
def test_double_sampling_matches_brute_force():
    # lqas.md §5 double-sampling formula, converted to X >= d; brute force over (x1, x2)
    n1, d1, n2, d2 = 10, 8, 9, 13
    p = np.array([0.3, 0.5, 0.65, 0.8, 0.95])
    brute = []
    for q in p:
        tot = 0.0
        for x1 in range(n1 + 1):
            p1 = stats.binom.pmf(x1, n1, q)
            if x1 >= d1:
                tot += p1
            else:
                tot += sum(p1 * stats.binom.pmf(x2, n2, q) for x2 in range(n2 + 1)
                           if x1 + x2 >= d2)
        brute.append(tot)
    assert double_sampling_oc(n1, d1, n2, d2, p) == pytest.approx(brute, rel=1e-12)


def test_double_sampling_no_second_stage_is_single_rule():
    # if d1 = 0 every lot passes at stage 1
    assert double_sampling_oc(5, 0, 5, 3, [0.2]) == pytest.approx([1.0])


def test_oc_curve_values_at_thresholds():
    # OC at the thresholds recovers alpha and beta of the classic rule (PMC3013262)
    oc = oc_curve(19, 13, p=[0.5, 0.8])
    assert list(oc.columns) == ["p", "prob_pass", "prob_fail"]
    assert round(oc.prob_fail[1], 4) == 0.0676 and round(oc.prob_pass[0], 4) == 0.0835
    assert len(oc_curve(19, 13)) == 101
    fin = oc_curve(19, 10, lot_size=52)
    assert len(fin) == 53 and fin.prob_pass.iloc[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("lang, xlabel, good, alpha", [
    ("en", "True coverage p", "80%", "α = 0.068"),
    ("fr", "Couverture réelle p", "80\u00a0%", "α = 0,068"),  # French: comma decimals, space before %
], ids=["en", "fr"])
def test_plot_oc_labels(lang, xlabel, good, alpha):
    fig = plot_oc(decision_rule(19, 0.80, 0.50), lang=lang)
    ax = fig.axes[0]
    assert ax.get_xlabel() == xlabel
    legend = ax.get_legend().get_texts()[0].get_text().replace("\u202f", "\u00a0")  # CLDR spaces vary
    assert legend.endswith(good) and legend.startswith({"en": "target", "fr": "cible"}[lang])
    assert alpha in [text.get_text() for text in ax.texts]
    assert len(ax.lines) == 3  # curve + two threshold lines
    assert plot_oc((19, 13)).axes[0].get_title() == "OC curve (n = 19, d = 13)"


# ----------------------------------------------------------------------------- three classes
def test_sleac_three_class_worked_example():
    # nutriverse/sleacr classification vignette (lqas.md §5): n = 40, 30 %/70 % -> 12 and 28;
    # covered 1-12 Low, 13-28 Moderate, 29-40 High
    r = three_class_rule(40, 0.30, 0.70)
    assert (r.d1, r.d2) == (12, 28)
    assert list(classify_three([12, 13, 28, 29], r.d1, r.d2)) == ["low", "middle", "middle",
                                                                  "high"]
    assert classify_three(0, 12, 28) == "low"


def test_three_class_couplets_reproduce_the_published_two_class_rules():
    # lqas.md §5 has no published couplet-based three-class rule (Olives 2012's d1, d2 were not
    # retrieved), so each cut-off is checked against the published two-class rule of its couplet,
    # which it must equal in the X > d form (lqas.md §1: d_Hund = d_Valadez - 1).
    # n = 19, couplet 50 %/80 %: PMC3013262 Table 1, pass iff X >= 13, alpha 0.0676, beta 0.0835
    # (published 0.07 / 0.08), i.e. high iff X > 12
    r = three_class_rule(19, 0.30, 0.80, method="couplets", couplets=((0.20, 0.50), (0.50, 0.80)))
    assert r.d2 == 12
    assert round(r.errors["not_high_at_u2"], 4) == 0.0676 and round(r.errors["high_at_l2"], 4) == 0.0835
    oc = three_class_oc(19, r.d1, r.d2, p=[0.5, 0.8]).set_index("p")
    assert round(oc.loc[0.8, "prob_high"], 4) == round(1 - 0.0676, 4)
    assert round(oc.loc[0.5, "prob_high"], 4) == 0.0835
    # n = 12: the verified row of the Valadez table (lqas.md §2) gives 50 % -> 5 and 75 % -> 8 with
    # the bad threshold 30 points below (lqas.md's inferred selection rule), so 20-50 and 45-75
    # couplets cut at X > 4 and X > 7
    r = three_class_rule(12, 0.30, 0.60, method="couplets", couplets=((0.20, 0.50), (0.45, 0.75)))
    assert (r.d1, r.d2) == (4, 7)
    assert list(classify_three([4, 5, 7, 8], r.d1, r.d2)) == ["low", "middle", "middle", "high"]


# ----------------------------------------------------------------------------- classify
@pytest.fixture
def lots_frame():
    # hand-made: lot A/12-23m: 21 children, penta3 13 yes / 6 no / 2 NaN, zero_dose 2 yes;
    # lot B/12-23m: 19 children, penta3 12 yes, zero_dose 5 yes;
    # lot A/18w-11m: 4 children, zero_dose all NaN (no denominator)
    rows = []
    for i in range(21):
        p3 = 1.0 if i < 13 else (0.0 if i < 19 else np.nan)
        rows.append(("A", "12-23m", p3, 1.0 if i < 2 else 0.0))
    for i in range(19):
        rows.append(("B", "12-23m", 1.0 if i < 12 else 0.0, 1.0 if i < 5 else 0.0))
    for i in range(4):
        rows.append(("A", "18w-11m", 1.0, np.nan))
    return pd.DataFrame(rows, columns=["catchment", "cohort", "penta3_crude", "zero_dose"])


TARGETS = [Target("zero_dose", good=0.10, bad=0.40, lower_is_better=True),
           Target("penta3_crude", good=0.80, bad=0.50, cohorts=("12-23m",))]


def test_classify_columns_and_order(lots_frame):
    out = classify(lots_frame, TARGETS)
    assert list(out.columns) == ["indicator", "catchment", "cohort", "n", "x", "d", "alpha",
                                 "beta", "class", "x_indicator", "direction", "counted", "good",
                                 "bad", "limits_met", "distribution"]
    # sorted by lot, then targets in the given order; penta3 skipped for the 18w-11m cohort
    assert list(zip(out.catchment, out.cohort, out.indicator)) == [
        ("A", "12-23m", "zero_dose"), ("A", "12-23m", "penta3_crude"),
        ("A", "18w-11m", "zero_dose"),
        ("B", "12-23m", "zero_dose"), ("B", "12-23m", "penta3_crude")]


def test_classify_coverage_lot_nan_excluded(lots_frame):
    out = classify(lots_frame, TARGETS).set_index(["catchment", "cohort", "indicator"])
    a = out.loc[("A", "12-23m", "penta3_crude")]
    # 2 NaN excluded: n = 19, x = 13 -> classic rule d = 13 (PMC3013262): pass
    assert (a.n, a.x, a.x_indicator, a.d, a["class"]) == (19, 13, 13, 13, "pass")
    assert round(a.alpha, 4) == 0.0676 and round(a.beta, 4) == 0.0835
    b = out.loc[("B", "12-23m", "penta3_crude")]
    assert (b.n, b.x, b.d, b["class"]) == (19, 12, 13, "fail")
    assert (b.direction, b.counted, b.good, b.bad) == ("higher_is_better",
                                                       "penta3_crude == 1", 0.80, 0.50)


def test_classify_zero_dose_on_complement(lots_frame):
    out = classify(lots_frame, TARGETS).set_index(["catchment", "cohort", "indicator"])
    a = out.loc[("A", "12-23m", "zero_dose")]
    # ZD good 0.10 bad 0.40 -> counted on non-ZD: good 0.90, bad 0.60; n = 21: computed here
    # decision_rule(21, 0.9, 0.6): d = 17, alpha = binom.cdf(16, 21, .9) = 0.0522,
    # beta = binom.sf(16, 21, .6) = 0.0370; x = 21 - 2 = 19 >= 17 -> pass
    assert (a.n, a.x, a.x_indicator, a.d, a["class"]) == (21, 19, 2, 17, "pass")
    assert round(a.alpha, 4) == 0.0522 and round(a.beta, 4) == 0.0370
    # classification.csv states the target as survey.toml does, on the indicator's own scale
    assert (a.direction, a.counted, a.good, a.bad) == ("lower_is_better", "zero_dose == 0", 0.10, 0.40)
    b = out.loc[("B", "12-23m", "zero_dose")]
    # n = 19: decision_rule(19, .9, .6) -> d = 15 (alpha 0.0352, beta 0.0696); x = 14 -> fail
    assert (b.n, b.x, b.d, b["class"]) == (19, 14, 15, "fail")
    assert round(b.alpha, 4) == 0.0352 and round(b.beta, 4) == 0.0696


def test_classify_no_data_lot(lots_frame):
    out = classify(lots_frame, TARGETS)
    nd = out[(out.cohort == "18w-11m")].iloc[0]
    assert (nd.n, nd["class"]) == (0, "no_data")
    assert pd.isna(nd.d) and np.isnan(nd.alpha) and pd.isna(nd.limits_met)


def test_classify_rejects_bad_values(lots_frame):
    bad = lots_frame.assign(zero_dose=lots_frame.zero_dose.replace(1.0, 2.0))
    with pytest.raises(InputError, match=r"classify: column 'zero_dose' has values other than "
                                         r"0/1/NaN in 7 rows; got \[2\.0\], expected 0, 1 or NaN"):
        classify(bad, TARGETS)
    with pytest.raises(InputError, match=r"data lack required columns; got \['catchment'\]"):
        classify(lots_frame.drop(columns="catchment"), TARGETS)


def test_target_validation():
    with pytest.raises(ConfigError, match=r"Target 'zero_dose': lower-is-better needs good < bad"):
        Target("zero_dose", good=0.40, bad=0.10, lower_is_better=True)
    with pytest.raises(ConfigError, match=r"Set lower_is_better=True"):
        Target("zero_dose", good=0.10, bad=0.40)


# ----------------------------------------------------------------------------- aggregate
def test_aggregate_stratified_estimator():
    # lqas.md §6 formula, hand computation: W = (0.5, 0.3, 0.2), p = (13/19, 7/19, 16/19)
    lots = pd.DataFrame({"lot": ["A", "B", "C"], "population": [5000, 3000, 2000],
                         "n": [19, 19, 19], "x": [13, 7, 16]})
    w, p = np.array([0.5, 0.3, 0.2]), np.array([13, 7, 16]) / 19
    est = (w * p).sum()
    se = np.sqrt((w ** 2 * p * (1 - p) / 19).sum())
    out = aggregate(lots).iloc[0]
    assert out.estimate == pytest.approx(est, rel=1e-12)
    assert round(out.estimate, 4) == 0.6211
    assert out.se == pytest.approx(se, rel=1e-12)
    assert out.ci_low == pytest.approx(est - 1.959964 * se, rel=1e-6)
    assert (out.n, out.x, out.lots, round(out.crude, 4)) == (57, 36, 3, 0.6316)
    fpc = aggregate(lots, fpc=True).iloc[0]
    f = 1 - 19 / np.array([5000, 3000, 2000])
    assert fpc.se == pytest.approx(np.sqrt((w ** 2 * p * (1 - p) / 19 * f).sum()), rel=1e-12)


def test_aggregate_rejects_empty_lot():
    lots = pd.DataFrame({"population": [10, 20], "n": [0, 19], "x": [0, 10]})
    with pytest.raises(InputError, match=r"aggregate: 1 lots break 0 <= x <= n, n >= 1, "
                                         r"population >= n; got \[0\]"):
        aggregate(lots)


def test_priority_lots_rounding_matters():
    # hand example built to match lqas.md §6 (Hund manual ORS data not reproduced there):
    # average 10/19 = 52.6 %, n = 19 rules 50 % -> 7 and 55 % -> 8; SA1/SA2 have X = 7
    lots = pd.DataFrame({"lot": ["SA1", "SA2", "SA3", "SA4", "SA5"], "n": [19] * 5,
                         "x": [7, 7, 12, 12, 12]})
    down = priority_lots(lots, rounding="down5")
    assert round(down.average[0], 3) == 0.526 and down.target[0] == 0.50
    assert set(down.d) == {7} and not down.priority.any()
    up = priority_lots(lots, rounding="up5")
    assert up.target[0] == 0.55 and set(up.d) == {8}
    assert list(up.lot[up.priority]) == ["SA1", "SA2"]
    assert priority_lots(lots, rounding="nearest5").target[0] == 0.55
    exact = priority_lots(lots)  # computed here: p_u = 10/19, p_l = p_u - 0.30 -> d = 7
    assert set(exact.d) == {7} and not exact.priority.any()


def test_priority_lots_na_outside_table():
    # lqas.md §6 point 6: no usable rule (N/A cell) -> no priority classification
    lots = pd.DataFrame({"n": [19, 19], "x": [1, 2]})
    out = priority_lots(lots)  # average 3/38 = 7.9 % < 10 %: no d has alpha <= 10 %
    assert out.d.isna().all() and out.priority.isna().all()


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, message", [
    (dict(n=19, good=0.5, bad=0.8),
     r"decision_rule: parameter 'good' must be greater than 'bad'; got \(0\.5, 0\.8\), "
     r"expected 0 <= bad < good <= 1"),
    (dict(n=0, good=0.8, bad=0.5),
     r"decision_rule: parameter 'n' is invalid; got 0, expected an integer >= 1\."),
    (dict(n=19.5, good=0.8, bad=0.5), r"parameter 'n' is invalid; got 19\.5"),
    (dict(n=19, good=0.8, bad=0.5, alpha=1.2),
     r"decision_rule: parameter 'alpha' is out of range; got 1\.2, expected a number in \(0, 1\)"),
    (dict(n=19, good=0.8, bad=0.5, beta=0),
     r"parameter 'beta' is out of range; got 0, expected a number in \(0, 1\)"),
    (dict(n=19, good=0.8, bad=0.5, lot_size=10),
     r"parameter 'lot_size' is smaller than the sample; got 10, expected lot_size >= n = 19"),
    (dict(n=19, good=0.8, bad=0.5, rounding="floor"),
     r"parameter 'rounding' is not recognised; got 'floor', expected one of"),
], ids=["good<=bad", "n<1", "n-float", "alpha>1", "beta=0", "lot<n", "rounding"])
def test_decision_rule_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        decision_rule(**kwargs)


def test_errors_are_lqas_errors_on_one_line():
    with pytest.raises(LqasError) as info:
        sample_size(0.8, 0.5, icc=0.1)
    assert "\n" not in str(info.value)
    assert "needs both 'icc' and 'cluster_size'" in str(info.value)


def test_rule_is_frozen():
    r = decision_rule(19, 0.80, 0.50)
    assert isinstance(r, Rule)
    with pytest.raises(AttributeError):
        r.d = 12  # type: ignore[misc]


def test_target_cohorts_string_is_one_cohort(lots_frame):
    t = Target("penta3_crude", good=0.80, bad=0.50, cohorts="12-23m")
    assert t.cohorts == ("12-23m",)
    assert set(classify(lots_frame, [t]).cohort) == {"12-23m"}

"""SurveyDesign verbs against R survey (svymean/svytotal/svyby/svyciprop/svycontrast/svychisq) and hand calculations."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import require_r
from scipy import stats

import lqas.design as design_module
from lqas.design import COMPARE_COLUMNS, ESTIMATE_COLUMNS, MEAN_COLUMNS, SurveyDesign
from lqas.errors import DesignError

ORACLE = Path(__file__).parent / "oracles" / "survey_proportions.R"
GAP_ORACLE = Path(__file__).parent / "oracles" / "survey_compare.R"


needs_r = pytest.mark.usefixtures("r_survey")


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


def test_sampled_psu_without_respondents_counts_with_a_zero_total():
    # the example above plus a 4th sampled PSU that yielded no one (VCQI's zero-weight placeholder):
    # z = (1, 0, -1, 0)/6, mean 0 -> var = 4/3 * 2/36, df = 4 - 1
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "y": [1, 1, 1, 0, 0, 0]})
    row = SurveyDesign(frame, psu="psu", empty_psus=1).proportions(["y"]).iloc[0]
    assert row["estimate"] == 0.5 and row["n"] == 6
    assert row["se"] == pytest.approx(np.sqrt(4 / 3 * 2 / 36), rel=1e-12)
    assert row["df"] == 3


@pytest.mark.parametrize("empty, message", [
    ({"s9": 1}, "empty_psus: stratum 's9' has no respondents in 'stratum'"),
    ({"s1": -1}, "empty_psus: stratum 's1' needs a count of 0 or more; got -1"),
    (2, "empty_psus must map strata of 'stratum' to counts; got 2"),
], ids=["unknown-stratum", "negative", "int-with-strata"])
def test_empty_psus_errors(sample, empty, message):
    with pytest.raises(DesignError, match=message):
        SurveyDesign(sample, strata="stratum", psu="psu", weight="w", empty_psus=empty)


def test_margins_and_schema(sample):
    out = SurveyDesign(sample, strata="stratum", psu="psu", weight="w").proportions(["y1"], by=["dom", "stratum"])
    assert list(out.columns) == ["indicator", "dom", "stratum", *ESTIMATE_COLUMNS]
    assert ("all", "all") in set(zip(out["dom"], out["stratum"]))
    assert {("a", "all"), ("all", "s1"), ("a", "s1")} <= set(zip(out["dom"], out["stratum"]))
    defined = out["ci_low"].notna()
    assert (out["lcb"] >= out["ci_low"])[defined].all() and (out["ucb"] <= out["ci_high"])[defined].all()
    # ('c', 's2') holds one child: se = 0, so df = n - 1 = 0 and t_0 is undefined; VCQI's
    # invt(0, .975) is missing, so there is no interval (and no NEFF)
    single = out[(out["dom"] == "c") & (out["stratum"] == "s2")].iloc[0]
    assert (single["n"], single["se"], single["df"], single["deff"]) == (1, 0, 0, 1)
    assert np.isnan(single["ci_low"]) and np.isnan(single["ci_high"]) and np.isnan(single["neff"])
    assert defined.sum() == len(out) - 1


def test_within_computes_only_the_margins_that_keep_those_columns(sample):
    design = SurveyDesign(sample, strata="stratum", psu="psu", weight="w")
    full = design.proportions(["y1", "y2"], by=["dom", "stratum"])
    only = design.proportions(["y1", "y2"], by=["dom", "stratum"], within=["stratum"])
    expected = full[full["stratum"] != "all"].reset_index(drop=True)
    pd.testing.assert_frame_equal(only.sort_values(["indicator", "dom", "stratum"]).reset_index(drop=True),
                                  expected.sort_values(["indicator", "dom", "stratum"]).reset_index(drop=True))
    # the codes of a domain column are made once per design and reused: the same rows again
    pd.testing.assert_frame_equal(design.proportions(["y1", "y2"], by=["dom", "stratum"]), full)


def test_homogeneous_domain_follows_vcqi():
    frame = pd.DataFrame({"psu": [1, 1, 2, 2], "y": [1.0, 1.0, 1.0, 1.0]})
    row = SurveyDesign(frame, psu="psu").proportions(["y"]).iloc[0]
    # VCQI svypd: se = 0 so df = n - 1; svyp_ci_calc: neff = n, DEFF = 1, then the df adjustment
    # neff* = n (z / t_{n-1})^2 (DEFF is 1, not below 1, so no truncation back to n)
    neff = 4 * (stats.norm.ppf(0.975) / stats.t.ppf(0.975, 3)) ** 2
    assert (row["se"], row["df"], row["deff"]) == (0, 3, 1)
    assert row["neff"] == pytest.approx(neff, rel=1e-12)
    assert row["ci_high"] == 1
    assert row["ci_low"] == pytest.approx(neff / (neff + stats.norm.ppf(0.975) ** 2), rel=1e-12)  # Wilson at p = 1
    exact = SurveyDesign(frame, psu="psu").proportions(["y"], ci="clopper-pearson").iloc[0]
    assert exact["ci_low"] == pytest.approx(0.025 ** (1 / 4), rel=1e-12)  # Clopper-Pearson on n itself


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
    with pytest.raises(DesignError, match=r"appears in more than one stratum .*\[design\] nest = true in survey.toml \(in Python, pass nest=True\)"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w")
    assert SurveyDesign(bad, strata="stratum", psu="psu", weight="w", nest=True).proportions(["y1"]).shape[0] == 1


def test_zero_weight_is_refused_with_the_row(sample):
    bad = sample.assign(w=sample["w"].where(sample.index != 5, 0.0))
    with pytest.raises(DesignError, match="weight column 'w': weights must be positive numbers; row 5 has '0.0'"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w")


# -- proportions across designs and lonely-PSU options (oracles/survey_designs.R) -----------------

DESIGNS_ORACLE = Path(__file__).parent / "oracles" / "survey_designs.R"
DESIGN_CASES = {  # id: (R design, lonely option, SurveyDesign keywords)
    "stratified-adjust": ("stratified", "adjust", {"strata": "stratum", "psu": "psu"}),
    "stratified-certainty": ("stratified", "certainty", {"strata": "stratum", "psu": "psu"}),
    "stratified-remove": ("stratified", "remove", {"strata": "stratum", "psu": "psu"}),
    "fpc-adjust": ("fpc", "adjust", {"strata": "stratum", "psu": "psu", "fpc": "fpc"}),
    "fpc-remove": ("fpc", "remove", {"strata": "stratum", "psu": "psu", "fpc": "fpc"}),
    "unstratified": ("unstratified", "adjust", {"strata": None, "psu": "psu"}),
    "no-psu": ("nopsu", "adjust", {"strata": "stratum", "psu": None}),
}


@pytest.fixture(scope="module")
def designs_sample():
    """4 strata (C has one PSU, of 3 in the population), 10 PSUs, unequal weights within PSUs,
    region 'r3' in 3 PSUs only (one of them the lonely one), NaN in both outcomes."""
    rng = np.random.default_rng(20261122)
    population = {"A": 10, "B": 12, "C": 3, "D": 5}
    rows = []
    for stratum, n_psu in {"A": 3, "B": 4, "C": 1, "D": 2}.items():
        for k in range(n_psu):
            psu = f"{stratum}{k + 1}"
            level = rng.uniform(0.15, 0.9)
            regions = ["r1", "r2", "r3"] if psu in {"A1", "B2", "C1"} else ["r1", "r2"]
            for _ in range(rng.integers(5, 12)):
                rows.append({"stratum": stratum, "psu": psu, "fpc": population[stratum],
                             "w": round(float(rng.uniform(0.5, 3.0)), 3), "region": str(rng.choice(regions)),
                             "sex": str(rng.choice(["F", "M"])), "y1": float(rng.random() < level),
                             "y2": float(rng.random() < 0.6)})
    frame = pd.DataFrame(rows)
    frame.loc[rng.random(len(frame)) < 0.12, "y1"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.08, "y2"] = np.nan
    return frame


@pytest.fixture(scope="module", params=list(DESIGN_CASES), ids=list(DESIGN_CASES))
def design_case(request, designs_sample, tmp_path_factory):
    """R's rows and ours: Wilson with VCQI df, Korn-Graubard with domain df, logit with design df."""
    require_r("survey")
    r_design, lonely, keywords = DESIGN_CASES[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    source, target = folder / "in.csv", folder / "out.csv"
    designs_sample.to_csv(source, index=False, na_rep="NA")
    subprocess.run(["Rscript", str(DESIGNS_ORACLE), str(source), str(target), lonely, r_design, "y1,y2",
                    "region,sex"], check=True, capture_output=True)
    expected = pd.read_csv(target, keep_default_na=False, na_values=["NA", "NaN"],
                           dtype={"region": str, "sex": str})
    design = SurveyDesign(designs_sample, weight="w", singleton=lonely, **keywords)
    keys = ["indicator", "region", "sex"]
    ours = {ci: expected.merge(design.proportions(["y1", "y2"], by=["region", "sex"], ci=ci, df=rule),
                               on=keys, suffixes=("_r", ""), validate="1:1")
            for ci, rule in (("wilson", "vcqi"), ("korn-graubard", "domain"), ("logit", "design"))}
    return expected, ours


def test_proportions_match_r_in_every_domain_and_margin(design_case):
    # R: svyby(~y, ~region + sex, des, svymean, na.rm = TRUE) (and ~region, ~sex, svymean over all);
    # se_subset: svymean(~y, des[region == r & sex == s & !is.na(y), ])
    expected, ours = design_case
    merged = ours["wilson"]
    assert len(merged) == len(expected) == 24  # 2 outcomes x (3 x 2 + 3 + 2 + 1) domains
    assert (merged["n"] == merged["n_r"]).all()
    np.testing.assert_allclose(merged["estimate"], merged["estimate_r"], rtol=1e-10)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(merged["se"], merged["se_subset"], rtol=1e-8, atol=1e-14)


def test_korn_graubard_matches_r_svyciprop_beta_in_every_domain(design_case):
    # R: svyciprop(~y, sub <- des[<domain> & !is.na(y), ], method = "beta"): neff (qt(.025, nrow(sub) - 1) /
    # qt(.025, degf(sub)))^2 -- R ignores svyciprop's df here, so ours uses df="domain" (= degf(sub))
    _, ours = design_case
    merged = ours["korn-graubard"]
    usable = (merged["se"] > 0) & merged["beta_low"].notna()
    assert usable.sum() >= 18
    np.testing.assert_allclose(merged.loc[usable, "ci_low"], merged.loc[usable, "beta_low"], rtol=1e-8)
    np.testing.assert_allclose(merged.loc[usable, "ci_high"], merged.loc[usable, "beta_high"], rtol=1e-8)


def test_logit_matches_r_svyciprop_logit_where_deff_exceeds_one(design_case):
    # R: svyciprop(~y, des[<domain> & !is.na(y), ], method = "logit", df = degf(des)); VCQI's logit
    # on neff* = neff (z/t_df)^2 is the same interval unless DEFF < 1 truncates neff* to n
    _, ours = design_case
    merged = ours["logit"]
    assert (merged["df"][merged["se"] > 0] == merged["degf"][merged["se"] > 0]).all()
    usable = (merged["deff"] > 1) & (merged["se"] > 0)
    assert usable.sum() >= 6
    np.testing.assert_allclose(merged.loc[usable, "ci_low"], merged.loc[usable, "logit_low"], rtol=1e-7)
    np.testing.assert_allclose(merged.loc[usable, "ci_high"], merged.loc[usable, "logit_high"], rtol=1e-7)


def _zero_weight_route(frame, weight, y, stratum, psu):
    """Whole-sample ratio estimator with weights set to 0 outside the domain, written out in full:
    p = sum(w y) / sum(w); z_i = w_i (y_i - p) / sum(w); var = sum_h n_h/(n_h-1) sum_j (z_hj - mean_h z)^2."""
    w = np.where(frame[y].notna(), weight, 0.0)
    values = frame[y].fillna(0).to_numpy()
    p = np.sum(w * values) / np.sum(w)
    z = pd.Series(w * (values - p) / np.sum(w)).groupby([frame[stratum], frame[psu]]).sum()
    variance = 0.0
    for _, totals in z.groupby(level=0):
        k = len(totals)
        variance += k / (k - 1) * np.sum((totals - totals.mean()) ** 2) if k > 1 else 0.0
    return p, np.sqrt(variance)


def test_domain_estimate_equals_zero_weight_outside_the_domain(designs_sample):
    # singleton="remove": the lonely stratum contributes nothing in either route
    frame = designs_sample
    ours = SurveyDesign(frame, strata="stratum", psu="psu", weight="w", singleton="remove").proportions(
        ["y1"], by=["region", "sex"]).set_index(["region", "sex"])
    for region, sex in [("r3", "F"), ("r1", "M"), ("r2", "all"), ("all", "F")]:
        inside = np.ones(len(frame), bool)
        inside &= (frame["region"] == region).to_numpy() if region != "all" else True
        inside &= (frame["sex"] == sex).to_numpy() if sex != "all" else True
        p, se = _zero_weight_route(frame, frame["w"].where(inside, 0.0).to_numpy(), "y1", "stratum", "psu")
        assert ours.loc[(region, sex), "estimate"] == pytest.approx(p, rel=1e-12)
        assert ours.loc[(region, sex), "se"] == pytest.approx(se, rel=1e-10)


def test_passes_made_together_equal_each_pass_alone_to_the_bit(designs_sample, monkeypatch):
    frame = designs_sample.assign(zone=designs_sample["stratum"].map({"A": "z1", "B": "z1", "C": "z2", "D": "z2"}),
                                  y3=1.0 - designs_sample["y1"])  # y3: y1's denominator, a second outcome of it
    design = SurveyDesign(frame, strata="stratum", psu="psu", weight="w", fpc="fpc")
    passes = [(["sex", "stratum"], []), (["sex", "zone"], ["zone"]), (["region", "sex"], ["region"]), (None, [])]
    summed_by = set()
    sum_rows = design_module._Cells.sum
    monkeypatch.setattr(design_module._Cells, "sum", lambda cells, values: summed_by.add(id(cells)) or
                        sum_rows(cells, values))
    together = design.proportion_passes(["y1", "y2", "y3"], passes, ci="logit")
    # the zone of a PSU does not cut the rows otherwise than its stratum: three cuttings of the rows, not four
    assert len(summed_by) == 3
    monkeypatch.undo()
    assert len(together) == len(passes)
    for made, (by, within) in zip(together, passes):
        alone = design.proportions(["y1", "y2", "y3"], by=by, within=within, ci="logit")
        pd.testing.assert_frame_equal(made, alone, check_exact=True)
        assert len(made) > 0


def test_domains_without_members_are_omitted_and_labels_are_text(designs_sample):
    frame = designs_sample.assign(code=np.where(designs_sample["region"] == "r3", 3, 1))
    out = SurveyDesign(frame, strata="stratum", psu="psu", weight="w").proportions(["y1"], by=["code"])
    assert out["code"].tolist() == ["1", "3", "all"]
    empty = frame.assign(y1=frame["y1"].where(frame["code"] == 1))
    out = SurveyDesign(empty, strata="stratum", psu="psu", weight="w").proportions(["y1"], by=["code"])
    assert out["code"].tolist() == ["1", "all"]


def test_fpc_as_fractions_equals_fpc_as_population_counts(designs_sample):
    # R as.fpc: a column whose values are all <= 1 holds sampling fractions
    sampled = designs_sample.groupby("stratum")["psu"].transform("nunique")
    fractions = designs_sample.assign(fpc=sampled / designs_sample["fpc"])
    keywords = {"strata": "stratum", "psu": "psu", "weight": "w"}
    counts = SurveyDesign(designs_sample, fpc="fpc", **keywords).proportions(["y1"], by=["region"])
    by_fraction = SurveyDesign(fractions, fpc="fpc", **keywords).proportions(["y1"], by=["region"])
    pd.testing.assert_frame_equal(counts, by_fraction)
    # a census of every stratum (fraction 1) has no sampling variance
    census = SurveyDesign(designs_sample.assign(fpc=1), fpc="fpc", **keywords).proportions(["y1"])
    assert census["se"].iloc[0] == 0


@pytest.mark.parametrize("fpc, message", [
    (lambda f: f["fpc"].where(f.index != 7), "fpc column 'fpc': row 7 has 'nan', expected a positive number"),
    (lambda f: f["fpc"].where(f.index != 0, 11), "fpc column 'fpc' varies within stratum 'A'"),
    (lambda f: f["fpc"].where(f["stratum"] != "B", 2), "fpc column 'fpc': stratum 'B' has more sampled PSUs"),
], ids=["missing", "varies", "too-small"])
def test_fpc_errors_name_the_row_or_stratum(designs_sample, fpc, message):
    with pytest.raises(DesignError, match=message):
        SurveyDesign(designs_sample.assign(fpc=fpc(designs_sample)), strata="stratum", psu="psu", fpc="fpc")


def test_missing_domain_values_form_one_missing_domain(designs_sample):
    # NaN, None and pd.NA in a by column are one domain labelled "missing", never "nan"/"None"/"<NA>"
    sex = designs_sample["sex"].astype(object)
    sex.iloc[[0, 1]], sex.iloc[2] = np.nan, None
    sex.iloc[3] = pd.NA
    frame = designs_sample.assign(sex=sex)
    design = SurveyDesign(frame, strata="stratum", psu="psu", weight="w")
    out = design.proportions(["y1"], by=["sex"]).set_index("sex")
    assert sorted(out.index) == ["F", "M", "all", "missing"]
    assert out.loc["missing", "n"] == 4
    assert out.loc["missing", "estimate"] == pytest.approx(
        np.average(frame["y1"].iloc[:4], weights=frame["w"].iloc[:4]))
    assert out.loc[["F", "M", "missing"], "n"].sum() == out.loc["all", "n"]


def test_outcome_outside_zero_one_is_refused(designs_sample):
    bad = designs_sample.assign(y1=designs_sample["y1"].where(designs_sample.index != 4, 2.0))
    with pytest.raises(DesignError, match="column 'y1', row 4: got '2.0', expected 0, 1 or missing"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w").proportions(["y1"])


def test_unknown_ci_method_lists_the_valid_names(designs_sample):
    design = SurveyDesign(designs_sample, strata="stratum", psu="psu", weight="w")
    with pytest.raises(DesignError, match="ci must be one of wilson, clopper-pearson, .*korn-graubard; got 'exact'"):
        design.proportions(["y1"], ci="exact")


def test_missing_weight_value_is_refused_with_the_row(designs_sample):
    bad = designs_sample.assign(w=designs_sample["w"].where(designs_sample.index != 9))
    with pytest.raises(DesignError, match="weight column 'w': weights must be positive numbers; row 9 has 'nan'"):
        SurveyDesign(bad, strata="stratum", psu="psu", weight="w")


def test_lonely_psu_adjust_adds_its_squared_total(designs_sample):
    # R onestrat: under "adjust" the lonely PSU's total is centred at 0 (not at its own mean), so
    # var(adjust) - var(remove) = (sum over the lonely PSU of w (y - p) / sum w)^2
    frame = designs_sample
    rows = {option: SurveyDesign(frame, strata="stratum", psu="psu", weight="w", singleton=option)
            .proportions(["y2"]).iloc[0] for option in ("adjust", "remove", "certainty")}
    y, w = frame["y2"], frame["w"].where(frame["y2"].notna(), 0.0)
    p = (w * y.fillna(0)).sum() / w.sum()
    lonely = (w * (y.fillna(0) - p))[frame["stratum"] == "C"].sum() / w.sum()
    assert rows["adjust"]["se"] ** 2 - rows["remove"]["se"] ** 2 == pytest.approx(lonely ** 2, rel=1e-9)
    assert rows["certainty"]["se"] == rows["remove"]["se"]


# -- ICC: VCQI's one-way ANOVA estimator against R aov ---------------------------------------------

ICC_ORACLE = Path(__file__).parent / "oracles" / "icc_anova.R"
# stratum, cluster, base weight, then one character per child: sex, y1, y2 ("." = not in the denominator)
ICC_CLUSTERS = [
    ("north", "N1", 1.2, "FMFFM", "11011", "1.101"),
    ("north", "N2", 0.8, "MMFFMFMF", "1111110.", "10011101"),
    ("north", "N3", 2.5, "FMF", "001", "011"),
    ("south", "S1", 1.7, "MFMFFM", "010.00", "110111"),
    ("south", "S2", 0.6, "FFMM", "1011", "1101"),
    ("south", "S3", 3.1, "MFMFMFFMM", "100100010", "1.1111110"),
    ("south", "S4", 1.1, "FMMFFMF", "1101111", "1011101"),
]


@pytest.fixture(scope="module")
def icc_sample():
    """Two strata of 3 and 4 clusters of 3 to 9 children, weights varying within clusters, NaN
    outcomes; y2 is 1 for every girl of 'south' (VCQI's homogeneous case)."""
    def value(code):
        return np.nan if code == "." else float(code)

    return pd.DataFrame([{"stratum": stratum, "psu": psu, "w": round(base * (1 + 0.15 * j), 3), "sex": sex[j],
                          "y1": value(y1[j]), "y2": value(y2[j])}
                         for stratum, psu, base, sex, y1, y2 in ICC_CLUSTERS for j in range(len(sex))])


def _icc_table(sample):
    design = SurveyDesign(sample, strata="stratum", psu="psu", weight="w")
    return design.proportions(["y1", "y2"], by=["stratum", "sex"]).set_index(["indicator", "stratum", "sex"])


def test_icc_matches_r_anova_in_every_domain_and_margin(icc_sample, tmp_path):
    # R: summary(aov(y ~ factor(cluster))) on the domain's children with y, then VCQI calc_icc's
    # (MSB - MSW) / (MSB + (n0 - 1) MSW); tests/oracles/icc_anova.R
    require_r()
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    icc_sample.to_csv(source, index=False, na_rep="NA")
    subprocess.run(["Rscript", str(ICC_ORACLE), str(source), str(target), "y1,y2", "stratum,sex"],
                   check=True, capture_output=True)
    expected = pd.read_csv(target, keep_default_na=False, na_values=["NA"])
    expected = expected.set_index(["outcome", "stratum", "sex"])
    ours = _icc_table(icc_sample)
    assert len(expected) == len(ours) == 18  # 2 outcomes x (1 + 2 + 2 + 2 x 2) domains
    merged = ours.merge(expected.rename_axis(ours.index.names), left_index=True, right_index=True, how="inner",
                        suffixes=("", "_r"))
    assert len(merged) == 18 and (merged["n"] == merged["n_r"]).all()
    np.testing.assert_allclose(merged["icc"], merged["icc_r"], rtol=1e-10, atol=1e-14)
    # the data cover both signs and the homogeneous branch, so each part of the formula is exercised
    assert (merged["icc"] > 0.1).any() and (merged["icc"] < -0.1).any()
    homogeneous = merged.loc[("y2", "south", "F")]
    assert homogeneous["estimate"] == 1 and homogeneous["icc"] == pytest.approx(-1 / (homogeneous["n0"] - 1))


def test_icc_pinned_to_r_numbers(icc_sample):
    # Printed by tests/oracles/icc_anova.R (R 4.2.2, stats::aov), pinned so the check also runs without R.
    ours = _icc_table(icc_sample)["icc"]
    pinned = {
        ("y1", "all", "all"): 0.193357926695612,  # MSB 0.478174603174602, MSW 0.203968253968254, n0 5.608333
        ("y1", "north", "all"): 0.108113673805601,
        ("y1", "all", "F"): 0.0704070407040705,
        ("y1", "north", "F"): -0.122137404580153,  # negative: VCQI does not truncate at 0
        ("y2", "all", "all"): -0.155261202633804,
        ("y2", "south", "M"): -0.187823514912497,
        ("y2", "south", "F"): -0.514285714285714,  # all 1: -1 / (n0 - 1) with n0 = 2.944444
    }
    for key, value in pinned.items():
        assert ours.loc[key] == pytest.approx(value, rel=1e-12), key


# -- compare, means, totals ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def children():
    """4 strata (s4 has one PSU), 24 PSUs, unequal weights, PSU-level sex gaps, NaN outcomes;
    domain 'c' sits in 3 PSUs only and s4 has no girls in domain 'b'."""
    rng = np.random.default_rng(2024)
    rows = []
    population = {"s1": 40, "s2": 30, "s3": 50, "s4": 4}  # PSUs in the stratum's population (fpc)
    for stratum, n_psu in {"s1": 8, "s2": 6, "s3": 9, "s4": 1}.items():
        for k in range(n_psu):
            level, girls = rng.uniform(0.15, 0.9), rng.uniform(-0.2, 0.1)
            for _ in range(rng.integers(8, 20)):
                sex = "F" if rng.random() < 0.5 else "M"
                p = np.clip(level + (girls if sex == "F" else 0.0), 0.02, 0.98)
                w = float(rng.uniform(0.5, 4.0))
                in_c = (stratum, k) in {("s1", 0), ("s2", 3), ("s3", 5)} and rng.random() < 0.5
                rows.append({"stratum": stratum, "psu": f"{stratum}-{k}", "w": w,
                             "dom": "c" if in_c else rng.choice(["a", "b"]), "sex": sex,
                             "y": float(rng.random() < p), "age": float(rng.integers(126, 730)),
                             "doses": float(rng.integers(0, 4)), "fpc": population[stratum]})
    frame = pd.DataFrame(rows)
    frame.loc[rng.random(len(frame)) < 0.08, "y"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.1, "age"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.05, "doses"] = np.nan
    return frame


# lonely-PSU option, FPC, and whether domain 'c' has an empty cell (no girl with y = 0) and y is
# constant in domain 'b' (R's svychisq then stops: we return NaN)
R_CASES = {"adjust": ("adjust", False, False), "certainty": ("certainty", False, False),
           "adjust-fpc": ("adjust", True, False), "empty-cell": ("adjust", False, True)}


@pytest.fixture(scope="module", params=list(R_CASES), ids=list(R_CASES))
def gap_case(request, children, tmp_path_factory):
    """(our design, R's numbers keyed 'quantity|variable|dom|sex') for one lonely-PSU / FPC / data setting."""
    require_r("survey")
    lonely, fpc, empty_cell = R_CASES[request.param]
    if empty_cell:
        children = children.copy()
        answered = children["y"].notna()
        children.loc[(children["dom"] == "c") & (children["sex"] == "F") & answered, "y"] = 1.0
        children.loc[(children["dom"] == "b") & answered, "y"] = 0.0
    folder = tmp_path_factory.mktemp(request.param)
    source, target = folder / "in.csv", folder / "out.csv"
    children.to_csv(source, index=False, na_rep="NA")
    subprocess.run(["Rscript", str(GAP_ORACLE), str(source), str(target), lonely, *(["fpc"] if fpc else [])],
                   check=True, capture_output=True)
    expected = pd.read_csv(target, keep_default_na=False, na_values=["NA"]).set_index("key")["value"]
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w", singleton=lonely,
                          fpc="fpc" if fpc else None)
    return design, expected


def test_compare_difference_matches_r_svycontrast(gap_case):
    # R: svycontrast(svyby(~y, ~dom + sex, subset(des, !is.na(y)), svymean, covmat=TRUE), c(a.F=1, a.M=-1))
    #    and svycontrast(..., quote(log(`a.F`) - log(`a.M`))) for the ratio; "all" from svyby(~y, ~sex, ...)
    design, expected = gap_case
    gaps = design.compare("y", by=["dom"], df="design").set_index("dom")
    for dom in ["a", "b", "c", "all"]:
        row = gaps.loc[dom]
        t = stats.t.ppf(0.975, row["df"])
        assert row["difference"] == pytest.approx(expected[f"difference|y|{dom}|"], rel=1e-10)
        assert row["difference_se"] == pytest.approx(expected[f"difference_se|y|{dom}|"], rel=1e-8)
        assert row["difference_ci_high"] == pytest.approx(row["difference"] + t * row["difference_se"], rel=1e-12)
        # 0/0 in the empty-cell case's domain 'b' (nobody vaccinated): NaN in R and here
        assert np.log(row["ratio"]) == pytest.approx(expected[f"log_ratio|y|{dom}|"], rel=1e-10, nan_ok=True)
        assert np.log(row["ratio_ci_high"] / row["ratio"]) / t == pytest.approx(
            expected[f"log_ratio_se|y|{dom}|"], rel=1e-8, nan_ok=True)
        assert np.log(row["ratio"] / row["ratio_ci_low"]) / t == pytest.approx(
            expected[f"log_ratio_se|y|{dom}|"], rel=1e-8, nan_ok=True)
    assert (gaps["df"] == expected["degf|||"]).all()


def test_compare_difference_matches_r_svyglm(gap_case):
    # R: svyglm(y ~ girl, subset(des, dom == "a" & !is.na(y))): coefficient and SE of girl
    design, expected = gap_case
    row = design.compare("y", by=["dom"]).set_index("dom").loc["a"]
    assert row["difference"] == pytest.approx(expected["glm_difference|y|a|"], rel=1e-10)
    assert row["difference_se"] == pytest.approx(expected["glm_difference_se|y|a|"], rel=1e-8)


def test_compare_p_value_matches_r_svychisq(gap_case):
    # R: svychisq(~y + sex, subset(des, dom == "a" & !is.na(y)), statistic = "F") (and dom b, c, all)
    design, expected = gap_case
    gaps = design.compare("y", by=["dom"]).set_index("dom")
    for dom in ["a", "b", "c", "all"]:
        row = gaps.loc[dom]
        if f"f_statistic|y|{dom}|" not in expected:  # y constant in the domain: R stops, we give NaN
            assert np.isnan(row["f_statistic"]) and np.isnan(row["p_value"])
            continue
        assert row["f_statistic"] == pytest.approx(expected[f"f_statistic|y|{dom}|"], rel=1e-8), dom
        assert row["df_num"] == pytest.approx(expected[f"df_num|y|{dom}|"], rel=1e-12), dom
        assert row["df_den"] == expected[f"df_den|y|{dom}|"], dom
        if np.isnan(expected[f"p_value|y|{dom}|"]):  # domain 'c': 3 PSUs in 3 strata, R gives NA
            assert row["df_den"] == 0 and np.isnan(row["p_value"])
        else:
            assert row["p_value"] == pytest.approx(expected[f"p_value|y|{dom}|"], rel=1e-8), dom


@pytest.mark.parametrize("verb", ["mean", "total"])
def test_means_and_totals_match_r_svyby(gap_case, verb):
    # R: svyby(~age, ~dom + sex, des, svymean, na.rm=TRUE) (and ~dom, ~sex, svymean(~age, des)),
    #    the same with svytotal, and confint(..., df = degf(des))
    design, expected = gap_case
    method = design.means if verb == "mean" else design.totals
    out = method(["age", "doses"], by=["dom", "sex"], df="design")
    assert len(out) == 2 * (3 * 2 + 3 + 2 + 1)
    for row in out.itertuples():
        key = f"{row.indicator}|{row.dom}|{row.sex}"
        assert row.estimate == pytest.approx(expected[f"{verb}|{key}"], rel=1e-10), key
        assert row.se == pytest.approx(expected[f"{verb}_se|{key}"], rel=1e-8), key
        assert row.ci_low == pytest.approx(expected[f"{verb}_ci_low|{key}"], rel=1e-8), key
        assert row.ci_high == pytest.approx(expected[f"{verb}_ci_high|{key}"], rel=1e-8), key


def test_domain_mean_matches_r_svyratio_route(gap_case):
    # R: svyratio(~age_in_a, ~in_a, des) with in_a = dom == "a" & !is.na(age), on the full design
    design, expected = gap_case
    row = design.means(["age"], by=["dom"]).set_index("dom").loc["a"]
    assert row["estimate"] == pytest.approx(expected["ratio_mean|age|a|all"], rel=1e-10)
    assert row["se"] == pytest.approx(expected["ratio_mean_se|age|a|all"], rel=1e-8)


def test_gap_and_mean_pinned_to_r_numbers(children):
    # Numbers printed by tests/oracles/survey_compare.R (R survey 4.1.1, survey.lonely.psu = "adjust"),
    # pinned so that the check also runs where R is not installed.
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    gaps = design.compare("y", by=["dom"]).set_index("dom")
    # R: svycontrast(svyby(~y, ~dom + sex, subset(des, !is.na(y)), svymean, covmat=TRUE), c(a.F=1, a.M=-1))
    assert gaps.loc["a", "difference"] == pytest.approx(0.0282339668209546, rel=1e-10)
    assert gaps.loc["a", "difference_se"] == pytest.approx(0.120489366464106, rel=1e-8)
    # R: svychisq(~y + sex, subset(des, dom == "a" & !is.na(y)), statistic = "F")
    assert gaps.loc["a", "f_statistic"] == pytest.approx(0.0547550827673057, rel=1e-8)
    assert (gaps.loc["a", "df_num"], gaps.loc["a", "df_den"]) == (1, 20)
    assert gaps.loc["a", "p_value"] == pytest.approx(0.817365137223917, rel=1e-8)
    # R: svycontrast(svyby(~y, ~sex, subset(des, !is.na(y)), svymean, covmat=TRUE), c(F=1, M=-1)) and
    #    svychisq(~y + sex, subset(des, !is.na(y)), statistic = "F")
    assert gaps.loc["all", "difference"] == pytest.approx(-0.0133157746997716, rel=1e-10)
    assert gaps.loc["all", "difference_se"] == pytest.approx(0.0721557247909712, rel=1e-8)
    assert gaps.loc["all", "f_statistic"] == pytest.approx(0.0339058380908292, rel=1e-8)
    assert gaps.loc["all", "p_value"] == pytest.approx(0.855761435462734, rel=1e-8)
    # R: svymean(~age, des, na.rm = TRUE); svytotal(~age, des, na.rm = TRUE)
    mean = design.means(["age"]).iloc[0]
    total = design.totals(["age"]).iloc[0]
    assert (mean["estimate"], mean["se"]) == (pytest.approx(431.162414157005, rel=1e-10),
                                              pytest.approx(8.76162058494148, rel=1e-8))
    assert (total["estimate"], total["se"]) == (pytest.approx(287537.21022929, rel=1e-10),
                                                pytest.approx(17526.9470101946, rel=1e-8))


def test_compare_schema_margins_and_counts(children):
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    gaps = design.compare(["y"], by=["dom", "stratum"])
    assert list(gaps.columns) == ["indicator", "dom", "stratum", *COMPARE_COLUMNS]
    assert {("all", "all"), ("a", "all"), ("all", "s1"), ("a", "s1")} <= set(zip(gaps["dom"], gaps["stratum"]))
    answered = children.dropna(subset=["y"])
    counts = answered[answered["dom"] == "a"]["sex"].value_counts()
    row = gaps[(gaps["dom"] == "a") & (gaps["stratum"] == "all")].iloc[0]
    assert (row["n_a"], row["n_b"], row["group_a"], row["group_b"]) == (counts["F"], counts["M"], "F", "M")
    by_sex = design.proportions(["y"], by=["dom", "sex"]).set_index(["dom", "sex"])
    assert row["estimate_a"] == pytest.approx(by_sex.loc[("a", "F"), "estimate"], rel=1e-12)
    assert row["estimate_b"] == pytest.approx(by_sex.loc[("a", "M"), "estimate"], rel=1e-12)
    assert row["ratio"] == pytest.approx(row["estimate_a"] / row["estimate_b"], rel=1e-12)
    # girls and boys share clusters: the independent-samples SE is not the design SE
    independent = np.hypot(by_sex.loc[("a", "F"), "se"], by_sex.loc[("a", "M"), "se"])
    assert abs(row["difference_se"] - independent) > 1e-3


def test_compare_ignores_rows_outside_the_two_groups(children):
    # children of unknown sex (same PSUs) are outside both domains and change nothing
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    extra = children.iloc[::9].assign(sex="U", y=1.0)
    widened = SurveyDesign(pd.concat([children, extra], ignore_index=True), strata="stratum", psu="psu", weight="w")
    columns = ["n_a", "n_b", "difference", "difference_se", "f_statistic", "p_value", "df"]
    pd.testing.assert_frame_equal(design.compare("y", by=["dom"])[columns],
                                  widened.compare("y", by=["dom"])[columns], rtol=1e-12)


def test_compare_group_absent_from_a_domain(children):
    # stratum s4 has no girls in domain 'b'
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    row = design.compare("y", by=["dom", "stratum"], margins=False).set_index(["dom", "stratum"]).loc[("b", "s4")]
    assert row["n_a"] == 0 and row["n_b"] == 2
    assert np.isnan(row["difference"]) and np.isnan(row["p_value"]) and row["disadvantaged"] is None


@pytest.mark.parametrize("lower_is_better, expected", [(False, "F"), (True, "M")], ids=["coverage", "zero-dose"])
def test_compare_disadvantaged_group(lower_is_better, expected):
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "sex": ["F", "M"] * 4,
                          "y": [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]})
    row = SurveyDesign(frame, psu="psu").compare("y", lower_is_better=lower_is_better).iloc[0]
    assert (row["estimate_a"], row["estimate_b"], row["difference"]) == (0.25, 0.75, -0.5)
    assert row["disadvantaged"] == expected


def test_compare_hand_computed_unstratified():
    # 4 PSUs, equal weights, each PSU one girl and one boy: p_F = 1/4, p_M = 3/4.
    # Linearized PSU totals of (girl - boy): (y_F - p_F)/4 - (y_M - p_M)/4 per PSU:
    # (-1/4 - 1/4)/4, (-1/4 - 1/4)/4, (3/4 - 1/4)/4, (-1/4 + 3/4)/4 = (-1/8, -1/8, 1/8, 1/8)
    # var = 4/3 * sum(z^2) = 4/3 * 4/64 = 1/12
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "sex": ["F", "M"] * 4,
                          "y": [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]})
    row = SurveyDesign(frame, psu="psu").compare("y").iloc[0]
    assert row["difference_se"] == pytest.approx(np.sqrt(1 / 12), rel=1e-12)
    assert row["df"] == 3 and row["df_den"] == 3
    assert row["difference_ci_low"] == pytest.approx(-0.5 - stats.t.ppf(0.975, 3) * np.sqrt(1 / 12), rel=1e-12)


def test_means_of_a_01_outcome_equal_proportions(sample):
    design = SurveyDesign(sample, strata="stratum", psu="psu", weight="w")
    means = design.means(["y1"], by=["dom"])
    shares = design.proportions(["y1"], by=["dom"])
    assert list(means.columns) == ["indicator", "dom", *MEAN_COLUMNS]
    np.testing.assert_allclose(means["estimate"], shares["estimate"], rtol=1e-12)
    np.testing.assert_allclose(means["se"], shares["se"], rtol=1e-12)
    varies = shares["se"] > 0  # VCQI sets df = n - 1 for a homogeneous domain; means keep the design df
    assert (means["df"][varies] == shares["df"][varies]).all() and varies.sum() == 3


def test_means_df_counts_psus_in_strata_with_members(children):
    # domain 'c' lives in strata s1 (8 PSUs), s2 (6), s3 (9): VCQI df = 23 - 3; the whole design: 24 - 4
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    vcqi = design.means(["age"], by=["dom"]).set_index("dom")
    assert vcqi.loc["c", "df"] == 20 and vcqi.loc["all", "df"] == 20
    only_s4 = design.means(["age"], by=["stratum"]).set_index("stratum")
    assert only_s4.loc["s4", "df"] == 0 and np.isnan(only_s4.loc["s4", "ci_low"])


def test_totals_hand_computed_unstratified():
    # PSU totals of w*y: 2*(1+2) = 6, 2*3 = 6, 2*(0+9) = 18; total 30, mean 10
    # var = 3/2 * ((6-10)^2 + (6-10)^2 + (18-10)^2) = 3/2 * 96 = 144
    frame = pd.DataFrame({"psu": [1, 1, 2, 3, 3], "w": 2.0, "doses": [1.0, 2.0, 3.0, 0.0, 9.0]})
    row = SurveyDesign(frame, psu="psu", weight="w").totals(["doses"]).iloc[0]
    assert (row["estimate"], row["n"], row["n_weighted"], row["df"]) == (30, 5, 10, 2)
    assert row["se"] == pytest.approx(12, rel=1e-12)
    assert row["ci_high"] == pytest.approx(30 + stats.t.ppf(0.975, 2) * 12, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda d: d.compare("y", by=["sex"]), r"group column 'sex' cannot also be a by column; got by=\['sex'\]"),
    (lambda d: d.compare("y", groups=("F", "F")), r"groups must name two different groups of 'sex'; got \('F', 'F'\)"),
    (lambda d: d.compare("age"), r"column 'age', row 0: got '312.0', expected 0, 1 or missing"),
    (lambda d: d.means(["dom"]), r"column 'dom', row 0: got 'c', expected a number or missing"),
    (lambda d: d.totals(["doses"], level=95), r"level must be between 0 and 1 \(e.g. 0.95\); got 95"),
    (lambda d: d.means(["doses"], df="stata"), r"df must be 'vcqi', 'design', 'domain'; got 'stata'"),
    (lambda d: d.compare("y", group="gender"), "column missing from the data: gender"),
], ids=["group-in-by", "same-groups", "not-binary", "not-numeric", "level-percent", "bad-df", "missing-group"])
def test_verb_argument_errors(children, call, message):
    design = SurveyDesign(children, strata="stratum", psu="psu", weight="w")
    with pytest.raises(DesignError, match=message):
        call(design)


@pytest.mark.parametrize("values, message", [
    (pd.Series(["1", "0", None, "oui", "1"], dtype=object), "row 3: got 'oui', expected 0, 1 or missing"),
    (pd.Series(["1", "0", None, "0.5", "1"], dtype="string"), "row 3: got '0.5', expected 0, 1 or missing"),
    (pd.Series([1.0, 0.0, np.nan, np.inf, 1.0]), "row 3: got 'inf', expected 0, 1 or missing"),
    (pd.Categorical(["1", "0", None, "2", "1"]), "row 3: got '2', expected 0, 1 or missing"),
], ids=["text", "string-dtype", "infinite", "categorical"])
def test_an_outcome_not_0_1_or_missing_is_refused_at_its_row(values, message):
    # the column told good by counting its 0s, 1s and NaNs; a bad one is named at its first bad row
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3], "w": 1.0, "y": values})
    with pytest.raises(DesignError, match=f"column 'y', {message}"):
        SurveyDesign(frame, psu="psu", weight="w").proportions("y")
    good = frame.assign(y=pd.Series(["1", "0", None, "0", "1"], dtype=object))
    assert SurveyDesign(good, psu="psu", weight="w").proportions("y").iloc[-1]["estimate"] == 0.5


def test_estimating_leaves_the_data_as_it_was():
    # a float64 outcome is read without a copy: its missing values must stay missing in the caller's frame
    frame = pd.DataFrame({"psu": [1, 1, 2, 2, 3], "w": [1.0, 2.0, 1.0, 1.0, 3.0], "y": [1.0, np.nan, 0.0, 1.0, np.nan],
                          "z": [0.0, 1.0, np.nan, 1.0, 1.0]})
    before = frame.copy()
    SurveyDesign(frame, psu="psu", weight="w").proportions(["y", "z"])
    pd.testing.assert_frame_equal(frame, before)

"""Survey rounds (issue 18): the change between rounds and the difference in differences, against R
survey on one stratified, clustered, weighted design holding both rounds (tests/oracles/survey_rounds.R),
with clusters revisited and not; and the planning formulas against their closed forms and R."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lqas.errors import DesignError
from lqas.power import change_sample_size, did_sample_size, minimum_detectable_change, minimum_detectable_difference
from lqas.rounds import changes, differences_in_differences, round_design, stack_rounds

ORACLE = Path(__file__).parent / "oracles" / "survey_rounds.R"
needs_r = pytest.mark.usefixtures("r_survey")


def one_round(rng: np.random.Generator, name: str, effect: float) -> pd.DataFrame:
    """4 strata of 5 clusters; strata s1 and s2 in the C2P arm; each cluster's level persists across
    rounds (its own seed), so a revisited cluster's two rounds covary."""
    rows = []
    for stratum in ("s1", "s2", "s3", "s4"):
        arm = "c2p" if stratum in ("s1", "s2") else "none"
        for k in range(5):
            level = np.random.default_rng([7, int(stratum[1]), k]).uniform(0.2, 0.8)
            if arm == "c2p":
                level = min(level + effect, 0.97)
            for _ in range(int(rng.integers(4, 9))):
                rows.append({"round": name, "stratum": stratum, "psu": f"{stratum}-{k}", "arm": arm,
                             "w": float(rng.uniform(0.5, 4.0)), "dom": str(rng.choice(["a", "b"])),
                             "sex": str(rng.choice(["F", "M"])), "y": float(rng.random() < level)})
    frame = pd.DataFrame(rows)
    frame.loc[frame.index % 9 == 0, "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def rounds():
    rng = np.random.default_rng(2026)
    return {"baseline": one_round(rng, "baseline", 0.0), "followup": one_round(rng, "followup", 0.15)}


def r_numbers(rounds, tmp_path, design: str) -> dict[str, float]:
    stacked = pd.concat(rounds.values(), ignore_index=True)
    source, target = tmp_path / f"{design}.csv", tmp_path / f"{design}-out.csv"
    stacked.to_csv(source, index=False, na_rep="NA")
    subprocess.run(["Rscript", str(ORACLE), str(source), str(target), design], check=True, capture_output=True)
    table = pd.read_csv(target, keep_default_na=False)
    return dict(zip(table["key"], table["value"]))


@needs_r
@pytest.mark.parametrize("revisited", [True, False], ids=["revisited", "independent"])
def test_change_and_did_equal_r_survey(rounds, tmp_path, revisited):
    expected = r_numbers(rounds, tmp_path, "revisited" if revisited else "independent")
    design = round_design(stack_rounds(rounds, strata="stratum", psu="psu", revisited=revisited), weight="w")
    change = changes(design, ["y"], rounds=("baseline", "followup"), by=["dom"]).set_index("dom")
    for dom in ("all", "a", "b"):
        assert change.loc[dom, "change"] == pytest.approx(expected[f"change|{dom}"], rel=1e-10)
        assert change.loc[dom, "change_se"] == pytest.approx(expected[f"change_se|{dom}"], rel=1e-8)
        assert change.loc[dom, "p_value"] == pytest.approx(expected[f"change_p|{dom}"], rel=1e-8)
    did = differences_in_differences(design, ["y"], group="arm", groups=("c2p", "none"),
                                      rounds=("baseline", "followup"), by=["dom"]).set_index("dom")
    for dom in ("all", "a", "b"):
        assert did.loc[dom, "did"] == pytest.approx(expected[f"did|{dom}"], rel=1e-10)
        assert did.loc[dom, "did_se"] == pytest.approx(expected[f"did_se|{dom}"], rel=1e-8)
        assert did.loc[dom, "did_logit"] == pytest.approx(expected[f"did_logit|{dom}"], rel=1e-10)
        assert did.loc[dom, "did_logit_se"] == pytest.approx(expected[f"did_logit_se|{dom}"], rel=1e-8)
    # the saturated svyglm's interaction is the same number by a second route
    for dom in ("all", "a"):
        assert did.loc[dom, "did"] == pytest.approx(expected[f"glm_did|{dom}"], rel=1e-10)
        assert did.loc[dom, "did_se"] == pytest.approx(expected[f"glm_did_se|{dom}"], rel=1e-8)


def test_revisited_clusters_bring_their_covariance_in(rounds):
    together = round_design(stack_rounds(rounds, strata="stratum", psu="psu", revisited=True), weight="w")
    apart = round_design(stack_rounds(rounds, strata="stratum", psu="psu", revisited=False), weight="w")
    se = [changes(d, ["y"], rounds=("baseline", "followup")).iloc[0]["change_se"] for d in (together, apart)]
    # the clusters' levels persist between rounds: a positive covariance, a smaller se of the change
    assert se[0] < se[1]
    # independent rounds: V1 + V2, each round's variance on its own design
    from lqas.design import SurveyDesign

    alone = [SurveyDesign(frame, strata="stratum", psu="psu", weight="w").proportions("y").iloc[0]["se"]
             for frame in rounds.values()]
    assert se[1] == pytest.approx(np.hypot(*alone), rel=1e-12)


def test_change_rows_name_the_rounds_and_the_detectable_difference(rounds):
    design = round_design(stack_rounds(rounds, strata="stratum", psu="psu"), weight="w")
    row = changes(design, ["y"], rounds=("baseline", "followup")).iloc[0]
    assert (row["round_a"], row["round_b"]) == ("baseline", "followup")
    assert row["change"] == pytest.approx(row["estimate_b"] - row["estimate_a"], abs=1e-15)
    assert row["mdd"] == pytest.approx((1.959963984540054 + 0.8416212335729143) * row["change_se"], rel=1e-12)
    assert [row["n_a"], row["n_b"]] == [int(f["y"].notna().sum()) for f in rounds.values()]


def test_the_gap_change_is_girls_change_less_boys():
    rows = []
    for round_, rates in (("r1", {"F": 0.2, "M": 0.4}), ("r2", {"F": 0.7, "M": 0.8})):
        for sex, rate in rates.items():
            for k in range(10):
                rows.append({"round": round_, "stratum": "s", "psu": f"{round_}{k}", "sex": sex,
                             "y": float(k < rate * 10), "weight": 1.0})
    design = round_design(stack_rounds({r: f for r, f in pd.DataFrame(rows).groupby("round")},
                                       strata="stratum", psu="psu"))
    gap = differences_in_differences(design, ["y"], group="sex", groups=("F", "M"), rounds=("r1", "r2")).iloc[0]
    assert gap["did"] == pytest.approx((0.7 - 0.2) - (0.8 - 0.4))  # the gap went from -20 to -10 points


def test_stacking_needs_two_rounds_and_the_design_columns():
    frame = pd.DataFrame({"stratum": ["s"], "psu": ["p"], "y": [1.0]})
    with pytest.raises(DesignError, match="at least two"):
        stack_rounds({"only": frame}, strata="stratum", psu="psu")
    with pytest.raises(DesignError, match="round 'b': column missing from the data: psu"):
        stack_rounds({"a": frame, "b": frame.drop(columns="psu")}, strata="stratum", psu="psu")


def test_sample_sizes_equal_the_two_proportion_formula():
    z = 1.959963984540054 + 0.8416212335729143
    # zero-dose 20 % -> 10 % at DEFF 1.5: about 294 per round (the number)
    assert change_sample_size(0.2, 0.1, deff=1.5, exact=True) == pytest.approx(1.5 * z ** 2 * 0.25 / 0.01, rel=1e-12)
    assert change_sample_size(0.2, 0.1, deff=1.5) == 295
    # a 10-point DiD (both arms at 20 %, the intervention's falling to 10 %): about 671 per cell
    assert did_sample_size(0.2, 0.1, 0.2, 0.2, deff=1.5, exact=True) == pytest.approx(
        1.5 * z ** 2 * 0.57 / 0.01, rel=1e-12)
    assert did_sample_size(0.2, 0.1, 0.2, 0.2, deff=1.5) == 672
    # the pooled form at DEFF 1: R power.prop.test(p1 = 0.2, p2 = 0.1, power = 0.8)$n = 198.963413283821
    assert change_sample_size(0.2, 0.1, form="pooled", exact=True) == pytest.approx(198.963413283821, rel=1e-9)
    # the minimum detectable change inverts the sample size
    change = minimum_detectable_change(0.2, 294.332990038, deff=1.5)
    assert change == pytest.approx(-0.1, abs=1e-8)
    assert minimum_detectable_difference(0.05) == pytest.approx(z * 0.05, rel=1e-12)
    with pytest.raises(ValueError, match="must differ"):
        change_sample_size(0.3, 0.3)


DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline"
ROUNDS = '''
[rounds]
name = "followup"
previous = [{ name = "baseline", project = "../baseline/survey.toml" }]
revisited = REVISITED

[arms]
intervention = "C2P"
units = ["kologo", "pelengana_nord", "ndebougou"]
'''


def demo_rounds(tmp_path: Path, revisited: bool):
    """The demo survey as its own baseline: the same children in both rounds."""
    import shutil

    from lqas.config import load_project
    from lqas.run import analyse

    for name in ("baseline", "followup"):
        shutil.copytree(DEMO, tmp_path / name, ignore=shutil.ignore_patterns("*.xlsx", "generate.py"))
    survey = tmp_path / "followup" / "survey.toml"
    survey.write_text(survey.read_text(encoding="utf-8") + ROUNDS.replace("REVISITED", str(revisited).lower()),
                      encoding="utf-8")
    return analyse(load_project(survey))


@pytest.fixture(scope="module")
def same_children(tmp_path_factory):
    return demo_rounds(tmp_path_factory.mktemp("rounds"), revisited=False)


def test_the_same_children_twice_change_nothing_with_twice_the_variance(same_children):
    results = same_children
    changes_ = results.rounds.changes
    assert results.rounds.rounds == ("baseline", "followup")
    assert changes_["change"].abs().max() < 1e-12
    estimates = results.estimates
    zero_dose = estimates[(estimates["indicator"] == "zero_dose") & (estimates["vaccination_status"] == "all")]
    for catchment, cohort in (("all", "all"), ("kologo", "12-23m"), ("ndebougou", "18w-11m")):
        district = changes_["district"] == "all" if catchment == "all" else changes_["district"] != "all"
        change = changes_[district & (changes_["indicator"] == "zero_dose") & (changes_["catchment"] == catchment)
                          & (changes_["cohort"] == cohort) & (changes_["sex"] == "all")
                          & (changes_["area"] == "all") & (changes_["population_group"] == "all")]
        in_district = zero_dose["district"] == "all" if catchment == "all" else zero_dose["district"] != "all"
        single = zero_dose[in_district & (zero_dose["catchment"] == catchment) & (zero_dose["cohort"] == cohort)
                           & (zero_dose["sex"] == "all") & (zero_dose["area"] == "all")
                           & (zero_dose["population_group"] == "all")]
        assert len(change) == 1 and len(single) == 1
        # independent rounds: V1 + V2 = 2 V
        assert change["change_se"].iloc[0] == pytest.approx(np.sqrt(2) * single["se"].iloc[0], rel=1e-9)
    # a catchment is never shown without its district
    assert not ((changes_["catchment"] != "all") & (changes_["district"] == "all")).any()
    assert set(changes_["area"]) >= {"all", "urban", "rural"}
    gaps = results.rounds.gaps
    assert gaps["did"].abs().max() < 1e-12 and (gaps["round_a"] == "baseline").all()
    arms = results.rounds.arms
    assert set(zip(arms["arm_a"], arms["arm_b"])) == {("C2P", "comparison")}
    assert arms["did"].abs().max() < 1e-12 and (arms.loc[arms["indicator"] == "zero_dose", "did_se"] > 0).all()


def test_revisited_identical_rounds_have_no_variance_of_change(tmp_path):
    results = demo_rounds(tmp_path, revisited=True)
    national = results.rounds.changes.query("indicator == 'zero_dose' and district == 'all' and catchment == 'all' "
                                            "and cohort == 'all' "
                                            "and sex == 'all' and area == 'all' and population_group == 'all'")
    assert national["change_se"].iloc[0] < 1e-12  # each cluster's two rounds cancel exactly


def test_arms_need_rounds():
    from lqas.config.project import Project

    with pytest.raises(Exception, match=r"\[rounds\]"):
        Project.model_validate({"data": {"file": "x.csv"}, "arms": {"intervention": "C2P", "units": ["a"]}})


def test_design_change_prints_the_form_and_the_sample_and_refuses_bad_input():
    import json
    import sys

    def lqas(*args):
        return subprocess.run([sys.executable, "-m", "lqas", "design", "--change", *args, "--json"],
                              capture_output=True, text=True, check=False)

    out = json.loads(lqas("--from", "0.2", "--to", "0.1", "--deff", "1.5").stdout)
    assert (out["form"], out["n_per_round"], out["deff"]) == ("unpooled", 295, 1.5)
    out = json.loads(lqas("--from", "0.2", "--to", "0.1", "--comparison-from", "0.2", "--comparison-to", "0.2",
                          "--deff", "1.5").stdout)
    assert (out["form"], out["n_per_arm_and_round"]) == ("difference_in_differences", 672)
    out = json.loads(lqas("--from", "0.2", "--n", "295", "--deff", "1.5").stdout)
    assert -0.1 < out["detectable_fall"] < -0.099 and out["detectable_rise"] > 0.1
    refused = lqas("--from", "1.2", "--to", "0.1")
    assert refused.returncode == 2 and refused.stderr.strip() == (
        "lqas: error: lqas design --change: a proportion is between 0 and 1 (exclusive); got 1.2")


def test_a_run_with_rounds_writes_the_changes_the_report_section_and_the_sheets(tmp_path):
    import shutil

    from lqas.config import load_project
    from lqas.run import run_project

    for name in ("baseline", "followup"):
        shutil.copytree(DEMO, tmp_path / name, ignore=shutil.ignore_patterns("*.xlsx", "generate.py"))
    survey = tmp_path / "followup" / "survey.toml"
    survey.write_text(survey.read_text(encoding="utf-8") + ROUNDS.replace("REVISITED", "true"), encoding="utf-8")
    paths = run_project(load_project(survey), tmp_path / "run", lang="en", formats=("csv", "xlsx", "html"))
    changes_ = pd.read_csv(paths["changes.csv"] if "changes.csv" in paths else tmp_path / "run" / "changes.csv")
    assert {"round_a", "round_b", "change", "change_ci_low", "p_value", "mdd"} <= set(changes_.columns)
    for name in ("gap_changes.csv", "arm_changes.csv", "lqas_transitions.csv"):
        assert (tmp_path / "run" / name).is_file()
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert 'id="change"' in html and "Change from baseline to followup" in html
    assert "C2P areas against the others" in html and "Change of the gap between girls and boys" in html
    from openpyxl import load_workbook

    names = load_workbook(tmp_path / "run" / "results.xlsx", read_only=True).sheetnames
    assert {"Change between rounds", "Change of the girls-boys gap", "Intervention arms"} <= set(names)
    manifest = (tmp_path / "run" / "manifest.json").read_text(encoding="utf-8")
    assert '"round.baseline"' in manifest


FOLLOWUP = DEMO.parent / "mali_followup"


@pytest.fixture(scope="module")
def followup_results():
    from lqas.config import load_project
    from lqas.run import analyse

    return analyse(load_project(FOLLOWUP / "survey.toml"))


def test_the_follow_up_example_recovers_the_c2p_effect_built_in(tmp_path, followup_results):
    """The synthetic follow-up round (examples/mali_followup, from ../mali_baseline/generate.py): C2P raised
    access in three areas; the difference in differences of zero-dose finds that effect within its CI."""
    import importlib.util

    from lqas.config import load_project
    from lqas.run import analyse

    spec = importlib.util.spec_from_file_location("mali_generate", DEMO / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    summary = generator.followup(tmp_path)
    for name in ("mali_followup_kobo.csv", "populations.csv", "households.csv"):
        assert (tmp_path / name).read_bytes() == (FOLLOWUP / "data" / name).read_bytes(), name
    # the follow-up carries the baseline's kinds of problems: 7 re-submissions, 14 broken records, the <script>;
    # and 4 children more than the baseline, in BGE-01 (its heaped ages, judged from 20 children: issue 20)
    assert (summary["rows"], summary["unique_children"]) == (1157, 1150)
    assert (len(summary["duplicates"]), len(summary["problems"])) == (7, 14)
    export = pd.read_csv(tmp_path / "mali_followup_kobo.csv", dtype=str, keep_default_na=False)
    scripted = export.loc[export["interviewer_remarks"] == "<script>alert(1)</script>", "child/child_id"]
    assert scripted.tolist() == [summary["script_remark"]]
    effect = summary["c2p_effect"]
    assert -0.10 < effect < -0.08  # about 9 points fewer zero-dose children where C2P ran
    results = followup_results
    assert results.rounds.rounds == ("base 2025", "suivi 2026")
    did = results.rounds.arms.query("indicator == 'zero_dose' and cohort == 'all' and sex == 'all'").iloc[0]
    assert did["did_ci_low"] < effect < did["did_ci_high"] and did["did_ci_high"] < 0
    # each arm's change is its two rounds' difference
    assert did["change_b"] == pytest.approx(did["estimate_b2"] - did["estimate_b1"])
    # every lot's class in both rounds: this round's as classification.csv says, the baseline's as its own run
    transitions = results.rounds.transitions.set_index(["indicator", "catchment", "cohort"])
    now = results.classification.set_index(["indicator", "catchment", "cohort"])
    assert len(transitions) == len(now) == 42
    assert (transitions["class_b"] == now.loc[transitions.index, "class"]).all()
    baseline = analyse(load_project(DEMO / "survey.toml")).classification.set_index(["indicator", "catchment", "cohort"])
    assert (transitions["class_a"] == baseline.loc[transitions.index, "class"]).all()
    moved = transitions[transitions["class_a"] != transitions["class_b"]]
    assert set(moved["transition"]) <= {"improved", "worsened"} and len(moved) > 0


@needs_r
def test_the_follow_up_example_s_difference_in_differences_equals_r_survey(tmp_path, followup_results):
    """The demo's C2P difference in differences of zero-dose, against R survey on the two rounds' own child
    tables (each round's weights; the 72 clusters revisited): -9.8 points, 95 % CI -16.0 to -3.6."""
    from lqas.config import load_project
    from lqas.derive import derive_project

    c2p = {"kologo", "pelengana_nord", "ndebougou"}
    rounds_ = {}
    for name, folder in (("baseline", DEMO), ("followup", FOLLOWUP)):
        table = derive_project(load_project(folder / "survey.toml")).table
        catchment = table["catchment"].astype(str)
        rounds_[name] = pd.DataFrame({
            "round": name, "stratum": catchment, "psu": table["cluster"].astype(str),
            "arm": np.where(catchment.isin(c2p), "c2p", "none"), "w": table["weight"],
            # the oracle's domains "a" and "b": the cohorts
            "dom": table["cohort"].astype(str).map({"12-23m": "a", "18w-11m": "b"}),
            "sex": table["sex"].astype(str), "y": table["zero_dose"]})
    expected = r_numbers(rounds_, tmp_path, "revisited")
    did = followup_results.rounds.arms.query("indicator == 'zero_dose' and sex == 'all'").set_index("cohort")
    for cohort, dom in (("all", "all"), ("12-23m", "a"), ("18w-11m", "b")):
        assert did.loc[cohort, "did"] == pytest.approx(expected[f"did|{dom}"], rel=1e-10)
        assert did.loc[cohort, "did_se"] == pytest.approx(expected[f"did_se|{dom}"], rel=1e-8)
        assert did.loc[cohort, "did_logit"] == pytest.approx(expected[f"did_logit|{dom}"], rel=1e-10)
        assert did.loc[cohort, "did_logit_se"] == pytest.approx(expected[f"did_logit_se|{dom}"], rel=1e-8)
    overall = did.loc["all"]
    # t on 72 clusters - 6 strata = 66 degrees of freedom; R: qt(0.975, 66) = 1.99656441895231
    half = 1.99656441895231 * expected["did_se|all"]
    assert overall["did_ci_low"] == pytest.approx(expected["did|all"] - half, rel=1e-8)
    assert overall["did_ci_high"] == pytest.approx(expected["did|all"] + half, rel=1e-8)
    assert round(100 * overall["did"], 1) == -9.8
    assert (round(100 * overall["did_ci_low"], 1), round(100 * overall["did_ci_high"], 1)) == (-16.0, -3.6)


def test_a_child_whose_first_penta_was_due_before_the_intervention_is_not_exposed():
    from lqas.config.project import ArmsConfig
    from lqas.rounds import UNEXPOSED, assign_arms

    stacked = pd.DataFrame({"catchment": ["kologo", "kologo", "kologo", "segou", "kologo"],
                            "round": ["followup", "followup", "baseline", "followup", "followup"],
                            # Penta1 due 2026-01-31 (before), 2026-02-01 (on the day), ..., unknown
                            "dob": ["2025-12-20", "2025-12-21", "2024-01-01", "2025-01-01", None]})
    arms = ArmsConfig(intervention="C2P", units=("kologo",), start={"kologo": "2026-02-01"})
    arm, left_out = assign_arms(stacked, arms, later="followup")
    assert arm.tolist() == [UNEXPOSED, "C2P", "C2P", "comparison", "C2P"] and left_out == 1
    assert assign_arms(stacked, ArmsConfig(intervention="C2P", units=("kologo",)), later="followup")[1] == 0
    with pytest.raises(Exception, match="missing: kologo"):
        ArmsConfig(intervention="C2P", units=("kologo", "niono"), start={"niono": "2026-02-01"})


def test_an_arm_unit_that_no_round_has_is_refused(tmp_path):
    import shutil

    from lqas.config import load_project
    from lqas.errors import ConfigError
    from lqas.run import analyse

    for name in ("baseline", "followup"):
        shutil.copytree(DEMO, tmp_path / name, ignore=shutil.ignore_patterns("*.xlsx", "generate.py"))
    survey = tmp_path / "followup" / "survey.toml"
    survey.write_text(survey.read_text(encoding="utf-8") + ROUNDS.replace("REVISITED", "true").replace(
        '"kologo", ', '"kologoo", '), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"survey\.toml: key 'arms\.units': 'kologoo' not a value of 'catchment' "
                                          r"in any round"):
        analyse(load_project(survey))

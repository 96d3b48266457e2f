"""Survey rounds (issue 18), the second part: two run folders compared (`lqas compare`) give the
numbers the project route gives; each round's estimate keeps its own interval; each round is read with
its own cohort windows; a new target is applied to the earlier round's lots (the decision rule
recomputed for their sample size) before their classes are compared."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DOMAIN = ["indicator", "cohort", "district", "catchment", "area", "population_group", "sex"]


def lqas(*args):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "lqas", *args], check=False, capture_output=True, text=True, env=environment,
                          timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The baseline and the follow-up run on their own (CSV only), and the follow-up's comparison of the
    two (its `[rounds]`)."""
    root = tmp_path_factory.mktemp("rounds")
    for name in ("mali_baseline", "mali_followup"):
        result = lqas("run", str(EXAMPLES / name / "survey.toml"), "--out", str(root / name), "--formats", "csv",
                      "--lang", "en")
        assert result.returncode == 0, result.stderr
    return root


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={c: str for c in DOMAIN}, keep_default_na=False, na_values=[""])


def test_compare_two_run_folders_gives_the_projects_change_to_the_digit(runs, tmp_path):
    result = lqas("compare", str(runs / "mali_baseline"), str(runs / "mali_followup"), "--out", str(tmp_path),
                  "--names", "base 2025, suivi 2026", "--revisited")
    assert result.returncode == 0, result.stderr
    assert "zero_dose" in result.stdout and "changes.csv" in result.stdout
    routes = [_read(tmp_path / "changes.csv"), _read(runs / "mali_followup" / "changes.csv")]
    keys = [c for c in DOMAIN if c in routes[1]]
    # the run folders hold the indicators each run estimated: the same as the project compares
    by_run, by_project = (frame.set_index(keys).sort_index() for frame in routes)
    assert by_run.index.equals(by_project.index) and len(by_run) > 1000
    numbers = ["n_a", "n_b", "estimate_a", "estimate_b", "ci_low_a", "ci_high_a", "ci_low_b", "ci_high_b", "change",
               "change_se", "change_ci_low", "change_ci_high", "ratio", "p_value", "mdd"]
    for column in numbers:
        assert np.allclose(by_run[column], by_project[column], rtol=1e-10, atol=1e-12, equal_nan=True), column
    gaps = [_read(tmp_path / "gap_changes.csv"), _read(runs / "mali_followup" / "gap_changes.csv")]
    assert np.allclose(gaps[0]["did"], gaps[1]["did"], rtol=1e-10, atol=1e-12)
    # each lot's class in each run, as each run's classification.csv says
    transitions = _read(tmp_path / "lqas_transitions.csv").set_index(["indicator", "catchment", "cohort"])
    baseline = _read(runs / "mali_baseline" / "classification.csv").set_index(["indicator", "catchment", "cohort"])
    assert (transitions["class_a"] == baseline.loc[transitions.index, "class"]).all() and len(transitions) == 42


def test_without_revisited_the_rounds_are_independent_and_the_interval_wider(runs, tmp_path):
    # the synthetic follow-up revisited every cluster, each keeping its level: rounds that covary
    revisited, independent = tmp_path / "r", tmp_path / "i"
    for folder, extra in ((revisited, ["--revisited"]), (independent, [])):
        result = lqas("compare", str(runs / "mali_baseline"), str(runs / "mali_followup"), "--out", str(folder), *extra)
        assert result.returncode == 0, result.stderr
    r, i = (_read(folder / "changes.csv") for folder in (revisited, independent))
    assert set(r["round_a"]) == {"mali_baseline"} and set(r["round_b"]) == {"mali_followup"}  # the folders' names
    assert np.allclose(r["change"], i["change"], atol=1e-12, equal_nan=True)
    national = (r[DOMAIN[1:]] == "all").all(axis=1) & r["indicator"].isin(["zero_dose", "penta3_crude"])
    assert (i.loc[national, "change_se"] > r.loc[national, "change_se"]).all()


def test_each_rounds_estimate_carries_the_interval_of_its_own_run(runs):
    changes = _read(runs / "mali_followup" / "changes.csv")
    for side, run in (("a", "mali_baseline"), ("b", "mali_followup")):
        estimates = _read(runs / run / "estimates.csv")
        estimates = estimates[estimates["vaccination_status"] == "all"]
        both = changes.merge(estimates, on=[c for c in DOMAIN if c in estimates], how="inner")
        assert len(both) > 1000
        assert np.allclose(both[f"estimate_{side}"], both["estimate"], atol=1e-12)
        assert np.allclose(both[f"ci_low_{side}"], both["ci_low"], atol=1e-9, equal_nan=True)
        assert np.allclose(both[f"ci_high_{side}"], both["ci_high"], atol=1e-9, equal_nan=True)


def test_the_trend_chart_shows_girls_and_boys_of_both_rounds_in_every_area(runs, tmp_path):
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse

    results = analyse(load_project(EXAMPLES / "mali_followup" / "survey.toml"))
    rounds = report_context(results, "en", charts_dir=tmp_path / "charts")["rounds"]
    assert rounds["trend_chart"] and (tmp_path / "charts" / "trend_by_sex.svg").is_file()
    units = {row["unit"] for row in rounds["trend"]}
    assert units == {"all", "bougouni_est", "kologo", "pelengana_nord", "cinzana_gare", "niono_central", "ndebougou"}
    changes = results.rounds.changes
    row = next(r for r in rounds["trend"] if r["unit"] == "kologo" and r["indicator"] == "zero_dose" and r["sex"] == "F")
    source = changes[(changes["indicator"] == "zero_dose") & (changes["catchment"] == "kologo")
                     & (changes["cohort"] == "all") & (changes["sex"] == "F") & (changes["area"] == "all")
                     & (changes["population_group"] == "all")].iloc[0]
    assert row["ci_low_a"] == pytest.approx(source["ci_low_a"]) and row["estimate_b"] == pytest.approx(source["estimate_b"])


def _copy_examples(tmp_path: Path) -> Path:
    target = tmp_path / "examples"
    for name in ("mali_baseline", "mali_followup"):
        shutil.copytree(EXAMPLES / name, target / name, ignore=shutil.ignore_patterns("*.xlsx", "generate.py"))
    return target


def _edit(path: Path, change) -> None:
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def test_each_round_is_read_with_its_own_cohort_windows(tmp_path):
    from lqas.config import load_project
    from lqas.run import analyse

    examples = _copy_examples(tmp_path)
    # the baseline counted 12-23 months from 400 days: a child of 365-399 days was in no cohort then
    _edit(examples / "mali_baseline" / "survey.toml", lambda t: t.replace('"12-23m" = [365, 729]', '"12-23m" = [400, 729]'))
    baseline = analyse(load_project(examples / "mali_baseline" / "survey.toml"))
    followup = analyse(load_project(examples / "mali_followup" / "survey.toml"))
    changes = followup.rounds.changes
    national = changes[(changes[DOMAIN[2:]] == "all").all(axis=1) & (changes["indicator"] == "zero_dose")]
    national = national.set_index("cohort")
    estimates = baseline.estimates
    own = estimates[(estimates["indicator"] == "zero_dose") & (estimates[DOMAIN[2:]] == "all").all(axis=1)
                    & (estimates["vaccination_status"] == "all")].set_index("cohort")
    assert national.loc["12-23m", "n_a"] == own.loc["12-23m", "n"]
    assert national.loc["12-23m", "estimate_a"] == pytest.approx(own.loc["12-23m", "estimate"], abs=1e-12)
    # the windows moved the baseline's children, not the follow-up's
    ages = baseline.table.loc[baseline.table["cohort"] == "12-23m", "age_days"]
    assert ages.min() >= 400
    assert national.loc["12-23m", "n_b"] == len(followup.table[followup.table["cohort"] == "12-23m"]
                                                 .dropna(subset=["zero_dose"]))


def test_a_new_target_is_applied_to_the_earlier_rounds_lots(tmp_path):
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse

    examples = _copy_examples(tmp_path)
    # the programme raised its Penta 3 target between the rounds: 80 % (65 % a lot to improve) to 90 % (75 %)
    _edit(examples / "mali_followup" / "survey.toml",
          lambda t: t.replace('{ indicator = "penta3_crude", good = 0.80, bad = 0.65 }',
                              '{ indicator = "penta3_crude", good = 0.90, bad = 0.75 }'))
    results = analyse(load_project(examples / "mali_followup" / "survey.toml"))
    lots = results.rounds.transitions.set_index(["indicator", "catchment", "cohort"])
    penta3 = lots.loc["penta3_crude"]
    assert penta3["target_changed"].all() and not lots.loc[lots.index.get_level_values(0) != "penta3_crude", "target_changed"].any()
    assert (penta3["good_own_a"] == 0.80).all() and (penta3["good_a"] == 0.90).all() and (penta3["good_b"] == 0.90).all()
    # the class that round reported: its own classification, at its own target
    reported = analyse(load_project(examples / "mali_baseline" / "survey.toml")).classification
    reported = reported.set_index(["indicator", "catchment", "cohort"]).loc["penta3_crude"]
    assert (penta3["class_own_a"] == reported.loc[penta3.index, "class"]).all()
    assert (penta3["d_own_a"] == reported.loc[penta3.index, "d"]).all()
    # the decision rule depends on n, the target and the risks only: a lot of either round with the same n
    # at the new target has the same rule, and the class follows it (higher is better: acceptable when
    # at least d children are vaccinated)
    rule = dict(zip(penta3["n_b"], penta3["d_b"]))
    same_n = penta3[penta3["n_a"].isin(rule)]
    assert len(same_n) > 0 and (same_n["d_a"] == same_n["n_a"].map(rule)).all()
    assert (penta3["d_a"] > penta3["d_own_a"]).all()  # a higher target asks more of every lot
    vaccinated = penta3["x_indicator_a"]
    assert ((vaccinated >= penta3["d_a"]) == (penta3["class_a"] == "pass")).all()
    reclassified = int((penta3["class_own_a"] != penta3["class_a"]).sum())
    assert reclassified > 0  # 80 % to 90 %: some lots acceptable then are not at the new target
    # the report says the target moved and how many lots the new target classes otherwise
    transitions = report_context(results, "en", charts_dir=tmp_path / "charts")["rounds"]["transitions"]
    said = next(t for t in transitions if t["indicator"] == "penta3_crude")
    assert said["target_changed"] and said["reclassified"] == reclassified
    assert (said["good_before"], said["good_now"]) == (0.80, 0.90)


def test_compare_refuses_a_folder_that_is_no_run_in_one_line(tmp_path):
    result = lqas("compare", str(tmp_path), str(tmp_path / "other"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"lqas: error: {tmp_path}: not a run folder of lqas (no manifest.json)"]
    assert re.search("compare", lqas("--help").stdout)

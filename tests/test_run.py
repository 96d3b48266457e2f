"""The run as a flow (lqas.run, lqas.derive, lqas.estimate, lqas.results) and the public API of ``import lqas``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import example_project

import lqas
from lqas.config import DesignConfig
from lqas.design import MISSING_DOMAIN, SurveyDesign
from lqas.errors import LqasError
from lqas.estimate import estimate

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "mali_baseline" / "survey.toml"


@pytest.fixture(scope="module")
def results():
    return lqas.analyse(lqas.load_project(DEMO))


def test_derive_project_is_the_child_table_of_the_run(results):
    derived = lqas.derive_project(lqas.load_project(DEMO))
    pd.testing.assert_frame_equal(derived.table, results.table)
    # every child-level column a later stage reads is in the one table
    assert {"vaccination_status", "mother_needs_permission", "mother_decides_vaccination", "weight",
            "zero_dose", "besd_confb"} <= set(derived.table)
    assert derived.rows_read == len(derived.table) + len(derived.exclusions)
    assert not derived.table.attrs  # nothing travels hidden beside the table


def test_analyse_builds_one_design_for_every_estimate(monkeypatch):
    built = []
    original = SurveyDesign.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(SurveyDesign, "__init__", counting)
    results = lqas.analyse(lqas.load_project(DEMO))
    assert len(built) == 1
    assert results.design.data is results.table
    assert not results.comparisons.empty and results.scorecard is not None


def test_estimates_have_no_missing_domain_rows():
    rng = np.random.default_rng(7)
    n = 60
    table = pd.DataFrame({
        "catchment": np.repeat(["a", "b"], n // 2), "cluster": np.repeat(np.arange(12), n // 12),
        "cohort": "12-23m", "weight": 1.0,
        "sex": rng.choice(["F", "M", None], n), "zero_dose": rng.integers(0, 2, n).astype(float),
        "besd_confb": rng.integers(0, 2, n).astype(float),
        "vaccination_status": rng.choice(["zero_dose", "penta3", None], n)})
    design = SurveyDesign(table, strata="catchment", psu="cluster", weight="weight")
    out = estimate(design, ["zero_dose", "besd_confb"], DesignConfig())
    domains = out[["cohort", "catchment", "sex", "vaccination_status"]].astype(str)
    assert not domains.isin([MISSING_DOMAIN, "nan", "None", "<NA>"]).any().any()
    # children of unknown sex still count in the margins
    margin = out[(out["indicator"] == "zero_dose") & (out["catchment"] == "all") & (out["sex"] == "all")
                 & (out["cohort"] == "all")]
    assert margin["n"].tolist() == [n]
    statuses = set(out.loc[out["vaccination_status"] != "all", "vaccination_status"])
    assert statuses == {"zero_dose", "penta3"}


def test_survey_design_is_immutable_and_shows_its_settings():
    table = pd.DataFrame({"s": ["a", "a", "b", "b"], "c": [1, 2, 3, 4], "y": [1, 0, 1, 1]})
    design = SurveyDesign(table, strata="s", psu="c", empty_psus={"a": 2})
    assert "empty_psus={'a': 2}" in repr(design) and "strata='s'" in repr(design)
    with pytest.raises(AttributeError, match="immutable"):
        design.strata = None
    # one outcome name is one outcome, not its letters
    assert design.proportions("y")["indicator"].unique().tolist() == ["y"]
    assert design.proportions("y", by="s")["s"].tolist() == ["a", "b", "all"]


def test_import_changes_no_global_state_and_exposes_the_api():
    # the libraries we build on set warnings filters of their own when imported: import them first,
    # so that what is measured is what lqas's modules do
    code = ("import numpy, scipy.stats, scipy.special, pandas, statsmodels.stats.proportion, matplotlib.figure; "
            "import matplotlib, warnings, locale; matplotlib.use('svg'); b = matplotlib.get_backend(); "
            "f = list(warnings.filters); l = locale.setlocale(locale.LC_ALL); "
            "import lqas, lqas.run, lqas.charts, lqas.context; "
            "assert matplotlib.get_backend() == b, matplotlib.get_backend(); "
            "assert warnings.filters == f and locale.setlocale(locale.LC_ALL) == l; "
            "lqas.load_project; lqas.derive_project; lqas.run_project; lqas.SurveyDesign; lqas.rules.classify; "
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_import_lqas_is_lazy():
    code = "import sys, lqas; print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_readme_python_example_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    code += "\nassert len(results.estimates) and design.proportions('zero_dose')['indicator'].tolist() == ['zero_dose']\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _demo_copy(tmp_path, *replacements):
    import shutil

    shutil.copytree(DEMO.parent, tmp_path / "p")
    survey = tmp_path / "p" / "survey.toml"
    text = survey.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    survey.write_text(text, encoding="utf-8")
    return survey


@pytest.mark.parametrize("replacements, message", [
    ([('malaria = { district = ["bougouni", "segou"] }', 'malaria = { district = ["bougouni", "segu"] }')],
     (r"survey.toml: key 'vaccination.introduced.malaria': district value\(s\) 'segu' match no child of this survey; the data have "
      r"'bougouni', 'niono', 'segou'")),
    ([('{ indicator = "penta3_crude", good = 0.80', '{ indicator = "penta3_crud", good = 0.80')],
     r"key 'lqas.targets\[3\]': indicator 'penta3_crud' is not an indicator of this survey; did you mean 'penta3_crude'\?"),
    ([('"12-23m" = [365, 729]', '"12-23m" = [300, 729]')],
     r"cohorts '18w-11m' and '12-23m' overlap \(a child aged 300 to 364 days would be in both\)"),
], ids=["introduced-value", "target-indicator", "overlapping-cohorts"])
def test_plausible_but_wrong_settings_are_refused_by_validate_and_run(tmp_path, replacements, message):
    from lqas.errors import ConfigError

    survey = _demo_copy(tmp_path, *replacements)
    with pytest.raises(ConfigError, match=message):
        lqas.analyse(lqas.load_project(survey))
    # lqas validate refuses what lqas run refuses, with the same one line
    done = subprocess.run([sys.executable, "-m", "lqas", "validate", str(survey)], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    import re

    assert re.search(message, done.stderr)


def test_a_single_cluster_lot_and_a_one_sex_lot_run_to_the_end(tmp_path):
    # legitimate LQAS designs: one cluster in a lot (no interval: df = 0), and a lot of boys only
    survey = _demo_copy(tmp_path)
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    kologo = frame["hh/catchment"] == "kologo"
    frame.loc[kologo, "hh/cluster"] = frame.loc[kologo, "hh/cluster"].iloc[0]
    frame.loc[frame["hh/catchment"] == "ndebougou", "child/sex"] = "male"
    frame.to_csv(export, index=False)
    done = subprocess.run([sys.executable, "-m", "lqas", "run", str(survey), "--out", str(tmp_path / "run")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    comparisons = pd.read_csv(tmp_path / "run" / "comparisons.csv")
    kologo_rows = comparisons[(comparisons["catchment"] == "kologo") & (comparisons["cohort"] != "all")]
    assert len(kologo_rows) and kologo_rows["difference_ci_low"].isna().all()  # no interval on df = 0
    boys_only = comparisons[comparisons["catchment"] == "ndebougou"]
    assert len(boys_only) and (boys_only["n_a"] == 0).all() and boys_only["difference"].isna().all()
    assert (tmp_path / "run" / "report.pdf").stat().st_size > 0


# ----------------------------------------------------------------------------- the run folder


def _fake_inputs(tmp_path):
    data = tmp_path / "project" / "data.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("a\n1\n", encoding="utf-8")
    return {"data": data}


def test_run_folder_replaces_a_run_whole_and_keeps_the_one_before(tmp_path):
    from lqas.outputs import run_folder

    out = tmp_path / "run"
    for k, stale in enumerate(["old.csv", "new.csv"]):
        with run_folder(out, _fake_inputs(tmp_path)) as folder:
            assert folder != out and folder.parent == out.parent
            (folder / stale).write_text(str(k), encoding="utf-8")
            (folder / "manifest.json").write_text("{}", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "new.csv"]  # no stale file
    assert sorted(p.name for p in (tmp_path / "run.previous").iterdir()) == ["manifest.json", "old.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "run", "run.previous"]  # no lock, no partial


def test_a_failed_run_leaves_the_folder_as_it_was(tmp_path):
    from lqas.outputs import run_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text("before", encoding="utf-8")
    with pytest.raises(RuntimeError), run_folder(out) as folder:
        (folder / "manifest.json").write_text("half", encoding="utf-8")
        raise RuntimeError("crash while writing")
    assert (out / "manifest.json").read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_writes(tmp_path):
    from lqas.outputs import run_folder

    out = tmp_path / "run"
    with run_folder(out) as folder:
        with pytest.raises(LqasError, match=r"another lqas run is writing this folder"), run_folder(out):
            pass
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
    assert (out / "manifest.json").is_file()


def test_a_folder_that_holds_no_run_is_replaced_only_when_asked_and_never_deleted(tmp_path):
    from lqas.outputs import run_folder

    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.docx").write_text("a user's file", encoding="utf-8")
    with pytest.raises(LqasError, match=r"not empty and holds no lqas run.*--overwrite"), run_folder(out):
        pass
    with run_folder(out, overwrite=True) as folder:
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
    assert (tmp_path / "notes.previous" / "mine.docx").read_text(encoding="utf-8") == "a user's file"


@pytest.mark.parametrize("where", ["run/data.csv", "run/sub/data.csv"])
def test_an_input_inside_the_run_folder_is_refused(tmp_path, where):
    from lqas.outputs import run_folder

    data = tmp_path / where
    data.parent.mkdir(parents=True)
    data.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(LqasError, match=r"the data file is inside the run folder"), \
            run_folder(tmp_path / "run", {"data": data}, overwrite=True):
        pass
    assert data.read_text(encoding="utf-8") == "a\n1\n"


def test_manifest_inputs_are_every_file_the_run_reads_relative_to_the_project():
    from lqas.outputs import input_checksums

    project = example_project("mali_baseline")
    records = input_checksums(project)
    assert [(r["role"], r["path"]) for r in records] == [
        ("project", "survey.toml"), ("data", "data/mali_baseline_kobo.csv"), ("populations", "data/populations.csv"),
        ("profile", "lqas:instruments/profiles/kobo.toml"), ("schedule", "lqas:data/schedules/mali.toml"),
        ("reviewed_remarks", "remarks_reviewed.csv"), ("households", "data/households.csv"), ("logo.1", "data/logo.png"),
        ("priorities", "lqas:data/priorities.toml")]
    data = project.resolve(project.data.file)
    assert records[1]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert records[1]["bytes"] == data.stat().st_size


# ----------------------------------------------------------------------------- dates, cohorts, lost lots


def test_impossible_interview_dates_sampled_cohorts_and_a_lot_that_lost_every_child(tmp_path):
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse

    survey = _demo_copy(tmp_path)
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    kologo = raw["hh/catchment"] == "kologo"
    raw.loc[kologo, "today"] = "2025-12-24"          # every Kologo interview dated after it was sent
    others = raw.index[~kologo]
    raw.loc[others[0], ["today", "_submission_time"]] = ["2099-01-01", ""]  # in the future, never sent
    flipped = others[1]
    sampled = {"18w_11m": "18w-11m", "12_23m": "12-23m"}[raw.at[flipped, "child/cohort"]]  # the kobo codes
    raw.at[flipped, "child/cohort"] = "12_23m" if sampled == "18w-11m" else "18w_11m"
    raw.to_csv(export, index=False)

    results = analyse(load_project(survey))
    exclusions = results.derived.exclusions
    after = exclusions[exclusions["reason"] == "interview_after_submission"]
    assert len(after) == kologo.sum() and set(after["catchment"]) == {"kologo"}
    assert after["detail"].iloc[0].startswith("interview date 2025-12-24; submitted 2025-1")
    future = exclusions[exclusions["reason"] == "interview_date_in_future"]
    assert future["source_row"].tolist() == [others[0] + 2]  # spreadsheet row: header is row 1
    assert results.derived.rows_read == len(results.table) + len(exclusions)

    repairs = results.derived.repairs
    differs = repairs[repairs["rule"] == "cohort_sampled_differs"]
    assert differs["source_row"].tolist() == [flipped + 2]
    kept = results.table.set_index("source_row").loc[flipped + 2]
    assert differs["new"].iloc[0] == kept["cohort"] == sampled  # counted in the cohort of its age

    # the lots of Kologo stay in the classification, as no data, and the report says why
    lots = results.classification[results.classification["catchment"] == "kologo"]
    assert set(lots["cohort"]) == {"18w-11m", "12-23m"} and set(lots["class"]) == {"no_data"}
    assert (lots["n"] == 0).all()
    context = report_context(results, "en", charts_dir=tmp_path / "charts")
    assert context["lqas"]["lost_catchments"] == [
        {"catchment": "kologo", "n": int(kologo.sum()), "reasons": [{"reason": "interview_after_submission",
                                                                     "n": int(kologo.sum())}]}]
    assert "kologo" in [row["catchment"] for row in context["lqas"]["matrix"]["rows"]]


def test_a_write_that_fails_mid_run_is_one_line_and_changes_nothing(tmp_path):
    from lqas.outputs import run_folder

    out = tmp_path / "run"
    with pytest.raises(LqasError, match=r"run: writing the run failed \(No space left on device\); nothing in .*run "
                                        r"was changed"), run_folder(out):
        raise OSError(28, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- duplicates


def _with_copies(tmp_path, *settings: str):
    """The demo with row 2's child sent again later with an edited age of the caretaker, and row 3's
    answers entered again under a new child_id."""
    survey = _demo_copy(tmp_path, *[("[design]", f"{line}\n\n[design]") for line in settings])
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    resent = raw.iloc[[0]].assign(**{"_uuid": "resent-uuid", "_id": "999001", "caretaker/age": "41",
                                     "_submission_time": "2025-12-01T10:00:00"})
    reentered = raw.iloc[[1]].assign(**{"child/child_id": "BGE-99-999-1", "_uuid": "reentered", "_id": "999002"})
    pd.concat([raw, resent, reentered]).to_csv(export, index=False)
    return survey, len(raw) + 2, len(raw) + 3  # spreadsheet rows of the copies


def test_a_resent_child_keeps_the_copy_sent_last_and_a_reentered_one_is_found_by_its_answers(tmp_path):
    from lqas.config import load_project
    from lqas.derive import derive_project

    survey, resent_row, reentered_row = _with_copies(tmp_path)
    derived = derive_project(load_project(survey))
    exclusions = derived.exclusions.set_index("source_row")
    assert exclusions.loc[2, "reason"] == "duplicate_child_id"
    assert exclusions.loc[2, "detail"] == f"same child_id as row {resent_row} (kept)"
    kept = derived.table.set_index("source_row")
    assert kept.loc[resent_row, "caretaker_age"] == "41"
    assert exclusions.loc[reentered_row, "reason"] == "duplicate_submission"
    child = kept.loc[3, "child_id"]
    assert exclusions.loc[reentered_row, "detail"] == f"same answers as row 3 (child_id {child}, kept)"
    assert derived.rows_read == len(derived.table) + len(derived.exclusions)


def test_keep_first_keeps_the_copy_first_in_the_file(tmp_path):
    from lqas.config import load_project
    from lqas.derive import derive_project

    survey, resent_row, _ = _with_copies(tmp_path, '[data.duplicates]\nkeep = "first"')
    derived = derive_project(load_project(survey))
    exclusions = derived.exclusions.set_index("source_row")
    assert exclusions.loc[resent_row, "detail"] == "same child_id as row 2 (kept)"


def test_a_duplicates_key_that_would_drop_differing_children_is_refused(tmp_path):
    from lqas.config import load_project
    from lqas.derive import derive_project

    survey, _, _ = _with_copies(tmp_path, '[data.duplicates]\nkey = ["cluster", "sex"]')
    with pytest.raises(LqasError, match=r"mali_baseline_kobo\.csv: \[data\.duplicates\] key = \['cluster', 'sex'\] "
                                        r"would drop children whose answers differ: \d+ keys are shared by rows with "
                                        r"different answers, e\.g\. rows \d+ and \d+ \(differ in "):
        derive_project(load_project(survey))
    survey, _, reentered_row = _with_copies(tmp_path / "b", '[data.duplicates]\nkey = ["cluster", "household_id", "dob"]')
    derived = derive_project(load_project(survey))
    assert derived.exclusions.set_index("source_row").loc[reentered_row, "detail"].startswith(
        "same cluster, household_id, dob and answers as row 3")
    with pytest.raises(LqasError, match=r"key 'data\.duplicates\.key\[1\]': .*did you mean 'cluster'\?"):
        load_project(_with_copies(tmp_path / "c", '[data.duplicates]\nkey = ["clustr"]')[0])


# ----------------------------------------------------------------------------- columns that look personal


def test_columns_that_look_personal_are_found_by_name_in_english_or_french_and_by_phone_values():
    from lqas.privacy import looks_personal

    n = 10
    frame = pd.DataFrame({
        "hh/nom_chef_menage": ["Awa Traoré"] * n, "grp-Prénom": ["Awa"] * n, "child.firstName": ["Awa"] * n,
        "contact": [f"+223 76 {k:02d} 45 {k:02d}" for k in range(n)],   # phone numbers by their values
        "hh/_gps_latitude": ["12.6"] * n, "deviceid": ["x"] * n, "why_other": ["..."] * n,
        "raison_autre": ["..."] * n, "commentaires": ["..."] * n,
        "caretaker/mother": ["1"] * n, "hh/cluster": [str(k) for k in range(n)], "population": ["1"] * n,
        "_id": [str(10**9 + k) for k in range(n)], "card/penta1_date": ["2025-01-01"] * n})
    assert looks_personal(frame, exempt={"child.firstName"}) == {
        "hh/nom_chef_menage": "a name", "grp-Prénom": "a name", "contact": "a phone number",
        "hh/_gps_latitude": "a position", "deviceid": "a device or account id", "why_other": "free text",
        "raison_autre": "free text", "commentaires": "free text"}


def test_phone_numbers_are_found_in_numbers_and_in_pandas_string_dtype_by_each_distinct_answer():
    # a Stata or SPSS file's phone numbers are numbers; pandas 3 reads text as its string dtype
    from lqas.privacy import looks_personal

    n = 10
    frame = pd.DataFrame({
        "numbers": np.arange(76_120_000, 76_120_000 + n), "short": np.arange(n) * 1.5,
        "text": pd.array([f"+223 76 {k:02d} 45 {k:02d}" for k in range(n)], dtype="string"),
        "one_number": pd.array(["+223 76 00 45 00"] * n, dtype="string"),  # the same number: a switchboard
        "padded": pd.array([f" 7612{k:04d} " for k in range(n - 2)] + ["", None], dtype="string")})
    assert looks_personal(frame) == {"numbers": "a phone number", "text": "a phone number",
                                     "padded": "a phone number"}


def test_a_column_that_looks_personal_is_withheld_from_outputs_and_listed_by_validate(tmp_path):
    from lqas.config import load_project
    from lqas.derive import derive_project

    survey = _demo_copy(tmp_path)
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    # the kobo profile's rename rule copies every besd/CHI_* column: this one names the health worker
    raw["besd/CHI_nom_agent"] = "Moussa Diarra"
    raw.to_csv(export, index=False)
    derived = derive_project(load_project(survey))
    assert derived.looks_personal == {"besd/CHI_nom_agent": "a name"}
    assert not [column for column in derived.table if "nom_agent" in column]
    done = subprocess.run([sys.executable, "-m", "lqas", "validate", str(survey)], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert ("lqas: warning: " in done.stderr and "columns that look personal" in done.stderr
            and "besd/CHI_nom_agent (a name)" in done.stderr)


def test_a_project_copied_from_the_example_is_warned_about_when_its_data_are_not_the_example(tmp_path):
    from lqas.config import load_project
    from lqas.config.project import example_leftovers

    survey = _demo_copy(tmp_path)
    assert example_leftovers(load_project(survey)) == []  # the example itself
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    export.write_text(export.read_text(encoding="utf-8").replace("Awa", "Aw"), encoding="utf-8")
    assert example_leftovers(load_project(survey)) == [
        "[survey] synthetic = true (the report would say its data are invented)", "the example's title",
        "the example's catchment names ([labels.catchment])"]
    done = subprocess.run([sys.executable, "-m", "lqas", "validate", str(survey)], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"lqas: warning: {survey}: copied from the example and still has [survey] synthetic = true")


def test_a_population_per_health_area_weights_the_children_of_each_cohort_by_its_share(tmp_path):
    from lqas.config import load_project
    from lqas.context import report_context
    from lqas.run import analyse

    mapping = '[populations]\ncolumns = { catchment = "aire", population = "moins_2_ans" }\nages = [0, 729]\n'
    survey = _demo_copy(tmp_path, ('populations = "data/populations.csv"', 'populations = "data/aires.csv"'),
                        ("[populations]\n", mapping))
    demo = pd.read_csv(DEMO.parent / "data" / "populations.csv")
    by_area = demo.groupby("catchment", sort=False)["population"].sum()
    pd.DataFrame({"aire": by_area.index, "moins_2_ans": by_area.to_numpy()}).to_csv(
        survey.parent / "data" / "aires.csv", index=False, sep=";")
    results = analyse(load_project(survey))
    table = results.table
    child = table[(table["catchment"] == "kologo") & (table["cohort"] == "12-23m")]
    n = len(child)
    assert child["weight"].iloc[0] == pytest.approx(by_area["kologo"] * 365 / 730 / n)
    context = report_context(results, "fr", charts_dir=tmp_path / "charts")
    assert context["methods"]["population_shares"] == pytest.approx({"18w-11m": 239 / 730, "12-23m": 365 / 730})


# ----------------------------------------------------------------------------- derived.csv beside the run


def _forked_work(monkeypatch) -> list[str]:
    """What the run gives to lqas.parallel.Beside (forked processes where the system forks): the file a
    writing writes, by name, or the function's name."""
    from functools import partial

    import lqas.run

    names, beside = [], lqas.run.Beside

    def recording(function, *args, **kwargs):
        writes = isinstance(function, partial) and len(function.args) > 1 and isinstance(function.args[1], Path)
        names.append(function.args[1].name if writes else function.__name__)
        assert kwargs.get("background", False) == writes  # a table's writing gives way to the run's work
        return beside(function, *args, **kwargs)
    monkeypatch.setattr(lqas.run, "Beside", recording)
    return names


def test_a_national_child_table_is_written_beside_the_run_into_the_same_file(tmp_path, monkeypatch):
    """A child table of at least lqas.run._EARLY_CELLS cells, which the run does not fork for, is written
    in a thread from the moment it is made; a smaller one by a forked process from that moment where the
    system forks, with the other tables otherwise: the same file, byte for byte, written once."""
    import lqas.outputs
    import lqas.parallel
    import lqas.run
    from lqas.config import load_project

    early, late = [], []
    write_derived = lqas.run.write_derived
    monkeypatch.setattr(lqas.run, "write_derived", lambda *args, **kwargs: (early.append(1), write_derived(*args, **kwargs)))
    monkeypatch.setattr(lqas.outputs, "write_derived", lambda *args, **kwargs: (late.append(1), write_derived(*args, **kwargs)))
    forked = _forked_work(monkeypatch)
    project = load_project(DEMO)
    monkeypatch.setenv("LQAS_PROCESSES", "1")
    lqas.run.run_project(project, tmp_path / "late", formats=("csv",))
    assert early == [] and late == [1] and "derived.csv" not in forked  # with the other tables
    monkeypatch.setattr(lqas.run, "_EARLY_CELLS", 0)
    lqas.run.run_project(project, tmp_path / "early", formats=("csv",))
    assert early == [1] and late == [1]  # written once, beside the run, not again with the other tables
    monkeypatch.delenv("LQAS_PROCESSES")
    monkeypatch.setattr(lqas.parallel, "fork_available", lambda cells=0: True)
    monkeypatch.setattr(lqas.run, "fork_available", lambda cells=0: True)
    lqas.run.run_project(project, tmp_path / "forked", formats=("csv",))
    # by the forked process (its calls are counted in its own lists, not these), not again here
    assert forked.count("derived.csv") == 1 and early == [1] and late == [1]
    late_bytes, early_bytes, forked_bytes = ((tmp_path / run / "derived.csv").read_bytes()
                                             for run in ("late", "early", "forked"))
    assert len(early_bytes) > 100_000 and early_bytes == late_bytes == forked_bytes


def test_the_estimates_are_written_beside_the_run_as_soon_as_they_are_made(tmp_path, monkeypatch):
    """Without a forked report (a national table; Windows, macOS; LQAS_PROCESSES=1) estimates.csv is
    written in the writer thread from the moment the estimates are made, before the report and the other
    tables; with a forked report, by a forked process of its own from that moment: the same bytes."""
    import threading

    import lqas.parallel
    import lqas.run
    from lqas.config import load_project

    monkeypatch.setenv("LQAS_PROCESSES", "1")
    stages, calls = [], []
    write_csv = lqas.run.write_csv

    def recording(frame, path, **kwargs):
        calls.append((path.name, threading.current_thread().name, stages[-1]))
        return write_csv(frame, path, **kwargs)
    monkeypatch.setattr(lqas.run, "write_csv", recording)
    forked = _forked_work(monkeypatch)
    project = load_project(DEMO)
    lqas.run.run_project(project, tmp_path / "early", formats=("csv", "html"), progress=stages.append)
    assert [(name, thread.split("_")[0]) for name, thread, _ in calls] == [("estimates.csv", "lqas-writer")]
    assert calls[0][2] in ("estimate", "classify lots")  # as soon as they are made, before the report
    assert "estimates.csv" not in forked
    monkeypatch.delenv("LQAS_PROCESSES")
    monkeypatch.setattr(lqas.parallel, "fork_available", lambda cells=0: True)  # the report forked
    monkeypatch.setattr(lqas.run, "fork_available", lambda cells=0: True)
    lqas.run.run_project(project, tmp_path / "forked", formats=("csv", "html"), progress=stages.append)
    assert len(calls) == 1 and forked.count("estimates.csv") == 1  # written by the forked process alone
    early, late = ((tmp_path / run / "estimates.csv").read_bytes() for run in ("early", "forked"))
    assert len(early) > 100_000 and early == late


@pytest.mark.parametrize("processes", ["1", "forked"])
def test_the_estimates_written_beside_the_run_failing_lose_only_themselves(tmp_path, monkeypatch, processes):
    """In a thread or in a forked process (whose failure is met again here, and said as the run's own)."""
    import lqas.parallel
    import lqas.run
    from lqas.config import load_project
    from lqas.errors import OutputError

    def full_disk(frame, path, **kwargs):
        path.write_text("indicator,coh", encoding="utf-8")
        raise OSError(28, "No space left on device")
    if processes == "1":
        monkeypatch.setenv("LQAS_PROCESSES", "1")
    else:
        monkeypatch.delenv("LQAS_PROCESSES", raising=False)
        monkeypatch.setattr(lqas.parallel, "fork_available", lambda cells=0: True)
        monkeypatch.setattr(lqas.run, "fork_available", lambda cells=0: True)
    monkeypatch.setattr(lqas.run, "write_csv", full_disk)
    with pytest.raises(OutputError, match=r"estimates\.csv"):
        lqas.run.run_project(load_project(DEMO), tmp_path / "run", formats=("csv",))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert [failure["output"] for failure in manifest["failed"]] == ["estimates.csv"]
    assert "No space left on device" in manifest["failed"][0]["reason"]
    assert not (tmp_path / "run" / "estimates.csv").exists() and (tmp_path / "run" / "derived.csv").is_file()
    assert "estimates.csv" not in manifest["outputs"] and "classification.csv" in manifest["outputs"]


def test_the_workbook_is_made_while_the_tables_written_beside_the_run_are_finished(tmp_path, monkeypatch):
    """A national run's estimates.csv is still being written by the run's thread when the other tables are
    done: the workbook is made meanwhile, and the table waited for after it (not before, one core idle)."""
    import threading
    from concurrent.futures import Future

    import lqas.outputs
    from lqas.config import load_project
    from lqas.run import analyse
    from lqas.safety import write_csv

    results = analyse(load_project(DEMO))
    out = tmp_path / "run"
    out.mkdir()
    writing, seen = Future(), []
    write_workbook = lqas.outputs.write_workbook

    def workbook(path, sheets):
        seen.append(writing.done())
        write_workbook(path, sheets)
        write_csv(results.estimates, out / "estimates.csv")  # as the run's thread ends its writing
        writing.set_result(None)
    monkeypatch.setattr(lqas.outputs, "write_workbook", workbook)
    # waited for before the workbook, the table would never be written: the test fails, it does not hang
    late = threading.Timer(20, lambda: writing.done() or writing.set_exception(TimeoutError("waited for first")))
    late.start()
    try:
        paths, failures = lqas.outputs.write_outputs(results, out, "fr", formats=("csv", "xlsx"),
                                                     started={"estimates.csv": writing})
    finally:
        late.cancel()
    assert seen == [False] and failures == []
    assert {"estimates.csv", "derived.csv", "results.xlsx", "manifest.json"} <= set(paths)
    assert len((out / "estimates.csv").read_bytes()) > 100_000


def test_a_run_that_fails_after_the_child_table_stops_writing_it_and_leaves_nothing(tmp_path, monkeypatch):
    import lqas.run
    from lqas.config import load_project
    from lqas.errors import InputError

    ended = []
    write_derived = lqas.run.write_derived

    def write_when_stopped(*args, stop, **kwargs):  # still writing when the run fails
        assert stop.wait(timeout=60)
        try:
            write_derived(*args, stop=stop, **kwargs)
        except BaseException as exc:
            ended.append(type(exc))
            raise

    def failing_estimate(*args, **kwargs):
        raise InputError("estimates.csv: the estimate failed")

    monkeypatch.setenv("LQAS_PROCESSES", "1")  # the thread of a national table (which is not forked for)
    monkeypatch.setattr(lqas.run, "_EARLY_CELLS", 0)
    monkeypatch.setattr(lqas.run, "write_derived", write_when_stopped)
    monkeypatch.setattr(lqas.run, "estimate", failing_estimate)
    with pytest.raises(InputError, match="the estimate failed"):
        lqas.run.run_project(load_project(DEMO), tmp_path / "run", formats=("csv",))
    assert ended == [InterruptedError]
    assert list(tmp_path.iterdir()) == []  # no run folder, no partial one, no lock


def test_a_run_that_fails_stops_the_forked_process_writing_the_child_table(tmp_path, monkeypatch):
    import multiprocessing
    import time

    import lqas.parallel
    import lqas.run
    from lqas.config import load_project
    from lqas.errors import InputError

    def slow_write(*args, **kwargs):  # still writing when the run fails
        time.sleep(120)

    def failing_estimate(*args, **kwargs):
        raise InputError("estimates.csv: the estimate failed")

    monkeypatch.delenv("LQAS_PROCESSES", raising=False)
    monkeypatch.setattr(lqas.parallel, "fork_available", lambda cells=0: True)
    monkeypatch.setattr(lqas.run, "fork_available", lambda cells=0: True)
    monkeypatch.setattr(lqas.run, "write_derived", slow_write)
    monkeypatch.setattr(lqas.run, "estimate", failing_estimate)
    started = time.monotonic()
    with pytest.raises(InputError, match="the estimate failed"):
        lqas.run.run_project(load_project(DEMO), tmp_path / "run", formats=("csv",))
    assert time.monotonic() - started < 60  # not waited for
    assert multiprocessing.active_children() == []
    assert list(tmp_path.iterdir()) == []


def test_the_objects_that_outlive_a_stage_are_left_alone_by_the_collector_until_the_run_ends(tmp_path):
    """gc.freeze at each stage (the collector went through the run's long-lived objects again each time
    the report's new objects set it off), everything given back to it when the run ends, failed or not."""
    import gc

    import lqas.run
    from lqas.config import load_project

    project = load_project(DEMO)
    assert gc.get_freeze_count() == 0
    frozen = {}
    lqas.run.run_project(project, tmp_path / "run", formats=("csv",),
                         progress=lambda stage: frozen.setdefault(stage, gc.get_freeze_count()))
    assert frozen["estimate"] > 10_000 and frozen["write tables"] >= frozen["estimate"]
    assert gc.get_freeze_count() == 0

    class Stopped(Exception):
        pass

    def stop_at_estimate(stage: str) -> None:
        if stage == "estimate":
            raise Stopped
    with pytest.raises(Stopped):
        lqas.run.analyse(project, stop_at_estimate)
    assert gc.get_freeze_count() == 0


def test_the_collector_is_paused_while_the_report_is_made_and_left_as_it_was(tmp_path, monkeypatch):
    """The report's many new objects set the cyclic collector off again and again: paused while the report
    is made (in the run's process here), enabled again after it, unless the caller had disabled it."""
    import gc

    import lqas.outputs
    import lqas.run
    from lqas.config import load_project

    monkeypatch.setenv("LQAS_PROCESSES", "1")
    during = []
    report_context = lqas.outputs.report_context
    monkeypatch.setattr(lqas.outputs, "report_context",
                        lambda *args, **kwargs: (during.append(gc.isenabled()), report_context(*args, **kwargs))[1])
    project = load_project(DEMO)
    assert gc.isenabled()
    lqas.run.run_project(project, tmp_path / "on", formats=("html",))
    assert during == [False] and gc.isenabled()
    gc.disable()
    try:
        lqas.run.run_project(project, tmp_path / "off", formats=("html",))
        assert during == [False, False] and not gc.isenabled()
    finally:
        gc.enable()


def test_the_charts_png_files_are_rendered_from_their_svg_files_once_the_context_is_written(tmp_path, monkeypatch):
    """No report shows the PNG files: each chart's SVG file is written when the chart is drawn, and every
    chart's PNG file rendered from it (Typst, beside the report's pages) once the report context is
    written: matplotlib draws no chart a second time; every chart has both."""
    import lqas.charts
    import lqas.outputs
    import lqas.run
    from lqas.config import load_project

    monkeypatch.setenv("LQAS_PROCESSES", "1")  # the report, and the events, in this process
    events = []
    render, write_context = lqas.charts.svg_chart_pngs, lqas.outputs.write_context
    monkeypatch.setattr(lqas.charts, "_save_png", lambda figure, path: events.append("matplotlib png"))
    monkeypatch.setattr(lqas.charts, "svg_chart_pngs", lambda folder: (events.append("pngs"), render(folder))[1])
    monkeypatch.setattr(lqas.outputs, "write_context", lambda *a: (write_context(*a), events.append("context"))[0])
    lqas.run.run_project(load_project(DEMO), tmp_path / "run", formats=("html", "pdf"))
    assert events == ["context", "pngs"]
    charts = tmp_path / "run" / "charts"
    svgs = sorted(path.stem for path in charts.glob("*.svg"))
    assert len(svgs) > 5
    assert sorted(path.stem for path in charts.glob("*.png") if not path.stem.startswith("logo_")) == svgs
    assert all((charts / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in svgs)


def test_where_typst_does_not_load_the_charts_png_files_are_drawn_once_the_report_pages_are_made(tmp_path, monkeypatch):
    """Without Typst, matplotlib draws each chart's PNG file once the PDF's source is made and the HTML
    page written (its SVG file when the chart is drawn); every chart has both."""
    import lqas.charts
    import lqas.outputs
    import lqas.run
    from lqas.config import load_project

    monkeypatch.setenv("LQAS_PROCESSES", "1")  # the report, and the events, in this process
    monkeypatch.setattr(lqas.outputs, "_typst_loads", lambda: False)
    events = []
    save_png, typst_source, html_page = lqas.charts._save_png, lqas.outputs.typst_source, lqas.outputs.html_page
    monkeypatch.setattr(lqas.charts, "_save_png", lambda figure, path: (events.append("png"), save_png(figure, path)))
    monkeypatch.setattr(lqas.outputs, "typst_source", lambda *a, **k: (events.append("pdf source"), typst_source(*a, **k))[1])
    monkeypatch.setattr(lqas.outputs, "html_page", lambda *a, **k: (events.append("html"), html_page(*a, **k))[1])
    lqas.run.run_project(load_project(DEMO), tmp_path / "run", formats=("html", "pdf"))
    assert events[:2] == ["pdf source", "html"] and set(events[2:]) == {"png"}
    charts = tmp_path / "run" / "charts"
    svgs = sorted(path.stem for path in charts.glob("*.svg"))
    assert len(svgs) == len(events) - 2 > 5
    assert sorted(path.stem for path in charts.glob("*.png") if not path.stem.startswith("logo_")) == svgs
    assert all((charts / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in svgs)


@pytest.mark.parametrize("renderer", ["typst", "matplotlib"])
@pytest.mark.parametrize("processes", ["1", "forked"])
def test_the_charts_png_files_failing_lose_neither_the_report_nor_its_charts(tmp_path, monkeypatch, processes,
                                                                             renderer):
    """The PNG files are made last: their failure (rendered by Typst from the SVG files, or drawn by
    matplotlib where Typst does not load) is said, as the charts', no PNG file is left, and the report's
    pages (made from the SVG files) are still written."""
    import lqas.charts
    import lqas.outputs
    import lqas.parallel
    from lqas.config import load_project
    from lqas.errors import OutputError
    from lqas.run import run_project

    if processes == "1":
        monkeypatch.setenv("LQAS_PROCESSES", "1")
    else:
        monkeypatch.delenv("LQAS_PROCESSES", raising=False)
        monkeypatch.setattr(lqas.parallel, "fork_available", lambda cells=0: True)

    def no_png(*args):
        raise MemoryError("drawing the PNG")
    if renderer == "typst":
        render = lqas.charts.svg_chart_pngs

        def half_rendered(folder):  # the PNG files written, then the failure
            render(folder)
            raise MemoryError("drawing the PNG")
        monkeypatch.setattr(lqas.charts, "svg_chart_pngs", half_rendered)
    else:
        monkeypatch.setattr(lqas.outputs, "_typst_loads", lambda: False)
        monkeypatch.setattr(lqas.charts, "_save_png", no_png)
    with pytest.raises(OutputError, match="charts"):
        run_project(load_project(DEMO), tmp_path / "run", formats=("csv", "html", "pdf"))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == [{"output": "charts", "reason": "MemoryError: drawing the PNG"}]
    assert {"report.html", "report.pdf", "report_context.json", "estimates.csv"} <= set(manifest["outputs"])
    charts = [name for name in manifest["outputs"] if name.startswith("charts/")]
    assert "charts/coverage_by_dose.svg" in charts and not [name for name in charts if name.endswith(".png")
                                                            and not name.startswith("charts/logo_")]
    assert not [path for path in (tmp_path / "run" / "charts").glob("*.png") if not path.stem.startswith("logo_")]
    assert (tmp_path / "run" / "report.pdf").read_bytes()[:5] == b"%PDF-"

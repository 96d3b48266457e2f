"""Typed configuration: every file the package reads is validated, unknown keys get a suggestion,
all problems of a file are listed at once (one line each: file, dotted key, reason)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import lqas.besd
import lqas.indicators
from lqas.besd import load_besd_registry
from lqas.config import (
    Project,
    load_canonical_schema,
    load_project,
    load_scorecard_config,
    validate_profile,
)
from lqas.errors import ConfigError
from lqas.indicators import load_registry
from lqas.ingest import load_profile
from lqas.vaccination import Schedule, load_schedule

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "instruments" / "profiles"
DATA = ROOT / "lqas" / "data"


def broken_copy(tmp_path: Path, source: Path, *edits: tuple[str, str], name: str | None = None) -> Path:
    """A copy of ``source`` with each (old, new) text replaced once; every old text must be there."""
    text = source.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"{source.name} no longer contains {old!r}: update the test"
        text = text.replace(old, new, 1)
    path = tmp_path / (name or source.name)
    path.write_text(text, encoding="utf-8")
    return path


def problem_lines(excinfo: pytest.ExceptionInfo) -> list[str]:
    return str(excinfo.value).splitlines()


# --------------------------------------------------------------------------- shipped files validate


@pytest.mark.parametrize("name", ["kobo", "vcqi", "besd-ti"])
def test_shipped_profiles_validate_and_load_as_plain_dicts(name):
    profile = load_profile(name)
    # the loader still hands the mapper the file as parsed, not a model
    assert profile == tomllib.loads((PROFILES / f"{name}.toml").read_text(encoding="utf-8"))
    assert profile["profile"]["name"] == name


@pytest.mark.parametrize("name, first_key", [("mali", "bcg"), ("vcqi_district20", "bcg"),
                                              ("vcqi_harmonia", "bcg")])
def test_shipped_schedules_validate_and_load_as_schedules(name, first_key):
    schedule = load_schedule(name)
    assert isinstance(schedule, Schedule) and schedule.keys[0] == first_key
    assert set(schedule.fully_vaccinated) <= set(schedule.keys)


def test_shipped_registries_and_scorecard_validate():
    registry = load_registry(load_schedule("mali"))
    assert registry["zero_dose"].lower_is_better and registry["penta3_valid"].label_fr == "Penta 3 (valide)"
    assert load_besd_registry()["items"]["CHI_confb"]["favourable"] == [3, 4]
    config = load_scorecard_config()
    assert config == tomllib.loads((DATA / "equity.toml").read_text(encoding="utf-8"))
    assert config["rules"]["sex_gap"]["min_n"] == 25


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/survey.toml")))
def test_example_projects_validate(example):
    assert isinstance(load_project(ROOT / "examples" / example / "survey.toml"), Project)


def test_profiles_readme_example_validates():
    readme = (PROFILES / "README.md").read_text(encoding="utf-8")
    example = readme.split("Example — a CSV with one row per child")[1].split("```toml\n")[1].split("```")[0]
    model = validate_profile(tomllib.loads(example), "README.md")
    assert model.profile.name == "district_survey_2025" and "dob" in model.columns


# --------------------------------------------------------------------------- canonical column names


def test_canonical_schema_lists_the_design_columns_and_patterns():
    schema = load_canonical_schema()
    for name in ("child_id", "catchment", "cluster", "weight", "interview_date", "sex", "dob", "card_seen",
                 "cluster_name", "cohort_sampled", "province", "decides_vaccination", "interviewer_remarks"):
        assert schema.problem_with(name) is None, name
    for name in ("penta1_card_date", "mcv1_register_tick", "bcg_recall", "CHI_confb", "CHI_lowacnoth", "dob_card_d"):
        assert schema.problem_with(name) is None, name
    assert "did you mean 'card_seen'?" in schema.problem_with("card_sen")
    assert "computed by lqas" in schema.problem_with("cohort")


def test_profile_mapping_an_unknown_canonical_name_fails(tmp_path):
    path = broken_copy(tmp_path, PROFILES / "kobo.toml", ('card_seen = "card/card_seen"', 'card_sen = "card/card_seen"'),
                       ('card_seen = { yes = 1, no = 0 }', 'card_sen = { yes = 1, no = 0 }'))
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    assert problem_lines(excinfo) == [
        f"{path}: key 'columns.card_sen': unknown canonical column; did you mean 'card_seen'?",
        f"{path}: key 'codes.card_sen': unknown canonical column; did you mean 'card_seen'?",
    ]


def test_profile_may_not_map_a_column_lqas_computes(tmp_path):
    path = broken_copy(tmp_path, PROFILES / "kobo.toml", ('cohort_sampled = "child/cohort"', 'cohort = "child/cohort"'),
                       ('cohort_sampled = { "18w_11m"', 'cohort = { "18w_11m"'))
    with pytest.raises(ConfigError, match=r"key 'columns\.cohort': 'cohort' is computed by lqas at ingest"):
        load_profile(path)


# --------------------------------------------------------------------------- profiles


def test_profile_unknown_section_is_named_with_a_suggestion(tmp_path):
    path = broken_copy(tmp_path, PROFILES / "kobo.toml", ("[card]", "[crad]"))
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    assert problem_lines(excinfo) == [f"{path}: key 'crad': unknown section; did you mean 'card'?"]


def test_profile_misspelt_key_is_named_with_a_suggestion(tmp_path):
    path = broken_copy(tmp_path, PROFILES / "kobo.toml", ("\nrequired = [", "\nrequird = ["))
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    assert problem_lines(excinfo) == [f"{path}: key 'profile.requird': unknown key; did you mean 'required'?"]


def test_profile_lists_every_problem_one_line_each(tmp_path):
    path = broken_copy(
        tmp_path, PROFILES / "vcqi.toml",
        ("[card]", "[crad]"),                                             # unknown section
        ('\nrequired = [', '\nrequird = ['),                              # misspelt key
        ('cluster_name = "RI04"', 'cluster_nme = "RI04"'),                # unknown canonical name
        ('{ join = ["RI01", "RI03", "RI11"], sep = "_" }', '{ joni = ["RI01", "RI03", "RI11"], sep = "_" }'),
        ('{ d = "RI09d", m = "RI09m", y = "RI09y" }', '{ dd = "RI09d", m = "RI09m", y = "RI09y" }'),
        ('unmatched = "exclude"', 'unmatched = "drop"'),                 # not one of the choices
        ('tick = "{dose}_tick_register"', 'tick = "{dos}_tick_register"'),  # bad placeholder
        ('[age]\nfrom = "dob"', '[age]\nfrom = "dbo"'),
    )
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    lines = problem_lines(excinfo)
    assert len(lines) == 8 and all(line.startswith(f"{path}: key '") for line in lines)
    expected = [
        "key 'crad': unknown section; did you mean 'card'?",
        "key 'profile.requird': unknown key; did you mean 'required'?",
        "key 'columns.cluster_nme': unknown canonical column; did you mean 'cluster_name'?",
        "key 'columns.household_id.joni': unknown key; did you mean 'join'?",
        "key 'columns.interview_date[2].dd': unknown key; did you mean 'd'?",
        "key 'merge.clusters.unmatched': expected 'keep' or 'exclude'; got 'drop'",
        "key 'register.tick': '{dos}_tick_register': only {dose} may stand in braces",
        "key 'age.from': expected 'dob' or 'years'; got 'dbo'; did you mean 'dob'?",
    ]
    for text in expected:
        assert sum(text in line for line in lines) == 1, text


def test_profile_value_fitting_no_type_is_one_problem(tmp_path):
    # `sheet` is text or a number: a value that is neither is one problem, not one per type
    path = broken_copy(tmp_path, PROFILES / "vcqi.toml", ('unmatched = "keep"', 'unmatched = "keep"\nsheet = 1.5'))
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    assert problem_lines(excinfo) == [
        f"{path}: key 'merge.register.sheet': expected a valid string or a valid integer; got 1.5"]


def test_profile_cross_section_checks(tmp_path):
    path = broken_copy(tmp_path, PROFILES / "besd-ti.toml", ('age_years = "CHI_chiage"', ''),
                       ('area = "Area"', ''))
    with pytest.raises(ConfigError) as excinfo:
        load_profile(path)
    assert problem_lines(excinfo) == [
        (f"{path}: key 'codes.area': [columns] does not map 'area', so these codes never apply; add columns.area "
         "or remove codes.area"),
        f"{path}: key 'age.from': 'years' reads the age from columns.age_years, which [columns] does not map",
    ]


# --------------------------------------------------------------------------- schedules


def test_schedule_unknown_section_and_misspelt_key(tmp_path):
    path = broken_copy(tmp_path, DATA / "schedules" / "mali.toml", ("[schedule]", "[schedul]"),
                       ('key = "bcg"\nlabel = "BCG"\nmin_age_days = 0', 'key = "bcg"\nlabel = "BCG"\nmin_age = 0'))
    with pytest.raises(ConfigError) as excinfo:
        load_schedule(path)
    assert problem_lines(excinfo) == [
        f"{path}: key 'dose[1].min_age': unknown key; did you mean 'min_age_days'?",
        f"{path}: key 'schedul': unknown section; did you mean 'schedule'?",
    ]


def test_schedule_lists_name_doses_and_every_bad_list_is_listed(tmp_path):
    path = broken_copy(tmp_path, DATA / "schedules" / "vcqi_district20.toml",
                       ('"opv3", "mcv"]', '"opv3", "mcv1"]'), ('[["opv1", "opv3"]', '[["opv1", "opv9"]'))
    with pytest.raises(ConfigError) as excinfo:
        load_schedule(path)
    lines = problem_lines(excinfo)
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: key 'schedule.fully_vaccinated': unknown dose(s) ['mcv1']")
    assert lines[1].startswith(f"{path}: key 'schedule.dropouts': ['opv1', 'opv9'] is not a pair of dose keys")


# --------------------------------------------------------------------------- indicator registry, BeSD codings


def test_indicator_registry_problems_through_the_loader(tmp_path, monkeypatch):
    path = broken_copy(tmp_path, DATA / "indicators.toml", ("[dropout_template]", "[dropout_templat]"),
                       ('label_en = "Zero-dose (no Penta1)"', 'lable_en = "Zero-dose (no Penta1)"'),
                       ('label_fr = "{label} (brut)"', 'label_fr = "{lable} (brut)"'))
    monkeypatch.setattr(lqas.indicators, "data_path", lambda name: path)
    with pytest.raises(ConfigError) as excinfo:
        load_registry(load_schedule("mali"))
    assert problem_lines(excinfo) == [
        f"{path}: key 'indicator.zero_dose.lable_en': unknown key; did you mean 'label_en'?",
        f"{path}: key 'dose_templates.crude.label_fr': only {{label}} may stand in braces; got '{{lable}} (brut)'",
        f"{path}: key 'dropout_templat': unknown section; did you mean 'dropout_template'?",
    ]


def test_besd_registry_problems_through_the_loader(tmp_path, monkeypatch):
    path = broken_copy(tmp_path, DATA / "besd.toml", ("[plots.core]", "[plot.core]"),
                       ('favourable = [3]\npriority = true', 'favorable = [3]\npriority = true'))
    monkeypatch.setattr(lqas.besd, "data_path", lambda name: path)
    with pytest.raises(ConfigError) as excinfo:
        load_besd_registry()
    assert problem_lines(excinfo) == [
        f"{path}: key 'items.CHI_intent.favorable': unknown key; did you mean 'favourable'?",
        f"{path}: key 'plot': unknown section; did you mean 'plots'?",
    ]


def test_besd_favourable_codes_must_be_codes_of_the_scale(tmp_path, monkeypatch):
    path = broken_copy(tmp_path, DATA / "besd.toml", ('favourable = [3]\npriority = true', 'favourable = [5]\npriority = true'))
    monkeypatch.setattr(lqas.besd, "data_path", lambda name: path)
    with pytest.raises(ConfigError) as excinfo:
        load_besd_registry()
    # one line per coding whose 'intent' scale lacks code 5
    assert problem_lines(excinfo) == [
        f"{path}: key 'items.CHI_intent.favourable': [5] are not canonical 'intent' codes [1, 2, 3] (coding '{coding}')"
        for coding in ("besd-ti", "yes1-no2")]


# --------------------------------------------------------------------------- equity scorecard


def test_scorecard_misspelt_key_and_unknown_section(tmp_path):
    path = broken_copy(tmp_path, DATA / "equity.toml", ("[meta]", "[mta]"),
                       ("red_p_below = 0.05", "red_p_bellow = 0.05"))
    with pytest.raises(ConfigError) as excinfo:
        load_scorecard_config(path)
    assert problem_lines(excinfo) == [
        f"{path}: key 'rules.sex_gap.red_p_bellow': unknown key; did you mean 'red_p_below'?",
        f"{path}: key 'mta': unknown section; did you mean 'meta'?",
    ]


def test_scorecard_rules_keep_their_checks(tmp_path):
    path = broken_copy(tmp_path, DATA / "equity.toml",
                       ("red_at_or_above = 0.50", "red_at_or_above = 0.20"),   # red laxer than amber
                       ('direction = "higher"\nmin_n = 25', 'direction = "higher"\nmin_n = 25\nred_at_or_above = 0.3'),
                       ("min_n = 25\nred_at_or_above = 0.20\namber_at_or_above = 0.10",    # min_n removed
                        "red_at_or_above = 0.20\namber_at_or_above = 0.10"))
    with pytest.raises(ConfigError) as excinfo:
        load_scorecard_config(path)
    lines = problem_lines(excinfo)
    assert lines == [
        f"{path}: key 'rules.mother_needs_permission': the red threshold must be at least as strict as the amber one",
        (f"{path}: key 'rules.mother_decides_vaccination.red_at_or_above': does not apply to a level rule with "
         "direction 'higher'; it uses min_n, red_below, amber_below"),
        (f"{path}: key 'rules.gender_barrier.min_n': required key missing (a level rule with direction 'lower' "
         "needs numeric min_n, red_at_or_above, amber_at_or_above)"),
    ]


def test_scorecard_rows_name_rules_of_their_kind(tmp_path):
    path = broken_copy(tmp_path, DATA / "equity.toml", ('rule = "sex_gap"', 'rule = "sex_gaps"'),
                       ('rule = "gender_barrier"', 'rule = "sex_gap"'))
    with pytest.raises(ConfigError) as excinfo:
        load_scorecard_config(path)
    assert problem_lines(excinfo) == [
        (f"{path}: key 'scorecard.rows[1].rule': 'sex_gaps' is not a rule; expected one of ['gender_barrier', "
         "'mother_decides_vaccination', 'mother_needs_permission', 'sex_gap']"),
        f"{path}: key 'scorecard.rows[8].rule': a level row needs a level rule; 'sex_gap' is a gap rule",
    ]


def test_scorecard_texts_and_labels_are_required(tmp_path):
    path = broken_copy(tmp_path, DATA / "equity.toml", ('text_fr = "Rouge : 50 %', 'comment = "Rouge : 50 %'),
                       ('label_fr = "Couverture Penta1 : filles − garçons"', ''))
    with pytest.raises(ConfigError) as excinfo:
        load_scorecard_config(path)
    lines = problem_lines(excinfo)
    assert len(lines) == 3
    assert f"{path}: key 'scorecard.rows[1].label_fr': required key missing" in lines
    assert f"{path}: key 'rules.mother_needs_permission.text_fr': required key missing" in lines
    assert (f"{path}: key 'rules.mother_needs_permission.comment': unknown key; expected one of: kind, direction, "
            "min_n, red_p_below, red_gap_against_girls_at_least, amber_abs_difference_at_least, amber_p_below, "
            "red_at_or_above, amber_at_or_above, red_below, amber_below, text_en, text_fr") in lines


# --------------------------------------------------------------------------- survey.toml


def test_project_lists_every_problem_with_suggestions(tmp_path):
    path = tmp_path / "survey.toml"
    path.write_text('[data]\nfil = "x.csv"\n[desing]\nstrata = "catchment"\n[lqas]\nalpha = 2\n', encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_project(path)
    assert problem_lines(excinfo) == [
        f"{path}: key 'data.fil': unknown key; did you mean 'file'?",
        f"{path}: key 'lqas.alpha': must be less than 1; got 2",
        f"{path}: key 'desing': unknown section; did you mean 'design'?",
    ]


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("edit, key, hint", [
    (("[card]", "[crad]"), "crad", "unknown section; did you mean 'card'?"),
    (('cluster_name = "hh/cluster_name"', 'cluster_nme = "hh/cluster_name"'), "columns.cluster_nme",
     "unknown canonical column; did you mean 'cluster_name'?"),
], ids=["unknown-section", "unknown-canonical-column"])
def test_lqas_validate_names_the_broken_profile_in_one_line(tmp_path, edit, key, hint):
    project = tmp_path / "mali_baseline"
    shutil.copytree(ROOT / "examples" / "mali_baseline", project)
    profile = broken_copy(project, PROFILES / "kobo.toml", edit, name="kobo_broken.toml")
    broken_copy(project, project / "survey.toml", ('profile = "kobo"', 'profile = "kobo_broken.toml"'))
    done = subprocess.run([sys.executable, "-c", "from lqas.cli import main; main()", "validate",
                           str(project / "survey.toml")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    output = done.stdout + done.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert lines == [f"lqas: error: {profile}: key '{key}': {hint}"]

"""`lqas init` (lqas.draft): a project drafted from an export and its form reads the export as the
hand-written one does."""

import subprocess
import sys
import tomllib

import pytest
from conftest import REPO

from lqas.config import load_project
from lqas.derive import derive_project
from lqas.draft import draft_project, write_draft

DEMO = REPO / "examples" / "mali_baseline"
EXPORT = DEMO / "data" / "mali_baseline_kobo.csv"
FORM = REPO / "instruments" / "mali_child_survey.xlsx"
CHILD_LEVEL = ["zero_dose", "ui_dtp1_not_dtp3", "penta3_crude", "penta3_valid", "mr1_crude", "fully_vaccinated_crude",
               "sex", "dob", "cohort", "besd_confb", "besd_intent", "besd_lowac_away", "besd_satis"]


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    out = tmp_path_factory.mktemp("draft")
    draft = draft_project(EXPORT, FORM, out=out)
    write_draft(draft, out)
    return draft, out


def test_the_draft_of_our_own_form_reads_every_child_as_the_shipped_project(drafted):
    draft, out = drafted
    assert draft.open == ()
    shipped = derive_project(load_project(DEMO / "survey.toml")).table.set_index("child_id")
    ours = derive_project(load_project(out / "survey.toml")).table.set_index("child_id")
    assert sorted(ours.index) == sorted(shipped.index)
    for column in CHILD_LEVEL:
        assert ours.loc[shipped.index, column].astype(str).tolist() == shipped[column].astype(str).tolist(), column


def test_the_draft_says_why_and_copies_nothing_of_the_example(drafted):
    draft, out = drafted
    profile = tomllib.loads((out / "profile.toml").read_text(encoding="utf-8"))
    assert profile["columns"]["dob"] == "child/dob" and profile["columns"]["sex"] == "child/sex"
    assert profile["columns"]["caretaker_sex"] == "caretaker/sex"
    assert profile["card"]["dates"]["penta3"] == "card/penta3_date"
    assert profile["recall"]["antigens"]["penta"] == {"ever": "recall/penta", "count": "recall/penta_count",
                                                      "doses": ["penta1", "penta2", "penta3"]}
    assert profile["recall"]["antigens"]["opv0"]["ever"] == "recall/opv_birth"  # the birth dose, asked apart
    assert {"child/name", "caretaker/phone", "hh/gps"} <= set(profile["profile"]["personal"])
    assert 'dob = "child/dob"  # date question' in draft.profile_toml
    survey_text = (out / "survey.toml").read_text(encoding="utf-8")
    survey = tomllib.loads(survey_text)
    shipped = tomllib.loads((DEMO / "survey.toml").read_text(encoding="utf-8"))
    assert "synthetic" not in survey["survey"] and survey["survey"]["name"] != shipped["survey"]["name"]
    assert "labels" not in survey and "Bougouni" not in survey_text


def test_init_on_the_command_line_writes_says_and_refuses_to_overwrite(tmp_path):
    def init(*extra):
        return subprocess.run([sys.executable, "-m", "lqas", "init", "--export", str(EXPORT), "--form", str(FORM),
                               "--out", str(tmp_path), *extra], capture_output=True, text=True, timeout=300)

    first = init()
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "survey.toml").is_file() and (tmp_path / "profile.toml").is_file()
    assert "check: interview_date reads 'today'" in first.stdout
    assert "the draft reads 1153 rows: 1140 children kept" in " ".join(first.stderr.split())
    again = init()
    assert again.returncode == 2 and again.stderr.strip().count("\n") == 0
    assert "survey.toml: already exists; give --overwrite to replace it (the file is then kept as " in again.stderr
    edited = (tmp_path / "profile.toml").read_text(encoding="utf-8") + "# my edit\n"
    (tmp_path / "profile.toml").write_text(edited, encoding="utf-8")
    assert init("--overwrite").returncode == 0
    assert (tmp_path / "profile.toml.previous").read_text(encoding="utf-8") == edited  # never lost


def test_a_second_overwrite_keeps_the_first_copy_too(drafted, tmp_path):
    draft, _ = drafted
    write_draft(draft, tmp_path)
    (tmp_path / "profile.toml").write_text("# edited by hand\n", encoding="utf-8")
    write_draft(draft, tmp_path, overwrite=True)
    write_draft(draft, tmp_path, overwrite=True)
    assert (tmp_path / "profile.toml.previous").read_text(encoding="utf-8") == "# edited by hand\n"
    assert (tmp_path / "profile.toml.previous.2").read_text(encoding="utf-8") == draft.profile_toml

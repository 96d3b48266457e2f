"""Issue 14's bar: a form that is not ours, exported in every shape KoboToolbox and ODK Central write
(tests/foreign_form), read with only its XLSForm and a profile that names columns (no [codes], no
per-option rules), gives for every child the zero-dose, under-immunized and Penta 3 status computed
from the generated answers alone (truth.csv); and `lqas init` drafts that profile."""

import tomllib

import pandas as pd
import pytest
from foreign_form.build import build

from lqas.config import load_project
from lqas.derive import derive_project
from lqas.draft import draft_project, write_draft

# a profile as a user of this form writes it: the questions by their names, nothing else
PROFILE = """
[profile]
required = ["child_id", "catchment", "cluster", "interview_date", "sex", "dob"]
personal = ["telephone", "nom_enfant", "gps"]
free_text = ["remarques"]

[columns]
child_id = "id_enfant"
catchment = "aire_sante"
cluster = "grappe"
household_id = "num_menage"
interview_date = "date_enquete"
submission_time = "_submission_time"
sex = "sexe_enfant"
dob = "date_naissance"
card_seen = "carte_vue"

[card.dates]
bcg = "date_bcg"
penta1 = "date_penta1"
penta2 = "date_penta2"
penta3 = "date_penta3"
opv1 = "date_vpo1"
opv2 = "date_vpo2"
opv3 = "date_vpo3"
mr1 = "date_rr1"

[recall.antigens]
bcg = { ever = "recu_bcg", doses = ["bcg"] }
penta = { ever = "recu_penta", count = "nb_penta", doses = ["penta1", "penta2", "penta3"] }
opv = { ever = "recu_vpo", count = "nb_vpo", doses = ["opv1", "opv2", "opv3"] }
mr = { ever = "recu_rr", doses = ["mr1"] }
"""
SURVEY = """
[survey]
name = "Enquête LQAS commune 6"
[data]
file = "{export}"
profile = "profile.toml"
form = "{form}"
[design]
weights = "equal"
nest = true
[cohorts]
"0-11m" = [0, 364]
"12-23m" = [365, 729]
[lqas]
targets = [{{ indicator = "zero_dose", good = 0.10, bad = 0.25 }}]
"""
SHAPES = {  # export -> its form: CSVs carry no repeat group, so they come from the flat form
    "kobo_labels": "formulaire_plat", "kobo_labels_bom": "formulaire_plat", "kobo_xml": "formulaire_plat",
    "kobo_xml_dash": "formulaire_plat", "kobo_xml_dot": "formulaire_plat", "kobo_labels_xlsx": "formulaire",
    "odk_central": "formulaire_plat", "odk_central_nogroups": "formulaire_plat", "odk_central_split": "formulaire_plat",
    "odk_central_zip": "formulaire"}
REASONS = {"age_over_23_months": "age_out_of_window", "dob_missing": "dob_invalid"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("foreign"))


@pytest.fixture(scope="module")
def truth(built):
    return pd.read_csv(built["truth"], dtype=str).set_index("id_enfant")


def _project(folder, export, form, profile=PROFILE):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profile.toml").write_text(profile, encoding="utf-8")
    (folder / "survey.toml").write_text(SURVEY.format(export=export.as_posix(), form=form.as_posix()),
                                        encoding="utf-8")
    return load_project(folder / "survey.toml")


def _check_against_truth(derived, truth):
    table = derived.table.set_index("child_id")
    kept = truth[truth["excluded"] == "0"]
    assert sorted(table.index) == sorted(kept.index)
    # a child younger than a dose's first day is in none of its denominators (Mali schedule, as WHO's:
    # Penta 1 at 6 weeks, Penta 3 at 14): neither zero-dose nor not below 42 days, and so on
    age = kept["age_days"].astype(int)
    for ours, theirs, first_day in (("zero_dose", "zero_dose", 42), ("ui_dtp1_not_dtp3", "ui", 98),
                                    ("penta3_crude", "penta3", 98)):
        assert (age < first_day).sum() > 0 and table.loc[kept.index[age < first_day], ours].isna().all(), ours
        due = kept.index[age >= first_day]
        got = table.loc[due, ours].astype(int).astype(str)
        assert (got == kept.loc[due, theirs]).all(), (ours, got[got != kept.loc[due, theirs]].head().to_dict())
    assert (table.loc[kept.index, "sex"] == kept["sex"]).all()
    excluded = derived.exclusions.set_index("child_id")["reason"].to_dict()
    assert excluded == {child: REASONS[reason] for child, reason in
                        truth.loc[truth["excluded"] == "1", "exclusion_reason"].items()}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_reads_as_the_truth_with_a_profile_that_only_names_columns(built, truth, tmp_path, shape):
    project = _project(tmp_path, built[shape], built[SHAPES[shape]])
    derived = derive_project(project)
    assert derived.decoding["values_unmatched"] == {}
    _check_against_truth(derived, truth)


def test_labels_are_read_as_labels_and_the_repeat_as_one_row_per_child(built, tmp_path):
    labels = derive_project(_project(tmp_path / "a", built["kobo_labels_bom"], built["formulaire_plat"]))
    assert labels.decoding["headers"] == "labels"
    central = derive_project(_project(tmp_path / "b", built["odk_central"], built["formulaire_plat"]))
    assert (central.decoding["headers"], central.decoding["separator"]) == ("names", "-")
    repeat = derive_project(_project(tmp_path / "c", built["odk_central_zip"], built["formulaire"]))
    assert repeat.decoding["rows"] == "one row per child (repeat group 'enfant')"
    assert repeat.decoding["households_without_children"] == 0


def test_init_drafts_the_profile_a_person_would_write(built, truth, tmp_path):
    draft = draft_project(built["kobo_labels_bom"], built["formulaire_plat"], out=tmp_path)
    write_draft(draft, tmp_path)
    profile = tomllib.loads((tmp_path / "profile.toml").read_text(encoding="utf-8"))
    assert {
        "child_id": "enfant/id_enfant", "household_id": "menage/num_menage", "catchment": "menage/aire_sante",
        "cluster": "menage/grappe", "interview_date": "menage/date_enquete", "sex": "enfant/sexe_enfant",
        "dob": "enfant/date_naissance", "card_seen": "enfant/carte_vue"}.items() <= profile["columns"].items()
    assert profile["card"]["dates"] == {
        "bcg": "enfant/carnet/date_bcg", "penta1": "enfant/carnet/date_penta1", "penta2": "enfant/carnet/date_penta2",
        "penta3": "enfant/carnet/date_penta3", "opv1": "enfant/carnet/date_vpo1", "opv2": "enfant/carnet/date_vpo2",
        "opv3": "enfant/carnet/date_vpo3", "mr1": "enfant/carnet/date_rr1"}
    antigens = profile["recall"]["antigens"]
    assert antigens["penta"] == {"ever": "enfant/rappel/recu_penta", "count": "enfant/rappel/nb_penta",
                                 "doses": ["penta1", "penta2", "penta3"]}
    assert antigens["bcg"]["ever"] == "enfant/rappel/recu_bcg" and antigens["opv"]["count"] == "enfant/rappel/nb_vpo"
    assert {"menage/telephone", "enfant/nom_enfant", "menage/gps"} <= set(profile["profile"]["personal"])
    assert profile["columns"]["CHI_confb"] == "enfant/besd/besd_importance"
    # its answers are words: given BeSD-TI's 1-4 by their order in the form, and the draft says to check it
    assert profile["codes"]["CHI_confb"] == {"pas_important": 1, "peu_important": 2, "moyen_important": 3,
                                             "tres_important": 4}
    assert any("CHI_confb" in item and "by their order in the form" in item for item in draft.check)
    renames = {rule["replacement"] for rule in profile.get("rename", [])}
    assert "CHI_where" not in renames  # a select_multiple is not BeSD's one-answer "where" question
    assert antigens["mr"]["doses"] == ["mr1"]  # a yes without a count says the first dose only
    assert draft.open == ()
    # the drafted profile, with the project's cohorts, reads every child as the truth says
    survey = tomllib.loads((tmp_path / "survey.toml").read_text(encoding="utf-8"))
    assert survey["data"]["form"].endswith("formulaire_plat.xlsx") and "synthetic" not in survey["survey"]
    text = (tmp_path / "survey.toml").read_text(encoding="utf-8").replace(
        '"18w-11m" = [126, 364]', '"0-11m" = [0, 364]')
    (tmp_path / "survey.toml").write_text(text, encoding="utf-8")
    _check_against_truth(derive_project(load_project(tmp_path / "survey.toml")), truth)


@pytest.mark.parametrize(("shape", "column", "status"), [("kobo_xml", "_validation_status",
                                                           "validation_status_not_approved"),
                                                          ("kobo_labels", "_validation_status", "Not Approved"),
                                                          ("odk_central", "ReviewState", "rejected")])
def test_a_submission_the_supervisor_rejected_on_the_server_is_excluded(built, truth, tmp_path, shape, column, status):
    sep = "," if shape.startswith("odk") else ";"
    export = pd.read_csv(built[shape], sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    export.loc[5, column] = status
    changed = tmp_path / built[shape].name
    export.to_csv(changed, sep=sep, index=False, encoding="utf-8")
    derived = derive_project(_project(tmp_path / "p", changed, built["formulaire_plat"]))
    rejected = derived.exclusions[derived.exclusions["reason"] == "rejected_on_server"]
    assert len(rejected) == 1 and rejected["detail"].iloc[0] == f"validation status: {status}"
    assert rejected["source_row"].iloc[0] == 5 + 2  # the spreadsheet row: header is row 1
    assert len(derived.table) + len(derived.exclusions) == len(export)


def test_a_workbook_with_a_notes_sheet_first_is_read_from_the_submissions_sheet(built, truth, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(built["kobo_labels_xlsx"])
    notes = book.create_sheet("Notes", 0)
    notes.append(["Exporté le 16 mars 2026 par la DRS"])
    notes.append(["Ne pas modifier"])
    moved = tmp_path / "export.xlsx"
    book.save(moved)
    _check_against_truth(derive_project(_project(tmp_path / "p", moved, built["formulaire"])), truth)


def test_init_without_the_form_maps_what_names_say_and_leaves_coded_sex_open(built, tmp_path):
    draft = draft_project(built["kobo_xml"], None, out=tmp_path)
    found = {f.key: f.column for f in draft.found}
    assert {"catchment": "menage/aire_sante", "cluster": "menage/grappe", "household_id": "menage/num_menage",
            "child_id": "enfant/id_enfant", "dob": "enfant/date_naissance",
            "interview_date": "menage/date_enquete"}.items() <= found.items()
    assert found["card.dates.penta3"] == "enfant/carnet/date_penta3"
    # the sex is coded 1/2 and only the form says which is which
    assert draft.open == ("sex",) and any("without the form" in item for item in draft.check)
    assert "# LEFT OPEN: sex: map it by hand" in draft.profile_toml


def test_a_profile_that_maps_no_catchment_is_one_line_not_a_traceback(built, tmp_path):
    from lqas.errors import InputError

    profile = PROFILE.replace('catchment = "aire_sante"\n', "").replace('"catchment", ', "")
    with pytest.raises(InputError, match=r"kobo_xml.csv: the mapping profile reads no catchment: map it in the "
                                         r"profile's \[columns\]"):
        derive_project(_project(tmp_path, built["kobo_xml"], built["formulaire_plat"], profile=profile))


def test_answers_of_the_households_sheet_that_match_no_choice_are_counted(built, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(built["kobo_labels_xlsx"])
    households = book.worksheets[0]
    column = next(cell.column for cell in households[1] if cell.value == "Aire de santé")
    households.cell(row=2, column=column, value="Aire de santé de Banankabougou")
    changed = tmp_path / "export.xlsx"
    book.save(changed)
    derived = derive_project(_project(tmp_path / "p", changed, built["formulaire"]))
    assert derived.decoding["values_unmatched"] == {"menage/aire_sante": {"Aire de santé de Banankabougou": 1}}


def test_a_misspelt_column_of_the_profile_is_said_not_ignored(built, tmp_path):
    import subprocess
    import sys

    profile = PROFILE.replace('card_seen = "carte_vue"', 'card_seen = "enfant/carte_vu"')
    _project(tmp_path, built["kobo_xml"], built["formulaire_plat"], profile=profile)
    result = subprocess.run([sys.executable, "-m", "lqas", "validate", str(tmp_path / "survey.toml")], check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ("lqas: warning: " in result.stderr and "the profile maps columns the export does not have (left empty): "
            "card_seen = 'enfant/carte_vu'; did you mean 'enfant/carte_vue'?" in result.stderr)

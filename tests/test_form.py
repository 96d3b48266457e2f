"""The questionnaire behind an export, read from its XLSForm through pyxform (lqas.form)."""

import pytest
from conftest import REPO
from openpyxl import Workbook

from lqas.errors import InputError
from lqas.form import read_form


def _xlsform(path, survey, choices, settings=None):
    book = Workbook()
    book.remove(book.active)
    for name, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        if rows:
            sheet = book.create_sheet(name)
            for row in rows:
                sheet.append(row)
    book.save(path)
    return path


def test_our_form_reads_with_groups_types_and_choices_in_both_languages():
    form = read_form(REPO / "instruments" / "mali_child_survey.xlsx")
    assert form.languages == ("en", "fr")
    district = form["district"]
    assert (district.type, district.path, district.column(), district.column("-")) == (
        "select_one", ("hh",), "hh/district", "hh-district")
    assert district.labels == {"en": "Health district", "fr": "District sanitaire"}
    assert [choice.name for choice in district.choices] == ["bougouni", "segou", "niono"]
    assert form["today"].type == "today" and form["today"].path == ()
    assert sum(q.type == "select_multiple" for q in form.questions) > 0


def test_a_small_form_without_languages_with_a_repeat(tmp_path):
    path = _xlsform(tmp_path / "form.xlsx",
                    [["type", "name", "label"], ["text", "aire", "Aire de santé"],
                     ["begin_repeat", "enfant", "Enfant"], ["select_one sexe", "sexe", "Sexe de l'enfant"],
                     ["date", "ddn", "Date de naissance"], ["end_repeat", "", ""]],
                    [["list_name", "name", "label"], ["sexe", "1", "Masculin"], ["sexe", "2", "Féminin"]])
    form = read_form(path)
    assert form.languages == ("default",)
    sex = form["sexe"]
    assert (sex.type, sex.path, sex.repeat, sex.column()) == ("select_one", ("enfant",), "enfant", "enfant/sexe")
    assert [(c.name, c.labels["default"]) for c in sex.choices] == [("1", "Masculin"), ("2", "Féminin")]
    assert form["ddn"].labels == {"default": "Date de naissance"} and form["aire"].repeat is None


def test_a_file_that_is_not_a_form_is_one_line_naming_it(tmp_path):
    with pytest.raises(InputError, match=r"form\.xlsx: form not found"):
        read_form(tmp_path / "form.xlsx")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(InputError, match=r"broken\.xlsx: not an XLSForm"):
        read_form(broken)
    no_survey = _xlsform(tmp_path / "nosurvey.xlsx", None, [["list_name", "name", "label"], ["a", "1", "x"]])
    with pytest.raises(InputError, match=r"nosurvey\.xlsx: not an XLSForm pyxform can read \(You must have a sheet named "
                                         r"'survey'\.\)"):
        read_form(no_survey)

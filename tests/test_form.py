"""The questionnaire behind an export, read from its XLSForm through pyxform (lqas.form)."""

import pandas as pd
import pytest
from conftest import REPO
from openpyxl import Workbook

from lqas.errors import InputError
from lqas.form import decode_export, read_form
from lqas.readers import read_source


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


# --------------------------------------------------------------------------- an export read through its form

DEMO = REPO / "examples" / "mali_baseline"
FORM = REPO / "instruments" / "mali_child_survey.xlsx"


def _as_labels(frame, form, lang="fr", separator="/"):
    """The demo export ("XML values and headers") rewritten as KoboToolbox's default "Labels" export
    writes it (formpack): headers are labels without groups, split options "<label>/<option label>",
    select_one answers as labels, select_multiple answers as labels joined by spaces."""
    out = []
    for question in form.questions:
        column = question.column()
        label = question.labels.get(lang) or question.name
        by_name = {c.name: c.labels.get(lang, c.name) for c in question.choices}
        if column in frame:
            values = frame[column]
            if question.type == "select_one":
                values = values.map(lambda v: by_name.get(v, v) if isinstance(v, str) else v)
            elif question.type == "select_multiple":
                values = values.map(lambda v: " ".join(by_name.get(t, t) for t in v.split()) if isinstance(v, str)
                                    else v)
            out.append((label, values))
        for choice in question.choices if question.type == "select_multiple" else ():
            if f"{column}/{choice.name}" in frame:
                out.append((f"{label}{separator}{by_name[choice.name]}", frame[f"{column}/{choice.name}"]))
    columns = out + [(c, frame[c]) for c in frame.columns if c.startswith("_")]
    result = pd.concat([values for _, values in columns], axis=1)
    result.columns = [name for name, _ in columns]
    return result


@pytest.fixture(scope="module")
def demo_export():
    return read_source(DEMO / "data" / "mali_baseline_kobo.csv").frame


def test_the_xml_export_reads_through_its_form_unchanged(demo_export):
    decoded = decode_export(demo_export, read_form(FORM))
    assert (decoded.headers, decoded.separator, decoded.unmatched_values) == ("names", "/", {})
    assert decoded.frame.columns.tolist() == demo_export.columns.tolist()
    pd.testing.assert_frame_equal(decoded.frame, demo_export)


@pytest.mark.parametrize("separator", ["-", "."])
def test_other_group_separators_and_no_groups(demo_export, separator):
    form = read_form(FORM)
    renamed = demo_export.rename(columns=lambda c: c.replace("/", separator))
    decoded = decode_export(renamed, form)
    assert (decoded.headers, decoded.separator) == ("names", separator)
    pd.testing.assert_frame_equal(decoded.frame[demo_export.columns], demo_export)
    # ODK Central "remove group names": bare names; a name used in two groups (sex) is told apart by order
    bare = demo_export.rename(columns=lambda c: c if c.startswith("_") else c.split("/", 1)[-1])
    decoded = decode_export(bare, form, list(bare.columns))
    assert decoded.separator is None
    pd.testing.assert_frame_equal(decoded.frame[demo_export.columns], demo_export)


def test_a_labels_export_in_french_or_english_reads_as_the_xml_one(demo_export):
    form = read_form(FORM)
    for lang in ("fr", "en"):
        labelled = _as_labels(demo_export, form, lang)
        decoded = decode_export(labelled, form, list(labelled.columns))
        assert decoded.headers == "labels" and decoded.unmatched_values == {}
        read = [c for c in demo_export.columns if "_gps_" not in c]  # the GPS parts are not rewritten above
        pd.testing.assert_frame_equal(decoded.frame[read], demo_export[read])


def test_two_questions_with_one_label_are_told_apart_by_their_order(tmp_path):
    path = _xlsform(tmp_path / "form.xlsx",
                    [["type", "name", "label"], ["begin_group", "carnet", "Carnet"], ["date", "date_bcg", "BCG"],
                     ["end_group", "", ""], ["begin_group", "rappel", "Rappel"], ["select_one on", "recu_bcg", "BCG"],
                     ["end_group", "", ""]],
                    [["list_name", "name", "label"], ["on", "oui", "Oui"], ["on", "non", "Non"]])
    # as read_source gives an export: Python strings (pandas 3 would make its default string dtype)
    export = pd.DataFrame([["2026-01-05", "Oui"], [None, "Non"]], columns=["BCG", "BCG.1"], dtype=object)
    decoded = decode_export(export, read_form(path), ["BCG", "BCG"])
    assert decoded.frame.to_dict("list") == {"carnet/date_bcg": ["2026-01-05", None], "rappel/recu_bcg": ["oui", "non"]}
    # and with the groups' labels in the header (Kobo's "include groups in headers")
    export.columns = ["Carnet/BCG", "Rappel/BCG"]
    assert decode_export(export, read_form(path)).frame.columns.tolist() == ["carnet/date_bcg", "rappel/recu_bcg"]


def test_answers_matching_no_choice_are_kept_and_counted(demo_export):
    form = read_form(FORM)
    broken = demo_export.copy()
    broken.loc[:2, "child/sex"] = "Inconnu"
    broken.loc[:0, "besd/CHI_lowac"] = "far nowhere"
    decoded = decode_export(broken, form)
    assert decoded.unmatched_values == {"child/sex": {"Inconnu": 3}, "besd/CHI_lowac": {"far nowhere": 1}}
    assert decoded.frame.loc[0, "child/sex"] == "Inconnu"


def test_select_multiple_from_split_columns_only(demo_export):
    form = read_form(FORM)
    options = [c for c in demo_export.columns if c.startswith("besd/CHI_lowac/")]
    only_split = demo_export.drop(columns=["besd/CHI_lowac"])
    only_split[options] = only_split[options].replace({"1": "True", "0": "False"})
    decoded = decode_export(only_split, form)
    pd.testing.assert_series_equal(decoded.frame["besd/CHI_lowac"], demo_export["besd/CHI_lowac"], check_names=False)
    pd.testing.assert_frame_equal(decoded.frame[options], demo_export[options])


# --------------------------------------------------------------------------- ingest through the form

COHORTS = {"18w-11m": (126, 364), "12-23m": (365, 729)}


def _plain_profile(tmp_path):
    """The kobo profile as a user of another form would write it: columns only, by the questions'
    names where they are used once in the form; no [codes], no per-option [[rename]] rules, no
    recall or tick codes."""
    text = (REPO / "instruments" / "profiles" / "kobo.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("[codes]")
    _, _, rest = rest.partition("[card]")
    text = head + "[card]" + rest
    text = text.replace('tick_codes = { yes = 1, no = 0 }\n', "").replace('codes = { yes = 1, no = 0, dk = 0 }\n', "")
    for unique in ("dob", "card_seen", "card_ever", "catchment", "cluster"):
        text = text.replace(f'"child/{unique}"', f'"{unique}"').replace(f'"card/{unique}"', f'"{unique}"')
        text = text.replace(f'"hh/{unique}"', f'"{unique}"')
    assert "[codes]" not in text and "tick_codes" not in text and '"dob"' in text
    path = tmp_path / "plain.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_french_labels_export_reads_with_a_plain_profile_as_the_xml_export_with_ours(tmp_path, demo_export):
    from lqas.ingest import ingest
    from lqas.vaccination import load_schedule

    doses = load_schedule("mali").keys
    expected = ingest(DEMO / "data" / "mali_baseline_kobo.csv", "kobo", cohorts=COHORTS, doses=doses)
    labelled = _as_labels(demo_export, read_form(FORM), "fr")
    export = tmp_path / "export.csv"
    labelled.to_csv(export, sep=";", index=False, encoding="utf-8-sig")
    result = ingest(export, _plain_profile(tmp_path), cohorts=COHORTS, doses=doses, form=FORM)
    assert result.decoding["headers"] == "labels" and result.decoding["values_unmatched"] == {}
    # every column but the households' distances to their clusters: the labels export names Kobo's split GPS
    # columns after the question's label, which [position] does not name
    columns = [c for c in expected.children.columns if c != "gps_km_from_cluster"]
    assert "gps_km_from_cluster" in expected.children.columns
    pd.testing.assert_frame_equal(result.children[columns], expected.children[columns])
    pd.testing.assert_frame_equal(result.exclusions, expected.exclusions)


@pytest.mark.parametrize("source", ["mali", "foreign", "foreign_flat"])
def test_the_xform_reads_as_the_xlsform_it_was_built_from(tmp_path, source):
    """ODK Central keeps the XForm (form.xml): read, it is the same form as pyxform reads the XLSForm."""
    from foreign_form.build import write_xlsform
    from pyxform.xls2xform import convert

    xlsform = FORM if source == "mali" else tmp_path / "form.xlsx"
    if source != "mali":
        write_xlsform(xlsform, flat=source == "foreign_flat")
    xform = tmp_path / "form.xml"
    xform.write_text(convert(xlsform=str(xlsform)).xform, encoding="utf-8")
    assert read_form(xform) == read_form(xlsform)
    assert any(q.repeat for q in read_form(xform).questions) == (source == "foreign")


def test_a_file_that_is_not_an_xform_is_one_line(tmp_path):
    bad = tmp_path / "form.xml"
    bad.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(InputError, match=r"form\.xml: not an XForm"):
        read_form(bad)

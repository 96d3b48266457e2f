"""Tests of the XLSForm instrument and of the synthetic Mali baseline export built against it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from conftest import demo_generator
from pyxform.xls2json import parse_file_to_json
from pyxform.xls2xform import convert

ROOT = Path(__file__).resolve().parents[1]
FORM = ROOT / "instruments" / "mali_child_survey.xlsx"
EXAMPLE = ROOT / "examples" / "mali_baseline"
EXPORT = EXAMPLE / "data" / "mali_baseline_kobo.csv"

GROUPS = ["hh", "caretaker", "child", "card", "recall", "besd", "gender"]
KOBO_METADATA = {"start", "end", "today", "_id", "_uuid", "_submission_time", "_index"}
LANGUAGES = ["English (en)", "Français (fr)"]
DOSES = ["bcg", "opv0", "opv1", "opv2", "opv3", "penta1", "penta2", "penta3", "pcv1", "pcv2", "pcv3",
         "rota1", "rota2", "rota3", "ipv", "mr1", "mr2", "yf", "mena", "malaria1", "malaria2", "malaria3"]
BESD = ["CHI_intent", "CHI_confb", "CHI_confs", "CHI_confh", "CHI_normp", "CHI_normf", "CHI_normr",
        "CHI_normc", "CHI_rechcw", "CHI_recall", "CHI_travel", "CHI_where", "CHI_tookc", "CHI_avail",
        "CHI_afford", "CHI_access", "CHI_lowac", "CHI_lowacother", "CHI_satis", "CHI_quali", "CHI_qualiother"]
XF = "{http://www.w3.org/2002/xforms}"


@pytest.fixture(scope="module")
def form_json():
    return parse_file_to_json(str(FORM), warnings=[])


@pytest.fixture(scope="module")
def fields(form_json):
    """Export path ('card/bcg_date') -> pyxform question dict, for every question of the form."""
    out = {}

    def walk(node, prefix):
        for child in node.get("children", []):
            path = f"{prefix}{child['name']}"
            if child["type"] == "group" and path != "meta":
                walk(child, path + "/")
            elif child["type"] not in ("group", "note"):
                out[path] = child

    walk(form_json, "")
    return out


@pytest.fixture(scope="module")
def choices(form_json):
    return {name: [c["name"] for c in opts] for name, opts in form_json["choices"].items()}


@pytest.fixture(scope="module")
def export():
    return pd.read_csv(EXPORT, dtype=str, keep_default_na=False)


def test_form_converts_without_warnings():
    warnings: list[str] = []
    result = convert(xlsform=str(FORM), warnings=warnings)
    assert warnings == []
    root = ET.fromstring(result.xform)
    data = root.find(f".//{XF}instance/{XF}data")
    assert data.get("id") == "mali_child_survey"
    assert [el.tag.removeprefix(XF) for el in data][:3] == ["start", "end", "today"]
    for group in GROUPS:
        assert data.find(f"{XF}{group}") is not None, group
    card = data.find(f"{XF}card")
    assert {f"{d}_{k}" for d in DOSES for k in ("date", "tick")} <= {el.tag.removeprefix(XF) for el in card}
    besd = [el.tag.removeprefix(XF) for el in data.find(f"{XF}besd")]
    assert besd == BESD


def test_form_is_bilingual_with_french_default(form_json):
    assert form_json["default_language"] == "Français (fr)"

    def labels(node):
        for child in node.get("children", []):
            if child.get("label"):
                yield child["name"], child["label"]
            yield from labels(child)

    for name, label in labels(form_json):
        assert isinstance(label, dict) and all(label.get(lang) for lang in LANGUAGES), name
    for list_name, opts in form_json["choices"].items():
        for opt in opts:
            assert all(opt["label"].get(lang) for lang in LANGUAGES), (list_name, opt["name"])


def test_form_relevance_and_exclusive_options(fields):
    for dose in DOSES:
        assert fields[f"card/{dose}_date"]["bind"]["relevant"] == "${card_seen} = 'yes'", dose
        assert f"${{{dose}_date}} = ''" in fields[f"card/{dose}_tick"]["bind"]["relevant"], dose
    for antigen in ("penta", "malaria"):
        assert fields[f"recall/{antigen}_count"]["bind"]["relevant"] == f"${{{antigen}}} = 'yes'", antigen
    for item in ("CHI_lowac", "CHI_quali"):
        assert "selected(., 'noth')" in fields[f"besd/{item}"]["bind"]["constraint"]


def test_form_besd_codes_are_besd_ti(fields, choices):
    assert choices[fields["besd/CHI_intent"]["list_name"]] == ["1", "2", "3"]
    for item in ("CHI_confb", "CHI_confs", "CHI_confh", "CHI_afford", "CHI_access", "CHI_satis"):
        assert choices[fields[f"besd/{item}"]["list_name"]] == ["1", "2", "3", "4"], item
    for item in ("CHI_normp", "CHI_normf", "CHI_normr", "CHI_normc", "CHI_rechcw", "CHI_recall",
                 "CHI_travel", "CHI_where", "CHI_tookc", "CHI_avail"):
        assert choices[fields[f"besd/{item}"]["list_name"]] == ["0", "1"], item


def test_export_columns_are_form_fields(export, fields):
    multi = [p for p, q in fields.items() if q["type"] == "select all that apply"]
    geo = [p for p, q in fields.items() if q["type"] == "geopoint"]
    derived = set()
    for path in geo:  # Kobo splits a geopoint into four columns next to it
        group, _, name = path.rpartition("/")
        derived |= {f"{group}/_{name}_{k}" for k in ("latitude", "longitude", "altitude", "precision")}
    unknown = [c for c in export.columns
               if c not in KOBO_METADATA and c not in fields and c not in derived
               and not any(c.startswith(m + "/") for m in multi)]
    assert unknown == []
    assert set(fields) - set(export.columns) == set()


def test_export_select_values_are_choice_names(export, fields, choices):
    for path, q in fields.items():
        if q["type"] not in ("select one", "select all that apply"):
            continue
        allowed = set(choices[q["list_name"]])
        values = export[path][export[path] != ""]
        if q["type"] == "select all that apply":
            values = values.str.split(" ").explode()
            for col in [c for c in export.columns if c.startswith(path + "/")]:
                assert col.removeprefix(path + "/") in allowed, col
                assert set(export[col]) <= {"0", "1", ""}, col
        bad = sorted(set(values) - allowed)
        assert bad == [], f"{path}: {bad}"


def test_export_multi_select_split_columns_agree(export):
    for item in ("CHI_lowac", "CHI_quali"):
        col = f"besd/{item}"
        for opt in [c.removeprefix(col + "/") for c in export.columns if c.startswith(col + "/")]:
            answered = export[col] != ""
            picked = export.loc[answered, col].str.split(" ").apply(lambda v: opt in v)
            assert (picked == (export.loc[answered, f"{col}/{opt}"] == "1")).all(), opt
        tokens = export.loc[export[col] != "", col].str.split(" ")
        assert (tokens[tokens.apply(lambda v: "noth" in v)].str.len() == 1).all(), f"{col}: 'noth' not exclusive"


def test_generator_reproduces_committed_csv(tmp_path):
    module = demo_generator()
    module.generate(tmp_path)
    assert (tmp_path / "mali_baseline_kobo.csv").read_bytes() == EXPORT.read_bytes()
    assert (tmp_path / "populations.csv").read_bytes() == (EXAMPLE / "data" / "populations.csv").read_bytes()
    assert (tmp_path / "households.csv").read_bytes() == (EXAMPLE / "data" / "households.csv").read_bytes()
    assert (tmp_path / "logo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    xlsx = pd.read_excel(tmp_path / "mali_baseline_kobo.xlsx", dtype=str)
    assert list(xlsx.columns) == list(pd.read_csv(EXPORT, nrows=0).columns)
    assert len(xlsx) == len(pd.read_csv(EXPORT, dtype=str))


def test_populations_cover_every_lot(export):
    pops = pd.read_csv(EXAMPLE / "data" / "populations.csv")
    assert list(pops.columns) == ["catchment", "cohort", "population"]
    lots = set(zip(export["hh/catchment"], export["child/cohort"].str.replace("_", "-")))
    assert lots == set(zip(pops["catchment"], pops["cohort"]))
    assert pops["population"].between(300, 2500).all()


def test_build_forms_writes_an_xform_for_every_shipped_xlsform(tmp_path):
    from lqas.instrument import build_forms, forms

    written = build_forms(tmp_path)
    assert [path.stem for path in written] == [path.stem for path in forms()] == ["mali_child_survey"]
    root = ET.parse(written[0]).getroot()
    assert root.tag.endswith("html") and b"penta1_date" in written[0].read_bytes()


def test_broken_xlsform_is_a_one_line_input_error(tmp_path):
    from lqas.errors import InputError
    from lqas.instrument import build_forms

    broken = tmp_path / "broken.xlsx"
    pd.DataFrame({"type": ["select_one nowhere"], "name": ["q1"], "label": ["Q?"]}).to_excel(
        broken, sheet_name="survey", index=False)
    with pytest.raises(InputError, match="broken.xlsx: XLSForm does not convert"):
        build_forms(tmp_path / "out", [broken])

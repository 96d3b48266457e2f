"""The fixture itself: its forms compile, each export has the documented shape, and the truth is usable."""

from __future__ import annotations

import csv
import io
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .build import (
    COPY_FIELDS,
    FORM_ID,
    FORM_ID_FLAT,
    FORM_TITLE,
    build,
)

CENTRAL_TAIL = ["KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                "ReviewState", "DeviceID", "Edits", "FormVersion"]
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def timed_build(tmp_path_factory) -> tuple[dict[str, Path], float]:
    out = tmp_path_factory.mktemp("foreign_form")
    started = time.perf_counter()
    files = build(out)
    return files, time.perf_counter() - started


@pytest.fixture(scope="module")
def built(timed_build) -> dict[str, Path]:
    return timed_build[0]


@pytest.fixture(scope="module")
def truth(built) -> list[dict[str, str]]:
    with built["truth"].open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def kobo_rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def central_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_builds_fast_and_names_every_file(built, timed_build):
    assert timed_build[1] < 3
    for key, path in built.items():
        assert path.is_file() and path.stat().st_size > 0, key
    assert {"formulaire", "formulaire_plat", "kobo_labels", "kobo_labels_bom", "kobo_labels_xlsx", "kobo_xml",
            "kobo_xml_dash", "kobo_xml_dot", "odk_central", "odk_central_nogroups", "odk_central_split",
            "odk_central_zip", "truth"} <= set(built)


def test_same_seed_same_bytes(built, tmp_path):
    again = build(tmp_path)
    for key in ("kobo_labels", "kobo_xml", "odk_central", "odk_central_nogroups", "truth"):
        assert again[key].read_bytes() == built[key].read_bytes(), key


def _xform(path: Path) -> str:
    from pyxform.xls2json import parse_file_to_json

    parse_file_to_json(str(path))
    try:
        from pyxform.xls2xform import convert
    except ImportError:  # pyxform < 2.1
        from pyxform.builder import create_survey_from_xls

        return create_survey_from_xls(str(path)).to_xml()
    return convert(xlsform=str(path)).xform


def _central_header_from_xform(xform: str) -> tuple[list[str], dict[str, list[str]]]:
    """What Central would write as headers, worked out from pyxform's XForm alone (not from build.py)."""
    ns = {"x": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(xform)
    model = root.find("h:head/x:model", ns)
    data = model.find("x:instance", ns)[0]
    top = "/" + data.tag.split("}")[-1]
    binds = {b.get("nodeset"): b.get("type") for b in model.findall("x:bind", ns)}
    repeats = {r.get("nodeset") for r in root.iter("{http://www.w3.org/2002/xforms}repeat")}
    tables: dict[str, list[str]] = {"": []}

    def walk(node, path, table):
        seen = set()
        for child in node:
            name = child.tag.split("}")[-1]
            full = f"{path}/{name}"
            if full in seen:
                continue
            seen.add(full)
            if full in repeats:
                tables[name] = []
                walk(child, full, full)
            elif len(child):
                walk(child, full, table)
            else:
                rel = full[len(table or top) + 1:].replace("/", "-")
                head = tables[table.rsplit("/", 1)[-1] if table else ""]
                if binds.get(full) == "geopoint":
                    head += [f"{rel}-{part}" for part in ("Latitude", "Longitude", "Altitude", "Accuracy")]
                else:
                    head.append(rel)

    walk(data, top, "")
    return tables.pop(""), tables


def test_xlsforms_compile_with_pyxform(built):
    repeat = _xform(built["formulaire"])
    flat = _xform(built["formulaire_plat"])
    assert 'repeat nodeset="/data/enfant"' in repeat
    assert "<repeat" not in flat
    assert f'id="{FORM_ID}"' in repeat and f'id="{FORM_ID_FLAT}"' in flat
    for label in ("label::Français (fr)", "label::English (en)"):
        assert label in [c.value for c in load_workbook(built["formulaire"])["survey"][1]]


def test_central_headers_follow_the_xform(built):
    main, _ = _central_header_from_xform(_xform(built["formulaire_plat"]))
    header = central_rows(built["odk_central"].read_bytes())[0]
    assert header == ["SubmissionDate", *main, *CENTRAL_TAIL]
    assert "meta-instanceID" in header and "enfant-carnet-date_penta3" in header

    main, subs = _central_header_from_xform(_xform(built["formulaire"]))
    with zipfile.ZipFile(built["odk_central_zip"]) as archive:
        assert archive.namelist() == [f"{FORM_ID}.csv", f"{FORM_ID}-enfant.csv"]
        root = central_rows(archive.read(f"{FORM_ID}.csv"))
        kids = central_rows(archive.read(f"{FORM_ID}-enfant.csv"))
    assert root[0] == ["SubmissionDate", *main, *CENTRAL_TAIL]
    assert kids[0] == [*subs["enfant"], "PARENT_KEY", "KEY"]
    keys = {row[root[0].index("KEY")] for row in root[1:]}
    for row in kids[1:]:
        parent, key = row[-2], row[-1]
        assert parent in keys and key.startswith(parent + "/enfant[") and key.endswith("]")


def test_kobo_csv_shape(built):
    raw = built["kobo_labels"].read_bytes()
    assert not raw.startswith(BOM)  # kpi encodes the lines as plain UTF-8
    assert built["kobo_labels_bom"].read_bytes() == BOM + raw
    first = raw.split(b"\r\n", 1)[0].decode("utf-8")
    assert first.startswith('"start";"end";"today";"Date de l\'enquête";"Aire de santé";')
    rows = kobo_rows(built["kobo_labels"])
    inside = sum(cell.count("\n") for row in rows for cell in row)
    assert inside and raw.endswith(b"\r\n")
    assert raw.count(b"\n") - raw.count(b"\r\n") == inside  # rows end in CRLF; a bare LF only inside a cell
    assert all(len(row) == len(rows[0]) for row in rows)
    assert first.count('";"') == len(rows[0]) - 1  # every cell quoted
    header = rows[0]
    assert header[-len(COPY_FIELDS) - 1:] == [*COPY_FIELDS, "_index"]
    assert header.count("BCG") == 2  # carnet/date_bcg and rappel/recu_bcg share a label
    assert "Difficultés pour faire vacciner l'enfant/Peur des effets secondaires" in header
    assert "_Coordonnées GPS du ménage_latitude" in header
    for key, sep in (("kobo_xml", "/"), ("kobo_xml_dash", "-"), ("kobo_xml_dot", ".")):
        header = kobo_rows(built[key])[0]
        assert f"enfant{sep}carnet{sep}date_bcg" in header, key
        assert f"enfant{sep}besd{sep}raisons_non_vacc{sep}trop_loin" in header, key
        assert f"menage{sep}_gps_latitude" in header and "gps" in header, key
    area = rows[0].index("Aire de santé")
    places = ("Kalaban", "Sébénikoro", "Niamana", "Sénou", "Missabougou", "Yirimadio")
    assert {row[area] for row in rows[1:]} == {f"Aire de santé de {place}" for place in places}
    sex = rows[0].index("Sexe de l'enfant")
    assert {row[sex] for row in rows[1:]} == {"Masculin", "Féminin"}


def test_central_csv_shape(built):
    raw = built["odk_central"].read_bytes()
    assert not raw.startswith(BOM) and b"\r\n" not in raw
    rows = central_rows(raw)
    header = rows[0]
    assert header[0] == "SubmissionDate" and header[-len(CENTRAL_TAIL):] == CENTRAL_TAIL
    stamps = [row[0] for row in rows[1:]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    multiple = header.index("enfant-besd-raisons_non_vacc")
    assert any(" " in row[multiple] for row in rows[1:])  # names separated by spaces, no split columns
    assert not [h for h in header if "/" in h]
    bare = central_rows(built["odk_central_nogroups"].read_bytes())[0]
    assert "date_penta1" in bare and "gps-Latitude" in bare and "instanceID" in bare
    assert not [h for h in bare if "-" in h and not h.startswith("gps-")]
    split = central_rows(built["odk_central_split"].read_bytes())[0]
    assert "enfant-besd-raisons_non_vacc/trop_loin" in split


def test_row_counts_match_truth(built, truth):
    n = len(truth)
    ids = {row["id_enfant"] for row in truth}
    assert len(ids) == n
    for key in ("kobo_labels", "kobo_xml", "kobo_xml_dash", "kobo_xml_dot"):
        rows = kobo_rows(built[key])
        column = next(i for i, h in enumerate(rows[0]) if h.endswith("id_enfant"))
        assert {row[column] for row in rows[1:]} == ids and len(rows) - 1 == n, key
    for key in ("odk_central", "odk_central_nogroups", "odk_central_split"):
        rows = central_rows(built[key].read_bytes())
        column = next(i for i, h in enumerate(rows[0]) if h.endswith("id_enfant"))
        assert {row[column] for row in rows[1:]} == ids and len(rows) - 1 == n, key
    with zipfile.ZipFile(built["odk_central_zip"]) as archive:
        kids = central_rows(archive.read(f"{FORM_ID}-enfant.csv"))
        households = central_rows(archive.read(f"{FORM_ID}.csv"))
    assert {row[0] for row in kids[1:]} == ids
    assert len(households) - 1 == 120

    book = load_workbook(built["kobo_labels_xlsx"])
    main_sheet, child_sheet = book.worksheets
    assert main_sheet.title == FORM_TITLE[:28] + "..." and child_sheet.title == "enfant"
    children = list(child_sheet.iter_rows(values_only=True))
    assert children[0][-13:-10] == ("_index", "_parent_table_name", "_parent_index")
    assert children[0][-10:] == tuple(f"_submission_{c}" for c in COPY_FIELDS)
    assert {row[0] for row in children[1:]} == ids
    assert {row[-12] for row in children[1:]} == {FORM_TITLE}
    assert main_sheet.max_row - 1 == 120
    dob = children[0].index("Date de naissance")
    assert any(hasattr(row[dob], "year") for row in children[1:])  # typed date cells (the UI default)


def test_truth_is_usable(truth):
    kept = [row for row in truth if row["excluded"] == "0"]
    for column in ("zero_dose", "ui", "penta3"):
        assert sum(int(row[column]) for row in kept) >= 10, column
    for row in truth:
        assert int(row["zero_dose"]) + int(row["ui"]) + int(row["penta3"]) == 1
        assert row["sex"] in ("F", "M") and row["interview_date"].startswith("2026-")
        if row["excluded"] == "0":
            assert 0 <= int(row["age_days"]) <= 729
    assert sorted(row["exclusion_reason"] for row in truth if row["excluded"] == "1") == [
        "age_over_23_months", "dob_missing"]
    assert len({row["child_key"] for row in truth}) == len(truth)

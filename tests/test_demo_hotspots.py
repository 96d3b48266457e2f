"""The demo's small-area model end to end (`lqas run` of examples/mali_followup): the hotspots the generator
planted in areas no survey visited come out first and likely above the threshold, the report shows the
section, the ranking and the maps in both languages, and a boundary file that misses an area is one line.

Expected places come from the generator (AREA_HOTSPOTS, small_area_truth), not from a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FOLLOWUP = REPO / "examples" / "mali_followup"


def lqas(*args: str) -> subprocess.CompletedProcess:
    # the repository first on the path: `python -m lqas` runs the source under test
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "lqas", *args], capture_output=True, text=True, env=env,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The follow-up run in French (CSV, workbook, HTML and PDF) and in English (HTML)."""
    out = {}
    for lang, formats in (("fr", "csv,xlsx,html,pdf"), ("en", "csv,html")):
        folder = tmp_path_factory.mktemp(f"run_{lang}") / "out"
        result = lqas("run", str(FOLLOWUP / "survey.toml"), "--out", str(folder), "--lang", lang, "--formats", formats)
        assert result.returncode == 0, result.stderr
        out[lang] = folder
    return out


def test_the_planted_hotspots_come_first_and_likely_above_the_threshold(runs, generator):
    table = pd.read_csv(runs["fr"] / "small_area.csv")
    truth = generator.small_area_truth()
    assert sorted(table["area"]) == sorted(truth["area"])  # every area of the three districts, once
    assert table["sampled"].sum() == 6 and set(table.loc[table["sampled"], "method"]) == {"eblup"}
    first = table.sort_values("estimate", ascending=False)["area"].head(2)
    assert set(first) == set(generator.AREA_HOTSPOTS)
    hot = table.set_index("area").loc[list(generator.AREA_HOTSPOTS)]
    assert (hot["method"] == "synthetic").all() and (hot["threshold"] == 0.20).all()
    assert (hot["prob_exceeds"] >= 0.8).all() and (hot["rank_low"] == 1).all()
    # the estimates follow the truth across the 39 areas
    joined = truth.set_index("area").join(table.set_index("area"))
    assert joined["zero_dose"].corr(joined["estimate"], method="spearman") > 0.8
    # numbers of children: the areas file's populations times the estimates
    areas = pd.read_csv(FOLLOWUP / "data" / "areas" / "areas.csv").set_index("area")
    pd.testing.assert_series_equal(joined["children"], areas.loc[joined.index, "population_12_23m"]
                                   * joined["estimate"], check_names=False, rtol=1e-12)


def test_the_report_shows_the_section_ranking_and_maps_in_both_languages(runs, generator):
    from lqas.sections import compose

    charts = runs["fr"] / "charts"
    for name in ("small_area_ranking", "small_area_fit", "small_area_map", "small_area_hotspots", "small_area_lqas"):
        assert (charts / f"{name}.svg").is_file() and (charts / f"{name}.png").stat().st_size > 10_000, name
    page = (charts / "small_area_map.html").read_text(encoding="utf-8")
    assert "<script" not in page and "Nampalari" in page and "Manankoro" in page
    for lang, title in (("fr", "Où sont les enfants zéro dose\u202f?"), ("en", "Where are the zero-dose children?")):
        context = json.loads((runs[lang] / "report_context.json").read_text(encoding="utf-8"))
        found = context["small_area"]
        assert found["fit"]["areas_sampled"] == 6 and found["areas"] == 39
        assert set(generator.AREA_HOTSPOTS) <= set(found["likely_hotspots"])
        document = compose(context)
        headings = [b.text for b in document.blocks if b.kind == "heading"]
        assert title in headings
        # Limitations say the 33 areas not sampled are the model's predictions
        items = ["".join(span.text for span in item).replace("\u202f", " ").replace("\u00a0", " ")
                 for b in document.blocks if b.kind == "list" for item in b.items]
        limit = {"fr": "Estimations petites zones : les 33 aires non échantillonnées",
                 "en": "Small-area estimates: the 33 areas not sampled"}[lang]
        assert any(item.startswith(limit) for item in items)
        html = (runs[lang] / "report.html").read_text(encoding="utf-8")
        assert "Nampalari" in html and "small_area_map.html" in html
    # the French PDF has the section, the caution about six sampled areas and the covariates' names
    text = subprocess.run(["pdftotext", "-layout", str(runs["fr"] / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Où sont les enfants zéro dose" in text
    assert "Le modèle repose sur 6 aires échantillonnées" in text
    assert "couverture administrative Penta 1 (DHIS2)" in text


def test_a_boundary_file_missing_an_area_is_one_line_naming_it(tmp_path):
    features = json.loads((FOLLOWUP / "data" / "areas" / "areas.geojson").read_text(encoding="utf-8"))
    features["features"] = [f for f in features["features"] if f["properties"]["area"] not in ("kologo", "pogo")]
    (tmp_path / "areas.geojson").write_text(json.dumps(features), encoding="utf-8")
    project = (FOLLOWUP / "survey.toml").read_text(encoding="utf-8")
    project = project.replace('boundaries = "data/areas/areas.geojson"',
                              f'boundaries = "{(tmp_path / "areas.geojson").as_posix()}"')
    project = project.replace('"data/', f'"{FOLLOWUP.as_posix()}/data/').replace('"../', f'"{FOLLOWUP.as_posix()}/../')
    project = project.replace('mapping = "dhis2_mapping.toml"', f'mapping = "{FOLLOWUP.as_posix()}/dhis2_mapping.toml"')
    project = project.replace('"remarks_reviewed.csv"', f'"{FOLLOWUP.as_posix()}/remarks_reviewed.csv"')
    (tmp_path / "survey.toml").write_text(project, encoding="utf-8")
    result = lqas("run", str(tmp_path / "survey.toml"), "--out", str(tmp_path / "out"), "--formats", "csv")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("lqas: error:") and "areas.geojson" in lines[0]
    assert "kologo" in lines[0] and "pogo" in lines[0]

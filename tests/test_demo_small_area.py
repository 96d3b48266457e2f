"""The demo's health areas for the small-area model (examples/mali_followup/data/areas, written by
examples/mali_baseline/generate.py): every health area of the three districts, sampled or not, with
boundaries that tile each district and covariates known everywhere; the sampled ones are the survey's,
with its populations; the two planted hotspots are there and their covariates reveal them.

Every expected code, number and place is derived from the generator's own constants and functions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FOLLOWUP = REPO / "examples" / "mali_followup"
AREAS = FOLLOWUP / "data" / "areas"
COLUMNS = ["area", "name", "district", "population_12_23m", "admin_penta1", "distance_km", "urban_share"]
COVARIATES = ["admin_penta1", "distance_km", "urban_share"]


@pytest.fixture(scope="module")
def areas() -> pd.DataFrame:
    return pd.read_csv(AREAS / "areas.csv", dtype={"area": str, "name": str, "district": str},
                       keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def features() -> list[dict]:
    collection = json.loads((AREAS / "areas.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    return collection["features"]


@pytest.fixture(scope="module")
def truth(generator) -> pd.DataFrame:
    return generator.small_area_truth()


@pytest.fixture(scope="module")
def rewritten(generator, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("areas")
    generator.small_areas(out)
    return out


def sampled_codes(generator) -> list[str]:
    return [cat[0] for cat in generator.CATCHMENTS]


def ring_area(ring) -> float:
    """The shoelace signed area of a closed ring: positive when counter-clockwise."""
    xy = np.asarray(ring, dtype=float)
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]) / 2)


def test_files_are_what_the_generator_writes(rewritten):
    for name in ("areas.csv", "areas.geojson"):
        assert (AREAS / name).read_bytes() == (rewritten / name).read_bytes(), name


def test_columns_and_no_missing_covariates(areas, generator):
    assert list(areas.columns) == COLUMNS
    assert areas["area"].is_unique and areas["name"].is_unique
    assert not areas[COLUMNS].isna().any().any()
    assert set(areas["district"]) == set(generator.DISTRICTS)
    for column in COVARIATES + ["population_12_23m"]:
        assert pd.api.types.is_numeric_dtype(areas[column]), column
    assert areas["admin_penta1"].between(0.5, 1.1).all()
    assert areas["distance_km"].between(0, 100).all()
    assert areas["urban_share"].between(0, 1).all()
    # lowercase ASCII snake_case codes
    assert areas["area"].str.fullmatch(r"[a-z][a-z0-9_]*").all()


def test_each_district_has_a_dozen_areas_or_more(areas, generator):
    counts = areas.groupby("district").size()
    assert counts.between(12, 15).all(), counts
    unsampled = len(areas) - len(generator.CATCHMENTS)
    assert 30 <= unsampled <= 40


def test_sampled_areas_are_the_survey_s_with_its_populations(areas, generator):
    lots = pd.read_csv(FOLLOWUP / "data" / "populations.csv")
    population = lots[lots["cohort"] == "12-23m"].set_index("catchment")["population"]
    sampled = areas[areas["area"].isin(sampled_codes(generator))].set_index("area")
    assert set(sampled.index) == set(sampled_codes(generator))
    for cat in generator.CATCHMENTS:
        assert sampled.loc[cat[0], "district"] == cat[1]
        assert sampled.loc[cat[0], "population_12_23m"] == population[cat[0]]
        assert sampled.loc[cat[0], "name"] == generator.AREA_NAMES[cat[0]]
    others = areas[~areas["area"].isin(sampled_codes(generator))]
    assert others["population_12_23m"].between(400, 3000).all()


def test_one_feature_per_area(areas, features):
    codes = [feature["properties"]["area"] for feature in features]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(areas["area"])
    by_code = areas.set_index("area")
    for feature in features:
        properties = feature["properties"]
        assert set(properties) == {"area", "name", "district"}
        assert properties["name"] == by_code.loc[properties["area"], "name"]
        assert properties["district"] == by_code.loc[properties["area"], "district"]


def test_polygons_are_closed_counter_clockwise_rings(features):
    for feature in features:
        geometry = feature["geometry"]
        assert geometry["type"] == "Polygon"
        assert len(geometry["coordinates"]) == 1  # an exterior ring, no holes
        ring = geometry["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1], feature["properties"]["area"]
        assert ring_area(ring) > 0, feature["properties"]["area"]
        for lon, lat in ring:  # [lon, lat] in Mali
            assert -12.5 < lon < 4.5 and 10 < lat < 25
            assert round(lon, 4) == lon and round(lat, 4) == lat


def test_sampled_centres_lie_in_their_areas(features, generator):
    rings = {feature["properties"]["area"]: feature["geometry"]["coordinates"][0] for feature in features}
    for cat in generator.CATCHMENTS:
        lat, lon = cat[8], cat[9]
        holding = [code for code, ring in rings.items() if generator.inside(lon, lat, ring)]
        assert holding == [cat[0]]


def test_polygons_are_valid_and_do_not_overlap(features):
    pytest.importorskip("shapely")
    from shapely.geometry import shape
    from shapely.ops import unary_union
    from shapely.validation import explain_validity

    polygons = {feature["properties"]["area"]: shape(feature["geometry"]) for feature in features}
    for code, polygon in polygons.items():
        assert polygon.is_valid, (code, explain_validity(polygon))
    for (a, p), (b, q) in itertools.combinations(polygons.items(), 2):
        assert p.intersection(q).area <= 1e-9, (a, b)
    districts: dict[str, list] = {}
    for feature in features:
        districts.setdefault(feature["properties"]["district"], []).append(polygons[feature["properties"]["area"]])
    for district, parts in districts.items():  # the areas tile their district: one piece, no gap
        union = unary_union(parts)
        assert union.geom_type == "Polygon" and not union.interiors, district
        assert union.area == pytest.approx(sum(p.area for p in parts), rel=1e-9)


def test_truth_covers_every_area(truth, areas):
    assert list(truth.columns) == ["area", "district", "zero_dose"]
    assert truth["area"].tolist() == areas["area"].tolist()
    assert truth["district"].tolist() == areas["district"].tolist()
    assert truth["zero_dose"].between(0, 1, inclusive="neither").all()


def test_sampled_truth_is_the_follow_up_children_s(truth, generator):
    _, _, children, _ = generator.followup_build()
    expected = 1 - generator.expected_coverage(children)["penta1"]
    sampled = truth.set_index("area")["zero_dose"]
    for code in sampled_codes(generator):
        assert sampled[code] == pytest.approx(expected[code], abs=1e-12)


def test_hotspots_are_revealed_by_their_covariates(truth, areas, generator):
    assert len(generator.AREA_HOTSPOTS) == 2
    table = areas.merge(truth, on=["area", "district"])
    hotspots = table[table["area"].isin(generator.AREA_HOTSPOTS)].set_index("area")
    assert set(hotspots["district"]) == {"niono", "bougouni"}
    assert not set(generator.AREA_HOTSPOTS) & set(sampled_codes(generator))
    for code, row in hotspots.iterrows():
        district = table[table["district"] == row["district"]]
        assert row["zero_dose"] >= 0.30, code
        assert row["admin_penta1"] < district["admin_penta1"].median(), code
        assert row["distance_km"] > district["distance_km"].median(), code


def test_other_unsampled_areas_mostly_below_15_percent(truth, generator):
    others = truth[~truth["area"].isin(sampled_codes(generator) + list(generator.AREA_HOTSPOTS))]
    assert (others["zero_dose"] < 0.15).mean() >= 0.8
    assert (others["zero_dose"] < 0.30).all()


def test_covariates_follow_the_model(truth, areas, generator):
    """logit(ZD) = a - b admin + c distance + e, e ~ N(0, ZD_NOISE^2), for every area: the residuals of the
    generator's law are small, and a least-squares fit on the six sampled areas predicts the hotspots."""
    table = areas.merge(truth, on=["area", "district"])
    logit = np.log(table["zero_dose"] / (1 - table["zero_dose"]))
    law = (generator.ZD_INTERCEPT - generator.ZD_ADMIN * table["admin_penta1"]
           + generator.ZD_DISTANCE * table["distance_km"])
    residual = logit - law
    # admin_penta1 is rounded to 3 decimals: ZD_ADMIN x 0.0005 off at most where it was derived from ZD
    assert residual.abs().max() < 4 * generator.ZD_NOISE
    assert residual[table["area"].isin(generator.AREA_HOTSPOTS)].abs().max() <= generator.ZD_ADMIN * 5e-4 + 1e-9
    sampled = table["area"].isin(sampled_codes(generator)).to_numpy()
    X = np.column_stack([np.ones(len(table)), table["admin_penta1"], table["distance_km"]])
    beta = np.linalg.lstsq(X[sampled], logit[sampled], rcond=None)[0]
    assert beta[1] < 0 and beta[2] > 0
    predicted = 1 / (1 + np.exp(-X @ beta))
    hot = table["area"].isin(generator.AREA_HOTSPOTS).to_numpy()
    assert (predicted[hot] >= 0.25).all()

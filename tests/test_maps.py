"""Maps of the small-area estimates (lqas/maps.py, issue 22 item 3): boundaries read from GeoJSON (and a
shapefile through geopandas), the crosswalk of area codes, one-line errors, the choropleth figures (the
class and colour of each area, the words from the caller) and the escaped interactive map."""

from __future__ import annotations

import json
import sys
import types

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from lqas import maps
from lqas.charts import OKABE_ITO
from lqas.errors import InputError
from lqas.readers import normalise_code
from lqas.safety import clean_svg

FR = {"prevalence": "Prévalence zéro dose", "uncertainty": "Largeur de l'intervalle", "points": "pts",
      "sampled": "Aire enquêtée", "model_only": "Estimée par le modèle", "not_estimated": "Non estimée",
      "children": "Enfants zéro dose", "probability": "Probabilité de dépasser {threshold}",
      "lqas_class": "Classe LQAS", "pass": "Acceptable", "fail": "À améliorer", "no_data": "Pas de données",
      "not_classified": "Non classée : non enquêtée"}


def square(x0: float, y0: float, size: float = 0.5, clockwise: bool = False) -> list:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return ring[::-1] if clockwise else ring


def feature(value, geometry: dict, key: str = "area") -> dict:
    return {"type": "Feature", "properties": {key: value, "pop": 1000}, "geometry": geometry}


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def write(tmp_path, features, name: str = "areas.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


@pytest.fixture
def four(tmp_path):
    """Four squares near Ségou (2 × 2), the second named as the file of a district would write it."""
    values = ["kologo", "N'Débougou", "cinzana", "niono"]
    origins = [(-6.5, 13.0), (-6.0, 13.0), (-6.5, 13.5), (-6.0, 13.5)]
    return write(tmp_path, [feature(v, polygon(square(*o))) for v, o in zip(values, origins)])


CODES = ["kologo", "ndebougou", "cinzana", "niono"]
NAMES = {"kologo": "Kologo", "ndebougou": "N'Débougou", "cinzana": "Cinzana Gare", "niono": "Niono Central"}


def table(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({"area": CODES, "sampled": [True, True, False, False],
                          "estimate": [0.12, 0.03, 0.35, np.nan], "ci_low": [0.06, 0.01, 0.20, np.nan],
                          "ci_high": [0.18, 0.09, 0.52, np.nan], "children": [120.0, 15.0, 800.0, np.nan],
                          "prob_exceeds": [0.30, 0.01, 0.95, np.nan],
                          "lqas_class": ["fail", "pass", None, None]})
    return frame.assign(**overrides)


def fills(ax) -> dict:
    """Area code -> the hex colour and hatch of its fill patch in one panel."""
    return {p.lqas_area: (mcolors.to_hex(p.get_facecolor()), p.get_hatch())
            for p in ax.patches if hasattr(p, "lqas_area")}


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def pixel(figure, ax, x: float, y: float) -> str:
    """The colour drawn at the data point (x, y) of ``ax``."""
    FigureCanvasAgg(figure).draw()
    image = np.asarray(figure.canvas.buffer_rgba())
    column, row = ax.transData.transform((x, y))
    return mcolors.to_hex(image[int(image.shape[0] - row), int(column)] / 255)


def error(call) -> str:
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------------ reading


def test_codes_match_exactly_then_in_normalised_form(four):
    bounds = maps.read_boundaries(four, "area", CODES)
    assert list(bounds.areas) == CODES
    assert bounds.values == {"kologo": "kologo", "ndebougou": "N'Débougou", "cinzana": "cinzana", "niono": "niono"}
    (ring,), = bounds.areas["ndebougou"]
    np.testing.assert_array_equal(ring, np.array(square(-6.0, 13.0)))
    assert bounds.bounds == (-6.5, 13.0, -5.5, 14.0) and bounds.extra == ()
    assert bounds.aspect == pytest.approx(1 / np.cos(np.radians(13.5)))
    assert normalise_code("N’DÉBOUGOU") == normalise_code("n'debougou") == "ndebougou"
    assert normalise_code("Bougouni  Est") == normalise_code("bougouni-est") == "bougouni_est"


def test_an_exact_match_is_taken_before_a_normalised_one_and_others_are_kept(tmp_path):
    path = write(tmp_path, [feature("kologo", polygon(square(0, 0))), feature("Kologo", polygon(square(1, 0))),
                            feature(101.0, polygon(square(2, 0))), feature("Lac", polygon(square(3, 0)))])
    bounds = maps.read_boundaries(path, "area", ["Kologo", "101"])
    assert bounds.values == {"Kologo": "Kologo", "101": "101"}  # 101.0 of a numeric column is code 101
    assert bounds.areas["Kologo"][0][0][0, 0] == 1
    assert [value for value, _ in bounds.extra] == ["kologo", "Lac"]


def test_areas_are_found_under_their_display_names(tmp_path):
    path = write(tmp_path, [feature("Pelengana Nord", polygon(square(0, 0)))])
    bounds = maps.read_boundaries(path, "area", ["pel_n"], names={"pel_n": "Pélengana nord"})
    assert bounds.values == {"pel_n": "Pelengana Nord"}


def test_unmatched_areas_are_named_in_one_line(four):
    message = error(lambda: maps.read_boundaries(four, "area", [*CODES, "bougouni_est", "yorosso"]))
    assert message.startswith(f"{four}: no boundary for 2 areas: bougouni_est, yorosso (property 'area'")
    many = [f"area{k:02d}" for k in range(12)]
    message = error(lambda: maps.read_boundaries(four, "area", many))
    assert "no boundary for 12 areas: area00, area01" in message and "area09 and 2 more" in message
    assert "area10" not in message and "the file's other values include: kologo, N'Débougou" in message


def test_two_features_for_one_area_are_an_error_naming_both(tmp_path):
    path = write(tmp_path, [feature("N'Débougou", polygon(square(0, 0))), feature("x", polygon(square(1, 0))),
                            feature("N’DEBOUGOU", polygon(square(2, 0)))])
    message = error(lambda: maps.read_boundaries(path, "area", ["ndebougou"]))
    assert "features 1 and 3" in message and "'ndebougou'" in message
    twice = write(tmp_path, [feature("kologo", polygon(square(0, 0))), feature("kologo", polygon(square(1, 0)))],
                  "twice.geojson")
    assert "features 1 and 2" in error(lambda: maps.read_boundaries(twice, "area", ["kologo"]))


def test_a_missing_key_property_names_the_properties_there_are(four):
    message = error(lambda: maps.read_boundaries(four, "code_as", CODES))
    assert message == f"{four}: no feature has the property 'code_as' (the area code); the features' properties " \
                      "are: area, pop"


def test_files_that_are_not_geojson_polygons_are_refused_in_one_line(tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    assert error(lambda: maps.read_boundaries(broken, "area", ["a"])).startswith(f"{broken}: not valid JSON (line 1")
    single = tmp_path / "single.json"
    single.write_text(json.dumps(feature("a", polygon(square(0, 0)))), encoding="utf-8")
    assert "not a GeoJSON FeatureCollection (found 'Feature'" in error(
        lambda: maps.read_boundaries(single, "area", ["a"]))
    point = write(tmp_path, [feature("a", polygon(square(0, 0))), feature("b", polygon(square(1, 0))),
                             feature("c", {"type": "Point", "coordinates": [1, 2]})], "points.geojson")
    assert error(lambda: maps.read_boundaries(point, "area", ["a"])) == (
        f"{point}: feature 3 is a Point; area boundaries must be Polygon or MultiPolygon geometries")
    projected = write(tmp_path, [feature("a", polygon(square(0, 0))),
                                 feature("b", polygon(square(512345.0, 1398765.0, size=1000)))], "utm.geojson")
    message = error(lambda: maps.read_boundaries(projected, "area", ["a", "b"]))
    assert message.startswith(f"{projected}: feature 2 has the point (512345, 1.39876e+06)")
    assert "coordinates must be longitude/latitude (WGS84)" in message
    assert "unsupported boundary file type '.kml'" in error(
        lambda: maps.read_boundaries(tmp_path / "areas.kml", "area", ["a"]))
    assert error(lambda: maps.read_boundaries(tmp_path / "none.geojson", "area", ["a"])).endswith("file not found")


@pytest.mark.parametrize("name", ["areas.shp", "areas.zip"])
def test_a_shapefile_without_geopandas_says_what_to_do(tmp_path, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "geopandas", None)  # import geopandas now raises ImportError
    path = tmp_path / name
    path.write_bytes(b"\0")
    assert error(lambda: maps.read_boundaries(path, "area", ["a"])) == (
        f"{path}: reading a shapefile needs geopandas (pip install geopandas), or save the boundaries as GeoJSON")


def test_a_shapefile_is_read_through_geopandas_when_installed(tmp_path, monkeypatch):
    collection = {"type": "FeatureCollection",
                  "features": [feature("kologo", {"type": "Polygon", "coordinates": (tuple(map(tuple, square(0, 0))),)})]}
    read = []

    class Frame:
        crs = None
        __geo_interface__ = collection

    fake = types.ModuleType("geopandas")
    fake.read_file = lambda source: read.append(source) or Frame()
    monkeypatch.setitem(sys.modules, "geopandas", fake)
    path = tmp_path / "areas.zip"
    path.write_bytes(b"PK")
    bounds = maps.read_boundaries(path, "area", ["kologo"])
    assert read == [f"zip://{path.resolve()}"] and bounds.bounds == (0, 0, 0.5, 0.5)


def test_multipolygons_and_holes(tmp_path):
    # an area in two parts, the first with a hole wound like its exterior (not as RFC 7946 asks)
    parts = {"type": "MultiPolygon", "coordinates": [[square(0, 0, 3), square(1, 1, 1)], [square(5, 0, 1)]]}
    path = write(tmp_path, [feature("kologo", parts), feature("niono", polygon(square(3, 0, 1)))])
    bounds = maps.read_boundaries(path, "area", ["kologo", "niono"])
    assert [len(p) for p in bounds.areas["kologo"]] == [2, 1] and bounds.bounds == (0, 0, 6, 3)
    frame = pd.DataFrame({"area": ["kologo", "niono"], "sampled": [True, False], "estimate": [0.12, 0.4],
                          "ci_low": [0.1, 0.3], "ci_high": [0.14, 0.5]})
    figure = maps.estimate_maps(bounds, frame, names={}, text=FR, label=False)
    colour = maps.prevalence_classes().colours[2]
    assert pixel(figure, figure.axes[0], 0.5, 0.5) == pixel(figure, figure.axes[0], 5.5, 0.5) == colour
    assert pixel(figure, figure.axes[0], 1.5, 1.5) == "#ffffff"  # the hole is not filled
    assert pixel(figure, figure.axes[0], 4.5, 0.5) == "#ffffff"  # nor the gap between the parts


# ----------------------------------------------------------------------------------------- classes


def test_classes_put_a_value_on_a_break_in_the_class_above():
    prevalence = maps.prevalence_classes(lambda x: f"{100 * x:.0f} %")
    assert prevalence.index([0.0, 0.049, 0.05, 0.1, 0.199, 0.3, -0.01, np.nan]).tolist() == [0, 0, 1, 2, 2, 4, 0, -1]
    assert prevalence.labels == ("< 5 %", "5 % – 10 %", "10 % – 20 %", "20 % – 30 %", "≥ 30 %")
    assert prevalence.colour([np.nan]) == [maps.NOT_ESTIMATED] and len(set(prevalence.colours)) == 5
    width = maps.uncertainty_classes("pts")
    assert width.labels[0] == "< 10 pts" and width.labels[-1] == "≥ 30 pts" and width.index([0.12]).tolist() == [1]
    assert maps.probability_classes().index([0.19, 0.2, 0.5, 0.8]).tolist() == [0, 1, 2, 3]
    assert maps.nice_breaks([3, 40, 90, 160, 230, 410, 600, 880, 1200, 2300]) == (80.0, 200.0, 500.0, 1000.0)
    assert maps.nice_breaks([7, 7, 7]) == () and maps.children_classes([7, 7]).labels == ("7",)


# ----------------------------------------------------------------------------------------- figures


def test_estimate_maps_colour_each_area_by_its_class_and_mark_what_was_sampled(four, tmp_path):
    bounds = maps.read_boundaries(four, "area", CODES)
    figure = maps.estimate_maps(bounds, table(), names=NAMES, text=FR)
    prevalence, spread = maps.prevalence_classes(), maps.uncertainty_classes("pts")
    left, right = (fills(ax) for ax in figure.axes[:2])
    assert left == {"kologo": (prevalence.colours[2], None), "ndebougou": (prevalence.colours[0], None),
                    "cinzana": (prevalence.colours[4], maps.HATCH), "niono": (maps.NOT_ESTIMATED, maps.HATCH)}
    # widths 12, 8 and 32 points
    assert [right[c][0] for c in CODES] == [spread.colours[1], spread.colours[0], spread.colours[4],
                                            maps.NOT_ESTIMATED]
    outlines = [p for p in figure.axes[0].patches if p.get_facecolor()[3] == 0]
    assert sorted(p.get_linewidth() for p in outlines) == [0.35, 0.35, 1.3, 1.3]
    words = texts(figure)
    assert {FR["prevalence"], FR["uncertainty"], FR["sampled"], FR["model_only"], FR["not_estimated"],
            "10 % – 20 %", "< 10 pts"} <= set(words)
    assert "Kologo" in words and "N'Débougou" in words and "Cinzana Gare" not in words  # sampled areas named
    figure.savefig(tmp_path / "x.png")
    assert (tmp_path / "x.png").stat().st_size > 10_000


def test_maps_of_sampled_areas_only_have_no_model_only_key(four, tmp_path):
    bounds = maps.read_boundaries(four, "area", CODES)
    frame = table(sampled=True, estimate=[0.01, 0.07, 0.25, 0.5], ci_low=0.0, ci_high=0.6)
    figure = maps.estimate_maps(bounds, frame, names=NAMES, text=FR, label=False)
    words = texts(figure)
    assert FR["sampled"] in words and FR["model_only"] not in words and FR["not_estimated"] not in words
    assert "Kologo" not in words
    assert all(hatch is None for _, hatch in fills(figure.axes[0]).values())
    figure.savefig(tmp_path / "only.png")
    assert (tmp_path / "only.png").stat().st_size > 0


def test_hotspot_maps_show_numbers_of_children_and_the_probability_of_exceeding(four, tmp_path):
    bounds = maps.read_boundaries(four, "area", CODES)
    figure = maps.hotspot_maps(bounds, table(), names=NAMES, text=FR, threshold=0.2,
                               fmt_percent=lambda x: f"{100 * x:.0f}\u00a0%", fmt_number=lambda x: f"{x:.0f}")
    counts = maps.children_classes([120.0, 15.0, 800.0])
    chances = maps.probability_classes()
    left, right = (fills(ax) for ax in figure.axes[:2])
    assert counts.breaks == (80.0, 300.0) and left["cinzana"][0] == counts.colours[2]
    assert [right[c][0] for c in CODES] == [chances.colours[1], chances.colours[0], chances.colours[3],
                                            maps.NOT_ESTIMATED]
    assert "Probabilité de dépasser 20\u00a0%" in texts(figure) and {"< 80", "80 – 300", "≥ 300"} <= set(texts(figure))
    figure.savefig(tmp_path / "hot.png")
    assert (tmp_path / "hot.png").stat().st_size > 0


def test_the_lqas_class_map_classes_sampled_areas_only(four, tmp_path):
    bounds = maps.read_boundaries(four, "area", CODES)
    frame = table(sampled=[True, True, True, False], lqas_class=["fail", "pass", "no_data", "pass"])
    figure = maps.lqas_class_map(bounds, frame, names=NAMES, text=FR)
    assert fills(figure.axes[0]) == {
        "kologo": (OKABE_ITO["vermillion"].lower(), None), "ndebougou": (OKABE_ITO["bluish_green"].lower(), None),
        "cinzana": (maps.NO_DATA, None), "niono": ("#ffffff", maps.HATCH)}
    assert {"Classe LQAS", "Acceptable", "À améliorer", "Pas de données", "Non classée : non enquêtée"} <= set(
        texts(figure))
    figure.savefig(tmp_path / "class.png")
    assert (tmp_path / "class.png").stat().st_size > 0


def test_the_table_and_the_words_must_fit_the_boundaries(four):
    bounds = maps.read_boundaries(four, "area", CODES[:3])
    assert "no boundary for 1 estimated area: niono" in error(
        lambda: maps.estimate_maps(bounds, table(), names=NAMES, text=FR))
    # an area of the boundaries the table lacks is grey, neither hatched nor outlined as sampled
    figure = maps.estimate_maps(maps.read_boundaries(four, "area", CODES), table().iloc[:3], names=NAMES, text=FR)
    assert fills(figure.axes[0])["niono"] == (maps.NOT_ESTIMATED, None) and FR["not_estimated"] in texts(figure)
    classes = maps.lqas_class_map(maps.read_boundaries(four, "area", CODES), table().iloc[:3], names=NAMES, text=FR)
    assert fills(classes.axes[0])["niono"] == (maps.NOT_ESTIMATED, None)
    with pytest.raises(KeyError, match="'uncertainty'"):
        maps.estimate_maps(bounds, table().iloc[:3], names=NAMES,
                           text={k: v for k, v in FR.items() if k != "uncertainty"})
    with pytest.raises(ValueError, match="'prob_exceeds'"):
        maps.hotspot_maps(bounds, table().iloc[:3].drop(columns="prob_exceeds"), names=NAMES, text=FR, threshold=0.2)


# ------------------------------------------------------------------------------------ interactive map


def test_the_interactive_map_escapes_every_text(four, tmp_path):
    path = write(tmp_path, [*json.loads(four.read_text(encoding="utf-8"))["features"],
                            feature("Lac <b>&", polygon(square(-5.5, 13.0)))], "five.geojson")
    bounds = maps.read_boundaries(path, "area", CODES)
    names = {**NAMES, "kologo": "<script>alert('x')</script> & Co"}
    text = {**FR, "sampled": "Enquêtée <i>"}
    out = maps.interactive_map(bounds, table(), names=names, text=text, threshold=0.2,
                               fmt_percent=lambda x: f"{100 * x:.0f} %")
    assert "<script" not in out and "<i>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co — Enquêtée &lt;i&gt;" in out
    assert "Lac &lt;b&gt;&amp;\nNon estimée" in out
    assert out.startswith('<div class="lqas-map"><svg') and out.endswith("</svg></div>")
    svg = out[len('<div class="lqas-map">'):-len("</div>")]
    assert svg.count("<path") == 5 and svg.count("<title>") == 6
    kologo = next(p for p in svg.split("<path")[1:] if "&amp; Co" in p)
    assert f'fill="{maps.prevalence_classes().colours[2]}"' in kologo and 'stroke-width="1.6"' in kologo
    assert "Prévalence zéro dose: 12 % (6 % – 18 %)\nEnfants zéro dose: 120\nProbabilité de dépasser 20 %: 30 %" \
        in kologo
    niono = next(p for p in svg.split("<path")[1:] if "Niono Central" in p)
    assert f'fill="{maps.NOT_ESTIMATED}"' in niono and "stroke-dasharray" in niono
    # the report's SVG cleaner keeps every area, tooltip and outline
    cleaned = clean_svg(svg)
    assert cleaned.count("<path") == 5 and cleaned.count("<title>") == 6 and "stroke-dasharray" in cleaned
    for word in ("<script", "<style", "<pattern", "href", "url("):
        assert word not in svg
    assert svg.count("http") == 1  # the SVG namespace: nothing is fetched


def test_the_interactive_map_takes_the_threshold_from_the_table(four):
    bounds = maps.read_boundaries(four, "area", CODES)
    out = maps.interactive_map(bounds, table(threshold=0.1), names=NAMES, text=FR)
    assert "Probabilité de dépasser 10 %: 95 %" in out and "{threshold}" not in out
    with pytest.raises(ValueError, match="threshold"):
        maps.interactive_map(bounds, table(), names=NAMES, text=FR)


# ------------------------------------------------------------------------------------ small multiples

# three districts far apart, two areas each (listed in the file south to north), and a lake beside the first
FAR = {"sud_a": (0.0, 0.0), "sud_b": (0.5, 0.0), "centre_a": (4.0, 3.0), "centre_b": (4.0, 3.5),
       "nord_a": (1.0, 6.0), "nord_b": (1.5, 6.0)}
DISTRICTS = {"nord_a": "Nord", "nord_b": "Nord", "centre_a": "Centre", "centre_b": "Centre",
             "sud_a": "Sud", "sud_b": "Sud"}  # the order the figure's rows follow


@pytest.fixture
def far(tmp_path):
    features = [feature(code, polygon(square(*origin))) for code, origin in FAR.items()]
    path = write(tmp_path, [*features, feature("lac", polygon(square(-0.5, 0.0)))], "far.geojson")
    return maps.read_boundaries(path, "area", list(FAR))


# long names, wider than half their district's map: centred on their area, they would stick out of it
LONG_NAMES = {code: f"Centre de santé communautaire de {code.replace('_', ' ').title()}" for code in FAR}


def far_table() -> pd.DataFrame:
    return pd.DataFrame({"area": list(FAR), "sampled": [True, False] * 3,
                         "estimate": [0.12, 0.03, 0.35, 0.22, 0.08, 0.5], "ci_low": 0.0, "ci_high": 0.25,
                         "children": [120.0, 15.0, 800.0, 40.0, 300.0, 70.0],
                         "prob_exceeds": [0.3, 0.01, 0.95, 0.6, 0.1, 0.99],
                         "lqas_class": ["fail", None, "pass", None, "pass", None]})


def group_bounds(codes) -> tuple[float, float, float, float]:
    xs, ys = [FAR[c][0] for c in codes], [FAR[c][1] for c in codes]
    return min(xs), min(ys), max(xs) + 0.5, max(ys) + 0.5


def assert_zoomed(ax, codes) -> None:
    """The map shows exactly the group's areas, its limits within 5 % of the group's bounds around them."""
    assert set(fills(ax)) == set(codes)
    west, south, east, north = group_bounds(codes)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    slack_x, slack_y = 0.05 * (east - west), 0.05 * (north - south)
    assert west - slack_x <= x0 <= west and east <= x1 <= east + slack_x
    assert south - slack_y <= y0 <= south and north <= y1 <= north + slack_y


def labels_inside(figure) -> None:
    """Every area name lies inside the window of its map's axes: no edge cuts it."""
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        box = ax.get_window_extent()
        for t in ax.texts:
            if getattr(t, "lqas_label", False):
                extent = t.get_window_extent(renderer)
                assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, \
                    t.get_text()


@pytest.mark.parametrize("draw", ["estimate", "hotspot"])
def test_far_apart_groups_get_one_row_of_maps_each_zoomed_to_the_group(far, tmp_path, draw):
    names = LONG_NAMES
    call = {"estimate": lambda **kw: maps.estimate_maps(far, far_table(), names=names, text=FR, **kw),
            "hotspot": lambda **kw: maps.hotspot_maps(far, far_table(), names=names, text=FR, threshold=0.2, **kw)}
    single = call[draw]()
    figure = call[draw](groups=DISTRICTS)
    assert len(single.axes) == 2 and len(figure.axes) == 3 * 2   # a row per district, a column per panel
    for row, district in enumerate(["Nord", "Centre", "Sud"]):
        codes = [c for c, d in DISTRICTS.items() if d == district]
        for ax in figure.axes[2 * row:2 * row + 2]:
            assert_zoomed(ax, codes)
        # the row is named once, at its left
        assert [t.get_text() for t in figure.axes[2 * row].texts if t.get_rotation() == 90] == [district]
    # the same classes in every row: an area has the colour it has on the single map
    whole = {**fills(single.axes[0])}
    assert {c: f for ax in figure.axes[0::2] for c, f in fills(ax).items()} == whole
    # the panels' titles once, over the first row; each panel's classes and the shared key once
    words = texts(figure)
    assert [words.count(ax.get_title()) for ax in single.axes] == [1, 1]
    assert len(figure.legends) == 3 and not any(ax.get_legend() for ax in figure.axes)
    assert words.count(FR["sampled"]) == 1 and FR["not_estimated"] in words   # the lake, beside the south
    assert sum(not hasattr(p, "lqas_area") and p.get_facecolor()[3] == 1 and
               mcolors.to_hex(p.get_facecolor()) == maps.NOT_ESTIMATED
               for p in figure.axes[4].patches) == 1   # drawn in the south's maps only
    assert not any(mcolors.to_hex(p.get_facecolor()) == maps.NOT_ESTIMATED and not hasattr(p, "lqas_area")
                   for ax in figure.axes[:4] for p in ax.patches)
    assert figure.get_size_inches()[0] == single.get_size_inches()[0] == maps.WIDTH
    assert figure.get_size_inches()[1] <= maps.MAX_HEIGHT
    labels_inside(figure)
    figure.savefig(tmp_path / "rows.png")


def test_the_lqas_map_puts_far_apart_groups_side_by_side(far, tmp_path):
    figure = maps.lqas_class_map(far, far_table(), names=LONG_NAMES, text=FR, groups=DISTRICTS)
    assert [ax.get_title() for ax in figure.axes] == ["Nord", "Centre", "Sud"]
    for ax in figure.axes:
        assert_zoomed(ax, [c for c, d in DISTRICTS.items() if d == ax.get_title()])
    # one row: the maps side by side, top-aligned
    assert len({round(ax.get_position().y1, 6) for ax in figure.axes}) == 1
    assert texts(figure).count("Classe LQAS") == 1 and len(figure.legends) == 2
    assert tuple(figure.get_size_inches()) == (maps.WIDTH, pytest.approx(figure.get_size_inches()[1]))
    labels_inside(figure)
    figure.savefig(tmp_path / "across.png")
    # four groups: three in the first row, the fourth centred under them
    four_groups = {**DISTRICTS, "sud_b": "Sud-Est"}
    figure = maps.lqas_class_map(far, far_table(), names={}, text=FR, groups=four_groups)
    assert [ax.get_title() for ax in figure.axes] == ["Nord", "Centre", "Sud", "Sud-Est"]
    last = figure.axes[3].get_position()
    assert last.y1 < figure.axes[0].get_position().y0
    assert (last.x0 + last.x1) / 2 == pytest.approx(0.5, abs=0.01)
    assert figure.get_size_inches()[1] <= maps.MAX_HEIGHT


def test_many_groups_shrink_to_fit_a_page(tmp_path):
    codes = [f"d{k}" for k in range(10)]
    path = write(tmp_path, [feature(c, polygon(square(3.0 * k, 0.0))) for k, c in enumerate(codes)], "ten.geojson")
    bounds = maps.read_boundaries(path, "area", codes)
    frame = pd.DataFrame({"area": codes, "sampled": True, "estimate": 0.1, "ci_low": 0.05, "ci_high": 0.2})
    figure = maps.estimate_maps(bounds, frame, names={}, text=FR, groups={c: f"District {c}" for c in codes})
    assert len(figure.axes) == 20 and figure.get_size_inches()[1] <= maps.MAX_HEIGHT + 1e-9


def test_adjacent_groups_share_one_map(four):
    bounds = maps.read_boundaries(four, "area", CODES)
    halves = {"kologo": "Ouest", "cinzana": "Ouest", "ndebougou": "Est", "niono": "Est"}  # the 2 × 2 split in two
    for draw, panels in ((maps.estimate_maps, 2), (maps.lqas_class_map, 1)):
        single = draw(bounds, table(), names=NAMES, text=FR)
        figure = draw(bounds, table(), names=NAMES, text=FR, groups=halves)
        assert len(figure.axes) == len(single.axes) == panels
        assert "Ouest" not in texts(figure) and "Est" not in texts(figure)
        assert set(fills(figure.axes[0])) == set(CODES)
        assert figure.get_size_inches()[0] == maps.WIDTH   # the class map as wide as the others
    # one group only, or no group at all, is one map too
    for groups in ({c: "Ségou" for c in CODES}, {}):
        assert len(maps.estimate_maps(bounds, table(), names=NAMES, text=FR, groups=groups).axes) == 2


def test_areas_without_a_group_form_a_last_group_without_a_name(far):
    partial = {code: district for code, district in DISTRICTS.items() if code != "centre_b"}
    partial["nord_b"] = None   # no district given: the same as missing
    figure = maps.estimate_maps(far, far_table(), names={}, text=FR, groups=partial)
    assert len(figure.axes) == 4 * 2
    assert [set(fills(ax)) for ax in figure.axes[0::2]] == [{"nord_a"}, {"centre_a"}, {"sud_a", "sud_b"},
                                                             {"nord_b", "centre_b"}]
    assert [t.get_text() for ax in figure.axes for t in ax.texts if t.get_rotation() == 90] == ["Nord", "Centre", "Sud"]
    classes = maps.lqas_class_map(far, far_table(), names={}, text=FR, groups=partial)
    assert [ax.get_title() for ax in classes.axes] == ["Nord", "Centre", "Sud", ""]

"""Maps of the small-area estimates (issue 22, item 3): area boundaries read from a file, choropleth
figures and a self-contained interactive map.

:func:`read_boundaries` reads GeoJSON with the standard library (no geographic dependency for the
common case) and a shapefile through geopandas only when it is installed. The areas of the survey are
matched to the file's features through a crosswalk: the key property's value as it is first, then
a normalised form (:func:`normalise_code`), so "N'Débougou" in the file finds the code
``ndebougou``. Every area must find its boundary; features of areas that were not estimated are
kept and drawn grey.

The figures (:func:`estimate_maps`, :func:`hotspot_maps`, :func:`lqas_class_map`) are matplotlib
:class:`~matplotlib.figure.Figure` objects in the style of :mod:`lqas.charts`: classes with fixed
(or data-driven, rounded) breaks rather than a continuous scale, because a reader matches a colour to
a legend entry far better than to a position on a colour bar; colour-blind-safe sequential palettes;
sampled areas outlined thick and black, model-only areas thin and hatched, so that what was measured
and what was modelled stay apart in grey print. Every word comes from the caller's ``text`` (the
report language) and numbers from the caller's formatters. Each area's fill patch carries the
attribute ``lqas_area`` (its code), so a caller or a test can find the colour an area was given.
Given ``groups`` (area -> district, say) whose areas lie far apart, the figures are small multiples,
one map per group zoomed to it, rather than one map mostly empty; every figure is
:data:`lqas.charts.WIDTH` wide, so its text prints at the same size as the others'.

:func:`interactive_map` writes an inline SVG (one ``<path>`` per area with a ``<title>`` tooltip, a
legend) inside a ``<div>``: no script, no library, nothing fetched, every text HTML-escaped; the SVG
uses only what :func:`lqas.safety.clean_svg` keeps.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import textwrap
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from lqas.charts import OKABE_ITO, STYLE, WIDTH, _subplots, _tight
from lqas.errors import InputError
from lqas.readers import normalise_code

Ring = np.ndarray                  # (k, 2): longitude, latitude
Polygon = tuple[Ring, ...]         # the exterior ring, then its holes

GEOJSON_SUFFIXES = (".geojson", ".json")
SHAPEFILE_SUFFIXES = (".shp", ".zip")

# class breaks (fractions; a value equal to a break falls in the class above it)
PREVALENCE_BREAKS = (0.05, 0.10, 0.20, 0.30)
UNCERTAINTY_BREAKS = (0.10, 0.15, 0.20, 0.30)   # width of the interval, drawn in percentage points
PROBABILITY_BREAKS = (0.2, 0.5, 0.8)

# sequential ColorBrewer palettes (readable with colour-vision deficiency and in grey print), one per
# quantity so two panels side by side are not read on one scale
PALETTES = {"prevalence": "YlOrRd", "uncertainty": "Blues", "children": "Purples", "probability": "OrRd"}
NOT_ESTIMATED = "#d9d9d9"
NO_DATA = "#8c8c8c"
CLASS_COLOURS = {"pass": OKABE_ITO["bluish_green"], "fail": OKABE_ITO["vermillion"]}
HATCH_COLOUR = "#a0a0a0"
HATCH = "/////"
SAMPLED_EDGE = {"edgecolor": "#000000", "linewidth": 1.3}
MODEL_EDGE = {"edgecolor": "#606060", "linewidth": 0.35}
OTHER_EDGE = {"edgecolor": "#ffffff", "linewidth": 0.35}
# above this many sampled areas their names would cover the map: they are left out
MAX_LABELS = 30
LABEL_SIZE = 5.5                   # points, the sampled areas' names
LABEL_HALO = 1.8                   # points, the white stroke around them
MAP_STYLE = {**STYLE, "hatch.linewidth": 0.45}
# small multiples (one map per group of areas, ``groups=``): drawn when the groups' bounding boxes
# cover less than this share of the box around them all (most of a single map would be empty)
FACET_SHARE = 0.5
MAX_HEIGHT = 9.5                   # inches: the text height of an A4 page; small multiples are kept within it
FACETS_ACROSS = 3                  # groups side by side in a one-panel figure (the LQAS class map)

TABLE_COLUMNS = ("area", "sampled", "estimate", "ci_low", "ci_high")


def _default_percent(x: float) -> str:
    return f"{100 * x:.0f} %"


def _default_number(x: float) -> str:
    return f"{x:,.0f}"


# --------------------------------------------------------------------------------------- boundaries


@dataclass(frozen=True, eq=False)
class Boundaries:
    """The boundaries of the survey's areas, read by :func:`read_boundaries`.

    Attributes
    ----------
    path : Path
        The file they were read from (named in error messages).
    key : str
        The feature property that holds the area code.
    areas : Mapping
        Area code (as passed to :func:`read_boundaries`, in that order) -> its polygons; a polygon is
        a tuple of rings (the exterior, then holes), each a read-only (k, 2) array of longitude,
        latitude.
    values : Mapping
        Area code -> the key property's value in the file (text), to show how the crosswalk matched.
    extra : tuple of (value, polygons)
        The file's other features (areas without estimates), with their key value as text (None when
        the feature has none); drawn grey, "not estimated".
    bounds : tuple of float
        (min longitude, min latitude, max longitude, max latitude) over every feature.
    """

    path: Path
    key: str
    areas: Mapping[Hashable, tuple[Polygon, ...]]
    values: Mapping[Hashable, str]
    extra: tuple[tuple[str | None, tuple[Polygon, ...]], ...]
    bounds: tuple[float, float, float, float]

    @property
    def aspect(self) -> float:
        """1 / cos(mean latitude): a degree of longitude is that much shorter than one of latitude,
        so the map keeps the shapes (close to equal area at the scale of a country)."""
        return 1 / math.cos(math.radians((self.bounds[1] + self.bounds[3]) / 2))


def _text(value) -> str | None:
    """A property value as the text codes are compared with (None: no value). A whole float (a
    shapefile's numeric code, 101.0) is written as the integer it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _one_line(value) -> str:
    return " ".join(str(value).split())


def _listed(values: Sequence, limit: int = 10) -> str:
    shown = ", ".join(_one_line(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _load_geojson(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: boundary file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the boundary file ({_one_line(exc.strerror or exc)})") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start + 1}); GeoJSON is UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _load_shapefile(path: Path) -> dict:
    """The shapefile (or the zip holding one) as a GeoJSON FeatureCollection, in longitude/latitude."""
    try:
        import geopandas
    except ImportError:
        raise InputError(f"{path}: reading a shapefile needs geopandas (pip install geopandas), "
                         "or save the boundaries as GeoJSON") from None
    if not path.exists():
        raise InputError(f"{path}: boundary file not found")
    source = f"zip://{path.resolve()}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = geopandas.read_file(source)
        # the file says its projection: bring it to longitude/latitude rather than refuse it
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        return dict(frame.__geo_interface__)
    except Exception as exc:  # noqa: BLE001 — GDAL/pyogrio/fiona raise many kinds; all mean "unreadable"
        raise InputError(f"{path}: cannot read the shapefile ({_one_line(exc)})") from None


def _rings(path: Path, number: int, coordinates) -> Polygon:
    """The rings of one GeoJSON polygon as (k, 2) arrays, checked to be longitude/latitude."""
    where = f"{path}: feature {number}"
    # lists in a JSON file, tuples in geopandas' __geo_interface__
    if not isinstance(coordinates, (list, tuple)) or not coordinates:
        raise InputError(f"{where} has an empty or malformed polygon")
    rings = []
    for ring in coordinates:
        try:
            points = np.asarray(ring, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{where}: coordinates are not [longitude, latitude] positions") from None
        if points.ndim != 2 or points.shape[1] < 2:
            raise InputError(f"{where}: coordinates are not [longitude, latitude] positions")
        points = np.ascontiguousarray(points[:, :2])  # an altitude, when given, is not drawn
        if len(points) < 3:
            raise InputError(f"{where}: a ring has {len(points)} point(s); a polygon's ring needs at least 3")
        if not np.isfinite(points).all():
            raise InputError(f"{where}: a coordinate is not a number")
        outside = (np.abs(points[:, 0]) > 180) | (np.abs(points[:, 1]) > 90)
        if outside.any():
            lon, lat = points[np.argmax(outside)]
            raise InputError(f"{where} has the point ({lon:g}, {lat:g}), beyond ±180° longitude or ±90° "
                             "latitude (probably a projected file): coordinates must be longitude/latitude "
                             "(WGS84); reproject it, e.g. ogr2ogr -t_srs EPSG:4326")
        points.setflags(write=False)
        rings.append(points)
    return tuple(rings)


def _polygons(path: Path, number: int, geometry) -> tuple[Polygon, ...]:
    if not isinstance(geometry, Mapping) or "type" not in geometry:
        raise InputError(f"{path}: feature {number} has no geometry")
    kind = geometry["type"]
    if kind == "Polygon":
        return (_rings(path, number, geometry.get("coordinates")),)
    if kind == "MultiPolygon":
        parts = geometry.get("coordinates")
        if not isinstance(parts, (list, tuple)) or not parts:
            raise InputError(f"{path}: feature {number} has an empty MultiPolygon")
        return tuple(_rings(path, number, part) for part in parts)
    raise InputError(f"{path}: feature {number} is a {_one_line(kind)}; area boundaries must be Polygon or "
                     "MultiPolygon geometries")


def _features(path: Path, data) -> list[Mapping]:
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        found = data.get("type") if isinstance(data, Mapping) else type(data).__name__
        raise InputError(f"{path}: not a GeoJSON FeatureCollection (found {_one_line(found)!r} at the top)")
    features = data.get("features")
    if not isinstance(features, (list, tuple)) or not features:
        raise InputError(f"{path}: the FeatureCollection has no features")
    for number, feature in enumerate(features, 1):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise InputError(f"{path}: feature {number} is not a GeoJSON Feature")
    return features


def _claim(path: Path, key: str, wanted: Mapping[Hashable, str], texts: list[str | None],
           form: Callable[[str], str], claimed: dict[int, Hashable], match: dict[Hashable, int]) -> None:
    """Match the codes still without a feature to the features still without a code, comparing the
    text ``wanted`` gives each code with the features' values, both in ``form``; two features for
    one code (or one feature for two codes) is an error."""
    by_form: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        if text is not None and row not in claimed:
            by_form.setdefault(form(text), []).append(row)
    for code, sought in wanted.items():
        if code in match:
            continue
        rows = by_form.get(form(sought), [])
        if len(rows) > 1:
            raise InputError(f"{path}: features {rows[0] + 1} and {rows[1] + 1} ({key} "
                             f"{_one_line(texts[rows[0]])!r} and {_one_line(texts[rows[1]])!r}) are both area "
                             f"{_one_line(code)!r}; keep one feature per area (a MultiPolygon for several parts)")
        if rows:
            row = rows[0]
            if row in claimed:
                raise InputError(f"{path}: feature {row + 1} ({key} {_one_line(texts[row])!r}) matches both area "
                                 f"{_one_line(claimed[row])!r} and area {_one_line(code)!r}")
            claimed[row], match[code] = code, row


def read_boundaries(path: str | Path, key: str, areas: Iterable[Hashable], *,
                    names: Mapping[Hashable, str] | None = None) -> Boundaries:
    """Read the boundaries of ``areas`` from a GeoJSON file or a shapefile.

    Parameters
    ----------
    path : str or Path
        ``.geojson`` / ``.json``: a GeoJSON FeatureCollection of Polygon and MultiPolygon features,
        in longitude/latitude (WGS84, as RFC 7946 requires). ``.shp``, or a ``.zip`` holding one: read
        with geopandas if it is installed (and brought to longitude/latitude when its ``.prj`` names
        another projection).
    key : str
        The feature property that holds the area code.
    areas : iterable
        The area codes the map must show (the ``area`` column of the small-area table).
    names : Mapping, optional
        Area code -> display name. A code that matches no feature is then also looked for under its
        name (normalised), for files that carry names rather than codes.

    Returns
    -------
    Boundaries
        The areas' polygons in the order of ``areas``, the other features, the bounds.

    Notes
    -----
    The crosswalk: each code is first matched to the feature whose ``key`` value, as text and
    stripped, is the code; the codes left are matched in :func:`normalise_code` form (then by their
    display name, when ``names`` is given). Features whose value matches no code are kept in
    ``extra``.

    Raises
    ------
    InputError
        One line naming the file: not found or not JSON; not a FeatureCollection; a feature (numbered
        from 1) that is not a Polygon or MultiPolygon or whose coordinates are not longitude/latitude;
        no feature has the ``key`` property (the properties they have are listed); two features for
        one area; areas without a boundary (up to 10 named, with some of the file's values); a
        shapefile when geopandas is not installed.
    """
    path = Path(path)
    codes = list(dict.fromkeys(areas))
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        data = _load_geojson(path)
    elif suffix in SHAPEFILE_SUFFIXES:
        data = _load_shapefile(path)
    else:
        raise InputError(f"{path}: unsupported boundary file type '{suffix}' (expected .geojson, .json, .shp "
                         "or a .zip holding a shapefile)")
    features = _features(path, data)
    # every geometry checked first: a broken file is reported as such, whatever the codes
    geometries = [_polygons(path, number, feature.get("geometry")) for number, feature in enumerate(features, 1)]
    properties = [feature.get("properties") or {} for feature in features]
    if not any(key in props for props in properties):
        held = list(dict.fromkeys(name for props in properties for name in props))
        raise InputError(f"{path}: no feature has the property '{key}' (the area code); the features' properties "
                         f"are: {_listed(held) if held else 'none'}")
    texts = [_text(props.get(key)) for props in properties]

    claimed: dict[int, Hashable] = {}
    match: dict[Hashable, int] = {}
    as_text = {code: str(code).strip() for code in codes}
    _claim(path, key, as_text, texts, lambda text: text, claimed, match)
    _claim(path, key, as_text, texts, normalise_code, claimed, match)
    if names:  # a file that carries the areas' names rather than their codes
        by_name = {code: str(names[code]) for code in codes if code in names}
        _claim(path, key, by_name, texts, normalise_code, claimed, match)

    unmatched = [code for code in codes if code not in match]
    if unmatched:
        free = list(dict.fromkeys(t for row, t in enumerate(texts) if row not in claimed and t is not None))
        plural = "area" if len(unmatched) == 1 else "areas"
        values = f"the file's other values include: {_listed(free)}" if free else "every feature is matched already"
        raise InputError(f"{path}: no boundary for {len(unmatched)} {plural}: {_listed(unmatched)} (property "
                         f"'{key}'; {values})")

    shapes = {code: geometries[match[code]] for code in codes}
    extra = tuple((texts[row], polygons) for row, polygons in enumerate(geometries) if row not in claimed)
    points = np.concatenate([ring for polygons in geometries for polygon in polygons for ring in polygon])
    low, high = points.min(axis=0), points.max(axis=0)
    return Boundaries(path=path, key=key, areas=shapes, values={code: texts[match[code]] for code in codes},
                      extra=extra, bounds=(float(low[0]), float(low[1]), float(high[0]), float(high[1])))


# ------------------------------------------------------------------------------------------ classes


@dataclass(frozen=True)
class Classes:
    """Binned classes of a map: ``breaks`` (increasing; a value equal to a break is in the class
    above), one label and one colour per class (``len(breaks) + 1`` of each)."""

    breaks: tuple[float, ...]
    labels: tuple[str, ...]
    colours: tuple[str, ...]

    def index(self, values) -> np.ndarray:
        """The class of each value (0 = lowest), -1 for a missing value."""
        values = np.asarray(values, dtype=float)
        return np.where(np.isfinite(values), np.digitize(values, self.breaks), -1)

    def colour(self, values) -> list[str]:
        """The colour of each value's class, :data:`NOT_ESTIMATED` grey for a missing value."""
        return [self.colours[i] if i >= 0 else NOT_ESTIMATED for i in self.index(values)]


def _palette(name: str, n: int) -> tuple[str, ...]:
    # from 0.15, not 0: the palette's lowest colour is nearly white and would read as the blank page
    cmap = matplotlib.colormaps[name]
    stops = [0.55] if n == 1 else np.linspace(0.15, 0.9, n)
    return tuple(matplotlib.colors.to_hex(cmap(stop)) for stop in stops)


def _class_labels(breaks: Sequence[float], fmt: Callable[[float], str], suffix: str = "") -> tuple[str, ...]:
    if not breaks:
        return ()
    middle = [f"{fmt(low)} – {fmt(high)}{suffix}" for low, high in itertools.pairwise(breaks)]
    return (f"< {fmt(breaks[0])}{suffix}", *middle, f"≥ {fmt(breaks[-1])}{suffix}")


def _classes(breaks: Sequence[float], fmt: Callable[[float], str], palette: str, suffix: str = "") -> Classes:
    breaks = tuple(float(b) for b in breaks)
    return Classes(breaks, _class_labels(breaks, fmt, suffix), _palette(palette, len(breaks) + 1))


def prevalence_classes(fmt_percent: Callable[[float], str] = _default_percent,
                       breaks: Sequence[float] = PREVALENCE_BREAKS) -> Classes:
    """The prevalence classes (< 5 %, 5–10 %, 10–20 %, 20–30 %, ≥ 30 % by default), YlOrRd.

    >>> prevalence_classes().index([0.049, 0.05, 0.25, 0.31, float("nan")]).tolist()
    [0, 1, 3, 4, -1]
    """
    return _classes(breaks, fmt_percent, PALETTES["prevalence"])


def uncertainty_classes(points: str, breaks: Sequence[float] = UNCERTAINTY_BREAKS) -> Classes:
    """The classes of the interval's width (``ci_high − ci_low`` as a fraction), labelled in
    percentage points (``points`` is the unit's word, e.g. "pts"), Blues."""
    return _classes(breaks, lambda x: f"{100 * x:.0f}", PALETTES["uncertainty"], f" {points}")


def probability_classes(fmt_percent: Callable[[float], str] = _default_percent,
                        breaks: Sequence[float] = PROBABILITY_BREAKS) -> Classes:
    """The classes of the probability of exceeding the threshold (< 0.2, 0.2–0.5, 0.5–0.8, ≥ 0.8,
    written as percentages), OrRd."""
    return _classes(breaks, fmt_percent, PALETTES["probability"])


def _nice(x: float) -> float:
    """The round number nearest ``x`` among 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ; below 10 the
    nearest whole number (a count of children is labelled without decimals: 2.5 would print as 2)."""
    if x < 10:
        return float(max(1, round(x)))
    scale = 10 ** math.floor(math.log10(x))
    steps = np.array([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
    return float(steps[np.argmin(np.abs(steps * scale - x))] * scale)


def nice_breaks(values, classes: int = 5) -> tuple[float, ...]:
    """Breaks for ``classes`` classes of about as many areas each: the quantiles of the values,
    rounded to round numbers (:func:`_nice`), those that would leave a class empty dropped.

    >>> nice_breaks(np.arange(1, 1001))
    (200.0, 400.0, 600.0, 800.0)
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ()
    breaks: list[float] = []
    classes = min(classes, len(np.unique(values)))  # three areas make at most three classes
    for q in np.quantile(values, np.arange(1, classes) / classes):
        if q <= 0:
            continue
        b = _nice(float(q))
        if values.min() < b <= values.max() and (not breaks or b > breaks[-1]):
            breaks.append(b)
    return tuple(breaks)


def children_classes(values, fmt_number: Callable[[float], str] = _default_number, classes: int = 5) -> Classes:
    """Classes of numbers of children with breaks from the data (:func:`nice_breaks`), Purples; with
    one value only (or all equal), one class named by the range."""
    breaks = nice_breaks(values, classes)
    if breaks:
        return _classes(breaks, fmt_number, PALETTES["children"])
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return Classes((), (), ())
    low, high = finite.min(), finite.max()
    label = fmt_number(low) if low == high else f"{fmt_number(low)} – {fmt_number(high)}"
    return Classes((), (label,), _palette(PALETTES["children"], 1))


# ---------------------------------------------------------------------------------------- drawing


def _needs(text: Mapping[str, str], keys: Iterable[str]) -> None:
    absent = [key for key in keys if key not in text]
    if absent:
        raise KeyError(f"the maps' text has no {', '.join(map(repr, absent))}")


def _table(boundaries: Boundaries, table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The table's rows in the order of the boundaries' areas (NaN rows for areas it lacks), with
    ``status``: "sampled", "model" (estimated by the model only) or "absent" (not in the table)."""
    absent = [c for c in (*TABLE_COLUMNS, *columns) if c not in table.columns]
    if absent:
        raise ValueError(f"the small-area table has no column {', '.join(map(repr, absent))}")
    twice = table["area"][table["area"].duplicated()].tolist()
    if twice:
        raise ValueError(f"the small-area table has area {_one_line(twice[0])!r} twice")
    unknown = [a for a in table["area"] if a not in boundaries.areas]
    if unknown:
        raise InputError(f"{boundaries.path}: no boundary for {len(unknown)} estimated "
                         f"{'area' if len(unknown) == 1 else 'areas'}: {_listed(unknown)} (the boundaries were "
                         "read for other areas)")
    frame = table.set_index("area").reindex(list(boundaries.areas))
    frame["sampled"] = frame["sampled"].eq(True)
    listed = frame.index.isin(table["area"])
    frame["status"] = np.where(frame["sampled"], "sampled", np.where(listed, "model", "absent"))
    return frame


def _ring_path(polygons: Sequence[Polygon]) -> MplPath:
    """One compound path of every ring of the polygons, exteriors counter-clockwise and holes
    clockwise: files do not all follow RFC 7946's winding, and the fill rule needs it."""
    vertices, codes = [], []
    for polygon in polygons:
        for k, ring in enumerate(polygon):
            x, y = ring[:, 0], ring[:, 1]
            signed = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
            ring = ring if (signed > 0) == (k == 0) else ring[::-1]
            vertices.append(ring)
            vertices.append(ring[:1])
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 1) + [MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(vertices), np.concatenate(codes).astype(MplPath.code_type))


def _label_point(polygons: Sequence[Polygon]) -> tuple[float, float]:
    """A point inside the largest polygon for its name: the middle of the widest stretch of the
    polygon on the horizontal through its vertices' mean (inside even for a crescent, where the
    centroid is not)."""
    def area(polygon: Polygon) -> float:
        x, y = polygon[0][:, 0], polygon[0][:, 1]
        return abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2

    largest = max(polygons, key=area)
    y0 = float(largest[0][:, 1].mean())
    crossings = []
    for ring in largest:
        a, b = ring, np.roll(ring, -1, axis=0)
        spans = (a[:, 1] > y0) != (b[:, 1] > y0)
        t = (y0 - a[spans, 1]) / (b[spans, 1] - a[spans, 1])
        crossings.extend(a[spans, 0] + t * (b[spans, 0] - a[spans, 0]))
    crossings = sorted(crossings)
    if len(crossings) < 2:
        return float(largest[0][:, 0].mean()), y0
    pairs = list(zip(crossings[0::2], crossings[1::2]))
    left, right = max(pairs, key=lambda pair: pair[1] - pair[0])
    return (left + right) / 2, y0


def _padded(bounds: tuple[float, float, float, float], share: float = 0.02) -> tuple[float, float, float, float]:
    west, south, east, north = bounds
    pad_x, pad_y = share * max(east - west, 1e-6), share * max(north - south, 1e-6)
    return west - pad_x, south - pad_y, east + pad_x, north + pad_y


def _frame_map(ax: Axes, boundaries: Boundaries, anchor: str = "N") -> None:
    west, south, east, north = _padded(boundaries.bounds)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(boundaries.aspect)
    ax.set_anchor(anchor)  # by default maps top-aligned, legends right under them
    ax.set_axis_off()


def _draw(ax: Axes, boundaries: Boundaries, fills: Mapping[Hashable, str], status: Mapping[Hashable, str],
          names: Mapping[Hashable, str], *, label: bool, anchor: str = "N") -> None:
    """Every feature: the other features grey, each area filled with its colour, model-only areas
    hatched with a thin outline, sampled ones outlined thick (drawn last so no neighbour's thin line
    crosses them), areas absent from the table thin; the sampled areas' names when ``label``.

    Patches are added as artists, not with ``add_patch``: the limits are set from the bounds, and
    updating them patch by patch walks every vertex in Python (seconds for a country's areas)."""
    for _, polygons in boundaries.extra:
        ax.add_artist(PathPatch(_ring_path(polygons), facecolor=NOT_ESTIMATED, zorder=1, **OTHER_EDGE))
    for code, polygons in boundaries.areas.items():
        path = _ring_path(polygons)
        measured = status[code] == "sampled"
        # the hatching takes the patch's edge colour: the fill patch has no outline of its own
        fill = PathPatch(path, facecolor=fills[code], edgecolor=HATCH_COLOUR, linewidth=0,
                         hatch=HATCH if status[code] == "model" else None, zorder=2)
        fill.lqas_area = code
        ax.add_artist(fill)
        ax.add_artist(PathPatch(path, facecolor="none", zorder=4 if measured else 3,
                               **(SAMPLED_EDGE if measured else MODEL_EDGE)))
    if label:
        halo = [patheffects.withStroke(linewidth=LABEL_HALO, foreground="white")]
        for code, polygons in boundaries.areas.items():
            if status[code] == "sampled":
                x, y = _label_point(polygons)
                name = ax.text(x, y, str(names.get(code, code)), fontsize=LABEL_SIZE, ha="center", va="center",
                               zorder=5, path_effects=halo, clip_on=False)
                name.lqas_label = True
    _frame_map(ax, boundaries, anchor)


def _keep_inside(figure: Figure) -> None:
    """Move each sampled area's name that would stick out of its map back inside the map's axes, so
    neither a neighbouring map nor the page's edge cuts it. Done once the layout is final; the
    extent is estimated (DejaVu Sans averages under 0.62 em a character, the halo added), not
    measured, because the report draws the SVG's text with its own, slightly wider, metrics."""
    inch = figure.dpi
    for ax in figure.axes:
        names = [t for t in ax.texts if getattr(t, "lqas_label", False)]
        if not names:
            continue
        ax.apply_aspect()
        box = ax.get_window_extent()
        to_data = ax.transData.inverted()
        for name in names:
            x, y = ax.transData.transform(name.get_position())
            half_w = (0.31 * LABEL_SIZE * len(name.get_text()) + LABEL_HALO) / 72 * inch
            half_h = (0.6 * LABEL_SIZE + LABEL_HALO) / 72 * inch
            x = min(max(x, box.x0 + half_w), box.x1 - half_w) if box.width > 2 * half_w else box.x0 + box.width / 2
            y = min(max(y, box.y0 + half_h), box.y1 - half_h) if box.height > 2 * half_h else y
            name.set_position(tuple(to_data.transform((x, y))))


def _box(polygon_sets: Iterable[Sequence[Polygon]]) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the polygons' exteriors."""
    points = np.concatenate([polygon[0] for polygons in polygon_sets for polygon in polygons])
    low, high = points.min(axis=0), points.max(axis=0)
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def _box_area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _facets(boundaries: Boundaries, groups: Mapping[Hashable, str] | None) -> list[tuple[str, Boundaries]] | None:
    """The small multiples of the maps: (group name, the group's boundaries) per group, or None when
    one map is drawn (no ``groups``, fewer than two groups, or groups so close that their boxes cover
    at least :data:`FACET_SHARE` of the box around them all).

    A group's boundaries hold its areas (in the boundaries' order), the file's other features that
    reach into its box, and its own bounds (so its map is zoomed to it, with its own 1/cos(latitude)
    aspect). Groups come in the order they first appear in ``groups``; areas ``groups`` lacks (or
    maps to nothing: None, NaN, blank) form a last group named "" (drawn without a title)."""
    if groups is None:
        return None
    key = {code: (_text(groups[code]) or "") if code in groups else "" for code in boundaries.areas}
    order = [name for name in dict.fromkeys(_text(name) or "" for name in groups.values()) if name]
    members = {name: [code for code in boundaries.areas if key[code] == name] for name in [*order, ""]}
    members = {name: codes for name, codes in members.items() if codes}
    if len(members) < 2:
        return None
    boxes = {name: _box(boundaries.areas[code] for code in codes) for name, codes in members.items()}
    union = (min(b[0] for b in boxes.values()), min(b[1] for b in boxes.values()),
             max(b[2] for b in boxes.values()), max(b[3] for b in boxes.values()))
    if _box_area(union) <= 0 or sum(map(_box_area, boxes.values())) >= FACET_SHARE * _box_area(union):
        return None
    others = [(value, polygons, _box([polygons])) for value, polygons in boundaries.extra]
    facets = []
    for name, codes in members.items():
        west, south, east, north = _padded(boxes[name])
        near = tuple((value, polygons) for value, polygons, b in others
                     if b[0] <= east and b[2] >= west and b[1] <= north and b[3] >= south)
        facets.append((name, replace(boundaries, areas={code: boundaries.areas[code] for code in codes},
                                     values={code: boundaries.values[code] for code in codes},
                                     extra=near, bounds=boxes[name])))
    return facets


def _key_handles(text: Mapping[str, str], frame: pd.DataFrame, *, others: bool, missing: bool,
                 model_key: str = "model_only", sampled_key: str | None = "sampled") -> list[Patch]:
    """The shared legend: how sampled and model-only areas are drawn, and the grey of areas without
    an estimate (each only when the map has one)."""
    handles = []
    if sampled_key and frame["sampled"].any():
        handles.append(Patch(facecolor="white", label=text[sampled_key], **SAMPLED_EDGE))
    if frame["status"].eq("model").any():
        handles.append(Patch(facecolor="white", edgecolor=HATCH_COLOUR, hatch=HATCH, linewidth=0.6,
                             label=text[model_key]))
    if missing or others or frame["status"].eq("absent").any():
        handles.append(Patch(facecolor=NOT_ESTIMATED, edgecolor="#606060", linewidth=0.4,
                             label=text["not_estimated"]))
    return handles


def _map_height(boundaries: Boundaries, width: float, cap: float) -> float:
    west, south, east, north = boundaries.bounds
    ratio = max(north - south, 1e-9) * boundaries.aspect / max(east - west, 1e-9)
    return float(min(width * ratio, cap))


def _columns(labels: Sequence[str], width: float, fontsize: float, most: int) -> int:
    """How many legend columns fit ``width`` inches: all entries on one row if they fit, else as many
    columns of the widest entry as fit (DejaVu Sans averages about 0.6 em a character; a swatch and
    the spacing take about 0.45 in), at most ``most``."""
    if not labels:
        return 1
    widths = [0.6 * fontsize / 72 * len(label) + 0.45 for label in labels]
    fit = len(labels) if sum(widths) <= width else int(width // max(widths))
    return max(1, min(most, fit))


Panels = Sequence[tuple[str, Classes, Mapping[Hashable, str]]]


def _class_handles(classes: Classes) -> list[Patch]:
    return [Patch(facecolor=colour, edgecolor="#606060", linewidth=0.4, label=name)
            for colour, name in zip(classes.colours, classes.labels)]


CLASS_LEGEND = {"frameon": False, "fontsize": 6.5, "handlelength": 1.6, "handleheight": 1.0, "columnspacing": 1.0}
KEY_LEGEND = {"frameon": False, "fontsize": 7, "handlelength": 1.8, "handleheight": 1.1}


def _key_band(keys: Sequence[Patch], width: float) -> tuple[int, float]:
    """The shared legend's columns and the height (inches) kept for it at the bottom."""
    key_cols = _columns([handle.get_label() for handle in keys], width - 0.2, 7, most=len(keys) or 1)
    return key_cols, (0.12 + 0.2 * math.ceil(len(keys) / key_cols) if keys else 0.05)


def _compose(boundaries: Boundaries, panels: Panels, status: Mapping[Hashable, str], names: Mapping[Hashable, str],
             keys: Sequence[Patch], *, label: bool, facets: Sequence[tuple[str, Boundaries]] | None = None) -> Figure:
    """The figure: one map per panel (title, classes, fill of each area) side by side, each with the
    legend of its classes beneath it, and the shared legend of outlines (``keys``) at the bottom.
    The height follows the map's shape and the legends' rows, so legends never cover a map. Every
    figure is :data:`~lqas.charts.WIDTH` wide, so that its text prints at the size of the others'.
    With ``facets`` (:func:`_facets`), small multiples (:func:`_compose_facets`)."""
    if facets:
        figure = _compose_facets(facets, panels, status, names, keys, label=label)
        _keep_inside(figure)
        return figure
    panel_width = (WIDTH - 0.3) / 2
    map_height = _map_height(boundaries, panel_width, cap=4.2)
    panel_cols = [_columns(classes.labels, panel_width, 6.5, most=3) for _, classes, _ in panels]
    panel_rows = max(math.ceil(len(classes.labels) / cols) for (_, classes, _), cols in zip(panels, panel_cols))
    key_cols, bottom = _key_band(keys, WIDTH)
    # a title wider than its map is broken on spaces (8 pt DejaVu Sans: about 50 characters to a panel)
    titles = [textwrap.fill(title, 50) or title for title, _, _ in panels]
    title_lines = max(title.count("\n") + 1 for title in titles)
    total = map_height + 0.17 + 0.13 * title_lines + 0.17 * panel_rows + 0.1 + bottom
    figure, axes = _subplots(1, len(panels), figsize=(WIDTH, total), squeeze=False)
    for ax, title, (_, classes, fills), cols in zip(axes[0], titles, panels, panel_cols):
        _draw(ax, boundaries, fills, status, names, label=label)
        ax.set_title(title)
        handles = _class_handles(classes)
        if handles:
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=cols, **CLASS_LEGEND)
    if keys:
        figure.legend(handles=list(keys), loc="lower center", ncol=key_cols, **KEY_LEGEND)
    _tight(figure, rect=(0, bottom / total, 1, 1))
    _keep_inside(figure)
    return figure


def _compose_facets(facets: Sequence[tuple[str, Boundaries]], panels: Panels, status: Mapping[Hashable, str],
                    names: Mapping[Hashable, str], keys: Sequence[Patch], *, label: bool) -> Figure:
    """Small multiples, laid out by hand (inches from the top): each map zoomed to its group.

    Several panels (prevalence and width, say): one row per group, its name at the left, one column
    per panel, the panels' titles over the first row. One panel (the LQAS classes): the groups side
    by side, up to :data:`FACETS_ACROSS` a row, each under its name, the panel's title over all.
    Either way the legend of each panel's classes once, under its column (under all for one panel),
    then the shared legend of outlines; a row's height follows its maps' shape, and the rows shrink
    together to keep the figure within :data:`MAX_HEIGHT`."""
    margin, gap = 0.1, 0.3
    across = len(panels) == 1
    titled = any(name for name, _ in facets)
    key_cols, bottom = _key_band(keys, WIDTH)
    if across:
        cols = min(FACETS_ACROSS, len(facets))
        rows = [list(facets[k:k + cols]) for k in range(0, len(facets), cols)]
        cell = (WIDTH - 2 * margin - gap * (cols - 1)) / cols
        left = margin
        legend_width = WIDTH - 2 * margin
        chars = max(12, int(cell * 72 / (0.62 * 8)))   # a group's name is broken to its map's width
        group_titles = [[textwrap.fill(name, chars) for name, _ in row] for row in rows]
        title = textwrap.fill(panels[0][0], 100) or panels[0][0]
        head = 0.12 + 0.14 * (title.count("\n") + 1)
        heads = [(0.1 + 0.14 * max(t.count("\n") + 1 for t in row) if titled else 0.08) for row in group_titles]
        heights = [max(_map_height(sub, cell, cap=4.2) for _, sub in row) for row in rows]
    else:
        label_width = 0.25 if titled else 0.0
        cell = (WIDTH - 2 * margin - label_width - gap * (len(panels) - 1)) / len(panels)
        left = margin + label_width
        legend_width = cell
        rows = [[facet] for facet in facets]
        titles = [textwrap.fill(title, 50) or title for title, _, _ in panels]
        head = 0.05
        heads = [0.17 + 0.13 * max(t.count("\n") + 1 for t in titles), *[0.15] * (len(rows) - 1)]
        heights = [_map_height(sub, cell, cap=4.2) for _, sub in facets]
    legend_cols = [_columns(classes.labels, legend_width, 6.5, most=3 if not across else len(classes.labels) or 1)
                   for _, classes, _ in panels]
    legend_rows = max(math.ceil(len(classes.labels) / n) for (_, classes, _), n in zip(panels, legend_cols))
    legend = 0.08 + 0.17 * legend_rows
    fixed = head + sum(heads) + legend + bottom + 0.05
    if fixed + sum(heights) > MAX_HEIGHT:
        shrink = max(MAX_HEIGHT - fixed, 0.6 * len(rows)) / sum(heights)
        heights = [h * shrink for h in heights]
    total = fixed + sum(heights)
    figure = Figure(figsize=(WIDTH, total))

    def rect(x: float, top: float, width: float, height: float) -> tuple[float, float, float, float]:
        return x / WIDTH, (total - top - height) / total, width / WIDTH, height / total

    top = head
    for r, (row, row_head, height) in enumerate(zip(rows, heads, heights)):
        top += row_head
        if across:
            start = left + (cols - len(row)) * (cell + gap) / 2   # a short last row is centred
            for k, (_, sub) in enumerate(row):
                ax = figure.add_axes(rect(start + k * (cell + gap), top, cell, height))
                _draw(ax, sub, panels[0][2], status, names, label=label, anchor="N")
                ax.set_title(group_titles[r][k], fontweight="bold")
        else:
            name, sub = row[0]
            for j, (_, _, fills) in enumerate(panels):
                ax = figure.add_axes(rect(left + j * (cell + gap), top, cell, height))
                _draw(ax, sub, fills, status, names, label=label, anchor="C")
                if r == 0:
                    ax.set_title(titles[j])
                if j == 0 and name:
                    chars = max(8, int(height * 72 / (0.62 * 8)))
                    ax.text(-0.03, 0.5, textwrap.fill(name, chars), transform=ax.transAxes, rotation=90,
                            ha="right", va="center", fontweight="bold", fontsize=STYLE["axes.titlesize"])
        top += height
    if across:
        figure.text(0.5, 1 - 0.05 / total, title, ha="center", va="top", fontsize=STYLE["axes.titlesize"])
    legend_top = (legend + bottom) / total
    for j, ((_, classes, _), n) in enumerate(zip(panels, legend_cols)):
        handles = _class_handles(classes)
        if handles:
            centre = 0.5 if across else (left + j * (cell + gap) + cell / 2) / WIDTH
            figure.legend(handles=handles, loc="upper center", bbox_to_anchor=(centre, legend_top), ncol=n,
                          **CLASS_LEGEND)
    if keys:
        figure.legend(handles=list(keys), loc="lower center", ncol=key_cols, **KEY_LEGEND)
    return figure


def _auto_label(frame: pd.DataFrame, label: bool | None) -> bool:
    return bool(frame["sampled"].sum() <= MAX_LABELS) if label is None else label


def estimate_maps(boundaries: Boundaries, table: pd.DataFrame, *, names: Mapping[Hashable, str],
                  text: Mapping[str, str], fmt_percent: Callable[[float], str] = _default_percent,
                  label: bool | None = None, groups: Mapping[Hashable, str] | None = None) -> Figure:
    """Two maps side by side: each area's estimated prevalence (left) and the width of its interval
    (right).

    Parameters
    ----------
    boundaries : Boundaries
        From :func:`read_boundaries` for the table's areas.
    table : DataFrame
        :func:`lqas.small_area.small_area`'s output, one row per area: ``area, sampled, estimate,
        ci_low, ci_high`` (fractions). Areas with a missing value are grey.
    names : Mapping
        Area code -> display name (the labels of sampled areas).
    text : Mapping
        The words, in the report language: ``prevalence`` (left title), ``uncertainty`` (right title),
        ``points`` (the unit of the width, e.g. "pts"), ``sampled``, ``model_only``,
        ``not_estimated`` (the shared legend).
    fmt_percent : callable
        Fraction -> text, for the prevalence classes (default "12 %").
    label : bool, optional
        Write the sampled areas' names; by default when they are at most :data:`MAX_LABELS`.
    groups : Mapping, optional
        Area code -> the name of its group (e.g. its district). When the areas fall in two groups or
        more that lie apart (their bounding boxes cover less than half the box around them all),
        small multiples: one row of maps per group, each zoomed to it and named at its left, the
        legends once at the bottom; the groups in the order they first appear in ``groups``. Areas
        ``groups`` lacks form a last group without a name. Otherwise one map, as without ``groups``.

    Returns
    -------
    Figure
        Prevalence in :func:`prevalence_classes`, width in :func:`uncertainty_classes`; sampled areas
        with a thick black outline, model-only areas thin and hatched.
    """
    _needs(text, ("prevalence", "uncertainty", "points", "sampled", "model_only", "not_estimated"))
    frame = _table(boundaries, table, ())
    estimate = frame["estimate"].to_numpy(float)
    width = frame["ci_high"].to_numpy(float) - frame["ci_low"].to_numpy(float)
    prevalence, spread = prevalence_classes(fmt_percent), uncertainty_classes(text["points"])
    status = frame["status"].to_dict()
    panels = [(text["prevalence"], prevalence, dict(zip(frame.index, prevalence.colour(estimate)))),
              (text["uncertainty"], spread, dict(zip(frame.index, spread.colour(width))))]
    missing = bool(np.isnan(estimate).any() or np.isnan(width).any())
    facets = _facets(boundaries, groups)
    with matplotlib.rc_context(MAP_STYLE):
        keys = _key_handles(text, frame, others=_others(boundaries, facets), missing=missing)
        return _compose(boundaries, panels, status, names, keys, label=_auto_label(frame, label), facets=facets)


def _others(boundaries: Boundaries, facets: Sequence[tuple[str, Boundaries]] | None) -> bool:
    """Whether the figure draws features of the file outside the table."""
    return any(sub.extra for _, sub in facets) if facets else bool(boundaries.extra)


def _probability_title(title: str, threshold: float | None, fmt_percent: Callable[[float], str]) -> str:
    """``{threshold}`` in the caller's title becomes the threshold, formatted."""
    return title.replace("{threshold}", fmt_percent(threshold)) if threshold is not None else title


def hotspot_maps(boundaries: Boundaries, table: pd.DataFrame, *, names: Mapping[Hashable, str],
                 text: Mapping[str, str], threshold: float,
                 fmt_percent: Callable[[float], str] = _default_percent,
                 fmt_number: Callable[[float], str] = _default_number, label: bool | None = None,
                 groups: Mapping[Hashable, str] | None = None) -> Figure:
    """Two maps side by side: the estimated number of zero-dose children in each area (left) and the
    probability that its prevalence exceeds ``threshold`` (right).

    Parameters
    ----------
    boundaries, names, label, groups : as :func:`estimate_maps`
    table : DataFrame
        :func:`lqas.small_area.small_area`'s output with ``children`` (run with ``population``) and
        ``prob_exceeds`` (run with ``threshold``).
    text : Mapping
        ``children`` (left title), ``probability`` (right title; ``{threshold}`` in it is replaced by
        the formatted threshold), ``sampled``, ``model_only``, ``not_estimated``.
    threshold : float
        The prevalence threshold of ``prob_exceeds`` (a fraction), for the title.
    fmt_percent, fmt_number : callable
        Fraction -> text (probability classes), number -> text (children classes).

    Returns
    -------
    Figure
        Children in :func:`children_classes` (breaks from the data), probability in
        :func:`probability_classes`.
    """
    _needs(text, ("children", "probability", "sampled", "model_only", "not_estimated"))
    frame = _table(boundaries, table, ("children", "prob_exceeds"))
    children = frame["children"].to_numpy(float)
    probability = frame["prob_exceeds"].to_numpy(float)
    counts, chances = children_classes(children, fmt_number), probability_classes(fmt_percent)
    status = frame["status"].to_dict()
    panels = [(text["children"], counts, dict(zip(frame.index, counts.colour(children)))),
              (_probability_title(text["probability"], threshold, fmt_percent), chances,
               dict(zip(frame.index, chances.colour(probability))))]
    missing = bool(np.isnan(children).any() or np.isnan(probability).any())
    facets = _facets(boundaries, groups)
    with matplotlib.rc_context(MAP_STYLE):
        keys = _key_handles(text, frame, others=_others(boundaries, facets), missing=missing)
        return _compose(boundaries, panels, status, names, keys, label=_auto_label(frame, label), facets=facets)


def lqas_class_map(boundaries: Boundaries, table: pd.DataFrame, *, names: Mapping[Hashable, str],
                   text: Mapping[str, str], label: bool | None = None,
                   groups: Mapping[Hashable, str] | None = None) -> Figure:
    """One map: the LQAS class of each sampled area; model-only areas are not classified (white,
    hatched).

    Parameters
    ----------
    boundaries, names, label : as :func:`estimate_maps`
    groups : Mapping, optional
        As :func:`estimate_maps`, but the groups' maps side by side, up to three a row, each under its
        name.
    table : DataFrame
        The small-area table with ``lqas_class`` ("pass", "fail", anything else or missing: no data).
    text : Mapping
        ``lqas_class`` (title), ``pass``, ``fail``, ``no_data`` (the classes), ``not_classified``
        (model-only areas, e.g. "not classified: not sampled"), ``not_estimated`` (features of the
        file outside the table).

    Returns
    -------
    Figure
        Pass in Okabe-Ito bluish green, fail in vermillion, no data grey.
    """
    _needs(text, ("lqas_class", "pass", "fail", "no_data", "not_classified", "not_estimated"))
    frame = _table(boundaries, table, ("lqas_class",))
    status = frame["status"].to_dict()
    fills = {code: CLASS_COLOURS.get(frame.at[code, "lqas_class"], NO_DATA) if state == "sampled"
             else "white" if state == "model" else NOT_ESTIMATED for code, state in status.items()}
    present = {fill for code, fill in fills.items() if status[code] == "sampled"}
    classes = [(colour, text[name]) for name, colour in (*CLASS_COLOURS.items(), ("no_data", NO_DATA))
               if colour in present or name in CLASS_COLOURS]
    legend = Classes((), tuple(name for _, name in classes), tuple(colour for colour, _ in classes))
    facets = _facets(boundaries, groups)
    with matplotlib.rc_context(MAP_STYLE):
        keys = _key_handles(text, frame, others=_others(boundaries, facets), missing=False,
                            model_key="not_classified", sampled_key=None)
        return _compose(boundaries, [(text["lqas_class"], legend, fills)], status, names, keys,
                        label=_auto_label(frame, label), facets=facets)


# ---------------------------------------------------------------------------------- interactive map


def _svg_path(polygons: Sequence[Polygon], project: Callable[[np.ndarray], np.ndarray]) -> str:
    """SVG path data of the polygons (even-odd filled, so the rings' winding does not matter),
    rounded to 0.1 unit with repeated points dropped: detail below the drawing's resolution is not
    sent to the browser."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = np.round(project(ring), 1)
            keep = np.r_[True, np.any(np.diff(points, axis=0) != 0, axis=1)]
            points = points[keep]
            parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(parts)


def _svg_legend(entries: Sequence[tuple[str, str]], top: float, width: int, pad: float) -> tuple[list[str], float]:
    """Legend entries (swatch attributes, text) in rows from ``top``, in as many columns as the
    longest text allows (a browser's 12-unit sans-serif averages under 0.62 units a character);
    returns the markup and the y under it."""
    if not entries:
        return [], top
    longest = max(len(name) for _, name in entries)
    column = 24 + 0.62 * 12 * longest + 16
    columns = int(max(1, min(len(entries), (width - 2 * pad) // column)))
    row_height, markup = 20, []
    for k, (swatch, name) in enumerate(entries):
        x = pad + (k % columns) * (width - 2 * pad) / columns
        y = top + (k // columns) * row_height
        markup.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="18" height="12" {swatch}/>'
                      f'<text x="{x + 24:.0f}" y="{y + 10:.0f}" font-size="12">{_esc(name)}</text>')
    return markup, top + math.ceil(len(entries) / columns) * row_height + 4


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def interactive_map(boundaries: Boundaries, table: pd.DataFrame, *, names: Mapping[Hashable, str],
                    text: Mapping[str, str], fmt_percent: Callable[[float], str] = _default_percent,
                    fmt_number: Callable[[float], str] = _default_number, threshold: float | None = None,
                    width: int = 800) -> str:
    """A self-contained HTML fragment: the prevalence map as an inline SVG, one ``<path>`` per area
    filled with its class colour (:func:`prevalence_classes`) and a ``<title>`` tooltip, and its
    legend. No script, no library, nothing fetched; the SVG is made only of what
    :func:`lqas.safety.clean_svg` keeps.

    Parameters
    ----------
    boundaries, table, names : as :func:`estimate_maps`
        ``children`` and ``prob_exceeds`` join the tooltip when the table has them.
    text : Mapping
        ``prevalence`` (the title and the tooltip's estimate), ``sampled``, ``model_only``,
        ``not_estimated``; ``children`` and ``probability`` (``{threshold}`` in it replaced) when the
        table has those columns.
    fmt_percent, fmt_number : callable
        Fraction -> text, number -> text.
    threshold : float, optional
        For ``{threshold}`` in ``text["probability"]``; by default the table's ``threshold`` column.
    width : int
        The drawing's width in SVG units (it scales to its container).

    Returns
    -------
    str
        ``<div class="lqas-map"><svg …>…</svg></div>``; every text (names, values, words) escaped.
        Sampled areas have a thick black outline, model-only areas a thin dashed one (hatching
        would need a ``<pattern>``, which clean_svg does not keep).
    """
    frame = _table(boundaries, table, ())
    has_children = "children" in frame and frame["children"].notna().any()
    has_probability = "prob_exceeds" in frame and frame["prob_exceeds"].notna().any()
    _needs(text, ("prevalence", "sampled", "model_only", "not_estimated",
                  *(["children"] if has_children else []), *(["probability"] if has_probability else [])))
    if threshold is None and "threshold" in frame and frame["threshold"].notna().any():
        threshold = float(frame["threshold"].dropna().iloc[0])
    if has_probability and threshold is None and "{threshold}" in text["probability"]:
        raise ValueError("text['probability'] names {threshold}: pass threshold= (or a table with a threshold column)")
    classes = prevalence_classes(fmt_percent)

    west, south, east, north = boundaries.bounds
    pad, aspect = 10.0, boundaries.aspect
    scale = (width - 2 * pad) / max(east - west, 1e-9)
    scale = min(scale, 1.2 * width / max((north - south) * aspect, 1e-9))  # a tall country stays on screen
    map_height = (north - south) * aspect * scale + 2 * pad

    def project(ring: np.ndarray) -> np.ndarray:
        return np.column_stack([pad + (ring[:, 0] - west) * scale, pad + (north - ring[:, 1]) * aspect * scale])

    out = []
    for value, polygons in boundaries.extra:
        tip = f"{value}\n{text['not_estimated']}" if value is not None else text["not_estimated"]
        markup = (f'<path d="{_svg_path(polygons, project)}" fill="{NOT_ESTIMATED}" fill-rule="evenodd" '
                  f'stroke="#ffffff" stroke-width="0.5"><title>{_esc(tip)}</title></path>')
        out.append((0, markup))
    probability_word = _probability_title(text.get("probability", ""), threshold, fmt_percent)
    for code, polygons in boundaries.areas.items():
        row = frame.loc[code]
        measured = row["status"] == "sampled"
        state = {"sampled": text["sampled"], "model": text["model_only"]}.get(row["status"], text["not_estimated"])
        lines = [f"{names.get(code, code)} — {state}"]
        if _finite(row["estimate"]):
            interval = (f" ({fmt_percent(row['ci_low'])} – {fmt_percent(row['ci_high'])})"
                        if _finite(row["ci_low"]) and _finite(row["ci_high"]) else "")
            lines.append(f"{text['prevalence']}: {fmt_percent(row['estimate'])}{interval}")
        elif row["status"] != "absent":
            lines.append(text["not_estimated"])
        if has_children and _finite(row["children"]):
            lines.append(f"{text['children']}: {fmt_number(row['children'])}")
        if has_probability and _finite(row["prob_exceeds"]):
            lines.append(f"{probability_word}: {fmt_percent(row['prob_exceeds'])}")
        fill = classes.colour([row["estimate"]])[0]
        stroke = ('stroke="#000000" stroke-width="1.6"' if measured
                  else 'stroke="#606060" stroke-width="0.6" stroke-dasharray="3 2"' if row["status"] == "model"
                  else 'stroke="#606060" stroke-width="0.6"')
        markup = (f'<path d="{_svg_path(polygons, project)}" fill="{fill}" fill-rule="evenodd" {stroke}>'
                  f'<title>{_esc(chr(10).join(lines))}</title></path>')
        out.append((2 if measured else 1, markup))
    # sampled areas last: their thick outline is not covered by a neighbour's
    paths = [markup for _, markup in sorted(out, key=lambda item: item[0])]

    bins = [(f'fill="{colour}" stroke="#606060" stroke-width="0.5"', name)
            for colour, name in zip(classes.colours, classes.labels)]
    keys = []
    if frame["sampled"].any():
        keys.append(('fill="#ffffff" stroke="#000000" stroke-width="1.6"', text["sampled"]))
    if frame["status"].eq("model").any():
        keys.append(('fill="#ffffff" stroke="#606060" stroke-width="0.6" stroke-dasharray="3 2"', text["model_only"]))
    if frame["estimate"].isna().any() or boundaries.extra:
        keys.append((f'fill="{NOT_ESTIMATED}" stroke="#606060" stroke-width="0.5"', text["not_estimated"]))
    heading = (f'<text x="{pad:g}" y="{map_height + 16:.0f}" font-size="13" font-weight="bold">'
               f'{_esc(text["prevalence"])}</text>')
    legend, y = [heading], map_height + 30
    for entries in (bins, keys):  # the classes, then the outlines, each group in columns its longest text fits
        markup, y = _svg_legend(entries, y, width, pad)
        legend.extend(markup)
    height = y + 4
    return (f'<div class="lqas-map"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
            f'width="100%" font-family="DejaVu Sans, Arial, sans-serif">'
            f'<title>{_esc(text["prevalence"])}</title>{"".join(paths)}{"".join(legend)}</svg></div>')

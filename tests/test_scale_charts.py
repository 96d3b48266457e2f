"""Charts drawn by a level above the catchment (a national survey draws its districts, not its
1,800 catchments): the rows drawn are the districts' own estimates, not their catchments' or strata's."""

import itertools

import numpy as np
import pandas as pd
import pytest

from lqas import charts

DISTRICTS = {"d1": "Bougouni", "d2": "Niono"}
CATCHMENTS = {"c1": ("d1", "Kologo"), "c2": ("d1", "Bougouni Est"), "c3": ("d2", "N'Débougou")}
COHORTS = {"18w-11m": "18 semaines–11 mois", "12-23m": "12–23 mois"}
TEXT = {"girls": "Filles", "boys": "Garçons", "percent_axis": "Pourcentage d'enfants (IC à 95 %)",
        "all_catchments": "Toutes les aires de santé"}


@pytest.fixture
def estimates():
    """Estimates as a run makes them: a catchment's rows name its district, a district's rows have
    catchment 'all'; every geography also by area (a stratifier) and by sex, each row its own value."""
    geography = [*((district, catchment) for catchment, (district, _) in CATCHMENTS.items()),
                 *((district, "all") for district in DISTRICTS), ("all", "all")]
    rows = []
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3"):
        for cohort, (district, catchment), area, sex in itertools.product(
                [*COHORTS, "all"], geography, ("all", "urban", "rural"), ("F", "M", "all")):
            p = 0.05 + 0.85 * len(rows) / 1000  # distinct values: a wrong row is a wrong value
            rows.append({"indicator": indicator, "cohort": cohort, "district": district, "catchment": catchment,
                         "area": area, "sex": sex, "vaccination_status": "all", "n": 40, "estimate": p,
                         "ci_low": p * 0.8, "ci_high": p * 1.1})
    return pd.DataFrame(rows)


def _expected(estimates, indicator, cohort, sex, districts):
    """Each district's own row (catchment 'all', area 'all'), then the survey's (when asked)."""
    picked = []
    for district in districts:
        row = estimates[(estimates["indicator"] == indicator) & (estimates["cohort"] == cohort)
                        & (estimates["district"] == district) & (estimates["catchment"] == "all")
                        & (estimates["area"] == "all") & (estimates["sex"] == sex)]
        assert len(row) == 1
        picked.append(100 * row["estimate"].iloc[0])
    return picked


def _points(ax):
    """x and y of each drawn series of estimates (the marker lines of the error bars, not their caps)."""
    return [(line.get_xdata(), line.get_ydata()) for line in ax.get_lines()
            if line.get_marker() not in (None, "None", "", " ", "|", "_") and line.get_linestyle() in ("None", "")]


def test_inchworm_chart_by_district_draws_the_districts_rows(estimates):
    figure = charts.inchworm_chart(estimates, ["zero_dose"], list(COHORTS), labels={"zero_dose": "Zéro dose"},
                                   catchment_labels=DISTRICTS, cohort_labels=COHORTS, text=TEXT, column="district")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [*DISTRICTS.values(), TEXT["all_catchments"]]
    drawn = _points(ax)
    assert len(drawn) == len(COHORTS)
    for (x, _), cohort in zip(drawn, COHORTS):
        np.testing.assert_allclose(x, _expected(estimates, "zero_dose", cohort, "all", [*DISTRICTS, "all"]))


def test_sex_gap_chart_by_district_draws_the_districts_rows(estimates):
    figure = charts.sex_gap_chart(estimates, ["zero_dose", "ui_dtp1_not_dtp3"], ["12-23m"],
                                  labels={"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vacciné"},
                                  catchment_labels=DISTRICTS, cohort_labels=COHORTS, text=TEXT, column="district")
    # a shared y axis: the labels are drawn beside the first panel only
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(DISTRICTS.values())
    for ax, indicator in zip(figure.axes, ["zero_dose", "ui_dtp1_not_dtp3"]):
        (girls, _), (boys, _) = _points(ax)
        np.testing.assert_allclose(girls, _expected(estimates, indicator, "12-23m", "F", DISTRICTS))
        np.testing.assert_allclose(boys, _expected(estimates, indicator, "12-23m", "M", DISTRICTS))


def test_charts_by_catchment_still_draw_the_catchments_with_their_district_filled_in(estimates):
    names = {code: name for code, (_, name) in CATCHMENTS.items()}
    figure = charts.inchworm_chart(estimates, ["zero_dose"], ["12-23m"], labels={"zero_dose": "Zéro dose"},
                                   catchment_labels=names, cohort_labels=COHORTS, text=TEXT)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [*names.values(), TEXT["all_catchments"]]
    part = estimates[(estimates["indicator"] == "zero_dose") & (estimates["cohort"] == "12-23m")
                     & (estimates["area"] == "all") & (estimates["sex"] == "all")]
    expected = [100 * part.loc[part["catchment"] == code, "estimate"].item() for code in names]
    expected.append(100 * part.loc[part["district"] == "all", "estimate"].item())
    ((x, _),) = _points(ax)
    np.testing.assert_allclose(x, expected)


def _national(cohorts=tuple(COHORTS), count=60):
    """A national survey's estimates by district (catchment 'all'), every district its own values."""
    districts = {f"d{k:02d}": f"District {k:02d}" for k in range(count)}
    rows = []
    for indicator, cohort, district, sex in itertools.product(("zero_dose", "ui_dtp1_not_dtp3"), [*cohorts, "all"],
                                                              [*districts, "all"], ("F", "M", "all")):
        p = 0.02 + 0.9 * (len(rows) % 997) / 997
        rows.append({"indicator": indicator, "cohort": cohort, "district": district, "catchment": "all",
                     "area": "all", "sex": sex, "vaccination_status": "all", "n": 40, "estimate": p,
                     "ci_low": p * 0.8, "ci_high": min(p * 1.2, 1.0)})
    return districts, pd.DataFrame(rows)


def _drawn_names(svg: str) -> list[str]:
    import re

    return re.findall(r">(District \d\d)<", svg)


def test_a_national_surveys_sixty_districts_are_drawn_in_parts_that_each_fit_a_report_page(tmp_path):
    import re

    from lqas.context import report_charts

    districts, estimates = _national()
    labels = {"chart": {**TEXT, "target": "Cible"}, "cohort": COHORTS, "district": districts,
              "indicator": {"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vacciné"}}
    drawn = report_charts(estimates, labels, list(COHORTS), "12-23m", [], None, [], tmp_path, column="district",
                          units=list(districts), targets={"zero_dose": 0.1})
    for name, parts in (("zero_dose_ui_by_catchment", 4), ("zero_dose_ui_by_sex", 3)):
        names = [name] + [f"{name}_{k}" for k in range(2, parts + 1)]
        assert [key for key in drawn if key.startswith(name)] == names
        shown = []
        for part in names:
            assert drawn[part] == f"charts/{part}.svg"
            svg = (tmp_path / f"{part}.svg").read_text(encoding="utf-8")
            height = float(re.search(r'<svg[^>]* height="([\d.]+)pt"', svg).group(1)) / 72
            assert height <= charts.PAGE_HEIGHT, (part, height)  # one chart of 60 districts was 25 inches
            assert (tmp_path / f"{part}.png").is_file()
            # the sex chart names the districts beside the first panel of each cohort's row of panels
            shown += list(dict.fromkeys(_drawn_names(svg)))
            if name.endswith("catchment"):
                assert TEXT["all_catchments"] in svg  # the survey's row in every part, to read the districts against
        assert shown == list(districts.values())  # every district once, in order, in parts of equal size
    assert [len(set(_drawn_names((tmp_path / f"zero_dose_ui_by_sex{s}.svg").read_text(encoding="utf-8"))))
            for s in ("", "_2", "_3")] == [20, 20, 20]


def test_a_few_units_are_drawn_in_one_chart_as_tall_as_before():
    assert charts.page_parts(list("abcdef"), lambda n: charts.inchworm_height(n, 2)) == [list("abcdef")]
    assert charts.sex_gap_height(6, 2) == 1.9 * 2 + 0.9  # the demo's six areas: the chart it always had
    assert charts.page_parts([], charts.trend_height) == [[]]
    assert [len(part) for part in charts.page_parts(range(23), lambda n: charts.inchworm_height(n, 2))] == [12, 11]


@pytest.mark.parametrize("lang, part", [("en", "Part 2 of 3."), ("fr", "Partie 2 sur 3.")])
def test_a_chart_drawn_in_parts_is_a_figure_per_part_its_caption_saying_which(lang, part):
    from lqas.sections.words import Words

    context = {"lang": lang, "labels": {"header": {"catchment": "Area"}}, "small_cell_n": 25, "methods": {},
               "charts": {"x": "charts/x.svg", "x_2": "charts/x_2.svg", "x_3": "charts/x_3.svg", "y": "charts/y.svg"}}
    words = Words(context)
    figures = words.figure("x", "Coverage by district.")
    assert [f.chart for f in figures] == ["charts/x.svg", "charts/x_2.svg", "charts/x_3.svg"]
    assert figures[1].caption == f"Coverage by district. {part}"
    (alone,) = words.figure("y", "One chart.")
    assert alone.caption == "One chart."
    assert words.figure("z", "Not drawn.") == []


def test_a_charts_png_file_is_deflated_at_zlibs_fastest_level_and_holds_the_charts_pixels(tmp_path):
    """The PNG files are compressed at zlib's fastest level (a 10^5-child report's charts 0.94 -> 0.82 s):
    the zlib stream's header says so (FLEVEL 0; Pillow's default, level 6, writes 2), and the pixels are
    those matplotlib drew."""
    import io
    import struct
    import zlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure, ax = charts._subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [3, 1, 2], marker="o")
    path = tmp_path / "chart.png"
    charts._save_png(figure, path)
    data = path.read_bytes()
    idat, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    assert zlib.decompress(idat)  # one whole zlib stream
    assert idat[1] >> 6 == 0  # FLEVEL: the fastest compression
    canvas = FigureCanvasAgg(figure)
    canvas.print_figure(buffer := io.BytesIO(), format="png", dpi=150)
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(io.BytesIO(buffer.getvalue()))))


def test_a_charts_png_file_rendered_from_its_svg_file_has_the_size_and_look_of_matplotlibs(tmp_path):
    """A run's charts are saved as SVG files alone and rendered to PNG files by Typst in the charts' own
    font (matplotlib's DejaVu Sans): the image matplotlib draws, the same size, pixel for pixel within
    anti-aliasing (measured: 2.7 grey levels of 255 on average, 3 % fewer dark pixels; in Typst's own
    fonts 7.6 and 22 %: the text drawn in another font)."""
    from PIL import Image

    figure, ax = charts._subplots(figsize=(4, 2.5))
    ax.plot([0, 1, 2], [30, 10, 20], marker="o")
    ax.set_title("Zéro dose — couverture (%)")
    ax.set_xlabel("Aire de santé")
    ax.set_ylabel("Pourcentage")
    with charts.pngs_later(svg_only=True):
        charts.save_chart(figure, tmp_path / "chart.png")
    assert not (tmp_path / "chart.png").exists() and (tmp_path / "chart.svg").is_file()
    assert charts.svg_chart_pngs(tmp_path) == [tmp_path / "chart.png"]
    charts._save_png(figure, tmp_path / "drawn.png")
    rendered = np.asarray(Image.open(tmp_path / "chart.png").convert("L"), dtype=float)
    drawn = np.asarray(Image.open(tmp_path / "drawn.png").convert("L"), dtype=float)
    assert rendered.shape == drawn.shape == (375, 600)
    assert np.abs(rendered - drawn).mean() < 4
    assert abs((rendered < 128).sum() / (drawn < 128).sum() - 1) < 0.08


def test_the_panels_beside_a_rows_first_draw_no_y_axis_of_their_own(tmp_path):
    """A row of panels shares its y axis: the units are named beside the first panel, and the others draw
    no y axis (its ticks, made, laid out and drawn for the layout, the SVG and the PNG file, were a name
    no one saw each: a national report's charts by district 2.5 -> 2.2 s of processor). Their x axis and
    its grid are drawn as before."""
    import re

    from lqas.context import report_charts

    districts, estimates = _national()
    labels = {"chart": {**TEXT, "target": "Cible"}, "cohort": COHORTS, "district": districts,
              "indicator": {"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vacciné"}}
    report_charts(estimates, labels, list(COHORTS), "12-23m", [], None, [], tmp_path, column="district",
                  units=list(districts))
    # matplotlib writes each axis drawn as <g id="matplotlib.axis_k">, each of its ticks as <g id="xtick_k">
    # or <g id="ytick_k">
    for name, panels, rows, units in (("zero_dose_ui_by_sex", 4, 2, 20), ("zero_dose_ui_by_catchment", 2, 1, 16)):
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert len(re.findall(r'<g id="matplotlib\.axis_\d+">', svg)) == panels + rows  # x axes, a y axis a row
        assert len(re.findall(r'<g id="ytick_\d+">', svg)) == rows * units  # (the inchworm's survey row too)
        assert len(re.findall(r'<g id="xtick_\d+">', svg)) >= 5 * panels


def test_the_layout_measures_each_panel_once_and_lays_it_out_as_matplotlib_does(monkeypatch):
    """With room kept for a legend (``rect``), matplotlib's tight layout measured every panel twice, at the
    same place (the eleven charts of a 10^5-child report: 0.41 -> 0.25 s): each is measured once, the
    layout is matplotlib's own, and nothing is left on the panels."""
    from matplotlib.axes import Axes
    from matplotlib.layout_engine import TightLayoutEngine

    def drawn():
        figure, axes = charts._subplots(2, 2, figsize=(7, 5), sharey=True)
        for ax in axes.flat:
            ax.set_yticks(range(3), ["Bougouni Est", "Kologo", "N'Débougou"])
            ax.set_title("Zéro dose (pas de Penta1)")
            ax.set_xlabel("Pourcentage d'enfants (IC à 95 %)")
        return figure

    expected = drawn()
    TightLayoutEngine(rect=(0, 0.07, 1, 1)).execute(expected)
    measured = []
    original = Axes.get_tightbbox
    monkeypatch.setattr(Axes, "get_tightbbox", lambda ax, *args, **kwargs: measured.append(ax) or original(
        ax, *args, **kwargs))
    figure = drawn()
    charts._tight(figure, rect=(0, 0.07, 1, 1))
    assert sorted(map(id, measured)) == sorted(map(id, figure.axes))  # each panel once
    for key in ("bottom", "right", "top", "wspace", "hspace"):
        assert getattr(figure.subplotpars, key) == pytest.approx(getattr(expected.subplotpars, key), abs=1e-12)
    assert figure.subplotpars.left == pytest.approx(expected.subplotpars.left + 0.02, abs=1e-12)
    assert not any("get_tightbbox" in vars(ax) for ax in figure.axes)


def test_a_panels_box_is_measured_once_for_the_same_arguments_and_each_time_for_unkeyable_ones():
    calls = []

    def measure(*args, **kwargs):
        calls.append(args)
        return len(calls)

    measured = charts._measured_once(measure)
    assert [measured("renderer", for_layout_only=True) for _ in range(3)] == [1, 1, 1]
    assert measured("renderer", bbox_extra_artists=["legend"]) == 2  # a list: no key, measured
    assert measured("renderer", bbox_extra_artists=["legend"]) == 3

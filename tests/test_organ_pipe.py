"""Organ-pipe plots (VCQI Plots_OP): coverage by cluster, its agreement with the survey's own estimates,
the charts' target lines, and the annex that shows them."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from lqas import charts
from lqas.blocks import Figure, Paragraph, Table
from lqas.clusters import area_coverage, cluster_coverage, organ_pipe_context
from lqas.design import SurveyDesign, unit_rows
from lqas.sections import annex_clusters
from lqas.sections.words import Words

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "mali_baseline" / "survey.toml"
TEXT = {"organ_x": "Grappes, chacune aussi large que sa part des enfants de l'aire (pondérée)",
        "organ_y": "Couverture (%)", "area_coverage": "Couverture de l'aire", "target": "Cible",
        "girls": "Filles", "boys": "Garçons", "percent_axis": "Pourcentage d'enfants (IC à 95 %)",
        "coverage_axis": "Couverture (IC à 95 %)", "crude": "Brute", "valid": "Valide",
        "all_catchments": "Toutes les aires de santé"}
TARGET_COLOUR = mcolors.to_hex(charts.TARGET["color"])


def small_table() -> pd.DataFrame:
    """Two areas; in A, c1 has 3 of weight 4 covered out of 4 (0.75), c2 one child of weight 2
    covered and one not in the denominator, c3 no child in the denominator; in B, d1 none of 2
    covered, d2 one covered; the older cohort's children would change every number."""
    rows = [("A", "c1", 1, 1.0), ("A", "c1", 0, 1.0), ("A", "c1", 1, 2.0), ("A", "c2", 1, 2.0),
            ("A", "c2", np.nan, 5.0), ("A", "c3", np.nan, 1.0), ("B", "d1", 0, 1.0), ("B", "d1", 0, 1.0),
            ("B", "d2", 1, 3.0)]
    table = pd.DataFrame(rows, columns=["catchment", "cluster", "penta3_crude", "weight"])
    table["cohort"] = "12-23m"
    older = pd.DataFrame({"catchment": ["A", "A", "B"], "cluster": ["c3", "c1", "d1"], "penta3_crude": [1, 0, 1],
                          "weight": [9.0, 9.0, 9.0], "cohort": "24-35m"})
    return pd.concat([table, older], ignore_index=True)


def test_cluster_coverage_weights_sorts_and_leaves_out_the_denominator():
    bars = cluster_coverage(small_table(), "penta3_crude", cohort="12-23m")
    assert list(bars.columns) == ["unit", "cluster", "n", "weight_sum", "coverage", "width"]
    assert list(zip(bars["unit"], bars["cluster"])) == [("A", "c2"), ("A", "c1"), ("A", "c3"), ("B", "d2"),
                                                       ("B", "d1")]
    assert bars["n"].tolist() == [1, 3, 0, 1, 2]
    assert bars["weight_sum"].tolist() == [2.0, 4.0, 0.0, 3.0, 2.0]
    assert bars["coverage"].iloc[[0, 1, 3, 4]].tolist() == [1.0, 0.75, 1.0, 0.0]
    assert np.isnan(bars["coverage"].iloc[2])  # no child in the denominator: not a bar of 0 %
    assert np.allclose(bars["width"], [2 / 6, 4 / 6, 0, 3 / 5, 2 / 5])
    assert np.allclose(bars.groupby("unit")["width"].sum(), 1)
    assert area_coverage(bars).to_dict() == pytest.approx({"A": 5 / 6, "B": 3 / 5})


def test_cluster_coverage_every_cohort_ties_and_no_weight_column():
    table = small_table()
    both = cluster_coverage(table, "penta3_crude")  # every child, the older cohort too
    a = both[both["unit"] == "A"].set_index("cluster")
    assert a.loc["c3", "coverage"] == 1.0 and a.loc["c1", "coverage"] == pytest.approx(3 / 13)
    unweighted = cluster_coverage(table.drop(columns="weight"), "penta3_crude", cohort="12-23m")
    assert unweighted["weight_sum"].tolist() == [1.0, 3.0, 0.0, 1.0, 2.0]
    assert unweighted["coverage"].iloc[1] == pytest.approx(2 / 3)
    # equal coverage: by cluster code, whatever the order of the rows
    ties = pd.DataFrame({"catchment": "A", "cluster": ["z", "b", "m"], "penta3_crude": 1.0, "weight": 1.0})
    assert cluster_coverage(ties, "penta3_crude")["cluster"].tolist() == ["b", "m", "z"]


def test_cluster_coverage_reads_categorical_and_float32_columns_in_category_order():
    table = small_table()
    table["catchment"] = pd.Categorical(table["catchment"], categories=["B", "A", "unused"])
    table["cluster"] = table["cluster"].astype("category")
    table["cohort"] = table["cohort"].astype("category")
    table["penta3_crude"] = table["penta3_crude"].astype("float32")
    bars = cluster_coverage(table, "penta3_crude", cohort="12-23m")
    assert bars["unit"].tolist() == ["B", "B", "A", "A", "A"]  # the categories' order, unused left out
    assert bars["cluster"].tolist() == ["d2", "d1", "c2", "c1", "c3"]
    assert bars["coverage"].iloc[3] == 0.75


@pytest.fixture(scope="module")
def demo():
    from lqas.config import load_project
    from lqas.run import analyse

    return analyse(load_project(DEMO))


@pytest.fixture(scope="module")
def demo_plots(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("charts")
    names = demo.project.labels_in("en").get("catchment", {})
    context = organ_pipe_context(demo.derived.table, indicator="penta3_crude", cohort="12-23m", unit="catchment",
                                 psu="cluster", names=names, target=0.8, indicator_label="Penta 3", text=TEXT,
                                 folder=folder, per_figure=4)
    return context, folder


def test_area_coverage_is_the_survey_estimate_of_the_catchment(demo, demo_plots):
    context, _ = demo_plots
    rows = unit_rows(demo.estimates, "penta3_crude", "catchment", cohort="12-23m", sex="all")
    estimates = dict(zip(rows["catchment"].astype(str), rows["estimate"]))
    assert len(context["areas"]) == len(estimates) == 6
    for area in context["areas"]:
        assert area["coverage"] == pytest.approx(estimates[area["unit"]], abs=1e-12)
        assert area["clusters"] + area["empty"] == 12


def test_area_coverage_with_unequal_weights_is_the_design_estimate(demo):
    """The demo's weights are equal within a lot; with weights that differ by child, the weighted mean
    over an area's clusters is still the design-based estimate of the area."""
    table = demo.derived.table.copy()
    table["weight"] = np.random.default_rng(3).uniform(0.5, 4.0, len(table))
    bars = cluster_coverage(table, "penta3_crude", cohort="12-23m")
    design = SurveyDesign(table, strata="catchment", psu="cluster", weight="weight")
    expected = design.proportions("penta3_crude", by=["catchment", "cohort"], margins=False)
    expected = expected[expected["cohort"].astype(str) == "12-23m"]
    got = area_coverage(bars)
    for catchment, estimate in zip(expected["catchment"].astype(str), expected["estimate"]):
        assert got[catchment] == pytest.approx(estimate, abs=1e-12)


def test_organ_pipe_context_writes_charts_and_reports_each_area(demo_plots):
    context, folder = demo_plots
    assert context["charts"] == ["charts/organ_pipe_1.svg", "charts/organ_pipe_2.svg"]  # 6 areas, 4 a figure
    for name in ("organ_pipe_1", "organ_pipe_2"):
        assert (folder / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert "Couverture de l'aire" in (folder / f"{name}.svg").read_text(encoding="utf-8")
    json.dumps(context)  # plain data for report_context.json
    for area in context["areas"]:
        assert 0 <= area["lowest"] <= area["coverage"] <= 1
        assert 0 <= area["below_target"] <= area["clusters"]
    assert context["target"] == 0.8 and context["cohort"] == "12-23m"


def test_organ_pipe_context_order_empty_clusters_and_refusals(tmp_path):
    table = small_table()
    names = {"B": "Bé", "A": "A"}
    context = organ_pipe_context(table, indicator="penta3_crude", cohort="12-23m", unit="catchment", psu="cluster",
                                 names=names, target=None, indicator_label="Penta 3", text=TEXT, folder=tmp_path)
    assert [(a["unit"], a["name"]) for a in context["areas"]] == [("B", "Bé"), ("A", "A")]
    b, a = context["areas"]
    assert (a["clusters"], a["empty"], a["lowest"], a["lowest_cluster"]) == (2, 1, 0.75, "c1")
    assert a["coverage"] == pytest.approx(5 / 6) and a["below_target"] is None and b["lowest"] == 0.0
    assert (tmp_path / "organ_pipe_1.svg").is_file()
    common = {"cohort": "12-23m", "unit": "catchment", "names": names, "target": 0.8, "indicator_label": "x",
              "text": TEXT, "folder": tmp_path / "none"}
    assert organ_pipe_context(table, indicator="mr1_crude", psu="cluster", **common) is None
    assert organ_pipe_context(table, indicator="penta3_crude", psu="ea", **common) is None
    assert organ_pipe_context(table, indicator="penta3_crude", psu="cluster", max_units=1, **common) is None
    assert organ_pipe_context(table.assign(penta3_crude=np.nan), indicator="penta3_crude", psu="cluster",
                              **common) is None
    assert not (tmp_path / "none").exists()


def _target_lines(figure):
    return [line for ax in figure.axes for line in ax.get_lines()
            if mcolors.to_hex(line.get_color()) == TARGET_COLOUR]


def test_organ_pipe_chart_draws_bars_area_line_and_target():
    bars = cluster_coverage(small_table(), "penta3_crude", cohort="12-23m")
    figure = charts.organ_pipe_chart(bars, ["A", "B"], names={"A": "Aire A", "B": "Aire B"}, target=0.8,
                                     text=TEXT, indicator_label="Penta 3")
    a = figure.axes[0]
    assert a.get_title() == "Aire A" and a.get_ylim() == (0, 100) and a.get_ylabel() == TEXT["organ_y"]
    heights = [patch.get_height() for patch in a.patches]
    widths = [patch.get_width() for patch in a.patches]
    assert heights == pytest.approx([100, 75]) and widths == pytest.approx([2 / 6, 4 / 6])  # c3 not drawn
    assert a.patches[1].get_x() == pytest.approx(2 / 6)  # touching, high to low
    assert [line.get_ydata()[0] for line in _target_lines(figure)] == [80, 80]
    dashed = [line for line in a.get_lines() if mcolors.to_hex(line.get_color()) == "#000000"]
    assert dashed[0].get_ydata()[0] == pytest.approx(100 * 5 / 6)
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Penta 3", "Couverture de l'aire", "Cible"]
    untargeted = charts.organ_pipe_chart(bars, ["A"], names={}, target=None, text=TEXT, indicator_label="Penta 3")
    assert not _target_lines(untargeted) and untargeted.axes[0].get_title() == "A"
    assert len(untargeted.legends[0].get_texts()) == 2


@pytest.fixture
def estimates():
    rows = []
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3", "penta3_crude", "penta3_valid"):
        for cohort in ("12-23m", "all"):
            for catchment in ("kologo", "ndebougou", "all"):
                for sex in ("F", "M", "all"):
                    rows.append({"indicator": indicator, "cohort": cohort, "catchment": catchment, "sex": sex,
                                 "n": 40, "estimate": 0.3, "ci_low": 0.2, "ci_high": 0.4})
    return pd.DataFrame(rows)


def test_coverage_inchworm_and_sex_gap_charts_draw_targets_only_when_given(estimates):
    common = {"labels": {"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vaccinés"},
              "catchment_labels": {"kologo": "Kologo", "ndebougou": "N'Débougou"},
              "cohort_labels": {"12-23m": "12–23 mois"}, "text": TEXT}
    indicators = ["zero_dose", "ui_dtp1_not_dtp3"]
    plain = charts.coverage_chart(estimates, ["penta3"], "12-23m", dose_labels={}, text=TEXT)
    assert not _target_lines(plain)
    figure = charts.coverage_chart(estimates, ["penta3"], "12-23m", dose_labels={}, text=TEXT, target=0.8)
    assert [list(line.get_xdata()) for line in _target_lines(figure)] == [[80, 80]]
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["Brute", "Valide", "Cible"]

    for draw in (charts.inchworm_chart, charts.sex_gap_chart):
        assert not _target_lines(draw(estimates, indicators, ["12-23m"], **common))
        # a target above every interval still shows: the axis runs past it
        figure = draw(estimates, indicators, ["12-23m"], targets={"ui_dtp1_not_dtp3": 0.65, "other": 0.5}, **common)
        lines = _target_lines(figure)
        assert [line.get_xdata()[0] for line in lines] == [65]
        assert lines[0].axes is figure.axes[1] and figure.axes[1].get_xlim()[1] >= 70
        legend = [t.get_text() for t in figure.legends[0].get_texts()]
        assert legend.count("Cible") == 1 and legend[-1] == "Cible"


def words(lang: str) -> Words:
    labels = {"catchment": {"a": "Aire A" if lang == "fr" else "Area A"},
              "cohort": {"12-23m": "12–23 mois" if lang == "fr" else "12–23 months"},
              "indicator": {"penta3_crude": "Penta 3 (brut)" if lang == "fr" else "Penta 3 (crude)"},
              "header": {"catchment": "Aire de santé" if lang == "fr" else "Catchment area"}, "chart": {}}
    return Words({"lang": lang, "labels": labels, "small_cell_n": 25, "methods": {}, "units": None})


CLUSTERS = {"indicator": "penta3_crude", "cohort": "12-23m", "target": 0.8, "column": "catchment",
            "charts": ["charts/organ_pipe_1.svg", "charts/organ_pipe_2.svg"],
            "areas": [{"unit": "a", "name": "A (run)", "clusters": 12, "coverage": 0.713, "below_target": 5,
                       "lowest": 0.125, "lowest_cluster": "A-12", "empty": 0},
                      {"unit": "b", "name": "Bé", "clusters": 10, "coverage": 0.5, "below_target": 10,
                       "lowest": 0.0, "lowest_cluster": "B-03", "empty": 2}]}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_annex_clusters_blocks_table_rows_and_figures(lang):
    w = words(lang)
    out = annex_clusters.blocks({"clusters": CLUSTERS}, w)
    intro, table, *figures = out
    assert isinstance(intro, Paragraph) and isinstance(table, Table)
    text = intro.spans[0].text
    assert w.indicator("penta3_crude") in text and w.cohort("12-23m") in text and w.pct(0.8, 0) in text
    assert [[cell.lines[0] for cell in row.cells] for row in table.rows] == [
        [w.catchment("a"), "12", w.pct(0.713), "5", w.pct(0.125)],  # the name in the report's language
        ["Bé", "10", w.pct(0.5), "10", w.pct(0.0)]]
    assert len(table.header) == 5 and table.notes and table.notes[0].spans[0].text.startswith("2 ")
    assert [f.chart for f in figures] == CLUSTERS["charts"] and all(isinstance(f, Figure) for f in figures)
    assert figures[0].caption != figures[1].caption and w.indicator("penta3_crude") in figures[0].caption


def test_annex_clusters_without_target_has_no_target_column():
    w = words("en")
    clusters = {**CLUSTERS, "target": None, "charts": CLUSTERS["charts"][:1],
                "areas": [{**area, "below_target": None, "empty": 0} for area in CLUSTERS["areas"]]}
    intro, table, figure = annex_clusters.blocks({"clusters": clusters}, w)
    assert "target" not in intro.spans[0].text
    assert [cell.lines[0] for cell in table.header] == ["Catchment area", "Clusters", "Area coverage",
                                                        "Lowest cluster"]
    assert not table.notes and figure.caption == "Coverage of Penta 3 (crude) by cluster, children aged 12–23 months"

"""Charts: one style (Okabe-Ito, labelled axes in the caller's words), SVG text kept as text, PNG files."""

import re

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from lqas import charts
from lqas.rules import oc_curve

CATCHMENTS = {"kologo": "Kologo", "ndebougou": "N'Débougou"}
COHORTS = {"18w-11m": "18 semaines–11 mois", "12-23m": "12–23 mois"}
TEXT = {"girls": "Filles", "boys": "Garçons", "percent_axis": "Pourcentage d'enfants (IC à 95 %)",
        "coverage_axis": "Couverture (IC à 95 %)", "besd_axis": "Pourcentage de parents (IC à 95 %)",
        "crude": "Brute", "valid": "Valide", "all_catchments": "Toutes les aires de santé",
        "oc_pass": "Probabilité d'accepter le lot (%)", "oc_true_lower": "Prévalence réelle (%)",
        "oc_true_higher": "Couverture réelle (%)", "oc_good": "cible", "oc_bad": "seuil bas"}
OKABE_ITO = {mcolors.to_hex(c) for c in charts.OKABE_ITO.values()}


@pytest.fixture
def estimates():
    """A small tidy estimates frame: two indicators and two doses by cohort x catchment x sex, margins."""
    rng = np.random.default_rng(8)
    rows = []
    for indicator in ("zero_dose", "ui_dtp1_not_dtp3", "penta1_crude", "penta1_valid", "mr1_crude", "mr1_valid"):
        for cohort in [*COHORTS, "all"]:
            for catchment in [*CATCHMENTS, "all"]:
                for sex in ("F", "M", "all"):
                    p = rng.uniform(0.05, 0.9)
                    rows.append({"indicator": indicator, "cohort": cohort, "catchment": catchment, "sex": sex,
                                 "vaccination_status": "all", "n": 40, "estimate": p, "ci_low": p * 0.7,
                                 "ci_high": min(1, p * 1.3)})
    for status in ("zero_dose", "penta3"):
        rows.append({"indicator": "besd_intent", "cohort": "all", "catchment": "all", "sex": "all",
                     "vaccination_status": status, "n": 30, "estimate": 0.6, "ci_low": 0.5, "ci_high": 0.7})
    return pd.DataFrame(rows)


def _colours(figure):
    found = set()
    for ax in figure.axes:
        for line in ax.get_lines():
            if line.get_marker() not in (None, "None", "", " ") and line.get_linestyle() in ("None", ""):
                found.add(mcolors.to_hex(line.get_color()))
    return found


def test_sex_gap_chart_uses_okabe_ito_and_labels_axes(estimates):
    figure = charts.sex_gap_chart(estimates, ["zero_dose", "ui_dtp1_not_dtp3"], list(COHORTS),
                                  labels={"zero_dose": "Zéro dose", "ui_dtp1_not_dtp3": "Sous-vacciné"},
                                  catchment_labels=CATCHMENTS, cohort_labels=COHORTS, text=TEXT)
    assert _colours(figure) == {charts.GIRLS["color"].lower(), charts.BOYS["color"].lower()} <= OKABE_ITO
    bottom = figure.axes[-1]
    assert bottom.get_xlabel() == TEXT["percent_axis"]
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(CATCHMENTS.values())
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["Filles", "Garçons"]


def test_inchworm_chart_has_one_series_per_cohort_and_the_survey_row(estimates):
    figure = charts.inchworm_chart(estimates, ["zero_dose"], list(COHORTS), labels={"zero_dose": "Zéro dose"},
                                   catchment_labels=CATCHMENTS, cohort_labels=COHORTS, text=TEXT)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Kologo", "N'Débougou", "Toutes les aires de santé"]
    assert len(_colours(figure)) == 2 and _colours(figure) <= OKABE_ITO
    assert ax.get_xlim()[1] <= 100


def test_coverage_and_status_charts(estimates):
    figure = charts.coverage_chart(estimates, ["penta1", "mr1"], "12-23m", dose_labels={"penta1": "Penta 1"},
                                   text=TEXT)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["Penta 1", "mr1"]
    assert figure.axes[0].get_xlabel() == TEXT["coverage_axis"]
    figure = charts.status_chart(estimates, ["besd_intent"], ["zero_dose", "penta3"],
                                 labels={"besd_intent": "Veut tous les vaccins"},
                                 status_labels={"zero_dose": "Zéro dose", "penta3": "Penta3"}, text=TEXT)
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["Zéro dose", "Penta3"]
    assert _colours(figure) <= OKABE_ITO


def test_oc_chart_draws_prevalence_for_lower_is_better_targets():
    rules = [{"label": "Zéro dose", "good": 0.10, "bad": 0.25, "lower_is_better": True,
              "rules": [{"n": 19, "d": 16, "lots": 3}]},
             {"label": "Penta 3", "good": 0.80, "bad": 0.50, "lower_is_better": False,
              "rules": [{"n": 19, "d": 13, "lots": 3}]}]
    figure = charts.oc_chart(rules, text=TEXT, oc_curve=oc_curve)
    zd, penta = figure.axes[:2]
    assert zd.get_xlabel() == TEXT["oc_true_lower"] and penta.get_xlabel() == TEXT["oc_true_higher"]
    curve = zd.get_lines()[0]
    x, y = curve.get_xdata(), curve.get_ydata()
    # P(pass) falls as the zero-dose prevalence rises: 1 - P(X >= 16 | n=19, p=0.9) at 10 %
    assert y[np.argmin(abs(x - 10))] > 85 and y[np.argmin(abs(x - 40))] < 5


def test_save_chart_writes_png_and_returns_svg_with_text_not_glyphs(estimates, tmp_path):
    figure = charts.coverage_chart(estimates, ["penta1"], "12-23m", dose_labels={}, text=TEXT)
    svg = charts.save_chart(figure, tmp_path / "charts" / "coverage.png")
    assert (tmp_path / "charts" / "coverage.png").read_bytes().startswith(b"\x89PNG")
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert re.search(r"<text[^>]*>[^<]*Couverture", svg)  # searchable text, in the caller's language


def test_categories_chart_keeps_the_areas_names_apart():
    """Two areas whose points nearly touch (the demo's Kologo and Pelengana Nord): their names do not
    overlap, and each stays inside the plot."""
    from matplotlib.text import Annotation

    areas = pd.DataFrame({"catchment": ["a", "b", "c"], "access_estimate": [0.82, 0.85, 0.60],
                          "dropout_estimate": [0.115, 0.112, 0.30]})
    for measure in ("access", "dropout"):
        areas[f"{measure}_ci_low"] = areas[f"{measure}_estimate"] - 0.05
        areas[f"{measure}_ci_high"] = areas[f"{measure}_estimate"] + 0.05
    text = {key: key for key in ("red_no_problem", "red_utilisation", "red_access", "red_both", "red_access_axis",
                                 "red_dropout_axis")}
    figure = charts.categories_chart(areas, names={"a": "Kologo", "b": "Pelengana Nord", "c": "Cinzana Gare"},
                                     access_good_from=0.8, dropout_good_to=0.1, text=text)
    renderer = figure._get_renderer()
    ax = figure.axes[0]
    boxes = {label.get_text(): label.get_window_extent(renderer) for label in ax.texts
             if isinstance(label, Annotation)}
    assert set(boxes) == {"Kologo", "Pelengana Nord", "Cinzana Gare"}
    assert not boxes["Kologo"].overlaps(boxes["Pelengana Nord"])
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
               for box in boxes.values())
    # the first name keeps its usual place, up and to the right of its point
    assert boxes["Kologo"].x0 > ax.transData.transform((82, 11.5))[0]
    assert boxes["Kologo"].y0 > ax.transData.transform((82, 11.5))[1]

"""Charts (06PO): matplotlib views of the tidy estimates, saved as SVG (inlined in reports) and PNG.

One style for every chart: DejaVu Sans 8 pt, no top/right spines, light vertical grid, the
Okabe-Ito palette (safe for colour-vision deficiency) always paired with distinct markers so that
series stay apart in grey print. Percentages are drawn on a 0-100 axis; every text comes from
the caller (``text``), in the report language, and is drawn literally: labels come from the data
(catchment names, indicator labels), so ``$`` never starts mathtext or TeX.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from lqas.clusters import area_coverage
from lqas.design import domain_rows, unit_rows

OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}
GIRLS = {"color": OKABE_ITO["vermillion"], "marker": "o"}
BOYS = {"color": OKABE_ITO["blue"], "marker": "s"}
SERIES = [{"color": OKABE_ITO[name], "marker": marker}
          for name, marker in (("vermillion", "o"), ("blue", "s"), ("bluish_green", "D"), ("black", "^"),
                               ("orange", "v"), ("reddish_purple", "P"))]
STYLE = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7.5,
         "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "lqas",
         # every text of a chart is made under this style: a label such as "Kologo $x^2$" or a lone "$"
         # is text, not mathtext to parse (which draws it wrongly or raises)
         "text.parse_math": False, "text.usetex": False}
OC_LINES = ["#000000", OKABE_ITO["blue"], OKABE_ITO["reddish_purple"], OKABE_ITO["orange"]]
WIDTH = 7.0  # inches: the text width of an A4 page with 16 mm margins
T = TypeVar("T")
# the tallest chart a report page holds under its running head, with a caption of three lines and its source
# (inches, at WIDTH: the PDF's A4 page has 10.2 in of text); a chart by unit of more units is drawn in parts
PAGE_HEIGHT = 8.8
# a programme target, the same on every chart: orange (no data series of these charts is orange) and
# dash-dot (apart from the dashed reference lines in grey print); a white halo keeps it readable where it
# crosses bars or error bars of a similar grey
TARGET = {"color": OKABE_ITO["orange"], "ls": (0, (6, 2, 1.5, 2)), "lw": 1.3,
          "path_effects": [patheffects.withStroke(linewidth=2.6, foreground="white")]}


def _subplots(*args, figsize: tuple[float, float], **kwargs):
    """A figure of its own and its axes: no pyplot, so drawing changes no global state (backend,
    current figure) of the user's session and figures are freed with their last reference."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(*args, **kwargs)


def page_parts(units: Sequence[T], height: Callable[[int], float]) -> list[list[T]]:
    """``units`` in consecutive parts of sizes as equal as can be, as few as let each part's chart fit a
    page (``height(n)``: the chart's height in inches for ``n`` units; :data:`PAGE_HEIGHT`): one part
    when they all fit. A national survey's 60 districts drawn in one chart were 25 inches tall, cut by
    the PDF's page, or squeezed until their names overlapped."""
    units = list(units)
    if not units:
        return [units]
    fitting = [n for n in range(1, len(units) + 1) if height(n) <= PAGE_HEIGHT]
    parts = -(-len(units) // max(fitting, default=1))
    size = -(-len(units) // parts)
    return [units[start:start + size] for start in range(0, len(units), size)]


def part_name(name: str, part: int) -> str:
    """A chart drawn in parts (:func:`page_parts`): the first part keeps its name, then ``<name>_2``, ..."""
    return name if part == 0 else f"{name}_{part + 1}"


def sex_gap_height(units: int, cohorts: int) -> float:
    """Inches of :func:`sex_gap_chart`: a panel per cohort, a line per unit (of a few units: as tall as a
    panel of a few catchment areas has always been)."""
    return max(cohorts, 1) * max(1.9, 0.14 * units + 0.75) + 0.9


def inchworm_height(units: int, cohorts: int) -> float:
    """Inches of :func:`inchworm_chart`: a line per unit and the survey's, a mark per cohort."""
    return 0.2 * (units + 1) * cohorts + 1.1


def change_height(units: int) -> float:
    """Inches of :func:`change_chart`."""
    return 0.32 * units + 1.3


def trend_height(units: int) -> float:
    """Inches of :func:`trend_chart`: a row of panels per unit."""
    return 1.05 * units + 0.9


def admin_height(units: int) -> float:
    """Inches of :func:`admin_chart`."""
    return 0.3 * units + 1.4


def ranking_height(rows: int) -> float:
    """Inches of :func:`small_area_ranking_chart`."""
    return 0.17 * rows + 1.2


def ranking_upper(rows: Sequence[Mapping], threshold: float | None) -> float:
    """The end of :func:`small_area_ranking_chart`'s axis (percent): a round ten above every interval."""
    values = [100 * row[key] for row in rows for key in ("ci_high", "estimate") if row.get(key) is not None]
    return float(min(100.0, 10 * np.ceil((max(values + [100 * (threshold or 0)], default=10) + 2) / 10)))


def _tight(figure: Figure, **kwargs) -> None:
    """tight_layout, plus slack on the left: the report renders the SVG text with its own font
    metrics, slightly wider than matplotlib's, and long y labels must not be clipped."""
    # the layout made once, by the engine's own step, and no engine left on the figure (``tight_layout``
    # leaves a placeholder): with one, each savefig draws the whole figure once more before drawing it
    # Each panel's extent measured once: with ``rect`` (room kept for a legend), matplotlib measures every
    # panel, its ticks and their labels a second time, at the same place, for the same boxes
    measured = [ax for ax in figure.axes if "get_tightbbox" not in vars(ax)]
    for ax in measured:
        ax.get_tightbbox = _measured_once(ax.get_tightbbox)
    try:
        TightLayoutEngine(**kwargs).execute(figure)
    finally:
        for ax in measured:
            del ax.get_tightbbox
    figure.subplots_adjust(left=figure.subplotpars.left + 0.02)


def _measured_once(measure: Callable[..., Bbox]) -> Callable[..., Bbox]:
    """``measure`` (a panel's ``get_tightbbox``), each box made once for the same arguments (any that
    cannot be told apart by a key measured each time, as before)."""
    boxes: dict = {}

    def measured(*args, **kwargs) -> Bbox:
        key = (args, tuple(sorted(kwargs.items())))
        try:
            if key not in boxes:
                boxes[key] = measure(*args, **kwargs)
            return boxes[key]
        except TypeError:  # (an argument that is no key: a list of artists)
            return measure(*args, **kwargs)
    return measured


def _wrap(text: str, width: int = 38) -> str:
    """Break a long label on spaces so that it fits beside or above an axis."""
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _upper(*frames: pd.DataFrame, lines: Sequence[float] = ()) -> float:
    """A round upper limit (percent) above every CI in the frames and every line (fractions, e.g. the
    targets drawn): 10, 20, ... 100."""
    highs = [100 * frame["ci_high"].max() for frame in frames if len(frame)] + [100 * v for v in lines]
    top = max([h for h in highs if not np.isnan(h)] or [100])
    return float(min(100, 10 * np.ceil((top + 2) / 10)))


def _unit_axis(ax: Axes, column: int, names: Sequence[str]) -> bool:
    """The units' names down the y axis that the panels of a row share, on the row's first panel
    (``column`` 0; whether this is it). The other panels draw no y axis: its ticks (objects matplotlib
    makes, lays out and draws three times over, for the layout, the SVG and the PNG file) were each a
    name no one saw: a 10^5-child report's charts by district (60, in parts) 2.5 -> 2.2 s of processor."""
    if column:
        ax.yaxis.set_visible(False)
        return False
    ax.set_yticks(range(len(names)), names)
    return True


def _percent_axis(ax: Axes, label: str, *, axis: str = "x", upper: float = 100) -> None:
    (ax.set_xlim if axis == "x" else ax.set_ylim)(0, upper)
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)
    ax.grid(axis=axis, color="#dddddd", lw=0.5)
    ax.set_axisbelow(True)


def _dots(ax: Axes, rows: pd.DataFrame, y: Sequence[float], style: Mapping, label: str) -> None:
    """Estimate and CI (horizontal) of each row at the given y positions; NaN rows are skipped."""
    est = 100 * rows["estimate"].to_numpy(float)
    low = 100 * rows["ci_low"].to_numpy(float)
    high = 100 * rows["ci_high"].to_numpy(float)
    ax.errorbar(est, y, xerr=[est - low, high - est], fmt=style["marker"], color=style["color"], ms=4,
                capsize=2, lw=1, label=label)


def _target_line(ax: Axes, target: float | None, *, axis: str = "x") -> bool:
    """The programme target (a fraction) across the panel, in percent; whether one was drawn."""
    if target is None or np.isnan(target):
        return False
    # above bars (patches, zorder 1), beneath the estimates and their intervals (lines, zorder 2)
    (ax.axvline if axis == "x" else ax.axhline)(100 * target, zorder=1.5, **TARGET)
    return True


def _target_handle(label: str) -> Line2D:
    """The legend's entry for the target lines (drawn once, however many panels have one)."""
    return Line2D([], [], label=label, **TARGET)


def _margins(estimates: pd.DataFrame, **fixed: str) -> pd.DataFrame:
    """Rows of the estimates with the given domain values; other domain columns at 'all'."""
    return domain_rows(estimates, **fixed)


def _cut(estimates: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """The rows of a chart's indicators, cut once per chart: a national run's estimates have millions
    of rows, and picking each series from all of them again made the charts slow."""
    return estimates[estimates["indicator"].isin(list(indicators))]


def _present(estimates: pd.DataFrame, column: str, labels: Mapping[str, str]) -> list[str]:
    """The labelled units of ``column`` that the estimates hold, in the labels' order."""
    held = set(pd.unique(estimates[column]))
    return [unit for unit in labels if unit in held]


def _rows(estimates: pd.DataFrame, indicator: str, column: str, **fixed: str) -> pd.DataFrame:
    """One indicator for each unit of ``column`` and for the survey, the levels above a unit as they
    are (a catchment's district), other domain columns fixed (default 'all')."""
    return pd.concat([unit_rows(estimates, indicator, column, **fixed),
                      domain_rows(estimates, indicator, **fixed)])


def sex_gap_chart(estimates: pd.DataFrame, indicators: Sequence[str], cohorts: Sequence[str], *,
                  labels: Mapping[str, str], catchment_labels: Mapping[str, str], cohort_labels: Mapping[str, str],
                  text: Mapping[str, str], column: str = "catchment",
                  targets: Mapping[str, float] | None = None) -> Figure:
    """Forest chart: girls vs boys estimate and 95 % CI for each unit, indicator and cohort.

    One row per unit of the domain column ``column`` (default ``catchment``; ``district`` for a
    national survey with too many catchments to draw): ``catchment_labels`` maps the units of
    ``column`` to their names (the name is kept for compatibility), in drawing order; units without
    estimates are left out. A unit's row is the one where ``column`` is the unit, the levels above
    it are filled in (a catchment's district) and every other domain column but cohort and sex is
    ``"all"``. ``targets``: indicator -> programme target (fraction), drawn in the indicator's panels
    and named ``text["target"]`` in the legend.
    """
    targets = {key: value for key, value in (targets or {}).items() if key in indicators}
    units = _present(estimates, column, catchment_labels)
    part = _cut(estimates, indicators)
    series = {(i, c, s): _rows(part, i, column, cohort=c, sex=s) for i in indicators for c in cohorts for s in "FM"}
    upper = _upper(*series.values(), lines=list(targets.values()))
    with_target = False
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(len(cohorts), len(indicators), figsize=(WIDTH, sex_gap_height(len(units), len(cohorts))),
                                    sharey=True, squeeze=False)
        for i, cohort in enumerate(cohorts):
            for j, indicator in enumerate(indicators):
                ax = axes[i][j]
                for offset, sex, style, name in ((-0.15, "F", GIRLS, text["girls"]), (0.15, "M", BOYS, text["boys"])):
                    drawn = series[indicator, cohort, sex].set_index(column).reindex(units)
                    _dots(ax, drawn, [k + offset for k in range(len(units))], style, name)
                with_target |= _target_line(ax, targets.get(indicator))
                _unit_axis(ax, j, [catchment_labels[u] for u in units])
                _percent_axis(ax, text["percent_axis"] if i == len(cohorts) - 1 else "", upper=upper)
                ax.set_title(f"{_wrap(labels[indicator], 45)}\n{cohort_labels.get(cohort, cohort)}")
        axes[0][0].invert_yaxis()  # shared y axis: first unit on top
        handles, names = axes[0][0].get_legend_handles_labels()
        if with_target:
            handles, names = [*handles, _target_handle(text["target"])], [*names, text["target"]]
        figure.legend(handles, names, loc="lower center", ncol=len(handles), frameon=False)
        _tight(figure, rect=(0, 0.05, 1, 1))
    return figure


def inchworm_chart(estimates: pd.DataFrame, indicators: Sequence[str], cohorts: Sequence[str], *,
                   labels: Mapping[str, str], catchment_labels: Mapping[str, str],
                   cohort_labels: Mapping[str, str], text: Mapping[str, str], column: str = "catchment",
                   targets: Mapping[str, float] | None = None) -> Figure:
    """Inchworm chart: each unit's (and the survey's) estimate and 95 % CI, one series per cohort.

    One row per unit of the domain column ``column`` (default ``catchment``; ``district`` for a
    national survey), named by ``catchment_labels`` (units of ``column`` to names, in drawing order;
    the name is kept for compatibility), then the survey's row (``text["all_catchments"]``). A
    unit's row is the one where ``column`` is the unit, the levels above it are filled in (a
    catchment's district) and every other domain column but cohort is ``"all"``. ``targets``:
    indicator -> programme target (fraction), drawn in the indicator's panel and named
    ``text["target"]`` in the legend.
    """
    targets = {key: value for key, value in (targets or {}).items() if key in indicators}
    rows_order = [*_present(estimates, column, catchment_labels), "all"]
    names = [catchment_labels.get(c, text["all_catchments"]) for c in rows_order]
    width = 0.5 / max(len(cohorts), 1)
    part = _cut(estimates, indicators)
    series = {(i, c): _rows(part, i, column, cohort=c) for i in indicators for c in cohorts}
    upper = _upper(*series.values(), lines=list(targets.values()))
    with_target = False
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(1, len(indicators), figsize=(WIDTH, inchworm_height(len(rows_order) - 1, len(cohorts))),
                                    sharey=True, squeeze=False)
        for j, indicator in enumerate(indicators):
            ax = axes[0][j]
            for k, cohort in enumerate(cohorts):
                drawn = series[indicator, cohort].set_index(column).reindex(rows_order)
                offset = (k - (len(cohorts) - 1) / 2) * width
                _dots(ax, drawn, [i + offset for i in range(len(rows_order))], SERIES[k + 2],
                      cohort_labels.get(cohort, cohort))
            ax.axhline(len(rows_order) - 1.5, color="#999999", lw=0.5)
            with_target |= _target_line(ax, targets.get(indicator))
            if _unit_axis(ax, j, names):
                for tick in ax.get_yticklabels()[-1:]:
                    tick.set_fontweight("bold")
            _percent_axis(ax, text["percent_axis"], upper=upper)
            ax.set_title(_wrap(labels[indicator], 45))
        axes[0][0].invert_yaxis()
        handles, legend = axes[0][0].get_legend_handles_labels()
        if with_target:
            handles, legend = [*handles, _target_handle(text["target"])], [*legend, text["target"]]
        figure.legend(handles, legend, loc="lower center", ncol=len(handles), frameon=False)
        _tight(figure, rect=(0, 0.07, 1, 1))
    return figure


def coverage_chart(estimates: pd.DataFrame, doses: Sequence[str], cohort: str, *, dose_labels: Mapping[str, str],
                   text: Mapping[str, str], target: float | None = None) -> Figure:
    """Crude and valid coverage of each dose with 95 % CIs (one cohort, all catchments and sexes), and
    the programme ``target`` (a fraction; named ``text["target"]`` in the legend) when given."""
    part = _margins(estimates, cohort=cohort).set_index("indicator")
    doses = [d for d in doses if f"{d}_crude" in part.index]
    with matplotlib.rc_context(STYLE):
        figure, ax = _subplots(figsize=(WIDTH, 0.26 * len(doses) + 1.1))
        for offset, kind, style in ((-0.17, "crude", SERIES[1]), (0.17, "valid", SERIES[2])):
            rows = part.reindex([f"{d}_{kind}" for d in doses])
            _dots(ax, rows, [i + offset for i in range(len(doses))], style, text[kind])
        ax.set_yticks(range(len(doses)), [dose_labels.get(d, d) for d in doses])
        for i in range(len(doses) - 1):
            ax.axhline(i + 0.5, color="#eeeeee", lw=0.6, zorder=0)
        ax.set_ylim(len(doses) - 0.5, -0.5)
        _percent_axis(ax, text["coverage_axis"])
        handles, names = ax.get_legend_handles_labels()
        if _target_line(ax, target):
            handles, names = [*handles, _target_handle(text["target"])], [*names, text["target"]]
        ax.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False)
        _tight(figure)
    return figure


def status_chart(estimates: pd.DataFrame, indicators: Sequence[str], statuses: Sequence[str], *,
                 labels: Mapping[str, str], status_labels: Mapping[str, str], text: Mapping[str, str]) -> Figure:
    """BeSD indicators (rows) among zero-dose, under-immunized and Penta3 children, with 95 % CIs."""
    part = domain_rows(estimates, free=("vaccination_status",))
    width = 0.6 / max(len(statuses), 1)
    with matplotlib.rc_context(STYLE):
        figure, ax = _subplots(figsize=(WIDTH, 0.55 * len(indicators) * max(len(statuses), 1) / 3 + 1.4))
        for k, status in enumerate(statuses):
            rows = part[part["vaccination_status"] == status].set_index("indicator").reindex(indicators)
            offset = (k - (len(statuses) - 1) / 2) * width
            _dots(ax, rows, [i + offset for i in range(len(indicators))], SERIES[k], status_labels.get(status, status))
        ax.set_yticks(range(len(indicators)), [_wrap(labels.get(i, i), 40) for i in indicators])
        for i in range(len(indicators) - 1):
            ax.axhline(i + 0.5, color="#eeeeee", lw=0.6, zorder=0)
        ax.set_ylim(len(indicators) - 0.5, -0.5)
        _percent_axis(ax, text["besd_axis"])
        ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=len(statuses), frameon=False)
        _tight(figure)
    return figure


def oc_chart(rules: Sequence[Mapping], *, text: Mapping[str, str], oc_curve) -> Figure:
    """OC curves of the LQAS rules used, one panel per target, on the indicator's own scale.

    ``rules``: ``{"label", "good", "bad", "lower_is_better", "rules": [{"n", "d", "lots"}]}``.
    ``oc_curve``: :func:`lqas.rules.oc_curve` (P(pass) as a function of the classified p). For
    lower-is-better indicators the x axis is the prevalence 1 - p.
    """
    cols = 2 if len(rules) > 1 else 1
    nrows = int(np.ceil(len(rules) / cols))
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(nrows, cols, figsize=(WIDTH, 2.5 * nrows + 0.3), squeeze=False)
        for ax, target in zip(axes.flat, rules):
            for k, rule in enumerate(target["rules"]):
                oc = oc_curve(rule["n"], rule["d"], p=np.linspace(0, 1, 201))
                p = oc["p"].to_numpy(float)
                x = 1 - p if target["lower_is_better"] else p
                ax.plot(100 * x, 100 * oc["prob_pass"].to_numpy(float), color=OC_LINES[k % len(OC_LINES)],
                        lw=1.1, ls=("-", "--", ":", "-.")[k % 4], label=f"n = {rule['n']}, d = {rule['d']}")
            # each threshold's label on the side away from the other threshold, where the curve is flat
            for value, other, name, color, top in (
                    (target["good"], target["bad"], text["oc_good"], OKABE_ITO["bluish_green"], False),
                    (target["bad"], target["good"], text["oc_bad"], OKABE_ITO["vermillion"], True)):
                right = value > other
                ax.axvline(100 * value, color=color, lw=0.9, ls=(0, (4, 2)))
                ax.annotate(_wrap(name, 22), (100 * value, 98 if top else 3), xytext=(3 if right else -3, 0),
                            textcoords="offset points", fontsize=6.5, color=color, va="top" if top else "bottom",
                            ha="left" if right else "right")
            _percent_axis(ax, text["oc_true_lower"] if target["lower_is_better"] else text["oc_true_higher"])
            ax.set_ylim(0, 102)
            ax.set_ylabel(text["oc_pass"])
            ax.grid(axis="y", color="#dddddd", lw=0.5)
            ax.set_title(_wrap(target["label"], 50))
            ax.legend(loc="center right" if target["lower_is_better"] else "center left", frameon=False, fontsize=6.5,
                      handlelength=2.5)
        for ax in list(axes.flat)[len(rules):]:
            ax.set_visible(False)
        _tight(figure)
    return figure


def categories_chart(areas: pd.DataFrame, *, names: Mapping[str, str], access_good_from: float,
                     dropout_good_to: float, text: Mapping[str, str], intervals: bool = True) -> Figure:
    """WHO RED problem categories: each area's first-dose coverage (x, access) against its dropout
    (y, utilisation), with 95 % CIs, the two cut-offs drawn and the four quadrants named.

    ``areas``: ``catchment``, ``access_estimate``/``_ci_low``/``_ci_high`` and the same for
    ``dropout`` (fractions); areas without both estimates are left out. ``intervals``: draw the CIs
    and name each area (a national survey's hundreds of areas are drawn as dots)."""
    areas = areas.dropna(subset=["access_estimate", "dropout_estimate"])
    x, y = 100 * areas["access_estimate"].to_numpy(float), 100 * areas["dropout_estimate"].to_numpy(float)
    cut_x, cut_y = 100 * access_good_from, 100 * dropout_good_to
    top = float(min(100, 10 * np.ceil((max([cut_y, *(100 * areas["dropout_ci_high"].dropna())]) + 2) / 10)))
    # from the lowest interval (not 0): the areas' spread is what the reader compares
    left = float(max(0, 10 * np.floor((min([cut_x, *(100 * areas["access_ci_low"].dropna())]) - 5) / 10)))
    with matplotlib.rc_context(STYLE):
        figure, ax = _subplots(figsize=(WIDTH * 0.8, 3.6))
        ax.axvspan(-100, cut_x, color="#f6f6f6", zorder=0)
        ax.axhspan(cut_y, top, color="#f6f6f6", zorder=0)
        ax.axvline(cut_x, color="#555555", lw=0.8, ls="--")
        ax.axhline(cut_y, color="#555555", lw=0.8, ls="--")
        if intervals:
            ax.errorbar(x, y, xerr=[x - 100 * areas["access_ci_low"], 100 * areas["access_ci_high"] - x],
                        yerr=[y - 100 * areas["dropout_ci_low"], 100 * areas["dropout_ci_high"] - y],
                        fmt="none", ecolor="#aaaaaa", elinewidth=0.7, capsize=1.5, zorder=1)
        ax.plot(x, y, "o", color=OKABE_ITO["blue"], ms=4 if intervals else 2.5, zorder=2)
        labels = [ax.annotate(str(names.get(code, code)), (xi, yi), xytext=(4, 3), textcoords="offset points",
                              fontsize=7) for code, xi, yi in zip(areas["catchment"], x, y)] if intervals else []
        corner = {"ha": "left", "fontsize": 7, "color": "#333333", "style": "italic"}
        ax.text(cut_x + 1, top * 0.03, text["red_no_problem"], va="bottom", **corner)
        ax.text(cut_x + 1, top * 0.97, text["red_utilisation"], va="top", **corner)
        ax.text(left + 1, top * 0.03, text["red_access"], va="bottom", **corner)
        ax.text(left + 1, top * 0.97, text["red_both"], va="top", **corner)
        ax.set_xlim(left, 100)
        ax.set_ylim(0, top)
        ax.set_xlabel(text["red_access_axis"])
        ax.set_ylabel(_wrap(text["red_dropout_axis"], 40))
        _tight(figure)
        _apart(figure, labels)
    return figure


# where a point's label may go, tried in turn: (offset in points, horizontal and vertical alignment)
_LABEL_PLACES = (((4, 3), "left", "baseline"), ((4, -3), "left", "top"), ((-4, 3), "right", "baseline"),
                 ((-4, -3), "right", "top"), ((4, 10), "left", "baseline"), ((4, -10), "left", "top"),
                 ((-4, 10), "right", "baseline"), ((-4, -10), "right", "top"))


def _apart(figure: Figure, labels: Sequence) -> None:
    """Move each point's label, in turn, to the first place beside its point where it overlaps no label
    placed before it and stays in the axes; one with no such place stays where it was put first. Made
    once the layout is done: where a label falls on the page is known only then."""
    renderer = figure._get_renderer()

    def put(label, place) -> Bbox:
        offset, ha, va = place
        label.set_position(offset)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        return label.get_window_extent(renderer)

    placed: list[Bbox] = []
    for label in labels:
        frame = label.axes.get_window_extent(renderer)
        fits = (box for place in _LABEL_PLACES if (box := put(label, place)).x0 >= frame.x0 and box.x1 <= frame.x1
                and box.y0 >= frame.y0 and box.y1 <= frame.y1 and not any(box.overlaps(other) for other in placed))
        placed.append(next(fits, None) or put(label, _LABEL_PLACES[0]))


def organ_pipe_chart(bars: pd.DataFrame, units: Sequence[str], *, names: Mapping[str, str], target: float | None,
                     text: Mapping[str, str], indicator_label: str) -> Figure:
    """Organ-pipe plots (VCQI ``opplot``): for each of ``units``, a panel of its clusters as touching bars,
    high to low, each as high as the cluster's coverage and as wide as its share of the area's weight.

    ``bars``: :func:`lqas.clusters.cluster_coverage` (empty clusters are not drawn). Each panel is
    titled with the unit's name (``names``), shows the area's coverage as a dashed line and the
    programme ``target`` (a fraction) when given; panels run three to a row. A cluster's code is
    written under its bar when the bar is wide enough to hold it. Words: ``text["organ_x"]``,
    ``text["organ_y"]``, ``text["area_coverage"]``, ``text["target"]``; ``indicator_label`` names
    the bars in the legend.
    """
    cols = min(3, max(len(units), 1))
    nrows = max(int(np.ceil(len(units) / cols)), 1)
    coverage = area_coverage(bars)
    drawn = bars[bars["coverage"].notna() & (bars["width"] > 0)]
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    area_line = {"color": "#000000", "ls": (0, (4, 2)), "lw": 1.0, "path_effects": halo}
    bar_style = {"facecolor": OKABE_ITO["sky_blue"], "edgecolor": "white", "linewidth": 0.6}
    # a code fits under a bar at least a rotated line of text wide (points; panels share the width)
    panel_points = 72 * WIDTH / cols * 0.78
    with matplotlib.rc_context(STYLE):
        height = 2.1 * nrows + 0.5
        figure, axes = _subplots(nrows, cols, figsize=(WIDTH, height), sharey=True, squeeze=False)
        for k, (ax, unit) in enumerate(zip(axes.flat, units)):
            own = drawn[drawn["unit"] == unit]
            widths = own["width"].to_numpy(float)
            left = np.cumsum(widths) - widths
            ax.bar(left, 100 * own["coverage"].to_numpy(float), width=widths, align="edge", **bar_style)
            if unit in coverage.index:
                ax.axhline(100 * coverage[unit], zorder=3, **area_line)
            _target_line(ax, target, axis="y")
            fits = widths * panel_points >= 7
            ax.set_xticks(left[fits] + widths[fits] / 2, [str(code) for code in own["cluster"][fits]],
                          rotation=90, fontsize=5.5)
            ax.tick_params(axis="x", length=0, pad=2)
            ax.set_xlim(0, 1)
            ax.set_title(_wrap(names.get(unit, unit), 34))
            _percent_axis(ax, text["organ_y"] if k % cols == 0 else "", axis="y")
        for ax in list(axes.flat)[len(units):]:
            ax.set_visible(False)
        handles = [Patch(label=_wrap(indicator_label, 40), **bar_style),
                   Line2D([], [], label=text["area_coverage"], **area_line)]
        if target is not None:
            handles.append(_target_handle(text["target"]))
        figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
        _tight(figure, rect=(0, 0.3 / height, 1, 1))
        # one x label for all panels, between them and the legend: set after the layout, which would
        # otherwise make room for it a second time
        figure.supxlabel(text["organ_x"], y=0.21 / height, va="bottom", fontsize=STYLE["axes.labelsize"])
    return figure


def save_chart(figure: Figure, png_path: Path) -> str:
    """Write the PNG file and the SVG file beside it (same name, ``.svg``); return the SVG markup. Inside
    :func:`pngs_later`, the PNG file is drawn when its block says so.

    The report embeds the SVG file (after :func:`lqas.safety.clean_svg`), never markup carried in
    the report context.
    """
    png_path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):  # svg.fonttype applies when saving: text stays text (searchable, light)
        figure.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp: reruns give the same file
    svg = buffer.getvalue()
    png_path.with_suffix(".svg").write_text(svg, encoding="utf-8")
    later = _later.get()
    if later is not None and later.svg_only:
        pass  # the block's maker renders the PNG file from the SVG file (svg_chart_pngs)
    elif later is not None and later.process == os.getpid():
        later.charts.append((figure, png_path))
    else:
        _save_png(figure, png_path)
    return svg[svg.index("<svg"):]


PNG_DPI = 150
# zlib's fastest level for the PNG files matplotlib draws: a 10^5-child report's eleven charts 0.94 -> 0.82 s,
# 12 % larger (1.02 -> 1.14 MB); every pixel the same
PNG_COMPRESSION = 1


def _save_png(figure: Figure, png_path: Path) -> None:
    with matplotlib.rc_context(STYLE):
        figure.savefig(png_path, dpi=PNG_DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})


def svg_chart_pngs(folder: Path) -> list[Path]:
    """Each chart's PNG file (``<name>.png``) rendered from its SVG file in ``folder`` by Typst
    (:func:`lqas.typeset.svg_pngs`), at :data:`PNG_DPI` in the charts' own font (matplotlib's DejaVu Sans):
    the size and look of the PNG file matplotlib draws, for a third of the processor's time. A run's
    charts are so rendered by the run's process once their SVG files are written (:func:`pngs_later`,
    ``svg_only``). Returns the PNG files written."""
    from lqas.typeset import svg_pngs

    svgs = sorted(path for path in folder.glob("*.svg") if path.is_file())
    images = svg_pngs(folder, [svg.name for svg in svgs], ppi=PNG_DPI,
                      font_dirs=[Path(matplotlib.get_data_path()) / "fonts" / "ttf"])
    written = []
    for svg, image in zip(svgs, images, strict=True):
        svg.with_suffix(".png").write_bytes(image)
        written.append(svg.with_suffix(".png"))
    return written


@dataclass
class _LaterPngs:
    process: int  # a process forked inside the block draws its own charts' PNG files at once
    # no chart saved in the block, here or in a process forked inside it, draws its PNG file
    svg_only: bool = False
    charts: list[tuple[Figure, Path]] = field(default_factory=list)
    beside: list = field(default_factory=list)  # charts and PNG files drawn by forked processes (drawn_beside)

    def draw(self) -> None:
        while self.charts:
            _save_png(*self.charts.pop(0))
        while self.beside:  # (a forked process that failed: its PNG files drawn here, its error raised here)
            self.beside.pop(0).result()

    def cancel(self) -> None:
        while self.beside:
            self.beside.pop().cancel()


_later: ContextVar[_LaterPngs | None] = ContextVar("lqas_pngs_later", default=None)


@contextmanager
def pngs_later(*, svg_only: bool | None = None) -> Iterator[Callable[[], None]]:
    """The charts saved in the block (:func:`save_chart`) have their SVG file at once and their PNG file
    when the block calls what this yields: the report's process draws the PNG files, which no report
    shows, after its pages' sources (10^5 children: the PDF started 0.25-0.5 s sooner); the call also
    waits for the charts drawn beside in the block (:func:`drawn_beside`) and their PNG files. PNG files
    not drawn when the block ends are not drawn (charts being drawn beside are stopped).

    ``svg_only``: the charts saved in the block, by this process or one forked inside the block, have
    their SVG file alone; the caller makes their PNG files from them (:func:`svg_chart_pngs`). ``None``:
    as the block this one is inside says (a forked process's own block inside the report's)."""
    if svg_only is None:
        outer = _later.get()
        svg_only = outer is not None and outer.svg_only
    later = _LaterPngs(os.getpid(), svg_only)
    token = _later.set(later)
    try:
        yield later.draw
    finally:
        later.cancel()
        _later.reset(token)


def drawn_beside(draw: Callable[..., dict[str, str]], *args, cells: int) -> Callable[[], dict[str, str]]:
    """Inside :func:`pngs_later`'s block, ``draw(*args)`` (charts saved with :func:`save_chart`; it returns
    their names) made by a forked process (:class:`lqas.parallel.Beside`) while this one goes on; returns
    what gives its value, waiting for it. The value comes as soon as the charts' SVG files are written;
    the process then draws their PNG files, giving way, and the block's call waits for them. A report of
    10^5 children: its ten body charts (1.5 s, and their PNG files 1.0 s) drawn beside the rest of its
    context, whose PDF then starts about a second sooner. Outside such a block, or where it does not fork
    (``cells``: a national table's), drawn here and now, their PNG files as :func:`save_chart` says."""
    from lqas.parallel import Beside, fork_available

    later = _later.get()
    if later is None or later.process != os.getpid() or not fork_available(cells):
        value = draw(*args)
        return lambda: value
    told = threading.Event()
    names: dict[str, str] = {}

    def arrived(value: dict[str, str]) -> None:
        names.update(value)
        told.set()

    work = Beside(_drawn_then_pngs, draw, args, os.getpid(), on_message=arrived, cells=cells)
    later.beside.append(work)

    def value() -> dict[str, str]:
        while not told.wait(0.02) and not work.finished:
            pass
        if not told.is_set():  # the process failed or died before the charts were drawn: drawn here
            work.result()
        return names
    return value


def _drawn_then_pngs(draw: Callable[..., dict[str, str]], args: tuple, caller: int, *,
                     tell: Callable[[object], object]) -> dict[str, str]:
    from lqas.parallel import give_way

    with pngs_later() as draw_pngs:  # this process's own: the PNG files once the charts are told
        names = draw(*args)
        tell(names)
        if os.getpid() != caller:  # (made again by the caller, its process failed: the caller's priority kept)
            give_way()
        draw_pngs()
    return names


def change_chart(rows: Sequence[Mapping], units: Sequence[str], indicators: Sequence[str], *,
                 names: Mapping[str, str], indicator_labels: Mapping[str, str], rounds: tuple[str, str],
                 text: Mapping[str, str]) -> Figure:
    """Each unit's estimate in two rounds, an arrow from the earlier to the later (one panel per
    indicator); ``rows`` are the report context's changes by unit (``unit``, ``indicator``,
    ``estimate_a``, ``estimate_b``)."""
    by = {(row["unit"], row["indicator"]): row for row in rows}
    earlier, later = {"color": "#888888", "marker": "o"}, SERIES[1]
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(1, len(indicators), figsize=(WIDTH, change_height(len(units))), sharey=True,
                                 squeeze=False)
        for j, indicator in enumerate(indicators):
            ax = axes[0][j]
            for i, unit in enumerate(units):
                row = by.get((unit, indicator))
                if row is None:
                    continue
                a, b = 100 * row["estimate_a"], 100 * row["estimate_b"]
                ax.annotate("", xy=(b, i), xytext=(a, i),
                            arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.8, "shrinkA": 3, "shrinkB": 3})
                ax.plot([a], [i], linestyle="none", markerfacecolor="white", markersize=5,
                        label=rounds[0] if i == 0 else None, **earlier)
                ax.plot([b], [i], linestyle="none", markersize=5, label=rounds[1] if i == 0 else None, **later)
            _unit_axis(ax, j, [names.get(u, u) for u in units])
            ax.set_ylim(len(units) - 0.5, -0.5)
            _percent_axis(ax, text["percent_axis"])
            ax.set_title(_wrap(indicator_labels.get(indicator, indicator), 45))
        handles, legend = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, legend, loc="lower center", ncol=2, frameon=False)
        _tight(figure, rect=(0, 0.08, 1, 1))
    return figure


def trend_chart(rows: Sequence[Mapping], units: Sequence[str], indicators: Sequence[str], *,
                names: Mapping[str, str], indicator_labels: Mapping[str, str], rounds: tuple[str, str],
                text: Mapping[str, str]) -> Figure:
    """Girls' and boys' estimates with their 95 % intervals in each round, a line joining the two
    rounds: one row of panels per unit (``units``, the survey area first), one column per indicator.
    ``rows``: the report context's trend records (``unit``, ``indicator``, ``sex``, ``estimate_a``,
    ``ci_low_a``, ``ci_high_a`` and the same for ``b``)."""
    by = {(row["unit"], row["indicator"], row["sex"]): row for row in rows}
    sexes = (("F", GIRLS, text["girls"], -0.07), ("M", BOYS, text["boys"], 0.07))
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(len(units), len(indicators), figsize=(WIDTH, trend_height(len(units))),
                                 sharex=True, sharey=True, squeeze=False)
        for i, unit in enumerate(units):
            for j, indicator in enumerate(indicators):
                ax = axes[i][j]
                for sex, style, label, shift in sexes:
                    row = by.get((unit, indicator, sex))
                    if row is None:
                        continue
                    x = np.array([0.0, 1.0]) + shift
                    est = 100 * np.array([row["estimate_a"], row["estimate_b"]], dtype=float)
                    low = 100 * np.array([row["ci_low_a"], row["ci_low_b"]], dtype=float)
                    high = 100 * np.array([row["ci_high_a"], row["ci_high_b"]], dtype=float)
                    # a round with no interval (one child) keeps its point, without a bar
                    errors = np.nan_to_num(np.array([est - low, high - est]), nan=0.0)
                    ax.errorbar(x, est, yerr=errors, fmt=style["marker"] + "-", color=style["color"], ms=3.5,
                                capsize=2, lw=1, label=label if i == 0 and j == 0 else None)
                ax.set_xlim(-0.4, 1.4)
                ax.set_xticks([0, 1], [_wrap(rounds[0], 14), _wrap(rounds[1], 14)])
                ax.set_ylim(0, 100)
                ax.set_yticks([0, 50, 100])
                ax.grid(axis="y", color="#dddddd", lw=0.5)
                ax.set_axisbelow(True)
                if i == 0:
                    ax.set_title(_wrap(indicator_labels.get(indicator, indicator), 30))
                if j == 0:
                    ax.set_ylabel(_wrap(names.get(unit, unit), 16), rotation=0, ha="right", va="center")
        handles, legend = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, legend, loc="lower center", ncol=2, frameon=False)
        figure.supylabel(text["percent_axis"], x=0.005, fontsize=7.5)
        _tight(figure, rect=(0.02, 0.04, 1, 1))
    return figure


def admin_chart(rows: Sequence[Mapping], units: Sequence[str], doses: Sequence[str], *, names: Mapping[str, str],
                dose_labels: Mapping[str, str], text: Mapping[str, str]) -> Figure:
    """Administrative against survey coverage, one panel per dose, one line per unit: the survey's
    estimate with its 95 % interval, the administrative coverage beside it, and the 100 % line (the
    axis runs past 100 %: administrative coverage often does). ``rows``: the report context's admin
    records (``unit``, ``dose``, ``admin_coverage``, ``estimate``, ``ci_low``, ``ci_high``)."""
    by = {(row["unit"], row["dose"]): row for row in rows}
    survey, admin = SERIES[1], {"color": OKABE_ITO["vermillion"], "marker": "D"}
    values = [100 * row[key] for row in rows for key in ("admin_coverage", "ci_high")
              if row.get(key) is not None and not np.isnan(row[key])]
    upper = float(max(110.0, 10 * np.ceil((max(values, default=100) + 4) / 10)))
    with matplotlib.rc_context(STYLE):
        figure, axes = _subplots(1, len(doses), figsize=(WIDTH, admin_height(len(units))), sharey=True, squeeze=False)
        for j, dose in enumerate(doses):
            ax = axes[0][j]
            ax.axvline(100, color="#000000", lw=0.8, ls=(0, (4, 2)), zorder=1.5)
            for i, unit in enumerate(units):
                row = by.get((unit, dose))
                if row is None:
                    continue
                first = i == 0 and j == 0
                if row.get("estimate") is not None:
                    est = 100 * row["estimate"]
                    low, high = 100 * row["ci_low"], 100 * row["ci_high"]
                    ax.errorbar([est], [i + 0.12], xerr=[[est - low], [high - est]], fmt=survey["marker"],
                                color=survey["color"], ms=4, capsize=2, lw=1,
                                label=text["survey_coverage"] if first else None)
                if row.get("admin_coverage") is not None:
                    ax.plot([100 * row["admin_coverage"]], [i - 0.12], linestyle="none", ms=4.5,
                            label=text["admin_coverage"] if first else None, **admin)
            _unit_axis(ax, j, [names.get(u, u) for u in units])
            ax.set_ylim(len(units) - 0.5, -0.5)
            _percent_axis(ax, text["admin_axis"], upper=upper)
            ax.set_title(_wrap(dose_labels.get(dose, dose), 30))
        handles, legend = axes[0][0].get_legend_handles_labels()
        handles.append(Line2D([], [], color="#000000", lw=0.8, ls=(0, (4, 2))))
        legend.append(text["hundred"])
        figure.legend(handles, legend, loc="lower center", ncol=3, frameon=False)
        _tight(figure, rect=(0, 0.1, 1, 1))
    return figure


def small_area_ranking_chart(rows: Sequence[Mapping], *, threshold: float | None, text: Mapping[str, str],
                             upper: float | None = None) -> Figure:
    """The areas ranked by their estimate, each with its 95 % interval: sampled areas (filled square,
    the model's estimate from their own data and the others') apart from those not sampled (open
    circle, the model's alone), the programme threshold as the target line. ``rows``: the report
    context's small-area records in rank order (``name``, ``sampled``, ``estimate``, ``ci_low``,
    ``ci_high``). ``upper``: the axis's end (percent; by default :func:`ranking_upper` of ``rows``), the
    same for every part of a ranking drawn in parts."""
    sampled = {"color": OKABE_ITO["blue"], "marker": "s", "mfc": OKABE_ITO["blue"]}
    model = {"color": OKABE_ITO["vermillion"], "marker": "o", "mfc": "white"}
    upper = ranking_upper(rows, threshold) if upper is None else upper
    with matplotlib.rc_context(STYLE):
        figure, ax = _subplots(figsize=(WIDTH, ranking_height(len(rows))))
        seen = set()
        for i, row in enumerate(rows):
            if row.get("estimate") is None:
                continue
            style, key = (sampled, "sampled") if row["sampled"] else (model, "model_only")
            est, low, high = (100 * row[k] for k in ("estimate", "ci_low", "ci_high"))
            ax.errorbar([est], [i], xerr=[[est - low], [high - est]], fmt=style["marker"], color=style["color"],
                        mfc=style["mfc"], ms=3.5, capsize=1.5, lw=0.8, label=None if key in seen else text[key])
            seen.add(key)
        ax.set_yticks(range(len(rows)), [row["name"] for row in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        handles, labels = ax.get_legend_handles_labels()
        if _target_line(ax, threshold):
            handles.append(_target_handle(text["threshold"]))
            labels.append(text["threshold"])
        _percent_axis(ax, text["axis"], upper=upper)
        figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
        _tight(figure, rect=(0, 0.6 / (0.17 * len(rows) + 1.2), 1, 1))
    return figure


def small_area_fit_chart(rows: Sequence[Mapping], *, text: Mapping[str, str]) -> Figure:
    """How the model treated the sampled areas: each area's direct estimate against the model's
    (points on the diagonal kept their own estimate; the others were pulled towards the regression),
    and each area's standardised residual (about N(0, 1) when the model fits: beyond ±2 is worth a
    look). ``rows``: sampled areas' records (``name``, ``direct``, ``estimate``, ``residual``)."""
    points = [row for row in rows if row.get("direct") is not None and row.get("estimate") is not None]
    with matplotlib.rc_context(STYLE):
        figure, (left, right) = _subplots(1, 2, figsize=(WIDTH, 3.0))
        direct = [100 * row["direct"] for row in points]
        model = [100 * row["estimate"] for row in points]
        top = float(10 * np.ceil((max(direct + model, default=10) + 2) / 10))
        left.plot([0, top], [0, top], color="#888888", lw=0.8, ls=(0, (4, 2)))
        left.plot(direct, model, linestyle="none", marker="s", ms=4, color=OKABE_ITO["blue"])
        for x, y, row in zip(direct, model, points):
            left.annotate(row["name"], (x, y), xytext=(3, -3), textcoords="offset points", fontsize=6.5)
        left.set_xlim(0, top)
        left.set_ylim(0, top)
        left.set_xlabel(text["direct_axis"])
        left.set_ylabel(text["model_axis"])
        left.set_title(text["shrinkage"])
        residuals = [(row["name"], row["residual"]) for row in points if row.get("residual") is not None]
        right.axvline(0, color="#888888", lw=0.8)
        for edge in (-2, 2):
            right.axvline(edge, color="#888888", lw=0.8, ls=(0, (4, 2)))
        right.plot([r for _, r in residuals], range(len(residuals)), linestyle="none", marker="o", ms=4,
                   color=OKABE_ITO["vermillion"])
        right.set_yticks(range(len(residuals)), [name for name, _ in residuals])
        right.set_ylim(len(residuals) - 0.5, -0.5)
        bound = max([3.0, *[abs(r) + 0.5 for _, r in residuals]])
        right.set_xlim(-bound, bound)
        right.set_xlabel(text["residual_axis"])
        right.set_title(text["residuals"])
        _tight(figure)
    return figure

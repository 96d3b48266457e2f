"""Coverage by cluster, for supervisors: VCQI's organ-pipe plots (``Plots_OP``, ``PLOT/opplot.ado``).

Each area's clusters as touching bars, high to low: a bar's height is the cluster's weighted coverage
among the children of one cohort, its width the cluster's share of the area's weight. A cluster far
below the others is where a supervisor goes first; an area whose bars are all alike has its problem
everywhere. Proportions are fractions (0-1), as in the tidy estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CHARTS_DIR = "charts"  # as lqas.report.CHARTS_DIR: the report context names charts relative to the run folder


def cluster_coverage(table: pd.DataFrame, indicator: str, *, unit: str = "catchment", psu: str = "cluster",
                     cohort: str | None = None, weight: str = "weight") -> pd.DataFrame:
    """The weighted coverage of ``indicator`` in each cluster (``psu``) of each ``unit``.

    Parameters
    ----------
    table : DataFrame
        The child table: ``unit``, ``psu``, the 0/1 ``indicator`` (NaN: not in its denominator), the
        ``cohort`` column when ``cohort`` is given, and ``weight`` (all weights 1 when absent).
    cohort : str, optional
        Only the children of this cohort (column ``cohort``); every child when None.

    Returns
    -------
    DataFrame
        One row per (unit, cluster) of the table: ``unit``, ``cluster``, ``n`` (children in the
        denominator, unweighted), ``weight_sum``, ``coverage`` (weighted proportion; NaN for an
        empty cluster: no child, or only children of weight 0, in the denominator) and ``width``
        (``weight_sum`` over the unit's).
        Units in the table's order (first appearance, or the categories' order), then within a
        unit coverage from high to low (ties by cluster code), the empty clusters last: the order
        of the bars.
    """
    values = table[indicator].to_numpy(dtype="float64", na_value=np.nan)
    weights = (table[weight].to_numpy(dtype="float64", na_value=np.nan) if weight in table
               else np.ones(len(table)))
    counted = ~np.isnan(values) & ~np.isnan(weights)
    if cohort is not None:
        counted &= (table["cohort"] == cohort).to_numpy(dtype=bool, na_value=False)
    # every cluster of the table is a row, so that a cluster with no child of the cohort is seen (and
    # counted as empty) rather than silently missing from its area
    sums = pd.DataFrame({"unit": table[unit], "cluster": table[psu], "n": counted.astype(np.int64),
                         "weight_sum": np.where(counted, weights, 0.0),
                         "covered": np.where(counted, values * weights, 0.0)})
    grouped = sums.groupby(["unit", "cluster"], observed=True, sort=False).sum().reset_index()
    grouped["unit"] = grouped["unit"].astype(object)
    grouped["cluster"] = grouped["cluster"].astype(object)
    weight_sum = grouped["weight_sum"].to_numpy(float)
    grouped["coverage"] = np.divide(grouped["covered"].to_numpy(float), weight_sum,
                                    out=np.full(len(grouped), np.nan), where=weight_sum > 0)
    unit_total = grouped.groupby("unit", sort=False)["weight_sum"].transform("sum").to_numpy(float)
    grouped["width"] = np.divide(weight_sum, unit_total, out=np.zeros(len(grouped)), where=unit_total > 0)

    column = table[unit]
    order = (list(column.cat.categories) if isinstance(column.dtype, pd.CategoricalDtype)
             else list(pd.unique(column.dropna())))
    rank = {code: position for position, code in enumerate(order)}
    grouped["_unit"] = grouped["unit"].map(rank)
    grouped["_empty"] = grouped["coverage"].isna()
    grouped["_code"] = grouped["cluster"].astype(str)
    grouped = grouped.sort_values(["_unit", "_empty", "coverage", "_code"], ascending=[True, True, False, True],
                                  kind="stable", na_position="last")
    return grouped[["unit", "cluster", "n", "weight_sum", "coverage", "width"]].reset_index(drop=True)


def area_coverage(bars: pd.DataFrame) -> pd.Series:
    """Each unit's weighted coverage from its clusters' (:func:`cluster_coverage`): the estimate the
    survey gives for the unit, by unit in the bars' order."""
    drawn = bars[bars["weight_sum"] > 0]
    covered = (drawn["coverage"] * drawn["weight_sum"]).groupby(drawn["unit"], sort=False).sum()
    return covered / drawn.groupby("unit", sort=False)["weight_sum"].sum()


def organ_pipe_context(table: pd.DataFrame, *, indicator: str, cohort: str | None, unit: str, psu: str,
                       names: Mapping[str, str], target: float | None, indicator_label: str,
                       text: Mapping[str, str], folder: Path, per_figure: int = 6, max_units: int | None = None,
                       prefix: str = "organ_pipe") -> dict[str, Any] | None:
    """Draw the organ-pipe plots of ``indicator`` into ``folder`` (the run's ``charts/``) and return what
    the report says of them.

    A figure holds up to ``per_figure`` areas (units of ``unit``), in the order of ``names`` and then
    any other; figures ``<prefix>_1``, ``<prefix>_2``, ... are saved as PNG and SVG. ``text`` holds the
    charts' words (:func:`lqas.charts.organ_pipe_chart`).

    Returns
    -------
    dict or None
        ``indicator``, ``cohort``, ``target``, ``column`` (``unit``), ``charts`` (``charts/<name>.svg``)
        and ``areas``: for each area drawn, ``unit`` (its code), ``name``, ``clusters`` (clusters with a
        child in the denominator, the bars), ``coverage`` (the area's weighted coverage), ``below_target``
        (bars below ``target``; None without a target), ``lowest`` and ``lowest_cluster`` (the lowest
        bar) and ``empty`` (clusters of the area with no child in the denominator, not drawn).
        None when the table lacks the indicator, the cluster or the unit column, when no area has a
        child in the denominator, or when the areas are more than ``max_units`` (a national survey's
        hundreds of plots help no one).
    """
    needed = [indicator, psu, unit, *(["cohort"] if cohort is not None else [])]
    if any(column not in table for column in needed):
        return None
    bars = cluster_coverage(table, indicator, unit=unit, psu=psu, cohort=cohort)
    present = list(pd.unique(bars.loc[bars["coverage"].notna(), "unit"]))
    if not present or (max_units is not None and len(present) > max_units):
        return None
    held = set(present)
    units = [code for code in names if code in held]
    units += [code for code in present if code not in set(units)]

    # charts (and matplotlib) loaded only when drawing; lqas.charts reads this module's area_coverage
    from lqas import charts

    chunks = [units[start:start + per_figure] for start in range(0, len(units), per_figure)]
    files = []
    for number, chunk in enumerate(chunks, start=1):
        figure = charts.organ_pipe_chart(bars, chunk, names=names, target=target, text=text,
                                         indicator_label=indicator_label)
        charts.save_chart(figure, Path(folder) / f"{prefix}_{number}.png")
        files.append(f"{CHARTS_DIR}/{prefix}_{number}.svg")

    coverage = area_coverage(bars)
    areas = []
    for code in units:
        own = bars[bars["unit"] == code]
        drawn = own[own["coverage"].notna()]
        lowest = drawn.iloc[-1]  # the bars run high to low
        areas.append({"unit": _plain(code), "name": str(names.get(code, code)), "clusters": len(drawn),
                      "coverage": float(coverage[code]),
                      "below_target": None if target is None else int((drawn["coverage"] < target).sum()),
                      "lowest": float(lowest["coverage"]), "lowest_cluster": _plain(lowest["cluster"]),
                      "empty": len(own) - len(drawn)})
    return {"indicator": indicator, "cohort": cohort, "target": None if target is None else float(target),
            "column": unit, "charts": files, "areas": areas}


def _plain(value: Any) -> Any:
    """A code as JSON writes it: a numpy scalar as the Python one."""
    return value.item() if isinstance(value, np.generic) else value

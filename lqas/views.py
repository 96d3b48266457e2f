"""Views (05TO): plain-data tables of the estimates frame and the run logs, for the report context.

Every function returns lists and dicts of plain Python values (no DataFrames), so that the
report context built from them can be written to JSON and rendered by any template. An
estimate cell is ``{"estimate", "ci_low", "ci_high", "n", "small"}`` (fractions 0-1; ``small``
is True when ``n`` is below the report's small-cell threshold) or ``None`` when the domain has
no children in the indicator's denominator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from lqas.design import ALL, domain_columns

SEXES = ("F", "M", ALL)
# display order of the dose evidence categories of `<dose>_source` (lqas.vaccination)
SOURCE_ORDER = ("card_date", "card_tick", "register_date", "register_tick", "recall", "scar", "implied", "none")


def plain(value):
    """A JSON-ready value: numpy scalars to Python, NaN/NA to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class EstimateIndex:
    """Look-up of tidy estimates by indicator and domain: cohort, catchment, sex, vaccination status
    and any other domain column (district, a stratifier), each ``"all"`` unless named."""

    def __init__(self, estimates: pd.DataFrame, small_cell_n: int):
        self.small_cell_n = small_cell_n
        self.domains = domain_columns(estimates)
        # each row's key (indicator and domains, as text) one integer, the keys sorted and searched: a
        # dict of a national survey's 2.4 million estimates, a tuple of texts and of numbers each, took
        # 4 s and 1.3 GB; these arrays take a fifth of a second and 60 MB
        key, codes, self._codes, self._strides = np.zeros(len(estimates), dtype=np.int64), {}, {}, {}
        stride = 1
        for column in ["indicator", *self.domains]:
            codes[column], self._codes[column] = _text_codes(estimates[column])
            self._strides[column] = stride
            key += codes[column] * stride
            stride *= max(len(self._codes[column]), 1)
        # of rows with the same key, the last (a dict made of the rows would keep it)
        order = np.argsort(key, kind="stable")
        self._keys, self._rows = key[order], order
        self._values = [estimates[column].to_numpy() for column in ("estimate", "ci_low", "ci_high", "n")]
        self.indicators = set(pd.unique(estimates["indicator"]))
        self._parents = _parents(self.domains, codes, self._codes)

    def cell(self, indicator: str, cohort: str = ALL, catchment: str = ALL, sex: str = ALL,
             status: str = ALL, **others: str) -> dict | None:
        named = {"cohort": cohort, "catchment": catchment, "sex": sex, "vaccination_status": status, **others}
        named = {column: str(value) for column, value in named.items() if str(value) != ALL}
        # a catchment's row also names its district: the levels above a named unit are filled in
        for _ in range(len(self.domains)):
            for (column, parent), of in self._parents.items():
                if column in named and parent not in named and named[column] in of:
                    named[parent] = of[named[column]]
        found = self._row((indicator, *(named.get(column, ALL) for column in self.domains)))
        if found is None:
            return None
        estimate, low, high, n = (values[found] for values in self._values)
        if n is None or n == 0:
            return None
        estimate, low, high, n = plain(estimate), plain(low), plain(high), plain(n)
        return {"estimate": estimate, "ci_low": low, "ci_high": high, "n": int(n),
                "small": int(n) < self.small_cell_n}

    def _row(self, texts: Sequence[str]) -> int | None:
        """The row of the estimate keyed by ``texts`` (the indicator, then each domain), None if none."""
        key = 0
        for column, text in zip(["indicator", *self.domains], texts):
            code = self._codes[column].get(text)
            if code is None:
                return None
            key += code * self._strides[column]
        position = int(np.searchsorted(self._keys, key, side="right")) - 1
        return int(self._rows[position]) if position >= 0 and self._keys[position] == key else None

    def __contains__(self, indicator: str) -> bool:
        return indicator in self.indicators


def _text_codes(values: pd.Series) -> tuple[np.ndarray, dict[str, int]]:
    """Each row's code and the codes of the texts (``str`` of each value; values of the same text share
    a code), made once per distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    of_text: dict[str, int] = {}
    merged = np.array([of_text.setdefault(str(value), len(of_text)) for value in distinct], dtype=np.int64)
    return (merged[codes] if len(merged) else codes.astype(np.int64)), of_text


def _parents(domains: Sequence[str], codes: Mapping[str, np.ndarray],
             texts: Mapping[str, Mapping[str, int]]) -> dict[tuple[str, str], dict[str, str]]:
    """(column, parent) -> {unit: its parent unit} for every domain column whose units each lie in one
    unit of another column, filled in on every row (a catchment's district). ``codes``: each row's code
    of each column's text, ``texts``: the codes by text (:func:`_text_codes`)."""
    names = {column: np.array(list(texts[column]), dtype=object) for column in domains}
    out = {}
    for column in domains:
        rows = codes[column] != texts[column].get(ALL, -1)
        if not rows.any():
            continue
        for parent in domains:
            if parent == column or (codes[parent][rows] == texts[parent].get(ALL, -1)).any():
                continue
            size = max(len(texts[parent]), 1)
            pairs = pd.unique(codes[column][rows] * size + codes[parent][rows])
            units = pairs // size
            if len(pd.unique(units)) == len(pairs):
                out[(column, parent)] = dict(zip(names[column][units].tolist(), names[parent][pairs % size].tolist()))
    return out


def level_table(index: EstimateIndex, level: str, units: Sequence[str], indicators: Sequence[str],
                names: Mapping[str, str]) -> dict:
    """One level of the geography (districts, regions): each unit's estimate of each indicator, all
    cohorts and both sexes together, then the survey's.

    Returns ``{"column", "indicators", "rows": [{"unit", "name", "cells": {indicator: cell}}], "has_small"}``
    (the survey's row last, unit ``all``).
    """
    rows = [{"unit": unit, "name": names.get(unit, unit),
             "cells": {ind: index.cell(ind, **({level: unit} if unit != ALL else {})) for ind in indicators}}
            for unit in [*units, ALL]]
    return {"column": level, "indicators": list(indicators), "rows": rows,
            "has_small": _any_small(c for row in rows for c in row["cells"].values())}


def group_table(index: EstimateIndex, column: str, groups: Sequence[str], indicator: str,
                names: Mapping[str, str]) -> dict:
    """One stratifier (area, population group): each group's girls, boys and all for one indicator,
    all cohorts together, then the survey's.

    Returns ``{"column", "indicator", "rows": [{"group", "name", "F", "M", "all"}], "has_small"}``.
    """
    rows = [{"group": group, "name": names.get(group, group),
             **{sex: index.cell(indicator, sex=sex, **({column: group} if group != ALL else {})) for sex in SEXES}}
            for group in [*groups, ALL]]
    return {"column": column, "indicator": indicator, "rows": rows,
            "has_small": _any_small(row[sex] for row in rows for sex in SEXES)}


def _any_small(cells: Iterable[dict | None]) -> bool:
    return any(c is not None and c["small"] for c in cells)


def at(column: str, unit: str) -> dict[str, str]:
    """The domain of one unit of a report column, as :meth:`EstimateIndex.cell` keywords (none for all)."""
    return {} if unit == ALL else {column: unit}


def sex_table(index: EstimateIndex, indicator: str, cohorts: Sequence[str], units: Sequence[str],
              column: str = "catchment") -> dict:
    """Unit x cohort rows (units of ``column``: catchment areas, districts) with girls, boys and all for
    one indicator (plus each cohort's total row).

    Returns ``{"indicator", "rows": [{"cohort", "unit", "F", "M", "all"}], "has_small"}``.
    """
    rows = [{"cohort": cohort, "unit": unit,
             **{sex: index.cell(indicator, cohort, sex=sex, **at(column, unit)) for sex in SEXES}}
            for cohort in cohorts for unit in [*units, ALL]]
    return {"indicator": indicator, "rows": rows,
            "has_small": _any_small(row[sex] for row in rows for sex in SEXES)}


def panel(index: EstimateIndex, key: str, indicators: Sequence[str], cohort: str,
          units: Sequence[str], column: str = "catchment") -> dict | None:
    """Several indicators side by side, girls / boys / all, one row per unit of ``column`` (and all).

    Returns ``{"key", "cohort", "indicators", "rows": [{"unit", "cells": {indicator: {sex:
    cell}}}], "has_small"}``, or None when none of the indicators was estimated.
    """
    present = [indicator for indicator in indicators if indicator in index]
    if not present:
        return None
    rows = [{"unit": unit,
             "cells": {ind: {sex: index.cell(ind, cohort, sex=sex, **at(column, unit)) for sex in SEXES}
                       for ind in present}}
            for unit in [*units, ALL]]
    # an indicator equal to an earlier one in every cell (fully vaccinated for age, where every dose was
    # on time) says nothing more: it is left out, and named as the same
    same = {}
    for i, ind in enumerate(present):
        twin = next((other for other in present[:i] if other not in same
                     and all(row["cells"][ind] == row["cells"][other] for row in rows)), None)
        if twin is not None:
            same[ind] = twin
    for row in rows:
        for ind in same:
            del row["cells"][ind]
    shown = [ind for ind in present if ind not in same]
    small = _any_small(c for row in rows for by_sex in row["cells"].values() for c in by_sex.values())
    return {"key": key, "cohort": cohort, "indicators": shown, "rows": rows, "has_small": small,
            "same_as": same}


def coverage_by_dose(index: EstimateIndex, doses: Sequence[str], cohort: str) -> dict:
    """Crude (all, girls, boys) and valid coverage of every dose for one cohort."""
    rows = []
    for dose in doses:
        crude = {sex: index.cell(f"{dose}_crude", cohort, ALL, sex) for sex in SEXES}
        valid = index.cell(f"{dose}_valid", cohort)
        if crude[ALL] is None and valid is None:
            continue
        rows.append({"dose": dose, "crude": crude, "valid": valid})
    small = _any_small([*(c for row in rows for c in row["crude"].values()), *(row["valid"] for row in rows)])
    return {"cohort": cohort, "rows": rows, "has_small": small}


def coverage_by_unit(index: EstimateIndex, doses: Sequence[str], cohort: str,
                     units: Sequence[str], column: str = "catchment", kind: str = "crude") -> dict:
    """Coverage of every dose (rows) in each unit of ``column`` (columns) for one cohort."""
    rows = []
    for dose in doses:
        cells = {unit: index.cell(f"{dose}_{kind}", cohort, **at(column, unit)) for unit in [*units, ALL]}
        if any(cells.values()):
            rows.append({"dose": dose, "cells": cells})
    return {"cohort": cohort, "kind": kind, "rows": rows,
            "has_small": _any_small(c for row in rows for c in row["cells"].values())}


def evidence_sources(table: pd.DataFrame, doses: Sequence[str], cohort: str, weight: str = "weight") -> dict:
    """Weighted share of each evidence source among children in each dose's denominator.

    The denominator of a dose is the children of ``cohort`` (``"all"``: every child) whose
    ``<dose>_crude`` is not missing; shares are weighted by ``weight`` and sum to 1 per dose.
    ``n`` is the unweighted number of children in the denominator.
    """
    # each dose's rows taken from its two columns and the weights alone, never from a frame of all the doses'
    # columns: a national child table's million rows made each dose's selection copy 48 columns (1 s, 150 MB)
    in_cohort = None if cohort == ALL else (table["cohort"] == cohort).to_numpy()
    found: set[str] = set()
    rows = []
    for dose in doses:
        source, crude = f"{dose}_source", f"{dose}_crude"
        if source not in table or crude not in table:
            continue
        members = table[crude].notna().to_numpy()
        if in_cohort is not None:
            members = members & in_cohort
        n = int(np.count_nonzero(members))
        if n == 0:
            continue
        weights = table[weight][members]
        shares = weights.groupby(_filled(table[source][members], "none"), observed=True).sum() / weights.sum()
        found |= set(shares.index)
        rows.append({"dose": dose, "n": n, "shares": {k: float(v) for k, v in shares.items()}})
    sources = [s for s in SOURCE_ORDER if s in found] + sorted(found - set(SOURCE_ORDER))
    for row in rows:
        row["shares"] = {s: row["shares"].get(s, 0.0) for s in sources}
    return {"cohort": cohort, "sources": sources, "rows": rows, "weighted": True}


def _filled(values: pd.Series, missing: str) -> pd.Series:
    """``values`` with ``missing`` where they are missing; a categorical stays one (a national survey's
    million children made Python objects took a second a dose)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        if missing not in values.cat.categories:
            values = values.cat.add_categories(missing)
        return values.fillna(missing)
    return values.astype(object).fillna(missing)


def status_table(index: EstimateIndex, indicators: Sequence[str], statuses: Sequence[str]) -> dict:
    """Indicators (rows) by the child's vaccination status (columns, plus all)."""
    rows = []
    for indicator in indicators:
        cells = {status: index.cell(indicator, status=status) for status in [*statuses, ALL]}
        if any(cells.values()):
            rows.append({"indicator": indicator, "cells": cells})
    return {"statuses": list(statuses), "rows": rows,
            "has_small": _any_small(c for row in rows for c in row["cells"].values())}


def sample_table(table: pd.DataFrame, units: Sequence[str], cohorts: Sequence[str],
                 column: str = "catchment") -> dict:
    """Children analysed by unit of ``column`` x cohort x sex, with totals by cohort and overall.

    Returns ``{"lots": [{"unit", "cohort", "F", "M", "other", "total"}], "totals": [...], "sex_unknown"}``
    (``lots``: the units' rows with children; ``totals``: each cohort's, then all).
    """
    sex = table["sex"].astype(object).where(table["sex"].isin(["F", "M"]), "other")
    counts = pd.crosstab([table[column].astype(object), table["cohort"].astype(object)], sex)
    by_cohort = counts.groupby(level=1).sum()

    def row(unit: str, cohort: str, found: pd.Series | None) -> dict:
        out = {"unit": unit, "cohort": cohort,
               **{key: int(found.get(key, 0)) if found is not None else 0 for key in ("F", "M", "other")}}
        out["total"] = out["F"] + out["M"] + out["other"]
        return out

    lots = [row(u, k, counts.loc[(u, k)] if (u, k) in counts.index else None) for u in units for k in cohorts]
    totals = [row(ALL, k, by_cohort.loc[k] if k in by_cohort.index else None) for k in cohorts]
    totals.append(row(ALL, ALL, by_cohort.loc[[k for k in cohorts if k in by_cohort.index]].sum()))
    return {"lots": [lot for lot in lots if lot["total"]], "totals": totals,
            "sex_unknown": totals[-1]["other"]}


def counts_by(frame: pd.DataFrame, column: str, name: str) -> list[dict]:
    """Counts of ``frame`` by one column, largest first: ``[{name: value, "n": count}]``."""
    if frame.empty or column not in frame:
        return []
    counts = frame.groupby(column, observed=True).size().sort_values(ascending=False, kind="stable")
    return [{name: str(value), "n": int(n)} for value, n in counts.items()]


def decision_table_rows(long: pd.DataFrame, gap: float = 0.30) -> dict:
    """The classic decision-rule table (``lqas.rules.decision_table(long=True)``) as plain rows, for the
    targets whose lower threshold (target - gap) is above 0: one selection rule for every cell (the d
    of least alpha + beta), so that d never falls when the target or n rises. Each cell carries its
    ``flag`` (``ok``, or a risk above 10 % or 15 %)."""
    kept = long[long["good"] - gap > 1e-9]
    targets = sorted(float(t) for t in kept["good"].unique())
    rows = []
    for n, part in kept.groupby("n", sort=True):
        part = part.set_index("good").reindex(targets)
        rows.append({"n": int(n), "d": [plain(v) for v in part["d"]], "flag": [plain(v) for v in part["flag"]]})
    return {"targets": targets, "gap": gap, "rows": rows}

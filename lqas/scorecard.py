"""Gender & equity scorecard: girls - boys gaps and gender-indicator levels with traffic lights.

A view of the run's results: :func:`scorecard` reads the comparisons and the estimates the run
already made (nothing is estimated twice) and applies the rules of ``lqas/data/equity.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lqas.config import load_scorecard_config
from lqas.design import ALL, COMPARE_COLUMNS, ESTIMATE_COLUMNS
from lqas.errors import InputError

_GAP_COLUMNS = ["group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "difference", "difference_ci_low",
                "difference_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "disadvantaged"]
_LEVEL_COLUMNS = ["n", "estimate", "ci_low", "ci_high"]
SCORECARD_COLUMNS = ["row", "kind", "indicator", "rule", "lower_is_better", *_GAP_COLUMNS, *_LEVEL_COLUMNS,
                     "light", "reason"]
LIGHTS = ("green", "amber", "red", "grey")
GIRLS, BOYS = "F", "M"
# a 10-point gap computed as 0.55 - 0.45 = 0.09999999999999998 is a 10-point gap
_TOLERANCE = 1e-9


def girls_first(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Orient compare rows as girls (``group_a`` = F) versus boys (``group_b`` = M).

    Rows with ``group_a`` = M are flipped: estimates and n swapped, the difference and its CI
    negated, the ratio and its CI inverted; SE, F statistic and p-value are unchanged.

    Raises
    ------
    InputError
        If a row does not compare F with M.
    """
    out = comparisons.copy()
    pair = out["group_a"].astype(str) + "/" + out["group_b"].astype(str)
    wrong = ~pair.isin([f"{GIRLS}/{BOYS}", f"{BOYS}/{GIRLS}"])
    if wrong.any():
        raise InputError(f"comparisons: expected girls ('F') versus boys ('M'); row {int(np.argmax(wrong.to_numpy()))} "
                         f"compares {out['group_a'][wrong].iloc[0]!r} with {out['group_b'][wrong].iloc[0]!r}")
    flip = (out["group_a"].astype(str) == BOYS).to_numpy()
    if flip.any():
        swapped = out.loc[flip]
        for a, b in (("group_a", "group_b"), ("n_a", "n_b"), ("estimate_a", "estimate_b")):
            out.loc[flip, a], out.loc[flip, b] = swapped[b].to_numpy(), swapped[a].to_numpy()
        out.loc[flip, "difference"] = -swapped["difference"].to_numpy(float)
        out.loc[flip, "difference_ci_low"] = -swapped["difference_ci_high"].to_numpy(float)
        out.loc[flip, "difference_ci_high"] = -swapped["difference_ci_low"].to_numpy(float)
        with np.errstate(divide="ignore"):
            out.loc[flip, "ratio"] = 1 / swapped["ratio"].to_numpy(float)
            out.loc[flip, "ratio_ci_low"] = 1 / swapped["ratio_ci_high"].to_numpy(float)
            out.loc[flip, "ratio_ci_high"] = 1 / swapped["ratio_ci_low"].to_numpy(float)
    return out


def _adverse(difference: Any, lower_is_better: bool) -> Any:
    """The girls - boys difference oriented so that positive means girls are worse off."""
    return difference if lower_is_better else -difference



def gap_light(difference: float, p_value: float, n_girls: float, n_boys: float, lower_is_better: bool,
              rule: Mapping[str, Any]) -> tuple[str, str]:
    """Traffic light of a girls - boys gap under a ``kind = "gap"`` rule of ``equity.toml``.

    Returns
    -------
    (light, reason)
        ``light`` in ``green``/``amber``/``red``/``grey``; ``reason`` a key of ``[reasons]``.

    Examples
    --------
    >>> rule = load_scorecard_config()["rules"]["sex_gap"]
    >>> gap_light(-0.12, 0.01, 80, 90, lower_is_better=False, rule=rule)  # girls 12 points lower
    ('red', 'gap_against_girls_significant')
    >>> gap_light(0.12, 0.01, 80, 90, lower_is_better=False, rule=rule)   # boys 12 points lower
    ('amber', 'gap_size')
    """
    values = np.array([difference, p_value, n_girls, n_boys], dtype=float)
    if np.isnan(values).any():
        return "grey", "no_estimate"
    if min(n_girls, n_boys) < rule["min_n"]:
        return "grey", "too_few"
    adverse = _adverse(difference, lower_is_better)
    if p_value < rule["red_p_below"] and adverse >= rule["red_gap_against_girls_at_least"] - _TOLERANCE:
        return "red", "gap_against_girls_significant"
    if abs(difference) >= rule["amber_abs_difference_at_least"] - _TOLERANCE:
        return "amber", "gap_size"
    if p_value < rule["amber_p_below"]:
        return "amber", "gap_p_value"
    return "green", "within_thresholds"


def level_light(estimate: float, n: float, rule: Mapping[str, Any]) -> tuple[str, str]:
    """Traffic light of a proportion under a ``kind = "level"`` rule of ``equity.toml``.

    Examples
    --------
    >>> rule = load_scorecard_config()["rules"]["mother_needs_permission"]
    >>> level_light(0.50, 120, rule), level_light(0.30, 120, rule), level_light(0.10, 120, rule)
    (('red', 'level_red'), ('amber', 'level_amber'), ('green', 'within_thresholds'))
    """
    if np.isnan(np.array([estimate, n], dtype=float)).any():
        return "grey", "no_estimate"
    if n < rule["min_n"]:
        return "grey", "too_few"
    if rule["direction"] == "lower":
        if estimate >= rule["red_at_or_above"] - _TOLERANCE:
            return "red", "level_red"
        if estimate >= rule["amber_at_or_above"] - _TOLERANCE:
            return "amber", "level_amber"
    else:
        if estimate < rule["red_below"] - _TOLERANCE:
            return "red", "level_red"
        if estimate < rule["amber_below"] - _TOLERANCE:
            return "amber", "level_amber"
    return "green", "within_thresholds"


def scorecard(comparisons: pd.DataFrame | None, levels: pd.DataFrame | None,
              rules: Mapping[str, Any] | None = None, *, unit: str | None = None) -> pd.DataFrame:
    """Gender & equity scorecard: girls - boys gaps and gender-indicator levels with traffic lights.

    Parameters
    ----------
    comparisons : DataFrame or None
        Girls - boys comparisons (``SurveyDesign.compare``, the run's ``comparisons.csv``):
        ``COMPARE_COLUMNS`` plus domain columns (e.g. ``cohort``, ``catchment``, with ``"all"``
        for margins). Rows comparing M with F are re-oriented (:func:`girls_first`).
    levels : DataFrame or None
        Estimates (``SurveyDesign.proportions``, the run's ``estimates.csv``) holding the level
        rows' indicators (e.g. ``mother_needs_permission``) by ``catchment``.
    rules : mapping, optional
        The equity configuration (:func:`lqas.config.load_scorecard_config`, the default): scorecard rows and
        traffic-light rules.
    unit : str, optional
        Domain column giving one block of rows per value; default ``[scorecard] unit``
        (``catchment``). A frame without that column is treated as the whole survey (``"all"``).

    Returns
    -------
    DataFrame
        The unit column, then ``SCORECARD_COLUMNS``: ``row`` (scorecard row id), ``kind``
        (``sex_gap``/``level``), ``indicator``, ``rule``, ``lower_is_better``; for gap rows
        ``group_a`` (F), ``group_b`` (M), ``n_a``, ``n_b``, ``estimate_a``, ``estimate_b``,
        ``difference`` (girls - boys), its CI, ``ratio`` (girls / boys), its CI, ``p_value``,
        ``disadvantaged``; for level rows ``n``, ``estimate``, ``ci_low``, ``ci_high``; then
        ``light`` (green/amber/red, or grey when not assessable) and ``reason``. One block per
        unit value in input order, the ``"all"`` block last; within a block the
        ``equity.toml`` row order. Rows whose indicator is absent from the input are left out.

    Notes
    -----
    The scorecard is project-defined (besd.md §5.4): D and R as WHO HEAT (§5.2), the p-value of
    the design-based Rao-Scott test (§5.3). Other domain columns of the inputs are held at their
    ``"all"`` margin unless the row's ``filter`` picks a value (MR1: ``cohort = "12-23m"``).
    """
    config = rules if rules is not None else load_scorecard_config()
    unit = unit or config["scorecard"]["unit"]
    if comparisons is not None and len(comparisons):
        comparisons = girls_first(comparisons)
    units = _units([comparisons, levels], unit)
    specs = config["scorecard"]["rows"]
    # each frame is cut once to the rows of its scorecard rows: a national run's estimates have
    # millions of rows, and scanning them again for every cell made the scorecard quadratic
    cuts = {frame_kind: _cut(frame, [spec for spec in specs if _frame_kind(spec) == frame_kind], unit)
            for frame_kind, frame in (("sex_gap", comparisons), ("level", levels))}
    records = []
    for value in units:
        for spec in specs:
            cut = cuts[_frame_kind(spec)]
            if spec["indicator"] not in cut.present:
                continue
            rule = config["rules"][spec["rule"]]
            record: dict[str, Any] = {unit: value, "row": spec["id"], "kind": spec["kind"],
                                      "indicator": spec["indicator"], "rule": spec["rule"],
                                      "lower_is_better": spec.get("lower_is_better",
                                                                  rule.get("direction") == "lower")}
            found = _pick(cut, spec, unit, value)
            if spec["kind"] == "sex_gap":
                record.update({c: (cut.raw[c][found] if found is not None else np.nan) for c in _GAP_COLUMNS})
                record["light"], record["reason"] = gap_light(
                    record["difference"], record["p_value"], record["n_a"], record["n_b"],
                    record["lower_is_better"], rule)
            else:
                record.update({c: (cut.raw[c][found] if found is not None else np.nan) for c in _LEVEL_COLUMNS})
                record["light"], record["reason"] = level_light(record["estimate"], record["n"], rule)
            records.append(record)
    return pd.DataFrame(records, columns=[unit, *SCORECARD_COLUMNS])


def _units(frames: list[pd.DataFrame | None], unit: str) -> list[str]:
    seen: dict[str, None] = {}
    for frame in frames:
        if frame is not None and unit in frame:
            # the distinct values first (in order of appearance), then their text: the same order
            # as the text of every row, without making millions of strings
            seen.update(dict.fromkeys(str(v) for v in pd.unique(frame[unit])))
    return [value for value in seen if value != ALL] + [ALL]


def _frame_kind(spec: Mapping[str, Any]) -> str:
    """``sex_gap`` rows read the comparisons, every other kind the estimates (levels)."""
    return "sex_gap" if spec["kind"] == "sex_gap" else "level"


class _Cut(NamedTuple):
    """A frame cut once to the rows the scorecard can use, so that each cell is picked from a few
    rows rather than by scanning millions (a national run's estimates) again."""

    present: set  # the indicators of the whole frame
    rows: pd.DataFrame  # the rows of the scorecard's indicators, in frame order
    raw: dict[str, np.ndarray]  # each column's values
    text: dict[str, np.ndarray]  # the columns the picking compares, as text (as ``astype(str)``)
    blocks: dict[tuple[str, str], np.ndarray]  # (indicator, unit value) -> positions in ``rows``


def _cut(frame: pd.DataFrame | None, specs: list[Mapping[str, Any]], unit: str) -> _Cut:
    if frame is None:
        return _Cut(set(), pd.DataFrame(), {}, {}, {})
    rows = frame[frame["indicator"].isin([spec["indicator"] for spec in specs])]
    # text of the columns _pick compares: the domain columns (every one not a measure) and the filters'
    compared = {c for c in rows.columns if c not in {*COMPARE_COLUMNS, *ESTIMATE_COLUMNS}}
    compared |= {c for spec in specs for c in spec.get("filter", {}) if c in rows}
    if unit in rows:
        blocks = rows.groupby([rows["indicator"], rows[unit].astype(str)], sort=False).indices
    else:  # no unit column: the frame is the whole survey, the "all" unit
        blocks = {(key, ALL): where for key, where in rows.groupby("indicator", sort=False).indices.items()}
    return _Cut(set(pd.unique(frame["indicator"])), rows, {c: rows[c].to_numpy() for c in rows.columns},
                {c: rows[c].astype(str).to_numpy() for c in compared}, blocks)


def _pick(cut: _Cut, spec: Mapping[str, Any], unit: str, value: str) -> int | None:
    """The position in ``cut.rows`` of the one row for this scorecard row and unit value, or None."""
    at = cut.blocks.get((spec["indicator"], value))
    if at is None:
        return None
    filters = dict(spec.get("filter", {}))
    for column, wanted in filters.items():
        if column in cut.text:
            at = at[cut.text[column][at] == str(wanted)]
    # any other domain column: its "all" margin, if it still separates rows (a column such as
    # `district`, constant within a catchment, is left alone)
    known = {*COMPARE_COLUMNS, *ESTIMATE_COLUMNS, unit, *filters}
    for column in [c for c in cut.rows.columns if c not in known]:
        if len(at) < 2:
            break
        margin = cut.text[column][at] == ALL
        # the rows hold the margin and another value (a missing value is none)
        if margin.any() and (~margin & pd.notna(cut.raw[column][at])).any():
            at = at[margin]
    if len(at) > 1:
        rows = cut.rows.iloc[at]
        varying = [c for c in rows.columns if c not in known and rows[c].nunique() > 1]
        raise InputError(f"scorecard: {len(rows)} rows for indicator {spec['indicator']!r} in {unit} {value!r}; "
                         f"expected one (columns that vary: {', '.join(varying) or 'none'})")
    return int(at[0]) if len(at) else None

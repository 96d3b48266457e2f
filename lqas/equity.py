"""Gender and equity: vaccination status and gender indicators, BeSD cross-tabulation, the gender & equity scorecard."""

from __future__ import annotations

import inspect
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lqas.besd import recode_item
from lqas.design import ALL, ESTIMATE_COLUMNS, MISSING_DOMAIN, SurveyDesign
from lqas.errors import ConfigError, InputError
from lqas.indicators import Indicator
from lqas.resources import data_path

DEFAULT_DIMENSIONS = ("vaccination_status", "sex", "caretaker_sex", "caretaker_relationship", "cohort",
                      "catchment", "area")
CROSSTAB_COLUMNS = ["indicator", "dimension", "group", *ESTIMATE_COLUMNS]
COMPARE_COLUMNS = ["indicator", "group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "difference",
                   "difference_se", "difference_ci_low", "difference_ci_high", "ratio", "ratio_ci_low",
                   "ratio_ci_high", "f_statistic", "df_num", "df_den", "p_value", "disadvantaged"]
_GAP_COLUMNS = ["group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "difference", "difference_ci_low",
                "difference_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "disadvantaged"]
_LEVEL_COLUMNS = ["n", "estimate", "ci_low", "ci_high"]
SCORECARD_COLUMNS = ["row", "kind", "indicator", "rule", "lower_is_better", *_GAP_COLUMNS, *_LEVEL_COLUMNS,
                     "light", "reason"]
LIGHTS = ("green", "amber", "red", "grey")
GIRLS, BOYS = "F", "M"
# a 10-point gap computed as 0.55 - 0.45 = 0.09999999999999998 is a 10-point gap
_TOLERANCE = 1e-9
_GAP_KEYS = ("min_n", "red_p_below", "red_gap_against_girls_at_least", "amber_abs_difference_at_least",
             "amber_p_below")
_LEVEL_KEYS = {"lower": ("min_n", "red_at_or_above", "amber_at_or_above"),
               "higher": ("min_n", "red_below", "amber_below")}


# --- configuration ---------------------------------------------------------------------------


def load_equity_config() -> dict[str, Any]:
    """Read the equity definitions and scorecard rules shipped in ``lqas/data/equity.toml``.

    Returns
    -------
    dict
        Keys ``meta``, ``vaccination_status``, ``indicator`` (gender indicators by id),
        ``dimensions`` (cross-tabulation dimensions with en/fr group labels), ``scorecard``
        (``unit`` and the list of ``rows``), ``rules`` (traffic-light rules by id, each with
        ``text_en``/``text_fr``), ``lights`` and ``reasons`` (en/fr wording).

    Raises
    ------
    ConfigError
        If a scorecard row names an unknown rule or kind, a rule lacks a threshold or its en/fr
        text, or a red threshold is less strict than the amber one.
    """
    path = data_path("equity.toml")
    with path.open("rb") as fh:
        config = tomllib.load(fh)
    _validate_config(config, path)
    return config


def _validate_config(config: Mapping[str, Any], path: Any) -> None:
    for rule_id, rule in config["rules"].items():
        where = f"{path}: [rules.{rule_id}]"
        if not (rule.get("text_en") and rule.get("text_fr")):
            raise ConfigError(f"{where} needs text_en and text_fr so the report can state the rule")
        if rule.get("kind") == "gap":
            keys = _GAP_KEYS
        elif rule.get("kind") == "level" and rule.get("direction") in _LEVEL_KEYS:
            keys = _LEVEL_KEYS[rule["direction"]]
        else:
            raise ConfigError(f"{where}: kind must be 'gap', or 'level' with direction 'lower' or 'higher'; "
                              f"got kind={rule.get('kind')!r}, direction={rule.get('direction')!r}")
        absent = [key for key in keys if not isinstance(rule.get(key), (int, float))]
        if absent:
            raise ConfigError(f"{where} lacks numeric {', '.join(absent)}")
        stricter = {"gap": rule.get("red_p_below", 0) <= rule.get("amber_p_below", 0)
                    and rule.get("red_gap_against_girls_at_least", 0) >= rule.get("amber_abs_difference_at_least", 0),
                    "lower": rule.get("red_at_or_above", 0) >= rule.get("amber_at_or_above", 0),
                    "higher": rule.get("red_below", 0) <= rule.get("amber_below", 0)}
        if not stricter[rule["kind"] if rule["kind"] == "gap" else rule["direction"]]:
            raise ConfigError(f"{where}: the red threshold must be at least as strict as the amber one")
    for row in config["scorecard"]["rows"]:
        where = f"{path}: scorecard row {row.get('id')!r}"
        if row.get("kind") not in ("sex_gap", "level"):
            raise ConfigError(f"{where}: kind must be 'sex_gap' or 'level'; got {row.get('kind')!r}")
        rule = config["rules"].get(row.get("rule"))
        if rule is None:
            raise ConfigError(f"{where}: rule {row.get('rule')!r} is not one of {sorted(config['rules'])}")
        if (row["kind"] == "sex_gap") != (rule["kind"] == "gap"):
            raise ConfigError(f"{where}: a sex_gap row needs a gap rule and a level row a level rule")
        if not (row.get("label_en") and row.get("label_fr")):
            raise ConfigError(f"{where} needs label_en and label_fr")


def equity_indicators() -> dict[str, Indicator]:
    """The gender indicators of ``equity.toml`` as registry entries (labels, direction, spec).

    Returns
    -------
    dict of str to Indicator
        ``mother_needs_permission`` and ``mother_decides_vaccination``, ready to merge into
        :func:`lqas.indicators.load_registry` so that tables and the report can label them.
    """
    fields = ("label_en", "label_fr", "direction", "denominator", "definition", "spec")
    return {key: Indicator(id=key, **{field: spec[field] for field in fields})
            for key, spec in load_equity_config()["indicator"].items()}


# --- child-level variables -------------------------------------------------------------------


def vaccination_status(table: pd.DataFrame) -> pd.Series:
    """Partition the children with Penta data into zero-dose, under-immunized and Penta3.

    Parameters
    ----------
    table : DataFrame
        Child-level table with the derived ``zero_dose`` and ``ui_dtp1_not_dtp3`` (0/1/NaN).

    Returns
    -------
    Series
        Named ``vaccination_status``, indexed like ``table``: ``"zero_dose"`` where zero_dose = 1;
        ``"under_immunized"`` where zero_dose = 0 and ui_dtp1_not_dtp3 = 1; ``"penta3"`` where
        both are 0; NaN otherwise (no Penta data).

    Notes
    -----
    besd.md §1.5 asks for BeSD drivers cross-tabulated against the child's status ZD / UI /
    DTP3. With crude doses, ``penta3`` equals ``penta3_crude = 1`` whenever Penta1 is implied by
    a later dose (the default, ``later_dose_implies_earlier``).

    Examples
    --------
    >>> t = pd.DataFrame({"zero_dose": [1, 0, 0, None], "ui_dtp1_not_dtp3": [0, 1, 0, None]})
    >>> vaccination_status(t).tolist()
    ['zero_dose', 'under_immunized', 'penta3', nan]
    """
    absent = [c for c in ("zero_dose", "ui_dtp1_not_dtp3") if c not in table]
    if absent:
        raise InputError(f"vaccination_status: column {', '.join(absent)} missing from the child table; "
                         "derive the vaccination indicators first (lqas.vaccination.derive)")
    zd = pd.to_numeric(table["zero_dose"], errors="coerce")
    ui = pd.to_numeric(table["ui_dtp1_not_dtp3"], errors="coerce")
    status = np.select([zd == 1, (zd == 0) & (ui == 1), (zd == 0) & (ui == 0)],
                       ["zero_dose", "under_immunized", "penta3"], default="")
    status = pd.Series(status, index=table.index, dtype=object)
    return status.where(status != "", np.nan).rename("vaccination_status")


def derive_equity(table: pd.DataFrame, coding: str = "besd-ti", *,
                  columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Child-level equity columns: ``vaccination_status`` and the gender indicators of ``equity.toml``.

    Parameters
    ----------
    table : DataFrame
        The derived child table (``lqas.run.derive_project(...).table``).
    coding : str, default="besd-ti"
        Coding of the raw BeSD answers (the project's ``besd.coding``), for ``CHI_travel``.
    columns : mapping, optional
        BeSD-TI name -> column in ``table`` (see :func:`lqas.besd.derive_besd`).

    Returns
    -------
    DataFrame
        Indexed like ``table``. ``vaccination_status`` (object; when ``zero_dose`` and
        ``ui_dtp1_not_dtp3`` are present) and one float 0/1/NaN column per indicator whose
        source column is present:

        - ``mother_needs_permission``: 1 if ``CHI_travel`` = Yes, 0 if No, NaN if unanswered;
        - ``mother_decides_vaccination``: 1 if ``decides_vaccination`` is mother or both, 0 if
          father, grandparent or other, NaN if unanswered.

        An answer outside the listed codes is NaN, with a warning naming the column and a row.

    Examples
    --------
    >>> t = pd.DataFrame({"CHI_travel": [1, 0, None], "decides_vaccination": ["both", "father", None]})
    >>> derive_equity(t)
       mother_needs_permission  mother_decides_vaccination
    0                      1.0                         1.0
    1                      0.0                         0.0
    2                      NaN                         NaN
    """
    config = load_equity_config()
    out: dict[str, pd.Series] = {}
    if {"zero_dose", "ui_dtp1_not_dtp3"} <= set(table.columns):
        out["vaccination_status"] = vaccination_status(table)
    names = dict(columns or {})
    for key, spec in config["indicator"].items():
        source = names.get(spec["source"], spec["source"])
        if source not in table:
            continue
        if spec["kind"] == "besd_item":
            values = recode_item(table, spec["source"], coding, columns=names)
            out[key] = _indicator_from_codes(values, spec, key, numeric=True)
        else:
            out[key] = _indicator_from_codes(table[source], spec, key, numeric=False)
    return pd.DataFrame(out, index=table.index)


def _indicator_from_codes(values: pd.Series, spec: Mapping[str, Any], key: str, *, numeric: bool) -> pd.Series:
    """1 for a positive code, 0 for a negative code, NaN for missing and (with a warning) unknown codes."""
    if numeric:
        keys = pd.to_numeric(values, errors="coerce")
        positive, negative = set(spec["positive"]), set(spec["negative"])
    else:
        keys = values.astype("string").str.strip().str.lower()
        positive = {str(v).lower() for v in spec["positive"]}
        negative = {str(v).lower() for v in spec["negative"]}
    result = pd.Series(np.nan, index=values.index, dtype=float)
    result[keys.isin(positive).fillna(False).to_numpy(bool)] = 1.0
    result[keys.isin(negative).fillna(False).to_numpy(bool)] = 0.0
    unknown = keys.notna() & result.isna()
    if unknown.any():
        row = unknown.idxmax()
        warnings.warn(f"{key}: {int(unknown.sum())} answer(s) in '{spec['source']}' outside "
                      f"{sorted(positive | negative, key=str)} counted as missing; e.g. row {row}: got "
                      f"{values[row]!r}. Map them in equity.toml [indicator.{key}] if they are valid.",
                      UserWarning, stacklevel=3)
    return result


# --- cross-tabulation ------------------------------------------------------------------------


def besd_crosstabs(design: SurveyDesign, indicators: Sequence[str],
                   dimensions: Sequence[str] | None = None, *, ci: str = "wilson", level: float = 0.95,
                   overall: bool = True) -> pd.DataFrame:
    """Weighted BeSD indicators by each dimension in turn, stacked in one tidy frame.

    Parameters
    ----------
    design : SurveyDesign
        Built on the child table with the equity columns added (:func:`derive_equity`).
    indicators : sequence of str
        0/1/NaN columns, e.g. :func:`lqas.besd.priority_indicators` plus the gender indicators.
    dimensions : sequence of str, optional
        Default ``DEFAULT_DIMENSIONS``: vaccination_status, sex, caretaker_sex,
        caretaker_relationship, cohort, catchment, area (besd.md §1.5). A default dimension
        missing from the data is skipped with a warning; a dimension passed explicitly must exist.
    ci, level
        Interval method and level, as :meth:`SurveyDesign.proportions`.
    overall : bool, default=True
        Add the whole-sample row of each indicator (``dimension`` = ``group`` = ``"all"``).

    Returns
    -------
    DataFrame
        ``CROSSTAB_COLUMNS``: ``indicator``, ``dimension`` (the column name), ``group`` (its value;
        ``"missing"`` where the dimension is missing), then ``ESTIMATE_COLUMNS`` (``n``,
        ``n_weighted``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ...). Ordered by indicator
        (as given), dimension (overall first) and group (``equity.toml`` display order).

    Notes
    -----
    Each dimension is one ``design.proportions(indicators, by=[dimension], margins=False)`` call:
    domains on the full design, so the SE of a group matches R
    ``svyby(~besd_confb, ~vaccination_status, des, svymean, na.rm=TRUE)``
    (``tests/oracles/besd_crosstab.R``).
    """
    config = load_equity_config()
    indicators = list(indicators)
    if dimensions is None:
        dims = [d for d in DEFAULT_DIMENSIONS if d in design.data]
        skipped = [d for d in DEFAULT_DIMENSIONS if d not in design.data]
        if skipped:
            warnings.warn(f"besd_crosstabs: no column {', '.join(skipped)} in the design data; "
                          "those dimensions are left out", UserWarning, stacklevel=2)
    else:
        dims = list(dimensions)
        absent = [d for d in dims if d not in design.data]
        if absent:
            hint = " (add it with lqas.equity.derive_equity before building the design)" \
                if "vaccination_status" in absent else ""
            raise InputError(f"besd_crosstabs: dimension column {', '.join(absent)} is not in the design "
                             f"data{hint}; expected columns of the child table such as {', '.join(DEFAULT_DIMENSIONS)}")
    frames = []
    if overall:
        whole = design.proportions(indicators, ci=ci, level=level)
        whole.insert(1, "dimension", ALL)
        whole.insert(2, "group", ALL)
        frames.append(whole)
    for dim in dims:
        part = design.proportions(indicators, by=[dim], ci=ci, level=level, margins=False)
        part = part.rename(columns={dim: "group"})
        part.insert(1, "dimension", dim)
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)[CROSSTAB_COLUMNS]
    dim_rank = {name: i for i, name in enumerate([ALL, *dims])}
    ind_rank = {name: i for i, name in enumerate(indicators)}

    def group_rank(row: pd.Series) -> tuple:
        order = config["dimensions"].get(row["dimension"], {}).get("order", [])
        group = row["group"]
        if group == MISSING_DOMAIN:
            return (2, 0, "")
        return (0, order.index(group), "") if group in order else (1, 0, group)

    keys = pd.DataFrame({"i": out["indicator"].map(ind_rank), "d": out["dimension"].map(dim_rank),
                         "g": out.apply(group_rank, axis=1)})
    order = sorted(range(len(out)), key=lambda k: (keys.at[k, "i"], keys.at[k, "d"], keys.at[k, "g"]))
    return out.iloc[order].reset_index(drop=True)


# --- sex comparisons -------------------------------------------------------------------------


def compare_by_sex(design: SurveyDesign, outcomes: Sequence[str], by: Sequence[str] | str = ("catchment",),
                   lower_is_better: Mapping[str, bool] | bool = False) -> pd.DataFrame:
    """Girls - boys comparisons of child indicators through ``SurveyDesign.compare``.

    Parameters
    ----------
    design : SurveyDesign
    outcomes : sequence of str
        0/1/NaN child indicators (e.g. ``penta3_crude``, ``zero_dose``).
    by : sequence of str or str, default=("catchment",)
        Domain columns; margins (``"all"``) as the engine returns them.
    lower_is_better : bool or mapping of str to bool, default=False
        Per outcome (or for all): True for zero-dose and under-immunized; decides which sex is
        ``disadvantaged``.

    Returns
    -------
    DataFrame
        The ``.compare()`` schema (``COMPARE_COLUMNS`` plus the ``by`` columns), oriented so that
        ``group_a`` = ``"F"`` and ``group_b`` = ``"M"`` (difference = girls - boys, ratio = girls /
        boys); ``disadvantaged`` filled from the sign of the difference if the engine left it out.

    Raises
    ------
    NotImplementedError
        If this version of ``SurveyDesign`` has no ``compare`` verb yet.
    InputError
        If the design data has no ``sex`` column, or the engine's answer lacks a compare column.
    """
    compare = getattr(design, "compare", None)
    if not callable(compare):
        raise NotImplementedError(
            "compare_by_sex needs SurveyDesign.compare (design-based girls - boys difference, ratio and "
            "Rao-Scott test), which this version of lqas.design does not have yet")
    if "sex" not in design.data:
        raise InputError("compare_by_sex: the design data has no 'sex' column (F/M); expected the child's sex")
    by = [by] if isinstance(by, str) else list(by)
    parameters = inspect.signature(compare).parameters
    takes_list = next(iter(parameters), "") == "outcomes"
    frames = []
    for outcome in outcomes:
        kwargs: dict[str, Any] = {"group": "sex", "by": by}
        flag = lower_is_better.get(outcome, False) if isinstance(lower_is_better, Mapping) else bool(lower_is_better)
        if "lower_is_better" in parameters:
            kwargs["lower_is_better"] = flag
        if "groups" in parameters:
            kwargs["groups"] = (GIRLS, BOYS)
        frame = compare([outcome] if takes_list else outcome, **kwargs).copy()
        if "disadvantaged" not in frame:
            frame["disadvantaged"] = np.nan
        absent = [c for c in COMPARE_COLUMNS if c not in frame]
        if absent:
            raise InputError(f"compare_by_sex: SurveyDesign.compare returned no column {', '.join(absent)}")
        frame = girls_first(frame)
        adverse = _adverse(frame["difference"].to_numpy(float), flag)
        fill = np.where(adverse > _TOLERANCE, GIRLS, np.where(adverse < -_TOLERANCE, BOYS, None))
        given = frame["disadvantaged"]
        frame["disadvantaged"] = given.where(given.notna(), pd.Series(fill, index=frame.index))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COMPARE_COLUMNS)


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


# --- scorecard -------------------------------------------------------------------------------


def gap_light(difference: float, p_value: float, n_girls: float, n_boys: float, lower_is_better: bool,
              rule: Mapping[str, Any]) -> tuple[str, str]:
    """Traffic light of a girls - boys gap under a ``kind = "gap"`` rule of ``equity.toml``.

    Returns
    -------
    (light, reason)
        ``light`` in ``green``/``amber``/``red``/``grey``; ``reason`` a key of ``[reasons]``.

    Examples
    --------
    >>> rule = load_equity_config()["rules"]["sex_gap"]
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
    >>> rule = load_equity_config()["rules"]["mother_needs_permission"]
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
        Output of ``SurveyDesign.compare`` / :func:`compare_by_sex`: ``COMPARE_COLUMNS`` plus
        domain columns (e.g. ``catchment``, with ``"all"`` for the margin). Rows comparing M with
        F are re-oriented (:func:`girls_first`).
    levels : DataFrame or None
        Output of ``SurveyDesign.proportions`` for the level rows' indicators (e.g.
        ``mother_needs_permission`` by ``catchment``).
    rules : mapping, optional
        The equity configuration (:func:`load_equity_config`, the default): scorecard rows and
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
    config = rules if rules is not None else load_equity_config()
    unit = unit or config["scorecard"]["unit"]
    if comparisons is not None and len(comparisons):
        comparisons = girls_first(comparisons)
    units = _units([comparisons, levels], unit)
    records = []
    for value in units:
        for spec in config["scorecard"]["rows"]:
            frame = comparisons if spec["kind"] == "sex_gap" else levels
            if frame is None or spec["indicator"] not in set(frame["indicator"]):
                continue
            rule = config["rules"][spec["rule"]]
            record: dict[str, Any] = {unit: value, "row": spec["id"], "kind": spec["kind"],
                                      "indicator": spec["indicator"], "rule": spec["rule"],
                                      "lower_is_better": spec.get("lower_is_better",
                                                                  rule.get("direction") == "lower")}
            found = _pick(frame, spec, unit, value)
            if spec["kind"] == "sex_gap":
                record.update({c: (found[c] if found is not None else np.nan) for c in _GAP_COLUMNS})
                record["light"], record["reason"] = gap_light(
                    record["difference"], record["p_value"], record["n_a"], record["n_b"],
                    record["lower_is_better"], rule)
            else:
                record.update({c: (found[c] if found is not None else np.nan) for c in _LEVEL_COLUMNS})
                record["light"], record["reason"] = level_light(record["estimate"], record["n"], rule)
            records.append(record)
    return pd.DataFrame(records, columns=[unit, *SCORECARD_COLUMNS])


def _units(frames: list[pd.DataFrame | None], unit: str) -> list[str]:
    seen: dict[str, None] = {}
    for frame in frames:
        if frame is not None and unit in frame:
            seen.update(dict.fromkeys(frame[unit].astype(str)))
    return [value for value in seen if value != ALL] + [ALL]


def _pick(frame: pd.DataFrame, spec: Mapping[str, Any], unit: str, value: str) -> pd.Series | None:
    """The one row of ``frame`` for this scorecard row and unit value, or None."""
    rows = frame[frame["indicator"] == spec["indicator"]]
    if unit in rows:
        rows = rows[rows[unit].astype(str) == value]
    elif value != ALL:
        return None
    filters = dict(spec.get("filter", {}))
    for column, wanted in filters.items():
        if column in rows:
            rows = rows[rows[column].astype(str) == str(wanted)]
    # any other domain column: its "all" margin, if it still separates rows (a column such as
    # `district`, constant within a catchment, is left alone)
    known = {*COMPARE_COLUMNS, *ESTIMATE_COLUMNS, unit, *filters}
    for column in [c for c in rows.columns if c not in known]:
        if len(rows) > 1 and rows[column].nunique() > 1 and rows[column].astype(str).eq(ALL).any():
            rows = rows[rows[column].astype(str) == ALL]
    if len(rows) > 1:
        varying = [c for c in rows.columns if c not in known and rows[c].nunique() > 1]
        raise InputError(f"scorecard: {len(rows)} rows for indicator {spec['indicator']!r} in {unit} {value!r}; "
                         f"expected one (columns that vary: {', '.join(varying) or 'none'})")
    return rows.iloc[0] if len(rows) else None


def equity_scorecard(design: SurveyDesign, rules: Mapping[str, Any] | None = None, *, unit: str | None = None,
                     ci: str = "wilson", level: float = 0.95) -> pd.DataFrame:
    """Compute the scorecard's inputs on ``design`` and return :func:`scorecard` of them.

    The sex-gap rows use :func:`compare_by_sex` by ``unit`` (and by the columns of the rows'
    ``filter``, e.g. cohort, when present); the level rows use ``design.proportions`` by ``unit``.
    Rows whose indicator is not in the design data are left out.

    Raises
    ------
    NotImplementedError
        Until ``SurveyDesign.compare`` exists (see :func:`compare_by_sex`).
    """
    config = rules if rules is not None else load_equity_config()
    unit = unit or config["scorecard"]["unit"]
    data = design.data
    gap_rows = [r for r in config["scorecard"]["rows"] if r["kind"] == "sex_gap" and r["indicator"] in data]
    level_rows = [r for r in config["scorecard"]["rows"] if r["kind"] == "level" and r["indicator"] in data]
    by = [unit] if unit in data else []
    extra = sorted({c for r in gap_rows for c in r.get("filter", {}) if c in data and c not in by})
    outcomes = list(dict.fromkeys(r["indicator"] for r in gap_rows))
    lower = {r["indicator"]: bool(r["lower_is_better"]) for r in gap_rows}
    comparisons = compare_by_sex(design, outcomes, [*by, *extra], lower) if outcomes else None
    levels = design.proportions(list(dict.fromkeys(r["indicator"] for r in level_rows)), by=by, ci=ci,
                                level=level) if level_rows else None
    return scorecard(comparisons, levels, config, unit=unit)


# --- report helpers --------------------------------------------------------------------------


def equity_labels(lang: str, rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """en/fr wording for the BeSD cross-tabulation and the scorecard, from ``equity.toml``.

    Returns
    -------
    dict
        ``dimension`` (column -> label), ``group`` (column -> value -> label; catchment and
        cohort labels come from the project), ``row`` (scorecard row id -> label), ``rule``
        (rule id -> the rule's full text), ``light`` and ``reason`` (key -> label), ``indicator``
        (gender indicator id -> label).
    """
    config = rules if rules is not None else load_equity_config()
    suffix = "fr" if lang == "fr" else "en"
    return {
        "dimension": {ALL: config["overall"][suffix],
                      **{k: v[f"label_{suffix}"] for k, v in config["dimensions"].items()}},
        "group": {k: {g: text[suffix] for g, text in v.get("groups", {}).items()}
                  for k, v in config["dimensions"].items()},
        "row": {r["id"]: r[f"label_{suffix}"] for r in config["scorecard"]["rows"]},
        "rule": {k: v[f"text_{suffix}"] for k, v in config["rules"].items()},
        "light": {k: v[suffix] for k, v in config["lights"].items()},
        "reason": {k: v[suffix] for k, v in config["reasons"].items()},
        "indicator": {k: v[f"label_{suffix}"] for k, v in config["indicator"].items()},
    }


def scorecard_context(card: pd.DataFrame, lang: str, *, unit_labels: Mapping[str, str] | None = None,
                      rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Plain data for the report template: the scorecard in blocks, with wording in ``lang``.

    Parameters
    ----------
    card : DataFrame
        Output of :func:`scorecard` / :func:`equity_scorecard` (first column = the unit).
    lang : {"en", "fr"}
    unit_labels : mapping, optional
        Unit value -> display name (e.g. the project's catchment labels); ``"all"`` is shown as
        "All" / "Ensemble" unless given.
    rules : mapping, optional
        The equity configuration (default: the packaged ``equity.toml``).

    Returns
    -------
    dict
        ``blocks``: one per unit value in scorecard order, each ``{"unit", "label", "counts"
        (light -> number of rows), "rows"}``; each row is the scorecard record (NaN -> None) plus
        ``label``, ``light_label`` and ``reason_label``. ``rules``: ``[{"id", "text"}]`` for the
        rules used, to print under the table. ``lights``: light -> label.
    """
    labels = equity_labels(lang, rules)
    names = {ALL: labels["dimension"][ALL], **dict(unit_labels or {})}
    unit = card.columns[0]
    blocks = []
    for value in dict.fromkeys(card[unit]):
        block = card[card[unit] == value]
        rows = []
        for record in block.to_dict("records"):
            record = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()}
            record.update(label=labels["row"][record["row"]], light_label=labels["light"][record["light"]],
                          reason_label=labels["reason"][record["reason"]])
            rows.append(record)
        blocks.append({"unit": value, "label": names.get(value, value),
                       "counts": {light: int((block["light"] == light).sum()) for light in LIGHTS}, "rows": rows})
    used = list(dict.fromkeys(card["rule"]))
    return {"blocks": blocks, "rules": [{"id": rule, "text": labels["rule"][rule]} for rule in used],
            "lights": labels["light"]}

"""Derived variables (03DV) for the WHO BeSD module: raw ``CHI_*`` answers to ``besd_<item>`` 0/1/NaN."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lqas.config._validation import read_toml
from lqas.config.besd import validate_besd_registry
from lqas.errors import ConfigError
from lqas.readers import per_value
from lqas.resources import data_path

PROBLEM_COLUMNS = ["column", "row", "code", "count", "expected"]
MULTISELECT_PROBLEM_COLUMNS = ["row", "item", "problem"]
_KOBO_SEPARATOR = "/"


def load_besd_registry() -> dict[str, Any]:
    """Read the BeSD item registry shipped in ``lqas/data/besd.toml``.

    Returns
    -------
    dict
        Keys ``meta``, ``domains``, ``eligibility``, ``items`` (keyed by BeSD-TI variable, e.g.
        ``CHI_confb``), ``multiselect`` (keyed by stem, e.g. ``CHI_lowac``) and ``codings``
        (keyed by coding name: ``besd-ti``, ``yes1-no2``).

    Raises
    ------
    ConfigError
        Every problem of the file, one line each: unknown keys (with a suggestion), an item naming
        a scale that a coding does not define, favourable codes outside the scale, ...
    """
    path = data_path("besd.toml")
    registry = read_toml(path, "BeSD registry")
    validate_besd_registry(registry, path)
    return registry


def derive_besd(
    data: pd.DataFrame,
    coding: str = "besd-ti",
    *,
    columns: Mapping[str, str] | None = None,
    eligible: pd.Series | None = None,
    return_problems: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Dichotomise the BeSD items of each respondent into ``besd_<item>`` indicators.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (the caregiver of the sampled child), BeSD-TI variable names.
    coding : {"besd-ti", "yes1-no2"} or any ``[codings.*]`` table in ``besd.toml``, default="besd-ti"
        How the raw answers are coded; each scale is mapped to the canonical BeSD-TI codes first.
    columns : mapping, optional
        BeSD-TI name -> column in ``data`` for exports that renamed variables, e.g.
        ``{"CHI_confb": "q12"}``; multi-select options by full name (``{"CHI_lowacnoth": "q20_1"}``).
    eligible : boolean Series, optional
        Who answered the BeSD module, aligned on ``data.index``. Default: rows whose
        ``CHI_consent`` and ``CHI_parcar`` (each only if present) are Yes (``[eligibility]``).
    return_problems : bool, default=False
        Also return the table of unknown codes. When False, unknown codes raise a warning.

    Returns
    -------
    DataFrame, or (DataFrame, DataFrame) when ``return_problems``
        Indexed like ``data``, float columns of 0/1/NaN:

        - ``besd_<item>`` for each core item present (``besd_confb``, ``besd_travel``, ...);
        - ``besd_lowac_<opt>``, ``besd_quali_<opt>`` for each multi-select option present;
        - ``besd_lowac_any_gender_barrier`` when at least one gender-related option is present.

        The problems table has columns ``column`` (in ``data``), ``row`` (first row label with
        that code), ``code``, ``count`` and ``expected`` (the codes the coding allows).

    Notes
    -----
    Denominator rule (besd.md §1.4, "Weighted: the denominator **must** be ALL ... Missing answers
    stay in the denominator and out of the numerator", from BeSD-TI Tables 5-1/5-2): for an
    eligible respondent an item is 1 if the answer is a favourable code and 0 otherwise -- an
    unfavourable answer, an empty cell, a non-answer code (98/99 in ``yes1-no2``) or an unknown
    code all give 0. Only respondents who are not eligible (no consent, not a parent/caregiver of
    a child under 5) are NaN, i.e. outside every BeSD denominator. A weighted mean of a column
    therefore equals BeSD-TI's weighted DESC_02 estimate with denominator ALL.

    Favourable codes: 4-point items 3 or 4, intent 3 (all), Yes/No items Yes, except the
    reverse-coded ``CHI_travel`` and ``CHI_avail`` where No is favourable. Multi-select options
    are 1 when selected, else 0 (BeSD-TI DESC_03, denominator ALL); an exclusive option chosen
    together with others is kept as given -- see :func:`check_multiselect`.

    Unknown codes never stop the derivation: they count as "not favourable" (as a stray level
    does in BeSD-TI's ALL denominator) and are listed in the problems table.

    Examples
    --------
    >>> raw = pd.DataFrame({"CHI_consent": [1, 1, 0], "CHI_confb": [4, None, None], "CHI_travel": [0, 1, None]})
    >>> derive_besd(raw)
       besd_confb  besd_travel
    0         1.0          1.0
    1         0.0          0.0
    2         NaN          NaN
    """
    registry = load_besd_registry()
    if coding not in registry["codings"]:
        raise ConfigError(
            f"unknown BeSD coding {coding!r}; expected one of {sorted(registry['codings'])} "
            "(add a [codings.<name>] table to lqas/data/besd.toml for a new coding)"
        )
    code_map = registry["codings"][coding]
    names = dict(columns or {})
    problems: list[dict[str, Any]] = []
    if eligible is None:
        is_eligible = _eligibility(data, registry["eligibility"], code_map, names, problems)
    else:
        if not isinstance(eligible, pd.Series):
            eligible = pd.Series(np.asarray(eligible), index=data.index)
        # a row the caller did not mention is not eligible
        is_eligible = eligible.reindex(data.index).eq(True)

    out: dict[str, pd.Series] = {}
    for item, spec in registry["items"].items():
        column = names.get(item, item)
        if column not in data.columns:
            continue
        canonical = _recode(data[column], code_map, spec["scale"], problems)
        out[spec["indicator"]] = _mask(canonical.isin(spec["favourable"]), is_eligible)

    for stem, spec in registry["multiselect"].items():
        selected = _selected_options(data, stem, spec, code_map, names, problems)
        for key, chosen in selected.items():
            out[spec["indicator_prefix"] + key] = _mask(chosen, is_eligible)
        gender = [selected[key] for key in spec["gender_related"] if key in selected]
        if gender:
            any_barrier = pd.concat(gender, axis=1).any(axis=1)
            out[spec["gender_indicator"]] = _mask(any_barrier, is_eligible)

    derived = pd.DataFrame(out, index=data.index, dtype=float)
    report = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    if return_problems:
        return derived, report
    if len(report):
        first = report.iloc[0]
        warnings.warn(
            f"BeSD: {int(report['count'].sum())} cell(s) with unknown codes counted as not favourable; "
            f"e.g. column '{first['column']}', row {first['row']}: got {_plain(first['code'])!r}, "
            f"expected {first['expected']}; give the survey's own answers their BeSD-TI codes in the mapping "
            f"profile ([codes] {first['column']} = {{ <answer> = <code>, ... }}), or name a numeric coding of "
            f"lqas/data/besd.toml in survey.toml ([besd] coding)",
            UserWarning,
            stacklevel=2,
        )
    return derived


def check_multiselect(
    data: pd.DataFrame, coding: str = "besd-ti", *, columns: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """List inconsistent answers to the multi-select items (``CHI_lowac*``, ``CHI_quali*``).

    Two problems are reported per row and item: the exclusive option ("noth") chosen together
    with another option, and no option chosen although the question was answered (at least one
    option column holds a valid code). Rows where every option is empty were not asked and are
    not reported. The caller decides whether to repair or exclude them.

    Parameters
    ----------
    data : DataFrame
        Split multi-select columns, BeSD-TI (``CHI_lowacnoth``) or Kobo (``CHI_lowac/noth``) style.
    coding : str, default="besd-ti"
        Coding of the option columns (see :func:`derive_besd`).
    columns : mapping, optional
        Full option name -> column in ``data``, as in :func:`derive_besd`.

    Returns
    -------
    DataFrame
        Columns ``row`` (row label in ``data``), ``item`` (stem, e.g. ``CHI_lowac``), ``problem``.
    """
    rows: list[dict[str, Any]] = []
    for stem, exclusive, chosen, others, clash, empty in _multiselect_flags(data, coding, columns):
        for position in np.flatnonzero(clash.to_numpy()):
            picked = ", ".join(others.columns[others.iloc[position].to_numpy()])
            rows.append({"row": chosen.index[position], "item": stem,
                         "problem": f"exclusive option '{exclusive}' chosen together with: {picked}"})
        for row in chosen.index[empty]:
            rows.append({"row": row, "item": stem, "problem": "question answered but no option chosen"})
    return pd.DataFrame(rows, columns=MULTISELECT_PROBLEM_COLUMNS)


def _multiselect_flags(data: pd.DataFrame, coding: str, columns: Mapping[str, str] | None):
    """Per answered multi-select: (stem, exclusive option, chosen options, other options,
    rows choosing the exclusive option with another, rows answered with no option)."""
    registry = load_besd_registry()
    if coding not in registry["codings"]:
        raise ConfigError(f"unknown BeSD coding {coding!r}; expected one of {sorted(registry['codings'])}")
    code_map = registry["codings"][coding]
    names = dict(columns or {})
    for stem, spec in registry["multiselect"].items():
        answered: dict[str, pd.Series] = {}
        selected = _selected_options(data, stem, spec, code_map, names, [], answered=answered)
        if not selected:
            continue
        chosen = pd.DataFrame(selected)
        exclusive = spec["exclusive"]
        others = chosen.drop(columns=[exclusive], errors="ignore")
        clash = (chosen[exclusive] & others.any(axis=1) if exclusive in chosen and not others.empty
                 else pd.Series(False, index=chosen.index))
        empty = pd.DataFrame(answered).any(axis=1) & ~chosen.any(axis=1)
        yield stem, exclusive, chosen, others, clash, empty


def _eligibility(data, rule, code_map, names, problems) -> pd.Series:
    """True where every eligibility column present in ``data`` holds an accepted code."""
    mask = pd.Series(True, index=data.index)
    for variable in rule["columns"]:
        column = names.get(variable, variable)
        if column in data.columns:
            mask &= _recode(data[column], code_map, rule["scale"], problems).isin(rule["accept"])
    return mask


def _selected_options(data, stem, spec, code_map, names, problems, answered=None) -> dict[str, pd.Series]:
    """Boolean "selected" Series per option present in ``data`` (BeSD-TI or Kobo column names)."""
    selected = {}
    for option in spec["options"]:
        key = option["key"]
        full = stem + key
        column = names.get(full)
        if column is None:
            column = next((c for c in (full, stem + _KOBO_SEPARATOR + key) if c in data.columns), None)
        if column is None or column not in data.columns:
            continue
        canonical = _recode(data[column], code_map, "multiselect", problems)
        selected[key] = canonical.eq(1)
        if answered is not None:
            answered[key] = canonical.notna()
    return selected


def _recode(series: pd.Series, code_map: Mapping[str, Any], scale: str, problems: list) -> pd.Series:
    """Map raw codes to canonical BeSD-TI codes; missing and unknown become NaN, unknown is logged."""
    spec = code_map["scales"][scale]

    def recode(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        text = series.astype("string").str.strip()
        numeric = pd.to_numeric(text.mask(text == ""), errors="coerce")
        canonical = numeric.map(dict(zip(spec["from"], spec["to"]))).astype(float)
        blank = series.isna() | text.isna() | (text == "")
        return canonical, text, ~blank & canonical.isna() & ~numeric.isin(code_map["missing"])

    # once per distinct answer, not per respondent: a national survey has millions of them
    canonical, text, unknown = per_value(series, recode)
    if unknown.any():
        allowed = sorted(set(spec["from"]) | set(code_map["missing"]))
        expected = f"{allowed} or empty"
        keys = text[unknown]
        for code in sorted(keys.unique()):
            hit = keys == code
            problems.append({"column": series.name, "row": hit.idxmax(),
                             "code": _plain(series[unknown][hit].iloc[0]),
                             "count": int(hit.sum()), "expected": expected})
    return canonical


def _mask(flag: pd.Series, is_eligible: pd.Series) -> pd.Series:
    """0/1 float where eligible, NaN elsewhere."""
    return pd.Series(np.where(is_eligible, flag.astype(float), np.nan), index=flag.index)


def _plain(value: Any) -> Any:
    """Plain Python value for messages: ``5`` rather than ``np.float64(5.0)``."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


MULTISELECT_SUMMARY_COLUMNS = ["item", "problem", "count"]


def priority_indicators() -> list[str]:
    """The five WHO BeSD priority indicators in BeSD-TI's standard plot order.

    Returns
    -------
    list of str
        ``["besd_confb", "besd_normf", "besd_intent", "besd_where", "besd_afford"]``: the order of
        ``[plots.core]`` in ``besd.toml`` (BeSD-TI ``besd_core_plot.R``, besd.md §1.4).

    Examples
    --------
    >>> priority_indicators()
    ['besd_confb', 'besd_normf', 'besd_intent', 'besd_where', 'besd_afford']
    """
    registry = load_besd_registry()
    return [registry["items"][item]["indicator"] for item in registry["plots"]["core"]["order"]]


def recode_item(data: pd.DataFrame, item: str, coding: str = "besd-ti", *,
                columns: Mapping[str, str] | None = None) -> pd.Series:
    """Canonical BeSD-TI codes of one core item, NaN where there is no usable answer.

    Unlike :func:`derive_besd` (BeSD-TI's ALL denominator, where a missing answer counts as not
    favourable), this keeps the answer itself: it is the input of indicators whose denominator
    is "respondents who answered", such as ``mother_needs_permission`` (lqas.gender).

    Parameters
    ----------
    data : DataFrame
        One row per respondent, BeSD-TI variable names (or renamed through ``columns``).
    item : str
        A core item of ``besd.toml``, e.g. ``"CHI_travel"``.
    coding : str, default="besd-ti"
        Coding of the raw answers (see :func:`derive_besd`).
    columns : mapping, optional
        BeSD-TI name -> column in ``data``.

    Returns
    -------
    Series
        Float canonical codes (No=0/Yes=1, 1-4, intent 1-3), indexed like ``data``. NaN for an
        empty cell, a non-answer code, an unknown code, or a respondent who is not eligible
        (``[eligibility]``, as in :func:`derive_besd`).

    Examples
    --------
    >>> recode_item(pd.DataFrame({"CHI_travel": ["1", "0", None]}), "CHI_travel").tolist()
    [1.0, 0.0, nan]
    """
    registry = load_besd_registry()
    if item not in registry["items"]:
        raise ConfigError(f"unknown BeSD item {item!r}; expected one of {sorted(registry['items'])}")
    if coding not in registry["codings"]:
        raise ConfigError(f"unknown BeSD coding {coding!r}; expected one of {sorted(registry['codings'])}")
    code_map = registry["codings"][coding]
    names = dict(columns or {})
    column = names.get(item, item)
    if column not in data.columns:
        raise ConfigError(f"BeSD item {item!r}: column {column!r} is not in the data; "
                          "map it with columns={...} if the export renamed it")
    problems: list[dict[str, Any]] = []
    eligible = _eligibility(data, registry["eligibility"], code_map, names, problems)
    canonical = _recode(data[column], code_map, registry["items"][item]["scale"], problems)
    return canonical.where(eligible).rename(item)


def multiselect_summary(data: pd.DataFrame, coding: str = "besd-ti", *,
                        columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Count the multi-select inconsistencies of :func:`check_multiselect` for the data-quality annex.

    Parameters
    ----------
    data, coding, columns
        As in :func:`check_multiselect`.

    Returns
    -------
    DataFrame
        Columns ``item`` (stem, e.g. ``CHI_lowac``), ``problem`` (``exclusive_with_other`` or
        ``no_option``; en/fr wording in ``besd.toml`` ``[multiselect_problems]``) and ``count``
        (respondents). One row per multi-select item present in ``data`` and per problem, zero
        counts included, so the annex shows that the check ran.

    Examples
    --------
    >>> raw = pd.DataFrame({"CHI_lowacnoth": [1, 1, 0], "CHI_lowachard": [0, 1, 0]})
    >>> multiselect_summary(raw)
            item               problem  count
    0  CHI_lowac  exclusive_with_other      1
    1  CHI_lowac             no_option      1
    """
    rows: list[dict[str, Any]] = []
    for stem, _, _, _, clash, empty in _multiselect_flags(data, coding, columns):
        rows.append({"item": stem, "problem": "exclusive_with_other", "count": int(clash.sum())})
        rows.append({"item": stem, "problem": "no_option", "count": int(empty.sum())})
    return pd.DataFrame(rows, columns=MULTISELECT_SUMMARY_COLUMNS)

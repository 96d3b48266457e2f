"""Where the zero-dose children are (``[small_area]``, issue 22): one indicator's estimate for every area
of a file, sampled or not, from the survey's direct estimates and the areas' covariates.

The survey samples a few areas; a district has dozens. The areas file lists them all, with covariates
known everywhere (DHIS2's administrative coverage, distance, urban share). The Fay–Herriot model
(:func:`lqas.small_area.small_area`) is fitted to the sampled areas' direct estimates and their design
variances (``estimates.csv``); it gives each sampled area its EBLUP and every other area its synthetic
estimate, with the MSE, the number of children, the probability of exceeding the programme's threshold
and a rank with its interval. When the model cannot be fitted (too few sampled areas, no convergence,
unusable covariates) the run goes on: ``small_area.csv`` holds the direct estimates and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lqas.config import Project
from lqas.config.project import SmallAreaConfig
from lqas.design import unit_rows
from lqas.errors import InputError
from lqas.readers import normalise_code, read_source
from lqas.small_area import SmallAreaError, small_area

# small_area.csv: what identifies the area, how it was estimated, the estimate and its precision, the
# numbers of children, the exceedance and the rank, then the model-scale values a statistician checks
SMALL_AREA_COLUMNS = ["indicator", "cohort", "area", "name", "parent", "sampled", "method", "n", "direct",
                      "direct_se", "estimate", "se", "ci_low", "ci_high", "gamma", "threshold", "prob_exceeds",
                      "population", "children", "children_ci_low", "children_ci_high", "rank", "rank_low",
                      "rank_high", "lqas_class", "direct_model", "variance_model", "variance_from",
                      "estimate_model", "mse_model", "synthetic_model", "residual"]


@dataclass(frozen=True)
class SmallAreaResults:
    """One indicator for every area of ``[small_area] file``.

    Attributes
    ----------
    table : DataFrame
        ``small_area.csv`` (:data:`SMALL_AREA_COLUMNS`), one row per area of the file in its order.
        ``method`` is ``eblup`` (a sampled area: the direct estimate and the model's, weighted by
        ``gamma``), ``synthetic`` (an area not sampled: the model's alone), ``direct`` (the model was not
        fitted: the survey's estimate) or ``none`` (not sampled and no model).
    fit : dict or None
        The model's fit (method, transform, area variance, coefficients with their SEs, iterations,
        convergence, log-likelihood, areas sampled and synthetic); None when it was not fitted.
    message : str or None
        Why the model was not fitted (one line, for the report and the console).
    settings : SmallAreaConfig
    threshold : float or None
        The threshold ``prob_exceeds`` is for (``[small_area] threshold`` or the LQAS target's bad one).
    boundaries : lqas.maps.Boundaries or None
        The areas' boundaries (``[small_area] boundaries``), checked against the areas.
    """

    table: pd.DataFrame
    fit: dict[str, Any] | None
    message: str | None
    settings: SmallAreaConfig
    threshold: float | None
    boundaries: Any = None


def hotspots(project: Project, table: pd.DataFrame, estimates: pd.DataFrame,
             classification: pd.DataFrame) -> SmallAreaResults | None:
    """The small-area estimates of ``[small_area]`` (None without it).

    Raises
    ------
    InputError
        The areas file or the boundaries file cannot be used (one line naming the file, the row as a
        spreadsheet shows it and the column): a column missing, an area listed twice, a covariate
        missing or not a number, a sampled area not in the file, an area with no boundary.
    """
    settings = project.small_area
    if settings is None:
        return None
    path = project.resolve(settings.file)
    areas = read_areas(path, settings)
    codes = areas["area"].tolist()
    sampled_codes = match_sampled(path, settings, codes, _survey_units(table, settings.column))
    direct = _direct(estimates, settings, sampled_codes)
    frame = areas.assign(sampled=[code in sampled_codes.values() for code in codes])
    frame = frame.merge(direct, on="area", how="left")
    threshold = settings.threshold if settings.threshold is not None else _target_threshold(project, settings)
    boundaries = None
    if settings.boundaries is not None:
        from lqas.maps import read_boundaries

        boundaries = read_boundaries(project.resolve(settings.boundaries), settings.boundary_key, codes,
                                     names=dict(zip(codes, frame["name"])))
    classes = _lqas_classes(classification, project, settings, sampled_codes)
    try:
        model = small_area(frame, estimate="direct", variance="variance", covariates=settings.covariates,
                           sampled="sampled", area="area", transform=settings.transform, method=settings.method,
                           min_areas=settings.min_areas, threshold=threshold,
                           population="population" if settings.population else None, effective_n="neff",
                           level=project.design.level)
        fit, message = _plain(model.attrs["small_area"]), None
        model["method"] = np.where(model["sampled"], "eblup", "synthetic")
    except SmallAreaError as exc:
        model, fit, message = _direct_only(frame, threshold), None, str(exc)
    model["indicator"], model["cohort"] = settings.indicator, settings.cohort
    model["name"], model["parent"], model["n"] = frame["name"].to_numpy(), frame["parent"].to_numpy(), frame["n"].to_numpy()
    model["lqas_class"] = [classes.get(code) for code in codes]
    if "population" not in model:
        model["population"] = frame["population"].to_numpy() if "population" in frame else np.nan
    for column in SMALL_AREA_COLUMNS:
        if column not in model:
            model[column] = np.nan
    return SmallAreaResults(table=model[SMALL_AREA_COLUMNS], fit=fit, message=message, settings=settings,
                            threshold=threshold, boundaries=boundaries)


def _plain(value: Any) -> Any:
    """numpy numbers as Python's, so the fit goes into JSON as it is."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value.item() if isinstance(value, np.generic) else value


def read_areas(path: Path, settings: SmallAreaConfig) -> pd.DataFrame:
    """The areas file: ``area``, ``name``, ``parent``, ``population`` and the covariates (numbers, or
    text where a column holds no number at all), one row per area, every value checked."""
    source = read_source(path)
    frame = source.frame
    wanted = [settings.area, *([settings.name] if settings.name else []),
              *([settings.parent] if settings.parent else []), *settings.covariates,
              *([settings.population] if settings.population else [])]
    missing = [name for name in dict.fromkeys(wanted) if name not in frame.columns]
    if missing:
        raise InputError(f"{path}: column missing: {', '.join(missing)} ([small_area] names it); the file has "
                         f"{', '.join(map(str, frame.columns))}")

    def row(index: int) -> int:
        return int(index) + source.row_offset

    codes = frame[settings.area].map(lambda v: "" if pd.isna(v) else str(v).strip())
    empty = np.flatnonzero(codes.eq("").to_numpy())
    if len(empty):
        raise InputError(f"{path}: row {row(empty[0])}, column '{settings.area}': the area's code is empty")
    twice = codes.duplicated(keep=False).to_numpy()
    if twice.any():
        first, again = (row(i) for i in np.flatnonzero(twice)[:2])
        raise InputError(f"{path}: row {again}, column '{settings.area}': area {codes[twice].iloc[0]!r} is listed "
                         f"again (first at row {first}); keep one row per area")
    out = pd.DataFrame({"area": codes.to_numpy()})
    out["name"] = (frame[settings.name].map(lambda v: None if pd.isna(v) else str(v).strip()).to_numpy()
                   if settings.name else None)
    out["name"] = out["name"].where(out["name"].notna() & out["name"].ne(""), out["area"])
    out["parent"] = (frame[settings.parent].map(lambda v: None if pd.isna(v) else str(v).strip()).to_numpy()
                     if settings.parent else None)
    for name in settings.covariates:
        out[name] = _covariate(frame[name], path, name, row)
    if settings.population:
        values = pd.to_numeric(frame[settings.population], errors="coerce")
        bad = (frame[settings.population].notna() & ~(values >= 0)).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{path}: row {row(i)}, column '{settings.population}': must be a number of children, "
                             f"0 or more; got {frame[settings.population].iloc[i]!r}")
        out["population"] = values.to_numpy(float)
    return out


def _covariate(values: pd.Series, path: Path, name: str, row) -> pd.Series:
    """A covariate known for every area: numbers, or (no value a number) categories."""
    missing = values.isna() | values.astype(str).str.strip().eq("")
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError(f"{path}: row {row(i)}, column '{name}': the covariate is missing; the model needs it for "
                         "every area, sampled or not")
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().all():
        return values.astype(str).str.strip().reset_index(drop=True)
    if numbers.isna().any():
        i = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise InputError(f"{path}: row {row(i)}, column '{name}': must be a number; got {values.iloc[i]!r}")
    return numbers.astype(float).reset_index(drop=True)


def match_sampled(path: Path, settings: SmallAreaConfig, codes: list[str], units: list[str]) -> dict[str, str]:
    """Each surveyed unit's area code in the file: the same code, or the same once accents, case and
    punctuation are set aside. A surveyed unit with no row is an error: the model would lose it."""
    exact = set(codes)
    by_normal: dict[str, list[str]] = {}
    for code in codes:
        by_normal.setdefault(normalise_code(code), []).append(code)
    found, unmatched = {}, []
    for unit in units:
        if unit in exact:
            found[unit] = unit
        elif len(by_normal.get(normalise_code(unit), [])) == 1:
            found[unit] = by_normal[normalise_code(unit)][0]
        else:
            unmatched.append(unit)
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else "")
        raise InputError(f"{path}: no row for {len(unmatched)} surveyed {settings.column} value(s): {shown} "
                         f"(column '{settings.area}'); every sampled area needs its row")
    return found


def _survey_units(table: pd.DataFrame, column: str) -> list[str]:
    if column not in table:
        raise InputError(f"[small_area] column '{column}' is not a column of the survey's child table")
    return sorted(table[column].dropna().astype(str).unique())


def _direct(estimates: pd.DataFrame, settings: SmallAreaConfig, sampled: dict[str, str]) -> pd.DataFrame:
    """Each sampled area's direct estimate of the indicator in the cohort, its design variance, n and
    effective n (estimates.csv's rows of the area, every other domain at its margin)."""
    rows = unit_rows(estimates, settings.indicator, settings.column, cohort=settings.cohort)
    rows = rows[rows[settings.column].astype(str).isin(sampled)]
    out = pd.DataFrame({"area": rows[settings.column].astype(str).map(sampled).to_numpy(),
                        "direct": rows["estimate"].to_numpy(float),
                        "variance": (rows["se"] ** 2).to_numpy(float),
                        "n": rows["n"].to_numpy(float), "neff": rows["neff"].to_numpy(float),
                        "direct_ci_low": rows["ci_low"].to_numpy(float),
                        "direct_ci_high": rows["ci_high"].to_numpy(float)})
    return out


def _target_threshold(project: Project, settings: SmallAreaConfig) -> float | None:
    """The LQAS target's bad threshold of the indicator in the cohort (a lot above it is one to improve),
    when ``[lqas]`` has one: an area likely beyond it is a hotspot."""
    for target in project.lqas.targets:
        if target.indicator == settings.indicator and (not target.cohorts or settings.cohort in target.cohorts):
            return target.bad
    return None


def _lqas_classes(classification: pd.DataFrame, project: Project, settings: SmallAreaConfig,
                  sampled: dict[str, str]) -> dict[str, str]:
    """Each sampled area's LQAS class for the indicator in the cohort, when its lots are the areas."""
    lot = list(project.lqas.lot)
    if classification.empty or settings.column not in lot or "class" not in classification:
        return {}
    rows = classification[classification["indicator"] == settings.indicator]
    if "cohort" in rows:
        rows = rows[rows["cohort"].astype(str) == settings.cohort]
    if rows[settings.column].astype(str).duplicated().any():  # lots finer than the areas: no one class
        return {}
    return {sampled[str(unit)]: str(klass) for unit, klass in zip(rows[settings.column], rows["class"])
            if str(unit) in sampled}


def _direct_only(frame: pd.DataFrame, threshold: float | None) -> pd.DataFrame:
    """No model: each sampled area's direct estimate with the survey's interval, the others none."""
    estimate = frame["direct"].to_numpy(float)
    se = np.sqrt(frame["variance"].to_numpy(float))
    out = pd.DataFrame({"area": frame["area"].to_numpy(), "sampled": frame["sampled"].to_numpy(),
                        "direct": estimate, "direct_se": se, "estimate": estimate, "se": se,
                        "ci_low": frame["direct_ci_low"].to_numpy(float),
                        "ci_high": frame["direct_ci_high"].to_numpy(float)})
    out["method"] = np.where(out["sampled"], "direct", "none")
    out["threshold"] = threshold
    if "population" in frame:
        out["population"] = frame["population"].to_numpy()
        for to, column in (("children", "estimate"), ("children_ci_low", "ci_low"), ("children_ci_high", "ci_high")):
            out[to] = out["population"] * out[column]
    return out

"""Confidence intervals for survey proportions from an effective sample size, keyed by method name."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats
from statsmodels.stats.proportion import proportion_confint

from lqas.errors import LqasError

Interval = tuple[np.ndarray, np.ndarray]


def _statsmodels(method: str) -> Callable[[np.ndarray, np.ndarray, float], Interval]:
    def interval(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
        low, high = proportion_confint(p * neff, neff, alpha=alpha, method=method)
        return np.asarray(low, float), np.asarray(high, float)
    return interval


def _clopper_pearson(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
    # beta quantiles accept a fractional count x = p * neff, as VCQI's F-quantile form does
    x = p * neff
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2, x, neff - x + 1), 0.0)
        high = np.where(x < neff, stats.beta.ppf(1 - alpha / 2, x + 1, neff - x), 1.0)
    return low, high


def _jeffreys(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
    x = p * neff
    low = np.where(p > 0, stats.beta.ppf(alpha / 2, x + 0.5, neff - x + 0.5), 0.0)
    high = np.where(p < 1, stats.beta.ppf(1 - alpha / 2, x + 0.5, neff - x + 0.5), 1.0)
    return low, high


def _logit(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
    z = stats.norm.ppf(1 - alpha / 2)
    inside = (p > 0) & (p < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z / np.sqrt(neff * p * (1 - p))
        low, high = special.expit(special.logit(p) - half), special.expit(special.logit(p) + half)
    # VCQI falls back to Clopper-Pearson at 0 % and 100 %
    cp_low, cp_high = _clopper_pearson(p, neff, alpha)
    return np.where(inside, low, cp_low), np.where(inside, high, cp_high)


def _wald(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
    low, high = _statsmodels("normal")(p, neff, alpha)
    cp_low, cp_high = _clopper_pearson(p, neff, alpha)
    inside = (p > 0) & (p < 1)
    return np.where(inside, low, cp_low), np.where(inside, high, cp_high)


METHODS: dict[str, Callable[[np.ndarray, np.ndarray, float], Interval]] = {
    "wilson": _statsmodels("wilson"),
    "clopper-pearson": _clopper_pearson,
    "jeffreys": _jeffreys,
    "logit": _logit,
    "agresti-coull": _statsmodels("agresti_coull"),
    "wald": _wald,
    # Korn & Graubard (1998): Clopper-Pearson on an effective size scaled by (t_{n-1}/t_df)^2,
    # applied by proportion_ci through its `adjust` step
    "korn-graubard": _clopper_pearson,
}


def proportion_ci(p, neff_adjusted, *, method: str = "wilson", level: float = 0.95) -> Interval:
    """Two-sided interval for proportions ``p`` with (df-adjusted) effective sample sizes.

    Parameters
    ----------
    p, neff_adjusted : array-like
        Estimates and effective sample sizes after VCQI's df adjustment and DEFF truncation.
    method : {"wilson", "clopper-pearson", "jeffreys", "logit", "agresti-coull", "wald", "korn-graubard"}
    level : float, default=0.95

    Notes
    -----
    Matches VCQI ``svyp_ci_calc`` (vcqi.md §3): each method applied to (p, n*) where n* is the
    effective sample size; logit and Wald fall back to Clopper-Pearson at 0 % and 100 %.
    """
    if method not in METHODS:
        raise LqasError(f"ci method {method!r} is not known; expected one of {', '.join(METHODS)}")
    p = np.asarray(p, float)
    neff = np.asarray(neff_adjusted, float)
    low, high = METHODS[method](p, neff, 1 - level)
    # exact bounds at 0 % and 100 % (the closed forms leave rounding residue such as 7e-18)
    low, high = np.where(p <= 0, 0.0, low), np.where(p >= 1, 1.0, high)
    return np.clip(low, 0, 1), np.clip(high, 0, 1)

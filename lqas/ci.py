"""Confidence intervals for survey proportions from an effective sample size, keyed by method name."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.proportion import proportion_confint

from lqas.errors import LqasError

Interval = tuple[np.ndarray, np.ndarray]


# Student's t quantiles made so far, by (q, df): a run asks for the same few thousands of times
_T_QUANTILES: dict[tuple[float, float], float] = {}


def t_quantile(q: float, df) -> np.ndarray:
    """Student's t quantile for each of ``df`` (NaN where df < 1 or missing)."""
    # the degrees of freedom take a few values (PSUs - strata, n - 1) over hundreds of thousands of
    # domains, and a run asks for them once per outcome and margin: each quantile is computed once
    # (scipy's t.ppf is elementwise, so one made alone has the bits of one made among others; its
    # checks cost 0.1 ms a call, the demo's comparison of rounds asked 5,600 times)
    df = np.asarray(df, dtype=float)
    df = np.where(df > 0, df, np.nan)
    # numbered by hashing, not sorting: a national run's intervals ask for millions of domains at once
    codes, values = pd.factorize(df.reshape(-1), use_na_sentinel=False)
    q = float(q)
    new = [value for value in values.tolist() if not math.isnan(value) and (q, value) not in _T_QUANTILES]
    if new:
        _T_QUANTILES.update(zip(((q, value) for value in new), stats.t.ppf(q, new).tolist(), strict=True))
    quantiles = np.array([np.nan if math.isnan(value) else _T_QUANTILES[q, value] for value in values.tolist()])
    return quantiles[codes].reshape(df.shape)


def f_sf(x, dfn, dfd) -> np.ndarray:
    """``scipy.stats.f.sf(x, dfn, dfd)`` to the bit, without its checks' 0.1 ms a call: 1 at x <= 0, 0 at
    infinity, NaN where x is missing or a degree of freedom is not positive, else ``special.fdtrc``
    (what scipy's f distribution computes in between)."""
    x, dfn, dfd = np.broadcast_arrays(*(np.asarray(values, dtype=float) for values in (x, dfn, dfd)))
    with np.errstate(invalid="ignore"):
        valid = (dfn > 0) & (dfd > 0) & ~np.isnan(x)
        inside = valid & (x > 0) & (x < np.inf)
        value = np.where(valid, np.where(x <= 0, 1.0, 0.0), np.nan)
        value[inside] = special.fdtrc(dfn[inside], dfd[inside], x[inside])
    return value


def _statsmodels(method: str) -> Callable[[np.ndarray, np.ndarray, float], Interval]:
    def interval(p: np.ndarray, neff: np.ndarray, alpha: float) -> Interval:
        low, high = proportion_confint(p * neff, neff, alpha=alpha, method=method)
        return np.asarray(low, float), np.asarray(high, float)
    return interval


# Clopper-Pearson and Jeffreys are statsmodels' beta-quantile intervals, which accept the fractional count
# x = p * neff of an effective sample size (as VCQI's F-quantile form does)
_clopper_pearson = _statsmodels("beta")
_jeffreys = _statsmodels("jeffreys")


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
    # Korn & Graubard (1998): Clopper-Pearson on the effective size scaled by (t_{n-1}/t_df)^2, which
    # proportion_ci computes from the domain's n and the design's df (refused without them)
    "korn-graubard": _clopper_pearson,
}


def proportion_ci(p, neff_adjusted, *, method: str = "wilson", level: float = 0.95, n=None, df=None) -> Interval:
    """Two-sided interval for proportions ``p`` with (df-adjusted) effective sample sizes.

    Parameters
    ----------
    p, neff_adjusted : array-like
        Estimates and effective sample sizes after VCQI's df adjustment and DEFF truncation.
    method : {"wilson", "clopper-pearson", "jeffreys", "logit", "agresti-coull", "wald", "korn-graubard"}
    level : float, default=0.95
    n, df : array-like, optional
        The domain's number of children and the design's degrees of freedom: ``korn-graubard`` needs
        them (its size is ``neff_adjusted`` (t_{n-1}/t_df)^2, with ``neff_adjusted`` the unadjusted
        effective size p(1 - p)/se^2), and is refused without them rather than computed as another method.

    Notes
    -----
    Matches VCQI ``svyp_ci_calc`` (vcqi.md §3): each method applied to (p, n*) where n* is the
    effective sample size; logit and Wald fall back to Clopper-Pearson at 0 % and 100 %.
    """
    if method not in METHODS:
        raise LqasError(f"ci method {method!r} is not known; expected one of {', '.join(METHODS)}")
    p = np.asarray(p, float)
    neff = np.asarray(neff_adjusted, float)
    if method == "korn-graubard":
        if n is None or df is None:
            raise LqasError("ci method 'korn-graubard' needs the domain's number of children (n) and the design's "
                            "degrees of freedom (df), to scale the effective size by (t_{n-1}/t_df)^2; "
                            "SurveyDesign.proportions(ci=\"korn-graubard\") gives them")
        q = 1 - (1 - level) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            neff = neff * (t_quantile(q, np.asarray(n, float) - 1) / t_quantile(q, df)) ** 2
    low, high = METHODS[method](p, neff, 1 - level)
    # exact bounds at 0 % and 100 % (the closed forms leave rounding residue such as 7e-18)
    low, high = np.where(p <= 0, 0.0, low), np.where(p >= 1, 1.0, high)
    return np.clip(low, 0, 1), np.clip(high, 0, 1)

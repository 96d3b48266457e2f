"""Small-area estimation: the Fay–Herriot area-level model (issue 22, the statistical core).

A survey gives each sampled area a direct estimate yᵢ with a design variance ψᵢ; an area of a few
dozen children has a wide interval. The Fay–Herriot model (Fay & Herriot 1979; Rao & Molina 2015,
ch. 6) borrows strength across areas through area covariates xᵢ:

    yᵢ = θᵢ + eᵢ,   θᵢ = xᵢ'β + vᵢ,   vᵢ ~ N(0, σ²ᵥ),   eᵢ ~ N(0, ψᵢ), ψᵢ known.

The EBLUP θ̂ᵢ = γᵢ yᵢ + (1 − γᵢ) xᵢ'β̂ with γᵢ = σ²ᵥ / (σ²ᵥ + ψᵢ) leans on the direct estimate where it
is precise and on the regression where it is not. An area with no sample gets the synthetic xᵢ'β̂.

σ²ᵥ is estimated by Fisher scoring on the restricted (REML) or full (ML) likelihood, started at the
median of the ψᵢ and stopped on the relative change, then truncated at 0 — the algorithm of R
``sae::eblupFH`` (Molina & Marhuenda 2015), which the tests compare with to 1e-6. The MSE is Prasad &
Rao's (1990) second-order approximation as Datta & Lahiri (2000) extend it to ML, as ``sae::mseFH``.

Proportions (``transform="logit"``) are modelled on the logit scale, where the normal model fits a
prevalence near 0 or 1 better and the back-transformed estimate stays inside (0, 1); see
:func:`logit_direct` for areas whose direct estimate is 0 % or 100 % or has no design variance.

References
----------
Fay, R. E. & Herriot, R. A. (1979). Estimates of income for small places. JASA 74, 269–277.
Prasad, N. G. N. & Rao, J. N. K. (1990). The estimation of the mean squared error of small-area
estimators. JASA 85, 163–171.
Datta, G. S. & Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear unbiased
predictors in small area estimation problems. Statistica Sinica 10, 613–627.
Rao, J. N. K. & Molina, I. (2015). Small Area Estimation, 2nd ed. Wiley; §6.1–6.2.
Molina, I. & Marhuenda, Y. (2015). sae: an R package for small area estimation. The R Journal 7(1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from lqas.ci import proportion_ci
from lqas.errors import LqasError

METHODS = ("REML", "ML")
TRANSFORMS = ("none", "logit")
INTERCEPT = "(Intercept)"
# the Wilson interval that stands in for a missing design variance is always the 95 % one, whatever
# level the results are shown at: it defines a variance, not an interval
WILSON_LEVEL = 0.95


class SmallAreaError(LqasError):
    """The small-area model cannot be fitted (too few sampled areas, collinear covariates, no
    convergence, unusable input): the caller should fall back to the direct estimates."""


@dataclass(frozen=True, eq=False)
class FHFit:
    """A fitted Fay–Herriot model, on the scale it was fitted on, for the m areas it was fitted to.

    Attributes
    ----------
    method : "REML" or "ML"
    sigma2_v : float
        σ̂²ᵥ, the variance of the area effects (truncated at 0).
    sigma2_v_se : float
        Its asymptotic standard error, √(2 / Σ 1/(σ̂²ᵥ + ψᵢ)²) (the inverse Fisher information at the
        estimate; Rao & Molina 2015, §6.1.2), the variance g3 uses.
    beta, beta_se : ndarray (p,)
        β̂ by generalised least squares at σ̂²ᵥ and √diag((X'V⁻¹X)⁻¹).
    beta_cov : ndarray (p, p)
        (X'V⁻¹X)⁻¹.
    eblup, mse, gamma : ndarray (m,)
        θ̂ᵢ, its Prasad–Rao (REML) or Datta–Lahiri (ML) MSE, and the shrinkage factor γᵢ.
    g1, g2, g3 : ndarray (m,)
        The MSE's terms: g1 = γᵢψᵢ (the BLUP's error), g2 = (1−γᵢ)² xᵢ'(X'V⁻¹X)⁻¹xᵢ (from β̂),
        g3 = (1−γᵢ)² var(σ̂²ᵥ)/(σ̂²ᵥ+ψᵢ) (from σ̂²ᵥ).
    iterations : int
        Fisher-scoring steps taken.
    converged : bool
        False when ``max_iter`` steps did not bring the relative change of σ²ᵥ under ``tol``; the
        other fields are then those of the last iterate and should not be used.
    loglike : float
        The (full) Gaussian log-likelihood at (β̂, σ̂²ᵥ), as ``sae::eblupFH`` reports it for both methods.
    """

    method: str
    sigma2_v: float
    sigma2_v_se: float
    beta: np.ndarray
    beta_se: np.ndarray
    beta_cov: np.ndarray
    eblup: np.ndarray
    mse: np.ndarray
    gamma: np.ndarray
    g1: np.ndarray
    g2: np.ndarray
    g3: np.ndarray
    iterations: int
    converged: bool
    loglike: float


def _gls(sigma2: float, direct: np.ndarray, variance: np.ndarray, X: np.ndarray):
    """Weights 1/Vᵢ, (X'V⁻¹X)⁻¹, β̂ and the residuals y − Xβ̂ at σ²ᵥ = ``sigma2``."""
    weights = 1.0 / (sigma2 + variance)
    beta_cov = np.linalg.inv(X.T @ (weights[:, None] * X))
    beta = beta_cov @ (X.T @ (weights * direct))
    return weights, beta_cov, beta, direct - X @ beta


def _score_and_information(sigma2: float, direct, variance, X, method: str) -> tuple[float, float]:
    """The likelihood's derivative in σ²ᵥ and its expected information (Rao & Molina 2015, §6.1.2).

    With V = diag(σ²ᵥ + ψᵢ) and P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹, and Py = V⁻¹(y − Xβ̂):
    ML:   s = −½ tr V⁻¹ + ½ y'P²y,  I = ½ tr V⁻²;
    REML: s = −½ tr P + ½ y'P²y,    I = ½ tr P².
    The traces are written with p × p matrices only, so m can be thousands of areas.
    """
    weights, beta_cov, _, residual = _gls(sigma2, direct, variance, X)
    projected = weights * residual                      # Py
    quadratic = projected @ projected                   # y'P²y
    if method == "ML":
        return -0.5 * weights.sum() + 0.5 * quadratic, 0.5 * (weights ** 2).sum()
    # tr P = Σwᵢ − tr(QX'W²X); tr P² = Σwᵢ² − 2 tr(QX'W³X) + tr((QX'W²X)²), with Q = (X'WX)⁻¹
    squared = beta_cov @ (X.T @ ((weights ** 2)[:, None] * X))
    cubed = beta_cov @ (X.T @ ((weights ** 3)[:, None] * X))
    trace_p = weights.sum() - np.trace(squared)
    trace_p2 = (weights ** 2).sum() - 2 * np.trace(cubed) + np.trace(squared @ squared)
    return -0.5 * trace_p + 0.5 * quadratic, 0.5 * trace_p2


def _check_inputs(direct, variance, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    direct = np.asarray(direct, float).ravel()
    variance = np.asarray(variance, float).ravel()
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    m, p = X.shape
    if direct.shape != (m,) or variance.shape != (m,):
        raise SmallAreaError(f"small-area model not fitted: {len(direct)} direct estimates, {len(variance)} "
                             f"variances and {m} rows of covariates do not match")
    if not (np.isfinite(direct).all() and np.isfinite(variance).all() and np.isfinite(X).all()):
        raise SmallAreaError("small-area model not fitted: a direct estimate, variance or covariate is missing")
    if (variance <= 0).any():
        raise SmallAreaError(f"small-area model not fitted: {int((variance <= 0).sum())} area(s) have no positive "
                             "sampling variance")
    if m <= p:
        raise SmallAreaError(f"small-area model not fitted: {m} areas cannot estimate {p} coefficients and the "
                             "area variance")
    if np.linalg.matrix_rank(X) < p:
        raise SmallAreaError(f"small-area model not fitted: the {p} covariate columns (with the intercept) are "
                             f"collinear over the {m} sampled areas")
    return direct, variance, X


def fay_herriot(direct, variance, X, *, method: str = "REML", max_iter: int = 100, tol: float = 1e-4) -> FHFit:
    """Fit the Fay–Herriot model to m areas (Rao & Molina 2015, §6.1–6.2).

    Parameters
    ----------
    direct : array (m,)
        Direct estimates yᵢ.
    variance : array (m,)
        Their sampling variances ψᵢ, taken as known (all > 0).
    X : array (m, p)
        Area covariates, the intercept column included when wanted; full column rank.
    method : "REML" (default) or "ML"
    max_iter, tol : Fisher scoring stops when |σ²₍ₖ₊₁₎ − σ²₍ₖ₎| ≤ tol·|σ²₍ₖ₎| or after ``max_iter``
        steps; 1e-4 is ``sae::eblupFH``'s PRECISION, so the two take the same steps.

    Returns
    -------
    FHFit
        ``converged`` is False when the steps ran out (no error is raised here; :func:`small_area`
        raises). σ̂²ᵥ is truncated at 0, and the iteration stops at 0 when a step would leave the
        region where every σ²ᵥ + ψᵢ > 0 and the likelihood falls from 0 — there ``sae`` would follow
        the likelihood below 0 and truncate the result, or fail.

    Notes
    -----
    β̂ = (X'V⁻¹X)⁻¹X'V⁻¹y; θ̂ᵢ = xᵢ'β̂ + γᵢ(yᵢ − xᵢ'β̂). MSE (Prasad & Rao 1990; Rao & Molina §6.2.1)
    g1 + g2 + 2 g3 for REML; for ML (Datta & Lahiri 2000; Rao & Molina §6.2.1) it adds the
    correction for the bias of σ̂²ᵥ, −b(σ̂²ᵥ)·(1−γᵢ)², with b = −tr[(X'V⁻¹X)⁻¹X'V⁻²X] / Σ 1/Vᵢ².
    """
    if method not in METHODS:
        raise SmallAreaError(f"small-area method {method!r} is not known; expected one of {', '.join(METHODS)}")
    direct, variance, X = _check_inputs(direct, variance, X)

    sigma2 = float(np.median(variance))
    converged, iterations = False, 0
    while iterations < max_iter:
        iterations += 1
        score, information = _score_and_information(sigma2, direct, variance, X, method)
        if not (np.isfinite(score) and np.isfinite(information) and information > 0):
            break
        proposed = sigma2 + score / information
        if proposed + variance.min() <= 0:
            # the step leaves the likelihood's domain: if the likelihood falls from σ²ᵥ = 0, the maximum
            # over σ²ᵥ ≥ 0 is at 0; otherwise step on from 0
            at_zero, _ = _score_and_information(0.0, direct, variance, X, method)
            if at_zero <= 0:
                sigma2, converged = 0.0, True
                break
            sigma2 = 0.0
            continue
        change = abs(proposed - sigma2)
        previous, sigma2 = sigma2, proposed
        if previous != 0 and change <= tol * abs(previous):
            converged = True
            break
    sigma2 = max(sigma2, 0.0)

    weights, beta_cov, beta, residual = _gls(sigma2, direct, variance, X)
    gamma = sigma2 * weights
    eblup = X @ beta + gamma * residual
    shrink = 1.0 - gamma                                              # ψᵢ/(σ²ᵥ+ψᵢ)
    sigma2_var = 2.0 / (weights ** 2).sum()
    g1 = gamma * variance
    g2 = shrink ** 2 * np.einsum("ij,jk,ik->i", X, beta_cov, X)
    g3 = shrink ** 2 * sigma2_var * weights
    mse = g1 + g2 + 2.0 * g3
    if method == "ML":
        bias = -np.trace(beta_cov @ (X.T @ ((weights ** 2)[:, None] * X))) / (weights ** 2).sum()
        mse = mse - bias * shrink ** 2
    loglike = -0.5 * float(np.sum(np.log(2 * np.pi / weights) + weights * residual ** 2))
    return FHFit(method=method, sigma2_v=sigma2, sigma2_v_se=float(np.sqrt(sigma2_var)), beta=beta,
                 beta_se=np.sqrt(np.diag(beta_cov)), beta_cov=beta_cov, eblup=eblup, mse=mse, gamma=gamma,
                 g1=g1, g2=g2, g3=g3, iterations=iterations, converged=converged, loglike=loglike)


def synthetic(fit: FHFit, X) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic predictions for areas with no sample: xᵢ'β̂ and its MSE σ̂²ᵥ + xᵢ'(X'V⁻¹X)⁻¹xᵢ.

    With no direct estimate the area effect vᵢ is unknown, so the error is vᵢ (variance σ²ᵥ) plus
    that of β̂ (Rao & Molina 2015, §6.1.2, an area with γᵢ = 0); the variability of σ̂²ᵥ is ignored.
    """
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[None, :]
    return X @ fit.beta, fit.sigma2_v + np.einsum("ij,jk,ik->i", X, fit.beta_cov, X)


def logit_direct(p, variance, effective_n) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct proportions and their design variances on the logit scale.

    yᵢ = logit p̂ᵢ with the delta-method variance ψᵢ = vᵢ / (p̂ᵢ(1 − p̂ᵢ))².

    An area whose p̂ is 0 or 1, or whose design variance is 0 (every sampled child alike), has no
    logit or no variance; rather than drop it — the areas with no zero-dose child found are the ones a
    model must not lose — it gets a Wilson-based pair, at its effective sample size n* = n/deff
    (estimates.csv's ``neff``, which is n where p̂ is 0 or 1): the 95 % Wilson interval (L, U) at
    (p̂, n*) stands for a normal interval, so its centre p̃ = (L + U)/2 replaces p̂ (only when p̂ is 0
    or 1, where the logit does not exist) and ((U − L)/(2 z))² its variance, carried to the logit
    scale at p̃ by the same delta method. At p̂ = 0 that is p̃ = (z²/2)/(n* + z²) and
    ψ = 1/(z(1 − p̃))² ≈ 0.26 whatever n*: about ±1 on the logit scale, the ψ of an area where about
    z² ≈ 4 cases were found (ψ = 1/(n*p̂(1 − p̂)) = 1/z²) — enough that the model, not the lone 0 %,
    decides, without the area counting for nothing.

    Returns
    -------
    direct, variance, wilson : ndarrays
        The logit-scale estimates and variances, and which areas got the Wilson-based pair.
    """
    p = np.asarray(p, float)
    v = np.asarray(variance, float)
    neff = np.broadcast_to(np.asarray(effective_n, float), p.shape)
    wilson = (p <= 0) | (p >= 1) | (v <= 0)
    if np.any(wilson & ~(np.isfinite(neff) & (neff > 0))):
        raise SmallAreaError("small-area model not fitted: an area with a direct estimate of 0 % or 100 % or no "
                             "design variance needs its effective sample size (neff)")
    low, high = proportion_ci(np.clip(p, 0, 1), np.where(wilson, neff, 1.0), method="wilson", level=WILSON_LEVEL)
    z = stats.norm.ppf(0.5 + WILSON_LEVEL / 2)
    centre = np.where((p <= 0) | (p >= 1), (low + high) / 2, p)
    v = np.where(wilson, ((high - low) / (2 * z)) ** 2, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return special.logit(centre), v / (centre * (1 - centre)) ** 2, wilson


def _design_matrix(areas: pd.DataFrame, covariates: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The intercept and the covariates; a text or categorical column becomes one 0/1 column per level
    but the first (R's treatment contrasts, the levels in their category order or sorted)."""
    columns, names = [np.ones(len(areas))], [INTERCEPT]
    for name in covariates:
        values = areas[name]
        if values.isna().any():
            missing = ", ".join(map(str, areas.index[values.isna()][:3]))
            raise SmallAreaError(f"small-area model not fitted: covariate {name!r} is missing for area(s) {missing}")
        if (isinstance(values.dtype, (pd.CategoricalDtype, pd.StringDtype)) or values.dtype == object):
            levels = (list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype)
                      else sorted(values.unique(), key=str))
            for level in levels[1:]:
                columns.append((values == level).to_numpy(float))
                names.append(f"{name}[{level}]")
        else:
            columns.append(pd.to_numeric(values).to_numpy(float))
            names.append(name)
    return np.column_stack(columns), names


def _ranks(draws: np.ndarray) -> np.ndarray:
    """Rank 1 = the highest value in each row (draw) of ``draws`` (draws × areas)."""
    order = np.argsort(-draws, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, draws.shape[1] + 1)[None, :].repeat(len(draws), 0), axis=1)
    return ranks


def small_area(areas: pd.DataFrame, *, estimate: str = "estimate", variance: str = "variance",
               covariates: Sequence[str] = (), sampled: str | None = "sampled", area: str = "area",
               transform: str = "none", method: str = "REML", min_areas: int = 15,
               threshold: float | None = None, population: str | None = None, effective_n: str = "neff",
               level: float = 0.95, n_draws: int = 2000, seed: int = 20220, max_iter: int = 100,
               tol: float = 1e-4) -> pd.DataFrame:
    """Fay–Herriot small-area estimates for every area, sampled or not.

    Parameters
    ----------
    areas : DataFrame
        One row per area: its direct estimate and sampling variance (NaN where not sampled), the
        covariates, and optionally whether it was sampled and its population.
    estimate, variance : column names
        The direct estimate and its design variance (se², not se). For ``transform="logit"`` the
        estimate is a proportion (0–1).
    covariates : column names
        Area-level covariates, known for every area; an intercept is added. A text or categorical
        column enters as one indicator per level but the first.
    sampled : column name, or None
        Which areas have a direct estimate; None: the areas whose estimate is not missing. The others
        get the synthetic estimate (:func:`synthetic`).
    area : column name
        The area's name; the frame's index when there is no such column.
    transform : "none" or "logit"
        "logit" fits the model to logit p̂ (:func:`logit_direct`) and back-transforms: the estimate is
        expit(θ̂), its MSE (p(1−p))²·MSE(θ̂) by the delta method, and the interval expit(θ̂ ± z√MSE(θ̂)),
        inside (0, 1) and not symmetric.
    method : "REML" or "ML"
    min_areas : int
        Fewer sampled areas than this and no model is fitted (σ²ᵥ from a handful of areas is noise).
    threshold : float, optional
        Adds ``prob_exceeds``, P(θᵢ > threshold) under the normal approximation θᵢ ~ N(θ̂ᵢ, MSEᵢ) on the
        model scale (the threshold is transformed with it).
    population : column name, optional
        The areas' populations (children of the cohort); adds ``children`` = population × estimate and
        ``children_ci_low``/``children_ci_high`` = population × the interval, as lqas.priorities counts
        them (the proportions clipped to [0, 1] first when ``transform="none"``).
    effective_n : column name
        n/deff of each area, needed only for logit areas at 0 % or 100 % or with no design variance.
    level : float
        The intervals' level (estimates and ranks).
    n_draws, seed : int
        Simulation of ranks: each draw takes θᵢ ~ N(θ̂ᵢ, MSEᵢ) independently on the model scale (the
        posterior-normal approximation; the small correlation the shared β̂ induces is ignored), ranks
        the areas (1 = highest), and ``rank_low``/``rank_high`` are the (1 ± level)/2 quantiles of an
        area's ranks (the lower and higher order statistic, so integers). The same seed gives the same
        ranks.
    max_iter, tol : see :func:`fay_herriot`.

    Returns
    -------
    DataFrame, one row per area in the input order
        ``area, sampled, synthetic, direct, direct_se, estimate, se, mse, ci_low, ci_high, gamma``
        (the weight of the direct estimate; 0 for synthetic areas), the model-scale values
        ``direct_model, variance_model, variance_from`` ("design" or "wilson"), ``estimate_model,
        mse_model, synthetic_model`` (xᵢ'β̂), ``residual`` (sampled areas: (yᵢ − xᵢ'β̂)/√(σ̂²ᵥ + ψᵢ)), then ``prob_exceeds`` (with ``threshold``), ``population, children,
        children_ci_low, children_ci_high`` (with ``population``), and ``rank, rank_low, rank_high``.
        ``attrs["small_area"]`` summarises the fit as plain data: method, transform, sigma2_v,
        sigma2_v_se, iterations, converged, loglike, areas_sampled, areas_synthetic and
        coefficients ({term: {"estimate", "se"}}).

    Raises
    ------
    SmallAreaError
        Fewer than ``min_areas`` sampled areas, collinear covariates, no convergence, or unusable
        input; one line, so the caller can say it and fall back to the direct estimates.
    """
    if transform not in TRANSFORMS:
        raise SmallAreaError(f"small-area transform {transform!r} is not known; expected one of "
                             f"{', '.join(TRANSFORMS)}")
    if method not in METHODS:
        raise SmallAreaError(f"small-area method {method!r} is not known; expected one of {', '.join(METHODS)}")
    needed = [estimate, variance, *covariates, *([sampled] if sampled else []), *([population] if population else [])]
    absent = [name for name in needed if name not in areas.columns]
    if absent:
        raise SmallAreaError(f"small-area model not fitted: the areas have no column {', '.join(map(repr, absent))}")
    names = areas[area] if area in areas.columns else pd.Series(areas.index, index=areas.index)
    frame = areas.reset_index(drop=True)
    names = names.reset_index(drop=True)

    # a missing flag is not a sampled area
    is_sampled = (frame[sampled].eq(True) if sampled else frame[estimate].notna()).to_numpy()
    count = int(is_sampled.sum())
    if count < min_areas:
        raise SmallAreaError(f"small-area model not fitted: {count} sampled area(s), fewer than the {min_areas} "
                             "it needs (min_areas); use the direct estimates")
    direct = frame[estimate].to_numpy(float)
    design_variance = frame[variance].to_numpy(float)
    unusable = is_sampled & ~(np.isfinite(direct) & np.isfinite(design_variance) & (design_variance >= 0))
    if unusable.any():
        raise SmallAreaError("small-area model not fitted: sampled area(s) "
                             f"{', '.join(map(str, names[unusable][:3]))} have no direct estimate or variance")
    X, terms = _design_matrix(frame, covariates)

    wilson = np.zeros(len(frame), bool)
    model_direct, model_variance = direct.copy(), design_variance.copy()
    if transform == "logit":
        if ((direct[is_sampled] < 0) | (direct[is_sampled] > 1)).any():
            raise SmallAreaError("small-area model not fitted: a logit model needs proportions between 0 and 1")
        neff = (frame[effective_n].to_numpy(float) if effective_n in frame.columns
                else np.full(len(frame), np.nan))
        y, psi, flagged = logit_direct(direct[is_sampled], design_variance[is_sampled], neff[is_sampled])
        model_direct[is_sampled], model_variance[is_sampled], wilson[is_sampled] = y, psi, flagged
    elif (design_variance[is_sampled] <= 0).any():
        zero = names[is_sampled & (design_variance <= 0)]
        raise SmallAreaError(f"small-area model not fitted: area(s) {', '.join(map(str, zero[:3]))} have a zero "
                             "design variance (a proportion of 0 % or 100 %?); transform='logit' keeps them")

    fit = fay_herriot(model_direct[is_sampled], model_variance[is_sampled], X[is_sampled], method=method,
                      max_iter=max_iter, tol=tol)
    if not fit.converged:
        raise SmallAreaError(f"small-area model not fitted: the {method} estimate of the area variance did not "
                             f"converge in {max_iter} iterations; use the direct estimates")

    theta = np.empty(len(frame))
    theta_mse = np.empty(len(frame))
    gamma = np.zeros(len(frame))
    theta[is_sampled], theta_mse[is_sampled], gamma[is_sampled] = fit.eblup, fit.mse, fit.gamma
    if (~is_sampled).any():
        theta[~is_sampled], theta_mse[~is_sampled] = synthetic(fit, X[~is_sampled])

    z = stats.norm.ppf(0.5 + level / 2)
    theta_se = np.sqrt(theta_mse)
    if transform == "logit":
        value = special.expit(theta)
        mse = (value * (1 - value)) ** 2 * theta_mse
        low, high = special.expit(theta - z * theta_se), special.expit(theta + z * theta_se)
    else:
        value, mse = theta, theta_mse
        low, high = theta - z * theta_se, theta + z * theta_se

    out = pd.DataFrame({
        "area": names, "sampled": is_sampled, "synthetic": ~is_sampled,
        "direct": np.where(is_sampled, direct, np.nan),
        "direct_se": np.where(is_sampled, np.sqrt(np.clip(design_variance, 0, None)), np.nan),
        "estimate": value, "se": np.sqrt(mse), "mse": mse, "ci_low": low, "ci_high": high, "gamma": gamma,
        "direct_model": np.where(is_sampled, model_direct, np.nan),
        "variance_model": np.where(is_sampled, model_variance, np.nan),
        "variance_from": np.where(is_sampled, np.where(wilson, "wilson", "design"), None),
        "estimate_model": theta, "mse_model": theta_mse, "synthetic_model": X @ fit.beta})
    # the standardised residual of a sampled area, (yᵢ − xᵢ'β̂)/√(σ̂²ᵥ + ψᵢ): about N(0, 1) when the model fits
    with np.errstate(invalid="ignore"):
        out["residual"] = np.where(is_sampled, (model_direct - X @ fit.beta) / np.sqrt(fit.sigma2_v + model_variance),
                                   np.nan)

    if threshold is not None:
        if transform == "logit" and not 0 < threshold < 1:
            raise SmallAreaError(f"small-area threshold {threshold} must lie between 0 and 1 for a logit model")
        cut = special.logit(threshold) if transform == "logit" else threshold
        out["threshold"] = threshold
        out["prob_exceeds"] = stats.norm.sf((cut - theta) / theta_se)

    if population is not None:
        people = frame[population].to_numpy(float)
        out["population"] = people
        clip = (lambda x: np.clip(x, 0, 1)) if transform == "none" else (lambda x: x)
        out["children"] = people * clip(value)
        out["children_ci_low"] = people * clip(low)
        out["children_ci_high"] = people * clip(high)

    rng = np.random.default_rng(seed)
    draws = theta[None, :] + theta_se[None, :] * rng.standard_normal((n_draws, len(frame)))
    simulated = _ranks(draws)
    tail = (1 - level) / 2
    out["rank"] = pd.Series(theta).rank(ascending=False, method="min").astype(int).to_numpy()
    out["rank_low"] = np.quantile(simulated, tail, axis=0, method="lower").astype(int)
    out["rank_high"] = np.quantile(simulated, 1 - tail, axis=0, method="higher").astype(int)

    out.attrs["small_area"] = {
        "method": method, "transform": transform, "sigma2_v": fit.sigma2_v, "sigma2_v_se": fit.sigma2_v_se,
        "iterations": fit.iterations, "converged": fit.converged, "loglike": fit.loglike,
        "areas_sampled": count, "areas_synthetic": int((~is_sampled).sum()),
        "coefficients": {term: {"estimate": float(b), "se": float(s)}
                         for term, b, s in zip(terms, fit.beta, fit.beta_se)}}
    return out

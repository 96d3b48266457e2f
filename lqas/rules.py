"""LQAS stage: decision rules, sample sizes, OC curves, lot classification and aggregation.

Internal convention (DESIGN.md §4, lqas.md §1): a lot *passes* iff the number of successes
X >= d; alpha = P(fail | p = upper) and beta = P(pass | p = lower). Other conventions are
converted at the edge with :func:`from_convention` / :func:`to_convention`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from lqas.errors import ConfigError, InputError

__all__ = ["Rule", "SampleSize", "Target", "ThreeClassRule", "ConvertedRule", "decision_rule",
           "evaluate_rule", "lot_thresholds", "sample_size", "double_sampling_oc", "oc_curve",
           "plot_oc", "decision_table", "three_class_rule", "three_class_oc", "classify_three",
           "from_convention", "to_convention", "classify", "aggregate", "priority_lots"]

_TOL = 1e-12  # float slack for limit checks and alpha+beta ties
_ROUNDINGS = ("hund", "round", "ceiling")
_CONVENTIONS = ("min_successes", "x_greater_than", "max_failures")
DEFAULT_TARGETS = tuple(round(0.10 + 0.05 * i, 2) for i in range(18))  # 0.10 ... 0.95


# --------------------------------------------------------------------------- validation
def _fail(where: str, what: str, got: object, expected: str, hint: str = "",
          exc: type = ConfigError) -> None:
    """Raise the house one-line error: '<where>: <what>; got <got>, expected <expected>. <hint>'."""
    msg = f"{where}: {what}; got {got!r}, expected {expected}."
    raise exc(f"{msg} {hint}".strip())


def _check_int(where: str, name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        _fail(where, f"parameter '{name}' is invalid", value, f"an integer >= {minimum}")
    return int(value)


def _check_prob(where: str, name: str, value: object, *, open_interval: bool) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = 0 < value < 1 if open_interval else 0 <= value <= 1
    if not ok:
        _fail(where, f"parameter '{name}' is out of range", value,
              "a number in (0, 1)" if open_interval else "a number in [0, 1]")
    return float(value)


def _check_thresholds(where: str, upper: object, lower: object) -> tuple[float, float]:
    upper = _check_prob(where, "upper", upper, open_interval=False)
    lower = _check_prob(where, "lower", lower, open_interval=False)
    if not lower < upper:
        _fail(where, "parameter 'upper' must be greater than 'lower'", (upper, lower),
              "0 <= lower < upper <= 1 as (upper, lower)",
              "For a lower-is-better indicator pass the complement (1 - threshold).")
    return upper, lower


def _check_choice(where: str, name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        _fail(where, f"parameter '{name}' is not recognised", value, f"one of {list(allowed)}")
    return value  # type: ignore[return-value]


# --------------------------------------------------------------------------- decision rules
@dataclass(frozen=True)
class Rule:
    """A single-sample LQAS decision rule: the lot passes iff X >= ``d``.

    ``alpha`` = P(X < d | p = upper), ``beta`` = P(X >= d | p = lower). ``upper_count`` and
    ``lower_count`` are the discretised numbers of successes in the lot (hypergeometric only).
    """

    n: int
    d: int
    upper: float
    lower: float
    alpha: float
    beta: float
    alpha_limit: float
    beta_limit: float
    limits_met: bool
    distribution: str
    lot_size: int | None = None
    upper_count: int | None = None
    lower_count: int | None = None

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


def lot_thresholds(upper: float, lower: float, lot_size: int,
                   rounding: str = "hund") -> tuple[int, int]:
    """Numbers of successes (K_u, K_l) in a lot of N = ``lot_size`` at the two thresholds.

    ``rounding="hund"``: K_l = floor(p_l N), K_u = ceil(p_u N), the effective bounds of the Hund
    manual (lqas.md §3; N = 52, 0.65/0.35 -> 34/52 and 18/52); ``"round"``: both to nearest
    (Brixton-Health hyperLQAS, isabelfulcher/lqas_imp); ``"ceiling"``: both up (sleacr).
    """
    where = "lot_thresholds"
    upper, lower = _check_thresholds(where, upper, lower)
    lot_size = _check_int(where, "lot_size", lot_size)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    # the 1e-9 slack stops 0.35 * 52 = 18.200000000000003 style artefacts moving a bound
    pu, pl = upper * lot_size, lower * lot_size
    if rounding == "hund":
        return math.ceil(pu - 1e-9), math.floor(pl + 1e-9)
    if rounding == "round":
        return int(np.round(pu)), int(np.round(pl))
    return math.ceil(pu - 1e-9), math.ceil(pl - 1e-9)


def _errors(n: int, upper: float, lower: float, lot_size: int | None, rounding: str):
    """alpha and beta for every d = 1..n (arrays indexed d - 1) plus the lot counts."""
    k = np.arange(0, n)  # X < d  <=>  X <= d - 1 = k
    if lot_size is None:
        return stats.binom.cdf(k, n, upper), stats.binom.sf(k, n, lower), None, None
    ku, kl = lot_thresholds(upper, lower, lot_size, rounding)
    return (stats.hypergeom.cdf(k, lot_size, ku, n), stats.hypergeom.sf(k, lot_size, kl, n),
            ku, kl)


def _rule_args(where, n, upper, lower, alpha, beta, lot_size, rounding):
    """Validated (n, upper, lower, alpha, beta, lot_size, rounding) for the rule functions."""
    n = _check_int(where, "n", n)
    upper, lower = _check_thresholds(where, upper, lower)
    alpha = _check_prob(where, "alpha", alpha, open_interval=True)
    beta = _check_prob(where, "beta", beta, open_interval=True)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    if lot_size is not None and _check_int(where, "lot_size", lot_size) < n:
        _fail(where, "parameter 'lot_size' is smaller than the sample", lot_size,
              f"lot_size >= n = {n}", "Omit lot_size for an infinite lot (binomial).")
    return n, upper, lower, alpha, beta, lot_size, rounding


def _choose_d(alpha: np.ndarray, beta: np.ndarray, alpha_limit: float, beta_limit: float,
              convention: str = "min_errors") -> tuple[int, bool]:
    """Index of the chosen rule (d - 1) and whether it meets both limits."""
    total = alpha + beta
    valid = (alpha <= alpha_limit + _TOL) & (beta <= beta_limit + _TOL)
    pool = valid if (convention == "min_errors" and valid.any()) else np.ones_like(valid)
    best = total[pool].min()
    idx = int(np.flatnonzero(pool & (total <= best + _TOL)).max())  # ties -> larger d
    return idx, bool(valid[idx])


def decision_rule(n: int, upper: float, lower: float, alpha: float = 0.10, beta: float = 0.10,
                  *, lot_size: int | None = None, rounding: str = "hund",
                  convention: str = "min_errors") -> Rule:
    """Choose the decision rule d for a sample of ``n``: the lot passes iff X >= d.

    Parameters
    ----------
    n : int
        Sample size per lot (>= 1).
    upper, lower : float
        Upper ("good", target) and lower ("bad") thresholds, 0 <= lower < upper <= 1.
    alpha, beta : float, default=0.10
        Limits on alpha = P(X < d | upper) and beta = P(X >= d | lower), each in (0, 1).
    lot_size : int, optional
        Lot size N >= n. When given, X is hypergeometric with the thresholds discretised by
        ``rounding`` (see :func:`lot_thresholds`); otherwise X ~ Binomial(n, p).
    rounding : {"hund", "round", "ceiling"}, default="hund"
        Threshold discretisation for finite lots.
    convention : {"min_errors", "valadez"}, default="min_errors"
        ``"min_errors"``: among d = 1..n meeting both limits, the d minimising alpha + beta
        (ties -> larger d); if none meets both, the d minimising alpha + beta overall, with
        ``limits_met=False``. ``"valadez"``: the d minimising alpha + beta regardless of the
        limits (the classic table, lqas.md §2); ``limits_met`` still reports the check.

    Returns
    -------
    Rule

    Notes
    -----
    alpha(d) = F(d - 1; n, p_u), beta(d) = 1 - F(d - 1; n, p_l), F the binomial (hypergeometric)
    CDF; d = 0 and d = n + 1 (always / never pass) are not considered. n = 19, 0.80/0.50 gives
    d = 13, alpha 0.0676, beta 0.0835: the published 0.07/0.08 of PMC3013262 Table 1.

    Examples
    --------
    >>> r = decision_rule(19, 0.80, 0.50)
    >>> r.d, round(r.alpha, 4), round(r.beta, 4)
    (13, 0.0676, 0.0835)
    """
    n, upper, lower, alpha, beta, lot_size, rounding = _rule_args(
        "decision_rule", n, upper, lower, alpha, beta, lot_size, rounding)
    _check_choice("decision_rule", "convention", convention, ("min_errors", "valadez"))
    a, b, ku, kl = _errors(n, upper, lower, lot_size, rounding)
    i, met = _choose_d(a, b, alpha, beta, convention)
    return Rule(n, i + 1, upper, lower, float(a[i]), float(b[i]), alpha, beta, met,
                "binomial" if lot_size is None else "hypergeometric", lot_size, ku, kl)


def evaluate_rule(n: int, d: int, upper: float, lower: float, alpha: float = 0.10,
                  beta: float = 0.10, *, lot_size: int | None = None,
                  rounding: str = "hund") -> Rule:
    """Errors of a given rule (pass iff X >= ``d``, d in 0..n + 1), e.g. a converted field rule.

    Examples
    --------
    >>> r = evaluate_rule(35, 29, 0.90, 0.70)  # Pezzoli 2009 Bolivia, 6 unvaccinated allowed
    >>> round(r.alpha, 3), round(r.beta, 3)
    (0.055, 0.065)
    """
    n, upper, lower, alpha, beta, lot_size, rounding = _rule_args(
        "evaluate_rule", n, upper, lower, alpha, beta, lot_size, rounding)
    if _check_int("evaluate_rule", "d", d, minimum=0) > n + 1:
        _fail("evaluate_rule", "parameter 'd' exceeds n + 1", d, f"an integer in 0..{n + 1}")
    a, b, ku, kl = _errors(n, upper, lower, lot_size, rounding)
    a, b = np.r_[0.0, a, 1.0], np.r_[1.0, b, 0.0]  # add d = 0 and d = n + 1
    met = bool(a[d] <= alpha + _TOL and b[d] <= beta + _TOL)
    return Rule(n, d, upper, lower, float(a[d]), float(b[d]), alpha, beta, met,
                "binomial" if lot_size is None else "hypergeometric", lot_size, ku, kl)


# --------------------------------------------------------------------------- sample size
@dataclass(frozen=True)
class SampleSize:
    """Result of :func:`sample_size`: the smallest design and its rule (pass iff X >= d).

    For ``method="ess"``, ``n_effective``/``d_effective`` give the effective binomial plan
    whose errors are reported (pass iff Y >= d_effective, Y ~ Bin(n_effective, p)).
    """

    n: int
    d: int
    alpha: float
    beta: float
    upper: float
    lower: float
    alpha_limit: float
    beta_limit: float
    distribution: str
    lot_size: int | None = None
    method: str | None = None
    icc: float | None = None
    cluster_size: int | None = None
    clusters: int | None = None
    deff: float | None = None
    n_effective: int | None = None
    d_effective: int | None = None

    def as_dict(self) -> dict:
        """JSON fields: n, d, alpha, beta, distribution (+ lot_size / cluster fields when used)."""
        out = {"n": self.n, "d": self.d, "alpha": self.alpha, "beta": self.beta,
               "distribution": self.distribution}
        if self.lot_size is not None:
            out["lot_size"] = self.lot_size
        if self.clusters is not None:
            out.update(method=self.method, icc=self.icc, cluster_size=self.cluster_size,
                       clusters=self.clusters, deff=self.deff)
            if self.method == "ess":
                out.update(n_effective=self.n_effective, d_effective=self.d_effective)
        return out


def _betabinom_pmf(m: int, p: float, icc: float) -> np.ndarray:
    """pmf of one cluster count, BetaBinomial(m, a, b), a = p(1-rho)/rho, b = (1-p)(1-rho)/rho.

    Written as C(m, x) prod_{i<x}(p + i t) prod_{j<m-x}(1 - p + j t) / prod_{s<m}(1 + s t) with
    t = rho / (1 - rho): exact, equal to the binomial at rho = 0 and stable as rho -> 0
    (scipy's betabinom loses ~1e-4 there through huge a and b).
    """
    t = icc / (1 - icc)
    i = np.arange(m)
    with np.errstate(divide="ignore"):  # log(0) when p is 0 or 1 gives the point mass
        up = np.r_[0.0, np.cumsum(np.log(p + i * t))]
        down = np.r_[0.0, np.cumsum(np.log(1 - p + i * t))]
    x = np.arange(m + 1)
    logc = special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)
    return np.exp(logc + up[x] + down[m - x] - np.log1p(i * t).sum())


def sample_size(upper: float, lower: float, alpha: float = 0.10, beta: float = 0.10, *,
                lot_size: int | None = None, icc: float | None = None,
                cluster_size: int | None = None, method: str = "ess",
                n_max: int = 1000, rounding: str = "hund") -> SampleSize:
    """Smallest sample size (or number of clusters) with a rule meeting both error limits.

    Every n = 1..n_max (clusters k = 1, 2, ... with n = k m <= n_max) is tried in turn and, for
    each, every d = 1..n (an exhaustive search, unlike the greedy loop of sleacr
    ``get_sample_n``, lqas.md §3). The first n with any valid d is returned, with the valid d
    minimising alpha + beta (ties -> larger d).

    Parameters
    ----------
    upper, lower, alpha, beta, rounding
        As in :func:`decision_rule`.
    lot_size : int, optional
        Finite lot (hypergeometric), n <= lot_size. Not combinable with a cluster design.
    icc, cluster_size : float, int, optional
        Intra-cluster correlation rho in [0, 1) and children per cluster m (both or neither).
    method : {"ess", "beta-binomial"}, default="ess"
        ``"ess"`` (Hund & Pagano, lqas.md §5): DEFF = 1 + (m - 1) rho; errors of the binomial
        plan on n_eff = round(k m / DEFF) with cut-off round((d - 1) / DEFF) (the scaling is
        applied to Hund's "high if X > d - 1", as in the manual). ``"beta-binomial"``
        (Hedt-Gauthier et al. 2013): cluster counts ~ BetaBinomial(m, a, b), a = p(1 - rho)/rho,
        b = (1 - p)(1 - rho)/rho, X their exact k-fold convolution; same rho at both thresholds.
    n_max : int, default=1000
        Largest total sample size tried.

    Returns
    -------
    SampleSize
        ``as_dict()``: ``n``, ``d``, ``alpha``, ``beta``, ``distribution`` (+ ``lot_size``, or
        ``method``, ``icc``, ``cluster_size``, ``clusters``, ``deff`` for cluster designs).

    Examples
    --------
    >>> s = sample_size(0.80, 0.50)
    >>> s.n, s.d
    (19, 13)
    """
    where = "sample_size"
    upper, lower = _check_thresholds(where, upper, lower)
    alpha = _check_prob(where, "alpha", alpha, open_interval=True)
    beta = _check_prob(where, "beta", beta, open_interval=True)
    n_max = _check_int(where, "n_max", n_max)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    common = dict(upper=upper, lower=lower, alpha_limit=alpha, beta_limit=beta)
    if (icc is None) != (cluster_size is None):
        _fail(where, "cluster design needs both 'icc' and 'cluster_size'",
              {"icc": icc, "cluster_size": cluster_size}, "both set or both omitted")
    if icc is None:
        if lot_size is not None:
            lot_size = _check_int(where, "lot_size", lot_size)
            n_max = min(n_max, lot_size)
        for n in range(1, n_max + 1):
            a, b, _, _ = _errors(n, upper, lower, lot_size, rounding)
            i, met = _choose_d(a, b, alpha, beta)
            if met:
                dist = "binomial" if lot_size is None else "hypergeometric"
                return SampleSize(n, i + 1, float(a[i]), float(b[i]), distribution=dist,
                                  lot_size=lot_size, **common)
        _no_design(where, n_max)
    if lot_size is not None:
        _fail(where, "'lot_size' cannot be combined with a cluster design", lot_size,
              "lot_size=None when icc/cluster_size are set")
    m = _check_int(where, "cluster_size", cluster_size)
    if not (isinstance(icc, numbers.Real) and 0 <= icc < 1):
        _fail(where, "parameter 'icc' is out of range", icc, "a number in [0, 1)")
    method = _check_choice(where, "method", method, ("ess", "beta-binomial"))
    deff = 1 + (m - 1) * float(icc)
    cl = dict(method=method, icc=float(icc), cluster_size=m, deff=deff, **common)
    pmf_u = pmf_l = np.ones(1)
    one_u, one_l = _betabinom_pmf(m, upper, icc), _betabinom_pmf(m, lower, icc)
    for k in range(1, n_max // m + 1):
        n = k * m
        if method == "ess":
            n_eff = int(np.round(n / deff))
            if n_eff < 1:
                continue
            d_eff = np.round(np.arange(n) / deff).astype(int)  # Hund cut-off (d - 1) / DEFF
            a = stats.binom.cdf(d_eff, n_eff, upper)
            b = stats.binom.sf(d_eff, n_eff, lower)
        else:
            pmf_u, pmf_l = np.convolve(pmf_u, one_u), np.convolve(pmf_l, one_l)
            a = np.minimum(np.cumsum(pmf_u)[:n], 1.0)
            b = np.maximum(1.0 - np.cumsum(pmf_l)[:n], 0.0)
        i, met = _choose_d(a, b, alpha, beta)
        if met:
            extra = ({"n_effective": n_eff, "d_effective": int(d_eff[i]) + 1}
                     if method == "ess" else {})
            dist = "binomial" if method == "ess" else "beta-binomial"
            return SampleSize(n, i + 1, float(a[i]), float(b[i]), distribution=dist,
                              clusters=k, **cl, **extra)
    _no_design(where, n_max)


def _no_design(where: str, n_max: int) -> None:
    _fail(where, "no sample size meets both error limits", n_max, "a design with n <= n_max",
          "Raise n_max, relax alpha/beta or widen the gap between upper and lower.")


# --------------------------------------------------------------------------- OC curves
def double_sampling_oc(n1: int, d1: int, n2: int, d2: int, p) -> np.ndarray:
    """Probability of passing under a double-sampling plan, in the X >= d convention.

    Stage 1: sample n1; pass if X1 >= d1, otherwise sample n2 more and pass iff X1 + X2 >= d2.

    Notes
    -----
    P(pass | p) = P(X1 >= d1) + sum_{x < d1} P(X1 = x) P(X2 >= d2 - x), X1 ~ Bin(n1, p),
    X2 ~ Bin(n2, p). This is the Lemeshow & Taber / Hund manual §6 formula of lqas.md §5,
    P(high) = P(X1 > c1) + sum_{x <= c1} P(X1 = x) P(X2 > c2 - x), with c1 = d1 - 1 and
    c2 = d2 - 1 (Hund's "high if X > c").
    """
    where = "double_sampling_oc"
    n1, n2 = _check_int(where, "n1", n1), _check_int(where, "n2", n2)
    d1, d2 = _check_int(where, "d1", d1, 0), _check_int(where, "d2", d2, 0)
    p = np.atleast_1d(np.asarray(p, dtype=float))
    x = np.arange(min(d1, n1 + 1))[:, None]  # stage-1 counts that go to stage 2
    second = stats.binom.pmf(x, n1, p) * stats.binom.sf(d2 - x - 1, n2, p)
    return stats.binom.sf(d1 - 1, n1, p) + second.sum(axis=0)


def oc_curve(n: int, d: int, p=None, lot_size: int | None = None) -> pd.DataFrame:
    """Operating characteristic of the rule "pass iff X >= d".

    ``p`` defaults to 0, 0.01, ..., 1, or to K/N for K = 0..N with a finite ``lot_size`` N (X
    hypergeometric with K = round(p N) successes in the lot).

    Returns
    -------
    pandas.DataFrame
        ``p``, ``prob_pass`` = P(X >= d | p), ``prob_fail`` = 1 - prob_pass (Hund manual OC(p)).
    """
    where = "oc_curve"
    n = _check_int(where, "n", n)
    d = _check_int(where, "d", d, 0)
    if lot_size is None:
        p = np.linspace(0, 1, 101) if p is None else np.asarray(p, dtype=float)
        prob = stats.binom.sf(d - 1, n, p)
    else:
        lot_size = _check_int(where, "lot_size", lot_size)
        k = np.arange(lot_size + 1) if p is None else np.round(np.asarray(p) * lot_size)
        p = k / lot_size if p is None else np.asarray(p, dtype=float)
        prob = stats.hypergeom.sf(d - 1, lot_size, k.astype(int), n)
    prob = np.atleast_1d(prob)
    return pd.DataFrame({"p": np.atleast_1d(p), "prob_pass": prob, "prob_fail": 1 - prob})


_OC_LABELS = {
    "en": ("True coverage p", "Probability of passing (X ≥ d)", "OC curve (n = {n}, d = {d})",
           "upper", "lower"),
    "fr": ("Couverture réelle p", "Probabilité d'accepter le lot (X ≥ d)",
           "Courbe d'efficacité (n = {n}, d = {d})", "seuil haut", "seuil bas"),
}


def plot_oc(rule, ax=None, lang: str = "en"):
    """Plot the OC curve of a :class:`Rule` or an ``(n, d)`` pair; returns the Figure.

    With a Rule, the thresholds are drawn as vertical lines, alpha as the gap between the
    curve and 1 at ``upper`` and beta as the height of the curve at ``lower``.
    """
    from matplotlib.figure import Figure  # no pyplot: no global figure state

    lang = _check_choice("plot_oc", "lang", lang, tuple(_OC_LABELS))
    n, d = (rule.n, rule.d) if isinstance(rule, Rule) else rule
    xlab, ylab, title, up_lab, low_lab = _OC_LABELS[lang]
    fig = ax.figure if ax is not None else Figure(figsize=(6, 4))
    ax = ax if ax is not None else fig.subplots()
    oc = oc_curve(n, d, lot_size=rule.lot_size if isinstance(rule, Rule) else None)
    ax.plot(oc["p"], oc["prob_pass"], color="black")
    if isinstance(rule, Rule):
        ax.axvline(rule.upper, color="tab:green", ls="--", label=f"{up_lab} {rule.upper:.0%}")
        ax.axvline(rule.lower, color="tab:red", ls="--", label=f"{low_lab} {rule.lower:.0%}")
        ax.vlines(rule.upper, 1 - rule.alpha, 1, color="tab:green", lw=4)
        ax.vlines(rule.lower, 0, rule.beta, color="tab:red", lw=4)
        ax.annotate(f"α = {rule.alpha:.3f}", (rule.upper, 1 - rule.alpha),
                    xytext=(6, -14), textcoords="offset points")
        ax.annotate(f"β = {rule.beta:.3f}", (rule.lower, rule.beta),
                    xytext=(6, 6), textcoords="offset points")
        ax.legend(loc="upper left")
    ax.set(xlabel=xlab, ylabel=ylab, title=title.format(n=n, d=d), xlim=(0, 1), ylim=(0, 1.02))
    return fig


# --------------------------------------------------------------------------- Valadez table
def _valadez_cell(n: int, target: float, gap: float, alpha_max: float = 0.10):
    """(d, alpha, beta, lower, rule) for one table cell, or None when no rule is usable."""
    lower = round(target - gap, 10)
    if lower > 0:
        r = decision_rule(n, target, lower, convention="valadez")
        return r.d, r.alpha, r.beta, lower, "min_alpha_beta"
    a = stats.binom.cdf(np.arange(n), n, target)  # alpha of d = 1..n
    ok = np.flatnonzero(a <= alpha_max + _TOL)
    if ok.size == 0:
        return None
    i = int(ok.max())
    return i + 1, float(a[i]), np.nan, lower, "largest_d_alpha_le_0.10"


def decision_table(n_values: Iterable[int] = range(12, 31),
                   targets: Iterable[float] = DEFAULT_TARGETS, gap: float = 0.30, *,
                   long: bool = False) -> pd.DataFrame:
    """Classic Valadez LQAS table of decision rules (rows n, columns target, cells d).

    Convention (lqas.md §2, computed, not transcribed from the book): lower = target - gap and
    d minimises alpha + beta (ties -> larger d), pass iff X >= d. When target - gap <= 0 the
    cell is the largest d with alpha <= 10 % (reproduces the n = 12 cells 20 % -> 1 and
    30 % -> 2; unverified), and NA when no d has alpha <= 10 %. Reproduces the verified
    n = 12 row for targets >= 35 % and n = 19 / 80 % -> 13.

    Returns
    -------
    pandas.DataFrame
        Wide (default): index ``n``, one column per target, nullable integer cells d.
        ``long=True``: columns ``n``, ``target``, ``lower``, ``d``, ``alpha``, ``beta``,
        ``rule`` ("min_alpha_beta" or "largest_d_alpha_le_0.10"; beta is NaN there since
        lower <= 0) and ``flag`` ("ok", "alpha_or_beta>0.10", "alpha_or_beta>0.15").
    """
    rows = []
    targets = [float(t) for t in targets]
    for n in n_values:
        n = _check_int("decision_table", "n_values", n)
        for t in targets:
            _check_prob("decision_table", "targets", t, open_interval=True)
            cell = _valadez_cell(n, t, gap)
            d, a, b, low, how = cell if cell else (pd.NA, np.nan, np.nan, round(t - gap, 10), "na")
            worst = np.nanmax([a, b]) if cell else np.nan
            flag = (pd.NA if not cell else "ok" if worst <= 0.10 + _TOL
                    else "alpha_or_beta>0.10" if worst <= 0.15 + _TOL else "alpha_or_beta>0.15")
            rows.append((n, t, low, d, a, b, how, flag))
    out = pd.DataFrame(rows, columns=["n", "target", "lower", "d", "alpha", "beta", "rule",
                                      "flag"]).astype({"d": "Int64"})
    if long:
        return out
    wide = out.pivot(index="n", columns="target", values="d").astype("Int64")
    wide.columns.name = "target"
    return wide


# --------------------------------------------------------------------------- three classes
@dataclass(frozen=True)
class ThreeClassRule:
    """Three-class rule: low if X <= d1, middle if d1 < X <= d2, high if X > d2 (lqas.md §5)."""

    n: int
    d1: int
    d2: int
    low: float
    high: float
    method: str
    errors: dict = field(default_factory=dict)


def three_class_rule(n: int, low: float, high: float, *, method: str = "sleac",
                     couplets=None, alpha: float = 0.10, beta: float = 0.10) -> ThreeClassRule:
    """Two cut-offs d1 < d2 splitting X into low / middle / high.

    The class is low if X <= d1, high if X > d2, middle otherwise (lqas.md §5 form, kept as
    published rather than converted to X >= d).

    Parameters
    ----------
    method : {"sleac", "couplets"}, default="sleac"
        ``"sleac"`` (Myatt, nutriverse/sleacr): d1 = floor(n low), d2 = floor(n high).
        ``"couplets"``: general form; ``couplets=((l1, u1), (l2, u2))`` bound each threshold
        and d_i = decision_rule(n, u_i, l_i, alpha, beta).d - 1. ``errors`` then holds the
        misclassification probabilities at the bounds: P(not low | l1) = 1 - F(d1),
        P(low | u1) = F(d1), P(high | l2) = 1 - F(d2), P(not high | u2) = F(d2), F the
        Binomial(n, p) CDF.

    Examples
    --------
    >>> r = three_class_rule(40, 0.30, 0.70)  # sleacr worked example
    >>> r.d1, r.d2
    (12, 28)
    """
    where = "three_class_rule"
    n = _check_int(where, "n", n)
    high, low = _check_thresholds(where, high, low)
    method = _check_choice(where, "method", method, ("sleac", "couplets"))
    if method == "sleac":
        d1, d2 = math.floor(n * low + 1e-9), math.floor(n * high + 1e-9)
    else:
        if couplets is None or len(couplets) != 2:
            _fail(where, "parameter 'couplets' is required for method='couplets'", couplets,
                  "((l1, u1), (l2, u2)) around the two thresholds")
        (l1, u1), (l2, u2) = couplets
        d1 = decision_rule(n, u1, l1, alpha, beta).d - 1
        d2 = decision_rule(n, u2, l2, alpha, beta).d - 1
    if not d1 < d2:
        _fail(where, "the two cut-offs coincide", (d1, d2), "d1 < d2",
              "Increase n or move the thresholds apart.")
    errors = {}
    if method == "couplets":
        F = stats.binom.cdf
        errors = {"not_low_at_l1": 1 - F(d1, n, l1), "low_at_u1": F(d1, n, u1),
                  "high_at_l2": 1 - F(d2, n, l2), "not_high_at_u2": F(d2, n, u2)}
    return ThreeClassRule(n, d1, d2, low, high, method, {k: float(v) for k, v in errors.items()})


def three_class_oc(n: int, d1: int, d2: int, p=None) -> pd.DataFrame:
    """Class probabilities: P(low) = F(d1), P(middle) = F(d2) - F(d1), P(high) = 1 - F(d2)."""
    p = np.linspace(0, 1, 101) if p is None else np.atleast_1d(np.asarray(p, dtype=float))
    f1, f2 = stats.binom.cdf(d1, n, p), stats.binom.cdf(d2, n, p)
    return pd.DataFrame({"p": p, "prob_low": f1, "prob_middle": f2 - f1, "prob_high": 1 - f2})


def classify_three(x, d1: int, d2: int):
    """'low' if x <= d1, 'high' if x > d2, else 'middle' (scalar or array-like)."""
    arr = np.asarray(x)
    out = np.where(arr <= d1, "low", np.where(arr > d2, "high", "middle"))
    return str(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- conventions
class ConvertedRule(NamedTuple):
    """A rule and its errors in another convention (see :func:`from_convention`)."""

    d: int
    alpha: float | None
    beta: float | None


def _convert(where: str, d: int, n: int, convention: str, alpha, beta, alpha_beta: str,
             inverse: bool) -> ConvertedRule:
    n = _check_int(where, "n", n)
    d = _check_int(where, "d", d, 0)
    _check_choice(where, "convention", convention, _CONVENTIONS)
    _check_choice(where, "alpha_beta", alpha_beta, ("standard", "reversed"))
    if convention == "x_greater_than":
        d = d - 1 if inverse else d + 1
    elif convention == "max_failures":
        d = n - d
    if alpha_beta == "reversed":
        alpha, beta = beta, alpha
    return ConvertedRule(d, alpha, beta)


def from_convention(d: int, n: int, convention: str, *, alpha: float | None = None,
                    beta: float | None = None, alpha_beta: str = "standard") -> ConvertedRule:
    """Convert a published rule to ours (pass iff X >= d), lqas.md §1.

    Parameters
    ----------
    convention : {"min_successes", "x_greater_than", "max_failures"}
        ``"min_successes"``: already ours (Valadez health LQAS, n = 19 / 80 % -> 13).
        ``"x_greater_than"``: pass iff X > d (Hund/Pagano lqasdesign, pezzoli.R, Myatt
        SLEAC/sleacr, wsup) -> d + 1. ``"max_failures"``: pass iff unvaccinated <= d (WHO/GPEI
        polio, Pezzoli, Lemeshow-Taber) -> n - d.
    alpha, beta : float, optional
        Published error values, passed through (swapped when ``alpha_beta="reversed"``, for
        sources calling alpha the risk of *accepting* a lot at the lower threshold: Pezzoli
        2009/2010, the Niger meningitis study).

    Examples
    --------
    >>> from_convention(6, 35, "max_failures", alpha=0.06, beta=0.05, alpha_beta="reversed")
    ConvertedRule(d=29, alpha=0.05, beta=0.06)
    """
    return _convert("from_convention", d, n, convention, alpha, beta, alpha_beta, False)


def to_convention(d: int, n: int, convention: str, *, alpha: float | None = None,
                  beta: float | None = None, alpha_beta: str = "standard") -> ConvertedRule:
    """Inverse of :func:`from_convention`: express our rule in another convention."""
    return _convert("to_convention", d, n, convention, alpha, beta, alpha_beta, True)


# --------------------------------------------------------------------------- classification
@dataclass(frozen=True)
class Target:
    """An LQAS target for one indicator.

    ``good``/``bad`` are on the indicator's own scale: higher-is-better (penta3_crude good 0.80,
    bad 0.50) needs good > bad; lower-is-better (zero_dose good 0.10, bad 0.40) needs
    good < bad and is classified on the complement (upper = 1 - good, lower = 1 - bad).
    ``cohorts``, when set, restricts classification to lots whose ``cohort`` is listed.
    """

    indicator: str
    good: float
    bad: float
    lower_is_better: bool = False
    cohorts: tuple[str, ...] | None = None

    def __post_init__(self):
        where = f"Target {self.indicator!r}"
        good = _check_prob(where, "good", self.good, open_interval=False)
        bad = _check_prob(where, "bad", self.bad, open_interval=False)
        if self.lower_is_better and not good < bad:
            _fail(where, "lower-is-better needs good < bad", (good, bad), "good < bad")
        if not self.lower_is_better and not good > bad:
            _fail(where, "higher-is-better needs good > bad", (good, bad), "good > bad",
                  "Set lower_is_better=True for indicators such as zero_dose.")
        if isinstance(self.cohorts, str):  # a bare string would become a tuple of letters
            object.__setattr__(self, "cohorts", (self.cohorts,))
        elif self.cohorts is not None:
            object.__setattr__(self, "cohorts", tuple(self.cohorts))

    @property
    def thresholds(self) -> tuple[float, float]:
        """(upper, lower) on the classified scale."""
        if self.lower_is_better:
            return round(1 - self.good, 12), round(1 - self.bad, 12)
        return self.good, self.bad


CLASSIFY_COLUMNS = ["indicator", "n", "x", "d", "alpha", "beta", "class", "x_indicator",
                    "direction", "counted", "upper", "lower", "limits_met", "distribution"]


def classify(data: pd.DataFrame, targets: Iterable[Target], *,
             lot: Sequence[str] = ("catchment", "cohort"), alpha: float = 0.10,
             beta: float = 0.10) -> pd.DataFrame:
    """Classify every lot against every target (binomial rules, pass iff x >= d).

    ``data`` has one row per child: the ``lot`` columns and indicator columns of 0/1/NaN (NaN =
    not in the indicator's denominator). ``alpha``/``beta`` are the limits of
    :func:`decision_rule`.

    Returns
    -------
    pandas.DataFrame
        One row per lot x target, ordered by the lot columns then by target order. Columns:
        ``indicator``, the lot columns, ``n`` (children in the denominator), ``x`` (successes
        on the classified scale), ``d`` (pass iff x >= d), ``alpha``, ``beta``, ``class``
        ("pass", "fail" or "no_data" when n == 0, with d/alpha/beta NA), ``x_indicator``
        (children with indicator == 1), ``direction`` ("higher_is_better" /
        "lower_is_better"), ``counted`` (e.g. "zero_dose == 0"), ``upper``, ``lower``,
        ``limits_met``, ``distribution``.
    """
    where = "classify"
    lot = [lot] if isinstance(lot, str) else list(lot)
    targets = list(targets)
    for t in targets:
        if not isinstance(t, Target):
            _fail(where, "each target must be a Target", t, "lqas.rules.Target(...)")
    alpha = _check_prob(where, "alpha", alpha, open_interval=True)
    beta = _check_prob(where, "beta", beta, open_interval=True)
    needed = lot + [t.indicator for t in targets]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        _fail(where, "data lack required columns", missing, f"columns {needed}", exc=InputError)
    if any(t.cohorts is not None for t in targets) and "cohort" not in lot:
        _fail(where, "a Target sets 'cohorts' but 'cohort' is not a lot column", lot,
              "'cohort' in lot", exc=ConfigError)
    for c in lot:
        if data[c].isna().any():
            _fail(where, f"column '{c}' has missing lot values", int(data[c].isna().sum()),
                  "no missing values in lot columns", exc=InputError)
    for ind in dict.fromkeys(t.indicator for t in targets):
        values = pd.to_numeric(data[ind], errors="coerce")
        wrong = (values.isna() != data[ind].isna()) | (values.notna() & ~values.isin([0, 1]))
        bad = data[ind][wrong]
        if len(bad):
            _fail(where, f"column '{ind}' has values other than 0/1/NaN in {len(bad)} rows",
                  bad.unique()[:5].tolist(), "0, 1 or NaN", exc=InputError)
    inds = list(dict.fromkeys(t.indicator for t in targets))
    num = data[inds].apply(pd.to_numeric).astype(float)
    grouped = pd.concat([data[lot], num.notna().add_prefix("n::"),
                         num.eq(1).add_prefix("x::")], axis=1).groupby(lot, sort=True,
                                                                      observed=True).sum()
    rows, cache = [], {}
    for key, g in grouped.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        lot_values = dict(zip(lot, key))
        for t in targets:
            if t.cohorts is not None and lot_values["cohort"] not in t.cohorts:
                continue
            n, x1 = int(g["n::" + t.indicator]), int(g["x::" + t.indicator])
            upper, lower = t.thresholds
            x = n - x1 if t.lower_is_better else x1
            rec = {"indicator": t.indicator, **lot_values, "n": n, "x": x, "d": pd.NA,
                   "alpha": np.nan, "beta": np.nan, "class": "no_data", "x_indicator": x1,
                   "direction": "lower_is_better" if t.lower_is_better else "higher_is_better",
                   "counted": f"{t.indicator} == {0 if t.lower_is_better else 1}",
                   "upper": upper, "lower": lower, "limits_met": pd.NA,
                   "distribution": "binomial"}
            if n > 0:
                if (n, upper, lower) not in cache:
                    cache[n, upper, lower] = decision_rule(n, upper, lower, alpha, beta)
                r = cache[n, upper, lower]
                rec.update(d=r.d, alpha=r.alpha, beta=r.beta, limits_met=r.limits_met,
                           **{"class": "pass" if x >= r.d else "fail"})
            rows.append(rec)
    cols = ["indicator", *lot, *CLASSIFY_COLUMNS[1:]]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"n": "int64", "x": "int64", "x_indicator": "int64", "d": "Int64",
                       "alpha": "float64", "beta": "float64", "limits_met": "boolean"})


# --------------------------------------------------------------------------- aggregation
def aggregate(lots: pd.DataFrame, *, fpc: bool = False, level: float = 0.95,
              population: str = "population", n: str = "n", x: str = "x") -> pd.DataFrame:
    """Weighted coverage across lots, each lot a stratum (lqas.md §6).

    Notes
    -----
    W_i = N_i / sum_j N_j, p_hat = sum_i W_i p_i with p_i = x_i / n_i,
    Var(p_hat) = sum_i W_i^2 p_i (1 - p_i) / n_i, times (1 - n_i / N_i) when ``fpc``; normal
    CI p_hat +/- z se (not clipped to [0, 1]). As in Valadez Appendix 6 and nutriverse/sleacr
    ``estimate_coverage_overall``.

    Returns
    -------
    pandas.DataFrame
        One row: ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``level``, ``crude``
        (sum x / sum n), ``n``, ``x``, ``lots``, ``population``, ``fpc``.
    """
    where = "aggregate"
    missing = [c for c in (population, n, x) if c not in lots.columns]
    if missing:
        _fail(where, "lots lack required columns", missing, f"columns {[population, n, x]}",
              exc=InputError)
    level = _check_prob(where, "level", level, open_interval=True)
    N, ni, xi = (lots[c].to_numpy(dtype=float) for c in (population, n, x))
    bad = (ni <= 0) | (xi < 0) | (xi > ni) | (N < ni) | np.isnan(N + ni + xi)
    if bad.any():
        _fail(where, f"{int(bad.sum())} lots break 0 <= x <= n, n >= 1, population >= n",
              lots.index[bad][:5].tolist(), "every lot to satisfy them",
              "Drop lots with no sample before aggregating.", exc=InputError)
    w, p = N / N.sum(), xi / ni
    var = w ** 2 * p * (1 - p) / ni * ((1 - ni / N) if fpc else 1.0)
    est, se = float((w * p).sum()), float(np.sqrt(var.sum()))
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame([{"estimate": est, "se": se, "ci_low": est - z * se,
                          "ci_high": est + z * se, "level": level,
                          "crude": float(xi.sum() / ni.sum()), "n": int(ni.sum()),
                          "x": int(xi.sum()), "lots": len(lots), "population": float(N.sum()),
                          "fpc": bool(fpc)}])


def priority_lots(lots: pd.DataFrame, n_col: str = "n", x_col: str = "x", *,
                  average: float | None = None, rounding: str = "exact",
                  gap: float = 0.30) -> pd.DataFrame:
    """Flag lots below the decision rule at the average coverage (Valadez, lqas.md §6).

    ``average`` defaults to the pooled sum x / sum n (pass the programme target when
    monitoring). ``rounding`` turns it into a table column: ``"exact"`` uses it as is (rule at
    p_u = average, p_l = average - ``gap``), ``"nearest5"``/``"up5"``/``"down5"`` round it to a
    5 % column. The book's instruction is unknown and it matters (lqas.md §6: average 52.6 %,
    n = 19 gives 50 % -> 7 but 55 % -> 8). Cells follow :func:`decision_table`.

    Returns
    -------
    pandas.DataFrame
        ``lots`` plus ``average``, ``target`` (after rounding), ``d`` (nullable; NA where the
        table has no usable rule), ``alpha``, ``beta`` and ``priority`` (x < d; NA with no rule).
    """
    where = "priority_lots"
    for c in (n_col, x_col):
        if c not in lots.columns:
            _fail(where, f"lots lack column '{c}'", list(lots.columns), f"a column '{c}'",
                  exc=InputError)
    rounding = _check_choice(where, "rounding", rounding, ("exact", "nearest5", "up5", "down5"))
    if average is None:
        average = float(lots[x_col].sum() / lots[n_col].sum())
    average = _check_prob(where, "average", average, open_interval=True)
    target = {"exact": average, "nearest5": math.floor(average * 20 + 0.5) / 20,
              "up5": math.ceil(average * 20 - 1e-9) / 20,
              "down5": math.floor(average * 20 + 1e-9) / 20}[rounding]
    sizes = lots[n_col].to_numpy()
    for s in pd.unique(sizes):
        _check_int(where, n_col, int(s) if float(s).is_integer() else s)
    cells = {int(s): _valadez_cell(int(s), target, gap) if 0 < target < 1 else None
             for s in pd.unique(sizes)}
    got = [cells[int(s)] for s in sizes]
    out = lots.copy()
    out["average"], out["target"] = average, target
    out["d"] = pd.array([c[0] if c else pd.NA for c in got], dtype="Int64")
    out["alpha"] = [c[1] if c else np.nan for c in got]
    out["beta"] = [c[2] if c else np.nan for c in got]
    below = lots[x_col].to_numpy(dtype=float) < out["d"].to_numpy(dtype=float, na_value=np.nan)
    out["priority"] = pd.array(below, dtype="boolean")
    out.loc[out["d"].isna(), "priority"] = pd.NA
    return out

"""Decision rules, sample sizes (finite, clustered, double sampling) and OC curves."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from lqas.rules._checks import _ROUNDINGS, _TOL, _check_choice, _check_int, _check_prob, _check_thresholds, _fail


# --------------------------------------------------------------------------- decision rules
@dataclass(frozen=True)
class Rule:
    """A single-sample LQAS decision rule: the lot passes iff X >= ``d``.

    ``alpha`` = P(X < d | p = good), ``beta`` = P(X >= d | p = bad). ``good_count`` and
    ``bad_count`` are the discretised numbers of successes in the lot (hypergeometric only).
    """

    n: int
    d: int
    good: float
    bad: float
    alpha: float
    beta: float
    alpha_limit: float
    beta_limit: float
    limits_met: bool
    distribution: str
    lot_size: int | None = None
    good_count: int | None = None
    bad_count: int | None = None

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


def lot_thresholds(good: float, bad: float, lot_size: int,
                   rounding: str = "hund") -> tuple[int, int]:
    """Numbers of successes (K_good, K_bad) in a lot of N = ``lot_size`` at the two thresholds.

    ``rounding="hund"``: K_bad = floor(p_bad N), K_good = ceil(p_good N), the effective bounds of the Hund
    manual (lqas.md §3; N = 52, 0.65/0.35 -> 34/52 and 18/52); ``"round"``: both to nearest
    (Brixton-Health hyperLQAS, isabelfulcher/lqas_imp); ``"ceiling"``: both up (sleacr).
    """
    where = "lot_thresholds"
    good, bad = _check_thresholds(where, good, bad)
    lot_size = _check_int(where, "lot_size", lot_size)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    # the 1e-9 slack stops 0.35 * 52 = 18.200000000000003 style artefacts moving a bound
    pu, pl = good * lot_size, bad * lot_size
    if rounding == "hund":
        return math.ceil(pu - 1e-9), math.floor(pl + 1e-9)
    if rounding == "round":
        return int(np.round(pu)), int(np.round(pl))
    return math.ceil(pu - 1e-9), math.ceil(pl - 1e-9)


def _errors(n: int, good: float, bad: float, lot_size: int | None, rounding: str):
    """alpha and beta for every d = 1..n (arrays indexed d - 1) plus the lot counts."""
    k = np.arange(0, n)  # X < d  <=>  X <= d - 1 = k
    if lot_size is None:
        return stats.binom.cdf(k, n, good), stats.binom.sf(k, n, bad), None, None
    ku, kl = lot_thresholds(good, bad, lot_size, rounding)
    return (stats.hypergeom.cdf(k, lot_size, ku, n), stats.hypergeom.sf(k, lot_size, kl, n),
            ku, kl)


def _rule_args(where, n, good, bad, alpha, beta, lot_size, rounding):
    """Validated (n, good, bad, alpha, beta, lot_size, rounding) for the rule functions."""
    n = _check_int(where, "n", n)
    good, bad = _check_thresholds(where, good, bad)
    alpha = _check_prob(where, "alpha", alpha, open_interval=True)
    beta = _check_prob(where, "beta", beta, open_interval=True)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    if lot_size is not None and _check_int(where, "lot_size", lot_size) < n:
        _fail(where, "parameter 'lot_size' is smaller than the sample", lot_size,
              f"lot_size >= n = {n}", "Omit lot_size for an infinite lot (binomial).")
    return n, good, bad, alpha, beta, lot_size, rounding


def _choose_d(alpha: np.ndarray, beta: np.ndarray, alpha_limit: float, beta_limit: float,
              convention: str = "min_errors") -> tuple[int, bool]:
    """Index of the chosen rule (d - 1) and whether it meets both limits."""
    total = alpha + beta
    valid = (alpha <= alpha_limit + _TOL) & (beta <= beta_limit + _TOL)
    pool = valid if (convention == "min_errors" and valid.any()) else np.ones_like(valid)
    best = total[pool].min()
    idx = int(np.flatnonzero(pool & (total <= best + _TOL)).max())  # ties -> larger d
    return idx, bool(valid[idx])


def decision_rule(n: int, good: float, bad: float, alpha: float = 0.10, beta: float = 0.10,
                  *, lot_size: int | None = None, rounding: str = "hund",
                  convention: str = "min_errors") -> Rule:
    """Choose the decision rule d for a sample of ``n``: the lot passes iff X >= d.

    Parameters
    ----------
    n : int
        Sample size per lot (>= 1).
    good, bad : float
        The target a lot should reach ("good", the upper threshold of the LQAS literature) and the
        level of a lot to improve ("bad", the lower threshold), 0 <= bad < good <= 1, on the
        scale of the outcome counted (for zero-dose, its complement).
    alpha, beta : float, default=0.10
        Limits on alpha = P(X < d | good) and beta = P(X >= d | bad), each in (0, 1).
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
    alpha(d) = F(d - 1; n, p_good), beta(d) = 1 - F(d - 1; n, p_bad), F the binomial (hypergeometric)
    CDF; d = 0 and d = n + 1 (always / never pass) are not considered. n = 19, 0.80/0.50 gives
    d = 13, alpha 0.0676, beta 0.0835: the published 0.07/0.08 of PMC3013262 Table 1.

    Examples
    --------
    >>> r = decision_rule(19, 0.80, 0.50)
    >>> r.d, round(r.alpha, 4), round(r.beta, 4)
    (13, 0.0676, 0.0835)
    """
    n, good, bad, alpha, beta, lot_size, rounding = _rule_args(
        "decision_rule", n, good, bad, alpha, beta, lot_size, rounding)
    _check_choice("decision_rule", "convention", convention, ("min_errors", "valadez"))
    a, b, ku, kl = _errors(n, good, bad, lot_size, rounding)
    i, met = _choose_d(a, b, alpha, beta, convention)
    return Rule(n, i + 1, good, bad, float(a[i]), float(b[i]), alpha, beta, met,
                "binomial" if lot_size is None else "hypergeometric", lot_size, ku, kl)


def evaluate_rule(n: int, d: int, good: float, bad: float, alpha: float = 0.10,
                  beta: float = 0.10, *, lot_size: int | None = None,
                  rounding: str = "hund") -> Rule:
    """Errors of a given rule (pass iff X >= ``d``, d in 0..n + 1), e.g. a converted field rule.

    Examples
    --------
    >>> r = evaluate_rule(35, 29, 0.90, 0.70)  # Pezzoli 2009 Bolivia, 6 unvaccinated allowed
    >>> round(r.alpha, 3), round(r.beta, 3)
    (0.055, 0.065)
    """
    n, good, bad, alpha, beta, lot_size, rounding = _rule_args(
        "evaluate_rule", n, good, bad, alpha, beta, lot_size, rounding)
    if _check_int("evaluate_rule", "d", d, minimum=0) > n + 1:
        _fail("evaluate_rule", "parameter 'd' exceeds n + 1", d, f"an integer in 0..{n + 1}")
    a, b, ku, kl = _errors(n, good, bad, lot_size, rounding)
    a, b = np.r_[0.0, a, 1.0], np.r_[1.0, b, 0.0]  # add d = 0 and d = n + 1
    met = bool(a[d] <= alpha + _TOL and b[d] <= beta + _TOL)
    return Rule(n, d, good, bad, float(a[d]), float(b[d]), alpha, beta, met,
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
    good: float
    bad: float
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


def sample_size(good: float, bad: float, alpha: float = 0.10, beta: float = 0.10, *,
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
    good, bad, alpha, beta, rounding
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
    good, bad = _check_thresholds(where, good, bad)
    alpha = _check_prob(where, "alpha", alpha, open_interval=True)
    beta = _check_prob(where, "beta", beta, open_interval=True)
    n_max = _check_int(where, "n_max", n_max)
    rounding = _check_choice(where, "rounding", rounding, _ROUNDINGS)
    common = dict(good=good, bad=bad, alpha_limit=alpha, beta_limit=beta)
    if (icc is None) != (cluster_size is None):
        _fail(where, "cluster design needs both 'icc' and 'cluster_size'",
              {"icc": icc, "cluster_size": cluster_size}, "both set or both omitted")
    if icc is None:
        if lot_size is not None:
            lot_size = _check_int(where, "lot_size", lot_size)
            n_max = min(n_max, lot_size)
        for n in range(1, n_max + 1):
            a, b, _, _ = _errors(n, good, bad, lot_size, rounding)
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
    one_u, one_l = _betabinom_pmf(m, good, icc), _betabinom_pmf(m, bad, icc)
    for k in range(1, n_max // m + 1):
        n = k * m
        if method == "ess":
            n_eff = int(np.round(n / deff))
            if n_eff < 1:
                continue
            d_eff = np.round(np.arange(n) / deff).astype(int)  # Hund cut-off (d - 1) / DEFF
            a = stats.binom.cdf(d_eff, n_eff, good)
            b = stats.binom.sf(d_eff, n_eff, bad)
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
          "Raise n_max, relax alpha/beta or widen the gap between good and bad.")


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


def plot_oc(rule, ax=None, lang: str = "en"):
    """Plot the OC curve of a :class:`Rule` or an ``(n, d)`` pair; returns the Figure.

    With a Rule, the thresholds are drawn as vertical lines, alpha as the gap between the
    curve and 1 at ``good`` and beta as the height of the curve at ``bad``.
    """
    from babel.numbers import format_decimal, format_percent
    from matplotlib.figure import Figure  # no pyplot: no global figure state

    from lqas.labels import LANGUAGES, gettext

    lang = _check_choice("plot_oc", "lang", lang, LANGUAGES)
    n, d = (rule.n, rule.d) if isinstance(rule, Rule) else rule
    xlab, ylab = gettext("True coverage p", lang), gettext("Probability of passing (X ≥ d)", lang)
    title = gettext("OC curve (n = %(n)s, d = %(d)s)", lang, n=n, d=d)
    up_lab, low_lab = gettext("target", lang), gettext("threshold of a lot to improve", lang)
    fig = ax.figure if ax is not None else Figure(figsize=(6, 4))
    ax = ax if ax is not None else fig.subplots()
    oc = oc_curve(n, d, lot_size=rule.lot_size if isinstance(rule, Rule) else None)
    ax.plot(oc["p"], oc["prob_pass"], color="black")
    if isinstance(rule, Rule):
        ax.axvline(rule.good, color="tab:green", ls="--", label=f"{up_lab} {format_percent(rule.good, locale=lang)}")
        ax.axvline(rule.bad, color="tab:red", ls="--", label=f"{low_lab} {format_percent(rule.bad, locale=lang)}")
        ax.vlines(rule.good, 1 - rule.alpha, 1, color="tab:green", lw=4)
        ax.vlines(rule.bad, 0, rule.beta, color="tab:red", lw=4)
        ax.annotate(f"α = {format_decimal(rule.alpha, format='0.000', locale=lang)}", (rule.good, 1 - rule.alpha),
                    xytext=(6, -14), textcoords="offset points")
        ax.annotate(f"β = {format_decimal(rule.beta, format='0.000', locale=lang)}", (rule.bad, rule.beta),
                    xytext=(6, 6), textcoords="offset points")
        ax.legend(loc="upper left")
    ax.set(xlabel=xlab, ylabel=ylab, title=title, xlim=(0, 1), ylim=(0, 1.02))
    return fig



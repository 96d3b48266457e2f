"""The classic decision-rule table, three-class rules and convention converters."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from lqas.rules._checks import (
    _CONVENTIONS,
    _TOL,
    DEFAULT_TARGETS,
    _check_choice,
    _check_int,
    _check_prob,
    _check_thresholds,
    _fail,
)
from lqas.rules.decision import decision_rule


# --------------------------------------------------------------------------- Valadez table
def valadez_cell(n: int, target: float, gap: float, alpha_max: float = 0.10):
    """One cell of the classic decision-rule table (also the rule of :func:`lqas.rules.priority_lots`).

    Returns (d, alpha, beta, bad, rule) for sample size ``n``, ``target`` (the good threshold)
    and bad threshold ``target - gap``, or None when no rule is usable.
    """
    bad = round(target - gap, 10)
    if bad > 0:
        r = decision_rule(n, target, bad, convention="valadez")
        return r.d, r.alpha, r.beta, bad, "min_alpha_beta"
    a = stats.binom.cdf(np.arange(n), n, target)  # alpha of d = 1..n
    ok = np.flatnonzero(a <= alpha_max + _TOL)
    if ok.size == 0:
        return None
    i = int(ok.max())
    return i + 1, float(a[i]), np.nan, bad, "largest_d_alpha_le_0.10"


def decision_table(n_values: Iterable[int] = range(12, 31),
                   targets: Iterable[float] = DEFAULT_TARGETS, gap: float = 0.30, *,
                   long: bool = False) -> pd.DataFrame:
    """Classic Valadez LQAS table of decision rules (rows n, columns target, cells d).

    Convention (lqas.md §2, computed, not transcribed from the book): bad = target - gap and
    d minimises alpha + beta (ties -> larger d), pass iff X >= d. When target - gap <= 0 the
    cell is the largest d with alpha <= 10 % (reproduces the n = 12 cells 20 % -> 1 and
    30 % -> 2; unverified), and NA when no d has alpha <= 10 %. Reproduces the verified
    n = 12 row for targets >= 35 % and n = 19 / 80 % -> 13.

    Returns
    -------
    pandas.DataFrame
        Wide (default): index ``n``, one column per target, nullable integer cells d.
        ``long=True``: columns ``n``, ``good`` (the target), ``bad``, ``d``, ``alpha``, ``beta``,
        ``rule`` ("min_alpha_beta" or "largest_d_alpha_le_0.10"; beta is NaN there since
        bad <= 0) and ``flag`` ("ok", "alpha_or_beta>0.10", "alpha_or_beta>0.15").
    """
    rows = []
    targets = [float(t) for t in targets]
    for n in n_values:
        n = _check_int("decision_table", "n_values", n)
        for t in targets:
            _check_prob("decision_table", "targets", t, open_interval=True)
            cell = valadez_cell(n, t, gap)
            d, a, b, low, how = cell if cell else (pd.NA, np.nan, np.nan, round(t - gap, 10), "na")
            worst = np.nanmax([a, b]) if cell else np.nan
            flag = (pd.NA if not cell else "ok" if worst <= 0.10 + _TOL
                    else "alpha_or_beta>0.10" if worst <= 0.15 + _TOL else "alpha_or_beta>0.15")
            rows.append((n, t, low, d, a, b, how, flag))
    out = pd.DataFrame(rows, columns=["n", "good", "bad", "d", "alpha", "beta", "rule",
                                      "flag"]).astype({"d": "Int64"})
    if long:
        return out
    wide = out.pivot(index="n", columns="good", values="d").astype("Int64")
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
        sources calling alpha the risk of *accepting* a lot at the bad (lower) threshold: Pezzoli
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



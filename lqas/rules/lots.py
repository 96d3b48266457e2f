"""Lot classification against targets, aggregation across lots and priority lots."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lqas.errors import ConfigError, InputError
from lqas.rules._checks import _check_choice, _check_int, _check_prob, _fail
from lqas.rules.decision import decision_rule
from lqas.rules.tables import valadez_cell


# --------------------------------------------------------------------------- classification
@dataclass(frozen=True)
class Target:
    """An LQAS target for one indicator.

    ``good``/``bad`` are on the indicator's own scale: higher-is-better (penta3_crude good 0.80,
    bad 0.50) needs good > bad; lower-is-better (zero_dose good 0.10, bad 0.40) needs
    good < bad and is classified on the complement (good 0.90, bad 0.60 of children without it).
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
        """(good, bad) on the classified scale: the complement for a lower-is-better indicator."""
        if self.lower_is_better:
            return round(1 - self.good, 12), round(1 - self.bad, 12)
        return self.good, self.bad


CLASSIFY_COLUMNS = ["indicator", "n", "x", "d", "alpha", "beta", "class", "x_indicator",
                    "direction", "counted", "good", "bad", "limits_met", "distribution"]


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
        "lower_is_better"), ``counted`` (e.g. "zero_dose == 0"), ``good``, ``bad`` (the target's
        thresholds on the indicator's own scale, as in survey.toml; the rule is computed on the
        counted scale), ``limits_met``, ``distribution``.
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
            good, bad = t.thresholds
            x = n - x1 if t.lower_is_better else x1
            rec = {"indicator": t.indicator, **lot_values, "n": n, "x": x, "d": pd.NA,
                   "alpha": np.nan, "beta": np.nan, "class": "no_data", "x_indicator": x1,
                   "direction": "lower_is_better" if t.lower_is_better else "higher_is_better",
                   "counted": f"{t.indicator} == {0 if t.lower_is_better else 1}",
                   "good": t.good, "bad": t.bad, "limits_met": pd.NA,
                   "distribution": "binomial"}
            if n > 0:
                if (n, good, bad) not in cache:
                    cache[n, good, bad] = decision_rule(n, good, bad, alpha, beta)
                r = cache[n, good, bad]
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
    p = xi / ni
    est, se, low, high = pooled((N * p).sum(), (N ** 2 * p * (1 - p) / ni * ((1 - ni / N) if fpc else 1.0)).sum(),
                                N.sum(), level)
    return pd.DataFrame([{"estimate": float(est), "se": float(se), "ci_low": float(low),
                          "ci_high": float(high), "level": level,
                          "crude": float(xi.sum() / ni.sum()), "n": int(ni.sum()),
                          "x": int(xi.sum()), "lots": len(lots), "population": float(N.sum()),
                          "fpc": bool(fpc)}])


def pooled(weighted, variance, population, level: float = 0.95):
    """The lots' stratified estimate from their sums (one value, or one per group of lots): ``weighted``
    = sum N_i p_i, ``variance`` = sum N_i^2 p_i (1 - p_i) / n_i (times the fpc), ``population`` = sum N_i.
    Returns the estimate, its SE and the normal CI at ``level`` (lqas.md §6, as :func:`aggregate`)."""
    estimate = weighted / population
    se = np.sqrt(variance) / population
    z = stats.norm.ppf(0.5 + level / 2)
    return estimate, se, estimate - z * se, estimate + z * se


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
    cells = {int(s): valadez_cell(int(s), target, gap) if 0 < target < 1 else None
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

"""Survey design: stratified, clustered, weighted designs and their estimation verbs."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from lqas.ci import METHODS, proportion_ci
from lqas.errors import DesignError

ESTIMATE_COLUMNS = ["n", "n_weighted", "estimate", "se", "ci_low", "ci_high", "lcb", "ucb", "deff", "neff",
                    "icc", "df", "ci_method", "level"]
SINGLETON_OPTIONS = ("adjust", "certainty", "remove", "error")
ALL = "all"


class SurveyDesign:
    """A stratified, clustered, weighted sample; estimators are methods on it.

    Parameters
    ----------
    data : DataFrame
        One row per sampled child.
    strata, psu, weight : str or None
        Column names. ``strata=None``: one stratum; ``psu=None``: each row is its own PSU.
    fpc : str or None
        Column with the number of PSUs in the stratum's population (or, if below 1, the sampling
        fraction). None: PSUs sampled with replacement.
    singleton : {"adjust", "certainty", "remove", "error"}, default="adjust"
        Strata with one PSU, as R ``options(survey.lonely.psu=...)``: ``adjust`` centres the lonely
        PSU at the grand mean (0 for estimating functions), ``certainty``/``remove`` let the stratum
        contribute no variance, ``error`` refuses the design.
    nest : bool, default=False
        PSU codes are numbered within strata (the same code in two strata means two PSUs).

    Notes
    -----
    Variances by Taylor linearization of the ratio estimator with PSUs with replacement (or FPC),
    as R ``survey::svymean``/``svyby`` on ``svydesign(ids=~psu, strata=~strata, weights=~weight)``.
    Domains are estimated on the full design: PSUs without domain members count with zero totals.
    """

    def __init__(self, data: pd.DataFrame, *, strata: str | None = None, psu: str | None = None,
                 weight: str | None = None, fpc: str | None = None, singleton: str = "adjust",
                 nest: bool = False):
        if singleton not in SINGLETON_OPTIONS:
            raise DesignError(f"singleton must be one of {', '.join(SINGLETON_OPTIONS)}; got {singleton!r}")
        missing = [name for name in (strata, psu, weight, fpc) if name is not None and name not in data]
        if missing:
            raise DesignError(f"design column missing from the data: {', '.join(missing)}")
        self.data, self.strata, self.psu, self.weight = data, strata, psu, weight
        self.fpc, self.singleton, self.nest = fpc, singleton, nest

        n = len(data)
        stratum = data[strata].astype(str).to_numpy() if strata else np.zeros(n, dtype=object)
        if strata and data[strata].isna().any():
            raise DesignError(f"strata column '{strata}' has missing values (e.g. row {int(data[strata].isna().argmax())})")
        if psu:
            if data[psu].isna().any():
                raise DesignError(f"psu column '{psu}' has missing values (e.g. row {int(data[psu].isna().argmax())})")
            cluster = data[psu].astype(str).to_numpy()
            if not nest and strata:
                spread = pd.Series(stratum).groupby(cluster).nunique()
                if (spread > 1).any():
                    name = spread.index[int(np.argmax(spread.to_numpy() > 1))]
                    raise DesignError(f"PSU {name!r} appears in more than one stratum of '{strata}'; "
                                      "pass nest=True if PSUs are numbered within strata")
            cluster = stratum.astype(str) + "\x1f" + cluster
        else:
            cluster = np.arange(n).astype(str)
        if weight:
            w = pd.to_numeric(data[weight], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                row = int(np.argmax(bad))
                raise DesignError(f"weight column '{weight}': weights must be positive numbers; "
                                  f"row {row} has {str(data[weight].iloc[row])!r}")
        else:
            w = np.ones(n)
        self._w = w
        self._psu_code, psu_labels = pd.factorize(cluster)
        self._stratum_code, stratum_labels = pd.factorize(stratum)
        self._psu_stratum = np.zeros(len(psu_labels), dtype=int)
        self._psu_stratum[self._psu_code] = self._stratum_code
        self._n_psu_h = np.bincount(self._psu_stratum, minlength=len(stratum_labels)).astype(float)
        if singleton == "error" and (self._n_psu_h == 1).any():
            lonely = stratum_labels[int(np.argmax(self._n_psu_h == 1))]
            raise DesignError(f"stratum {lonely!r} has only one PSU; choose singleton='adjust', "
                              "'certainty' or 'remove'")
        self._f_h = np.zeros(len(stratum_labels))
        if fpc:
            population = pd.to_numeric(data[fpc], errors="coerce").groupby(self._stratum_code).first()
            population = population.reindex(range(len(stratum_labels))).to_numpy(float)
            fraction = np.where(population < 1, population, self._n_psu_h / population)
            if np.any(~np.isfinite(fraction)) or np.any(fraction > 1):
                raise DesignError(f"fpc column '{fpc}' must give at least as many PSUs as sampled in each stratum")
            self._f_h = fraction

    def __repr__(self) -> str:
        return (f"SurveyDesign(strata={self.strata!r}, psu={self.psu!r}, weight={self.weight!r}, "
                f"fpc={self.fpc!r}, singleton={self.singleton!r}, nest={self.nest!r})")

    def proportions(self, outcomes: list[str], by: list[str] | None = None, *, ci: str = "wilson",
                    level: float = 0.95, margins: bool = True, df: str = "vcqi") -> pd.DataFrame:
        """Weighted proportions of 0/1 outcomes (NaN = not in the denominator) by domain.

        Parameters
        ----------
        outcomes : list of str
        by : list of str, optional
            Domain columns. Every combination is estimated, and with ``margins`` every margin
            (a subset of the columns replaced by ``"all"``, down to the whole sample).
        ci : {"wilson", "clopper-pearson", "jeffreys", "logit", "agresti-coull", "wald", "korn-graubard"}
        level : float, default=0.95
        df : {"vcqi", "design"}, default="vcqi"
            ``vcqi``: PSUs in the strata holding domain members minus those strata (VCQI svypd);
            ``design``: PSUs minus strata of the whole design (R ``degf``).

        Returns
        -------
        DataFrame
            ``indicator``, the ``by`` columns, then ``ESTIMATE_COLUMNS``: ``n``, ``n_weighted``,
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``lcb``, ``ucb`` (the 90 % interval,
            one-sided 95 % bounds), ``deff``, ``neff`` (df-adjusted), ``icc``, ``df``,
            ``ci_method``, ``level``. Domains without members are omitted.

        Notes
        -----
        DEFF, NEFF and the Wilson interval follow VCQI ``svypd``/``svyp_ci_calc``: neff =
        p(1-p)/se^2, DEFF = (n-1)/neff, neff* = neff (z/t_df)^2, DEFF truncated at 1 (neff* = n);
        ICC is the unweighted one-way ANOVA estimator by PSU within the domain (VCQI ``calcicc``).
        """
        if ci not in METHODS:
            raise DesignError(f"ci must be one of {', '.join(METHODS)}; got {ci!r}")
        if df not in ("vcqi", "design"):
            raise DesignError(f"df must be 'vcqi' or 'design'; got {df!r}")
        by = list(by or [])
        missing = [name for name in [*outcomes, *by] if name not in self.data]
        if missing:
            raise DesignError(f"column missing from the data: {', '.join(missing)}")
        subsets = [tuple(c) for k in range(len(by), -1, -1) for c in combinations(by, k)] if margins else [tuple(by)]
        frames = []
        for outcome in outcomes:
            y = pd.to_numeric(self.data[outcome], errors="coerce").to_numpy(float)
            for subset in subsets:
                frames.append(self._one(outcome, y, by, subset, ci, level, df))
        return pd.concat(frames, ignore_index=True)

    def _one(self, outcome: str, y: np.ndarray, by: list[str], subset: tuple[str, ...], ci: str,
             level: float, df_rule: str) -> pd.DataFrame:
        in_denominator = ~np.isnan(y)
        if subset:
            grouped = self.data[list(subset)].astype(str).groupby(list(subset), sort=True)
            domain = grouped.ngroup().to_numpy()
            labels = grouped.size().index.to_frame(index=False)
        else:
            domain, labels = np.zeros(len(y), dtype=int), pd.DataFrame(index=[0])
        n_domains = len(labels)
        keep = in_denominator & (domain >= 0)
        d, g, s = domain[keep], self._psu_code[keep], self._psu_stratum[self._psu_code[keep]]
        w, yy = self._w[keep], y[keep]

        n_psu = len(self._psu_stratum)
        cell = d * n_psu + g  # (domain, PSU) pairs present
        cells, cell_index = np.unique(cell, return_inverse=True)
        cell_domain, cell_psu = cells // n_psu, cells % n_psu
        cell_stratum = self._psu_stratum[cell_psu]
        A = np.bincount(cell_index, weights=w * yy)
        B = np.bincount(cell_index, weights=w)
        count = np.bincount(cell_index).astype(float)
        successes = np.bincount(cell_index, weights=yy)

        W = np.bincount(cell_domain, weights=B, minlength=n_domains)
        n = np.bincount(cell_domain, weights=count, minlength=n_domains)
        p = np.bincount(cell_domain, weights=A, minlength=n_domains) / np.where(W > 0, W, np.nan)
        U = (A - p[cell_domain] * B) / W[cell_domain]  # PSU totals of the linearized variable

        n_strata = len(self._n_psu_h)
        pair = cell_domain * n_strata + cell_stratum
        S1 = np.bincount(pair, weights=U, minlength=n_domains * n_strata).reshape(n_domains, n_strata)
        S2 = np.bincount(pair, weights=U * U, minlength=n_domains * n_strata).reshape(n_domains, n_strata)
        n_h = self._n_psu_h
        lonely = n_h == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(lonely, 1.0 if self.singleton == "adjust" else 0.0, n_h / (n_h - 1)) * (1 - self._f_h)
            centred = np.where(lonely, S2, S2 - S1 ** 2 / n_h)
        variance = (centred * scale).sum(axis=1)
        se = np.sqrt(np.maximum(variance, 0))

        members = np.zeros((n_domains, n_strata), dtype=bool)
        members[cell_domain, cell_stratum] = True
        if df_rule == "vcqi":
            df = (members * n_h).sum(axis=1) - members.sum(axis=1)
        else:
            df = np.full(n_domains, n_h.sum() - n_strata)
        df = df.astype(float)

        icc = _anova_icc(cell_domain, count, successes, n_domains)
        result = _vcqi_intervals(p, se, n, df, ci, level)
        out = labels.copy()
        for column in by:
            if column not in out:
                out[column] = ALL
        out = out[by] if by else out.iloc[:, :0]
        out.insert(0, "indicator", outcome)
        out["n"] = n.astype(int)
        out["n_weighted"] = W
        out["estimate"] = p
        for key, value in result.items():
            out[key] = value
        out["icc"] = icc
        out["ci_method"] = ci
        out["level"] = level
        out = out[["indicator", *by, *ESTIMATE_COLUMNS]]
        return out[out["n"] > 0].reset_index(drop=True)


def _anova_icc(cell_domain: np.ndarray, count: np.ndarray, successes: np.ndarray, n_domains: int) -> np.ndarray:
    """One-way ANOVA ICC of a 0/1 outcome by PSU within each domain (VCQI calcicc, not truncated)."""
    N = np.bincount(cell_domain, weights=count, minlength=n_domains)
    k = np.bincount(cell_domain, minlength=n_domains).astype(float)
    total = np.bincount(cell_domain, weights=successes, minlength=n_domains)
    between_sq = np.bincount(cell_domain, weights=successes ** 2 / count, minlength=n_domains)
    sum_n2 = np.bincount(cell_domain, weights=count ** 2, minlength=n_domains)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssb = between_sq - total ** 2 / N
        ssw = total - between_sq  # sum of y^2 = sum of y for 0/1 outcomes
        msb, msw = ssb / (k - 1), ssw / (N - k)
        n0 = (N - sum_n2 / N) / (k - 1)
        icc = (msb - msw) / (msb + (n0 - 1) * msw)
        homogeneous = np.isclose(msb, 0) & np.isclose(msw, 0)
        icc = np.where(homogeneous, -1 / (n0 - 1), icc)
    return icc


def _vcqi_intervals(p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray, ci: str,
                    level: float) -> dict[str, np.ndarray]:
    """NEFF, DEFF and intervals as VCQI svypd: df-adjusted effective size, DEFF truncated at 1."""
    homogeneous = (se < 1e-16) | np.isclose(p, 0, atol=1e-7) | np.isclose(p, 1, atol=1e-7)
    se = np.where(homogeneous, 0.0, se)
    df = np.where(homogeneous, n - 1, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(homogeneous, n, p * (1 - p) / se ** 2)
        deff = (n - 1) / neff

    def adjusted(alpha: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = stats.t.ppf(1 - alpha / 2, np.maximum(df, 1))
            reference = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1)) if ci == "korn-graubard" \
                else stats.norm.ppf(1 - alpha / 2)
            value = neff * (reference / t) ** 2
        return np.where((deff < 1) | homogeneous, n, value)

    neff_star = adjusted(1 - level)
    members = n > 0  # domains without members are dropped by the caller
    low, high, lcb, ucb = (np.full(len(p), np.nan) for _ in range(4))
    low[members], high[members] = proportion_ci(p[members], neff_star[members], method=ci, level=level)
    lcb[members], ucb[members] = proportion_ci(p[members], adjusted(0.10)[members], method=ci, level=0.90)
    return {"se": se, "ci_low": low, "ci_high": high, "lcb": lcb, "ucb": ucb,
            "deff": np.where(deff < 1, 1.0, deff), "neff": neff_star, "df": df}

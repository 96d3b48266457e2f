"""Survey design: stratified, clustered, weighted designs and their estimation verbs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from lqas.ci import METHODS, f_sf, proportion_ci, t_quantile
from lqas.errors import DesignError

ESTIMATE_COLUMNS = ["n", "n_weighted", "estimate", "se", "ci_low", "ci_high", "lcb", "ucb", "deff", "neff",
                    "icc", "df", "ci_method", "level"]
MEAN_COLUMNS = ["n", "n_weighted", "estimate", "se", "ci_low", "ci_high", "df", "level"]
COMPARE_COLUMNS = ["group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "difference", "difference_se",
                   "difference_ci_low", "difference_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high",
                   "f_statistic", "df_num", "df_den", "p_value", "disadvantaged", "df", "level"]
DID_COLUMNS = ["n_a1", "n_a2", "n_b1", "n_b2", "estimate_a1", "estimate_a2", "estimate_b1", "estimate_b2",
               "change_a", "change_b", "did", "did_se", "did_ci_low", "did_ci_high", "did_logit", "did_logit_se",
               "did_logit_ci_low", "did_logit_ci_high", "df", "level"]
SINGLETON_OPTIONS = ("adjust", "certainty", "remove", "error")
DF_RULES = ("vcqi", "design", "domain")  # see SurveyDesign._domain_df
ALL = "all"
MISSING_DOMAIN = "missing"  # label of the domain of rows whose by/group value is missing


def domain_columns(frame: pd.DataFrame) -> list[str]:
    """The domain columns of a tidy estimates or comparisons frame: every column but ``indicator``
    and the estimate's or comparison's own."""
    measures = {"indicator", *ESTIMATE_COLUMNS, *COMPARE_COLUMNS}
    return [c for c in frame.columns if c not in measures]


def domain_rows(frame: pd.DataFrame, indicator: str | None = None, free: tuple[str, ...] = (),
                **values: str) -> pd.DataFrame:
    """Rows of a tidy estimates frame with the given domain values and every other domain column at
    its ``"all"`` margin, except the ``free`` ones (any value). One call picks, say, each catchment's
    row of an indicator for a cohort without also picking district, stratifier or status rows."""
    mask = pd.Series(True, index=frame.index) if indicator is None else frame["indicator"] == indicator
    for column in domain_columns(frame):
        if column not in free:
            mask &= frame[column].astype(str) == str(values.get(column, ALL))
    return frame[mask]


def unit_rows(frame: pd.DataFrame, indicator: str, unit: str, **values: str) -> pd.DataFrame:
    """Each unit's row of an indicator (each catchment's), the levels above it as they are (a
    catchment's district), every other domain column as given or at ``"all"``."""
    rows = frame[(frame["indicator"] == indicator) & (frame[unit].astype(str) != ALL)]
    above = [c for c in domain_columns(frame) if c != unit and c not in values and len(rows)
             and (rows[c].astype(str) != ALL).all()]
    return domain_rows(rows, free=(unit, *above), **values)


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
        Strata with one PSU, as R ``options(survey.lonely.psu=...)``: ``adjust`` takes the lonely
        PSU's total about 0 (R's "grand mean": 0 for the estimating functions of means, proportions
        and gaps; R's code also uses 0 for totals, and so do we), ``certainty``/``remove`` let the
        stratum contribute no variance, ``error`` refuses the design.
    nest : bool, default=False
        PSU codes are numbered within strata (the same code in two strata means two PSUs).
    empty_psus : mapping of stratum label to int, or int, optional
        Sampled PSUs that yielded no respondent, per stratum (an int: in the only stratum). They
        count among the stratum's PSUs with zero totals, as VCQI and BeSD-TI count the zero-weight
        placeholder rows they add for such clusters: more PSUs in variances and degrees of freedom.

    Notes
    -----
    Verbs: :meth:`proportions` (0/1 outcomes, VCQI intervals), :meth:`means`, :meth:`totals`
    (numeric variables) and :meth:`compare` (a gap between two groups with the Rao-Scott test),
    each over every domain and margin of ``by`` in one pass.

    Variances by Taylor linearization with PSUs with replacement (or FPC), as R
    ``survey::svymean``/``svytotal``/``svyby`` on ``svydesign(ids=~psu, strata=~strata,
    weights=~weight)``. Domains are estimated on the full design: PSUs without domain members count
    with zero totals. The rows are summed once into (finest domain, PSU) cells; every margin is a
    sum of those cells, so the cost is one pass over the data per variable plus work proportional
    to the number of cells. The design columns are read when the design is built: the rows of
    ``data`` must not change afterwards.
    """

    def __init__(self, data: pd.DataFrame, *, strata: str | None = None, psu: str | None = None,
                 weight: str | None = None, fpc: str | None = None, singleton: str = "adjust",
                 nest: bool = False, empty_psus: Mapping[str, int] | int | None = None):
        if singleton not in SINGLETON_OPTIONS:
            raise DesignError(f"singleton must be one of {', '.join(SINGLETON_OPTIONS)}; got {singleton!r}")
        missing = [name for name in (strata, psu, weight, fpc) if name is not None and name not in data]
        if missing:
            raise DesignError(f"design column missing from the data: {', '.join(missing)}")
        self.data, self.strata, self.psu, self.weight = data, strata, psu, weight
        self.fpc, self.singleton, self.nest = fpc, singleton, nest
        self.empty_psus = dict(empty_psus) if isinstance(empty_psus, Mapping) else empty_psus
        # codes of each domain column, made once: a run estimates by the same columns many times
        self._domain_codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
        self._answered_by: dict[str, bytes] = {}  # outcome -> its non-missing rows, as bits (see proportions)
        self._checked: set[tuple[str, bool]] = set()  # (column, binary) found numbers (and 0/1) by _numeric

        n = len(data)
        if strata and data[strata].isna().any():
            raise DesignError(f"strata column '{strata}' has missing values (e.g. row {int(data[strata].isna().argmax())})")
        # codes by the text of each value (as the tables print them), in order of appearance
        stratum_code, stratum_labels = (_factorize_text(data[strata], sort=False) if strata
                                        else (np.zeros(n, dtype=np.intp), pd.Index(["0"])))
        if psu:
            if data[psu].isna().any():
                raise DesignError(f"psu column '{psu}' has missing values (e.g. row {int(data[psu].isna().argmax())})")
            cluster, cluster_labels = _factorize_text(data[psu], sort=True)
            # a PSU is a (stratum, PSU code) pair; without nest=True each code must sit in one stratum
            pair, _ = pd.factorize(stratum_code.astype(np.int64) * len(cluster_labels) + cluster)
            if not nest and strata:
                cluster_of_pair = np.zeros(int(pair.max(initial=-1)) + 1, dtype=np.intp)
                cluster_of_pair[pair] = cluster
                pairs_of_cluster = np.bincount(cluster_of_pair, minlength=len(cluster_labels))
                if (pairs_of_cluster > 1).any():
                    name = cluster_labels[int(np.argmax(pairs_of_cluster > 1))]
                    raise DesignError(f"PSU {name!r} appears in more than one stratum of '{strata}'; if clusters "
                                      "are numbered within each stratum, say so: [design] nest = true in "
                                      "survey.toml (in Python, pass nest=True)")
            psu_code = pair
        else:
            psu_code = np.arange(n, dtype=np.intp)
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
        self._psu_code, self._stratum_code = psu_code, stratum_code
        self._psu_stratum = np.zeros(int(psu_code.max(initial=-1)) + 1, dtype=np.intp)
        self._psu_stratum[psu_code] = stratum_code
        self._n_psu_h = np.bincount(self._psu_stratum, minlength=len(stratum_labels)).astype(float)
        self._n_psu_h += _empty_psus(empty_psus, strata, stratum_labels)
        if singleton == "error" and (self._n_psu_h == 1).any():
            lonely = stratum_labels[int(np.argmax(self._n_psu_h == 1))]
            raise DesignError(f"stratum {lonely!r} has only one PSU; choose singleton='adjust', "
                              "'certainty' or 'remove'")
        self._f_h = np.zeros(len(stratum_labels))
        if fpc:
            self._f_h = _sampling_fractions(data[fpc], fpc, stratum_code, stratum_labels, self._n_psu_h)
        # variance weight of a stratum and whether its PSU totals are centred (R survey onestrat):
        # a lonely PSU under "adjust" is centred at 0 (the grand mean of an estimating function)
        # with scale 1; under "certainty"/"remove" it contributes nothing
        n_h, lonely = self._n_psu_h, self._n_psu_h == 1
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(lonely, 1.0 if singleton == "adjust" else 0.0, n_h / (n_h - 1))
        self._scale_h = scale * (1 - self._f_h)
        self._centre_h = np.where(lonely, 0.0, 1 / np.maximum(n_h, 1))
        self._frozen = True

    def __setattr__(self, name: str, value: object) -> None:
        # the arrays above are computed from the settings once: changing a setting afterwards would
        # silently give estimates of another design
        if getattr(self, "_frozen", False):
            raise AttributeError(f"SurveyDesign is immutable: build a new design instead of setting {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        empty = "" if not self.empty_psus else f", empty_psus={self.empty_psus!r}"
        return (f"SurveyDesign(strata={self.strata!r}, psu={self.psu!r}, weight={self.weight!r}, "
                f"fpc={self.fpc!r}, singleton={self.singleton!r}, nest={self.nest!r}{empty}; "
                f"{len(self.data)} rows, {len(self._psu_stratum)} PSUs in {len(self._n_psu_h)} strata)")

    # -- verbs ----------------------------------------------------------------------------------

    def proportions(self, outcomes: str | list[str], by: str | list[str] | None = None, *, ci: str = "wilson",
                    level: float = 0.95, margins: bool = True, df: str = "vcqi",
                    within: Sequence[str] = ()) -> pd.DataFrame:
        """Weighted proportions of 0/1 outcomes (NaN = not in the denominator) by domain.

        Parameters
        ----------
        outcomes : str or list of str
            0/1 columns (NaN = not in the denominator); one name or several.
        by : str or list of str, optional
            Domain columns. Every combination is estimated, and with ``margins`` every margin
            (a subset of the columns replaced by ``"all"``, down to the whole sample).
        ci : {"wilson", "clopper-pearson", "jeffreys", "logit", "agresti-coull", "wald", "korn-graubard"}
        level : float, default=0.95
        df : {"vcqi", "design", "domain"}, default="vcqi"
            ``vcqi``: PSUs in the strata holding domain members minus those strata (VCQI svypd;
            without PSUs, members minus strata); ``design``: PSUs minus strata of the whole design
            (R ``degf(design)``); ``domain``: PSUs holding members minus their strata (R ``degf``
            of the subset design, which ``svyciprop(method="beta")`` uses whatever its ``df``).
        within : sequence of str, optional
            Columns of ``by`` every returned margin keeps (the margins over them are not computed):
            e.g. ``by=["cohort", "district", "sex"], within=["district"]`` gives the districts with
            their cohort and sex margins, not the national rows.

        Returns
        -------
        DataFrame
            ``indicator``, the ``by`` columns, then ``ESTIMATE_COLUMNS``: ``n``, ``n_weighted``,
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``lcb``, ``ucb`` (the interval at level
            2 level - 1: one-sided bounds at ``level``, the 90 % interval for 95 %), ``deff``,
            ``neff`` (VCQI's df-adjusted neff*), ``icc``, ``df``, ``ci_method``, ``level``. Domains
            without members are omitted; domain values are text, ``"all"`` marks a margin.

        Notes
        -----
        Estimate and SE match R ``svyby(~y, ~domain, design, svymean, na.rm=TRUE)`` for stratified,
        unstratified, FPC and PSU-less designs under each ``singleton`` option (tests to 1e-8).
        DEFF, NEFF and intervals follow VCQI ``svypd``/``svyp_ci_calc`` with adjust and truncate:
        neff = p(1-p)/se^2, DEFF = (n-1)/neff, neff* = neff (z/t_df)^2, neff* = n and DEFF = 1 when
        DEFF < 1; homogeneous domains get se = 0, df = n - 1 (no interval when n = 1, as VCQI).
        District 20 N, NEFF, DEFF, ICC and coverage reproduce VCQI's published table. ICC is the
        unweighted one-way ANOVA estimator by PSU within the domain (VCQI ``calcicc``). ``logit``
        matches R ``svyciprop(method="logit", df=degf(design))`` with ``df="design"`` when DEFF
        >= 1; ``korn-graubard`` matches ``svyciprop(method="beta")`` with ``df="domain"``.
        """
        return self.proportion_passes(outcomes, [(by, within)], ci=ci, level=level, margins=margins, df=df)[0]

    def proportion_passes(self, outcomes: str | list[str], passes: Sequence[tuple[str | list[str] | None,
                                                                                Sequence[str]]], *,
                          ci: str = "wilson", level: float = 0.95, margins: bool = True,
                          df: str = "vcqi") -> list[pd.DataFrame]:
        """:meth:`proportions` of the same outcomes by several sets of domains, in one go.

        ``passes``: ``(by, within)`` pairs, one per frame returned, each the frame of
        ``proportions(outcomes, by=by, within=within, ci=ci, level=level, margins=margins, df=df)``, to
        the bit. Passes whose domains cut the rows into the same cells (the district of a health area,
        the area of a cluster add no cut to the cells of PSUs) sum each outcome over the rows once.
        """
        if ci not in METHODS:
            raise DesignError(f"ci must be one of {', '.join(METHODS)}; got {ci!r}")
        outcomes = _names(outcomes)
        bys = [self._check_arguments(outcomes, by, level, df) for by, _ in passes]
        cuts: list[_Cells] = []  # the distinct cuttings of the rows into cells
        rows_cells: list[np.ndarray] = []  # each cutting's cell of each row
        cut_of, margins_of = [], []
        for by, (_, within) in zip(bys, passes):
            cells = self._cells(by)
            cut_of.append(_position(rows_cells, cells.index))
            if cut_of[-1] == len(cuts):
                cuts.append(cells)
            margins_of.append([cells.margin(subset) for subset in _subsets(by, margins) if set(within) <= set(subset)])
        # margins of a cutting whose domains cut its cells alike (the cohorts nationally and by health area:
        # a PSU lies in one area) share their cells, and each outcome's sums over them
        shapes: list[list[np.ndarray]] = [[] for _ in cuts]
        shape_of = [[_position(shapes[cut], margin.index) for margin in margins_]
                    for cut, margins_ in zip(cut_of, margins_of)]
        # outcomes with the same denominator (answered by the same children) share the sums of its weights
        # and members: a survey's hundred outcomes have a dozen denominators
        groups: dict[bytes, list[int]] = {}
        for i, outcome in enumerate(outcomes):
            if outcome not in self._answered_by:  # once per design, as the domains' codes: a run has 7 passes
                self._answered_by[outcome] = np.packbits(self.data[outcome].isna().to_numpy()).tobytes()
            groups.setdefault(self._answered_by[outcome], []).append(i)
        groups_ = list(groups.values())
        # each pass's rows are known before any sum of successes: those of a denominator's domains with
        # members, for each of its outcomes. Its columns are made at their length and filled in place (a
        # national pass holds a million rows: no pieces to join, no second copy). Per denominator: for each
        # pass and margin, the domains with members; for each cutting, its members by cell
        kept, members_by_cell = [], []
        for members in groups_:
            answered = ~np.isnan(self._numeric(outcomes[members[0]], binary=True))
            members_by_cell.append([cut.sum(answered) for cut in cuts])
            kept.append([[margin.to_domains(margin.to_cells(members_by_cell[-1][cut])) > 0 for margin in margins_]
                         for cut, margins_ in zip(cut_of, margins_of)])
        group_of = {i: g for g, members in enumerate(groups_) for i in members}
        spans_of, columns_of = [], []  # per pass: each (outcome, margin)'s rows; the pass's columns
        for p, by in enumerate(bys):
            start, spans = 0, {}
            for i in range(len(outcomes)):
                for m, keep in enumerate(kept[group_of[i]][p]):
                    size = int(np.count_nonzero(keep))
                    spans[i, m] = slice(start, start + size)
                    start += size
            spans_of.append(spans)
            # text columns as positions among their texts while they are filled (a national pass has millions
            # of rows: one text made per distinct label, not per row; see _text_column)
            columns = {"indicator": np.empty(start, dtype=np.intp)}
            columns.update({column: np.empty(start, dtype=np.intp) for column in by})
            columns["n"] = np.empty(start, dtype=int)
            columns.update({column: np.empty(start) for column in ("n_weighted", "estimate", "se", "df", "icc")})
            columns_of.append(columns)
        for g, members in enumerate(groups_):
            shared: list[list[_Denominator]] = []
            for i in members:
                y = self._numeric(outcomes[i], binary=True)
                if not shared:  # the denominator's weights and members, from its first outcome
                    keep = ~np.isnan(y)
                    weights = [(cut.sum(np.where(keep, self._w, 0.0)), counted) for cut, counted in
                               zip(cuts, members_by_cell[g])]
                    shared = [[_Denominator(margin, *weights[cut], self._domain_df, df) for margin in margins_]
                              for cut, margins_ in zip(cut_of, margins_of)]
                y = np.fmax(y, 0.0)  # not in the denominator (NaN): no success; a new array (y may be the data)
                weighted = self._w * y
                sums = [(cut.sum(weighted), cut.sum(y)) for cut in cuts]
                by_shape: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
                for p, (cut, margins_, denominators) in enumerate(zip(cut_of, margins_of, shared)):
                    weighted_successes, successes = sums[cut]
                    columns = columns_of[p]
                    for m, (margin, own) in enumerate(zip(margins_, denominators)):
                        shape = (cut, shape_of[p][m])
                        if shape not in by_shape:
                            by_shape[shape] = margin.to_cells(weighted_successes), margin.to_cells(successes)
                        A, S = by_shape[shape]
                        with np.errstate(divide="ignore", invalid="ignore"):
                            p_hat = margin.to_domains(A) / own.W
                            # U = (A - p_hat B) / W by cell, 0 where the denominator has no member: made in
                            # one array (the margin's cells are a national pass's hundreds of thousands)
                            U = p_hat[margin.cell_domain]
                            U *= own.B
                            np.subtract(A, U, out=U)
                            U /= own.cell_W
                            if not own.all_present:
                                U[own.absent] = 0.0
                        rows, keep = spans_of[p][i, m], kept[g][p][m]
                        columns["indicator"][rows] = i
                        for column, codes in margin.label_codes.items():
                            columns[column][rows] = codes[keep]
                        columns["n"][rows] = own.n[keep]
                        columns["n_weighted"][rows] = own.W[keep]
                        columns["estimate"][rows] = p_hat[keep]
                        columns["se"][rows] = np.sqrt(np.maximum(self._variance(margin, U), 0))[keep]
                        columns["df"][rows] = own.df[keep]
                        columns["icc"][rows] = _anova_icc(own, S)[keep]
        frames = []
        for by in bys:
            out = columns_of.pop(0)
            out.update(_vcqi_intervals(out["estimate"], out["se"], out["n"].astype(float), out["df"], ci, level))
            out["ci_method"], out["level"] = ci, level
            out["indicator"] = _text_column(outcomes, out["indicator"])
            for column in by:
                out[column] = _text_column(_label_text(self._domain_codes[column][1]), out[column])
            # each column the array it was filled in (no copy into blocks: a national pass holds 2 million rows)
            frames.append(pd.DataFrame({column: out[column] for column in ["indicator", *by, *ESTIMATE_COLUMNS]},
                                       copy=False))
            del out
        return frames

    def means(self, variables: str | list[str], by: str | list[str] | None = None, *, level: float = 0.95,
              margins: bool = True, df: str = "vcqi") -> pd.DataFrame:
        """Weighted means of numeric variables (age in days, number of doses, …) by domain.

        Parameters
        ----------
        variables : str or list of str
            Numeric columns; NaN means "not in the denominator".
        by : str or list of str, optional
            Domain columns, with every margin as in :meth:`proportions`.
        level : float, default=0.95
        df : {"vcqi", "design"}, default="vcqi"
            Degrees of freedom of the t interval, as in :meth:`proportions`.

        Returns
        -------
        DataFrame
            ``indicator``, the ``by`` columns, then ``MEAN_COLUMNS``: ``n`` (rows used),
            ``n_weighted``, ``estimate``, ``se``, ``ci_low``, ``ci_high`` (estimate ± t_df se),
            ``df``, ``level``. Domains without members are omitted.

        Notes
        -----
        The ratio estimator sum(w y)/sum(w) over the domain, linearized on the full design; matches
        R ``svyby(~y, ~domain, design, svymean, na.rm=TRUE)`` and, for the interval,
        ``confint(..., df=degf(design))`` with ``df="design"`` (tests to 1e-8).
        """
        return self._linear("mean", variables, by, level, margins, df)

    def totals(self, variables: str | list[str], by: str | list[str] | None = None, *, level: float = 0.95,
               margins: bool = True, df: str = "vcqi") -> pd.DataFrame:
        """Weighted totals of numeric variables (e.g. the estimated number of zero-dose children) by domain.

        Parameters and Returns are those of :meth:`means`; ``estimate`` is sum(w y) over the
        domain. Matches R ``svyby(~y, ~domain, design, svytotal, na.rm=TRUE)`` (tests to 1e-8).
        """
        return self._linear("total", variables, by, level, margins, df)

    def compare(self, outcome: str | list[str], group: str = "sex", by: str | list[str] | None = None, *,
                groups: tuple[str, str] = ("F", "M"), level: float = 0.95, lower_is_better: bool = False,
                margins: bool = True, df: str = "vcqi") -> pd.DataFrame:
        """Gap between two groups (girls and boys by default) in a 0/1 outcome, in every domain.

        Parameters
        ----------
        outcome : str or list of str
            0/1 columns (NaN = not in the denominator).
        group : str, default="sex"
            Column holding the two groups; rows in other groups are left out.
        by : list of str, optional
            Domain columns, with every margin as in :meth:`proportions`.
        groups : (str, str), default=("F", "M")
            Group a and group b, compared by their text as in the tables.
        level : float, default=0.95
        lower_is_better : bool, default=False
            True for adverse indicators (zero-dose, under-immunized, dropout): the group with the
            higher estimate is then the disadvantaged one.
        df : {"vcqi", "design"}, default="vcqi"
            Degrees of freedom of the t intervals of the difference and ratio: ``vcqi`` counts
            the PSUs in the strata holding domain members of either group minus those strata (as
            VCQI's ``lincom`` comparisons and :meth:`proportions`); ``design`` the whole design.

        Returns
        -------
        DataFrame
            ``indicator``, the ``by`` columns, then ``COMPARE_COLUMNS``: ``group_a``, ``group_b``,
            ``n_a``, ``n_b``, ``estimate_a``, ``estimate_b``, ``difference`` (a - b),
            ``difference_se``, ``difference_ci_low``, ``difference_ci_high``, ``ratio`` (a / b),
            ``ratio_ci_low``, ``ratio_ci_high``, ``f_statistic``, ``df_num``, ``df_den``,
            ``p_value``, ``disadvantaged`` (the group with the worse estimate; ``"none"`` if equal,
            None if a group has no members), ``df``, ``level``. One row per domain with members
            in either group.

        Notes
        -----
        Both groups are domains of the full design: girls and boys share clusters, so the
        covariance of the two estimates comes from summing both influence functions per PSU,
        var(a - b) = var(a) + var(b) - 2 cov(a, b); it matches R ``svycontrast`` on
        ``svyby(~y, ~group + domain, design, svymean, covmat=TRUE)``. The ratio interval is
        exp(log(a/b) ± t_df se), with the delta-method se of log(a/b).

        ``p_value`` is the Rao-Scott second-order corrected F test of independence of group and
        outcome in the domain, R ``svychisq(~y + group, subset(design, <domain> & !is.na(y) &
        group %in% groups), statistic="F")``. For a 2x2 table the correction is the design effect
        of the log odds ratio, delta = var_design(log OR) / var_srs(log OR); F = X^2 / delta on
        (1, nu) degrees of freedom, X^2 the Pearson statistic of the weighted table and nu (the
        ``df_den`` column) the PSUs minus strata that hold members of the compared rows, as R.
        """
        outcomes = _names(outcome)
        by = self._check_arguments(outcomes, by, level, df)
        if group not in self.data:
            raise DesignError(f"column missing from the data: {group}")
        if group in by:
            raise DesignError(f"group column '{group}' cannot also be a by column; got by={by!r}")
        groups = tuple(str(value) for value in groups)
        if len(groups) != 2 or groups[0] == groups[1]:
            raise DesignError(f"groups must name two different groups of '{group}'; got {groups!r}")
        code, labels = _factorize_text(self.data[group], sort=False, missing=MISSING_DOMAIN)
        in_group = [code == (labels.get_loc(name) if name in labels else -1) for name in groups]
        cells = self._cells(by)
        margins_ = [cells.margin(subset) for subset in _subsets(by, margins)]
        sign = np.array([1.0, -1.0, -1.0, 1.0])  # log odds ratio of the (y=1 a, y=0 a, y=1 b, y=0 b) table
        alpha = 1 - level
        parts = []
        for name in outcomes:
            y = self._numeric(name, binary=True)
            row_sums = [total for sums in self._group_sums(cells, in_group, y) for total in sums]
            for margin in margins_:
                Aa, Ba, na, Ab, Bb, nb = (margin.to_cells(values) for values in row_sums)
                d = margin.cell_domain
                n_a, n_b = margin.to_domains(na), margin.to_domains(nb)
                Wa, Wb = margin.to_domains(Ba), margin.to_domains(Bb)
                W = Wa + Wb
                with np.errstate(divide="ignore", invalid="ignore"):
                    pa, pb = margin.to_domains(Aa) / Wa, margin.to_domains(Ab) / Wb
                    Ua = np.where(na > 0, (Aa - pa[d] * Ba) / Wa[d], 0.0)
                    Ub = np.where(nb > 0, (Ab - pb[d] * Bb) / Wb[d], 0.0)
                    difference = pa - pb
                    difference_se = np.sqrt(np.maximum(self._variance(margin, Ua - Ub), 0))
                    ratio = pa / pb
                    log_se = np.sqrt(np.maximum(self._variance(margin, Ua / pa[d] - Ub / pb[d]), 0))
                    # Rao-Scott: design variance of the log odds ratio over its multinomial variance
                    table = np.stack([Aa, Ba - Aa, Ab, Bb - Ab])
                    pi = np.stack([margin.to_domains(cell) for cell in table]) / W
                    inverse = np.where(pi > 0, 1 / pi, 0.0)
                    u = sign[:, None] * inverse
                    centre = (u * pi).sum(axis=0)  # 0 unless a cell of the table is empty
                    T = ((u[:, d] * table).sum(axis=0) - centre[d] * (Ba + Bb)) / W[d]
                    design_var = self._variance(margin, T)
                    phi2 = (pi[0] * pi[3] - pi[1] * pi[2]) ** 2 / (
                        (pi[0] + pi[1]) * (pi[2] + pi[3]) * (pi[0] + pi[2]) * (pi[1] + pi[3]))
                    f_statistic = phi2 * inverse.sum(axis=0) / design_var
                count = na + nb
                df_ci = self._domain_df(margin, count, df)
                present = count > 0
                # R svychisq: PSUs minus strata of the subset design (degf of the compared rows)
                df_den = (margin.to_domains(present) -
                          np.bincount(margin.pair_domain, weights=margin.to_pairs(count) > 0,
                                      minlength=margin.n_domains))
                t = _t_quantile(1 - alpha / 2, df_ci)
                higher_worse = ((pa > pb) if lower_is_better else (pa < pb))
                disadvantaged = np.where(pa == pb, "none", np.where(higher_worse, groups[0], groups[1]))
                disadvantaged = np.where(np.isnan(difference), None, disadvantaged).astype(object)
                parts.append(self._part(name, margin, n_a + n_b, {
                    "group_a": np.full(margin.n_domains, groups[0], dtype=object),
                    "group_b": np.full(margin.n_domains, groups[1], dtype=object),
                    "n_a": n_a.astype(int), "n_b": n_b.astype(int), "estimate_a": pa, "estimate_b": pb,
                    "difference": difference, "difference_se": difference_se,
                    "difference_ci_low": difference - t * difference_se,
                    "difference_ci_high": difference + t * difference_se,
                    "ratio": ratio, "ratio_ci_low": ratio * np.exp(-t * log_se),
                    "ratio_ci_high": ratio * np.exp(t * log_se),
                    "f_statistic": f_statistic, "df_num": np.ones(margin.n_domains), "df_den": df_den,
                    "p_value": f_sf(f_statistic, 1, np.where(df_den > 0, df_den, np.nan)),
                    "disadvantaged": disadvantaged, "df": df_ci}))
        out = _concat(parts)
        # None where no group is worse: pandas 3 would read the column of text as its string dtype,
        # its None as NaN (which a report or JSON would show as a number)
        disadvantaged = out["disadvantaged"].astype(object)
        out["disadvantaged"] = disadvantaged.where(disadvantaged.notna(), None)
        out["level"] = level
        return out[["indicator", *by, *COMPARE_COLUMNS]]

    def did(self, outcome: str | list[str], group: str = "arm", period: str = "round",
            by: str | list[str] | None = None, *, groups: tuple[str, str], periods: tuple[str, str],
            level: float = 0.95, margins: bool = True, df: str = "vcqi") -> pd.DataFrame:
        """Difference in differences of a 0/1 outcome: (a2 - a1) - (b2 - b1), group a's change between
        two periods less group b's (an intervention arm against the others, or girls against boys
        between two rounds), in every domain.

        Parameters
        ----------
        outcome : str or list of str
            0/1 columns (NaN = not in the denominator).
        group, period : str
            Columns holding the two groups and the two periods; rows in other groups or periods are
            left out.
        groups, periods : (str, str)
            Group a and group b, the first period and the second, by their text.
        by, level, margins, df
            As in :meth:`compare`.

        Returns
        -------
        DataFrame
            ``indicator``, the ``by`` columns, ``n``, then ``DID_COLUMNS``: the four cells' ``n_*`` and
            ``estimate_*`` (a1, a2, b1, b2), ``change_a`` (a2 - a1), ``change_b``, ``did`` and its
            ``did_se`` and t interval, ``did_logit`` (the same contrast of the cells' log-odds: the log
            of the ratio of the two odds ratios) with its se and interval, ``df``, ``level``. One row per
            domain holding all four cells.

        Notes
        -----
        The four cells are domains of the full design, so clusters revisited in both periods (the
        same PSU ids) bring their covariances in: the variance is that of the summed influence
        functions, +U_a2 - U_a1 - U_b2 + U_b1, per PSU. It equals R ``svycontrast`` on ``svyby(~y,
        ~group + period, design, svymean, covmat=TRUE)`` and the interaction coefficient of
        ``svyglm(y ~ group * period)``, a saturated model. The log-odds contrast uses the delta method,
        U_k / (p_k (1 - p_k)).
        """
        outcomes = _names(outcome)
        by = self._check_arguments(outcomes, by, level, df)
        for column in (group, period):
            if column not in self.data:
                raise DesignError(f"column missing from the data: {column}")
            if column in by:
                raise DesignError(f"'{column}' cannot also be a by column; got by={by!r}")
        members = []
        for column, values in ((group, groups), (period, periods)):
            values = tuple(str(value) for value in values)
            if len(values) != 2 or values[0] == values[1]:
                raise DesignError(f"name two different values of '{column}'; got {values!r}")
            code, labels = _factorize_text(self.data[column], sort=False, missing=MISSING_DOMAIN)
            members.append([code == (labels.get_loc(name) if name in labels else -1) for name in values])
        (in_a, in_b), (in_1, in_2) = members
        quarters = (in_a & in_1, in_a & in_2, in_b & in_1, in_b & in_2)
        sign = np.array([-1.0, 1.0, 1.0, -1.0])  # (a2 - a1) - (b2 - b1)
        cells = self._cells(by)
        margins_ = [cells.margin(subset) for subset in _subsets(by, margins)]
        alpha = 1 - level
        parts = []
        for name in outcomes:
            sums = self._group_sums(cells, quarters, self._numeric(name, binary=True))
            for margin in margins_:
                d = margin.cell_domain
                p, n, U, L, in_cells = [], [], 0.0, 0.0, 0.0
                with np.errstate(divide="ignore", invalid="ignore"):
                    for k, (A, B, count) in enumerate(sums):
                        A, B, count = margin.to_cells(A), margin.to_cells(B), margin.to_cells(count)
                        W = margin.to_domains(B)
                        p_k = margin.to_domains(A) / W
                        u = np.where(count > 0, (A - p_k[d] * B) / W[d], 0.0)
                        U = U + sign[k] * u
                        L = L + sign[k] * u / (p_k[d] * (1 - p_k[d]))
                        p.append(p_k)
                        n.append(margin.to_domains(count))
                        in_cells = in_cells + count
                    change_a, change_b = p[1] - p[0], p[3] - p[2]
                    did = change_a - change_b
                    logit = [np.log(p_k / (1 - p_k)) for p_k in p]
                    did_logit = (logit[1] - logit[0]) - (logit[3] - logit[2])
                    se = np.sqrt(np.maximum(self._variance(margin, U), 0))
                    logit_se = np.sqrt(np.maximum(self._variance(margin, L), 0))
                count = n[0] + n[1] + n[2] + n[3]
                df_ci = self._domain_df(margin, in_cells, df)
                t = _t_quantile(1 - alpha / 2, df_ci)
                every = (n[0] > 0) & (n[1] > 0) & (n[2] > 0) & (n[3] > 0)
                parts.append(self._part(name, margin, np.where(every, count, 0), {
                    **{f"n_{cell}": n_k.astype(int) for cell, n_k in zip(("a1", "a2", "b1", "b2"), n)},
                    **{f"estimate_{cell}": p_k for cell, p_k in zip(("a1", "a2", "b1", "b2"), p)},
                    "change_a": change_a, "change_b": change_b, "did": did, "did_se": se,
                    "did_ci_low": did - t * se, "did_ci_high": did + t * se, "did_logit": did_logit,
                    "did_logit_se": logit_se, "did_logit_ci_low": did_logit - t * logit_se,
                    "did_logit_ci_high": did_logit + t * logit_se, "df": df_ci}))
        out = _concat(parts)
        out["level"] = level
        return out[["indicator", *by, "n", *DID_COLUMNS]]

    # -- kernel ---------------------------------------------------------------------------------

    def _group_sums(self, cells: _Cells, groups: Sequence[np.ndarray], y: np.ndarray) -> list[tuple]:
        """For each group (a row mask): the cells' weighted sums of y and of the weights, and their
        counts, over the rows in the group and in y's denominator."""
        keep = ~np.isnan(y)
        out = []
        for member in groups:
            member = member & keep
            w = np.where(member, self._w, 0.0)
            out.append((cells.sum(w * np.where(member, y, 0.0)), cells.sum(w), cells.sum(member)))
        return out

    def _linear(self, kind: str, variables: list[str], by: list[str] | None, level: float, margins: bool,
                df_rule: str) -> pd.DataFrame:
        """Means (ratio estimator) or totals of numeric variables through the shared cell kernel."""
        variables = _names(variables)
        by = self._check_arguments(variables, by, level, df_rule)
        cells = self._cells(by)
        margins_ = [cells.margin(subset) for subset in _subsets(by, margins)]
        parts = []
        for variable in variables:
            y = self._numeric(variable)
            keep = ~np.isnan(y)
            w, y = np.where(keep, self._w, 0.0), np.where(keep, y, 0.0)
            row_sums = [cells.sum(w * y), cells.sum(w), cells.sum(keep)]
            for margin in margins_:
                A, B, count = (margin.to_cells(values) for values in row_sums)
                n, W, total = margin.to_domains(count), margin.to_domains(B), margin.to_domains(A)
                if kind == "mean":
                    with np.errstate(divide="ignore", invalid="ignore"):
                        estimate = total / W
                        U = np.where(count > 0, (A - estimate[margin.cell_domain] * B) / W[margin.cell_domain], 0.0)
                else:
                    estimate, U = total, A
                se = np.sqrt(np.maximum(self._variance(margin, U), 0))
                df = self._domain_df(margin, count, df_rule)
                t = _t_quantile(1 - (1 - level) / 2, df)
                parts.append(self._part(variable, margin, n, {
                    "n_weighted": W, "estimate": estimate, "se": se, "ci_low": estimate - t * se,
                    "ci_high": estimate + t * se, "df": df}))
        out = _concat(parts)
        out["level"] = level
        return out[["indicator", *by, *MEAN_COLUMNS]]

    def _check_arguments(self, columns: list[str], by: list[str] | None, level: float, df: str) -> list[str]:
        if df not in DF_RULES:
            raise DesignError(f"df must be {', '.join(map(repr, DF_RULES))}; got {df!r}")
        if not 0 < level < 1:
            raise DesignError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}")
        by = _names(by)
        if not columns:
            raise DesignError("no variables to estimate; pass at least one column name")
        missing = [name for name in [*columns, *by] if name not in self.data]
        if missing:
            raise DesignError(f"column missing from the data: {', '.join(missing)}")
        return by

    def _numeric(self, column: str, *, binary: bool = False) -> np.ndarray:
        """A column as floats (NaN = not in the denominator); text or, for 0/1 outcomes, other values refused."""
        raw = self.data[column]
        y = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        if (column, binary) in self._checked:  # checked by an earlier pass, as the domains' codes are made once
            return y
        # the usual column told good by counting: no text made NaN, and for 0/1 outcomes every value 0, 1 or NaN
        missing = np.isnan(y)
        good = raw.dtype.kind in "biuf" or np.count_nonzero(missing) == int(raw.isna().sum())
        if good and binary:
            good = np.count_nonzero(y == 0) + np.count_nonzero(y == 1) + np.count_nonzero(missing) == len(y)
        if good:
            self._checked.add((column, binary))
            return y
        bad = missing & raw.notna().to_numpy()
        expected = "0, 1 or missing" if binary else "a number or missing"
        if binary:
            bad |= ~np.isnan(y) & (y != 0) & (y != 1)
        if bad.any():
            row = int(np.argmax(bad))
            raise DesignError(f"column '{column}', row {row}: got {str(raw.iloc[row])!r}, expected {expected}")
        return y

    def _cells(self, by: list[str]) -> _Cells:
        """Sum rows into (finest domain, PSU) cells: the one pass over the rows that margins share."""
        n_psu = len(self._psu_stratum)
        key, size = self._psu_code.astype(np.int64), n_psu
        codes, labels = {}, {}
        for column in by:
            if column not in self._domain_codes:
                self._domain_codes[column] = _factorize_text(self.data[column], sort=True, missing=MISSING_DOMAIN)
            codes[column], labels[column] = self._domain_codes[column]
            key, size = key * len(labels[column]) + codes[column], size * len(labels[column])
            if size > 2 ** 52:  # keep the mixed-radix key inside int64
                key, uniques = pd.factorize(key)
                key, size = key.astype(np.int64), len(uniques)
        index, uniques = pd.factorize(key)
        n_cells = len(uniques)
        cell_psu = np.zeros(n_cells, dtype=np.intp)
        cell_psu[index] = self._psu_code
        cell_codes = {}
        for column in by:
            cell_codes[column] = np.zeros(n_cells, dtype=np.intp)
            cell_codes[column][index] = codes[column]
        return _Cells(index, cell_psu, cell_codes, labels, self._psu_stratum, len(self._n_psu_h))

    def _variance(self, margin: _Margin, U: np.ndarray) -> np.ndarray:
        """Variance of domain totals of the linearized variable U (one value per margin cell).

        Sum over strata of scale_h (sum_j U_hj^2 - (sum_j U_hj)^2 / n_h), PSUs without domain
        members counting as zeros (R survey ``onestrat`` on a domain of the full design).
        """
        S1, S2 = margin.to_pairs(U), margin.to_pairs(U * U)
        if margin.strata_terms is None or margin.strata_terms[0] is not self._scale_h:
            # each pair's stratum terms, looked up once per margin rather than once per outcome
            h = margin.pair_stratum
            margin.strata_terms = (self._scale_h, self._centre_h[h], self._scale_h[h])
        _, centre, scale = margin.strata_terms
        contribution = np.square(S1, out=S1)
        contribution *= centre
        np.subtract(S2, contribution, out=contribution)
        contribution *= scale
        return np.bincount(margin.pair_domain, weights=contribution, minlength=margin.n_domains)

    def _domain_df(self, margin: _Margin, count: np.ndarray, rule: str) -> np.ndarray:
        """Degrees of freedom per domain under ``rule`` (see :meth:`proportions`)."""
        n_h = self._n_psu_h
        if rule == "design":
            return np.full(margin.n_domains, n_h.sum() - len(n_h))
        members = margin.to_pairs(count) > 0
        strata = np.bincount(margin.pair_domain[members], minlength=margin.n_domains)
        if rule == "domain" or self.psu is None:  # without PSUs VCQI svypd also counts members
            return np.bincount(margin.cell_domain[count > 0], minlength=margin.n_domains) - strata
        psus = np.bincount(margin.pair_domain[members], weights=n_h[margin.pair_stratum[members]],
                           minlength=margin.n_domains)
        return psus - strata

    @staticmethod
    def _part(indicator: str, margin: _Margin, n: np.ndarray, columns: dict[str, np.ndarray]) -> dict:
        keep = n > 0
        part = {"indicator": np.full(int(keep.sum()), indicator, dtype=object)}
        part.update({column: values[keep] for column, values in margin.labels.items()})
        part["n"] = n[keep].astype(int)
        part.update({column: np.asarray(values)[keep] for column, values in columns.items()})
        return part


class _Cells:
    """Rows summed into (finest domain, PSU) cells; margins are sums of these cells."""

    def __init__(self, index, cell_psu, cell_codes, labels, psu_stratum, n_strata):
        self.index, self.n_cells, self.cell_psu = index, len(cell_psu), cell_psu
        self.cell_codes, self.labels = cell_codes, labels
        self.psu_stratum, self.n_strata = psu_stratum, n_strata

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.index, weights=values, minlength=self.n_cells)

    def margin(self, subset: tuple[str, ...]) -> _Margin:
        """Domains of one margin (the combinations of ``subset``, sorted), mapped onto the cells."""
        domain = np.zeros(self.n_cells, dtype=np.int64)
        for column in subset:
            # ranks of the prefix keep the lexicographic order of the label tuples and stay small
            _, domain = np.unique(domain * len(self.labels[column]) + self.cell_codes[column], return_inverse=True)
        domain = domain.reshape(-1).astype(np.int64)
        n_domains = int(domain.max(initial=0)) + 1
        first = np.zeros(n_domains, dtype=np.intp)
        first[domain] = np.arange(self.n_cells)
        # each domain's label of each column as its position among the column's labels, ALL after them
        label_codes = {column: (self.cell_codes[column][first] if column in subset
                                else np.full(n_domains, len(self.labels[column]), dtype=np.intp))
                       for column in self.labels}
        labels = {column: _label_text(self.labels[column])[codes] for column, codes in label_codes.items()}
        n_psu = len(self.psu_stratum)
        index, uniques = pd.factorize(domain * n_psu + self.cell_psu)
        cell_domain, cell_psu = uniques // n_psu, uniques % n_psu
        pair_index, pairs = pd.factorize(cell_domain * self.n_strata + self.psu_stratum[cell_psu])
        return _Margin(n_domains, labels, label_codes, index, cell_domain, pair_index, pairs // self.n_strata,
                       pairs % self.n_strata)


class _Margin:
    """The domains of one margin: finest cells -> (domain, PSU) cells -> (domain, stratum) pairs -> domains."""

    def __init__(self, n_domains, labels, label_codes, index, cell_domain, pair_index, pair_domain, pair_stratum):
        self.n_domains, self.labels, self.index, self.cell_domain = n_domains, labels, index, cell_domain
        self.label_codes = label_codes  # each column's labels as positions in _label_text
        self.pair_index, self.pair_domain, self.pair_stratum = pair_index, pair_domain, pair_stratum
        # the finest margin's cells are the finest cells, in their order: summing into them copies them
        self._same_cells = len(index) == len(cell_domain) and bool((index == np.arange(len(index))).all())
        self.strata_terms: tuple | None = None  # set by the design's variance (SurveyDesign._variance)

    def to_cells(self, values: np.ndarray) -> np.ndarray:
        if self._same_cells:
            return values + 0.0  # as the sum would be: floats, a new array, no negative zero
        return np.bincount(self.index, weights=values, minlength=len(self.cell_domain))

    def to_domains(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.cell_domain, weights=values, minlength=self.n_domains)

    def to_pairs(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.pair_index, weights=values, minlength=len(self.pair_domain))


def _empty_psus(empty: Mapping[str, int] | int | None, strata: str | None, labels: pd.Index) -> np.ndarray:
    """PSUs without respondents per stratum code, checked against the strata of the data."""
    counts = np.zeros(len(labels))
    if empty is None:
        return counts
    if not isinstance(empty, Mapping):
        if strata is not None:
            raise DesignError(f"empty_psus must map strata of '{strata}' to counts; got {empty!r}")
        empty = {labels[0]: empty}
    for label, count in empty.items():
        if str(label) not in labels:
            raise DesignError(f"empty_psus: stratum {str(label)!r} has no respondents in '{strata}' "
                              f"(strata: {', '.join(labels[:10])})")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise DesignError(f"empty_psus: stratum {str(label)!r} needs a count of 0 or more; got {count!r}")
        counts[labels.get_loc(str(label))] += int(count)
    return counts


def _sampling_fractions(values: pd.Series, name: str, stratum_code: np.ndarray, stratum_labels: pd.Index,
                        n_psu_h: np.ndarray) -> np.ndarray:
    """First-stage sampling fraction per stratum from an fpc column, read as R ``survey`` reads it.

    As R's ``as.fpc``: if every value is <= 1 the column holds sampling fractions (1 = census of the
    stratum), otherwise population counts of PSUs. The value must be the same for every row of a stratum.
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(numbers) | (numbers <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise DesignError(f"fpc column '{name}': row {row} has {str(values.iloc[row])!r}, expected a positive number")
    per_stratum = pd.Series(numbers).groupby(stratum_code)
    varies = per_stratum.nunique() > 1
    if varies.any():
        raise DesignError(f"fpc column '{name}' varies within stratum {stratum_labels[int(varies.idxmax())]!r}")
    first = per_stratum.first().reindex(range(len(stratum_labels))).to_numpy(float)
    fraction = first if (numbers <= 1).all() else n_psu_h / first
    if np.any(fraction > 1):
        stratum = stratum_labels[int(np.argmax(fraction > 1))]
        raise DesignError(f"fpc column '{name}': stratum {stratum!r} has more sampled PSUs than its population")
    return fraction


def _names(names: str | Sequence[str] | None) -> list[str]:
    """Column names given as one name or several (a bare string is one name, not its letters)."""
    if names is None:
        return []
    return [names] if isinstance(names, str) else list(names)


def _position(known: list[np.ndarray], array: np.ndarray) -> int:
    """The position in ``known`` of an array equal to ``array``, appended if none is."""
    for position, other in enumerate(known):
        if np.array_equal(other, array):
            return position
    known.append(array)
    return len(known) - 1


def _subsets(by: list[str], margins: bool) -> list[tuple[str, ...]]:
    """The finest domains first, then every margin down to the whole sample."""
    if not margins:
        return [tuple(by)]
    return [tuple(c) for k in range(len(by), -1, -1) for c in combinations(by, k)]


def _factorize_text(values: pd.Series, *, sort: bool, missing: str | None = None) -> tuple[np.ndarray, pd.Index]:
    """Codes of a column by the text of its values (as ``astype(str)``), converting only the distinct values.

    With ``missing``, every kind of missing value (NaN, None, NA, NaT) gets that one label instead of
    its own spelling ("nan", "None", "<NA>"), so a domain of unrecorded values reads the same everywhere.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    text = pd.Index(uniques).astype(str)
    if missing is not None:
        text = text.where(~pd.isna(uniques), missing)
    text_codes, labels = pd.factorize(text, sort=sort)
    return np.asarray(text_codes, dtype=np.intp)[codes], pd.Index(labels)


def _label_text(labels: pd.Index) -> np.ndarray:
    """A column's domain labels, then ALL: what :attr:`_Margin.label_codes` point into."""
    return np.append(labels.to_numpy(object), np.array([ALL], dtype=object))


def _text_column(texts: Sequence[str], codes: np.ndarray):
    """The column of ``texts[codes]`` as pandas makes a column of texts: its own text dtype (Arrow's strings,
    pandas 3), taken from the distinct texts (inferring it from millions of Python strings took 0.25 s a
    column), or Python's strings (pandas 2)."""
    texts = np.asarray(texts, dtype=object)
    dtype = _default_text_dtype()
    if dtype == object:
        return texts[codes]
    import pyarrow as pa

    return pd.array(pa.array(texts, type=pa.large_string()).take(pa.array(codes)), dtype=dtype)


def _default_text_dtype():
    return pd.Series(["a"]).dtype


def _concat(parts: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(_columns(parts))


def _columns(parts: list[dict]) -> dict[str, np.ndarray]:
    return {column: np.concatenate([part[column] for part in parts]) for column in parts[0]}


_t_quantile = t_quantile


class _Denominator:
    """What the outcomes of one denominator share in one margin: the sums of its weights and members by
    cell and by domain, the degrees of freedom, and the members' terms of the ICC."""

    def __init__(self, margin: _Margin, weights: np.ndarray, counts: np.ndarray,
                 domain_df: Callable[[_Margin, np.ndarray, str], np.ndarray], rule: str):
        self.B, self.count = margin.to_cells(weights), margin.to_cells(counts)
        self.W, self.n = margin.to_domains(self.B), margin.to_domains(self.count)
        self.df = domain_df(margin, self.count, rule)
        self.present = self.count > 0
        self.absent = ~self.present
        self.cell_W = self.W[margin.cell_domain]  # each cell's domain total, the same for all the outcomes
        self.all_present = bool(self.present.all())
        self.cell_domain, self.cell_count = margin.cell_domain[self.present], self.count[self.present]
        self.n_domains = margin.n_domains
        self.N = np.bincount(self.cell_domain, weights=self.cell_count, minlength=self.n_domains)
        self.k = np.bincount(self.cell_domain, minlength=self.n_domains).astype(float)
        self.sum_n2 = np.bincount(self.cell_domain, weights=self.cell_count ** 2, minlength=self.n_domains)
        # the ICC's terms of the members alone (:func:`_anova_icc`), made once for all the outcomes
        with np.errstate(divide="ignore", invalid="ignore"):
            self.between_df, self.within_df = self.k - 1, self.N - self.k
            self.n0 = (self.N - self.sum_n2 / self.N) / self.between_df
            self.homogeneous_icc = -1 / (self.n0 - 1)


def _anova_icc(own: _Denominator, successes: np.ndarray) -> np.ndarray:
    """One-way ANOVA ICC of a 0/1 outcome by PSU within each domain (VCQI calcicc, not truncated), from
    its successes by cell of the margin of ``own``."""
    if not own.all_present:
        successes = successes[own.present]
    total = np.bincount(own.cell_domain, weights=successes, minlength=own.n_domains)
    squares = np.square(successes)
    squares /= own.cell_count
    between_sq = np.bincount(own.cell_domain, weights=squares, minlength=own.n_domains)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssb = between_sq - total ** 2 / own.N
        ssw = total - between_sq  # sum of y^2 = sum of y for 0/1 outcomes
        msb, msw = ssb / own.between_df, ssw / own.within_df
        icc = (msb - msw) / (msb + (own.n0 - 1) * msw)
        homogeneous = (np.abs(msb) <= 1e-8) & (np.abs(msw) <= 1e-8)  # np.isclose(x, 0), without its overhead
        icc = np.where(homogeneous, own.homogeneous_icc, icc)
    return icc


def _vcqi_intervals(p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray, ci: str,
                    level: float) -> dict[str, np.ndarray]:
    """NEFF, DEFF and intervals as VCQI ``svypd`` + ``svyp_ci_calc`` with ``adjust truncate``.

    A homogeneous domain (p = 0 or 1, or se < 1e-16) gets se = 0 and df = n - 1. neff =
    p(1-p)/se^2 (n, with DEFF = 1, when p or se print as 0 or 1 to 7 decimals); DEFF = (n-1)/neff;
    neff* = neff (z/t_df)^2, or n when DEFF < 1 (by more than 1e-9). A homogeneous domain is therefore df-adjusted but
    not truncated (its DEFF is 1, not below 1), except for Clopper-Pearson and the logit/Wald
    fall-backs to it, which use n. ``lcb``/``ucb`` repeat this at level 2 level - 1 (the 90 %
    interval for 95 %). ``korn-graubard`` sizes its interval as R ``svyciprop(method="beta")``:
    neff (t_{n-1}/t_df)^2, not truncated; the ``neff`` column stays VCQI's neff*.
    """
    homogeneous = (p == 0) | (p == 1) | (se < 1e-16)
    se = np.where(homogeneous, 0.0, se)
    df = np.where(homogeneous, n - 1, df)
    flat = homogeneous | np.isin(np.round(p, 7), (0.0, 1.0)) | (np.round(se, 7) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(flat, n, p * (1 - p) / se ** 2)
        deff = np.where(flat, 1.0, (n - 1) / neff)
    # a DEFF of exactly 1 (it happens: small integer counts, equal weights) computes as 1 ± 1e-16, and
    # the rule's two sides differ by the df factor: decide it on the number, not on the rounding noise
    truncated = deff < 1 - 1e-9

    vcqi_sizes: dict[float, np.ndarray] = {}  # the interval's and the neff column's, made once

    def vcqi_size(lvl: float) -> np.ndarray:
        if lvl not in vcqi_sizes:
            q = 1 - (1 - lvl) / 2
            vcqi_sizes[lvl] = np.where(truncated, n, neff * (stats.norm.ppf(q) / _t_quantile(q, df)) ** 2)
        return vcqi_sizes[lvl]

    def korn_graubard_size(lvl: float) -> np.ndarray:
        q = 1 - (1 - lvl) / 2
        return neff * (_t_quantile(q, n - 1) / _t_quantile(q, df)) ** 2

    sizes = {"korn-graubard": korn_graubard_size}
    exact_when_flat = ci in ("clopper-pearson", "korn-graubard", "logit", "wald")

    def interval(lvl: float) -> tuple[np.ndarray, np.ndarray]:
        size = sizes.get(ci, vcqi_size)(lvl)
        size = np.where(homogeneous & exact_when_flat, n, size)
        low, high = np.full(len(p), np.nan), np.full(len(p), np.nan)
        usable = np.isfinite(size) & (size > 0)  # t_df is undefined for df < 1: no interval, as VCQI
        if ci == "korn-graubard":  # proportion_ci sizes it from the effective size, n and df
            low[usable], high[usable] = proportion_ci(p[usable], neff[usable], method=ci, level=lvl, n=n[usable],
                                                      df=df[usable])
        else:
            low[usable], high[usable] = proportion_ci(p[usable], size[usable], method=ci, level=lvl)
        return low, high

    low, high = interval(level)
    one_sided = 2 * level - 1
    lcb, ucb = interval(one_sided) if one_sided > 0 else (np.full(len(p), np.nan),) * 2
    return {"se": se, "ci_low": low, "ci_high": high, "lcb": lcb, "ucb": ucb,
            "deff": np.where(truncated, 1.0, deff), "neff": vcqi_size(level), "df": df}

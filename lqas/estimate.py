"""Estimate (04GO): every indicator in every domain in one tidy frame, on the run's one survey design."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from lqas.config import DesignConfig
from lqas.derive import Derived
from lqas.design import ALL, ESTIMATE_COLUMNS, MISSING_DOMAIN, SurveyDesign
from lqas.dtypes import distinct_text
from lqas.errors import InputError
from lqas.parallel import Beside, fork_available

DOMAINS = ("cohort", "catchment", "sex")
STATUS = "vaccination_status"
DEFAULT_DIMENSIONS = (STATUS, "sex", "caretaker_sex", "caretaker_relationship", "cohort", "catchment", "area")
CROSSTAB_COLUMNS = ["indicator", "dimension", "group", *ESTIMATE_COLUMNS]


def survey_design(derived: Derived, settings: DesignConfig) -> SurveyDesign:
    """The run's survey design over the child table (built once per run and shared by every stage).

    Sampled clusters without any kept child (``derived.empty_psus``) count as PSUs when the
    strata are the catchments and the PSUs the clusters, as VCQI and BeSD-TI count them.
    """
    table = derived.table
    empty = None
    if derived.empty_psus and settings.strata == "catchment" and settings.psu == "cluster":
        present = set(distinct_text(table["catchment"]))
        empty = {catchment: count for catchment, count in derived.empty_psus.items() if catchment in present}
    return SurveyDesign(table, strata=settings.strata, psu=settings.psu, weight="weight",
                        singleton=settings.singleton, nest=settings.nest, empty_psus=empty or None)


def estimate(design: SurveyDesign, indicators: Sequence[str], settings: DesignConfig, *,
             levels: Sequence[str] = ("catchment",), stratifiers: Sequence[str] = (),
             stratifier_levels: Sequence[str] = ("national",),
             meanwhile: Callable[[], object] = lambda: None) -> pd.DataFrame:
    """All indicators at every level of the geography and by every stratifier, each with its cohort and
    sex margins, and BeSD indicators by the child's vaccination status.

    Parameters
    ----------
    levels : sequence of str
        Geographic columns from the top (``[levels] columns``; the national level is implicit), e.g.
        ``("district", "catchment")``. Each must nest in the one above (checked by `derive_project`).
    stratifiers : sequence of str
        Further domain columns (``[stratifiers] columns``: area, population group, ...).
    stratifier_levels : sequence of str
        Where the stratifiers are crossed: ``"national"`` and/or columns of ``levels``.
    meanwhile : callable
        Called once this process has made its passes, when it would wait for those made by a forked
        process (:mod:`lqas.parallel`; never called where none is forked): what the run does with that time.

    Returns
    -------
    DataFrame
        The tidy schema of DESIGN.md §4 (``lqas.design.ESTIMATE_COLUMNS``) after the domain columns
        ``cohort``, the level columns (a ``district`` column of the catchment is added when the data
        have one and the levels do not name it), the stratifier columns, ``sex`` and ``vaccination_status``.
        A row's level is its lowest level column that is not ``all``; the levels above are filled in
        (the district of a catchment), those below and every other domain column are ``all``. Every
        domain is a domain of the full design (never a subset). Children whose domain value is
        missing (e.g. sex not recorded) count in the margins; no ``missing`` domain row is written.
    """
    data = design.data
    levels = [column for column in levels if column in data]
    geography = list(levels)
    if "catchment" in levels and "district" in data and "district" not in levels:
        # the district of each catchment, shown beside it (not estimated as a level of its own)
        geography.insert(geography.index("catchment"), "district")
    above = {level: geography[:geography.index(level)] for level in geography}
    parent = {level: _parents(data, level, above[level]) for level in geography}
    stratifiers = [column for column in stratifiers if column in data]
    columns = [c for c in ("cohort", *geography, *stratifiers, "sex") if c in data]

    def runs(passes: Sequence[tuple[str | None, str | None]], *, base: bool = False) -> list[pd.DataFrame]:
        """Passes of the kernel by cohort x unit (x stratifier) x sex with every margin, made together (each
        outcome summed once over the rows of passes that cut them alike); with ``base``, the first pass keeps
        them all (the national rows among them), the others only their own unit's and stratifier's rows,
        whose margins the base pass already holds."""
        domains = []
        for position, (unit, stratifier) in enumerate(passes):
            by = [c for c in ("cohort", unit, stratifier, "sex") if c is not None and c in data]
            within = [] if base and position == 0 else [c for c in (unit, stratifier) if c is not None]
            domains.append((by, within))
        made = design.proportion_passes(list(indicators), domains, ci=settings.ci, level=settings.level)
        return [_in_columns(made.pop(0), by, unit) for (by, _), (unit, _) in zip(domains, passes)]

    def _in_columns(part: pd.DataFrame, by: list[str], unit: str | None = None) -> pd.DataFrame:
        """A pass's rows in the columns of the whole frame: no row of a missing domain value, the units
        above ``unit`` filled in, every other domain column ``all`` (each pass apart: a national
        survey's passes hold a million rows, and the whole frame is copied once, by the concat)."""
        missing = (part[by] == MISSING_DOMAIN).any(axis=1).to_numpy() if by else None

        def kept(column: str) -> pd.Series:  # each column an array of its own (see _stacked), copied only to drop rows
            return part[column] if missing is None or not missing.any() else part[column][~missing]
        filled = {column: kept(column) if column in part else ALL for column in [*columns, STATUS]}
        if unit is not None:
            units = kept(unit)
            for upper in above[unit]:
                filled[upper] = units.map(parent[unit][upper]).where(units != ALL, ALL).fillna(ALL)
        return pd.DataFrame({"indicator": kept("indicator"), **filled, **{c: kept(c) for c in ESTIMATE_COLUMNS}},
                            copy=False)

    def tell_runs(passes: Sequence[tuple[str | None, str | None]], *, tell) -> None:
        # each pass's rows told by position: a pass told again (the process died and the work is made
        # here) replaces the first
        for position, frame in enumerate(runs(passes)):
            tell((position, frame))

    by_level = [(level, None) for level in levels[:-1]]
    by_stratifier = [(None if level == "national" else level, stratifier) for stratifier in stratifiers
                     for level in stratifier_levels if level == "national" or level in levels]
    # a national survey's passes take seconds each: those of the stratifiers (or, without any, of the
    # levels above the lowest) are made on the run's second core while this one makes the others; where
    # no process is forked (lqas.parallel), all the passes are made together
    beside, made_beside = None, {}
    if len(data) >= _BESIDE_ROWS and (by_stratifier or by_level) and fork_available(data.size):
        beside = Beside(tell_runs, by_stratifier or by_level, on_message=lambda told: made_beside.update([told]),
                        cells=data.size)
    levels_beside = beside is not None and not by_stratifier
    try:
        here = [*([] if levels_beside else by_level), *(by_stratifier if beside is None else [])]
        frames = runs([(levels[-1] if levels else None, None), *here], base=True)
        besd = [key for key in indicators if key.startswith("besd_")]
        by_status = []
        if besd and STATUS in data and data[STATUS].notna().any():
            by_status = [_in_columns(design.proportions(besd, by=[STATUS], ci=settings.ci, level=settings.level,
                                                        margins=False), [STATUS])]
        if beside is not None:
            meanwhile()
            beside.result()
            frames += [made_beside[k] for k in sorted(made_beside)]
    except BaseException:
        if beside is not None:
            beside.cancel()
        raise
    return _stacked([*frames, *by_status])


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat(frames, ignore_index=True)`` of frames with the same columns, a column at a time, each
    frame's column let go once stacked: a national survey's 2.4 million estimates (0.5 GB) are then not
    held twice at the end of the stage (frames whose columns are arrays of their own, as _in_columns makes)."""
    columns = list(frames[0].columns)
    if any(list(frame.columns) != columns for frame in frames):
        return pd.concat(frames, ignore_index=True)
    stacked = {}
    for column in columns:
        stacked[column] = pd.concat([frame[column] for frame in frames], ignore_index=True)
        for frame in frames:
            del frame[column]
    return pd.DataFrame(stacked, copy=False)


# children from which the kernel's passes are shared with a forked process (lqas.parallel): below, the
# fork costs more than the passes it takes (10^5 children: 3.1 s of passes)
_BESIDE_ROWS = 20_000


def _parents(data: pd.DataFrame, level: str, uppers: Sequence[str]) -> dict[str, dict[str, str]]:
    """For each level above ``level``: the unit each of its units lies in (text, as domains are)."""
    pairs = data[[level, *uppers]].dropna(subset=[level]).astype(str).drop_duplicates(level)
    return {upper: dict(zip(pairs[level], pairs[upper])) for upper in uppers}


def besd_crosstabs(design: SurveyDesign, indicators: Sequence[str], dimensions: Sequence[str] | None = None, *,
                   ci: str = "wilson", level: float = 0.95, overall: bool = True,
                   group_order: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Weighted BeSD indicators by each dimension in turn, stacked in one tidy frame.

    Parameters
    ----------
    design : SurveyDesign
        Built on the derived child table (it holds ``vaccination_status``).
    indicators : sequence of str
        0/1/NaN columns, e.g. :func:`lqas.besd.priority_indicators` plus the gender indicators.
    dimensions : sequence of str, optional
        Default ``DEFAULT_DIMENSIONS``: vaccination_status, sex, caretaker_sex,
        caretaker_relationship, cohort, catchment, area (besd.md §1.5). A default dimension
        missing from the data is skipped with a warning; a dimension passed explicitly must exist.
    ci, level
        Interval method and level, as :meth:`SurveyDesign.proportions`.
    overall : bool, default=True
        Add the whole-sample row of each indicator (``dimension`` = ``group`` = ``"all"``).
    group_order : mapping of str to sequence of str, optional
        Display order of the groups of a dimension (default: ``[dimensions.*] order`` of
        ``lqas/data/equity.toml``); other groups follow in text order, ``missing`` last.

    Returns
    -------
    DataFrame
        ``CROSSTAB_COLUMNS``: ``indicator``, ``dimension`` (the column name), ``group`` (its value;
        ``"missing"`` where the dimension is missing), then ``ESTIMATE_COLUMNS``. Ordered by
        indicator (as given), dimension (overall first) and group.

    Notes
    -----
    Each dimension is one ``design.proportions(indicators, by=[dimension], margins=False)`` call:
    domains on the full design, so the SE of a group matches R
    ``svyby(~besd_confb, ~vaccination_status, des, svymean, na.rm=TRUE)``
    (``tests/oracles/besd_crosstab.R``).
    """
    if group_order is None:
        from lqas.config import load_scorecard_config

        group_order = {k: v.get("order", []) for k, v in load_scorecard_config()["dimensions"].items()}
    indicators = list(indicators)
    if dimensions is None:
        dims = [d for d in DEFAULT_DIMENSIONS if d in design.data]
        skipped = [d for d in DEFAULT_DIMENSIONS if d not in design.data]
        if skipped:
            warnings.warn(f"besd_crosstabs: no column {', '.join(skipped)} in the design data; "
                          "those dimensions are left out", UserWarning, stacklevel=2)
    else:
        dims = list(dimensions)
        absent = [d for d in dims if d not in design.data]
        if absent:
            raise InputError(f"besd_crosstabs: dimension column {', '.join(absent)} is not in the design "
                             f"data; expected columns of the child table such as {', '.join(DEFAULT_DIMENSIONS)}")
    frames = []
    if overall:
        whole = design.proportions(indicators, ci=ci, level=level)
        whole.insert(1, "dimension", ALL)
        whole.insert(2, "group", ALL)
        frames.append(whole)
    for dim in dims:
        part = design.proportions(indicators, by=[dim], ci=ci, level=level, margins=False)
        part = part.rename(columns={dim: "group"})
        part.insert(1, "dimension", dim)
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)[CROSSTAB_COLUMNS]

    def group_rank(dimension: str, group: str) -> tuple:
        order = list(group_order.get(dimension, []))
        if group == MISSING_DOMAIN:
            return (2, 0, "")
        return (0, order.index(group), "") if group in order else (1, 0, group)

    dim_rank = {name: i for i, name in enumerate([ALL, *dims])}
    ind_rank = {name: i for i, name in enumerate(indicators)}
    keys = [(ind_rank[i], dim_rank[d], group_rank(d, g))
            for i, d, g in zip(out["indicator"], out["dimension"], out["group"])]
    order = sorted(range(len(out)), key=keys.__getitem__)
    return out.iloc[order].reset_index(drop=True)

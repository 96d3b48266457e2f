"""Households visited: the fieldwork's record of every household a team knocked at, and the response
rates a survey report gives (``[households]``).

An LQAS export holds the children found, not the households visited: how many had no eligible child,
were absent or refused is in the teams' household log, when they kept one. Given, it is read here and
summarised per area: households visited, with an eligible child (visited less those with none),
interviewed, and the response rate, interviewed / with an eligible child (the household response rate
of the DHS and of WHO's coverage survey manual; households absent at every visit count as eligible,
their eligibility unknown, which errs towards a lower rate).
"""

from __future__ import annotations

import pandas as pd

from lqas.config import Project
from lqas.dtypes import distinct_text
from lqas.errors import InputError
from lqas.readers import per_value, read_source

# the results a household visit can have, in the order the report shows them
RESULTS = ("interviewed", "no_eligible_child", "absent", "refused", "other")


def household_response(project: Project, children: pd.DataFrame, excluded: pd.DataFrame | None = None, *,
                       visits: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Households visited and the response rate per catchment area, from ``[households] file``; None
    when the project has no household log.

    ``excluded``: the records excluded from the child table (``exclusions.csv``), whose areas are areas of
    the survey too (a lot can lose every child). ``visits``: the log as :func:`household_visits` read it,
    when the caller has it already.

    Returns one row per catchment area (in the children's order, then any area with no child found)
    and a last row ``all``: ``catchment``, ``clusters``, ``visited``, one column per result of
    :data:`RESULTS`, ``eligible`` (visited − no eligible child) and ``response_rate`` (interviewed /
    eligible, NaN without an eligible household).

    Raises
    ------
    InputError
        The file lacks a column, a row's result is not a known code (after ``[households] codes``),
        or a row names no catchment area and its cluster has no child to tell it: naming the file,
        the row as the user sees it and the column.
    """
    if visits is None:
        visits = household_visits(project, children, excluded)
    if visits is None:
        return None
    return _rates(visits, distinct_text(children["catchment"]))


def household_visits(project: Project, children: pd.DataFrame, excluded: pd.DataFrame | None = None
                     ) -> pd.DataFrame | None:
    """The household log of ``[households] file``, one row per household visited: ``catchment``,
    ``cluster`` and ``result`` (one of :data:`RESULTS`, a categorical), every row checked as
    :func:`household_response` says; None without a log. The response rates and the fieldwork checks
    (refusals and absences by cluster and team) both count these rows."""
    config = project.households
    if config is None:
        return None
    path = project.resolve(config.file)
    if not path.is_file():
        raise InputError(f"{path}: household log not found ([households] file)")
    renamed = {theirs: ours for ours, theirs in config.columns.items()}
    # a national log's millions of rows: repeated text as categories, and no cell made of the columns not
    # read here (its household ids: 2.5 million Python strings)
    used = ("catchment", "cluster", "result")
    source = read_source(path, categories=True, columns=[*(theirs for theirs, name in renamed.items() if name in used),
                                                         *(name for name in used if name not in renamed)])
    frame = source.frame.rename(columns=renamed)
    for column in ("cluster", "result"):
        if column not in frame:
            raise InputError(f"{path}: no column '{column}' (columns: {', '.join(map(str, source.file_columns))}); "
                             f"name the file's column with [households] columns = {{ {column} = \"...\" }}")
    # each distinct text stripped and recoded once
    text = pd.DataFrame({column: per_value(frame[column], lambda values: values.astype("string").str.strip())
                         for column in ("cluster", "result", "catchment") if column in frame})
    codes = {str(theirs).strip(): ours for theirs, ours in config.codes.items()}
    result = per_value(text["result"], lambda values: values.map(
        lambda value: codes.get(value, value) if isinstance(value, str) else value))
    _refuse_first(~result.isin(RESULTS), lambda i: (
        f"{path}: row {source.row_offset + i}, column '{config.columns.get('result', 'result')}': "
        f"{frame['result'].iloc[i]!r} is not a household result ({', '.join(RESULTS)}); map the file's codes with "
        f"[households] codes = {{ \"1\" = \"interviewed\", ... }}"))
    # the catchment of a cluster: the file's own, else the one its children were found in
    of_cluster = (children[["cluster", "catchment"]].astype(str).drop_duplicates("cluster")
                  .set_index("cluster")["catchment"])
    catchment = text["catchment"] if "catchment" in text else pd.Series(pd.NA, index=text.index, dtype="string")
    catchment = catchment.where(catchment.notna() & (catchment != ""), text["cluster"].map(of_cluster))
    _refuse_first(catchment.isna(), lambda i: (
        f"{path}: row {source.row_offset + i}, column 'cluster': cluster {text['cluster'].iloc[i]!r} has no child in "
        "the survey and the row names no catchment area (add a 'catchment' column)"))
    # an area no child came from is a typo far more often than an area where no child was found
    areas = set(distinct_text(children["catchment"]))
    if excluded is not None and "catchment" in excluded:
        areas |= set(distinct_text(excluded["catchment"]))
    _refuse_first(~catchment.isin(areas), lambda i: (
        f"{path}: row {source.row_offset + i}, column '{config.columns.get('catchment', 'catchment')}': "
        f"{catchment.iloc[i]!r} is not a catchment area of the survey "
        f"({', '.join(sorted(areas)[:6])}{', ...' if len(areas) > 6 else ''})"))
    visits = pd.DataFrame({"catchment": catchment.astype(str), "cluster": text["cluster"].astype(str),
                           "result": pd.Categorical(result, categories=RESULTS)})
    return visits


def _refuse_first(bad: pd.Series, message) -> None:
    """One line on the first bad row (``message(position)``), the row as the user sees it."""
    if bad.any():
        raise InputError(message(int(bad.to_numpy().nonzero()[0][0])))


def _rates(visits: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    counts = visits.groupby(["catchment", "result"], observed=False).size().unstack("result", fill_value=0)
    counts = counts.reindex(columns=list(RESULTS), fill_value=0)
    counts.insert(0, "clusters", visits.groupby("catchment")["cluster"].nunique())
    areas = [*[c for c in order if c in counts.index], *sorted(set(counts.index) - set(order))]
    table = counts.loc[areas]
    table.loc["all"] = table.sum()
    table.insert(1, "visited", table[list(RESULTS)].sum(axis=1))
    table["eligible"] = table["visited"] - table["no_eligible_child"]
    table["response_rate"] = (table["interviewed"] / table["eligible"]).where(table["eligible"] > 0)
    return table.rename_axis("catchment").reset_index().astype({column: int for column in ("clusters", "visited",
                                                                                           *RESULTS, "eligible")})

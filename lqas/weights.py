"""Sampling weights built from lot populations when the project gives populations, not weights."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.config.project import PopulationsConfig
from lqas.errors import InputError
from lqas.readers import read_source


def read_populations(path: Path, lot: tuple[str, ...], settings: PopulationsConfig | None = None,
                     cohorts: Mapping[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Read a populations table (CSV or XLSX, any encoding the exports may have): one row per lot
    with the lot columns and ``population``, under the names ``settings.columns`` gives; without a
    cohort column, each row's population is split to the ``cohorts`` by ``settings.ages`` (the share
    of the counted days each cohort window covers) or ``settings.shares``."""
    settings = settings or PopulationsConfig()
    source = read_source(path)  # one reader for every input: its errors name the file on one line
    table = source.frame
    absent = [f"'{column}' ([populations] columns.{name})" for name, column in settings.columns.items()
              if column not in table.columns]
    if absent:
        raise InputError(f"{path}: column missing: {', '.join(absent)}; the file has {', '.join(table.columns)}")
    table = table.rename(columns={column: name for name, column in settings.columns.items()})
    split = "cohort" in lot and (settings.ages or settings.shares) is not None
    if split and "cohort" in table.columns:
        raise InputError(f"{path}: the file has a cohort column, so [populations] ages or shares would be ignored; "
                         "remove them, or the file's cohort column")
    keys = [column for column in lot if not (split and column == "cohort")]
    missing = [column for column in (*keys, "population") if column not in table.columns]
    if missing:
        hint = ("; map the file's columns in [populations] columns = { catchment = \"...\", population = \"...\" }"
                + ("; without a cohort column give [populations] ages = [0, 729] (the ages the population counts) "
                   "or shares" if "cohort" in missing else ""))
        raise InputError(f"{path}: column missing: {', '.join(missing)} (expected {', '.join((*lot, 'population'))})"
                         + hint)
    lot = tuple(keys)
    population = pd.to_numeric(table["population"], errors="coerce")
    bad = ~(population > 0)
    if bad.any():
        index = int(bad.to_numpy().argmax())
        raise InputError(f"{path}: row {index + source.row_offset}, column 'population': must be a positive number; "
                         f"got {table['population'].iloc[index]!r}")
    twice = table.duplicated(list(lot), keep=False)
    if twice.any():
        # two populations for one lot would duplicate its children in the weight merge
        first, again = (int(i) + source.row_offset for i in np.flatnonzero(twice.to_numpy())[:2])
        lot_of = ", ".join(f"{column} = {value}" for column, value in table.loc[twice, list(lot)].iloc[0].items())
        raise InputError(f"{path}: row {again}: lot {lot_of} is listed again (first at row {first}); "
                         "keep one population per lot")
    table = table.assign(population=population)
    if split:
        table = _split_to_cohorts(table, settings, cohorts or {}, path)
    return table


def cohort_shares(settings: PopulationsConfig, cohorts: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """The share of a population in each cohort: given, or the days of the counted ages each cohort's
    window covers (a uniform spread of births over the ages, as for a population under 2 split in
    months)."""
    if settings.shares is not None:
        return dict(settings.shares)
    first, last = settings.ages
    days = last - first + 1
    return {name: max(0, min(high, last) - max(low, first) + 1) / days for name, (low, high) in cohorts.items()}


def _split_to_cohorts(table: pd.DataFrame, settings: PopulationsConfig, cohorts: Mapping[str, tuple[int, int]],
                      path: Path) -> pd.DataFrame:
    shares = cohort_shares(settings, cohorts)
    outside = [name for name in cohorts if not shares.get(name)]
    if outside:
        raise InputError(f"{path}: cohort {', '.join(map(repr, outside))} is outside the ages the populations count "
                         f"([populations] {'ages = ' + str(list(settings.ages)) if settings.ages else 'shares'})")
    parts = [table.assign(cohort=name, population=table["population"] * shares[name]) for name in cohorts]
    return pd.concat(parts, ignore_index=True)


def population_weights(children: pd.DataFrame, populations: pd.DataFrame, lot: tuple[str, ...],
                       source: Path | str = "populations") -> pd.Series:
    """Weight of each child = population of its lot / children kept in that lot.

    Every child of a lot gets the same weight, so weighted lot totals equal lot populations.
    """
    counts = children.groupby(list(lot), observed=True).size().rename("n_sampled").reset_index()
    table = counts.merge(populations, on=list(lot), how="left")
    unknown = table["population"].isna()
    if unknown.any():
        lots = ["; ".join(f"{column} = {value}" for column, value in row.items())
                for row in table.loc[unknown, list(lot)].to_dict("records")]
        raise InputError(f"{source}: no population for {len(lots)} lot{'s' if len(lots) > 1 else ''}: "
                         f"{' | '.join(lots)}; add a row for each")
    table["weight"] = table["population"].astype(float) / table["n_sampled"]
    return children[list(lot)].merge(table[[*lot, "weight"]], on=list(lot), how="left")["weight"].set_axis(children.index)

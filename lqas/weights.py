"""Sampling weights built from lot populations when the project gives populations, not weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lqas.errors import InputError
from lqas.readers import read_source


def read_populations(path: Path, lot: tuple[str, ...]) -> pd.DataFrame:
    """Read a populations table (CSV or XLSX, any encoding the exports may have) with the lot
    columns and ``population``."""
    source = read_source(path)  # one reader for every input: its errors name the file on one line
    table = source.frame
    missing = [column for column in (*lot, "population") if column not in table.columns]
    if missing:
        raise InputError(f"{path}: column missing: {', '.join(missing)} (expected {', '.join((*lot, 'population'))})")
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
    return table.assign(population=population)


def population_weights(children: pd.DataFrame, populations: pd.DataFrame, lot: tuple[str, ...],
                       source: Path | str = "populations") -> pd.Series:
    """Weight of each child = population of its lot / children kept in that lot.

    Every child of a lot gets the same weight, so weighted lot totals equal lot populations.
    """
    counts = children.groupby(list(lot), observed=True).size().rename("n_sampled").reset_index()
    table = counts.merge(populations, on=list(lot), how="left")
    unknown = table["population"].isna()
    if unknown.any():
        example = table.loc[unknown, list(lot)].iloc[0].to_dict()
        raise InputError(f"{source}: no population for lot {example}; add a row for it")
    table["weight"] = table["population"].astype(float) / table["n_sampled"]
    return children[list(lot)].merge(table[[*lot, "weight"]], on=list(lot), how="left")["weight"].set_axis(children.index)

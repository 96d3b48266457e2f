"""Sampling weights built from lot populations when the project gives populations, not weights."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lqas.errors import InputError


def read_populations(path: Path, lot: tuple[str, ...]) -> pd.DataFrame:
    """Read a populations table with the lot columns and ``population``."""
    if not Path(path).is_file():
        raise InputError(f"{path}: populations file not found")
    table = pd.read_csv(path, dtype={column: str for column in lot})
    missing = [column for column in (*lot, "population") if column not in table.columns]
    if missing:
        raise InputError(f"{path}: column missing: {', '.join(missing)} (expected {', '.join((*lot, 'population'))})")
    bad = ~(pd.to_numeric(table["population"], errors="coerce") > 0)
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 2
        raise InputError(f"{path}: row {row}, column 'population': must be a positive number; "
                         f"got {table['population'].iloc[row - 2]!r}")
    return table


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

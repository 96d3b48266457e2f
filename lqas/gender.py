"""Gender indicators (03DV): who decides on the child's vaccination, whether the mother needs permission.

Defined as data in ``lqas/data/equity.toml`` ``[indicator.*]``: a source column, the codes giving 1
and the codes giving 0. :func:`lqas.derive.derive_project` adds them to the child table.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lqas.besd import recode_item
from lqas.config import load_scorecard_config


def derive_gender(table: pd.DataFrame, coding: str = "besd-ti", *,
                  columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Child-level gender indicators of ``equity.toml`` (women's autonomy in the vaccination decision).

    Parameters
    ----------
    table : DataFrame
        The derived child table (``lqas.derive_project(...).table`` before this step).
    coding : str, default="besd-ti"
        Coding of the raw BeSD answers (the project's ``besd.coding``), for ``CHI_travel``.
    columns : mapping, optional
        BeSD-TI name -> column in ``table`` (see :func:`lqas.besd.derive_besd`).

    Returns
    -------
    DataFrame
        Indexed like ``table``: one float 0/1/NaN column per indicator whose source column is
        present:

        - ``mother_needs_permission``: 1 if ``CHI_travel`` = Yes, 0 if No, NaN if unanswered;
        - ``mother_decides_vaccination``: 1 if ``decides_vaccination`` is mother or both, 0 if
          father, grandparent or other, NaN if unanswered.

        An answer outside the listed codes is NaN, with a warning naming the column and a row.

    Examples
    --------
    >>> t = pd.DataFrame({"CHI_travel": [1, 0, None], "decides_vaccination": ["both", "father", None]})
    >>> derive_gender(t)
       mother_needs_permission  mother_decides_vaccination
    0                      1.0                         1.0
    1                      0.0                         0.0
    2                      NaN                         NaN
    """
    config = load_scorecard_config()
    out: dict[str, pd.Series] = {}
    names = dict(columns or {})
    for key, spec in config["indicator"].items():
        source = names.get(spec["source"], spec["source"])
        if source not in table:
            continue
        if spec["kind"] == "besd_item":
            values = recode_item(table, spec["source"], coding, columns=names)
            out[key] = _indicator_from_codes(values, spec, key, numeric=True)
        else:
            out[key] = _indicator_from_codes(table[source], spec, key, numeric=False)
    return pd.DataFrame(out, index=table.index)


def _indicator_from_codes(values: pd.Series, spec: Mapping[str, Any], key: str, *, numeric: bool) -> pd.Series:
    """1 for a positive code, 0 for a negative code, NaN for missing and (with a warning) unknown codes."""
    if numeric:
        keys = pd.to_numeric(values, errors="coerce")
        positive, negative = set(spec["positive"]), set(spec["negative"])
    else:
        keys = values.astype("string").str.strip().str.lower()
        positive = {str(v).lower() for v in spec["positive"]}
        negative = {str(v).lower() for v in spec["negative"]}
    result = pd.Series(np.nan, index=values.index, dtype=float)
    result[keys.isin(positive).fillna(False).to_numpy(bool)] = 1.0
    result[keys.isin(negative).fillna(False).to_numpy(bool)] = 0.0
    unknown = keys.notna() & result.isna()
    if unknown.any():
        row = unknown.idxmax()
        warnings.warn(f"{key}: {int(unknown.sum())} answer(s) in '{spec['source']}' outside "
                      f"{sorted(positive | negative, key=str)} counted as missing; e.g. row {row}: got "
                      f"{values[row]!r}. Map them in equity.toml [indicator.{key}] if they are valid.",
                      UserWarning, stacklevel=3)
    return result

"""The child table's compact dtypes: a national survey's million children in hundreds of MB, not gigabytes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """The child table in compact dtypes, same values: text that repeats (codes, places, evidence
    sources) as categories and 0/1 indicators as 32-bit floats.

    A national survey's child table is mostly such columns; as Python strings and 64-bit floats a
    million children weigh about 8 GB, in compact dtypes 2 GB. A 0/1/NaN value is exact in 32 bits,
    and every sum over children is made in 64 bits (the kernel's). The columns left as they are
    are not copied.
    """
    changed = {}
    for name in table.columns:
        values = compact_values(table[name])
        if values is not table[name]:
            changed[name] = values
    return add_columns(table, changed) if changed else table


def add_columns(table: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """``table`` with ``columns`` added after its own (or in place of those of the same name), none of
    its other data copied: ``pd.concat`` would merge the blocks of equal dtype, copying the whole table."""
    out = table.copy(deep=False)
    with warnings.catch_warnings():
        # each column set is a block of its own: pandas' advice against a "highly fragmented" frame
        # (copy it whole) is what this avoids
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for name, values in columns.items():
            out[name] = values
    return out


def compact_values(values: pd.Series) -> pd.Series:
    """One column in its compact dtype (``values`` itself when it has none)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        codes, distinct = text_codes(values)
        if len(distinct) <= len(values) // 2:
            # categories in text order, as the text sorted (a table by category lists them so)
            order = np.argsort(distinct.astype(str), kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = np.where(codes < 0, -1, rank[codes])
            categories = pd.Index(distinct[order], dtype=object)
            return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=values.index,
                             name=values.name)
    elif values.dtype == np.float64 and _binary(values.to_numpy()):
        return values.astype(np.float32)
    return values


def _binary(numbers: np.ndarray) -> bool:
    """0, 1 or NaN only."""
    return bool(np.all((numbers == 0) | (numbers == 1) | np.isnan(numbers)))


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position among the distinct texts of a text column (-1 where missing), and those
    texts (object array, in order of first appearance).

    Arrow's dictionary encoding, not ``pd.factorize``: pandas hashes text as C strings, so a text
    with a NUL character would count as the text before it (``"\\x00a"`` as ``""``).
    """
    import pyarrow as pa

    encoded = pa.array(values, type=pa.string(), from_pandas=True).dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, np.asarray(encoded.dictionary.to_pylist(), dtype=object)

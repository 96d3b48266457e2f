"""The child table's compact dtypes: a national survey's million children in hundreds of MB, not gigabytes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """The child table in compact dtypes, same values: text that repeats (codes, places, evidence
    sources) as categories and 0/1 indicators as 32-bit floats.

    A national survey's child table is mostly such columns; as Python strings and 64-bit floats a
    million children weigh about 8 GB, in compact dtypes a few hundred MB. A 0/1/NaN value is exact
    in 32 bits, and every sum over children is made in 64 bits (the kernel's).
    """
    return pd.DataFrame(compact_columns(table), index=table.index)


def compact_columns(table: pd.DataFrame, names: Iterable[str] | None = None) -> dict[str, object]:
    """Columns of ``table`` (``names``, default all) by name, in order, as :func:`compact` makes them
    (arrays; the column's own where it is compact already), to build a frame from several tables
    in one copy."""
    columns = {}
    for name in table.columns if names is None else names:
        values = table[name]
        columns[name] = values.array
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
            codes, distinct = text_codes(values)
            if len(distinct) <= len(values) // 2:
                # categories in text order, as the text sorted (a table by category lists them so)
                order = np.argsort(distinct.astype(str), kind="stable")
                rank = np.empty(len(order), dtype=np.int64)
                rank[order] = np.arange(len(order))
                codes = np.where(codes < 0, -1, rank[codes])
                columns[name] = pd.Categorical.from_codes(codes, categories=pd.Index(distinct[order], dtype=object))
        elif values.dtype == np.float64 and _binary(values.to_numpy()):
            columns[name] = values.to_numpy(dtype=np.float32)
    return columns


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

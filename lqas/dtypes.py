"""The child table's compact dtypes: a national survey's million children in hundreds of MB, not gigabytes."""

from __future__ import annotations

import functools
import itertools
import sys
import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd


def compact(table: pd.DataFrame, *, settled: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The child table in compact dtypes, same values: text that repeats (codes, places, evidence
    sources) as categories, text that does not (identifiers) as pandas' own text (Arrow's, with pandas 3)
    and 0/1 indicators as 32-bit floats.

    A national survey's child table is mostly such columns; as Python strings and 64-bit floats a
    million children weigh about 8 GB, in compact dtypes 1.6 GB. A 0/1/NaN value is exact in 32 bits,
    and every sum over children is made in 64 bits (the kernel's). The columns left as they are
    are not copied. A categorical of text (an export read in categories) comes out as its text
    would: the categories its rows use, sorted as text, or plain text when they do not repeat.

    ``settled``: the text columns an earlier call left as text (:func:`plain_text`); a column of
    ``table`` holding that very data (a stage passed it on untouched) is left as it is without being
    examined again, which for identifiers means hashing a million distinct texts.
    """
    settled = settled or {}
    # one compacted column at a time: a national survey's changed columns are not held twice
    changed = ((name, values) for name in table.columns
               if not (name in settled and _same_data(table[name], settled[name]))
               and (values := compact_values(table[name])) is not table[name])
    first = next(changed, None)
    return table if first is None else add_columns(table, itertools.chain([first], changed))


def plain_text(table: pd.DataFrame) -> dict[str, object]:
    """The text columns of a compacted table that :func:`compact` left as text (their texts do not
    repeat), by name, each as its data (held, so that its memory is not another column's later), for a
    later call's ``settled``."""
    return {name: _data(values) for name, values in table.items() if text_dtype(values.dtype)}


def _data(values: pd.Series):
    """The memory holding a column: its numpy array, or the Arrow array of pandas 3's text."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa

        return pa.array(values.array)
    return values.to_numpy()


def _where(data) -> tuple:
    """Where ``data`` (from :func:`_data`) lies in memory, and its length and layout."""
    if isinstance(data, np.ndarray):
        return data.dtype.str, data.shape, data.strides, data.__array_interface__["data"][0]
    chunks = data.chunks if hasattr(data, "chunks") else [data]
    return tuple((chunk.offset, len(chunk), tuple(buffer.address if buffer else 0 for buffer in chunk.buffers()))
                 for chunk in chunks)


def _same_data(values: pd.Series, data) -> bool:
    """Whether ``values`` are held in the very memory of ``data`` (not a copy, nor other rows of it)."""
    mine = _data(values)
    return type(mine) is type(data) and _where(mine) == _where(data)


def add_columns(table: pd.DataFrame,
                columns: Mapping[str, pd.Series] | Iterable[tuple[str, pd.Series]]) -> pd.DataFrame:
    """``table`` with ``columns`` added after its own (or in place of those of the same name), none of
    its other data copied: ``pd.concat`` would merge the blocks of equal dtype, copying the whole table.

    pandas copies each column it is given; given ``(name, values)`` pairs one at a time (a generator
    that lets go of each), a caller holds one column twice at a time, not all of them."""
    out = table.copy(deep=False)
    with warnings.catch_warnings():
        # each column set is a block of its own: pandas' advice against a "highly fragmented" frame
        # (copy it whole) is what this avoids
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for name, values in (columns.items() if isinstance(columns, Mapping) else columns):
            out[name] = values
            del values
    return out


def compact_values(values: pd.Series, *, days: bool = False) -> pd.Series:
    """One column in its compact dtype (``values`` itself when it has none or has it already). ``days``: a
    column of numbers of days (ages at a dose, from dates), held in 32 bits too when they are
    :func:`whole_numbers` (a national survey's 44 such columns: 176 MB of the run's memory at every stage)."""
    if days and values.dtype == np.float64 and whole_numbers(values.to_numpy()):
        return values.astype(np.float32)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _compact_categorical(values)
    if text_dtype(values.dtype) and pd.api.types.infer_dtype(values, skipna=True) == "string":
        coded = text_codes(values, most=len(values) // 2)  # identifiers: no category list of a million texts
        compacted = None if coded is None else text_categorical(*coded, values.index, values.name)
        if compacted is not None:
            return compacted
        return _as_text(values)
    elif values.dtype == np.float64 and _binary(values.to_numpy()):
        return values.astype(np.float32)
    return values


# the dtype pandas gives text (pandas 3: its Arrow-backed string dtype; pandas 2: object)
_TEXT = pd.Series(["a"]).dtype


def text_dtype(dtype) -> bool:
    """Text held as Python objects (pandas 2) or as pandas' string dtype (pandas 3's default for text)."""
    return dtype == object or isinstance(dtype, pd.StringDtype)


def text_categorical(codes: np.ndarray, distinct: np.ndarray, index: pd.Index, name: object = None) -> pd.Series | None:
    """The text column of ``codes`` (positions among ``distinct``, -1 where missing) as a categorical
    with its categories sorted as text (a table by category lists them so); None when the texts do
    not repeat (more distinct texts than half the rows), since categories would then weigh more."""
    if len(distinct) > len(index) // 2:
        return None
    return sorted_categorical(codes, distinct, index, name)


def sorted_categorical(codes: np.ndarray, distinct: np.ndarray, index: pd.Index, name: object = None) -> pd.Series:
    """The text column of ``codes`` (positions among ``distinct``, -1 where missing) as a categorical with
    its categories sorted as text, however many: grouped and sorted as the text itself would be."""
    order = np.argsort(distinct.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    # one look-up per row, -1 (missing) reading the -1 put last, into the width pandas keeps the codes in
    # (checked and narrowed by pandas, a national survey's column took two more passes over its rows)
    codes = np.append(rank, -1).astype(_code_width(len(order)))[codes] if len(order) else codes
    dtype = pd.CategoricalDtype(pd.Index(distinct[order], dtype=object))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype, validate=not len(order)), index=index, name=name)


def _code_width(categories: int) -> type:
    """The integers pandas holds a categorical's codes in (``coerce_indexer_dtype``)."""
    for width in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(width).max:
            return width
    return np.int64


def _compact_categorical(values: pd.Series) -> pd.Series:
    """A categorical of text (read so from the export) as :func:`compact_values` makes its text: the
    categories the rows use, sorted as text, or plain text when they do not repeat; children
    excluded after the export was read may have left categories unused."""
    categories = values.cat.categories
    if not text_dtype(categories.dtype) or pd.api.types.infer_dtype(categories, skipna=True) != "string":
        return values
    codes = values.cat.codes.to_numpy()
    if len(categories) <= len(values) // 2 and categories.is_monotonic_increasing:
        used = np.zeros(len(categories) + 1, dtype=bool)
        used[codes] = True  # a missing cell's -1 marks the slot after the categories
        if used[:-1].all():
            return values
    return text_of_codes(codes, np.asarray(categories, dtype=object), values.index, values.name)


def text_of_codes(codes: np.ndarray, names: np.ndarray, index: pd.Index, name: object = None) -> pd.Series:
    """The text ``names[codes]`` (-1: missing) as :func:`compact_values` makes such a text column:
    a categorical of the names the rows use, sorted as text, or plain text (NaN where missing) when
    they do not repeat or no row has one. Made from the codes, without a Python string per row."""
    used = np.bincount(codes[codes >= 0], minlength=len(names)) > 0
    kept = np.flatnonzero(used)
    position = np.full(len(names), -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    codes = np.where(codes < 0, -1, position[codes])
    distinct = np.asarray(names, dtype=object)[kept]
    compacted = text_categorical(codes, distinct, index, name) if len(kept) else None
    if compacted is None:  # as text, the missing cells NaN
        text = pd.Series(np.append(distinct, np.nan)[codes], index=index, name=name, dtype=object)
        return _as_text(text) if len(kept) else text
    return compacted


def _as_text(values: pd.Series) -> pd.Series:
    """A column of texts that do not repeat (identifiers), held as Python strings, as pandas holds text:
    with pandas 3, Arrow's text (a national survey's 8 such columns, identifiers and times: 293 -> 108 MB);
    with pandas 2, as they are."""
    return values.astype(_TEXT) if values.dtype == object and isinstance(_TEXT, pd.StringDtype) else values


def whole_numbers(numbers: np.ndarray) -> bool:
    """Whole numbers below a million in magnitude, or missing: exact in 32 bits, and float32 numbers that
    pandas writes as their float64 values (from 1e6 on, it writes a float32 in scientific notation:
    ``1e+06``), so that a CSV is the same whichever of the two holds them."""
    with np.errstate(invalid="ignore"):
        return bool(np.all(((numbers == np.trunc(numbers)) & (np.abs(numbers) < 1e6)) | np.isnan(numbers)))


def _binary(numbers: np.ndarray) -> bool:
    """0, 1 or NaN only (most columns of ages and counts tell so in their first thousand values)."""
    return all(bool(np.all((part == 0) | (part == 1) | np.isnan(part))) for part in (numbers[:1_000], numbers))


def text_codes(values: pd.Series, *, most: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's position among the distinct texts of a text column (-1 where missing), and those
    texts (object array, in order of first appearance); None when there are more than ``most``.

    Arrow's dictionary encoding, not ``pd.factorize``: pandas hashes text as C strings, so a text
    with a NUL character would count as the text before it (``"\\x00a"`` as ``""``).
    """
    import pyarrow as pa

    text = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # pandas 3's text column: Arrow's own, in chunks
        text = text.combine_chunks()
    if most is not None and _distinct_head(text, most):
        return None
    encoded = text.dictionary_encode()
    if most is not None and len(encoded.dictionary) > most:
        return None
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, np.asarray(encoded.dictionary.to_pylist(), dtype=object)


def _distinct_head(text, most: int) -> bool:
    """Whether the first ``most + 1`` texts all differ (so there are more than ``most``), found by hashing
    them only when their first thousand differ: an identifier's million texts are not all hashed, other
    columns pay for hashing a thousand texts twice."""
    probe = min(1000, most + 1)
    if len(text) <= most or len(text.slice(0, probe).unique()) < probe:
        return False
    head = text.slice(0, most + 1)
    return head.null_count == 0 and len(head.unique()) == len(head)


def distinct_text(values: pd.Series) -> list[str]:
    """The distinct values of a column as text, missing left out, in order of first appearance.

    Each distinct value made text once, not each row: with pandas 3 a column made text is an Arrow
    array that Python walks one row at a time (about a second for a national survey's million
    children, where its few thousand areas take a millisecond)."""
    return [str(value) for value in pd.unique(values.dropna())]


def first_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """A row holding each of ``count`` codes (positions from ``pd.factorize``: each code occurs; numpy
    keeps the last of repeated writes, so it is the code's first row), in one pass over the rows
    rather than a sort: what is made once per distinct value is made from that row."""
    first = np.empty(count, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def release_memory() -> None:
    """Give the memory a stage has freed back to the system, where the C library keeps it for reuse.

    glibc keeps the working columns that pandas and numpy free (a national survey's are gigabytes:
    measured at 10^6 children, 1 GB of a 3.2 GB process after ingest), and the next stage's peak stands
    on top of them. Its ``malloc_trim`` returns them, in tens of milliseconds (elsewhere: Windows, macOS,
    other C libraries, there is nothing to call). Arrow's own allocator keeps what its CSV reading and
    writing freed: it is asked to give it back too, on every system, once Arrow is loaded.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


@functools.cache
def _malloc_trim():
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's; absent from musl
    except (AttributeError, OSError):
        return None

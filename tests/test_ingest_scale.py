"""A national export read in categories (issue #16): the same cells, children, exclusions and repairs as
the export read as Python strings, in a fraction of the memory."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lqas.readers
from lqas.config import load_project
from lqas.derive import derive_project
from lqas.dtypes import compact_values, text_of_codes
from lqas.errors import InputError
from lqas.ingest import _row_hash
from lqas.readers import per_value, read_source

DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline" / "survey.toml"


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), np.nan)


def test_a_regular_csv_in_categories_holds_the_cells_pandas_reads(tmp_path):
    rows = ['id,sex,name,note,empty'] + [
        f'{i},{"female" if i % 3 else "male"},"Konaté, A",{"NA" if i % 4 else "."},' for i in range(40)]
    rows[5] = '4,female,"two\nlines",n/a,'          # a quoted line feed
    rows[7] = '6,,"say ""hi""",x,'                    # an empty cell and doubled quotes
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plain = read_source(path).frame
    read = read_source(path, categories=True)
    frame = read.frame
    assert list(frame.columns) == list(plain.columns) and frame.index.equals(plain.index)
    assert isinstance(frame["sex"].dtype, pd.CategoricalDtype)
    assert list(frame["sex"].cat.categories) == ["female", "male"]  # sorted as text
    assert frame["id"].dtype == object  # a text per row stays text
    assert frame["empty"].dtype == object and frame["empty"].isna().all()
    pd.testing.assert_frame_equal(_as_text(frame), plain)
    assert read.short_rows is not None and read.short_rows.isna().all()


def test_a_csv_with_a_short_row_is_read_by_pandas_and_the_row_flagged(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("a,b,c\n" + "1,x,y\n" * 10 + "2,x\n", encoding="utf-8")
    read = read_source(path, categories=True)
    assert read.frame["b"].dtype == object  # not regular: pandas' reading, as ever
    assert read.short_rows.iloc[-1] == "2 of 3 fields" and read.short_rows.iloc[:-1].isna().all()


@pytest.mark.parametrize("regular", [True, False])
def test_columns_not_kept_are_read_past_and_the_file_columns_still_named(tmp_path, regular):
    """``columns``: the cells of the columns kept are those of the whole file's; the others are not made
    (a national household log's ids), on Arrow's reading and on pandas' (a short row)."""
    rows = ["area,household ,result,note"] + [f"a{i % 3},h{i},{1 + i % 2},x" for i in range(30)]
    if not regular:
        rows[9] = "a2,h8"
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    whole = read_source(path, categories=True)
    read = read_source(path, categories=True, columns=["result", "area", "absent"])
    assert list(read.frame.columns) == ["area", "result"]  # in the file's order
    pd.testing.assert_frame_equal(_as_text(read.frame), _as_text(whole.frame[["area", "result"]]))
    assert read.file_columns == ("area", "household", "result", "note") and whole.file_columns is None
    assert (read.short_rows is None) == (whole.short_rows is None)
    if not regular:
        assert read.short_rows.iloc[8] == "2 of 4 fields"
    # none of its columns kept: the rows are still there (not an empty file)
    assert len(read_source(path, categories=True, columns=["absent"]).frame) == 30


def test_a_categorical_compacts_as_its_text_does():
    text = pd.Series(["b", "a", np.nan, "b", "c", "a", "b", "a"], index=range(10, 18), name="x", dtype=object)
    # categories in another order, one no row uses (its children excluded after the export was read)
    categorical = pd.Series(pd.Categorical(text, categories=["c", "b", "a", "z"]), index=text.index, name="x")
    expected = compact_values(text)
    pd.testing.assert_series_equal(compact_values(categorical), expected)
    # too many distinct texts for the rows left: plain text, as the text column stays
    few = categorical.iloc[[0, 1, 4]]
    pd.testing.assert_series_equal(compact_values(few), compact_values(text.iloc[[0, 1, 4]]))
    assert compact_values(few).dtype == pd.Series(["a"]).dtype  # pandas' own text: Arrow's with pandas 3
    empty = pd.Series(pd.Categorical([np.nan, np.nan], categories=["a"]), name="x")
    pd.testing.assert_series_equal(compact_values(empty), pd.Series([np.nan, np.nan], name="x", dtype=object))
    assert compact_values(expected) is expected  # compact already: not copied


def test_text_of_codes_is_the_text_compacted():
    names = np.array(["card_date", "card_tick", "none", "implied"], dtype=object)
    index = pd.RangeIndex(6)
    for codes in (np.array([2, 2, 0, 3, 2, 0]), np.array([2, 2, 2, 2, 2, 2]), np.array([0, 1, 2, 3, 0, 1])):
        pd.testing.assert_series_equal(text_of_codes(codes, names, index, "s"),
                                       compact_values(pd.Series(names[codes], index=index, name="s", dtype=object)))


def test_per_value_gives_a_categorical_without_missing_cells_the_dtype_its_text_gives():
    text = pd.Series(["yes", "no"] * 40, dtype=object)
    codes = {"yes": 1, "no": 0}

    def recode(values: pd.Series) -> pd.Series:
        return values.map(codes).astype(object)

    from_text = per_value(text, recode)
    from_categories = per_value(text.astype("category"), recode)
    assert from_categories.tolist() == from_text.tolist()
    assert [type(v) for v in from_categories] == [type(v) for v in from_text]  # integers, no NaN among them


def test_rows_with_the_same_answers_hash_alike_in_categories():
    frame = pd.DataFrame({"a": ["x", "y", "x", None, None], "b": [1.0, 0.0, 1.0, np.nan, np.nan],
                          "c": pd.to_datetime(["2024-01-02", None, "2024-01-02", None, None])})
    categorical = frame.assign(a=frame["a"].astype("category"), b=frame["b"].astype(np.float32))
    for table in (frame, categorical):
        hashes = _row_hash(table, ["a", "b", "c"])
        assert hashes.duplicated().tolist() == [False, False, True, False, True]


@pytest.fixture(scope="module")
def demo_both_ways():
    """The demo derived from its export read in categories, and read as Python strings."""
    in_categories = derive_project(load_project(DEMO))
    original = lqas.readers.read_source

    def as_strings(*args, **kwargs):
        kwargs.pop("categories", None)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lqas.ingest.read_source", as_strings)
        as_text = derive_project(load_project(DEMO))
    return in_categories, as_text


def test_the_demo_derives_the_same_table_from_categories(demo_both_ways):
    in_categories, as_text = demo_both_ways
    pd.testing.assert_frame_equal(in_categories.table, as_text.table)
    pd.testing.assert_frame_equal(in_categories.exclusions, as_text.exclusions)
    pd.testing.assert_frame_equal(in_categories.repairs, as_text.repairs)
    assert in_categories.looks_personal == as_text.looks_personal
    assert in_categories.empty_psus == as_text.empty_psus


def _large_csv(rows: int = 30_000) -> str:
    """More than the head the reader decodes (1 MB): accents, a quoted line feed past the head."""
    lines = ["id,commune,remarque"] + [f'{i},Ségou {i % 7},"ça va, élève {i}"' for i in range(rows)]
    lines[-10] = '29990,Niono,"deux\nlignes"'
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_large_utf8_export_is_read_as_its_whole_text_would_be(tmp_path, bom):
    text = _large_csv()
    path = tmp_path / "export.csv"
    path.write_bytes(bom + text.encode("utf-8"))
    assert path.stat().st_size > 1 << 20
    source = read_source(path)
    expected = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(_as_text(source.frame), _as_text(expected))
    assert source.frame.columns[0] == "id"  # no byte-order mark left in the first name


def test_a_large_export_with_one_stray_byte_past_the_head_is_refused_at_its_line(tmp_path):
    data = bytearray(_large_csv().encode("utf-8"))
    at = data.index(b"Niono")
    data[at + 1] = 0xE9  # a lone Windows-1252 "é" in a UTF-8 file
    path = tmp_path / "export.csv"
    path.write_bytes(bytes(data))
    line = data.count(b"\n", 0, at) + 1
    with pytest.raises(InputError, match=rf"export.csv: line {line}, column \d+: byte 0xE9 is not UTF-8"):
        read_source(path)


def test_a_large_windows_1252_export_is_read_as_windows_1252(tmp_path):
    text = _large_csv()
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    source = read_source(path)
    assert source.frame["commune"].iloc[0] == "Ségou 0" and source.frame["remarque"].iloc[-10] == "deux\nlignes"

"""The child table in compact dtypes (lqas.dtypes.compact): the same values in a fraction of the memory."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lqas
from lqas.dtypes import add_columns, compact, compact_values, plain_text, release_memory, sorted_categorical, text_codes
from lqas.readers import per_value

DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline" / "survey.toml"


def test_compact_keeps_every_value_and_order():
    table = pd.DataFrame({
        "sex": ["F", "M", np.nan, "F", "M", "F"],         # repeated text: categories, sorted as text
        "id": ["a1", "a2", "a3", "a4", "a5", "a6"],        # one value per row: stays text
        "mixed": [1, "1", None, "1", 1, "x"],             # not all text: stays as it is
        "zero_dose": [1.0, 0.0, np.nan, 0.0, 1.0, 0.0],   # 0/1/NaN: 32-bit floats
        "age_days": [200.0, 300.5, 400.0, np.nan, 1.0, 0.0],  # other numbers: untouched
        "n": [1, 2, 3, 4, 5, 6],
    }, index=[5, 3, 9, 1, 0, 2])
    small = compact(table)
    assert list(small.columns) == list(table.columns) and small.index.equals(table.index)
    assert isinstance(small["sex"].dtype, pd.CategoricalDtype) and list(small["sex"].cat.categories) == ["F", "M"]
    # text stays in the dtype it was read in: object under pandas 2, pandas' string dtype under pandas 3
    assert small["id"].dtype == table["id"].dtype and pd.api.types.is_string_dtype(small["id"].dtype)
    assert small["mixed"].dtype == object
    assert small["zero_dose"].dtype == np.float32 and small["age_days"].dtype == np.float64
    assert small["n"].dtype == np.int64
    back = {"sex": table["sex"].dtype, "zero_dose": float}  # the categories back as the text they were read as
    pd.testing.assert_frame_equal(small.astype(back), table)
    pd.testing.assert_frame_equal(table, compact(table.copy()).astype(back))


def test_a_column_left_as_text_is_not_examined_again_unless_its_data_changed(monkeypatch):
    rows = 3000
    table = compact(pd.DataFrame({"id": [f"c{i}" for i in range(rows)], "sex": ["F", "M"] * (rows // 2)}))
    settled = plain_text(table)
    assert list(settled) == ["id"]  # the categorical is not text
    # a stage adds a column, as the stages do (pandas 2's assign would copy every column)
    later = add_columns(table, {"zero_dose": pd.Series(np.tile([0.0, 1.0, np.nan], rows // 3))})
    examined = []
    monkeypatch.setattr("lqas.dtypes.text_codes", lambda values, **_: examined.append(values.name))
    out = compact(later, settled=settled)
    assert examined == [] and out["zero_dose"].dtype == np.float32
    # the same name with other data (a stage made it again, or kept other rows): examined again
    compact(later.assign(id=later["id"].str.upper()), settled=settled)
    compact(later.iloc[1:], settled=settled)
    assert examined == ["id", "id"]


def test_an_identifier_is_found_from_its_first_rows_and_a_missing_text_is_not_a_distinct_one():
    unique = pd.Series([f"c{i}" for i in range(5000)], dtype=object)
    assert text_codes(unique, most=2500) is None
    # 2,500 distinct texts (not more than half the rows): the first 2,501 rows hold them and a missing one
    exactly = pd.Series([None] + [f"c{i}" for i in range(2500)] + ["c1"] * 2499, dtype=object)
    codes, texts = text_codes(exactly, most=2500)
    assert len(texts) == 2500 and texts[0] == "c0" and codes[0] == -1 and codes[1] == 0
    assert text_codes(pd.concat([exactly, pd.Series(["new"])], ignore_index=True), most=2500) is None


def test_compact_tells_apart_texts_pandas_hashes_alike():
    # pandas hashes text as C strings: "\x00a" and "" would be one category (pd.factorize merges them)
    values = pd.Series(["", "\x00a", "b", "", "\x00a", np.nan] * 3, dtype=object)
    small = compact(values.to_frame("x"))["x"]
    assert list(small.cat.categories) == ["", "\x00a", "b"]
    assert small.astype(object).tolist()[:5] == ["", "\x00a", "b", "", "\x00a"] and pd.isna(small.iloc[5])


@pytest.mark.parametrize("size", [1, 126, 127, 128, 32_766, 32_767, 32_768])
def test_a_sorted_categorical_is_the_categorical_pandas_makes_of_its_text(size):
    # its codes are made in the width pandas keeps them in, unchecked: the same categorical as pandas'
    rng = np.random.default_rng(size)
    distinct = np.array([f"t{value:06d}" for value in rng.permutation(size)], dtype=object)
    codes = rng.integers(-1, size, 3 * size + 5)
    made = sorted_categorical(codes, distinct, pd.RangeIndex(len(codes)), "x")
    text = pd.Series(np.append(distinct, None)[codes], dtype=object)
    expected = pd.Series(pd.Categorical(text, categories=pd.Index(sorted(distinct), dtype=object)), name="x")
    pd.testing.assert_series_equal(made, expected, check_exact=True)
    assert made.cat.codes.dtype == expected.cat.codes.dtype


def test_per_value_reads_a_categorical_by_its_categories():
    values = pd.Series(pd.Categorical([" a", "b ", None, " a"]), index=[3, 1, 2, 0], name="x")
    calls = []

    def stripped(part: pd.Series) -> pd.Series:
        calls.append(len(part))
        return part.astype("string").str.strip()

    result = per_value(values, stripped)
    assert calls == [3]  # " a", "b " and the missing cell, once each
    assert result.index.equals(values.index) and result.name == "x"
    assert result.tolist()[:2] == ["a", "b"] and pd.isna(result.iloc[2]) and result.iloc[3] == "a"


def test_the_demo_child_table_is_compact():
    table = lqas.derive_project(lqas.load_project(DEMO)).table
    binary = [c for c in table if table[c].dtype.kind == "f" and table[c].dropna().isin([0, 1]).all()]
    assert len(binary) > 100 and all(table[c].dtype == np.float32 for c in binary)
    for column in ("sex", "cohort", "catchment", "vaccination_status", "penta1_source", "CHI_confb"):
        assert isinstance(table[column].dtype, pd.CategoricalDtype), column
    # about 7.7 kB a child as Python text and 64-bit floats; 2 kB once compact
    assert table.memory_usage(deep=True).sum() / len(table) < 2_500


def test_the_ages_at_each_dose_are_held_in_32_bits_and_written_as_before(tmp_path):
    """The days between two dates are a whole number, which 32 bits hold exactly: the ages at
    each dose (a national survey's 44 columns, 176 MB) are float32, and derived.csv writes them as it
    wrote their 64-bit values."""
    from lqas.safety import write_csv

    table = lqas.derive_project(lqas.load_project(DEMO)).table
    ages = [c for c in table if c.endswith("_age_days") and c != "age_days"]
    assert len(ages) >= 40 and all(table[c].dtype == np.float32 for c in ages)
    assert table[ages].notna().any().all()
    write_csv(table[ages], tmp_path / "32.csv")
    write_csv(table[ages].astype(np.float64), tmp_path / "64.csv")
    written = (tmp_path / "32.csv").read_bytes()
    assert written == (tmp_path / "64.csv").read_bytes()
    assert written == table[ages].astype(np.float64).to_csv(index=False, lineterminator="\r\n").encode()


def test_days_are_held_in_32_bits_only_where_32_bits_and_the_csv_hold_them_as_before():
    whole = pd.Series([0.0, 28.0, np.nan, -3.0, 999_999.0], name="penta1_age_days")
    assert compact_values(whole, days=True).dtype == np.float32
    assert compact_values(whole, days=True).astype(np.float64).equals(whole)
    assert compact_values(whole).dtype == np.float64  # not said to be days: only 0/1 columns are made smaller
    # from a million on, pandas would write a float32 as 1e+06, not as its float64 value 1000000.0
    for inexact in ([1.5, 2.0], [1e6, 1.0], [-1e6, 1.0]):
        assert compact_values(pd.Series(inexact), days=True).dtype == np.float64, inexact


def test_identifiers_are_held_as_the_text_pandas_makes():
    """Texts that do not repeat (identifiers, times) held as Python strings are held as pandas' own text:
    with pandas 3, Arrow's (a national survey's identifiers and times, 8 columns: 293 -> 108 MB); with
    pandas 2, whose text is Python's strings, as they are."""
    ids = pd.Series([f"uuid-{i:04d}" for i in range(10)] + [None], dtype=object, name="_uuid")
    held = compact_values(ids)
    assert held.dtype == pd.Series(["a"]).dtype and held.name == "_uuid"
    assert held.iloc[:10].tolist() == ids.iloc[:10].tolist() and pd.isna(held.iloc[10])
    mixed = pd.Series([f"x{i}" for i in range(9)] + [3], dtype=object)  # not all text: left as it is
    assert compact_values(mixed) is mixed
    if isinstance(held.dtype, pd.StringDtype):
        table = lqas.derive_project(lqas.load_project(DEMO)).table
        assert all(isinstance(table[c].dtype, pd.StringDtype) for c in ("child_id", "household_id", "_uuid"))


def test_a_categorical_child_table_gives_the_sheets_and_report_its_text_columns_gave(tmp_path):
    """Grouping by categories would list every combination of them (observed=False): a catchment area
    without children of one cohort would get a row of zeros in the sample sheet."""
    from dataclasses import replace

    from lqas.context import report_context
    from lqas.report import _plain
    from lqas.workbook import workbook_sheets

    results = lqas.analyse(lqas.load_project(DEMO))
    table = results.table
    first = table["catchment"].iloc[0]
    table = table[~((table["catchment"] == first) & (table["cohort"] == "12-23m"))]
    assert isinstance(table["catchment"].dtype, pd.CategoricalDtype)
    as_text = table.astype({c: object for c in table if isinstance(table[c].dtype, pd.CategoricalDtype)})
    compact_sheets = workbook_sheets(replace(results, derived=replace(results.derived, table=table)), "en")
    text_sheets = workbook_sheets(replace(results, derived=replace(results.derived, table=as_text)), "en")
    for compact_sheet, text_sheet in zip(compact_sheets, text_sheets):
        pd.testing.assert_frame_equal(compact_sheet.frame, text_sheet.frame, check_dtype=False,
                                      check_categorical=False, obj=compact_sheet.name)
    sample = next(sheet.frame for sheet in compact_sheets if "Total" in sheet.frame.columns)
    assert (sample["Total"] > 0).all()
    contexts = []
    for frame in (table, as_text):
        charts = tmp_path / f"charts{len(contexts)}"
        charts.mkdir()
        context = _plain(report_context(replace(results, derived=replace(results.derived, table=frame)), "fr",
                                        charts_dir=charts))
        contexts.append({key: value for key, value in context.items() if key != "charts"})
    assert contexts[0] == contexts[1]


def test_derived_csv_writes_each_date_as_strftime_does(tmp_path):
    from types import SimpleNamespace

    from lqas.derive import write_derived

    table = pd.DataFrame({"dob": pd.to_datetime(["2024-01-02", None, "2024-01-02", "2023-12-31"]),
                          "never": pd.Series([pd.NaT] * 4, dtype="datetime64[ns]"), "n": [1, 2, 3, 4]})
    write_derived(SimpleNamespace(table=table), tmp_path / "derived.csv")
    expected = table.assign(dob=table["dob"].dt.strftime("%Y-%m-%d"), never=table["never"].dt.strftime("%Y-%m-%d"))
    assert (tmp_path / "derived.csv").read_bytes() == expected.to_csv(index=False, lineterminator="\r\n").encode()
    assert table["dob"].dtype.kind == "M"  # the run's own table keeps its dates


def test_derived_csv_is_neutralised_and_its_working_memory_given_back_before_it_is_written(tmp_path, monkeypatch):
    """A national derived.csv is written beside the estimate, the run's peak: the dates' text and the
    neutralised identifiers' working arrays are given back first (the writing's peak at 10^6: +218 ->
    +151 MB over the table); the file is the same, its formula-like text neutralised."""
    from types import SimpleNamespace

    import lqas.derive

    events = []
    write_csv = lqas.derive.write_csv
    monkeypatch.setattr(lqas.derive, "release_memory", lambda: events.append("release"))
    monkeypatch.setattr(lqas.derive, "write_csv", lambda frame, path, **kwargs: (
        events.append(("write", frame["id"].tolist(), kwargs["neutralise"])), write_csv(frame, path, **kwargs))[1])
    table = pd.DataFrame({"id": ["=1+1", "c2", "-3"], "dob": pd.to_datetime(["2024-01-02", None, "2023-12-31"])})
    lqas.derive.write_derived(SimpleNamespace(table=table), tmp_path / "derived.csv")
    assert events == ["release", ("write", ["'=1+1", "c2", "'-3"], False)]
    assert (tmp_path / "derived.csv").read_bytes() == b"id,dob\r\n'=1+1,2024-01-02\r\nc2,\r\n'-3,2023-12-31\r\n"
    assert table["id"].tolist() == ["=1+1", "c2", "-3"]  # the run's own table untouched


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_release_memory_gives_freed_memory_back_to_the_system():
    def resident_mb() -> float:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))

    release_memory()
    # a stage's working columns, arrays below glibc's mmap threshold, half of them freed: holes the C
    # library keeps for reuse (what it frees at the top of its heap it gives back by itself)
    held = [np.ones(4_000) for _ in range(30_000)]  # about 900 MB
    del held[::2]
    kept = resident_mb()
    release_memory()
    assert resident_mb() < kept - 300
    assert len(held) == 15_000  # the other half still in use

"""Outputs of a national survey: the CSV tables written column by column yet byte for byte as pandas
writes them, the tables as Parquet for programs, and the workbook's rows written as openpyxl writes them."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lqas
from lqas import workbook
from lqas.outputs import DEFAULT_FORMATS, FORMATS, TABLES, write_outputs, write_parquet
from lqas.safety import neutralise_csv, neutralise_text, write_csv
from lqas.workbook import Sheet, write_workbook

DEMO = Path(__file__).resolve().parents[1] / "examples" / "mali_baseline" / "survey.toml"
TEXTS = ["", "a", "=x", "-2", "+1", "@s", "\tt", "\rc", "a,b", 'q"q', "l\nf", "b\r\n", "é ü 😀", "'=y", " sp",
         "\x00nul", "<a>&amp;", "x" * 40_000]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    results = lqas.analyse(lqas.load_project(DEMO))
    out = tmp_path_factory.mktemp("run")
    paths, failures = write_outputs(results, out, "en", formats=["csv", "parquet"])
    assert failures == []
    return results, out, paths


def _tricky(n: int, seed: int = 1) -> pd.DataFrame:
    """Every kind of column a run writes, with the values whose formatting is easy to get wrong."""
    rng = np.random.default_rng(seed)
    floats = np.concatenate([rng.random(n // 3), 10 ** rng.uniform(-12, 22, n // 3) * rng.choice([-1, 1], n // 3),
                             rng.choice([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-4, 1e9, 1.0, 0.1, 5e-324, 1e16],
                                        n - 2 * (n // 3))])
    text = rng.choice(np.array(TEXTS, dtype=object), n)
    text[rng.random(n) < 0.2] = None
    mixed = rng.choice(np.array([1, 1.0, True, "1", None, np.nan, 2.5, np.int64(7), "=z", pd.NA], dtype=object), n)
    return pd.DataFrame({
        "float": floats, "few": rng.choice([0.0, -0.0, 1.0, 0.5, np.nan, np.inf, 1e-5, 1e16], n),  # formatted once each
        "int": rng.integers(-10**12, 10**12, n), "flag": rng.random(n) < 0.5, "text": text,
        "string": pd.array(rng.choice(TEXTS, n), dtype="string"), "category": pd.Categorical(rng.choice(TEXTS[:8], n)),
        "=mixed,name": mixed, "Int64": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 9, n)), dtype="Int64"),
        "boolean": pd.array(np.where(rng.random(n) < 0.3, None, rng.random(n) < 0.5), dtype="boolean"),
        "missing": pd.Series([np.nan] * n, dtype=object),
        # a compact child table's 0/1 indicators (lqas.dtypes.compact)
        "float32": rng.choice(np.array([0.0, 1.0, np.nan, -0.0, -3.0, 999_999.0], dtype=np.float32), n),
        # 0/1 indicators, coded by arithmetic (a -0.0 among them, written "-0.0", sends its chunk to hashing)
        "zero_one": rng.choice([0.0, 1.0, np.nan], n), "zero_one_negative": rng.choice([0.0, 1.0, np.nan, -0.0], n)})


def _pandas_csv(frame: pd.DataFrame, neutralise: bool) -> bytes:
    """The CSV as it was written before it was written column by column: each text cell
    neutralised in turn, then ``DataFrame.to_csv``."""
    frame = frame.copy()
    if neutralise:
        for column in frame.columns:
            dtype = frame[column].dtype
            if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype) \
                    or isinstance(dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(object).map(neutralise_text)
        frame.columns = [neutralise_text(column) for column in frame.columns]
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, 1, 50, 3_000])
@pytest.mark.parametrize("neutralise", [True, False])
def test_write_csv_writes_the_bytes_pandas_writes(tmp_path, rows, neutralise):
    frame = _tricky(rows)
    write_csv(frame, tmp_path / "t.csv", neutralise=neutralise)
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, neutralise)
    for column in frame.columns:  # a row of one empty field is quoted ("") so that it is a row
        write_csv(frame[[column]], tmp_path / "c.csv", neutralise=neutralise)
        assert (tmp_path / "c.csv").read_bytes() == _pandas_csv(frame[[column]], neutralise), column


def test_write_csv_in_chunks_writes_the_same_bytes(tmp_path, monkeypatch):
    from lqas import safety

    frame = _tricky(1_000)
    monkeypatch.setattr(safety, "_CSV_CHUNK_CELLS", 70)  # 7 rows at a time
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, True)


def test_a_narrow_tables_chunks_are_cut_by_rows_too(tmp_path, monkeypatch):
    """A chunk holds at most _CSV_CHUNK_ROWS rows however few its columns: 4 million cells of a national
    estimates.csv (22 columns) were 180,000 rows of text at once, beside the workbook, the run's peak
    (10^6: the workbook's stage 3,898 -> 3,765 MB with 65,536 rows); a wide table's stay cut by cells."""
    from lqas import safety

    frame = _tricky(1_000)[["text", "float"]]
    chunks, joined_runs = [], safety._joined_runs
    monkeypatch.setattr(safety, "_joined_runs", lambda fields: (chunks.append(len(fields[0])), joined_runs(fields))[1])
    monkeypatch.setattr(safety, "_CSV_CHUNK_ROWS", 300)
    write_csv(frame, tmp_path / "t.csv")
    assert chunks == [300, 300, 300, 100]
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, True)
    chunks.clear()
    monkeypatch.setattr(safety, "_CSV_CHUNK_CELLS", 2 * 250)  # fewer rows by cells than by the rows' cap
    write_csv(frame, tmp_path / "t.csv")
    assert chunks == [250] * 4


def test_floats_that_repeat_across_the_table_are_each_formatted_once(tmp_path, monkeypatch):
    # an estimates.csv: its intervals repeat across domains, seldom within a chunk of rows
    from lqas import safety

    rng = np.random.default_rng(3)
    distinct = np.concatenate([rng.random(297), [0.0, -0.0, np.nan]])
    frame = pd.DataFrame({"estimate": np.tile(distinct, 12), "n": np.arange(3_600) % 40,
                          "zero_one": rng.choice([0.0, 1.0, np.nan], 3_600), "unique": rng.random(3_600),
                          "text": rng.choice(np.array(TEXTS[:6], dtype=object), 3_600)})
    safety._arrow_writes_floats_as_numpy()  # (its check of Arrow's formatting, once a process, formats a few)
    formatted, float_fields = [], safety._float_fields
    monkeypatch.setattr(safety, "_float_fields", lambda numbers: (formatted.append(len(numbers)), float_fields(numbers))[1])
    monkeypatch.setattr(safety, "_CSV_CHUNK_CELLS", 5 * 700)  # 700 rows a chunk, each number once in it
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, True)
    # 300 numbers of "estimate" once; "unique" chunk by chunk; 0/1 by arithmetic (a few fields, cached)
    assert sum(formatted) <= 300 + 3_600 + 3

    monkeypatch.setattr(safety, "_WHOLE_CODED_CELLS", 3_600)  # a national table's: chunk by chunk, as before
    formatted.clear()
    write_csv(frame, tmp_path / "national.csv")
    assert (tmp_path / "national.csv").read_bytes() == (tmp_path / "t.csv").read_bytes()
    assert sum(formatted) >= 2 * 3_500  # (the last chunk of 100 rows: its numbers formatted as few ones)


@pytest.mark.parametrize("combinations", [1, 10, 1 << 16])
def test_columns_of_few_values_joined_side_by_side_write_the_same_bytes(tmp_path, monkeypatch, combinations):
    # a child table: hundreds of columns of a few values each, joined by runs of columns over the distinct
    # combinations of their values (safety._joined_runs); text in pandas' default dtype (Arrow's, in chunks,
    # with pandas 3) beside object text, categories and floats
    from lqas import safety

    monkeypatch.setattr(safety, "_RUN_COMBINATIONS", combinations)
    rng = np.random.default_rng(7)
    n = 3_000
    columns = {f"i{k}": rng.choice(np.array([0.0, 1.0, np.nan], dtype=np.float32), n) for k in range(30)}
    columns["area"] = pd.Categorical(rng.choice(TEXTS[:9], n))
    columns["chunked"] = pd.concat([pd.Series(rng.choice(TEXTS[:6], n // 2)), pd.Series(rng.choice(TEXTS[4:9], n - n // 2))],
                                   ignore_index=True)
    columns["date"] = pd.Series(rng.choice(np.array(["2024-01-02", "2024-02-29", None], dtype=object), n), dtype=object)
    columns.update({f"j{k}": rng.choice([0.0, 1.0, 2.5], n) for k in range(12)})
    columns["id"] = [f"c{k}" for k in range(n)]  # each row its own: not joined by combinations
    frame = pd.DataFrame(columns)
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, True)


def test_float32_numbers_pandas_writes_otherwise_are_left_to_pandas(tmp_path):
    # pandas writes a float32 as numpy's float32 text: 1e+06 and 0.1 where their float64 values read
    # 1000000.0 and 0.10000000149011612; only whole numbers below a million are written as float64
    for values in ([1.0, 1e6], [0.1, 1.0], [np.inf, 0.0]):
        frame = pd.DataFrame({"x": np.array(values, dtype=np.float32)})
        write_csv(frame, tmp_path / "t.csv")
        assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame, True), values


def test_a_categorical_column_is_neutralised_by_its_categories_and_so_are_column_names(tmp_path):
    frame = pd.DataFrame({"=sum": pd.Categorical(["=x", "y", "=x", None, "-1"]),
                          "+plus": pd.Categorical(["=a", "'=a", "=a", "b", None]),  # "=a" becomes "'=a", also a category
                          "@at": [1, 2, 3, 4, 5]})
    before = frame.copy()
    safe = neutralise_csv(frame)
    assert list(safe.columns) == ["'=sum", "'+plus", "'@at"]
    assert safe["'=sum"].tolist()[:3] == ["'=x", "y", "'=x"] and safe["'=sum"].tolist()[4] == "'-1"
    assert pd.isna(safe["'=sum"].tolist()[3])
    assert safe["'+plus"].tolist()[:4] == ["'=a", "'=a", "'=a", "b"]
    pd.testing.assert_frame_equal(frame, before)  # the run's own table is left as it was
    write_csv(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_bytes().decode("utf-8").split("\r\n")
    assert lines[:3] == ["'=sum,'+plus,'@at", "'=x,'=a,1", "y,'=a,2"]
    assert lines[4:6] == [",b,4", "'-1,,5"]


def test_numbers_and_missing_values_are_never_neutralised():
    # "t" as Python strings, "s" in pandas' default text dtype (str under pandas 3: its None is NaN)
    frame = pd.DataFrame({"n": [-2.5, np.nan], "o": pd.Series([-2, None], dtype=object),
                          "t": pd.Series(["-2", None], dtype=object), "s": ["-2", None]})
    safe = neutralise_csv(frame)
    assert safe["n"].tolist()[0] == -2.5 and safe["o"].tolist()[0] == -2 and safe["t"].tolist()[0] == "'-2"
    assert safe["s"].tolist()[0] == "'-2"
    assert safe["o"].tolist()[1] is None and safe["t"].tolist()[1] is None
    assert not isinstance(safe["s"].tolist()[1], str) and pd.isna(safe["s"].tolist()[1])


# --- Parquet -----------------------------------------------------------------------------------------


def test_parquet_is_a_format_asked_for_not_a_default():
    assert "parquet" in FORMATS and "parquet" not in DEFAULT_FORMATS
    assert inspect.signature(write_outputs).parameters["formats"].default == DEFAULT_FORMATS


def test_the_parquet_tables_hold_the_rows_of_the_csv_tables(demo_run):
    results, out, paths = demo_run
    written = [name for name in TABLES if (out / name).exists()]
    assert "estimates.csv" in written and "derived.csv" in written
    for name in written:
        parquet = out / name.replace(".csv", ".parquet")
        assert parquet.name in paths
        table, text = pd.read_parquet(parquet), pd.read_csv(out / name, keep_default_na=False, low_memory=False)
        assert table.shape == text.shape, name
        assert [neutralise_text(c) for c in table.columns] == list(text.columns), name
    estimates = pd.read_parquet(out / "estimates.parquet")
    # pandas 3 reads floats to the round trip by itself (and deprecates asking); pandas 2 when asked
    precision = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    text = pd.read_csv(out / "estimates.csv", **precision)
    pd.testing.assert_frame_equal(estimates, results.estimates.reset_index(drop=True))
    for column in ("n", "estimate", "ci_low", "ci_high"):  # the CSV's digits are the same doubles
        assert np.array_equal(estimates[column].to_numpy(), text[column].to_numpy(), equal_nan=True), column
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["formats"] == ["csv", "parquet"]
    assert {name.replace(".csv", ".parquet") for name in written} <= set(manifest["outputs"])


def test_parquet_keeps_text_as_it_is_and_the_same_table_gives_the_same_bytes(tmp_path):
    frame = pd.DataFrame({"=text": ["=HYPERLINK(\"x\")", "-2", None], "number": [1.5, np.nan, -2.0],
                          "mixed": pd.Series(["a", 1, None], dtype=object), "when": pd.to_datetime(["2024-01-02", None, "2024-03-04"])})
    write_parquet(frame, tmp_path / "a.parquet")
    write_parquet(frame, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back["=text"].tolist()[:2] == ["=HYPERLINK(\"x\")", "-2"]  # for programs: not neutralised
    assert back["mixed"].tolist()[:2] == ["a", "1"] and back["mixed"].isna().tolist()[2]
    assert back["when"].tolist()[0] == pd.Timestamp("2024-01-02")


# --- workbook ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [400, 3_000])  # 3,000: columns of repeated numbers written once per number
def test_the_workbook_rows_are_the_bytes_openpyxl_writes_cell_by_cell(tmp_path, monkeypatch, rows):
    frame = _tricky(rows).drop(columns=["string"])
    frame["share"] = np.where(np.arange(rows) % 7 == 0, np.nan, np.linspace(0, 1, rows))
    frame["float32"] = np.linspace(0, 1, rows, dtype=np.float32)
    frame["repeated32"] = np.resize(np.array([0.0, -0.0, 1.0, np.nan, 0.1], dtype=np.float32), rows)
    frame["small"] = np.resize(np.array([3, -2, 0, 7], dtype=np.int16), rows)
    sheets = [Sheet("one", frame, percent=["share", "text"], note="=SUM(A1:A9) is a note"),
              Sheet("empty", frame.iloc[:0], percent=["share"]), Sheet("two", frame.head(3), widths={"text": 70})]
    write_workbook(tmp_path / "fast.xlsx", sheets)
    monkeypatch.setattr(workbook, "_SHEET_ROWS_AT_A_TIME", 7)  # the rows' XML made in pieces
    write_workbook(tmp_path / "pieces.xlsx", sheets)

    monkeypatch.setattr(workbook, "_plain", lambda frame: False)  # every sheet written by openpyxl, cell by cell
    write_workbook(tmp_path / "openpyxl.xlsx", sheets)
    assert (tmp_path / "fast.xlsx").read_bytes() == (tmp_path / "openpyxl.xlsx").read_bytes()
    assert (tmp_path / "pieces.xlsx").read_bytes() == (tmp_path / "openpyxl.xlsx").read_bytes()


@pytest.mark.parametrize("plain", [True, False])  # rows written here, or every sheet by openpyxl
def test_every_member_of_the_workbook_is_deflated_at_zlibs_fastest_level(tmp_path, monkeypatch, plain):
    import zipfile
    import zlib

    frame = pd.DataFrame({"estimate": np.linspace(0, 1, 2_000), "name": [f"area {k % 37}" for k in range(2_000)]})
    if not plain:
        monkeypatch.setattr(workbook, "_plain", lambda frame: False)
    write_workbook(tmp_path / "x.xlsx", [Sheet("one", frame, percent=["estimate"])])
    assert workbook.DEFLATE_LEVEL == 1
    with zipfile.ZipFile(tmp_path / "x.xlsx") as archive, open(tmp_path / "x.xlsx", "rb") as raw:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
            deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
            expected = deflate.compress(archive.read(info)) + deflate.flush()
            raw.seek(info.header_offset + 26)  # the local header: its name's and extra field's lengths, then the data
            skip = int.from_bytes(raw.read(2), "little") + int.from_bytes(raw.read(2), "little")
            raw.seek(skip, 1)
            assert raw.read(info.compress_size) == expected, info.filename


def test_a_sheet_with_dates_is_written_by_openpyxl(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-02", None]), "share": [0.25, 0.5]})
    write_workbook(tmp_path / "x.xlsx", [Sheet("dates", frame, percent=["share"])])
    sheet = load_workbook(tmp_path / "x.xlsx")["dates"]
    assert sheet["A2"].value == pd.Timestamp("2024-01-02").to_pydatetime() and sheet["A3"].value is None
    assert (sheet["B2"].value, sheet["B2"].number_format) == (0.25, "0.0%")

"""The fast paths of ingest and derive give what the plain pandas/csv code gave, cell for cell.

A national survey (10^6 children) made ingest count fields with numpy instead of the csv module,
run text methods once per distinct value instead of once per cell, and hash rows from integer
codes instead of from their text; each is checked here against the way it replaced.
"""

from __future__ import annotations

import csv
import io
import random

import numpy as np
import pandas as pd
import pytest

from lqas import readers
from lqas.ingest import _row_hash
from lqas.readers import key_text, parse_dates, per_value, read_source

TRICKY = [
    'a,b,c\n1,,\n\n   \n1\n"x\ny",2,3\n,,\n4,5\n',
    'a,b\r\n1,2\r\n\r\n3\r\n',
    'a,b\n"1","2"\n"x""y",z\n',
    'a,b\n1,"2\n',            # a quote left open: the csv module says
    'a,b\n1,"a"b\n',          # text after a closing quote: the csv module says
    'a,b\n1,a"b"\n',          # a quote inside an unquoted field: the csv module says
    'a;b\n"1;2";3\n',
    'a,b\n"",""\n""\n',
    '"a\r\nb",c\n1,2\n',
    'a,b\n"x\r",y\n',
    'a,b\n1,2',
    'a,b\n1,2\r',
    '\n\na,b\n1,2\n\n',
    'é,b\n"ü,1",2\n3\n',
]


def _csv_widths(text: str, sep: str) -> list[int]:
    return [len(record) for record in csv.reader(io.StringIO(text), delimiter=sep) if record]


@pytest.mark.parametrize("chunk", [3, 7, 1 << 24])
def test_record_widths_are_the_csv_modules(monkeypatch, chunk):
    monkeypatch.setattr(readers, "_CHUNK", chunk)  # small chunks: records and quotes across their edges
    rng = random.Random(chunk)
    pieces = ["a", "1", ",", ";", '"', '"', "\n", "\n", "\r\n", " ", "é", '""']
    texts = TRICKY + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    for text in texts:
        for sep in ",;":
            try:
                expected = _csv_widths(text, sep)
            except csv.Error:
                continue
            assert readers._record_widths(text.encode(), sep).tolist() == expected, (text, sep)


def test_short_rows_found_in_a_quoted_export(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('"id";"note";"age"\r\n"1";"two\r\nlines";"3"\r\n"2";"NA"\r\n"3";"";"5"\r\n', encoding="utf-8")
    source = read_source(path)
    assert source.short_rows.isna().tolist() == [True, False, True]
    assert source.short_rows.iloc[1] == "2 of 3 fields"
    assert source.frame["note"].tolist()[0] == "two\r\nlines"
    assert source.frame["note"].isna().tolist() == [False, True, True]  # "NA" and "" are missing


def test_per_value_equals_the_cell_by_cell_result():
    rng = random.Random(1)
    cells = ["1", "1.0", " 2 ", "x", "2024-03-05", "05/03/2024", "45000", "", None, np.nan, "-3.00", "31/02/2024"]
    values = pd.Series([rng.choice(cells) for _ in range(500)], dtype=object, name="q")
    direct = readers._key_text(values)
    pd.testing.assert_series_equal(key_text(values), direct)
    fast_dates, fast_bad = parse_dates(values)
    slow_dates, slow_bad = readers._parse_dates(values)
    pd.testing.assert_series_equal(fast_dates, slow_dates)
    pd.testing.assert_series_equal(fast_bad, slow_bad)
    # not text only (1 and 1.0 are one value to a hash): computed cell by cell
    mixed = pd.Series([1, 1.0, True, "1"] * 30, dtype=object)
    pd.testing.assert_series_equal(per_value(mixed, lambda v: v.astype(str)), mixed.astype(str))


def test_row_hash_groups_rows_by_their_text():
    frame = pd.DataFrame({
        "number": [0.0, -0.0, 0.0, np.nan, np.nan, 1.0] * 20,
        "mixed": pd.Series([1, 1.0, 1, "1", None, np.nan] * 20, dtype=object),
        "text": pd.Series(["a", "a", "a", "\x00", None, "b"] * 20, dtype=object),
        "day": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", None, None, "2024-01-02"] * 20),
    })
    columns = list(frame.columns)
    by_text = pd.util.hash_pandas_object(frame[columns].astype("string").fillna("\x00"), index=False)
    assert (pd.factorize(_row_hash(frame, columns))[0] == pd.factorize(by_text)[0]).all()

"""The Results object for notebook users (issue 21, item 5): a readable repr and HTML view, its tables,
and the run's CSVs and workbook written from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def results():
    from lqas.config import load_project
    from lqas.run import analyse

    return analyse(load_project(ROOT / "examples" / "mali_baseline" / "survey.toml"))


def test_the_repr_says_what_the_run_holds(results):
    text = repr(results)
    assert text.startswith("Results(survey='Mali Learning Hub baseline — synthetic example', children=")
    assert f"children={len(results.table)}" in text and "rounds=" not in text  # no [rounds] in the baseline
    page = results._repr_html_()
    assert page.startswith("<table>") and f"<td>{len(results.table)}</td>" in page


def test_to_csv_writes_the_tables_the_run_writes(results, tmp_path):
    written = results.to_csv(tmp_path / "csv")
    names = {path.name for path in written}
    assert {"estimates.csv", "classification.csv", "derived.csv", "quality.csv"} <= names
    # the same bytes as lqas run writes
    run = tmp_path / "run"
    from lqas.outputs import write_outputs
    write_outputs(results, run, "en", formats=("csv",))
    for name in ("derived.csv", "estimates.csv", "quality.csv"):
        assert (tmp_path / "csv" / name).read_bytes() == (run / name).read_bytes(), name
    estimates = pd.read_csv(tmp_path / "csv" / "estimates.csv", keep_default_na=False)
    assert len(estimates) == len(results.estimates) and list(estimates.columns) == list(results.estimates.columns)


def test_to_excel_writes_the_runs_workbook_in_the_language(results, tmp_path):
    path = results.to_excel(tmp_path / "results.xlsx", lang="en")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames[:3] == ["Read me", "Estimates", "LQAS classification"]
    assert results.to_excel(tmp_path / "fr.xlsx") and load_workbook(tmp_path / "fr.xlsx").sheetnames[0] == "Lisez-moi"

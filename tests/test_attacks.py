"""A standing attack suite (issue 13 item 8): small hostile or broken projects, each built at test time from a
copy of the synthetic demo, run through both `lqas validate` and `lqas run`.

The contract under attack: a project is either accepted by both commands (exit 0) or refused by both with the
same single line on stderr, ``lqas: error: ...``, exit 2, no traceback, naming the file and, where it applies,
the spreadsheet row (1-based, header = row 1), the column or the key. Accept cases are few because a full run
renders a PDF (~25 s); reject cases fail before the analysis.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from test_safety import LINK_LABEL, _hostile_project, _is_number

DEMO = REPO / "examples" / "mali_baseline"
PROFILE = REPO / "instruments" / "profiles" / "kobo.toml"
EXPORT = "data/mali_baseline_kobo.csv"
POPULATIONS = "data/populations.csv"
# spreadsheet cells starting with one of these are formulas (CSV injection), unless the cell is a number
FORMULA_STARTS = ("=", "+", "-", "@")
CLASSES = ["profile", "survey", "reading", "output", "config", "injection", "degenerate", "personal", "run-folder"]


@dataclass(frozen=True)
class Case:
    """``mutate(project)`` breaks a fresh copy of the demo; it may return values the regex is formatted with
    (a position that depends on the data). ``run_only``: the attack is on --out, which validate does not take."""

    name: str
    cls: str
    mutate: Callable[[Path], dict | None]
    expect_regex: str | None = None
    accept_check: Callable[[Path, Path], None] | None = None  # (project folder, run folder)
    run_only: bool = False
    out: str = "run"  # the --out folder, relative to the project folder


# --- building a broken project ---------------------------------------------------------------------


def _project(folder: Path) -> Path:
    """A copy of the demo whose profile is a file next to survey.toml, so a case may break it."""
    # the XLSX export and the generator are large and unused by the project
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns("*.xlsx", "generate.py", "README.md"))
    shutil.copy(PROFILE, folder / "kobo.toml")
    _replace(folder / "survey.toml", 'profile = "kobo"', 'profile = "kobo.toml"')
    return folder


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    # the demo changed if this fails: update the case, or it would attack nothing
    assert text.count(old) >= count, f"{path.name} no longer contains {old!r} {count} times"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _replace_in_csv(project: Path, old: str, new: str, count: int = 1, file: str = EXPORT) -> None:
    _replace(project / file, old, new, count)


def _edit_rows(project: Path, edit: Callable[[list[str], list[list[str]]], None], file: str = EXPORT) -> None:
    """Edit the export as a list of rows (header apart): fields may hold quoted line breaks."""
    with (project / file).open(encoding="utf-8", newline="") as handle:
        head, *rows = list(csv.reader(handle))
    edit(head, rows)
    with (project / file).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([head, *rows])


def _plant_byte(project: Path, byte: bytes) -> dict:
    """Replace one 'é' past the middle of the export with ``byte``; its position as an editor shows it."""
    data = (project / EXPORT).read_bytes()
    accent = "é".encode()
    at = data.index(accent, len(data) // 2)
    # on a line whose text before the byte is ASCII, the column is the same in characters and in bytes
    while not data[data.rfind(b"\n", 0, at) + 1:at].isascii():
        at = data.index(accent, at + 1)
    (project / EXPORT).write_bytes(data[:at] + byte + data[at + len(accent):])
    return {"line": data.count(b"\n", 0, at) + 1, "column": at - data.rfind(b"\n", 0, at)}


def _profile(old: str, new: str) -> Callable[[Path], None]:
    return lambda project: _replace(project / "kobo.toml", old, new)


def _survey(old: str, new: str) -> Callable[[Path], None]:
    return lambda project: _replace(project / "survey.toml", old, new)


def _population_twice(project: Path) -> dict:
    text = (project / POPULATIONS).read_text(encoding="utf-8")
    (project / POPULATIONS).write_text(text.rstrip("\n") + "\nkologo,12-23m,100\n", encoding="utf-8")
    return {"row": len(text.splitlines()) + 1}


def _invalid_toml(project: Path) -> dict:
    text = (project / "survey.toml").read_text(encoding="utf-8")
    _replace(project / "survey.toml", 'ci = "wilson"', 'ci = "wilson')  # an unclosed string
    return {"line": text[:text.index('ci = "wilson"')].count("\n") + 1}


def _weight_column_with_a_word(project: Path) -> dict:
    def edit(head, rows):
        head.append("hh/weight")
        for row in rows:
            row.append("2.5")
        rows[6][-1] = "deux"

    _edit_rows(project, edit)
    _replace(project / "kobo.toml", 'area = "hh/area"', 'area = "hh/area"\nweight = "hh/weight"')
    _replace(project / "survey.toml", 'weights = "population"', 'weights = "column"\nweight_column = "weight"')
    return {"row": 6 + 2}  # the header is row 1


def _write(file: str, text: str) -> Callable[[Path], None]:
    def write(project: Path) -> None:
        (project / file).write_text(text, encoding="utf-8")

    return write


# --- accepted projects and what their run folder must show ---------------------------------------


def _cut_the_last_row(project: Path) -> None:
    data = (project / EXPORT).read_bytes().rstrip(b"\r\n")
    start = data.rfind(b"\n") + 1
    # half-way through its fields: a transfer cut short, not a line that ends early by design
    cut = data.index(b",", start + (len(data) - start) // 2)
    (project / EXPORT).write_bytes(data[:cut])


def _check_truncated_row(project: Path, run: Path) -> None:
    with (DEMO / EXPORT).open(encoding="utf-8", newline="") as handle:
        data_rows = len(list(csv.reader(handle))) - 1
    with (run / "exclusions.csv").open(encoding="utf-8", newline="") as handle:
        exclusions = list(csv.DictReader(handle))
    truncated = [row for row in exclusions if row["reason"] == "truncated_row"]
    assert [row["source_row"] for row in truncated] == [str(data_rows + 1)], truncated  # the last spreadsheet row
    rows = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["rows"]
    assert rows["read"] == data_rows == rows["kept"] + rows["excluded"] == rows["kept"] + len(exclusions), rows
    with (run / "derived.csv").open(encoding="utf-8", newline="") as handle:
        assert str(data_rows + 1) not in {row["source_row"] for row in csv.DictReader(handle)}


CLUSTER_FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)"]


def _formulas_everywhere(project: Path) -> None:
    # test_safety's hostile demo: catchment '-kologo' labelled =HYPERLINK(...), formulas as remarks and dates
    shutil.rmtree(project / "data")
    _hostile_project(project)

    def edit(head, rows):
        cluster, name, remark = (head.index(c) for c in ("hh/cluster", "hh/cluster_name", "interviewer_remarks"))
        clusters = sorted({row[cluster] for row in rows})[:len(CLUSTER_FORMULAS)]
        for row in rows:
            if row[cluster] in clusters:
                row[name] = CLUSTER_FORMULAS[clusters.index(row[cluster])]
        for k, value in enumerate(["-1", "@SUM(1)"]):
            rows[40 + k][remark] = value

    _edit_rows(project, edit)


def _check_no_formula(project: Path, run: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(run / "results.xlsx")
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert any(cell.value == LINK_LABEL for cell in cells)  # the planted label reached the workbook, as text
    live = {}
    for path in sorted(run.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            fields = [field for row in csv.reader(handle) for field in row]
        live[path.name] = [f for f in fields if f.startswith(FORMULA_STARTS) and not _is_number(f)][:5]
        if path.name == "derived.csv":
            assert {"'" + value for value in CLUSTER_FORMULAS if value != "+1"} <= set(fields)  # planted, shown
    assert not any(live.values()), live


def _one_cluster_in_kologo(project: Path) -> None:
    def edit(head, rows):
        catchment, cluster, name = (head.index(c) for c in ("hh/catchment", "hh/cluster", "hh/cluster_name"))
        for row in rows:
            if row[catchment] == "kologo":
                row[cluster], row[name] = "KOL-01", "Kologo $x^2$"
        # and a lot of one child: a single PSU, and no second child to estimate a variance from
        ndebougou = [k for k, row in enumerate(rows) if row[catchment] == "ndebougou"]
        for k in reversed(ndebougou[1:]):
            del rows[k]

    _edit_rows(project, edit)
    _replace(project / "survey.toml", 'singleton = "adjust"\n', "")  # the default rule
    _replace(project / "survey.toml", 'kologo = "Kologo"', 'kologo = "Kologo $x^2$"')


def _windows_in_months(project: Path) -> None:
    # a plausible slip: every child is then outside every cohort, and no child is left to analyse
    _replace(project / "survey.toml", '"18w-11m" = [126, 364]\n"12-23m" = [365, 729]',
             '"18w-11m" = [4, 11]\n"12-23m" = [12, 23]')
    # without it the introduced doses, finding no child, would refuse the project first
    _replace(project / "survey.toml", 'malaria = { district = ["bougouni", "segou"] }', "")


def _check_single_cluster_lot(project: Path, run: Path) -> None:
    with (run / "classification.csv").open(encoding="utf-8", newline="") as handle:
        lots = [row for row in csv.DictReader(handle) if row["catchment"] in {"kologo", "ndebougou"}]
    assert {row["catchment"] for row in lots} == {"kologo", "ndebougou"}, lots
    assert all(row["class"] in {"pass", "fail"} for row in lots if row["catchment"] == "kologo"), lots
    with (run / "estimates.csv").open(encoding="utf-8", newline="") as handle:
        kologo = [row for row in csv.DictReader(handle) if row["catchment"] == "kologo"]
    assert kologo and all(_is_number(row["estimate"]) for row in kologo)
    svg = (run / "charts" / "zero_dose_ui_by_catchment.svg").read_text(encoding="utf-8")
    assert "Kologo $x^2$" in svg  # drawn literally, not as mathtext


# --- the table -------------------------------------------------------------------------------------

CASES = [
    # 1. profile typos: named with the key and a suggestion
    Case("profile-section-crad", "profile", _profile("[card]", "[crad]"),
         r"kobo\.toml: key 'crad': unknown section; did you mean 'card'\?"),
    Case("profile-key-requird", "profile", _profile("\nrequired = [", "\nrequird = ["),
         r"kobo\.toml: key 'profile\.requird': unknown key; did you mean 'required'\?"),
    Case("profile-section-cods", "profile", _profile("[codes]", "[cods]"),
         r"kobo\.toml: key 'cods': unknown section; did you mean 'codes'\?"),
    Case("profile-unknown-canonical-column", "profile",
         _profile('cluster_name = "hh/cluster_name"', 'cluster_nme = "hh/cluster_name"'),
         r"kobo\.toml: key 'columns\.cluster_nme': unknown canonical column; did you mean 'cluster_name'\?"),
    # 2. settings that are plausible but wrong
    Case("introduced-matches-nothing", "survey", _survey('"bougouni", "segou"', '"bougouni", "segu"'),
         r"survey\.toml.*vaccination\.introduced\.malaria.*'segu'.*'bougouni', 'niono', 'segou'"),
    Case("cohorts-overlap", "survey", _survey('"12-23m" = [365, 729]', '"12-23m" = [300, 729]'),
         r"survey\.toml: key 'cohorts': cohorts '18w-11m' and '12-23m' overlap"),
    Case("target-unknown-indicator", "survey", _survey('"penta3_crude"', '"penta3_crud"'),
         r"survey\.toml: key 'lqas\.targets\[3\]': indicator 'penta3_crud' .*did you mean 'penta3_crude'\?"),
    # a target on a cohort the survey does not define would classify no lot at all
    Case("target-unknown-cohort", "survey", _survey('cohorts = ["12-23m"]', 'cohorts = ["12-24m"]'),
         r"survey\.toml: key 'lqas\.targets\[4\]\.cohorts'.*'12-24m'"),
    Case("target-good-below-bad", "survey", _survey('"penta3_crude", good = 0.80, bad = 0.65',
                                                    '"penta3_crude", good = 0.65, bad = 0.80'),
         r"survey\.toml: key 'lqas\.targets\[3\]'.*penta3_crude.*good"),
    Case("strata-column-typo", "survey", _survey('strata = "catchment"', 'strata = "catchement"'),
         r"survey\.toml: key 'design\.strata'.*'catchement'.*did you mean 'catchment'\?"),
    Case("lot-column-typo", "survey", _survey('lot = ["catchment", "cohort"]', 'lot = ["catchmnt", "cohort"]'),
         r"survey\.toml: key 'lqas\.lot'.*'catchmnt'.*did you mean 'catchment'\?"),
    # 3. reading the export
    Case("invalid-utf8-byte", "reading", lambda project: _plant_byte(project, b"\xe9"),
         r"mali_baseline_kobo\.csv: line {line}, column {column}: byte 0xE9 is not UTF-8"),
    Case("nul-byte", "reading", lambda project: _plant_byte(project, b"\x00"),
         r"mali_baseline_kobo\.csv: line {line}, column {column}: a NUL byte"),
    Case("column-named-twice", "reading", lambda project: _replace_in_csv(project, "hh/area,", "hh/district,"),
         r"mali_baseline_kobo\.csv: column 'hh/district' appears twice in the header \(columns 6 and 11\)"),
    Case("required-column-missing", "reading",
         lambda project: _replace_in_csv(project, "child/sex,", "child/gender,"),
         r"mali_baseline_kobo\.csv: required column missing: sex \(column 'child/sex'\); "
         r"this profile reads the lqas Mali form .*lqas init"),
    Case("last-row-cut-short", "reading", _cut_the_last_row, accept_check=_check_truncated_row),
    # 4. the output folder (validate takes no --out)
    Case("out-under-a-file", "output", _write("afile", "not a folder\n"), r"afile/run: cannot write the run folder",
         run_only=True, out="afile/run"),
    Case("out-is-a-file", "output", _write("afile", "not a folder\n"), r"afile: exists and is not a folder; choose another --out",
         run_only=True, out="afile"),
    # 5. configuration and populations files
    Case("survey-not-toml", "config", _invalid_toml, r"survey\.toml: not a valid TOML file \(.*line {line}\b"),
    Case("populations-empty", "config", _write(POPULATIONS, ""),
         r"populations\.csv: file is empty"),
    Case("populations-header-only", "config", _write(POPULATIONS, "catchment,cohort,population\n"),
         r"populations\.csv: no data rows"),
    Case("populations-missing", "config", lambda project: (project / POPULATIONS).unlink(),
         r"populations\.csv: data file not found"),
    Case("population-not-a-number", "config",
         lambda project: _replace_in_csv(project, "kologo,12-23m,860", "kologo,12-23m,8 6O", file=POPULATIONS),
         r"populations\.csv: row 5, column 'population': must be a positive number; got '8 6O'"),
    Case("population-lot-twice", "config", _population_twice, r"populations\.csv: .*\brow {row}\b"),
    Case("weight-not-a-number", "config", _weight_column_with_a_word,
         r"mali_baseline_kobo\.csv: row {row}, column '(hh/)?weight': .*got 'deux'"),
    # 6. formulas in names and remarks
    Case("formula-injection", "injection", _formulas_everywhere, accept_check=_check_no_formula),
    # 7. degenerate designs
    Case("every-row-excluded", "degenerate", _windows_in_months, r"mali_baseline_kobo\.csv: .*(excluded|no child)"),
    # 8. personal data: a rule reading a column dropped as personal would carry its values into outputs
    Case("eligibility-on-personal", "personal",
         _profile("[columns]", '[[eligibility]]\ncolumn = "caretaker/phone"\nkeep = ["1"]\nreason = "x"\n\n[columns]'),
         r"kobo\.toml: key 'eligibility\[1\]\.column': 'caretaker/phone' is listed in profile\.personal"),
    Case("column-maps-personal", "personal", _profile('household_id = "hh/household_id"', 'household_id = "child/name"'),
         r"kobo\.toml: key 'columns\.household_id': 'child/name' is listed in profile\.personal"),
    Case("kept-free-text", "personal", _profile('keep = ["_id"', 'keep = ["besd/CHI_lowacother", "_id"'),
         r"kobo\.toml: key 'profile\.keep': 'besd/CHI_lowacother' is listed in profile\.free_text"),
    Case("reviewed-remarks-missing", "personal", _survey('reviewed_remarks = "remarks_reviewed.csv"',
                                                         'reviewed_remarks = "remarks_reveiwed.csv"'),
         r"survey\.toml: key 'report\.reviewed_remarks': .*remarks_reveiwed\.csv: file not found"),
    # 9. a shipped file misspelt, and an input the run would replace
    Case("schedule-typo", "survey", _survey('schedule = "mali"', 'schedule = "mail"'),
         r"survey\.toml: key 'vaccination\.schedule': schedule 'mail' not found.*did you mean 'mali'\?"),
    Case("input-inside-run-folder", "run-folder", _survey('populations = "data/populations.csv"',
                                                     'populations = "out/populations.csv"'),
         r"populations\.csv: the populations file is inside the run folder", out="out", run_only=True),
    Case("single-cluster-lot-and-mathtext", "degenerate", _one_cluster_in_kologo,
         accept_check=_check_single_cluster_lot),
]


def lqas(*args: str, cwd: Path) -> subprocess.Popen:
    # the repository first on the path: `python -m lqas` runs the source under test
    path = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.Popen([sys.executable, "-m", "lqas", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": path})


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=600)
    return process.returncode, stderr


def test_every_case_class_is_covered():
    assert sorted({case.cls for case in CASES}) == sorted(CLASSES)
    assert len({case.name for case in CASES}) == len(CASES)
    assert sum(case.expect_regex is None for case in CASES) <= 4  # each accept case costs a full run


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_validate_and_run_agree(case, tmp_path):
    project = _project(tmp_path / "project")
    values = case.mutate(project) or {}
    survey, out = project / "survey.toml", project / case.out
    # both commands at once: the reject cases are quick, and the two verdicts are independent
    running = {"run": lqas("run", str(survey), "--out", str(out), cwd=tmp_path)}
    if not case.run_only:
        running["validate"] = lqas("validate", str(survey), cwd=tmp_path)
    done = {command: _finish(process) for command, process in running.items()}

    if case.expect_regex is None:
        for command, (code, stderr) in done.items():
            assert code == 0 and "Traceback" not in stderr, (command, stderr)
        case.accept_check(project, out)
        return
    pattern = case.expect_regex.format(**values)
    for command, (code, stderr) in done.items():
        assert "Traceback" not in stderr, (command, stderr)
        lines = stderr.splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("lqas: error: "), (command, code, stderr)
        assert re.search(pattern, lines[0]), (command, pattern, lines[0])
    if not case.run_only:
        assert done["validate"][1] == done["run"][1]  # the same refusal, word for word
    assert not (out / "manifest.json").exists()  # no run folder that looks complete

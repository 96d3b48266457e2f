"""Work beside the run (lqas.parallel): a forked process where the system has one, the same result as the
work done in the run's own process, and a failed or killed process costing no result."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

import lqas.context
import lqas.estimate
import lqas.outputs
from lqas.errors import InputError
from lqas.parallel import Beside, fork_available

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "mali_baseline" / "survey.toml"

forks = pytest.mark.skipif(not fork_available(), reason="the system cannot fork (Windows, macOS) or has one core")


def _pid(*numbers: int) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


@forks
def test_the_work_is_done_in_another_process_and_its_result_sent_back():
    pid, total = Beside(_pid, 1, 2, 3).result()
    assert pid != os.getpid() and total == 6


def test_with_one_process_asked_for_the_work_is_done_here(monkeypatch):
    monkeypatch.setenv("LQAS_PROCESSES", "1")
    assert not fork_available()
    assert Beside(_pid, 4, 5).result() == (os.getpid(), 9)


def _telling(count: int, *, tell) -> str:
    for k in range(count):
        tell(k)
    return f"{count} told"


@pytest.mark.parametrize("processes", ["", "1"])
def test_messages_arrive_in_order_before_the_result(monkeypatch, processes):
    monkeypatch.setenv("LQAS_PROCESSES", processes)
    heard = []
    assert Beside(_telling, 5, on_message=heard.append).result() == "5 told"
    assert heard == [0, 1, 2, 3, 4]


def _refuse(parent: int) -> None:
    raise InputError(f"data.csv, row 7: refused in {'another process' if os.getpid() != parent else 'the run'}")


@forks
def test_an_error_in_the_process_reaches_the_caller_as_the_run_raises_it():
    """The work is done again in the run's process: the error is the run's own, of its own type."""
    work = Beside(_refuse, os.getpid())
    with pytest.raises(InputError, match="row 7: refused in the run"):
        work.result()


def _killed_beside(parent: int) -> int:
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)  # as the system kills a process it has no memory for
    return os.getpid()


@forks
def test_a_process_killed_costs_no_result():
    assert Beside(_killed_beside, os.getpid()).result() == os.getpid()


def _pids_inside() -> tuple[int, int]:
    """This process's pid, and that of the process its own work beside it ran in."""
    return os.getpid(), Beside(_pid).result()[0]


@forks
def test_a_forked_process_makes_work_beside_it_in_turn():
    """The report's process draws its organ-pipe plots in one of its own."""
    beside, inside = Beside(_pids_inside).result()
    assert len({os.getpid(), beside, inside}) == 3


@forks
def test_background_work_gives_way_to_the_run():
    """A table's writing, which nothing waits for before the run's end, is made at a lower priority than
    the run's work (os.nice): its process takes the cores the run leaves idle."""
    from lqas.parallel import BACKGROUND_NICENESS

    here = os.nice(0)
    assert Beside(os.nice, 0, background=True).result() == here + BACKGROUND_NICENESS == here + 10
    assert Beside(os.nice, 0).result() == here  # the run's other work as the run


@forks
def test_background_work_where_the_system_refuses_to_give_way_is_still_made_beside(monkeypatch):
    def refused(increment):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "nice", refused)
    assert Beside(os.getpid, background=True).result() != os.getpid()  # not made again here


@forks
def test_cancel_stops_the_process_at_once():
    started = time.perf_counter()
    work = Beside(time.sleep, 60)
    process = work._process
    work.cancel()
    assert time.perf_counter() - started < 10 and not process.is_alive()


@pytest.mark.parametrize("processes", ["", "1"])
def test_a_block_that_took_the_result_keeps_it(monkeypatch, processes):
    monkeypatch.setenv("LQAS_PROCESSES", processes)
    with Beside(_pid, 2, 3) as work:
        made = work.result()
    assert work.result() == made and made[1] == 5


@forks
def test_a_block_that_fails_stops_its_work_beside():
    with pytest.raises(InputError, match="row 3"), Beside(time.sleep, 60) as work:
        process = work._process
        raise InputError("data.csv, row 3: refused")
    assert not process.is_alive()


# ----------------------------------------------------------------------------- the run's uses


@forks
def test_the_kernel_passes_made_beside_give_the_same_estimates(monkeypatch):
    """The stratifiers' passes in a forked process (lqas.estimate._BESIDE_ROWS children and more): the
    estimates frame is the one made in one process, to the bit, rows in the same order."""
    import lqas

    results = lqas.analyse(lqas.load_project(DEMO))
    project = results.project
    indicators = list(results.estimates["indicator"].unique())

    waited = []

    def estimates() -> pd.DataFrame:
        return lqas.estimate.estimate(results.design, indicators, project.design, levels=project.levels.columns,
                                      stratifiers=project.stratifiers.columns,
                                      stratifier_levels=project.stratifiers.levels, meanwhile=lambda: waited.append(1))

    alone = estimates()
    assert len(results.derived.table) < lqas.estimate._BESIDE_ROWS  # the demo is made in one process
    assert waited == []  # nothing made beside, nothing to wait for
    made_beside = []
    monkeypatch.setattr(lqas.estimate, "_BESIDE_ROWS", 0)
    monkeypatch.setattr(lqas.estimate, "Beside",
                        lambda *args, **kwargs: made_beside.append(args[1]) or Beside(*args, **kwargs))
    beside = estimates()
    assert made_beside and all(stratifier in project.stratifiers.columns for _, stratifier in made_beside[0])
    assert len(made_beside[0]) > 1
    pd.testing.assert_frame_equal(beside, alone, check_exact=True)
    assert len(alone) > 10_000
    assert waited == [1]  # what the run does while it waits for the passes made beside: once

    # the process killed after it sent its first pass: the passes are all made again here, none twice
    proportions, parent, made = type(results.design).proportions, os.getpid(), []

    def killed_at_the_second(self, *args, **kwargs):
        if os.getpid() != parent:
            made.append(1)
            if len(made) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        return proportions(self, *args, **kwargs)

    monkeypatch.setattr(type(results.design), "proportions", killed_at_the_second)
    pd.testing.assert_frame_equal(estimates(), alone, check_exact=True)


def _bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != "manifest.json"}


@forks
def test_the_report_made_beside_the_tables_is_the_same_run_and_survives_its_process_killed(tmp_path, monkeypatch):
    """The report (charts, context, HTML, the PDF's source) in a forked process while the tables and the
    workbook are written: the run folder is the one a single process writes, byte for byte; a report
    process killed (for memory) is made again in the run's process, and the run loses nothing."""
    from lqas.config import load_project
    from lqas.run import run_project

    project = load_project(DEMO)
    run_project(project, tmp_path / "beside")
    monkeypatch.setenv("LQAS_PROCESSES", "1")
    run_project(project, tmp_path / "alone")
    beside, alone = _bytes(tmp_path / "beside"), _bytes(tmp_path / "alone")
    assert {"report.pdf", "report.html", "report_context.json", "results.xlsx"} <= set(alone)
    assert beside == alone

    monkeypatch.delenv("LQAS_PROCESSES")
    report_outputs, parent = lqas.outputs._report_outputs, os.getpid()

    def killed(*args, **kwargs):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return report_outputs(*args, **kwargs)

    monkeypatch.setattr(lqas.outputs, "_report_outputs", killed)
    niceness = os.nice(0)
    run_project(project, tmp_path / "killed")
    assert _bytes(tmp_path / "killed") == alone
    assert os.nice(0) == niceness  # made again here: the run's process does not give way to itself


@forks
def test_the_charts_png_files_are_rendered_by_the_runs_own_process_from_their_svg_files(tmp_path, monkeypatch):
    """No process draws a chart again for its PNG file: the run's process renders every chart's SVG file
    with Typst (its threads do not survive a fork: it runs in no forked process), each PNG file of the
    size matplotlib gives it (150 dpi)."""
    import lqas.charts
    from lqas.config import load_project
    from lqas.run import run_project

    record, render = tmp_path / "pngs.txt", lqas.charts.svg_chart_pngs

    def drawn(figure, path):
        with open(record, "a", encoding="utf-8") as lines:
            lines.write(f"{os.getpid()} matplotlib {path.stem}\n")

    def rendered(folder):
        with open(record, "a", encoding="utf-8") as lines:
            lines.write(f"{os.getpid()} typst {folder.name}\n")
        return render(folder)
    monkeypatch.setattr(lqas.charts, "_save_png", drawn)
    monkeypatch.setattr(lqas.charts, "svg_chart_pngs", rendered)
    run_project(load_project(DEMO), tmp_path / "run", formats=("html", "pdf"))
    assert record.read_text(encoding="utf-8").splitlines() == [f"{os.getpid()} typst charts"]
    charts = tmp_path / "run" / "charts"
    svgs = sorted(charts.glob("*.svg"))
    assert len(svgs) > 5 and sorted(p.stem for p in charts.glob("*.png") if not p.stem.startswith("logo_")) == [
        svg.stem for svg in svgs]
    from PIL import Image

    for svg in svgs:
        points = [float(value) for value in re.search(r'width="([0-9.]+)pt" height="([0-9.]+)pt"',
                                                      svg.read_text(encoding="utf-8")).groups()]
        size = Image.open(svg.with_suffix(".png")).size
        assert all(abs(pixels - value * 150 / 72) <= 1 for pixels, value in zip(size, points)), svg.name


@forks
def test_where_typst_does_not_load_the_report_process_draws_the_png_files_giving_way(tmp_path, monkeypatch):
    """Without Typst (a broken install) matplotlib draws the charts' PNG files, last, in the report's forked
    process, at a lower priority than the rest of the run (os.nice); the run's own priority unchanged."""
    import lqas.charts
    import lqas.outputs
    from lqas.config import load_project
    from lqas.parallel import BACKGROUND_NICENESS
    from lqas.run import run_project

    record, save_png = tmp_path / "png_niceness.txt", lqas.charts._save_png

    def recorded(figure, path):
        with open(record, "a", encoding="utf-8") as lines:
            lines.write(f"{os.getpid()} {os.nice(0)} {path.stem}\n")
        save_png(figure, path)
    monkeypatch.setattr(lqas.charts, "_save_png", recorded)
    monkeypatch.setattr(lqas.outputs, "_typst_loads", lambda: False)
    niceness = os.nice(0)
    run_project(load_project(DEMO), tmp_path / "run", formats=("html",))
    drawn = [line.split() for line in record.read_text(encoding="utf-8").splitlines()]
    # (the organ-pipe plots are drawn by a process of their own, which the report's context waits for)
    report = [nice for pid, nice, name in drawn if int(pid) != os.getpid() and not name.startswith("organ_pipe")]
    assert len(report) >= 4 and set(report) == {str(niceness + BACKGROUND_NICENESS)}
    assert os.nice(0) == niceness


@forks
def test_a_national_child_table_keeps_its_work_in_the_run_process():
    """At 10^6 children a forked process took the run past 4 GB (lqas.parallel.LARGE_TABLE_CELLS)."""
    from lqas.parallel import LARGE_TABLE_CELLS

    assert fork_available(LARGE_TABLE_CELLS - 1) and not fork_available(LARGE_TABLE_CELLS)
    assert Beside(_pid, 1, cells=LARGE_TABLE_CELLS).result() == (os.getpid(), 1)
    assert Beside(_pid, 1, cells=LARGE_TABLE_CELLS - 1).result()[0] != os.getpid()


@forks
def test_without_stratifiers_the_levels_passes_made_beside_give_the_same_estimates(monkeypatch):
    """No stratifier: the passes of the levels above the lowest are the ones made beside."""
    import lqas

    results = lqas.analyse(lqas.load_project(DEMO))
    indicators = list(results.estimates["indicator"].unique())

    def estimates() -> pd.DataFrame:
        return lqas.estimate.estimate(results.design, indicators, results.project.design,
                                      levels=("district", "catchment"), stratifiers=())

    alone = estimates()
    made_beside = []
    monkeypatch.setattr(lqas.estimate, "_BESIDE_ROWS", 0)
    monkeypatch.setattr(lqas.estimate, "Beside",
                        lambda *args, **kwargs: made_beside.append(args[1]) or Beside(*args, **kwargs))
    beside = estimates()
    assert made_beside == [[("district", None)]]
    pd.testing.assert_frame_equal(beside, alone, check_exact=True)
    assert set(alone["district"]) - {"all"} and set(alone["catchment"]) - {"all"}


def _record(calls: list, value: int) -> int:
    calls.append(value)
    return value


def test_later_work_where_it_does_not_fork_is_done_when_asked_for_or_never(monkeypatch):
    """The command line's ingest without a fork runs under the run's progress, after its refusals."""
    monkeypatch.setenv("LQAS_PROCESSES", "1")
    calls = []
    work = Beside(_record, calls, 3, later=True)
    assert calls == [] and not work.forked
    assert work.result() == 3 and work.result() == 3 and calls == [3]
    with Beside(_record, calls, 4, later=True):
        pass  # the block ended without asking: the work is never done
    assert calls == [3]
    assert Beside(_record, calls, 5).result() == 5 and calls == [3, 5]  # at once, as before


def _wait_for(event, value: int) -> tuple[str, int]:
    import threading

    if not event.wait(10):
        raise TimeoutError("the caller never went on")
    if value < 0:
        raise InputError(f"households.csv, row {-value}: refused in a thread")
    return threading.current_thread().name, value


def test_threaded_work_where_it_does_not_fork_goes_on_beside_the_caller(monkeypatch):
    """A national table's fieldwork checks: made in a thread while the caller makes its estimates; an
    error reaches the caller when it asks for the result; cancelled, its result is never taken."""
    import threading

    monkeypatch.setenv("LQAS_PROCESSES", "1")
    went_on = threading.Event()
    work = Beside(_wait_for, went_on, 7, thread=True)
    assert not work.forked
    went_on.set()  # the work waits for this: had it been made at once, Beside would not have returned
    name, value = work.result()
    assert value == 7 and name.startswith("lqas-beside") and work.result() == (name, 7)
    failing = Beside(_wait_for, went_on, -12, thread=True)
    with pytest.raises(InputError, match=r"households\.csv, row 12: refused in a thread"):
        failing.result()
    held = threading.Event()
    with Beside(_wait_for, held, 3, thread=True) as never:
        pass  # the block ended without taking it: cancelled
    held.set()
    assert never._thread is None


def _warn(parent: int) -> int:
    import warnings

    warnings.warn(f"BeSD: 1 cell(s) with unknown codes ({'beside' if os.getpid() != parent else 'here'})",
                  UserWarning, stacklevel=1)
    return 1


@forks
def _columns(rows: int) -> tuple[int, pd.DataFrame]:
    import numpy as np

    rng = np.random.default_rng(7)
    return os.getpid(), pd.DataFrame({
        "share": rng.random(rows), "flag": (rng.random(rows) < 0.5).astype(np.float32),
        "area": pd.Categorical(rng.choice(["ha1", "ha2", "ha3"], rows)),
        "name": pd.Series([f"child {k}" for k in range(rows)], dtype="string"),
        "when": pd.to_datetime(rng.integers(0, 10**4, rows), unit="D"), "note": [None, "ok"] * (rows // 2)})


def _mapped(array) -> bool:
    """Whether ``array``'s memory is a mapped file's, which the run may write to (an array made from the
    pickle's bytes owns its memory)."""
    import mmap

    base = array
    while getattr(base, "base", None) is not None and not isinstance(base, memoryview):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap) and not base.readonly


@forks
def test_a_large_value_comes_back_through_memory_shared_with_the_process_not_copied_through_the_pipe():
    import numpy as np

    pid, frame = Beside(_columns, 50_000).result()
    _, here = _columns(50_000)
    assert pid != os.getpid()
    pd.testing.assert_frame_equal(frame, here, check_exact=True)
    for column in ("share", "flag"):  # 400 kB and 200 kB: each in the shared file
        values = frame[column].to_numpy()
        assert _mapped(values), column
        assert values.flags.aligned and values.ctypes.data % 64 == 0, column
    frame.loc[0, "share"] = 2.0  # the run's own copy of a page it writes to: the value is the run's to change
    assert frame["share"].iloc[0] == 2.0 and frame["share"].iloc[1] == here["share"].iloc[1]
    assert not _mapped(np.asarray(Beside(_columns, 500).result()[1]["share"]))  # 4 kB: in the pipe's message


@forks
def test_a_value_that_cannot_be_read_back_is_made_here(monkeypatch):
    import lqas.parallel

    def unreadable(self, head, places):
        raise OSError("cannot map")

    monkeypatch.setattr(lqas.parallel._SharedFile, "value", unreadable)
    pid, frame = Beside(_columns, 50_000).result()
    assert pid == os.getpid()
    pd.testing.assert_frame_equal(frame, _columns(50_000)[1], check_exact=True)


@forks
def test_where_the_system_has_no_file_in_memory_the_value_comes_through_the_pipe(monkeypatch):
    def refused(*args):
        raise OSError("memfd_create refused")

    monkeypatch.setattr(os, "memfd_create", refused)
    pid, frame = Beside(_columns, 50_000).result()
    assert pid != os.getpid() and not _mapped(frame["share"].to_numpy())
    pd.testing.assert_frame_equal(frame, _columns(50_000)[1], check_exact=True)


@forks
def test_work_beside_leaves_no_file_open_whether_its_result_is_taken_or_cancelled():
    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_files()
    for _ in range(5):
        assert Beside(_columns, 20_000).result()[1].shape == (20_000, 6)
        Beside(time.sleep, 30).cancel()
    assert open_files() == before


def test_warnings_given_beside_are_given_again_in_the_run():
    with pytest.warns(UserWarning, match=r"unknown codes \(beside\)"):
        assert Beside(_warn, os.getpid()).result() == 1


@forks
def test_the_command_line_derives_the_survey_beside_its_imports(tmp_path, monkeypatch):
    """`lqas run` starts ingest and derive in a forked process, then loads the rest of lqas: the same
    child table as derived here, and derive's warnings said as before; a large export is derived here."""
    import shutil
    import subprocess
    import sys

    import lqas.derive
    from lqas.config import load_project

    shutil.copytree(DEMO.parent, tmp_path / "p")
    survey = tmp_path / "p" / "survey.toml"
    export = survey.parent / "data" / "mali_baseline_kobo.csv"
    raw = pd.read_csv(export, dtype=str, keep_default_na=False)
    raw.loc[0, "besd/CHI_intent"] = "7"  # a code BeSD-TI does not have: derive warns
    raw.to_csv(export, index=False)
    project = load_project(survey)

    early = lqas.derive.DerivedBeside(project)
    assert early.forked and early.rounds == {}
    with pytest.warns(UserWarning, match="1 cell"):
        beside = early.table.result()
    with pytest.warns(UserWarning, match="1 cell"):
        here = lqas.derive.derive_project(project)
    pd.testing.assert_frame_equal(beside.table, here.table, check_exact=True)
    pd.testing.assert_frame_equal(beside.repairs, here.repairs, check_exact=True)
    pd.testing.assert_frame_equal(beside.exclusions, here.exclusions, check_exact=True)

    monkeypatch.setattr(lqas.derive, "EARLY_INPUT_BYTES", export.stat().st_size)
    assert not lqas.derive.DerivedBeside(project).forked

    outputs = {}
    for processes in ("", "1"):
        done = subprocess.run([sys.executable, "-m", "lqas", "-q", "run", str(survey), "--out",
                               str(tmp_path / f"run{processes}"), "--formats", "csv"], capture_output=True, text=True,
                              check=False, cwd=ROOT, env={**os.environ, "LQAS_PROCESSES": processes})
        assert done.returncode == 0, done.stderr
        assert "lqas: warning: BeSD: 1 cell(s) with unknown codes" in done.stderr
        outputs[processes] = _bytes(tmp_path / f"run{processes}")
    assert outputs[""] == outputs["1"] and "derived.csv" in outputs[""]


@forks
def test_the_earlier_rounds_are_derived_beside_too_and_a_broken_one_is_said_where_it_always_was(tmp_path):
    """`[rounds] previous`: each earlier round's child table in a process of its own from the start, the
    same table as derived here; an earlier project that does not load is left to the comparison of the
    rounds, which says what is wrong with it as before."""
    import shutil

    import lqas.derive
    from lqas.config import load_project
    from lqas.errors import ConfigError
    from lqas.run import analyse

    followup = load_project(ROOT / "examples" / "mali_followup" / "survey.toml")
    early = lqas.derive.DerivedBeside(followup)
    assert early.forked and list(early.rounds) == ["base 2025"] and early.rounds["base 2025"].forked
    with early:
        baseline = early.rounds["base 2025"].result()
        pd.testing.assert_frame_equal(baseline.table, lqas.derive.derive_project(load_project(DEMO)).table,
                                      check_exact=True)
        assert early.table.result().rows_read == lqas.derive.derive_project(followup).rows_read

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    survey = tmp_path / "examples" / "mali_followup" / "survey.toml"
    survey.write_text(survey.read_text(encoding="utf-8").replace("../mali_baseline/survey.toml", "../gone/survey.toml"),
                      encoding="utf-8")
    broken = load_project(survey)
    with lqas.derive.DerivedBeside(broken) as early:
        assert early.rounds == {}
        with pytest.raises(ConfigError, match="gone"):
            analyse(broken, derived=early)


@forks
def test_the_rounds_dhis2_and_small_area_parts_of_the_report_made_beside_are_the_same(tmp_path, monkeypatch):
    """The follow-up example has [rounds], [admin] and [small_area]: their parts of the report and their
    charts are made by a process of their own, and give the files one process writes, byte for byte."""
    from lqas.config import load_project
    from lqas.run import run_project

    project = load_project(ROOT / "examples" / "mali_followup" / "survey.toml")
    assert project.rounds and project.admin and project.small_area
    beside, made_beside = lqas.context.Beside, tmp_path / "made_beside.txt"

    def recorded(function, *args, **kwargs):  # in the report's process: written down for this one to read
        with made_beside.open("a") as record:
            record.write(f"{function.__name__}\n")
        return beside(function, *args, **kwargs)

    monkeypatch.setattr(lqas.context, "Beside", recorded)
    run_project(project, tmp_path / "beside", formats=("html",))
    assert made_beside.read_text().split() == ["_organ_pipes", "_further_contexts"]
    monkeypatch.setenv("LQAS_PROCESSES", "1")
    run_project(project, tmp_path / "alone", formats=("html",))
    alone = _bytes(tmp_path / "alone")
    assert {"report.html", "charts/change_by_unit.svg", "charts/admin_vs_survey.svg"} <= set(alone)
    assert _bytes(tmp_path / "beside") == alone


def _two_charts(folder: Path, die_in: int | None = None) -> dict[str, str]:
    """Two small charts saved in ``folder``; the process ``die_in`` dies before drawing them."""
    from matplotlib.figure import Figure

    import lqas.charts

    if die_in is not None and os.getpid() == die_in:
        os._exit(3)
    names = {}
    for name in ("one", "two"):
        figure = Figure(figsize=(2, 1))
        figure.subplots().plot([0, 1], [1, 0])
        lqas.charts.save_chart(figure, folder / f"{name}.png")
        names[name] = f"charts/{name}.svg"
    return names


def _record_pngs(monkeypatch, record: Path) -> None:
    import lqas.charts

    save_png = lqas.charts._save_png

    def recorded(figure, path):
        with open(record, "a", encoding="utf-8") as lines:
            lines.write(f"{os.getpid()} {os.nice(0)} {path.stem}\n")
        save_png(figure, path)
    monkeypatch.setattr(lqas.charts, "_save_png", recorded)


@forks
def test_charts_drawn_beside_come_back_with_their_svg_files_and_their_png_files_are_waited_for(tmp_path, monkeypatch):
    import lqas.charts
    from lqas.parallel import BACKGROUND_NICENESS

    record = tmp_path / "pngs.txt"
    _record_pngs(monkeypatch, record)
    with lqas.charts.pngs_later() as draw_pngs:
        value = lqas.charts.drawn_beside(_two_charts, tmp_path, cells=10)
        assert value() == {"one": "charts/one.svg", "two": "charts/two.svg"}
        assert (tmp_path / "one.svg").is_file() and (tmp_path / "two.svg").is_file()
        draw_pngs()  # the block's call: the PNG files of the charts drawn beside, waited for
        drawn = [line.split() for line in record.read_text(encoding="utf-8").splitlines()]
        assert [name for _, _, name in drawn] == ["one", "two"]
        assert {int(pid) for pid, _, _ in drawn} != {os.getpid()}  # by the process that drew the charts
        assert {int(nice) for _, nice, _ in drawn} == {os.nice(0) + BACKGROUND_NICENESS}  # giving way
        assert all((tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG" for name in ("one", "two"))


@forks
def test_charts_whose_process_dies_are_drawn_here(tmp_path, monkeypatch):
    import lqas.charts

    record = tmp_path / "pngs.txt"
    _record_pngs(monkeypatch, record)
    niceness = os.nice(0)
    with lqas.charts.pngs_later() as draw_pngs:
        # the forked process dies (killed for memory...) before its charts: drawn here, at this process's priority
        value = lqas.charts.drawn_beside(_dies_beside, tmp_path, os.getpid(), cells=10)
        assert value() == {"one": "charts/one.svg", "two": "charts/two.svg"}
        draw_pngs()
    drawn = [line.split() for line in record.read_text(encoding="utf-8").splitlines()]
    assert [int(pid) for pid, _, _ in drawn] == [os.getpid()] * 2 and os.nice(0) == niceness
    assert (tmp_path / "two.png").read_bytes()[:4] == b"\x89PNG"


def _dies_beside(folder: Path, caller: int) -> dict[str, str]:
    if os.getpid() != caller:
        os._exit(3)
    return _two_charts(folder)


def test_charts_drawn_where_nothing_forks_are_drawn_at_once_their_png_files_with_the_others(tmp_path, monkeypatch):
    import lqas.charts

    monkeypatch.setenv("LQAS_PROCESSES", "1")
    record = tmp_path / "pngs.txt"
    _record_pngs(monkeypatch, record)
    with lqas.charts.pngs_later() as draw_pngs:
        value = lqas.charts.drawn_beside(_two_charts, tmp_path, cells=10)
        assert (tmp_path / "one.svg").is_file() and not record.exists()  # drawn at once; PNG files later
        assert value()["one"] == "charts/one.svg"
        draw_pngs()
    assert [line.split()[0] for line in record.read_text(encoding="utf-8").splitlines()] == [str(os.getpid())] * 2

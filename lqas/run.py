"""A run, as the flow: ingest and derive -> estimate -> classify -> compare -> outputs."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from threading import Event

import pandas as pd

from lqas.admin import analyse_admin
from lqas.classify import aggregate_lots, classify_lots
from lqas.compare import compare_sexes
from lqas.config import Project
from lqas.config.fieldwork import FieldworkChecks, load_fieldwork_checks
from lqas.config.project import DOSE_FAMILIES
from lqas.derive import Derived, DerivedBeside, derive_project, write_derived
from lqas.dtypes import distinct_text, release_memory
from lqas.errors import OutputError
from lqas.estimate import estimate, survey_design
from lqas.fieldwork import fieldwork_quality
from lqas.hotspots import hotspots
from lqas.households import household_response, household_visits
from lqas.indicators import load_registry
from lqas.outputs import DEFAULT_FORMATS, input_checksums, project_inputs, run_folder, write_outputs
from lqas.parallel import Beside, fork_available
from lqas.priorities import priorities
from lqas.remarks import published_remarks
from lqas.results import Results
from lqas.rounds import analyse_rounds
from lqas.safety import write_csv
from lqas.scorecard import scorecard


def analyse(project: Project, progress: Callable[[str], None] = lambda message: None, *,
            derived_ready: Callable[[Derived], None] = lambda derived: None,
            estimates_ready: Callable[[pd.DataFrame], None] = lambda estimates: None,
            derived: DerivedBeside | None = None) -> Results:
    """Every result of a project, computed once: the run's outputs are views of what this returns.
    ``derived_ready`` is given the child table as soon as it is made, ``estimates_ready`` the estimates
    (no later stage changes either); ``derived``: the child tables already being made
    (:class:`lqas.derive.DerivedBeside`)."""
    with _collector_spared():
        return _analysed(project, progress, derived_ready, estimates_ready, derived)


def _analysed(project: Project, progress: Callable[[str], None], derived_ready: Callable[[Derived], None],
              estimates_ready: Callable[[pd.DataFrame], None], derived: DerivedBeside | None) -> Results:
    with project.naming_errors():
        return _analyse(project, _releasing(progress), derived_ready, estimates_ready, derived)


def _releasing(progress: Callable[[str], None]) -> Callable[[str], None]:
    """``progress``, the memory each stage frees given back to the system before the next one starts
    (:func:`lqas.dtypes.release_memory`): a stage's peak then stands on what the run holds, not on
    what the stages before it let go. What outlives a stage is set aside from Python's cyclic garbage
    collector, its garbage collected first (see :func:`_collector_spared`)."""
    def stage(message: str) -> None:
        gc.collect()
        gc.freeze()
        release_memory()
        progress(message)
    return stage


@contextmanager
def _collector_spared() -> Iterator[None]:
    """A run whose objects that outlive a stage (the child table, the estimates, the results) are left
    alone by Python's cyclic garbage collector (``gc.freeze`` at each stage, by :func:`_releasing`), and
    given back to it when the run ends (``gc.unfreeze``: every object frozen in this process).

    The collector went through all of them again each time the report's thousands of new objects set
    it off: 1.1 s of a 10^5-child run in one process and 1.5 s at 10^6, 0.26 and 0.64 s once set
    aside. A forked process (the report's: lqas.parallel) then leaves them alone too, so the pages
    that hold them are not copied for it."""
    try:
        yield
    finally:
        gc.unfreeze()


def _analyse(project: Project, progress: Callable[[str], None], derived_ready: Callable[[Derived], None],
             estimates_ready: Callable[[pd.DataFrame], None], early: DerivedBeside | None) -> Results:
    progress("ingest and derive")
    derived = early.table.result() if early is not None else derive_project(project)
    derived_ready(derived)
    progress("household log and fieldwork checks")
    rules = load_fieldwork_checks(project.resolve(project.quality.checks) if project.quality.checks else None)
    # made by a forked process while the estimates are (lqas.parallel). A national table's household log is
    # read and checked row by row here and now, before minutes of work, and what is counted from it in a
    # thread beside the estimates
    visits = None if fork_available(derived.table.size) else household_visits(project, derived.table,
                                                                               derived.exclusions)
    with Beside(_checks, project, derived, rules, visits, cells=derived.table.size, thread=True) as checks:
        return _estimated(project, derived, checks, progress, estimates_ready, early)


def _load_charts() -> None:
    """matplotlib loaded while the run waits for the estimate's passes made by a forked process, not by the
    report's process once forked, at the start of its work (0.2 s that the run's end waited for)."""
    import lqas.charts  # noqa: F401


def _checks(project: Project, derived: Derived, rules: FieldworkChecks, visits: pd.DataFrame | None) -> tuple:
    """The household response rates and the fieldwork checks (``rules``): the household log read once
    (unless given as ``visits``), both count its visits (refusals, absences)."""
    if visits is None:
        visits = household_visits(project, derived.table, derived.exclusions)
    households = household_response(project, derived.table, derived.exclusions, visits=visits)
    quality = fieldwork_quality(derived, rules, project.cohorts, visits=visits, besd_coding=project.besd.coding)
    return households, quality


def _estimated(project: Project, derived: Derived, checks: Beside, progress: Callable[[str], None],
               estimates_ready: Callable[[pd.DataFrame], None], early: DerivedBeside | None) -> Results:
    registry = load_registry(derived.schedule)
    # per-dose families the project leaves out ([estimates] doses) are not estimated
    left_out = {f"{dose.key}_{family}" for dose in derived.schedule.doses
                for family in DOSE_FAMILIES if family not in project.estimates.doses}
    indicators = [key for key in registry if key in derived.table and key not in left_out]
    design = survey_design(derived, project.design)  # the one design every estimate below shares

    progress("estimate")
    estimates = estimate(design, indicators, project.design, levels=project.levels.columns,
                         stratifiers=project.stratifiers.columns, stratifier_levels=project.stratifiers.levels,
                         meanwhile=_load_charts)
    estimates_ready(estimates)
    progress("classify lots")
    classification = classify_lots(derived.table, registry, project.lqas, derived.exclusions)
    lots_by_level = aggregate_lots(classification, derived.table, project.levels.columns)
    progress("compare girls and boys")
    comparisons = compare_sexes(design, registry, project.design)
    card = scorecard(comparisons, estimates) if _has_scorecard(derived.table) else None
    progress("priorities")
    ranked = priorities(estimates, comparisons, classification, project)
    if project.rounds is not None:
        progress("change between rounds")
    rounds = analyse_rounds(project, derived.table, indicators, classification,
                            early=early.rounds if early is not None else None)
    if project.admin is not None:
        progress("administrative data against the survey")
    admin = analyse_admin(project, derived.table, estimates, derived.schedule)
    if project.small_area is not None:
        progress("small-area estimates")
    small_area = hotspots(project, derived.table, estimates, classification)
    households, quality = checks.result()
    return Results(project=project, derived=derived, design=design, registry=registry, estimates=estimates,
                   classification=classification, comparisons=comparisons, scorecard=card,
                   remarks=published_remarks(project), lots_by_level=lots_by_level, priorities=ranked,
                   households=households, rounds=rounds, admin=admin, quality=quality,
                   small_area=small_area)


def triangulate_project(project: Project, progress: Callable[[str], None] = lambda message: None):
    """``[admin]`` alone (``lqas triangulate``): the survey's crude coverage of the mapped doses, set
    against the DHIS2 extracts (:func:`lqas.admin.analyse_admin`), without the rest of a run."""
    from lqas.errors import SettingError

    with project.naming_errors():
        if project.admin is None:
            raise SettingError("admin", "the project has no [admin] table: name the DHIS2 extracts (files), their "
                                        "mapping file (mapping) and the survey column they map to (column)")
        progress("ingest and derive")
        derived = derive_project(project)
        doses = {f"{dose.key}_crude" for dose in derived.schedule.doses}
        design = survey_design(derived, project.design)
        progress("estimate")
        estimates = estimate(design, [key for key in load_registry(derived.schedule) if key in doses
                                      and key in derived.table], project.design, levels=project.levels.columns)
        progress("administrative data against the survey")
        return analyse_admin(project, derived.table, estimates, derived.schedule)


# cells of the child table (rows x columns) from which derived.csv is written beside the run (run_project)
_EARLY_CELLS = 100_000_000


def run_project(project: Project, out: Path, *, lang: str | None = None, overwrite: bool = False,
                formats: Sequence[str] = DEFAULT_FORMATS,
                progress: Callable[[str], None] = lambda message: None, derived: DerivedBeside | None = None
                ) -> dict[str, Path]:
    """Write the run folder of DESIGN.md §5 (:func:`lqas.outputs.run_folder`: in place only once
    written) and return the written paths by name. ``derived``: the child tables already being made
    (:class:`lqas.derive.DerivedBeside`, which the command line starts before it loads this module).

    An output that fails does not lose the others: they and ``manifest.json`` (which records the
    failure) are put in place, then :class:`lqas.errors.OutputError` names what failed.
    """
    out = Path(out)
    inputs = project_inputs(project)
    stop = Event()
    with (_collector_spared(),
          run_folder(out, inputs, overwrite=overwrite) as folder,  # refusals come before minutes of work
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-writer") as writer):
        # taken before anything is written, in the thread that later writes the largest tables: hashing lets go of
        # Python's lock, and a national export's 760 MB took 0.7 s before the run could start
        checksums = writer.submit(input_checksums, project)
        started: dict[str, Future | Beside] = {}
        report_here = False  # whether the report will be made in this process (no fork: see lqas.parallel)

        def write_children(derived: Derived) -> None:
            nonlocal report_here
            report_here = not fork_available(derived.table.size)
            if "csv" not in formats:
                return
            path, neutralise = folder / "derived.csv", project.report.csv_neutralise
            if fork_available(derived.table.size):
                # written by a forked process from now on, on the second core while this one estimates (in a
                # thread of this process, no gain at 10^5 children: the two took turns at Python's lock)
                started["derived.csv"] = Beside(partial(write_derived, derived, path, neutralise=neutralise),
                                                cells=derived.table.size, background=True)
            elif derived.table.size >= _EARLY_CELLS:
                # a national child table, the largest file, written in a thread while the run goes on (Arrow
                # formats its fields without Python's lock): the thread slows the stages beside it, which pays
                # only when the file takes that long (10^6 children: 112 -> 100 s; 10^5: 19.6 -> 21.2 s)
                started["derived.csv"] = writer.submit(write_derived, derived, path, neutralise=neutralise, stop=stop)

        def write_estimates(estimates: pd.DataFrame) -> None:
            # written as soon as they are made: where the report is made in this process (a national table;
            # Windows, macOS), in the thread beside it and the stages before it (10^6 children 73.5 -> 68.5 s;
            # 10^5 in one process 17.6 -> 16.9 s); where it is forked, by a forked process of its own (in a
            # thread, no gain at 10^5: the stages before the report took turns with it at Python's lock)
            if "csv" not in formats:
                return
            path, neutralise = folder / "estimates.csv", project.report.csv_neutralise
            if report_here:
                started["estimates.csv"] = writer.submit(write_csv, estimates, path, neutralise=neutralise, stop=stop)
            else:
                started["estimates.csv"] = Beside(partial(write_csv, estimates, path, neutralise=neutralise),
                                                  cells=estimates.size, background=True)
        try:
            results = _analysed(project, progress, write_children, write_estimates, derived)
            paths, failures = write_outputs(results, folder, lang or project.report.language, _releasing(progress),
                                            inputs=checksums.result(), formats=formats, started=started)
        finally:
            stop.set()  # a run that failed does not wait for the file it throws away
            for writing in started.values():
                writing.cancel()  # a forked writing stopped; nothing once its result was taken
    if failures:
        raise OutputError(failures, out)
    return {name: out / path.relative_to(folder) for name, path in paths.items()}


def _has_scorecard(table) -> bool:
    """The scorecard needs girls and boys and zero-dose data."""
    return ({"F", "M"} <= set(distinct_text(table["sex"])) and "zero_dose" in table and table["zero_dose"].notna().any())

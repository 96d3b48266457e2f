"""Outputs (05TO): the run folder of DESIGN.md §5, every file a view of one :class:`Results`.

A run folder is written whole or not at all: :func:`run_folder` gives a temporary folder beside
``--out``, moved into place only when every file is written (the run before is kept as
``<out>.previous``), under a lock that refuses a second run into the same folder.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from lqas import __version__
from lqas.config import Project
from lqas.context import report_context
from lqas.derive import write_derived
from lqas.errors import InputError, LqasError
from lqas.ingest import EXCLUSION_COLUMNS
from lqas.parallel import Beside, fork_available, give_way
from lqas.report import CHARTS_DIR, CONTEXT_FILE, read_context, write_context
from lqas.resources import data_path, resource_dir
from lqas.results import Results
from lqas.safety import write_csv
from lqas.sections import compose
from lqas.typeset import html_page, pdf_bytes, typst_source
from lqas.workbook import workbook_sheets, write_workbook

TABLES = ("derived.csv", "exclusions.csv", "repairs.csv", "estimates.csv", "classification.csv",
          "lqas_by_level.csv", "comparisons.csv", "scorecard.csv", "children_numbers.csv", "priorities.csv",
          "changes.csv", "gap_changes.csv", "arm_changes.csv", "lqas_transitions.csv", "admin.csv", "dq_flags.csv",
          "admin_unused.csv", "quality.csv", "small_area.csv")
# the libraries whose versions can change a number or a page of the run
DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "openpyxl", "matplotlib", "jinja2", "typst",
                "pydantic", "pyreadstat", "pyarrow")


# the outputs a run can be asked for (`--formats`): the CSV tables, the workbook, the report's HTML
# (with its charts and report_context.json), its PDF, and the tables as Parquet (for programs: typed
# columns, text as it is, a national estimates table read in a second)
FORMATS = ("csv", "xlsx", "html", "pdf", "parquet")
# what a run writes when not told: what a person opens
DEFAULT_FORMATS = ("csv", "xlsx", "html", "pdf")


def write_outputs(results: Results, out: Path, lang: str,
                  progress: Callable[[str], None] = lambda message: None,
                  inputs: list[dict] | None = None,
                  formats: Sequence[str] = DEFAULT_FORMATS,
                  started: Mapping[str, Future] | None = None) -> tuple[dict[str, Path], list[dict]]:
    """Write the tables, charts, report context, workbook, report and manifest into the folder
    ``out``; return the written paths by name and the outputs that failed.

    Each output is written on its own: one that fails (the PDF library does not load, the disk
    refuses the workbook) is removed, recorded as ``{"output", "reason"}`` in the returned list and in
    ``manifest.json``, and the others are still written. ``formats``: which of ``FORMATS`` to write
    (the manifest always; by default ``DEFAULT_FORMATS``, all but Parquet). ``inputs``: the manifest's
    input records, taken before the run (:func:`input_checksums`); by default taken now. ``started``:
    outputs already being written into ``out`` (``derived.csv``, by :func:`lqas.run.run_project`), by name.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise InputError(f"--formats: unknown format {', '.join(map(repr, unknown))}; choose among "
                         f"{', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    written = _Written(out)
    neutralise = results.project.report.csv_neutralise
    report = _start_report(results, out, lang, formats, progress) if {"html", "pdf"} & set(formats) else None

    try:
        tables = run_tables(results)
        # the child table in a thread of its own beside the others: Arrow formats the fields without Python's
        # lock, so the two largest files (derived.csv, estimates.csv) are written at once. The tables written
        # in threads (these, and those of lqas.run.run_project, written since they were made) are waited for
        # last: the workbook is made meanwhile (a national run's estimates.csv is still being written then)
        being_written = dict(started or {}) if "csv" in formats else {}
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lqas-csv") as writer:
            if "csv" in formats:
                progress("write tables")
                if "derived.csv" not in being_written:  # (not setdefault: its argument would start a second writing)
                    being_written["derived.csv"] = writer.submit(write_derived, results.derived, out / "derived.csv",
                                                                 neutralise=neutralise)
                for stem, frame in tables.items():
                    if f"{stem}.csv" not in being_written:
                        written.attempt(f"{stem}.csv", lambda path, frame=frame: write_csv(frame, path,
                                                                                           neutralise=neutralise))
            if "parquet" in formats:
                progress("write tables as Parquet")
                for stem, frame in tables.items():
                    written.attempt(f"{stem}.parquet", lambda path, frame=frame: write_parquet(frame, path))
            if "xlsx" in formats:
                progress("write the workbook")
                written.attempt("results.xlsx", lambda path: write_workbook(path, workbook_sheets(results, lang)))
            if being_written:
                progress("finish the tables")
            for name, writing in being_written.items():
                written.attempt(name, lambda path, writing=writing: writing.result())
    except BaseException:
        if report is not None:
            report(cancel=True)
        raise
    if report is not None:
        progress("finish the report")
        written = report().add(written)  # the report's outputs first, as a run lists them
    paths, failures = written.paths, written.failures

    record = manifest(results, out, lang, inputs if inputs is not None else input_checksums(results.project),
                      formats=formats, failures=failures)
    paths["manifest.json"] = out / "manifest.json"
    paths["manifest.json"].write_text(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                      encoding="utf-8")
    return paths, failures


class _Written:
    """The outputs of a run folder written so far, by name, and those that failed, with the reason."""

    def __init__(self, out: Path):
        self.out = out
        self.paths: dict[str, Path] = {}
        self.failures: list[dict] = []

    def attempt(self, name: str, write: Callable[[Path], object]) -> bool:
        """Write one output; one that fails is removed and recorded, and must not lose the others."""
        path = self.out / name
        try:
            write(path)
        except Exception as exc:  # noqa: BLE001 (one output that fails must not lose the others)
            _remove(path)
            self.fail([name], _reason(exc))
            return False
        self.paths[name] = path
        return True

    def fail(self, names: Sequence[str], reason: str) -> None:
        self.failures += [{"output": name, "reason": reason} for name in names]

    def add(self, other: _Written) -> _Written:
        self.paths |= other.paths
        self.failures += other.failures
        return self


def _start_report(results: Results, out: Path, lang: str, formats: Sequence[str],
                  progress: Callable[[str], None]) -> Callable[..., _Written]:
    """Start the report's outputs (charts, ``report_context.json``, ``report.html``, ``report.pdf``) and
    return what waits for them (``cancel=True``: what stops them, the run having failed).

    The PDF is typeset, and the charts' PNG files rendered from their SVG files, by Typst in threads of
    this process (Typst releases Python's lock) while the tables and the workbook are written. The rest
    of the report (charts, context, HTML, the PDF's source) is Python's work, as the tables' and the
    workbook's are: it is made in a process of its own meanwhile where the system can fork
    (:class:`lqas.parallel.Beside`), here first elsewhere. Typst runs in this process only: its threads
    do not survive a fork, and a process forked from one that had run it would wait for them for ever."""
    typesetter = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lqas-typst")
    typesetting: dict[str, Future] = {}
    cells = results.derived.table.size
    beside = fork_available(cells)
    svg_only = _typst_loads()  # else matplotlib draws the PNG files again, as it draws the SVG files

    def told(message: tuple[str, str | None]) -> None:
        kind, source = message
        typesetting[kind] = (typesetter.submit(pdf_bytes, source, out) if kind == "pdf"
                             else typesetter.submit(_chart_pngs, out / CHARTS_DIR))

    progress("charts and report beside the tables" if beside else "charts and report context")
    report = Beside(_report_outputs, results, out, lang, formats, _quiet if beside else progress, os.getpid(),
                    svg_only, on_message=told, cells=cells)

    def finish(cancel: bool = False) -> _Written:
        with typesetter:
            if cancel:
                report.cancel()
                return _Written(out)
            written = report.result()
            if "pngs" in typesetting:
                try:
                    typesetting["pngs"].result()
                except Exception as exc:  # noqa: BLE001 (the report's pages are written: their charts are the SVG files)
                    _charts_failed(written, out, exc)
            if "pdf" in typesetting:
                progress("finish the PDF")
                written.attempt("report.pdf", lambda path: path.write_bytes(typesetting["pdf"].result()))
        return written
    return finish


def _chart_pngs(folder: Path) -> None:
    from lqas.charts import svg_chart_pngs  # (loaded by the run already: lqas.cli)

    svg_chart_pngs(folder)


def _typst_loads() -> bool:
    """Whether Typst loads (a broken install's does not: matplotlib then draws the charts' PNG files)."""
    try:
        import typst  # noqa: F401 (loading starts none of its threads: the report's process is forked after it)
    except Exception:  # noqa: BLE001 (ImportError, or whatever its compiled part raises as it loads)
        return False
    return True


def _charts_failed(written: _Written, out: Path, exc: Exception) -> None:
    """The charts' PNG files failed: said as the charts' failure, no PNG file left, drawn or half-drawn; the
    SVG files stay, the report's pages being made from them."""
    written.fail(["charts"], _reason(exc))
    written.paths.pop("charts", None)
    for svg in (out / CHARTS_DIR).glob("*.svg"):
        svg.with_suffix(".png").unlink(missing_ok=True)


def _report_outputs(results: Results, out: Path, lang: str, formats: Sequence[str],
                    progress: Callable[[str], None], run_process: int, svg_only: bool, *,
                    tell: Callable[[tuple[str, str | None]], object]) -> _Written:
    """Charts, report context and HTML page written; told to the run: ``("pngs", None)`` once the charts'
    SVG files are written, where their PNG files are the run's to render (``svg_only``), and ``("pdf",
    source)``, the PDF's Typst source (before the HTML page is made, so that the two are made at once).
    ``run_process``: the run's process id (this work is made by another where it is forked)."""
    with _collector_paused():
        return _report_made(results, out, lang, formats, progress, forked=os.getpid() != run_process,
                            svg_only=svg_only, tell=tell)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the report is made: its hundreds of thousands of
    new objects (the context, the composed blocks) set the collector off again and again, for a few
    megabytes of cycles (matplotlib's figures). A 10^5-child report: 3.8 -> 3.35 s, its peak 10 MB
    higher. The next collection after it (at the latest the run's next stage: lqas.run) frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _report_made(results: Results, out: Path, lang: str, formats: Sequence[str],
                 progress: Callable[[str], None], *, forked: bool, svg_only: bool,
                 tell: Callable[[tuple[str, str | None]], object]) -> _Written:
    from lqas.charts import pngs_later

    # the charts' PNG files, which the report does not show: rendered by the run from their SVG files
    # (svg_only), else drawn once the report's pages are made: while the PDF is typeset, not before it can
    # start; by a forked process, giving way to the typesetting (which the run's end waits for: os.nice,
    # this process ending with them)
    with pngs_later(svg_only=svg_only) as draw_pngs:
        written = _report_pages(results, out, lang, formats, progress, tell=tell, svg_only=svg_only)
        if "charts" in written.paths:
            if forked:
                give_way()
            try:
                draw_pngs()
            except Exception as exc:  # noqa: BLE001 (the report's pages are written: their charts are the SVG files)
                _charts_failed(written, out, exc)
    return written


def _report_pages(results: Results, out: Path, lang: str, formats: Sequence[str],
                  progress: Callable[[str], None], *, tell: Callable[[tuple[str, str | None]], object],
                  svg_only: bool) -> _Written:
    written = _Written(out)
    report_files = [name for name in REPORT_FILES if name.split(".")[1] in formats]
    if not written.attempt(CONTEXT_FILE, lambda path: write_context(
            report_context(results, lang, charts_dir=out / CHARTS_DIR), path)):
        _remove(out / CHARTS_DIR)
        written.fail(report_files, "the report context it is made from failed")
        return written
    written.paths["charts"] = out / CHARTS_DIR
    if svg_only:
        tell(("pngs", None))
    progress("render the report")
    try:  # composed from the context as saved, as `lqas report` composes it again
        document = compose(read_context(written.paths[CONTEXT_FILE], complete=True))
    except Exception as exc:  # noqa: BLE001 (the tables and the workbook are still written)
        written.fail(report_files, _reason(exc))
        return written
    if "pdf" in formats:
        try:
            source = typst_source(document)
        except Exception as exc:  # noqa: BLE001 (a custom template's mistake loses the PDF alone)
            written.fail(["report.pdf"], _reason(exc))
        else:
            tell(("pdf", source))
    if "html" in formats:
        written.attempt("report.html", lambda path: path.write_text(html_page(document, out), encoding="utf-8"))
    return written


def _quiet(message: str) -> None:
    """The progress of work in another process: the run's own messages say where it is."""


REPORT_FILES = ("report.html", "report.pdf")


def run_tables(results: Results) -> dict[str, pd.DataFrame]:
    """The tables of :data:`TABLES` by name without extension (``estimates``), those the run has."""
    tables = {"derived": results.derived.table, "exclusions": results.derived.exclusions[EXCLUSION_COLUMNS],
              "repairs": results.derived.repairs, "estimates": results.estimates,
              "classification": results.classification, "lqas_by_level": results.lots_by_level,
              "comparisons": results.comparisons, "scorecard": results.scorecard}
    if results.priorities is not None:
        if not results.priorities.numbers.empty:  # only with populations
            tables["children_numbers"] = results.priorities.numbers
        tables["priorities"] = results.priorities.areas
    if results.rounds is not None:  # [rounds]: the change from each earlier round
        tables |= {"changes": results.rounds.changes, "gap_changes": results.rounds.gaps,
                   "arm_changes": results.rounds.arms, "lqas_transitions": results.rounds.transitions}
    if results.quality is not None:  # the fieldwork checks (lqas quality)
        tables["quality"] = results.quality.checks
    if results.admin is not None:  # [admin]: the DHIS2 extracts against the survey
        tables |= {"admin": results.admin.comparison, "dq_flags": results.admin.flags,
                   "admin_unused": results.admin.unused}
    if results.small_area is not None:  # [small_area]: every area of the file, sampled or not
        tables["small_area"] = results.small_area.table
    return {stem: frame for stem, frame in tables.items() if frame is not None}


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A table as Parquet: the values as they are (no text neutralised: a program reads this file, not
    a spreadsheet), dates as dates, no index; the same bytes for the same table (no time stamp,
    and no pandas metadata that would carry its version)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = []
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j]
        try:
            columns.append(pa.array(values, from_pandas=True))
        except pa.ArrowException:  # an object column mixing texts and numbers: as text
            columns.append(pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.string()))
    table = pa.Table.from_arrays(columns, names=[str(column) for column in frame.columns])
    pq.write_table(table, path, compression="zstd")


def _reason(exc: BaseException) -> str:
    """The failure in one line: the error's own first line, or its kind when it says nothing."""
    text = " ".join(str(exc).split("\n")[0].split())
    if not text:
        return type(exc).__name__
    return text if isinstance(exc, LqasError) else f"{type(exc).__name__}: {text}"


def _remove(path: Path) -> None:
    """Drop what a failed output left half-written."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the run folder


@contextmanager
def run_folder(out: Path, inputs: Mapping[str, Path] = {}, *, overwrite: bool = False) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write the run into, moved to ``out`` if the block ends
    without an error (the folder already there becomes ``<out>.previous``); removed otherwise.

    Refused, in one line, before any work: ``out`` is a file, or a non-empty folder that holds no
    lqas run (unless ``overwrite``: it is then kept as ``<out>.previous``, never deleted); an input
    file is inside ``out`` (the run would replace it); another run is writing ``out``; the parent
    folder cannot be written.
    """
    out = Path(out)
    _check_target(out, inputs, overwrite)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None
    with _lock(parent / f".{out.name}.lqas-lock", out):
        staging = parent / f".{out.name}.lqas-partial-{os.getpid()}"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
        except OSError as exc:
            raise InputError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None
        try:
            try:
                yield staging
            except OSError as exc:  # a full disk, a folder made read-only while the run writes
                raise InputError(f"{out}: writing the run failed ({exc.strerror or exc}); nothing in {out} "
                                 "was changed") from None
            _put_in_place(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _check_target(out: Path, inputs: Mapping[str, Path], overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose another --out")
    existing = next(folder for folder in out.absolute().parents if folder.exists())
    if not existing.is_dir():
        raise InputError(f"{out}: cannot write the run folder here ({existing} is a file, not a folder)")
    inside = out.resolve()
    for role, path in inputs.items():
        if inside == path.resolve() or inside in path.resolve().parents:
            raise InputError(f"{path}: the {role} file is inside the run folder {out}, which a run replaces "
                             "as a whole; move it or choose another --out")
    if out.is_dir() and not overwrite and not (out / "manifest.json").is_file() and any(out.iterdir()):
        raise InputError(f"{out}: the folder is not empty and holds no lqas run; choose another --out, or pass "
                         f"--overwrite to replace it (what it holds is kept as {out.name}.previous)")


@contextmanager
def _lock(path: Path, out: Path) -> Iterator[None]:
    """An exclusive lock held for the run; the operating system releases it if the process dies,
    so a crash leaves no stale lock."""
    try:
        handle = path.open("a+b")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"{out}: another lqas run is writing this folder; wait for it to end or choose "
                         "another --out") from None
    try:
        yield
    finally:
        handle.close()
        path.unlink(missing_ok=True)


def _put_in_place(staging: Path, out: Path) -> None:
    previous = out.with_name(f"{out.name}.previous")
    try:
        if out.exists():
            if previous.exists():
                shutil.rmtree(previous)
            out.rename(previous)
        staging.rename(out)
    except OSError as exc:
        raise InputError(f"{out}: the run was written but could not be moved into place "
                         f"({exc.strerror or exc}); nothing in {out} was changed") from None


# --------------------------------------------------------------------------- manifest


def project_inputs(project: Project) -> dict[str, Path]:
    """Every file a run reads, by role: the project file, the export and merged files, the
    populations, the mapping profile, schedule and priorities (shipped or the project's own), the reviewed
    remarks."""
    data = project.data
    files = {"project": project.file if project.file.is_absolute() else Path.cwd() / project.file,
             "data": project.resolve(data.file)}
    files |= {f"merge.{name}": project.resolve(merged.file) for name, merged in data.merge.items()}
    if data.form is not None:
        files["form"] = project.resolve(data.form)
    if data.populations is not None:
        files["populations"] = project.resolve(data.populations)
    profile = project.resolve(Path(data.profile))
    files["profile"] = (profile if profile.suffix == ".toml"
                        else resource_dir("instruments") / "profiles" / f"{data.profile}.toml")
    schedule = project.vaccination.schedule
    files["schedule"] = (project.resolve(Path(schedule)) if schedule.endswith(".toml")
                         else data_path("schedules", f"{schedule}.toml"))
    if project.report.reviewed_remarks is not None:
        files["reviewed_remarks"] = project.resolve(project.report.reviewed_remarks)
    for previous in project.rounds.previous if project.rounds is not None else ():
        files[f"round.{previous.name}"] = project.resolve(previous.project)
    if project.households is not None:
        files["households"] = project.resolve(project.households.file)
    if project.admin is not None:
        admin = project.admin
        files |= {f"admin.{i + 1}": project.resolve(path) for i, path in enumerate(admin.files)}
        files["admin.mapping"] = project.resolve(admin.mapping)
        if admin.thresholds is not None:
            files["admin.thresholds"] = project.resolve(admin.thresholds)
        if admin.census is not None:
            files["admin.census"] = project.resolve(admin.census)
    if project.small_area is not None:
        files["small_area.areas"] = project.resolve(project.small_area.file)
        if project.small_area.boundaries is not None:
            files["small_area.boundaries"] = project.resolve(project.small_area.boundaries)
    if project.quality.checks is not None:
        files["quality.checks"] = project.resolve(project.quality.checks)
    files |= {f"logo.{i + 1}": project.resolve(logo) for i, logo in enumerate(project.report.cover.logos)}
    # the rules of the executive summary's categories and draft recommendations
    files["priorities"] = (project.resolve(project.report.priorities) if project.report.priorities is not None
                           else data_path("priorities.toml"))
    return files


def input_checksums(project: Project) -> list[dict]:
    """Role, path (relative to the project's folder, or to the package for a shipped file), SHA-256
    and size of every input: taken before the run writes anything."""
    # a missing file is left to the stage that reads it, whose error names what it needed
    return [_checksum(role, path, project.root) for role, path in project_inputs(project).items()
            if path.is_file()]


def manifest(results: Results, out: Path, lang: str, inputs: list[dict], *, formats: Sequence[str] = DEFAULT_FORMATS,
             failures: Sequence[dict] = ()) -> dict:
    """Inputs with checksums, versions, settings and row counts: what it takes to reproduce the run;
    the formats asked for and the outputs that failed, with the reason."""
    derived = results.derived
    return {
        "package": "lqas", "version": __version__,
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": results.project.model_dump(mode="json", exclude={"root", "file"}),
        "language": lang,
        "inputs": inputs,
        # answers that match no choice are counted, not quoted: an unexpected answer can be free text
        "decoding": derived.decoding and {**derived.decoding, "values_unmatched": {
            column: sum(values.values()) for column, values in derived.decoding["values_unmatched"].items()}},
        "rows": {"read": derived.rows_read, "kept": len(derived.table), "excluded": len(derived.exclusions),
                 "repaired_fields": len(derived.repairs)},
        "outputs": sorted(path.relative_to(out).as_posix() for path in out.rglob("*")
                          if path.is_file() and path.name != "manifest.json"),
        "formats": [name for name in FORMATS if name in formats],
        "failed": list(failures),
    }


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _checksum(role: str, path: Path, root: Path) -> dict:
    with path.open("rb") as handle:  # in chunks: a national export is hundreds of MB
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"role": role, "path": _shown(path, root), "sha256": digest, "bytes": path.stat().st_size}


def _shown(path: Path, root: Path) -> str:
    """Relative to the project's folder when inside it; a shipped file as ``lqas:<path in the package>``."""
    resolved = path.resolve()
    for base, prefix in ((root.resolve(), ""), (Path(__file__).resolve().parent, "lqas:"),
                         (resource_dir("instruments").resolve().parent, "lqas:")):
        if base in resolved.parents:
            return prefix + resolved.relative_to(base).as_posix()
    return resolved.as_posix()

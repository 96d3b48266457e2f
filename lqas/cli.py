"""Command-line interface: a thin shell over the library; LqasError -> one line per problem on stderr,
exit 2 (1 when only some outputs of a run could not be written)."""

from __future__ import annotations

import atexit
import functools
import gc
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lqas import __version__
from lqas.errors import InputError, LqasError
from lqas.resources import resource_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="LQAS classification, coverage estimation and reports for vaccination surveys.")
console = Console(stderr=True)

OutDir = Annotated[Path, typer.Option("--out", help="Output folder of the run.")]
Lang = Annotated[str | None, typer.Option("--lang", help="Report language: en or fr.")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace a non-empty --out folder that holds no lqas run (kept as <out>.previous).")]
# the words of survey.toml's [lqas] targets, on the scale of the outcome counted
GOOD = "Target a lot should reach (the 'upper threshold'), 0-1, e.g. 0.80."
BAD = "Level of a lot to improve (the 'lower threshold'), 0-1, below good, e.g. 0.50."


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lqas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False,
          quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Say nothing but warnings and errors.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say each stage as it starts, with the time "
                                                                         "the one before took.")] = False) -> None:
    """lqas command line."""
    if quiet and verbose:
        raise LqasError("--quiet and --verbose: choose one")
    # the library logs to "lqas"; the command line shows INFO with --verbose, WARNING otherwise
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("lqas: %(message)s"))
    logger = logging.getLogger("lqas")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    # --quiet: no spinner and no "wrote" lines (errors and warnings are printed apart, never silenced)
    console.quiet = quiet


@contextmanager
def _working(what: str) -> Iterator[Callable[[str], None]]:
    """A spinner naming the stage on a terminal (nothing when the output is a file or a pipe) and, with
    --verbose, one log line per stage with the time the previous stage took; yields the progress callback
    the library calls with each stage's name."""
    logger = logging.getLogger("lqas")
    started = [time.perf_counter(), what]

    def stage(message: str) -> None:
        now = time.perf_counter()
        logger.info("%s (%.1f s); %s", started[1], now - started[0], message)
        started[:] = [now, message]
        if status is not None:
            status.update(message)

    status = None
    if console.is_terminal and not console.quiet:
        with console.status(what) as status:
            yield stage
    else:
        yield stage
    logger.info("%s (%.1f s); done", started[1], time.perf_counter() - started[0])


def _check_lang(lang: str | None) -> str | None:
    if lang not in (None, "en", "fr"):
        raise LqasError(f"--lang: expected 'en' or 'fr'; got {lang!r}")
    return lang


Formats = Annotated[str, typer.Option(
    "--formats", help="Outputs to write, comma-separated: csv, xlsx, html, pdf, parquet (the tables as Parquet, for "
                 "programs reading a national survey's millions of rows) (default: csv,xlsx,html,pdf).")]


def _run(project_file: Path, out: Path, lang: str | None, overwrite: bool, formats: str) -> None:
    project, paths = run_command(project_file, out, lang=lang, overwrite=overwrite, formats=formats)
    console.print(f"[green]wrote[/green] {out}: " + ", ".join(sorted(p.name for p in paths.values())))
    _warn_example(project)


@functools.cache
def _spared_at_exit() -> None:
    """The command ends its process: as it exits, Python's last collections leave alone the objects of the
    run still held (``gc.freeze`` at exit, before them). They went through all of them: 0.35-0.4 s of a
    10^5-child run's command, the outputs already written."""
    atexit.register(gc.freeze)


def run_command(project_file: Path, out: Path, *, lang: str | None = None, overwrite: bool = False,
                formats: str = "csv,xlsx,html,pdf", working: Callable[[str], ContextManager] = _working):
    """``lqas run`` but its last lines: the project and the paths written. ``working(what)`` yields the
    progress callback (the spinner; the pipeline benchmark's timer)."""
    from lqas.config import load_project
    from lqas.derive import DerivedBeside

    project = load_project(project_file)
    _spared_at_exit()
    # the survey (and its earlier rounds) read and derived on the second core while this process loads the
    # rest of the run
    with DerivedBeside(project) as derived:
        from lqas.outputs import FORMATS
        from lqas.run import run_project

        chosen = [name.strip().lower() for name in formats.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in FORMATS]
        if unknown or not chosen:
            raise LqasError(f"--formats: expected some of {', '.join(FORMATS)} separated by commas; got {formats!r}")
        if derived.forked and {"html", "pdf"} & set(chosen):
            # matplotlib loaded now, beside the reading, not by the report's process after the tables start
            import lqas.charts  # noqa: F401
        with working("reading the project") as progress:
            return project, run_project(project, out, lang=_check_lang(lang), overwrite=overwrite, formats=chosen,
                                        progress=progress, derived=derived)


@app.command()
def demo(out: OutDir = Path("lqas-demo"), lang: Lang = None, overwrite: Overwrite = False,
         formats: Formats = "csv,xlsx,html,pdf") -> None:
    """Run the whole flow on the synthetic Mali example: its follow-up round, compared with the baseline."""
    # the follow-up round names the baseline under [rounds]: one run shows every stage, the change and the DiD
    _run(resource_dir("examples") / "mali_followup" / "survey.toml", out, lang, overwrite, formats)


@app.command()
def run(project: Annotated[Path, typer.Argument(help="Project file (survey.toml).")],
        out: OutDir = Path("lqas-run"), lang: Lang = None, overwrite: Overwrite = False,
        formats: Formats = "csv,xlsx,html,pdf") -> None:
    """Run a project: ingest, derive, classify, estimate and write the report."""
    _run(project, out, lang, overwrite, formats)


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="Run folder holding report_context.json.")],
           out: Annotated[Path, typer.Option("--out", help="Output file: .html, or .pdf for a PDF.")],
           template: Annotated[Path | None, typer.Option(
               "--template", help="Jinja template (default: the built-in report); see CONTEXT.md.")] = None,
           lang: Lang = None) -> None:
    """Render a report template against a run's saved report context (sandboxed, autoescaped)."""
    from lqas.report import render_report

    written = render_report(run_dir, out, template=template, lang=_check_lang(lang))
    console.print(f"[green]wrote[/green] {written}")


@app.command()
def validate(project: Annotated[Path, typer.Argument(help="Project file (survey.toml).")]) -> None:
    """Read and check the data: rows read, kept, excluded by reason, fields repaired."""
    from lqas.config import load_project
    from lqas.run import analyse

    # every check a run makes (the design, the targets, the comparisons), short of writing outputs:
    # validate accepts exactly the projects run accepts
    settings = load_project(project)
    derived = analyse(settings).derived
    table = Table(title=str(derived.source))
    table.add_column("")
    table.add_column("rows", justify="right")
    table.add_row("read", str(derived.rows_read))
    table.add_row("kept", str(len(derived.table)))
    for reason, count in derived.exclusions.groupby("reason").size().items():
        table.add_row(f"excluded: {reason}", str(count))
    for rule, count in derived.repairs.groupby("rule").size().items():
        table.add_row(f"repaired: {rule}", str(count))
    Console().print(table)
    if derived.decoding:  # how the form made sense of the export: the shape it found, said once
        shape = derived.decoding
        Console().print(f"read through the form: headers as {shape['headers']}"
                        + (f", groups joined by '{shape['separator']}'" if shape.get("separator") else "")
                        + f"; {shape.get('rows', 'one row per submission')}")
    from lqas.vaccination import not_collected

    missing = not_collected(derived.table, derived.schedule)
    if missing:
        # a dose the export never asks about is left out of every table: say so before the report does
        Console().print(f"doses of schedule '{derived.schedule.name}' with no card, register or recall column "
                        f"(left out of every table): {', '.join(missing)}")
    # warnings last: a failure above stays the one line it is
    _warn_personal(derived)
    _warn_decoding(derived)
    if derived.unread:
        listed = "; ".join(f"{name} = {columns}" for name, columns in derived.unread.items())
        print(f"lqas: warning: {derived.source}: the profile maps columns the export does not have (left empty): "
              f"{listed}", file=sys.stderr)
    _warn_example(settings)


def _warn_example(settings) -> None:
    """A project copied from the example that still carries its title, labels or synthetic flag."""
    from lqas.config.project import example_leftovers

    leftovers = example_leftovers(settings)
    if leftovers:
        print(f"lqas: warning: {settings.file}: copied from the example and still has {'; '.join(leftovers)}, "
              "but reads other data: change them before sending the report", file=sys.stderr)


def _warn_decoding(derived) -> None:
    """Answers that match no choice of the form: kept as written (a coded column sets them missing
    and lists them in repairs), and said, with the first few values."""
    unmatched = (derived.decoding or {}).get("values_unmatched", {})
    for column, values in unmatched.items():
        shown = ", ".join(f"'{value}' ({count})" for value, count in list(values.items())[:5])
        more = f" and {len(values) - 5} more" if len(values) > 5 else ""
        print(f"lqas: warning: {derived.source}: column '{column}': answers that match no choice of the form: "
              f"{shown}{more}", file=sys.stderr)


def _warn_personal(derived) -> None:
    """Columns that look personal and that the profile does not declare: withheld, and said."""
    if derived.looks_personal:
        listed = "; ".join(f"{column} ({kind})" for column, kind in derived.looks_personal.items())
        print(f"lqas: warning: {derived.source}: columns that look personal and are not listed in the profile's "
              f"personal or free_text (no output carries them; list them to confirm): {listed}", file=sys.stderr)


@app.command()
def compare(first: Annotated[Path, typer.Argument(help="Run folder of the earlier round (lqas run --out).")],
            second: Annotated[Path, typer.Argument(help="Run folder of the later round.")],
            out: Annotated[Path, typer.Option("--out", help="Folder for changes.csv, gap_changes.csv and "
                                                            "lqas_transitions.csv.")] = Path("lqas-compare"),
            names: Annotated[str | None, typer.Option(
                "--names", help="The rounds' names, earlier first, separated by a comma (default: the folders' "
                                "names).")] = None,
            revisited: Annotated[bool, typer.Option(
                "--revisited", help="The later round revisited the earlier one's clusters (the same cluster ids "
                                    "name the same clusters): the change's variance takes their covariance.")] = False,
            ) -> None:
    """Compare two runs: the change of every indicator between two survey rounds, with design-based intervals."""
    from lqas.context import GROUP_INDICATORS
    from lqas.rounds import compare_runs
    from lqas.safety import write_csv

    pair = tuple(name.strip() for name in names.split(",")) if names else None
    found = compare_runs(first, second, names=pair, revisited=revisited)
    if out.exists() and not out.is_dir():
        raise LqasError(f"{out}: a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("changes", found.changes), ("gap_changes", found.gaps),
                        ("lqas_transitions", found.transitions)):
        if frame is not None:
            write_csv(frame, out / f"{name}.csv")
            written.append(f"{name}.csv")
    changes = found.changes
    domain = list(changes.columns[1:changes.columns.get_loc("round_a")])  # between indicator and round_a
    national = changes[(changes[domain] == "all").all(axis=1) & changes["indicator"].isin(GROUP_INDICATORS)]
    table = Table(title=f"{found.rounds[0]} → {found.rounds[1]}, both cohorts, whole survey (every indicator "
                        f"and domain in changes.csv)")
    for column in ("indicator", found.rounds[0], found.rounds[1], "change (points, 95% CI)", "p"):
        table.add_column(column, justify="left" if column == "indicator" else "right")
    for row in national.itertuples():
        table.add_row(row.indicator, f"{100 * row.estimate_a:.1f}%", f"{100 * row.estimate_b:.1f}%",
                      f"{100 * row.change:+.1f} ({100 * row.change_ci_low:+.1f} to {100 * row.change_ci_high:+.1f})",
                      f"{row.p_value:.3f}")
    Console().print(table)
    console.print(f"[green]wrote[/green] {out}: " + ", ".join(written))


@app.command()
def triangulate(project: Annotated[Path, typer.Argument(help="Project file (survey.toml) with an \\[admin] table.")],
                out: Annotated[Path, typer.Option("--out", help="Folder for admin.csv, dq_flags.csv and "
                                                                "admin_unused.csv.")] = Path("lqas-triangulate"),
                ) -> None:
    """Set the administrative (DHIS2) data against the survey: admin and survey coverage by area, the WHO rules,
    the survey-implied target population and the data-quality checks of the extracts."""
    from lqas.config import load_project
    from lqas.run import triangulate_project
    from lqas.safety import write_csv

    settings = load_project(project)
    if out.exists() and not out.is_dir():
        raise LqasError(f"{out}: a file, not a folder")
    with _working("triangulating") as progress:
        found = triangulate_project(settings, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("admin", found.comparison), ("dq_flags", found.flags), ("admin_unused", found.unused)):
        write_csv(frame, out / f"{name}.csv")
    column = settings.admin.column
    table = Table(title=f"Administrative against survey coverage, {settings.admin.cohort} (every number in admin.csv)")
    for name in (column, "dose", "admin", "survey (95% CI)", "ratio", "difference", "flags", "implied target (95% CI)"):
        table.add_column(name, justify="left" if name in (column, "dose", "flags") else "right")

    def shown(value, form):
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else form.format(value)

    for row in found.comparison.to_dict("records"):
        flags = [label for key, label in (("over_100", ">100%"), ("ratio_flag", "DQR"), ("difference_flag", "WUENIC"))
                 if row[key] is True or row[key] == 1.0]
        table.add_row(str(row[column]), row["dose"], shown(100 * row["admin_coverage"], "{:.1f}%"),
                      f"{shown(100 * row['estimate'], '{:.1f}%')} ({shown(100 * row['ci_low'], '{:.1f}')}–"
                      f"{shown(100 * row['ci_high'], '{:.1f}')})", shown(row["ratio"], "{:.2f}"),
                      shown(100 * row["difference"], "{:+.1f}"), ", ".join(flags),
                      f"{shown(row['implied_target'], '{:,.0f}')} ({shown(row['implied_target_ci_low'], '{:,.0f}')}–"
                      f"{shown(row['implied_target_ci_high'], '{:,.0f}')})")
    Console().print(table)
    judged = found.flags[found.flags["flag"].notna()]
    flagged = judged[judged["flag"].astype(bool)]["check"].value_counts()
    Console().print("data-quality checks flagged: " + (", ".join(f"{check} {n}" for check, n in flagged.items())
                                                      or "none") + f" (of {len(judged):,} judged, dq_flags.csv)")
    unused = int(found.unused["rows"].sum()) if len(found.unused) else 0
    if unused:
        console.print(f"{unused:,} rows of the extracts not used: admin_unused.csv counts them by file and reason")
    console.print(f"[green]wrote[/green] {out}: admin.csv, dq_flags.csv, admin_unused.csv")


@app.command()
def quality(project: Annotated[Path, typer.Argument(help="Project file (survey.toml).")],
            out: Annotated[Path, typer.Option("--out", help="Folder for quality.csv, .xlsx, .html and .pdf.")
                           ] = Path("lqas-quality"),
            since: Annotated[str | None, typer.Option(
                "--since", help="Only the records interviewed on or after this day (YYYY-MM-DD).")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="The flags as JSON on standard output "
                                                                  "(lqas/data/quality.schema.json).")] = False,
            strict: Annotated[bool, typer.Option(
                "--strict", help="Exit with code 3 when a flag of --severity or graver is raised (for a scheduled "
                                 "job).")] = False,
            severity: Annotated[str, typer.Option("--severity", help="With --strict: alert (default) or "
                                                                     "warning.")] = "alert",
            formats: Annotated[str, typer.Option("--formats", help="Outputs, comma-separated: csv, xlsx, html, "
                                                                    "pdf.")] = "csv,xlsx,html,pdf",
            lang: Lang = None) -> None:
    """Check the fieldwork while it runs: by interviewer, team, cluster, day and lot (durations, workload, age
    heaping and displacement, sex ratio, cards, repairs, duplicates), with the flags a supervisor acts on."""
    import datetime as dt

    from lqas.config import load_project
    from lqas.fieldwork import quality_report
    from lqas.fieldwork_report import QUALITY_FORMATS, write_quality_outputs

    if severity not in ("alert", "warning"):
        raise LqasError(f"--severity: expected alert or warning; got {severity!r}")
    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise LqasError(f"--since: expected a day as YYYY-MM-DD; got {since!r}") from None
    settings = load_project(project)
    language = _check_lang(lang) or settings.report.language
    if out.exists() and not out.is_dir():
        raise LqasError(f"{out}: a file, not a folder")
    chosen = [name.strip().lower() for name in formats.split(",") if name.strip()]
    if not chosen or any(name not in QUALITY_FORMATS for name in chosen):
        raise LqasError(f"--formats: expected some of {', '.join(QUALITY_FORMATS)} separated by commas; got {formats!r}")
    with _working("checking the fieldwork"):
        found, document, checks = quality_report(settings, language, since=day)
    written = write_quality_outputs(found, document, checks, out, language, chosen, settings.labels_in(language))
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    else:
        table = Table(title=f"{document['records']:,} records" + (f" since {since}" if since else "")
                      + f": {document['counts']['alert']} alerts, {document['counts']['warning']} warnings")
        for name in ("severity", "level", "unit", "check", "what was found"):
            table.add_column(name, overflow="fold")
        for flag in document["flags"]:
            table.add_row(flag["severity"], flag["level"], flag["unit"], flag["check"], flag["explanation"])
        Console().print(table)
        for item in document["checks_off"]:
            console.print(f"off: {item['check']}: {item['reason']}")
        console.print(f"[green]wrote[/green] {out}: " + ", ".join(written))
    raised = document["counts"]["alert"] + (document["counts"]["warning"] if severity == "warning" else 0)
    if strict and raised:
        console.print(f"lqas: {raised} flag{'s' if raised > 1 else ''} of severity {severity} or graver (--strict)")
        raise typer.Exit(3)


@app.command()
def derive(project: Annotated[Path, typer.Argument(help="Project file (survey.toml).")],
           out: Annotated[Path, typer.Option("--out", help="CSV file for the child-level table.")] = Path("derived.csv")
           ) -> None:
    """Write the child-level table with every derived indicator."""
    from lqas.config import load_project
    from lqas.derive import derive_project, write_derived
    from lqas.outputs import project_inputs

    settings = load_project(project)
    for role, path in project_inputs(settings).items():
        if path.resolve() == out.resolve():
            raise LqasError(f"{out}: this is the {role} file of the project; write the table to another file")
    derived = derive_project(settings)
    write_derived(derived, out, neutralise=settings.report.csv_neutralise)
    console.print(f"[green]wrote[/green] {out} ({len(derived.table)} children)")


@app.command()
def remarks(project: Annotated[Path, typer.Argument(help="Project file (survey.toml).")],
            out: Annotated[Path, typer.Option("--out", help="CSV file of the remarks to review.")
                           ] = Path("remarks_to_review.csv")) -> None:
    """Write the interviewer remarks for review: only a reviewed file of them is ever published."""
    from lqas.config import load_project
    from lqas.derive import derive_project
    from lqas.remarks import write_remarks_to_review

    settings = load_project(project)
    derived = derive_project(settings)
    count = write_remarks_to_review(derived.free_text, out)
    console.print(f"[green]wrote[/green] {out} ({count} distinct remarks). Remarks can name people: delete or "
                  "rewrite what must not be published, then name the file in survey.toml as "
                  "\\[report] reviewed_remarks = \"...\"")


@app.command(name="fetch")
def fetch_command(project: Annotated[Path, typer.Argument(help="Project file (survey.toml) with a \\[fetch] table.")],
                  full: Annotated[bool, typer.Option("--full", help="Download every submission again.")] = False
                  ) -> None:
    """Download the form's current submissions and its definition from KoboToolbox or ODK Central
    into the project's data folder (the token from an environment variable, never written)."""
    from lqas.config import load_project
    from lqas.fetch import fetch

    settings = load_project(project)
    if settings.fetch is None:
        raise LqasError(f"{project}: no [fetch] table: name the server and form to download, e.g. [fetch] "
                        'server = "https://kf.kobotoolbox.org", platform = "kobo", asset = "<asset uid>"')
    with _working(f"downloading from {settings.fetch.server}"):
        result = fetch(settings.fetch, settings.root, full=full)
    folder = settings.root / settings.fetch.folder
    console.print(f"[green]fetched[/green] {result.submissions} submissions ({result.new} new) into {folder}: "
                  + ", ".join(sorted(path.name for path in result.files.values())))
    main = (folder / settings.fetch.file).resolve()
    if settings.resolve(settings.data.file).resolve() != main:
        print(f"lqas: warning: {project}: [data] file reads {settings.data.file}, not the download "
              f"({settings.fetch.folder / settings.fetch.file})", file=sys.stderr)


@app.command()
def init(export: Annotated[Path, typer.Option("--export", help="The export as downloaded (CSV, XLSX or ODK Central zip).")],
         form: Annotated[Path | None, typer.Option("--form", help="Its XLSForm: labels, choices and types.")] = None,
         out: Annotated[Path, typer.Option("--out", help="Folder for survey.toml and profile.toml.")] = Path("."),
         schedule: Annotated[str, typer.Option(help="Vaccination schedule whose doses are looked for.")] = "mali",
         overwrite: Annotated[bool, typer.Option(
             "--overwrite", help="Replace survey.toml and profile.toml if there (each kept as <name>.previous).")
         ] = False) -> None:
    """Draft survey.toml and a mapping profile from an export and its form, saying why each column
    was mapped, what was left open and what to check."""
    from lqas.draft import draft_project, write_draft

    draft = draft_project(export, form, schedule=schedule, out=out)
    written = write_draft(draft, out, overwrite=overwrite)
    table = Table("maps", "from column", "because", title="lqas init: drafted", show_lines=False)
    grouped: dict[str, list] = {}
    for found in draft.found:
        parts = found.key.split(".")
        depth = {"card": 2, "register": 2, "recall": 2, "besd": 1}.get(parts[0])
        if depth:
            grouped.setdefault(".".join(parts[:depth]), []).append(".".join(parts[depth:]))
        else:
            table.add_row(found.key, found.column, found.why)
    for key, names in grouped.items():  # one line per evidence section, not one per dose
        table.add_row(key, f"{len(names)} column{'s' if len(names) > 1 else ''}", ", ".join(names))
    Console().print(table)
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in written)}")
    for item in draft.open:
        print(f"left open: {item}: map it by hand in {written[1].name}")
    for item in draft.check:
        print(f"check: {item}")
    _try_draft(written[0])


def _try_draft(project_file: Path) -> None:
    """Read the export with the draft, as `lqas validate` would, and say what came of it."""
    from lqas.config import load_project
    from lqas.derive import derive_project

    try:
        derived = derive_project(load_project(project_file))
    except LqasError as exc:
        print(f"lqas: warning: the draft does not run yet: {exc}", file=sys.stderr)
        return
    reasons = derived.exclusions.groupby("reason").size()
    console.print(f"the draft reads {derived.rows_read} rows: {len(derived.table)} children kept"
                  + "".join(f", {count} excluded ({reason})" for reason, count in reasons.items())
                  + f"; next: edit the files, then `lqas validate {project_file}`")


@app.command()
def rules(n: Annotated[int, typer.Option(help="Sample size of the lot.")],
          good: Annotated[float, typer.Option(help=GOOD)],
          bad: Annotated[float, typer.Option(help=BAD)],
          alpha: Annotated[float, typer.Option(help="Limit on alpha = P(fail | good).")] = 0.10,
          beta: Annotated[float, typer.Option(help="Limit on beta = P(pass | bad).")] = 0.10,
          lot_size: Annotated[int | None, typer.Option(help="Lot size for the hypergeometric rule.")] = None,
          oc_png: Annotated[Path | None, typer.Option(help="Write the OC curve to this PNG file.")] = None,
          lang: Annotated[str, typer.Option(help="Language of the OC chart: en or fr.")] = "en",
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Decision rule d for a sample of n: the lot passes iff successes >= d."""
    from lqas.rules import decision_rule, plot_oc

    rule = decision_rule(n, good, bad, alpha, beta, lot_size=lot_size)
    if oc_png is not None:
        plot_oc(rule, lang=lang).savefig(oc_png, dpi=150)
    record = {"n": rule.n, "d": rule.d, "alpha": rule.alpha, "beta": rule.beta,
              "distribution": rule.distribution, "limits_met": rule.limits_met}
    if as_json:
        typer.echo(json.dumps(record))
    else:
        typer.echo(f"n={rule.n}: pass iff successes >= {rule.d}; alpha={rule.alpha:.4f} beta={rule.beta:.4f} "
                   f"({rule.distribution}{'' if rule.limits_met else '; limits NOT met: minimum alpha+beta'})")


@app.command()
def design(good: Annotated[float | None, typer.Option(help=GOOD)] = None,
           bad: Annotated[float | None, typer.Option(help=BAD)] = None,
           alpha: Annotated[float | None, typer.Option(
               help="LQAS: limit on alpha = P(fail | good), default 0.10. --change: the test's two-sided "
                    "significance level, default 0.05.")] = None,
           beta: Annotated[float, typer.Option(help="Limit on beta = P(pass | bad).")] = 0.10,
           lot_size: Annotated[int | None, typer.Option(help="Lot size (hypergeometric).")] = None,
           icc: Annotated[float | None, typer.Option(help="Intra-cluster correlation (cluster design).")] = None,
           cluster_size: Annotated[int | None, typer.Option(help="Children per cluster.")] = None,
           method: Annotated[str, typer.Option(help="Cluster method: ess or beta-binomial.")] = "ess",
           change: Annotated[bool, typer.Option(
               "--change", help="Plan the next round instead: children per round to detect a change of a "
                                "proportion from --from to --to (or, with --n, the change n children detect); "
                                "with --comparison-from/--comparison-to, per arm and round for a difference "
                                "in differences.")] = False,
           start: Annotated[float | None, typer.Option("--from", help="--change: the proportion now, 0-1.")] = None,
           end: Annotated[float | None, typer.Option("--to", help="--change: the proportion to detect, 0-1.")] = None,
           n: Annotated[float | None, typer.Option("--n", help="--change: children per round (gives the "
                                                               "minimum detectable change).")] = None,
           comparison_from: Annotated[float | None, typer.Option(
               help="--change: the comparison arm's proportion now (difference in differences).")] = None,
           comparison_to: Annotated[float | None, typer.Option(
               help="--change: the comparison arm's proportion expected in the next round.")] = None,
           deff: Annotated[float, typer.Option(help="--change: design effect of the cluster sample.")] = 1.0,
           power: Annotated[float, typer.Option(help="--change: power, 1 - beta of the test.")] = 0.80,
           pooled: Annotated[bool, typer.Option(
               "--pooled", help="--change: the pooled-variance formula (R power.prop.test) instead of the "
                                "unpooled one.")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Smallest sample size n and its decision rule d meeting both error limits; with --change, the
    sample a next round needs to detect a change (lqas.power)."""
    if change:
        record = _change_design(start, end, n, comparison_from, comparison_to, alpha=0.05 if alpha is None else alpha,
                                power=power, deff=deff, pooled=pooled)
    else:
        from lqas.rules import sample_size

        if good is None or bad is None:
            raise InputError("lqas design: give --good and --bad (an LQAS rule), or --change (a change between rounds)")
        result = sample_size(good, bad, 0.10 if alpha is None else alpha, beta, lot_size=lot_size, icc=icc,
                             cluster_size=cluster_size, method=method)
        record = result.as_dict()
    if as_json:
        typer.echo(json.dumps(record))
    else:
        typer.echo(" ".join(f"{key}={value:.4f}" if isinstance(value, float) else f"{key}={value}"
                            for key, value in record.items()))


def _change_design(start: float | None, end: float | None, n: float | None, comparison_from: float | None,
                   comparison_to: float | None, *, alpha: float, power: float, deff: float, pooled: bool) -> dict:
    """What ``lqas design --change`` prints: the formula it used, its inputs and the sample size (or the
    minimum detectable change)."""
    from lqas.power import change_sample_size, did_sample_size, minimum_detectable_change

    if start is None or (end is None) == (n is None):
        raise InputError("lqas design --change: give --from and either --to (the sample to detect that change) "
                         "or --n (the change n children per round detect)")
    settings = {"alpha": alpha, "power": power, "deff": deff}
    try:
        if comparison_from is not None or comparison_to is not None:
            if None in (comparison_from, comparison_to, end):
                raise InputError("lqas design --change: a difference in differences needs --from, --to, "
                                 "--comparison-from and --comparison-to")
            size = did_sample_size(start, end, comparison_from, comparison_to, **settings, exact=True)
            return {"form": "difference_in_differences", "from": start, "to": end, "comparison_from": comparison_from,
                    "comparison_to": comparison_to, **settings, "n_per_arm_and_round": math.ceil(size - 1e-9),
                    "n_exact": size}
        form = "pooled" if pooled else "unpooled"
        if n is not None:
            down = minimum_detectable_change(start, n, **settings, form=form, direction="down")
            up = minimum_detectable_change(start, n, **settings, form=form, direction="up")
            return {"form": form, "from": start, "n_per_round": n, **settings, "detectable_fall": down,
                    "detectable_rise": up}
        size = change_sample_size(start, end, **settings, form=form, exact=True)
        return {"form": form, "from": start, "to": end, **settings, "n_per_round": math.ceil(size - 1e-9),
                "n_exact": size}
    except ValueError as exc:
        raise InputError(f"lqas design --change: {exc}") from None


@app.command()
def table(n_min: Annotated[int, typer.Option(help="Smallest sample size.")] = 12,
          n_max: Annotated[int, typer.Option(help="Largest sample size.")] = 30,
          gap: Annotated[float, typer.Option(help="Bad threshold = target - gap.")] = 0.30,
          as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (long form with alpha and beta).")] = False
          ) -> None:
    """The classic LQAS decision-rule table (rows n, columns coverage target)."""
    from lqas.rules import decision_table

    if as_csv:
        typer.echo(decision_table(range(n_min, n_max + 1), gap=gap, long=True).to_csv(index=False), nl=False)
        return
    wide = decision_table(range(n_min, n_max + 1), gap=gap)
    wide.columns = [f"{target:.0%}" for target in wide.columns]
    typer.echo(wide.astype(object).where(wide.notna(), "N/A").to_string())


instrument = typer.Typer(no_args_is_help=True, help="The XLSForm questionnaires shipped with lqas.")
app.add_typer(instrument, name="instrument")


@instrument.command("build")
def instrument_build(out: Annotated[Path, typer.Option("--out", help="Folder for the XForm XML files.")] = Path("forms")
                     ) -> None:
    """Convert every shipped XLSForm to an ODK XForm (XML) with pyxform."""
    from lqas.instrument import build_forms

    for path in build_forms(out):
        console.print(f"[green]wrote[/green] {path}")


@instrument.command("list")
def instrument_list() -> None:
    """List the shipped XLSForm files (upload them to KoboToolbox or ODK Central)."""
    from lqas.instrument import forms

    for path in forms():
        typer.echo(str(path))


def main() -> None:
    """Console entry point."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            try:
                app()
            except SystemExit as done:
                # the library's warnings (a BeSD answer with an unknown code, ...) are said after the
                # result, on lines of their own, and only when the command succeeded
                if done.code in (0, None):
                    for warning in caught:
                        if issubclass(warning.category, UserWarning):
                            print(f"lqas: warning: {' '.join(str(warning.message).split())}", file=sys.stderr)
                raise
    except LqasError as exc:
        if debug:
            raise
        # one line per problem (a configuration file may have several), never a traceback
        for line in str(exc).splitlines() or [""]:
            if line.strip():
                print(f"lqas: error: {' '.join(line.split())}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()

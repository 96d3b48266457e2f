"""Outputs (05TO): the run folder of DESIGN.md §5, every file a view of one :class:`Results`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lqas import __version__
from lqas.config import Project
from lqas.context import report_context
from lqas.derive import write_derived
from lqas.errors import InputError
from lqas.report import CHARTS_DIR, CONTEXT_FILE, read_context, render_html, write_context, write_pdf
from lqas.results import Results
from lqas.safety import write_csv
from lqas.workbook import workbook_sheets, write_workbook

TABLES = ("derived.csv", "exclusions.csv", "repairs.csv", "estimates.csv", "classification.csv",
          "comparisons.csv", "scorecard.csv")


def write_outputs(results: Results, out: Path, lang: str,
                  progress: Callable[[str], None] = lambda message: None) -> dict[str, Path]:
    """Write the tables, charts, report context, workbook, report and manifest; return the paths by name."""
    prepare_folder(out)
    paths = {name: out / name for name in (*TABLES, "results.xlsx", CONTEXT_FILE, "report.html", "report.pdf",
                                           "manifest.json")}
    progress("write tables")
    neutralise = results.project.report.csv_neutralise
    write_derived(results.derived, paths["derived.csv"], neutralise=neutralise)
    tables = {"exclusions.csv": results.derived.exclusions, "repairs.csv": results.derived.repairs,
              "estimates.csv": results.estimates, "classification.csv": results.classification,
              "comparisons.csv": results.comparisons, "scorecard.csv": results.scorecard}
    for name, frame in tables.items():
        if frame is None:
            del paths[name]
        else:
            write_csv(frame, paths[name], neutralise=neutralise)

    progress("charts and report context")
    context = report_context(results, lang, charts_dir=out / CHARTS_DIR)
    write_context(context, paths[CONTEXT_FILE])
    write_workbook(paths["results.xlsx"], workbook_sheets(results, lang))
    progress("render the report")
    # every template sees the context a custom one would, checked against the same schema
    context = read_context(paths[CONTEXT_FILE], complete=True)
    html = render_html(context, run_dir=out)
    paths["report.html"].write_text(html, encoding="utf-8")
    write_pdf(html, paths["report.pdf"], run_dir=out)

    paths["manifest.json"].write_text(json.dumps(manifest(results, out, lang), indent=2, ensure_ascii=False),
                                      encoding="utf-8")
    paths["charts"] = out / CHARTS_DIR
    return paths


def prepare_folder(out: Path) -> None:
    """Create the run folder, or say in one line why it cannot be written to (before any work is done)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".lqas-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None


def manifest(results: Results, out: Path, lang: str) -> dict:
    """Inputs with checksums, version, settings and row counts: what it takes to reproduce the run."""
    derived = results.derived
    return {
        "package": "lqas", "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": results.project.model_dump(mode="json"),
        "language": lang,
        "inputs": [_checksum(path) for path in _inputs(results.project)],
        "rows": {"read": derived.rows_read, "kept": len(derived.table), "excluded": len(derived.exclusions),
                 "repaired_fields": len(derived.repairs)},
        "outputs": sorted(str(path.relative_to(out)) for path in out.rglob("*")
                          if path.is_file() and path.name != "manifest.json"),
    }


def _inputs(project: Project) -> list[Path]:
    files = [project.resolve(project.data.file)]
    if project.data.populations is not None:
        files.append(project.resolve(project.data.populations))
    files += [project.resolve(merged.file) for merged in project.data.merge.values()]
    return files


def _checksum(path: Path) -> dict:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}

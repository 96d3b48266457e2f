"""Interviewer remarks: free text that is published only after a person has reviewed it.

A remark can name a caretaker, a village chief or a health worker. The run never writes the
remarks of the export: ``lqas remarks`` writes them, grouped, to a file the user reviews (deletes,
shortens, anonymises); ``survey.toml`` ``[report] reviewed_remarks`` names the reviewed file, and
only that file's text reaches the report and the workbook.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lqas.config import Project
from lqas.errors import InputError, SettingError
from lqas.readers import read_source

# the canonical columns typed by hand (lqas/data/canonical.toml); kept out of the child table
FREE_TEXT = ("interviewer_remarks",)
COLUMNS = ("remark", "n", "catchments")
NEUTRALISED = {"'" + c for c in "=+-@\t\r"}


def split_free_text(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The child table without its free-text columns, and the non-empty texts as
    ``source_row, catchment, column, text`` (never written by a run)."""
    present = [column for column in FREE_TEXT if column in table]
    texts = []
    for column in present:
        text = table[column].astype("string").str.strip()
        text = text[text.notna() & (text != "")]
        texts.append(pd.DataFrame({"source_row": table.loc[text.index, "source_row"],
                                   "catchment": table.loc[text.index, "catchment"].astype(str),
                                   "column": column, "text": text.astype(str)}))
    frame = (pd.concat(texts, ignore_index=True) if texts
             else pd.DataFrame(columns=["source_row", "catchment", "column", "text"]))
    kept = table.copy(deep=False)  # the other columns are not copied (drop would copy them all)
    for column in present:
        del kept[column]
    return kept, frame


def remarks_to_review(free_text: pd.DataFrame) -> pd.DataFrame:
    """Each distinct text once, most frequent first: ``remark``, ``n``, ``catchments`` (``; ``-separated)."""
    if free_text.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    grouped = free_text.groupby("text", sort=False)
    out = pd.DataFrame({"remark": list(grouped.groups),
                        "n": grouped.size().to_numpy(),
                        "catchments": ["; ".join(sorted(set(group["catchment"]))) for _, group in grouped]})
    return out.sort_values(["n", "remark"], ascending=[False, True], kind="stable").reset_index(drop=True)


def published_remarks(project: Project) -> list[dict] | None:
    """The reviewed remarks named in ``[report] reviewed_remarks`` as ``[{text, n, catchments}]``;
    None when the project names no reviewed file (then no remark is published)."""
    if project.report.reviewed_remarks is None:
        return None
    path = project.resolve(project.report.reviewed_remarks)
    if not path.is_file():
        raise SettingError("report.reviewed_remarks", f"{path}: file not found (write it with `lqas remarks`, "
                                                      "then review it)")
    source = read_source(path)
    frame = source.frame
    if "remark" not in frame:
        raise InputError(f"{path}: a reviewed remarks file needs a column 'remark' (with, optionally, 'n' "
                         f"and 'catchments', as `lqas remarks` writes them); columns: {', '.join(frame.columns)}")
    out = []
    for position, values in enumerate(frame.to_dict("records"), start=source.row_offset):
        text = values.get("remark")
        if not isinstance(text, str) or not text.strip():
            continue
        if text[:2] in NEUTRALISED:  # as `lqas remarks` wrote it, so that no spreadsheet ran it
            text = text[1:]
        n = values.get("n")
        try:
            count = int(float(n)) if isinstance(n, str) else None  # a reviewer may drop the counts
        except ValueError:
            raise InputError(f"{path}: row {position}, column 'n': expected a whole number; got {n!r}") from None
        catchments = values.get("catchments")
        out.append({"text": text.strip(), "n": count,
                    "catchments": ([c.strip() for c in catchments.split(";") if c.strip()]
                                   if isinstance(catchments, str) else [])})
    return out


def write_remarks_to_review(free_text: pd.DataFrame, path: Path) -> int:
    """Write :func:`remarks_to_review` to ``path`` (CSV, UTF-8); return how many distinct remarks."""
    from lqas.safety import write_csv

    frame = remarks_to_review(free_text)
    write_csv(frame, path)
    return len(frame)

"""Exports as KoboToolbox and ODK Central write them, read through their form: one row per child.

A form that asks about each child of a household in a repeat group is exported in parts: the
households (one row per submission) and the children (one row per repeat), as two sheets of
KoboToolbox's XLSX (joined by ``_parent_index`` = ``_index``) or two files of ODK Central's zip
(``<form>.csv`` and ``<form>-<repeat>.csv``, joined by ``PARENT_KEY`` = ``KEY``), or two CSV files
beside each other named that way (the zip unpacked; ``lqas fetch``'s download). Each part is decoded
through the form (`lqas.form.decode_export`) and every child gets its household's answers.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from lqas.errors import InputError
from lqas.form import Decoded, Form, decode_export
from lqas.readers import Source, read_source


@dataclass(frozen=True)
class Export:
    """An export read through its form: the rows to analyse and how they were read."""

    source: Source  # one row per child; row numbers are those of the children's sheet or file
    decoded: Decoded  # the children's part (the households' answers joined on)
    summary: dict


def read_export(path: str | Path, form: Form, *, repeat: str | None = None, sheet: str | int | None = None,
                encoding: str | None = None, delimiter: str | None = None) -> Export:
    """Read an export (CSV, XLSX, ODK Central zip) through its form, one row per child.

    Parameters
    ----------
    repeat : str, optional
        The repeat group holding the children (``[data] repeat``); needed only when the form has
        several. A form without repeat groups is read as one table.

    Raises
    ------
    InputError
        One line: the export lacks the children's part (a KoboToolbox CSV carries no repeat group),
        the zip holds no CSV, or the form has several repeat groups and none is named.
    """
    path = Path(path)
    repeats = _repeats(form)
    read = {"encoding": encoding, "delimiter": delimiter}
    with tempfile.TemporaryDirectory(prefix="lqas-export-") as unpacked:
        parts = _parts(path, sheet, Path(unpacked), form)
        main = _read(parts["main"], form, **read)
        group = _children_group(path, form, repeats, repeat, main, parts)
        if group is None:
            return Export(main[0], main[1], {**main[1].summary(), "rows": "one row per submission"})
        if group not in parts:
            raise InputError(f"{path}: the form asks about each child in repeat group '{group}', which this export "
                             "does not hold (a KoboToolbox CSV leaves repeat groups out): download the XLSX "
                             "export (a sheet per repeat group) or ODK Central's zip")
        children = _read(parts[group], form, **read)
    joined, households_alone = _join(main[0].frame, children[0].frame, group, path)
    source = replace(children[0], frame=joined, path=path)
    household, child = main[1].summary(), children[1].summary()
    # what the households' part could not decode is said as well as the children's own
    summary = {**child, "columns_unmatched": [*household["columns_unmatched"], *child["columns_unmatched"]],
               "values_unmatched": {**household["values_unmatched"], **child["values_unmatched"]},
               "rows": f"one row per child (repeat group '{group}')",
               "households": len(main[0].frame), "households_without_children": households_alone}
    return Export(source, children[1], summary)


def _repeats(form: Form) -> list[str]:
    return list(dict.fromkeys(q.repeat for q in form.questions if q.repeat is not None))


def _parts(path: Path, sheet: str | int | None, unpacked: Path,
           form: Form) -> dict[str, tuple[Path, str | int | None]]:
    """Where each part of the export is: ``main`` and, by repeat name, the repeat groups' parts."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".csv") and not n.endswith("/")]
                if not names:
                    raise InputError(f"{path}: the zip holds no CSV file")
                main_name = min(names, key=lambda n: (n.count("-"), len(n)))
                stem = Path(main_name).stem
                parts: dict[str, tuple[Path, str | int | None]] = {}
                for name in names:
                    target = unpacked / Path(name).name
                    target.write_bytes(archive.read(name))
                    if name == main_name:
                        parts["main"] = (target, None)
                    elif Path(name).stem.startswith(f"{stem}-"):
                        parts[Path(name).stem[len(stem) + 1:]] = (target, None)
                return parts
        except zipfile.BadZipFile:
            raise InputError(f"{path}: not a zip file") from None
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
            headers = {name: [cell for row in book[name].iter_rows(max_row=1, values_only=True) for cell in row]
                       for name in book.sheetnames}
            book.close()
        except Exception:  # noqa: BLE001 (read_source says what is wrong with the file)
            return {"main": (path, sheet)}
        sheets = list(headers)
        if sheet is None:
            # the submissions are on the first sheet in the servers' exports; a workbook someone
            # rearranged (a notes sheet first) is read from the sheet whose header the form knows best
            known = {name: len(decode_export(pd.DataFrame(columns=range(len(row))), form,
                                             [str(cell) for cell in row]).renamed)
                     for name, row in headers.items() if name not in _repeats(form)}
            main = max(known, key=lambda name: (known[name], -sheets.index(name))) if known else sheets[0]
        else:
            main = sheets[sheet] if isinstance(sheet, int) and 0 <= sheet < len(sheets) else sheet
        # formpack names a repeat's sheet after the group, cut to Excel's 31 characters
        return {"main": (path, main), **{name: (path, name) for name in sheets if name != main}}
    parts = {"main": (path, sheet)}
    if suffix == ".csv":
        # a repeat group downloaded apart (ODK Central's zip unpacked, `lqas fetch`): <stem>-<repeat>.csv
        parts |= {sibling.stem[len(path.stem) + 1:]: (sibling, None)
                  for sibling in sorted(path.parent.glob(f"{path.stem}-*.csv"))}
    return parts


def _read(part: tuple[Path, str | int | None], form: Form, **read) -> tuple[Source, Decoded]:
    file, sheet = part
    source = read_source(file, sheet=sheet, repeated_headers=True, **read)
    decoded = decode_export(source.frame, form, list(source.headers) if source.headers else None, file)
    return replace(source, frame=decoded.frame, headers=None), decoded


def _children_group(path: Path, form: Form, repeats: list[str], named: str | None,
                    main: tuple[Source, Decoded], parts: dict) -> str | None:
    """The repeat group whose rows are the children, or None when the main table is the children's."""
    if named is not None:
        if named not in repeats:
            from lqas.config._validation import did_you_mean

            raise InputError(f"{path}: [data] repeat = '{named}' is not a repeat group of the form "
                             f"(its repeat groups: {', '.join(repeats) or 'none'}){did_you_mean(named, repeats)}")
        return named
    if not repeats:
        return None
    holding = [r for r in repeats if any(q.repeat == r and q.column() in main[0].frame for q in form.questions)]
    if holding and not any(r in parts for r in repeats):
        return None  # an export that flattened the repeat into the main table (one child per row)
    present = [r for r in repeats if r in parts] or repeats
    if len(present) > 1:
        raise InputError(f"{path}: the form has several repeat groups ({', '.join(present)}): name the one "
                         "holding the children in survey.toml ([data] repeat = \"...\")")
    return present[0]


def _join(households: pd.DataFrame, children: pd.DataFrame, group: str, path: Path) -> tuple[pd.DataFrame, int]:
    """Each child with its household's answers: KoboToolbox joins ``_parent_index`` to ``_index``,
    ODK Central ``PARENT_KEY`` to ``KEY`` (read as ``_uuid``). The household's metadata (``_uuid``,
    ``_submission_time``, ...) keep their names; the repeat's own are kept as ``<group>/<name>``."""
    if "_parent_index" in children and "_index" in households:
        child_key, household_key = "_parent_index", "_index"
    elif "PARENT_KEY" in children and "_uuid" in households:
        child_key, household_key = "PARENT_KEY", "_uuid"
    else:
        raise InputError(f"{path}: the children's part has no _parent_index or PARENT_KEY column to find their "
                         "households by: export it again with the server's metadata columns")
    own = {column: f"{group}/{column}" for column in children.columns
           if column in households.columns and column != child_key}
    children = children.rename(columns=own)
    keys = households[household_key].astype("string").str.strip()
    if keys.duplicated().any():
        raise InputError(f"{path}: households' {household_key} is not unique ('{keys[keys.duplicated()].iloc[0]}'); "
                         "the children cannot be matched to their households")
    table = households.assign(_key=keys).set_index("_key")
    wanted = children[child_key].astype("string").str.strip()
    matched = table.reindex(wanted.to_numpy())
    matched.index = children.index
    joined = pd.concat([matched, children], axis=1)
    alone = int((~keys.isin(set(wanted.dropna()))).sum())
    return joined, alone

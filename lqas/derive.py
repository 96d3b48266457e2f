"""Derive (03DV): the project's export -> one child table holding every child-level column of the run.

`lqas derive` and `lqas run` both call :func:`derive_project`; what later stages read of a child
is in ``Derived.table`` and nowhere else, and what they need of the sample besides (the schedule,
the empty clusters, the logs) is a field of :class:`Derived`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from threading import Event
from typing import Self

import numpy as np
import pandas as pd

from lqas.besd import derive_besd
from lqas.config import Project
from lqas.config._validation import did_you_mean
from lqas.dtypes import add_columns, compact, compact_values, plain_text, release_memory
from lqas.errors import ConfigError, InputError, LqasError, SettingError
from lqas.gender import derive_gender
from lqas.ingest import ingest
from lqas.parallel import LARGE_TABLE_CELLS, Beside
from lqas.remarks import split_free_text
from lqas.safety import neutralise_csv, write_csv
from lqas.vaccination import Schedule, clean_dates, derive, load_schedule, vaccination_status
from lqas.weights import population_weights, read_populations


@dataclass(frozen=True)
class Derived:
    """The child table and everything the later stages need to know about how it was made.

    Attributes
    ----------
    table : DataFrame
        One row per kept child: the canonical columns (DESIGN.md §4), ``source_row``, ``age_days``,
        ``cohort``, ``weight``, every vaccination indicator, ``vaccination_status``, the BeSD and
        gender indicators. This is ``derived.csv``.
    schedule : Schedule
        The vaccination schedule the doses were judged against.
    exclusions, repairs : DataFrame
        Every excluded input row with its reason; every repaired field with its rule (ingest's and
        the date clean-up's).
    rows_read : int
        Rows of the main export: ``len(table) + len(exclusions)``.
    source : Path
        The main export file.
    empty_psus : dict of str to int
        Sampled clusters with no kept child, per catchment. They count as PSUs with zero totals
        in variances and degrees of freedom (VCQI, BeSD-TI): pass them as
        ``SurveyDesign(..., empty_psus=derived.empty_psus)``.
    merges : dict
        Per merged file: rows, children matched and unmatched, records matching no child.
    free_text : DataFrame
        The interviewer remarks (``source_row``, ``catchment``, ``column``, ``text``), kept out of
        the table: a run never writes them (:mod:`lqas.remarks`).
    looks_personal : dict of str to str
        Columns of the export that look personal (:mod:`lqas.privacy`) and that the profile neither
        declares nor reads, with what they look like: no output carries them.
    decoding : dict or None
        How the export was read through its form (``[data] form``): header shape, separator,
        columns the form does not know, answers matching no choice (`lqas.form.Decoded.summary`).
    """

    table: pd.DataFrame
    schedule: Schedule
    exclusions: pd.DataFrame
    repairs: pd.DataFrame
    rows_read: int
    source: Path
    empty_psus: dict[str, int] = field(default_factory=dict)
    merges: dict[str, dict] = field(default_factory=dict)
    free_text: pd.DataFrame = field(default_factory=pd.DataFrame)
    looks_personal: dict[str, str] = field(default_factory=dict)
    decoding: dict | None = None
    unread: dict[str, str] = field(default_factory=dict)


def derive_project(project: Project) -> Derived:
    """Ingest the project's export and derive every child-level indicator, with weights.

    Examples
    --------
    >>> from lqas import load_project
    >>> from lqas.resources import resource_dir
    >>> derived = derive_project(load_project(resource_dir("examples") / "mali_baseline" / "survey.toml"))
    >>> derived.rows_read == len(derived.table) + len(derived.exclusions)
    True
    >>> {"zero_dose", "vaccination_status", "besd_confb", "mother_decides_vaccination", "weight"} <= set(derived.table)
    True
    """
    with project.naming_errors():
        return _derive(project)


# inputs of fewer bytes are derived beside the command line's imports (DerivedBeside): a second of imports
# (scipy.stats, statsmodels, matplotlib) made while the survey is read. The child table comes back through
# memory the two processes share (lqas.parallel: 0.06 s at 10^5 children; 0.4 s when it came back pickled
# through the pipe, and a 67 MB export was then read faster in the run itself). A larger survey is read by
# the run itself: the forked process's peak beside the run's would pass the memory a laptop gives a national
# run (a 10^6-child export weighs 670 MB; this many bytes, some 370,000 children)
EARLY_INPUT_BYTES = 250_000_000


class DerivedBeside:
    """The project's child table and those of its earlier rounds (``[rounds] previous``), each derived by
    a forked process of its own (:class:`lqas.parallel.Beside`) from the start, so that the command line
    loads the rest of the run meanwhile (about a second: scipy.stats, statsmodels, matplotlib) on the
    second core. ``table`` and ``rounds[name]`` give the :class:`Derived` as their result; where they do
    not fork (one core, Windows, macOS, inputs of :data:`EARLY_INPUT_BYTES` or more), the survey is
    derived when the result is asked for, as :func:`derive_project` would. As a context manager, what
    was not taken is stopped."""

    def __init__(self, project: Project):
        from lqas.config import load_project

        earlier: dict[str, Project] = {}
        for previous in project.rounds.previous if project.rounds is not None else ():
            try:
                earlier[previous.name] = load_project(project.resolve(previous.project))
            except LqasError:  # said where the run compares the rounds, as it always has been
                continue
        size = sum(_input_bytes(one) for one in (project, *earlier.values()))
        cells = 0 if size < EARLY_INPUT_BYTES else LARGE_TABLE_CELLS
        self.table = Beside(derive_project, project, cells=cells, later=True)
        self.rounds = {name: Beside(derive_project, one, cells=cells, later=True) for name, one in earlier.items()}

    @property
    def forked(self) -> bool:
        return self.table.forked

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        for work in (self.table, *self.rounds.values()):
            work.cancel()


def _input_bytes(project: Project) -> int:
    data = project.data
    files = [data.file, *(merged.file for merged in data.merge.values()), data.form, data.populations]
    return sum(path.stat().st_size for path in (project.resolve(file) for file in files if file is not None)
               if path.is_file())


def _derive(project: Project) -> Derived:
    schedule = load_schedule(_schedule(project))
    data = project.data
    ingested = ingest(project.resolve(data.file), _profile(project), cohorts=project.cohorts,
                      doses=schedule.keys, **data.ingest_options(project.root))
    if ingested.children.empty:
        reasons = ingested.exclusions["reason"].value_counts()
        raise InputError(f"{ingested.source}: no child is left to analyse: all {ingested.rows_read} rows were "
                         f"excluded ({', '.join(f'{reason}: {n}' for reason, n in reasons.items())}); "
                         "see the profile's rules and survey.toml [cohorts] (windows are in days)")
    youngest = min(low for low, _ in project.cohorts.values())
    # each stage lets go of the table it was given once it has made its own: a national survey's
    # child table weighs gigabytes, and two of them need not be held at once
    children, source = compact(ingested.children), ingested.source
    identifiers = plain_text(children)  # passed on by the stages below, not examined again after them
    ingested = replace(ingested, children=children.iloc[:0])  # the log kept, not a second child table
    cleaned, date_repairs = clean_dates(children, schedule, min_eligible_age_days=youngest)
    del children
    table = derive(cleaned, schedule, records=project.vaccination.records,
                   later_dose_implies_earlier=project.vaccination.later_dose_implies_earlier,
                   cohorts=project.cohorts, introduced=project.vaccination.introduced)
    del cleaned
    table = compact(table, settled=identifiers)  # the columns derive added, in place of their float64 ones
    del identifiers
    parts = [table]
    if {"zero_dose", "ui_dtp1_not_dtp3"} <= set(table.columns):
        parts.append(vaccination_status(table).to_frame())
    if any(column.startswith("CHI_") for column in table.columns):
        parts.append(derive_besd(table, coding=project.besd.coding))
    parts.append(derive_gender(table, coding=project.besd.coding))
    del table
    table = _join(parts)
    del parts
    _check_columns(table, project)
    table = add_columns(table, {"weight": _weights(table, project, source)})
    table, free_text = split_free_text(table)
    repairs = pd.concat([frame for frame in (ingested.repairs, date_repairs) if not frame.empty]
                        or [ingested.repairs], ignore_index=True)
    return Derived(table=table, schedule=schedule, exclusions=ingested.exclusions, repairs=repairs,
                   rows_read=ingested.rows_read, source=source,
                   empty_psus=dict(ingested.empty_clusters), merges=ingested.merges, free_text=free_text,
                   looks_personal=dict(ingested.looks_personal), decoding=ingested.decoding,
                   unread=dict(ingested.unread))


def _population_level(project: Project) -> tuple[str, ...]:
    """The columns the populations are given for: ``[populations] level`` (the cohort kept when the lots
    have it and the file is split to cohorts, or has a cohort column), else the lot columns."""
    level = project.populations.level
    if level is None:
        return tuple(project.lqas.lot)
    if "cohort" in project.lqas.lot and "cohort" not in level:
        level = (*level, "cohort")
    return tuple(level)


def _join(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Side by side; a column already present is kept from the earlier part (the derivers return
    only what they add, but the BeSD deriver also echoes identifiers it needs)."""
    table = parts[0]
    for part in parts[1:]:
        added = {c: compact_values(part[c]) for c in part.columns if c not in table}
        table = add_columns(table, added)  # the child table is not copied (a national survey's weighs GB)
    return table


def _weights(table: pd.DataFrame, project: Project, source: Path) -> pd.Series:
    design, data = project.design, project.data
    if design.weights == "population":
        if data.populations is None:
            raise ConfigError("survey.toml: design.weights = 'population' needs data.populations = '<file.csv>'")
        path = project.resolve(data.populations)
        keys = _population_level(project)
        populations = read_populations(path, keys, project.populations, project.cohorts)
        return population_weights(table, populations, keys, path)
    if design.weights == "column":
        column = design.weight_column
        if column not in table:
            raise SettingError("design.weight_column", f"'{column}' is not a column of the child table (map it in "
                               f"the profile's [columns]){did_you_mean(column, table.columns)}")
        weights = pd.to_numeric(table[column], errors="coerce")
        bad = ~(weights > 0) | ~np.isfinite(weights)
        if bad.any():
            # named as the user finds it: the export's row, not the position among the kept children
            row = table.loc[bad, "source_row"].iloc[0] if "source_row" in table else bad.to_numpy().argmax()
            raise InputError(f"{source}: row {row}, column '{column}': weight must be a positive number; got "
                             f"{table.loc[bad, column].iloc[0]!r} ({int(bad.sum())} children without a usable weight)")
        return weights
    return pd.Series(1.0, index=table.index)


def _check_columns(table: pd.DataFrame, project: Project) -> None:
    """The design's and the lots' columns are columns of the child table (before the populations
    are matched to the lots, so a misspelt lot column is not blamed on the populations file)."""
    settings = [("design.strata", project.design.strata), ("design.psu", project.design.psu)]
    settings += [("lqas.lot", column) for column in project.lqas.lot]
    settings += [("populations.level", column) for column in project.populations.level or ()]
    settings += [("levels.columns", column) for column in project.levels.columns]
    settings += [("stratifiers.columns", column) for column in project.stratifiers.columns]
    for key, column in settings:
        if column is not None and column not in table:
            hint = did_you_mean(column, table.columns) or (
                f"; map it in the mapping profile's [columns] ({column} = \"<export column>\")"
                if key.startswith("stratifiers") else "")
            raise SettingError(key, f"'{column}' is not a column of the child table{hint}")
    levels = project.levels.columns
    for upper, lower in itertools.pairwise(levels):
        # a lower unit in two upper ones would count in both, and the levels' totals would not add up
        pairs = table[[upper, lower]].dropna().astype(str).drop_duplicates()
        split = pairs[pairs[lower].duplicated(keep=False)]
        if len(split):
            unit = split[lower].iloc[0]
            places = " and ".join(f"'{v}'" for v in split.loc[split[lower] == unit, upper].iloc[:2])
            raise SettingError("levels.columns", f"{lower} '{unit}' lies in two {upper} units ({places}): each level "
                                                 f"must lie within one unit of the level above")


def _schedule(project: Project) -> str | Path:
    """A shipped schedule by name, or a TOML file relative to the project file."""
    name = project.vaccination.schedule
    return project.resolve(Path(name)) if name.endswith(".toml") else name


def _profile(project: Project) -> str | Path:
    candidate = project.resolve(Path(project.data.profile))
    return candidate if candidate.suffix == ".toml" and candidate.is_file() else project.data.profile


def write_derived(derived: Derived, path: Path, *, neutralise: bool = True, stop: Event | None = None) -> None:
    """``derived.csv``: the child table with dates as ISO text (the same file from `derive` and `run`);
    text a spreadsheet would run as a formula is neutralised (:func:`lqas.safety.write_csv`). ``stop``:
    set, the writing ends with an error at the next chunk (a run written beside it failed)."""
    table = derived.table.copy(deep=False)  # the date columns are replaced, none written into
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            # each distinct date formatted once (a survey's million children have a few thousand dates), the
            # column a categorical of that text: no Python object per row held while the file is written
            codes, dates = pd.factorize(table[column])
            day_codes, days = pd.factorize(np.asarray(dates.strftime("%Y-%m-%d"), dtype=object))
            # code -1: missing; the rows' codes made in the categorical's own small integers, not 8 bytes a row
            small = np.append(day_codes, -1).astype(np.min_scalar_type(-len(days) - 1))
            table[column] = pd.Series(pd.Categorical.from_codes(small[codes], categories=pd.Index(days, dtype=object)),
                                      index=table.index)
            del codes
    if neutralise:
        table = neutralise_csv(table)
    # the working arrays of the dates' text and of the neutralising (hash tables of a million identifiers)
    # given back before the file is written: a national table's is written beside the estimate, the run's peak
    release_memory()
    write_csv(table, path, neutralise=False, stop=stop)

"""Results: everything a run computed, as tidy DataFrames; every output of the run is a view of it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lqas.admin import AdminResults
from lqas.config import Project
from lqas.derive import Derived
from lqas.design import SurveyDesign
from lqas.fieldwork import Quality
from lqas.hotspots import SmallAreaResults
from lqas.indicators import Indicator
from lqas.priorities import Priorities
from lqas.rounds import RoundResults


@dataclass(frozen=True)
class Results:
    """One run's results.

    Attributes
    ----------
    project : Project
        The validated project file the run read.
    derived : Derived
        The child table and the logs of how it was made (:func:`lqas.derive_project`).
    design : SurveyDesign
        The survey design, built once and shared by every estimate of the run.
    registry : dict of str to Indicator
        Definitions, directions and labels of every indicator the run may show.
    estimates : DataFrame
        ``estimates.csv``: every indicator x domain (:func:`lqas.estimate.estimate`).
    classification : DataFrame
        ``classification.csv``: every lot x LQAS target (:func:`lqas.classify.classify_lots`).
    comparisons : DataFrame
        ``comparisons.csv``: girls - boys by cohort x catchment (:func:`lqas.compare.compare_sexes`);
        empty without girls and boys.
    scorecard : DataFrame or None
        ``scorecard.csv``: the gender & equity scorecard (:func:`lqas.scorecard.scorecard`), or
        None when the survey has no zero-dose data or no girls and boys.
    lots_by_level : DataFrame
        ``lqas_by_level.csv``: the lots' results put together for each unit of the levels above the
        lots and for the survey, weighted by the lots' populations (:func:`lqas.classify.aggregate_lots`).
    priorities : Priorities or None
        What the executive summary ranks and recommends (:func:`lqas.priorities.priorities`): the
        numbers of zero-dose and under-immunized children (``children_numbers.csv``), each area's
        WHO RED category and rank (``priorities.csv``), the draft recommendations.
    remarks : list of dict or None
        The interviewer remarks a person reviewed (``[report] reviewed_remarks``,
        :func:`lqas.remarks.published_remarks`); None when the project names no reviewed file, and
        then no remark is published.
    households : DataFrame or None
        Households visited, by result, and the response rate per catchment area and overall
        (:func:`lqas.households.household_response`); None without a ``[households]`` log.
    rounds : RoundResults or None
        The change from each earlier round of ``[rounds]`` to this one (``changes.csv``), of the
        girls − boys gap (``gap_changes.csv``) and between the arms of ``[arms]`` (``arm_changes.csv``)
        (:func:`lqas.rounds.analyse_rounds`); None without ``[rounds]``.
    quality : Quality or None
        The fieldwork checks by interviewer, team, cluster, day and lot (``quality.csv``,
        :func:`lqas.fieldwork.fieldwork_quality`; ``lqas quality`` gives them alone).
    admin : AdminResults or None
        Administrative (DHIS2) coverage against the survey's, unit by unit (``admin.csv``), the WHO
        data-quality checks of the extracts (``dq_flags.csv``) and their rows not used
        (``admin_unused.csv``) (:func:`lqas.admin.analyse_admin`); None without ``[admin]``.
    small_area : SmallAreaResults or None
        One indicator for every area of ``[small_area] file``, sampled or not: the Fay–Herriot model's
        estimates, numbers of children, exceedance and ranks (``small_area.csv``,
        :func:`lqas.hotspots.hotspots`); None without ``[small_area]``.
    """

    project: Project
    derived: Derived
    design: SurveyDesign
    registry: dict[str, Indicator]
    estimates: pd.DataFrame
    classification: pd.DataFrame
    comparisons: pd.DataFrame
    scorecard: pd.DataFrame | None
    remarks: list[dict] | None = None
    lots_by_level: pd.DataFrame | None = None
    priorities: Priorities | None = None
    households: pd.DataFrame | None = None
    rounds: RoundResults | None = None
    admin: AdminResults | None = None
    quality: Quality | None = None
    small_area: SmallAreaResults | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The child table (``derived.csv``)."""
        return self.derived.table

    @property
    def indicators(self) -> list[str]:
        """Indicators of the registry present in the child table, in registry order."""
        return [key for key in self.registry if key in self.derived.table]

    def summary(self) -> dict[str, object]:
        """What the run holds, in numbers: the survey, children analysed and excluded, lots classified,
        estimates, and which optional parts it has."""
        project = self.project
        return {"survey": project.survey.name, "children": len(self.table),
                "excluded": len(self.derived.exclusions), "catchments": int(self.table["catchment"].nunique()),
                "lots classified": int((self.classification["class"] != "no_data").sum())
                if "class" in self.classification else 0,
                "estimates": len(self.estimates),
                "rounds": None if self.rounds is None else " → ".join(self.rounds.rounds),
                "admin (DHIS2)": None if self.admin is None else f"{len(self.admin.comparison)} area-doses",
                "fieldwork flags": None if self.quality is None else len(self.quality.flags),
                "small-area model": None if self.small_area is None else (
                    f"{len(self.small_area.table)} areas" if self.small_area.fit is not None
                    else "not fitted: " + str(self.small_area.message))}

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.summary().items() if value is not None)
        return f"Results({shown})"

    def _repr_html_(self) -> str:
        """A notebook's view: the summary as a small table (the frames are the attributes)."""
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
                       f"<td>{html.escape(str(value))}</td></tr>"
                       for key, value in self.summary().items() if value is not None)
        return f"<table><caption>lqas Results</caption>{rows}</table>"

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tidy tables by name (``estimates``, ``classification``, ...), as the run writes
        them to CSV."""
        from lqas.outputs import run_tables

        return run_tables(self)

    def to_csv(self, folder: str | Path) -> list[Path]:
        """Write every table of :meth:`tables` as ``<name>.csv`` into ``folder`` (made if needed), as
        ``lqas run`` writes them; return the files written."""
        from lqas.derive import write_derived
        from lqas.safety import write_csv

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        neutralise = self.project.report.csv_neutralise
        written = []
        for name, frame in self.tables().items():
            path = folder / f"{name}.csv"
            if name == "derived":  # the child table's own writer (dates as the run writes them)
                write_derived(self.derived, path, neutralise=neutralise)
            else:
                write_csv(frame, path, neutralise=neutralise)
            written.append(path)
        return written

    def to_excel(self, path: str | Path, lang: str | None = None) -> Path:
        """Write ``results.xlsx`` (the formatted sheets of ``lqas run``) to ``path``, in ``lang`` (the
        project's report language by default)."""
        from lqas.workbook import workbook_sheets, write_workbook

        path = Path(path)
        write_workbook(path, workbook_sheets(self, lang or self.project.report.language))
        return path

"""Results: everything a run computed, as tidy DataFrames; every output of the run is a view of it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lqas.admin import AdminResults
from lqas.config import Project
from lqas.derive import Derived
from lqas.design import SurveyDesign
from lqas.fieldwork import Quality
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

    @property
    def table(self) -> pd.DataFrame:
        """The child table (``derived.csv``)."""
        return self.derived.table

    @property
    def indicators(self) -> list[str]:
        """Indicators of the registry present in the child table, in registry order."""
        return [key for key in self.registry if key in self.derived.table]

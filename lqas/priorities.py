"""Priorities: the numbers of zero-dose and under-immunized children, each area's WHO RED problem
category, the areas ranked, and draft recommendations from rules kept as data (a view of the
estimates, the girls-boys comparisons and the LQAS classification).

The number of children with a condition in a unit is the unit's population times the estimated
prevalence, and its 95 % interval the population times the prevalence's interval: the population is
known (the lots' populations the weights were made from), so the interval carries through unchanged.
A unit's population is the sum of its children's weights (``n_weighted``), which equals the
populations file when the weights are made from it (``[design] weights = "population"``); numbers
are given only there, and only for units the populations file adds up to (the lots and the levels
above them), never for a stratifier's group, whose population is itself an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lqas.config import Project
from lqas.config.priorities import CATEGORIES, Condition, PrioritiesFile, load_priorities
from lqas.design import ALL
from lqas.dtypes import distinct_text

# the conditions whose numbers of children are counted
NUMBERED = ("zero_dose", "ui_dtp1_not_dtp3")
NUMBER_COLUMNS = ["indicator", "cohort", "unit_level", "population", "n", "estimate", "ci_low", "ci_high",
                  "children", "children_ci_low", "children_ci_high"]


@dataclass(frozen=True)
class Priorities:
    """What the executive summary says, as tables.

    Attributes
    ----------
    numbers : DataFrame
        ``children_numbers.csv``: for zero-dose and under-immunized, each cohort (and both) and each
        unit whose population is known (the survey, each unit of the levels down to the lots):
        ``population``, the prevalence (``estimate``, ``ci_low``, ``ci_high``, ``n``) and
        ``children`` = population x estimate, with ``children_ci_low`` and ``children_ci_high``.
        Empty when the weights are not made from populations.
    areas : DataFrame
        ``priorities.csv``: one row per catchment area, ranked by its number of zero-dose children
        (all cohorts; by prevalence when there are no numbers): ``rank``, ``rank_prevalence``, the
        zero-dose and under-immunized numbers and prevalences, the access and dropout estimates,
        the WHO RED ``category``, the lots below their zero-dose target, and one column per condition
        of the rules (true / false / empty when it cannot be told).
    recommendations : list of dict
        Per rule that holds somewhere: ``id``, ``en``, ``fr`` (the texts, ``%(areas)s`` to fill) and
        ``areas`` (catchment codes, in rank order).
    rules : PrioritiesFile
        The rules read (``lqas/data/priorities.toml`` or ``[report] priorities``).
    """

    numbers: pd.DataFrame
    areas: pd.DataFrame
    recommendations: list[dict] = field(default_factory=list)
    rules: PrioritiesFile | None = None


def priorities(estimates: pd.DataFrame, comparisons: pd.DataFrame, classification: pd.DataFrame,
               project: Project, rules: PrioritiesFile | None = None) -> Priorities:
    """The run's priorities (see :class:`Priorities`)."""
    rules = rules or load_priorities(project.resolve(project.report.priorities) if project.report.priorities else None)
    cohorts = [name for name, _ in sorted(project.cohorts.items(), key=lambda item: item[1])]
    cohorts = [c for c in cohorts if c in set(distinct_text(estimates["cohort"]))]
    numbers = children_numbers(estimates, project)
    areas = _areas(estimates, numbers, classification, cohorts, rules)
    for name, condition in rules.conditions.items():
        areas[name] = _condition(condition, areas, estimates, comparisons, cohorts)
    return Priorities(numbers=numbers, areas=areas, recommendations=_recommendations(areas, rules), rules=rules)


def children_numbers(estimates: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Numbers of zero-dose and under-immunized children where the population is known (see the module)."""
    geography = _geography(estimates, project)
    columns = ["indicator", "cohort", *geography, *NUMBER_COLUMNS[2:]]
    if project.design.weights != "population":
        return pd.DataFrame(columns=columns)
    known = _known_levels(project, geography)
    rows = _plain_rows(estimates, geography, NUMBERED)
    deepest = pd.Series("national", index=rows.index)
    for level in geography:
        deepest = deepest.mask(rows[level] != ALL, level)
    rows = rows[deepest.isin(["national", *known]).to_numpy()]
    deepest = deepest[rows.index]
    # the sum of a unit's weights is its population, to the rounding of the sum
    population = rows["n_weighted"].round(6)
    out = pd.DataFrame({
        "indicator": rows["indicator"], "cohort": rows["cohort"], **{level: rows[level] for level in geography},
        "unit_level": deepest, "population": population, "n": rows["n"], "estimate": rows["estimate"],
        "ci_low": rows["ci_low"], "ci_high": rows["ci_high"], "children": population * rows["estimate"],
        "children_ci_low": population * rows["ci_low"], "children_ci_high": population * rows["ci_high"]})
    return out.reset_index(drop=True)


def _geography(estimates: pd.DataFrame, project: Project) -> list[str]:
    """The level columns of the estimates, from the top (a catchment's district included)."""
    levels = list(project.levels.columns)
    if "catchment" in levels and "district" in estimates and "district" not in levels:
        levels.insert(levels.index("catchment"), "district")
    return [level for level in levels if level in estimates]


def _known_levels(project: Project, geography: Sequence[str]) -> list[str]:
    """The levels whose units' populations the populations file adds up to: every level down to the
    finest one it is given for (the lots by default; ``[populations] level`` when coarser)."""
    given = project.populations.level or tuple(project.lqas.lot)
    depth = max((geography.index(column) for column in given if column in geography), default=-1)
    return list(geography[:depth + 1])


def _plain_rows(estimates: pd.DataFrame, geography: Sequence[str], indicators: Sequence[str]) -> pd.DataFrame:
    """The rows of ``indicators`` for both sexes, every vaccination status and no stratifier's group."""
    others = [c for c in estimates.columns[:estimates.columns.get_loc("n")]
              if c not in ("indicator", "cohort", *geography)]
    keep = estimates["indicator"].isin(indicators)
    for column in others:
        keep &= estimates[column].astype(str) == ALL
    rows = estimates[keep.to_numpy()]
    return rows.assign(**{c: rows[c].astype(str) for c in ("indicator", "cohort", *geography)})


def _areas(estimates: pd.DataFrame, numbers: pd.DataFrame, classification: pd.DataFrame, cohorts: Sequence[str],
           rules: PrioritiesFile) -> pd.DataFrame:
    """One row per catchment area: numbers, prevalences, RED category, ranks."""
    categories = rules.categories
    cohort = _cohort(categories.cohort, cohorts)
    wanted = (*NUMBERED, categories.access, categories.dropout)
    rows = _plain_rows(estimates, [c for c in ("district", "catchment") if c in estimates], wanted)
    rows = rows[rows["catchment"] != ALL]
    if rows.empty:
        return pd.DataFrame(columns=["catchment", "rank", "rank_prevalence", "category"])
    areas = pd.DataFrame({"catchment": list(dict.fromkeys(rows["catchment"]))})
    if "district" in rows:
        areas.insert(0, "district", areas["catchment"].map(dict(zip(rows["catchment"], rows["district"]))))

    def column(indicator: str, of_cohort: str, measure: str, frame: pd.DataFrame = rows) -> pd.Series:
        part = frame[(frame["indicator"] == indicator) & (frame["cohort"] == of_cohort)]
        return areas["catchment"].map(dict(zip(part["catchment"], part[measure])))

    for indicator, short in (("zero_dose", "zd"), ("ui_dtp1_not_dtp3", "ui")):
        if not numbers.empty:
            areas[f"{short}_children"] = column(indicator, ALL, "children", numbers)
            areas[f"{short}_children_ci_low"] = column(indicator, ALL, "children_ci_low", numbers)
            areas[f"{short}_children_ci_high"] = column(indicator, ALL, "children_ci_high", numbers)
        for measure in ("estimate", "ci_low", "ci_high", "n"):
            areas[f"{short}_{measure}"] = column(indicator, ALL, measure)
    for name, indicator in (("access", categories.access), ("dropout", categories.dropout)):
        for measure in ("estimate", "ci_low", "ci_high", "n"):
            areas[f"{name}_{measure}"] = column(indicator, cohort, measure)
    areas["category"] = red_category(areas["access_estimate"], areas["dropout_estimate"],
                                     categories.access_good_from, categories.dropout_good_to)
    below = classification[(classification["indicator"] == "zero_dose") & (classification["class"] == "fail")]
    failing = below.groupby(below["catchment"].astype(str), observed=True)["cohort"].agg(
        lambda values: ";".join(c for c in cohorts if c in set(values.astype(str))))
    areas["zero_dose_lots_below_target"] = areas["catchment"].map(failing).fillna("")
    # ranked by the number of zero-dose children (what a programme must reach), the prevalence breaking ties
    by = ["zd_children", "zd_estimate"] if "zd_children" in areas else ["zd_estimate"]
    areas = areas.sort_values(by, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    first = areas.columns.get_loc("catchment") + 1
    areas.insert(first, "rank", np.arange(1, len(areas) + 1))
    areas.insert(first + 1, "rank_prevalence", areas["zd_estimate"].rank(ascending=False, method="min").astype("Int64"))
    return areas


def _cohort(name: str, cohorts: Sequence[str]) -> str:
    if name == "oldest":
        return cohorts[-1] if cohorts else ALL
    return name


def red_category(access: pd.Series, dropout: pd.Series, access_good_from: float, dropout_good_to: float) -> pd.Series:
    """WHO RED problem category of each area (``CATEGORIES``), empty where either estimate is missing:
    1 no problem (good access, low dropout), 2 utilisation (good access, high dropout), 3 access (low
    access, low dropout), 4 access and utilisation."""
    good_access, good_use = access >= access_good_from, dropout <= dropout_good_to
    category = np.select([good_access & good_use, good_access & ~good_use, ~good_access & good_use],
                         CATEGORIES[:3], CATEGORIES[3])
    return pd.Series(category, index=access.index).where(access.notna() & dropout.notna(), "")


def _condition(condition: Condition, areas: pd.DataFrame, estimates: pd.DataFrame, comparisons: pd.DataFrame,
               cohorts: Sequence[str]) -> pd.Series:
    """Whether the condition holds in each area: True, False, or missing (pd.NA) when it cannot be told."""
    if condition.categories:
        told = areas["category"] != ""
        return areas["category"].isin(condition.categories).astype("boolean").where(told, pd.NA)
    if condition.girls_worse:
        if comparisons.empty:
            return pd.Series(pd.NA, index=areas.index, dtype="boolean")
        rows = comparisons[comparisons["indicator"].isin(condition.girls_worse)
                           & (comparisons["catchment"].astype(str) != ALL)
                           & (comparisons["cohort"].astype(str) != ALL)]
        worse = rows[(rows["disadvantaged"] == "F") & (rows["p_value"] < condition.p_below)]
        compared = set(distinct_text(rows["catchment"]))
        holds = areas["catchment"].isin(set(distinct_text(worse["catchment"]))).astype("boolean")
        return holds.where(areas["catchment"].isin(compared), pd.NA)
    rows = _plain_rows(estimates, [c for c in ("district", "catchment") if c in estimates], [condition.indicator])
    rows = rows[(rows["cohort"] == _cohort(condition.cohort, cohorts)) & (rows["catchment"] != ALL)]
    value = areas["catchment"].map(dict(zip(rows["catchment"], rows["estimate"]))).astype(float)
    holds = value >= condition.at_least if condition.at_least is not None else value < condition.below
    return holds.astype("boolean").where(value.notna(), pd.NA)


def _recommendations(areas: pd.DataFrame, rules: PrioritiesFile) -> list[dict]:
    """The rules that hold in some area, each with its areas in rank order. An area listed under a rule
    is not listed again under a later rule whose conditions the earlier one includes (the more specific
    recommendation stands for the general one)."""
    out, listed = [], []
    for rule in rules.recommendations:
        holds = pd.Series(True, index=areas.index)
        for name in rule.when:
            holds &= areas[name].fillna(False).astype(bool) if name in areas else False
        chosen = [c for c in areas.loc[holds, "catchment"]
                  if not any(c in earlier["areas"] and set(rule.when) < set(earlier["when"]) for earlier in listed)]
        entry = {"id": rule.id, "when": list(rule.when), "en": rule.en, "fr": rule.fr, "areas": chosen}
        listed.append(entry)
        if chosen:
            out.append({key: value for key, value in entry.items() if key != "when"})
    return out


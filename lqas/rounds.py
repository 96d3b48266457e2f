"""Survey rounds: the change between a baseline and a follow-up survey, and the difference in
differences between intervention arms, each with a design-based interval (issue 18).

The rounds' child tables are stacked into one design (:func:`stack_rounds`): each round keeps its
own strata and clusters, so the change's variance is V₁ + V₂; or, when the follow-up revisited the
baseline's clusters (the same cluster ids, declared so), the strata are shared and a revisited
cluster is one PSU across rounds, so the variance is V₁ + V₂ − 2 Cov from the clusters' joint totals.
Every number is a verb of :class:`lqas.design.SurveyDesign` on that design: ``compare`` for the
change (with the Rao–Scott test of round × outcome), ``did`` for the differences in differences.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lqas.config import Project
from lqas.config.project import ArmsConfig, DesignConfig
from lqas.design import ALL, SurveyDesign
from lqas.dtypes import add_columns, distinct_text
from lqas.errors import DesignError, InputError, SettingError
from lqas.parallel import Beside
from lqas.power import minimum_detectable_difference

ROUND = "round"
# the stacked design's own strata and PSU columns: the data's stratum and cluster columns stay as they
# are, domains of the tables (a catchment area is one across rounds)
STRATUM, PSU = "design_stratum", "design_psu"
CHANGE_COLUMNS = ["round_a", "round_b", "n_a", "n_b", "estimate_a", "estimate_b", "change", "change_se",
                  "change_ci_low", "change_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "mdd",
                  "df", "level"]


def stack_rounds(tables: Mapping[str, pd.DataFrame], *, strata: str | None, psu: str | None,
                 revisited: bool = False) -> pd.DataFrame:
    """The rounds' child tables as one, in the order given, with ``round`` and the design columns
    ``design_stratum`` and ``design_psu``: the round's own (``<round>:<value>``), or, for ``revisited``
    clusters, the data's values, shared by the rounds (a cluster id names the same cluster in each)."""
    if len(tables) < 2:
        raise DesignError(f"rounds: name at least two; got {list(tables)}")
    frames = []
    for name, table in tables.items():
        for column in (strata, psu):
            if column is not None and column not in table:
                raise DesignError(f"round '{name}': column missing from the data: {column}")
        columns = {ROUND: name}
        for source, target in ((strata, STRATUM), (psu, PSU)):
            values = table[source].astype(str) if source is not None else pd.Series(ALL, index=table.index)
            columns[target] = values if revisited else f"{name}:" + values
        if psu is None:  # each child its own PSU, in one round only
            columns[PSU] = f"{name}:" + pd.Series(range(len(table)), index=table.index).astype(str)
        frames.append(add_columns(table, columns))  # a derived table's many blocks: not copied, no warning
    common = set.intersection(*(set(frame.columns) for frame in frames))
    ordered = [column for column in frames[0].columns if column in common]
    return pd.concat([frame[ordered] for frame in frames], ignore_index=True)


def round_design(stacked: pd.DataFrame, *, weight: str | None = "weight", singleton: str = "adjust") -> SurveyDesign:
    """The one design of the stacked rounds (:func:`stack_rounds`)."""
    return SurveyDesign(stacked, strata=STRATUM, psu=PSU, weight=weight, singleton=singleton)


def changes(design: SurveyDesign, indicators: Sequence[str], *, rounds: tuple[str, str],
            by: Sequence[str] = (), level: float = 0.95, power: float = 0.80) -> pd.DataFrame:
    """The change of each indicator from ``rounds[0]`` to ``rounds[1]`` in every domain of ``by`` (and
    its margins): both estimates, the change in points with its t interval, the ratio, the Rao–Scott p
    of round × outcome, and the minimum detectable difference at ``power`` given the observed design
    (``mdd``: (z₁₋α/₂ + z₁₋β) × the change's se)."""
    first, second = rounds
    out = design.compare(list(indicators), group=ROUND, by=list(by) or None, groups=(second, first), level=level)
    out = out.rename(columns={"group_a": "round_b", "group_b": "round_a", "n_a": "n_b", "n_b": "n_a",
                              "estimate_a": "estimate_b", "estimate_b": "estimate_a", "difference": "change",
                              "difference_se": "change_se", "difference_ci_low": "change_ci_low",
                              "difference_ci_high": "change_ci_high"})
    out["mdd"] = minimum_detectable_difference(out["change_se"].to_numpy(), alpha=1 - level, power=power)
    return out[["indicator", *by, *CHANGE_COLUMNS]]


def round_intervals(change: pd.DataFrame, design: SurveyDesign, indicators: Sequence[str], by: Sequence[str], *,
                    ci: str = "wilson", level: float = 0.95) -> pd.DataFrame:
    """``change`` (:func:`changes`) with each round's own interval (``ci_low_a``, ``ci_high_a``,
    ``ci_low_b``, ``ci_high_b``): the round's estimate as a domain of the stacked design, so the same
    number and interval as the round's own estimates.csv, by the project's interval method."""
    each = design.proportions(list(indicators), by=[ROUND, *by], within=[ROUND], ci=ci, level=level)
    each = each[["indicator", ROUND, *by, "ci_low", "ci_high"]]
    keys = ["indicator", *by]
    for side in ("a", "b"):
        bounds = each.rename(columns={ROUND: f"round_{side}", "ci_low": f"ci_low_{side}",
                                      "ci_high": f"ci_high_{side}"})
        change = change.merge(bounds, on=[*keys, f"round_{side}"], how="left")
    # after the estimates they bound, as CHANGE_COLUMNS orders them
    columns = list(change.columns)
    for name in ("ci_high_b", "ci_low_b", "ci_high_a", "ci_low_a"):
        columns.remove(name)
        columns.insert(columns.index("estimate_b") + 1, name)
    return change[columns]


def differences_in_differences(design: SurveyDesign, indicators: Sequence[str], *, group: str,
                               groups: tuple[str, str], rounds: tuple[str, str], by: Sequence[str] = (),
                               level: float = 0.95) -> pd.DataFrame:
    """Group a's change between the rounds less group b's, in points and on the log-odds scale, with
    design-based intervals (:meth:`lqas.design.SurveyDesign.did`): an intervention arm against the
    comparison arm (``group="arm"``), or girls against boys (``group="sex"``: the change of the gap)."""
    return design.did(list(indicators), group=group, period=ROUND, by=list(by) or None, groups=groups,
                      periods=rounds, level=level)


@dataclass(frozen=True)
class RoundResults:
    """What a project with ``[rounds]`` adds to a run: ``changes`` (``changes.csv``: each indicator's
    change from each earlier round to this one, by cohort, level, stratifier and sex), ``gaps`` (the
    change of the girls − boys gap: girls' change less boys'), ``arms`` (the intervention arm's change
    less the comparison arm's, or None without ``[arms]``), ``transitions`` (``lqas_transitions.csv``:
    each lot's LQAS class in each earlier round and in this one), and the rounds compared, oldest first."""

    rounds: tuple[str, ...]
    changes: pd.DataFrame
    gaps: pd.DataFrame | None
    arms: pd.DataFrame | None
    transitions: pd.DataFrame | None = None


COMPARISON_ARM = "comparison"


def analyse_rounds(project: Project, table: pd.DataFrame, indicators: Sequence[str],
                   classification: pd.DataFrame | None = None, *,
                   early: Mapping[str, Beside] | None = None) -> RoundResults | None:
    """The changes from each earlier round of ``[rounds]`` (each derived from its own project file) to
    this one (``table``, this round's child table), on one design holding the two rounds, and each
    lot's class in the earlier rounds against ``classification`` (this round's); None without
    ``[rounds]``. ``early``: earlier rounds' child tables already being made, by name
    (:class:`lqas.derive.DerivedBeside`)."""
    settings = project.rounds
    if settings is None:
        return None
    from lqas.classify import classify_lots
    from lqas.config import load_project
    from lqas.derive import derive_project
    from lqas.indicators import load_registry

    tables, transitions = {}, []
    for previous in settings.previous:
        earlier = load_project(project.resolve(previous.project))
        with earlier.naming_errors():
            made = (early or {}).get(previous.name)
            derived = made.result() if made is not None else derive_project(earlier)
            tables[previous.name] = derived.table
            if classification is not None and not classification.empty:
                registry = load_registry(derived.schedule)
                # the earlier lots judged by this round's targets too (the decision rule recomputed for
                # their n): a lot that moves only because the target moved has not changed
                at_target = classify_lots(derived.table, registry, project.lqas, derived.exclusions)
                own = classify_lots(derived.table, registry, earlier.lqas, derived.exclusions)
                transitions.append(lot_transitions(at_target, classification, (previous.name, settings.name),
                                                   list(project.lqas.lot), own=own))
    tables[settings.name] = table
    levels = [c for c in project.levels.columns if all(c in t for t in tables.values())]
    stratifiers = [c for c in project.stratifiers.columns if all(c in t for t in tables.values())]
    shared = [k for k in indicators if all(k in t for t in tables.values())]
    arms = project.arms
    if arms is not None:
        for name, frame in tables.items():
            if arms.column not in frame:
                raise SettingError("arms.column", f"round '{name}' has no column '{arms.column}'")
        known = set().union(*(distinct_text(frame[arms.column]) for frame in tables.values()))
        unknown = [unit for unit in arms.units if unit not in known]
        if unknown:
            raise SettingError("arms.units", f"{', '.join(map(repr, unknown))} not a value of '{arms.column}' in "
                                             "any round")
    keep = list(dict.fromkeys(c for c in ("cohort", *levels, *stratifiers, "sex", project.design.strata,
                                          project.design.psu, "weight", arms.column if arms else None,
                                          "dob" if arms is not None and arms.start is not None else None, *shared)
                              if c is not None))
    frames = {name: t[[c for c in keep if c in t]] for name, t in tables.items()}
    parts = [round_pair(frames, (previous.name, settings.name), design=project.design, indicators=shared,
                        levels=levels, stratifiers=stratifiers, revisited=settings.revisited, arms=arms)
             for previous in settings.previous]
    return RoundResults(rounds=tuple(r.name for r in settings.previous) + (settings.name,),
                        changes=parts[0].changes if len(parts) == 1 else _tidy([p.changes for p in parts], []),
                        gaps=_joined([p.gaps for p in parts]), arms=_joined([p.arms for p in parts]),
                        transitions=pd.concat(transitions, ignore_index=True) if transitions else None)


def round_pair(frames: Mapping[str, pd.DataFrame], pair: tuple[str, str], *, design: DesignConfig,
               indicators: Sequence[str], levels: Sequence[str] = (), stratifiers: Sequence[str] = (),
               revisited: bool = False, arms: ArmsConfig | None = None) -> RoundResults:
    """The change from round ``pair[0]`` to ``pair[1]`` (two child tables of ``frames``, each with the
    ``weight`` column of its run) on one design of the two (``design``: the strata, clusters and
    interval settings the rounds share): by cohort, each level (``levels``, highest first) and sex,
    and by each stratifier; the change of the girls − boys gap; with ``arms``, the difference in
    differences. The ``rounds`` and ``transitions`` of the result are those of the pair alone."""
    stacked = stack_rounds({name: frames[name] for name in pair}, strata=design.strata, psu=design.psu,
                           revisited=revisited)
    left_out = 0
    if arms is not None:
        arm, left_out = assign_arms(stacked, arms, later=pair[1])
        stacked = add_columns(stacked, {"arm": arm})
    survey = round_design(stacked, weight="weight", singleton=design.singleton)
    levels = [c for c in levels if c in stacked]
    stratifiers = [c for c in stratifiers if c in stacked]
    present = [c for c in ("cohort", "sex") if c in stacked]
    geography = [c for c in ("cohort", *levels, "sex") if c in stacked]
    intervals = {"ci": design.ci, "level": design.level}
    found = [_nested(round_intervals(changes(survey, indicators, rounds=pair, by=geography), survey, indicators,
                                     geography, **intervals), levels)]
    for stratifier in stratifiers:
        by = [*present[:1], stratifier, *present[1:]]
        part = round_intervals(changes(survey, indicators, rounds=pair, by=by), survey, indicators, by, **intervals)
        found.append(part[part[stratifier] != ALL])
    columns = ["indicator", "cohort", *levels, *stratifiers, "sex"]
    gaps = by_arm = None
    if "sex" in stacked and {"F", "M"} <= set(distinct_text(stacked["sex"])):
        gap = differences_in_differences(survey, indicators, group="sex", groups=("F", "M"), rounds=pair,
                                         by=[c for c in geography if c != "sex"])
        gaps = _tidy([_nested(gap, levels).assign(round_a=pair[0], round_b=pair[1])], columns)
    if arms is not None:
        part = differences_in_differences(survey, indicators, group="arm", groups=(arms.intervention, COMPARISON_ARM),
                                          rounds=pair, by=present)
        by_arm = _tidy([part.assign(round_a=pair[0], round_b=pair[1], arm_a=arms.intervention, arm_b=COMPARISON_ARM,
                                    exposure="penta1_due_after_start" if arms.start is not None else "every_child",
                                    not_exposed=left_out)], ["indicator", "cohort", "sex"])
    return RoundResults(rounds=pair, changes=_tidy(found, columns), gaps=gaps, arms=by_arm)


def _joined(parts: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    present = [part for part in parts if part is not None]
    return pd.concat(present, ignore_index=True) if present else None


def compare_runs(first: Path, second: Path, *, names: tuple[str, str] | None = None,
                 revisited: bool = False) -> RoundResults:
    """The change between two run folders (``lqas run`` outputs, the earlier first): each run's child
    table (``derived.parquet`` or ``derived.csv``) with its weights, on one design of the two, by the
    second run's strata, clusters, levels, stratifiers and interval settings (its ``manifest.json``),
    for the indicators both runs estimated; each lot's class in both (their ``classification.csv``,
    each by its own target). ``names`` default to the folders' names."""
    runs = [_read_run(Path(folder)) for folder in (first, second)]
    pair = tuple(names) if names else (Path(first).name, Path(second).name)
    if len(pair) != 2 or pair[0] == pair[1]:
        raise InputError(f"--names: two different names, one per run; got {', '.join(map(repr, pair))}")
    (_, table_a, estimated_a, lots_a), (project, table, estimated, lots) = runs
    design = DesignConfig.model_validate(project["design"])
    for column in (design.strata, design.psu):
        if column is not None and column not in table_a:
            raise InputError(f"{first}: derived table has no column '{column}', the strata or clusters of {second}")
    indicators = [k for k in estimated if k in set(estimated_a) and k in table_a and k in table]
    if not indicators:
        raise InputError(f"{first}, {second}: the runs estimated no indicator in common")
    levels = [c for c in project["levels"]["columns"] if c in table_a and c in table]
    stratifiers = [c for c in project["stratifiers"]["columns"] if c in table_a and c in table]
    found = round_pair({pair[0]: table_a, pair[1]: table}, pair, design=design, indicators=indicators,
                       levels=levels, stratifiers=stratifiers, revisited=revisited)
    lot = list(project["lqas"]["lot"])
    transitions = None
    if lots_a is not None and lots is not None and set(lot) <= set(lots_a) and set(lot) <= set(lots):
        transitions = lot_transitions(lots_a, lots, pair, lot)
    return RoundResults(rounds=pair, changes=found.changes, gaps=found.gaps, arms=None, transitions=transitions)


def _read_run(folder: Path) -> tuple[dict, pd.DataFrame, list[str], pd.DataFrame | None]:
    """A run folder's project settings (from its manifest), child table (the columns a comparison
    reads: a national derived.csv has hundreds), estimated indicators and lots' classes."""
    import json

    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise InputError(f"{folder}: not a run folder of lqas (no manifest.json)")
    project = json.loads(manifest.read_text(encoding="utf-8"))["project"]

    def table(stem: str, columns=None, required: bool = True) -> pd.DataFrame | None:
        if (folder / f"{stem}.parquet").is_file():
            frame = pd.read_parquet(folder / f"{stem}.parquet")
            return frame[[c for c in frame.columns if columns is None or columns(c)]]
        if (folder / f"{stem}.csv").is_file():
            # domain values are text (a cluster id 007 stays 007), outcomes and weights numbers below
            return pd.read_csv(folder / f"{stem}.csv", dtype=str, keep_default_na=False, na_values=[""],
                               usecols=columns)
        if required:
            raise InputError(f"{folder}: the run has no {stem}.csv (run it with --formats csv)")
        return None

    indicators = list(dict.fromkeys(table("estimates", lambda c: c == "indicator")["indicator"]))
    design = project["design"]
    wanted = {"cohort", "sex", "weight", design["strata"], design["psu"], *project["levels"]["columns"],
              *project["stratifiers"]["columns"], *indicators}
    children = table("derived", lambda c: c in wanted)
    numeric = [k for k in (*indicators, "weight") if k in children]
    children[numeric] = children[numeric].apply(pd.to_numeric, errors="coerce")
    lots = table("classification", required=False)
    if lots is not None:
        for column in ("n", "x_indicator", "d", "good"):
            lots[column] = pd.to_numeric(lots[column], errors="coerce")
    return project, children, indicators, lots


UNEXPOSED = "not_exposed"


def assign_arms(stacked: pd.DataFrame, arms, *, later: str) -> tuple[pd.Series, int]:
    """Each child's arm: the intervention's for the units of ``[arms]``, the comparison's for the others;
    with a start date, a child of the later round in the intervention's units whose first Penta was due
    (birth + 6 weeks) before the intervention started there is not exposed, and left out (its count is
    returned)."""
    units = stacked[arms.column].astype(str)
    in_arm = units.isin(arms.units)
    arm = in_arm.map({True: arms.intervention, False: COMPARISON_ARM})
    if arms.start is None:
        return arm, 0
    start = (units.map(lambda unit: arms.start.get(unit)) if isinstance(arms.start, dict)
             else pd.Series(arms.start, index=units.index))
    due = pd.to_datetime(stacked["dob"], errors="coerce") + pd.Timedelta(days=42)
    unexposed = in_arm & (stacked[ROUND] == later) & (due < pd.to_datetime(start))
    return arm.where(~unexposed, UNEXPOSED), int(unexposed.sum())


# how a lot's class moved between two rounds
TRANSITIONS = {("fail", "pass"): "improved", ("pass", "fail"): "worsened", ("pass", "pass"): "stayed_acceptable",
               ("fail", "fail"): "stayed_to_improve"}


def lot_transitions(before: pd.DataFrame, after: pd.DataFrame, rounds: tuple[str, str],
                    lot: Sequence[str], own: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each lot and indicator classified in both rounds, both judged by the later round's target:
    its class in each (``class_a``, ``class_b``) with the decision rule of its n (``d_a``, ``d_b``),
    what moved (``transition``: improved, worsened, stayed acceptable, stayed to improve), the
    children with the indicator and sampled in each round, and the target (``good``). ``own``, the
    earlier round classified by its own targets, adds ``good_own_a``, ``d_own_a`` and ``class_own_a``
    (the class that round reported) and ``target_changed``."""
    keys = ["indicator", *lot]
    columns = [*keys, "n", "x_indicator", "d", "class", "good"]
    both = before[columns].merge(after[columns], on=keys, suffixes=("_a", "_b"), how="inner")
    both.insert(len(keys), "round_a", rounds[0])
    both.insert(len(keys) + 1, "round_b", rounds[1])
    both["transition"] = [TRANSITIONS.get((a, b), "not_classified") for a, b in zip(both["class_a"], both["class_b"])]
    if own is not None:
        reported = own[[*keys, "good", "d", "class"]].rename(
            columns={"good": "good_own_a", "d": "d_own_a", "class": "class_own_a"})
        both = both.merge(reported, on=keys, how="left")
        both["target_changed"] = both["good_own_a"].ne(both["good_b"]) & both["good_own_a"].notna()
    return both


def _nested(frame: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """The rows of a nested geography: a unit named with the units above it named too (a catchment
    without its district is the same domain, said twice)."""
    keep = pd.Series(True, index=frame.index)
    for upper, lower in itertools.pairwise(levels):
        keep &= ~((frame[lower] != ALL) & (frame[upper] == ALL))
    return frame[keep]


def _tidy(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The parts in one frame, every domain column present (``all`` where a part has none)."""
    frame = pd.concat(parts, ignore_index=True)
    for column in columns:
        frame[column] = frame[column].fillna(ALL) if column in frame else ALL
    rest = [c for c in frame.columns if c not in columns]
    return frame[[*columns, *rest]]

"""Classify (LQAS): every lot of the project against every target of ``[lqas] targets``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from lqas.config import LqasConfig
from lqas.dtypes import distinct_text
from lqas.errors import SettingError
from lqas.indicators import Indicator
from lqas.rules import Target, classify
from lqas.rules.lots import pooled

LEVEL_COLUMNS = ["indicator", "cohort", "level", "unit", "lots", "n", "x", "population", "estimate", "se", "ci_low",
                 "ci_high", "level_ci"]


def lot_targets(settings: LqasConfig, registry: Mapping[str, Indicator]) -> list[Target]:
    """The project's targets, each with its indicator's direction from the registry (zero-dose:
    lower is better, so it is classified on its complement)."""
    targets = []
    for i, target in enumerate(settings.targets, start=1):
        key = f"lqas.targets[{i}]"
        if target.indicator not in registry:
            close = difflib.get_close_matches(target.indicator, list(registry), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see lqas/data/indicators.toml for the names"
            raise SettingError(key, f"indicator '{target.indicator}' is not an indicator of this survey; {hint}")
        lower = registry[target.indicator].lower_is_better
        if (target.good >= target.bad) if lower else (target.good <= target.bad):
            # good and bad swapped would turn the decision rule upside down
            raise SettingError(key, f"'{target.indicator}' is better when {'lower' if lower else 'higher'}, so good "
                                    f"must be {'below' if lower else 'above'} bad; got good = {target.good}, "
                                    f"bad = {target.bad}")
        targets.append(Target(indicator=target.indicator, good=target.good, bad=target.bad,
                              lower_is_better=lower, cohorts=target.cohorts))
    return targets


def classify_lots(table: pd.DataFrame, registry: Mapping[str, Indicator], settings: LqasConfig,
                  exclusions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``classification.csv``: one row per lot x target with n, x, the decision rule d, alpha, beta
    and the class (see :func:`lqas.rules.classify`).

    A catchment whose every record was excluded (``exclusions`` name its catchment) keeps its lots,
    classed ``no_data`` with n = 0, instead of vanishing from the classification and the report.
    """
    targets = lot_targets(settings, registry)
    lost = lost_catchments(table, exclusions)
    if lost and set(settings.lot) <= {"catchment", "cohort"}:
        cohorts = list(dict.fromkeys(table["cohort"])) if "cohort" in settings.lot else [None]
        # one child per lost lot with no outcome: counted in no denominator, so its lots are no_data
        empty = pd.DataFrame([{"catchment": c, "cohort": k} for c in lost for k in cohorts])
        # the columns classify reads only: the whole child table of a national survey is gigabytes
        read = [c for c in dict.fromkeys([*settings.lot, *(t.indicator for t in targets)]) if c in table]
        table = pd.concat([table[read], empty[[c for c in empty if c in settings.lot]]], ignore_index=True)
    return classify(table, targets, lot=settings.lot, alpha=settings.alpha, beta=settings.beta)


def lost_catchments(table: pd.DataFrame, exclusions: pd.DataFrame | None) -> list[str]:
    """Catchments of the export with no child left to analyse (every record excluded)."""
    if exclusions is None or exclusions.empty or "catchment" not in exclusions:
        return []
    kept = set(distinct_text(table["catchment"]))
    return sorted({str(c) for c in exclusions["catchment"].dropna()} - kept)


def aggregate_lots(classification: pd.DataFrame, table: pd.DataFrame, levels: tuple[str, ...],
                   confidence: float = 0.95) -> pd.DataFrame:
    """The lots' results put together up the geography, as LQAS manuals do (lqas.md §6): for each
    target and cohort, every unit of each level above the lots (district, region) and the whole
    survey, each lot weighted by its population (the sum of its children's weights: the lot's
    population when weights come from populations) and treated as a stratum (`lqas.rules.aggregate`).

    Returns
    -------
    DataFrame
        ``LEVEL_COLUMNS``: the indicator, cohort, ``level`` (a column of ``[levels]``, or
        ``national``) and ``unit``, the lots put together, their children ``n`` and those with the
        indicator's condition ``x``, the population, and the estimate, its SE and normal CI on the
        indicator's own scale (zero-dose as a share of children, not its complement).
    """
    lot = [c for c in ("catchment", "cohort") if c in classification]
    if classification.empty or "catchment" not in lot or "weight" not in table:
        return pd.DataFrame(columns=LEVEL_COLUMNS)
    # grouped by the key columns alone (assign would copy the whole child table)
    keys = [table["catchment"].astype(str), *[table[column] for column in lot if column != "catchment"]]
    populations = table["weight"].groupby(keys, observed=True).sum().rename("population").reset_index()
    lots = classification[classification["class"] != "no_data"].merge(populations, on=lot, how="left")
    places = table[["catchment", *[c for c in levels if c in table and c != "catchment"]]].astype(str)
    places = places.drop_duplicates("catchment")
    lots = lots.merge(places, on="catchment", how="left")
    units = [column for column in levels if column in lots and column != "catchment"]
    by = ["indicator", *(["cohort"] if "cohort" in lot else [])]
    # the (indicator, cohort) pairs in the classification's order, each unit's levels national first
    order = {key: rank for rank, key in enumerate(dict.fromkeys(zip(*(lots[column] for column in by))))}
    lots = lots[lots["population"] > 0]
    if lots.empty:
        return pd.DataFrame(columns=LEVEL_COLUMNS)
    # lqas.rules.aggregate for every unit at once (the same pooled sums): each lot a stratum weighted by its population (at
    # least its sample: a lot weighted equally counts n), p = x / n, estimate sum N p / sum N,
    # variance sum N^2 p (1 - p) / n / (sum N)^2
    population = np.maximum(lots["population"].to_numpy(dtype=float), lots["n"].to_numpy(dtype=float))
    share = lots["x"].to_numpy(dtype=float) / lots["n"].to_numpy(dtype=float)
    terms = pd.DataFrame({"lots": 1, "n": lots["n"].to_numpy(), "x": lots["x_indicator"].to_numpy(),
                          "population": population, "weighted": population * share,
                          "variance": population ** 2 * share * (1 - share) / lots["n"].to_numpy(dtype=float),
                          **{column: lots[column].to_numpy() for column in [*by, *units]}})
    frames = []
    for rank, (level, column) in enumerate([("national", None), *((column, column) for column in units)]):
        keys = [*by, *([column] if column else [])]
        sums = terms.groupby(keys, sort=True)[["lots", "n", "x", "population", "weighted", "variance"]].sum()
        sums = sums.reset_index().assign(level=level, level_rank=rank)
        sums["unit"] = sums[column] if column else "all"
        frames.append(sums)
    out = pd.concat(frames, ignore_index=True)
    out["pair"] = [order[key] for key in zip(*(out[column] for column in by))]
    out = out.sort_values(["pair", "level_rank"], kind="stable").reset_index(drop=True)
    if "cohort" not in by:  # a lot without a cohort ([lqas] lot = ["catchment"])
        out["cohort"] = "all"
    estimate, se, low, high = pooled(out["weighted"], out["variance"], out["population"], confidence)
    # the lots count the favourable complement: an adverse indicator back on its own scale
    lower = out["indicator"].map(lots.groupby("indicator")["direction"].agg(
        lambda direction: bool((direction == "lower_is_better").all())))
    out["estimate"] = np.where(lower, 1 - estimate, estimate)
    out["ci_low"], out["ci_high"] = np.where(lower, 1 - high, low), np.where(lower, 1 - low, high)
    out["se"] = se
    out["level_ci"] = confidence
    return out.astype({"lots": int, "n": int, "x": int})[LEVEL_COLUMNS]

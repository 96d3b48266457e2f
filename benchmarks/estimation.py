"""Speed and memory of design-based proportions: lqas against svy and samplics on synthetic national surveys.

Each engine runs in its own subprocess on the same data (a Parquet file), so peak memory is its own:
the kernel's resident-set high-water mark is reset after the data are loaded (/proc/self/clear_refs)
and read after estimation. Times are wall-clock seconds for building the design and estimating.

    python benchmarks/estimation.py --sizes 10000 100000 1000000    # about 5 minutes on 2 cores
    python benchmarks/estimation.py --quick                          # 10^4 children, under a minute
    python benchmarks/estimation.py --case levels --sizes 1000000    # what `lqas run` estimates

Cases
-----
- ``proportions`` (default): 300 strata; every domain and margin of stratum x cohort x sex.
- ``levels``: the same children, the strata being 300 health areas in 60 districts in 10 regions,
  with three child-level stratifiers (area, population group, wealth quintile). The domains are
  those of ``lqas.estimate.estimate`` with ``levels=("region", "district", "health_area")`` and the
  stratifiers crossed nationally and by region, each with its cohort and sex margins.

What is timed
-------------
- lqas: ``proportions``: ``SurveyDesign(...).proportions(all indicators, by=[stratum, cohort, sex])``,
  i.e. every indicator in every domain and every margin (stratum x cohort x sex, stratum x cohort,
  ..., all). ``levels``: ``SurveyDesign(...)`` and ``lqas.estimate.estimate(...)`` exactly as a run
  calls them (one kernel pass per level and per stratifier x level).
- svy: ``Sample(...).estimation.mean(all indicators, by=<margin>, drop_nulls=True)``, one call per
  margin lqas keeps, so the same estimates, timed in full.
- samplics: ``TaylorEstimator(PopParam.prop).estimate(..., domain=...)`` loops over domains in
  Python and is too slow to run in full. It is timed on one indicator for 1 and for K finest domains
  (the rest of the rows pooled into one more domain, which leaves the chosen domains' estimates
  unchanged), and its time for all estimates is *extrapolated linearly*: time = calls x a + b x
  domain-estimates, with a and b from the two runs (calls: one per svy call and indicator).
All three use Taylor linearization with PSUs sampled with replacement; the three strata with a single
PSU contribute no variance (lqas ``singleton="certainty"``, svy ``singleton="skip"``, samplics
``SinglePSUEst.skip``, all R ``survey.lonely.psu="certainty"``). Agreement of estimate and SE is
checked on every estimate a peer returns (1e-6), on the lqas row of the same domain.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

INDICATORS = ["zero_dose", "penta3_crude", "mr1_crude", "card_seen", "fully_vaccinated"]
BY = ["stratum", "cohort", "sex"]
LEVELS = ("region", "district", "health_area")  # from the top; the national level is implicit
STRATIFIERS = ("area", "population_group", "wealth_quintile")
STRATIFIER_LEVELS = ("national", "region")
ALL = "all"
TOLERANCE = 1e-6


def make_survey(n: int, *, n_strata: int = 300, lonely: int = 3, seed: int = 20240601) -> pd.DataFrame:
    """A synthetic national survey: ``n`` children in clusters of ~10 (10^4) or ~30, ``n_strata``
    strata (the first ``lonely`` with a single PSU), unequal weights, PSU effects, 5 % missing."""
    rng = np.random.default_rng(seed)
    cluster_size = 10 if n <= 10_000 else 30
    n_psu = max(n // cluster_size, 2 * n_strata)
    stratum_of_psu = np.concatenate([np.arange(lonely), lonely + rng.integers(0, n_strata - lonely, n_psu - lonely)])
    stratum_of_psu[lonely:lonely + 2 * (n_strata - lonely)] = lonely + np.repeat(np.arange(n_strata - lonely), 2)
    psu = rng.integers(0, n_psu, n)
    psu[:n_psu] = np.arange(n_psu)  # every PSU sampled
    level = rng.beta(2, 2, n_psu)[psu]
    frame = pd.DataFrame({
        "stratum": np.char.add("S", stratum_of_psu[psu].astype(str)),
        "psu": psu,
        "weight": rng.uniform(0.5, 5, n_psu)[psu] * rng.uniform(0.8, 1.25, n),
        "cohort": np.where(rng.random(n) < 0.5, "18w-11m", "12-23m"),
        "sex": np.where(rng.random(n) < 0.49, "F", "M"),
    })
    for k, name in enumerate(INDICATORS):
        y = (rng.random(n) < np.clip(level + 0.1 * k - 0.2, 0.02, 0.98)).astype(float)
        y[rng.random(n) < 0.05] = np.nan
        frame[name] = y
    return frame


def make_levels_survey(n: int, *, areas_per_district: int = 5, districts_per_region: int = 6,
                       seed: int = 20240602) -> pd.DataFrame:
    """``make_survey(n)`` with its 300 strata as health areas, nested 5 to a district and 6 districts
    to a region (60 districts, 10 regions), and three stratifiers: ``area`` (urban/rural, one per
    PSU), ``population_group`` (5 groups of unequal size) and ``wealth_quintile`` (5), per child."""
    frame = make_survey(n)
    rng = np.random.default_rng(seed)
    stratum = frame.pop("stratum").str[1:].astype(int).to_numpy()
    district = stratum // areas_per_district
    frame.insert(0, "region", np.char.add("R", (district // districts_per_region).astype(str)))
    frame.insert(1, "district", np.char.add("D", district.astype(str)))
    frame.insert(2, "health_area", np.char.add("HA", stratum.astype(str)))
    psu = frame["psu"].to_numpy()
    frame["area"] = np.where(rng.random(psu.max() + 1) < 0.3, "urban", "rural")[psu]
    frame["population_group"] = rng.choice(["settled", "nomadic", "displaced", "refugee", "island"], len(frame),
                                           p=[0.6, 0.15, 0.12, 0.08, 0.05])
    frame["wealth_quintile"] = np.char.add("Q", rng.integers(1, 6, len(frame)).astype(str))
    return frame


def margins(columns: tuple[str, ...] | list[str] = tuple(BY)) -> list[tuple[str, ...]]:
    """Every subset of ``columns``, the full set first and the empty one (the whole sample) last."""
    return [tuple(c) for k in range(len(columns), -1, -1) for c in combinations(columns, k)]


def level_passes() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The kernel passes of ``lqas.estimate.estimate`` as (by columns, columns kept off ``all``): the
    lowest level with every margin, each upper level, then each stratifier nationally and by region."""
    passes = [(("cohort", LEVELS[-1], "sex"), ())]
    passes += [(("cohort", level, "sex"), (level,)) for level in LEVELS[:-1]]
    for stratifier in STRATIFIERS:
        for level in STRATIFIER_LEVELS:
            unit = () if level == "national" else (level,)
            passes.append((("cohort", *unit, stratifier, "sex"), (*unit, stratifier)))
    return passes


def level_calls() -> list[tuple[str, ...]]:
    """One svy call per domain margin that lqas keeps from its passes."""
    return [subset for by, kept in level_passes() for subset in margins(by) if set(kept) <= set(subset)]


# -- cases ----------------------------------------------------------------------------------------

def _lqas_proportions(frame: pd.DataFrame) -> pd.DataFrame:
    from lqas.design import SurveyDesign
    design = SurveyDesign(frame, strata="stratum", psu="psu", weight="weight", singleton="certainty")
    return design.proportions(INDICATORS, by=BY)


def _lqas_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """What a run does: the design on the health areas, then every level and stratifier."""
    from lqas.config import DesignConfig
    from lqas.design import SurveyDesign
    from lqas.estimate import estimate
    settings = DesignConfig(strata="health_area", psu="psu", weights="column", weight_column="weight",
                            singleton="certainty")
    design = SurveyDesign(frame, strata=settings.strata, psu=settings.psu, weight="weight",
                          singleton=settings.singleton)
    return estimate(design, INDICATORS, settings, levels=LEVELS, stratifiers=STRATIFIERS,
                    stratifier_levels=STRATIFIER_LEVELS)


@dataclass(frozen=True)
class Case:
    make: Callable[[int], pd.DataFrame]  # the seeded data of n children
    lqas: Callable[[pd.DataFrame], pd.DataFrame]  # design and estimates (timed)
    stratum: str
    finest: tuple[str, ...]  # domain columns of the finest domains (samplics times some of them)
    columns: tuple[str, ...]  # every domain column of lqas's estimates
    calls: tuple[tuple[str, ...], ...]  # by columns of each svy call
    geography: tuple[str, ...] = ()  # levels from the top: a unit's row names the units it lies in


CASES = {
    "proportions": Case(make_survey, _lqas_proportions, "stratum", tuple(BY), tuple(BY), tuple(margins())),
    "levels": Case(make_levels_survey, _lqas_levels, "health_area", ("health_area", "cohort", "sex"),
                   ("cohort", *LEVELS, *STRATIFIERS, "sex"), tuple(level_calls()), LEVELS),
}


# -- memory -----------------------------------------------------------------------------------------

def _status(field: str) -> float:
    """A /proc/self/status field in MB (Linux)."""
    match = re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


# -- workers (one engine per subprocess) ------------------------------------------------------------

def _worker_lqas(data: Path, out: Path, options: dict) -> dict:
    import lqas.estimate  # noqa: F401  (imported before the clock starts)
    case = CASES[options["case"]]
    frame = pd.read_parquet(data)
    started = _start()
    estimates = case.lqas(frame)
    seconds = time.perf_counter() - started["t"]
    estimates[["indicator", *case.columns, "estimate", "se"]].to_parquet(out)
    return {"seconds": seconds, "estimates": len(estimates), "domains": int(len(estimates) / len(INDICATORS)),
            **_memory(started)}


def _worker_svy(data: Path, out: Path, options: dict) -> dict:
    import polars as pl
    import svy
    case = CASES[options["case"]]
    frame = pl.read_parquet(data)
    started = _start()
    sample = svy.Sample(frame, svy.Design(stratum=case.stratum, psu="psu", wgt="weight", singleton="skip"))
    results = []
    for subset in case.calls:
        for indicator, result in zip(INDICATORS, sample.estimation.mean(
                INDICATORS, by=subset if subset else None, drop_nulls=True)):
            results.append((indicator, subset, result))
    seconds = time.perf_counter() - started["t"]
    memory = _memory(started)
    rows = []
    for indicator, subset, result in results:
        table = result.to_polars().to_pandas()
        table["indicator"] = indicator
        rows.append(table.rename(columns={"est": "estimate"})[["indicator", *subset, "estimate", "se"]])
    estimates = pd.concat(rows, ignore_index=True)
    estimates.to_parquet(out)
    return {"seconds": seconds, "estimates": len(estimates), "calls": len(results), **memory}


def _worker_samplics(data: Path, out: Path, options: dict) -> dict:
    warnings.simplefilter("ignore", FutureWarning)  # samplics announces it is archived
    from samplics import PopParam, SinglePSUEst, TaylorEstimator
    case = CASES[options["case"]]
    frame = pd.read_parquet(data)
    y = frame[INDICATORS[0]].to_numpy()
    key = frame[list(case.finest)].astype(str).agg("|".join, axis=1).to_numpy()
    domains = np.unique(key)
    # spread over the strata; the first is in a stratum with a single PSU
    chosen = domains[np.unique(np.linspace(0, len(domains) - 1, options["k"]).astype(int))]
    runs = []
    started = _start()
    for subset in (chosen[:1], chosen):
        t = time.perf_counter()
        domain = np.where(np.isin(key, subset), key, "~rest")
        estimator = TaylorEstimator(PopParam.prop)
        estimator.estimate(y=y, samp_weight=frame["weight"].to_numpy(), stratum=frame[case.stratum].to_numpy(),
                           psu=frame["psu"].to_numpy(), domain=domain, remove_nan=True,
                           single_psu=SinglePSUEst.skip)
        runs.append((len(subset) + 1, time.perf_counter() - t))
    memory = _memory(started)
    rows = []
    for label in chosen:
        level = estimator.point_est[label]
        se = estimator.stderror[label]
        rows.append({"indicator": INDICATORS[0], **dict(zip(case.finest, label.split("|"))),
                     "estimate": level.get(1.0, 1 - level.get(0.0, np.nan)),
                     "se": se.get(1.0, se.get(0.0, np.nan))})
    pd.DataFrame(rows).to_parquet(out)
    (d1, t1), (d2, t2) = runs
    per_domain = (t2 - t1) / (d2 - d1)
    per_call = t1 - per_domain * d1
    return {"seconds_measured": t1 + t2, "runs": runs, "per_domain": per_domain, "per_call": per_call,
            "estimates": len(rows), **memory}


def _start() -> dict:
    import gc
    gc.collect()
    resettable = _reset_peak()
    return {"t": time.perf_counter(), "rss": _status("VmRSS"), "resettable": resettable}


def _memory(started: dict) -> dict:
    peak = _status("VmHWM")
    return {"peak_mb": peak, "increase_mb": max(peak - started["rss"], 0.0) if started["resettable"] else None}


WORKERS = {"lqas": _worker_lqas, "svy": _worker_svy, "samplics": _worker_samplics}


def run_worker(engine: str, data: Path, folder: Path, options: dict) -> tuple[dict, pd.DataFrame]:
    out = folder / f"{engine}.parquet"
    command = [sys.executable, __file__, "--worker", engine, "--data", str(data), "--out", str(out),
               "--options", json.dumps(options)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), pd.read_parquet(out)


# -- driver ---------------------------------------------------------------------------------------

def complete_domains(peer: pd.DataFrame, frame: pd.DataFrame, case: Case) -> pd.DataFrame:
    """A peer's estimates with every domain column of lqas's: ``all`` where the peer's call did not
    split by it, and the units a geographic unit lies in (a district's region), as lqas shows them."""
    peer = peer.copy()
    for column in case.columns:
        peer[column] = peer[column].fillna(ALL).astype(str) if column in peer else ALL
    for k, level in enumerate(case.geography):
        units = frame[list(case.geography[:k + 1])].astype(str).drop_duplicates(level).set_index(level)
        inside = peer[level] != ALL
        for upper in case.geography[:k]:
            peer.loc[inside, upper] = peer.loc[inside, level].map(units[upper])
    return peer


def agreement(ours: pd.DataFrame, peer: pd.DataFrame, case: Case) -> dict:
    """Max |difference| of estimate and SE over the peer's estimates, each against lqas's row of the
    same domain; ``missing``: peer estimates without an lqas row, ``unmatched``: the other way round."""
    keys = ["indicator", *case.columns]
    ours = ours.astype({column: str for column in case.columns})
    merged = peer.merge(ours, on=keys, suffixes=("_peer", ""), how="left")
    missing = int(merged["estimate"].isna().sum())
    return {"compared": len(merged), "missing": missing, "unmatched": len(ours) - (len(merged) - missing),
            "estimate": float(np.nanmax(np.abs(merged["estimate"] - merged["estimate_peer"]))),
            "se": float(np.nanmax(np.abs(merged["se"] - merged["se_peer"])))}


def benchmark(n: int, options: dict, folder: Path) -> dict:
    case = CASES[options["case"]]
    frame = case.make(n)
    data = folder / f"survey_{n}.parquet"
    frame.to_parquet(data)
    summary = {"n": n, "case": options["case"], "strata": frame[case.stratum].nunique(),
               "psus": frame["psu"].nunique()}
    ours, ours_estimates = run_worker("lqas", data, folder, options)
    summary["lqas"] = ours
    total = ours["estimates"]
    for engine in ("svy", "samplics"):
        if engine in options["skip"]:
            continue
        result, estimates = run_worker(engine, data, folder, options)
        result["agreement"] = agreement(ours_estimates, complete_domains(estimates, frame, case), case)
        if engine == "samplics":
            result["calls"] = len(case.calls) * len(INDICATORS)
            result["seconds"] = result["calls"] * result["per_call"] + total * result["per_domain"]
            result["extrapolated"] = True
        summary[engine] = result
    return summary


def report(summaries: list[dict]) -> str:
    header = ("| children | strata / PSUs | domain estimates | lqas (s) | svy (s) | samplics (s) | svy / lqas | "
              "samplics / lqas | peak memory over the data, lqas / svy / samplics (MB) | "
              "agreement (max abs diff est, SE) |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]

    def cell(result, key="seconds", fmt="{:.2f}"):
        return fmt.format(result[key]) if key in result else "–"

    def ratio(result, ours):
        return f"{result['seconds'] / ours['seconds']:,.0f}×" if "seconds" in result else "–"

    for s in summaries:
        ours = s["lqas"]
        svy_ = s.get("svy", {})
        samplics_ = s.get("samplics", {})

        agree = []
        for name, result in (("svy", svy_), ("samplics", samplics_)):
            if "agreement" in result:
                a = result["agreement"]
                agree.append(f"{name} {a['compared']}: {a['estimate']:.0e}, {a['se']:.0e}")
        samplics_time = (f"{samplics_['seconds']:,.0f} (extrapolated from {samplics_['runs'][-1][0] - 1} domains)"
                         if "seconds" in samplics_ else "–")
        memory = " / ".join(f"{r['increase_mb']:,.0f}" if r.get("increase_mb") is not None else "–"
                            for r in (ours, svy_, samplics_))
        lines.append(f"| {s['n']:,} | {s['strata']} / {s['psus']:,} | {ours['estimates']:,} "
                     f"({ours['domains']:,} domains × {len(INDICATORS)}) | {ours['seconds']:.2f} | "
                     f"{cell(svy_, fmt='{:,.1f}')} | {samplics_time} | {ratio(svy_, ours)} | "
                     f"{ratio(samplics_, ours)} | {memory} | {'; '.join(agree)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--case", choices=sorted(CASES), default="proportions",
                        help="proportions: stratum x cohort x sex and its margins (default); "
                             "levels: region > district > health area and 3 stratifiers, as `lqas run`")
    parser.add_argument("--quick", action="store_true", help="10^4 children only (under a minute)")
    parser.add_argument("--samplics-domains", type=int, default=4, help="K finest domains timed with samplics")
    parser.add_argument("--skip", nargs="*", default=[], choices=["svy", "samplics"], help="peers not to run")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--options", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.data, args.out, json.loads(args.options)), default=float))
        return 0

    sizes = [10_000] if args.quick else args.sizes
    options = {"case": args.case, "k": args.samplics_domains, "skip": args.skip}
    versions = _versions()
    print(f"# lqas estimation benchmark, case {args.case}, {datetime.date.today()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; {versions}")
    print(f"# command: python benchmarks/estimation.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    summaries = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            started = time.perf_counter()
            summary = benchmark(n, options, Path(folder))
            summaries.append(summary)
            print(f"\n## {n:,} children ({time.perf_counter() - started:.0f} s for this size)")
            _print_summary(summary)
    print("\n" + report(summaries))
    failed = [(s["n"], engine) for s in summaries for engine in ("svy", "samplics")
              if engine in s and (s[engine]["agreement"]["estimate"] > TOLERANCE
                                  or s[engine]["agreement"]["se"] > TOLERANCE
                                  or s[engine]["agreement"]["missing"])]
    print("\nagreement:", "all peers agree with lqas to 1e-6 (estimate and SE)" if not failed
          else f"DISAGREEMENT beyond 1e-6: {failed}")
    if args.json:
        args.json.write_text(json.dumps({"case": args.case, "versions": versions, "summaries": summaries},
                                        indent=2, default=float))
    return 1 if failed else 0


def _print_summary(s: dict) -> None:
    ours = s["lqas"]
    print(f"lqas      {ours['seconds']:8.2f} s  all {ours['estimates']:,} estimates "
          f"({ours['domains']:,} domains × {len(INDICATORS)} indicators); peak RSS {ours['peak_mb']:,.0f} MB "
          f"(+{ours['increase_mb']:,.0f} MB over the loaded data)")
    if "svy" in s:
        r = s["svy"]
        a = r["agreement"]
        print(f"svy       {r['seconds']:8.2f} s  all {r['estimates']:,} estimates ({r['calls']} calls), measured; "
              f"peak RSS {r['peak_mb']:,.0f} MB (+{r['increase_mb']:,.0f} MB); {r['seconds'] / ours['seconds']:,.0f}× "
              f"lqas; max |diff| estimate {a['estimate']:.1e}, SE {a['se']:.1e} on {a['compared']:,} estimates"
              + "".join(f"; {a[key]:,} {label}" for key, label in (("missing", "svy estimates lqas lacks"),
                                                                  ("unmatched", "lqas estimates svy lacks"))
                        if a[key]))
    if "samplics" in s:
        r = s["samplics"]
        a = r["agreement"]
        (d1, t1), (d2, t2) = r["runs"]
        print(f"samplics  {r['seconds']:8.0f} s  EXTRAPOLATED to all {ours['estimates']:,} estimates "
              f"from measured runs of {d1} and {d2} domains ({t1:.2f} s, {t2:.2f} s: "
              f"{r['per_domain']:.3f} s per domain estimate + {r['per_call']:.2f} s per call, "
              f"{r['calls']} calls); "
              f"peak RSS {r['peak_mb']:,.0f} MB (+{r['increase_mb']:,.0f} MB); "
              f"{r['seconds'] / ours['seconds']:,.0f}× lqas; max |diff| estimate {a['estimate']:.1e}, "
              f"SE {a['se']:.1e} on the {a['compared']} domains it returned")


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version
    found = []
    for name in ("lqas", "numpy", "pandas", "svy", "samplics"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


if __name__ == "__main__":
    sys.exit(main())

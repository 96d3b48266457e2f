"""Speed and memory of design-based proportions: lqas against svy and samplics on synthetic national surveys.

Each engine runs in its own subprocess on the same data (a Parquet file), so peak memory is its own:
the kernel's resident-set high-water mark is reset after the data are loaded (/proc/self/clear_refs)
and read after estimation. Times are wall-clock seconds for building the design and estimating.

    python benchmarks/estimation.py --sizes 10000 100000 1000000    # about 5 minutes on 2 cores
    python benchmarks/estimation.py --quick                          # 10^4 children, under a minute

What is timed
-------------
- lqas: ``SurveyDesign(...).proportions(all indicators, by=[stratum, cohort, sex])``, i.e. every
  indicator in every domain and every margin (stratum x cohort x sex, stratum x cohort, ..., all).
- svy: ``Sample(...).estimation.mean(all indicators, by=<margin>, drop_nulls=True)``, one call per
  margin, so the same estimates, timed in full.
- samplics: ``TaylorEstimator(PopParam.prop).estimate(..., domain=...)`` loops over domains in
  Python and is too slow to run in full. It is timed on one indicator for 1 and for K finest domains
  (the rest of the rows pooled into one more domain, which leaves the chosen domains' estimates
  unchanged), and its time for all estimates is *extrapolated linearly*: time = calls x a + b x
  domain-estimates, with a and b from the two runs.
All three use Taylor linearization with PSUs sampled with replacement; the three strata with a single
PSU contribute no variance (lqas ``singleton="certainty"``, svy ``singleton="skip"``, samplics
``SinglePSUEst.skip``, all R ``survey.lonely.psu="certainty"``). Agreement of estimate and SE is
checked on every estimate a peer returns (1e-6).
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
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

INDICATORS = ["zero_dose", "penta3_crude", "mr1_crude", "card_seen", "fully_vaccinated"]
BY = ["stratum", "cohort", "sex"]
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


def margins() -> list[tuple[str, ...]]:
    return [tuple(c) for k in range(len(BY), -1, -1) for c in combinations(BY, k)]


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
    from lqas.design import SurveyDesign
    frame = pd.read_parquet(data)
    started = _start()
    design = SurveyDesign(frame, strata="stratum", psu="psu", weight="weight", singleton="certainty")
    estimates = design.proportions(INDICATORS, by=BY)
    seconds = time.perf_counter() - started["t"]
    estimates[["indicator", *BY, "estimate", "se"]].to_parquet(out)
    return {"seconds": seconds, "estimates": len(estimates), "domains": int(len(estimates) / len(INDICATORS)),
            **_memory(started)}


def _worker_svy(data: Path, out: Path, options: dict) -> dict:
    import polars as pl
    import svy
    frame = pl.read_parquet(data)
    started = _start()
    sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight", singleton="skip"))
    results = []
    for subset in margins():
        for indicator, result in zip(INDICATORS, sample.estimation.mean(
                INDICATORS, by=subset if subset else None, drop_nulls=True)):
            results.append((indicator, subset, result))
    seconds = time.perf_counter() - started["t"]
    memory = _memory(started)
    rows = []
    for indicator, subset, result in results:
        table = result.to_polars().to_pandas()
        for column in BY:
            if column not in subset:
                table[column] = "all"
        table["indicator"] = indicator
        rows.append(table.rename(columns={"est": "estimate"})[["indicator", *BY, "estimate", "se"]])
    estimates = pd.concat(rows, ignore_index=True)
    estimates.to_parquet(out)
    return {"seconds": seconds, "estimates": len(estimates), "calls": len(results), **memory}


def _worker_samplics(data: Path, out: Path, options: dict) -> dict:
    warnings.simplefilter("ignore", FutureWarning)  # samplics announces it is archived
    from samplics import PopParam, SinglePSUEst, TaylorEstimator
    frame = pd.read_parquet(data)
    y = frame[INDICATORS[0]].to_numpy()
    key = (frame["stratum"] + "|" + frame["cohort"] + "|" + frame["sex"]).to_numpy()
    domains = np.unique(key)
    # spread over the strata; the first is in a stratum with a single PSU
    chosen = domains[np.unique(np.linspace(0, len(domains) - 1, options["k"]).astype(int))]
    runs = []
    started = _start()
    for subset in (chosen[:1], chosen):
        t = time.perf_counter()
        domain = np.where(np.isin(key, subset), key, "~rest")
        estimator = TaylorEstimator(PopParam.prop)
        estimator.estimate(y=y, samp_weight=frame["weight"].to_numpy(), stratum=frame["stratum"].to_numpy(),
                           psu=frame["psu"].to_numpy(), domain=domain, remove_nan=True,
                           single_psu=SinglePSUEst.skip)
        runs.append((len(subset) + 1, time.perf_counter() - t))
    memory = _memory(started)
    rows = []
    for label in chosen:
        level = estimator.point_est[label]
        se = estimator.stderror[label]
        stratum, cohort, sex = label.split("|")
        rows.append({"indicator": INDICATORS[0], "stratum": stratum, "cohort": cohort, "sex": sex,
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

def agreement(ours: pd.DataFrame, peer: pd.DataFrame) -> dict:
    keys = ["indicator", *BY]
    merged = peer.merge(ours, on=keys, suffixes=("_peer", ""), how="left")
    missing = int(merged["estimate"].isna().sum())
    return {"compared": len(merged), "missing": missing,
            "estimate": float(np.nanmax(np.abs(merged["estimate"] - merged["estimate_peer"]))),
            "se": float(np.nanmax(np.abs(merged["se"] - merged["se_peer"])))}


def benchmark(n: int, options: dict, folder: Path) -> dict:
    frame = make_survey(n)
    data = folder / f"survey_{n}.parquet"
    frame.to_parquet(data)
    summary = {"n": n, "strata": frame["stratum"].nunique(), "psus": frame["psu"].nunique()}
    ours, ours_estimates = run_worker("lqas", data, folder, options)
    summary["lqas"] = ours
    total = ours["estimates"]
    for engine in ("svy", "samplics"):
        if engine in options["skip"]:
            continue
        result, estimates = run_worker(engine, data, folder, options)
        result["agreement"] = agreement(ours_estimates, estimates)
        if engine == "samplics":
            calls = len(margins()) * len(INDICATORS)
            result["seconds"] = calls * result["per_call"] + total * result["per_domain"]
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
    options = {"k": args.samplics_domains, "skip": args.skip}
    versions = _versions()
    print(f"# lqas estimation benchmark, {datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {versions}")
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
        args.json.write_text(json.dumps({"versions": versions, "summaries": summaries}, indent=2, default=float))
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
              f"lqas; max |diff| estimate {a['estimate']:.1e}, SE {a['se']:.1e} on {a['compared']:,} estimates")
    if "samplics" in s:
        r = s["samplics"]
        a = r["agreement"]
        (d1, t1), (d2, t2) = r["runs"]
        print(f"samplics  {r['seconds']:8.0f} s  EXTRAPOLATED to all {ours['estimates']:,} estimates "
              f"from measured runs of {d1} and {d2} domains ({t1:.2f} s, {t2:.2f} s: "
              f"{r['per_domain']:.3f} s per domain estimate + {r['per_call']:.2f} s per call, "
              f"{len(margins()) * len(INDICATORS)} calls); "
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

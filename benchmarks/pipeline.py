"""The whole `lqas run`, stage by stage, on surveys from 10^4 to 10^6 children: wall time and peak memory.

Each survey is a Kobo export shaped like the demo's (same questions, same answers' distribution): the
demo's synthetic export (examples/mali_baseline/) is copied into new health areas and clusters, every id
made new, until it holds the number of children asked for, spread over about 1,800 health areas in 60
districts (seeded, so the same file every time). The run is the installed lqas, in a subprocess of its
own per survey (`python -c`), through `lqas.cli.run_command`, what `lqas run` does; its progress messages
mark the stages: start (Python, importing lqas, reading the project file, then, while a forked process
reads the survey on Linux, loading the rest of lqas), ingest and derive (what is left of it), household log and fieldwork checks, estimate, classify lots, compare girls and boys,
priorities, then either "charts and report beside the tables" (Linux: the report made by a forked process
while the run writes the tables and the workbook) or "charts and report context" and "render the report"
(elsewhere, or with LQAS_PROCESSES=1), write tables, write the workbook, finish the tables (those written in
threads since they were made), finish the report, finish the PDF
(what is left of the typesetting). For each stage the script records the wall time and the peak memory
during the stage: the process's resident high-water mark (Linux: reset at each stage,
/proc/self/clear_refs) or, while it has forked processes (lqas.parallel), its resident memory plus their
pages they do not share with it (the machine's anonymous pages beyond the run's own and those before it), sampled
every 50 ms by this script's process (see sample_forks), whichever is higher.
The run of VCQI's Harmonia demo (3,256 children; examples/vcqi_harmonia) is timed
the same way, and shown beside vcqiR's run of the same indicators as recorded in issue #16 (about 15
minutes on a 2-core machine; vcqiR is not run here).

    python benchmarks/pipeline.py --sizes 10000 100000            # a few minutes on 2 cores
    python benchmarks/pipeline.py --sizes 1000000 --formats csv   # the national scale, tables only
    python benchmarks/pipeline.py --harmonia                      # VCQI's Harmonia demo
    python benchmarks/pipeline.py --sizes 1000000 --derive-only   # ingest and derive alone (issue #16)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "mali_baseline"
HARMONIA = REPO / "examples" / "vcqi_harmonia" / "survey.toml"
# vcqiR's run of the same indicators on Harmonia, as recorded in issue #16 ("about 15 minutes, measured on
# this kind of machine": 2 cores); vcqiR is not installed here, so the time is quoted, not measured
VCQIR_HARMONIA_SECONDS = 15 * 60
SEED = 20261203
AREAS = 1_800
DISTRICTS = 60

# the runner, executed by the installed lqas in a fresh interpreter: prints one JSON line per stage
RUNNER = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path

    def peak_mb():
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return float("nan")

    def reset_peak():
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            pass

    # the times on the clock the benchmark's own process reads too (CLOCK_MONOTONIC): it samples the memory
    # of this process's forked ones from outside (see sample_forks), and puts each sample in its stage
    stage, started = ["start"], [time.monotonic()]

    def progress(message):
        now = time.monotonic()
        print(json.dumps({"stage": stage[0], "seconds": now - started[0], "began": started[0], "ended": now,
                          "peak_mb": peak_mb()}), flush=True)
        reset_peak()
        stage[0], started[0] = message, time.monotonic()

    from contextlib import contextmanager

    from lqas.cli import run_command
    from lqas.errors import OutputError

    @contextmanager
    def working(what):
        yield progress

    project_file, out, formats = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    try:
        run_command(Path(project_file), out, formats=formats, working=working, overwrite=True)
    except OutputError as exc:
        print(json.dumps({"failed": str(exc)}), flush=True)
    progress("end")
''')

# `--derive-only`: ingest and derive alone (`lqas.derive.derive_project`, what `lqas derive` runs), with
# the process's peak memory from the start of the stage
DERIVE_RUNNER = textwrap.dedent('''
    import json, sys, time
    from lqas.config import load_project
    from lqas.derive import derive_project

    def status(key):
        with open("/proc/self/status") as lines:
            return next(int(line.split()[1]) / 1024 for line in lines if line.startswith(key))

    project = load_project(sys.argv[1])
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    started = time.perf_counter()
    derived = derive_project(project)
    print(json.dumps({"stage": "ingest and derive", "seconds": time.perf_counter() - started,
                      "peak_mb": status("VmHWM"), "children": len(derived.table)}), flush=True)
''')


def make_survey(children: int, folder: Path) -> Path:
    """A project of about ``children`` children in ~1,800 health areas: the demo's export copied into
    new areas and clusters, with the demo's project settings; returns its survey.toml."""
    rng = np.random.default_rng(SEED)
    export = pd.read_csv(DEMO / "data" / "mali_baseline_kobo.csv", dtype=str, keep_default_na=False)
    copies = max(1, round(children / len(export)))
    areas = min(AREAS, 6 * copies)
    log = pd.read_csv(DEMO / "data" / "households.csv", dtype=str, keep_default_na=False)
    frames, logs = [], []
    for k in range(copies):
        part = export.copy()
        # each demo catchment of this copy becomes a new health area (several copies share one area when
        # there are more copies than areas), in one of the 60 districts
        area_of = {c: f"ha{(k * 6 + i) % areas:04d}" for i, c in enumerate(sorted(part["hh/catchment"].unique()))}
        # the household log copied alongside, so the response rates and fieldwork checks run at scale too
        logs.append(log.assign(aire_sante=log["aire_sante"].map(area_of), grappe=log["grappe"] + f"-{k}",
                               menage=log["menage"] + f"-{k}"))
        part["hh/catchment"] = part["hh/catchment"].map(area_of)
        part["hh/district"] = part["hh/catchment"].map(lambda a: f"d{int(a[2:]) % DISTRICTS:02d}")
        part["hh/cluster"] = part["hh/cluster"] + f"-{k}"
        for column in ("hh/household_id", "child/child_id", "_id", "_uuid"):
            part[column] = part[column] + f"-{k}"
        frames.append(part)
    survey = pd.concat(frames, ignore_index=True)
    del frames
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    survey.to_csv(data / "export.csv", index=False)
    pd.concat(logs, ignore_index=True).to_csv(data / "households.csv", index=False)
    shutil.copyfile(DEMO / "data" / "logo.png", data / "logo.png")
    cohorts = pd.read_csv(DEMO / "data" / "populations.csv")["cohort"].unique()
    area_names = sorted(survey["hh/catchment"].unique())
    pd.DataFrame([(a, c, int(rng.integers(300, 3000))) for a in area_names for c in cohorts],
                 columns=["catchment", "cohort", "population"]).to_csv(data / "populations.csv", index=False)
    toml = (DEMO / "survey.toml").read_text(encoding="utf-8")
    toml = toml.replace('file = "data/mali_baseline_kobo.csv"', 'file = "data/export.csv"')
    toml = toml.split("\n[labels.catchment]")[0]  # the demo's names do not fit the new areas
    # the demo's reviewed remarks name its own areas
    toml = "\n".join(line for line in toml.splitlines() if not line.startswith("reviewed_remarks"))
    districts = sorted(survey["hh/district"].unique())
    toml = toml.replace('malaria = { district = ["bougouni", "segou"] }',
                        'malaria = { district = [' + ", ".join(f'"{d}"' for d in districts[::2]) + "] }")
    toml = toml.replace("synthetic = true", "synthetic = true\n# benchmarks/pipeline.py: the demo copied to scale")
    (folder / "survey.toml").write_text(toml, encoding="utf-8")
    return folder / "survey.toml"


def _kib_each(path: str, keys: tuple[str, ...]) -> dict[str, int]:
    """Each of ``keys`` of a /proc file of ``key: value kB`` lines, read once (0 where the process has ended)."""
    found = dict.fromkeys(keys, 0)
    try:
        with open(path) as lines:
            for line in lines:
                key = line.split(":")[0]
                if key in found:
                    found[key] = int(line.split()[1])
    except (OSError, ValueError, IndexError):  # the process has just ended
        pass
    return found


def _kib(path: str, keys: tuple[str, ...]) -> int:
    return sum(_kib_each(path, keys).values())


def _descendants(pid: int) -> list[int]:
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in path.read_text().split()]
        except OSError:
            pass
    return found + [grandchild for child in found for grandchild in _descendants(child)]


def sample_forks(pid: int, samples: list, done: threading.Event) -> None:
    """While the run (``pid``) has forked processes (lqas.parallel), which share its memory until either
    side writes: its resident set plus the pages the forked processes do not share with it, every 50 ms,
    as ``(time.monotonic(), MB)``.

    The forked processes' pages are the machine's anonymous pages (``AnonPages``, /proc/meminfo: each
    page once, however many processes map it) beyond those when the run started and those of the run's
    own process (``RssAnon``). Reading the forked processes' own accounts (``Private_*`` in
    /proc/<pid>/smaps_rollup) gives the same but walks their memory, holding their memory map's lock:
    sampled that way, 20 times a second, the 10^5 run took 0.5-0.9 s longer (1.4 s when the sampling
    was a thread of the run's own process)."""
    started = _kib("/proc/meminfo", ("AnonPages",))
    while not done.wait(0.05):
        if _descendants(pid):
            status = _kib_each(f"/proc/{pid}/status", ("RssAnon", "VmRSS"))
            forks = max(0, _kib("/proc/meminfo", ("AnonPages",)) - started - status["RssAnon"])
            samples.append((time.monotonic(), (status["VmRSS"] + forks) / 1024))


def run(project: Path, formats: str, derive_only: bool = False) -> dict:
    """The installed lqas on ``project`` in a subprocess: stages with time and peak memory."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        command = ([sys.executable, "-c", DERIVE_RUNNER, str(project)] if derive_only else
                   [sys.executable, "-c", RUNNER, str(project), str(Path(out) / "run"), formats])
        samples: list[tuple[float, float]] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out) as child:
            finished = threading.Event()
            sampler = threading.Thread(target=sample_forks, args=(child.pid, samples, finished), daemon=True)
            if Path("/proc/meminfo").exists():
                sampler.start()
            stdout, stderr = child.communicate()
            finished.set()
        done = subprocess.CompletedProcess(command, child.returncode, stdout, stderr)
        total = time.perf_counter() - started
        pages = None
        pdf = Path(out) / "run" / "report.pdf"
        if pdf.is_file():
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
            pages = next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), None)
    if done.returncode != 0:
        raise SystemExit(f"lqas run failed on {project}:\n{done.stderr[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for line in lines:
        if "began" in line:
            line["peak_mb"] = max([line["peak_mb"], *(mb for at, mb in samples if line["began"] <= at <= line["ended"])])
    stages = [line for line in lines if "stage" in line and line["stage"] != "reading the project"]
    failed = [line["failed"] for line in lines if "failed" in line]
    return {"total_seconds": total, "stages": stages, "pdf_pages": pages, "failed": failed}


def show(name: str, children: int, result: dict) -> None:
    print(f"\n{name}: {children:,} children, {result['total_seconds']:.1f} s in all"
          + (f", report {result['pdf_pages']} pages" if result["pdf_pages"] else ""))
    for stage in result["stages"]:
        print(f"  {stage['stage']:<36} {stage['seconds']:8.2f} s   peak {stage['peak_mb']:8.0f} MB")
    for failure in result["failed"]:
        print(f"  failed: {failure}")


def compile_lqas() -> None:
    """The installed lqas's bytecode written, as `pip install` writes it: an editable checkout under
    PYTHONDONTWRITEBYTECODE would compile lqas's sources again in every run (0.2-0.3 s)."""
    import compileall
    import importlib.util

    for folder in importlib.util.find_spec("lqas").submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--formats", default="csv,xlsx,html,pdf", help="outputs to write (lqas run --formats)")
    parser.add_argument("--harmonia", action="store_true", help="also time VCQI's Harmonia demo")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--derive-only", action="store_true",
                        help="time ingest and derive alone (lqas.derive.derive_project), with its peak memory")
    args = parser.parse_args()
    compile_lqas()
    print(f"lqas pipeline benchmark, {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            started = time.perf_counter()
            project = make_survey(size, Path(scratch) / f"n{size}")
            with open(project.parent / "data" / "export.csv", encoding="utf-8") as export:
                children = sum(1 for _ in export) - 1
            print(f"made a survey of {children:,} rows in {time.perf_counter() - started:.1f} s")
            results[size] = {"rows": children, **run(project, args.formats, args.derive_only)}
            show(f"{size:,}", children, results[size])
    if args.harmonia:
        results["harmonia"] = run(HARMONIA, args.formats, args.derive_only)
        show("VCQI Harmonia", 3256, results["harmonia"])
        if not args.derive_only:
            seconds = results["harmonia"]["total_seconds"]
            print(f"  beside vcqiR's run of the same indicators, about {VCQIR_HARMONIA_SECONDS / 60:.0f} min "
                  f"(recorded in issue #16, not run here): {VCQIR_HARMONIA_SECONDS / seconds:.0f}x faster")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

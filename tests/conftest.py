"""What every suite shares: where the shared reference data live, and what a missing oracle does.

An oracle is an outside reference a test compares with: R with its packages, ``pdftotext``, or the
VCQI/BeSD-TI demo data in the shared folder. Without ``LQAS_REQUIRE_ORACLES=1`` a test whose
oracle is absent skips with the reason; with it (as ``.ci/run`` sets) the test fails, so a machine
without the references cannot pass the suite while testing none of them.

The shared folder is ``$LQAS_SHARED`` if set, else ``<repo>/../shared``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STRICT = os.environ.get("LQAS_REQUIRE_ORACLES", "") == "1"
R_INSTALL = ("install R and the package (`apt-get install -y r-base-core r-cran-<name>`, or `R CMD INSTALL` "
             "a source tarball such as the shared folder's oracles/sae_1.3.tar.gz); `.ci/run` does both")


def shared_dir() -> Path:
    configured = os.environ.get("LQAS_SHARED", "").strip()
    return Path(configured).expanduser().resolve() if configured else REPO.parent / "shared"


SHARED = shared_dir()


class MissingOracle(pytest.fail.Exception):
    """A required oracle is absent (raised only under LQAS_REQUIRE_ORACLES=1)."""


def require(available: bool, what: str, install: str) -> None:
    """Skip the calling test when ``what`` is unavailable, or fail it under LQAS_REQUIRE_ORACLES=1.

    ``what`` names the missing oracle and ``install`` says how to get it; both go into the message.
    """
    if available:
        return
    message = f"{what} is missing: {install}"
    if STRICT:
        raise MissingOracle(f"{message} (a failure, not a skip, because LQAS_REQUIRE_ORACLES=1)", pytrace=False)
    pytest.skip(message)


@functools.cache
def _r_has(packages: tuple[str, ...]) -> bool:
    if shutil.which("Rscript") is None:
        return False
    calls = "; ".join(f"library({name})" for name in packages)
    return subprocess.run(["Rscript", "-e", calls], capture_output=True).returncode == 0


def require_r(*packages: str) -> None:
    """Rscript with each of ``packages`` (default: survey) loadable."""
    packages = packages or ("survey",)
    names = ", ".join(f"'{name}'" for name in packages)
    label = "package" if len(packages) == 1 else "packages"
    require(_r_has(tuple(packages)), f"Rscript with the R {label} {names}", R_INSTALL)


def require_program(name: str, install: str) -> None:
    require(shutil.which(name) is not None, f"the program `{name}`", install)


SHARED_INSTALL = ("set LQAS_SHARED to the folder that holds vcqi-data/ (default: <repo>/../shared); the "
                  "example projects in examples/ read <repo>/../shared/vcqi-data, so if the folder lives "
                  "elsewhere, link it there (`.ci/run` does)")


def require_shared(*paths: str | Path) -> None:
    """Files or folders of the shared reference data, relative to the shared folder (or absolute)."""
    missing = [os.path.normpath(SHARED / path) for path in paths if not (SHARED / path).exists()]
    require(not missing, f"the shared VCQI/BeSD-TI data ({', '.join(missing)})", SHARED_INSTALL)


@functools.cache
def demo_generator():
    """The demo's seeded generator (examples/mali_baseline/generate.py) as a module, loaded once: the tests
    take the places and numbers it plants from its own constants and functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mali_generate", REPO / "examples" / "mali_baseline" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generator():
    return demo_generator()


def example_project(name: str, *extra: str):
    """The example project ``examples/<name>``, after requiring every data file it reads (and ``extra``
    files next to its main data file)."""
    # imported here: an import error in lqas.config then fails the tests that load a project, not the
    # collection of every suite
    from lqas.config import load_project

    project = load_project(REPO / "examples" / name / "survey.toml")
    data = project.resolve(project.data.file)
    files = [data, *(project.resolve(merge.file) for merge in project.data.merge.values())]
    require_shared(*files, *(data.parent / file for file in extra))
    return project


@pytest.fixture
def r_survey() -> None:
    require_r("survey")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # A fixture that needs an oracle raises during setup, which pytest would list as an ERROR (a
    # broken fixture); a missing oracle is the test's own failure, so report it as FAILED.
    if call.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(MissingOracle):
        report.when = "call"

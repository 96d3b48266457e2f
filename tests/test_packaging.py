"""The wheel a user installs (issue 21, item 2): built from the repository, installed on its own (its
resources inside it: examples, templates, instruments), it runs `lqas demo` and `python -m lqas
--version` away from the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lqas

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel, built with pip (hatchling from the package index) and unpacked with pip into a folder
    of its own: the dependencies are this environment's, lqas is the wheel's."""
    wheels = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("lqas-*.whl")
    target = tmp_path_factory.mktemp("site")
    unpacked = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                               str(wheel)], capture_output=True, text=True, timeout=600, check=False)
    assert unpacked.returncode == 0, unpacked.stderr
    return wheel, target


def run_installed(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, "-m", "lqas", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=900, check=False)


def test_the_wheel_holds_the_package_and_its_resources(installed):
    wheel, _ = installed
    assert wheel.name == f"lqas-{lqas.__version__}-py3-none-any.whl"  # pure Python: one wheel for every system
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("lqas/cli.py", "lqas/maps.py", "lqas/_resources/examples/mali_followup/survey.toml",
                   "lqas/_resources/examples/mali_followup/data/areas/areas.geojson",
                   "lqas/_resources/templates/locale/fr/LC_MESSAGES/messages.po",
                   "lqas/_resources/instruments/profiles/kobo.toml"):
        assert needed in names, needed
    metadata = zipfile.ZipFile(wheel).read(f"lqas-{lqas.__version__}.dist-info/METADATA").decode()
    assert "License" in metadata and "Requires-Python: >=3.11" in metadata
    # no dependency that needs system libraries for the report
    assert "weasyprint" not in metadata.lower() and "Requires-Dist: typst" in metadata


def test_the_installed_wheel_runs_the_demo_away_from_the_source(installed, tmp_path):
    _, target = installed
    version = run_installed(target, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"lqas {lqas.__version__}"
    where = subprocess.run([sys.executable, "-c", "import lqas; print(lqas.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}, check=True)
    assert Path(where.stdout.strip()).is_relative_to(target)  # the wheel's lqas, not the repository's
    result = run_installed(target, "-q", "demo", "--out", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == [] and manifest["version"] == lqas.__version__
    for name in ("report.pdf", "report.html", "results.xlsx", "estimates.csv", "small_area.csv"):
        assert (tmp_path / "demo" / name).stat().st_size > 0, name

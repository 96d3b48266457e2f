"""Locate packaged resources (templates, instruments, examples, data) installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent

# installed wheel: lqas/_resources/<name>; source checkout or editable install: <repo>/<path>
_LOCATIONS = {
    "instruments": ("_resources/instruments", "instruments"),
    "templates": ("_resources/templates", "reports/templates"),
    "examples": ("_resources/examples", "examples"),
}


def resource_dir(name: str) -> Path:
    """Return the folder of a resource family: ``instruments``, ``templates`` or ``examples``."""
    packaged, source = _LOCATIONS[name]
    for candidate in (_PACKAGE_DIR / packaged, _SOURCE_ROOT / source):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"lqas resource folder '{name}' not found; reinstall the package")


def data_path(*parts: str) -> Path:
    """Path of a file shipped in ``lqas/data`` (schedules, indicator registry, defaults)."""
    return _PACKAGE_DIR.joinpath("data", *parts)

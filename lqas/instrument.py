"""Instruments: convert the shipped XLSForm questionnaires to ODK XForms with pyxform."""

from __future__ import annotations

from pathlib import Path

from pyxform.errors import PyXFormError
from pyxform.xls2xform import xls2xform_convert

from lqas.errors import InputError
from lqas.resources import resource_dir


def forms() -> list[Path]:
    """The XLSForm files shipped in ``instruments/``."""
    return sorted(resource_dir("instruments").glob("*.xlsx"))


def build_forms(out_dir: Path, sources: list[Path] | None = None) -> list[Path]:
    """Write one XForm XML per XLSForm into ``out_dir`` and return their paths.

    ODK Validate (Java) is not run here, so the build works on machines without Java;
    KoboToolbox and ODK Central validate the form again when it is uploaded.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources or forms():
        target = out_dir / f"{Path(source).stem}.xml"
        try:
            xls2xform_convert(source, target, validate=False)
        except (PyXFormError, ValueError, OSError) as exc:
            raise InputError(f"{source}: XLSForm does not convert ({' '.join(str(exc).split())})") from None
        written.append(target)
    return written

"""The canonical child-table schema (``lqas/data/canonical.toml``): which names a profile may map."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from lqas.config._validation import Regex, Section, read_toml, suggestion, validate_file
from lqas.resources import data_path


class ColumnPattern(Section):
    name: str
    regex: Regex
    description: str


class CanonicalSchema(Section):
    """The canonical columns a profile may map, those lqas computes, and the name patterns."""

    columns: dict[str, str]
    computed: dict[str, str] = Field(default_factory=dict)
    patterns: tuple[ColumnPattern, ...] = ()

    def problem_with(self, name: str) -> str | None:
        """Why ``name`` may not be a key of a profile's [columns]/[codes] (None when it may)."""
        if name in self.columns or any(re.fullmatch(p.regex, name) for p in self.patterns):
            return None
        if name in self.computed:
            return f"'{name}' is computed by lqas at ingest ({self.computed[name]}); a profile cannot map it"
        close = suggestion(name, self.columns)
        if close:
            return f"unknown canonical column; did you mean '{close}'?"
        shapes = ", ".join(p.name for p in self.patterns)
        return (f"unknown canonical column; expected a name of lqas/data/canonical.toml "
                f"(child_id, catchment, cluster, sex, dob, ...) or {shapes}")


def load_canonical_schema(path: str | Path | None = None) -> CanonicalSchema:
    """Read and validate the canonical schema.

    Parameters
    ----------
    path : str or Path, optional
        Default: the schema shipped in ``lqas/data/canonical.toml``.

    Returns
    -------
    CanonicalSchema

    Raises
    ------
    ConfigError
        Every problem of the file, one line each.
    """
    return _load(Path(path) if path is not None else data_path("canonical.toml"))


@lru_cache(maxsize=4)
def _load(path: Path) -> CanonicalSchema:
    # cached: every profile key is checked against it, and the shipped file does not change in a run
    return validate_file(CanonicalSchema, read_toml(path, "canonical schema"), path)


def check_canonical_name(name: str) -> str:
    """``name`` itself when it is a canonical column; else a ValueError saying why, with a suggestion."""
    problem = load_canonical_schema().problem_with(name)
    if problem:
        raise ValueError(problem)
    return name

"""lqas: LQAS classification and design-based estimation for household vaccination surveys.

The public names are imported on first use, so ``import lqas`` stays fast and changes no global
state (matplotlib backend, warnings filters, locale)::

    import lqas
    project = lqas.load_project("survey.toml")
    derived = lqas.derive_project(project)          # the child table, as `lqas derive` writes it
    results = lqas.analyse(project)                 # estimates, lots, comparisons, scorecard
    design = lqas.SurveyDesign(derived.table, strata="catchment", psu="cluster", weight="weight",
                               empty_psus=derived.empty_psus)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module defining it ("rules" is the subpackage itself)
_EXPORTS = {
    "load_project": "lqas.config",
    "Project": "lqas.config",
    "derive_project": "lqas.derive",
    "Derived": "lqas.derive",
    "analyse": "lqas.run",
    "run_project": "lqas.run",
    "Results": "lqas.results",
    "SurveyDesign": "lqas.design",
    "LqasError": "lqas.errors",
    "InputError": "lqas.errors",
    "ConfigError": "lqas.errors",
    "DesignError": "lqas.errors",
    "rules": "lqas.rules",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # for editors and type checkers; at run time the names load on first use
    from lqas import rules
    from lqas.config import Project, load_project
    from lqas.derive import Derived, derive_project
    from lqas.design import SurveyDesign
    from lqas.errors import ConfigError, DesignError, InputError, LqasError
    from lqas.results import Results
    from lqas.run import analyse, run_project


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lqas' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name == "rules" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

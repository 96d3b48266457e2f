"""lqas: LQAS classification and design-based estimation for household vaccination surveys."""

__version__ = "0.1.0"

from lqas.errors import ConfigError, DesignError, InputError, LqasError

__all__ = ["__version__", "LqasError", "InputError", "ConfigError", "DesignError"]

try:  # the estimation engine is optional at import time while it is being built
    from lqas.design import SurveyDesign  # noqa: F401

    __all__.append("SurveyDesign")
except ImportError:  # pragma: no cover
    pass

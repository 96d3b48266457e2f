"""lqas: LQAS classification and design-based estimation for household vaccination surveys."""

__version__ = "0.1.0"

from lqas.design import SurveyDesign
from lqas.errors import ConfigError, DesignError, InputError, LqasError

__all__ = ["__version__", "SurveyDesign", "LqasError", "InputError", "ConfigError", "DesignError"]

"""Typed configuration: one pydantic model per file the package reads, all problems reported at once.

``survey.toml`` (:mod:`lqas.config.project`), mapping profiles (:mod:`lqas.config.profile`, names
checked against :mod:`lqas.config.canonical`), schedules (:mod:`lqas.config.schedule`), the indicator
registry (:mod:`lqas.config.registry`), BeSD codings (:mod:`lqas.config.besd`) and the equity
scorecard (:mod:`lqas.config.scorecard`). Every model forbids unknown keys; a file with problems
raises one ``ConfigError`` with one line per problem: ``<file>: key '<dotted.key>': <reason>``.
"""

from lqas.config._validation import Section, describe_errors, read_toml, validate_file
from lqas.config.besd import BesdRegistryFile, validate_besd_registry
from lqas.config.canonical import CanonicalSchema, check_canonical_name, load_canonical_schema
from lqas.config.profile import Profile, validate_profile
from lqas.config.project import (
    DEFAULT_COHORTS,
    BesdConfig,
    DataConfig,
    DesignConfig,
    LqasConfig,
    MergeFile,
    Project,
    ReportConfig,
    SurveyInfo,
    TargetConfig,
    VaccinationConfig,
    load_project,
)
from lqas.config.registry import IndicatorRegistryFile, validate_indicator_registry
from lqas.config.schedule import ScheduleFile, validate_schedule
from lqas.config.scorecard import ScorecardFile, load_scorecard_config, validate_scorecard

__all__ = [
    "DEFAULT_COHORTS", "BesdConfig", "BesdRegistryFile", "CanonicalSchema", "DataConfig", "DesignConfig",
    "IndicatorRegistryFile", "LqasConfig", "MergeFile", "Profile", "Project", "ReportConfig", "ScheduleFile",
    "ScorecardFile", "Section", "SurveyInfo", "TargetConfig", "VaccinationConfig", "check_canonical_name",
    "describe_errors", "load_canonical_schema", "load_project", "load_scorecard_config", "read_toml",
    "validate_besd_registry", "validate_file", "validate_indicator_registry", "validate_profile",
    "validate_schedule", "validate_scorecard",
]

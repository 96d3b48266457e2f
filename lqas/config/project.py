"""Project configuration (00GC): the `survey.toml` file parsed into validated, typed settings."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PlainValidator, field_validator, model_validator

from lqas.config._validation import NonEmptyText, Section, cross_field_problems, read_toml, validate_file
from lqas.config.canonical import check_canonical_name
from lqas.config.fetch import FetchSettings
from lqas.errors import ConfigError, SettingError

DEFAULT_COHORTS = {"18w-11m": (126, 364), "12-23m": (365, 729)}


def _label(value: object) -> str | dict[str, str]:
    """A display label: one text, or one per language (``{ fr = "...", en = "..." }``)."""
    if isinstance(value, str):
        return value
    if (isinstance(value, dict) and value and set(value) <= {"en", "fr"}
            and all(isinstance(text, str) for text in value.values())):
        return value
    shown = "a table" if isinstance(value, dict) else repr(value)
    keys = f" with keys {', '.join(map(repr, value))}" if isinstance(value, dict) else ""
    raise ValueError(f'expected a text or {{ fr = "...", en = "..." }}; got {shown}{keys}')


Label = Annotated[str | dict[str, str], PlainValidator(_label)]


class MergeFile(Section):
    """A dataset joined onto the main export, e.g. a VCQI register (RIHC) or cluster metadata (CM)."""

    file: Path
    # { main column = merged column }; by default the keys the mapping profile declares for this name
    keys: dict[str, str] | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None


def _child_column(name: str) -> str:
    """A column of the child table: canonical, or the cohort lqas computes."""
    return name if name == "cohort" else check_canonical_name(name)


CanonicalColumn = Annotated[str, AfterValidator(_child_column)]


class DuplicatesConfig(Section):
    """``[data.duplicates]``: which copy of a child submitted twice is kept, and how a child submitted
    under another id is recognised."""

    # "latest": the copy sent last (submission_time), a resubmission usually corrects the first;
    # "first": the first in file order (VCQI). Without a submission_time, file order.
    keep: Literal["latest", "first"] = "latest"
    # columns that identify one child: rows sharing them are one child, and must agree on every answer
    # (else the run is refused). Default: none, and a row repeating another's every answer under a
    # new child_id is a duplicate.
    key: tuple[CanonicalColumn, ...] | None = None


class DataConfig(Section):
    file: Path
    profile: str = "kobo"
    # the XLSForm (or XForm) behind the export: read through it, any export shape is understood
    form: Path | None = None
    # the form's repeat group holding the children, when it has several
    repeat: str | None = None
    populations: Path | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    # datasets merged onto `file` by name (`[data.merge] clusters = "CM.dta"` or
    # `[data.merge.register] file = "RIHC.dta"`); the profile's [merge.<name>] says how
    merge: dict[str, MergeFile] = Field(default_factory=dict)
    duplicates: DuplicatesConfig = DuplicatesConfig()

    @field_validator("merge", mode="before")
    @classmethod
    def _merge_shorthand(cls, value: object) -> object:
        if isinstance(value, dict):
            return {name: ({"file": spec} if isinstance(spec, (str, Path)) else spec) for name, spec in value.items()}
        return value

    def ingest_options(self, root: Path) -> dict:
        """Keyword arguments for `lqas.ingest.ingest` besides the main file and profile.

        Paths are resolved against ``root`` (the project file's folder); run.py passes
        ``**project.data.ingest_options(project.root)``.
        """
        def resolve(path: Path) -> Path:
            return path if path.is_absolute() else Path(root) / path

        merge = {name: {**spec.model_dump(exclude_none=True), "file": resolve(spec.file)}
                 for name, spec in self.merge.items()}
        return {"sheet": self.sheet, "encoding": self.encoding, "delimiter": self.delimiter, "merge": merge,
                "duplicates": self.duplicates.model_dump(),
                "form": resolve(self.form) if self.form is not None else None, "repeat": self.repeat}


class DesignConfig(Section):
    strata: str | None = "catchment"
    psu: str | None = "cluster"
    weights: Literal["population", "column", "equal"] = "population"
    weight_column: str | None = None
    singleton: Literal["adjust", "certainty", "remove", "error"] = "adjust"
    nest: bool = False  # PSU codes numbered within strata (VCQI cluster numbers restart per stratum)
    ci: str = "wilson"
    level: float = Field(0.95, gt=0, lt=1)

    @model_validator(mode="after")
    def _weight_column_given(self) -> DesignConfig:
        if self.weights == "column" and not self.weight_column:
            raise ValueError("weights = 'column' needs weight_column = '<column name>'")
        return self


class VaccinationConfig(Section):
    schedule: str = "mali"
    records: Literal["not_sought", "if_no_card", "all"] = "not_sought"
    later_dose_implies_earlier: bool = True
    # doses given only in some areas: dose or series -> {column: [values where it was introduced]}
    introduced: dict[str, dict[str, list[str | int]]] = Field(default_factory=dict)

    @field_validator("introduced")
    @classmethod
    def _one_column_per_dose(cls, value: dict) -> dict:
        for key, areas in value.items():
            if len(areas) != 1:
                raise ValueError(f"introduced.{key} must name one column, e.g. {{ district = [\"a\", \"b\"] }}; "
                                 f"got {sorted(areas) or 'none'}")
        return value


class BesdConfig(Section):
    coding: str = "besd-ti"


class TargetConfig(Section):
    indicator: str
    good: float = Field(ge=0, le=1)
    bad: float = Field(ge=0, le=1)
    cohorts: tuple[str, ...] | None = None


class LqasConfig(Section):
    alpha: float = Field(0.10, gt=0, lt=1)
    beta: float = Field(0.10, gt=0, lt=1)
    lot: tuple[str, ...] = ("catchment", "cohort")
    targets: tuple[TargetConfig, ...] = ()


class PopulationsConfig(Section):
    """``[populations]``: how to read ``data.populations`` when it is not one row per lot with the lot
    columns and ``population`` (the district office's table: one row per health area, one age group)."""

    # a column of the file for each lot column and for `population`, e.g.
    # columns = { catchment = "Aire de santé", population = "Pop 0-23 mois" }
    columns: dict[str, str] = Field(default_factory=dict)
    # without a cohort column: the ages in days the population counts, split to the cohorts by the
    # share of those days each cohort's window covers ([0, 729] for 0-23 months) ...
    ages: tuple[int, int] | None = None
    # ... or the share of the population in each cohort
    shares: dict[str, float] | None = None
    # the child-table columns the populations are given for, when not for each lot: e.g. ["district"]
    # (with or without "cohort") when only the district's populations are known; the children of
    # one such unit then weigh alike (default: the lot columns)
    level: tuple[str, ...] | None = None
    # where the populations come from, said in the report's methods, e.g.
    # source = { fr = "projections DHIS2 2025 du district sanitaire", en = "district DHIS2 2025 projections" }
    source: Label | None = None

    @model_validator(mode="after")
    def _one_split(self) -> PopulationsConfig:
        if self.ages is not None and self.shares is not None:
            raise ValueError("give ages (split by the length of the age windows) or shares, not both")
        if self.ages is not None and not 0 <= self.ages[0] <= self.ages[1]:
            raise ValueError("ages = [first day, last day] with first <= last")
        if self.shares is not None and any(not 0 < share <= 1 for share in self.shares.values()):
            raise ValueError("each share is a fraction, above 0 and at most 1")
        return self


class HouseholdsConfig(Section):
    """``[households]``: the teams' log of every household visited (one row per visit result), for the
    response rates (lqas.households). Its columns ``cluster``, ``result`` and optionally ``catchment``
    (else the cluster's, from the children); ``result`` one of interviewed, no_eligible_child, absent,
    refused, other."""

    file: Path
    # the file's column for each of ours, e.g. columns = { cluster = "grappe", result = "resultat" }
    columns: dict[Literal["cluster", "result", "catchment"], str] = Field(default_factory=dict)
    # the file's codes for each result, e.g. codes = { "1" = "interviewed", "2" = "no_eligible_child" }
    codes: dict[str, Literal["interviewed", "no_eligible_child", "absent", "refused", "other"]] = Field(
        default_factory=dict)


class AdminConfig(Section):
    """``[admin]``: administrative data (DHIS2 extracts) set against the survey (lqas.admin): the
    extracts, the mapping of their data elements to doses and of their org units to the survey's
    units, the cohort whose coverage is compared, and where the target population comes from."""

    # DHIS2 extracts: analytics JSON/CSV, dataValueSets CSV/JSON or ADX XML (lqas.dhis2)
    files: tuple[Path, ...] = Field(min_length=1)
    # the mapping file (lqas.config.admin.AdminMapping)
    mapping: Path
    # the survey's column the org units map to, and the cohort the doses were due to
    column: str = "catchment"
    cohort: str = "12-23m"
    # the target population: the extract's own target rows (the mapping's [target]), a census projection
    # file (`census`), or the survey's populations file (the lot population of the cohort)
    targets: Literal["dhis2", "census", "populations"] = "dhis2"
    # with targets = "census": a CSV or XLSX of the projected target population, one row per unit and year
    # (columns: the unit column, `year`, `target`)
    census: Path | None = None
    # a programme's own thresholds file; the WHO's (lqas/data/dq_thresholds.toml) when not given
    thresholds: Path | None = None

    @model_validator(mode="after")
    def _census_file(self) -> AdminConfig:
        if self.targets == "census" and self.census is None:
            raise ValueError('targets = "census" needs the projection file: census = "file.csv"')
        if self.census is not None and self.targets != "census":
            raise ValueError(f'census is given but targets = "{self.targets}": set targets = "census" to use it')
        return self


class SmallAreaConfig(Section):
    """``[small_area]``: the Fay–Herriot model of one indicator for every area of a file, sampled or
    not (lqas.hotspots): where the zero-dose children are, with the ranking and the maps."""

    # one row per area, sampled or not (CSV or XLSX): its code, and the covariates known for every area
    file: Path
    # the survey's column the areas are (the lots' areas) and the file's column holding the same codes
    column: str = "catchment"
    area: NonEmptyText = "area"
    # the file's columns of the area's display name and of the level above it (e.g. its district), if any
    name: str | None = None
    parent: str | None = None
    # numeric (or text: one 0/1 column per category) columns known for every area, e.g. DHIS2's
    # administrative Penta 1 coverage, the distance to the district's health centre, the urban share
    covariates: tuple[NonEmptyText, ...] = ()
    # the file's column of the cohort's children in each area: the numbers of children
    population: str | None = None
    indicator: NonEmptyText = "zero_dose"
    cohort: str = "12-23m"
    # "logit" models logit(p) (estimates stay inside 0-100 %); "none" the proportion itself
    transform: Literal["none", "logit"] = "logit"
    method: Literal["REML", "ML"] = "REML"
    # the programme threshold the probability of exceeding is given for (a hotspot: likely above it); when
    # not given, the indicator's LQAS target's bad threshold ([lqas] targets), if it has one
    threshold: Annotated[float, Field(gt=0, lt=1, strict=True)] | None = None
    # fewer sampled areas and no model is fitted (the area variance from a handful of areas is noise)
    min_areas: Annotated[int, Field(ge=3, strict=True)] = 15
    # the areas' boundaries (GeoJSON, or a shapefile with geopandas installed) and the property holding
    # the area codes: maps when given
    boundaries: Path | None = None
    boundary_key: NonEmptyText = "area"


class QualityConfig(Section):
    """``[quality]``: the fieldwork checks of ``lqas quality`` (lqas.fieldwork)."""

    # a programme's own thresholds, severities and explanations; the package's
    # (lqas/data/fieldwork_checks.toml) when not given
    checks: Path | None = None


class PreviousRound(Section):
    """An earlier round of the survey: its name and its own project file (its export, profile,
    populations, cohorts and design, validated as this one)."""

    name: str
    project: Path


class RoundsConfig(Section):
    """``[rounds]``: this survey is the latest round of a study; the change from each earlier round
    is estimated on one design holding both (lqas.rounds)."""

    # this round's name, e.g. "suivi 2026"
    name: str
    # the earlier rounds, oldest first
    previous: tuple[PreviousRound, ...] = Field(min_length=1)
    # true when this round revisited the earlier rounds' clusters (the same cluster ids name the same
    # villages): the rounds then share strata and clusters, and the change's variance takes their
    # covariance in; false when each round drew its own clusters
    revisited: bool = False

    @model_validator(mode="after")
    def _distinct_names(self) -> RoundsConfig:
        names = [self.name, *(round_.name for round_ in self.previous)]
        if len(set(names)) != len(names):
            raise ValueError(f"each round needs its own name; got {names}")
        return self


class ArmsConfig(Section):
    """``[arms]``: where an intervention ran between the rounds, for the difference in differences: the
    units of ``column`` (catchment areas by default) in its arm; every other unit is the comparison."""

    intervention: str
    column: str = "catchment"
    units: tuple[str, ...] = Field(min_length=1)
    # when the intervention started: one date, or one per unit ({ kologo = 2026-02-01, ... }); a child
    # of its arm counts as exposed only if its first Penta was due (birth + 6 weeks) on or after it;
    # the others of the arm are left out of the difference in differences (default: every child exposed)
    start: datetime.date | dict[str, datetime.date] | None = None

    @model_validator(mode="after")
    def _start_of_each_unit(self) -> ArmsConfig:
        if isinstance(self.start, dict) and set(self.units) - set(self.start):
            missing = ", ".join(sorted(set(self.units) - set(self.start)))
            raise ValueError(f"start: give the date the intervention started in every unit of the arm; missing: {missing}")
        return self


class LevelsConfig(Section):
    """``[levels]``: the geographic columns the survey is read at, from the top (the national level is
    implicit), e.g. ``columns = ["region", "district", "catchment"]``. Each lower level must lie in one
    unit of the level above. Estimates are written at every level, each with its cohort and sex margins."""

    columns: tuple[str, ...] = ("catchment",)


class StratifiersConfig(Section):
    """``[stratifiers]``: child- or caretaker-level columns estimated as domains of their own (area,
    population group, caretaker's education, ...), each crossed with cohort and sex at ``levels``
    ("national" and/or columns of ``[levels]``)."""

    columns: tuple[str, ...] = ()
    levels: tuple[str, ...] = ("national",)


DoseFamily = Literal["crude", "valid", "valid_age1", "by_card", "by_history", "by_register", "by_scar",
                     "card_or_history", "card_or_register", "card_history_or_register"]
DOSE_FAMILIES: tuple[str, ...] = DoseFamily.__args__


class EstimatesConfig(Section):
    """``[estimates]``: which families of per-dose indicators ``estimates.csv`` holds (each a
    ``[dose_templates.*]`` of lqas/data/indicators.toml: VCQI RI_COVG_01 crude and by evidence source,
    RI_COVG_02 valid and valid by age 1), ``"all"`` for every family; the other indicators (zero-dose,
    full vaccination, dropout, cards, BeSD) always."""

    doses: tuple[DoseFamily, ...] = ("crude", "valid", "valid_age1")

    @field_validator("doses", mode="before")
    @classmethod
    def _all(cls, value):
        return DOSE_FAMILIES if value == "all" else value


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CoverConfig(Section):
    """``[report.cover]``: what the title page says besides the title, as a ministry's reports do."""

    # the institution publishing the report, one text or one per language
    institution: Label | None = None
    authors: tuple[str, ...] = ()
    # PNG images shown at the top of the title page (the ministry's, the partners'), in this order
    logos: tuple[Path, ...] = ()
    # the report's own version ("1.0", "draft 2"), not the program's
    version: str | None = None
    # how to cite the report, one text or one per language
    citation: Label | None = None


class ReportConfig(Section):
    language: Literal["en", "fr"] = "fr"
    # report title by language, e.g. [report.title] fr = "..." en = "..." (default: survey.name)
    title: dict[str, str] = Field(default_factory=dict)
    # estimates from few children, as the reader's reference surveys show them: "dhs" (DHS: from
    # fewer than small_cell_n children suppressed, shown "*"; from fewer than caution_n, in
    # parentheses) or "vcqi" (VCQI: every estimate shown, with its n beside it)
    small_numbers: Literal["dhs", "vcqi"] = "dhs"
    small_cell_n: int = Field(25, ge=0)
    caution_n: int = Field(50, ge=0)
    # the coverage the programme aims at: a line on the coverage charts (IA2030: 90 %)
    coverage_target: float | None = Field(0.90, gt=0, le=1)
    # CSV text starting with = + - @ tab or CR gets a leading ' (OWASP CSV injection) so that no
    # spreadsheet runs it as a formula; false for programs that read the CSVs and want the raw text
    csv_neutralise: bool = True
    # interviewer remarks are free text (they can name people): only this file, written by
    # `lqas remarks` and reviewed by a person, is published in the report and the workbook
    reviewed_remarks: Path | None = None
    # a national survey has hundreds of health areas: up to this many, the body of the report shows each
    # one; beyond, its tables show the lowest level above them with at most this many units (districts),
    # and the health areas get a compact annex
    areas_in_body: int = Field(30, ge=1)
    # lines of that annex (one per health area); beyond, the areas with the highest zero-dose prevalence
    # are shown and the annex points to results.xlsx and estimates.csv for the others
    annex_areas: int = Field(300, ge=1)
    # the rules of the executive summary (access/utilisation categories, conditions, draft
    # recommendations): a copy of lqas/data/priorities.toml the programme edited (default: that file)
    priorities: Path | None = None
    cover: CoverConfig = CoverConfig()

    @model_validator(mode="after")
    def _caution_above_small(self) -> ReportConfig:
        if self.caution_n < self.small_cell_n:
            raise ValueError("caution_n (estimates in parentheses below it) must be at least small_cell_n "
                             "(estimates suppressed below it)")
        return self


class SurveyInfo(Section):
    name: str = "Survey"
    country: str | None = None
    # when the fieldwork ran, one text or one per language: { fr = "octobre–novembre 2025", en = "..." }
    period: Label | None = None
    synthetic: bool = False  # says so on the report's title page


class Project(Section):
    survey: SurveyInfo = SurveyInfo()
    data: DataConfig
    design: DesignConfig = DesignConfig()
    cohorts: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(DEFAULT_COHORTS))
    vaccination: VaccinationConfig = VaccinationConfig()
    besd: BesdConfig = BesdConfig()
    lqas: LqasConfig = LqasConfig()
    populations: PopulationsConfig = PopulationsConfig()
    households: HouseholdsConfig | None = None
    admin: AdminConfig | None = None
    small_area: SmallAreaConfig | None = None
    quality: QualityConfig = QualityConfig()
    rounds: RoundsConfig | None = None
    arms: ArmsConfig | None = None
    levels: LevelsConfig = LevelsConfig()
    stratifiers: StratifiersConfig = StratifiersConfig()
    estimates: EstimatesConfig = EstimatesConfig()
    report: ReportConfig = ReportConfig()
    # the server and form `lqas fetch` downloads the submissions of (lqas.config.fetch)
    fetch: FetchSettings | None = None
    # display labels for codes, e.g. [labels.catchment] bougouni_est = "Bougouni Est", one text or one
    # per language: [labels.district] segou = { fr = "Ségou (urbain)", en = "Ségou (urban)" }; the words of
    # the LQAS classes too: [labels.klass] pass = { fr = "satisfaisant", en = "satisfactory" }, fail = ...
    labels: dict[str, dict[str, Label]] = Field(default_factory=dict)
    root: Path = Path(".")
    # the project file itself, named in every error about one of its settings
    file: Path = Path("survey.toml")

    def labels_in(self, lang: str) -> dict[str, dict[str, str]]:
        """``[labels]`` in ``lang``: a label given in the other language only is used as it is."""
        def text(label: str | dict[str, str]) -> str:
            return label if isinstance(label, str) else label.get(lang) or next(iter(label.values()))
        return {column: {code: text(label) for code, label in codes.items()} for column, codes in self.labels.items()}

    @field_validator("cohorts")
    @classmethod
    def _cohort_windows(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for name, (low, high) in value.items():
            if not 0 <= low <= high:
                raise ValueError(f"cohort '{name}' window must be [min_days, max_days] with min <= max")
        # a child in two windows would be placed in whichever comes first, silently
        windows = sorted((low, high, name) for name, (low, high) in value.items())
        for (_, high, name), (low, _, following) in itertools.pairwise(windows):
            if low <= high:
                raise ValueError(f"cohorts '{name}' and '{following}' overlap (a child aged {low} to {high} days "
                                 "would be in both); make the windows disjoint")
        return value

    @model_validator(mode="after")
    def _target_cohorts_exist(self) -> Project:
        problems = []
        for name in self.populations.shares or {}:
            if name not in self.cohorts:
                reason = f"not a cohort of [cohorts]; the cohorts are {', '.join(map(repr, self.cohorts))}"
                problems.append((f"populations.shares.{name}", reason))
        for i, target in enumerate(self.lqas.targets):
            unknown = [c for c in target.cohorts or () if c not in self.cohorts]
            if unknown:
                # a misspelt cohort would classify nothing for the target, silently
                reason = (f"{', '.join(map(repr, unknown))} is not a cohort of [cohorts]; the cohorts are "
                          f"{', '.join(map(repr, self.cohorts))}")
                problems.append((f"lqas.targets[{i + 1}].cohorts", reason))
        for level in self.stratifiers.levels:
            if level != "national" and level not in self.levels.columns:
                reason = (f"'{level}' is not 'national' or a column of [levels] "
                          f"({', '.join(map(repr, self.levels.columns))})")
                problems.append(("stratifiers.levels", reason))
        if self.admin is not None and self.admin.cohort not in self.cohorts:
            reason = f"'{self.admin.cohort}' is not a cohort of [cohorts]; the cohorts are {', '.join(map(repr, self.cohorts))}"
            problems.append(("admin.cohort", reason))
        if self.small_area is not None and self.small_area.cohort not in self.cohorts:
            reason = (f"'{self.small_area.cohort}' is not a cohort of [cohorts]; the cohorts are "
                      f"{', '.join(map(repr, self.cohorts))}")
            problems.append(("small_area.cohort", reason))
        if self.arms is not None and self.rounds is None:
            problems.append(("arms", "an intervention's arms are compared between rounds: name them in [rounds]"))
        for i, logo in enumerate(self.report.cover.logos):
            path = self.resolve(logo)
            if not path.is_file():
                problems.append((f"report.cover.logos[{i + 1}]", f"{logo}: file not found"))
            elif path.read_bytes()[:8] != PNG_SIGNATURE:
                problems.append((f"report.cover.logos[{i + 1}]", f"{logo}: not a PNG image (save the logo as PNG)"))
        if problems:
            raise cross_field_problems(problems)
        return self

    def resolve(self, path: Path) -> Path:
        """A path from the project file, relative to the project file's folder."""
        return path if path.is_absolute() else (self.root / path)

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """Name the project file in an error about one of its settings (:class:`SettingError`)."""
        try:
            yield
        except SettingError as exc:
            raise ConfigError(f"{self.file}: {exc}") from None


def load_project(path: str | Path) -> Project:
    """Read and validate a ``survey.toml`` project file.

    Parameters
    ----------
    path : str or Path
        The project file; relative paths inside it are resolved against its folder.

    Returns
    -------
    Project
        The validated, frozen settings.

    Raises
    ------
    ConfigError
        When the file is missing or not TOML (one line), or lists every problem of the file, one
        line each naming the file, the key and the reason (with "did you mean ...?" for a misspelt key).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: project file not found")
    raw = read_toml(path, "file")
    raw["root"] = path.resolve().parent
    raw["file"] = path
    return validate_file(Project, raw, path)


def example_leftovers(project: Project) -> list[str]:
    """What a project copied from the shipped example still says of the example (its title, its
    ``synthetic = true``, its catchment names) while it reads other data: each would go into a report
    of real data."""
    import hashlib

    from lqas.resources import resource_dir

    if Path(project.root).resolve().is_relative_to(resource_dir("examples").resolve()):
        return []  # a shipped example (the follow-up round) is synthetic and named so on purpose
    example = load_project(resource_dir("examples") / "mali_baseline" / "survey.toml")
    data, example_data = project.resolve(project.data.file), example.resolve(example.data.file)
    if not data.is_file() or (data.stat().st_size == example_data.stat().st_size
                              and hashlib.sha256(data.read_bytes()).digest()
                              == hashlib.sha256(example_data.read_bytes()).digest()):
        return []
    found = []
    if project.survey.synthetic:
        found.append("[survey] synthetic = true (the report would say its data are invented)")
    if project.survey.name == example.survey.name or any(
            title == example.report.title.get(lang) for lang, title in project.report.title.items()):
        found.append("the example's title")
    if project.labels.get("catchment") and project.labels.get("catchment") == example.labels.get("catchment"):
        found.append("the example's catchment names ([labels.catchment])")
    return found

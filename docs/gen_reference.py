"""MkDocs hook: the reference pages, generated from the code at every build so they cannot drift.

``mkdocs.yml`` names this file under ``hooks:``. :func:`on_files` adds, in English and in French,

- ``<lang>/reference/survey-toml.md``: every key of ``survey.toml`` from the pydantic models of
  ``lqas/config/project.py`` (key, type, default, and the ``#`` comment written above the field);
- ``<lang>/reference/profile.md``: every key of a mapping profile (``lqas/config/profile.py``), then
  ``instruments/profiles/README.md``;
- ``<lang>/reference/config-files.md``: the other files a programme may edit (DHIS2 mapping, data-quality
  thresholds, fieldwork checks);
- ``<lang>/reference/cli.md``: every command and option of the ``lqas`` command line (the typer app);
- ``<lang>/reference/outputs.md``: every file of a run folder and the columns of its tables;
- ``<lang>/reference/report-context.md``: ``reports/templates/CONTEXT.md``.

The pages live only in the build (``File.generated``): nothing is written into ``docs/``. The
functions returning each page's Markdown are plain functions, so ``tests/test_docs.py`` reads them
without MkDocs.
"""

from __future__ import annotations

import ast
import datetime
import functools
import inspect
import io
import re
import sys
import textwrap
import tokenize
import types
import typing
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # document the working tree, whatever lqas the environment has installed
    sys.path.insert(0, str(REPO))

LANGS = ("en", "fr")

# fields of Project set by load_project, not written in survey.toml
INTERNAL = {"Project": {"root", "file"}}

# keys whose models carry no comment: a short description, in both languages. A key named here that
# is not a field any more fails the build (see _check_extra).
EXTRA: dict[tuple[str, str], dict[str, str]] = {
    ("Project", "cohorts"): {
        "en": "age cohorts: name = [first day, last day] of age at interview; windows must not overlap",
        "fr": "cohortes d'âge : nom = [premier jour, dernier jour] d'âge à l'entretien ; sans chevauchement"},
    ("Project", "survey"): {"en": "what the survey is: its name, country, period",
                            "fr": "l'enquête : son nom, son pays, sa période"},
    ("Project", "data"): {"en": "the export, its mapping profile, its form, the populations",
                          "fr": "l'export, son profil de correspondance, son formulaire, les populations"},
    ("Project", "design"): {"en": "the sampling design: strata, clusters, weights, interval",
                            "fr": "le plan de sondage : strates, grappes, poids, intervalle"},
    ("Project", "vaccination"): {"en": "the schedule and how doses are counted",
                                 "fr": "le calendrier et le décompte des doses"},
    ("Project", "besd"): {"en": "the BeSD answers' coding", "fr": "le codage des réponses BeSD"},
    ("Project", "lqas"): {"en": "the lots and their LQAS targets", "fr": "les lots et leurs cibles LQAS"},
    ("Project", "report"): {"en": "the report: language, small numbers, title page, remarks",
                            "fr": "le rapport : langue, petits effectifs, page de titre, remarques"},
    ("SurveyInfo", "name"): {
        "en": "the survey's name, the report's title unless [report.title] gives one",
        "fr": "nom de l'enquête, titre du rapport sauf si [report.title] en donne un"},
    ("SurveyInfo", "country"): {"en": "the country, shown on the title page", "fr": "le pays, sur la page de titre"},
    ("DataConfig", "file"): {
        "en": "the export (CSV, XLSX, Kobo XLSX, ODK Central zip, SPSS .sav, Stata .dta), relative to survey.toml",
        "fr": "l'export (CSV, XLSX, XLSX Kobo, zip ODK Central, SPSS .sav, Stata .dta), relatif à survey.toml"},
    ("DataConfig", "profile"): {
        "en": "the mapping profile: a shipped one (kobo, vcqi, besd-ti) or a .toml file",
        "fr": "le profil de correspondance : un profil livré (kobo, vcqi, besd-ti) ou un fichier .toml"},
    ("DataConfig", "populations"): {
        "en": "populations of the lots (CSV or XLSX), for weights = \"population\"; see [populations]",
        "fr": "populations des lots (CSV ou XLSX), pour weights = \"population\" ; voir [populations]"},
    ("DataConfig", "sheet"): {"en": "the sheet of an XLSX file (name or number)",
                              "fr": "la feuille d'un fichier XLSX (nom ou numéro)"},
    ("DataConfig", "encoding"): {"en": "the CSV's encoding (sniffed when not given)",
                                 "fr": "l'encodage du CSV (deviné sinon)"},
    ("DataConfig", "delimiter"): {"en": "the CSV's delimiter (sniffed when not given)",
                                  "fr": "le séparateur du CSV (deviné sinon)"},
    ("MergeFile", "file"): {"en": "the dataset to join", "fr": "le fichier à joindre"},
    ("MergeFile", "sheet"): {"en": "its sheet (XLSX)", "fr": "sa feuille (XLSX)"},
    ("MergeFile", "encoding"): {"en": "its encoding (CSV)", "fr": "son encodage (CSV)"},
    ("MergeFile", "delimiter"): {"en": "its delimiter (CSV)", "fr": "son séparateur (CSV)"},
    ("DesignConfig", "strata"): {"en": "the column of the strata (none: one stratum)",
                                 "fr": "la colonne des strates (aucune : une seule strate)"},
    ("DesignConfig", "psu"): {"en": "the column of the primary sampling units (clusters)",
                              "fr": "la colonne des unités primaires (grappes)"},
    ("DesignConfig", "weights"): {
        "en": "population: from [data] populations; column: weight_column; equal: every child alike",
        "fr": "population : d'après [data] populations ; column : weight_column ; equal : tous les enfants égaux"},
    ("DesignConfig", "weight_column"): {"en": "the weight column, with weights = \"column\"",
                                        "fr": "la colonne des poids, avec weights = \"column\""},
    ("DesignConfig", "singleton"): {
        "en": "strata with one PSU, as R options(survey.lonely.psu = ...)",
        "fr": "strates à une seule grappe, comme R options(survey.lonely.psu = ...)"},
    ("DesignConfig", "ci"): {
        "en": "interval: wilson (VCQI), clopper-pearson, jeffreys, logit, agresti-coull, wald, korn-graubard",
        "fr": "intervalle : wilson (VCQI), clopper-pearson, jeffreys, logit, agresti-coull, wald, korn-graubard"},
    ("DesignConfig", "level"): {"en": "confidence level", "fr": "niveau de confiance"},
    ("VaccinationConfig", "schedule"): {"en": "the vaccination schedule (lqas/data/schedules/<name>.toml)",
                                        "fr": "le calendrier vaccinal (lqas/data/schedules/<nom>.toml)"},
    ("VaccinationConfig", "records"): {
        "en": "health-facility registers sought: not_sought, if_no_card or all (VCQI RI_RECORDS_SOUGHT...)",
        "fr": "registres des centres de santé consultés : not_sought, if_no_card ou all (VCQI)"},
    ("VaccinationConfig", "later_dose_implies_earlier"): {
        "en": "a later dose of a series counts the earlier ones as given (VCQI)",
        "fr": "une dose ultérieure d'une série compte les précédentes comme reçues (VCQI)"},
    ("BesdConfig", "coding"): {"en": "the numeric BeSD coding (lqas/data/besd.toml)",
                               "fr": "le codage numérique BeSD (lqas/data/besd.toml)"},
    ("TargetConfig", "indicator"): {"en": "the indicator (a column of derived.csv, e.g. zero_dose)",
                                    "fr": "l'indicateur (une colonne de derived.csv, p. ex. zero_dose)"},
    ("TargetConfig", "good"): {
        "en": "the target a lot should reach (upper threshold), on the indicator's own scale",
        "fr": "la cible qu'un lot doit atteindre (seuil supérieur), sur l'échelle de l'indicateur"},
    ("TargetConfig", "bad"): {
        "en": "the level of a lot to improve (lower threshold), on the indicator's own scale",
        "fr": "le niveau d'un lot à améliorer (seuil inférieur), sur l'échelle de l'indicateur"},
    ("TargetConfig", "cohorts"): {"en": "only these cohorts (default: every cohort)",
                                  "fr": "seulement ces cohortes (par défaut : toutes)"},
    ("LqasConfig", "alpha"): {"en": "limit on alpha = P(fail | good)", "fr": "limite de alpha = P(échec | bon)"},
    ("LqasConfig", "beta"): {"en": "limit on beta = P(pass | bad)", "fr": "limite de bêta = P(succès | mauvais)"},
    ("LqasConfig", "lot"): {"en": "the columns that make a lot", "fr": "les colonnes qui forment un lot"},
    ("LqasConfig", "targets"): {"en": "the targets each lot is classified against",
                                "fr": "les cibles contre lesquelles chaque lot est classé"},
    ("ArmsConfig", "intervention"): {"en": "the intervention's name", "fr": "le nom de l'intervention"},
    ("ArmsConfig", "column"): {"en": "the column whose units form the arm", "fr": "la colonne dont les unités forment le bras"},
    ("ArmsConfig", "units"): {"en": "the units in the intervention arm", "fr": "les unités du bras d'intervention"},
    ("LevelsConfig", "columns"): {"en": "the geographic columns, from the top", "fr": "les colonnes géographiques, du haut vers le bas"},
    ("StratifiersConfig", "columns"): {"en": "columns estimated as domains of their own",
                                       "fr": "colonnes estimées comme domaines à part"},
    ("StratifiersConfig", "levels"): {"en": "\"national\" and/or columns of [levels]",
                                      "fr": "\"national\" et/ou des colonnes de [levels]"},
    ("EstimatesConfig", "doses"): {"en": "the per-dose families, or \"all\"", "fr": "les familles par dose, ou \"all\""},
    ("CoverConfig", "authors"): {"en": "the authors, in order", "fr": "les auteurs, dans l'ordre"},
    ("ReportConfig", "language"): {"en": "the report's language", "fr": "la langue du rapport"},
    ("ReportConfig", "small_cell_n"): {"en": "estimates from fewer children are flagged small (see small_numbers)",
                                       "fr": "estimations sur moins d'enfants signalées petites (voir small_numbers)"},
    ("ReportConfig", "caution_n"): {"en": "with small_numbers = \"dhs\": estimates from fewer children in parentheses",
                                    "fr": "avec small_numbers = \"dhs\" : estimations sur moins d'enfants entre parenthèses"},
    ("ReportConfig", "cover"): {"en": "the title page, see [report.cover]", "fr": "la page de titre, voir [report.cover]"},
    ("PreviousRound", "name"): {"en": "the earlier round's name", "fr": "le nom du tour précédent"},
    ("PreviousRound", "project"): {"en": "its survey.toml, relative to this one", "fr": "son survey.toml, relatif à celui-ci"},
    ("AdminConfig", "cohort"): {"en": "the cohort whose doses are compared (see column)",
                                "fr": "la cohorte dont les doses sont comparées (voir column)"},
    ("SmallAreaConfig", "area"): {"en": "the areas file's column holding the same codes (see column)",
                                  "fr": "la colonne du fichier des aires qui porte les mêmes codes (voir column)"},
    ("SmallAreaConfig", "parent"): {"en": "the file's column of the level above (see name)",
                                    "fr": "la colonne du fichier du niveau supérieur (voir name)"},
    ("SmallAreaConfig", "indicator"): {"en": "the indicator modelled", "fr": "l'indicateur modélisé"},
    ("SmallAreaConfig", "cohort"): {"en": "the cohort modelled", "fr": "la cohorte modélisée"},
    ("SmallAreaConfig", "method"): {"en": "the variance estimator of the model (as sae::eblupFH)",
                                    "fr": "l'estimateur de la variance du modèle (comme sae::eblupFH)"},
    ("SmallAreaConfig", "boundary_key"): {"en": "the boundaries' property holding the area codes (see boundaries)",
                                          "fr": "la propriété des limites qui porte les codes des aires (voir boundaries)"},
    ("FetchSettings", "server"): {"en": "the server's https address", "fr": "l'adresse https du serveur"},
    ("Profile", "columns"): {
        "en": "canonical column = the export's column: a name, { column }, { join, sep }, { d, m, y }, { value }, "
              "or a list of these tried in turn",
        "fr": "colonne canonique = colonne de l'export : un nom, { column }, { join, sep }, { d, m, y }, { value }, "
              "ou une liste de ceux-ci essayés dans l'ordre"},
    ("Profile", "codes"): {"en": "canonical column = { the export's answer = the canonical code }",
                           "fr": "colonne canonique = { réponse de l'export = code canonique }"},
    ("Profile", "register_"): {"en": "health-facility registers, written as [card]",
                               "fr": "registres des centres de santé, écrits comme [card]"},
    ("Profile", "merge"): {"en": "how each dataset of survey.toml's [data.merge] is joined",
                           "fr": "comment joindre chaque fichier de [data.merge] de survey.toml"},
    ("FetchSettings", "form"): {"en": "ODK Central: the form's xmlFormId (the Form ID, not its title)",
                                "fr": "ODK Central : le xmlFormId du formulaire (son identifiant, pas son titre)"},
    ("HouseholdsConfig", "file"): {"en": "the log of households visited (CSV or XLSX)",
                                   "fr": "le registre des ménages visités (CSV ou XLSX)"},
    ("FetchSettings", "platform"): {"en": "kobo (KoboToolbox) or odk (ODK Central)", "fr": "kobo (KoboToolbox) ou odk (ODK Central)"},
}

WORDS = {
    "en": {
        "key": "key", "type": "type", "default": "default", "what": "what it is", "required": "required",
        "text": "text", "integer": "integer", "number": "number", "bool": "true/false", "path": "file path",
        "date": "date", "list": "list of {}", "table_of": "table of {} = {}", "one_of": "one of {}", "or": " or ",
        "section": "table, see {}", "sections": "list of tables, see {}", "label": "text, or { fr = \"…\", en = \"…\" }",
        "none": "–", "empty": "empty", "generated": "Generated from `{}` at build time: it lists what the code reads.",
    },
    "fr": {
        "key": "clé", "type": "type", "default": "par défaut", "what": "ce que c'est", "required": "obligatoire",
        "text": "texte", "integer": "entier", "number": "nombre", "bool": "true/false", "path": "chemin de fichier",
        "date": "date", "list": "liste de {}", "table_of": "table de {} = {}", "one_of": "l'un de {}", "or": " ou ",
        "section": "table, voir {}", "sections": "liste de tables, voir {}", "label": "texte, ou { fr = \"…\", en = \"…\" }",
        "none": "–", "empty": "vide", "generated": "Page produite à partir de `{}` à chaque construction du site : "
                                                    "elle liste ce que lit le code.",
    },
}


# comments that speak to the code's reader, not to the file's: the description of EXTRA is shown instead
IGNORE_COMMENT = {("Profile", "register_")}

# --------------------------------------------------------------------------------------------------
# comments and types of pydantic models


@functools.cache
def _module_source(module: str) -> tuple[ast.Module, list[str], dict[int, list[str]]]:
    """A module's AST, its source lines and the comments of each line, read once per build."""
    source = inspect.getsource(sys.modules[module])
    comments: dict[int, list[str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments.setdefault(token.start[0], []).append(token.string.lstrip("#").strip())
    return ast.parse(source), source.splitlines(), comments


def _class_node(cls: type) -> tuple[ast.ClassDef, list[str], dict[int, list[str]]]:
    """The class's AST node, its module's source lines and the comments of each line."""
    tree, lines, comments = _module_source(cls.__module__)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return node, lines, comments
    raise LookupError(f"class {cls.__name__} not found in {cls.__module__}")


@functools.cache
def field_comments(cls: type) -> dict[str, str]:
    """Each field's comment: the ``#`` lines right above it, then any comment on its own lines."""
    node, lines, comments = _class_node(cls)
    found = {}
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        above = []
        row = statement.lineno - 1
        while row >= 1 and lines[row - 1].strip().startswith("#"):
            above.insert(0, lines[row - 1].strip().lstrip("#").strip())
            row -= 1
        inline = [text for r in range(statement.lineno, statement.end_lineno + 1)
                  if not lines[r - 1].strip().startswith("#") for text in comments.get(r, [])]
        text = " ".join(part for part in [*above, *inline] if part)
        if text:
            found[statement.target.id] = text
    return found


def _models():
    from pydantic import BaseModel
    return BaseModel


def _is_model(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, _models())


def _bounds(metadata: list) -> str:
    parts = []
    for item in metadata:
        for name, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if getattr(item, name, None) is not None and type(item).__name__.lower() == name:
                parts.append(f"{sign} {getattr(item, name)}")
        if type(item).__name__ == "MinLen" and item.min_length > 1:
            parts.append(f"≥ {item.min_length} items")
    return f" ({', '.join(parts)})" if parts else ""


def type_text(annotation: object, lang: str, metadata: list | None = None) -> str:
    """A TOML reader's words for a type: text, integer, one of "a", "b", list of text, ..."""
    w = WORDS[lang]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        extra = list(annotation.__metadata__)
        if any(getattr(getattr(item, "func", None), "__name__", "") == "_label" for item in extra):
            return w["label"]
        inner = args[0]
        field_metadata = [m for item in extra for m in getattr(item, "metadata", [item])]
        return type_text(inner, lang, field_metadata)
    suffix = _bounds(metadata or [])
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in args if arg is not type(None)]
        return w["or"].join(dict.fromkeys(type_text(arg, lang) for arg in members)) + suffix
    if origin is typing.Literal:
        return w["one_of"].format(", ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args))
    if origin in (tuple, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return w["list"].format(type_text(args[0], lang)) + suffix
        return "[" + ", ".join(type_text(arg, lang) for arg in args) + "]"
    if origin is dict:
        return w["table_of"].format(type_text(args[0], lang), type_text(args[1], lang))
    if _is_model(annotation):
        return "table"
    simple = {str: "text", int: "integer", float: "number", bool: "bool", Path: "path", datetime.date: "date"}
    if annotation in simple:
        return w[simple[annotation]] + suffix
    return getattr(annotation, "__name__", str(annotation)) + suffix


def _section_models(annotation: object) -> tuple[type | None, bool]:
    """The model a field holds (a table), and whether it is a list of such tables."""
    for arg in (annotation, *typing.get_args(annotation)):
        if _is_model(arg):
            return arg, False
        if typing.get_origin(arg) in (tuple, list) and typing.get_args(arg) and _is_model(typing.get_args(arg)[0]):
            return typing.get_args(arg)[0], True
    return None, False


def _dict_of_models(annotation: object) -> type | None:
    if typing.get_origin(annotation) is dict and _is_model(typing.get_args(annotation)[1]):
        return typing.get_args(annotation)[1]
    return None


def default_text(field, lang: str) -> str:
    from pydantic_core import PydanticUndefined

    w = WORDS[lang]
    if field.is_required():
        return f"**{w['required']}**"
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if value is None or value is PydanticUndefined:
        return w["none"]
    if _is_model(type(value)):
        return w["none"]
    if isinstance(value, (tuple, list)):
        return f"`{_toml(list(value))}`"
    if isinstance(value, dict):
        return f"`{_toml(value)}`" if value else w["empty"]
    return f"`{_toml(value)}`"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, Path)):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    return str(value)


def _cell(text: str) -> str:
    """Markdown already (types, defaults, links): on one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _words(text: str) -> str:
    """Text from the code (a comment, a docstring, a help) for a table cell."""
    return _cell(_md_text(text))


def _md_text(text: str) -> str:
    """Plain text from the code as Markdown: RST ``code`` as `code`; outside code, < > * escaped so that
    `<name>` or "*" is shown as written."""
    parts = text.replace("``", "`").split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")
    return "`".join(parts)


def _summary(cls: type) -> str:
    """A table's docstring, its first sentence without the leading ``[name]:``."""
    text = _docstring(cls)
    if text.startswith("``[") and ": " in text:
        text = text.split(": ", 1)[1]
    import re

    return re.split(r"\.\s+(?=[A-Z])", text)[0].split(" (lqas.")[0].rstrip(".")


def _docstring(cls: type) -> str:
    text = inspect.getdoc(cls) or ""
    base = inspect.getdoc(_models()) or ""
    section_doc = "Base of every configuration model"
    if not text or text == base or text.startswith(section_doc):
        return ""
    return " ".join(text.split())


def describe(cls: type, name: str, lang: str) -> str:
    key = (cls.__name__, name)
    comment = None if key in IGNORE_COMMENT else field_comments(cls).get(name)
    if comment:
        return comment
    return EXTRA.get(key, {}).get(lang, "")


def model_sections(model: type, path: str, lang: str, heading: int = 2, *, skip: set[str] | None = None,
                   array: bool = False) -> list[str]:
    """The Markdown of a model: its own table of keys, then one heading per nested table."""
    w = WORDS[lang]
    skip = skip if skip is not None else INTERNAL.get(model.__name__, set())
    rows, nested = [], []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        key = field.alias or name
        mapped = _dict_of_models(field.annotation)
        inner, many = (None, False) if mapped is not None else _section_models(field.annotation)
        child = f"{path}.{key}" if path else key
        if inner is not None:
            title = f"[[{child}]]" if many else f"[{child}]"
            anchor = _anchor(child)
            kind = w["sections" if many else "section"].format(f"[`{title}`](#{anchor})")
            rows.append((key, kind, default_text(field, lang), describe(model, name, lang) or _summary(inner)))
            nested.append((child, inner, many))
        elif mapped is not None:
            title = f"[{child}.<name>]"
            kind = w["table_of"].format(w["text"], f"[table](#{_anchor(child + '.name')})")
            rows.append((key, kind, default_text(field, lang), describe(model, name, lang)))
            nested.append((child + ".<name>", mapped, False))
        else:
            rows.append((key, type_text(field.annotation, lang, list(field.metadata)), default_text(field, lang),
                         describe(model, name, lang)))
    out = []
    if path:
        title = f"[[{path}]]" if array else f"[{path}]"
        out.append(f"{'#' * heading} `{title}` {{#{_anchor(path.replace('.<name>', '.name'))}}}\n")
        doc = _docstring(model)
        if doc:
            out.append(_md_text(doc) + "\n")
    if rows:
        out.append(f"| {w['key']} | {w['type']} | {w['default']} | {w['what']} |")
        out.append("|---|---|---|---|")
        for key, kind, default, what in rows:
            out.append(f"| `{key}` | {_cell(kind)} | {_cell(default)} | {_words(what)} |")
        out.append("")
    for child, inner, many in nested:
        out += model_sections(inner, child, lang, heading=min(heading + (1 if path else 0), 4), array=many)
    return out


def _anchor(path: str) -> str:
    return "key-" + path.replace(".<name>", ".name").replace(".", "-").replace("_", "-")


def model_keys(model: type, path: str = "", skip: set[str] | None = None) -> list[str]:
    """Every dotted key of a model and of its nested tables (``data.duplicates.keep``)."""
    skip = skip if skip is not None else INTERNAL.get(model.__name__, set())
    keys = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        key = f"{path}.{field.alias or name}" if path else field.alias or name
        keys.append(key)
        mapped = _dict_of_models(field.annotation)
        inner, _ = (None, False) if mapped is not None else _section_models(field.annotation)
        if inner is not None:
            keys += model_keys(inner, key)
        elif mapped is not None:
            keys += model_keys(mapped, key + ".<name>")
    return keys


def _check_extra() -> None:
    """A description for a key that is no longer a field would hide the drift: refuse it."""
    from lqas.config import fetch, profile, project

    for cls_name, name in EXTRA:
        cls = next((getattr(module, cls_name) for module in (project, fetch, profile) if hasattr(module, cls_name)),
                   None)
        if cls is None or name not in cls.model_fields:
            raise ValueError(f"docs/gen_reference.py EXTRA names {cls_name}.{name}, which is not a field any more")


# --------------------------------------------------------------------------------------------------
# pages


def survey_toml_page(lang: str) -> str:
    from lqas.config.project import Project

    _check_extra()
    intro = {
        "en": textwrap.dedent("""\
            # `survey.toml` reference

            {generated} Every key below is checked when the file is read: an unknown key, a misspelt
            one or a value of the wrong type stops `lqas` with one line per problem, naming the file and
            the key (with "did you mean …?"). Paths are relative to the folder of `survey.toml`.

            Only `[data]` (and in it `file`) is required. The tutorials show each table in use:
            [your own Kobo form](../tutorials/kobo-form.md), [rounds](../tutorials/rounds.md),
            [DHIS2](../tutorials/dhis2.md), [fieldwork](../tutorials/fieldwork.md),
            [small areas](../tutorials/small-area.md).

            ## Top level
            """),
        "fr": textwrap.dedent("""\
            # Référence de `survey.toml`

            {generated} Chaque clé ci-dessous est vérifiée à la lecture du fichier : une clé inconnue ou
            mal orthographiée, ou une valeur du mauvais type, arrête `lqas` avec une ligne par problème,
            qui nomme le fichier et la clé (avec « did you mean … ? »). Les chemins sont relatifs au
            dossier de `survey.toml`.

            Seule la table `[data]` (et sa clé `file`) est obligatoire. Les descriptions viennent des
            commentaires du code, en anglais. Les tutoriels montrent chaque table à l'œuvre :
            [votre formulaire Kobo](../tutorials/kobo-form.md), [tours d'enquête](../tutorials/rounds.md),
            [DHIS2](../tutorials/dhis2.md), [terrain](../tutorials/fieldwork.md),
            [petites zones](../tutorials/small-area.md).

            ## Premier niveau
            """),
    }[lang].format(generated=WORDS[lang]["generated"].format("lqas/config/project.py"))
    return intro + "\n" + "\n".join(model_sections(Project, "", lang)) + "\n"


def profile_page(lang: str) -> str:
    from lqas.config.profile import Profile

    _check_extra()
    readme = (REPO / "instruments" / "profiles" / "README.md").read_text(encoding="utf-8")
    readme = _demote(readme.split("\n", 1)[1])  # its own title replaced by the page's
    intro = {
        "en": "# Mapping profile reference\n\n{generated} A profile maps the columns of an export to the "
              "canonical child table; `lqas init` drafts one ([tutorial](../tutorials/kobo-form.md)).\n\n"
              "## Every key\n",
        "fr": "# Référence des profils de correspondance\n\n{generated} Un profil fait correspondre les colonnes "
              "d'un export à la table canonique des enfants ; `lqas init` en rédige un "
              "([tutoriel](../tutorials/kobo-form.md)). Descriptions en anglais, tirées du code.\n\n"
              "## Toutes les clés\n",
    }[lang].format(generated=WORDS[lang]["generated"].format("lqas/config/profile.py"))
    guide = {"en": "## The format, explained (`instruments/profiles/README.md`)\n",
             "fr": "## Le format expliqué (`instruments/profiles/README.md`, en anglais)\n"}[lang]
    return (intro + "\n" + "\n".join(model_sections(Profile, "", lang, heading=3)) + "\n" + guide + "\n"
            + readme + "\n")


def config_files_page(lang: str) -> str:
    from lqas.config.admin import AdminMapping, Thresholds
    from lqas.config.fieldwork import FieldworkChecks

    generated = WORDS[lang]["generated"].format("lqas/config/admin.py, lqas/config/fieldwork.py")
    text = {
        "en": {"title": "# Other configuration files",
               "intro": "{generated} Each file is checked as `survey.toml` is: unknown keys and wrong types are "
                        "errors, one line each. Below each file's keys, the file as shipped, with its comments.",
               "mapping": "## DHIS2 mapping (`[admin] mapping`)", "thresholds":
                   "## Data-quality thresholds (`[admin] thresholds`)", "checks":
                   "## Fieldwork checks (`[quality] checks`)",
               "shipped": "The file shipped with lqas, `{}`:", "example": "The example's mapping, `{}`:",
               "each": "Every check also takes `severity` (`\"alert\"` or `\"warning\"`) and `explain` "
                       "(`{ en = \"…\", fr = \"…\" }`, with `%(name)s` fields)."},
        "fr": {"title": "# Autres fichiers de configuration",
               "intro": "{generated} Chaque fichier est vérifié comme `survey.toml` : clés inconnues et types "
                        "incorrects sont des erreurs, une ligne chacune. Sous les clés de chaque fichier, le fichier "
                        "livré, avec ses commentaires (en anglais).",
               "mapping": "## Correspondance DHIS2 (`[admin] mapping`)", "thresholds":
                   "## Seuils de qualité des données (`[admin] thresholds`)", "checks":
                   "## Contrôles de terrain (`[quality] checks`)",
               "shipped": "Le fichier livré avec lqas, `{}` :", "example": "La correspondance de l'exemple, `{}` :",
               "each": "Chaque contrôle prend aussi `severity` (`\"alert\"` ou `\"warning\"`) et `explain` "
                       "(`{ en = \"…\", fr = \"…\" }`, avec des champs `%(nom)s`)."},
    }[lang]

    def shipped(path: str, key: str = "shipped") -> list[str]:
        content = (REPO / path).read_text(encoding="utf-8").rstrip("\n")
        return [text[key].format(path) + "\n", "```toml\n" + content + "\n```\n"]

    out = [text["title"] + "\n", text["intro"].format(generated=generated) + "\n",
           text["mapping"] + "\n", _words(_docstring(AdminMapping)) + "\n", *_prefixed(AdminMapping, "mapping", lang),
           *shipped("examples/mali_followup/dhis2_mapping.toml", "example"),
           text["thresholds"] + "\n", *_prefixed(Thresholds, "thresholds", lang), *shipped("lqas/data/dq_thresholds.toml"),
           text["checks"] + "\n", text["each"] + "\n", *_prefixed(FieldworkChecks, "checks", lang),
           *shipped("lqas/data/fieldwork_checks.toml")]
    return "\n".join(out) + "\n"


def _prefixed(model: type, prefix: str, lang: str) -> list[str]:
    """A file's keys, headings one level below the page's sections and anchors unique to the file."""
    lines = model_sections(model, "", lang, heading=3)
    return [line.replace("{#key-", "{#" + prefix + "-key-").replace("(#key-", "(#" + prefix + "-key-")
            for line in lines]


def _demote(markdown: str) -> str:
    """Headings one level down (a README's ## becomes ###), outside fenced code."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# the command line


def cli_commands():
    """The command tree of ``lqas``: [(path, command)] in the order ``lqas --help`` lists them.

    Read through the attributes click's commands and typer's own (typer ≥ 0.25 carries its own copy of
    click) share: ``commands``, ``params``, ``opts``, ``param_type_name``, ``is_flag``, ``required``."""
    import typer

    from lqas.cli import app

    root = typer.main.get_command(app)
    found = [((), root)]

    def walk(group, path):
        for name, command in group.commands.items():
            if getattr(command, "hidden", False):
                continue
            found.append(((*path, name), command))
            if hasattr(command, "commands"):
                walk(command, (*path, name))

    walk(root, ())
    return found


def is_group(command) -> bool:
    return hasattr(command, "commands")


def param_type(param) -> str:
    """``integer``, ``float``, ``text``, ``path``, ``boolean`` (click's names) for click's or typer's parameters."""
    kind = getattr(param, "type", None)
    if kind is not None and getattr(kind, "name", None):
        return str(kind.name).lower()
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)] or [annotation]
    names = {int: "integer", float: "float", str: "text", bool: "boolean", Path: "path"}
    return names.get(members[0], getattr(members[0], "__name__", "text"))


def usage(path: tuple[str, ...], command) -> str:
    """``lqas run [OPTIONS] PROJECT``: the command's usage line, the same for every typer version."""
    arguments = [param.name.upper() for param in command.params if param.param_type_name == "argument"]
    return " ".join(["lqas", *path, "[OPTIONS]", *arguments])


def _param_row(param, lang: str) -> str:
    w = WORDS[lang]
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`"
    else:
        name = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    if param.is_flag if hasattr(param, "is_flag") else False:
        kind = {"en": "flag", "fr": "option sans valeur"}[lang]
    else:
        kind = param_type(param)
        kind = {"text": w["text"], "integer": w["integer"], "float": w["number"], "path": w["path"]}.get(kind, kind)
    default = param.default
    if param.required:
        shown = f"**{w['required']}**"
    elif default is None or getattr(param, "is_flag", False) and default is False or callable(default):
        shown = w["none"]
    else:
        shown = f"`{default}`"
    help_text = (getattr(param, "help", None) or "").replace("\\[", "[")  # rich markup's escape
    return f"| {name} | {kind} | {shown} | {_words(help_text)} |"


def cli_page(lang: str) -> str:
    w = WORDS[lang]
    head = {
        "en": "# Command line reference\n\n{generated} `lqas --help` and `lqas COMMAND --help` print the same.\n\n"
              "Exit codes: `0` done; `1` some outputs of a run could not be written (the others were, and the "
              "manifest says which failed); `2` bad input or settings (one line per problem, no traceback); "
              "`3` `lqas quality --strict` raised a flag. `--debug`, anywhere on the line, shows the traceback "
              "instead of the one-line error.\n",
        "fr": "# Référence de la ligne de commande\n\n{generated} `lqas --help` et `lqas COMMANDE --help` "
              "affichent la même chose (en anglais).\n\n"
              "Codes de sortie : `0` terminé ; `1` certaines sorties d'un calcul n'ont pas pu être écrites (les "
              "autres l'ont été, le manifeste dit lesquelles ont échoué) ; `2` entrée ou réglage incorrect (une "
              "ligne par problème, sans trace) ; `3` `lqas quality --strict` a levé un signalement. `--debug`, "
              "n'importe où sur la ligne, montre la trace Python au lieu du message d'une ligne.\n",
    }[lang].format(generated=w["generated"].format("lqas/cli.py"))
    header = {"en": "| argument or option | type | default | what it does |",
              "fr": "| argument ou option | type | par défaut | effet |"}[lang]
    out = [head]
    for path, command in cli_commands():
        title = "lqas " + " ".join(path) if path else {"en": "Global options", "fr": "Options globales"}[lang]
        out.append(f"## `{title}`\n" if path else f"## {title}\n")
        if is_group(command) and path:
            out.append((command.help or "").strip() + "\n")
            continue
        if path:
            out.append(_words(command.help or "") + "\n")
            out.append("```text\n" + usage(path, command) + "\n```\n")
        params = [p for p in command.params if p.name != "help"]
        if not path:
            out.append("```text\nlqas [OPTIONS] COMMAND [ARGS]...\n```\n")
        if params:
            out.append(header)
            out.append("|---|---|---|---|")
            out += [_param_row(param, lang) for param in params]
            out.append("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# the run folder

# what each column of the common measures means
GLOSSARY = {
    "n": {"en": "children in the denominator (unweighted)", "fr": "enfants au dénominateur (non pondéré)"},
    "n_weighted": {"en": "the sum of their weights", "fr": "la somme de leurs poids"},
    "estimate": {"en": "the weighted proportion (a fraction, 0–1)", "fr": "la proportion pondérée (fraction, 0–1)"},
    "se": {"en": "its standard error (Taylor linearization)", "fr": "son erreur type (linéarisation de Taylor)"},
    "ci_low": {"en": "lower bound of the two-sided interval (`ci_method`, `level`)",
               "fr": "borne inférieure de l'intervalle bilatéral (`ci_method`, `level`)"},
    "ci_high": {"en": "upper bound of that interval", "fr": "borne supérieure de cet intervalle"},
    "lcb": {"en": "one-sided lower confidence bound (VCQI LCB)", "fr": "borne inférieure unilatérale (LCB de VCQI)"},
    "ucb": {"en": "one-sided upper confidence bound (VCQI UCB)", "fr": "borne supérieure unilatérale (UCB de VCQI)"},
    "deff": {"en": "design effect", "fr": "effet de plan"},
    "neff": {"en": "effective sample size (VCQI NEFF)", "fr": "taille d'échantillon effective (NEFF de VCQI)"},
    "icc": {"en": "intra-cluster correlation (one-way ANOVA, as VCQI)",
            "fr": "corrélation intra-grappe (ANOVA à un facteur, comme VCQI)"},
    "df": {"en": "degrees of freedom of the t quantile", "fr": "degrés de liberté du quantile de Student"},
    "ci_method": {"en": "the interval's method (`[design] ci`)", "fr": "la méthode de l'intervalle (`[design] ci`)"},
    "level": {"en": "the confidence level", "fr": "le niveau de confiance"},
}


# the column lists the code defines, and the module of each
COLUMN_LISTS = {
    "ESTIMATE_COLUMNS": "lqas.design", "COMPARE_COLUMNS": "lqas.design", "DID_COLUMNS": "lqas.design",
    "CHANGE_COLUMNS": "lqas.rounds", "LEVEL_COLUMNS": "lqas.classify", "CLASSIFY_COLUMNS": "lqas.rules.lots",
    "SCORECARD_COLUMNS": "lqas.scorecard", "NUMBER_COLUMNS": "lqas.priorities", "COMPARISON_COLUMNS": "lqas.admin",
    "FLAG_COLUMNS": "lqas.admin", "QUALITY_COLUMNS": "lqas.fieldwork", "SMALL_AREA_COLUMNS": "lqas.hotspots",
    "EXCLUSION_COLUMNS": "lqas.ingest", "REPAIR_COLUMNS": "lqas.ingest",
}


def _columns() -> dict[str, list[str]]:
    """The column lists the code defines, by name."""
    import importlib

    return {name: list(getattr(importlib.import_module(module), name)) for name, module in COLUMN_LISTS.items()}


# every table of lqas.outputs.TABLES: (when it is written, what a row is, its columns). Columns: a
# name from _columns() (the code's own list, with its module), DOMAIN (the domain columns of the
# project: cohort, the [levels] columns, the [stratifiers] columns, sex, ...), or a literal column.
TABLE_DOCS: dict[str, dict] = {
    "derived.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "one child: the canonical columns, `cohort`, `age_days`, `weight`, each dose's "
                      "`<dose>_crude`/`_valid`/`_source`, `zero_dose`, `ui_dtp1_not_dtp3`, `vaccination_status`, "
                      "`besd_<item>`, the gender indicators (0/1, empty = not in the denominator); no personal "
                      "or free-text column",
                "fr": "un enfant : les colonnes canoniques, `cohort`, `age_days`, `weight`, pour chaque dose "
                      "`<dose>_crude`/`_valid`/`_source`, `zero_dose`, `ui_dtp1_not_dtp3`, `vaccination_status`, "
                      "`besd_<item>`, les indicateurs de genre (0/1, vide = hors du dénominateur) ; aucune colonne "
                      "personnelle ni texte libre"},
        "columns": None},
    "exclusions.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "one record left out, with its reason code", "fr": "une fiche écartée, avec le code du motif"},
        "columns": ["EXCLUSION_COLUMNS"]},
    "repairs.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "one field corrected, with the rule", "fr": "un champ corrigé, avec la règle"},
        "columns": ["REPAIR_COLUMNS"]},
    "estimates.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "one indicator in one domain (`all` marks a margin)",
                "fr": "un indicateur dans un domaine (`all` marque une marge)"},
        "columns": ["indicator", "DOMAIN", "ESTIMATE_COLUMNS"]},
    "classification.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "one lot against one LQAS target: pass iff `x` ≥ `d`",
                "fr": "un lot face à une cible LQAS : satisfaisant ssi `x` ≥ `d`"},
        "columns": ["CLASSIFY_COLUMNS"],
        "note": {"en": "the lot columns (`[lqas] lot`) come after `indicator`",
                 "fr": "les colonnes du lot (`[lqas] lot`) suivent `indicator`"}},
    "lqas_by_level.csv": {
        "when": {"en": "always", "fr": "toujours"},
        "row": {"en": "the lots put together for one unit of a level above them, or the survey, weighted by "
                      "population",
                "fr": "les lots regroupés pour une unité d'un niveau supérieur, ou l'enquête, pondérés par la "
                      "population"},
        "columns": ["LEVEL_COLUMNS"]},
    "comparisons.csv": {
        "when": {"en": "always (empty without girls and boys)", "fr": "toujours (vide sans filles ni garçons)"},
        "row": {"en": "girls (group a) − boys (group b) for one indicator, by cohort × catchment area, with the "
                      "Rao–Scott test",
                "fr": "filles (groupe a) − garçons (groupe b) pour un indicateur, par cohorte × aire, avec le "
                      "test de Rao–Scott"},
        "columns": ["indicator", "DOMAIN", "COMPARE_COLUMNS"]},
    "scorecard.csv": {
        "when": {"en": "with zero-dose data and girls and boys", "fr": "avec des données zéro dose, filles et garçons"},
        "row": {"en": "one row of the gender & equity scorecard, for one catchment area (and the survey)",
                "fr": "une ligne du tableau de bord genre et équité, pour une aire (et l'enquête)"},
        "columns": ["catchment", "SCORECARD_COLUMNS"]},
    "children_numbers.csv": {
        "when": {"en": "with populations ([design] weights = \"population\")",
                 "fr": "avec des populations ([design] weights = \"population\")"},
        "row": {"en": "estimated number of zero-dose or under-immunized children in one unit and cohort",
                "fr": "nombre estimé d'enfants zéro dose ou sous-vaccinés dans une unité et une cohorte"},
        "columns": ["NUMBER_COLUMNS"],
        "note": {"en": "the `[levels]` columns come after `cohort`",
                 "fr": "les colonnes de `[levels]` suivent `cohort`"}},
    "priorities.csv": {
        "when": {"en": "with zero-dose data", "fr": "avec des données zéro dose"},
        "row": {"en": "one catchment area, ranked by its zero-dose children (`rank`) and prevalence "
                      "(`rank_prevalence`): numbers and estimates of zero-dose (`zd_*`), under-immunized (`ui_*`), "
                      "access and dropout, the WHO RED `category`, and one column per condition of the draft "
                      "recommendations (`lqas/data/priorities.toml`)",
                "fr": "une aire de santé, classée par son nombre d'enfants zéro dose (`rank`) et sa prévalence "
                      "(`rank_prevalence`) : nombres et estimations zéro dose (`zd_*`), sous-vaccinés (`ui_*`), "
                      "accès et abandon, la `category` RED de l'OMS, et une colonne par condition des "
                      "recommandations provisoires (`lqas/data/priorities.toml`)"},
        "columns": None},
    "changes.csv": {
        "when": {"en": "with [rounds]", "fr": "avec [rounds]"},
        "row": {"en": "one indicator's change between two rounds in one domain, each round's own interval "
                      "(`ci_low_a` … `ci_high_b`) beside it",
                "fr": "l'évolution d'un indicateur entre deux tours dans un domaine, avec l'intervalle propre "
                      "à chaque tour (`ci_low_a` … `ci_high_b`)"},
        "columns": ["indicator", "DOMAIN", "CHANGE_COLUMNS"]},
    "gap_changes.csv": {
        "when": {"en": "with [rounds]", "fr": "avec [rounds]"},
        "row": {"en": "the change of the girls − boys gap (a difference in differences: girls are a, boys b)",
                "fr": "l'évolution de l'écart filles − garçons (différence de différences : filles a, garçons b)"},
        "columns": ["indicator", "DOMAIN", "n", "DID_COLUMNS", "round_a", "round_b"]},
    "arm_changes.csv": {
        "when": {"en": "with [rounds] and [arms]", "fr": "avec [rounds] et [arms]"},
        "row": {"en": "the difference in differences of the intervention arm (a) against the others (b)",
                "fr": "la différence de différences du bras d'intervention (a) face aux autres (b)"},
        "columns": ["indicator", "cohort", "sex", "n", "DID_COLUMNS", "round_a", "round_b", "arm_a", "arm_b",
                    "exposure", "not_exposed"]},
    "lqas_transitions.csv": {
        "when": {"en": "with [rounds]", "fr": "avec [rounds]"},
        "row": {"en": "one lot's LQAS class in both rounds, both judged by this round's target (`class_own_a`: "
                      "the earlier round's class by its own target)",
                "fr": "la classe LQAS d'un lot aux deux tours, jugés tous deux sur la cible de ce tour "
                      "(`class_own_a` : la classe du tour précédent selon sa propre cible)"},
        "columns": None},
    "admin.csv": {
        "when": {"en": "with [admin]", "fr": "avec [admin]"},
        "row": {"en": "one unit and dose: the doses given while the cohort was due them (`window_start`, "
                      "`window_end`, `days_covered`), the target and its source, admin against survey coverage",
                "fr": "une unité et une dose : les doses données pendant que la cohorte y était éligible "
                      "(`window_start`, `window_end`, `days_covered`), la cible et sa source, couverture "
                      "administrative contre couverture de l'enquête"},
        "columns": ["COMPARISON_COLUMNS"],
        "note": {"en": "after the unit column (`[admin] column`), `dose`, `window_start`, `window_end`, "
                       "`days_covered`, `n`, `doses`, `target` and `target_source`",
                 "fr": "après la colonne des unités (`[admin] column`), `dose`, `window_start`, `window_end`, "
                       "`days_covered`, `n`, `doses`, `target` et `target_source`"}},
    "dq_flags.csv": {
        "when": {"en": "with [admin]", "fr": "avec [admin]"},
        "row": {"en": "one WHO data-quality check of the extracts for one org unit, data element and period",
                "fr": "un contrôle de qualité des données de l'OMS pour une unité d'organisation, un élément "
                      "de données et une période"},
        "columns": ["FLAG_COLUMNS"]},
    "admin_unused.csv": {
        "when": {"en": "with [admin]", "fr": "avec [admin]"},
        "row": {"en": "rows of the extracts not used, counted by file and reason",
                "fr": "lignes des extraits non utilisées, comptées par fichier et motif"},
        "columns": ["file", "reason", "rows"]},
    "quality.csv": {
        "when": {"en": "always (and from `lqas quality`)", "fr": "toujours (et par `lqas quality`)"},
        "row": {"en": "one fieldwork check for one interviewer, team, cluster, day or lot",
                "fr": "un contrôle de terrain pour un enquêteur, une équipe, une grappe, un jour ou un lot"},
        "columns": ["QUALITY_COLUMNS"]},
    "small_area.csv": {
        "when": {"en": "with [small_area]", "fr": "avec [small_area]"},
        "row": {"en": "one area of the areas file, sampled or not (`method`: eblup, synthetic, direct or none)",
                "fr": "une aire du fichier des aires, échantillonnée ou non (`method` : eblup, synthetic, "
                      "direct ou none)"},
        "columns": ["SMALL_AREA_COLUMNS"]},
}

OTHER_OUTPUTS = {
    "en": [("report.html, report.pdf", "the report (format html, pdf)"),
           ("results.xlsx", ("the results as formatted sheets in the report's language, with a \"Read me\" sheet "
                            "(format xlsx)")),
           ("report_context.json", "the data the report is composed from ([report context](report-context.md))"),
           ("charts/", "every chart as SVG and PNG; `small_area_map.html` with [small_area] boundaries"),
           ("manifest.json", ("inputs with SHA-256 checksums, versions, settings, the outputs written and those "
                             "that failed")),
           ("*.parquet", "the tables as Parquet (format parquet, not written unless asked)")],
    "fr": [("report.html, report.pdf", "le rapport (formats html, pdf)"),
           ("results.xlsx", ("les résultats en feuilles mises en forme, dans la langue du rapport, avec une "
                            "feuille « Lisez-moi » (format xlsx)")),
           ("report_context.json", ("les données dont le rapport est composé ([contexte du rapport]"
                                   "(report-context.md))")),
           ("charts/", "chaque graphique en SVG et PNG ; `small_area_map.html` avec les limites de [small_area]"),
           ("manifest.json", ("les entrées avec leur empreinte SHA-256, les versions, les réglages, les sorties "
                             "écrites et celles qui ont échoué")),
           ("*.parquet", "les tables en Parquet (format parquet, écrit seulement sur demande)")],
}


def table_columns(name: str) -> list[str]:
    """The documented columns of a table of the run folder (DOMAIN and the code's lists expanded)."""
    lists = _columns()
    out = []
    for key in TABLE_DOCS[name]["columns"] or []:
        out += list(lists[key]) if key in lists else [key]
    return out


def outputs_page(lang: str) -> str:
    from lqas.outputs import FORMATS, TABLES

    missing = [name for name in TABLES if name not in TABLE_DOCS]
    gone = [name for name in TABLE_DOCS if name not in TABLES]
    if missing or gone:
        raise ValueError(f"docs/gen_reference.py TABLE_DOCS is out of step with lqas.outputs.TABLES: "
                         f"undocumented {missing}, no longer written {gone}")
    lists = _columns()
    text = {
        "en": {"title": "# Output files reference",
               "intro": "{generated} A run folder (`lqas run`, `lqas demo`) holds the files below; "
                        "`--formats` chooses among {formats}. Every table is also `Results.tables()[name]` in "
                        "Python. Proportions are fractions (0–1); `all` in a domain column marks a margin; an "
                        "empty cell is a missing value.",
               "domain": "DOMAIN: the domain columns of the project: `cohort`, the `[levels]` columns "
                         "(e.g. `district`, `catchment`), the `[stratifiers]` columns, `sex` and, in "
                         "estimates.csv, `vaccination_status`.",
               "tables": "## Tables", "other": "## Other files", "when": "Written", "row": "One row",
               "columns": "Columns", "from": "from `{}`", "glossary": "## Common columns",
               "file": "file", "what": "what it is"},
        "fr": {"title": "# Référence des fichiers de sortie",
               "intro": "{generated} Un dossier de calcul (`lqas run`, `lqas demo`) contient les fichiers "
                        "ci-dessous ; `--formats` choisit parmi {formats}. Chaque table est aussi "
                        "`Results.tables()[nom]` en Python. Les proportions sont des fractions (0–1) ; `all` "
                        "dans une colonne de domaine marque une marge ; une cellule vide est une valeur manquante.",
               "domain": "DOMAIN : les colonnes de domaine du projet : `cohort`, les colonnes de `[levels]` "
                         "(p. ex. `district`, `catchment`), celles de `[stratifiers]`, `sex` et, dans "
                         "estimates.csv, `vaccination_status`.",
               "tables": "## Tables", "other": "## Autres fichiers", "when": "Écrit", "row": "Une ligne",
               "columns": "Colonnes", "from": "d'après `{}`", "glossary": "## Colonnes communes",
               "file": "fichier", "what": "ce que c'est"},
    }[lang]
    generated = WORDS[lang]["generated"].format("lqas/outputs.py")
    out = [text["title"] + "\n", text["intro"].format(generated=generated, formats=", ".join(
        f"`{f}`" for f in FORMATS)) + "\n", text["other"] + "\n", f"| {text['file']} | {text['what']} |",
        "|---|---|"]
    out += [f"| `{name}` | {what} |" for name, what in OTHER_OUTPUTS[lang]]
    out += ["", text["tables"] + "\n", text["domain"] + "\n"]
    for name in TABLES:
        doc = TABLE_DOCS[name]
        out.append(f"### `{name}`\n")
        colon = "\u00a0:" if lang == "fr" else ":"
        out.append(f"**{text['when']}**{colon} {doc['when'][lang]}. **{text['row']}**{colon} {doc['row'][lang]}.\n")
        if doc["columns"]:
            shown = []
            for key in doc["columns"]:
                if key in lists:
                    cols = ", ".join(f"`{c}`" for c in lists[key])
                    shown.append(f"{cols} ({text['from'].format(COLUMN_LISTS[key] + '.' + key)})")
                else:
                    shown.append("DOMAIN" if key == "DOMAIN" else f"`{key}`")
            note = f" ({doc['note'][lang]})" if "note" in doc else ""
            out.append(f"{text['columns']}{colon} " + ", ".join(shown) + note + ".\n")
    out += [text["glossary"] + "\n", f"| {WORDS[lang]['key']} | {text['what']} |", "|---|---|"]
    out += [f"| `{name}` | {meaning[lang]} |" for name, meaning in GLOSSARY.items()]
    return "\n".join(out) + "\n"


def report_context_page(lang: str) -> str:
    text = (REPO / "reports" / "templates" / "CONTEXT.md").read_text(encoding="utf-8")
    # GitHub needs `a \| b` for a pipe in a table's code span; Python-Markdown shows the backslash
    body = re.sub(r"`[^`\n]*`", lambda span: span.group(0).replace("\\|", "|"), text.split("\n", 1)[1])
    title = {"en": "# Report context reference\n\n{} The [custom templates tutorial](../tutorials/templates.md) "
                   "puts it to use.\n",
             "fr": "# Référence du contexte du rapport\n\n{} Le texte est celui de `reports/templates/CONTEXT.md`, "
                   "en anglais ; le [tutoriel des modèles](../tutorials/templates.md) le met en pratique.\n"}[lang]
    return title.format(WORDS[lang]["generated"].format("reports/templates/CONTEXT.md")) + body


PAGES = {
    "survey-toml.md": survey_toml_page,
    "profile.md": profile_page,
    "config-files.md": config_files_page,
    "cli.md": cli_page,
    "outputs.md": outputs_page,
    "report-context.md": report_context_page,
}


# French typography in the built pages: the sources keep plain spaces, easy to type and to diff; the
# reader gets no line break before : ; ? ! %, inside « », or inside a number's thousands
_TAG = re.compile(r"(<[^>]+>)")
_FRENCH = [(re.compile(r" ([;?!])"), "\u202f\\1"), (re.compile(r" ([:»])"), "\u00a0\\1"),
           (re.compile(r"« "), "«\u00a0"), (re.compile(r"(\d) %"), "\\1\u00a0%"),
           (re.compile(r"(\d) (\d{3})(?!\d)"), "\\1\u202f\\2")]
_VERBATIM = ("code", "pre", "script", "style", "kbd")


def french_typography(html: str) -> str:
    """Non-breaking spaces where French typography wants them, in the text of ``html`` outside code."""
    out, verbatim = [], 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in _VERBATIM and not part.endswith("/>"):
                verbatim += -1 if part.startswith("</") else 1
            out.append(part)
        elif verbatim > 0:
            out.append(part)
        else:
            for pattern, replacement in _FRENCH:
                part = pattern.sub(replacement, part)
            out.append(part)
    return "".join(out)


def on_page_content(html, page, config, files):
    """MkDocs hook: French typography on the French pages."""
    if page.file.src_uri.startswith("fr/"):
        return french_typography(html)
    return html


def on_files(files, config):
    """MkDocs hook: add every reference page, in each language, to the build."""
    from mkdocs.structure.files import File

    for lang in LANGS:
        for name, page in PAGES.items():
            files.append(File.generated(config, f"{lang}/reference/{name}", content=page(lang)))
    return files


def on_page_context(context, page, config, nav):
    """MkDocs hook: the theme's own words (search, table of contents, previous and next, the page's
    ``lang``) in the page's language; the theme reads its language as each page is rendered."""
    config.theme["language"] = "fr" if page.file.src_uri.startswith("fr/") else "en"
    return context

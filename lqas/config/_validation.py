"""Shared machinery of the typed configuration models: the base class, TOML reading and the one
formatter that turns a pydantic ``ValidationError`` into a ``ConfigError`` listing every problem.

Each problem becomes one line ``<file>: key '<dotted.key>': <reason>``. Items of an array of tables
are numbered from 1, as a reader counts them: ``rename[2].pattern`` is the second ``[[rename]]``.
"""

from __future__ import annotations

import collections.abc
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError
from pydantic_core import PydanticCustomError

from lqas.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)

# pydantic's own markers in an error location: the key (not the value) of a dict was invalid
_KEY_MARKER = "[key]"
_PROBLEMS = "config_problems"
_MISSING = "required key missing"


class Section(BaseModel):
    """Base of every configuration model: unknown keys are errors and a loaded file cannot change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """Parse a TOML file, turning a missing file or a syntax/encoding error into a one-line ``ConfigError``."""
    if not Path(path).is_file():
        raise ConfigError(f"{shown_path(path)}: {what} not found")
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown_path(path)}: not a valid TOML {what} ({exc})") from None


def shown_path(path: str | Path) -> str:
    """The path as a reader finds it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def validate_file(model: type[Model], raw: Any, path: str | Path) -> Model:
    """Validate a parsed file against its model.

    Parameters
    ----------
    model : type of BaseModel
        The model of the whole file.
    raw : dict
        The parsed TOML.
    path : str or Path
        The file, named in every problem line.

    Returns
    -------
    BaseModel
        The validated, frozen model.

    Raises
    ------
    ConfigError
        One line per problem: ``<file>: key '<dotted.key>': <reason>``.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, model, path)) from None


def cross_field_problems(problems: Iterable[tuple[str, str]]) -> PydanticCustomError:
    """The error a model validator raises to report several ``(key, reason)`` problems at once.

    ``key`` is dotted and relative to the model that raises (``""`` for the model itself); the
    formatter writes one line per problem.
    """
    problems = tuple(problems)
    summary = "; ".join(f"{key}: {reason}" if key else reason for key, reason in problems)
    return PydanticCustomError(_PROBLEMS, "{summary}", {"summary": summary, "problems": problems})


def tagged(discriminator: typing.Callable[[Any], str | None], message: str, **members: Any) -> Any:
    """A union whose member is chosen by ``discriminator`` (tag -> type), failing with ``message``.

    Unlike a plain union, a value that fits no member gives one problem, not one per member.
    """
    choices = tuple(Annotated[annotation, Tag(tag)] for tag, annotation in members.items())
    return Annotated[Union[choices], Discriminator(discriminator, custom_error_type="config_choice",  # noqa: UP007
                                                   custom_error_message=message)]


def non_empty(value: Any) -> Any:
    """AfterValidator: a list or table that must hold at least one entry."""
    if not value:
        raise ValueError("must not be empty")
    return value


# a list or table that must hold at least one entry; a string that must not be empty
NonEmpty = AfterValidator(non_empty)
NonEmptyText = Annotated[str, Field(min_length=1)]


def _compiles(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc})") from None
    return value


Regex = Annotated[str, AfterValidator(_compiles)]


def suggestion(word: str, allowed: Iterable[str]) -> str | None:
    """The allowed word closest to a misspelt one, if any is close enough."""
    close = difflib.get_close_matches(str(word), sorted(set(allowed)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, allowed: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the allowed word closest to ``word``, or nothing."""
    close = suggestion(word, [str(a) for a in allowed])
    return f"; did you mean '{close}'?" if close else ""


# --------------------------------------------------------------------------- error formatting


def describe_errors(exc: ValidationError, model: type[BaseModel], path: str | Path) -> str:
    """One line per problem of ``exc``, each naming the file, the dotted key and the reason."""
    where = shown_path(path)
    lines: list[str] = []
    for key, reason in _problems(exc, model):
        line = f"{where}: key '{key}': {reason}" if key else f"{where}: {reason}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _problems(exc: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # a value that fits no member of a plain union (str | int) fails once per member: one problem
    grouped: dict[str, list[dict]] = {}
    # a misspelt required key is one mistake: "did you mean 'x'?" says what "'x' missing" would
    suggested: set[str] = set()
    for error in exc.errors(include_url=False):
        walk = _walk(model, error["loc"])
        if walk.union_branch:
            grouped.setdefault(walk.key, []).append(error)
        elif error["type"] == _PROBLEMS:
            problems += [(".".join(part for part in (walk.key, sub_key) if part), reason)
                         for sub_key, reason in error["ctx"]["problems"]]
        elif error["type"] == "extra_forbidden":
            parent = _walk(model, error["loc"][:-1])
            reason, close = _unknown_key(error["loc"][-1], error["input"], parent.annotation, is_top=not parent.key)
            problems.append((walk.key, reason))
            if close:
                suggested.add(f"{parent.key}.{close}" if parent.key else close)
        else:
            problems.append((walk.key, _reason(error)))
    for key, errors in grouped.items():
        expected = list(dict.fromkeys(_expectation(error) for error in errors))
        problems.append((key, f"expected {' or '.join(expected)}; got {_shown_value(errors[0]['input'])}"))
    return [(key, reason) for key, reason in problems if not (reason == _MISSING and key in suggested)]


class _Walk(typing.NamedTuple):
    key: str
    annotation: Any
    union_branch: bool


def _walk(model: type[BaseModel], loc: tuple) -> _Walk:
    """Follow an error location through the model's types.

    Returns the dotted key a reader sees (pydantic's union tags and markers removed, list items
    numbered from 1), the type reached (to list the keys allowed there) and whether the location
    passed through a member of a plain union.
    """
    annotation: Any = model
    shown: list[str] = []
    union_branch = False
    parts = list(loc)
    index = 0
    while index < len(parts):
        part = parts[index]
        index += 1
        annotation, discriminated, plain_union = _unwrap(annotation)
        if part == _KEY_MARKER:
            continue
        if discriminated is not None:
            # the part is the tag of the member pydantic chose (after the union's name, inside another union)
            if isinstance(part, str) and part.startswith("tagged-union[") and index < len(parts):
                part = parts[index]
                index += 1
            annotation = discriminated.get(part)
            continue
        if plain_union is not None:
            union_branch = True
            annotation = next((member for member in plain_union if getattr(member, "__name__", None) == part), None)
            continue
        if isinstance(part, int):
            shown.append(f"[{part + 1}]")
        else:
            shown.append(f".{part}" if shown else str(part))
        annotation = _child(annotation, part)
    return _Walk("".join(shown), annotation, union_branch)


def _unwrap(annotation: Any) -> tuple[Any, dict | None, tuple | None]:
    """(type without Annotated/Optional, {tag: member} of a discriminated union, members of a plain union)."""
    discriminator = None
    while typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        discriminator = next((m for m in metadata if isinstance(m, Discriminator)), discriminator)
        annotation = base
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        if discriminator is not None:
            tags = {}
            for member in members:
                base, *metadata = typing.get_args(member)
                tags.update({m.tag: base for m in metadata if isinstance(m, Tag)})
            return annotation, tags, None
        if len(members) == 1:
            return _unwrap(members[0])
        return annotation, None, tuple(members)
    return annotation, None, None


def _child(annotation: Any, part: Any) -> Any:
    """The type one step further along a location (a model field, a dict value, a list item)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = next((f for name, f in annotation.model_fields.items() if (f.alias or name) == part), None)
        if field is None:
            return None
        # pydantic keeps a field's own Annotated metadata (e.g. a discriminator) apart from its type
        return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (dict, collections.abc.Mapping):
        return args[1] if len(args) == 2 else None
    if origin in (list, set, frozenset) and args:
        return args[0]
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if isinstance(part, int) and part < len(args) else None
    return None


def _allowed_keys(annotation: Any) -> list[str]:
    annotation = _unwrap(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []


def _unknown_key(key: Any, value: Any, parent: Any, *, is_top: bool) -> tuple[str, str | None]:
    """The reason for an unknown key, and the allowed key it is probably a misspelling of."""
    what = "unknown section" if isinstance(value, dict) or (is_top and isinstance(value, list)) else "unknown key"
    allowed = _allowed_keys(parent)
    close = suggestion(key, allowed)
    if close:
        return f"{what}; did you mean '{close}'?", close
    return (f"{what}; expected one of: {', '.join(allowed)}" if allowed else what), None


def _reason(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return _MISSING
    if kind in ("value_error", "assertion_error"):
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        close = suggestion(error["input"], options) if isinstance(error["input"], str) else None
        hint = f"; did you mean '{close}'?" if close else ""
        return f"expected {error['ctx']['expected']}; got {_shown_value(error['input'])}{hint}"
    if kind == "config_choice":
        return f"{error['msg']}; got {_shown_value(error['input'])}"
    message = error["msg"]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"must be {message.removeprefix('Input should be ')}; got {_shown_value(error['input'])}"
    if message.startswith("Input should be "):
        return f"expected {message.removeprefix('Input should be ')}; got {_shown_value(error['input'])}"
    return f"{message}; got {_shown_value(error['input'])}"


def _expectation(error: dict) -> str:
    message = error["msg"]
    if error["type"] == "literal_error":
        return error["ctx"]["expected"]
    return message.removeprefix("Input should be ").split(",")[0]


def _shown_value(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

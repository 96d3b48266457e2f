"""The questionnaire (XLSForm) behind an export: every question's name, type, group path and choices
with their labels in each language of the form.

Read through pyxform, the library that turns XLSForms into the XForms KoboToolbox and ODK Central
serve, so the form is understood as the servers understand it. Ingest uses it to read an export in
any shape the servers write (headers as names or labels, any group separator, values as names or
labels); ``lqas init`` uses it to draft a profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lqas.errors import InputError

# pyxform writes these types with spaces; the XLSForm spec's own names are used here
_TYPES = {"select one": "select_one", "select all that apply": "select_multiple",
          "select one external": "select_one_external"}
_STRUCTURE = {"group", "repeat"}


@dataclass(frozen=True)
class Choice:
    """One answer of a choice list: the value an export writes (``name``) and its labels by language."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """One question (or metadata field such as ``start`` or ``today``) of the form."""

    name: str
    type: str
    path: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    repeat: str | None = None  # the innermost repeat group holding the question, if any

    def column(self, separator: str = "/") -> str:
        """The export column of the question: its group path and name joined by ``separator``."""
        return separator.join((*self.path, self.name))


@dataclass(frozen=True)
class Form:
    """A whole form: its id, title, languages and questions in form order."""

    id: str
    title: str
    languages: tuple[str, ...]
    questions: tuple[Question, ...]

    def __getitem__(self, name: str) -> Question:
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)


def read_form(path: str | Path) -> Form:
    """Read an XLSForm (``.xlsx``, ``.xls``, ``.csv``) into a :class:`Form`.

    Raises
    ------
    InputError
        One line naming the file: missing, or not a form pyxform can read (with pyxform's reason).
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import parse_file_to_json

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: form not found")
    try:
        raw = parse_file_to_json(str(path))
    except (PyXFormError, ValueError, KeyError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{path}: not an XLSForm pyxform can read ({reason[:300]})") from None
    except Exception as exc:  # noqa: BLE001 (a corrupt workbook fails inside openpyxl/xlrd with their own types)
        raise InputError(f"{path}: not an XLSForm: a form has a 'survey' sheet with type, name and label columns "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    questions = tuple(_questions(raw))
    languages = sorted({language for q in questions for language in (*q.labels, *(l for c in q.choices
                                                                                  for l in c.labels))})
    return Form(id=str(raw.get("id_string") or raw.get("name") or path.stem), title=str(raw.get("title") or ""),
                languages=tuple(languages), questions=questions)


def _questions(node: dict, path: tuple[str, ...] = (), repeat: str | None = None):
    for child in node.get("children", []):
        kind = child.get("type", "")
        if kind in _STRUCTURE:
            inner = (*path, child["name"])
            yield from _questions(child, inner, child["name"] if kind == "repeat" else repeat)
            continue
        choices = tuple(Choice(name=str(choice["name"]), labels=_labels(choice.get("label")))
                        for choice in child.get("choices") or ())
        yield Question(name=child["name"], type=_TYPES.get(kind, kind.replace(" ", "_")), path=path,
                       labels=_labels(child.get("label")), choices=choices, repeat=repeat)


def _labels(label: object) -> dict[str, str]:
    """Labels by language code: ``{"Français (fr)": ...}`` -> ``{"fr": ...}``; a form without
    languages gives ``{"default": ...}``."""
    if label is None:
        return {}
    if isinstance(label, str):
        return {"default": label}
    return {_language(name): str(text) for name, text in dict(label).items()}


def _language(name: str) -> str:
    code = re.search(r"\(([A-Za-z-]+)\)\s*$", name)
    return code.group(1).lower() if code else name.strip().lower()

"""The questionnaire (XLSForm) behind an export: every question's name, type, group path and choices
with their labels in each language of the form.

Read through pyxform, the library that turns XLSForms into the XForms KoboToolbox and ODK Central
serve, so the form is understood as the servers understand it. Ingest uses it to read an export in
any shape the servers write (headers as names or labels, any group separator, values as names or
labels); ``lqas init`` uses it to draft a profile.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from lqas.errors import InputError
from lqas.readers import text_as_objects

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
    # the labels of the groups in ``path``, by language (Kobo can write them into label headers)
    path_labels: tuple[dict[str, str], ...] = ()
    list_name: str | None = None  # the choice list of a select question

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
    with path.open("rb") as handle:
        zipped = handle.read(4) == b"PK\x03\x04"
    if zipped and path.suffix.lower() == ".xls":
        # KoboToolbox serves the XLSForm of a form at <asset>.xls in the XLSX format; pyxform goes by the name
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory(prefix="lqas-form-") as folder:
            copy = Path(folder) / f"{path.stem}.xlsx"
            shutil.copyfile(path, copy)
            form = read_form(copy)
        return form
    if path.suffix.lower() == ".xml":
        return _read_xform(path)
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


# --------------------------------------------------------------------------- the XForm (ODK Central's form.xml)

_XF = "{http://www.w3.org/2002/xforms}"
_H = "{http://www.w3.org/1999/xhtml}"
_JR = "{http://openrosa.org/javarosa}"
_BIND_TYPES = {"string": "text", "int": "integer", "decimal": "decimal", "date": "date", "dateTime": "dateTime",
               "time": "time", "geopoint": "geopoint", "geotrace": "geotrace", "geoshape": "geoshape",
               "binary": "image", "barcode": "barcode", "boolean": "acknowledge"}
_PRELOADS = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email"}


def _read_xform(path: Path) -> Form:
    """An XForm as ODK Central and KoboToolbox serve it: the same :class:`Form` as its XLSForm gives."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
        model = root.find(f"{_H}head/{_XF}model")
        main = next(i for i in model.findall(f"{_XF}instance") if "id" not in i.attrib)
        data = next(iter(main))
    except (ET.ParseError, AttributeError, StopIteration) as exc:
        raise InputError(f"{path}: not an XForm (an ODK form.xml has h:head/model/instance): "
                         f"{' '.join(str(exc).split())[:200] or type(exc).__name__}") from None
    translations = {_language(t.get("lang", "default")): {x.get("id"): "".join(x.find(f"{_XF}value").itertext())
                                                         for x in t.findall(f"{_XF}text")
                                                         if x.find(f"{_XF}value") is not None}
                    for t in model.iter(f"{_XF}translation")}
    binds = {b.get("nodeset"): b for b in model.findall(f"{_XF}bind")}
    lists = {i.get("id"): i for i in model.findall(f"{_XF}instance") if "id" in i.attrib}
    controls: dict[str, object] = {}
    for control in root.find(f"{_H}body").iter():
        key = control.get("ref") or control.get("nodeset")
        # a repeat sits in a group of the same path: the one with the label names it
        if key and (key not in controls or (controls[key].find(f"{_XF}label") is None
                                            and control.find(f"{_XF}label") is not None)):
            controls[key] = control
    repeats = {c.get("nodeset") for c in root.find(f"{_H}body").iter(f"{_XF}repeat")}

    def label(control) -> dict[str, str]:
        found = control.find(f"{_XF}label") if control is not None else None
        if found is None:
            return {}
        reference = found.get("ref", "")
        if reference.startswith("jr:itext("):
            key = reference[len("jr:itext("):-1].strip("'\"")
            return {language: texts[key] for language, texts in translations.items() if key in texts}
        text = "".join(found.itertext()).strip()
        return {"default": text} if text else {}

    def choices(control) -> tuple[tuple[Choice, ...], str | None]:
        itemset = control.find(f"{_XF}itemset")
        if itemset is not None:
            name = itemset.get("nodeset", "").split("'")[1] if "'" in itemset.get("nodeset", "") else None
            items = lists[name].iter(f"{_XF}item") if name in lists else ()
            out = []
            for item in items:
                value = item.findtext(f"{_XF}name")
                key = item.findtext(f"{_XF}itextId")
                labels = ({lang: texts[key] for lang, texts in translations.items() if key in texts} if key
                          else {"default": item.findtext(f"{_XF}label") or value})
                out.append(Choice(name=str(value), labels=labels))
            return tuple(out), name
        out = [Choice(name=item.findtext(f"{_XF}value") or "", labels=label(item))
               for item in control.findall(f"{_XF}item")]
        return tuple(out), None

    def walk(node, xpath: str, path: tuple[str, ...], repeat: str | None, path_labels: tuple):
        seen = set()
        for child in node:
            name = child.tag.split("}")[-1]
            if name in seen:  # a repeat's template and its default instance: one question each
                continue
            seen.add(name)
            here = f"{xpath}/{name}"
            if len(child):
                in_repeat = name if here in repeats or f"{_JR}template" in child.attrib else repeat
                yield from walk(child, here, (*path, name), in_repeat, (*path_labels, label(controls.get(here))))
                continue
            bind, control = binds.get(here), controls.get(here)
            kind = _BIND_TYPES.get((bind.get("type") if bind is not None else None) or "string", "text")
            preload = bind.get(f"{_JR}preloadParams") if bind is not None else None
            listed, list_name = (), None
            if control is not None and control.tag in {f"{_XF}select1", f"{_XF}select"}:
                kind = "select_one" if control.tag == f"{_XF}select1" else "select_multiple"
                listed, list_name = choices(control)
            elif preload in _PRELOADS:
                kind = preload
            elif bind is not None and control is None and (bind.get("calculate") is not None
                                                           or bind.get(f"{_JR}preload") is not None):
                kind = "calculate"
            yield Question(name=name, type=kind, path=path, labels=label(control), choices=listed, repeat=repeat,
                           path_labels=path_labels, list_name=list_name)

    questions = tuple(walk(data, f"/{data.tag.split('}')[-1]}", (), None, ()))
    languages = sorted({language for q in questions for language in (*q.labels, *(l for c in q.choices
                                                                                  for l in c.labels))})
    title = root.findtext(f"{_H}head/{_H}title") or ""
    return Form(id=data.get("id") or path.stem, title=title, languages=tuple(languages), questions=questions)


def _questions(node: dict, path: tuple[str, ...] = (), repeat: str | None = None,
               path_labels: tuple[dict[str, str], ...] = ()):
    for child in node.get("children", []):
        kind = child.get("type", "")
        if kind in _STRUCTURE:
            yield from _questions(child, (*path, child["name"]), child["name"] if kind == "repeat" else repeat,
                                  (*path_labels, _labels(child.get("label"))))
            continue
        choices = tuple(Choice(name=str(choice["name"]), labels=_labels(choice.get("label")))
                        for choice in child.get("choices") or ())
        yield Question(name=child["name"], type=_TYPES.get(kind, kind.replace(" ", "_")), path=path,
                       labels=_labels(child.get("label")), choices=choices, repeat=repeat,
                       path_labels=path_labels, list_name=child.get("list_name") or child.get("itemset"))


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


# --------------------------------------------------------------------------- reading an export with its form

# how KoboToolbox (any group separator its export settings allow) and ODK Central join group names
SEPARATORS = ("/", "-", ".", ":")
# ODK Central's names for the metadata KoboToolbox writes with a leading underscore
_CENTRAL_METADATA = {"SubmissionDate": "_submission_time", "KEY": "_uuid", "ReviewState": "_validation_status"}
# the other columns ODK Central adds to every row (lib/data/briefcase.js): kept, never reported unknown
_CENTRAL_COLUMNS = {"PARENT_KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
                    "Status", "DeviceID", "Edits", "FormVersion"}
# types whose answers are not in the export (or carry nothing to read)
_NOT_EXPORTED = {"note", "begin_group", "end_group"}
_GEOPOINT_PARTS = ("latitude", "longitude", "altitude", "precision")
# ODK Central writes a geopoint as four columns "<name>-Latitude" ... "<name>-Accuracy"
_CENTRAL_GEOPOINT = {"Latitude": "latitude", "Longitude": "longitude", "Altitude": "altitude", "Accuracy": "precision"}
_TRUE = {"1", "true", "vrai", "yes", "oui"}
_FALSE = {"0", "false", "faux", "no", "non"}


@dataclass(frozen=True)
class _Target:
    """One column the form gives an export: a question, or one option of a select_multiple."""

    column: str  # the column as KoboToolbox's "XML values and headers" export with "/" names it
    question: Question
    choice: Choice | None = None
    part: str | None = None  # a geopoint's latitude, longitude, altitude or precision column
    central: bool = False  # the part as ODK Central heads it ("gps-Latitude"), not as KoboToolbox ("_gps_latitude")

    def leaf(self, text: str) -> str:
        """The last part of the header, from the question's name or label."""
        if self.part is None:
            return text
        if self.central:
            return f"{text}-{next(k for k, v in _CENTRAL_GEOPOINT.items() if v == self.part)}"
        return f"_{text}_{self.part}"


@dataclass(frozen=True)
class Decoded:
    """An export read through its form.

    ``frame`` has the columns KoboToolbox's "XML values and headers" export with ``/`` groups would
    have (``group/question``; split select_multiple options ``group/question/option``) and every
    choice answer as its choice name, so a profile written for one shape reads them all.
    """

    frame: pd.DataFrame
    headers: str  # "names" or "labels": how the export's header row names the questions
    separator: str | None  # the group separator of the header row, None when it has no group prefixes
    renamed: dict[str, str]  # export header -> column
    unmatched_headers: tuple[str, ...]  # export columns the form does not know (kept as they are)
    unmatched_values: dict[str, dict[str, int]]  # column -> {value matching no choice: rows}
    aliases: dict[str, str]  # a question's bare name -> its column, for names used once in the form

    def summary(self) -> dict:
        """What the manifest and ``lqas validate`` say about the decoding."""
        return {"headers": self.headers, "separator": self.separator, "columns_matched": len(self.renamed),
                "columns_unmatched": list(self.unmatched_headers),
                "values_unmatched": {column: dict(values) for column, values in self.unmatched_values.items()}}


def _norm(text: object) -> str:
    """A header or answer as compared: NFC, case-folded, runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


def _targets(form: Form) -> list[_Target]:
    targets = []
    for question in form.questions:
        if question.type in _NOT_EXPORTED:
            continue
        targets.append(_Target(question.column(), question))
        if question.type == "geopoint":
            targets += [_Target("/".join((*question.path, f"_{question.name}_{part}")), question, part=part,
                                central=central) for central in (False, True) for part in _GEOPOINT_PARTS]
        if question.type == "select_multiple":
            targets += [_Target(f"{question.column()}/{choice.name}", question, choice) for choice in question.choices]
    return targets


def _with_option(bases: set[str], options: set[str]) -> set[str]:
    return {f"{base}{separator}{option}" for base in bases for separator in SEPARATORS for option in options}


def _name_keys(target: _Target, bare: bool) -> set[str]:
    """Headers naming the target by its name: with its group path (any separator), or bare."""
    question = target.question
    leaf = target.leaf(question.name)
    paths = [(leaf,)] if bare else [(*question.path, leaf)]
    if not bare and question.repeat is not None:
        # ODK Central heads a repeat's own file with paths from inside the repeat ("carnet-date_bcg")
        paths.append((*question.path[question.path.index(question.repeat) + 1:], leaf))
    bases = {separator.join(parts) for parts in paths for separator in SEPARATORS}
    return bases if target.choice is None else _with_option(bases, {target.choice.name})


def _label_keys(target: _Target) -> set[str]:
    """Headers naming the target by its label in any language, with or without its groups' labels;
    a question without a label in a language is headed by its name (as formpack writes it)."""
    question = target.question
    bases = set()
    for language in {*question.labels, *(l for g in question.path_labels for l in g)} or {"default"}:
        label = target.leaf(question.labels.get(language) or question.name)
        bases.add(label)
        groups = [group.get(language) or name for group, name in zip(question.path_labels, question.path)]
        bases |= {separator.join((*groups, label)) for separator in SEPARATORS} if groups else set()
    if target.choice is None:
        return bases
    return _with_option(bases, {target.choice.name, *target.choice.labels.values()})


def _lookup(targets: list[_Target], keys) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for position, target in enumerate(targets):
        for key in keys(target):
            found.setdefault(_norm(key), []).append(position)
    return found


def _assign(headers: list[str], targets: list[_Target], passes: list[dict[str, list[int]]]) -> dict[int, int]:
    """Header position -> target position. A header naming several targets (two questions with the
    same label) takes the first one not taken yet: exports list the questions in form order."""
    chosen: dict[int, int] = {}
    taken: set[int] = set()
    for lookup in passes:
        for position, header in enumerate(headers):
            if position in chosen:
                continue
            for candidate in lookup.get(_norm(header), ()):
                if candidate not in taken:
                    chosen[position] = candidate
                    taken.add(candidate)
                    break
    return chosen


def _choice_names(question: Question) -> dict[str, str]:
    """An answer (a choice name, or its label in any language) -> the choice name; names win."""
    names: dict[str, str] = {}
    for choice in question.choices:
        for label in choice.labels.values():
            names.setdefault(_norm(label), choice.name)
    names.update({_norm(choice.name): choice.name for choice in question.choices})
    return names


def _by_answer(values: pd.Series, decode) -> tuple[pd.Series, pd.Series]:
    """``decode`` applied once to each distinct answer (a national survey repeats a handful of answers
    a million times; string methods over every cell would take minutes). ``decode`` returns the
    decoded answer, or None when it matches nothing: that answer is then kept as written and flagged.
    Empty cells stay empty."""
    codes, answers = pd.factorize(values, use_na_sentinel=True)
    decoded = [decode(answer) for answer in answers]
    kept = np.array([str(a).strip() if d is None else d for a, d in zip(answers, decoded)] + [np.nan], dtype=object)
    flagged = np.array([d is None for d in decoded] + [False])
    return (pd.Series(kept[codes], index=values.index, dtype=object),
            pd.Series(flagged[codes], index=values.index))


def _text(answer: object) -> str:
    """An answer as text, stripped, ``2.0`` (a spreadsheet's number) as ``2``."""
    return re.sub(r"^(-?\d+)\.0+$", r"\1", str(answer).strip())


def _decode_one(values: pd.Series, names: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Answers of a select_one as choice names, and the answers matching no choice."""
    return _by_answer(values, lambda answer: names.get(_norm(_text(answer))))


def _segment(answer: str, names: dict[str, str]) -> list[str] | None:
    """A select_multiple answer (choice names or labels, joined by spaces) as choice names; labels
    may hold spaces themselves, so the words are cut into the fewest known answers. None if no cut works."""
    words = answer.split()
    best: list[list[str] | None] = [[]] + [None] * len(words)
    for end in range(1, len(words) + 1):
        for start in range(end):
            name = names.get(_norm(" ".join(words[start:end])))
            if name is not None and best[start] is not None:
                candidate = [*best[start], name]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1]


def _decode_many(values: pd.Series, names: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    def decode(answer: object) -> str | None:
        chosen = _segment(str(answer).strip(), names)
        return None if chosen is None else " ".join(chosen)

    return _by_answer(values, decode)


def _flag(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A split select_multiple cell (1/0, True/False, 1.0) as "1" or "0"."""
    def decode(answer: object) -> str | None:
        text = _text(answer).casefold()
        return "1" if text in _TRUE else "0" if text in _FALSE else None

    return _by_answer(values, decode)


def decode_export(frame: pd.DataFrame, form: Form, headers: list[str] | None = None,
                  source: str | Path = "export") -> Decoded:
    """Read an export in any shape KoboToolbox and ODK Central write, through the form behind it.

    Parameters
    ----------
    frame : DataFrame
        The export as text cells (`lqas.readers.read_source`).
    form : Form
        Its form (`read_form`).
    headers : list of str, optional
        The header row as written, when it names a column twice (label headers of two questions with
        the same label): ``frame``'s own column names are then only placeholders.

    Returns
    -------
    Decoded
        Columns renamed to ``group/question`` (split options ``group/question/option``), whether the
        header row used names or labels in any language of the form, with ``/``, ``-``, ``.`` or no
        group prefixes; select_one answers as choice names whether written as names or labels;
        select_multiple both as one space-separated column of names and as one ``"1"``/``"0"``
        column per option, whichever the export had; ODK Central's metadata under KoboToolbox's
        names (``SubmissionDate`` -> ``_submission_time``, ``KEY`` -> ``_uuid``). Answers that match
        no choice are kept as written and counted in ``unmatched_values``; headers the form does not
        know are kept as they are.
    """
    headers = [str(h) for h in (headers if headers is not None else frame.columns)]
    targets = _targets(form)
    full, bare, labelled = (_lookup(targets, lambda t: _name_keys(t, False)),
                            _lookup(targets, lambda t: _name_keys(t, True)), _lookup(targets, _label_keys))
    by_names = _assign(headers, targets, [full, bare])
    by_labels = _assign(headers, targets, [labelled])
    labels_mode = len(by_labels) > len(by_names)
    chosen = _assign(headers, targets, [labelled, full, bare] if labels_mode else [full, bare, labelled])

    columns: dict[str, pd.Series] = {}
    renamed: dict[str, str] = {}
    unmatched_headers: list[str] = []
    unmatched_values: dict[str, dict[str, int]] = {}
    separators: dict[str | None, int] = {}
    for position, header in enumerate(headers):
        values = frame.iloc[:, position]
        if position not in chosen:
            name = _CENTRAL_METADATA.get(header, header)
            if name != header and name in headers:
                name = header
            if name in columns:
                raise InputError(f"{source}: column '{header}' appears twice in the header and is not a question of the form")
            if not header.startswith(("_", "meta/")) and header not in {*_CENTRAL_METADATA, *_CENTRAL_COLUMNS}:
                unmatched_headers.append(header)
            columns[name] = values
            continue
        target = targets[chosen[position]]
        renamed[header] = target.column
        question = target.question
        if not labels_mode:
            written = _norm(header)
            paths = [question.path]
            if question.repeat is not None:  # Central heads a repeat's own file from inside the repeat
                paths.append(question.path[question.path.index(question.repeat) + 1:])
            used = next((s for path in paths if path for s in SEPARATORS if written.startswith(_norm(s.join(path)) + s)),
                        None)
            separators[used] = separators.get(used, 0) + 1
        if target.choice is not None:
            values, unmatched = _flag(values)
        elif question.type == "select_one" and question.choices:
            values, unmatched = _decode_one(values, _choice_names(question))
        elif question.type == "select_multiple" and question.choices:
            values, unmatched = _decode_many(values, _choice_names(question))
        else:
            unmatched = None
        if unmatched is not None and unmatched.any():
            counts = values[unmatched].astype(str).value_counts()
            unmatched_values[target.column] = {str(k): int(v) for k, v in counts.items()}
        columns[target.column] = values
    _complete_multiple(columns, targets)
    # text as read_source gives it (Python strings), not pandas 3's string dtype of mapped answers
    decoded = text_as_objects(pd.DataFrame(columns, index=frame.index))
    counted = Counter(q.name for q in form.questions if q.type not in _NOT_EXPORTED)
    aliases = {q.name: q.column() for q in form.questions if counted[q.name] == 1 and q.path}
    separator = max(separators, key=lambda s: (separators[s], s is not None)) if separators else None
    return Decoded(decoded, "labels" if labels_mode else "names", separator, renamed, tuple(unmatched_headers),
                   unmatched_values, aliases)


def _complete_multiple(columns: dict[str, pd.Series], targets: list[_Target]) -> None:
    """Give every select_multiple in the export both shapes: the space-separated names and the 0/1
    options (an export may carry either or both)."""
    questions = {t.question.column(): t.question for t in targets if t.question.type == "select_multiple"}
    for column, question in questions.items():
        options = {choice.name: f"{column}/{choice.name}" for choice in question.choices}
        present = {name: split for name, split in options.items() if split in columns}
        if column in columns:
            answers = columns[column]
            chosen = {answer: set(answer.split()) for answer in answers.dropna().unique()}
            for name, split in options.items():
                if split not in columns:
                    columns[split] = answers.map({a: "1" if name in c else "0" for a, c in chosen.items()})
        elif present:
            flags = pd.DataFrame({name: columns[split] for name, split in present.items()})
            answered = flags.notna().any(axis=1)
            joined = flags.apply(lambda row: " ".join(n for n, v in row.items() if v == "1"), axis=1)
            columns[column] = joined.where(answered, np.nan)


# --------------------------------------------------------------------------- answers by meaning


def plain_text(text: object) -> str:
    """Text as compared with the answer vocabulary: no accents, case or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().replace("_", " ").split())


@cache
def _answers() -> dict:
    import tomllib

    from lqas.resources import data_path

    with data_path("answers.toml").open("rb") as handle:
        table = tomllib.load(handle)
    words = {plain_text(word): meaning for meaning, listed in table["meanings"].items() for word in listed}
    return {"words": words, "columns": table["columns"]}


def meaning(choice: Choice) -> str | None:
    """What a choice means (``female``, ``yes``, ``dont_know``, ...), from its name or any label; None
    when neither is in ``lqas/data/answers.toml`` or they disagree."""
    words = _answers()["words"]
    found = {words[plain_text(text)] for text in (choice.name, *choice.labels.values()) if plain_text(text) in words}
    return found.pop() if len(found) == 1 else None


def infer_codes(question: Question, column: str) -> dict[str, str | int] | None:
    """``[codes]`` for a canonical column (``sex``, ``card_seen``, ... or ``recall``/``tick``) read from
    a select_one: each choice name -> the value its meaning takes. None when the question has no
    choices, the column no vocabulary, or no choice is recognised (the profile must say)."""
    values = _answers()["columns"].get(column)
    if values is None or not question.choices:
        return None
    codes = {choice.name: values[m] for choice in question.choices if (m := meaning(choice)) in values}
    return codes or None

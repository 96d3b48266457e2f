"""Draft a project from an export and its form (``lqas init``): ``survey.toml`` and a mapping profile.

The form (an XLSForm) says what every question is: its name, group, type, labels in each language
and the choices of a select. `lqas/data/recognise.toml` says what the canonical columns look like
in forms written by others (names, label phrases in French and English, types, the meaning of the
choices). Each mapping is written with a comment saying why it was made; what could not be mapped,
and what a person must check, is listed in the files and returned. Nothing of the shipped example
(title, labels, ``synthetic``) is copied.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

import pandas as pd

from lqas.errors import InputError
from lqas.exports import read_export
from lqas.form import Choice, Form, Question, meaning, plain_text, read_form
from lqas.readers import parse_dates, read_source
from lqas.resources import data_path, resource_dir
from lqas.vaccination import Dose, load_schedule

# canonical columns a run cannot do without (the profile's `required`)
REQUIRED = ("child_id", "catchment", "cluster", "interview_date", "sex", "dob")
# types that hold no answer of the child's (structure, notes, device metadata)
_SKIPPED = {"note", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email", "audit",
            "end", "image", "audio", "video", "file", "hidden"}
_MIN_SCORE = 2
_BESD_SIMILARITY = 0.6


@dataclass(frozen=True)
class Found:
    """One mapping the draft makes: a canonical name (or a profile key) read from an export column."""

    key: str
    column: str
    why: str


@dataclass(frozen=True)
class Draft:
    """A drafted project: the two files' text, what was mapped, what was left open, what to check."""

    survey_toml: str
    profile_toml: str
    found: tuple[Found, ...]
    open: tuple[str, ...]
    check: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    column: str  # the export column once read through the form (group/question)
    question: Question
    in_export: bool
    guessed: bool = False  # no form: the type was guessed from the answers

    @property
    def name(self) -> str:
        return plain_text(self.question.name)

    @property
    def labels(self) -> list[str]:
        return [plain_text(label) for label in self.question.labels.values()]

    @property
    def groups(self) -> str:
        return " ".join(plain_text(text) for group in self.question.path_labels for text in group.values()) + " " + \
            " ".join(plain_text(name) for name in self.question.path)

    def shown(self) -> str:
        label = next(iter(self.question.labels.values()), "")
        return f"'{self.column}'" + (f" (\"{label[:60]}\")" if label else "")


@cache
def _rules() -> dict:
    with data_path("recognise.toml").open("rb") as handle:
        return tomllib.load(handle)


def _has(text: str, phrase: str) -> bool:
    """``phrase`` in ``text`` as whole words (both plain)."""
    return f" {phrase} " in f" {text} "


def _score(candidate: _Candidate, rule: dict) -> int:
    question = candidate.question
    types = set(rule.get("types", ()))
    if candidate.guessed and question.type in {"select_one", "integer"}:
        # a few distinct numbers may be codes or counts: without the form, either fits
        fits = bool(types & {"select_one", "integer", "text", "calculate"})
    else:
        fits = not types or question.type in types
    if not fits:
        return 0
    if rule.get("choices"):
        meanings = {meaning(choice) for choice in question.choices}
        if not set(rule["choices"]) <= meanings:
            return 0
    names = [plain_text(n) for n in rule.get("names", [])]
    score = max([3 if candidate.name == n else 2 if _has(candidate.name, n) else 0 for n in names] or [0])
    phrases = [plain_text(p) for p in rule.get("labels", [])]
    if any(_has(label, phrase) for label in candidate.labels for phrase in phrases):
        score = max(score, 2) + (1 if score >= 2 else 0)
    if score and any(_has(candidate.groups + " " + " ".join(candidate.labels), plain_text(w)) for w in rule.get("within", [])):
        score += 1
    everything = " ".join([candidate.name, *candidate.labels, candidate.groups])
    if any(_has(everything, plain_text(w)) for w in rule.get("avoid", [])):
        score -= 3
    return score


def _candidates(form: Form, export_columns: set[str]) -> list[_Candidate]:
    out = []
    for question in form.questions:
        if question.type in _SKIPPED or question.type in {"geopoint", "geotrace", "geoshape"}:
            continue
        column = question.column()
        out.append(_Candidate(column, question, column in export_columns))
    return out


def _candidates_without_form(frame: pd.DataFrame) -> list[_Candidate]:
    """Export columns as questions, their type guessed from the answers (no form to say it)."""
    out = []
    for column in frame.columns:
        if column.startswith("_"):
            continue
        values = frame[column].dropna().astype(str)
        *path, name = re.split(r"[/\-.:]", column) if re.search(r"[/\-.:]", column) else [column]
        kind, choices = "text", ()
        if len(values) and parse_dates(values)[0].notna().mean() > 0.8 and not values.str.fullmatch(r"\d+").all():
            kind = "date"
        elif len(values) and values.str.fullmatch(r"-?\d+").all() and values.nunique() > 12:
            kind = "integer"
        elif 0 < values.nunique() <= 12:
            kind, choices = "select_one", tuple(Choice(name=v) for v in sorted(values.unique()))
        question = Question(name=name, type=kind, path=tuple(path), choices=choices)
        out.append(_Candidate(column, question, True, guessed=True))
    return out


def _assign(candidates: list[_Candidate]) -> dict[str, tuple[_Candidate, int]]:
    """Canonical column -> the question taken for it, best scores first, one question per column."""
    scored = [(score, order, name, candidate)
              for name, rule in _rules()["columns"].items()
              for order, candidate in enumerate(candidates)
              if (score := _score(candidate, rule)) >= _MIN_SCORE]
    return _best_first(scored)


def _best_first(scored: list[tuple]) -> dict:
    """``(score, order, key, candidate)`` -> key: (candidate, score), best scores first (then form
    order), each key and each question taken once."""
    chosen: dict = {}
    taken: set[str] = set()
    for score, _, key, candidate in sorted(scored, key=lambda item: (-item[0], item[1])):
        if key not in chosen and candidate.column not in taken:
            chosen[key] = (candidate, score)
            taken.add(candidate.column)
    return chosen


# --------------------------------------------------------------------------- doses


def _antigen_patterns(doses: list[Dose]) -> list[tuple[Dose | str, re.Pattern]]:
    """(dose, pattern) for each dose of the schedule, and (antigen, pattern) for each series."""
    names = _rules()["antigens"]
    out: list[tuple[Dose | str, re.Pattern]] = []
    for dose in doses:
        antigen = dose.series or dose.key
        aliases = sorted({plain_text(a) for a in names.get(antigen, [antigen])} | {plain_text(antigen)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(alias) for alias in aliases)
        if dose.series is not None and dose.number is not None:
            out.append((dose, re.compile(rf"(?:^| )(?:{alternatives}) ?{dose.number}(?: |$)")))
        else:
            out.append((dose, re.compile(rf"(?:^| )(?:{alternatives})(?: |$)")))
    for series in sorted({dose.series for dose in doses if dose.series}):
        aliases = sorted({plain_text(a) for a in names.get(series, [series])} | {plain_text(series)}, key=len, reverse=True)
        out.append((series, re.compile(rf"(?:^| )(?:{'|'.join(map(re.escape, aliases))})(?: |$)")))
    return out


def _texts(candidate: _Candidate) -> list[str]:
    return [candidate.name, *candidate.labels]


def _dose_of(candidate: _Candidate, patterns) -> Dose | None:
    for text in _texts(candidate):
        for dose, pattern in patterns:
            if isinstance(dose, Dose) and pattern.search(text):
                return dose
    return None


def _series_of(candidate: _Candidate, patterns) -> str | None:
    for text in _texts(candidate):
        if any(isinstance(d, Dose) and p.search(text) and d.series is not None for d, p in patterns):
            return None  # names a numbered dose: not a question about the whole series
        for series, pattern in patterns:
            if isinstance(series, str) and pattern.search(text):
                return series
    return None


def _mentions(candidate: _Candidate, words: list[str]) -> bool:
    everything = " ".join([*_texts(candidate), candidate.groups])
    return any(_has(everything, plain_text(word)) for word in words)


def _evidence(candidates: list[_Candidate], doses: list[Dose], used: set[str]) -> dict:
    """Card/register dates and ticks by dose; recall by antigen (asked yes/no, with a count)."""
    patterns = _antigen_patterns(doses)
    words = _rules()["evidence"]
    found: dict = {"card": {"dates": {}, "ticks": {}}, "register": {"dates": {}, "ticks": {}}, "recall": {}}
    for candidate in candidates:
        question = candidate.question
        if candidate.column in used:
            continue
        source = "register" if _mentions(candidate, words["register"]) else "card"
        dose = _dose_of(candidate, patterns)
        if dose is not None and question.type == "date":
            found[source]["dates"].setdefault(dose.key, candidate)
            continue
        if dose is not None and question.type == "select_one" and _mentions(candidate, words["tick"]):
            found[source]["ticks"].setdefault(dose.key, candidate)
            continue
        series = dose.key if dose is not None and dose.series is None else _series_of(candidate, patterns)
        if series is None:
            continue
        birth = next((d for d in doses if d.series == series and d.number == 0), None)
        if birth is not None and any(_has(candidate.name, plain_text(w)) for w in words["birth"]):
            series = birth.key  # asked apart: the birth dose
        meanings = {meaning(choice) for choice in question.choices}
        if question.type == "select_one" and {"yes", "no"} <= meanings:
            found["recall"].setdefault(series, {}).setdefault("ever", candidate)
        elif question.type in {"integer", "select_one"} and _mentions(candidate, words["count"]):
            found["recall"].setdefault(series, {}).setdefault("count", candidate)
    return found


# --------------------------------------------------------------------------- BeSD


@cache
def _besd_reference() -> dict[str, tuple[str, list[str]]]:
    """The BeSD items of the shipped form (BeSD-TI names): their type and wording in each language."""
    form = read_form(resource_dir("instruments") / "mali_child_survey.xlsx")
    return {question.name: (question.type, [plain_text(label) for label in question.labels.values()])
            for question in form.questions if question.name.startswith("CHI_") and question.type.startswith("select")}


def _besd(candidates: list[_Candidate], used: set[str]) -> dict[str, tuple[_Candidate, float]]:
    """BeSD item -> the question asking it: named as in BeSD-TI, or worded like the shipped form."""
    reference = _besd_reference()
    scored = []
    for order, candidate in enumerate(candidates):
        if candidate.column in used or not candidate.question.type.startswith("select"):
            continue
        for item, (kind, wordings) in reference.items():
            if kind != candidate.question.type:  # one answer or several: not the same question
                continue
            if candidate.question.name.casefold() == item.casefold():
                scored.append((2.0, order, item, candidate))
                continue
            similarity = max((SequenceMatcher(None, label, wording).ratio() for label in candidate.labels
                              for wording in wordings), default=0.0)
            if similarity >= _BESD_SIMILARITY:
                scored.append((similarity, order, item, candidate))
    return _best_first(scored)


# --------------------------------------------------------------------------- drafting


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _personal(candidates: list[_Candidate], used: set[str], form: Form | None) -> tuple[list[str], list[str]]:
    """Columns dropped before any rule reads the export: personal (names, phones, places) and typed
    answers (any text question the draft does not map: it can name people)."""
    words = _rules()["evidence"]["personal"]
    personal, free_text = [], []
    for candidate in candidates:
        if candidate.column in used:
            continue
        if candidate.question.type == "text":
            (personal if _mentions(candidate, words) else free_text).append(candidate.column)
    if form is not None:
        for question in form.questions:
            if question.type in {"geopoint", "geotrace", "geoshape"}:
                column = question.column()
                personal += [column, *("/".join((*question.path, f"_{question.name}_{part}"))
                                       for part in ("latitude", "longitude", "altitude", "precision"))]
    return personal, free_text


def draft_project(export: str | Path, form: str | Path | None = None, *, schedule: str = "mali",
                  out: str | Path = ".") -> Draft:
    """Draft ``survey.toml`` and ``profile.toml`` for an export (and its form).

    Parameters
    ----------
    export : path
        The export (CSV, XLSX) as downloaded, in any shape `lqas.form.decode_export` reads.
    form : path, optional
        Its XLSForm. Without it the columns' types are guessed from the answers and labels are
        unknown: the draft is poorer and says so.
    schedule : str
        The vaccination schedule whose doses are looked for (name or path).
    out : path
        The folder the files will be written to (paths in survey.toml are relative to it).

    Returns
    -------
    Draft
    """
    export = Path(export)
    doses = list(load_schedule(schedule).doses)
    form_model = read_form(form) if form is not None else None
    if form_model is not None:
        read = read_export(export, form_model)
        frame, decoded = read.source.frame, read.decoded
        candidates = _candidates(form_model, set(frame.columns))
        shape = (f"headers as {decoded.headers}"
                 + (f", groups joined by '{decoded.separator}'" if decoded.separator else "")
                 + f"; {read.summary['rows']}")
    else:
        frame = read_source(export).frame
        candidates = _candidates_without_form(frame)
        shape = "no form: types guessed from the answers"
    found: list[Found] = []
    check: list[str] = []
    chosen = _assign([c for c in candidates if c.in_export or form_model is None])
    columns: dict[str, str] = {}
    for name, (candidate, score) in chosen.items():
        columns[name] = candidate.column
        found.append(Found(name, candidate.column, f"{candidate.question.type} question {candidate.shown()}; "
                                                   f"{_reason(score)}"))
    used = set(columns.values())
    if "interview_date" not in columns:
        for fallback in ("today", "start"):
            if fallback in frame.columns:
                columns["interview_date"] = fallback
                found.append(Found("interview_date", fallback, f"no interview date question: the form's '{fallback}' "
                                                               "(the device's date when the form was filled)"))
                check.append(f"interview_date reads '{fallback}', the device's date: check the devices' clocks")
                break
    if "_submission_time" in frame.columns:
        columns["submission_time"] = "_submission_time"
        found.append(Found("submission_time", "_submission_time", "the server's time of each submission"))
    for name, column in (("interview_start", "start"), ("interview_end", "end")):
        if column in frame.columns and name not in columns:
            columns[name] = column
            found.append(Found(name, column, f"the form's '{column}' timestamp (interview durations, lqas quality)"))
    if "child_id" not in columns:
        identifier = next((c for c in ("_uuid", "meta/instanceID", "_id") if c in frame.columns), None)
        if identifier is not None:
            columns["child_id"] = identifier
            found.append(Found("child_id", identifier, "no child identifier question: the submission's id "
                                                       "(one child per submission)"))
            check.append(f"child_id is the submission's id ({identifier}): right when each submission is one child")
    evidence = _evidence([c for c in candidates if c.in_export or form_model is None], doses, used)
    for source_name in ("card", "register"):
        for kind in ("dates", "ticks"):
            for dose, candidate in evidence[source_name][kind].items():
                found.append(Found(f"{source_name}.{kind}.{dose}", candidate.column,
                                   f"{candidate.question.type} question {candidate.shown()} names {dose}"))
                used.add(candidate.column)
    for series, asked in evidence["recall"].items():
        for part, candidate in asked.items():
            found.append(Found(f"recall.antigens.{series}.{part}", candidate.column,
                               f"{candidate.question.type} question {candidate.shown()} asks about {series}"))
            used.add(candidate.column)
    besd = _besd([c for c in candidates if c.in_export or form_model is None], used)
    besd_codes: dict[str, dict[str, int]] = {}
    for item, (candidate, similarity) in besd.items():
        why = ("named as in BeSD-TI" if similarity == 2.0 else
               f"worded like BeSD-TI's {item} ({similarity:.0%} alike)")
        found.append(Found(f"besd.{item}", candidate.column, f"{candidate.question.type} question "
                                                             f"{candidate.shown()}: {why}"))
        used.add(candidate.column)
        codes, how = _besd_codes(candidate.question, item)
        if codes is not None:
            besd_codes[item] = codes
            if how == "order":
                shown = ", ".join(f"{k} = {v}" for k, v in codes.items())
                check.append(f"BeSD {item} ({candidate.column}): answers matched to BeSD-TI's codes by their order "
                             f"in the form ({shown}): check the order in profile.toml [codes]")
        elif how == "unmatched":
            reference = sorted(c.name for c in _reference_choices(item))
            check.append(f"BeSD {item} ({candidate.column}): answers coded "
                         f"{sorted(c.name for c in candidate.question.choices)}, BeSD-TI codes are {reference}: "
                         f"give each its code in profile.toml ([codes] {item} = {{ <answer> = <code>, ... }}) "
                         "before reading BeSD results")
    personal, free_text = _personal(candidates, used, form_model)
    personal = [c for c in personal if c in frame.columns]
    free_text = [c for c in free_text if c in frame.columns]
    open_ = [name for name in REQUIRED if name not in columns]
    if not any(evidence[s]["dates"] for s in ("card", "register")) and not evidence["recall"]:
        open_.append("vaccination evidence: no card date, register date or recall question recognised")
    if form_model is None:
        check.append("drafted without the form: give --form for labels, choices and types")
    profile = _profile_text(export, form, columns, evidence, besd, besd_codes, personal, free_text, found, shape,
                            [c for c in ("_id", "_uuid", "_index") if c in frame.columns], doses, open_, check)
    nested = _clusters_numbered_within(frame, columns)
    if nested:
        found.append(Found("design.nest", columns["cluster"], "the same cluster numbers recur in several catchment "
                                                              "areas: clusters are numbered within each"))
    survey = _survey_text(export, form, form_model, Path(out), schedule, columns, nested)
    return Draft(survey, profile, tuple(found), tuple(open_), tuple(check))


def _clusters_numbered_within(frame: pd.DataFrame, columns: dict[str, str]) -> bool:
    """Whether a cluster number recurs in several catchment areas (1..10 in each): then a cluster is
    the pair (area, number), which the design must be told (``[design] nest = true``)."""
    catchment, cluster = columns.get("catchment"), columns.get("cluster")
    if catchment not in frame or cluster not in frame:
        return False
    pairs = frame[[catchment, cluster]].dropna().drop_duplicates()
    return bool(pairs[cluster].duplicated().any())


def _reason(score: int) -> str:
    return {2: "its name or label says so", 3: "its name and label say so"}.get(score, "its name, label and group say so")


@cache
def _reference_choices_all() -> dict[str, tuple[Choice, ...]]:
    form = read_form(resource_dir("instruments") / "mali_child_survey.xlsx")
    return {q.name: q.choices for q in form.questions if q.name.startswith("CHI_")}


def _reference_choices(item: str) -> tuple[Choice, ...]:
    return _reference_choices_all().get(item, ())


def _besd_codes(question: Question, item: str) -> tuple[dict[str, int] | None, str]:
    """BeSD-TI's codes for a form's own answers to a one-answer BeSD item: ``(None, "same")`` when the
    form already uses them; by meaning for yes/no; by order when the lists are as long; else
    ``(None, "unmatched")``. A select_multiple keeps its options (``(None, "options")``)."""
    reference = _reference_choices(item)
    own = question.choices
    if question.type != "select_one" or not reference or not own:
        return None, "options"
    if {c.name for c in own} <= {c.name for c in reference}:
        return None, "same"
    by_meaning = {meaning(c): c.name for c in reference}
    if {"yes", "no"} <= set(by_meaning):
        codes = {c.name: int(by_meaning[m]) for c in own if (m := meaning(c)) in ("yes", "no")}
        if len(codes) == 2:
            return codes, "meaning"
    if len(own) == len(reference) and all(c.name.isdigit() for c in reference):
        return {mine.name: int(theirs.name) for mine, theirs in zip(own, reference)}, "order"
    return None, "unmatched"


def _why(found: list[Found], key: str) -> str:
    return next((f.why for f in found if f.key == key), "")


def _profile_text(export: Path, form: str | Path | None, columns: dict[str, str], evidence: dict, besd: dict,
                  besd_codes: dict[str, dict[str, int]], personal: list[str], free_text: list[str], found: list[Found], shape: str, keep: list[str],
                  doses: list[Dose], open_: list[str], check: list[str]) -> str:
    lines = [f"# Mapping profile drafted by `lqas init` from {export.name}"
             + (f" and its form {Path(form).name}" if form else "") + f" ({shape}).",
             "# Each mapping says why it was made: check them, then delete this line.",
             "# Reference: instruments/profiles/README.md in the lqas package."]
    lines += [f"# LEFT OPEN: {item}: map it by hand" for item in open_]
    lines += [f"# CHECK: {item}" for item in check]
    lines += ["",
             "[profile]", f"name = {_quote(export.stem)}",
             f"required = [{', '.join(_quote(n) for n in REQUIRED if n in columns)}]"]
    if keep:
        lines.append(f"keep = [{', '.join(map(_quote, keep))}]  # traced back to the export in derived.csv")
    lines.append("# personal data: dropped before anything reads the export, never in any output")
    lines.append(f"personal = [{', '.join(map(_quote, personal))}]")
    lines.append("# typed answers the draft does not map: they can name people, so they are dropped too")
    lines.append(f"free_text = [{', '.join(map(_quote, free_text))}]")
    lines += ["", "[columns]"]
    for name, column in columns.items():
        lines.append(f"{name} = {_quote(column)}  # {_why(found, name)}")
    one_answer = {item: candidate for item, (candidate, _) in besd.items() if candidate.question.type == "select_one"}
    for item, candidate in one_answer.items():  # BeSD items under their BeSD-TI names
        lines.append(f"{item} = {_quote(candidate.column)}  # {_why(found, f'besd.{item}')}")
    if besd_codes:
        lines += ["", "# BeSD answers as BeSD-TI codes (see the CHECK lines above)", "[codes]"]
        lines += [f"{item} = {{ {', '.join(f'{_quote(k)} = {v}' for k, v in codes.items())} }}"
                  for item, codes in besd_codes.items()]
    for source in ("card", "register"):
        dates, ticks = evidence[source]["dates"], evidence[source]["ticks"]
        if not dates and not ticks:
            continue
        lines += ["", f"[{source}]"]
        for kind, table in (("dates", dates), ("ticks", ticks)):
            if table:
                lines.append(f"[{source}.{kind}]")
                lines += [f"{dose} = {_quote(c.column)}  # {c.shown()}" for dose, c in table.items()]
    if evidence["recall"]:
        lines += ["", "# Recall: asked yes/no per antigen, with how many doses for a series; 'don't know' counts as",
                  "# not received and a yes without a count as the first dose only (VCQI)", "[recall]",
                  "unknown_count = [99]", "", "[recall.antigens]"]
        for series, asked in evidence["recall"].items():
            if "ever" not in asked:
                continue
            parts = [f"ever = {_quote(asked['ever'].column)}"]
            if "count" in asked:
                parts.append(f"count = {_quote(asked['count'].column)}")
                covered = _series_doses(series, doses)
            else:
                # a yes without a count says the first dose only; the later ones were not asked about
                covered = _series_doses(series, doses, first_only=True)
            lines.append(f"{series} = {{ {', '.join(parts)}, doses = {covered} }}")
    several = {item: candidate for item, (candidate, _) in besd.items() if candidate.question.type != "select_one"}
    if several:
        lines += ["", "# BeSD items of several answers under their BeSD-TI names (options become CHI_<item><option>)"]
        for item, candidate in several.items():
            options, group = "^" + re.escape(candidate.column) + "/(\\w+)$", item + "\\1"
            lines += ["[[rename]]", f"pattern = {_quote('^' + re.escape(candidate.column) + '$')}",
                      f"replacement = {_quote(item)}", "[[rename]]", f"pattern = {_quote(options)}",
                      f"replacement = {_quote(group)}"]
    return "\n".join(lines) + "\n"


def _series_doses(series: str, doses: list[Dose], first_only: bool = False) -> str:
    """The doses a recalled count covers: the series from its first dose (a birth dose is asked apart)."""
    keys = [dose.key for dose in doses if dose.series == series and (dose.number or 0) >= 1] or [series]
    keys = keys[:1] if first_only else keys
    # a birth dose asked apart is recalled alone
    return "[" + ", ".join(map(_quote, keys)) + "]"


def _survey_text(export: Path, form: str | Path | None, form_model: Form | None, out: Path, schedule: str,
                 columns: dict[str, str], nested: bool) -> str:
    def relative(path: Path) -> str:
        try:
            return Path(path).resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            return Path(path).resolve().as_posix()

    title = (form_model.title if form_model is not None and form_model.title else export.stem)
    lines = ["# Project drafted by `lqas init`: check every line, then run `lqas validate survey.toml`.", "",
             "[survey]", f"name = {_quote(title)}  # the report's title: say what, where and when",
             'country = ""', 'period = ""', "",
             "[data]", f"file = {_quote(relative(export))}", 'profile = "profile.toml"']
    if form is not None:
        lines.append(f"form = {_quote(relative(Path(form)))}")
    lines += ["# populations = \"populations.csv\"  # one row per lot: without it every child weighs the same", "",
              "[design]", 'strata = "catchment"', 'psu = "cluster"',
              'weights = "equal"  # "population" once [data] populations is given',
              *(["nest = true  # cluster numbers recur in several catchment areas: numbered within each"]
                if nested else []), "",
              "[cohorts]  # age windows in days", '"18w-11m" = [126, 364]', '"12-23m" = [365, 729]', "",
              "[vaccination]", f"schedule = {_quote(schedule)}", "",
              "[lqas]", 'lot = ["catchment", "cohort"]', "targets = [",
              '  { indicator = "zero_dose", good = 0.10, bad = 0.25 },',
              '  { indicator = "ui_dtp1_not_dtp3", good = 0.10, bad = 0.25 },',
              '  { indicator = "penta3_crude", good = 0.80, bad = 0.65 },', "]", "",
              "[report]", 'language = "fr"']
    return "\n".join(lines) + "\n"


def write_draft(draft: Draft, out: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``survey.toml`` and ``profile.toml`` into ``out``. An existing file (perhaps edited by
    hand) is refused unless ``overwrite``, and is then kept as ``<name>.previous``, never lost."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = (("survey.toml", draft.survey_toml), ("profile.toml", draft.profile_toml))
    existing = [out / name for name, _ in files if (out / name).exists()]
    if existing and not overwrite:
        raise InputError(f"{existing[0]}: already exists; give --overwrite to replace it (the file is then kept "
                         f"as {existing[0].name}.previous, or .previous.2, ... when that is taken)")
    written = []
    for name, text in files:
        path = out / name
        if path.exists():
            path.replace(_free_name(out, f"{name}.previous"))
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _free_name(folder: Path, name: str) -> Path:
    """``name``, or ``name.2``, ``name.3``... when taken: a second --overwrite keeps the first copy too."""
    candidate, number = folder / name, 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{name}.{number}"
    return candidate

"""Columns of an export that look personal: names, phone numbers, positions, device ids, free text.

A profile lists its personal and free-text columns (``[profile] personal`` and ``free_text``), and
those are dropped before anything reads the export. A column the profile forgot is caught here by its
name (in English or French, after the group path) or by values that look like phone numbers: it is
never copied to an output by a ``[[rename]]`` rule, and ``lqas validate`` lists it so the profile can
declare it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd

_KINDS = {
    "a name": r"(full_?|first_?|last_?|sur|pre)?names?|nom(s|_?complet)?|prenoms?|surname",
    "a phone number": r"(tele)?phones?|tel|mobile|portable|msisdn|phonenumber|numero_?(de_?)?tel(ephone)?",
    "a position": r"gps|geopoint|latitude|longitude|lat|lon|lng|altitude|coordinates|coordonnees|localisation",
    "a device or account id": r"deviceid|device_?id|imei|subscriberid|simserial|sim_?serial|username|email|e_?mail",
    "an address": r"address|adresse",
    "free text": r".*((?<!m)other|autres?|specify|precise[rz]?|comments?|commentaires?|remarks?|remarques?|observations?)",
}
_PATTERNS = {kind: re.compile(rf"(.*_)?({words})(_.*)?") for kind, words in _KINDS.items()}
_FREE_TEXT = re.compile(rf"(.*_)?({_KINDS['free text']})")
# 8 to 12 digits, with an optional country code and spaces: phone numbers, not codes or counts
_PHONE = re.compile(r"\+?\d[\d ]{7,14}")


def _words(column: str) -> str:
    """The last part of a column's group path, lower case, without accents, words joined by ``_``."""
    last = re.split(r"[/.\-]", column)[-1]
    plain = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    plain = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", plain)  # nameOfChild -> name_Of_Child
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def looks_personal(frame: pd.DataFrame, exempt: Iterable[str] = ()) -> dict[str, str]:
    """The columns of ``frame`` (not in ``exempt``) that look personal, each with what it looks like."""
    exempt = set(exempt)
    found: dict[str, str] = {}
    for column in frame.columns:
        if column in exempt or column.startswith("_exclude:"):
            continue
        words = _words(str(column))
        # the servers' own columns (_id, _parent_table_name, _submission__uuid) hold no answer; of
        # theirs only a position (_gps_latitude) or a device id is personal
        kinds = (("a position", "a device or account id") if str(column).split("/")[-1].startswith("_")
                 else tuple(_PATTERNS))
        kind = next((kind for kind in kinds
                     if (_FREE_TEXT if kind == "free text" else _PATTERNS[kind]).fullmatch(words)), None)
        if kind is None and not str(column).startswith("_") and _phone_like(frame[column]):
            kind = "a phone number"  # (not Kobo's _id, _index: numbers, not phones)
        if kind is not None and _only_flags(frame[column]):
            kind = None  # an option of a select_multiple ("autre" ticked or not): a 0/1 flag names no one
        if kind is not None:
            found[str(column)] = kind
    return found


def _phone_like(values: pd.Series) -> bool:
    """Most answers (over 80 %, at least 5, mostly distinct) look like phone numbers. A text column is
    judged once per distinct answer, weighted by its count: a national export has millions of cells."""
    if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(
            values.cat.categories, skipna=True) in ("string", "empty"):
        # an export read in categories: the count of each text from its codes
        codes = values.cat.codes.to_numpy()
        counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(values.cat.categories)),
                           index=pd.Index(values.cat.categories, dtype=object))
        counts = counts[counts > 0]
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        # numbers, flags and text mixed as objects: 1, 1.0 and True are one value to a hash, three texts
        values = values.dropna().astype(str).str.strip()
        values = values[values != ""]
        return len(values) >= 5 and values.str.fullmatch(_PHONE).mean() > 0.8 and values.nunique() > len(values) / 2
    else:
        # text (objects, or pandas' string dtype: pandas 3's text), numbers, dates: each distinct answer once
        counts = values.value_counts(dropna=True)
        counts.index = pd.Index(counts.index.astype(str), dtype=object)
    # at least 5 answers, over half of them distinct, so at least 3 distinct answers, stripped or not:
    # most columns (codes, flags) are told apart here
    if len(counts) < 3:
        return False
    answers, counts = counts.index.str.strip(), counts.to_numpy()
    answered = np.asarray(answers != "")
    total = int(counts[answered].sum())
    if total < 5:
        return False
    phones = int(counts[answered & np.asarray(answers.str.fullmatch(_PHONE), dtype=bool)].sum())
    return phones / total > 0.8 and answers[answered].nunique() > total / 2


def _only_flags(values: pd.Series) -> bool:
    answered = values.dropna().astype(str).str.strip().str.casefold()
    answered = answered[answered != ""]
    return len(answered) > 0 and answered.isin({"0", "1", "true", "false"}).all()

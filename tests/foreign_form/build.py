"""A French LQAS form that is not ours, seeded answers to it, and its exports in the shapes the servers write.

``build(out_dir)`` writes, into ``out_dir``:

* ``formulaire.xlsx``: the XLSForm (children in a repeat group ``enfant``, one submission per household);
* ``formulaire_plat.xlsx``: the same questions with ``enfant`` as a plain group (one submission per child),
  because a KoboToolbox CSV carries no repeat group;
* the exports: ``kobo_labels.csv``, ``kobo_labels_bom.csv``, ``kobo_xml.csv``, ``kobo_xml_dash.csv``,
  ``kobo_xml_dot.csv`` (flat form), ``kobo_labels.xlsx`` (repeat form), ``odk_central.csv``,
  ``odk_central_nogroups.csv``, ``odk_central_split.csv`` (flat form), ``odk_central.zip`` (repeat form);
* ``truth.csv``: one row per child with the indicators computed straight from the generated answers.

README.md beside this file says what each shape is and which server source it was read from. Everything
is drawn from ``random.Random(seed)``: no clock, no network, the same bytes for the same arguments
(apart from the zip and xlsx containers' own timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

FR = "Français (fr)"
EN = "English (en)"
LANGS = (FR, EN)

FORM_ID = "lqas_cv_commune6_2026"
FORM_ID_FLAT = "lqas_cv_commune6_2026_plat"
FORM_TITLE = "Enquête LQAS couverture vaccinale – Commune VI 2026"
FORM_TITLE_FLAT = "Enquête LQAS CV Commune VI – un enfant par fiche"
FORM_VERSION = "2026030201"
# the id KoboToolbox gives a deployed version (its ``__version__``); any 22 letters of this shape
KOBO_VERSION = "vQm3TzR8fKbW2xNpL7cYhD"
KOBO_VERSION_FLAT = "vHs9DkP2wXaT5eJrM4gBnC"

DOSES = ("bcg", "penta1", "penta2", "penta3", "vpo1", "vpo2", "vpo3", "rr1")

# (choice name, place name); labels are "Aire de santé de <place>" / "<place> health area"
AREAS = (
    ("kalaban", "Kalaban"),
    ("sebenikoro", "Sébénikoro"),
    ("niamana", "Niamana"),
    ("senou", "Sénou"),
    ("missabougou", "Missabougou"),
    ("yirimadio", "Yirimadio"),
)

# list_name -> [(name, label fr, label en)]
CHOICES: dict[str, list[tuple[str, str, str]]] = {
    "aires": [(code, f"Aire de santé de {place}", f"{place} health area") for code, place in AREAS],
    "sexe": [("1", "Masculin", "Male"), ("2", "Féminin", "Female")],
    "oui_non": [("oui", "Oui", "Yes"), ("non", "Non", "No"), ("nsp", "Ne sait pas", "Does not know")],
    "importance": [
        ("pas_important", "Pas du tout important", "Not at all important"),
        ("peu_important", "Un peu important", "A little important"),
        ("moyen_important", "Moyennement important", "Moderately important"),
        ("tres_important", "Très important", "Very important"),
    ],
    "raisons": [
        ("trop_loin", "Trop loin", "Too far"),
        ("pas_temps", "Pas de temps", "No time"),
        ("peur_effets", "Peur des effets secondaires", "Fear of side effects"),
        ("rupture", "Rupture de vaccins au centre", "Vaccine stock-out at the centre"),
        ("autre", "Autre", "Other"),
        ("aucune", "Aucune difficulté", "No difficulty"),
    ],
}


def _row(type_: str, name: str, fr: str = "", en: str = "", **extra: str) -> dict[str, str]:
    return {"type": type_, "name": name, "fr": fr, "en": en, **extra}


def survey_rows(flat: bool) -> list[dict[str, str]]:
    """The survey sheet, row by row; ``flat`` makes ``enfant`` a plain group with a ``rang_enfant`` question."""
    line = "${rang_enfant}" if flat else "position(..)"
    rows = [
        _row("start", "start"),
        _row("end", "end"),
        _row("today", "today"),
        _row("begin_group", "menage", "Identification du ménage", "Household identification"),
        _row("date", "date_enquete", "Date de l'enquête", "Interview date", required="yes"),
        _row("select_one aires", "aire_sante", "Aire de santé", "Health area", required="yes"),
        _row("integer", "grappe", "Numéro de la grappe", "Cluster number", required="yes",
             constraint=". >= 1 and . <= 10"),
        _row("integer", "num_menage", "Numéro du ménage", "Household number", required="yes"),
        _row("text", "telephone", "Téléphone de la mère ou gardienne", "Phone number of the caregiver"),
        _row("geopoint", "gps", "Coordonnées GPS du ménage", "Household GPS coordinates"),
        _row("end_group", ""),
        _row("begin_group" if flat else "begin_repeat", "enfant", "Enfant de 0 à 23 mois", "Child aged 0-23 months"),
    ]
    if flat:
        rows.append(_row("integer", "rang_enfant", "Rang de l'enfant dans le ménage", "Child line in the household",
                         required="yes"))
    rows += [
        _row("calculate", "id_enfant",
             calculation=f"concat(${{aire_sante}}, '-', ${{grappe}}, '-', ${{num_menage}}, '-', {line})"),
        _row("text", "nom_enfant", "Nom et prénom de l'enfant", "Child's full name"),
        _row("select_one sexe", "sexe_enfant", "Sexe de l'enfant", "Sex of the child"),
        _row("date", "date_naissance", "Date de naissance", "Date of birth"),
        _row("select_one oui_non", "carte_vue", "Carnet de vaccination vu ?", "Vaccination card seen?"),
        _row("begin_group", "carnet", "Dates inscrites sur le carnet", "Dates written on the card",
             relevant="${carte_vue} = 'oui'"),
        _row("date", "date_bcg", "BCG", "BCG"),
        _row("date", "date_penta1", "Date Penta 1", "Penta 1 date"),
        _row("date", "date_penta2", "Date Penta 2", "Penta 2 date"),
        _row("date", "date_penta3", "Date Penta 3", "Penta 3 date"),
        _row("date", "date_vpo1", "Date VPO 1", "OPV 1 date"),
        _row("date", "date_vpo2", "Date VPO 2", "OPV 2 date"),
        _row("date", "date_vpo3", "Date VPO 3", "OPV 3 date"),
        _row("date", "date_rr1", "Date RR 1", "MR 1 date"),
        _row("end_group", ""),
        _row("begin_group", "rappel", "Rappel de la mère ou gardienne", "Caregiver recall",
             relevant="${carte_vue} != 'oui'"),
        _row("select_one oui_non", "recu_bcg", "BCG", "BCG"),
        _row("select_one oui_non", "recu_penta", "Penta (injection à la cuisse)", "Penta (injection in the thigh)"),
        _row("integer", "nb_penta", "Nombre de doses de Penta", "Number of Penta doses",
             relevant="${recu_penta} = 'oui'", constraint=". >= 1 and . <= 5"),
        _row("select_one oui_non", "recu_vpo", "VPO (gouttes dans la bouche)", "OPV (drops in the mouth)"),
        _row("integer", "nb_vpo", "Nombre de doses de VPO", "Number of OPV doses", relevant="${recu_vpo} = 'oui'"),
        _row("select_one oui_non", "recu_rr", "RR (rougeole-rubéole)", "MR (measles-rubella)"),
        _row("end_group", ""),
        _row("begin_group", "besd", "Comportements et facteurs sociaux", "Behavioural and social drivers"),
        _row("select_one importance", "besd_importance",
             "Selon vous, les vaccins sont-ils importants pour la santé de cet enfant ?",
             "How important do you think vaccines are for this child's health?"),
        _row("select_multiple raisons", "raisons_non_vacc",
             "Difficultés pour faire vacciner l'enfant", "Difficulties in getting the child vaccinated"),
        _row("end_group", ""),
        _row("end_group" if flat else "end_repeat", ""),
        _row("text", "remarques", "Remarques de l'enquêteur", "Interviewer's remarks", appearance="multiline"),
    ]
    return rows


# ---------------------------------------------------------------------------------------------------------
# the form as the exporters see it


@dataclass(frozen=True)
class Field:
    """One exported question: its group path, type, choice list and labels (groups' labels kept for headers)."""

    path: tuple[str, ...]
    type: str
    list_name: str | None
    labels: dict[str, str]
    group_labels: tuple[dict[str, str], ...]
    in_repeat: bool

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def key(self) -> str:
        return "/".join(self.path)


def form_fields(flat: bool) -> list[Field]:
    """The questions in form order (groups are not fields)."""
    fields: list[Field] = []
    stack: list[tuple[str, dict[str, str], bool]] = []
    for row in survey_rows(flat):
        kind, _, list_name = row["type"].partition(" ")
        labels = {lang: row[key] for lang, key in ((FR, "fr"), (EN, "en")) if row[key]}
        if kind in ("begin_group", "begin_repeat"):
            stack.append((row["name"], labels, kind == "begin_repeat"))
        elif kind in ("end_group", "end_repeat"):
            stack.pop()
        else:
            fields.append(Field(
                path=tuple(name for name, _, _ in stack) + (row["name"],), type=kind, list_name=list_name or None,
                labels=labels, group_labels=tuple(lab for _, lab, _ in stack),
                in_repeat=any(rep for _, _, rep in stack)))
    return fields


def write_xlsform(path: Path, flat: bool) -> None:
    """The XLSForm as a person would have written it in a spreadsheet."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    extra = ("required", "relevant", "constraint", "calculation", "appearance")
    survey.append(["type", "name", f"label::{FR}", f"label::{EN}", *extra])
    for row in survey_rows(flat):
        survey.append([row["type"], row["name"] or None, row["fr"] or None, row["en"] or None,
                       *(row.get(col) or None for col in extra)])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", f"label::{FR}", f"label::{EN}"])
    for list_name, options in CHOICES.items():
        for name, fr, en in options:
            choices.append([list_name, name, fr, en])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([FORM_TITLE_FLAT if flat else FORM_TITLE, FORM_ID_FLAT if flat else FORM_ID, FORM_VERSION, FR])
    book.save(path)


# ---------------------------------------------------------------------------------------------------------
# seeded answers


FIRST = ("Aminata", "Fatoumata", "Mariam", "Awa", "Kadiatou", "Oumou", "Moussa", "Mamadou", "Ibrahim", "Seydou",
         "Boubacar", "Adama", "Salimata", "Issa", "Djeneba", "Bakary")
LAST = ("Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Sangaré", "Diallo", "Touré", "Dembélé", "Samaké")
REMARKS = ("RAS", "Mère absente; grand-mère a répondu", 'Carnet "perdu" selon la mère',
           "Enfant malade, revenir\nà 16h", "Ménage visité deux fois, accord verbal, OK")
DEVICE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Child:
    line: int
    answers: dict[str, str | None]  # full path ("enfant/carnet/date_bcg") -> answer as the XML holds it
    excluded: str = ""  # reason a child is deliberately out of the analysis


@dataclass
class Household:
    area: str
    cluster: int
    number: int
    interview: dt.date
    answers: dict[str, str | None]
    children: list[Child] = field(default_factory=list)


@dataclass
class Submission:
    """One submission as the server stored it, with what each server adds."""

    answers: dict[str, str | None]
    children: list[dict[str, str | None]]
    instance: str  # uuid without the "uuid:" prefix
    submitted: dt.datetime  # when the server received it (UTC)
    kobo_id: int = 0
    kobo_user: str = ""
    kobo_validation: tuple[str, str] | None = None  # (uid, label)
    kobo_tags: tuple[str, ...] = ()
    central_submitter: tuple[int, str] = (0, "")
    central_device: str = ""
    central_review: str = ""
    central_edits: int = 0
    kobo_version: str = ""


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _collect_time(moment: dt.datetime) -> str:
    """A dateTime as ODK Collect writes it: milliseconds and a +HH:MM offset (Bamako is UTC+00:00)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def _penta_dates(rng: random.Random, dob: dt.date, doses: int, interview: dt.date) -> list[dt.date]:
    dates: list[dt.date] = []
    day = dob + dt.timedelta(days=42 + rng.randint(0, 35))
    for _ in range(doses):
        if day > interview:
            break
        dates.append(day)
        day += dt.timedelta(days=28 + rng.randint(0, 28))
    return dates


def _child(rng: random.Random, hh: Household, line: int, age_days: int | None = None) -> Child:
    interview = hh.interview
    if age_days is None:
        age_days = rng.randint(0, 41) if rng.random() < 0.06 else rng.randint(42, 729)
    dob = interview - dt.timedelta(days=age_days)
    roll = rng.random()
    doses = 0 if roll < 0.2 else rng.choice((1, 1, 2)) if roll < 0.42 else 3
    card = rng.choices(("oui", "non", "nsp"), weights=(60, 33, 7))[0]
    a: dict[str, str | None] = {f"enfant/{k}": None for k in (
        "nom_enfant", "sexe_enfant", "date_naissance", "carte_vue", "besd/besd_importance", "besd/raisons_non_vacc")}
    a["enfant/nom_enfant"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    a["enfant/sexe_enfant"] = rng.choice(("1", "2"))
    a["enfant/date_naissance"] = dob.isoformat()
    a["enfant/carte_vue"] = card
    for dose in DOSES:
        a[f"enfant/carnet/date_{dose}"] = None
    for key in ("recu_bcg", "recu_penta", "nb_penta", "recu_vpo", "nb_vpo", "recu_rr"):
        a[f"enfant/rappel/{key}"] = None
    penta = _penta_dates(rng, dob, doses, interview)
    measles = None
    if len(penta) == 3 and age_days >= 290 and rng.random() < 0.85:
        day = dob + dt.timedelta(days=270 + rng.randint(0, 40))
        measles = day if day <= interview else None
    if card == "oui":
        bcg = dob + dt.timedelta(days=rng.randint(0, 20))
        if bcg <= interview and rng.random() < (0.92 if penta else 0.4):
            a["enfant/carnet/date_bcg"] = bcg.isoformat()
        for i, day in enumerate(penta, 1):
            a[f"enfant/carnet/date_penta{i}"] = day.isoformat()
            if rng.random() < 0.95:
                a[f"enfant/carnet/date_vpo{i}"] = day.isoformat()
        if len(penta) == 3 and rng.random() < 0.04:
            a["enfant/carnet/date_penta2"] = None  # a gap on the card: penta3 written, penta2 not
        a["enfant/carnet/date_rr1"] = _iso(measles)
    else:
        a["enfant/rappel/recu_bcg"] = rng.choices(("oui", "non", "nsp"), weights=(85, 10, 5))[0]
        if penta:
            a["enfant/rappel/recu_penta"] = "oui" if rng.random() < 0.96 else None
            if a["enfant/rappel/recu_penta"] == "oui":
                count = len(penta) + (1 if len(penta) == 3 and rng.random() < 0.1 else 0)
                a["enfant/rappel/nb_penta"] = None if rng.random() < 0.08 else str(count)
        else:
            a["enfant/rappel/recu_penta"] = rng.choices(("non", "nsp", None), weights=(80, 12, 8))[0]
        a["enfant/rappel/recu_vpo"] = "oui" if penta else rng.choice(("non", "nsp"))
        if penta:
            a["enfant/rappel/nb_vpo"] = str(len(penta))
        if age_days >= 270:
            a["enfant/rappel/recu_rr"] = "oui" if measles else rng.choice(("non", "non", "nsp"))
    if rng.random() > 0.04:
        weights = (2, 5, 20, 73) if len(penta) == 3 else (10, 25, 30, 35)
        a["enfant/besd/besd_importance"] = rng.choices([c[0] for c in CHOICES["importance"]], weights=weights)[0]
    if rng.random() > 0.05:
        if len(penta) == 3 and rng.random() < 0.85:
            reasons = ["aucune"]
        else:
            pool = ["trop_loin", "pas_temps", "peur_effets", "rupture", "autre"]
            reasons = sorted(rng.sample(pool, rng.choice((1, 1, 2, 3))), key=pool.index)
        a["enfant/besd/raisons_non_vacc"] = " ".join(reasons)
    a["enfant/id_enfant"] = f"{hh.area}-{hh.cluster}-{hh.number}-{line}"
    return Child(line=line, answers=a)


def simulate(rng: random.Random, n_households: int) -> list[Household]:
    """Households spread over the 6 areas and 10 clusters each, 1-3 children each, interviews in March 2026."""
    households = []
    for h in range(n_households):
        area = AREAS[h % len(AREAS)][0]
        cluster = (h // len(AREAS)) % 10 + 1
        number = h // (len(AREAS) * 10) + 1
        interview = dt.date(2026, 3, 2) + dt.timedelta(days=(h % len(AREAS)) * 2 + rng.randint(0, 3))
        start = dt.datetime.combine(interview, dt.time(8)) + dt.timedelta(
            minutes=rng.randint(0, 480), seconds=rng.randint(0, 59), microseconds=rng.randint(0, 999) * 1000)
        end = start + dt.timedelta(minutes=rng.randint(12, 40), seconds=rng.randint(0, 59),
                                   microseconds=rng.randint(0, 999) * 1000)
        lat, lon = 12.55 + rng.random() * 0.13, -8.05 + rng.random() * 0.15
        answers: dict[str, str | None] = {
            "start": _collect_time(start),
            "end": _collect_time(end),
            "today": interview.isoformat(),
            "menage/date_enquete": interview.isoformat(),
            "menage/aire_sante": area,
            "menage/grappe": str(cluster),
            "menage/num_menage": str(number),
            "menage/telephone": None if rng.random() < 0.1 else (
                f"{rng.choice((76, 66, 79, 90))}{rng.randint(0, 999999):06d}"),
            "menage/gps": None if rng.random() < 0.04 else (
                f"{lat:.8f} {lon:.8f} {rng.uniform(320, 380):.1f} {rng.choice((3.9, 4.8, 5.0, 9.6, 12.0))}"),
            "remarques": rng.choice(REMARKS) if rng.random() < 0.2 else None,
        }
        hh = Household(area, cluster, number, interview, answers)
        for line in range(1, rng.choices((1, 2, 3), weights=(55, 33, 12))[0] + 1):
            hh.children.append(_child(rng, hh, line))
        households.append(hh)
    # two deliberate problems (README, "Problems on purpose"): an over-age child and a child without a birth date
    if n_households > 13:
        over = households[7]
        over.children[0] = _child(rng, over, 1, age_days=800)
        over.children[0].excluded = "age_over_23_months"
        missing = households[13].children[0]
        missing.answers["enfant/date_naissance"] = None
        missing.excluded = "dob_missing"
    return households


def _meta(rng: random.Random, submissions: list[Submission], first_id: int, version: str) -> None:
    """What the servers add: ids, upload times, submitters, review and validation states."""
    submissions.sort(key=lambda s: s.submitted)
    codes = [code for code, _ in AREAS]
    kobo_id = first_id
    for sub in submissions:
        kobo_id += rng.randint(1, 40)  # Kobo's ids are server-wide, so a project's ids have gaps
        sub.kobo_id = kobo_id
        sub.kobo_version = version
        area = codes.index(sub.answers["menage/aire_sante"] or "")
        sub.kobo_user = f"enq_{codes[area]}"
        roll = rng.random()
        if roll < 0.25:
            sub.kobo_validation = ("validation_status_approved", "Approved")
        elif roll < 0.28:
            sub.kobo_validation = ("validation_status_on_hold", "On Hold")
        sub.kobo_tags = ("a_verifier", "gps_manquant") if sub.answers.get("menage/gps") is None else ()
        sub.central_submitter = (14 + area, f"Enquêteur {AREAS[area][1]}")
        sub.central_device = "collect:" + "".join(rng.choice(DEVICE_CHARS) for _ in range(16))
        roll = rng.random()
        sub.central_review = "approved" if roll < 0.2 else "hasIssues" if roll < 0.25 else ""
    edited = submissions[len(submissions) // 2]
    edited.central_review, edited.central_edits = "edited", 1


def submissions_for(rng: random.Random, households: list[Household], flat: bool) -> list[Submission]:
    out = []
    for hh in households:
        start = dt.datetime.fromisoformat(hh.answers["start"][:23])
        end = dt.datetime.fromisoformat(hh.answers["end"][:23])
        if flat:
            # one fiche per child, filled one after the other: each has its own start and end
            length = (end - start) / len(hh.children)
            for child in hh.children:
                began = start + length * (child.line - 1)
                answers = {**hh.answers, "start": _collect_time(began), "end": _collect_time(began + length),
                           "enfant/rang_enfant": str(child.line), **child.answers}
                sent = end + dt.timedelta(hours=rng.randint(1, 30), seconds=rng.randint(0, 3599),
                                          microseconds=rng.randint(0, 999) * 1000)
                out.append(Submission(answers, [], str(uuid.UUID(int=rng.getrandbits(128), version=4)), sent))
        else:
            sent = end + dt.timedelta(hours=rng.randint(1, 30), seconds=rng.randint(0, 3599),
                                      microseconds=rng.randint(0, 999) * 1000)
            out.append(Submission(dict(hh.answers), [c.answers for c in hh.children],
                                  str(uuid.UUID(int=rng.getrandbits(128), version=4)), sent))
    _meta(rng, out, 412_870_000 if flat else 412_650_000, KOBO_VERSION_FLAT if flat else KOBO_VERSION)
    return out


# ---------------------------------------------------------------------------------------------------------
# truth


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


TRUTH_COLUMNS = ("child_key", "area_code", "area", "cluster", "household", "line", "id_enfant", "sex", "dob",
                 "interview_date", "age_days", "card_seen", "penta1_card_date", "penta3_card_date", "penta_recall",
                 "penta_recall_count", "zero_dose", "ui", "penta3", "excluded", "exclusion_reason")


def truth_rows(households: list[Household]) -> list[dict[str, object]]:
    """The canonical answer key, computed from the answers alone (no lqas code)."""
    labels = {name: fr for name, fr, _ in CHOICES["aires"]}
    rows = []
    for hh in households:
        for child in hh.children:
            a = child.answers
            card = [a[f"enfant/carnet/date_penta{i}"] for i in (1, 2, 3)]
            recall, count = a["enfant/rappel/recu_penta"], a["enfant/rappel/nb_penta"]
            # evidence of penta1: any penta date on the card (a later dose implies the first) or recall "oui"
            p1 = any(card) or recall == "oui"
            p3 = bool(card[2]) or (recall == "oui" and count is not None and int(count) >= 3)
            dob = _day(a["enfant/date_naissance"])
            rows.append({
                "child_key": f"{labels[hh.area]}|{hh.cluster}|{hh.number}|{child.line}",
                "area_code": hh.area, "area": labels[hh.area], "cluster": hh.cluster, "household": hh.number,
                "line": child.line, "id_enfant": a["enfant/id_enfant"],
                "sex": {"1": "M", "2": "F"}[a["enfant/sexe_enfant"]],
                "dob": _iso(dob) or "", "interview_date": hh.interview.isoformat(),
                "age_days": (hh.interview - dob).days if dob else "",
                "card_seen": a["enfant/carte_vue"] or "",
                "penta1_card_date": card[0] or "", "penta3_card_date": card[2] or "",
                "penta_recall": recall or "", "penta_recall_count": count or "",
                "zero_dose": int(not p1), "ui": int(p1 and not p3), "penta3": int(p3),
                "excluded": int(bool(child.excluded)), "exclusion_reason": child.excluded,
            })
    return rows


# ---------------------------------------------------------------------------------------------------------
# KoboToolbox (formpack, as kpi calls it)

COPY_FIELDS = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
               "__version__", "_tags", "meta/rootUuid")
GEO_PARTS = ("latitude", "longitude", "altitude", "precision")


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class KoboOptions:
    """The export settings: ``lang`` None means "XML values and headers"."""

    lang: str | None = FR
    hierarchy: bool = False
    sep: str = "/"
    typed: bool = False  # False: every value as text (kpi's default for CSV); True: the XLSX default


def _kobo_label(f: Field, o: KoboOptions, hierarchy: bool | None = None, parents_only: bool = False) -> str:
    hierarchy = o.hierarchy if hierarchy is None else hierarchy
    own = (f.labels.get(o.lang) if o.lang else None) or f.name
    if not hierarchy:
        return own
    levels = [(lab.get(o.lang) if o.lang else None) or name for name, lab in zip(f.path, f.group_labels)]
    return o.sep.join(levels if parents_only else [*levels, own])


def _option_label(f: Field, name: str, lang: str | None) -> str | None:
    for option, fr, en in CHOICES[f.list_name or ""]:
        if option == name:
            return {FR: fr, EN: en}.get(lang) if lang else None
    return None


def kobo_headers(f: Field, o: KoboOptions) -> list[str]:
    label = _kobo_label(f, o)
    if f.type == "select_multiple":
        return [label] + [f"{label}{o.sep}{_option_label(f, n, o.lang) or n}" for n, _, _ in CHOICES[f.list_name]]
    if f.type == "geopoint":
        bare = _kobo_label(f, o, hierarchy=False)
        prefix = _kobo_label(f, o, parents_only=True)
        lead = f"{prefix}{o.sep}" if o.hierarchy and prefix else ""
        return [bare] + [f"{lead}_{bare}_{part}" for part in GEO_PARTS]
    return [label]


def kobo_cells(f: Field, value: str | None, o: KoboOptions) -> list[object]:
    if f.type == "select_multiple":
        names = [n for n, _, _ in CHOICES[f.list_name]]
        if value is None:
            return [""] * (1 + len(names))
        chosen = value.split()
        shown = [_option_label(f, v, o.lang) or v for v in chosen]
        summary: object = " ".join(shown)
        if o.typed and len(shown) == 1:
            summary = _number(shown[0])
        one, zero = (1, 0) if o.typed else ("1", "0")
        return [summary] + [one if n in chosen else zero for n in names]
    if f.type == "geopoint":
        parts = (value or "").split()
        parts += [""] * (4 - len(parts))
        return [value or ""] + [_number(p) if o.typed and p else p for p in parts]
    if value is None:
        return [""]
    if f.type == "select_one":
        shown = _option_label(f, value, o.lang) or value
        return [_number(shown) if o.typed else shown]
    if o.typed and f.type in ("date", "today"):
        return [dt.date.fromisoformat(value)]
    if o.typed and f.type in ("start", "end"):
        return [dt.datetime.fromisoformat(value).replace(tzinfo=None)]
    if o.typed and f.type == "integer":
        return [int(value)]
    return [value]


def _kobo_meta(sub: Submission, o: KoboOptions) -> list[object]:
    stamp = sub.submitted.strftime("%Y-%m-%dT%H:%M:%S")
    validation = ""
    if sub.kobo_validation:
        validation = sub.kobo_validation[1] if o.lang else sub.kobo_validation[0]
    return [sub.kobo_id if o.typed else str(sub.kobo_id), sub.instance,
            dt.datetime.fromisoformat(stamp) if o.typed else stamp, validation, "", "submitted_via_web",
            sub.kobo_user, sub.kobo_version, ", ".join(sub.kobo_tags), f"uuid:{sub.instance}"]


def kobo_tables(subs: list[Submission], flat: bool, o: KoboOptions) -> dict[str, list[list[object]]]:
    """Each section's rows (header first): the main section, then the repeat ``enfant`` if the form has it."""
    fields = form_fields(flat)
    main = [f for f in fields if not f.in_repeat]
    rep = [f for f in fields if f.in_repeat]
    title = FORM_TITLE_FLAT if flat else FORM_TITLE
    head = [h for f in main for h in kobo_headers(f, o)] + list(COPY_FIELDS) + ["_index"]
    tables: dict[str, list[list[object]]] = {title: [head]}
    if rep:
        tables["enfant"] = [[h for f in rep for h in kobo_headers(f, o)] + ["_index", "_parent_table_name",
                            "_parent_index"] + [f"_submission_{c}" for c in COPY_FIELDS]]
    child_index = 0
    for index, sub in enumerate(subs, 1):
        meta = _kobo_meta(sub, o)
        tables[title].append([c for f in main for c in kobo_cells(f, sub.answers.get(f.key), o)] + meta + [index])
        for child in sub.children:
            child_index += 1
            tables["enfant"].append([c for f in rep for c in kobo_cells(f, child.get(f.key), o)]
                                    + [child_index, title, index] + meta)
    return tables


def kobo_csv(subs: list[Submission], o: KoboOptions) -> bytes:
    """formpack's ``to_csv``: ``;`` between cells, every cell in double quotes, CRLF, UTF-8 (kpi adds no BOM)."""
    rows = next(iter(kobo_tables(subs, True, o).values()))
    lines = ['"' + '";"'.join(str(cell).replace('"', '""') for cell in row) + '"' for row in rows]
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


def _sheet_name(name: str, taken: list[str]) -> str:
    """An Excel sheet name as formpack makes one: no ``[]*?:\\/``, at most 31 characters, unique."""
    for bad in "[]*?:\\/":
        name = name.replace(bad, "_")
    name = ("_" + name[1:] if name.startswith("'") else name)
    name = (name[:-1] + "_" if name.endswith("'") else name)
    candidate, i = name, 0
    while True:
        tail = "..." if i == 0 else f"... ({i})"
        candidate = name if len(name) <= 31 else name[:31 - len(tail)] + tail
        if candidate not in taken:
            return candidate
        i += 1


def kobo_xlsx(path: Path, subs: list[Submission], o: KoboOptions) -> None:
    """formpack's ``to_xlsx`` through xlsxwriter: one sheet per section, dates in the ``yyyy-mm-dd`` format."""
    book = Workbook()
    book.remove(book.active)
    taken: list[str] = []
    for section, rows in kobo_tables(subs, False, o).items():
        name = _sheet_name(section, taken)
        taken.append(name)
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value == "":
                    continue  # xlsxwriter writes nothing for an empty string without a format
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    book.save(path)


# ---------------------------------------------------------------------------------------------------------
# ODK Central (central-backend lib/data/briefcase.js)

CENTRAL_TAIL = ("KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                "ReviewState", "DeviceID", "Edits", "FormVersion")
INSTANCE_ID = Field(("meta", "instanceID"), "calculate", None, {}, ({},), False)


def _central_base(f: Field, group_paths: bool, prefix: int) -> str:
    return "-".join(f.path[prefix:]) if group_paths else f.name


def _selected(subs: list[Submission], f: Field) -> list[str]:
    """The values a select_multiple took in the data, sorted: the columns Central splits it into."""
    seen = set()
    for sub in subs:
        for answers in [sub.answers, *sub.children]:
            seen.update((answers.get(f.key) or "").split())
    return sorted(seen)


def _central_columns(fields: list[Field], subs: list[Submission], group_paths: bool, split: bool,
                     prefix: int) -> list[str]:
    head = []
    for f in fields:
        base = _central_base(f, group_paths, prefix)
        if f.type == "geopoint":
            head += [f"{base}-{part}" for part in ("Latitude", "Longitude", "Altitude", "Accuracy")]
        else:
            head.append(base)
            if f.type == "select_multiple" and split:
                head += [f"{base}/{value}" for value in _selected(subs, f)]
    return head


def _central_cells(fields: list[Field], answers: dict[str, str | None], subs: list[Submission],
                   split: bool) -> list[object]:
    cells: list[object] = []
    for f in fields:
        value = answers.get(f.key)
        if f.type == "geopoint":
            parts = (value or "").split()
            cells += parts + [""] * (4 - len(parts))
        else:
            cells.append(value if value is not None else "")
            if f.type == "select_multiple" and split:
                chosen = (value or "").split()
                cells += [1 if v in chosen else 0 for v in _selected(subs, f)]
    return cells


def central_tables(subs: list[Submission], flat: bool, group_paths: bool = True,
                   split: bool = False) -> dict[str, list[list[object]]]:
    """Central's tables: ``<form id>.csv`` and, for the repeat form, ``<form id>-enfant.csv``; newest first."""
    fields = form_fields(flat) + [INSTANCE_ID]
    main = [f for f in fields if not f.in_repeat]
    rep = [f for f in fields if f.in_repeat]
    form_id = FORM_ID_FLAT if flat else FORM_ID
    root = [["SubmissionDate", *_central_columns(main, subs, group_paths, split, 0), *CENTRAL_TAIL]]
    child = [[*_central_columns(rep, subs, group_paths, split, 1), "PARENT_KEY", "KEY"]]
    for sub in sorted(subs, key=lambda s: s.submitted, reverse=True):
        key = f"uuid:{sub.instance}"
        answers = {**sub.answers, "meta/instanceID": key}
        stamp = sub.submitted.strftime("%Y-%m-%dT%H:%M:%S.") + f"{sub.submitted.microsecond // 1000:03d}Z"
        submitter, name = sub.central_submitter
        root.append([stamp, *_central_cells(main, answers, subs, split), key, submitter, name, 0, 0, "",
                     sub.central_review, sub.central_device, sub.central_edits, FORM_VERSION])
        for i, answers in enumerate(sub.children, 1):
            child.append([*_central_cells(rep, answers, subs, split), key, f"{key}/enfant[{i}]"])
    tables = {f"{form_id}.csv": root}
    if rep:
        tables[f"{form_id}-enfant.csv"] = child
    return tables


def central_csv(rows: list[list[object]]) -> bytes:
    """csv-stringify's defaults: ``,``, quotes only where needed, ``\\n`` line ends, UTF-8 without BOM."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------------------------


def _write_truth(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build(out_dir: Path, seed: int = 7, n_households: int = 120) -> dict[str, Path]:
    """Write the forms, the exports and the truth into ``out_dir``; return every file by its key.

    Keys: ``formulaire``, ``formulaire_plat``, ``kobo_labels``, ``kobo_labels_bom``, ``kobo_xml``, ``kobo_xml_dash``,
    ``kobo_xml_dot``, ``kobo_labels_xlsx``, ``odk_central``, ``odk_central_nogroups``, ``odk_central_split``,
    ``odk_central_zip``, ``truth`` (README.md, "The shapes").
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    households = simulate(rng, n_households)
    flat_subs = submissions_for(rng, households, flat=True)
    repeat_subs = submissions_for(rng, households, flat=False)
    files: dict[str, Path] = {}

    def put(key: str, name: str, data: bytes) -> None:
        files[key] = out / name
        files[key].write_bytes(data)

    files["formulaire"] = out / "formulaire.xlsx"
    write_xlsform(files["formulaire"], flat=False)
    files["formulaire_plat"] = out / "formulaire_plat.xlsx"
    write_xlsform(files["formulaire_plat"], flat=True)

    labels = kobo_csv(flat_subs, KoboOptions(lang=FR))
    put("kobo_labels", "kobo_labels.csv", labels)
    put("kobo_labels_bom", "kobo_labels_bom.csv", b"\xef\xbb\xbf" + labels)
    put("kobo_xml", "kobo_xml.csv", kobo_csv(flat_subs, KoboOptions(lang=None, hierarchy=True, sep="/")))
    put("kobo_xml_dash", "kobo_xml_dash.csv", kobo_csv(flat_subs, KoboOptions(lang=None, hierarchy=True, sep="-")))
    put("kobo_xml_dot", "kobo_xml_dot.csv", kobo_csv(flat_subs, KoboOptions(lang=None, hierarchy=True, sep=".")))
    files["kobo_labels_xlsx"] = out / "kobo_labels.xlsx"
    kobo_xlsx(files["kobo_labels_xlsx"], repeat_subs, KoboOptions(lang=FR, typed=True))

    main = f"{FORM_ID_FLAT}.csv"
    put("odk_central", "odk_central.csv", central_csv(central_tables(flat_subs, flat=True)[main]))
    put("odk_central_nogroups", "odk_central_nogroups.csv",
        central_csv(central_tables(flat_subs, flat=True, group_paths=False)[main]))
    put("odk_central_split", "odk_central_split.csv",
        central_csv(central_tables(flat_subs, flat=True, split=True)[main]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in central_tables(repeat_subs, flat=False).items():
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 25, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, central_csv(rows))
    put("odk_central_zip", "odk_central.zip", buffer.getvalue())

    files["truth"] = out / "truth.csv"
    _write_truth(files["truth"], truth_rows(households))
    return files


if __name__ == "__main__":
    import sys

    for key, value in build(Path(sys.argv[1] if len(sys.argv) > 1 else "foreign_form_out")).items():
        print(f"{key}\t{value}")

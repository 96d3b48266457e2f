"""Generate the SYNTHETIC Mali baseline example survey (a Kobo "XML values and headers" export).

Every row is invented by this script: no real child, caretaker, phone number or position is in it.
The survey is shaped like the Mali Learning Hub baseline (6 catchments x 2 cohorts, ~1,146
caretakers), with coverage gaps, zero-dose pockets, a sex gap in two catchments, card/recall
behaviour, BeSD answers, duplicates and deliberately broken dates. See README.md next to this file.

It also writes the follow-up round, one year later (``followup``): the same clusters, new children, the C2P
effect built in, the same kinds of problems as the baseline's and, for ``lqas quality``, one interviewer's
fieldwork problems (a fast interviewer, a cluster with heaped ages, a day re-sent); and the follow-up's
SYNTHETIC DHIS2 extract (``dhis2_extract``): the health areas' monthly doses, census targets and reporting
rates, 2022-2025, with the data-quality problems of such an extract built in; and, for the small-area model
(``small_areas``), every health area of the three districts, the 6 sampled and 33 no survey visits: their
boundaries, their 12-23-month populations and the covariates (admin Penta 1 coverage, distance to the
district health centre, urban share) their true zero-dose prevalence (``small_area_truth``) follows, two
unsampled hotspots (AREA_HOTSPOTS) included.

Run ``python examples/mali_baseline/generate.py``; it writes ``data/`` next to itself,
``../mali_followup/data/`` (the extract in ``data/dhis2/``, the health areas in ``data/areas/``) and
``../mali_followup/dhis2_mapping.toml``. The output is a pure function of SEED, FOLLOWUP_SEED, STAFF_SEED,
FIELDWORK_SEED, DHIS2_SEED and AREAS_SEED (with MALARIA_SEED and HOUSEHOLD_SEED): the CSVs, the JSON and
GeoJSON and the mapping are byte-identical on every run.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20260421
# fieldwork: Monday 13 Oct to Saturday 8 Nov 2025, six days a week; each cluster takes two days
FIELD_DAYS = [day for day in (date(2025, 10, 13) + timedelta(d) for d in range(27)) if day.weekday() < 6]
COHORTS = {"18w_11m": (126, 364), "12_23m": (365, 729)}
PER_CELL = 8  # children per cluster and cohort

# name, district, code, base access (logit of Penta1), Penta1->2 and 2->3 continuation (logit shift),
# girls' access shift, BeSD "permission needed" (logit), centre lat/lon/alt, 12 clusters (name, area, group)
CATCHMENTS = [
    ("bougouni_est", "bougouni", "BGE", 2.7, 2.0, 1.4, 0.0, -0.9, 11.417, -7.483, 350, [
        ("Dougounina", "urban", "host"), ("Massablacoura", "urban", "host"), ("Médina-Coura", "urban", "migrant"),
        ("Hèrèmakono", "urban", "host"), ("Torakoro", "urban", "host"), ("Faragouaran", "rural", "host"),
        ("Dalaba", "rural", "host"), ("Sido", "rural", "host"), ("Tiécourala", "rural", "host"),
        ("Zantiébougou", "rural", "host"), ("N'Tjila", "rural", "host"), ("Kodiéran", "rural", "gold_mining")]),
    ("kologo", "bougouni", "KOL", 2.2, 1.5, 1.0, -1.1, 0.3, 11.183, -7.633, 362, [
        ("Kologo", "rural", "host"), ("Faradiélé", "rural", "host"), ("Kéléya", "rural", "gold_mining"),
        ("Sirakoro", "rural", "host"), ("Ouroumpana", "rural", "host"), ("Dialakoro", "rural", "gold_mining"),
        ("Siékorolé", "rural", "host"), ("Banzana", "rural", "host"), ("N'Golobougou", "rural", "host"),
        ("Kassa", "rural", "host"), ("Niamala", "rural", "host"), ("Bèrèdougou-Peulh", "rural", "nomad")]),
    ("pelengana_nord", "segou", "PEL", 2.5, 1.7, 1.2, 0.0, -0.6, 13.437, -6.221, 291, [
        ("Pelengana", "urban", "host"), ("Ségou-Koura", "urban", "host"), ("Sébougou", "rural", "host"),
        ("Bougoufié", "urban", "host"), ("Angoulême", "urban", "host"), ("Darsalam", "urban", "displaced"),
        ("Hamdallaye", "urban", "host"), ("Sokalakono", "urban", "host"), ("Missira", "urban", "migrant"),
        ("Kalabougou", "rural", "island"), ("Farako", "rural", "island"), ("Banankoro", "rural", "host")]),
    ("cinzana_gare", "segou", "CIN", 1.5, 1.2, 0.8, 0.0, 0.4, 13.252, -5.966, 300, [
        ("Cinzana-Gare", "rural", "host"), ("Dioro", "rural", "host"), ("Katiéna", "rural", "host"),
        ("Souba", "rural", "host"), ("N'Gara", "rural", "host"), ("Tiémena", "rural", "host"),
        ("Bogoni", "rural", "host"), ("Sarakala", "rural", "host"), ("Zambougou", "rural", "host"),
        ("Ouro-Ardo", "rural", "nomad"), ("Diakoro", "rural", "host"), ("Konodimini", "rural", "host")]),
    ("niono_central", "niono", "NIO", 4.3, 2.2, 1.7, 0.0, -0.7, 14.252, -5.993, 281, [
        ("Niono-Coura", "urban", "host"), ("Thiongoni", "urban", "host"), ("Sonikoura", "urban", "host"),
        ("Médina", "urban", "host"), ("Hamdallaye", "urban", "displaced"), ("Foabougou", "urban", "host"),
        ("Kolodougou-Coura", "rural", "host"), ("Niono-Gare", "urban", "migrant"), ("Dar Salam", "urban", "host"),
        ("Banissira", "urban", "host"), ("Km 20", "rural", "migrant"), ("Siguiné", "rural", "host")]),
    ("ndebougou", "niono", "NDB", 1.6, 1.1, 0.7, -1.3, 0.7, 14.362, -6.031, 278, [
        ("N'Débougou", "rural", "host"), ("Kourouma", "rural", "host"), ("Sagnona", "rural", "host"),
        ("Tigabougou", "rural", "host"), ("Bolimassa", "rural", "displaced"), ("Kanto", "rural", "host"),
        ("Niamana", "rural", "host"), ("Wouro-Ndiaye", "rural", "nomad"), ("Fassoun", "rural", "host"),
        ("N'Dilla", "rural", "host"), ("Kaladougou", "rural", "displaced"), ("Dogofry-Peulh", "rural", "nomad")]),
]
# lot sizes (target population of each catchment x cohort): 12-23m ~ 0.93 x births, 18w-11m ~ 0.62 x births
BIRTHS = {"bougouni_est": 2600, "kologo": 930, "pelengana_nord": 2350, "cinzana_gare": 760,
          "niono_central": 2550, "ndebougou": 1420}
GROUP_EFFECT = {"host": 0.0, "displaced": -0.9, "nomad": -1.7, "migrant": -0.5, "gold_mining": -0.7, "island": -1.3}
EDU_EFFECT = {"none": 0.0, "koranic": 0.0, "primary": 0.2, "secondary": 0.45, "higher": 0.7}
DOSES = ["bcg", "opv0", "opv1", "opv2", "opv3", "penta1", "penta2", "penta3", "pcv1", "pcv2", "pcv3",
         "rota1", "rota2", "rota3", "ipv", "mr1", "mr2", "yf", "mena"]
# R21 malaria vaccine, introduced 25 Apr 2025 in some districts (here Bougouni and Ségou, not Niono); doses 1-3
# monthly from 5 months. Everything malaria is drawn from its own generator per household slot (MALARIA_SEED),
# never from the main one, so the other columns are exactly those of the export before malaria was added.
MALARIA = ["malaria1", "malaria2", "malaria3"]
MALARIA_SEED = 20250425
MALARIA_START = date(2025, 4, 25)
MALARIA_DISTRICTS = {"bougouni", "segou"}
# The fieldwork staff (hh/interviewer, hh/team; codes, not names): one team of six interviewers per district,
# which works its two health areas' clusters of the same rank on the same two days (FIELD_DAYS), three
# interviewers in each. In each cluster the listed households (1-180) are cut in three segments of SEGMENT,
# one interviewer's each. Who goes where is drawn from a generator of its own per round, district and
# cluster rank (STAFF_SEED), so every other column is drawn exactly as before.
STAFF_SEED = 20251007  # one with which `lqas quality` flags no interviewer or team by chance on the demo
SEGMENT = 60
DISTRICTS = list(dict.fromkeys(cat[1] for cat in CATCHMENTS))
TEAMS = {cat[0]: f"EQ{DISTRICTS.index(cat[1]) + 1}" for cat in CATCHMENTS}
INTERVIEWERS = {district: [f"E{6 * k + j + 1:02d}" for j in range(6)] for k, district in enumerate(DISTRICTS)}
LOWAC = ["noth", "hard", "open", "away", "time", "job", "family", "permission", "unwelcome", "cost",
         "opposite_sex", "else"]
QUALI = ["noth", "avail", "open", "wait", "clean", "poor", "respect", "time", "else"]
BESD_ITEMS = ["CHI_intent", "CHI_confb", "CHI_confs", "CHI_confh", "CHI_normp", "CHI_normf", "CHI_normr",
              "CHI_normc", "CHI_rechcw", "CHI_recall", "CHI_travel", "CHI_where", "CHI_tookc", "CHI_avail",
              "CHI_afford", "CHI_access", "CHI_lowac", "CHI_satis", "CHI_quali"]

F_NAMES = ["Aminata", "Fatoumata", "Mariam", "Awa", "Kadiatou", "Oumou", "Assétou", "Djénéba", "Rokia",
           "Salimata", "Hawa", "Bintou", "Korotoumou", "Nana", "Mariétou", "Kadidia", "Fanta", "Sitan",
           "Maïmouna", "Aïssata", "Safiatou", "Téné", "Ramata", "Fatimata", "Coumba", "Néné", "Sanata"]
M_NAMES = ["Moussa", "Mamadou", "Seydou", "Bakary", "Boubacar", "Oumar", "Souleymane", "Drissa", "Adama",
           "Lassine", "Siaka", "Issa", "Ibrahim", "Modibo", "Yacouba", "Abdoulaye", "Sékou", "Brahima",
           "Fousseyni", "Madou", "Nouhoum", "Hamidou", "Amadou", "Cheick Oumar", "Alou", "Tiémoko"]
SURNAMES = ["Traoré", "Coulibaly", "Diarra", "Keïta", "Konaté", "Sangaré", "Diallo", "Touré", "Dembélé",
            "Samaké", "Doumbia", "Sidibé", "Bagayoko", "Cissé", "Koné", "Maïga", "Togola", "Kanté",
            "Sissoko", "Tangara", "Fomba", "Goïta", "Berthé", "Daou", "Mariko", "Théra", "Sanogo", "Ballo",
            "N'Diaye", "Kouyaté"]
PEUL_SURNAMES = ["Diallo", "Sidibé", "Sangaré", "Dicko", "Barry", "Bah", "Sow", "Cissé", "Bocoum"]
PHONE_PREFIXES = ["65", "66", "67", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
                  "82", "83", "89", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"]
LOWAC_OTHER = ["Le centre est de l'autre côté du fleuve, pas de pirogue pendant la crue",
               "Insécurité sur la route du CSCom", "Le vaccinateur ne vient presque jamais au village",
               "Le mari est parti en exode, personne pour garder les autres enfants"]
QUALI_OTHER = ["On fait payer le carnet 200 F", "Pas d'ombre pour attendre", "Les agents crient sur les femmes"]
REMARKS = [  # (remark, column, value it fits), so a remark never contradicts its row
    ("Mère absente, entretien avec la grand-mère paternelle.", "caretaker/relationship", "grandparent"),
    ('Carnet gardé chez le "grand frère" à Ségou, pas pu le voir.', "card/no_card_reason", "kept_elsewhere"),
    ("Cicatrice BCG difficile à voir, l'enfant pleurait.", "card/card_seen", "no"),
    ("Ménage de déplacés arrivés de Macina en août 2025.", "hh/population_group", "displaced"),
    ("RAS", None, None),
    ("Dates recopiées d'un carnet abîmé, vérifier Penta 2.", "card/card_seen", "yes"),
    ("L'enfant était au champ avec sa mère ; revenu à 17 h, entretien repris.", "caretaker/relationship", "mother"),
    ("Refus partiel : n'a pas voulu répondre à certaines questions, « c'est l'affaire du mari ».",
     "caretaker/relationship", "mother"),
    ("Famille en transhumance, revenue pour l'hivernage, départ prévu en décembre.", "hh/population_group", "nomad"),
    ("Carnet retrouvé après l'entretien.\nDates saisies à la fin, à vérifier.", "card/card_seen", "yes"),
    ('Réponses données par la mère, en présence du père, qui a "corrigé" deux réponses.',
     "caretaker/relationship", "mother")]


def staff(staff_round, cat, cl_idx):
    """The interviewer of each segment of a cluster's households: the district team's six drawn in an order,
    the first three to the district's first health area, the others to its second."""
    district = DISTRICTS.index(cat[1])
    rng = np.random.default_rng([STAFF_SEED, staff_round, district, cl_idx])
    order = [INTERVIEWERS[cat[1]][int(j)] for j in rng.permutation(6)]
    second = [c[0] for c in CATCHMENTS if c[1] == cat[1]].index(cat[0])
    return order[3 * second:3 * second + 3]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def pick(rng, options, p=None):
    return options[int(rng.choice(len(options), p=None if p is None else np.asarray(p) / np.sum(p)))]


def iso(d):
    return "" if d is None else d.isoformat()


def stamp(moment):
    """Kobo start/end format; Mali is on UTC all year."""
    return moment.isoformat(timespec="milliseconds") + "+00:00"


def simulate_doses(rng, access, dob, interview, cont2, cont3):
    """True vaccination history: dose -> date, following the Mali schedule with access-driven delays."""
    scale = float(np.exp(-0.45 * access))  # poorer access, longer delays

    def delay(mean):
        return timedelta(days=int(rng.gamma(1.3, mean * scale / 1.3)))

    doses = {}
    visit1 = rng.random() < sigmoid(access)
    if rng.random() < (sigmoid(access + 1.5) if visit1 else 0.3):
        doses["bcg"] = dob + delay(5)
        if rng.random() < (0.88 if doses["bcg"] - dob <= timedelta(14) else 0.3):
            doses["opv0"] = doses["bcg"]
    n_pcv = n_rota = 0
    when = None
    for k, go in enumerate([visit1, rng.random() < sigmoid(access + cont2), rng.random() < sigmoid(access + cont3)]):
        if not go:
            break
        when = dob + timedelta(42) + delay(14) if k == 0 else when + timedelta(28) + delay(12)
        if rng.random() < 0.03:  # given too early (before 6 weeks, or < 4 weeks after the last dose)
            when -= timedelta(days=int(rng.integers(4, 12))) + (delay(14) if k == 0 else delay(12))
        doses[f"penta{k + 1}"] = doses[f"opv{k + 1}"] = when
        if rng.random() > 0.03:  # occasional PCV stock-out: the series continues later
            n_pcv += 1
            doses[f"pcv{n_pcv}"] = when
        if rng.random() > 0.06:
            n_rota += 1
            doses[f"rota{n_rota}"] = when
        if k == 2 and rng.random() < 0.9:
            doses["ipv"] = when
    if rng.random() < sigmoid(access + (0.8 if "penta3" in doses else -1.2)):
        when = dob + timedelta(270) + delay(25) - timedelta(days=30 if rng.random() < 0.03 else 0)
        doses["mr1"] = when
        if rng.random() < 0.95:
            doses["yf"] = when
        if rng.random() < 0.85:
            doses["mena"] = when
        if rng.random() < sigmoid(access - 0.4):
            doses["mr2"] = dob + timedelta(456) + delay(35)
    return {d: t for d, t in doses.items() if t < interview}


def simulate_malaria(rng, access, dob, interview, district, reached):
    """True R21 history (doses 1-3): only where introduced, from max(5 months, launch), ~monthly, access-driven.

    ``reached``: the child got Penta1 (children the routine programme never reached rarely get R21)."""
    if district not in MALARIA_DISTRICTS:
        return {}
    scale = float(np.exp(-0.45 * access))
    eligible = max(dob + timedelta(150), MALARIA_START)
    catch_up = dob + timedelta(150) < MALARIA_START  # already over 5 months at launch
    doses, when = {}, None
    for k in range(3):
        if rng.random() >= sigmoid(access - (0.9 if reached else 2.5) if k == 0 else access + 0.6):
            break
        if k == 0:
            when = eligible + timedelta(days=int(rng.gamma(1.3, (35 if catch_up else 12) * scale / 1.3)))
        else:
            when = when + timedelta(30) + timedelta(days=int(rng.gamma(1.3, 8 * scale / 1.3)))
        doses[f"malaria{k + 1}"] = when
    return {d: t for d, t in doses.items() if t < interview}


def card_fields(rng, doses, seen, names=DOSES):
    """Card columns: a date when written, else a tick (yes/no); all empty when the card is not seen."""
    out = {}
    for d in names:
        date_, tick = "", ""
        if seen:
            u = rng.random()
            if d in doses and u < 0.97:
                date_ = iso(doses[d])
            elif d in doses:
                tick = "yes" if u < 0.988 else "no"
            else:
                tick = "yes" if u < 0.008 else "no"
        out[f"card/{d}_date"], out[f"card/{d}_tick"] = date_, tick
    return out


def recall_ever(rng, truth):
    """Recalled 'ever received' answer: the truth with memory error."""
    return pick(rng, ["yes", "no", "dk"], [0.85, 0.06, 0.09] if truth else [0.06, 0.80, 0.14])


def recall_count(rng, n, top):
    """Recalled number of doses (n true doses out of top): right ~70 %, else off by one or 99 (don't know)."""
    if n == 0 or rng.random() < 0.15:
        return "99" if n > 0 or rng.random() < 0.5 else str(int(rng.integers(1, top + 1)))
    return str(int(np.clip(n + pick(rng, [0, -1, 1], [0.82, 0.12, 0.06]), 1, top)))


def recall_fields(rng, doses, seen):
    """Recall answers (card not seen): the truth seen through caretaker memory."""
    keys = ["bcg", "bcg_scar", "opv_birth", "opv", "opv_count", "penta", "penta_count", "pcv", "pcv_count",
            "rota", "rota_count", "ipv", "mr", "mr_count", "yf", "mena"]
    out = {f"recall/{k}": "" for k in keys}
    if seen:
        return out

    def ever(truth):
        return recall_ever(rng, truth)

    def count(n, top):
        return recall_count(rng, n, top)

    out["recall/bcg"] = ever("bcg" in doses)
    out["recall/bcg_scar"] = (pick(rng, ["yes", "no", "not_seen"], [0.82, 0.12, 0.06]) if "bcg" in doses
                              else pick(rng, ["no", "not_seen"], [0.93, 0.07]))
    out["recall/opv_birth"] = ever("opv0" in doses)
    for k, top in [("opv", 3), ("penta", 3), ("pcv", 3), ("rota", 3), ("mr", 2)]:
        n = sum(f"{k}{i}" in doses for i in range(1, top + 1))
        out[f"recall/{k}"] = ever(n > 0)
        if out[f"recall/{k}"] == "yes":
            out[f"recall/{k}_count"] = count(n, top)
    for k in ["ipv", "yf", "mena"]:
        out[f"recall/{k}"] = ever(k in doses)
    return out


def malaria_recall_fields(rng, doses, seen):
    """Recall of the malaria vaccine (card not seen), with the same memory error as the other antigens."""
    out = {"recall/malaria": "", "recall/malaria_count": ""}
    if not seen:
        n = sum(d in doses for d in MALARIA)
        out["recall/malaria"] = recall_ever(rng, n > 0)
        if out["recall/malaria"] == "yes":
            out["recall/malaria_count"] = recall_count(rng, n, 3)
    return out


def besd_fields(rng, access, vaccinated, permission, relationship, remote):
    """BeSD answers (BeSD-TI codes) driven by one latent attitude that tracks vaccination and access."""
    lat = 0.4 * access + 1.2 * vaccinated + rng.normal(0, 0.8)

    def ordinal(cuts, shift=0.0):
        return str(1 + int(np.sum(lat + shift + rng.logistic() > np.asarray(cuts))))

    def yes(cut, shift=0.0):
        return "1" if lat + shift + rng.logistic() > cut else "0"

    out = {"besd/CHI_intent": ordinal([-3.0, -0.8]), "besd/CHI_confb": ordinal([-3.5, -2.2, -0.4]),
           "besd/CHI_confs": ordinal([-3.2, -1.6, 0.3]), "besd/CHI_confh": ordinal([-3.2, -1.8, -0.1]),
           "besd/CHI_normp": yes(-1.6), "besd/CHI_normf": yes(-2.0), "besd/CHI_normr": yes(-1.2),
           "besd/CHI_normc": yes(-1.5), "besd/CHI_rechcw": yes(-0.2, 0.8 * vaccinated), "besd/CHI_recall": yes(1.6),
           "besd/CHI_travel": "1" if rng.random() < sigmoid(permission - 0.3 * lat) else "0",
           "besd/CHI_where": yes(-2.2, 1.5 * vaccinated),
           "besd/CHI_tookc": "1" if rng.random() < (0.93 if vaccinated else 0.2) * (
               1 if relationship == "mother" else 0.6) else "0",
           "besd/CHI_avail": "1" if rng.random() < 0.08 + 0.08 * remote else "0",
           "besd/CHI_afford": ordinal([-2.2, -0.8, 1.0], -0.8 * remote),
           "besd/CHI_access": ordinal([-2.5, -1.0, 0.7], -1.2 * remote)}
    if int(out["besd/CHI_access"]) >= 3 and rng.random() < 0.85:
        lowac = ["noth"]
    else:
        w = np.array([4 + 6 * remote, 1, 1.5, 2, 1.5, 2.5, 4 * int(out["besd/CHI_travel"]), 0.7, 3, 0.3, 0.8])
        lowac = list(rng.choice(LOWAC[1:], size=int(rng.integers(1, 4)), replace=False, p=w / w.sum()))
    satis = ordinal([-3.0, -1.4, 0.4])
    if rng.random() < {"4": 0.85, "3": 0.5}.get(satis, 0.05):
        quali = ["noth"]
    else:
        w = np.array([3, 1, 3, 0.5, 0.5, 1, 1, 0.6])
        quali = list(rng.choice(QUALI[1:], size=int(rng.integers(1, 3)), replace=False, p=w / w.sum()))
    out["besd/CHI_satis"] = satis
    for item, chosen, opts, texts in [("lowac", lowac, LOWAC, LOWAC_OTHER), ("quali", quali, QUALI, QUALI_OTHER)]:
        out[f"besd/CHI_{item}"] = " ".join(o for o in opts if o in chosen)
        for o in opts:
            out[f"besd/CHI_{item}/{o}"] = "1" if o in chosen else "0"
        out[f"besd/CHI_{item}other"] = pick(rng, texts) if "else" in chosen else ""
    return out


def blank_besd(row, item):
    """Skipped or refused: the answer and anything derived from it is empty."""
    row[f"besd/{item}"] = ""
    for key in [k for k in row if k.startswith(f"besd/{item}/") or k == f"besd/{item}other"]:
        row[key] = ""


def person(rng, relationship, peul):
    sur = pick(rng, PEUL_SURNAMES if peul else SURNAMES)
    female = relationship == "mother" or (relationship in ("grandparent", "sibling", "other") and rng.random() < 0.75)
    return f"{pick(rng, F_NAMES if female else M_NAMES)} {sur}", "female" if female else "male"


def make_child(rng, cat, cl_idx, cluster, hh_no, cohort, when, age_days, re_cluster, shift=0.0):
    (cname, district, code, base, cont2, cont3, girl_gap, permission, lat0, lon0, alt0, clusters) = cat
    cl_name, area, group0 = clusters[cl_idx]
    group = group0 if rng.random() < (0.8 if group0 != "host" else 0.0) else \
        pick(rng, ["host", "migrant", "displaced"], [0.95, 0.03, 0.02])
    peul = group == "nomad" or rng.random() < 0.1
    relationship = pick(rng, ["mother", "father", "grandparent", "sibling", "other"], [0.82, 0.07, 0.07, 0.02, 0.02])
    ct_name, ct_sex = person(rng, relationship, peul)
    ct_age = {"mother": lambda: rng.normal(27, 6.5), "father": lambda: rng.normal(38, 8),
              "grandparent": lambda: rng.normal(55, 8), "sibling": lambda: rng.normal(17, 2.5),
              "other": lambda: rng.normal(35, 10)}[relationship]()
    ct_age = int(np.clip(round(ct_age), 15 if relationship != "grandparent" else 38, 80))
    edu = pick(rng, ["none", "koranic", "primary", "secondary", "higher"],
               [35, 10, 25, 22, 8] if area == "urban" else [60, 15, 17, 7, 1])
    sex = "female" if rng.random() < 0.49 else "male"
    remote = int(group in ("nomad", "island") or (area == "rural" and rng.random() < 0.3))
    access = (base + re_cluster + GROUP_EFFECT[group] + (0.3 if area == "urban" else 0.0) + EDU_EFFECT[edu]
              + (girl_gap if sex == "female" else 0.0) + rng.normal(0, 0.5)) + shift
    interview = when.date()
    dob = interview - timedelta(int(age_days))
    doses = simulate_doses(rng, access, dob, interview, cont2, cont3)
    card_ever = pick(rng, ["yes", "no", "dk"], [0.88, 0.09, 0.03] if doses else [0.12, 0.83, 0.05])
    seen = card_ever == "yes" and rng.random() < sigmoid(1.15 - 1.2 * (group == "displaced") - 0.8 * (group == "nomad"))
    reason = ""
    if card_ever == "yes" and not seen:
        reason = pick(rng, ["lost", "destroyed", "kept_elsewhere", "other"],
                      [0.55, 0.25, 0.1, 0.1] if group == "displaced" else [0.35, 0.15, 0.38, 0.12])
    father_sur = ct_name.split(" ", 1)[1] if relationship in ("father", "sibling") or rng.random() < 0.3 else \
        pick(rng, PEUL_SURNAMES if peul else SURNAMES)
    spread = 0.02 if area == "urban" else 0.12
    c_lat, c_lon = lat0 + spread * np.sin(cl_idx * 2.4), lon0 + spread * np.cos(cl_idx * 2.4)
    jitter = 0.002 if area == "urban" else 0.004
    gps = [round(c_lat + rng.normal(0, jitter), 6), round(c_lon + rng.normal(0, jitter), 6),
           round(alt0 + rng.normal(0, 8), 1), round(3 + rng.gamma(1.5, 4), 1)]
    if rng.random() < 0.015:
        gps = None
    end = when + timedelta(minutes=int(rng.integers(22, 55)), seconds=int(rng.integers(0, 60)))
    row = {"start": stamp(when), "end": stamp(end), "today": iso(interview),
           "hh/district": district, "hh/catchment": cname, "hh/cluster": cluster, "hh/cluster_name": cl_name,
           "hh/household_id": f"{cluster}-{hh_no:03d}", "hh/area": area, "hh/population_group": group,
           "hh/gps": "" if gps is None else " ".join(str(v) for v in gps)}
    for k, key in enumerate(["latitude", "longitude", "altitude", "precision"]):
        row[f"hh/_gps_{key}"] = "" if gps is None else str(gps[k])
    phone = "" if rng.random() < 0.15 else pick(rng, PHONE_PREFIXES) + f"{int(rng.integers(0, 10**6)):06d}"
    row.update({"caretaker/name": ct_name, "caretaker/phone": phone, "caretaker/sex": ct_sex,
                "caretaker/age": str(ct_age), "caretaker/relationship": relationship, "caretaker/education": edu,
                "child/child_id": f"{cluster}-{hh_no:03d}-{1 if rng.random() < 0.95 else 2}",
                "child/name": f"{pick(rng, F_NAMES if sex == 'female' else M_NAMES)} {father_sur}",
                "child/sex": sex, "child/dob": iso(dob), "child/cohort": cohort,
                "card/card_ever": card_ever, "card/card_seen": "yes" if seen else "no", "card/no_card_reason": reason})
    row.update(card_fields(rng, doses, seen))
    row.update(recall_fields(rng, doses, seen))
    malaria_rng = np.random.default_rng([MALARIA_SEED, CATCHMENTS.index(cat), cl_idx, hh_no])
    malaria = simulate_malaria(malaria_rng, access, dob, interview, district, "penta1" in doses)
    row.update(card_fields(malaria_rng, malaria, seen, MALARIA))
    row.update(malaria_recall_fields(malaria_rng, malaria, seen))
    row.update(besd_fields(rng, access, int("penta1" in doses),
                           permission + 0.5 * (area == "rural"), relationship, remote))
    for item in BESD_ITEMS:
        if rng.random() < 0.012:
            blank_besd(row, item)
    travel = row["besd/CHI_travel"] == "1"
    row["gender/decides_vaccination"] = pick(rng, ["mother", "father", "both", "grandparent", "other"],
                                             [0.08 if travel else 0.2, 0.6 if travel else 0.35, 0.2 if travel else 0.32,
                                              0.2 if relationship == "grandparent" else 0.1, 0.03])
    row["interviewer_remarks"] = ""
    truth = {"interview": interview, "dob": dob, "doses": doses, "malaria": malaria, "seen": seen, "remote": remote,
             "access": access, "shift": shift,
             "args": (cat, cl_idx, cluster, hh_no, cohort, when, re_cluster)}
    return row, truth


def build(rng, field_days=FIELD_DAYS, shifts=None, re_clusters=None, staff_round=0):
    """All unique children, in fieldwork order; returns rows and the hidden truth per row.

    A follow-up round passes its own ``field_days``, the ``shifts`` of access (logit) per catchment
    and the baseline's cluster effects (``re_clusters``: the same villages, revisited), and its
    ``staff_round`` (the interviewers' assignment, ``staff``)."""
    rows, truths = [], []
    short_cells = set(int(i) for i in rng.choice(6 * 12 * 2, size=6, replace=False))  # cells with 7 children
    cell = 0
    for cat in CATCHMENTS:
        for cl_idx in range(12):
            cluster = f"{cat[2]}-{cl_idx + 1:02d}"
            group = cat[11][cl_idx][2]
            re_cluster = rng.normal(0, 0.6) - (0.6 if group in ("nomad", "island") else 0.0)
            if re_clusters is not None:
                re_cluster = re_clusters[cluster]
            sizes = []
            for cohort in COHORTS:
                sizes += [cohort] * (PER_CELL - (cell in short_cells))
                cell += 1
            cohorts = list(rng.permutation(sizes))
            hh_numbers = sorted(int(h) for h in rng.choice(np.arange(1, 181), size=len(cohorts), replace=False))
            segments = staff(staff_round, cat, cl_idx)
            day0 = field_days[2 * cl_idx]
            clock = datetime.combine(day0, datetime.min.time()) + timedelta(hours=8, minutes=int(rng.integers(0, 40)))
            for j, (cohort, hh_no) in enumerate(zip(cohorts, hh_numbers)):
                if j == len(cohorts) // 2:  # second day in the cluster
                    clock = datetime.combine(field_days[2 * cl_idx + 1], datetime.min.time()) + timedelta(
                        hours=8, minutes=int(rng.integers(0, 40)))
                lo, hi = COHORTS[cohort]
                row, truth = make_child(rng, cat, cl_idx, cluster, hh_no, cohort, clock,
                                        rng.integers(lo, hi + 1), re_cluster, (shifts or {}).get(cat[0], 0.0))
                clock = datetime.fromisoformat(row["end"][:23]) + timedelta(minutes=int(rng.integers(5, 35)))
                row["hh/team"], row["hh/interviewer"] = TEAMS[cat[0]], segments[(hh_no - 1) // SEGMENT]
                rows.append(row)
                truths.append(truth)
    return rows, truths


def inject_problems(rng, rows, truths):
    """Break a few records on purpose so ingest, exclusions and date cleaning have something to catch."""
    problems = []
    taken = set()

    def choose(cond):
        idx = [i for i, (r, t) in enumerate(zip(rows, truths)) if i not in taken and cond(r, t)]
        i = int(rng.choice(idx))
        taken.add(i)
        return i

    def note(i, field, what):
        problems.append((rows[i]["child/child_id"], field, what))

    for cohort, age in [("18w_11m", 77), ("18w_11m", 118), ("12_23m", 748), ("12_23m", 762)]:
        i = choose(lambda r, t: r["child/cohort"] == cohort)
        old = rows[i]  # re-interview a child of that age in the same household slot
        rows[i], truths[i] = make_child(rng, *truths[i]["args"][:-1], age, truths[i]["args"][-1],
                                        truths[i]["shift"])  # a C2P child stays one
        for key in ("start", "end", "child/child_id", "hh/interviewer", "hh/team"):
            rows[i][key] = old[key]
        note(i, "child/dob", f"age {age} days at interview, outside the {cohort} window")
    i = choose(lambda r, t: True)
    rows[i]["child/dob"] = ""
    note(i, "child/dob", "missing date of birth")
    i = choose(lambda r, t: True)
    rows[i]["child/dob"] = "15/13/2024"
    note(i, "child/dob", "unparseable date of birth '15/13/2024'")
    seen_with = lambda *ds: (lambda r, t: t["seen"] and all(r[f"card/{d}_date"] for d in ds))
    for _ in range(2):
        i = choose(seen_with("penta1", "penta2"))
        r = rows[i]
        r["card/penta1_date"], r["card/penta2_date"] = r["card/penta2_date"], r["card/penta1_date"]
        note(i, "card/penta1_date, card/penta2_date", "penta2 dated before penta1 (dates swapped)")
    i = choose(seen_with("penta1", "penta2"))
    rows[i]["card/penta2_date"] = rows[i]["card/penta1_date"]
    note(i, "card/penta2_date", "penta2 on the same day as penta1")
    i = choose(seen_with("bcg"))
    rows[i]["card/bcg_date"] = iso(truths[i]["dob"] - timedelta(35))
    note(i, "card/bcg_date", "BCG dated 35 days before the date of birth")
    i = choose(seen_with("mr1"))
    rows[i]["card/mr1_date"] = iso(truths[i]["interview"] + timedelta(23))
    note(i, "card/mr1_date", "MR1 dated 23 days after the interview (appointment written in the dose box)")
    i = choose(lambda r, t: t["seen"] and any(r[f"card/{d}_date"].startswith("2025-02") for d in DOSES))
    d = next(d for d in DOSES if rows[i][f"card/{d}_date"].startswith("2025-02"))
    rows[i][f"card/{d}_date"] = "2025-02-31"
    note(i, f"card/{d}_date", "impossible date '2025-02-31'")
    i = choose(seen_with("opv0"))
    rows[i]["card/opv0_date"] = "ne sait pas"
    note(i, "card/opv0_date", "text 'ne sait pas' in a date cell")
    i = choose(lambda r, t: True)
    for item in BESD_ITEMS:
        blank_besd(rows[i], item)
    note(i, "besd/*", "caretaker refused the whole BeSD section (all BeSD answers empty)")
    return problems


def add_remarks(rng, rows):
    """Mostly empty; three rows per remark, one hostile string to test escaping in reports."""
    i = int(rng.integers(len(rows)))
    rows[i]["interviewer_remarks"] = "<script>alert(1)</script>"
    for text, col, value in REMARKS:
        fits = [k for k, r in enumerate(rows) if not r["interviewer_remarks"] and (col is None or r[col] == value)]
        for k in rng.choice(fits, size=3, replace=False):
            rows[int(k)]["interviewer_remarks"] = text
    return rows[i]["child/child_id"]


def add_duplicates(rng, rows, resent=None):
    """Re-submissions of the same child: 4 exact copies, 3 edited copies (Kobo gives each a new _uuid).

    ``resent``: the indices of the rows re-sent (a tablet sending one day's forms again), in place of
    the rows drawn (the draw is still made, so every later draw is the same)."""
    dups, notes = [], []
    drawn = [int(i) for i in rng.choice(len(rows), size=7, replace=False)]
    for k, i in enumerate(drawn if resent is None else resent):
        row = dict(rows[i])
        row["_delay"] = rows[i]["_delay"] + timedelta(seconds=int(rng.integers(20, 300)))
        kind = "exact duplicate"
        if k == 4:
            row["caretaker/age"] = str(int(row["caretaker/age"]) + 1)
            kind = "near duplicate: caretaker/age +1"
        elif k == 5:
            row["child/name"] = row["child/name"].upper()
            kind = "near duplicate: child/name re-typed in capitals"
        elif k == 6:
            row["interviewer_remarks"] = "Formulaire renvoyé : le premier envoi semblait incomplet."
            row["_delay"] += timedelta(days=2)
            kind = "near duplicate: re-sent two days later with a remark"
        if k >= 4:
            shift = timedelta(minutes=int(rng.integers(3, 15)))
            for key in ("start", "end"):
                row[key] = stamp(datetime.fromisoformat(row[key]).replace(tzinfo=None) + shift)
        dups.append(row)
        notes.append((row["child/child_id"], kind))
    return dups, notes


def finish(rng, rows):
    """Kobo metadata: submission time (same evening, or days later from remote clusters), _id, _uuid, _index."""
    for r in rows:
        r["_submission_time"] = (datetime.fromisoformat(r["end"]).replace(tzinfo=None) + r.pop("_delay")
                                 + r.pop("_early", timedelta(0))).isoformat(timespec="seconds")
    rows.sort(key=lambda r: (r["_submission_time"], r["start"]))
    next_id = 512300000
    for k, r in enumerate(rows):
        next_id += int(rng.integers(1, 40))
        r["_id"], r["_uuid"], r["_index"] = str(next_id), str(uuid.UUID(bytes=rng.bytes(16), version=4)), str(k + 1)
    return rows


def columns():
    cols = ["start", "end", "today", "hh/interviewer", "hh/team", "hh/district", "hh/catchment", "hh/cluster",
            "hh/cluster_name", "hh/household_id", "hh/area", "hh/population_group", "hh/gps", "hh/_gps_latitude",
            "hh/_gps_longitude", "hh/_gps_altitude", "hh/_gps_precision"]
    cols += [f"caretaker/{k}" for k in ["name", "phone", "sex", "age", "relationship", "education"]]
    cols += [f"child/{k}" for k in ["child_id", "name", "sex", "dob", "cohort"]]
    cols += ["card/card_ever", "card/card_seen", "card/no_card_reason"]
    cols += [f"card/{d}_{k}" for d in DOSES + MALARIA for k in ("date", "tick")]
    cols += [f"recall/{k}" for k in ["bcg", "bcg_scar", "opv_birth", "opv", "opv_count", "penta", "penta_count",
                                     "pcv", "pcv_count", "rota", "rota_count", "ipv", "mr", "mr_count", "yf", "mena",
                                     "malaria", "malaria_count"]]
    for item in BESD_ITEMS:
        cols.append(f"besd/{item}")
        if item in ("CHI_lowac", "CHI_quali"):
            cols += [f"besd/{item}/{o}" for o in (LOWAC if item == "CHI_lowac" else QUALI)]
            cols.append(f"besd/{item}other")
    return cols + ["gender/decides_vaccination", "interviewer_remarks", "_id", "_uuid", "_submission_time", "_index"]


def populations():
    rows = []
    for name, births in BIRTHS.items():
        rows.append({"catchment": name, "cohort": "18w-11m", "population": int(round(births * 0.62, -1))})
        rows.append({"catchment": name, "cohort": "12-23m", "population": int(round(births * 0.93, -1))})
    return pd.DataFrame(rows)


def write_logo(path):
    """A placeholder logo for the title page (the example has no institution's logo to show)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    figure = Figure(figsize=(1.6, 0.8), dpi=100)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.add_patch(FancyBboxPatch((0.04, 0.08), 0.92, 0.84, boxstyle="round,pad=0,rounding_size=0.12",
                                facecolor="#0072B2", edgecolor="none"))
    ax.text(0.5, 0.5, "LOGO\nexemple", ha="center", va="center", color="white", fontsize=11, fontweight="bold",
            family="DejaVu Sans", linespacing=1.1)
    figure.savefig(path, dpi=100, transparent=True, metadata={"Software": None})


# the teams' household log: codes as the form's "résultat de la visite" question numbers them
HOUSEHOLD_RESULTS = {"1": "interviewed", "2": "no_eligible_child", "3": "absent", "4": "refused", "5": "other"}
HOUSEHOLD_SEED = 20251013


def households(children, extra=()):
    """The log of every household visited: each household whose child was interviewed (code 1), and,
    from a generator of its own (the children's columns are untouched), those with no child of the
    cohorts' ages (2), absent at every visit (3), refusing (4) or not visited for another reason (5)."""
    rng = np.random.default_rng(HOUSEHOLD_SEED)
    found = children.drop_duplicates(["hh/cluster", "hh/household_id"])
    rows = []
    for (catchment, cluster), hh in found.groupby(["hh/catchment", "hh/cluster"], sort=False):
        # the households of the extra children (``extra_children``) are logged, but not drawn on: the other
        # households of every cluster are those of the log before they were added
        k = len(hh) - int(hh["hh/household_id"].isin(set(extra)).sum())
        rows += [{"aire_sante": catchment, "grappe": cluster, "menage": h, "resultat": "1"}
                 for h in hh["hh/household_id"]]
        others = ["2"] * int(rng.poisson(1.4 * k)) + ["3"] * int(rng.binomial(k, 0.07)) + \
            ["4"] * int(rng.binomial(k, 0.03)) + ["5"] * int(rng.binomial(k, 0.01))
        rows += [{"aire_sante": catchment, "grappe": cluster, "menage": f"{cluster}-V{i + 1:03d}", "resultat": code}
                 for i, code in enumerate(others)]
    return pd.DataFrame(rows)


def generate(out_dir):
    """Write mali_baseline_kobo.csv/.xlsx, populations.csv, households.csv and the placeholder logo.png
    into ``out_dir``; return a summary dict."""
    rng = np.random.default_rng(SEED)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, truths = build(rng)
    rows, planted = plant_problems(rng, rows, truths)
    rows = finish(rng, rows)
    df = pd.DataFrame(rows, columns=columns()).fillna("")
    df.to_csv(out_dir / "mali_baseline_kobo.csv", index=False, encoding="utf-8", lineterminator="\n")
    xl = df.copy()
    numeric = ["_id", "_index", "caretaker/age"] + [c for c in xl if c.startswith("hh/_gps_")] + \
        [c for c in xl if c.count("/") == 2]
    for c in numeric:
        xl[c] = pd.to_numeric(xl[c].replace("", None))
    xl.to_excel(out_dir / "mali_baseline_kobo.xlsx", index=False, sheet_name="mali_child_survey")
    populations().to_csv(out_dir / "populations.csv", index=False, lineterminator="\n")
    households(df).to_csv(out_dir / "households.csv", index=False, lineterminator="\n")
    write_logo(out_dir / "logo.png")
    return summarise(df, planted)


def plant_problems(rng, rows, truths, resend=None):
    """The demo's built-in problems, planted in every round: broken records, remarks (the <script> one
    included), submission delays and re-submissions. Returns the rows with the duplicates appended and
    what was planted. The draws come in the order the baseline first made them, so its export stays
    byte-identical.

    ``resend``: (interviewer, day, generator): the re-submissions are that interviewer's forms of that day
    (a tablet sending the day's forms again), those not broken on purpose, drawn by the generator given."""
    problems = inject_problems(rng, rows, truths)
    script_child = add_remarks(rng, rows)
    for r, t in zip(rows, truths):
        r["_delay"] = timedelta(days=int(rng.integers(1, 4)) if t["remote"] else 0,
                                minutes=int(rng.integers(90, 300)))
    resent = None
    if resend is not None:
        interviewer, day, chooser = resend
        broken = {child_id for child_id, *_ in problems}
        forms = [i for i, r in enumerate(rows) if r["hh/interviewer"] == interviewer and r["today"] == iso(day)
                 and r["child/child_id"] not in broken]
        resent = sorted(int(i) for i in chooser.choice(forms, size=7, replace=False))
    dups, dup_notes = add_duplicates(rng, rows, resent)
    return rows + dups, {"duplicates": dup_notes, "problems": problems, "script_remark": script_child}


def summarise(df, planted):
    return {"rows": len(df), "unique_children": df["child/child_id"].nunique(), **planted,
            "lots": df.drop_duplicates("child/child_id").groupby(["hh/catchment", "child/cohort"]).size()}


def print_summary(summary):
    print(f"{summary['rows']} rows, {summary['unique_children']} unique children")
    for child_id, what in summary["duplicates"]:
        print(f"  duplicate  {child_id}: {what}")
    for child_id, field, what in summary["problems"]:
        print(f"  problem    {child_id} [{field}]: {what}")
    print(f"  remark     {summary['script_remark']}: <script> in interviewer_remarks")
    print(summary["lots"].to_string())


# The follow-up round, one year later (phase 2 of the Learning Hub's implementation research): the same 72
# clusters revisited (the baseline's cluster effects), new children; access (the logit of Penta1) changed by
# SECULAR everywhere (none: the comparison areas stay as they were) and by C2P_EFFECT more where C2P
# digital coaching ran (C2P_AREAS).
FOLLOWUP_SEED = 20261012
FOLLOWUP_DAYS = [day for day in (date(2026, 10, 12) + timedelta(d) for d in range(27)) if day.weekday() < 6]
SECULAR = 0.0
C2P_AREAS = ("kologo", "pelengana_nord", "ndebougou")
C2P_EFFECT = 0.8


def zero_dose_chance(access):
    """A child's chance of no Penta1 by the interview: no first visit (simulate_doses), from its access."""
    return 1 - sigmoid(access)


def followup_build():
    """The follow-up's children before their problems are planted: the follow-up's generator (in the
    state ``plant_problems`` continues from), its rows and hidden truths, and the baseline's truths."""
    _, baseline = build(np.random.default_rng(SEED))
    re_clusters = {truth["args"][2]: truth["args"][6] for truth in baseline}
    rng = np.random.default_rng(FOLLOWUP_SEED)
    shifts = {cat[0]: SECULAR + (C2P_EFFECT if cat[0] in C2P_AREAS else 0.0) for cat in CATCHMENTS}
    rows, truths = build(rng, FOLLOWUP_DAYS, shifts, re_clusters, staff_round=1)
    return rng, rows, truths, baseline


# The demo's fieldwork problems (issue 20), planted in the follow-up only (the demo runs it), each drawn
# from a generator of its own (FIELDWORK_SEED) so that everything else is drawn as before; `lqas quality`
# flags them (../mali_followup/README.md). All three are one interviewer's, PROBLEM_INTERVIEWER (one weak
# interviewer, as supervisors meet them), so the checks by interviewer flag no one else:
# 1. a fast interviewer: in every cluster of theirs, a quarter of the cluster's interviews (4 of 16, 3 of
#    15), theirs, end 2.5 to 4.8 minutes after they started (their end timestamps only): most of theirs,
#    while their team and every cluster stay at or under the duration check's share (a quarter);
# 2. a cluster with heaped ages: in HEAPED_CLUSTER every date of birth they wrote is on the 1st or the 15th
#    of its month (the one on or before the true one, so the child is a few days older and stays in its
#    cohort). The cluster check judges a cluster from 20 children (min_n), the demo's clusters have 16: there
#    the team interviewed HEAPED_EXTRA more children of each cohort, in their segment of the listing;
# 3. a day with duplicated submissions: the round's 7 re-submissions are all forms they made on RESENT_DAY
#    (their tablet sent that day's forms again), in another cluster.
FIELDWORK_SEED = 20261023
PROBLEM_INTERVIEWER = "E04"
FAST_INTERVIEWER = HEAPED_INTERVIEWER = RESENT_INTERVIEWER = PROBLEM_INTERVIEWER
HEAPED_CLUSTER = "BGE-01"
HEAPED_EXTRA = 2
HEAPED_DAYS = (1, 15)
RESENT_DAY = date(2026, 10, 23)


def rush(rng, rows, n_children, broken):
    """The fast interviewer: a quarter of each cluster's interviews (of the children not broken on purpose,
    ``broken``: their ids), theirs, end minutes after the start. The re-submissions (``rows`` after the
    first ``n_children``) of a rushed form are its copies."""
    by_cluster, sizes = {}, {}
    for i, r in enumerate(rows[:n_children]):
        if r["child/child_id"] in broken:
            continue
        sizes[r["hh/cluster"]] = sizes.get(r["hh/cluster"], 0) + 1
        if r["hh/interviewer"] == FAST_INTERVIEWER:
            by_cluster.setdefault(r["hh/cluster"], []).append(i)
    fast = []
    for cluster in sorted(by_cluster):
        mine = by_cluster[cluster]
        for i in sorted(int(i) for i in rng.choice(mine, size=min(sizes[cluster] // 4, len(mine)), replace=False)):
            start = datetime.fromisoformat(rows[i]["start"]).replace(tzinfo=None)
            end = start + timedelta(seconds=int(rng.integers(150, 290)))
            # sent when it would have been: the submission time (and so the export's order) is kept
            rows[i]["_early"] = datetime.fromisoformat(rows[i]["end"]).replace(tzinfo=None) - end
            rows[i]["end"] = stamp(end)
            fast.append(i)
    rushed = {rows[i]["child/child_id"]: rows[i] for i in fast}
    for copy in rows[n_children:]:
        if copy["child/child_id"] in rushed:
            first = rushed[copy["child/child_id"]]
            moved = datetime.fromisoformat(copy["start"]) - datetime.fromisoformat(first["start"])
            copy["end"] = stamp(datetime.fromisoformat(first["end"]).replace(tzinfo=None) + moved)
            copy["_early"] = first["_early"]
    return fast


def extra_children(rng, rows, truths):
    """HEAPED_EXTRA more children of each cohort in HEAPED_CLUSTER, at the end of its two days: new households
    of HEAPED_INTERVIEWER's segment of the listing, drawn as every child is (``make_child``) from the
    generator given."""
    mine = [(r, t) for r, t in zip(rows, truths) if r["hh/cluster"] == HEAPED_CLUSTER]
    cat, cl_idx, cluster, _, _, _, re_cluster = mine[0][1]["args"]
    used = {t["args"][3] for _, t in mine}
    segments = staff(1, cat, cl_idx)
    segment = segments.index(HEAPED_INTERVIEWER)
    free = sorted(set(range(SEGMENT * segment + 1, SEGMENT * (segment + 1) + 1)) - used)
    numbers = sorted(int(h) for h in rng.choice(free, size=2 * HEAPED_EXTRA, replace=False))
    days = sorted({r["today"] for r, _ in mine})
    cohorts = [cohort for _ in range(HEAPED_EXTRA) for cohort in COHORTS]
    extra = []
    for k, (cohort, hh_no) in enumerate(zip(cohorts, numbers)):
        day = days[0] if k < HEAPED_EXTRA else days[1]
        last = max(datetime.fromisoformat(r["end"][:23]) for r in rows + [e for e, _ in extra] if r["today"] == day
                   and r["hh/cluster"] == cluster)
        lo, hi = COHORTS[cohort]
        row, truth = make_child(rng, cat, cl_idx, cluster, hh_no, cohort,
                                last + timedelta(minutes=int(rng.integers(5, 35))),
                                rng.integers(lo + 30, hi - 30 + 1), re_cluster, mine[0][1]["shift"])
        row["hh/team"], row["hh/interviewer"] = TEAMS[cat[0]], segments[(hh_no - 1) // SEGMENT]
        row["_delay"] = timedelta(minutes=int(rng.integers(90, 300)))
        extra.append((row, truth))
    return [e for e, _ in extra], [t for _, t in extra]


def heap(rows, broken):
    """Every date of birth HEAPED_INTERVIEWER wrote in HEAPED_CLUSTER on the 1st or the 15th of its month (the
    one on or before it), but the children broken on purpose (``broken``: their ids) and any the shift would
    take out of its cohort."""
    heaped = []
    for r in rows:
        if r["hh/cluster"] != HEAPED_CLUSTER or r["hh/interviewer"] != HEAPED_INTERVIEWER \
                or r["child/child_id"] in broken:
            continue
        dob = date.fromisoformat(r["child/dob"])
        day = max(d for d in HEAPED_DAYS if d <= dob.day)
        moved = dob.replace(day=day)
        if (date.fromisoformat(r["today"]) - moved).days <= COHORTS[r["child/cohort"]][1]:
            r["child/dob"] = iso(moved)
            heaped.append(r["child/child_id"])
    return heaped


def followup(out_dir):
    """Write the follow-up round's export, populations and household log into ``out_dir``, with the same
    kinds of problems as the baseline's; return a summary dict as ``generate`` does, whose ``c2p_effect``
    is the C2P effect built in, in points of zero-dose prevalence among the follow-up's C2P children: the
    mean over them of their chance of zero dose less that chance without C2P (the effect on the treated)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng, rows, truths, _ = followup_build()
    fieldwork = np.random.default_rng(FIELDWORK_SEED)
    n_children = len(rows)
    rows, planted = plant_problems(rng, rows, truths, (RESENT_INTERVIEWER, RESENT_DAY, fieldwork))
    broken = {child_id for child_id, *_ in planted["problems"]}
    fast = rush(fieldwork, rows, n_children, broken)
    extra, extra_truths = extra_children(fieldwork, rows[:n_children], truths)
    rows += extra
    truths = truths + extra_truths
    heaped = heap(rows[:n_children] + extra, broken)
    planted["fieldwork"] = {"fast": len(fast), "fast_of": sum(r["hh/interviewer"] == FAST_INTERVIEWER
                                                               for r in rows[:n_children]),
                            "extra": [r["child/child_id"] for r in extra], "heaped": heaped}
    rows = finish(rng, rows)
    df = pd.DataFrame(rows, columns=columns()).fillna("")
    df.to_csv(out_dir / "mali_followup_kobo.csv", index=False, encoding="utf-8", lineterminator="\n")
    populations().to_csv(out_dir / "populations.csv", index=False, lineterminator="\n")
    households(df, [r["hh/household_id"] for r in extra]).to_csv(out_dir / "households.csv", index=False,
                                                                 lineterminator="\n")
    # each child's catchment from its own truth: finish() re-sorts the rows, so rows and truths no longer pair up
    treated = [t for t in truths if t["args"][0][0] in C2P_AREAS]
    effect = float(np.mean([zero_dose_chance(t["access"]) - zero_dose_chance(t["access"] - C2P_EFFECT)
                            for t in treated]))
    return {**summarise(df, planted), "c2p_effect": effect}



# The follow-up's DHIS2 extract (issue 19): what the health information system counted in the six health
# areas, 2022-2025, for the survey-vs-admin triangulation of ../mali_followup ([admin]). Its doses follow the
# rounds' true coverage and the real births; its target population is a census extrapolation that falls short
# where births grew faster; and it carries the problems a DHIS2 extract of these areas has (README.md,
# "DHIS2 extract"). It is drawn from generators of its own (DHIS2_SEED), never from the children's.
DHIS2_SEED = 20260216
# pulled for the annual EPI review, when the reports of late 2025 were still coming in
DHIS2_EXTRACTED = date(2026, 2, 16)
DHIS2_YEARS = (2022, 2023, 2024, 2025)
# a monthly report is on time when entered by this day of the next month (the data set's "days after period
# end to qualify for timely submission")
ON_TIME_BY_DAY = 15
# the health areas' names (survey.toml's [labels.catchment]) and their facilities, with each one's share of
# the area's vaccinations
AREA_NAMES = {"bougouni_est": "Bougouni Est", "kologo": "Kologo", "pelengana_nord": "Pelengana Nord",
              "cinzana_gare": "Cinzana Gare", "niono_central": "Niono Central", "ndebougou": "N'Débougou"}
FACILITIES = {"bougouni_est": [("CSCom Dougounina", 0.62), ("CSCom Médina-Coura", 0.38)],
              "kologo": [("CSCom Kologo", 1.0)],
              "pelengana_nord": [("CSCom Pelengana", 0.62), ("CSCom Sébougou", 0.38)],
              "cinzana_gare": [("CSCom Cinzana-Gare", 1.0)],
              "niono_central": [("CSCom Niono-Coura", 0.62), ("CSCom Thiongoni", 0.38)],
              "ndebougou": [("CSCom N'Débougou", 1.0)]}
# BIRTHS are the real births of 2025; they grew this much a year (faster where towns and the displaced grew)
BIRTH_GROWTH = {"bougouni_est": 0.04, "kologo": 0.03, "pelengana_nord": 0.05, "cinzana_gare": 0.045,
                "niono_central": 0.03, "ndebougou": 0.03}
# The target population of DHIS2: the 2009 census grown at the national rate, CENSUS_GROWTH a year; in 2025 it
# is this share of the real births (too small where the area outgrew the census, about right in Kologo)
CENSUS_GROWTH = 0.03
CENSUS_SHARE_2025 = {"bougouni_est": 0.85, "kologo": 1.0, "pelengana_nord": 0.78, "cinzana_gare": 0.65,
                     "niono_central": 1.05, "ndebougou": 0.95}
# more vaccination sessions in the dry season (peak in March), fewer in the rains (trough in September)
SEASON = 0.15
# doses given at one year or older (catch-up), per dose given under one: reported, but not the cohort's
CATCH_UP = {"penta1": 0.05, "penta3": 0.06, "mr1": 0.09}
DHIS2_DOSES = {"penta1": "PEV - Penta 1 donné", "penta3": "PEV - Penta 3 donné", "mr1": "PEV - RR 1 donné"}
AGE_BANDS = ("<1 an", "≥1 an")
TARGET_ELEMENT = "Population cible < 1 an"
EPI_DATA_SET = "PEV - Rapport mensuel de vaccination"
DEFAULT_COMBO = "HllvX50cXC0"  # DHIS2's default attribute option combo: the same uid in every instance
DISTRICT_ACCOUNTS = {"bougouni": "csref_bougouni", "segou": "csref_segou", "niono": "csref_niono"}
# Insecurity in Niono Central, June 2023 to March 2024: the first CSCom's doses fall to COLLAPSE_LEVEL, the
# second CSCom closed (no report); the first one's paper reports were entered on COLLAPSE_ENTERED
COLLAPSE_FACILITIES = ("CSCom Niono-Coura", "CSCom Thiongoni")
COLLAPSE_MONTHS = [(2023, month) for month in range(6, 13)] + [(2024, month) for month in range(1, 4)]
COLLAPSE_LEVEL = 0.4
COLLAPSE_ENTERED = date(2024, 5, 21)
COLLAPSE_COMMENT = "Stratégie avancée suspendue (insécurité), CSCom de Thiongoni fermé"
# In 2022 Cinzana-Gare's CSCom entered its Penta 1 counts in the Penta 3 boxes and the other way round
SWAPPED = ("CSCom Cinzana-Gare", 2022)
# a typing error: one month's MR1 count with a 0 too many
OUTLIER = ("CSCom N'Débougou", "mr1", 2023, 3, 10)
# late and missing reports of 2025: (facility, year, month) -> the day the report was entered; None: not entered
# by DHIS2_EXTRACTED
LATE_REPORTS = {("CSCom N'Débougou", 2025, 8): date(2025, 11, 4), ("CSCom N'Débougou", 2025, 10): date(2026, 1, 27),
                ("CSCom N'Débougou", 2025, 11): None, ("CSCom N'Débougou", 2025, 12): date(2026, 2, 10),
                ("CSCom Niono-Coura", 2025, 12): date(2026, 2, 3), ("CSCom Thiongoni", 2025, 11): date(2026, 1, 12),
                ("CSCom Thiongoni", 2025, 12): None, ("CSCom Dougounina", 2025, 12): date(2026, 1, 29),
                ("CSCom Médina-Coura", 2025, 12): date(2026, 1, 22)}
REPORTING_METRICS = ("REPORTING_RATE", "REPORTING_RATE_ON_TIME", "ACTUAL_REPORTS", "ACTUAL_REPORTS_ON_TIME",
                     "EXPECTED_REPORTS")


def births(catchment, year):
    """The real births of a health area in a year."""
    return BIRTHS[catchment] * (1 + BIRTH_GROWTH[catchment]) ** (year - 2025)


def census_target(catchment, year):
    """DHIS2's target population of a health area in a year: the census extrapolation."""
    return CENSUS_SHARE_2025[catchment] * BIRTHS[catchment] * (1 + CENSUS_GROWTH) ** (year - 2025)


def expected_coverage(truths):
    """Each catchment's coverage of Penta1, Penta3 and MR1 among a round's 12-23-month children: each child's
    chance of the dose from its access (as ``simulate_doses`` draws it), averaged over the children."""
    rows = []
    for truth in truths:
        cat, cohort = truth["args"][0], truth["args"][4]
        if cohort != "12_23m":
            continue
        access, cont2, cont3 = truth["access"], cat[4], cat[5]
        penta1 = sigmoid(access)
        penta3 = penta1 * sigmoid(access + cont2) * sigmoid(access + cont3)
        mr1 = penta3 * sigmoid(access + 0.8) + (1 - penta3) * sigmoid(access - 1.2)
        rows.append({"catchment": cat[0], "penta1": penta1, "penta3": penta3, "mr1": mr1})
    return pd.DataFrame(rows).groupby("catchment").mean()


def true_coverage():
    """The coverage DHIS2's doses follow, by year: the baseline's 12-23-month children's for 2022-2024 (their
    Penta1 fell due in 2024, and nothing changed before), the follow-up's for 2025 (theirs fell due in 2025)."""
    _, _, truths, baseline = followup_build()
    before, after = expected_coverage(baseline), expected_coverage(truths)
    return {year: after if year >= 2025 else before for year in DHIS2_YEARS}


def dhis2_uid(rng):
    """A DHIS2-style uid: a letter, then ten letters or digits."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    characters = letters + "0123456789"
    return letters[int(rng.integers(len(letters)))] + "".join(characters[int(i)]
                                                              for i in rng.integers(len(characters), size=10))


def dhis2_uids():
    """The extract's made-up uids, drawn in a fixed order from their own generator."""
    rng = np.random.default_rng([DHIS2_SEED, 0])
    uids = {("dose", dose): dhis2_uid(rng) for dose in DHIS2_DOSES}
    uids |= {("band", band): dhis2_uid(rng) for band in AGE_BANDS}
    uids[("target", TARGET_ELEMENT)] = dhis2_uid(rng)
    uids[("data_set", EPI_DATA_SET)] = dhis2_uid(rng)
    for cat in CATCHMENTS:
        uids[("area", cat[0])] = dhis2_uid(rng)
        for name, _ in FACILITIES[cat[0]]:
            uids[("facility", name)] = dhis2_uid(rng)
    return uids


def office_hours(rng):
    """The time of day of a data entry, as DHIS2's lastupdated writes it after the date."""
    return f"T{int(rng.integers(8, 18)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}.000"


def next_month(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def monthly_doses(coverage):
    """Each facility's monthly reports: the doses by dose and age band, and when the report was entered
    (None: not by the extraction); the planted problems included."""
    rng = np.random.default_rng([DHIS2_SEED, 1])
    reports = []
    for cat in CATCHMENTS:
        catchment, district = cat[0], cat[1]
        for name, share in FACILITIES[catchment]:
            for year in DHIS2_YEARS:
                cover = coverage[year].loc[catchment]
                for month in range(1, 13):
                    season = 1 + SEASON * np.cos(2 * np.pi * (month - 3) / 12)
                    expected = births(catchment, year) / 12 * season * share
                    collapsed = catchment == "niono_central" and (year, month) in COLLAPSE_MONTHS
                    if collapsed:
                        expected *= COLLAPSE_LEVEL
                    penta1 = int(rng.poisson(expected * cover["penta1"]))
                    # a child's Penta3 follows its Penta1: no dropout below zero but the one planted
                    penta3 = int(rng.binomial(penta1, cover["penta3"] / cover["penta1"]))
                    under_one = {"penta1": penta1, "penta3": penta3, "mr1": int(rng.poisson(expected * cover["mr1"]))}
                    older = {dose: int(rng.poisson(expected * cover[dose] * CATCH_UP[dose])) for dose in DHIS2_DOSES}
                    next_year, following = next_month(year, month)
                    entered = date(next_year, following, int(rng.integers(1, ON_TIME_BY_DAY + 1)))
                    clock = office_hours(rng)
                    comment = ""
                    if collapsed:
                        closed = name == COLLAPSE_FACILITIES[1]
                        entered, comment = (None, "") if closed else (COLLAPSE_ENTERED, COLLAPSE_COMMENT)
                    if (name, year, month) in LATE_REPORTS:
                        entered = LATE_REPORTS[(name, year, month)]
                    if (name, year) == SWAPPED:
                        for band in (under_one, older):
                            band["penta1"], band["penta3"] = band["penta3"], band["penta1"]
                    if (name, year, month) == (OUTLIER[0], *OUTLIER[2:4]):
                        under_one[OUTLIER[1]] *= OUTLIER[4]
                    reports.append({"catchment": catchment, "district": district, "facility": name, "year": year,
                                    "month": month, "entered": entered, "comment": comment,
                                    "lastupdated": None if entered is None else entered.isoformat() + clock,
                                    "doses": {AGE_BANDS[0]: under_one, AGE_BANDS[1]: older}})
    return reports


def on_time(report):
    year, month = next_month(report["year"], report["month"])
    return report["entered"] is not None and report["entered"] <= date(year, month, ON_TIME_BY_DAY)


def data_value_sets(reports, uids):
    """The dataValueSets CSV (DHIS2's 11 columns) of the reports entered by the extraction; DHIS2 stores no zero."""
    rows = []
    for report in reports:
        if report["entered"] is None or report["entered"] > DHIS2_EXTRACTED:
            continue
        for dose in DHIS2_DOSES:
            for band in AGE_BANDS:
                value = report["doses"][band][dose]
                if value == 0:
                    continue
                rows.append({"dataelement": uids[("dose", dose)], "period": f"{report['year']}{report['month']:02d}",
                             "orgunit": uids[("facility", report["facility"])],
                             "categoryoptioncombo": uids[("band", band)], "attributeoptioncombo": DEFAULT_COMBO,
                             "value": str(value), "storedby": DISTRICT_ACCOUNTS[report["district"]],
                             "lastupdated": report["lastupdated"],
                             "comment": report["comment"] if dose == "penta1" and band == AGE_BANDS[0] else "",
                             "followup": "false", "deleted": "false"})
    return pd.DataFrame(rows)


def reporting_rows(reports, uids):
    """The EPI data set's reporting metrics by health area and quarter, as DHIS2's analytics count them:
    every facility is expected to report every month, closed or not."""
    expected_by_area = {cat[0]: len(FACILITIES[cat[0]]) for cat in CATCHMENTS}
    received = {}
    for report in reports:
        key = (report["catchment"], f"{report['year']}Q{(report['month'] + 2) // 3}")
        actual = report["entered"] is not None and report["entered"] <= DHIS2_EXTRACTED
        counts = received.setdefault(key, [0, 0])
        counts[0] += actual
        counts[1] += actual and on_time(report)
    data_set = uids[("data_set", EPI_DATA_SET)]
    rows = []
    for cat in CATCHMENTS:
        for year in DHIS2_YEARS:
            for quarter in range(1, 5):
                period = f"{year}Q{quarter}"
                actual, timely = received.get((cat[0], period), (0, 0))
                expected = 3 * expected_by_area[cat[0]]
                values = {"REPORTING_RATE": round(100 * actual / expected, 1),
                          "REPORTING_RATE_ON_TIME": round(100 * timely / expected, 1),
                          "ACTUAL_REPORTS": float(actual), "ACTUAL_REPORTS_ON_TIME": float(timely),
                          "EXPECTED_REPORTS": float(expected)}
                rows += [[f"{data_set}.{metric}", period, uids[("area", cat[0])], str(values[metric])]
                         for metric in REPORTING_METRICS]
    return rows


def analytics_response(reports, uids):
    """The analytics JSON: the target population by health area and year, and the reporting metrics by
    quarter (the rows of the two queries, in one response)."""
    target = uids[("target", TARGET_ELEMENT)]
    rows = [[target, str(year), uids[("area", cat[0])], str(float(round(census_target(cat[0], year))))]
            for cat in CATCHMENTS for year in DHIS2_YEARS]
    rows += reporting_rows(reports, uids)
    data_set = uids[("data_set", EPI_DATA_SET)]
    periods = [str(year) for year in DHIS2_YEARS] + [f"{year}Q{q}" for year in DHIS2_YEARS for q in range(1, 5)]
    items = {target: {"name": TARGET_ELEMENT}, data_set: {"name": EPI_DATA_SET}}
    items |= {f"{data_set}.{metric}": {"name": f"{EPI_DATA_SET} - {metric.replace('_', ' ').capitalize()}"}
              for metric in REPORTING_METRICS}
    items |= {uids[("area", cat[0])]: {"name": f"Aire de santé {AREA_NAMES[cat[0]]}"} for cat in CATCHMENTS}
    quarters = ["January - March", "April - June", "July - September", "October - December"]
    items |= {str(year): {"name": str(year)} for year in DHIS2_YEARS}
    items |= {f"{year}Q{q + 1}": {"name": f"{months} {year}"} for year in DHIS2_YEARS
              for q, months in enumerate(quarters)}
    header = [("dx", "Data", "TEXT", "java.lang.String", True), ("pe", "Period", "TEXT", "java.lang.String", True),
              ("ou", "Organisation unit", "TEXT", "java.lang.String", True),
              ("value", "Value", "NUMBER", "java.lang.Double", False)]
    return {"headers": [{"name": name, "column": column, "valueType": kind, "type": java, "hidden": False,
                         "meta": meta} for name, column, kind, java, meta in header],
            "metaData": {"items": items,
                         "dimensions": {"dx": [target] + [f"{data_set}.{metric}" for metric in REPORTING_METRICS],
                                        "pe": periods, "ou": [uids[("area", cat[0])] for cat in CATCHMENTS],
                                        "co": []}},
            "rowContext": {}, "rows": rows, "height": len(rows), "width": 4, "headerWidth": 4}


def mapping_text(uids):
    """The [admin] mapping file of the extract (lqas.config.admin.AdminMapping), commented with the names."""
    def listed(uid, name):
        return f'["{uid}"]  # {name}'

    lines = ["# Mapping of the SYNTHETIC DHIS2 extract (data/dhis2/) to the follow-up survey, written with the",
             "# extract by ../mali_baseline/generate.py: the uids are made up, no real DHIS2 holds them.", "",
             "# the EPI monthly report's data set, whose reporting rates the completeness checks read",
             f"reporting = {listed(uids[('data_set', EPI_DATA_SET)], EPI_DATA_SET)}", "",
             "# each dose of the schedule counted by its data element's under-one band: the doses given at one year",
             "# or older (catch-up) were not given to the surveyed cohort when it was due them (admin_unused.csv",
             "# counts them). The report lists the doses in this order."]
    for dose in ("penta1", "penta3", "mr1"):
        lines += [f"[doses.{dose}]", f"data_elements = {listed(uids[('dose', dose)], DHIS2_DOSES[dose])}",
                  f"category_option_combos = {listed(uids[('band', AGE_BANDS[0])], AGE_BANDS[0])}", ""]
    lines += ["# the census extrapolation DHIS2 divides by, yearly by health area",
              "[target]", f"data_elements = {listed(uids[('target', TARGET_ELEMENT)], TARGET_ELEMENT)}", "",
              "# each health area (the target and the reporting rates) and its facilities (the doses) to its catchment",
              "[org_units]"]
    for cat in CATCHMENTS:
        lines.append(f'{uids[("area", cat[0])]} = "{cat[0]}"  # Aire de santé {AREA_NAMES[cat[0]]}')
        lines += [f'{uids[("facility", name)]} = "{cat[0]}"  # {name}' for name, _ in FACILITIES[cat[0]]]
    return "\n".join(lines) + "\n"


def dhis2_extract(out_dir, mapping_path):
    """Write the follow-up's DHIS2 extract into ``out_dir`` (``datavaluesets.csv``, ``analytics.json``) and
    its mapping file to ``mapping_path``. Returns a summary dict: the number of data values and of missing
    reports, and each health area's yearly admin Penta1 coverage."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    uids = dhis2_uids()
    reports = monthly_doses(true_coverage())
    values = data_value_sets(reports, uids)
    values.to_csv(out_dir / "datavaluesets.csv", index=False, encoding="utf-8", lineterminator="\n")
    response = analytics_response(reports, uids)
    (out_dir / "analytics.json").write_text(json.dumps(response, ensure_ascii=False, indent=1) + "\n",
                                            encoding="utf-8")
    Path(mapping_path).write_text(mapping_text(uids), encoding="utf-8")
    penta1 = pd.DataFrame([{"catchment": r["catchment"], "year": r["year"],
                            "doses": r["doses"][AGE_BANDS[0]]["penta1"]}
                           for r in reports if r["entered"] is not None and r["entered"] <= DHIS2_EXTRACTED])
    yearly = penta1.groupby(["catchment", "year"])["doses"].sum().unstack()
    targets = pd.DataFrame({year: {cat[0]: round(census_target(cat[0], year)) for cat in CATCHMENTS}
                            for year in DHIS2_YEARS})
    return {"rows": len(values), "penta1_admin_coverage": yearly / targets,
            "missing_reports": sum(r["entered"] is None for r in reports)}


# The health areas of the three districts, for the small-area model (issue 22): the six the surveys sample and
# the others, which no survey visits, with their boundaries and the covariates a Fay-Herriot model borrows
# strength through; and each area's true zero-dose prevalence in the follow-up round, which the tests hold the
# model's estimates to. All drawn from generators of their own (AREAS_SEED), never from the children's or the
# extract's: every other file is what it was before the areas were added.
AREAS_SEED = 20261116
# each district a rectangle of about 0.6 x 0.5 degrees around its sampled health areas, cut into a grid of
# cells: (west longitude, south latitude, columns, rows, cell width, cell height), in degrees. The corners are
# placed so that each sampled area's centre (CATCHMENTS) lies in a cell of its own, 0.29 of a cell or more
# from its sides: the jitter (AREA_JITTER) never moves a side by more than a quarter of a cell.
AREA_GRIDS = {"bougouni": (-7.915, 11.133, 5, 3, 0.12, 0.5 / 3),
              "segou": (-6.469, 13.029, 4, 3, 0.15, 0.5 / 3),
              "niono": (-6.383, 13.974, 4, 3, 0.15, 0.5 / 3)}
# the grid's corners move by up to this share of a cell along each axis, the midpoints of its sides across
# them: the cells stay simple quadrilaterals (octagons with their midpoints) that share their sides
AREA_JITTER = (0.15, 0.10)
# the health areas no survey samples, (code, name), in the order they fill a district's cells; the first one
# of Bougouni and of Ségou is the town's other half, in the cell west of the town's (AREA_TOWNS)
UNSAMPLED_AREAS = {
    "bougouni": [("bougouni_ouest", "Bougouni Ouest"), ("manankoro", "Manankoro"), ("sanso", "Sanso"),
                 ("garalo", "Garalo"), ("koumantou", "Koumantou"), ("dogo", "Dogo"), ("domba", "Domba"),
                 ("meridiela", "Méridiéla"), ("sibirila", "Sibirila"), ("defina", "Défina"), ("kokele", "Kokélé"),
                 ("yinindougou", "Yinindougou"), ("degnekoro", "Dégnékoro")],
    "segou": [("segou_centre", "Ségou Centre"), ("markala", "Markala"), ("sansanding", "Sansanding"),
              ("soignebougou", "Soignébougou"), ("sakoiba", "Sakoïba"), ("farakou_massa", "Farakou Massa"),
              ("diedougou", "Diédougou"), ("fatine", "Fatiné"), ("dougabougou", "Dougabougou"),
              ("samine", "Saminé")],
    "niono": [("nampalari", "Nampalari"), ("diabaly", "Diabaly"), ("sokolo", "Sokolo"), ("siribala", "Siribala"),
              ("molodo", "Molodo"), ("pogo", "Pogo"), ("mariko", "Mariko"), ("kala_siguida", "Kala-Siguida"),
              ("toridaga_ko", "Toridaga-Ko"), ("sirifila_boundy", "Sirifila-Boundy")]}
AREA_TOWNS = ("bougouni_ouest", "segou_centre")
# two unsampled pockets of zero-dose children, each in the cell of its district farthest from the health
# centre, with this true prevalence; their covariates follow it (a low admin Penta 1, far away)
AREA_HOTSPOTS = ("manankoro", "nampalari")
HOTSPOT_ZERO_DOSE = {"manankoro": 0.34, "nampalari": 0.38}
# The covariate model, the same for every area, sampled or not: on the logit of the area's true zero-dose
# prevalence (ZD),  logit(ZD) = ZD_INTERCEPT - ZD_ADMIN * admin_penta1 + ZD_DISTANCE * distance_km + e,
# e ~ N(0, ZD_NOISE^2), linear in admin_penta1 itself (a coverage above 100 % has no logit). An unsampled area
# draws its admin coverage, ADMIN_LEVEL - ADMIN_DISTANCE * distance_km + N(0, ADMIN_SD^2), and gets its ZD from
# the law; a sampled area has its ZD (the follow-up's children's), so its admin coverage is what the law gives
# it with its own e; a hotspot has its ZD and no e. urban_share plays no part of its own (it follows distance).
ZD_INTERCEPT, ZD_ADMIN, ZD_DISTANCE, ZD_NOISE = 6.15, 10.0, 0.015, 0.25
ADMIN_LEVEL, ADMIN_DISTANCE, ADMIN_SD = 0.945, 0.0008, 0.03
# road distance to the district health centre (the town's sampled area's centre): the straight line from the
# area's centre (a town's other half: 2 km, the town's edge) times this, plus 1-4 km within the area
ROAD_FACTOR = 1.3
AREA_COLUMNS = ["area", "name", "district", "population_12_23m", "admin_penta1", "distance_km", "urban_share"]


def logit(p):
    return float(np.log(p / (1 - p)))


def km_between(lat1, lon1, lat2, lon2):
    """Great-circle distance in km."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    cos = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return float(6371.0 * np.arccos(min(1.0, cos)))


def inside(lon, lat, ring):
    """Whether the point lies inside the closed ring (ray casting)."""
    hit = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def district_cells(district):
    """A district's grid of jittered cells: {(column, row): closed ring of [lon, lat]}, counter-clockwise,
    rounded to 4 decimals; neighbouring cells share their corners and the midpoints of their sides."""
    west, south, columns, rows, width, height = AREA_GRIDS[district]
    corner, middle = AREA_JITTER
    rng = np.random.default_rng([AREAS_SEED, 0, DISTRICTS.index(district)])
    corners = {}
    for j in range(rows + 1):
        for i in range(columns + 1):
            corners[i, j] = (west + width * (i + rng.uniform(-corner, corner)),
                             south + height * (j + rng.uniform(-corner, corner)))
    across = {}  # the midpoint of the bottom side of cell (i, j) (its top side is (i, j + 1)'s), moved up or down
    for j in range(rows + 1):
        for i in range(columns):
            (x1, y1), (x2, y2) = corners[i, j], corners[i + 1, j]
            across[i, j] = ((x1 + x2) / 2, (y1 + y2) / 2 + height * rng.uniform(-middle, middle))
    up = {}  # the midpoint of the left side of cell (i, j) (its right side is (i + 1, j)'s), moved left or right
    for j in range(rows):
        for i in range(columns + 1):
            (x1, y1), (x2, y2) = corners[i, j], corners[i, j + 1]
            up[i, j] = ((x1 + x2) / 2 + width * rng.uniform(-middle, middle), (y1 + y2) / 2)

    def point(xy):
        return [round(xy[0], 4), round(xy[1], 4)]

    return {(i, j): [point(p) for p in (corners[i, j], across[i, j], corners[i + 1, j], up[i + 1, j],
                                        corners[i + 1, j + 1], across[i, j + 1], corners[i, j + 1], up[i, j],
                                        corners[i, j])]
            for j in range(rows) for i in range(columns)}


def sampled_zero_dose():
    """The sampled areas' true zero-dose prevalence in the follow-up round: the follow-up's 12-23-month
    children's mean chance of no Penta 1 (``zero_dose_chance`` of each one's access, as ``expected_coverage``)."""
    _, _, truths, _ = followup_build()
    return (1 - expected_coverage(truths)["penta1"]).to_dict()


def health_areas(sampled=None):
    """Every health area of the three districts, district by district (DISTRICTS) and by code in each: the
    columns of areas.csv (AREA_COLUMNS), the true ``zero_dose``, the area's ``ring`` and ``kind``
    (sampled, town, hotspot or other). ``sampled``: the sampled areas' zero-dose (``sampled_zero_dose()``)."""
    sampled = sampled_zero_dose() if sampled is None else sampled
    lots = populations()
    population = dict(zip(lots.loc[lots["cohort"] == "12-23m", "catchment"],
                          lots.loc[lots["cohort"] == "12-23m", "population"]))
    rows = []
    for k, district in enumerate(DISTRICTS):
        cats = [cat for cat in CATCHMENTS if cat[1] == district]
        lat0, lon0 = cats[0][8], cats[0][9]  # the district health centre, in the town
        cells = district_cells(district)
        _, _, columns, n_rows, _, _ = AREA_GRIDS[district]
        order = [(i, j) for j in reversed(range(n_rows)) for i in range(columns)]  # north-west first
        where = {}
        for cat in cats:
            found = [cell for cell in order if inside(cat[9], cat[8], cells[cell])]
            assert len(found) == 1 and found[0] not in where.values(), (cat[0], found)
            where[cat[0]] = found[0]
        # the straight line from each cell's centre (the mean of its vertices) to the health centre, km
        straight = {cell: km_between(lat0, lon0, float(np.mean([p[1] for p in cells[cell][:-1]])),
                                     float(np.mean([p[0] for p in cells[cell][:-1]]))) for cell in order}

        free = [cell for cell in order if cell not in where.values()]
        codes = [code for code, _ in UNSAMPLED_AREAS[district]]
        assert len(codes) == len(free), district
        west_of_town = (where[cats[0][0]][0] - 1, where[cats[0][0]][1])
        for code in codes:  # the towns west of the centre's cell, the hotspots farthest from the centre
            if code in AREA_TOWNS:
                where[code] = west_of_town if west_of_town in free else min(free, key=straight.get)
            elif code in AREA_HOTSPOTS:
                where[code] = max(free, key=straight.get)
            else:
                continue
            free.remove(where[code])
        for code in codes:
            if code not in where:
                where[code] = free.pop(0)
        names = dict(UNSAMPLED_AREAS[district]) | {cat[0]: AREA_NAMES[cat[0]] for cat in cats}
        at_cell = {cell: code for code, cell in where.items()}
        for cell in order:
            code = at_cell[cell]
            cat = next((c for c in cats if c[0] == code), None)
            kind = "sampled" if cat else "town" if code in AREA_TOWNS else "hotspot" if code in AREA_HOTSPOTS \
                else "other"
            rng = np.random.default_rng([AREAS_SEED, 1, k, order.index(cell)])
            within, z_urban, z_population, z_admin = rng.uniform(1, 4), rng.normal(), rng.normal(), rng.normal()
            e = rng.normal(0, ZD_NOISE)
            # from the area's centre (the sampled: its own, CATCHMENTS'); a town's other half from the town's edge
            km = km_between(lat0, lon0, cat[8], cat[9]) if cat else 2.0 if kind == "town" else straight[cell]
            distance = round(ROAD_FACTOR * km + within, 1)
            if kind == "sampled":
                urban = sum(cl[1] == "urban" for cl in cat[11]) / len(cat[11])
                people = int(population[code])
                zero = sampled[code]
                admin = (ZD_INTERCEPT + ZD_DISTANCE * distance + e - logit(zero)) / ZD_ADMIN
            elif kind == "hotspot":
                urban = float(np.clip(0.35 * np.exp(-distance / 20) + 0.05 * z_urban, 0, 1))
                people = int(round(float(np.clip(900 * np.exp(0.4 * z_population), 400, 3000)), -1))
                zero, e = HOTSPOT_ZERO_DOSE[code], 0.0
                admin = (ZD_INTERCEPT + ZD_DISTANCE * distance - logit(zero)) / ZD_ADMIN
            else:
                if kind == "town":
                    urban = 0.7 + 0.05 * z_urban
                    people = int(round(2200 * np.exp(0.15 * z_population), -1))
                else:
                    urban = float(np.clip(0.35 * np.exp(-distance / 20) + 0.05 * z_urban, 0, 1))
                    people = int(round(float(np.clip(900 * np.exp(0.4 * z_population), 400, 3000)), -1))
                admin = round(ADMIN_LEVEL - ADMIN_DISTANCE * distance + ADMIN_SD * z_admin, 3)
                zero = float(sigmoid(ZD_INTERCEPT - ZD_ADMIN * admin + ZD_DISTANCE * distance + e))
            rows.append({"area": code, "name": names[code], "district": district, "population_12_23m": people,
                         "admin_penta1": round(float(admin), 3), "distance_km": distance,
                         "urban_share": round(float(urban), 3), "zero_dose": float(zero), "kind": kind,
                         "ring": cells[cell]})
    areas = pd.DataFrame(rows)
    areas["rank"] = areas["district"].map(DISTRICTS.index)
    return areas.sort_values(["rank", "area"]).drop(columns="rank").reset_index(drop=True)


def small_area_truth():
    """Each health area's true zero-dose prevalence in the follow-up round (children 12-23 months with no
    Penta 1): ``area``, ``district``, ``zero_dose``, the numbers areas.csv's covariates were drawn with."""
    return health_areas()[["area", "district", "zero_dose"]].reset_index(drop=True)


def areas_geojson(areas):
    """The areas' boundaries as a GeoJSON FeatureCollection, one feature a line."""
    features = [{"type": "Feature", "properties": {"area": a.area, "name": a.name, "district": a.district},
                 "geometry": {"type": "Polygon", "coordinates": [a.ring]}} for a in areas.itertuples()]
    return ('{"type": "FeatureCollection", "features": [\n'
            + ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features) + "\n]}\n")


def small_areas(out_dir, sampled=None):
    """Write ``areas.csv`` (AREA_COLUMNS) and ``areas.geojson`` into ``out_dir``: every health area of the
    three districts, sampled or not. Returns ``health_areas()`` (the true zero-dose included)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    areas = health_areas(sampled)
    areas[AREA_COLUMNS].to_csv(out_dir / "areas.csv", index=False, encoding="utf-8", lineterminator="\n")
    (out_dir / "areas.geojson").write_text(areas_geojson(areas), encoding="utf-8")
    return areas


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    print("baseline round:")
    print_summary(generate(here / "data"))
    summary = followup(here.parent / "mali_followup" / "data")
    print("follow-up round:")
    print_summary(summary)
    print(f"C2P effect built in, {100 * summary['c2p_effect']:+.1f} points of zero-dose prevalence")
    fieldwork = summary["fieldwork"]
    print(f"fieldwork problems of {PROBLEM_INTERVIEWER}: {fieldwork['fast']} interviews under 5 minutes; dates of "
          f"birth heaped in {HEAPED_CLUSTER}: {', '.join(fieldwork['heaped'])} (extra children: "
          f"{', '.join(fieldwork['extra'])}); re-submissions all of {RESENT_DAY.isoformat()}")
    followup_dir = here.parent / "mali_followup"
    extract = dhis2_extract(followup_dir / "data" / "dhis2", followup_dir / "dhis2_mapping.toml")
    print(f"DHIS2 extract: {extract['rows']} data values, {extract['missing_reports']} monthly reports missing")
    print("admin Penta1 coverage (doses < 1 year / census target):")
    print((100 * extract["penta1_admin_coverage"]).round(1).to_string())
    areas = small_areas(followup_dir / "data" / "areas")
    print(f"health areas for the small-area model: {len(areas)}, {int((areas['kind'] == 'sampled').sum())} sampled; "
          "true zero-dose prevalence (%):")
    tags = {"sampled": " (sampled)", "hotspot": " (hotspot)"}
    for district, rows in areas.groupby("district", sort=False):
        print(f"  {district}: " + ", ".join(f"{r.area} {100 * r.zero_dose:.1f}{tags.get(r.kind, '')}"
                                            for r in rows.itertuples()))

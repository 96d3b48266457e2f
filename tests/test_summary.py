"""The executive summary: the sentences it writes about known results, and the demo's first pages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lqas.config.priorities import load_priorities
from lqas.context import _girls_worse
from lqas.sections.summary import headline
from lqas.sections.words import Words

REPO = Path(__file__).resolve().parents[1]


def words(lang: str) -> Words:
    labels = {"catchment": {"a": "Area A", "b": "Area B", "c": "Area C"},
              "cohort": {"12-23m": "12–23 months" if lang == "en" else "12–23 mois"},
              "indicator": {"zero_dose": "Zero-dose" if lang == "en" else "Zéro dose"},
              "header": {"catchment": "Catchment area"}, "chart": {}}
    return Words({"lang": lang, "labels": labels, "small_cell_n": 25, "methods": {}, "units": None})


def comparison(catchment: str, girls: float, boys: float, p: float) -> dict:
    return {"indicator": "zero_dose", "cohort": "12-23m", "catchment": catchment, "group_a": "F", "group_b": "M",
            "estimate_a": girls, "estimate_b": boys, "difference": girls - boys,
            "disadvantaged": "F" if girls > boys else "M", "p_value": p}


# three lots where girls have more zero-dose children than boys: significant in A, not in B; in C boys
# are significantly worse off
COMPARISONS = pd.DataFrame([comparison("a", 0.40, 0.20, 0.012), comparison("b", 0.30, 0.22, 0.20),
                            comparison("c", 0.10, 0.30, 0.004)])


@pytest.fixture(scope="module")
def girls():
    return _girls_worse(COMPARISONS, load_priorities().conditions["girls_disadvantaged"])


def test_only_the_significant_girls_gap_is_counted_and_named(girls):
    assert girls["compared"] == 3
    assert [lot["catchment"] for lot in girls["lots"]] == ["a"]
    sentence = headline({"kind": "girls", **girls}, words("en"))
    assert "in 1 of the 3 lots compared" in sentence
    assert "Area A, 12–23 months (Zero-dose: girls 40.0%, boys 20.0%; p = 0.012)" in sentence
    assert "Area B" not in sentence and "Area C" not in sentence  # not significant; boys worse off


def test_no_significant_girls_gap_is_said_so():
    none = _girls_worse(COMPARISONS.iloc[1:], load_priorities().conditions["girls_disadvantaged"])
    sentence = headline({"kind": "girls", **none}, words("fr"))
    assert sentence.startswith("Filles et garçons : dans aucun des 2 lots comparés")
    assert "p < 0,05" in sentence


def test_the_area_with_the_most_zero_dose_children_and_the_one_with_the_highest_prevalence():
    most = {"kind": "most",
            "by_number": {"catchment": "b", "children": {"estimate": 572.2}, "prevalence": {"estimate": 0.157}},
            "by_prevalence": {"catchment": "a", "children": {"estimate": 324.4}, "prevalence": {"estimate": 0.225}}}
    sentence = headline(most, words("en"))
    assert sentence.startswith("Area B has the most zero-dose children (about 570, 15.7% of its children); "
                               "Area A has the highest prevalence (22.5%, about 320 children).")
    same = {**most, "by_prevalence": most["by_number"]}
    assert headline(same, words("fr")).startswith(
        "Area B compte à la fois le plus d'enfants zéro dose (environ 570) et la prévalence zéro dose la plus élevée")


def test_lqas_headline_says_lots_to_improve_never_reaching_the_target():
    h = {"kind": "lqas", "indicator": "zero_dose", "lots": 12, "below": 7, "good": 0.10, "areas": ["a", "b"]}
    assert headline(h, words("en")) == ("LQAS: 7 of 12 lots (catchment area and cohort) are to improve for zero-dose "
                                        "(target: at most 10%), in Area A, Area B.")
    passed = headline({**h, "below": 0, "areas": []}, words("en"))
    assert "acceptable" in passed and "may still miss the target" in passed and "reach" not in passed


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("summary") / "run"
    subprocess.run([str(Path(sys.executable).parent / "lqas"), "demo", "--out", str(out), "--lang", "fr"],
                   check=True, capture_output=True)
    return out


def test_demo_report_opens_with_the_summary_and_its_numbers(demo_run):
    context = json.loads((demo_run / "report_context.json").read_text(encoding="utf-8"))
    summary = context["summary"]
    numbers = pd.read_csv(demo_run / "children_numbers.csv")
    national = numbers[(numbers["unit_level"] == "national") & (numbers["cohort"] == "all")
                       & (numbers["indicator"] == "zero_dose")].iloc[0]
    first = summary["headlines"][0]
    assert first["kind"] == "prevalence" and first["children"]["estimate"] == pytest.approx(national["children"])
    priorities = pd.read_csv(demo_run / "priorities.csv")
    assert [row["catchment"] for row in summary["priority"]["rows"]] == priorities["catchment"].tolist()
    # the summary opens the report: on the page after the front matter (title, contents, acronyms), and runs
    # over the next
    pages = subprocess.run(["pdftotext", "-layout", str(demo_run / "report.pdf"), "-"], check=True,
                           capture_output=True, text=True).stdout.split("\f")
    acronyms = next(i for i, page in enumerate(pages) if "Sigles et abréviations" in page)
    text = "\n".join(pages[acronyms + 1:acronyms + 3])
    assert text.lstrip().splitlines()[0].rstrip().endswith("Résumé exécutif")  # the running header
    assert text.index("Résumé exécutif") < text.index("Aires prioritaires") < text.index("Recommandations à valider")
    # the national number, rounded to ten as the report writes it (spaces of any width between thousands)
    def plain(value: str) -> str:
        return re.sub(r"[\u00a0\u202f ]+", " ", value)

    assert f"environ {round(national['children'], -1):,.0f} enfants".replace(",", " ") in plain(text)
    assert "Projet à valider par le programme" in text


def test_every_significance_statement_of_the_demo_agrees_with_comparisons_csv(demo_run):
    context = json.loads((demo_run / "report_context.json").read_text(encoding="utf-8"))
    comparisons = pd.read_csv(demo_run / "comparisons.csv", dtype={"catchment": str, "cohort": str})
    p = {(r.indicator, r.catchment, r.cohort): r.p_value for r in comparisons.itertuples()}
    said = 0
    for finding in context["findings"]:
        if finding["kind"] == "sex_gap":
            for lot in finding["girls_worse"]:
                assert lot["p_value"] == pytest.approx(p[(finding["indicator"], lot["catchment"], lot["cohort"])])
                assert lot["significant"] == (lot["p_value"] < 0.05)
                said += 1
    girls = next(h for h in context["summary"]["headlines"] if h["kind"] == "girls")
    for lot in girls["lots"]:
        assert p[(lot["indicator"], lot["catchment"], lot["cohort"])] < 0.05
    significant = comparisons[(comparisons["p_value"] < 0.05) & (comparisons["disadvantaged"] == "F")
                              & (comparisons["catchment"] != "all") & (comparisons["cohort"] != "all")
                              & comparisons["indicator"].isin(girls["indicators"])]
    assert len(girls["lots"]) == len(significant) and said > 0


def test_the_lot_with_an_unusual_share_of_girls_is_flagged(demo_run):
    context = json.loads((demo_run / "report_context.json").read_text(encoding="utf-8"))
    (lot,) = context["sample"]["unusual_sex_ratio"]
    # the demo is the follow-up round: counted in examples/mali_followup/data/mali_followup_kobo.csv, the
    # latest copy of each child, those with a date of birth in their cohort's window
    assert (lot["unit"], lot["cohort"], lot["girls"], lot["known"]) == ("ndebougou", "18w-11m", 56, 95)
    # R: binom.test(56, 95, 550 / 1144)$p.value (550 girls of 1,144 children in the survey)
    assert lot["p_value"] == pytest.approx(0.0395974531712, rel=1e-9)


def test_a_column_equal_to_another_is_left_out_and_said():
    from lqas.sections.coverage import panel_tables
    from lqas.views import EstimateIndex, panel

    rows = [{"indicator": ind, "cohort": "12-23m", "catchment": c, "sex": s, "estimate": e, "ci_low": e - 0.1,
             "ci_high": e + 0.1, "n": 50}
            for ind in ("fully_vaccinated_crude", "fully_vaccinated_for_age", "fully_vaccinated_valid")
            for c, e in (("a", 0.4), ("all", 0.5)) for s in ("F", "M", "all")]
    rows = [{**r, "estimate": r["estimate"] - 0.2} if r["indicator"].endswith("valid") else r for r in rows]
    full = panel(EstimateIndex(pd.DataFrame(rows), 25), "full", ["fully_vaccinated_crude", "fully_vaccinated_for_age",
                                                                 "fully_vaccinated_valid"], "12-23m", ["a"])
    assert full["indicators"] == ["fully_vaccinated_crude", "fully_vaccinated_valid"]
    assert full["same_as"] == {"fully_vaccinated_for_age": "fully_vaccinated_crude"}
    w = words("en")
    w.labels.update({"panel": {"full": "Full vaccination"}, "sex": {"F": "Girls", "M": "Boys", "all": "All"}})
    text = " ".join(s.text for b in panel_tables({**full, "doses": ["BCG", "MR 1"]}, w) for s in getattr(b, "spans", []))
    assert "fully_vaccinated_for_age is not shown: it equals fully_vaccinated_crude in every cell." in text
    assert "every dose this survey collected of the schedule's full series: BCG, MR 1." in text


def test_the_limits_quote_the_survey_s_own_numbers(demo_run):
    from lqas.report import for_language, read_context
    from lqas.sections import limits
    from lqas.sections.words import Words

    context = for_language(read_context(demo_run / "report_context.json", complete=True), "en")
    w = Words(context)
    penta3 = next(r for r in context["coverage"]["sources"]["rows"] if r["dose"] == "penta3")
    assert f"(recall) for {w.pct(penta3['shares']['recall'], 0)} of the children" in limits.recall(context, w)
    row = next(r for r in context["coverage"]["by_dose"][-1]["rows"] if r["dose"] == "penta3")
    assert (f"{w.pct(row['crude']['all']['estimate'])} crude against {w.pct(row['valid']['estimate'])} valid"
            in limits.validity(context, w))
    facts = context["sample"]["fieldwork"]
    derived = pd.read_csv(demo_run / "derived.csv", usecols=["catchment", "cluster", "interview_date"])
    assert facts["clusters"] == len(derived[["catchment", "cluster"]].drop_duplicates())
    assert (facts["first_interview"], facts["last_interview"]) == (derived["interview_date"].min()[:10],
                                                                   derived["interview_date"].max()[:10])
    assert limits.synthetic(context, w).startswith("Synthetic data")


def test_the_limits_count_the_lots_with_few_girls_or_boys():
    from lqas.sections import limits

    context = {"sample": {"lots": [{"F": 10, "M": 40}, {"F": 30, "M": 30}, {"F": 20, "M": 5}]}, "small_cell_n": 25}
    assert limits.small_by_sex(context, words("en")) == (
        "Girls and boys: in 2 of 3 lots, girls or boys number fewer than 25; their separate estimates are left out "
        "of the findings.")
    assert "dans 2 lots sur 3" in limits.small_by_sex(context, words("fr"))

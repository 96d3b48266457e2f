"""Key findings (lqas.report.key_findings and lqas.sections.findings) on constructed estimates
whose answers are known: which catchment has the highest zero-dose prevalence, which girls - boys
gaps the design-based interval calls real, and the sentences the report prints for them."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lqas.labels import code_labels
from lqas.report import key_findings
from lqas.views import EstimateIndex

CATCHMENTS = ["alpha", "bravo", "charlie"]
COHORT = "12-23m"
# zero-dose prevalence by catchment: bravo is the highest, alpha the lowest
ZERO_DOSE = {"alpha": 0.05, "bravo": 0.31, "charlie": 0.12}


def _row(indicator: str, catchment: str, sex: str, estimate: float, n: int = 100) -> dict:
    return {"indicator": indicator, "cohort": COHORT, "catchment": catchment, "sex": sex,
            "estimate": estimate, "ci_low": max(estimate - 0.05, 0.0), "ci_high": min(estimate + 0.05, 1.0), "n": n}


@pytest.fixture
def estimates() -> pd.DataFrame:
    rows = []
    for catchment, value in ZERO_DOSE.items():
        rows.append(_row("zero_dose", catchment, "all", value))
        # girls 10 points worse than boys in every catchment (above the 5-point threshold)
        rows += [_row("zero_dose", catchment, "F", value + 0.05, 50), _row("zero_dose", catchment, "M", value - 0.05, 50)]
    rows.append(_row("zero_dose", "all", "all", 0.16, 300))
    # a catchment too small to be named: the highest estimate, but below the small-cell threshold
    rows.append(_row("zero_dose", "delta", "all", 0.60, n=10))
    return pd.DataFrame(rows)


@pytest.fixture
def comparisons() -> pd.DataFrame:
    """Design-based girls - boys differences: alpha's interval excludes 0, bravo's includes it
    (p = 0.053 just above 0.05), charlie's excludes it (p = 0.049)."""
    rows = [("alpha", 0.10, 0.02, 0.18, 0.012), ("bravo", 0.10, -0.004, 0.204, 0.053),
            ("charlie", 0.10, 0.001, 0.199, 0.049)]
    return pd.DataFrame([{"indicator": "zero_dose", "cohort": COHORT, "catchment": c, "difference": d,
                          "difference_ci_low": low, "difference_ci_high": high, "p_value": p}
                         for c, d, low, high, p in rows])


def _findings(estimates: pd.DataFrame, comparisons: pd.DataFrame | None) -> list[dict]:
    classification = pd.DataFrame(columns=["indicator", "cohort", "catchment", "class"])
    return key_findings(EstimateIndex(estimates, small_cell_n=25), classification, cohorts=[COHORT],
                        catchments=[*CATCHMENTS, "delta"], oldest=COHORT, targets=[], comparisons=comparisons)


def test_highest_zero_dose_catchment_is_the_largest_usable_estimate(estimates):
    highest = [f for f in _findings(estimates, None) if f["kind"] == "highest"]
    assert len(highest) == 1
    # delta (60 %) has 10 children: below the small-cell threshold, never named
    assert highest[0]["catchment"] == "bravo" and highest[0]["estimate"] == pytest.approx(0.31)


def test_sex_gaps_follow_the_design_based_interval(estimates, comparisons):
    (gap,) = [f for f in _findings(estimates, comparisons) if f["kind"] == "sex_gap" and f["indicator"] == "zero_dose"]
    assert gap["design_based"] and gap["compared"] == 3
    verdict = {g["catchment"]: g["significant"] for g in gap["girls_worse"]}
    assert verdict == {"alpha": True, "bravo": False, "charlie": True} and gap["significant"] == 2
    # the difference printed is the design's, not the difference of the two point estimates
    assert {g["catchment"]: g["p_value"] for g in gap["girls_worse"]} == {"alpha": 0.012, "bravo": 0.053,
                                                                         "charlie": 0.049}


def _render(findings: list[dict], lang: str) -> str:
    """The key-findings section's text as the report writes it (lqas.sections.findings)."""
    from lqas.sections import findings as section
    from lqas.sections.words import Words

    labels = {**code_labels(lang), "indicator": {"zero_dose": "Zero-dose"},
              "catchment": {"alpha": "Alpha", "bravo": "Bravo", "charlie": "Charlie"}, "cohort": {COHORT: "12–23"}}
    context = {"lang": lang, "findings": findings, "labels": labels, "small_cell_n": 25, "sex_comparisons": [{}],
               "methods": {"ci": "wilson"}}
    texts = []
    for block in section.blocks(context, Words(context)):
        texts += ["".join(s.text for s in getattr(block, "spans", []))]
        texts += ["".join(s.text for s in item) for item in getattr(block, "items", [])]
        texts += ["".join(s.text for s in sub) for subs in getattr(block, "sub_items", []) for sub in subs]
    return re.sub(r"\s+", " ", " ".join(texts))


@pytest.mark.parametrize("lang, highest, significant, other", [
    ("en", "Highest zero-dose prevalence among children aged 12–23: Bravo, 31.0%",
     "Zero-dose: girls fare significantly worse than boys (Rao–Scott p < 0.05) in 2 of the 3 lots compared:",
     "In 1 other lot girls fare worse by 5 points or more, but not significantly: Bravo, 12–23 (p = 0.053)."),
    ("fr", "Prévalence zéro dose la plus élevée chez les enfants de 12–23 : Bravo, 31,0 %",
     "Zero-dose : les filles sont significativement désavantagées par rapport aux garçons (Rao–Scott p < 0,05) "
     "dans 2 des 3 lots comparés :",
     "Dans 1 autre lot, les filles sont désavantagées de 5 points ou plus, mais pas significativement : Bravo, "
     "12–23 (p = 0,053)."),
])
def test_findings_sentences_name_the_right_catchment_and_verdict(estimates, comparisons, lang, highest, significant,
                                                                 other):
    text = _render(_findings(estimates, comparisons), lang)  # whitespace (no-break spaces too) as " "
    assert highest in text
    # the Rao-Scott p decides: alpha (0.012) and charlie (0.049) are significant, bravo (0.053) is not
    assert significant in text and other in text
    assert text.index("Alpha, 12") < text.index("Charlie, 12") < text.index("Bravo, 12")
    assert ("p = 0.049" if lang == "en" else "p = 0,049") in text

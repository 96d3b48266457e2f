"""Words of the interface in the report language: one gettext catalog for every sentence and name of a code.

The catalog is ``reports/templates/locale/<lang>/LC_MESSAGES/messages.po`` (msgids in English); the
templates use it through Jinja's i18n extension, the code through :func:`gettext`. Labels of data
(indicators, doses, BeSD items, scorecard rows) live with their data in ``lqas/data/*.toml``.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from lqas.resources import resource_dir

LANGUAGES = ("en", "fr")


@lru_cache(maxsize=4)
def translations(lang: str) -> NullTranslations:
    """gettext translations for a report language, read from the shipped .po catalog."""
    po_path = resource_dir("templates") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(text: str, lang: str, **values: object) -> str:
    """``text`` (an English msgid) in ``lang`` with its ``%(name)s`` placeholders filled from ``values``
    and ``%%`` read as ``%``, as Jinja's newstyle gettext does, so one msgid serves templates and code."""
    return translations(lang).gettext(text) % values


def translate(text: str, lang: str) -> str:
    """A registry text (definition, denominator, reference) in the report language, from the
    catalog; the text itself when the catalog has no translation."""
    return translations(lang).gettext(text) if text else text


def cohort_label(cohort: str, lang: str) -> str:
    """The display name of a cohort key: the two standard cohorts by name, any other as its key."""
    return _code_labels(lang)["cohort"].get(cohort, cohort)


@lru_cache(maxsize=4)
def _code_labels(lang: str) -> dict[str, Any]:
    def _(text: str) -> str:
        return gettext(text, lang)

    return {
        "cohort": {"18w-11m": _("18 weeks–11 months"), "12-23m": _("12–23 months")},
        # the scorecard's traffic lights and why a row got its light (lqas.scorecard)
        "light": {"green": _("Green"), "amber": _("Amber"), "red": _("Red"), "grey": _("Not assessed")},
        "light_reason": {
            "gap_against_girls_significant": _("girls worse off by at least the red gap, significant at the red level"),
            "gap_size": _("difference of at least the amber gap"),
            "gap_p_value": _("p-value below the amber level"),
            "within_thresholds": _("within the green thresholds"),
            "level_red": _("level beyond the red threshold"),
            "level_amber": _("level beyond the amber threshold"),
            "too_few": _("too few children or respondents to assess"),
            "no_estimate": _("no estimate for this domain"),
        },
        "reason": {
            "truncated_row": _("Row cut short (fewer fields than the header)"),
            "duplicate_child_id": _("Child already recorded (duplicate submission)"),
            "duplicate_submission": _("Same answers as another record under another child id"),
            "age_out_of_window": _("Age outside both cohorts"),
            "age_invalid": _("Age missing or invalid"),
            "dob_invalid": _("Date of birth missing or invalid"),
            "dob_after_interview": _("Date of birth after the interview"),
            "interview_date_invalid": _("Interview date missing or invalid"),
            "interview_after_submission": _("Interview dated after the record was sent"),
            "interview_date_in_future": _("Interview dated in the future"),
            "rejected_on_server": _("Rejected by the supervisor on the server (not approved)"),
            "missing_child_id": _("No child identifier"),
            "missing_design": _("No catchment area or cluster"),
            "no_consent": _("No consent, or respondent not the caregiver"),
            "no_cluster_metadata": _("Cluster not in the cluster list"),
        },
        "repair": {
            "partial_date_to_tick": _("Incomplete vaccination date kept as a mark on the card"),
            "impossible_date_to_tick": _("Impossible vaccination date kept as a mark on the card"),
            "unparseable_date_to_tick": _("Unreadable vaccination date kept as a mark on the card"),
            "date_before_earliest_to_tick": _("Vaccination date before the earliest possible date kept as a mark"),
            "date_before_dob_to_tick": _("Vaccination date before birth kept as a mark"),
            "date_after_interview_to_tick": _("Vaccination date after the interview kept as a mark"),
            "date_after_latest_to_tick": _("Vaccination date after the latest possible date kept as a mark"),
            "series_out_of_order_to_tick": _("Dates of a series out of order kept as marks"),
            "missing_sex_set_unknown": _("Sex missing: recorded as unknown"),
            "dob_after_interview_dropped": _("Date of birth after the interview set aside"),
            "age_out_of_window_kept": _("Age outside the cohorts: child kept in the nearest cohort"),
            "age_unknown_kept": _("Age unknown: child kept in the sampled cohort"),
            "cohort_sampled_differs": _("Sampled in another cohort than its age: counted in the cohort of its age"),
        },
        "source": {
            "card_date": _("Card, date"),
            "card_tick": _("Card, mark only"),
            "register_date": _("Register, date"),
            "register_tick": _("Register, mark only"),
            "recall": _("Caregiver recall"),
            "scar": _("BCG scar"),
            "implied": _("Implied by a later dose"),
            "none": _("No evidence"),
        },
        "ci_method": {
            "wilson": _("Wilson with effective sample size and degrees-of-freedom adjustment, as WHO VCQI"),
            "clopper-pearson": _("Clopper–Pearson"),
            "jeffreys": _("Jeffreys"),
            "logit": _("logit"),
            "agresti-coull": _("Agresti–Coull"),
            "korn-graubard": _("Korn–Graubard"),
            "wald": _("Wald"),
        },
        "column": {
            "catchment": _("catchment area"),
            "cluster": _("cluster (village or quarter)"),
            "district": _("district"),
            "cohort": _("cohort"),
        },
        "weights": {
            "population": _("from the lot populations (population of the lot divided by the children analysed in it)"),
            "column": _("read from the data"),
            "equal": _("equal (every child counts the same)"),
        },
        "records": {
            "not_sought": _("health-facility registers were not consulted"),
            "if_no_card": _("health-facility registers were consulted for children without a card"),
            "all": _("health-facility registers were consulted for every child"),
        },
        "sex": {"F": _("Girls"), "M": _("Boys"), "all": _("All")},
        "answer": {"yes": _("Yes"), "no": _("No")},
        "all_catchments": _("All catchment areas"),
        "all_cohorts": _("Both cohorts"),
        # WHO RED problem categories (lqas.priorities)
        "category": {
            "no_problem": _("1. No problem (good access, low dropout)"),
            "utilisation": _("2. Utilisation problem (good access, high dropout)"),
            "access": _("3. Access problem (low access, low dropout)"),
            "access_and_utilisation": _("4. Access and utilisation problems"),
        },
        # an LQAS "pass" is not "reached the target": the lot is not classified as one to improve
        "klass": {"pass": _("acceptable"), "fail": _("to improve"), "no_data": _("no data")},
        "direction": {"higher": _("higher is better"), "lower": _("lower is better")},
        "panel": {
            "dropout": _("Dropout"),
            "card": _("Vaccination card availability"),
            "timeliness": _("Timeliness"),
            "full": _("Full vaccination"),
        },
        "dose_template": {"crude": _("Each dose (crude)"), "valid": _("Each dose (valid)")},
        "chart": {
            "girls": _("Girls"),
            "boys": _("Boys"),
            "percent_axis": _("Percent of children (95%% CI)"),
            "coverage_axis": _("Coverage, percent of children (95%% CI)"),
            "besd_axis": _("Percent of parents and caregivers (95%% CI)"),
            "crude": _("Crude (card, recall)"),
            "valid": _("Valid (dated card)"),
            "all_catchments": _("All catchment areas"),
            "oc_pass": _("Probability that the lot is acceptable (%%)"),
            "oc_true_lower": _("True prevalence in the lot (%%)"),
            "oc_true_higher": _("True coverage in the lot (%%)"),
            "oc_good": _("target"),
            "oc_bad": _("threshold of a lot to improve"),
            "red_access_axis": _("Access: first-dose coverage, percent (95%% CI)"),
            "red_dropout_axis": _("Utilisation: dropout, percent (95%% CI)"),
            "red_no_problem": _("1. No problem"),
            "red_utilisation": _("2. Utilisation problem"),
            "red_access": _("3. Access problem"),
            "red_both": _("4. Access and utilisation"),
            "organ_x": _("Clusters, each as wide as its share of the area's children (weighted)"),
            "organ_y": _("Coverage (%%)"),
            "area_coverage": _("Coverage of the area"),
            "target": _("Target"),
            "admin_coverage": _("Administrative coverage (DHIS2)"),
            "survey_coverage": _("Survey coverage (95%% CI)"),
            "admin_axis": _("Coverage, percent"),
            "hundred": _("100%%"),
            "sampled": _("Sampled area (survey and model)"),
            "model_only": _("Area not sampled (model only)"),
            "threshold": _("Programme threshold"),
            "sa_axis": _("Estimated prevalence, percent (95%% interval)"),
            "direct_axis": _("Survey's direct estimate (%%)"),
            "model_axis": _("Model's estimate (%%)"),
            "shrinkage": _("Direct and model estimates"),
            "residuals": _("Standardised residuals"),
            "residual_axis": _("(direct − regression) / its standard deviation"),
        },
        # the maps of the small-area estimates (lqas.maps)
        "map": {
            "prevalence": _("Estimated prevalence"),
            "uncertainty": _("Width of the 95%% interval (points)"),
            "children": _("Number of children"),
            "probability": _("Probability that the prevalence exceeds {threshold}"),
            "points": _("pts"),
            "sampled": _("Sampled area"),
            "model_only": _("Not sampled (model only)"),
            "not_estimated": _("Not estimated"),
            "pass": _("acceptable"),
            "fail": _("to improve"),
            "no_data": _("no data"),
            "lqas_class": _("LQAS class"),
            "not_classified": _("Not classified: not sampled"),
        },
        # how each area's small-area estimate was made (small_area.csv's method)
        "sa_method": {"eblup": _("survey and model"), "synthetic": _("model only"), "direct": _("survey only"),
                      "none": _("not estimated")},
        # the WHO data-quality checks of administrative data (lqas.admin, dq_flags.csv)
        "dq_check": {
            "completeness": _("Reporting completeness"),
            "timeliness": _("Reporting timeliness"),
            "outlier_extreme": _("Extreme outliers"),
            "outlier_moderate": _("Moderate outliers"),
            "outlier_modified_z": _("Outliers (modified z-score)"),
            "consistency_over_time": _("Consistency over time"),
            "negative_dropout": _("Negative dropout"),
            "coverage_over_100": _("Administrative coverage above 100%%"),
            "year_on_year_swing": _("Year-on-year swing of coverage"),
        },
        # the fieldwork checks (lqas.fieldwork, lqas quality) and the levels they judge
        "quality_check": {
            "duration": _("Interview duration"),
            "overlap": _("Overlapping interviews"),
            "per_day": _("Interviews in a day"),
            "heaping_day": _("Birth dates on the 1st or 15th"),
            "heaping_month": _("Birth dates in one month"),
            "boundary": _("Children pushed out of the age window"),
            "sex_ratio": _("Share of girls"),
            "card_seen": _("Cards seen"),
            "repairs": _("Fields repaired"),
            "duplicates": _("Duplicate records"),
            "recall_only": _("Recall-only evidence"),
            "dont_know": _("\"Don't know\" answers"),
            "besd_nonresponse": _("BeSD questions unanswered"),
            "refusals": _("Households refusing"),
            "absences": _("Households absent"),
            "gps_distance": _("Households far from their cluster"),
        },
        "quality_level": {"interviewer": _("Interviewer"), "team": _("Team"), "cluster": _("Cluster"),
                          "day": _("Day"), "lot": _("Lot"), "survey": _("Survey")},
        "severity": {"alert": _("alert"), "warning": _("warning")},
        # why a row of an administrative extract was not used (lqas.admin.map_extract)
        "admin_unused": {"org unit not in the mapping": _("org unit not in the mapping"),
                         "category option combo not in the mapping": _("category option combo not in the mapping"),
                         "data element not in the mapping": _("data element not in the mapping"),
                         "no value": _("no value")},
        "target_source": {"dhis2": _("DHIS2 target population"), "census": _("census projection"),
                          "populations": _("survey's populations file")},
        "sheet": {
            "estimates": _("Estimates"),
            "lqas": _("LQAS classification"),
            "comparisons": _("Girls and boys"),
            "scorecard": _("Gender and equity scorecard"),
            "sample": _("Sample"),
            "exclusions": _("Exclusions"),
            "repairs": _("Repairs"),
            "sources": _("Evidence sources"),
            "rules": _("Decision rules"),
            "remarks": _("Interviewer remarks"),
            "priorities": _("Priorities"),
            "numbers": _("Numbers of children"),
            "changes": _("Change between rounds"),
            "gap_changes": _("Change of the girls-boys gap"),
            "arm_changes": _("Intervention arms"),
            "lqas_transitions": _("LQAS classes by round"),
            "admin": _("Admin and survey coverage"),
            "dq_flags": _("Admin data quality"),
            "small_area": _("Small-area estimates"),
            "readme": _("Read me"),
        },
        # what each sheet of results.xlsx holds (its "Read me" sheet)
        "sheet_about": {
            "estimates": _("Weighted proportions with their 95%% confidence interval, for every indicator and domain (estimates.csv)."),
            "lqas": _("The LQAS class of every lot and indicator: acceptable or to improve, with n, x, the rule d and its risks alpha and beta (classification.csv)."),
            "comparisons": _("Girls − boys differences with their 95%% confidence interval and the Rao–Scott p; a difference is significant when p < 0.05 (comparisons.csv)."),
            "scorecard": _("The gender and equity scorecard, a traffic light per measure and catchment area (scorecard.csv)."),
            "priorities": _("Catchment areas ranked by their estimated number of zero-dose children, with their WHO RED access/utilisation category (priorities.csv)."),
            "numbers": _("Estimated numbers of zero-dose and under-immunized children: population × prevalence, with the interval carried through (children_numbers.csv)."),
            "changes": _("The change of every indicator from each earlier round to this one, by cohort, level, group and sex: both estimates, the change in points with its 95%% CI, the ratio, the Rao–Scott p and the smallest detectable change (changes.csv)."),
            "gap_changes": _("The change of the girls − boys gap between rounds: girls' change less boys', with its 95%% CI (gap_changes.csv)."),
            "arm_changes": _("The intervention arm's change less the comparison arm's (difference in differences), in points and in log-odds, with 95%% CIs (arm_changes.csv)."),
            "lqas_transitions": _("Each lot's LQAS class in the earlier round and in this one, and how it moved (lqas_transitions.csv)."),
            "admin": _("Administrative (DHIS2) coverage against the survey's, by area and dose: the doses given while the surveyed children were due them, the target population, both coverages, their ratio and difference with the WHO rules, and the survey-implied target population (admin.csv)."),
            "dq_flags": _("The WHO data-quality checks of the administrative data, each check, place and period judged, with its value, threshold and whether it was flagged (dq_flags.csv)."),
            "small_area": _("One indicator for every area of the districts, sampled or not (Fay–Herriot model): the survey's direct estimate where sampled, the model's estimate with its 95%% interval, the number of children, the probability of exceeding the threshold and the rank with its interval (small_area.csv)."),
            "catchments": _("One line per catchment area: children, zero-dose, under-immunized and Penta 3 with their CI, each lot's LQAS class."),
            "sample": _("Children analysed by catchment area, cohort and sex (unweighted)."),
            "exclusions": _("Records excluded, by reason (exclusions.csv lists each one)."),
            "repairs": _("Fields repaired, by rule (repairs.csv lists each one)."),
            "sources": _("Weighted share of each evidence source (card, recall, register) for each dose."),
            "rules": _("The classic LQAS table of decision rules for samples of 12 to 30."),
            "remarks": _("Interviewer remarks, as a person reviewed and anonymised them."),
        },
        "readme_note": _("What each sheet of this workbook holds. Definitions of the indicators are in the report's Methods; every table is also a CSV file of the run."),
        "readme_synthetic": _("SYNTHETIC DATA: generated by a program to demonstrate the method; they describe no real child."),
        "header": {
            "catchment": _("Catchment area"),
            "cohort": _("Cohort"),
            "sex": _("Sex"),
            "indicator": _("Indicator"),
            "dose": _("Dose"),
            "estimate": _("Estimate"),
            "ci_low": _("95%% CI low"),
            "ci_high": _("95%% CI high"),
            "n": _("Children (n)"),
            "girls": _("Girls"),
            "boys": _("Boys"),
            "total": _("Total"),
            "reason": _("Reason"),
            "rule": _("Rule"),
            "code": _("Code"),
            "count": _("Count"),
            "class": _("Class"),
            "kind": _("Measure"),
            "status": _("Vaccination status"),
            "remark": _("Remark"),
            "catchments": _("Catchment areas"),
            "target": _("Target"),
            "small": _("Fewer than the small-cell threshold"),
            "crude": _("Crude"),
            "valid": _("Valid"),
            "share": _("Weighted share"),
            "district": _("District"),
            "limits_met": _("Alpha and beta within their limits"),
            "n_weighted": _("Weighted n"),
            "se": _("Standard error"),
            "deff": _("Design effect"),
            "icc": _("Intra-cluster correlation"),
            "df": _("Degrees of freedom"),
            "girls_n": _("Girls (n)"),
            "boys_n": _("Boys (n)"),
            "difference": _("Difference, girls − boys"),
            "ratio": _("Ratio, girls / boys"),
            "p_value": _("p-value (Rao–Scott)"),
            "disadvantaged": _("Disadvantaged"),
            "row": _("Scorecard row"),
            "light": _("Light"),
            "difference_or_level": _("Difference or level"),
            "rules_note": _("The smallest number of children with the outcome for a lot of n children (rows) to be acceptable, by coverage target (columns); the threshold of a lot to improve is 30 points below the target, and d gives the least alpha + beta. Targets of 30%% or less have no such threshold. `lqas table --csv` gives each cell's alpha and beta."),
            "rank": _("Rank"),
            "admin_doses": _("Doses reported (DHIS2)"),
            "admin_target": _("Target population"),
            "target_source": _("Source of the target"),
            "window_start": _("Due from"),
            "window_end": _("Due to"),
            "days_covered": _("Days covered by the data"),
            "admin_coverage": _("Administrative coverage"),
            "survey_coverage": _("Survey coverage"),
            "ratio_admin": _("Ratio admin / survey"),
            "ratio_ci_low": _("Ratio, low"),
            "ratio_ci_high": _("Ratio, high"),
            "difference_admin": _("Difference admin − survey"),
            "over_100": _("Above 100%%"),
            "ratio_flag": _("Ratio outside 1 ± tolerance (WHO DQR)"),
            "difference_flag": _("Difference above the gap (WUENIC)"),
            "implied_target": _("Survey-implied target"),
            "implied_target_ci_low": _("Survey-implied target, low"),
            "implied_target_ci_high": _("Survey-implied target, high"),
            "check": _("Check"),
            "org_unit": _("Place"),
            "period": _("Period"),
            "value": _("Value"),
            "reference": _("Reference"),
            "threshold": _("Threshold"),
            "flag": _("Flagged"),
            "admin_note": _("Each area and dose: the doses reported while the surveyed children were due them, over the target population of those days, against the survey's crude coverage of the same children. The ratio's interval carries the survey's uncertainty only. Fractions are shown as percentages."),
            "dq_note": _("Every check of the administrative data judged, flagged or not: the value is the reporting rate, the z-score, the ratio to earlier years, the dropout or the coverage, as the check says."),
            "sheet": _("Sheet"),
            "content": _("What it holds"),
            "rank_prevalence": _("Rank by prevalence"),
            "area_name": _("Area"),
            "sampled": _("Sampled"),
            "sa_method": _("Source of the estimate"),
            "direct": _("Survey's direct estimate"),
            "direct_se": _("Its standard error"),
            "gamma": _("Weight of the survey's estimate"),
            "prob_exceeds": _("Probability of exceeding the threshold"),
            "children_ci_low": _("Children, lower bound"),
            "children_ci_high": _("Children, upper bound"),
            "rank_low": _("Rank, lower bound"),
            "rank_high": _("Rank, upper bound"),
            "sa_note": _("Model's estimates for the areas not sampled rest on their characteristics alone (no child of theirs was surveyed)."),
            "population": _("Population"),
            "children": _("Children (estimated number)"),
            "unit_level": _("Level"),
            "category": _("Access and utilisation (WHO RED category)"),
            "lots_below": _("Zero-dose lots to improve"),
            "dropout": _("Dropout"),
            "priorities_note": _("Catchment areas ranked by their estimated number of zero-dose children (both cohorts): population × prevalence, with the 95%% interval carried through. Access: first-dose coverage, and dropout to the third dose, in the oldest cohort (WHO RED categories). A condition is empty where it cannot be told."),
            "numbers_note": _("Estimated numbers of zero-dose and under-immunized children: the population of the unit (from the populations file) × the estimated prevalence, with its 95%% interval."),
            "estimates_note": _("One row per indicator and domain, as estimates.csv: weighted proportions with their 95%% confidence interval. The code is the indicator's column in derived.csv."),
            # formatted where it is used (lqas.workbook): the raw catalog text, placeholders kept
            "estimates_note_levels": translate("The %(rows)s rows of estimates.csv are too many for a sheet: here are the %(kept)s rows of the survey and of each %(levels)s (weighted proportions with their 95%% confidence interval). Every domain, down to each health area, is in estimates.csv. The code is the indicator's column in derived.csv.", lang),
            "estimates_note_survey": translate("The %(rows)s rows of estimates.csv are too many for a sheet: here are the %(kept)s rows of the whole survey (weighted proportions with their 95%% confidence interval). Every domain, down to each health area, is in estimates.csv. The code is the indicator's column in derived.csv.", lang),
        },
    }


def code_labels(lang: str) -> dict[str, Any]:
    """Display names of the codes of the results (exclusion reasons, repair rules, evidence sources,
    settings, LQAS classes) and the texts of the charts and of ``results.xlsx``, in ``lang``.

    A code without a name here is shown as the code itself.
    """
    return {key: dict(value) if isinstance(value, dict) else value for key, value in _code_labels(lang).items()}

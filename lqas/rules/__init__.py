"""LQAS stage: decision rules, sample sizes, OC curves, lot classification and aggregation.

Internal convention (DESIGN.md §4, lqas.md §1): a lot *passes* iff the number of successes
X >= d; alpha = P(fail | p = good) and beta = P(pass | p = bad), ``good`` being the target (the
"upper threshold" of the LQAS literature) and ``bad`` the level of a lot to improve (its "lower
threshold"); the same words as ``[lqas] targets`` of survey.toml. Other conventions are
converted at the edge with :func:`from_convention` / :func:`to_convention`.
"""


from lqas.rules._checks import DEFAULT_TARGETS
from lqas.rules.decision import (Rule, SampleSize, decision_rule, double_sampling_oc, evaluate_rule,
                                 lot_thresholds, oc_curve, plot_oc, sample_size)
from lqas.rules.lots import CLASSIFY_COLUMNS, Target, aggregate, classify, priority_lots
from lqas.rules.tables import (ConvertedRule, ThreeClassRule, classify_three, decision_table,
                               from_convention, three_class_oc, three_class_rule, to_convention)

__all__ = ["Rule", "SampleSize", "Target", "ThreeClassRule", "ConvertedRule", "decision_rule",
           "evaluate_rule", "lot_thresholds", "sample_size", "double_sampling_oc", "oc_curve",
           "plot_oc", "decision_table", "three_class_rule", "three_class_oc", "classify_three",
           "from_convention", "to_convention", "classify", "aggregate", "priority_lots",
           "CLASSIFY_COLUMNS", "DEFAULT_TARGETS"]

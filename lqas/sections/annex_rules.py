"""Annex B, LQAS decision rules: the rule of each lot and its risks, the classic table of rules for
samples of 12 to 30, and the operating characteristic curves of the rules used (context key ``lqas``)."""

from __future__ import annotations

from typing import Any

from lqas.blocks import Block, Cell, Heading, Paragraph, Row, Table, spans
from lqas.sections.words import SYMBOLS, Words

# an LQAS class -> its symbol (the macro klass of the templates)


def class_cell(klass: str, w: Words) -> Cell:
    """An LQAS class: ✔ acceptable, ✘ to improve, or no data; on the class's colour."""
    if klass not in SYMBOLS:
        return w.label(w.name("klass", "no_data"))
    return Cell(lines=[w.name("klass", klass)], symbol=SYMBOLS[klass], align="left", tone=klass)


def lot_row(row: dict[str, Any], w: Words) -> Row:
    """One lot and indicator: n, x, the rule d, its risks and the class, the row on the class's colour."""
    tone = row["class"] if row["class"] in SYMBOLS else "plain"
    cells = [w.label(w.indicator(row["indicator"])), w.label(w.catchment(row["catchment"])),
             w.label(w.cohort(row["cohort"])),
             *(w.value(w.num(row[key])) for key in ("n", "x", "d")),
             *(w.value(w.num(row[key], 3)) for key in ("alpha", "beta"))]
    return Row(cells=[*(cell.model_copy(update={"tone": tone}) for cell in cells), class_cell(row["class"], w)])


def lots_table(classification: list[dict[str, Any]], w: Words) -> Table:
    return Table(header=[w.head(w._("Indicator"), "left"), w.head(w._("Catchment area"), "left"),
                         w.head(w._("Cohort"), "left"), w.head("n"), w.head("x"), w.head("d"),
                         w.head(w._("alpha")), w.head(w._("beta")), w.head(w._("Class"), "left")],
                 rows=[lot_row(row, w) for row in classification],
                 widths=[3.4, 1.9, 2.1, 0.6, 0.6, 0.6, 0.8, 0.8, 1.9], size="compact")


# a cell of the classic table whose rule misses the risks' limits: shaded, darker beyond 15 %
FLAG_TONES = {"ok": "plain", "alpha_or_beta>0.10": "warn", "alpha_or_beta>0.15": "bad"}


def decision_table(table: dict[str, Any], w: Words) -> Table:
    """The smallest number of children with the outcome for a lot to be acceptable, by n (rows) and
    target; cells whose alpha or beta exceed 10 % (15 %) shaded, with the legend under the table."""
    rows = [Row(cells=[w.value(str(row["n"]), strong=True),
                       *(w.value(w.num(d), tone=FLAG_TONES.get(flag, "plain")) for d, flag in zip(row["d"], row["flag"]))])
            for row in table["rows"]]
    legend = Paragraph(spans=spans(w._(
        "Shaded: the rule's alpha or beta is above 10%% (light) or above 15%% (dark); such a sample is too small for "
        "that target. The threshold of a lot to improve is %(gap)s points below the target; every cell is the d "
        "with the least alpha + beta, so d never falls when the target or n rises. Targets of %(low)s or less have "
        "no such threshold and are left out.", gap=w.num(100 * table["gap"]), low=w.pct(table["gap"], 0))),
        style="note")
    return Table(header=[w.head("n"), *(w.head(w.pct(target, 0)) for target in table["targets"])], rows=rows,
                 notes=[legend], widths=[1.0 for _ in range(len(table["targets"]) + 1)], size="compact",
                 source=w._("Source: exact binomial probabilities (lqas rules)."))


def oc_blocks(w: Words) -> list[Block]:
    """The operating characteristic curves, when the run drew them."""
    figure = w.figure("oc_curves", w._(
        "Probability that a lot is classified acceptable as a function of its true level, for the rules of this survey (n, d). The "
        "vertical lines mark the target and the threshold of a lot to improve: the curve's distance from 100%% at "
        "the target is alpha, its height at the other threshold is beta."),
        source=w._("Source: exact binomial probabilities (lqas rules)."))
    if not figure:
        return []
    return [Heading(level=2, text=w._("Operating characteristic curves of the rules used"), anchor="rules-oc"),
            *figure]


def rules_used_table(rules_used: list[dict[str, Any]], w: Words) -> Table:
    """The rules of a survey with too many lots to list: per target, its most frequent rules (n, d) and the
    number of lots each decided."""
    rows = [Row(cells=[w.label(w.indicator(target["indicator"])), w.value(w.num(rule["n"])),
                       w.value(w.num(rule["d"])), w.value(w.num(rule["lots"]))])
            for target in rules_used for rule in target["rules"]]
    return Table(header=[w.head(w._("Indicator"), "left"), w.head("n"), w.head("d"), w.head(w._("Lots"))],
                 rows=rows, widths=[3.4, 0.8, 0.8, 1.0], size="compact")


def lots_blocks(context: dict[str, Any], w: Words) -> list[Block]:
    """Each lot's rule, or (a survey whose lots are too many for the report) the rules used most."""
    lqas = context["lqas"]
    if context.get("areas"):
        return [Heading(level=2, text=w._("Decision rules used"), anchor="rules-lots"),
                Paragraph(spans=spans(w._(
                    "The rule of each of the %(lots)s classifications (n, x, d and the exact risks alpha and beta) "
                    "is in classification.csv and results.xlsx. The rules used most, by indicator:",
                    lots=w.num(len(lqas["classification"]))))),
                rules_used_table(lqas["rules_used"], w)]
    return [Heading(level=2, text=w._("Decision rule of each lot"), anchor="rules-lots"),
            Paragraph(spans=spans(w._(
                "For each lot and indicator: n children in the denominator, x children with the favourable outcome, "
                "the rule d (the lot is acceptable when x ≥ d) and the exact risks alpha and beta of the rule (binomial)."))),
            lots_table(lqas["classification"], w)]


def blocks(context: dict[str, Any], w: Words) -> list[Block]:
    lqas = context["lqas"]
    return [
        *lots_blocks(context, w),
        Heading(level=2, text=w._("Table of decision rules for samples of 12 to 30"), anchor="rules-table"),
        Paragraph(spans=spans(w._(
            "The classic LQAS table: for a sample of n (rows) and a coverage target (columns), the smallest number "
            "of children with the outcome for the lot to be acceptable."))),
        decision_table(lqas["decision_table"], w),
        *oc_blocks(w),
    ]

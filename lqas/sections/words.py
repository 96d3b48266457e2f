"""The report's words and numbers in its language: gettext sentences, Babel-formatted numbers, and the
cells every section builds from an estimate (percentage, 95 % CI and n, shown as the project's
small-number convention says)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import parse_pattern

from lqas.blocks import Cell, Figure, Paragraph, Row, Table, spans
from lqas.labels import translations

LOCALES = {"en": "en_GB", "fr": "fr_FR"}
DASH = "–"  # a missing value
SYMBOLS = {"pass": "✔", "fail": "✘"}  # a LQAS class, readable in grey print too
# units beyond which a table by unit shows the estimates alone (their CI and n are in results.xlsx): a
# national survey's 60 districts by cohort, with three lines a cell, run to pages per table
BRIEF_UNITS = 20


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@functools.cache
def _number_format(pattern: str, lang: str) -> Callable[[Any], str]:
    """Babel's ``format_decimal``/``format_percent`` with this pattern in this language, the locale and
    the pattern parsed once: a national report's 13,000 numbers parsed them again each (3 µs a number)."""
    parsed, locale = parse_pattern(pattern), Locale.parse(LOCALES[lang])
    return functools.partial(parsed.apply, locale=locale)


def pct(value: Any, lang: str, digits: int = 1) -> str:
    """A fraction as a percentage: ``12.3%`` (en), ``12,3 %`` with a no-break space (fr)."""
    if _is_missing(value):
        return DASH
    sign = "\u00a0%" if lang == "fr" else "%"
    pattern = "#,##0." + "0" * digits + sign if digits else "#,##0" + sign
    return _number_format(pattern, lang)(value)


def num(value: Any, lang: str, digits: int = 0) -> str:
    """A number with the language's grouping and decimal signs: ``1,153`` / ``1 153``."""
    if _is_missing(value):
        return DASH
    return _number_format("#,##0" + ("." + "0" * digits if digits else ""), lang)(value)


def pp(value: Any, lang: str, digits: int = 1) -> str:
    """A difference of fractions as signed percentage points: ``+4.2``."""
    if _is_missing(value):
        return DASH
    zeros = "0" * digits
    return _number_format(f"+#,##0.{zeros};-#,##0.{zeros}", lang)(100 * value)


def longdate(value: Any, lang: str) -> str:
    """A date (or ISO text) written out: ``21 November 2026`` / ``21 novembre 2026``."""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return format_date(day, format="long", locale=LOCALES[lang])


class Words:
    """Everything a section needs to write in the report's language, from the report context."""

    def __init__(self, context: dict[str, Any]):
        self.lang: str = context["lang"]
        self.labels: dict[str, Any] = context["labels"]
        self.small_cell_n: int = context["small_cell_n"]
        # how estimates from few children are shown (``[report] small_numbers``): DHS or VCQI
        self.small_numbers: str = context["methods"].get("small_numbers", "dhs")
        self.caution_n: int = context["methods"].get("caution_n", 2 * self.small_cell_n)
        self.ci_method: str = context["methods"].get("ci", "")
        self.charts: dict[str, str] = context.get("charts") or {}
        # the units of the body's tables (catchment areas, or districts for a national survey)
        units = context.get("units") or {"column": "catchment", "title": self.labels["header"]["catchment"]}
        self.unit_column: str = units["column"]
        # named from the labels, which follow the language a saved run is rendered in (--lang)
        self.unit_title: str = self.labels["header"].get(self.unit_column) or units["title"]
        self.unit_noun: str = self.unit_title[:1].lower() + self.unit_title[1:]  # as the context's "noun"
        self.brief: bool = len(units.get("codes") or ()) > BRIEF_UNITS
        self._translations = translations(self.lang)

    # --- sentences (msgids in English, as the templates' _() and ngettext())
    def _(self, text: str, **values: Any) -> str:
        # as Jinja's newstyle gettext: placeholders filled, "%%" read as "%", whether or not values are given
        return self._translations.gettext(text) % values

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        # the count chooses the plural form; it is written with the language's grouping (3 600)
        return self._translations.ngettext(singular, plural, n) % {"num": self.num(n), **values}

    # --- numbers
    def pct(self, value: Any, digits: int = 1) -> str:
        return pct(value, self.lang, digits)

    def num(self, value: Any, digits: int = 0) -> str:
        return num(value, self.lang, digits)

    def pp(self, value: Any, digits: int = 1) -> str:
        return pp(value, self.lang, digits)

    def longdate(self, value: Any) -> str:
        return longdate(value, self.lang)

    # --- names of codes and data
    def name(self, kind: str, key: str) -> str:
        return self.labels.get(kind, {}).get(key, key)

    def indicator(self, key: str) -> str:
        return self.name("indicator", key)

    def catchment(self, key: str) -> str:
        return self.name("catchment", key)

    def unit(self, key: str) -> str:
        """A unit of the body's tables by its name (``all``: the survey)."""
        return self.name(self.unit_column, key)

    def cohort(self, key: str) -> str:
        return self.name("cohort", key)

    # --- cells and notes shared by the sections
    def label(self, text: str, *, strong: bool = False) -> Cell:
        return Cell(lines=[text], align="left", strong=strong)

    def head(self, text: str, align: str = "right") -> Cell:
        return Cell(lines=[text], align=align, strong=True)

    def value(self, text: str, align: str = "right", **style: Any) -> Cell:
        return Cell(lines=[text], align=align, **style)

    def est(self, cell: dict | None, *, show_ci: bool = True, show_n: bool = True) -> Cell:
        """An estimate: percentage, then its 95 % CI and n on lines of their own; ``–`` for a domain
        without children. From few children, as the project's convention says: DHS suppresses it
        (``*``) under ``small_cell_n`` and puts it in parentheses under ``caution_n``; VCQI shows
        every estimate with its n."""
        if cell is None:
            return Cell(lines=[DASH], tone="na")
        n = int(cell["n"])
        ci = ([f"{self.num(100 * cell['ci_low'], 1)}–{self.pct(cell['ci_high'])}"]
              if show_ci and cell.get("ci_low") is not None else [])
        count = [f"n = {self.num(n)}"] if show_n else []
        if self.small_numbers == "dhs" and n < self.small_cell_n:
            return Cell(lines=["*", *count], tone="small")
        if self.small_numbers == "dhs" and n < self.caution_n:
            return Cell(lines=[f"({self.pct(cell['estimate'])})", *ci, *count], tone="caution")
        return Cell(lines=[self.pct(cell["estimate"]), *ci, *count], strong=bool(ci))

    def unit_est(self, cell: dict | None) -> Cell:
        """An estimate of a table by unit: with its CI and n, or alone when the units are many."""
        return self.est(cell, show_ci=not self.brief, show_n=not self.brief)

    def unit_note(self) -> Paragraph:
        """The note under a table by unit: what its cells hold."""
        if self.brief:
            return Paragraph(spans=spans(self._("Weighted estimates; confidence intervals and n are in "
                                                "results.xlsx.")), style="note")
        return self.ci_note()

    def small_note(self, table: Table) -> list[Paragraph]:
        """What the table's estimates from few children mean (:meth:`est`), when it has any: the
        footnote every table of DHS-style cells carries; none is needed for VCQI's (n beside each)."""
        tones = {cell.tone for row in table.rows for cell in row.cells}
        notes = []
        if "small" in tones:
            notes.append("* " + self._("Not shown: fewer than %(n)s children in the denominator.", n=self.small_cell_n))
        if "caution" in tones:
            notes.append("( ) " + self._("From %(low)s to %(high)s children in the denominator: to be interpreted with "
                                         "caution.", low=self.small_cell_n, high=self.caution_n - 1))
        return [Paragraph(spans=spans(text), style="note") for text in notes]

    def ci_note(self) -> Paragraph:
        method = self.labels.get("ci_method", {}).get(self.ci_method, self.ci_method)
        return Paragraph(spans=spans(self._(
            "Weighted estimates; below each, the 95%% confidence interval (%(ci)s) and the unweighted number of "
            "children n in the denominator.", ci=method)), style="note")

    def figure(self, name: str, caption: str, width: float = 1.0, source: str | None = None) -> list[Figure]:
        """The chart ``name`` of the run (``charts`` of the context) with its caption (and source,
        see :class:`lqas.blocks.Figure`); nothing when the run drew no such chart. A chart drawn in parts
        that each fit a page (``name``, ``name_2``, ...: :func:`lqas.charts.page_parts`) gives a figure
        per part, its caption saying which part it is."""
        if name not in self.charts:
            return []
        names = [name]
        while f"{name}_{len(names) + 1}" in self.charts:
            names.append(f"{name}_{len(names) + 1}")
        if len(names) == 1:
            return [Figure(chart=self.charts[name], caption=caption, width=width, source=source)]
        return [Figure(chart=self.charts[part], width=width, source=source,
                       caption=f"{caption} {self._('Part %(part)s of %(parts)s.', part=k, parts=len(names))}")
                for k, part in enumerate(names, 1)]

    def sex_table(self, heads: list[str], rows: list[tuple[list[str], dict, bool]], *, caption: str = "") -> Table:
        """Girls, boys and all (the estimates ``F``, ``M``, ``all`` of each row) after the rows' label
        columns (``heads``); a row is (its labels, its estimates, whether it is a total); the small-cell
        note under it."""
        sex = self.labels["sex"]
        return Table(caption=caption,
                     header=[*(self.head(head, "left") for head in heads), self.head(sex["F"]), self.head(sex["M"]),
                             self.head(sex["all"])],
                     rows=[Row(cells=[*(self.label(label) for label in labels), self.unit_est(cells["F"]),
                                      self.unit_est(cells["M"]), self.unit_est(cells["all"])], total=total)
                           for labels, cells, total in rows])

    def group_row(self, text: str, columns: int) -> Row:
        """A row naming the rows under it: its text in bold on grey across the table's ``columns``."""
        return Row(cells=[Cell(lines=[text], align="left", strong=True, tone="neutral", span=columns)])

"""Planning the next round: the children a round (or an arm's round) needs to detect a change in a
proportion, and the change a given sample can detect, for cluster samples (a design effect).

Two forms of the two-proportion formula, said in every output that uses one:

- ``unpooled`` (the default, as WHO's coverage survey manual and most LQAS planning sheets):
  n = DEFF · (z₁₋α/₂ + z₁₋β)² · [p₁(1 − p₁) + p₂(1 − p₂)] / (p₁ − p₂)²;
- ``pooled`` (R ``power.prop.test``, Fleiss): n = DEFF · [z₁₋α/₂ √(2 p̄ q̄) + z₁₋β √(p₁q₁ + p₂q₂)]² / (p₁ − p₂)²,
  p̄ the mean of p₁ and p₂.

A difference in differences (intervention arm against comparison, between two rounds) has four
independent cells of n children each: n = DEFF · (z₁₋α/₂ + z₁₋β)² · Σ pₖ(1 − pₖ) / Δ², Δ the
difference in differences.
"""

from __future__ import annotations

import math
from typing import Literal

from scipy.optimize import brentq
from scipy.stats import norm

Form = Literal["unpooled", "pooled"]


def _check(*proportions: float, alpha: float, power: float, deff: float) -> None:
    for p in proportions:
        if not 0 < p < 1:
            raise ValueError(f"a proportion is between 0 and 1 (exclusive); got {p}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power are between 0 and 1; got alpha={alpha}, power={power}")
    if deff < 1:
        raise ValueError(f"the design effect is at least 1 for a cluster sample; got {deff}")


def change_sample_size(p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.80, deff: float = 1.0,
                       form: Form = "unpooled", exact: bool = False) -> float:
    """Children per round to detect a change from ``p1`` to ``p2`` (two-sided test at ``alpha``, with
    ``power``), in a cluster sample of design effect ``deff``; rounded up unless ``exact``."""
    _check(p1, p2, alpha=alpha, power=power, deff=deff)
    if p1 == p2:
        raise ValueError("p1 and p2 must differ: no sample detects a change of 0")
    z_alpha, z_beta = norm.ppf(1 - alpha / 2), norm.ppf(power)
    spread = p1 * (1 - p1) + p2 * (1 - p2)
    if form == "pooled":
        mean = (p1 + p2) / 2
        n = deff * (z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(spread)) ** 2 / (p1 - p2) ** 2
    else:
        n = deff * (z_alpha + z_beta) ** 2 * spread / (p1 - p2) ** 2
    return n if exact else math.ceil(n - 1e-9)


def did_sample_size(a1: float, a2: float, b1: float, b2: float, *, alpha: float = 0.05, power: float = 0.80,
                    deff: float = 1.0, exact: bool = False) -> float:
    """Children per cell (arm × round) to detect the difference in differences (a2 − a1) − (b2 − b1)."""
    _check(a1, a2, b1, b2, alpha=alpha, power=power, deff=deff)
    effect = (a2 - a1) - (b2 - b1)
    if effect == 0:
        raise ValueError("the difference in differences must not be 0")
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    n = deff * z ** 2 * sum(p * (1 - p) for p in (a1, a2, b1, b2)) / effect ** 2
    return n if exact else math.ceil(n - 1e-9)


def minimum_detectable_change(p1: float, n: float, *, alpha: float = 0.05, power: float = 0.80, deff: float = 1.0,
                              form: Form = "unpooled", direction: Literal["down", "up"] = "down") -> float:
    """The smallest change from ``p1`` (down or up, in proportion points) that ``n`` children per round
    detect with ``power``: the p₂ solving :func:`change_sample_size` = n, returned as p₂ − p₁."""
    _check(p1, alpha=alpha, power=power, deff=deff)
    if n <= 0:
        raise ValueError(f"n is a number of children, above 0; got {n}")

    def gap(p2: float) -> float:
        return change_sample_size(p1, p2, alpha=alpha, power=power, deff=deff, form=form, exact=True) - n

    edge = 1e-12
    far = edge if direction == "down" else 1 - edge
    near = p1 - 1e-9 if direction == "down" else p1 + 1e-9
    if gap(far) > 0:
        raise ValueError(f"{n} children per round detect no change from {p1} {direction} to "
                         f"{'0' if direction == 'down' else '1'} with this power")
    return brentq(gap, far, near, xtol=1e-12) - p1


def minimum_detectable_difference(se: float, *, alpha: float = 0.05, power: float = 0.80) -> float:
    """The smallest difference a survey with this standard error of the difference detects:
    (z₁₋α/₂ + z₁₋β) · se (the observed design effect is in the se)."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se

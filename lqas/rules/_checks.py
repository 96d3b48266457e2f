"""Parameter checks and constants shared by the LQAS modules."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from lqas.errors import ConfigError

_TOL = 1e-12  # float slack for limit checks and alpha+beta ties
_ROUNDINGS = ("hund", "round", "ceiling")
_CONVENTIONS = ("min_successes", "x_greater_than", "max_failures")
DEFAULT_TARGETS = tuple(round(0.10 + 0.05 * i, 2) for i in range(18))  # 0.10 ... 0.95

# --------------------------------------------------------------------------- validation
def _fail(where: str, what: str, got: object, expected: str, hint: str = "",
          exc: type = ConfigError) -> None:
    """Raise the house one-line error: '<where>: <what>; got <got>, expected <expected>. <hint>'."""
    msg = f"{where}: {what}; got {got!r}, expected {expected}."
    raise exc(f"{msg} {hint}".strip())


def _check_int(where: str, name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        _fail(where, f"parameter '{name}' is invalid", value, f"an integer >= {minimum}")
    return int(value)


def _check_prob(where: str, name: str, value: object, *, open_interval: bool) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = 0 < value < 1 if open_interval else 0 <= value <= 1
    if not ok:
        _fail(where, f"parameter '{name}' is out of range", value,
              "a number in (0, 1)" if open_interval else "a number in [0, 1]")
    return float(value)


def _check_thresholds(where: str, good: object, bad: object) -> tuple[float, float]:
    good = _check_prob(where, "good", good, open_interval=False)
    bad = _check_prob(where, "bad", bad, open_interval=False)
    if not bad < good:
        _fail(where, "parameter 'good' must be greater than 'bad'", (good, bad),
              "0 <= bad < good <= 1 as (good, bad)",
              "For a lower-is-better indicator pass the complement (1 - threshold).")
    return good, bad


def _check_choice(where: str, name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        _fail(where, f"parameter '{name}' is not recognised", value, f"one of {list(allowed)}")
    return value  # type: ignore[return-value]



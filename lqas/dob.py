"""The VCQI date-of-birth rule (``dob_for_valid_dose_calculations``), in one place.

Ingest uses it to place each child in a cohort (bounded by the child's own interview date);
the vaccination stage uses it again for valid doses (bounded by the survey's last date and the
youngest eligible age), as VCQI does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lqas.readers import dates_from_parts


def vcqi_dob(parts: Sequence[pd.DataFrame], dates: Sequence[pd.Series], *, latest=None, latest_earliest_rule=None,
             earliest=None) -> tuple[pd.Series, pd.Series]:
    """One date of birth per child from several sources (card, history, register).

    Parameters
    ----------
    parts : sequence of DataFrame
        Per source with day/month/year parts, numeric columns ``d``, ``m``, ``y`` (may be empty:
        then step 1 is skipped).
    dates : sequence of Series
        Per source, the complete date (NaT when none).
    latest : Timestamp or Series, optional
        No date after it is plausible (a Series bounds each child; NaT there bounds nothing).
    latest_earliest_rule : Timestamp or Series, optional
        The bound of step 2 (default ``latest``); VCQI takes the youngest eligible age off it.
    earliest : Timestamp, optional
        No date before it is plausible.

    Returns
    -------
    (dob, rule)
        ``dob`` (datetime, NaT when no plausible date) and ``rule``: ``"agree"`` (1: the filled
        parts of all sources give one day, one month and one year, possibly from different
        sources, and make a plausible date), ``"earliest"`` (2: otherwise the earliest plausible
        complete source date, which "will yield the highest count of valid vaccination dates") or
        ``"none"``.

    Examples
    --------
    >>> card = pd.DataFrame({"d": [5.0], "m": [3.0], "y": [2024.0]})
    >>> history = pd.DataFrame({"d": [np.nan], "m": [3.0], "y": [2024.0]})
    >>> dob, rule = vcqi_dob([card, history], [pd.Series(pd.to_datetime(["2024-03-05"])),
    ...                                        pd.Series([pd.NaT])])
    >>> dob.dt.strftime("%Y-%m-%d").tolist(), rule.tolist()
    (['2024-03-05'], ['agree'])
    """
    index = dates[0].index
    bound2 = latest if latest_earliest_rule is None else latest_earliest_rule

    def plausible(values: pd.Series, upper) -> pd.Series:
        ok = values.notna()
        if earliest is not None:
            ok &= values >= earliest
        if upper is not None:
            ok &= ~(values > upper)
        return ok

    step1 = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if parts:
        agreed, single = {}, pd.Series(True, index=index)
        for part in "dmy":
            values = pd.concat([frame[part] for frame in parts], axis=1)
            high, low = values.max(axis=1), values.min(axis=1)
            single &= high.notna() & (high == low)
            agreed[part] = high
        step1 = dates_from_parts(agreed["d"], agreed["m"], agreed["y"]).dates.where(single)
        step1 = step1.where(plausible(step1, latest))
    step2 = pd.concat([full.where(plausible(full, bound2)) for full in dates], axis=1).min(axis=1)
    dob = pd.to_datetime(step1.fillna(step2))
    rule = np.select([step1.notna(), step2.notna()], ["agree", "earliest"], "none")
    return dob, pd.Series(rule, index=index)

"""The period under review (a calendar month) and the windows that end with it."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FairwayError

class PeriodError(FairwayError):
    """A period that cannot be reviewed: not a month, or outside the data."""


MIN_DAYS_FOR_DEFAULT = 15   # a month with less data than this is not the default period
WEEKEND_SLACK_DAYS = 3      # data ending this close to a month's end covers the whole month


@dataclass(frozen=True)
class Period:
    month: pd.Period            # e.g. Period('2026-10', 'M')
    as_of: pd.Timestamp         # the moment metrics are taken: the month's end, or the data's end
    after_data: bool = False    # the month starts after the data's last day: its own figures are empty

    @property
    def label(self) -> str:
        return str(self.month)

    @property
    def start(self) -> pd.Timestamp:
        return self.month.start_time

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end of the month."""
        return (self.month + 1).start_time

    @property
    def days_in_month(self) -> int:
        return int(self.month.days_in_month)

    @property
    def elapsed_share(self) -> float:
        """How much of the month the data covers (1.0 for a complete month)."""
        span = (self.end - self.start).total_seconds()
        return max(min((self.as_of - self.start).total_seconds() / span, 1.0), 1 / span * 86400)

    def window(self, months: int) -> tuple[np.datetime64, np.datetime64]:
        """[start, end) of the `months` calendar months ending with this one."""
        start = (self.month - (months - 1)).start_time
        return np.datetime64(start, "s"), np.datetime64(min(self.end, self.as_of), "s")

    def months_back(self, n: int) -> pd.PeriodIndex:
        return pd.period_range(end=self.month, periods=n, freq="M")


def parse_month(text: str) -> pd.Period:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text or ""):
        raise PeriodError(f"period {text!r} is not a month; expected YYYY-MM, e.g. 2026-10")
    return pd.Period(text, freq="M")


def resolve_period(last_date: pd.Timestamp | None, period: str | None = None,
                   first_date: pd.Timestamp | None = None, reach_months: int = 12) -> Period:
    """The period to review: the given month, else the latest month the data covers well.

    `last_date` is the data's as-of day (the last day of done work). By default the month
    reviewed is that day's month, unless the data reaches fewer than MIN_DAYS_FOR_DEFAULT
    days into it (an export taken early in a month reviews the month before, as a manager
    does on the first business day). A month given is refused when none of its windows
    (the longest reaches `reach_months` back) holds any data: its figures would be made of
    nothing. A month after the data's last day is reviewed, flagged by `Period.after_data`.
    """
    if period is not None:
        month = parse_month(period)
        if first_date is not None and (month + 1).start_time <= first_date:
            raise PeriodError(f"no data in {month} or before it: the data starts on {first_date.date()}")
        if last_date is not None and (month - (reach_months - 1)).start_time > last_date:
            raise PeriodError(f"no data in {month} or in the {reach_months} months before it: "
                              f"the data ends on {last_date.date()}")
    elif last_date is None:
        raise PeriodError("the dataset holds no dated events: there is no month to review")
    else:
        month = pd.Period(last_date, freq="M")
        if last_date.day < MIN_DAYS_FOR_DEFAULT:
            month = month - 1
    return Period(month, _as_of(month, last_date), after_data=last_date is not None
                  and month.start_time > last_date)


def _as_of(month: pd.Period, last_date: pd.Timestamp | None) -> pd.Timestamp:
    """The month's end, or the day after the last data if the month is still under way."""
    end = (month + 1).start_time
    if last_date is None:
        return end
    after = last_date.normalize() + pd.Timedelta(days=1)
    if after >= end - pd.Timedelta(days=WEEKEND_SLACK_DAYS):
        return end
    return max(month.start_time + pd.Timedelta(days=1), after)

"""Monday-based UTC weeks, the unit of every partition."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd


def week_start(timestamps: pd.Series) -> pd.Series:
    """The Monday (as a date) of each naive-UTC timestamp."""
    ts = pd.to_datetime(timestamps)
    return (ts.dt.normalize() - pd.to_timedelta(ts.dt.weekday, unit="D")).dt.date


def monday(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def span(start: date | str, end: date | str) -> str:
    """Weeks as people read them: "week 2017-12-04", "weeks 2017-11-20..2017-12-04"."""
    return f"week {start}" if str(start) == str(end) else f"weeks {start}..{end}"


def window(week: date, n_weeks: int) -> list[date]:
    """The `n_weeks` weeks ending with `week`, oldest first."""
    return [week - timedelta(weeks=k) for k in range(n_weeks - 1, -1, -1)]

"""Monday-based UTC weeks, the unit of every partition."""

from __future__ import annotations

import re
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


WEEK_FORMS = "YYYY-MM-DD (any day of the week) or YYYY-Www (its ISO week, e.g. 2017-W48)"


def parse_week(text: str) -> date:
    """The Monday of the week a person named, by any day of it or by its ISO week: the one reading of
    a week on every command line (`run --weeks` read '2017-W48' and '20171127' by accident, the
    other commands neither)."""
    if iso := re.fullmatch(r"(\d{4})-W(\d{2})", text.strip()):
        try:
            return date.fromisocalendar(int(iso[1]), int(iso[2]), 1)
        except ValueError:
            pass
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return monday(date.fromisoformat(text.strip()))
        except ValueError:
            pass
    raise ValueError(f"a week is {WEEK_FORMS}, not {text!r}")

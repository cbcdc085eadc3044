"""Numeric dates read in one order per file: 02/11/2026 is 2 November in an export whose dates
include 13/11/2026, and 11 February in one whose dates include 11/13/2026.

dateutil reads each value alone, month first unless the first number cannot be a month, so a
European export came in mixed: 02.11.2026 as 11 February, 13.11.2026 as 13 November. A column
follows one convention, so the values that only one order can read decide it for all of them
(`date_order`). When none does (every day of the export is 12 or less, as in a week's export of a
month's first days), the position holding more distinct numbers is the day: an export spans more
days than months, and read the wrong way round, 01/12 to 05/12 would be one ticket on the 12th of
each of five months. When that ties too, dotted dates are day first (no locale writes the month
first with dots) and others month first, dateutil's default. A value the decided order cannot read
is rejected with the reason, never read the other way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ticket_intel.core.sources.base import RecordError

NUMERIC_DATE = re.compile(r"\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)(.*)", re.DOTALL)


@dataclass(frozen=True)
class DateOrder:
    day_first: bool | None  # None: no value decided it, each is read by its separator
    decided_by: int = 0  # the values only that order reads


def date_order(values: Iterable[Any]) -> DateOrder:
    """The order most of the values that only one order reads need (a tie: day first, since a
    month-first export rarely has the inconsistency); when none does, the order whose days vary
    more than its months (module docstring)."""
    day = month = 0
    firsts: set[int] = set()
    seconds: set[int] = set()
    for value in values:
        match = NUMERIC_DATE.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            first, second = int(match[1]), int(match[3])
            day += first > 12 >= second
            month += second > 12 >= first
            firsts.add(first)
            seconds.add(second)
    if day or month:
        return DateOrder(day >= month, max(day, month))
    return DateOrder(None if len(firsts) == len(seconds) else len(firsts) > len(seconds))


def iso_date(value: Any, order: DateOrder) -> Any:
    """A numeric date as ISO (`2026-11-02 14:00`), read in `order`; any other value as it is."""
    match = NUMERIC_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value
    first, separator, second, year, rest = int(match[1]), match[2], int(match[3]), match[4], match[5]
    day_first = separator == "." if order.day_first is None else order.day_first
    day, month = (first, second) if day_first else (second, first)
    if month > 12:
        ours, other = ("day", "month") if day_first else ("month", "day")
        raise RecordError(f"created_at {value.strip()[:40]!r} reads {other} first, but this export's dates are "
                          f"{ours} first ({order.decided_by} read only that way): set created_at_format in a mapping")
    return f"{int(year) + (2000 if len(year) == 2 else 0):04d}-{month:02d}-{day:02d}{rest}"

"""Time zone names after a time ("2026-10-01 10:00:00 PST"), read as their UTC offsets.

dateutil knows no zone name but UTC and GMT (and the machine's own): any other it reads as UTC with
a warning on stderr, which moved every ticket of an export written in Pacific time by eight hours,
across week boundaries, in silence. The names here are those one zone owns. A name several zones
use (CST: US Central, China or Cuba; IST: India, Ireland or Israel; BST: British summer or
Bangladesh; AST: Atlantic or Arabia) or none is refused, with the reason, never guessed.

"UTC+2", "GMT+0200" (JavaScript's `Date.toString()`) and "UTC-05:00" mean the offset as ISO 8601
writes it, but dateutil reads them the POSIX way ("GMT+3" is three hours *behind* GMT), which put
such a time four hours off in silence: they are rewritten as the offset before dateutil reads them.

A time written with no offset nor zone (a Freshdesk CSV's, a spreadsheet's) is the helpdesk's local
time: read in the zone `local_zone` names while a parse runs (the `TICKET_INTEL_TIMEZONE` setting;
UTC by default, as before), daylight saving included. Unix timestamps are UTC whatever it is.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser
from dateutil.parser import UnknownTimezoneWarning

_HOURS = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "NST": -3.5, "NDT": -2.5, "ADT": -3,
    "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AWST": 8, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11,
    "NZST": 12, "NZDT": 13,
}  # fmt: skip
ZONE_OFFSETS = {name: int(hours * 3600) for name, hours in _HOURS.items()}
# "UTC+2", "GMT+0200", "UTC -05:00", and the zone's name JavaScript writes after it in parentheses.
_NAMED_OFFSET = re.compile(r"\b(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b(?:\s*\([^)]*\))?")


def _iso_offset(match: re.Match[str]) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def parse_time_text(text: str) -> datetime:
    """dateutil's reading of a written time, its zone name as `ZONE_OFFSETS` has it; ValueError
    naming the zone when it is another."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTimezoneWarning)
        try:
            return dateparser.parse(_NAMED_OFFSET.sub(_iso_offset, text), tzinfos=ZONE_OFFSETS)
        except UnknownTimezoneWarning as exc:
            zone = str(exc).split()[1] if len(str(exc).split()) > 1 else "?"
            raise ValueError(f"time zone {zone!r} is not one this reads (several zones use the name, or none): "
                             "write the time with its UTC offset (-06:00)") from None


LOCAL_ZONE: ContextVar[str] = ContextVar("local_zone", default="UTC")


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    """An IANA time zone by name ("" is UTC); ValueError saying what to write for another."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones ("Pacific")
        raise ValueError(f"time zone {name!r} is not one this knows: give an IANA name such as Europe/Berlin "
                         "or America/Los_Angeles") from None


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Read times written without an offset as `name`'s local time while the block parses exports."""
    zone(name)
    token = LOCAL_ZONE.set(name or "UTC")
    try:
        yield
    finally:
        LOCAL_ZONE.reset(token)


def as_local(ts: datetime) -> datetime:
    """A time without an offset as the local zone's (`local_zone`); one with an offset, or any in
    UTC (the default, kept naive: no conversion per ticket), as it is."""
    name = LOCAL_ZONE.get()
    return ts.replace(tzinfo=zone(name)) if ts.tzinfo is None and name not in ("UTC", "") else ts

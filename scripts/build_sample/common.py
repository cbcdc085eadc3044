"""Small helpers every stage shares: seeded streams, weeks, checks, ids, the Luhn rule, the JSON layout."""

import json
import random
import re
from datetime import date, datetime, timedelta
from typing import Any

from .constants import N_WEEKS, SEED, WEEK1

JSONDict = dict[str, Any]


def stream(name: str) -> random.Random:
    """Give each build stage its own seeded generator, so changing one stage leaves the others alone."""
    return random.Random(f"{SEED}:{name}")


def week_start(index: int) -> date:
    """Monday of the 0-based week ``index``."""
    return WEEK1 + timedelta(weeks=index)


def week_starts() -> list[str]:
    """The ISO dates of all week starts, as planted.json lists them."""
    return [week_start(week).isoformat() for week in range(N_WEEKS)]


def monday_of(moment: datetime) -> str:
    """The week_start (ISO date) of the week containing ``moment``."""
    return (moment.date() - timedelta(days=moment.weekday())).isoformat()


class BuildError(Exception):
    """A promised property of the sample does not hold; raised instead of assert so ``-O`` cannot skip it."""


def check(condition: bool, what: object) -> None:
    """Fail the build with ``what`` as the explanation unless ``condition`` holds."""
    if not condition:
        raise BuildError(str(what))


class IdSequence:
    """Increasing ids with small random gaps, like a real system where some records were deleted."""

    def __init__(self, start: int, max_gap: int, rng: random.Random) -> None:
        self._next = start
        self._max_gap = max_gap
        self._rng = rng

    def take(self) -> int:
        """Return the next id."""
        value = self._next
        self._next += self._rng.randint(1, self._max_gap)
        return value


def luhn_digit(body: str) -> str:
    """Check digit that makes ``body`` + digit pass the Luhn test, so planted card numbers look real."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn test."""
    digits = re.sub(r"\D", "", number)
    return luhn_digit(digits[:-1]) == digits[-1]


def dump_json(document: JSONDict) -> str:
    """JSON with one element of each top-level list per line: compact, diff- and grep-friendly, plain JSON."""
    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            entries = ",\n".join(json.dumps(entry, ensure_ascii=False, sort_keys=False) for entry in value)
            lines.append(f"{json.dumps(key)}: [\n{entries}\n]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"

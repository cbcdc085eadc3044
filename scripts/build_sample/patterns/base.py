"""What a planted ticket pattern is, and the helpers the patterns share."""

import random
from collections import Counter, defaultdict
from typing import Protocol

from ..common import JSONDict
from ..constants import SOURCES
from ..model import Customer


class Pattern(Protocol):
    """An intent whose weekly volume, timing and customers are set on purpose, for the tests to find.

    It plans its tickets, states its ground truth in planted.json under ``key``, and checks that truth once
    the files are written.
    """

    @property
    def key(self) -> str:
        """Its entry in planted.json."""

    @property
    def intent(self) -> str:
        """The banking77 label its tickets' texts come from."""

    @property
    def area(self) -> str:
        """Triage area of the intent, for helpdesk tags and groups."""

    def weekly_count(self, rng: random.Random, week: int) -> int:
        """Tickets in the 0-based ``week``; 0 leaves the intent out of that week."""

    def day_weights(self, week: int) -> tuple[int, ...]:
        """Weights of Monday..Sunday for the tickets' creation times in ``week``."""

    def customers(
        self, rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
    ) -> list[Customer]:
        """The customer of each of one week's tickets, given each ticket's source."""

    def truth(self, weeks: list[str], per_week: Counter[tuple[str, str]]) -> JSONDict:
        """Its planted.json entry, from the valid tickets' counts by (intent, week_start)."""

    def verify(self, truth: JSONDict) -> None:
        """Raise ``BuildError`` unless planted.json shows the pattern as designed."""


def distinct_customers(
    rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
) -> list[Customer]:
    """A different customer for every ticket, drawn uniformly, so distinct-customer counts back a pattern up."""
    per_source = Counter(sources)
    chosen = {source: rng.sample(customers[source], per_source[source]) for source in SOURCES}
    return [chosen[source].pop() for source in sources]


def week_customers(truth: JSONDict, intent: str) -> dict[str, set[str]]:
    """The distinct customers who filed valid tickets of ``intent``, by week_start."""
    customers: dict[str, set[str]] = defaultdict(set)
    for ticket in truth["valid_tickets"]:
        if ticket["intent"] == intent:
            customers[ticket["week_start"]].add(ticket["customer_key"])
    return customers

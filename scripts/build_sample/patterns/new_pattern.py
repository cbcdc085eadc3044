"""The planted new pattern: an intent absent for weeks that appears with a release and stays."""

import random
from collections import Counter
from dataclasses import dataclass

from ..common import JSONDict, check
from ..constants import DAY_WEIGHTS
from ..model import Customer
from .base import distinct_customers, week_customers


@dataclass(frozen=True)
class NewPattern:
    """Fixed ``counts`` by 0-based week, none before the first; the first week starts on launch day."""

    key: str
    intent: str
    area: str
    counts: dict[int, int]
    launch_day_weights: tuple[int, ...]

    @property
    def first_week(self) -> int:
        """The 0-based week the intent first appears in."""
        return min(self.counts)

    def weekly_count(self, rng: random.Random, week: int) -> int:
        """The planned count; no draw, the pattern is exact."""
        return self.counts.get(week, 0)

    def day_weights(self, week: int) -> tuple[int, ...]:
        """The first week follows the launch; later weeks look like any intent."""
        return self.launch_day_weights if week == self.first_week else DAY_WEIGHTS

    def customers(
        self, rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
    ) -> list[Customer]:
        """Each ticket of a week from a different customer."""
        return distinct_customers(rng, customers, sources)

    def truth(self, weeks: list[str], per_week: Counter[tuple[str, str]]) -> JSONDict:
        """The first week and the count of every week, including the zero weeks before it."""
        return {
            "intent": self.intent,
            "first_week": weeks[self.first_week],
            "counts": {week: per_week[self.intent, week] for week in weeks},
        }

    def verify(self, truth: JSONDict) -> None:
        """Every week has its planned count, and the first week's tickets come from distinct customers."""
        entry, weeks = truth[self.key], truth["weeks"]
        planned = {week: self.counts.get(index, 0) for index, week in enumerate(weeks)}
        check(entry["counts"] == planned and entry["first_week"] == weeks[self.first_week], entry)
        customers = week_customers(truth, self.intent)[entry["first_week"]]
        check(len(customers) == planned[entry["first_week"]], "new-pattern customers")


NEW_PATTERN = NewPattern(
    key="new_pattern",
    intent="virtual_card_not_working",
    area="cards",
    counts={9: 28, 10: 17, 11: 17},  # absent before week 10 (2026-11-02)
    launch_day_weights=(0, 0, 3, 3, 3, 2, 2),  # starts on Wednesday, two days after release 4.2 (releases.csv)
)

"""The planted volume spike: a steady intent that jumps in one week, mid-week, like an outage."""

import random
import statistics
from collections import Counter
from dataclasses import dataclass

from ..common import JSONDict, check
from ..constants import DAY_WEIGHTS
from ..model import Customer
from .base import distinct_customers, week_customers

MIN_RATIO = 3.5  # the spike week must stand out from any plausible baseline by at least this factor


@dataclass(frozen=True)
class Spike:
    """``count`` tickets in the 0-based ``week``; ``baseline`` ± ``jitter`` in every other week."""

    key: str
    intent: str
    area: str
    week: int
    count: int
    baseline: int
    jitter: int
    spike_day_weights: tuple[int, ...]

    def weekly_count(self, rng: random.Random, week: int) -> int:
        """The spike in its week, a jittered baseline elsewhere."""
        return self.count if week == self.week else self.baseline + rng.randint(-self.jitter, self.jitter)

    def day_weights(self, week: int) -> tuple[int, ...]:
        """The spike week has its own day profile; other weeks look like any intent."""
        return self.spike_day_weights if week == self.week else DAY_WEIGHTS

    def customers(
        self, rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
    ) -> list[Customer]:
        """Each ticket of a week from a different customer."""
        return distinct_customers(rng, customers, sources)

    def truth(self, weeks: list[str], per_week: Counter[tuple[str, str]]) -> JSONDict:
        """The spike week and count, and the mean of the weeks before it (the baseline a detector sees)."""
        before = weeks[: self.week]
        return {
            "intent": self.intent,
            "week_start": weeks[self.week],
            "count": per_week[self.intent, weeks[self.week]],
            "baseline_mean": round(statistics.mean(per_week[self.intent, w] for w in before), 2),
        }

    def verify(self, truth: JSONDict) -> None:
        """The spike is as planned, stands out, and comes from as many customers as tickets."""
        entry = truth[self.key]
        check(entry["count"] == self.count and entry["count"] >= MIN_RATIO * entry["baseline_mean"], entry)
        counts = Counter(t["week_start"] for t in truth["valid_tickets"] if t["intent"] == self.intent)
        others = [counts[week] for week in truth["weeks"] if week != entry["week_start"]]
        check(all(abs(n - self.baseline) <= self.jitter for n in others), entry)
        customers = week_customers(truth, self.intent)[entry["week_start"]]
        check(len(customers) == entry["count"], "spike customers")


SPIKE = Spike(
    key="spike",
    intent="declined_card_payment",
    area="cards",
    week=10,  # week 11, 2026-11-09
    count=33,
    baseline=8,
    jitter=1,
    spike_day_weights=(2, 8, 10, 6, 2, 1, 1),  # an outage concentrates the spike on Tuesday-Thursday
)

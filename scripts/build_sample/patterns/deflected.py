"""The planted deflection: a steady intent whose volume drops once a help-center article answers it.

The article itself is in ``help_center`` (published on the Monday of ``article_week``); this module plants
the tickets, so the docs status of the intent's theme is ``covered``: customers ask less since it exists.
"""

import random
import statistics
from collections import Counter
from dataclasses import dataclass

from ..common import JSONDict, check
from ..constants import DAY_WEIGHTS
from ..model import Customer
from .base import distinct_customers


@dataclass(frozen=True)
class Deflected:
    """``before`` ± ``jitter`` tickets a week until ``article_week`` (0-based), ``after`` ± ``jitter`` from it on."""

    key: str
    intent: str
    area: str
    article_week: int
    before: int
    after: int
    jitter: int

    def weekly_count(self, rng: random.Random, week: int) -> int:
        """The level of its side of the article, jittered."""
        level = self.before if week < self.article_week else self.after
        return level + rng.randint(-self.jitter, self.jitter)

    def day_weights(self, week: int) -> tuple[int, ...]:
        """Like any intent."""
        return DAY_WEIGHTS

    def customers(
        self, rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
    ) -> list[Customer]:
        """Each ticket of a week from a different customer, so the theme is big enough to rank after the drop."""
        return distinct_customers(rng, customers, sources)

    def truth(self, weeks: list[str], per_week: Counter[tuple[str, str]]) -> JSONDict:
        """The article's week and the weekly means on both sides of it."""
        counts = [per_week[self.intent, week] for week in weeks]
        return {
            "intent": self.intent,
            "article_week": weeks[self.article_week],
            "before_mean": round(statistics.mean(counts[: self.article_week]), 2),
            "after_mean": round(statistics.mean(counts[self.article_week :]), 2),
        }

    def verify(self, truth: JSONDict) -> None:
        """Every week after the article is below every week before it, and still a theme (5 tickets or more)."""
        counts = Counter(t["week_start"] for t in truth["valid_tickets"] if t["intent"] == self.intent)
        weeks = truth["weeks"]
        before = [counts[w] for w in weeks[: self.article_week]]
        after = [counts[w] for w in weeks[self.article_week :]]
        check(max(after) < min(before) and min(after) >= 5, (self.key, before, after))
        check(truth[self.key]["article_week"] == weeks[self.article_week], truth[self.key])


DEFLECTED = Deflected(
    key="deflected",
    intent="activate_my_card",
    area="cards",
    article_week=8,  # 2026-10-26: the help center's card-activation article is published that Monday
    before=14,
    after=6,
    jitter=1,
)

"""The planted segment: a steady intent filed mostly by customers of Enterprise accounts."""

import math
import random
from collections import Counter
from dataclasses import dataclass

from ..common import JSONDict, check
from ..constants import DAY_WEIGHTS, SOURCES
from ..model import Customer


@dataclass(frozen=True)
class Concentrated:
    """``mean`` ± ``jitter`` tickets every week; at least ``share`` of each week's from ``plan`` accounts."""

    key: str
    intent: str
    area: str
    plan: str
    share: float
    mean: int
    jitter: int

    def weekly_count(self, rng: random.Random, week: int) -> int:
        """A jittered steady level: the theme neither spikes nor is new."""
        return self.mean + rng.randint(-self.jitter, self.jitter)

    def day_weights(self, week: int) -> tuple[int, ...]:
        """Like any intent."""
        return DAY_WEIGHTS

    def customers(
        self, rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
    ) -> list[Customer]:
        """Distinct customers; the first ceil(share x n) tickets (in a shuffled order) from ``plan`` accounts."""
        n_plan = math.ceil(self.share * len(sources))
        in_plan = [i < n_plan for i in range(len(sources))]
        rng.shuffle(in_plan)
        pools = {
            (source, wanted): [c for c in customers[source] if (c.account is not None and c.account.plan == self.plan) == wanted]
            for source in SOURCES for wanted in (True, False)
        }  # fmt: skip
        need = Counter(zip(sources, in_plan, strict=True))
        chosen = {key: rng.sample(pools[key], n) for key, n in need.items()}
        return [chosen[source, wanted].pop() for source, wanted in zip(sources, in_plan, strict=True)]

    def truth(self, weeks: list[str], per_week: Counter[tuple[str, str]]) -> JSONDict:
        """The intent, the plan it concentrates in and the planned least share."""
        return {"intent": self.intent, "plan": self.plan, "min_share": self.share}

    def verify(self, truth: JSONDict) -> None:
        """Each week at least ``share`` of the intent's tickets come from ``plan`` accounts, against at most
        half that share among all valid tickets."""
        valid = truth["valid_tickets"]
        mine = [t for t in valid if t["intent"] == self.intent]
        for week in truth["weeks"]:
            plans = [t["plan"] for t in mine if t["week_start"] == week]
            check(plans and sum(p == self.plan for p in plans) / len(plans) >= self.share, (self.key, week, plans))
        overall = sum(t["plan"] == self.plan for t in valid) / len(valid)
        check(overall <= self.share / 2, (self.key, "baseline share", overall))


ENTERPRISE = Concentrated(
    key="enterprise_segment",
    intent="direct_debit_payment_not_recognised",
    area="transfers",
    plan="enterprise",
    share=0.8,
    mean=12,
    jitter=1,
)

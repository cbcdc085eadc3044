"""The ticket plan: how many tickets of each intent each week, from whom, when, and the malformed records."""

import random
from datetime import UTC, datetime, timedelta

from .common import week_start
from .constants import (
    BASE_WEEK_TOTAL,
    BASE_WEEKLY,
    DAY_WEIGHTS,
    DEFECTS,
    HOUR_WEIGHTS,
    MALFORMED_TEXT_INTENTS,
    MESSAGELESS_DEFECTS,
    N_WEEKS,
    SOURCE_WEIGHTS,
    SOURCES,
)
from .model import Customer, Ticket
from .patterns import PATTERN_OF, PATTERNS
from .texts import TextPool


def random_time(rng: random.Random, week: int, day_weights: tuple[int, ...] = DAY_WEIGHTS) -> datetime:
    """A second-resolution UTC time inside ``week``, busier on weekdays and in office hours."""
    day = rng.choices(range(7), weights=day_weights)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    start = datetime.combine(week_start(week), datetime.min.time(), tzinfo=UTC)
    return start + timedelta(days=day, hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


def base_counts(rng: random.Random) -> dict[str, int]:
    """One week of base intents, jittered around their means, with the week's total pinned to a range.

    The jitter is small and the total fixed, so no base intent ever looks like a spike by chance; only the
    planted patterns stand out.
    """
    counts = {}
    for intent, mean in BASE_WEEKLY.items():
        spread = max(1, round(mean * 0.2))
        counts[intent] = max(1, mean + rng.randint(-spread, spread))
    diff = rng.randint(*BASE_WEEK_TOTAL) - sum(counts.values())
    adjustable = [intent for intent, mean in BASE_WEEKLY.items() if mean >= 8]
    while diff:
        step = 1 if diff > 0 else -1
        counts[rng.choice(adjustable)] += step
        diff -= step
    return counts


def weekly_plan(rng: random.Random) -> list[dict[str, int]]:
    """Tickets per intent per week: the base intents, then each planted pattern's count."""
    plan = []
    for week in range(N_WEEKS):
        counts = base_counts(rng)
        for pattern in PATTERNS:
            if count := pattern.weekly_count(rng, week):
                counts[pattern.intent] = count
        plan.append(counts)
    return plan


def frequent_filers(
    rng: random.Random, customers: dict[str, list[Customer]], sources: list[str]
) -> list[Customer]:
    """A customer per ticket, favouring those who file often, so a few customers file many tickets."""
    return [rng.choices(customers[s], weights=[c.weight for c in customers[s]])[0] for s in sources]


def plan_tickets(rng: random.Random, pool: TextPool, customers: dict[str, list[Customer]]) -> list[Ticket]:
    """Turn the weekly plan into tickets with a source, customer, time and banking77 text each.

    A planted pattern picks its own customers and days; other intents use the common profile.
    """
    tickets = []
    for week, counts in enumerate(weekly_plan(rng)):
        for intent, count in counts.items():
            sources = rng.choices(SOURCES, weights=SOURCE_WEIGHTS, k=count)
            pattern = PATTERN_OF.get(intent)
            if pattern is None:
                people, day_weights = frequent_filers(rng, customers, sources), DAY_WEIGHTS
            else:
                people, day_weights = pattern.customers(rng, customers, sources), pattern.day_weights(week)
            for source, person in zip(sources, people, strict=True):
                created = random_time(rng, week, day_weights)
                tickets.append(Ticket(source, week, intent, person, created, pool.take(intent)))
    return tickets


def plan_malformed(rng: random.Random, pool: TextPool, customers: dict[str, list[Customer]]) -> list[Ticket]:
    """One record per defect code, at a random time in a random week, from an existing customer."""
    records = []
    for source in SOURCES:
        for defect in DEFECTS[source]:
            week = rng.randrange(N_WEEKS)
            text = "" if defect in MESSAGELESS_DEFECTS else pool.take(rng.choice(MALFORMED_TEXT_INTENTS))
            person = rng.choice(customers[source])
            records.append(Ticket(source, week, "", person, random_time(rng, week), text, defect=defect))
    return records

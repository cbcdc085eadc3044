"""The customer's message and subject: the banking77 text, sometimes a greeting, a sign-off and PII."""

import random

from .common import luhn_digit
from .constants import PII_KINDS, PII_SHARE, PII_TYPE_WEIGHTS
from .model import Customer, Ticket
from .population import email_local
from .vocabulary import (
    FIRST_NAMES,
    GENERIC_SUBJECTS,
    GREETINGS,
    LAST_NAMES,
    PERSONAL_DOMAINS,
    PII_TEMPLATES,
    SIGN_OFFS,
)


def fake_email(rng: random.Random, customer: Customer) -> str:
    """A personal address, mostly on the customer's own name."""
    if rng.random() < 0.7:
        first, last = customer.first, customer.last
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{email_local(first, last)}@{rng.choice(PERSONAL_DOMAINS)}"


def fake_phone(rng: random.Random, customer: Customer) -> str:
    """A number from a range reserved for fiction or testing, in one of four national styles."""
    return rng.choice(
        (
            f"+44 7700 900{rng.randint(0, 999):03d}",
            f"(555) 01{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}",
            f"+1 415 555 01{rng.randint(0, 99):02d}",
            f"+49 30 23125 {rng.randint(0, 999):03d}",
        )
    )


def fake_card(rng: random.Random, customer: Customer) -> str:
    """A Luhn-valid 16-digit Visa- or Mastercard-like number, grouped by four with spaces or dashes."""
    body = rng.choice(("4", f"5{rng.randint(1, 5)}"))
    body += "".join(str(rng.randint(0, 9)) for _ in range(15 - len(body)))
    digits = body + luhn_digit(body)
    return rng.choice((" ", "-")).join(digits[i : i + 4] for i in range(0, 16, 4))


def fake_person(rng: random.Random, customer: Customer) -> str:
    """Mostly the requester's own full name, sometimes someone else's."""
    if rng.random() < 0.8:
        return customer.name
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def fake_order(rng: random.Random, customer: Customer) -> str:
    """An order reference in one of two shop styles."""
    if rng.random() < 0.5:
        return f"ORD-{rng.randint(0, 999_999):06d}"
    return f"order #{rng.randint(1_000_000, 9_999_999)}"


PII_VALUES = {
    "email": fake_email,
    "phone": fake_phone,
    "card": fake_card,
    "person": fake_person,
    "order": fake_order,
}


def pii_kinds(rng: random.Random) -> list[str]:
    """One PII type by weight, and 30% of the time a second, different one."""
    chosen = rng.choices(PII_KINDS, weights=[PII_TYPE_WEIGHTS[k] for k in PII_KINDS])
    if rng.random() < 0.3:
        others = [k for k in PII_KINDS if k != chosen[0]]
        chosen += rng.choices(others, weights=[PII_TYPE_WEIGHTS[k] for k in others])
    return chosen


def plant_pii(rng: random.Random, ticket: Ticket) -> tuple[list[str], list[str]]:
    """PII sentences to put before and after the text; each value is recorded on the ticket."""
    before: list[str] = []
    after: list[str] = []
    for kind in pii_kinds(rng):
        value = PII_VALUES[kind](rng, ticket.customer)
        sentence = rng.choice(PII_TEMPLATES[kind]).format(v=value)
        (before if kind == "person" or rng.random() < 0.4 else after).append(sentence)
        ticket.pii.append((kind, value))
    return before, after


def compose(rng: random.Random, ticket: Ticket, with_pii: bool) -> None:
    """Set the ticket's subject and message; the subject comes from the bare text, so it never holds PII."""
    if rng.random() < 0.65:
        ticket.subject = " ".join(ticket.text.split()[: rng.randint(6, 9)])
    else:
        ticket.subject = rng.choice(GENERIC_SUBJECTS)
    before, after = plant_pii(rng, ticket) if with_pii else ([], [])
    if not before and rng.random() < 0.15:
        before.append(rng.choice(GREETINGS))
    if rng.random() < 0.1:
        after.append(rng.choice(SIGN_OFFS))
    ticket.segments = [*before, ticket.text, *after]


def compose_messages(rng: random.Random, tickets: list[Ticket]) -> None:
    """Write every message; PII goes into exactly ``PII_SHARE`` of the valid tickets, one or two values each."""
    valid = [index for index, ticket in enumerate(tickets) if ticket.defect is None]
    with_pii = set(rng.sample(valid, round(len(valid) * PII_SHARE)))
    for index, ticket in enumerate(tickets):
        if ticket.text:
            compose(rng, ticket, index in with_pii)

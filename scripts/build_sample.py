#!/usr/bin/env python3
"""Build the committed demo sample in ``data/sample/`` from banking77 texts.

The sample imitates three helpdesk exports (Zendesk, Intercom, Freshdesk) over 12 weeks, with one planted
volume spike, one planted new intent, planted PII and planted malformed records. The customer texts are real
banking77 queries; every other field is synthetic. Only the standard library is used and every random draw
comes from a ``random.Random`` seeded with a fixed string, with dates fixed in code, so two runs write
byte-identical files. ``planted.json`` is the ground truth the tests assert on; the checks at the end re-read
the written files and fail the build loudly if a stated property does not hold.

Usage: python scripts/build_sample.py --banking77 ../shared/datasets/banking77 --out data/sample
"""

import argparse
import csv
import hashlib
import html
import io
import json
import random
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = 77
N_WEEKS = 12
WEEK1 = date(2026, 8, 31)  # a Monday; week 12 starts 2026-11-16
# "Now" as seen by the exports: statuses and update times depend on ticket age, never on the real clock.
EXPORT_TIME = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

SPIKE_INTENT = "declined_card_payment"
SPIKE_WEEK = 10  # 0-based index: week 11
SPIKE_COUNT = 33
SPIKE_BASELINE = 8
NEW_INTENT = "virtual_card_not_working"
NEW_COUNTS = {9: 28, 10: 17, 11: 17}  # 0-based week index -> tickets; absent before week 10

# Mean tickets per week of each base intent (labels verbatim from banking77, including its capital "R").
BASE_WEEKLY = {
    "cash_withdrawal_charge": 14,
    "wrong_amount_of_cash_received": 14,
    "transfer_not_received_by_recipient": 14,
    "Refund_not_showing_up": 13,
    "card_arrival": 12,
    "pending_top_up": 11,
    "top_up_failed": 11,
    "beneficiary_not_allowed": 11,
    "change_pin": 10,
    "edit_personal_details": 9,
    "country_support": 9,
    "exchange_rate": 9,
    "passcode_forgotten": 8,
    "verify_my_identity": 7,
    "lost_or_stolen_card": 6,
    "terminate_account": 6,
    "unable_to_verify_identity": 5,
    "get_physical_card": 4,
    "age_limit": 4,
    "atm_support": 3,
}
BASE_WEEK_TOTAL = (180, 188)  # the base intents of one week sum to a number in this range
# Texts for malformed records come from intents outside the sample, so they never touch its statistics.
MALFORMED_TEXT_INTENTS = ("apple_pay_or_google_pay", "top_up_limits", "exchange_via_app", "receiving_money")
AREAS = {
    "cards": (
        "card_arrival",
        "lost_or_stolen_card",
        "change_pin",
        "get_physical_card",
        SPIKE_INTENT,
        NEW_INTENT,
    ),
    "cash": ("cash_withdrawal_charge", "wrong_amount_of_cash_received", "atm_support"),
    "transfers": ("transfer_not_received_by_recipient", "beneficiary_not_allowed", "Refund_not_showing_up"),
    "top_up": ("pending_top_up", "top_up_failed", "exchange_rate"),
    "account": (
        "edit_personal_details",
        "country_support",
        "passcode_forgotten",
        "verify_my_identity",
        "terminate_account",
        "unable_to_verify_identity",
        "age_limit",
    ),
}
AREA_OF = {intent: area for area, intents in AREAS.items() for intent in intents}

SOURCES = ("zendesk", "intercom", "freshdesk")
SOURCE_WEIGHTS = (40, 30, 30)
FILES = {
    "zendesk": "zendesk_tickets.json",
    "intercom": "intercom_conversations.json",
    "freshdesk": "freshdesk_tickets.csv",
}
FRESHDESK_COLUMNS = [
    "Ticket ID", "Subject", "Description", "Status", "Priority", "Source", "Type", "Agent", "Group",
    "Created time", "Due by Time", "Resolved time", "Closed time", "Last update time", "Tags",
    "Contact ID", "Full name", "Email", "Company Name", "Product",
]  # fmt: skip

# Accounts per source with an organization/company record, and free customers without one.
ACCOUNTS_PER_SOURCE = {"zendesk": 150, "intercom": 110, "freshdesk": 110}
ORGLESS_PER_SOURCE = {"zendesk": 70, "intercom": 55, "freshdesk": 55}
PLAN_SHARES = {"free": 0.6, "pro": 0.3, "enterprise": 0.1}
SEATS = {"free": (1, 2), "pro": (1, 4), "enterprise": (3, 9)}
REVENUE = {"free": (0, 0), "pro": (49, 499), "enterprise": (1500, 20000)}
FILING_WEIGHTS = (1, 1, 1, 1, 2, 2, 3, 5, 8)  # per-customer propensity to file: a few file often

PII_SHARE = 0.11
PII_TYPE_WEIGHTS = {"email": 25, "phone": 20, "card": 15, "person": 25, "order": 15}
PII_KINDS = tuple(PII_TYPE_WEIGHTS)
PII_TEMPLATES = {
    "email": (
        "My email is {v}.",
        "Please reply to {v}.",
        "You can contact me at {v}.",
        "Send updates to {v} please.",
    ),
    "phone": (
        "My number is {v}.",
        "Please call me back on {v}.",
        "You can reach me on {v}.",
        "Call me at {v}.",
    ),
    "card": ("My card number is {v}.", "Card number: {v}.", "It's the card {v}.", "The card is {v}."),
    "person": ("My name is {v}.", "This is {v}.", "Hi, {v} here.", "Account holder is {v}."),
    "order": ("This is about {v}.", "Reference: {v}.", "Regarding {v}.", "It's for {v}."),
}
GREETINGS = ("Hi,", "Hello,", "Hi there,", "Good morning,")
SIGN_OFFS = ("Thanks", "Thanks!", "Thank you.", "Cheers")
GENERIC_SUBJECTS = (
    "Help with my card",
    "Question about my account",
    "Problem with a payment",
    "Urgent: please help",
    "Support request",
    "Need help",
    "Issue with my money",
    "Quick question",
)

FIRST_NAMES = (
    "Maria", "Tom", "Aisha", "Wei", "Priya", "Lukas", "Sofia", "Mohammed", "Yuki", "Olga",
    "James", "Fatima", "Carlos", "Ingrid", "Kwame", "Mei", "Rahul", "Chloe", "Diego", "Amara",
    "Jonas", "Leila", "Hiroshi", "Emma", "Mateo", "Zanele", "Ivan", "Nour", "Sean", "Ana",
    "Oliver", "Keisha", "Arjun", "Elif", "Pierre", "Siobhan", "Tariq", "Hannah", "Dmitri", "Lucia",
)  # fmt: skip
LAST_NAMES = (
    "Garcia", "Becker", "Khan", "Zhang", "Patel", "Mueller", "Rossi", "Okafor", "Tanaka", "Ivanova",
    "Smith", "Haddad", "Silva", "Johansson", "Mensah", "Chen", "Sharma", "Dubois", "Hernandez", "Adeyemi",
    "Schmidt", "Rahimi", "Sato", "Wilson", "Lopez", "Dlamini", "Petrov", "Nasser", "Murphy", "Costa",
    "Brown", "Jackson", "Iyer", "Yilmaz", "Martin", "O'Brien", "Ali", "Cohen", "Novak", "Fernandez",
)  # fmt: skip
BUSINESS_TLDS = (".com", ".co.uk", ".de", ".io")
PERSONAL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "proton.me",
)
NAME_PREFIXES = (
    "North", "Blue", "Silver", "Oak", "Harbor", "Summit", "Bright", "Iron", "Maple", "Red", "Clear", "Stone",
    "Green", "Golden", "Swift", "Cedar", "Lake", "Pine", "River", "Sun", "Falcon", "Crystal", "Atlas", "Nova",
)  # fmt: skip
NAME_CORES = (
    "field", "wind", "peak", "bridge", "gate", "light", "wave", "brook",
    "ridge", "point", "works", "line", "craft", "path", "crest", "vale",
)  # fmt: skip
NAME_SUFFIXES = (
    "Logistics", "Studio", "Ltd", "Labs", "Trading", "Consulting", "Foods", "Health",
    "GmbH", "Partners", "Media", "Systems", "Bakery", "Design", "Analytics", "Travel",
)  # fmt: skip
AGENT_NAMES = ("Sam Whitfield", "Nadia Rahman", "Leo Fischer", "Grace Owusu", "Ken Watanabe", "Isabel Moreno")
SUPPORT_DOMAIN = "example-bank.com"

AGENT_REPLIES = (
    "Thanks for getting in touch. I've checked your account and passed this to the right team; "
    "you'll hear back from us within one working day.",
    "Sorry for the trouble. Could you confirm the last four digits of the card and roughly when this "
    "happened?",
    "Thank you for your patience. This should now be sorted - please let me know if anything still looks "
    "wrong.",
    "I understand how frustrating this is. I've raised it with our specialist team and will update you "
    "as soon as I hear back.",
)
AGENT_SIGNS = ("Best,", "Kind regards,", "Thanks,", "Cheers,")
PRIVATE_NOTES = (
    "Checked the logs, nothing unusual on our side.",
    "Escalated to Tier 2.",
    "Possible duplicate of an earlier ticket from this customer.",
    "Customer sounded upset on the phone - handle with care.",
)
QUOTED_AGENT_MAIL = (
    "Thanks for contacting Example Bank. Could you share a few more details so we can look into this?",
    "",
    "Best regards,",
    "Example Bank Support",
)
INTERCOM_BOT = {"type": "bot", "id": "1834567", "name": "Operator", "email": f"operator@{SUPPORT_DOMAIN}"}
INTERCOM_PLAN_IDS = {"free": "1001", "pro": "1002", "enterprise": "1003"}
BOT_GREETING = "<p>Hi there 👋 How can we help?</p>"
BOT_FOLLOW_UP = "<p>Are you still there? Reply here and a member of the team will pick this up.</p>"
EMPTY_MESSAGE_REPLY = (
    "It looks like your message came through empty. Could you tell us what you need help with?"
)

DAY_WEIGHTS = (18, 17, 16, 16, 15, 9, 9)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2)
SPIKE_DAY_WEIGHTS = (2, 8, 10, 6, 2, 1, 1)  # an outage concentrates the spike on Tuesday-Thursday
LAUNCH_DAY_WEIGHTS = (0, 0, 3, 3, 3, 2, 2)  # the virtual-card problem starts with Wednesday's release
DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # own names: %a/%b depend on the locale
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Defect code -> short description, per source. Each code is planted exactly once.
DEFECTS = {
    "zendesk": {
        "missing_id": "ticket has no id (and url is null)",
        "bad_date_slash": "created_at is '31/31/2026'",
        "bad_date_word": "created_at is 'yesterday'",
        "empty_message": "empty subject and description, no comments",
        "not_an_object": "tickets[] element is a string (truncated JSON), not an object",
    },
    "intercom": {
        "only_bot_admin_parts": "bot-initiated conversation with only bot/admin parts, no customer message",
        "empty_message": "customer-initiated with empty source.body and no user part",
        "missing_id": "conversation id is null",
        "bad_date_slash": "created_at is the string '31/31/2026', not an epoch integer",
    },
    "freshdesk": {
        "empty_created": "Created time is empty",
        "bad_date_slash": "Created time is '31/31/2026'",
        "bad_date_word": "Created time is 'yesterday'",
        "missing_id": "Ticket ID is empty",
        "empty_message": "empty Subject and Description",
    },
}
MESSAGELESS_DEFECTS = {"empty_message", "only_bot_admin_parts", "not_an_object"}

JSONDict = dict[str, Any]


def stream(name: str) -> random.Random:
    """Give each build stage its own seeded generator, so changing one stage leaves the others alone."""
    return random.Random(f"{SEED}:{name}")


def week_start(index: int) -> date:
    """Monday of the 0-based week ``index``."""
    return WEEK1 + timedelta(weeks=index)


def iso_z(moment: datetime) -> str:
    """Zendesk-style timestamp, e.g. 2026-09-01T14:03:22Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def freshdesk_time(moment: datetime) -> str:
    """Freshdesk export timestamp, e.g. 2026-09-01 14:03:22 (UTC, no zone marker)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def epoch(moment: datetime) -> int:
    """Intercom uses Unix seconds."""
    return int(moment.timestamp())


def short_hex(label: str) -> str:
    """A stable 24-hex-digit id in the style of Intercom object ids."""
    return hashlib.sha1(label.encode()).hexdigest()[:24]


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


@dataclass(frozen=True)
class Account:
    """An organisation as the helpdesk knows it; ``account_id`` is the value accounts.csv joins on."""

    source: str
    account_id: int | str
    name: str
    plan: str
    revenue: int
    domain: str
    company_id: str  # the customer's own id for the company (Intercom ``company_id``)


@dataclass(frozen=True)
class Customer:
    """One end user of one helpdesk; ``account`` is None for free users without an organisation record."""

    source: str
    native_id: int | str
    first: str
    last: str
    email: str
    account: Account | None
    weight: int
    intercom_kind: str  # "user" or "lead"; only meaningful for Intercom
    external_id: str | None

    @property
    def name(self) -> str:
        """Full name as shown in the helpdesk."""
        return f"{self.first} {self.last}"

    @property
    def key(self) -> str:
        """The customer key used in planted.json: source plus the helpdesk's own requester/contact id."""
        return f"{self.source}:{self.native_id}"


@dataclass(frozen=True)
class Agent:
    """A support agent; the same people staff all three tools."""

    name: str
    email: str
    zendesk_id: int
    intercom_id: str


@dataclass
class Ticket:
    """One planned record before rendering; ``defect`` is set for planted malformed records."""

    source: str
    week: int
    intent: str
    customer: Customer
    created: datetime
    text: str  # the banking77 text, whitespace collapsed ("" for message-less defects)
    segments: list[str] = field(default_factory=list)  # the customer's message, sentence by sentence
    pii: list[tuple[str, str]] = field(default_factory=list)  # (type, value) planted in the message
    subject: str = ""
    defect: str | None = None
    source_id: str | None = None

    @property
    def message(self) -> str:
        """The message as plain text on one line."""
        return " ".join(self.segments)


class TextPool:
    """banking77 texts by intent, shuffled once, handed out at most once each.

    A few texts differ from another one only by stray whitespace or a stray quote (e.g. a train text with an
    embedded newline that repeats a test text); whitespace is collapsed and such repeats are skipped, so no
    text can appear twice in the sample.
    """

    def __init__(self, banking77: Path, rng: random.Random) -> None:
        by_intent: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        for split in ("train.csv", "test.csv"):
            with (banking77 / split).open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    text = " ".join(row["text"].split()).strip('"')
                    if text.casefold() not in seen:
                        seen.add(text.casefold())
                        by_intent[row["category"]].append(text)
        self._texts = {intent: rng.sample(texts, len(texts)) for intent, texts in sorted(by_intent.items())}

    def take(self, intent: str) -> str:
        """Next unused text of ``intent``; running out is a design error, so it raises."""
        if not self._texts[intent]:
            raise ValueError(f"banking77 has no unused text left for {intent}")
        return self._texts[intent].pop()


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


def build_accounts(rng: random.Random) -> dict[str, list[Account]]:
    """Accounts per source with exact 60/30/10 plan shares and unique names (Freshdesk joins on the name)."""
    used_names: set[str] = set()
    accounts: dict[str, list[Account]] = {}
    zendesk_org_ids = IdSequence(20_118_000_000, 60_000_000, rng)
    for source in SOURCES:
        total = ACCOUNTS_PER_SOURCE[source]
        plans = [plan for plan, share in PLAN_SHARES.items() for _ in range(round(total * share))]
        rng.shuffle(plans)
        accounts[source] = []
        for number, plan in enumerate(plans, start=1):
            while True:
                stem = rng.choice(NAME_PREFIXES) + rng.choice(NAME_CORES)
                name = f"{stem} {rng.choice(NAME_SUFFIXES)}"
                if name not in used_names:
                    used_names.add(name)
                    break
            account_id: int | str = name  # Freshdesk exports only the company name
            if source == "zendesk":
                account_id = zendesk_org_ids.take()
            elif source == "intercom":
                account_id = short_hex(f"intercom-company-{number}")
            domain = re.sub(r"[^a-z]+", "-", name.lower()) + rng.choice(BUSINESS_TLDS)
            low, high = REVENUE[plan]
            accounts[source].append(
                Account(source, account_id, name, plan, rng.randint(low, high), domain, f"acct-{number:04d}")
            )
    return accounts


def build_customers(rng: random.Random, accounts: dict[str, list[Account]]) -> dict[str, list[Customer]]:
    """Customers per source: seats on each account plus free users without an organisation record."""
    used_emails: set[str] = set()
    zendesk_ids = IdSequence(381_200_000_000, 40_000_000, rng)
    freshdesk_ids = IdSequence(80_001_000_000, 40, rng)
    customers: dict[str, list[Customer]] = {}
    for source in SOURCES:
        seats: list[Account | None] = []
        for account in accounts[source]:
            seats += [account] * rng.randint(*SEATS[account.plan])
        seats += [None] * ORGLESS_PER_SOURCE[source]
        customers[source] = []
        for number, account in enumerate(seats, start=1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            business = account is not None and account.plan != "free"
            domain = account.domain if business and account else rng.choice(PERSONAL_DOMAINS)
            local = f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}"
            email = f"{local}@{domain}"
            while email in used_emails:
                email = f"{local}{rng.randint(2, 99)}@{domain}"
            used_emails.add(email)
            kind = "lead" if source == "intercom" and rng.random() < 0.15 else "user"
            native_id: int | str = short_hex(f"intercom-contact-{number}")
            if source == "zendesk":
                native_id = zendesk_ids.take()
            elif source == "freshdesk":
                native_id = freshdesk_ids.take()
            external_id = f"usr-{number:05d}" if source == "intercom" and kind == "user" else None
            customers[source].append(
                Customer(
                    source,
                    native_id,
                    first,
                    last,
                    email,
                    account,
                    rng.choice(FILING_WEIGHTS),
                    kind,
                    external_id,
                )
            )
    return customers


def build_agents(rng: random.Random) -> list[Agent]:
    """Support staff with ids in each tool's style."""
    ids = sorted(rng.sample(range(361_000_000_000, 361_999_999_999), len(AGENT_NAMES)))
    agents = []
    for zendesk_id, name in zip(ids, AGENT_NAMES, strict=True):
        email = name.lower().replace(" ", ".") + "@" + SUPPORT_DOMAIN
        agents.append(Agent(name, email, zendesk_id, str(rng.randint(4_000_000, 7_999_999))))
    return agents


def random_time(rng: random.Random, week: int, day_weights: tuple[int, ...] = DAY_WEIGHTS) -> datetime:
    """A second-resolution UTC time inside ``week``, busier on weekdays and in office hours."""
    day = rng.choices(range(7), weights=day_weights)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    start = datetime.combine(week_start(week), datetime.min.time(), tzinfo=UTC)
    return start + timedelta(days=day, hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


def weekly_plan(rng: random.Random) -> list[dict[str, int]]:
    """Tickets per intent per week: base intents jittered around their means, plus the spike and new intent.

    The jitter is small and each week's base total is pinned to a range, so no base intent ever looks like a
    spike by chance; only the planted patterns stand out.
    """
    plan = []
    for week in range(N_WEEKS):
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
        counts[SPIKE_INTENT] = SPIKE_COUNT if week == SPIKE_WEEK else SPIKE_BASELINE + rng.randint(-1, 1)
        if week in NEW_COUNTS:
            counts[NEW_INTENT] = NEW_COUNTS[week]
        plan.append(counts)
    return plan


def plan_tickets(rng: random.Random, pool: TextPool, customers: dict[str, list[Customer]]) -> list[Ticket]:
    """Turn the weekly plan into tickets with a source, customer, time and banking77 text each.

    The spike and new-intent tickets of a week each come from a different customer (drawn uniformly), so
    distinct-customer counts back them up; other tickets favour the customers who file often.
    """
    tickets = []
    for week, counts in enumerate(weekly_plan(rng)):
        for intent, count in counts.items():
            sources = rng.choices(SOURCES, weights=SOURCE_WEIGHTS, k=count)
            if intent in (SPIKE_INTENT, NEW_INTENT):
                per_source = Counter(sources)
                chosen = {source: rng.sample(customers[source], per_source[source]) for source in SOURCES}
                people = [chosen[source].pop() for source in sources]
            else:
                people = [
                    rng.choices(customers[s], weights=[c.weight for c in customers[s]])[0] for s in sources
                ]
            day_weights = DAY_WEIGHTS
            if intent == SPIKE_INTENT and week == SPIKE_WEEK:
                day_weights = SPIKE_DAY_WEIGHTS
            elif intent == NEW_INTENT and week == min(NEW_COUNTS):
                day_weights = LAUNCH_DAY_WEIGHTS
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


def pii_value(rng: random.Random, kind: str, customer: Customer) -> str:
    """A realistic but fictional PII value of ``kind`` (reserved phone ranges, Luhn-valid test-like cards)."""
    if kind == "email":
        first, last = (
            (customer.first, customer.last)
            if rng.random() < 0.7
            else (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        )
        local = f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}"
        return f"{local}@{rng.choice(PERSONAL_DOMAINS)}"
    if kind == "phone":
        return rng.choice(
            (
                f"+44 7700 900{rng.randint(0, 999):03d}",
                f"(555) 01{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}",
                f"+1 415 555 01{rng.randint(0, 99):02d}",
                f"+49 30 23125 {rng.randint(0, 999):03d}",
            )
        )
    if kind == "card":
        body = rng.choice(("4", f"5{rng.randint(1, 5)}"))
        body += "".join(str(rng.randint(0, 9)) for _ in range(15 - len(body)))
        digits = body + luhn_digit(body)
        return rng.choice((" ", "-")).join(digits[i : i + 4] for i in range(0, 16, 4))
    if kind == "person":
        if rng.random() < 0.8:
            return customer.name
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return (
        f"ORD-{rng.randint(0, 999_999):06d}"
        if rng.random() < 0.5
        else f"order #{rng.randint(1_000_000, 9_999_999)}"
    )


def compose_messages(rng: random.Random, tickets: list[Ticket]) -> None:
    """Write each customer message: the banking77 text, sometimes a greeting, sign-off and PII sentences.

    PII goes into exactly ``PII_SHARE`` of the valid tickets, one or two values each, as a sentence before or
    after the text. The subject is taken from the text before PII is added, so subjects never carry PII.
    """
    valid = [index for index, ticket in enumerate(tickets) if ticket.defect is None]
    with_pii = set(rng.sample(valid, round(len(valid) * PII_SHARE)))
    for index, ticket in enumerate(tickets):
        if not ticket.text:
            continue
        words = ticket.text.split()
        if rng.random() < 0.65:
            ticket.subject = " ".join(words[: rng.randint(6, 9)])
        else:
            ticket.subject = rng.choice(GENERIC_SUBJECTS)
        before: list[str] = []
        after: list[str] = []
        if index in with_pii:
            chosen = rng.choices(PII_KINDS, weights=[PII_TYPE_WEIGHTS[k] for k in PII_KINDS])
            if rng.random() < 0.3:
                others = [k for k in PII_KINDS if k != chosen[0]]
                chosen += rng.choices(others, weights=[PII_TYPE_WEIGHTS[k] for k in others])
            for kind in chosen:
                value = pii_value(rng, kind, ticket.customer)
                sentence = rng.choice(PII_TEMPLATES[kind]).format(v=value)
                (before if kind == "person" or rng.random() < 0.4 else after).append(sentence)
                ticket.pii.append((kind, value))
        if not before and rng.random() < 0.15:
            before.append(rng.choice(GREETINGS))
        if rng.random() < 0.1:
            after.append(rng.choice(SIGN_OFFS))
        ticket.segments = [*before, ticket.text, *after]


@dataclass(frozen=True)
class Lifecycle:
    """Where a ticket stood at export time; older tickets are mostly resolved, recent ones still open."""

    stage: str  # new / open / pending / solved / closed
    updated: datetime
    resolved: datetime | None


def lifecycle(rng: random.Random, created: datetime) -> Lifecycle:
    """Draw a status and the later timestamps, never beyond EXPORT_TIME."""
    age_minutes = int((EXPORT_TIME - created).total_seconds() // 60)
    if age_minutes < 3 * 24 * 60:
        weights = (30, 35, 20, 15, 0)
    elif age_minutes < 10 * 24 * 60:
        weights = (3, 15, 20, 50, 12)
    else:
        weights = (0, 3, 4, 25, 68)
    stage = rng.choices(("new", "open", "pending", "solved", "closed"), weights=weights)[0]
    if stage in ("solved", "closed"):
        resolved = created + timedelta(minutes=rng.randint(20, min(age_minutes - 1, 72 * 60)))
        remaining = int((EXPORT_TIME - resolved).total_seconds() // 60)
        updated = resolved + timedelta(minutes=rng.randint(0, min(remaining, 4 * 24 * 60)))
        return Lifecycle(stage, updated, resolved)
    return Lifecycle(stage, created + timedelta(minutes=rng.randint(1, min(age_minutes, 48 * 60))), None)


def tags_for(rng: random.Random, ticket: Ticket, style: str) -> list[str]:
    """Helpdesk tags: a coarse triage area on some tickets, plus plan markers, in each tool's spelling."""
    tags = []
    if ticket.intent and rng.random() < 0.4:
        tags.append(AREA_OF[ticket.intent])
    account = ticket.customer.account
    if account is not None and account.plan == "enterprise":
        tags.append("vip")
    if style == "zendesk" and account is not None:
        tags.append(f"plan_{account.plan}")
    if rng.random() < 0.15:
        tags.append({"zendesk": "follow_up", "intercom": "Follow up", "freshdesk": "follow-up"}[style])
    return sorted(tags)


def agent_reply(rng: random.Random, first_name: str, agent: Agent) -> list[str]:
    """Paragraphs of an agent's reply: greets the customer by first name and signs with the agent's name."""
    signature = agent.name if rng.random() < 0.5 else agent.name.split()[0]
    return [f"Hi {first_name},", rng.choice(AGENT_REPLIES), f"{rng.choice(AGENT_SIGNS)}\n{signature}"]


def paragraphs_html(paragraphs: list[str]) -> str:
    """Plain paragraphs to <p> HTML, line breaks inside a paragraph as <br>."""
    return "".join("<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs)


def zendesk_comment(
    comment_id: int, author_id: int | str, paragraphs: list[str], at: datetime, *, public: bool = True
) -> JSONDict:
    """A Zendesk comment: plain ``body`` plus ``html_body`` in Zendesk's zd-comment wrapper."""
    return {
        "id": comment_id,
        "author_id": author_id,
        "public": public,
        "body": "\n\n".join(paragraphs),
        "html_body": '<div class="zd-comment" dir="auto">' + paragraphs_html(paragraphs) + "</div>",
        "created_at": iso_z(at),
    }


def zendesk_ticket(
    rng: random.Random, ticket: Ticket, ticket_id: int, agents: list[Agent], comment_ids: IdSequence
) -> JSONDict:
    """One Zendesk ticket in API shape; about half carry comments (requester, agent reply, private note)."""
    life = lifecycle(rng, ticket.created)
    agent = rng.choice(agents)
    channel = rng.choices(("email", "web", "mobile", "api"), weights=(45, 30, 20, 5))[0]
    requester = ticket.customer.native_id
    account = ticket.customer.account
    record: JSONDict = {
        "url": f"https://example-bank.zendesk.com/api/v2/tickets/{ticket_id}.json",
        "id": ticket_id,
        "via": {"channel": channel},
        "created_at": iso_z(ticket.created),
        "updated_at": iso_z(life.updated),
        "type": rng.choices(("question", "incident", "problem", "task", None), weights=(45, 30, 8, 4, 13))[0],
        "subject": ticket.subject,
        "description": ticket.message,
        "priority": rng.choices(("low", "normal", "high", "urgent", None), weights=(20, 40, 12, 3, 25))[0],
        "status": life.stage,
        "requester_id": requester,
        "submitter_id": agent.zendesk_id if channel == "api" else requester,
        "assignee_id": None if life.stage == "new" else agent.zendesk_id,
        "organization_id": account.account_id if account else None,
        "tags": tags_for(rng, ticket, "zendesk"),
        "custom_fields": [{"id": 360001, "value": rng.choice(("ios_app", "android_app", "web", None))}],
    }
    if ticket.message and rng.random() < 0.5:
        comments = [zendesk_comment(comment_ids.take(), requester, [ticket.message], ticket.created)]
        if life.stage != "new":
            replied = min(ticket.created + timedelta(minutes=rng.randint(5, 600)), life.updated)
            reply = agent_reply(rng, ticket.customer.first, agent)
            comments.append(zendesk_comment(comment_ids.take(), agent.zendesk_id, reply, replied))
            if rng.random() < 0.25:
                noted = min(replied + timedelta(minutes=rng.randint(1, 90)), life.updated)
                note = [rng.choice(PRIVATE_NOTES)]
                comments.append(
                    zendesk_comment(comment_ids.take(), agent.zendesk_id, note, noted, public=False)
                )
        record["comments"] = comments
    return record


def render_zendesk(
    rng: random.Random, tickets: list[Ticket], agents: list[Agent]
) -> tuple[JSONDict, list[Ticket]]:
    """Build the Zendesk export: tickets in id (= creation) order, with sideloaded users and organizations."""
    ordered = sorted(tickets, key=lambda t: t.created)
    ticket_ids = IdSequence(48_120, 3, rng)
    comment_ids = IdSequence(31_400_000_000, 900, rng)
    records: list[JSONDict | str] = []
    users: dict[int, JSONDict] = {}
    organizations: dict[int, JSONDict] = {}
    for ticket in ordered:
        ticket_id = ticket_ids.take()
        ticket.source_id = str(ticket_id)
        record = zendesk_ticket(rng, ticket, ticket_id, agents, comment_ids)
        customer, account = ticket.customer, ticket.customer.account
        users[int(customer.native_id)] = {
            "id": customer.native_id,
            "name": customer.name,
            "email": customer.email,
            "role": "end-user",
            "organization_id": account.account_id if account else None,
        }
        if account is not None:
            organizations[int(account.account_id)] = {
                "id": account.account_id,
                "name": account.name,
                "organization_fields": {"plan": account.plan},
            }
        if ticket.defect == "missing_id":
            del record["id"]
            record["url"] = None
            ticket.source_id = None
        elif ticket.defect == "bad_date_slash":
            record["created_at"] = "31/31/2026"
        elif ticket.defect == "bad_date_word":
            record["created_at"] = "yesterday"
        elif ticket.defect == "not_an_object":
            record = json.dumps(record, ensure_ascii=False)[:90]
            ticket.source_id = None
        records.append(record)
    for agent in agents:
        users[agent.zendesk_id] = {
            "id": agent.zendesk_id,
            "name": agent.name,
            "email": agent.email,
            "role": "agent",
            "organization_id": None,
        }
    document = {
        "tickets": records,
        "users": [users[key] for key in sorted(users)],
        "organizations": [organizations[key] for key in sorted(organizations)],
        "count": len(records),
        "next_page": None,
    }
    return document, ordered


def entity_escape(text: str, numeric_apostrophes: bool) -> str:
    """Escape like a rich-text editor: &amp; &lt; &gt;, currency entities, and on some messages &#39;."""
    escaped = html.escape(text, quote=False).replace("£", "&pound;").replace("€", "&euro;")
    return escaped.replace("'", "&#39;") if numeric_apostrophes else escaped


def intercom_message_html(rng: random.Random, ticket: Ticket) -> str:
    """The customer's message as Intercom HTML: one <p>, <br>-separated sentences or one <p> per sentence."""
    if not ticket.segments:
        return ""
    numeric_apostrophes = rng.random() < 0.2
    bold_pii = rng.random() < 0.25
    segments = []
    for segment in ticket.segments:
        escaped = entity_escape(segment, numeric_apostrophes)
        for _, value in ticket.pii if bold_pii else ():
            value_html = entity_escape(value, numeric_apostrophes)
            escaped = escaped.replace(value_html, f"<b>{value_html}</b>")
        segments.append(escaped)
    layout = rng.choice(("inline", "breaks", "paragraphs"))
    if layout == "inline":
        return "<p>" + " ".join(segments) + "</p>"
    if layout == "breaks":
        return "<p>" + "<br>".join(segments) + "</p>"
    return "".join(f"<p>{segment}</p>" for segment in segments)


def intercom_person(customer: Customer, author_type: str) -> JSONDict:
    """Author object for a contact."""
    return {"type": author_type, "id": customer.native_id, "name": customer.name, "email": customer.email}


def intercom_admin(agent: Agent) -> JSONDict:
    """Author object for an admin (agent)."""
    return {"type": "admin", "id": agent.intercom_id, "name": agent.name, "email": agent.email}


def intercom_tag_id(name: str) -> str:
    """A stable numeric tag id, the same for every conversation carrying the tag."""
    return str(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 9_000_000)


def intercom_conversation(
    rng: random.Random, ticket: Ticket, conversation_id: str, agents: list[Agent], part_ids: IdSequence
) -> JSONDict:
    """One Intercom conversation; ~10% open with the bot greeting and carry the customer text in a part."""
    life = lifecycle(rng, ticket.created)
    agent = rng.choice(agents)
    customer = ticket.customer
    bot_first = ticket.defect == "only_bot_admin_parts" or (ticket.defect is None and rng.random() < 0.1)
    message_html = intercom_message_html(rng, ticket)
    parts: list[JSONDict] = []

    def part(part_type: str, body: str | None, at: datetime, author: JSONDict) -> None:
        parts.append(
            {
                "type": "conversation_part",
                "id": str(part_ids.take()),
                "part_type": part_type,
                "body": body,
                "created_at": epoch(at),
                "author": author,
            }
        )

    if bot_first:
        answered = ticket.created + timedelta(seconds=rng.randint(5, 60))
        if message_html:
            part("comment", message_html, answered, intercom_person(customer, "user"))
        else:
            part("comment", BOT_FOLLOW_UP, answered, INTERCOM_BOT)
    if life.stage != "new":
        replied = min(ticket.created + timedelta(minutes=rng.randint(2, 300)), life.updated)
        if rng.random() < 0.6:
            part("assignment", None, replied - timedelta(seconds=rng.randint(1, 60)), intercom_admin(agent))
        reply = agent_reply(rng, customer.first, agent) if message_html else [EMPTY_MESSAGE_REPLY]
        part("comment", paragraphs_html(reply), replied, intercom_admin(agent))
    if life.resolved is not None:
        part("close", None, life.resolved, intercom_admin(agent))
    account = customer.account
    company = None
    if account is not None:
        company = {
            "type": "company",
            "id": account.account_id,
            "company_id": account.company_id,
            "name": account.name,
            "plan": {"type": "plan", "id": INTERCOM_PLAN_IDS[account.plan], "name": account.plan.title()},
        }
    tags = [
        {"type": "tag", "id": intercom_tag_id(name), "name": name}
        for name in tags_for(rng, ticket, "intercom")
    ]
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": epoch(ticket.created),
        "updated_at": epoch(life.updated),
        "title": ticket.subject if ticket.subject and rng.random() < 0.25 else None,
        "state": {"new": "open", "open": "open", "pending": "snoozed"}.get(life.stage, "closed"),
        "priority": "priority" if rng.random() < 0.15 else "not_priority",
        "source": {
            "type": "conversation",
            "delivered_as": "automated" if bot_first else "customer_initiated",
            "subject": "",
            "body": BOT_GREETING if bot_first else message_html,
            "author": INTERCOM_BOT if bot_first else intercom_person(customer, customer.intercom_kind),
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": customer.native_id, "external_id": customer.external_id}],
        },
        "company": company,
        "tags": {"type": "tag.list", "tags": tags},
        "conversation_parts": {
            "type": "conversation_part.list",
            "total_count": len(parts),
            "conversation_parts": parts,
        },
    }


def render_intercom(
    rng: random.Random, tickets: list[Ticket], agents: list[Agent]
) -> tuple[JSONDict, list[Ticket]]:
    """The Intercom conversations export document, in creation order."""
    ordered = sorted(tickets, key=lambda t: t.created)
    conversation_ids = IdSequence(215_470_000_000_000, 90_000, rng)
    part_ids = IdSequence(24_100_000_000, 400, rng)
    conversations = []
    for ticket in ordered:
        ticket.source_id = str(conversation_ids.take())
        conversation = intercom_conversation(rng, ticket, ticket.source_id, agents, part_ids)
        if ticket.defect == "missing_id":
            conversation["id"] = None
            ticket.source_id = None
        elif ticket.defect == "bad_date_slash":
            conversation["created_at"] = "31/31/2026"
        conversations.append(conversation)
    return {
        "type": "conversation.list",
        "conversations": conversations,
        "total_count": len(conversations),
    }, ordered


def quoted_date(moment: datetime) -> str:
    """Mail-client date such as 'Mon, 7 Sep 2026 at 10:02', independent of the locale."""
    return (
        f"{DAY_ABBR[moment.weekday()]}, {moment.day} {MONTH_ABBR[moment.month - 1]} {moment.year} "
        f"at {moment:%H:%M}"
    )


def email_tail(rng: random.Random, ticket: Ticket) -> tuple[list[str], list[str]]:
    """Tail kinds and plain lines a mail client appends: a signature and/or the quoted earlier mail."""
    kinds = rng.choice((["quote"], ["quote"], ["signature"], ["signature", "quote"]))
    lines: list[str] = []
    if "signature" in kinds:
        lines += ["", "-- ", ticket.customer.name] if rng.random() < 0.6 else ["", "Sent from my iPhone"]
    if "quote" in kinds:
        earlier = ticket.created - timedelta(minutes=rng.randint(600, 8000))
        lines += ["", f"On {quoted_date(earlier)}, Support <support@{SUPPORT_DOMAIN}> wrote:"]
        quoted = [f"Hi {ticket.customer.first},", "", *QUOTED_AGENT_MAIL]
        lines += [f"> {line}" if line else ">" for line in quoted]
    return kinds, lines


def freshdesk_row(
    rng: random.Random, ticket: Ticket, ticket_id: int, agents: list[Agent]
) -> tuple[dict[str, str], list[str]]:
    """One Freshdesk export row and the kinds of email tail planted in its Description (maybe none)."""
    life = lifecycle(rng, ticket.created)
    customer, account = ticket.customer, ticket.customer.account
    joiner = " " if rng.random() < 0.7 else "<br>"
    description = ""
    if ticket.segments:
        description = "<div>" + joiner.join(html.escape(s, quote=False) for s in ticket.segments) + "</div>"
    tail_kinds: list[str] = []
    if ticket.defect is None and rng.random() < 0.14:
        tail_kinds, lines = email_tail(rng, ticket)
        description += "".join(
            "\n<div>" + (html.escape(line, quote=False) or "<br>") + "</div>" for line in lines
        )
    priority = rng.choices(("Low", "Medium", "High", "Urgent"), weights=(35, 45, 15, 5))[0]
    area = AREA_OF.get(ticket.intent, "account")
    group = (
        "Tier 1" if rng.random() < 0.3 else {"cards": "Cards", "account": "Accounts"}.get(area, "Payments")
    )
    row = {
        "Ticket ID": str(ticket_id),
        "Subject": ticket.subject,
        "Description": description,
        "Status": {"new": "Open", "open": "Open", "pending": "Pending", "solved": "Resolved"}.get(
            life.stage, "Closed"
        ),
        "Priority": priority,
        "Source": "Email"
        if tail_kinds
        else rng.choices(("Email", "Portal", "Chat", "Phone"), weights=(45, 25, 18, 12))[0],
        "Type": rng.choices(
            ("Question", "Incident", "Problem", "Feature Request", ""), weights=(45, 30, 8, 5, 12)
        )[0],
        "Agent": "" if life.stage == "new" else rng.choice(agents).name,
        "Group": group,
        "Created time": freshdesk_time(ticket.created),
        "Due by Time": freshdesk_time(
            ticket.created + timedelta(hours={"Low": 72, "Medium": 48, "High": 24, "Urgent": 8}[priority])
        ),
        "Resolved time": freshdesk_time(life.resolved) if life.resolved else "",
        "Closed time": freshdesk_time(life.updated) if life.stage == "closed" else "",
        "Last update time": freshdesk_time(life.updated),
        "Tags": ",".join(tags_for(rng, ticket, "freshdesk")),
        "Contact ID": str(customer.native_id),
        "Full name": customer.name,
        "Email": customer.email,
        "Company Name": account.name if account else "",
        "Product": "Example Bank Business" if account and account.plan != "free" else "Example Bank",
    }
    return row, tail_kinds


def render_freshdesk(
    rng: random.Random, tickets: list[Ticket], agents: list[Agent]
) -> tuple[str, list[Ticket], list[int], list[JSONDict]]:
    """Build the Freshdesk CSV: its text, rows in ticket order, each row's first physical line, and the tails.

    Descriptions with a tail span several physical lines, so line numbers are counted from the written text.
    """
    ordered = sorted(tickets, key=lambda t: t.created)
    ticket_ids = IdSequence(10_001, 2, rng)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FRESHDESK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    first_lines, tails = [], []
    for ticket in ordered:
        ticket.source_id = str(ticket_ids.take())
        row, tail_kinds = freshdesk_row(rng, ticket, int(ticket.source_id), agents)
        if tail_kinds:
            tails.append({"source_id": ticket.source_id, "kinds": tail_kinds})
        if ticket.defect == "missing_id":
            row["Ticket ID"] = ""
            ticket.source_id = None
        elif ticket.defect == "empty_created":
            row["Created time"] = ""
        elif ticket.defect == "bad_date_slash":
            row["Created time"] = "31/31/2026"
        elif ticket.defect == "bad_date_word":
            row["Created time"] = "yesterday"
        first_lines.append(buffer.getvalue().count("\n") + 1)
        writer.writerow(row)
    return buffer.getvalue(), ordered, first_lines, tails


def accounts_csv(accounts: dict[str, list[Account]]) -> str:
    """accounts.csv: one row per account that has an organisation/company record in its helpdesk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("source", "account_id", "account_name", "plan", "monthly_revenue"))
    for source in SOURCES:
        for account in accounts[source]:
            writer.writerow((source, account.account_id, account.name, account.plan, account.revenue))
    return buffer.getvalue()


def planted_truth(
    ordered: dict[str, list[Ticket]], locators: dict[str, list[str]], tails: list[JSONDict]
) -> JSONDict:
    """The ground truth the tests assert on, derived from the tickets exactly as they were written."""
    weeks = [week_start(week).isoformat() for week in range(N_WEEKS)]
    valid_tickets, pii, malformed = [], [], []
    counts = {}
    for source in SOURCES:
        for ticket, locator in zip(ordered[source], locators[source], strict=True):
            if ticket.defect is not None:
                malformed.append(
                    {
                        "file": FILES[source],
                        "source": source,
                        "locator": locator,
                        "source_id": ticket.source_id,
                        "defect": DEFECTS[source][ticket.defect],
                    }
                )
                continue
            valid_tickets.append(
                {
                    "source": source,
                    "source_id": ticket.source_id,
                    "week_start": weeks[ticket.week],
                    "intent": ticket.intent,
                    "customer_key": ticket.customer.key,
                }
            )
            pii += [
                {"source": source, "source_id": ticket.source_id, "type": kind, "value": value}
                for kind, value in ticket.pii
            ]
        n_malformed = sum(t.defect is not None for t in ordered[source])
        counts[FILES[source]] = {"valid": len(ordered[source]) - n_malformed, "malformed": n_malformed}
    per_week = Counter((t["intent"], t["week_start"]) for t in valid_tickets)
    return {
        "weeks": weeks,
        "counts": counts,
        "spike": {
            "intent": SPIKE_INTENT,
            "week_start": weeks[SPIKE_WEEK],
            "count": per_week[SPIKE_INTENT, weeks[SPIKE_WEEK]],
            "baseline_mean": round(statistics.mean(per_week[SPIKE_INTENT, w] for w in weeks[:10]), 2),
        },
        "new_pattern": {
            "intent": NEW_INTENT,
            "first_week": weeks[min(NEW_COUNTS)],
            "counts": {w: per_week[NEW_INTENT, w] for w in weeks},
        },
        "malformed": malformed,
        "email_tails": tails,
        "valid_tickets": valid_tickets,
        "pii": pii,
    }


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


def plain_text(body: str) -> str:
    """HTML to whitespace-normalised text, as a parser would see it (only for the self-checks)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def parse_time(value: object, fmt: str) -> datetime | None:
    """Parse a helpdesk timestamp as UTC, or None if it is not one."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


class Record(NamedTuple):
    """One record of an export as re-read from disk, reduced to what the self-checks need."""

    locator: str
    source_id: str | None
    created: datetime | None
    customer_key: str
    account_id: str  # "" when the record names no organisation/company
    text: str  # subject (if any) and customer message as plain text; "" when there is none


class BuildError(Exception):
    """A promised property of the sample does not hold; raised instead of assert so ``-O`` cannot skip it."""


def check(condition: bool, what: object) -> None:
    """Fail the build with ``what`` as the explanation unless ``condition`` holds."""
    if not condition:
        raise BuildError(str(what))


def read_records(out: Path) -> dict[str, list[Record]]:
    """Re-read the written exports, one ``Record`` per element/row, with the locators planted.json uses.

    A record that is not an object yields an empty id, time and text, so the validity check rejects it.
    """
    zendesk = json.loads((out / FILES["zendesk"]).read_text(encoding="utf-8"))
    check(zendesk["count"] == len(zendesk["tickets"]) and zendesk["next_page"] is None, "zendesk envelope")
    records: dict[str, list[Record]] = {source: [] for source in SOURCES}
    for index, ticket in enumerate(zendesk["tickets"]):
        locator = f"tickets[{index}]"
        if not isinstance(ticket, dict):
            records["zendesk"].append(Record(locator, None, None, "", "", ""))
            continue
        records["zendesk"].append(
            Record(
                locator,
                str(ticket["id"]) if "id" in ticket else None,
                parse_time(ticket["created_at"], "%Y-%m-%dT%H:%M:%SZ"),
                f"zendesk:{ticket['requester_id']}",
                str(ticket["organization_id"] or ""),
                (ticket["subject"] + " " + ticket["description"]).strip(),
            )
        )
    intercom = json.loads((out / FILES["intercom"]).read_text(encoding="utf-8"))
    conversations = intercom["conversations"]
    check(intercom["total_count"] == len(conversations), "intercom envelope")
    for index, conversation in enumerate(conversations):
        source = conversation["source"]
        bodies = [source["body"]] if source["author"]["type"] in ("user", "lead") else []
        parts = conversation["conversation_parts"]["conversation_parts"]
        check(conversation["conversation_parts"]["total_count"] == len(parts), conversation["id"])
        bodies += [p["body"] for p in parts if p["author"]["type"] == "user" and p["part_type"] == "comment"]
        records["intercom"].append(
            Record(
                f"conversations[{index}]",
                conversation["id"],
                parse_time(conversation["created_at"], ""),
                f"intercom:{conversation['contacts']['contacts'][0]['id']}",
                (conversation["company"] or {}).get("id", ""),
                plain_text(bodies[0]) if bodies else "",
            )
        )
    with (out / FILES["freshdesk"]).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        check(next(reader) == FRESHDESK_COLUMNS, "freshdesk header")
        line = reader.line_num + 1
        for values in reader:
            row = dict(zip(FRESHDESK_COLUMNS, values, strict=True))
            records["freshdesk"].append(
                Record(
                    f"line {line}",
                    row["Ticket ID"] or None,
                    parse_time(row["Created time"], "%Y-%m-%d %H:%M:%S"),
                    f"freshdesk:{row['Contact ID']}",
                    row["Company Name"],
                    plain_text(row["Subject"] + " " + row["Description"]),
                )
            )
            line = reader.line_num + 1
    return records


def monday_of(moment: datetime) -> str:
    """The week_start (ISO date) of the week containing ``moment``."""
    return (moment.date() - timedelta(days=moment.weekday())).isoformat()


def verify(out: Path, truth: JSONDict, source_texts: list[str]) -> None:
    """Fail the build loudly unless the written files and planted.json have every promised property."""
    with (out / "accounts.csv").open(encoding="utf-8", newline="") as handle:
        accounts = list(csv.DictReader(handle))
    account_keys = {(a["source"], a["account_id"]) for a in accounts}
    check(len(account_keys) == len(accounts), "duplicate account")
    plans = Counter(a["plan"] for a in accounts)
    for plan, share in PLAN_SHARES.items():
        check(abs(plans[plan] / len(accounts) - share) < 0.02, plans)
        low, high = REVENUE[plan]
        check(all(low <= int(a["monthly_revenue"]) <= high for a in accounts if a["plan"] == plan), plan)

    valid = truth["valid_tickets"]
    valid_ids = {(t["source"], t["source_id"]): t for t in valid}
    check(len(valid_ids) == len(valid), "duplicate valid source_id")
    malformed_at = {(m["source"], m["locator"]) for m in truth["malformed"]}
    texts = {}
    for source, rows in read_records(out).items():
        check(len(rows) == sum(truth["counts"][FILES[source]].values()), f"{source} record count")
        for row in rows:
            is_valid = row.source_id is not None and row.created is not None and bool(row.text)
            check(is_valid == ((source, row.locator) not in malformed_at), (source, row.locator))
            if row.created is None or not is_valid:
                continue
            planted = valid_ids[source, row.source_id]
            check(planted["customer_key"] == row.customer_key, row)
            check(monday_of(row.created) == planted["week_start"], row)
            check(not row.account_id or (source, row.account_id) in account_keys, row)
            texts[source, row.source_id] = row.text
    check(len(texts) == len(valid_ids), "a planted valid ticket is missing from its file")
    pii_per_ticket = Counter((p["source"], p["source_id"]) for p in truth["pii"])
    for item in truth["pii"]:
        check(item["value"] in texts[item["source"], item["source_id"]], item)
        check(item["type"] != "card" or luhn_valid(item["value"]), item)
    check(set(pii_per_ticket.values()) <= {1, 2}, "one or two PII values per ticket")
    check(len(pii_per_ticket) / len(valid) >= 0.08, "PII share")
    check({p["type"] for p in truth["pii"]} == set(PII_KINDS), "every PII type planted")
    check(len(set(source_texts)) == len(source_texts), "a banking77 text was used twice")

    weeks = truth["weeks"]
    per_week = Counter(t["week_start"] for t in valid)
    check(len(valid) >= 2300 and all(180 <= per_week[w] <= 240 for w in weeks), per_week)
    week_customers: dict[tuple[str, str], set[str]] = defaultdict(set)
    per_intent_week = Counter((t["intent"], t["week_start"]) for t in valid)
    for t in valid:
        week_customers[t["intent"], t["week_start"]].add(t["customer_key"])
    spike = truth["spike"]
    check(spike["count"] >= 32 and spike["count"] >= 3.5 * spike["baseline_mean"], spike)
    check(all(6 <= per_intent_week[SPIKE_INTENT, w] <= 10 for w in weeks if w != spike["week_start"]), spike)
    check(len(week_customers[SPIKE_INTENT, spike["week_start"]]) == spike["count"], "spike customers")
    new = truth["new_pattern"]
    first = weeks.index(new["first_week"])
    check(all(new["counts"][w] == 0 for w in weeks[:first]) and new["counts"][weeks[first]] >= 25, new)
    check(all(15 <= new["counts"][w] <= 20 for w in weeks[first + 1 :]), new)
    check(len(week_customers[NEW_INTENT, new["first_week"]]) >= 15, "new-pattern customers")
    check(len({t["customer_key"] for t in valid}) >= 450, "distinct customers")
    shares = Counter(t["source"] for t in valid)
    for source, weight in zip(SOURCES, SOURCE_WEIGHTS, strict=True):
        check(abs(shares[source] / len(valid) - weight / 100) < 0.04, shares)
    check(
        len(truth["malformed"]) >= 12 and {m["source"] for m in truth["malformed"]} == set(SOURCES),
        "malformed",
    )
    tail_share = len(truth["email_tails"]) / truth["counts"][FILES["freshdesk"]]["valid"]
    check(0.10 <= tail_share <= 0.20, f"email-tail share {tail_share:.2f}")


def summarize(out: Path, truth: JSONDict, names: list[str]) -> None:
    """Print what was built, so a reviewer sees the planted patterns without opening the files."""
    valid = truth["valid_tickets"]
    print(f"valid tickets: {len(valid)}  malformed records: {len(truth['malformed'])}")
    for name, count in truth["counts"].items():
        print(f"  {name:30} valid {count['valid']:5}  malformed {count['malformed']:2}")
    by_week = Counter(t["week_start"] for t in valid)
    by_week_source = Counter((t["week_start"], t["source"]) for t in valid)
    by_week_intent = Counter((t["week_start"], t["intent"]) for t in valid)
    print("week_start  total  zendesk intercom freshdesk  declined_card_payment virtual_card_not_working")
    for week in truth["weeks"]:
        per_source = "".join(f"{by_week_source[week, s]:9}" for s in SOURCES)
        print(
            f"{week}  {by_week[week]:5}{per_source}  {by_week_intent[week, SPIKE_INTENT]:21}"
            f" {by_week_intent[week, NEW_INTENT]:24}"
        )
    customers = {t["customer_key"] for t in valid}
    with_pii = {(p["source"], p["source_id"]) for p in truth["pii"]}
    pii_types = Counter(p["type"] for p in truth["pii"])
    print(f"distinct customers: {len(customers)}")
    print(f"tickets with PII: {len(with_pii)} ({len(with_pii) / len(valid):.1%})")
    print(f"PII values by type: {dict(sorted(pii_types.items()))}")
    print(f"spike: {truth['spike']}")
    print(f"Freshdesk descriptions with an email tail: {len(truth['email_tails'])}")
    for name in names:
        path = out / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"  {path.name:30} {path.stat().st_size:9,} bytes  sha256 {digest}")


def main() -> None:
    """Build, write, verify and summarise the sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--banking77", type=Path, default=REPO_ROOT.parent / "shared" / "datasets" / "banking77"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "sample")
    # Kept outside the exports folder, which is a ready inbox: the truth is not an export.
    parser.add_argument("--truth", type=Path, default=REPO_ROOT / "data" / "sample_truth" / "planted.json")
    args = parser.parse_args()

    pool = TextPool(args.banking77, stream("texts"))
    accounts = build_accounts(stream("accounts"))
    customers = build_customers(stream("customers"), accounts)
    agents = build_agents(stream("agents"))
    tickets = plan_tickets(stream("tickets"), pool, customers) + plan_malformed(
        stream("malformed"), pool, customers
    )
    compose_messages(stream("messages"), tickets)
    by_source = {source: [t for t in tickets if t.source == source] for source in SOURCES}

    zendesk, zendesk_order = render_zendesk(stream("zendesk"), by_source["zendesk"], agents)
    intercom, intercom_order = render_intercom(stream("intercom"), by_source["intercom"], agents)
    freshdesk, freshdesk_order, first_lines, tails = render_freshdesk(
        stream("freshdesk"), by_source["freshdesk"], agents
    )
    ordered = {"zendesk": zendesk_order, "intercom": intercom_order, "freshdesk": freshdesk_order}
    locators = {
        "zendesk": [f"tickets[{i}]" for i in range(len(zendesk_order))],
        "intercom": [f"conversations[{i}]" for i in range(len(intercom_order))],
        "freshdesk": [f"line {line}" for line in first_lines],
    }
    truth = planted_truth(ordered, locators, tails)

    args.out.mkdir(parents=True, exist_ok=True)
    outputs = {
        FILES["zendesk"]: dump_json(zendesk),
        FILES["intercom"]: dump_json(intercom),
        FILES["freshdesk"]: freshdesk,
        "accounts.csv": accounts_csv(accounts),
    }
    for name, content in outputs.items():
        with (args.out / name).open("w", encoding="utf-8", newline="") as handle:
            handle.write(content)
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    args.truth.write_text(dump_json(truth), encoding="utf-8", newline="")
    verify(args.out, truth, [t.text.casefold() for t in tickets if t.text])
    summarize(args.out, truth, sorted(outputs))


if __name__ == "__main__":
    main()

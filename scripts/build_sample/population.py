"""Who files and who answers: accounts, customers and agents, with ids in each helpdesk's style."""

import hashlib
import random
import re

from .common import IdSequence
from .constants import (
    ACCOUNTS_PER_SOURCE,
    FILING_WEIGHTS,
    ORGLESS_PER_SOURCE,
    PLAN_SHARES,
    REVENUE,
    SEATS,
    SOURCES,
    SUPPORT_DOMAIN,
)
from .model import Account, Agent, Customer
from .vocabulary import (
    AGENT_NAMES,
    BUSINESS_TLDS,
    FIRST_NAMES,
    LAST_NAMES,
    NAME_CORES,
    NAME_PREFIXES,
    NAME_SUFFIXES,
    PERSONAL_DOMAINS,
)


def short_hex(label: str) -> str:
    """A stable 24-hex-digit id in the style of Intercom object ids."""
    return hashlib.sha1(label.encode()).hexdigest()[:24]


def email_local(first: str, last: str) -> str:
    """The part of an e-mail address before the @, e.g. ``sean.obrien``."""
    return f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}"


def build_accounts(rng: random.Random) -> dict[str, list[Account]]:
    """Accounts per source with exact 60/30/10 plan shares and unique names (Freshdesk joins on the name)."""
    used_names: set[str] = set()
    accounts: dict[str, list[Account]] = {}
    zendesk_org_ids = IdSequence(20_118_000_000, 60_000_000, rng)
    for source in SOURCES:
        total = ACCOUNTS_PER_SOURCE[source]
        plans = [plan for plan, share in PLAN_SHARES.items() for _ in range(round(total * share))]
        rng.shuffle(plans)
        accounts[source] = [
            new_account(rng, source, number, plan, used_names, zendesk_org_ids)
            for number, plan in enumerate(plans, start=1)
        ]
    return accounts


def new_account(
    rng: random.Random, source: str, number: int, plan: str, used_names: set[str], zendesk_org_ids: IdSequence
) -> Account:
    """One account; its id is a Zendesk organization id, an Intercom company id or the Freshdesk name."""
    name = unique_company_name(rng, used_names)
    account_id: int | str = name  # Freshdesk exports only the company name
    if source == "zendesk":
        account_id = zendesk_org_ids.take()
    elif source == "intercom":
        account_id = short_hex(f"intercom-company-{number}")
    domain = re.sub(r"[^a-z]+", "-", name.lower()) + rng.choice(BUSINESS_TLDS)
    low, high = REVENUE[plan]
    return Account(source, account_id, name, plan, rng.randint(low, high), domain, f"acct-{number:04d}")


def unique_company_name(rng: random.Random, used_names: set[str]) -> str:
    """A company name not used by any other account of any source."""
    while True:
        stem = rng.choice(NAME_PREFIXES) + rng.choice(NAME_CORES)
        name = f"{stem} {rng.choice(NAME_SUFFIXES)}"
        if name not in used_names:
            used_names.add(name)
            return name


def build_customers(rng: random.Random, accounts: dict[str, list[Account]]) -> dict[str, list[Customer]]:
    """Customers per source: seats on each account plus free users without an organisation record."""
    used_emails: set[str] = set()
    native_ids = {
        "zendesk": IdSequence(381_200_000_000, 40_000_000, rng),
        "freshdesk": IdSequence(80_001_000_000, 40, rng),
    }
    customers: dict[str, list[Customer]] = {}
    for source in SOURCES:
        seats: list[Account | None] = []
        for account in accounts[source]:
            seats += [account] * rng.randint(*SEATS[account.plan])
        seats += [None] * ORGLESS_PER_SOURCE[source]
        customers[source] = [
            new_customer(rng, source, number, account, used_emails, native_ids)
            for number, account in enumerate(seats, start=1)
        ]
    return customers


def new_customer(
    rng: random.Random,
    source: str,
    number: int,
    account: Account | None,
    used_emails: set[str],
    native_ids: dict[str, IdSequence],
) -> Customer:
    """One customer; Intercom contacts have hex ids and are leads (no external id) 15% of the time."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = unique_email(rng, first, last, account, used_emails)
    kind = "lead" if source == "intercom" and rng.random() < 0.15 else "user"
    native_id = native_ids[source].take() if source in native_ids else short_hex(f"intercom-contact-{number}")
    external_id = f"usr-{number:05d}" if source == "intercom" and kind == "user" else None
    weight = rng.choice(FILING_WEIGHTS)
    return Customer(source, native_id, first, last, email, account, weight, kind, external_id)


def unique_email(rng: random.Random, first: str, last: str, account: Account | None, used: set[str]) -> str:
    """A work address on a paid account's domain, else a personal one; a number is added on a clash."""
    personal = account is None or account.plan == "free"
    domain = rng.choice(PERSONAL_DOMAINS) if personal else account.domain
    local = email_local(first, last)
    email = f"{local}@{domain}"
    while email in used:
        email = f"{local}{rng.randint(2, 99)}@{domain}"
    used.add(email)
    return email


def build_agents(rng: random.Random) -> list[Agent]:
    """Support staff with ids in each tool's style."""
    ids = sorted(rng.sample(range(361_000_000_000, 361_999_999_999), len(AGENT_NAMES)))
    agents = []
    for zendesk_id, name in zip(ids, AGENT_NAMES, strict=True):
        email = name.lower().replace(" ", ".") + "@" + SUPPORT_DOMAIN
        agents.append(Agent(name, email, zendesk_id, str(rng.randint(4_000_000, 7_999_999))))
    return agents

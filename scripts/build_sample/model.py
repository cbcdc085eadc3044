"""The sample's world before rendering: accounts, customers, agents and planned tickets."""

from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True)
class World:
    """What the renderers draw on: the accounts per source, the agents and all planned tickets."""

    accounts: dict[str, list[Account]]
    agents: list[Agent]
    tickets: list[Ticket]


@dataclass(frozen=True)
class Export:
    """One rendered helpdesk export: the file's text, its records' tickets in file order, their locators.

    A locator is how planted.json points at a record: ``tickets[i]``, ``conversations[i]`` or ``line N``.
    """

    source: str
    text: str
    tickets: list[Ticket]
    locators: list[str]

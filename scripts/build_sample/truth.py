"""planted.json: the ground truth the tests assert on, taken from the tickets exactly as they were written."""

from collections import Counter

from .common import JSONDict, week_starts
from .constants import DEFECTS, FILES
from .model import Export, Ticket
from .patterns import PATTERNS


def valid_entry(ticket: Ticket, weeks: list[str]) -> JSONDict:
    """A valid ticket: where it is, which week and intent it counts for, and who filed it."""
    return {
        "source": ticket.source,
        "source_id": ticket.source_id,
        "week_start": weeks[ticket.week],
        "intent": ticket.intent,
        "customer_key": ticket.customer.key,
        "plan": ticket.customer.account.plan if ticket.customer.account else None,
    }


def malformed_entry(ticket: Ticket, locator: str) -> JSONDict:
    """A malformed record: where it is and what is wrong with it."""
    return {
        "file": FILES[ticket.source],
        "source": ticket.source,
        "locator": locator,
        "source_id": ticket.source_id,
        "defect": DEFECTS[ticket.source][str(ticket.defect)],
    }


def pii_entries(ticket: Ticket) -> list[JSONDict]:
    """Each PII value planted in the ticket's message."""
    return [
        {"source": ticket.source, "source_id": ticket.source_id, "type": kind, "value": value}
        for kind, value in ticket.pii
    ]


def planted_truth(exports: list[Export], tails: list[JSONDict]) -> JSONDict:
    """The truth about the helpdesk exports: counts, patterns, malformed records, e-mail tails, tickets, PII."""
    weeks = week_starts()
    valid_tickets, pii, malformed = [], [], []
    counts = {}
    for export in exports:
        for ticket, locator in zip(export.tickets, export.locators, strict=True):
            if ticket.defect is None:
                valid_tickets.append(valid_entry(ticket, weeks))
                pii += pii_entries(ticket)
            else:
                malformed.append(malformed_entry(ticket, locator))
        n_malformed = sum(t.defect is not None for t in export.tickets)
        counts[FILES[export.source]] = {"valid": len(export.tickets) - n_malformed, "malformed": n_malformed}
    per_week = Counter((t["intent"], t["week_start"]) for t in valid_tickets)
    return {
        "weeks": weeks,
        "counts": counts,
        **{pattern.key: pattern.truth(weeks, per_week) for pattern in PATTERNS},
        "malformed": malformed,
        "email_tails": tails,
        "valid_tickets": valid_tickets,
        "pii": pii,
    }

"""The Freshdesk export: a CSV with HTML descriptions, some of them e-mails with a signature or a quote."""

import csv
import html
import io
import random
from datetime import datetime, timedelta

from .common import IdSequence, JSONDict
from .constants import SUPPORT_DOMAIN
from .helpdesk import Lifecycle, lifecycle, tags_for
from .model import Agent, Export, Ticket
from .patterns import AREA_OF
from .vocabulary import QUOTED_AGENT_MAIL

COLUMNS = [
    "Ticket ID", "Subject", "Description", "Status", "Priority", "Source", "Type", "Agent", "Group",
    "Created time", "Due by Time", "Resolved time", "Closed time", "Last update time", "Tags",
    "Contact ID", "Full name", "Email", "Company Name", "Product",
]  # fmt: skip
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC with no zone marker, e.g. 2026-09-01 14:03:22
STATUS = {"new": "Open", "open": "Open", "pending": "Pending", "solved": "Resolved", "closed": "Closed"}
DUE_HOURS = {"Low": 72, "Medium": 48, "High": 24, "Urgent": 8}
DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # own names: %a/%b depend on the locale
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BAD_CREATED = {"empty_created": "", "bad_date_slash": "31/31/2026", "bad_date_word": "yesterday"}


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


def description(rng: random.Random, ticket: Ticket) -> tuple[str, list[str]]:
    """The Description HTML and the kinds of e-mail tail planted in it (maybe none).

    A tail's lines are <div>s joined by newlines, so such a description spans several physical lines.
    """
    joiner = " " if rng.random() < 0.7 else "<br>"
    text = ""
    if ticket.segments:
        text = "<div>" + joiner.join(html.escape(s, quote=False) for s in ticket.segments) + "</div>"
    if ticket.defect is not None or rng.random() >= 0.14:
        return text, []
    kinds, lines = email_tail(rng, ticket)
    text += "".join("\n<div>" + (html.escape(line, quote=False) or "<br>") + "</div>" for line in lines)
    return text, kinds


def other_cells(
    rng: random.Random, ticket: Ticket, agents: list[Agent], life: Lifecycle, tail: bool
) -> dict[str, str]:
    """The row's cells apart from Ticket ID, Subject and Description, drawn in column order."""
    priority = rng.choices(("Low", "Medium", "High", "Urgent"), weights=(35, 45, 15, 5))[0]
    area = AREA_OF.get(ticket.intent, "account")
    group = (
        "Tier 1" if rng.random() < 0.3 else {"cards": "Cards", "account": "Accounts"}.get(area, "Payments")
    )
    channels = ("Email", "Portal", "Chat", "Phone")
    account = ticket.customer.account
    return {
        "Status": STATUS[life.stage],
        "Priority": priority,
        "Source": "Email" if tail else rng.choices(channels, weights=(45, 25, 18, 12))[0],
        "Type": rng.choices(
            ("Question", "Incident", "Problem", "Feature Request", ""), weights=(45, 30, 8, 5, 12)
        )[0],
        "Agent": "" if life.stage == "new" else rng.choice(agents).name,
        "Group": group,
        "Created time": ticket.created.strftime(TIME_FORMAT),
        "Due by Time": (ticket.created + timedelta(hours=DUE_HOURS[priority])).strftime(TIME_FORMAT),
        "Resolved time": life.resolved.strftime(TIME_FORMAT) if life.resolved else "",
        "Closed time": life.updated.strftime(TIME_FORMAT) if life.stage == "closed" else "",
        "Last update time": life.updated.strftime(TIME_FORMAT),
        "Tags": ",".join(tags_for(rng, ticket, "freshdesk")),
        "Contact ID": str(ticket.customer.native_id),
        "Full name": ticket.customer.name,
        "Email": ticket.customer.email,
        "Company Name": account.name if account else "",
        "Product": "Example Bank Business" if account and account.plan != "free" else "Example Bank",
    }


def freshdesk_row(
    rng: random.Random, ticket: Ticket, agents: list[Agent]
) -> tuple[dict[str, str], list[str]]:
    """One export row with its planted defect, and the kinds of e-mail tail in its Description."""
    life = lifecycle(rng, ticket.created)
    text, tail_kinds = description(rng, ticket)
    cells = {"Ticket ID": ticket.source_id or "", "Subject": ticket.subject, "Description": text}
    cells |= other_cells(rng, ticket, agents, life, bool(tail_kinds))
    if ticket.defect == "missing_id":
        cells["Ticket ID"] = ""
        ticket.source_id = None
    elif ticket.defect in BAD_CREATED:
        cells["Created time"] = BAD_CREATED[ticket.defect]
    return cells, tail_kinds


def render_freshdesk(
    rng: random.Random, tickets: list[Ticket], agents: list[Agent]
) -> tuple[Export, list[JSONDict]]:
    """The CSV export in ticket order, and the e-mail tails planted in it.

    Descriptions with a tail span several physical lines, so each record's line is counted from the text.
    """
    ordered = sorted(tickets, key=lambda t: t.created)
    ticket_ids = IdSequence(10_001, 2, rng)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    locators, tails = [], []
    for ticket in ordered:
        ticket.source_id = str(ticket_ids.take())
        cells, tail_kinds = freshdesk_row(rng, ticket, agents)
        if tail_kinds:
            tails.append({"source_id": ticket.source_id, "kinds": tail_kinds})
        first_line = buffer.getvalue().count("\n") + 1
        locators.append(f"line {first_line}")
        writer.writerow(cells)
    return Export("freshdesk", buffer.getvalue(), ordered, locators), tails

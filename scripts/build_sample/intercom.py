"""The Intercom export: conversations with HTML bodies, Unix times, contacts, companies and parts."""

import hashlib
import html
import random
from datetime import datetime, timedelta

from .common import IdSequence, JSONDict, dump_json
from .constants import SUPPORT_DOMAIN
from .helpdesk import Lifecycle, agent_reply, lifecycle, paragraphs_html, tags_for
from .model import Account, Agent, Customer, Export, Ticket

BOT = {"type": "bot", "id": "1834567", "name": "Operator", "email": f"operator@{SUPPORT_DOMAIN}"}
PLAN_IDS = {"free": "1001", "pro": "1002", "enterprise": "1003"}
BOT_GREETING = "<p>Hi there 👋 How can we help?</p>"
BOT_FOLLOW_UP = "<p>Are you still there? Reply here and a member of the team will pick this up.</p>"
EMPTY_MESSAGE_REPLY = (
    "It looks like your message came through empty. Could you tell us what you need help with?"
)


def epoch(moment: datetime) -> int:
    """Intercom uses Unix seconds."""
    return int(moment.timestamp())


def entity_escape(text: str, numeric_apostrophes: bool) -> str:
    """Escape like a rich-text editor: &amp; &lt; &gt;, currency entities, and on some messages &#39;."""
    escaped = html.escape(text, quote=False).replace("£", "&pound;").replace("€", "&euro;")
    return escaped.replace("'", "&#39;") if numeric_apostrophes else escaped


def message_html(rng: random.Random, ticket: Ticket) -> str:
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


def person(customer: Customer, author_type: str) -> JSONDict:
    """Author object for a contact."""
    return {"type": author_type, "id": customer.native_id, "name": customer.name, "email": customer.email}


def admin(agent: Agent) -> JSONDict:
    """Author object for an admin (agent)."""
    return {"type": "admin", "id": agent.intercom_id, "name": agent.name, "email": agent.email}


def tag_id(name: str) -> str:
    """A stable numeric tag id, the same for every conversation carrying the tag."""
    return str(int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 9_000_000)


def part(part_ids: IdSequence, part_type: str, body: str | None, at: datetime, author: JSONDict) -> JSONDict:
    """One conversation part; assignment and close parts have no body."""
    return {
        "type": "conversation_part",
        "id": str(part_ids.take()),
        "part_type": part_type,
        "body": body,
        "created_at": epoch(at),
        "author": author,
    }


def conversation_parts(
    rng: random.Random, ticket: Ticket, life: Lifecycle, agent: Agent, body: str, part_ids: IdSequence
) -> list[JSONDict]:
    """The parts after the opening message: an agent's reply unless new, an assignment, a close if resolved."""
    parts = []
    if life.stage != "new":
        replied = min(ticket.created + timedelta(minutes=rng.randint(2, 300)), life.updated)
        if rng.random() < 0.6:
            assigned = replied - timedelta(seconds=rng.randint(1, 60))
            parts.append(part(part_ids, "assignment", None, assigned, admin(agent)))
        reply = agent_reply(rng, ticket.customer.first, agent) if body else [EMPTY_MESSAGE_REPLY]
        parts.append(part(part_ids, "comment", paragraphs_html(reply), replied, admin(agent)))
    if life.resolved is not None:
        parts.append(part(part_ids, "close", None, life.resolved, admin(agent)))
    return parts


def bot_answer(rng: random.Random, ticket: Ticket, body: str, part_ids: IdSequence) -> JSONDict:
    """The part answering the bot's greeting: the customer's message, or the bot again when there is none."""
    answered = ticket.created + timedelta(seconds=rng.randint(5, 60))
    if body:
        return part(part_ids, "comment", body, answered, person(ticket.customer, "user"))
    return part(part_ids, "comment", BOT_FOLLOW_UP, answered, BOT)


def company(account: Account | None) -> JSONDict | None:
    """The conversation's company with its plan; None for customers without one."""
    if account is None:
        return None
    plan = {"type": "plan", "id": PLAN_IDS[account.plan], "name": account.plan.title()}
    return {
        "type": "company",
        "id": account.account_id,
        "company_id": account.company_id,
        "name": account.name,
        "plan": plan,
    }


def opening(ticket: Ticket, body: str, bot_first: bool) -> JSONDict:
    """The conversation's ``source``: the customer's message, or the bot's greeting on automated ones."""
    return {
        "type": "conversation",
        "delivered_as": "automated" if bot_first else "customer_initiated",
        "subject": "",
        "body": BOT_GREETING if bot_first else body,
        "author": BOT if bot_first else person(ticket.customer, ticket.customer.intercom_kind),
    }


def conversation(
    rng: random.Random, ticket: Ticket, conversation_id: str, agents: list[Agent], part_ids: IdSequence
) -> JSONDict:
    """One Intercom conversation; ~10% open with the bot greeting and carry the customer text in a part."""
    life = lifecycle(rng, ticket.created)
    agent = rng.choice(agents)
    bot_first = ticket.defect == "only_bot_admin_parts" or (ticket.defect is None and rng.random() < 0.1)
    body = message_html(rng, ticket)
    parts = [bot_answer(rng, ticket, body, part_ids)] if bot_first else []
    parts += conversation_parts(rng, ticket, life, agent, body, part_ids)
    tags = [{"type": "tag", "id": tag_id(name), "name": name} for name in tags_for(rng, ticket, "intercom")]
    customer = ticket.customer
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": epoch(ticket.created),
        "updated_at": epoch(life.updated),
        "title": ticket.subject if ticket.subject and rng.random() < 0.25 else None,
        "state": {"new": "open", "open": "open", "pending": "snoozed"}.get(life.stage, "closed"),
        "priority": "priority" if rng.random() < 0.15 else "not_priority",
        "source": opening(ticket, body, bot_first),
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": customer.native_id, "external_id": customer.external_id}],
        },
        "company": company(customer.account),
        "tags": {"type": "tag.list", "tags": tags},
        "conversation_parts": {
            "type": "conversation_part.list",
            "total_count": len(parts),
            "conversation_parts": parts,
        },
    }


def render_intercom(rng: random.Random, tickets: list[Ticket], agents: list[Agent]) -> Export:
    """The conversations export, in creation order, with the planted defects."""
    ordered = sorted(tickets, key=lambda t: t.created)
    conversation_ids = IdSequence(215_470_000_000_000, 90_000, rng)
    part_ids = IdSequence(24_100_000_000, 400, rng)
    conversations = []
    for ticket in ordered:
        ticket.source_id = str(conversation_ids.take())
        record = conversation(rng, ticket, ticket.source_id, agents, part_ids)
        if ticket.defect == "missing_id":
            record["id"] = None
            ticket.source_id = None
        elif ticket.defect == "bad_date_slash":
            record["created_at"] = "31/31/2026"
        conversations.append(record)
    document = {
        "type": "conversation.list",
        "conversations": conversations,
        "total_count": len(conversations),
    }
    locators = [f"conversations[{i}]" for i in range(len(conversations))]
    return Export("intercom", dump_json(document), ordered, locators)

"""The Zendesk export: tickets in API shape, with sideloaded users and organizations."""

import json
import random
from datetime import datetime, timedelta

from .common import IdSequence, JSONDict, dump_json
from .helpdesk import Lifecycle, agent_reply, lifecycle, paragraphs_html, tags_for
from .model import Account, Agent, Customer, Export, Ticket
from .vocabulary import PRIVATE_NOTES

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # e.g. 2026-09-01T14:03:22Z


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
        "created_at": at.strftime(TIME_FORMAT),
    }


def zendesk_comments(
    rng: random.Random, ticket: Ticket, life: Lifecycle, agent: Agent, comment_ids: IdSequence
) -> list[JSONDict]:
    """The requester's comment repeating the description, then (unless new) a reply, maybe a private note."""
    comments = [
        zendesk_comment(comment_ids.take(), ticket.customer.native_id, [ticket.message], ticket.created)
    ]
    if life.stage == "new":
        return comments
    replied = min(ticket.created + timedelta(minutes=rng.randint(5, 600)), life.updated)
    reply = agent_reply(rng, ticket.customer.first, agent)
    comments.append(zendesk_comment(comment_ids.take(), agent.zendesk_id, reply, replied))
    if rng.random() < 0.25:
        noted = min(replied + timedelta(minutes=rng.randint(1, 90)), life.updated)
        note = [rng.choice(PRIVATE_NOTES)]
        comments.append(zendesk_comment(comment_ids.take(), agent.zendesk_id, note, noted, public=False))
    return comments


def zendesk_ticket(
    rng: random.Random, ticket: Ticket, ticket_id: int, agents: list[Agent], comment_ids: IdSequence
) -> JSONDict:
    """One Zendesk ticket in API shape; about half carry comments."""
    life = lifecycle(rng, ticket.created)
    agent = rng.choice(agents)
    channel = rng.choices(("email", "web", "mobile", "api"), weights=(45, 30, 20, 5))[0]
    requester = ticket.customer.native_id
    account = ticket.customer.account
    record: JSONDict = {
        "url": f"https://example-bank.zendesk.com/api/v2/tickets/{ticket_id}.json",
        "id": ticket_id,
        "via": {"channel": channel},
        "created_at": ticket.created.strftime(TIME_FORMAT),
        "updated_at": life.updated.strftime(TIME_FORMAT),
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
        record["comments"] = zendesk_comments(rng, ticket, life, agent, comment_ids)
    return record


def plant_defect(ticket: Ticket, record: JSONDict) -> JSONDict | str:
    """Break the record as its planted defect says; a record without an id has no ``source_id``."""
    if ticket.defect == "missing_id":
        del record["id"]
        record["url"] = None
        ticket.source_id = None
    elif ticket.defect == "bad_date_slash":
        record["created_at"] = "31/31/2026"
    elif ticket.defect == "bad_date_word":
        record["created_at"] = "yesterday"
    elif ticket.defect == "not_an_object":
        ticket.source_id = None
        return json.dumps(record, ensure_ascii=False)[:90]
    return record


def user(customer: Customer) -> JSONDict:
    """The sideloaded user record of a requester."""
    organization_id = customer.account.account_id if customer.account else None
    return {
        "id": customer.native_id,
        "name": customer.name,
        "email": customer.email,
        "role": "end-user",
        "organization_id": organization_id,
    }


def agent_user(agent: Agent) -> JSONDict:
    """The sideloaded user record of an agent."""
    return {
        "id": agent.zendesk_id,
        "name": agent.name,
        "email": agent.email,
        "role": "agent",
        "organization_id": None,
    }


def organization(account: Account) -> JSONDict:
    """The sideloaded organization record, with the plan as a custom organization field."""
    return {"id": account.account_id, "name": account.name, "organization_fields": {"plan": account.plan}}


def render_zendesk(rng: random.Random, tickets: list[Ticket], agents: list[Agent]) -> Export:
    """The export: tickets in id (= creation) order, then every requester, agent and organization once."""
    ordered = sorted(tickets, key=lambda t: t.created)
    ticket_ids = IdSequence(48_120, 3, rng)
    comment_ids = IdSequence(31_400_000_000, 900, rng)
    records: list[JSONDict | str] = []
    users = {agent.zendesk_id: agent_user(agent) for agent in agents}
    organizations: dict[int, JSONDict] = {}
    for ticket in ordered:
        ticket_id = ticket_ids.take()
        ticket.source_id = str(ticket_id)
        records.append(plant_defect(ticket, zendesk_ticket(rng, ticket, ticket_id, agents, comment_ids)))
        users[int(ticket.customer.native_id)] = user(ticket.customer)
        if ticket.customer.account is not None:
            organizations[int(ticket.customer.account.account_id)] = organization(ticket.customer.account)
    document = {
        "tickets": records,
        "users": [users[key] for key in sorted(users)],
        "organizations": [organizations[key] for key in sorted(organizations)],
        "count": len(records),
        "next_page": None,
    }
    return Export("zendesk", dump_json(document), ordered, [f"tickets[{i}]" for i in range(len(records))])

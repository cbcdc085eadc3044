"""What the three helpdesk renderers share: a ticket's lifecycle, its tags and the agents' replies."""

import html
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .constants import EXPORT_TIME
from .model import Agent, Ticket
from .patterns import AREA_OF
from .vocabulary import AGENT_REPLIES, AGENT_SIGNS


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

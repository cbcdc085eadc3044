"""The knowledge base of resolved tickets: which tickets count as solved, and how they were solved.

A ticket is **resolved** when its source says so and the company answered it in public:
- sources that keep a status (Zendesk, Freshdesk, Intercom, GitHub issues): the status is one the
  helpdesk uses for a finished conversation (`RESOLVED_STATUSES`: solved, closed, resolved);
- sources without a status (twcs and other mapped exports): the company's public reply is the
  only evidence of an answer, so a ticket with one counts as resolved.
Either way an entry needs at least one public agent reply: the reply is the resolution that
`similar` shows and a draft adapts. A closed ticket nobody answered in public teaches nothing
about how to answer, and internal notes never reach a customer, so neither enters.

A ticket **needs a reply** when the helpdesk says it waits for the company (`AWAITING_AGENT`:
new, open), or, without a status, when nobody from the company has answered it in public yet.
Pending, on-hold and snoozed tickets wait for someone else.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ticket_intel.core.meaning import unread
from ticket_intel.core.normalize import html_to_text, strip_email_tail
from ticket_intel.core.redact import MAX_TEXT_CHARS, RedactionSettings, redact
from ticket_intel.core.sources.base import AWAITING_AGENT, RESOLVED_STATUSES

REPLY_SEPARATOR = "\n\n"
KB_COLUMNS = ["ticket_id", "week_start", "status", "text", "text_hash", "resolution", "public_replies",
              "resolved_at"]
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _status(value: object) -> str | None:
    return value.lower() if isinstance(value, str) and value.strip() else None


def is_resolved(status: str | None, public_replies: int) -> bool:
    """Solved by the source's status, or (without one) answered in public; see the module docstring."""
    if public_replies <= 0:
        return False
    status = _status(status)
    return status is None or status in RESOLVED_STATUSES


def needs_reply(status: str | None, public_replies: int) -> bool:
    """Waiting for the company: an open status, or no status and no public answer yet."""
    status = _status(status)
    return public_replies <= 0 if status is None else status in AWAITING_AGENT


def reply_text(body: str) -> str:
    """An agent reply as plain text with its paragraphs kept (a draft is built from it); quoted
    mail and signatures cut like a customer message's."""
    lines = strip_email_tail(html_to_text(body.replace("\x00", ""))).splitlines()
    text = "\n".join(" ".join(line.split()) for line in lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


def resolutions(replies: pd.DataFrame, settings: RedactionSettings) -> pd.Series:
    """Per ticket id, its public agent replies in time order, cleaned, redacted and joined."""
    public = replies[replies["is_public"].fillna(True).astype(bool)].sort_values(["ticket_id", "reply_at"])
    texts = [redact(reply_text(t)[:MAX_TEXT_CHARS], settings).text for t in public["text"]]
    cleaned = pd.Series(texts, index=public["ticket_id"].to_numpy(), dtype=object)
    cleaned = cleaned[cleaned.str.len() > 0]
    return cleaned.groupby(level=0).agg(REPLY_SEPARATOR.join)


def public_reply_counts(replies: pd.DataFrame) -> pd.Series:
    public = replies[replies["is_public"].fillna(True).astype(bool)]
    return public.groupby("ticket_id").size()


def knowledge_base(tickets: pd.DataFrame, replies: pd.DataFrame, settings: RedactionSettings) -> pd.DataFrame:
    """The resolved tickets among `tickets` (ticket_id, week_start, status, redacted text, text_hash,
    optionally meaning_text: one with nothing to read is left out) with their resolution; `replies`
    are raw agent replies (ticket_id, reply_at, text, is_public)."""
    n = tickets["ticket_id"].map(public_reply_counts(replies)).fillna(0).astype(int)
    keep = np.array([is_resolved(s, c) for s, c in zip(tickets["status"], n, strict=True)], dtype=bool)
    keep &= ~unread(tickets)  # nothing to read asks nothing a later ticket could be like
    chosen = tickets[keep].assign(public_replies=n[keep])
    mine = replies[replies["ticket_id"].isin(set(chosen["ticket_id"]))]
    solved = resolutions(mine, settings)
    last = mine[mine["is_public"].fillna(True).astype(bool)].groupby("ticket_id")["reply_at"].max()
    out = chosen.assign(resolution=chosen["ticket_id"].map(solved), resolved_at=chosen["ticket_id"].map(last))
    out = out[out["resolution"].notna()].copy()  # replies that were nothing but a quote or signature
    out["status"] = [_status(s) for s in out["status"]]
    return out[KB_COLUMNS].reset_index(drop=True)


def awaiting_reply(tickets: pd.DataFrame, replies: pd.DataFrame) -> pd.DataFrame:
    """The tickets (ticket_id, status, ...) that wait for the company's answer."""
    n = tickets["ticket_id"].map(public_reply_counts(replies)).fillna(0).astype(int)
    return tickets[np.array([needs_reply(s, c) for s, c in zip(tickets["status"], n, strict=True)], dtype=bool)]

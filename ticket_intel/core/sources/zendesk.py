"""Zendesk: the tickets JSON export (`tickets`, sideloaded `users`/`organizations`/`brands`) and the
incremental-export shape. When comments are present, the first public comment by the requester is
the customer's message (with the next ones before an agent answers when it says nothing but a
greeting); later public comments by end-users are follow-ups, and comments by agents are replies
(private ones marked `is_public=False`), and so are the agents' lines of a Zendesk Chat transcript
the requester's comment holds (`transcripts.agent_replies`). Without comments the ticket description
is the message. The product is the ticket's brand (its sideloaded name, else its `brand_id`). A
deleted ticket (the incremental export keeps them, status `deleted`) is parsed like the others;
resolution sets it aside (`base.REMOVED_STATUSES`). A ticket an agent merged into another of the
same requester ("This request was closed and merged into request #123") is that one's duplicate: it
is set aside (`base.MERGED_REASON`); merged into another customer's, it still counts that customer. The
note a merge leaves in the ticket kept ("Request #122 ... was closed and merged into this request")
is no reply."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ticket_intel.core.sources.base import (
    ParseResult,
    RecordError,
    is_merge_note,
    make_ticket,
    opening_turn,
    parse_timestamp,
)
from ticket_intel.core.sources.transcripts import agent_replies, speaker_id

SOURCE = "zendesk"
AGENT_ROLES = {"agent", "admin"}
VOICE_COMMENT = "VoiceComment"  # a Talk call's comment: its record (`normalize.call_words`) and transcription
# The comments Zendesk writes when an agent merges tickets, in the ticket merged away and in the one kept.
_MERGED_AWAY = re.compile(r"^\W*This request was closed and merged into request\s*#?\s*(?P<into>\d+)",
                          re.IGNORECASE)
_MERGED_IN = re.compile(r"^\W*Requests?\s*#?\s*\d+.{0,400}?\s+(?:was|were) closed and merged into this request",
                        re.IGNORECASE | re.DOTALL)


def looks_like(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("tickets"), list)


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One ticket object (a JSON array or JSONL export of the tickets API)."""
    return "requester_id" in record and ("via" in record or "zendesk.com" in str(record.get("url", "")))


@dataclass(frozen=True)
class _Export:
    """What the export says besides a ticket: its sideloads, and each ticket's requester."""

    orgs: Mapping[Any, Mapping[str, Any]]
    brands: Mapping[Any, Mapping[str, Any]]
    agents: set[Any]
    requesters: Mapping[str, Any]
    emails: Mapping[Any, Any]


@dataclass
class Conversation:
    message: Any = None
    followups: list[Any] = field(default_factory=list)
    replies: list[Mapping[str, Any]] = field(default_factory=list)


def _body(comment: Mapping[str, Any], html: bool) -> Any:
    if html:
        return comment.get("html_body") or comment.get("body") or comment.get("plain_body")
    return comment.get("plain_body") or comment.get("body") or comment.get("html_body")


def _conversation(ticket: Mapping[str, Any], export: _Export) -> Conversation:
    """Split the comments: the requester's first public one (joined by the next ones before an
    agent's public answer when it says nothing but "Hi", `base.opening_turn`), later customer ones,
    agents' ones.

    Without a users sideload every author other than the requester counts as an agent."""
    conv, requester, turns, agents = Conversation(), ticket.get("requester_id"), [], export.agents
    for comment in ticket.get("comments") or []:
        if not isinstance(comment, Mapping) or is_merge_note(_body(comment, html=False), _MERGED_AWAY, _MERGED_IN,
                                                             requester, export.requesters):
            continue
        if comment.get("type") == VOICE_COMMENT:
            if said := _voice(comment, opened=any(mine for mine, _ in turns)):
                turns.append((True, said))
            continue
        author = comment.get("author_id")
        is_agent = author in agents if agents else (requester is not None and author != requester)
        if is_agent:
            conv.replies.append(comment)
        opened = any(mine for mine, _ in turns)
        if comment.get("public") is False or not (is_agent or opened or requester is None or author == requester):
            continue  # private notes, and end-users' comments before the requester's first
        turns.append((not is_agent, _body(comment, html=True)))
        if not is_agent:
            conv.replies += _chat_replies(comment, _subject(ticket))
    conv.message, conv.followups = opening_turn(turns, _subject(ticket))
    return conv


def _voice(comment: Mapping[str, Any], opened: bool) -> Any:
    """What a call (Talk's voice comment) says as the caller's turn: its transcription (`data`, or in
    the body), else its record when it opens the conversation (`base.make_ticket` then reads the
    subject an agent gave the call). Never an agent's reply, whoever answered."""
    said = (comment.get("data") or {}).get("transcription_text")
    return said or (None if opened else _body(comment, html=True))


def _chat_replies(comment: Mapping[str, Any], subject: Any) -> list[dict[str, Any]]:
    """The agents' lines of a chat transcript in a customer's comment, as public agent comments."""
    body = _body(comment, html=False)
    if not isinstance(body, str):
        return []
    try:
        start = parse_timestamp(comment.get("created_at"))
    except RecordError:
        return []  # the transcript is still read; its answers have no day to be dated by
    said = agent_replies(body, subject if isinstance(subject, str) else None, start)
    return [{"id": f"{comment.get('id')}.{k}", "author_id": speaker_id(turn.who), "public": True,
             "created_at": at, "body": turn.text} for k, (turn, at) in enumerate(said)]


def _sender(ticket: Mapping[str, Any]) -> Any:
    """The address a mail ticket came from (`via.source.from.address`)."""
    source = (ticket.get("via") or {}).get("source")
    return ((source.get("from") or {}) if isinstance(source, Mapping) else {}).get("address")


def _subject(ticket: Mapping[str, Any]) -> Any:
    return ticket.get("subject") or ticket.get("raw_subject")


def _sideload(doc: Mapping[str, Any], key: str) -> dict[Any, Mapping[str, Any]]:
    return {o.get("id"): o for o in doc.get(key) or [] if isinstance(o, Mapping) and "id" in o}


def parse(doc: Mapping[str, Any], locators: Sequence[str] | None = None) -> ParseResult:
    """`doc` is the export (`tickets` plus optional sideloads); `locators` override `tickets[i]`."""
    result = ParseResult(SOURCE)
    export = _Export(
        orgs=_sideload(doc, "organizations"), brands=_sideload(doc, "brands"),
        agents={i for i, u in _sideload(doc, "users").items() if u.get("role") in AGENT_ROLES},
        emails={i: u.get("email") for i, u in _sideload(doc, "users").items()},
        requesters={str(t.get("id")): t.get("requester_id") for t in doc["tickets"] if isinstance(t, Mapping)})
    result.add_each(doc["tickets"], locators, "ticket",
                    lambda ticket, locator: _add(result, ticket, locator, export), where="tickets")
    return result


def _add(result: ParseResult, ticket: Mapping[str, Any], locator: str, export: _Export) -> None:
    org = export.orgs.get(ticket.get("organization_id")) or {}
    brand_id = ticket.get("brand_id")
    conv = _conversation(ticket, export)
    made = make_ticket(
        source=SOURCE,
        source_id=ticket.get("id"),
        created_at=ticket.get("created_at"),
        message=conv.message or ticket.get("description"),
        subject=_subject(ticket),
        customer_id=ticket.get("requester_id"),
        account_id=ticket.get("organization_id"),
        plan=(org.get("organization_fields") or {}).get("plan"),
        channel=(ticket.get("via") or {}).get("channel"),
        tags=ticket.get("tags"),
        priority=ticket.get("priority"),
        status=ticket.get("status"),
        product=(export.brands.get(brand_id) or {}).get("name") or brand_id,
        followups=conv.followups,
        record=ticket,
        sender=_sender(ticket) or export.emails.get(ticket.get("requester_id")),
    )
    result.tickets.append({**made, "locator": locator})
    for comment in conv.replies:
        result.add_reply(locator, comment, ticket_id=made["ticket_id"], reply_id=comment.get("id"),
                         reply_at=comment.get("created_at"), author=comment.get("author_id"),
                         text=_body(comment, html=False), is_public=comment.get("public") is not False)

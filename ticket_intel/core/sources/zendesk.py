"""Zendesk: the tickets JSON export (`tickets`, sideloaded `users`/`organizations`/`brands`) and the
incremental-export shape. When comments are present, the first public comment by the requester is
the customer's message (with the next ones before an agent answers when it says nothing but a
greeting); later public comments by end-users are follow-ups, and comments by agents are replies
(private ones marked `is_public=False`), and so are the agents' lines of a Zendesk Chat transcript
the requester's comment holds (`transcripts.agent_replies`). Without comments the ticket description
is the message. Comments by agents are replies: without a users sideload, every author but the
requester and the end users the ticket copies (`_agents`). A ticket the requester never wrote in
reads as its description (an agent's account of a call, an integration's form), whose comment is no
reply; one whose first comment is private is an internal ticket, set aside with
`base.UNANSWERED_REASON`. The product is the ticket's brand (its sideloaded name, else its `brand_id`). A
deleted ticket (the incremental export keeps them, status `deleted`) is parsed like the others;
resolution sets it aside (`base.REMOVED_STATUSES`). A ticket an agent merged into another of the
same requester ("This request was closed and merged into request #123") is that one's duplicate: it
is set aside (`base.MERGED_REASON`); merged into another customer's, it still counts that customer. The
note a merge leaves in the ticket kept ("Request #122 ... was closed and merged into this request")
is no reply."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ticket_intel.core.sources.base import (
    UNANSWERED_REASON,
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
INTERNAL = UNANSWERED_REASON.format("an agent in a private comment", "the requester")
# The ticket's fields naming people on the requester's side of it, and on the company's.
CC_FIELDS = ("email_cc_ids", "collaborator_ids")
AGENT_FIELDS = ("assignee_id", "follower_ids")
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


def looks_like_events(record: Mapping[str, Any]) -> bool:
    """One record of the incremental ticket-events export (an audit with its child events)."""
    return "child_events" in record and "ticket_id" in record


# The ticket-events export holds comments apart from their tickets, with nothing to say which
# author is the requester: it is refused with what to export instead.
EVENTS_EXPORT = ("a Zendesk ticket-events export (incremental/ticket_events): its comments cannot be told apart "
                 "as the requester's or an agent's without their tickets; export tickets with their comments "
                 "instead (the JSON export with comments, or each ticket's comments from the API) for replies "
                 "and similar tickets, or the incremental tickets export for tickets alone")


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


def _agents(ticket: Mapping[str, Any], export: _Export) -> Callable[[Any], bool]:
    """Who is an agent: the users sideload's agents and admins; without it, every author but the
    requester and the end users the ticket copies (CCs), unless the ticket names them its
    assignee or followers (followers are always agents; a CC may be either)."""
    if export.agents:
        return export.agents.__contains__
    ours = {i for f in AGENT_FIELDS for i in _ids(ticket.get(f))}
    theirs = {ticket.get("requester_id"), *(i for f in CC_FIELDS for i in _ids(ticket.get(f)))} - ours
    return lambda author: ticket.get("requester_id") is not None and author not in theirs


def _ids(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _conversation(ticket: Mapping[str, Any], export: _Export) -> Conversation:
    """Split the comments: the requester's first public one (joined by the next ones before an
    agent's public answer when it says nothing but "Hi", `base.opening_turn`), later customer ones,
    agents' ones (`_agents`)."""
    conv, requester, turns, is_agent_id = Conversation(), ticket.get("requester_id"), [], _agents(ticket, export)
    for comment in ticket.get("comments") or []:
        if not isinstance(comment, Mapping) or is_merge_note(_body(comment, html=False), _MERGED_AWAY, _MERGED_IN,
                                                             requester, export.requesters):
            continue
        if comment.get("type") == VOICE_COMMENT:
            if said := _voice(comment, opened=any(mine for mine, _ in turns)):
                turns.append((True, said))
            continue
        author = comment.get("author_id")
        is_agent = is_agent_id(author)
        if is_agent:
            conv.replies.append(comment)
        opened = any(mine for mine, _ in turns)
        if comment.get("public") is False or not (is_agent or opened or requester is None or author == requester):
            continue  # private notes, and end-users' comments before the requester's first
        turns.append((not is_agent, _body(comment, html=True)))
        if not is_agent:
            conv.replies += _chat_replies(comment, _subject(ticket))
    conv.message, conv.followups = opening_turn(turns, _subject(ticket))
    if conv.message is None:
        _without_description(ticket, conv)
    return conv


def _without_description(ticket: Mapping[str, Any], conv: Conversation) -> None:
    """A ticket the requester never wrote in reads as its description, its first comment: an agent's
    account of a call or a visit, an integration's form, is the message and no answer to it (it
    opened the resolution of a logged call). A first comment that is private is an internal ticket,
    no customer's message (its text was read as one)."""
    first = next((c for c in ticket.get("comments") or [] if isinstance(c, Mapping)), None)
    if first is None:
        return
    if first.get("public") is False:
        raise RecordError(INTERNAL)
    conv.replies = [r for r in conv.replies if r is not first]


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

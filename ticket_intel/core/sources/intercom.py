"""Intercom: the conversations export. The customer's message is the conversation's first message
(`source`; `conversation_message` in API 1.x) when a user or lead wrote it, else the first
conversation part authored by a user or lead (bot- and admin-initiated conversations open with our
own words, not the customer's), joined by their next parts before an admin's when it says nothing
but "Hi" (`base.opening_turn`). Later user/lead parts are follow-ups; admin parts with a body are
replies (notes, `note` and `note_and_reopen` parts, are internal: `is_public` false, and never part
of the conversation a customer saw). A conversation we opened (an outbound message, a campaign, a
bot greeting) that no customer answered is no ticket: set aside with `base.UNANSWERED_REASON`, not
counted as malformed. Intercom has no pending state: an open conversation whose last word an admin
said waits for the customer, and is read as `pending`. Intercom has no brand field: the product
comes from a `product` or `brand` conversation custom attribute when there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ticket_intel.core.sources.base import (
    UNANSWERED_REASON,
    ParseResult,
    RecordError,
    make_ticket,
    opening_turn,
)

SOURCE = "intercom"
CUSTOMER_AUTHORS = {"user", "lead", "contact"}
AGENT_AUTHORS = {"admin"}
OUR_AUTHORS = {*AGENT_AUTHORS, "bot"}  # who opens outbound messages, campaigns and bot greetings
UNANSWERED = UNANSWERED_REASON.format("an admin or bot", "a user or lead")
PRODUCT_ATTRIBUTES = ("product", "brand")


def looks_like(doc: Any) -> bool:
    return isinstance(doc, Mapping) and (
        doc.get("type") == "conversation.list" or isinstance(doc.get("conversations"), list)
    )


def _author_type(item: Mapping[str, Any]) -> Any:
    """Who wrote a part: user, lead, contact, admin or bot (None without an author object)."""
    author = item.get("author")
    return author.get("type") if isinstance(author, Mapping) else None


def _first(conv: Mapping[str, Any]) -> Mapping[str, Any]:
    """The conversation's first message: `source` (API 2.x), `conversation_message` (1.x)."""
    first = conv.get("source") or conv.get("conversation_message")
    return first if isinstance(first, Mapping) else {}


def _is_note(part: Mapping[str, Any]) -> bool:
    """An admin's internal note: `note`, or `note_and_reopen` (a note that reopened the conversation)."""
    return str(part.get("part_type") or "").startswith("note")


def _split(conv: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The conversation's customer messages and admin answers (first message first), in order, and
    its admin parts. Neither a bot's "How can we help?" nor an admin's internal note ends the
    customer's opening turn."""
    parts = [p for p in (conv.get("conversation_parts") or {}).get("conversation_parts") or []
             if isinstance(p, Mapping) and p.get("body")]
    first = _first(conv)
    said = [first] if _author_type(first) in CUSTOMER_AUTHORS and first.get("body") else []
    said += [p for p in parts if _author_type(p) in CUSTOMER_AUTHORS
             or (_author_type(p) in AGENT_AUTHORS and not _is_note(p))]
    return said, [p for p in parts if _author_type(p) in AGENT_AUTHORS]


def _status(conv: Mapping[str, Any], said: Sequence[Mapping[str, Any]]) -> Any:
    """The conversation's state, `pending` when it is open and an admin said the last word."""
    state = conv.get("state")
    waiting_on_customer = bool(said) and _author_type(said[-1]) in AGENT_AUTHORS
    return "pending" if state == "open" and waiting_on_customer else state


def _product(conv: Mapping[str, Any]) -> Any:
    attributes = conv.get("custom_attributes")
    if not isinstance(attributes, Mapping):
        return None
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    return next((lowered[k] for k in PRODUCT_ATTRIBUTES if lowered.get(k)), None)


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One conversation object (a JSON array or JSONL of conversations)."""
    return record.get("type") == "conversation" or (
        "conversation_parts" in record and ("source" in record or "conversation_message" in record))


def parse(doc: Mapping[str, Any], locators: Sequence[str] | None = None) -> ParseResult:
    """`doc` holds `conversations`; `locators` override `conversations[i]`."""
    result = ParseResult(SOURCE)
    result.add_each(doc.get("conversations") or [], locators, "conversation", partial(_add, result),
                    where="conversations")
    return result


def opening(conv: Mapping[str, Any], said: Sequence[Mapping[str, Any]] | None = None
            ) -> tuple[str | None, list[str], Mapping[str, Any], Any]:
    """A conversation's customer message (its opening turn), follow-ups, the message's author and the
    conversation's subject, as an export or a webhook holds it; RecordError when no customer wrote.
    `said`: its messages and answers (`_split`), when the caller has them."""
    said = _split(conv)[0] if said is None else said
    customer = [p for p in said if _author_type(p) in CUSTOMER_AUTHORS]
    if not customer and _author_type(_first(conv)) in OUR_AUTHORS:
        raise RecordError(UNANSWERED)
    if not customer:
        raise RecordError("no customer message: no user or lead part has a body")
    author, subject = customer[0].get("author") or {}, _first(conv).get("subject") or conv.get("title")
    message, followups = opening_turn([(_author_type(p) in CUSTOMER_AUTHORS, p.get("body")) for p in said], subject)
    return message, followups, author, subject


def _add(result: ParseResult, conv: Mapping[str, Any], locator: str) -> None:
    said, answers = _split(conv)  # once per conversation: the message, the status and the replies read it
    message, followups, author, subject = opening(conv, said)
    contacts = (conv.get("contacts") or {}).get("contacts") or []
    company = conv.get("company") or {}
    plan = (company.get("plan") or {}).get("name") if isinstance(company.get("plan"), Mapping) else None
    made = make_ticket(
        source=SOURCE,
        source_id=conv.get("id"),
        created_at=conv.get("created_at"),
        message=message,
        subject=subject,
        customer_id=author.get("id") or (contacts[0].get("id") if contacts else None),
        account_id=company.get("id"),
        plan=plan,
        channel=_first(conv).get("type"),
        tags=(conv.get("tags") or {}).get("tags"),
        priority=conv.get("priority"),
        status=_status(conv, said),
        product=_product(conv),
        followups=followups,
        record=conv,
        sender=author.get("email"),
    )
    result.tickets.append({**made, "locator": locator})
    for part in answers:
        result.add_reply(locator, part, ticket_id=made["ticket_id"], reply_id=part.get("id"),
                         reply_at=part.get("created_at"), author=(part.get("author") or {}).get("id"),
                         text=part.get("body"), is_public=not _is_note(part))

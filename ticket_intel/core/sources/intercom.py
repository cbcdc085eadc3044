"""Intercom: the conversations export. The customer's message is `source.body` when a user or
lead wrote it, else the first conversation part authored by a user or lead (bot- and
admin-initiated conversations open with our own words, not the customer's), joined by their next
parts before an admin's when it says nothing but "Hi" (`base.opening_turn`). Later user/lead
parts are follow-ups; admin parts with a body are replies (notes are internal: `is_public`
false). A conversation we opened (an outbound message, a campaign, a bot greeting) that no
customer answered is no ticket: filed with UNANSWERED_REASON and counted as set aside, not as
malformed. Intercom has no brand field: the product comes from a `product` or `brand`
conversation custom attribute when there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ticket_intel.core.sources.base import ParseResult, RecordError, make_ticket, opening_turn

SOURCE = "intercom"
CUSTOMER_AUTHORS = {"user", "lead", "contact"}
AGENT_AUTHORS = {"admin"}
OUR_AUTHORS = {*AGENT_AUTHORS, "bot"}  # who opens outbound messages, campaigns and bot greetings
# A sound record, set aside (sources.SET_ASIDE), not a malformed one: a workspace that sends
# campaigns has many, and they are no sign of a broken export.
UNANSWERED_REASON = "no customer message: opened by an admin or bot and never answered by a user or lead"
PRODUCT_ATTRIBUTES = ("product", "brand")


def looks_like(doc: Any) -> bool:
    return isinstance(doc, Mapping) and (
        doc.get("type") == "conversation.list" or isinstance(doc.get("conversations"), list)
    )


def _author_type(item: Mapping[str, Any]) -> Any:
    """Who wrote a part: user, lead, contact, admin or bot (None without an author object)."""
    author = item.get("author")
    return author.get("type") if isinstance(author, Mapping) else None


def _split(conv: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The conversation's customer messages and admin answers (source first), in order, and its admin
    parts. Neither a bot's "How can we help?" nor an admin's internal note ends the customer's
    opening turn."""
    parts = [p for p in (conv.get("conversation_parts") or {}).get("conversation_parts") or []
             if isinstance(p, Mapping) and p.get("body")]
    source = conv.get("source") or {}
    said = [source] if _author_type(source) in CUSTOMER_AUTHORS and source.get("body") else []
    said += [p for p in parts if _author_type(p) in CUSTOMER_AUTHORS
             or (_author_type(p) in AGENT_AUTHORS and p.get("part_type") != "note")]
    return said, [p for p in parts if _author_type(p) in AGENT_AUTHORS]


def _product(conv: Mapping[str, Any]) -> Any:
    attributes = conv.get("custom_attributes")
    if not isinstance(attributes, Mapping):
        return None
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    return next((lowered[k] for k in PRODUCT_ATTRIBUTES if lowered.get(k)), None)


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One conversation object (a JSON array or JSONL of conversations)."""
    return record.get("type") == "conversation" or ("conversation_parts" in record and "source" in record)


def parse(doc: Mapping[str, Any], locators: Sequence[str] | None = None) -> ParseResult:
    """`doc` holds `conversations`; `locators` override `conversations[i]`."""
    result = ParseResult(SOURCE)
    result.add_each(doc.get("conversations") or [], locators, "conversation", partial(_add, result),
                    where="conversations")
    return result


def opening(conv: Mapping[str, Any]) -> tuple[str | None, list[str], Mapping[str, Any], Any]:
    """A conversation's customer message (its opening turn), follow-ups, the message's author and the
    conversation's subject, as an export or a webhook holds it; RecordError when no customer wrote."""
    said, _ = _split(conv)
    customer = [p for p in said if _author_type(p) in CUSTOMER_AUTHORS]
    if not customer and _author_type(conv.get("source") or {}) in OUR_AUTHORS:
        raise RecordError(UNANSWERED_REASON)
    if not customer:
        raise RecordError("no customer message: no user or lead part has a body")
    author, subject = customer[0].get("author") or {}, (conv.get("source") or {}).get("subject") or conv.get("title")
    message, followups = opening_turn([(_author_type(p) in CUSTOMER_AUTHORS, p.get("body")) for p in said], subject)
    return message, followups, author, subject


def _add(result: ParseResult, conv: Mapping[str, Any], locator: str) -> None:
    message, followups, author, subject = opening(conv)
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
        channel=(conv.get("source") or {}).get("type"),
        tags=(conv.get("tags") or {}).get("tags"),
        priority=conv.get("priority"),
        status=conv.get("state"),
        product=_product(conv),
        followups=followups,
        record=conv,
        sender=author.get("email"),
    )
    result.tickets.append({**made, "locator": locator})
    for part in _split(conv)[1]:
        result.add_reply(locator, part, ticket_id=made["ticket_id"], reply_id=part.get("id"),
                         reply_at=part.get("created_at"), author=(part.get("author") or {}).get("id"),
                         text=part.get("body"), is_public=part.get("part_type") != "note")

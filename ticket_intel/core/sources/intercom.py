"""Intercom: the conversations export. The customer's message is `source.body` when a user or
lead wrote it, else the first conversation part authored by a user or lead (bot- and
admin-initiated conversations open with our own words, not the customer's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticket_intel.core.sources.base import ParseResult, RecordError, make_ticket

SOURCE = "intercom"
CUSTOMER_AUTHORS = {"user", "lead", "contact"}


def looks_like(doc: Any) -> bool:
    return isinstance(doc, Mapping) and (
        doc.get("type") == "conversation.list" or isinstance(doc.get("conversations"), list)
    )


def _customer_message(conv: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    source = conv.get("source") or {}
    author = source.get("author") or {}
    if author.get("type") in CUSTOMER_AUTHORS and source.get("body"):
        return source.get("body"), author
    parts = (conv.get("conversation_parts") or {}).get("conversation_parts") or []
    for part in parts:
        part_author = (part or {}).get("author") or {}
        if part_author.get("type") in CUSTOMER_AUTHORS and part.get("body"):
            return part.get("body"), part_author
    return None, author


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One conversation object (a JSON array or JSONL of conversations)."""
    return record.get("type") == "conversation" or ("conversation_parts" in record and "source" in record)


def parse(doc: Mapping[str, Any], locators: Sequence[str] | None = None) -> ParseResult:
    """`doc` holds `conversations`; `locators` override `conversations[i]`."""
    result = ParseResult(SOURCE)
    for i, conv in enumerate(doc.get("conversations") or []):
        locator = locators[i] if locators else f"conversations[{i}]"
        if not isinstance(conv, Mapping):
            result.reject(locator, conv, f"conversation is a {type(conv).__name__}, not an object")
            continue
        body, author = _customer_message(conv)
        if body is None:
            result.reject(locator, conv, "no customer message: only admin or bot parts")
            continue
        contacts = (conv.get("contacts") or {}).get("contacts") or []
        customer = author.get("id") or (contacts[0].get("id") if contacts else None)
        company = conv.get("company") or {}
        plan = (company.get("plan") or {}).get("name") if isinstance(company.get("plan"), Mapping) else None
        try:
            result.tickets.append(
                {
                    **make_ticket(
                        source=SOURCE,
                        source_id=conv.get("id"),
                        created_at=conv.get("created_at"),
                        message=body,
                        subject=(conv.get("source") or {}).get("subject") or conv.get("title"),
                        customer_id=customer,
                        account_id=company.get("id"),
                        plan=plan,
                        channel=(conv.get("source") or {}).get("type"),
                        tags=(conv.get("tags") or {}).get("tags"),
                        priority=conv.get("priority"),
                        status=conv.get("state"),
                        record=conv,
                    ),
                    "locator": locator,
                }
            )
        except RecordError as exc:
            result.reject(locator, conv, str(exc))
    return result

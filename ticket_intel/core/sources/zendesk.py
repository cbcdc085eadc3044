"""Zendesk: the tickets JSON export (`tickets`, sideloaded `users`/`organizations`) and the
incremental-export shape. When comments are present, the first public comment by the
requester is the customer's message; otherwise the ticket description is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticket_intel.core.sources.base import ParseResult, RecordError, make_ticket

SOURCE = "zendesk"


def looks_like(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("tickets"), list)


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One ticket object (a JSON array or JSONL export of the tickets API)."""
    return "requester_id" in record and ("via" in record or "zendesk.com" in str(record.get("url", "")))


def _first_requester_comment(ticket: Mapping[str, Any]) -> str | None:
    requester = ticket.get("requester_id")
    for comment in ticket.get("comments") or []:
        if not isinstance(comment, Mapping) or comment.get("public") is False:
            continue
        if requester is None or comment.get("author_id") == requester:
            return comment.get("html_body") or comment.get("body") or comment.get("plain_body")
    return None


def parse(doc: Mapping[str, Any], locators: Sequence[str] | None = None) -> ParseResult:
    """`doc` is the export (`tickets` plus optional sideloads); `locators` override `tickets[i]`."""
    result = ParseResult(SOURCE)
    orgs = {
        o.get("id"): o for o in doc.get("organizations") or [] if isinstance(o, Mapping) and "id" in o
    }
    for i, ticket in enumerate(doc["tickets"]):
        locator = locators[i] if locators else f"tickets[{i}]"
        if not isinstance(ticket, Mapping):
            result.reject(locator, ticket, f"ticket is a {type(ticket).__name__}, not an object")
            continue
        org = orgs.get(ticket.get("organization_id")) or {}
        plan = (org.get("organization_fields") or {}).get("plan")
        message = _first_requester_comment(ticket) or ticket.get("description")
        try:
            result.tickets.append(
                {
                    **make_ticket(
                        source=SOURCE,
                        source_id=ticket.get("id"),
                        created_at=ticket.get("created_at"),
                        message=message,
                        subject=ticket.get("subject") or ticket.get("raw_subject"),
                        customer_id=ticket.get("requester_id"),
                        account_id=ticket.get("organization_id"),
                        plan=plan,
                        channel=(ticket.get("via") or {}).get("channel"),
                        tags=ticket.get("tags"),
                        priority=ticket.get("priority"),
                        status=ticket.get("status"),
                        record=ticket,
                    ),
                    "locator": locator,
                }
            )
        except RecordError as exc:
            result.reject(locator, ticket, str(exc))
    return result

"""Freshdesk: the ticket CSV export (`Ticket ID`, `Description`, `Created time`, ..., `Product`) and
the JSON shape of its tickets API (`/api/v2/tickets`: numeric status, priority and source codes).

The description is the customer's first message, except in a ticket an agent opened with an
outbound e-mail (source 10): there the customer's first reply is, and without one the ticket is set
aside (`base.UNANSWERED_REASON`). The CSV export carries no replies; API tickets
fetched with `include=conversations` do: incoming public conversation entries are customer
follow-ups (those before the first outgoing one join a description that says nothing but a
greeting, `base.opening_turn`), outgoing ones are agent replies (private notes: `is_public` false).
The notes a merge leaves are neither: "This ticket is closed and merged into ticket 182769" in a
ticket merged away (set aside, `base.MERGED_REASON`, when the other is the same requester's, as in
Zendesk) and "Tickets with ids 12 and 13 are merged into this ticket." in the one kept."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd

from ticket_intel.core.sources.base import (
    REMOVED_STATUSES,
    UNANSWERED_REASON,
    ParseResult,
    RecordError,
    id_or_none,
    is_merge_note,
    make_ticket,
    opening_turn,
    records,
)

SOURCE = "freshdesk"
CREATED = "Created time"
REQUIRED = {"Ticket ID", CREATED}
# Codes documented for the v2 tickets API.
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
# The notes Freshdesk writes when an agent merges tickets, in those merged away and in the one kept.
_MERGED_AWAY = re.compile(r"^\W*This ticket (?:is|has been|was) closed and merged into ticket\s*#?\s*(?P<into>\d+)",
                          re.IGNORECASE)
_MERGED_IN = re.compile(r"^\W*Tickets? with ids? .{0,400}?\b(?:is|are) merged into this ticket",
                        re.IGNORECASE | re.DOTALL)
OUTBOUND_EMAIL = 10
UNANSWERED = UNANSWERED_REASON.format("an agent (outbound e-mail)", "the requester")
CHANNEL = {1: "email", 2: "portal", 3: "phone", 5: "twitter", 6: "facebook", 7: "chat", 8: "mobihelp",
           9: "feedback widget", 10: "outbound email", 11: "ecommerce", 12: "bot"}  # fmt: skip


def looks_like(columns: Sequence[str]) -> bool:
    cols = set(columns)
    return cols >= REQUIRED and bool({"Description", "Subject"} & cols)


def looks_like_record(record: Mapping[str, Any]) -> bool:
    """One ticket object of the API: Freshdesk's own field names and integer status codes."""
    return "requester_id" in record and ("description_text" in record or isinstance(record.get("status"), int))


def parse(frame: pd.DataFrame, locators: Sequence[str]) -> ParseResult:
    """`locators` name each row in the file (`line 12` in a CSV, `row 3` in Parquet)."""
    result = ParseResult(SOURCE)
    for locator, row in zip(locators, records(frame), strict=True):
        customer = id_or_none(row.get("Contact ID")) or id_or_none(row.get("Email"))
        try:
            result.tickets.append(
                {
                    **make_ticket(
                        source=SOURCE,
                        source_id=row.get("Ticket ID"),
                        created_at=row.get(CREATED),
                        message=row.get("Description"),
                        subject=row.get("Subject"),
                        customer_id=customer,
                        account_id=row.get("Company Name"),
                        channel=row.get("Source"),
                        tags=row.get("Tags"),
                        priority=row.get("Priority"),
                        status=row.get("Status"),
                        product=row.get("Product"),
                        record=row,
                        sender=row.get("Email"),
                    ),
                    "locator": locator,
                }
            )
        except RecordError as exc:
            result.reject(locator, row, str(exc))
    return result


def _code(table: Mapping[int, str], value: Any) -> Any:
    return table.get(value, value) if isinstance(value, int) and not isinstance(value, bool) else value


def parse_api(records: Sequence[Any], locators: Sequence[str]) -> ParseResult:
    """Ticket objects from the tickets API (a JSON array, or one object per JSONL line)."""
    result = ParseResult(SOURCE)
    requesters = {str(r.get("id")): r.get("requester_id") for r in records if isinstance(r, Mapping)}
    result.add_each(records, locators, "ticket", partial(_add_api, result, requesters=requesters))
    return result


def _removed(rec: Mapping[str, Any]) -> str | None:
    """`spam` or `deleted` when the API flags the ticket so (REMOVED_STATUSES), whatever its status code."""
    return next((flag for flag in REMOVED_STATUSES if rec.get(flag) is True), None)


def _add_api(result: ParseResult, rec: Mapping[str, Any], locator: str, requesters: Mapping[str, Any]) -> None:
    requester = rec.get("requester") if isinstance(rec.get("requester"), Mapping) else {}
    entries = [c for c in rec.get("conversations") or []
               if isinstance(c, Mapping) and not is_merge_note(c.get("body_text") or c.get("body"), _MERGED_AWAY,
                                                               _MERGED_IN, rec.get("requester_id"), requesters)]
    ours = rec.get("source") == OUTBOUND_EMAIL  # the description is our own e-mail, not the customer's
    message, followups = opening_turn([(not ours, rec.get("description") or rec.get("description_text")),
                                       *((bool(c.get("incoming")), c.get("body") or c.get("body_text"))
                                         for c in entries if not c.get("private"))], rec.get("subject"))
    if ours and message is None:
        raise RecordError(UNANSWERED)
    made = make_ticket(
        source=SOURCE,
        source_id=rec.get("id"),
        created_at=rec.get("created_at"),
        message=message,
        subject=rec.get("subject"),
        customer_id=rec.get("requester_id") or requester.get("email"),
        account_id=rec.get("company_id"),
        channel=_code(CHANNEL, rec.get("source")),
        tags=rec.get("tags"),
        priority=_code(PRIORITY, rec.get("priority")),
        status=_removed(rec) or _code(STATUS, rec.get("status")),
        product=rec.get("product_id"),
        followups=followups,
        record=rec,
        sender=requester.get("email"),
    )
    result.tickets.append({**made, "locator": locator})
    for entry in entries:
        if not entry.get("incoming"):
            result.add_reply(locator, entry, ticket_id=made["ticket_id"], reply_id=entry.get("id"),
                             reply_at=entry.get("created_at"), author=entry.get("user_id"),
                             text=entry.get("body_text") or entry.get("body"), is_public=not entry.get("private"))

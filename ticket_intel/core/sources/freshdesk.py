"""Freshdesk: the ticket CSV export (`Ticket ID`, `Description`, `Created time`, ...)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ticket_intel.core.sources.base import ParseResult, RecordError, id_or_none, make_ticket

SOURCE = "freshdesk"
REQUIRED = {"Ticket ID", "Created time"}


def looks_like(columns: Sequence[str]) -> bool:
    cols = set(columns)
    return cols >= REQUIRED and bool({"Description", "Subject"} & cols)


def parse(frame: pd.DataFrame, lines: Sequence[int]) -> ParseResult:
    """`lines` gives each row's 1-based physical line in the file, for the rejection locator."""
    result = ParseResult(SOURCE)
    for line, row in zip(lines, frame.to_dict("records"), strict=True):
        locator = f"line {line}"
        customer = id_or_none(row.get("Contact ID")) or id_or_none(row.get("Email"))
        try:
            result.tickets.append(
                {
                    **make_ticket(
                        source=SOURCE,
                        source_id=row.get("Ticket ID"),
                        created_at=row.get("Created time"),
                        message=row.get("Description"),
                        subject=row.get("Subject"),
                        customer_id=customer,
                        account_id=row.get("Company Name"),
                        channel=row.get("Source"),
                        tags=row.get("Tags"),
                        priority=row.get("Priority"),
                        status=row.get("Status"),
                        record=row,
                    ),
                    "locator": locator,
                }
            )
        except RecordError as exc:
            result.reject(locator, row, str(exc))
    return result

"""Re-reading the written exports as a parser would, for the verifier; one ``Record`` per element or row."""

import csv
import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from . import freshdesk, zendesk
from .common import check
from .constants import FILES, SOURCES


class Record(NamedTuple):
    """One record of an export as re-read from disk, reduced to what the self-checks need."""

    locator: str
    source_id: str | None
    created: datetime | None
    customer_key: str
    account_id: str  # "" when the record names no organisation/company
    text: str  # subject (if any) and customer message as plain text; "" when there is none


def plain_text(body: str) -> str:
    """HTML to whitespace-normalised text, as a parser would see it."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def parse_time(value: Any, fmt: str) -> datetime | None:
    """Parse a helpdesk timestamp (Unix seconds, or text in ``fmt``) as UTC, or None if it is not one."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def read_zendesk(out: Path) -> list[Record]:
    """Zendesk tickets; an element that is not an object yields an empty id, time and text."""
    document = json.loads((out / FILES["zendesk"]).read_text(encoding="utf-8"))
    tickets = document["tickets"]
    check(document["count"] == len(tickets) and document["next_page"] is None, "zendesk envelope")
    records = []
    for index, ticket in enumerate(tickets):
        locator = f"tickets[{index}]"
        if not isinstance(ticket, dict):
            records.append(Record(locator, None, None, "", "", ""))
            continue
        records.append(
            Record(
                locator,
                str(ticket["id"]) if "id" in ticket else None,
                parse_time(ticket["created_at"], zendesk.TIME_FORMAT),
                f"zendesk:{ticket['requester_id']}",
                str(ticket["organization_id"] or ""),
                (ticket["subject"] + " " + ticket["description"]).strip(),
            )
        )
    return records


def customer_message(conversation: dict[str, Any]) -> str:
    """The conversation's first customer-authored body as plain text: the source, else the first user part."""
    source = conversation["source"]
    bodies = [source["body"]] if source["author"]["type"] in ("user", "lead") else []
    parts = conversation["conversation_parts"]["conversation_parts"]
    check(conversation["conversation_parts"]["total_count"] == len(parts), conversation["id"])
    bodies += [p["body"] for p in parts if p["author"]["type"] == "user" and p["part_type"] == "comment"]
    return plain_text(bodies[0]) if bodies else ""


def read_intercom(out: Path) -> list[Record]:
    """Intercom conversations."""
    document = json.loads((out / FILES["intercom"]).read_text(encoding="utf-8"))
    conversations = document["conversations"]
    check(document["total_count"] == len(conversations), "intercom envelope")
    return [
        Record(
            f"conversations[{index}]",
            conversation["id"],
            parse_time(conversation["created_at"], ""),
            f"intercom:{conversation['contacts']['contacts'][0]['id']}",
            (conversation["company"] or {}).get("id", ""),
            customer_message(conversation),
        )
        for index, conversation in enumerate(conversations)
    ]


def read_freshdesk(out: Path) -> list[Record]:
    """Freshdesk rows, located by the physical line each starts on (descriptions may span several)."""
    records = []
    with (out / FILES["freshdesk"]).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        check(next(reader) == freshdesk.COLUMNS, "freshdesk header")
        line = reader.line_num + 1
        for values in reader:
            row = dict(zip(freshdesk.COLUMNS, values, strict=True))
            records.append(
                Record(
                    f"line {line}",
                    row["Ticket ID"] or None,
                    parse_time(row["Created time"], freshdesk.TIME_FORMAT),
                    f"freshdesk:{row['Contact ID']}",
                    row["Company Name"],
                    plain_text(row["Subject"] + " " + row["Description"]),
                )
            )
            line = reader.line_num + 1
    return records


def read_records(out: Path) -> dict[str, list[Record]]:
    """Every export's records by source."""
    readers = {"zendesk": read_zendesk, "intercom": read_intercom, "freshdesk": read_freshdesk}
    return {source: readers[source](out) for source in SOURCES}

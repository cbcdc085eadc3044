"""Help Scout's API pages read as saved, against the same conversations read from their exports.

The twcs sample (`../shared`, by its shipped mapping) or the bundled sample (its Zendesk, Freshdesk
and Intercom exports) is read; each of its conversations (the ticket, the company's replies, public
or internal notes, the customer's follow-ups a second apart after the first message) is then
written as Help Scout's Mailbox API 2.0 returns it (developer.helpscout.com: List Conversations with
`?embed=threads`): HAL pages of 50, `{"_embedded": {"conversations": [...]}, "_links", "page"}`, each
conversation's `threads` its count and its threads, newest first, in its own `_embedded.threads`. The
pages are read by the mapping docs/sources.md gives for them; the same conversations as JSONL with
top-level `threads`, ids by position (`{file}-{record}`), by that mapping's twin. Each row says what a
read gave: tickets, follow-ups, replies (internal notes), rejected rows, files in error, a digest of
the conversations' ids (`same` as the exports' read or not) and the best of `--repeat` wall times.

    python -m bench.helpscout_pages [--dataset twcs|sample] [--out /tmp/helpscout_pages] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import SHARED, skipped_without, table
from ticket_intel import PROJECT_ROOT
from ticket_intel.core.sources import IngestResult, list_exports, load_mappings, read_exports

DATASETS = {"twcs": SHARED / "twcs_sample" / "twcs_small.csv", "sample": PROJECT_ROOT / "data" / "sample"}
PAGE_SIZE = 50  # Help Scout's page size
API_MAPPING = """name: helpscout_api
source: helpscout
detect: [_embedded, primaryCustomer, mailboxId, subject, createdBy]
records: {key: _embedded.threads, parent: conversation}
columns: {ticket_id: id, created_at: createdAt, message: body, subject: conversation.subject, customer_id: customer.id}
agents: {column: createdBy.type, values: [user]}
private: {column: type, values: [note]}
thread: {conversation_id: conversation.id}
"""
# The same conversations with their threads under a top-level key, each row's id its position.
JSONL_MAPPING = (API_MAPPING.replace("helpscout_api", "helpscout_jsonl").replace("_embedded.threads", "threads")
                 .replace("[_embedded, ", "[threads, ").replace("ticket_id: id", "ticket_id: '{file}-{record}'"))


def _thread(thread_id: str, customer: str, author: str, kind: str, text: str, at: pd.Timestamp) -> dict[str, Any]:
    """A thread as List Threads documents it: `kind` customer, message (an agent's reply) or note."""
    by = {"id": author, "type": "customer" if kind == "customer" else "user"}
    return {"id": thread_id, "type": kind, "status": "active",
            "state": "published", "body": text, "source": {"type": "email", "via": by["type"]},
            "customer": {"id": customer}, "createdBy": by, "createdAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "_embedded": {"attachments": []}}


def conversations(flat: IngestResult) -> list[dict[str, Any]]:
    """Each ticket of an exports' read as a Help Scout conversation (its id the ticket's), threads newest first."""
    replies = flat.replies.groupby("ticket_id")
    out = []
    for t in flat.tickets.itertuples():
        customer = str(t.customer_id)
        threads = [_thread(t.ticket_id, customer, customer, "customer", t.message, t.created_at)]
        followups = t.followup_text.split("\n\n") if isinstance(t.followup_text, str) else []
        threads += [_thread(f"{t.ticket_id}/{i}", customer, customer, "customer", text,
                            t.created_at + timedelta(seconds=i)) for i, text in enumerate(followups, 1)]
        if t.ticket_id in replies.groups:
            threads += [_thread(f"{t.ticket_id}/{r.reply_id}", customer, str(r.author),
                                "message" if r.is_public else "note", r.text, r.reply_at)
                        for r in replies.get_group(t.ticket_id).itertuples()]
        threads.sort(key=lambda x: x["createdAt"], reverse=True)
        out.append({"id": t.ticket_id, "number": t.source_id, "threads": len(threads), "type": "email",
                    "status": "active", "state": "published", "subject": t.subject, "mailboxId": 1,
                    "createdBy": threads[-1]["createdBy"], "createdAt": threads[-1]["createdAt"],
                    "primaryCustomer": {"id": customer}, "_embedded": {"threads": threads},
                    "_links": {"self": {"href": f"https://api.helpscout.net/v2/conversations/{t.source_id}"}}})
    return out


def write(convs: list[dict[str, Any]], out: Path) -> tuple[list[Path], Path]:
    """The conversations as saved API pages, and as JSONL with top-level `threads`."""
    (out / "pages").mkdir(parents=True, exist_ok=True)
    pages = []
    for start in range(0, len(convs), PAGE_SIZE):
        page = {"_embedded": {"conversations": convs[start:start + PAGE_SIZE]},
                "_links": {"self": {"href": "https://api.helpscout.net/v2/conversations?embed=threads"}},
                "page": {"size": PAGE_SIZE, "totalElements": len(convs), "number": start // PAGE_SIZE + 1}}
        pages.append(out / "pages" / f"page{start // PAGE_SIZE + 1:03d}.json")
        pages[-1].write_text(json.dumps(page))
    jsonl = out / "threads.jsonl"
    jsonl.write_text("\n".join(json.dumps({**{k: v for k, v in c.items() if k != "_embedded"},
                                           "threads": c["_embedded"]["threads"]}) for c in convs))
    return pages, jsonl


def measured(label: str, paths: list[Path], maps: Path | None, repeat: int, reference: str | None
             ) -> tuple[dict[str, Any], IngestResult]:
    """One read's row; `reference`: the exports' digest (their ticket ids, each a conversation's id here)."""
    mappings = load_mappings(maps) if maps else load_mappings()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = read_exports(paths, mappings)
        times.append(time.perf_counter() - started)
    conversation = result.tickets["ticket_id" if reference is None else "source_id"]
    ids = hashlib.sha256(" ".join(sorted(conversation.astype(str))).encode()).hexdigest()[:10]
    return {"read": label, "files": len(paths), "tickets": len(result.tickets),
            "followups": int(result.tickets["followups"].sum()) if len(result.tickets) else 0,
            "replies (notes)": f"{len(result.replies)} ({int((~result.replies['is_public']).sum())})",
            "rejected": len(result.rejected),
            "file errors": int(result.files["error"].notna().sum()), "ids": ids,
            "same ids": "-" if reference is None else ids == reference, "best s": round(min(times), 2)}, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="twcs")
    parser.add_argument("--out", type=Path, default=Path("/tmp/helpscout_pages"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    exports = DATASETS[args.dataset]
    if skipped_without(exports):
        return
    files = list_exports(exports) if exports.is_dir() else [exports]
    flat_row, flat = measured(f"{exports.name} as exported", files, None, args.repeat, None)
    pages, jsonl = write(conversations(flat), args.out)
    (args.out / "maps").mkdir(exist_ok=True)
    (args.out / "maps" / "helpscout_api.yaml").write_text(API_MAPPING)
    (args.out / "maps" / "helpscout_jsonl.yaml").write_text(JSONL_MAPPING)
    rows = [flat_row,
            measured(f"API pages of {PAGE_SIZE} (HAL, _embedded.threads)", pages, args.out / "maps", args.repeat,
                     flat_row["ids"])[0],
            measured("JSONL conversations, ids {file}-{record}", [jsonl], args.out / "maps", args.repeat,
                     flat_row["ids"])[0]]
    print(table(rows))


if __name__ == "__main__":
    main()

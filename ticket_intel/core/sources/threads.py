"""Conversations of mapped sources: one ticket per thread, from the customer's first message.

A mapped export holds one row per message. Its mapping may say how rows form conversations:
`thread.reply_to` names the column holding the id of the message a row answers (tweets), or
`thread.conversation_id` the column naming the conversation (chat logs). Without either, every
row is its own conversation. Rows matching the mapping's `agents` rule are the company's, and
so are those matching its `private` rule: internal notes, kept as private replies, which no
customer saw (they neither answer the customer's opening turn nor enter the knowledge base).

Per conversation the ticket is the customer's first message: the thread's root when threads are
reply chains (a thread whose root is missing from the export, or is the company's, yields no
ticket), the earliest customer message when they are conversation ids; when it says nothing but
a greeting, the customer's next messages before the company answers join it (`base.opening_turn`).
Later customer messages are follow-ups (`followups`, `followup_text`), company messages are
replies. Conversations are assembled across all files of one mapping, so a thread split over two
daily exports is whole.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ticket_intel.core.sources.base import RecordError, followup_fields, make_reply, opening_turn, to_json

if TYPE_CHECKING:
    from ticket_intel.core.sources.mapped import Mapping

_HANDLE = re.compile(r"(?<![\w@])@(\w+)")


@dataclass
class Message:
    """One row of a mapped export. `ticket` is the validated canonical ticket for a customer row
    (None for company rows and for customer rows that were rejected)."""

    key: str
    parent: str | None
    conversation: str | None
    is_agent: bool
    author: str | None
    text: Any
    created_at: Any
    ticket: dict[str, Any] | None
    locator: str
    record: dict[str, Any]
    source_file: str = ""
    in_row: bool = False  # the company's answer written in the customer's row (a `reply` column)
    is_public: bool = True  # False: the company's internal note (the mapping's `private` rows)


@dataclass
class Pending:
    """Messages of one mapping waiting to be assembled into conversations."""

    mapping: Mapping
    messages: list[Message] = field(default_factory=list)


@dataclass
class Threaded:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    skipped: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # per file, per kind
    repeated: Counter[str] = field(default_factory=Counter)  # rows a later file holds again unchanged, per file


def resolve(pending: Pending) -> Threaded:
    """Tickets (one per conversation), their replies, rejected rows and skipped rows per file and kind."""
    out = Threaded()
    messages = _latest(pending.messages, out)
    brands = {m.author.lower(): m.author for m in messages if m.is_agent and m.author}
    groups, orphans = _threads(messages, pending.mapping)
    for m in orphans:
        _skip(out, m, "unopened")
    by_conversation = bool(pending.mapping.thread and pending.mapping.thread.conversation_id)
    threads = [(group, _opening(group, by_conversation)) for group in groups]
    aliases = _brand_aliases(threads, messages, brands) if pending.mapping.product_from_mentions else {}
    for group, first in threads:
        _resolve_thread(group, first, pending.mapping, brands, aliases, out)
    for r in out.rejections:
        r["source"] = pending.mapping.source
    return out


def _latest(messages: Sequence[Message], out: Threaded) -> list[Message]:
    """One version per message id: the later file wins; an earlier, different version is filed."""
    latest = {m.key: m for m in messages}
    for m in messages:
        newer = latest[m.key]
        if newer is not m and newer.record != m.record:
            out.rejections.append(_rejection(m, f"superseded: message {m.key} exported again in "
                                                f"{_name(newer.source_file)} ({newer.locator})"))
        elif newer is not m:  # counted where it was read, as a flat export's repeated ticket is
            out.repeated[m.source_file] += 1
    return list(latest.values())


def _threads(messages: list[Message], mapping: Mapping) -> tuple[list[list[Message]], list[Message]]:
    """Messages grouped by conversation (for reply chains the root comes first), and the
    messages whose chain leads to a message missing from the export (or loops)."""
    thread = mapping.thread
    if thread is None:  # every row its own conversation, with the answer its row holds
        rows = {m.key: [m] for m in messages if not m.in_row}
        for m in messages:
            if m.in_row and m.parent in rows:
                rows[m.parent].append(m)
        return list(rows.values()), []
    groups: dict[str, list[Message]] = defaultdict(list)
    if thread.conversation_id:
        for m in messages:
            groups[m.conversation if m.conversation is not None else "\0" + m.key].append(m)
        return list(groups.values()), []
    roots, orphans = _roots(messages), []
    for m in messages:
        root = roots[m.key]
        if root is None:
            orphans.append(m)
        else:
            groups[root].append(m)
    return [sorted(g, key=lambda m, r=r: m.key != r) for r, g in groups.items()], orphans


def _roots(messages: Iterable[Message]) -> dict[str, str | None]:
    """Each message's thread root by following reply links; None when the chain breaks or loops."""
    parent = {m.key: m.parent for m in messages}
    root: dict[str, str | None] = {}
    for start in parent:
        path, seen = [], set()
        key: str | None = start
        while key is not None and key not in root and key in parent and key not in seen:
            path.append(key)
            seen.add(key)
            key = parent[key]
        found = path[-1] if key is None else root.get(key) if key in root else None
        root.update(dict.fromkeys(path, found))
    return root


def _opening(group: list[Message], by_conversation: bool) -> Message | None:
    """The customer's first message: a reply chain's root, or a conversation's earliest."""
    if not by_conversation:
        first = group[0]
        return first if first.parent is None and first.ticket is not None else None
    customer = [m for m in group if m.ticket is not None]
    return min(customer, key=lambda m: m.ticket["created_at"], default=None)


def _resolve_thread(group: list[Message], first: Message | None, mapping: Mapping, brands: dict[str, str],
                    aliases: dict[str, str], out: Threaded) -> None:
    """The thread's ticket (from `first`, its opening message), its replies, and the rest skipped."""
    if first is None:
        for m in group:
            _skip(out, m, "unopened")
        return
    ticket = {**first.ticket, "source_file": first.source_file, "locator": first.locator}
    if first.conversation is not None:  # set only when the mapping names a conversation field
        ticket.update(ticket_id=f"{mapping.source}:{first.conversation}", source_id=first.conversation)
    later = sorted((m for m in group if m is not first and (m.ticket is not None or (m.is_agent and m.is_public))
                    and isinstance(m.created_at, datetime)), key=lambda m: (_naive_utc(m.created_at), m.is_agent))
    turns = [(m.ticket is not None, m.text if m.ticket is None else m.ticket["message"]) for m in later]
    ticket["message"], followups = opening_turn([(True, ticket["message"]), *turns], ticket["subject"])
    ticket.update(followup_fields(followups))
    if mapping.product_from_mentions:
        ticket["product"] = _addressee(first.ticket["message"], group, brands, aliases)
    out.tickets.append(ticket)
    for m in (m for m in group if m.ticket is not None and m is not first):
        _skip(out, m, "followup")
    for m in (m for m in group if m.is_agent):
        _add_reply(out, m, ticket)


def _naive_utc(at: datetime) -> datetime:
    """Customer rows' times are naive UTC (`base.parse_timestamp`); company rows' may carry an offset."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _brand_aliases(threads: Iterable[tuple[list[Message], Message | None]], messages: Iterable[Message],
                   brands: dict[str, str]) -> dict[str, str]:
    """Per @handle that is not itself a company author, the company it stands for: the one that
    answered the threads addressed to it (their first handle) or that customers name beside it in
    the same message, most often, and at least twice. twcs anonymises brands' main accounts as
    numbers (@115821) while their support accounts answer by name (AmazonHelp), and customers
    write to both ("@115858 @AppleSupport ..."), so a tweet to @115821 alone is still Amazon's."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for group, first in threads:
        handles = _HANDLE.findall(first.ticket["message"]) if first is not None else []
        answered = next((m.author for m in group if m.is_agent and m.author), None)
        if handles and answered and handles[0].lower() not in brands:
            votes[handles[0].lower()][answered] += 1
    for m in messages:
        handles = {h.lower() for h in _HANDLE.findall(m.ticket["message"])} if m.ticket is not None else set()
        named = {brands[h] for h in handles if h in brands}
        for handle in handles - brands.keys() if len(named) == 1 else ():  # two companies named: no evidence
            votes[handle][next(iter(named))] += 1
    out = {}
    for handle, counts in votes.items():
        brand, n = counts.most_common(1)[0]
        if n >= 2 and 2 * n > sum(counts.values()):
            out[handle] = brand
    return out


def _addressee(text: str, group: Sequence[Message], brands: dict[str, str], aliases: dict[str, str]) -> str | None:
    """The brand a message is addressed to: its first @handle that is a company author in the
    export, else the company that answered the thread, else the company its first handle stands
    for (`_brand_aliases`), else its first non-numeric @handle (anonymised customers are
    numbers)."""
    handles = _HANDLE.findall(text)
    known = next((brands[h.lower()] for h in handles if h.lower() in brands), None)
    answered = next((m.author for m in group if m.is_agent and m.author), None)
    alias = aliases.get(handles[0].lower()) if handles else None
    return known or answered or alias or next((h for h in handles if not h.isdigit()), None)


def _add_reply(out: Threaded, m: Message, ticket: dict[str, Any]) -> None:
    try:
        reply = make_reply(ticket_id=ticket["ticket_id"], reply_id=m.key, reply_at=m.created_at,
                           author=m.author, text=m.text, is_public=m.is_public)
    except RecordError as exc:
        out.rejections.append(_rejection(m, str(exc)))
        return
    _skip(out, m, "reply")  # a reply is not a ticket: counted as skipped, like before threads existed
    if reply is not None:
        out.replies.append({**reply, "source_file": ticket["source_file"], "locator": ticket["locator"]})


def _skip(out: Threaded, m: Message, kind: str) -> None:
    """Count a row that is no ticket under its kind (`base.SKIPPED_KINDS`)."""
    if (m.is_agent and not m.in_row) or m.ticket is not None:  # customer rows without a ticket were rejected already
        out.skipped[m.source_file][kind] += 1


def _rejection(m: Message, reason: str) -> dict[str, Any]:
    return {"source_file": m.source_file, "locator": m.locator, "record": to_json(m.record), "reason": reason}


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]

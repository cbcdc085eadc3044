"""Canonical ticket schema, the record-level error type, and value parsers shared by profiles.

Each source profile turns one export into canonical tickets plus rejections; a record that
cannot be used raises `RecordError` with a reason a person understands, and the caller files
it in `ops.rejected_tickets` instead of dropping it silently.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from price_parser import Price

from ticket_intel.core.meaning import meaning_text
from ticket_intel.core.normalize import (
    POINTER,
    TAGS_AND_SPACES,
    call_words,
    clean_message,
    has_text,
    html_to_text,
    printable,
)
from ticket_intel.core.sources.pseudonyms import hashed_id
from ticket_intel.core.sources.transcripts import transcript_turns
from ticket_intel.core.sources.zones import as_local, parse_time_text

# `message` is the customer's first message in the conversation (`opening_turn`); later customer
# messages are counted in `followups` and kept in `followup_text` (never clustered or shown as examples).
# `language` is filled by read_exports (core/language.py).
CANONICAL_COLUMNS = [
    "ticket_id", "source", "source_id", "created_at", "customer_id", "account_id", "plan",
    "monthly_revenue", "subject", "message", "channel", "tags", "priority", "status", "product",
    "language", "followups", "followup_text", "source_file", "locator", "record",
]
# Agent (company) replies joined to their ticket: the knowledge base of how tickets were solved.
REPLY_COLUMNS = ["ticket_id", "reply_id", "reply_at", "author", "text", "is_public"]
EXPORT_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".parquet", ".gz", ".tsv", ".txt", ".xlsx")
# Exports a helpdesk can produce that are not read, each with what to do instead: such a file in the
# inbox is reported as passed over, never ignored in silence.
UNREAD_EXPORTS = {
    ".xls": "an Excel 97-2003 workbook: save it as .xlsx or CSV",
    ".xlsm": "an Excel workbook with macros: save it as .xlsx or CSV",
    ".ods": "an OpenDocument spreadsheet: save it as .xlsx or CSV",
    ".numbers": "a Numbers spreadsheet: export it as .xlsx or CSV",
    ".xml": "an XML export: export JSON or CSV instead",
    ".zip": "a zip archive: unzip its exports into the inbox",
}
REJECTED_COLUMNS = ["source_file", "locator", "source", "record", "reason", "file_hash"]
# Ticket statuses, as the helpdesks spell them, that mean the conversation is finished.
RESOLVED_STATUSES = frozenset({"solved", "closed", "resolved"})
# Statuses that say the ticket waits for the company (a reply is drafted for it), and those that say
# it waits for someone else (the customer, a third party, a later time).
AWAITING_AGENT = frozenset({"new", "open"})
WAITING_ON_OTHERS = frozenset({"pending", "hold", "snoozed"})
# Statuses of a ticket its helpdesk removed (Zendesk's incremental export keeps deleted tickets as
# `deleted`; Freshdesk's API flags `spam` and `deleted`): spam, tests and mistakes, not demand. The
# version still counts as the ticket's latest, so an earlier export of it is superseded.
REMOVED_STATUSES = ("deleted", "spam")
# Every status whose meaning the tool reads: what a mapping's `statuses` may translate a value to.
STATUSES = frozenset({*AWAITING_AGENT, *WAITING_ON_OTHERS, *RESOLVED_STATUSES, *REMOVED_STATUSES})
FOLLOWUP_SEPARATOR = "\n\n"
# Only a message of at most this many words can be a bare greeting ("Hi there, good morning team!"),
# so only those are read for meaning at ingest (`says_nothing`), which keeps the test off long texts.
GREETING_WORDS = 10
GREETING_PREFIX_CHARS = 400
# Mail a system sent, not a customer: an out-of-office reply or a bounce, by the subject prefixes mail
# systems write (Outlook "Automatic reply:", Exchange "Out of Office:", "Undeliverable:", "Delivery
# Status Notification (Failure)") or a body that says so in its first words, and any mail from an
# address that takes no answer (`_NO_REPLY`: "noreply@", "do-not-reply@", "mailer-daemon@"), which
# a support address receives from the services it signed up to (receipts, alerts, newsletters). Not a
# person's words (no theme is "Office · return"), so such a ticket is set aside and such a follow-up dropped.
AUTOMATIC_REASON = "an automatic message (out of office, a bounce, a no-reply sender), not a customer's message"
# Matches the reason and the one filed before no-reply senders were set aside ("an automatic reply (...)").
AUTOMATIC_PATTERN = "an automatic % (%), not a customer's message"
_NO_REPLY = re.compile(r"(?i)^\s*(?:[^<@]*<)?\s*(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster)"
                       r"(?:[-_.+][^@\s]*)?@")
_AUTOMATIC_SUBJECT = re.compile(
    r"(?i)^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)|out of (?:the )?office|undeliverable|"
    r"undelivered mail|delivery status notification|mail delivery (?:failed|failure|subsystem)|returned mail|"
    r"delivery failure)\b")
_AUTOMATIC_BODY = re.compile(
    r"(?i)^\W*(?:this is an? (?:automatic|automated|auto-generated|auto)[- ]?(?:reply|response|message|e-?mail)|"
    r"i(?:'m| am) (?:currently )?out of (?:the )?office\b.{0,120}\b(?:until|return|back)|"
    r"(?:your|the) message (?:to .{0,80})?(?:could ?n[o']t|was ?n[o']t|was not|could not) be delivered|"
    r"delivery has failed to these recipients)")
_AUTOMATIC_HINT = re.compile(r"(?i)auto|office|deliver")  # a body without one is not read further

# A ticket an agent merged into another of the same customer: a duplicate, counted in that one.
MERGED_REASON = "merged into ticket {} in the helpdesk: the same customer's duplicate, counted there"

# A conversation the company opened (an outbound message, a campaign, a bot greeting, an agent's
# proactive ticket) that no customer answered: no customer's words, so no ticket. A sound record,
# set aside (sources.SET_ASIDE), not a malformed one. Formatted with who opened it and who never
# answered, in the helpdesk's words.
UNANSWERED_REASON = "no customer message: opened by {} and never answered by {}"

# Timestamps outside this range are typos or placeholders, not tickets.
EARLIEST = datetime(2000, 1, 1)
LATEST_SLACK_DAYS = 2
# The one reason that depends on the clock: a parse with it is true only until the time comes, so
# it is never kept in the parse cache (`is_for_now`).
FUTURE_REASON = "created_at {:%Y-%m-%d %H:%M} is in the future"
# A date column a spreadsheet saved as General holds serial day numbers (days since 1899-12-30, a
# fraction for the time). Those from EARLIEST to Excel's last day read as Unix seconds would fall
# in January or February 1970, when no ticket was written: in that range a number is a day number.
SERIAL_DAY_ZERO = datetime(1899, 12, 30)
SERIAL_DAYS = ((EARLIEST - SERIAL_DAY_ZERO).days, 2_958_465)
_DECIMAL = re.compile(r"\d+\.\d+")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class RecordError(ValueError):
    """A record that cannot become a ticket; the message is the reason shown to people."""


# What reading a field of another type than the export's own fails with (`.get` on a string, a list
# as a dictionary key, arithmetic on text, nesting deeper than Python follows).
MISTYPED = (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError)


def mistyped(kind: str, exc: BaseException) -> str:
    """The reason a record whose fields are of other types than its profile's is rejected."""
    return f"{kind} has a field of another type than the export's ({type(exc).__name__}: {str(exc)[:120]})"


class FileError(ValueError):
    """The whole file is unusable; the message says why in one line."""


class UnrecognisedColumns(FileError):
    """A table (or JSON records) that no profile or mapping reads; `sample` holds its first rows, from
    which `ticket-intel mapping suggest` drafts a mapping (core/sources/mapping_draft.py)."""

    SAMPLE_ROWS = 500

    def __init__(self, message: str, sample: pd.DataFrame) -> None:
        super().__init__(message)
        self.sample = sample.head(self.SAMPLE_ROWS)


# Why a row is no ticket: a file's `skipped` rows are counted per kind, and a kind may name whose
# rows they are after a colon (`bot:swift-ci`), so a run's line says which rows it left out
# (`sources.skipped_summary`). Swift's issues read "4683 not tickets (replies, a conversation's later
# messages, rows a mapping leaves out)", every one of them the swift-ci bot's.
SKIPPED_KINDS = {
    "reply": "written by the company (replies)",
    "followup": "later in a conversation (follow-ups)",
    "unopened": "in conversations without a customer's opening message in the export",
    "filtered": "left out by the mapping's filter",
    "bot": "written by bots",
}


def skipped_kind(kind: str, whose: Any = None) -> str:
    """A `SKIPPED_KINDS` kind as counted, with whose rows they are when it names them (a bot's name)."""
    return kind if whose is None else f"{kind}:{whose}"


@dataclass
class ParseResult:
    source: str
    tickets: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    # Rows the profile says are not tickets (company replies, follow-ups, bots), per `skipped_kind`.
    skipped: Counter[str] = field(default_factory=Counter)
    replies: list[dict[str, Any]] = field(default_factory=list)
    # Mapped rows whose conversations are assembled across all files (threads.Pending).
    pending: Any = None
    warnings: list[str] = field(default_factory=list)  # on the whole file, for its line (mapped.FileReader)

    def reject(self, locator: str, record: Any, reason: str) -> None:
        self.rejections.append(
            {"locator": locator, "source": self.source, "record": to_json(record), "reason": reason}
        )

    def add_each(self, records: Sequence[Any], locators: Sequence[str] | None, kind: str,
                 add: Callable[[Mapping[str, Any], str], None], where: str = "") -> None:
        """`add` each record at its locator (by default `where[i]`, its place in the export); a record
        that is not an object, or that `add` refuses, is rejected with the reason, and the others go
        on. `add` refuses with a RecordError, or fails on a field of another type than the helpdesk
        writes (a `via` that is text, `tags` that are a number): then nothing it added stays, so the
        record is counted once, as rejected."""
        for locator, record in zip(locators or [f"{where}[{i}]" for i in range(len(records))], records, strict=True):
            if not isinstance(record, Mapping):
                self.reject(locator, record, f"{kind} is a {type(record).__name__}, not an object")
                continue
            added = len(self.tickets), len(self.replies), len(self.rejections)
            try:
                add(record, locator)
            except RecordError as exc:
                self.reject(locator, record, str(exc))
            except MISTYPED as exc:
                del self.tickets[added[0]:], self.replies[added[1]:], self.rejections[added[2]:]
                self.reject(locator, record, mistyped(kind, exc))

    def add_reply(self, locator: str, record: Any, **fields: Any) -> None:
        """Keep an agent reply of the ticket at `locator`; one with an unusable time is rejected."""
        try:
            reply = make_reply(**fields)
        except RecordError as exc:
            self.reject(locator, record, str(exc))
            return
        if reply is not None:
            self.replies.append({**reply, "locator": locator})


def to_json(record: Any) -> str:
    """A record as its rejection keeps it; one nested deeper than Python follows as its outer levels
    (`reprlib`: re-encoding it whole crashed the run after its parse was caught)."""
    if isinstance(record, str):
        return record
    try:
        return json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)
    except RecursionError:
        return reprlib.repr(record)


# Half of a UTF-16 pair alone ("\ud800" in JSON): no character, and neither the tokenizer nor a
# UTF-8 writer takes it (a webhook holding one failed with HTTP 500).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = printable(_LONE_SURROGATE.sub("\ufffd", str(value))).strip()
    return text or None


_WHOLE_FLOAT = re.compile(r"(-?\d+)\.0+")


def id_or_none(value: Any) -> str | None:
    """Ids arrive as ints, floats from spreadsheets (`123.0`) or strings; keep one spelling. A list
    or an object is no id."""
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        value = int(value)
    if isinstance(value, Mapping | list | tuple | set | np.ndarray):
        raise RecordError(f"an id is a {type(value).__name__}, not a single value: {str(value)[:60]}")
    return text_or_none(value)


def ticket_number(value: Any) -> str | None:
    """A ticket's id as `id_or_none` spells it, and "123.0" as 123: the text pandas writes for an id
    column with gaps, re-saved by a script, was another ticket than the helpdesk's own 123. Ticket
    ids only: a reply's "1.0" (a chat's first line) is its own."""
    text = id_or_none(value)
    return match.group(1) if text and (match := _WHOLE_FLOAT.fullmatch(text)) else text


# An id that is a phone number: a + or digits, 7 or more digits in all, with the usual separators.
_PHONE_ID = re.compile(r"^\+?[\d\s().-]*$")


def pseudonymize(customer: str | None) -> str | None:
    """A customer id that is personal data (an e-mail address, a person's name, a phone number) would
    leak into every downstream table, report and tracker issue: hash it, keeping what kind it was.
    A helpdesk's own ids (digits, a login, a handle) hold no space and stay readable. A mapping that
    names the requester as the customer (`customer_id: Requester`) gave "Siobhan Moncrieff"."""
    if customer is None:
        return customer
    said = " ".join(customer.split())
    kind = ("email" if "@" in said else "phone" if _PHONE_ID.match(said) and sum(map(str.isdigit, said)) >= 7
            and not said.isdigit() else "name" if " " in said else None)
    return customer if kind is None else hashed_id(kind, said)



def _fromisoformat(text: str) -> datetime | None:
    """The common ISO-8601 case without dateutil's much slower tokenizer."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, faster than `to_dict("records")` on object columns (no per-cell boxing)."""
    columns = list(frame.columns)
    return [dict(zip(columns, values, strict=True)) for values in zip(*(frame[c].tolist() for c in columns), strict=True)]


def parse_timestamp(value: Any, now: datetime | None = None) -> datetime:
    """Parse ISO-8601, `YYYY-MM-DD HH:MM:SS`, RFC-2822-ish, Unix epoch (s or ms) or a spreadsheet's
    serial day number (SERIAL_DAYS) to naive UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError("missing created_at timestamp")
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
            ts = _from_number(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return parse_timestamp(int(value.strip()), now)
        elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            return parse_timestamp(float(value.strip()), now)
        elif isinstance(value, str) and (iso := _fromisoformat(value.strip())) is not None:
            ts = iso
        elif isinstance(value, datetime | pd.Timestamp):
            ts = pd.Timestamp(value).to_pydatetime()
        else:
            ts = parse_time_text(str(value))
        if (ts := as_local(ts)).tzinfo is not None:  # an offset of a day or more fails here
            ts = ts.astimezone(UTC).replace(tzinfo=None)
    except RecordError:  # a number's own reason (a numeric string is parsed as its number)
        raise
    except (ValueError, OverflowError, TypeError, OSError) as exc:  # OSError: a number past the platform's time
        zone = f": {exc}" if str(exc).startswith("time zone") else ""
        raise RecordError(f"unparseable created_at timestamp {str(value)[:60]!r}{zone}") from exc
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if ts < EARLIEST:
        raise RecordError(f"created_at {ts:%Y-%m-%d} is before {EARLIEST:%Y} (placeholder date?)")
    if (ts - now).days >= LATEST_SLACK_DAYS:
        raise RecordError(FUTURE_REASON.format(ts))
    return ts


def is_for_now(reason: str) -> bool:
    """Whether a rejection holds only until the clock passes its time (`FUTURE_REASON`)."""
    return reason.endswith(FUTURE_REASON.split("}")[-1])


def _from_number(value: float) -> datetime:
    """A serial day number in SERIAL_DAYS (naive), else Unix seconds, or milliseconds past 1e11 (UTC)."""
    if SERIAL_DAYS[0] <= value <= SERIAL_DAYS[1]:
        return SERIAL_DAY_ZERO + timedelta(days=value)
    return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)


def money(value: Any, decimal_comma: bool = False) -> float | None:
    """An amount as exports write it ("$1,200.00", "1.234,50 €", "49.90", 49.9) as a number; None when
    it holds none. A semicolon-separated file writes the decimal comma (`decimal_comma`): there "1.234"
    is a thousand and more."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    text = text_or_none(value)
    if text is None:
        return None
    if not decimal_comma and _PLAIN_NUMBER.fullmatch(text):  # as most exports write it: no parse per ticket
        return float(text)
    return Price.fromstring(text, decimal_separator="," if decimal_comma else None).amount_float


# The key holding a tag's name when tags are objects: Zendesk, Intercom and Freshdesk write `name`,
# Help Scout `tag` ({"id": 7, "color": "#a5b2bd", "tag": "refund"}).
TAG_NAME_KEYS = ("name", "tag")


def parse_tags(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, Mapping):
        items = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes):
        items = value
    else:  # one tag typed as a number, a flag or a date (a Parquet column)
        items = [value]
    tags = []
    for item in items:
        name = text_or_none(_tag_name(item) if isinstance(item, Mapping) else item)
        if name:
            tags.append(sys.intern(name.lower()))
    return tags


def _tag_name(tag: Mapping[str, Any]) -> Any:
    """A tag object's name (`TAG_NAME_KEYS`); one without any is refused rather than read as no tag
    (Help Scout's `tag` key lost every tag's name in silence)."""
    key = next((k for k in TAG_NAME_KEYS if k in tag), None)
    if key is None:
        raise RecordError(f"a tag is an object without a name ({' or '.join(TAG_NAME_KEYS)}): {str(dict(tag))[:80]}")
    return tag[key]


def _shared(value: str | None) -> str | None:
    """One string object per distinct label (channel, status, plan, ...): a big export repeats a few
    values hundreds of thousands of times, and each copy would cost its own memory."""
    return None if value is None else sys.intern(value)


def make_ticket(
    *,
    source: str,
    source_id: Any,
    created_at: Any,
    message: Any,
    subject: Any = None,
    customer_id: Any = None,
    account_id: Any = None,
    plan: Any = None,
    monthly_revenue: Any = None,
    channel: Any = None,
    tags: Any = None,
    priority: Any = None,
    status: Any = None,
    product: Any = None,
    followups: Sequence[Any] = (),
    record: Any = None,
    sender: Any = None,
) -> dict[str, Any]:
    """Validate one record into the canonical schema or raise `RecordError`. `sender`: the address
    the message came from, when the export gives one apart from `customer_id`."""
    sid = ticket_number(source_id)
    if sid is None:
        raise RecordError("missing ticket id")
    ts = parse_timestamp(created_at)
    subject_text = text_or_none(subject)
    message_text = text_or_none(message)
    if message_text is not None and (turns := transcript_turns(message_text, subject_text)) is not None:
        message_text, said_later = opening_turn(turns, subject_text)  # a chat sent as one message
        followups = [*said_later, *followups]
    if is_automatic(subject_text, message_text) or no_reply(sender) or no_reply(customer_id):
        raise RecordError(AUTOMATIC_REASON)
    if message_text is not None and call_words(message_text) == "" and not says_nothing(subject_text):
        message_text = subject_text  # a call without a transcription: the subject an agent gave it
    if message_text is None or not has_text(message_text):
        if subject_text is None:
            raise RecordError("no customer message: body and subject are both empty")
        message_text = subject_text
    elif subject_text is not None and says_nothing(message_text) and not says_nothing(subject_text):
        message_text = f"{subject_text}{FOLLOWUP_SEPARATOR}{message_text}"  # "Card declined" over "Hi,"
    revenue = money(monthly_revenue)
    plan_text = text_or_none(plan)
    return {
        "ticket_id": f"{source}:{sid}",
        "source": source,
        "source_id": sid,
        "created_at": ts,
        "customer_id": pseudonymize(id_or_none(customer_id)),
        "account_id": _shared(id_or_none(account_id)),
        "plan": _shared(plan_text.lower()) if plan_text else None,
        "monthly_revenue": revenue,
        "subject": subject_text,
        "message": message_text,
        "channel": _shared((text_or_none(channel) or "").lower() or None),
        "tags": parse_tags(tags),
        "priority": _shared((text_or_none(priority) or "").lower() or None),
        "status": _shared((text_or_none(status) or "").lower() or None),
        "product": _shared(id_or_none(product)),
        **followup_fields(followups),
        "record": to_json(record) if record is not None else None,
    }


def is_automatic(subject: str | None, message: str | None) -> bool:
    """Whether a message is an automatic reply or a bounce (`AUTOMATIC_REASON`), by its subject or
    its first words (the body's cleaned start: an HTML mail opens with markup)."""
    if subject is not None and _AUTOMATIC_SUBJECT.search(subject):
        return True
    start = message[:GREETING_PREFIX_CHARS] if message is not None else ""
    return bool(_AUTOMATIC_HINT.search(start)) and bool(_AUTOMATIC_BODY.search(clean_message(start)))


def is_merge_note(body: Any, away: re.Pattern[str], kept: re.Pattern[str], requester: Any,
                  requesters: Mapping[str, Any]) -> bool:
    """Whether a comment is a note a helpdesk writes when an agent merges tickets: `away` in a ticket
    merged into the one its group `into` names, `kept` in the one kept. Raise `RecordError`
    (`MERGED_REASON`) when this ticket went into one of the same requester (`requesters`: each
    ticket id's)."""
    said = str(body or "")
    if "merged into" not in said:  # the notes' words, before any parsing
        return False
    said = html_to_text(said)
    if merged := away.match(said):
        if requester is not None and requesters.get(merged["into"]) == requester:
            raise RecordError(MERGED_REASON.format(merged["into"]))
        return True
    return bool(kept.match(said))


def no_reply(address: Any) -> bool:
    """Whether an address takes no answer ("noreply@…", "Acme <do-not-reply@…>"): a system's."""
    return isinstance(address, str) and bool(_NO_REPLY.match(address))


def says_nothing(text: str | None) -> bool:
    """Whether a message leaves nothing to read once cleaned: no words but a greeting, a handle, a
    link or a ticket number ("Hi", "Hello team!", "@AcmeHelp"), what `meaning_text` removes, only
    a pointer to the subject or an attachment ("Please see attached", "As per subject"), or a chat's
    subject that names the customer ("Chat with Nick Moad"). Themes leave
    such a ticket out ("Tickets with nothing to read") or group it by the pointer, so its subject or
    next words stand in for it."""
    if text is None:
        return True
    # The words of a prefix bound those of the text: a long one is never read whole here.
    words = len(TAGS_AND_SPACES.sub(" ", text[:GREETING_PREFIX_CHARS]).split())
    return words <= GREETING_WORDS and not POINTER.sub("", meaning_text(clean_message(text)))


def opening_turn(turns: Sequence[tuple[bool, Any]], subject: Any = None) -> tuple[str | None, list[str]]:
    """The customer's message and follow-ups, from a conversation's turns in order, each
    (the customer's?, text), the company's answers included. The message is the customer's first;
    when it says nothing (chat opens with "Hi" and asks in the next line), the customer's next
    messages before the company's first answer join it until it says something, unless the
    subject says what the matter is (`make_ticket` then leads with it). Later ones are follow-ups."""
    said = [(mine, text_or_none(x)) for mine, x in turns]
    first = next((i for i, (mine, _) in enumerate(said) if mine), None)
    if first is None:
        return None, []
    end = first + 1
    if says_nothing(text_or_none(subject)):
        while end < len(said) and said[end][0] and says_nothing(_joined(said[first:end])):
            end += 1
    return _joined(said[first:end]), [t for mine, t in said[end:] if mine and t is not None]


def _joined(turns: Sequence[tuple[bool, str | None]]) -> str | None:
    return FOLLOWUP_SEPARATOR.join(t for _, t in turns if t is not None and has_text(t)) or None


def followup_fields(texts: Sequence[Any]) -> dict[str, Any]:
    """`followups` (count of later customer messages with text, automatic replies left out) and their
    text, in order."""
    kept = [t for t in (text_or_none(x) for x in texts) if t is not None and has_text(t) and not is_automatic(None, t)]
    return {"followups": len(kept), "followup_text": FOLLOWUP_SEPARATOR.join(kept) or None}


def make_reply(*, ticket_id: str, reply_id: Any, reply_at: Any, author: Any, text: Any,
               is_public: bool = True) -> dict[str, Any] | None:
    """One agent reply to a ticket; None when it says nothing (an assignment, a bare attachment).

    Raises `RecordError` when its time is unusable."""
    body = text_or_none(text)
    if body is None or not has_text(body):
        return None
    try:
        at = parse_timestamp(reply_at)
    except RecordError as exc:
        raise RecordError(f"agent reply {id_or_none(reply_id)} to {ticket_id}: {exc}") from exc
    return {"ticket_id": ticket_id, "reply_id": id_or_none(reply_id), "reply_at": at,
            "author": pseudonymize(id_or_none(author)), "text": body, "is_public": is_public}

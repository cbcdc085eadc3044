"""Requests to `serve`'s `POST /triage`: who sent them, the customer's message, and their signature.

Accepted bodies (JSON objects):
- plain: `{"text": ..., "customer_id": ...}`;
- Zendesk: a ticket event (`{"type": "zen:event-type:ticket.created", "detail": {id, subject,
  description, requester_id, ...}}`), or the body a trigger or automation webhook sends, which the
  admin writes and which conventionally wraps the ticket as the API does (`{"ticket": {id, subject,
  description, requester_id | requester: {id, email} | requester_email}}`), or an unwrapped ticket
  object with its `description` (a `subject` alone is any helpdesk's);
- Freshdesk: an automation rule's webhook (`{"freshdesk_webhook": {ticket_id, ticket_subject,
  ticket_description, ticket_requester_email | requester_email | ticket_contact_email}}`), or an API
  ticket object (`description_text` with an integer `status`), or a body the admin wrote in the
  `{"ticket": {...}}` shape, sent to `/triage?source=freshdesk` (the shape alone reads as Zendesk's);
- Intercom: a notification (`{"type": "notification_event", "topic": "conversation.user.created",
  "data": {"item": <conversation>}}`, API 2.x or 1.x); the message is the first one a user or lead
  wrote, as in the conversations export;
- any other helpdesk's, through a column mapping (`?mapping=NAME`, else the one whose `detect` its
  keys match, as ingest picks one), read by ingest's own reader (`sources.parse_bytes`).
Events that hold no new customer ticket are answered 200 with `"ignored"` (`"pong"` for the `ping`
topic Intercom sends when a webhook is saved): any other Zendesk event or Intercom topic; a
Freshdesk rule whose `triggered_event` is not the ticket's creation (an update fires the same rule
and the body still holds the first message); and, as ingest reads an export, an internal ticket (a Zendesk ticket whose first comment is
private) and a mapped record that is no ticket by its mapping (a reply, a company's row).

Signatures: when a shared secret is configured, every request must carry one of
- `X-Ticket-Intel-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` (any sender);
- `X-Zendesk-Webhook-Signature` with `X-Zendesk-Webhook-Signature-Timestamp`: base64 of
  HMAC-SHA256(secret, timestamp + raw body), Zendesk's own scheme (the secret is the webhook's
  signing secret), the timestamp within 5 minutes of now;
- `X-Hub-Signature: sha1=<hex HMAC-SHA1(secret, raw body)>`, Intercom's (the app's client secret).
Freshdesk does not sign webhooks; put a signing proxy in front, or run without a secret on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ticket_intel.core.sources import JSON_SHAPES, SKIPPED_ROWS, freshdesk, intercom, parse_bytes
from ticket_intel.core.sources import Mapping as ColumnMapping
from ticket_intel.core.sources.base import (
    FileError,
    RecordError,
    UnrecognisedColumns,
    id_or_none,
    make_ticket,
)

SIGNATURE_HEADER = "X-Ticket-Intel-Signature"  # our scheme: alerts we send carry it too (core/notify.py)
OURS = SIGNATURE_HEADER.lower()  # headers are compared in lower case
ZENDESK_SIGNATURE = "x-zendesk-webhook-signature"
ZENDESK_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
INTERCOM_SIGNATURE = "x-hub-signature"
ZENDESK_NEW = "zen:event-type:ticket.created"  # the events that hold a new ticket
INTERCOM_NEW = "conversation.user.created"
FRESHDESK_NEW = "ticket_action:created"  # in a rule's `triggered_event`: "{ticket_action:created}"
SOURCES = ("zendesk", "freshdesk")  # `?source=` names whose `{"ticket": ...}` body it is
REPLAY_WINDOW = timedelta(minutes=5)  # the usual tolerance for a signed timestamp's clock skew


class RequestError(ValueError):
    """A request `serve` refuses, with the HTTP status and a message saying what to fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Incoming:
    """The customer's message as received (not yet cleaned or redacted) and who sent it."""

    source: str
    text: str
    customer_id: str | None = None
    ticket_id: str | None = None
    product: str | None = None  # what a column mapping reads: the product and the helpdesk's tags
    tags: tuple[str, ...] = ()


def _digest_ok(expected: bytes, given: str, hexadecimal: bool = False) -> bool:
    """Whether a header's signature is the expected one; hex digits in either case."""
    given = given.strip()
    return hmac.compare_digest(expected, (given.lower() if hexadecimal else given).encode())


def _fresh(stamp: str | None, now: datetime) -> bool:
    """Whether Zendesk's signed timestamp is within `REPLAY_WINDOW` of now: a request captured with
    its signature and sent again later is refused (Zendesk signs the timestamp for this)."""
    try:
        sent = datetime.fromisoformat((stamp or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return sent.tzinfo is not None and abs(now - sent) <= REPLAY_WINDOW


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> None:
    """Pass when no secret is set or any signature sent matches (a proxy may add a header of its
    own beside the helpdesk's); raise 401 otherwise."""
    if not secret:
        return
    key, h = secret.encode(), {k.lower(): v for k, v in headers.items()}
    fresh = _fresh(h.get(ZENDESK_TIMESTAMP), now or datetime.now(UTC))
    checks = {
        OURS: lambda: _digest_ok(sign(secret, body).encode(), h[OURS], hexadecimal=True),
        ZENDESK_SIGNATURE: lambda: fresh and _digest_ok(base64.b64encode(hmac.new(
            key, h.get(ZENDESK_TIMESTAMP, "").encode() + body, hashlib.sha256).digest()), h[ZENDESK_SIGNATURE]),
        INTERCOM_SIGNATURE: lambda: _digest_ok(b"sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest().encode(),
                                               h[INTERCOM_SIGNATURE], hexadecimal=True),
    }
    sent = [check for header, check in checks.items() if header in h]
    if not sent:
        raise RequestError(401, f"unsigned request: send an {SIGNATURE_HEADER} header "
                                "(sha256=<hex HMAC of the body>) or your helpdesk's webhook signature")
    if not any(check() for check in sent):
        if ZENDESK_SIGNATURE in h and not fresh:
            raise RequestError(401, f"{ZENDESK_TIMESTAMP.title()} is missing, not ISO 8601, or more than "
                                    f"{REPLAY_WINDOW.seconds // 60} minutes from now: a replayed request, or a clock "
                                    "that is off")
        raise RequestError(401, "the signature does not match the body (wrong secret, or the body changed)")


def sign(secret: str, body: bytes) -> str:
    """The `X-Ticket-Intel-Signature` value for a body (what a sender or a test computes)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _incoming(source: str, ticket_id: Any, message: Any, subject: Any, customer: Any) -> Incoming:
    """The message as the export profiles read a ticket (`base.make_ticket`)."""
    for name, value in (("id", ticket_id), ("customer", customer), ("message", message), ("subject", subject)):
        if isinstance(value, Mapping | list):
            raise RequestError(422, f"the {source} payload's {name} must be a string or a number, not a JSON "
                                    f"{'object' if isinstance(value, Mapping) else 'array'}")
    sid = id_or_none(ticket_id)
    try:  # as ingest reads it: the subject over a bare "Hi,", a chat's opening turn; automatic mail is none
        ticket = make_ticket(source=source, source_id=sid or "-", created_at=datetime.now(UTC), message=message,
                             subject=subject, customer_id=customer)
    except RecordError as exc:
        raise RequestError(422, f"the {source} payload holds no ticket to triage: {exc}") from None
    return Incoming(source, ticket["message"], ticket["customer_id"], f"{source}:{sid}" if sid else None)


def _requester(ticket: Mapping[str, Any]) -> Any:
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), Mapping) else {}
    return ticket.get("requester_id") or requester.get("id") or requester.get("email") or ticket.get("requester_email")


def _zendesk(ticket: Mapping[str, Any]) -> Incoming | Ignored:
    if ticket.get("is_public") is False:
        return Ignored("ignored", "the new Zendesk ticket's first comment is private: an internal ticket, no "
                                  "customer's message")
    return _incoming("zendesk", ticket.get("id"), ticket.get("description"), ticket.get("subject"), _requester(ticket))


def _freshdesk_rule(hook: Mapping[str, Any]) -> Incoming | Ignored:
    event = str(hook.get("triggered_event") or "")
    if event and FRESHDESK_NEW not in event.replace(" ", ""):
        return Ignored("ignored", f"a Freshdesk {event} event holds no new ticket (only {{{FRESHDESK_NEW}}} does)")
    customer = next((hook[k] for k in ("ticket_requester_id", "ticket_requester_email", "requester_email",
                                       "ticket_contact_email") if hook.get(k)), None)
    return _incoming("freshdesk", hook.get("ticket_id"), hook.get("ticket_description"), hook.get("ticket_subject"),
                     customer)


def _freshdesk_api(ticket: Mapping[str, Any]) -> Incoming:
    return _incoming("freshdesk", ticket.get("id"), ticket.get("description_text") or ticket.get("description"),
                     ticket.get("subject"), _requester(ticket))


def _intercom(item: Mapping[str, Any]) -> Incoming:
    """The conversation's opening turn, as ingest reads an exported one (a "Hi" joined by the question after it)."""
    _object(item.get("source") or {}, '"source"')
    parts = _object(item.get("conversation_parts") or {}, '"conversation_parts"').get("conversation_parts") or []
    if not isinstance(parts, list):
        raise RequestError(422, '"conversation_parts.conversation_parts" must be a JSON array')
    try:
        message, _, author, subject = intercom.opening(item)
    except RecordError:
        raise RequestError(422, "the Intercom conversation has no message from a user or lead") from None
    return _incoming("intercom", item.get("id"), message, subject, author.get("id"))


def _plain(doc: Mapping[str, Any]) -> Incoming:
    if not isinstance(doc["text"], str):
        raise RequestError(422, '"text" must be a string')
    customer = doc.get("customer_id")
    if customer is not None and (isinstance(customer, bool) or not isinstance(customer, str | int)):
        raise RequestError(422, '"customer_id" must be a string or a whole number')
    return _incoming("text", None, doc["text"], None, customer)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RequestError(422, f"{what} must be a JSON object")
    return value


@dataclass(frozen=True)
class Ignored:
    """A helpdesk event that holds no new ticket, answered with HTTP 200 so the helpdesk does not
    retry it: Intercom's `ping`, or an event about a ticket that exists (a reply, a status change),
    which triaged its first message again."""

    status: str
    reason: str


def parse_payload(doc: Any, source: str | None = None) -> Incoming | Ignored:
    """The message of a plain, Zendesk, Freshdesk or Intercom body, or why the event holds none;
    `source` (the request's `?source=`) names whose a `{"ticket": ...}` body is."""
    if source is not None and source not in SOURCES:
        raise RequestError(422, f"?source={source} is not one of {', '.join(SOURCES)}")
    doc = _object(doc, "the body")
    if "text" in doc:
        return _plain(doc)
    kind = str(doc.get("type", ""))
    if kind.startswith("zen:event-type:ticket."):
        if kind != ZENDESK_NEW:
            return Ignored("ignored", f"a {kind} event holds no new ticket (only {ZENDESK_NEW} does)")
        return _zendesk(_object(doc.get("detail"), '"detail"'))
    if kind == "notification_event":
        if doc.get("topic") == "ping":
            return Ignored("pong", "Intercom's ping holds no ticket")
        if doc.get("topic") != INTERCOM_NEW:
            return Ignored("ignored", f"an Intercom {doc.get('topic')} notification holds no new ticket "
                                      f"(only {INTERCOM_NEW} does)")
        return _intercom(_object(_object(doc.get("data") or {}, '"data"').get("item"), '"data.item"'))
    if "freshdesk_webhook" in doc:
        return _freshdesk_rule(_object(doc["freshdesk_webhook"], '"freshdesk_webhook"'))
    ticket = doc.get("ticket", doc)
    if isinstance(ticket, Mapping) and (source == "freshdesk" or "description_text" in ticket
                                        or freshdesk.looks_like_record(ticket)):
        return _freshdesk_api(ticket)
    # Zendesk's: the trigger body's `{"ticket": ...}` wrapper, or its ticket object's `description`
    # (the first comment). A subject alone is every helpdesk's: a Help Scout conversation was read as
    # Zendesk ticket 3000037, triaged from its subject.
    if isinstance(ticket, Mapping) and (("ticket" in doc and "subject" in ticket) or "description" in ticket):
        return _zendesk(ticket)
    raise Unrecognised(422, f'unrecognised payload (keys: {", ".join(list(doc)[:6])}): send {{"text": ..., '
                            '"customer_id": ...}, a Zendesk, Freshdesk or Intercom webhook body, or one a column '
                            'mapping reads (?mapping=NAME; see docs/assist.md)')


class Unrecognised(RequestError):
    """A body of none of the built-in kinds (`parse_payload`): a column mapping may read it (`parse_request`)."""


def parse_request(doc: Any, body: bytes, source: str | None = None, mapping: str | None = None,
                  mappings: Sequence[ColumnMapping] = ()) -> Incoming | Ignored:
    """The message of a request's body: by the column mapping `?mapping=` names, else a built-in
    kind (`parse_payload`), else by the mapping whose `detect` its keys match, as ingest picks one."""
    if mapping is None:
        try:
            return parse_payload(doc, source)
        except Unrecognised as exc:
            if not mappings:
                raise
            try:
                return read_mapped(body, mappings)
            except Unrecognised as mapped_exc:  # no mapping detects it: both say why
                raise RequestError(422, f"{exc}; {mapped_exc}") from None
    named = [m for m in mappings if m.name == mapping]
    if not named:
        raise RequestError(422, f"?mapping={mapping} is no mapping: the mappings are "
                                f"{', '.join(sorted({m.name for m in mappings}))} (TICKET_INTEL_MAPPINGS_DIR adds a team's)")
    return read_mapped(body, named[:1])


def read_mapped(body: bytes, mappings: Sequence[ColumnMapping]) -> Incoming | Ignored:
    """The body read as ingest reads a JSON export holding one record (or a wrapper object holding
    its records) with these mappings, conversations assembled within it: its one ticket; ignored when
    the mapping makes it no ticket (a reply, a conversation's later message, a row it leaves out)."""
    try:
        result = parse_bytes("webhook.json", body, mappings)
    except FileError as exc:  # Unrecognised: no mapping's `detect` matched its records' keys
        undetected = isinstance(exc, UnrecognisedColumns) or JSON_SHAPES in str(exc)
        raise (Unrecognised if undetected else RequestError)(422, f"the body is not one a column mapping reads: "
                                                                  f"{exc}") from None
    if len(result.tickets) > 1:
        raise RequestError(422, f"the body holds {len(result.tickets)} {result.source} tickets: send one a request")
    if result.tickets:
        ticket = result.tickets[0]
        return Incoming(ticket["source"], ticket["message"], ticket["customer_id"], ticket["ticket_id"],
                        ticket.get("product"), tuple(ticket.get("tags") or ()))
    if result.rejections:
        raise RequestError(422, f"the {result.source} record holds no ticket to triage: "
                                f"{result.rejections[0]['reason']}")
    return Ignored("ignored", f"the {result.source} record is no new ticket by its mapping: {SKIPPED_ROWS}")

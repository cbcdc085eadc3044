"""POST /triage bodies: plain, Zendesk, Freshdesk and Intercom webhook shapes, and any other helpdesk's
through a column mapping; HMAC signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ticket_intel.core.sources import load_mappings
from ticket_intel.core.sources.base import FOLLOWUP_SEPARATOR, pseudonymize
from ticket_intel.core.webhooks import (
    Ignored,
    Incoming,
    RequestError,
    parse_payload,
    parse_request,
    sign,
    verify,
)
from ticket_intel_tests.test_mapped_exports import HELPSCOUT_API, api_conversation, api_thread

SECRET = "s3cret"
BODY = b'{"text": "my card was declined"}'


def test_plain_payload():
    assert parse_payload({"text": "card declined", "customer_id": "c-1"}) == Incoming("text", "card declined", "c-1")
    assert parse_payload({"text": "hi", "customer_id": 42}).customer_id == "42"


def test_zendesk_ticket_event_and_trigger_webhook():
    event = {"type": "zen:event-type:ticket.created", "account_id": 1, "subject": "zen:ticket:35436",
             "detail": {"id": "35436", "subject": "Card declined", "description": "My card was declined",
                        "requester_id": "20978392", "status": "NEW"}}
    assert parse_payload(event) == Incoming("zendesk", "My card was declined", "20978392", "zendesk:35436")
    trigger = {"ticket": {"id": 7, "subject": "Refund", "description": "", "requester": {"email": "a@b.com"}}}
    got = parse_payload(trigger)
    assert got.text == "Refund" and got.ticket_id == "zendesk:7"  # the subject when the description is empty
    assert got.customer_id.startswith("email:")  # an email never travels as an id


def test_freshdesk_rule_webhook_and_api_ticket():
    rule = {"freshdesk_webhook": {"ticket_id": "11", "ticket_subject": "Login", "ticket_description": "<div>Cannot log in</div>",
                                  "ticket_requester_email": "x@y.org"}}
    got = parse_payload(rule)
    assert (got.source, got.text, got.ticket_id) == ("freshdesk", "<div>Cannot log in</div>", "freshdesk:11")
    api = {"id": 12, "subject": "s", "description": "<p>d</p>", "description_text": "d", "status": 2, "requester_id": 5}
    assert parse_payload(api) == Incoming("freshdesk", "d", "5", "freshdesk:12")


def test_intercom_notification_takes_the_first_user_message_and_answers_ping():
    item = {"type": "conversation", "id": "9", "source": {"body": "<p>Hello from the bot</p>", "author": {"type": "bot"}},
            "conversation_parts": {"conversation_parts": [
                {"body": "<p>Where is my refund?</p>", "author": {"type": "user", "id": "u1"}},
                {"body": "<p>Looking</p>", "author": {"type": "admin", "id": "a1"}}]}}
    note = {"type": "notification_event", "topic": "conversation.user.created", "data": {"item": item}}
    assert parse_payload(note) == Incoming("intercom", "<p>Where is my refund?</p>", "u1", "intercom:9")
    assert parse_payload({"type": "notification_event", "topic": "ping", "data": {"item": {}}}).status == "pong"


def test_events_about_a_ticket_that_exists_are_acknowledged_not_triaged_again():
    """An Intercom admin reply and a Zendesk comment were triaged as new tickets (their conversation's
    first message, again); the helpdesk needs a 200 so it does not retry."""
    item = {"type": "conversation", "id": "9", "source": {"body": "<p>Where is my refund?</p>",
                                                          "author": {"type": "user", "id": "u1"}}}
    for doc in ({"type": "notification_event", "topic": "conversation.admin.replied", "data": {"item": item}},
                {"type": "zen:event-type:ticket.comment_added", "detail": {"id": "1", "description": "x"}}):
        got = parse_payload(doc)
        assert isinstance(got, Ignored) and got.status == "ignored" and "holds no new ticket" in got.reason


def test_events_that_hold_no_customer_s_new_ticket_are_acknowledged_not_triaged():
    """Vendor review: a Freshdesk rule fired by a note or a status change, and a Zendesk ticket
    whose first comment is private, were each triaged as a customer's new ticket (the private one
    came back P1, routed to Billing Escalations)."""
    hook = {"ticket_id": "11", "ticket_subject": "Transfer", "ticket_description": "My transfer is missing",
            "requester_email": "b@example.com"}
    for event in ("{note_type:public}", "{status:{from:Open,to:Resolved}}"):
        got = parse_payload({"freshdesk_webhook": {**hook, "triggered_event": event}})
        assert isinstance(got, Ignored) and event in got.reason
    for event in ("{ticket_action:created}", ""):  # the creation, or a rule without the placeholder
        assert parse_payload({"freshdesk_webhook": {**hook, "triggered_event": event}}).ticket_id == "freshdesk:11"
    detail = {"id": "10952", "subject": "Risk review", "description": "Internal: customer on the fraud watchlist.",
              "requester_id": "84", "submitter_id": "900", "is_public": False, "via": {"channel": "web_service"}}
    event = {"type": "zen:event-type:ticket.created", "detail": detail}
    assert "private" in parse_payload(event).reason
    # An agent's account of a caller's problem, submitted for the requester: the customer's ticket.
    logged = {**detail, "description": "Customer called: charged twice at a grocery store.", "is_public": True,
              "via": {"channel": "web"}}
    assert parse_payload({**event, "detail": logged}).ticket_id == "zendesk:10952"


def test_a_freshdesk_body_in_the_ticket_shape_is_named_by_the_source_parameter():
    """An admin-written Freshdesk body `{"ticket": {...}}` came back as zendesk:12."""
    body = {"ticket": {"id": "12", "subject": "Card lost", "description": "<div>I lost my card.</div>",
                       "requester_email": "ann@example.com"}}
    got = parse_payload(body, "freshdesk")
    assert (got.source, got.ticket_id) == ("freshdesk", "freshdesk:12") and got.customer_id.startswith("email:")
    assert parse_payload(body).ticket_id == "zendesk:12"  # the shape alone is Zendesk's
    with pytest.raises(RequestError, match="not one of zendesk, freshdesk"):
        parse_payload(body, "hubspot")


def test_an_intercom_api_1_notification_reads_its_conversation_message():
    """API 1.x (the version a webhook without one gets) holds the first message in
    `conversation_message`: it was a 422."""
    item = {"type": "conversation", "id": "148", "state": "open",
            "conversation_message": {"type": "conversation_message", "subject": "", "body": "<p>Charged twice</p>",
                                     "author": {"type": "user", "id": "u9"}},
            "conversation_parts": {"conversation_parts": []}}
    got = parse_payload({"type": "notification_event", "topic": "conversation.user.created", "data": {"item": item}})
    assert got == Incoming("intercom", "<p>Charged twice</p>", "u9", "intercom:148")


@pytest.mark.parametrize(("doc", "status", "message"), [
    ([1, 2], 422, "the body must be a JSON object"),
    ({"text": 5}, 422, '"text" must be a string'),
    ({"text": "x", "customer_id": {"a": 1}}, 422, '"customer_id"'),
    ({"text": "x", "customer_id": 1.5}, 422, '"customer_id" must be a string or a whole number'),  # "or a number"
    ({"text": "x", "customer_id": True}, 422, '"customer_id" must be a string or a whole number'),  # was "True"
    ({"text": "   "}, 422, "no customer message"),
    ({"text": "I am out of the office until Monday with limited access to email."}, 422, "no ticket to triage"),
    ({"hello": "world"}, 422, "unrecognised payload"),
    ({"type": "zen:event-type:ticket.created", "detail": "x"}, 422, '"detail" must be a JSON object'),
    ({"type": "notification_event", "topic": "conversation.user.created", "data": {"item": {"source": {}}}}, 422,
     "no message from a user or lead"),
    # Shapes that raised inside the parsing: a 500 and a traceback in the log before.
    ({"type": "notification_event", "topic": "conversation.user.created", "data": "x"}, 422, '"data" must be'),
    ({"type": "notification_event", "topic": "conversation.user.created", "data": [1]}, 422, '"data" must be'),
    ({"type": "notification_event", "topic": "conversation.user.created", "data": {"item": {"conversation_parts": [1]}}}, 422,
     '"conversation_parts" must be'),
    ({"type": "notification_event", "topic": "conversation.user.created",
      "data": {"item": {"source": {"author": "user", "body": "hi"}}}}, 422,
     "no message from a user or lead"),
    ({"ticket": {"id": {"x": 1}, "subject": "Card declined"}}, 422, "id must be a string or a number"),
    # A Help Scout `convo.created` body has a subject, as every helpdesk's ticket has: it was triaged as
    # Zendesk ticket 3000037 from its subject alone.
    ({"id": 3000037, "number": 1037, "subject": "Surprise surprise order was supposed to", "mailboxId": 202,
      "primaryCustomer": {"id": 70037}, "_embedded": {"threads": [{"type": "customer", "body": "Where is it?"}]}},
     422, r"unrecognised payload \(keys: id, number, subject, mailboxId, primaryCustomer, _embedded\)"),
])
def test_bad_payloads_say_what_is_wrong(doc, status, message):
    with pytest.raises(RequestError, match=message) as info:
        parse_payload(doc)
    assert info.value.status == status


def test_a_webhook_ticket_is_read_as_ingest_reads_it():
    """A Zendesk ticket whose description is a bare "Hi," was triaged as "Hi," (other, P4, nothing
    similar) where ingest reads its subject over it; an out-of-office reply was routed to a team."""
    got = parse_payload({"ticket": {"id": 5, "subject": "My card was declined at the shop", "description": "Hi,"}})
    assert got.text.startswith("My card was declined at the shop") and got.ticket_id == "zendesk:5"


def test_an_intercom_chat_opening_with_hi_is_read_with_the_question_after_it():
    """The webhook read the first user part alone, and triaged "Hi" (ingest joins the customer's
    next parts until the opening says something: `intercom.opening`)."""
    item = {"type": "conversation", "id": "10", "source": {"body": "<p>Hi</p>", "author": {"type": "user", "id": "u2"}},
            "conversation_parts": {"conversation_parts": [
                {"body": "<p>my card payment was declined twice today</p>", "author": {"type": "user", "id": "u2"}},
                {"body": "<p>Sorry to hear that</p>", "author": {"type": "admin", "id": "a1"}},
                {"body": "<p>still declined</p>", "author": {"type": "user", "id": "u2"}}]}}
    got = parse_payload({"type": "notification_event", "topic": "conversation.user.created", "data": {"item": item}})
    assert "card payment was declined twice" in got.text and "still declined" not in got.text
    assert (got.customer_id, got.ticket_id) == ("u2", "intercom:10")


def test_no_secret_means_no_check():
    verify("", BODY, {})


def test_our_signature_zendesks_and_intercoms_are_accepted():
    verify(SECRET, BODY, {"X-Ticket-Intel-Signature": sign(SECRET, BODY)})
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    zendesk = base64.b64encode(hmac.new(SECRET.encode(), stamp.encode() + BODY, hashlib.sha256).digest()).decode()
    verify(SECRET, BODY, {"X-Zendesk-Webhook-Signature": zendesk, "X-Zendesk-Webhook-Signature-Timestamp": stamp})
    intercom = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    verify(SECRET, BODY, {"x-hub-signature": intercom})
    verify(SECRET, BODY, {"X-Ticket-Intel-Signature": sign(SECRET, BODY).upper().replace("SHA256=", "sha256=")})
    # any one that matches: a proxy's own header beside the helpdesk's was refused when it came first
    verify(SECRET, BODY, {"X-Ticket-Intel-Signature": sign("wrong", BODY), "X-Hub-Signature": intercom})


def test_a_zendesk_request_replayed_later_or_without_its_timestamp_is_refused():
    """A captured Zendesk request was accepted days later, and without its timestamp header: the
    timestamp Zendesk signs is there to refuse replays."""
    stamp = "2026-11-30T10:00:00Z"
    zendesk = base64.b64encode(hmac.new(SECRET.encode(), stamp.encode() + BODY, hashlib.sha256).digest()).decode()
    headers = {"X-Zendesk-Webhook-Signature": zendesk, "X-Zendesk-Webhook-Signature-Timestamp": stamp}
    sent = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    verify(SECRET, BODY, headers, now=sent + timedelta(minutes=4))
    for now, without in ((sent + timedelta(days=6), None), (sent, "X-Zendesk-Webhook-Signature-Timestamp")):
        with pytest.raises(RequestError) as info:
            verify(SECRET, BODY, {k: v for k, v in headers.items() if k != without}, now=now)
        assert info.value.status == 401 and "replayed request" in str(info.value)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Ticket-Intel-Signature": sign("wrong", BODY)},
    {"X-Ticket-Intel-Signature": sign(SECRET, BODY + b" ")},
    {"X-Zendesk-Webhook-Signature": "AAAA", "X-Zendesk-Webhook-Signature-Timestamp": "1"},
    {"X-Hub-Signature": "sha1=00"},
])
def test_unsigned_or_wrongly_signed_requests_are_refused(headers):
    with pytest.raises(RequestError) as info:
        verify(SECRET, BODY, headers)
    assert info.value.status == 401


def test_a_plugged_in_triage_sees_redacted_text_and_may_return_numpy_values():
    import json as _json

    import numpy as np

    from ticket_intel.adapters.server import TRIAGE_FIELDS, TriageRequest, answer
    from ticket_intel.assist import Assistant, AssistSettings
    from ticket_intel.core.retrieve import build_index

    seen: list[TriageRequest] = []

    def triage(request: TriageRequest) -> dict:
        seen.append(request)
        return {"category": "bug report", "escalation": np.bool_(True), "sentiment": np.float32(-0.5),
                "escalation_signals": np.array(["refund"]), "confidence": float("nan")}

    index = build_index(["zendesk:1"], np.ones((1, 4), np.float32), ["t"], ["r"])
    assistant = Assistant(index, AssistSettings("m", "onnx"), encode=lambda texts: np.ones((len(texts), 4), np.float32))
    out = answer(assistant, triage, Incoming("text", "refund now, jane.doe@example.com", "c", product="acme_bank",
                                             tags=("refunds",)))
    assert "[EMAIL]" in seen[0].text and "jane" not in seen[0].text  # the triage only ever sees redacted text
    assert (seen[0].product, seen[0].tags) == ("acme_bank", ("refunds",))  # what a mapping read, for the area
    assert set(TRIAGE_FIELDS) <= set(out) and out["escalation"] is True and out["sentiment"] == -0.5
    assert out["escalation_signals"] == ["refund"] and out["confidence"] is None
    assert _json.loads(_json.dumps(out, allow_nan=False))["similar"][0]["ticket_id"] == "zendesk:1"


def test_half_of_a_utf16_pair_alone_is_a_replacement_character_not_a_server_error():
    r"""`{"text": "card declined \ud800 ok"}` failed in the tokenizer with HTTP 500; an export holding
    one is read by the same `make_ticket`."""
    import json as _json

    from ticket_intel.adapters import encoder

    incoming = parse_payload(_json.loads('{"text": "card declined \\ud800 ok", "customer_id": "c1"}'))
    assert incoming.text == "card declined \ufffd ok"
    incoming.text.encode("utf-8")
    assert encoder.encode([incoming.text], encoder.DEFAULT_MODEL, 8, "onnx").shape[0] == 1


# A helpdesk with no built-in reader, through a team's column mappings (TICKET_INTEL_MAPPINGS_DIR), as
# ingest reads its exports: a home-grown desk posting one flat message a request, replies linked by
# `in_reply_to`; and Help Scout's `convo.created` body in its legacy (V1) payload
# (developer.helpscout.com/webhooks/objects/conversation: the conversation object, its `threads` a
# list of thread objects), read as its threads, each reading the conversation's subject and customer
# by their paths, the conversation (`conversation.id`) their ticket.
DESKLY = """name: deskly
source: deskly
detect: [message_id, in_reply_to, from_email, body_text]
columns: {ticket_id: message_id, created_at: sent_at, message: body_text, subject: ticket_subject,
          customer_id: from_email, product: product}
agents: {column: from_staff, values: ["true"]}
thread: {reply_to: in_reply_to}
"""
HELPSCOUT = """name: helpscout_webhook
source: helpscout
detect: [threads, subject, mailbox, createdBy]
records: {key: threads, parent: conversation}
columns: {ticket_id: id, created_at: createdAt, message: body, subject: conversation.subject,
          customer_id: conversation.customer.email}
agents: {column: type, values: [message, note]}
private: {column: type, values: [note]}
filter: {type: [customer, message, note]}
thread: {conversation_id: conversation.id}
"""
DESKLY_NEW = {"message_id": "m-1042", "in_reply_to": None, "sent_at": "2026-12-07T03:40:12Z",
              "ticket_subject": "Card declined", "from_email": "jane@example.com", "from_staff": False,
              "product": "cards", "body_text": "My card was declined at the shop twice today"}
DESKLY_REPLY = {**DESKLY_NEW, "message_id": "m-1043", "in_reply_to": "m-1042", "body_text": "It is still declined"}
_PERSON = {"id": 29418, "firstName": "Vernon", "lastName": "Bear", "email": "bear@acme.com", "type": "customer"}
HELPSCOUT_CREATED = {
    "id": 291938, "type": "email", "folderId": 1234, "isDraft": False, "number": 349, "owner": None,
    "mailbox": {"id": 85, "name": "Support"}, "customer": _PERSON, "threadCount": 1, "status": "active",
    "subject": "Card declined", "preview": "My card was declined at the shop twice today", "createdBy": _PERSON,
    "createdAt": "2026-12-07T03:40:12Z", "modifiedAt": "2026-12-07T03:40:12Z", "closedAt": None,
    "source": {"type": "email", "via": "customer"}, "cc": [], "bcc": [], "tags": [],
    "threads": [{"id": 88171881, "assignedTo": None, "status": "active", "createdAt": "2026-12-07T03:40:12Z",
                 "openedAt": None, "createdBy": _PERSON, "source": {"type": "email", "via": "customer"},
                 "actionType": None, "actionSourceId": None, "fromMailbox": None, "type": "customer",
                 "state": "published", "customer": _PERSON, "body": "My card was declined at the shop twice today",
                 "to": [], "cc": [], "bcc": [], "attachments": []}]}


def team_mappings(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "deskly.yaml").write_text(DESKLY)
    (folder / "helpscout_webhook.yaml").write_text(HELPSCOUT)
    return folder


def _request(doc: dict, mappings: list, mapping: str | None = None) -> Incoming | Ignored:
    return parse_request(doc, json.dumps(doc).encode(), None, mapping, mappings)


def test_a_body_of_a_helpdesk_without_a_reader_is_read_by_its_mapping_as_ingest_reads_it(tmp_path):
    """`serve` took no mapping: a Help Scout or home-grown desk's webhook was an "unrecognised payload"
    though ingest read the same records; now the mapping ?mapping= names, or whose `detect` the keys
    match, reads it through ingest's reader: a reply by its thread fields is ignored, as Zendesk's
    non-creation events are."""
    mappings = load_mappings(team_mappings(tmp_path / "maps"))
    got = _request(DESKLY_NEW, mappings)
    assert (got.source, got.text, got.ticket_id) == ("deskly", DESKLY_NEW["body_text"], "deskly:m-1042")
    assert got.customer_id.startswith("email:")  # pseudonymised as ingest stores it
    assert got.product == "cards"  # the mapping's product reaches the triage (its product's areas apply)
    assert _request(DESKLY_NEW, mappings, "deskly") == got
    reply = _request(DESKLY_REPLY, mappings)
    assert isinstance(reply, Ignored) and "a conversation's later messages" in reply.reason
    helpscout = _request(HELPSCOUT_CREATED, mappings, "helpscout_webhook")
    assert (helpscout.text, helpscout.ticket_id) == (HELPSCOUT_CREATED["threads"][0]["body"], "helpscout:291938")
    assert helpscout.customer_id == pseudonymize("bear@acme.com") and _request(HELPSCOUT_CREATED, mappings) == helpscout
    note = {**HELPSCOUT_CREATED, "threads": [{**HELPSCOUT_CREATED["threads"][0], "type": "note"}]}
    assert isinstance(_request(note, mappings, "helpscout_webhook"), Ignored)


def test_a_mapped_body_reads_the_conversation_above_its_threads_by_path(tmp_path):
    """Help Scout's body was read as its `threads` alone: the conversation's subject and customer, and
    a thread's own customer object (`customer.email`), never reached the ticket."""
    mappings = load_mappings(team_mappings(tmp_path / "maps"))
    greeting = {**HELPSCOUT_CREATED, "threads": [{**HELPSCOUT_CREATED["threads"][0], "body": "Hi,"}]}
    assert _request(greeting, mappings, "helpscout_webhook").text == f"Card declined{FOLLOWUP_SEPARATOR}Hi,"
    (tmp_path / "maps" / "threads.yaml").write_text("name: threads\nsource: helpscout\ndetect: [body, state]\n"
                                                    "columns: {ticket_id: id, created_at: createdAt, message: body, "
                                                    "customer_id: customer.email}\n")
    threads = _request(HELPSCOUT_CREATED, load_mappings(tmp_path / "maps"), "threads")  # its one list's records
    assert threads.customer_id == pseudonymize("bear@acme.com")  # by the thread's own customer object
    empty = {**HELPSCOUT_CREATED, "threads": "none"}
    with pytest.raises(RequestError, match="no list of records in 'threads'"):
        _request(empty, mappings, "helpscout_webhook")


def test_a_helpscout_reply_event_is_read_as_the_one_conversation_it_is(tmp_path):
    """A Help Scout reply event (`convo.customer.reply.created`) posts the whole conversation, every
    thread in it: each customer thread was a ticket (422 "the body holds 2 helpscout tickets"). Its
    threads are one conversation, its ticket the first customer thread's (not the newest, listed first),
    in the legacy payload (`threads`) and in the current one, the Mailbox API's conversation
    (developer.helpscout.com/webhooks: "v2 Conversation object"; its threads in `_embedded.threads`),
    which the mapping that reads the API's saved pages reads."""
    mappings = load_mappings(team_mappings(tmp_path / "maps"))
    later = {**HELPSCOUT_CREATED["threads"][0], "id": 88171999, "createdAt": "2026-12-07T05:10:00Z",
             "body": "It was declined again this morning"}
    replied = {**HELPSCOUT_CREATED, "threadCount": 2, "threads": [later, HELPSCOUT_CREATED["threads"][0]]}
    assert _request(replied, mappings, "helpscout_webhook") == _request(HELPSCOUT_CREATED, mappings, "helpscout_webhook")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "helpscout_api.yaml").write_text(HELPSCOUT_API)
    api = load_mappings(tmp_path / "api")
    threads = [api_thread(7003, "customer", "It was declined again this morning", "2026-12-07T05:10:00Z", "bear@acme.com"),
               api_thread(7002, "message", "Could you try once more?", "2026-12-07T04:00:00Z", "bear@acme.com"),
               api_thread(7001, "customer", "My card was declined at the shop twice today", "2026-12-07T03:40:12Z",
                          "bear@acme.com")]
    got = _request(api_conversation(291938, "Card declined", threads), api)
    assert (got.ticket_id, got.text, got.customer_id) == ("helpscout:291938", threads[2]["body"], pseudonymize("bear@acme.com"))
    assert _request(api_conversation(291938, "Card declined", threads[2:]), api) == got  # its `convo.created`


@pytest.mark.parametrize(("doc", "mapping", "message"), [
    (DESKLY_NEW, "front", r"\?mapping=front is no mapping: the mappings are deskly, github_issues, helpscout_webhook"),
    ({"message_id": 1, "in_reply_to": None, "from_email": "x@y.io", "body_text": "hi"}, "deskly",
     r"mapping deskly: file lacks columns \['from_staff', 'product', 'sent_at', 'ticket_subject'\]"),
    ({**DESKLY_NEW, "sent_at": "yesterday"}, None, "holds no ticket to triage: unparseable created_at"),
    ({"hello": "world"}, None, "unrecognised payload .* or one a column mapping reads"),
])
def test_a_body_its_mapping_cannot_read_gets_the_mappings_own_error(tmp_path, doc, mapping, message):
    with pytest.raises(RequestError, match=message) as info:
        _request(doc, load_mappings(team_mappings(tmp_path / "maps")), mapping)
    assert info.value.status == 422

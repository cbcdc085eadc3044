"""`ticket-intel serve` as a real server process on a free port: contract, safety, refusals."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.adapters.server import TRIAGE_FIELDS
from ticket_intel.core.embed import DEFAULT_BACKEND, DEFAULT_MODEL, cache_key, text_hash
from ticket_intel.core.sources.base import pseudonymize
from ticket_intel.core.triage_config import load_routing, load_taxonomy
from ticket_intel.core.webhooks import RequestError, sign
from ticket_intel_tests.fake_apis import FakeOpenAI
from ticket_intel_tests.fake_apis import serve as serve_fake
from ticket_intel_tests.test_webhooks import DESKLY_NEW, DESKLY_REPLY, HELPSCOUT_CREATED, team_mappings

SECRET = "test-secret"
MAX_BYTES = 4096
MODEL = "openai/gpt-4o-mini"
KB = [
    ("zendesk:1", "My card was declined at the supermarket", "Your card was blocked after three wrong PINs."),
    ("zendesk:2", "How do I change my home address?", "Update it under Profile > Address."),
    ("intercom:3", "My transfer has been pending for two days", "Transfers to new payees are held 24 hours."),
]


def build_warehouse(path: Path) -> None:
    """A warehouse whose knowledge base holds KB, embedded by the real encoder through the cache."""
    from ticket_intel.adapters import encoder

    texts = [t for _, t, _ in KB]
    key = cache_key(DEFAULT_MODEL, DEFAULT_BACKEND)
    with wh.open_warehouse(path) as con:
        wh.EmbeddingStore(con, key).put([text_hash(t) for t in texts], encoder.encode(texts))
        rows = pd.DataFrame({"ticket_id": [i for i, _, _ in KB], "week_start": date(2026, 9, 7), "status": "solved",
                             "text": texts, "text_hash": [text_hash(t) for t in texts], "model": key,
                             "resolution": [r for _, _, r in KB], "public_replies": 1})
        wh.replace(con, [wh.Replace("staging.resolved_tickets", rows, "week_start", [date(2026, 9, 7)])])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(root: Path, settings: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`ticket-intel serve` over a warehouse holding KB, as a user starts it, until the block ends."""
    build_warehouse(root / "w.duckdb")
    port, log = free_port(), root / "server.log"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TICKET_INTEL_SERVE_SECRET": SECRET,
           "TICKET_INTEL_SERVE_MAX_BYTES": str(MAX_BYTES), "TICKET_INTEL_CONFIG": "",
           **(settings or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ticket_intel.cli", "serve", "--warehouse", str(root / "w.duckdb"),
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert proc.poll() is None, log.read_text()
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("serve")
    with running_server(root, {"TICKET_INTEL_MAPPINGS_DIR": str(team_mappings(root / "maps"))}) as running:
        yield running


def post(url: str, doc: object, headers: dict | None = None, signed: bool = True, query: str = "") -> httpx.Response:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    h = {"content-type": "application/json", **(headers or {})}
    if signed:
        h["X-Ticket-Intel-Signature"] = sign(SECRET, body)
    return httpx.post(url + "/triage" + query, content=body, headers=h, timeout=30)


def test_plain_text_gets_every_contract_field_and_similar_tickets(server):
    url, _ = server
    r = post(url, {"text": "my card got declined in a shop today", "customer_id": "c-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(TRIAGE_FIELDS) <= set(body) and body["language"] == "en"
    # the ticket_triage asset's own triage (core/triage.py, triage.yaml, routing.yaml), offline here
    taxonomy, routing = load_taxonomy(), load_routing()
    assert body["triage_source"] == "offline" and body["category"] in [c.name for c in taxonomy.categories]
    assert body["urgency"] in ("P1", "P2", "P3", "P4") and isinstance(body["escalation"], bool)
    lane = routing.route(body["category"])
    assert body["assigned_team"] in (lane.team, lane.escalation_team)
    assert body["sla_hours"] == lane.sla_hours[body["urgency"]] and -1 <= body["sentiment"] <= 1
    assert body["similar"][0]["ticket_id"] == "zendesk:1"
    assert set(body["similar"][0]) == {"ticket_id", "similarity", "text", "resolution", "related"}
    assert body["similar"][0]["resolution"] == KB[0][2]


def test_a_message_with_nothing_to_read_needs_review_and_is_like_no_resolved_ticket(server):
    url, _ = server
    body = post(url, {"text": "Hi there!", "customer_id": "c-3"}).json()
    assert body["needs_review"] is True and body["similar"] == []


def test_an_angry_customer_is_escalated_to_the_categorys_escalation_team(server):
    url, _ = server
    r = post(url, {"text": "Two weeks without an answer, this is ridiculous. Refund me or I cancel my "
                           "subscription and call my lawyer.", "customer_id": "c-2"})
    body = r.json()
    assert r.status_code == 200 and body["escalation"] is True and body["churn_risk"] == "high"
    assert {"churn", "legal_threat", "refund_chargeback"} <= set(body["escalation_signals"])
    assert body["assigned_team"] == load_routing().route(body["category"]).escalation_team


def test_a_zendesk_event_signed_the_zendesk_way_never_lists_itself(server):
    import base64
    import hashlib
    import hmac

    url, _ = server
    doc = {"type": "zen:event-type:ticket.created", "detail": {"id": "1", "description": "card declined at the shop",
                                                                "requester_id": "77"}}
    body, stamp = json.dumps(doc).encode(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    r = post(url, body, {"X-Zendesk-Webhook-Signature": signature,
                         "X-Zendesk-Webhook-Signature-Timestamp": stamp}, signed=False)
    assert r.status_code == 200, r.text
    assert r.json()["ticket_id"] == "zendesk:1" and "zendesk:1" not in [m["ticket_id"] for m in r.json()["similar"]]


@pytest.mark.parametrize(("doc", "signed", "status", "message"), [
    ({"text": "hello"}, False, 401, "unsigned request"),
    (b"{not json", True, 400, "not valid JSON"),
    (b"", True, 400, "empty"),
    ({"hello": "world"}, True, 422, "unrecognised payload"),
    ({"text": "x" * (MAX_BYTES + 10)}, True, 413, "larger than 4096 bytes"),
    (b"[" * 2000 + b"]" * 2000, True, 400, "nested too deeply"),  # a 500 and a traceback before
    ({"type": "notification_event", "topic": "conversation.user.created", "data": "x"}, True, 422, '"data" must be'),
])
def test_bad_requests_get_a_clear_4xx_and_the_server_lives_on(server, doc, signed, status, message):
    url, _ = server
    r = post(url, doc, signed=signed)
    assert r.status_code == status and message in r.json()["error"]
    assert httpx.get(url + "/health", timeout=5).json()["knowledge_base"] == len(KB)


def test_a_helpdesk_without_a_reader_is_triaged_through_its_mapping(server):
    """Help Scout's `convo.created` body and a home-grown desk's were refused as unrecognised though
    ingest read their exports by the team's mappings: now read by them, signed and redacted as any."""
    url, log = server
    r = post(url, HELPSCOUT_CREATED, query="?mapping=helpscout_webhook")
    assert r.status_code == 200 and r.json()["ticket_id"] == "helpscout:291938"
    assert r.json()["customer_id"] == pseudonymize("bear@acme.com")  # the conversation's, above its threads
    assert r.json()["similar"][0]["ticket_id"] == "zendesk:1"  # "My card was declined at the supermarket"
    desk = post(url, DESKLY_NEW).json()  # no ?mapping: the mapping whose `detect` its keys match
    assert desk["source"] == "deskly" and desk["customer_id"].startswith("email:") and desk["category"]
    reply = post(url, DESKLY_REPLY)
    assert reply.status_code == 200 and reply.json()["status"] == "ignored"
    assert post(url, {"hello": "world"}, signed=False).status_code == 401  # signatures apply unchanged
    unknown = post(url, DESKLY_NEW, query="?mapping=front")
    assert unknown.status_code == 422 and "deskly, github_issues, helpscout_webhook, twcs" in unknown.json()["error"]
    assert "jane" not in log.read_text().lower() and "bear@acme" not in log.read_text()


def test_a_wrong_signature_and_the_wrong_method_are_refused(server):
    url, _ = server
    assert post(url, {"text": "hi"}, {"X-Ticket-Intel-Signature": "sha256=00"}, signed=False).status_code == 401
    assert httpx.get(url + "/triage", timeout=5).status_code == 405


def test_intercom_ping_is_answered_without_triage(server):
    url, _ = server
    r = post(url, {"type": "notification_event", "topic": "ping", "data": {"item": {"type": "ping"}}})
    assert r.status_code == 200 and r.json()["status"] == "pong"


def test_personal_data_never_reaches_the_log(server):
    url, log = server
    r = post(url, {"text": "I am Jane Doe, jane.doe@example.com, card 4111 1111 1111 1111 declined", "customer_id": "jane@x.io"})
    assert r.status_code == 200 and r.json()["customer_id"].startswith("email:")
    text = log.read_text()
    assert "triaged" in text and "jane" not in text.lower()
    assert "4111 1111" not in text and "4111111111111111" not in text  # the card (a pid may hold "4111")


def test_with_an_llm_a_repeated_message_is_paid_once_and_a_day_spends_at_most_its_limit(tmp_path, monkeypatch):
    """A helpdesk's webhook fires again on every update of a ticket: the same message is answered from
    the server's memory. Once the day's answers cost TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY, the
    provider is not asked again that day and requests get the offline triage."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    answer = json.dumps({"category": "how-to", "subcategory": "feature usage", "severity": "P3", "sentiment": 0.1,
                         "frustration": "low", "escalation_signals": [], "summary": "Wants statements as PDF.",
                         "goal": "Export statements.", "confidence": 0.8})
    question = {"text": "How do I download my statements as a PDF?", "customer_id": "c-1"}
    days = {datetime.now(UTC).date().isoformat()}  # and the day the requests end in, should midnight pass
    with serve_fake(FakeOpenAI(reply=lambda messages: answer)) as provider, running_server(tmp_path, {
            "TICKET_INTEL_LLM_MODEL": MODEL, "TICKET_INTEL_LLM_API_BASE": provider.url + "/v1",
            "TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY": "0.000001"}) as (url, log):
        first, again = post(url, question).json(), post(url, question).json()
        other = post(url, {"text": "My card was declined twice at the supermarket", "customer_id": "c-2"}).json()
    assert first["triage_source"] == again["triage_source"] == f"llm:{MODEL}"
    assert first["summary"] == again["summary"] == "Wants statements as PDF." and len(provider.requests) == 1
    assert other["triage_source"] == "offline" and other["summary"] is None and set(TRIAGE_FIELDS) <= set(other)
    days.add(datetime.now(UTC).date().isoformat())
    logged = log.read_text()
    assert any(f"LLM not called until the day ends: the LLM answers of {day} cost $0.0000" in logged for day in days)
    assert "at most $0.000001 of LLM answers a day (TICKET_INTEL_SERVE_LLM_MAX_COST_USD_PER_DAY)" in logged
    assert "supermarket" not in logged and "statements" not in logged


def test_web_pages_and_other_host_names_are_refused_and_ids_never_forge_log_lines(server):
    """A page on another site posted text/plain and was triaged; a request for Host attacker.example
    (a rebound DNS name) read the knowledge base; an id holding a newline forged a log line; a
    number of 5,000 digits was an HTTP 500."""
    url, log = server
    r = post(url, {"text": "card declined"}, {"origin": "https://evil.example"})
    assert r.status_code == 403 and "web pages" in r.json()["error"]
    r = post(url, {"text": "card declined"}, {"host": "attacker.example"})
    assert r.status_code == 400
    from ticket_intel.adapters.server import _json

    with pytest.raises(RequestError, match="not valid JSON"):  # past the test server's body limit
        _json(b'{"text": "card declined", "customer_id": ' + b"9" * 5000 + b"}")
    doc = {"type": "zen:event-type:ticket.created", "detail": {"id": "7\nFORGED admin login ok", "description": "hi, card declined"}}
    assert post(url, doc).status_code == 200
    assert "FORGED" not in log.read_text() and "a zendesk ticket" in log.read_text()

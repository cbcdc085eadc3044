"""The knowledge base: which tickets are resolved, which wait for a reply, and their resolutions."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from ticket_intel.core.knowledge import awaiting_reply, is_resolved, knowledge_base, needs_reply, reply_text
from ticket_intel.core.redact import RedactionSettings

WEEK = date(2026, 9, 7)


def _tickets(*rows: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame([{"ticket_id": t, "week_start": WEEK, "status": s, "text": f"text of {t}",
                          "text_hash": f"h-{t}"} for t, s in rows],
                        columns=["ticket_id", "week_start", "status", "text", "text_hash"])


def _replies(*rows: tuple[str, str, bool, int]) -> pd.DataFrame:
    return pd.DataFrame([{"ticket_id": t, "reply_id": f"r{i}", "reply_at": datetime(2026, 9, 8, hour), "text": text,
                          "is_public": public} for i, (t, text, public, hour) in enumerate(rows)],
                        columns=["ticket_id", "reply_id", "reply_at", "text", "is_public"])


@pytest.mark.parametrize(("status", "replies", "resolved"), [
    ("solved", 1, True), ("Closed", 2, True), ("resolved", 1, True),
    ("solved", 0, False),  # nobody answered in public: nothing to learn from
    ("open", 1, False), ("pending", 3, False), ("snoozed", 1, False),
    (None, 1, True),  # a source without status (twcs): a public answer is the evidence
    (None, 0, False), ("", 1, True),
])
def test_resolved_by_status_or_by_a_public_answer_where_there_is_no_status(status, replies, resolved):
    assert is_resolved(status, replies) is resolved


@pytest.mark.parametrize(("status", "replies", "waiting"), [
    ("new", 0, True), ("open", 2, True), ("pending", 1, False), ("hold", 0, False), ("snoozed", 0, False),
    ("solved", 0, False), ("closed", 1, False), (None, 0, True), (None, 1, False),
])
def test_a_ticket_needs_a_reply_when_it_waits_for_the_company(status, replies, waiting):
    assert needs_reply(status, replies) is waiting


def test_resolution_is_every_public_reply_in_order_redacted_and_internal_notes_never_enter():
    tickets = _tickets(("zendesk:1", "solved"), ("zendesk:2", "open"), ("twcs:3", None), ("twcs:4", None))
    replies = _replies(
        ("zendesk:1", "Second: it is fixed now.", True, 12),
        ("zendesk:1", "<p>First: write to jane.doe@example.com</p>", True, 9),
        ("zendesk:1", "Internal: customer is on the old plan", False, 10),
        ("zendesk:2", "We are looking into it", True, 9),
        ("twcs:3", "@115712 Please DM us your order number", True, 9),
    )
    kb = knowledge_base(tickets, replies, RedactionSettings())
    assert sorted(kb["ticket_id"]) == ["twcs:3", "zendesk:1"]
    row = kb.set_index("ticket_id").loc["zendesk:1"]
    assert row["resolution"] == "First: write to [EMAIL]\n\nSecond: it is fixed now."
    assert "Internal" not in row["resolution"]
    assert row["public_replies"] == 2 and row["resolved_at"] == datetime(2026, 9, 8, 12)
    assert row["text_hash"] == "h-zendesk:1" and row["status"] == "solved"


def test_a_resolved_status_without_replies_and_an_empty_batch_give_an_empty_knowledge_base():
    assert knowledge_base(_tickets(("zendesk:1", "solved")), _replies(), RedactionSettings()).empty
    assert knowledge_base(_tickets(), _replies(), RedactionSettings()).empty


def test_a_resolved_ticket_with_nothing_to_read_asks_nothing_to_be_matched():
    tickets = _tickets(("zendesk:1", "solved"), ("zendesk:2", "solved"), ("zendesk:3", "solved")).assign(
        meaning_text=["My card was declined", "", None])  # a call's record; None: from before texts for meaning
    replies = _replies(*((t, "Please try again now.", True, 9) for t in ("zendesk:1", "zendesk:2", "zendesk:3")))
    assert sorted(knowledge_base(tickets, replies, RedactionSettings())["ticket_id"]) == ["zendesk:1", "zendesk:3"]


def test_awaiting_reply_picks_open_tickets_and_unanswered_ones_without_status():
    tickets = _tickets(("zendesk:1", "solved"), ("zendesk:2", "open"), ("twcs:3", None), ("twcs:4", None))
    replies = _replies(("twcs:3", "on it", True, 9))
    assert awaiting_reply(tickets, replies)["ticket_id"].tolist() == ["zendesk:2", "twcs:4"]


def test_reply_text_keeps_paragraphs_and_drops_quoted_mail():
    body = "<p>Hi Sam,</p><p>Reset   it from  Settings.</p><p>Thanks</p>\nOn Mon, Sam wrote:\n> help"
    assert reply_text(body) == "Hi Sam,\n\nReset it from Settings."  # the sign-off is the agent's, not the answer

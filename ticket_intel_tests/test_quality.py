"""Great-expectations suites and the PII check: each expectation fails on the defect it guards."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from ticket_intel import settings
from ticket_intel.core import quality
from ticket_intel.core.policy import PlanPolicy

NOW = datetime(2026, 11, 23)
PLANS = PlanPolicy.parse(settings.BY_ENV["TICKET_INTEL_PLAN_WEIGHTS"].default).allowed


def _raw(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({
        "ticket_id": ["z:1", "z:2", "z:3"],
        "created_at": [datetime(2026, 9, 1), datetime(2026, 10, 1), datetime(2026, 11, 1)],
        "message": ["card declined", "top up failed", "app crash"],
        "plan": ["free", None, "enterprise"],
    })
    for column, values in overrides.items():
        frame[column] = values
    return frame


@pytest.fixture(scope="module")
def good_outcome():
    return quality.raw_tickets_suite(_raw(), PLANS, now=NOW)


def test_raw_suite_passes_on_clean_tickets(good_outcome):
    assert good_outcome.passed, good_outcome.details
    assert good_outcome.description == "7/7 expectations met"


def test_raw_suite_names_every_defect():
    bad = _raw(
        ticket_id=["z:1", "z:1", None],
        created_at=[datetime(1999, 1, 1), datetime(2030, 1, 1), datetime(2026, 1, 1)],
        message=["", "ok", "ok"],
        plan=["free", "enterprize", None],
    )
    outcome = quality.raw_tickets_suite(bad, PLANS, now=NOW)
    assert not outcome.passed
    assert set(outcome.details["failed"]) == {
        "expect_column_values_to_not_be_null(ticket_id)",
        "expect_column_values_to_be_unique(ticket_id)",
        "expect_column_values_to_be_between(created_at)",
        "expect_column_values_to_be_between(message_length)",
        "expect_column_values_to_be_in_set(plan)",
    }


def test_exports_readable_names_what_could_not_be_read():
    assert quality.exports_readable([("a.csv", None), ("b.json", None)]).description == "all 2 exports read"
    failed = quality.exports_readable([("a.csv", None), ("crm.csv", "no profile matches its columns")])
    assert not failed.passed and failed.description == "1 of 2 exports unreadable: crm.csv: no profile matches its columns"


def test_the_commonest_rejection_reasons_count_reasons_that_differ_only_in_their_values_as_one():
    reasons = pd.DataFrame({
        "source_file": ["/in/b.csv", "/in/a.csv", "/in/a.csv"],
        "kind": ["created_at is …", "created_at is …", "no message"],
        "reason": ["created_at is '2017-10-17 BST'", "created_at is '2017-10-16 BST'", "no message"],
        "records": [40, 58, 3]})
    assert quality.commonest_reasons(reasons) == [
        "98 × created_at is '2017-10-16 BST' (a.csv and 1 other file)", "3 × no message (a.csv)"]
    assert quality.commonest_reasons(reasons, 1) == ["98 × created_at is '2017-10-16 BST' (a.csv and 1 other file)"]
    assert quality.commonest_reasons(reasons.iloc[:0]) == []


def test_rejection_rate_ceiling():
    assert quality.rejection_rate(90, 10, 0.1).passed
    failed = quality.rejection_rate(80, 21, 0.2)
    assert not failed.passed and "21 of 101" in failed.description
    assert quality.rejection_rate(0, 0, 0.2).passed


def test_redacted_suite_and_pii_check():
    good = pd.DataFrame({"ticket_id": ["a", "b"], "text": ["card [CARD] declined", "hi"],
                         "subject": [None, "x"], "text_hash": ["0" * 64, "f" * 64]})
    assert quality.redacted_tickets_suite(good).passed
    bad = good.assign(text_hash=["nothex", None], text=["", "x" * 200_000])
    failed = quality.redacted_tickets_suite(bad)
    assert set(failed.details["failed"]) == {
        "expect_column_values_to_not_be_null(text_hash)",
        "expect_column_values_to_be_between(text_length)",
        "expect_column_values_to_match_regex(text_hash)",
    }
    assert quality.pii_survivors(good).passed
    leaky = good.assign(subject=["mail ana@example.org", None], text=["card 4127 0034 2389 9024", "ok"])
    outcome = quality.pii_survivors(leaky)
    assert not outcome.passed
    assert outcome.details["tickets_with_pii"] == {"a": ["CARD", "EMAIL"]}
    assert "ana@example.org" not in str(outcome.details)

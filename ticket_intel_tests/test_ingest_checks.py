"""Asset checks in Dagster: suites report on raw and redacted tickets, and a failing no-PII check
blocks the embeddings (and everything after them) in the same run."""

from __future__ import annotations

import json
import os
import re
import shutil

import dagster as dg
import pandas as pd
import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.core.sources import SET_ASIDE
from ticket_intel.defs.ingest import _files_table

WEEK = "2026-08-31"


@pytest.fixture
def tiny_inbox(tmp_path, monkeypatch):
    doc = json.loads((PROJECT_ROOT / "data" / "sample" / "zendesk_tickets.json").read_text())
    first_week = [t for t in doc["tickets"] if isinstance(t, dict) and str(t.get("created_at", "")).startswith("2026-09-0")]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    leak = dict(first_week[0], id=999001, comments=[], description="Refund to ana.silva@example.org please, card 4127-0034-2389-9024")
    (inbox / "zendesk.json").write_text(json.dumps({"tickets": [*first_week[:12], leak]}))
    monkeypatch.setenv("TICKET_INTEL_INBOX", str(inbox))
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    os.makedirs(tmp_path / "home")
    return tmp_path


def _leaky_redactor(raw: pd.DataFrame, settings, embed_chars: int = 1500) -> pd.DataFrame:
    """A broken redactor: passes the message through untouched."""
    from ticket_intel.core.embed import text_hash

    out = raw[["ticket_id", "week_start", "created_at", "source", "customer_id", "account_id", "plan",
               "monthly_revenue", "channel", "tags", "priority", "subject"]].copy()
    out["text"] = raw["message"]
    out["text_hash"] = [text_hash(t) for t in out["text"]]
    out["n_chars"] = out["text"].str.len()
    out["embed_chars"] = out["n_chars"].clip(upper=embed_chars)
    out["pii_found"] = "{}"
    return out


def test_failed_pii_check_blocks_embeddings(tiny_inbox, monkeypatch):
    from ticket_intel.defs import redaction
    from ticket_intel.defs.embeddings import ticket_embeddings
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    monkeypatch.setattr(redaction, "redact_tickets", _leaky_redactor)
    with dg.instance_for_test(temp_dir=str(tiny_inbox / "home")) as instance:
        result = dg.materialize(
            [raw_tickets, redaction.redacted_tickets, ticket_embeddings], partition_key=WEEK,
            resources=build_resources(), instance=instance, raise_on_error=False,
        )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["no_pii_survives"].passed is False
    assert checks["no_pii_survives"].severity == dg.AssetCheckSeverity.ERROR
    assert {"raw_tickets_expectations", "rejection_rate", "redacted_tickets_expectations"} <= set(checks)
    assert checks["raw_tickets_expectations"].passed and checks["rejection_rate"].passed
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()
                    for m in [m.event_specific_data.materialization]}
    assert materialized == {"raw_tickets", "redacted_tickets"}
    executed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "ticket_embeddings" not in executed


def test_redaction_metadata_tallies_the_pii_it_replaced(tiny_inbox):
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.redaction import redacted_tickets
    from ticket_intel.defs.resources import build_resources

    with dg.instance_for_test(temp_dir=str(tiny_inbox / "home")) as instance:
        result = dg.materialize([raw_tickets, redacted_tickets], partition_key=WEEK,
                                resources=build_resources(), instance=instance)
    meta = result.asset_materializations_for_node("redacted_tickets")[0].metadata
    replaced = meta["pii_replaced"].value
    assert replaced["EMAIL"] >= 1 and replaced["CARD"] >= 1
    assert all(isinstance(n, int) and n > 0 for n in replaced.values())
    assert meta["tickets_with_pii"].value >= 1
    assert next(e for e in result.get_asset_check_evaluations() if e.check_name == "no_pii_survives").passed


def test_sound_records_set_aside_are_no_rejection_rate(tiny_inbox):
    """An export with years of history before the first partition is sound, and so is an earlier
    export of a ticket since updated, a campaign no customer answered, and out-of-office replies: each
    is counted apart,
    and the rejection-rate check (malformed records) passes."""
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.partitions import weekly
    from ticket_intel.defs.resources import build_resources

    path = tiny_inbox / "inbox" / "zendesk.json"
    doc = json.loads(path.read_text())
    before = weekly.start.replace(year=weekly.start.year - 1).strftime("%Y-%m-%dT09:00:00Z")
    old = [dict(doc["tickets"][0], id=998000 + i, created_at=before, updated_at=before) for i in range(20)]
    path.write_text(json.dumps({"tickets": [*doc["tickets"], *old]}))
    earlier = dict(doc["tickets"][1], subject="an earlier version, exported before it was updated")
    (tiny_inbox / "inbox" / "a_earlier.json").write_text(json.dumps({"tickets": [earlier]}))  # sorts first
    # An Intercom workspace's campaign, never answered: our words, not a customer's, and no broken export.
    campaign = [{"type": "conversation", "id": f"c{i}", "created_at": before.replace(str(weekly.start.year - 1),
                 str(weekly.start.year)), "source": {"body": "<p>New: instant transfers!</p>",
                                                     "author": {"type": "admin", "id": "a1"}}} for i in range(20)]
    (tiny_inbox / "inbox" / "campaign.json").write_text(json.dumps({"type": "conversation.list",
                                                                   "conversations": campaign}))
    # Out-of-office replies and bounces that became tickets: mail systems' words, not customers'.
    in_week = doc["tickets"][0]["created_at"]
    automatic = [dict(doc["tickets"][0], id=997000 + i, created_at=in_week, comments=[], **(
        {"subject": "Automatic reply: Your request", "description": "Thanks for your message."} if i % 2 else
        {"subject": "Re: card", "description": "I am out of the office until 3 March, back then."})) for i in range(6)]
    (tiny_inbox / "inbox" / "ooo.json").write_text(json.dumps({"tickets": automatic}))
    with dg.instance_for_test(temp_dir=str(tiny_inbox / "home")) as instance:
        result = dg.materialize([raw_tickets], partition_key=WEEK, resources=build_resources(), instance=instance)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    meta = result.asset_materializations_for_node("raw_tickets")[0].metadata
    assert checks["rejection_rate"].passed, checks["rejection_rate"].description
    assert (meta["rejected_rows"].value, meta["early_rows"].value, meta["superseded_rows"].value) == (0, 20, 1)
    assert (meta["unanswered_rows"].value, meta["automatic_rows"].value) == (20, 6)
    assert "| zendesk.json | zendesk | 13 | 0 | 20 | 0 |" in meta["files"].value
    assert "| a\\_earlier.json | zendesk | 0 | 0 | 0 | 1 |" in meta["files"].value  # escaped: `_` is emphasis


def test_the_ui_s_files_table_says_which_rows_were_skipped():
    """The run's line said Swift's 4,683 skipped rows were the swift-ci bot's; the UI's table showed 4683."""
    from ticket_intel.core.sources import SET_ASIDE
    from ticket_intel.defs.ingest import _files_table

    files = pd.DataFrame([{"source_file": "/in/swiftlang_swift.csv", "profile": "github_issues", "accepted": 8369,
                           "rejected": 0, **dict.fromkeys(SET_ASIDE, 0), "skipped": 4683,
                           "skipped_kinds": '{"bot:swift-ci": 4683}', "repeated": 0, "out_of_range": 0, "error": None},
                          {"source_file": "/in/old.csv", "profile": "twcs", "accepted": 1, "rejected": 0,
                           **dict.fromkeys(SET_ASIDE, 0), "skipped": 7, "skipped_kinds": None, "repeated": 0,
                           "out_of_range": 0, "error": None}])
    table = _files_table(files)
    assert "| 4683 written by bots (swift-ci) |" in table
    assert "| 7 not tickets (replies, " in table  # written before the kinds were counted


def test_an_unreadable_export_is_named_by_a_check(tiny_inbox):
    """A file no profile reads counted as one rejected record among thousands, and every check stayed
    green; an accounts file's rows counted among the ticket records the rate is a share of."""
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    (tiny_inbox / "inbox" / "crm_dump.csv").write_text("foo,bar,baz\n1,2,3\n")
    shutil.copy(PROJECT_ROOT / "data" / "sample" / "accounts.csv", tiny_inbox / "inbox")
    with dg.instance_for_test(temp_dir=str(tiny_inbox / "home")) as instance:
        result = dg.materialize([raw_tickets], partition_key=WEEK, resources=build_resources(), instance=instance)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["exports_readable"].passed
    assert checks["exports_readable"].description.startswith("1 of ") and "crm_dump.csv: " in checks["exports_readable"].description
    assert checks["exports_readable"].severity == dg.AssetCheckSeverity.WARN
    rate = checks["rejection_rate"].metadata["details"].value
    assert rate["accepted"] == 13  # the zendesk export's tickets, none of the accounts file's rows



def test_the_files_table_keeps_its_columns_whatever_a_file_is_named():
    """raw_tickets' table in the UI: a file named `a|b <img src=x>.csv` showed as file `a`, profile
    `b .csv`, every count one column off and its error lost."""
    files = pd.DataFrame([{"source_file": "/in/a|b <img src=x>.csv", "profile": None, "accepted": 0, "rejected": 0,
                           **dict.fromkeys(SET_ASIDE, 0), "skipped": 0, "repeated": 0, "out_of_range": 0,
                           "error": "unrecognised columns: x|y, *z*"}])
    rows = _files_table(files).splitlines()
    cells = len(re.findall(r"(?<!\\)\|", rows[0]))
    assert [len(re.findall(r"(?<!\\)\|", row)) for row in rows] == [cells] * 3
    assert rows[2].startswith("| a\\|b \\<img src=x\\>.csv | – | 0 |")
    assert rows[2].endswith("| unrecognised columns: x\\|y, \\*z\\* |")

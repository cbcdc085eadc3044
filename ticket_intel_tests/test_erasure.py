"""Erasure of one customer (GDPR Art. 17): there was no way to do it, and the workaround (remove the
tickets from the exports, run again, prune) left their quotes in summaries, alerts and reports, their
ids in theme records, their vectors in the cache, their bytes in the file and their report in the
Dagster event log (privacy review). `ticket-intel erase` removes every trace from the warehouse and
denylists the tickets; the event log never holds ticket text or ids."""

from __future__ import annotations

import glob
import hashlib
import json
import re
import shutil
import sqlite3

import duckdb
import pytest
from click.testing import CliRunner

from ticket_intel import warehouse as wh
from ticket_intel.adapters.llm import completer
from ticket_intel.cli import main, run_pipeline
from ticket_intel.core.erasure import ERASED, Sources, scrub_list, scrub_text
from ticket_intel.core.llm import LLMCache
from ticket_intel.core.triage import triage_one
from ticket_intel.core.triage_config import load_routing, load_taxonomy
from ticket_intel.core.triage_llm import llm_triage
from ticket_intel.warehouse.access import snapshot_path
from ticket_intel.warehouse.erasure import erase
from ticket_intel.warehouse.retention import retain
from ticket_intel_tests.conftest import copy_run
from ticket_intel_tests.test_retention_by_age import (
    PLANTED,
    WEEKS,
    _no_run,
    _warehouse,
    lake_traces,
    postgres_lake,
)
from ticket_intel_tests.test_triage_llm import MODEL, answer


def _copy(sample_run, tmp_path, monkeypatch):
    """`copy_run` with the snapshot and the report files too."""
    copy = copy_run(sample_run, tmp_path, monkeypatch)
    shutil.copy(snapshot_path(sample_run.warehouse), snapshot_path(copy.warehouse))
    shutil.copytree(sample_run.reports, copy.reports)
    return copy


def _quoted_customer(path) -> tuple[str, list[str], list[str]]:
    """The customer of an example ticket of the latest week's top theme (its words are quoted in the
    summary), their ticket ids and the texts no other ticket has."""
    with duckdb.connect(str(path), read_only=True) as con:
        example = con.execute("SELECT example_ticket_ids[1] FROM marts.ranked_themes WHERE week_start = "
                              "(SELECT max(week_start) FROM marts.ranked_themes) ORDER BY rank LIMIT 1").fetchone()[0]
        customer = con.execute("SELECT customer_id FROM raw.tickets WHERE ticket_id = ?", [example]).fetchone()[0]
        tickets = [r[0] for r in con.execute("SELECT ticket_id FROM raw.tickets WHERE customer_id = ?", [customer]).fetchall()]
        texts = [r[0] for r in con.execute(
            "SELECT text FROM staging.redacted_tickets r WHERE customer_id = $c AND length(text) >= 20 AND NOT EXISTS "
            "(SELECT 1 FROM staging.redacted_tickets o WHERE o.customer_id <> $c AND o.text = r.text)",
            {"c": customer}).fetchall()]
    return customer, tickets, texts


def _traces(path, needles: list[str]) -> list[str]:
    """Every table and text column of the warehouse where one of `needles` occurs (an id whole)."""
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
                              "WHERE data_type LIKE 'VARCHAR%'").fetchall()
        for table, column in columns:
            for needle in needles:
                pattern = f"(^|[^0-9A-Za-z]){re.escape(needle)}([^0-9A-Za-z]|$)"
                if con.execute(f'SELECT count(*) FROM {table} WHERE regexp_matches(CAST("{column}" AS VARCHAR), ?)',
                               [pattern]).fetchone()[0]:
                    found.append(f"{table}.{column}: {needle[:40]}")
    return found


@pytest.mark.e2e
def test_erase_leaves_no_trace_of_the_customer_in_any_table_the_file_or_the_reports(sample_run, tmp_path, monkeypatch):
    run = _copy(sample_run, tmp_path, monkeypatch)
    customer, tickets, texts = _quoted_customer(run.warehouse)
    needles = [customer, *tickets, *texts]
    assert texts and _traces(run.warehouse, needles)  # the customer is there, and quoted
    quoted = [t for t in texts if any(t[:60] in p.read_text(encoding="utf-8") for p in run.reports.glob("*.md"))]
    assert quoted  # the report quotes them

    result = CliRunner().invoke(main, ["erase", "--warehouse", str(run.warehouse), "--customer", customer])
    assert result.exit_code == 0, result.output
    assert f"erased {len(tickets)} tickets of 1 customers" in result.output and "  raw.tickets: " in result.output

    assert _traces(run.warehouse, needles) == []
    for file in (run.warehouse, snapshot_path(run.warehouse), *run.reports.iterdir()):
        held = file.read_bytes()
        assert not [n for n in needles if n.encode() in held], file  # compacted: no deleted row's bytes either
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.weekly_reports WHERE markdown LIKE ?",
                           [f"%{ERASED}%"]).fetchone()[0] == 0  # written again from what stays, not patched
        assert con.execute("SELECT count(*) FROM ops.erased_tickets").fetchone()[0] == len(tickets)


@pytest.mark.e2e
def test_an_erased_ticket_is_not_ingested_again_from_an_export_that_still_holds_it(sample_run, tmp_path, monkeypatch):
    run = _copy(sample_run, tmp_path, monkeypatch)
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        ticket, week = con.execute("SELECT ticket_id, week_start FROM raw.tickets ORDER BY created_at DESC "
                                   "LIMIT 1").fetchone()
    assert CliRunner().invoke(main, ["erase", "--warehouse", str(run.warehouse), "--ticket", ticket]).exit_code == 0

    run_pipeline(run.inbox, run.warehouse, f"{week}..{week}")  # the export in the inbox still holds it

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.tickets WHERE week_start = ?", [week]).fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM raw.tickets WHERE ticket_id = ?", [ticket]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM staging.redacted_tickets WHERE ticket_id = ?", [ticket]).fetchone()[0] == 0


@pytest.mark.e2e
def test_a_dry_run_says_what_would_go_per_table_and_changes_nothing(sample_run, tmp_path, monkeypatch):
    run = _copy(sample_run, tmp_path, monkeypatch)
    customer, tickets, _ = _quoted_customer(run.warehouse)
    files = [run.warehouse, snapshot_path(run.warehouse), *sorted(run.reports.iterdir())]
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]

    result = CliRunner().invoke(main, ["erase", "--warehouse", str(run.warehouse), "--customer", customer,
                                       "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    said = json.loads(result.output[result.output.index("{"):])
    assert said["dry_run"] and said["tickets"] == len(tickets) and said["rows"]["raw.tickets"] == len(tickets)
    assert said["rows"]["marts.theme_customers"] >= 1 and said["report_weeks"]
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == before
    assert _traces(run.warehouse, [customer, *tickets])


def test_erase_on_a_postgres_ducklake_leaves_no_trace_in_its_data_files_or_catalog(tmp_path, postgres_db, monkeypatch):
    """On a DuckLake the erase committed (rows by rowid included) but its bytes stayed: 10 of the 19
    parquet files of the crafted sample's lake still held the erased ticket ids, the catalog its inlined
    rows, as the rows deleted are only marked so until their files are rewritten."""
    from ticket_intel.warehouse.retention import drop_deleted_bytes

    lake = postgres_lake(tmp_path, postgres_db, monkeypatch)
    needles = [PLANTED["fd:3"], "fd:3"]
    before = lake_traces(tmp_path / "lake_files", postgres_db, needles)
    assert before["files"] and before["catalog"]  # in a parquet file and inlined in the catalog
    with wh.open_warehouse(lake) as con:
        assert erase(con, ["c3"], [], 8, tmp_path / "reports").tickets == ["fd:3"]
    drop_deleted_bytes(lake)

    assert lake_traces(tmp_path / "lake_files", postgres_db, needles) == {"files": [], "catalog": []}
    with wh.open_warehouse(lake, read_only=True) as con:
        assert con.execute("SELECT summary FROM marts.ranked_themes WHERE week_start = ?", [WEEKS[3]]).fetchone()[0] \
            == f"typically: “{ERASED}”"
        assert con.execute("SELECT count(*) FROM raw.tickets").fetchone()[0] == 29


def test_erasing_an_unknown_customer_exits_66_with_the_reason(tmp_path):
    path = _warehouse(tmp_path)
    for asked in (["--customer", "c-nobody"], ["--email", "Nobody@Example.com"], ["--ticket", "fd:999"]):
        result = CliRunner().invoke(main, ["erase", "--warehouse", str(path), *asked])
        assert result.exit_code == 66, result.output
        assert "no ticket in this warehouse belongs to" in result.output
    email = CliRunner().invoke(main, ["erase", "--warehouse", str(path), "--email", "Nobody@Example.com"])
    assert "customer email:" in email.output and "Nobody@Example.com" not in email.output  # looked up as pseudonymized
    assert CliRunner().invoke(main, ["erase", "--warehouse", str(path)]).exit_code == 2  # nothing named
    with wh.open_warehouse(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.tickets").fetchone()[0] == 10


def test_erase_and_retention_delete_the_cached_llm_answers_asked_about_their_tickets(tmp_path):
    """ops.llm_cache keeps each answer by its prompt's hash, which names nobody: erase could not find a
    customer's prompts and answers there, and retention left them (the docs said: clear the table).
    Each answer records the tickets its prompt held (here a triage asked through litellm's
    mock_response); erase and retention delete those of the tickets they delete, and the answers
    written before that was recorded, which none can tell."""
    path, (taxonomy, routing) = _warehouse(tmp_path), (load_taxonomy(), load_routing())

    def recorded(con) -> list:
        return [r[0] for r in con.execute("SELECT ticket_ids FROM ops.llm_cache ORDER BY ticket_ids").fetchall()]

    with wh.open_warehouse(path) as con:
        cache = LLMCache(lambda key: wh.llm_cached(con, key),
                         lambda key, said, tickets: wh.llm_store(con, key, MODEL, said, tickets))
        for tid in ("fd:1", "fd:3", "fd:5"):  # fd:1 in a week retention deletes
            text = f"My card payment {tid} was declined at the shop"
            offline = {**triage_one(text, taxonomy, routing), "ticket_id": tid}
            llm_triage(text, offline, taxonomy, routing, MODEL, cache, completer(MODEL, {"mock_response": answer()}))
        con.execute("INSERT INTO ops.llm_cache (prompt_hash, model, response) VALUES ('older', ?, '{}')", [MODEL])
        assert recorded(con) == [["fd:1"], ["fd:3"], ["fd:5"], None]
        e = erase(con, [], ["fd:3"], 8, tmp_path / "reports")
        assert e.rows["ops.llm_cache"] == 2 and recorded(con) == [["fd:1"], ["fd:5"]]
    said = retain(path, 8, 8, tmp_path / "reports", 0, print, _no_run)
    assert "  ops.llm_cache: 1 rows" in said
    with wh.open_warehouse(path, read_only=True) as con:
        assert recorded(con) == [["fd:5"]]


def test_a_quote_of_an_erased_ticket_reads_erased_and_others_stay():
    erased = Sources.of(["Hello, my card [CARD] was charged twice for the same purchase yesterday. Please refund the "
                         "extra one."])
    summary = "3 tickets, typically: “my card [CARD] was charged twice for the same …” Another put it as: “Refund please”"
    assert scrub_text(summary, erased) == f"3 tickets, typically: “{ERASED}” Another put it as: “Refund please”"
    assert scrub_list(["Refund please", erased.copied[0]], erased) == ["Refund please", ERASED]
    draft = f"Hi, we had this before: {erased.copied[0]} Thanks"
    assert scrub_text(draft, erased) == f"Hi, we had this before: {ERASED} Thanks"
    assert scrub_text("Refund please", erased) == "Refund please"


@pytest.mark.e2e
def test_the_event_log_holds_no_customer_id_ticket_id_or_ticket_text(sample_run):
    """A real `ticket-intel run` with its own DAGSTER_HOME: every event it stored (materialization
    metadata and run logs), read from Dagster's own files."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        customers = [r[0] for r in con.execute("SELECT DISTINCT customer_id FROM marts.theme_customers").fetchall()]
        tickets = [r[0] for r in con.execute("SELECT unnest(example_ticket_ids) FROM marts.ranked_themes").fetchall()]
        texts = [r[0] for r in con.execute("SELECT text FROM staging.redacted_tickets WHERE length(text) >= 30 "
                                           "AND ticket_id IN (SELECT unnest(example_ticket_ids) FROM "
                                           "marts.ranked_themes)").fetchall()]
    events = ""
    for db in glob.glob(str(sample_run.dagster_home / "history" / "runs" / "*.db")):
        with sqlite3.connect(db) as log:
            events += "\n".join(r[0] for r in log.execute("SELECT event FROM event_logs").fetchall())
    assert "ASSET_MATERIALIZATION" in events and "markdown_sha256" in events
    found = [c for c in customers if re.search(rf"(?<![0-9A-Za-z]){re.escape(c)}(?![0-9A-Za-z])", events)]
    found += [t for t in tickets if re.search(rf"{re.escape(t)}(?![0-9])", events)]
    found += [t for t in texts if json.dumps(t[:40])[1:-1] in events]
    assert customers and tickets and texts and found == []

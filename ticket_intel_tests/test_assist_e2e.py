"""resolved_tickets and reply_drafts in the real weekly job over the bundled sample, and the
command line on that warehouse."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ticket_intel import warehouse as wh
from ticket_intel.cli import main
from ticket_intel.core.redact import surviving_pii
from ticket_intel.core.sources.base import AWAITING_AGENT, RESOLVED_STATUSES

pytestmark = pytest.mark.e2e


def _read(run, sql: str):
    with wh.open_warehouse(run.warehouse, read_only=True) as con:
        return wh.read(con, sql)


def test_knowledge_base_holds_resolved_tickets_with_redacted_public_replies(sample_run):
    kb = _read(sample_run, """SELECT k.*, t.status AS raw_status FROM staging.resolved_tickets k
                              JOIN raw.tickets t USING (ticket_id)""")
    assert len(kb) > 100 and kb["ticket_id"].is_unique
    assert set(kb["raw_status"].str.lower()) <= RESOLVED_STATUSES
    assert (kb["public_replies"] >= 1).all() and kb["resolution"].str.len().gt(0).all()
    assert not [p for text in kb["resolution"] for p in surviving_pii(text)]
    cached = _read(sample_run, """SELECT count(*) AS n FROM staging.resolved_tickets k JOIN ops.embedding_cache c
                                  ON c.model = k.model AND c.text_hash = k.text_hash""")["n"].iloc[0]
    assert cached == len(kb)  # every entry's vector is in the one embedding cache


def test_drafts_exist_for_waiting_tickets_and_cite_only_earlier_knowledge(sample_run):
    drafts = _read(sample_run, """SELECT d.*, t.status FROM marts.reply_drafts d JOIN raw.tickets t USING (ticket_id)""")
    assert len(drafts) > 20 and set(drafts["status"]) <= AWAITING_AGENT
    assert set(drafts["method"]) <= {"template", "none"}  # no LLM configured
    kb = _read(sample_run, "SELECT ticket_id, week_start FROM staging.resolved_tickets").set_index("ticket_id")
    for row in drafts[drafts["method"] == "template"].itertuples():
        assert len(row.cited_ticket_ids) == 1 and row.draft.startswith("Hello,")
        assert kb.loc[row.cited_ticket_ids[0], "week_start"] <= row.week_start


def test_similar_to_a_stored_ticket_uses_its_stored_vector_and_never_lists_it(sample_run):
    ticket = _read(sample_run, "SELECT ticket_id FROM staging.resolved_tickets ORDER BY ticket_id LIMIT 1")["ticket_id"][0]
    r = CliRunner().invoke(main, ["similar", "--warehouse", str(sample_run.warehouse), "--ticket", ticket,
                                  "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    found = json.loads(r.output)
    assert len(found) == 5 and ticket not in [m["ticket_id"] for m in found]
    r = CliRunner().invoke(main, ["draft", "--warehouse", str(sample_run.warehouse), "--ticket", ticket])
    assert r.exit_code == 0 and r.output.split("]")[0] in ("[template", "[none") and "cites:" in r.output


def test_serve_triages_a_stored_ticket_exactly_as_the_ticket_triage_asset_did(sample_run):
    from ticket_intel.adapters import encoder
    from ticket_intel.adapters.server import TRIAGE_FIELDS
    from ticket_intel.live_triage import TriageFiles, TriageRequest, live_triage
    from ticket_intel.warehouse.connection import embeddings_matrix

    rows = _read(sample_run, """SELECT t.*, r.text, e.embedding FROM marts.ticket_triage t
                                JOIN staging.redacted_tickets r USING (ticket_id, week_start)
                                JOIN staging.ticket_embeddings e USING (ticket_id, week_start)
                                WHERE t.week_start = (SELECT max(week_start) FROM marts.ticket_triage)""")
    triage = live_triage(TriageFiles(), lambda texts: encoder.encode(list(texts)))
    vectors = embeddings_matrix(rows)
    assert len(rows) > 50
    for i, row in enumerate(rows.to_dict("records")):
        served = triage(TriageRequest(row["text"], vectors[i], None, "text"))
        for field in TRIAGE_FIELDS:
            want, got = row[field], served[field]
            assert (list(got) == list(want) if field == "escalation_signals" else got == pytest.approx(want)), \
                (row["ticket_id"], field, got, want)

"""ticket_triage materialized through Dagster: marts rows per week, replaced on re-run, LLM merged."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.defs import triage as triage_defs
from ticket_intel.defs.resources import EmbeddingConfig, LLMConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel_tests.test_triage import fake_encode

WEEK = date(2026, 1, 5)
TEXTS = ["My card payment was declined again", "How do I export my invoices?",
         "Worst service ever, I want a refund and I will close my account", "Thanks, brilliant help today!"]


def build_warehouse(path: Path) -> Path:
    rows = [{"ticket_id": f"z:{w}:{i}", "week_start": WEEK + timedelta(weeks=w),
             "created_at": pd.Timestamp(WEEK + timedelta(weeks=w)), "customer_id": f"c{i}", "text": text,
             "text_hash": f"h{i}", "tags": ["billing"] if "refund" in text else []}
            for w in range(2) for i, text in enumerate(TEXTS)]
    with wh.open_warehouse(path) as con:
        wh.replace(con, [wh.Replace("staging.redacted_tickets", pd.DataFrame(rows))])
    return path


def materialize(instance, warehouse: Path, llm: LLMConfig, *upstream: dg.AssetsDefinition
                ) -> dg.ExecuteInProcessResult:
    """Triage of both weeks in one run, after the `upstream` assets given."""
    return dg.materialize(
        [*upstream, triage_defs.ticket_triage], instance=instance,
        resources={"warehouse": Warehouse(database=str(warehouse)), "triage_config": TriageConfig(),
                   "ranking": RankingConfig(), "embedding": EmbeddingConfig(), "llm": llm},
        tags={"dagster/asset_partition_range_start": WEEK.isoformat(),
              "dagster/asset_partition_range_end": (WEEK + timedelta(weeks=1)).isoformat()},
    )


def stored(path: Path) -> pd.DataFrame:
    with wh.open_warehouse(path, read_only=True) as con:
        return wh.read(con, "SELECT * FROM marts.ticket_triage ORDER BY week_start, ticket_id")


def test_each_week_is_triaged_and_replaced_on_rerun(tmp_path, instance, monkeypatch):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    result = materialize(instance, warehouse, LLMConfig())
    assert result.success
    rows = stored(warehouse)
    assert len(rows) == 2 * len(TEXTS) and set(rows["week_start"]) == {WEEK, WEEK + timedelta(weeks=1)}
    first = rows[rows["week_start"] == WEEK].set_index("ticket_id")
    assert first.loc["z:0:0", "category"] == "bug report" and first.loc["z:0:1", "category"] == "account & billing"
    angry = first.loc["z:0:2"]
    assert angry["escalated"] and set(angry["escalation_signals"]) == {"churn", "strong_negative", "refund_chargeback"}
    assert angry["churn_risk"] == "high" and angry["triage_source"] == "offline"
    assert materialize(instance, warehouse, LLMConfig()).success
    assert len(stored(warehouse)) == len(rows)  # replaced, not appended
    # each week's materialization counts that week's tickets, not the run's
    per_week = {m.partition: m.metadata for m in result.asset_materializations_for_node("ticket_triage")}
    assert {w: m["tickets"].value for w, m in per_week.items()} == {WEEK.isoformat(): len(TEXTS),
                                                                    (WEEK + timedelta(weeks=1)).isoformat(): len(TEXTS)}
    assert per_week[WEEK.isoformat()]["escalated"].value >= 1


def test_llm_answers_are_merged_into_marts(tmp_path, instance, monkeypatch):
    monkeypatch.setattr(triage_defs.encoder, "encode", lambda texts, *a, **k: fake_encode(texts))
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    answer = json.dumps({"category": "how-to", "subcategory": "feature usage", "severity": "P3", "sentiment": 0.1,
                         "frustration": "low", "escalation_signals": [], "summary": "A question.",
                         "goal": "Know how.", "confidence": 0.8})
    assert materialize(instance, warehouse, LLMConfig(model="openai/gpt-4o-mini", mock_response=answer)).success
    rows = stored(warehouse)
    assert (rows["triage_source"] == "llm:openai/gpt-4o-mini").all() and (rows["goal"] == "Know how.").all()
    angry = rows[rows["ticket_id"] == "z:0:2"].iloc[0]
    assert angry["escalated"] and "churn" in angry["escalation_signals"]  # the rules' signals stay

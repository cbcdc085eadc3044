"""theme_alerts materialized through Dagster: ops.alerts rows, per-week metadata, and the sample."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from ticket_intel import warehouse as wh
from ticket_intel.core import anomalies
from ticket_intel.core.releases import FixSettings
from ticket_intel.defs.alerts import alerts_for_week, alerts_table, theme_alerts
from ticket_intel.defs.resources import AlertConfig, FindingsConfig, RankingConfig, Warehouse

START = date(2026, 1, 5)
WEEKS = [START + timedelta(weeks=k) for k in range(7)]
# tickets per theme per week index; "T-new" is born (without ancestor) in week 5
COUNTS = {"T-steady": dict.fromkeys(range(7), 10), "T-spike": dict.fromkeys(range(6), 8) | {6: 30},
          "T-new": {5: 8, 6: 8}}
BIRTHS = {"T-steady": 0, "T-spike": 0, "T-new": 5}


def build_warehouse(path: Path, counts: dict[str, dict[int, int]] = COUNTS, births: dict[str, int] = BIRTHS) -> Path:
    """A warehouse holding just what theme_alerts reads: clusters, tickets, themes, ranking."""
    tickets = [{"ticket_id": f"{t}:{k}:{i}", "theme_id": t, "ticket_week": WEEKS[k], "customer_id": f"c-{t}-{k}-{i}"}
               for t, weeks in counts.items() for k, n in weeks.items() for i in range(n)]
    frame = pd.DataFrame(tickets)
    redacted = frame.assign(week_start=frame["ticket_week"], created_at=pd.to_datetime(frame["ticket_week"]),
                            text="my card was declined", text_hash="h")[
        ["ticket_id", "week_start", "created_at", "customer_id", "text", "text_hash"]]
    clusters, themes, ranked = [], [], []
    for k, week in enumerate(WEEKS):
        seen = frame[(frame["ticket_week"] <= week) & (frame["ticket_week"] > week - timedelta(weeks=8))]
        clusters.append(seen.assign(week_start=week, similarity=0.9, series_theme_id=seen["theme_id"])[
            ["week_start", "ticket_id", "ticket_week", "theme_id", "series_theme_id", "similarity"]])
        for rank, (t, group) in enumerate(seen[seen["ticket_week"] == week].groupby("theme_id"), start=1):
            born = births[t]
            themes.append({"week_start": week, "theme_id": t, "event": "new" if born == k else "continued",
                           "first_seen": WEEKS[born], "origin": "new", "centroid": np.zeros(4, dtype=np.float32)})
            ranked.append({"week_start": week, "rank": rank, "theme_id": t, "label": f"label {t}",
                           "tickets": len(group), "customers": group["customer_id"].nunique(),
                           "example_ticket_ids": sorted(group["ticket_id"])[:5]})
    vectors = redacted.assign(model="m", embedding=[np.ones(4, dtype=np.float32)] * len(redacted))[
        ["week_start", "ticket_id", "model", "text_hash", "embedding"]]
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, 4)
        wh.replace(con, [
            wh.Replace("staging.redacted_tickets", redacted),
            wh.Replace("staging.ticket_embeddings", vectors),
            wh.Replace("staging.ticket_clusters", pd.concat(clusters, ignore_index=True)),
            wh.Replace("staging.themes", pd.DataFrame(themes)),
            wh.Replace("marts.ranked_themes", pd.DataFrame(ranked)),
        ])
    return path


def materialize(instance: dg.DagsterInstance, warehouse: Path, first: date, last: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [theme_alerts], instance=instance,
        resources={"warehouse": Warehouse(database=str(warehouse)), "alerts": AlertConfig(), "ranking": RankingConfig(),
                   "findings": FindingsConfig()},
        tags={"dagster/asset_partition_range_start": first.isoformat(),
              "dagster/asset_partition_range_end": last.isoformat()},
    )


def stored_alerts(path: Path) -> pd.DataFrame:
    with wh.open_warehouse(path, read_only=True) as con:
        return wh.read(con, "SELECT * FROM ops.alerts ORDER BY alert_key")


def test_alerts_written_once_per_theme_week_kind(tmp_path, instance):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    assert materialize(instance, warehouse, WEEKS[0], WEEKS[-1]).success
    alerts = stored_alerts(warehouse)
    # nothing is new in the first week, nothing spikes before 4 weeks of data, the week-5 theme is
    # new once and does not 'spike' the week after; the real spike is found
    assert set(zip(alerts["theme_id"], alerts["week_start"], alerts["kind"], strict=True)) == {
        ("T-new", WEEKS[5], anomalies.NEW_PATTERN), ("T-spike", WEEKS[6], anomalies.SPIKE)}
    spike = alerts[alerts["kind"] == anomalies.SPIKE].iloc[0]
    assert (spike["tickets"], spike["customers"], spike["baseline"], spike["baseline_weeks"]) == (30, 30, 8.0, 6)
    assert spike["ratio"] == pytest.approx(3.75) and spike["p_value"] < 1e-6 and not spike["concentrated"]
    assert len(spike["example_ticket_ids"]) == 3
    assert list(spike["example_lines"]) == ["my card was declined"] * 3  # each example's redacted first line


def test_recomputing_a_week_replaces_its_alerts(tmp_path, instance):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    first = materialize(instance, warehouse, WEEKS[0], WEEKS[-1])
    before = stored_alerts(warehouse)
    again = materialize(instance, warehouse, WEEKS[6], WEEKS[6])
    after = stored_alerts(warehouse)
    assert len(after) == len(before) == 2
    assert after.drop(columns="run_id").equals(before.drop(columns="run_id"))
    assert set(after["run_id"]) == {first.run_id, again.run_id}


def test_each_partition_carries_its_own_weeks_alerts(tmp_path, instance):
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    materialize(instance, warehouse, WEEKS[0], WEEKS[-1])
    records = instance.fetch_materializations(dg.AssetKey("theme_alerts"), limit=100).records
    by_week = {r.partition_key: r.asset_materialization.metadata for r in records}
    assert sorted(by_week) == [w.isoformat() for w in WEEKS]
    for week, meta in by_week.items():
        payload = meta["alerts"].value
        assert all(a["week_start"] == week for a in payload)
        json.dumps(payload)  # JSON-safe, as the sensors read it
    assert [a["alert_key"] for a in by_week[WEEKS[6].isoformat()]["alerts"].value] == [
        f"T-spike|{WEEKS[6].isoformat()}|{anomalies.SPIKE}"]
    assert by_week[WEEKS[5].isoformat()]["new_patterns"].value == 1
    new = next(a for a in by_week[WEEKS[5].isoformat()]["alerts"].value if a["kind"] == anomalies.NEW_PATTERN)
    assert new["since"] == WEEKS[5].isoformat()  # its tickets count from its own week
    assert all(a["since"] is None for a in by_week[WEEKS[6].isoformat()]["alerts"].value)  # a spike's do not start
    assert "label T-spike" in by_week[WEEKS[6].isoformat()]["table"].value
    [spike] = by_week[WEEKS[6].isoformat()]["alerts"].value
    assert spike["related_tickets"] == []  # and no ticket's id or words: the event log is kept for ever
    assert not {"example_ticket_ids", "example_lines"} & set(spike)
    assert by_week[WEEKS[0].isoformat()]["table"].value == "No alerts this week."


def test_a_run_s_alerts_see_the_themes_its_ranking_wrote(tmp_path):
    """A run of several weeks reads each week's context before its ranking writes (cluster_summaries
    comes first); its alerts must still see the themes ranked in its earlier weeks. Jest's 'Tests ·
    coverage', ranked every week for nine months (1-4 of its tickets a week), was paged as new at 8."""
    counts = {"T-steady": dict.fromkeys(range(7), 10), "T-small": {3: 1, 4: 1, 5: 1, 6: 8}}
    warehouse = build_warehouse(tmp_path / "w.duckdb", counts, {"T-steady": 0, "T-small": 3})
    with wh.open_warehouse(warehouse) as con:
        ranked = wh.read(con, "SELECT * FROM marts.ranked_themes")
        con.execute("DELETE FROM marts.ranked_themes")
    resource = Warehouse(database=str(warehouse), context_cache_mb=1024)
    with resource.connect() as con:
        for week in WEEKS:  # the summaries, before the ranking
            resource.week_context(con, week, "run", 8)
        wh.replace(con, [wh.Replace("marts.ranked_themes", ranked)])  # the ranking
        ctx = resource.week_context(con, WEEKS[6], "run", 8)
        found = alerts_for_week(con, ctx, anomalies.AlertSettings(), "run", FixSettings())
    assert "T-small" in ctx.ranked_before and found.empty


def test_a_fixed_theme_that_comes_back_raises_one_regression_alert(tmp_path, instance):
    """Fixed in 5.0 (released in week 2), quiet for three weeks, back in week 6."""
    counts = {"T-fix": {0: 10, 1: 10, 2: 4, 3: 0, 4: 0, 5: 0, 6: 12}, "T-steady": dict.fromkeys(range(7), 10)}
    warehouse = build_warehouse(tmp_path / "w.duckdb", counts, {"T-fix": 0, "T-steady": 0})
    released = datetime.combine(WEEKS[2], datetime.min.time()) + timedelta(days=2)
    with wh.open_warehouse(warehouse) as con:
        wh.replace(con, [wh.snapshot("raw.releases", pd.DataFrame([{"version": "5.0", "released_at": released}]))])
        wh.add_review(con, "T-fix", "fixed", "5.0", None, "ana", None)
    assert materialize(instance, warehouse, WEEKS[0], WEEKS[-1]).success
    regressions = stored_alerts(warehouse).query("kind == 'regression'")
    assert list(zip(regressions["theme_id"], regressions["week_start"], strict=True)) == [("T-fix", WEEKS[6])]
    alert = regressions.iloc[0]
    assert (alert["tickets"], alert["fix_release"], alert["baseline"]) == (12, "5.0", 0.0)
    assert alert["alert_key"] == f"T-fix|{WEEKS[6].isoformat()}|regression" and alert["p_value"] < 0.01
    records = instance.fetch_materializations(dg.AssetKey("theme_alerts"), limit=100).records
    meta = next(r.asset_materialization.metadata for r in records if r.partition_key == WEEKS[6].isoformat())
    payload = [a for a in meta["alerts"].value if a["kind"] == "regression"]
    assert meta["regressions"].value == 1 and payload[0]["fix_release"] == "5.0"
    assert payload[0]["top_customer_tickets"] is None  # JSON-safe without the spike-only fields


# --- on the bundled sample (one shared end-to-end run) -----------------------------------------

def _intent_share(con: duckdb.DuckDBPyConnection, planted: dict, theme: str, week: str, intent: str) -> float:
    ids = {f"{t['source']}:{t['source_id']}" for t in planted["valid_tickets"] if t["intent"] == intent}
    rows = con.execute("SELECT ticket_id FROM staging.ticket_clusters WHERE week_start = ? AND ticket_week = ? "
                       "AND theme_id = ?", [week, week, theme]).fetchall()
    return sum(r[0] in ids for r in rows) / len(rows) if rows else 0.0


@pytest.mark.e2e
def test_sample_alerts_are_the_planted_ones(sample_run, planted):
    """On the sample: the planted new intent raises a new pattern in its first week and the planted
    spike the only spike; any other new pattern is a new group inside a theme, at most 2 per 100
    theme-weeks (the false-alert target of bench/alerts); none the week after a birth."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        alerts = wh.read(con, "SELECT * FROM ops.alerts ORDER BY week_start, alert_key")
        theme_weeks = con.execute("SELECT count(*) FROM marts.ranked_themes").fetchone()[0]
        shares = {
            a.alert_key: _intent_share(con, planted, a.theme_id, a.week_start.isoformat(),
                                       planted["spike" if a.kind == anomalies.SPIKE else "new_pattern"]["intent"])
            for a in alerts.itertuples()
        }
    new = alerts[alerts["kind"] == anomalies.NEW_PATTERN]
    spikes = alerts[alerts["kind"] == anomalies.SPIKE]
    found = [k for k, w in zip(new["alert_key"], new["week_start"], strict=True)
             if w.isoformat() == planted["new_pattern"]["first_week"] and shares[k] >= 0.5]
    assert len(found) == 1, new
    others = new[new["alert_key"] != found[0]]
    assert all(len(r) for r in others["related_theme_ids"]), others  # the clustering alone raised none
    assert all(len(labels) == len(ids) and all(labels)  # each names its parent by its label too
               for ids, labels in zip(others["related_theme_ids"], others["related_labels"], strict=True)), others
    assert len(others) <= 2 * theme_weeks / 100, others
    assert {w.isoformat() for w in spikes["week_start"]} == {planted["spike"]["week_start"]}
    assert all(shares[k] >= 0.5 for k in spikes["alert_key"]), shares
    assert not set(new["theme_id"]) & set(spikes["theme_id"])  # born, then not 'spiking' on its own level
    assert Counter(alerts["alert_key"]).most_common(1)[0][1] == 1


@pytest.mark.e2e
def test_sample_report_has_an_anchor_for_every_alerted_theme(sample_run):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        alerts = wh.read(con, "SELECT a.theme_id, r.html_path FROM ops.alerts a JOIN marts.weekly_reports r "
                              "USING (week_start)")
    assert len(alerts)
    for a in alerts.itertuples():
        assert f'id="{a.theme_id}"' in Path(a.html_path).read_text(encoding="utf-8"), a


def test_the_alerts_table_keeps_its_columns_whatever_a_label_release_or_id_holds():
    """theme_alerts' table in the UI: an example id `stress:I-284`|[y](…)` was cut at its `|`, and a
    label or release holding one shifted every column after it."""
    alert = {"kind": "volume_spike", "theme_id": "T1", "label": "Refund | urgent", "tickets": 9, "customers": 4,
             "top_customer_tickets": 2, "concentrated": False, "baseline": 2.0, "ratio": 4.5, "p_value": 0.001,
             "after_release": "4.2|b", "after_release_days": 1, "fix_release": None, "related_theme_ids": ["T2"],
             "related_labels": ["Top|up"], "since": None, "week_start": "2026-10-12",
             "example_ticket_ids": ["stress:I-284`|[y](javascript:x)", "stress:I-1"]}
    rows = alerts_table([alert]).splitlines()
    assert [len(re.findall(r"(?<!\\)\|", row)) for row in rows] == [9, 9, 9]
    assert "Refund \\| urgent `T1` (with “Top\\|up” (T2))" in rows[2]
    assert rows[2].endswith("| 1 d after 4.2\\|b |") and "stress:I-284" not in rows[2]  # no ticket id in the event log
    counted = alerts_table([{**alert, "related_tickets": [3]}]).splitlines()[2]
    assert "Refund \\| urgent `T1` (with “Top\\|up” (T2) 3)" in counted  # a family spike's piece with its count

"""End to end: every sample week materialized through the real Dagster job, checked on content."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ticket_intel import warehouse as wh

pytestmark = pytest.mark.e2e


def _con(run) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(run.warehouse), read_only=True)


def _theme_of_intent(con: duckdb.DuckDBPyConnection, planted: dict, week: str, intent: str) -> str:
    """The theme holding most of this week's tickets of a planted intent."""
    ids = {f"{t['source']}:{t['source_id']}" for t in planted["valid_tickets"]
           if t["intent"] == intent and t["week_start"] == week}
    rows = con.execute(
        "SELECT ticket_id, theme_id FROM staging.ticket_clusters WHERE week_start = ? AND ticket_week = ?",
        [week, week],
    ).fetchall()
    votes = Counter(theme for ticket, theme in rows if ticket in ids and theme)
    assert votes, f"no {intent} tickets clustered in {week}"
    return votes.most_common(1)[0][0]


def test_all_sample_weeks_materialized(sample_run, planted):
    with _con(sample_run) as con:
        weeks = [str(r[0]) for r in con.execute("SELECT week_start FROM marts.weekly_overview ORDER BY 1").fetchall()]
        reports = con.execute("SELECT count(*) FROM marts.weekly_reports").fetchone()[0]
    assert weeks == planted["weeks"]
    assert reports == len(planted["weeks"])
    assert len(list(sample_run.reports.glob("*.html"))) == len(planted["weeks"])


def test_planted_spike_is_found_and_alerted(sample_run, planted):
    spike = planted["spike"]
    with _con(sample_run) as con:
        theme = _theme_of_intent(con, planted, spike["week_start"], spike["intent"])
        alerts = con.execute(
            "SELECT theme_id, tickets, customers, ratio FROM ops.alerts WHERE week_start = ? AND kind = 'volume_spike'",
            [spike["week_start"]],
        ).fetchall()
    assert theme in {a[0] for a in alerts}, f"spike theme {theme} not alerted: {alerts}"
    row = next(a for a in alerts if a[0] == theme)
    assert row[3] >= 2.0


def test_planted_new_pattern_is_found_and_alerted(sample_run, planted):
    new = planted["new_pattern"]
    with _con(sample_run) as con:
        theme = _theme_of_intent(con, planted, new["first_week"], new["intent"])
        alerts = con.execute(
            "SELECT theme_id FROM ops.alerts WHERE week_start = ? AND kind = 'new_pattern'", [new["first_week"]]
        ).fetchall()
        earlier = con.execute(
            "SELECT count(*) FROM staging.themes WHERE theme_id = ? AND week_start < ?", [theme, new["first_week"]]
        ).fetchone()[0]
    assert theme in {a[0] for a in alerts}
    assert earlier == 0


def test_no_planted_pii_downstream_of_redaction(sample_run, planted):
    values = {p["value"] for p in planted["pii"]}
    with _con(sample_run) as con:
        tables = con.execute(
            """SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns
               WHERE table_schema IN ('staging', 'marts') AND (data_type = 'VARCHAR' OR data_type = 'VARCHAR[]')"""
        ).fetchall()
        texts: list[str] = []
        for table, column in tables:
            texts += [str(v) for (v,) in con.execute(f'SELECT DISTINCT "{column}"::VARCHAR FROM {table}').fetchall() if v]
    for path in sample_run.reports.iterdir():
        texts.append(path.read_text(encoding="utf-8"))
    blob = "\n".join(texts)
    leaked = sorted(v for v in values if v in blob)
    assert not leaked, f"{len(leaked)} planted PII values leaked, e.g. {leaked[:5]}"


def test_every_example_ticket_exists(sample_run):
    with _con(sample_run) as con:
        examples = con.execute(
            "SELECT DISTINCT unnest(example_ticket_ids) FROM marts.ranked_themes"
        ).fetchall()
        missing = con.execute(
            """SELECT count(*) FROM (SELECT DISTINCT unnest(example_ticket_ids) AS t FROM marts.ranked_themes)
               WHERE t NOT IN (SELECT ticket_id FROM staging.redacted_tickets)"""
        ).fetchone()[0]
        ranked = con.execute("SELECT count(*), min(len(example_ticket_ids)) FROM marts.ranked_themes").fetchone()
    assert examples and missing == 0
    assert ranked[0] > 0 and ranked[1] >= 3


def test_malformed_records_rejected_and_valid_records_kept(sample_run, planted):
    with _con(sample_run) as con:
        rejected = wh.read(con, "SELECT source_file, locator, reason FROM ops.rejected_tickets")
        raw_ids = {r[0] for r in con.execute("SELECT ticket_id FROM raw.tickets").fetchall()}
        redacted_ids = {r[0] for r in con.execute("SELECT ticket_id FROM staging.redacted_tickets").fetchall()}
    rejected["file"] = rejected["source_file"].map(lambda p: Path(p).name)
    got = {(r.file, r.locator) for r in rejected.itertuples() if r.reason}
    for bad in planted["malformed"]:
        assert (bad["file"], bad["locator"]) in got, f"malformed record not rejected: {bad}"
    valid = {f"{t['source']}:{t['source_id']}" for t in planted["valid_tickets"]}
    assert valid <= raw_ids
    assert valid <= redacted_ids
    assert not (raw_ids - valid), "a malformed record became a ticket"


def _snapshot(con: duckdb.DuckDBPyConnection, week: str) -> dict[str, pd.DataFrame]:
    tables = {
        "raw.tickets": "week_start", "staging.redacted_tickets": "week_start", "staging.ticket_embeddings": "week_start",
        "staging.ticket_clusters": "week_start", "staging.themes": "week_start", "marts.cluster_summaries": "week_start",
        "marts.ranked_themes": "week_start", "marts.not_a_theme": "week_start", "ops.alerts": "week_start",
        "marts.weekly_overview": "week_start",
    }
    out = {}
    for table, key in tables.items():
        frame = con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE {key} = ?", [week]).df()
        out[table] = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True).astype(str)
    return out


def test_rerunning_a_week_changes_nothing(sample_run):
    import dagster as dg

    from ticket_intel.definitions import defs

    week = sample_run.end
    with _con(sample_run) as con:
        before = _snapshot(con, week)
    env = {"DAGSTER_HOME": str(sample_run.dagster_home), "TICKET_INTEL_WAREHOUSE": str(sample_run.warehouse),
           "TICKET_INTEL_INBOX": str(sample_run.inbox), "TICKET_INTEL_REPORTS_DIR": str(sample_run.reports)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = defs().resolve_job_def("weekly_job").execute_in_process(
            instance=dg.DagsterInstance.get(), partition_key=week
        )
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    assert result.success
    with _con(sample_run) as con:
        after = _snapshot(con, week)
        runs = con.execute("SELECT count(DISTINCT run_id) FROM marts.ranked_themes WHERE week_start = ?", [week]).fetchone()[0]
    assert runs == 1
    for table in before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table)


def test_the_inbox_sensor_starts_nothing_for_an_inbox_the_command_line_loaded(sample_run, monkeypatch):
    """`ticket-intel run`, then `ticket-intel dev` on the same instance: the sensor's first tick finds
    that every week's last run read each export, so it starts no run (it used to re-run every week
    once per export)."""
    import json

    import dagster as dg

    from ticket_intel.defs.inbox_sensor import inbox_sensor
    from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse

    monkeypatch.setenv("DAGSTER_HOME", str(sample_run.dagster_home))
    with dg.DagsterInstance.get() as instance, dg.build_sensor_context(
            instance=instance, resources={"ingest": IngestConfig(inbox=str(sample_run.inbox)),
                                         "ranking": RankingConfig(), "triage_config": TriageConfig(),
                                         "warehouse": Warehouse(database=str(sample_run.warehouse))}) as context:
        result = inbox_sensor(context)
    assert not result.run_requests
    seen = json.loads(result.cursor)["seen"]
    assert sorted(len(weeks) for weeks in seen.values()) == [12, 12, 12]  # the exports; accounts.csv is a side input


def test_report_chart_series_equal_the_ranking_counts(sample_run):
    """One history per theme: for every top theme of every week, the report's chart plots exactly the
    persisted weekly counts, and its last two points are the ranking's tickets and last week's."""
    import json

    with _con(sample_run) as con:
        reports = con.execute("SELECT week_start, chart_counts FROM marts.weekly_reports ORDER BY 1").fetchall()
        checked = 0
        for week, chart_json in reports:
            chart = json.loads(chart_json)
            ranked = con.execute("SELECT theme_id, tickets, tickets_prev_week FROM marts.ranked_themes "
                                 "WHERE week_start = ? AND rank <= 8", [week]).fetchall()
            counts = con.execute("SELECT theme_id, ticket_week, tickets FROM staging.theme_week_counts "
                                 "WHERE week_start = ?", [week]).fetchall()
            stored: dict[str, dict[str, int]] = {}
            for theme, ticket_week, n in counts:
                stored.setdefault(theme, {})[ticket_week.isoformat()] = n
            for theme, tickets, prev in ranked:
                series = chart[theme]
                assert {w: n for w, n in series.items() if n} == stored.get(theme, {}), (week, theme)
                values = [series[w] for w in sorted(series)]
                before = values[-2] if len(values) > 1 else None  # the first week with tickets: unknown before it
                assert values[-1] == tickets and before == prev, (week, theme)
                checked += 1
    assert checked >= 30


RUN_WEEKS = 3  # the sample's last weeks: what is read per week does not need all 12


def _weeks_read_by_the_stages_after_clustering(sample_copy, monkeypatch) -> list[object]:
    """Run summaries, ranking, alerts and the report over the sample's last `RUN_WEEKS` weeks; the
    weeks whose context was read, one entry per read."""
    import dagster as dg

    from ticket_intel.definitions import defs

    reads: list[object] = []
    real = wh.load_week_context

    def counting(con, week, window_weeks):
        reads.append(week)
        return real(con, week, window_weeks)

    monkeypatch.setattr(wh, "load_week_context", counting)
    keys = [dg.AssetKey(k) for k in ("cluster_summaries", "ranked_themes", "theme_alerts", "weekly_report")]
    result = defs().resolve_job_def("weekly_job").execute_in_process(
        instance=dg.DagsterInstance.get(), asset_selection=keys,
        tags={"dagster/asset_partition_range_start": (date.fromisoformat(sample_copy.end)
                                                      - timedelta(weeks=RUN_WEEKS - 1)).isoformat(),
              "dagster/asset_partition_range_end": sample_copy.end},
    )
    assert result.success
    return reads


def test_a_run_reads_each_weeks_window_once(sample_copy, monkeypatch):
    """Summaries, ranking, alerts and the report share one week context per run."""
    reads = _weeks_read_by_the_stages_after_clustering(sample_copy, monkeypatch)
    assert len(reads) == len(set(reads)) == RUN_WEEKS  # every week of the run, each read once


def test_a_backfill_keeps_only_the_weeks_its_context_budget_holds(sample_copy, monkeypatch):
    """With no budget a run keeps its first week's context alone; every other week is read by each
    stage that needs it, so memory stays one window however many weeks a backfill holds."""
    monkeypatch.setenv("TICKET_INTEL_CONTEXT_CACHE_MB", "0")
    reads = _weeks_read_by_the_stages_after_clustering(sample_copy, monkeypatch)
    first, *rest = sorted(set(reads))
    assert reads.count(first) == 1 and len(rest) == RUN_WEEKS - 1
    assert all(reads.count(week) == 4 for week in rest)  # once per stage

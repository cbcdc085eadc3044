"""Checks of the warehouse's own promise, for crash tests and `bench.crash`: after any crash and a
re-run, no table holds a key twice, no partition mixes rows of two runs, and every table equals a
clean run's (compared by an order-independent fingerprint of its rows)."""

from __future__ import annotations

from datetime import date

import duckdb

from ticket_intel.warehouse.schema import SCHEMAS

# The natural key of each table: a row's identity across re-runs.
KEYS: dict[str, tuple[str, ...]] = {
    "raw.tickets": ("ticket_id",),
    "staging.redacted_tickets": ("ticket_id",),
    "staging.ticket_embeddings": ("ticket_id", "model"),
    "staging.ticket_clusters": ("week_start", "ticket_id"),
    "staging.themes": ("week_start", "theme_id"),
    "staging.theme_week_counts": ("week_start", "theme_id", "ticket_week"),
    "marts.cluster_summaries": ("week_start", "theme_id"),
    "marts.ranked_themes": ("week_start", "theme_id"),
    "marts.not_a_theme": ("week_start", "theme_id"),
    "marts.weekly_overview": ("week_start",),
    "marts.weekly_reports": ("week_start",),
    "marts.week_configs": ("week_start", "setting"),
    "ops.alerts": ("alert_key",),
    "ops.ingested_files": ("source_file",),
    "ops.inbox_weeks": ("week_start",),
    "ops.embedding_cache": ("model", "text_hash"),
    "ops.theme_registry": ("theme_id",),
}
# Columns that name the run or the output folder, not the data; tables stamped by the clock are left out.
VOLATILE = ("run_id", "html_path", "written_at", "first_written_at")
CLOCK_TABLES = ("ops.llm_cache", "ops.theme_reviews", "ops.schema_version")
# Appended to, never replaced per week: a week's rows come from every run that issued an id in it.
APPEND_ONLY = ("ops.theme_registry",)


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?)) ORDER BY 1", [list(SCHEMAS)]).fetchall()
    return [r[0] for r in rows]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
                       "table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()
    return [r[0] for r in rows]


def duplicate_keys(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Keys held by more than one row, per table (tables without duplicates are left out)."""
    found = {}
    for table in set(KEYS) & set(tables(con)):
        key = ", ".join(KEYS[table])
        n = con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
        if n:
            found[table] = n
    return found


def mixed_partitions(con: duckdb.DuckDBPyConnection) -> dict[str, list[date]]:
    """Weeks whose rows in one table were written by more than one run: a partial partition."""
    found = {}
    for table in tables(con):
        if table in APPEND_ONLY or not {"week_start", "run_id"} <= set(_columns(con, table)):
            continue
        weeks = con.execute(f"SELECT week_start FROM {table} GROUP BY week_start "
                            "HAVING count(DISTINCT run_id) > 1 ORDER BY 1").fetchall()
        if weeks:
            found[table] = [w[0] for w in weeks]
    return found


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per table, its row count and an order-independent hash of its rows without the volatile columns
    (a clean run and a crashed-then-re-run one must agree on every table)."""
    out = {}
    for table in tables(con):
        if table in CLOCK_TABLES:
            continue
        drop = [c for c in _columns(con, table) if c in VOLATILE]
        exclude = f" EXCLUDE ({', '.join(drop)})" if drop else ""
        n, digest = con.execute(
            f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*{exclude}))::HUGEINT), 0) FROM {table}").fetchone()
        out[table] = (int(n), int(digest))
    return out

"""The DuckDB warehouse: its schema and the one atomic "replace these partitions" writer.

Every stage writes through `replace` so that re-running a week replaces exactly its rows
inside one transaction: a crash leaves the previous state, a re-run leaves no duplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

SCHEMAS = ("raw", "staging", "marts", "ops")

# Tables whose shape does not depend on the embedding model.
_TABLES = {
    "raw.tickets": """
        ticket_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_id VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL, week_start DATE NOT NULL,
        customer_id VARCHAR, account_id VARCHAR, plan VARCHAR, monthly_revenue DOUBLE,
        subject VARCHAR, message VARCHAR NOT NULL, channel VARCHAR, tags VARCHAR[],
        priority VARCHAR, status VARCHAR, source_file VARCHAR NOT NULL, locator VARCHAR,
        record VARCHAR, run_id VARCHAR""",
    "ops.rejected_tickets": """
        source_file VARCHAR NOT NULL, locator VARCHAR, source VARCHAR, record VARCHAR,
        reason VARCHAR NOT NULL, file_hash VARCHAR, run_id VARCHAR""",
    "ops.ingested_files": """
        source_file VARCHAR NOT NULL, file_hash VARCHAR, profile VARCHAR, accepted INTEGER,
        rejected INTEGER, skipped INTEGER, error VARCHAR, run_id VARCHAR""",
    "staging.redacted_tickets": """
        ticket_id VARCHAR NOT NULL, week_start DATE NOT NULL, created_at TIMESTAMP NOT NULL,
        source VARCHAR, customer_id VARCHAR, account_id VARCHAR, plan VARCHAR,
        monthly_revenue DOUBLE, channel VARCHAR, tags VARCHAR[], priority VARCHAR,
        subject VARCHAR, text VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, n_chars INTEGER,
        embed_chars INTEGER, pii_found VARCHAR, run_id VARCHAR, meaning_text VARCHAR""",
    "staging.ticket_clusters": """
        week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, ticket_week DATE NOT NULL,
        theme_id VARCHAR, cluster INTEGER, probability DOUBLE, similarity DOUBLE,
        assignment VARCHAR, run_id VARCHAR, series_theme_id VARCHAR""",
    "ops.theme_events": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, event VARCHAR NOT NULL,
        related_theme_ids VARCHAR[], detail VARCHAR, run_id VARCHAR""",
    "marts.cluster_summaries": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, label VARCHAR, shared_issue VARCHAR,
        phrasings VARCHAR[], severity VARCHAR, severity_rationale VARCHAR, signal_type VARCHAR,
        product_area VARCHAR, backlog_title VARCHAR, backlog_user_story VARCHAR,
        backlog_severity VARCHAR, backlog_deflection DOUBLE, terms VARCHAR[],
        example_ticket_ids VARCHAR[], summarizer VARCHAR, review_status VARCHAR,
        merged_theme_ids VARCHAR[], run_id VARCHAR""",
    "marts.ranked_themes": """
        week_start DATE NOT NULL, rank INTEGER, theme_id VARCHAR NOT NULL, label VARCHAR,
        tickets INTEGER, customers INTEGER, tickets_prev_week INTEGER, wow_change DOUBLE,
        growth_4w DOUBLE, trend VARCHAR, paid_share DOUBLE, revenue DOUBLE, severity VARCHAR,
        signal_type VARCHAR, product_area VARCHAR, impact DOUBLE, summary VARCHAR,
        example_ticket_ids VARCHAR[], review_status VARCHAR, run_id VARCHAR""",
    "marts.not_a_theme": """
        week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, label VARCHAR, tickets INTEGER,
        customers INTEGER, ticket_ids VARCHAR[], reason VARCHAR, run_id VARCHAR""",
    "marts.weekly_overview": """
        week_start DATE NOT NULL, tickets INTEGER, customers INTEGER, tickets_prev_week INTEGER,
        themes INTEGER, outlier_tickets INTEGER, warning VARCHAR, run_id VARCHAR""",
    "marts.weekly_reports": """
        week_start DATE NOT NULL, markdown VARCHAR, html_path VARCHAR, run_id VARCHAR""",
    "ops.alerts": """
        alert_key VARCHAR PRIMARY KEY, week_start DATE NOT NULL, theme_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, label VARCHAR, tickets INTEGER, customers INTEGER,
        baseline DOUBLE, ratio DOUBLE, p_value DOUBLE, customer_baseline DOUBLE,
        top_customer_tickets INTEGER, concentrated BOOLEAN, baseline_weeks INTEGER,
        example_ticket_ids VARCHAR[], run_id VARCHAR""",
    "ops.theme_reviews": """
        review_id INTEGER PRIMARY KEY, theme_id VARCHAR NOT NULL, action VARCHAR NOT NULL,
        value VARCHAR, target_theme_id VARCHAR, reviewer VARCHAR, note VARCHAR,
        created_at TIMESTAMP NOT NULL""",
    "ops.llm_cache": """
        prompt_hash VARCHAR PRIMARY KEY, model VARCHAR, response VARCHAR, created_at TIMESTAMP""",
}


def _embedding_tables(dim: int) -> dict[str, str]:
    """Tables holding fixed-size vectors; their width is the model's dimension."""
    return {
        "ops.embedding_cache": f"""
            model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, embedding FLOAT[{dim}] NOT NULL,
            PRIMARY KEY (model, text_hash)""",
        "staging.ticket_embeddings": f"""
            week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, model VARCHAR NOT NULL,
            text_hash VARCHAR NOT NULL, embedding FLOAT[{dim}] NOT NULL, run_id VARCHAR""",
        "staging.themes": f"""
            week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, cluster INTEGER, size INTEGER,
            week_tickets INTEGER, centroid FLOAT[{dim}], event VARCHAR, first_seen DATE,
            run_id VARCHAR""",
    }


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating its folder and base schema when writable."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"warehouse not found: {path} (run `ticket-intel run` first)")
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    ensure_schema(con)
    return con


@contextlib.contextmanager
def open_warehouse(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in _TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    # Added after the first release: warehouses created before it lack the column.
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS skipped INTEGER")
    for column in ("customer_baseline DOUBLE", "top_customer_tickets INTEGER", "concentrated BOOLEAN",
                   "baseline_weeks INTEGER"):
        con.execute(f"ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS {column}")
    con.execute("ALTER TABLE staging.ticket_clusters ADD COLUMN IF NOT EXISTS series_theme_id VARCHAR")
    con.execute("ALTER TABLE staging.redacted_tickets ADD COLUMN IF NOT EXISTS meaning_text VARCHAR")


def ensure_embedding_schema(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Create the vector tables, refusing a model whose width differs from the stored one."""
    existing = stored_embedding_dim(con)
    if existing is not None and existing != dim:
        raise ValueError(
            f"this warehouse stores {existing}-dimensional embeddings but the configured model "
            f"produces {dim}; point TICKET_INTEL_WAREHOUSE at a new file to switch models"
        )
    for table, columns in _embedding_tables(dim).items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


def stored_embedding_dim(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute(
        """SELECT data_type FROM information_schema.columns
           WHERE table_schema = 'ops' AND table_name = 'embedding_cache' AND column_name = 'embedding'"""
    ).fetchone()
    if row is None:
        return None
    return int(row[0].split("[")[1].rstrip("]"))


@dataclass(frozen=True)
class Replace:
    """Replace the rows of `table` whose `key` is in `values` by `frame`."""

    table: str
    frame: pd.DataFrame | None
    key: str = "week_start"
    values: Sequence[Any] = ()


def replace(con: duckdb.DuckDBPyConnection, writes: Sequence[Replace]) -> dict[str, int]:
    """Apply all writes in one transaction; returns rows inserted per table."""
    inserted: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for i, w in enumerate(writes):
            if w.values:
                con.execute(f"DELETE FROM {w.table} WHERE {w.key} IN (SELECT unnest(?))", [list(w.values)])
            n = 0 if w.frame is None else len(w.frame)
            if n:
                name = f"_replace_{i}"
                con.register(name, w.frame)
                con.execute(f"INSERT INTO {w.table} BY NAME SELECT * FROM {name}")
                con.unregister(name)
            inserted[w.table] = inserted.get(w.table, 0) + n
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return inserted


def cached_embeddings(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """Vectors already computed for these texts by this model."""
    if not hashes:
        return {}
    rows = con.execute(
        "SELECT text_hash, embedding FROM ops.embedding_cache WHERE model = ? AND text_hash IN (SELECT unnest(?))",
        [model, list(hashes)],
    ).fetchall()
    return {h: np.asarray(v, dtype=np.float32) for h, v in rows}


def store_embeddings(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    frame = pd.DataFrame({"model": model, "text_hash": list(hashes), "embedding": list(vectors.astype(np.float32))})
    con.register("_new_vectors", frame)
    con.execute("INSERT INTO ops.embedding_cache BY NAME SELECT * FROM _new_vectors ON CONFLICT DO NOTHING")
    con.unregister("_new_vectors")


def embeddings_matrix(frame: pd.DataFrame, column: str = "embedding") -> np.ndarray:
    """Stack a column of stored FLOAT arrays into an (n, dim) float32 matrix."""
    if frame.empty:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in frame[column]])


def window_tickets(con: duckdb.DuckDBPyConnection, week: Any, with_vectors: bool = False) -> pd.DataFrame:
    """The clustered window ending at `week`: assignments joined with redacted ticket facts."""
    vector = ", e.embedding" if with_vectors else ""
    join = (
        "JOIN staging.ticket_embeddings e ON e.ticket_id = c.ticket_id AND e.week_start = c.ticket_week"
        if with_vectors else ""
    )
    return read(
        con,
        f"""SELECT c.ticket_id, c.ticket_week, c.theme_id, c.similarity AS similarity, c.assignment,
                   CASE WHEN c.assignment = 'kept' THEN c.series_theme_id ELSE c.theme_id END AS series_theme_id,
                   r.customer_id, r.account_id, r.plan, r.monthly_revenue, r.tags, r.text, r.source{vector}
            FROM staging.ticket_clusters c
            JOIN staging.redacted_tickets r ON r.ticket_id = c.ticket_id AND r.week_start = c.ticket_week
            {join}
            WHERE c.week_start = ? ORDER BY c.ticket_id""",
        [week],
    )


def reviews(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return read(con, "SELECT * FROM ops.theme_reviews ORDER BY review_id").to_dict("records")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def read(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run a query into a DataFrame; DATE columns come back as `datetime.date`, like partitions."""
    cursor = con.execute(sql, list(params or []))
    dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
    frame = cursor.df()
    for col in dates:
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame

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

from ticket_intel import warehouse_target

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
        embed_chars INTEGER, pii_found VARCHAR, run_id VARCHAR""",
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
        alert_key VARCHAR NOT NULL, week_start DATE NOT NULL, theme_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, label VARCHAR, tickets INTEGER, customers INTEGER,
        baseline DOUBLE, ratio DOUBLE, p_value DOUBLE, customer_baseline DOUBLE,
        top_customer_tickets INTEGER, concentrated BOOLEAN, baseline_weeks INTEGER,
        example_ticket_ids VARCHAR[], run_id VARCHAR""",
    "ops.theme_reviews": """
        review_id INTEGER NOT NULL, theme_id VARCHAR NOT NULL, action VARCHAR NOT NULL,
        value VARCHAR, target_theme_id VARCHAR, reviewer VARCHAR, note VARCHAR,
        created_at TIMESTAMP NOT NULL""",
    "ops.llm_cache": """
        prompt_hash VARCHAR NOT NULL, model VARCHAR, response VARCHAR, created_at TIMESTAMP""",
}


# Enforced in a DuckDB file; a DuckLake has no keys, so writers to these tables insert only rows whose
# key is absent (`insert_missing`) and never rely on the constraint.
_PRIMARY_KEYS = {
    "ops.alerts": ("alert_key",),
    "ops.theme_reviews": ("review_id",),
    "ops.llm_cache": ("prompt_hash",),
    "ops.embedding_cache": ("model", "text_hash"),
}


def _embedding_tables(vector: str) -> dict[str, str]:
    """Tables holding vectors of SQL type `vector` (see `_vector_type`)."""
    return {
        "ops.embedding_cache": f"""
            model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, embedding {vector} NOT NULL""",
        "staging.ticket_embeddings": f"""
            week_start DATE NOT NULL, ticket_id VARCHAR NOT NULL, model VARCHAR NOT NULL,
            text_hash VARCHAR NOT NULL, embedding {vector} NOT NULL, run_id VARCHAR""",
        "staging.themes": f"""
            week_start DATE NOT NULL, theme_id VARCHAR NOT NULL, cluster INTEGER, size INTEGER,
            week_tickets INTEGER, centroid {vector}, event VARCHAR, first_seen DATE,
            run_id VARCHAR""",
    }


def _vector_type(con: duckdb.DuckDBPyConnection, dim: int) -> str:
    """FLOAT[dim] pins the model's width in a DuckDB file; DuckLake has no fixed-size arrays (FLOAT[])."""
    return "FLOAT[]" if warehouse_target.is_lake(con) else f"FLOAT[{dim}]"


def _create_table(con: duckdb.DuckDBPyConnection, table: str, columns: str, lake: bool) -> None:
    key = _PRIMARY_KEYS.get(table)
    constraint = f", PRIMARY KEY ({', '.join(key)})" if key and not lake else ""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns}{constraint})")


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (a DuckDB file or a DuckLake, see warehouse_target), with its base schema when writable.

    A DuckLake writer checks the schema once per process, when it attaches: each check is ~25
    catalog round trips (about 1 s), which every asset's connection would otherwise pay.
    """
    target = str(path)
    if warehouse_target.is_lake_target(target):
        return warehouse_target.connect(target, read_only, prepare=None if read_only else ensure_schema)
    con = warehouse_target.connect(target, read_only=read_only)
    if not read_only:
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
    """Create what is missing; retried when a concurrent writer created the same thing first."""
    warehouse_target.retry_conflicts(lambda: _ensure_schema(con))


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    lake = warehouse_target.is_lake(con)
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in _TABLES.items():
        _create_table(con, table, columns, lake)
    # Added after the first release: warehouses created before it lack the column.
    con.execute("ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS skipped INTEGER")
    for column in ("customer_baseline DOUBLE", "top_customer_tickets INTEGER", "concentrated BOOLEAN",
                   "baseline_weeks INTEGER"):
        con.execute(f"ALTER TABLE ops.alerts ADD COLUMN IF NOT EXISTS {column}")
    con.execute("ALTER TABLE staging.ticket_clusters ADD COLUMN IF NOT EXISTS series_theme_id VARCHAR")


def ensure_embedding_schema(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Create the vector tables, refusing a model whose width differs from the stored one."""
    existing = stored_embedding_dim(con)
    if existing is not None and existing != dim:
        raise ValueError(
            f"this warehouse stores {existing}-dimensional embeddings but the configured model "
            f"produces {dim}; point TICKET_INTEL_WAREHOUSE at a new file to switch models"
        )
    lake = warehouse_target.is_lake(con)
    for table, columns in _embedding_tables(_vector_type(con, dim)).items():
        warehouse_target.retry_conflicts(lambda t=table, c=columns: _create_table(con, t, c, lake))


def stored_embedding_dim(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute(
        """SELECT data_type FROM information_schema.columns WHERE table_catalog = current_database()
           AND table_schema = 'ops' AND table_name = 'embedding_cache' AND column_name = 'embedding'"""
    ).fetchone()
    if row is None:
        return None
    width = row[0].split("[")[1].rstrip("]")
    if width:
        return int(width)
    # FLOAT[] (a DuckLake): the width of any stored vector
    stored = con.execute("SELECT len(embedding) FROM ops.embedding_cache LIMIT 1").fetchone()
    return None if stored is None else int(stored[0])


@dataclass(frozen=True)
class Replace:
    """Replace the rows of `table` whose `key` is in `values` by `frame`."""

    table: str
    frame: pd.DataFrame | None
    key: str = "week_start"
    values: Sequence[Any] = ()


def replace(con: duckdb.DuckDBPyConnection, writes: Sequence[Replace]) -> dict[str, int]:
    """Apply all writes in one transaction; returns rows inserted per table.

    On a DuckLake another process may re-write another week of the same table meanwhile; the loser's
    commit is refused and the whole transaction runs again (it is idempotent).
    """
    return warehouse_target.retry_conflicts(lambda: _replace_once(con, writes))


def _replace_once(con: duckdb.DuckDBPyConnection, writes: Sequence[Replace]) -> dict[str, int]:
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
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")  # a refused commit ends the transaction: nothing to roll back
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
    insert_missing(con, "ops.embedding_cache", frame)


def insert_missing(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert the rows whose primary key `table` does not hold yet (an anti-join: DuckLake has no ON CONFLICT).

    Two DuckLake writers racing on one key may both insert it; readers of these caches take any one row.
    """
    on = " AND ".join(f"t.{k} = n.{k}" for k in _PRIMARY_KEYS[table])
    con.register("_new_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT n.* FROM _new_rows n "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})")
    finally:
        con.unregister("_new_rows")


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
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
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


def copy_warehouse(source: str | Path, target: str) -> dict[str, int]:
    """Copy every table of the DuckDB-file warehouse `source` into the empty warehouse `target` (a new
    DuckLake, say) in one transaction; returns rows copied per table. Refuses what it cannot copy whole."""
    quoted = str(source).replace("'", "''")
    with open_warehouse(target) as con:
        con.execute(f"ATTACH '{quoted}' AS source (READ_ONLY)")
        try:
            return _copy_tables(con, target)
        finally:
            con.execute("DETACH source")


def _copy_tables(con: duckdb.DuckDBPyConnection, target: str) -> dict[str, int]:
    tables = [f"{s}.{t}" for s, t in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = 'source' AND table_type = 'BASE TABLE' ORDER BY ALL").fetchall()]
    width = con.execute("SELECT data_type FROM information_schema.columns WHERE table_catalog = 'source' "
                        "AND table_name = 'embedding_cache' AND column_name = 'embedding'").fetchone()
    if width is not None:
        ensure_embedding_schema(con, int(width[0].split("[")[1].rstrip("]")))
    unknown = [t for t in tables if not table_exists(con, t)]
    filled = [t for t in tables if t not in unknown and con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]]
    if unknown or filled:
        raise ValueError(f"cannot copy into {target}: tables it lacks {unknown}, tables not empty {filled}")
    con.execute("BEGIN TRANSACTION")
    try:
        copied = {t: con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM source.{t}").fetchone()[0] for t in tables}
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return copied

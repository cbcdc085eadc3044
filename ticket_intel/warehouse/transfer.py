"""Move a DuckDB-file warehouse into a new, empty one (a DuckLake, say) in one transaction."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ticket_intel.warehouse.connection import open_warehouse
from ticket_intel.warehouse.schema import LATEST, ensure_embedding_schema, table_exists

VERSIONS = "ops.schema_version"  # the target records its own migrations


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
    if VERSIONS in tables:
        tables.remove(VERSIONS)
        version = con.execute(f"SELECT coalesce(max(version), 0) FROM source.{VERSIONS}").fetchone()[0]
        if version != LATEST:
            raise ValueError(f"cannot copy a warehouse at schema version {version} into {target} (version "
                             f"{LATEST}): run `ticket-intel run` on it once to migrate it first")
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

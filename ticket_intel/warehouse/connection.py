"""Opening the warehouse, the one atomic "replace these partitions" writer, and typed reads.

Every stage writes through `replace` so that re-running a week replaces exactly its rows
inside one transaction: a crash leaves the previous state, a re-run leaves no duplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from ticket_intel.warehouse import target
from ticket_intel.warehouse.schema import LATEST, PRIMARY_KEYS, applied_version, migrate

T = TypeVar("T")


def connect(where: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (a DuckDB file or a DuckLake, see target.py); a writable one is created if
    new and migrated to the current schema (a DuckLake writer once per process, when it attaches),
    and a read-only open of one an earlier release wrote migrates it first."""
    if target.is_lake_target(str(where)):
        con = target.connect(str(where), read_only, prepare=None if read_only else migrate)
    else:
        con = target.connect(str(where), read_only=read_only)
        if not read_only:
            migrate(con)
    if read_only and applied_version(con) < LATEST:  # written by an earlier release: bring it up to date once, then read
        con.close()
        connect(where).close()
        return connect(where, read_only=True)
    return con


@contextlib.contextmanager
def open_warehouse(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


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
    return target.retry_conflicts(lambda: in_transaction(con, lambda: apply_writes(con, writes)))


def in_transaction(con: duckdb.DuckDBPyConnection, body: Callable[[], T]) -> T:
    """`body` inside one transaction: committed when it returns, rolled back when it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        out = body()
    except BaseException:
        # A failed COMMIT (a full disk) has already ended the transaction: the ROLLBACK's own error
        # ("no transaction is active") must not hide the real cause.
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")  # a refused commit ends the transaction: nothing to roll back
    return out


def apply_writes(con: duckdb.DuckDBPyConnection, writes: Sequence[Replace]) -> dict[str, int]:
    """Each write's delete, then its insert, in the caller's transaction; rows inserted per table."""
    inserted: dict[str, int] = {}
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
    return inserted


def insert_missing(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert the rows whose primary key `table` does not hold yet (an anti-join: DuckLake has no
    ON CONFLICT). Two DuckLake writers racing on one key may both insert it; cache readers take any one."""
    on = " AND ".join(f"t.{k} = n.{k}" for k in PRIMARY_KEYS[table])
    con.register("_new_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT n.* FROM _new_rows n "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})")
    finally:
        con.unregister("_new_rows")


def read(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run a query into a DataFrame; DATE columns come back as `datetime.date`, like partitions."""
    cursor = con.execute(sql, list(params or []))
    return _with_dates(cursor, cursor.df())


def _with_dates(cursor: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the query's DATE columns as `datetime.date`."""
    for col in (d[0] for d in cursor.description if str(d[1]) == "DATE"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def read_vectors(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None,
                 column: str = "embedding") -> tuple[pd.DataFrame, np.ndarray]:
    """`read`, with the FLOAT array `column` (one array on every row) returned apart as one (n, dim)
    float32 matrix, straight from Arrow: a column of per-row arrays, stacked, cost a third of
    reading an 800k-ticket window."""
    cursor = con.execute(sql, list(params or []))
    table = cursor.to_arrow_table()
    values = table.column(column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = values.reshape(table.num_rows, -1).astype(np.float32, copy=False) if table.num_rows else (
        np.zeros((0, 0), dtype=np.float32))
    return _with_dates(cursor, table.drop_columns([column]).to_pandas()), vectors


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    row = con.execute(sql, list(params or [])).fetchone()
    return row[0] if row else None


def embeddings_matrix(frame: pd.DataFrame, column: str = "embedding") -> np.ndarray:
    """Stack a column of stored FLOAT arrays into an (n, dim) float32 matrix."""
    if frame.empty:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in frame[column]])

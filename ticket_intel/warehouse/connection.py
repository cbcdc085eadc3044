"""Opening the warehouse, the one atomic "replace these partitions" writer, and typed reads.

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

from ticket_intel.warehouse.schema import migrate


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file; a writable one is created if new and migrated to the current schema."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"warehouse not found: {path} (run `ticket-intel run` first)")
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    migrate(con)
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
        # A failed COMMIT (a full disk) has already ended the transaction: the ROLLBACK's own error
        # ("no transaction is active") must not hide the real cause.
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return inserted


def read(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run a query into a DataFrame; DATE columns come back as `datetime.date`, like partitions."""
    cursor = con.execute(sql, list(params or []))
    dates = [d[0] for d in cursor.description if str(d[1]) == "DATE"]
    frame = cursor.df()
    for col in dates:
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    row = con.execute(sql, list(params or [])).fetchone()
    return row[0] if row else None


def embeddings_matrix(frame: pd.DataFrame, column: str = "embedding") -> np.ndarray:
    """Stack a column of stored FLOAT arrays into an (n, dim) float32 matrix."""
    if frame.empty:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(v, dtype=np.float32) for v in frame[column]])

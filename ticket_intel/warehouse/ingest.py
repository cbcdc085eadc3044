"""The ingest write: replace what the inbox's readable files say, keep what left the inbox.

Within the weeks a run materializes, `raw.tickets` is replaced per source file for the files read
this run; tickets of files no longer in the inbox (or unreadable this run) stay, unless the run
prunes. A ticket re-exported in a file read now replaces its kept copy, so a ticket lives once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa

from ticket_intel.warehouse import target
from ticket_intel.warehouse.connection import Replace, apply_writes, in_transaction, read
from ticket_intel.warehouse.erasure import DENYLIST, erased_filter
from ticket_intel.warehouse.staging import Stage


@dataclass(frozen=True)
class IngestWrite:
    weeks: Sequence[date]
    read_files: Sequence[str]  # read this run: their tickets in `weeks` are replaced
    listed_files: Sequence[str]  # every file of the inbox, read or not: their file rows are replaced
    stage: Stage  # the resolved tickets, replies and rejections (streamed from it, never held whole)
    run_id: str
    files: pd.DataFrame
    prune: bool = False  # also remove, in `weeks`, the tickets of files not read this run
    inputs: Sequence[Replace] = ()  # whole tables: what was read beside the exports (help center, releases), the inbox's weeks


class Ingested(NamedTuple):
    emptied: dict[date, str | None]  # the weeks left without a ticket, with their report's path
    erased: int  # tickets of the export not ingested: `ticket-intel erase` erased them


def write_ingest(con: duckdb.DuckDBPyConnection, w: IngestWrite) -> Ingested:
    """All of it in one transaction (retried whole on a refused DuckLake commit): the weeks left
    without a ticket, whose rows it removed (`_clear_emptied`), and the erased tickets it left out."""
    return target.retry_conflicts(lambda: in_transaction(con, lambda: _write(con, w)))


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame | pa.RecordBatchReader,
            where: str = "true") -> None:
    if isinstance(rows, pa.RecordBatchReader) or len(rows):
        con.register("_ingest_rows", rows)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ingest_rows WHERE {where}")
        con.unregister("_ingest_rows")


def _write(con: duckdb.DuckDBPyConnection, w: IngestWrite) -> Ingested:
    weeks, read_files = list(w.weeks), list(w.read_files)
    con.register("_ingest_ids", w.stage.rows("ids", weeks, w.run_id).read_all())
    erased = con.execute(f"SELECT count(*) FROM _ingest_ids WHERE NOT {erased_filter()}").fetchone()[0] \
        if con.execute(f"SELECT count(*) FROM {DENYLIST}").fetchone()[0] else 0
    con.execute("""DELETE FROM raw.tickets WHERE week_start IN (SELECT unnest($1))
                   AND ($3 OR source_file IN (SELECT unnest($2)) OR ticket_id IN (SELECT ticket_id FROM _ingest_ids))""",
                [weeks, read_files, w.prune])
    con.unregister("_ingest_ids")
    # Replies of the tickets kept in these weeks stay; the others are replaced with their tickets.
    con.execute("""DELETE FROM raw.ticket_replies WHERE week_start IN (SELECT unnest($1)) AND ticket_id NOT IN
                   (SELECT ticket_id FROM raw.tickets WHERE week_start IN (SELECT unnest($1)))""", [weeks])
    for table, kind in (("raw.tickets", "tickets"), ("raw.ticket_replies", "replies")):
        _insert(con, table, w.stage.rows(kind, weeks, w.run_id), erased_filter())
    con.execute("DELETE FROM ops.rejected_tickets WHERE source_file IN (SELECT unnest(?))", [list(w.listed_files)])
    _insert(con, "ops.rejected_tickets", w.stage.rows("rejected", weeks, w.run_id))
    con.execute("DELETE FROM ops.ingested_files WHERE source_file IN (SELECT unnest(?))", [list(w.listed_files)])
    _insert(con, "ops.ingested_files", w.files)
    # Rows of ticket exports carry in_inbox; other inputs logged in this table (NULL) are not exports.
    con.execute("""UPDATE ops.ingested_files f SET in_inbox = f.source_file IN (SELECT unnest($1)),
                   kept = (SELECT count(*) FROM raw.tickets t WHERE t.source_file = f.source_file)
                   WHERE f.in_inbox IS NOT NULL""", [list(w.listed_files)])
    con.execute("DELETE FROM ops.ingested_files WHERE in_inbox = false AND kept = 0")
    apply_writes(con, w.inputs)
    return Ingested(_clear_emptied(con, weeks), int(erased))


def _clear_emptied(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> dict[date, str | None]:
    """Of `weeks`, those left without a ticket (their exports pruned, or exported again into other
    weeks) lose every row derived from them, which the later stages skip for want of tickets: their
    themes stayed listed, their report kept its example texts, and the next week's themes continued
    the emptied week's ids. Returns each that held such rows with its report's path (None: none), which
    the caller removes; a week that never held a ticket lost nothing and is not named."""
    held = {r[0] for r in con.execute("SELECT DISTINCT week_start FROM raw.tickets WHERE week_start IN "
                                      "(SELECT unnest(?))", [list(weeks)]).fetchall()}
    empty = [w for w in weeks if w not in held]
    if not empty:
        return {}
    paths = dict(con.execute("SELECT week_start, html_path FROM marts.weekly_reports WHERE week_start IN "
                             "(SELECT unnest(?))", [empty]).fetchall())
    derived = con.execute("""SELECT DISTINCT c.table_schema || '.' || c.table_name FROM information_schema.columns c
                             JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
                             WHERE c.column_name = 'week_start' AND t.table_type = 'BASE TABLE'
                               AND (c.table_schema IN ('staging', 'marts')
                                    OR c.table_schema || '.' || c.table_name = 'ops.alerts')""").fetchall()
    had: set[date] = set(paths)  # weeks that held rows: a week that never held a ticket lost nothing
    for (table,) in derived:
        had.update(r[0] for r in con.execute(f"SELECT DISTINCT week_start FROM {table} WHERE week_start IN "
                                             "(SELECT unnest(?))", [empty]).fetchall())
        con.execute(f"DELETE FROM {table} WHERE week_start IN (SELECT unnest(?))", [empty])
    return {w: paths.get(w) for w in empty if w in had}


def stored_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source file, the tickets `raw.tickets` holds and the weeks they span."""
    return read(con, "SELECT source_file, count(*) AS tickets, min(week_start) AS first_week, "
                     "max(week_start) AS last_week FROM raw.tickets GROUP BY 1 ORDER BY 1")


def recorded_file_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The content hashes of every export a run has recorded."""
    return {r[0] for r in con.execute("SELECT DISTINCT file_hash FROM ops.ingested_files WHERE file_hash IS NOT NULL")
            .fetchall()}


def kept_week_counts(con: duckdb.DuckDBPyConnection, present: Sequence[str]) -> dict[date, int]:
    """Per week, the tickets `raw.tickets` keeps from exports not among `present` (no longer in the inbox)."""
    rows = con.execute("SELECT week_start, count(*) FROM raw.tickets WHERE source_file NOT IN (SELECT unnest(?)) "
                       "GROUP BY 1", [list(present)]).fetchall()
    return dict(rows)


def week_ticket_counts(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> dict[date, int]:
    rows = con.execute("SELECT week_start, count(*) FROM raw.tickets WHERE week_start IN (SELECT unnest(?)) "
                       "GROUP BY 1", [list(weeks)]).fetchall()
    return dict(rows)

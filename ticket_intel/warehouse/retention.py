"""Retention by age: the ticket-level rows of weeks before a cutoff go, the weekly aggregates stay.

A ticket's text, vector, triage, cluster membership, customer rows and draft are personal data and
grow the warehouse by about 10 KB a ticket; ranked themes, summaries, alerts, theme records, counts
and overviews are per week and theme, and are what history and trends read. The cutoff is recorded
(`ops.retention`), so no later run ingests a retired week again from an export still in the inbox.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ticket_intel.core.report import report_file
from ticket_intel.core.retention import retention_cutoff, retention_lines
from ticket_intel.warehouse import access, target
from ticket_intel.warehouse.connection import in_transaction, open_warehouse, scalar
from ticket_intel.warehouse.erasure import (
    clear_reports,
    delete_report_files,
    kept_rows_naming,
    llm_answers,
    reports_holding,
    scrub_kept_rows,
)
from ticket_intel.warehouse.personal import EMBEDDING_CACHE, TICKET_TABLES
from ticket_intel.warehouse.schema import table_exists
from ticket_intel.warehouse.transfer import copy_warehouse

# Which rows of a table a retention deletes: a kept week's customer rows count its window's tickets,
# and a customer whose every ticket there is before the cutoff stayed named in kept weeks' rows (and
# `export --customers`) for a window more (privacy review: 236 such customers after --keep-weeks 8).
# Such rows go; a customer with kept tickets keeps the row and its counts.
_RETIRED = {"marts.theme_customers": "week_start < $cutoff OR last_ticket_at < $cutoff",
            # a kept week's cluster rows name its window's earlier tickets: those before the cutoff go
            # (1,445 rows naming 378 deleted tickets in PowerToys' kept weeks; no later run reads them)
            "staging.ticket_clusters": "ticket_week < $cutoff"}

# Text hashes of the tickets of weeks before the cutoff that no kept ticket or article shares.
_RETIRED_HASHES = """
    SELECT text_hash FROM staging.redacted_tickets WHERE week_start < $cutoff
    UNION SELECT text_hash FROM staging.ticket_embeddings WHERE week_start < $cutoff
    EXCEPT (SELECT text_hash FROM staging.redacted_tickets WHERE week_start >= $cutoff
            UNION SELECT text_hash FROM staging.ticket_embeddings WHERE week_start >= $cutoff
            UNION SELECT text_hash FROM staging.resolved_tickets WHERE week_start >= $cutoff
            UNION SELECT text_hash FROM raw.help_center_articles)"""


def newest_ticket_week(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest week the warehouse holds tickets of: the week retention counts back from."""
    return scalar(con, "SELECT max(week_start) FROM raw.tickets") if table_exists(con, "raw.tickets") else None


def retired_before(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest retention cutoff: weeks before it hold aggregates only and are never run again."""
    if not table_exists(con, "ops.retention"):
        return None
    return scalar(con, "SELECT max(cutoff) FROM ops.retention")


def retired_tickets(con: duckdb.DuckDBPyConnection, cutoff: date) -> list[str]:
    """The tickets of the weeks before `cutoff`: those a retention there deletes."""
    return [r[0] for r in con.execute("SELECT ticket_id FROM raw.tickets WHERE week_start < $cutoff UNION SELECT "
                                      "ticket_id FROM staging.redacted_tickets WHERE week_start < $cutoff ORDER BY 1",
                                      {"cutoff": cutoff}).fetchall()]


def retired_rows(con: duckdb.DuckDBPyConnection, cutoff: date) -> dict[str, int]:
    """Per table, the rows a retention at `cutoff` deletes (the embedding cache: the vectors of texts
    only deleted tickets had), and per column the rows that stay and lose the deleted tickets' ids
    or quotes, as an erasure of them does."""
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t} WHERE {_retired(t)}", {"cutoff": cutoff}).fetchone()[0])
              for t in TICKET_TABLES if table_exists(con, t)}
    if table_exists(con, EMBEDDING_CACHE):
        counts[EMBEDDING_CACHE] = int(con.execute(f"SELECT count(*) FROM {EMBEDDING_CACHE} WHERE text_hash IN "
                                                  f"({_RETIRED_HASHES})", {"cutoff": cutoff}).fetchone()[0])
    tickets = retired_tickets(con, cutoff)
    return counts | kept_rows_naming(con, tickets) | llm_answers(con, tickets, delete=False)


def _retired(table: str) -> str:
    return _RETIRED.get(table, "week_start < $cutoff")


def report_files(con: duckdb.DuckDBPyConnection, cutoff: date, reports: Path) -> list[Path]:
    """The report files (HTML and Markdown) of the weeks before `cutoff` in `reports`, the folder the
    settings name now: the paths stored when they were written may name another folder (a restored
    or moved warehouse kept every retired report; a copy's retention would have deleted its original's)."""
    weeks = [w for (w,) in con.execute("SELECT week_start FROM marts.weekly_reports WHERE week_start < ? "
                                       "ORDER BY week_start", [cutoff]).fetchall()]
    return [f for w in weeks for f in (reports / report_file(w, "html"), reports / report_file(w, "md")) if f.exists()]


def retire(con: duckdb.DuckDBPyConnection, cutoff: date, keep_weeks: int, rewritten: Sequence[date]) -> dict[str, int]:
    """Delete the ticket-level rows of the weeks before `cutoff` and their reports' text, and the text of
    the kept reports to write again (`rewritten`), and record the cutoff, in one transaction; returns
    the rows deleted per table. The report files are the caller's."""
    counts = retired_rows(con, cutoff)

    def delete() -> None:
        tickets = retired_tickets(con, cutoff)
        scrub_kept_rows(con, tickets)  # while their texts tell their quotes
        llm_answers(con, tickets, delete=True)
        if EMBEDDING_CACHE in counts:  # before the tickets that name the hashes go
            con.execute(f"DELETE FROM {EMBEDDING_CACHE} WHERE text_hash IN ({_RETIRED_HASHES})", {"cutoff": cutoff})
        for table in (t for t in TICKET_TABLES if t in counts):
            con.execute(f"DELETE FROM {table} WHERE {_retired(table)}", {"cutoff": cutoff})
        con.execute("UPDATE marts.weekly_reports SET markdown = NULL, html_path = NULL WHERE week_start < ?", [cutoff])
        clear_reports(con, rewritten)
        con.execute("INSERT INTO ops.retention VALUES (?, ?, ?, ?)",
                    [cutoff, keep_weeks, datetime.now(UTC).replace(tzinfo=None), counts.get("raw.tickets", 0)])

    in_transaction(con, delete)
    return counts


def retain(path: str | Path, keep_weeks: int, window_weeks: int, reports: Path, wait_seconds: float,
           on_wait: Callable[[str], None], rewrite: Callable[[Sequence[date]], None]) -> list[str]:
    """`apply_retention` under the writer lock; then `rewrite` (the caller's run of `weekly_report`, which
    takes the lock itself) writes the kept reports that showed deleted weeks again from what stays,
    and the deleted rows' bytes leave the disk: a DuckDB file keeps them in its blocks (it grew from
    15.2 to 16.8 MB with 1,166 tickets deleted) until rewritten anew, a DuckLake in its files."""
    with access.writer_lock(path, "ticket-intel retention", wait_seconds, on_wait), open_warehouse(path) as con:
        before = retired_before(con)
        lines, rewritten = apply_retention(con, keep_weeks, window_weeks, reports, dry_run=False)
        deleted = retired_before(con) != before
    if deleted:
        rewrite(rewritten)
        with access.writer_lock(path, "ticket-intel retention", wait_seconds, on_wait):
            drop_deleted_bytes(path)
    return lines


# How a DuckLake lets go of deleted rows, in order. A DELETE or UPDATE only marks rows deleted (in a
# delete file, or in the catalog for rows inlined there); the rows stay in their data file, which
# the current snapshot still reads, so expiring snapshots alone deleted no file (an erase left the
# erased tickets' ids in 10 of the lake's 19 parquet files, the account's name in 6 catalog rows).
# Inlined rows are flushed to files, every file with a deleted row is rewritten without it, then the
# snapshots that read the old files expire and the files are deleted.
_LAKE_DROP = ("ducklake_flush_inlined_data('{lake}')", "ducklake_rewrite_data_files('{lake}', delete_threshold => 0)",
              "ducklake_expire_snapshots('{lake}', older_than => now())",
              "ducklake_cleanup_old_files('{lake}', cleanup_all => true)")


def drop_deleted_bytes(path: str | Path) -> None:
    """Deleted rows' bytes gone from disk, under the caller's writer lock: a DuckDB file is rewritten
    anew and its snapshot published, a DuckLake's files rewritten without them (`_LAKE_DROP`)."""
    if target.is_lake_target(str(path)):
        with open_warehouse(path) as con:
            for call in _LAKE_DROP:
                con.execute(f"CALL {call.format(lake=target.LAKE_NAME)}")
        return
    compact(Path(path))
    access.publish_snapshot(path)


def compact(path: Path) -> None:
    """Rewrite a DuckDB-file warehouse into a new file holding its rows only, and put it in its place."""
    fresh = path.with_name(f"{path.stem}.compact{path.suffix}")
    fresh.unlink(missing_ok=True)
    try:
        copy_warehouse(path, fresh)
        access.fsync(fresh)
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise


def apply_retention(con: duckdb.DuckDBPyConnection, keep_weeks: int, window_weeks: int, reports: Path,
                    dry_run: bool) -> tuple[list[str], list[date]]:
    """Keep the ticket-level rows of the newest `keep_weeks` weeks only (`dry_run`: say what would go),
    the report files of the weeks before them (in `reports`) deleted too, and those of the kept weeks
    whose window held a deleted week (they named its customers: 12 of them in PowerToys' first kept
    week) emptied, to write again; returns the lines saying what went, and those weeks."""
    newest = newest_ticket_week(con)
    if newest is None:
        return ["nothing to delete: the warehouse holds no ticket"], []
    cutoff = retention_cutoff(newest, keep_weeks, window_weeks)
    weeks, files = retired_weeks(con, cutoff), report_files(con, cutoff, reports)
    rewritten = [w for w in reports_holding(con, weeks[0], weeks[-1], window_weeks) if w >= cutoff] if weeks else []
    rows = retired_rows(con, cutoff) if dry_run or not weeks else retire(con, cutoff, keep_weeks, rewritten)
    if weeks and not dry_run:
        for file in files:
            file.unlink(missing_ok=True)
        delete_report_files(reports, rewritten)
    return retention_lines(cutoff, weeks, rows, len(files), rewritten, dry_run), rewritten


def retired_weeks(con: duckdb.DuckDBPyConnection, cutoff: date) -> Sequence[date]:
    """The weeks before `cutoff` that still hold tickets: what a retention there removes."""
    return [w for (w,) in con.execute("SELECT DISTINCT week_start FROM raw.tickets WHERE week_start < ? "
                                      "ORDER BY 1", [cutoff]).fetchall()]

"""Erasure of one customer's (or one ticket's) personal data from every table, in one transaction.

The rows of their tickets go from the tables `personal.TICKET_TABLES` lists, with the vectors only
those tickets had; rows that stay (per week and theme) lose the tickets' ids and read ERASED where
they quoted them; the affected weeks' reports lose their text and files, to be written again by
the caller; and the tickets' hashed ids are denylisted, so an export still holding them does not
bring them back (`erased_filter`, read at ingest).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from ticket_intel.core.erasure import Erasure, Sources, scrub_list, scrub_text, ticket_hash, unknown_message
from ticket_intel.core.report import report_file
from ticket_intel.warehouse.access import NotFound
from ticket_intel.warehouse.connection import in_transaction, read
from ticket_intel.warehouse.personal import (
    ACCOUNT_NOTES,
    ACCOUNT_SEGMENTS,
    ALERT_EXAMPLES,
    COPIED_TEXT,
    EMBEDDING_CACHE,
    LLM_ANSWERS,
    QUOTED_TEXTS,
    TICKET_ID_LISTS,
    TICKET_TABLES,
)
from ticket_intel.warehouse.schema import table_exists

DENYLIST = "ops.erased_tickets"
REPORTS = "marts.weekly_reports"
_KEYS = {"ticket_id": "$t", "customer_id": "$c"}  # the erased tickets and customers, as query parameters


def erased_filter(column: str = "ticket_id") -> str:
    """A WHERE condition keeping the rows whose `column` names no erased ticket (for ingest)."""
    return f"sha256({column}) NOT IN (SELECT ticket_hash FROM {DENYLIST})"


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> duckdb.DuckDBPyConnection:
    """`sql` with those of `params` it names ($t, $c): DuckDB refuses any other."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _tables(con: duckdb.DuckDBPyConnection, tables: dict) -> dict:
    return {t: c for t, c in tables.items() if table_exists(con, t)}


def find_erasure(con: duckdb.DuckDBPyConnection, customers: Sequence[str], tickets: Sequence[str]) -> Erasure:
    """The tickets of `customers` and the `tickets` named that the warehouse holds; raises NotFound
    when it holds none of them (nor a row of those customers)."""
    keyed = {t: c for t, c in _tables(con, TICKET_TABLES).items() if c == "ticket_id"}
    of_customers = " UNION ".join(f"SELECT ticket_id FROM {t} WHERE customer_id IN (SELECT unnest($c))"
                                  for t in ("raw.tickets", "staging.redacted_tickets") if t in keyed)
    named = " UNION ".join([f"SELECT ticket_id FROM {t} WHERE ticket_id IN (SELECT unnest($t))" for t in keyed] + [
        f"SELECT unnest({c}) AS ticket_id FROM {t}" for t, c in _tables(con, TICKET_ID_LISTS).items()])
    found = [r[0] for r in _run(con, f"SELECT DISTINCT ticket_id FROM ({of_customers} UNION SELECT * FROM "
                                     f"({named}) WHERE ticket_id IN (SELECT unnest($t))) ORDER BY 1",
                                {"c": list(customers), "t": list(tickets)}).fetchall()]
    if not found and not con.execute("SELECT count(*) FROM marts.theme_customers WHERE customer_id IN "
                                     "(SELECT unnest(?))", [list(customers)]).fetchone()[0]:
        raise NotFound(unknown_message({"customer": customers, "ticket": tickets}))
    return Erasure(found, list(customers))


def plan_erasure(con: duckdb.DuckDBPyConnection, customers: Sequence[str], tickets: Sequence[str],
                 window_weeks: int) -> Erasure:
    """`find_erasure` with the rows each table would lose, the reports to write again and the tracker
    issues of the tickets' themes (outside the warehouse: for a person to erase)."""
    e = find_erasure(con, customers, tickets)
    params = {"t": e.tickets, "c": e.customers}
    for table, column in _tables(con, TICKET_TABLES).items():
        e.rows[table] = _run(con, f"SELECT count(*) FROM {table} WHERE {column} IN (SELECT unnest({_KEYS[column]}))",
                             params).fetchone()[0]
    if table_exists(con, EMBEDDING_CACHE):
        e.rows[EMBEDDING_CACHE] = _run(con, f"SELECT count(*) FROM {EMBEDDING_CACHE} WHERE text_hash IN "
                                       f"({_ERASED_HASHES})", params).fetchone()[0]
    e.rows.update(kept_rows_naming(con, e.tickets))
    e.rows.update(llm_answers(con, e.tickets, delete=False))
    e.rows.update(_account_claims(con, _lone_accounts(con, e.tickets), delete=False))
    weeks = list(_run(con, f"SELECT min(week_start), max(week_start) FROM ({_ERASED_WEEKS})", params).fetchone())
    if weeks[0] is not None:
        e.report_weeks = reports_holding(con, weeks[0], weeks[1], window_weeks)
    if table_exists(con, "ops.backlog_links"):
        e.tracker_issues = [r[0] for r in _run(con,
            "SELECT DISTINCT issue_key FROM ops.backlog_links WHERE theme_id IN (SELECT theme_id FROM "
            "staging.ticket_clusters WHERE ticket_id IN (SELECT unnest($t))) ORDER BY 1", params).fetchall()]
    return e


def reports_holding(con: duckdb.DuckDBPyConnection, first: date, last: date, window_weeks: int) -> list[date]:
    """The weeks with a report whose window (the week and the `window_weeks` - 1 before it) holds a week
    of `first`..`last`: the reports that may name those weeks' customers or quote their tickets."""
    return [r[0] for r in con.execute(
        f"SELECT week_start FROM {REPORTS} WHERE markdown IS NOT NULL AND week_start BETWEEN ? AND ? ORDER BY 1",
        [first, last + timedelta(weeks=window_weeks - 1)]).fetchall()]


def clear_reports(con: duckdb.DuckDBPyConnection, weeks: Sequence[date]) -> None:
    """The reports of `weeks` lose their text, to be written again from what stays."""
    con.execute(f"UPDATE {REPORTS} SET markdown = NULL WHERE week_start IN (SELECT unnest(?))", [list(weeks)])


def delete_report_files(reports: Path, weeks: Sequence[date]) -> None:
    """The report files (HTML and Markdown) of `weeks` in `reports`, written again by the caller."""
    for week in weeks:
        for kind in ("html", "md"):
            (reports / report_file(week, kind)).unlink(missing_ok=True)


# Text hashes only the erased tickets have ($t), not another ticket or a help-center article.
_ERASED_HASHES = """
    SELECT text_hash FROM staging.redacted_tickets WHERE ticket_id IN (SELECT unnest($t))
    UNION SELECT text_hash FROM staging.ticket_embeddings WHERE ticket_id IN (SELECT unnest($t))
    UNION SELECT text_hash FROM staging.resolved_tickets WHERE ticket_id IN (SELECT unnest($t))
    EXCEPT (SELECT text_hash FROM staging.redacted_tickets WHERE ticket_id NOT IN (SELECT unnest($t))
            UNION SELECT text_hash FROM staging.ticket_embeddings WHERE ticket_id NOT IN (SELECT unnest($t))
            UNION SELECT text_hash FROM staging.resolved_tickets WHERE ticket_id NOT IN (SELECT unnest($t))
            UNION SELECT text_hash FROM raw.help_center_articles)"""
# The weeks an erased ticket ($t) or customer ($c) shows in: its own, and those whose window holds it.
_ERASED_WEEKS = """
    SELECT week_start FROM raw.tickets WHERE ticket_id IN (SELECT unnest($t))
    UNION SELECT week_start FROM staging.ticket_clusters WHERE ticket_id IN (SELECT unnest($t))
    UNION SELECT week_start FROM marts.theme_customers WHERE customer_id IN (SELECT unnest($c))"""


def erase(con: duckdb.DuckDBPyConnection, customers: Sequence[str], tickets: Sequence[str], window_weeks: int,
          reports: Path) -> Erasure:
    """Erase what `plan_erasure` finds, in one transaction, and delete the affected weeks' report files
    in `reports` (the caller writes them again); returns the plan."""
    e = plan_erasure(con, customers, tickets, window_weeks)
    params = {"t": e.tickets, "c": e.customers}

    def delete() -> None:
        scrub_kept_rows(con, e.tickets)
        llm_answers(con, e.tickets, delete=True)
        _account_claims(con, _lone_accounts(con, e.tickets), delete=True)
        if EMBEDDING_CACHE in e.rows:
            _run(con, f"DELETE FROM {EMBEDDING_CACHE} WHERE text_hash IN ({_ERASED_HASHES})", params)
        for table, column in _tables(con, TICKET_TABLES).items():
            _run(con, f"DELETE FROM {table} WHERE {column} IN (SELECT unnest({_KEYS[column]}))", params)
        clear_reports(con, e.report_weeks)
        con.execute(f"INSERT INTO {DENYLIST} SELECT h, ? FROM (SELECT unnest(?) AS h) WHERE h NOT IN "
                    f"(SELECT ticket_hash FROM {DENYLIST})",
                    [datetime.now(UTC).replace(tzinfo=None), [ticket_hash(t) for t in e.tickets]])

    in_transaction(con, delete)
    delete_report_files(reports, e.report_weeks)
    return e


def kept_rows_naming(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> dict[str, int]:
    """Per table and column, the rows that stay (per week and theme) naming or quoting `tickets`:
    what `scrub_kept_rows` changes."""
    rows = {f"{table}.{column}": con.execute(f"SELECT count(*) FROM {table} WHERE list_has_any({column}, $t)",
                                             {"t": list(tickets)}).fetchone()[0]
            for table, column in {**_tables(con, TICKET_ID_LISTS), ALERT_EXAMPLES[0]: ALERT_EXAMPLES[1]}.items()}
    for table, column, _, _ in _scrubbed(con, tickets):
        rows[f"{table}.{column}"] = rows.get(f"{table}.{column}", 0) + 1
    return rows


def llm_answers(con: duckdb.DuckDBPyConnection, tickets: Sequence[str], delete: bool) -> dict[str, int]:
    """The cached LLM answers whose prompt held one of `tickets` (deleted with `delete`), and those that
    record no tickets: no one can tell whose they are. None when no ticket goes."""
    table, column = LLM_ANSWERS
    if not tickets or not table_exists(con, table):
        return {}
    where = f"{column} IS NULL OR list_has_any({column}, $t)"
    n = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", {"t": list(tickets)}).fetchone()[0]
    if delete and n:
        con.execute(f"DELETE FROM {table} WHERE {where}", {"t": list(tickets)})
    return {table: n}


def scrub_kept_rows(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> None:
    """Rows that stay lose the ids of `tickets` and read ERASED where they quote them; before the
    tickets' own rows go (their texts tell the quotes)."""
    for table, column, row, value in _scrubbed(con, tickets):
        con.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [value, row])
    _scrub_ids(con, tickets)


def _quoted_texts(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> list[str]:
    """The erased tickets' texts a quote may have been taken from."""
    texts: list[str] = []
    for table, columns in _tables(con, QUOTED_TEXTS).items():
        for row in con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE ticket_id IN (SELECT unnest(?))",
                               [list(tickets)]).fetchall():
            texts += [t for t in row if t]
    return texts


def _lone_accounts(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> list[str]:
    """The accounts only the erased tickets had."""
    return [r[0] for r in con.execute(
        "SELECT account_id FROM raw.tickets WHERE ticket_id IN (SELECT unnest($t)) AND account_id IS NOT NULL "
        "EXCEPT SELECT account_id FROM raw.tickets WHERE ticket_id NOT IN (SELECT unnest($t))",
        {"t": list(tickets)}).fetchall()]


def _account_claims(con: duckdb.DuckDBPyConnection, accounts: list[str], delete: bool) -> dict[str, int]:
    """The segment claims naming `accounts`, per table (deleted with `delete`): the segment rows,
    and the ranked themes' notes that state them."""
    if not accounts or not table_exists(con, ACCOUNT_SEGMENTS):
        return {}
    table, notes = ACCOUNT_NOTES
    stating = f"list_filter({notes}, n -> list_bool_or([strpos(n, 'account ' || a) > 0 FOR a IN $a]))"
    claims = {ACCOUNT_SEGMENTS: (ACCOUNT_SEGMENTS, "field = 'account' AND value IN (SELECT unnest($a))"),
              f"{table}.{notes}": (table, f"len({stating}) > 0")}
    counts = {name: con.execute(f"SELECT count(*) FROM {t} WHERE {w}", {"a": accounts}).fetchone()[0]
              for name, (t, w) in claims.items()}
    if delete:
        con.execute(f"DELETE FROM {ACCOUNT_SEGMENTS} WHERE {claims[ACCOUNT_SEGMENTS][1]}", {"a": accounts})
        con.execute(f"UPDATE {table} SET {notes} = list_filter({notes}, n -> NOT list_bool_or("
                    f"[strpos(n, 'account ' || a) > 0 FOR a IN $a])) WHERE len({stating}) > 0", {"a": accounts})
    return counts


def _scrub_ids(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> None:
    """Rows that stay lose the erased ids, and their alerts each erased example with its quote."""
    for table, column in _tables(con, TICKET_ID_LISTS).items():
        con.execute(f"UPDATE {table} SET {column} = list_filter({column}, x -> NOT list_contains($t, x)) "
                    f"WHERE list_has_any({column}, $t)", {"t": list(tickets)})
    table, ids, lines = ALERT_EXAMPLES
    for key, shown, said in con.execute(f"SELECT alert_key, {ids}, {lines} FROM {table} WHERE list_has_any({ids}, ?)",
                                        [list(tickets)]).fetchall():
        kept = [i for i, t in enumerate(shown) if t not in tickets]
        con.execute(f"UPDATE {table} SET {ids} = ?, {lines} = ? WHERE alert_key = ?",
                    [[shown[i] for i in kept], None if said is None else [said[i] for i in kept if i < len(said)], key])


def _scrubbed(con: duckdb.DuckDBPyConnection, tickets: Sequence[str]) -> list[tuple[str, str, int, object]]:
    """Each text of a row that stays quoting an erased ticket, as it reads with ERASED there:
    (table, column, rowid, the new value)."""
    sources = Sources.of(_quoted_texts(con, tickets))
    out = []
    for table, columns in _tables(con, COPIED_TEXT).items():
        rows = read(con, f"SELECT rowid AS _row, {', '.join(columns)} FROM {table}")
        for column in columns:
            for row, value in zip(rows["_row"], rows[column], strict=True):
                if value is None or isinstance(value, float):  # NULL
                    continue
                listed = not isinstance(value, str)
                scrubbed = scrub_list(list(value), sources) if listed else scrub_text(value, sources)
                if scrubbed != (list(value) if listed else value):
                    out.append((table, column, int(row), scrubbed))
    return out

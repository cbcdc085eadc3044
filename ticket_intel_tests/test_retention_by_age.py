"""Retention by age: nothing was ever removed but by a prune, so a warehouse run weekly for years kept
every ticket's text, vector, triage and customers (about 10 KB a ticket) forever. `ticket-intel
retention --keep-weeks N` deletes the ticket-level rows of the weeks before the newest N and their
report files, keeps every week's aggregates, refuses to cut into the window the next run clusters,
and no later run ingests a retired week again from an export still in the inbox."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd
import pytest
from click.testing import CliRunner

from ticket_intel import runner
from ticket_intel import warehouse as wh
from ticket_intel.cli import main
from ticket_intel.core.retention import retention_cutoff
from ticket_intel.warehouse.access import snapshot_path
from ticket_intel.warehouse.retention import apply_retention, retain

FIRST = dt.date(2026, 9, 7)
WEEKS = [FIRST + dt.timedelta(weeks=i) for i in range(10)]
SHARED, ARTICLE = "h-shared", "h-article"  # a text an old and a kept ticket share; a help center article's


def _warehouse(tmp_path):
    """Ten weeks of one ticket each, with its rows in every ticket-level table, a ranked theme, an alert
    and a report per week; the first and the last ticket share a text."""
    path, reports = tmp_path / "w.duckdb", tmp_path / "reports"
    reports.mkdir()
    with wh.open_warehouse(path) as con:
        for i, week in enumerate(WEEKS):
            tid, text_hash = f"fd:{i}", SHARED if i in (0, 9) else f"h{i}"
            con.execute("INSERT INTO raw.tickets (ticket_id, source, source_id, created_at, week_start, message, "
                        "source_file) VALUES (?, 'freshdesk', ?, ?, ?, ?, '/in/a.csv')",
                        [tid, str(i), week, week, "my card was declined"])
            con.execute("INSERT INTO staging.redacted_tickets (ticket_id, week_start, created_at, text, text_hash) "
                        "VALUES (?, ?, ?, 'my card was declined', ?)", [tid, week, week, text_hash])
            con.execute("INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id) "
                        "VALUES (?, ?, ?, 'T1')", [week, tid, week])
            con.execute("INSERT INTO marts.ticket_triage (week_start, ticket_id) VALUES (?, ?)", [week, tid])
            con.execute("INSERT INTO marts.theme_customers (week_start, theme_id, customer_id) VALUES (?, 'T1', ?)",
                        [week, f"c{i}"])
            con.execute("INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets) "
                        "VALUES (?, 1, 'T1', 'Card declined', 1)", [week])
            con.execute("INSERT INTO ops.alerts (alert_key, week_start, theme_id, kind) VALUES (?, ?, 'T1', 'spike')",
                        [f"a{i}", week])
            html = reports / f"ticket_intel_{week}.html"
            html.write_text("report")
            html.with_suffix(".md").write_text("report")
            con.execute("INSERT INTO marts.weekly_reports (week_start, markdown, html_path, run_id) "
                        "VALUES (?, 'report', ?, 'r1')", [week, str(html)])
        wh.ensure_embedding_schema(con, 2)
        for h in {SHARED, ARTICLE, *(f"h{i}" for i in range(1, 9))}:
            con.execute("INSERT INTO ops.embedding_cache VALUES ('m', ?, [0.0, 1.0])", [h])
        con.execute("INSERT INTO raw.help_center_articles (article_id, title, text, text_hash) "
                    "VALUES ('kb1', 'Cards', 'Card declined?', ?)", [ARTICLE])
    return path


PLANTED = {"fd:1": "planted-retired 4711 my card", "fd:3": "planted-erased 4712 my card"}  # a retired week's, a kept week's


def postgres_lake(tmp_path, postgres_db: str, monkeypatch) -> str:
    """`_warehouse` copied into a DuckLake whose catalog is in PostgreSQL, fd:1 and fd:3 with texts of
    their own, fd:3 of customer c3 (its text quoted in a ranked summary), and 20 more tickets: a table
    of 10 rows or fewer is inlined in the catalog, a larger one goes to parquet files, and both must
    let go of deleted rows."""
    from ticket_intel.warehouse.transfer import copy_warehouse

    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE_DATA_PATH", str(tmp_path / "lake_files"))
    path = _warehouse(tmp_path)
    with wh.open_warehouse(path) as con:
        for tid, text in PLANTED.items():
            con.execute("UPDATE raw.tickets SET message = ?, customer_id = ? WHERE ticket_id = ?", [text, f"c{tid[3:]}", tid])
            con.execute("UPDATE staging.redacted_tickets SET text = ? WHERE ticket_id = ?", [text, tid])
        con.execute("UPDATE marts.ranked_themes SET summary = ? WHERE week_start = ?", [f"typically: “{PLANTED['fd:3']}”", WEEKS[3]])
        con.execute("INSERT INTO raw.tickets (ticket_id, source, source_id, created_at, week_start, message, source_file) "
                    "SELECT 'fd:x' || i, 'freshdesk', 'x' || i, ?, ?, 'my card was declined', '/in/a.csv' FROM range(20) t(i)",
                    [WEEKS[9], WEEKS[9]])
    lake = f"ducklake:postgres:{postgres_db}"
    copy_warehouse(path, lake)
    return lake


def lake_traces(data, conninfo: str, needles: list[str]) -> dict[str, list[str]]:
    """Where `needles` are in a DuckLake's bytes: its parquet files read whole (rows a delete file or a
    later snapshot deleted included), and every table of its PostgreSQL catalog (inlined rows)."""
    import duckdb
    import psycopg2

    found: dict[str, list[str]] = {"files": [], "catalog": []}
    with duckdb.connect() as con:
        for file in sorted(data.rglob("*.parquet")):
            rows = " ".join(str(r[0]) for r in con.execute("SELECT CAST(t AS VARCHAR) FROM read_parquet(?) t", [str(file)]).fetchall())
            found["files"] += [f"{file.parent.name}: {n}" for n in needles if n in rows]
    pg = psycopg2.connect(conninfo)
    with pg.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT t::text FROM "{table}" t')
            rows = " ".join(r[0] for r in cur.fetchall())
            found["catalog"] += [f"{table}: {n}" for n in needles if n in rows]
    pg.close()
    return found


def _no_run(weeks) -> None:
    """The CLI's run of `weekly_report` that writes reports again, which these tests of the warehouse
    layer leave out."""


def _count(path, sql: str) -> int:
    with wh.open_warehouse(path, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_retention_deletes_the_old_weeks_tickets_and_reports_and_keeps_every_weeks_aggregates(tmp_path):
    path = _warehouse(tmp_path)
    with wh.open_warehouse(path) as con:
        said, _ = apply_retention(con, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", dry_run=True)
    assert said[0].startswith("would delete the ticket-level rows of the 2 weeks 2026-09-07..2026-09-14 "
                              "(before the week of 2026-09-21) and 4 report files")
    assert "  raw.tickets: 2 rows" in said and "  ops.embedding_cache: 1 rows" in said
    assert "cannot be undone" in said[-1]
    assert _count(path, "SELECT count(*) FROM raw.tickets") == 10  # a dry run deletes nothing
    assert len(list((tmp_path / "reports").iterdir())) == 20

    said = retain(path, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", wait_seconds=0, on_wait=print,
                  rewrite=_no_run)
    assert said[0].startswith("deleted the ticket-level rows of the 2 weeks")
    for table in ("raw.tickets", "staging.redacted_tickets", "staging.ticket_clusters", "marts.ticket_triage",
                  "marts.theme_customers"):
        assert _count(path, f"SELECT min(week_start) FROM {table}") == WEEKS[2], table
    for table in ("marts.ranked_themes", "ops.alerts", "marts.weekly_reports"):  # history reads on
        assert _count(path, f"SELECT count(*) FROM {table}") == 10, table
    assert _count(path, "SELECT count(*) FROM marts.weekly_reports WHERE html_path IS NULL") == 2
    # the vector of a text only deleted tickets had goes; one a kept ticket or an article uses stays
    assert _count(path, "SELECT list(text_hash ORDER BY text_hash) FROM ops.embedding_cache") == [
        ARTICLE, SHARED, *(f"h{i}" for i in range(2, 9))]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [  # the others are written again
        "ticket_intel_2026-11-09.html", "ticket_intel_2026-11-09.md"]
    assert _count(snapshot_path(path), "SELECT count(*) FROM raw.tickets") == 8  # readers see it
    assert retain(path, 8, 8, tmp_path / "reports", 0, print, _no_run) == ["nothing to delete: no ticket-level row is older than the week "
                                            "of 2026-09-21"]


def test_retention_refuses_to_cut_into_the_window_the_next_run_clusters(tmp_path):
    assert retention_cutoff(WEEKS[-1], 8, 8) == WEEKS[2]
    with pytest.raises(ValueError, match=r"read the 8 weeks ending with it .*keep at least 8"):
        retention_cutoff(WEEKS[-1], 7, 8)
    path = _warehouse(tmp_path)
    result = CliRunner().invoke(main, ["retention", "--warehouse", str(path), "--keep-weeks", "4"])
    assert result.exit_code != 0 and "--keep-weeks 4 would delete tickets the next run clusters" in result.output
    assert _count(path, "SELECT count(*) FROM raw.tickets") == 10


def test_a_week_before_the_retention_cutoff_is_never_run_again(tmp_path):
    """An inbox that keeps its old exports still gives the retired weeks' tickets: a run of every week
    after an upgrade (or a changed setting) would ingest them again, and overwrite their themes."""
    from ticket_intel.defs.ingest import CompleteRun
    from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS

    path = _warehouse(tmp_path)
    files = pd.DataFrame({"source_file": ["/in/a.csv"], "file_hash": ["h"], "error": [None]})
    staged = (Counter({w: 1 for w in WEEKS}), files, None, {w: "d" for w in WEEKS})
    upgraded = CompleteRun("r1", {WEEK_TICKETS: {w.isoformat(): "d" for w in WEEKS}, RUN_INPUTS: "before"})
    keys = {w.isoformat() for w in WEEKS}
    plan, _ = runner.plan_changed(tmp_path, path, staged, keys, "", lambda w: upgraded)
    assert (plan.start, plan.with_tickets) == (WEEKS[0], 10)
    retain(path, 8, 8, tmp_path / "reports", 0, print, _no_run)
    plan, _ = runner.plan_changed(tmp_path, path, staged, keys, "", lambda w: upgraded)
    assert (plan.start, plan.end, plan.with_tickets) == (WEEKS[2], WEEKS[-1], 8)



def test_retention_on_a_ducklake_leaves_no_snapshot_holding_the_deleted_tickets(tmp_path, monkeypatch):
    """A DuckLake keeps deleted rows in its earlier snapshots (time travel) until they are expired."""
    from ticket_intel.warehouse.transfer import copy_warehouse

    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE_DATA_PATH", str(tmp_path / "lake_files"))
    lake = f"ducklake:{tmp_path}/catalog.ducklake"
    copy_warehouse(_warehouse(tmp_path), lake)
    assert retain(lake, 8, 8, tmp_path / "reports", 0, print, _no_run)[0].startswith("deleted the ticket-level rows of the 2 weeks")
    with wh.open_warehouse(lake) as con:
        assert con.execute("SELECT count(*), min(week_start) FROM raw.tickets").fetchone() == (8, WEEKS[2])
        assert con.execute("SELECT count(*) FROM marts.ranked_themes").fetchone()[0] == 10
        assert con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0] == 1


def test_retention_deletes_the_reports_in_the_folder_the_settings_name_not_where_they_were_written(tmp_path):
    """The stored report paths name the folder the reports were written to: on a restored or moved
    warehouse a folder that is gone (every retired report stayed), on a copy the original's (a copy's
    retention deleted the original's reports)."""
    path = _warehouse(tmp_path)  # its stored paths name tmp_path/reports: the original's
    mine = tmp_path / "copy_reports"
    mine.mkdir()
    for week in WEEKS:
        (mine / f"ticket_intel_{week}.html").write_text("report")
    retain(path, 8, 8, mine, 0, print, _no_run)
    assert sorted(f.name for f in mine.iterdir()) == [f"ticket_intel_{WEEKS[9]}.html"]  # the rest written again
    assert len(list((tmp_path / "reports").iterdir())) == 20  # the original's are not this warehouse's


def test_retention_deletes_kept_weeks_customer_rows_whose_every_ticket_it_deleted(tmp_path):
    """A kept week's customer rows count its window's tickets: PowerToys' AhmedYeamin, whose one ticket
    (week 2024-08-05) retention deleted, stayed in five kept weeks' theme_customers, reports and
    `export --customers` (privacy review: 236 such customers after --keep-weeks 8). Such rows go;
    a customer with a kept ticket keeps the row."""
    path = _warehouse(tmp_path)
    with wh.open_warehouse(path) as con:
        for customer, last in (("c-gone", WEEKS[1]), ("c-kept", WEEKS[2])):  # cutoff: WEEKS[2]
            con.execute("INSERT INTO marts.theme_customers (week_start, theme_id, customer_id, tickets, first_ticket_at, "
                        "last_ticket_at) VALUES (?, 'T1', ?, 2, ?, ?)", [WEEKS[8], customer, WEEKS[0], last])
        said, _ = apply_retention(con, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", dry_run=True)
    assert "  marts.theme_customers: 3 rows" in said  # c0 and c1 of their own weeks, and c-gone
    retain(path, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", wait_seconds=0, on_wait=print,
           rewrite=_no_run)
    with wh.open_warehouse(path, read_only=True) as con:
        kept = {r[0] for r in con.execute("SELECT customer_id FROM marts.theme_customers WHERE week_start = ?",
                                          [WEEKS[8]]).fetchall()}
    assert kept == {"c8", "c-kept"}


def test_retention_on_a_postgres_ducklake_leaves_no_deleted_ticket_in_its_files_or_catalog(tmp_path, postgres_db, monkeypatch):
    """Expiring snapshots deleted no file: the current snapshot still read the files holding the deleted
    rows (marked deleted beside them), and rows inlined in the catalog stayed there."""
    lake = postgres_lake(tmp_path, postgres_db, monkeypatch)
    assert lake_traces(tmp_path / "lake_files", postgres_db, [PLANTED["fd:1"]])["files"]
    retain(lake, 8, 8, tmp_path / "reports", 0, print, _no_run)
    assert lake_traces(tmp_path / "lake_files", postgres_db, [PLANTED["fd:1"], "fd:1"]) == {"files": [], "catalog": []}
    with wh.open_warehouse(lake, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.tickets").fetchone()[0] == 28


def test_retention_writes_again_the_kept_reports_whose_window_held_a_deleted_week(tmp_path):
    """A kept week's report covers its window: on a PowerToys copy (--keep-weeks 8) the reports of six of
    the seven kept weeks whose window reached back still named customers whose every ticket retention
    deleted (30 names; 12 in the first). Those reports lose their text and files and are written again
    (the CLI's run of weekly_report, as after an erase); the weeks after them stay as they are."""
    path, written = _warehouse(tmp_path), []
    with wh.open_warehouse(path) as con:
        said, weeks = apply_retention(con, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", dry_run=True)
    assert weeks == WEEKS[2:9] and f"  reports to write again: weeks {WEEKS[2]}..{WEEKS[8]} (7)" in said

    said = retain(path, 8, 8, tmp_path / "reports", 0, print, written.extend)
    assert written == WEEKS[2:9] and f"  reports written again: weeks {WEEKS[2]}..{WEEKS[8]} (7)" in said
    with wh.open_warehouse(path, read_only=True) as con:
        assert con.execute("SELECT list(week_start ORDER BY week_start) FROM marts.weekly_reports WHERE markdown "
                           "IS NOT NULL").fetchone()[0] == [WEEKS[9]]
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {f"ticket_intel_{WEEKS[9]}.{k}" for k in ("html", "md")}


def test_retention_takes_the_deleted_tickets_ids_and_quotes_from_every_row_that_stays(tmp_path):
    """A kept week's summaries cover its window, so they named and quoted tickets of the weeks retention
    deleted (PowerToys --keep-weeks 8: 33 example ids and 79 quotes in the first kept week's summaries,
    26 ids in the kept reports), and a retired week's summaries, records and alerts all of theirs.
    Rows that stay lose them as after an erase ([erased]); what a kept ticket says stays."""
    path, gone, kept = _warehouse(tmp_path), "fd:1", "fd:8"  # cutoff WEEKS[2]
    quote = f"typically: “{PLANTED[gone]}” Another customer put it as: “the app logs me out”"
    with wh.open_warehouse(path) as con:
        for tid, text in ((gone, PLANTED[gone]), (kept, "the app logs me out")):
            con.execute("UPDATE staging.redacted_tickets SET text = ? WHERE ticket_id = ?", [text, tid])
        con.execute("INSERT INTO staging.ticket_clusters (week_start, ticket_id, ticket_week, theme_id) "
                    "VALUES (?, ?, ?, 'T1')", [WEEKS[8], gone, WEEKS[1]])  # the kept week's window reaches it
        for week in (WEEKS[1], WEEKS[8]):
            con.execute("INSERT INTO marts.cluster_summaries (week_start, theme_id, shared_issue, phrasings, "
                        "example_ticket_ids) VALUES (?, 'T1', ?, ?, ?)",
                        [week, quote, [PLANTED[gone], "the app logs me out"], [gone, kept]])
            con.execute("UPDATE marts.ranked_themes SET summary = ?, example_ticket_ids = ? WHERE week_start = ?",
                        [quote, [gone, kept], week])
            con.execute("INSERT INTO marts.not_a_theme (week_start, theme_id, ticket_ids) VALUES (?, 'N1', ?)",
                        [week, [gone, kept]])
            con.execute("INSERT INTO ops.theme_registry VALUES (?, ?, [1.0], ?, 'r1')", [f"T{week}", week, [gone, kept]])
            con.execute("UPDATE ops.alerts SET example_ticket_ids = ?, example_lines = ? WHERE week_start = ?",
                        [[gone, kept], [PLANTED[gone], "the app logs me out"], week])
        said, _ = apply_retention(con, keep_weeks=8, window_weeks=8, reports=tmp_path / "reports", dry_run=True)
    assert "  marts.cluster_summaries.example_ticket_ids: 2 rows" in said
    assert "  marts.cluster_summaries.phrasings: 2 rows" in said and "  staging.ticket_clusters: 3 rows" in said
    retain(path, 8, 8, tmp_path / "reports", 0, print, _no_run)
    with wh.open_warehouse(path, read_only=True) as con:
        for table, column in (("marts.cluster_summaries", "example_ticket_ids"), ("marts.ranked_themes",
                              "example_ticket_ids"), ("marts.not_a_theme", "ticket_ids"),
                              ("ops.theme_registry", "ticket_ids"), ("ops.alerts", "example_ticket_ids")):
            assert con.execute(f"SELECT list({column} ORDER BY week_start) FROM {table} WHERE week_start IN (?, ?)",
                               [WEEKS[1], WEEKS[8]]).fetchone()[0] == [[kept], [kept]], table
        assert con.execute("SELECT list(example_lines) FROM ops.alerts WHERE week_start IN (?, ?)",
                           [WEEKS[1], WEEKS[8]]).fetchone()[0] == [["the app logs me out"]] * 2
        said = "typically: “[erased]” Another customer put it as: “the app logs me out”"
        assert con.execute("SELECT list(shared_issue), list(phrasings) FROM marts.cluster_summaries").fetchone() == (
            [said] * 2, [["[erased]", "the app logs me out"]] * 2)
        assert con.execute("SELECT list(summary) FROM marts.ranked_themes WHERE week_start IN (?, ?)",
                           [WEEKS[1], WEEKS[8]]).fetchone()[0] == [said] * 2
        assert con.execute("SELECT count(*) FROM staging.ticket_clusters WHERE ticket_id = ?", [gone]).fetchone()[0] == 0

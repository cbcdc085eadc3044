"""A ticket once ingested stays (issue 12.2): an export removed from the inbox, or one that turned
unreadable, keeps its tickets in the warehouse and is reported as gone-but-kept; a re-export in
another file replaces the kept copy; only a prune removes them. Faults injected for real: a file
deleted between runs, a file overwritten with garbage between runs."""

from __future__ import annotations

import dagster as dg
import pytest

from ticket_intel import warehouse as wh
from ticket_intel.core.retention import count_by_weeks, kept_files, retention_message
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

WEEK = "2026-08-31"  # fd_row's default created time, 2026-09-01, falls in it
NEXT = "2026-09-08 09:00:00"


@pytest.fixture
def env(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("TICKET_INTEL_INBOX", str(inbox))
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("TICKET_INTEL_PRUNE_GONE_EXPORTS", "false")
    (inbox / "a.csv").write_text(fd_csv([fd_row("1"), fd_row("2"), fd_row("3"), fd_row("4", created=NEXT)]))
    (inbox / "b.csv").write_text(fd_csv([fd_row("11"), fd_row("12")]))
    return tmp_path


def _ingest(tmp_path, week: str = WEEK) -> tuple[dict, list[str]]:
    """Materialize raw_tickets for `week`: its metadata and the run's log lines."""
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    (tmp_path / "home").mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        result = dg.materialize([raw_tickets], partition_key=week, resources=build_resources(), instance=instance)
        lines = [e.user_message for e in instance.all_logs(result.run_id)]
    metadata = result.asset_materializations_for_node("raw_tickets")[0].metadata
    return {k: v.value for k, v in metadata.items()}, lines


def _state(tmp_path) -> tuple[dict[str, str], dict[str, tuple]]:
    with wh.open_warehouse(tmp_path / "wh.duckdb", read_only=True) as con:
        tickets = dict(con.execute("SELECT source_id, regexp_extract(source_file, '[^/]+$') "
                                   "FROM raw.tickets").fetchall())
        files = {r[0].rsplit("/", 1)[-1]: r[1:] for r in con.execute(
            "SELECT source_file, accepted, out_of_range, in_inbox, kept, error IS NOT NULL "
            "FROM ops.ingested_files").fetchall()}
    return tickets, files


def test_removed_export_keeps_its_tickets_until_pruned(env, monkeypatch):
    metadata, _ = _ingest(env)
    tickets, files = _state(env)
    assert sorted(tickets) == ["1", "11", "12", "2", "3"]
    # accepted: in the week run; the other week's ticket is counted, not dropped silently
    assert files == {"a.csv": (3, 1, True, 3, False), "b.csv": (2, 0, True, 2, False)}
    assert metadata["out_of_range_rows"] == 1

    (env / "inbox" / "b.csv").unlink()
    metadata, lines = _ingest(env)
    assert sorted(_state(env)[0]) == ["1", "11", "12", "2", "3"]
    assert _state(env)[1]["b.csv"] == (2, 0, False, 2, False)
    assert metadata["kept_from_gone_exports"] == 2
    warnings = [line for line in lines if "kept 2 tickets" in line]
    assert warnings and "b.csv" in warnings[0] and "--prune" in warnings[0]

    # A re-export of a kept ticket in a present file replaces the kept copy: one row per ticket.
    (env / "inbox" / "a.csv").write_text(fd_csv([fd_row("1"), fd_row("2"), fd_row("3"), fd_row("11", text="again")]))
    _ingest(env)
    tickets, files = _state(env)
    assert tickets == {"1": "a.csv", "2": "a.csv", "3": "a.csv", "11": "a.csv", "12": "b.csv"}
    assert files["b.csv"] == (2, 0, False, 1, False)

    monkeypatch.setenv("TICKET_INTEL_PRUNE_GONE_EXPORTS", "true")
    _ingest(env)
    tickets, files = _state(env)
    assert sorted(tickets) == ["1", "11", "2", "3"]
    assert set(files) == {"a.csv"}


def test_a_file_s_counts_are_news_in_the_run_log_when_the_export_is_new_or_changed(env):
    """Every run logged each of an inbox's files at INFO (26 weekly exports: 26 lines each week), and a
    first cut logged clean files at DEBUG, where the UI's default level hid the week's one new export.
    A new or changed export is news; one recorded as it is, its rejections included, goes to DEBUG."""
    import logging

    def levels() -> dict[str, int]:
        from ticket_intel.defs.ingest import raw_tickets
        from ticket_intel.defs.resources import build_resources

        (env / "home").mkdir(exist_ok=True)
        with dg.instance_for_test(temp_dir=str(env / "home")) as instance:
            result = dg.materialize([raw_tickets], partition_key=WEEK, resources=build_resources(), instance=instance)
            return {e.user_message.split(":")[0]: e.level for e in instance.all_logs(result.run_id)
                    if e.user_message.split(":")[0].endswith(".csv")}

    (env / "inbox" / "c.csv").write_text(fd_csv([fd_row("21"), fd_row("22", created="yesterday")]))
    assert levels() == {"a.csv": logging.INFO, "b.csv": logging.INFO, "c.csv": logging.INFO}
    (env / "inbox" / "d.csv").write_text(fd_csv([fd_row("31")]))  # next week's new export
    assert levels() == {"a.csv": logging.DEBUG, "b.csv": logging.DEBUG, "c.csv": logging.DEBUG, "d.csv": logging.INFO}


def test_a_run_with_a_broken_taxonomy_fails_before_it_reads_the_inbox(env, monkeypatch):
    """A run launched from the UI ingested, redacted, embedded and clustered the inbox before the first
    step that reads the taxonomy failed; the command line, the sensor and the schedule check first."""
    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    (env / "taxonomy.yaml").write_text("areas:\n  - name: Cards\n    keywords: [card\n")
    monkeypatch.setenv("TICKET_INTEL_TAXONOMY", str(env / "taxonomy.yaml"))
    (env / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(env / "home")) as instance:
        result = dg.materialize([raw_tickets], partition_key=WEEK, resources=build_resources(), instance=instance,
                                raise_on_error=False)
        failure = next(e for e in instance.all_logs(result.run_id) if e.dagster_event and e.dagster_event.is_step_failure)
    assert not result.success and "taxonomy.yaml, line 4" in str(failure.dagster_event.step_failure_data.error)
    assert not (env / "wh.duckdb").exists()  # the inbox was not read into a warehouse


def test_a_week_a_prune_empties_loses_its_themes_and_report(env, monkeypatch):
    """Its themes stayed listed, its report kept example texts of the pruned tickets, and the next
    week's themes continued its ids: every row derived from it goes, with its report's files."""
    from datetime import date

    _ingest(env)
    report = env / "reports" / f"ticket_intel_{WEEK}.html"
    report.parent.mkdir()
    report.write_text("<p>My card was declined</p>")
    report.with_suffix(".md").write_text("My card was declined")
    week = date.fromisoformat(WEEK)
    with wh.open_warehouse(env / "wh.duckdb") as con:
        con.execute("INSERT INTO marts.weekly_reports (week_start, markdown, html_path, run_id) VALUES (?, 'x', ?, 'r')",
                    [week, str(report)])
        con.execute("INSERT INTO marts.not_a_theme (week_start, theme_id, tickets) VALUES (?, 'T1', 3)", [week])
        con.execute("INSERT INTO marts.not_a_theme (week_start, theme_id, tickets) VALUES ('2026-09-07', 'T1', 1)")
    for name in ("a.csv", "b.csv"):
        (env / "inbox" / name).unlink()
    (env / "inbox" / "c.csv").write_text(fd_csv([fd_row("21", created=NEXT)]))  # another week's export
    monkeypatch.setenv("TICKET_INTEL_PRUNE_GONE_EXPORTS", "true")
    _, lines = _ingest(env)
    with wh.open_warehouse(env / "wh.duckdb", read_only=True) as con:
        left = con.execute("SELECT week_start::VARCHAR FROM marts.not_a_theme UNION ALL "
                           "SELECT week_start::VARCHAR FROM marts.weekly_reports").fetchall()
    assert left == [("2026-09-07",)]  # the week run, emptied; the other week's rows stay
    assert not report.exists() and not report.with_suffix(".md").exists()
    assert any(f"week {WEEK} holds no ticket any more" in line for line in lines)
    _, lines = _ingest(env, "2026-09-21")  # a week that never held a ticket lost nothing: it said "removed"
    assert not any("holds no ticket any more" in line for line in lines)


def test_export_turned_unreadable_keeps_its_tickets(env):
    _ingest(env)
    with wh.open_warehouse(env / "wh.duckdb") as con:  # an input logged here that is not a ticket export
        con.execute("INSERT INTO ops.ingested_files (source_file, profile, accepted) VALUES ('/x/articles.json', "
                    "'other_input', 7)")
    (env / "inbox" / "b.csv").write_bytes(b"\x00\x01binary\x00" * 500)  # overwritten by something else
    _ingest(env)
    tickets, files = _state(env)
    assert sorted(tickets) == ["1", "11", "12", "2", "3"]
    assert files["b.csv"] == (0, 0, True, 2, True)
    assert files["articles.json"] == (7, None, None, None, False)  # left alone by retention


def test_count_by_weeks_and_retention_message():
    from datetime import date

    import pandas as pd

    files = pd.DataFrame({"source_file": ["x", "y"], "accepted": [9, 9]})
    per_week = pd.DataFrame({"source_file": ["x", "x", "y"], "tickets": [2, 1, 3],
                             "week_start": [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 12)]})
    counted = count_by_weeks(files, per_week, [date(2026, 1, 5)])
    assert counted[["accepted", "out_of_range"]].values.tolist() == [[2, 1], [0, 3]]
    stored = pd.DataFrame({"source_file": ["/in/x", "/in/gone.csv"], "tickets": [4, 7],
                           "first_week": [date(2026, 1, 5)] * 2, "last_week": [date(2026, 1, 12)] * 2})
    kept = kept_files(stored, ["/in/x"])
    assert [k.source_file for k in kept] == ["/in/gone.csv"]
    prune = "ticket-intel run --inbox in --warehouse w.duckdb --prune"  # runnable as printed: --inbox is required
    assert retention_message(kept, False, prune).startswith("kept 7 tickets of 1 exports")
    assert "/in/gone.csv" in retention_message(kept, False, prune)
    assert retention_message([], False, prune) is None
    # A drop folder's year: 35 exports gone, one line of 4,000 characters listing each; now counted.
    year = kept_files(stored.assign(source_file=["/in/2022-W01/pt.csv", "/in/2022-W02/pt.csv"]), [])
    assert retention_message(year, False, prune) == (
        f"kept 11 tickets of 2 exports no longer in the inbox (`{prune}` removes them): "
        "ops.ingested_files lists them (in_inbox false), weeks 2026-01-05..2026-01-12")


def test_a_ticket_its_helpdesk_removed_leaves_the_warehouse_with_its_kept_copy(env):
    """Zendesk's incremental export carries deleted tickets (spam, tests) as `deleted`: the latest
    version of a ticket is that, so the ticket is set aside and its stored copy goes, even one kept
    from an export that left the inbox."""
    _ingest(env)
    (env / "inbox" / "b.csv").unlink()
    (env / "inbox" / "a.csv").write_text(fd_csv([fd_row("1"), fd_row("2"), fd_row("3", Status="Spam"),
                                                 fd_row("12", Status="Deleted")]))
    metadata, lines = _ingest(env)
    tickets = _state(env)[0]
    assert tickets == {"1": "a.csv", "2": "a.csv", "11": "b.csv"}
    assert metadata["removed_rows"] == 2 and metadata["rejected_rows"] == 0
    assert any("2 deleted or spam in the helpdesk" in line for line in lines)
    assert set(metadata["week_tickets"]) == {WEEK}


@pytest.mark.parametrize("cut", ["in a quoted value", "between fields"])
def test_an_export_cut_short_keeps_the_tickets_it_lost_until_it_is_whole_again(env, cut):
    """A Freshdesk export copied at 60 % of its bytes removed 336 tickets, and the run blamed late
    tickets: a file that stops mid-record holds part of what it held, as an unreadable one holds none."""
    whole = fd_csv([fd_row("1"), fd_row("2"), fd_row("3", text="My card, the blue one, was declined")])
    _ingest(env)
    assert sorted(_state(env)[0]) == ["1", "11", "12", "2", "3"]
    stop = whole.index("the blue one") if cut == "in a quoted value" else whole.index("2,Help") + 6
    (env / "inbox" / "a.csv").write_text(whole[:stop])  # no line break at its end
    _, lines = _ingest(env)
    tickets, _ = _state(env)
    assert sorted(tickets) == ["1", "11", "12", "2", "3"], "the tickets the cut file lacks are kept"
    said = next(line for line in lines if line.startswith("a.csv"))
    assert "ends mid-record (cut short, or still being written?)" in said
    with wh.open_warehouse(env / "wh.duckdb", read_only=True) as con:
        assert con.execute("SELECT cut_short FROM ops.ingested_files WHERE source_file LIKE '%a.csv'").fetchone() == (True,)
    (env / "inbox" / "a.csv").write_text(fd_csv([fd_row("1"), fd_row("2")]))  # whole, without 3: replaced
    _ingest(env)
    assert sorted(_state(env)[0]) == ["1", "11", "12", "2"]


def test_a_cut_export_is_known_by_its_last_record_not_its_last_rejection(tmp_path):
    """The sample's Freshdesk export at 60 % of its bytes: its last record is cut (line 1050), but
    the last rejection listed is a date rejected once the file's date order was known (line 619),
    and the cut went unnoticed. An export whose bad record is not its last is whole."""
    from ticket_intel import PROJECT_ROOT
    from ticket_intel.core.sources import list_exports, read_exports

    data = (PROJECT_ROOT / "data" / "sample" / "freshdesk_tickets.csv").read_bytes()
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "freshdesk_tickets.csv").write_bytes(data[: int(len(data) * 0.6)])
    read = read_exports(list_exports(tmp_path / "cut"))
    assert read.rejected["locator"].iloc[-1] != "line 1050" and bool(read.files["cut_short"].iloc[0])
    (tmp_path / "whole").mkdir()
    (tmp_path / "whole" / "freshdesk_tickets.csv").write_bytes(data.rstrip(b"\r\n"))  # no final line break
    assert not read_exports(list_exports(tmp_path / "whole")).files["cut_short"].iloc[0]


def test_a_run_of_a_week_before_the_retention_cutoff_is_refused(env):
    """A backfill, the inbox sensor or `run --weeks` name weeks themselves: a retired week's export still
    in the inbox would put its tickets back and replace the themes and alerts the week keeps."""
    _ingest(env)
    with wh.open_warehouse(env / "wh.duckdb") as con:
        con.execute("INSERT INTO ops.retention VALUES ('2026-09-07', 8, now(), 5)")
    with pytest.raises(Exception, match=f"the week of {WEEK} is before this warehouse's retention cutoff"):
        _ingest(env)
    _ingest(env, "2026-09-07")  # the cutoff's week runs

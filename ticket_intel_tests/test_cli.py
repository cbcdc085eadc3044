"""The command-line contract scripts rely on: names, flags, --help, one-line errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ticket_intel import PROJECT_ROOT, runner, settings
from ticket_intel import warehouse as wh
from ticket_intel.cli import _print_ingest, chosen_week, format_themes, main
from ticket_intel.core import rates
from ticket_intel.core.sources import EARLY_REASON, SUPERSEDED_REASON
from ticket_intel.core.week_config import TAXONOMY, Value
from ticket_intel.run_inputs import theme_config
from ticket_intel.warehouse import access

COMMANDS = [[], ["demo"], ["run"], ["dev"], ["themes"], ["export"], ["review"], ["review", "list"],
            ["review", "rename"], ["review", "confirm"], ["review", "merge"], ["review", "not-a-theme"],
            ["review", "undo"], ["review", "apply"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "main")
def test_help_on_every_command(args):
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_help_is_answered_whatever_the_settings_and_an_empty_warehouse_is_a_usage_error(tmp_path):
    """A misspelt TICKET_INTEL_ variable made `themes --help` an error; an empty TICKET_INTEL_WAREHOUSE
    said "error: PosixPath('.') has an empty name"."""
    for args in (["themes", "--help"], ["review", "list", "-h"], ["--help"]):
        helped = CliRunner().invoke(main, args, env={"TICKET_INTEL_TAXONMY": "x"})
        assert helped.exit_code == 0 and "Usage:" in helped.stdout, (args, helped.output)
    refused = CliRunner().invoke(main, ["themes"], env={"TICKET_INTEL_TAXONMY": "x"})  # running, it is an error
    assert refused.exit_code == 1 and "unknown environment variable(s) TICKET_INTEL_TAXONMY" in refused.stderr
    for env, args in (({"TICKET_INTEL_WAREHOUSE": ""}, ["themes"]), ({}, ["similar", "--warehouse", "", "--text", "x"])):
        empty = CliRunner().invoke(main, args, env=env)
        assert empty.exit_code == 2 and "names no file: an empty TICKET_INTEL_WAREHOUSE or --warehouse" in empty.stderr


def test_run_documents_its_flags():
    out = CliRunner().invoke(main, ["run", "--help"]).output
    for flag in ("--inbox", "--warehouse", "--weeks"):
        assert flag in out


def test_missing_warehouse_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ticket-intel: error:")
    assert "warehouse not found" in lines[0]


def test_missing_inbox_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [f"ticket-intel: error: inbox folder not found: {tmp_path / 'nope'}"]
    assert list(tmp_path.iterdir()) == []  # no instance, warehouse or inbox record left for the typo


KEYS = {(dt.date(2026, 10, 5) + dt.timedelta(weeks=k)).isoformat() for k in range(10)}


def test_bad_weeks_value_is_rejected():
    with pytest.raises(ValueError, match="'last-tuesday' is not changed"):
        runner.plan_weeks("last-tuesday", Counter(), KEYS)
    one = runner.plan_weeks("2026-11-18", Counter({dt.date(2026, 11, 16): 40}), KEYS)
    assert (one.start, one.end, one.with_tickets) == (dt.date(2026, 11, 16), dt.date(2026, 11, 16), 1)
    span = runner.plan_weeks("2026-11-02..2026-11-20", Counter({dt.date(2026, 11, 9): 5}), KEYS)
    assert (span.start, span.end, span.with_tickets, span.without) == (dt.date(2026, 11, 2), dt.date(2026, 11, 16), 1, 2)
    with pytest.raises(ValueError, match="ends before"):
        runner.plan_weeks("2026-11-20..2026-11-02", Counter(), KEYS)


def test_named_weeks_without_a_ticket_are_an_error_and_run_nothing():
    """`run --weeks 2018-03-05` on twcs (2017-09-25..2017-11-27) said "0 with tickets; skipped 1 week
    with no tickets", started a Dagster run and exited 0, where `themes --week 2018-03-05` said "no data"."""
    counts = Counter({dt.date(2026, 10, 12): 30, dt.date(2026, 11, 9): 40})
    with pytest.raises(ValueError, match=r"^no tickets in the week 2026-11-16 \(--weeks 2026-11-18\) in the inbox: "
                                         r"its weeks with tickets are 2026-10-12..2026-11-09$"):
        runner.plan_weeks("2026-11-18", counts, KEYS)
    with pytest.raises(ValueError, match=r"no tickets in the weeks 2026-10-19..2026-11-02 "):
        runner.plan_weeks("2026-10-19..2026-11-02", counts, KEYS)
    with pytest.raises(ValueError, match=r"none is inside the partitions \(start 2026-10-05\)$"):
        runner.plan_weeks("2026-11-16", Counter({dt.date(2025, 1, 6): 3}), KEYS)


def test_every_command_reads_a_week_the_same_way(tmp_path):
    """`run --weeks` read 2017-W48 and 20171127 (by accident: `date.fromisoformat`) and a bad value
    exited 1; `--week` of every other command refused 2017-W48, exit 2."""
    from ticket_intel.core.weeks import parse_week

    assert parse_week("2017-W48") == parse_week("2017-11-29") == parse_week("2017-12-03") == dt.date(2017, 11, 27)
    assert parse_week("2021-W01") == dt.date(2021, 1, 4) and parse_week("2020-W53") == dt.date(2020, 12, 28)
    for bad in ("20171127", "2017-W54", "2017-11-31", "2017-11", "last-tuesday"):
        with pytest.raises(ValueError, match=f"a week is YYYY-MM-DD .* or YYYY-Www .*, not '{bad}'"):
            parse_week(bad)
    assert runner.named_weeks("2017-W47..2017-12-01") == (dt.date(2017, 11, 20), dt.date(2017, 11, 27))
    commands = [["themes"], ["export", "--format", "json"], ["review", "list"], ["backlog", "sync", "--dry-run"],
                ["taxonomy", "suggest"]]
    for command in commands:
        bad = CliRunner().invoke(main, [*command, "--warehouse", str(tmp_path / "w.duckdb"), "--week", "20171127"])
        assert bad.exit_code == 2 and "a week is YYYY-MM-DD (any day of the week) or YYYY-Www" in bad.stderr, command
    bad = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"),
                                    "--weeks", "20171127"])
    assert bad.exit_code == 2 and "'20171127' is not changed" in bad.stderr
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2017-11-27', 40)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers, trend,
                       example_ticket_ids) VALUES ('2017-11-27', 1, 'T1', 'Card · arrival', 9, 7, 'new', ['zd:1'])""")
    for week in ("2017-W48", "2017-11-29"):
        listed = CliRunner().invoke(main, ["themes", "--warehouse", str(tmp_path / "w.duckdb"), "--week", week,
                                           "--format", "json"])
        assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["week_start"] == "2017-11-27", listed.output


def test_export_customers_and_backlog_sync_check_the_week_and_theme_as_themes_does(tmp_path):
    """`backlog sync --week 2020-01-06` failed a Dagster run ("Partition key range start 2020-01-06 is
    before the partitions definition start time"), and after the data said "nothing to change";
    `export --customers --week <no data>` printed [], exit 0; `--theme NOPE` "has no affected customers"."""
    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 40)")
    for args in (["backlog", "sync", "--dry-run"], ["export", "--customers", "--format", "json"]):
        for week in ("2020-01-06", "2030-01-07"):
            result = CliRunner().invoke(main, [*args, "--warehouse", str(warehouse), "--week", week])
            assert (result.exit_code, result.stdout) == (66, ""), (args, result.output)
            assert result.stderr == (f"ticket-intel: error: no data for the week of {week} in {warehouse}; "
                                     "it holds 2026-11-02..2026-11-02\n")
    assert not (tmp_path / "w_dagster").exists()  # no Dagster run was started, nor an instance made for one
    nope = CliRunner().invoke(main, ["export", "--customers", "--theme", "NOPE", "--format", "json",
                                     "--warehouse", str(warehouse)])
    assert nope.exit_code == 66 and "unknown theme id 'NOPE'; see `ticket-intel review list`" in nope.stderr


def test_all_weeks_means_the_weeks_that_hold_tickets():
    counts = Counter({dt.date(2026, 10, 5): 3, dt.date(2026, 11, 2): 50, dt.date(2026, 11, 9): 60})
    plan = runner.plan_weeks("all", counts, KEYS)
    assert (plan.start, plan.end, plan.with_tickets, plan.without) == (dt.date(2026, 10, 5), dt.date(2026, 11, 9), 3, 3)
    assert plan.describe() == "weeks 2026-10-05..2026-11-09: 3 with tickets; skipped 3 weeks with no tickets"


def test_the_ui_of_a_new_warehouse_starts_its_weeks_at_its_data(tmp_path, monkeypatch):
    """`ticket-intel dev` on a new warehouse listed weekly partitions from 2015: 609 of 621 missing."""
    from dagster_dg_cli.cli import dev as dg_dev

    monkeypatch.setenv(settings.CONFIG_FILE_ENV, "")
    for name in ("TICKET_INTEL_PARTITIONS_START", "DAGSTER_HOME", "TICKET_INTEL_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "DEFAULTED", set())
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "sample" / "zendesk_tickets.json", inbox)
    monkeypatch.setenv("TICKET_INTEL_INBOX", str(inbox))
    served = []
    monkeypatch.setattr(dg_dev.dev_command, "main", lambda args, prog_name: served.append(
        os.environ["TICKET_INTEL_PARTITIONS_START"]))
    result = CliRunner().invoke(main, ["dev", "--warehouse", str(tmp_path / "w.duckdb"), "--port", "3999"])
    assert result.exit_code == 0, result.output
    assert "partitions start 2026-08-31" in result.output and served == ["2026-08-31"]


def test_partitions_start_at_the_first_rankable_week_and_are_remembered_per_warehouse(tmp_path, monkeypatch):
    (tmp_path / "ticket_intel.yaml").write_text("")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(tmp_path / "ticket_intel.yaml"))
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(settings, "DEFAULTED", set())
    counts = Counter({dt.date(2015, 2, 16): 1, dt.date(2017, 9, 25): 19, dt.date(2017, 10, 2): 352})
    demo = runner.configure(tmp_path / "demo.duckdb")
    assert runner.choose_partitions_start(Counter({dt.date(2026, 8, 31): 400}), demo).startswith("partitions start 2026-08-31")
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")  # a new process, for the user's own warehouse
    monkeypatch.delenv("DAGSTER_HOME")
    own = runner.configure(tmp_path / "own.duckdb")
    said = runner.choose_partitions_start(counts, own)  # the demo's weeks are not imposed on it
    assert said.startswith("partitions start 2017-09-25") and "1 earlier ticket counted" in said  # a sparse tail left out
    # twcs's first weeks: a tweet a week, then the bulk; a week of one ticket starts no partitions.
    tail = Counter({dt.date(2017, 9, 4): 1, dt.date(2017, 9, 11): 1, dt.date(2017, 9, 18): 1,
                    dt.date(2017, 9, 25): 5, dt.date(2017, 10, 2): 109})
    assert runner.first_rankable_week(tail, 30, 8) == dt.date(2017, 9, 25)
    assert os.environ["TICKET_INTEL_PARTITIONS_START"] == "2017-09-25"
    assert runner.choose_partitions_start(counts, own) is None  # chosen once, then recorded
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")
    monkeypatch.delenv("DAGSTER_HOME")
    runner.configure(tmp_path / "demo.duckdb")  # a later command on the demo's warehouse reads its own
    assert os.environ["TICKET_INTEL_PARTITIONS_START"] == "2026-08-31"
    assert not (tmp_path / "ticket_intel.yaml").read_text()  # the start is not written there
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")
    monkeypatch.delenv("DAGSTER_HOME")
    small = runner.choose_partitions_start(Counter({dt.date(2026, 11, 30): 3, dt.date(2026, 12, 7): 2}),
                                           runner.configure(tmp_path / "small.duckdb"))
    assert "2026-11-30: no 8 weeks hold 30 tickets, so the first week with any" in small  # not "at least 30"
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")
    monkeypatch.delenv("DAGSTER_HOME")
    # Small-team review: 8 weeks of 16-30 tickets, all in the first run, kept only the last 3 (the
    # first week with 30): 108 of 180 tickets lost. A window of 8 weeks from the first holds 30.
    weekly = Counter(dict(zip([dt.date(2023, 3, 13) + dt.timedelta(weeks=k) for k in range(8)],
                              [17, 22, 27, 16, 26, 30, 24, 18], strict=True)))
    team = runner.configure(tmp_path / "team.duckdb")
    said = runner.choose_partitions_start(weekly, team)
    assert said.startswith("partitions start 2023-03-13: the first week with 4 tickets or more from which 8 weeks hold 30")
    monkeypatch.setenv("TICKET_INTEL_PARTITIONS_START", "2023-02-13")  # the team's backlog, added later
    assert "as configured" in runner.choose_partitions_start(weekly, team)
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")
    monkeypatch.delenv("DAGSTER_HOME")
    runner.configure(tmp_path / "team.duckdb")  # the next run without the setting keeps those weeks
    assert os.environ["TICKET_INTEL_PARTITIONS_START"] == "2023-02-13"
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START")
    monkeypatch.delenv("DAGSTER_HOME")
    # Upgrade review: releases before 2026-12-03 wrote the start into ./ticket_intel.yaml themselves,
    # and a new warehouse then lost 54 % of its tickets to it without a word of where it came from.
    (tmp_path / "ticket_intel.yaml").write_text("partitions_start: '2023-10-02'\n")
    said = runner.choose_partitions_start(weekly, runner.configure(tmp_path / "new.duckdb"))
    assert "partitions start 2023-10-02, as configured (`partitions_start` in" in said
    assert "releases before 2026-12-03 wrote themselves" in said


def test_tickets_before_the_partitions_name_where_their_start_was_set(tmp_path, monkeypatch):
    config = tmp_path / "ticket_intel.yaml"
    config.write_text("")
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, str(config))
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(settings, "DEFAULTED", set())
    home = runner.configure(tmp_path / "w.duckdb")
    runner.choose_partitions_start(Counter({dt.date(2026, 11, 2): 50}), home)
    older = Counter({dt.date(2017, 10, 2): 352})
    with pytest.raises(ValueError, match=r"start 2026-10-05, chosen by this warehouse's first run: .*partitions_start.txt"):
        runner.plan_weeks("all", older, KEYS, runner.partitions_origin(home))
    config.write_text("partitions_start: '2026-11-02'\n", encoding="utf-8")
    (home / runner.PARTITIONS_RECORD).unlink()
    with pytest.raises(ValueError, match=r"`partitions_start` in .*ticket_intel.yaml"):
        runner.plan_weeks("2017-10-02", older, KEYS, runner.partitions_origin(home))


def test_sound_records_set_aside_are_not_counted_as_malformed(tmp_path, capsys):
    """A TensorFlow export read "1746 accepted, 1306 rejected": every one of the 1306 was a sound
    ticket dated before the partitions, which a user keeps by starting them earlier. An earlier
    version of a ticket exported again is no malformed record either."""
    warehouse = tmp_path / "w.duckdb"
    reasons = [EARLY_REASON.format("2019-01-07", "2019-02-25"), EARLY_REASON.format("2018-12-31", "2019-02-25"),
               SUPERSEDED_REASON.format("7", "tf_2.csv", "row 3"), "created_at is 'yesterday'"]
    with wh.open_warehouse(warehouse) as con:
        con.execute("INSERT INTO ops.ingested_files (source_file, profile, accepted, rejected, skipped) "
                    "VALUES ('/in/tf.csv', 'github', 5, 4, 0), ('/in/ok.csv', 'github', 2, 0, 0), "
                    "('/in/tweets.csv', 'twcs', 3, 0, 7)")
        for reason in reasons:
            con.execute("INSERT INTO ops.rejected_tickets (source_file, reason) VALUES ('/in/tf.csv', ?)", [reason])
    _print_ingest(warehouse, Path("/in"))
    lines = capsys.readouterr().out.splitlines()
    assert ("  tf.csv: github, 5 accepted, 1 rejected, 2 before the partitions start, 1 superseded by a later "
            "export") in lines
    assert "  ok.csv: github, 2 accepted, 0 rejected" in lines
    assert ("  tweets.csv: twcs, 3 accepted, 0 rejected, 7 not tickets (replies, a conversation's later messages, "
            "rows a mapping leaves out)") in lines  # it read "7 skipped by its mapping"
    # The reasons were only in ops.rejected_tickets; those set aside though sound are no reason to fix.
    assert "rejected records, the commonest reasons: 1 × created_at is 'yesterday' (tf.csv)" in lines


def test_a_files_line_says_whose_rows_are_no_tickets(tmp_path, capsys):
    """Swift's issues read "4683 not tickets (replies, a conversation's later messages, rows a mapping
    leaves out)": every one was the swift-ci bot's, which the github mapping drops. The kinds are
    counted as the file is parsed and stored with it, so the run's line names the bot."""
    from ticket_intel.core.sources import read_exports

    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "swift.csv").write_text("number,title,created_at,creator_name,author_association,state\n"
                                     "1,Crash in SIL,2022-01-04T10:00:00Z,ann,NONE,open\n"
                                     "2,Migrated,2022-01-05T10:00:00Z,swift-ci,NONE,open\n"
                                     "3,Migrated too,2022-01-05T11:00:00Z,Swift-CI,NONE,open\n")
    files = read_exports([inbox / "swift.csv"]).files.assign(in_inbox=True)
    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        con.register("files", files)
        con.execute("INSERT INTO ops.ingested_files BY NAME SELECT * FROM files")
    _print_ingest(warehouse, inbox)
    assert "  swift.csv: github, 1 accepted, 0 rejected, 2 written by bots (swift-ci)" in capsys.readouterr().out


def test_a_run_lists_the_exports_that_fed_its_weeks_and_counts_the_rest(tmp_path, capsys):
    """A year of weekly drops printed 36 "ingested" lines every run, 35 of them "microsoft_PowerToys.csv:
    github, 0 accepted, 0 rejected, 72 outside the weeks run", one name for every folder, and a line
    per export gone from the inbox."""
    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        con.execute("""INSERT INTO ops.ingested_files (source_file, profile, accepted, rejected, out_of_range,
                                                       in_inbox, kept) VALUES
                       ('/in/2022-W01/pt.csv', 'github', 0, 1, 72, true, 72),
                       ('/in/2022-W02/pt.csv', 'github', 0, 0, 81, true, 81),
                       ('/in/2022-W03/pt.csv', 'github', 65, 0, 0, true, 65),
                       ('/in/2022-W04/empty.csv', 'github', 0, 3, 0, true, 0),
                       ('/old/2021-W51/pt.csv', 'github', 0, 0, 0, false, 60),
                       ('/old/2021-W52/pt.csv', 'github', 0, 0, 0, false, 70)""")
    _print_ingest(warehouse, Path("/in"))
    assert capsys.readouterr().out.splitlines() == [
        "ingested:", "  2022-W03/pt.csv: github, 65 accepted, 0 rejected", "  2022-W04/empty.csv: github, 0 accepted, 3 rejected",
        "  and 2 other exports: 153 tickets outside the weeks run, 1 rejected (ops.ingested_files lists every file)",
        "kept from exports no longer in the inbox (`--prune` removes them): 130 tickets of 2 exports "
        "(ops.ingested_files lists them: in_inbox false)"]


def test_a_run_says_its_failed_checks():
    """`rejection_rate` failed in Dagster's event log only: the run said nothing and exited 0."""
    from types import SimpleNamespace

    import dagster as dg

    from ticket_intel.cli import failed_checks

    def check(name, passed, said):
        return SimpleNamespace(event_type_value="ASSET_CHECK_EVALUATION", event_specific_data=SimpleNamespace(
            asset_key=dg.AssetKey("raw_tickets"), check_name=name, passed=passed, description=said))

    rate = "196 of 749 records rejected (26.2%; ceiling 20%)"
    result = SimpleNamespace(all_events=[
        check("rejection_rate", False, rate), check("rejection_rate", False, rate),  # once per week's partition
        check("exports_readable", True, "all 9 exports read"), SimpleNamespace(event_type_value="STEP_START")])
    assert failed_checks(result) == [f"check failed: raw_tickets rejection_rate: {rate}"]


def test_a_run_with_a_failed_check_writes_its_outputs_and_exits_with_its_own_code(tmp_path, monkeypatch):
    """`run` with 7.4% of twcs' records rejected against a 1% ceiling printed "check failed: …" on
    stdout and exited 0: a CI gate could not use it."""
    from types import SimpleNamespace

    import dagster as dg

    from ticket_intel import cli

    said = "111 of 1490 records rejected (7.4%; ceiling 1%)"
    check = SimpleNamespace(event_type_value="ASSET_CHECK_EVALUATION", event_specific_data=SimpleNamespace(
        asset_key=dg.AssetKey("raw_tickets"), check_name="rejection_rate", passed=False, description=said),
        is_step_materialization=False)
    plan = runner.WeekPlan(dt.date(2017, 11, 27), dt.date(2017, 11, 27), 1, 0)
    monkeypatch.setattr(cli, "_plan_and_execute", lambda *a: (plan, SimpleNamespace(all_events=[check])))
    monkeypatch.setattr(cli, "_print_ingest", lambda warehouse, inbox: None)
    (tmp_path / "inbox").mkdir()
    with wh.open_warehouse(tmp_path / "w.duckdb"):
        pass
    result = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == cli.EXIT_CODES[cli.ChecksFailed] == 65
    assert result.stderr.splitlines() == [f"ticket-intel: error: check failed: raw_tickets rejection_rate: {said} "
                                          "(the run finished and its outputs are written)"]
    assert "check failed" not in result.stdout and "next: ticket-intel themes" in result.stdout


def test_an_inbox_whose_every_record_is_rejected_says_why(tmp_path):
    """A wrong `created_at_format` said "every record was rejected (see ops.rejected_tickets)", a table
    of a warehouse the failed run never made."""
    doc = json.loads((PROJECT_ROOT / "data" / "sample" / "zendesk_tickets.json").read_text())
    tickets = [dict(t, created_at=f"31/02/2026 1{i}:00") for i, t in enumerate(doc["tickets"][:6])]
    (tmp_path / "zendesk.json").write_text(json.dumps({"tickets": tickets}))
    counts, files, _, _ = runner.inbox_weeks(tmp_path, "", None)
    assert not counts and runner.no_tickets_reason(files) == (
        "the inbox holds no usable tickets: every record was rejected: 6 × unparseable created_at timestamp "
        "'31/02/2026 10:00' (zendesk.json)")


def test_an_inbox_of_unusable_files_names_every_one(tmp_path):
    """Three reasons were said and a fourth file vanished from the message (an inbox of an empty
    table, a binary file, and two exports of unknown columns named three of the four)."""
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / name).write_text("id,created,body\n1,2026-11-02,My card was declined\n")
    counts, files, _, _ = runner.inbox_weeks(tmp_path, "", None)
    said = runner.no_tickets_reason(files)
    assert not counts and said.count("table with unrecognised columns") == 3
    assert "; and 1 more unusable file: d.csv (see docs/sources.md#column-mappings)" in said


def test_a_files_line_leaves_out_what_it_has_none_of():
    from types import SimpleNamespace

    from ticket_intel.core.sources import SET_ASIDE, file_summary

    row = dict(source_file="/in/week_1.csv", profile="twcs", accepted=0, rejected=0, skipped=1, repeated=float("nan"),
               out_of_range=0, error=None, **dict.fromkeys(SET_ASIDE, 0))
    assert file_summary(SimpleNamespace(**row)) == (
        "week_1.csv: twcs, 0 accepted, 0 rejected, 1 not tickets (replies, a conversation's later messages, "
        "rows a mapping leaves out)")  # it said ", 0 exported again unchanged in a later file, 0 outside the weeks run"
    broken = SimpleNamespace(**row | {"profile": None, "skipped": 0, "repeated": 2, "out_of_range": 3, "error": "not UTF-8"})
    assert file_summary(broken) == ("week_1.csv: unreadable, 0 accepted, 0 rejected, 2 exported again unchanged in "
                                    "a later file, 3 outside the weeks run — not UTF-8")


def test_a_warehouse_has_its_own_instance_and_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    warehouse = tmp_path / "scratch" / "x.duckdb"
    home = runner.configure(warehouse)
    assert home == (tmp_path / "scratch" / "x_dagster").resolve() and (home / "dagster.yaml").exists()
    assert settings.reports_dir("", warehouse) == tmp_path / "scratch" / "x_reports"
    assert settings.reports_dir("/srv/reports", warehouse) == Path("/srv/reports")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "shared_home"))
    assert runner.configure(warehouse) == (tmp_path / "shared_home").resolve()


def test_a_warehouse_remembers_the_inbox_its_run_read(tmp_path, monkeypatch):
    """`dev` (and every later command) on a warehouse reads the inbox its last run was given, unless
    an inbox is configured: the UI's sensors and schedule must not watch another folder."""
    import os

    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if not k.startswith("TICKET_INTEL_") and k != "DAGSTER_HOME"})
    monkeypatch.setattr(settings, "DEFAULTED", set())
    monkeypatch.setenv(settings.CONFIG_FILE_ENV, "")
    warehouse, exports = tmp_path / "w.duckdb", tmp_path / "exports"
    def new_process() -> None:
        for name in ("TICKET_INTEL_INBOX", "DAGSTER_HOME"):
            os.environ.pop(name, None)

    runner.configure(warehouse, exports)
    new_process()
    runner.configure(warehouse)
    assert os.environ["TICKET_INTEL_INBOX"] == str(exports.resolve())
    new_process()
    os.environ["TICKET_INTEL_INBOX"] = str(tmp_path / "configured")
    settings.DEFAULTED.clear()
    runner.configure(warehouse)
    assert os.environ["TICKET_INTEL_INBOX"] == str(tmp_path / "configured")
    new_process()
    runner.configure(tmp_path / "other.duckdb")  # another warehouse: the default inbox
    assert os.environ["TICKET_INTEL_INBOX"] == settings.BY_ENV["TICKET_INTEL_INBOX"].default


def test_unknown_columns_say_why_and_where_to_read(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "helpdesk.csv").write_text("Ref,When,Body\n1,2026-11-03,my card broke\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    (line,) = result.stderr.strip().splitlines()
    assert "unrecognised columns" in line and "add a column mapping" in line and "docs/sources.md" in line


def test_a_broken_configuration_file_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    """A YAML mistake in routing.yaml used to surface at ticket_triage, after ingest, redaction and
    embedding of the whole inbox, as "yaml.parser.ParserError: while parsing a block mapping": it
    is one line naming the file and the place now, and no run is made."""
    from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

    routing = tmp_path / "routing.yaml"
    routing.write_text("default:\n  team: Support\n team: oops\n", encoding="utf-8")
    monkeypatch.setenv("TICKET_INTEL_ROUTING", str(routing))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "tickets.csv").write_text(fd_csv([fd_row("1")]), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"ticket-intel: error: {routing}, line 3, column 2: not valid YAML: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block mapping at line 1, column 1)")
    assert not (tmp_path / "w.duckdb").exists()


def test_week_discovery_reads_the_configured_mappings(tmp_path, monkeypatch):
    """`run --weeks all` finds the weeks of a file only the user's own mapping can read."""
    inbox, mappings = tmp_path / "inbox", tmp_path / "mappings"
    inbox.mkdir()
    mappings.mkdir()
    (inbox / "desk.csv").write_text("Ref,When,Body,Who\n1,2026-11-03,my card broke,c1\n", encoding="utf-8")
    (mappings / "desk.yaml").write_text(
        "name: desk\nsource: desk\ndetect: [Ref, When, Body]\ncolumns:\n  ticket_id: Ref\n  created_at: When\n"
        "  message: Body\n  customer_id: Who\n", encoding="utf-8")
    monkeypatch.setenv("TICKET_INTEL_MAPPINGS_DIR", str(mappings))
    tickets, _ = runner.inbox_tickets(inbox)
    assert runner.week_counts(tickets) == Counter({dt.date(2026, 11, 2): 1})


def test_paid_share_without_known_plans_prints_a_dash(monkeypatch):
    frame = pd.DataFrame([{"week_start": dt.date(2026, 11, 16), "rank": 1, "theme_id": "T1", "label": "x",
                           "tickets": 9, "customers": 9, "trend": "new", "trend_baseline": None,
                           "paid_share": float("nan"), "severity": "P2", "signal_type": "bug",
                           "example_ticket_ids": ["z:1"]}])
    monkeypatch.setenv("COLUMNS", "300")
    table = format_themes(frame, "table")
    assert table.startswith("week of 2026-11-16") and "T1" in table and "nan" not in table and "–" in table
    known = frame.assign(paid_share=0.75, plan_known_customers=4)  # with its base, as the report says it
    assert "75% of 4" in format_themes(known, "table")
    # A narrow terminal's card leaves the unknown share out: "P2 bug · – paid" said nothing (twcs, GitHub).
    monkeypatch.setenv("COLUMNS", "80")
    card = format_themes(frame, "table")
    assert "9 customers · new · P2 bug\n" in card and "paid" not in card
    assert "P2 bug · 75% paid (3 of 4 customers with a known plan)" in " ".join(format_themes(known, "table").split())


@pytest.mark.parametrize("columns", ["300", "80"])
def test_the_table_quotes_each_theme_s_first_example(monkeypatch, columns):
    """The table and the narrow terminal's cards showed only example ids ("e.g.
    github:swiftlang_swift#75999"), which say nothing about the theme until looked up."""
    monkeypatch.setenv("COLUMNS", columns)
    frame = pd.DataFrame([{"week_start": "2026-11-16", "rank": 1, "theme_id": "T1", "label": "Closure · compiler",
                           "tickets": 9, "customers": 9, "trend": "new", "trend_baseline": None,
                           "paid_share": float("nan"), "severity": "P1", "signal_type": "bug",
                           "example_ticket_ids": ["gh:1", "gh:2"],
                           "example_texts": ["", "compiler crash: optional chaining on a noncopyable type " * 3]}])
    table = format_themes(frame, "table")
    assert "compiler crash: optional chaining" in table and "gh:1" in table
    assert max(map(len, table.splitlines())) <= int(columns)


@pytest.mark.parametrize("columns", ["300", "80"])
def test_the_table_says_why_a_loose_theme_ranks_below_themes_of_lower_impact(monkeypatch, columns):
    """Next.js's 2023-09-18: "CSS · edge", impact 96, printed eleventh below a theme of 32, its reason
    (its label names a minority of its tickets) only in the report's card."""
    monkeypatch.setenv("COLUMNS", columns)
    row = {"week_start": "2023-09-18", "theme_id": "T1", "tickets": 9, "customers": 9, "trend": "new",
           "trend_baseline": None, "paid_share": float("nan"), "severity": "P1", "signal_type": "bug",
           "example_ticket_ids": ["gh:1"]}
    frame = pd.DataFrame([{**row, "rank": 1, "label": "Server app router", "impact": 32.0, "described_share": 0.83},
                          {**row, "rank": 2, "label": "CSS · edge", "impact": 96.0, "described_share": 0.31}])
    table = " ".join(format_themes(frame, "table").split())
    assert "CSS · edge (loose: ranked after the themes that are not)" in table
    assert table.count("loose") == 1


def test_the_table_says_which_tickets_are_in_no_ranked_theme_and_why():
    """A third of a week in other languages was left out of the table without a word (messy-exports review)."""
    frame = pd.DataFrame([{"week_start": dt.date(2026, 11, 16), "rank": 1, "theme_id": "T1", "label": "x",
                           "tickets": 9, "customers": 9, "trend": "new", "trend_baseline": None,
                           "paid_share": 1.0, "severity": "P2", "signal_type": "bug", "example_ticket_ids": ["z:1"]}])
    frame.attrs["not_themed"] = pd.DataFrame({"theme_id": ["language:es", "outliers", "T7", "T8"],
                                              "label": ["Spanish tickets", "Unclustered tickets", "a", "b"],
                                              "tickets": [13, 4, 3, 1]})
    last = format_themes(frame, "table").splitlines()[-1]
    assert last.startswith("not in a ranked theme: Spanish tickets (13), Unclustered tickets (4), "
                           "2 groups too small to rank (4 tickets)")
    frame.attrs["not_themed"] = frame.attrs["not_themed"].iloc[3:]
    assert format_themes(frame, "table").splitlines()[-1].startswith(
        "not in a ranked theme: 1 group too small to rank (1 ticket)")
    frame.attrs["not_themed"] = frame.attrs["not_themed"].iloc[:0]
    assert "not in a ranked theme" not in format_themes(frame, "table")


def test_the_table_names_each_theme_s_products_when_the_inbox_holds_several(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    row = {"week_start": dt.date(2026, 11, 16), "rank": 1, "theme_id": "T1", "label": "x", "tickets": 9,
           "customers": 9, "trend": "new", "trend_baseline": None, "paid_share": float("nan"), "severity": "P2",
           "signal_type": "bug", "example_ticket_ids": ["z:1"]}
    several = format_themes(pd.DataFrame([{**row, "products": "Acme 7 · (none) 2",
                                           "product_names": ["Acme", "(none)"]}]), "table")
    assert "products" in several.splitlines()[1] and "Acme 7 · (none) 2" in several
    for shown, names in ((None, None), ("Acme 9", ["Acme"]), ("Acme · Pro 9", ["Acme · Pro"])):  # none, or one
        one = pd.DataFrame([{**row, "products": shown, "product_names": names}])
        assert "products" not in format_themes(one, "table").splitlines()[1]


def test_the_table_wraps_its_text_columns_only_when_the_terminal_is_narrower(monkeypatch):
    row = {"week_start": dt.date(2026, 11, 16), "rank": 1, "theme_id": "T1", "label": "Direct debit · payment",
           "tickets": 9, "customers": 9, "trend": "steady", "trend_baseline": 9.8, "paid_share": 1.0, "severity": "P0",
           "signal_type": "billing", "products": "(none) 7 · Example Bank Business 3",
           "product_names": ["(none)", "Example Bank Business"],
           "example_ticket_ids": ["intercom:215470035293738", "freshdesk:11201", "intercom:215470033090070"]}
    frame = pd.DataFrame([row])
    monkeypatch.setenv("COLUMNS", "400")
    wide = format_themes(frame, "table").splitlines()
    assert len(wide) == 4 and "intercom:215470035293738, freshdesk:11201" in wide[3]
    monkeypatch.setenv("COLUMNS", "200")
    narrow = format_themes(frame, "table").splitlines()
    assert max(map(len, narrow)) < max(map(len, wide)) <= 400 and max(map(len, narrow)) <= 200
    assert len(narrow) == 6 and narrow[4].rstrip().endswith("freshdesk:11201")  # one example id per line


def test_themes_json_and_table(sample_run):
    runner = CliRunner()
    result = runner.invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    themes = json.loads(result.stdout)
    assert themes and themes[0]["rank"] == 1 and themes[0]["week_start"] == sample_run.end
    assert {"label", "tickets", "customers", "trend", "paid_share", "impact", "example_ticket_ids"} <= set(themes[0])
    assert {t["summarizer"] for t in themes} == {"extractive"}  # who wrote each label and summary (no LLM here)
    table = runner.invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--week", sample_run.start],
                          env={"COLUMNS": "400"})
    assert table.exit_code == 0 and "rank" in table.stdout


def test_a_week_without_data_says_so(sample_run):
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(sample_run.warehouse), "--week", "2020-01-06"])
    assert result.exit_code != 0
    assert "no data for the week of 2020-01-06" in result.stderr and sample_run.end in result.stderr


def test_duckdb_errors_are_one_line(tmp_path):
    """DuckDB 2.0 raises from the module `_duckdb`; the handler catches its base class."""
    broken = tmp_path / "w.duckdb"
    broken.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(broken)])
    assert result.exit_code == 1 and result.exception.__class__.__name__ == "SystemExit"
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ticket-intel: error: warehouse: ")


def test_a_week_without_ranked_themes_says_why_and_where_themes_are(tmp_path):
    from ticket_intel import warehouse as wh

    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("""INSERT INTO marts.weekly_overview (week_start, tickets, warning) VALUES
                       ('2026-10-26', 40, NULL), ('2026-11-02', 80, NULL), ('2026-11-09', 40, NULL),
                       ('2026-11-16', 12, 'only 12 tickets this week (fewer than 30): too few to rank themes')""")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card · arrival', 9, 7, 'new', ['zd:1', 'zd:2'])""")
    latest = CliRunner().invoke(main, ["themes", "--warehouse", str(path)])
    assert latest.exit_code == 0, latest.stderr
    assert "week of 2026-11-16" in latest.stdout and "only 12 tickets this week" in latest.stdout
    assert "TICKET_INTEL_MIN_WEEK_TICKETS" in latest.stdout and "--week 2026-11-02" in latest.stdout
    quiet = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2026-11-10"])
    assert "every group was too small" in quiet.stdout and "--week 2026-11-02" in quiet.stdout
    assert "TICKET_INTEL_MIN_WEEK_TICKETS" not in quiet.stdout
    first = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2026-11-02"])
    # a week before the first ranked one: it said "no week has ranked themes yet"
    before = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2026-10-26"])
    assert "the first week with ranked themes is 2026-11-02: ticket-intel themes" in before.stdout
    listed = CliRunner().invoke(main, ["review", "list", "--warehouse", str(path)])
    assert listed.exit_code == 0 and "only 12 tickets this week" in listed.stdout
    assert chosen_week(path, None) == dt.date(2026, 11, 16)  # `taxonomy suggest` drafts from it, ranked or not
    assert first.stdout.startswith("week of 2026-11-02") and "Card · arrival" in first.stdout


def test_a_week_without_ranked_themes_offers_the_nearest_earlier_one_to_the_command_run(tmp_path):
    """On facebook_react `review list --week 2022-12-19` suggested `ticket-intel themes … --week 2022-05-23`
    as "the latest week with ranked themes", while 2024-07-15 had some."""
    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("""INSERT INTO marts.weekly_overview (week_start, tickets, warning) VALUES
                       ('2026-10-26', 80, NULL), ('2026-11-02', 40, NULL), ('2026-11-09', 80, NULL)""")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-10-26', 1, 'T1', 'Card', 9, 7, 'new', ['zd:1']),
                              ('2026-11-09', 1, 'T1', 'Card', 9, 7, 'new', ['zd:2'])""")
    for command in ("review list", "themes"):
        result = CliRunner().invoke(main, [*command.split(), "--warehouse", str(path), "--week", "2026-11-02"])
        assert result.exit_code == 0, result.output
        assert (f"; the nearest earlier week with ranked themes is 2026-10-26: ticket-intel {command} --warehouse "
                f"{path} --week 2026-10-26; the latest is 2026-11-09)") in result.stdout, result.stdout


def test_an_empty_json_list_says_why_on_stderr(tmp_path):
    """`themes --week 2017-09-25 --format json` on twcs printed `[]` and nothing else, where the table
    said "only 5 tickets this week"; `export` and `export --customers` the same."""
    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("""INSERT INTO marts.weekly_overview (week_start, tickets, warning) VALUES ('2026-11-02', 80, NULL),
                       ('2026-11-16', 12, 'only 12 tickets this week (fewer than 30): too few to rank themes')""")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card · arrival', 9, 7, 'new', ['zd:1', 'zd:2'])""")
    at = ["--warehouse", str(path), "--format", "json"]
    for args, again in ((["themes", *at], "themes"), (["export", *at], "export --format json"),
                        (["export", "--customers", *at], "export --customers --format json")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and json.loads(result.stdout) == [], (args, result.output)
        assert result.stderr == ("no ranked themes in the week of 2026-11-16: only 12 tickets this week (fewer than 30): "
                                 "too few to rank themes (TICKET_INTEL_MIN_WEEK_TICKETS sets that minimum); the latest "
                                 f"week with ranked themes is 2026-11-02: ticket-intel {again} --warehouse {path} "
                                 "--week 2026-11-02\n"), (args, result.stderr)
    ranked = CliRunner().invoke(main, ["export", "--customers", *at, "--week", "2026-11-02"])
    assert ranked.exit_code == 0 and json.loads(ranked.stdout) == [], ranked.output
    assert ranked.stderr == ("no affected customers in the week of 2026-11-02: no ticket its ranked themes count "
                             "carries a customer id\n")
    listed = CliRunner().invoke(main, ["themes", *at, "--week", "2026-11-02"])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 1 and listed.stderr == ""


def test_draft_reads_the_format_every_command_reads():
    """`draft` alone called its --format text|json; `text`, documented, still reads, with a warning."""
    for command in (["themes"], ["similar", "--text", "x"], ["draft", "--text", "x"]):
        helped = CliRunner().invoke(main, [*command, "--help"]).stdout
        assert "--format [table|json]" in helped, command
    old = CliRunner().invoke(main, ["draft", "--text", "x", "--format", "text", "--warehouse", "no/w.duckdb"])
    assert old.stderr.splitlines() == ["ticket-intel: warning: --format text is deprecated; it reads as --format table",
                                       "ticket-intel: error: warehouse not found: no/w.duckdb (run `ticket-intel run` "
                                       "first)"], old.stderr


def _one_ranked_theme(tmp_path, *decisions: tuple) -> Path:
    """A warehouse whose week 2026-11-02 ranks T1 'Card · arrival', with ana's `decisions` (theme, action, value, target)."""
    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 80)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card · arrival', 9, 7, 'new', ['zd:1', 'zd:2'])""")
        for theme, action, value, target in decisions:
            wh.add_review(con, theme, action, value, target, "ana", None)
    return path


def test_review_list_prints_json_for_scripts(tmp_path):
    """`review list` had no --format json: a script parsed "#1 2026-12-06 22:00 ana: confirm T1"."""
    path = _one_ranked_theme(tmp_path, ("T1", "confirm", None, None))
    listed = CliRunner().invoke(main, ["review", "list", "--warehouse", str(path), "--format", "json"])
    assert listed.exit_code == 0 and listed.stderr == "", listed.output
    said = json.loads(listed.stdout)
    assert said["week_start"] == "2026-11-02" and said["split_from_reviewed"] == []
    assert said["themes"] == [{"rank": 1, "theme_id": "T1", "label": "Card · arrival", "tickets": 9,
                               "review": "confirmed"}]
    (decision,) = said["reviews"]
    assert {k: decision[k] for k in ("review_id", "theme_id", "action", "reviewer", "waits")} == {
        "review_id": 1, "theme_id": "T1", "action": "confirm", "reviewer": "ana", "waits": True}  # no clustered week
    assert dt.datetime.fromisoformat(decision["created_at"])


def test_review_list_says_every_decision_and_a_confirmed_label_its_tickets_no_longer_hold(tmp_path):
    """twcs T20171030-02, confirmed and merged into, read "confirmed" alone in `review list`."""
    path = _one_ranked_theme(tmp_path, ("T1", "confirm", "Card · delivery", None), ("T2", "merge", None, "T1"))
    listed = CliRunner().invoke(main, ["review", "list", "--warehouse", str(path)])
    assert listed.exit_code == 0, listed.output
    assert "confirmed as 'Card · delivery'; now reads 'Card · arrival'; merged from T2" in listed.stdout


@contextlib.contextmanager
def _writer_held(warehouse: Path) -> Iterator[None]:
    """The warehouse's writer lock, held by another process while the block runs."""
    from ticket_intel_tests.processes import kill, python

    holder = python(f"""
        import time
        from ticket_intel.warehouse import access
        with access.writer_lock({str(warehouse)!r}, "a test's run", 0):
            print("held", flush=True)
            time.sleep(120)
        """)
    try:
        assert holder.stdout.readline() == "held\n"
        yield
    finally:
        kill(holder)


def _one_ranked_week(path: Path) -> None:
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 80)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2026-11-02', 1, 'T1', 'Card · arrival', 9, 7, 'new', ['zd:1', 'zd:2'])""")


def test_a_backlog_dry_run_only_reads(tmp_path):
    """`backlog sync --dry-run` took the writer lock and ran the asset through Dagster: beside a run it
    waited, then gave up (exit 75), and it recorded a materialization of a sync that changed nothing."""
    warehouse = tmp_path / "w.duckdb"
    _one_ranked_week(warehouse)
    access.publish_snapshot(warehouse)  # as the last run did: readers read it beside the next
    with _writer_held(warehouse):
        planned = CliRunner().invoke(main, ["backlog", "sync", "--dry-run", "--warehouse", str(warehouse)],
                                     env={"TICKET_INTEL_WRITER_WAIT_SECONDS": "0", "TICKET_INTEL_TRACKER": "jira"})
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.startswith("backlog: 1 create, 0 update, 0 comment\n\ncreate  T1  new issue  '")
    assert not (tmp_path / "w_dagster").exists()  # no run, no instance


def test_backlog_sync_prints_json_for_scripts(tmp_path):
    """`backlog sync` printed its plan as text alone: a script parsed "create  T1  new issue  '…'"."""
    warehouse = tmp_path / "w.duckdb"
    _one_ranked_week(warehouse)
    at = ["backlog", "sync", "--dry-run", "--warehouse", str(warehouse), "--format", "json"]
    planned = CliRunner().invoke(main, at, env={"TICKET_INTEL_TRACKER": "jira"})
    assert planned.exit_code == 0 and planned.stderr == "", planned.output
    said = json.loads(planned.stdout)
    assert {k: said[k] for k in ("week_start", "tracker", "dry_run")} == {"week_start": "2026-11-02", "tracker": "jira",
                                                                          "dry_run": True}
    (action,) = said["actions"]
    assert {k: action[k] for k in ("kind", "theme_id", "issue_key", "attempts", "last_error")} == {
        "kind": "create", "theme_id": "T1", "issue_key": None, "attempts": 0, "last_error": None}
    assert "Card" in action["title"]
    none = CliRunner().invoke(main, at, env={"TICKET_INTEL_TRACKER": ""})
    assert none.exit_code == 0 and json.loads(none.stdout)["actions"] == []
    assert none.stderr == "no tracker configured (TICKET_INTEL_TRACKER is empty)\n"


def _offsets(weeks: dict[dt.date, list[float]]) -> pd.DataFrame:
    """Tickets at these offsets (days since Monday) of these weeks, as the staged inbox lists them."""
    rows = [(w, dt.datetime.combine(w, dt.time()) + dt.timedelta(days=d), d * 86400.0)
            for w, days in weeks.items() for d in days]
    return pd.DataFrame(rows, columns=["week_start", "created_at", "offset_seconds"])


def test_an_export_cut_short_leaves_its_last_week_out_of_all_weeks():
    """GitHub's bug titles end on Monday 2024-09-30: that week held 2 titles against 31 the week before,
    and its report said "too few to rank". A week whose tickets stop where a usual week has most of
    its tickets still to come is left out of `all`, and the plan says why."""
    daily = [d + h / 24 for d in range(7) for h in (9, 15)]  # two tickets a day, every day
    earlier = {dt.date(2026, 11, 2): daily, dt.date(2026, 11, 9): daily}
    cut = rates.cut_short(_offsets({**earlier, dt.date(2026, 11, 16): [0.4, 0.6]}))  # Monday only
    assert cut is not None and cut.week == dt.date(2026, 11, 16) and cut.covered == pytest.approx(2 / 28)
    counts = Counter({dt.date(2026, 11, 2): 14, dt.date(2026, 11, 9): 14, dt.date(2026, 11, 16): 2})
    plan = runner.plan_weeks("all", counts, KEYS, cut=cut)
    assert plan.end == dt.date(2026, 11, 9) and "left out the week of 2026-11-16" in plan.describe()
    assert "Mon 2026-11-16 14:24" in plan.describe() and "--weeks 2026-11-16" in plan.describe()
    named = runner.plan_weeks("2026-11-09..2026-11-16", counts, KEYS, cut=cut)  # named: run, and said so
    assert named.end == dt.date(2026, 11, 16) and "the week of 2026-11-16 is partial" in named.describe()
    assert "partial" not in runner.plan_weeks("2026-11-09", counts, KEYS, cut=cut).describe()
    alone = runner.plan_weeks("all", Counter({dt.date(2026, 11, 16): 2}), KEYS, cut=cut)  # nothing else to run
    assert alone.end == dt.date(2026, 11, 16) and "is partial" in alone.describe()
    weekdays = [d + h / 24 for d in range(5) for h in (9, 15)]  # a queue quiet at weekends
    quiet = {w: weekdays for w in earlier} | {dt.date(2026, 11, 16): weekdays}
    assert rates.cut_short(_offsets(quiet)) is None  # its last ticket on a Friday: a whole week
    assert rates.cut_short(_offsets({**earlier, dt.date(2026, 11, 16): daily[:-1]})) is None  # Sunday 09:00
    assert rates.cut_short(_offsets({dt.date(2026, 11, 16): [0.4]})) is None  # nothing to compare with
    # An export taken two minutes into a Monday, before any earlier week's first ticket of the week
    # (time review: it counted as a whole week, "1 ticket … -98% vs 41 last week").
    minutes = rates.cut_short(_offsets({**earlier, dt.date(2026, 11, 16): [2 / 1440]}))
    assert minutes is not None and minutes.week == dt.date(2026, 11, 16) and minutes.covered == 0


# The kept week's digest as its last run recorded it: once its export had left (none), or while it was
# in the inbox (a drop folder's old weeks).
@pytest.mark.parametrize("recorded_digest", ["", "k"])
def test_weeks_holding_tickets_of_gone_exports_hold_tickets_and_a_prune_changes_them(tmp_path, recorded_digest):
    """The plan counted the inbox's tickets alone: a week whose export left the inbox (its tickets kept)
    was "skipped, no tickets", and with pruning on it was never run, so its tickets were never pruned.
    A drop folder keeping this week's export only read "the tickets of 35 earlier weeks changed" and
    ran all 36 again (3 min 20 s, the same themes): a week's digest recorded with its export present
    was compared with the inbox's, which has none of it. A week the inbox gives tickets to is compared."""
    from ticket_intel.defs.ingest import CompleteRun
    from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS, inputs_digest

    kept_week, week = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        con.execute("INSERT INTO raw.tickets (ticket_id, source, source_id, created_at, week_start, message, "
                    "source_file) VALUES ('fd:1', 'freshdesk', '1', '2026-11-03', ?, 'Card declined', '/in/gone.csv')",
                    [kept_week])
        for w in (kept_week, week):
            con.execute("INSERT INTO marts.weekly_reports (week_start, run_id) VALUES (?, 'r1')", [w])
        con.execute("INSERT INTO ops.ingested_files (source_file, file_hash) VALUES ('/in/a.csv', 'h')")
    files = pd.DataFrame({"source_file": ["/in/a.csv"], "file_hash": ["h"], "error": [None]})
    staged = (Counter({week: 10}), files, None, {week: "d"})
    recorded = CompleteRun("r1", {WEEK_TICKETS: {kept_week.isoformat(): recorded_digest, week.isoformat(): "d"},
                                  RUN_INPUTS: inputs_digest(tmp_path)})
    kept, notes = runner.plan_changed(tmp_path, warehouse, staged, KEYS, "", lambda w: recorded)
    assert kept.idle and "nothing to run: the 2 weeks with tickets, 2026-11-02..2026-11-09" in kept.describe()
    assert not notes
    pruned, _ = runner.plan_changed(tmp_path, warehouse, staged, KEYS, "", lambda w: recorded, prune=True)
    assert (pruned.start, pruned.end, pruned.with_tickets) == (kept_week, week, 2)
    edited = (Counter({kept_week: 1, week: 10}), files, None, {kept_week: "a", week: "d"})  # a.csv gives it one
    plan, notes = runner.plan_changed(tmp_path, warehouse, edited, KEYS, "", lambda w: recorded)
    assert plan.start == kept_week and "the tickets of 1 earlier week changed" in notes[0]


def test_changed_weeks_run_from_the_first_change_and_nothing_when_none_changed():
    """A weekly `ticket-intel run` over an inbox that keeps its old exports re-ran every week of it; by
    default it now runs the weeks from the first whose inputs changed, since later weeks follow from it."""
    weeks = [dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23)]
    counts = Counter({w: 10 for w in weeks})
    idle = runner.plan_weeks(runner.CHANGED, counts, KEYS)
    assert idle.idle and (idle.start, idle.end, idle.current) == (weeks[0], weeks[-1], 4)
    assert "nothing to run: the 4 weeks with tickets, 2026-11-02..2026-11-23, are unchanged" in idle.describe()
    middle = runner.plan_weeks(runner.CHANGED, counts, KEYS, changed={weeks[1]})
    assert not middle.idle and (middle.start, middle.end, middle.with_tickets) == (weeks[1], weeks[-1], 3)
    assert "the 1 week before is unchanged since their last complete run" in middle.describe()
    every = runner.plan_weeks("all", counts, KEYS, changed={weeks[1]})  # `all` runs every week whatever changed
    assert (every.start, every.current) == (weeks[0], 0)
    cut = rates.CutWeek(weeks[-1], dt.datetime(2026, 11, 23, 10), 0.8)
    assert runner.plan_weeks(runner.CHANGED, counts, KEYS, cut=cut, changed={weeks[-1]}).idle  # only the cut week


def test_the_inputs_digest_follows_what_shapes_results_and_nothing_else(tmp_path, monkeypatch):
    from ticket_intel.run_inputs import inputs_digest

    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text("product_areas: []\n", encoding="utf-8")
    monkeypatch.setenv("TICKET_INTEL_TAXONOMY", str(taxonomy))
    before = inputs_digest(tmp_path)
    monkeypatch.setenv("TICKET_INTEL_NOTIFY_URL", "http://127.0.0.1:9/hook")  # where alerts go: no week changes
    monkeypatch.setenv("TICKET_INTEL_REPORTS_DIR", str(tmp_path / "elsewhere"))
    assert inputs_digest(tmp_path) == before
    monkeypatch.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "4")
    assert inputs_digest(tmp_path) != before
    monkeypatch.delenv("TICKET_INTEL_MIN_THEME_TICKETS")
    taxonomy.write_text("product_areas: [{name: Cards, keywords: [card]}]\n", encoding="utf-8")
    assert inputs_digest(tmp_path) != before
    (tmp_path / "releases.csv").write_text("released_at,version,notes\n2026-11-02,1.2.0,Faster cards\n")
    edited = inputs_digest(tmp_path)
    assert edited != before and edited == inputs_digest(tmp_path)


def test_a_week_is_changed_by_its_tickets_and_stale_by_its_inputs(tmp_path):
    """Each week against its last complete run: other tickets, no complete run or no report from it
    is changed; the same tickets run with other inputs is stale, as is a run recorded before ticket
    digests were (it cannot tell); the same tickets and inputs is neither."""
    from ticket_intel.defs.ingest import CompleteRun
    from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS, inputs_digest

    now = inputs_digest(tmp_path)
    weeks = [dt.date(2026, 11, 2) + dt.timedelta(weeks=i) for i in range(6)]
    digests = {w: f"t{i}" for i, w in enumerate(weeks)}
    recorded = {w: {WEEK_TICKETS: {w.isoformat(): digests[w]}, RUN_INPUTS: now} for w in weeks}
    recorded[weeks[1]][WEEK_TICKETS] = {weeks[1].isoformat(): "edited"}
    recorded[weeks[2]][RUN_INPUTS] = "other settings"
    del recorded[weeks[3]][WEEK_TICKETS]
    runs = {w: CompleteRun(f"r{i}", recorded[w]) for i, w in enumerate(weeks)}
    runs[weeks[4]] = CompleteRun(None, {})
    reports = {w: runs[w].run_id for w in weeks if w != weeks[5]}
    changed, stale, edited = runner._week_changes(tmp_path, Counter(weeks), digests, reports, runs.__getitem__)
    assert (changed, stale, edited) == ([weeks[1], weeks[4], weeks[5]], [weeks[2], weeks[3]], [weeks[1]])


def test_a_week_s_digest_is_its_tickets_not_where_they_sit(tmp_path):
    """Renamed, reordered or split over files, the same tickets are the same week; an edited ticket
    changes its own week only."""
    from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

    rows = [fd_row(str(100 + i), f"Ticket {i} about my card", f"2026-11-{3 + 7 * (i % 2):02d} 1{i}:00:00")
            for i in range(6)]

    def digests(files: dict[str, list[dict]]) -> dict[dt.date, str]:
        inbox = tmp_path / f"inbox{len(list(tmp_path.iterdir()))}"
        inbox.mkdir()
        for name, chosen in files.items():
            (inbox / name).write_text(fd_csv(chosen), encoding="utf-8")
        return runner.inbox_weeks(inbox, "", None)[3]

    first = digests({"a.csv": rows})
    assert sorted(first) == [dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    assert digests({"b.csv": rows[::-1]}) == first
    assert digests({"c.csv": rows[:3], "d.csv": rows[3:]}) == first
    edited = digests({"a.csv": [*rows[:5], {**rows[5], "Description": "Ticket 5 about my card, edited"}]})
    week_of_5 = dt.date(2026, 11, 9)
    assert edited[week_of_5] != first[week_of_5] and edited[dt.date(2026, 11, 2)] == first[dt.date(2026, 11, 2)]


def test_the_staged_inbox_gives_each_ticket_its_offset_in_its_week(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = ["Ticket ID,Subject,Description,Created time,Contact ID"] + [
        f"{100 + i},Card,Ticket number {i} about a card,2026-11-{d:02d} {h:02d}:00:00,{200 + i}"
        for i, (d, h) in enumerate([(3, 12), (10, 6), (11, 18), (16, 10)])]
    (inbox / "freshdesk_tickets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    counts, _, cut, _ = runner.inbox_weeks(inbox, "", None)
    assert sum(counts.values()) == 4 and cut is None
    from ticket_intel.core.sources import load_mappings
    from ticket_intel.warehouse.staging import staged_inbox

    with staged_inbox(inbox, load_mappings(""), None) as staged:
        staged.stage.resolve(staged.files, None)
        offsets = staged.stage.latest_weeks_offsets(2).sort_values("created_at")
    assert offsets["week_start"].astype(str).tolist() == ["2026-11-09", "2026-11-09", "2026-11-16"]
    assert (offsets["offset_seconds"] / 3600).tolist() == [30.0, 66.0, 10.0]  # Tue 06:00, Wed 18:00, Mon 10:00


def test_a_stored_week_is_partial_only_when_the_warehouse_s_data_ends_inside_it():
    daily = [d + h / 24 for d in range(7) for h in (9, 15)]
    offsets = _offsets({dt.date(2026, 11, 2): daily, dt.date(2026, 11, 9): daily, dt.date(2026, 11, 16): [0.4, 0.6]})
    window = offsets.rename(columns={"week_start": "ticket_week"})[["ticket_week", "created_at"]]
    latest = window["created_at"].max()
    cut = rates.week_cut_short(window, dt.date(2026, 11, 16), latest)
    assert cut is not None and cut.covered == pytest.approx(2 / 28)
    assert rates.week_cut_short(window, dt.date(2026, 11, 16), dt.datetime(2026, 11, 24)) is None  # data went on
    assert rates.week_cut_short(window, dt.date(2026, 11, 16), None) is None
    whole = window[window["ticket_week"] < dt.date(2026, 11, 16)]
    assert rates.week_cut_short(whole, dt.date(2026, 11, 9), whole["created_at"].max()) is None


@pytest.mark.e2e
def test_a_week_without_tickets_inside_the_weeks_run_does_not_fail_the_run(tmp_path):
    """A small queue has quiet weeks (React's bug titles: 6 of 104 weeks in 2020-2021 had none).
    `run --weeks` over such a week, or of that week alone as the weekly schedule runs it, failed at
    redacted_tickets; the quiet week is now redacted as nothing and the weeks around it run to their
    reports. The inbox is named relative to the working folder, and stored by its absolute path, as
    the UI's runs read it (else the UI's next run reported the file as gone and its tickets kept)."""
    from ticket_intel_tests.processes import child_env, cli, cli_errors, python
    from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [fd_row(created=f"{day} 10:00:00", text=f"The app crashes when I open settings ({i})")
            for day in ("2026-09-01", "2026-09-15") for i in range(3)]
    (inbox / "fd.csv").write_text(fd_csv(rows))
    env = child_env(TICKET_INTEL_CONFIG="", TICKET_INTEL_PARTITIONS_START="2026-08-31")
    env.pop("DAGSTER_HOME", None)
    run = cli(["run", "--inbox", "inbox", "--warehouse", str(tmp_path / "w.duckdb"),
               "--weeks", "2026-08-31..2026-09-14"], env, tmp_path)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err[-3000:]
    assert "skipped 1 week with no tickets" in out
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        redacted = con.execute("SELECT week_start::VARCHAR, count(*) FROM staging.redacted_tickets GROUP BY 1 "
                               "ORDER BY 1").fetchall()
        reports = con.execute("SELECT week_start::VARCHAR FROM marts.weekly_reports ORDER BY 1").fetchall()
        stored = con.execute("SELECT DISTINCT source_file FROM raw.tickets").fetchall()
    assert redacted == [("2026-08-31", 3), ("2026-09-14", 3)]
    assert stored == [(str((inbox / "fd.csv").resolve()),)]
    assert reports == [("2026-08-31",), ("2026-09-14",)]
    # the quiet week alone, as the weekly schedule runs it
    alone = python(f"""
        from datetime import date
        from pathlib import Path
        from ticket_intel import cli, runner
        runner.configure(Path({str(tmp_path / "w.duckdb")!r}))
        print(cli.execute(Path({str(tmp_path / "w.duckdb")!r}), date(2026, 9, 7), date(2026, 9, 7)).success)
        """, env)
    out, err = alone.communicate(timeout=600)
    assert out == "True\n", err[-3000:]
    quiet = cli(["run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "w.duckdb"), "--weeks", "2026-09-07"],
                env, tmp_path)  # named on the command line, a week of nothing is an error, as it is to `themes`
    out, err = quiet.communicate(timeout=600)
    assert quiet.returncode == 66 and cli_errors(err) == [
        "ticket-intel: error: no tickets in the week 2026-09-07 (--weeks 2026-09-07) in the inbox: its weeks with "
        "tickets are 2026-08-31..2026-09-14"]


@pytest.mark.e2e
def test_a_small_queue_gets_themes_ranked_over_its_last_weeks(tmp_path):
    """Six tickets a week never reach the week's minimum (here 15); the third week is ranked over
    the three weeks that do, and the command line and the report say so."""
    from ticket_intel_tests.processes import child_env, cli
    from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    crash = ["The app crashes when I open settings", "Settings page closes the app immediately",
             "Opening preferences makes the app quit", "App crashed again on the settings screen",
             "Every time I tap Settings the application crashes", "Crash when going into settings on my phone",
             "The settings menu freezes and then the app shuts down", "App force closes when I open the settings tab",
             "Can't open settings, the app just crashes"]
    export = ["Exporting my invoice to PDF fails", "PDF export of invoices gives an error",
              "I cannot download my invoice as a PDF", "Invoice PDF export is broken",
              "The export to PDF button does nothing for invoices", "Error when saving an invoice as PDF",
              "Invoices won't export to PDF anymore", "PDF download of my bill fails every time",
              "Export invoice as PDF shows a blank error"]
    rows = [fd_row(created=f"{day} 1{i}:00:00", text=(crash if i < 3 else export)[3 * w + i % 3])
            for w, day in enumerate(("2026-09-01", "2026-09-08", "2026-09-15")) for i in range(6)]
    (inbox / "fd.csv").write_text(fd_csv(rows))
    env = child_env(TICKET_INTEL_CONFIG="", TICKET_INTEL_PARTITIONS_START="2026-08-31",
                    TICKET_INTEL_MIN_WEEK_TICKETS="15")
    env.pop("DAGSTER_HOME", None)
    warehouse = tmp_path / "w.duckdb"
    run = cli(["run", "--inbox", str(inbox), "--warehouse", str(warehouse)], env, tmp_path)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err[-3000:]
    with wh.open_warehouse(warehouse) as con:
        ranked = con.execute("SELECT week_start::VARCHAR, ranked_weeks, sum(tickets), bool_and(customers <= tickets) "
                             "FROM marts.ranked_themes GROUP BY 1, 2").fetchall()
        warnings = con.execute("SELECT week_start::VARCHAR FROM marts.weekly_overview WHERE warning IS NOT NULL "
                               "ORDER BY 1").fetchall()
        html = Path(con.execute("SELECT html_path FROM marts.weekly_reports WHERE week_start = '2026-09-14'"
                                ).fetchone()[0]).read_text(encoding="utf-8")
    assert warnings == [("2026-08-31",), ("2026-09-07",)]  # 6 and 12 tickets: too few even together
    assert [(week, weeks) for week, weeks, _, _ in ranked] == [("2026-09-14", 3)]
    assert ranked[0][2] >= 10 and ranked[0][3]  # most of the 18 tickets, never more customers than tickets
    note = "ranked over the 3 weeks 2026-08-31 to 2026-09-14"
    assert note in html
    for command in (["themes"], ["review", "list"]):
        listed = cli([*command, "--warehouse", str(warehouse)], env, tmp_path)
        out, err = listed.communicate(timeout=120)
        assert listed.returncode == 0 and note in out, (command, err)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tmp_path / "w_dagster")) as instance:  # what the UI shows
        ranked_event = instance.get_latest_materialization_event(dg.AssetKey("ranked_themes"))
    assert ranked_event.asset_materialization.metadata["ranked_weeks"].value == 3


@pytest.mark.e2e
def test_a_weekly_run_runs_the_new_week_and_a_changed_setting_every_week(tmp_path):
    """`ticket-intel run` again over the same inbox runs nothing; with next week's export added, that
    week alone; with an export that holds no ticket, the newest week, so its rejections are recorded;
    with a setting that shapes themes changed, nothing, naming it, and with --replace-config every week
    again; and every week into a warehouse file deleted beside the instance that remembers its runs."""
    from ticket_intel_tests.processes import child_env, cli
    from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()

    def export(name: str, mondays: list[str]) -> None:
        rows = [fd_row(text=f"The app crashes when I open settings, day {d}",
                       created=f"{(dt.date.fromisoformat(m) + dt.timedelta(days=d)).isoformat()} 10:00:00")
                for m in mondays for d in range(7)]
        (inbox / name).write_text(fd_csv(rows))

    def run(*flags: str, refused: bool = False, **settings_: str) -> str:
        env = child_env(TICKET_INTEL_CONFIG="", TICKET_INTEL_PARTITIONS_START="2026-08-31",
                        **settings_)
        env.pop("DAGSTER_HOME", None)
        process = cli(["run", "--inbox", str(inbox), "--warehouse", str(warehouse), *flags], env, tmp_path)
        out, err = process.communicate(timeout=600)
        assert process.returncode == (1 if refused else 0), err[-3000:]
        return out + err if refused else out

    def run_ids() -> list[tuple]:
        with wh.open_warehouse(warehouse) as con:
            return con.execute("SELECT week_start::VARCHAR, run_id FROM marts.weekly_reports ORDER BY 1").fetchall()

    export("august.csv", ["2026-08-31", "2026-09-07"])
    assert "weeks 2026-08-31..2026-09-07: 2 with tickets\n" in run()
    first = run_ids()
    assert "nothing to run: the 2 weeks with tickets, 2026-08-31..2026-09-07, are unchanged" in run()
    assert run_ids() == first
    export("september.csv", ["2026-09-14"])
    assert "week 2026-09-14: 1 with tickets; the 2 weeks before are unchanged" in run()
    assert run_ids()[:2] == first
    (inbox / "broken.csv").write_text(fd_csv([fd_row(created="yesterday")] * 3))  # no ticket, but never silent
    out = run()
    assert "broken.csv: no ticket in a week that changed, but new to the warehouse; running the newest week" in out
    assert "week 2026-09-14: 1 with tickets" in out and "broken.csv: freshdesk, 0 accepted, 3 rejected" in out
    with wh.open_warehouse(warehouse) as con:
        assert con.execute("SELECT count(*) FROM ops.rejected_tickets WHERE source_file LIKE '%broken.csv'").fetchone()[0] == 3
    assert "nothing to run" in run()
    (inbox / "september.csv").rename(tmp_path / "september.csv")  # removed, not pruned: its tickets stay
    # It said 2, of a warehouse holding 3; and until 2026-12-06 it first ran the week again, "changed".
    assert "nothing to run: the 3 weeks with tickets" in run()
    (tmp_path / "september.csv").rename(inbox / "september.csv")
    said = run(refused=True, TICKET_INTEL_MIN_THEME_TICKETS="4")  # until 2026-12-07 it ran them all, silently
    assert ("settings that shape themes: TICKET_INTEL_MIN_THEME_TICKETS 5 in weeks 2026-08-31..2026-09-14, not this "
            "shell's 4; nothing run") in said
    assert "run again with the current ones" not in said  # the plan's note once said so before the refusal
    assert run_ids()[:2] == first
    assert "weeks 2026-08-31..2026-09-14: 3 with tickets\n" in run("--replace-config", TICKET_INTEL_MIN_THEME_TICKETS="4")
    assert {run_id for _, run_id in run_ids()}.isdisjoint({run_id for _, run_id in first})
    for stale in (warehouse, warehouse.with_name("w.snapshot.duckdb")):  # "start fresh": the instance stays
        stale.unlink()
    assert "weeks 2026-08-31..2026-09-14: 3 with tickets\n" in run()


def test_the_llm_calls_a_run_did_not_make_are_counted_once_per_step():
    """A run whose provider failed says so in its last lines; each step's figure is on every week
    it materialized, and counts once."""
    import dagster as dg

    from ticket_intel.cli import llm_calls_not_made, not_made_note

    weekly = dg.WeeklyPartitionsDefinition(start_date="2026-01-05", day_offset=1, timezone="UTC")

    def step(name: str, not_made: int) -> dg.AssetsDefinition:
        @dg.asset(name=name, partitions_def=weekly, backfill_policy=dg.BackfillPolicy.single_run())
        def _step():  # no annotation: this module's are strings, which Dagster resolves at module level
            return dg.MaterializeResult(metadata={"llm_calls_not_made": not_made})
        return _step

    with dg.instance_for_test() as instance:
        result = dg.materialize([step("summaries", 3), step("triage", 4), step("other", 0)], instance=instance,
                                tags={"dagster/asset_partition_range_start": "2026-01-05",
                                      "dagster/asset_partition_range_end": "2026-01-19"})
    assert result.success and llm_calls_not_made(result) == 7
    plan = runner.WeekPlan(dt.date(2026, 1, 5), dt.date(2026, 1, 19), 3, 0)
    note = not_made_note(7, Path("/srv/w.duckdb"), plan)  # runnable as printed: `--inbox` is required
    assert note.startswith("LLM: 7 calls not made") and \
        "run `ticket-intel run --inbox DIR --warehouse /srv/w.duckdb --weeks 2026-01-05..2026-01-19` again" in note


def test_a_review_run_without_the_weeks_llm_says_their_labels_will_be_written_again():
    """`review confirm` in a shell without TICKET_INTEL_LLM_MODEL turned every LLM label of 8 weeks
    extractive, and said only that one label changed."""
    from ticket_intel.cli import summarizer_change

    line = summarizer_change({"llm:openai/gpt-4o-mini", "extractive"}, "")
    assert line is not None and "openai/gpt-4o-mini" in line and "extractive summarizer" in line
    assert "the LLM openai/other" in summarizer_change({"llm:openai/gpt-4o-mini"}, "openai/other")
    assert summarizer_change({"llm:openai/gpt-4o-mini", "extractive"}, "openai/gpt-4o-mini") is None
    assert summarizer_change({"extractive"}, "") is None


def test_every_command_reads_the_configured_warehouse(tmp_path, monkeypatch):
    """TICKET_INTEL_WAREHOUSE was ignored: every command read data/warehouse.duckdb unless given
    --warehouse, and the report's `export --customers` hint read the demo's."""
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE", str(tmp_path / "ours.duckdb"))
    for command in (["themes"], ["similar", "--text", "card declined"], ["review", "list"]):
        r = CliRunner().invoke(main, command)
        assert r.exit_code == 66 and "ours.duckdb" in r.output, (command, r.output)


def test_a_setting_that_is_no_whole_number_is_one_line_before_the_run(tmp_path, monkeypatch):
    """`TICKET_INTEL_MIN_THEME_TICKETS=abc ticket-intel run` printed a page of Dagster traceback."""
    monkeypatch.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "abc")
    r = CliRunner().invoke(main, ["run", "--inbox", str(PROJECT_ROOT / "data" / "sample"),
                                  "--warehouse", str(tmp_path / "w.duckdb")])
    assert r.exit_code == 1 and "TICKET_INTEL_MIN_THEME_TICKETS: must be a whole number, not 'abc'" in r.output
    assert "Traceback" not in r.output


def test_a_new_warehouse_plans_from_the_start_it_chooses(tmp_path):
    """The definitions' partitions begin where a new warehouse's start is chosen: imported before
    that (as a settings check once did), a twcs inbox ran 16 weeks from January, not 9 from October.
    A fresh process, as a user's run is; the run itself is left out."""
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    tickets = [{"id": i, "created_at": f"2026-{'06-02' if i < 2 else '11-17'}T10:00:00Z", "subject": "Card",
                "description": f"my card was declined, attempt {i}", "requester_id": i} for i in range(42)]
    (inbox / "zendesk.json").write_text(json.dumps({"tickets": tickets}))
    code = ("import sys, types; from ticket_intel import cli; "
            "cli.execute = lambda *a, **k: types.SimpleNamespace(all_events=[]); cli._print_ingest = print; "
            "plan = cli.run_pipeline(cli.Path(sys.argv[1]), cli.Path(sys.argv[2])); print('PLAN', plan.start)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_INTEL_") and k != "DAGSTER_HOME"}
    env.update(PYTHONPATH=str(PROJECT_ROOT), TICKET_INTEL_CONFIG="")
    out = subprocess.run([sys.executable, "-c", code, str(inbox), str(tmp_path / "w.duckdb")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert "PLAN 2026-11-16" in out.stdout, out.stdout + out.stderr


def test_a_run_says_which_earlier_week_s_tickets_changed(tmp_path):
    """A new week's export re-ran 7 weeks without saying why (its replies joined earlier conversations;
    backfill review). A first run, whose weeks never ran, says nothing of the kind."""
    from ticket_intel.defs.ingest import CompleteRun
    from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS, inputs_digest

    first, second, new = dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)
    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        for w in (first, second):
            con.execute("INSERT INTO marts.weekly_reports (week_start, run_id) VALUES (?, 'r1')", [w])
    files = pd.DataFrame({"source_file": ["/in/a.csv"], "file_hash": ["h"], "error": [None]})
    staged = (Counter({first: 10, second: 10, new: 10}), files, None, {first: "edited", second: "b", new: "c"})
    recorded = CompleteRun("r1", {WEEK_TICKETS: {first.isoformat(): "a", second.isoformat(): "b"},
                                  RUN_INPUTS: inputs_digest(tmp_path)})
    plan, notes = runner.plan_changed(tmp_path, warehouse, staged, KEYS, "",
                                      lambda w: recorded if w < new else CompleteRun(None, {}))
    assert (plan.start, plan.end) == (first, new)
    assert any(n.startswith("the tickets of 1 earlier week changed since its last complete run, the first 2026-11-02")
               for n in notes), notes
    never, notes = runner.plan_changed(tmp_path, warehouse, staged, KEYS, "", lambda w: CompleteRun(None, {}))
    assert never.start == first and not any("changed since" in n for n in notes)


def test_a_ducklake_run_without_a_reports_folder_stops_before_it_starts(monkeypatch):
    """It failed at weekly_report, after minutes of ingest, redaction and embedding (issue-16 review)."""
    from ticket_intel.cli import execute

    monkeypatch.delenv("TICKET_INTEL_REPORTS_DIR", raising=False)
    lake = Path("ducklake:postgres:dbname=ti host=127.0.0.1")
    with pytest.raises(ValueError, match="a DuckLake warehouse needs TICKET_INTEL_REPORTS_DIR set"):
        execute(lake, dt.date(2026, 11, 2), dt.date(2026, 11, 2))


def test_an_inbox_of_the_unfinished_week_alone_says_so():
    """Every ticket dated this week, the partitions held no week: `min() arg is an empty sequence`."""
    with pytest.raises(ValueError, match="every ticket is in the week of 2026-11-30, which has not ended"):
        runner.plan_weeks(runner.CHANGED, Counter({dt.date(2026, 11, 30): 5}), set())


def test_a_new_ducklake_with_a_duckdb_catalog_file_holds_nothing_yet(tmp_path, monkeypatch):
    """Its first run read the catalog file before anything had created it, and failed (verify review)."""
    monkeypatch.setenv("TICKET_INTEL_WAREHOUSE_DATA_PATH", str(tmp_path / "data") + "/")
    assert runner._recorded(f"ducklake:{tmp_path / 'meta.ducklake'}", []) == ({}, set(), Counter(), None)


def test_an_alert_a_re_run_no_longer_raises_is_said_withdrawn(tmp_path):
    """Time review: late tickets re-ran a week, its new-pattern alert vanished from ops.alerts, and
    nothing said so though a notifier had sent it."""
    from ticket_intel.cli import withdrawn

    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse) as con:
        con.execute("INSERT INTO ops.alerts (alert_key, week_start, theme_id, kind, label) VALUES "
                    "('k1', '2026-11-23', 'T20261123-00', 'new_pattern', 'Refund · check'), "
                    "('k2', '2026-11-23', 'T20261102-01', 'spike', 'Card · declined'), "
                    "('k3', '2026-11-30', 'T20261102-01', 'spike', NULL)")
        before = wh.alerts_between(con, dt.date(2026, 11, 23), dt.date(2026, 11, 23))
        con.execute("DELETE FROM ops.alerts WHERE alert_key = 'k1'")
        after = wh.alerts_between(con, dt.date(2026, 11, 23), dt.date(2026, 11, 23))
    assert len(before) == 2 and withdrawn(before, before) == []
    renamed = {(w, k, t, "Card · refused" if t == "T20261102-01" else label) for w, k, t, label in before}
    assert withdrawn(before, renamed) == []  # a label renamed (a review, new words) is the same alert
    assert withdrawn(before, after) == [
        "alert withdrawn: 2026-11-23 new pattern “Refund · check” (T20261123-00), raised by an earlier run of its "
        "week and not by this one (its tickets, settings or code changed)"]


@pytest.mark.parametrize("said", ["RuntimeError: Query interrupted",
                                  "dagster._core.errors.DagsterExecutionInterruptedError", "KeyboardInterrupt"])
def test_an_interrupted_run_says_it_was_interrupted_not_that_it_failed(said):
    """Ctrl-C during embedding read "failed at ticket_embeddings: RuntimeError: Query interrupted"."""
    from types import SimpleNamespace

    from ticket_intel.cli import run_failure

    error = SimpleNamespace(message=said + "\n  traceback", cause=None)
    events = [SimpleNamespace(event_specific_data=None, step_key=None),
              SimpleNamespace(event_specific_data=SimpleNamespace(error=error), step_key="ticket_embeddings")]
    assert run_failure(events).startswith("ticket_embeddings: interrupted (Ctrl-C or a stop signal); what it finished")
    error.message = "OSError: [Errno 28] No space left on device"
    assert run_failure(events) == "ticket_embeddings: OSError: [Errno 28] No space left on device"


def test_busy_and_interrupted_have_exit_codes_of_their_own(tmp_path, monkeypatch):
    """Every failure exited 1, Ctrl-C too ("Aborted!"): a cron wrapper could not retry a busy
    warehouse and page on a broken one."""
    from types import SimpleNamespace

    from ticket_intel import cli

    warehouse = tmp_path / "w.duckdb"
    with wh.open_warehouse(warehouse):
        pass
    with _writer_held(warehouse):
        busy = CliRunner().invoke(main, ["review", "confirm", "T1", "--warehouse", str(warehouse)],
                                  env={"TICKET_INTEL_WRITER_WAIT_SECONDS": "0"})
    assert busy.exit_code == cli.BUSY == 75, busy.output
    assert busy.stderr.startswith("ticket-intel: error: ") and "try again when it finishes" in busy.stderr

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "load_themes", ctrl_c)
    stopped = CliRunner().invoke(main, ["themes", "--warehouse", str(warehouse)])
    assert (stopped.exit_code, stopped.stderr) == (cli.INTERRUPTED, f"ticket-intel: error: {cli.STOPPED}\n")
    error = SimpleNamespace(message="KeyboardInterrupt", cause=None)  # a run stopped by Ctrl-C or SIGTERM
    run = SimpleNamespace(run_id="r1", all_events=[SimpleNamespace(event_specific_data=SimpleNamespace(error=error),
                                                                   step_key="ticket_clusters")])
    assert cli.failed_run(run, warehouse).exit_code == 130
    error.message = "OSError: [Errno 28] No space left on device"
    assert cli.failed_run(run, warehouse).exit_code == cli.ERROR == 1


def test_ctrl_c_and_a_stop_signal_exit_130_wherever_they_come(tmp_path, monkeypatch):
    """Ctrl-C while click parsed, or before the command began, said "Aborted!" and exited 1; a SIGTERM
    outside a run killed the process (143), where during a run it is 130 with one line."""
    import signal

    from ticket_intel import cli
    from ticket_intel_tests.processes import kill, python

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    said = (cli.INTERRUPTED, f"ticket-intel: error: {cli.STOPPED}\n")
    with monkeypatch.context() as patched:
        patched.setattr(cli.Week, "convert", ctrl_c)  # parsing --week
        parsing = CliRunner().invoke(main, ["themes", "--week", "2026-11-02", "--warehouse", str(tmp_path / "w")])
    with monkeypatch.context() as patched:
        patched.setattr(settings, "apply", ctrl_c)  # the group's own step, before any command
        starting = CliRunner().invoke(main, ["themes", "--warehouse", str(tmp_path / "w")])
    assert (parsing.exit_code, parsing.stderr) == said and (starting.exit_code, starting.stderr) == said
    reading = python(f"""
        import time
        from ticket_intel import cli
        def slow(*args, **kwargs):
            print("reading", flush=True)
            time.sleep(60)
        cli.load_themes = slow
        cli.main(["themes", "--warehouse", {str(tmp_path / "w.duckdb")!r}], prog_name="ticket-intel")
        """)
    try:
        assert reading.stdout.readline() == "reading\n"
        reading.send_signal(signal.SIGTERM)
        _, err = reading.communicate(timeout=60)
    finally:
        kill(reading)
    assert (reading.returncode, err) == said


def test_what_is_not_there_has_an_exit_code_apart_from_errors(tmp_path):
    """A week without data, an unknown id and a missing warehouse exited 1, as a crash does: a script
    could not tell "no themes for this week yet" from "broken"."""
    from ticket_intel import cli

    warehouse, empty = tmp_path / "w.duckdb", tmp_path / "empty.duckdb"
    with wh.open_warehouse(empty):
        pass
    with wh.open_warehouse(warehouse) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 40)")
    at = ["--warehouse", str(warehouse)]
    for args, said in ((["themes", "--warehouse", str(tmp_path / "none.duckdb")], "warehouse not found: "),
                       (["themes", "--warehouse", str(empty)],  # a run as printed: `--inbox` is required
                        f"has no materialized weeks yet; run `ticket-intel run --inbox DIR --warehouse {empty}` first"),
                       (["themes", *at, "--week", "2026-11-09"], "no data for the week of 2026-11-09"),
                       (["review", "confirm", "NOPE", *at], "unknown theme id 'NOPE'"),
                       (["review", "undo", "7", *at], "no review #7"),
                       (["run", "--inbox", str(tmp_path / "nope"), *at], "inbox folder not found: ")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == cli.NO_INPUT == 66 and said in result.stderr, (args, result.output)
    with pytest.raises(access.NotFound, match="no tickets in the week 2026-11-16"):  # `run --weeks` of no ticket
        runner.plan_weeks("2026-11-18", Counter({dt.date(2026, 10, 12): 30}), KEYS)
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 100)
    assert CliRunner().invoke(main, ["themes", "--warehouse", str(broken)]).exit_code == cli.ERROR == 1


def test_dev_and_serve_on_a_taken_port_start_nothing_and_say_so(tmp_path, monkeypatch):
    """`dev` on a taken port printed "Dagster UI on http://127.0.0.1:PORT" and ran on, without a UI,
    for as long as it was left (uvicorn's "[Errno 98] address already in use" on stderr)."""
    import socket

    from dagster_dg_cli.cli import dev as dg_dev

    from ticket_intel import cli

    started = []
    monkeypatch.setattr(dg_dev.dev_command, "main", lambda *a, **k: started.append(a))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in ("dev", "serve"):
            result = CliRunner().invoke(main, [command, "--warehouse", str(tmp_path / "w.duckdb"), "--port", str(port)])
            assert result.exit_code == cli.PORT_TAKEN == 3 and result.stdout == "" and not started, result.output
            assert result.stderr == (f"ticket-intel: error: cannot serve on 127.0.0.1:{port}: Address already in use "
                                     "(choose another with --port)\n")
    assert list(tmp_path.iterdir()) == []  # no instance made for a UI that never started


def test_dev_writes_no_colour_codes_under_no_color_or_into_a_file(tmp_path, monkeypatch):
    """`NO_COLOR=1 ticket-intel dev > dev.log` wrote Dagster's coloured logs, 23 escape codes in 40 s
    ("^[[32m2026-12-06 22:00:43 +0000^[[0m - dagster - ^[[34mINFO^[[0m - Launching Dagster services...")."""
    from dagster_dg_cli.cli import dev as dg_dev

    from ticket_intel.cli import dagster_log_format

    assert dagster_log_format({}, tty=True) == dagster_log_format({"NO_COLOR": ""}, tty=True) == "colored"
    assert dagster_log_format({"NO_COLOR": "1"}, tty=True) == dagster_log_format({}, tty=False) == "json"
    started = []
    monkeypatch.setattr(dg_dev.dev_command, "main", lambda args, **k: started.append(args))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # `dev` anchors the settings' paths in it
    monkeypatch.chdir(tmp_path)  # and moves to the project folder
    result = CliRunner().invoke(main, ["dev", "--warehouse", str(tmp_path / "w.duckdb"), "--port", "0"])
    assert result.exit_code == 0, result.output
    assert started == [["--host", "127.0.0.1", "--port", "0", "--log-format", "json"]]  # CliRunner's stdout: no tty


@pytest.mark.e2e
def test_the_ui_stops_on_a_stop_signal_when_started_in_the_background(tmp_path):
    """A shell starts `ticket-intel dev &` with SIGINT ignored, and Dagster's dev process answers SIGTERM as
    SIGINT: `kill` (or `docker stop`) left the UI, the daemon and the code server running."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(TICKET_INTEL_INBOX=str(tmp_path / "inbox"), TICKET_INTEL_CONFIG="")
    (tmp_path / "inbox").mkdir()
    server = subprocess.Popen(  # as `&` starts it: SIGINT ignored, its own process group
        [sys.executable, "-m", "ticket_intel.cli", "dev", "--warehouse", str(tmp_path / "w.duckdb"), "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for _ in range(120):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).status == 200:
                    break
            time.sleep(1)
        else:
            pytest.fail("the UI did not start")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(server.pid, 0)  # a process of its group still runs
            except ProcessLookupError:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the UI's processes outlived the stop signal")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)


def test_a_terminal_too_narrow_for_the_table_gets_each_theme_in_a_few_lines(monkeypatch):
    """On 80 columns `themes` printed 174-column rows, each broken into four or five lines; its order
    (by impact) could not be read from the columns it showed."""
    row = {"week_start": dt.date(2026, 11, 16), "rank": 1, "theme_id": "T20261116-01", "label": "Direct debit · payment",
           "tickets": 9, "customers": 9, "impact": 72.0, "trend": "steady", "trend_baseline": 9.8, "paid_share": 1.0,
           "severity": "P0", "signal_type": "billing", "products": "(none) 7 · Example Bank Business 3",
           "product_names": ["(none)", "Example Bank Business"],
           "example_ticket_ids": ["intercom:215470035293738", "freshdesk:11201", "intercom:215470033090070"]}
    monkeypatch.setenv("COLUMNS", "80")
    lines = format_themes(pd.DataFrame([row, {**row, "rank": 2}]), "table").splitlines()
    assert max(map(len, lines)) <= 80 and len(lines) == 1 + 2 * 5  # a card: title, facts on two lines, ...
    assert lines[1] == "  1. Direct debit · payment  [T20261116-01]"
    assert " ".join(w.strip() for w in lines[2:4]) == (
        "9 tickets · 9 customers · impact 72 · no clear change (9 vs 9.8/wk) · P0 billing · 100% paid")
    assert lines[4:6] == ["     (none) 7 · Example Bank Business 3",
                          "     e.g. intercom:215470035293738, freshdesk:11201, intercom:215470033090070"]
    monkeypatch.setenv("COLUMNS", "400")
    assert format_themes(pd.DataFrame([row]), "table").splitlines()[1].split()[:6] == [
        "rank", "theme_id", "label", "tickets", "customers", "impact"]


def _built_with(warehouse: Path, built: dict[dt.date, dict[str, Value]], summarized: list[dt.date] = ()) -> None:
    """A warehouse whose weeks recorded these configurations, and whose `summarized` weeks have
    summaries (with or without a record)."""
    rows = pd.concat([wh.config_rows(week, config, "r1") for week, config in built.items()])
    summaries = pd.DataFrame({"week_start": list(summarized), "theme_id": "T1"})
    with wh.open_warehouse(warehouse) as con:
        wh.replace(con, [wh.Replace("marts.week_configs", rows, "week_start", list(built)),
                         wh.Replace("marts.cluster_summaries", summaries, "week_start", list(summarized))])


def test_a_run_with_other_settings_than_its_weeks_is_refused_naming_each(tmp_path, monkeypatch):
    """A shell without the variable a backfill had (here the seed; before, only the taxonomy was
    recorded) re-ran its weeks another way, silently: the run names each setting that differs with its
    weeks and runs nothing unless told to replace it (--replace-taxonomy is the same flag); a week built
    before the record counts as unknown, not as different; a new week continues the latest week's."""
    from ticket_intel.cli import REPLACE_CONFIG, config_change, run
    from ticket_intel.core import taxonomy as tax

    monkeypatch.setenv("TICKET_INTEL_TAXONOMY", "taxonomy.yaml")  # the default, as a lead's shell has it
    monkeypatch.setenv("TICKET_INTEL_SEED", "42")
    current = theme_config()
    edited = tmp_path / "tax_demo.yaml"
    edited.write_text((PROJECT_ROOT / "taxonomy.yaml").read_text() + "\n# Direct debits first\n")
    theirs = tax.version(edited)
    weeks = [dt.date(2026, 11, 2) + dt.timedelta(weeks=k) for k in range(4)]
    _built_with(tmp_path / "w.duckdb", {
        weeks[0]: {TAXONOMY: current[TAXONOMY]},  # recorded by migration 33: its other settings are unknown
        weeks[1]: current,
        weeks[2]: {**current, "TICKET_INTEL_SEED": Value("7"), TAXONOMY: theirs}})
    with pytest.raises(ValueError) as refused:
        config_change(tmp_path / "w.duckdb", weeks[1], weeks[2], replace=False)
    assert str(refused.value) == (
        "settings that shape themes: TICKET_INTEL_SEED 7 in week 2026-11-16, not this shell's 42; "
        f"TICKET_INTEL_TAXONOMY {edited} (digest {theirs.value}) in week 2026-11-16, not this shell's "
        f"{current[TAXONOMY]}; nothing run. Run with TICKET_INTEL_SEED=7 TICKET_INTEL_TAXONOMY={edited} to build "
        f"them as they were, or pass {REPLACE_CONFIG} to build the weeks run with this shell's")
    replaced = config_change(tmp_path / "w.duckdb", weeks[1], weeks[2], replace=True)
    assert replaced.startswith("settings that shape themes: TICKET_INTEL_SEED 7 in week 2026-11-16, not this shell's 42")
    assert replaced.endswith("the weeks run take this shell's")
    assert config_change(tmp_path / "w.duckdb", weeks[0], weeks[1], replace=False) is None  # unknown, then the same
    with pytest.raises(ValueError, match="TICKET_INTEL_SEED 7 in week 2026-11-16"):  # the new week, after the latest
        config_change(tmp_path / "w.duckdb", weeks[3], weeks[3], replace=False)
    monkeypatch.setenv("TICKET_INTEL_SEED", "7")
    monkeypatch.setenv("TICKET_INTEL_TAXONOMY", str(edited))
    assert config_change(tmp_path / "w.duckdb", weeks[3], weeks[3], replace=False) is None
    assert config_change(tmp_path / "new.duckdb", weeks[3], weeks[3], replace=False) is None  # not made yet
    flags = next(p for p in run.params if p.name == "replace_config")
    assert flags.opts == [REPLACE_CONFIG, "--replace-taxonomy"]  # the older name, as scripts use it


def test_weeks_summarized_before_their_taxonomy_was_recorded_take_the_digest_they_read(tmp_path):
    """Weeks summarized before migration 33 are unknown until given the digest Dagster recorded; a
    week that has one keeps it."""
    weeks = [dt.date(2026, 11, 2), dt.date(2026, 11, 9)]
    _built_with(tmp_path / "w.duckdb", {weeks[1]: {TAXONOMY: Value("bbbb", "/srv/b.yaml")}}, summarized=weeks)
    with wh.open_warehouse(tmp_path / "w.duckdb") as con:
        assert wh.week_configs(con) == {weeks[1]: {TAXONOMY: Value("bbbb", "/srv/b.yaml")}}
        assert wh.weeks_without_taxonomy(con) == [weeks[0]]
        wh.record_taxonomies(con, {weeks[0]: Value("aaaa", ""), weeks[1]: Value("cccc", "/srv/c.yaml")})
        assert wh.week_configs(con) == {weeks[0]: {TAXONOMY: Value("aaaa", "")},
                                        weeks[1]: {TAXONOMY: Value("bbbb", "/srv/b.yaml")}}
        assert wh.weeks_without_taxonomy(con) == []


def test_a_run_whose_last_week_ranks_nothing_points_at_the_latest_week_that_does(tmp_path, capsys):
    """React's run ended on "latest ticket_intel_2024-09-23.html" and "next: ticket-intel themes", a week
    of 3 tickets and no theme (new-user review)."""
    from ticket_intel import warehouse as wh
    from ticket_intel.cli import _print_reports

    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        for week in ("2024-07-15", "2024-09-23"):
            con.execute("INSERT INTO marts.weekly_reports (week_start, html_path) VALUES (?, ?)",
                        [week, f"{tmp_path}/w_reports/ticket_intel_{week}.html"])
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers, trend,
                       example_ticket_ids) VALUES ('2024-07-15', 1, 'T1', 'Hooks · state', 9, 7, 'new', ['gh:1'])""")
    _print_reports(path, dt.date(2024, 7, 15), dt.date(2024, 9, 23))
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("(latest ticket_intel_2024-09-23.html, which ranks no theme; the latest that does: "
                           "ticket_intel_2024-07-15.html)")
    assert out[1] == f"next: ticket-intel themes --warehouse {path} --week 2024-07-15"
    _print_reports(path, dt.date(2024, 7, 15), dt.date(2024, 7, 15))
    assert capsys.readouterr().out.splitlines() == [
        f"reports: 1 week in {tmp_path}/w_reports (latest ticket_intel_2024-07-15.html)",
        f"next: ticket-intel themes --warehouse {path}"]


def test_export_option_mistakes_are_usage_errors_said_before_the_warehouse_is_read(tmp_path):
    """`export --theme T` without --customers and `export --format parquet` without -o exited 1, the
    code of a failed run or a broken warehouse (README, "Exit codes": 2 is "fix the command line"), and
    the missing -o was said only once the week's themes were loaded: with a warehouse not there yet it
    said "warehouse not found", exit 66."""
    for args, said in ((["--theme", "T1", "--format", "csv"], "--theme needs --customers"),
                       (["--format", "parquet"], "parquet export needs --output FILE")):
        result = CliRunner().invoke(main, ["export", "--warehouse", str(tmp_path / "none.duckdb"), *args])
        assert result.exit_code == 2 and said in result.stderr, (args, result.output)


def test_a_week_too_small_to_rank_names_the_setting_once(tmp_path):
    """The ranking's warning says what ranks the week ("TICKET_INTEL_MIN_WEEK_TICKETS=16, or ...,
    ranks them"); `themes` on Swift's 2015-11-30 added "(TICKET_INTEL_MIN_WEEK_TICKETS sets that
    minimum)" after it, naming the setting twice in one sentence."""
    path = tmp_path / "w.duckdb"
    warning = ("only 8 tickets this week and 16 in the window's 8 weeks (fewer than 30): too few to rank themes; "
               "TICKET_INTEL_MIN_WEEK_TICKETS=16, or a longer TICKET_INTEL_WINDOW_WEEKS (now 8), ranks them")
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets, warning) VALUES "
                    "('2015-11-30', 8, ?), ('2015-12-07', 31, NULL)", [warning])
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2015-12-07', 1, 'T1', 'Protocol · type', 9, 7, 'new', ['gh:1'])""")
    for fmt in ("table", "json"):
        result = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2015-11-30", "--format", fmt])
        assert result.exit_code == 0, result.output
        said = result.stdout if fmt == "table" else result.stderr
        assert said.count("TICKET_INTEL_MIN_WEEK_TICKETS") == 1, said
        assert f"{warning}; the first week with ranked themes is 2015-12-07" in said, said


def test_a_quiet_week_inside_the_warehouse_s_weeks_says_so(tmp_path):
    """`themes --week 2015-11-16` on Swift's issues said "no data for the week of 2015-11-16 in w.duckdb;
    it holds 2015-11-02..2024-09-23": a week inside the range it named, with no word that the exports
    held no ticket that week, nor which weeks near it have some."""
    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES "
                    "('2015-11-02', 8), ('2015-11-30', 8), ('2024-09-23', 31)")
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2015-11-16"])
    assert result.exit_code == 66, result.output
    assert result.stderr == (f"ticket-intel: error: no data for the week of 2015-11-16 in {path}: no ticket that week "
                             "(a quiet week of the exports); the nearest weeks with data are 2015-11-02 and "
                             "2015-11-30\n"), result.stderr
    outside = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2015-10-05"])
    assert outside.exit_code == 66 and outside.stderr.endswith("; it holds 2015-11-02..2024-09-23\n"), outside.stderr


def test_a_week_before_the_warehouse_s_first_with_inbox_tickets_says_which_run_takes_them_in(tmp_path, monkeypatch):
    """Next.js's issues begin 2019-07-08, but its first run chose partitions from 2020-11-02: `themes --week
    2019-07-08` said only "no data for the week of 2019-07-08 in w.duckdb; it holds 2020-11-02..2024-09-23"."""
    monkeypatch.delenv("TICKET_INTEL_PARTITIONS_START", raising=False)
    path = tmp_path / "w.duckdb"
    home = settings.dagster_home(path)
    home.mkdir(parents=True, exist_ok=True)
    (home / runner.PARTITIONS_RECORD).write_text("2020-11-02\n", encoding="utf-8")
    (home / runner.INBOX_RECORD).write_text("/data/next inbox", encoding="utf-8")
    with wh.open_warehouse(path) as con:
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2020-11-02', 27), ('2024-09-23', 32)")
        wh.replace(con, [wh.inbox_weeks_write({dt.date(2019, 7, 8): 1, dt.date(2020, 11, 2): 27}, None, "r")])
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2019-07-08"])
    assert result.exit_code == 66, result.output
    assert result.stderr == (
        f"ticket-intel: error: no data for the week of 2019-07-08 in {path}: no run took in the inbox's 1 ticket of "
        "that week, which falls before the partitions start 2020-11-02; `TICKET_INTEL_PARTITIONS_START=2019-07-08 "
        f"ticket-intel run --inbox '/data/next inbox' --warehouse {path}` takes it in; it holds 2020-11-02..2024-09-23\n")
    (home / runner.PARTITIONS_RECORD).write_text("2019-07-08\n", encoding="utf-8")  # inside, but not run
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2019-07-08"])
    assert f"`ticket-intel run --inbox '/data/next inbox' --warehouse {path} --weeks 2019-07-08..2024-09-23`" in result.stderr
    empty = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2019-07-15"])
    assert empty.stderr.endswith(f"no data for the week of 2019-07-15 in {path}; it holds 2020-11-02..2024-09-23\n")


def test_a_week_the_run_left_out_as_cut_short_says_why(tmp_path, monkeypatch):
    """Swift's issues end on Monday 2024-09-30 with 2 of them: the run left the week out and said why,
    and `themes --week 2024-09-30` said only "no data for the week of 2024-09-30 in w.duckdb; it
    holds 2015-11-02..2024-09-23". The ingest records the inbox's weeks and the week cut short."""
    import dagster as dg

    from ticket_intel.defs.ingest import raw_tickets
    from ticket_intel.defs.resources import build_resources

    inbox, path = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    times = [dt.datetime(2026, 11, 2, 9) + dt.timedelta(hours=12 * k) for k in range(28)]  # two a day, 2 weeks
    times += [dt.datetime(2026, 11, 16, 9), dt.datetime(2026, 11, 16, 14, 24)]  # then Monday only
    (inbox / "issues.csv").write_text("number,title,created_at,creator_name,author_association,state\n" + "".join(
        f"{n},Crash number {n},{t:%Y-%m-%dT%H:%M:%SZ},user{n},NONE,open\n" for n, t in enumerate(times)))
    for name, value in (("TICKET_INTEL_INBOX", inbox), ("TICKET_INTEL_WAREHOUSE", path), ("DAGSTER_HOME", tmp_path / "home")):
        monkeypatch.setenv(name, str(value))
    (tmp_path / "home").mkdir()
    (settings.dagster_home(path) / runner.INBOX_RECORD).write_text(str(inbox), encoding="utf-8")  # as `run` records it
    with wh.open_warehouse(path) as con:  # as a run of the weeks before left it
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2026-11-02', 14), ('2026-11-09', 14)")
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        dg.materialize([raw_tickets], partition_key="2026-11-09", resources=build_resources(), instance=instance)
    with access.open_snapshot(path) as con:
        assert dict(con.execute("SELECT week_start, tickets FROM ops.inbox_weeks").fetchall()) == {
            dt.date(2026, 11, 2): 14, dt.date(2026, 11, 9): 14, dt.date(2026, 11, 16): 2}
    result = CliRunner().invoke(main, ["themes", "--warehouse", str(path), "--week", "2026-11-16"])
    assert result.exit_code == 66, result.output
    assert result.stderr == (
        f"ticket-intel: error: no data for the week of 2026-11-16 in {path}: the run left it out, as its export "
        "stopped before the week ended (the inbox's tickets end on Mon 2026-11-16 14:24, where a usual week has 7% "
        f"of its tickets); run it with `ticket-intel run --inbox {inbox} --warehouse {path} --weeks 2026-11-16` once the "
        "export covers it\n"), result.stderr


def test_the_command_list_says_what_erase_does():
    """click cuts a command's line in `--help` at its docstring's first full stop: erase's read
    "Erase customers or tickets (GDPR Art." ."""
    listed = CliRunner().invoke(main, ["--help"], terminal_width=120).stdout
    line = next(x for x in listed.splitlines() if x.strip().startswith("erase"))
    assert "(GDPR Art. 17)" in line and not line.rstrip().endswith("Art."), line


def test_review_list_says_its_week_as_themes_does(tmp_path):
    """`review list` without --week printed its table with no week (`themes` starts "week of …"): a
    reviewer about to rename or merge ids could not tell which week's ranking they read."""
    path = _one_ranked_theme(tmp_path)
    for command in (["themes"], ["review", "list"]):
        listed = CliRunner().invoke(main, [*command, "--warehouse", str(path)])
        assert listed.exit_code == 0 and listed.stdout.startswith("week of 2026-11-02\n"), (command, listed.output)


def test_taxonomy_suggest_on_a_window_without_themes_points_at_a_week_with_some(tmp_path):
    """`taxonomy suggest --week 2015-11-30` on Swift's issues (16 tickets in its window, none in a theme)
    said "no themes to draft a taxonomy from; run the pipeline first", exit 1, of a warehouse the
    pipeline had filled: the week has no themes, a later one has."""
    path = tmp_path / "w.duckdb"
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, 4)
        con.execute("INSERT INTO marts.weekly_overview (week_start, tickets) VALUES ('2015-11-30', 8), "
                    "('2015-12-07', 31)")
        con.execute("""INSERT INTO marts.ranked_themes (week_start, rank, theme_id, label, tickets, customers,
                                                      trend, example_ticket_ids)
                       VALUES ('2015-12-07', 1, 'T1', 'Protocol · type', 9, 7, 'new', ['gh:1'])""")
    result = CliRunner().invoke(main, ["taxonomy", "suggest", "--warehouse", str(path), "--week", "2015-11-30"])
    assert (result.exit_code, result.stdout) == (66, ""), result.output
    assert "run the pipeline first" not in result.stderr, result.stderr
    assert result.stderr.startswith("ticket-intel: error: no theme in the window ending 2015-11-30 to draft a taxonomy "
                                    "from"), result.stderr
    assert result.stderr.endswith(f"the first week with ranked themes is 2015-12-07: ticket-intel taxonomy suggest "
                                  f"--warehouse {path} --week 2015-12-07\n"), result.stderr

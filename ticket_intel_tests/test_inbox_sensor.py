"""inbox_sensor: new or changed exports start runs for exactly the weeks they touch; files already
processed (same content, even renamed) start nothing."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from ticket_intel.core.sources import file_sha256
from ticket_intel.defs.inbox_sensor import RANGE_END, RANGE_START, contiguous, inbox_sensor
from ticket_intel.defs.ingest import BUILT_FROM_TICKETS, READ_FILES, CompleteRun
from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse

CONFIG = {"ranking": RankingConfig(), "triage_config": TriageConfig()}  # the shipped taxonomy, triage and routing


def _ticket(tid: int, created: str) -> dict:
    return {"id": tid, "via": {"channel": "web"}, "requester_id": tid, "created_at": created,
            "description": f"ticket {tid}: card declined"}


def _write(path, created: list[str], first_id: int = 1) -> None:
    path.write_text(json.dumps({"tickets": [_ticket(first_id + i, c) for i, c in enumerate(created)]}))


def _evaluate(instance, inbox, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={
            "ingest": IngestConfig(inbox=str(inbox)), **CONFIG,
            "warehouse": Warehouse(database=str(inbox.parent / "w.duckdb"))}) as context:
        result = inbox_sensor(context)
    ranges = sorted((r.tags[RANGE_START], r.tags[RANGE_END]) for r in result.run_requests or [])
    return ranges, result.cursor


def test_new_changed_and_known_files(tmp_path, instance):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Weeks of 2026-09-07, 09-14 (twice) and 10-05: two contiguous ranges.
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z", "2026-09-17T09:00:00Z",
                              "2026-10-06T10:00:00Z"])
    ranges, cursor = _evaluate(instance, inbox, None)
    assert ranges == [("2026-09-07", "2026-09-14"), ("2026-10-05", "2026-10-05")]

    assert _evaluate(instance, inbox, cursor)[0] == []  # already processed

    (inbox / "a.json").rename(inbox / "a_renamed.json")
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == []  # same content under another name

    _write(inbox / "b.json", ["2026-11-02T10:00:00Z"], first_id=50)
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-11-02", "2026-11-02")]

    # b changes: its ticket moves to another week; both the old and the new week are re-run.
    _write(inbox / "b.json", ["2026-11-16T10:00:00Z"], first_id=50)
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-11-02", "2026-11-02"), ("2026-11-16", "2026-11-16")]

    # Unreadable as tickets: no week of its own, but the newest week runs once to record why (never silent).
    (inbox / "notes.csv").write_text("a,b\n1,2\n")
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-11-16", "2026-11-16")]
    assert _evaluate(instance, inbox, cursor)[0] == []


def test_a_re_export_runs_the_weeks_from_its_first_change(tmp_path, instance):
    """Helpdesks re-export the whole history each week: the week it adds is run, not the history; the
    same tickets in another order run nothing; an edited old ticket runs its week and the weeks after."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    weeks = ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z", "2026-09-22T10:00:00Z"]
    tickets = [_ticket(i + 1, c) for i, c in enumerate(weeks)]
    (inbox / "all.json").write_text(json.dumps({"tickets": tickets}))
    cursor = _evaluate(instance, inbox, None)[1]
    (inbox / "all.json").write_text(json.dumps({"tickets": [*tickets, _ticket(9, "2026-09-29T10:00:00Z")]}))
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-09-28", "2026-09-28")]
    newest_first = [_ticket(9, "2026-09-29T10:00:00Z"), *reversed(tickets)]
    (inbox / "all.json").write_text(json.dumps({"tickets": newest_first}))
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == []
    newest_first[2]["description"] = "ticket 2: card declined twice"
    (inbox / "all.json").write_text(json.dumps({"tickets": newest_first}))
    assert _evaluate(instance, inbox, cursor)[0] == [("2026-09-14", "2026-09-28")]


def test_files_dropped_together_share_their_runs(tmp_path, instance):
    """Every run reads the whole inbox: three exports of the same weeks start one run, not three."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n, name in enumerate(("zendesk.json", "intercom.json", "freshdesk.json")):
        _write(inbox / name, ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z"], first_id=100 * n)
    _write(inbox / "late.json", ["2026-10-06T10:00:00Z"], first_id=900)
    with dg.build_sensor_context(instance=instance, resources={
            "ingest": IngestConfig(inbox=str(inbox)), **CONFIG,
            "warehouse": Warehouse(database=str(inbox.parent / "w.duckdb"))}) as context:
        requests = inbox_sensor(context).run_requests
    assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in requests] == [
        ("2026-09-07", "2026-09-14"), ("2026-10-05", "2026-10-05")]
    assert requests[0].tags["ticket_intel/file"] == "freshdesk.json, intercom.json, late.json, zendesk.json"


def test_weeks_whose_last_complete_run_read_the_file_start_nothing(tmp_path, instance):
    """An inbox already loaded by `ticket-intel run` into the same instance starts no run when the
    sensor first sees it; a week whose run stopped before its report is run again."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z", "2026-09-22T10:00:00Z"])
    digest = file_sha256(inbox / "a.json")[:16]
    for week in ("2026-09-07", "2026-09-14", "2026-09-21"):
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "raw_tickets", partition=week, metadata={READ_FILES: dg.MetadataValue.json([digest])}))
    for week in ("2026-09-07", "2026-09-21"):  # 09-14's run stopped after ingest
        _built(instance, week, BUILT_FROM_TICKETS)
    ranges, cursor = _evaluate(instance, inbox, None)
    assert ranges == [("2026-09-14", "2026-09-14")]
    assert _evaluate(instance, inbox, cursor)[0] == []


def _built(instance: dg.DagsterInstance, week: str, assets: tuple[str, ...]) -> str:
    """A run that materializes the week's `assets`; its id."""
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData

    run_id = create_run_for_test(instance, job_name="weekly_job").run_id
    for asset in assets:
        instance.report_dagster_event(DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, "weekly_job",
                                                   event_specific_data=StepMaterializationData(
                                                       dg.AssetMaterialization(asset, partition=week))), run_id)
    return run_id


def test_a_week_completed_by_several_runs_is_complete(instance):
    """A backfill from the UI runs a week's ingest and its clustering-to-report in separate runs,
    and a re-execution from a failure runs the steps after it: the week is complete (it was taken
    for never completed, so the Monday schedule ran it and every week after it again). A later run
    that ingests the week again, or one that stops before the report, leaves it needing a run."""
    from ticket_intel.defs.ingest import last_complete_ingest

    def complete(week: str) -> CompleteRun:
        return last_complete_ingest(instance)(date.fromisoformat(week))

    ingest = _built(instance, "2026-09-07", ("raw_tickets",))
    assert not complete("2026-09-07").run_id
    _built(instance, "2026-09-07", BUILT_FROM_TICKETS[:4])  # the backfill's next runs
    report = _built(instance, "2026-09-07", BUILT_FROM_TICKETS[4:])
    assert complete("2026-09-07") == CompleteRun(ingest, {}, report)
    _built(instance, "2026-09-07", ("raw_tickets",))  # a partial run re-ingests it
    assert not complete("2026-09-07").run_id

    ingest = _built(instance, "2026-09-14", ("raw_tickets", *BUILT_FROM_TICKETS[:4]))  # failed at cluster_summaries
    assert not complete("2026-09-14").run_id
    report = _built(instance, "2026-09-14", BUILT_FROM_TICKETS[4:])  # re-executed from the failure
    assert complete("2026-09-14") == CompleteRun(ingest, {}, report)


def test_a_changed_help_center_or_releases_file_reruns_the_newest_week(tmp_path, instance):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-10-06T10:00:00Z"])
    ranges, cursor = _evaluate(instance, inbox, None)
    assert ranges == [("2026-09-07", "2026-09-07"), ("2026-10-05", "2026-10-05")]
    (inbox / "releases.csv").write_text("released_at,version,notes\n2026-10-01,4.2,\n")
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-10-05", "2026-10-05")]  # the newest week, not a run per export week
    assert _evaluate(instance, inbox, cursor)[0] == []
    (inbox / "help_center").mkdir()
    (inbox / "help_center" / "pin.md").write_text("# Change your PIN\n")
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-10-05", "2026-10-05")]
    (inbox / "help_center" / "pin.md").write_text("# Change your PIN\n\nAt any ATM.\n")
    assert _evaluate(instance, inbox, cursor)[0] == [("2026-10-05", "2026-10-05")]


def test_contiguous_groups_weeks():
    from datetime import date

    weeks = [date(2026, 9, 14), date(2026, 9, 7), date(2026, 9, 28), date(2026, 9, 14)]
    assert contiguous(weeks) == [(date(2026, 9, 7), date(2026, 9, 14)), (date(2026, 9, 28), date(2026, 9, 28))]


def test_a_late_export_of_an_old_week_runs_the_weeks_after_it(tmp_path, instance):
    """Each week's themes follow from the weeks before (its window holds them): an export of an
    earlier week that arrives late runs that week and every later week of the inbox, as a
    re-export's first change does; a new week after the others runs alone."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z", "2026-09-22T10:00:00Z"])
    _, cursor = _evaluate(instance, inbox, None)
    _write(inbox / "late.json", ["2026-09-01T10:00:00Z"], first_id=50)
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-08-31", "2026-09-21")]
    _write(inbox / "next.json", ["2026-09-29T10:00:00Z"], first_id=60)
    assert _evaluate(instance, inbox, cursor)[0] == [("2026-09-28", "2026-09-28")]


def test_an_export_without_a_ticket_runs_the_newest_week_to_record_its_rejections(tmp_path, instance):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-09-15T10:00:00Z"])
    _, cursor = _evaluate(instance, inbox, None)
    (inbox / "broken.json").write_text(json.dumps({"tickets": [{"id": 9, "via": {}, "requester_id": 9,
                                                               "created_at": "yesterday", "description": "x"}]}))
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-09-14", "2026-09-14")]
    assert _evaluate(instance, inbox, cursor)[0] == []


def test_a_changed_accounts_file_reruns_the_newest_week(tmp_path, instance):
    """Plans are joined to every export's tickets at ingest: a new price plan in accounts.csv reaches
    the newest week's ranking and report (it never started a run, being no export)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-09-08T10:00:00Z", "2026-10-06T10:00:00Z"])
    (inbox / "accounts.csv").write_text("account_id,plan\nacme,free\n")
    _, cursor = _evaluate(instance, inbox, None)
    (inbox / "accounts.csv").write_text("account_id,plan\nacme,enterprise\n")
    ranges, cursor = _evaluate(instance, inbox, cursor)
    assert ranges == [("2026-10-05", "2026-10-05")]
    assert _evaluate(instance, inbox, cursor)[0] == []


def test_a_broken_configuration_file_holds_the_runs_until_it_is_fixed(tmp_path, instance):
    """A run would ingest, redact and embed the export, then fail at triage: the sensor requests
    nothing, says why, and keeps its cursor, so the first tick after the fix requests the runs."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-10-06T10:00:00Z"])
    routing = tmp_path / "routing.yaml"
    routing.write_text("default: {team: Support\ncategories: {}\n", encoding="utf-8")
    with dg.build_sensor_context(instance=instance, resources={
            "ingest": IngestConfig(inbox=str(inbox)), "ranking": RankingConfig(),
            "triage_config": TriageConfig(routing=str(routing)),
            "warehouse": Warehouse(database=str(tmp_path / "w.duckdb"))}) as context:
        held = inbox_sensor(context)
    assert isinstance(held, dg.SkipReason), held
    assert held.skip_message.startswith(f"waiting for the configuration to be fixed: {routing}, line 2, column ")
    assert context.cursor is None
    ranges, _ = _evaluate(instance, inbox, context.cursor)  # fixed: the shipped routing
    assert ranges == [("2026-10-05", "2026-10-05")]

"""weekly_schedule plans like a weekly `ticket-intel run`: the weeks whose inputs changed since their
last complete run, nothing when they were run already, and no week whose export has not arrived."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from ticket_intel.cli import execute
from ticket_intel.defs.inbox_sensor import RANGE_END, RANGE_START
from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel.defs.schedule import weekly_schedule
from ticket_intel.warehouse import access
from ticket_intel_tests.test_bad_inputs import fd_csv, fd_row

CONFIG = {"ranking": RankingConfig(), "triage_config": TriageConfig()}  # the shipped taxonomy, triage and routing


def _tick(monday: str, inbox, warehouse) -> dg.RunRequest | dg.SkipReason:
    """The schedule's tick at 06:00 UTC on `monday`, on the warehouse's instance."""
    with dg.DagsterInstance.get() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime.fromisoformat(f"{monday}T06:00").replace(tzinfo=UTC),
            resources={"ingest": IngestConfig(inbox=str(inbox)), "warehouse": Warehouse(database=str(warehouse)),
                       **CONFIG},
    ) as context:
        return weekly_schedule(context)


@pytest.mark.e2e
def test_the_schedule_runs_the_new_week_once_and_waits_for_its_export(sample_copy, tmp_path, monkeypatch):
    """After `ticket-intel run` the Monday tick runs nothing (it used to re-run the last week); a week
    whose export has not arrived is not run empty, and the tick says so; a changed setting is named,
    not run over the whole history; once the export arrives, that week alone runs (not while a run
    of it is going on), and the tick after that run has nothing to do."""
    inbox = tmp_path / "inbox"  # a moved copy of the inbox the run read: the same exports, not new ones
    shutil.copytree(sample_copy.inbox, inbox)
    monkeypatch.setenv("TICKET_INTEL_INBOX", str(inbox))

    skip = _tick("2026-11-23", inbox, sample_copy.warehouse)  # the sample's last week has just ended
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == ("nothing to run: the 12 weeks with tickets, 2026-08-31..2026-11-16, are unchanged "
                                 "since their last complete run (a backfill of those weeks runs them again)")
    skip = _tick("2026-11-30", inbox, sample_copy.warehouse)
    assert isinstance(skip, dg.SkipReason)
    assert f"no export in {inbox} holds a ticket of the week of 2026-11-23 yet" in skip.skip_message
    with monkeypatch.context() as changed:  # a setting that shapes themes: named for a backfill, not run unattended
        changed.setenv("TICKET_INTEL_MIN_THEME_TICKETS", "4")
        skip = _tick("2026-11-23", inbox, sample_copy.warehouse)
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == ("nothing to run: 12 weeks with tickets, 2026-08-31..2026-11-16, hold the tickets their "
                                 "last complete run read but ran with other settings, files or code: a backfill of "
                                 "them applies the current ones")

    (inbox / "late_november.csv").write_text(fd_csv([
        fd_row(text=f"The export to CSV button does nothing, attempt {d}", created=f"2026-11-{23 + d} 10:00:00")
        for d in range(7)]))
    with dg.DagsterInstance.get() as instance:  # the inbox sensor's run of the new week, still running
        running = create_run_for_test(instance, job_name="weekly_job", status=dg.DagsterRunStatus.STARTED,
                                     tags={RANGE_START: "2026-11-23", RANGE_END: "2026-11-23"})
        skip = _tick("2026-11-30", inbox, sample_copy.warehouse)
        assert isinstance(skip, dg.SkipReason)
        assert skip.skip_message == ("nothing to run: 1 week with tickets, 2026-11-23..2026-11-23, in a run not "
                                     f"finished yet ({running.run_id}): not requested again")
        instance.report_run_failed(running)
    request = _tick("2026-11-30", inbox, sample_copy.warehouse)
    assert isinstance(request, dg.RunRequest)
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-11-23", "2026-11-23")
    assert "1 with tickets; the 12 weeks before are unchanged" in request.tags["ticket_intel/plan"]

    execute(sample_copy.warehouse, date(2026, 11, 23), date(2026, 11, 23))
    skip = _tick("2026-11-30", inbox, sample_copy.warehouse)
    assert isinstance(skip, dg.SkipReason) and skip.skip_message.startswith("nothing to run: the 13 weeks")


def test_the_schedule_reads_the_inbox_with_its_resource_s_mappings(tmp_path, instance):
    """The tick reads the inbox as the run's ingest does, with the mappings folder its IngestConfig
    names, not only the one the environment names: an export only that mapping reads is a week to run."""
    from ticket_intel.core.sources.mapping_draft import draft_mapping
    from ticket_intel_tests.test_mapping_draft import _cases

    inbox, mappings = tmp_path / "inbox", tmp_path / "mappings"
    inbox.mkdir()
    mappings.mkdir()
    export = inbox / "cases.csv"
    _cases().to_csv(export, index=False)
    (mappings / "cases.yaml").write_text(draft_mapping(_cases(), export).yaml, encoding="utf-8")

    def tick(mappings_dir: str, taxonomy: str = "taxonomy.yaml") -> dg.RunRequest | dg.SkipReason:
        resources = {"ingest": IngestConfig(inbox=str(inbox), mappings_dir=mappings_dir),
                     "warehouse": Warehouse(database=str(tmp_path / "w.duckdb")), **CONFIG,
                     "ranking": RankingConfig(taxonomy=taxonomy)}
        with dg.build_schedule_context(instance=instance, resources=resources,
                                       scheduled_execution_time=datetime(2026, 11, 2, 6, tzinfo=UTC)) as context:
            return weekly_schedule(context)

    skip = tick("")
    assert isinstance(skip, dg.SkipReason) and "cases.csv" in skip.skip_message, skip
    request = tick(str(mappings))
    assert isinstance(request, dg.RunRequest), request
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-10-05", "2026-10-19")
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text("areas:\n  - name: Cards\n    keywords: [card, atm\n", encoding="utf-8")
    held = tick(str(mappings), str(broken))  # a run would fail at its first step that reads the taxonomy
    assert isinstance(held, dg.SkipReason), held
    assert held.skip_message.startswith("weeks 2026-10-05..2026-10-19: 3 with tickets; waiting for the "
                                        f"configuration to be fixed: {broken}, line ")


def test_weeks_in_flight_are_those_an_unfinished_run_reads(instance):
    """A queued or running run over a range or of one week covers its weeks; a finished run, or one
    that reads no tickets (the report alone, re-rendered), does not."""
    from ticket_intel.defs.inbox_sensor import PARTITION
    from ticket_intel.defs.schedule import weeks_in_flight

    def run(status: dg.DagsterRunStatus, tags: dict, assets: set[str] | None = None) -> str:
        selection = frozenset(map(dg.AssetKey, assets)) if assets else None
        return create_run_for_test(instance, job_name="weekly_job", status=status, tags=tags,
                                   asset_selection=selection).run_id

    ranged = run(dg.DagsterRunStatus.STARTED, {RANGE_START: "2026-11-02", RANGE_END: "2026-11-16"})
    one = run(dg.DagsterRunStatus.NOT_STARTED, {PARTITION: "2026-11-30"})
    run(dg.DagsterRunStatus.SUCCESS, {PARTITION: "2026-12-07"})
    run(dg.DagsterRunStatus.STARTED, {PARTITION: "2026-12-14"}, {"weekly_report"})
    assert weeks_in_flight(instance) == {date(2026, 11, 2): ranged, date(2026, 11, 9): ranged,
                                         date(2026, 11, 16): ranged, date(2026, 11, 30): one}


def test_the_schedule_and_the_inbox_sensor_skip_weeks_the_daemon_would_build_another_way(tmp_path, instance,
                                                                                        monkeypatch):
    """A daemon started without a variable the command line had (here the seed: the weeks were built
    with 7) ran the new week with its own, silently mixing weeks built two ways: each tick skips,
    naming the setting, the weeks and the command that rebuilds; with the setting as the weeks had it,
    the week runs."""
    from ticket_intel import warehouse as wh
    from ticket_intel.defs.inbox_sensor import inbox_sensor
    from ticket_intel.run_inputs import theme_config
    from ticket_intel_tests.test_inbox_sensor import _write

    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    _write(inbox / "a.json", ["2026-10-06T10:00:00Z", "2026-10-13T10:00:00Z"])
    monkeypatch.setenv("TICKET_INTEL_SEED", "7")
    built = wh.config_rows(date(2026, 9, 28), theme_config(), "r1")  # the latest week, built with seed 7
    with wh.open_warehouse(warehouse) as con:
        wh.replace(con, [wh.Replace("marts.week_configs", built, "week_start", [date(2026, 9, 28)])])
    access.publish_snapshot(warehouse)
    resources = {"ingest": IngestConfig(inbox=str(inbox)), "warehouse": Warehouse(database=str(warehouse)), **CONFIG}

    def ticks() -> tuple[dg.RunRequest | dg.SkipReason, dg.SensorResult | dg.SkipReason]:
        with dg.build_schedule_context(instance=instance, resources=resources,
                                       scheduled_execution_time=datetime(2026, 10, 19, 6, tzinfo=UTC)) as context:
            scheduled = weekly_schedule(context)
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            return scheduled, inbox_sensor(context)

    monkeypatch.setenv("TICKET_INTEL_SEED", "42")  # the daemon's shell lacks the variable
    scheduled, sensed = ticks()
    said = ("weeks 2026-10-05..2026-10-12 not run: settings that shape themes: TICKET_INTEL_SEED 7 in week 2026-09-28, "
            "not the daemon's 42. Set TICKET_INTEL_SEED=7 for the daemon to build them as the weeks were, or rebuild "
            f"every week with the daemon's: ticket-intel run --inbox {inbox} --warehouse {warehouse} --weeks all "
            "--replace-config")
    assert isinstance(scheduled, dg.SkipReason) and scheduled.skip_message.endswith(said), scheduled
    assert isinstance(sensed, dg.SkipReason) and sensed.skip_message == said, sensed
    monkeypatch.setenv("TICKET_INTEL_SEED", "7")
    scheduled, sensed = ticks()
    assert isinstance(scheduled, dg.RunRequest), scheduled
    assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in sensed.run_requests] == [("2026-10-05", "2026-10-12")]

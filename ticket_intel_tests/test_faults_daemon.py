"""Faults around the daemon, injected for real: an alert receiver that hangs, under Dagster's real
60-second tick deadline; a burst of inbox runs on a fresh instance; a run worker killed with
SIGKILL while runs wait in the queue behind it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster._core.scheduler.instigation import TickStatus
from sqlalchemy.exc import OperationalError

from ticket_intel import PROJECT_ROOT
from ticket_intel.defs.run_guard import run_worker
from ticket_intel_tests.daemon import daemon_env, instance_at, running_daemon, sensor_ticks
from ticket_intel_tests.processes import cli, kill, wait_for
from ticket_intel_tests.test_alert_sensors import attempts, delivered_keys
from ticket_intel_tests.test_notify import SPIKE, serve_webhook

pytestmark = pytest.mark.e2e

ALERTS = [{**SPIKE, "alert_key": f"T2026101{i}-00|2026-11-09|volume_spike", "theme_id": f"T2026101{i}-00"}
          for i in range(8)]
ACTIVE = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


def test_a_hanging_receiver_gets_each_alert_once_within_the_tick_deadline(tmp_path):
    """8 alerts; the receiver answers 2, then hangs 15 s on each of the next 6 requests. The request
    timeout is 2 s (default 10) so that the six hangs meet the tick budget within one tick, not three;
    the sensors tick every 10 s (default 60) so that the next tick does not keep the test waiting."""
    with serve_webhook() as hook:
        hook.statuses = [200, 200] + ["hang"] * 6
        env = daemon_env(tmp_path, TICKET_INTEL_NOTIFIER="webhook", TICKET_INTEL_NOTIFY_URL=hook.url,
                         TICKET_INTEL_NOTIFY_TIMEOUT_SECONDS="2", TICKET_INTEL_ALERT_INTERVAL_SECONDS="10")
        instance = instance_at(env)
        instance.report_runless_asset_event(dg.AssetMaterialization(
            "theme_alerts", partition="2026-11-09", metadata={"alerts": dg.MetadataValue.json(ALERTS)}))
        hook.on_request = lambda: len(attempts(instance))
        with running_daemon(tmp_path, env):
            wait_for(lambda: len(hook.delivered) == len(ALERTS), 420, "every alert to be acknowledged", every=2)
            time.sleep(5)
        ticks = sensor_ticks(instance, "volume_spike_sensor")
    assert delivered_keys(hook) == {a["alert_key"]: 1 for a in ALERTS}
    assert [r["status"] for r in hook.requests] == [200, 200] + ["hang"] * 6 + [200] * 6
    # every attempt was recorded before the next request started
    assert [r["noted"] for r in hook.requests] == list(range(len(hook.requests)))
    recorded = attempts(instance)
    failed = [e for e in recorded if e.metadata["delivery"].value == "failed"]
    assert len(failed) == 6 and all("timed out" in e.metadata["error"].value for e in failed)
    assert ticks and all(t.status != TickStatus.FAILURE for t in ticks), [t.error for t in ticks if t.error]
    assert max(t.end_timestamp - t.timestamp for t in ticks if t.end_timestamp) < 45


def _split_inbox(inbox: Path, weeks: list[str]) -> None:
    """One Freshdesk export per week, weeks apart: each file starts its own run."""
    frame = pd.read_csv(PROJECT_ROOT / "data" / "sample" / "freshdesk_tickets.csv", dtype=str, keep_default_na=False)
    created = pd.to_datetime(frame["Created time"], errors="coerce")
    monday = (created - pd.to_timedelta(created.dt.weekday, unit="D")).dt.strftime("%Y-%m-%d")
    for week in weeks:
        frame[monday == week].to_csv(inbox / f"freshdesk_{week}.csv", index=False)


def _active(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(statuses=list(ACTIVE))))


def test_a_killed_cli_run_frees_the_queue_and_a_burst_runs_one_at_a_time(tmp_path):
    """The daemon watches a fresh instance while `ticket-intel run` writes the same warehouse.
    Three exports arrive: the inbox sensor queues 3 runs, none starts beside the CLI run. The CLI
    run is frozen (SIGSTOP) as soon as it is seen, so that it cannot finish first on a fast machine,
    then SIGKILLed (it stays STARTED: no code server watches it); the dead run is failed and the
    queued runs start one at a time without anyone touching anything, the first to success.

    (A run worker that the daemon's code server launched is failed by the code server itself when
    it dies; a CLI run has nobody watching it.)"""
    env = daemon_env(tmp_path)
    instance = instance_at(env)
    most_active, writer, frozen = 0, None, False

    def watch(condition):
        """`condition()` and the count of active runs, read from the instance's SQLite storage. The CLI
        run frozen mid-write can hold SQLite's lock (CI: "locking protocol"): it is let on a moment,
        and the poll tries again."""
        nonlocal most_active
        try:
            most_active = max(most_active, len(_active(instance)))
            return condition()
        except OperationalError:
            if frozen and writer.poll() is None:
                writer.send_signal(signal.SIGCONT)
                time.sleep(0.5)
                writer.send_signal(signal.SIGSTOP)
            return None

    with running_daemon(tmp_path, env):
        writer = cli(["run", "--inbox", str(PROJECT_ROOT / "data" / "sample"), "--warehouse", env["TICKET_INTEL_WAREHOUSE"],
                      "--weeks", "2026-11-16"], env, tmp_path)
        try:
            first = wait_for(lambda: watch(lambda: next((r for r in _active(instance) if run_worker(r)), None)), 300,
                             "the CLI run to take the warehouse")
            writer.send_signal(signal.SIGSTOP)
            frozen = True
            _split_inbox(tmp_path / "inbox", ["2026-09-07", "2026-10-05", "2026-11-02"])
            wait_for(lambda: watch(lambda: len(instance.get_runs()) == 4), 240, "the inbox sensor's 3 runs")
            time.sleep(10)  # the queue's passes see the 3 runs while the CLI run holds the pool
            others = wait_for(lambda: watch(lambda: {r.status for r in instance.get_runs() if r.run_id != first.run_id}),
                              60, "the queued runs")
            assert others == {dg.DagsterRunStatus.QUEUED}
            status = wait_for(lambda: watch(lambda: instance.get_run_by_id(first.run_id).status), 60, "the CLI run")
            assert status == dg.DagsterRunStatus.STARTED
            kill(writer)
            frozen = False
            wait_for(lambda: watch(lambda: instance.get_run_by_id(first.run_id).status == dg.DagsterRunStatus.FAILURE),
                     120, "the dead run to be failed")
            second = wait_for(lambda: watch(lambda: next((r for r in _active(instance) if r.run_id != first.run_id), None)),
                              120, "a queued run to start")
            wait_for(lambda: watch(lambda: instance.get_run_by_id(second.run_id).is_finished), 900,
                     "the second run to finish", every=1)
            assert instance.get_run_by_id(second.run_id).status == dg.DagsterRunStatus.SUCCESS
        finally:
            kill(writer)  # also when a step above fails: a frozen run must not outlive the test
    assert most_active == 1
    failure = instance.get_records_for_run(first.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert "is gone, killed or crashed" in failure[0].event_log_entry.dagster_event.message

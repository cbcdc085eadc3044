"""Guards around runs: dead runs are failed, the writer pool exists from the first run, and a new
instance's storage is created by one process at a time.

A run killed by SIGKILL or the OOM killer writes no failure event: Dagster keeps it STARTED, the
run queue counts it as holding the `duckdb` pool, and every later run waits forever. Dagster's run
monitoring cannot tell for these runs: the default run launcher has no worker health check and a
CLI run (`execute_in_process`) has no launcher at all, so monitoring offers only a maximum
runtime, which would have to exceed the longest legitimate backfill. Instead every run records its
worker process (pid, host, start time) in its tags when it takes the warehouse, and
`reap_dead_runs` fails the runs of this host whose worker no longer exists. `dead_run_sensor` does
it every 30 s in the daemon; the command line does it before each run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from dagster_postgres.utils import DagsterPostgresException
from filelock import FileLock

from ticket_intel import runner
from ticket_intel.adapters.processes import ProcessId
from ticket_intel.defs.partitions import POOL

if TYPE_CHECKING:  # the resources import these guards
    from ticket_intel.defs.resources import RankingConfig, TriageConfig

PID_TAG, HOST_TAG, STARTED_TAG = "ticket_intel/pid", "ticket_intel/host", "ticket_intel/pid_started"


def worker_tags(process: ProcessId) -> dict[str, str]:
    return {PID_TAG: str(process.pid), HOST_TAG: process.host, STARTED_TAG: f"{process.started:.3f}"}


def run_worker(run: dg.DagsterRun) -> ProcessId | None:
    tags = run.tags
    if not {PID_TAG, HOST_TAG, STARTED_TAG} <= set(tags):
        return None
    return ProcessId(int(tags[PID_TAG]), tags[HOST_TAG], float(tags[STARTED_TAG]))


def record_worker(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run with this process, unless its tags name it already (a CLI run's, from its start).
    A re-execution from the UI copies its parent's tags: the parent's worker, long gone, had
    `dead_run_sensor` fail the live run within 30 seconds."""
    run = instance.get_run_by_id(run_id)
    worker = run_worker(run) if run is not None else None
    if run is not None and (worker is None or not worker.is_current()):
        instance.add_run_tags(run_id, worker_tags(ProcessId.current()))


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the STARTED runs of this host whose worker process is gone; returns one line per run.

    Runs without worker tags (killed before taking the warehouse) and runs on other hosts are left
    to run monitoring's start timeout and maximum runtime.
    """
    reaped = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        worker = run_worker(run)
        if worker is None or not worker.is_local() or worker.alive():
            continue
        message = (f"run worker (pid {worker.pid} on {worker.host}) is gone, killed or crashed; marked failed so "
                   "that queued runs proceed. Re-run its weeks: every write is atomic, nothing is half-written.")
        instance.report_run_failed(run, message)
        reaped.append(f"run {run.run_id}: {message}")
    return reaped


def held_for_config(ranking: RankingConfig, triage: TriageConfig) -> str | None:
    """`runner.held_for_config` on the files the sensor's and the schedule's resources name."""
    return runner.held_for_config(ranking.taxonomy, triage.triage, triage.routing, triage.escalation)


def ensure_writer_pool(instance: dg.DagsterInstance) -> None:
    """Create the `duckdb` pool with the instance's default limit before any run is queued.

    The run queue creates a pool lazily, after it has decided which runs to launch, so on a fresh
    instance its first pass launches every queued run at once.
    """
    storage = instance.event_log_storage
    if POOL not in storage.get_concurrency_keys():
        storage.initialize_concurrency_limit_to_default(POOL)


def prepare_instance() -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME with its storage created; processes starting together on a new
    home take turns, or SQLite's schema creation fails in all but one of them. Storage in a
    PostgreSQL that cannot be reached is said in one line: Dagster's retries ended in three chained
    tracebacks."""
    home = Path(os.environ["DAGSTER_HOME"])
    try:
        with FileLock(home / ".ticket_intel_init.lock"):
            instance = dg.DagsterInstance.get()
            instance.get_runs(limit=1)
            ensure_writer_pool(instance)
    except DagsterPostgresException as exc:
        cause: BaseException = exc
        while cause.__cause__ is not None:  # Dagster's wrapper, SQLAlchemy's, then the driver's reason
            cause = cause.__cause__
        raise ConnectionError(f"Dagster instance storage ({home / 'dagster.yaml'}): "
                              f"{str(cause).strip().splitlines()[0]}") from exc
    return instance


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Fails runs whose worker process is gone (SIGKILL, OOM), so that the duckdb pool "
           "frees and queued runs proceed.")
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    ensure_writer_pool(context.instance)
    reaped = reap_dead_runs(context.instance)
    for line in reaped:
        context.log.warning(line)
    return dg.SkipReason(f"failed {len(reaped)} dead run(s)" if reaped else "no dead runs")

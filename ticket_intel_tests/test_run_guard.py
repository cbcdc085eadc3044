"""Dead runs are failed by their missing process; the writer pool exists before the first run; a
new instance is created by one process at a time (defs/run_guard.py), with real processes."""

from __future__ import annotations

import os
import shutil
import time

import dagster as dg
import psutil
from dagster._core.test_utils import create_run_for_test

from ticket_intel import PROJECT_ROOT
from ticket_intel.adapters.processes import ProcessId
from ticket_intel.defs.partitions import POOL
from ticket_intel.defs.resources import Warehouse
from ticket_intel.defs.run_guard import (
    ensure_writer_pool,
    reap_dead_runs,
    record_worker,
    run_worker,
    worker_tags,
)
from ticket_intel.warehouse import access
from ticket_intel_tests.processes import child_env, kill, python


def _started(instance: dg.DagsterInstance, process: ProcessId | None) -> str:
    tags = worker_tags(process) if process else {}
    return create_run_for_test(instance, job_name="weekly_job", status=dg.DagsterRunStatus.STARTED, tags=tags).run_id


def test_only_runs_whose_worker_is_gone_are_failed(instance):
    sleeper = python("import time; print('up', flush=True); time.sleep(600)")
    assert sleeper.stdout.readline().strip() == "up"
    me = ProcessId.current()
    gone = ProcessId(sleeper.pid, me.host, psutil.Process(sleeper.pid).create_time())
    runs = {
        "killed": _started(instance, gone),
        "alive": _started(instance, me),
        "reused pid": _started(instance, ProcessId(me.pid, me.host, me.started - 3600)),
        "other host": _started(instance, ProcessId(sleeper.pid, "another-host", gone.started)),
        "untagged": _started(instance, None),
    }
    kill(sleeper)
    reaped = reap_dead_runs(instance)
    status = {name: instance.get_run_by_id(run_id).status for name, run_id in runs.items()}
    assert status == {"killed": dg.DagsterRunStatus.FAILURE, "alive": dg.DagsterRunStatus.STARTED,
                      "reused pid": dg.DagsterRunStatus.FAILURE, "other host": dg.DagsterRunStatus.STARTED,
                      "untagged": dg.DagsterRunStatus.STARTED}
    assert len(reaped) == 2 and f"run {runs['killed']}: run worker (pid {sleeper.pid}" in reaped[0] + reaped[1]
    assert reap_dead_runs(instance) == []
    assert run_worker(instance.get_run_by_id(runs["alive"])) == me


def test_a_re_executed_run_records_its_own_worker_not_its_parent_s(instance):
    """A re-execution from the UI copies its parent's tags, the parent's worker included: within 30
    seconds `dead_run_sensor` failed the live run for its parent's gone process."""
    me = ProcessId.current()
    parent = ProcessId(me.pid + 1, me.host, me.started - 3600)  # a process long gone
    copied, own = _started(instance, parent), _started(instance, me)
    for run_id in (copied, own):
        record_worker(instance, run_id)
    assert run_worker(instance.get_run_by_id(copied)) == ProcessId(me.pid, me.host, round(me.started, 3))
    assert reap_dead_runs(instance) == []  # both runs are this live process's
    assert instance.get_run_by_id(own).tags == instance.get_run_by_id(own).tags | worker_tags(me)


def test_the_writer_pool_exists_before_any_run(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides={
            "concurrency": {"pools": {"granularity": "run", "default_limit": 1}}}) as inst:
        assert POOL not in inst.event_log_storage.get_concurrency_keys()
        ensure_writer_pool(inst)
        ensure_writer_pool(inst)
        assert inst.event_log_storage.get_concurrency_info(POOL).slot_count == 1


def test_processes_starting_together_on_a_new_home_all_get_the_instance(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    start = time.time() + 8  # every child is imported and waiting by then
    children = [python(f"""
        import time
        from ticket_intel.defs.run_guard import prepare_instance
        while time.time() < {start}:
            pass
        prepare_instance()
        print("ok", flush=True)
    """, env=child_env(DAGSTER_HOME=home)) for _ in range(3)]
    outcomes = [child.communicate(timeout=300) for child in children]
    assert [c.returncode for c in children] == [0, 0, 0], [err[-2000:] for _, err in outcomes]
    assert all(out.strip() == "ok" for out, _ in outcomes)
    assert os.path.exists(home / "history" / "runs.db")


def test_a_run_on_a_ducklake_holds_its_writer_lock_and_records_its_worker(instance, postgres_db):
    """A daemon or UI run on a DuckLake took no lock and recorded no worker: a second writer ran
    beside it, and a run whose code server died stayed STARTED, holding the queue."""
    lake, seen = f"ducklake:postgres:{postgres_db}", {}

    @dg.asset
    def probe(warehouse: Warehouse) -> None:
        seen["holder"] = access.current_holder(lake)

    result = dg.materialize([probe], instance=instance, resources={
        "warehouse": Warehouse(database=lake, wait_seconds=0, context_cache_mb=1)})
    assert seen["holder"].what == f"run {result.run_id} (__ephemeral_asset_job__)"
    me = ProcessId.current()
    assert run_worker(instance.get_run_by_id(result.run_id)) == ProcessId(me.pid, me.host, round(me.started, 3))

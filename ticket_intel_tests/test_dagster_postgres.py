"""deploy/dagster-postgres.yaml: a Dagster instance whose runs, events and schedules live in PostgreSQL."""

import re
import shutil
import socket

import dagster as dg
import psycopg2
import pytest
from dagster._core.instance.config import PoolGranularity
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    ScheduleInstigatorData,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from ticket_intel import PROJECT_ROOT
from ticket_intel.cli import CliError, friendly
from ticket_intel.defs.partitions import weekly
from ticket_intel.defs.run_guard import prepare_instance

CONFIG = PROJECT_ROOT / "deploy" / "dagster-postgres.yaml"


@dg.asset(partitions_def=weekly, pool="duckdb")
def probe_week(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"week": context.partition_key})


@pytest.fixture
def pg_instance(postgres_server, tmp_path, monkeypatch):
    db = postgres_server.create_database()
    for key, value in {"DAGSTER_PG_HOST": postgres_server.host, "DAGSTER_PG_PORT": str(postgres_server.port),
                       "DAGSTER_PG_DB": db, "DAGSTER_PG_USERNAME": postgres_server.user,
                       "DAGSTER_PG_PASSWORD": ""}.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(CONFIG, home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance, postgres_server.conninfo(db)


def _count(conninfo: str, sql: str) -> int:
    with psycopg2.connect(conninfo) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def test_instance_stores_runs_events_and_schedules_in_postgres(pg_instance):
    instance, conninfo = pg_instance
    assert {type(s).__name__ for s in (instance.run_storage, instance.event_log_storage, instance.schedule_storage)} \
        == {"PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"}
    week = weekly.get_partition_keys()[-1]
    result = dg.materialize([probe_week], instance=instance, partition_key=week)
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("probe_week"))
    assert event is not None and event.asset_materialization.partition == week
    assert _count(conninfo, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'") == 1
    assert _count(conninfo, "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'") == 1


def test_instance_stores_schedule_state_in_postgres(pg_instance):
    instance, conninfo = pg_instance
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="ticket_intel.definitions"),
                                           location_name="ticket_intel")
    origin = RemoteRepositoryOrigin(location, "__repository__").get_instigator_origin("weekly_schedule")
    data = ScheduleInstigatorData("0 6 * * 1", start_timestamp=0.0)
    instance.add_instigator_state(InstigatorState(origin, InstigatorType.SCHEDULE, InstigatorStatus.RUNNING, data))
    stored = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    assert [(s.name, s.status) for s in stored] == [("weekly_schedule", InstigatorStatus.RUNNING)]
    assert _count(conninfo, "SELECT count(*) FROM instigators") == 1


def test_instance_keeps_the_duckdb_pool_rule(pg_instance):
    instance, _ = pg_instance
    pool = instance.get_concurrency_config().pool_config
    assert pool.pool_granularity == PoolGranularity.RUN and pool.default_pool_limit == 1


def test_an_instance_whose_postgres_cannot_be_reached_is_said_in_one_line(postgres_server, tmp_path, monkeypatch):
    """`ticket-intel run` with Dagster's PostgreSQL down printed three chained tracebacks, 200 lines."""
    with socket.socket() as s:  # a port of the server's host where nothing listens
        s.bind((postgres_server.host, 0))
        port = s.getsockname()[1]
    for key, value in {"DAGSTER_PG_HOST": postgres_server.host, "DAGSTER_PG_PORT": str(port),
                       "DAGSTER_PG_DB": "dagster", "DAGSTER_PG_USERNAME": postgres_server.user,
                       "DAGSTER_PG_PASSWORD": ""}.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(CONFIG, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with pytest.raises(CliError) as failed:
        friendly(prepare_instance)()
    assert re.fullmatch(rf'Dagster instance storage \({home}/dagster.yaml\): connection to server at '
                        rf'"{postgres_server.host}", port {port} failed: Connection refused', failed.value.message)

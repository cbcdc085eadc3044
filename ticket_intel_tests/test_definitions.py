"""The code location loads the way `dagster dev` loads it, with every asset, check and sensor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest
import yaml

from ticket_intel import PROJECT_ROOT

ASSETS = {
    "raw_tickets", "redacted_tickets", "ticket_embeddings", "ticket_clusters", "cluster_summaries",
    "ranked_themes", "theme_alerts", "weekly_report",
}


@pytest.fixture()
def dagster_home(tmp_path, monkeypatch):
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return tmp_path


def test_workspace_loads_and_validates(dagster_home):
    """`dagster definitions validate -w workspace.yaml` is what `dagster dev` does first."""
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ticket_intel" in proc.stdout + proc.stderr


def test_definitions_contents():
    from ticket_intel.definitions import defs

    d = defs()
    keys = {k.to_user_string() for k in d.resolve_all_asset_keys()}
    assert ASSETS | {"taxonomy", "theme_reviews"} <= keys
    assert {s.name for s in d.sensors} >= {"inbox_sensor", "volume_spike_sensor", "new_pattern_sensor", "dead_run_sensor"}
    assert {s.name for s in d.schedules} == {"weekly_schedule"}
    graph = d.resolve_asset_graph()
    for key in ASSETS:
        node = graph.get(dg.AssetKey(key))
        assert node.partitions_def is not None, key
        assert node.pools == {"duckdb"}, key
    checks = {c.name for c in graph.asset_check_keys}
    assert {"no_pii_survives", "raw_tickets_expectations", "redacted_tickets_expectations"} <= checks


@pytest.mark.parametrize("config", ["dagster.yaml", "deploy/dagster-postgres.yaml"])
def test_the_instance_purges_old_sensor_and_schedule_ticks(config, tmp_path):
    """Dagster keeps every schedule tick and every sensor tick but the skipped ones forever; five
    sensors tick every 30-60 s under `ticket-intel dev`, and nothing bounded them."""
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import TickStatus

    retention = yaml.safe_load((PROJECT_ROOT / config).read_text(encoding="utf-8"))["retention"]
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"retention": retention}), encoding="utf-8")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    for kind in (InstigatorType.SENSOR, InstigatorType.SCHEDULE):
        kept = instance.get_tick_retention_settings(kind)
        assert kept[TickStatus.SKIPPED] == 7 and kept[TickStatus.FAILURE] == kept[TickStatus.SUCCESS] == 90, kind


def test_weekly_partitions_start_on_monday_utc():
    import datetime as dt

    from ticket_intel.defs.partitions import weekly

    keys = weekly.get_partition_keys()
    assert {dt.date.fromisoformat(k).weekday() for k in keys} == {0}
    assert weekly.timezone == "UTC"


def test_instance_pool_limit_is_one(dagster_home):
    instance = dg.DagsterInstance.get()
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1


def test_every_process_of_the_code_location_collects_young_objects_in_large_batches():
    """A run's process (and the code server) loading the definitions raises the collector's young
    generation to YOUNG_OBJECTS: the full passes over its million objects cost a tenth of embedding
    a steady week (defs/__init__.py)."""
    from ticket_intel.defs import YOUNG_OBJECTS

    code = "import gc, ticket_intel.definitions as d; d.defs(); print(gc.get_threshold()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.split()[-1]) == YOUNG_OBJECTS > 700

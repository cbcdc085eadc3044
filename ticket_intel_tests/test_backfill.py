"""A backfill launched from the UI (all weekly assets, some past weeks) runs exactly those weeks,
each week's chain from clustering to report in one run, as Dagster's backfill daemon plans it."""

from __future__ import annotations

import logging
import time

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.backfill import execute_backfill_iteration

from ticket_intel.definitions import defs

WEEKS = ["2026-10-05", "2026-10-12", "2026-10-19"]
QUEUED = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}}


def _finish(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """The queued run as if it ran: its assets materialized for the backfill's weeks, and a success."""
    for key in run.asset_selection or ():
        for week in WEEKS:
            instance.report_dagster_event(DagsterEvent(
                DagsterEventType.ASSET_MATERIALIZATION.value, run.job_name,
                event_specific_data=StepMaterializationData(dg.AssetMaterialization(key, partition=week))), run.run_id)
    instance.handle_run_event(run.run_id, DagsterEvent(DagsterEventType.RUN_SUCCESS.value, run.job_name))


def test_a_backfill_of_past_weeks_runs_those_weeks_and_each_week_s_chain_in_one_run(tmp_path):
    """It ran clustering and summaries for the 8 weeks from the first asked for (the clustering
    window's dependency), and rankings, alerts and reports for the 3 asked for: 5 weeks of summaries
    named one taxonomy and their rankings and reports another."""
    graph = defs().resolve_asset_graph()
    weekly = [k for k in graph.materializable_asset_keys if graph.get(k).is_partitioned]
    with dg.instance_for_test(overrides=QUEUED, temp_dir=str(tmp_path)) as instance:
        instance.add_backfill(PartitionBackfill.from_asset_partitions(
            backfill_id="past", asset_graph=graph, backfill_timestamp=time.time(), tags={}, asset_selection=weekly,
            partition_names=WEEKS, dynamic_partitions_store=instance, all_partitions=False, title=None,
            description=None, run_config=None))
        target = ModuleTarget(module_name="ticket_intel.definitions", attribute=None, working_directory=None,
                              location_name="ticket_intel")
        runs = []
        with create_test_daemon_workspace_context(target, instance) as workspace:
            for _ in range(4):  # more daemon passes than the backfill needs
                list(execute_backfill_iteration(workspace, logging.getLogger("backfill")))
                for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])):
                    runs.append(run)
                    _finish(instance, run)
    planned = [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"],
                {k.to_user_string() for k in r.asset_selection}) for r in runs]
    assert planned == [
        ("2026-10-05", "2026-10-19", {"raw_tickets", "redacted_tickets", "ticket_embeddings", "ticket_triage",
                                      "resolved_tickets", "reply_drafts"}),
        ("2026-10-05", "2026-10-19", {"ticket_clusters", "cluster_summaries", "ranked_themes", "theme_alerts",
                                      "weekly_report", "backlog_sync"}),
    ]


def test_a_week_is_complete_when_every_asset_its_report_is_built_from_ran_after_its_ingest():
    """`last_complete_ingest` asks for each of `BUILT_FROM_TICKETS`: the report's weekly inputs."""
    from ticket_intel.defs.ingest import BUILT_FROM_TICKETS

    graph = defs().resolve_asset_graph()
    report = dg.AssetKey("weekly_report")
    upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(report)
                if graph.get(k).is_partitioned and graph.get(k).is_materializable}
    assert set(BUILT_FROM_TICKETS) == upstream - {"raw_tickets"} | {"weekly_report"}

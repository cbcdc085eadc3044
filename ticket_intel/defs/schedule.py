"""weekly_schedule: each Monday, the weekly `ticket-intel run` (runner.plan_changed), run by the daemon.

It runs the weeks whose tickets changed since their last complete run, from the first of them on (each
week's themes follow from the weeks before), as the command line and the inbox sensor decide it: a
week the sensor already ran when its export arrived, or is running, is not run again, and a week
whose export has not arrived yet is not run as an empty or partial week; the tick says why it
skipped. Unlike the command line it follows the data alone: weeks whose settings, files or code
changed (an upgrade: the whole history) are named in the tick for a backfill, not run unattended, and
a week is not run with other settings that shape themes than the weeks before it were built with (a
daemon that lacks a variable the command line had): the tick names them and the command that rebuilds. Off until turned on
(UI: Automation): a fresh clone holds only the bundled sample, whose weeks are not the calendar's, and
a schedule should not write a warehouse nobody asked it to.
"""

from datetime import date
from pathlib import Path

import dagster as dg

from ticket_intel import runner, settings
from ticket_intel.defs.inbox_sensor import PARTITION, RANGE_END, RANGE_START
from ticket_intel.defs.ingest import last_complete_ingest
from ticket_intel.defs.jobs import weekly_job
from ticket_intel.defs.partitions import weekly
from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel.defs.run_guard import ensure_writer_pool, held_for_config


@dg.schedule(job=weekly_job, cron_schedule="0 6 * * 1", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Mondays 06:00 UTC: the weeks whose tickets changed since their last complete run, from "
             "the first of them on (nothing when the inbox sensor already ran them); weeks whose settings or code "
             "changed are named for a backfill.")
def weekly_schedule(context: dg.ScheduleEvaluationContext, ingest: IngestConfig, warehouse: Warehouse,
                    ranking: RankingConfig, triage_config: TriageConfig) -> dg.RunRequest | dg.SkipReason:
    inbox = Path(ingest.inbox)
    keys = set(weekly.get_partition_keys(current_time=context.scheduled_execution_time))
    staged = runner.inbox_weeks(inbox, ingest.mappings_dir, settings.parse_cache_dir(ingest.parse_cache_dir,
                                                                                      warehouse.database))
    if not staged[0]:
        return dg.SkipReason(runner.no_tickets_reason(staged[1]))
    try:
        plan, notes = runner.plan_changed(inbox, warehouse.database, staged, keys,
                                          runner.partitions_origin(Path(context.instance.root_directory)),
                                          last_complete_ingest(context.instance), data_only=True,
                                          in_flight=weeks_in_flight(context.instance), prune=ingest.prune())
    except ValueError as exc:  # no ticket inside the partitions
        return dg.SkipReason(str(exc))
    ended = max(keys, default=None)
    waiting = (f"\nno export in {inbox} holds a ticket of the week of {ended} yet: inbox_sensor runs it when one "
               "arrives") if ended and date.fromisoformat(ended) not in staged[0] else ""
    if plan.idle:  # notes: at most the weeks in flight, and those whose settings, files or code changed
        said = (f"nothing to run: {'; '.join(notes)}" if notes
                else plan.describe("a backfill of those weeks runs them again"))
        return dg.SkipReason(said + waiting)
    if held := held_for_config(ranking, triage_config):
        return dg.SkipReason(f"{plan.describe()}; {held}")
    if held := runner.held_for_week_config(warehouse.database, inbox, plan.start, plan.end):
        return dg.SkipReason(f"{plan.describe()}; {held}")
    ensure_writer_pool(context.instance)  # before the queue's first pass
    why = "; ".join([plan.describe() + waiting, *notes]).replace("\n", "; ")
    return dg.RunRequest(tags={RANGE_START: plan.start.isoformat(), RANGE_END: plan.end.isoformat(),
                               "ticket_intel/plan": why})


UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED]


def weeks_in_flight(instance: dg.DagsterInstance) -> dict[date, str]:
    """Week -> id of a queued or running run that reads its tickets (the inbox sensor's, a backfill's,
    a `ticket-intel run`): a week it covers is not complete yet, and requesting it again would run it twice."""
    out = {}
    for run in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED)):
        if run.asset_selection is not None and dg.AssetKey("raw_tickets") not in run.asset_selection:
            continue
        start, end = (run.tags.get(RANGE_START), run.tags.get(RANGE_END)) if RANGE_START in run.tags else (
            (run.tags.get(PARTITION),) * 2)
        if start and end:
            out.update(dict.fromkeys(map(date.fromisoformat, weekly.get_partition_keys_in_range(
                dg.PartitionKeyRange(start, end))), run.run_id))
    return out

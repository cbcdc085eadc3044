"""inbox_sensor: a new or changed export starts runs for exactly the weeks it touches.

It reads the exports, never the DuckDB file (a run may hold its lock); its cursor is the set
of content hashes already processed, so a renamed or re-dropped identical file does nothing.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from ticket_intel.core.sources import file_hash, list_exports, read_exports
from ticket_intel.core.weeks import week_start
from ticket_intel.defs.jobs import weekly_job
from ticket_intel.defs.partitions import weekly
from ticket_intel.defs.resources import PipelineConfig

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def contiguous(weeks: list[date]) -> list[tuple[date, date]]:
    """Group sorted weeks into runs of consecutive weeks."""
    ranges: list[tuple[date, date]] = []
    for w in sorted(set(weeks)):
        if ranges and w - ranges[-1][1] == timedelta(weeks=1):
            ranges[-1] = (ranges[-1][0], w)
        else:
            ranges.append((w, w))
    return ranges


def weeks_touched(path: Path, partition_keys: set[str]) -> list[date]:
    tickets = read_exports([path]).tickets
    weeks = set(week_start(tickets["created_at"])) if len(tickets) else set()
    return sorted(w for w in weeks if w.isoformat() in partition_keys)


@dg.sensor(job=weekly_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A new or changed export in the inbox starts runs for exactly the weeks it touches.")
def inbox_sensor(context: dg.SensorEvaluationContext, settings: PipelineConfig) -> dg.SensorResult:
    seen: list[str] = json.loads(context.cursor) if context.cursor else []
    known = set(seen)
    keys = set(weekly.get_partition_keys())
    requests = []
    for path in list_exports(Path(settings.inbox_dir)):
        digest = file_hash(path.read_bytes())
        if digest in known:
            continue
        known.add(digest)
        seen.append(digest)
        for start, end in contiguous(weeks_touched(path, keys)):
            context.log.info(f"{path.name}: weeks {start}..{end}")
            requests.append(dg.RunRequest(
                run_key=f"{digest[:16]}:{start}:{end}",
                tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat(), "ticket_intel/file": path.name},
            ))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen),
                           skip_reason=None if requests else "no new or changed exports")

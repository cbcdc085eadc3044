"""inbox_sensor: a new or changed export starts runs for exactly the weeks it touches.

It reads the exports, never the DuckDB file (a run may hold its lock). Its cursor maps each
processed content hash to the weeks that content touched, and each path to its last hash: an
identical file (re-dropped or renamed) does nothing, and a changed file re-runs the weeks of
its new content plus those of the version it replaced (a ticket may have moved or gone). The help
center and the releases file are not exports: when their content changes, the newest week any export
touched is re-run, so its docs statuses, release links and issues follow.
"""

import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from ticket_intel.core.product_inputs import side_inputs_digest
from ticket_intel.core.sources import FileError, Mapping, export_weeks, file_sha256, load_mappings, scan_inbox
from ticket_intel.defs.jobs import weekly_job
from ticket_intel.defs.partitions import weekly
from ticket_intel.defs.resources import IngestConfig
from ticket_intel.defs.run_guard import ensure_writer_pool

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


def weeks_touched(path: Path, partition_keys: set[str], mappings: Sequence[Mapping]) -> list[date]:
    """The weeks one export touches (none when the file as a whole is unusable), read chunk by chunk so
    a big new export costs the sensor a chunk of memory, not the file."""
    try:
        with open(path, "rb") as fh:
            weeks = export_weeks(path.name, fh, mappings)
    except (FileError, OSError):
        return []
    return sorted(w for w in weeks if w.isoformat() in partition_keys)


def side_input_request(state: dict, digest: str, requests: list[dg.RunRequest]) -> dg.RunRequest | None:
    """A changed help center or releases file re-runs the newest week any export touched (the week
    the report and the tracker issues show), unless this tick already runs it."""
    newest = max((w for weeks in state["seen"].values() for w in weeks), default=None)
    if newest is None or state.get("side", digest) == digest or any(r.tags[RANGE_END] == newest for r in requests):
        return None
    return dg.RunRequest(run_key=f"side:{digest[:16]}:{newest}",
                         tags={RANGE_START: newest, RANGE_END: newest, "ticket_intel/file": "help center or releases"})


@dg.sensor(job=weekly_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A new or changed export in the inbox starts runs for exactly the weeks it touches; a "
           "changed help center or releases file re-runs the newest week.")
def inbox_sensor(context: dg.SensorEvaluationContext, ingest: IngestConfig) -> dg.SensorResult:
    state = json.loads(context.cursor) if context.cursor else {"seen": {}, "paths": {}}
    seen: dict[str, list[str]] = state["seen"]
    paths: dict[str, str] = state["paths"]
    keys = set(weekly.get_partition_keys())
    requests = []
    mappings: Sequence[Mapping] | None = None  # loaded once per tick, only when a file is new
    scan = scan_inbox(Path(ingest.inbox))
    for where, reason in scan.skipped.items():
        context.log.warning(f"{where}: {reason}")
    for path in scan.files:
        digest = file_sha256(path)
        if digest is None:  # one unreadable file is reported; the others go on
            context.log.warning(f"{path}: cannot read the file")
            continue
        previous = paths.get(str(path))
        paths[str(path)] = digest
        if digest in seen:
            continue
        mappings = load_mappings(ingest.mappings_dir) if mappings is None else mappings
        weeks = weeks_touched(path, keys, mappings)
        seen[digest] = [w.isoformat() for w in weeks]
        replaced = [date.fromisoformat(w) for w in seen.get(previous, [])] if previous else []
        for start, end in contiguous(weeks + replaced):
            context.log.info(f"{path.name}: weeks {start}..{end}")
            requests.append(dg.RunRequest(
                run_key=f"{digest[:16]}:{start}:{end}",
                tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat(), "ticket_intel/file": path.name},
            ))
    side = side_inputs_digest(ingest.help_center, ingest.releases, Path(ingest.inbox))
    rerun = side_input_request(state, side, requests) if context.cursor else None
    requests += [rerun] if rerun else []
    if requests:
        ensure_writer_pool(context.instance)  # before the queue's first pass, or it launches them all at once
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"seen": seen, "paths": paths, "side": side}),
                           skip_reason=None if requests else "no new or changed exports")

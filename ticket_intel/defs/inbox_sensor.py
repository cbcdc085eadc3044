"""inbox_sensor: a new or changed export starts runs for the weeks it touches and those after them.

It reads the exports and the Dagster instance, never the DuckDB file (a run may hold its lock). Its
cursor maps each processed content hash to the weeks that content touched, and each path to its last
hash: an identical file (re-dropped or renamed) does nothing, and a changed file re-runs the weeks
from the first whose tickets changed, came or went (each week has a content digest in the cursor), so
a cumulative re-export that adds a week runs that week, not its whole history; and since each week's
themes follow from the weeks before, the inbox's later weeks run too (a late export of an old week
runs it and every week after it). A week whose last complete run already read that content is not
run again: an inbox loaded by `ticket-intel run` (same instance) starts nothing when the UI comes up.
Every run reads the whole inbox, so the files of one tick share their runs: one per range of weeks,
not one per file. An export with no ticket runs the newest week once, so its rejections are
recorded. The help center, the releases file and the accounts file are not exports: when their
content changes, the newest week any export touched is re-run, so its docs statuses, release links,
plans and issues follow.
"""
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import dagster as dg

from ticket_intel import runner
from ticket_intel.core.product_inputs import side_inputs_digest
from ticket_intel.core.sources import FileError, Mapping, export_weeks, file_sha256, load_mappings, scan_inbox
from ticket_intel.core.sources.accounts import is_accounts_file
from ticket_intel.core.sources.zones import local_zone
from ticket_intel.core.weeks import span
from ticket_intel.defs.ingest import READ_FILES, CompleteRun, last_complete_ingest
from ticket_intel.defs.jobs import weekly_job
from ticket_intel.defs.partitions import weekly
from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel.defs.run_guard import ensure_writer_pool, held_for_config

NOTHING_TO_LOAD = "no export to load: none new or changed, or its weeks' last runs read it"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PARTITION = "dagster/partition"  # a run of one week


def contiguous(weeks: list[date]) -> list[tuple[date, date]]:
    """Group sorted weeks into runs of consecutive weeks."""
    ranges: list[tuple[date, date]] = []
    for w in sorted(set(weeks)):
        if ranges and w - ranges[-1][1] == timedelta(weeks=1):
            ranges[-1] = (ranges[-1][0], w)
        else:
            ranges.append((w, w))
    return ranges


def weeks_touched(path: Path, partition_keys: set[str], mappings: Sequence[Mapping]) -> dict[str, str]:
    """The weeks one export touches, each with the digest of its content there (none when the file as
    a whole is unusable), read chunk by chunk so a big new export costs the sensor a chunk of memory,
    not the file."""
    try:
        with open(path, "rb") as fh:
            weeks = export_weeks(path.name, fh, mappings)
    except (FileError, OSError):
        return {}
    return {w.isoformat(): d for w, d in sorted(weeks.items()) if w.isoformat() in partition_keys}


def weeks_to_run(now: dict[str, str], before: dict[str, str] | list[str] | None) -> list[date]:
    """The weeks a new or changed export needs run: every week it touches when it is new (or when its
    earlier version's weeks were recorded without their content); after a re-export, every week from
    the first whose tickets changed, came or went, since each week's themes follow from the weeks
    before it. A re-export that only adds a week runs that week."""
    touched = set(now) | set(before or ())
    if isinstance(before, dict):
        changed = [w for w in touched if now.get(w) != before.get(w)]
        touched = {w for w in touched if changed and w >= min(changed)}
    return sorted(date.fromisoformat(w) for w in touched)


def later_weeks(pending: set[date], inbox_weeks: set[str], loading: list[str],
                last_ingest: Callable[[date], CompleteRun]) -> set[date]:
    """The weeks of the inbox after the first a new or changed export needs run, whose last complete
    run did not read every such export: a late export of an old week changes the windows, themes
    and trends of the weeks after it, as a re-export's first change does."""
    if not pending:
        return set()
    first = min(pending)
    return {w for w in map(date.fromisoformat, inbox_weeks) if w > first and w not in pending
            and not all(d[:16] in last_ingest(w).metadata.get(READ_FILES, ()) for d in loading)}


def run_requests(weeks: set[date], digests: list[str], names: list[str]) -> list[dg.RunRequest]:
    """One run per range of weeks the tick's new files need, keyed by those files' contents."""
    key = hashlib.sha256(",".join(sorted(digests)).encode()).hexdigest()[:16]
    shown = ", ".join(sorted(set(names)))
    return [dg.RunRequest(run_key=f"{key}:{start}:{end}",
                          tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat(), "ticket_intel/file": shown})
            for start, end in contiguous(sorted(weeks))]


def side_input_request(state: dict, digest: str, requests: list[dg.RunRequest]) -> dg.RunRequest | None:
    """A changed help center, releases or accounts file re-runs the newest week any export touched
    (the week the report and the tracker issues show), unless this tick already runs it."""
    newest = max((w for weeks in state["seen"].values() for w in weeks), default=None)
    if newest is None or state.get("side", digest) == digest or any(r.tags[RANGE_END] == newest for r in requests):
        return None
    return dg.RunRequest(run_key=f"side:{digest[:16]}:{newest}",
                         tags={RANGE_START: newest, RANGE_END: newest,
                               "ticket_intel/file": "help center, releases or accounts"})


def _held_for_week_config(requests: list[dg.RunRequest], database: str, inbox: str) -> str | None:
    """Why the tick's runs must wait: the first whose weeks would be built with other settings that
    shape themes than they, or the weeks before, were (`runner.held_for_week_config`)."""
    return next((held for r in requests if (held := runner.held_for_week_config(
        database, inbox, date.fromisoformat(r.tags[RANGE_START]), date.fromisoformat(r.tags[RANGE_END])))), None)


@dataclass
class _Tick:
    """What one tick learns of the inbox's files (the cursor's `seen` and `paths`, updated)."""

    seen: dict[str, dict[str, str] | list[str]]  # lists: weeks recorded before their digests
    paths: dict[str, str]
    pending: set[date] = field(default_factory=set)  # weeks to run
    digests: list[str] = field(default_factory=list)  # content new this tick
    names: list[str] = field(default_factory=list)  # the files its runs name
    current: list[str] = field(default_factory=list)  # every export now in the inbox
    loading: list[str] = field(default_factory=list)  # new content with weeks to run
    empty: list[str] = field(default_factory=list)  # files with no ticket in any week
    accounts: list[str] = field(default_factory=list)


def _look_at(context: dg.SensorEvaluationContext, tick: _Tick, path: Path, keys: set[str],
             mappings: Callable[[], Sequence[Mapping]], last_ingest: Callable[[date], CompleteRun]) -> None:
    """One inbox file: its digest, and when its content is new, the weeks whose last run did not read it."""
    digest = file_sha256(path)
    if digest is None:  # one unreadable file is reported; the others go on
        context.log.warning(f"{path}: cannot read the file")
        return
    previous = tick.paths.get(str(path))
    tick.paths[str(path)] = digest
    if is_accounts_file(path):  # joined to every export's tickets at ingest: a side input (below)
        tick.accounts.append(digest)
        return
    tick.current.append(digest)
    if digest in tick.seen:
        return
    weeks = tick.seen[digest] = weeks_touched(path, keys, mappings())
    changed = weeks_to_run(weeks, tick.seen.get(previous) if previous else None)
    needed = [w for w in changed if digest[:16] not in last_ingest(w).metadata.get(READ_FILES, ())]
    for start, end in contiguous(needed):
        context.log.info(f"{path.name}: {span(start, end)}")
    if skipped := len(weeks) - sum(w.isoformat() in weeks for w in needed):
        context.log.info(f"{path.name}: {skipped} of its {len(weeks)} weeks need no run (unchanged since "
                         "the version before, or their last run read this content)")
    tick.pending.update(needed)
    tick.digests.append(digest)
    tick.names += [path.name] if needed or not weeks else []
    tick.loading += [digest] if needed else []
    tick.empty += [path.name] if not weeks else []


@dg.sensor(job=weekly_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A new or changed export in the inbox starts runs for exactly the weeks it touches; a "
           "changed help center, releases or accounts file re-runs the newest week.")
def inbox_sensor(context: dg.SensorEvaluationContext, ingest: IngestConfig, ranking: RankingConfig,
                 triage_config: TriageConfig, warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
    state = json.loads(context.cursor) if context.cursor else {"seen": {}, "paths": {}}
    tick = _Tick(state["seen"], state["paths"])
    keys, last_ingest = set(weekly.get_partition_keys()), last_complete_ingest(context.instance)
    mappings = cache(lambda: load_mappings(ingest.mappings_dir))  # loaded once per tick, only when a file is new
    scan = scan_inbox(Path(ingest.inbox))
    for where, reason in scan.skipped.items():
        context.log.warning(f"{where}: {reason}")
    with local_zone(ingest.timezone):  # times without an offset, as ingest reads them
        for path in scan.files:
            _look_at(context, tick, path, keys, mappings, last_ingest)
    inbox_weeks = {w for d in tick.current for w in tick.seen[d]}
    if later := later_weeks(tick.pending, inbox_weeks, tick.loading, last_ingest):
        context.log.info(f"and the {len(later)} later weeks of the inbox, {min(later)}..{max(later)}: each week's "
                         "themes follow from the weeks before")
        tick.pending |= later
    if tick.empty and inbox_weeks and not tick.pending:  # any run records every export's rejections: the newest
        context.log.info(f"{', '.join(tick.empty)}: no ticket in any week; the newest week runs to record what it holds")
        tick.pending.add(date.fromisoformat(max(inbox_weeks)))
    requests = run_requests(tick.pending, tick.digests, tick.names)
    side = side_inputs_digest(ingest.help_center, ingest.releases, Path(ingest.inbox))
    side = hashlib.sha256(":".join([side, *sorted(tick.accounts)]).encode()).hexdigest() if tick.accounts else side
    rerun = side_input_request(state, side, requests) if context.cursor else None
    requests += [rerun] if rerun else []
    if requests and (held := held_for_config(ranking, triage_config)):
        return dg.SkipReason(held)  # the cursor stays: the first tick after the fix requests these runs
    if held := _held_for_week_config(requests, warehouse.database, ingest.inbox):
        return dg.SkipReason(held)  # the cursor stays: the first tick after the settings agree, or a rebuild
    if requests:
        ensure_writer_pool(context.instance)  # before the queue's first pass, or it launches them all at once
    cursor = json.dumps({"seen": tick.seen, "paths": tick.paths, "side": side})
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=None if requests else NOTHING_TO_LOAD)

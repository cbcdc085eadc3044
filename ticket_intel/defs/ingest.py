"""raw_tickets: every export in the inbox, parsed into the canonical schema, per week.

The inbox is streamed into a staging database (warehouse/staging.py) and written from there, so the
step's memory follows the parse chunk, not the inbox.

Tickets of exports that left the inbox (or cannot be read this run) are kept and reported; see
core/retention.py and `TICKET_INTEL_PRUNE_GONE_EXPORTS`.
"""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
import pandas as pd

from ticket_intel import runner, settings
from ticket_intel.core.product_inputs import (
    HELP_CENTER,
    RELEASES,
    ProductInputs,
    articles_frame,
    read_log,
    releases_frame,
)
from ticket_intel.core.report import md_escape
from ticket_intel.core.retention import count_by_weeks, kept_files, retention_message, retired_week_message
from ticket_intel.core.sources import (
    SET_ASIDE,
    file_summary,
    load_mappings,
    set_aside_of,
    skipped_summary,
    whole_reads,
)
from ticket_intel.core.sources.accounts import ACCOUNTS
from ticket_intel.core.sources.zones import local_zone
from ticket_intel.defs.partitions import week_facts, weekly, weekly_asset, weeks_of
from ticket_intel.defs.quality import raw_check_specs, raw_checks
from ticket_intel.defs.resources import IngestConfig, RankingConfig, TriageConfig, Warehouse
from ticket_intel.run_inputs import RUN_INPUTS, WEEK_TICKETS, inputs_digest, week_tickets
from ticket_intel.warehouse import Replace, inbox_weeks_write, snapshot
from ticket_intel.warehouse.ingest import IngestWrite, recorded_file_hashes, stored_files, write_ingest
from ticket_intel.warehouse.retention import retired_before
from ticket_intel.warehouse.staging import staged_inbox

# Metadata: the content hashes (first 16 hex digits) of the exports the run read, so the inbox sensor
# starts no run for a week whose last run already read a file (defs/inbox_sensor.py); and, per week
# run, the digest of its tickets and of what else shapes its results (run_inputs.py), so
# `ticket-intel run` re-runs only the weeks whose inputs changed.
READ_FILES = "read_file_hashes"


@weekly_asset(
    group_name="ingest",
    check_specs=raw_check_specs(),
    description="Canonical tickets from every inbox export (Zendesk, Intercom, Freshdesk, mapped "
    "CSV/JSONL/Parquet); unusable records go to ops.rejected_tickets with a reason. Help-center articles "
    "and releases (inbox or settings) go to raw.help_center_articles and raw.releases.",
)
def raw_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, ingest: IngestConfig,
                ranking: RankingConfig, triage_config: TriageConfig):
    # A run launched from the UI is checked here, as the command line, the sensor and the schedule check
    # theirs: a broken taxonomy failed only after the inbox was ingested, redacted, embedded and clustered.
    runner.check_config(ranking.taxonomy, triage_config.triage, triage_config.routing, triage_config.escalation)
    weeks = weeks_of(context)
    _refuse_retired(warehouse, weeks)
    run_id = context.run.run_id
    cache = settings.parse_cache_dir(ingest.parse_cache_dir, warehouse.database)
    with local_zone(ingest.timezone), staged_inbox(Path(ingest.inbox), load_mappings(ingest.mappings_dir), cache) as staged:
        stage = staged.stage
        streamed = stage.resolve(staged.files, weekly.start.replace(tzinfo=None))
        per_week = stage.file_week_counts()
        files = count_by_weeks(streamed, per_week, weeks).assign(run_id=run_id, in_inbox=True)
        inputs = ingest.product_inputs()
        inbox_write = inbox_weeks_write(stage.inbox_week_counts(), runner.cut_week(stage), run_id)
        write = IngestWrite(
            weeks=weeks, read_files=whole_reads(files),
            listed_files=files["source_file"].tolist(), stage=stage, run_id=run_id, files=files,
            prune=ingest.prune(), inputs=[*side_input_writes(inputs, run_id), inbox_write])
        with warehouse.connect() as con:
            recorded = recorded_file_hashes(con)
            ingested = write_ingest(con, write)
            kept = kept_files(stored_files(con), files.loc[files["error"].isna(), "source_file"])  # gone or unreadable
        checked, rejected, aside = stage.check_frame(weeks), stage.rejected_count(), stage.set_aside()
        shaping, digests = inputs_digest(Path(ingest.inbox)), week_tickets(stage.week_digests(), weeks)
    # Sound records set aside (SET_ASIDE) are shown apart from the malformed ones.
    shown = files.merge(aside, on="source_file", how="left").fillna({kind: 0 for kind in SET_ASIDE})
    malformed = rejected - int(aside[list(SET_ASIDE)].to_numpy().sum())
    _log_files(context, pd.concat([shown, read_log(inputs).assign(repeated=0, out_of_range=0, **dict.fromkeys(SET_ASIDE, 0))],
                                  ignore_index=True), recorded, Path(ingest.inbox))
    prune = runner.run_command(Path(warehouse.database), "--prune")
    _say_kept_and_erased(context, retention_message(kept, write.prune, prune), ingested.erased)
    _remove_reports(context, ingested.emptied)
    in_weeks = per_week[per_week["week_start"].isin(weeks)].groupby("week_start")["tickets"].sum()
    tickets = streamed["profile"] != ACCOUNTS  # an accounts file's rows are no ticket records
    yield from raw_checks(checked, int(streamed.loc[tickets, "accepted"].sum()), malformed, ranking.plans().allowed,
                          ingest.rejection_ceiling(),
                          [(Path(f).name, e if isinstance(e, str) else None) for f, e in zip(files["source_file"],
                                                                                           files["error"], strict=True)])
    for week in weeks:
        week_facts(context, week, {"tickets": dg.MetadataValue.int(int(in_weeks.get(week, 0)))})
    yield dg.MaterializeResult(metadata={
        "weeks": dg.MetadataValue.json({str(k): int(v) for k, v in in_weeks.items()}),
        "rejected_rows": dg.MetadataValue.int(malformed), **_row_counts(files, aside),
        "kept_from_gone_exports": dg.MetadataValue.int(sum(k.tickets for k in kept)),
        "files": dg.MetadataValue.md(_files_table(shown)),
        READ_FILES: dg.MetadataValue.json(sorted({h[:16] for h in files.loc[files["error"].isna(), "file_hash"] if h})),
        WEEK_TICKETS: dg.MetadataValue.json(digests),
        RUN_INPUTS: dg.MetadataValue.text(shaping),
    })


def _refuse_retired(warehouse: Warehouse, weeks: list[date]) -> None:
    """The plan leaves weeks retention retired out; a backfill, the sensor or --weeks may not."""
    with warehouse.connect() as con:
        retired = retired_before(con)
    if retired is not None and weeks[0] < retired:
        raise ValueError(retired_week_message(weeks[0], retired))


def _say_kept_and_erased(context: dg.AssetExecutionContext, kept: str | None, erased: int) -> None:
    """Warn of tickets kept from exports gone from the inbox, and of erased tickets the exports still hold."""
    if kept is not None:
        context.log.warning(kept)
    if erased:
        context.log.warning(f"skipped {erased} tickets of the inbox's exports that `ticket-intel erase` "
                            "erased (ops.erased_tickets): remove them from the exports")


def _row_counts(files: pd.DataFrame, aside: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    """The rows read but not ingested, by why: set aside (`SET_ASIDE`), skipped, repeated, outside the weeks."""
    return {**{f"{kind}_rows": dg.MetadataValue.int(int(aside[kind].sum())) for kind in SET_ASIDE},
            **{f"{kind}_rows": dg.MetadataValue.int(int(files[kind].sum()))
               for kind in ("skipped", "repeated", "out_of_range")}}


class CompleteRun(NamedTuple):
    """A week's last complete run: the run of its latest raw_tickets materialization and its metadata
    (none: the week needs a run), and the run of the week's latest report, which the warehouse's
    report must carry (a later run's than the ingest when a backfill split the week, or a review
    wrote the report again)."""

    run_id: str | None
    metadata: dict[str, Any]
    report_run_id: str | None = None  # None: `run_id`

    @property
    def report_run(self) -> str | None:
        return self.report_run_id or self.run_id


# What a week's report is built from after its tickets: each must be materialized after the week's
# raw_tickets for the week to be complete (test_definitions checks this against the graph).
BUILT_FROM_TICKETS = ("redacted_tickets", "ticket_embeddings", "ticket_triage", "ticket_clusters",
                      "cluster_summaries", "ranked_themes", "theme_alerts", "weekly_report")


def last_complete_ingest(instance: dg.DagsterInstance) -> Callable[[date], CompleteRun]:
    """Week -> its last complete run (memoised): its latest raw_tickets materialization, when every
    asset its report is built from was materialized after it, by that run or later ones; none when
    one was not (a run stopped, or a partial run re-ingested the week: it still needs a run). A
    backfill from the UI, and a re-execution from a failure, complete a week in several runs; asking
    for one run that wrote both the tickets and the report took every such week for never completed."""
    known: dict[date, CompleteRun] = {}

    def latest(asset: str, week: date) -> dg.EventLogRecord | None:
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[week.isoformat()]), limit=1)
        return found.records[0] if found.records else None

    def complete_run(week: date) -> CompleteRun:
        if week not in known:
            raw = latest("raw_tickets", week)
            built = {asset: latest(asset, week) for asset in BUILT_FROM_TICKETS} if raw and raw.asset_materialization else {}
            complete = bool(built) and all(b is not None and b.storage_id > raw.storage_id for b in built.values())
            known[week] = CompleteRun(raw.run_id, {k: v.value for k, v in raw.asset_materialization.metadata.items()},
                                      built["weekly_report"].run_id) if complete else CompleteRun(None, {})
        return known[week]

    return complete_run


def _remove_reports(context: dg.AssetExecutionContext, emptied: dict[date, str | None]) -> None:
    """The reports (HTML and Markdown) of weeks left without a ticket, whose rows the write removed:
    a report kept its example texts after its tickets were pruned."""
    for week, html in emptied.items():
        for path in (Path(html), Path(html).with_suffix(".md")) if html else ():
            path.unlink(missing_ok=True)
        context.log.warning(f"week {week} holds no ticket any more: its themes, summaries, ranking, alerts"
                            f"{' and report (' + html + ')' if html else ''} were removed")


def _log_files(context: dg.AssetExecutionContext, files: pd.DataFrame, recorded: set[str], inbox: Path) -> None:
    """Each file's counts: a warning when it could not be read, news when the warehouse had not
    recorded it as it is (a new or changed export); the files read as before, their rejections
    included, in the debug log (`ticket-intel run` lists every file once the run is done). Every
    run logged each of an inbox's files at INFO, the UI's default level hid the one new export."""
    for entry in files.itertuples():
        level = (context.log.warning if entry.error else
                 context.log.info if entry.file_hash not in recorded else context.log.debug)
        level(file_summary(entry, inbox))


def side_input_writes(inputs: ProductInputs, run_id: str) -> list[Replace]:
    """The help center and releases as read now; one that failed to read keeps its previous rows."""
    writes = [Replace("ops.ingested_files", read_log(inputs).assign(run_id=run_id), "profile", [HELP_CENTER, RELEASES])]
    if HELP_CENTER not in inputs.errors:
        writes.append(snapshot("raw.help_center_articles", articles_frame(inputs)))
    if RELEASES not in inputs.errors:
        writes.append(snapshot("raw.releases", releases_frame(inputs)))
    return writes


def _files_table(files: pd.DataFrame) -> str:
    """Each file's counts as Markdown; names and errors escaped: a file named `a|b.csv` shifted its row.
    Its skipped rows say which they were, as the command line does (`skipped_summary`): the UI showed
    Swift's 4,683 as a number, where `ticket-intel run` said they were the swift-ci bot's."""
    lines = [f"| file | profile | accepted | rejected | {' | '.join(n for _, n in SET_ASIDE.values())} | skipped "
             "| repeated | out of range | error |", "|---|---|---:|---:|" + "---:|" * len(SET_ASIDE) + "---:|---:|---:|---|"]
    for f in files.itertuples():
        aside = list(set_aside_of(f).values())
        lines.append(f"| {md_escape(Path(f.source_file).name)} | {md_escape(f.profile or '–')} | {f.accepted} | "
                     f"{f.rejected - sum(aside)} | {' | '.join(map(str, aside))} | {_skipped(f)} | {f.repeated} | "
                     f"{f.out_of_range} | {md_escape(f.error or '')} |")
    return "\n".join(lines)


def _skipped(f: Any) -> str:
    said = skipped_summary(f.skipped, getattr(f, "skipped_kinds", None))
    return md_escape("; ".join(said)) if said else str(f.skipped)

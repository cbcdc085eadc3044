"""raw_tickets: every export in the inbox, parsed into the canonical schema, per week."""

from pathlib import Path

import dagster as dg
import pandas as pd

from ticket_intel.core.product_inputs import (
    HELP_CENTER,
    RELEASES,
    ProductInputs,
    articles_frame,
    read_log,
    releases_frame,
)
from ticket_intel.core.sources import list_exports, load_mappings, read_exports
from ticket_intel.core.weeks import week_start
from ticket_intel.defs.partitions import weekly, weekly_asset, weeks_of
from ticket_intel.defs.quality import raw_check_specs, raw_checks
from ticket_intel.defs.resources import IngestConfig, RankingConfig, Warehouse
from ticket_intel.warehouse import Replace, replace, snapshot


@weekly_asset(
    group_name="ingest",
    check_specs=raw_check_specs(),
    description="Canonical tickets from every inbox export (Zendesk, Intercom, Freshdesk, mapped "
    "CSV/JSONL/Parquet); unusable records go to ops.rejected_tickets with a reason. Help-center articles "
    "and releases (inbox or settings) go to raw.help_center_articles and raw.releases.",
)
def raw_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, ingest: IngestConfig,
                ranking: RankingConfig):
    weeks = weeks_of(context)
    paths = list_exports(Path(ingest.inbox))
    result = read_exports(paths, load_mappings(ingest.mappings_dir), earliest=weekly.start.replace(tzinfo=None))
    tickets = result.tickets.assign(week_start=week_start(result.tickets["created_at"]))
    in_range = tickets[tickets["week_start"].isin(weeks)].assign(run_id=context.run.run_id)
    rejected = result.rejected.assign(run_id=context.run.run_id)
    replies = result.replies.merge(in_range[["ticket_id", "week_start"]], on="ticket_id").assign(run_id=context.run.run_id)
    files = result.files.assign(run_id=context.run.run_id)
    sources = [str(p) for p in paths]
    inputs = ingest.product_inputs()
    with warehouse.connect() as con:
        replace(con, [
            Replace("raw.tickets", in_range, "week_start", weeks),
            Replace("raw.ticket_replies", replies, "week_start", weeks),
            Replace("ops.rejected_tickets", rejected, "source_file", sources),
            Replace("ops.ingested_files", files, "source_file", sources),
            *side_input_writes(inputs, context.run.run_id),
        ])
    files = pd.concat([files, read_log(inputs)], ignore_index=True)
    for entry in files.itertuples():
        level = context.log.warning if entry.error else context.log.info
        level(f"{Path(entry.source_file).name}: {entry.profile or 'unreadable'}, {entry.accepted} accepted, "
              f"{entry.rejected} rejected, {entry.skipped} skipped{' — ' + entry.error if entry.error else ''}")
    per_week = in_range.groupby("week_start").size()
    yield from raw_checks(in_range, result.files, rejected, ranking.plans().allowed, ingest.rejection_ceiling())
    yield dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(in_range)),
        "weeks": dg.MetadataValue.json({str(k): int(v) for k, v in per_week.items()}),
        "rejected_rows": dg.MetadataValue.int(len(rejected)),
        "skipped_rows": dg.MetadataValue.int(int(files["skipped"].sum())),
        "files": dg.MetadataValue.md(_files_table(files)),
    })


def side_input_writes(inputs: ProductInputs, run_id: str) -> list[Replace]:
    """The help center and releases as read now; one that failed to read keeps its previous rows."""
    writes = [Replace("ops.ingested_files", read_log(inputs).assign(run_id=run_id), "profile", [HELP_CENTER, RELEASES])]
    if HELP_CENTER not in inputs.errors:
        writes.append(snapshot("raw.help_center_articles", articles_frame(inputs)))
    if RELEASES not in inputs.errors:
        writes.append(snapshot("raw.releases", releases_frame(inputs)))
    return writes


def _files_table(files: pd.DataFrame) -> str:
    lines = ["| file | profile | accepted | rejected | skipped | error |", "|---|---|---:|---:|---:|---|"]
    for f in files.itertuples():
        lines.append(f"| {Path(f.source_file).name} | {f.profile or '–'} | {f.accepted} | {f.rejected} | "
                     f"{f.skipped} | {f.error or ''} |")
    return "\n".join(lines)

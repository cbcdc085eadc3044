"""backlog_sync: one Jira or Linear issue per top theme, rewritten each week (core/backlog.py).

It runs after the report, for the newest week of its run, and never writes an older week over
the issues (a backfill of past weeks leaves them as the newest week left them). The plan is
made from what the ranking, the alerts and the review stored; `dry_run` shows it and changes
nothing. Links, outbox and posted comments are written in one transaction after each tracker
call that succeeded, so a killed run repeats nothing and what the tracker did not take stays
pending for the next run; if the tracker stopped answering or refused a request, the asset then
fails with the reason, so the run shows it.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import backlog, notify
from ticket_intel.core.report import example_maker
from ticket_intel.core.review import ReviewState, review_state, with_assignments
from ticket_intel.core.theme_context import alert_notes
from ticket_intel.defs.partitions import weekly_asset, weeks_of
from ticket_intel.defs.resources import ReportConfig, TrackerConfig, Warehouse, check_settings


class BacklogSyncConfig(dg.Config):
    dry_run: bool = False  # plan and show what would change; call no tracker, write nothing


@dataclass
class SyncOutcome:
    week: date
    plan: str  # format_plan's text ("" when skipped)
    heads: str = ""  # its lines without the issues' text: what the event log keeps
    skipped: str | None = None  # why nothing was planned
    result: backlog.SyncResult | None = None  # None for a dry run
    actions: list[dict[str, Any]] = field(default_factory=list)  # the plan's, as `backlog.action_summary`


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and pd.isna(v) else v for k, v in row.items()}


def issue_contents(con: duckdb.DuckDBPyConnection, week: date, alerts: pd.DataFrame, ticket_url: str,
                   reports_url: str, review: ReviewState) -> list[backlog.IssueContent]:
    """The issue each ranked theme of the week would get (facts, findings, customers, examples), with
    the owner and area `review` assigned."""
    ranked = wh.week_rows(con, "marts.ranked_themes", week, order="rank")
    titles = wh.week_rows(con, "marts.cluster_summaries", week).set_index("theme_id")["backlog_title"].to_dict()
    customers = wh.theme_customers(con, week)
    ids = [t for ids in ranked["example_ticket_ids"] for t in ids] if len(ranked) else []
    example = example_maker(wh.ticket_texts(con, ids), ticket_url)
    extra = alert_notes(alerts.to_dict("records"))
    contents = []
    for row in (_clean(r) for r in with_assignments(ranked, review).to_dict("records")):
        theme_id = row["theme_id"]
        notes = [*(row["notes"] if row.get("notes") is not None else []), *extra.get(theme_id, [])]
        link = notify.report_link(reports_url, week.isoformat(), theme_id) if reports_url else ""
        mine = customers[customers["theme_id"] == theme_id]
        contents.append(backlog.issue_content(
            week, {**row, "backlog_title": titles.get(theme_id)}, [_clean(c) for c in mine.to_dict("records")],
            [example(t) for t in row["example_ticket_ids"]], notes, link))
    return contents


def sync_week(con: duckdb.DuckDBPyConnection, week: date, tracker: TrackerConfig, report: ReportConfig,
              dry_run: bool) -> SyncOutcome:
    """Plan the week's tracker changes; unless `dry_run`, send them and store links and outbox."""
    name = tracker.name()
    if name is None:
        return SyncOutcome(week, "", skipped="no tracker configured (TICKET_INTEL_TRACKER is empty)")
    links_frame, outbox_frame, commented = wh.backlog_state(con, name)
    review = review_state(wh.reviews(con))
    links = backlog.detach_shared(backlog.links_from_records(links_frame.to_dict("records")), review)
    newest = backlog.last_synced(links)
    if newest is not None and week < newest:
        return SyncOutcome(week, "", skipped=f"week {week} is older than {newest}, the week the issues show")
    alerts = wh.week_rows(con, "ops.alerts", week, order="kind, alert_key")
    contents = issue_contents(con, week, alerts, report.ticket_url_template, tracker.reports_url, review)
    fresh = [{**_clean(a), "example_ticket_ids": list(a["example_ticket_ids"])}
             for a in alerts.to_dict("records") if a["alert_key"] not in commented]
    actions = backlog.plan(week, contents, review, links, tracker.policy(), fresh,
                           {a["alert_key"]: notify.describe(a) for a in fresh},
                           backlog.actions_from_records(outbox_frame.to_dict("records")))
    text, summaries = backlog.format_plan(actions, links), [backlog.action_summary(a, links) for a in actions]
    heads = backlog.format_plan(actions, links, bodies=False)
    if dry_run:
        return SyncOutcome(week, text, heads=heads, actions=summaries)
    now = datetime.now(UTC).replace(tzinfo=None)

    def record(result: backlog.SyncResult) -> None:
        wh.replace(con, wh.backlog_writes(name, pd.DataFrame(backlog.link_records(result.links)),
                                          pd.DataFrame(backlog.outbox_records(result.pending, name, now)),
                                          pd.DataFrame(backlog.comment_records(result, name, now))))

    result = backlog.apply(actions, tracker.client(), links, now, record)
    record(result)
    return SyncOutcome(week, text, heads=heads, result=result, actions=summaries)


def sync_metadata(outcome: SyncOutcome, tracker: str | None, dry_run: bool, bodies: bool = False) -> dict[str, Any]:
    """What the asset records of a sync, and `backlog sync` prints (the plan, or with --format json
    the rest); the issues' text (`bodies`) only for a dry run's print, never into the event log."""
    meta: dict[str, Any] = {"week": dg.MetadataValue.text(outcome.week.isoformat()),
                            "tracker": dg.MetadataValue.text(tracker or "none"),
                            "dry_run": dg.MetadataValue.bool(dry_run),
                            "plan": dg.MetadataValue.md(f"```\n{(outcome.plan if bodies else outcome.heads) or outcome.skipped}\n```"),
                            "actions": dg.MetadataValue.json(outcome.actions)}
    if outcome.result is not None:
        applied = outcome.result.applied
        meta |= {kind: dg.MetadataValue.int(sum(a.kind == kind for a in applied)) for kind in backlog.KIND_ORDER}
        meta["pending"] = dg.MetadataValue.int(len(outcome.result.pending))
    return meta


def dry_run_metadata(con: duckdb.DuckDBPyConnection, week: date) -> dict[str, Any]:
    """A dry run's metadata without a run: the plan reads the warehouse and calls no tracker, so
    `backlog sync --dry-run` answers from the published snapshot, beside a run that writes (it took
    the writer lock, waited for the run, and recorded a materialization that synced nothing)."""
    check_settings()
    tracker, report = TrackerConfig().process_config_and_initialize(), ReportConfig().process_config_and_initialize()
    return sync_metadata(sync_week(con, week, tracker, report, dry_run=True), tracker.name(), True, bodies=True)


@weekly_asset(
    group_name="insight",
    deps=["weekly_report", "ranked_themes", "theme_alerts", "theme_reviews"],
    description="One Jira or Linear issue per top theme (TICKET_INTEL_TRACKER), created once and rewritten "
    "weekly with counts, trend, findings, customers and examples; a comment per spike or regression; "
    "what the tracker did not take is retried next run (ops.backlog_links, ops.backlog_outbox).",
)
def backlog_sync(context: dg.AssetExecutionContext, config: BacklogSyncConfig, warehouse: Warehouse,
                 tracker: TrackerConfig, report: ReportConfig):
    week = weeks_of(context)[-1]  # the issues show the newest week of the run
    with warehouse.connect() as con:
        outcome = sync_week(con, week, tracker, report, config.dry_run)
    context.log.info(outcome.skipped or outcome.heads.partition("\n")[0])  # the counts: `plan` holds the lines, which
    # `backlog sync` prints (logged too, the sync printed each line twice)
    metadata = sync_metadata(outcome, tracker.name(), config.dry_run)
    result = outcome.result
    if result is not None and (result.error or result.refused):
        n = len(result.refused)
        why = result.error or f"{n} request{'s' * (n > 1)} refused by {tracker.name()}, first: {result.refused[0].error}"
        raise dg.Failure(description=f"backlog sync stopped: {why} "
                         f"({len(result.pending)} changes kept for the next run)", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)

"""weekly_report: Markdown and a self-contained HTML file per week.

The Dagster event log keeps what the asset page shows for ever, out of reach of retention and erasure:
a report's text there (its quotes, example ticket ids, customers at risk) outlived both (privacy
review). Its metadata holds counts, the week, the files' paths and a hash of the Markdown; the UI
links to the file, which retention and `ticket-intel erase` control.
"""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import runner, settings
from ticket_intel import warehouse as wh
from ticket_intel.core import counts as tc
from ticket_intel.core import report
from ticket_intel.core.anomalies import started
from ticket_intel.core.context import WeekContext
from ticket_intel.core.hierarchy import parents
from ticket_intel.core.rates import week_cut_short
from ticket_intel.core.theme_context import alert_notes, report_sections
from ticket_intel.core.triage_report import week_triage
from ticket_intel.core.week_config import mixed_note
from ticket_intel.defs.partitions import WINDOW_WEEKS, week_facts, weekly_asset, weeks_with_tickets
from ticket_intel.defs.resources import RankingConfig, ReportConfig, Warehouse
from ticket_intel.warehouse.target import cli_flag, is_lake_target

NO_TICKETS = {"tickets": 0, "customers": 0, "tickets_prev_week": 0, "themes": 0, "outlier_tickets": 0,
              "warning": "no tickets this week"}


def closing_sections(con: duckdb.DuckDBPyConnection, week: date, ranked: pd.DataFrame, alerts: pd.DataFrame,
                     overview: pd.DataFrame) -> dict[str, Any]:
    """The report's closing-the-loop sections, from what ranked_themes and theme_alerts stored."""
    groups = parents(wh.week_rows(con, "marts.theme_parents", week), ranked) if len(ranked) else []
    configured = bool(len(overview)) and not pd.isna(overview["help_center_articles"].iloc[0])
    return report_sections(
        ranked.to_dict("records"), alerts.to_dict("records"),
        wh.week_rows(con, "marts.theme_segments", week, order="p_value, theme_id, field, value"),
        wh.theme_customers(con, week), wh.week_rows(con, "marts.customers_at_risk", week), groups, configured)


def with_alert_notes(cards: list[dict[str, Any]], alerts: pd.DataFrame) -> list[dict[str, Any]]:
    """Each card's stored findings, plus what its alerts add ('Spiked 1 day after 4.2.1')."""
    extra = alert_notes(alerts.to_dict("records"))
    return [{**c, "notes": [*(c.get("notes") if c.get("notes") is not None else []), *extra.get(c["theme_id"], [])]}
            for c in cards]


def report_week(con: duckdb.DuckDBPyConnection, ctx: WeekContext, ticket_url: str, out_dir: Path, run_id: str,
                warehouse: str = "", taxonomy_file: str = "taxonomy.yaml") -> tuple[str, Path]:
    """One week's report from what the week's steps stored: written as Markdown and HTML beside the
    warehouse and into marts.weekly_reports; (the Markdown, the HTML's path)."""
    week = ctx.week
    last_week = wh.week_rows(con, "marts.ranked_themes", week - timedelta(weeks=1))
    ranked = report.with_reported_last_week(wh.week_rows(con, "marts.ranked_themes", week, order="rank"), last_week)
    overview = wh.week_rows(con, "marts.weekly_overview", week)
    summaries = wh.week_rows(con, "marts.cluster_summaries", week)
    alerts = wh.week_rows(con, "ops.alerts", week, order="kind, tickets DESC")
    not_a_theme = wh.week_rows(con, "marts.not_a_theme", week, order="tickets DESC, theme_id")
    example_ids = [t for ids in ranked["example_ticket_ids"] for t in ids] if len(ranked) else []
    last = week - timedelta(weeks=1)
    context = report.build_context(
        week, overview.iloc[0].to_dict() if len(overview) else NO_TICKETS, ranked, summaries, not_a_theme,
        alerts, wh.ticket_texts(con, example_ids), ticket_url, taxonomy_file,
        last_week_gap=ctx.holds_data_before(last) and not ctx.holds_data([last]),
    )
    context = report.with_triage(context, week_triage(ctx.this_week, ranked["theme_id"].tolist()), ranked, summaries)
    context["themes"] = with_alert_notes(context["themes"], alerts)
    context["new_patterns"] = report.with_earlier_tickets(context["new_patterns"], {  # the weeks before `since`
        a["theme_id"]: tc.series(ctx.counts, a["theme_id"], [w for w in ctx.weeks if w < started(ctx, a["theme_id"])])
        for a in context["new_patterns"]})
    context["no_longer_ranked"] = report.no_longer_ranked(
        last_week, ranked,
        wh.week_rows(con, "ops.theme_events", week), not_a_theme,
        dict(zip(summaries["theme_id"], summaries["label"], strict=True)),
        {t: ctx.review.canonical(t) for t in ctx.review.merged_into})
    context["closing"] = closing_sections(con, week, ranked, alerts, overview)
    context["partial"] = week_cut_short(ctx.window, week, wh.latest_ticket_at(con))
    context["customer_note"] = report.customer_note(ctx.this_week["customer_id"])
    context["config_mixed"] = mixed_note(wh.week_configs(con, ctx.weeks[0], week),  # the window, the chart's weeks
                                         runner.run_command(Path(warehouse), "--weeks all --replace-config"))
    # The commands it suggests name this warehouse (a file; a DuckLake's URL may hold a password).
    context["warehouse_flag"] = f" {cli_flag(warehouse)}" if warehouse and not is_lake_target(warehouse) else ""
    totals = ctx.window.groupby("ticket_week").size()
    chart = report.since_first_tickets(report.top_theme_counts(
        tc.matrix(ctx.counts, ctx.weeks), ranked["theme_id"].head(report.CHART_THEMES).tolist()), totals)
    writing = report.revision(wh.report_record(con, week), datetime.now(UTC).replace(tzinfo=None),
                              int(context["overview"]["tickets"]))
    context["revised"] = writing.pop("revised")
    markdown = report.render_markdown(context)
    labels = dict(zip(ranked["theme_id"], ranked["label"], strict=True))
    context["chart_table"] = report.chart_table(chart, totals, labels)
    html = report.render_html(context, report.charts(chart, totals, labels, ctx.births))
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / report.report_file(week, "html")
    html_path.write_text(html, encoding="utf-8")
    (out_dir / report.report_file(week, "md")).write_text(markdown, encoding="utf-8")
    row = pd.DataFrame([{"week_start": week, "markdown": markdown, "html_path": str(html_path.resolve()),
                         "chart_counts": json.dumps(report.chart_series(chart)), "run_id": run_id, **writing}])
    wh.replace(con, [wh.Replace("marts.weekly_reports", row, "week_start", [week])])
    return markdown, html_path


@weekly_asset(
    group_name="insight",
    kinds={"duckdb", "html"},
    deps=["ranked_themes", "theme_alerts", "cluster_summaries", "ticket_triage"],
    description="The weekly report: a Markdown and a self-contained HTML file with charts (linked here, "
    "their text kept out of the event log); "
    "the week's triage (category mix, escalations, team load against SLA); documentation coverage, releases and "
    "fixes, segments, customers to tell and at risk, theme groups.",
)
def weekly_report(context: dg.AssetExecutionContext, warehouse: Warehouse, report: ReportConfig, ranking: RankingConfig):
    paths = {}
    out_dir = settings.reports_dir(report.reports_dir, warehouse.database)
    with warehouse.connect() as con:
        for week in weeks_with_tickets(context, con):
            ctx = warehouse.week_context(con, week, context.run.run_id, WINDOW_WEEKS)
            markdown, path = report_week(con, ctx, report.ticket_url_template, out_dir, context.run.run_id,
                                         warehouse.database, Path(ranking.taxonomy).name)
            paths[week.isoformat()] = str(path.resolve())
            week_facts(context, week, {
                "report_week": dg.MetadataValue.text(week.isoformat()),
                "tickets": dg.MetadataValue.int(len(ctx.this_week)),
                "ranked_themes": dg.MetadataValue.int(len(wh.week_rows(con, "marts.ranked_themes", week))),
                "html": dg.MetadataValue.path(path.resolve()),
                "markdown": dg.MetadataValue.path(path.with_suffix(".md").resolve()),
                "markdown_sha256": dg.MetadataValue.text(hashlib.sha256(markdown.encode()).hexdigest())})
    return dg.MaterializeResult(metadata={"reports": dg.MetadataValue.json(paths)})

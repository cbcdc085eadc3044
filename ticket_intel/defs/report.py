"""weekly_report: Markdown (previewed in the UI) and a self-contained HTML file per week."""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import report
from ticket_intel.core.rank import weekly_counts
from ticket_intel.core.review import canonical_themes, review_state
from ticket_intel.core.weeks import window
from ticket_intel.defs.partitions import WINDOW_WEEKS, weekly, weeks_of
from ticket_intel.defs.resources import PipelineConfig, Warehouse


def report_week(con: duckdb.DuckDBPyConnection, week: date, settings: PipelineConfig, run_id: str) -> tuple[str, Path]:
    ranked = wh.read(con, "SELECT * FROM marts.ranked_themes WHERE week_start = ? ORDER BY rank", [week])
    summaries = wh.read(con, "SELECT * FROM marts.cluster_summaries WHERE week_start = ?", [week])
    small = wh.read(con, "SELECT * FROM marts.not_a_theme WHERE week_start = ? ORDER BY tickets DESC, theme_id", [week])
    alerts = wh.read(con, "SELECT * FROM ops.alerts WHERE week_start = ? ORDER BY kind, tickets DESC", [week])
    overview = wh.read(con, "SELECT * FROM marts.weekly_overview WHERE week_start = ?", [week])
    example_ids = sorted({t for ids in ranked["example_ticket_ids"] for t in ids}) if len(ranked) else []
    tickets = wh.read(
        con,
        """SELECT r.ticket_id, r.text, t.source_id FROM staging.redacted_tickets r
           JOIN raw.tickets t USING (ticket_id) WHERE r.ticket_id IN (SELECT unnest(?))""",
        [example_ids],
    )
    frame = canonical_themes(wh.window_tickets(con, week), review_state(wh.reviews(con)))
    weeks = window(week, WINDOW_WEEKS)
    themed = frame[frame["theme_id"].notna()]
    counts = weekly_counts(themed, weeks) if len(themed) else pd.DataFrame(columns=weeks)
    counts = report.top_theme_counts(counts, ranked["theme_id"].head(report.CHART_THEMES).tolist())
    totals = frame.groupby("ticket_week").size()
    ov = overview.iloc[0].to_dict() if len(overview) else {
        "tickets": 0, "customers": 0, "tickets_prev_week": 0, "themes": 0, "outlier_tickets": 0,
        "warning": "no tickets this week"}
    context = report.build_context(week, ov, ranked, summaries, small, alerts, tickets, settings.ticket_url_template)
    markdown = report.render_markdown(context)
    labels = dict(zip(ranked["theme_id"], ranked["label"], strict=True))
    html = report.render_html(context, report.charts(counts, totals, labels))
    out_dir = Path(settings.reports_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"ticket_intel_{week.isoformat()}.html"
    html_path.write_text(html, encoding="utf-8")
    (out_dir / f"ticket_intel_{week.isoformat()}.md").write_text(markdown, encoding="utf-8")
    row = pd.DataFrame([{"week_start": week, "markdown": markdown, "html_path": str(html_path.resolve()), "run_id": run_id}])
    wh.replace(con, [wh.Replace("marts.weekly_reports", row, "week_start", [week])])
    return markdown, html_path


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="insight",
    kinds={"duckdb", "html"},
    deps=["ranked_themes", "theme_alerts", "cluster_summaries"],
    description="The weekly report: Markdown shown here, and a self-contained HTML file with charts.",
)
def weekly_report(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    paths = {}
    with warehouse.connect() as con:
        for week in weeks_of(context):
            markdown, path = report_week(con, week, settings, context.run.run_id)
            paths[week.isoformat()] = str(path.resolve())
    # A run over many weeks previews the latest one; the Monday schedule runs one week at a time.
    return dg.MaterializeResult(metadata={
        "report_week": dg.MetadataValue.text(max(paths)),
        "report": dg.MetadataValue.md(markdown),
        "html": dg.MetadataValue.path(paths[max(paths)]),
        "reports": dg.MetadataValue.json(paths),
    })

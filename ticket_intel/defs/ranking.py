"""ranked_themes: tickets, customers, trend, paid share, impact and rank per theme per week;
the week's theme counts are persisted here, once, for every later reader."""

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core.context import WeekContext
from ticket_intel.core.rank import Ranking, RankSettings, Trend, rank_week
from ticket_intel.core.report import md_escape
from ticket_intel.defs.partitions import WINDOW_WEEKS, weekly_asset, weeks_with_tickets
from ticket_intel.defs.resources import RankingConfig, Warehouse


def rank_and_store(con: duckdb.DuckDBPyConnection, ctx: WeekContext, settings: RankSettings, run_id: str) -> Ranking:
    ranking = rank_week(ctx, wh.week_rows(con, "marts.cluster_summaries", ctx.week), settings)
    tag = {"week_start": ctx.week, "run_id": run_id}
    overview = pd.DataFrame([{**ranking.overview, **tag}])
    wh.replace(con, [
        wh.Replace("marts.ranked_themes", ranking.ranked.assign(**tag), "week_start", [ctx.week]),
        wh.Replace("marts.not_a_theme", ranking.not_a_theme.assign(**tag), "week_start", [ctx.week]),
        wh.Replace("marts.weekly_overview", overview, "week_start", [ctx.week]),
        wh.Replace("staging.theme_week_counts", ctx.counts.assign(**tag), "week_start", [ctx.week]),
    ])
    return ranking


def _top_table(ranked: pd.DataFrame) -> str:
    lines = ["| # | theme | tickets | customers | trend | impact |", "|---:|---|---:|---:|---|---:|"]
    for r in ranked.head(10).itertuples():
        trend = Trend(r.trend, r.trend_baseline).describe(r.tickets)
        lines.append(f"| {r.rank} | {md_escape(r.label)} | {r.tickets} | {r.customers} | {trend} | {r.impact:.0f} |")
    return "\n".join(lines)


@weekly_asset(
    group_name="insight",
    deps=["cluster_summaries", "ticket_clusters", "taxonomy", "theme_reviews"],
    description="marts.ranked_themes: one row per theme with tickets, distinct customers, trend, "
    "severity, signal type, paid share, impact, rank and example tickets; plus marts.not_a_theme and "
    "staging.theme_week_counts, the weekly counts every number comes from.",
)
def ranked_themes(context: dg.AssetExecutionContext, warehouse: Warehouse, ranking: RankingConfig):
    settings = ranking.settings()
    result = None
    with warehouse.connect() as con:
        for week in weeks_with_tickets(context, con):
            ctx = warehouse.week_context(con, week, context.run.run_id, WINDOW_WEEKS)
            result = rank_and_store(con, ctx, settings, context.run.run_id)
            if result.overview["warning"]:
                context.log.warning(f"{week}: {result.overview['warning']}")
    if result is None:
        return dg.MaterializeResult(metadata={"themes": dg.MetadataValue.int(0)})
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.int(len(result.ranked)),
        "not_a_theme": dg.MetadataValue.int(len(result.not_a_theme)),
        "warning": dg.MetadataValue.text(result.overview["warning"] or ""),
        "top_themes": dg.MetadataValue.md(_top_table(result.ranked) if len(result.ranked) else "No ranked themes."),
    })

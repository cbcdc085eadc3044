"""ranked_themes: tickets, customers, trend, paid share, impact and rank per theme per week."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core.rank import Ranking, rank_week
from ticket_intel.core.report import md_escape
from ticket_intel.core.review import review_state
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.resources import PipelineConfig, Warehouse


def new_theme_ids(con: duckdb.DuckDBPyConnection, week: date) -> set[str]:
    rows = con.execute("SELECT theme_id FROM staging.themes WHERE week_start = ? AND event = 'new'", [week]).fetchall()
    return {r[0] for r in rows}


def rank_and_store(con: duckdb.DuckDBPyConnection, week: date, settings: PipelineConfig, run_id: str) -> Ranking:
    frame = wh.window_tickets(con, week)
    summaries = wh.read(con, "SELECT * FROM marts.cluster_summaries WHERE week_start = ?", [week])
    ranking = rank_week(week, frame, summaries, review_state(wh.reviews(con)), new_theme_ids(con, week),
                        settings.rank_settings())
    ranked = ranking.ranked.assign(week_start=week, run_id=run_id)
    small = ranking.not_a_theme.assign(week_start=week, run_id=run_id)
    overview = pd.DataFrame([{**ranking.overview, "week_start": week, "run_id": run_id}])
    wh.replace(con, [
        wh.Replace("marts.ranked_themes", ranked, "week_start", [week]),
        wh.Replace("marts.not_a_theme", small, "week_start", [week]),
        wh.Replace("marts.weekly_overview", overview, "week_start", [week]),
    ])
    return ranking


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="insight",
    kinds={"duckdb", "python"},
    deps=["cluster_summaries", "ticket_clusters", "taxonomy", "theme_reviews"],
    description="marts.ranked_themes: one row per theme with tickets, distinct customers, trend, "
    "severity, signal type, paid share, impact, rank and example tickets; plus marts.not_a_theme.",
)
def ranked_themes(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    with warehouse.connect() as con:
        for week in weeks_of(context):
            ranking = rank_and_store(con, week, settings, context.run.run_id)
            if ranking.overview["warning"]:
                context.log.warning(f"{week}: {ranking.overview['warning']}")
    top = ranking.ranked.head(10)
    table = "\n".join(
        ["| # | theme | tickets | customers | trend | impact |", "|---:|---|---:|---:|---|---:|"]
        + [f"| {r.rank} | {md_escape(r.label)} | {r.tickets} | {r.customers} | {r.trend} | {r.impact:.0f} |"
           for r in top.itertuples()]
    )
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.int(len(ranking.ranked)),
        "not_a_theme": dg.MetadataValue.int(len(ranking.not_a_theme)),
        "warning": dg.MetadataValue.text(ranking.overview["warning"] or ""),
        "top_themes": dg.MetadataValue.md(table),
    })

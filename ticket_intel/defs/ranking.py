"""ranked_themes: tickets, customers, trend, paid share, impact and rank per theme per week, with
what the loop knows of each (core/findings.py); the week's theme counts are persisted here, once,
for every later reader."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import runner
from ticket_intel import warehouse as wh
from ticket_intel.core import families
from ticket_intel.core.context import WeekContext
from ticket_intel.core.embed import embed_cached
from ticket_intel.core.findings import FindingSettings, Inputs, week_findings
from ticket_intel.core.help_center import embedding_texts
from ticket_intel.core.product_inputs import articles_from, releases_from
from ticket_intel.core.rank import Ranking, RankSettings, rank_week
from ticket_intel.core.report import md_escape, trend_text
from ticket_intel.core.triage_rules import Escalation
from ticket_intel.core.vocabulary import plural
from ticket_intel.defs.partitions import START, WINDOW_WEEKS, week_facts, weekly_asset, weeks_with_tickets
from ticket_intel.defs.resources import (
    AlertConfig,
    EmbeddingConfig,
    FindingsConfig,
    RankingConfig,
    TriageConfig,
    Warehouse,
)


def product_inputs(con: duckdb.DuckDBPyConnection, embedding: EmbeddingConfig) -> Inputs:
    """The stored help center and releases; article vectors through the embedding cache (a text
    embedded before, by any run, is not embedded again)."""
    stored = wh.help_center_articles(con)
    releases = releases_from(wh.stored_releases(con))
    if stored is None:
        return Inputs(None, releases=releases)
    articles = articles_from(stored)
    vectors, _ = embed_cached(stored["text_hash"].tolist(), embedding_texts(articles),
                              wh.EmbeddingStore(con, embedding.cache_key()), embedding.encoder())
    matrix = np.stack([vectors[h] for h in stored["text_hash"]]) if len(stored) else np.zeros((0, 0), np.float32)
    return Inputs(articles, matrix, releases)


def rank_and_store(con: duckdb.DuckDBPyConnection, ctx: WeekContext, settings: RankSettings, run_id: str,
                   inputs: Inputs, findings: FindingSettings, escalation: Escalation) -> Ranking:
    summaries = wh.week_rows(con, "marts.cluster_summaries", ctx.week)
    ranking = rank_week(ctx, summaries, settings, escalation)
    found = week_findings(ctx, ranking.ranked, summaries, inputs, findings, ranking.weeks)
    tag = {"week_start": ctx.week, "run_id": run_id}
    overview = pd.DataFrame([{**ranking.overview, "help_center_articles": found.articles, **tag}])
    wh.replace(con, [
        wh.Replace("marts.ranked_themes", found.ranked.assign(**tag), "week_start", [ctx.week]),
        wh.Replace("marts.not_a_theme", ranking.not_a_theme.assign(**tag), "week_start", [ctx.week]),
        wh.Replace("marts.weekly_overview", overview, "week_start", [ctx.week]),
        wh.Replace("staging.theme_week_counts", ctx.counts.assign(**tag), "week_start", [ctx.week]),
        *[wh.Replace(table, frame.assign(**tag), "week_start", [ctx.week]) for table, frame in (
            ("marts.theme_segments", found.segments), ("marts.theme_parents", found.parents),
            ("marts.theme_customers", found.customers), ("marts.customers_at_risk", found.at_risk))],
    ])
    return Ranking(found.ranked, ranking.not_a_theme, ranking.overview, ranking.weeks)


def _top_table(ranked: pd.DataFrame) -> str:
    lines = ["| # | theme | tickets | customers | trend | impact |", "|---:|---|---:|---:|---|---:|"]
    for r in ranked.head(10).to_dict("records"):  # the trend as the report writes it: "new", not "vs nan/wk"
        lines.append(f"| {r['rank']} | {md_escape(r['label'])} | {r['tickets']} | {r['customers']} | "
                     f"{trend_text(r)} | {r['impact']:.0f} |")
    return "\n".join(lines)


def ranked_over(spans: dict[date, int]) -> str:
    """The weeks too small to rank alone, each ranked over `spans[week]` weeks, in one line a run: Next.js's
    run printed "2020-11-16: too few tickets to rank the week alone; ranked over the 2 weeks from
    2020-11-09" and 23 more lines like it."""
    weeks, counts = sorted(spans), sorted(set(spans.values()))
    over = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    listed = ", ".join(str(w) for w in weeks)
    return (f"{plural(len(weeks), 'week')} with too few tickets to rank alone, each ranked over the {over} weeks "
            f"ending with it: {listed}")


@weekly_asset(
    group_name="insight",
    deps=["cluster_summaries", "ticket_clusters", "ticket_triage", "raw_tickets", "taxonomy", "theme_reviews"],
    description="marts.ranked_themes: one row per theme with tickets, distinct customers, trend, "
    "severity, signal type, paid share, impact, rank, example tickets, docs status and article, release, "
    "fix status and parent; plus marts.not_a_theme, marts.theme_segments, marts.theme_parents, "
    "marts.theme_customers, marts.customers_at_risk and staging.theme_week_counts, the weekly counts every "
    "number comes from.",
)
def ranked_themes(context: dg.AssetExecutionContext, warehouse: Warehouse, ranking: RankingConfig,
                  embedding: EmbeddingConfig, findings: FindingsConfig, alerts: AlertConfig,
                  triage_config: TriageConfig):
    settings, judged, alerting = ranking.settings(), findings.settings(alerts), alerts.settings(ranking)
    # What a too-small week is told: the weeks a run can reach, and the run as it can be typed.
    settings = replace(settings, partitions_start=date.fromisoformat(START), run=runner.run_command(Path(warehouse.database)))
    escalation = triage_config.escalation_rules()
    with warehouse.connect() as con:
        inputs, too_few, spans = product_inputs(con, embedding), {}, {}
        for week in weeks_with_tickets(context, con):
            ctx, _ = families.with_born_apart(warehouse.week_context(con, week, context.run.run_id, WINDOW_WEEKS),
                                              alerting)  # a piece born apart is new, as its alert says
            result = rank_and_store(con, ctx, settings, context.run.run_id, inputs, judged, escalation)
            if result.overview["warning"]:
                too_few[week] = result.overview["warning"]
            elif len(result.weeks) > 1:
                spans[week] = len(result.weeks)
            week_facts(context, week, {
                "themes": dg.MetadataValue.int(len(result.ranked)),
                "not_a_theme": dg.MetadataValue.int(len(result.not_a_theme)),
                "warning": dg.MetadataValue.text(result.overview["warning"] or ""),
                "ranked_weeks": dg.MetadataValue.int(len(result.weeks)),  # more than 1: a small queue's last weeks
                "top_themes": dg.MetadataValue.md(_top_table(result.ranked) if len(result.ranked) else "No ranked themes."),
            })
    if spans:
        context.log.info(ranked_over(spans))
    if too_few:  # once a run: a small queue's year of weeks logged the same warning 52 times
        weeks = sorted(too_few)
        some = f"{weeks[0]}: " if len(weeks) == 1 else f"{len(weeks)} weeks, {weeks[0]}..{weeks[-1]}, ranked no themes; {weeks[-1]}: "
        context.log.warning(some + too_few[weeks[-1]])
    return dg.MaterializeResult(metadata={"themes": dg.MetadataValue.int(0)})  # a week without tickets ranks none

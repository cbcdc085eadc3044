"""cluster_summaries: label, shared issue, phrasings, severity, signal type, area and backlog item."""

from datetime import date
from functools import partial

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.context import WeekContext
from ticket_intel.core.llm import Breaker, LLMCache, in_parallel, llm_summary
from ticket_intel.core.rank import ranking_weeks
from ticket_intel.core.report import md_escape
from ticket_intel.core.summarize import (
    ThemeDocs,
    ThemeSummary,
    backlog_title,
    counted_membership,
    described_share,
    extractive_summary,
    reviewed_topic,
    theme_docs,
    week_labels,
)
from ticket_intel.core.theme_triage import judged_by_tickets, with_ticket_triage
from ticket_intel.core.triage_rules import Escalation
from ticket_intel.core.week_config import TAXONOMY, Config, Value, of_digest
from ticket_intel.defs.partitions import WINDOW_WEEKS, week_facts, weekly_asset, weeks_with_tickets
from ticket_intel.defs.resources import LLMConfig, RankingConfig, TriageConfig, Warehouse, llm_outcome
from ticket_intel.defs.sources import versions_read
from ticket_intel.run_inputs import theme_config


def _row(ctx: WeekContext, theme_id: str, summary: ThemeSummary, doc: ThemeDocs, label: str, tags: list,
         taxonomy: tax.Taxonomy, weeks: list[date], run_id: str) -> dict:
    """The theme's `marts.cluster_summaries` row."""
    ticket_tags = [list(t) if t is not None else [] for t in tags]
    return {
        "week_start": ctx.week, "theme_id": theme_id, "label": label,
        "shared_issue": summary.shared_issue, "phrasings": summary.phrasings,
        "severity": summary.severity, "severity_rationale": summary.severity_rationale,
        "signal_type": summary.signal_type,
        "product_area": ctx.review.area_of(theme_id) or tax.assign_area(  # a reviewer's area wins
            taxonomy.for_product(doc.product), doc.of_words(doc.texts), doc.of_words(ticket_tags) if ticket_tags else [],
            doc.terms),
        "backlog_title": backlog_title(summary.signal_type, topic) if (topic := reviewed_topic(ctx.review, theme_id, label))
        else summary.backlog.title, "backlog_user_story": summary.backlog.user_story,
        "backlog_severity": summary.backlog.severity, "backlog_deflection": summary.backlog.deflection_per_week,
        "terms": summary.terms, "described_share": described_share(doc, summary.terms, weeks),
        "example_ticket_ids": summary.example_ticket_ids,
        "summarizer": summary.summarizer, "review_status": ctx.review.status(theme_id, label),
        "merged_theme_ids": ctx.review.merged_from(theme_id), "run_id": run_id,
    }


def _llm_summaries(docs: dict[str, ThemeDocs], extractive: dict[str, ThemeSummary], llm: LLMConfig,
                   cache: LLMCache, call: Breaker) -> dict[str, ThemeSummary]:
    """The LLM's summary of each theme (its extractive one on any failure), up to `llm.concurrency`
    themes asked at once; signal type and severity stay judged by all its tickets."""
    made = in_parallel([partial(llm_summary, doc, llm.model, extractive[theme_id], cache, call)
                        for theme_id, doc in docs.items()], llm.concurrency)
    return {theme_id: judged_by_tickets(summary, extractive[theme_id]) if docs[theme_id].signals is not None
            else summary for theme_id, summary in zip(docs, made, strict=True)}


def summarize_week(con: duckdb.DuckDBPyConnection, ctx: WeekContext, taxonomy: tax.Taxonomy, config: Config,
                   llm: LLMConfig, call: Breaker | None, run_id: str, min_week_tickets: int,
                   escalation: Escalation) -> pd.DataFrame:
    """Summaries of the themes the week's ranking can show: those with tickets in the weeks it ranks;
    the week records with them the configuration (`config`) its themes and areas were built with;
    `escalation`: triage's rules."""
    weeks = ranking_weeks(ctx, min_week_tickets)
    docs = with_ticket_triage(theme_docs(ctx.window, ctx.week, ctx.vectors, weeks, escalation), ctx.window)
    tags = counted_membership(ctx.window).groupby("theme_id")["tags"].agg(list).to_dict() if len(ctx.window) else {}
    summaries = {theme_id: extractive_summary(doc) for theme_id, doc in docs.items()}
    if call is not None:
        summaries = _llm_summaries(docs, summaries, llm, llm.answers(con), call)
    labels = week_labels({t: s.label for t, s in summaries.items()},  # weeks are summarized in order
                         wh.earlier_labels(con, ctx.week), docs, ctx.review)
    rows = [_row(ctx, theme_id, summary, docs[theme_id], labels[theme_id], tags.get(theme_id, []), taxonomy, weeks,
                 run_id) for theme_id, summary in summaries.items()]
    out = pd.DataFrame(rows)
    wh.replace(con, [wh.Replace("marts.cluster_summaries", out, "week_start", [ctx.week]),
                     wh.Replace("marts.week_configs", wh.config_rows(ctx.week, config, run_id), "week_start", [ctx.week])])
    return out


def _record_earlier_taxonomies(instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection, used: Value) -> None:
    """Weeks summarized before their taxonomy was recorded get the digest their latest summaries read
    (Dagster's tag), named when it is this run's file's or the shipped one's: so the first report
    after an upgrade, and after a backfill of some weeks, can tell the change."""
    if not (weeks := wh.weeks_without_taxonomy(con)):
        return
    read = versions_read(instance, "cluster_summaries", "taxonomy", [w.isoformat() for w in weeks])
    known = (used, tax.version(PROJECT_ROOT / tax.TAXONOMY_FILE))
    wh.record_taxonomies(con, {date.fromisoformat(w): of_digest(d, known) for w, d in read.items() if d})


@weekly_asset(
    group_name="insight",
    deps=["ticket_clusters", "ticket_triage", "taxonomy", "theme_reviews"],
    description="Per theme: label, shared issue, phrasings, severity and signal type (from its tickets' "
    "triage), product area and a backlog item — extractive offline, or from an LLM through litellm when configured.",
)
def cluster_summaries(context: dg.AssetExecutionContext, warehouse: Warehouse, ranking: RankingConfig,
                      llm: LLMConfig, triage_config: TriageConfig):
    path = tax.locate(ranking.taxonomy)
    taxonomy, used = tax.load(path), tax.version(path)
    config = {**theme_config(), TAXONOMY: used}  # the areas come from the resource's taxonomy
    counts, call, escalation = {}, llm.caller(context), triage_config.escalation_rules()
    with warehouse.connect() as con:
        _record_earlier_taxonomies(context.instance, con, used)
        for week in weeks_with_tickets(context, con):
            ctx = warehouse.week_context(con, week, context.run.run_id, WINDOW_WEEKS)
            out = summarize_week(con, ctx, taxonomy, config, llm, call, context.run.run_id, ranking.min_week_tickets,
                                 escalation)
            counts[week.isoformat()] = len(out)
            labels = [f"- `{r.theme_id}` {md_escape(r.label)} ({r.product_area})" for r in out.itertuples()]
            week_facts(context, week, {
                "summarizer": dg.MetadataValue.json(
                    {str(k): int(v) for k, v in out["summarizer"].value_counts().items()} if len(out) else {}),
                "labels": dg.MetadataValue.md("\n".join(labels) or "–"),
            })
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.json(counts),
        "taxonomy_version": dg.MetadataValue.text(used.value),
        **llm_outcome(context, call, warehouse),
    })

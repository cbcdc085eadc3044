"""cluster_summaries: label, shared issue, phrasings, severity, signal type and backlog item."""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.llm import llm_summary
from ticket_intel.core.review import review_state
from ticket_intel.core.summarize import ThemeDocs, class_tfidf_terms, extractive_summary
from ticket_intel.defs.partitions import WINDOW_WEEKS, weekly, weeks_of
from ticket_intel.defs.resources import LLM, PipelineConfig, Warehouse


def _cache(con: duckdb.DuckDBPyConnection, model: str):
    def get(key: str) -> str | None:
        row = con.execute("SELECT response FROM ops.llm_cache WHERE prompt_hash = ?", [key]).fetchone()
        return row[0] if row else None

    def put(key: str, response: str) -> None:
        con.execute(
            "INSERT INTO ops.llm_cache VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [key, model, response, datetime.now(UTC).replace(tzinfo=None)],
        )

    return get, put


def summarize_week(
    con: duckdb.DuckDBPyConnection, week: date, settings: PipelineConfig, llm: LLM, run_id: str
) -> pd.DataFrame:
    frame = wh.window_tickets(con, week, with_vectors=True)
    state = review_state(wh.reviews(con))
    frame["theme_id"] = [state.canonical(t) if isinstance(t, str) else None for t in frame["theme_id"]]
    themed = frame[frame["theme_id"].notna()]
    active = sorted(set(themed.loc[themed["ticket_week"] == week, "theme_id"]))
    groups = {t: g for t, g in themed.groupby("theme_id")}
    terms = class_tfidf_terms({t: g["text"].tolist() for t, g in groups.items()})
    taxonomy = tax.load(Path(settings.taxonomy_path))
    cache_get, cache_put = _cache(con, llm.model)
    rows = []
    for theme_id in active:
        g = groups[theme_id]
        doc = ThemeDocs(
            theme_id=theme_id, ticket_ids=g["ticket_id"].tolist(), texts=g["text"].tolist(),
            vectors=wh.embeddings_matrix(g), tickets_per_week=len(g) / WINDOW_WEEKS, terms=terms[theme_id],
        )
        summary = extractive_summary(doc)
        if llm.model:
            summary = llm_summary(doc, llm.model, summary, cache_get, cache_put, llm.completion_kwargs())
        tags = [t for tag_list in g["tags"] if tag_list is not None for t in tag_list]
        rows.append({
            "week_start": week, "theme_id": theme_id,
            "label": state.labels.get(theme_id, summary.label),
            "shared_issue": summary.shared_issue, "phrasings": summary.phrasings,
            "severity": summary.severity, "severity_rationale": summary.severity_rationale,
            "signal_type": summary.signal_type,
            "product_area": tax.assign_area(taxonomy, doc.texts, tags, doc.terms),
            "backlog_title": summary.backlog.title, "backlog_user_story": summary.backlog.user_story,
            "backlog_severity": summary.backlog.severity, "backlog_deflection": summary.backlog.deflection_per_week,
            "terms": summary.terms, "example_ticket_ids": summary.example_ticket_ids,
            "summarizer": summary.summarizer, "review_status": state.status(theme_id),
            "merged_theme_ids": state.merged_from(theme_id), "run_id": run_id,
        })
    out = pd.DataFrame(rows)
    wh.replace(con, [wh.Replace("marts.cluster_summaries", out, "week_start", [week])])
    return out


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="insight",
    kinds={"duckdb", "python"},
    deps=["ticket_clusters", "taxonomy", "theme_reviews"],
    description="Per theme: label, shared issue, phrasings, severity, signal type, product area "
    "and a backlog item — extractive offline, or from an LLM through litellm when configured.",
)
def cluster_summaries(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig, llm: LLM):
    counts = {}
    with warehouse.connect() as con:
        for week in weeks_of(context):
            out = summarize_week(con, week, settings, llm, context.run.run_id)
            counts[week.isoformat()] = len(out)
    by = out["summarizer"].value_counts().to_dict() if len(out) else {}
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.json(counts),
        "summarizer": dg.MetadataValue.json({k: int(v) for k, v in by.items()}),
        "labels": dg.MetadataValue.md("\n".join(f"- `{r.theme_id}` {r.label}" for r in out.itertuples()) or "–"),
    })

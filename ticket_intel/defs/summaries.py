"""cluster_summaries: label, shared issue, phrasings, severity, signal type, area and backlog item."""

from collections.abc import Callable
from datetime import UTC, date, datetime

import dagster as dg
import duckdb
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.llm import llm_summary
from ticket_intel.core.report import md_escape
from ticket_intel.core.review import canonical_themes, review_state
from ticket_intel.core.summarize import extractive_summary, theme_docs
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.resources import LLM, PipelineConfig, Warehouse


def llm_cache(con: duckdb.DuckDBPyConnection, model: str) -> tuple[Callable[[str], str | None], Callable[[str, str], None]]:
    """get/put on ops.llm_cache, keyed by prompt hash (the model name is part of the hash)."""

    def get(key: str) -> str | None:
        row = con.execute("SELECT response FROM ops.llm_cache WHERE prompt_hash = ?", [key]).fetchone()
        return row[0] if row else None

    def put(key: str, response: str) -> None:
        row = {"prompt_hash": key, "model": model, "response": response,
               "created_at": datetime.now(UTC).replace(tzinfo=None)}
        wh.insert_missing(con, "ops.llm_cache", pd.DataFrame([row]))

    return get, put


def summarize_week(
    con: duckdb.DuckDBPyConnection, week: date, taxonomy: tax.Taxonomy, llm: LLM, run_id: str
) -> pd.DataFrame:
    state = review_state(wh.reviews(con))
    frame = canonical_themes(wh.window_tickets(con, week, with_vectors=True), state)
    docs = theme_docs(frame, week, wh.embeddings_matrix(frame))
    tags = frame.groupby("theme_id")["tags"].agg(list).to_dict() if len(frame) else {}
    cache_get, cache_put = llm_cache(con, llm.model)
    rows = []
    for theme_id, doc in docs.items():
        summary = extractive_summary(doc)
        if llm.model:
            summary = llm_summary(doc, llm.model, summary, cache_get, cache_put, llm.completion_kwargs())
        ticket_tags = [list(t) if t is not None else [] for t in tags.get(theme_id, [])]
        rows.append({
            "week_start": week, "theme_id": theme_id,
            "label": state.labels.get(theme_id, summary.label),
            "shared_issue": summary.shared_issue, "phrasings": summary.phrasings,
            "severity": summary.severity, "severity_rationale": summary.severity_rationale,
            "signal_type": summary.signal_type,
            "product_area": tax.assign_area(taxonomy, doc.texts, ticket_tags, doc.terms),
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
    path = tax.locate(settings.taxonomy_path)
    if not path.exists():
        context.log.warning(f"taxonomy file {path} not found: every theme's product area is {tax.UNASSIGNED}")
    taxonomy = tax.load(path)
    counts, by = {}, {}
    with warehouse.connect() as con:
        for week in weeks_of(context):
            out = summarize_week(con, week, taxonomy, llm, context.run.run_id)
            counts[week.isoformat()] = len(out)
            for name, n in (out["summarizer"].value_counts().items() if len(out) else []):
                by[name] = by.get(name, 0) + int(n)
    return dg.MaterializeResult(metadata={
        "themes": dg.MetadataValue.json(counts),
        "summarizer": dg.MetadataValue.json(by),
        "taxonomy_version": dg.MetadataValue.text(tax.content_hash(path)),
        "labels": dg.MetadataValue.md(
            "\n".join(f"- `{r.theme_id}` {md_escape(r.label)} ({r.product_area})" for r in out.itertuples()) or "–"
        ),
    })

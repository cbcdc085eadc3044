"""ticket_triage: per ticket category, urgency, sentiment, escalation, team and SLA (core/triage.py)."""

from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import embed
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.triage import ZeroShot, triage, zero_shot_index
from ticket_intel.core.triage_config import Routing, TriageTaxonomy, load_routing, load_taxonomy
from ticket_intel.core.triage_llm import llm_triage_frame
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.resources import LLM, PipelineConfig, Warehouse
from ticket_intel.defs.summaries import llm_cache

Encode = Callable[[Sequence[str]], np.ndarray]


def _vectors(frame: pd.DataFrame, encode: Encode) -> np.ndarray:
    """Stored embeddings, and fresh ones for tickets that have none yet."""
    stored = frame["embedding"].notna().to_numpy()
    missing = [t for t, ok in zip(frame["text"], stored, strict=True) if not ok]
    fresh = encode(missing) if missing else None
    dim = fresh.shape[1] if fresh is not None else len(frame["embedding"][stored].iloc[0])
    out = np.zeros((len(frame), dim), dtype=np.float32)
    if stored.any():
        out[stored] = wh.embeddings_matrix(frame[stored])
    if fresh is not None:
        out[~stored] = fresh
    return out


def _counts(column: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in column.value_counts().items()}


def triage_week(
    con: duckdb.DuckDBPyConnection, week: date, taxonomy: TriageTaxonomy, routing: Routing, areas: tax.Taxonomy,
    encode: Encode, index: ZeroShot, model_key: str, llm: LLM, run_id: str,
) -> pd.DataFrame:
    tickets = wh.triage_input(con, [week], model_key)
    if tickets.empty:
        wh.replace(con, [wh.Replace("marts.ticket_triage", None, "week_start", [week])])
        return tickets

    def area_of(text: str, tags: list[str]) -> str:
        return tax.assign_area(areas, [text], [tags])
    out = triage(tickets, taxonomy, routing, encode=encode, vectors=_vectors(tickets, encode), area_of=area_of,
                 index=index)
    if llm.model:
        cache_get, cache_put = llm_cache(con, llm.model)
        out = llm_triage_frame(tickets["text"].tolist(), out, taxonomy, routing, llm.model, cache_get, cache_put,
                               llm.completion_kwargs())
    out = out.assign(week_start=week, run_id=run_id)
    wh.replace(con, [wh.Replace("marts.ticket_triage", out, "week_start", [week])])
    return out


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="triage",
    kinds={"duckdb", "python"},
    deps=["redacted_tickets", "ticket_embeddings", "taxonomy"],
    description="Per ticket: category and subcategory (triage.yaml), severity and urgency, sentiment, "
    "frustration, escalation signals, churn risk, team and SLA (routing.yaml) - offline rules and zero-shot "
    "embeddings, or an LLM through litellm when configured.",
)
def ticket_triage(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig, llm: LLM):
    taxonomy, routing = load_taxonomy(settings.triage_path), load_routing(settings.routing_path)
    routing.check_categories(taxonomy)
    areas = tax.load(tax.locate(settings.taxonomy_path))

    def encode(texts: Sequence[str]) -> np.ndarray:
        return embed.encode(list(texts), settings.embedding_model, settings.embedding_batch_size,
                            settings.embedding_backend)

    index = zero_shot_index(taxonomy, encode)
    model_key = embed.cache_key(settings.embedding_model, settings.embedding_backend)
    frames = []
    with warehouse.connect() as con:
        for week in weeks_of(context):
            frames.append(triage_week(con, week, taxonomy, routing, areas, encode, index, model_key, llm,
                                      context.run.run_id))
    out = pd.concat([f for f in frames if len(f)] or [pd.DataFrame(columns=["category", "urgency", "escalated",
                                                                             "needs_review", "triage_source"])])
    return dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "categories": dg.MetadataValue.json(_counts(out["category"])),
        "urgency": dg.MetadataValue.json(_counts(out["urgency"])),
        "escalated": dg.MetadataValue.int(int(out["escalated"].sum())),
        "needs_review": dg.MetadataValue.int(int(out["needs_review"].sum())),
        "by": dg.MetadataValue.json(_counts(out["triage_source"])),
        "triage_version": dg.MetadataValue.text(tax.content_hash(tax.locate(settings.triage_path))),
        "routing_version": dg.MetadataValue.text(tax.content_hash(tax.locate(settings.routing_path))),
    })

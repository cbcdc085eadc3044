"""ticket_triage: per ticket category, urgency, sentiment, escalation, team and SLA (core/triage.py)."""

from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.adapters import encoder
from ticket_intel.core import taxonomy as tax
from ticket_intel.core.embed import embed_cached
from ticket_intel.core.llm import Breaker
from ticket_intel.core.redact import EMBED_CHARS
from ticket_intel.core.triage import ZeroShot, triage, zero_shot_index
from ticket_intel.core.triage_config import Routing, TriageTaxonomy, load_triage
from ticket_intel.core.triage_llm import llm_triage_frame
from ticket_intel.core.triage_rules import Escalation
from ticket_intel.defs.partitions import week_facts, weekly_asset, weeks_of
from ticket_intel.defs.resources import (
    EmbeddingConfig,
    LLMConfig,
    RankingConfig,
    TriageConfig,
    Warehouse,
    llm_outcome,
)

Encode = Callable[[Sequence[str]], np.ndarray]


def _vectors(frame: pd.DataFrame, encode: Encode, store: wh.EmbeddingStore) -> np.ndarray:
    """Each ticket's vector: stored by ticket_embeddings, else through the same cache (never twice)."""
    stored = frame["embedding"].notna().to_numpy()
    hashes = frame["text_hash"][~stored].tolist()
    fresh, _ = embed_cached(hashes, [t[:EMBED_CHARS] for t in frame["text"][~stored]], store, encode)
    return np.stack([np.asarray(v, dtype=np.float32) if ok else fresh[h]
                     for v, ok, h in zip(frame["embedding"], stored, frame["text_hash"], strict=True)])


def _counts(column: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in column.value_counts().items()}


def _facts(out: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    """A week's triage at a glance, on that week's materialization."""
    if out.empty:
        return {"tickets": dg.MetadataValue.int(0)}
    return {
        "tickets": dg.MetadataValue.int(len(out)),
        "categories": dg.MetadataValue.json(_counts(out["category"])),
        "urgency": dg.MetadataValue.json(_counts(out["urgency"])),
        "escalated": dg.MetadataValue.int(int(out["escalated"].sum())),
        "needs_review": dg.MetadataValue.int(int(out["needs_review"].sum())),
        "by": dg.MetadataValue.json(_counts(out["triage_source"])),
    }


def triage_week(
    con: duckdb.DuckDBPyConnection, week: date, taxonomy: TriageTaxonomy, routing: Routing, areas: tax.Taxonomy,
    encode: Encode, index: ZeroShot, model_key: str, llm: LLMConfig, call: Breaker | None, run_id: str,
    escalation: Escalation,
) -> pd.DataFrame:
    tickets = wh.triage_input(con, [week], model_key)
    if tickets.empty:
        wh.replace(con, [wh.Replace("marts.ticket_triage", None, "week_start", [week])])
        return tickets

    def area_of(text: str, tags: list[str], product: str | None) -> str:
        return tax.ticket_area(areas, text, tags, product)
    vectors = _vectors(tickets, encode, wh.EmbeddingStore(con, model_key))
    out = triage(tickets, taxonomy, routing, encode=encode, vectors=vectors, area_of=area_of, index=index,
                 escalation=escalation)
    if call is not None:
        out = llm_triage_frame(tickets["text"].tolist(), out, taxonomy, routing, llm.model, llm.answers(con), call,
                               llm.concurrency)
    out = out.assign(week_start=week, run_id=run_id)
    wh.replace(con, [wh.Replace("marts.ticket_triage", out, "week_start", [week])])
    return out


@weekly_asset(
    group_name="triage",
    deps=["redacted_tickets", "ticket_embeddings", "taxonomy", "triage_taxonomy", "routing"],
    description="Per ticket: category and subcategory (triage.yaml), severity and urgency, sentiment, "
    "frustration, escalation signals, churn risk, team and SLA (routing.yaml) - offline rules and zero-shot "
    "embeddings, or an LLM through litellm when configured.",
)
def ticket_triage(context: dg.AssetExecutionContext, warehouse: Warehouse, triage_config: TriageConfig,
                  ranking: RankingConfig, embedding: EmbeddingConfig, llm: LLMConfig):
    taxonomy, routing = load_triage(triage_config.triage, triage_config.routing)
    areas = tax.load(ranking.taxonomy)

    def encode(texts: Sequence[str]) -> np.ndarray:
        return encoder.encode(list(texts), embedding.model, embedding.batch_size, embedding.backend)

    index = zero_shot_index(taxonomy, encode)
    escalation = triage_config.escalation_rules()
    model_key = embedding.cache_key()
    call = llm.caller(context)
    with warehouse.connect() as con:
        for week in weeks_of(context):
            out = triage_week(con, week, taxonomy, routing, areas, encode, index, model_key, llm, call,
                              context.run.run_id, escalation)
            week_facts(context, week, _facts(out))
    return dg.MaterializeResult(metadata={
        "triage_version": dg.MetadataValue.text(tax.content_hash(tax.locate(triage_config.triage))),
        "routing_version": dg.MetadataValue.text(tax.content_hash(tax.locate(triage_config.routing))),
        "escalation_version": dg.MetadataValue.text(
            tax.content_hash(tax.locate(triage_config.escalation)) if triage_config.escalation else "shipped"),
        **llm_outcome(context, call, warehouse),
    })

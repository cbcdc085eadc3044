"""ticket_embeddings: one vector per redacted ticket, each distinct text embedded once, ever."""

from collections.abc import Callable
from datetime import date

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.adapters import encoder
from ticket_intel.core.embed import embed_cached
from ticket_intel.core.progress import Progress
from ticket_intel.core.redact import EMBED_CHARS
from ticket_intel.defs.partitions import week_facts, weekly_asset, weeks_of
from ticket_intel.defs.resources import EmbeddingConfig, Warehouse


@weekly_asset(
    group_name="themes",
    kinds={"duckdb", "onnx"},
    deps=["redacted_tickets"],
    description="Sentence embeddings (all-MiniLM-L6-v2, ONNX by default) cached by (model, backend, text hash).",
)
def ticket_embeddings(context: dg.AssetExecutionContext, warehouse: Warehouse, embedding: EmbeddingConfig):
    weeks = weeks_of(context)
    key = embedding.cache_key()
    with warehouse.connect() as con:
        # A new warehouse needs the model's width for its vector tables; after that the model
        # is only loaded when a text is missing from the cache.
        wh.ensure_embedding_schema(con, wh.stored_embedding_dim(con) or encoder.embedding_dim(embedding.model, embedding.backend))
        # One meter for the step, its total known up front: a backfill's progress and time left, not
        # a finished meter per week.
        encode = embedding.encoder(on_batch=Progress("embedding", wh.EmbeddingStore(con, key).missing(weeks),
                                                     context.log.info, unit="texts").advance)
        # Week by week: a backfill holds one week's texts and vectors at a time (all ten weeks of a
        # 1M-ticket backfill at once outgrew 15 GB), and a text seen in an earlier week is cached by then.
        counts = [_embed_week(con, week, key, encode, context.run.run_id) for week in weeks]
    for week, (tickets, embedded) in zip(weeks, counts, strict=True):
        week_facts(context, week, {"tickets": dg.MetadataValue.int(tickets),
                                   "texts_embedded": dg.MetadataValue.int(embedded),
                                   "cache_hits": dg.MetadataValue.int(tickets - embedded)})
    context.log.info(f"embedded {sum(e for _, e in counts)} new texts with {embedding.model} ({embedding.backend}); "
                     "the rest were cached")
    return dg.MaterializeResult(metadata={
        "model": dg.MetadataValue.text(embedding.model),
        "backend": dg.MetadataValue.text(embedding.backend),
    })


def _embed_week(con: duckdb.DuckDBPyConnection, week: date, key: str, encode: Callable[[list[str]], np.ndarray],
                run_id: str) -> tuple[int, int]:
    """One week's tickets embedded (from the cache where it can) and written; (tickets, texts embedded)."""
    tickets = wh.redacted_texts(con, [week])
    vectors, embedded = embed_cached(tickets["text_hash"].tolist(), [t[:EMBED_CHARS] for t in tickets["meaning_text"]],
                                     wh.EmbeddingStore(con, key), encode)
    out = pd.DataFrame({
        "week_start": tickets["week_start"], "ticket_id": tickets["ticket_id"], "model": key,
        "text_hash": tickets["text_hash"], "embedding": [vectors[h] for h in tickets["text_hash"]], "run_id": run_id,
    })
    wh.replace(con, [wh.Replace("staging.ticket_embeddings", out, "week_start", [week])])
    return len(out), embedded

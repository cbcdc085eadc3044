"""ticket_embeddings: one vector per redacted ticket, each distinct text embedded once, ever."""

from collections.abc import Sequence

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import embed
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.redaction import EMBED_CHARS
from ticket_intel.defs.resources import PipelineConfig, Warehouse


def embed_with_cache(
    con: duckdb.DuckDBPyConnection, hashes: Sequence[str], texts: Sequence[str], model: str, backend: str,
    batch_size: int,
) -> tuple[dict[str, np.ndarray], int]:
    """Vectors for every hash (texts aligned with hashes); only texts missing from the cache are encoded."""
    key = embed.cache_key(model, backend)
    wh.ensure_embedding_schema(con, embed.embedding_dim(model, backend))
    cached = wh.cached_embeddings(con, key, sorted(set(hashes)))
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in cached:
            todo.setdefault(h, t)
    if todo:
        vectors = embed.encode(list(todo.values()), model, batch_size, backend)
        wh.store_embeddings(con, key, list(todo), vectors)
        cached.update(zip(todo, vectors, strict=True))
    return cached, len(todo)


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="themes",
    kinds={"duckdb", "onnx"},
    deps=["redacted_tickets"],
    description="Sentence embeddings (all-MiniLM-L6-v2, ONNX by default) cached by (model, backend, text hash).",
)
def ticket_embeddings(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    weeks = weeks_of(context)
    model, backend = settings.embedding_model, settings.embedding_backend
    with warehouse.connect() as con:
        tickets = wh.read(
            con,
            "SELECT ticket_id, week_start, text, text_hash FROM staging.redacted_tickets "
            "WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id",
            [weeks],
        )
        vectors, embedded = embed_with_cache(
            con, tickets["text_hash"].tolist(), [t[:EMBED_CHARS] for t in tickets["text"]], model, backend,
            settings.embedding_batch_size,
        )
        context.log.info(f"embedded {embedded} new texts with {model} ({backend}); the rest were cached")
        out = pd.DataFrame({
            "week_start": tickets["week_start"],
            "ticket_id": tickets["ticket_id"],
            "model": embed.cache_key(model, backend),
            "text_hash": tickets["text_hash"],
            "embedding": [vectors[h] for h in tickets["text_hash"]],
            "run_id": context.run.run_id,
        })
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", out, "week_start", weeks)])
    return dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "texts_embedded": dg.MetadataValue.int(embedded),
        "cache_hits": dg.MetadataValue.int(len(tickets) - embedded),
        "model": dg.MetadataValue.text(model),
        "backend": dg.MetadataValue.text(backend),
    })

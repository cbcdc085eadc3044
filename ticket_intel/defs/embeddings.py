"""ticket_embeddings: one vector per redacted ticket, each distinct text embedded once, ever."""

import dagster as dg
import numpy as np
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core import embed
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.redaction import EMBED_CHARS
from ticket_intel.defs.resources import PipelineConfig, Warehouse


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="themes",
    kinds={"duckdb", "pytorch"},
    deps=["redacted_tickets"],
    description="Sentence embeddings (all-MiniLM-L6-v2 by default) cached by (model, text hash).",
)
def ticket_embeddings(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    weeks = weeks_of(context)
    model = settings.embedding_model
    with warehouse.connect() as con:
        tickets = wh.read(
            con,
            "SELECT ticket_id, week_start, text, text_hash FROM staging.redacted_tickets "
            "WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id",
            [weeks],
        )
        dim = embed.embedding_dim(model)
        wh.ensure_embedding_schema(con, dim)
        cached = wh.cached_embeddings(con, model, tickets["text_hash"].unique().tolist())
        todo = tickets[~tickets["text_hash"].isin(cached)].drop_duplicates("text_hash")
        if len(todo):
            context.log.info(f"embedding {len(todo)} new texts with {model} ({len(cached)} cached)")
            vectors = embed.encode([t[:EMBED_CHARS] for t in todo["text"]], model, settings.embedding_batch_size)
            wh.store_embeddings(con, model, todo["text_hash"].tolist(), vectors)
            cached.update(zip(todo["text_hash"], vectors, strict=True))
        out = pd.DataFrame({
            "week_start": tickets["week_start"],
            "ticket_id": tickets["ticket_id"],
            "model": model,
            "text_hash": tickets["text_hash"],
            "embedding": [np.asarray(cached[h], dtype=np.float32) for h in tickets["text_hash"]],
            "run_id": context.run.run_id,
        })
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", out, "week_start", weeks)])
    return dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "texts_embedded": dg.MetadataValue.int(len(todo)),
        "cache_hits": dg.MetadataValue.int(len(tickets) - len(todo)),
        "model": dg.MetadataValue.text(model),
    })

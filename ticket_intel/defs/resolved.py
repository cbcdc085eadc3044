"""resolved_tickets: the knowledge base of solved tickets and their public agent replies."""

import dagster as dg
import numpy as np

from ticket_intel import warehouse as wh
from ticket_intel.adapters import encoder
from ticket_intel.core.embed import embed_cached
from ticket_intel.core.knowledge import knowledge_base
from ticket_intel.core.redact import EMBED_CHARS
from ticket_intel.defs.partitions import week_facts, weekly_asset, weeks_of
from ticket_intel.defs.resources import EmbeddingConfig, RedactionConfig, Warehouse


@weekly_asset(
    group_name="assist",
    deps=["redacted_tickets", "ticket_embeddings"],
    description="Resolved tickets (solved/closed/resolved status, or answered in public where a source "
    "has no status) with their public agent replies, redacted; vectors from the embedding cache.",
)
def resolved_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, redaction: RedactionConfig,
                     embedding: EmbeddingConfig):
    weeks = weeks_of(context)
    key = embedding.cache_key()

    def encode(texts: list[str]) -> np.ndarray:
        return encoder.encode(texts, embedding.model, embedding.batch_size, embedding.backend)

    with warehouse.connect() as con:
        tickets, replies = wh.tickets_with_status(con, weeks), wh.ticket_replies(con, weeks)
        kb = knowledge_base(tickets, replies, redaction.settings())
        # The tickets' vectors are in the cache already (ticket_embeddings); only a text missing
        # from it (the cache was cleared) is embedded again, from its text for meaning as there.
        meaning = dict(zip(tickets["text_hash"], tickets["meaning_text"], strict=True))
        _, embedded = embed_cached(kb["text_hash"].tolist(), [meaning[h][:EMBED_CHARS] for h in kb["text_hash"]],
                                   wh.EmbeddingStore(con, key), encode)
        out = kb.assign(model=key, run_id=context.run.run_id)
        wh.replace(con, [wh.Replace("staging.resolved_tickets", out, "week_start", weeks)])
    for week in weeks:
        solved, all_ = int((out["week_start"] == week).sum()), int((tickets["week_start"] == week).sum())
        week_facts(context, week, {"resolved_tickets": dg.MetadataValue.int(solved), "tickets": dg.MetadataValue.int(all_),
                                   "resolved_share": dg.MetadataValue.float(round(solved / all_, 4) if all_ else 0.0)})
    return dg.MaterializeResult(metadata={"texts_embedded": dg.MetadataValue.int(embedded)})

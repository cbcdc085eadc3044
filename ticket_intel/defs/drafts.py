"""reply_drafts: a grounded reply draft for every ticket of the week that waits for an answer.

Its own asset, not part of triage: drafts depend on the LLM (its cost, its outages, its own
setting) and on the knowledge base up to the week, so they can be re-materialized alone, e.g.
after an LLM is configured, and a provider outage never holds up triage or the themes.
"""

import dagster as dg
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.assist import index_of, read_knowledge_base
from ticket_intel.core.drafts import LLM, draft_frame
from ticket_intel.core.knowledge import awaiting_reply
from ticket_intel.defs.partitions import week_facts, weekly_asset, weeks_of
from ticket_intel.defs.resources import AssistConfig, EmbeddingConfig, LLMConfig, Warehouse, llm_outcome


@weekly_asset(
    group_name="assist",
    deps=["resolved_tickets", "ticket_embeddings"],
    description="A reply draft per ticket awaiting an answer (open, or unanswered without a status), grounded "
    "in the most similar resolved tickets up to its week: LLM with cited ids when configured, else a template.",
)
def reply_drafts(context: dg.AssetExecutionContext, warehouse: Warehouse, embedding: EmbeddingConfig,
                 llm: LLMConfig, assist: AssistConfig):
    weeks, key = weeks_of(context), embedding.cache_key()
    with warehouse.connect() as con:
        waiting = awaiting_reply(wh.tickets_with_status(con, weeks), wh.ticket_replies(con, weeks))
        stored = wh.ticket_vectors(con, waiting["ticket_id"].tolist(), key).set_index("ticket_id")
        waiting = waiting[waiting["ticket_id"].isin(stored.index)]
        kb = read_knowledge_base(con, key, max(weeks))
        call = llm.caller(context)
        drafter = None if call is None else LLM(llm.model, llm.answers(con), call)
        parts, methods = [], dict.fromkeys(weeks, pd.Series(dtype=int))
        for week, group in waiting.groupby("week_start", sort=True):
            vectors = wh.embeddings_matrix(stored.loc[group["ticket_id"]].reset_index())
            index = index_of(kb[kb["week_start"] <= week], wh.holds_agent_replies(con, week))  # known by that week
            parts.append(draft_frame(group, vectors, index, assist.similar_k, drafter, llm.concurrency)
                         .assign(week_start=week))
            methods[week] = parts[-1]["method"].str.split(":").str[0].value_counts()
        out = pd.concat(parts, ignore_index=True).assign(run_id=context.run.run_id) if parts else None
        wh.replace(con, [wh.Replace("marts.reply_drafts", out, "week_start", weeks)])
    for week, counts in methods.items():
        week_facts(context, week, {"tickets_awaiting_reply": dg.MetadataValue.int(int(counts.sum())),
                                   "drafts": dg.MetadataValue.json({k: int(v) for k, v in counts.items()})})
    return dg.MaterializeResult(metadata=llm_outcome(context, call, warehouse))

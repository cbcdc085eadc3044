"""redacted_tickets: the cleaned first customer message with PII replaced by placeholders."""

import json

import dagster as dg
import pandas as pd

from ticket_intel.core.embed import text_hash
from ticket_intel.core.normalize import clean_message
from ticket_intel.core.redact import redact
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.quality import redacted_check_specs, redacted_checks
from ticket_intel.defs.resources import Warehouse
from ticket_intel.warehouse import Replace, read, replace

# MiniLM reads at most 256 word pieces; ~1,500 characters covers that with room to spare.
EMBED_CHARS = 1500


def redact_frame(raw: pd.DataFrame) -> pd.DataFrame:
    texts, subjects, found = [], [], []
    for message, subject in zip(raw["message"], raw["subject"], strict=True):
        red = redact(clean_message(message))
        texts.append(red.text)
        subjects.append(redact(clean_message(subject)).text if isinstance(subject, str) else None)
        found.append(json.dumps(dict(red.found), sort_keys=True))
    out = raw[["ticket_id", "week_start", "created_at", "source", "customer_id", "account_id", "plan",
               "monthly_revenue", "channel", "tags", "priority"]].copy()
    out["subject"] = subjects
    out["text"] = texts
    out["text_hash"] = out["text"].map(lambda t: text_hash(t[:EMBED_CHARS]))
    out["n_chars"] = out["text"].str.len()
    out["embed_chars"] = out["n_chars"].clip(upper=EMBED_CHARS)
    out["pii_found"] = found
    return out


@dg.asset(
    partitions_def=weekly,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="ingest",
    kinds={"duckdb", "python"},
    deps=["raw_tickets"],
    check_specs=redacted_check_specs(),
    description="First customer message, cleaned (HTML, quotes, signatures removed) with PII "
    "replaced by typed placeholders; the only text any later stage or LLM sees.",
)
def redacted_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse):
    weeks = weeks_of(context)
    with warehouse.connect() as con:
        raw = read(con, "SELECT * FROM raw.tickets WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id", [weeks])
        out = redact_frame(raw).assign(run_id=context.run.run_id)
        replace(con, [Replace("staging.redacted_tickets", out, "week_start", weeks)])
    pii = pd.Series([json.loads(f) for f in out["pii_found"]]).apply(pd.Series).sum() if len(out) else pd.Series()
    yield from redacted_checks(out)
    yield dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "pii_replaced": dg.MetadataValue.json({k: int(v) for k, v in pii.items()}),
        "tickets_with_pii": dg.MetadataValue.int(int((out["pii_found"] != "{}").sum())),
    })

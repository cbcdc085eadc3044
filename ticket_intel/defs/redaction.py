"""redacted_tickets: the cleaned first customer message with PII replaced by placeholders."""

import json

import dagster as dg
import pandas as pd

from ticket_intel.core.redact import RedactionSettings, parse_patterns, redact_tickets
from ticket_intel.defs.partitions import weekly, weeks_of
from ticket_intel.defs.quality import redacted_check_specs, redacted_checks
from ticket_intel.defs.resources import PipelineConfig, Warehouse
from ticket_intel.warehouse import Replace, read, replace

# MiniLM reads at most 256 word pieces; ~1,500 characters covers that with room to spare.
EMBED_CHARS = 1500


def redaction_settings(settings: PipelineConfig) -> RedactionSettings:
    return RedactionSettings(
        order_patterns=parse_patterns(settings.order_patterns),
        keep_words=tuple(w.strip() for w in settings.keep_words.split(",") if w.strip()),
    )


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
def redacted_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, settings: PipelineConfig):
    weeks = weeks_of(context)
    with warehouse.connect() as con:
        raw = read(con, "SELECT * FROM raw.tickets WHERE week_start IN (SELECT unnest(?)) ORDER BY ticket_id", [weeks])
        out = redact_tickets(raw, redaction_settings(settings), EMBED_CHARS).assign(run_id=context.run.run_id)
        replace(con, [Replace("staging.redacted_tickets", out, "week_start", weeks)])
    pii = pd.Series([json.loads(f) for f in out["pii_found"]]).apply(pd.Series).sum() if len(out) else pd.Series()
    yield from redacted_checks(out)
    yield dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "pii_replaced": dg.MetadataValue.json({k: int(v) for k, v in pii.items()}),
        "tickets_with_pii": dg.MetadataValue.int(int((out["pii_found"] != "{}").sum())),
        "chars_embedded_mean": dg.MetadataValue.float(float(out["embed_chars"].mean()) if len(out) else 0.0),
    })

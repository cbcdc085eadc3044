"""redacted_tickets: the cleaned first customer message with PII replaced by placeholders."""

import json

import dagster as dg
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core.progress import Progress
from ticket_intel.core.redact import redact_tickets
from ticket_intel.defs.partitions import weekly_asset, weeks_of
from ticket_intel.defs.quality import redacted_check_specs, redacted_checks
from ticket_intel.defs.resources import RedactionConfig, Warehouse

CHUNK = 2000  # tickets redacted between progress lines


@weekly_asset(
    group_name="ingest",
    deps=["raw_tickets"],
    check_specs=redacted_check_specs(),
    description="First customer message, cleaned (HTML, quotes, signatures removed) with PII "
    "replaced by typed placeholders; the only text any later stage or LLM sees.",
)
def redacted_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, redaction: RedactionConfig):
    weeks = weeks_of(context)
    with warehouse.connect() as con:
        raw = wh.raw_tickets(con, weeks)
        meter = Progress("redaction", len(raw), context.log.info)
        parts = []
        for start in range(0, len(raw), CHUNK):
            parts.append(redact_tickets(raw.iloc[start:start + CHUNK], redaction.settings()))
            meter.advance(len(parts[-1]))
        out = (pd.concat(parts, ignore_index=True) if parts else redact_tickets(raw, redaction.settings()))
        out = out.assign(run_id=context.run.run_id)
        wh.replace(con, [wh.Replace("staging.redacted_tickets", out, "week_start", weeks)])
    pii = pd.Series([json.loads(f) for f in out["pii_found"]]).apply(pd.Series).sum() if len(out) else pd.Series()
    yield from redacted_checks(out)
    yield dg.MaterializeResult(metadata={
        "tickets": dg.MetadataValue.int(len(out)),
        "pii_replaced": dg.MetadataValue.json({k: int(v) for k, v in pii.items()}),
        "tickets_with_pii": dg.MetadataValue.int(int((out["pii_found"] != "{}").sum())),
        "chars_embedded_mean": dg.MetadataValue.float(float(out["embed_chars"].mean()) if len(out) else 0.0),
    })

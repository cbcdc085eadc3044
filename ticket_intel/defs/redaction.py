"""redacted_tickets: the cleaned first customer message with PII replaced by placeholders."""

import json
from collections import Counter

import dagster as dg
import pandas as pd

from ticket_intel import warehouse as wh
from ticket_intel.core.progress import Progress
from ticket_intel.core.redact import RedactionSettings, redact_tickets
from ticket_intel.defs.partitions import week_facts, weekly_asset, weeks_of
from ticket_intel.defs.quality import redacted_check_specs, redacted_checks
from ticket_intel.defs.resources import RedactionConfig, Warehouse
from ticket_intel.warehouse import ingest as ingest_wh

# Tickets redacted between progress lines: a week of 10,000 in one piece, which redaction's forked
# workers share (`redact.POOL_MIN_TICKETS` each).
CHUNK = 20_000


def _redact(raw: pd.DataFrame, settings: RedactionSettings, meter: Progress) -> pd.DataFrame:
    parts = []
    for start in range(0, len(raw), CHUNK):
        parts.append(redact_tickets(raw.iloc[start:start + CHUNK], settings))
        meter.advance(len(parts[-1]))
    return pd.concat(parts, ignore_index=True) if parts else redact_tickets(raw, settings)


@weekly_asset(
    group_name="ingest",
    deps=["raw_tickets"],
    check_specs=redacted_check_specs(),
    description="First customer message, cleaned (HTML, quotes, signatures removed) with PII "
    "replaced by typed placeholders; the only text any later stage or LLM sees.",
)
def redacted_tickets(context: dg.AssetExecutionContext, warehouse: Warehouse, redaction: RedactionConfig):
    weeks, settings, parts = weeks_of(context), redaction.settings(), []
    with warehouse.connect() as con:
        meter = Progress("redaction", sum(ingest_wh.week_ticket_counts(con, weeks).values()), context.log.info)
        for week in weeks:  # each week committed on its own: a killed run keeps the weeks it finished
            done = _redact(wh.raw_tickets(con, [week]), settings, meter).assign(run_id=context.run.run_id)
            wh.replace(con, [wh.Replace("staging.redacted_tickets", done, "week_start", [week])])
            week_facts(context, week, _facts(done))
            parts.append(done)
    yield from redacted_checks(pd.concat(parts, ignore_index=True))
    yield dg.MaterializeResult()


def _facts(out: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    """What redaction found in a week's tickets, shown on that week's materialization."""
    pii: Counter[str] = Counter()
    for found in out["pii_found"]:
        pii.update(json.loads(found))
    return {
        "tickets": dg.MetadataValue.int(len(out)),
        "pii_replaced": dg.MetadataValue.json(dict(sorted(pii.items()))),
        "tickets_with_pii": dg.MetadataValue.int(int((out["pii_found"] != "{}").sum())),
        "chars_embedded_mean": dg.MetadataValue.float(float(out["embed_chars"].mean()) if len(out) else 0.0),
    }

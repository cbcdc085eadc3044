"""Data-quality suites (great-expectations) for raw and redacted tickets.

Suites are built in code and validated against in-memory DataFrames with an ephemeral GX
context, so a check needs no GX project folder and runs the same in tests and in Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from ticket_intel.core.redact import MAX_TEXT_CHARS, surviving_pii
from ticket_intel.core.sources.base import EARLIEST, LATEST_SLACK_DAYS
from ticket_intel.core.vocabulary import plural

# A message longer than this is a pasted log or a whole mail thread, not one customer message.
MAX_MESSAGE_CHARS = 1_000_000


@dataclass
class CheckOutcome:
    passed: bool
    description: str
    details: dict[str, Any] = field(default_factory=dict)


def _validate(frame: pd.DataFrame, name: str, expectations: Sequence[Any]) -> CheckOutcome:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)  # quiet console
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe(name)
        .get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=list(expectations)))
    result = batch.validate(suite)
    failed = {}
    for r in result.results:
        if not r.success:
            cfg = r.expectation_config
            failed[f"{cfg.type}({cfg.kwargs.get('column', '')})"] = {
                k: v for k, v in (r.result or {}).items()
                if k in ("unexpected_count", "unexpected_percent", "partial_unexpected_list", "observed_value")
            }
    return CheckOutcome(
        passed=bool(result.success),
        description=f"{len(result.results) - len(failed)}/{len(result.results)} expectations met",
        details={"failed": failed, "rows": len(frame)},
    )


def raw_tickets_suite(
    tickets: pd.DataFrame, plans: Sequence[str], now: datetime | None = None
) -> CheckOutcome:
    """Ids present and unique, timestamps between 2000 and now, messages present and bounded,
    plans from the configured set (a typo such as "enterprize" would silently drop a weight)."""
    import great_expectations as gx

    now = now or datetime.now(UTC).replace(tzinfo=None)
    frame = tickets.assign(created_at=pd.to_datetime(tickets["created_at"]))
    if "message_length" not in frame:  # a run passes the lengths, not the text (core/sources streaming)
        frame["message_length"] = frame["message"].str.len()
    return _validate(frame, "raw_tickets", [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="ticket_id"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="ticket_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="created_at"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="created_at", min_value=EARLIEST, max_value=now + timedelta(days=LATEST_SLACK_DAYS)
        ),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="message_length"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="message_length", min_value=1,
                                                      max_value=MAX_MESSAGE_CHARS),
        gx.expectations.ExpectColumnValuesToBeInSet(column="plan", value_set=list(plans)),
    ])


def rejection_rate(accepted: int, rejected: int, ceiling: float) -> CheckOutcome:
    total = accepted + rejected
    rate = rejected / total if total else 0.0
    return CheckOutcome(
        passed=rate <= ceiling,
        description=f"{rejected} of {total} records rejected ({rate:.1%}; ceiling {ceiling:.0%})",
        details={"rate": rate, "accepted": accepted, "rejected": rejected},
    )


def commonest_reasons(reasons: pd.DataFrame, n: int = 3) -> list[str]:
    """The `n` kinds of reason most malformed records were rejected for (rows of `rejection_reasons_sql`:
    source_file, kind, reason, records), each with its count, an example and where: what to fix, said
    where the user reads it rather than left in ops.rejected_tickets."""
    if not len(reasons):
        return []
    kinds = reasons.sort_values(["source_file", "reason"]).groupby("kind", sort=False).agg(
        records=("records", "sum"), reason=("reason", "first"), file=("source_file", "first"),
        files=("source_file", "nunique"))
    top = kinds.sort_values(["records", "reason"], ascending=[False, True]).head(n)
    others = [f" and {plural(r.files - 1, 'other file')}" if r.files > 1 else "" for r in top.itertuples()]
    return [f"{r.records} × {r.reason} ({PurePath(r.file).name}{more})"
            for r, more in zip(top.itertuples(), others, strict=True)]


def exports_readable(files: Sequence[tuple[str, str | None]]) -> CheckOutcome:
    """Every export of the inbox was read: (file name, its error or None). An unreadable file counted as
    one rejected record among thousands, and left every check green."""
    unread = [(name, error) for name, error in files if error]
    said = "; ".join(f"{name}: {error}" for name, error in unread[:3]) + ("; …" if len(unread) > 3 else "")
    return CheckOutcome(
        passed=not unread,
        description=f"{len(unread)} of {len(files)} exports unreadable: {said}" if unread else f"all {len(files)} exports read",
        details={"unreadable": [name for name, _ in unread]},
    )


def redacted_tickets_suite(redacted: pd.DataFrame) -> CheckOutcome:
    """Ids unique, text present and bounded, text hashes well-formed (they key the embedding cache)."""
    import great_expectations as gx

    frame = redacted.assign(text_length=redacted["text"].str.len())
    return _validate(frame, "redacted_tickets", [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="ticket_id"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="ticket_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="text_hash"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="text_length", min_value=1,
                                                      max_value=MAX_TEXT_CHARS),
        gx.expectations.ExpectColumnValuesToMatchRegex(column="text_hash", regex=r"^[0-9a-f]{64}$"),
    ])


def pii_survivors(redacted: pd.DataFrame, columns: Sequence[str] = ("text", "subject", "tags")) -> CheckOutcome:
    """Blocking: an email, card, IBAN or SSN left in redacted text or tags stops everything downstream."""
    leaks: dict[str, list[str]] = {}
    for column in (c for c in columns if c in redacted):
        for ticket_id, value in zip(redacted["ticket_id"], redacted[column], strict=True):
            text = " ".join(map(str, value)) if isinstance(value, list | np.ndarray) else value
            hits = surviving_pii(text) if isinstance(text, str) else []
            if hits:
                leaks.setdefault(ticket_id, []).extend(h.split(":", 1)[0] for h in hits)
    return CheckOutcome(
        passed=not leaks,
        description="no PII pattern survives redaction" if not leaks else f"{len(leaks)} tickets still contain PII",
        # Types only: the check's own metadata must not carry the values it found.
        details={"tickets_with_pii": dict(list(leaks.items())[:20])},
    )

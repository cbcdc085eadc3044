"""Asset checks: great-expectations suites and the blocking no-PII check, as Dagster results."""

from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd

from ticket_intel.core import quality


def _result(name: str, outcome: quality.CheckOutcome, blocking: bool = False) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.passed,
        description=outcome.description,
        # Blocking checks must fail with ERROR for Dagster to stop the downstream steps.
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={"details": dg.MetadataValue.json(outcome.details)},
    )


def raw_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("raw_tickets_expectations", asset="raw_tickets",
                          description="GX suite: ids unique and non-null, sane timestamps, text lengths, "
                                      "plans in TICKET_INTEL_PLAN_WEIGHTS"),
        dg.AssetCheckSpec("rejection_rate", asset="raw_tickets",
                          description="Share of rejected ticket records at most TICKET_INTEL_MAX_REJECTION_RATE"),
        dg.AssetCheckSpec("exports_readable", asset="raw_tickets",
                          description="Every export in the inbox could be read (a warning names those that could not)"),
    ]


def raw_checks(
    tickets: pd.DataFrame, accepted: int, rejected: int, plans: Sequence[str], ceiling: float,
    files: Sequence[tuple[str, str | None]],
) -> Iterator[dg.AssetCheckResult]:
    yield _result("raw_tickets_expectations", quality.raw_tickets_suite(tickets, plans))
    yield _result("rejection_rate", quality.rejection_rate(accepted, rejected, ceiling))
    yield _result("exports_readable", quality.exports_readable(files))


def redacted_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("redacted_tickets_expectations", asset="redacted_tickets",
                          description="GX suite: ids unique, text present and bounded, text hashes well-formed"),
        dg.AssetCheckSpec("no_pii_survives", asset="redacted_tickets", blocking=True,
                          description="Blocking: no email, card, IBAN or SSN pattern survives redaction"),
    ]


def redacted_checks(redacted: pd.DataFrame) -> Iterator[dg.AssetCheckResult]:
    yield _result("redacted_tickets_expectations", quality.redacted_tickets_suite(redacted))
    yield _result("no_pii_survives", quality.pii_survivors(redacted), blocking=True)

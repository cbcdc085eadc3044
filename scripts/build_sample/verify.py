"""The build's self-check: re-read what was written and fail loudly unless every promised property holds."""

from collections import Counter
from pathlib import Path

from .accounts import read_accounts
from .common import JSONDict, check, luhn_valid, monday_of
from .constants import DEFECTS, FILES, PII_KINDS, SOURCE_WEIGHTS, SOURCES
from .patterns import PATTERNS
from .records import Record, read_records
from .side_files import SIDE_FILES


def check_record(source: str, record: Record, planted: JSONDict, account_keys: set[tuple[str, str]]) -> None:
    """A valid record has its planted customer and week, and names only accounts listed in accounts.csv."""
    check(planted["customer_key"] == record.customer_key, record)
    check(record.created is not None and monday_of(record.created) == planted["week_start"], record)
    check(not record.account_id or (source, record.account_id) in account_keys, record)


def check_records(out: Path, truth: JSONDict) -> dict[tuple[str, str], str]:
    """Each record is valid exactly when planted.json does not list it as malformed; returns the valid texts."""
    account_keys = {(a["source"], a["account_id"]) for a in read_accounts(out)}
    valid_ids = {(t["source"], t["source_id"]): t for t in truth["valid_tickets"]}
    check(len(valid_ids) == len(truth["valid_tickets"]), "duplicate valid source_id")
    malformed_at = {(m["source"], m["locator"]) for m in truth["malformed"]}
    texts = {}
    for source, records in read_records(out).items():
        check(len(records) == sum(truth["counts"][FILES[source]].values()), f"{source} record count")
        for record in records:
            is_valid = record.source_id is not None and record.created is not None and bool(record.text)
            check(is_valid == ((source, record.locator) not in malformed_at), (source, record.locator))
            if record.source_id is not None and is_valid:
                check_record(source, record, valid_ids[source, record.source_id], account_keys)
                texts[source, record.source_id] = record.text
    check(len(texts) == len(valid_ids), "a planted valid ticket is missing from its file")
    return texts


def check_pii(truth: JSONDict, texts: dict[tuple[str, str], str], source_texts: list[str]) -> None:
    """Every planted value is in its ticket's text, one or two per ticket, every type present, cards Luhn-valid."""
    pii_per_ticket = Counter((p["source"], p["source_id"]) for p in truth["pii"])
    for item in truth["pii"]:
        check(item["value"] in texts[item["source"], item["source_id"]], item)
        check(item["type"] != "card" or luhn_valid(item["value"]), item)
    check(set(pii_per_ticket.values()) <= {1, 2}, "one or two PII values per ticket")
    check(len(pii_per_ticket) / len(truth["valid_tickets"]) >= 0.08, "PII share")
    check({p["type"] for p in truth["pii"]} == set(PII_KINDS), "every PII type planted")
    check(len(set(source_texts)) == len(source_texts), "a banking77 text was used twice")


def check_volumes(truth: JSONDict) -> None:
    """Enough tickets every week, enough distinct customers, and each source's planned share."""
    valid = truth["valid_tickets"]
    per_week = Counter(t["week_start"] for t in valid)
    check(len(valid) >= 2300 and all(180 <= per_week[w] <= 260 for w in truth["weeks"]), per_week)
    check(len({t["customer_key"] for t in valid}) >= 450, "distinct customers")
    shares = Counter(t["source"] for t in valid)
    for source, weight in zip(SOURCES, SOURCE_WEIGHTS, strict=True):
        check(abs(shares[source] / len(valid) - weight / 100) < 0.04, shares)


def check_defects(truth: JSONDict) -> None:
    """Every defect code planted exactly once, and e-mail tails on 10-20% of the Freshdesk tickets."""
    planted = sorted((m["source"], m["defect"]) for m in truth["malformed"])
    check(planted == sorted((s, d) for s, defects in DEFECTS.items() for d in defects.values()), "malformed")
    tail_share = len(truth["email_tails"]) / truth["counts"][FILES["freshdesk"]]["valid"]
    check(0.10 <= tail_share <= 0.20, f"email-tail share {tail_share:.2f}")


def verify(out: Path, truth: JSONDict, source_texts: list[str]) -> None:
    """Fail the build unless the written files and planted.json have every promised property.

    ``source_texts`` are the banking77 texts the build used, case-folded.
    """
    texts = check_records(out, truth)
    check_pii(truth, texts, source_texts)
    check_volumes(truth)
    check_defects(truth)
    for pattern in PATTERNS:
        pattern.verify(truth)
    for side_file in SIDE_FILES:
        side_file.verify(out, truth)

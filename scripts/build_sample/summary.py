"""The printed summary, so a reviewer sees the planted patterns and file digests without opening the files."""

import hashlib
from collections import Counter
from pathlib import Path

from .common import JSONDict
from .constants import SOURCES
from .patterns import PATTERNS


def print_weeks(truth: JSONDict) -> None:
    """Valid tickets per week: the total, each source, and each planted pattern's intent."""
    valid = truth["valid_tickets"]
    by_week = Counter(t["week_start"] for t in valid)
    by_week_source = Counter((t["week_start"], t["source"]) for t in valid)
    by_week_intent = Counter((t["week_start"], t["intent"]) for t in valid)
    intents = [pattern.intent for pattern in PATTERNS]
    print("week_start  total  " + " ".join(SOURCES) + "  " + " ".join(intents))
    for week in truth["weeks"]:
        per_source = "".join(f"{by_week_source[week, s]:9}" for s in SOURCES)
        per_intent = " ".join(f"{by_week_intent[week, intent]:{len(intent)}}" for intent in intents)
        print(f"{week}  {by_week[week]:5}{per_source}  {per_intent}")


def summarize(out: Path, truth: JSONDict, names: list[str]) -> None:
    """Print counts, the weekly table, PII, the patterns' truth, e-mail tails and each file's sha256 prefix."""
    valid = truth["valid_tickets"]
    print(f"valid tickets: {len(valid)}  malformed records: {len(truth['malformed'])}")
    for name, count in truth["counts"].items():
        print(f"  {name:30} valid {count['valid']:5}  malformed {count['malformed']:2}")
    print_weeks(truth)
    with_pii = {(p["source"], p["source_id"]) for p in truth["pii"]}
    print(f"distinct customers: {len({t['customer_key'] for t in valid})}")
    print(f"tickets with PII: {len(with_pii)} ({len(with_pii) / len(valid):.1%})")
    print(f"PII values by type: {dict(sorted(Counter(p['type'] for p in truth['pii']).items()))}")
    for pattern in PATTERNS:
        print(f"{pattern.key}: {truth[pattern.key]}")
    print(f"Freshdesk descriptions with an email tail: {len(truth['email_tails'])}")
    for name in names:
        path = out / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"  {path.name:30} {path.stat().st_size:9,} bytes  sha256 {digest}")

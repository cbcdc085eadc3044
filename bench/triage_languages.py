"""Is a request triaged alike in every language? Per language, how many tickets get the category,
subcategory and urgency the English tickets of the same request get.

    python -m bench.triage_languages WAREHOUSE TRUTH_CSV [--prefix euro:]

WAREHOUSE: a warehouse a run built from a multilingual inbox (its stored redacted text and detected
language are triaged again by the code at hand, offline: rules and MiniLM descriptions, the learned
fallback, as the pipeline's ticket_triage); TRUTH_CSV: per ticket (`ticket_id`, `created_at`)
its language (`true_lang`) and its request (`true_intent`), as a reviewer wrote them (docs/triage.md,
2026-12-07: 400 German, French, Spanish and English tickets written from banking77 intents). The
reference of a request is what most of its English tickets get, so the English figures say how
consistent English is with itself and the others how far the other languages are from it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta

import duckdb
import pandas as pd

from bench.common import table
from ticket_intel.adapters import encoder
from ticket_intel.core.triage import triage
from ticket_intel.core.triage_config import load_triage
from ticket_intel.warehouse import queries

FIELDS = ("category", "subcategory", "urgency")


def per_language(out: pd.DataFrame) -> list[dict[str, object]]:
    """Per language, the share of tickets whose category, (category and) subcategory and urgency are
    those most English tickets of the same request get (`out`: triage joined to the truth)."""
    reference = out[out["true_lang"] == "en"].groupby("true_intent")[list(FIELDS)].agg(lambda s: s.mode()[0])
    joined = out.join(reference, on="true_intent", rsuffix="_en").dropna(subset=["category_en"])
    same = {f: joined[f] == joined[f"{f}_en"] for f in FIELDS}
    same["subcategory"] &= same["category"]
    rows = []
    for language, group in joined.groupby("true_lang"):
        rows.append({"language": language, "tickets": len(group),
                     **{f: round(float(same[f][group.index].mean()), 2) for f in FIELDS},
                     "other": round(float((group["category"] == "other").mean()), 2)})
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse")
    parser.add_argument("truth")
    parser.add_argument("--prefix", default="euro:", help="the source prefix of the warehouse's ticket ids")
    args = parser.parse_args(argv)
    truth = pd.read_csv(args.truth)
    truth["ticket_id"] = args.prefix + truth["ticket_id"].astype(str)
    monday = pd.to_datetime(truth["created_at"]).dt.normalize() - pd.to_timedelta(
        pd.to_datetime(truth["created_at"]).dt.weekday, unit="D")
    weeks = [monday.min().date() + timedelta(weeks=i) for i in range((monday.max() - monday.min()).days // 7 + 1)]
    with duckdb.connect(args.warehouse, read_only=True) as con:
        tickets = queries.triage_input(con, weeks, "")
    taxonomy, routing = load_triage()
    out = triage(tickets[["ticket_id", "text", "language", "meaning_text"]], taxonomy, routing,
                 encode=lambda texts: encoder.encode(list(texts)))
    print(table(per_language(truth.merge(out, on="ticket_id"))))


if __name__ == "__main__":
    main()

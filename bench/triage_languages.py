"""Is a request triaged alike in every language? Per language, how many tickets get the category,
subcategory and urgency the English tickets of the same request get.

    python -m bench.triage_languages WAREHOUSE TRUTH_CSV [--prefix euro:]
    python -m bench.triage_languages --translations TRANSLATIONS_CSV

WAREHOUSE: a warehouse a run built from a multilingual inbox (its stored redacted text and detected
language are triaged again by the code at hand, offline: rules and MiniLM descriptions, the learned
fallback, as the pipeline's ticket_triage); TRUTH_CSV: per ticket (`ticket_id`, `created_at`)
its language (`true_lang`) and its request (`true_intent`), as a reviewer wrote them (docs/triage.md,
2026-12-07: 400 German, French, Spanish and English tickets written from banking77 intents). The
reference of a request is what most of its English tickets get, so the English figures say how
consistent English is with itself and the others how far the other languages are from it.

--translations: banking77 test tickets (CC BY 4.0, PolyAI) translated by hand into Italian, Portuguese
and Dutch (`row`: the ticket's row in ../shared/datasets/banking77/test.csv, drawn with seed 46 after
the words of families.yaml were written; the English text is read from there). Not in the
repository: the project copies no dataset text, translated or not, outside the demo sample. Each translation's
reference is its own English ticket; the language is the one the tool detects, as ingest stores it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from bench.common import SHARED, skipped_without, table
from ticket_intel.adapters import encoder
from ticket_intel.core.language import detect_languages
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


def _triaged(tickets: pd.DataFrame) -> pd.DataFrame:
    """The tickets triaged as the pipeline's ticket_triage does offline (MiniLM, the learned fallback)."""
    taxonomy, routing = load_triage()
    return triage(tickets, taxonomy, routing, encode=lambda texts: encoder.encode(list(texts)))


def translated(path: Path) -> pd.DataFrame | None:
    """The translations and their English tickets, each with its language as detected (`language`),
    as written (`true_lang`) and its English ticket as the request (`true_intent`); None without
    ../shared."""
    english_path = SHARED / "banking77" / "test.csv"
    if skipped_without(english_path):
        return None
    foreign = pd.read_csv(path)
    english = pd.read_csv(english_path).loc[foreign["row"].unique(), ["text"]].rename_axis("row").reset_index()
    tickets = pd.concat([english.assign(language_written="en"), foreign.rename(columns={"language": "language_written"})])
    return pd.DataFrame({
        "ticket_id": [f"{lang}:{row}" for lang, row in zip(tickets["language_written"], tickets["row"], strict=True)],
        "text": tickets["text"].tolist(), "language": detect_languages(tickets["text"]),
        "true_lang": tickets["language_written"].tolist(), "true_intent": tickets["row"].tolist()})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", nargs="?")
    parser.add_argument("truth", nargs="?")
    parser.add_argument("--prefix", default="euro:", help="the source prefix of the warehouse's ticket ids")
    parser.add_argument("--translations", type=Path, metavar="CSV",
                        help="hand translations of banking77 test tickets instead (row, language, text)")
    args = parser.parse_args(argv)
    if args.translations:
        tickets = translated(args.translations)
        if tickets is not None:
            detected = (tickets["language"] == tickets["true_lang"]).mean()
            print(f"{len(tickets)} tickets, language detected as written: {detected:.0%}")
            out = _triaged(tickets[["ticket_id", "text", "language"]])
            print(table(per_language(tickets[["ticket_id", "true_lang", "true_intent"]].merge(out, on="ticket_id"))))
        return
    if not (args.warehouse and args.truth):
        parser.error("give WAREHOUSE and TRUTH_CSV, or --translations")
    truth = pd.read_csv(args.truth)
    truth["ticket_id"] = args.prefix + truth["ticket_id"].astype(str)
    monday = pd.to_datetime(truth["created_at"]).dt.normalize() - pd.to_timedelta(
        pd.to_datetime(truth["created_at"]).dt.weekday, unit="D")
    weeks = [monday.min().date() + timedelta(weeks=i) for i in range((monday.max() - monday.min()).days // 7 + 1)]
    with duckdb.connect(args.warehouse, read_only=True) as con:
        tickets = queries.triage_input(con, weeks, "")
    out = _triaged(tickets[["ticket_id", "text", "language", "meaning_text"]])
    print(table(per_language(truth.merge(out, on="ticket_id"))))


if __name__ == "__main__":
    main()

"""Reading a weekly run's window back from DuckDB for clustering (`window_embeddings`), against its
reference in the same run, alternated (which goes first swaps every repeat).

    python -m bench.window_read [--tickets 80000] [--repeats 5] [--workdir /tmp/ticket_intel_bench/window_read]

A warehouse of `--tickets` real corpus texts (../shared/datasets, as their texts for meaning) over eight
weeks, each with a random unit vector (the window of 10,000 tickets a week). The reference is the read as
it was: every word of every ticket counted, though the new-group scan only asks whether it has two.
Seconds and CPU-seconds (DuckDB's threads included) are medians; rows and vectors must be identical.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import SHARED, skipped_without, table
from ticket_intel import warehouse as wh

WEEKS = [date(2025, 1, 6) + timedelta(weeks=k) for k in range(8)]
CLUSTERING_BEFORE = """SELECT e.ticket_id, e.week_start AS ticket_week, r.product, r.language, r.customer_id,
       length(coalesce(r.meaning_text, r.text)) AS meaning_chars,
       len(regexp_extract_all(coalesce(r.meaning_text, r.text), '[^\\s[:punct:]]+')) AS meaning_words, e.embedding
FROM staging.ticket_embeddings e
JOIN staging.redacted_tickets r ON r.ticket_id = e.ticket_id AND r.week_start = e.week_start
WHERE e.week_start IN (SELECT unnest(?)) ORDER BY e.ticket_id"""


def build(path: Path, n: int) -> None:
    """The window: n real texts over WEEKS, random unit vectors."""
    from bench.synthetic import real_corpus

    rng = np.random.default_rng(0)
    texts = real_corpus()["text"].sample(n, replace=True, random_state=0).tolist()
    x = rng.normal(size=(n, 384)).astype(np.float32)
    ids = [f"t{i:07d}" for i in rng.permutation(n)]
    week = [WEEKS[i % len(WEEKS)] for i in range(n)]
    frame = pd.DataFrame({"week_start": week, "ticket_id": ids, "model": "m", "text_hash": ids,
                          "embedding": list(x / np.linalg.norm(x, axis=1, keepdims=True)), "run_id": "r"})
    redacted = frame[["ticket_id", "week_start"]].assign(created_at=pd.to_datetime(frame["week_start"]), text=texts,
                                                          meaning_text=texts, text_hash=ids)
    with wh.open_warehouse(path) as con:
        wh.ensure_embedding_schema(con, x.shape[1])
        wh.replace(con, [wh.Replace("staging.ticket_embeddings", frame, "week_start", WEEKS),
                         wh.Replace("staging.redacted_tickets", redacted, "week_start", WEEKS)])


def timed(read: Callable[[], tuple[pd.DataFrame, np.ndarray]]) -> tuple[float, float, pd.DataFrame, np.ndarray]:
    began, cpu = time.perf_counter(), time.process_time()
    rows, vectors = read()
    return time.perf_counter() - began, time.process_time() - cpu, rows, vectors


def compare(name: str, before: Callable, after: Callable, repeats: int, same: Callable) -> dict[str, object]:
    """Medians of `repeats` alternated reads, and whether the last two agree by `same`."""
    runs = [(timed(before), timed(after)) if k % 2 == 0 else tuple(reversed((timed(after), timed(before))))
            for k in range(repeats)]
    (_, _, a, va), (_, _, b, vb) = runs[-1]
    return {"read": name, "rows": len(b),
            "before_s": round(float(np.median([r[0][0] for r in runs])), 2),
            "after_s": round(float(np.median([r[1][0] for r in runs])), 2),
            "before_cpu_s": round(float(np.median([r[0][1] for r in runs])), 2),
            "after_cpu_s": round(float(np.median([r[1][1] for r in runs])), 2),
            "identical": bool(same(a, b) and np.array_equal(va, vb))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=80_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ticket_intel_bench" / "window_read")
    args = parser.parse_args(argv)
    if skipped_without(SHARED):
        return
    path = args.workdir / f"words_{args.tickets}.duckdb"
    if not path.exists():
        args.workdir.mkdir(parents=True, exist_ok=True)
        build(path, args.tickets)
    min_words = 2  # subgroups.GroupSettings().min_words

    def two_words(a: pd.DataFrame, b: pd.DataFrame) -> bool:  # counted up to min_words, exactly below it
        return a.drop(columns="meaning_words").equals(b.drop(columns="meaning_words")) and (
            a["meaning_words"].clip(upper=min_words).equals(b["meaning_words"]))

    with wh.open_warehouse(path, read_only=True) as con:
        rows = [compare("clustering (window_embeddings)", lambda: wh.read_vectors(con, CLUSTERING_BEFORE, [WEEKS]),
                        lambda: wh.window_embeddings(con, WEEKS, min_words), args.repeats, two_words)]
    print(table(rows))


if __name__ == "__main__":
    main()

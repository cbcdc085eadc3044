"""Scale: embedding all github_bug_issues titles (cold and warm) and clustering a 50k window.

    python -m bench.scale [--window 50000] [--cold-limit N] [--no-bertopic]

Embedding: cold into an empty cache (all titles, or the first --cold-limit of them, with the
rate projected to all), warm through the persistent bench cache. Clustering: the newest
--window titles, the project's clustering and BERTopic's defaults (UMAP seeded) on the same
embeddings, each in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.common import SHARED, cached_embed, in_fresh_process, table
from bench.theme_quality import bertopic_labels, project_labels, timed
from ticket_intel.core import embed


def titles() -> pd.DataFrame:
    frames = [pd.read_csv(f, usecols=["title", "created_at"]).assign(product=f.stem)
              for f in sorted((SHARED / "github_bug_issues").glob("*.csv"))]
    frame = pd.concat(frames, ignore_index=True)
    frame["title"] = frame["title"].fillna("").astype(str)
    return frame.sort_values(["created_at", "product", "title"], kind="stable").reset_index(drop=True)


def embedding_rows(texts: list[str], cold_limit: int) -> list[dict[str, object]]:
    distinct = list(dict.fromkeys(texts))
    sample = distinct[:cold_limit] if cold_limit else distinct
    embed.load_encoder(embed.DEFAULT_MODEL, embed.DEFAULT_BACKEND)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        _, embedded = cached_embed(sample, cache=Path(tmp) / "cold.duckdb")
        cold = time.perf_counter() - start
    start = time.perf_counter()
    _, warm_embedded = cached_embed(texts)
    warm = time.perf_counter() - start
    rate = len(sample) / cold
    return [
        {"run": f"cold ({embed.DEFAULT_BACKEND}, empty cache)", "texts": len(sample), "embedded": embedded,
         "seconds": round(cold, 1), "texts_per_s": round(rate, 1),
         "seconds_for_all": round(len(distinct) / rate, 1)},
        {"run": "warm (bench cache)", "texts": len(texts), "embedded": warm_embedded, "seconds": round(warm, 1),
         "texts_per_s": round(len(texts) / warm, 1), "seconds_for_all": round(warm, 1)},
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=int, default=50_000)
    parser.add_argument("--cold-limit", type=int, default=0, help="embed only the first N distinct titles cold")
    parser.add_argument("--no-bertopic", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    frame = titles()
    texts = frame["title"].tolist()
    print(f"{len(texts)} titles ({frame['title'].nunique()} distinct) from {frame['product'].nunique()} products")
    print(table(embedding_rows(texts, args.cold_limit)))
    window = texts[-args.window:]
    x, _ = cached_embed(window)
    rows = []
    (labels, seconds), _, rss = in_fresh_process(timed, project_labels, x, args.seed)
    rows.append({"method": "ticket_intel", "tickets": len(window), "themes": len(set(labels.tolist()) - {-1}),
                 "outlier_pct": round(100 * float((labels < 0).mean()), 1), "seconds": round(seconds, 1),
                 "peak_rss_mb": round(rss)})
    if not args.no_bertopic:
        (labels, seconds), _, rss = in_fresh_process(timed, bertopic_labels, x, window, args.seed)
        rows.append({"method": "bertopic", "tickets": len(window), "themes": len(set(labels.tolist()) - {-1}),
                     "outlier_pct": round(100 * float((labels < 0).mean()), 1), "seconds": round(seconds, 1),
                     "peak_rss_mb": round(rss)})
    print(f"\nclustering the newest {len(window)} titles")
    print(table(rows))


if __name__ == "__main__":
    main()

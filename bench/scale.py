"""Scale: clustering windows of 50k to 500k tickets, time, peak RSS and growth exponent.

    python -m bench.scale [--sizes 50000,100000,200000,500000] [--whole-up-to 100000] [--embedding]

Embedding 500k texts would take ~40 CPU-minutes, so the windows are built in embedding space
(`bench.synthetic.perturbed_vectors`): real vectors of every distinct text in ../shared/datasets,
resampled with Gaussian noise set so a copy is as close to its source as a real text is to its
nearest distinct neighbour. Each window is clustered in a fresh process (its peak RSS is its
own) by the shipped theme step (`theme_week.cluster_window`: the clustering, which fits on a sample
past `cluster.SAMPLE_LIMIT`, then identity and the new-group scan); up to --whole-up-to tickets the
step with a whole fit (exact neighbours for every row) runs too, as the reference. Timing the
clustering alone once hid a whole-window exact search in the new-group scan.
`exact_knn_cpu_s` estimates what an exact neighbour search over the whole window alone would cost.
The growth exponent is the least-squares
slope of log CPU seconds on log tickets: CPU time (all threads of the child) measures the work
done and, unlike wall time, hardly moves when other processes share the cores or when several
windows run at once (`--jobs`). `--embedding` adds the cold and warm embedding of all
GitHub bug titles.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from bench.common import SHARED, cached_embed, in_fresh_process, skipped_without, table
from bench.synthetic import (
    VECTORS_CACHE,
    noise_scale,
    perturbed_vectors,
    real_corpus,
    real_vectors,
    vectors_file,
)
from ticket_intel.core import embed

MAX_EXPONENT = 1.2
MAX_RSS_MB = 4096.0


def titles() -> pd.DataFrame:
    frames = [pd.read_csv(f, usecols=["title", "created_at"]).assign(product=f.stem)
              for f in sorted((SHARED / "github_bug_issues").glob("*.csv"))]
    frame = pd.concat(frames, ignore_index=True)
    frame["title"] = frame["title"].fillna("").astype(str)
    return frame.sort_values(["created_at", "product", "title"], kind="stable").reset_index(drop=True)


def embedding_rows(texts: list[str]) -> list[dict[str, object]]:
    """Cold embedding into an empty cache, then warm through the persistent bench cache."""
    distinct = list(dict.fromkeys(texts))
    with tempfile.TemporaryDirectory() as tmp:
        cached_embed(["load the model before timing"], cache=Path(tmp) / "warm_up.duckdb")
        start = time.perf_counter()
        _, embedded = cached_embed(distinct, cache=Path(tmp) / "cold.duckdb")
        cold = time.perf_counter() - start
    start = time.perf_counter()
    _, warm_embedded = cached_embed(texts)
    warm = time.perf_counter() - start
    return [
        {"run": f"cold ({embed.DEFAULT_BACKEND}, empty cache)", "texts": len(distinct), "embedded": embedded,
         "seconds": round(cold, 1), "texts_per_s": round(len(distinct) / cold, 1)},
        {"run": "warm (bench cache)", "texts": len(texts), "embedded": warm_embedded, "seconds": round(warm, 1),
         "texts_per_s": round(len(texts) / warm, 1)},
    ]


def clustered(vectors: str, n: int, seed: int, sigma: float, whole: bool) -> dict[str, Any]:
    """In the child: build an 8-week window and run the theme step on it (`theme_week.cluster_window`:
    the clustering, then identity and the new-group scan, which search neighbours too), timed in wall
    and CPU seconds; then estimate what an exact neighbour search over the whole window would cost."""
    from unittest import mock

    from ticket_intel.core import cluster, theme_week

    x, _ = perturbed_vectors(np.load(vectors), n, seed, sigma)
    cluster.import_umap()
    import hdbscan  # noqa: F401  (imports are not the clustering's cost)

    tickets = window_tickets(n)
    sized = cluster.default_params
    fit_whole = mock.patch.object(cluster, "default_params", lambda m, s: replace(sized(m, s), sample_limit=m))
    with fit_whole if whole else contextlib.nullcontext():
        start, cpu = time.perf_counter(), time.process_time()
        step = theme_week.cluster_window(tickets["ticket_week"].max(), tickets, x, [], seed)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    labels = step.clusters.set_index("ticket_id")["cluster"].reindex(tickets["ticket_id"]).fillna(-1)
    knn = knn_seconds(x, sized(n, seed).n_neighbors)
    return {"labels": labels.to_numpy(dtype=int), "seconds": seconds, "cpu_seconds": cpu, "knn_seconds": knn}


def window_tickets(n: int, weeks: int = 8) -> pd.DataFrame:
    """n tickets spread evenly over `weeks` weeks (the default window), each from its own customer."""
    first = pd.Timestamp("2026-01-05")
    ids = [f"t{i}" for i in range(n)]
    week = [(first + pd.Timedelta(weeks=int(w))).date() for w in np.arange(n) * weeks // n]
    return pd.DataFrame({"ticket_id": ids, "ticket_week": week, "customer_id": ids})


def knn_seconds(x: np.ndarray, k: int, queries: int = 2000) -> float:
    """CPU seconds of the exact neighbour search over all rows, from QUERIES of them: brute force
    costs the same per query row, so the total is that time times n / QUERIES."""
    from sklearn import config_context
    from sklearn.neighbors import NearestNeighbors

    rows = x[: min(queries, len(x))]
    with config_context(working_memory=256):  # as cluster.neighbours
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(x)
        start = time.process_time()
        index.kneighbors(rows)
    return (time.process_time() - start) * len(x) / len(rows)


def growth_exponent(sizes: Sequence[int], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(tickets): 1 is linear, 2 quadratic."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def scale_rows(vectors: Path, sizes: Sequence[int], whole_up_to: int, seed: int, jobs: int) -> list[dict[str, object]]:
    """One row per window for the shipped path, plus the whole fit as reference where it differs;
    `jobs` windows at a time, each in its own process."""
    from ticket_intel.core.cluster import SAMPLE_LIMIT

    sigma = noise_scale(np.load(vectors), seed=seed)
    print(f"noise sigma per dimension {sigma:.4f}", flush=True)
    runs = [(n, False) for n in sizes] + [(n, True) for n in sizes if SAMPLE_LIMIT < n <= whole_up_to]
    with ThreadPoolExecutor(jobs) as pool:
        done = dict(zip(runs, pool.map(lambda r: in_fresh_process(clustered, str(vectors), r[0], seed, sigma, r[1]),
                                       runs), strict=True))
    rows = []
    for n, whole in sorted(runs):
        (out, _, rss), shipped = done[(n, whole)], done[(n, False)][0]
        path = "whole (reference)" if whole else "whole (shipped)" if n <= SAMPLE_LIMIT else "fit on sample (shipped)"
        rows.append(_row(n, path, out, rss))
        if whole:
            rows[-2]["ari_vs_whole"] = round(float(adjusted_rand_score(out["labels"], shipped["labels"])), 4)
    return rows


def _row(n: int, path: str, out: dict[str, Any], rss: float) -> dict[str, object]:
    labels = out["labels"]
    return {"tickets": n, "path": path, "themes": len(set(labels.tolist()) - {-1}),
            "outlier_pct": round(100 * float((labels < 0).mean()), 1), "seconds": round(out["seconds"], 1),
            "cpu_seconds": round(out["cpu_seconds"], 1),
            "exact_knn_cpu_s": round(out["knn_seconds"], 1),
            "peak_rss_mb": round(rss), "ari_vs_whole": ""}


def verdicts(rows: Sequence[dict[str, object]]) -> list[str]:
    shipped = [r for r in rows if "shipped" in str(r["path"])]
    sizes, seconds = [int(r["tickets"]) for r in shipped], [float(r["cpu_seconds"]) for r in shipped]
    exponent = growth_exponent(sizes, seconds)
    largest = shipped[-1]
    lines = [f"growth exponent of CPU seconds, shipped path, {sizes[0]}-{sizes[-1]} tickets: {exponent:.2f} "
             f"(target <= {MAX_EXPONENT}: {'met' if exponent <= MAX_EXPONENT else 'NOT met'})",
             f"peak RSS at {largest['tickets']} tickets: {largest['peak_rss_mb']} MB "
             f"(target <= {MAX_RSS_MB:.0f}: {'met' if float(largest['peak_rss_mb']) <= MAX_RSS_MB else 'NOT met'})"]
    whole = [r for r in rows if str(r["path"]).startswith("whole")]
    if len(whole) >= 2:
        slope = growth_exponent([int(r["tickets"]) for r in whole], [float(r["cpu_seconds"]) for r in whole])
        lines.append(f"growth exponent of CPU seconds, whole fit, {whole[0]['tickets']}-{whole[-1]['tickets']}: "
                     f"{slope:.2f}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50000,100000,200000,500000")
    parser.add_argument("--whole-up-to", type=int, default=100_000, help="largest window also fitted whole")
    parser.add_argument("--vectors", type=Path, default=VECTORS_CACHE, help=".npy cache of the real vectors")
    parser.add_argument("--real-limit", type=int, default=0, help="use only the first N distinct real texts")
    parser.add_argument("--embedding", action="store_true", help="also time embedding all GitHub titles")
    parser.add_argument("--jobs", type=int, default=1, help="windows clustered at once (CPU seconds stay comparable)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if skipped_without(SHARED):
        return
    if args.embedding:
        texts = titles()["title"].tolist()
        print(table(embedding_rows(texts)))
    corpus = real_corpus(limit=args.real_limit)
    real_vectors(args.vectors, corpus)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = scale_rows(vectors_file(args.vectors, corpus), sizes, args.whole_up_to, args.seed, args.jobs)
    print(f"\nclustering windows built from real vectors plus noise, seed {args.seed}")
    print(table(rows))
    print("\n".join(verdicts(rows)))


if __name__ == "__main__":
    main()

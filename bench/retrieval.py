"""Similar-ticket retrieval: quality on banking77 and latency over 100,000 stored tickets.

Quality: every banking77 test query searches the train set (10,003 labelled customer questions)
through the shipped path (`core.retrieve`): precision@5 = share of the 5 neighbours with the
query's intent, MRR = mean of 1 / rank of the first neighbour with it. Reference: TF-IDF cosine
over the same texts. The relatedness floor that gates drafts is reported too: how often the
nearest neighbour clears it, and how often it is right when it does and when it does not.

Latency: 100,000 stored vectors made by resampling real MiniLM vectors (banking77, twcs first
tweets, GitHub issue titles) with small noise; real banking77 test queries. Per query, single
threaded as the server calls it: exact numpy (shipped, the reference), DuckDB's
`array_cosine_similarity` over the same table, and pynndescent's approximate index (build time and
recall@5 against exact).

`python -m bench.retrieval [--queries 500] [--cache-dir DIR] [--skip-ann] [--projection]`; real embeddings are cached in .npy
files under DIR (and in the shared bench cache), so a re-run embeds nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import SHARED, cached_embed, skipped_without, table
from ticket_intel.core.embed import text_hash
from ticket_intel.core.retrieve import build_index, similar, unit_rows

STORED = 100_000
NOISE = 0.25  # per-vector noise norm relative to the unit vector: cosine to its source about 0.97
GITHUB_TITLES = 4000
K = 5


def npy_embed(name: str, texts: list[str], cache_dir: Path) -> np.ndarray:
    """Vectors of `texts`, read from `<cache_dir>/<name>-<hash>.npy` when a run has stored them."""
    path = cache_dir / f"{name}-{text_hash(chr(0).join(texts))[:12]}.npy"
    if path.exists():
        return np.load(path)
    vectors, embedded = cached_embed(texts, progress=True)
    print(f"{name}: {len(texts)} texts, {embedded} newly embedded", flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def banking77() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(SHARED / "banking77" / "train.csv"), pd.read_csv(SHARED / "banking77" / "test.csv")


def real_pool_texts() -> dict[str, list[str]]:
    """First customer tweets of twcs and a seeded sample of GitHub issue titles."""
    tweets = pd.read_csv(SHARED / "twcs_sample" / "twcs_small.csv")
    first = tweets[(tweets["inbound"].astype(str) == "True") & tweets["in_response_to_tweet_id"].isna()]
    titles = pd.concat([pd.read_csv(f, usecols=["title"]) for f in sorted((SHARED / "github_bug_issues").glob("*.csv"))])
    titles = titles["title"].dropna().astype(str).drop_duplicates()
    return {"twcs": first["text"].astype(str).tolist(),
            "github": titles.sample(min(GITHUB_TITLES, len(titles)), random_state=0).tolist()}


def ranking_quality(sims: np.ndarray, query_labels: np.ndarray, stored_labels: np.ndarray) -> dict[str, float]:
    """precision@K and MRR of a (queries x stored) similarity matrix."""
    top = np.argsort(-sims, axis=1)[:, :K]
    precision = float((stored_labels[top] == query_labels[:, None]).mean())
    same = stored_labels[None, :] == query_labels[:, None]
    best_same = np.where(same, sims, -np.inf).max(axis=1)
    ranks = (sims > best_same[:, None]).sum(axis=1) + 1
    return {"precision_at_5": round(precision, 4), "mrr": round(float((1.0 / ranks).mean()), 4)}


def tfidf_sims(train: list[str], test: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)
    stored = vectorizer.fit_transform(train)
    return (vectorizer.transform(test) @ stored.T).toarray()


def quality_rows(cache_dir: Path) -> list[dict]:
    train, test = banking77()
    stored = npy_embed("banking77-train", train["text"].tolist(), cache_dir)
    queries = npy_embed("banking77-test", test["text"].tolist(), cache_dir)
    labels, query_labels = train["category"].to_numpy(), test["category"].to_numpy()
    index = build_index([str(i) for i in range(len(train))], stored, train["text"].tolist(), [""] * len(train))
    shipped = np.array([[int(m.ticket_id) for m in similar(index, q, K)] for q in queries])
    rows = [{"method": "tf-idf cosine (reference)", **ranking_quality(tfidf_sims(train["text"].tolist(),
                                                                                 test["text"].tolist()),
                                                                      query_labels, labels)},
            {"method": "MiniLM exact (shipped)", **ranking_quality(queries @ index.vectors.T, query_labels, labels)}]
    assert np.isclose((labels[shipped] == query_labels[:, None]).mean(), rows[1]["precision_at_5"], atol=1e-4)
    ref = rows[0]
    for r in rows:
        r["x_reference_p5"] = round(r["precision_at_5"] / ref["precision_at_5"], 3)
    return rows


def projection_rows(cache_dir: Path) -> list[dict]:
    """Not shipped (docs/assist.md): search through a shrinkage LDA projection learned from the
    knowledge base's own themes (the pipeline's clustering of the stored questions), alone and
    averaged with the cosine; the true intents as its classes are the upper bound no deployment has."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from ticket_intel.core.cluster import OUTLIER, cluster

    train, test = banking77()
    stored = unit_rows(npy_embed("banking77-train", train["text"].tolist(), cache_dir))
    queries = unit_rows(npy_embed("banking77-test", test["text"].tolist(), cache_dir))
    labels, query_labels = train["category"].to_numpy(), test["category"].to_numpy()
    themes = cluster(stored).labels
    cosine = queries @ stored.T
    rows = []
    for name, classes, keep in [("the knowledge base's themes", themes, themes != OUTLIER),
                                ("the true intents (upper bound)", labels, np.ones(len(labels), bool))]:
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(stored[keep], classes[keep])
        projected = unit_rows(lda.transform(queries)) @ unit_rows(lda.transform(stored)).T
        rows.append({"method": f"LDA of {name}", **ranking_quality(projected, query_labels, labels)})
        rows.append({"method": f"LDA of {name} + cosine, averaged",
                     **ranking_quality((projected + cosine) / 2, query_labels, labels)})
    return rows


def floor_rows(cache_dir: Path) -> list[dict]:
    """How the relatedness floor splits nearest neighbours into evidence and not."""
    train, test = banking77()
    stored = npy_embed("banking77-train", train["text"].tolist(), cache_dir)
    queries = npy_embed("banking77-test", test["text"].tolist(), cache_dir)
    index = build_index([str(i) for i in range(len(train))], stored, train["text"].tolist(), [""] * len(train))
    sims = queries @ index.vectors.T
    top = sims.argmax(axis=1)
    right = train["category"].to_numpy()[top] == test["category"].to_numpy()
    above = sims[np.arange(len(top)), top] > index.floor
    return [{"floor": round(index.floor, 4), "queries_above": round(float(above.mean()), 4),
             "top1_right_above": round(float(right[above].mean()), 4) if above.any() else None,
             "top1_right_below": round(float(right[~above].mean()), 4) if (~above).any() else None}]


def stored_vectors(pool: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n vectors drawn from real ones with noise of norm NOISE added: realistic neighbourhoods, no copies."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(n, pool.shape[1])).astype(np.float32)
    noise *= NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    return unit_rows(pool[rng.integers(0, len(pool), n)] + noise)


def timed(search: Callable[[np.ndarray], list[int]], queries: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    found, ms = [], []
    for q in queries:
        start = time.perf_counter()
        found.append(search(q))
        ms.append(1000 * (time.perf_counter() - start))
    return found, np.array(ms)


def numpy_search(vectors: np.ndarray) -> Callable[[np.ndarray], list[int]]:
    """The shipped path: `core.retrieve.similar` over an index built by `build_index`."""
    ids = [str(i) for i in range(len(vectors))]
    index = build_index(ids, vectors, ids, ids)
    return lambda q: [int(m.ticket_id) for m in similar(index, q, K)]


def duckdb_search(vectors: np.ndarray) -> Callable[[np.ndarray], list[int]]:
    import duckdb
    import pyarrow as pa

    dim = vectors.shape[1]
    con = duckdb.connect()
    arrow = pa.table({"row": np.arange(len(vectors)),
                      "v": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim)})
    con.register("arrow_vectors", arrow)
    con.execute(f"CREATE TABLE stored AS SELECT row, v::FLOAT[{dim}] AS v FROM arrow_vectors")
    con.unregister("arrow_vectors")
    sql = f"SELECT row FROM stored ORDER BY array_cosine_similarity(v, ?::FLOAT[{dim}]) DESC LIMIT {K}"
    return lambda q: [r[0] for r in con.execute(sql, [q.tolist()]).fetchall()]


def pynndescent_search(vectors: np.ndarray) -> Callable[[np.ndarray], list[int]]:
    from pynndescent import NNDescent

    index = NNDescent(vectors, metric="cosine", n_neighbors=30, random_state=0, low_memory=True)
    index.prepare()
    return lambda q: index.query(q[None, :], k=K)[0][0].tolist()


def latency_rows(cache_dir: Path, n_queries: int, ann: bool = True) -> list[dict]:
    train, test = banking77()
    pool = np.vstack([npy_embed("banking77-train", train["text"].tolist(), cache_dir),
                      *(npy_embed(name, texts, cache_dir) for name, texts in real_pool_texts().items())])
    vectors = stored_vectors(pool, STORED)
    queries = npy_embed("banking77-test", test["text"].tolist(), cache_dir)[:n_queries]
    builds = {"numpy exact (shipped)": numpy_search, "duckdb array_cosine_similarity": duckdb_search}
    if ann:
        builds["pynndescent (approximate)"] = pynndescent_search
    rows, exact = [], None
    for method, build in builds.items():
        start = time.perf_counter()
        search = build(vectors)
        built = time.perf_counter() - start
        search(queries[0])  # first-call compilation is build cost, not query cost
        found, ms = timed(search, queries)
        exact = exact or found
        recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact, strict=True)])
        rows.append({"method": method, "stored": STORED, "pool_real_vectors": len(pool), "build_s": round(built, 1),
                     "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
                     "p99_ms": round(float(np.percentile(ms, 99)), 2), "recall_at_5_vs_exact": round(float(recall), 4)})
    for r in rows:
        r["x_reference_p95"] = round(r["p95_ms"] / rows[0]["p95_ms"], 3)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500, help="banking77 test queries timed per method")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ticket_intel_retrieval")
    parser.add_argument("--skip-ann", action="store_true", help="time exact search and DuckDB only")
    parser.add_argument("--projection", action="store_true",
                        help="also score search through an LDA projection of the stored tickets' themes (not shipped)")
    args = parser.parse_args()
    if skipped_without(SHARED / "banking77" / "train.csv"):
        return
    print("Quality: banking77 test queries against train (same intent)\n")
    print(table(quality_rows(args.cache_dir)))
    if args.projection:
        print("\nNot shipped: search through a discriminant projection (docs/assist.md)\n")
        print(table(projection_rows(args.cache_dir)))
    print("\nRelatedness floor (drafts need a neighbour above it), banking77\n")
    print(table(floor_rows(args.cache_dir)))
    print(f"\nLatency per query over {STORED:,} stored tickets\n")
    print(table(latency_rows(args.cache_dir, args.queries, ann=not args.skip_ann)))


if __name__ == "__main__":
    main()

"""Theme quality against labelled intents: the project's clustering vs BERTopic's defaults.

    python -m bench.theme_quality --csv ../shared/datasets/banking77/train.csv \
        --csv ../shared/datasets/banking77/test.csv --text-col text --label-col category [--json]

Both methods get the same embeddings (the project's cached embedder) and run in a fresh process
each, so their seconds and peak RSS are comparable. NMI and ARI are computed over all texts with
the outliers as one group of their own, and again over the non-outliers only.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bench.common import cached_embed, in_fresh_process, read_csvs, table
from ticket_intel.core import embed


def project_labels(x: np.ndarray, seed: int) -> np.ndarray:
    """The pipeline's own clustering with its size-scaled defaults."""
    from ticket_intel.core import cluster

    return cluster.cluster(x, cluster.default_params(len(x), seed)).labels


def bertopic_labels(x: np.ndarray, docs: list[str], seed: int) -> np.ndarray:
    """BERTopic with every default except a fixed UMAP random_state (its documented way to be reproducible)."""
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    topics, _ = BERTopic(umap_model=umap_model).fit_transform(docs, embeddings=x)
    return np.asarray(topics)


def timed(fn: Any, *args: Any) -> tuple[np.ndarray, float]:
    """Run after the imports fn needs, so seconds cover the fit (numba JIT included), not imports."""
    if fn is bertopic_labels:
        import bertopic  # noqa: F401
    import hdbscan  # noqa: F401
    import umap  # noqa: F401

    start = time.perf_counter()
    labels = fn(*args)
    return labels, time.perf_counter() - start


def scores(labels: np.ndarray, truth: np.ndarray, seconds: float, rss: float) -> dict[str, Any]:
    out = labels < 0
    inliers = ~out
    return {
        "themes": len(set(labels[inliers].tolist())),
        "outlier_pct": round(100 * float(out.mean()), 2),
        "nmi": round(float(normalized_mutual_info_score(truth, labels)), 4),
        "ari": round(float(adjusted_rand_score(truth, labels)), 4),
        "nmi_inliers": round(float(normalized_mutual_info_score(truth[inliers], labels[inliers])), 4),
        "ari_inliers": round(float(adjusted_rand_score(truth[inliers], labels[inliers])), 4),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(rss, 0),
    }


def evaluate(
    texts: Sequence[str], truth: np.ndarray, seed: int = 42, bertopic: bool = True,
    backend: str = embed.DEFAULT_BACKEND,
) -> dict[str, Any]:
    x, _ = cached_embed(list(texts), backend=backend, progress=True)
    results = {}
    (labels, seconds), _, rss = in_fresh_process(timed, project_labels, x, seed)
    results["ticket_intel"] = scores(labels, truth, seconds, rss)
    if bertopic:
        (labels, seconds), _, rss = in_fresh_process(timed, bertopic_labels, x, list(texts), seed)
        results["bertopic"] = scores(labels, truth, seconds, rss)
    return results


def subset(frame: pd.DataFrame, label_col: str, labels: int, texts: int, seed: int) -> pd.DataFrame:
    """A random slice (labels first, then texts), to check the defaults away from the full dataset."""
    rng = np.random.default_rng(seed)
    if labels:
        keep = rng.choice(sorted(frame[label_col].astype(str).unique()), labels, replace=False)
        frame = frame[frame[label_col].astype(str).isin(keep)]
    if texts and texts < len(frame):
        frame = frame.iloc[np.sort(rng.choice(len(frame), texts, replace=False))]
    return frame


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", action="append", required=True, help="CSV file or glob; repeat to combine files")
    parser.add_argument("--text-col", required=True)
    parser.add_argument("--label-col", required=True)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-bertopic", action="store_true", help="skip the BERTopic reference")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--labels", type=int, default=0, help="keep a random subset of this many labels")
    parser.add_argument("--texts", type=int, default=0, help="keep a random subset of this many texts")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed for --labels / --texts")
    parser.add_argument("--backend", choices=embed.BACKENDS, default=embed.DEFAULT_BACKEND,
                        help="embedding backend (vectors cached per backend)")
    args = parser.parse_args(argv)
    frame = read_csvs(args.csv).dropna(subset=[args.text_col, args.label_col])
    frame = subset(frame, args.label_col, args.labels, args.texts, args.sample_seed)
    texts = frame[args.text_col].astype(str).tolist()
    truth = frame[args.label_col].astype(str).to_numpy()
    results = evaluate(texts, truth, args.seed, not args.no_bertopic, args.backend)
    if args.json:
        keys = ("themes", "outlier_pct", "nmi", "ari", "seconds", "peak_rss_mb")
        print(json.dumps({name: {k: r[k] for k in keys} for name, r in results.items()}))
        return
    print(f"{len(texts)} texts, {len(set(truth))} labels, seed {args.seed}, {args.backend} embeddings")
    print(table([{"method": name, **r} for name, r in results.items()]))


if __name__ == "__main__":
    main()

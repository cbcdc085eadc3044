"""Theme quality against labelled intents: the project's clustering vs BERTopic's defaults.

    python -m bench.theme_quality --csv ../shared/datasets/banking77/train.csv \
        --csv ../shared/datasets/banking77/test.csv --text-col text --label-col category [--json]
    python -m bench.theme_quality --mix --no-bertopic --sample-limit 20000

Both methods get the same embeddings (the project's cached embedder) and run in a fresh process
each, so their seconds and peak RSS are comparable. NMI and ARI are computed over all labelled
texts with the outliers as one group of their own, and again over the non-outliers only.

`--layout-epochs E` (repeatable) adds the project's clustering with E UMAP epochs (0: UMAP's own
defaults) beside the shipped `cluster.LAYOUT_EPOCHS`; `--init I` (repeatable) adds it from UMAP's
init I (e.g. pca) beside the shipped `cluster.LAYOUT_INIT`. `--slices K` scores K random label slices of
the --csv data (10 to 50 labels, seeds 0..K-1) instead of one set, and prints each method's ARI per
slice and its mean; BERTopic is skipped there.

`--sample-limit S` (repeatable) adds the project's clustering fitted on a sample of S tickets
(the path windows past `cluster.SAMPLE_LIMIT` take) and checks its ARI is within 0.02 of the
whole fit. `--mix` clusters every distinct real text of ../shared/datasets together (banking77,
twcs tweets, GitHub bug titles: `bench.synthetic.real_corpus`) and scores the banking77 rows,
the only ones labelled with a theme; the others are real unlabelled traffic around them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from bench.common import cached_embed, in_fresh_process, read_csvs, table
from ticket_intel.core import embed

ARI_TOLERANCE = 0.02  # fit-on-sample may lose at most this much ARI against the whole fit


SLICE_LABELS = (10, 15, 22, 30, 40, 50)  # labels kept by the --slices runs, cycled


def project_labels(x: np.ndarray, seed: int, sample_limit: int = 0, layout_epochs: int = -1,
                   init: str = "") -> np.ndarray:
    """The pipeline's own clustering with its size-scaled defaults (fitted on a sample past sample_limit;
    with `layout_epochs` UMAP epochs when >= 0, 0 meaning UMAP's own defaults; from UMAP init `init`)."""
    from ticket_intel.core import cluster

    params = cluster.default_params(len(x), seed)
    if sample_limit:
        params = replace(params, sample_limit=sample_limit)
    if layout_epochs >= 0:
        params = replace(params, n_epochs=layout_epochs or None)
    if init:
        params = replace(params, init=init)
    return cluster.cluster(x, params).labels


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
    """Agreement with the labels on the labelled rows (truth not None), plus cost figures."""
    labelled = np.array([t is not None for t in truth])
    labels, truth = labels[labelled], truth[labelled].astype(str)
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
    backend: str = embed.DEFAULT_BACKEND, sample_limits: Sequence[int] = (), layout_epochs: Sequence[int] = (),
    inits: Sequence[str] = (),
) -> dict[str, Any]:
    x, _ = cached_embed(list(texts), backend=backend, progress=True)
    results = {}
    for limit in (0, *sample_limits):
        (labels, seconds), _, rss = in_fresh_process(timed, project_labels, x, seed, limit)
        results[f"ticket_intel, sample {limit}" if limit else "ticket_intel"] = scores(labels, truth, seconds, rss)
    for epochs in layout_epochs:
        (labels, seconds), _, rss = in_fresh_process(timed, project_labels, x, seed, 0, epochs)
        results[f"ticket_intel, {epochs or 'UMAP default'} epochs"] = scores(labels, truth, seconds, rss)
    for init in inits:
        (labels, seconds), _, rss = in_fresh_process(timed, project_labels, x, seed, 0, -1, init)
        results[f"ticket_intel, {init} init"] = scores(labels, truth, seconds, rss)
    if bertopic:
        (labels, seconds), _, rss = in_fresh_process(timed, bertopic_labels, x, list(texts), seed)
        results["bertopic"] = scores(labels, truth, seconds, rss)
    return results


def sample_verdicts(results: dict[str, Any]) -> list[str]:
    """One line per fit-on-sample run: its ARI against the whole fit's, and whether the target is met."""
    whole = results["ticket_intel"]["ari"]
    lines = []
    for name, r in results.items():
        if ", sample " in name:
            delta = r["ari"] - whole
            verdict = "met" if delta >= -ARI_TOLERANCE else "NOT met"
            lines.append(f"{name}: ARI {r['ari']:.4f} vs whole {whole:.4f} ({delta:+.4f}); "
                         f"target within {ARI_TOLERANCE}: {verdict}")
    return lines


def subset(frame: pd.DataFrame, label_col: str, labels: int, texts: int, seed: int) -> pd.DataFrame:
    """A random slice (labels first, then texts), to check the defaults away from the full dataset."""
    rng = np.random.default_rng(seed)
    if labels:
        keep = rng.choice(sorted(frame[label_col].astype(str).unique()), labels, replace=False)
        frame = frame[frame[label_col].astype(str).isin(keep)]
    if texts and texts < len(frame):
        frame = frame.iloc[np.sort(rng.choice(len(frame), texts, replace=False))]
    return frame


def slices(args: argparse.Namespace) -> None:
    """ARI and seconds of every method on --slices random label slices, then their means."""
    frame = read_csvs(args.csv).dropna(subset=[args.text_col, args.label_col])
    rows = []
    for k in range(args.slices):
        part = subset(frame, args.label_col, SLICE_LABELS[k % len(SLICE_LABELS)], 0, k)
        truth = part[args.label_col].astype(str).to_numpy(dtype=object)
        results = evaluate(part[args.text_col].astype(str).tolist(), truth, args.seed, False, args.backend,
                           args.sample_limit, args.layout_epochs, args.init)
        rows += [{"slice": f"{SLICE_LABELS[k % len(SLICE_LABELS)]} labels, seed {k}", "texts": len(part),
                  "method": name, "ari": r["ari"], "seconds": r["seconds"]} for name, r in results.items()]
    means = pd.DataFrame(rows).groupby("method", sort=False)[["ari", "seconds"]].mean().round(4)
    print(table(rows))
    print(table([{"method": m, "mean_ari": r.ari, "mean_seconds": r.seconds} for m, r in means.iterrows()]))


def load(args: argparse.Namespace) -> tuple[list[str], np.ndarray]:
    """(texts, truth with None for unlabelled rows) from --csv files or the --mix of real datasets."""
    if args.mix:
        from bench.synthetic import real_corpus

        frame = real_corpus(limit=args.real_limit)
        truth = frame["label"].where(frame["source"] == "banking77", None).to_numpy(dtype=object)
        return frame["text"].astype(str).tolist(), truth
    if not (args.csv and args.text_col and args.label_col):
        raise SystemExit("give --csv, --text-col and --label-col, or --mix")
    frame = read_csvs(args.csv).dropna(subset=[args.text_col, args.label_col])
    frame = subset(frame, args.label_col, args.labels, args.texts, args.sample_seed)
    return frame[args.text_col].astype(str).tolist(), frame[args.label_col].astype(str).to_numpy(dtype=object)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", action="append", help="CSV file or glob; repeat to combine files")
    parser.add_argument("--text-col")
    parser.add_argument("--label-col")
    parser.add_argument("--mix", action="store_true", help="all real datasets together, scored on banking77")
    parser.add_argument("--real-limit", type=int, default=0, help="with --mix: the first N distinct real texts")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-bertopic", action="store_true", help="skip the BERTopic reference")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--labels", type=int, default=0, help="keep a random subset of this many labels")
    parser.add_argument("--texts", type=int, default=0, help="keep a random subset of this many texts")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed for --labels / --texts")
    parser.add_argument("--sample-limit", type=int, action="append", default=[],
                        help="also fit on a sample of this many tickets; repeatable")
    parser.add_argument("--layout-epochs", type=int, action="append", default=[],
                        help="also cluster with this many UMAP epochs (0: UMAP's defaults); repeatable")
    parser.add_argument("--init", action="append", default=[],
                        help="also cluster from this UMAP init (pca, random, ...); repeatable")
    parser.add_argument("--slices", type=int, default=0, help="score this many random label slices of --csv")
    parser.add_argument("--backend", choices=embed.BACKENDS, default=embed.DEFAULT_BACKEND,
                        help="embedding backend (vectors cached per backend)")
    args = parser.parse_args(argv)
    if args.slices:
        slices(args)
        return
    texts, truth = load(args)
    results = evaluate(texts, truth, args.seed, not args.no_bertopic, args.backend, args.sample_limit,
                       args.layout_epochs, args.init)
    if args.json:
        keys = ("themes", "outlier_pct", "nmi", "ari", "seconds", "peak_rss_mb")
        print(json.dumps({name: {k: r[k] for k in keys} for name, r in results.items()}))
        return
    labelled = sum(t is not None for t in truth)
    print(f"{len(texts)} texts ({labelled} labelled), {len(set(truth) - {None})} labels, seed {args.seed}, "
          f"{args.backend} embeddings")
    print(table([{"method": name, **r} for name, r in results.items()]))
    print("\n".join(sample_verdicts(results)))


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmarks: dataset paths, the persistent embedding cache, peak RSS, tables.

Benchmarks embed through the project's own cached embedder (`core.embed.embed_cached` over the
warehouse's embedding store, as the `ticket_embeddings` asset does) into a DuckDB file outside the repo, so a text is embedded once per
machine and every later run reads it back.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ticket_intel import PROJECT_ROOT
from ticket_intel import warehouse as wh
from ticket_intel.core.embed import DEFAULT_BACKEND, DEFAULT_MODEL, cache_key, embed_cached, text_hash

# Importing the embeddings asset module announces Dagster beta parameters; not news in a benchmark.
warnings.filterwarnings("ignore", message=".*is currently in beta")

SHARED = PROJECT_ROOT.parent / "shared" / "datasets"


def skipped_without(path: Path) -> bool:
    """True, after one line saying so, when `path` (data under ../shared) is absent: a benchmark
    then skips cleanly instead of failing."""
    if path.exists():
        return False
    print(f"skipped: {path} not available")
    return True

BENCH_CACHE = Path(os.environ.get(
    "TICKET_INTEL_BENCH_CACHE", Path.home() / ".cache" / "ticket_intel" / "bench.duckdb"))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux's VmHWM when available: `ru_maxrss` survives fork and exec, so a child started by a
    parent holding gigabytes would report the parent's peak as its own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_csvs(patterns: Sequence[str]) -> pd.DataFrame:
    """Concatenate every CSV matched by the given paths or globs, in the order given."""
    files = [f for p in patterns for f in (sorted(glob.glob(p)) or [p])]
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def _connect(path: Path, attempts: int = 120) -> duckdb.DuckDBPyConnection:
    """Open the cache, waiting while another bench process holds its write lock."""
    for _ in range(attempts - 1):
        try:
            return wh.connect(path)
        except duckdb.IOException:
            time.sleep(1.0)
    return wh.connect(path)


def cached_embed(
    texts: Sequence[str], model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND,
    cache: Path = BENCH_CACHE, chunk: int = 2048, batch_size: int = 64, progress: bool = False,
) -> tuple[np.ndarray, int]:
    """(vectors in input order, texts newly embedded); committed chunk by chunk so a long run resumes."""
    from ticket_intel.adapters import encoder

    encode = partial(encoder.encode, model=model, batch_size=batch_size, backend=backend)
    hashes = [text_hash(t) for t in texts]
    vectors: dict[str, np.ndarray] = {}
    embedded = 0
    for start in range(0, len(texts), chunk):
        con = _connect(cache)
        try:
            got, n = embed_cached(hashes[start:start + chunk], list(texts[start:start + chunk]),
                                  wh.EmbeddingStore(con, cache_key(model, backend)), encode)
        finally:
            con.close()
        vectors.update(got)
        embedded += n
        if progress and n:
            print(f"  embedded {embedded} new texts ({start + len(got)}/{len(texts)})", flush=True)
    dim = len(next(iter(vectors.values()))) if vectors else 0
    return (np.stack([vectors[h] for h in hashes]) if hashes else np.zeros((0, dim), np.float32)), embedded


def test_queries(dataset: Path, size: int, seed: int) -> pd.DataFrame | None:
    """`size` of a labelled dataset's test queries (`text`, `category`), drawn with `seed`; None,
    after one line saying so, when the dataset is absent."""
    if skipped_without(dataset):
        return None
    return pd.read_csv(dataset / "test.csv").sample(size, random_state=seed)


def add_clustering_args(parser: argparse.ArgumentParser) -> None:
    """`--seed` (the sample's and the first clustering's) and `--runs` (clusterings per row)."""
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="clusterings per row, seeded seed, seed+1, ...")


def clustering_seeds(args: argparse.Namespace) -> range:
    return range(args.seed, args.seed + args.runs)


def themes_against(texts: Sequence[str], truth: np.ndarray, seeds: Sequence[int]) -> dict[str, float]:
    """The pipeline's clustering (`cluster.cluster`) of texts for meaning, scored against labels:
    themes, outlier share (tickets with nothing to read count as outliers) and ARI (outliers as one
    group), means over `seeds`: a handful of changed texts moves one clustering's ARI by a few
    hundredths."""
    from sklearn.metrics import adjusted_rand_score

    from ticket_intel.core import cluster

    said = np.array([bool(t) for t in texts])
    x, _ = cached_embed([t for t in texts if t])
    runs = []
    for seed in seeds:
        labels = np.full(len(texts), cluster.OUTLIER)
        labels[said] = cluster.cluster(x, cluster.default_params(len(x), seed)).labels
        runs.append((len(set(labels.tolist()) - {cluster.OUTLIER}), 100 * float((labels == cluster.OUTLIER).mean()),
                     float(adjusted_rand_score(truth, labels))))
    themes, outliers, ari = np.mean(runs, axis=0)
    return {"themes": round(float(themes), 1), "outlier_pct": round(float(outliers), 1), "ari": round(float(ari), 3)}


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    """(what `step` returned, its wall seconds)."""
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def _measured(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, float, float]:
    result, seconds = timed(lambda: fn(*args))
    return result, seconds, peak_rss_mb()


def child_main(job: str) -> None:
    """Entry point of the process `in_fresh_process` starts: run the pickled call, pickle the result."""
    path = Path(job)
    fn, args = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps(_measured(fn, args)))


def _importable(obj: Any) -> Any:
    """A function of a module run with `python -m` by the name the child process can import."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if callable(obj) and getattr(obj, "__module__", None) == "__main__" and spec is not None:
        return getattr(importlib.import_module(spec.name), obj.__name__)
    return obj


def in_fresh_process(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """Run `fn(*args)` in a new interpreter: (result, seconds inside it, that process's peak RSS in MB).

    A fresh process per method keeps one method's memory from inflating the other's peak. It is a
    plain subprocess, not a multiprocessing worker: joblib's worker pool (HDBSCAN's default
    core-distance parallelism, used by BERTopic) hung inside a multiprocessing worker at 50k rows.
    """
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.pkl"
        job.write_bytes(pickle.dumps((_importable(fn), tuple(_importable(a) for a in args))))
        code = f"from bench.common import child_main; child_main({str(job)!r})"
        subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)
        return pickle.loads(job.read_bytes())


def per_warehouse(figures: Callable[[duckdb.DuckDBPyConnection], dict[str, object]], doc: str,
                  argv: Sequence[str] | None = None) -> None:
    """A bench over warehouses named on its command line: one row of `figures` each, read-only."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouses", nargs="+")
    rows = []
    for path in parser.parse_args(argv).warehouses:
        with duckdb.connect(path, read_only=True) as con:
            rows.append({"warehouse": path, **figures(con)})
    print(table(rows))


def table(rows: Sequence[dict[str, Any]], float_format: str = "{}") -> str:
    """A Markdown table of dict rows (columns in first-row order), floats through `float_format`."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[float_format.format(v) if isinstance(v, float) else str(v) for v in (r[c] for c in cols)]
             for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |",
             "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |" for row in cells]
    return "\n".join(lines)

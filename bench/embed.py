"""Embedding speed: the project's embedder vs plain `SentenceTransformer.encode`, and UMAP start-up.

    python -m bench.embed [--csv ../shared/datasets/banking77/test.csv --text-col text] [--limit N]

Table 1 embeds the same texts with plain `SentenceTransformer.encode` (the reference) and with the
project's cached embedder per backend into an empty cache (cold), then once more into the filled
cache (warm). Models are loaded (and the ONNX files built) before timing. Cosine is to the
reference vectors. Table 2 starts fresh processes that cluster a 1,600-ticket window (the sample's
window size): the first ever with an empty numba cache, then again with that cache, once with
umap imported as shipped and once through `cluster.import_umap`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SHARED, cached_embed, read_csvs, skipped_without, table
from ticket_intel import PROJECT_ROOT
from ticket_intel.adapters import encoder
from ticket_intel.core import embed


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def speed(texts: list[str], batch_size: int) -> list[dict[str, Any]]:
    st = encoder.load_sentence_transformer(embed.DEFAULT_MODEL)
    start = time.perf_counter()
    reference = st.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    plain = time.perf_counter() - start
    rows = [{"method": "SentenceTransformer.encode", "cache": "-", "texts": len(texts), "embedded": len(texts),
             "seconds": round(plain, 1), "texts_per_s": _rate(len(texts), plain), "vs_plain": 1.0,
             "cos_min": 1.0, "cos_mean": 1.0}]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in embed.BACKENDS:
            encoder.load_encoder(embed.DEFAULT_MODEL, backend)
            cache = Path(tmp) / f"{backend}.duckdb"
            runs = ("cold", "warm") if backend == embed.DEFAULT_BACKEND else ("cold",)
            for run in runs:
                start = time.perf_counter()
                vectors, embedded = cached_embed(texts, backend=backend, cache=cache, chunk=len(texts),
                                                 batch_size=batch_size)
                seconds = time.perf_counter() - start
                cos = (vectors * reference).sum(axis=1)
                rows.append({"method": f"ticket_intel {backend}", "cache": run, "texts": len(texts),
                             "embedded": embedded, "seconds": round(seconds, 1),
                             "texts_per_s": _rate(len(texts), seconds), "vs_plain": round(plain / seconds, 2),
                             "cos_min": round(float(cos.min()), 4), "cos_mean": round(float(cos.mean()), 4)})
    return rows


def startup_child(mode: str, vectors: str) -> None:
    """Runs in a fresh process: seconds to import, to cluster once, and to cluster again."""
    start = time.perf_counter()
    from ticket_intel.core import cluster

    if mode == "as shipped":
        import umap  # noqa: F401  (imported first, so import_umap finds it and changes nothing)
    cluster.import_umap()
    import hdbscan  # noqa: F401

    x = np.load(vectors)
    imported = time.perf_counter()
    cluster.cluster(x)
    first = time.perf_counter()
    cluster.cluster(x)
    second = time.perf_counter()
    print(json.dumps({"import": imported - start, "first": first - imported, "again": second - first}))


def startup(x: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, x)
        for mode in ("as shipped", "import_umap"):
            cache = Path(tmp) / mode.replace(" ", "_")
            for run in ("first ever (empty cache)", "next process (warm cache)"):
                env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}
                code = f"from bench.embed import startup_child; startup_child({mode!r}, {str(path)!r})"
                out = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
                t = json.loads(out)
                rows.append({"umap import": mode, "process": run, "import_s": round(t["import"], 1),
                             "first_cluster_s": round(t["first"], 1), "same_again_s": round(t["again"], 1),
                             "start_up_cost_s": round(t["import"] + t["first"] - t["again"], 1)})
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", action="append", help="CSV file or glob (default: banking77 test.csv)")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--limit", type=int, default=0, help="first N texts only")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-startup", action="store_true", help="skip the UMAP start-up table")
    args = parser.parse_args(argv)
    if not args.csv and skipped_without(SHARED / "banking77" / "test.csv"):
        return
    frame = read_csvs(args.csv or [str(SHARED / "banking77" / "test.csv")])
    texts = frame[args.text_col].dropna().astype(str).drop_duplicates().tolist()
    texts = texts[: args.limit] if args.limit else texts
    words = np.mean([len(t.split()) for t in texts])
    print(f"{len(texts)} distinct texts, {words:.1f} words on average, {os.cpu_count()} CPUs")
    print(table(speed(texts, args.batch_size)))
    if not args.no_startup:
        x, _ = cached_embed(texts[:1600])
        print(f"\nUMAP + HDBSCAN start-up in a fresh process, {len(x)}-ticket window")
        print(table(startup(x)))


if __name__ == "__main__":
    main()

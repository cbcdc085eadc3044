"""N tickets of real customer language from ../shared/datasets, for benchmarks past the data's own size.

The real corpus is every distinct text of banking77 (train + test, labelled with 77 intents),
the inbound tweets of twcs_sample (labelled with nothing) and the GitHub bug titles (labelled with
their product, which is not a theme): about 70k texts. Two ways to grow it:

- `tickets(n, seed)`: real texts resampled with light textual perturbation (a word dropped,
  two adjacent words swapped, or a short tail added), so every text is distinct and still reads
  like the original. For pipeline benchmarks, which must embed what they ingest.
- `perturbed_vectors(x, n, seed)`: real vectors resampled with Gaussian noise, renormalised. For
  clustering benchmarks, where embedding 500k texts would cost ~40 CPU-minutes; the noise is set
  from the data (see `noise_scale`) so a copy lies as close to its source as a real text lies to
  its nearest distinct real neighbour.

    python -m bench.synthetic [--cache /tmp/scale/real_vectors.npy]   # embed the corpus once, cache it
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import SHARED, cached_embed, skipped_without

VECTORS_CACHE = Path(tempfile.gettempdir()) / "ticket_intel_bench" / "real_vectors.npy"  # see vectors_file

TAILS = ("please help", "any update?", "thanks", "still happening", "again", "asap")


def real_corpus(shared: Path = SHARED, limit: int = 0) -> pd.DataFrame:
    """Distinct real texts with `source` and `label` (the banking77 intent; the product for GitHub).

    In a fixed order (banking77, twcs, GitHub files by name); `limit` keeps the first that many, to
    bound the one-time embedding on a busy machine.
    """
    banking = pd.concat([pd.read_csv(shared / "banking77" / f) for f in ("train.csv", "test.csv")])
    twcs = pd.read_csv(shared / "twcs_sample" / "twcs_small.csv")
    tweets = twcs.loc[twcs["inbound"].astype(str) == "True", "text"]
    github = pd.concat([pd.read_csv(f, usecols=["title"]).assign(label=f.stem)
                        for f in sorted((shared / "github_bug_issues").glob("*.csv"))])
    frame = pd.concat([
        pd.DataFrame({"text": banking["text"], "source": "banking77", "label": banking["category"]}),
        pd.DataFrame({"text": tweets, "source": "twcs", "label": None}),
        pd.DataFrame({"text": github["title"], "source": "github", "label": github["label"]}),
    ], ignore_index=True)
    frame["text"] = frame["text"].astype("string").str.strip()
    frame = frame[frame["text"].fillna("").str.len() > 0]
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    return frame.head(limit) if limit else frame


def _perturb(text: str, rng: np.random.Generator) -> str:
    """One light edit that keeps the meaning: drop a word, swap two neighbours, or add a short tail."""
    words = text.split()
    edit = int(rng.integers(3)) if len(words) > 3 else 2
    if edit == 0:
        del words[int(rng.integers(len(words)))]
    elif edit == 1:
        i = int(rng.integers(len(words) - 1))
        words[i], words[i + 1] = words[i + 1], words[i]
    else:
        words.append(TAILS[int(rng.integers(len(TAILS)))])
    return " ".join(words)


def tickets(n: int, seed: int = 0, corpus: pd.DataFrame | None = None) -> pd.DataFrame:
    """n distinct ticket texts: the real corpus first (shuffled), then perturbed resamples of it; each
    row names its source text (`corpus_row`, a position in the corpus) and whether it was `perturbed`."""
    corpus = real_corpus() if corpus is None else corpus
    rng = np.random.default_rng(seed)
    first = rng.permutation(len(corpus))[:n]
    out, seen = [corpus.iloc[first].assign(corpus_row=first, perturbed=False)], set(corpus["text"].iloc[first])
    while sum(len(f) for f in out) < n:
        source = rng.integers(len(corpus), size=n - sum(len(f) for f in out))
        texts = [_perturb(t, rng) for t in corpus["text"].iloc[source]]
        fresh = [t not in seen and not seen.add(t) for t in texts]
        out.append(corpus.iloc[source].assign(text=texts, corpus_row=source, perturbed=True)[fresh])
    return pd.concat(out, ignore_index=True).iloc[:n].reset_index(drop=True)


def noise_scale(x: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Per-dimension noise sigma so a copy's cosine to its source is the median nearest-neighbour cosine.

    For a unit vector plus isotropic noise of norm r (nearly orthogonal in high dimension), the
    cosine to the original is 1/sqrt(1 + r^2); r is solved from the median cosine between a sample
    of real vectors and their nearest other real vector.
    """
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(x), min(sample, len(x)), replace=False)
    sims = x[rows] @ x.T
    sims[np.arange(len(rows)), rows] = -np.inf
    cos = float(np.median(sims.max(axis=1)))
    return float(np.sqrt(1.0 / cos**2 - 1.0) / np.sqrt(x.shape[1]))


def perturbed_vectors(x: np.ndarray, n: int, seed: int = 0, sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n unit vectors, index of each one's source row): resampled real vectors plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    sigma = noise_scale(x, seed=seed) if sigma is None else sigma
    source = rng.integers(len(x), size=n)
    out = np.empty((n, x.shape[1]), dtype=np.float32)
    for start in range(0, n, 65_536):  # in blocks, so the float64 noise never exists for all n at once
        rows = source[start:start + 65_536]
        block = x[rows] + rng.normal(scale=sigma, size=(len(rows), x.shape[1]))
        out[start:start + len(rows)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, source


def real_vectors(cache: Path | None = None, corpus: pd.DataFrame | None = None) -> np.ndarray:
    """Embeddings of the real corpus in `real_corpus` order (bench embedding cache, plus an optional
    .npy beside `cache`, see `vectors_file`)."""
    corpus = real_corpus() if corpus is None else corpus
    path = None if cache is None else vectors_file(cache, corpus)
    if path is not None and path.exists():
        return np.load(path)
    x, _ = cached_embed(corpus["text"].tolist(), chunk=256, progress=True)  # short write locks: readers wait less
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.npy")
        np.save(partial, x)
        partial.replace(path)  # whole or absent: another benchmark may be reading it
    return x


def vectors_file(cache: Path, corpus: pd.DataFrame) -> Path:
    """The .npy of this corpus's vectors, named after `cache` and a digest of the texts: benchmarks
    running at once on different corpora (--real-limit) each read their own."""
    digest = hashlib.sha1("\n".join(corpus["text"]).encode()).hexdigest()[:12]
    return cache.with_name(f"{cache.stem}-{digest}{cache.suffix}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=VECTORS_CACHE)
    parser.add_argument("--real-limit", type=int, default=0, help="use only the first N distinct real texts")
    args = parser.parse_args(argv)
    if skipped_without(SHARED):
        return
    corpus = real_corpus(limit=args.real_limit)
    x = real_vectors(args.cache, corpus)
    print(f"{len(corpus)} distinct real texts ({corpus['source'].value_counts().to_dict()}), vectors {x.shape}")
    print(f"noise sigma per dimension: {noise_scale(x):.4f}")


if __name__ == "__main__":
    main()

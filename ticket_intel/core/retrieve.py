"""The k past resolved tickets most similar to a new one, by exact cosine search.

Vectors are L2-normalised, so cosine similarity is one matrix-vector product; the k best rows are
picked with `argpartition` (linear time) and only those are sorted. Exact search was chosen over
an approximate index (`python -m bench.retrieval` measures both): over 100,000 stored tickets a
query costs a few milliseconds on one core, well inside the 100 ms budget, with perfect recall,
no index to build, tune or keep in sync, and no extra package. An ANN index (pynndescent, hnswlib)
pays off only at millions of vectors, and costs minutes of build time and some recall.

The **relatedness floor** guards drafts: a neighbour is only evidence when it is closer than
unrelated tickets usually are. The floor is a high quantile of the similarity between random
pairs of stored tickets, so it adapts to the corpus (short banking questions are all somewhat
alike; GitHub titles of different products are not) instead of being a fixed number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ticket_intel.core.meaning import meaning_text

FLOOR_QUANTILE = 0.99  # closer than 99 % of random pairs
# Why an empty knowledge base is empty (what `similar` prints, and the note of a draft it cannot ground).
NOTHING_TO_READ = ("the text has nothing to read (only a greeting, handles, links or redacted values, or a call's "
                   "record without its words): no resolved ticket is like it")
EMPTY_KNOWLEDGE_BASE = ("no resolved tickets in the knowledge base yet: it holds tickets a public agent reply "
                        "answered, and no agent reply in the exports answered a ticket (a reply whose "
                        "conversation's first message is not in the exports answers none)")
NO_AGENT_REPLY = ("no resolved tickets in the knowledge base: it holds tickets a public agent reply answered, and "
                  "the exports hold no agent reply (an issue tracker's titles, a web form's messages)")
FLOOR_PAIRS = 20_000
SEED = 0


@dataclass(frozen=True)
class Match:
    """One similar resolved ticket: the shape of `ticket-intel similar --format json`."""

    ticket_id: str
    similarity: float
    text: str
    resolution: str

    def related(self, floor: float) -> bool:
        """Closer than unrelated tickets usually are (the knowledge base's relatedness floor): evidence
        of the same issue, which a draft may cite."""
        return self.similarity > floor

    def as_dict(self, floor: float) -> dict[str, object]:
        return {"ticket_id": self.ticket_id, "similarity": round(self.similarity, 4), "text": self.text,
                "resolution": self.resolution, "related": self.related(floor)}


@dataclass(frozen=True)
class Index:
    """Resolved tickets held in memory for search: ids, unit vectors, texts and resolutions."""

    ticket_ids: list[str]
    vectors: np.ndarray
    texts: list[str]
    resolutions: list[str]
    floor: float
    replies: bool = True  # whether its exports hold a public agent reply: why it is empty, when it is

    def __len__(self) -> int:
        return len(self.ticket_ids)

    @property
    def why_empty(self) -> str:
        return EMPTY_KNOWLEDGE_BASE if self.replies else NO_AGENT_REPLY


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Vectors (one, or one per row) scaled to length 1, so dot products are cosines."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)


def relatedness_floor(vectors: np.ndarray, quantile: float = FLOOR_QUANTILE, pairs: int = FLOOR_PAIRS) -> float:
    """The `quantile` of cosine similarity between random distinct pairs of rows (deterministic)."""
    n = len(vectors)
    if n < 2:
        return 1.0
    rng = np.random.default_rng(SEED)
    a = rng.integers(0, n, pairs)
    b = (a + rng.integers(1, n, pairs)) % n  # never a row with itself
    sims = np.einsum("ij,ij->i", vectors[a], vectors[b])
    return float(np.quantile(sims, quantile))


def build_index(ticket_ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str],
                resolutions: Sequence[str]) -> Index:
    """An index over the knowledge base; vectors are normalised again (cheap, and a stored vector
    from another tool need not be)."""
    n = len(ticket_ids)
    if not (len(texts) == len(resolutions) == n and (n == 0 or len(vectors) == n)):
        raise ValueError(f"index parts differ in length: {n} ids, {len(vectors)} vectors, "
                         f"{len(texts)} texts, {len(resolutions)} resolutions")
    unit = unit_rows(vectors) if n else np.zeros((0, 0), dtype=np.float32)
    # A question asked many times is one question: its copies are no random pair, and a helpdesk
    # that answers the same twelve questions had a floor of 1.0, above its own exact matches.
    _, distinct = np.unique(np.asarray(texts, dtype=object), return_index=True)
    return Index(list(ticket_ids), unit, list(texts), list(resolutions), relatedness_floor(unit[np.sort(distinct)]))


def cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's cosine with one unit `query`. numpy's own single-threaded loop, not BLAS: one query
    is a memory-bound matrix-vector product, and a multi-threaded BLAS waits on a second core that a
    busy machine does not give it (measured on 2 shared cores: 30 ms instead of 1.3 ms over 10,000
    vectors)."""
    return np.einsum("ij,j->i", vectors, query)


def best(sims: np.ndarray, k: int) -> np.ndarray:
    """The rows of the k highest `sims`, best first: `argpartition` (linear time), then only those sorted."""
    k = min(k, len(sims))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
    return rows[np.argsort(-sims[rows], kind="stable")]


def similar(index: Index, query: np.ndarray, k: int = 5, exclude: str | None = None, text: str | None = None
            ) -> list[Match]:
    """The k resolved tickets most similar to `query` (a vector), best first; `exclude` is the
    asking ticket's own id, never its own neighbour. `text`, the query's redacted text when the
    caller has it: one with nothing to read asks nothing, and matches nothing (`NOTHING_TO_READ`;
    its vector is the empty text's, and "Hi there" met every call's record at similarity 1)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if text is not None and not meaning_text(text):
        return []
    if len(index) and query.shape[-1] != index.vectors.shape[1]:
        raise ValueError(f"query has {query.shape[-1]} dimensions, the knowledge base {index.vectors.shape[1]}")
    if not len(index):
        return []
    sims, read = cosines(index.vectors, unit_rows(query)), k + (exclude is not None)
    while True:  # one of each question and answer, the closest: copies are read past, as far as they go
        rows = best(sims, read)
        found: dict[tuple[str, str], Match] = {}
        for r, s in zip(rows, sims[rows], strict=True):
            if index.ticket_ids[r] != exclude:
                found.setdefault((index.texts[r], index.resolutions[r]),
                                 Match(index.ticket_ids[r], float(s), index.texts[r], index.resolutions[r]))
        if len(found) >= k or read >= len(index):
            return list(found.values())[:k]
        read *= 4

"""Group ticket embeddings into themes a person can read: UMAP, HDBSCAN, merge, soft-assign.

1. UMAP (cosine, 15 neighbours, 5 dimensions, min_dist 0) condenses the embeddings so density
   is measurable; it is seeded, so a window and a seed always give the same layout.
2. HDBSCAN finds dense groups. Its minimum cluster size grows with the window, sqrt(n)/2 (at
   least 5, the smallest group the ranking counts as a theme): a window of n tickets can then
   hold at most 2*sqrt(n) themes, tens for the thousands of tickets of a weekly window rather
   than BERTopic's hundreds of 10-ticket fragments. min_samples is a third of that, so HDBSCAN
   is less conservative about noise than its default (min_samples = min_cluster_size).
3. HDBSCAN splits one large theme into pieces when its phrasings form sub-groups. Pieces of one
   theme interpenetrate and face each other, while two themes meet at a thin boundary and each
   borders several others. On the k-nearest-neighbour graph (the one UMAP built) two clusters
   are merged when (a) members of the smaller have on average at least `MERGE_SHARED` of their
   k neighbours in the other, and (b) for one of the two, the other receives most (over half) of
   the links that leave it. (a) alone joins loosely separated themes into a few blobs on diffuse
   data (GitHub bug titles); (b) alone joins a small theme to its one big neighbour.
4. Noise points join the nearest theme centroid (cosine, in the embedding space) when their
   similarity is inside that theme's own range: above the lower Tukey fence (Q1 - 1.5 IQR) of
   its members' similarities, the textbook rule for "not an outlier of this distribution".
   Points outside every fence stay outliers and are reported as such.
Clusters are numbered by size, so the same input and seed give the same labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OUTLIER = -1
MERGE_SHARED = 2
TUKEY_K = 1.5


@dataclass(frozen=True)
class ClusterParams:
    min_cluster_size: int
    min_samples: int
    n_neighbors: int = 15
    n_components: int = 5
    seed: int = 42


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster per row, OUTLIER for noise
    probabilities: np.ndarray  # HDBSCAN membership strength; 0 for soft-assigned rows
    assignment: list[str]  # "core", "soft" or "outlier"

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels.tolist()) - {OUTLIER})


def default_params(n: int, seed: int = 42) -> ClusterParams:
    """Size-scaled defaults: min cluster size sqrt(n)/2 (at least 5), min_samples a third of it."""
    mcs = max(5, round(math.sqrt(max(n, 1)) / 2))
    return ClusterParams(min_cluster_size=mcs, min_samples=max(3, mcs // 3), seed=seed)


def neighbours(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine distances) of each row's k nearest rows, itself first, as UMAP expects.

    Exact below UMAP's own 4,096-row cut-off, NN-descent (UMAP's routine) above it.
    """
    if len(x) < 4096:
        dist = 1.0 - x @ x.T
        np.fill_diagonal(dist, -np.inf)
        idx = np.argsort(dist, axis=1, kind="stable")[:, :k]
        return idx, np.take_along_axis(np.maximum(dist, 0.0), idx, axis=1)
    from sklearn.utils import check_random_state
    from umap.umap_ import nearest_neighbors

    idx, dist, _ = nearest_neighbors(x, k, "cosine", {}, True, check_random_state(seed), low_memory=True)
    return idx, dist


def reduce(x: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, np.ndarray]:
    """(5-d layout, neighbour indices without self): one neighbour search serves UMAP and merging."""
    import umap

    k = min(params.n_neighbors, len(x) - 1)
    knn = neighbours(x, k, params.seed)
    reducer = umap.UMAP(
        n_neighbors=k,
        n_components=params.n_components,
        metric="cosine",
        min_dist=0.0,
        random_state=params.seed,
        init="spectral" if len(x) > params.n_components + 1 else "random",
        precomputed_knn=knn if len(x) >= 4096 else (None, None, None),
    )
    return reducer.fit_transform(x), knn[0][:, 1:]


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number clusters by size (largest first, ties by first row) so output is stable."""
    ids = [c for c in set(labels.tolist()) if c != OUTLIER]
    ids.sort(key=lambda c: (-int((labels == c).sum()), int(np.argmax(labels == c))))
    mapping = {old: new for new, old in enumerate(ids)}
    return np.array([mapping.get(c, OUTLIER) for c in labels.tolist()], dtype=int)


def centroids(x: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Unit-length mean vector per cluster."""
    out = {}
    for c in sorted(set(labels.tolist()) - {OUTLIER}):
        v = x[labels == c].mean(axis=0)
        out[c] = v / (np.linalg.norm(v) or 1.0)
    return out


def fences(x: np.ndarray, labels: np.ndarray, cents: dict[int, np.ndarray]) -> dict[int, float]:
    """Per cluster, the lower Tukey fence of its members' cosine similarity to the centroid."""
    out = {}
    for c, v in cents.items():
        q1, q3 = np.quantile(x[labels == c] @ v, [0.25, 0.75])
        out[c] = float(q1 - TUKEY_K * (q3 - q1))
    return out


def merge_interpenetrating(labels: np.ndarray, knn: np.ndarray, shared: int = MERGE_SHARED) -> np.ndarray:
    """Join cluster pairs that are pieces of one theme (see the module docstring), transitively.

    A pair qualifies when members of the smaller cluster have on average >= `shared` of their
    neighbours in the other, and the other receives most of the links leaving one of the two.
    Pairs are judged on HDBSCAN's clusters, not on merged ones, so a growing cluster cannot
    swallow its surroundings one neighbour at a time.
    """
    ids = sorted(set(labels.tolist()) - {OUTLIER})
    if len(ids) < 2:
        return labels
    pos = {c: i for i, c in enumerate(ids)}
    rows = np.flatnonzero(labels != OUTLIER)
    dst = labels[knn[rows]]
    src = np.repeat(labels[rows], knn.shape[1]).reshape(dst.shape)
    keep = dst != OUTLIER
    edges = np.zeros((len(ids), len(ids)))
    np.add.at(edges, (np.array([pos[c] for c in src[keep]]), np.array([pos[c] for c in dst[keep]])), 1.0)
    sizes = np.array([(labels == c).sum() for c in ids], dtype=float)
    leaving = edges.sum(axis=1) - np.diag(edges)
    root = list(range(len(ids)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            mixed = edges[a, b] + edges[b, a] >= shared * min(sizes[a], sizes[b])
            dominant = edges[a, b] > leaving[a] / 2 or edges[b, a] > leaving[b] / 2
            if mixed and dominant:
                ra, rb = find(a), find(b)
                root[max(ra, rb)] = min(ra, rb)
    mapping = {c: ids[find(pos[c])] for c in ids}
    return np.array([mapping.get(c, OUTLIER) for c in labels.tolist()], dtype=int)


def soft_assign(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attach each noise point to its nearest centroid when it lies inside that cluster's fence."""
    cents = centroids(x, labels)
    soft = np.zeros(len(labels), dtype=bool)
    noise = np.flatnonzero(labels == OUTLIER)
    if not cents or not len(noise):
        return labels, soft
    ids = np.array(list(cents))
    floor = fences(x, labels, cents)
    sims = x[noise] @ np.stack([cents[c] for c in ids]).T
    best = sims.argmax(axis=1)
    inside = sims[np.arange(len(noise)), best] >= np.array([floor[c] for c in ids])[best]
    out = labels.copy()
    out[noise[inside]] = ids[best[inside]]
    soft[noise[inside]] = True
    return out, soft


def cluster(x: np.ndarray, params: ClusterParams | None = None) -> ClusterResult:
    """Cluster L2-normalised embeddings; deterministic for a given seed."""
    n = len(x)
    params = params or default_params(n)
    if n < 2 * params.min_cluster_size or n <= params.n_components + 2:
        return ClusterResult(np.full(n, OUTLIER), np.zeros(n), ["outlier"] * n)
    import hdbscan

    layout, knn = reduce(x, params)
    model = hdbscan.HDBSCAN(
        min_cluster_size=params.min_cluster_size,
        min_samples=params.min_samples,
        cluster_selection_method="eom",
    ).fit(layout)
    merged = merge_interpenetrating(model.labels_, knn)
    labels, soft = soft_assign(x, _relabel(merged))
    assignment = ["soft" if s else ("outlier" if lab == OUTLIER else "core")
                  for lab, s in zip(labels, soft, strict=True)]
    probs = np.where(soft, 0.0, model.probabilities_)
    return ClusterResult(labels=labels, probabilities=probs, assignment=assignment)

"""Group ticket embeddings into themes: UMAP (cosine) to a few dimensions, then HDBSCAN.

Parameters scale with the window's size so a product manager reads tens of themes, not
hundreds: the minimum cluster size grows with sqrt(n). Points HDBSCAN leaves as noise are
softly assigned to the nearest theme when they are as close to its centroid as the theme's
own members typically are; the rest stay outliers and are reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OUTLIER = -1


@dataclass(frozen=True)
class ClusterParams:
    min_cluster_size: int
    min_samples: int
    n_neighbors: int = 15
    n_components: int = 5
    seed: int = 42
    soft_quantile: float = 0.1


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster per row, OUTLIER for noise
    probabilities: np.ndarray
    assignment: list[str]  # "core", "soft" or "outlier"

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels.tolist()) - {OUTLIER})


def default_params(n: int, seed: int = 42) -> ClusterParams:
    """Size-scaled defaults: min cluster size ~ sqrt(n)/2 (at least 5)."""
    mcs = max(5, round(math.sqrt(max(n, 1)) / 2))
    return ClusterParams(min_cluster_size=mcs, min_samples=max(3, mcs // 3), seed=seed)


def reduce(x: np.ndarray, params: ClusterParams) -> np.ndarray:
    import umap

    n_neighbors = min(params.n_neighbors, len(x) - 1)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=params.n_components,
        metric="cosine",
        min_dist=0.0,
        random_state=params.seed,
        init="spectral" if len(x) > params.n_components + 1 else "random",
    )
    return reducer.fit_transform(x)


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Number clusters by size (largest first, ties by first row) so output is stable."""
    ids = [c for c in set(labels.tolist()) if c != OUTLIER]
    ids.sort(key=lambda c: (-int((labels == c).sum()), int(np.argmax(labels == c))))
    mapping = {old: new for new, old in enumerate(ids)}
    return np.array([mapping.get(c, OUTLIER) for c in labels.tolist()], dtype=int)


def centroids(x: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    out = {}
    for c in sorted(set(labels.tolist()) - {OUTLIER}):
        v = x[labels == c].mean(axis=0)
        out[c] = v / (np.linalg.norm(v) or 1.0)
    return out


def soft_assign(x: np.ndarray, labels: np.ndarray, quantile: float) -> tuple[np.ndarray, np.ndarray]:
    """Attach noise points to the nearest centroid when as similar as its typical member."""
    cents = centroids(x, labels)
    soft = np.zeros(len(labels), dtype=bool)
    if not cents:
        return labels, soft
    ids = list(cents)
    matrix = np.stack([cents[c] for c in ids])
    floors = {c: float(np.quantile(x[labels == c] @ cents[c], quantile)) for c in ids}
    out = labels.copy()
    for i in np.flatnonzero(labels == OUTLIER):
        sims = matrix @ x[i]
        best = int(np.argmax(sims))
        if sims[best] >= floors[ids[best]]:
            out[i] = ids[best]
            soft[i] = True
    return out, soft


def cluster(x: np.ndarray, params: ClusterParams | None = None) -> ClusterResult:
    """Cluster L2-normalised embeddings; deterministic for a given seed."""
    n = len(x)
    params = params or default_params(n)
    if n < 2 * params.min_cluster_size or n <= params.n_components + 2:
        return ClusterResult(np.full(n, OUTLIER), np.zeros(n), ["outlier"] * n)
    import hdbscan

    reduced = reduce(x, params)
    model = hdbscan.HDBSCAN(
        min_cluster_size=params.min_cluster_size,
        min_samples=params.min_samples,
        cluster_selection_method="eom",
    ).fit(reduced)
    labels = _relabel(model.labels_)
    labels, soft = soft_assign(x, labels, params.soft_quantile)
    assignment = ["soft" if s else ("outlier" if lab == OUTLIER else "core") for lab, s in zip(labels, soft, strict=True)]
    probs = np.where(soft, 0.0, model.probabilities_)
    return ClusterResult(labels=labels, probabilities=probs, assignment=assignment)

"""Group ticket embeddings into themes a person can read: UMAP, HDBSCAN, merge, soft-assign.

0. Repeated wordings. Density counts tickets, and so does the resolution below (a minimum cluster
   size of sqrt(n)/2), but a wording repeated in many tickets adds tickets without adding anything
   to tell apart: corpora where each issue is written in templated phrasings (generated request
   sets, forms, a macro customers paste) split each issue by its sub-wordings. Four templated
   copies of every banking77 text of 27 intents made 95 themes where one copy made 33
   (`bench.entity_themes`). The window's duplication m is 1 + the mean number of each ticket's 14
   nearest neighbours that repeat it (cosine >= `DUPLICATE_SIMILARITY`, 0.95: the same words give or
   take a value or a greeting), at most `MAX_DUPLICATION` (4). The fit is then sized as the fit of
   n/m distinct wordings each repeated m times would be: a minimum cluster size m * sqrt(n/m) / 2,
   m times the neighbours (but never more than that minimum size, so a small window of a few tight
   issues keeps each neighbourhood within one issue), and step 3's shared neighbours in proportion
   to the neighbours (at 2 of a wider neighbourhood, four exact copies of twelve intents merged
   into 7 themes, ARI 0.42). Real traffic repeats little (m 1.01 on twcs first messages, 1.04 on
   GitHub titles; banking77's paraphrases 1.94), so its fit barely moves.
1. UMAP (cosine, 15 neighbours, 5 dimensions, min_dist 0) condenses the embeddings so density
   is measurable; it is seeded, so a window and a seed always give the same layout. Its layout
   runs `LAYOUT_EPOCHS` (200) epochs at every size: UMAP's own default above 10,000 rows, where
   below it UMAP spends 500 to polish pictures. The layout here only feeds HDBSCAN: on 12 random
   label slices of banking77 (1,600-8,500 texts) 200 epochs gave the same ARI as UMAP's defaults
   (mean 0.562 vs 0.565, inside the spread between slices) and a 10,000-ticket cold run's clustering
   took 40% less time (`bench.theme_quality --slices 12 --layout-epochs 0`, `bench.pipeline`).
   100 epochs was as good on those slices but split a 400-row sample of 6 clean blobs into 9.
   The layout starts from UMAP's spectral embedding of the neighbour graph. Its eigen-solve takes
   as long as all 200 epochs on a 17,000-ticket window, and starting from the first principal
   components instead halves the layout's time with the same ARI on banking77 (0.518 vs 0.519;
   mean of 12 slices 0.560 vs 0.561: `bench.theme_quality --slices 12 --init pca`), but it tore
   one of 6 clean synthetic groups in two in 2 seeds of 4, which spectral did not.
2. HDBSCAN finds dense groups. Its minimum cluster size grows with the window, sqrt(n)/2 (at
   least 5, the smallest group the ranking counts as a theme): a window of n tickets can then
   hold at most 2*sqrt(n) themes, tens for the thousands of tickets of a weekly window rather
   than BERTopic's hundreds of 10-ticket fragments. min_samples is a third of that, so HDBSCAN
   is less conservative about noise than its default (min_samples = min_cluster_size). Clusters
   are HDBSCAN's leaves (the finest clusters of at least that size): its default "excess of
   mass" selection returned one 294-ticket cluster out of 311 for a diffuse window of next.js
   bug titles, a failure that no later step can undo, while over-fine leaves are repaired by 3.
3. Leaves split one large theme into pieces when its phrasings form sub-groups. Pieces of one
   theme interpenetrate and face each other, while two themes meet at a thin boundary and each
   borders several others. On the exact k-nearest-neighbour graph (it also feeds UMAP) two clusters
   are merged when (a) members of the smaller have on average at least `MERGE_SHARED` of their
   k neighbours in the other, and more than random neighbours would give in one direction at least
   (`_beyond_chance`; in a small window chance alone gives over 2), and (b) for one of the two, the
   other receives most (over half) of the links that leave it, or the group it has joined does (a
   piece whose links are spread over three sibling pieces joins them once they have joined,
   unless that group draws most of the links only by its size: it then holds most of the window,
   see `_drawn`). (a) alone joins loosely separated themes into a few blobs on diffuse data
   (GitHub bug titles); (b) alone joins a small theme to its one big neighbour.
   A cluster whose members are, on average, no more similar to each other (cosine, in the
   embedding space) than to the window's other rows, or than two of the window's rows drawn at
   random, is no group: UMAP gathers the points it cannot place near anything into a region of
   their own, and HDBSCAN draws a cluster there (in a placed week of tweets to AppleSupport, 13
   tickets about a data plan, badge notifications, 4K video, a MacBook's speaker and an album on
   iTunes, mean similarity 0.10 to each other and 0.14 to the brand's other tweets). Its rows
   become outliers (`cohesive`), HDBSCAN's leaves before the merge as well as the merged clusters
   after it: a leaf of tweets that share only the brand (0.208 alike, 0.240 for two of the
   scope's tweets at random) otherwise joined both of Uber's real issues into one theme of every
   tweet to the brand.
4. Noise points join the nearest theme centroid (cosine, in the embedding space) when their
   similarity is inside that theme's own range: above the lower Tukey fence (Q1 - 1.5 IQR) of
   its members' similarities, the textbook rule for "not an outlier of this distribution", and
   above the mean similarity to that centroid of the window's other rows: a ticket no closer to
   the theme than an unrelated ticket is on average is not told from them (the test `cohesive`
   puts to a whole group, put to one ticket). The Tukey fence alone has no floor: a loose theme
   of diffuse GitHub titles had fences of 0.13 and below zero, which 92-95 % of its window's
   titles cleared, and its centroid, near the window's mean, was the nearest one for most of them.
   Points outside every fence stay outliers and are reported as such.
Clusters are numbered by size, so the same input and seed give the same labels.

Past `SAMPLE_LIMIT` tickets, steps 0-4 run on a seeded random sample of that size, with the
window's minimum cluster size shrunk by the sample's share (the smallest theme stays the same share
of the window), and every other ticket takes the theme most of its `n_neighbors` nearest sampled
tickets are in (an outlier when most of them are): the neighbourhood the layout itself was built
from. (Placing them by the rule of step 4, the nearest centroid inside its fence, lost 0.037 ARI
against the whole fit on a labelled mix, the vote 0.023; HDBSCAN's themes, drawn on the layout, are
not nearest-centroid cells; docs/themes.md.) The nearest sampled tickets are searched in the
`PLACE_PROBES` themes nearest each ticket's own (`cell_search`). The exact neighbour search is
quadratic: at 50k tickets it already takes as long as UMAP itself, and at 500k it would take hours,
while the fit on a sample costs the same at any size and the placement is linear (`bench.scale`
measures both).
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from ticket_intel.core.counts import rows_by_key
from ticket_intel.core.smallest import k_smallest

OUTLIER = -1
MERGE_SHARED = 2
TUKEY_K = 1.5
SAMPLE_LIMIT = 50_000  # largest window clustered whole; see the module docstring
BLOCK = 65_536  # rows per block when placing tickets, so no n x themes matrix is held at once
SEARCH_BLOCK = 2_048  # query rows per block of a cell search, so no rows x candidates matrix is held at once
PLACE_PROBES = 10  # themes searched for a placed ticket's nearest sampled tickets; see fit_on_sample
DUPLICATE_SIMILARITY = 0.95  # cosine at which two texts say the same in nearly the same words; see step 0
MAX_DUPLICATION = 4.0  # the most a window's repeated wordings scale its fit by; see step 0
LAYOUT_EPOCHS = 200  # UMAP optimisation epochs; see step 1 of the module docstring
LAYOUT_INIT = "spectral"  # UMAP's starting layout; see step 1 of the module docstring
Key = TypeVar("Key")


@dataclass(frozen=True)
class ClusterParams:
    min_cluster_size: int
    min_samples: int
    n_neighbors: int = 15
    n_components: int = 5
    n_epochs: int | None = LAYOUT_EPOCHS  # None: UMAP's own size-dependent default
    seed: int = 42
    init: str = LAYOUT_INIT
    sample_limit: int = SAMPLE_LIMIT


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster per row, OUTLIER for noise
    probabilities: np.ndarray  # HDBSCAN membership strength; 0 for soft-assigned rows
    assignment: list[str]  # "core", "soft" or "outlier"
    neighbours: np.ndarray | None = None  # each row's nearest rows (no self), when the whole window was searched

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels.tolist()) - {OUTLIER})


def default_params(n: int, seed: int = 42) -> ClusterParams:
    """Size-scaled defaults: min cluster size sqrt(n)/2 (at least 5), min_samples a third of it."""
    return _sized(ClusterParams(min_cluster_size=5, min_samples=3, seed=seed), math.sqrt(max(n, 1)) / 2)


def _sized(params: ClusterParams, min_cluster_size: float) -> ClusterParams:
    """`params` with this minimum cluster size (rounded, at least 5) and min_samples a third of it."""
    mcs = max(5, round(min_cluster_size))
    return replace(params, min_cluster_size=mcs, min_samples=max(3, mcs // 3))


def sample_params(params: ClusterParams, n: int) -> ClusterParams:
    """Parameters for the sample of `sample_limit` of a window's n rows: the window's minimum cluster
    size shrunk by the sample's share, so the smallest theme is the same share of the window as in
    a whole fit. (Sizing the sample as a window of its own made the smallest theme a larger share:
    fewer, merged themes, 0.056 ARI lost on the labelled mix against 0.028 this way.)"""
    return _sized(params, params.min_cluster_size * min(1.0, params.sample_limit / n))


def neighbours(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosine distances) of each row's k nearest rows, itself first, as UMAP expects.

    Exact, by blocked matrix products (scikit-learn's brute-force distances, each row's k picked in
    one pass by `smallest.k_smallest` as scikit-learn's `argpartition` picked them, ties included:
    0.45-0.62x the time on 17,000 bench tickets, as long where tied duplicates fill most rows'
    neighbourhoods, as in Prisma's titles): for the tens of thousands of
    rows of a window this is faster than UMAP's approximate NN-descent, whose numba kernels are
    recompiled in every fresh process (~35-70 s here), and it is deterministic by construction.
    faiss's flat index gave the same neighbour sets (99.96% on 50,000 real tickets) in 0.29x the
    time, but the order of near-tied neighbours it returns tore one of 6 clean synthetic groups in
    two (test_cluster.py): the layout is that sensitive to its graph, so a faster search needs a
    sturdier merge first.
    """
    from sklearn import config_context
    from sklearn.metrics import pairwise_distances_chunked

    def nearest(d: np.ndarray, _start: int) -> tuple[np.ndarray, np.ndarray]:
        top = k_smallest(d, k, partial(_partitioned, k=k, kind="quicksort"))
        return np.take_along_axis(d, top, axis=1), top

    with config_context(working_memory=256):  # MiB per block of distances, keeps peak RSS flat
        dist, idx = (np.vstack(part) for part in zip(*pairwise_distances_chunked(
            x, x, reduce_func=nearest, metric="cosine"), strict=True))
    rows = np.arange(len(x))
    for r in np.flatnonzero(idx[:, 0] != rows):  # an exact duplicate may rank before the row itself
        where = np.flatnonzero(idx[r] == r)
        j = int(where[0]) if len(where) else k - 1
        idx[r, 1:j + 1], idx[r, 0] = idx[r, :j].copy(), r
        dist[r, 1:j + 1], dist[r, 0] = dist[r, :j].copy(), 0.0
    return idx, np.maximum(dist, 0.0)


def import_umap() -> ModuleType:
    """Import umap so that its numba kernels persist in NUMBA_CACHE_DIR between processes.

    numba only writes kernels declared with cache=True to that directory, and most of UMAP's are
    not, so every fresh process recompiled them (seconds per run; `bench.embed` measures it).
    While umap is first imported, `numba.njit`/`numba.jit` default to cache=True; kernels that
    cannot be cached (closures over functions) are simply compiled as before.
    """
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    original = numba.njit, numba.jit

    def cached(decorator: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("cache", True)
            return decorator(*args, **kwargs)

        return wrapper

    numba.njit, numba.jit = cached(original[0]), cached(original[1])
    try:
        import umap
    finally:
        numba.njit, numba.jit = original
    return umap


def duplication(similarities: np.ndarray) -> float:
    """How many tickets a wording stands for in the window: 1 + the mean count of a ticket's nearest
    neighbours (`similarities`, one row per ticket) that repeat it (cosine >= `DUPLICATE_SIMILARITY`),
    at most `MAX_DUPLICATION`. Step 0 of the module docstring."""
    return float(min(MAX_DUPLICATION, 1.0 + (similarities >= DUPLICATE_SIMILARITY).sum(axis=1).mean()))


def for_duplication(params: ClusterParams, m: float) -> ClusterParams:
    """The fit of a window whose wordings repeat m times, sized like the fit of its distinct wordings:
    a minimum cluster size that is m times that of n/m tickets, and m times the neighbours, but never
    more neighbours than that smallest theme holds (in a small window of a few tight issues, repeats
    mark the issues, and a neighbourhood wider than one would join them)."""
    sized = _sized(params, params.min_cluster_size * math.sqrt(m))
    wide = max(params.n_neighbors, min(round(params.n_neighbors * m), sized.min_cluster_size))
    return replace(sized, n_neighbors=wide)


def reduce(x: np.ndarray, params: ClusterParams, found: tuple[np.ndarray, np.ndarray] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(5-d layout, neighbour indices without self): one neighbour search (`found`, at least
    `n_neighbors` wide, or run here) serves UMAP and merging."""
    umap = import_umap()
    k = min(params.n_neighbors, len(x) - 1)
    idx, dist = neighbours(x, k) if found is None else found
    knn = (idx[:, :k], dist[:, :k])
    reducer = umap.UMAP(
        n_neighbors=k,
        n_components=params.n_components,
        metric="cosine",
        min_dist=0.0,
        n_epochs=params.n_epochs,
        random_state=params.seed,
        init=params.init if len(x) > params.n_components + 1 else "random",
        precomputed_knn=knn,
        force_approximation_algorithm=True,  # use the neighbours given, also below 4,096 rows
    )
    with warnings.catch_warnings():
        # Expected here, not actionable: seeding makes UMAP single-threaded, and precomputed
        # neighbours mean no index for `transform`, which is never called.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
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


def tukey_floor(similarities: np.ndarray) -> float:
    """Lower Tukey fence, Q1 - 1.5 IQR: below it a similarity is an outlier of the group."""
    return fence_and_spread(similarities)[0]


def fence_and_spread(similarities: np.ndarray, background: float = -np.inf) -> tuple[float, float]:
    """A group's fence and its spread (the interquartile range of its members' similarities), from
    one pass of quantiles. The fence is the lower Tukey fence, but never below `background`, the
    mean similarity to the group's centroid of its scope's other tickets (`backgrounds`): a ticket no
    closer to a theme than an unrelated ticket of its scope is on average cannot be told from them,
    and a fence below that let a loose theme, whose centroid lies near the scope's mean, admit most
    of a diffuse window (step 4)."""
    q1, q3 = np.quantile(similarities, [0.25, 0.75])
    return max(float(q1 - TUKEY_K * (q3 - q1)), background), float(q3 - q1)


def backgrounds(x: np.ndarray, groups: dict[Key, np.ndarray], cents: dict[Key, np.ndarray]) -> dict[Key, float]:
    """Per group (its rows of `x`, a scope's tickets), the mean similarity of the scope's other rows
    to its centroid: what a ticket unrelated to the group scores (-inf when the group is the scope).
    From vector sums, like `cohesive`, whose test of a group against the rest it mirrors."""
    total = x.sum(axis=0, dtype=np.float64)
    out = {}
    for c, rows in groups.items():
        rest = len(x) - len(rows)
        out[c] = float((total - x[rows].sum(axis=0, dtype=np.float64)) @ cents[c] / rest) if rest else -np.inf
    return out


def member_similarities(x: np.ndarray, labels: np.ndarray, cents: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Per cluster, its members' cosine similarity to its centroid."""
    return {c: x[labels == c] @ v for c, v in cents.items()}


def members(labels: np.ndarray, cents: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Per cluster, its rows."""
    return {c: np.flatnonzero(labels == c) for c in cents}


def fences(x: np.ndarray, labels: np.ndarray, cents: dict[int, np.ndarray]) -> dict[int, float]:
    """Per cluster, the fence of its members' cosine similarity to the centroid (`fence_and_spread`)."""
    floor = backgrounds(x, members(labels, cents), cents)
    return {c: fence_and_spread(sims, floor[c])[0] for c, sims in member_similarities(x, labels, cents).items()}


def merge_interpenetrating(labels: np.ndarray, knn: np.ndarray, shared: float = MERGE_SHARED) -> np.ndarray:
    """Join cluster pairs that are pieces of one theme (see the module docstring), transitively.

    A pair qualifies when members of the smaller cluster have on average >= `shared` of their
    neighbours in the other (judged on HDBSCAN's clusters, so a growing group cannot swallow its
    surroundings one neighbour at a time), and one of the two receives most of the links leaving
    the other, or, between the groups the two have joined, one group receives most of the links
    leaving the other beyond what its size draws (`_drawn`): so a piece whose links spread over
    three sibling pieces joins them once they have joined, but not a group that draws them by size.
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
    root = list(range(len(ids)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    mixed = (edges + edges.T >= shared * np.minimum.outer(sizes, sizes)) & _beyond_chance(edges, sizes, knn.shape)
    np.fill_diagonal(mixed, False)
    dominant = edges > (edges.sum(axis=1) - np.diag(edges))[:, None] / 2
    for a, b in zip(*np.nonzero(np.triu(mixed & (dominant | dominant.T))), strict=True):
        ra, rb = find(int(a)), find(int(b))
        root[max(ra, rb)] = min(ra, rb)
    merged = True
    while merged:  # until no pair merges: a piece whose links spread over siblings joins once they have
        merged = False
        groups = np.array([find(i) for i in range(len(ids))])
        onehot = (groups[:, None] == np.arange(len(ids))[None, :]).astype(float)
        drawn = _drawn(onehot.T @ edges @ onehot, onehot.T @ sizes)
        for a, b in zip(*np.nonzero(np.triu(mixed)), strict=True):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb and (drawn[ra, rb] or drawn[rb, ra]):
                root[max(ra, rb)] = min(ra, rb)
                merged = True
                break
    mapping = {c: ids[find(pos[c])] for c in ids}
    return np.array([mapping.get(c, OUTLIER) for c in labels.tolist()], dtype=int)


def _beyond_chance(edges: np.ndarray, sizes: np.ndarray, graph: tuple[int, int]) -> np.ndarray:
    """[a, b]: the members of a, or of b, have more links into the other than neighbours drawn at
    random from the window would give, k * |other| / (n - 1). In a small window every cluster is a
    large share of it: in a 41-ticket scope of tweets to one airline, 14 neighbours reach a third of
    the scope, so thanks, delays and ticketing pieces met (a) by chance and merged into one theme of
    every tweet to the brand."""
    n, k = graph
    into = edges / np.maximum(sizes, 1.0)[:, None]
    beyond = into > k * sizes[None, :] / max(n - 1, 1)
    return beyond | beyond.T


def _drawn(links: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """[a, b]: group b receives most of the links leaving a beyond the share its size would draw by
    chance, (f - s) / (1 - s) > 1/2, with f the share of the links from a to other clusters that
    reach b and s b's share of the other clusters' rows (links to outliers say nothing). "Most"
    alone let a group that had grown to most of a diffuse window receive most links by its size,
    and swallow every piece: one theme of 99% of a window of prisma's GitHub bug titles. HDBSCAN's
    own clusters are each a small share, where this is "most" (the first pass)."""
    leaving = links.sum(axis=1) - np.diag(links)
    f = links / np.maximum(leaving, 1.0)[:, None]
    s = sizes[None, :] / np.maximum(sizes.sum() - sizes[:, None], 1.0)
    return most_beyond_share(f, s) & (sizes[:, None] > 0)


def most_beyond_share(f: np.ndarray | float, s: np.ndarray | float) -> np.ndarray | bool:
    """Whether a group that receives a share f of some links (or votes) receives most of them beyond
    the share s its size would draw by chance: (f - s) / (1 - s) > 1/2. For a small group this is
    "most"; a group holding most of a window must receive nearly all."""
    return f - s > (1 - s) / 2


def cohesive(x: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Per group of rows of `x`: its members' mean similarity to each other exceeds their mean
    similarity to the other rows of `x`, and that of two rows of `x` drawn at random (a group of
    every row, or of one row, counts as cohesive). From vector sums, so it costs one pass over `x`."""
    total, norms = x.sum(axis=0, dtype=np.float64), np.einsum("ij,ij->i", x, x)
    background = (total @ total - norms.sum()) / max(len(x) * (len(x) - 1), 1)
    out = np.ones(len(groups), dtype=bool)
    for i, rows in enumerate(groups):
        n, rest = len(rows), len(x) - len(rows)
        if n < 2 or rest < 1:
            continue
        s = x[rows].sum(axis=0, dtype=np.float64)
        within = (s @ s - norms[rows].sum()) / (n * (n - 1))
        out[i] = within > s @ (total - s) / (n * rest) and within > background
    return out


def groups_only(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`labels` with the rows of each cluster that is no group (`cohesive`) made outliers."""
    ids = sorted(set(labels.tolist()) - {OUTLIER})
    loose = [c for c, ok in zip(ids, cohesive(x, [np.flatnonzero(labels == c) for c in ids]), strict=True) if not ok]
    return np.where(np.isin(labels, loose), OUTLIER, labels)


def soft_assign(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attach each noise point to its nearest centroid when it lies inside that cluster's fence."""
    cents = centroids(x, labels)
    soft = np.zeros(len(labels), dtype=bool)
    noise = np.flatnonzero(labels == OUTLIER)
    if not cents or not len(noise):
        return labels, soft
    ids = np.array(list(cents))
    floor = fences(x, labels, cents)
    matrix, floors = np.stack([cents[c] for c in ids]).T, np.array([floor[c] for c in ids])
    out = labels.copy()
    for start in range(0, len(noise), BLOCK):
        rows = noise[start:start + BLOCK]
        sims = x[rows] @ matrix
        best = sims.argmax(axis=1)
        inside = sims[np.arange(len(rows)), best] >= floors[best]
        out[rows[inside]] = ids[best[inside]]
        soft[rows[inside]] = True
    return out, soft


def cluster(x: np.ndarray, params: ClusterParams | None = None) -> ClusterResult:
    """Cluster L2-normalised embeddings; deterministic for a given seed."""
    n = len(x)
    params = params or default_params(n)
    if n < 2 * params.min_cluster_size or n <= params.n_components + 2:
        return ClusterResult(np.full(n, OUTLIER), np.zeros(n), ["outlier"] * n)
    if n > params.sample_limit:
        return fit_on_sample(x, params)
    return _fit(x, params)


def _fit(x: np.ndarray, params: ClusterParams) -> ClusterResult:
    """Steps 0-4 of the module docstring on every row of x."""
    import hdbscan

    found = neighbours(x, min(round(params.n_neighbors * MAX_DUPLICATION), len(x) - 1))
    sized = for_duplication(params, duplication(1.0 - found[1][:, 1:params.n_neighbors]))
    layout, knn = reduce(x, sized, found)
    model = hdbscan.HDBSCAN(
        min_cluster_size=sized.min_cluster_size,
        min_samples=sized.min_samples,
        cluster_selection_method="leaf",
        core_dist_n_jobs=1,  # its joblib workers hung inside a spawned worker at 50k rows; 5-d is fast anyway
    ).fit(layout)
    leaves = groups_only(x, model.labels_)  # a leaf that is no group joins none (module docstring, step 3)
    merged = merge_interpenetrating(leaves, knn, MERGE_SHARED * sized.n_neighbors / params.n_neighbors)
    labels, soft = soft_assign(x, groups_only(x, merged))
    return _result(_relabel(labels), soft, model.probabilities_, found[0][:, 1:])  # the widest search, for new groups


def fit_on_sample(x: np.ndarray, params: ClusterParams) -> ClusterResult:
    """Cluster a seeded sample of `sample_limit` rows, then give every other row the theme most of
    its nearest sampled rows are in (module docstring; placed rows count as soft, probability 0)."""
    n = len(x)
    rows = np.sort(np.random.default_rng(params.seed).choice(n, min(n, params.sample_limit), replace=False))
    fitted = _fit(x[rows], sample_params(params, n))
    labels = np.full(n, OUTLIER)
    labels[rows] = fitted.labels
    rest = np.setdiff1d(np.arange(n), rows)
    placed = labels.copy()
    placed[rest] = _vote(labels[cell_search(x, Cells.of(x, labels, PLACE_PROBES), rest, rows, params.n_neighbors)])
    soft = np.zeros(n, dtype=bool)
    soft[rest] = placed[rest] != OUTLIER
    soft[rows] = np.array(fitted.assignment) == "soft"
    probabilities = np.zeros(n)
    probabilities[rows] = fitted.probabilities
    return _result(_relabel(placed), soft, probabilities)


def _vote(votes: np.ndarray) -> np.ndarray:
    """Per row of neighbours' labels, the label most of them hold, OUTLIER unless more than half
    are in a theme (ties go to the lower label, the larger theme)."""
    from scipy import sparse

    rows, cols = np.nonzero(votes != OUTLIER)
    out = np.full(len(votes), OUTLIER)
    if not len(rows):
        return out
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, votes[rows, cols])), shape=(len(votes), votes.max() + 1))
    inside = np.asarray(counts.sum(axis=1)).ravel() * 2 > votes.shape[1]
    out[inside] = np.asarray(counts[inside].argmax(axis=1)).ravel()
    return out


Search = Callable[[np.ndarray], np.ndarray]
"""A neighbour search of a window: for the rows asked, their nearest rows (never themselves), nearest
first; a row with fewer than asked pads with itself."""


def searched(knn: np.ndarray) -> Search:
    """The search a clustering already ran over the whole window (`ClusterResult.neighbours`)."""
    return lambda rows: knn[rows]


@dataclass(frozen=True)
class Cells:
    """An inverted-file index whose cells are the clusters of some labels: each row's cell (its
    nearest centroid; outliers too) and each cell's `probes` nearest cells, itself first. Labels
    without clusters give one cell of everything."""

    cell: np.ndarray
    near: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, labels: np.ndarray, probes: int) -> Cells:
        cents = centroids(x, labels)
        if not cents:
            return cls(np.zeros(len(x), dtype=int), np.zeros((1, 1), dtype=int))
        matrix = np.stack([cents[c] for c in sorted(cents)])
        cell = np.concatenate([np.argmax(x[s:s + BLOCK] @ matrix.T, axis=1) for s in range(0, len(x), BLOCK)])
        return cls(cell, np.argsort(-(matrix @ matrix.T), axis=1, kind="stable")[:, :probes])


def cell_search(x: np.ndarray, cells: Cells, queries: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Each query row's k nearest candidate rows (cosine, itself excluded), searched among the
    candidates in the cells nearest its own. Close tickets lie in one theme or in adjacent ones, so
    this finds nearly the exact neighbours at about probes/themes of the exact search's cost. Rows
    short of k candidates pad with themselves."""
    knn = np.repeat(queries[:, None], k, axis=1)
    # Per cell its candidates' positions, gathered once: a cell's pool, its near cells' candidates in
    # the order given, is then a sort of a few cells' rows, not a pass over every candidate.
    in_cell, none = rows_by_key(cells.cell[candidates]), np.zeros(0, dtype=int)
    for c, at in rows_by_key(cells.cell[queries]).items():
        pool = candidates[np.sort(np.concatenate([in_cell.get(near, none) for near in cells.near[c].tolist()]))]
        found = nearest_among(x, queries[at], pool, k)
        knn[at, :found.shape[1]] = found
    return knn


def kth_similarity(x: np.ndarray, rows: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """Each of `rows`' k-th highest similarity to a row of `pool` (disjoint from `rows`), in blocks
    of `SEARCH_BLOCK` rows; -inf where the pool holds fewer than k."""
    out = np.full(len(rows), -np.inf)
    if len(pool) < k or k < 1:
        return out
    pooled = x[pool].T
    for start in range(0, len(rows), SEARCH_BLOCK):
        sims = x[rows[start:start + SEARCH_BLOCK]] @ pooled
        out[start:start + len(sims)] = np.partition(sims, len(pool) - k, axis=1)[:, len(pool) - k]
    return out


def nearest_among(x: np.ndarray, rows: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """Each of `rows`' nearest (up to k) rows of `pool`, nearest first, itself excluded; exact, in
    blocks of `SEARCH_BLOCK` rows."""
    m = min(k, len(pool) - 1 if np.isin(rows, pool).any() else len(pool))
    out = np.empty((len(rows), max(m, 0)), dtype=int)
    if m < 1:
        return out
    # The pool's vectors are gathered once, and a row's own column found by search, not by a
    # rows x pool comparison: both cost as much as the block's products.
    pooled, sorter = x[pool].T, np.argsort(pool, kind="stable")
    for start in range(0, len(rows), SEARCH_BLOCK):
        block = rows[start:start + SEARCH_BLOCK]
        distance = np.negative(x[block] @ pooled)
        at = np.minimum(np.searchsorted(pool, block, sorter=sorter), len(pool) - 1)
        own = pool[sorter[at]] == block
        distance[np.flatnonzero(own), sorter[at[own]]] = np.inf
        out[start:start + len(block)] = pool[k_smallest(distance, m, partial(_partitioned, k=m, kind="stable"))]
    return out


def _partitioned(d: np.ndarray, k: int, kind: str) -> np.ndarray:
    """The k smallest columns of each row of `d`, smallest first, by `np.argpartition` and a sort of
    `kind` (which orders ties): how scikit-learn's brute-force search (quicksort) and the cell
    search (stable) picked neighbours, which `k_smallest` reproduces row for row."""
    top = np.argpartition(d, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(d, top, axis=1), axis=1, kind=kind)
    return np.take_along_axis(top, order, axis=1)


def _result(labels: np.ndarray, soft: np.ndarray, probabilities: np.ndarray,
            knn: np.ndarray | None = None) -> ClusterResult:
    assignment = ["soft" if s else ("outlier" if lab == OUTLIER else "core")
                  for lab, s in zip(labels, soft, strict=True)]
    return ClusterResult(labels=labels, probabilities=np.where(soft, 0.0, probabilities), assignment=assignment,
                         neighbours=knn)

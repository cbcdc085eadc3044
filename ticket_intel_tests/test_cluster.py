"""Clustering: size-scaled defaults, merging of interpenetrating pieces, fenced soft assignment,
and the quality bar on a real labelled slice when ../shared is present."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from ticket_intel.core import cluster


def blobs(n_per: int, k: int, dim: int = 32, spread: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k well separated groups of unit vectors."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    x = np.repeat(centers, n_per, axis=0) + spread * rng.normal(size=(k * n_per, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.repeat(np.arange(k), n_per)


def test_min_cluster_size_grows_with_sqrt_of_window():
    small, medium, large = (cluster.default_params(n) for n in (40, 1600, 50_000))
    assert small.min_cluster_size == 5
    assert medium.min_cluster_size == 20
    assert large.min_cluster_size == 112
    assert all(p.min_samples <= p.min_cluster_size for p in (small, medium, large))


def test_separated_groups_are_recovered():
    x, truth = blobs(60, 6)
    result = cluster.cluster(x)
    assert result.n_clusters == 6
    assert adjusted_rand_score(truth, result.labels) > 0.95
    assert (result.labels == cluster.OUTLIER).mean() < 0.05
    assert set(result.assignment) <= {"core", "soft", "outlier"}


def test_too_few_tickets_are_all_outliers():
    x, _ = blobs(3, 2)
    result = cluster.cluster(x)
    assert result.n_clusters == 0
    assert result.assignment == ["outlier"] * len(x)


def test_labels_are_numbered_by_size():
    x, _ = blobs(40, 3)
    x = np.concatenate([x[:40], x[40:80], x[80:120], blobs(80, 1, seed=9)[0]])
    labels = cluster.cluster(x).labels
    sizes = [int((labels == c).sum()) for c in range(labels.max() + 1)]
    assert sizes == sorted(sizes, reverse=True)


def _knn_within(groups: list[list[int]], k: int, cross: dict[int, list[int]]) -> np.ndarray:
    """Neighbour lists: each row's k neighbours from its group, some replaced by `cross` rows."""
    n = sum(len(g) for g in groups)
    knn = np.zeros((n, k), dtype=int)
    for g in groups:
        for i in g:
            own = [j for j in g if j != i][:k]
            extra = cross.get(i, [])
            knn[i] = (extra + own)[:k]
    return knn


def test_pieces_sharing_neighbours_merge_and_neighbours_at_a_boundary_do_not():
    a, b, c = list(range(0, 10)), list(range(10, 20)), list(range(20, 30))
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    # every member of a has 3 of its 5 neighbours in b (pieces of one theme);
    # two members of c touch b (a boundary).
    cross = {i: [10 + (i + j) % 10 for j in range(3)] for i in a}
    cross.update({20: [10], 21: [11]})
    merged = cluster.merge_interpenetrating(labels, _knn_within([a, b, c], 5, cross))
    assert len(set(merged[:20].tolist())) == 1
    assert set(merged[20:].tolist()) == {2}


def test_outliers_are_not_merged_and_keep_their_label():
    labels = np.array([0, 0, 0, -1, 1, 1, 1])
    knn = np.array([[1, 2], [0, 2], [0, 1], [0, 4], [5, 6], [4, 6], [4, 5]])
    assert cluster.merge_interpenetrating(labels, knn).tolist() == labels.tolist()


def shares(rng: np.random.Generator, n: int, parts: dict[int, float], dim: int = 24) -> np.ndarray:
    """n unit vectors with these shares of the first axes (0: what a scope's tickets share, say the
    brand; 1-3: issues), the rest of their length random among the axes from 4 on."""
    noise = rng.normal(size=(n, dim))
    noise[:, :4] = 0
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    fixed = np.zeros(dim)
    for axis, share in parts.items():
        fixed[axis] = share
    return (fixed + np.sqrt(1 - fixed @ fixed) * noise).astype(np.float32)


def test_a_group_is_cohesive_only_when_its_members_are_closer_to_each_other_than_to_the_rest():
    rng = np.random.default_rng(4)
    x = np.vstack([shares(rng, 60, {0: 0.6, 1: 0.8}), shares(rng, 15, {0: 0.3})])
    issue, stragglers = np.arange(60), np.arange(60, 75)
    # the stragglers are ~0.08 alike, and ~0.18 alike with the issue's tickets: no group
    assert cluster.cohesive(x, [stragglers, issue]).tolist() == [False, True]
    assert cluster.cohesive(x, [np.arange(len(x)), np.array([3])]).tolist() == [True, True]


def test_a_group_less_alike_than_two_tickets_of_its_scope_is_no_group():
    """A brand's scope: two issues, and stragglers who share the brand and a faint word, a little more
    alike with each other (0.29) than with the issues (0.25), less than two of the scope's tickets
    drawn at random (0.34). HDBSCAN drew such a leaf in tweets to Uber, and the merge then joined it
    and both issues into one theme of every tweet to the brand."""
    rng = np.random.default_rng(2)
    x = np.vstack([shares(rng, 10, {0: 0.5, 1: 0.7}), shares(rng, 10, {0: 0.5, 2: 0.7}),
                   shares(rng, 13, {0: 0.5, 3: 0.2})])
    issue, stragglers = np.arange(10), np.arange(20, 33)
    assert cluster.cohesive(x, [stragglers, issue]).tolist() == [False, True]
    labels = np.array([0] * 10 + [1] * 10 + [2] * 13)
    assert cluster.groups_only(x, labels).tolist() == [0] * 10 + [1] * 10 + [cluster.OUTLIER] * 13


def test_tickets_that_share_only_the_scope_s_common_ground_are_no_theme():
    """UMAP gathers the tickets it cannot place near any issue, and HDBSCAN drew a theme of them
    (60 stragglers here, as a placed week of tweets to one brand had 13): they stay outliers."""
    rng = np.random.default_rng(0)
    x = np.vstack([shares(rng, 60, {0: 0.6, 1: 0.8}), shares(rng, 40, {0: 0.4, 2: 0.9}),
                   shares(rng, 60, {0: 0.45}), shares(rng, 50, {0: 0.6, 3: 0.8})])
    labels = cluster.cluster(x).labels
    assert (labels[100:160] == cluster.OUTLIER).all()
    assert [len(set(labels[rows].tolist())) for rows in (range(60), range(60, 100), range(160, 210))] == [1, 1, 1]


def test_soft_assignment_admits_points_inside_the_fence_only():
    rng = np.random.default_rng(1)
    center = np.eye(8)[0]
    members = center + 0.1 * rng.normal(size=(30, 8))
    near = center + 0.1 * rng.normal(size=(1, 8))
    far = np.eye(8)[[3]]
    x = np.concatenate([members, near, far])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.array([0] * 30 + [cluster.OUTLIER, cluster.OUTLIER])
    out, soft = cluster.soft_assign(x, labels)
    assert out[30] == 0 and soft[30]
    assert out[31] == cluster.OUTLIER and not soft[31]
    assert not soft[:30].any()


def test_quality_bar_on_a_banking77_slice(shared_datasets):
    """Twelve random intents (not chosen by hand): ARI >= 0.5, <= 10% outliers, themes within 2x."""
    from ticket_intel.adapters import encoder

    frame = pd.read_csv(shared_datasets / "banking77" / "test.csv")
    rng = np.random.default_rng(7)
    intents = rng.choice(sorted(frame["category"].unique()), 12, replace=False)
    frame = frame[frame["category"].isin(intents)]
    x = encoder.encode(frame["text"].tolist())
    result = cluster.cluster(x)
    assert adjusted_rand_score(frame["category"], result.labels) >= 0.5
    assert (result.labels == cluster.OUTLIER).mean() <= 0.10
    assert 12 / 2 <= result.n_clusters <= 12 * 2


def test_repeating_every_wording_does_not_multiply_the_themes(shared_datasets):
    """Each text of twelve random intents four times, as templated corpora repeat wordings: about the
    themes of one copy (sized by distinct wordings, not tickets; the unscaled fit made 30 from 11)."""
    from ticket_intel.adapters import encoder

    frame = pd.read_csv(shared_datasets / "banking77" / "test.csv")
    intents = np.random.default_rng(7).choice(sorted(frame["category"].unique()), 12, replace=False)
    frame = frame[frame["category"].isin(intents)]
    x = encoder.encode(frame["text"].tolist())
    once, four = cluster.cluster(x), cluster.cluster(np.repeat(x, 4, axis=0))
    assert four.n_clusters <= 1.5 * once.n_clusters
    assert adjusted_rand_score(np.repeat(frame["category"].to_numpy(), 4), four.labels) >= 0.5


def test_duplication_counts_the_neighbours_that_repeat_a_wording():
    sims = np.array([[1.0, 0.99, 0.5], [0.96, 0.2, 0.1], [0.9, 0.8, 0.7], [0.95, 0.95, 0.95]])
    assert cluster.duplication(sims) == 1 + (2 + 1 + 0 + 3) / 4
    assert cluster.duplication(np.ones((3, 14))) == cluster.MAX_DUPLICATION


def test_a_repeated_window_is_fit_like_its_distinct_wordings():
    """m times the neighbours and m times the minimum size of n/m tickets; never wider than that size."""
    params = cluster.default_params(40_000)
    fitted = cluster.for_duplication(params, 4.0)
    assert fitted.min_cluster_size == 4 * cluster.default_params(10_000).min_cluster_size
    assert fitted.n_neighbors == 4 * params.n_neighbors
    assert cluster.for_duplication(params, 1.0) == params
    small = cluster.for_duplication(cluster.default_params(400), 4.0)
    assert small.n_neighbors == small.min_cluster_size == 20  # not 60: no wider than the smallest theme
    assert cluster.for_duplication(cluster.default_params(100), 4.0).n_neighbors == params.n_neighbors


def test_pieces_linked_no_more_than_chance_gives_stay_apart_in_a_small_window():
    """Two groups of 10 whose members have half of their 8 neighbours in the other: alone in a
    window of 20, that is what random neighbours would give (8 x 10/19), so nothing says they are
    one theme (a small scope of tweets to one brand: thanks beside delays). Among other themes
    (80 tickets), the same links are four times chance: pieces of one theme."""
    def window(groups: int) -> np.ndarray:
        members = [list(range(g * 10, g * 10 + 10)) for g in range(groups)]
        cross = {i: [10 + (i + j) % 10 for j in range(4)] for i in members[0]}
        cross.update({i: [(i + j) % 10 for j in range(4)] for i in members[1]})
        return cluster.merge_interpenetrating(np.repeat(np.arange(groups), 10), _knn_within(members, 8, cross))

    assert window(2).tolist() == np.repeat([0, 1], 10).tolist()
    merged = window(8)
    assert merged[0] == merged[10] and len(set(merged.tolist())) == 7


def test_links_spread_over_several_neighbours_do_not_merge():
    """Dense cross links are not enough: they must mostly go to that one other cluster."""
    groups = [list(range(g * 10, g * 10 + 10)) for g in range(4)]
    labels = np.repeat(np.arange(4), 10)
    cross = {i: [10 + i % 10, 11 + i % 9, 20 + i % 10, 21 + i % 9, 30 + i % 10, 31 + i % 9] for i in groups[0]}
    merged = cluster.merge_interpenetrating(labels, _knn_within(groups, 8, cross))
    assert merged.tolist() == labels.tolist()


def test_a_group_that_draws_links_by_its_size_alone_does_not_swallow_a_piece():
    """Diffuse data: C sends most of its outgoing links to the group A+B only because A+B holds most
    of the window; C stays apart (on GitHub titles, chains of such merges made one theme of 99%)."""
    a, b, c, d, e = (list(range(s, s + n)) for s, n in ((0, 40), (40, 40), (80, 10), (90, 10), (100, 10)))
    labels = np.repeat(np.arange(5), [40, 40, 10, 10, 10])
    cross = {i: [40 + (i + j) % 40 for j in range(3)] for i in a}  # A and B: pieces of one theme
    cross.update({i: [(i + j) % 40 for j in range(3)] for i in b})
    cross.update({i: [i - 80, i - 79, i - 40, 90 + i % 10, 100 + i % 10] for i in c})  # 3 of 5 into A+B
    merged = cluster.merge_interpenetrating(labels, _knn_within([a, b, c, d, e], 8, cross))
    assert merged[0] == merged[40]
    assert set(merged[80:90].tolist()) == {2}


def test_a_piece_whose_links_spread_over_its_siblings_still_joins_them():
    """One theme cut into pieces A, B, C, D: A, B and C face each other, D's links are spread
    evenly over all three, so no single sibling receives most of them; once A, B and C have
    joined, that group receives them all and D joins. E to H, separate themes, stay apart: they make
    the window large enough that one link to each sibling is more than chance would give."""
    n = 10
    start = {p: k * n for k, p in enumerate("ABCDEFGH")}
    follows = {"A": "B", "B": "C", "C": "A"}

    def member(piece: str, j: int) -> int:
        return start[piece] + j % n

    knn = []
    for piece in "ABCDEFGH":
        for j in range(n):
            own = [member(piece, j + d) for d in (1, 2, 3)]
            if piece in follows:
                other = [member(follows[piece], j), member(follows[piece], j + 1), member("D", j)]
            elif piece == "D":
                other = [member("A", j), member("B", j), member("C", j)]
            else:
                other = [member(piece, j + d) for d in (4, 5, 6)]
            knn.append(own + other)
    labels = np.repeat(np.arange(8), n)
    merged = cluster.merge_interpenetrating(labels, np.array(knn))
    assert len(set(merged[: 4 * n].tolist())) == 1
    assert set(merged[4 * n:].tolist()).isdisjoint(merged[: 4 * n].tolist())


def test_windows_up_to_the_sample_limit_are_clustered_whole():
    x, _ = blobs(60, 6)
    whole = cluster.cluster(x)
    limited = cluster.cluster(x, replace(cluster.default_params(len(x)), sample_limit=len(x)))
    assert whole.labels.tolist() == limited.labels.tolist()
    assert whole.assignment == limited.assignment


def test_fit_on_sample_places_every_row_and_finds_the_same_partition():
    """A third of the rows fitted, the rest placed: the groups are the exact path's groups."""
    x, truth = blobs(200, 6, spread=0.15, seed=3)
    exact = cluster.cluster(x)
    params = replace(cluster.default_params(len(x)), sample_limit=len(x) // 3)
    sampled = cluster.cluster(x, params)
    assert len(sampled.labels) == len(sampled.assignment) == len(sampled.probabilities) == len(x)
    assert set(sampled.assignment) <= {"core", "soft", "outlier"}
    assert sampled.n_clusters == exact.n_clusters == 6
    both = (sampled.labels != cluster.OUTLIER) & (exact.labels != cluster.OUTLIER)
    assert adjusted_rand_score(exact.labels[both], sampled.labels[both]) == 1.0
    assert adjusted_rand_score(truth[both], sampled.labels[both]) == 1.0
    assert (sampled.labels == cluster.OUTLIER).mean() <= 0.05
    assert sum(a == "core" for a in sampled.assignment) <= params.sample_limit  # only sampled rows are core
    assert (sampled.probabilities[np.array(sampled.assignment) != "core"] == 0).all()


def test_fit_on_sample_is_deterministic_for_a_seed():
    x, _ = blobs(150, 6, spread=0.4, seed=5)
    params = replace(cluster.default_params(len(x), seed=11), sample_limit=300)
    first, second = cluster.cluster(x, params), cluster.cluster(x, params)
    assert first.labels.tolist() == second.labels.tolist()
    assert first.assignment == second.assignment


def test_a_placed_ticket_takes_the_theme_of_most_of_its_nearest_sampled_tickets():
    """Not the nearest centroid: HDBSCAN's themes are not centroid cells. Two of three neighbours
    decide; with most of them outliers the ticket stays one; a tie goes to the lower label."""
    assert cluster._vote(np.array([[2, 2, 0], [0, -1, -1], [-1, 1, 1]])).tolist() == [2, cluster.OUTLIER, 1]
    assert cluster._vote(np.array([[3, 1, -1, -1], [1, 3, 3, 1]])).tolist() == [cluster.OUTLIER, 1]
    assert cluster._vote(np.full((2, 3), cluster.OUTLIER)).tolist() == [cluster.OUTLIER] * 2


def test_cell_search_finds_the_exact_neighbours_when_it_probes_every_cell():
    x, truth = blobs(40, 5, spread=0.3, seed=7)
    labels = np.where(np.arange(len(x)) % 7 == 0, cluster.OUTLIER, truth)  # outliers fall in cells too
    queries, candidates = np.arange(0, len(x), 2), np.arange(1, len(x), 2)
    found = cluster.cell_search(x, cluster.Cells.of(x, labels, 5), queries, candidates, 4)
    sims = x[queries] @ x[candidates].T
    assert (found == candidates[np.argsort(-sims, axis=1)[:, :4]]).all()
    one_cell = cluster.cell_search(x, cluster.Cells.of(x, labels, 1), queries, candidates, 4)
    assert np.isin(one_cell, candidates).all() and (one_cell == found).mean() > 0.9  # blobs: neighbours share a cell
    every = np.arange(len(x))
    assert not (cluster.cell_search(x, cluster.Cells.of(x, labels, 5), every, every, 4) == every[:, None]).any()  # never itself
    no_clusters = cluster.Cells.of(x, np.full(len(x), cluster.OUTLIER), 5)  # one cell of everything: exact
    assert (cluster.cell_search(x, no_clusters, queries, candidates, 4) == found).all()


def test_nearest_among_is_exact_block_by_block(monkeypatch):
    monkeypatch.setattr(cluster, "SEARCH_BLOCK", 7)  # several blocks, the last one short
    x, _ = blobs(20, 3, spread=0.4, seed=2)
    rows, pool = np.arange(0, 30), np.arange(30, len(x))
    found = cluster.nearest_among(x, rows, pool, 5)
    assert (found == pool[np.argsort(-(x[rows] @ x[pool].T), axis=1)[:, :5]]).all()
    assert cluster.nearest_among(x, rows, rows, 40).shape == (30, 29)  # itself excluded, k capped


def test_the_sample_keeps_the_windows_smallest_theme_share():
    window = cluster.default_params(500_000, seed=3)
    sample = cluster.sample_params(window, 500_000)
    assert (window.min_cluster_size, sample.min_cluster_size) == (354, 35)  # 354 * 50k / 500k
    assert sample.min_samples == 11 and sample.seed == 3
    assert cluster.sample_params(window, cluster.SAMPLE_LIMIT) == window  # no sample, no shrinking
    assert cluster.sample_params(cluster.default_params(1000), 10**9).min_cluster_size == 5


def test_placement_in_blocks_equals_placement_at_once(monkeypatch):
    x, truth = blobs(30, 4, spread=0.3, seed=2)
    labels = np.where(np.arange(len(x)) % 3 == 0, cluster.OUTLIER, truth)
    at_once = cluster.soft_assign(x, labels)
    monkeypatch.setattr(cluster, "BLOCK", 7)
    in_blocks = cluster.soft_assign(x, labels)
    assert at_once[0].tolist() == in_blocks[0].tolist() and at_once[1].tolist() == in_blocks[1].tolist()
    assert in_blocks[1].any()


def test_a_theme_of_tickets_that_share_only_the_scope_s_common_ground_admits_no_more_of_it():
    """A diffuse scope whose tickets share only some common ground ("error ..."): a loose theme of half
    of it has a lower Tukey fence far below the similarity its other tickets have to it, and admitted
    27 of the 30 (a sink). Its fence never falls below their mean similarity to its centroid."""
    rng = np.random.default_rng(0)
    x = 0.5 * np.eye(64)[0] + rng.normal(size=(60, 64)) / 8
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.array([0] * 30 + [cluster.OUTLIER] * 30)
    cents = cluster.centroids(x, labels)
    background = float(x[30:].mean(axis=0) @ cents[0])
    assert cluster.fences(x, labels, cents)[0] == pytest.approx(background)
    assert cluster.tukey_floor(x[:30] @ cents[0]) < background
    admitted = cluster.soft_assign(x, labels)[0][30:] == 0
    assert (x[30:][admitted] @ cents[0] >= background).all() and admitted.sum() < 20

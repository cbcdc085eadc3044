"""The one-pass selection of each row's k smallest values picks what `np.argpartition` picked."""

from functools import partial

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.neighbors import NearestNeighbors

from ticket_intel.core import cluster
from ticket_intel.core.smallest import k_smallest
from ticket_intel_tests.test_cluster import blobs

# Few distinct values, so ties are common; NaN and infinity as a search can hold them.
VALUES = st.sampled_from([0.0, 0.25, 0.5, 0.5, 1.0, 2.0, -1.0, np.inf, np.nan]) | st.floats(-2, 2, width=32)
MATRICES = hnp.arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 20)), elements=VALUES)


@settings(max_examples=400, deadline=None)
@given(MATRICES, st.integers(1, 20), st.sampled_from(["quicksort", "stable"]))
def test_the_selection_is_the_references_row_for_row(d, k, kind):
    k = min(k, d.shape[1])
    reference = partial(cluster._partitioned, k=k, kind=kind)
    assert (k_smallest(d, k, reference) == reference(d)).all()


def test_only_rows_with_tied_values_are_left_to_the_reference():
    """Rows whose k + 1 smallest values are distinct are the scan's: the reference sees the others."""
    d = np.array([[3, 1, 2, 9], [1, 1, 5, 6], [4, 3, 2, 2], [0, 5, 7, 7]], dtype=np.float32)
    seen = []

    def reference(rows: np.ndarray) -> np.ndarray:
        seen.append(rows.copy())
        return cluster._partitioned(rows, 2, "stable")

    found = k_smallest(d, 2, reference)
    assert len(seen) == 1 and seen[0].tolist() == [[1, 1, 5, 6], [4, 3, 2, 2]]  # the last row ties at its 4th value only
    assert found[[0, 3]].tolist() == [[1, 2], [0, 1]] and (found[[1, 2]] == reference(seen[0])).all()


def test_neighbours_are_scikit_learns_exactly_duplicates_included():
    """The window's neighbour graph feeds UMAP, whose layout is sensitive to it: the search gives the
    graph scikit-learn's brute force gave, to the order of tied duplicates, each row itself first."""
    x, _ = blobs(60, 4, spread=0.3, seed=5)
    x = np.vstack([x, x[:40], x[:10]])  # exact duplicates: tied distances
    idx, dist = cluster.neighbours(x, 12)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=12, metric="cosine", algorithm="brute").fit(x).kneighbors(x)
    for r in range(len(x)):
        assert idx[r].tolist() == [r, *[j for j in ref_idx[r] if j != r]]
        assert dist[r].tolist() == [0.0, *np.maximum(ref_dist[r][ref_idx[r] != r], 0).tolist()]
    assert (ref_idx[:, 0] != np.arange(len(x))).any()  # ties did occur

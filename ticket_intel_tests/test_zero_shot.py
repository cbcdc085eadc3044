"""Zero-shot pair scores: each (category, subcategory) scores its closest description sentence."""

from __future__ import annotations

import numpy as np

from ticket_intel.core.triage import ZeroShot, pair_scores


def test_each_pair_scores_its_closest_sentence_whatever_order_the_sentences_come_in():
    keys = [("bug", "ui"), ("how-to", "use"), ("bug", "ui"), ("bug", "data")]
    sentences = np.array([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    index = ZeroShot(keys, sentences)
    tickets = np.array([[0, 1], [1, 0]], dtype=np.float32)
    assert index.pairs == [("bug", "ui"), ("how-to", "use"), ("bug", "data")]
    np.testing.assert_allclose(pair_scores(index, tickets), [[0.8, 1.0, 0.0], [1.0, 0.0, -1.0]])
    np.testing.assert_allclose(pair_scores(index, tickets[:1]), [[0.8, 1.0, 0.0]])  # again, one ticket

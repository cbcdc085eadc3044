"""Exact nearest-neighbour retrieval over the knowledge base, and the relatedness floor."""

from __future__ import annotations

import numpy as np
import pytest

from ticket_intel.core.retrieve import best, build_index, cosines, relatedness_floor, similar, unit_rows


def _index(n: int = 50, dim: int = 16, seed: int = 1):
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    ids = [f"zendesk:{i}" for i in range(n)]
    return build_index(ids, vectors, [f"text {i}" for i in ids], [f"fix {i}" for i in ids]), vectors


def test_results_are_the_exact_top_k_by_cosine_best_first():
    index, vectors = _index()
    query = np.random.default_rng(7).normal(size=16).astype(np.float32)
    found = similar(index, query, k=5)
    cosines = unit_rows(vectors) @ unit_rows(query)
    expected = np.argsort(-cosines)[:5]
    assert [m.ticket_id for m in found] == [f"zendesk:{i}" for i in expected]
    assert [m.similarity for m in found] == pytest.approx(cosines[expected].tolist(), abs=1e-5)
    assert found[0].text == f"text zendesk:{expected[0]}" and found[0].resolution == f"fix zendesk:{expected[0]}"


def test_a_ticket_is_never_its_own_neighbour_and_k_is_kept():
    index, vectors = _index()
    found = similar(index, vectors[3], k=4, exclude="zendesk:3")
    assert len(found) == 4 and "zendesk:3" not in [m.ticket_id for m in found]
    assert similar(index, vectors[3], k=1)[0].ticket_id == "zendesk:3"


def test_small_and_empty_knowledge_bases():
    index, vectors = _index(n=3)
    assert len(similar(index, vectors[0], k=10)) == 3
    empty = build_index([], np.zeros((0, 16), np.float32), [], [])
    assert similar(empty, vectors[0], k=5) == []


def test_bad_inputs_say_what_is_wrong():
    index, _ = _index()
    with pytest.raises(ValueError, match="k must be at least 1"):
        similar(index, np.ones(16, np.float32), k=0)
    with pytest.raises(ValueError, match="8 dimensions, the knowledge base 16"):
        similar(index, np.ones(8, np.float32))
    with pytest.raises(ValueError, match="differ in length"):
        build_index(["a", "b"], np.ones((2, 4)), ["x"], ["y", "z"])


def test_nearest_handles_k_equal_to_the_corpus():
    sims = cosines(unit_rows(np.eye(3, dtype=np.float32)), np.array([0, 1, 0], np.float32))
    rows = best(sims, 3)
    assert rows[0] == 1 and sims[rows[0]] == pytest.approx(1.0) and len(rows) == 3


def test_the_floor_separates_related_from_random_pairs():
    rng = np.random.default_rng(0)
    centres = unit_rows(rng.normal(size=(200, 32)))
    members = unit_rows(np.repeat(centres, 5, axis=0) + 0.05 * rng.normal(size=(1000, 32)))
    floor = relatedness_floor(members)
    same = float(np.min(np.einsum("ij,ij->i", members[0::5], members[1::5])))
    assert floor < same  # two members of one group are closer than the floor
    assert relatedness_floor(members) == floor  # deterministic
    assert relatedness_floor(members[:1]) == 1.0  # a single ticket relates to nothing


def test_a_question_asked_many_times_is_one_question_to_the_floor_and_the_results():
    """A shop answering the same eight questions twelve times each: its floor was 1.0, so exact
    matches were 'as close as unrelated tickets', and k=3 showed one question three times."""
    rng = np.random.default_rng(3)
    centres = unit_rows(rng.normal(size=(8, 32)))
    vectors = np.repeat(centres, 12, axis=0)
    texts = [f"question {i // 12}" for i in range(96)]
    index = build_index([f"zendesk:{i}" for i in range(96)], vectors, texts, [f"answer {i // 12}" for i in range(96)])
    assert index.floor < 0.99
    found = similar(index, centres[2], k=3)
    assert found[0].text == "question 2" and found[0].related(index.floor)
    assert len({(m.text, m.resolution) for m in found}) == 3 and found[0].ticket_id == "zendesk:24"


def test_a_query_with_nothing_to_read_finds_nothing():
    """"Hi there!" holds no words of meaning: nothing is similar to it (mutation review)."""
    v = np.eye(4, dtype=np.float32)
    index = build_index(["a", "b", "c", "d"], v, ["card declined", "refund late", "app crash", "login fails"],
                        ["r1", "r2", "r3", "r4"])
    assert similar(index, v[0], k=2, text="Hi there!") == []
    assert [m.ticket_id for m in similar(index, v[0], k=1, text="card declined")] == ["a"]

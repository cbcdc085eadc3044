"""Work shared among forked workers: every item once, in order, with the caller's state."""

from __future__ import annotations

import os

import pytest

from ticket_intel.core import parallel
from ticket_intel.core.parallel import forked_map, spans


@pytest.mark.parametrize(("n", "parts"), [(0, 4), (1, 4), (10, 3), (16, 16), (7, 1)])
def test_spans_cover_every_item_once_in_order(n, parts):
    cut = spans(n, parts)
    assert [i for start, stop in cut for i in range(start, stop)] == list(range(n))
    assert all(stop > start for start, stop in cut)


def test_forked_workers_see_the_callers_state_and_return_results_in_order():
    parent, items = os.getpid(), [f"item {i}" for i in range(40)]  # state the workers inherit, never pickled

    def work(start: int, stop: int) -> list[tuple[str, int]]:
        return [(items[i].upper(), os.getpid()) for i in range(start, stop)]
    out = forked_map(work, len(items), min_per_worker=5, workers=2)
    assert [x for x, _ in out] == [x.upper() for x in items]
    if parallel.can_fork():
        assert parent not in {pid for _, pid in out}
    assert parallel._work is None


def test_few_items_a_worker_run_here():
    assert {pid for pid in forked_map(lambda a, b: [os.getpid()] * (b - a), 9, min_per_worker=5, workers=2)} == {
        os.getpid()}

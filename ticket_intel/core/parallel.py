"""Work over many items shared among forked processes: the other core of a 2-core machine.

A forked worker inherits the parent's memory (built engines, loaded models, the batch itself), so
nothing is pickled on the way in; only results travel back. Below `min_per_worker` items a worker,
starting and stopping forks costs more than it saves, and the work runs here.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# The work of the pool running now, as forked workers see it: set before the fork, read after it.
_work: Callable[[int, int], list[Any]] | None = None


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Forked workers inherit the parent's state; a daemonic process may not start any."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _default_sigterm() -> None:
    """A forked worker inherits the parent's SIGTERM handler; one that does not exit (a server or a
    framework may have installed it) would leave the pool waiting forever for the worker to stop."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(span: tuple[int, int]) -> list[Any]:
    assert _work is not None
    return _work(*span)


def spans(n: int, parts: int) -> list[tuple[int, int]]:
    """[0, n) cut into `parts` consecutive spans of near-equal length (none empty)."""
    parts = min(parts, n)
    if parts < 1:
        return []
    bounds = [n * i // parts for i in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def forked_map(work: Callable[[int, int], Sequence[T]], n: int, min_per_worker: int,
               workers: int | None = None, chunks_per_worker: int = 8) -> list[T]:
    """`work(start, stop)` (the results for items start..stop-1, in order) over items 0..n-1, in
    order: shared among up to `workers` forked processes (default: one per available CPU) when each
    gets at least `min_per_worker` items, else here. Items go out in `chunks_per_worker` spans a
    worker, so that one slow span does not leave the other core idle."""
    global _work
    workers = min(workers or available_cpus(), n // max(min_per_worker, 1))
    if workers < 2 or not can_fork():
        return list(work(0, n))
    _work = work
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_default_sigterm) as pool:
            parts = pool.map(_run, spans(n, workers * chunks_per_worker), chunksize=1)
            pool.close()  # workers leave on their own; terminating them could kill one holding the queue's lock
            pool.join()
    finally:
        _work = None
    return [x for part in parts for x in part]

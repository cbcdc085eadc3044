"""The server's micro-batcher: waiting items share calls, results keep their owners, failures stay alone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ticket_intel.adapters.microbatch import MicroBatcher


def test_waiting_items_share_capped_calls_in_arrival_order_and_each_gets_its_own_result():
    calls: list[list[int]] = []
    gate = threading.Event()

    def square(items: list[int]) -> list[int]:
        calls.append(items)
        gate.wait(5)  # the first call holds the only worker while the others arrive
        return [i * i for i in items]

    async def main() -> list[int]:
        batcher = MicroBatcher(square, max_batch=3, workers=1)
        first = asyncio.create_task(batcher(1))
        while not calls:
            await asyncio.sleep(0.001)
        rest = [asyncio.create_task(batcher(i)) for i in range(2, 7)]
        await asyncio.sleep(0.01)
        gate.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(main()) == [1, 4, 9, 16, 25, 36]
    assert calls == [[1], [2, 3, 4], [5, 6]]  # a lone item never waits for company


def test_a_second_worker_takes_what_waits_while_the_first_is_busy():
    started: list[list[int]] = []
    both = threading.Barrier(2, timeout=5)  # passes only if two calls run at the same time

    def run(items: list[int]) -> list[int]:
        started.append(items)
        both.wait()
        return items

    async def main() -> list[int]:
        batcher = MicroBatcher(run, max_batch=1, workers=2)
        return await asyncio.gather(batcher(1), batcher(2))

    assert asyncio.run(main()) == [1, 2] and sorted(started) == [[1], [2]]


def test_a_failing_item_fails_only_itself_and_the_batcher_goes_on():
    def invert(items: list[int]) -> list[float]:
        return [1 / i for i in items]

    async def main() -> tuple[list, float]:
        batcher = MicroBatcher(invert, max_batch=8, workers=1)
        outcomes = await asyncio.gather(*(batcher(i) for i in (2, 0, 4)), return_exceptions=True)
        return outcomes, await batcher(5)

    outcomes, later = asyncio.run(main())
    assert outcomes[0] == 0.5 and outcomes[2] == 0.25 and isinstance(outcomes[1], ZeroDivisionError)
    assert later == 0.2


def test_a_batch_function_that_loses_results_is_an_error_not_a_hang():
    async def main() -> None:
        await asyncio.wait_for(MicroBatcher(lambda items: [], max_batch=2, workers=1)(1), timeout=5)

    with pytest.raises(ValueError, match="0 results for 1 items"):
        asyncio.run(main())

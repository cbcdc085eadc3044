"""The server's micro-batcher: concurrent items share calls, results keep their owners, failures stay alone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ticket_intel.adapters.microbatch import MicroBatcher


def test_items_waiting_together_share_one_call_and_each_gets_its_own_result():
    calls: list[list[int]] = []
    gate = threading.Event()

    def square(items: list[int]) -> list[int]:
        calls.append(items)
        gate.wait(5)  # the first call holds the worker while the others arrive
        return [i * i for i in items]

    async def main() -> list[int]:
        batcher = MicroBatcher(square)
        first = asyncio.create_task(batcher(1))
        while not calls:
            await asyncio.sleep(0.001)
        rest = [asyncio.create_task(batcher(i)) for i in range(2, 7)]
        await asyncio.sleep(0.01)
        gate.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(main()) == [1, 4, 9, 16, 25, 36]
    assert calls == [[1], [2, 3, 4, 5, 6]]  # a lone item never waits for company; the rest go together


def test_a_failing_item_fails_only_itself_and_the_batcher_goes_on():
    def invert(items: list[int]) -> list[float]:
        return [1 / i for i in items]

    async def main() -> tuple[list, float]:
        batcher = MicroBatcher(invert)
        outcomes = await asyncio.gather(*(batcher(i) for i in (2, 0, 4)), return_exceptions=True)
        return outcomes, await batcher(5)

    outcomes, later = asyncio.run(main())
    assert outcomes[0] == 0.5 and outcomes[2] == 0.25 and isinstance(outcomes[1], ZeroDivisionError)
    assert later == 0.2


def test_a_batch_function_that_loses_results_is_an_error_not_a_hang():
    async def main() -> None:
        await asyncio.wait_for(MicroBatcher(lambda items: [])(1), timeout=5)

    with pytest.raises(ValueError, match="0 results for 1 items"):
        asyncio.run(main())

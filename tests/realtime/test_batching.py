"""`Batcher`: what many sockets ask for at one moment runs as one call for all of them."""

from __future__ import annotations

import asyncio
import threading

import pytest

from realtime.batching import Batcher


class Recorder:
    """`run_many` that records each batch and waits for a gate, so batches can pile up."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        assert self.gate.wait(5)
        return [item * 10 for item in items]


async def test_calls_waiting_together_run_as_one_batch_each_with_its_own_result():
    run_many = Recorder()
    batcher = Batcher(run_many, in_flight=1)
    first = asyncio.ensure_future(batcher(1))
    await asyncio.sleep(0.05)  # the first batch is running; the next ones gather behind it
    rest = [asyncio.ensure_future(batcher(n)) for n in range(2, 30)]
    await asyncio.sleep(0.05)
    run_many.gate.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [n * 10 for n in range(2, 30)]
    assert run_many.batches == [[1], list(range(2, 30))]


async def test_at_most_in_flight_batches_run_at_once():
    run_many = Recorder()
    batcher = Batcher(run_many, in_flight=2)
    calls = [asyncio.ensure_future(batcher(n)) for n in range(5)]
    await asyncio.sleep(0.1)
    # The first two callers found a free slot each; the rest wait for one.
    assert batcher.in_flight == 2 and run_many.batches == [[0], [1]]
    assert [item for item, _future in batcher.waiting] == [2, 3, 4]
    run_many.gate.set()
    assert await asyncio.gather(*calls) == [0, 10, 20, 30, 40]
    assert run_many.batches[2:] == [[2, 3, 4]]
    assert batcher.in_flight == 0 and batcher.waiting == []


async def test_a_failing_batch_fails_each_of_its_callers_and_the_next_batch_still_runs():
    gate = threading.Event()
    calls: list[list[str]] = []

    def run_many(items: list[str]) -> list[str]:
        calls.append(items)
        assert gate.wait(5)
        if "bad" in items:
            raise RuntimeError("database away")
        return items

    batcher = Batcher(run_many, in_flight=1)
    first = asyncio.ensure_future(batcher("first"))
    await asyncio.sleep(0.05)
    together = asyncio.gather(batcher("bad"), batcher("beside it"), return_exceptions=True)
    await asyncio.sleep(0.05)
    gate.set()
    assert await first == "first"
    assert [type(result) for result in await together] == [RuntimeError, RuntimeError]
    assert calls == [["first"], ["bad", "beside it"]]
    assert await batcher("later") == "later"
    assert batcher.in_flight == 0


async def test_a_cancelled_caller_does_not_disturb_the_others():
    run_many = Recorder()
    batcher = Batcher(run_many, in_flight=1)
    gone = asyncio.ensure_future(batcher(1))
    stays = asyncio.ensure_future(batcher(2))
    await asyncio.sleep(0.05)
    gone.cancel()
    run_many.gate.set()
    assert await stays == 20
    with pytest.raises(asyncio.CancelledError):
        await gone


def test_a_new_event_loop_starts_afresh():
    """Tests run each on its own loop: a batch left waiting on a closed loop is not waited for."""
    run_many = Recorder()
    batcher = Batcher(run_many, in_flight=1)

    async def leave_one_running() -> None:
        waiting = asyncio.ensure_future(batcher(1))
        await asyncio.sleep(0.05)
        assert not waiting.done()

    threading.Timer(0.2, run_many.gate.set).start()  # asyncio.run waits for the worker thread
    asyncio.run(leave_one_running())
    assert asyncio.run(batcher(2)) == 20

"""Database work that many sockets ask for at one moment, done in one call for all of them.

A reconnect storm brings a thousand handshakes and a thousand closes within a second or two.
One query each queues them on the worker threads and the connection pool, and most of each
query's cost is Django building it; one query per batch costs about the same as one alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from realtime.threads import read_in_thread

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`await batcher(item)`: the items waiting at one moment go to `run_many` in one call on a
    worker thread, and each caller gets its own result (or the call's exception). While
    `in_flight` calls run, the next batch gathers."""

    def __init__(self, run_many: Callable[[list[T]], list[R]], *, in_flight: int = 2) -> None:
        self.run_many = read_in_thread(run_many)
        self.in_flight_limit = in_flight
        self.waiting: list[tuple[T, asyncio.Future[R]]] = []
        self.in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): what waited on the old one is gone
            self._loop, self.waiting, self.in_flight = loop, [], 0
        future: asyncio.Future[R] = loop.create_future()
        self.waiting.append((item, future))
        if self.in_flight < self.in_flight_limit:
            self._next_batch(loop)
        return await future

    def _next_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self.waiting = self.waiting, []
        if batch:
            self.in_flight += 1
            loop.create_task(self._run(loop, batch), name="realtime-batch")

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self.run_many([item for item, _future in batch])
        except Exception as error:
            for _item, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            for (_item, future), result in zip(batch, results, strict=True):
                if not future.done():  # its caller may have been cancelled meanwhile
                    future.set_result(result)
        finally:
            if self._loop is loop:
                self.in_flight -= 1
                if self.waiting and self.in_flight < self.in_flight_limit:
                    self._next_batch(loop)

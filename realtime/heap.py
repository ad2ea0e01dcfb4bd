"""Keeping CPython's cycle collector from stopping every socket of a process for long.

A full collection walks every object the collector tracks. A daphne process holding 5,000
sockets has about a million (some 140 per socket, and 130,000 from the imports); each pass
stopped the event loop for 100-400 ms and every frame in flight waited (p99 277 ms at 5,000
sockets, where the bare Channels floor had 27 ms). Sockets live for minutes or hours, so the
hub moves what is alive into the permanent generation every FREEZE_EVERY seconds (`gc.freeze`
takes constant time): collections then walk only what is newer. Frozen objects are still freed
by reference counting as soon as nothing refers to them; only reference cycles among them wait
for the full collection every FULL_EVERY seconds (a closed socket leaves about one object in a
cycle behind).
"""

from __future__ import annotations

import gc
import time

FREEZE_EVERY = 1.0  # seconds
FULL_EVERY = 600.0  # seconds between full collections (one pause of the old length)


class Heap:
    def __init__(self) -> None:
        self.last_full = time.monotonic()
        self.full_collections = 0

    async def tend(self) -> None:
        """The hub's periodic step: a full collection when due, then freeze what is alive."""
        if time.monotonic() - self.last_full >= FULL_EVERY:
            gc.unfreeze()
            gc.collect()
            self.last_full = time.monotonic()
            self.full_collections += 1
        gc.freeze()

    def release(self) -> None:
        """The hub stops: the collector walks everything again, as without a hub."""
        gc.unfreeze()

"""`realtime.heap`: the hub freezes what is alive so collections walk only newer objects, and a
full collection still comes round for cycles among frozen ones."""

from __future__ import annotations

import gc
import weakref

import pytest

from realtime import heap
from realtime.heap import Heap


class Node:
    """Something the collector tracks; two of them referring to each other make a cycle."""

    other: Node | None = None


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def garbage_cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


async def test_tending_freezes_what_is_alive_and_a_frozen_cycle_waits_for_the_full_collection(
    unfrozen, monkeypatch
):
    tender = Heap()
    cycle = garbage_cycle()
    await tender.tend()
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert cycle() is not None  # frozen: no collection walks it
    monkeypatch.setattr(heap, "FULL_EVERY", 0.0)
    await tender.tend()
    assert cycle() is None and tender.full_collections == 1
    assert gc.get_freeze_count() > 0  # and what is alive is frozen again


async def test_a_frozen_object_is_still_freed_when_nothing_refers_to_it(unfrozen):
    alone = Node()
    gone = weakref.ref(alone)
    await Heap().tend()
    del alone  # no cycle: reference counting frees it at once, frozen or not
    assert gone() is None


async def test_the_hub_stopping_unfreezes(unfrozen):
    tender = Heap()
    await tender.tend()
    tender.release()
    assert gc.get_freeze_count() == 0

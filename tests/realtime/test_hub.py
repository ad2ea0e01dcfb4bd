"""The process hub: it repairs what the layer lost even when writers commit out of id order, it
is the only periodic work, and every way a socket ends leaves nothing behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from crm import services
from realtime import presence, publish
from realtime.hub import hub
from realtime.models import OutboxEvent
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(socket: helpers.Socket) -> int | None:
    """The close code, after whatever presence updates were still on their way."""
    while True:
        try:
            frame = await socket.recv()
        except helpers.Closed as closed:
            return closed.code
        assert frame["type"] == "presence", frame


@pytest.fixture
def layer_lost_everything(monkeypatch):
    """No change frame reaches the layer: whatever arrives came from the hub's tailer."""
    monkeypatch.setattr(publish, "publish_frames", lambda customer_id, frames: None)


async def test_a_late_commit_with_a_lower_id_is_not_skipped(
    people, sockets, make_customer, layer_lost_everything
):
    """Outbox ids are taken at insert and transactions commit later, out of order: Alice's event
    gets the lower id but commits after Bob's. Tailing by "id > the last id seen" would skip it
    for good; the hub reads by each customer's seq, which commits in order."""
    alice, bob, _staff = people
    alice_socket, bob_socket = await sockets(alice.portal_user), await sockets(bob.portal_user)
    for socket in (alice_socket, bob_socket):
        await socket.subscribe(["messages"])
    inserted, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction.atomic():
            services.post_message(customer=alice, body="committed last", author=None)
            inserted.set()
            assert release.wait(10)

    writer = asyncio.create_task(asyncio.to_thread(slow_writer))
    await asyncio.to_thread(inserted.wait, 10)
    await sync_to_async(services.post_message)(customer=bob, body="committed first", author=None)
    [bobs] = await bob_socket.changes(1)  # the tailer went past Bob's (higher) id
    assert bobs["new"]["body"] == "committed first"
    release.set()
    await writer
    [alices] = await alice_socket.changes(1)
    assert alices["new"]["body"] == "committed last"
    ids = await sync_to_async(
        lambda: dict(
            OutboxEvent.objects.filter(seq__in=[alices["seq"], bobs["seq"]]).values_list("customer_id", "id")
        )
    )()
    assert ids[alice.pk] < ids[bob.pk], "the scenario needs Alice's id below Bob's"


@pytest.fixture
def queries(monkeypatch):
    """Counts every query any thread runs (the hub and the sockets query from worker threads)."""
    from django.db.backends import utils

    counted = []
    original = utils.CursorWrapper.execute

    def execute(self, sql, params=None):
        counted.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(utils.CursorWrapper, "execute", execute)
    return counted


async def test_an_idle_socket_costs_no_task_and_no_query(people, sockets, queries, settings):
    alice, _bob, _staff = people
    before = {task.get_name() for task in asyncio.all_tasks()}
    opened = [await sockets(alice.portal_user) for _ in range(5)]
    for socket in opened:
        await socket.subscribe()
    # Only the hub's tasks are new: no per-socket timers or checks.
    new = {task.get_name() for task in asyncio.all_tasks()} - before
    assert {name for name in new if name.startswith("realtime-")} == {
        "realtime-hub-tailer",
        "realtime-hub-sweep",
        "realtime-hub-report",
        "realtime-hub-heap",
        "realtime-hub-router",
    }
    assert len(hub().sockets) == 5
    # Pings are answered from memory, and the hub's tailer makes one query per interval for
    # the whole process, whatever the number of sockets.
    queries.clear()
    ticks = 5
    await asyncio.sleep(settings.REALTIME_TAIL_INTERVAL * (ticks + 0.5))
    for socket in opened:
        await socket.send({"type": "ping"})
        assert (await socket.expect("pong"))["seq"] == socket.hello["seq"]
    assert 1 <= len(queries) <= ticks + 1, queries


async def test_every_way_a_socket_ends_leaves_nothing_behind(people, sockets, monkeypatch):
    """Normal closes, handler crashes (close 1011), daphne killing a handler (cancellation) and
    a mass close: no hub entry, no group membership and no presence entry remains."""
    alice, bob, staff = people
    layer = get_channel_layer()
    hub().router.linger = 0  # customer groups are left at once (normally after a while)
    opened = []
    for n in range(30):
        user = (alice.portal_user, bob.portal_user)[n % 2]
        socket = await sockets(user)
        await socket.send({"type": "presence", "status": "active"})
        await socket.expect("presence")
        opened.append(socket)
    watcher = await sockets(staff, f"?customer={alice.pk}")
    assert len(hub().sockets) == 31

    # Crashes: a handler that raises closes its socket with 1011 and cleans up.
    crash_on = {socket.hello["customer"] for socket in opened[:10]}

    def crashing_known_seq(customer_id: int) -> int:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(hub(), "known_seq", crashing_known_seq)
    for socket in opened[:10]:
        await socket.send({"type": "ping"})
        assert await closed_with(socket) == 1011
    monkeypatch.undo()
    assert crash_on  # both customers had crashed sockets
    # Kills: daphne cancels a handler that did not finish after its close timeout.
    for socket in opened[10:20]:
        socket.comm.future.cancel()
    # The rest close normally, all at once.
    await asyncio.gather(*(socket.close() for socket in [*opened[10:], watcher]))

    async def leftovers():
        rooms = {customer: (await presence.store().online(customer))[0] for customer in (alice.pk, bob.pk)}
        # What stays is the process's own link to the layer: its channel in the revocations group.
        groups = {
            group: channels
            for group, channels in getattr(layer, "groups", {}).items()
            if channels and not group.endswith(publish.REVOCATIONS_GROUP)
        }
        return hub().sockets, hub().by_customer, groups, {c: online for c, online in rooms.items() if online}

    for _ in range(100):
        if await leftovers() == ({}, {}, {}, {}):
            break
        await asyncio.sleep(0.05)
    assert await leftovers() == ({}, {}, {}, {})
    assert not [task for task in asyncio.all_tasks() if "Consumer" in repr(task.get_coro())]


async def test_the_sweep_records_which_customers_have_a_tab_open_for_the_emails(people, sockets):
    """`realtime.attendance`: PostgreSQL, so `send_notifications` in another process sees it,
    with the in-memory layer too. A staff socket watching a customer is not the customer."""
    from realtime import attendance
    from realtime.models import Attendance

    alice, bob, staff = people
    await sockets(alice.portal_user)
    await sockets(staff, f"?customer={bob.pk}")
    await hub().sweep_once()
    seen = await sync_to_async(
        lambda: dict(Attendance.objects.values_list("customer_id", "connected_until"))
    )()
    assert set(seen) == {alice.pk}
    assert attendance.is_present(seen[alice.pk])
    assert not attendance.is_present(None)
    assert not attendance.is_present(seen[alice.pk], now=seen[alice.pk] + dt.timedelta(minutes=5))

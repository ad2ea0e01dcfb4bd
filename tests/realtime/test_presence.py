"""Presence and typing (docs/protocol.md, "Presence and typing") on the real Redis layer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from realtime import presence
from tests.realtime import helpers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_presence_store(realtime_stack):
    presence.reset_store()
    yield
    presence.reset_store()


async def join(socket: helpers.Socket, status: str = "active", page: str | None = None) -> None:
    await socket.send({"type": "presence", "status": status, **({"page": page} if page else {})})


async def room_of(socket: helpers.Socket, until=lambda online: True, timeout: float = 5) -> dict:
    """Apply presence frames to the socket's copy of the room until `until(room)` holds."""
    room = getattr(socket, "room", None)
    while True:
        frame = await socket.recv(timeout)
        if frame["type"] == "presence":
            room = dict(frame["online"])
        elif frame["type"] == "presence_diff":
            assert room is not None, "a diff before the whole room"
            room.update(frame["joined"])
            for key in frame["left"]:
                room.pop(key)
        else:
            continue
        socket.room = room
        if until(room):
            return room


async def test_the_whole_room_first_then_what_changed(people, sockets):
    alice, _bob, staff = people
    customer = await sockets(alice.portal_user)
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(customer)
    assert await customer.expect("presence") == {
        "type": "presence",
        "online": {
            f"user-{alice.portal_user.pk}": {"name": "Alice Example", "role": "customer", "status": "active"}
        },
    }
    await join(watcher, "away")
    # The watcher's first frame is the whole room; the customer hears only the newcomer.
    assert (await watcher.expect("presence"))["online"][f"user-{staff.pk}"]["role"] == "staff"
    assert await customer.expect("presence_diff") == {
        "type": "presence_diff",
        "joined": {f"user-{staff.pk}": {"name": "Sam Staff", "role": "staff", "status": "away"}},
        "left": [],
    }
    await watcher.send({"type": "presence", "status": "offline"})
    assert await customer.expect("presence_diff") == {
        "type": "presence_diff",
        "joined": {},
        "left": [f"user-{staff.pk}"],
    }


async def test_a_users_status_is_their_most_present_tab(people, sockets):
    """A hidden tab (away) beside an active one: the user is active, whichever was set last."""
    alice, _bob, staff = people
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(watcher)
    tabs = [await sockets(alice.portal_user) for _ in range(2)]
    await join(tabs[0], "active")
    await join(tabs[1], "away")
    for tab in tabs:  # a barrier: both joins handled
        await tab.until_pong()
    key = f"user-{alice.portal_user.pk}"
    online, _version = await presence.store().online(alice.pk)
    assert online[key]["status"] == "active"
    room = await room_of(watcher, until=lambda room: key in room)
    await tabs[0].close()  # the active tab goes: now she is away
    room = await room_of(watcher, until=lambda room: room.get(key, {}).get("status") == "away")
    assert set(room) == {key, f"user-{staff.pk}"}


async def test_typing_comes_only_from_the_room_and_not_back_to_the_same_user(people, sockets):
    alice, _bob, staff = people
    first_tab, second_tab = await sockets(alice.portal_user), await sockets(alice.portal_user)
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await first_tab.send({"type": "typing", "typing": True})
    assert (await first_tab.expect("error"))["code"] == "not_in_room"

    # All three show the conversation: typing is for them (docs/protocol.md).
    for socket, page in ((first_tab, "messages"), (second_tab, "messages"), (watcher, "customer")):
        await join(socket, page=page)
    await first_tab.send({"type": "typing", "typing": True})
    frame = await watcher.recv()
    while frame["type"] != "typing":
        frame = await watcher.recv()
    assert frame == {
        "type": "typing",
        "user": f"user-{alice.portal_user.pk}",
        "name": "Alice Example",
        "role": "customer",
        "typing": True,
    }
    # Leaving the room while typing says "stopped" for her.
    await first_tab.send({"type": "presence", "status": "offline"})
    frame = await watcher.recv()
    while frame["type"] != "typing":
        frame = await watcher.recv()
    assert frame["typing"] is False
    # Her other tab heard neither (a barrier: the staff's own typing reaches her after them).
    await watcher.send({"type": "typing", "typing": True})
    heard = [frame async for frame in frames_until(second_tab, "typing")]
    assert [f for f in heard if f["type"] == "typing"] == [
        {"type": "typing", "user": f"user-{staff.pk}", "name": "Sam Staff", "role": "staff", "typing": True}
    ]


async def frames_until(socket: helpers.Socket, kind: str):
    while True:
        frame = await socket.recv()
        yield frame
        if frame["type"] == kind:
            return


async def test_the_typing_throttle_counts_frames_not_values(people, sockets, make_user):
    """Alternating true and false used to pass every frame (2,000 of 2,000)."""
    alice, _bob, staff = people
    other = await sync_to_async(make_user)("dana", staff=True, perms=["crm.view_customer"], first_name="Dana")
    typist = await sockets(alice.portal_user)
    watcher = await sockets(staff, f"?customer={alice.pk}")
    barrier = await sockets(other, f"?customer={alice.pk}")
    await join(watcher, page="customer")
    for socket in (typist, barrier):
        await join(socket)
    for n in range(25):  # within the inbound frame limit, far over the typing limit
        await typist.send({"type": "typing", "typing": n % 2 == 0})
    await typist.until_pong()  # all 25 handled
    await barrier.send({"type": "typing", "typing": True})  # after them, through the same group
    relayed = []
    while (frame := await watcher.recv())["type"] != "typing" or frame["user"] != f"user-{other.pk}":
        if frame["type"] == "typing":
            relayed.append(frame)
    assert 1 <= len(relayed) <= 3, relayed


async def test_bad_presence_and_typing_frames_get_errors_and_the_socket_stays_open(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "presence", "status": "invisible"})
    assert (await socket.expect("error"))["code"] == "bad_status"
    await socket.send({"type": "typing", "typing": "yes"})
    assert (await socket.expect("error"))["code"] == "bad_typing"
    await socket.send({"type": "ping"})
    assert (await socket.expect("pong"))["type"] == "pong"


async def test_many_tabs_of_one_user_open_and_close_at_once(people, sockets, settings):
    """Each join used to send the whole room to everyone in it (143,000 frames for 500 sockets of
    one user); now rooms are announced a few times a second and each socket hears only changes."""
    alice, _bob, staff = people
    tabs_count = 250  # 200 closing at once ran redis-py's default pool (100) out
    settings.REALTIME_MAX_SOCKETS_PER_USER = tabs_count
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(watcher)
    watcher.room = (await watcher.expect("presence"))["online"]
    start = len(helpers.RECORDED)
    tabs = await asyncio.gather(*(sockets(alice.portal_user) for _ in range(tabs_count)))
    await asyncio.gather(*(join(tab) for tab in tabs))
    key = f"user-{alice.portal_user.pk}"
    await room_of(watcher, until=lambda room: key in room)
    await asyncio.gather(*(tab.close() for tab in tabs))
    room = await room_of(watcher, until=lambda room: key not in room)
    assert room == {f"user-{staff.pk}": {"name": "Sam Staff", "role": "staff", "status": "active"}}
    online, _version = await presence.store().online(alice.pk)
    assert online == room  # the final state is right
    frames = helpers.RECORDED[start:]
    assert not [f for f in frames if f["type"] == "error"]
    presence_frames = [f for f in frames if f["type"].startswith("presence")]
    # About one whole room per tab, and a few changes for the watcher: not tabs squared.
    assert len(presence_frames) <= 2 * (tabs_count + 1), len(presence_frames)


def test_expired_entries_drop_out_without_a_goodbye():
    now = 1000.0
    entry = {"name": "B", "role": "staff", "seen": 995.0}
    entries = {
        "socket-a": {
            "key": "user-1",
            "name": "A",
            "role": "customer",
            "status": "active",
            "seen": 990.0,
            "expires": 999.0,
        },
        "socket-b": {**entry, "key": "user-2", "status": "idle", "expires": 1070.0},
        "socket-c": {**entry, "key": "user-2", "status": "away", "expires": 1073.0},
    }
    assert presence.online_users(entries, now) == {"user-2": {"name": "B", "role": "staff", "status": "idle"}}

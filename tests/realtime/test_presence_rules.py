"""Presence and typing rules not pinned by test_presence.py (docs/protocol.md, "Presence and
typing"): the full order of statuses, the page a tab shows, closing while typing, and typing
only for sockets that show the conversation."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from realtime import presence, registry
from tests.realtime import helpers
from tests.realtime.test_presence import frames_until, join, room_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_presence_store(realtime_stack):
    presence.reset_store()
    yield
    presence.reset_store()


async def next_typing(socket: helpers.Socket) -> dict:
    while (frame := await socket.recv())["type"] != "typing":
        pass
    return frame


async def test_idle_is_more_present_than_away(people, sockets):
    alice, _bob, staff = people
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(watcher)
    key = f"user-{alice.portal_user.pk}"
    away, idle = await sockets(alice.portal_user), await sockets(alice.portal_user)
    await join(away, "away")
    await join(idle, "idle")
    room = await room_of(watcher, until=lambda room: room.get(key, {}).get("status") == "idle")
    assert room[key]["status"] == "idle"
    await join(away, "active")  # the hidden tab comes back: active beats idle
    await room_of(watcher, until=lambda room: room[key]["status"] == "active")
    await away.close()
    room = await room_of(watcher, until=lambda room: room[key]["status"] == "idle")
    assert set(room) == {key, f"user-{staff.pk}"}


async def test_the_page_of_the_most_present_tab_is_shown(people, sockets):
    alice, _bob, staff = people
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(watcher)
    key = f"user-{alice.portal_user.pk}"
    hidden, shown = await sockets(alice.portal_user), await sockets(alice.portal_user)
    await hidden.send({"type": "presence", "status": "away", "page": "invoices"})
    await shown.send({"type": "presence", "status": "active", "page": "messages"})
    room = await room_of(watcher, until=lambda room: room.get(key, {}).get("status") == "active")
    assert room[key] == {"name": "Alice Example", "role": "customer", "status": "active", "page": "messages"}
    await shown.send({"type": "presence", "status": "active"})  # a tab that does not say
    room = await room_of(watcher, until=lambda room: room[key].get("page") != "messages")
    assert room[key] == {"name": "Alice Example", "role": "customer", "status": "active"}


@pytest.mark.parametrize("page", ["", "Messages", "a" * 33, "../x", 7, ["messages"]])
async def test_a_bad_page_is_refused_and_nothing_joins(people, sockets, page):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.send({"type": "presence", "status": "active", "page": page})
    assert (await socket.expect("error"))["code"] == "bad_page"
    await socket.send({"type": "typing", "typing": True})
    assert (await socket.expect("error"))["code"] == "not_in_room"


async def test_closing_the_socket_while_typing_says_stopped(people, sockets):
    alice, _bob, staff = people
    typist = await sockets(alice.portal_user)
    watcher = await sockets(staff, f"?customer={alice.pk}")
    await join(typist)
    await join(watcher, page="customer")
    await typist.send({"type": "typing", "typing": True})
    assert (await next_typing(watcher))["typing"] is True
    await typist.close()  # the tab is closed mid-sentence
    frame = await next_typing(watcher)
    assert (frame["user"], frame["typing"]) == (f"user-{alice.portal_user.pk}", False)


async def test_typing_goes_only_to_sockets_showing_the_conversation(people, sockets, make_user):
    """Every portal page subscribes to every topic (for its notifications), so the presence
    `page` decides: the messages page, and the customer's admin page for staff."""
    alice, _bob, staff = people
    other = await sync_to_async(make_user)("dana", staff=True, perms=["crm.view_customer"], first_name="Dana")
    typist = await sockets(staff, f"?customer={alice.pk}")
    barrier = await sockets(other, f"?customer={alice.pk}")
    reader, elsewhere = await sockets(alice.portal_user), await sockets(alice.portal_user)
    for socket in (reader, elsewhere):
        await socket.subscribe(registry.topics())
    await join(typist, page="customer")
    await join(barrier, page="inbox")  # staff, in the room, not showing this conversation
    await join(reader, page="messages")
    await join(elsewhere, page="appointments")
    for socket in (reader, elsewhere, barrier):
        await socket.until_pong()  # each one's presence is handled
    await typist.send({"type": "typing", "typing": True})
    assert (await next_typing(reader))["user"] == f"user-{staff.pk}"
    # A barrier: `elsewhere` now shows messages, and the first typing frame it gets is Dana's.
    await join(elsewhere, page="messages")
    await elsewhere.until_pong()
    await barrier.send({"type": "typing", "typing": True})
    heard = [frame async for frame in frames_until(elsewhere, "typing")]
    typing = [frame for frame in heard if frame["type"] == "typing"]
    assert [frame["user"] for frame in typing] == [f"user-{other.pk}"], typing
    # Dana's socket, not on the customer's page, heard neither the staff's typing nor Alice's.
    await reader.send({"type": "typing", "typing": True})
    while (await next_typing(typist))["user"] != f"user-{alice.portal_user.pk}":
        pass  # Dana's, above
    await join(barrier, page="customer")
    await barrier.until_pong()
    await typist.send({"type": "typing", "typing": False})
    heard = [frame async for frame in frames_until(barrier, "typing")]
    assert [(f["user"], f["typing"]) for f in heard if f["type"] == "typing"] == [(f"user-{staff.pk}", False)]

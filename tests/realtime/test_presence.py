"""Presence and typing (docs/protocol.md, "Presence and typing") on the real Redis layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from realtime import presence

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_presence_store(redis_layer):
    presence.reset_store()
    yield
    presence.reset_store()


@sync_to_async
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(user, query: str = "") -> WebsocketCommunicator:
    cookie = await session_cookie(user)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/realtime/{query}",
        headers=[(b"origin", b"http://testserver"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator


@pytest.fixture
def people(make_customer, make_user):
    alice = make_customer("Alice Example", login="alice")
    bob = make_customer("Bob Example", login="bob")
    staff = make_user("sam", staff=True, perms=["crm.view_customer"], first_name="Sam", last_name="Staff")
    return alice, bob, staff


async def test_presence_lists_customer_and_staff_and_drops_them_on_leave(people):
    alice, bob, staff = people
    customer_socket = await connect(alice.portal_user)
    staff_socket = await connect(staff, f"?customer={alice.pk}")
    bob_socket = await connect(bob.portal_user)
    try:
        await customer_socket.send_json_to({"type": "presence", "status": "active"})
        first = await customer_socket.receive_json_from(timeout=5)
        assert first == {
            "type": "presence",
            "online": {
                f"user-{alice.portal_user.pk}": {
                    "name": "Alice Example",
                    "role": "customer",
                    "status": "active",
                }
            },
        }

        await bob_socket.send_json_to({"type": "presence", "status": "active"})
        bob_view = await bob_socket.receive_json_from(timeout=5)
        assert list(bob_view["online"]) == [f"user-{bob.portal_user.pk}"]  # rooms are per customer

        await staff_socket.send_json_to({"type": "presence", "status": "away"})
        both = {f"user-{alice.portal_user.pk}", f"user-{staff.pk}"}
        for socket in (customer_socket, staff_socket):
            frame = await socket.receive_json_from(timeout=5)
            assert set(frame["online"]) == both
        assert frame["online"][f"user-{staff.pk}"] == {"name": "Sam Staff", "role": "staff", "status": "away"}

        await staff_socket.disconnect()
        after_leave = await customer_socket.receive_json_from(timeout=5)
        assert set(after_leave["online"]) == {f"user-{alice.portal_user.pk}"}
        assert await bob_socket.receive_nothing(timeout=0.3)
    finally:
        for socket in (customer_socket, bob_socket):
            await socket.disconnect()


async def test_typing_reaches_the_others_subscribed_to_messages_only(people):
    alice, bob, staff = people
    customer_socket = await connect(alice.portal_user)
    staff_socket = await connect(staff, f"?customer={alice.pk}")
    bob_socket = await connect(bob.portal_user)
    try:
        for socket in (customer_socket, bob_socket):
            await socket.send_json_to({"type": "subscribe", "topics": ["messages"]})
            assert (await socket.receive_json_from(timeout=5))["type"] == "subscribed"

        await staff_socket.send_json_to({"type": "typing", "typing": True})
        frame = await customer_socket.receive_json_from(timeout=5)
        assert frame == {
            "type": "typing",
            "user": f"user-{staff.pk}",
            "name": "Sam Staff",
            "role": "staff",
            "typing": True,
        }
        await staff_socket.send_json_to({"type": "typing", "typing": True})  # repeat within a second: dropped
        await staff_socket.send_json_to({"type": "typing", "typing": False})
        assert (await customer_socket.receive_json_from(timeout=5))["typing"] is False

        # Both join the room so a presence frame can follow the typing frame as a barrier: it goes
        # through the same group after it, so a typing frame sent to them would arrive first.
        for joining in (staff_socket, customer_socket):
            await joining.send_json_to({"type": "presence", "status": "active"})
            for socket in (staff_socket, customer_socket)[: 1 + (joining is customer_socket)]:
                assert (await socket.receive_json_from(timeout=5))["type"] == "presence"
        await customer_socket.send_json_to({"type": "typing", "typing": True})
        await customer_socket.send_json_to({"type": "presence", "status": "idle"})
        # Staff did not subscribe to messages; the sender hears nothing back; Bob is another customer.
        for socket in (staff_socket, customer_socket):
            assert (await socket.receive_json_from(timeout=5))["type"] == "presence"
        assert await bob_socket.receive_nothing(timeout=0.3)
    finally:
        for socket in (customer_socket, staff_socket, bob_socket):
            await socket.disconnect()


async def test_bad_presence_and_typing_frames_get_errors_and_the_socket_stays_open(people):
    alice, _bob, _staff = people
    socket = await connect(alice.portal_user)
    try:
        await socket.send_json_to({"type": "presence", "status": "invisible"})
        assert (await socket.receive_json_from(timeout=5))["code"] == "bad_status"
        await socket.send_json_to({"type": "typing", "typing": "yes"})
        assert (await socket.receive_json_from(timeout=5))["code"] == "bad_typing"
        await socket.send_json_to({"type": "ping"})
        assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    finally:
        await socket.disconnect()


def test_expired_entries_drop_out_without_a_goodbye():
    now = 1000.0
    entries = {
        "socket-a": {
            "key": "user-1",
            "name": "A",
            "role": "customer",
            "status": "active",
            "seen": 990.0,
            "expires": 999.0,
        },
        "socket-b": {
            "key": "user-2",
            "name": "B",
            "role": "staff",
            "status": "idle",
            "seen": 995.0,
            "expires": 1070.0,
        },
        "socket-c": {
            "key": "user-2",
            "name": "B",
            "role": "staff",
            "status": "active",
            "seen": 998.0,
            "expires": 1073.0,
        },
    }
    assert presence.online_users(entries, now) == {
        "user-2": {"name": "B", "role": "staff", "status": "active"}
    }

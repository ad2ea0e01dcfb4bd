"""The staff stream over a socket (docs/protocol.md, "The staff stream"): who may open it, the
frames it sends, resume with `since`, and gap repair from the log when the layer loses frames."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from crm import services, staff_stream
from crm.models import InboxItem, StaffEvent
from tests.realtime.helpers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


class StaffSocket:
    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm

    async def recv(self, timeout: float = 5, *, presence: bool = False):
        """The next frame; `customer_presence` ones (unnumbered) only when asked for."""
        while True:
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return {"closed": output.get("code")}
            frame = json.loads(output["text"])
            if presence or frame["type"] != "customer_presence":
                return frame

    async def send(self, frame) -> None:
        await self.comm.send_json_to(frame)

    async def close(self) -> None:
        if not self.comm.future.done():
            await self.comm.disconnect(timeout=5)


async def open_socket(user=None) -> StaffSocket:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    socket = StaffSocket(WebsocketCommunicator(application, "/ws/staff/", headers=headers))
    connected, _ = await socket.comm.connect(timeout=5)
    assert connected
    return socket


@pytest.fixture
def staff(make_user):
    return make_user("sam", staff=True, perms=["crm.view_customer"])


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice")


async def test_without_view_customer_a_staff_user_gets_nothing_live(make_user, alice):
    clerk = await sync_to_async(make_user)("clerk", staff=True, perms=["crm.view_job"])
    for user, code in ((None, 4401), (clerk, 4403), (alice.portal_user, 4403)):
        socket = await open_socket(user)
        assert await socket.recv() == {"closed": code}
        await socket.close()


async def test_a_customer_message_arrives_as_a_numbered_change_then_resume_sends_what_was_missed(
    staff, alice
):
    socket = await open_socket(staff)
    hello = await socket.recv()
    assert hello == {"type": "hello", "stream": "staff", "seq": 0, "topics": ["inbox"]}
    await socket.send({"type": "subscribe", "topics": ["inbox"], "since": hello["seq"]})
    assert await socket.recv() == {"type": "subscribed", "topics": ["inbox"], "seq": 0}

    message = await sync_to_async(services.customer_message)(customer=alice, body="Hi there", author=None)
    change = await socket.recv()
    assert change["type"] == "change" and change["seq"] == 1 and change["topic"] == "inbox"
    assert (change["op"], change["event"], change["old"]) == ("insert", "inbox.created", None)
    assert change["new"]["customer_name"] == "Alice Example" and change["new"]["text"] == "Hi there"
    assert change["new"]["record"] == {"model": "crm.message", "id": message.pk}
    await socket.close()

    # Away for a while: two changes happen, then the socket resumes from seq 1.
    item = await sync_to_async(InboxItem.objects.get)(message=message)
    await sync_to_async(services.mark_handled)(item=item, by=staff)
    await sync_to_async(services.customer_contact_change)(customer=alice, phone="555-0142")
    again = await open_socket(staff)
    assert (await again.recv())["seq"] == 3
    await again.send({"type": "subscribe", "topics": ["inbox"], "since": 1})
    handled, contact, subscribed = await again.recv(), await again.recv(), await again.recv()
    assert [handled["seq"], contact["seq"]] == [2, 3]
    assert handled["event"] == "inbox.handled" and handled["changed"] == ["handled_at", "handled_by"]
    assert handled["new"]["handled_by"] == "sam" and handled["old"]["handled_at"] is None
    assert contact["new"]["summary"] == "Alice Example changed their phone number"
    assert subscribed == {"type": "subscribed", "topics": ["inbox"], "seq": 3}
    await again.send({"type": "ping"})
    assert await again.recv() == {"type": "pong", "seq": 3}
    await again.close()


def _lost_change(customer) -> None:
    """A change whose frame the layer lost: numbered and stored, never published."""
    from django.db import transaction

    with transaction.atomic():
        item = InboxItem.objects.create(
            customer=customer,
            kind="contact",
            summary="Lost in transit",
            record_model="crm.customer",
            record_id=1,
        )
        staff_event = StaffEvent.objects.create(
            seq=staff_stream._next_seq(),
            event="inbox.created",
            object_id=item.pk,
            op="insert",
            new=staff_stream.represent(item),
            changed=[],
            at=item.created_at,
        )
        assert staff_event.seq == 1


async def test_a_frame_the_layer_lost_is_filled_in_before_the_next_one(staff, alice):
    socket = await open_socket(staff)
    await socket.recv()
    await socket.send({"type": "subscribe", "topics": ["inbox"], "since": 0})
    await socket.recv()
    await sync_to_async(_lost_change)(alice)
    await sync_to_async(services.customer_message)(customer=alice, body="After the loss", author=None)
    first, second = await socket.recv(), await socket.recv()
    assert (first["seq"], first["new"]["summary"]) == (1, "Lost in transit")
    assert (second["seq"], second["new"]["text"]) == (2, "After the loss")
    await socket.close()


async def test_bad_frames_get_the_portal_protocols_errors(staff):
    socket = await open_socket(staff)
    await socket.recv()
    await socket.send({"type": "subscribe", "topics": ["jobs"]})
    assert (await socket.recv())["code"] == "unknown_topic"
    await socket.send({"type": "subscribe", "topics": ["inbox"], "since": -1})
    assert (await socket.recv())["code"] == "bad_since"
    await socket.send({"type": "subscribe", "topics": ["inbox"], "since": 99})
    resync = await socket.recv()
    assert resync["type"] == "resync" and resync["seq"] == 0
    await socket.send({"type": "typing", "typing": True})
    assert (await socket.recv())["code"] == "unknown_type"
    await socket.close()


async def test_losing_view_customer_or_logging_out_closes_the_staff_socket_at_once(staff, make_user):
    from django.contrib.auth.models import Permission

    socket = await open_socket(staff)
    await socket.recv()
    permission = await sync_to_async(Permission.objects.get)(codename="view_customer")
    await sync_to_async(staff.user_permissions.remove)(permission)
    assert await socket.recv(timeout=3) == {"closed": 4403}  # well before the 30 s sweep
    await socket.close()

    dana = await sync_to_async(make_user)("dana", staff=True, perms=["crm.view_customer"])
    cookie = await session_cookie(dana)
    headers = [
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
        (b"cookie", f"sessionid={cookie}".encode()),
    ]
    other = StaffSocket(WebsocketCommunicator(application, "/ws/staff/", headers=headers))
    await other.comm.connect(timeout=5)
    await other.recv()
    from realtime.publish import close_session_sockets

    await sync_to_async(close_session_sockets)(cookie, 4401)  # what logging out sends
    assert await other.recv(timeout=3) == {"closed": 4401}
    await other.close()


async def test_staff_sockets_per_user_are_capped_like_the_portals(staff, settings):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 1
    first = await open_socket(staff)
    assert (await first.recv())["type"] == "hello"
    second = await open_socket(staff)
    assert await second.recv() == {"closed": 4429}
    await second.close()
    await first.close()
    third = await open_socket(staff)  # the first one's place is free again
    assert (await third.recv())["type"] == "hello"
    await third.close()

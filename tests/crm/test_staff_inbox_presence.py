"""Customer presence on the staff stream (docs/protocol.md, "The staff stream":
`customer_presence`): the inbox's customers as they are when staff subscribe, then each change
live and unnumbered, and nothing for staff who may not view customers."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from crm import services
from crm.live import presence as inbox_presence
from realtime import customer_presence, presence
from realtime import hub as hub_module
from tests.crm.test_staff_stream import open_socket
from tests.realtime import helpers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("realtime_stack")]


@pytest.fixture(autouse=True)
async def fresh_hub_and_presence():
    presence.reset_store()
    await hub_module.reset()
    yield
    await hub_module.reset()
    presence.reset_store()


@pytest.fixture
def people(make_customer, make_user):
    alice = make_customer("Alice Example", login="alice")
    staff = make_user("sam", staff=True, perms=["crm.view_customer"])
    return alice, staff


async def subscribed(user):
    socket = await open_socket(user)
    hello = await socket.recv(presence=True)
    await socket.send({"type": "subscribe", "topics": ["inbox"], "since": hello["seq"]})
    assert (await socket.recv(presence=True))["type"] == "subscribed"
    return socket


async def presence_of(socket, customer_id: int, status: str) -> dict:
    """The next `customer_presence` entry for this customer with this status."""
    while True:
        frame = await socket.recv(presence=True)
        assert frame["type"] == "customer_presence", frame  # presence is not numbered
        assert "seq" not in frame
        for entry in frame["customers"]:
            if entry["customer"] == customer_id and entry["status"] == status:
                return entry


async def test_subscribing_gets_the_inbox_customers_then_each_change_live(people):
    alice, staff = people
    await sync_to_async(services.customer_message)(customer=alice, body="Hello?", author=None)
    socket = await subscribed(staff)
    snapshot = await socket.recv(presence=True)
    assert snapshot["type"] == "customer_presence"
    assert [(e["customer"], e["status"]) for e in snapshot["customers"]] == [(alice.pk, "offline")]

    tab = await helpers.connect(alice.portal_user)
    await tab.send({"type": "presence", "status": "active", "page": "messages"})
    online = await presence_of(socket, alice.pk, "active")
    assert online["page"] == "messages" and online["version"] > snapshot["customers"][0]["version"]

    # Staff watching Alice join her room but are not her: she stays as she was.
    watcher = await helpers.connect(staff, f"?customer={alice.pk}")
    await watcher.send({"type": "presence", "status": "active"})
    await tab.send({"type": "presence", "status": "idle", "page": "invoices"})
    idle = await presence_of(socket, alice.pk, "idle")
    assert idle["page"] == "invoices"

    await tab.close()
    offline = await presence_of(socket, alice.pk, "offline")
    assert offline["version"] > idle["version"] and "page" not in offline
    await watcher.close()
    await socket.close()


async def test_a_new_items_customer_comes_with_their_presence(people, make_customer):
    alice, staff = people
    tab = await helpers.connect(alice.portal_user)
    await tab.send({"type": "presence", "status": "away", "page": "dashboard"})
    socket = await subscribed(staff)
    assert (await socket.recv(presence=True))["customers"] == []  # no open items yet
    await sync_to_async(services.customer_message)(customer=alice, body="Are you there?", author=None)
    frames = [await socket.recv(presence=True), await socket.recv(presence=True)]
    change = next(f for f in frames if f["type"] == "change")
    assert change["new"]["customer"] == alice.pk
    assert any(
        e["customer"] == alice.pk and e["status"] == "away"
        for f in frames
        if f["type"] == "customer_presence"
        for e in f["customers"]
    )
    await tab.close()
    await socket.close()


async def test_staff_without_view_customer_get_no_presence(people, make_user):
    alice, _staff = people
    clerk = await sync_to_async(make_user)("clerk", staff=True, perms=["crm.view_job"])
    socket = await open_socket(clerk)
    tab = await helpers.connect(alice.portal_user)
    await tab.send({"type": "presence", "status": "active", "page": "messages"})
    assert await socket.recv(presence=True) == {"closed": 4403}  # closed before any frame, presence included
    await tab.close()


def test_the_summary_is_the_customers_own_most_present_tab():
    online = {
        "user-1": {"name": "Sam", "role": "staff", "status": "active"},
        "user-2": {"name": "Alice", "role": "customer", "status": "idle", "page": "messages"},
    }
    assert customer_presence.summary(7, online, 3) == {
        "customer": 7,
        "status": "idle",
        "page": "messages",
        "version": 3,
    }
    assert customer_presence.summary(7, {"user-1": online["user-1"]}, 4) == {
        "customer": 7,
        "status": "offline",
        "version": 4,
    }


async def test_the_snapshot_covers_the_inbox_past_its_first_page(people, make_customer, monkeypatch):
    """Staff on the inbox's second page see its customers' presence from the start too."""
    alice, staff = people
    bob = await sync_to_async(make_customer)("Bob Example", login="bob")
    carol = await sync_to_async(make_customer)("Carol Example", login="carol")
    for customer in (alice, bob, carol):
        await sync_to_async(services.customer_message)(customer=customer, body="Hello?", author=None)
    monkeypatch.setattr(inbox_presence, "PAGE_SIZE", 1)  # three pages of one item
    tab = await helpers.connect(alice.portal_user)
    await tab.send({"type": "presence", "status": "active", "page": "messages"})
    await tab.expect("presence")
    socket = await subscribed(staff)
    snapshot = await socket.recv(presence=True)
    assert {(e["customer"], e["status"]) for e in snapshot["customers"]} == {
        (alice.pk, "active"),
        (bob.pk, "offline"),
        (carol.pk, "offline"),
    }
    await tab.close()
    await socket.close()

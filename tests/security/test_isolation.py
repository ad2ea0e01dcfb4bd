"""Only committed data, only the owner's, only the fields meant for customers (DESIGN.md, sync
contract 1 and 6). Every frame received is checked by tests/realtime/helpers.check_frame; these
tests also scan the whole recorded stream for internal data."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from crm import services
from crm.models import AppointmentRequest, Invoice, Job, LoyaltyTransaction, Message
from portal import serializers
from realtime import sequence
from tests.realtime import helpers
from tests.realtime.scenarios import every_action, existing_rows

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@sync_to_async
def post(customer, body: str):
    return services.post_message(customer=customer, body=body, author=None)


def test_portal_serializers_expose_no_internal_field():
    internal = {"internal_notes", "author", "updated_at", "deleted_at", "portal_user", "customer"}
    for serializer in (
        serializers.ProfileSerializer,
        serializers.JobSerializer,
        serializers.InvoiceSerializer,
        serializers.MessageSerializer,
        serializers.LoyaltyTransactionSerializer,
    ):
        assert not internal & set(serializer.Meta.fields), serializer
    # Every model field that is internal exists, so the exclusion above is not vacuous.
    assert {f.name for f in Job._meta.get_fields()} >= {"internal_notes", "updated_at"}
    assert {f.name for f in Message._meta.get_fields()} >= {"author", "deleted_at"}


async def test_whole_stream_to_owner_and_staff_shows_no_internal_data_and_nothing_of_others(
    people, sockets, tomorrow_window
):
    alice, bob, staff = people
    start, end = tomorrow_window()
    first = len(helpers.RECORDED)
    old_job = await sync_to_async(existing_rows)(alice, staff, start, end)
    watchers = {
        "alice": await sockets(alice.portal_user),
        "staff on alice": await sockets(staff, f"?customer={alice.pk}"),
        "bob": await sockets(bob.portal_user),
    }
    for socket in watchers.values():
        await socket.subscribe()
    bob_seq = watchers["bob"].hello["seq"]

    await sync_to_async(every_action)(alice, bob, staff, start, end, old_job)
    last, _ = await sync_to_async(sequence.current)(alice.pk)
    streams = {name: await watchers[name].changes_through(last) for name in ("alice", "staff on alice")}
    # Bob ends with a change of his own; everything before it on his socket must be his.
    marker = await post(bob, "Bob's marker")
    bob_frames = await watchers["bob"].changes_through(bob_seq + 5)

    assert streams["alice"] == streams["staff on alice"]
    bob_jobs = await sync_to_async(
        lambda: set(Job.objects.filter(customer=bob).values_list("pk", flat=True))
    )()
    bob_messages = await sync_to_async(
        lambda: set(Message.objects.filter(customer=bob).values_list("pk", flat=True))
    )()
    assert [(f["topic"], f["event"]) for f in bob_frames] == [
        ("jobs", "job.scheduled"),
        ("messages", "message.received"),
        ("jobs", "job.scheduled"),
        ("requests", "request.created"),
        ("messages", "message.received"),
    ]
    bob_requests = await sync_to_async(
        lambda: set(AppointmentRequest.objects.filter(customer=bob).values_list("pk", flat=True))
    )()
    assert {bob_frames[0]["id"], bob_frames[2]["id"]} <= bob_jobs and bob_frames[3]["id"] in bob_requests
    assert {bob_frames[1]["id"], bob_frames[4]["id"]} <= bob_messages
    assert bob_frames[-1]["id"] == marker.pk
    for frame in streams["alice"]:
        assert "Bob" not in json.dumps(frame)

    stream = helpers.RECORDED[first:]
    assert len(stream) > 2 * 40
    text = json.dumps(stream)
    drafts = await sync_to_async(
        lambda: list(Invoice.objects.filter(status="draft").values_list("pk", "number"))
    )()
    assert drafts, "the scenario leaves drafts behind"
    for pk, number in drafts:
        assert number not in text
        assert not any(f["type"] == "change" and f["topic"] == "invoices" and f["id"] == pk for f in stream)
    for forbidden in (helpers.INTERNAL_NOTE, "internal_notes", "author", "updated_at", "deleted_at"):
        assert forbidden not in text
    for frame in stream:
        if frame["type"] == "change":
            for row in (frame["new"], frame["old"]):
                assert row is None or set(row) == helpers.TOPIC_FIELDS[frame["topic"]]


async def test_a_rolled_back_transaction_sends_nothing_and_takes_no_seq(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    start, end = tomorrow_window()
    socket = await sockets(alice.portal_user)
    await socket.subscribe()

    @sync_to_async
    def roll_back():
        with pytest.raises(Boom), transaction.atomic():
            services.schedule_job(customer=alice, service_type="Phantom", start=start, end=end)
            services.post_message(customer=alice, body="phantom message", author=None)
            services.award_points(customer=alice, points=500)
            raise Boom

    @sync_to_async
    def savepoint_rolled_back():
        # The outer transaction commits; only the inner block (a savepoint) is undone.
        with transaction.atomic():
            services.post_message(customer=alice, body="kept", author=None)
            with pytest.raises(Boom), transaction.atomic():
                services.post_message(customer=alice, body="phantom in a savepoint", author=None)
                raise Boom
            services.post_message(customer=alice, body="kept too", author=None)

    await roll_back()
    await savepoint_rolled_back()
    frames = await socket.until_pong()
    assert [(f["seq"], f["new"]["body"]) for f in frames] == [
        (socket.hello["seq"] + 1, "kept"),
        (socket.hello["seq"] + 2, "kept too"),
    ]
    assert not await sync_to_async(LoyaltyTransaction.objects.filter(customer=alice).exists)()
    assert "phantom" not in json.dumps(helpers.RECORDED)


async def test_a_row_moved_to_another_customer_leaves_one_and_arrives_at_the_other(
    people, sockets, tomorrow_window
):
    alice, bob, _staff = people
    start, end = tomorrow_window()
    job = await sync_to_async(services.schedule_job)(
        customer=alice, service_type="Moved", start=start, end=end
    )
    alice_socket = await sockets(alice.portal_user)
    bob_socket = await sockets(bob.portal_user)
    for socket in (alice_socket, bob_socket):
        await socket.subscribe(["jobs"])

    @sync_to_async
    def move():
        stored = Job.objects.get(pk=job.pk)
        stored.customer = bob
        stored.save()

    await move()
    [left] = await alice_socket.changes(1)
    [arrived] = await bob_socket.changes(1)
    assert (left["op"], left["event"], left["id"], left["seq"]) == (
        "delete",
        "job.deleted",
        job.pk,
        alice_socket.hello["seq"] + 1,
    )
    assert (arrived["op"], arrived["event"], arrived["id"], arrived["seq"]) == (
        "insert",
        "job.scheduled",
        job.pk,
        bob_socket.hello["seq"] + 1,
    )
    assert arrived["new"] == left["old"]

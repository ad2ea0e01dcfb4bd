"""Message, loyalty and profile events reach the owner with exact `old`, `new` and `changed`
(docs/protocol.md, "Topics" and the event rules). Jobs and invoices: test_events_jobs_invoices.py."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async

from crm import services
from crm.models import Job, LoyaltyTransaction, Message
from realtime.events import Event
from tests.realtime.event_steps import act, iso, orm

pytestmark = pytest.mark.django_db(transaction=True)


async def test_message_events(people, sockets):
    alice, _bob, staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["messages"])

    message = await act(
        services.post_message, customer=alice, body="  Your technician is on the way.  ", author=staff
    )
    [received] = await socket.changes(1)
    message = await orm(lambda: Message.objects.get(pk=message.pk))
    row = {
        "id": message.pk,
        "direction": "to_customer",
        "body": "Your technician is on the way.",
        "created_at": iso(message.created_at),
        "read_at": None,
    }
    assert (received["event"], received["op"], received["old"], received["new"]) == (
        Event.MESSAGE_RECEIVED,
        "insert",
        None,
        row,
    )

    reply = await act(
        services.post_message,
        customer=alice,
        body="Thanks!",
        author=alice.portal_user,
        direction=Message.Direction.TO_STAFF,
    )
    [replied] = await socket.changes(1)
    assert (replied["event"], replied["id"], replied["new"]["direction"]) == (
        Event.MESSAGE_RECEIVED,
        reply.pk,
        "to_staff",
    )

    read_at = dt.datetime(2026, 5, 2, 8, 0, tzinfo=dt.UTC)
    await act(services.mark_message_read, message=message, at=read_at)
    await act(services.mark_message_read, message=message)  # reading twice changes nothing
    [read] = await socket.changes(1)
    assert (read["event"], read["changed"], read["old"], read["new"]) == (
        Event.MESSAGE_READ,
        ["read_at"],
        row,
        {**row, "read_at": "2026-05-02T08:00:00Z"},
    )

    stored = await orm(lambda: Message.objects.get(pk=reply.pk))
    stored.body = "Thanks a lot!"
    await sync_to_async(stored.save)()
    [edited] = await socket.changes(1)
    assert (edited["event"], edited["changed"], edited["old"]["body"], edited["new"]["body"]) == (
        Event.MESSAGE_UPDATED,
        ["body"],
        "Thanks!",
        "Thanks a lot!",
    )

    # A soft delete leaves as a delete; removing the already-hidden row later sends nothing.
    await act(services.delete_message, message=message)
    [soft] = await socket.changes(1)
    assert (soft["event"], soft["op"], soft["id"], soft["new"], soft["old"]) == (
        Event.MESSAGE_DELETED,
        "delete",
        message.pk,
        None,
        read["new"],
    )
    await orm(lambda: Message.objects.get(pk=message.pk).delete())
    await orm(lambda: Message.objects.get(pk=reply.pk).delete())
    [hard] = await socket.changes(1)
    assert (hard["event"], hard["id"], hard["old"]) == (Event.MESSAGE_DELETED, reply.pk, edited["new"])
    assert [f["seq"] for f in (received, replied, read, edited, soft, hard)] == list(
        range(socket.hello["seq"] + 1, socket.hello["seq"] + 7)
    )
    assert await socket.until_pong() == []


async def test_loyalty_events(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["loyalty"])

    await act(services.award_points, customer=alice, points=100, description="Welcome")
    await act(services.award_points, customer=alice, points="25", description="Referral", bonus=True)
    await act(services.redeem_points, customer=alice, points=30, description="Discount")
    await act(services.adjust_points, customer=alice, points=-5, description="Typo fix")
    earned, bonus, redeemed, adjusted = await socket.changes(4)
    assert [
        (f["event"], f["op"], f["new"]["kind"], f["new"]["points"], f["new"]["description"])
        for f in (earned, bonus, redeemed, adjusted)
    ] == [
        (Event.LOYALTY_EARNED, "insert", "earned", 100, "Welcome"),
        (Event.LOYALTY_BONUS, "insert", "bonus", 25, "Referral"),
        (Event.LOYALTY_REDEEMED, "insert", "redeemed", -30, "Discount"),
        (Event.LOYALTY_ADJUSTED, "insert", "adjustment", -5, "Typo fix"),
    ]
    assert all(f["old"] is None for f in (earned, bonus, redeemed, adjusted))

    # Refusals change nothing and send nothing.
    with pytest.raises(services.DomainError):
        await act(services.redeem_points, customer=alice, points=1000)
    await orm(lambda: LoyaltyTransaction.objects.get(pk=bonus["id"]).delete())
    [removed] = await socket.changes(1)
    assert (removed["event"], removed["op"], removed["old"]) == (
        Event.LOYALTY_ADJUSTED,
        "delete",
        bonus["new"],
    )
    assert removed["seq"] == adjusted["seq"] + 1


async def test_profile_events(people, sockets):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["profile"])

    await act(services.update_contact_details, customer=alice, phone=" 555-0199 ", name="Alice Example")
    [contact] = await socket.changes(1)
    row = {
        "id": alice.pk,
        "name": "Alice Example",
        "email": "alice@example.com",
        "phone": "555-0100",
        "address": "1 Main St",
        "preferences": alice.preferences,
        "updates_seen_seq": 0,
    }
    assert (contact["event"], contact["op"], contact["changed"], contact["old"], contact["new"]) == (
        Event.PROFILE_CONTACT_UPDATED,
        "update",
        ["phone"],
        row,
        {**row, "phone": "555-0199"},
    )

    await act(
        services.update_preferences,
        customer=alice,
        preferences={"contact_channel": "sms", "notify_loyalty": False},
    )
    [prefs] = await socket.changes(1)
    assert (prefs["event"], prefs["changed"]) == (Event.PROFILE_PREFERENCES_UPDATED, ["preferences"])
    assert prefs["new"]["preferences"] == {
        **row["preferences"],
        "contact_channel": "sms",
        "notify_loyalty": False,
    }
    assert prefs["old"]["preferences"] == row["preferences"]

    # Changing who logs in is not a field the customer sees: no change frame (the socket's
    # access check is tested in tests/security).
    await act(services.update_preferences, customer=alice, preferences={"contact_channel": "sms"})  # no-op
    await act(services.update_contact_details, customer=alice, email="alice@example.org")
    [email] = await socket.changes(1)
    assert (email["changed"], email["seq"]) == (["email"], prefs["seq"] + 1)


async def test_a_partial_save_of_a_stale_instance_reports_what_the_database_holds(
    people, sockets, tomorrow_window
):
    alice, _bob, _staff = people
    start, end = tomorrow_window()
    job = await act(services.schedule_job, customer=alice, service_type="Stale", start=start, end=end)
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["jobs"])

    @sync_to_async
    def two_editors():
        first, second = Job.objects.get(pk=job.pk), Job.objects.get(pk=job.pk)
        first.technician = "Kim"
        first.save(update_fields=["technician"])
        second.customer_notes = "Ring twice"  # `second` still has no technician
        second.save(update_fields=["customer_notes"])
        return Job.objects.get(pk=job.pk)

    stored = await two_editors()
    technician, notes = await socket.changes(2)
    assert technician["changed"] == ["technician"]
    assert notes["changed"] == ["customer_notes"]
    assert notes["old"] == technician["new"]
    assert (
        (notes["new"]["technician"], notes["new"]["customer_notes"])
        == (stored.technician, "Ring twice")
        == (
            "Kim",
            "Ring twice",
        )
    )

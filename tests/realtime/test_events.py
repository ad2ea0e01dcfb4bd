"""Each semantic event the domain actions produce reaches the owner with exact `old`, `new` and
`changed` (docs/protocol.md, "Topics" and the event rules), in one gap-free seq order."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async

from crm import services
from crm.models import Invoice, Job, LoyaltyTransaction, Message
from realtime.events import Event
from tests.realtime.helpers import HIDDEN_DRAFT_PREFIX, INTERNAL_NOTE

pytestmark = pytest.mark.django_db(transaction=True)

JOB_FIELDS = [
    "id",
    "service_type",
    "scheduled_start",
    "scheduled_end",
    "technician",
    "address",
    "status",
    "customer_notes",
]


def iso(value: dt.datetime | None) -> str | None:
    """A datetime as the portal serializers write it (DRF: ISO 8601, UTC as Z)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def act(function, /, **kwargs):
    return await sync_to_async(function)(**kwargs)


@sync_to_async
def orm(function):
    return function()


def assert_consecutive(frames, after: int) -> None:
    assert [f["seq"] for f in frames] == list(range(after + 1, after + 1 + len(frames)))


async def test_job_events(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["jobs", "loyalty"])
    start, end = tomorrow_window()
    frames = []

    job = await act(
        services.schedule_job,
        customer=alice,
        service_type="Carpet cleaning",
        start=start,
        end=end,
        technician="Sam",
        customer_notes="Move the sofa",
        internal_notes=INTERNAL_NOTE,
    )
    [scheduled] = await socket.changes(1)
    frames.append(scheduled)
    row = {
        "id": job.pk,
        "service_type": "Carpet cleaning",
        "scheduled_start": iso(start),
        "scheduled_end": iso(end),
        "technician": "Sam",
        "address": "1 Main St",  # taken from the customer
        "status": "scheduled",
        "customer_notes": "Move the sofa",
    }
    assert scheduled["event"] == Event.JOB_SCHEDULED
    assert (scheduled["op"], scheduled["id"], scheduled["old"], scheduled["new"]) == (
        "insert",
        job.pk,
        None,
        row,
    )
    assert scheduled["changed"] == JOB_FIELDS
    assert dt.datetime.fromisoformat(scheduled["at"]).tzinfo is not None

    later_start, later_end = start + dt.timedelta(days=1), end + dt.timedelta(days=1, hours=1)
    await act(services.reschedule_job, job=job, start=later_start, end=later_end)
    [rescheduled] = await socket.changes(1)
    frames.append(rescheduled)
    moved = {**row, "scheduled_start": iso(later_start), "scheduled_end": iso(later_end)}
    assert rescheduled["event"] == Event.JOB_RESCHEDULED
    assert (rescheduled["op"], rescheduled["old"], rescheduled["new"]) == ("update", row, moved)
    assert rescheduled["changed"] == ["scheduled_start", "scheduled_end"]

    await act(services.change_job_status, job=job, status=Job.Status.EN_ROUTE)
    [en_route] = await socket.changes(1)
    frames.append(en_route)
    assert en_route["event"] == Event.JOB_STATUS_CHANGED
    assert (en_route["old"]["status"], en_route["new"]["status"], en_route["changed"]) == (
        "scheduled",
        "en_route",
        ["status"],
    )

    # A staff-only edit sends nothing; the ORM edit after it is the very next frame.
    stored = await orm(lambda: Job.objects.get(pk=job.pk))
    stored.internal_notes = INTERNAL_NOTE + " (again)"
    await sync_to_async(stored.save)()
    stored.technician = "Kim"
    await sync_to_async(stored.save)()
    [updated] = await socket.changes(1)
    frames.append(updated)
    assert updated["event"] == Event.JOB_UPDATED
    assert (updated["old"]["technician"], updated["new"]["technician"], updated["changed"]) == (
        "Sam",
        "Kim",
        ["technician"],
    )

    # Completing is one transaction with two saves: both arrive, in order, once each.
    await act(services.complete_job, job=job)
    completed, earned = await socket.changes(2)
    frames += [completed, earned]
    assert completed["event"] == Event.JOB_COMPLETED
    assert (completed["old"]["status"], completed["new"]["status"]) == ("en_route", "completed")
    award = await orm(lambda: LoyaltyTransaction.objects.get(job=job))
    assert earned["event"] == Event.LOYALTY_EARNED
    assert earned["new"] == {
        "id": award.pk,
        "points": 50,
        "kind": "earned",
        "description": "Completed: Carpet cleaning",
        "job": job.pk,
        "invoice": None,
        "created_at": iso(award.created_at),
    }

    other = await act(services.schedule_job, customer=alice, service_type="Rug wash", start=start, end=end)
    await act(services.cancel_job, job=other)
    other_scheduled, cancelled = await socket.changes(2)
    frames += [other_scheduled, cancelled]
    assert cancelled["event"] == Event.JOB_CANCELLED
    assert (cancelled["id"], cancelled["changed"], cancelled["new"]["status"]) == (
        other.pk,
        ["status"],
        "cancelled",
    )

    await orm(lambda: Job.objects.get(pk=other.pk).delete())
    [deleted] = await socket.changes(1)
    frames.append(deleted)
    assert deleted["event"] == Event.JOB_DELETED
    assert (deleted["op"], deleted["id"], deleted["new"]) == ("delete", other.pk, None)
    assert deleted["old"] == cancelled["new"]

    assert_consecutive(frames, socket.hello["seq"])
    assert await socket.until_pong() == []


async def test_invoice_events(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    socket = await sockets(alice.portal_user)
    await socket.subscribe(["invoices"])
    frames = []
    start, end = tomorrow_window()
    job = await act(
        services.schedule_job, customer=alice, service_type="Carpet cleaning", start=start, end=end
    )
    hidden = await act(
        services.create_invoice, customer=alice, total="99.00", number=HIDDEN_DRAFT_PREFIX + "1"
    )

    # A draft is invisible: creating one sends nothing; sending it is its insert.
    invoice = await act(services.create_invoice, customer=alice, total="120.5", job=job, number="T-1")
    due = dt.date.today() + dt.timedelta(days=10)  # noqa: DTZ011  (a calendar date, as the service takes)
    await act(services.send_invoice, invoice=invoice, due_date=due)
    [sent] = await socket.changes(1)
    frames.append(sent)
    invoice = await orm(lambda: Invoice.objects.get(pk=invoice.pk))
    row = {
        "id": invoice.pk,
        "number": "T-1",
        "job": job.pk,
        "total": "120.50",
        "status": "sent",
        "sent_at": iso(invoice.sent_at),
        "due_date": due.isoformat(),
        "paid_at": None,
    }
    assert sent["event"] == Event.INVOICE_SENT
    assert (sent["op"], sent["old"], sent["new"]) == ("insert", None, row)

    paid_at = invoice.sent_at + dt.timedelta(microseconds=1)  # paid right after sending, not in the future
    await act(services.mark_invoice_paid, invoice=invoice, paid_at=paid_at)
    [paid] = await socket.changes(1)
    frames.append(paid)
    assert paid["event"] == Event.INVOICE_PAID
    assert paid["old"] == row
    assert paid["new"] == {**row, "status": "paid", "paid_at": iso(paid_at)}
    assert paid["changed"] == ["status", "paid_at"]

    second = await act(services.create_invoice, customer=alice, total="10", number="T-2")
    await act(services.send_invoice, invoice=second, due_date=due)
    await act(services.mark_invoice_overdue, invoice=second, today=due + dt.timedelta(days=1))
    second_sent, overdue = await socket.changes(2)
    frames += [second_sent, overdue]
    assert overdue["event"] == Event.INVOICE_OVERDUE
    assert (overdue["id"], overdue["changed"], overdue["old"]["status"], overdue["new"]["status"]) == (
        second.pk,
        ["status"],
        "sent",
        "overdue",
    )

    await act(services.void_invoice, invoice=second)
    [voided] = await socket.changes(1)
    frames.append(voided)
    assert (voided["event"], voided["changed"], voided["new"]["status"]) == (
        Event.INVOICE_UPDATED,
        ["status"],
        "void",
    )

    # A row that is visible from its first save is "created"; its deletion is "deleted".
    direct = await orm(
        lambda: Invoice.objects.create(
            customer=alice, number="T-3", total="5.00", status=Invoice.Status.SENT, due_date=due
        )
    )
    [created] = await socket.changes(1)
    frames.append(created)
    assert (created["event"], created["op"], created["new"]["number"], created["new"]["status"]) == (
        Event.INVOICE_CREATED,
        "insert",
        "T-3",
        "sent",
    )
    await orm(lambda: Invoice.objects.get(pk=direct.pk).delete())
    [deleted] = await socket.changes(1)
    frames.append(deleted)
    assert (deleted["event"], deleted["op"], deleted["old"], deleted["new"]) == (
        Event.INVOICE_DELETED,
        "delete",
        created["new"],
        None,
    )

    # Edits and the deletion of a draft stay invisible.
    await orm(lambda: Invoice.objects.filter(pk=hidden.pk).get().save())
    await orm(lambda: Invoice.objects.get(pk=hidden.pk).delete())
    assert_consecutive(frames, socket.hello["seq"] + 1)  # +1: the job scheduled above
    assert await socket.until_pong() == []


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

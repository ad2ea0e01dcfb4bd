"""Job and invoice events reach the owner with exact `old`, `new` and `changed` (docs/protocol.md,
"Topics" and the event rules), in one gap-free seq order. Other topics: test_events.py."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async

from crm import services
from crm.models import Invoice, Job, LoyaltyTransaction
from realtime.events import Event
from tests.realtime.event_steps import act, assert_consecutive, fields, iso, orm
from tests.realtime.helpers import HIDDEN_DRAFT_PREFIX, INTERNAL_NOTE

pytestmark = pytest.mark.django_db(transaction=True)


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
    assert scheduled["changed"] == fields("jobs")
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

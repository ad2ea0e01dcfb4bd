"""The bulk path (realtime/bulk.py): `sync_update`, `sync_bulk_create` and `sync_bulk_update`
emit the same events as per-row saves of the same changes."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from crm import services
from crm.models import Invoice, Job, LoyaltyTransaction, Message
from realtime.bulk import sync_bulk_create, sync_bulk_update, sync_update

pytestmark = pytest.mark.django_db(transaction=True)

PER_ROW_VALUE_FIELDS = {"id", "created_at", "job", "number"}


def comparable(frame):
    """A frame without what differs between twin rows (ids, numbers, record times)."""
    strip = lambda row: row and {k: v for k, v in row.items() if k not in PER_ROW_VALUE_FIELDS}  # noqa: E731
    return (
        frame["topic"],
        frame["op"],
        frame["event"],
        frame["changed"],
        strip(frame["old"]),
        strip(frame["new"]),
    )


def twins(customer, start, end, tag):
    """One set of rows for one path: two jobs, two sent invoices, a draft, two messages."""
    jobs = [
        Job.objects.create(
            customer=customer, service_type=f"Job {n}", scheduled_start=start, scheduled_end=end
        )
        for n in range(2)
    ]
    sent = [
        Invoice.objects.create(
            customer=customer,
            number=f"{tag}-{n}",
            total="10.00",
            status=Invoice.Status.SENT,
            due_date=dt.date(2026, 1, 1),
        )
        for n in range(2)
    ]
    draft = Invoice.objects.create(customer=customer, number=f"{tag}-draft", total="5.00")
    messages = [
        Message.objects.create(
            customer=customer, body=f"Note {n}", direction="to_customer", created_at=timezone.now()
        )
        for n in range(2)
    ]
    return jobs, sent, draft, messages


def per_row(rows, customer, start):
    jobs, sent, draft, messages = rows
    for job in jobs:
        job.technician = "Lee"
        job.internal_notes = "bulk twin"
        job.save()
    for job in jobs:
        job.scheduled_start, job.scheduled_end = (
            start + dt.timedelta(days=1),
            start + dt.timedelta(days=1, hours=1),
        )
        job.save()
    for job in jobs:
        job.internal_notes = "invisible"
        job.save()
    for invoice in sent:
        invoice.status = Invoice.Status.OVERDUE
        invoice.save()
    draft.status, draft.due_date = Invoice.Status.SENT, dt.date(2026, 2, 1)
    draft.save()
    messages[0].deleted_at = timezone.now()
    messages[0].save()
    for points in (5, 7):
        LoyaltyTransaction.objects.create(customer=customer, points=points, kind="bonus", description="twin")
    Invoice.objects.create(customer=customer, number="P-new", total="3.00", status="sent")


def bulk(rows, customer, start):
    jobs, sent, draft, messages = rows
    for job in jobs:
        job.technician = "Lee"
        job.internal_notes = "bulk twin"
    sync_bulk_update(jobs, ["technician", "internal_notes"])
    for job in jobs:
        job.scheduled_start, job.scheduled_end = (
            start + dt.timedelta(days=1),
            start + dt.timedelta(days=1, hours=1),
        )
    sync_bulk_update(jobs, ["scheduled_start", "scheduled_end"])
    assert sync_update(Job.objects.filter(pk__in=[j.pk for j in jobs]), internal_notes="invisible") == 2
    sync_update(Invoice.objects.filter(pk__in=[i.pk for i in sent]), status=Invoice.Status.OVERDUE)
    sync_update(Invoice.objects.filter(pk=draft.pk), status=Invoice.Status.SENT, due_date=dt.date(2026, 2, 1))
    sync_update(Message.objects.filter(pk=messages[0].pk), deleted_at=timezone.now())
    sync_bulk_create(
        LoyaltyTransaction,
        [LoyaltyTransaction(customer=customer, points=p, kind="bonus", description="twin") for p in (5, 7)],
    )
    sync_bulk_create(Invoice, [Invoice(customer=customer, number="B-new", total="3.00", status="sent")])


async def test_bulk_wrappers_emit_the_same_events_as_per_row_saves(people, sockets, tomorrow_window):
    alice, _bob, _staff = people
    start, end = tomorrow_window()
    socket = await sockets(alice.portal_user)
    await socket.subscribe()

    recorded = {}
    for tag, path in (("P", per_row), ("B", bulk)):
        rows = await sync_to_async(twins)(alice, start, end, tag)
        await socket.changes(6)  # the twins' own inserts (the draft is invisible)
        await sync_to_async(path)(rows, alice, start)
        recorded[tag] = await socket.until_pong()

    assert [comparable(f) for f in recorded["B"]] == [comparable(f) for f in recorded["P"]]
    assert [f["event"] for f in recorded["B"]] == [
        "job.updated",
        "job.updated",
        "job.rescheduled",
        "job.rescheduled",
        "invoice.overdue",
        "invoice.overdue",
        "invoice.sent",  # a draft becoming visible is its insert
        "message.deleted",  # a soft delete is the row leaving
        "loyalty.bonus",
        "loyalty.bonus",
        "invoice.created",
    ]
    seqs = [f["seq"] for f in recorded["B"]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_mark_overdue_invoices_reaches_each_owner_once(people, sockets):
    alice, bob, _staff = people
    alice_socket = await sockets(alice.portal_user)
    bob_socket = await sockets(bob.portal_user)
    for socket in (alice_socket, bob_socket):
        await socket.subscribe(["invoices"])

    @sync_to_async
    def invoices():
        today = timezone.localdate()
        made = []
        for customer, total in ((alice, "1"), (alice, "2"), (bob, "3")):
            invoice = services.create_invoice(customer=customer, total=total)
            made.append(services.send_invoice(invoice=invoice, due_date=today))
        not_due = services.create_invoice(customer=alice, total="4")
        services.send_invoice(invoice=not_due, due_date=today + dt.timedelta(days=30))
        return made, today

    made, today = await invoices()
    await alice_socket.changes(3)
    await bob_socket.changes(1)
    count = await sync_to_async(services.mark_overdue_invoices)(today=today + dt.timedelta(days=1))
    assert count == 3
    alice_frames = await alice_socket.until_pong()
    bob_frames = await bob_socket.until_pong()
    assert [(f["id"], f["event"], f["changed"], f["new"]["status"]) for f in alice_frames] == [
        (made[0].pk, "invoice.overdue", ["status"], "overdue"),
        (made[1].pk, "invoice.overdue", ["status"], "overdue"),
    ]
    assert [(f["id"], f["event"]) for f in bob_frames] == [(made[2].pk, "invoice.overdue")]
    # Running it again finds nothing to do and sends nothing.
    assert await sync_to_async(services.mark_overdue_invoices)(today=today + dt.timedelta(days=1)) == 0
    assert await alice_socket.until_pong() == []

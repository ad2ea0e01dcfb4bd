"""Scenarios shared by the invariant and the security tests: every way the CRM changes a
customer's portal data."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import AppointmentRequest, Invoice, Job, LoyaltyTransaction, Message
from realtime.bulk import sync_bulk_create, sync_bulk_update, sync_update
from tests.realtime import helpers


class Boom(Exception):
    pass


def existing_rows(alice, staff, start, end):
    """Rows the earlier snapshot already holds, so updates and deletes act on known rows."""
    job = services.schedule_job(customer=alice, service_type="Sofa", start=start, end=end)
    invoice = services.create_invoice(customer=alice, total="80", job=job, number="OLD-1")
    services.send_invoice(invoice=invoice, due_date=timezone.localdate())
    services.award_points(
        customer=alice, points=40, job=job, invoice=invoice, description="Old job", bonus=True
    )
    services.post_message(customer=alice, body="Welcome to the portal", author=staff)
    services.create_invoice(customer=alice, total="1", number=helpers.HIDDEN_DRAFT_PREFIX + "OLD")
    services.request_change(customer=alice, job=job, kind="cancel", note="Old request")
    return job


def every_action(alice, bob, staff, start, end, old_job):
    """Every way the CRM changes a customer's portal data, Bob's changes interleaved."""
    today = timezone.localdate()
    later = (start + dt.timedelta(days=3), end + dt.timedelta(days=3))

    job = services.schedule_job(
        customer=alice, service_type="Carpet", start=start, end=end, internal_notes=helpers.INTERNAL_NOTE
    )
    services.schedule_job(customer=bob, service_type="Bob's rug", start=start, end=end)
    services.reschedule_job(job=job, start=later[0], end=later[1])
    services.change_job_status(job=job, status=Job.Status.CONFIRMED)
    stored = Job.objects.get(pk=job.pk)
    stored.technician = "Kim"
    stored.internal_notes = helpers.INTERNAL_NOTE + " edited"
    stored.save()
    services.complete_job(job=job)
    cancelled = services.schedule_job(customer=alice, service_type="Windows", start=start, end=end)
    services.cancel_job(job=cancelled)

    paid = services.create_invoice(customer=alice, total="120.50", job=job)
    services.send_invoice(invoice=paid)
    services.mark_invoice_paid(invoice=paid)
    overdue = services.create_invoice(customer=alice, total="10")
    services.send_invoice(invoice=overdue, due_date=today)
    services.mark_invoice_overdue(invoice=overdue, today=today + dt.timedelta(days=1))
    void = services.create_invoice(customer=alice, total="3")
    services.send_invoice(invoice=void)
    services.void_invoice(invoice=void)
    direct = Invoice.objects.create(customer=alice, number="DIRECT-1", total="7", status=Invoice.Status.SENT)
    bulk_overdue = services.create_invoice(customer=alice, total="15")
    services.send_invoice(invoice=bulk_overdue, due_date=today)
    services.create_invoice(customer=alice, total="2", number=helpers.HIDDEN_DRAFT_PREFIX + "NEW")
    assert services.mark_overdue_invoices(today=today + dt.timedelta(days=2)) >= 2  # OLD-1 and bulk_overdue

    to_customer = services.post_message(customer=alice, body="On our way", author=staff)
    to_staff = services.post_message(
        customer=alice, body="Thanks", author=alice.portal_user, direction=Message.Direction.TO_STAFF
    )
    services.post_message(customer=bob, body="Bob's note", author=staff)
    services.mark_message_read(message=to_customer)
    edited = Message.objects.get(pk=to_staff.pk)
    edited.body = "Thanks a lot"
    edited.save()
    services.delete_message(message=to_customer)
    Message.objects.filter(customer=alice, body="Welcome to the portal").get().delete()

    services.award_points(customer=alice, points=100)
    bonus = services.award_points(customer=alice, points=20, bonus=True)
    services.redeem_points(customer=alice, points=30)
    services.adjust_points(customer=alice, points=-5, description="Correction")
    LoyaltyTransaction.objects.get(pk=bonus.pk).delete()

    asked = services.schedule_job(customer=alice, service_type="Oven", start=start, end=end)
    bobs = services.schedule_job(customer=bob, service_type="Bob's oven", start=start, end=end)
    move = services.request_change(customer=alice, job=asked, kind="reschedule", preferred_times=[later[0]])
    services.request_change(customer=bob, job=bobs, kind="cancel", note="Bob's request")
    services.accept_request(request=move, by=staff, start=later[0], reply="Moved")
    refused = services.request_change(customer=alice, job=asked, kind="cancel", note="Sorry")
    services.decline_request(request=refused, by=staff, reply="Too late to cancel")
    AppointmentRequest.objects.filter(pk=refused.pk).get().save()  # an unchanged save sends nothing
    edited_request = AppointmentRequest.objects.get(pk=move.pk)
    edited_request.note = "Mornings, please"
    edited_request.save()

    services.update_contact_details(customer=alice, phone="555-0111", address="2 Side St")
    services.update_preferences(customer=alice, preferences={"contact_channel": "phone"})

    bulk_jobs = [
        Job(customer=alice, service_type=f"Bulk {n}", scheduled_start=start, scheduled_end=end)
        for n in range(2)
    ]
    for bulk_job in bulk_jobs:
        bulk_job.save()
    sync_bulk_create(
        LoyaltyTransaction,
        [LoyaltyTransaction(customer=alice, points=5, kind=LoyaltyTransaction.Kind.BONUS) for _ in range(2)],
    )
    for bulk_job in bulk_jobs:
        bulk_job.technician = "Lee"
    sync_bulk_update(bulk_jobs, ["technician"])
    sync_update(Job.objects.filter(pk__in=[j.pk for j in bulk_jobs]), status=Job.Status.CONFIRMED)
    sync_update(Invoice.objects.filter(pk=direct.pk), total="8.00")

    # A rolled-back transaction leaves nothing behind.
    try:
        with transaction.atomic():
            services.schedule_job(customer=alice, service_type="Never", start=start, end=end)
            services.update_contact_details(customer=alice, name="Rolled Back")
            raise Boom
    except Boom:
        pass

    # Deleting a job nulls the `job` of its invoice and loyalty rows (on_delete=SET_NULL).
    Job.objects.get(pk=old_job.pk).delete()
    Invoice.objects.get(pk=direct.pk).delete()

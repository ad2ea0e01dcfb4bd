"""Every domain action in crm.services, and each way it refuses (one test per DomainError code)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm import services
from crm.models import Invoice, Job, LoyaltyTransaction, Message
from crm.services import DomainError

pytestmark = pytest.mark.django_db


def refuses(code: str, action, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action(**kwargs)
    assert caught.value.code == code
    assert str(caught.value)  # a message for a person
    return caught.value


# --- jobs -----------------------------------------------------------------------------------------


def test_schedule_job_uses_the_customer_address_by_default(customer, tomorrow_window):
    start, end = tomorrow_window()
    job = services.schedule_job(customer=customer, service_type="  Carpet cleaning ", start=start, end=end)
    assert (job.service_type, job.status, job.address) == ("Carpet cleaning", "scheduled", "12 Elm Street")
    assert (job.scheduled_start, job.scheduled_end) == (start, end)


def test_schedule_job_refusals(customer, tomorrow_window):
    start, end = tomorrow_window()
    ok = {"customer": customer, "service_type": "Rug", "start": start, "end": end}
    refuses("missing_service", services.schedule_job, **{**ok, "service_type": "  "})
    refuses("missing_time", services.schedule_job, **{**ok, "start": None})
    refuses("naive_time", services.schedule_job, **{**ok, "end": timezone.make_naive(end)})
    refuses("end_before_start", services.schedule_job, **{**ok, "end": start})
    assert not Job.objects.exists()


def test_reschedule_job(job, tomorrow_window):
    start, end = tomorrow_window(days=3, hours=1)
    services.reschedule_job(job=job, start=start, end=end)
    job.refresh_from_db()
    assert (job.scheduled_start, job.scheduled_end) == (start, end)
    refuses("unchanged", services.reschedule_job, job=job, start=start, end=end)
    refuses("end_before_start", services.reschedule_job, job=job, start=end, end=start)


def test_a_finished_job_cannot_be_rescheduled_or_moved(job, tomorrow_window):
    services.cancel_job(job=job)
    start, end = tomorrow_window(days=5)
    refuses("job_finished", services.reschedule_job, job=job, start=start, end=end)
    refuses("job_finished", services.change_job_status, job=job, status=Job.Status.CONFIRMED)
    refuses("job_finished", services.complete_job, job=job)


def test_change_job_status_walks_the_job_along(job):
    for status in (Job.Status.CONFIRMED, Job.Status.EN_ROUTE, Job.Status.IN_PROGRESS):
        assert services.change_job_status(job=job, status=status).status == status
    refuses("unchanged", services.change_job_status, job=job, status=Job.Status.IN_PROGRESS)
    refuses("unknown_status", services.change_job_status, job=job, status="teleported")


def test_completing_awards_the_configured_points_once(job, customer, settings):
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 40
    services.change_job_status(job=job, status=Job.Status.COMPLETED)  # routed through complete_job
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    earned = LoyaltyTransaction.objects.get(customer=customer)
    assert (earned.kind, earned.points, earned.job) == ("earned", 40, job)
    refuses("job_finished", services.complete_job, job=job)
    assert customer.points_balance == 40


def test_completing_without_points(make_job, customer, settings):
    services.complete_job(job=make_job(), award_points=False)
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 0
    services.complete_job(job=make_job(days=2))
    assert Job.objects.filter(status="completed").count() == 2
    assert not LoyaltyTransaction.objects.exists()


def test_cancel_job(job):
    assert services.cancel_job(job=job).status == Job.Status.CANCELLED
    refuses("job_finished", services.cancel_job, job=job)


# --- invoices -------------------------------------------------------------------------------------


def test_create_invoice_numbers_drafts_in_sequence(customer, job):
    first = services.create_invoice(customer=customer, total="99.999", job=job)
    second = services.create_invoice(customer=customer, total=Decimal("10"))
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"INV-{year}-00001", f"INV-{year}-00002")
    assert (first.status, first.total, first.job) == ("draft", Decimal("100.00"), job)
    assert services.create_invoice(customer=customer, total=0, number=" Q-7 ").number == "Q-7"


def test_create_invoice_refusals(customer, make_customer, make_job):
    bobs_job = make_job(customer=make_customer("Bob Example"))
    refuses("wrong_customer", services.create_invoice, customer=customer, total=1, job=bobs_job)
    services.create_invoice(customer=customer, total=1, number="Q-1")
    refuses("duplicate_number", services.create_invoice, customer=customer, total=1, number="Q-1")
    refuses("bad_amount", services.create_invoice, customer=customer, total="lots")
    refuses("negative_total", services.create_invoice, customer=customer, total="-0.01")
    refuses("negative_total", services.create_invoice, customer=customer, total="NaN")
    assert Invoice.objects.count() == 1


def test_send_invoice(make_invoice):
    invoice = services.send_invoice(invoice=make_invoice())
    assert invoice.status == "sent"
    assert invoice.sent_at is not None
    assert invoice.due_date == timezone.localdate() + dt.timedelta(days=14)
    refuses("not_draft", services.send_invoice, invoice=invoice)
    due = timezone.localdate() + dt.timedelta(days=3)
    assert services.send_invoice(invoice=make_invoice(), due_date=due).due_date == due


def test_send_invoice_refuses_a_past_due_date(make_invoice):
    draft = make_invoice()
    refuses(
        "due_in_past",
        services.send_invoice,
        invoice=draft,
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_mark_invoice_paid(make_invoice):
    paid_at = timezone.now() - dt.timedelta(hours=3)
    invoice = services.mark_invoice_paid(invoice=make_invoice("sent"), paid_at=paid_at)
    assert (invoice.status, invoice.paid_at) == ("paid", paid_at)
    assert services.mark_invoice_paid(invoice=make_invoice("overdue")).status == "paid"
    for status in ("draft", "paid", "void"):
        refuses("not_payable", services.mark_invoice_paid, invoice=make_invoice(status))


def test_mark_invoice_overdue(make_invoice, past_due):
    assert services.mark_invoice_overdue(invoice=past_due).status == "overdue"
    refuses("not_sent", services.mark_invoice_overdue, invoice=past_due)
    refuses("not_sent", services.mark_invoice_overdue, invoice=make_invoice("draft"))
    refuses("not_due", services.mark_invoice_overdue, invoice=make_invoice("sent"))


def test_mark_overdue_invoices_moves_only_sent_invoices_past_due(make_invoice, past_due):
    current = make_invoice("sent")
    draft = make_invoice()
    assert services.mark_overdue_invoices() == 1
    assert [
        i.status for i in Invoice.objects.filter(pk__in=[past_due.pk, current.pk, draft.pk]).order_by("pk")
    ] == [
        "overdue",
        "sent",
        "draft",
    ]
    assert services.mark_overdue_invoices() == 0
    assert services.mark_overdue_invoices(today=current.due_date + dt.timedelta(days=1)) == 1


def test_void_invoice(make_invoice):
    for status in ("draft", "sent", "overdue"):
        assert services.void_invoice(invoice=make_invoice(status)).status == "void"
    for status in ("paid", "void"):
        refuses("not_voidable", services.void_invoice, invoice=make_invoice(status))


# --- messages -------------------------------------------------------------------------------------


def test_post_message(customer, staff):
    message = services.post_message(customer=customer, body="  Hello Alice  ", author=staff)
    assert (message.body, message.author, message.direction) == ("Hello Alice", staff, "to_customer")
    reply = services.post_message(
        customer=customer, body="Thanks", author=customer.portal_user, direction=Message.Direction.TO_STAFF
    )
    assert reply.direction == "to_staff"


def test_post_message_refusals(customer, staff):
    refuses("empty_message", services.post_message, customer=customer, body=" \n ", author=staff)
    refuses("empty_message", services.post_message, customer=customer, body=None, author=staff)
    too_long = "x" * (services.MAX_MESSAGE_LENGTH + 1)
    refuses("too_long", services.post_message, customer=customer, body=too_long, author=staff)
    refuses(
        "bad_direction",
        services.post_message,
        customer=customer,
        body="hi",
        author=staff,
        direction="sideways",
    )
    assert not Message.objects.exists()
    services.post_message(customer=customer, body="x" * services.MAX_MESSAGE_LENGTH, author=staff)


def test_mark_message_read_keeps_the_first_time(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    first = timezone.now() - dt.timedelta(minutes=5)
    assert services.mark_message_read(message=message, at=first).read_at == first
    assert services.mark_message_read(message=message).read_at == first


def test_delete_message_is_soft(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    deleted = services.delete_message(message=message)
    assert deleted.deleted_at is not None
    assert Message.objects.filter(pk=message.pk).exists()
    refuses("deleted", services.delete_message, message=message)
    refuses("deleted", services.mark_message_read, message=message)


# --- loyalty --------------------------------------------------------------------------------------


def test_award_points(customer, job):
    earned = services.award_points(customer=customer, points="30", description="Visit", job=job)
    bonus = services.award_points(customer=customer, points=20, bonus=True)
    assert (earned.kind, earned.points, bonus.kind, bonus.points) == ("earned", 30, "bonus", 20)
    assert services.points_balance(customer) == customer.points_balance == 50


def test_award_points_refusals(customer, job):
    for points in (0, -3, "many", None):
        refuses("bad_points", services.award_points, customer=customer, points=points)
    services.award_points(customer=customer, points=10, job=job)
    refuses("already_awarded", services.award_points, customer=customer, points=10, job=job)
    assert customer.points_balance == 10


def test_redeem_points(customer):
    services.award_points(customer=customer, points=100, bonus=True)
    redeemed = services.redeem_points(customer=customer, points=100, description="Free rug")
    assert (redeemed.kind, redeemed.points) == ("redeemed", -100)
    error = refuses("insufficient_points", services.redeem_points, customer=customer, points=1)
    assert "0 available" in str(error)
    refuses("bad_points", services.redeem_points, customer=customer, points=0)
    assert customer.points_balance == 0


def test_adjust_points(customer):
    assert services.adjust_points(customer=customer, points="25", description="Goodwill").points == 25
    assert services.adjust_points(customer=customer, points=-25, description="Entered twice").points == -25
    refuses(
        "insufficient_points", services.adjust_points, customer=customer, points=-1, description="Too far"
    )
    refuses("bad_points", services.adjust_points, customer=customer, points=0, description="Nothing")
    refuses("bad_points", services.adjust_points, customer=customer, points="some", description="Nothing")
    refuses("missing_reason", services.adjust_points, customer=customer, points=5, description="  ")
    assert customer.points_balance == 0


# --- customer profile -----------------------------------------------------------------------------


def test_update_contact_details(customer):
    updated = services.update_contact_details(customer=customer, email=" new@example.com ", phone="555")
    assert (updated.email, updated.phone, updated.name) == ("new@example.com", "555", "Alice Example")
    refuses("unknown_field", services.update_contact_details, customer=customer, portal_user=None)
    refuses("missing_name", services.update_contact_details, customer=customer, name=" ")
    refuses("bad_email", services.update_contact_details, customer=customer, email="not-an-address")
    customer.refresh_from_db()
    assert customer.email == "new@example.com"


def test_update_preferences_merges_known_keys(customer):
    updated = services.update_preferences(
        customer=customer, preferences={"contact_channel": "sms", "notify_invoices": False}
    )
    assert updated.preferences["contact_channel"] == "sms"
    assert updated.preferences["notify_invoices"] is False
    assert updated.preferences["notify_messages"] is True
    for bad in ([], {"contact_channel": "pigeon"}, {"notify_loyalty": "yes"}, {"favourite_colour": "red"}):
        refuses("bad_preferences", services.update_preferences, customer=customer, preferences=bad)
    customer.refresh_from_db()
    assert customer.preferences == updated.preferences

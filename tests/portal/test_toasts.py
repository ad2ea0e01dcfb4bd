from __future__ import annotations

import pytest
from django.db import transaction

from crm import services
from crm.models import Message
from portal.toasts import _when, toast_for
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def events_after(customer, before: int) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(customer_id=customer.pk, seq__gt=before).order_by("seq"))


@pytest.fixture
def mark(alice):
    return lambda: (
        OutboxEvent.objects.filter(customer_id=alice.pk).order_by("-seq").values_list("seq", flat=True)[0]
    )


@pytest.mark.parametrize(
    ("act", "kind", "title"),
    [
        (
            lambda c, tw: services.change_job_status(job=c.jobs.get(), status="en_route"),
            "job",
            "Appointment en route",
        ),
        (lambda c, tw: services.cancel_job(job=c.jobs.get()), "job", "Appointment cancelled"),
        (
            lambda c, tw: services.reschedule_job(job=c.jobs.get(), start=tw(5)[0], end=tw(5)[1]),
            "job",
            "Appointment rescheduled",
        ),
        (
            lambda c, tw: services.schedule_job(
                customer=c, service_type="Rugs", start=tw(9)[0], end=tw(9)[1]
            ),
            "job",
            "New appointment",
        ),
        (
            lambda c, tw: services.send_invoice(invoice=services.create_invoice(customer=c, total="5")),
            "invoice",
            "New invoice",
        ),
        (lambda c, tw: services.mark_invoice_paid(invoice=c.invoices.get()), "invoice", "Payment received"),
        (lambda c, tw: services.post_message(customer=c, body="Hi", author=None), "message", "New message"),
        (lambda c, tw: services.award_points(customer=c, points=7), "loyalty", "+7 points!"),
        (
            lambda c, tw: services.award_points(customer=c, points=7, bonus=True),
            "loyalty",
            "+7 bonus points!",
        ),
        (lambda c, tw: services.redeem_points(customer=c, points=20), "loyalty", "Points redeemed"),
    ],
)
def test_significant_changes_toast(alice, mark, tomorrow_window, act, kind, title):
    before = mark()
    act(alice, tomorrow_window)
    toast = toast_for(events_after(alice, before))
    assert toast is not None and (toast.type, toast.title) == (kind, title)
    assert toast.action_url.startswith("/portal/")


@pytest.mark.parametrize(
    "act",
    [
        lambda c: services.post_message(
            customer=c, body="from me", author=None, direction=Message.Direction.TO_STAFF
        ),
        lambda c: services.mark_message_read(message=c.messages.get()),
        lambda c: services.update_contact_details(customer=c, phone="+1 555 0000"),
        lambda c: services.update_preferences(customer=c, preferences={"notify_loyalty": False}),
        lambda c: services.create_invoice(customer=c, total="5"),  # a draft: nothing to see yet
    ],
)
def test_quiet_changes_do_not_toast(alice, mark, act):
    before = mark()
    act(alice)
    assert toast_for(events_after(alice, before)) is None


def test_a_job_edit_that_is_not_a_status_or_time_change_is_quiet(alice, mark):
    before = mark()
    job = alice.jobs.get()
    job.customer_notes = "Gate code 1234"
    job.save()
    events = events_after(alice, before)
    assert [e.event for e in events] == ["job.updated"]
    assert toast_for(events) is None


def test_a_status_reads_as_a_sentence(alice, mark):
    before = mark()
    services.change_job_status(job=alice.jobs.get(), status="in_progress")
    toast = toast_for(events_after(alice, before))
    assert (toast.title, toast.message) == ("Appointment in progress", "Carpet cleaning is now in progress.")


def test_times_in_toasts_name_their_zone(alice, mark, tomorrow_window):
    before = mark()
    start, end = tomorrow_window(5)
    services.reschedule_job(job=alice.jobs.get(), start=start, end=end)
    toast = toast_for(events_after(alice, before))
    assert toast.message.endswith(f"{start:%H:%M} UTC.")


def test_the_customers_own_changes_do_not_toast(alice, mark):
    before = mark()
    redeemed = services.redeem_points(customer=alice, points=20)
    events = events_after(alice, before)
    assert toast_for(events) is not None  # staff's (or anyone's not remembered) toasts
    assert toast_for(events, own={("loyalty", redeemed.pk)}) is None


def test_a_burst_collapses_into_one_toast(alice, mark):
    before = mark()
    for n in range(3):
        services.post_message(customer=alice, body=f"m{n}", author=None)
    services.mark_invoice_paid(invoice=alice.invoices.get())
    services.award_points(customer=alice, points=5)
    toast = toast_for(events_after(alice, before))
    assert toast.title == "5 updates"
    assert toast.type == "info"
    assert toast.message == "3 messages, 1 invoice, 1 loyalty update."


def test_a_burst_of_one_kind_keeps_its_type(alice, mark):
    before = mark()
    services.post_message(customer=alice, body="a", author=None)
    services.post_message(customer=alice, body="b", author=None)
    toast = toast_for(events_after(alice, before))
    assert (toast.type, toast.title) == ("message", "2 updates")


def test_completing_a_job_is_one_toast_with_its_points(alice, mark):
    before = mark()
    services.complete_job(job=alice.jobs.get())
    toast = toast_for(events_after(alice, before))
    assert (toast.type, toast.title) == ("job", "Appointment completed")
    assert "You earned 50 points." in toast.message


def test_one_record_changed_twice_in_a_batch_is_one_toast(alice, mark, tomorrow_window):
    """Staff move a job and confirm it in one admin save: one appointment, not "2 updates"."""
    before = mark()
    start, end = tomorrow_window(6)
    job = alice.jobs.get()
    with transaction.atomic():
        services.reschedule_job(job=job, start=start, end=end)
        services.change_job_status(job=job, status="confirmed")
    toast = toast_for(events_after(alice, before))
    assert (toast.type, toast.title) == ("job", "Appointment confirmed")
    assert (
        toast.message
        == f"Carpet cleaning moved to {_when(start.isoformat())}. Carpet cleaning is now confirmed."
    )
    assert toast.action_url.endswith(f"#job-{job.pk}")

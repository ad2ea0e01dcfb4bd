"""Appointment requests and the staff inbox, through their services: each step, its refusals,
and the inbox items and staff-stream events they leave."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import services, staff_stream
from crm.models import AppointmentRequest, InboxItem, Job, Message, StaffEvent

pytestmark = pytest.mark.django_db


def _later(days: int) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days)).replace(microsecond=0)


def test_a_reschedule_request_files_an_inbox_item_and_accepting_moves_the_job(customer, job, staff):
    four, five = _later(4), _later(5)
    request = services.request_change(
        customer=customer, job=job, kind="reschedule", preferred_times=[five, four], note="Mornings"
    )
    assert request.status == AppointmentRequest.Status.PENDING
    assert request.preferred_times == [four.isoformat(), five.isoformat()]  # earliest first
    item = InboxItem.objects.get(request=request)
    assert item.kind == InboxItem.Kind.REQUEST and item.text == "Mornings" and item.handled_at is None
    assert (item.record_model, item.record_id) == ("crm.job", job.pk)
    length = job.scheduled_end - job.scheduled_start

    services.accept_request(request=request, by=staff, start=four, reply="See you then")

    job.refresh_from_db()
    request.refresh_from_db()
    item.refresh_from_db()
    assert (job.scheduled_start, job.scheduled_end) == (four, four + length)
    assert request.status == "accepted" and request.reply == "See you then" and request.decided_by == staff
    assert item.handled_by == staff
    assert list(StaffEvent.objects.values_list("event", flat=True)) == ["inbox.created", "inbox.handled"]


def test_accepting_a_cancellation_cancels_the_job(customer, job, staff):
    request = services.request_change(customer=customer, job=job, kind="cancel")
    services.accept_request(request=request, by=staff)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_declining_needs_a_reply_and_leaves_the_job(customer, job, staff):
    request = services.request_change(customer=customer, job=job, kind="cancel", note="Away")
    with pytest.raises(services.DomainError, match="Tell the customer why") as refused:
        services.decline_request(request=request, by=staff, reply="  ")
    assert refused.value.code == "missing_reply"
    services.decline_request(request=request, by=staff, reply="We are fully booked that week")
    job.refresh_from_db()
    request.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED and request.status == "declined"
    with pytest.raises(services.DomainError, match="already declined") as again:
        services.accept_request(request=request, by=staff)
    assert again.value.code == "already_decided"


@pytest.mark.parametrize(
    ("kind", "times", "code"),
    [
        ("reschedule", [], "missing_times"),
        ("cancel", ["soon"], "times_on_cancel"),
        ("move-it", [], "bad_kind"),
        ("reschedule", ["past"], "past_time"),
        ("reschedule", ["1", "2", "3", "4"], "too_many_times"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_error(customer, job, kind, times, code):
    moments = {
        "soon": _later(2),
        "past": _later(-1),
        "1": _later(2),
        "2": _later(3),
        "3": _later(4),
        "4": _later(6),
    }
    with pytest.raises(services.DomainError) as refused:
        services.request_change(
            customer=customer, job=job, kind=kind, preferred_times=[moments[t] for t in times]
        )
    assert refused.value.code == code
    assert not AppointmentRequest.objects.exists() and not InboxItem.objects.exists()


def test_one_open_request_per_appointment_and_only_upcoming_own_ones(customer, job, make_customer, staff):
    services.request_change(customer=customer, job=job, kind="cancel")
    with pytest.raises(services.DomainError) as pending:
        services.request_change(customer=customer, job=job, kind="cancel")
    assert pending.value.code == "pending"
    bob = make_customer("Bob", login="bob")
    with pytest.raises(services.DomainError) as wrong:
        services.request_change(customer=bob, job=job, kind="cancel")
    assert wrong.value.code == "wrong_customer"
    finished = services.schedule_job(customer=customer, service_type="Rug", start=_later(2), end=_later(3))
    services.cancel_job(job=finished)
    with pytest.raises(services.DomainError) as closed:
        services.request_change(customer=customer, job=finished, kind="cancel")
    assert closed.value.code == "not_upcoming"


def test_accepting_a_move_needs_a_time(customer, job, staff):
    request = services.request_change(
        customer=customer, job=job, kind="reschedule", preferred_times=[_later(4)]
    )
    with pytest.raises(services.DomainError) as refused:
        services.accept_request(request=request, by=staff)
    assert refused.value.code == "missing_time"
    request.refresh_from_db()
    assert request.status == "pending"


def test_customer_actions_file_items_with_words_staff_read(customer, staff):
    services.customer_message(customer=customer, body="Can you come earlier?", author=customer.portal_user)
    services.customer_contact_change(customer=customer, phone="555-0199")
    services.award_points(customer=customer, points=100)
    services.customer_redemption(customer=customer, points=30, description="A reward")
    summaries = list(InboxItem.objects.order_by("id").values_list("kind", "summary"))
    assert summaries == [
        ("message", "Alice Example sent a message"),
        ("contact", "Alice Example changed their phone number"),
        ("redemption", "Alice Example redeemed 30 points"),
    ]
    assert staff_stream.current_seq() == 3
    assert [frame["seq"] for frame in staff_stream.events_after(0)] == [1, 2, 3]


def test_marking_handled_twice_says_who_did_it_and_a_reply_answers_messages(customer, staff, make_user):
    message = services.customer_message(customer=customer, body="Hello?", author=customer.portal_user)
    item = InboxItem.objects.get(message=message)
    services.reply_to_customer(item=item, body="Hello Alice!", by=staff)
    item.refresh_from_db()
    assert item.handled_by == staff
    assert Message.objects.filter(customer=customer, direction="to_customer", body="Hello Alice!").exists()
    other = make_user("dana", staff=True)
    with pytest.raises(services.DomainError, match="already handled by sam") as twice:
        services.mark_handled(item=item, by=other)
    assert twice.value.code == "already_handled"


def test_nothing_is_filed_when_the_change_is_refused(customer):
    with pytest.raises(services.DomainError):
        services.customer_redemption(customer=customer, points=10_000, description="Too much")
    with pytest.raises(services.DomainError):
        services.customer_contact_change(customer=customer, name="")
    assert not InboxItem.objects.exists() and staff_stream.current_seq() == 0


def test_a_reply_posted_anywhere_answers_the_customers_open_messages(customer, staff):
    for body in ("One", "Two"):
        services.customer_message(customer=customer, body=body, author=customer.portal_user)
    services.customer_contact_change(customer=customer, phone="555-0123")
    services.post_message(customer=customer, body="Answering both", author=staff)  # the admin's path
    open_kinds = list(InboxItem.objects.filter(handled_at__isnull=True).values_list("kind", flat=True))
    assert open_kinds == ["contact"]
    assert set(InboxItem.objects.filter(kind="message").values_list("handled_by", flat=True)) == {staff.pk}


def test_a_retried_send_with_the_same_key_files_one_inbox_item(customer):
    first = services.customer_message(customer=customer, body="Hi", author=None, idempotency_key="key-12345")
    again = services.customer_message(customer=customer, body="Hi", author=None, idempotency_key="key-12345")
    assert again.pk == first.pk
    assert InboxItem.objects.filter(message=first).count() == 1 and staff_stream.current_seq() == 1

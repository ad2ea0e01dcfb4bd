"""Message, loyalty, profile and calendar feed actions of crm.services, and each way they refuse
(one test per DomainError code). Jobs and invoices: test_services_jobs.py, test_services_invoices.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm import services
from crm.models import CalendarFeed, LoyaltyTransaction, Message
from crm.selectors import calendar_feed_owner
from tests.crm.refusals import refuses

pytestmark = pytest.mark.django_db


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


def test_reading_time_must_be_aware_and_past(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    now = timezone.now()
    refuses("naive_time", services.mark_message_read, message=message, at=timezone.make_naive(now))
    refuses("in_future", services.mark_message_read, message=message, at=now + dt.timedelta(hours=1))
    message.refresh_from_db()
    assert message.read_at is None


def test_delete_message_is_soft(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    deleted = services.delete_message(message=message)
    assert deleted.deleted_at is not None
    assert Message.objects.filter(pk=message.pk).exists()
    refuses("deleted", services.delete_message, message=message)
    refuses("deleted", services.mark_message_read, message=message)


# --- loyalty --------------------------------------------------------------------------------------


def test_award_points(customer, job, make_invoice):
    services.complete_job(job=job, award_points=False)
    invoice = make_invoice()
    earned = services.award_points(
        customer=customer, points="30", description="Visit", job=job, invoice=invoice
    )
    bonus = services.award_points(customer=customer, points=20, bonus=True)
    assert (earned.kind, earned.points, bonus.kind, bonus.points) == ("earned", 30, "bonus", 20)
    assert (earned.job, earned.invoice) == (job, invoice)
    assert services.points_balance(customer) == customer.points_balance == 50


def test_a_bonus_may_mention_an_open_job(customer, job):
    assert services.award_points(customer=customer, points=5, bonus=True, job=job).job == job


def test_award_points_refusals(customer, job):
    for points in (0, -3, "many", None):
        refuses("bad_points", services.award_points, customer=customer, points=points)
    refuses("job_not_completed", services.award_points, customer=customer, points=10, job=job)
    services.complete_job(job=job, award_points=False)
    services.award_points(customer=customer, points=10, job=job)
    refuses("already_awarded", services.award_points, customer=customer, points=10, job=job)
    refuses("too_long", services.award_points, customer=customer, points=1, description="x" * 201)
    assert customer.points_balance == 10


def test_earning_for_a_cancelled_job_is_refused(customer, job):
    services.cancel_job(job=job)
    refuses("job_not_completed", services.award_points, customer=customer, points=10, job=job)


def test_points_for_another_customers_job_or_invoice_are_refused(
    customer, make_customer, make_job, make_invoice
):
    bob = make_customer("Bob Example")
    bobs_job = services.complete_job(job=make_job(customer=bob), award_points=False)
    bobs_invoice = make_invoice(on=bob)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, job=bobs_job)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, bonus=True, job=bobs_job)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, invoice=bobs_invoice)
    assert not LoyaltyTransaction.objects.exists()


@pytest.mark.parametrize("points", [True, 2.7, 3.0, Decimal("3"), "2.5", "", [3], 2**31])
def test_points_must_be_a_whole_number(customer, points):
    services.award_points(customer=customer, points=100, bonus=True)
    for action in (services.award_points, services.redeem_points):
        refuses("bad_points", action, customer=customer, points=points)
    refuses("bad_points", services.adjust_points, customer=customer, points=points, description="Fix")
    assert customer.points_balance == 100


def test_points_may_be_the_text_of_a_whole_number(customer):
    assert services.award_points(customer=customer, points=" 7 ").points == 7
    assert services.adjust_points(customer=customer, points="-2", description="Fix").points == -2


def test_redeem_points(customer):
    services.award_points(customer=customer, points=100, bonus=True)
    redeemed = services.redeem_points(customer=customer, points=100, description="Free rug")
    assert (redeemed.kind, redeemed.points) == ("redeemed", -100)
    error = refuses("insufficient_points", services.redeem_points, customer=customer, points=1)
    assert "0 available" in str(error)
    refuses("bad_points", services.redeem_points, customer=customer, points=0)
    refuses("too_long", services.redeem_points, customer=customer, points=1, description="x" * 201)
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
    refuses("too_long", services.adjust_points, customer=customer, points=5, description="x" * 201)
    assert customer.points_balance == 0


# --- customer profile -----------------------------------------------------------------------------


def test_update_contact_details(customer):
    updated = services.update_contact_details(customer=customer, email=" new@example.com ", phone="555")
    assert (updated.email, updated.phone, updated.name) == ("new@example.com", "555", "Alice Example")
    refuses("unknown_field", services.update_contact_details, customer=customer, portal_user=None)
    refuses("missing_name", services.update_contact_details, customer=customer, name=" ")
    refuses("bad_email", services.update_contact_details, customer=customer, email="not-an-address")
    refuses("too_long", services.update_contact_details, customer=customer, phone="5" * 41)
    refuses("too_long", services.update_contact_details, customer=customer, name="x" * 201)
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


def test_regenerate_calendar_token_replaces_the_customers_one_feed_token(customer, make_customer):
    first = services.regenerate_calendar_token(customer=customer)
    assert calendar_feed_owner(first.token) == customer.pk
    second = services.regenerate_calendar_token(customer=customer)
    assert CalendarFeed.objects.get(customer=customer).pk == first.pk == second.pk
    assert second.key != first.key and second.secret != first.secret
    assert calendar_feed_owner(first.token) is None  # the old one opens nothing any more
    assert calendar_feed_owner(second.token) == customer.pk
    bob = make_customer("Bob Example", login="bob")
    assert calendar_feed_owner(services.regenerate_calendar_token(customer=bob).token) == bob.pk

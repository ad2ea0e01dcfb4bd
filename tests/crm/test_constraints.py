"""Each database constraint refuses a bad row even when the services are bypassed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message

pytestmark = pytest.mark.django_db


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_job_must_end_after_it_starts(customer):
    start = timezone.now()
    for end in (start, start - dt.timedelta(hours=1)):
        refused(
            lambda end=end: Job.objects.create(
                customer=customer, service_type="x", scheduled_start=start, scheduled_end=end
            )
        )
    Job.objects.create(
        customer=customer,
        service_type="x",
        scheduled_start=start,
        scheduled_end=start + dt.timedelta(minutes=1),
    )


def test_invoice_total_cannot_be_negative(customer):
    refused(lambda: Invoice.objects.create(customer=customer, number="N-1", total=-1))
    Invoice.objects.create(customer=customer, number="N-1", total=0)


def test_invoice_number_is_unique(customer, make_customer):
    Invoice.objects.create(customer=customer, number="N-1", total=1)
    refused(lambda: Invoice.objects.create(customer=make_customer("Bob Example"), number="N-1", total=1))


def test_paid_invoice_has_a_payment_time(customer):
    refused(lambda: Invoice.objects.create(customer=customer, number="N-1", total=1, status="paid"))
    Invoice.objects.create(customer=customer, number="N-1", total=1, status="paid", paid_at=timezone.now())


def test_message_body_cannot_be_empty(customer):
    refused(lambda: Message.objects.create(customer=customer, direction="to_customer", body=""))


def test_one_portal_login_per_customer(customer):
    refused(lambda: Customer.objects.create(name="Someone Else", portal_user=customer.portal_user))


@pytest.mark.parametrize(
    ("kind", "points"),
    [
        ("earned", 0),
        ("adjustment", 0),
        ("earned", -5),
        ("bonus", -5),
        ("redeemed", 5),
    ],
)
def test_loyalty_points_carry_the_sign_of_their_kind(customer, kind, points):
    refused(lambda: LoyaltyTransaction.objects.create(customer=customer, kind=kind, points=points))


def test_loyalty_signs_that_are_allowed(customer):
    for kind, points in (
        ("earned", 5),
        ("bonus", 5),
        ("redeemed", -5),
        ("adjustment", -5),
        ("adjustment", 5),
    ):
        LoyaltyTransaction.objects.create(customer=customer, kind=kind, points=points)
    assert customer.points_balance == 5


def test_a_job_earns_points_once(customer, job):
    LoyaltyTransaction.objects.create(customer=customer, kind="earned", points=5, job=job)
    refused(lambda: LoyaltyTransaction.objects.create(customer=customer, kind="earned", points=5, job=job))
    # The rule is about earning: a bonus may still mention the job.
    LoyaltyTransaction.objects.create(customer=customer, kind="bonus", points=5, job=job)

"""Loyalty points: an append-only ledger; a wrong row is corrected with an adjustment."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from crm.models import Customer, Invoice, Job, LoyaltyTransaction
from crm.selectors import points_balance
from crm.services.errors import DomainError
from crm.services.inputs import clean_text, whole_points
from realtime.capture import lock

ONE_AWARD_PER_JOB = "loyalty_one_award_per_job"


def _positive_points(points: Any) -> int:
    whole = whole_points(points)
    if whole <= 0:
        raise DomainError("Points must be a positive number.", code="bad_points")
    return whole


def _description(description: str) -> str:
    return clean_text(description, LoyaltyTransaction, "description", label="description")


def _lock_customer(customer: Customer) -> Customer:
    # Serialises balance checks for one customer, so two redemptions cannot both pass.
    # Every row lock here is FOR NO KEY UPDATE: a plain FOR UPDATE blocks the deferred foreign
    # key checks (FOR KEY SHARE) that another writer runs at COMMIT while it holds the
    # customer's realtime seq lock, and this transaction then waits for that seq: a deadlock.
    return lock(Customer, customer.pk)


def _already_awarded() -> DomainError:
    return DomainError("Points for this job were already awarded.", code="already_awarded")


@transaction.atomic
def award_points(
    *,
    customer: Customer,
    points: Any,
    description: str = "",
    bonus: bool = False,
    job: Job | None = None,
    invoice: Invoice | None = None,
) -> LoyaltyTransaction:
    """Add earned (or, with `bonus`, bonus) points, optionally for one of the customer's jobs or
    invoices. Points are earned for a job once, and only once it is completed; a bonus may
    mention any of the customer's jobs."""
    points = _positive_points(points)
    description = _description(description)
    kind = LoyaltyTransaction.Kind.BONUS if bonus else LoyaltyTransaction.Kind.EARNED
    if invoice is not None and invoice.customer_id != customer.pk:
        raise DomainError("That invoice belongs to another customer.", code="wrong_customer")
    if job is not None:
        job = Job.objects.get(pk=job.pk)  # its stored customer and status; completed is final
        if job.customer_id != customer.pk:
            raise DomainError("That job belongs to another customer.", code="wrong_customer")
        if kind == LoyaltyTransaction.Kind.EARNED:
            if job.status != Job.Status.COMPLETED:
                raise DomainError(
                    f"Points are earned once a job is completed; this one is {job.get_status_display().lower()}.",
                    code="job_not_completed",
                )
            if LoyaltyTransaction.objects.filter(job=job, kind=kind).exists():
                raise _already_awarded()
    try:
        with transaction.atomic():
            return LoyaltyTransaction.objects.create(
                customer=customer, points=points, kind=kind, description=description, job=job, invoice=invoice
            )
    except IntegrityError as error:
        # Two writers racing to earn for one job: the constraint lets one through.
        if ONE_AWARD_PER_JOB in str(error):
            raise _already_awarded() from None
        raise


@transaction.atomic
def redeem_points(*, customer: Customer, points: Any, description: str = "") -> LoyaltyTransaction:
    points = _positive_points(points)
    description = _description(description)
    customer = _lock_customer(customer)
    balance = points_balance(customer)
    if points > balance:
        raise DomainError(
            f"Not enough points: {points} asked, {balance} available.", code="insufficient_points"
        )
    return LoyaltyTransaction.objects.create(
        customer=customer, points=-points, kind=LoyaltyTransaction.Kind.REDEEMED, description=description
    )


@transaction.atomic
def adjust_points(*, customer: Customer, points: Any, description: str) -> LoyaltyTransaction:
    """A staff correction, up or down; it may not leave the balance below zero."""
    points = whole_points(points)
    if points == 0:
        raise DomainError("An adjustment must change the balance.", code="bad_points")
    description = _description(description)
    if not description:
        raise DomainError("Say why the points are adjusted.", code="missing_reason")
    customer = _lock_customer(customer)
    if points_balance(customer) + points < 0:
        raise DomainError("That would leave a negative balance.", code="insufficient_points")
    return LoyaltyTransaction.objects.create(
        customer=customer, points=points, kind=LoyaltyTransaction.Kind.ADJUSTMENT, description=description
    )

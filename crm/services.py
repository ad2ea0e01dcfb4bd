"""Domain actions: the only way the CRM changes data.

The admin, the portal API, the portal forms and the management commands all call these. Each
runs in one transaction, validates its input and raises `DomainError` with a message fit for
a person when it refuses. Realtime events are recorded by `realtime`'s capture as the rows are
saved and published after commit, so nothing here talks to sockets.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from crm.models import Customer, Invoice, Job, LoyaltyTransaction, Message, User
from realtime.bulk import sync_update

PREFERENCE_FLAGS = (
    "notify_appointments",
    "notify_invoices",
    "notify_messages",
    "notify_loyalty",
)
MAX_MESSAGE_LENGTH = 5000


class DomainError(ValueError):
    """A refused domain action; `str(error)` is shown to the person who asked."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- jobs -------------------------------------------------------------------------------------


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    if start is None or end is None:
        raise DomainError("A job needs a start and an end.", code="missing_time")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise DomainError("Job times must carry a time zone.", code="naive_time")
    if end <= start:
        raise DomainError("A job must end after it starts.", code="end_before_start")


def _ensure_open(job: Job) -> None:
    if job.status in Job.FINISHED:
        raise DomainError(f"This job is already {job.get_status_display().lower()}.", code="job_finished")


@transaction.atomic
def schedule_job(
    *,
    customer: Customer,
    service_type: str,
    start: dt.datetime,
    end: dt.datetime,
    technician: str = "",
    address: str = "",
    customer_notes: str = "",
    internal_notes: str = "",
) -> Job:
    if not service_type.strip():
        raise DomainError("Say what service the job is.", code="missing_service")
    _check_window(start, end)
    return Job.objects.create(
        customer=customer,
        service_type=service_type.strip(),
        scheduled_start=start,
        scheduled_end=end,
        technician=technician,
        address=address or customer.address,
        customer_notes=customer_notes,
        internal_notes=internal_notes,
    )


@transaction.atomic
def reschedule_job(*, job: Job, start: dt.datetime, end: dt.datetime) -> Job:
    job = Job.objects.select_for_update(no_key=True).get(pk=job.pk)
    _ensure_open(job)
    _check_window(start, end)
    if (job.scheduled_start, job.scheduled_end) == (start, end):
        raise DomainError("The job is already at that time.", code="unchanged")
    job.scheduled_start, job.scheduled_end = start, end
    job.save(update_fields=["scheduled_start", "scheduled_end", "updated_at"])
    return job


@transaction.atomic
def change_job_status(*, job: Job, status: str) -> Job:
    """Move a job along; completing goes through `complete_job` so points are awarded."""
    if status not in Job.Status.values:
        raise DomainError(f"Unknown job status {status!r}.", code="unknown_status")
    if status == Job.Status.COMPLETED:
        return complete_job(job=job)
    job = Job.objects.select_for_update(no_key=True).get(pk=job.pk)
    _ensure_open(job)
    if job.status == status:
        raise DomainError(f"The job is already {job.get_status_display().lower()}.", code="unchanged")
    job.status = status
    job.save(update_fields=["status", "updated_at"])
    return job


def cancel_job(*, job: Job) -> Job:
    return change_job_status(job=job, status=Job.Status.CANCELLED)


@transaction.atomic
def complete_job(*, job: Job, award_points: bool = True) -> Job:
    """Complete a job and award the configured loyalty points for it (once per job)."""
    job = Job.objects.select_for_update(no_key=True).get(pk=job.pk)
    _ensure_open(job)
    job.status = Job.Status.COMPLETED
    job.save(update_fields=["status", "updated_at"])
    points = settings.LOYALTY_POINTS_PER_COMPLETED_JOB
    if award_points and points > 0:
        LoyaltyTransaction.objects.create(
            customer_id=job.customer_id,
            points=points,
            kind=LoyaltyTransaction.Kind.EARNED,
            description=f"Completed: {job.service_type}",
            job=job,
        )
    return job


# --- invoices ---------------------------------------------------------------------------------


def _next_invoice_number() -> str:
    year = timezone.localdate().year
    prefix = f"INV-{year}-"
    last = (
        Invoice.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    ).first()
    serial = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{serial:05d}"


def _as_amount(total: Any) -> Decimal:
    try:
        amount = Decimal(str(total))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{total!r} is not an amount.", code="bad_amount") from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("An invoice total cannot be negative.", code="negative_total")
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def create_invoice(*, customer: Customer, total: Any, job: Job | None = None, number: str = "") -> Invoice:
    """Create a draft invoice; customers see it once it is sent."""
    if job is not None and job.customer_id != customer.pk:
        raise DomainError("That job belongs to another customer.", code="wrong_customer")
    number = number.strip() or _next_invoice_number()
    if Invoice.objects.filter(number=number).exists():
        raise DomainError(f"Invoice number {number} is taken.", code="duplicate_number")
    return Invoice.objects.create(customer=customer, job=job, number=number, total=_as_amount(total))


@transaction.atomic
def send_invoice(*, invoice: Invoice, due_date: dt.date | None = None) -> Invoice:
    invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise DomainError(f"Only a draft can be sent; this one is {invoice.status}.", code="not_draft")
    today = timezone.localdate()
    due_date = due_date or today + dt.timedelta(days=14)
    if due_date < today:
        raise DomainError("The due date is in the past.", code="due_in_past")
    invoice.status = Invoice.Status.SENT
    invoice.sent_at = timezone.now()
    invoice.due_date = due_date
    invoice.save(update_fields=["status", "sent_at", "due_date", "updated_at"])
    return invoice


@transaction.atomic
def mark_invoice_paid(*, invoice: Invoice, paid_at: dt.datetime | None = None) -> Invoice:
    invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    if invoice.status not in (Invoice.Status.SENT, Invoice.Status.OVERDUE):
        raise DomainError(
            f"Only a sent or overdue invoice can be paid; this one is {invoice.status}.",
            code="not_payable",
        )
    invoice.status = Invoice.Status.PAID
    invoice.paid_at = paid_at or timezone.now()
    invoice.save(update_fields=["status", "paid_at", "updated_at"])
    return invoice


@transaction.atomic
def mark_invoice_overdue(*, invoice: Invoice, today: dt.date | None = None) -> Invoice:
    invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    today = today or timezone.localdate()
    if invoice.status != Invoice.Status.SENT:
        raise DomainError(
            f"Only a sent invoice can be overdue; this one is {invoice.status}.", code="not_sent"
        )
    if invoice.due_date is None or invoice.due_date >= today:
        raise DomainError("This invoice is not past its due date.", code="not_due")
    invoice.status = Invoice.Status.OVERDUE
    invoice.save(update_fields=["status", "updated_at"])
    return invoice


def mark_overdue_invoices(*, today: dt.date | None = None) -> int:
    """Move every sent invoice past its due date to overdue, in one bulk update that syncs."""
    today = today or timezone.localdate()
    overdue = Invoice.objects.filter(status=Invoice.Status.SENT, due_date__lt=today)
    return sync_update(overdue, status=Invoice.Status.OVERDUE, updated_at=timezone.now())


@transaction.atomic
def void_invoice(*, invoice: Invoice) -> Invoice:
    invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    if invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID):
        raise DomainError(f"A {invoice.status} invoice cannot be voided.", code="not_voidable")
    invoice.status = Invoice.Status.VOID
    invoice.save(update_fields=["status", "updated_at"])
    return invoice


# --- messages ---------------------------------------------------------------------------------


@transaction.atomic
def post_message(
    *, customer: Customer, body: str, author: User | None, direction: str = Message.Direction.TO_CUSTOMER
) -> Message:
    body = (body or "").strip()
    if not body:
        raise DomainError("A message cannot be empty.", code="empty_message")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise DomainError(f"A message is at most {MAX_MESSAGE_LENGTH} characters.", code="too_long")
    if direction not in Message.Direction.values:
        raise DomainError(f"Unknown direction {direction!r}.", code="bad_direction")
    return Message.objects.create(customer=customer, author=author, direction=direction, body=body)


@transaction.atomic
def mark_message_read(*, message: Message, at: dt.datetime | None = None) -> Message:
    message = Message.objects.select_for_update(no_key=True).get(pk=message.pk)
    if message.deleted_at is not None:
        raise DomainError("That message was deleted.", code="deleted")
    if message.read_at is not None:
        return message  # Reading twice is harmless; keep the first time.
    message.read_at = at or timezone.now()
    message.save(update_fields=["read_at"])
    return message


@transaction.atomic
def delete_message(*, message: Message) -> Message:
    """Soft-delete: the row stays for the record; customers stop seeing it."""
    message = Message.objects.select_for_update(no_key=True).get(pk=message.pk)
    if message.deleted_at is not None:
        raise DomainError("That message is already deleted.", code="deleted")
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    return message


# --- loyalty ----------------------------------------------------------------------------------


def points_balance(customer: Customer) -> int:
    return customer.loyalty_transactions.aggregate(total=Sum("points"))["total"] or 0


def _positive_points(points: Any) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        try:
            points = int(points)
        except (TypeError, ValueError):
            raise DomainError(f"{points!r} is not a number of points.", code="bad_points") from None
    if points <= 0:
        raise DomainError("Points must be a positive number.", code="bad_points")
    return points


def _lock_customer(customer: Customer) -> Customer:
    # Serialises balance checks for one customer, so two redemptions cannot both pass.
    # Every row lock here is FOR NO KEY UPDATE: a plain FOR UPDATE blocks the deferred foreign
    # key checks (FOR KEY SHARE) that another writer runs at COMMIT while it holds the
    # customer's realtime seq lock, and this transaction then waits for that seq: a deadlock.
    return Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)


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
    points = _positive_points(points)
    kind = LoyaltyTransaction.Kind.BONUS if bonus else LoyaltyTransaction.Kind.EARNED
    try:
        with transaction.atomic():
            return LoyaltyTransaction.objects.create(
                customer=customer, points=points, kind=kind, description=description, job=job, invoice=invoice
            )
    except IntegrityError:
        raise DomainError("Points for this job were already awarded.", code="already_awarded") from None


@transaction.atomic
def redeem_points(*, customer: Customer, points: Any, description: str = "") -> LoyaltyTransaction:
    points = _positive_points(points)
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
    try:
        points = int(points)
    except (TypeError, ValueError):
        raise DomainError(f"{points!r} is not a number of points.", code="bad_points") from None
    if points == 0:
        raise DomainError("An adjustment must change the balance.", code="bad_points")
    if not description.strip():
        raise DomainError("Say why the points are adjusted.", code="missing_reason")
    customer = _lock_customer(customer)
    if points_balance(customer) + points < 0:
        raise DomainError("That would leave a negative balance.", code="insufficient_points")
    return LoyaltyTransaction.objects.create(
        customer=customer, points=points, kind=LoyaltyTransaction.Kind.ADJUSTMENT, description=description
    )


# --- customer profile -------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "email", "phone", "address")


@transaction.atomic
def update_contact_details(*, customer: Customer, **changes: str) -> Customer:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown contact fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    cleaned = {field: (value or "").strip() for field, value in changes.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise DomainError("A name is required.", code="missing_name")
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise DomainError(f"{cleaned['email']!r} is not an email address.", code="bad_email") from None
    changed = [field for field, value in cleaned.items() if getattr(customer, field) != value]
    if not changed:
        return customer
    for field in changed:
        setattr(customer, field, cleaned[field])
    customer.save(update_fields=[*changed, "updated_at"])
    return customer


@transaction.atomic
def update_preferences(*, customer: Customer, preferences: dict[str, Any]) -> Customer:
    """Merge `preferences` into the customer's; only known keys with valid values are taken."""
    if not isinstance(preferences, dict):
        raise DomainError("Preferences must be an object.", code="bad_preferences")
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    merged = dict(customer.preferences or {})
    for key, value in preferences.items():
        if key == "contact_channel":
            if value not in Customer.ContactChannel.values:
                raise DomainError(f"Unknown contact channel {value!r}.", code="bad_preferences")
        elif key in PREFERENCE_FLAGS:
            if not isinstance(value, bool):
                raise DomainError(f"{key} must be true or false.", code="bad_preferences")
        else:
            raise DomainError(f"Unknown preference {key!r}.", code="bad_preferences")
        merged[key] = value
    if merged != customer.preferences:
        customer.preferences = merged
        customer.save(update_fields=["preferences", "updated_at"])
    return customer
